/* config_rules.c: the container-config rules, evaluated on struct cm_spec.
 *
 * One rule set for three users: `casemate audit config` (OCI config.json,
 * `docker inspect`), `casemate audit host` (every running container), and the
 * runtime's host policy (spec/policy.c), which refuses specs that hit the
 * rules it names. The audit and the policy can therefore never disagree.
 * CIS numbers are those of the CIS Docker Benchmark 1.6.0, section 5. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "audit/rules.h"
#include "sandbox/caps.h"
#include "util/cleanup.h"

enum {
    R_PRIVILEGED,
    R_CAPS_DANGEROUS,
    R_CAPS_ADDED,
    R_ROOT_USER,
    R_NO_USERNS,
    R_SECCOMP,
    R_NNP,
    R_WRITABLE_ROOTFS,
    R_NO_MEMORY,
    R_NO_PIDS,
    R_NO_CPU,
    R_HOST_NET,
    R_HOST_PID,
    R_HOST_IPC,
    R_HOST_UTS,
    R_DOCKER_SOCKET,
    R_SENSITIVE_MOUNT,
    R_PORT_ALL,
    R_DEVICE,
    R_SHARED_PROPAGATION,
    R_LSM_UNCONFINED,
};

const struct cm_rule cm_config_rules[] = {
    [R_PRIVILEGED] = {"CM-CFG-001", "privileged", CM_SEV_CRITICAL,
        "container is privileged: every capability, every device, no seccomp",
        "Remove --privileged; grant the one capability the workload needs with --cap-add",
        "CIS 5.4; seed 000; seed 003"},
    [R_CAPS_DANGEROUS] = {"CM-CFG-002", "capabilities-added", CM_SEV_HIGH,
        "container holds a capability that leads to host root (SYS_ADMIN, SYS_MODULE, ...)",
        "Drop it: --cap-drop=ALL and --cap-add only what the workload needs, never "
        "SYS_ADMIN, SYS_MODULE, SYS_PTRACE, SYS_RAWIO, DAC_READ_SEARCH, NET_ADMIN or BPF",
        "CIS 5.3; seed 000; seed 001"},
    [R_CAPS_ADDED] = {"CM-CFG-003", "capabilities-added", CM_SEV_MEDIUM,
        "container holds capabilities (casemate's default is none)",
        "--cap-drop=ALL, then --cap-add each capability the workload is shown to need",
        "CIS 5.3; seed 000; seed 001"},
    [R_ROOT_USER] = {"CM-CFG-004", "root-user", CM_SEV_MEDIUM,
        "container process runs as root",
        "Run as an unprivileged user: --user 1000:1000, or USER in the image",
        "CIS 4.1; seed 000; seed 002"},
    [R_NO_USERNS] = {"CM-CFG-005", "no-userns", CM_SEV_MEDIUM,
        "no user namespace: root in the container is root on the host",
        "Use a user namespace (casemate's default; dockerd --userns-remap=default), and "
        "never --userns=host",
        "CIS 2.9; CIS 5.30; seed 001; seed 003"},
    [R_SECCOMP] = {"CM-CFG-006", "seccomp-unconfined", CM_SEV_HIGH,
        "seccomp is disabled (seccomp=unconfined)",
        "Remove --security-opt seccomp=unconfined; give a custom profile with "
        "--security-opt seccomp=profile.json if the default one blocks a needed call",
        "CIS 5.21; seed 001; seed 002"},
    [R_NNP] = {"CM-CFG-007", "no-new-privileges-off", CM_SEV_MEDIUM,
        "no_new_privs is off: setuid binaries can raise privileges",
        "--security-opt no-new-privileges (casemate's default), or "
        "\"no-new-privileges\": true in daemon.json",
        "CIS 5.25; CIS 2.14; seed 002"},
    [R_WRITABLE_ROOTFS] = {"CM-CFG-008", "writable-rootfs", CM_SEV_LOW,
        "root filesystem is writable",
        "--read-only, with --tmpfs /tmp for scratch space and volumes for data",
        "CIS 5.12; seed 001"},
    [R_NO_MEMORY] = {"CM-CFG-009", "no-memory-limit", CM_SEV_MEDIUM,
        "no memory limit: one container can exhaust the host's memory",
        "--memory 512m (and --memory-swap equal to it)", "CIS 5.10; seed 001; seed 002"},
    [R_NO_PIDS] = {"CM-CFG-010", "no-pids-limit", CM_SEV_MEDIUM,
        "no pids limit: a fork bomb takes the host down",
        "--pids-limit 1024", "CIS 5.28; seed 001; seed 002"},
    [R_NO_CPU] = {"CM-CFG-011", "no-cpu-limit", CM_SEV_LOW,
        "no CPU limit, shares or cpuset",
        "--cpus 1.5, --cpu-shares 512 or --cpuset-cpus 0-1", "CIS 5.11; seed 001"},
    [R_HOST_NET] = {"CM-CFG-012", "host-network", CM_SEV_HIGH,
        "container shares the host's network namespace",
        "Remove --network host; publish the needed ports with -p 127.0.0.1:PORT:PORT",
        "CIS 5.9; seed 000"},
    [R_HOST_PID] = {"CM-CFG-013", "host-pid", CM_SEV_HIGH,
        "container shares the host's PID namespace", "Remove --pid host", "CIS 5.15"},
    [R_HOST_IPC] = {"CM-CFG-014", "host-ipc", CM_SEV_HIGH,
        "container shares the host's IPC namespace", "Remove --ipc host", "CIS 5.16"},
    [R_HOST_UTS] = {"CM-CFG-015", "host-uts", CM_SEV_MEDIUM,
        "container shares the host's UTS namespace (can change the host name)",
        "Remove --uts host", "CIS 5.20"},
    [R_DOCKER_SOCKET] = {"CM-CFG-016", "docker-socket-mount", CM_SEV_CRITICAL,
        "container engine socket mounted into the container: full control of the host",
        "Remove the docker.sock volume; if a tool needs the API, put a filtering proxy "
        "(docker-socket-proxy) in between",
        "CIS 5.31; seed 000; seed 003"},
    [R_SENSITIVE_MOUNT] = {"CM-CFG-017", "sensitive-host-mount", CM_SEV_HIGH,
        "sensitive host directory mounted into the container",
        "Do not mount /, /etc, /proc, /sys, /boot, /dev, /usr, /lib or /var/lib/docker; mount "
        "only the data directory the workload needs, read-only when possible",
        "CIS 5.5; seed 001"},
    [R_PORT_ALL] = {"CM-CFG-018", "port-all-interfaces", CM_SEV_MEDIUM,
        "port published on every host interface (0.0.0.0)",
        "Publish on one address: -p 127.0.0.1:8080:80 (casemate's default)",
        "CIS 5.13; seed 000"},
    [R_DEVICE] = {"CM-CFG-019", "device-access", CM_SEV_HIGH,
        "host device exposed to the container",
        "Remove --device and broad --device-cgroup-rule entries; pass a single device "
        "read-only (--device /dev/x:/dev/x:r) only when it is required",
        "CIS 5.17"},
    [R_SHARED_PROPAGATION] = {"CM-CFG-020", "shared-propagation", CM_SEV_MEDIUM,
        "mount propagation is shared with the host",
        "Use the default private propagation: drop :shared / :rshared from volumes",
        "CIS 5.19"},
    [R_LSM_UNCONFINED] = {"CM-CFG-021", "lsm-unconfined", CM_SEV_MEDIUM,
        "AppArmor or SELinux confinement disabled",
        "Remove --security-opt apparmor=unconfined / label=disable; write a profile "
        "(bane) if the default one is too strict",
        "CIS 5.1; CIS 5.2; seed 001; seed 003"},
    {.id = NULL},
};

/* Capabilities that amount to host root or a kernel attack surface. */
static const int dangerous_caps[] = {
    21 /* SYS_ADMIN */, 16 /* SYS_MODULE */, 19 /* SYS_PTRACE */, 17 /* SYS_RAWIO */,
    2 /* DAC_READ_SEARCH */, 12 /* NET_ADMIN */, 39 /* BPF */,
};

