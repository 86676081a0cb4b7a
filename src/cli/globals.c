/* globals.c: the global options, set once by main (kept out of main.c so
 * unit tests and fuzz harnesses, which do not link main, have them). */
#include "cli/commands.h"

struct cm_globals cm_globals = {.root = CM_DEFAULT_STATE_ROOT};
