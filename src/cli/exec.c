/* exec.c: `casemate exec ID COMMAND...`: a new process in a running
 * container, confined exactly as the container is (its caps, no_new_privs,
 * seccomp profile and LSM label come from the container's own command
 * line, parsed again), never more. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "container/container.h"
#include "container/state.h"
#include "spec/oci.h"
#include "spec/spec.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"

enum { OPT_TTY, OPT_INTERACTIVE, OPT_USER, OPT_ENV, OPT_WORKDIR, OPT_PROCESS, OPT_DETACH,
       OPT_PID_FILE, OPT_CONSOLE_SOCKET };

static const struct cm_option exec_options[] = {
    {"tty", 't', CM_OPT_NONE, NULL, "Allocate a terminal inside the container", OPT_TTY},
    {"interactive", 'i', CM_OPT_NONE, NULL, "Keep stdin open", OPT_INTERACTIVE},
    {"user", 'u', CM_OPT_REQUIRED, "USER[:GROUP]", "Run as USER (default: the container's user)", OPT_USER},
    {"env", 'e', CM_OPT_REQUIRED, "KEY=VALUE", "Set an environment variable", OPT_ENV},
    {"workdir", 'w', CM_OPT_REQUIRED, "DIR", "Working directory (default: the container's)", OPT_WORKDIR},
    {"cwd", 0, CM_OPT_REQUIRED, "DIR", "Same as --workdir (runc's spelling)", OPT_WORKDIR},
    {"process", 'p', CM_OPT_REQUIRED, "FILE", "OCI: the process to run, as a runtime-spec process JSON", OPT_PROCESS},
    {"detach", 'd', CM_OPT_NONE, NULL, "Return once the process runs (its parent becomes our parent's subreaper)", OPT_DETACH},
    {"pid-file", 0, CM_OPT_REQUIRED, "FILE", "Write the process's host pid to FILE", OPT_PID_FILE},
    {"console-socket", 0, CM_OPT_REQUIRED, "SOCKET", "Send the terminal master to this unix socket", OPT_CONSOLE_SOCKET},
};

struct exec_opts {
    bool tty, interactive, detach;
    char *user, *workdir;
    char **env;
    const char *process, *pid_file, *console_socket;
};

static int exec_option(int id, const char *arg, void *ctx)
{
    struct exec_opts *o = ctx;
    switch (id) {
    case OPT_TTY:
        o->tty = true;
        return 0;
    case OPT_INTERACTIVE:
        o->interactive = true;
        return 0;
    case OPT_USER:
        free(o->user);
        o->user = strdup(arg);
        return o->user ? 0 : -1;
    case OPT_ENV:
        if (!strchr(arg, '=') || arg[0] == '=')
            return cm_fail("exec: -e %s: expected KEY=VALUE", arg), -1;
        return cm_strv_append(&o->env, arg);
    case OPT_PROCESS:
        o->process = arg;
        return 0;
    case OPT_DETACH:
        o->detach = true;
        return 0;
    case OPT_PID_FILE:
        o->pid_file = arg;
        return 0;
    case OPT_CONSOLE_SOCKET:
        o->console_socket = arg;
        return 0;
    case OPT_WORKDIR:
        if (arg[0] != '/')
            return cm_fail("exec: -w %s: the working directory must be absolute", arg), -1;
        free(o->workdir);
        o->workdir = strdup(arg);
        return o->workdir ? 0 : -1;
    }
    return -1;
}

/* The bundle's config.json, its "process" replaced by the JSON in
 * `process_file` when given, parsed as one document so the process is
 * checked by the same parser as at create. */
static int load_oci_spec(const char *bundle, const char *process_file, struct cm_spec *spec,
                         struct cm_error *err)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/config.json", bundle);
    json_error_t jerr;
    json_t *config = json_load_file(path, 0, &jerr);
    if (!config)
        return cm_err_set(err, 0, "%s: %s (line %d)", path, jerr.text, jerr.line);
    if (process_file) {
        json_t *proc = !strcmp(process_file, "-") ? json_loadf(stdin, 0, &jerr)
                                                  : json_load_file(process_file, 0, &jerr);
        if (!proc) {
            json_decref(config);
            return cm_err_set(err, 0, "%s: %s (line %d)", process_file, jerr.text, jerr.line);
        }
        json_object_set_new(config, "process", proc);
    }
    char *text = json_dumps(config, JSON_COMPACT);
    json_decref(config);
    if (!text)
        return cm_err_set(err, ENOMEM, "reading %s", path);
    memset(spec, 0, sizeof(*spec));
    int r = cm_oci_spec_parse(text, strlen(text), bundle, spec, err);
    free(text);
    if (r == 0 && !spec->bundle && !(spec->bundle = strdup(bundle)))
        return cm_err_set(err, ENOMEM, "reading %s", path);
    return r;
}