/* Host paths whose bind mount hands the container the host (CIS 5.5 and
 * Docker's own state); a path matches itself and everything beneath. */
static const char *const sensitive_paths[] = {
    "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/sys", "/usr", "/root",
    "/var/lib/docker", "/var/lib/containerd", "/var/lib/kubelet", "/var/log",
};

static const char *const engine_sockets[] = {
    "docker.sock", "containerd.sock", "crio.sock", "podman.sock", "dockershim.sock",
};

/* Directories that hold an engine socket: mounting them mounts the socket. */
static const char *const engine_socket_dirs[] = {
    "/run", "/var/run", "/run/docker", "/var/run/docker", "/run/containerd",
    "/var/run/containerd", "/run/podman",
};

/* Device nodes every container gets; anything else is host hardware. */
static const char *const harmless_devices[] = {
    "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
    "/dev/tty", "/dev/console", "/dev/ptmx", "/dev/pts/ptmx",
};

static const char *ns_names[CM_NS_COUNT] = {"user", "pid", "mnt", "net", "ipc", "uts",
                                             "cgroup", "time"};

static int ns_index(enum cm_ns ns)
{
    for (int i = 0; i < CM_NS_COUNT; i++)
        if ((unsigned)ns == 1u << i)
            return i;
    return 0;
}

