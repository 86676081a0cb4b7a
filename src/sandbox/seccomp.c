/* seccomp.c: compile a seccomp profile to classic BPF with libseccomp, and
 * load it with seccomp(2).
 *
 * Compiling happens in the parent before clone, so a bad profile fails
 * before anything exists; loading is the last step before execve. Loading
 * is done with seccomp(2) rather than seccomp_load() so no libseccomp state
 * has to live in the child, and so we choose the flags (NEW_LISTENER for
 * SCMP_ACT_NOTIFY).
 *
 * Rule semantics follow Docker and runc, so a profile behaves as it does
 * under docker run:
 *   - includes/excludes: caps (all included caps granted, no excluded cap
 *     granted) and arches (Docker's short name of the native architecture);
 *   - a rule whose action equals the default action is skipped (libseccomp
 *     refuses it, and it changes nothing);
 *   - unknown syscall names are skipped, with a debug message;
 *   - several comparisons on the same argument index become separate rules
 *     (an OR), as runc does; comparisons on distinct indexes are ANDed;
 *   - a syscall newer than all the profile names gets ENOSYS, as runc does.
 *
 * Each architecture is compiled alone (in parallel) and joined behind a
 * small dispatcher (see stitch): libseccomp is several times slower on one
 * multi-architecture filter, and start time matters. Two checks of ours run
 * before each architecture's program (see add_prologue). */
#include "sandbox/seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

/* Docker's name for the native architecture, for includes/excludes.arches. */
#if defined(__x86_64__) && defined(__ILP32__)
#define NATIVE_DOCKER_ARCH "x32"
#elif defined(__x86_64__)
#define NATIVE_DOCKER_ARCH "amd64"
#elif defined(__i386__)
#define NATIVE_DOCKER_ARCH "x86"
#elif defined(__aarch64__)
#define NATIVE_DOCKER_ARCH "arm64"
#elif defined(__arm__)
#define NATIVE_DOCKER_ARCH "arm"
#elif defined(__s390x__)
#define NATIVE_DOCKER_ARCH "s390x"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_DOCKER_ARCH "ppc64le"
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_DOCKER_ARCH "riscv64"
#else
#define NATIVE_DOCKER_ARCH "unknown"
#endif

