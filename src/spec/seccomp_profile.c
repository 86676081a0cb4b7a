/* seccomp_profile.c: read seccomp profiles in Docker's JSON format and the
 * OCI runtime-spec format into struct cm_seccomp_profile.
 *
 * Both formats share defaultAction/syscalls; Docker adds archMap, "name",
 * includes/excludes and comments, OCI adds flags and the listener fields.
 * As Docker does, unknown keys are ignored (profiles written for newer
 * Dockers still load), but a known key with a wrong type or value is an
 * error naming the file and the JSON path: a typo in a security profile must
 * not silently widen it.
 *
 * Two Docker features are resolved here because they depend only on the
 * host: archMap picks the entry for the native architecture, and
 * includes/excludes.minKernel keep or drop the rule for the running kernel.
 * Capability and architecture conditions stay in the rule (the granted caps
 * are only known when the container starts). */
#include "spec/seccomp_profile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "sandbox/caps.h"
#include "util/cleanup.h"

/* Profiles are small (Docker's default is 20 KiB); refuse absurd files. */
#define PROFILE_MAX_BYTES (4u << 20)
#define PATH_MAX_LEN 128

static const struct {
    const char *name;
    enum cm_scmp_action action;
} action_names[] = {
    { "SCMP_ACT_KILL", CM_SCMP_KILL_THREAD }, /* libseccomp: KILL == KILL_THREAD */
    { "SCMP_ACT_KILL_THREAD", CM_SCMP_KILL_THREAD },
    { "SCMP_ACT_KILL_PROCESS", CM_SCMP_KILL_PROCESS },
    { "SCMP_ACT_TRAP", CM_SCMP_TRAP },
    { "SCMP_ACT_ERRNO", CM_SCMP_ERRNO },
    { "SCMP_ACT_TRACE", CM_SCMP_TRACE },
    { "SCMP_ACT_ALLOW", CM_SCMP_ALLOW },
    { "SCMP_ACT_LOG", CM_SCMP_LOG },
    { "SCMP_ACT_NOTIFY", CM_SCMP_NOTIFY },
};

