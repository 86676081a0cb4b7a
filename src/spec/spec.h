/* spec.h: the one in-memory container spec.
 *
 * Every front end (Docker-style flags, an OCI config.json, an image config, a
 * `docker inspect` document) fills this struct; the sandbox consumes it, the
 * auditor's config rules read it, and the host policy refuses or raises it.
 * Nothing in here is kernel state: it is a plan, validated whole before any
 * step is taken. */
#ifndef CASEMATE_SPEC_SPEC_H
#define CASEMATE_SPEC_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

struct cm_seccomp_profile; /* spec/seccomp_profile.h */

/* Namespaces, as bits. */
enum cm_ns {
    CM_NS_USER = 1 << 0,
    CM_NS_PID = 1 << 1,
    CM_NS_MOUNT = 1 << 2,
    CM_NS_NET = 1 << 3,
    CM_NS_IPC = 1 << 4,
    CM_NS_UTS = 1 << 5,
    CM_NS_CGROUP = 1 << 6,
    CM_NS_TIME = 1 << 7,
};
#define CM_NS_COUNT 8

/* A namespace to join instead of creating (OCI linux.namespaces[].path). */
struct cm_ns_join {
    enum cm_ns type;
    char *path;
};

struct cm_idmap {
    uint32_t container_id;
    uint32_t host_id;
    uint32_t size;
};

/* Mount flags we carry besides MS_*: volumes get these applied. */
struct cm_mount {
    char *source;      /* host path for binds; fs name otherwise */
    char *destination; /* absolute path inside the container */
    char *type;        /* "bind", "tmpfs", "proc", "sysfs", "devpts", ... */
    unsigned long flags;     /* MS_* flags (MS_BIND, MS_RDONLY, MS_NOSUID, ...) */
    unsigned long clear_flags; /* MS_* flags explicitly cleared (e.g. "exec", "suid") */
    unsigned long propagation; /* MS_PRIVATE, MS_SLAVE, MS_SHARED or 0 */
    char *data;              /* fs-specific options, e.g. "size=64m,mode=1777" */
    bool recursive;          /* rbind */
    bool idmap;              /* idmapped through the container user namespace */
};

struct cm_rlimit {
    int resource; /* RLIMIT_* */
    uint64_t soft;
    uint64_t hard;
};

struct cm_device {
    char type; /* 'c', 'b', 'u', 'p' */
    int64_t major, minor; /* -1 = wildcard */
    char *path;           /* inside the container, NULL for cgroup rules only */
    mode_t file_mode;
    uid_t uid;
    gid_t gid;
    bool allow;            /* device cgroup rule */
    char *access;          /* "rwm" */
};

/* Resource limits. -1 (or 0 for "unset" where noted) means "not set". */
struct cm_resources {
    int64_t memory_limit;        /* bytes, -1 unlimited */
    int64_t memory_swap;         /* bytes incl. memory, -1 unlimited, -2 unset */
    int64_t memory_reservation;  /* bytes, -1 unset */
    int64_t cpu_quota;           /* us per period, -1 unlimited */
    uint64_t cpu_period;         /* us, 0 = default 100000 */
    uint64_t cpu_shares;         /* 0 = unset */
    char *cpuset_cpus;           /* NULL = unset */
    char *cpuset_mems;           /* NULL = unset */
    int64_t pids_limit;          /* -1 unlimited */
    uint16_t blkio_weight;       /* 0 = unset */
    int64_t hugetlb_limit;       /* unused for now, -1 */
};

struct cm_hook {
    char *path;
    char **args; /* NULL-terminated */
    char **env;  /* NULL-terminated */
    int timeout; /* seconds, 0 = none */
};

enum cm_hook_kind {
    CM_HOOK_PRESTART,
    CM_HOOK_CREATE_RUNTIME,
    CM_HOOK_CREATE_CONTAINER,
    CM_HOOK_START_CONTAINER,
    CM_HOOK_POSTSTART,
    CM_HOOK_POSTSTOP,
    CM_HOOK_KIND_COUNT,
};

struct cm_kv {
    char *key;
    char *value;
};

enum cm_network_mode {
    CM_NET_NONE = 0, /* a new network namespace with loopback only (default) */
    CM_NET_HOST,     /* the host's network namespace */
    CM_NET_JOIN,     /* join an existing one (OCI path) */
};

/* A published port: -p [IP:]HOSTPORT:PORT[/proto]. */
struct cm_port {
    char host_ip[64];  /* default 127.0.0.1, never 0.0.0.0 unless asked */
    uint16_t host_port;
    uint16_t container_port;
    char proto[4];     /* "tcp" or "udp" */
};

struct cm_spec {
    /* identity */
    char *id;         /* container id (state dir name, cgroup name) */
    char *name;       /* --name, may equal id */
    char *bundle;     /* OCI bundle directory, NULL for `casemate run` */

