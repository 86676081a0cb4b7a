/* test_audit_report.c: the reporters (JSON and SARIF shape, text grouping
 * and colour), redaction of secret values, --fail-on, and docs/audit.md
 * kept equal to the generated rule reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/finding.h"
#include "audit/report.h"
#include "audit/rules.h"
#include "audit/rules_registry.h"
#include "util/cleanup.h"

static const struct cm_rule rule_crit = {"CM-T-001", "privileged", CM_SEV_CRITICAL,
                                         "a critical thing", "do not", "CIS 5.4; seed 003"};
static const struct cm_rule rule_med = {"CM-T-002", "secret", CM_SEV_MEDIUM, "a medium thing",
                                        "fix it", "CIS 4.10"};
static const struct cm_rule rule_low = {"CM-T-003", "upgrade", CM_SEV_LOW, "a low thing",
                                        "later", "seed 002"};

static void sample(struct cm_report *r)
{
    *r = (struct cm_report){.kind = "dockerfile"};
    assert_int_equal(cm_report_add(r, &rule_low, "Dockerfile", 3, NULL, "RUN apt-get upgrade"), 0);
    assert_int_equal(cm_report_add(r, &rule_med, "Dockerfile", 7, NULL, "ENV DB_PASSWORD=%s",
                                   "hunter2"), 0);
    assert_int_equal(cm_report_add(r, &rule_crit, NULL, 0, "web (image x)", "privileged"), 0);
    assert_int_equal(cm_report_add(r, &rule_med, "sub dir/Dockerfile", 0, NULL, "x"), 0);
}

struct redact_case {
    const char *in;
    const char *out;
};

static const struct redact_case redactions[] = {
    {"ENV DB_PASSWORD=hunter2", "ENV DB_PASSWORD=****"},
    {"ENV DB_PASSWORD hunter2 and more", "ENV DB_PASSWORD ****"},
    {"ARG API_TOKEN=\"abc def\"", "ARG API_TOKEN=\"****\""},
    {"docker login --password s3cr3t --username bob", "docker login --password **** --username bob"},
    {"mysql --password=s3cr3t", "mysql --password=****"},
    {"{\"password\": \"s3cr3t\", \"user\": \"bob\"}", "{\"password\": \"****\", \"user\": \"bob\"}"},
    {"secret_key: abc123", "secret_key: ****"},
    {"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY_ID=****"},
    {"key is AKIAIOSFODNN7EXAMPLE here", "key is **** here"},
    {"curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload' x",
     "curl -H 'Authorization: Bearer ****' x"},
    {"git clone https://bob:tok3nvalue@github.com/x/y", "git clone https://bob:****@github.com/x/y"},
    {"token ghp_0123456789abcdefghijABCDEFGHIJ0123456789", "token ****"},
    {"-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----",
     "-----BEGIN RSA PRIVATE KEY-----****-----END RSA PRIVATE KEY-----"},
    /* near misses: names without values, references, public parts */
    {"ENV DB_PASSWORD_FILE=/run/secrets/db", "ENV DB_PASSWORD_FILE=/run/secrets/db"},
    {"ENV PASSWORD=$DB_PASS", "ENV PASSWORD=$DB_PASS"},
    {"ENV GPG_KEY=B42F6819007F00F88E364FD4036A9C25BF357DD4",
     "ENV GPG_KEY=B42F6819007F00F88E364FD4036A9C25BF357DD4"},
    {"RUN apt-get install -y openssh-server", "RUN apt-get install -y openssh-server"},
    {"if [ \"$PASSWORD\" == \"\" ]; then", "if [ \"$PASSWORD\" == \"\" ]; then"},
    {"https://example.com/path:8080", "https://example.com/path:8080"},
    {"", ""},
};

static void test_redact(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(redactions); i++) {
        _cleanup_free_ char *got = cm_redact(redactions[i].in);
        assert_non_null(got);
        if (strcmp(got, redactions[i].out) != 0)
            fail_msg("redact(\"%s\") = \"%s\", want \"%s\"", redactions[i].in, got,
                     redactions[i].out);
    }
    assert_null(cm_redact(NULL));
}

static void test_add_redacts(void **state)
{
    (void)state;
    struct cm_report r;
    sample(&r);
    for (size_t i = 0; i < r.n; i++)
        assert_null(strstr(r.findings[i].evidence, "hunter2"));
    assert_string_equal(r.findings[1].evidence, "ENV DB_PASSWORD=****");
    cm_report_free(&r);
}

