/* oci_runtime.c: the OCI runtime commands engines drive: create, start,
 * ps, and `run --bundle`. (state, kill, delete, list, pause, resume,
 * update are shared with casemate's own containers: cli/lifecycle.c; exec:
 * cli/exec.c; spec and features: cli/oci.c.)
 *
 * As runc: `create` sets the container up and leaves its init waiting on
 * <root>/<id>/exec.fifo, a child of the engine's subreaper once create
 * exits; `start` opens the FIFO, which lets the init exec. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "container/container.h"
#include "container/hooks.h"
#include "container/state.h"
#include "sandbox/cgroup.h"
#include "spec/oci.h"
#include "spec/policy.h"
#include "spec/spec.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"

enum { O_BUNDLE, O_PID_FILE, O_CONSOLE_SOCKET, O_PRESERVE_FDS, O_NO_PIVOT, O_NO_NEW_KEYRING, O_DETACH,
       O_KEEP };

static const struct cm_option create_options[] = {
    {"bundle", 'b', CM_OPT_REQUIRED, "DIR", "Bundle directory holding config.json (default: .)", O_BUNDLE},
    {"pid-file", 0, CM_OPT_REQUIRED, "FILE", "Write the container init's host pid to FILE", O_PID_FILE},
    {"console-socket", 0, CM_OPT_REQUIRED, "SOCKET", "Send the terminal master to this unix socket", O_CONSOLE_SOCKET},
    {"preserve-fds", 0, CM_OPT_REQUIRED, "N", "Pass N extra fds (3 .. 3+N-1) to the container", O_PRESERVE_FDS},
    {"no-pivot", 0, CM_OPT_NONE, NULL, "Refused: casemate always uses pivot_root", O_NO_PIVOT},
    {"no-new-keyring", 0, CM_OPT_NONE, NULL, "Accepted: casemate never creates a session keyring", O_NO_NEW_KEYRING},
};

static const struct cm_option oci_run_options[] = {
    {"bundle", 'b', CM_OPT_REQUIRED, "DIR", "Bundle directory holding config.json (default: .)", O_BUNDLE},
    {"pid-file", 0, CM_OPT_REQUIRED, "FILE", "Write the container init's host pid to FILE", O_PID_FILE},
    {"console-socket", 0, CM_OPT_REQUIRED, "SOCKET", "Send the terminal master to this unix socket", O_CONSOLE_SOCKET},
    {"preserve-fds", 0, CM_OPT_REQUIRED, "N", "Pass N extra fds to the container", O_PRESERVE_FDS},
    {"no-pivot", 0, CM_OPT_NONE, NULL, "Refused: casemate always uses pivot_root", O_NO_PIVOT},
    {"no-new-keyring", 0, CM_OPT_NONE, NULL, "Accepted: casemate never creates a session keyring", O_NO_NEW_KEYRING},
    {"detach", 'd', CM_OPT_NONE, NULL, "Refused: use create and start", O_DETACH},
    {"keep", 0, CM_OPT_NONE, NULL, "Refused", O_KEEP},
};

struct create_args {
    const char *bundle;
    const char *pid_file;
    const char *console_socket;
    int preserve_fds;
};

static int create_option(int id, const char *arg, void *ctx)
{
    struct create_args *a = ctx;
    char *end = NULL;
    switch (id) {
    case O_BUNDLE:
        a->bundle = arg;
        return 0;
    case O_PID_FILE:
        a->pid_file = arg;
        return 0;
    case O_CONSOLE_SOCKET:
        a->console_socket = arg;
        return 0;
    case O_PRESERVE_FDS: {
        errno = 0;
        long n = strtol(arg, &end, 10);
        if (errno || !end || *end || n < 0 || n > 1000)
            return cm_fail("--preserve-fds %s: expected a number of fds", arg), -1;
        a->preserve_fds = (int)n;
        return 0;
    }
    case O_NO_PIVOT:
        return cm_fail("--no-pivot is refused: without pivot_root the host's root stays reachable "
                       "from the container"), -1;
    case O_NO_NEW_KEYRING:
        return 0;
    case O_DETACH:
    case O_KEEP:
        return cm_fail("run --bundle: --detach and --keep are not supported; use create and start"), -1;
    }
    return -1;
}

/* Load the bundle's config.json into `spec` and hold it to the host
 * policy (/etc/casemate/policy.json): the same rules as `audit config`. */
