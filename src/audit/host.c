/* host.c: `casemate audit host`: the kernel, the Docker daemon (daemon.json
 * and the running dockerd's own arguments), the permissions of its socket
 * and files, the docker group, the data root's partition, content trust,
 * auditd rules, runtime versions against known escapes, and every running
 * container through the Engine API, audited with the container-config rules.
 *
 * Fast by construction: files are read directly, the version commands run in
 * parallel with a short deadline, and the Engine API is spoken over its unix
 * socket (HTTP/1.1, Connection: close) instead of spawning `docker inspect`
 * per check as docker-bench-security does. CIS numbers are those of the CIS
 * Docker Benchmark 1.6.0. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit/rules.h"
#include "spec/docker_inspect.h"
#include "util/cleanup.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

extern char **environ;

#define DEFAULT_DOCKER_SOCKET "/var/run/docker.sock"
#define DEFAULT_DOCKER_CONFIG_DIR "/etc/docker"
#define DEFAULT_DATA_ROOT "/var/lib/docker"
#define VERSION_DEADLINE_MS 1500
#define API_TIMEOUT_S 3
#define API_MAX_RESPONSE (32u * 1024 * 1024)

enum {
    H_DOCKER_ABSENT,
    H_PARTITION,
    H_GROUP,
    H_ICC,
    H_USERNS,
    H_LIVE_RESTORE,
    H_NNP,
    H_TCP_NO_TLS,
    H_TCP_NO_VERIFY,
    H_SOCKET_WORLD,
    H_SOCKET_OWNER,
    H_FILE_PERMS,
    H_RUNTIME_CVE,
    H_K_SECCOMP,
    H_K_LSM,
    H_K_USERNS_OFF,
    H_K_USERNS_UNPRIV,
    H_K_CGROUP_V1,
    H_K_LOCKDOWN,
    H_K_SYSCTL,
    H_AUDIT_RULES,
    H_INSECURE_REGISTRY,
    H_USERLAND_PROXY,
    H_CONTENT_TRUST,
    H_API_ERROR,
};

const struct cm_rule cm_host_rules[] = {
    [H_DOCKER_ABSENT] = {"CM-HOST-001", "docker-unavailable", CM_SEV_INFO,
        "Docker is not installed or its API is not reachable: running containers not audited",
        "Nothing to do if Docker is not used here; otherwise start dockerd or pass "
        "--docker-socket PATH",
        "CIS 2"},
    [H_PARTITION] = {"CM-HOST-002", "docker-partition", CM_SEV_MEDIUM,
        "Docker data root is not on its own partition: a container can fill the host's disk",
        "Mount a dedicated filesystem on /var/lib/docker (or the daemon's data-root)",
        "CIS 1.1.1; seed 000"},
    [H_GROUP] = {"CM-HOST-003", "docker-group", CM_SEV_MEDIUM,
        "users in the docker group are root-equivalent",
        "Remove users from the docker group (gpasswd -d USER docker); use rootless Docker, "
        "sudo with an audit trail, or casemate's rootless runtime",
        "CIS 1.1.2; seed 000; seed 001"},
    [H_ICC] = {"CM-HOST-004", "icc-enabled", CM_SEV_MEDIUM,
        "inter-container communication is on for the default bridge",
        "\"icc\": false in /etc/docker/daemon.json (or dockerd --icc=false); link the "
        "containers that must talk through a user-defined network",
        "CIS 2.2; seed 000; seed 002"},
    [H_USERNS] = {"CM-HOST-005", "userns-remap-off", CM_SEV_MEDIUM,
        "user namespace remapping is off: root in a container is root on the host",
        "\"userns-remap\": \"default\" in /etc/docker/daemon.json (or dockerd "
        "--userns-remap=default)",
        "CIS 2.9; seed 001; seed 003"},
    [H_LIVE_RESTORE] = {"CM-HOST-006", "live-restore-off", CM_SEV_LOW,
        "live restore is off: restarting or upgrading dockerd stops every container",
        "\"live-restore\": true in /etc/docker/daemon.json", "CIS 2.15"},
    [H_NNP] = {"CM-HOST-007", "no-new-privileges-default-off", CM_SEV_MEDIUM,
        "containers may gain privileges through setuid binaries by default",
        "\"no-new-privileges\": true in /etc/docker/daemon.json", "CIS 2.14; seed 002"},
    [H_TCP_NO_TLS] = {"CM-HOST-008", "tcp-without-tls", CM_SEV_CRITICAL,
        "Docker API listens on TCP without TLS: anyone who reaches the port is root",
        "Listen on the unix socket only, or set \"tlsverify\": true with tlscacert, tlscert and "
        "tlskey",
        "CIS 2.7; seed 002"},
    [H_TCP_NO_VERIFY] = {"CM-HOST-009", "tcp-without-tls", CM_SEV_HIGH,
        "Docker API listens on TCP with TLS but does not verify client certificates",
        "\"tlsverify\": true and \"tlscacert\" in /etc/docker/daemon.json", "CIS 2.7"},
    [H_SOCKET_WORLD] = {"CM-HOST-010", "socket-permissions", CM_SEV_CRITICAL,
        "container engine socket is accessible to every user",
        "chmod 660 the socket, owner root:docker (and keep the docker group empty)",
        "CIS 3.15; CIS 3.16; seed 002; seed 003"},
    [H_SOCKET_OWNER] = {"CM-HOST-011", "socket-permissions", CM_SEV_MEDIUM,
        "container engine socket has a loose owner, group or mode (want root:docker 660)",
        "chown root:docker /var/run/docker.sock && chmod 660 /var/run/docker.sock",
        "CIS 3.15; CIS 3.16"},
    [H_FILE_PERMS] = {"CM-HOST-012", "file-permissions", CM_SEV_HIGH,
        "Docker configuration file or directory is writable by a user other than root",
        "chown root:root /etc/docker /etc/docker/daemon.json; chmod 755 /etc/docker; "
        "chmod 644 /etc/docker/daemon.json",
        "CIS 3.5; CIS 3.6; CIS 3.17; CIS 3.18"},
    [H_RUNTIME_CVE] = {"CM-HOST-013", "runtime-vulnerable", CM_SEV_HIGH,
        "container runtime version has a known container-escape vulnerability",
        "Upgrade the runtime to the fixed version named in the evidence (distribution "
        "packages may carry the fix as a backport: check the package changelog)",
        "CIS 1.2.2; seed 000"},
    [H_K_SECCOMP] = {"CM-HOST-014", "kernel-hardening", CM_SEV_HIGH,
        "the kernel has no seccomp filter support: containers cannot be syscall-filtered",
        "Use a kernel built with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER", "CIS 5.21; seed 001"},
    [H_K_LSM] = {"CM-HOST-015", "kernel-hardening", CM_SEV_LOW,
        "no mandatory access control LSM (AppArmor, SELinux) is active",
        "Boot with AppArmor or SELinux enabled (e.g. apparmor=1 security=apparmor)",
        "CIS 5.1; CIS 5.2; seed 001; seed 003"},
    [H_K_USERNS_OFF] = {"CM-HOST-016", "kernel-hardening", CM_SEV_MEDIUM,
        "user namespaces are disabled: no userns-remap and no rootless containers",
        "sysctl user.max_user_namespaces=15000", "CIS 2.9; seed 001"},
    [H_K_USERNS_UNPRIV] = {"CM-HOST-017", "kernel-hardening", CM_SEV_INFO,
        "unprivileged users may create user namespaces (a kernel attack surface)",
        "If no rootless container runs here: sysctl kernel.unprivileged_userns_clone=0 (Debian)",
        "seed 001"},
    [H_K_CGROUP_V1] = {"CM-HOST-018", "kernel-hardening", CM_SEV_LOW,
        "the host uses cgroup v1: weaker delegation and resource accounting than v2",
        "Boot with systemd.unified_cgroup_hierarchy=1 (cgroup v2)", "seed 001"},
    [H_K_LOCKDOWN] = {"CM-HOST-019", "kernel-hardening", CM_SEV_INFO,
        "kernel lockdown is off: root (or a container escape) can modify the running kernel",
        "Boot with lockdown=integrity", "seed 003"},
    [H_K_SYSCTL] = {"CM-HOST-020", "kernel-hardening", CM_SEV_LOW,
        "a kernel hardening sysctl is off",
        "Set it in /etc/sysctl.d/: kernel.kptr_restrict=1, kernel.dmesg_restrict=1, "
        "kernel.yama.ptrace_scope=1",
        "seed 001"},
    [H_AUDIT_RULES] = {"CM-HOST-021", "audit-rules", CM_SEV_LOW,
        "Docker files and directories are not watched by auditd",
        "Add rules in /etc/audit/rules.d/docker.rules, e.g. -w /usr/bin/dockerd -k docker "
        "and -w /var/lib/docker -k docker",
        "CIS 1.1.3-1.1.18"},
    [H_INSECURE_REGISTRY] = {"CM-HOST-022", "insecure-registry", CM_SEV_MEDIUM,
        "the daemon accepts an insecure registry (plain HTTP or unverified TLS)",
        "Remove \"insecure-registries\" from daemon.json; give the registry a valid TLS "
        "certificate",
        "CIS 2.5; seed 000; seed 002"},
    [H_USERLAND_PROXY] = {"CM-HOST-023", "userland-proxy", CM_SEV_LOW,
        "the userland proxy is on (a root process per published port)",
        "\"userland-proxy\": false in /etc/docker/daemon.json", "CIS 2.16"},
    [H_CONTENT_TRUST] = {"CM-HOST-024", "content-trust-off", CM_SEV_LOW,
        "Docker content trust is off: unsigned images are pulled and run",
        "export DOCKER_CONTENT_TRUST=1 (in /etc/environment for every user), or verify "
        "signatures in the pipeline",
        "CIS 4.5; seed 001; seed 002"},
    [H_API_ERROR] = {"CM-HOST-025", "docker-unavailable", CM_SEV_INFO,
        "a container could not be read from the Docker API: it was not audited",
        "Check the daemon's health (docker inspect NAME) and run the audit again", "CIS 5"},
    {.id = NULL},
};

struct host_ctx {
    struct cm_report *r;
    const char *socket_path;
    char config_dir[PATH_MAX];
    char daemon_json[PATH_MAX];
    bool daemon_json_exists;
    json_t *daemon_cfg;        /* daemon.json, NULL if none */
    pid_t dockerd_pid;         /* 0 if not running */
    char **dockerd_args;       /* its argv after the program */
    json_t *info;              /* GET /info, NULL if unreachable */
    json_t *version;           /* GET /version, NULL if unreachable */
    bool api_ok;
    char api_error[256];
    bool docker_installed;
};

