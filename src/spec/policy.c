/* policy.c: the host policy: raise every spec to a floor, then refuse the
 * specs that hit a named container-config rule (see policy.h). The rules are
 * the auditor's, so `casemate audit config` predicts exactly what the policy
 * will refuse. */
#include "spec/policy.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/finding.h"
#include "audit/rules.h"
#include "util/cleanup.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

static const char *const floor_keys[] = {"no_new_privileges", "pids_limit", "memory",
                                         "seccomp", "userns"};

void cm_policy_free(struct cm_policy *p)
{
    if (!p)
        return;
    free(p->path);
    cm_strv_free(p->refuse);
    free(p);
}

static inline void policy_freep(struct cm_policy **p) { cm_policy_free(*p); }

int64_t cm_policy_parse_size(const char *s)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-')
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case '\0': break;
    case 'b': case 'B': shift = 0; end++; break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: return -1;
    }
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end || v > ((unsigned long long)INT64_MAX >> shift))
        return -1;
    return (int64_t)(v << shift);
}

static bool known_rule(const char *name)
{
    for (const struct cm_rule *r = cm_config_rules; r->id; r++)
        if (strcmp(name, r->id) == 0 || strcmp(name, r->topic) == 0)
            return true;
    return false;
}

static int parse_floor(json_t *fl, const char *origin, struct cm_policy *p, struct cm_error *err)
{
    if (!json_is_object(fl))
        return cm_err_set(err, 0, "%s: \"floor\" must be an object", origin);
    const char *key;
    json_t *v;
    json_object_foreach(fl, key, v) {
        bool known = false;
        for (size_t i = 0; i < ARRAY_SIZE(floor_keys); i++)
            known |= strcmp(key, floor_keys[i]) == 0;
        if (!known)
            return cm_err_set(err, 0, "%s: floor.%s: unknown key (known: no_new_privileges, "
                                      "pids_limit, memory, seccomp, userns)", origin, key);
    }
    if ((v = json_object_get(fl, "no_new_privileges"))) {
        if (!json_is_boolean(v))
            return cm_err_set(err, 0, "%s: floor.no_new_privileges must be true or false", origin);
        p->floor_no_new_privs = json_is_true(v);
    }
    if ((v = json_object_get(fl, "userns"))) {
        if (!json_is_boolean(v))
            return cm_err_set(err, 0, "%s: floor.userns must be true or false", origin);
        p->floor_userns = json_is_true(v);
    }
    if ((v = json_object_get(fl, "pids_limit"))) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return cm_err_set(err, 0, "%s: floor.pids_limit must be a positive integer", origin);
        p->floor_pids_limit = json_integer_value(v);
    }
    if ((v = json_object_get(fl, "memory"))) {
        int64_t bytes = json_is_integer(v)  ? json_integer_value(v)
                        : json_is_string(v) ? cm_policy_parse_size(json_string_value(v))
                                            : -1;
        if (bytes <= 0)
            return cm_err_set(err, 0, "%s: floor.memory must be a size such as \"512m\"", origin);
        p->floor_memory = bytes;
    }
    if ((v = json_object_get(fl, "seccomp"))) {
        if (!json_is_string(v) || (strcmp(json_string_value(v), "default") != 0 &&
                                   strcmp(json_string_value(v), "any") != 0))
            return cm_err_set(err, 0, "%s: floor.seccomp must be \"default\" or \"any\"", origin);
        p->floor_seccomp = strcmp(json_string_value(v), "default") == 0;
    }
    return 0;
}

