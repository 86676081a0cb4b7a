/* run.c: `casemate run [OPTIONS] ROOTFS [COMMAND [ARG...]]`, Docker's flags
 * turned into a spec with casemate's hardened defaults. */
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "container/container.h"
#include "container/state.h"
#include "sandbox/caps.h"
#include "sandbox/cgroup.h"
#include "sandbox/portproxy.h"
#include "sandbox/rlimits.h"
#include "sandbox/selfexe.h"
#include "spec/policy.h"
#include "spec/seccomp_profile.h"
#include "spec/spec.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"

enum {
    OPT_DETACH, OPT_NAME, OPT_ENV, OPT_USER, OPT_WORKDIR, OPT_HOSTNAME, OPT_TTY, OPT_INTERACTIVE,
    OPT_INIT, OPT_PRIVILEGED, OPT_CAP_ADD, OPT_CAP_DROP, OPT_SECURITY_OPT, OPT_READ_ONLY,
    OPT_TMPFS, OPT_VOLUME, OPT_USERNS, OPT_NETWORK, OPT_RM, OPT_MEMORY, OPT_MEMORY_SWAP,
    OPT_MEMORY_RESERVATION, OPT_CPUS, OPT_CPU_SHARES, OPT_CPUSET_CPUS, OPT_CPUSET_MEMS,
    OPT_PIDS_LIMIT, OPT_BLKIO_WEIGHT, OPT_ULIMIT, OPT_OOM_SCORE_ADJ, OPT_CGROUP_PARENT,
    OPT_TMP_SIZE, OPT_GROUP_ADD, OPT_PUBLISH, OPT_STORAGE_OPT,
};

