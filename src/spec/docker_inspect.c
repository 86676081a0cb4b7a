/* docker_inspect.c: `docker inspect` JSON -> struct cm_spec (see the header).
 *
 * Lenient where Docker versions differ (a missing field means Docker's
 * default), strict where a wrong guess would hide a weakness: an unknown
 * capability name or a malformed document is an error, never skipped. */
#include "spec/docker_inspect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>

#include "sandbox/caps.h"
#include "util/cleanup.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

static const char *jstr(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_int_t jint(json_t *obj, const char *key, json_int_t dflt)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (json_int_t)json_real_value(v);
    return dflt;
}

static bool jbool(json_t *obj, const char *key)
{
    return json_is_true(json_object_get(obj, key));
}

static int dup_into(char **dst, const char *s, struct cm_error *err)
{
    free(*dst);
    *dst = s ? strdup(s) : NULL;
    if (s && !*dst)
        return cm_err_set(err, ENOMEM, "copying \"%s\"", s);
    return 0;
}

/* A JSON array of strings -> NULL-terminated vector (NULL for none). */
static int strv_from_json(json_t *arr, const char *what, char ***out, struct cm_error *err)
{
    *out = NULL;
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return cm_err_set(err, 0, "%s: expected an array of strings", what);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v))
            return cm_err_set(err, 0, "%s[%zu]: expected a string", what, i);
        if (cm_strv_append(out, json_string_value(v)) < 0)
            return cm_err_set(err, ENOMEM, "%s", what);
    }
    return 0;
}

/* Docker's SecurityOpt entries are "key=value" or the older "key:value". */
static bool secopt_is(const char *opt, const char *key, const char *value)
{
    size_t kl = strlen(key);
    if (strncmp(opt, key, kl) != 0)
        return false;
    if (opt[kl] == '\0')
        return value == NULL || strcmp(value, "true") == 0;
    if (opt[kl] != '=' && opt[kl] != ':')
        return false;
    return value == NULL || strcmp(opt + kl + 1, value) == 0;
}

static int parse_security_opts(json_t *hc, const struct cm_docker_daemon_defaults *daemon,
                               struct cm_spec *s, struct cm_error *err)
{
    _cleanup_strv_ char **opts = NULL;
    if (strv_from_json(json_object_get(hc, "SecurityOpt"), "HostConfig.SecurityOpt", &opts,
                       err) < 0)
        return -1;
    s->no_new_privs = daemon && daemon->no_new_privileges;
    for (size_t i = 0; opts && opts[i]; i++) {
        const char *o = opts[i];
        if (secopt_is(o, "no-new-privileges", NULL))
            s->no_new_privs = true;
        else if (secopt_is(o, "no-new-privileges", "false"))
            s->no_new_privs = false;
        else if (secopt_is(o, "seccomp", "unconfined"))
            s->seccomp_unconfined = true;
        else if (secopt_is(o, "apparmor", "unconfined")) {
            if (dup_into(&s->apparmor_profile, "unconfined", err) < 0)
                return -1;
        } else if (secopt_is(o, "label", "disable") || secopt_is(o, "label", "type:spc_t")) {
            if (dup_into(&s->selinux_label, "disable", err) < 0)
                return -1;
        }
    }
    return 0;
}

static int parse_caps(json_t *hc, bool privileged, struct cm_spec *s, struct cm_error *err)
{
    uint64_t mask = cm_cap_docker_default_mask();
    if (privileged) {
        mask = cm_cap_all_mask();
    } else {
        _cleanup_strv_ char **add = NULL;
        _cleanup_strv_ char **drop = NULL;
        if (strv_from_json(json_object_get(hc, "CapAdd"), "HostConfig.CapAdd", &add, err) < 0 ||
            strv_from_json(json_object_get(hc, "CapDrop"), "HostConfig.CapDrop", &drop, err) < 0)
            return -1;
        if (cm_caps_apply_flags(&mask, add, drop, err) < 0)
            return cm_err_prefix(err, "HostConfig");
    }
    s->cap_bounding = s->cap_effective = s->cap_permitted = mask;
    return 0;
}

