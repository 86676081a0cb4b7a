/* test_config_rules.c: every container-config rule has a spec that must hit
 * it and a near miss that must not; a hardened baseline hits nothing; and
 * `docker inspect` documents become the spec the rules expect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "audit/rules.h"
#include "sandbox/caps.h"
#include "spec/docker_inspect.h"
#include "spec/spec.h"
#include "util/cleanup.h"

#define BIT(c) ((uint64_t)1 << (c))

/* casemate's defaults plus a non-root user and a CPU share: nothing to say */
static void baseline(struct cm_spec *s)
{
    assert_int_equal(cm_spec_init_defaults(s), 0);
    s->user = strdup("1000:1000");
    assert_non_null(s->user);
    s->resources.cpu_shares = 512;
}

static size_t count_id(const struct cm_report *r, const char *id)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += strcmp(r->findings[i].rule->id, id) == 0;
    return n;
}

static void add_bind(struct cm_spec *s, const char *src, const char *dst, unsigned long prop)
{
    struct cm_mount *m = cm_spec_add_mount(s);
    assert_non_null(m);
    m->source = strdup(src);
    m->destination = strdup(dst);
    m->type = strdup("bind");
    m->flags = MS_BIND;
    m->propagation = prop;
}

static void add_join(struct cm_spec *s, enum cm_ns ns, const char *path)
{
    s->ns_new &= ~(unsigned)ns;
    s->ns_join = realloc(s->ns_join, (s->n_ns_join + 1) * sizeof(*s->ns_join));
    assert_non_null(s->ns_join);
    s->ns_join[s->n_ns_join].type = ns;
    s->ns_join[s->n_ns_join++].path = strdup(path);
}

static void add_port(struct cm_spec *s, const char *ip)
{
    s->ports = realloc(s->ports, (s->n_ports + 1) * sizeof(*s->ports));
    assert_non_null(s->ports);
    struct cm_port *p = &s->ports[s->n_ports++];
    memset(p, 0, sizeof(*p));
    snprintf(p->host_ip, sizeof(p->host_ip), "%s", ip);
    p->host_port = 8080;
    p->container_port = 80;
    snprintf(p->proto, sizeof(p->proto), "tcp");
}

static void add_device(struct cm_spec *s, const char *path)
{
    s->devices = realloc(s->devices, (s->n_devices + 1) * sizeof(*s->devices));
    assert_non_null(s->devices);
    struct cm_device *d = &s->devices[s->n_devices++];
    memset(d, 0, sizeof(*d));
    d->type = 'c';
    d->path = strdup(path);
    d->allow = true;
}

static void set_userns_map(struct cm_spec *s, uint32_t host)
{
    s->uid_map = calloc(1, sizeof(*s->uid_map));
    assert_non_null(s->uid_map);
    s->uid_map[0] = (struct cm_idmap){.container_id = 0, .host_id = host, .size = 65536};
    s->n_uid_map = 1;
}

