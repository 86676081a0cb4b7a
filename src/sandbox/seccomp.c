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
 *     (an OR), as runc does; comparisons on distinct indexes are ANDed. */
#include "sandbox/seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

static int add_arches(scmp_filter_ctx ctx, char *const *arches, struct cm_error *err)
{
    for (size_t i = 0; arches && arches[i]; i++) {
        uint32_t token = arch_token(arches[i]);
        if (!token)
            return cm_err_set(err, EINVAL, "architecture %s is not supported by libseccomp",
                              arches[i]);
        int rc = seccomp_arch_add(ctx, token);
        if (rc < 0 && rc != -EEXIST)
            return cm_err_set(err, -rc, "adding architecture %s to the seccomp filter",
                              arches[i]);
    }
    return 0;
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

int cm_seccomp_compile(const struct cm_seccomp_profile *profile, uint64_t granted_caps,
                       struct cm_seccomp_bpf *out, struct cm_error *err)
{
    memset(out, 0, sizeof(*out));
    uint32_t def = to_scmp_action(profile->default_action, -1, profile->default_errno);
    _cleanup_(ctx_releasep) scmp_filter_ctx ctx = seccomp_init(def);
    if (!ctx)
        return cm_err_set(err, EINVAL, "creating the seccomp filter: default action %s refused",
                          cm_scmp_action_name(profile->default_action));

    /* We load with seccomp(2) ourselves: no NNP from libseccomp, and raw
     * kernel error codes in its return values. The binary-tree layout keeps
     * the per-syscall cost logarithmic in a 400-syscall allowlist. */
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 1);
    if (rc < 0)
        return cm_err_set(err, -rc, "configuring the seccomp filter");
    if (add_arches(ctx, profile->architectures, err) < 0)
        return -1;

    bool notify = false;
    for (size_t i = 0; i < profile->n_rules; i++) {
        const struct cm_scmp_rule *r = &profile->rules[i];
        if (!rule_applies(r, granted_caps))
            continue;
        uint32_t action = to_scmp_action(r->action, r->errno_ret, profile->default_errno);
        if (action == def)
            continue;
        if (add_rule(ctx, r, action, err) < 0)
            return cm_err_prefix(err, "compiling syscalls[%zu]", i);
        notify |= r->action == CM_SCMP_NOTIFY;
    }

    /* libseccomp 2.5 can only export to an fd; a memfd keeps it in memory. */
    _cleanup_close_ int fd = memfd_create("casemate-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return cm_err_sys(err, "exporting the seccomp filter: memfd_create");
    rc = seccomp_export_bpf(ctx, fd);
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
    _cleanup_free_ struct sock_filter *insns = malloc(size);
    if (!insns)
        return cm_err_set(err, ENOMEM, "exporting the seccomp filter");
    size_t done = 0;
    while (done < size) {
        ssize_t n = pread(fd, (char *)insns + done, size - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? cm_err_sys(err, "reading back the seccomp filter")
                         : cm_err_set(err, EIO, "reading back the seccomp filter: short read");
        done += (size_t)n;
    }

    out->insns = TAKE_PTR(insns);
    out->len = (unsigned short)(size / sizeof(struct sock_filter));
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