static const struct cm_option run_options[] = {
    {"name", 0, CM_OPT_REQUIRED, "NAME", "Container name (and id); random when not given", OPT_NAME},
    {"env", 'e', CM_OPT_REQUIRED, "KEY=VALUE", "Set an environment variable (KEY alone: take the host's)", OPT_ENV},
    {"user", 'u', CM_OPT_REQUIRED, "USER[:GROUP]", "Run as USER (name or uid from the image's /etc/passwd); default root of the user namespace", OPT_USER},
    {"group-add", 0, CM_OPT_REQUIRED, "GID", "Add a supplementary group", OPT_GROUP_ADD},
    {"workdir", 'w', CM_OPT_REQUIRED, "DIR", "Working directory inside the container (default /)", OPT_WORKDIR},
    {"hostname", 0, CM_OPT_REQUIRED, "NAME", "Container hostname (default: the first 12 characters of the id)", OPT_HOSTNAME},
    {"tty", 't', CM_OPT_NONE, NULL, "Allocate a terminal inside the container", OPT_TTY},
    {"interactive", 'i', CM_OPT_NONE, NULL, "Keep stdin open (otherwise it is /dev/null)", OPT_INTERACTIVE},
    {"init", 0, CM_OPT_NONE, NULL, "Run a small init as PID 1 that forwards signals and reaps zombies", OPT_INIT},
    {"privileged", 0, CM_OPT_NONE, NULL, "All capabilities and no seccomp (still in a user namespace); warns", OPT_PRIVILEGED},
    {"cap-add", 0, CM_OPT_REQUIRED, "CAP", "Grant a capability (NET_BIND_SERVICE, CAP_CHOWN, ALL); none by default", OPT_CAP_ADD},
    {"cap-drop", 0, CM_OPT_REQUIRED, "CAP", "Drop a capability (ALL accepted; none are granted by default)", OPT_CAP_DROP},
    {"security-opt", 0, CM_OPT_REQUIRED, "OPT", "seccomp=FILE|unconfined, no-new-privileges[=true|false], apparmor=P, label=L", OPT_SECURITY_OPT},
    {"read-only", 0, CM_OPT_OPTIONAL, "true|false", "Read-only root filesystem (default true; --read-only=false opts out)", OPT_READ_ONLY},
    {"tmpfs", 0, CM_OPT_REQUIRED, "PATH[:OPTS]", "Mount a tmpfs (noexec,nosuid,nodev; size defaults to --tmp-size)", OPT_TMPFS},
    {"volume", 'v', CM_OPT_REQUIRED, "SRC:DST[:OPTS]", "Bind mount; always nosuid,nodev; noexec unless :exec; :ro read-only", OPT_VOLUME},
    {"userns", 0, CM_OPT_REQUIRED, "MODE", "'private' (default: own host uid range) or 'host' (no user namespace; warns)", OPT_USERNS},
    {"network", 0, CM_OPT_REQUIRED, "MODE", "'none' (default: loopback only) or 'host'", OPT_NETWORK},
    {"net", 0, CM_OPT_REQUIRED, "MODE", "Same as --network", OPT_NETWORK},
    {"publish", 'p', CM_OPT_REQUIRED, "[IP:][HOSTPORT:]PORT", "Publish a container port; binds 127.0.0.1 unless IP is given", OPT_PUBLISH},
    {"rm", 0, CM_OPT_NONE, NULL, "Accepted for Docker compatibility: foreground containers are always removed", OPT_RM},
    {"detach", 'd', CM_OPT_NONE, NULL, "Run in the background and print the container id", OPT_DETACH},
    {"memory", 'm', CM_OPT_REQUIRED, "SIZE", "Memory limit (default 1g; -1 unlimited)", OPT_MEMORY},
    {"memory-swap", 0, CM_OPT_REQUIRED, "SIZE", "Memory plus swap limit (-1 unlimited)", OPT_MEMORY_SWAP},
    {"memory-reservation", 0, CM_OPT_REQUIRED, "SIZE", "Memory soft limit", OPT_MEMORY_RESERVATION},
    {"cpus", 0, CM_OPT_REQUIRED, "N", "CPU quota in CPUs, e.g. 0.5", OPT_CPUS},
    {"cpu-shares", 0, CM_OPT_REQUIRED, "N", "Relative CPU weight (default 1024)", OPT_CPU_SHARES},
    {"cpuset-cpus", 0, CM_OPT_REQUIRED, "LIST", "CPUs the container may use, e.g. 0 or 0-1", OPT_CPUSET_CPUS},
    {"cpuset-mems", 0, CM_OPT_REQUIRED, "LIST", "Memory nodes the container may use", OPT_CPUSET_MEMS},
    {"pids-limit", 0, CM_OPT_REQUIRED, "N", "Maximum number of processes (default 1024; -1 unlimited)", OPT_PIDS_LIMIT},
    {"blkio-weight", 0, CM_OPT_REQUIRED, "N", "Block I/O weight, 10 to 1000", OPT_BLKIO_WEIGHT},
    {"ulimit", 0, CM_OPT_REQUIRED, "NAME=SOFT[:HARD]", "Set a resource limit, e.g. nofile=1024:2048", OPT_ULIMIT},
    {"oom-score-adj", 0, CM_OPT_REQUIRED, "N", "OOM killer preference, -1000 to 1000", OPT_OOM_SCORE_ADJ},
    {"cgroup-parent", 0, CM_OPT_REQUIRED, "PATH", "Parent cgroup (default: casemate's own cgroup)", OPT_CGROUP_PARENT},
    {"storage-opt", 0, CM_OPT_REQUIRED, "size=SIZE", "Size of the writable root's layer with --read-only=false (default: --tmp-size)", OPT_STORAGE_OPT},
    {"tmp-size", 0, CM_OPT_REQUIRED, "SIZE", "Size of the /tmp and /run tmpfs (default 64m)", OPT_TMP_SIZE},
};

static const char run_usage[] = "[OPTIONS] ROOTFS [COMMAND [ARG...]]";
static const char run_summary[] =
    "Run COMMAND (default /bin/sh) in a new container on the root filesystem ROOTFS, with\n"
    "every hardening on: own user namespace and host uid range, no capabilities,\n"
    "no_new_privs, seccomp, read-only root, masked /proc, minimal /dev, no network,\n"
    "finite memory and process limits. Everything it made is removed when the command\n"
    "exits. Exit status: the command's; 128+N on signal N; 125 casemate failed;\n"
    "126 the command cannot be run; 127 not found. See casemate-run(1).";

struct run_ctx {
    struct cm_spec *spec;
    char **cap_add;
    char **cap_drop;
    bool detach;
    bool userns_host;
};

/* Split "a,b,c" lists (Docker accepts --cap-add=A,B) onto a vector. */
static int append_list(char ***v, const char *arg)
{
    _cleanup_free_ char *copy = strdup(arg);
    if (!copy)
        return -1;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (*tok && cm_strv_append(v, tok) < 0)
            return -1;
    return 0;
}

static int parse_int(const char *flag, const char *s, long long min, long long max, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || *end || end == s || v < min || v > max)
        return cm_fail("run: %s: '%s' is not a whole number from %lld to %lld", flag, s, min, max), -1;
    *out = v;
    return 0;
}