/* hits */
static void h_privileged(struct cm_spec *s) { s->privileged = true; }
static void h_caps_danger(struct cm_spec *s) { s->cap_bounding = BIT(21) | BIT(10); }
static void h_caps_bpf(struct cm_spec *s) { s->cap_effective = BIT(39); }
static void h_caps(struct cm_spec *s) { s->cap_bounding = BIT(10); }
static void h_root_null(struct cm_spec *s) { free(s->user); s->user = NULL; }
static void h_root_zero(struct cm_spec *s) { free(s->user); s->user = strdup("0:0"); }
static void h_root_name(struct cm_spec *s) { free(s->user); s->user = strdup("root"); }
static void h_root_uid(struct cm_spec *s) { s->user_resolved = true; s->uid = 0; }
static void h_no_userns(struct cm_spec *s) { s->ns_new &= ~(unsigned)CM_NS_USER; }
static void h_userns_identity(struct cm_spec *s) { set_userns_map(s, 0); }
static void h_seccomp(struct cm_spec *s) { s->seccomp_unconfined = true; }
static void h_nnp(struct cm_spec *s) { s->no_new_privs = false; }
static void h_rootfs(struct cm_spec *s) { s->readonly_rootfs = false; }
static void h_memory(struct cm_spec *s) { s->resources.memory_limit = -1; }
static void h_pids(struct cm_spec *s) { s->resources.pids_limit = -1; }
static void h_cpu(struct cm_spec *s) { s->resources.cpu_shares = 0; }
static void h_net(struct cm_spec *s) { s->ns_new &= ~(unsigned)CM_NS_NET; s->network = CM_NET_HOST; }
static void h_net_join1(struct cm_spec *s) { add_join(s, CM_NS_NET, "/proc/1/ns/net"); }
static void h_pid(struct cm_spec *s) { s->ns_new &= ~(unsigned)CM_NS_PID; }
static void h_ipc(struct cm_spec *s) { s->ns_new &= ~(unsigned)CM_NS_IPC; }
static void h_uts(struct cm_spec *s) { s->ns_new &= ~(unsigned)CM_NS_UTS; }
static void h_sock(struct cm_spec *s) { add_bind(s, "/var/run/docker.sock", "/var/run/docker.sock", 0); }
static void h_sock_run(struct cm_spec *s) { add_bind(s, "/run/", "/host-run", 0); }
static void h_sensitive(struct cm_spec *s) { add_bind(s, "/etc", "/host-etc", 0); }
static void h_sensitive_root(struct cm_spec *s) { add_bind(s, "//", "/host", 0); }
static void h_sensitive_sub(struct cm_spec *s) { add_bind(s, "/var/lib/docker/volumes/x", "/x", 0); }
static void h_port(struct cm_spec *s) { add_port(s, "0.0.0.0"); }
static void h_port_empty(struct cm_spec *s) { add_port(s, ""); }
static void h_device(struct cm_spec *s) { add_device(s, "/dev/sda"); }
static void h_shared(struct cm_spec *s) { add_bind(s, "/srv/data", "/data", MS_SHARED | MS_REC); }
static void h_shared_root(struct cm_spec *s) { s->rootfs_propagation = MS_SHARED | MS_REC; }
static void h_lsm(struct cm_spec *s) { s->apparmor_profile = strdup("unconfined"); }
static void h_selinux(struct cm_spec *s) { s->selinux_label = strdup("disable"); }

/* near misses */
static void n_none(struct cm_spec *s) { (void)s; }
static void n_caps_benign(struct cm_spec *s) { s->cap_bounding = BIT(10) | BIT(0); }
static void n_user_rootless(struct cm_spec *s) { free(s->user); s->user = strdup("rootless"); }
static void n_uid(struct cm_spec *s) { s->user_resolved = true; s->uid = 1000; }
static void n_userns_mapped(struct cm_spec *s) { set_userns_map(s, 100000); }
static void n_memory(struct cm_spec *s) { s->resources.memory_limit = 512LL << 20; }
static void n_pids(struct cm_spec *s) { s->resources.pids_limit = 100; }
static void n_cpu(struct cm_spec *s) { s->resources.cpu_shares = 0; s->resources.cpuset_cpus = strdup("0"); }
static void n_cpu_quota(struct cm_spec *s) { s->resources.cpu_shares = 0; s->resources.cpu_quota = 50000; }
static void n_net_join(struct cm_spec *s) { add_join(s, CM_NS_NET, "/proc/4242/ns/net"); }
static void n_sock(struct cm_spec *s) { add_bind(s, "/srv/docker.sock.d", "/d", 0); }
static void n_sensitive(struct cm_spec *s) { add_bind(s, "/etcd-data", "/data", 0); }
static void n_sensitive_tmpfs(struct cm_spec *s)
{
    struct cm_mount *m = cm_spec_add_mount(s);
    m->source = strdup("tmpfs");
    m->destination = strdup("/etc");
    m->type = strdup("tmpfs");
}
static void n_port(struct cm_spec *s) { add_port(s, "127.0.0.1"); }
static void n_device(struct cm_spec *s) { add_device(s, "/dev/null"); }
static void n_shared(struct cm_spec *s) { add_bind(s, "/srv/data", "/data", MS_SLAVE | MS_REC); }
static void n_lsm(struct cm_spec *s) { s->apparmor_profile = strdup("docker-default"); }

struct rule_case {
    const char *id;
    void (*apply)(struct cm_spec *);
    bool hit;
};

