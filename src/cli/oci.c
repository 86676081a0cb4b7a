/* oci.c: the OCI runtime commands (create, start, spec, features, ps). */
#include "cli/commands.h"
#include "util/error.h"

int cmd_create(int argc, char **argv) { (void)argc; (void)argv; return cm_fail("create: not implemented yet"); }
int cmd_start(int argc, char **argv) { (void)argc; (void)argv; return cm_fail("start: not implemented yet"); }
int cmd_spec(int argc, char **argv) { (void)argc; (void)argv; return cm_fail("spec: not implemented yet"); }
int cmd_features(int argc, char **argv) { (void)argc; (void)argv; return cm_fail("features: not implemented yet"); }
int cmd_ps(int argc, char **argv) { (void)argc; (void)argv; return cm_fail("ps: not implemented yet"); }