/* The host's namespace: neither a new one nor one joined by path, or the one
 * of PID 1 joined explicitly. */
static bool shares_host_ns(const struct cm_spec *s, enum cm_ns ns)
{
    if (s->ns_new & ns)
        return false;
    for (size_t i = 0; i < s->n_ns_join; i++) {
        if (s->ns_join[i].type != ns)
            continue;
        char host[64];
        snprintf(host, sizeof(host), "/proc/1/ns/%s", ns_names[ns_index(ns)]);
        return s->ns_join[i].path && strcmp(s->ns_join[i].path, host) == 0;
    }
    return true;
}

static bool is_root_user(const struct cm_spec *s)
{
    if (s->user_resolved)
        return s->uid == 0;
    const char *u = s->user;
    if (!u || !*u)
        return true;
    size_t n = strcspn(u, ":");
    return (n == 1 && u[0] == '0') || (n == 4 && strncmp(u, "root", 4) == 0) || n == 0;
}

/* The bind source without trailing slashes and "/./" noise; NULL if not a
 * bind of a host path. */
static bool bind_source(const struct cm_mount *m, char *out, size_t outsz)
{
    bool bind = (m->flags & MS_BIND) || (m->type && strcmp(m->type, "bind") == 0);
    if (!bind || !m->source || m->source[0] != '/')
        return false;
    size_t o = 0;
    for (const char *p = m->source; *p && o + 1 < outsz; p++) {
        if (*p == '/' && o > 0 && out[o - 1] == '/')
            continue;
        if (*p == '.' && o > 0 && out[o - 1] == '/' && (p[1] == '/' || p[1] == '\0')) {
            p += p[1] == '/';
            continue;
        }
        out[o++] = *p;
    }
    while (o > 1 && out[o - 1] == '/')
        o--;
    out[o] = '\0';
    return true;
}

static bool path_at_or_under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static const char *mount_ro(const struct cm_mount *m)
{
    return (m->flags & MS_RDONLY) ? " (read-only)" : "";
}

