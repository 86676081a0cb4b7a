/* report.c: the text, JSON and SARIF reporters of `casemate audit`.
 *
 * JSON and SARIF are built with jansson, so quoting is never ours to get
 * wrong; the text reporter is for people and may change, the JSON fields are
 * the contract and must not. */
#include "audit/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"

#ifndef CASEMATE_VERSION
#define CASEMATE_VERSION "0.1.0"
#endif


#define _cleanup_json_ _cleanup_(json_decrefp)

static const struct {
    const char *name;
    enum cm_report_format format;
} formats[] = {
    {"text", CM_FORMAT_TEXT},
    {"json", CM_FORMAT_JSON},
    {"sarif", CM_FORMAT_SARIF},
};

/* SARIF has three levels; GitHub reads the finer grain from
 * properties.security-severity (a CVSS-like score). */
static const struct {
    const char *level;
    const char *score;
    const char *colour;
} sev_style[] = {
    [CM_SEV_INFO] = {"note", "0.0", "\033[2m"},
    [CM_SEV_LOW] = {"note", "3.0", "\033[36m"},
    [CM_SEV_MEDIUM] = {"warning", "5.5", "\033[33m"},
    [CM_SEV_HIGH] = {"error", "8.0", "\033[31m"},
    [CM_SEV_CRITICAL] = {"error", "9.5", "\033[1;31m"},
};

int cm_report_format_from_name(const char *name)
{
    for (size_t i = 0; name && i < ARRAY_SIZE(formats); i++)
        if (strcmp(name, formats[i].name) == 0)
            return (int)formats[i].format;
    return -1;
}

static int strcmp_null(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int finding_cmp(const void *pa, const void *pb)
{
    const struct cm_finding *a = pa, *b = pb;
    if (a->severity != b->severity)
        return a->severity > b->severity ? -1 : 1;
    int c = strcmp_null(a->path, b->path);
    if (c)
        return c;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    c = strcmp(a->rule->id, b->rule->id);
    if (c)
        return c;
    c = strcmp_null(a->subject, b->subject);
    return c ? c : strcmp_null(a->evidence, b->evidence);
}

void cm_report_sort(struct cm_report *r)
{
    if (r->n > 1)
        qsort(r->findings, r->n, sizeof(r->findings[0]), finding_cmp);
}

int cm_report_exit_status(const struct cm_report *r, enum cm_severity fail_on)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->findings[i].severity >= fail_on)
            return 1;
    return 0;
}

json_t *cm_rule_references_json(const struct cm_rule *rule)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    const char *p = rule->references ? rule->references : "";
    while (*p) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *e = p;
        while (*e && *e != ';')
            e++;
        const char *t = e;
        while (t > p && t[-1] == ' ')
            t--;
        if (t > p && json_array_append_new(arr, json_stringn(p, (size_t)(t - p))) < 0) {
            json_decref(arr);
            return NULL;
        }
        p = e;
    }
    return arr;
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *finding_json(const struct cm_finding *f)
{
    const struct cm_rule *rule = f->rule;
    json_t *refs = cm_rule_references_json(rule);
    if (!refs)
        return NULL;
    return json_pack("{s:s, s:s, s:s, s:s, s:{s:o, s:o}, s:o, s:o, s:s, s:o}",
                     "id", rule->id, "topic", rule->topic,
                     "severity", cm_severity_name(f->severity), "title", rule->title,
                     "location", "path", str_or_null(f->path),
                     "line", f->line > 0 ? json_integer(f->line) : json_null(),
                     "subject", str_or_null(f->subject),
                     "evidence", str_or_null(f->evidence),
                     "remediation", rule->remediation ? rule->remediation : "",
                     "references", refs);
}