static const char *const op_names[] = {
    [CM_SCMP_CMP_NE] = "SCMP_CMP_NE", [CM_SCMP_CMP_LT] = "SCMP_CMP_LT",
    [CM_SCMP_CMP_LE] = "SCMP_CMP_LE", [CM_SCMP_CMP_EQ] = "SCMP_CMP_EQ",
    [CM_SCMP_CMP_GE] = "SCMP_CMP_GE", [CM_SCMP_CMP_GT] = "SCMP_CMP_GT",
    [CM_SCMP_CMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

/* The architectures libseccomp knows, as the JSON spells them. */
static const char *const arch_names[] = {
    "SCMP_ARCH_NATIVE",  "SCMP_ARCH_X86",       "SCMP_ARCH_X86_64",  "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",     "SCMP_ARCH_AARCH64",   "SCMP_ARCH_MIPS",    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",     "SCMP_ARCH_PPC64",     "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",   "SCMP_ARCH_PARISC",    "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
};

/* OCI "flags": SECCOMP_FILTER_FLAG_* (linux/seccomp.h values). */
static const struct {
    const char *name;
    unsigned value;
} flag_names[] = {
    { "SECCOMP_FILTER_FLAG_TSYNC", 1u << 0 },
    { "SECCOMP_FILTER_FLAG_LOG", 1u << 1 },
    { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", 1u << 2 },
    { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1u << 5 },
};

#if defined(__x86_64__)
#define NATIVE_SCMP_ARCH "SCMP_ARCH_X86_64"
#elif defined(__aarch64__)
#define NATIVE_SCMP_ARCH "SCMP_ARCH_AARCH64"
#elif defined(__i386__)
#define NATIVE_SCMP_ARCH "SCMP_ARCH_X86"
#elif defined(__arm__)
#define NATIVE_SCMP_ARCH "SCMP_ARCH_ARM"
#elif defined(__s390x__)
#define NATIVE_SCMP_ARCH "SCMP_ARCH_S390X"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_SCMP_ARCH "SCMP_ARCH_PPC64LE"
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_SCMP_ARCH "SCMP_ARCH_RISCV64"
#else
#define NATIVE_SCMP_ARCH "SCMP_ARCH_NATIVE"
#endif

const char *cm_scmp_action_name(enum cm_scmp_action a)
{
    switch (a) {
    case CM_SCMP_KILL_PROCESS: return "SCMP_ACT_KILL_PROCESS";
    case CM_SCMP_KILL_THREAD: return "SCMP_ACT_KILL_THREAD";
    case CM_SCMP_TRAP: return "SCMP_ACT_TRAP";
    case CM_SCMP_ERRNO: return "SCMP_ACT_ERRNO";
    case CM_SCMP_TRACE: return "SCMP_ACT_TRACE";
    case CM_SCMP_ALLOW: return "SCMP_ACT_ALLOW";
    case CM_SCMP_LOG: return "SCMP_ACT_LOG";
    case CM_SCMP_NOTIFY: return "SCMP_ACT_NOTIFY";
    }
    return "SCMP_ACT_UNKNOWN";
}

static void rule_free(struct cm_scmp_rule *r)
{
    cm_strv_free(r->names);
    free(r->args);
    cm_strv_free(r->include_arches);
    cm_strv_free(r->exclude_arches);
}

void cm_seccomp_profile_free(struct cm_seccomp_profile *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_rules; i++)
        rule_free(&p->rules[i]);
    free(p->rules);
    cm_strv_free(p->architectures);
    free(p->listener_path);
    free(p->listener_metadata);
    free(p);
}

static void profile_freep(struct cm_seccomp_profile **p) { cm_seccomp_profile_free(*p); }
static void cm_json_decrefp(json_t **j)
{
    if (*j)
        json_decref(*j);
}

/* Parsing context: the origin for messages, and the error to fill. */
struct ctx {
    const char *origin;
    struct cm_error *err;
};

static int fail(struct ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, const char *path, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    cm_err_set(c->err, 0, "%s: %s: %s", c->origin, path, what);
    if (c->err)
        c->err->errnum = EINVAL;
    return -1;
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

/* Field of an object; JSON null counts as absent, as in Go's decoder. */
static json_t *field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return v && !json_is_null(v) ? v : NULL;
}

static int want_string(struct ctx *c, const char *path, json_t *v, const char **out)
{
    if (!json_is_string(v))
        return fail(c, path, "expected a string, got %s", json_kind(v));
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return fail(c, path, "string contains a NUL byte");
    *out = s;
    return 0;
}

static int want_u64(struct ctx *c, const char *path, json_t *v, uint64_t max, uint64_t *out)
{
    if (!json_is_integer(v))
        return fail(c, path, "expected a non-negative integer, got %s", json_kind(v));
    json_int_t n = json_integer_value(v);
    if (n < 0 || (uint64_t)n > max)
        return fail(c, path, "%" JSON_INTEGER_FORMAT " is out of range (0 to %" PRIu64 ")",
                    n, max);
    *out = (uint64_t)n;
    return 0;
}

/* An array of strings (or null) into a NULL-terminated strv; empty -> NULL. */
static int want_strv(struct ctx *c, const char *path, json_t *v, char ***out)
{
    *out = NULL;
    if (!v)
        return 0;
    if (!json_is_array(v))
        return fail(c, path, "expected an array of strings, got %s", json_kind(v));
    size_t n = json_array_size(v);
    if (n == 0)
        return 0;
    _cleanup_strv_ char **strv = calloc(n + 1, sizeof(char *));
    if (!strv)
        return cm_err_set(c->err, ENOMEM, "%s: %s", c->origin, path);
    for (size_t i = 0; i < n; i++) {
        char sub[PATH_MAX_LEN + 16];
        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        const char *s = NULL;
        if (want_string(c, sub, json_array_get(v, i), &s) < 0)
            return -1;
        strv[i] = strdup(s);
        if (!strv[i])
            return cm_err_set(c->err, ENOMEM, "%s: %s", c->origin, sub);
    }
    *out = TAKE_PTR(strv);
    return 0;
}

static int parse_action(struct ctx *c, const char *path, json_t *v, enum cm_scmp_action *out)
{
    const char *s = NULL;
    if (want_string(c, path, v, &s) < 0)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(action_names); i++) {
        if (strcmp(s, action_names[i].name) == 0) {
            *out = action_names[i].action;
            return 0;
        }
    }
    return fail(c, path, "unknown action \"%s\"", s);
}

static int parse_errno(struct ctx *c, const char *path, json_t *v, int *out)
{
    uint64_t n = 0;
    /* 4095 is the kernel's MAX_ERRNO: larger SECCOMP_RET_DATA is clamped. */
    if (want_u64(c, path, v, 4095, &n) < 0)
        return -1;
    *out = (int)n;
    return 0;
}

static bool arch_known(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(arch_names); i++)
        if (strcmp(name, arch_names[i]) == 0)
            return true;
    return false;
}

