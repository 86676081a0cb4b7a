/* lifecycle.c: commands on containers that outlive one command: list, state,
 * kill, delete, pause, resume, update and stats (exec is in cli/exec.c).
 *
 * A container is named by its state directory (container/state.h). A pid read
 * from it is trusted only through a pidfd whose process started when the
 * state says it did: a pid the kernel has since given to another process is
 * never signalled. Commands that change a container hold its lock; readers
 * (list, state, stats) do not, and never write the state back. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/commands.h"
#include "container/hooks.h"
#include "container/state.h"
#include "sandbox/userns.h"
#include "spec/oci.h"
#include "sandbox/cgroup.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"

/* Long enough for a supervisor that is writing the state to finish. */
#define LOCK_TIMEOUT_MS 10000
/* How long delete waits for a killed process to be gone. */
#define EXIT_TIMEOUT_MS 10000

static const char *state_root(void)
{
    return cm_globals.root ? cm_globals.root : CM_DEFAULT_STATE_ROOT;
}

static void state_freep(struct cm_state *st) { cm_state_free(st); }
#define _cleanup_state_ _cleanup_(state_freep)

static void cgroup_closep(struct cm_cgroup **cg)
{
    if (*cg)
        cm_cgroup_close(*cg);
}
#define _cleanup_cgroup_ _cleanup_(cgroup_closep)

/* Parse options that may come before, between or after the positional
 * arguments (`update ID --memory 64m`), collecting the positionals. Returns
 * 0, 1 after --help, or -1 after printing the error. */
static int parse_interleaved(const struct cm_option *opts, size_t n_opts, int argc, char **argv,
                             const char *cmd, const char *usage, const char *summary,
                             cm_opt_handler handler, void *ctx, char ***positionals)
{
    int base = 0;
    for (;;) {
        int r = cm_opts_parse(opts, n_opts, argc - base, argv + base, cmd, usage, summary, handler, ctx);
        if (r == -2)
            return 1;
        if (r < 0)
            return -1;
        int idx = base + r;
        if (idx >= argc)
            return 0;
        /* getopt stopped at "--": everything after it is positional. */
        if (!strcmp(argv[idx - 1], "--") && idx - 1 > base) {
            for (int i = idx; i < argc; i++)
                if (cm_strv_append(positionals, argv[i]) < 0)
                    return cm_fail("%s: out of memory", cmd), -1;
            return 0;
        }
        if (cm_strv_append(positionals, argv[idx]) < 0)
            return cm_fail("%s: out of memory", cmd), -1;
        base = idx; /* the positional is argv[0] of the next round */
    }
}

/* ---- processes named by the state ---- */

