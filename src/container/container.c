/* container.c: the container setup sequence, parent and child, in one place.
 *
 * Parent (host side)                      Child (inside the new namespaces)
 * ------------------                      --------------------------------
 * validate spec, compile seccomp filter
 * take a host uid/gid range, cgroup
 * clone(NEWUSER|NEWNS|NEWPID|...)  --->   waits for SYNC_MAPS_DONE
 * write uid/gid maps,
 * clone the root fs (idmapped)
 *                     SYNC_MAPS_DONE --->  become root of the user namespace,
 * move it into its cgroup (v1: waits      mounts, pivot_root, hostname,
 * an RCU grace period, ~5 ms: done       loopback
 * while the child mounts), rlimits
 *                   SYNC_CGROUP_DONE --->  new cgroup namespace, terminal,
 *                                          user lookup,
 *                                          close fds, switch user, caps,
 *                                          no_new_privs
 *                    <--- SYNC_READY
 *                     SYNC_START    --->   seccomp (last), execve
 *  <--- EOF on the socket (exec done) or SYNC_EXEC_FAILED
 * forward signals and the terminal,
 * wait, report, remove the cgroup, release the id range.
 *
 * The numbers are the same on both sides: enum sync_type. */
#include "container/container.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <linux/securebits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "container/hooks.h"
#include "sandbox/caps.h"
#include "sandbox/cgroup.h"
#include "sandbox/console.h"
#include "sandbox/devices.h"
#include "sandbox/lsm.h"
#include "sandbox/net.h"
#include "sandbox/portproxy.h"
#include "sandbox/rlimits.h"
#include "sandbox/rootfs.h"
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_cache.h"
#include "sandbox/userns.h"
#include "spec/seccomp_profile.h"
#include "util/cleanup.h"
#include "util/passwd.h"
#include "util/safepath.h"

enum sync_type {
    SYNC_MAPS_DONE = 1, /* parent -> child: ids mapped, cgroup joined (+ root tree fd) */
    SYNC_CONSOLE,       /* child -> parent: the terminal master (fd) */
    SYNC_READY,         /* child -> parent: set up, waiting to start */
    SYNC_START,         /* parent -> child: go */
    SYNC_ERROR,         /* child -> parent: setup failed (text) */
    SYNC_EXEC_FAILED,   /* child -> parent: execve failed (errno, text) */
    SYNC_CGROUP_DONE,   /* parent -> child: in the container's cgroup, limits set */
    SYNC_PREPIVOT,      /* child -> parent: mounts done: run createRuntime hooks */
    SYNC_PREPIVOT_DONE, /* parent -> child: hooks done, pivot */
    SYNC_SECCOMP,       /* parent -> child: the compiled filter follows */
    SYNC_NOTIFY_FD,     /* child -> parent: the seccomp listener (fd) for listenerPath */
};

struct sync_msg {
    uint32_t type;
    int32_t value;
    char text[1200];
};

/* The signals a user sends casemate that belong to the container. */
static const int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

static int sync_send(int sock, enum sync_type type, int value, const char *text, int fd)
{
    struct sync_msg m = {.type = type, .value = value};
    if (text)
        snprintf(m.text, sizeof(m.text), "%s", text);
    struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof(u.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    ssize_t n;
    do
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(m) ? 0 : -1;
}

/* Returns 1 on a message, 0 on EOF, -1 on error. */
static int sync_recv(int sock, struct sync_msg *m, int *fd)
{
    struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                         .msg_controllen = sizeof(u.buf)};
    if (fd)
        *fd = -1;
    ssize_t n;
    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        return 0;
    if (n != (ssize_t)sizeof(*m))
        return -1;
    m->text[sizeof(m->text) - 1] = '\0';
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int got;
            memcpy(&got, CMSG_DATA(c), sizeof(int));
            if (fd && *fd < 0)
                *fd = got;
            else
                close(got);
        }
    }
    return 1;
}

/* The compiled filter: a header message, then the instructions. */
static int send_bpf(int sock, const struct cm_seccomp_bpf *bpf)
{
    char meta[64];
    snprintf(meta, sizeof(meta), "%u %d", bpf->flags, bpf->notify ? 1 : 0);
    if (sync_send(sock, SYNC_SECCOMP, bpf->len, meta, -1) < 0)
        return -1;
    size_t bytes = (size_t)bpf->len * sizeof(struct sock_filter);
    ssize_t n;
    do
        n = send(sock, bpf->insns, bytes, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)bytes ? 0 : -1;
}

static int recv_bpf(int sock, struct cm_seccomp_bpf *bpf)
{
    struct sync_msg m;
    if (sync_recv(sock, &m, NULL) != 1 || m.type != SYNC_SECCOMP || m.value <= 0 ||
        m.value > BPF_MAXINSNS)
        return -1;
    unsigned notify = 0;
    if (sscanf(m.text, "%u %u", &bpf->flags, &notify) != 2)
        return -1;
    bpf->notify = notify;
    bpf->len = (unsigned short)m.value;
    size_t bytes = (size_t)bpf->len * sizeof(struct sock_filter);
    bpf->insns = malloc(bytes);
    if (!bpf->insns)
        return -1;
    ssize_t n;
    do
        n = recv(sock, bpf->insns, bytes, 0);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)bytes ? 0 : -1;
}

/* ---------------------------------------------------------------- child */

struct child_ctx {
    struct cm_spec *spec;
    int sock;
    const int *source_fds;  /* per mount: a detached clone of the source, or -1 */
    const int *join_fds;    /* per spec->ns_join: the namespace to enter */
    const struct cm_cgroup *cg; /* the container's cgroup (made before the clone) */
    const struct cm_seccomp_bpf *bpf; /* NULL: unconfined */
    int exec_fifo_fd;       /* OCI create: O_PATH of the exec FIFO, else -1 */
    int preserve_fds;
    pid_t host_pid;         /* our pid as the host sees it (for hook state) */
    bool outlives_parent;   /* OCI create, exec --detach: casemate exits first */
};

static _Noreturn void child_fail(int sock, const struct cm_error *err)
{
    sync_send(sock, SYNC_ERROR, err->errnum, err->msg, -1);
    _exit(CM_EXIT_FAILURE);
}

/* Load the filter; a notify listener goes to the parent (SYNC_NOTIFY_FD). */
static void load_seccomp(struct child_ctx *c, struct cm_error *err)
{
    int fd = cm_seccomp_load(c->bpf, err);
    if (fd < 0)
        child_fail(c->sock, err);
    if (fd > 0) {
        if (sync_send(c->sock, SYNC_NOTIFY_FD, 0, NULL, fd) < 0)
            _exit(CM_EXIT_FAILURE);
        close(fd);
    }
}

