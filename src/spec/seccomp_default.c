/* seccomp_default.c: casemate's built-in seccomp profile, as static tables.
 *
 * It is Docker's default profile (moby profiles/seccomp/default.json: an
 * allowlist with defaultAction ERRNO/EPERM, argument rules for clone, clone3,
 * socket and personality, and rules that depend on the granted caps), made
 * stricter where Docker is weak. Every deviation is marked "casemate:" with
 * the reason. In short:
 *   - no user namespace can be created, even with CAP_SYS_ADMIN: a new user
 *     namespace hands the container a full capability set over fresh
 *     namespaces and is the first step of most kernel exploits;
 *   - clone3 always fails with ENOSYS (its flags live in memory seccomp
 *     cannot read), so libc falls back to clone, whose flags we can check;
 *   - no keyring syscalls (keyctl, add_key, request_key);
 *   - no io_uring (a rich and recurring source of kernel bugs, and its
 *     operations bypass seccomp entirely);
 *   - socket(2) only for an explicit list of families, without AF_VSOCK (a
 *     path to the hypervisor) and AF_ALG (the kernel crypto API, a recurring
 *     source of bugs), compared so that junk in the high bits of the
 *     argument cannot slip past; and no socketcall(SYS_SOCKET) on 32-bit
 *     x86, where the family is out of seccomp's sight.
 *
 * The profile is data (struct cm_seccomp_profile) so that the auditor and
 * `casemate spec` can print it; sandbox/seccomp.c compiles it. */
#include "spec/seccomp_profile.h"

#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

#define BIT(c) ((uint64_t)1 << (c))

/* Docker's unconditional allowlist. casemate: io_uring_enter,
 * io_uring_register and io_uring_setup removed (see the header). keyctl,
 * add_key and request_key are not here either (Docker blocks them too; they
 * must never be added: the keyring is not namespaced). */
static const char *const allow_always[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset",
    "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
    "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat",
    "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
    "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
    "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
    "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown",
    "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr",
    "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs",
    "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex", "futex_time64", "futex_waitv",
    "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32",
    "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer",
    "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom",
    "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list",
    "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid",
    "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init",
    "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents",
    "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup",
    "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
    "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
    "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
    "lstat64", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
    "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect",
    "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
    "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget",
    "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap", "name_to_handle_at",
    "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause",
    "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
    "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv",
    "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64",
    "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv",
    "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr",
    "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
    "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity",
    "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
    "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
    "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
    "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
    "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
    "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
    "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
    "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
    "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area",
    "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget",
    "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
    "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink",
    "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time",
    "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
    "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
    "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill",
    "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime",
    "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid",
    "waitpid", "write", "writev",
    /* Added by Docker for kernels 6.5 to 6.7 (libseccomp 2.5.5 knows them;
     * an older libseccomp skips them and they get ENOSYS, see seccomp.c). */
    "cachestat", "fchmodat2", "futex_requeue", "futex_wait", "futex_wake", "map_shadow_stack",
    /* Docker: "includes": {"minKernel": "4.8"} (ptrace could bypass seccomp
     * before 4.8). casemate needs far newer kernels, so unconditional. */
    "process_vm_readv", "process_vm_writev", "ptrace",
    NULL,
};

/* socket(2) families a container may open (include/linux/socket.h):
 * AF_UNSPEC (0) to AF_CAIF (37), AF_NFC (39), AF_KCM (41) to AF_MCTP (45).
 * casemate: Docker allows every family but AF_VSOCK; we also refuse AF_ALG
 * (38), and families the kernel adds later until someone decides they are
 * safe. Only "<=" and "==" are used: compared on 64 bits, they fail when
 * high bits are set, so a family with junk in the upper half of the
 * register (which the kernel drops, reading an int) cannot slip through as
 * it can past Docker's "!= 40". */
static const struct cm_scmp_arg socket_families[] = {
    { .index = 0, .value = 37 /* AF_CAIF */, .op = CM_SCMP_CMP_LE },
    { .index = 0, .value = 39 /* AF_NFC */, .op = CM_SCMP_CMP_EQ },
    { .index = 0, .value = 41 /* AF_KCM */, .op = CM_SCMP_CMP_EQ },
    { .index = 0, .value = 42 /* AF_QIPCRTR */, .op = CM_SCMP_CMP_EQ },
    { .index = 0, .value = 43 /* AF_SMC */, .op = CM_SCMP_CMP_EQ },
    { .index = 0, .value = 44 /* AF_XDP */, .op = CM_SCMP_CMP_EQ },
    { .index = 0, .value = 45 /* AF_MCTP */, .op = CM_SCMP_CMP_EQ },
};