/* includes/excludes.arches use Docker's short names (Go's GOARCH family). */
static const char *const docker_arch_names[] = {
    "x86",    "amd64",       "x32",    "arm",   "arm64", "mips",  "mipsle",
    "mips64", "mips64n32",   "mipsel64", "mips3l64n32", "ppc", "ppc64", "ppc64le",
    "s390",   "s390x",       "riscv64", "loong64", "parisc", "parisc64",
};

static int check_docker_arches(struct ctx *c, const char *path, char **arches)
{
    for (size_t i = 0; arches && arches[i]; i++) {
        bool found = false;
        for (size_t j = 0; j < ARRAY_SIZE(docker_arch_names) && !found; j++)
            found = strcmp(arches[i], docker_arch_names[j]) == 0;
        if (!found) {
            char sub[PATH_MAX_LEN + 48];
            snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
            return fail(c, sub, "unknown architecture \"%s\"", arches[i]);
        }
    }
    return 0;
}

static int check_arches(struct ctx *c, const char *path, char **arches)
{
    for (size_t i = 0; arches && arches[i]; i++)
        if (!arch_known(arches[i])) {
            char sub[PATH_MAX_LEN + 16];
            snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
            return fail(c, sub, "unknown architecture \"%s\"", arches[i]);
        }
    return 0;
}

/* "4.8", "5.10.3", "6.1-rc2" -> comparable number (Docker's ParseRelease
 * also ignores a flavour suffix). */
static int parse_kernel_version(const char *s, uint64_t *out)
{
    unsigned major = 0, minor = 0, patch = 0;
    int used = 0;
    if (sscanf(s, "%5u.%5u%n", &major, &minor, &used) != 2 || s[0] < '0' || s[0] > '9')
        return -1;
    if (s[used] == '.' && sscanf(s + used, ".%5u", &patch) != 1)
        return -1;
    if (major > 0xffff || minor > 0xffff || patch > 0xffff)
        return -1;
    *out = ((uint64_t)major << 32) | ((uint64_t)minor << 16) | patch;
    return 0;
}

static int running_kernel(uint64_t *out)
{
    struct utsname u;
    if (uname(&u) < 0)
        return -1;
    /* "6.18.0-1-amd64": keep the leading digits and dots. */
    char buf[sizeof(u.release)];
    size_t i = 0;
    for (; u.release[i] && (u.release[i] == '.' || (u.release[i] >= '0' && u.release[i] <= '9'));
         i++)
        buf[i] = u.release[i];
    buf[i] = '\0';
    while (i > 0 && buf[i - 1] == '.')
        buf[--i] = '\0';
    return parse_kernel_version(buf, out);
}

/* Docker's includes/excludes: caps, arches, minKernel. *keep is set false
 * when the minKernel condition removes the rule on this kernel. */
