/* lifecycle.c: commands on containers that outlive one command. */
#include "cli/commands.h"
#include "util/error.h"

int cmd_list(int argc, char **argv) { (void)argc; (void)argv; return cm_fail("list: not implemented yet"); }
int cmd_state(int argc, char **argv) { (void)argc; (void)argv; return cm_fail("state: not implemented yet"); }
int cmd_kill(int argc, char **argv) { (void)argc; (void)argv; return cm_fail("kill: not implemented yet"); }
int cmd_delete(int argc, char **argv) { (void)argc; (void)argv; return cm_fail("delete: not implemented yet"); }
int cmd_exec(int argc, char **argv) { (void)argc; (void)argv; return cm_fail("exec: not implemented yet"); }
int cmd_update(int argc, char **argv) { (void)argc; (void)argv; return cm_fail("update: not implemented yet"); }
int cmd_pause(int argc, char **argv) { (void)argc; (void)argv; return cm_fail("pause: not implemented yet"); }
int cmd_resume(int argc, char **argv) { (void)argc; (void)argv; return cm_fail("resume: not implemented yet"); }
int cmd_stats(int argc, char **argv) { (void)argc; (void)argv; return cm_fail("stats: not implemented yet"); }
