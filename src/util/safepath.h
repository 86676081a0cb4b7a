/* safepath.h: paths inside a container root, resolved without escaping it.
 *
 * Everything the runtime opens or mounts inside a root filesystem goes
 * through these: openat2(RESOLVE_IN_ROOT) where the kernel has it, and a
 * component-by-component walk with O_NOFOLLOW otherwise (symlinks resolved
 * by hand, relative to the root). CVE-2021-30465 was a mount target swapped
 * for a symlink; resolving once and mounting onto the fd closes that race. */
#ifndef CASEMATE_UTIL_SAFEPATH_H
#define CASEMATE_UTIL_SAFEPATH_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

/* Open `path` (absolute or relative, always taken inside the root) under
 * `rootfd`. flags as openat (O_PATH, O_RDONLY, O_DIRECTORY ...). */
int cm_open_in_root(int rootfd, const char *path, int flags, mode_t mode, struct cm_error *err);

/* Make the directory `path` (and parents) inside the root; return an O_PATH
 * fd of it. Refuses if any existing component is not a directory. */
int cm_mkdir_in_root(int rootfd, const char *path, mode_t mode, struct cm_error *err);

/* Make a regular file at `path` (parents created) to bind-mount a file onto;
 * return an O_PATH fd. An existing non-regular file is refused. */
int cm_mkfile_in_root(int rootfd, const char *path, struct cm_error *err);

/* "/proc/self/fd/N" for mount(2) targets. buf must hold 32 bytes. */
const char *cm_fd_path(int fd, char buf[32]);

/* Read a whole small file inside the root (at most max bytes). Caller frees. */
int cm_read_file_in_root(int rootfd, const char *path, size_t max, char **out,
                         size_t *len, struct cm_error *err);

/* Set by tests through CASEMATE_TEST_NO_OPENAT2=1 to exercise the fallback. */
extern bool cm_safepath_force_fallback;

#endif