/* Find the program as execvp would, but with the container's PATH. */
static int find_program(const char *prog, char *const *env, char *out, size_t outlen)
{
    if (strchr(prog, '/')) {
        snprintf(out, outlen, "%s", prog);
        return 0;
    }
    const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (char *const *e = env; e && *e; e++)
        if (!strncmp(*e, "PATH=", 5))
            path = *e + 5;
    int saw_eacces = 0;
    const char *p = path;
    for (;;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        snprintf(out, outlen, "%.*s%s%s", (int)len, p, len ? "/" : "", prog);
        struct stat st;
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(out, X_OK) == 0)
                return 0;
            saw_eacces = 1;
        }
        if (!colon)
            break;
        p = colon + 1;
    }
    errno = saw_eacces ? EACCES : ENOENT;
    return -1;
}

static _Noreturn void exec_command(const struct cm_spec *spec, int sock)
{
    char path[4096];
    int e = 0;
    if (find_program(spec->args[0], spec->env, path, sizeof(path)) == 0) {
        execve(path, spec->args, spec->env);
        e = errno;
    } else {
        e = errno;
    }
    int code = (e == ENOENT || e == ENOTDIR) ? CM_EXIT_NOT_FOUND : CM_EXIT_CANNOT_EXEC;
    char text[600];
    snprintf(text, sizeof(text), "cannot run '%s' in the container: %s%s", spec->args[0],
             strerror(e), code == CM_EXIT_NOT_FOUND ? " (not found in the container's PATH)" : "");
    sync_send(sock, SYNC_EXEC_FAILED, e, text, -1);
    _exit(code);
}

/* --init: PID 1 that forwards signals to the command and reaps orphans. */
static _Noreturn void init_main(const struct cm_spec *spec, int sock)
{
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    pid_t child = fork();
    if (child < 0) {
        struct cm_error err;
        cm_err_sys(&err, "--init: fork");
        child_fail(sock, &err);
    }
    if (child == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        exec_command(spec, sock);
    }
    close(sock);
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&all, &si);
        if (sig < 0)
            continue;
        if (sig != SIGCHLD) {
            kill(child, sig);
            continue;
        }
        int status;
        pid_t p;
        while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
            if (p != child)
                continue;
            if (WIFEXITED(status))
                _exit(WEXITSTATUS(status));
            /* Re-raise is impossible for PID 1; report as a shell would. */
            _exit(128 + WTERMSIG(status));
        }
    }
}

static int set_user(const struct cm_spec *spec, const struct cm_user *u, struct cm_error *err)
{
    size_t n = u->n_groups + spec->n_additional_gids;
    _cleanup_free_ gid_t *groups = calloc(n ? n : 1, sizeof(gid_t));
    if (!groups)
        return cm_err_set(err, ENOMEM, "setting groups");
    if (u->n_groups)
        memcpy(groups, u->groups, u->n_groups * sizeof(gid_t));
    if (spec->n_additional_gids)
        memcpy(groups + u->n_groups, spec->additional_gids, spec->n_additional_gids * sizeof(gid_t));
    /* Keep every capability across the uid change; the exact sets are
     * applied right after, from the spec. */
    if (prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP) < 0)
        return cm_err_sys(err, "setting securebits");
    if (setgroups(n, groups) < 0)
        return cm_err_sys(err, "setting supplementary groups");
    if (setresgid(u->gid, u->gid, u->gid) < 0)
        return cm_err_sys(err, "switching to group %u", (unsigned)u->gid);
    if (setresuid(u->uid, u->uid, u->uid) < 0)
        return cm_err_sys(err, "switching to user %u", (unsigned)u->uid);
    if (prctl(PR_SET_SECUREBITS, 0) < 0)
        return cm_err_sys(err, "clearing securebits");
    return 0;
}

static int apply_caps(const struct cm_spec *spec, uid_t uid, struct cm_error *err)
{
    uint64_t bounding = spec->cap_bounding, effective = spec->cap_effective;
    uint64_t permitted = spec->cap_permitted, inheritable = spec->cap_inheritable;
    uint64_t ambient = spec->cap_ambient;
    /* Docker-style flags: a non-root user keeps granted caps across exec
     * only through the ambient set. */
    if (spec->ambient_for_nonroot && uid != 0) {
        inheritable |= permitted;
        ambient |= permitted;
    }
    return cm_caps_apply(bounding, effective, permitted, inheritable, ambient, err);
}

static _Noreturn void child_enter_process(struct child_ctx *c);

static _Noreturn void child_main(struct child_ctx *c)
{
    struct cm_spec *spec = c->spec;
    struct cm_error err = {0};
    struct sync_msg m;
    int tree_fd = -1;

    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        _exit(CM_EXIT_FAILURE);
    /* Until the parent says the maps are written we are nobody here. */
    if (sync_recv(c->sock, &m, &tree_fd) != 1 || m.type != SYNC_MAPS_DONE)
        _exit(CM_EXIT_FAILURE); /* the parent died or failed: it reports */
    c->host_pid = m.value;

    /* Still host uid 0 (unmapped here): the owner of the directories
     * leading to the root filesystem, which root of the namespace may not
     * be allowed to walk. */
    _cleanup_close_ int rootfs_fd = open(spec->rootfs, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (rootfs_fd < 0) {
        cm_err_sys(&err, "opening root filesystem %s", spec->rootfs);
        child_fail(c->sock, &err);
    }
    cm_debug("child: maps written");
    if (spec->ns_new & CM_NS_USER) {
        /* Become root of the new user namespace: the host uid range. */
        if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0) {
            cm_err_sys(&err, "becoming root of the user namespace");
            child_fail(c->sock, &err);
        }
    }
    /* OCI namespaces to join rather than create (network, ipc, uts, ...). */
    for (size_t i = 0; i < spec->n_ns_join; i++) {
        if (setns(c->join_fds[i], 0) < 0) {
            cm_err_sys(&err, "joining namespace %s", spec->ns_join[i].path);
            child_fail(c->sock, &err);
        }
        close(c->join_fds[i]);
    }
    int newroot = -1;
    if (cm_rootfs_setup(spec, rootfs_fd, tree_fd, c->source_fds, c->cg, &newroot, &err) < 0)
        child_fail(c->sock, &err);
    /* OCI: createRuntime hooks (the parent's) and createContainer hooks
     * (ours: in the container's namespaces, paths still the runtime's) run
     * after the mounts and before pivot_root. */
    bool cgroup_done = false;
    static struct cm_seccomp_bpf received;
    if (spec->n_hooks[CM_HOOK_PRESTART] || spec->n_hooks[CM_HOOK_CREATE_RUNTIME]) {
        /* The parent sends CGROUP_DONE (and the filter) before it listens
         * for PREPIVOT: take them first, or PREPIVOT_DONE is read out of
         * order and the init dies (docker --network none has a prestart
         * hook). Hooks then also see the container in its cgroup. */
        if (sync_recv(c->sock, &m, NULL) != 1 || m.type != SYNC_CGROUP_DONE)
            _exit(CM_EXIT_FAILURE);
        if (!spec->seccomp_unconfined && recv_bpf(c->sock, &received) < 0)
            _exit(CM_EXIT_FAILURE);
        cgroup_done = true;
        if (sync_send(c->sock, SYNC_PREPIVOT, 0, NULL, -1) < 0 ||
            sync_recv(c->sock, &m, NULL) != 1 || m.type != SYNC_PREPIVOT_DONE)
            _exit(CM_EXIT_FAILURE);
    }
    if (spec->n_hooks[CM_HOOK_CREATE_CONTAINER]) {
        _cleanup_free_ char *state = cm_hook_state_json(spec, "creating", c->host_pid);
        if (cm_hooks_run(spec, CM_HOOK_CREATE_CONTAINER, state, &err) < 0)
            child_fail(c->sock, &err);
    }
    cm_debug("child: mounts done");
    if (cm_rootfs_pivot(newroot, &err) < 0)
        child_fail(c->sock, &err);
    close(newroot);
    if (tree_fd >= 0)
        close(tree_fd);
    close(rootfs_fd);
    rootfs_fd = -1;
    for (size_t i = 0; i < spec->n_mounts; i++)
        if (c->source_fds[i] >= 0)
            close(c->source_fds[i]);
    if (spec->ns_new & CM_NS_UTS) {
        const char *hn = spec->hostname ? spec->hostname : "casemate";
        if (sethostname(hn, strlen(hn)) < 0) {
            cm_err_sys(&err, "setting hostname '%s'", hn);
            child_fail(c->sock, &err);
        }
        if (spec->domainname && setdomainname(spec->domainname, strlen(spec->domainname)) < 0) {
            cm_err_sys(&err, "setting domain name '%s'", spec->domainname);
            child_fail(c->sock, &err);
        }
    }
    if ((spec->ns_new & CM_NS_NET) && cm_net_loopback_up(&err) < 0)
        child_fail(c->sock, &err);
    /* Once the parent has moved us into the container's cgroup, so that
     * the namespace's root is the container's own cgroup. */
    if (!cgroup_done && (sync_recv(c->sock, &m, NULL) != 1 || m.type != SYNC_CGROUP_DONE))
        _exit(CM_EXIT_FAILURE);
    /* The filter was compiled by the parent while we mounted. */
    if (!spec->seccomp_unconfined) {
        if (!cgroup_done && recv_bpf(c->sock, &received) < 0)
            _exit(CM_EXIT_FAILURE);
        c->bpf = &received;
    }
    cm_debug("child: in the cgroup");
    if ((spec->ns_new & CM_NS_CGROUP) && unshare(CLONE_NEWCGROUP) < 0) {
        cm_err_sys(&err, "creating the cgroup namespace");
        child_fail(c->sock, &err);
    }
    child_enter_process(c);
}