static int parse_filter(struct ctx *c, const char *path, json_t *v, bool include,
                        struct cm_scmp_rule *r, bool *keep)
{
    if (!v)
        return 0;
    if (!json_is_object(v))
        return fail(c, path, "expected an object, got %s", json_kind(v));
    char sub[PATH_MAX_LEN + 32];

    snprintf(sub, sizeof(sub), "%s.caps", path);
    _cleanup_strv_ char **caps = NULL;
    if (want_strv(c, sub, field(v, "caps"), &caps) < 0)
        return -1;
    uint64_t mask = 0;
    for (size_t i = 0; caps && caps[i]; i++) {
        int cap = cm_cap_from_name(caps[i]);
        /* Docker compares the exact "CAP_X" spelling; anything else would
         * never match there, so it is a mistake worth reporting. */
        if (cap < 0 || strcmp(caps[i], cm_cap_name(cap)) != 0) {
            char capp[PATH_MAX_LEN + 48];
            snprintf(capp, sizeof(capp), "%s[%zu]", sub, i);
            return fail(c, capp, "unknown capability \"%s\"", caps[i]);
        }
        mask |= (uint64_t)1 << cap;
    }

    snprintf(sub, sizeof(sub), "%s.arches", path);
    _cleanup_strv_ char **arches = NULL;
    if (want_strv(c, sub, field(v, "arches"), &arches) < 0)
        return -1;

    json_t *mk = field(v, "minKernel");
    if (mk) {
        snprintf(sub, sizeof(sub), "%s.minKernel", path);
        const char *s = NULL;
        uint64_t want = 0, have = 0;
        if (want_string(c, sub, mk, &s) < 0)
            return -1;
        if (parse_kernel_version(s, &want) < 0)
            return fail(c, sub, "invalid kernel version \"%s\"", s);
        if (*s && running_kernel(&have) == 0) {
            /* includes: kept on kernels >= minKernel; excludes: dropped. */
            bool newer = have >= want;
            if (include ? !newer : newer)
                *keep = false;
        }
    }

    if (include) {
        r->include_caps = mask;
        r->has_include_caps = caps != NULL;
        r->include_arches = TAKE_PTR(arches);
    } else {
        r->exclude_caps = mask;
        r->has_exclude_caps = caps != NULL;
        r->exclude_arches = TAKE_PTR(arches);
    }
    return 0;
}

static int parse_op(struct ctx *c, const char *path, json_t *v, enum cm_scmp_op *out)
{
    const char *s = NULL;
    if (want_string(c, path, v, &s) < 0)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(op_names); i++) {
        if (strcmp(s, op_names[i]) == 0) {
            *out = (enum cm_scmp_op)i;
            return 0;
        }
    }
    return fail(c, path, "unknown operator \"%s\"", s);
}

static int parse_args(struct ctx *c, const char *path, json_t *v, struct cm_scmp_rule *r)
{
    if (!v)
        return 0;
    if (!json_is_array(v))
        return fail(c, path, "expected an array, got %s", json_kind(v));
    size_t n = json_array_size(v);
    if (n == 0)
        return 0;
    r->args = calloc(n, sizeof(*r->args));
    if (!r->args)
        return cm_err_set(c->err, ENOMEM, "%s: %s", c->origin, path);
    for (size_t i = 0; i < n; i++) {
        json_t *a = json_array_get(v, i);
        char sub[PATH_MAX_LEN + 48];
        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        if (!json_is_object(a))
            return fail(c, sub, "expected an object, got %s", json_kind(a));
        struct cm_scmp_arg *arg = &r->args[r->n_args];
        char fp[PATH_MAX_LEN + 64];
        uint64_t index = 0;
        json_t *f = field(a, "index");
        snprintf(fp, sizeof(fp), "%s.index", sub);
        /* Go decodes a missing index as 0; keep that. Six syscall args. */
        if (f && want_u64(c, fp, f, 5, &index) < 0)
            return -1;
        arg->index = (unsigned)index;
        snprintf(fp, sizeof(fp), "%s.value", sub);
        if ((f = field(a, "value")) && want_u64(c, fp, f, UINT64_MAX, &arg->value) < 0)
            return -1;
        snprintf(fp, sizeof(fp), "%s.valueTwo", sub);
        if ((f = field(a, "valueTwo")) && want_u64(c, fp, f, UINT64_MAX, &arg->value_two) < 0)
            return -1;
        snprintf(fp, sizeof(fp), "%s.op", sub);
        if (!(f = field(a, "op")))
            return fail(c, fp, "missing");
        if (parse_op(c, fp, f, &arg->op) < 0)
            return -1;
        r->n_args++;
    }
    return 0;
}