static void test_severity_names(void **state)
{
    (void)state;
    assert_int_equal(cm_severity_from_name("critical"), CM_SEV_CRITICAL);
    assert_int_equal(cm_severity_from_name("HIGH"), CM_SEV_HIGH);
    assert_int_equal(cm_severity_from_name("info"), CM_SEV_INFO);
    assert_int_equal(cm_severity_from_name("severe"), -1);
    assert_string_equal(cm_severity_name(CM_SEV_MEDIUM), "medium");
}

static void test_fail_on(void **state)
{
    (void)state;
    struct cm_report r;
    sample(&r);
    assert_int_equal(cm_report_exit_status(&r, CM_SEV_CRITICAL), 1);
    assert_int_equal(cm_report_exit_status(&r, CM_SEV_HIGH), 1);
    cm_report_free(&r);
    r = (struct cm_report){.kind = "x"};
    assert_int_equal(cm_report_add(&r, &rule_med, NULL, 0, NULL, "m"), 0);
    assert_int_equal(cm_report_exit_status(&r, CM_SEV_HIGH), 0);
    assert_int_equal(cm_report_exit_status(&r, CM_SEV_MEDIUM), 1);
    r.findings[0].severity = CM_SEV_LOW; /* a finding's own severity counts, not the rule's */
    assert_int_equal(cm_report_exit_status(&r, CM_SEV_MEDIUM), 0);
    cm_report_free(&r);
    r = (struct cm_report){.kind = "x"};
    assert_int_equal(cm_report_exit_status(&r, CM_SEV_INFO), 0);
}

static void test_json_shape(void **state)
{
    (void)state;
    struct cm_report r;
    sample(&r);
    cm_report_sort(&r);
    json_auto_t *doc = cm_report_to_json(&r);
    assert_non_null(doc);
    json_t *findings = json_object_get(doc, "findings");
    assert_true(json_is_array(findings));
    assert_int_equal(json_array_size(findings), 4);
    /* sorted most severe first */
    json_t *f0 = json_array_get(findings, 0);
    assert_string_equal(json_string_value(json_object_get(f0, "severity")), "critical");
    assert_true(json_is_null(json_object_get(json_object_get(f0, "location"), "path")));
    assert_string_equal(json_string_value(json_object_get(f0, "subject")), "web (image x)");
    static const char *const keys[] = {"id", "topic", "severity", "title", "location",
                                       "evidence", "remediation", "references"};
    size_t i;
    json_t *f;
    json_array_foreach(findings, i, f) {
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
            if (!json_object_get(f, keys[k]))
                fail_msg("finding %zu lacks %s", i, keys[k]);
        assert_true(json_is_array(json_object_get(f, "references")));
    }
    json_t *med = json_array_get(findings, 1);
    assert_string_equal(json_string_value(json_object_get(med, "id")), "CM-T-002");
    json_t *loc = json_object_get(med, "location");
    assert_string_equal(json_string_value(json_object_get(loc, "path")), "Dockerfile");
    assert_int_equal(json_integer_value(json_object_get(loc, "line")), 7);
    json_t *refs = json_object_get(f0, "references");
    assert_int_equal(json_array_size(refs), 2);
    assert_string_equal(json_string_value(json_array_get(refs, 0)), "CIS 5.4");
    assert_string_equal(json_string_value(json_array_get(refs, 1)), "seed 003");
    json_t *summary = json_object_get(doc, "summary");
    assert_int_equal(json_integer_value(json_object_get(summary, "total")), 4);
    json_t *by = json_object_get(summary, "by_severity");
    assert_int_equal(json_integer_value(json_object_get(by, "medium")), 2);
    assert_int_equal(json_integer_value(json_object_get(by, "high")), 0);
    cm_report_free(&r);
}