static int parse_size_flag(const char *flag, const char *s, int64_t *out, bool allow_unlimited)
{
    struct cm_error err = {0};
    if (allow_unlimited && !strcmp(s, "-1")) {
        *out = -1;
        return 0;
    }
    if (cm_parse_size(s, out, &err) < 0)
        return cm_fail("run: %s: %s", flag, err.msg), -1;
    return 0;
}

static int add_tmpfs(struct cm_spec *spec, const char *arg)
{
    _cleanup_free_ char *copy = strdup(arg);
    if (!copy)
        return -1;
    char *opts = strchr(copy, ':');
    if (opts)
        *opts++ = '\0';
    if (copy[0] != '/')
        return cm_fail("run: --tmpfs %s: the path must be absolute", arg), -1;
    unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    char data[512] = "";
    bool has_size = false;
    char *save = NULL;
    for (char *o = opts ? strtok_r(opts, ",", &save) : NULL; o; o = strtok_r(NULL, ",", &save)) {
        if (!strcmp(o, "ro"))
            flags |= MS_RDONLY;
        else if (!strcmp(o, "rw"))
            flags &= ~(unsigned long)MS_RDONLY;
        else if (!strcmp(o, "exec"))
            flags &= ~(unsigned long)MS_NOEXEC;
        else if (!strcmp(o, "noexec") || !strcmp(o, "nosuid") || !strcmp(o, "nodev"))
            continue;
        else if (!strcmp(o, "suid") || !strcmp(o, "dev"))
            return cm_fail("run: --tmpfs %s: '%s' is refused: tmpfs mounts are always nosuid,nodev", arg, o), -1;
        else if (!strncmp(o, "size=", 5) || !strncmp(o, "mode=", 5) || !strncmp(o, "uid=", 4) ||
                 !strncmp(o, "gid=", 4) || !strncmp(o, "nr_inodes=", 10)) {
            has_size |= !strncmp(o, "size=", 5);
            size_t l = strlen(data);
            snprintf(data + l, sizeof(data) - l, "%s%s", l ? "," : "", o);
        } else
            return cm_fail("run: --tmpfs %s: unknown option '%s'", arg, o), -1;
    }
    if (!has_size) {
        size_t l = strlen(data);
        snprintf(data + l, sizeof(data) - l, "%ssize=%llu", l ? "," : "",
                 (unsigned long long)spec->tmp_size);
    }
    struct cm_mount *m = cm_spec_add_mount(spec);
    if (!m || !(m->destination = strdup(copy)) || !(m->type = strdup("tmpfs")) ||
        !(m->source = strdup("tmpfs")) || !(m->data = strdup(data)))
        return -1;
    m->flags = flags;
    return 0;
}

static int add_volume(struct cm_spec *spec, const char *arg)
{
    _cleanup_free_ char *copy = strdup(arg);
    if (!copy)
        return -1;
    char *dst = strchr(copy, ':');
    if (!dst)
        return cm_fail("run: -v %s: expected SRC:DST[:OPTS] (anonymous volumes are not supported)", arg), -1;
    *dst++ = '\0';
    char *opts = strchr(dst, ':');
    if (opts)
        *opts++ = '\0';
    if (copy[0] != '/')
        return cm_fail("run: -v %s: the source must be an absolute host path "
                       "(named volumes are not supported)", arg), -1;
    if (dst[0] != '/')
        return cm_fail("run: -v %s: the destination must be an absolute path", arg), -1;
    struct stat st;
    if (stat(copy, &st) < 0)
        return cm_fail("run: -v %s: source %s: %s", arg, copy, strerror(errno)), -1;
    /* Seed 004: a volume nobody can execute from; never setuid or devices. */
    unsigned long flags = MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    char *save = NULL;
    for (char *o = opts ? strtok_r(opts, ",", &save) : NULL; o; o = strtok_r(NULL, ",", &save)) {
        if (!strcmp(o, "ro"))
            flags |= MS_RDONLY;
        else if (!strcmp(o, "rw") || !strcmp(o, "noexec") || !strcmp(o, "rbind"))
            continue;
        else if (!strcmp(o, "exec"))
            flags &= ~(unsigned long)MS_NOEXEC;
        else if (!strcmp(o, "z") || !strcmp(o, "Z"))
            cm_warn("-v %s: SELinux relabelling (:%s) is ignored: SELinux is not managed by casemate", arg, o);
        else if (!strcmp(o, "suid") || !strcmp(o, "dev"))
            return cm_fail("run: -v %s: '%s' is refused: volumes are always nosuid,nodev", arg, o), -1;
        else
            return cm_fail("run: -v %s: unknown option '%s' (ro, rw, exec, noexec)", arg, o), -1;
    }
    struct cm_mount *m = cm_spec_add_mount(spec);
    if (!m || !(m->source = strdup(copy)) || !(m->destination = strdup(dst)) || !(m->type = strdup("bind")))
        return -1;
    m->flags = flags;
    m->recursive = true;
    return 0;
}

