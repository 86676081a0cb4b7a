/* oci.c: OCI runtime-spec 1.2 (Linux) config.json <-> struct cm_spec.
 *
 * The config comes from an engine or a user and is taken as written: a field
 * left out means what the runtime-spec says it means (no seccomp, no caps, the
 * host's namespace), and casemate's floor is the host policy's job. Whatever
 * casemate cannot honour is refused with a message naming the JSON path; a
 * field silently dropped would be a hole the user cannot see. Engines send a
 * few fields casemate does not support with empty values (intelRdt: {},
 * selinuxLabel: ""), so empty counts as absent for those.
 *
 * jansson stores integers as int64, but OCI's uint64 fields reach 2^64-1
 * (docker --ulimit core=-1 writes 18446744073709551615). Such literals are
 * rewritten before parsing into a string "\u0000<digits>" that only the
 * uint64 readers accept (a real string with a NUL byte is refused anywhere
 * else), and the writer does the reverse. */
#include "spec/oci.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/caps.h"
#include "sandbox/rlimits.h"
#include "spec/seccomp_profile.h"
#include "util/cleanup.h"
#include "util/safepath.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

#define ORIGIN "config.json"
#define CONFIG_MAX_BYTES (16u << 20)
#define JPATH_MAX 256


extern const char *const cm_default_masked_paths[];
extern const char *const cm_default_readonly_paths[];

#define _cleanup_json_ _cleanup_(json_decrefp) /* from jansson.h */

/* ------------------------------------------------------------------ */
/* Integers beyond int64: see the header comment. */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Copy `in` to a new string with every integer literal in (INT64_MAX,
 * UINT64_MAX] turned into "\u0000<digits>". Returns NULL on ENOMEM. */
static char *mark_big_ints(const char *in, size_t len, size_t *out_len)
{
    /* Each literal of 19-20 digits grows by 8 bytes at most. */
    size_t cap = len + len / 2 + 16;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t o = 0;
    bool in_string = false;
    for (size_t i = 0; i < len;) {
        char c = in[i];
        if (in_string) {
            out[o++] = c;
            i++;
            if (c == '\\' && i < len)
                out[o++] = in[i++];
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
            out[o++] = in[i++];
            continue;
        }
        if (is_digit(c) && (i == 0 || !(is_digit(in[i - 1]) || in[i - 1] == '-' ||
                                         in[i - 1] == '.' || in[i - 1] == 'e' ||
                                         in[i - 1] == 'E' || in[i - 1] == '+'))) {
            size_t j = i;
            while (j < len && is_digit(in[j]))
                j++;
            bool plain = j == len || !(in[j] == '.' || in[j] == 'e' || in[j] == 'E');
            size_t n = j - i;
            if (plain && n >= 19 && n <= 20 && in[i] != '0') {
                char digits[24];
                memcpy(digits, in + i, n);
                digits[n] = '\0';
                errno = 0;
                unsigned long long v = strtoull(digits, NULL, 10);
                if (errno == 0 && v > (unsigned long long)INT64_MAX) {
                    o += (size_t)sprintf(out + o, "\"\\u0000%s\"", digits);
                    i = j;
                    continue;
                }
            }
            memcpy(out + o, in + i, n);
            o += n;
            i = j;
            continue;
        }
        out[o++] = in[i++];
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* In place, the reverse: a whole string "\u0000<digits>" becomes <digits>. */
static void unmark_big_ints(char *s)
{
    static const char marker[] = "\"\\u0000";
    size_t r = 0, w = 0;
    bool in_string = false;
    while (s[r]) {
        char c = s[r];
        if (in_string) {
            s[w++] = s[r++];
            if (c == '\\' && s[r])
                s[w++] = s[r++];
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"' && strncmp(s + r, marker, sizeof(marker) - 1) == 0) {
            size_t d = r + sizeof(marker) - 1, e = d;
            while (is_digit(s[e]))
                e++;
            if (e > d && s[e] == '"') {
                memmove(s + w, s + d, e - d);
                w += e - d;
                r = e + 1;
                continue;
            }
        }
        if (c == '"')
            in_string = true;
        s[w++] = s[r++];
    }
    s[w] = '\0';
}

static json_t *json_u64(uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)v);
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%c%" PRIu64, '\0', v);
    return json_stringn(buf, (size_t)n);
}

/* ------------------------------------------------------------------ */
/* Reading helpers: every error names the JSON path. */

struct parser {
    struct cm_spec *spec;
    struct cm_error *err;
    const char *bundle_dir;
};

