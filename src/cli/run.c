/* run.c: `casemate run`. */
#include "cli/commands.h"
#include "util/error.h"
int cmd_run(int argc, char **argv) { (void)argc; (void)argv; return cm_fail("run: not implemented yet"); }