#define ADD(ctx, idx, path, subject, ...)                                                      \
    do {                                                                                       \
        if (cm_report_add((ctx)->r, &cm_host_rules[idx], path, 0, subject, __VA_ARGS__) < 0)   \
            return -1;                                                                         \
    } while (0)

/* ---- small file helpers ---- */

static ssize_t read_small(const char *path, char *buf, size_t size)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got + 1 < size) {
        ssize_t n = read(fd, buf + got, size - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    return (ssize_t)got;
}

static bool read_long(const char *path, long *out)
{
    char buf[64];
    if (read_small(path, buf, sizeof(buf)) <= 0)
        return false;
    char *end = NULL;
    errno = 0;
    *out = strtol(buf, &end, 10);
    return errno == 0 && end != buf;
}

static bool find_in_path(const char *name, char *out, size_t outsz)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n > 0 && (size_t)snprintf(out, outsz, "%.*s/%s", (int)n, path, name) < outsz &&
            access(out, X_OK) == 0)
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}

/* ---- the kernel ---- */

static int audit_kernel(struct host_ctx *c)
{
    struct stat st;
    if (stat("/proc/sys/kernel/seccomp/actions_avail", &st) < 0) {
        char status[4096];
        if (read_small("/proc/self/status", status, sizeof(status)) > 0 &&
            !strstr(status, "\nSeccomp_filters:") && !strstr(status, "\nSeccomp:"))
            ADD(c, H_K_SECCOMP, "/proc/sys/kernel/seccomp", NULL,
                "/proc/sys/kernel/seccomp/actions_avail missing, no Seccomp line in "
                "/proc/self/status");
    }

    /* LSMs: securityfs lists them; without it, each LSM's own trace */
    char lsm[512] = "";
    bool mac = false;
    if (read_small("/sys/kernel/security/lsm", lsm, sizeof(lsm)) > 0) {
        mac = strstr(lsm, "apparmor") || strstr(lsm, "selinux") || strstr(lsm, "smack") ||
              strstr(lsm, "tomoyo");
    } else {
        char yn[8] = "";
        mac = (read_small("/sys/module/apparmor/parameters/enabled", yn, sizeof(yn)) > 0 &&
               yn[0] == 'Y') ||
              stat("/sys/fs/selinux/enforce", &st) == 0;
        snprintf(lsm, sizeof(lsm), "securityfs not mounted; no AppArmor or SELinux trace in "
                                   "/sys");
    }
    if (!mac) {
        size_t l = strlen(lsm);
        while (l && isspace((unsigned char)lsm[l - 1]))
            lsm[--l] = '\0';
        ADD(c, H_K_LSM, NULL, NULL, "active LSMs: %s", lsm[0] ? lsm : "(none)");
    }

    long v = 0;
    if (read_long("/proc/sys/user/max_user_namespaces", &v) && v == 0)
        ADD(c, H_K_USERNS_OFF, "/proc/sys/user/max_user_namespaces", NULL,
            "user.max_user_namespaces = 0");
    else if (read_long("/proc/sys/kernel/unprivileged_userns_clone", &v) && v == 1)
        ADD(c, H_K_USERNS_UNPRIV, "/proc/sys/kernel/unprivileged_userns_clone", NULL,
            "kernel.unprivileged_userns_clone = 1");

    struct statfs sfs;
    if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type != CGROUP2_SUPER_MAGIC) {
        bool hybrid = statfs("/sys/fs/cgroup/unified", &sfs) == 0 &&
                      sfs.f_type == CGROUP2_SUPER_MAGIC;
        ADD(c, H_K_CGROUP_V1, "/sys/fs/cgroup", NULL, "%s",
            hybrid ? "cgroup v1 controllers, v2 only at /sys/fs/cgroup/unified (hybrid)"
                   : "/sys/fs/cgroup is not cgroup2");
    }

    char lock[128];
    if (read_small("/sys/kernel/security/lockdown", lock, sizeof(lock)) > 0 &&
        strstr(lock, "[none]"))
        ADD(c, H_K_LOCKDOWN, "/sys/kernel/security/lockdown", NULL, "lockdown: [none]");

    static const struct {
        const char *path;
        const char *name;
        long min;
    } sysctls[] = {
        {"/proc/sys/kernel/kptr_restrict", "kernel.kptr_restrict", 1},
        {"/proc/sys/kernel/dmesg_restrict", "kernel.dmesg_restrict", 1},
        {"/proc/sys/kernel/yama/ptrace_scope", "kernel.yama.ptrace_scope", 1},
    };
    for (size_t i = 0; i < ARRAY_SIZE(sysctls); i++)
        if (read_long(sysctls[i].path, &v) && v < sysctls[i].min)
            ADD(c, H_K_SYSCTL, sysctls[i].path, NULL, "%s = %ld (want >= %ld)", sysctls[i].name,
                v, sysctls[i].min);
    return 0;
}