static int security_opt(struct run_ctx *c, const char *arg)
{
    struct cm_spec *spec = c->spec;
    /* Docker accepts both "seccomp=FILE" and the older "seccomp:FILE". */
    const char *sep = strpbrk(arg, "=:");
    size_t keylen = sep ? (size_t)(sep - arg) : strlen(arg);
    const char *val = sep ? sep + 1 : NULL;
    if (keylen == 7 && !strncmp(arg, "seccomp", 7)) {
        if (!val || !*val)
            return cm_fail("run: --security-opt %s: expected seccomp=FILE or seccomp=unconfined", arg), -1;
        cm_seccomp_profile_free(spec->seccomp);
        spec->seccomp = NULL;
        spec->seccomp_unconfined = false;
        if (!strcmp(val, "unconfined")) {
            spec->seccomp_unconfined = true;
            return 0;
        }
        struct cm_error err = {0};
        if (cm_seccomp_profile_load_file(val, &spec->seccomp, &err) < 0)
            return cm_fail("run: --security-opt seccomp: %s", err.msg), -1;
        free(spec->seccomp_path);
        spec->seccomp_path = strdup(val);
        return 0;
    }
    if (keylen == 17 && !strncmp(arg, "no-new-privileges", 17)) {
        int b = cm_opt_bool(val);
        if (b < 0)
            return cm_fail("run: --security-opt %s: expected true or false", arg), -1;
        spec->no_new_privs = b;
        return 0;
    }
    if (keylen == 8 && !strncmp(arg, "apparmor", 8) && val) {
        if (!strcmp(val, "unconfined"))
            return 0;
        free(spec->apparmor_profile);
        spec->apparmor_profile = strdup(val);
        return 0;
    }
    if (keylen == 5 && !strncmp(arg, "label", 5) && val) {
        if (!strcmp(val, "disable"))
            return 0;
        free(spec->selinux_label);
        spec->selinux_label = strdup(val);
        return 0;
    }
    return cm_fail("run: --security-opt %s: unknown option (seccomp=, no-new-privileges, apparmor=, label=)", arg), -1;
}