/* One entry of "syscalls". *keep false: minKernel rules it out here. */
static int parse_rule(struct ctx *c, size_t idx, json_t *v, struct cm_scmp_rule *r, bool *keep)
{
    char path[PATH_MAX_LEN];
    char sub[PATH_MAX_LEN + 32];
    snprintf(path, sizeof(path), "syscalls[%zu]", idx);
    if (!json_is_object(v))
        return fail(c, path, "expected an object, got %s", json_kind(v));

    r->errno_ret = -1;
    json_t *name = field(v, "name");
    json_t *names = field(v, "names");
    if (name) {
        snprintf(sub, sizeof(sub), "%s.name", path);
        const char *s = NULL;
        if (want_string(c, sub, name, &s) < 0)
            return -1;
        if (*s) {
            if (names && json_is_array(names) && json_array_size(names) > 0)
                return fail(c, path, "both \"name\" and \"names\" given; use one");
            r->names = calloc(2, sizeof(char *));
            if (!r->names || !(r->names[0] = strdup(s)))
                return cm_err_set(c->err, ENOMEM, "%s: %s", c->origin, sub);
        }
    }
    if (!r->names) {
        snprintf(sub, sizeof(sub), "%s.names", path);
        if (want_strv(c, sub, names, &r->names) < 0)
            return -1;
    }
    if (!r->names)
        return fail(c, path, "no syscall name (\"names\" is missing or empty)");
    for (size_t i = 0; r->names[i]; i++)
        if (!r->names[i][0]) {
            snprintf(sub, sizeof(sub), "%s.names[%zu]", path, i);
            return fail(c, sub, "empty syscall name");
        }

    snprintf(sub, sizeof(sub), "%s.action", path);
    json_t *act = field(v, "action");
    if (!act)
        return fail(c, sub, "missing");
    if (parse_action(c, sub, act, &r->action) < 0)
        return -1;

    json_t *er = field(v, "errnoRet");
    if (er) {
        snprintf(sub, sizeof(sub), "%s.errnoRet", path);
        if (r->action != CM_SCMP_ERRNO && r->action != CM_SCMP_TRACE)
            return fail(c, sub, "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not %s",
                        cm_scmp_action_name(r->action));
        if (parse_errno(c, sub, er, &r->errno_ret) < 0)
            return -1;
    }

    snprintf(sub, sizeof(sub), "%s.args", path);
    if (parse_args(c, sub, field(v, "args"), r) < 0)
        return -1;
    snprintf(sub, sizeof(sub), "%s.includes", path);
    if (parse_filter(c, sub, field(v, "includes"), true, r, keep) < 0)
        return -1;
    snprintf(sub, sizeof(sub), "%s.excludes", path);
    if (parse_filter(c, sub, field(v, "excludes"), false, r, keep) < 0)
        return -1;
    snprintf(sub, sizeof(sub), "%s.includes.arches", path);
    if (check_docker_arches(c, sub, r->include_arches) < 0)
        return -1;
    snprintf(sub, sizeof(sub), "%s.excludes.arches", path);
    if (check_docker_arches(c, sub, r->exclude_arches) < 0)
        return -1;
    return 0;
}