/* ---- the Docker daemon's configuration ---- */

static char **read_cmdline(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char buf[16384];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    char **argv = NULL;
    bool after_prog = false;
    for (char *p = buf; p < buf + n; p += strlen(p) + 1) {
        if (!after_prog) {
            /* skip the interpreter of a script, up to the dockerd element */
            const char *base = strrchr(p, '/');
            after_prog = strcmp(base ? base + 1 : p, "dockerd") == 0;
            continue;
        }
        if (cm_strv_append(&argv, p) < 0) {
            cm_strv_free(argv);
            return NULL;
        }
    }
    if (!argv)
        argv = calloc(1, sizeof(char *));
    return argv;
}

static pid_t find_dockerd(void)
{
    _cleanup_closedir_ DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *e;
    pid_t best = 0;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300], comm[32];
        snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
        if (read_small(path, comm, sizeof(comm)) <= 0)
            continue;
        comm[strcspn(comm, "\n")] = '\0';
        if (strcmp(comm, "dockerd") != 0)
            continue;
        pid_t pid = (pid_t)atoi(e->d_name);
        if (!best || pid < best)
            best = pid;
    }
    return best;
}

/* The value of --flag / --flag=value / --flag value on dockerd's command
 * line; `*found` tells a bare boolean flag from absence. The last wins. */
static const char *dockerd_flag(const struct host_ctx *c, const char *flag, bool *found)
{
    const char *val = NULL;
    *found = false;
    size_t fl = strlen(flag);
    for (char **a = c->dockerd_args; a && *a; a++) {
        if (strncmp(*a, flag, fl) != 0)
            continue;
        if ((*a)[fl] == '=') {
            *found = true;
            val = *a + fl + 1;
        } else if ((*a)[fl] == '\0') {
            *found = true;
            val = (a[1] && a[1][0] != '-') ? a[1] : NULL;
        }
    }
    return val;
}

/* Every value of a repeatable flag (-H, --insecure-registry). */
static int dockerd_flag_all(const struct host_ctx *c, const char *flag, const char *short_flag,
                            char ***out)
{
    size_t fl = strlen(flag);
    for (char **a = c->dockerd_args; a && *a; a++) {
        const char *v = NULL;
        if (strncmp(*a, flag, fl) == 0 && (*a)[fl] == '=')
            v = *a + fl + 1;
        else if ((strcmp(*a, flag) == 0 || (short_flag && strcmp(*a, short_flag) == 0)) && a[1])
            v = a[1];
        else if (short_flag && strncmp(*a, short_flag, strlen(short_flag)) == 0 &&
                 (*a)[strlen(short_flag)] == '=')
            v = *a + strlen(short_flag) + 1;
        if (v && cm_strv_append(out, v) < 0)
            return -1;
    }
    return 0;
}

/* A boolean setting: dockerd's flag wins over daemon.json (dockerd refuses
 * to start when both set it, so either source is the truth); `dflt` when
 * neither says. */
static bool daemon_bool(const struct host_ctx *c, const char *flag, const char *key, bool dflt,
                        const char **source)
{
    bool found = false;
    const char *v = dockerd_flag(c, flag, &found);
    if (found) {
        *source = "dockerd command line";
        return !v || strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
    }
    json_t *j = c->daemon_cfg ? json_object_get(c->daemon_cfg, key) : NULL;
    if (json_is_boolean(j)) {
        *source = c->daemon_json;
        return json_is_true(j);
    }
    *source = "Docker's default";
    return dflt;
}

static const char *daemon_string(const struct host_ctx *c, const char *flag, const char *key)
{
    bool found = false;
    const char *v = dockerd_flag(c, flag, &found);
    if (found && v)
        return v;
    json_t *j = c->daemon_cfg ? json_object_get(c->daemon_cfg, key) : NULL;
    return json_is_string(j) ? json_string_value(j) : NULL;
}

static int json_strings(json_t *arr, char ***out)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (json_is_string(v) && cm_strv_append(out, json_string_value(v)) < 0)
            return -1;
    }
    return 0;
}

