/* container.h: running a container from a spec.
 *
 * container.c holds the whole setup sequence, parent and child, top to
 * bottom in one place. */
#ifndef CASEMATE_CONTAINER_CONTAINER_H
#define CASEMATE_CONTAINER_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "sandbox/cgroup.h"
#include "spec/spec.h"
#include "util/error.h"

/* What a detached container's supervisor, or an OCI `create`, needs. */
struct cm_run_hooks {
    /* Called once the command runs (its exec happened); may fail, which
     * stops the container. */
    int (*started)(void *ctx, pid_t pid, struct cm_cgroup *cg, struct cm_error *err);
    void *ctx;
    bool oom_killed; /* out: the OOM killer ended it */

    /* OCI create: stop once the container is set up. Its init then waits
     * on `exec_fifo` (a FIFO the caller made, mode 0622) until `start`
     * opens it, and cm_container_run returns 0 leaving the container, its
     * cgroup and its init (which the caller's subreaper inherits). */
    bool create_only;
    const char *exec_fifo;
    /* Called when the container is created (create_only), before return. */
    int (*created)(void *ctx, pid_t pid, struct cm_cgroup *cg, struct cm_error *err);
    const char *console_socket; /* -t: the terminal master goes there */
    const char *pid_file;       /* the init's host pid is written there */
    int preserve_fds;           /* fds 3 .. 3+N-1 are passed to the container */
};

/* Run `spec`: create, start, forward signals and the terminal, wait, and
 * remove everything. Returns the container's exit status (the command's,
 * 128+N for signal N, 126/127 when the command cannot be run), or -1 with
 * `err` set when casemate itself failed before the command started (the
 * caller exits 125). `hooks` may be NULL. */
int cm_container_run(struct cm_spec *spec, const char *state_root, struct cm_run_hooks *hooks,
                     struct cm_error *err);

/* Run `spec->args` inside the running container whose init is `pid` (host
 * pid) and whose cgroup cm_cgroup_describe() gave `cgroup`: every namespace
 * of the container and its cgroup are joined, and the process gets the
 * confinement `spec` describes (the container's own: caps, no_new_privs,
 * seccomp, LSM), never more. Returns the exit status as cm_container_run. */
struct cm_exec_opts {
    bool detach;                /* return once the command runs (OCI exec --detach) */
    const char *pid_file;       /* its host pid is written there */
    const char *console_socket; /* -t: the terminal master goes there */
};
int cm_container_exec(struct cm_spec *spec, pid_t pid, const char *cgroup,
                      const struct cm_exec_opts *opts, struct cm_error *err);

/* 64 random hex digits. */
void cm_random_id(char out[65]);

#endif