static int run_option(int id, const char *arg, void *ctx)
{
    struct run_ctx *c = ctx;
    struct cm_spec *spec = c->spec;
    long long n;
    struct cm_error err = {0};
    switch (id) {
    case OPT_NAME:
        free(spec->name);
        free(spec->id);
        spec->name = strdup(arg);
        spec->id = strdup(arg);
        if (!*arg || strchr(arg, '/') || !strcmp(arg, ".") || !strcmp(arg, "..") || strlen(arg) > 128)
            return cm_fail("run: --name '%s': use letters, digits, '_', '.' and '-' (at most 128)", arg), -1;
        for (const char *p = arg; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                  *p == '_' || *p == '.' || *p == '-'))
                return cm_fail("run: --name '%s': use letters, digits, '_', '.' and '-'", arg), -1;
        return 0;
    case OPT_ENV:
        if (!strchr(arg, '=')) {
            const char *v = getenv(arg);
            if (!v)
                return 0;
            _cleanup_free_ char *kv = NULL;
            if (asprintf(&kv, "%s=%s", arg, v) < 0)
                return -1;
            return cm_env_set(&spec->env, kv);
        }
        if (arg[0] == '=')
            return cm_fail("run: -e %s: empty variable name", arg), -1;
        return cm_env_set(&spec->env, arg);
    case OPT_USER:
        free(spec->user);
        spec->user = strdup(arg);
        return 0;
    case OPT_GROUP_ADD:
        if (parse_int("--group-add", arg, 0, 4294967294LL, &n) < 0)
            return -1;
        {
            gid_t *g = realloc(spec->additional_gids, (spec->n_additional_gids + 1) * sizeof(gid_t));
            if (!g)
                return -1;
            spec->additional_gids = g;
            g[spec->n_additional_gids++] = (gid_t)n;
        }
        return 0;
    case OPT_WORKDIR:
        if (arg[0] != '/')
            return cm_fail("run: -w %s: the working directory must be absolute", arg), -1;
        free(spec->cwd);
        spec->cwd = strdup(arg);
        return 0;
    case OPT_HOSTNAME:
        if (!*arg || strlen(arg) > 64)
            return cm_fail("run: --hostname '%s': 1 to 64 characters", arg), -1;
        free(spec->hostname);
        spec->hostname = strdup(arg);
        return 0;
    case OPT_TTY:
        spec->terminal = true;
        return 0;
    case OPT_INTERACTIVE:
        spec->interactive = true;
        return 0;
    case OPT_INIT:
        spec->init = true;
        return 0;
    case OPT_PRIVILEGED:
        spec->privileged = true;
        return 0;
    case OPT_CAP_ADD:
        return append_list(&c->cap_add, arg);
    case OPT_CAP_DROP:
        return append_list(&c->cap_drop, arg);
    case OPT_SECURITY_OPT:
        return security_opt(c, arg);
    case OPT_READ_ONLY: {
        int b = cm_opt_bool(arg);
        if (b < 0)
            return cm_fail("run: --read-only=%s: expected true or false", arg), -1;
        spec->readonly_rootfs = b;
        return 0;
    }
    case OPT_TMPFS:
        return add_tmpfs(spec, arg);
    case OPT_VOLUME:
        return add_volume(spec, arg);
    case OPT_USERNS:
        if (!strcmp(arg, "host")) {
            c->userns_host = true;
            spec->ns_new &= ~(unsigned)CM_NS_USER;
        } else if (!strcmp(arg, "private") || !strcmp(arg, "auto") || !strcmp(arg, "")) {
            c->userns_host = false;
            spec->ns_new |= CM_NS_USER;
        } else
            return cm_fail("run: --userns=%s: expected 'private' or 'host'", arg), -1;
        return 0;
    case OPT_NETWORK:
        if (!strcmp(arg, "none")) {
            spec->network = CM_NET_NONE;
            spec->ns_new |= CM_NS_NET;
        } else if (!strcmp(arg, "host")) {
            spec->network = CM_NET_HOST;
            spec->ns_new &= ~(unsigned)CM_NS_NET;
        } else
            return cm_fail("run: --network=%s: supported modes are 'none' (default) and 'host'", arg), -1;
        return 0;
    case OPT_RM:
        return 0;
    case OPT_PUBLISH: {
        struct cm_port port;
        if (cm_port_parse(arg, &port, &err) < 0)
            return cm_fail("run: %s", err.msg), -1;
        struct cm_port *g = realloc(spec->ports, (spec->n_ports + 1) * sizeof(*g));
        if (!g)
            return -1;
        spec->ports = g;
        g[spec->n_ports++] = port;
        return 0;
    }
    case OPT_DETACH:
        c->detach = true;
        return 0;
    case OPT_MEMORY:
        return parse_size_flag("--memory", arg, &spec->resources.memory_limit, true);
    case OPT_MEMORY_SWAP:
        return parse_size_flag("--memory-swap", arg, &spec->resources.memory_swap, true);
    case OPT_MEMORY_RESERVATION:
        return parse_size_flag("--memory-reservation", arg, &spec->resources.memory_reservation, false);
    case OPT_TMP_SIZE: {
        int64_t v;
        if (parse_size_flag("--tmp-size", arg, &v, false) < 0)
            return -1;
        spec->tmp_size = (uint64_t)v;
        return 0;
    }
    case OPT_STORAGE_OPT: {
        int64_t v;
        if (strncmp(arg, "size=", 5))
            return cm_fail("run: --storage-opt %s: only size=SIZE is supported", arg), -1;
        if (parse_size_flag("--storage-opt size", arg + 5, &v, false) < 0)
            return -1;
        spec->storage_size = (uint64_t)v;
        return 0;
    }
    case OPT_CPUS:
        if (cm_parse_cpus(arg, &spec->resources.cpu_quota, &spec->resources.cpu_period, &err) < 0)
            return cm_fail("run: --cpus: %s", err.msg), -1;
        return 0;
    case OPT_CPU_SHARES:
        if (parse_int("--cpu-shares", arg, 2, 262144, &n) < 0)
            return -1;
        spec->resources.cpu_shares = (uint64_t)n;
        return 0;
    case OPT_CPUSET_CPUS:
        free(spec->resources.cpuset_cpus);
        spec->resources.cpuset_cpus = strdup(arg);
        return 0;
    case OPT_CPUSET_MEMS:
        free(spec->resources.cpuset_mems);
        spec->resources.cpuset_mems = strdup(arg);
        return 0;
    case OPT_PIDS_LIMIT:
        if (parse_int("--pids-limit", arg, -1, INT32_MAX, &n) < 0)
            return -1;
        spec->resources.pids_limit = (n == 0) ? -1 : n; /* Docker: 0 and -1 mean unlimited */
        return 0;
    case OPT_BLKIO_WEIGHT:
        if (parse_int("--blkio-weight", arg, 10, 1000, &n) < 0)
            return -1;
        spec->resources.blkio_weight = (uint16_t)n;
        return 0;
    case OPT_ULIMIT: {
        struct cm_rlimit rl;
        if (cm_rlimit_parse(arg, &rl, &err) < 0)
            return cm_fail("run: --ulimit %s: %s", arg, err.msg), -1;
        struct cm_rlimit *g = realloc(spec->rlimits, (spec->n_rlimits + 1) * sizeof(*g));
        if (!g)
            return -1;
        spec->rlimits = g;
        g[spec->n_rlimits++] = rl;
        return 0;
    }
    case OPT_OOM_SCORE_ADJ:
        if (parse_int("--oom-score-adj", arg, -1000, 1000, &n) < 0)
            return -1;
        spec->oom_score_adj = (int)n;
        spec->oom_score_adj_set = true;
        return 0;
    case OPT_CGROUP_PARENT:
        free(spec->cgroup_parent);
        spec->cgroup_parent = strdup(arg);
        return 0;
    }
    return cm_fail("run: internal error: unhandled option %d", id), -1;
}