/* "host" -> the host's namespace; "container:X" -> joined; else a new one. */
static int parse_ns_mode(json_t *hc, const char *key, enum cm_ns ns, struct cm_spec *s,
                         struct cm_error *err)
{
    const char *mode = jstr(hc, key);
    if (mode && strcmp(mode, "host") == 0) {
        s->ns_new &= ~(unsigned)ns;
        return 0;
    }
    if (mode && strncmp(mode, "container:", 10) == 0) {
        s->ns_new &= ~(unsigned)ns;
        struct cm_ns_join *grown = realloc(s->ns_join, (s->n_ns_join + 1) * sizeof(*grown));
        if (!grown)
            return cm_err_set(err, ENOMEM, "HostConfig.%s", key);
        s->ns_join = grown;
        s->ns_join[s->n_ns_join] = (struct cm_ns_join){.type = ns, .path = strdup(mode)};
        if (!s->ns_join[s->n_ns_join++].path)
            return cm_err_set(err, ENOMEM, "HostConfig.%s", key);
        if (ns == CM_NS_NET)
            s->network = CM_NET_JOIN;
    }
    return 0;
}

static unsigned long propagation_of(const char *p)
{
    if (!p || !*p)
        return 0;
    if (!strcmp(p, "shared") || !strcmp(p, "rshared"))
        return MS_SHARED;
    if (!strcmp(p, "slave") || !strcmp(p, "rslave"))
        return MS_SLAVE;
    if (!strcmp(p, "private") || !strcmp(p, "rprivate"))
        return MS_PRIVATE;
    return 0;
}

static int add_bind(struct cm_spec *s, const char *src, const char *dst, bool ro,
                    unsigned long propagation, struct cm_error *err)
{
    struct cm_mount *m = cm_spec_add_mount(s);
    if (!m)
        return cm_err_set(err, ENOMEM, "adding mount %s", dst ? dst : "?");
    m->source = strdup(src);
    m->destination = strdup(dst ? dst : "");
    m->type = strdup("bind");
    if (!m->source || !m->destination || !m->type)
        return cm_err_set(err, ENOMEM, "adding mount %s", dst ? dst : "?");
    m->flags = MS_BIND | (ro ? MS_RDONLY : 0);
    m->propagation = propagation;
    return 0;
}

/* HostConfig.Binds: "SRC:DST[:OPTS]"; only host paths (named volumes are
 * Docker-managed and not a host directory the user chose). */
static int parse_binds(json_t *hc, struct cm_spec *s, struct cm_error *err)
{
    _cleanup_strv_ char **binds = NULL;
    if (strv_from_json(json_object_get(hc, "Binds"), "HostConfig.Binds", &binds, err) < 0)
        return -1;
    for (size_t i = 0; binds && binds[i]; i++) {
        _cleanup_free_ char *b = strdup(binds[i]);
        if (!b)
            return cm_err_set(err, ENOMEM, "HostConfig.Binds");
        char *dst = strchr(b, ':');
        if (!dst || b[0] != '/')
            continue;
        *dst++ = '\0';
        char *opts = strchr(dst, ':');
        if (opts)
            *opts++ = '\0';
        bool ro = false;
        unsigned long prop = 0;
        for (char *save = NULL, *o = opts ? strtok_r(opts, ",", &save) : NULL; o;
             o = strtok_r(NULL, ",", &save)) {
            if (!strcmp(o, "ro"))
                ro = true;
            else if (propagation_of(o))
                prop = propagation_of(o);
        }
        if (add_bind(s, b, dst, ro, prop, err) < 0)
            return -1;
    }
    return 0;
}

/* HostConfig.Mounts (the --mount flag): {Type, Source, Target, ReadOnly,
 * BindOptions.Propagation}. */
static int parse_hc_mounts(json_t *hc, struct cm_spec *s, struct cm_error *err)
{
    json_t *arr = json_object_get(hc, "Mounts");
    size_t i;
    json_t *m;
    json_array_foreach(arr, i, m) {
        const char *type = jstr(m, "Type"), *src = jstr(m, "Source");
        if (!type || strcmp(type, "bind") != 0 || !src || src[0] != '/')
            continue;
        json_t *bo = json_object_get(m, "BindOptions");
        if (add_bind(s, src, jstr(m, "Target"), jbool(m, "ReadOnly"),
                     propagation_of(jstr(bo, "Propagation")), err) < 0)
            return -1;
    }
    return 0;
}

