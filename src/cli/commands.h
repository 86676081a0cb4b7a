/* commands.h: every subcommand's entry point; the table is in main.c.
 * Each takes argv with argv[0] = the subcommand name and returns the exit
 * status. */
#ifndef CASEMATE_CLI_COMMANDS_H
#define CASEMATE_CLI_COMMANDS_H

#include <stdbool.h>

/* Global options (before the subcommand), set once by main. */
struct cm_globals {
    const char *root;        /* --root: state directory root, default /run/casemate */
    const char *log_path;    /* --log (OCI engines pass it) */
    bool log_json;           /* --log-format json */
    bool systemd_cgroup;     /* --systemd-cgroup */
    const char *policy_path; /* --policy: host policy file (engines pass no env) */
    const char *self_path;   /* how we were invoked */
    int argv_offset;         /* index of the subcommand in main's argv */
};
extern struct cm_globals cm_globals;

#define CM_DEFAULT_STATE_ROOT "/run/casemate"

struct cm_spec;
int cmd_run(int argc, char **argv);        /* cli/run.c */
/* `run`'s flags into a spec (argv[0] = "run"): 0, 1 after --help, -1 after
 * a message. */
int cm_run_parse(int argc, char **argv, struct cm_spec *spec, bool *detach, bool quiet);
int cmd_create(int argc, char **argv);     /* cli/oci_runtime.c */
int cm_oci_run(int argc, char **argv);     /* `run --bundle`, cli/oci_runtime.c */
int cmd_start(int argc, char **argv);
int cmd_spec(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_list(int argc, char **argv);       /* cli/lifecycle.c */
int cmd_state(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_exec(int argc, char **argv);       /* cli/exec.c */
int cmd_update(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_audit(int argc, char **argv);      /* cli/audit.c */

#endif