/* Docker's archMap: the entry for the native architecture gives the list. */
static int parse_arch_map(struct ctx *c, json_t *v, char ***out)
{
    if (!json_is_array(v))
        return fail(c, "archMap", "expected an array, got %s", json_kind(v));
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i);
        char path[PATH_MAX_LEN], sub[PATH_MAX_LEN + 32];
        snprintf(path, sizeof(path), "archMap[%zu]", i);
        if (!json_is_object(e))
            return fail(c, path, "expected an object, got %s", json_kind(e));
        snprintf(sub, sizeof(sub), "%s.architecture", path);
        json_t *a = field(e, "architecture");
        const char *arch = NULL;
        if (!a)
            return fail(c, sub, "missing");
        if (want_string(c, sub, a, &arch) < 0)
            return -1;
        if (!arch_known(arch))
            return fail(c, sub, "unknown architecture \"%s\"", arch);
        _cleanup_strv_ char **subs = NULL;
        snprintf(sub, sizeof(sub), "%s.subArchitectures", path);
        if (want_strv(c, sub, field(e, "subArchitectures"), &subs) < 0 ||
            check_arches(c, sub, subs) < 0)
            return -1;
        if (strcmp(arch, NATIVE_SCMP_ARCH) != 0 || *out)
            continue;
        size_t n = 0;
        while (subs && subs[n])
            n++;
        _cleanup_strv_ char **list = calloc(n + 2, sizeof(char *));
        if (!list || !(list[0] = strdup(arch)))
            return cm_err_set(c->err, ENOMEM, "%s: %s", c->origin, path);
        for (size_t j = 0; j < n; j++)
            list[j + 1] = TAKE_PTR(subs[j]);
        *out = TAKE_PTR(list);
    }
    return 0;
}

static int parse_flags(struct ctx *c, json_t *v, unsigned *out)
{
    _cleanup_strv_ char **flags = NULL;
    if (want_strv(c, "flags", v, &flags) < 0)
        return -1;
    for (size_t i = 0; flags && flags[i]; i++) {
        bool found = false;
        for (size_t j = 0; j < ARRAY_SIZE(flag_names); j++)
            if (strcmp(flags[i], flag_names[j].name) == 0) {
                *out |= flag_names[j].value;
                found = true;
            }
        if (!found) {
            char path[PATH_MAX_LEN];
            snprintf(path, sizeof(path), "flags[%zu]", i);
            return fail(c, path, "unknown flag \"%s\"", flags[i]);
        }
    }
    return 0;
}

static int parse_optional_string(struct ctx *c, json_t *root, const char *key, char **out)
{
    json_t *v = field(root, key);
    const char *s = NULL;
    if (!v)
        return 0;
    if (want_string(c, key, v, &s) < 0)
        return -1;
    if (!(*out = strdup(s)))
        return cm_err_set(c->err, ENOMEM, "%s: %s", c->origin, key);
    return 0;
}

int cm_seccomp_profile_parse(const char *json, size_t len, const char *origin,
                             struct cm_seccomp_profile **out, struct cm_error *err)
{
    struct ctx c = { .origin = origin ? origin : "seccomp profile", .err = err };
    *out = NULL;
    if (len > PROFILE_MAX_BYTES)
        return cm_err_set(err, EFBIG, "%s: profile larger than %u bytes", c.origin,
                          PROFILE_MAX_BYTES);

    json_error_t jerr;
    _cleanup_(cm_json_decrefp) json_t *root = json_loadb(json, len, 0, &jerr);
    if (!root)
        return fail(&c, "invalid JSON", "line %d, column %d: %s", jerr.line, jerr.column,
                    jerr.text);
    if (!json_is_object(root))
        return fail(&c, "top level", "expected an object, got %s", json_kind(root));

    _cleanup_(profile_freep) struct cm_seccomp_profile *p = calloc(1, sizeof(*p));
    if (!p)
        return cm_err_set(err, ENOMEM, "%s: reading the profile", c.origin);
    p->default_errno = EPERM;