/* The part of the sequence shared by `run` and `exec`: the process is in
 * every namespace of the container, its root is the container's root. */
static _Noreturn void child_enter_process(struct child_ctx *c)
{
    struct cm_spec *spec = c->spec;
    struct cm_error err = {0};
    struct sync_msg m;

    if (spec->terminal) {
        int master = cm_console_setup_child(&err);
        if (master < 0)
            child_fail(c->sock, &err);
        if (sync_send(c->sock, SYNC_CONSOLE, 0, NULL, master) < 0)
            _exit(CM_EXIT_FAILURE);
        close(master);
    } else if (!spec->interactive && !spec->bundle) {
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, 0) < 0) {
            cm_err_sys(&err, "opening /dev/null for stdin");
            child_fail(c->sock, &err);
        }
        close(null);
    }

    /* The user is looked up in the container's own files, now at "/". */
    struct cm_user user = {.uid = spec->uid, .gid = spec->gid};
    if (!spec->user_resolved) {
        _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0 || cm_user_resolve(rootfd, spec->user ? spec->user : "0", &user, &err) < 0) {
            if (rootfd < 0)
                cm_err_sys(&err, "opening the container's root");
            child_fail(c->sock, &err);
        }
        char home[4200];
        snprintf(home, sizeof(home), "HOME=%s", user.home ? user.home : "/");
        bool has_home = false;
        for (char **e = spec->env; e && *e; e++)
            has_home |= !strncmp(*e, "HOME=", 5);
        if (!has_home && cm_env_set(&spec->env, home) < 0) {
            cm_err_set(&err, ENOMEM, "setting HOME");
            child_fail(c->sock, &err);
        }
    }

    /* CVE-2024-21626: nothing of ours may leak into the container. Every
     * fd but 0-2 is closed at exec (the sync socket must live until then
     * to report an exec failure). */
    if (close_range(3 + (unsigned)c->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
        cm_err_sys(&err, "marking inherited file descriptors close-on-exec");
        child_fail(c->sock, &err);
    }

    /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which the
     * process is about to lose: load it now, before the user switch. */
    bool seccomp_early = c->bpf && !spec->no_new_privs;
    if (seccomp_early)
        load_seccomp(c, &err);

    if (set_user(spec, &user, &err) < 0 || apply_caps(spec, user.uid, &err) < 0)
        child_fail(c->sock, &err);
    /* The working directory is entered as the user, inside the root. */
    if (chdir(spec->cwd) < 0) {
        cm_err_sys(&err, "entering working directory %s in the container", spec->cwd);
        child_fail(c->sock, &err);
    }
    /* CVE-2024-21626: a cwd reached through a leaked fd (-w /proc/self/fd/N)
     * would sit outside the root; getcwd() then has no path for it. */
    char cwd[4096];
    if (!getcwd(cwd, sizeof(cwd)) || cwd[0] != '/') {
        cm_err_set(&err, 0, "working directory %s is outside the container's root", spec->cwd);
        child_fail(c->sock, &err);
    }
    if (spec->umask_set)
        umask(spec->umask);
    if (spec->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        cm_err_sys(&err, "setting no_new_privs");
        child_fail(c->sock, &err);
    }
    cm_user_free(&user);
    /* A filter with SCMP_ACT_NOTIFY rules: its listener must reach the
     * agent at listenerPath before the container runs, through the parent
     * (which still sees the host's paths and, for `create`, exits at
     * READY): so it is loaded here, just before READY. */
    if (c->bpf && c->bpf->notify && !seccomp_early) {
        load_seccomp(c, &err);
        seccomp_early = true;
    }

    /* OCI create and exec --detach: casemate exits once we are ready, by
     * design (the engine's shim adopts us), so the parent-death signal
     * must go before READY is sent: without a credential change (root, no
     * user namespace: Docker's default) the kernel keeps it and casemate
     * would kill its own container on exit. */
    if (c->outlives_parent && prctl(PR_SET_PDEATHSIG, 0) < 0)
        _exit(CM_EXIT_FAILURE);
    cm_debug("child: ready");
    if (sync_send(c->sock, SYNC_READY, 0, NULL, -1) < 0)
        _exit(CM_EXIT_FAILURE);
    if (c->exec_fifo_fd >= 0) {
        /* OCI: created. `start` opens the FIFO for reading; until then
         * this open blocks. */
        char path[32];
        int fifo = open(cm_fd_path(c->exec_fifo_fd, path), O_WRONLY | O_CLOEXEC);
        if (fifo < 0 || write(fifo, "0", 1) != 1)
            _exit(CM_EXIT_FAILURE);
        close(fifo);
        close(c->exec_fifo_fd);
    } else if (sync_recv(c->sock, &m, NULL) != 1 || m.type != SYNC_START) {
        _exit(CM_EXIT_FAILURE);
    }
    if (spec->n_hooks[CM_HOOK_START_CONTAINER]) {
        _cleanup_free_ char *state = cm_hook_state_json(spec, "created", c->host_pid);
        if (cm_hooks_run(spec, CM_HOOK_START_CONTAINER, state, &err) < 0)
            child_fail(c->sock, &err);
    }

    /* Changing credentials cleared the parent-death signal: set it again
     * (not when we outlive casemate: our parent is the engine's shim). */
    if (!c->outlives_parent && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        _exit(CM_EXIT_FAILURE);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    /* The LSM label takes effect at exec: set it just before. */
    if ((spec->apparmor_profile && cm_lsm_apply_apparmor(spec->apparmor_profile, &err) < 0) ||
        (spec->selinux_label && cm_lsm_apply_selinux(spec->selinux_label, &err) < 0))
        child_fail(c->sock, &err);
    /* seccomp last: nothing of casemate's own runs under the filter but
     * the execve (and, with --init, the reaper). */
    if (c->bpf && !seccomp_early)
        load_seccomp(c, &err);
    if (spec->init)
        init_main(spec, c->sock);
    exec_command(spec, c->sock);
}

/* --------------------------------------------------------------- parent */

static int check_rootfs(const char *rootfs, struct cm_error *err)
{
    struct stat st;
    if (lstat(rootfs, &st) < 0)
        return cm_err_sys(err, "root filesystem %s", rootfs);
    if (S_ISLNK(st.st_mode))
        return cm_err_set(err, 0, "root filesystem %s is a symlink; give the real directory", rootfs);
    if (!S_ISDIR(st.st_mode))
        return cm_err_set(err, 0, "root filesystem %s is not a directory", rootfs);
    return 0;
}

/* A clone of the root filesystem, idmapped through the container's user
 * namespace so that files keep their owners inside (root's files are
 * root's, not nobody's) while the container's root stays unprivileged on
 * the host. -1 (no error) when the filesystem cannot be idmapped: the
 * child then binds the root itself and files show up as nobody. */
static int clone_rootfs(const struct cm_spec *spec, pid_t child, struct cm_error *err)
{
    if (!(spec->ns_new & CM_NS_USER))
        return -1;
    _cleanup_close_ int tree = open_tree(AT_FDCWD, spec->rootfs,
                                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (tree < 0)
        return cm_err_sys(err, "cloning root filesystem %s", spec->rootfs), -2;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)child);
    _cleanup_close_ int userns = open(path, O_RDONLY | O_CLOEXEC);
    if (userns < 0)
        return cm_err_sys(err, "opening %s", path), -2;
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
    if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0) {
        cm_warn("root filesystem %s cannot be idmapped (%s): its files will appear owned by "
                "nobody inside the container", spec->rootfs, strerror(errno));
        return -1;
    }
    return TAKE_FD(tree);
}

