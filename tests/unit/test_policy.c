/* test_policy.c: the host policy: loading, the floor, and refusals that
 * agree with the audit's config rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/rules.h"
#include "spec/policy.h"
#include "spec/spec.h"
#include "util/cleanup.h"

static struct cm_policy *parse_ok(const char *text)
{
    struct cm_policy *p = NULL;
    struct cm_error err = {0};
    if (cm_policy_parse(text, strlen(text), "/etc/casemate/policy.json", &p, &err) < 0)
        fail_msg("parse failed: %s", err.msg);
    assert_non_null(p);
    return p;
}

static void parse_fails(const char *text, const char *needle)
{
    struct cm_policy *p = NULL;
    struct cm_error err = {0};
    assert_int_equal(cm_policy_parse(text, strlen(text), "/etc/casemate/policy.json", &p, &err),
                     -1);
    assert_null(p);
    if (!strstr(err.msg, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", err.msg, needle);
    assert_non_null(strstr(err.msg, "/etc/casemate/policy.json"));
}

static void spec_defaults(struct cm_spec *s)
{
    assert_int_equal(cm_spec_init_defaults(s), 0);
    s->user = strdup("1000");
    s->resources.cpu_shares = 512;
}

static void test_sizes(void **state)
{
    (void)state;
    assert_true(cm_policy_parse_size("512m") == 512LL << 20);
    assert_true(cm_policy_parse_size("1G") == 1LL << 30);
    assert_true(cm_policy_parse_size("2048") == 2048);
    assert_true(cm_policy_parse_size("64kb") == 64LL << 10);
    assert_true(cm_policy_parse_size("") == -1);
    assert_true(cm_policy_parse_size("12x") == -1);
    assert_true(cm_policy_parse_size("-1m") == -1);
    assert_true(cm_policy_parse_size("99999999999999999999t") == -1);
}

static void test_bad_policies(void **state)
{
    (void)state;
    parse_fails("{\"refuse\": [\"CM-CFG-999\"]}", "CM-CFG-999");
    parse_fails("{\"refuse\": [\"privilegd\"]}", "privilegd");
    parse_fails("{\"refuse\": \"privileged\"}", "refuse");
    parse_fails("{\"floor\": {\"pids\": 5}}", "floor.pids");
    parse_fails("{\"floor\": {\"memory\": \"lots\"}}", "floor.memory");
    parse_fails("{\"floor\": {\"seccomp\": \"off\"}}", "floor.seccomp");
    parse_fails("{\"floor\": {\"pids_limit\": -3}}", "pids_limit");
    parse_fails("{\"refuse\": [],\n \"floor\": {,}}", "line 2");
    parse_fails("{\"deny\": []}", "deny");
}

static void test_floor_raises(void **state)
{
    (void)state;
    struct cm_policy *p = parse_ok("{\"floor\": {\"no_new_privileges\": true, \"pids_limit\": 256,"
                                   " \"memory\": \"512m\", \"seccomp\": \"default\","
                                   " \"userns\": true}}");
    struct cm_spec s;
    spec_defaults(&s);
    s.no_new_privs = false;
    s.resources.pids_limit = -1;
    s.resources.memory_limit = 4LL << 30; /* above the floor: lowered to it */
    s.seccomp_unconfined = true;
    s.ns_new &= ~(unsigned)CM_NS_USER;
    struct cm_error err = {0};
    assert_int_equal(cm_policy_enforce(p, &s, &err), 0);
    assert_true(s.no_new_privs);
    assert_int_equal(s.resources.pids_limit, 256);
    assert_true(s.resources.memory_limit == 512LL << 20);
    assert_false(s.seccomp_unconfined);
    assert_true(s.ns_new & CM_NS_USER);

    /* stricter than the floor stays as it is */
    s.resources.pids_limit = 10;
    s.resources.memory_limit = 1 << 20;
    assert_int_equal(cm_policy_enforce(p, &s, &err), 0);
    assert_int_equal(s.resources.pids_limit, 10);
    assert_int_equal(s.resources.memory_limit, 1 << 20);
    cm_spec_free(&s);
    cm_policy_free(p);
}

static void test_refuse_by_id_and_topic(void **state)
{
    (void)state;
    struct cm_policy *p = parse_ok("{\"refuse\": [\"CM-CFG-001\", \"host-network\"]}");
    struct cm_error err = {0};
    struct cm_spec s;

    spec_defaults(&s);
    assert_int_equal(cm_policy_enforce(p, &s, &err), 0); /* the near miss */
    s.privileged = true;
    assert_int_equal(cm_policy_enforce(p, &s, &err), -1);
    assert_non_null(strstr(err.msg, "refused by host policy /etc/casemate/policy.json: "
                                    "rule CM-CFG-001 (privileged): container is privileged"));
    cm_spec_free(&s);

    spec_defaults(&s);
    s.ns_new &= ~(unsigned)CM_NS_NET;
    s.network = CM_NET_HOST;
    cm_err_clear(&err);
    assert_int_equal(cm_policy_enforce(p, &s, &err), -1);
    assert_non_null(strstr(err.msg, "rule CM-CFG-012 (host-network)"));
    cm_spec_free(&s);

    /* what the policy does not name is allowed, even if the audit reports it */
    spec_defaults(&s);
    s.ns_new &= ~(unsigned)CM_NS_PID;
    assert_int_equal(cm_policy_enforce(p, &s, &err), 0);
    cm_spec_free(&s);
    cm_policy_free(p);
}

