/* passwd.h: resolve users and groups from a container's own /etc/passwd and
 * /etc/group, read through a root directory fd so that a hostile root
 * filesystem cannot point us at host files (symlinks are resolved inside the
 * root with openat2 RESOLVE_IN_ROOT). */
#ifndef CASEMATE_UTIL_PASSWD_H
#define CASEMATE_UTIL_PASSWD_H

#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

struct cm_user {
    uid_t uid;
    gid_t gid;
    gid_t *groups;      /* supplementary groups from /etc/group */
    size_t n_groups;
    char *home;         /* from passwd, "/" if unknown */
    char *name;         /* NULL when given as a number not in passwd */
};

/* Resolve a --user string ("1000", "1000:1000", "app", "app:staff",
 * "1000:staff") against the root filesystem open at `rootfd`. Numeric ids
 * need not exist in /etc/passwd (as Docker). A missing /etc/passwd is fine
 * for numeric ids. Names that do not exist are an error. */
int cm_user_resolve(int rootfd, const char *spec, struct cm_user *out, struct cm_error *err);
void cm_user_free(struct cm_user *u);

#endif
