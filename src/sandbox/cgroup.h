/* cgroup.h: container cgroups on v1, v2 and hybrid hosts, detected at run
 * time.
 *
 * A container's cgroup goes beneath the cgroup casemate itself runs in (per
 * controller on v1), or beneath --cgroup-parent; casemate never moves a
 * process out of its own cgroup tree. The directory name carries the
 * container id and the owner pid so a later run can remove what a killed
 * casemate left behind (cm_cgroup_gc). */
#ifndef CASEMATE_SANDBOX_CGROUP_H
#define CASEMATE_SANDBOX_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "spec/spec.h"
#include "util/error.h"

enum cm_cgroup_layout {
    CM_CGROUP_V1,      /* only per-controller v1 hierarchies */
    CM_CGROUP_V2,      /* pure unified hierarchy */
    CM_CGROUP_HYBRID,  /* v1 controllers plus a v2 mount (may hold some) */
};

struct cm_cgroup; /* opaque */

struct cm_cgroup_stats {
    uint64_t cpu_usage_ns;     /* total CPU time */
    uint64_t memory_usage;     /* bytes, without page cache where the kernel says */
    uint64_t memory_limit;     /* bytes; UINT64_MAX when unlimited */
    uint64_t pids_current;
    uint64_t pids_limit;       /* UINT64_MAX when unlimited */
    uint64_t blkio_read;       /* bytes */
    uint64_t blkio_write;
    uint64_t oom_kills;
};

int cm_cgroup_detect(enum cm_cgroup_layout *layout, struct cm_error *err);
const char *cm_cgroup_layout_name(enum cm_cgroup_layout layout);

/* Create the container's cgroup(s) and apply `res`. `parent` is
 * --cgroup-parent or the OCI cgroupsPath (NULL: beneath our own cgroup).
 * A limit the host cannot enforce (controller missing) fails with a message
 * naming the flag, unless the limit is one of casemate's own defaults, in
 * which case it is skipped with a debug message. */
int cm_cgroup_create(const char *id, const char *parent, const struct cm_resources *res,
                     struct cm_cgroup **out, struct cm_error *err);
/* The same beneath an OCI cgroupsPath ("/docker/<id>": the engine's cgroup
 * for this container, where it reads stats hierarchically), relative to
 * our own cgroup unless absolute; cm_cgroup_destroy removes that directory
 * too once it is empty, as runc does. */
int cm_cgroup_create_exact(const char *id, const char *path, const struct cm_resources *res,
                           struct cm_cgroup **out, struct cm_error *err);
/* Re-open an existing container cgroup from the string cm_cgroup_describe()
 * returned (kept in the state directory). */
int cm_cgroup_open(const char *description, struct cm_cgroup **out, struct cm_error *err);
/* A one-line description (paths per controller) for the state file. */
char *cm_cgroup_describe(const struct cm_cgroup *cg);

/* Move `pid` into every hierarchy of the container cgroup. */
int cm_cgroup_add_pid(struct cm_cgroup *cg, pid_t pid, struct cm_error *err);
int cm_cgroup_update(struct cm_cgroup *cg, const struct cm_resources *res, struct cm_error *err);
int cm_cgroup_freeze(struct cm_cgroup *cg, bool frozen, struct cm_error *err);
int cm_cgroup_stats(struct cm_cgroup *cg, struct cm_cgroup_stats *st, struct cm_error *err);
/* Was a process of this cgroup killed by the OOM killer? */
bool cm_cgroup_oom_killed(struct cm_cgroup *cg);
/* Pids in the cgroup (for `ps`); caller frees. */
int cm_cgroup_pids(struct cm_cgroup *cg, pid_t **pids, size_t *n, struct cm_error *err);
/* SIGKILL every process left, wait until empty, remove the directories, free.
 * Safe on NULL. */
int cm_cgroup_destroy(struct cm_cgroup *cg, struct cm_error *err);
/* Free the handle only (the cgroup stays). */
void cm_cgroup_close(struct cm_cgroup *cg);

/* Remove empty casemate cgroups whose owner pid is gone (a casemate killed
 * with SIGKILL cannot clean up after itself). Best effort. */
void cm_cgroup_gc(void);

/* --- Added by the cgroup module (additive) --- */

/* Marks a field of cm_resources "leave as it is" for cm_cgroup_update
 * (memory_limit, cpu_quota, pids_limit; the other fields already have an
 * "unset" value). cm_resources_keep_all() sets every field so. */
#define CM_RES_KEEP INT64_MIN
void cm_resources_keep_all(struct cm_resources *res);

/* Docker size strings: "32m", "1g", "512k", "1024", "1.5g", "64MiB", "2gb";
 * "-1" gives -1 (opt out). */
int cm_parse_size(const char *s, int64_t *out, struct cm_error *err);
/* --cpus "0.25" -> quota 25000 us per period 100000 us; "-1" or "0" gives
 * quota -1 (no limit). Refuses more CPUs than are online. */
int cm_parse_cpus(const char *s, int64_t *quota, uint64_t *period, struct cm_error *err);
/* "32 MiB", "1.5 GiB", "512 B"; for messages and stats. */
void cm_format_size(uint64_t bytes, char *buf, size_t len);

/* The directory of the container's cgroup that holds `controller` ("memory",
 * "pids", ...); NULL or "" = the cgroup v2 directory. NULL when none. */
const char *cm_cgroup_dir(const struct cm_cgroup *cg, const char *controller);
enum cm_cgroup_layout cm_cgroup_get_layout(const struct cm_cgroup *cg);

/* Like cm_cgroup_create, but use only the cgroup2 hierarchy mounted at
 * `v2_mount` (as a pure v2 host would), ignoring v1 controllers. For tests
 * of the v2 backend on v1/hybrid hosts. */
int cm_cgroup_create_v2_at(const char *v2_mount, const char *id, const char *parent,
                           const struct cm_resources *res, struct cm_cgroup **out,
                           struct cm_error *err);

#endif