static int pidfd_open_(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
static int pidfd_send_signal_(int pidfd, int sig)
{
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* A pidfd for `pid` if it is still the process that started at `start`
 * (clock ticks since boot, /proc/<pid>/stat field 22), or, with
 * `started_by` set, one that started no later than that (the supervisor:
 * it forked the container, so it is older; a pid reused since is younger).
 * Checking after pidfd_open closes the race: the pidfd cannot move to
 * another process. Returns -1 with errno ESRCH when the process is gone. */
static int open_process(pid_t pid, uint64_t start, bool started_by)
{
    if (pid <= 0) {
        errno = ESRCH;
        return -1;
    }
    _cleanup_close_ int fd = pidfd_open_(pid);
    if (fd < 0)
        return -1;
    uint64_t now = 0;
    if (cm_proc_start_time(pid, &now) < 0) {
        errno = ESRCH;
        return -1;
    }
    if (start && (started_by ? now > start : now != start)) {
        errno = ESRCH;
        return -1;
    }
    return TAKE_FD(fd);
}

/* Wait until the process of `pidfd` has exited (readable pidfd). */
static bool wait_exit(int pidfd, int timeout_ms)
{
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        long left = timeout_ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
        if (left < 0)
            left = 0;
        int r = poll(&p, 1, (int)left);
        if (r > 0)
            return true;
        if (r == 0 || errno != EINTR)
            return false;
    }
}

/* ---- signals ---- */

struct signame {
    const char *name;
    int sig;
};

static const struct signame signames[] = {
    {"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},   {"ABRT", SIGABRT},     {"IOT", SIGIOT},       {"BUS", SIGBUS},
    {"FPE", SIGFPE},     {"KILL", SIGKILL},     {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},     {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH}, {"IO", SIGIO},         {"POLL", SIGPOLL},     {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

/* "TERM", "SIGTERM", "sigterm", "15", "RTMIN+3", "SIGRTMAX-1" -> number;
 * -1 when it is not a signal. */
static int parse_signal(const char *s)
{
    char *end = NULL;
    if (*s >= '0' && *s <= '9') {
        errno = 0;
        long n = strtol(s, &end, 10);
        return (errno || *end || n < 1 || n > SIGRTMAX) ? -1 : (int)n;
    }
    if (!strncasecmp(s, "SIG", 3))
        s += 3;
    for (size_t i = 0; i < ARRAY_SIZE(signames); i++)
        if (!strcasecmp(s, signames[i].name))
            return signames[i].sig;
    bool min = !strncasecmp(s, "RTMIN", 5), max = !strncasecmp(s, "RTMAX", 5);
    if (!min && !max)
        return -1;
    s += 5;
    long off = 0;
    if (*s) {
        if ((min && *s != '+') || (max && *s != '-') || !s[1])
            return -1;
        errno = 0;
        off = strtol(s + 1, &end, 10);
        if (errno || *end || off < 0 || off > SIGRTMAX - SIGRTMIN)
            return -1;
    }
    return min ? SIGRTMIN + (int)off : SIGRTMAX - (int)off;
}

/* ---- shared steps ---- */

/* Load and refresh (in memory only) the state of `id`. */
static int load_state(const char *id, struct cm_state *st, struct cm_error *err)
{
    if (cm_state_validate_id(id, err) < 0)
        return -1;
    if (cm_state_load(state_root(), id, st, err) < 0)
        return -1;
    cm_state_refresh(st);
    return 0;
}

/* Lock `id`, then load its state. Returns the lock fd. */
static int lock_and_load(const char *id, struct cm_state *st, struct cm_error *err)
{
    memset(st, 0, sizeof(*st));
    if (cm_state_validate_id(id, err) < 0)
        return -1;
    _cleanup_close_ int lock = cm_state_lock(state_root(), id, LOCK_TIMEOUT_MS, err);
    if (lock < 0)
        return -1;
    if (load_state(id, st, err) < 0)
        return -1;
    return TAKE_FD(lock);
}

static bool is_live(const struct cm_state *st)
{
    return st->status == CM_STATUS_RUNNING || st->status == CM_STATUS_PAUSED ||
           st->status == CM_STATUS_CREATED;
}

/* ---- list ---- */

enum { OPT_FORMAT, OPT_QUIET, OPT_NO_STREAM, OPT_FORCE, OPT_SIGNAL, OPT_ALL };

struct list_ctx {
    bool json;
    bool quiet;
};

static int parse_format(const char *cmd, const char *arg, bool *json)
{
    if (!strcmp(arg, "table"))
        *json = false;
    else if (!strcmp(arg, "json"))
        *json = true;
    else
        return cm_fail("%s: --format %s: expected 'table' or 'json'", cmd, arg), -1;
    return 0;
}

static int list_option(int id, const char *arg, void *ctx)
{
    struct list_ctx *c = ctx;
    if (id == OPT_FORMAT)
        return parse_format("list", arg, &c->json);
    c->quiet = true;
    return 0;
}

static const struct cm_option list_options[] = {
    {"format", 'f', CM_OPT_REQUIRED, "table|json", "Output format (default table)", OPT_FORMAT},
    {"quiet", 'q', CM_OPT_NONE, NULL, "Print the container ids only", OPT_QUIET},
};

/* "2026-11-24T05:05:19.123456789Z" -> "2026-11-24 05:05:19". */
static void short_time(const char *rfc3339, char *buf, size_t len)
{
    snprintf(buf, len, "%.19s", rfc3339 ? rfc3339 : "-");
    char *t = strchr(buf, 'T');
    if (t)
        *t = ' ';
}

static void status_text(const struct cm_state *st, char *buf, size_t len)
{
    if (st->status == CM_STATUS_STOPPED && st->exited)
        snprintf(buf, len, "stopped (%d%s)", st->exit_status, st->oom_killed ? ", out of memory" : "");
    else
        snprintf(buf, len, "%s", cm_status_name(st->status));
}

int cmd_list(int argc, char **argv)
{
    struct list_ctx c = {0};
    int first = cm_opts_parse(list_options, ARRAY_SIZE(list_options), argc, argv, "list", "[OPTIONS]",
                              "List the containers under the state root (--root): id, pid of the\n"
                              "container's init on the host, status, creation time, root filesystem.",
                              list_option, &c);
    if (first == -2)
        return 0;
    if (first < 0)
        return CM_EXIT_FAILURE;
    if (first < argc)
        return cm_fail("list: unexpected argument '%s' (list takes no container id)", argv[first]);
    struct cm_error err = {0};
    _cleanup_strv_ char **ids = NULL;
    if (cm_state_list(state_root(), &ids, &err) < 0)
        return cm_fail("list: %s", err.msg);

    json_t *arr = c.json ? json_array() : NULL;
    if (c.json && !arr)
        return cm_fail("list: out of memory");
    if (!c.json && !c.quiet)
        printf("%-20s %-8s %-22s %-20s %s\n", "ID", "PID", "STATUS", "CREATED", "ROOTFS");
    for (char **id = ids; *id; id++) {
        _cleanup_state_ struct cm_state st = {0};
        bool have = load_state(*id, &st, &err) == 0;
        if (!have && err.errnum != ENOENT) {
            /* One broken state file must not hide the other containers. */
            cm_warn("list: %s", err.msg);
            continue;
        }
        if (c.quiet) {
            printf("%s\n", *id);
            continue;
        }
        /* No state.json yet: `run -d` is still setting it up. */
        if (c.json) {
            json_t *o = NULL;
            if (have) {
                _cleanup_free_ char *text = cm_state_to_json(&st);
                o = text ? json_loads(text, 0, NULL) : NULL;
                /* As in the table and the OCI state: a stopped container has no pid. */
                if (o && !is_live(&st) && json_object_set_new(o, "pid", json_integer(0)) < 0) {
                    json_decref(o);
                    o = NULL;
                }
            } else {
                o = json_pack("{s:s, s:s, s:s, s:i}", "ociVersion", CM_OCI_VERSION, "id", *id, "status",
                              cm_status_name(CM_STATUS_CREATING), "pid", 0);
            }
            if (!o || json_array_append_new(arr, o) < 0) {
                json_decref(arr);
                return cm_fail("list: out of memory");
            }
            continue;
        }
        char created[32], status[64];
        short_time(have ? st.created : NULL, created, sizeof(created));
        if (have)
            status_text(&st, status, sizeof(status));
        else
            snprintf(status, sizeof(status), "%s", cm_status_name(CM_STATUS_CREATING));
        printf("%-20s %-8d %-22s %-20s %s\n", *id, have && is_live(&st) ? (int)st.pid : 0, status, created,
               have && st.rootfs ? st.rootfs : (have && st.bundle ? st.bundle : "-"));
    }
    if (c.json) {
        char *text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(arr);
        if (!text)
            return cm_fail("list: out of memory");
        printf("%s\n", text);
        free(text);
    }
    if (fflush(stdout) != 0)
        return cm_fail("list: writing the list: %s", strerror(errno));
    return 0;
}

/* ---- state ---- */

int cmd_state(int argc, char **argv)
{
    int first = cm_opts_parse(NULL, 0, argc, argv, "state", "ID",
                              "Print the OCI state of container ID as JSON (ociVersion, id, status,\n"
                              "pid, bundle, annotations). A container whose process is gone is\n"
                              "reported as stopped.",
                              NULL, NULL);
    if (first == -2)
        return 0;
    if (first < 0)
        return CM_EXIT_FAILURE;
    if (argc - first != 1)
        return cm_fail("state: expected one container id (usage: casemate state ID)");
    struct cm_error err = {0};
    _cleanup_state_ struct cm_state st = {0};
    if (load_state(argv[first], &st, &err) < 0)
        return cm_fail("state: %s", err.msg);
    _cleanup_free_ char *text = cm_state_to_oci_json(&st);
    if (!text)
        return cm_fail("state: %s: out of memory", argv[first]);
    printf("%s\n", text);
    if (st.oom_killed)
        fprintf(stderr, "casemate: container %s was killed by the OOM killer (out of memory)\n", st.id);
    return 0;
}

/* ---- kill ---- */

struct kill_ctx {
    const char *signal;
    bool all;
};

static int kill_option(int id, const char *arg, void *ctx)
{
    struct kill_ctx *c = ctx;
    if (id == OPT_ALL)
        c->all = true;
    else
        c->signal = arg;
    return 0;
}

static const struct cm_option kill_options[] = {
    {"signal", 's', CM_OPT_REQUIRED, "SIGNAL", "Signal to send (same as the SIGNAL argument)", OPT_SIGNAL},
    {"all", 'a', CM_OPT_NONE, NULL, "Send it to every process of the container's cgroup (as runc kill --all)", OPT_ALL},
};

/* Is `pid` (held by a pidfd, so it cannot be reused) in the cgroup of
 * container `id` (casemate-<id>-<owner pid>, see sandbox/cgroup.h)? */
static bool in_container_cgroup(pid_t pid, const char *id)
{
    char path[64], line[4096];
    snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    _cleanup_free_ char *needle = NULL;
    if (!f || asprintf(&needle, "/casemate-%s-", id) < 0)
        return false;
    while (fgets(line, sizeof(line), f))
        if (strstr(line, needle))
            return true;
    return false;
}

/* kill --all: every process of the cgroup. Each pid is read from the
 * cgroup and signalled through a pidfd, once the pidfd shows it still is
 * in the cgroup (a pid may exit and be reused in between). */
static int kill_all(const struct cm_state *st, int sig, struct cm_error *err)
{
    if (!st->cgroup || !*st->cgroup)
        return cm_err_set(err, 0, "container %s has no cgroup to find its processes in", st->id);
    _cleanup_cgroup_ struct cm_cgroup *cg = NULL;
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    if (cm_cgroup_open(st->cgroup, &cg, err) < 0 || cm_cgroup_pids(cg, &pids, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        _cleanup_close_ int fd = pidfd_open_(pids[i]);
        if (fd < 0 || !in_container_cgroup(pids[i], st->id))
            continue;
        if (pidfd_send_signal_(fd, sig) < 0 && errno != ESRCH)
            return cm_err_sys(err, "signalling process %d of container %s", (int)pids[i], st->id);
    }
    return 0;
}

int cmd_kill(int argc, char **argv)
{
    struct kill_ctx c = {0};
    int first = cm_opts_parse(kill_options, ARRAY_SIZE(kill_options), argc, argv, "kill", "ID [SIGNAL]",
                              "Send SIGNAL (default SIGTERM; a name such as TERM, SIGKILL or a number)\n"
                              "to the init process of container ID.",
                              kill_option, &c);
    if (first == -2)
        return 0;
    if (first < 0)
        return CM_EXIT_FAILURE;
    int n = argc - first;
    if (n < 1 || n > 2 || (n == 2 && c.signal))
        return cm_fail("kill: expected a container id and at most one signal (usage: casemate kill ID [SIGNAL])");
    const char *id = argv[first];
    const char *name = n == 2 ? argv[first + 1] : c.signal ? c.signal : "TERM";
    int sig = parse_signal(name);
    if (sig < 0)
        return cm_fail("kill: '%s' is not a signal (use a name such as TERM, SIGKILL, HUP or a number "
                       "from 1 to %d)", name, SIGRTMAX);

    struct cm_error err = {0};
    _cleanup_state_ struct cm_state st = {0};
    _cleanup_close_ int lock = lock_and_load(id, &st, &err);
    if (lock < 0)
        return cm_fail("kill: %s", err.msg);
    if (!is_live(&st))
        return cm_fail("kill: container %s is not running", id);
    if (c.all) {
        if (kill_all(&st, sig, &err) < 0)
            return cm_fail("kill: sending signal %s to container %s: %s", name, id, err.msg);
        return 0;
    }
    _cleanup_close_ int pidfd = open_process(st.pid, st.pid_start, false);
    if (pidfd < 0) {
        if (errno == ESRCH)
            return cm_fail("kill: container %s is not running (its process %d is gone)", id, (int)st.pid);
        return cm_fail("kill: container %s: opening process %d: %s", id, (int)st.pid, strerror(errno));
    }
    if (pidfd_send_signal_(pidfd, sig) < 0) {
        if (errno == ESRCH)
            return cm_fail("kill: container %s is not running (its process %d is gone)", id, (int)st.pid);
        return cm_fail("kill: sending signal %s to container %s (pid %d): %s", name, id, (int)st.pid,
                       strerror(errno));
    }
    return 0;
}

/* ---- delete ---- */

struct delete_ctx {
    bool force;
};

static int delete_option(int id, const char *arg, void *ctx)
{
    (void)id;
    (void)arg;
    ((struct delete_ctx *)ctx)->force = true;
    return 0;
}

static const struct cm_option delete_options[] = {
    {"force", 'f', CM_OPT_NONE, NULL, "Kill a running or paused container first", OPT_FORCE},
};

/* Stop everything of a container that may still run: its supervisor first,
 * so it cannot write the state or touch the cgroup while we remove them,
 * then every process of its cgroup, then wait for its init. Works when the
 * supervisor is long gone (killed with SIGKILL). */
static int stop_everything(const struct cm_state *st, struct cm_error *err)
{
    if (st->supervisor_pid > 0 && st->supervisor_pid != getpid()) {
        /* The supervisor forked the container's init: it started no later. */
        _cleanup_close_ int sup = open_process(st->supervisor_pid, st->pid_start, true);
        if (sup >= 0) {
            if (pidfd_send_signal_(sup, SIGKILL) < 0 && errno != ESRCH)
                return cm_err_sys(err, "killing the supervisor (pid %d)", (int)st->supervisor_pid);
            if (!wait_exit(sup, EXIT_TIMEOUT_MS))
                return cm_err_set(err, ETIMEDOUT, "the supervisor (pid %d) is still there %d s after SIGKILL",
                                  (int)st->supervisor_pid, EXIT_TIMEOUT_MS / 1000);
        }
    }
    /* Opened before the cgroup is emptied, so the wait below is for this
     * process and no other. */
    _cleanup_close_ int init = st->pid > 0 ? open_process(st->pid, st->pid_start, false) : -1;
    if (st->cgroup && *st->cgroup) {
        struct cm_cgroup *cg = NULL;
        if (cm_cgroup_open(st->cgroup, &cg, err) < 0)
            return -1;
        /* Kills every process left and removes the directories; a cgroup
         * the supervisor already removed is fine. */
        if (cm_cgroup_destroy(cg, err) < 0)
            return cm_err_prefix(err, "removing the container's cgroup");
    } else if (init >= 0 && pidfd_send_signal_(init, SIGKILL) < 0 && errno != ESRCH) {
        /* No cgroup recorded: killing the init of a pid namespace kills
         * every process in it. */
        return cm_err_sys(err, "killing the container's process %d", (int)st->pid);
    }
    if (init >= 0 && !wait_exit(init, EXIT_TIMEOUT_MS))
        return cm_err_set(err, ETIMEDOUT, "the container's process %d is still there after %d s",
                          (int)st->pid, EXIT_TIMEOUT_MS / 1000);
    return 0;
}

static int delete_one(const char *id, bool force, struct cm_error *err)
{
    _cleanup_state_ struct cm_state st = {0};
    if (cm_state_validate_id(id, err) < 0)
        return -1;
    _cleanup_close_ int lock = cm_state_lock(state_root(), id, LOCK_TIMEOUT_MS, err);
    if (lock < 0)
        return -1;
    if (load_state(id, &st, err) < 0) {
        /* A directory without a state file: a start that failed half-way
         * (the lock is ours, so nobody is creating it right now). */
        if (!force)
            return err->errnum == ENOENT
                       ? cm_err_set(err, 0, "container %s has no state file (still being created?); "
                                            "remove it with casemate delete --force %s", id, id)
                       : cm_err_prefix(err, "deleting container %s (--force removes the directory anyway)", id);
        cm_warn("delete: %s: removing the state directory only", err->msg);
        return cm_state_remove(state_root(), id, err);
    }
    /* A created OCI container never ran: deleting it is what runc does. */
    if (is_live(&st) && !force && st.status != CM_STATUS_CREATED)
        return cm_err_set(err, 0, "container %s is %s: stop it first (casemate kill %s) or use delete --force",
                          id, cm_status_name(st.status), id);
    /* Even a stopped container may have left something: its supervisor
     * killed with SIGKILL leaves the cgroup, and the state still says
     * running. */
    if (stop_everything(&st, err) < 0)
        return cm_err_prefix(err, "deleting container %s", id);
    if (st.bundle && *st.bundle) {
        /* OCI: its recorded user namespace range, and the poststop hooks
         * (their failures are warnings: the container is gone anyway). */
        cm_userns_release_persistent(state_root(), id);
        struct cm_spec spec = {0};
        struct cm_error herr = {0};
        if (cm_oci_spec_load(st.bundle, &spec, &herr) == 0 && spec.n_hooks[CM_HOOK_POSTSTOP]) {
            free(spec.id);
            spec.id = strdup(id);
            _cleanup_free_ char *state = cm_hook_state_json(&spec, "stopped", 0);
            if (cm_hooks_run(&spec, CM_HOOK_POSTSTOP, state, &herr) < 0)
                cm_warn("delete %s: %s", id, herr.msg);
        }
        cm_spec_free(&spec);
    }
    return cm_state_remove(state_root(), id, err);
}

int cmd_delete(int argc, char **argv)
{
    struct delete_ctx c = {0};
    _cleanup_strv_ char **ids = NULL;
    int r = parse_interleaved(delete_options, ARRAY_SIZE(delete_options), argc, argv, "delete",
                              "[--force] ID...",
                              "Remove containers: their state directory, cgroup and every process.\n"
                              "A running or paused container is refused unless --force is given; then\n"
                              "its supervisor and every process of its cgroup are killed first.",
                              delete_option, &c, &ids);
    if (r == 1)
        return 0;
    if (r < 0)
        return CM_EXIT_FAILURE;
    if (!ids)
        return cm_fail("delete: expected at least one container id (usage: casemate delete [--force] ID...)");
    int ret = 0;
    for (char **id = ids; *id; id++) {
        struct cm_error err = {0};
        if (delete_one(*id, c.force, &err) < 0)
            ret = cm_fail("delete: %s", err.msg);
    }
    return ret;
}

/* ---- pause, resume ---- */

static int freeze(int argc, char **argv, bool frozen)
{
    const char *cmd = frozen ? "pause" : "resume";
    int first = cm_opts_parse(NULL, 0, argc, argv, cmd, "ID",
                              frozen ? "Freeze every process of container ID (cgroup freezer)."
                                     : "Thaw the processes of container ID, paused by casemate pause.",
                              NULL, NULL);
    if (first == -2)
        return 0;
    if (first < 0)
        return CM_EXIT_FAILURE;
    if (argc - first != 1)
        return cm_fail("%s: expected one container id (usage: casemate %s ID)", cmd, cmd);
    const char *id = argv[first];
    struct cm_error err = {0};
    _cleanup_state_ struct cm_state st = {0};
    _cleanup_close_ int lock = lock_and_load(id, &st, &err);
    if (lock < 0)
        return cm_fail("%s: %s", cmd, err.msg);
    enum cm_status want = frozen ? CM_STATUS_RUNNING : CM_STATUS_PAUSED;
    if (st.status != want)
        return cm_fail("%s: container %s is %s, not %s", cmd, id, cm_status_name(st.status), cm_status_name(want));
    if (!st.cgroup || !*st.cgroup)
        return cm_fail("%s: container %s has no cgroup to freeze", cmd, id);
    _cleanup_cgroup_ struct cm_cgroup *cg = NULL;
    if (cm_cgroup_open(st.cgroup, &cg, &err) < 0 || cm_cgroup_freeze(cg, frozen, &err) < 0)
        return cm_fail("%s: container %s: %s", cmd, id, err.msg);
    st.status = frozen ? CM_STATUS_PAUSED : CM_STATUS_RUNNING;
    if (cm_state_save(state_root(), &st, &err) < 0) {
        /* Leave the container as the state file says it is. */
        struct cm_error undo = {0};
        cm_cgroup_freeze(cg, !frozen, &undo);
        return cm_fail("%s: container %s: %s", cmd, id, err.msg);
    }
    return 0;
}

int cmd_pause(int argc, char **argv) { return freeze(argc, argv, true); }
int cmd_resume(int argc, char **argv) { return freeze(argc, argv, false); }

/* ---- update ---- */

enum {
    UPD_MEMORY, UPD_MEMORY_SWAP, UPD_MEMORY_RESERVATION, UPD_CPUS, UPD_CPU_SHARES, UPD_CPUSET_CPUS,
    UPD_CPUSET_MEMS, UPD_PIDS_LIMIT, UPD_BLKIO_WEIGHT, UPD_RESOURCES,
};

static const struct cm_option update_options[] = {
    {"memory", 'm', CM_OPT_REQUIRED, "SIZE", "Memory limit (e.g. 64m; -1 unlimited)", UPD_MEMORY},
    {"memory-swap", 0, CM_OPT_REQUIRED, "SIZE", "Memory plus swap limit (-1 unlimited)", UPD_MEMORY_SWAP},
    {"memory-reservation", 0, CM_OPT_REQUIRED, "SIZE", "Memory soft limit", UPD_MEMORY_RESERVATION},
    {"cpus", 0, CM_OPT_REQUIRED, "N", "CPU quota in CPUs, e.g. 0.5 (0 or -1: no quota)", UPD_CPUS},
    {"cpu-shares", 0, CM_OPT_REQUIRED, "N", "Relative CPU weight, 2 to 262144", UPD_CPU_SHARES},
    {"cpuset-cpus", 0, CM_OPT_REQUIRED, "LIST", "CPUs the container may use, e.g. 0 or 0-1", UPD_CPUSET_CPUS},
    {"cpuset-mems", 0, CM_OPT_REQUIRED, "LIST", "Memory nodes the container may use", UPD_CPUSET_MEMS},
    {"pids-limit", 0, CM_OPT_REQUIRED, "N", "Maximum number of processes (0 or -1: unlimited)", UPD_PIDS_LIMIT},
    {"blkio-weight", 0, CM_OPT_REQUIRED, "N", "Block I/O weight, 10 to 1000", UPD_BLKIO_WEIGHT},
    {"resources", 'r', CM_OPT_REQUIRED, "FILE", "OCI: the limits as linux.resources JSON ('-' reads stdin), as engines pass them", UPD_RESOURCES},
};

struct update_ctx {
    struct cm_resources res;
    int n_set;
};

static int parse_int_flag(const char *flag, const char *s, long long min, long long max, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return cm_fail("update: %s: '%s' is not a whole number from %lld to %lld", flag, s, min, max), -1;
    *out = v;
    return 0;
}

static int parse_size_flag(const char *flag, const char *s, int64_t *out, bool allow_unlimited)
{
    struct cm_error err = {0};
    if (!strcmp(s, "-1")) {
        if (!allow_unlimited)
            return cm_fail("update: %s: -1 (unlimited) is not accepted here", flag), -1;
        *out = -1;
        return 0;
    }
    if (cm_parse_size(s, out, &err) < 0)
        return cm_fail("update: %s: %s", flag, err.msg), -1;
    return 0;
}

/* A number field of an OCI resources object, when present. */
static int oci_int(json_t *obj, const char *key, const char *path, long long min, long long *out, bool *set)
{
    json_t *v = json_object_get(obj, key);
    *set = false;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min)
        return cm_fail("update --resources: %s.%s: expected an integer >= %lld", path, key, min), -1;
    *out = json_integer_value(v);
    *set = true;
    return 0;
}

/* `update --resources FILE`: linux.resources as runc takes it; only the
 * fields present change (engines send every field they know). */
static int parse_oci_resources(const char *file, struct cm_resources *res)
{
    json_error_t jerr;
    json_t *root = !strcmp(file, "-") ? json_loadf(stdin, 0, &jerr) : json_load_file(file, 0, &jerr);
    if (!root)
        return cm_fail("update --resources %s: %s (line %d)", file, jerr.text, jerr.line), -1;
    int r = -1;
    long long v;
    bool set;
    json_t *mem = json_object_get(root, "memory"), *cpu = json_object_get(root, "cpu");
    json_t *pids = json_object_get(root, "pids"), *blk = json_object_get(root, "blockIO");
    if (!json_is_object(root)) {
        cm_fail("update --resources %s: expected a JSON object", file);
        goto out;
    }
    if (json_is_object(mem)) {
        if (oci_int(mem, "limit", "memory", -1, &v, &set) < 0)
            goto out;
        if (set)
            res->memory_limit = v > 0 ? v : -1;
        if (oci_int(mem, "swap", "memory", -1, &v, &set) < 0)
            goto out;
        if (set)
            res->memory_swap = v > 0 ? v : -1;
        if (oci_int(mem, "reservation", "memory", -1, &v, &set) < 0)
            goto out;
        if (set && v > 0)
            res->memory_reservation = v;
    }
    if (json_is_object(cpu)) {
        if (oci_int(cpu, "shares", "cpu", 0, &v, &set) < 0)
            goto out;
        if (set && v > 0)
            res->cpu_shares = (uint64_t)v;
        if (oci_int(cpu, "quota", "cpu", -1, &v, &set) < 0)
            goto out;
        if (set)
            res->cpu_quota = v > 0 ? v : -1;
        if (oci_int(cpu, "period", "cpu", 0, &v, &set) < 0)
            goto out;
        if (set && v > 0)
            res->cpu_period = (uint64_t)v;
        const char *keys[] = {"cpus", "mems"};
        char **slots[] = {&res->cpuset_cpus, &res->cpuset_mems};
        for (int i = 0; i < 2; i++) {
            json_t *s = json_object_get(cpu, keys[i]);
            if (json_is_string(s) && *json_string_value(s)) {
                free(*slots[i]);
                *slots[i] = strdup(json_string_value(s));
            }
        }
    }
    if (json_is_object(pids)) {
        if (oci_int(pids, "limit", "pids", -1, &v, &set) < 0)
            goto out;
        if (set)
            res->pids_limit = v > 0 ? v : -1;
    }
    if (json_is_object(blk)) {
        if (oci_int(blk, "weight", "blockIO", 0, &v, &set) < 0)
            goto out;
        if (set && v > 0) {
            if (v < 10 || v > 1000) {
                cm_fail("update --resources: blockIO.weight must be 10 to 1000");
                goto out;
            }
            res->blkio_weight = (uint16_t)v;
        }
    }
    r = 0;
out:
    json_decref(root);
    return r;
}

static int update_option(int id, const char *arg, void *ctx)
{
    struct update_ctx *c = ctx;
    struct cm_resources *res = &c->res;
    struct cm_error err = {0};
    long long n = 0;
    c->n_set++;
    switch (id) {
    case UPD_MEMORY:
        return parse_size_flag("--memory", arg, &res->memory_limit, true);
    case UPD_MEMORY_SWAP:
        return parse_size_flag("--memory-swap", arg, &res->memory_swap, true);
    case UPD_MEMORY_RESERVATION:
        return parse_size_flag("--memory-reservation", arg, &res->memory_reservation, false);
    case UPD_CPUS:
        if (cm_parse_cpus(arg, &res->cpu_quota, &res->cpu_period, &err) < 0)
            return cm_fail("update: --cpus: %s", err.msg), -1;
        return 0;
    case UPD_CPU_SHARES:
        if (parse_int_flag("--cpu-shares", arg, 2, 262144, &n) < 0)
            return -1;
        res->cpu_shares = (uint64_t)n;
        return 0;
    case UPD_CPUSET_CPUS:
    case UPD_CPUSET_MEMS: {
        char **slot = id == UPD_CPUSET_CPUS ? &res->cpuset_cpus : &res->cpuset_mems;
        free(*slot);
        if (!(*slot = strdup(arg)))
            return cm_fail("update: out of memory"), -1;
        return 0;
    }
    case UPD_PIDS_LIMIT:
        if (parse_int_flag("--pids-limit", arg, -1, INT32_MAX, &n) < 0)
            return -1;
        res->pids_limit = n == 0 ? -1 : n; /* Docker: 0 and -1 mean unlimited */
        return 0;
    case UPD_BLKIO_WEIGHT:
        if (parse_int_flag("--blkio-weight", arg, 10, 1000, &n) < 0)
            return -1;
        res->blkio_weight = (uint16_t)n;
        return 0;
    case UPD_RESOURCES:
        return parse_oci_resources(arg, res);
    }
    return cm_fail("update: internal error: unhandled option %d", id), -1;
}

static void update_ctx_freep(struct update_ctx *c)
{
    free(c->res.cpuset_cpus);
    free(c->res.cpuset_mems);
}

static int update_apply(const char *id, const struct cm_resources *res, struct cm_error *err)
{
    _cleanup_state_ struct cm_state st = {0};
    _cleanup_close_ int lock = lock_and_load(id, &st, err);
    if (lock < 0)
        return -1;
    if (!is_live(&st))
        return cm_err_set(err, 0, "container %s is not running", id);
    if (!st.cgroup || !*st.cgroup)
        return cm_err_set(err, 0, "container %s has no cgroup", id);
    _cleanup_cgroup_ struct cm_cgroup *cg = NULL;
    if (cm_cgroup_open(st.cgroup, &cg, err) < 0 || cm_cgroup_update(cg, res, err) < 0)
        return cm_err_prefix(err, "container %s", id);
    return 0;
}

int cmd_update(int argc, char **argv)
{
    _cleanup_(update_ctx_freep) struct update_ctx c = {0};
    cm_resources_keep_all(&c.res);
    _cleanup_strv_ char **ids = NULL;
    int r = parse_interleaved(update_options, ARRAY_SIZE(update_options), argc, argv, "update",
                              "[OPTIONS] ID [OPTIONS]",
                              "Change the resource limits of running container ID, live. Limits not\n"
                              "given stay as they are.",
                              update_option, &c, &ids);
    if (r == 1)
        return 0;
    if (r < 0)
        return CM_EXIT_FAILURE;
    if (cm_strv_len(ids) != 1)
        return cm_fail("update: expected one container id (usage: casemate update [OPTIONS] ID)");
    if (!c.n_set)
        return cm_fail("update: no limit given (see casemate update --help)");
    struct cm_error err = {0};
    if (update_apply(ids[0], &c.res, &err) < 0)
        return cm_fail("update: %s", err.msg);
    return 0;
}

/* ---- stats ---- */

struct stats_ctx {
    bool no_stream;
    bool json;
    bool all;
};

static int stats_option(int id, const char *arg, void *ctx)
{
    struct stats_ctx *c = ctx;
    if (id == OPT_FORMAT)
        return parse_format("stats", arg, &c->json);
    if (id == OPT_ALL)
        c->all = true;
    else
        c->no_stream = true;
    return 0;
}

static const struct cm_option stats_options[] = {
    {"no-stream", 0, CM_OPT_NONE, NULL, "Print one sample and exit", OPT_NO_STREAM},
    {"format", 0, CM_OPT_REQUIRED, "table|json", "Output format (default table; json: one object a line)", OPT_FORMAT},
    {"all", 'a', CM_OPT_NONE, NULL, "Show stopped containers too (default: running and paused ones)", OPT_ALL},
};

/* One container's sample. */
struct sample {
    char *id;
    bool live;
    struct cm_cgroup_stats cg;
    uint64_t net_rx, net_tx;
    uint64_t cpu_prev_ns;
    double cpu_percent;
    bool have_prev;
};

/* Bytes received and sent on the interfaces of `pid`'s network namespace,
 * loopback excepted (as docker counts). A container in the host's namespace
 * (--network host) owns no interface: 0, as docker shows. */
static void net_io(pid_t pid, uint64_t *rx, uint64_t *tx)
{
    *rx = *tx = 0;
    char path[64];
    struct stat mine, theirs;
    snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
    if (stat(path, &theirs) < 0 || stat("/proc/self/ns/net", &mine) < 0 || theirs.st_ino == mine.st_ino)
        return;
    snprintf(path, sizeof(path), "/proc/%d/net/dev", (int)pid);
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    char line[512];
    while (f && fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue; /* the two header lines */
        *colon = '\0';
        const char *name = line + strspn(line, " ");
        if (!strcmp(name, "lo"))
            continue;
        unsigned long long v[9];
        if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7], &v[8]) == 9) {
            *rx += v[0];
            *tx += v[8];
        }
    }
}

static uint64_t host_memory(void)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/meminfo", "re");
    char line[256];
    unsigned long long kb = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
            return (uint64_t)kb * 1024;
    return 0;
}