int cm_policy_parse(const char *text, size_t len, const char *origin, struct cm_policy **out,
                    struct cm_error *err)
{
    *out = NULL;
    json_error_t jerr;
    _cleanup_json_ json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return cm_err_set(err, 0, "%s: invalid JSON at line %d, column %d: %s", origin,
                          jerr.line, jerr.column, jerr.text);
    if (!json_is_object(root))
        return cm_err_set(err, 0, "%s: expected a JSON object", origin);
    _cleanup_(policy_freep) struct cm_policy *p = calloc(1, sizeof(*p));
    if (!p || !(p->path = strdup(origin)))
        return cm_err_set(err, ENOMEM, "loading %s", origin);
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "refuse") != 0 && strcmp(key, "floor") != 0)
            return cm_err_set(err, 0, "%s: unknown key \"%s\" (known: refuse, floor)", origin,
                              key);
    }
    json_t *refuse = json_object_get(root, "refuse");
    if (refuse) {
        if (!json_is_array(refuse))
            return cm_err_set(err, 0, "%s: \"refuse\" must be an array of rule ids or topics",
                              origin);
        size_t i;
        json_array_foreach(refuse, i, v) {
            if (!json_is_string(v))
                return cm_err_set(err, 0, "%s: refuse[%zu] must be a string", origin, i);
            const char *name = json_string_value(v);
            if (!known_rule(name))
                return cm_err_set(err, 0, "%s: refuse[%zu]: \"%s\" is not a container-config "
                                          "rule id or topic (see 'casemate audit rules')",
                                  origin, i, name);
            if (cm_strv_append(&p->refuse, name) < 0)
                return cm_err_set(err, ENOMEM, "loading %s", origin);
        }
    }
    json_t *fl = json_object_get(root, "floor");
    if (fl && parse_floor(fl, origin, p, err) < 0)
        return -1;
    *out = TAKE_PTR(p);
    return 0;
}

int cm_policy_load(const char *path, struct cm_policy **out, struct cm_error *err)
{
    *out = NULL;
    /* Only the default path may be absent: a policy that was named (by
     * argument or $CASEMATE_POLICY) and is missing must not silently mean
     * "no policy". */
    bool named = true;
    if (!path || !*path)
        path = getenv("CASEMATE_POLICY");
    if (!path || !*path) {
        path = CM_POLICY_DEFAULT_PATH;
        named = false;
    }
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT && !named)
            return 0;
        return cm_err_sys(err, "opening host policy %s", path);
    }
    struct stat st;
    if (fstat(fd, &st) < 0)
        return cm_err_sys(err, "reading host policy %s", path);
    if (!S_ISREG(st.st_mode))
        return cm_err_set(err, 0, "host policy %s is not a regular file", path);
    if (st.st_size > 1024 * 1024)
        return cm_err_set(err, 0, "host policy %s is larger than 1 MiB", path);
    size_t size = (size_t)st.st_size;
    _cleanup_free_ char *buf = malloc(size + 1);
    if (!buf)
        return cm_err_set(err, ENOMEM, "reading host policy %s", path);
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cm_err_sys(err, "reading host policy %s", path);
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return cm_policy_parse(buf, got, path, out, err);
}

static void raise_to_floor(const struct cm_policy *p, struct cm_spec *s)
{
    if (p->floor_no_new_privs)
        s->no_new_privs = true;
    if (p->floor_pids_limit > 0 &&
        (s->resources.pids_limit <= 0 || s->resources.pids_limit > p->floor_pids_limit))
        s->resources.pids_limit = p->floor_pids_limit;
    if (p->floor_memory > 0 &&
        (s->resources.memory_limit <= 0 || s->resources.memory_limit > p->floor_memory))
        s->resources.memory_limit = p->floor_memory;
    if (p->floor_seccomp)
        s->seccomp_unconfined = false;
    if (p->floor_userns) {
        bool joined = false;
        for (size_t i = 0; i < s->n_ns_join; i++)
            joined |= s->ns_join[i].type == CM_NS_USER;
        if (!joined)
            s->ns_new |= CM_NS_USER;
    }
}

int cm_policy_enforce(const struct cm_policy *p, struct cm_spec *spec, struct cm_error *err)
{
    if (!p)
        return 0;
    raise_to_floor(p, spec);
    if (!p->refuse)
        return 0;
    struct cm_report r = {.kind = "config"};
    if (cm_audit_config_spec(spec, NULL, spec->name, &r) < 0) {
        cm_report_free(&r);
        return cm_err_set(err, ENOMEM, "checking the spec against host policy %s", p->path);
    }
    int rc = 0;
    for (size_t i = 0; i < r.n && rc == 0; i++) {
        const struct cm_finding *f = &r.findings[i];
        for (char **name = p->refuse; *name; name++) {
            if (strcmp(*name, f->rule->id) != 0 && strcmp(*name, f->rule->topic) != 0)
                continue;
            rc = cm_err_set(err, 0, "refused by host policy %s: rule %s (%s): %s%s%s%s", p->path,
                            f->rule->id, f->rule->topic, f->rule->title,
                            f->evidence ? " (" : "", f->evidence ? f->evidence : "",
                            f->evidence ? ")" : "");
            break;
        }
    }
    cm_report_free(&r);
    return rc;
}