/* Parse `run` flags and arguments (argv[0] = "run") into a spec with
 * casemate's defaults. Returns 0, 1 when --help was printed, -1 after a
 * message. Also used by `exec`, which rebuilds a container's spec from the
 * command line its `run -d` was given. `quiet` silences the warnings. */
int cm_run_parse(int argc, char **argv, struct cm_spec *spec, bool *detach, bool quiet)
{
    if (cm_spec_init_defaults(spec) < 0)
        return cm_fail("run: out of memory"), -1;
    struct run_ctx ctx = {.spec = spec};
    int ret = -1;
    struct cm_error err = {0};

    int first = cm_opts_parse(run_options, ARRAY_SIZE(run_options), argc, argv, "run", run_usage,
                              run_summary, run_option, &ctx);
    if (first == -2) {
        ret = 1;
        goto out;
    }
    if (first < 0)
        goto out;
    if (first >= argc) {
        cm_fail("run: no root filesystem given (usage: casemate run %s)", run_usage);
        goto out;
    }
    if (ctx.detach && (spec->terminal || spec->interactive)) {
        cm_fail("run: -d cannot be combined with -t or -i; use 'casemate exec -t' to get a shell");
        goto out;
    }
    char real[PATH_MAX];
    if (!realpath(argv[first], real)) {
        cm_fail("run: root filesystem %s: %s", argv[first], strerror(errno));
        goto out;
    }
    struct stat st;
    if (lstat(argv[first], &st) == 0 && S_ISLNK(st.st_mode)) {
        cm_fail("run: root filesystem %s is a symlink; give the real directory (%s)", argv[first], real);
        goto out;
    }
    spec->rootfs = strdup(real);
    if (!spec->rootfs)
        goto oom;
    /* The command line is recorded for `exec` (cli/exec.c), which parses it
     * again from anywhere: keep the root filesystem absolute there. */
    argv[first] = spec->rootfs;
    if (first + 1 < argc) {
        for (int i = first + 1; i < argc; i++)
            if (cm_strv_append(&spec->args, argv[i]) < 0)
                goto oom;
    } else if (cm_strv_append(&spec->args, "/bin/sh") < 0) {
        goto oom;
    }

    uint64_t caps = 0;
    if (spec->privileged) {
        caps = cm_cap_all_mask();
        spec->seccomp_unconfined = true;
        if (!quiet)
            cm_warn("--privileged: the container gets every capability and no seccomp filter; "
                    "it still runs in its own user namespace, but prefer --cap-add for what it needs");
    }
    if (cm_caps_apply_flags(&caps, ctx.cap_add, ctx.cap_drop, &err) < 0) {
        cm_fail("run: %s", err.msg);
        goto out;
    }
    spec->cap_bounding = spec->cap_effective = spec->cap_permitted = caps;
    spec->ambient_for_nonroot = true;
    if (!quiet && spec->seccomp_unconfined && !spec->privileged)
        cm_warn("seccomp=unconfined: the container runs without a seccomp filter; "
                "every system call reaches the kernel");
    if (!quiet && ctx.userns_host)
        cm_warn("--userns=host: no user namespace; root in the container is root on the host");
    if (spec->terminal) {
        bool has_term = false;
        for (char **e = spec->env; e && *e; e++)
            has_term |= !strncmp(*e, "TERM=", 5);
        if (!has_term && cm_env_set(&spec->env, "TERM=xterm") < 0)
            goto oom;
    }
    if (detach)
        *detach = ctx.detach;
    ret = 0;
    goto out;
oom:
    cm_fail("run: out of memory");
out:
    cm_strv_free(ctx.cap_add);
    cm_strv_free(ctx.cap_drop);
    return ret;
}