void cm_random_id(char out[65])
{
    unsigned char raw[32];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        for (size_t i = 0; i < sizeof(raw); i++)
            raw[i] = (unsigned char)((ts.tv_nsec >> (i % 8)) ^ getpid() ^ i);
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

static int clone_flags(unsigned ns)
{
    int f = 0;
    if (ns & CM_NS_USER)
        f |= CLONE_NEWUSER;
    if (ns & CM_NS_PID)
        f |= CLONE_NEWPID;
    if (ns & CM_NS_MOUNT)
        f |= CLONE_NEWNS;
    if (ns & CM_NS_NET)
        f |= CLONE_NEWNET;
    if (ns & CM_NS_IPC)
        f |= CLONE_NEWIPC;
    if (ns & CM_NS_UTS)
        f |= CLONE_NEWUTS;
    return f;
}

/* Block the signals casemate forwards (plus SIGCHLD and SIGPIPE) so none
 * is lost before the signalfd that reads them exists. */
static int block_signals(sigset_t *fwd, sigset_t *old, struct cm_error *err)
{
    sigemptyset(fwd);
    for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++)
        sigaddset(fwd, forwarded_signals[i]);
    sigaddset(fwd, SIGCHLD);
    sigaddset(fwd, SIGPIPE);
    if (sigprocmask(SIG_BLOCK, fwd, old) < 0)
        return cm_err_sys(err, "blocking signals");
    return 0;
}

static int status_to_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return CM_EXIT_FAILURE;
}

static void copy_fd(int from, int to, bool *open_flag)
{
    char buf[8192];
    ssize_t n = read(from, buf, sizeof(buf));
    if (n <= 0) {
        if (n == 0 || (errno != EINTR && errno != EAGAIN))
            *open_flag = false;
        return;
    }
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(to, buf + off, (size_t)(n - off));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        off += w;
    }
}

/* Forward signals, copy the terminal, and wait for the child. */
static int supervise(pid_t child, int pidfd, int sigfd, int master)
{
    bool master_open = master >= 0, stdin_open = master >= 0;
    bool exited = false;
    int status = 0;
    while (!exited || master_open) {
        struct pollfd p[4] = {
            {.fd = pidfd, .events = exited ? 0 : POLLIN},
            {.fd = sigfd, .events = POLLIN},
            {.fd = master_open ? master : -1, .events = POLLIN},
            {.fd = stdin_open ? 0 : -1, .events = POLLIN},
        };
        int r = poll(p, 4, exited ? 200 : -1);
        if (r < 0 && errno != EINTR)
            break;
        if (r == 0 && exited)
            break; /* output drained */
        if (p[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si) && !exited) {
                int sig = (int)si.ssi_signo;
                if (sig == SIGWINCH && master >= 0)
                    cm_console_resize(0, master);
                else if (sig != SIGCHLD && sig != SIGPIPE)
                    kill(child, sig);
            }
        }
        if (master_open && (p[2].revents & (POLLIN | POLLHUP | POLLERR)))
            copy_fd(master, 1, &master_open);
        if (stdin_open && (p[3].revents & (POLLIN | POLLHUP | POLLERR)))
            copy_fd(0, master, &stdin_open);
        if (!exited && (p[0].revents & POLLIN)) {
            if (waitpid(child, &status, 0) == child)
                exited = true;
        }
    }
    if (!exited)
        waitpid(child, &status, 0);
    return status;
}

/* Setup messages until SYNC_READY; the terminal master arrives on the way. */
/* Where the parent's side of setup is told about: OCI hooks to run in the
 * runtime's namespaces, a console socket for the terminal. */
struct parent_ctx {
    const struct cm_spec *spec;
    pid_t child;
    const char *console_socket;
};

/* Connect to the unix socket `path` and send `data` with `fd` attached
 * (SCM_RIGHTS): how engines receive a terminal and agents a seccomp
 * listener. `what` names the socket in messages. */