int cmd_exec(int argc, char **argv)
{
    struct exec_opts o = {0};
    struct cm_state st = {0};
    struct cm_spec spec = {0};
    struct cm_error err = {0};
    int ret = CM_EXIT_FAILURE;
    bool have_spec = false;
    int first = cm_opts_parse(exec_options, ARRAY_SIZE(exec_options), argc, argv, "exec",
                              "[OPTIONS] ID COMMAND [ARG...]",
                              "Run COMMAND in the running container ID, in all its namespaces and its\n"
                              "cgroup, with the container's own confinement (capabilities, no_new_privs,\n"
                              "seccomp, LSM) and never more.",
                              exec_option, &o);
    if (first == -2) {
        ret = 0;
        goto out;
    }
    if (first < 0)
        goto out;
    if (argc - first < (o.process ? 1 : 2)) {
        cm_fail("exec: usage: casemate exec [OPTIONS] ID COMMAND [ARG...] (or --process FILE ID)");
        goto out;
    }
    const char *id = argv[first];
    if (cm_state_validate_id(id, &err) < 0 || cm_state_load(cm_globals.root, id, &st, &err) < 0) {
        cm_fail("exec: %s", err.msg);
        goto out;
    }
    cm_state_refresh(&st);
    if (st.status != CM_STATUS_RUNNING || st.pid <= 0) {
        cm_fail("exec: container %s is %s, not running", id, cm_status_name(st.status));
        goto out;
    }
    if (st.bundle && *st.bundle) {
        /* An OCI container: its bundle's config.json, with the process
         * replaced by --process (or by COMMAND). */
        have_spec = true;
        if (load_oci_spec(st.bundle, o.process, &spec, &err) < 0) {
            cm_fail("exec: %s", err.msg);
            goto out;
        }
        if (!o.process) {
            cm_strv_free(spec.args);
            spec.args = NULL;
            for (int i = first + 1; i < argc; i++)
                if (cm_strv_append(&spec.args, argv[i]) < 0)
                    goto oom;
        }
        if (o.tty)
            spec.terminal = true;
        o.tty = spec.terminal;
        o.interactive = true;
    } else {
        if (!st.argv || !st.argv[0]) {
            cm_fail("exec: container %s has no recorded configuration", id);
            goto out;
        }
        /* The container's confinement, from the command line that made it. */
        bool detach = false;
        /* cm_run_parse points argv[ROOTFS] at its own string: give it a
         * copy of the array, whose strings stay the state's. */
        size_t n = cm_strv_len(st.argv);
        _cleanup_free_ char **args = calloc(n + 1, sizeof(char *));
        if (!args)
            goto oom;
        memcpy(args, st.argv, n * sizeof(char *));
        int r = cm_run_parse((int)n, args, &spec, &detach, true);
        have_spec = true;
        if (r != 0) {
            cm_fail("exec: container %s: its recorded configuration no longer parses", id);
            goto out;
        }
        cm_strv_free(spec.args);
        spec.args = NULL;
        for (int i = first + 1; i < argc; i++)
            if (cm_strv_append(&spec.args, argv[i]) < 0)
                goto oom;
    }
    for (char **e = o.env; e && *e; e++)
        if (cm_env_set(&spec.env, *e) < 0)
            goto oom;
    if (o.user) {
        free(spec.user);
        spec.user = TAKE_PTR(o.user);
    }
    if (o.workdir) {
        free(spec.cwd);
        spec.cwd = TAKE_PTR(o.workdir);
    }
    spec.terminal = o.tty;
    spec.interactive = o.interactive;
    spec.init = false;
    spec.n_ports = 0;
    if (spec.terminal && !spec.bundle && cm_env_set(&spec.env, "TERM=xterm") < 0)
        goto oom;
    struct cm_exec_opts eo = {.detach = o.detach, .pid_file = o.pid_file,
                              .console_socket = o.console_socket};
    ret = cm_container_exec(&spec, st.pid, st.cgroup, &eo, &err);
    if (ret < 0) {
        cm_fail("exec: %s", err.msg);
        ret = CM_EXIT_FAILURE;
    }
    goto out;
oom:
    cm_fail("exec: out of memory");
out:
    free(o.user);
    free(o.workdir);
    cm_strv_free(o.env);
    cm_state_free(&st);
    if (have_spec)
        cm_spec_free(&spec);
    return ret;
}
