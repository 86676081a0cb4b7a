/* audit.c: `casemate audit dockerfile|image|config|host`. */
#include "cli/commands.h"
#include "util/error.h"

int cmd_audit(int argc, char **argv) { (void)argc; (void)argv; return cm_fail("audit: not implemented yet"); }
