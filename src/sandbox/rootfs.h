/* rootfs.h: the container's mount namespace: root filesystem, /proc, /dev,
 * /sys, tmpfs, volumes, masked and read-only paths, and pivot_root.
 *
 * Runs in the container child, inside its user and mount namespaces, before
 * privileges are dropped. Every target inside the root is resolved through
 * the root fd (util/safepath.h) and mounted onto the resolved fd, never onto
 * a path the container could swap for a symlink (CVE-2021-30465). */
#ifndef CASEMATE_SANDBOX_ROOTFS_H
#define CASEMATE_SANDBOX_ROOTFS_H

struct cm_cgroup;
#include "spec/spec.h"
#include "util/error.h"

/* Host paths are opened before the child is root of its user namespace:
 * as root of the namespace it may not walk the host directories that lead
 * to them (their owner, host root, is unmapped there).
 *   rootfs_fd  O_PATH fd of spec->rootfs (the mount point), opened by the
 *              child in its own mount namespace before it became ns root
 *   tree_fd    a detached clone of the root filesystem (idmapped through
 *              the container's user namespace when the filesystem allows),
 *              or -1 to clone rootfs_fd here
 *   source_fds detached clones of the bind mounts' sources made by the
 *              parent with their flags already set (nosuid, nodev, ...),
 *              one per spec mount (-1 for other mounts)
 *   cg         the container's cgroup (already made): its directories are
 *              bound into an OCI cgroup mount where v1 cannot be mounted
 * On success *rootfd_out is the finished root, ready for cm_rootfs_pivot
 * (OCI createContainer hooks run in between). */
int cm_rootfs_setup(const struct cm_spec *spec, int rootfs_fd, int tree_fd, const int *source_fds,
                    const struct cm_cgroup *cg, int *rootfd_out, struct cm_error *err);
/* pivot_root into `rootfd` and detach the old root; cwd "/". */
int cm_rootfs_pivot(int rootfd, struct cm_error *err);

/* Parent side: a detached clone of a bind mount's source with its flags
 * (nosuid, nodev, noexec, ro) set. Returns the tree fd. */
int cm_bind_source_prepare(const struct cm_mount *m, struct cm_error *err);

/* Host /dev/null opened O_PATH and checked to be the real character device
 * 1:3 (CVE-2025-31133: a masked path must never be bound to anything else). */
int cm_open_verified_devnull(struct cm_error *err);

#endif