static int send_fd_to(const char *path, const char *what, const char *data, int fd,
                      struct cm_error *err)
{
    _cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return cm_err_set(err, 0, "%s %s: the path is too long", what, path);
    strcpy(sa.sun_path, path);
    if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return cm_err_sys(err, "connecting to %s %s", what, path);
    struct iovec iov = {.iov_base = (void *)data, .iov_len = strlen(data)};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                         .msg_controllen = sizeof(u.buf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    if (sendmsg(s, &msg, MSG_NOSIGNAL) < 0)
        return cm_err_sys(err, "sending to %s %s", what, path);
    return 0;
}

/* The terminal master, to an engine's console socket (as runc does: one
 * message carrying the fd). */
static int send_console(const char *path, int master, struct cm_error *err)
{
    return send_fd_to(path, "console socket", "/dev/ptmx", master, err);
}

/* OCI: the seccomp listener, to the agent at listenerPath, with the
 * container process state (runtime-spec, "Container Process State"). */
static int send_listener(const struct cm_spec *spec, pid_t pid, int fd, struct cm_error *err)
{
    const char *path = spec->seccomp ? spec->seccomp->listener_path : NULL;
    if (!path)
        return cm_err_set(err, 0, "the seccomp profile has SCMP_ACT_NOTIFY rules but no listenerPath");
    _cleanup_free_ char *state = cm_hook_state_json(spec, "creating", pid);
    const char *meta = spec->seccomp->listener_metadata ? spec->seccomp->listener_metadata : "";
    json_t *msg = json_pack("{s:s, s:[s], s:i, s:s}", "ociVersion", "1.2.0", "fds", "seccompFd",
                            "pid", (json_int_t)pid, "metadata", meta);
    json_t *st = state ? json_loads(state, 0, NULL) : NULL;
    if (!msg || !st) {
        json_decref(msg);
        json_decref(st);
        return cm_err_set(err, ENOMEM, "writing the seccomp listener's state");
    }
    json_object_set_new(msg, "state", st);
    _cleanup_free_ char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!text)
        return cm_err_set(err, ENOMEM, "writing the seccomp listener's state");
    return send_fd_to(path, "seccomp listenerPath", text, fd, err);
}

static int wait_ready_ctx(int sock, int *master, const struct parent_ctx *pc, struct cm_error *err)
{
    for (;;) {
        struct sync_msg m;
        int fd = -1;
        int r = sync_recv(sock, &m, &fd);
        if (r <= 0)
            return cm_err_set(err, 0, "container setup ended unexpectedly");
        if (m.type == SYNC_ERROR) {
            if (fd >= 0)
                close(fd);
            cm_err_set(err, 0, "%s", m.text);
            err->errnum = m.value;
            return -1;
        }
        if (m.type == SYNC_CONSOLE) {
            if (pc && pc->console_socket) {
                int r2 = send_console(pc->console_socket, fd, err);
                close(fd);
                if (r2 < 0)
                    return -1;
                continue;
            }
            *master = fd;
            continue;
        }
        if (m.type == SYNC_NOTIFY_FD && fd >= 0) {
            int r2 = pc ? send_listener(pc->spec, pc->child, fd, err)
                        : cm_err_set(err, 0, "a seccomp listener has nowhere to go");
            close(fd);
            if (r2 < 0)
                return -1;
            continue;
        }
        if (fd >= 0)
            close(fd);
        if (m.type == SYNC_PREPIVOT && pc) {
            _cleanup_free_ char *state = cm_hook_state_json(pc->spec, "creating", pc->child);
            if (cm_hooks_run(pc->spec, CM_HOOK_PRESTART, state, err) < 0 ||
                cm_hooks_run(pc->spec, CM_HOOK_CREATE_RUNTIME, state, err) < 0)
                return -1;
            if (sync_send(sock, SYNC_PREPIVOT_DONE, 0, NULL, -1) < 0)
                return cm_err_sys(err, "resuming container setup");
            continue;
        }
        if (m.type == SYNC_READY)
            return 0;
    }
}

static int wait_ready(int sock, int *master, struct cm_error *err)
{
    return wait_ready_ctx(sock, master, NULL, err);
}

/* SYNC_START, then wait for the exec: EOF on the close-on-exec socket.
 * Returns 1 when the command runs, 0 when it could not be executed (the
 * child exits 126/127 and the message was printed), -1 on setup failure. */
static int start_child(int sock, const struct termios *saved_tio, bool *raw, struct cm_error *err)
{
    if (sync_send(sock, SYNC_START, 0, NULL, -1) < 0)
        return cm_err_sys(err, "starting the container");
    struct sync_msg m;
    int r = sync_recv(sock, &m, NULL);
    if (r == 1 && m.type == SYNC_EXEC_FAILED) {
        cm_console_restore(0, saved_tio, *raw);
        *raw = false;
        fprintf(stderr, "casemate: %s\n", m.text);
        return 0;
    }
    if (r == 1 && m.type == SYNC_ERROR)
        return cm_err_set(err, 0, "%s", m.text);
    return 1;
}

struct cgroup_job {
    struct cm_cgroup *cg;
    pid_t child;
    const struct cm_spec *spec;
    int rc;
    struct cm_error err;
};

/* Into the container's cgroup, with its OOM score and rlimits; the last
 * two from here because inside its user namespace a hard limit could
 * never be raised. */
static void *cgroup_job_run(void *arg)
{
    struct cgroup_job *j = arg;
    const struct cm_spec *spec = j->spec;
    j->rc = 0;
    if (cm_cgroup_add_pid(j->cg, j->child, &j->err) < 0 ||
        (spec->oom_score_adj_set && cm_oom_score_adj_apply(j->child, spec->oom_score_adj, &j->err) < 0) ||
        (spec->n_rlimits && cm_rlimits_apply_pid(j->child, spec->rlimits, spec->n_rlimits, &j->err) < 0))
        j->rc = -1;
    return NULL;
}

/* The step run and exec share once the child is ready: a signalfd for the
 * forwarded signals, our terminal in raw mode when the container has one,
 * then SYNC_START. Returns as start_child. */
static int start_supervised(int sock, const sigset_t *fwd, int master, int *sigfd,
                            struct termios *saved_tio, bool *raw, struct cm_error *err)
{
    *sigfd = signalfd(-1, fwd, SFD_CLOEXEC);
    if (*sigfd < 0)
        return cm_err_sys(err, "creating a signalfd");
    if (master >= 0) {
        cm_console_raw(0, saved_tio, raw);
        cm_console_resize(0, master);
    }
    return start_child(sock, saved_tio, raw, err);
}

