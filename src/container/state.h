/* state.h: the state store of containers that outlive one command.
 *
 * <root>/<id>/state.json holds the OCI state (ociVersion, id, status, pid,
 * bundle, annotations) and casemate's own fields; it is replaced atomically
 * (temp file, fsync, rename, fsync of the directory), so a reader sees the
 * old or the new state, never half of one. <root>/<id>/lock is flock()ed by
 * every command that changes the container (create, start, kill, delete,
 * exec, update, pause, resume); readers (state, list, stats) do not lock.
 * `root` is --root (cm_globals.root, default /run/casemate): the caller
 * passes it, so this module has no global state. */
#ifndef CASEMATE_CONTAINER_STATE_H
#define CASEMATE_CONTAINER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spec/spec.h"
#include "util/error.h"

#define CM_OCI_VERSION "1.0.2"

enum cm_status {
    CM_STATUS_CREATING, /* directory made, process not yet started */
    CM_STATUS_CREATED,
    CM_STATUS_RUNNING,
    CM_STATUS_STOPPED,
    CM_STATUS_PAUSED,
};

struct cm_state {
    /* OCI */
    char *id;
    enum cm_status status;
    pid_t pid;                 /* container init as seen from the host; 0 = none */
    char *bundle;              /* NULL for `casemate run` */
    struct cm_kv *annotations;
    size_t n_annotations;
    /* casemate */
    uint64_t pid_start;        /* /proc/<pid>/stat starttime: pid reuse guard */
    char *rootfs;
    char *created;             /* RFC 3339, UTC */
    char *cgroup;              /* cm_cgroup_describe() */
    pid_t supervisor_pid;      /* 0 = none (foreground run) */
    bool exited;               /* exit_status is valid */
    int exit_status;           /* as the shell reports it: 0..255, 128+N for signal N */
    bool oom_killed;
    char **argv;               /* command line, NULL-terminated */
};

/* [A-Za-z0-9][A-Za-z0-9_.-]{0,127}; "." and ".." are refused. */
int cm_state_validate_id(const char *id, struct cm_error *err);

const char *cm_status_name(enum cm_status status);
/* -1 when unknown. */
int cm_status_from_name(const char *name);

/* Make <root> (0700) and <root>/<id>; fails with EEXIST and "container ID
 * already exists" if the directory is there. */
int cm_state_create_dir(const char *root, const char *id, struct cm_error *err);

/* Take the container's lock (exclusive flock on <root>/<id>/lock), waiting
 * at most `timeout_ms` (0: do not wait). Returns the fd to close to unlock,
 * or -1: ENOENT "container X does not exist", EWOULDBLOCK "container X is
 * busy". */
int cm_state_lock(const char *root, const char *id, int timeout_ms, struct cm_error *err);

/* Write state.json atomically. st->id names the directory, which must exist. */
int cm_state_save(const char *root, const struct cm_state *st, struct cm_error *err);
/* Read state.json. ENOENT: "container X does not exist". */
int cm_state_load(const char *root, const char *id, struct cm_state *st, struct cm_error *err);
void cm_state_free(struct cm_state *st);

/* If the state says created/running/paused but the process is gone (or the
 * pid now belongs to another process), mark it stopped. Returns true when
 * it changed st (the caller may save it, under the lock). */
bool cm_state_refresh(struct cm_state *st);

/* Ids of every container under root, sorted; NULL-terminated, caller frees
 * with cm_strv_free. A missing root is an empty list. */
int cm_state_list(const char *root, char ***ids, struct cm_error *err);

/* Remove <root>/<id> and everything in it. A missing directory is fine. */
int cm_state_remove(const char *root, const char *id, struct cm_error *err);

/* JSON text (jansson) of the whole state / of the OCI state only (what
 * `casemate state` prints). Caller frees. */
char *cm_state_to_json(const struct cm_state *st);
char *cm_state_to_oci_json(const struct cm_state *st);
/* Parse state.json text (used by cm_state_load; exposed for fuzzing). */
int cm_state_from_json(const char *text, struct cm_state *st, struct cm_error *err);

/* Now, as RFC 3339 UTC with nanoseconds ("2026-11-24T05:05:19.123456789Z"). */
void cm_state_now_rfc3339(char *buf, size_t len);
/* Field 22 of /proc/<pid>/stat; -1 if the process is gone. */
int cm_proc_start_time(pid_t pid, uint64_t *start);

#endif