/* Top-level Mounts: what the daemon resolved ({Type, Source, Destination,
 * RW, Propagation}); volumes live under /var/lib/docker and are skipped. */
static int parse_runtime_mounts(json_t *arr, struct cm_spec *s, struct cm_error *err)
{
    size_t i;
    json_t *m;
    json_array_foreach(arr, i, m) {
        const char *type = jstr(m, "Type"), *src = jstr(m, "Source");
        if (!type || strcmp(type, "bind") != 0 || !src || src[0] != '/')
            continue;
        json_t *rw = json_object_get(m, "RW");
        if (add_bind(s, src, jstr(m, "Destination"), json_is_false(rw),
                     propagation_of(jstr(m, "Propagation")), err) < 0)
            return -1;
    }
    return 0;
}

static int add_port(struct cm_spec *s, const char *ip, const char *host_port, const char *key,
                    struct cm_error *err)
{
    struct cm_port *grown = realloc(s->ports, (s->n_ports + 1) * sizeof(*grown));
    if (!grown)
        return cm_err_set(err, ENOMEM, "HostConfig.PortBindings");
    s->ports = grown;
    struct cm_port *p = &s->ports[s->n_ports++];
    memset(p, 0, sizeof(*p));
    snprintf(p->host_ip, sizeof(p->host_ip), "%s", ip ? ip : "");
    unsigned cport = 0;
    char proto[8] = "tcp";
    if (sscanf(key, "%u/%7s", &cport, proto) < 1)
        cport = 0;
    p->container_port = (uint16_t)cport;
    p->host_port = (uint16_t)(host_port ? strtoul(host_port, NULL, 10) : 0);
    snprintf(p->proto, sizeof(p->proto), "%s", proto);
    return 0;
}

static int parse_ports(json_t *root, json_t *hc, struct cm_spec *s, struct cm_error *err)
{
    json_t *pb = json_object_get(hc, "PortBindings");
    const char *key;
    json_t *list;
    json_object_foreach(pb, key, list) {
        size_t i;
        json_t *b;
        json_array_foreach(list, i, b) {
            if (add_port(s, jstr(b, "HostIp"), jstr(b, "HostPort"), key, err) < 0)
                return -1;
        }
    }
    /* -P publishes every exposed port on every interface */
    if (jbool(hc, "PublishAllPorts")) {
        json_t *exposed = json_object_get(json_object_get(root, "Config"), "ExposedPorts");
        json_t *unused;
        json_object_foreach(exposed, key, unused) {
            if (add_port(s, "", NULL, key, err) < 0)
                return -1;
        }
    }
    return 0;
}

static struct cm_device *new_device(struct cm_spec *s)
{
    struct cm_device *grown = realloc(s->devices, (s->n_devices + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    s->devices = grown;
    struct cm_device *d = &s->devices[s->n_devices++];
    memset(d, 0, sizeof(*d));
    return d;
}

static int parse_devices(json_t *hc, struct cm_spec *s, struct cm_error *err)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(hc, "Devices"), i, d) {
        const char *in = jstr(d, "PathInContainer"), *host = jstr(d, "PathOnHost");
        struct cm_device *dev = new_device(s);
        if (!dev)
            return cm_err_set(err, ENOMEM, "HostConfig.Devices");
        dev->type = 'c';
        dev->major = dev->minor = -1;
        dev->allow = true;
        dev->path = strdup(host ? host : in ? in : "?");
        dev->access = strdup(jstr(d, "CgroupPermissions") ? jstr(d, "CgroupPermissions") : "rwm");
        if (!dev->path || !dev->access)
            return cm_err_set(err, ENOMEM, "HostConfig.Devices");
    }
    _cleanup_strv_ char **rules = NULL;
    if (strv_from_json(json_object_get(hc, "DeviceCgroupRules"), "HostConfig.DeviceCgroupRules",
                       &rules, err) < 0)
        return -1;
    for (size_t k = 0; rules && rules[k]; k++) {
        char type = 0, maj[16] = "", min[16] = "", access[8] = "";
        if (sscanf(rules[k], "%c %15[^:]:%15s %7s", &type, maj, min, access) < 3)
            return cm_err_set(err, 0, "HostConfig.DeviceCgroupRules: \"%s\" is not "
                                      "\"TYPE MAJOR:MINOR ACCESS\"", rules[k]);
        struct cm_device *dev = new_device(s);
        if (!dev)
            return cm_err_set(err, ENOMEM, "HostConfig.DeviceCgroupRules");
        dev->type = type;
        dev->major = strcmp(maj, "*") ? strtoll(maj, NULL, 10) : -1;
        dev->minor = strcmp(min, "*") ? strtoll(min, NULL, 10) : -1;
        dev->allow = true;
        dev->access = strdup(access[0] ? access : "rwm");
        if (!dev->access)
            return cm_err_set(err, ENOMEM, "HostConfig.DeviceCgroupRules");
    }
    return 0;
}