json_t *cm_report_to_json(const struct cm_report *r)
{
    _cleanup_json_ json_t *findings = json_array();
    _cleanup_json_ json_t *counts = json_object();
    if (!findings || !counts)
        return NULL;
    json_int_t by_sev[CM_SEV_CRITICAL + 1] = {0};
    for (size_t i = 0; i < r->n; i++) {
        json_t *f = finding_json(&r->findings[i]);
        if (!f || json_array_append_new(findings, f) < 0)
            return NULL;
        by_sev[r->findings[i].severity]++;
    }
    for (int s = CM_SEV_CRITICAL; s >= CM_SEV_INFO; s--)
        if (json_object_set_new(counts, cm_severity_name((enum cm_severity)s),
                                json_integer(by_sev[s])) < 0)
            return NULL;
    json_t *summary = json_pack("{s:s, s:I, s:O}", "kind", r->kind ? r->kind : "audit",
                                "total", (json_int_t)r->n, "by_severity", counts);
    if (!summary)
        return NULL;
    return json_pack("{s:O, s:o}", "findings", findings, "summary", summary);
}

/* SARIF wants a URI: relative paths stay relative to the checkout (what
 * GitHub code scanning expects), absolute ones become file:// URIs. */
static char *path_uri(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len = strlen(path);
    char *out = malloc(len * 3 + 8);
    if (!out)
        return NULL;
    size_t o = 0;
    if (path[0] == '/') {
        memcpy(out, "file://", 7);
        o = 7;
    }
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (*p > 0x20 && *p < 0x7f && !strchr("%#?[]\"<>\\^`{|}", *p)) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return out;
}

static json_t *sarif_rule(const struct cm_rule *rule)
{
    json_t *refs = cm_rule_references_json(rule);
    if (!refs)
        return NULL;
    return json_pack("{s:s, s:s, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, "
                     "s:{s:[s,s], s:s, s:s, s:o}}",
                     "id", rule->id, "name", rule->topic,
                     "shortDescription", "text", rule->title,
                     "fullDescription", "text", rule->title,
                     "help", "text", rule->remediation ? rule->remediation : "",
                     "defaultConfiguration", "level", sev_style[rule->severity].level,
                     "properties", "tags", "security", rule->topic,
                     "security-severity", sev_style[rule->severity].score,
                     "severity", cm_severity_name(rule->severity), "references", refs);
}

static json_t *sarif_result(const struct cm_finding *f, size_t rule_index)
{
    _cleanup_free_ char *msg = NULL;
    const char *ev = f->evidence && *f->evidence ? f->evidence : NULL;
    if (asprintf(&msg, "%s%s%s%s%s", f->rule->title, f->subject ? " [" : "",
                 f->subject ? f->subject : "", f->subject ? "]" : "",
                 ev ? ": " : "") < 0) {
        msg = NULL;
        return NULL;
    }
    _cleanup_free_ char *text = NULL;
    if (asprintf(&text, "%s%s", msg, ev ? ev : "") < 0) {
        text = NULL;
        return NULL;
    }
    _cleanup_json_ json_t *res = json_pack(
        "{s:s, s:I, s:s, s:{s:s}, s:{s:s}}", "ruleId", f->rule->id, "ruleIndex",
        (json_int_t)rule_index, "level", sev_style[f->severity].level, "message", "text", text,
        "properties", "severity", cm_severity_name(f->severity));
    if (!res)
        return NULL;
    if (f->path) {
        _cleanup_free_ char *uri = path_uri(f->path);
        if (!uri)
            return NULL;
        json_t *phys = json_pack("{s:{s:s}}", "artifactLocation", "uri", uri);
        if (!phys)
            return NULL;
        if (f->line > 0 &&
            json_object_set_new(phys, "region", json_pack("{s:i}", "startLine", f->line)) < 0) {
            json_decref(phys);
            return NULL;
        }
        if (json_object_set_new(res, "locations",
                                json_pack("[{s:o}]", "physicalLocation", phys)) < 0)
            return NULL;
    }
    return TAKE_PTR(res);
}