static int bad(struct parser *ps, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(struct parser *ps, const char *path, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return cm_err_set(ps->err, 0, ORIGIN ": %s: %s", path, msg);
}

static int oom(struct parser *ps, const char *path)
{
    return cm_err_set(ps->err, ENOMEM, ORIGIN ": %s", path);
}

static bool is_marked_u64(const json_t *v);

static const char *kind(const json_t *v)
{
    if (is_marked_u64(v))
        return "an integer";
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

static void sub(char *buf, const char *path, const char *key)
{
    snprintf(buf, JPATH_MAX, "%s%s%s", path, path[0] ? "." : "", key);
}

static void idx(char *buf, const char *path, size_t i)
{
    snprintf(buf, JPATH_MAX, "%s[%zu]", path, i);
}

/* JSON null counts as absent, as in Go's decoder (engines are Go). */
static json_t *get(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return v && !json_is_null(v) ? v : NULL;
}

static bool is_empty(json_t *v)
{
    if (!v || json_is_null(v) || json_is_false(v))
        return true;
    if (json_is_object(v))
        return json_object_size(v) == 0;
    if (json_is_array(v))
        return json_array_size(v) == 0;
    if (json_is_string(v))
        return json_string_length(v) == 0;
    if (json_is_integer(v))
        return json_integer_value(v) == 0;
    return false;
}

static bool is_marked_u64(const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (!s || n < 2 || n > 21 || s[0] != '\0')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

static int want_object(struct parser *ps, const char *path, json_t *v)
{
    if (!json_is_object(v))
        return bad(ps, path, "expected an object, got %s", kind(v));
    return 0;
}

static int want_str(struct parser *ps, const char *path, json_t *v, const char **out)
{
    if (!json_is_string(v) || is_marked_u64(v))
        return bad(ps, path, "expected a string, got %s", kind(v));
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return bad(ps, path, "string contains a NUL byte");
    *out = s;
    return 0;
}

/* Replace *out with a copy of the string. */
static int want_dup(struct parser *ps, const char *path, json_t *v, char **out)
{
    const char *s = NULL;
    if (want_str(ps, path, v, &s) < 0)
        return -1;
    char *copy = strdup(s);
    if (!copy)
        return oom(ps, path);
    free(*out);
    *out = copy;
    return 0;
}

static int want_bool(struct parser *ps, const char *path, json_t *v, bool *out)
{
    if (!json_is_boolean(v))
        return bad(ps, path, "expected true or false, got %s", kind(v));
    *out = json_is_true(v);
    return 0;
}

static int want_i64(struct parser *ps, const char *path, json_t *v, int64_t min, int64_t max,
                    int64_t *out)
{
    if (is_marked_u64(v))
        return bad(ps, path, "%s is out of range (%" PRId64 " to %" PRId64 ")",
                   json_string_value(v) + 1, min, max);
    if (!json_is_integer(v))
        return bad(ps, path, "expected an integer, got %s", kind(v));
    json_int_t n = json_integer_value(v);
    if (n < min || n > max)
        return bad(ps, path, "%" JSON_INTEGER_FORMAT " is out of range (%" PRId64 " to %" PRId64 ")",
                   n, min, max);
    *out = n;
    return 0;
}

static int want_u64(struct parser *ps, const char *path, json_t *v, uint64_t max, uint64_t *out)
{
    if (is_marked_u64(v)) {
        errno = 0;
        unsigned long long n = strtoull(json_string_value(v) + 1, NULL, 10);
        if (errno || n > max)
            return bad(ps, path, "%s is out of range (0 to %" PRIu64 ")",
                       json_string_value(v) + 1, max);
        *out = n;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return bad(ps, path, "expected an unsigned integer, got %s",
                   json_is_integer(v) ? "a negative integer" : kind(v));
    if ((uint64_t)json_integer_value(v) > max)
        return bad(ps, path, "%" JSON_INTEGER_FORMAT " is out of range (0 to %" PRIu64 ")",
                   json_integer_value(v), max);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int want_u32(struct parser *ps, const char *path, json_t *v, uint32_t *out)
{
    uint64_t n = 0;
    if (want_u64(ps, path, v, UINT32_MAX, &n) < 0)
        return -1;
    *out = (uint32_t)n;
    return 0;
}

/* An array of strings into a NULL-terminated vector (empty array -> {NULL}). */
static int want_strv(struct parser *ps, const char *path, json_t *v, char ***out)
{
    if (!json_is_array(v))
        return bad(ps, path, "expected an array of strings, got %s", kind(v));
    size_t n = json_array_size(v);
    _cleanup_strv_ char **strv = calloc(n + 1, sizeof(char *));
    if (!strv)
        return oom(ps, path);
    for (size_t i = 0; i < n; i++) {
        char p[JPATH_MAX];
        idx(p, path, i);
        if (want_dup(ps, p, json_array_get(v, i), &strv[i]) < 0)
            return -1;
    }
    cm_strv_free(*out);
    *out = TAKE_PTR(strv);
    return 0;
}

/* An object of string values into key/value pairs. */
static int want_kvs(struct parser *ps, const char *path, json_t *v, struct cm_kv **out,
                    size_t *n_out)
{
    if (want_object(ps, path, v) < 0)
        return -1;
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val) {
        char p[JPATH_MAX];
        sub(p, path, key);
        const char *s = NULL;
        if (want_str(ps, p, val, &s) < 0)
            return -1;
        if (strlen(key) == 0)
            return bad(ps, path, "empty key");
        struct cm_kv *grown = realloc(*out, (*n_out + 1) * sizeof(*grown));
        if (!grown)
            return oom(ps, p);
        *out = grown;
        struct cm_kv *kv = &grown[*n_out];
        kv->key = strdup(key);
        kv->value = strdup(s);
        (*n_out)++;
        if (!kv->key || !kv->value)
            return oom(ps, p);
    }
    return 0;
}

/* Which keys an object may have. `unsupported` fields are refused with
 * "is not supported by casemate" unless empty; `tolerated` are unknown to
 * casemate but harmless when empty (engines send them so). */
struct unsupported {
    const char *key;
    const char *why; /* appended after the refusal; may be "" */
};

static int check_keys(struct parser *ps, const char *path, json_t *obj,
                      const char *const *known, const struct unsupported *unsupported,
                      const char *const *tolerated)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val) {
        bool ok = false;
        for (const char *const *k = known; k && *k && !ok; k++)
            ok = strcmp(*k, key) == 0;
        if (ok)
            continue;
        char p[JPATH_MAX];
        sub(p, path, key);
        for (const struct unsupported *u = unsupported; u && u->key; u++)
            if (strcmp(u->key, key) == 0) {
                if (is_empty(val)) {
                    ok = true;
                    break;
                }
                return cm_err_set(ps->err, 0, ORIGIN ": %s is not supported by casemate%s", p,
                                  u->why);
            }
        if (ok)
            continue;
        for (const char *const *k = tolerated; k && *k && !ok; k++)
            ok = strcmp(*k, key) == 0 && is_empty(val);
        if (!ok)
            return bad(ps, p, "unknown field (casemate refuses fields it does not know "
                              "rather than ignore them)");
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* ociVersion */

static int parse_version(struct parser *ps, json_t *v)
{
    const char *s = NULL;
    if (!v)
        return bad(ps, "ociVersion", "missing (required)");
    if (want_str(ps, "ociVersion", v, &s) < 0)
        return -1;
    unsigned major = 0, minor = 0, patch = 0;
    int used = 0;
    if (sscanf(s, "%3u.%3u.%3u%n", &major, &minor, &patch, &used) != 3 || !is_digit(s[0]) ||
        (s[used] != '\0' && s[used] != '-' && s[used] != '+'))
        return bad(ps, "ociVersion", "\"%s\" is not a version like 1.2.0", s);
    if (major != 1 || minor > 2 || (s[used] == '-' && minor == 0 && patch == 0))
        return bad(ps, "ociVersion", "version %s is not supported (casemate reads 1.0.0 to 1.2.x)",
                   s);
    return 0;
}

/* ------------------------------------------------------------------ */
/* process */

static const struct {
    const char *key;
    size_t offset;
} cap_sets[] = {
    {"bounding", offsetof(struct cm_spec, cap_bounding)},
    {"effective", offsetof(struct cm_spec, cap_effective)},
    {"permitted", offsetof(struct cm_spec, cap_permitted)},
    {"inheritable", offsetof(struct cm_spec, cap_inheritable)},
    {"ambient", offsetof(struct cm_spec, cap_ambient)},
};

static int parse_caps(struct parser *ps, const char *path, json_t *v)
{
    static const char *const known[] = {"bounding", "effective", "permitted", "inheritable",
                                         "ambient", NULL};
    if (want_object(ps, path, v) < 0 || check_keys(ps, path, v, known, NULL, NULL) < 0)
        return -1;
    for (size_t s = 0; s < ARRAY_SIZE(cap_sets); s++) {
        json_t *list = get(v, cap_sets[s].key);
        uint64_t *mask = (uint64_t *)((char *)ps->spec + cap_sets[s].offset);
        *mask = 0;
        if (!list)
            continue;
        char p[JPATH_MAX];
        sub(p, path, cap_sets[s].key);
        if (!json_is_array(list))
            return bad(ps, p, "expected an array of capability names, got %s", kind(list));
        for (size_t i = 0; i < json_array_size(list); i++) {
            char pi[JPATH_MAX];
            idx(pi, p, i);
            const char *name = NULL;
            if (want_str(ps, pi, json_array_get(list, i), &name) < 0)
                return -1;
            int cap = cm_cap_from_name(name);
            if (cap < 0 || cap > 63)
                return bad(ps, pi, "unknown capability \"%s\"", name);
            *mask |= (uint64_t)1 << cap;
        }
    }
    return 0;
}

static int parse_rlimits(struct parser *ps, const char *path, json_t *v)
{
    static const char *const known[] = {"type", "hard", "soft", NULL};
    if (!json_is_array(v))
        return bad(ps, path, "expected an array, got %s", kind(v));
    size_t n = json_array_size(v);
    free(ps->spec->rlimits);
    ps->spec->rlimits = calloc(n ? n : 1, sizeof(struct cm_rlimit));
    ps->spec->n_rlimits = 0;
    if (!ps->spec->rlimits)
        return oom(ps, path);
    for (size_t i = 0; i < n; i++) {
        char p[JPATH_MAX], pk[JPATH_MAX];
        idx(p, path, i);
        json_t *r = json_array_get(v, i);
        if (want_object(ps, p, r) < 0 || check_keys(ps, p, r, known, NULL, NULL) < 0)
            return -1;
        const char *type = NULL;
        sub(pk, p, "type");
        if (!get(r, "type"))
            return bad(ps, pk, "missing (required)");
        if (want_str(ps, pk, get(r, "type"), &type) < 0)
            return -1;
        int res = cm_rlimit_from_name(type);
        if (res < 0)
            return bad(ps, pk, "unknown resource limit \"%s\"", type);
        for (size_t j = 0; j < ps->spec->n_rlimits; j++)
            if (ps->spec->rlimits[j].resource == res)
                return bad(ps, pk, "%s is given twice", type);
        struct cm_rlimit *l = &ps->spec->rlimits[ps->spec->n_rlimits];
        l->resource = res;
        sub(pk, p, "soft");
        if (!get(r, "soft") || want_u64(ps, pk, get(r, "soft"), UINT64_MAX, &l->soft) < 0)
            return get(r, "soft") ? -1 : bad(ps, pk, "missing (required)");
        sub(pk, p, "hard");
        if (!get(r, "hard") || want_u64(ps, pk, get(r, "hard"), UINT64_MAX, &l->hard) < 0)
            return get(r, "hard") ? -1 : bad(ps, pk, "missing (required)");
        if (l->soft > l->hard)
            return bad(ps, p, "soft limit %" PRIu64 " is above the hard limit %" PRIu64,
                       l->soft, l->hard);
        ps->spec->n_rlimits++;
    }
    return 0;
}

static int parse_user(struct parser *ps, const char *path, json_t *v)
{
    static const char *const known[] = {"uid", "gid", "umask", "additionalGids", NULL};
    static const struct unsupported unsupported[] = {
        {"username", " (a Windows field; give uid and gid)"}, {NULL, NULL}};
    struct cm_spec *spec = ps->spec;
    char p[JPATH_MAX];
    if (want_object(ps, path, v) < 0 || check_keys(ps, path, v, known, unsupported, NULL) < 0)
        return -1;
    uint32_t uid = 0, gid = 0;
    sub(p, path, "uid");
    if (get(v, "uid") && want_u32(ps, p, get(v, "uid"), &uid) < 0)
        return -1;
    sub(p, path, "gid");
    if (get(v, "gid") && want_u32(ps, p, get(v, "gid"), &gid) < 0)
        return -1;
    if (uid == UINT32_MAX || gid == UINT32_MAX)
        return bad(ps, path, "4294967295 is not a valid uid or gid");
    spec->uid = uid;
    spec->gid = gid;
    spec->user_resolved = true;
    free(spec->user);
    if (asprintf(&spec->user, "%" PRIu32 ":%" PRIu32, uid, gid) < 0) {
        spec->user = NULL;
        return oom(ps, path);
    }
    sub(p, path, "umask");
    if (get(v, "umask")) {
        uint64_t um = 0;
        if (want_u64(ps, p, get(v, "umask"), 0777, &um) < 0)
            return -1;
        spec->umask = (mode_t)um;
        spec->umask_set = true;
    }
    json_t *groups = get(v, "additionalGids");
    sub(p, path, "additionalGids");
    if (groups) {
        if (!json_is_array(groups))
            return bad(ps, p, "expected an array of gids, got %s", kind(groups));
        size_t n = json_array_size(groups);
        free(spec->additional_gids);
        spec->n_additional_gids = 0;
        spec->additional_gids = calloc(n ? n : 1, sizeof(gid_t));
        if (!spec->additional_gids)
            return oom(ps, p);
        if (n > 65536)
            return bad(ps, p, "%zu groups is more than the kernel allows (65536)", n);
        for (size_t i = 0; i < n; i++) {
            char pi[JPATH_MAX];
            idx(pi, p, i);
            uint32_t g = 0;
            if (want_u32(ps, pi, json_array_get(groups, i), &g) < 0)
                return -1;
            spec->additional_gids[spec->n_additional_gids++] = g;
        }
    }
    return 0;
}

static int parse_process(struct parser *ps, json_t *v)
{
    static const char *const known[] = {
        "terminal", "consoleSize", "user", "args", "env", "cwd", "capabilities", "rlimits",
        "noNewPrivileges", "oomScoreAdj", "apparmorProfile", "selinuxLabel", NULL};
    static const struct unsupported unsupported[] = {
        {"scheduler", " (sched_setattr policies are not implemented)"},
        {"ioPriority", " (ioprio_set is not implemented)"},
        {"execCPUAffinity", " (use linux.resources.cpu.cpus to pin the container)"},
        {"commandLine", " (a Windows field; give args)"},
        {NULL, NULL}};
    struct cm_spec *spec = ps->spec;
    char p[JPATH_MAX];
    if (want_object(ps, "process", v) < 0 ||
        check_keys(ps, "process", v, known, unsupported, NULL) < 0)
        return -1;
    json_t *f;
    if ((f = get(v, "terminal")) && want_bool(ps, "process.terminal", f, &spec->terminal) < 0)
        return -1;
    if ((f = get(v, "consoleSize"))) {
        /* The initial size of the pty; the engine resizes it through the
         * console socket anyway, so it is checked, then left to the engine. */
        static const char *const ck[] = {"height", "width", NULL};
        uint32_t dim = 0;
        if (want_object(ps, "process.consoleSize", f) < 0 ||
            check_keys(ps, "process.consoleSize", f, ck, NULL, NULL) < 0)
            return -1;
        if (get(f, "height") && want_u32(ps, "process.consoleSize.height", get(f, "height"), &dim) < 0)
            return -1;
        if (get(f, "width") && want_u32(ps, "process.consoleSize.width", get(f, "width"), &dim) < 0)
            return -1;
    }
    /* OCI gives numbers: no user means uid 0 and gid 0, nothing to look up
     * in the container's /etc/passwd (which may be hostile). */
    spec->uid = 0;
    spec->gid = 0;
    spec->user_resolved = true;
    if ((f = get(v, "user")) && parse_user(ps, "process.user", f) < 0)
        return -1;
    if (!(f = get(v, "args")))
        return bad(ps, "process.args", "missing (required: the command to run)");
    if (want_strv(ps, "process.args", f, &spec->args) < 0)
        return -1;
    if (!spec->args[0] || !spec->args[0][0])
        return bad(ps, "process.args", "empty: there is no command to run");
    cm_strv_free(spec->env);
    spec->env = NULL;
    if ((f = get(v, "env"))) {
        if (want_strv(ps, "process.env", f, &spec->env) < 0)
            return -1;
        for (size_t i = 0; spec->env[i]; i++)
            if (!strchr(spec->env[i], '=') || spec->env[i][0] == '=') {
                idx(p, "process.env", i);
                return bad(ps, p, "\"%s\" is not of the form KEY=VALUE", spec->env[i]);
            }
    }
    if (!(f = get(v, "cwd")))
        return bad(ps, "process.cwd", "missing (required)");
    if (want_dup(ps, "process.cwd", f, &spec->cwd) < 0)
        return -1;
    if (spec->cwd[0] != '/')
        return bad(ps, "process.cwd", "\"%s\" is not an absolute path", spec->cwd);
    if ((f = get(v, "capabilities")) && parse_caps(ps, "process.capabilities", f) < 0)
        return -1;
    if ((f = get(v, "rlimits")) && parse_rlimits(ps, "process.rlimits", f) < 0)
        return -1;
    if ((f = get(v, "noNewPrivileges")) &&
        want_bool(ps, "process.noNewPrivileges", f, &spec->no_new_privs) < 0)
        return -1;
    if ((f = get(v, "oomScoreAdj"))) {
        int64_t adj = 0;
        if (want_i64(ps, "process.oomScoreAdj", f, -1000, 1000, &adj) < 0)
            return -1;
        spec->oom_score_adj = (int)adj;
        spec->oom_score_adj_set = true;
    }
    /* Empty strings are what engines send when no LSM is in use. */
    if ((f = get(v, "apparmorProfile")) && !is_empty(f) &&
        want_dup(ps, "process.apparmorProfile", f, &spec->apparmor_profile) < 0)
        return -1;
    if ((f = get(v, "selinuxLabel")) && !is_empty(f) &&
        want_dup(ps, "process.selinuxLabel", f, &spec->selinux_label) < 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* root, hostname */

static int parse_root(struct parser *ps, json_t *v)
{
    static const char *const known[] = {"path", "readonly", NULL};
    struct cm_spec *spec = ps->spec;
    if (!v)
        return bad(ps, "root", "missing (required on Linux)");
    if (want_object(ps, "root", v) < 0 || check_keys(ps, "root", v, known, NULL, NULL) < 0)
        return -1;
    const char *path = NULL;
    json_t *f = get(v, "path");
    if (!f)
        return bad(ps, "root.path", "missing (required)");
    if (want_str(ps, "root.path", f, &path) < 0)
        return -1;
    if (!path[0])
        return bad(ps, "root.path", "empty");
    free(spec->rootfs);
    spec->rootfs = NULL;
    if (path[0] != '/' && ps->bundle_dir) {
        size_t bl = strlen(ps->bundle_dir);
        const char *sep = bl && ps->bundle_dir[bl - 1] == '/' ? "" : "/";
        if (asprintf(&spec->rootfs, "%s%s%s", ps->bundle_dir, sep, path) < 0)
            spec->rootfs = NULL;
    } else {
        spec->rootfs = strdup(path);
    }
    if (!spec->rootfs)
        return oom(ps, "root.path");
    if ((f = get(v, "readonly")) && want_bool(ps, "root.readonly", f, &spec->readonly_rootfs) < 0)
        return -1;
    return 0;
}

/* RFC 1123 host name: labels of letters, digits and '-', 253 bytes at most.
 * The kernel takes anything up to 64 bytes; the engines never send worse. */
static int parse_name(struct parser *ps, const char *path, json_t *v, char **out)
{
    if (want_dup(ps, path, v, out) < 0)
        return -1;
    size_t n = strlen(*out);
    if (n > 64)
        return bad(ps, path, "\"%.20s...\" is longer than the kernel's 64 bytes", *out);
    for (size_t i = 0; i < n; i++) {
        char c = (*out)[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
              c == '.' || c == '_'))
            return bad(ps, path, "\"%s\" is not a valid host name", *out);
    }
    if (n == 0) {
        free(*out);
        *out = NULL;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* mounts */

struct mount_opt {
    const char *name;
    unsigned long flag;
    bool clear;
};

static const struct mount_opt mount_flag_opts[] = {
    {"ro", MS_RDONLY, false},          {"rw", MS_RDONLY, true},
    {"nosuid", MS_NOSUID, false},      {"suid", MS_NOSUID, true},
    {"nodev", MS_NODEV, false},        {"dev", MS_NODEV, true},
    {"noexec", MS_NOEXEC, false},      {"exec", MS_NOEXEC, true},
    {"sync", MS_SYNCHRONOUS, false},   {"async", MS_SYNCHRONOUS, true},
    {"dirsync", MS_DIRSYNC, false},    {"relatime", MS_RELATIME, false},
    {"norelatime", MS_RELATIME, true}, {"strictatime", MS_STRICTATIME, false},
    {"nostrictatime", MS_STRICTATIME, true}, {"noatime", MS_NOATIME, false},
    {"atime", MS_NOATIME, true},       {"nodiratime", MS_NODIRATIME, false},
    {"diratime", MS_NODIRATIME, true}, {"nosymfollow", MS_NOSYMFOLLOW, false},
    {"symfollow", MS_NOSYMFOLLOW, true},
};

static const struct {
    const char *name;
    unsigned long flags;
} propagation_opts[] = {
    {"private", MS_PRIVATE},          {"rprivate", MS_PRIVATE | MS_REC},
    {"slave", MS_SLAVE},              {"rslave", MS_SLAVE | MS_REC},
    {"shared", MS_SHARED},            {"rshared", MS_SHARED | MS_REC},
    {"unbindable", MS_UNBINDABLE},    {"runbindable", MS_UNBINDABLE | MS_REC},
};

/* Options of other runtimes' extensions that change what is mounted.
 * ("tmpcopyup" is handled apart: see tmpcopyup_is_empty.) */
static const char *const extension_opts[] = {"copy-symlink", "rcopy-symlink", NULL};

static const struct mount_opt *find_flag_opt(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(mount_flag_opts); i++)
        if (strcmp(mount_flag_opts[i].name, name) == 0)
            return &mount_flag_opts[i];
    return NULL;
}

static int append_data(char **data, const char *opt)
{
    char *grown = NULL;
    if (asprintf(&grown, "%s%s%s", *data ? *data : "", *data ? "," : "", opt) < 0)
        return -1;
    free(*data);
    *data = grown;
    return 0;
}

static int parse_mount_options(struct parser *ps, const char *path, json_t *v, struct cm_mount *m,
                               bool *bind, int *copyup)
{
    if (!json_is_array(v))
        return bad(ps, path, "expected an array of strings, got %s", kind(v));
    for (size_t i = 0; i < json_array_size(v); i++) {
        char p[JPATH_MAX];
        idx(p, path, i);
        const char *o = NULL;
        if (want_str(ps, p, json_array_get(v, i), &o) < 0)
            return -1;
        const struct mount_opt *fo = find_flag_opt(o);
        if (fo) {
            /* The last of "ro"/"rw" wins, as in mount(8). */
            if (fo->clear) {
                m->flags &= ~fo->flag;
                m->clear_flags |= fo->flag;
            } else {
                m->flags |= fo->flag;
                m->clear_flags &= ~fo->flag;
            }
            continue;
        }
        if (!strcmp(o, "bind") || !strcmp(o, "rbind")) {
            *bind = true;
            m->flags |= MS_BIND;
            m->recursive = o[0] == 'r';
            continue;
        }
        if (!strcmp(o, "idmap") || !strcmp(o, "ridmap")) {
            m->idmap = true;
            continue;
        }
        if (!strcmp(o, "tmpcopyup")) {
            *copyup = (int)i;
            continue;
        }
        /* "notmpcopyup" asks for what casemate does anyway: an empty tmpfs. */
        if (!strcmp(o, "defaults") || !strcmp(o, "notmpcopyup") || !o[0])
            continue;
        bool prop = false;
        for (size_t j = 0; j < ARRAY_SIZE(propagation_opts) && !prop; j++)
            if (!strcmp(propagation_opts[j].name, o)) {
                m->propagation = propagation_opts[j].flags;
                prop = true;
            }
        if (prop)
            continue;
        if (o[0] == 'r' && find_flag_opt(o + 1))
            return bad(ps, p, "the recursive mount attribute \"%s\" is not supported by casemate "
                              "(give \"%s\" and a plain bind)", o, o + 1);
        for (const char *const *e = extension_opts; *e; e++)
            if (!strcmp(*e, o))
                return bad(ps, p, "\"%s\" (a crun/runc extension) is not supported by casemate", o);
        if (strchr(o, ','))
            return bad(ps, p, "\"%s\": one option per array entry", o);
        if (append_data(&m->data, o) < 0)
            return oom(ps, p);
    }
    return 0;
}

static int parse_idmaps(struct parser *ps, const char *path, json_t *v, struct cm_idmap **out,
                        size_t *n_out);

/* "tmpcopyup" (crun/runc; Podman asks for it on every --tmpfs and on the
 * tmpfs of --read-only) fills the new tmpfs with what the image has at the
 * destination. Over an empty or missing directory that is an empty tmpfs,
 * which casemate mounts anyway; anything else would need a copy casemate
 * does not make, so it is refused rather than silently left empty. The
 * image is read through the root (symlinks cannot lead out of it). */
#define COPYUP_REFUSED "\"tmpcopyup\" (a crun/runc extension) is not supported by casemate"
static int tmpcopyup_is_empty(struct parser *ps, const char *path, const struct cm_mount *m)
{
    if (!ps->spec->rootfs)
        return bad(ps, path, COPYUP_REFUSED " without root.path");
    _cleanup_close_ int root = open(ps->spec->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return bad(ps, path, COPYUP_REFUSED " where the image cannot be read (%s: %s)",
                   ps->spec->rootfs, strerror(errno));
    struct cm_error e = {0};
    int fd = cm_open_in_root(root, m->destination, O_RDONLY | O_DIRECTORY, 0, &e);
    if (fd < 0)
        return e.errnum == ENOENT ? 0
                                  : bad(ps, path, COPYUP_REFUSED " where %s cannot be read in the image (%s)",
                                        m->destination, e.msg);
    _cleanup_closedir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return oom(ps, path);
    }
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            return bad(ps, path, COPYUP_REFUSED " over %s, which is not empty in the image "
                                 "(casemate mounts an empty tmpfs: ask for \"notmpcopyup\")",
                       m->destination);
    return 0;
}

static int parse_mount(struct parser *ps, const char *path, json_t *v)
{
    static const char *const known[] = {"destination", "type", "source", "options",
                                        "uidMappings", "gidMappings", NULL};
    char p[JPATH_MAX];
    if (want_object(ps, path, v) < 0 || check_keys(ps, path, v, known, NULL, NULL) < 0)
        return -1;
    struct cm_mount *m = cm_spec_add_mount(ps->spec);
    if (!m)
        return oom(ps, path);
    json_t *f;
    sub(p, path, "destination");
    if (!(f = get(v, "destination")))
        return bad(ps, p, "missing (required)");
    if (want_dup(ps, p, f, &m->destination) < 0)
        return -1;
    if (m->destination[0] != '/')
        return bad(ps, p, "\"%s\" is not an absolute path", m->destination);
    sub(p, path, "source");
    if ((f = get(v, "source")) && want_dup(ps, p, f, &m->source) < 0)
        return -1;
    sub(p, path, "type");
    if ((f = get(v, "type")) && want_dup(ps, p, f, &m->type) < 0)
        return -1;
    bool bind = m->type && !strcmp(m->type, "bind");
    int copyup = -1; /* index of a "tmpcopyup" option */
    sub(p, path, "options");
    if ((f = get(v, "options")) && parse_mount_options(ps, p, f, m, &bind, &copyup) < 0)
        return -1;
    if (copyup >= 0) {
        char po[JPATH_MAX];
        idx(po, p, (size_t)copyup);
        if (bind || !m->type || strcmp(m->type, "tmpfs") != 0)
            return bad(ps, po, "\"tmpcopyup\" applies to tmpfs mounts only");
        if (tmpcopyup_is_empty(ps, po, m) < 0)
            return -1;
    }
    if (bind) {
        m->flags |= MS_BIND;
        if (m->data)
            return bad(ps, p, "\"%s\" has no meaning for a bind mount", m->data);
        if (!m->source || !m->source[0])
            return bad(ps, path, "a bind mount needs a source");
        if (!m->type || !strcmp(m->type, "none") || !m->type[0]) {
            free(m->type);
            m->type = strdup("bind");
            if (!m->type)
                return oom(ps, path);
        }
    } else if (!m->type || !m->type[0]) {
        return bad(ps, path, "no type given and not a bind mount");
    }
    bool userns = ps->spec->ns_new & CM_NS_USER;
    for (size_t i = 0; i < ps->spec->n_ns_join; i++)
        userns |= ps->spec->ns_join[i].type == CM_NS_USER;
    if (m->idmap && !userns)
        return bad(ps, p, "the idmap option needs a user namespace in linux.namespaces");
    /* casemate idmaps a mount through the container's own user namespace
     * only, so explicit per-mount mappings must be that very mapping. */
    static const char *const map_keys[] = {"uidMappings", "gidMappings"};
    const struct cm_idmap *want[] = {ps->spec->uid_map, ps->spec->gid_map};
    size_t n_want[] = {ps->spec->n_uid_map, ps->spec->n_gid_map};
    for (size_t k = 0; k < 2; k++) {
        json_t *maps = get(v, map_keys[k]);
        if (!maps || is_empty(maps))
            continue;
        sub(p, path, map_keys[k]);
        if (!m->idmap)
            return bad(ps, p, "per-mount mappings need the \"idmap\" option");
        _cleanup_free_ struct cm_idmap *got = NULL;
        size_t n_got = 0;
        if (parse_idmaps(ps, p, maps, &got, &n_got) < 0)
            return -1;
        if (n_got != n_want[k] || memcmp(got, want[k], n_got * sizeof(*got)) != 0)
            return bad(ps, p, "differs from linux.%s: casemate idmaps mounts through the "
                              "container's user namespace only", map_keys[k]);
    }
    return 0;
}

static int parse_mounts(struct parser *ps, json_t *v)
{
    if (!json_is_array(v))
        return bad(ps, "mounts", "expected an array, got %s", kind(v));
    ps->spec->oci_mounts = true;
    for (size_t i = 0; i < json_array_size(v); i++) {
        char p[JPATH_MAX];
        idx(p, "mounts", i);
        if (parse_mount(ps, p, json_array_get(v, i)) < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* hooks, annotations */

static const char *const hook_names[CM_HOOK_KIND_COUNT] = {
    [CM_HOOK_PRESTART] = "prestart",
    [CM_HOOK_CREATE_RUNTIME] = "createRuntime",
    [CM_HOOK_CREATE_CONTAINER] = "createContainer",
    [CM_HOOK_START_CONTAINER] = "startContainer",
    [CM_HOOK_POSTSTART] = "poststart",
    [CM_HOOK_POSTSTOP] = "poststop",
};

static int parse_hooks(struct parser *ps, json_t *v)
{
    static const char *const hk[] = {"path", "args", "env", "timeout", NULL};
    static const char *const kinds[] = {"prestart", "createRuntime", "createContainer",
                                        "startContainer", "poststart", "poststop", NULL};
    struct cm_spec *spec = ps->spec;
    if (want_object(ps, "hooks", v) < 0 || check_keys(ps, "hooks", v, kinds, NULL, NULL) < 0)
        return -1;
    for (int k = 0; k < CM_HOOK_KIND_COUNT; k++) {
        json_t *list = get(v, hook_names[k]);
        if (!list)
            continue;
        char p[JPATH_MAX];
        sub(p, "hooks", hook_names[k]);
        if (!json_is_array(list))
            return bad(ps, p, "expected an array, got %s", kind(list));
        size_t n = json_array_size(list);
        spec->hooks[k] = calloc(n ? n : 1, sizeof(struct cm_hook));
        if (!spec->hooks[k])
            return oom(ps, p);
        for (size_t i = 0; i < n; i++) {
            char pi[JPATH_MAX], pf[JPATH_MAX];
            idx(pi, p, i);
            json_t *h = json_array_get(list, i), *f;
            struct cm_hook *hook = &spec->hooks[k][i];
            spec->n_hooks[k] = i + 1;
            if (want_object(ps, pi, h) < 0 || check_keys(ps, pi, h, hk, NULL, NULL) < 0)
                return -1;
            sub(pf, pi, "path");
            if (!(f = get(h, "path")))
                return bad(ps, pf, "missing (required)");
            if (want_dup(ps, pf, f, &hook->path) < 0)
                return -1;
            if (hook->path[0] != '/')
                return bad(ps, pf, "\"%s\" is not an absolute path", hook->path);
            sub(pf, pi, "args");
            if ((f = get(h, "args")) && want_strv(ps, pf, f, &hook->args) < 0)
                return -1;
            sub(pf, pi, "env");
            if ((f = get(h, "env")) && want_strv(ps, pf, f, &hook->env) < 0)
                return -1;
            sub(pf, pi, "timeout");
            if ((f = get(h, "timeout"))) {
                int64_t t = 0;
                if (want_i64(ps, pf, f, 1, INT_MAX, &t) < 0)
                    return -1;
                hook->timeout = (int)t;
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* linux */

static const struct {
    const char *name;
    enum cm_ns ns;
} ns_names[] = {
    {"pid", CM_NS_PID},   {"network", CM_NS_NET},    {"mount", CM_NS_MOUNT},
    {"ipc", CM_NS_IPC},   {"uts", CM_NS_UTS},        {"user", CM_NS_USER},
    {"cgroup", CM_NS_CGROUP}, {"time", CM_NS_TIME},
};

static int parse_namespaces(struct parser *ps, const char *path, json_t *v)
{
    static const char *const known[] = {"type", "path", NULL};
    struct cm_spec *spec = ps->spec;
    if (!json_is_array(v))
        return bad(ps, path, "expected an array, got %s", kind(v));
    unsigned seen = 0;
    spec->ns_new = 0;
    for (size_t i = 0; i < json_array_size(v); i++) {
        char p[JPATH_MAX], pf[JPATH_MAX];
        idx(p, path, i);
        json_t *n = json_array_get(v, i), *f;
        if (want_object(ps, p, n) < 0 || check_keys(ps, p, n, known, NULL, NULL) < 0)
            return -1;
        const char *type = NULL;
        sub(pf, p, "type");
        if (!(f = get(n, "type")))
            return bad(ps, pf, "missing (required)");
        if (want_str(ps, pf, f, &type) < 0)
            return -1;
        enum cm_ns ns = 0;
        for (size_t j = 0; j < ARRAY_SIZE(ns_names) && !ns; j++)
            if (!strcmp(ns_names[j].name, type))
                ns = ns_names[j].ns;
        if (!ns)
            return bad(ps, pf, "unknown namespace type \"%s\"", type);
        if (seen & ns)
            return bad(ps, pf, "namespace \"%s\" is given twice", type);
        seen |= ns;
        const char *nspath = NULL;
        sub(pf, p, "path");
        if ((f = get(n, "path")) && want_str(ps, pf, f, &nspath) < 0)
            return -1;
        if (!nspath || !nspath[0]) {
            spec->ns_new |= ns;
            if (ns == CM_NS_NET)
                spec->network = CM_NET_NONE;
            continue;
        }
        if (nspath[0] != '/')
            return bad(ps, pf, "\"%s\" is not an absolute path", nspath);
        struct cm_ns_join *grown = realloc(spec->ns_join, (spec->n_ns_join + 1) * sizeof(*grown));
        if (!grown)
            return oom(ps, pf);
        spec->ns_join = grown;
        grown[spec->n_ns_join].type = ns;
        grown[spec->n_ns_join].path = strdup(nspath);
        if (!grown[spec->n_ns_join++].path)
            return oom(ps, pf);
        if (ns == CM_NS_NET)
            spec->network = CM_NET_JOIN;
    }
    if (!(seen & CM_NS_NET))
        spec->network = CM_NET_HOST;
    return 0;
}

static int parse_idmaps(struct parser *ps, const char *path, json_t *v, struct cm_idmap **out,
                        size_t *n_out)
{
    static const char *const known[] = {"containerID", "hostID", "size", NULL};
    if (!json_is_array(v))
        return bad(ps, path, "expected an array, got %s", kind(v));
    size_t n = json_array_size(v);
    /* The kernel takes 340 lines in uid_map since 4.15. */
    if (n > 340)
        return bad(ps, path, "%zu mappings is more than the kernel allows (340)", n);
    free(*out);
    *n_out = 0;
    *out = calloc(n ? n : 1, sizeof(struct cm_idmap));
    if (!*out)
        return oom(ps, path);
    for (size_t i = 0; i < n; i++) {
        char p[JPATH_MAX], pf[JPATH_MAX];
        idx(p, path, i);
        json_t *m = json_array_get(v, i);
        if (want_object(ps, p, m) < 0 || check_keys(ps, p, m, known, NULL, NULL) < 0)
            return -1;
        struct cm_idmap *map = &(*out)[i];
        static const char *const keys[] = {"containerID", "hostID", "size"};
        uint32_t *fields[] = {&map->container_id, &map->host_id, &map->size};
        for (size_t k = 0; k < 3; k++) {
            sub(pf, p, keys[k]);
            if (!get(m, keys[k]))
                return bad(ps, pf, "missing (required)");
            if (want_u32(ps, pf, get(m, keys[k]), fields[k]) < 0)
                return -1;
        }
        if (map->size == 0)
            return bad(ps, p, "size is 0");
        if ((uint64_t)map->container_id + map->size > (uint64_t)UINT32_MAX + 1 ||
            (uint64_t)map->host_id + map->size > (uint64_t)UINT32_MAX + 1)
            return bad(ps, p, "the range goes past 4294967295");
        *n_out = i + 1;
    }
    return 0;
}

static int parse_device_node(struct parser *ps, const char *path, json_t *v)
{
    static const char *const known[] = {"type", "path", "major", "minor", "fileMode",
                                        "uid", "gid", NULL};
    struct cm_spec *spec = ps->spec;
    char p[JPATH_MAX];
    if (want_object(ps, path, v) < 0 || check_keys(ps, path, v, known, NULL, NULL) < 0)
        return -1;
    struct cm_device *grown = realloc(spec->devices, (spec->n_devices + 1) * sizeof(*grown));
    if (!grown)
        return oom(ps, path);
    spec->devices = grown;
    struct cm_device *d = &grown[spec->n_devices++];
    memset(d, 0, sizeof(*d));
    d->major = d->minor = -1;
    json_t *f;
    const char *type = NULL;
    sub(p, path, "type");
    if (!(f = get(v, "type")))
        return bad(ps, p, "missing (required)");
    if (want_str(ps, p, f, &type) < 0)
        return -1;
    if (strlen(type) != 1 || !strchr("cbup", type[0]))
        return bad(ps, p, "\"%s\" is not a device type (c, b, u or p)", type);
    d->type = type[0];
    sub(p, path, "path");
    if (!(f = get(v, "path")))
        return bad(ps, p, "missing (required)");
    if (want_dup(ps, p, f, &d->path) < 0)
        return -1;
    if (strncmp(d->path, "/dev/", 5) != 0 || strstr(d->path, "/../") ||
        !strcmp(d->path + strlen(d->path) - 3, "/.."))
        return bad(ps, p, "\"%s\" is not a path under /dev", d->path);
    for (int k = 0; k < 2; k++) {
        const char *key = k ? "minor" : "major";
        int64_t *dst = k ? &d->minor : &d->major;
        sub(p, path, key);
        if ((f = get(v, key))) {
            if (want_i64(ps, p, f, 0, UINT32_MAX, dst) < 0)
                return -1;
        } else if (d->type != 'p') {
            return bad(ps, p, "missing (required for type %c)", d->type);
        }
    }
    uint64_t mode = 0666;
    sub(p, path, "fileMode");
    if ((f = get(v, "fileMode")) && want_u64(ps, p, f, 07777, &mode) < 0)
        return -1;
    d->file_mode = (mode_t)mode;
    uint32_t id = 0;
    sub(p, path, "uid");
    if ((f = get(v, "uid")) && want_u32(ps, p, f, &id) < 0)
        return -1;
    d->uid = id;
    id = 0;
    sub(p, path, "gid");
    if ((f = get(v, "gid")) && want_u32(ps, p, f, &id) < 0)
        return -1;
    d->gid = id;
    /* A listed device is usable, as runc and crun grant it in the device
     * cgroup; linux.resources.devices rules (path NULL) come after. */
    d->allow = true;
    d->access = strdup("rwm");
    if (!d->access)
        return oom(ps, path);
    return 0;
}

static int parse_device_rule(struct parser *ps, const char *path, json_t *v)
{
    static const char *const known[] = {"allow", "type", "major", "minor", "access", NULL};
    struct cm_spec *spec = ps->spec;
    char p[JPATH_MAX];
    if (want_object(ps, path, v) < 0 || check_keys(ps, path, v, known, NULL, NULL) < 0)
        return -1;
    struct cm_device *grown = realloc(spec->devices, (spec->n_devices + 1) * sizeof(*grown));
    if (!grown)
        return oom(ps, path);
    spec->devices = grown;
    struct cm_device *d = &grown[spec->n_devices++];
    memset(d, 0, sizeof(*d));
    d->major = d->minor = -1;
    d->type = 'a';
    json_t *f;
    sub(p, path, "allow");
    if (!(f = get(v, "allow")))
        return bad(ps, p, "missing (required)");
    if (want_bool(ps, p, f, &d->allow) < 0)
        return -1;
    sub(p, path, "type");
    if ((f = get(v, "type"))) {
        const char *type = NULL;
        if (want_str(ps, p, f, &type) < 0)
            return -1;
        if (strlen(type) != 1 || !strchr("acb", type[0]))
            return bad(ps, p, "\"%s\" is not a device cgroup type (a, c or b)", type);
        d->type = type[0];
    }
    for (int k = 0; k < 2; k++) {
        const char *key = k ? "minor" : "major";
        int64_t *dst = k ? &d->minor : &d->major;
        sub(p, path, key);
        if ((f = get(v, key)) && want_i64(ps, p, f, -1, UINT32_MAX, dst) < 0)
            return -1;
    }
    const char *access = "rwm";
    sub(p, path, "access");
    if ((f = get(v, "access"))) {
        if (want_str(ps, p, f, &access) < 0)
            return -1;
        if (!access[0] || strspn(access, "rwm") != strlen(access) || strlen(access) > 3)
            return bad(ps, p, "\"%s\" is not made of r, w and m", access);
    }
    d->access = strdup(access);
    if (!d->access)
        return oom(ps, path);
    return 0;
}

static int parse_memory(struct parser *ps, const char *path, json_t *v)
{
    static const char *const known[] = {"limit", "reservation", "swap", NULL};
    static const struct unsupported unsupported[] = {
        {"kernel", " (kernel memory limits are deprecated in the kernel)"},
        {"kernelTCP", ""},
        {"swappiness", ""},
        {"disableOOMKiller", ""},
        {"useHierarchy", ""},
        {"checkBeforeUpdate", ""},
        {NULL, NULL}};
    struct cm_resources *r = &ps->spec->resources;
    char p[JPATH_MAX];
    if (want_object(ps, path, v) < 0 || check_keys(ps, path, v, known, unsupported, NULL) < 0)
        return -1;
    json_t *f;
    struct {
        const char *key;
        int64_t *dst;
    } fields[] = {{"limit", &r->memory_limit},
                  {"reservation", &r->memory_reservation},
                  {"swap", &r->memory_swap}};
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        sub(p, path, fields[i].key);
        if (!(f = get(v, fields[i].key)))
            continue;
        int64_t val = 0;
        if (want_i64(ps, p, f, -1, INT64_MAX, &val) < 0)
            return -1;
        /* 0 is Go's zero value: "not set". */
        if (val != 0)
            *fields[i].dst = val;
    }
    if (r->memory_limit > 0 && r->memory_swap > 0 && r->memory_swap < r->memory_limit)
        return bad(ps, path, "swap (%" PRId64 ") must not be below limit (%" PRId64
                             "): it counts memory plus swap",
                   r->memory_swap, r->memory_limit);
    return 0;
}

static int parse_cpu(struct parser *ps, const char *path, json_t *v)
{
    static const char *const known[] = {"shares", "quota", "period", "cpus", "mems", NULL};
    static const struct unsupported unsupported[] = {
        {"burst", ""}, {"realtimeRuntime", ""}, {"realtimePeriod", ""}, {"idle", ""},
        {NULL, NULL}};
    struct cm_resources *r = &ps->spec->resources;
    char p[JPATH_MAX];
    if (want_object(ps, path, v) < 0 || check_keys(ps, path, v, known, unsupported, NULL) < 0)
        return -1;
    json_t *f;
    sub(p, path, "shares");
    if ((f = get(v, "shares")) && want_u64(ps, p, f, 262144, &r->cpu_shares) < 0)
        return -1;
    sub(p, path, "quota");
    if ((f = get(v, "quota"))) {
        int64_t q = 0;
        if (want_i64(ps, p, f, -1, INT64_MAX, &q) < 0)
            return -1;
        if (q != 0)
            r->cpu_quota = q;
    }
    sub(p, path, "period");
    if ((f = get(v, "period")) && want_u64(ps, p, f, 1000000, &r->cpu_period) < 0)
        return -1;
    if (r->cpu_period && r->cpu_period < 1000)
        return bad(ps, p, "%" PRIu64 " is below the kernel's minimum of 1000 us", r->cpu_period);
    if (r->cpu_quota > 0 && r->cpu_quota < 1000)
        return bad(ps, path, "quota %" PRId64 " is below the kernel's minimum of 1000 us",
                   r->cpu_quota);
    const char *sets[] = {"cpus", "mems"};
    char **dsts[] = {&r->cpuset_cpus, &r->cpuset_mems};
    for (size_t i = 0; i < 2; i++) {
        sub(p, path, sets[i]);
        if (!(f = get(v, sets[i])) || is_empty(f))
            continue;
        if (want_dup(ps, p, f, dsts[i]) < 0)
            return -1;
        if (strspn(*dsts[i], "0123456789,-") != strlen(*dsts[i]))
            return bad(ps, p, "\"%s\" is not a list like 0-3,8", *dsts[i]);
    }
    return 0;
}

static int parse_resources(struct parser *ps, const char *path, json_t *v)
{
    static const char *const known[] = {"devices", "memory", "cpu", "pids", "blockIO", NULL};
    static const struct unsupported unsupported[] = {
        {"hugepageLimits", ""},
        {"rdma", ""},
        {"network", " (classID and priorities: use a network policy on the host)"},
        {"unified", " (raw cgroup v2 files: give the OCI fields instead)"},
        {NULL, NULL}};
    struct cm_resources *r = &ps->spec->resources;
    char p[JPATH_MAX];
    if (want_object(ps, path, v) < 0 || check_keys(ps, path, v, known, unsupported, NULL) < 0)
        return -1;
    json_t *f;
    sub(p, path, "devices");
    if ((f = get(v, "devices"))) {
        if (!json_is_array(f))
            return bad(ps, p, "expected an array, got %s", kind(f));
        for (size_t i = 0; i < json_array_size(f); i++) {
            char pi[JPATH_MAX];
            idx(pi, p, i);
            if (parse_device_rule(ps, pi, json_array_get(f, i)) < 0)
                return -1;
        }
    }
    sub(p, path, "memory");
    if ((f = get(v, "memory")) && parse_memory(ps, p, f) < 0)
        return -1;
    sub(p, path, "cpu");
    if ((f = get(v, "cpu")) && parse_cpu(ps, p, f) < 0)
        return -1;
    sub(p, path, "pids");
    if ((f = get(v, "pids"))) {
        static const char *const pk[] = {"limit", NULL};
        if (want_object(ps, p, f) < 0 || check_keys(ps, p, f, pk, NULL, NULL) < 0)
            return -1;
        json_t *l = get(f, "limit");
        int64_t limit = 0;
        char pl[JPATH_MAX];
        sub(pl, p, "limit");
        if (l && want_i64(ps, pl, l, INT64_MIN, INT64_MAX, &limit) < 0)
            return -1;
        /* 0 and negative values mean "no limit" to runc and Docker. */
        r->pids_limit = limit > 0 ? limit : -1;
    }
    sub(p, path, "blockIO");
    if ((f = get(v, "blockIO"))) {
        static const char *const bk[] = {"weight", NULL};
        static const struct unsupported bu[] = {
            {"leafWeight", ""}, {"weightDevice", ""}, {"throttleReadBpsDevice", ""},
            {"throttleWriteBpsDevice", ""}, {"throttleReadIOPSDevice", ""},
            {"throttleWriteIOPSDevice", ""}, {NULL, NULL}};
        if (want_object(ps, p, f) < 0 || check_keys(ps, p, f, bk, bu, NULL) < 0)
            return -1;
        json_t *w = get(f, "weight");
        uint64_t weight = 0;
        char pw[JPATH_MAX];
        sub(pw, p, "weight");
        if (w && want_u64(ps, pw, w, 1000, &weight) < 0)
            return -1;
        if (weight != 0 && weight < 10)
            return bad(ps, pw, "%" PRIu64 " is out of range (10 to 1000)", weight);
        r->blkio_weight = (uint16_t)weight;
    }
    return 0;
}

static int parse_seccomp(struct parser *ps, json_t *v)
{
    if (want_object(ps, "linux.seccomp", v) < 0)
        return -1;
    _cleanup_free_ char *text = json_dumps(v, JSON_COMPACT);
    if (!text)
        return oom(ps, "linux.seccomp");
    unmark_big_ints(text);
    struct cm_seccomp_profile *profile = NULL;
    if (cm_seccomp_profile_parse(text, strlen(text), ORIGIN ": linux.seccomp", &profile,
                                 ps->err) < 0)
        return -1;
    cm_seccomp_profile_free(ps->spec->seccomp);
    ps->spec->seccomp = profile;
    ps->spec->seccomp_unconfined = false;
    free(ps->spec->seccomp_path);
    ps->spec->seccomp_path = strdup(ORIGIN ": linux.seccomp");
    if (!ps->spec->seccomp_path)
        return oom(ps, "linux.seccomp");
    return 0;
}

static int parse_propagation(struct parser *ps, const char *path, json_t *v, unsigned long *out)
{
    const char *s = NULL;
    if (want_str(ps, path, v, &s) < 0)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(propagation_opts); i++)
        if (!strcmp(propagation_opts[i].name, s) && !(propagation_opts[i].flags & MS_UNBINDABLE)) {
            *out = propagation_opts[i].flags;
            return 0;
        }
    return bad(ps, path, "\"%s\" is not one of private, rprivate, slave, rslave, shared, rshared",
               s);
}

static int parse_paths(struct parser *ps, const char *path, json_t *v, char ***out)
{
    if (want_strv(ps, path, v, out) < 0)
        return -1;
    for (size_t i = 0; (*out)[i]; i++)
        if ((*out)[i][0] != '/') {
            char p[JPATH_MAX];
            idx(p, path, i);
            return bad(ps, p, "\"%s\" is not an absolute path", (*out)[i]);
        }
    return 0;
}

static int parse_linux(struct parser *ps, json_t *v)
{
    static const char *const known[] = {
        "namespaces", "uidMappings", "gidMappings", "devices", "resources", "cgroupsPath",
        "sysctl", "seccomp", "maskedPaths", "readonlyPaths", "rootfsPropagation",
        "mountLabel", NULL};
    static const struct unsupported unsupported[] = {
        {"timeOffsets", " yet (time namespace offsets are not implemented; leave it empty)"},
        {"intelRdt", ""},
        {"personality", ""},
        {"memoryPolicy", ""},
        {"netDevices", ""},
        {"scheduler", ""},
        {"ioPriority", ""},
        {"execCPUAffinity", ""},
        {NULL, NULL}};
    struct cm_spec *spec = ps->spec;
    if (want_object(ps, "linux", v) < 0 ||
        check_keys(ps, "linux", v, known, unsupported, NULL) < 0)
        return -1;
    json_t *f;
    if ((f = get(v, "namespaces")) && parse_namespaces(ps, "linux.namespaces", f) < 0)
        return -1;
    if ((f = get(v, "uidMappings")) &&
        parse_idmaps(ps, "linux.uidMappings", f, &spec->uid_map, &spec->n_uid_map) < 0)
        return -1;
    if ((f = get(v, "gidMappings")) &&
        parse_idmaps(ps, "linux.gidMappings", f, &spec->gid_map, &spec->n_gid_map) < 0)
        return -1;
    if ((f = get(v, "devices"))) {
        if (!json_is_array(f))
            return bad(ps, "linux.devices", "expected an array, got %s", kind(f));
        for (size_t i = 0; i < json_array_size(f); i++) {
            char p[JPATH_MAX];
            idx(p, "linux.devices", i);
            if (parse_device_node(ps, p, json_array_get(f, i)) < 0)
                return -1;
        }
    }
    if ((f = get(v, "resources")) && parse_resources(ps, "linux.resources", f) < 0)
        return -1;
    if ((f = get(v, "cgroupsPath")) && !is_empty(f) &&
        want_dup(ps, "linux.cgroupsPath", f, &spec->cgroups_path) < 0)
        return -1;
    if ((f = get(v, "sysctl")) &&
        want_kvs(ps, "linux.sysctl", f, &spec->sysctl, &spec->n_sysctl) < 0)
        return -1;
    if ((f = get(v, "seccomp")) && parse_seccomp(ps, f) < 0)
        return -1;
    if ((f = get(v, "maskedPaths")) && parse_paths(ps, "linux.maskedPaths", f, &spec->masked_paths) < 0)
        return -1;
    if ((f = get(v, "readonlyPaths")) &&
        parse_paths(ps, "linux.readonlyPaths", f, &spec->readonly_paths) < 0)
        return -1;
    if ((f = get(v, "rootfsPropagation")) && !is_empty(f) &&
        parse_propagation(ps, "linux.rootfsPropagation", f, &spec->rootfs_propagation) < 0)
        return -1;
    if ((f = get(v, "mountLabel")) && !is_empty(f) &&
        want_dup(ps, "linux.mountLabel", f, &spec->mount_label) < 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Checks across fields, once everything is read. */

static int check_whole(struct parser *ps)
{
    struct cm_spec *spec = ps->spec;
    bool userns = spec->ns_new & CM_NS_USER;
    bool userns_joined = false;
    bool uts = spec->ns_new & CM_NS_UTS;
    for (size_t i = 0; i < spec->n_ns_join; i++) {
        userns_joined |= spec->ns_join[i].type == CM_NS_USER;
        uts |= spec->ns_join[i].type == CM_NS_UTS;
    }
    if ((spec->n_uid_map || spec->n_gid_map) && !userns && !userns_joined)
        return bad(ps, "linux.uidMappings", "mappings need a new user namespace in "
                                            "linux.namespaces");
    /* No mappings at all: casemate allocates a host range at run time (crun
     * maps the caller likewise). One without the other is a mistake. */
    if (userns && !userns_joined && !spec->n_uid_map != !spec->n_gid_map)
        return bad(ps, spec->n_uid_map ? "linux.gidMappings" : "linux.uidMappings",
                   "missing while %s is given", spec->n_uid_map ? "uidMappings" : "gidMappings");
    if (userns_joined && (spec->n_uid_map || spec->n_gid_map))
        return bad(ps, "linux.uidMappings", "mappings cannot be given for a joined user namespace");
    if ((spec->hostname || spec->domainname) && !uts)
        return bad(ps, spec->hostname ? "hostname" : "domainname",
                   "setting it needs a new uts namespace in linux.namespaces");
    return 0;
}

/* ------------------------------------------------------------------ */

/* OCI has no "privileged": Docker, Podman and containerd write --privileged
 * as CAP_SYS_ADMIN (with every other capability), no seccomp filter and a
 * device cgroup that allows every device. Name it, so that the host policy
 * and `casemate audit config` judge it by the same rule (CM-CFG-001) as a
 * `docker inspect` document that says "Privileged": true. */
static bool looks_privileged(const struct cm_spec *spec)
{
    const uint64_t sys_admin = UINT64_C(1) << CAP_SYS_ADMIN;
    if (!spec->seccomp_unconfined || !(spec->cap_bounding & sys_admin) ||
        !(spec->cap_effective & sys_admin))
        return false;
    bool all_devices = false;
    for (size_t i = 0; i < spec->n_devices; i++) {
        const struct cm_device *d = &spec->devices[i];
        if (!d->path && d->type == 'a' && d->major < 0 && d->minor < 0)
            all_devices = d->allow; /* the last such rule wins */
    }
    return all_devices;
}

int cm_oci_spec_parse(const char *json, size_t len, const char *bundle_dir,
                      struct cm_spec *spec, struct cm_error *err)
{
    static const char *const known[] = {"ociVersion", "process", "root", "hostname",
                                        "domainname", "mounts", "hooks", "annotations",
                                        "linux", NULL};
    /* Other platforms' sections: harmless when empty (some engines send
     * "windows": null). */
    static const char *const tolerated[] = {"windows", "solaris", "vm", "zos", NULL};
    struct cm_error scratch = {0};
    if (!err)
        err = &scratch;
    cm_err_clear(err);
    if (!json)
        return cm_err_set(err, EINVAL, ORIGIN ": no text");
    size_t marked_len = 0;
    _cleanup_free_ char *marked = mark_big_ints(json, len, &marked_len);
    if (!marked)
        return cm_err_set(err, ENOMEM, ORIGIN ": reading");
    json_error_t jerr;
    _cleanup_json_ json_t *root =
        json_loadb(marked, marked_len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!root)
        return cm_err_set(err, 0, ORIGIN ": invalid JSON at line %d, column %d: %s", jerr.line,
                          jerr.column, jerr.text);
    struct parser ps = {.spec = spec, .err = err, .bundle_dir = bundle_dir};
    if (!json_is_object(root))
        return cm_err_set(err, 0, ORIGIN ": expected a JSON object, got %s", kind(root));

    /* As written: the runtime-spec meaning of every absent field. */
    spec->readonly_rootfs = false;
    spec->no_new_privs = false;
    spec->seccomp_unconfined = true;
    spec->ns_new = 0;
    spec->network = CM_NET_HOST;
    spec->rootfs_propagation = MS_PRIVATE | MS_REC;
    spec->oci_mounts = true;
    spec->tmp_size = 0;
    spec->resources.memory_limit = -1;
    spec->resources.memory_swap = -2;
    spec->resources.memory_reservation = -1;
    spec->resources.cpu_quota = -1;
    spec->resources.pids_limit = -1;
    spec->resources.hugetlb_limit = -1;
    if (bundle_dir) {
        free(spec->bundle);
        spec->bundle = strdup(bundle_dir);
        if (!spec->bundle)
            return cm_err_set(err, ENOMEM, ORIGIN);
    }

    if (check_keys(&ps, "", root, known, NULL, tolerated) < 0)
        return -1;
    json_t *f;
    if (parse_version(&ps, get(root, "ociVersion")) < 0)
        return -1;
    if ((f = get(root, "process")) && parse_process(&ps, f) < 0)
        return -1;
    if (parse_root(&ps, get(root, "root")) < 0)
        return -1;
    if ((f = get(root, "hostname")) && parse_name(&ps, "hostname", f, &spec->hostname) < 0)
        return -1;
    if ((f = get(root, "domainname")) && parse_name(&ps, "domainname", f, &spec->domainname) < 0)
        return -1;
    /* linux first: mounts are checked against its user namespace. */
    if (!(f = get(root, "linux")))
        return bad(&ps, "linux", "missing (casemate runs Linux containers only)");
    if (parse_linux(&ps, f) < 0)
        return -1;
    if ((f = get(root, "mounts")) && parse_mounts(&ps, f) < 0)
        return -1;
    if ((f = get(root, "hooks")) && parse_hooks(&ps, f) < 0)
        return -1;
    if ((f = get(root, "annotations")) &&
        want_kvs(&ps, "annotations", f, &spec->annotations, &spec->n_annotations) < 0)
        return -1;
    spec->privileged = looks_privileged(spec);
    return check_whole(&ps);
}

int cm_oci_spec_load(const char *bundle_dir, struct cm_spec *spec, struct cm_error *err)
{
    _cleanup_free_ char *abs = realpath(bundle_dir, NULL);
    if (!abs)
        return cm_err_sys(err, "reading the bundle %s", bundle_dir);
    _cleanup_close_ int dirfd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return cm_err_sys(err, "opening the bundle %s", abs);
    _cleanup_close_ int fd = openat(dirfd, "config.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return cm_err_sys(err, "opening %s/config.json", abs);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return cm_err_sys(err, "reading %s/config.json", abs);
    if (!S_ISREG(st.st_mode))
        return cm_err_set(err, 0, "reading %s/config.json: not a regular file", abs);
    if (st.st_size > (off_t)CONFIG_MAX_BYTES)
        return cm_err_set(err, 0, "reading %s/config.json: %lld bytes is too large (limit %u)",
                          abs, (long long)st.st_size, CONFIG_MAX_BYTES);
    _cleanup_free_ char *text = malloc((size_t)st.st_size + 1);
    if (!text)
        return cm_err_set(err, ENOMEM, "reading %s/config.json", abs);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cm_err_sys(err, "reading %s/config.json", abs);
        if (n == 0)
            break;
        got += (size_t)n;
    }
    text[got] = '\0';
    if (cm_oci_spec_parse(text, got, abs, spec, err) < 0)
        return cm_err_prefix(err, "in the bundle %s", abs);
    return 0;
}

/* ================================================================== */
/* Writing: struct cm_spec -> config.json. */

static int put(json_t *obj, const char *key, json_t *v)
{
    return v ? json_object_set_new(obj, key, v) : -1;
}

static json_t *strv_json(char *const *v)
{
    json_t *a = json_array();
    for (size_t i = 0; a && v && v[i]; i++)
        if (json_array_append_new(a, json_string(v[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *caps_json(uint64_t mask)
{
    json_t *a = json_array();
    for (int c = 0; a && c < 64; c++) {
        if (!(mask & ((uint64_t)1 << c)))
            continue;
        const char *name = cm_cap_name(c);
        if (!name || json_array_append_new(a, json_string(name)) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* "nofile" or "RLIMIT_NOFILE", whichever cm_rlimit_name gives, as OCI. */
static json_t *rlimit_name_json(int resource)
{
    const char *name = cm_rlimit_name(resource);
    if (!name || !strcmp(name, "unknown"))
        return NULL;
    char buf[64];
    if (strncasecmp(name, "RLIMIT_", 7) == 0)
        name += 7;
    int n = snprintf(buf, sizeof(buf), "RLIMIT_%s", name);
    for (int i = 7; i < n; i++)
        if (buf[i] >= 'a' && buf[i] <= 'z')
            buf[i] = (char)(buf[i] - 'a' + 'A');
    return json_string(buf);
}

/* Writers attach each child to its parent first (json_object_set_new takes
 * the reference even when it fails), so an error never leaks a subtree. */
static json_t *child_object(json_t *parent, const char *key)
{
    json_t *o = json_object();
    return put(parent, key, o) == 0 ? o : NULL;
}

static json_t *child_array(json_t *parent, const char *key)
{
    json_t *a = json_array();
    return put(parent, key, a) == 0 ? a : NULL;
}

static int append(json_t *array, json_t *v) { return v ? json_array_append_new(array, v) : -1; }

static int process_json(const struct cm_spec *spec, json_t *p)
{
    json_t *caps = NULL;
    json_t *user = put(p, "terminal", json_boolean(spec->terminal)) == 0
                       ? child_object(p, "user") : NULL;
    bool ok = user && put(user, "uid", json_integer(spec->uid)) == 0 &&
              put(user, "gid", json_integer(spec->gid)) == 0;
    if (ok && spec->umask_set)
        ok = put(user, "umask", json_integer(spec->umask)) == 0;
    if (ok && spec->n_additional_gids) {
        json_t *g = child_array(user, "additionalGids");
        ok = g != NULL;
        for (size_t i = 0; ok && i < spec->n_additional_gids; i++)
            ok = append(g, json_integer(spec->additional_gids[i])) == 0;
    }
    ok = ok && put(p, "args", strv_json(spec->args)) == 0 &&
         put(p, "env", strv_json(spec->env)) == 0 &&
         put(p, "cwd", json_string(spec->cwd ? spec->cwd : "/")) == 0 &&
         (caps = child_object(p, "capabilities"));
    for (size_t s = 0; ok && s < ARRAY_SIZE(cap_sets); s++) {
        const uint64_t *mask = (const uint64_t *)((const char *)spec + cap_sets[s].offset);
        ok = put(caps, cap_sets[s].key, caps_json(*mask)) == 0;
    }
    json_t *rl = ok && spec->n_rlimits ? child_array(p, "rlimits") : NULL;
    for (size_t i = 0; ok && i < spec->n_rlimits; i++) {
        const struct cm_rlimit *l = &spec->rlimits[i];
        json_t *o = json_object();
        ok = append(rl, o) == 0 && put(o, "type", rlimit_name_json(l->resource)) == 0 &&
             put(o, "hard", json_u64(l->hard)) == 0 && put(o, "soft", json_u64(l->soft)) == 0;
    }
    ok = ok && put(p, "noNewPrivileges", json_boolean(spec->no_new_privs)) == 0;
    if (ok && spec->oom_score_adj_set)
        ok = put(p, "oomScoreAdj", json_integer(spec->oom_score_adj)) == 0;
    if (ok && spec->apparmor_profile)
        ok = put(p, "apparmorProfile", json_string(spec->apparmor_profile)) == 0;
    if (ok && spec->selinux_label)
        ok = put(p, "selinuxLabel", json_string(spec->selinux_label)) == 0;
    return ok ? 0 : -1;
}

static int mount_options_append(json_t *opts, const struct cm_mount *m)
{
    bool ok = true;
    if (m->flags & MS_BIND)
        ok = json_array_append_new(opts, json_string(m->recursive ? "rbind" : "bind")) == 0;
    for (size_t i = 0; ok && i < ARRAY_SIZE(mount_flag_opts); i++) {
        const struct mount_opt *o = &mount_flag_opts[i];
        unsigned long set = o->clear ? m->clear_flags : m->flags;
        if (set & o->flag)
            ok = json_array_append_new(opts, json_string(o->name)) == 0;
    }
    for (size_t i = 0; ok && m->propagation && i < ARRAY_SIZE(propagation_opts); i++)
        if (propagation_opts[i].flags == m->propagation)
            ok = json_array_append_new(opts, json_string(propagation_opts[i].name)) == 0;
    if (ok && m->idmap)
        ok = json_array_append_new(opts, json_string("idmap")) == 0;
    if (ok && m->data) {
        _cleanup_free_ char *data = strdup(m->data);
        char *save = NULL;
        if (!data)
            return -1;
        for (char *t = strtok_r(data, ",", &save); ok && t; t = strtok_r(NULL, ",", &save))
            ok = json_array_append_new(opts, json_string(t)) == 0;
    }
    return ok ? 0 : -1;
}

static json_t *mounts_json(const struct cm_spec *spec)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < spec->n_mounts; i++) {
        const struct cm_mount *m = &spec->mounts[i];
        json_t *o = json_object(), *opts = json_array();
        bool ok = o && opts && put(o, "destination", json_string(m->destination)) == 0 &&
                  (!m->type || put(o, "type", json_string(m->type)) == 0) &&
                  (!m->source || put(o, "source", json_string(m->source)) == 0) &&
                  mount_options_append(opts, m) == 0;
        if (ok && json_array_size(opts)) {
            ok = put(o, "options", opts) == 0;
            opts = NULL;
        }
        json_decref(opts);
        if (!ok || json_array_append_new(a, o) < 0) {
            if (!ok)
                json_decref(o);
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *hooks_json(const struct cm_spec *spec)
{
    json_t *h = json_object();
    for (int k = 0; h && k < CM_HOOK_KIND_COUNT; k++) {
        if (!spec->n_hooks[k])
            continue;
        json_t *list = json_array();
        bool ok = list && put(h, hook_names[k], list) == 0;
        for (size_t i = 0; ok && i < spec->n_hooks[k]; i++) {
            const struct cm_hook *hook = &spec->hooks[k][i];
            json_t *o = json_object();
            ok = o && json_array_append_new(list, o) == 0 &&
                 put(o, "path", json_string(hook->path)) == 0 &&
                 (!hook->args || put(o, "args", strv_json(hook->args)) == 0) &&
                 (!hook->env || put(o, "env", strv_json(hook->env)) == 0) &&
                 (!hook->timeout || put(o, "timeout", json_integer(hook->timeout)) == 0);
        }
        if (!ok) {
            json_decref(h);
            return NULL;
        }
    }
    return h;
}

static json_t *kvs_json(const struct cm_kv *kv, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        if (put(o, kv[i].key, json_string(kv[i].value)) < 0) {
            json_decref(o);
            return NULL;
        }
    return o;
}

static json_t *idmaps_json(const struct cm_idmap *m, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *o = json_pack("{s:I, s:I, s:I}", "containerID", (json_int_t)m[i].container_id,
                              "hostID", (json_int_t)m[i].host_id, "size", (json_int_t)m[i].size);
        if (json_array_append_new(a, o) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *namespaces_json(const struct cm_spec *spec)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < ARRAY_SIZE(ns_names); i++) {
        json_t *o = NULL;
        if (spec->ns_new & ns_names[i].ns)
            o = json_pack("{s:s}", "type", ns_names[i].name);
        for (size_t j = 0; !o && j < spec->n_ns_join; j++)
            if (spec->ns_join[j].type == ns_names[i].ns)
                o = json_pack("{s:s, s:s}", "type", ns_names[i].name, "path",
                              spec->ns_join[j].path);
        if (o && json_array_append_new(a, o) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static int devices_json(const struct cm_spec *spec, json_t *lx, json_t *resources)
{
    json_t *nodes = NULL, *rules = NULL;
    bool ok = true;
    for (size_t i = 0; ok && i < spec->n_devices; i++) {
        const struct cm_device *d = &spec->devices[i];
        char type[2] = {d->type, '\0'};
        json_t *o = json_object();
        if (d->path) {
            ok = (nodes || (nodes = child_array(lx, "devices"))) && append(nodes, o) == 0 &&
                 put(o, "path", json_string(d->path)) == 0 &&
                 put(o, "type", json_string(type)) == 0 &&
                 (d->major < 0 || put(o, "major", json_integer(d->major)) == 0) &&
                 (d->minor < 0 || put(o, "minor", json_integer(d->minor)) == 0) &&
                 put(o, "fileMode", json_integer(d->file_mode)) == 0 &&
                 put(o, "uid", json_integer(d->uid)) == 0 &&
                 put(o, "gid", json_integer(d->gid)) == 0;
        } else {
            ok = (rules || (rules = child_array(resources, "devices"))) && append(rules, o) == 0 &&
                 put(o, "allow", json_boolean(d->allow)) == 0 &&
                 (d->type == 'a' || put(o, "type", json_string(type)) == 0) &&
                 (d->major < 0 || put(o, "major", json_integer(d->major)) == 0) &&
                 (d->minor < 0 || put(o, "minor", json_integer(d->minor)) == 0) &&
                 put(o, "access", json_string(d->access ? d->access : "rwm")) == 0;
        }
    }
    return ok ? 0 : -1;
}

static json_t *resources_json(const struct cm_spec *spec, json_t *lx)
{
    const struct cm_resources *r = &spec->resources;
    json_t *res = json_object(), *mem = json_object(), *cpu = json_object();
    bool ok = res && mem && cpu && devices_json(spec, lx, res) == 0;
    if (ok && r->memory_limit > 0)
        ok = put(mem, "limit", json_integer(r->memory_limit)) == 0;
    if (ok && r->memory_reservation > 0)
        ok = put(mem, "reservation", json_integer(r->memory_reservation)) == 0;
    if (ok && (r->memory_swap > 0 || r->memory_swap == -1))
        ok = put(mem, "swap", json_integer(r->memory_swap)) == 0;
    if (ok && r->cpu_shares)
        ok = put(cpu, "shares", json_u64(r->cpu_shares)) == 0;
    if (ok && r->cpu_quota > 0)
        ok = put(cpu, "quota", json_integer(r->cpu_quota)) == 0;
    if (ok && r->cpu_period)
        ok = put(cpu, "period", json_u64(r->cpu_period)) == 0;
    if (ok && r->cpuset_cpus)
        ok = put(cpu, "cpus", json_string(r->cpuset_cpus)) == 0;
    if (ok && r->cpuset_mems)
        ok = put(cpu, "mems", json_string(r->cpuset_mems)) == 0;
    if (ok && json_object_size(mem)) {
        ok = put(res, "memory", mem) == 0;
        mem = NULL;
    }
    if (ok && json_object_size(cpu)) {
        ok = put(res, "cpu", cpu) == 0;
        cpu = NULL;
    }
    if (ok && r->pids_limit > 0)
        ok = put(res, "pids", json_pack("{s:I}", "limit", (json_int_t)r->pids_limit)) == 0;
    if (ok && r->blkio_weight)
        ok = put(res, "blockIO", json_pack("{s:i}", "weight", (int)r->blkio_weight)) == 0;
    json_decref(mem);
    json_decref(cpu);
    if (!ok) {
        json_decref(res);
        return NULL;
    }
    return res;
}

/* ------------------------------------------------------------------ */
/* Seccomp, written as OCI JSON. OCI has no capability or architecture
 * conditions on a rule, so Docker-style conditions are resolved here, as
 * dockerd does when it writes config.json: against the spec's bounding set
 * and the architecture casemate was built for. */

static const struct {
    const char *name;
    enum cm_scmp_action action;
} scmp_actions[] = {
    {"SCMP_ACT_KILL_PROCESS", CM_SCMP_KILL_PROCESS}, {"SCMP_ACT_KILL_THREAD", CM_SCMP_KILL_THREAD},
    {"SCMP_ACT_TRAP", CM_SCMP_TRAP},                 {"SCMP_ACT_ERRNO", CM_SCMP_ERRNO},
    {"SCMP_ACT_TRACE", CM_SCMP_TRACE},               {"SCMP_ACT_ALLOW", CM_SCMP_ALLOW},
    {"SCMP_ACT_LOG", CM_SCMP_LOG},                   {"SCMP_ACT_NOTIFY", CM_SCMP_NOTIFY},
};

static const char *const scmp_ops[] = {
    [CM_SCMP_CMP_NE] = "SCMP_CMP_NE", [CM_SCMP_CMP_LT] = "SCMP_CMP_LT",
    [CM_SCMP_CMP_LE] = "SCMP_CMP_LE", [CM_SCMP_CMP_EQ] = "SCMP_CMP_EQ",
    [CM_SCMP_CMP_GE] = "SCMP_CMP_GE", [CM_SCMP_CMP_GT] = "SCMP_CMP_GT",
    [CM_SCMP_CMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static const struct {
    const char *name;
    unsigned flag;
} scmp_flags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", 1},
    {"SECCOMP_FILTER_FLAG_LOG", 2},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", 4},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 32},
};

/* Go's GOARCH for the architecture this binary runs on: the name Docker's
 * includes/excludes.arches use. */
static const char *native_docker_arch(void)
{
#if defined(__x86_64__) && defined(__ILP32__)
    return "x32";
#elif defined(__x86_64__)
    return "amd64";
#elif defined(__i386__)
    return "x86";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__arm__)
    return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return "ppc64le";
#elif defined(__s390x__)
    return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#elif defined(__loongarch64)
    return "loong64";
#else
    return "";
#endif
}

static bool strv_has(char *const *v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++)
        if (!strcmp(v[i], s))
            return true;
    return false;
}

static bool rule_applies(const struct cm_scmp_rule *r, uint64_t caps)
{
    if (r->has_include_caps && (r->include_caps & ~caps))
        return false;
    if (r->has_exclude_caps && (r->exclude_caps & caps))
        return false;
    if (r->include_arches && r->include_arches[0] &&
        !strv_has(r->include_arches, native_docker_arch()))
        return false;
    if (strv_has(r->exclude_arches, native_docker_arch()))
        return false;
    return true;
}

static const char *action_str(enum cm_scmp_action a)
{
    for (size_t i = 0; i < ARRAY_SIZE(scmp_actions); i++)
        if (scmp_actions[i].action == a)
            return scmp_actions[i].name;
    return NULL;
}

static bool takes_errno(enum cm_scmp_action a) { return a == CM_SCMP_ERRNO || a == CM_SCMP_TRACE; }

static int seccomp_rule_json(const struct cm_scmp_rule *r, json_t *o)
{
    const char *action = action_str(r->action);
    bool ok = action && put(o, "names", strv_json(r->names)) == 0 &&
              put(o, "action", json_string(action)) == 0;
    if (ok && takes_errno(r->action) && r->errno_ret >= 0)
        ok = put(o, "errnoRet", json_integer(r->errno_ret)) == 0;
    json_t *args = ok && r->n_args ? child_array(o, "args") : NULL;
    for (size_t i = 0; ok && i < r->n_args; i++) {
        const struct cm_scmp_arg *a = &r->args[i];
        json_t *ao = json_object();
        ok = append(args, ao) == 0 && (unsigned)a->op < ARRAY_SIZE(scmp_ops) &&
             put(ao, "index", json_integer(a->index)) == 0 &&
             put(ao, "value", json_u64(a->value)) == 0 &&
             (!a->value_two || put(ao, "valueTwo", json_u64(a->value_two)) == 0) &&
             put(ao, "op", json_string(scmp_ops[a->op])) == 0;
    }
    return ok ? 0 : -1;
}

static int seccomp_json(const struct cm_seccomp_profile *p, uint64_t caps, json_t *o)
{
    const char *def = action_str(p->default_action);
    bool ok = def && put(o, "defaultAction", json_string(def)) == 0;
    if (ok && takes_errno(p->default_action))
        ok = put(o, "defaultErrnoRet", json_integer(p->default_errno)) == 0;
    if (ok && p->architectures)
        ok = put(o, "architectures", strv_json(p->architectures)) == 0;
    json_t *flags = ok && p->flags ? child_array(o, "flags") : NULL;
    for (size_t i = 0; ok && flags && i < ARRAY_SIZE(scmp_flags); i++)
        if (p->flags & scmp_flags[i].flag)
            ok = append(flags, json_string(scmp_flags[i].name)) == 0;
    if (ok && p->listener_path)
        ok = put(o, "listenerPath", json_string(p->listener_path)) == 0;
    if (ok && p->listener_metadata)
        ok = put(o, "listenerMetadata", json_string(p->listener_metadata)) == 0;
    json_t *rules = ok ? child_array(o, "syscalls") : NULL;
    ok = ok && rules;
    for (size_t i = 0; ok && i < p->n_rules; i++) {
        if (!rule_applies(&p->rules[i], caps))
            continue;
        json_t *r = json_object();
        ok = append(rules, r) == 0 && seccomp_rule_json(&p->rules[i], r) == 0;
    }
    return ok ? 0 : -1;
}

static const char *propagation_name(unsigned long flags)
{
    for (size_t i = 0; i < ARRAY_SIZE(propagation_opts); i++)
        if (propagation_opts[i].flags == flags)
            return propagation_opts[i].name;
    return NULL;
}

static json_t *linux_json(const struct cm_spec *spec, struct cm_error *err)
{
    json_t *l = json_object();
    bool ok = l && put(l, "namespaces", namespaces_json(spec)) == 0;
    if (ok && spec->n_uid_map)
        ok = put(l, "uidMappings", idmaps_json(spec->uid_map, spec->n_uid_map)) == 0;
    if (ok && spec->n_gid_map)
        ok = put(l, "gidMappings", idmaps_json(spec->gid_map, spec->n_gid_map)) == 0;
    json_t *res = ok ? resources_json(spec, l) : NULL;
    ok = ok && res;
    if (ok && json_object_size(res))
        ok = put(l, "resources", json_incref(res)) == 0;
    json_decref(res);
    if (ok && spec->cgroups_path)
        ok = put(l, "cgroupsPath", json_string(spec->cgroups_path)) == 0;
    if (ok && spec->n_sysctl)
        ok = put(l, "sysctl", kvs_json(spec->sysctl, spec->n_sysctl)) == 0;
    if (ok && spec->seccomp) {
        json_t *sc = child_object(l, "seccomp");
        ok = sc && seccomp_json(spec->seccomp, spec->cap_bounding, sc) == 0;
    } else if (ok && !spec->seccomp_unconfined) {
        /* casemate's default profile, spelled out so that any runtime (and
         * any reader) applies the same filter. */
        struct cm_seccomp_profile *def = NULL;
        if (cm_seccomp_profile_default(&def, err) < 0) {
            json_decref(l);
            return NULL;
        }
        json_t *sc = child_object(l, "seccomp");
        ok = sc && seccomp_json(def, spec->cap_bounding, sc) == 0;
        cm_seccomp_profile_free(def);
    }
    if (ok && spec->masked_paths)
        ok = put(l, "maskedPaths", strv_json(spec->masked_paths)) == 0;
    if (ok && spec->readonly_paths)
        ok = put(l, "readonlyPaths", strv_json(spec->readonly_paths)) == 0;
    const char *prop = propagation_name(spec->rootfs_propagation);
    if (ok && prop)
        ok = put(l, "rootfsPropagation", json_string(prop)) == 0;
    if (ok && spec->mount_label)
        ok = put(l, "mountLabel", json_string(spec->mount_label)) == 0;
    if (!ok) {
        json_decref(l);
        cm_err_set(err, ENOMEM, "writing config.json: linux");
        return NULL;
    }
    return l;
}

/* The oldest runtime-spec version that has every field written, so that
 * older runtimes read the bundle too (crun 1.8.1 in Debian 12 refuses
 * "1.2.0"; the engines there write "1.0.2-dev"). */
static const char *needed_version(const struct cm_spec *spec)
{
    for (size_t i = 0; i < spec->n_mounts; i++)
        if (spec->mounts[i].idmap)
            return "1.2.0";
    bool notify = false;
    for (size_t i = 0; spec->seccomp && i < spec->seccomp->n_rules; i++)
        notify |= spec->seccomp->rules[i].action == CM_SCMP_NOTIFY;
    if ((spec->ns_new & CM_NS_TIME) || notify ||
        (spec->seccomp && (spec->seccomp->listener_path || (spec->seccomp->flags & 32))))
        return "1.1.0";
    return "1.0.2";
}

char *cm_oci_spec_to_json(const struct cm_spec *spec, struct cm_error *err)
{
    _cleanup_json_ json_t *root = json_object();
    if (!root)
        return cm_err_set(err, ENOMEM, "writing config.json"), NULL;
    bool ok = put(root, "ociVersion", json_string(needed_version(spec))) == 0;
    if (ok && spec->args) {
        json_t *p = child_object(root, "process");
        ok = p && process_json(spec, p) == 0;
    }
    json_t *r = json_pack("{s:s, s:b}", "path", spec->rootfs ? spec->rootfs : "rootfs",
                          "readonly", spec->readonly_rootfs);
    ok = ok && put(root, "root", r) == 0;
    if (ok && spec->hostname)
        ok = put(root, "hostname", json_string(spec->hostname)) == 0;
    if (ok && spec->domainname)
        ok = put(root, "domainname", json_string(spec->domainname)) == 0;
    if (ok)
        ok = put(root, "mounts", mounts_json(spec)) == 0;
    json_t *hooks = ok ? hooks_json(spec) : NULL;
    ok = ok && hooks;
    if (ok && json_object_size(hooks))
        ok = put(root, "hooks", json_incref(hooks)) == 0;
    json_decref(hooks);
    if (ok && spec->n_annotations)
        ok = put(root, "annotations", kvs_json(spec->annotations, spec->n_annotations)) == 0;
    if (!ok)
        return cm_err_set(err, ENOMEM, "writing config.json"), NULL;
    json_t *l = linux_json(spec, err);
    if (!l || put(root, "linux", l) < 0)
        return NULL;
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text)
        return cm_err_set(err, ENOMEM, "writing config.json"), NULL;
    unmark_big_ints(text);
    return text;
}

/* ------------------------------------------------------------------ */
/* casemate's defaults in OCI terms: what `casemate run` would do, with the
 * implicit parts (/proc, /dev, the tmpfs mounts, the user namespace range,
 * the device cgroup) written out since an OCI config is taken as written. */

#define CM_OCI_PLACEHOLDER_HOST_ID 100000u
#define CM_OCI_MAPPING_SIZE 65536u

struct default_mount {
    const char *destination, *type, *source;
    unsigned long flags;
    const char *data;
};

static const struct default_mount default_mounts[] = {
    {"/proc", "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL},
    {"/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"},
    {"/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
     "newinstance,ptmxmode=0666,mode=0620,gid=5"},
    {"/dev/shm", "tmpfs", "shm", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k"},
    {"/dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL},
    {"/sys", "sysfs", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL},
    {"/sys/fs/cgroup", "cgroup", "cgroup",
     MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY, NULL},
    {"/tmp", "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
    {"/run", "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755"},
};

static const struct {
    int resource;
    uint64_t soft, hard;
} default_rlimits[] = {
    {RLIMIT_NOFILE, 1024, 1024},
    {RLIMIT_CORE, 0, 0}, /* a core dump can leak secrets to the host */
};


/* casemate's hardened spec with the OCI specifics added. `rootless`: map
 * only the caller's own uid and gid, and leave cgroups alone (an unprivileged
 * user has neither subordinate ids through newuidmap here nor a delegated
 * cgroup). */
int cm_oci_spec_defaults(struct cm_spec *spec, bool rootless, struct cm_error *err)
{
    if (cm_spec_init_defaults(spec) < 0)
        return cm_err_set(err, ENOMEM, "building the default spec");
    if (cm_strv_append(&spec->args, "sh") < 0 || cm_env_set(&spec->env, "TERM=xterm") < 0 ||
        !(spec->rootfs = strdup("rootfs")) || !(spec->hostname = strdup("casemate")))
        return cm_err_set(err, ENOMEM, "building the default spec");
    spec->user_resolved = true;
    spec->oci_mounts = true;
    spec->seccomp_unconfined = false;
    spec->rootfs_propagation = MS_PRIVATE | MS_REC;
    for (size_t i = 0; i < ARRAY_SIZE(default_mounts); i++) {
        const struct default_mount *d = &default_mounts[i];
        struct cm_mount *m = cm_spec_add_mount(spec);
        if (!m)
            return cm_err_set(err, ENOMEM, "building the default spec");
        m->flags = d->flags;
        m->destination = strdup(d->destination);
        m->type = strdup(d->type);
        m->source = strdup(d->source);
        if (!strcmp(d->type, "tmpfs") && !strcmp(d->source, "tmpfs") && strcmp(d->destination, "/dev")) {
            /* /tmp and /run: casemate run's size-limited tmpfs. */
            if (asprintf(&m->data, "%s,size=%llu", d->data, (unsigned long long)spec->tmp_size) < 0)
                m->data = NULL;
        } else if (d->data) {
            /* Rootless: gid 5 is not mapped, devpts would refuse gid=5. */
            size_t keep = strlen(d->data);
            const char *gid = strstr(d->data, ",gid=");
            if (rootless && gid)
                keep = (size_t)(gid - d->data);
            m->data = strndup(d->data, keep);
        }
        if (!m->destination || !m->type || !m->source || (d->data && !m->data))
            return cm_err_set(err, ENOMEM, "building the default spec");
    }
    spec->rlimits = calloc(ARRAY_SIZE(default_rlimits), sizeof(struct cm_rlimit));
    if (!spec->rlimits)
        return cm_err_set(err, ENOMEM, "building the default spec");
    for (size_t i = 0; i < ARRAY_SIZE(default_rlimits); i++)
        spec->rlimits[spec->n_rlimits++] = (struct cm_rlimit){
            default_rlimits[i].resource, default_rlimits[i].soft, default_rlimits[i].hard};
    /* Deny every device in the cgroup; the runtime's default nodes
     * (/dev/null, /dev/zero, ...) are allowed by the runtime itself. */
    if (!rootless) {
        spec->devices = calloc(1, sizeof(struct cm_device));
        if (!spec->devices || !(spec->devices[0].access = strdup("rwm")))
            return cm_err_set(err, ENOMEM, "building the default spec");
        spec->n_devices = 1;
        spec->devices[0].type = 'a';
        spec->devices[0].major = spec->devices[0].minor = -1;
        spec->devices[0].allow = false;
    }
    spec->uid_map = calloc(1, sizeof(struct cm_idmap));
    spec->gid_map = calloc(1, sizeof(struct cm_idmap));
    if (!spec->uid_map || !spec->gid_map)
        return cm_err_set(err, ENOMEM, "building the default spec");
    spec->n_uid_map = spec->n_gid_map = 1;
    if (rootless) {
        spec->uid_map[0] = (struct cm_idmap){0, (uint32_t)geteuid(), 1};
        spec->gid_map[0] = (struct cm_idmap){0, (uint32_t)getegid(), 1};
        spec->resources.memory_limit = -1;
        spec->resources.pids_limit = -1;
    } else {
        /* A placeholder: replace it with the range /etc/subuid gives the
         * engine's user (dockremap, containers). */
        spec->uid_map[0] = (struct cm_idmap){0, CM_OCI_PLACEHOLDER_HOST_ID, CM_OCI_MAPPING_SIZE};
        spec->gid_map[0] = spec->uid_map[0];
    }
    return 0;
}

char *cm_oci_spec_default_json(struct cm_error *err)
{
    struct cm_spec spec = {0};
    char *text = NULL;
    if (cm_oci_spec_defaults(&spec, false, err) == 0)
        text = cm_oci_spec_to_json(&spec, err);
    cm_spec_free(&spec);
    return text;
}

/* ------------------------------------------------------------------ */
/* `casemate features`: what this parser and writer accept, from the same
 * tables, so the answer cannot drift from the behaviour. The host's LSM
 * state is the caller's to detect. */


/* libseccomp names of the architectures, as OCI spells them. */
static const struct {
    const char *oci, *libseccomp;
} scmp_archs[] = {
    {"SCMP_ARCH_X86", "x86"},         {"SCMP_ARCH_X86_64", "x86_64"},
    {"SCMP_ARCH_X32", "x32"},         {"SCMP_ARCH_ARM", "arm"},
    {"SCMP_ARCH_AARCH64", "aarch64"}, {"SCMP_ARCH_MIPS", "mips"},
    {"SCMP_ARCH_MIPS64", "mips64"},   {"SCMP_ARCH_MIPS64N32", "mips64n32"},
    {"SCMP_ARCH_MIPSEL", "mipsel"},   {"SCMP_ARCH_MIPSEL64", "mipsel64"},
    {"SCMP_ARCH_MIPSEL64N32", "mipsel64n32"}, {"SCMP_ARCH_PPC", "ppc"},
    {"SCMP_ARCH_PPC64", "ppc64"},     {"SCMP_ARCH_PPC64LE", "ppc64le"},
    {"SCMP_ARCH_S390", "s390"},       {"SCMP_ARCH_S390X", "s390x"},
    {"SCMP_ARCH_PARISC", "parisc"},   {"SCMP_ARCH_PARISC64", "parisc64"},
    {"SCMP_ARCH_RISCV64", "riscv64"},
};

static json_t *enabled(bool on) { return json_pack("{s:b}", "enabled", on); }

char *cm_oci_features_json(bool apparmor, bool selinux, struct cm_error *err)
{
    _cleanup_json_ json_t *root = json_object();
    bool ok = root && put(root, "ociVersionMin", json_string("1.0.0")) == 0 &&
              put(root, "ociVersionMax", json_string("1.2.1")) == 0;
    json_t *hooks = ok ? child_array(root, "hooks") : NULL;
    json_t *mopts = hooks ? child_array(root, "mountOptions") : NULL;
    json_t *lx = mopts ? child_object(root, "linux") : NULL;
    json_t *ns = lx ? child_array(lx, "namespaces") : NULL;
    json_t *caps = ns ? child_array(lx, "capabilities") : NULL;
    json_t *seccomp = caps ? child_object(lx, "seccomp") : NULL;
    json_t *actions = seccomp ? child_array(seccomp, "actions") : NULL;
    json_t *ops = actions ? child_array(seccomp, "operators") : NULL;
    json_t *archs = ops ? child_array(seccomp, "archs") : NULL;
    json_t *flags = archs ? child_array(seccomp, "knownFlags") : NULL;
    ok = flags != NULL;
    for (int k = 0; ok && k < CM_HOOK_KIND_COUNT; k++)
        ok = append(hooks, json_string(hook_names[k])) == 0;
    static const char *const other_opts[] = {"bind", "rbind", "idmap", "ridmap", "defaults",
                                             "notmpcopyup"};
    for (size_t i = 0; ok && i < ARRAY_SIZE(mount_flag_opts); i++)
        ok = append(mopts, json_string(mount_flag_opts[i].name)) == 0;
    for (size_t i = 0; ok && i < ARRAY_SIZE(propagation_opts); i++)
        ok = append(mopts, json_string(propagation_opts[i].name)) == 0;
    for (size_t i = 0; ok && i < ARRAY_SIZE(other_opts); i++)
        ok = append(mopts, json_string(other_opts[i])) == 0;
    for (size_t i = 0; ok && i < ARRAY_SIZE(ns_names); i++)
        ok = append(ns, json_string(ns_names[i].name)) == 0;
    for (int c = 0; ok && c < 64; c++)
        if (cm_cap_name(c))
            ok = append(caps, json_string(cm_cap_name(c))) == 0;
    ok = ok && put(lx, "cgroup", json_pack("{s:b, s:b, s:b, s:b, s:b}", "v1", 1, "v2", 1,
                                           "systemd", 0, "systemdUser", 0, "rdma", 0)) == 0;
    ok = ok && put(seccomp, "enabled", json_true()) == 0;
    /* SCMP_ACT_KILL is the older name of SCMP_ACT_KILL_THREAD; both parse. */
    ok = ok && append(actions, json_string("SCMP_ACT_KILL")) == 0;
    for (size_t i = 0; ok && i < ARRAY_SIZE(scmp_actions); i++)
        ok = append(actions, json_string(scmp_actions[i].name)) == 0;
    for (size_t i = 0; ok && i < ARRAY_SIZE(scmp_ops); i++)
        ok = append(ops, json_string(scmp_ops[i])) == 0;
    for (size_t i = 0; ok && i < ARRAY_SIZE(scmp_archs); i++)
        if (seccomp_arch_resolve_name(scmp_archs[i].libseccomp) != 0)
            ok = append(archs, json_string(scmp_archs[i].oci)) == 0;
    for (size_t i = 0; ok && i < ARRAY_SIZE(scmp_flags); i++)
        ok = append(flags, json_string(scmp_flags[i].name)) == 0;
    ok = ok && put(lx, "apparmor", enabled(apparmor)) == 0 &&
         put(lx, "selinux", enabled(selinux)) == 0 && put(lx, "intelRdt", enabled(false)) == 0 &&
         put(lx, "netDevices", enabled(false)) == 0 &&
         put(lx, "mountExtensions", json_pack("{s:o}", "idmap", enabled(true))) == 0;
    char *text = ok ? json_dumps(root, JSON_INDENT(4)) : NULL;
    if (!text)
        cm_err_set(err, ENOMEM, "writing the features document");
    return text;
}