static void parse_resources(json_t *hc, struct cm_spec *s)
{
    struct cm_resources *r = &s->resources;
    json_int_t mem = jint(hc, "Memory", 0);
    r->memory_limit = mem > 0 ? mem : -1;
    json_int_t pids = jint(hc, "PidsLimit", 0);
    r->pids_limit = pids > 0 ? pids : -1;
    json_int_t nano = jint(hc, "NanoCpus", 0);
    json_int_t quota = jint(hc, "CpuQuota", 0);
    json_int_t period = jint(hc, "CpuPeriod", 0);
    if (nano > 0) {
        r->cpu_period = 100000;
        r->cpu_quota = nano / 10000; /* 1e9 nano-CPUs = one period of 100000 us */
    } else if (quota > 0) {
        r->cpu_quota = quota;
        r->cpu_period = period > 0 ? (uint64_t)period : 0;
    }
    json_int_t shares = jint(hc, "CpuShares", 0);
    r->cpu_shares = shares > 0 ? (uint64_t)shares : 0;
    const char *cpuset = jstr(hc, "CpusetCpus");
    if (cpuset && *cpuset)
        r->cpuset_cpus = strdup(cpuset); /* advisory for the audit: NULL on ENOMEM is "unset" */
}

bool cm_docker_inspect_detect(json_t *root)
{
    if (json_is_array(root))
        root = json_array_get(root, 0);
    return json_is_object(root) && !json_object_get(root, "ociVersion") &&
           (json_object_get(root, "HostConfig") || json_object_get(root, "Config"));
}

int cm_docker_container_from_json(json_t *obj, const struct cm_docker_daemon_defaults *daemon,
                                  struct cm_docker_container *c, struct cm_error *err)
{
    memset(c, 0, sizeof(*c));
    if (!json_is_object(obj))
        return cm_err_set(err, 0, "expected a container object");
    struct cm_spec *s = &c->spec;
    json_t *hc = json_object_get(obj, "HostConfig");
    json_t *cfg = json_object_get(obj, "Config");
    if (hc && !json_is_object(hc))
        return cm_err_set(err, 0, "HostConfig: expected an object");
    if (cfg && !json_is_object(cfg))
        return cm_err_set(err, 0, "Config: expected an object");

    const char *name = jstr(obj, "Name");
    if (name && name[0] == '/')
        name++;
    if (dup_into(&c->id, jstr(obj, "Id"), err) < 0 || dup_into(&c->name, name, err) < 0 ||
        dup_into(&c->image, jstr(cfg, "Image"), err) < 0 ||
        dup_into(&c->image_id, jstr(obj, "Image"), err) < 0 ||
        dup_into(&s->name, name, err) < 0 || dup_into(&s->id, jstr(obj, "Id"), err) < 0)
        return -1;

    /* Docker's defaults, as Docker applies them */
    s->ns_new = CM_NS_PID | CM_NS_MOUNT | CM_NS_NET | CM_NS_IPC | CM_NS_UTS;
    s->network = CM_NET_NONE;
    s->rootfs_propagation = MS_PRIVATE | MS_REC;
    s->resources.memory_swap = -2;
    s->resources.memory_reservation = -1;
    s->resources.cpu_quota = -1;
    s->resources.hugetlb_limit = -1;

