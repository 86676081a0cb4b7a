/* finding.c: collecting findings, severity names, and redaction of secret
 * values before any text reaches a report (see finding.h).
 *
 * Redaction works on a mask: every recogniser marks the bytes of a secret
 * value, then each run of marked bytes becomes "****". Names (PASSWORD=,
 * --token, Bearer) stay so the reader still sees what was found. */
#include "audit/finding.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit/secrets.h"
#include "util/cleanup.h"

static const char *const severity_names[] = {
    [CM_SEV_INFO] = "info",     [CM_SEV_LOW] = "low",         [CM_SEV_MEDIUM] = "medium",
    [CM_SEV_HIGH] = "high",     [CM_SEV_CRITICAL] = "critical",
};

const char *cm_severity_name(enum cm_severity s)
{
    if ((size_t)s >= ARRAY_SIZE(severity_names))
        return "unknown";
    return severity_names[s];
}

int cm_severity_from_name(const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(severity_names); i++)
        if (strcasecmp(name, severity_names[i]) == 0)
            return (int)i;
    return -1;
}

int cm_report_add(struct cm_report *r, const struct cm_rule *rule, const char *path, int line,
                  const char *subject, const char *evidence_fmt, ...)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct cm_finding *grown = realloc(r->findings, cap * sizeof(*grown));
        if (!grown)
            return -1;
        r->findings = grown;
        r->cap = cap;
    }
    _cleanup_free_ char *raw = NULL;
    if (evidence_fmt) {
        va_list ap;
        va_start(ap, evidence_fmt);
        int n = vasprintf(&raw, evidence_fmt, ap);
        va_end(ap);
        if (n < 0) {
            raw = NULL;
            return -1;
        }
    }
    /* Redacted here, once, so that no reporter can leak a value. */
    _cleanup_free_ char *evidence = raw ? cm_redact(raw) : NULL;
    _cleanup_free_ char *p = path ? strdup(path) : NULL;
    _cleanup_free_ char *s = subject ? cm_redact(subject) : NULL;
    if ((raw && !evidence) || (path && !p) || (subject && !s))
        return -1;
    r->findings[r->n++] = (struct cm_finding){
        .rule = rule,
        .severity = rule->severity,
        .path = TAKE_PTR(p),
        .line = line,
        .evidence = TAKE_PTR(evidence),
        .subject = TAKE_PTR(s),
    };
    return 0;
}

void cm_report_free(struct cm_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->findings[i].path);
        free(r->findings[i].evidence);
        free(r->findings[i].subject);
    }
    free(r->findings);
    r->findings = NULL;
    r->n = r->cap = 0;
}

/* ---- redaction ---- */

static void mark(unsigned char *m, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        m[i] = 1;
}

static bool is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

/* Characters that end an unquoted value in shell, env files, URLs, JSON. */
static bool ends_value(char c)
{
    return c == '\0' || isspace((unsigned char)c) || strchr("\"'`;&|,)}]<>", c);
}

/* The value that starts at `i`: quoted content or a bare word. Marks it
 * unless it is empty or a variable reference ($VAR, ${VAR}), which names a
 * secret rather than holding one. */
static size_t mark_value(const char *t, size_t len, size_t i, unsigned char *m)
{
    if (i >= len)
        return i;
    char q = t[i];
    if (q == '"' || q == '\'') {
        size_t s = ++i;
        while (i < len && t[i] != q)
            i += (t[i] == '\\' && i + 1 < len) ? 2 : 1;
        if (i > s && t[s] != '$')
            mark(m, s, i < len ? i : len);
        return i;
    }
    size_t s = i;
    while (i < len && !ends_value(t[i]))
        i++;
    if (i > s && t[s] != '$')
        mark(m, s, i);
    return i;
}

/* The name that ends just before `end` (exclusive), skipping a closing quote
 * ("password": ...) and leading dashes (--password=...). */
static bool secret_name_before(const char *t, size_t end)
{
    if (end > 0 && (t[end - 1] == '"' || t[end - 1] == '\''))
        end--;
    size_t s = end;
    while (s > 0 && is_name_char(t[s - 1]))
        s--;
    while (s < end && t[s] == '-')
        s++;
    if (s == end || end - s > 128)
        return false;
    char name[129];
    memcpy(name, t + s, end - s);
    name[end - s] = '\0';
    return cm_secret_var_name(name);
}

/* NAME=value, "name": "value", name: value. */
static void mark_assignments(const char *t, size_t len, unsigned char *m)
{
    for (size_t i = 0; i < len; i++) {
        if (t[i] != '=' && t[i] != ':')
            continue;
        if (t[i] == ':' && i + 2 < len && t[i + 1] == '/' && t[i + 2] == '/')
            continue; /* a URL scheme */
        if (!secret_name_before(t, i))
            continue;
        size_t v = i + 1;
        if (t[i] == ':')
            while (v < len && (t[v] == ' ' || t[v] == '\t'))
                v++;
        else if (v < len && t[v] == '=') /* == is a comparison */
            continue;
        mark_value(t, len, v, m);
    }
}

