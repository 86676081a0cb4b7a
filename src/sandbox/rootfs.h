/* rootfs.h: the container's mount namespace: root filesystem, /proc, /dev,
 * /sys, tmpfs, volumes, masked and read-only paths, and pivot_root.
 *
 * Runs in the container child, inside its user and mount namespaces, before
 * privileges are dropped. Every target inside the root is resolved through
 * the root fd (util/safepath.h) and mounted onto the resolved fd, never onto
 * a path the container could swap for a symlink (CVE-2021-30465). */
#ifndef CASEMATE_SANDBOX_ROOTFS_H
#define CASEMATE_SANDBOX_ROOTFS_H

#include "spec/spec.h"
#include "util/error.h"

/* `tree_fd`: a detached clone of the root filesystem made by the parent
 * (idmapped through the container's user namespace when the filesystem
 * allows), or -1 to bind-mount spec->rootfs here. On success the process
 * has pivoted into the new root and its cwd is "/". */
int cm_rootfs_setup(const struct cm_spec *spec, int tree_fd, struct cm_error *err);

/* Host /dev/null opened O_PATH and checked to be the real character device
 * 1:3 (CVE-2025-31133: a masked path must never be bound to anything else). */
int cm_open_verified_devnull(struct cm_error *err);

#endif