/* ------------------------------------------------------------ detached */

struct supervisor {
    const char *root;
    struct cm_spec *spec;
    char **argv;
    int report_fd;  /* to the `run -d` that waits; -1 once told */
    char created[64];
};

static void report(struct supervisor *sv, const char *text)
{
    if (sv->report_fd < 0)
        return;
    size_t len = strlen(text);
    if (write(sv->report_fd, text, len) != (ssize_t)len)
        cm_debug("run -d: the waiting command is gone");
    close(sv->report_fd);
    sv->report_fd = -1;
}

static int save_state(struct supervisor *sv, enum cm_status status, pid_t pid, struct cm_cgroup *cg,
                      int exit_status, bool exited, bool oom, struct cm_error *err)
{
    _cleanup_free_ char *cgdesc = cg ? cm_cgroup_describe(cg) : NULL;
    struct cm_state st = {
        .id = sv->spec->id,
        .status = status,
        .pid = pid,
        .rootfs = sv->spec->rootfs,
        .created = sv->created,
        .cgroup = cgdesc,
        .supervisor_pid = getpid(),
        .exited = exited,
        .exit_status = exit_status,
        .oom_killed = oom,
        .argv = sv->argv,
    };
    if (pid > 0)
        cm_proc_start_time(pid, &st.pid_start);
    return cm_state_save(sv->root, &st, err);
}

static int supervisor_started(void *ctx, pid_t pid, struct cm_cgroup *cg, struct cm_error *err)
{
    struct supervisor *sv = ctx;
    if (save_state(sv, CM_STATUS_RUNNING, pid, cg, 0, false, false, err) < 0)
        return -1;
    report(sv, "ok");
    return 0;
}

/* The supervisor: its own session, stdio to the container's log; it runs
 * the container and records what became of it. Never returns. */
static _Noreturn void supervise_detached(struct supervisor *sv)
{
    struct cm_error err = {0};
    char log[4096];
    snprintf(log, sizeof(log), "%s/%s/log", sv->root, sv->spec->id);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (setsid() < 0 || null < 0 || logfd < 0 || dup2(null, 0) < 0 || dup2(logfd, 1) < 0 ||
        dup2(logfd, 2) < 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "starting the supervisor: %s", strerror(errno));
        report(sv, msg);
        _exit(CM_EXIT_FAILURE);
    }
    close(null);
    close(logfd);
    struct cm_run_hooks hooks = {.started = supervisor_started, .ctx = sv};
    int code = cm_container_run(sv->spec, sv->root, &hooks, &err);
    if (code < 0) {
        report(sv, err.msg[0] ? err.msg : "the container could not be started");
        _exit(CM_EXIT_FAILURE);
    }
    /* Not started (126/127 before the hook ran): say why, leave nothing. */
    if (sv->report_fd >= 0) {
        char msg[128];
        snprintf(msg, sizeof(msg), "the command could not be run (exit status %d): see %s", code, log);
        report(sv, msg);
        _exit(CM_EXIT_FAILURE);
    }
    if (save_state(sv, CM_STATUS_STOPPED, 0, NULL, code, true, hooks.oom_killed, &err) < 0)
        fprintf(stderr, "casemate: recording the exit status: %s\n", err.msg);
    _exit(0);
}