static int load_daemon_config(struct host_ctx *c, struct cm_error *err)
{
    const char *dir = getenv("CASEMATE_DOCKER_CONFIG_DIR");
    snprintf(c->config_dir, sizeof(c->config_dir), "%s",
             dir && *dir ? dir : DEFAULT_DOCKER_CONFIG_DIR);
    c->dockerd_pid = find_dockerd();
    if (c->dockerd_pid) {
        c->dockerd_args = read_cmdline(c->dockerd_pid);
        if (!c->dockerd_args)
            c->dockerd_pid = 0; /* it exited meanwhile */
    }
    bool found = false;
    const char *cf = dockerd_flag(c, "--config-file", &found);
    if (cf && !(dir && *dir))
        snprintf(c->daemon_json, sizeof(c->daemon_json), "%s", cf);
    else
        snprintf(c->daemon_json, sizeof(c->daemon_json), "%s/daemon.json", c->config_dir);

    json_error_t jerr;
    struct stat st;
    if (stat(c->daemon_json, &st) == 0) {
        c->daemon_json_exists = true;
        c->daemon_cfg = json_load_file(c->daemon_json, 0, &jerr);
        if (!c->daemon_cfg)
            return cm_err_set(err, 0, "%s: invalid JSON at line %d, column %d: %s",
                              c->daemon_json, jerr.line, jerr.column, jerr.text);
        if (!json_is_object(c->daemon_cfg))
            return cm_err_set(err, 0, "%s: expected a JSON object", c->daemon_json);
    }
    return 0;
}

static bool is_tcp_host(const char *h)
{
    return strncmp(h, "tcp://", 6) == 0 ||
           (strstr(h, "://") == NULL && strchr(h, ':') && h[0] != '/'); /* "0.0.0.0:2375" */
}

static int audit_daemon(struct host_ctx *c)
{
    const char *src = NULL;
    const char *path = c->daemon_json;

    if (daemon_bool(c, "--icc", "icc", true, &src))
        ADD(c, H_ICC, path, NULL, "icc is true (%s)", src);

    const char *remap = daemon_string(c, "--userns-remap", "userns-remap");
    bool info_userns = false;
    json_t *secopts = c->info ? json_object_get(c->info, "SecurityOptions") : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(secopts, i, v) {
        if (json_is_string(v) && (strcmp(json_string_value(v), "name=userns") == 0 ||
                                  strcmp(json_string_value(v), "name=rootless") == 0))
            info_userns = true;
    }
    if (!(remap && *remap) && !info_userns)
        ADD(c, H_USERNS, path, NULL, "userns-remap is not set");

    bool live = daemon_bool(c, "--live-restore", "live-restore", false, &src);
    json_t *li = c->info ? json_object_get(c->info, "LiveRestoreEnabled") : NULL;
    if (json_is_boolean(li)) {
        live = json_is_true(li);
        src = "Docker API /info";
    }
    if (!live)
        ADD(c, H_LIVE_RESTORE, path, NULL, "live-restore is false (%s)", src);

    if (!daemon_bool(c, "--no-new-privileges", "no-new-privileges", false, &src))
        ADD(c, H_NNP, path, NULL, "no-new-privileges is false (%s)", src);

    if (daemon_bool(c, "--userland-proxy", "userland-proxy", true, &src))
        ADD(c, H_USERLAND_PROXY, path, NULL, "userland-proxy is true (%s)", src);

    _cleanup_strv_ char **hosts = NULL;
    _cleanup_strv_ char **insecure = NULL;
    if (dockerd_flag_all(c, "--host", "-H", &hosts) < 0 ||
        json_strings(c->daemon_cfg ? json_object_get(c->daemon_cfg, "hosts") : NULL, &hosts) < 0 ||
        dockerd_flag_all(c, "--insecure-registry", NULL, &insecure) < 0 ||
        json_strings(c->daemon_cfg ? json_object_get(c->daemon_cfg, "insecure-registries") : NULL,
                     &insecure) < 0)
        return -1;
    bool tls = daemon_bool(c, "--tls", "tls", false, &src);
    bool verify = daemon_bool(c, "--tlsverify", "tlsverify", false, &src);
    for (char **h = hosts; h && *h; h++) {
        if (!is_tcp_host(*h))
            continue;
        if (!tls && !verify)
            ADD(c, H_TCP_NO_TLS, path, NULL, "host %s without tls", *h);
        else if (!verify)
            ADD(c, H_TCP_NO_VERIFY, path, NULL, "host %s with tls but tlsverify false", *h);
    }
    for (char **r = insecure; r && *r; r++)
        ADD(c, H_INSECURE_REGISTRY, path, NULL, "insecure registry %s", *r);

    const char *trust = getenv("DOCKER_CONTENT_TRUST");
    if (!trust || strcmp(trust, "1") != 0)
        ADD(c, H_CONTENT_TRUST, NULL, NULL, "DOCKER_CONTENT_TRUST is %s",
            trust ? trust : "unset");
    return 0;
}

/* ---- files, sockets, the docker group, the data root ---- */

static int audit_socket(struct host_ctx *c, const char *path, bool want_docker_group)
{
    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
        return 0;
    mode_t mode = st.st_mode & 07777;
    if (mode & 0002) { /* connecting to a unix socket needs write permission */
        ADD(c, H_SOCKET_WORLD, path, NULL, "mode %04o: every local user controls the engine",
            (unsigned)mode);
        return 0;
    }
    struct group *docker = want_docker_group ? getgrnam("docker") : NULL;
    gid_t want_gid = docker ? docker->gr_gid : 0;
    if (st.st_uid != 0 || (mode & ~0660u) || (st.st_gid != 0 && st.st_gid != want_gid)) {
        struct group *g = getgrgid(st.st_gid);
        ADD(c, H_SOCKET_OWNER, path, NULL, "owner uid %u, group %s, mode %04o",
            (unsigned)st.st_uid, g ? g->gr_name : "?", (unsigned)mode);
    }
    return 0;
}

static int audit_file(struct host_ctx *c, const char *path, mode_t max_mode)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return 0;
    mode_t mode = st.st_mode & 07777;
    bool group_w = (mode & 0020) && st.st_gid != 0;
    if (st.st_uid != 0 || (mode & 0002) || group_w || (mode & ~max_mode & 0777))
        ADD(c, H_FILE_PERMS, path, NULL, "owner uid %u gid %u, mode %04o (want root:root %04o)",
            (unsigned)st.st_uid, (unsigned)st.st_gid, (unsigned)mode, (unsigned)max_mode);
    return 0;
}

