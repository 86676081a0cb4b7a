/* main.c: global options and the subcommand table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "spec/policy.h"
#include "sandbox/devices.h"
#include "sandbox/selfexe.h"
#include "util/safepath.h"
#include "util/error.h"

#ifndef CASEMATE_VERSION
#define CASEMATE_VERSION "0.1.0"
#endif


struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
    /* Commands that put a process in a container run from a sealed copy of
     * casemate (CVE-2019-5736; see sandbox/selfexe.h). `run` decides for
     * itself once its flags are known (cli/run.c). */
    bool enters_container;
};

static const struct command commands[] = {
    {"run", cmd_run, "Run a command in a new hardened container (Docker-style flags; --bundle for OCI)", false},
    {"exec", cmd_exec, "Run a command in a running container, under the same confinement", true},
    {"list", cmd_list, "List containers", false},
    {"state", cmd_state, "Print a container's OCI state as JSON", false},
    {"kill", cmd_kill, "Send a signal to a container's init process", false},
    {"delete", cmd_delete, "Remove a container and everything it made", false},
    {"update", cmd_update, "Change a running container's resource limits", false},
    {"pause", cmd_pause, "Freeze every process of a container", false},
    {"resume", cmd_resume, "Thaw a paused container", false},
    {"stats", cmd_stats, "Resource usage of containers, like docker stats", false},
    {"ps", cmd_ps, "List the processes of a container", false},
    {"create", cmd_create, "OCI: create a container from a bundle", true},
    {"start", cmd_start, "OCI: start a created container", false},
    {"spec", cmd_spec, "OCI: write a hardened config.json", false},
    {"features", cmd_features, "OCI: print what this runtime supports", false},
    {"audit", cmd_audit, "Audit Dockerfiles, images, container configs and the Docker host", false},
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: casemate [GLOBAL OPTIONS] COMMAND [ARGS...]\n\n"
            "casemate: a container runtime that is safe by default, and an auditor\n"
            "that tells you where your containers are weak.\n\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\nGlobal options:\n"
            "  --root DIR           State directory (default " CM_DEFAULT_STATE_ROOT ")\n"
            "  --log FILE           Write diagnostics to FILE as well (OCI engines pass it)\n"
            "  --log-format text|json  Format of --log\n"
            "  --debug              Print debug messages\n"
            "  --systemd-cgroup     Use systemd cgroups (not supported: refused with an error)\n"
            "  --policy FILE        Host policy (default $CASEMATE_POLICY, else " CM_POLICY_DEFAULT_PATH ")\n"
            "  -v, --version        Print the version\n"
            "  -h, --help           Show this help\n\n"
            "'casemate COMMAND --help' describes each command; man casemate-run.\n");
}

static int global_value(int argc, char **argv, int *i, const char *name, const char **out)
{
    size_t len = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, len) != 0)
        return 0;
    if (a[len] == '=') {
        *out = a + len + 1;
        return 1;
    }
    if (a[len] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        cm_fail("option '%s' needs a value", name);
        return -1;
    }
    *out = argv[++*i];
    return 1;
}

int main(int argc, char **argv)
{
    cm_globals.self_path = argv[0];
    if (getenv("CASEMATE_DEBUG"))
        cm_debug_enabled = true;
    cm_debug("started");
    /* Tests run the suite with openat2 made to fail (style.md, item 11). */
    if (getenv("CASEMATE_TEST_NO_OPENAT2"))
        cm_safepath_force_fallback = true;
    /* And the v2 device filter on a host whose devices controller is v1. */
    if (getenv("CASEMATE_TEST_DEVICES_BPF"))
        cm_devices_force_bpf = true;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        int r;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "-v") || !strcmp(a, "--version")) {
            printf("casemate version %s\n", CASEMATE_VERSION);
            return 0;
        }
        if (!strcmp(a, "--debug")) {
            cm_debug_enabled = true;
            cm_debug("started");
            continue;
        }
        if (!strcmp(a, "--systemd-cgroup")) {
            cm_globals.systemd_cgroup = true;
            continue;
        }
        if ((r = global_value(argc, argv, &i, "--root", &val)) != 0) {
            if (r < 0)
                return CM_EXIT_FAILURE;
            cm_globals.root = val;
            continue;
        }
        /* dockerd and containerd pass runtimeArgs but no environment. */
        if ((r = global_value(argc, argv, &i, "--policy", &val)) != 0) {
            if (r < 0)
                return CM_EXIT_FAILURE;
            /* cm_policy_load takes a missing file for "no policy": a
             * mistyped --policy must not silently open every door. */
            if (access(val, R_OK) < 0)
                return cm_fail("--policy %s: cannot read the host policy: %s", val, strerror(errno));
            cm_globals.policy_path = val;
            continue;
        }
        if ((r = global_value(argc, argv, &i, "--log-format", &val)) != 0) {
            if (r < 0)
                return CM_EXIT_FAILURE;
            if (strcmp(val, "json") && strcmp(val, "text"))
                return cm_fail("--log-format must be 'text' or 'json', not '%s'", val);
            cm_globals.log_json = !strcmp(val, "json");
            continue;
        }
        if ((r = global_value(argc, argv, &i, "--log", &val)) != 0) {
            if (r < 0)
                return CM_EXIT_FAILURE;
            cm_globals.log_path = val;
            continue;
        }
        return cm_fail("unknown global option '%s' (see 'casemate --help')", a);
    }
    if (cm_globals.log_path)
        cm_log_open(cm_globals.log_path, cm_globals.log_json);
    if (i >= argc) {
        usage(stderr);
        return CM_EXIT_FAILURE;
    }
    if (cm_globals.systemd_cgroup)
        return cm_fail("--systemd-cgroup: systemd cgroup management is not supported; "
                       "casemate manages cgroupfs directly (drop the flag or set the engine's "
                       "cgroup manager to cgroupfs)");
    if (!strcmp(argv[i], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
        if (!strcmp(argv[i], commands[c].name))
        {
            if (commands[c].enters_container) {
                struct cm_error err = {0};
                if (cm_selfexe_ensure_sealed(argv, &err) < 0) {
                    cm_err_print(&err);
                    return CM_EXIT_FAILURE;
                }
            }
            cm_globals.argv_offset = i;
            return commands[c].fn(argc - i, argv + i);
        }
    return cm_fail("unknown command '%s' (see 'casemate --help')", argv[i]);
}