static int check_mounts(const struct cm_spec *s, const char *path, const char *subject,
                        struct cm_report *r)
{
    const struct cm_rule *rules = cm_config_rules;
    for (size_t i = 0; i < s->n_mounts; i++) {
        const struct cm_mount *m = &s->mounts[i];
        char src[4096];
        const char *dst = m->destination ? m->destination : "?";
        if (m->propagation & MS_SHARED) {
            if (cm_report_add(r, &rules[R_SHARED_PROPAGATION], path, 0, subject,
                              "mount %s -> %s propagation shared",
                              m->source ? m->source : "?", dst) < 0)
                return -1;
        }
        if (!bind_source(m, src, sizeof(src)))
            continue;
        const char *base = strrchr(src, '/');
        base = base ? base + 1 : src;
        /* the destination tells too: tools expect /var/run/docker.sock
         * whatever the host calls its socket */
        const char *dbase = strrchr(dst, '/');
        dbase = dbase ? dbase + 1 : dst;
        bool socket = false;
        for (size_t k = 0; k < ARRAY_SIZE(engine_sockets); k++)
            socket |= strcmp(base, engine_sockets[k]) == 0 || strcmp(dbase, engine_sockets[k]) == 0;
        for (size_t k = 0; k < ARRAY_SIZE(engine_socket_dirs); k++)
            socket |= strcmp(src, engine_socket_dirs[k]) == 0;
        if (socket) {
            if (cm_report_add(r, &rules[R_DOCKER_SOCKET], path, 0, subject,
                              "bind mount %s -> %s%s", src, dst, mount_ro(m)) < 0)
                return -1;
            continue;
        }
        bool sensitive = strcmp(src, "/") == 0;
        for (size_t k = 0; !sensitive && k < ARRAY_SIZE(sensitive_paths); k++)
            sensitive = path_at_or_under(src, sensitive_paths[k]);
        if (sensitive &&
            cm_report_add(r, &rules[R_SENSITIVE_MOUNT], path, 0, subject,
                          "bind mount %s -> %s%s", src, dst, mount_ro(m)) < 0)
            return -1;
    }
    if ((s->rootfs_propagation & MS_SHARED) &&
        cm_report_add(r, &rules[R_SHARED_PROPAGATION], path, 0, subject,
                      "root filesystem propagation shared") < 0)
        return -1;
    return 0;
}

static int check_caps(const struct cm_spec *s, const char *path, const char *subject,
                      struct cm_report *r)
{
    uint64_t held = s->cap_bounding | s->cap_effective | s->cap_permitted | s->cap_ambient;
    uint64_t danger = 0;
    for (size_t i = 0; i < ARRAY_SIZE(dangerous_caps); i++)
        danger |= (uint64_t)1 << dangerous_caps[i];
    if (held & danger) {
        _cleanup_free_ char *names = cm_caps_to_string(held & danger);
        if (cm_report_add(r, &cm_config_rules[R_CAPS_DANGEROUS], path, 0, subject, "%s",
                          names ? names : "?") < 0)
            return -1;
    }
    if (held & ~danger) {
        _cleanup_free_ char *names = cm_caps_to_string(held & ~danger);
        if (cm_report_add(r, &cm_config_rules[R_CAPS_ADDED], path, 0, subject, "%s",
                          names ? names : "?") < 0)
            return -1;
    }
    return 0;
}

static int check_devices(const struct cm_spec *s, const char *path, const char *subject,
                         struct cm_report *r)
{
    for (size_t i = 0; i < s->n_devices; i++) {
        const struct cm_device *d = &s->devices[i];
        if (d->path) {
            bool harmless = false;
            for (size_t k = 0; k < ARRAY_SIZE(harmless_devices); k++)
                harmless |= strcmp(d->path, harmless_devices[k]) == 0;
            if (!harmless && cm_report_add(r, &cm_config_rules[R_DEVICE], path, 0, subject,
                                           "device %s", d->path) < 0)
                return -1;
        } else if (d->allow && (d->type == 'a' || d->major < 0)) {
            if (cm_report_add(r, &cm_config_rules[R_DEVICE], path, 0, subject,
                              "device cgroup rule allows %c %s:%s %s", d->type ? d->type : 'a',
                              d->major < 0 ? "*" : "n", d->minor < 0 ? "*" : "n",
                              d->access ? d->access : "rwm") < 0)
                return -1;
        }
    }
    return 0;
}

static bool lsm_unconfined(const struct cm_spec *s, const char **what)
{
    if (s->apparmor_profile && strcmp(s->apparmor_profile, "unconfined") == 0) {
        *what = "apparmor=unconfined";
        return true;
    }
    if (s->selinux_label &&
        (strcmp(s->selinux_label, "disable") == 0 || strstr(s->selinux_label, "spc_t") ||
         strstr(s->selinux_label, "unconfined_t"))) {
        *what = "SELinux label disabled or unconfined";
        return true;
    }
    return false;
}