/* socketcall(2) multiplexes the socket calls of 32-bit x86 and hides their
 * arguments in memory, so seccomp cannot see socket()'s family there.
 * casemate: Docker allows socketcall whole; we allow every call but
 * SYS_SOCKET (1), so AF_VSOCK and AF_ALG stay out of 32-bit programs too.
 * 32-bit programs can use socket(2) itself (x86 has had it since 4.3); glibc
 * builds that still go through socketcall cannot create sockets. */
#define SYS_SOCKETCALL_SOCKET 1

static const char *const n_socket[] = { "socket", NULL };
static const char *const n_socketcall[] = { "socketcall", NULL };
static const char *const n_personality[] = { "personality", NULL };
static const char *const n_clone[] = { "clone", NULL };
static const char *const n_clone3[] = { "clone3", NULL };
static const char *const n_unshare[] = { "unshare", NULL };

/* Docker's allowed personalities: PER_LINUX, UNAME26, PER_LINUX32,
 * PER_LINUX32|UNAME26, and the 0xffffffff query. */
static const uint64_t personalities[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };

/* Namespace flags refused to clone without CAP_SYS_ADMIN (Docker's mask):
 * NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET = 0x7E020000. */
#define CLONE_NS_FLAGS 0x7E020000ULL

static const struct cm_scmp_arg arg_socketcall[] = {
    { .index = 0, .value = SYS_SOCKETCALL_SOCKET, .op = CM_SCMP_CMP_NE },
};
static const struct cm_scmp_arg arg_clone_no_ns[] = {
    { .index = 0, .value = CLONE_NS_FLAGS, .value_two = 0, .op = CM_SCMP_CMP_MASKED_EQ },
};
static const struct cm_scmp_arg arg_clone_no_ns_s390[] = {
    { .index = 1, .value = CLONE_NS_FLAGS, .value_two = 0, .op = CM_SCMP_CMP_MASKED_EQ },
};
static const struct cm_scmp_arg arg_no_newuser[] = {
    { .index = 0, .value = CLONE_NEWUSER, .value_two = 0, .op = CM_SCMP_CMP_MASKED_EQ },
};
static const struct cm_scmp_arg arg_no_newuser_s390[] = {
    { .index = 1, .value = CLONE_NEWUSER, .value_two = 0, .op = CM_SCMP_CMP_MASKED_EQ },
};

static const char *const a_s390[] = { "s390", "s390x", NULL };
static const char *const a_ppc64le[] = { "ppc64le", NULL };
static const char *const a_arm[] = { "arm", "arm64", NULL };
static const char *const a_amd64_x32[] = { "amd64", "x32", NULL };
static const char *const a_x86_all[] = { "amd64", "x32", "x86", NULL };
static const char *const a_riscv64[] = { "riscv64", NULL };

struct default_rule {
    const char *const *names;
    enum cm_scmp_action action;
    int errno_ret;
    const struct cm_scmp_arg *args;
    size_t n_args;
    uint64_t include_caps; /* all of these granted */
    uint64_t exclude_caps; /* none of these granted */
    const char *const *include_arches;
    const char *const *exclude_arches;
};

#define NAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define ARGS(a) .args = (a), .n_args = ARRAY_SIZE(a)