static const enum scmp_compare op_map[] = {
    [CM_SCMP_CMP_NE] = SCMP_CMP_NE, [CM_SCMP_CMP_LT] = SCMP_CMP_LT,
    [CM_SCMP_CMP_LE] = SCMP_CMP_LE, [CM_SCMP_CMP_EQ] = SCMP_CMP_EQ,
    [CM_SCMP_CMP_GE] = SCMP_CMP_GE, [CM_SCMP_CMP_GT] = SCMP_CMP_GT,
    [CM_SCMP_CMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

/* x32 syscall numbers carry this bit (and x32 shares x86_64's arch). */
#define X32_SYSCALL_BIT 0x40000000u

static void ctx_releasep(scmp_filter_ctx *ctx)
{
    if (*ctx)
        seccomp_release(*ctx);
}

static uint32_t to_scmp_action(enum cm_scmp_action a, int errno_ret, int default_errno)
{
    switch (a) {
    case CM_SCMP_KILL_PROCESS: return SCMP_ACT_KILL_PROCESS;
    case CM_SCMP_KILL_THREAD: return SCMP_ACT_KILL_THREAD;
    case CM_SCMP_TRAP: return SCMP_ACT_TRAP;
    case CM_SCMP_ERRNO: return SCMP_ACT_ERRNO((uint16_t)(errno_ret >= 0 ? errno_ret : default_errno));
    /* TRACE without errnoRet: runc passes EPERM as the tracer's message. */
    case CM_SCMP_TRACE: return SCMP_ACT_TRACE((uint16_t)(errno_ret >= 0 ? errno_ret : default_errno));
    case CM_SCMP_ALLOW: return SCMP_ACT_ALLOW;
    case CM_SCMP_LOG: return SCMP_ACT_LOG;
    case CM_SCMP_NOTIFY: return SCMP_ACT_NOTIFY;
    }
    return SCMP_ACT_KILL_PROCESS;
}

static bool strv_contains(char *const *v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

/* Docker's includes/excludes, against the granted caps and native arch. */
static bool rule_applies(const struct cm_scmp_rule *r, uint64_t granted_caps)
{
    if (r->exclude_arches && strv_contains(r->exclude_arches, NATIVE_DOCKER_ARCH))
        return false;
    if (r->has_exclude_caps && (granted_caps & r->exclude_caps))
        return false;
    if (r->include_arches && !strv_contains(r->include_arches, NATIVE_DOCKER_ARCH))
        return false;
    if (r->has_include_caps && (granted_caps & r->include_caps) != r->include_caps)
        return false;
    return true;
}

/* "SCMP_ARCH_X86_64" -> libseccomp token; 0 when unknown here. */
static uint32_t arch_token(const char *name)
{
    if (strcmp(name, "SCMP_ARCH_NATIVE") == 0)
        return seccomp_arch_native();
    if (strncmp(name, "SCMP_ARCH_", 10) != 0)
        return 0;
    char lower[32];
    size_t i = 0;
    for (const char *p = name + 10; *p && i < sizeof(lower) - 1; p++)
        lower[i++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    lower[i] = '\0';
    return seccomp_arch_resolve_name(lower);
}

static bool args_share_index(const struct cm_scmp_rule *r)
{
    unsigned seen = 0;
    for (size_t i = 0; i < r->n_args; i++) {
        if (seen & (1u << r->args[i].index))
            return true;
        seen |= 1u << r->args[i].index;
    }
    return false;
}

static struct scmp_arg_cmp to_cmp(const struct cm_scmp_arg *a)
{
    struct scmp_arg_cmp c = {
        .arg = a->index,
        .op = op_map[a->op],
        .datum_a = a->value,
        .datum_b = a->op == CM_SCMP_CMP_MASKED_EQ ? a->value_two : 0,
    };
    return c;
}

static int add_rule(scmp_filter_ctx ctx, const struct cm_scmp_rule *r, uint32_t action,
                    struct cm_error *err)
{
    /* Without a shared index there are at most six comparisons. */
    struct scmp_arg_cmp cmps[6];
    bool split = args_share_index(r);
    if (!split)
        for (size_t i = 0; i < r->n_args; i++)
            cmps[i] = to_cmp(&r->args[i]);

    for (size_t n = 0; r->names && r->names[n]; n++) {
        const char *name = r->names[n];
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR) {
            cm_debug("seccomp: skipping unknown syscall %s", name);
            continue;
        }
        int rc = 0;
        if (split) {
            for (size_t i = 0; i < r->n_args && rc >= 0; i++) {
                struct scmp_arg_cmp one = to_cmp(&r->args[i]);
                rc = seccomp_rule_add_array(ctx, action, nr, 1, &one);
            }
        } else {
            rc = seccomp_rule_add_array(ctx, action, nr, (unsigned)r->n_args, cmps);
        }
        if (rc < 0)
            return cm_err_set(err, -rc, "adding seccomp rule %s for %s",
                              cm_scmp_action_name(r->action), name);
    }
    return 0;
}

/* Export a filter: libseccomp 2.5 can only write to an fd, a memfd keeps it
 * in memory. */
static int export_bpf(scmp_filter_ctx ctx, struct sock_filter **insns, size_t *len,
                      struct cm_error *err)
{
    _cleanup_close_ int fd = memfd_create("casemate-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return cm_err_sys(err, "exporting the seccomp filter: memfd_create");
    int rc = seccomp_export_bpf(ctx, fd);
    if (rc < 0)
        return cm_err_set(err, -rc, "exporting the seccomp filter");
    struct stat st;
    if (fstat(fd, &st) < 0)
        return cm_err_sys(err, "exporting the seccomp filter");
    size_t size = (size_t)st.st_size;
    if (size == 0 || size % sizeof(struct sock_filter) ||
        size / sizeof(struct sock_filter) > BPF_MAXINSNS)
        return cm_err_set(err, E2BIG, "the seccomp filter has %zu instructions (at most %d)",
                          size / sizeof(struct sock_filter), BPF_MAXINSNS);
    _cleanup_free_ struct sock_filter *buf = malloc(size);
    if (!buf)
        return cm_err_set(err, ENOMEM, "exporting the seccomp filter");
    size_t done = 0;
    while (done < size) {
        ssize_t n = pread(fd, (char *)buf + done, size - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? cm_err_sys(err, "reading back the seccomp filter")
                         : cm_err_set(err, EIO, "reading back the seccomp filter: short read");
        done += (size_t)n;
    }
    *insns = TAKE_PTR(buf);
    *len = size / sizeof(struct sock_filter);
    return 0;
}

/* socketcall(2) (32-bit x86 and a few others) carries socket()'s
 * arguments in memory, where seccomp cannot read them. When a rule allows
 * socket() only for some arguments, libseccomp also allows
 * socketcall(SYS_SOCKET) whatever they are (Docker's AF_VSOCK rule has this
 * hole on x86). So when a profile denies by default and allows socket() on
 * conditions, socketcall(SYS_SOCKET) gets the default action: 32-bit
 * programs must use socket(2), which the conditions do filter. */
#define SYS_SOCKETCALL_SOCKET 1

static bool needs_socketcall_guard(const struct cm_seccomp_profile *profile,
                                   uint64_t granted_caps, uint32_t arch)
{
    if (seccomp_syscall_resolve_name_arch(arch, "socketcall") < 0)
        return false;
    if (profile->default_action == CM_SCMP_ALLOW || profile->default_action == CM_SCMP_LOG)
        return false;
    for (size_t i = 0; i < profile->n_rules; i++) {
        const struct cm_scmp_rule *r = &profile->rules[i];
        if (r->n_args && (r->action == CM_SCMP_ALLOW || r->action == CM_SCMP_LOG) &&
            strv_contains(r->names, "socket") && rule_applies(r, granted_caps))
            return true;
    }
    return false;
}

/* The highest syscall number, on this architecture, of any name in the
 * profile; -1 when none resolves. */
static int highest_named_nr(const struct cm_seccomp_profile *profile, uint32_t arch)
{
    int max = -1;
    for (size_t i = 0; i < profile->n_rules; i++)
        for (char **n = profile->rules[i].names; n && *n; n++) {
            int nr = seccomp_syscall_resolve_name_arch(arch, *n);
            if (nr > max)
                max = nr;
        }
    return max;
}

static bool denies_by_default(const struct cm_seccomp_profile *profile)
{
    switch (profile->default_action) {
    case CM_SCMP_ERRNO:
    case CM_SCMP_KILL_PROCESS:
    case CM_SCMP_KILL_THREAD:
    case CM_SCMP_TRAP:
        return true;
    default:
        return false;
    }
}

/* Checks that run before libseccomp's program for one architecture:
 *  - newer syscalls get ENOSYS: a deny-by-default profile answers EPERM to
 *    anything it does not name, but for a syscall newer than every one it
 *    names (and than this libseccomp, maybe) ENOSYS is right, as runc does:
 *    libc then falls back to the older call (glibc's fchmodat2 to fchmodat)
 *    where EPERM would be a hard failure. The call stays refused;
 *  - the socketcall guard (see needs_socketcall_guard). */
static int add_prologue(const struct cm_seccomp_profile *profile, uint64_t granted_caps,
                        uint32_t arch, uint32_t def_action, struct sock_filter **insns,
                        size_t *len, struct cm_error *err)
{
    struct sock_filter pro[16];
    size_t n = 0;
    int max = denies_by_default(profile) ? highest_named_nr(profile, arch) : -1;
    if (max >= 0) {
        pro[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                                offsetof(struct seccomp_data, nr));
        /* x32 numbers (and -1) reaching the x86_64 program are its own to
         * judge: it kills them as a foreign ABI. */
        if (arch == SCMP_ARCH_X86_64)
            pro[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT,
                                                    2, 0);
        pro[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)max, 0, 1);
        pro[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
    }
    if (needs_socketcall_guard(profile, granted_caps, arch)) {
        int nr = seccomp_syscall_resolve_name_arch(arch, "socketcall");
        /* The low 32 bits of args[0]: first on little-endian ABIs. */
        uint32_t a0_lo = (uint32_t)offsetof(struct seccomp_data, args[0]) +
                         ((arch & 0x40000000u /* __AUDIT_ARCH_LE */) ? 0 : 4);
        pro[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                                offsetof(struct seccomp_data, nr));
        pro[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 3);
        pro[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, a0_lo);
        pro[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                                SYS_SOCKETCALL_SOCKET, 0, 1);
        pro[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, def_action);
    }
    if (n == 0)
        return 0;
    size_t total = n + *len;
    if (total > BPF_MAXINSNS)
        return cm_err_set(err, E2BIG, "the seccomp filter has %zu instructions (at most %d)",
                          total, BPF_MAXINSNS);
    struct sock_filter *all = malloc(total * sizeof(*all));
    if (!all)
        return cm_err_set(err, ENOMEM, "compiling the seccomp filter");
    memcpy(all, pro, n * sizeof(*all));
    memcpy(all + n, *insns, *len * sizeof(*all));
    free(*insns);
    *insns = all;
    *len = total;
    return 0;
}

/* One architecture's filter, compiled on its own. */
static int compile_arch(const struct cm_seccomp_profile *profile, uint64_t granted_caps,
                        uint32_t arch, struct sock_filter **insns, size_t *len, bool *notify,
                        struct cm_error *err)
{
    uint32_t def = to_scmp_action(profile->default_action, -1, profile->default_errno);
    _cleanup_(ctx_releasep) scmp_filter_ctx ctx = seccomp_init(def);
    if (!ctx)
        return cm_err_set(err, EINVAL, "creating the seccomp filter: default action %s refused",
                          cm_scmp_action_name(profile->default_action));

    /* We load with seccomp(2) ourselves: no NNP from libseccomp, raw kernel
     * error codes. The native ABI gets the binary-tree layout (per-syscall
     * cost logarithmic in a 400-syscall allowlist, at +0.3 ms of compile);
     * the compat ABIs, rarely used, keep the cheaper linear one. */
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
    /* A foreign ABI kills the whole process, not just the thread. */
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE,
                              arch == seccomp_arch_native() ? 2 : 1);
    if (rc == 0 && arch != seccomp_arch_native()) {
        rc = seccomp_arch_add(ctx, arch);
        if (rc == 0)
            rc = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE);
    }
    if (rc < 0)
        return cm_err_set(err, -rc, "configuring the seccomp filter");

    for (size_t i = 0; i < profile->n_rules; i++) {
        const struct cm_scmp_rule *r = &profile->rules[i];
        if (!rule_applies(r, granted_caps))
            continue;
        uint32_t action = to_scmp_action(r->action, r->errno_ret, profile->default_errno);
        if (action == def)
            continue;
        if (add_rule(ctx, r, action, err) < 0)
            return cm_err_prefix(err, "compiling syscalls[%zu]", i);
        *notify |= r->action == CM_SCMP_NOTIFY;
    }
    if (export_bpf(ctx, insns, len, err) < 0)
        return -1;
    return add_prologue(profile, granted_caps, arch, def, insns, len, err);
}

/* The value the kernel puts in seccomp_data.arch. libseccomp's tokens are
 * those AUDIT_ARCH_* values, except x32, which shares x86_64's and is told
 * apart by the X32 bit of the syscall number. */

static uint32_t audit_arch(uint32_t token)
{
    return token == SCMP_ARCH_X32 ? SCMP_ARCH_X86_64 : token;
}

#define MAX_ARCHES 20 /* every architecture libseccomp knows */

struct arch_prog {
    uint32_t token;
    struct sock_filter *insns;
    size_t len;
    size_t offset; /* where it starts in the stitched program */
};

static void arch_progs_free(struct arch_prog *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(p[i].insns);
}

/* libseccomp's BPF generator slows down sharply with each architecture in a
 * filter (Docker's x86_64+x86+x32 profile took 10 ms to export, against
 * about 1.2 ms per architecture alone), so each architecture is compiled on
 * its own and the programs are joined behind a small dispatcher on
 * seccomp_data.arch (and the x32 bit). Classic BPF jumps are relative and
 * every path of a libseccomp program ends in a return, so each program
 * works unchanged at any offset; each still checks its own architecture. */
static int stitch(struct arch_prog *progs, size_t n, struct sock_filter **out, size_t *out_len,
                  struct cm_error *err)
{
    size_t x32 = n, x86_64 = n;
    for (size_t i = 0; i < n; i++) {
        if (progs[i].token == SCMP_ARCH_X32)
            x32 = i;
        if (progs[i].token == SCMP_ARCH_X86_64)
            x86_64 = i;
    }
    bool split_x32 = x32 < n && x86_64 < n;

    /* Dispatcher size: 3 instructions per architecture (6 for x86_64 when
     * it also routes x32), and the final kill. */
    size_t head_len = 1;
    for (size_t i = 0; i < n; i++)
        if (!(split_x32 && i == x32))
            head_len += split_x32 && i == x86_64 ? 6 : 3;
    size_t total = head_len;
    for (size_t i = 0; i < n; i++) {
        progs[i].offset = total;
        total += progs[i].len;
    }
    if (total > BPF_MAXINSNS)
        return cm_err_set(err, E2BIG, "the seccomp filter has %zu instructions (at most %d)",
                          total, BPF_MAXINSNS);

    _cleanup_free_ struct sock_filter *all = malloc(total * sizeof(*all));
    if (!all)
        return cm_err_set(err, ENOMEM, "joining the seccomp filter");
    size_t h = 0;
#define EMIT(code, k, jt, jf) (all[h] = (struct sock_filter)BPF_JUMP((code), (k), (jt), (jf)), h++)
#define JA_TO(target) EMIT(BPF_JMP | BPF_JA, (uint32_t)((target) - (h + 1)), 0, 0)
    for (size_t i = 0; i < n; i++) {
        if (split_x32 && i == x32)
            continue; /* reached through x86_64's entry */
        EMIT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), 0, 0);
        if (split_x32 && i == x86_64) {
            /* arch == x86_64: the x32 bit picks the x32 or x86_64 program */
            EMIT(BPF_JMP | BPF_JEQ | BPF_K, audit_arch(progs[i].token), 0, 4);
            EMIT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0);
            EMIT(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1);
            JA_TO(progs[x32].offset);
            JA_TO(progs[i].offset);
        } else {
            EMIT(BPF_JMP | BPF_JEQ | BPF_K, audit_arch(progs[i].token), 0, 1);
            JA_TO(progs[i].offset);
        }
    }
#undef JA_TO
#undef EMIT
    /* An ABI the profile does not list: kill, as libseccomp does. */
    all[h++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    for (size_t i = 0; i < n; i++)
        memcpy(all + progs[i].offset, progs[i].insns, progs[i].len * sizeof(*all));
    *out = TAKE_PTR(all);
    *out_len = total;
    return 0;
}

struct arch_job {
    const struct cm_seccomp_profile *profile;
    uint64_t caps;
    struct arch_prog *prog;
    bool notify;
    int rc;
    struct cm_error err;
};

static void *arch_job_run(void *arg)
{
    struct arch_job *j = arg;
    j->rc = compile_arch(j->profile, j->caps, j->prog->token, &j->prog->insns, &j->prog->len,
                         &j->notify, &j->err);
    return NULL;
}

#if defined(__x86_64__)
/* Whether this kernel runs x32 programs (CONFIG_X86_X32_ABI, often off).
 * When it does not, the x32 filter is dead weight (a third of the compile
 * time): x32 numbers then reach the x86_64 program, which kills them as a
 * foreign ABI, where the kernel would have answered ENOSYS. The probe is
 * one x32 getpid, made only when no seccomp filter is already on us (a
 * filter that kills foreign ABIs, like systemd's SystemCallArchitectures=,
 * would kill casemate); under a filter, assume x32 runs. */
static bool kernel_runs_x32(void)
{
    static int cached = -1;
    if (cached < 0) {
        if (prctl(PR_GET_SECCOMP, 0UL, 0UL, 0UL, 0UL) != 0)
            cached = 1;
        else
            cached = !(syscall(X32_SYSCALL_BIT | SYS_getpid) < 0 && errno == ENOSYS);
    }
    return cached;
}
#endif

int cm_seccomp_compile(const struct cm_seccomp_profile *profile, uint64_t granted_caps,
                       struct cm_seccomp_bpf *out, struct cm_error *err)
{
    memset(out, 0, sizeof(*out));

    /* The native architecture always, then the profile's, as runc does. */
    uint32_t tokens[MAX_ARCHES] = { seccomp_arch_native() };
    size_t n = 1;
    for (size_t i = 0; profile->architectures && profile->architectures[i]; i++) {
        uint32_t token = arch_token(profile->architectures[i]);
        if (!token)
            return cm_err_set(err, EINVAL, "architecture %s is not supported by libseccomp",
                              profile->architectures[i]);
        bool dup = false;
        for (size_t j = 0; j < n; j++)
            dup |= tokens[j] == token;
        if (dup)
            continue;
#if defined(__x86_64__)
        if (token == SCMP_ARCH_X32 && !kernel_runs_x32()) {
            cm_debug("seccomp: this kernel has no x32 ABI; x32 syscalls will be killed");
            continue;
        }
#endif
        if (n == MAX_ARCHES)
            return cm_err_set(err, E2BIG, "too many architectures in the seccomp profile");
        tokens[n++] = token;
    }

    struct arch_prog progs[MAX_ARCHES] = { 0 };
    struct arch_job jobs[MAX_ARCHES] = { 0 };
    for (size_t i = 0; i < n; i++) {
        progs[i].token = tokens[i];
        jobs[i] = (struct arch_job){ .profile = profile, .caps = granted_caps, .prog = &progs[i] };
    }
    /* The architectures compile independently (separate libseccomp
     * contexts), so the compat ones run in threads beside the native one:
     * start time is what users wait for. A thread that cannot be started
     * just means compiling that architecture here. */
    pthread_t threads[MAX_ARCHES];
    bool started[MAX_ARCHES] = { false };
    for (size_t i = 1; i < n; i++)
        started[i] = pthread_create(&threads[i], NULL, arch_job_run, &jobs[i]) == 0;
    arch_job_run(&jobs[0]);
    for (size_t i = 1; i < n; i++) {
        if (started[i])
            pthread_join(threads[i], NULL);
        else
            arch_job_run(&jobs[i]);
    }
    bool notify = false;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        notify |= jobs[i].notify;
        if (jobs[i].rc < 0) {
            *err = jobs[i].err;
            rc = -1;
        }
    }
    /* Even one architecture goes behind the dispatcher: the prologues
     * must only see their own ABI's syscall numbers. */
    if (rc == 0) {
        struct sock_filter *all = NULL;
        size_t len = 0;
        rc = stitch(progs, n, &all, &len, err);
        out->insns = all;
        out->len = (unsigned short)len;
    }
    arch_progs_free(progs, n);
    if (rc < 0)
        return -1;
    out->flags = profile->flags;
    out->notify = notify;
    return 0;
}

int cm_seccomp_load(const struct cm_seccomp_bpf *bpf, struct cm_error *err)
{
    struct sock_fprog prog = { .len = bpf->len, .filter = bpf->insns };
    unsigned flags = bpf->flags;
    if (bpf->notify) {
        /* TSYNC and NEW_LISTENER cannot be combined (the return value would
         * be ambiguous); the container process is single-threaded here. */
        flags &= ~(unsigned)SECCOMP_FILTER_FLAG_TSYNC;
        flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    }
    long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (rc < 0) {
        if (errno == EACCES)
            return cm_err_sys(err, "loading the seccomp filter (no_new_privs is not set and "
                                   "CAP_SYS_ADMIN is not held)");
        return cm_err_sys(err, "loading the seccomp filter");
    }
    return bpf->notify ? (int)rc : 0;
}

void cm_seccomp_bpf_free(struct cm_seccomp_bpf *bpf)
{
    if (!bpf)
        return;
    free(bpf->insns);
    bpf->insns = NULL;
    bpf->len = 0;
}