/* The floor is applied before the rules: a spec the floor fixes passes. */
static void test_floor_before_refuse(void **state)
{
    (void)state;
    struct cm_policy *p =
        parse_ok("{\"refuse\": [\"no-pids-limit\", \"no-new-privileges-off\"],"
                 " \"floor\": {\"pids_limit\": 100, \"no_new_privileges\": true}}");
    struct cm_spec s;
    spec_defaults(&s);
    s.resources.pids_limit = -1;
    s.no_new_privs = false;
    struct cm_error err = {0};
    assert_int_equal(cm_policy_enforce(p, &s, &err), 0);
    cm_spec_free(&s);
    cm_policy_free(p);

    /* without the floor the same spec is refused */
    p = parse_ok("{\"refuse\": [\"no-pids-limit\"]}");
    spec_defaults(&s);
    s.resources.pids_limit = -1;
    assert_int_equal(cm_policy_enforce(p, &s, &err), -1);
    assert_non_null(strstr(err.msg, "CM-CFG-010"));
    cm_spec_free(&s);
    cm_policy_free(p);
}

/* A spec that breaks every config rule but "privileged" (which hides the
 * capability rules), and a privileged one. */
static void worst_spec(struct cm_spec *s, bool privileged)
{
    assert_int_equal(cm_spec_init_defaults(s), 0);
    s->privileged = privileged;
    s->cap_bounding = ((uint64_t)1 << 21) | ((uint64_t)1 << 10); /* SYS_ADMIN, NET_BIND_SERVICE */
    s->ns_new = CM_NS_MOUNT;
    s->network = CM_NET_HOST;
    s->seccomp_unconfined = true;
    s->no_new_privs = false;
    s->readonly_rootfs = false;
    s->resources.memory_limit = -1;
    s->resources.pids_limit = -1;
    s->apparmor_profile = strdup("unconfined");
    static const char *const binds[][2] = {{"/var/run/docker.sock", "/var/run/docker.sock"},
                                           {"/etc", "/host-etc"}};
    for (size_t i = 0; i < 2; i++) {
        struct cm_mount *m = cm_spec_add_mount(s);
        m->source = strdup(binds[i][0]);
        m->destination = strdup(binds[i][1]);
        m->type = strdup("bind");
        m->flags = MS_BIND;
        m->propagation = MS_SHARED;
    }
    s->ports = calloc(1, sizeof(*s->ports));
    s->n_ports = 1;
    s->devices = calloc(1, sizeof(*s->devices));
    s->n_devices = 1;
    s->devices[0].path = strdup("/dev/sda");
    s->devices[0].type = 'b';
}

/* One rule set: for every config rule, the policy refuses exactly what the
 * audit reports, by id and by topic. */
static void test_agrees_with_audit(void **state)
{
    (void)state;
    size_t refused_total = 0;
    for (int priv = 0; priv < 2; priv++) {
        for (const struct cm_rule *rule = cm_config_rules; rule->id; rule++) {
            for (int by_topic = 0; by_topic < 2; by_topic++) {
                char text[128];
                snprintf(text, sizeof(text), "{\"refuse\": [\"%s\"]}",
                         by_topic ? rule->topic : rule->id);
                struct cm_policy *p = parse_ok(text);
                struct cm_spec s;
                worst_spec(&s, priv);
                struct cm_report r = {.kind = "config"};
                assert_int_equal(cm_audit_config_spec(&s, NULL, NULL, &r), 0);
                bool audited = false;
                for (size_t i = 0; i < r.n; i++)
                    audited |= by_topic ? strcmp(r.findings[i].rule->topic, rule->topic) == 0
                                        : r.findings[i].rule == rule;
                struct cm_error err = {0};
                int rc = cm_policy_enforce(p, &s, &err);
                if (rc != (audited ? -1 : 0))
                    fail_msg("%s: audit %s, policy %s", rule->id, audited ? "hit" : "missed",
                             rc ? "refused" : "allowed");
                refused_total += rc != 0;
                cm_report_free(&r);
                cm_spec_free(&s);
                cm_policy_free(p);
            }
        }
    }
    assert_true(refused_total >= 40); /* the worst specs hit nearly every rule */
}

static void test_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/policy_test_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/policy.json", dir);
    struct cm_policy *p = NULL;
    struct cm_error err = {0};

    /* a named policy that is missing is an error, never "no policy" */
    assert_int_equal(cm_policy_load(path, &p, &err), -1);
    assert_null(p);
    assert_non_null(strstr(err.msg, path));

    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"refuse\": [\"privileged\"]}\n", f);
    fclose(f);
    assert_int_equal(setenv("CASEMATE_POLICY", path, 1), 0);
    int rc = cm_policy_load(NULL, &p, &err);
    unsetenv("CASEMATE_POLICY");
    unlink(path);
    rmdir(dir);
    assert_int_equal(rc, 0);
    assert_non_null(p);
    assert_string_equal(p->path, path);
    assert_string_equal(p->refuse[0], "privileged");
    cm_policy_free(p);

    /* a directory is not a policy */
    assert_int_equal(cm_policy_load("/tmp", &p, &err), -1);
    assert_non_null(strstr(err.msg, "not a regular file"));

    /* no policy: nothing enforced */
    struct cm_spec s;
    assert_int_equal(cm_spec_init_defaults(&s), 0);
    s.privileged = true;
    assert_int_equal(cm_policy_enforce(NULL, &s, &err), 0);
    cm_spec_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_bad_policies),
        cmocka_unit_test(test_floor_raises),
        cmocka_unit_test(test_refuse_by_id_and_topic),
        cmocka_unit_test(test_floor_before_refuse),
        cmocka_unit_test(test_agrees_with_audit),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