/* Docker's conditional rules, in Docker's order. */
static const struct default_rule default_rules[] = {
    /* Architecture-specific syscalls (native architecture only). */
    { .names = NAMES("sync_file_range2", "swapcontext"), .action = CM_SCMP_ALLOW,
      .include_arches = a_ppc64le },
    { .names = NAMES("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2",
                     "breakpoint", "cacheflush", "set_tls"),
      .action = CM_SCMP_ALLOW, .include_arches = a_arm },
    { .names = NAMES("arch_prctl"), .action = CM_SCMP_ALLOW, .include_arches = a_amd64_x32 },
    { .names = NAMES("modify_ldt"), .action = CM_SCMP_ALLOW, .include_arches = a_x86_all },
    { .names = NAMES("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"),
      .action = CM_SCMP_ALLOW, .include_arches = a_s390 },
    { .names = NAMES("riscv_flush_icache"), .action = CM_SCMP_ALLOW,
      .include_arches = a_riscv64 },

    /* Rules that depend on the granted capabilities. */
    { .names = NAMES("open_by_handle_at"), .action = CM_SCMP_ALLOW,
      .include_caps = BIT(CAP_DAC_READ_SEARCH) },
    /* casemate: Docker's CAP_SYS_ADMIN list without clone, clone3 and
     * unshare, which get the user-namespace rules below. */
    { .names = NAMES("bpf", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                     "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree",
                     "perf_event_open", "quotactl", "quotactl_fd", "setdomainname",
                     "sethostname", "setns", "syslog", "umount", "umount2"),
      .action = CM_SCMP_ALLOW, .include_caps = BIT(CAP_SYS_ADMIN) },
    /* Without CAP_SYS_ADMIN: clone without any namespace flag (Docker). */
    { .names = n_clone, .action = CM_SCMP_ALLOW, ARGS(arg_clone_no_ns),
      .exclude_caps = BIT(CAP_SYS_ADMIN), .exclude_arches = a_s390 },
    { .names = n_clone, .action = CM_SCMP_ALLOW, ARGS(arg_clone_no_ns_s390),
      .exclude_caps = BIT(CAP_SYS_ADMIN), .include_arches = a_s390 },
    /* casemate: with CAP_SYS_ADMIN, Docker allows clone and unshare whole;
     * we still refuse CLONE_NEWUSER (see the header). */
    { .names = n_clone, .action = CM_SCMP_ALLOW, ARGS(arg_no_newuser),
      .include_caps = BIT(CAP_SYS_ADMIN), .exclude_arches = a_s390 },
    { .names = n_clone, .action = CM_SCMP_ALLOW, ARGS(arg_no_newuser_s390),
      .include_caps = BIT(CAP_SYS_ADMIN), .include_arches = a_s390 },
    { .names = n_unshare, .action = CM_SCMP_ALLOW, ARGS(arg_no_newuser),
      .include_caps = BIT(CAP_SYS_ADMIN) },
    /* casemate: ENOSYS even with CAP_SYS_ADMIN (Docker allows clone3 then):
     * clone3's flags are behind a pointer, so only refusing it keeps
     * CLONE_NEWUSER out; ENOSYS makes glibc fall back to clone. */
    { .names = n_clone3, .action = CM_SCMP_ERRNO, .errno_ret = ENOSYS },
    { .names = NAMES("reboot"), .action = CM_SCMP_ALLOW, .include_caps = BIT(CAP_SYS_BOOT) },
    { .names = NAMES("chroot"), .action = CM_SCMP_ALLOW, .include_caps = BIT(CAP_SYS_CHROOT) },
    { .names = NAMES("delete_module", "init_module", "finit_module"), .action = CM_SCMP_ALLOW,
      .include_caps = BIT(CAP_SYS_MODULE) },
    { .names = NAMES("acct"), .action = CM_SCMP_ALLOW, .include_caps = BIT(CAP_SYS_PACCT) },
    { .names = NAMES("kcmp", "pidfd_getfd", "process_madvise"), .action = CM_SCMP_ALLOW,
      .include_caps = BIT(CAP_SYS_PTRACE) },
    { .names = NAMES("iopl", "ioperm"), .action = CM_SCMP_ALLOW,
      .include_caps = BIT(CAP_SYS_RAWIO) },
    { .names = NAMES("settimeofday", "stime", "clock_settime", "clock_settime64"),
      .action = CM_SCMP_ALLOW, .include_caps = BIT(CAP_SYS_TIME) },
    { .names = NAMES("vhangup"), .action = CM_SCMP_ALLOW,
      .include_caps = BIT(CAP_SYS_TTY_CONFIG) },
    { .names = NAMES("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
      .action = CM_SCMP_ALLOW, .include_caps = BIT(CAP_SYS_NICE) },
    { .names = NAMES("syslog"), .action = CM_SCMP_ALLOW, .include_caps = BIT(CAP_SYSLOG) },
    { .names = NAMES("bpf"), .action = CM_SCMP_ALLOW, .include_caps = BIT(CAP_BPF) },
    { .names = NAMES("perf_event_open"), .action = CM_SCMP_ALLOW,
      .include_caps = BIT(CAP_PERFMON) },
};

/* Docker's archMap for the native architecture: the 32-bit and x32 ABIs
 * share the kernel, so the filter must cover them or they bypass it (the
 * filter kills any other ABI). */
static const char *const default_arches[] = {
#if defined(__x86_64__)
    "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
#elif defined(__aarch64__)
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM",
#elif defined(__s390x__)
    "SCMP_ARCH_S390X", "SCMP_ARCH_S390",
#endif
    NULL,
};

static char **strv_from_const(const char *const *v)
{
    if (!v)
        return NULL;
    size_t n = 0;
    while (v[n])
        n++;
    _cleanup_strv_ char **out = calloc(n + 1, sizeof(char *));
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(out[i] = strdup(v[i])))
            return NULL;
    return TAKE_PTR(out);
}