static int load_bundle(const char *bundle, const char *id, struct cm_spec *spec, struct cm_error *err)
{
    char real[PATH_MAX];
    if (!realpath(bundle, real))
        return cm_err_sys(err, "bundle %s", bundle);
    memset(spec, 0, sizeof(*spec));
    if (cm_oci_spec_load(real, spec, err) < 0)
        return -1;
    free(spec->id);
    free(spec->bundle);
    spec->id = strdup(id);
    spec->bundle = strdup(real);
    if (!spec->id || !spec->bundle)
        return cm_err_set(err, ENOMEM, "loading bundle %s", real);
    struct cm_policy *policy = NULL;
    int r = cm_policy_load(cm_globals.policy_path, &policy, err);
    if (r == 0 && policy)
        r = cm_policy_enforce(policy, spec, err);
    cm_policy_free(policy);
    return r;
}

struct created_ctx {
    const char *root;
    struct cm_spec *spec;
};

static int on_created(void *ctx, pid_t pid, struct cm_cgroup *cg, struct cm_error *err)
{
    struct created_ctx *c = ctx;
    char created[64];
    cm_state_now_rfc3339(created, sizeof(created));
    _cleanup_free_ char *cgdesc = cg ? cm_cgroup_describe(cg) : NULL;
    struct cm_state st = {
        .id = c->spec->id,
        .status = CM_STATUS_CREATED,
        .pid = pid,
        .bundle = c->spec->bundle,
        .annotations = c->spec->annotations,
        .n_annotations = c->spec->n_annotations,
        .rootfs = c->spec->rootfs,
        .created = created,
        .cgroup = cgdesc,
    };
    cm_proc_start_time(pid, &st.pid_start);
    return cm_state_save(c->root, &st, err);
}

int cmd_create(int argc, char **argv)
{
    struct create_args a = {.bundle = "."};
    const char *id = NULL;
    int r = cm_opts_parse_id(create_options, ARRAY_SIZE(create_options), argc, argv, "create",
                             "Create the OCI container ID from a bundle: set it up and leave its init\n"
                             "waiting until 'casemate start ID'.",
                             create_option, &a, &id);
    if (r <= 0)
        return r == 0 ? 0 : CM_EXIT_FAILURE;
    const char *root = cm_globals.root;
    struct cm_error err = {0};
    if (cm_state_validate_id(id, &err) < 0)
        return cm_fail("create: %s", err.msg);
    struct cm_spec spec;
    if (load_bundle(a.bundle, id, &spec, &err) < 0) {
        cm_spec_free(&spec);
        return cm_fail("create: %s", err.msg);
    }
    if (cm_state_create_dir(root, id, &err) < 0) {
        cm_spec_free(&spec);
        return cm_fail("create: %s", err.msg);
    }
    char fifo[4200];
    snprintf(fifo, sizeof(fifo), "%s/%s/exec.fifo", root, id);
    /* 0622: the init opens it for writing after it dropped to the
     * container's user, through its fd (the 0700 directory is not walked). */
    mode_t old = umask(0);
    int mk = mkfifo(fifo, 0622);
    umask(old);
    int ret = CM_EXIT_FAILURE;
    if (mk < 0) {
        cm_fail("create: making %s: %s", fifo, strerror(errno));
    } else {
        struct created_ctx cc = {.root = root, .spec = &spec};
        struct cm_run_hooks hooks = {
            .create_only = true,
            .exec_fifo = fifo,
            .created = on_created,
            .ctx = &cc,
            .console_socket = a.console_socket,
            .pid_file = a.pid_file,
            .preserve_fds = a.preserve_fds,
        };
        if (cm_container_run(&spec, root, &hooks, &err) == 0)
            ret = 0;
        else
            cm_fail("create: %s", err.msg);
    }
    if (ret != 0) {
        struct cm_error rm = {0};
        cm_state_remove(root, id, &rm);
    }
    cm_spec_free(&spec);
    return ret;
}