static int audit_docker_group(struct host_ctx *c)
{
    struct group *g = getgrnam("docker");
    if (!g)
        return 0;
    gid_t gid = g->gr_gid;
    _cleanup_strv_ char **members = NULL;
    for (char **m = g->gr_mem; m && *m; m++)
        if (cm_strv_append(&members, *m) < 0)
            return -1;
    /* users whose primary group is docker are members too */
    setpwent();
    struct passwd *pw;
    while ((pw = getpwent())) {
        if (pw->pw_gid != gid)
            continue;
        bool dup = false;
        for (char **m = members; m && *m; m++)
            dup |= strcmp(*m, pw->pw_name) == 0;
        if (!dup && cm_strv_append(&members, pw->pw_name) < 0) {
            endpwent();
            return -1;
        }
    }
    endpwent();
    if (!members)
        return 0;
    char list[512] = "";
    size_t n = 0;
    for (char **m = members; *m; m++, n++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", n ? ", " : "", *m);
    ADD(c, H_GROUP, "/etc/group", NULL, "%zu member%s of group docker (gid %u): %s", n,
        n == 1 ? "" : "s", (unsigned)gid, list);
    return 0;
}

static int audit_partition(struct host_ctx *c, const char *root)
{
    struct stat st, parent;
    if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
        return 0;
    char up[PATH_MAX];
    snprintf(up, sizeof(up), "%s/..", root);
    if (stat(up, &parent) < 0)
        return 0;
    if (st.st_dev == parent.st_dev)
        ADD(c, H_PARTITION, root, NULL, "%s is on the same filesystem as its parent", root);
    return 0;
}

/* auditd: every existing Docker path should be watched (CIS 1.1.3-1.1.18). */
static int audit_auditd(struct host_ctx *c)
{
    static const char *const watched[] = {
        "/usr/bin/dockerd", "/var/lib/docker", "/etc/docker", "/etc/docker/daemon.json",
        "/run/containerd", "/usr/bin/containerd", "/usr/bin/containerd-shim-runc-v2",
        "/usr/bin/runc", "/usr/sbin/runc", "/etc/containerd/config.toml",
        "/lib/systemd/system/docker.service", "/lib/systemd/system/docker.socket",
        "/etc/default/docker",
    };
    /* concatenate every rules file we can read */
    char *rules = NULL;
    size_t rlen = 0;
    FILE *mem = open_memstream(&rules, &rlen);
    if (!mem)
        return -1;
    static const char *const dirs[] = {"/etc/audit/rules.d"};
    for (size_t d = 0; d < ARRAY_SIZE(dirs); d++) {
        _cleanup_closedir_ DIR *dp = opendir(dirs[d]);
        struct dirent *e;
        while (dp && (e = readdir(dp))) {
            size_t l = strlen(e->d_name);
            if (l < 6 || strcmp(e->d_name + l - 6, ".rules") != 0)
                continue;
            char p[PATH_MAX], buf[65536];
            snprintf(p, sizeof(p), "%s/%s", dirs[d], e->d_name);
            if (read_small(p, buf, sizeof(buf)) > 0)
                fputs(buf, mem);
        }
    }
    char buf[65536];
    if (read_small("/etc/audit/audit.rules", buf, sizeof(buf)) > 0)
        fputs(buf, mem);
    if (fclose(mem) != 0) {
        free(rules);
        return -1;
    }
    _cleanup_free_ char *all = rules;
    char missing[1024] = "";
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(watched); i++) {
        struct stat st;
        if (stat(watched[i], &st) < 0)
            continue;
        bool ok = false;
        for (const char *p = all; p && (p = strstr(p, watched[i])); p++) {
            size_t wl = strlen(watched[i]);
            if (p[wl] == '\0' || isspace((unsigned char)p[wl]) || p[wl] == '/') {
                ok = true;
                break;
            }
        }
        if (!ok) {
            snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
                     n ? ", " : "", watched[i]);
            n++;
        }
    }
    if (n)
        ADD(c, H_AUDIT_RULES, "/etc/audit/rules.d", NULL, "not watched: %s", missing);
    return 0;
}

/* ---- runtime versions against known escapes ---- */

struct cve {
    const char *tool;
    const char *id;
    const char *fixed[4];    /* first fixed release per branch, ascending; none = unfixed */
    const char *last_affected; /* when no release fixes it yet */
    enum cm_severity severity;
    const char *what;
};

/* Container-escape and host-compromise CVEs of the runtimes, with the first
 * fixed release of each maintained branch. */
static const struct cve cves[] = {
    {"runc", "CVE-2019-5736", {"1.0.0-rc7"}, NULL, CM_SEV_CRITICAL,
     "overwrite of the host runc binary through /proc/self/exe"},
    {"runc", "CVE-2019-16884", {"1.0.0-rc9"}, NULL, CM_SEV_HIGH,
     "AppArmor restriction bypass through a malicious image's /proc mount"},
    {"runc", "CVE-2021-30465", {"1.0.0-rc95"}, NULL, CM_SEV_HIGH,
     "symlink-exchange race in mount destinations: host filesystem escape"},
    {"runc", "CVE-2022-29162", {"1.1.2"}, NULL, CM_SEV_MEDIUM,
     "non-empty inheritable capabilities for exec'd processes"},
    {"runc", "CVE-2023-27561", {"1.1.5"}, NULL, CM_SEV_HIGH,
     "volume mount over /proc through a symlink (regression of CVE-2019-19921)"},
    {"runc", "CVE-2024-21626", {"1.1.12"}, NULL, CM_SEV_CRITICAL,
     "leaked host directory file descriptor (Leaky Vessels): host filesystem escape"},
    {"runc", "CVE-2025-31133", {"1.2.8", "1.3.3", "1.4.0-rc.3"}, NULL, CM_SEV_HIGH,
     "/dev/null masked-path race: procfs writes, container escape"},
    {"runc", "CVE-2025-52565", {"1.2.8", "1.3.3", "1.4.0-rc.3"}, NULL, CM_SEV_HIGH,
     "/dev/console bind-mount race: procfs writes, container escape"},
    {"runc", "CVE-2025-52881", {"1.2.8", "1.3.3", "1.4.0-rc.3"}, NULL, CM_SEV_HIGH,
     "procfs write redirection through shared mounts: container escape"},
    {"crun", "CVE-2022-27650", {"1.4.4"}, NULL, CM_SEV_MEDIUM,
     "non-empty inheritable capabilities for exec'd processes"},
    {"crun", "CVE-2025-24965", {"1.20"}, NULL, CM_SEV_HIGH,
     "krun handler: a malicious image escapes the root filesystem"},
    {"crun", "CVE-2026-88264", {NULL}, "1.29.1", CM_SEV_MEDIUM,
     "/dev/console redirection onto an attacker-chosen path when /dev is not a fresh mount"},
    {"crun", "CVE-2026-88265", {NULL}, "1.29.1", CM_SEV_MEDIUM,
     "stdio /dev/null reopened through a symlink after pivot_root"},
    {"containerd", "CVE-2020-15257", {"1.3.9", "1.4.3"}, NULL, CM_SEV_HIGH,
     "shim API on an abstract socket reachable from host-network containers: host root"},
    {"containerd", "CVE-2022-23648", {"1.4.13", "1.5.10", "1.6.1"}, NULL, CM_SEV_HIGH,
     "image volume path traversal: host file disclosure"},
    {"docker", "CVE-2019-14271", {"19.03.1"}, NULL, CM_SEV_CRITICAL,
     "docker cp loads libraries from the container: host root"},
    {"docker", "CVE-2021-41091", {"20.10.9"}, NULL, CM_SEV_MEDIUM,
     "data directory permissions let users run setuid programs of containers"},
    {"docker", "CVE-2024-41110", {"23.0.15", "26.1.5", "27.1.1"}, NULL, CM_SEV_HIGH,
     "authorization plugin bypass (only with AuthZ plugins)"},
    {"docker", "CVE-2026-34040", {"29.3.1"}, NULL, CM_SEV_HIGH,
     "authorization plugin bypass with oversized request bodies (only with AuthZ plugins)"},
};