static const struct rule_case cases[] = {
    {"CM-CFG-001", h_privileged, true},       {"CM-CFG-001", n_caps_benign, false},
    {"CM-CFG-002", h_caps_danger, true},      {"CM-CFG-002", h_caps_bpf, true},
    {"CM-CFG-002", n_caps_benign, false},     {"CM-CFG-002", h_privileged, false},
    {"CM-CFG-003", h_caps, true},             {"CM-CFG-003", h_caps_bpf, false},
    {"CM-CFG-003", n_none, false},
    {"CM-CFG-004", h_root_null, true},        {"CM-CFG-004", h_root_zero, true},
    {"CM-CFG-004", h_root_name, true},        {"CM-CFG-004", h_root_uid, true},
    {"CM-CFG-004", n_user_rootless, false},   {"CM-CFG-004", n_uid, false},
    {"CM-CFG-005", h_no_userns, true},        {"CM-CFG-005", h_userns_identity, true},
    {"CM-CFG-005", n_userns_mapped, false},
    {"CM-CFG-006", h_seccomp, true},          {"CM-CFG-006", n_none, false},
    {"CM-CFG-007", h_nnp, true},              {"CM-CFG-007", n_none, false},
    {"CM-CFG-008", h_rootfs, true},           {"CM-CFG-008", n_none, false},
    {"CM-CFG-009", h_memory, true},           {"CM-CFG-009", n_memory, false},
    {"CM-CFG-010", h_pids, true},             {"CM-CFG-010", n_pids, false},
    {"CM-CFG-011", h_cpu, true},              {"CM-CFG-011", n_cpu, false},
    {"CM-CFG-011", n_cpu_quota, false},
    {"CM-CFG-012", h_net, true},              {"CM-CFG-012", h_net_join1, true},
    {"CM-CFG-012", n_net_join, false},
    {"CM-CFG-013", h_pid, true},              {"CM-CFG-013", h_ipc, false},
    {"CM-CFG-014", h_ipc, true},              {"CM-CFG-014", h_uts, false},
    {"CM-CFG-015", h_uts, true},              {"CM-CFG-015", h_pid, false},
    {"CM-CFG-016", h_sock, true},             {"CM-CFG-016", h_sock_run, true},
    {"CM-CFG-016", n_sock, false},
    {"CM-CFG-017", h_sensitive, true},        {"CM-CFG-017", h_sensitive_root, true},
    {"CM-CFG-017", h_sensitive_sub, true},    {"CM-CFG-017", n_sensitive, false},
    {"CM-CFG-017", n_sensitive_tmpfs, false}, {"CM-CFG-017", h_sock, false},
    {"CM-CFG-018", h_port, true},             {"CM-CFG-018", h_port_empty, true},
    {"CM-CFG-018", n_port, false},
    {"CM-CFG-019", h_device, true},           {"CM-CFG-019", n_device, false},
    {"CM-CFG-020", h_shared, true},           {"CM-CFG-020", h_shared_root, true},
    {"CM-CFG-020", n_shared, false},
    {"CM-CFG-021", h_lsm, true},              {"CM-CFG-021", h_selinux, true},
    {"CM-CFG-021", n_lsm, false},
};

static void test_baseline_is_clean(void **state)
{
    (void)state;
    struct cm_spec s;
    baseline(&s);
    struct cm_report r = {.kind = "config"};
    assert_int_equal(cm_audit_config_spec(&s, "config.json", NULL, &r), 0);
    for (size_t i = 0; i < r.n; i++)
        fprintf(stderr, "unexpected: %s %s\n", r.findings[i].rule->id, r.findings[i].evidence);
    assert_int_equal(r.n, 0);
    cm_report_free(&r);
    cm_spec_free(&s);
}

static void test_every_case(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cm_spec s;
        baseline(&s);
        cases[i].apply(&s);
        struct cm_report r = {.kind = "config"};
        assert_int_equal(cm_audit_config_spec(&s, "config.json", "web", &r), 0);
        size_t n = count_id(&r, cases[i].id);
        if ((n > 0) != cases[i].hit)
            fail_msg("case %zu: rule %s %s", i, cases[i].id,
                     cases[i].hit ? "did not hit" : "hit a near miss");
        for (size_t k = 0; k < r.n; k++) {
            assert_string_equal(r.findings[k].subject, "web");
            assert_string_equal(r.findings[k].path, "config.json");
        }
        cm_report_free(&r);
        cm_spec_free(&s);
    }
}