    /* root filesystem */
    char *rootfs;          /* absolute host path */
    bool readonly_rootfs;  /* default true */
    unsigned long rootfs_propagation; /* MS_PRIVATE by default */

    /* process */
    char **args;   /* NULL-terminated; args[0] is the program */
    char **env;    /* NULL-terminated "K=V" */
    char *cwd;     /* inside the container, default "/" */
    char *user;    /* as given: "1000", "1000:1000", "nobody", "app:app"; NULL = root */
    bool user_resolved; /* uid/gid below are final (OCI gives numbers) */
    uid_t uid;
    gid_t gid;
    gid_t *additional_gids;
    size_t n_additional_gids;
    mode_t umask;
    bool umask_set;
    bool terminal;    /* -t */
    bool interactive; /* -i */
    bool init;        /* --init: a reaping PID 1 */

    /* capabilities: bit n = capability n */
    uint64_t cap_bounding;
    uint64_t cap_effective;
    uint64_t cap_permitted;
    uint64_t cap_inheritable;
    uint64_t cap_ambient;
    /* Docker-style flags: a non-root user gets the granted capabilities as
     * ambient (and inheritable) ones so they survive exec. OCI specs say
     * exactly what they want and leave this false. */
    bool ambient_for_nonroot;

    bool no_new_privs;        /* default true */
    bool privileged;          /* --privileged: all caps, no seccomp, userns kept */

    /* seccomp: NULL profile and !seccomp_unconfined = casemate's default */
    struct cm_seccomp_profile *seccomp;
    bool seccomp_unconfined;
    char *seccomp_path;       /* where the profile came from, for messages */

    /* LSMs */
    char *apparmor_profile;   /* NULL = none requested */
    char *selinux_label;
    char *mount_label;
    bool landlock;            /* confine with Landlock where available */

    /* namespaces */
    unsigned ns_new;          /* CM_NS_* to create */
    struct cm_ns_join *ns_join;
    size_t n_ns_join;

    /* user namespace mapping; empty = allocate a host range at run time */
    struct cm_idmap *uid_map;
    size_t n_uid_map;
    struct cm_idmap *gid_map;
    size_t n_gid_map;

    char *hostname;
    char *domainname;

    /* mounts beyond the built-in /proc /dev /sys /tmp /run (volumes, tmpfs) */
    struct cm_mount *mounts;
    size_t n_mounts;
    bool oci_mounts;          /* mounts come from OCI: use them verbatim */
    uint64_t tmp_size;        /* bytes for /tmp and /run tmpfs, default 64 MiB */
    uint64_t storage_size;    /* bytes for a writable root's layer; 0 = tmp_size */

    char **masked_paths;      /* NULL-terminated */
    char **readonly_paths;    /* NULL-terminated */

    struct cm_device *devices;
    size_t n_devices;

    struct cm_rlimit *rlimits;
    size_t n_rlimits;

    int oom_score_adj;
    bool oom_score_adj_set;

    struct cm_resources resources;
    char *cgroup_parent;      /* --cgroup-parent */
    char *cgroups_path;       /* OCI linux.cgroupsPath */

    struct cm_kv *sysctl;
    size_t n_sysctl;

    struct cm_kv *annotations;
    size_t n_annotations;

    struct cm_hook *hooks[CM_HOOK_KIND_COUNT];
    size_t n_hooks[CM_HOOK_KIND_COUNT];

    enum cm_network_mode network;
    struct cm_port *ports;
    size_t n_ports;

    /* process-wide options of the run */
    bool detach;
    bool remove; /* always true for `casemate run` in the foreground */
};

/* A spec with casemate's hardened defaults: every namespace, no caps,
 * no_new_privs, default seccomp, read-only root, finite limits. */
int cm_spec_init_defaults(struct cm_spec *spec);
void cm_spec_free(struct cm_spec *spec);

/* Check the spec as a whole before anything is done with it. */
int cm_spec_validate(const struct cm_spec *spec, struct cm_error *err);

/* Helpers to grow arrays; return -1 on ENOMEM. */
int cm_strv_append(char ***strv, const char *s);
size_t cm_strv_len(char *const *strv);
char **cm_strv_dup(char *const *strv);
/* Set or replace "KEY=..." in a NULL-terminated env vector. */
int cm_env_set(char ***env, const char *kv);

struct cm_mount *cm_spec_add_mount(struct cm_spec *spec);

/* Defaults, documented in casemate-run(1). */
#define CM_DEFAULT_PIDS_LIMIT 1024
#define CM_DEFAULT_MEMORY_LIMIT (1024LL * 1024 * 1024) /* 1 GiB */
#define CM_DEFAULT_TMP_SIZE (64ULL * 1024 * 1024)       /* 64 MiB */
#define CM_DEFAULT_CPU_SHARES 0

#endif