/* docker's two spellings: binary units for memory ("1.5MiB"), decimal
 * ones for I/O ("1.5kB"), four significant digits. */
static void human(uint64_t v, bool binary, char *buf, size_t len)
{
    static const char *const bin[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    static const char *const dec[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    double d = (double)v, base = binary ? 1024.0 : 1000.0;
    size_t i = 0;
    while (d >= base && i < 6) {
        d /= base;
        i++;
    }
    snprintf(buf, len, "%.4g%s", d, binary ? bin[i] : dec[i]);
}

static double monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Take a sample of `s`; a container that is not running has none. */
static void take_sample(struct sample *s)
{
    _cleanup_state_ struct cm_state st = {0};
    struct cm_error err = {0};
    bool was_live = s->live;
    s->live = false;
    if (load_state(s->id, &st, &err) < 0 || !is_live(&st) || !st.cgroup)
        return;
    _cleanup_cgroup_ struct cm_cgroup *cg = NULL;
    struct cm_cgroup_stats cs;
    if (cm_cgroup_open(st.cgroup, &cg, &err) < 0 || cm_cgroup_stats(cg, &cs, &err) < 0)
        return;
    s->cpu_prev_ns = s->cg.cpu_usage_ns;
    s->have_prev = was_live;
    s->cg = cs;
    s->live = true;
    net_io(st.pid, &s->net_rx, &s->net_tx);
}

static void free_samples(struct sample *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].id);
    free(v);
}