struct version {
    long n[4];
    int pre;      /* 1 = a pre-release (rc), sorts before the release */
    long pre_num; /* rc number */
};

/* "1.0.0-rc95", "1.1.5+ds1", "v1.6.20", "1.4.0-rc.3", "24.0.5" */
static bool parse_version(const char *s, struct version *v)
{
    memset(v, 0, sizeof(*v));
    if (*s == 'v')
        s++;
    if (!isdigit((unsigned char)*s))
        return false;
    for (int i = 0; i < 4 && isdigit((unsigned char)*s); i++) {
        v->n[i] = strtol(s, (char **)&s, 10);
        if (*s != '.')
            break;
        s++;
    }
    if (*s == '-' && strncmp(s + 1, "rc", 2) == 0) {
        v->pre = 1;
        s += 3;
        if (*s == '.')
            s++;
        v->pre_num = strtol(s, NULL, 10);
    }
    return true;
}

static int version_cmp(const struct version *a, const struct version *b)
{
    for (int i = 0; i < 4; i++)
        if (a->n[i] != b->n[i])
            return a->n[i] < b->n[i] ? -1 : 1;
    if (a->pre != b->pre)
        return a->pre ? -1 : 1; /* 1.0.0-rc95 < 1.0.0 */
    if (a->pre_num != b->pre_num)
        return a->pre_num < b->pre_num ? -1 : 1;
    return 0;
}

/* Fixed in the release of the same major.minor branch; a branch older than
 * every fixed one is vulnerable; a newer branch is not. */
static const char *vulnerable_until(const struct cve *cv, const struct version *have)
{
    if (!cv->fixed[0]) {
        struct version last;
        parse_version(cv->last_affected, &last);
        return version_cmp(have, &last) <= 0 ? "no fixed release yet" : NULL;
    }
    const char *lowest = cv->fixed[0];
    for (size_t i = 0; i < ARRAY_SIZE(cv->fixed) && cv->fixed[i]; i++) {
        struct version f;
        parse_version(cv->fixed[i], &f);
        if (f.n[0] == have->n[0] && f.n[1] == have->n[1])
            return version_cmp(have, &f) < 0 ? cv->fixed[i] : NULL;
    }
    struct version low;
    parse_version(lowest, &low);
    return version_cmp(have, &low) < 0 ? lowest : NULL;
}

struct vcmd {
    const char *tool;
    char path[PATH_MAX];
    pid_t pid;
    int fd;
    char out[1024];
    size_t len;
};

static void spawn_version(struct vcmd *v)
{
    v->pid = 0;
    v->fd = -1;
    if (!find_in_path(v->tool, v->path, sizeof(v->path)))
        return;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return;
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0) {
        close(p[0]);
        close(p[1]);
        return;
    }
    posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    char *argv[] = {v->path, (char *)"--version", NULL};
    pid_t pid = 0;
    int rc = posix_spawn(&pid, v->path, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        return;
    }
    v->pid = pid;
    v->fd = p[0];
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Read every child's output until EOF or the shared deadline; a child that
 * hangs is killed (a runtime binary must answer --version at once). */
