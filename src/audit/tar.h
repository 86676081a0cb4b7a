/* tar.h: a read-only tar parser over a buffer in memory (ustar, GNU long
 * names, pax headers). Image layers are read from the archive, never
 * extracted: nothing in an image can make us write or follow a path. */
#ifndef CASEMATE_AUDIT_TAR_H
#define CASEMATE_AUDIT_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

struct cm_tar_entry {
    const char *path;     /* normalised: "/etc/passwd"; never contains ".." */
    const char *linkname; /* symlink or hard link target as written, "" if none */
    char type;            /* '0' file, '1' hard link, '2' symlink, '5' dir, '3' '4' '6' ... */
    mode_t mode;          /* permission bits incl. setuid/setgid/sticky, and S_IF* type */
    uid_t uid;
    gid_t gid;
    uint64_t size;        /* bytes of data */
    const unsigned char *data; /* size bytes inside the buffer */
};

/* Called for each entry; return <0 to stop (the value is returned). */
typedef int (*cm_tar_cb)(void *ctx, const struct cm_tar_entry *e);

/* Walk the archive in buf. -1 with err set on a malformed archive (a bad
 * header checksum, a size past the end). Entries whose name has a ".."
 * component are skipped. */
int cm_tar_iterate(const unsigned char *buf, size_t len, cm_tar_cb cb, void *ctx,
                   struct cm_error *err);

/* Does buf start with a plausible tar header (checksum right)? */
int cm_tar_probe(const unsigned char *buf, size_t len);

/* Normalise an archive path into out ("/a/b"); -1 if it climbs with "..". */
int cm_tar_normalise(const char *in, size_t inlen, char *out, size_t outsz);

#endif