int cm_audit_config_spec(const struct cm_spec *s, const char *path, const char *subject,
                         struct cm_report *r)
{
    const struct cm_rule *R = cm_config_rules;
#define ADD(idx, ...)                                                                          \
    do {                                                                                       \
        if (cm_report_add(r, &R[idx], path, 0, subject, __VA_ARGS__) < 0)                      \
            return -1;                                                                         \
    } while (0)

    if (s->privileged)
        ADD(R_PRIVILEGED, "privileged: true");
    else if (check_caps(s, path, subject, r) < 0) /* privileged says it all */
        return -1;

    if (is_root_user(s))
        ADD(R_ROOT_USER, "user %s", s->user && *s->user ? s->user : "(none: root)");

    if (!(s->ns_new & CM_NS_USER) && shares_host_ns(s, CM_NS_USER)) {
        ADD(R_NO_USERNS, "no user namespace");
    } else if (s->ns_new & CM_NS_USER) {
        for (size_t i = 0; i < s->n_uid_map; i++) {
            const struct cm_idmap *m = &s->uid_map[i];
            if (m->container_id == 0 && m->size > 0 && m->host_id == 0) {
                ADD(R_NO_USERNS, "uid map %u %u %u maps container root to host root",
                    m->container_id, m->host_id, m->size);
                break;
            }
        }
    } else {
        for (size_t i = 0; i < s->n_ns_join; i++)
            if (s->ns_join[i].type == CM_NS_USER && s->ns_join[i].path &&
                strcmp(s->ns_join[i].path, "/proc/1/ns/user") == 0)
                ADD(R_NO_USERNS, "joins the host's user namespace");
    }

    if (s->seccomp_unconfined)
        ADD(R_SECCOMP, "seccomp=unconfined");
    if (!s->no_new_privs)
        ADD(R_NNP, "no_new_privs false");
    if (!s->readonly_rootfs)
        ADD(R_WRITABLE_ROOTFS, "read-only root filesystem: false");

    const struct cm_resources *res = &s->resources;
    if (res->memory_limit <= 0)
        ADD(R_NO_MEMORY, "memory limit: none");
    if (res->pids_limit <= 0)
        ADD(R_NO_PIDS, "pids limit: none");
    if (res->cpu_quota <= 0 && res->cpu_shares == 0 && !(res->cpuset_cpus && *res->cpuset_cpus))
        ADD(R_NO_CPU, "cpu quota, shares and cpuset: none");

    static const struct {
        enum cm_ns ns;
        int rule;
        const char *flag;
    } host_ns[] = {
        {CM_NS_NET, R_HOST_NET, "--network host"},
        {CM_NS_PID, R_HOST_PID, "--pid host"},
        {CM_NS_IPC, R_HOST_IPC, "--ipc host"},
        {CM_NS_UTS, R_HOST_UTS, "--uts host"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(host_ns); i++) {
        bool host = shares_host_ns(s, host_ns[i].ns);
        if (host_ns[i].ns == CM_NS_NET && s->network == CM_NET_HOST)
            host = true;
        if (host)
            ADD(host_ns[i].rule, "%s", host_ns[i].flag);
    }

    if (check_mounts(s, path, subject, r) < 0)
        return -1;

    for (size_t i = 0; i < s->n_ports; i++) {
        const struct cm_port *p = &s->ports[i];
        if (!p->host_ip[0] || strcmp(p->host_ip, "0.0.0.0") == 0 || strcmp(p->host_ip, "::") == 0)
            ADD(R_PORT_ALL, "port %s:%u -> %u/%s", p->host_ip[0] ? p->host_ip : "0.0.0.0",
                p->host_port, p->container_port, p->proto[0] ? p->proto : "tcp");
    }

    if (check_devices(s, path, subject, r) < 0)
        return -1;

    const char *what = NULL;
    if (lsm_unconfined(s, &what))
        ADD(R_LSM_UNCONFINED, "%s", what);
#undef ADD
    return 0;
}