/* Written atomically: engines read it as soon as create returns. */
static int write_pid_file(const char *path, pid_t pid, struct cm_error *err)
{
    char tmp[4200], text[32];
    snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
    int len = snprintf(text, sizeof(text), "%d", (int)pid);
    _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, text, (size_t)len) != len || rename(tmp, path) < 0) {
        cm_err_sys(err, "writing pid file %s", path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

static struct cm_seccomp_bpf *compile_seccomp(const struct cm_spec *spec, const char *state_root,
                                              struct cm_error *err)
{
    if (spec->seccomp_unconfined)
        return NULL;
    struct cm_seccomp_profile *def = NULL;
    const struct cm_seccomp_profile *profile = spec->seccomp;
    if (!profile) {
        if (cm_seccomp_profile_default(&def, err) < 0)
            return NULL;
        profile = def;
    }
    uint64_t caps = spec->cap_bounding | spec->cap_permitted;
    struct cm_seccomp_bpf *bpf = calloc(1, sizeof(*bpf));
    int r = 0;
    if (!bpf) {
        r = cm_err_set(err, ENOMEM, "compiling seccomp filter");
    } else if (state_root && cm_seccomp_cache_get(state_root, profile, caps, bpf) == 1) {
        cm_debug("seccomp: filter from the cache");
    } else {
        r = cm_seccomp_compile(profile, caps, bpf, err);
        if (r == 0 && state_root)
            cm_seccomp_cache_put(state_root, profile, caps, bpf);
    }
    cm_seccomp_profile_free(def);
    if (r < 0) {
        if (bpf)
            cm_seccomp_bpf_free(bpf);
        free(bpf);
        if (spec->seccomp_path)
            cm_err_prefix(err, "seccomp profile %s", spec->seccomp_path);
        return NULL;
    }
    return bpf;
}

int cm_container_run(struct cm_spec *spec, const char *state_root, struct cm_run_hooks *hooks,
                     struct cm_error *err)
{
    char idbuf[65];
    if (!spec->id) {
        cm_random_id(idbuf);
        spec->id = strdup(idbuf);
        if (!spec->id)
            return cm_err_set(err, ENOMEM, "allocating the container id");
    }
    if (!spec->hostname) {
        spec->hostname = strndup(spec->id, 12);
        if (!spec->hostname)
            return cm_err_set(err, ENOMEM, "setting the hostname");
    }
    if (cm_spec_validate(spec, err) < 0 || check_rootfs(spec->rootfs, err) < 0)
        return -1;
    /* A notify rule without an agent would make its system calls wait
     * forever. */
    for (size_t i = 0; spec->seccomp && !spec->seccomp_unconfined && i < spec->seccomp->n_rules; i++)
        if (spec->seccomp->rules[i].action == CM_SCMP_NOTIFY && !spec->seccomp->listener_path)
            return cm_err_set(err, 0, "seccomp profile%s%s has SCMP_ACT_NOTIFY rules but no "
                                      "listenerPath for an agent to answer them",
                              spec->seccomp_path ? " " : "", spec->seccomp_path ? spec->seccomp_path : "");
    /* An LSM the host does not have must be refused, not silently skipped. */
    if ((spec->apparmor_profile && cm_lsm_check_apparmor(spec->apparmor_profile, err) < 0) ||
        (spec->selinux_label && cm_lsm_check_selinux(spec->selinux_label, err) < 0))
        return -1;

    /* The filter is compiled while the child mounts (below); a profile
     * that cannot be compiled still leaves nothing behind. */
    struct cm_seccomp_bpf *bpf = NULL;

    int ret = -1;
    struct cm_userns_slot slot = {.lock_fd = -1};
    struct cm_cgroup *cg = NULL;
    int socks[2] = {-1, -1};
    _cleanup_close_ int pidfd = -1, sigfd = -1, master = -1, tree = -1;
    _cleanup_free_ int *source_fds = NULL;
    _cleanup_free_ int *join_fds = NULL;
    _cleanup_close_ int fifo_fd = -1;
    bool create_only = hooks && hooks->create_only;
    bool slot_persisted = false;
    pid_t child = -1, proxy = -1;
    _cleanup_free_ int *port_fds = NULL;
    sigset_t fwd, old;
    bool blocked = false;
    struct termios saved_tio;
    bool raw = false;

    /* Per-container host id range, unless the spec brings its own maps. */
    if ((spec->ns_new & CM_NS_USER) && spec->n_uid_map == 0) {
        /* An OCI init outlives `create`: its range is recorded, not locked. */
        if (create_only ? cm_userns_alloc_persistent(state_root, spec->id, &slot, err) < 0
                        : cm_userns_alloc(state_root, &slot, err) < 0)
            goto out;
        slot_persisted = create_only;
        spec->uid_map = calloc(1, sizeof(struct cm_idmap));
        spec->gid_map = calloc(1, sizeof(struct cm_idmap));
        if (!spec->uid_map || !spec->gid_map) {
            cm_err_set(err, ENOMEM, "allocating id maps");
            goto out;
        }
        spec->uid_map[0] = (struct cm_idmap){0, slot.host_uid, slot.size};
        spec->gid_map[0] = (struct cm_idmap){0, slot.host_gid, slot.size};
        spec->n_uid_map = spec->n_gid_map = 1;
    }

    /* OCI: namespaces to join, and the FIFO `start` will open. */
    join_fds = calloc(spec->n_ns_join + 1, sizeof(int));
    if (!join_fds) {
        cm_err_set(err, ENOMEM, "opening namespaces");
        goto out;
    }
    for (size_t i = 0; i < spec->n_ns_join; i++) {
        join_fds[i] = -1;
        enum cm_ns t = spec->ns_join[i].type;
        if (t == CM_NS_USER || t == CM_NS_PID || t == CM_NS_MOUNT || t == CM_NS_TIME) {
            cm_err_set(err, 0, "joining an existing %s namespace (%s) is not supported by casemate",
                       t == CM_NS_USER ? "user" : t == CM_NS_PID ? "pid" : t == CM_NS_MOUNT ? "mount" : "time",
                       spec->ns_join[i].path);
            goto out;
        }
        join_fds[i] = open(spec->ns_join[i].path, O_RDONLY | O_CLOEXEC);
        if (join_fds[i] < 0) {
            cm_err_sys(err, "opening namespace %s", spec->ns_join[i].path);
            goto out;
        }
    }
    if (hooks && hooks->exec_fifo) {
        fifo_fd = open(hooks->exec_fifo, O_PATH | O_CLOEXEC);
        if (fifo_fd < 0) {
            cm_err_sys(err, "opening %s", hooks->exec_fifo);
            goto out;
        }
    }

    /* Volume sources are cloned here, as host root; see rootfs.h. */
    source_fds = calloc(spec->n_mounts + 1, sizeof(int));
    if (!source_fds) {
        cm_err_set(err, ENOMEM, "opening volume sources");
        goto out;
    }
    for (size_t i = 0; i < spec->n_mounts; i++) {
        const struct cm_mount *m = &spec->mounts[i];
        source_fds[i] = -1;
        bool bind = (m->type && !strcmp(m->type, "bind")) || (m->flags & MS_BIND);
        if (!bind)
            continue;
        source_fds[i] = cm_bind_source_prepare(m, err);
        if (source_fds[i] < 0)
            goto out;
    }

    /* Published ports are bound now: a port in use fails before anything
     * else exists. */
    if (spec->n_ports) {
        if (!(spec->ns_new & CM_NS_NET)) {
            cm_err_set(err, 0, "publishing ports needs the container's own network (--network none)");
            goto out;
        }
        port_fds = calloc(spec->n_ports, sizeof(int));
        if (!port_fds || cm_ports_listen(spec->ports, spec->n_ports, port_fds, err) < 0) {
            if (!port_fds)
                cm_err_set(err, ENOMEM, "publishing ports");
            free(port_fds);
            port_fds = NULL;
            goto out;
        }
    }

    cm_cgroup_gc();
    if ((spec->cgroups_path && *spec->cgroups_path
             ? cm_cgroup_create_exact(spec->id, spec->cgroups_path, &spec->resources, &cg, err)
             : cm_cgroup_create(spec->id, spec->cgroup_parent, &spec->resources, &cg, err)) < 0)
        goto out;
    /* Only the devices it is given, even to a container with CAP_MKNOD. */
    if (cm_devices_apply(cg, spec, err) < 0)
        goto out;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) < 0) {
        cm_err_sys(err, "creating the setup socket");
        goto out;
    }
    if (block_signals(&fwd, &old, err) < 0)
        goto out;
    blocked = true;

    fflush(NULL);
    cm_debug("parent: cloning");
    child = (pid_t)syscall(SYS_clone, (unsigned long)clone_flags(spec->ns_new) | SIGCHLD, 0, 0, 0, 0);
    if (child < 0) {
        cm_err_sys(err, "creating the container process (clone)");
        if (errno == ENOSPC || errno == EUSERS)
            cm_err_prefix(err, "too many namespaces (user.max_*_namespaces)");
        goto out;
    }
    if (child == 0) {
        close(socks[0]);
        struct child_ctx ctx = {.spec = spec, .sock = socks[1], .bpf = NULL,
                                .source_fds = source_fds, .join_fds = join_fds, .cg = cg,
                                .exec_fifo_fd = fifo_fd, .outlives_parent = create_only,
                                .preserve_fds = hooks ? hooks->preserve_fds : 0};
        child_main(&ctx);
    }
    close(socks[1]);
    socks[1] = -1;

    pidfd = pidfd_open(child, 0);
    if (pidfd < 0) {
        cm_err_sys(err, "opening a pidfd for the container");
        goto out;
    }
    if ((spec->ns_new & CM_NS_USER) &&
        cm_userns_write_maps(child, spec->uid_map, spec->n_uid_map, spec->gid_map,
                             spec->n_gid_map, err) < 0)
        goto out;
    tree = clone_rootfs(spec, child, err);
    if (tree == -2)
        goto out;
    if (sync_send(socks[0], SYNC_MAPS_DONE, (int)child, NULL, tree) < 0) {
        cm_err_sys(err, "starting container setup");
        goto out;
    }
    if (tree >= 0) {
        close(tree);
        tree = -1;
    }
    /* While the child builds its mounts, two things that each take a few
     * milliseconds happen side by side: joining the cgroup (on v1 the
     * kernel waits for an RCU grace period) in a thread, and compiling the
     * seccomp filter here. Threads are safe now: the child already exists. */
    struct cgroup_job job = {.cg = cg, .child = child, .spec = spec};
    pthread_t thread;
    bool threaded = pthread_create(&thread, NULL, cgroup_job_run, &job) == 0;
    if (!threaded)
        cgroup_job_run(&job);
    if (!spec->seccomp_unconfined)
        bpf = compile_seccomp(spec, state_root, err);
    cm_debug("parent: seccomp compiled");
    if (threaded)
        pthread_join(thread, NULL);
    cm_debug("parent: in the cgroup");
    if (!spec->seccomp_unconfined && !bpf)
        goto out;
    if (job.rc < 0) {
        *err = job.err;
        goto out;
    }
    if (sync_send(socks[0], SYNC_CGROUP_DONE, 0, NULL, -1) < 0 || (bpf && send_bpf(socks[0], bpf) < 0)) {
        /* The child failed its setup: its message is waiting. */
        if (wait_ready(socks[0], &master, err) == 0)
            cm_err_set(err, 0, "container setup ended unexpectedly");
        goto out;
    }
    struct parent_ctx pc = {.spec = spec, .child = child,
                            .console_socket = hooks ? hooks->console_socket : NULL};
    if (wait_ready_ctx(socks[0], &master, &pc, err) < 0)
        goto out;
    if (create_only) {
        /* Created: the init waits on the FIFO; it, its cgroup and its
         * namespaces now belong to whoever runs `start` and `delete`. */
        if (hooks->pid_file && write_pid_file(hooks->pid_file, child, err) < 0)
            goto out;
        if (hooks->created && hooks->created(hooks->ctx, child, cg, err) < 0)
            goto out;
        child = -1;
        cm_cgroup_close(cg);
        cg = NULL;
        ret = 0;
        goto out;
    }
    if (spec->n_ports) {
        proxy = cm_ports_start_proxy(child, spec->ports, spec->n_ports, port_fds, err);
        if (proxy < 0)
            goto out;
    }
    int started = start_supervised(socks[0], &fwd, master, &sigfd, &saved_tio, &raw, err);
    if (started < 0)
        goto out;
    if (started == 1 && hooks && hooks->started && hooks->started(hooks->ctx, child, cg, err) < 0)
        goto out;
    cm_debug("parent: command started");
    int status = supervise(child, pidfd, sigfd, master);
    cm_debug("parent: command exited");
    child = -1;
    ret = status_to_code(status);
    if (cg && (ret == 137 || (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) &&
        cm_cgroup_oom_killed(cg)) {
        if (hooks)
            hooks->oom_killed = true;
        if (spec->resources.memory_limit > 0) {
            char limit[32];
            cm_format_size((uint64_t)spec->resources.memory_limit, limit, sizeof(limit));
            cm_info("container %.12s was killed: out of memory: limit %s", spec->id, limit);
        } else
            cm_info("container %.12s was killed: out of memory", spec->id);
    }

out:
    cm_console_restore(0, &saved_tio, raw);
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    if (proxy > 0) {
        kill(proxy, SIGKILL);
        waitpid(proxy, NULL, 0);
    }
    for (size_t i = 0; port_fds && i < spec->n_ports; i++)
        close(port_fds[i]);
    if (socks[0] >= 0)
        close(socks[0]);
    if (socks[1] >= 0)
        close(socks[1]);
    for (size_t i = 0; source_fds && i < spec->n_mounts; i++)
        if (source_fds[i] >= 0)
            close(source_fds[i]);
    for (size_t i = 0; join_fds && i < spec->n_ns_join; i++)
        if (join_fds[i] >= 0)
            close(join_fds[i]);
    if (cg) {
        struct cm_error cgerr = {0};
        if (cm_cgroup_destroy(cg, &cgerr) < 0)
            cm_warn("removing the container's cgroup: %s", cgerr.msg);
        cm_debug("parent: cgroup removed");
    }
    cm_userns_release(&slot);
    if (slot_persisted && ret < 0)
        cm_userns_release_persistent(state_root, spec->id);
    if (bpf) {
        cm_seccomp_bpf_free(bpf);
        free(bpf);
    }
    if (blocked)
        sigprocmask(SIG_SETMASK, &old, NULL);
    return ret;
}

/* ----------------------------------------------------------------- exec */

/* Namespaces joined by exec, in order. The user namespace comes last: up
 * to then the process is host root and may enter every namespace the
 * container owns; mnt puts its root and cwd at the container's root. */
static const struct {
    enum cm_ns ns;
    const char *name;
    int flag;
} exec_namespaces[] = {
    {CM_NS_IPC, "ipc", CLONE_NEWIPC},       {CM_NS_UTS, "uts", CLONE_NEWUTS},
    {CM_NS_NET, "net", CLONE_NEWNET},       {CM_NS_CGROUP, "cgroup", CLONE_NEWCGROUP},
    {CM_NS_MOUNT, "mnt", CLONE_NEWNS},      {CM_NS_USER, "user", CLONE_NEWUSER},
};

/* The container's namespace `name`, or -1 (no error) when it is ours. */
static int open_ns(pid_t pid, const char *name, struct cm_error *err)
{
    char path[64], self[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
    snprintf(self, sizeof(self), "/proc/self/ns/%s", name);
    struct stat a, b;
    if (stat(path, &a) < 0)
        return cm_err_sys(err, "opening the container's %s namespace", name), -2;
    if (stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cm_err_sys(err, "opening %s", path), -2;
    return fd;
}

int cm_container_exec(struct cm_spec *spec, pid_t pid, const char *cgroup,
                      const struct cm_exec_opts *opts, struct cm_error *err)
{
    struct cm_seccomp_bpf *bpf = compile_seccomp(spec, NULL, err);
    if (!bpf && !spec->seccomp_unconfined)
        return -1;
    int ret = -1;
    int ns_fds[ARRAY_SIZE(exec_namespaces)];
    for (size_t i = 0; i < ARRAY_SIZE(ns_fds); i++)
        ns_fds[i] = -1;
    _cleanup_close_ int pidns = -1, own_pidns = -1, pidfd = -1, sigfd = -1, master = -1;
    int socks[2] = {-1, -1};
    struct cm_cgroup *cg = NULL;
    pid_t child = -1;
    sigset_t fwd, old;
    bool blocked = false, raw = false;
    struct termios saved_tio;

    for (size_t i = 0; i < ARRAY_SIZE(exec_namespaces); i++) {
        ns_fds[i] = open_ns(pid, exec_namespaces[i].name, err);
        if (ns_fds[i] == -2)
            goto out;
    }
    pidns = open_ns(pid, "pid", err);
    if (pidns == -2)
        goto out;
    if (cgroup && *cgroup && cm_cgroup_open(cgroup, &cg, err) < 0)
        goto out;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) < 0) {
        cm_err_sys(err, "creating the exec socket");
        goto out;
    }
    if (block_signals(&fwd, &old, err) < 0)
        goto out;
    blocked = true;
    /* Children of ours are born in the container's pid namespace; we
     * ourselves stay where we are. */
    if (pidns >= 0) {
        own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (own_pidns < 0 || setns(pidns, CLONE_NEWPID) < 0) {
            cm_err_sys(err, "entering the container's pid namespace");
            goto out;
        }
    }
    fflush(NULL);
    child = fork();
    if (child < 0) {
        cm_err_sys(err, "creating the exec process");
        goto out;
    }
    if (child == 0) {
        struct cm_error cerr = {0};
        struct sync_msg m;
        close(socks[0]);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
            _exit(CM_EXIT_FAILURE);
        if (sync_recv(socks[1], &m, NULL) != 1 || m.type != SYNC_MAPS_DONE)
            _exit(CM_EXIT_FAILURE);
        for (size_t i = 0; i < ARRAY_SIZE(exec_namespaces); i++) {
            if (ns_fds[i] < 0)
                continue;
            if (setns(ns_fds[i], exec_namespaces[i].flag) < 0) {
                cm_err_sys(&cerr, "entering the container's %s namespace", exec_namespaces[i].name);
                child_fail(socks[1], &cerr);
            }
            close(ns_fds[i]);
        }
        if (ns_fds[ARRAY_SIZE(exec_namespaces) - 1] >= 0 &&
            (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0)) {
            cm_err_sys(&cerr, "becoming root of the container's user namespace");
            child_fail(socks[1], &cerr);
        }
        if (chdir("/") < 0) {
            cm_err_sys(&cerr, "entering the container's root");
            child_fail(socks[1], &cerr);
        }
        spec->init = false;
        struct child_ctx ctx = {.spec = spec, .sock = socks[1], .bpf = bpf, .exec_fifo_fd = -1,
                                .host_pid = getpid(), .outlives_parent = opts && opts->detach};
        child_enter_process(&ctx);
    }
    if (own_pidns >= 0 && setns(own_pidns, CLONE_NEWPID) < 0) {
        cm_err_sys(err, "returning to our pid namespace");
        goto out;
    }
    close(socks[1]);
    socks[1] = -1;
    pidfd = pidfd_open(child, 0);
    if (pidfd < 0) {
        cm_err_sys(err, "opening a pidfd for the exec process");
        goto out;
    }
    /* The same cgroup and limits as the container's init, before it runs. */
    if (cg && cm_cgroup_add_pid(cg, child, err) < 0)
        goto out;
    if (spec->n_rlimits && cm_rlimits_apply_pid(child, spec->rlimits, spec->n_rlimits, err) < 0)
        goto out;
    if (spec->oom_score_adj_set && cm_oom_score_adj_apply(child, spec->oom_score_adj, err) < 0)
        goto out;
    if (sync_send(socks[0], SYNC_MAPS_DONE, 0, NULL, -1) < 0) {
        cm_err_sys(err, "starting the exec process");
        goto out;
    }
    struct parent_ctx pc = {.spec = spec, .child = child,
                            .console_socket = opts ? opts->console_socket : NULL};
    if (wait_ready_ctx(socks[0], &master, &pc, err) < 0)
        goto out;
    int started = start_supervised(socks[0], &fwd, master, &sigfd, &saved_tio, &raw, err);
    if (started < 0)
        goto out;
    if (opts && opts->pid_file && started == 1 && write_pid_file(opts->pid_file, child, err) < 0)
        goto out;
    if (opts && opts->detach) {
        /* The engine's subreaper inherits the process when we exit. */
        child = -1;
        ret = started == 1 ? 0 : CM_EXIT_FAILURE;
        goto out;
    }
    int status = supervise(child, pidfd, sigfd, master);
    child = -1;
    ret = status_to_code(status);

out:
    cm_console_restore(0, &saved_tio, raw);
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    for (size_t i = 0; i < ARRAY_SIZE(ns_fds); i++)
        if (ns_fds[i] >= 0)
            close(ns_fds[i]);
    if (socks[0] >= 0)
        close(socks[0]);
    if (socks[1] >= 0)
        close(socks[1]);
    cm_cgroup_close(cg);
    if (bpf) {
        cm_seccomp_bpf_free(bpf);
        free(bpf);
    }
    if (blocked)
        sigprocmask(SIG_SETMASK, &old, NULL);
    return ret;
}