static void collect_versions(struct vcmd *v, size_t n)
{
    long deadline = now_ms() + VERSION_DEADLINE_MS;
    for (;;) {
        struct pollfd pfd[8];
        size_t idx[8], np = 0;
        for (size_t i = 0; i < n && np < ARRAY_SIZE(pfd); i++) {
            if (v[i].fd < 0)
                continue;
            pfd[np] = (struct pollfd){.fd = v[i].fd, .events = POLLIN};
            idx[np++] = i;
        }
        long left = deadline - now_ms();
        if (np == 0 || left <= 0)
            break;
        int r = poll(pfd, np, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        for (size_t k = 0; k < np; k++) {
            if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            struct vcmd *c = &v[idx[k]];
            ssize_t got = read(c->fd, c->out + c->len, sizeof(c->out) - 1 - c->len);
            if (got > 0) {
                c->len += (size_t)got;
                c->out[c->len] = '\0';
            }
            if (got <= 0 || c->len + 1 >= sizeof(c->out)) {
                close(c->fd);
                c->fd = -1;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        bool timed_out = v[i].fd >= 0;
        if (v[i].fd >= 0) {
            close(v[i].fd);
            v[i].fd = -1;
        }
        if (v[i].pid > 0) {
            /* after EOF the child is exiting: SIGKILL only hurries a straggler
             * that closed its stdout and lingers */
            int status;
            if (waitpid(v[i].pid, &status, WNOHANG) == 0) {
                kill(v[i].pid, SIGKILL);
                waitpid(v[i].pid, &status, 0);
            }
        }
        if (timed_out)
            v[i].len = 0; /* no complete answer: nothing trustworthy */
    }
}

/* The version number in `--version` output: the first word that starts
 * with a digit (or v+digit) after the tool's name. */
static bool extract_version(const char *out, char *ver, size_t versz)
{
    const char *p = out;
    while (*p && *p != '\n') {
        while (*p == ' ' || *p == ',')
            p++;
        const char *w = p;
        while (*p && !isspace((unsigned char)*p) && *p != ',')
            p++;
        if ((isdigit((unsigned char)w[0]) || (w[0] == 'v' && isdigit((unsigned char)w[1]))) &&
            strchr(w, '.') && strchr(w, '.') < p) {
            snprintf(ver, versz, "%.*s", (int)(p - w), w);
            return true;
        }
    }
    return false;
}

static int report_version(struct host_ctx *c, const char *tool, const char *where,
                          const char *ver)
{
    struct version have;
    if (!parse_version(ver, &have))
        return 0;
    for (size_t i = 0; i < ARRAY_SIZE(cves); i++) {
        if (strcmp(cves[i].tool, tool) != 0)
            continue;
        const char *fix = vulnerable_until(&cves[i], &have);
        if (!fix)
            continue;
        /* Distributions backport fixes without changing the upstream number
         * (Debian's runc 1.1.5+ds1-1+deb12u1 has the CVE-2024-21626 fix):
         * such a build is reported, one step less severe, with the hint. */
        bool distro = strpbrk(ver, "+~") != NULL || strstr(ver, "ubuntu") || strstr(ver, "deb");
        if (cm_report_add(c->r, &cm_host_rules[H_RUNTIME_CVE], where, 0, NULL,
                          "%s %s: %s (%s), %s%s%s", tool, ver, cves[i].id, cves[i].what,
                          cves[i].fixed[0] ? "fixed in " : "", fix,
                          distro ? "; a distribution build: the fix may be backported, check "
                                   "its changelog"
                                 : "") < 0)
            return -1;
        enum cm_severity sev = cves[i].severity;
        if (distro && sev > CM_SEV_LOW)
            sev--;
        c->r->findings[c->r->n - 1].severity = sev;
    }
    return 0;
}

/* The version the Engine API reports for a component ("Engine", "runc",
 * "containerd"): what the daemon really runs, and no process to spawn (a Go
 * binary takes 200 ms to print its version). */
static const char *api_version(const struct host_ctx *c, const char *component)
{
    if (strcmp(component, "Engine") == 0 && c->info) {
        const char *v = json_string_value(json_object_get(c->info, "ServerVersion"));
        if (v)
            return v;
    }
    size_t i;
    json_t *comp;
    json_array_foreach(c->version ? json_object_get(c->version, "Components") : NULL, i, comp) {
        const char *name = json_string_value(json_object_get(comp, "Name"));
        if (name && strcmp(name, component) == 0)
            return json_string_value(json_object_get(comp, "Version"));
    }
    return NULL;
}

static int audit_versions(struct host_ctx *c)
{
    static const struct {
        const char *tool;      /* name in the CVE table */
        const char *binary;    /* what to run with --version */
        const char *component; /* name in GET /version, or NULL */
    } tools[] = {
        {"runc", "runc", "runc"},
        {"crun", "crun", NULL},
        {"containerd", "containerd", "containerd"},
        {"docker", "dockerd", "Engine"},
    };
    struct vcmd v[ARRAY_SIZE(tools)];
    for (size_t i = 0; i < ARRAY_SIZE(tools); i++) {
        memset(&v[i], 0, sizeof(v[i]));
        v[i].tool = tools[i].binary;
        v[i].fd = -1;
        if (!(tools[i].component && api_version(c, tools[i].component)))
            spawn_version(&v[i]);
    }
    collect_versions(v, ARRAY_SIZE(v));
    for (size_t i = 0; i < ARRAY_SIZE(tools); i++) {
        char ver[64];
        const char *api = tools[i].component ? api_version(c, tools[i].component) : NULL;
        if (api) {
            if (report_version(c, tools[i].tool, NULL, api) < 0)
                return -1;
        } else if (v[i].len && extract_version(v[i].out, ver, sizeof(ver)) &&
                   report_version(c, tools[i].tool, v[i].path, ver) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- the Docker Engine API over its unix socket ---- */

/* HTTP/1.1 chunked body, decoded in place. */
static int dechunk(char *body, size_t len, size_t *out_len)
{
    size_t r = 0, w = 0;
    for (;;) {
        char *end = NULL;
        if (r >= len)
            return -1;
        errno = 0;
        unsigned long sz = strtoul(body + r, &end, 16);
        if (errno || end == body + r)
            return -1;
        char *eol = memmem(end, len - (size_t)(end - body), "\r\n", 2);
        if (!eol)
            return -1;
        r = (size_t)(eol - body) + 2;
        if (sz == 0)
            break;
        if (sz > len - r)
            return -1;
        memmove(body + w, body + r, sz);
        w += sz;
        r += sz;
        if (r + 2 > len || memcmp(body + r, "\r\n", 2) != 0)
            return -1;
        r += 2;
    }
    body[w] = '\0';
    *out_len = w;
    return 0;
}

/* GET `target` on the Engine API; the parsed JSON body on status 200. */
static json_t *docker_get(const char *sock_path, const char *target, char *why, size_t whysz)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(sock_path) >= sizeof(sa.sun_path)) {
        snprintf(why, whysz, "socket path %s is too long", sock_path);
        return NULL;
    }
    memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, whysz, "socket: %s", strerror(errno));
        return NULL;
    }
    struct timeval tv = {.tv_sec = API_TIMEOUT_S};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
        snprintf(why, whysz, "setting a timeout on %s: %s", sock_path, strerror(errno));
        return NULL;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        snprintf(why, whysz, "cannot connect to %s: %s", sock_path, strerror(errno));
        return NULL;
    }
    char req[512];
    int rl = snprintf(req, sizeof(req),
                      "GET %s HTTP/1.1\r\nHost: docker\r\nUser-Agent: casemate-audit\r\n"
                      "Accept: application/json\r\nConnection: close\r\n\r\n",
                      target);
    if (rl < 0 || (size_t)rl >= sizeof(req)) {
        snprintf(why, whysz, "request for %s is too long", target);
        return NULL;
    }
    for (size_t sent = 0; sent < (size_t)rl;) {
        ssize_t n = send(fd, req + sent, (size_t)rl - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(why, whysz, "sending GET %s: %s", target, strerror(errno));
            return NULL;
        }
        sent += (size_t)n;
    }
    size_t cap = 65536, len = 0;
    _cleanup_free_ char *buf = malloc(cap);
    if (!buf) {
        snprintf(why, whysz, "out of memory");
        return NULL;
    }
    for (;;) {
        if (len + 1 >= cap) {
            if (cap >= API_MAX_RESPONSE) {
                snprintf(why, whysz, "GET %s: response larger than %u bytes", target,
                         API_MAX_RESPONSE);
                return NULL;
            }
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                snprintf(why, whysz, "out of memory");
                return NULL;
            }
            buf = grown;
            cap *= 2;
        }
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(why, whysz, "reading GET %s: %s", target,
                     errno == EAGAIN ? "timed out" : strerror(errno));
            return NULL;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    int status = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
        snprintf(why, whysz, "GET %s: not an HTTP response", target);
        return NULL;
    }
    char *hend = strstr(buf, "\r\n\r\n");
    if (!hend) {
        snprintf(why, whysz, "GET %s: truncated HTTP response", target);
        return NULL;
    }
    *hend = '\0';
    char *body = hend + 4;
    size_t blen = len - (size_t)(body - buf);
    bool chunked = false;
    long content_length = -1;
    for (char *line = strstr(buf, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (strncasecmp(h, "Transfer-Encoding:", 18) == 0 && strcasestr(h + 18, "chunked"))
            chunked = true;
        else if (strncasecmp(h, "Content-Length:", 15) == 0)
            content_length = strtol(h + 15, NULL, 10);
    }
    if (chunked) {
        if (dechunk(body, blen, &blen) < 0) {
            snprintf(why, whysz, "GET %s: malformed chunked encoding", target);
            return NULL;
        }
    } else if (content_length >= 0 && (size_t)content_length < blen) {
        blen = (size_t)content_length;
    }
    if (status != 200) {
        snprintf(why, whysz, "GET %s: HTTP %d", target, status);
        return NULL;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(body, blen, 0, &jerr);
    if (!doc)
        snprintf(why, whysz, "GET %s: invalid JSON at line %d: %s", target, jerr.line, jerr.text);
    return doc;
}

static bool valid_container_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 128)
        return false;
    for (const char *p = id; *p; p++)
        if (!isxdigit((unsigned char)*p))
            return false;
    return true;
}