static int add_rule(struct cm_seccomp_profile *p, const struct default_rule *d)
{
    struct cm_scmp_rule *r = &p->rules[p->n_rules++];
    r->action = d->action;
    r->errno_ret = d->action == CM_SCMP_ERRNO && d->errno_ret ? d->errno_ret : -1;
    r->include_caps = d->include_caps;
    r->has_include_caps = d->include_caps != 0;
    r->exclude_caps = d->exclude_caps;
    r->has_exclude_caps = d->exclude_caps != 0;
    if (!(r->names = strv_from_const(d->names)))
        return -1;
    if (d->include_arches && !(r->include_arches = strv_from_const(d->include_arches)))
        return -1;
    if (d->exclude_arches && !(r->exclude_arches = strv_from_const(d->exclude_arches)))
        return -1;
    if (d->n_args) {
        if (!(r->args = calloc(d->n_args, sizeof(*r->args))))
            return -1;
        memcpy(r->args, d->args, d->n_args * sizeof(*r->args));
        r->n_args = d->n_args;
    }
    return 0;
}

static void profile_freep(struct cm_seccomp_profile **p) { cm_seccomp_profile_free(*p); }

int cm_seccomp_profile_default(struct cm_seccomp_profile **out, struct cm_error *err)
{
    *out = NULL;
    _cleanup_(profile_freep) struct cm_seccomp_profile *p = calloc(1, sizeof(*p));
    size_t n = 2 + ARRAY_SIZE(socket_families) + ARRAY_SIZE(personalities) +
               ARRAY_SIZE(default_rules);
    if (!p || !(p->rules = calloc(n, sizeof(*p->rules))))
        return cm_err_set(err, ENOMEM, "building the default seccomp profile");
    p->default_action = CM_SCMP_ERRNO;
    p->default_errno = EPERM;
    if (default_arches[0] && !(p->architectures = strv_from_const(default_arches)))
        return cm_err_set(err, ENOMEM, "building the default seccomp profile");

    /* socketcall first: on x86, libseccomp then folds the socketcall forms
     * of the allowlist's socket calls into this rule cheaply (the x86
     * filter compiles in 2.1 ms instead of 3). */
    const struct default_rule socketcall = { .names = n_socketcall, .action = CM_SCMP_ALLOW,
                                             ARGS(arg_socketcall) };
    const struct default_rule allow = { .names = allow_always, .action = CM_SCMP_ALLOW };
    if (add_rule(p, &socketcall) < 0 || add_rule(p, &allow) < 0)
        return cm_err_set(err, ENOMEM, "building the default seccomp profile");
    /* One rule per range: several comparisons on one argument in a single
     * rule would be an AND for libseccomp and an OR for runc. */
    for (size_t i = 0; i < ARRAY_SIZE(socket_families); i++) {
        const struct default_rule d = { .names = n_socket, .action = CM_SCMP_ALLOW,
                                        .args = &socket_families[i], .n_args = 1 };
        if (add_rule(p, &d) < 0)
            return cm_err_set(err, ENOMEM, "building the default seccomp profile");
    }
    for (size_t i = 0; i < ARRAY_SIZE(personalities); i++) {
        const struct cm_scmp_arg a = { .index = 0, .value = personalities[i],
                                       .op = CM_SCMP_CMP_EQ };
        const struct default_rule d = { .names = n_personality, .action = CM_SCMP_ALLOW,
                                        .args = &a, .n_args = 1 };
        if (add_rule(p, &d) < 0)
            return cm_err_set(err, ENOMEM, "building the default seccomp profile");
    }
    for (size_t i = 0; i < ARRAY_SIZE(default_rules); i++)
        if (add_rule(p, &default_rules[i]) < 0)
            return cm_err_set(err, ENOMEM, "building the default seccomp profile");

    *out = TAKE_PTR(p);
    return 0;
}