static void test_sarif_shape(void **state)
{
    (void)state;
    struct cm_report r;
    sample(&r);
    cm_report_sort(&r);
    json_auto_t *doc = cm_report_to_sarif(&r);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "version")), "2.1.0");
    json_t *run = json_array_get(json_object_get(doc, "runs"), 0);
    json_t *driver = json_object_get(json_object_get(run, "tool"), "driver");
    assert_string_equal(json_string_value(json_object_get(driver, "name")), "casemate");
    json_t *rules = json_object_get(driver, "rules");
    assert_int_equal(json_array_size(rules), 3); /* one per id, CM-T-002 twice in results */
    json_t *results = json_object_get(run, "results");
    assert_int_equal(json_array_size(results), 4);
    size_t i;
    json_t *res;
    json_array_foreach(results, i, res) {
        const char *id = json_string_value(json_object_get(res, "ruleId"));
        json_int_t idx = json_integer_value(json_object_get(res, "ruleIndex"));
        assert_string_equal(id, json_string_value(json_object_get(json_array_get(rules, (size_t)idx),
                                                                  "id")));
        assert_non_null(json_string_value(json_object_get(json_object_get(res, "message"), "text")));
    }
    json_t *crit = json_array_get(results, 0);
    assert_string_equal(json_string_value(json_object_get(crit, "level")), "error");
    assert_null(json_object_get(crit, "locations")); /* no path */
    json_t *med = json_array_get(results, 1);
    assert_string_equal(json_string_value(json_object_get(med, "level")), "warning");
    json_t *phys = json_object_get(json_array_get(json_object_get(med, "locations"), 0),
                                   "physicalLocation");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(phys, "artifactLocation"), "uri")),
        "Dockerfile");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(phys, "region"),
                                                        "startLine")), 7);
    json_t *spaced = json_array_get(results, 2); /* "sub dir/Dockerfile", line 0 */
    phys = json_object_get(json_array_get(json_object_get(spaced, "locations"), 0),
                           "physicalLocation");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(phys, "artifactLocation"), "uri")),
        "sub%20dir/Dockerfile");
    assert_null(json_object_get(phys, "region"));
    json_t *low = json_array_get(results, 3);
    assert_string_equal(json_string_value(json_object_get(low, "level")), "note");
    json_t *r0 = json_array_get(rules, 0);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(r0, "defaultConfiguration"), "level")), "error");
    assert_non_null(json_object_get(json_object_get(r0, "properties"), "security-severity"));
    cm_report_free(&r);
}

static char *text_of(struct cm_report *r, bool colour)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    cm_report_sort(r);
    assert_int_equal(cm_report_write_text(r, f, colour), 0);
    fclose(f);
    return buf;
}

static void test_text(void **state)
{
    (void)state;
    struct cm_report r;
    sample(&r);
    _cleanup_free_ char *plain = text_of(&r, false);
    _cleanup_free_ char *col = text_of(&r, true);
    assert_null(strchr(plain, '\033'));
    assert_non_null(strchr(col, '\033'));
    char *crit = strstr(plain, "CRITICAL"), *med = strstr(plain, "MEDIUM"),
         *low = strstr(plain, "LOW");
    assert_non_null(crit);
    assert_non_null(med);
    assert_non_null(low);
    assert_true(crit < med && med < low);
    assert_non_null(strstr(plain, "Dockerfile:7"));
    assert_non_null(strstr(plain, "fix it"));
    assert_null(strstr(plain, "hunter2"));
    assert_non_null(strstr(plain, "4 findings (1 critical, 2 medium, 1 low)"));
    cm_report_free(&r);
}

static void test_formats(void **state)
{
    (void)state;
    assert_int_equal(cm_report_format_from_name("json"), CM_FORMAT_JSON);
    assert_int_equal(cm_report_format_from_name("sarif"), CM_FORMAT_SARIF);
    assert_int_equal(cm_report_format_from_name("text"), CM_FORMAT_TEXT);
    assert_int_equal(cm_report_format_from_name("xml"), -1);
}

/* Rule ids are unique across every table, and each table is well formed. */
static void test_registry(void **state)
{
    (void)state;
    size_t n = 0;
    const struct cm_rule_table *t = cm_rule_tables(&n);
    assert_int_equal(n, 4);
    for (size_t a = 0; a < n; a++) {
        for (const struct cm_rule *x = t[a].rules; x->id; x++) {
            assert_non_null(x->topic);
            assert_non_null(x->title);
            assert_non_null(x->remediation);
            assert_ptr_equal(cm_rule_find(x->id), x);
            for (size_t b = 0; b < n; b++)
                for (const struct cm_rule *y = t[b].rules; y->id; y++)
                    if (x != y && strcmp(x->id, y->id) == 0)
                        fail_msg("rule id %s is used twice", x->id);
        }
    }
    assert_null(cm_rule_find("CM-NOPE-1"));
}

/* docs/audit.md is generated: regenerate it with
 *   build/casemate audit rules --format markdown > docs/audit.md */
static void test_docs_match(void **state)
{
    (void)state;
    const char *srcdir = getenv("CASEMATE_SRCDIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/docs/audit.md", srcdir && *srcdir ? srcdir : ".");
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s (run from the source tree or set CASEMATE_SRCDIR)", path);
    char *have = NULL;
    size_t cap = 0;
    ssize_t len = getdelim(&have, &cap, '\0', f);
    fclose(f);
    _cleanup_free_ char *want = cm_rules_markdown();
    assert_non_null(want);
    bool same = len >= 0 && strcmp(have, want) == 0;
    free(have);
    if (!same)
        fail_msg("%s is out of date: run 'build/casemate audit rules --format markdown > "
                 "docs/audit.md'", path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_add_redacts),
        cmocka_unit_test(test_severity_names),
        cmocka_unit_test(test_fail_on),
        cmocka_unit_test(test_json_shape),
        cmocka_unit_test(test_sarif_shape),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_docs_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