static int audit_containers(struct host_ctx *c)
{
    char why[256] = "";
    json_auto_t *list = docker_get(c->socket_path, "/containers/json", why, sizeof(why));
    if (!list) {
        ADD(c, H_API_ERROR, c->socket_path, NULL, "listing containers: %s", why);
        return 0;
    }
    struct cm_docker_daemon_defaults dflt = {0};
    const char *remap = daemon_string(c, "--userns-remap", "userns-remap");
    dflt.userns_remap = remap && *remap;
    json_t *secopts = c->info ? json_object_get(c->info, "SecurityOptions") : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(secopts, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), "name=userns") == 0)
            dflt.userns_remap = true;
    }
    const char *src = NULL;
    dflt.no_new_privileges = daemon_bool(c, "--no-new-privileges", "no-new-privileges", false,
                                         &src);

    json_array_foreach(list, i, v) {
        const char *id = json_string_value(json_object_get(v, "Id"));
        if (!id || !valid_container_id(id)) {
            ADD(c, H_API_ERROR, c->socket_path, NULL, "container %zu: missing or malformed Id",
                i);
            continue;
        }
        char target[256];
        snprintf(target, sizeof(target), "/containers/%s/json", id);
        json_auto_t *obj = docker_get(c->socket_path, target, why, sizeof(why));
        if (!obj) {
            ADD(c, H_API_ERROR, c->socket_path, NULL, "container %.12s: %s", id, why);
            continue;
        }
        struct cm_docker_container dc;
        struct cm_error err = {0};
        if (cm_docker_container_from_json(obj, &dflt, &dc, &err) < 0) {
            cm_docker_container_free(&dc);
            ADD(c, H_API_ERROR, c->socket_path, NULL, "container %.12s: %s", id, err.msg);
            continue;
        }
        /* the image the list names is what the user asked for */
        const char *image = json_string_value(json_object_get(v, "Image"));
        const char *iid = dc.image_id ? dc.image_id : json_string_value(json_object_get(v, "ImageID"));
        if (iid && strncmp(iid, "sha256:", 7) == 0)
            iid += 7;
        _cleanup_free_ char *subject = NULL;
        if (asprintf(&subject, "%s (image %s, %.12s)", dc.name ? dc.name : id,
                     image ? image : dc.image ? dc.image : "?", iid ? iid : "?") < 0) {
            subject = NULL;
            cm_docker_container_free(&dc);
            return -1;
        }
        char where[64];
        snprintf(where, sizeof(where), "docker://%.12s", id);
        int rc = cm_audit_config_spec(&dc.spec, where, subject, c->r);
        cm_docker_container_free(&dc);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static void host_ctx_free(struct host_ctx *c)
{
    json_decref(c->daemon_cfg);
    json_decref(c->info);
    json_decref(c->version);
    cm_strv_free(c->dockerd_args);
}

int cm_audit_host(const char *docker_socket, struct cm_report *r, struct cm_error *err)
{
    struct host_ctx c = {.r = r};
    /* as the docker CLI: the flag, then DOCKER_HOST when it names a unix socket */
    const char *env_host = getenv("DOCKER_HOST");
    if (docker_socket && *docker_socket)
        c.socket_path = docker_socket;
    else if (env_host && strncmp(env_host, "unix://", 7) == 0 && env_host[7])
        c.socket_path = env_host + 7;
    else
        c.socket_path = DEFAULT_DOCKER_SOCKET;
    int rc = -1;
    if (load_daemon_config(&c, err) < 0)
        goto out;

    struct stat st;
    bool socket_present = stat(c.socket_path, &st) == 0;
    if (socket_present) {
        c.info = docker_get(c.socket_path, "/info", c.api_error, sizeof(c.api_error));
        c.api_ok = c.info != NULL;
        char why[256];
        if (c.api_ok)
            c.version = docker_get(c.socket_path, "/version", why, sizeof(why));
    } else {
        snprintf(c.api_error, sizeof(c.api_error), "no socket at %s", c.socket_path);
    }
    char dockerd_path[PATH_MAX];
    c.docker_installed = c.dockerd_pid || c.daemon_json_exists || socket_present ||
                         find_in_path("dockerd", dockerd_path, sizeof(dockerd_path));

    if (audit_kernel(&c) < 0 || audit_versions(&c) < 0)
        goto oom;
    if (!c.docker_installed) {
        if (cm_report_add(r, &cm_host_rules[H_DOCKER_ABSENT], NULL, 0, NULL,
                          "no dockerd process, no %s, no %s, no dockerd in PATH",
                          c.daemon_json, c.socket_path) < 0)
            goto oom;
        rc = 0;
        goto out;
    }
    if (!c.api_ok && cm_report_add(r, &cm_host_rules[H_DOCKER_ABSENT], c.socket_path, 0, NULL,
                                   "Docker API not reachable (%s)%s; running containers not "
                                   "audited",
                                   c.api_error,
                                   c.dockerd_pid ? "" : "; no dockerd process running") < 0)
        goto oom;

    const char *data_root = c.info ? json_string_value(json_object_get(c.info, "DockerRootDir"))
                                   : NULL;
    if (!data_root)
        data_root = daemon_string(&c, "--data-root", "data-root");
    if (!data_root)
        data_root = DEFAULT_DATA_ROOT;

    if (audit_daemon(&c) < 0 || audit_socket(&c, c.socket_path, true) < 0 ||
        audit_socket(&c, "/run/containerd/containerd.sock", false) < 0 ||
        audit_file(&c, c.config_dir, 0755) < 0 || audit_file(&c, c.daemon_json, 0644) < 0 ||
        audit_docker_group(&c) < 0 || audit_partition(&c, data_root) < 0 ||
        audit_auditd(&c) < 0)
        goto oom;
    if (c.api_ok && audit_containers(&c) < 0)
        goto oom;
    rc = 0;
    goto out;
oom:
    rc = cm_err_set(err, ENOMEM, "auditing the host");
out:
    host_ctx_free(&c);
    return rc;
}