/* A rule added without a hit and a near miss fails here. */
static void test_every_rule_has_cases(void **state)
{
    (void)state;
    size_t n_rules = 0;
    for (const struct cm_rule *rule = cm_config_rules; rule->id; rule++, n_rules++) {
        bool hit = false, miss = false;
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
            if (strcmp(cases[i].id, rule->id) != 0)
                continue;
            hit |= cases[i].hit;
            miss |= !cases[i].hit;
        }
        if (!hit || !miss)
            fail_msg("rule %s lacks a %s case", rule->id, hit ? "near-miss" : "hit");
        assert_non_null(rule->topic);
        assert_non_null(rule->remediation);
        assert_non_null(strstr(rule->references, "CIS"));
    }
    assert_int_equal(n_rules, 21);
}

/* Every container-config topic of the contract has a rule. */
static void test_contract_topics(void **state)
{
    (void)state;
    static const char *const topics[] = {
        "privileged", "capabilities-added", "root-user", "no-userns", "seccomp-unconfined",
        "no-new-privileges-off", "writable-rootfs", "no-memory-limit", "no-pids-limit",
        "no-cpu-limit", "host-network", "host-pid", "host-ipc", "host-uts",
        "docker-socket-mount", "sensitive-host-mount", "port-all-interfaces", "device-access",
        "shared-propagation", "lsm-unconfined",
    };
    for (size_t i = 0; i < ARRAY_SIZE(topics); i++) {
        bool found = false;
        for (const struct cm_rule *rule = cm_config_rules; rule->id; rule++)
            found |= strcmp(rule->topic, topics[i]) == 0;
        if (!found)
            fail_msg("topic %s has no rule", topics[i]);
    }
}

static const char inspect_doc[] =
    "[{\"Id\": \"0123456789abcdef\", \"Name\": \"/web\", \"Image\": \"sha256:feedbeef\","
    "  \"Config\": {\"User\": \"\", \"Image\": \"nginx:1.27\"},"
    "  \"HostConfig\": {\"Privileged\": false, \"CapAdd\": [\"SYS_ADMIN\"],"
    "    \"CapDrop\": [\"NET_RAW\"], \"ReadonlyRootfs\": false, \"Memory\": 0, \"PidsLimit\": null,"
    "    \"NanoCpus\": 0, \"NetworkMode\": \"host\", \"PidMode\": \"host\", \"IpcMode\": \"private\","
    "    \"UTSMode\": \"\", \"SecurityOpt\": [\"seccomp=unconfined\", \"apparmor:unconfined\"],"
    "    \"Binds\": [\"/var/run/docker.sock:/var/run/docker.sock:ro\", \"/etc:/host/etc\","
    "               \"named:/data\", \"/srv/x:/x:rshared\"],"
    "    \"PortBindings\": {\"80/tcp\": [{\"HostIp\": \"\", \"HostPort\": \"8080\"}]},"
    "    \"Devices\": [{\"PathOnHost\": \"/dev/kvm\", \"PathInContainer\": \"/dev/kvm\","
    "                   \"CgroupPermissions\": \"rwm\"}]}},"
    " {\"Id\": \"fedcba9876543210\", \"Name\": \"/safe\", \"Image\": \"sha256:00\","
    "  \"Config\": {\"User\": \"1000\", \"Image\": \"app:1\"},"
    "  \"HostConfig\": {\"CapDrop\": [\"ALL\"], \"ReadonlyRootfs\": true, \"Memory\": 536870912,"
    "    \"PidsLimit\": 100, \"NanoCpus\": 1500000000, \"NetworkMode\": \"bridge\","
    "    \"SecurityOpt\": [\"no-new-privileges:true\"],"
    "    \"PortBindings\": {\"80/tcp\": [{\"HostIp\": \"127.0.0.1\", \"HostPort\": \"8080\"}]}}}]";