json_t *cm_report_to_sarif(const struct cm_report *r)
{
    _cleanup_json_ json_t *rules = json_array();
    _cleanup_json_ json_t *results = json_array();
    _cleanup_free_ const struct cm_rule **seen = calloc(r->n + 1, sizeof(*seen));
    if (!rules || !results || !seen)
        return NULL;
    size_t n_seen = 0;
    for (size_t i = 0; i < r->n; i++) {
        const struct cm_finding *f = &r->findings[i];
        size_t idx = 0;
        while (idx < n_seen && strcmp(seen[idx]->id, f->rule->id) != 0)
            idx++;
        if (idx == n_seen) {
            json_t *jr = sarif_rule(f->rule);
            if (!jr || json_array_append_new(rules, jr) < 0)
                return NULL;
            seen[n_seen++] = f->rule;
        }
        json_t *res = sarif_result(f, idx);
        if (!res || json_array_append_new(results, res) < 0)
            return NULL;
    }
    return json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:s, s:O}}, s:O, "
                     "s:{s:s}}]}",
                     "$schema", "https://json.schemastore.org/sarif-2.1.0.json",
                     "version", "2.1.0", "runs",
                     "tool", "driver", "name", "casemate", "version", CASEMATE_VERSION,
                     "semanticVersion", CASEMATE_VERSION,
                     "informationUri", "https://github.com/casemate/casemate",
                     "rules", rules, "results", results,
                     "properties", "kind", r->kind ? r->kind : "audit");
}

bool cm_report_want_colour(FILE *out)
{
    return isatty(fileno(out)) && getenv("NO_COLOR") == NULL;
}

int cm_report_write_text(const struct cm_report *r, FILE *out, bool colour)
{
    const char *reset = colour ? "\033[0m" : "";
    const char *dim = colour ? "\033[2m" : "";
    const char *bold = colour ? "\033[1m" : "";
    size_t by_sev[CM_SEV_CRITICAL + 1] = {0};
    for (size_t i = 0; i < r->n; i++)
        by_sev[r->findings[i].severity]++;

    fprintf(out, "%scasemate audit %s%s: %zu finding%s", bold, r->kind ? r->kind : "", reset,
            r->n, r->n == 1 ? "" : "s");
    const char *sep = " (";
    for (int s = CM_SEV_CRITICAL; s >= CM_SEV_INFO; s--) {
        if (!by_sev[s])
            continue;
        fprintf(out, "%s%zu %s", sep, by_sev[s], cm_severity_name((enum cm_severity)s));
        sep = ", ";
    }
    fprintf(out, "%s\n", r->n ? ")" : "");

    int current = -1;
    for (size_t i = 0; i < r->n; i++) {
        const struct cm_finding *f = &r->findings[i];
        const char *col = colour ? sev_style[f->severity].colour : "";
        if ((int)f->severity != current) {
            current = (int)f->severity;
            char upper[16] = {0};
            const char *name = cm_severity_name(f->severity);
            for (size_t k = 0; name[k] && k + 1 < sizeof(upper); k++)
                upper[k] = (char)(name[k] - ('a' <= name[k] && name[k] <= 'z' ? 32 : 0));
            fprintf(out, "\n%s%s%s (%zu)%s\n", col, bold, upper, by_sev[f->severity], reset);
        }
        fprintf(out, "  %s%-10s%s %s [%s]", col, f->rule->id, reset, f->rule->title,
                f->rule->topic);
        if (f->subject)
            fprintf(out, " %s%s%s", bold, f->subject, reset);
        fputc('\n', out);
        if (f->path) {
            if (f->line > 0)
                fprintf(out, "      at        %s:%d\n", f->path, f->line);
            else
                fprintf(out, "      at        %s\n", f->path);
        }
        if (f->evidence && *f->evidence)
            fprintf(out, "      evidence  %s\n", f->evidence);
        if (f->rule->remediation && *f->rule->remediation)
            fprintf(out, "      fix       %s\n", f->rule->remediation);
        if (f->rule->references && *f->rule->references)
            fprintf(out, "      %sref       %s%s\n", dim, f->rule->references, reset);
    }
    return ferror(out) ? -1 : 0;
}

int cm_report_write(struct cm_report *r, enum cm_report_format format, FILE *out,
                    struct cm_error *err)
{
    cm_report_sort(r);
    if (format == CM_FORMAT_TEXT) {
        if (cm_report_write_text(r, out, cm_report_want_colour(out)) < 0)
            return cm_err_sys(err, "writing the report");
        return 0;
    }
    _cleanup_json_ json_t *doc =
        format == CM_FORMAT_SARIF ? cm_report_to_sarif(r) : cm_report_to_json(r);
    if (!doc)
        return cm_err_set(err, ENOMEM, "building the %s report",
                          format == CM_FORMAT_SARIF ? "SARIF" : "JSON");
    if (json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 || fputc('\n', out) == EOF)
        return cm_err_sys(err, "writing the report");
    return 0;
}