    s->privileged = jbool(hc, "Privileged");
    s->readonly_rootfs = jbool(hc, "ReadonlyRootfs");
    const char *user = jstr(cfg, "User");
    if (user && *user && dup_into(&s->user, user, err) < 0)
        return -1;

    const char *userns = jstr(hc, "UsernsMode");
    if (daemon && daemon->userns_remap && !(userns && strcmp(userns, "host") == 0))
        s->ns_new |= CM_NS_USER;

    const char *netmode = jstr(hc, "NetworkMode");
    if (netmode && strcmp(netmode, "host") == 0) {
        s->ns_new &= ~(unsigned)CM_NS_NET;
        s->network = CM_NET_HOST;
    }
    if (parse_ns_mode(hc, "NetworkMode", CM_NS_NET, s, err) < 0 ||
        parse_ns_mode(hc, "PidMode", CM_NS_PID, s, err) < 0 ||
        parse_ns_mode(hc, "IpcMode", CM_NS_IPC, s, err) < 0 ||
        parse_ns_mode(hc, "UTSMode", CM_NS_UTS, s, err) < 0)
        return -1;
    const char *cgns = jstr(hc, "CgroupnsMode");
    if (cgns && strcmp(cgns, "private") == 0)
        s->ns_new |= CM_NS_CGROUP;

    if (parse_security_opts(hc, daemon, s, err) < 0 || parse_caps(hc, s->privileged, s, err) < 0)
        return -1;
    const char *aa = jstr(obj, "AppArmorProfile");
    if (aa && strcmp(aa, "unconfined") == 0 && !s->apparmor_profile &&
        dup_into(&s->apparmor_profile, aa, err) < 0)
        return -1;

    parse_resources(hc, s);

    json_t *mounts = json_object_get(obj, "Mounts");
    if (json_is_array(mounts)) {
        if (parse_runtime_mounts(mounts, s, err) < 0)
            return -1;
    } else if (parse_binds(hc, s, err) < 0 || parse_hc_mounts(hc, s, err) < 0) {
        return -1;
    }
    if (s->network != CM_NET_HOST && parse_ports(obj, hc, s, err) < 0)
        return -1;
    if (parse_devices(hc, s, err) < 0)
        return -1;
    return 0;
}

void cm_docker_container_free(struct cm_docker_container *c)
{
    if (!c)
        return;
    cm_spec_free(&c->spec);
    free(c->id);
    free(c->name);
    free(c->image);
    free(c->image_id);
    memset(c, 0, sizeof(*c));
}

void cm_docker_containers_free(struct cm_docker_container *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++)
        cm_docker_container_free(&c[i]);
    free(c);
}

int cm_docker_inspect_parse(const char *text, size_t len,
                            const struct cm_docker_daemon_defaults *daemon,
                            struct cm_docker_container **out, size_t *n, struct cm_error *err)
{
    *out = NULL;
    *n = 0;
    json_error_t jerr;
    _cleanup_json_ json_t *root = json_loadb(text, len, 0, &jerr);
    if (!root)
        return cm_err_set(err, 0, "invalid JSON at line %d, column %d: %s", jerr.line,
                          jerr.column, jerr.text);
    size_t count = json_is_array(root) ? json_array_size(root) : 1;
    if (!json_is_array(root) && !json_is_object(root))
        return cm_err_set(err, 0, "expected a container object or an array of them");
    struct cm_docker_container *cs = calloc(count ? count : 1, sizeof(*cs));
    if (!cs)
        return cm_err_set(err, ENOMEM, "parsing docker inspect");
    for (size_t i = 0; i < count; i++) {
        json_t *obj = json_is_array(root) ? json_array_get(root, i) : root;
        if (cm_docker_container_from_json(obj, daemon, &cs[i], err) < 0) {
            cm_docker_containers_free(cs, i + 1);
            if (json_is_array(root))
                cm_err_prefix(err, "container %zu", i);
            return -1;
        }
    }
    *out = cs;
    *n = count;
    return 0;
}