int cmd_start(int argc, char **argv)
{
    const char *id = NULL;
    int r = cm_opts_parse_id(NULL, 0, argc, argv, "start",
                             "Start the created OCI container ID: its init executes the process.", NULL,
                             NULL, &id);
    if (r <= 0)
        return r == 0 ? 0 : CM_EXIT_FAILURE;
    const char *root = cm_globals.root;
    struct cm_error err = {0};
    struct cm_state st = {0};
    int ret = CM_EXIT_FAILURE;
    _cleanup_close_ int lock = -1, fifo = -1, pidfd = -1;
    if (cm_state_validate_id(id, &err) < 0 || (lock = cm_state_lock(root, id, 5000, &err)) < 0 ||
        cm_state_load(root, id, &st, &err) < 0) {
        cm_fail("start: %s", err.msg);
        goto out;
    }
    cm_state_refresh(&st);
    if (st.status != CM_STATUS_CREATED) {
        cm_fail("start: container %s is %s, not created", id, cm_status_name(st.status));
        goto out;
    }
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s/exec.fifo", root, id);
    fifo = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    pidfd = pidfd_open(st.pid, 0);
    if (fifo < 0 || pidfd < 0) {
        cm_fail("start: container %s: %s", id, strerror(errno));
        goto out;
    }
    /* The init opened the FIFO for writing once we opened it: wait for its
     * byte, or for its death. */
    for (;;) {
        struct pollfd p[2] = {{.fd = fifo, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
        if (poll(p, 2, 10000) <= 0) {
            cm_fail("start: container %s did not answer", id);
            goto out;
        }
        char c;
        if (p[0].revents & POLLIN) {
            ssize_t n = read(fifo, &c, 1);
            if (n == 1)
                break;
        }
        if (p[1].revents & POLLIN) {
            cm_fail("start: container %s's init exited before it started", id);
            goto out;
        }
        if (p[0].revents & POLLHUP)
            usleep(1000); /* no writer yet */
    }
    unlink(path);
    st.status = CM_STATUS_RUNNING;
    if (cm_state_save(root, &st, &err) < 0) {
        cm_fail("start: %s", err.msg);
        goto out;
    }
    ret = 0;
    if (st.bundle && *st.bundle) {
        struct cm_spec spec;
        if (load_bundle(st.bundle, id, &spec, &err) == 0 && spec.n_hooks[CM_HOOK_POSTSTART]) {
            _cleanup_free_ char *state = cm_hook_state_json(&spec, "running", st.pid);
            if (cm_hooks_run(&spec, CM_HOOK_POSTSTART, state, &err) < 0) {
                cm_fail("start: %s", err.msg);
                ret = CM_EXIT_FAILURE;
            }
        }
        cm_spec_free(&spec);
    }
out:
    cm_state_free(&st);
    return ret;
}

enum { PS_FORMAT };

static int ps_option(int id, const char *arg, void *ctx)
{
    bool *json = ctx;
    if (id != PS_FORMAT)
        return -1;
    if (!strcmp(arg, "json"))
        *json = true;
    else if (!strcmp(arg, "table"))
        *json = false;
    else
        return cm_fail("ps: --format must be table or json"), -1;
    return 0;
}

int cmd_ps(int argc, char **argv)
{
    static const struct cm_option opts[] = {
        {"format", 'f', CM_OPT_REQUIRED, "table|json", "Output format", PS_FORMAT},
    };
    bool json = false;
    const char *id = NULL;
    int r = cm_opts_parse_id(opts, ARRAY_SIZE(opts), argc, argv, "ps",
                             "List the host pids of every process of container ID.", ps_option, &json, &id);
    if (r <= 0)
        return r == 0 ? 0 : CM_EXIT_FAILURE;
    struct cm_error err = {0};
    struct cm_state st = {0};
    struct cm_cgroup *cg = NULL;
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    int ret = CM_EXIT_FAILURE;
    if (cm_state_validate_id(id, &err) < 0 || cm_state_load(cm_globals.root, id, &st, &err) < 0) {
        cm_fail("ps: %s", err.msg);
        goto out;
    }
    if (st.cgroup && *st.cgroup) {
        if (cm_cgroup_open(st.cgroup, &cg, &err) < 0 || cm_cgroup_pids(cg, &pids, &n, &err) < 0) {
            cm_fail("ps: %s", err.msg);
            goto out;
        }
    }
    if (json) {
        printf("[");
        for (size_t i = 0; i < n; i++)
            printf("%s%d", i ? "," : "", (int)pids[i]);
        printf("]\n");
    } else {
        printf("PID\n");
        for (size_t i = 0; i < n; i++)
            printf("%d\n", (int)pids[i]);
    }
    ret = 0;
out:
    cm_cgroup_close(cg);
    cm_state_free(&st);
    return ret;
}

/* `casemate run --bundle DIR ID`: create and start in the foreground. */
int cm_oci_run(int argc, char **argv)
{
    struct create_args a = {.bundle = "."};
    const char *id = NULL;
    int r = cm_opts_parse_id(oci_run_options, ARRAY_SIZE(oci_run_options), argc, argv, "run",
                             "Run the OCI container ID from a bundle (--bundle DIR), in the foreground.",
                             create_option, &a, &id);
    if (r <= 0)
        return r == 0 ? 0 : CM_EXIT_FAILURE;
    struct cm_error err = {0};
    if (cm_state_validate_id(id, &err) < 0)
        return cm_fail("run: %s", err.msg);
    struct cm_spec spec;
    if (load_bundle(a.bundle, id, &spec, &err) < 0) {
        cm_spec_free(&spec);
        return cm_fail("run: %s", err.msg);
    }
    struct cm_run_hooks hooks = {.console_socket = a.console_socket, .pid_file = a.pid_file,
                                 .preserve_fds = a.preserve_fds};
    int ret = cm_container_run(&spec, cm_globals.root, &hooks, &err);
    if (ret < 0) {
        cm_err_print(&err);
        ret = CM_EXIT_FAILURE;
    }
    cm_spec_free(&spec);
    return ret;
}
