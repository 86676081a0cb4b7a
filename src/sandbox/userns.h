/* userns.h: per-container host uid/gid ranges for user namespaces.
 *
 * Each container gets its own range of 65536 unprivileged host ids, so root
 * in one container is nobody on the host and nobody in any other container.
 * The pool is root's entry in /etc/subuid and /etc/subgid when both exist,
 * else a built-in range (CM_USERNS_POOL_BASE..), documented in
 * casemate-run(1). A slot is "taken" while a byte-range OFD lock on
 * <state root>/userns.lock is held, so ranges are released by the kernel
 * when the holder dies, however it dies: no stale allocations. */
#ifndef CASEMATE_SANDBOX_USERNS_H
#define CASEMATE_SANDBOX_USERNS_H

#include <stdint.h>
#include <sys/types.h>

#include "spec/spec.h"
#include "util/error.h"

#define CM_USERNS_RANGE 65536u
#define CM_USERNS_POOL_BASE 1073741824u /* 2^30 */
#define CM_USERNS_POOL_SLOTS 4096u

struct cm_userns_slot {
    int lock_fd;         /* holds the OFD lock; -1 when none */
    uint32_t host_uid;   /* first host uid of the range */
    uint32_t host_gid;
    uint32_t size;
};

/* Take a free slot. `state_root` is where the lock file lives. */
int cm_userns_alloc(const char *state_root, struct cm_userns_slot *slot, struct cm_error *err);
void cm_userns_release(struct cm_userns_slot *slot);

/* For OCI containers, whose init outlives `create`: the slot is recorded
 * as the file <state_root>/.userns/<slot> naming the container, taken
 * under the slot's lock, and released by cm_userns_release_persistent at
 * `delete`. slot->lock_fd is -1 on return. */
int cm_userns_alloc_persistent(const char *state_root, const char *id, struct cm_userns_slot *slot,
                               struct cm_error *err);
void cm_userns_release_persistent(const char *state_root, const char *id);

/* Write /proc/<pid>/uid_map and gid_map. */
int cm_userns_write_maps(pid_t pid, const struct cm_idmap *uid_map, size_t n_uid,
                         const struct cm_idmap *gid_map, size_t n_gid, struct cm_error *err);

/* Map a container id to the host id through a map; UINT32_MAX if unmapped. */
uint32_t cm_idmap_to_host(const struct cm_idmap *map, size_t n, uint32_t id);

#endif