/* --password value, --api-token value, and the legacy "ENV NAME value". */
static void mark_flags(const char *t, size_t len, unsigned char *m)
{
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && !isspace((unsigned char)t[i - 1]))
            continue;
        size_t s = i, e = i;
        bool env_form = false;
        if (t[i] == '-') {
            while (e < len && is_name_char(t[e]))
                e++;
        } else if ((len - i > 4) && (strncasecmp(t + i, "ENV ", 4) == 0 ||
                                     strncasecmp(t + i, "ARG ", 4) == 0)) {
            s = e = i + 4;
            while (e < len && is_name_char(t[e]))
                e++;
            env_form = true;
        } else {
            continue;
        }
        if (e >= len || (t[e] != ' ' && t[e] != '\t') || e == s || !secret_name_before(t, e))
            continue;
        size_t v = e;
        while (v < len && (t[v] == ' ' || t[v] == '\t'))
            v++;
        if (v < len && t[v] == '-' && !env_form)
            continue; /* the next flag, not a value */
        if (env_form) {
            size_t eol = v;
            while (eol < len && t[eol] != '\n')
                eol++;
            if (eol > v && t[v] != '$')
                mark(m, v, eol);
        } else {
            mark_value(t, len, v, m);
        }
    }
}

/* Authorization: Bearer x / Basic x. */
static void mark_auth_schemes(const char *t, size_t len, unsigned char *m)
{
    static const char *const schemes[] = {"Bearer ", "Basic "};
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && isalnum((unsigned char)t[i - 1]))
            continue;
        for (size_t k = 0; k < ARRAY_SIZE(schemes); k++) {
            size_t sl = strlen(schemes[k]);
            if (len - i > sl && strncasecmp(t + i, schemes[k], sl) == 0) {
                size_t v = i + sl;
                while (v < len && t[v] == ' ')
                    v++;
                /* a scheme word must be followed by a credential-looking word */
                size_t e = v;
                while (e < len && !ends_value(t[e]))
                    e++;
                if (e - v >= 8)
                    mark(m, v, e);
            }
        }
    }
}

/* scheme://user:password@host */
static void mark_url_credentials(const char *t, size_t len, unsigned char *m)
{
    for (size_t i = 0; i + 3 < len; i++) {
        if (t[i] != ':' || t[i + 1] != '/' || t[i + 2] != '/')
            continue;
        size_t s = i + 3, colon = 0, e = s;
        while (e < len && t[e] != '@' && t[e] != '/' && !isspace((unsigned char)t[e]) &&
               t[e] != '"' && t[e] != '\'') {
            if (t[e] == ':' && !colon)
                colon = e;
            e++;
        }
        if (e < len && t[e] == '@' && colon && e > colon + 1)
            mark(m, colon + 1, e);
    }
}

/* Values recognised by their shape anywhere (cloud keys, tokens), and
 * private key blocks from their BEGIN line to their END line. */
static void mark_known_values(const char *t, size_t len, unsigned char *m)
{
    size_t at = 0;
    while (at < len) {
        size_t off = 0, ml = 0;
        const char *what = cm_secret_scan(t + at, len - at, &off, &ml);
        if (!what || ml == 0)
            break;
        size_t s = at + off, e = s + ml;
        if (strcmp(what, "private key") == 0) {
            /* keep the BEGIN line, hide the body and keep the END line */
            const char *body = t + e;
            const char *end = memmem(body, len - e, "-----END ", 9);
            size_t be = end ? (size_t)(end - t) : len;
            mark(m, e, be);
            e = be > e ? be : e + 1;
        } else if (strcmp(what, "password in URL") == 0) {
            /* the match is "://user:password": keep the user */
            const char *colon = memchr(t + s + 3, ':', e - s - 3);
            mark(m, colon ? (size_t)(colon - t) + 1 : s, e);
        } else {
            /* a recogniser matches a token's known length: hide all of it */
            while (e < len && (isalnum((unsigned char)t[e]) || t[e] == '_' || t[e] == '-'))
                e++;
            mark(m, s, e);
        }
        at = e > at ? e : at + 1;
    }
}

char *cm_redact(const char *text)
{
    if (!text)
        return NULL;
    size_t len = strlen(text);
    _cleanup_free_ unsigned char *m = calloc(len + 1, 1);
    if (!m)
        return NULL;
    mark_known_values(text, len, m);
    mark_assignments(text, len, m);
    mark_flags(text, len, m);
    mark_auth_schemes(text, len, m);
    mark_url_credentials(text, len, m);

    /* each run of marked bytes becomes 4 characters: never longer than 4x */
    char *out = malloc(len * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (m[i]) {
            memcpy(out + o, "****", 4);
            o += 4;
            while (i < len && m[i])
                i++;
        } else {
            out[o++] = text[i++];
        }
    }
    out[o] = '\0';
    return out;
}