static void test_docker_inspect(void **state)
{
    (void)state;
    struct cm_docker_container *cs = NULL;
    size_t n = 0;
    struct cm_error err = {0};
    assert_int_equal(cm_docker_inspect_parse(inspect_doc, strlen(inspect_doc), NULL, &cs, &n,
                                             &err), 0);
    assert_int_equal(n, 2);
    struct cm_spec *s = &cs[0].spec;
    assert_string_equal(cs[0].name, "web");
    assert_string_equal(cs[0].image, "nginx:1.27");
    uint64_t want = (cm_cap_docker_default_mask() & ~BIT(13)) | BIT(21);
    assert_true(s->cap_bounding == want);
    assert_true(s->seccomp_unconfined);
    assert_string_equal(s->apparmor_profile, "unconfined");
    assert_false(s->no_new_privs);
    assert_int_equal(s->network, CM_NET_HOST);
    assert_int_equal(s->n_mounts, 3); /* the named volume is not a host path */
    assert_true(s->mounts[0].flags & MS_RDONLY);
    assert_true(s->mounts[2].propagation & MS_SHARED);
    assert_int_equal(s->n_ports, 0); /* host network: ports mean nothing */
    assert_int_equal(s->n_devices, 1);

    struct cm_report r = {.kind = "config"};
    assert_int_equal(cm_audit_config_spec(s, "inspect.json", cs[0].name, &r), 0);
    static const char *const expect[] = {
        "CM-CFG-002", "CM-CFG-003", "CM-CFG-004", "CM-CFG-005", "CM-CFG-006", "CM-CFG-007",
        "CM-CFG-008", "CM-CFG-009", "CM-CFG-010", "CM-CFG-011", "CM-CFG-012", "CM-CFG-013",
        "CM-CFG-016", "CM-CFG-017", "CM-CFG-019", "CM-CFG-020", "CM-CFG-021",
    };
    for (size_t i = 0; i < ARRAY_SIZE(expect); i++)
        if (!count_id(&r, expect[i]))
            fail_msg("web: %s expected", expect[i]);
    assert_int_equal(count_id(&r, "CM-CFG-014"), 0); /* IpcMode private */
    assert_int_equal(count_id(&r, "CM-CFG-015"), 0); /* UTSMode "": a new one */
    assert_int_equal(count_id(&r, "CM-CFG-001"), 0);
    cm_report_free(&r);

    /* the hardened one: only no-userns (Docker has none by default) */
    s = &cs[1].spec;
    assert_true(s->cap_bounding == 0);
    assert_true(s->no_new_privs);
    assert_int_equal(s->resources.cpu_quota, 150000);
    r = (struct cm_report){.kind = "config"};
    assert_int_equal(cm_audit_config_spec(s, "inspect.json", cs[1].name, &r), 0);
    for (size_t i = 0; i < r.n; i++)
        fprintf(stderr, "safe: %s %s\n", r.findings[i].rule->id, r.findings[i].evidence);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.findings[0].rule->id, "CM-CFG-005");
    cm_report_free(&r);
    cm_docker_containers_free(cs, n);

    /* the daemon's userns-remap gives every container a user namespace */
    struct cm_docker_daemon_defaults d = {.userns_remap = true, .no_new_privileges = true};
    assert_int_equal(cm_docker_inspect_parse(inspect_doc, strlen(inspect_doc), &d, &cs, &n, &err),
                     0);
    assert_true(cs[1].spec.ns_new & CM_NS_USER);
    assert_true(cs[0].spec.no_new_privs);
    cm_docker_containers_free(cs, n);
}

static void test_docker_inspect_errors(void **state)
{
    (void)state;
    struct cm_docker_container *cs = NULL;
    size_t n = 0;
    struct cm_error err = {0};
    const char *bad_json = "[{\"HostConfig\": {]";
    assert_int_equal(cm_docker_inspect_parse(bad_json, strlen(bad_json), NULL, &cs, &n, &err), -1);
    assert_non_null(strstr(err.msg, "line 1"));
    const char *bad_cap = "{\"HostConfig\": {\"CapAdd\": [\"NOT_A_CAP\"]}}";
    assert_int_equal(cm_docker_inspect_parse(bad_cap, strlen(bad_cap), NULL, &cs, &n, &err), -1);
    assert_non_null(strstr(err.msg, "NOT_A_CAP"));
    const char *bad_type = "{\"HostConfig\": {\"Binds\": \"/etc:/etc\"}}";
    assert_int_equal(cm_docker_inspect_parse(bad_type, strlen(bad_type), NULL, &cs, &n, &err), -1);
    assert_non_null(strstr(err.msg, "Binds"));
    assert_null(cs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baseline_is_clean),
        cmocka_unit_test(test_every_case),
        cmocka_unit_test(test_every_rule_has_cases),
        cmocka_unit_test(test_contract_topics),
        cmocka_unit_test(test_docker_inspect),
        cmocka_unit_test(test_docker_inspect_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