    json_t *v = field(root, "defaultAction");
    if (!v)
        return fail(&c, "defaultAction", "missing");
    if (parse_action(&c, "defaultAction", v, &p->default_action) < 0)
        return -1;
    if ((v = field(root, "defaultErrnoRet"))) {
        if (parse_errno(&c, "defaultErrnoRet", v, &p->default_errno) < 0)
            return -1;
    }

    json_t *arches = field(root, "architectures");
    json_t *arch_map = field(root, "archMap");
    if (arches && json_is_array(arches) && json_array_size(arches) > 0 && arch_map &&
        json_is_array(arch_map) && json_array_size(arch_map) > 0)
        return fail(&c, "archMap", "both \"architectures\" and \"archMap\" given; use one");
    if (want_strv(&c, "architectures", arches, &p->architectures) < 0 ||
        check_arches(&c, "architectures", p->architectures) < 0)
        return -1;
    if (arch_map && parse_arch_map(&c, arch_map, &p->architectures) < 0)
        return -1;

    if ((v = field(root, "flags")) && parse_flags(&c, v, &p->flags) < 0)
        return -1;
    if (parse_optional_string(&c, root, "listenerPath", &p->listener_path) < 0 ||
        parse_optional_string(&c, root, "listenerMetadata", &p->listener_metadata) < 0)
        return -1;

    json_t *calls = field(root, "syscalls");
    if (calls && !json_is_array(calls))
        return fail(&c, "syscalls", "expected an array, got %s", json_kind(calls));
    size_t n = calls ? json_array_size(calls) : 0;
    if (n) {
        p->rules = calloc(n, sizeof(*p->rules));
        if (!p->rules)
            return cm_err_set(err, ENOMEM, "%s: reading syscalls", c.origin);
    }
    bool notify = false;
    for (size_t i = 0; i < n; i++) {
        struct cm_scmp_rule *r = &p->rules[p->n_rules];
        bool keep = true;
        /* Count the rule before parsing so a failure frees what it holds. */
        p->n_rules++;
        if (parse_rule(&c, i, json_array_get(calls, i), r, &keep) < 0)
            return -1;
        if (!keep) {
            rule_free(r);
            memset(r, 0, sizeof(*r));
            p->n_rules--;
            continue;
        }
        notify |= r->action == CM_SCMP_NOTIFY;
    }
    if (p->default_action == CM_SCMP_NOTIFY)
        return fail(&c, "defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");
    if (p->listener_path && !notify)
        cm_debug("%s: listenerPath given but no rule uses SCMP_ACT_NOTIFY", c.origin);
    if (notify && p->default_action == CM_SCMP_ALLOW)
        cm_debug("%s: notify rules with an allow-by-default profile", c.origin);

    *out = TAKE_PTR(p);
    return 0;
}

int cm_seccomp_profile_load_file(const char *path, struct cm_seccomp_profile **out,
                                 struct cm_error *err)
{
    *out = NULL;
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return cm_err_sys(err, "reading seccomp profile %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return cm_err_sys(err, "reading seccomp profile %s", path);
    if (!S_ISREG(st.st_mode))
        return cm_err_set(err, 0, "reading seccomp profile %s: not a regular file", path);
    if (st.st_size > (off_t)PROFILE_MAX_BYTES)
        return cm_err_set(err, EFBIG, "reading seccomp profile %s: larger than %u bytes", path,
                          PROFILE_MAX_BYTES);
    size_t cap = (size_t)st.st_size + 1;
    _cleanup_free_ char *buf = malloc(cap);
    if (!buf)
        return cm_err_set(err, ENOMEM, "reading seccomp profile %s", path);
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return cm_err_sys(err, "reading seccomp profile %s", path);
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == cap) /* the file grew while we read it */
            return cm_err_set(err, EFBIG, "reading seccomp profile %s: file changed while read",
                              path);
    }
    return cm_seccomp_profile_parse(buf, len, path, out, err);
}