static volatile sig_atomic_t stats_interrupted;
static void stats_on_signal(int sig)
{
    (void)sig;
    stats_interrupted = 1;
}

/* Sleep `ms`, cut short by SIGINT/SIGTERM. */
static void sleep_interruptible(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (!stats_interrupted && nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int print_samples(const struct sample *v, size_t n, bool json, bool clear)
{
    uint64_t host_mem = host_memory();
    if (clear)
        fputs("\033[2J\033[H", stdout);
    if (!json)
        printf("%-14s %-20s %-8s %-22s %-8s %-16s %-16s %s\n", "CONTAINER ID", "NAME", "CPU %",
               "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS");
    for (size_t i = 0; i < n; i++) {
        const struct sample *s = &v[i];
        char cpu[32] = "--", mem[80] = "-- / --", memp[32] = "--", net[80] = "--", blk[80] = "--", pids[32] = "--";
        uint64_t limit = 0;
        double mem_percent = 0;
        if (s->live) {
            limit = s->cg.memory_limit;
            if (host_mem && limit > host_mem)
                limit = host_mem; /* unlimited: the host's memory is the limit */
            mem_percent = limit ? 100.0 * (double)s->cg.memory_usage / (double)limit : 0;
            char a[32], b[32];
            snprintf(cpu, sizeof(cpu), "%.2f%%", s->cpu_percent);
            human(s->cg.memory_usage, true, a, sizeof(a));
            human(limit, true, b, sizeof(b));
            snprintf(mem, sizeof(mem), "%s / %s", a, b);
            snprintf(memp, sizeof(memp), "%.2f%%", mem_percent);
            human(s->net_rx, false, a, sizeof(a));
            human(s->net_tx, false, b, sizeof(b));
            snprintf(net, sizeof(net), "%s / %s", a, b);
            human(s->cg.blkio_read, false, a, sizeof(a));
            human(s->cg.blkio_write, false, b, sizeof(b));
            snprintf(blk, sizeof(blk), "%s / %s", a, b);
            snprintf(pids, sizeof(pids), "%" PRIu64, s->cg.pids_current);
        }
        char short_id[13];
        snprintf(short_id, sizeof(short_id), "%s", s->id);
        if (!json) {
            printf("%-14s %-20s %-8s %-22s %-8s %-16s %-16s %s\n", short_id, s->id, cpu, mem, memp, net, blk,
                   pids);
            continue;
        }
        /* docker stats --format json's fields, plus the numbers behind them. */
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "ID", short_id, "Name",
                              s->id, "Container", s->id, "CPUPerc", cpu, "MemUsage", mem, "MemPerc", memp,
                              "NetIO", net, "BlockIO", blk, "PIDs", pids, "Running", s->live);
        if (o && s->live) {
            json_t *raw = json_pack(
                "{s:f, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I}", "cpu_percent", s->cpu_percent,
                "cpu_usage_ns", (json_int_t)s->cg.cpu_usage_ns, "memory_usage", (json_int_t)s->cg.memory_usage,
                "memory_limit", (json_int_t)limit, "memory_percent", mem_percent, "net_rx",
                (json_int_t)s->net_rx, "net_tx", (json_int_t)s->net_tx, "block_read",
                (json_int_t)s->cg.blkio_read, "block_write", (json_int_t)s->cg.blkio_write, "pids",
                (json_int_t)s->cg.pids_current, "pids_limit",
                (json_int_t)(s->cg.pids_limit == UINT64_MAX ? -1 : (json_int_t)s->cg.pids_limit));
            if (!raw || json_object_set_new(o, "Raw", raw) < 0) {
                json_decref(o);
                o = NULL;
            }
        }
        char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        if (!text)
            return cm_fail("stats: out of memory"), -1;
        printf("%s\n", text);
        free(text);
    }
    if (fflush(stdout) != 0)
        return cm_fail("stats: writing: %s", strerror(errno)), -1;
    return 0;
}

/* The containers to show: the ids given, or every live one (every one with
 * --all), looked up again at each refresh so new containers appear. */
static int pick(char **given, bool all, struct sample **v, size_t *n)
{
    _cleanup_strv_ char **ids = NULL;
    struct cm_error err = {0};
    if (!given) {
        if (cm_state_list(state_root(), &ids, &err) < 0)
            return cm_fail("stats: %s", err.msg), -1;
        given = ids;
    }
    struct sample *out = NULL;
    size_t m = 0;
    for (char **id = given; *id; id++) {
        if (ids) {
            _cleanup_state_ struct cm_state st = {0};
            if (load_state(*id, &st, &err) < 0 || (!all && !is_live(&st)))
                continue;
        }
        /* Keep what we knew of it: the CPU time of the last round. */
        struct sample keep = {0};
        for (size_t i = 0; i < *n; i++)
            if ((*v)[i].id && !strcmp((*v)[i].id, *id)) {
                keep = (*v)[i];
                (*v)[i].id = NULL;
                break;
            }
        struct sample *g = realloc(out, (m + 1) * sizeof(*g));
        if (!g) {
            free(keep.id);
            free_samples(out, m);
            return cm_fail("stats: out of memory"), -1;
        }
        out = g;
        out[m] = keep;
        if (!out[m].id && !(out[m].id = strdup(*id))) {
            free_samples(out, m);
            return cm_fail("stats: out of memory"), -1;
        }
        m++;
    }
    free_samples(*v, *n);
    *v = out;
    *n = m;
    return 0;
}

static void sample_all(struct sample *v, size_t n, double *t_prev, double *t_now)
{
    *t_prev = *t_now;
    *t_now = monotonic_ns();
    for (size_t i = 0; i < n; i++) {
        take_sample(&v[i]);
        double wall = *t_now - *t_prev;
        v[i].cpu_percent = (v[i].live && v[i].have_prev && wall > 0 && v[i].cg.cpu_usage_ns >= v[i].cpu_prev_ns)
                               ? 100.0 * (double)(v[i].cg.cpu_usage_ns - v[i].cpu_prev_ns) / wall
                               : 0;
    }
}

int cmd_stats(int argc, char **argv)
{
    struct stats_ctx c = {0};
    _cleanup_strv_ char **ids = NULL;
    int r = parse_interleaved(stats_options, ARRAY_SIZE(stats_options), argc, argv, "stats",
                              "[OPTIONS] [ID...]",
                              "Show the resource usage of containers, as docker stats: CPU %, memory\n"
                              "usage / limit, memory %, network and block I/O, processes. Refreshes\n"
                              "every second until interrupted; default: every running container.",
                              stats_option, &c, &ids);
    if (r == 1)
        return 0;
    if (r < 0)
        return CM_EXIT_FAILURE;
    /* Containers named on the command line must exist. */
    for (char **id = ids; id && *id; id++) {
        _cleanup_state_ struct cm_state st = {0};
        struct cm_error err = {0};
        if (load_state(*id, &st, &err) < 0)
            return cm_fail("stats: %s", err.msg);
    }
    struct sigaction sa = {.sa_handler = stats_on_signal};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
        return cm_fail("stats: installing the SIGINT handler: %s", strerror(errno));
    bool tty = !c.json && isatty(STDOUT_FILENO);

    struct sample *v = NULL;
    size_t n = 0;
    double t_prev = 0, t_now = 0;
    int ret = CM_EXIT_FAILURE;
    /* Two samples 1 s apart give the CPU %, as docker computes it. */
    if (pick(ids, c.all, &v, &n) < 0)
        goto out;
    sample_all(v, n, &t_prev, &t_now);
    for (;;) {
        sleep_interruptible(1000);
        if (stats_interrupted)
            break;
        if (!c.no_stream && pick(ids, c.all, &v, &n) < 0)
            goto out;
        sample_all(v, n, &t_prev, &t_now);
        if (print_samples(v, n, c.json, tty) < 0)
            goto out;
        if (c.no_stream)
            break;
    }
    ret = 0;
out:
    free_samples(v, n);
    return ret;
}