static int run_detached(struct cm_spec *spec, int argc, char **argv)
{
    struct cm_error err = {0};
    char idbuf[65];
    if (!spec->id) {
        cm_random_id(idbuf);
        spec->id = strdup(idbuf);
        if (!spec->id)
            return cm_fail("run: out of memory");
    }
    const char *root = cm_globals.root;
    if (cm_state_validate_id(spec->id, &err) < 0 || cm_state_create_dir(root, spec->id, &err) < 0)
        return cm_fail("run: %s", err.msg);
    _cleanup_strv_ char **saved = calloc((size_t)argc + 1, sizeof(char *));
    for (int i = 0; saved && i < argc; i++)
        if (!(saved[i] = strdup(argv[i])))
            return cm_state_remove(root, spec->id, &err), cm_fail("run: out of memory");
    int pipefd[2];
    if (!saved || pipe2(pipefd, O_CLOEXEC) < 0) {
        cm_state_remove(root, spec->id, &err);
        return cm_fail("run: creating the supervisor's pipe: %s", strerror(errno));
    }
    struct supervisor sv = {.root = root, .spec = spec, .argv = saved, .report_fd = pipefd[1]};
    cm_state_now_rfc3339(sv.created, sizeof(sv.created));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        cm_state_remove(root, spec->id, &err);
        return cm_fail("run: starting the supervisor: %s", strerror(errno));
    }
    if (pid == 0) {
        close(pipefd[0]);
        supervise_detached(&sv);
    }
    close(pipefd[1]);
    char msg[1100] = "";
    ssize_t n, total = 0;
    while ((n = read(pipefd[0], msg + total, sizeof(msg) - 1 - (size_t)total)) > 0)
        total += n;
    close(pipefd[0]);
    msg[total > 0 ? total : 0] = '\0';
    if (!strcmp(msg, "ok")) {
        printf("%s\n", spec->id);
        return 0;
    }
    waitpid(pid, NULL, 0);
    struct cm_error rmerr = {0};
    cm_state_remove(root, spec->id, &rmerr);
    return cm_fail("run: %s", msg[0] ? msg : "the supervisor died before the container started");
}

int cmd_run(int argc, char **argv)
{
    /* `casemate run --man-options`: the option table as roff, so the man
     * page is generated from what the parser accepts. */
    if (argc == 2 && !strcmp(argv[1], "--man-options")) {
        cm_opts_man(stdout, run_options, ARRAY_SIZE(run_options));
        return 0;
    }
    /* `run --bundle DIR ID`: the OCI command (cli/oci_runtime.c). */
    for (int i = 1; i < argc && argv[i][0] == '-'; i++)
        if (!strcmp(argv[i], "--bundle") || !strcmp(argv[i], "-b") || !strncmp(argv[i], "--bundle=", 9))
            return cm_oci_run(argc, argv);
    struct cm_spec spec;
    bool detach = false;
    int r = cm_run_parse(argc, argv, &spec, &detach, false);
    int ret = r == 1 ? 0 : CM_EXIT_FAILURE;
    if (r != 0)
        goto out;
    /* The host policy (/etc/casemate/policy.json) holds for casemate's own
     * containers as for the engines': the same rules as `audit config`. */
    {
        struct cm_policy *policy = NULL;
        struct cm_error perr = {0};
        int pr = cm_policy_load(cm_globals.policy_path, &policy, &perr);
        if (pr == 0 && policy)
            pr = cm_policy_enforce(policy, &spec, &perr);
        cm_policy_free(policy);
        if (pr < 0) {
            cm_fail("run: %s", perr.msg);
            goto out;
        }
    }
    /* CVE-2019-5736 is reachable only while casemate's own code runs
     * where a process of the container can open /proc/<pid>/exe. Without
     * --init the container's first process is the command itself: until
     * its exec no other process exists in the container's pid namespace,
     * and casemate's processes outside it cannot be seen from inside. With
     * --init, casemate is PID 1 of the container for its whole life: run
     * from a sealed copy. (`exec` always does.) */
    if (spec.init) {
        struct cm_error serr = {0};
        if (cm_selfexe_ensure_sealed(argv - cm_globals.argv_offset, &serr) < 0) {
            cm_err_print(&serr);
            goto out;
        }
    }
    if (detach) {
        ret = run_detached(&spec, argc, argv);
        goto out;
    }
    struct cm_error err = {0};
    ret = cm_container_run(&spec, cm_globals.root, NULL, &err);
    if (ret < 0) {
        cm_err_print(&err);
        ret = CM_EXIT_FAILURE;
    }
out:
    cm_spec_free(&spec);
    return ret;
}
