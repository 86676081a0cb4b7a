/* cleanup.h: scope-bound resource release (the systemd/crun idiom).
 *
 * Declare every resource with an initializer and one of these attributes;
 * hand ownership off with TAKE_PTR / TAKE_FD so the cleanup sees NULL / -1.
 * close() is never retried on EINTR: on Linux the fd is gone either way. */
#ifndef CASEMATE_UTIL_CLEANUP_H
#define CASEMATE_UTIL_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cm_freep(void *p) { free(*(void **)p); }
static inline void cm_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}
static inline void cm_fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}
static inline void cm_closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}
/* A NULL-terminated array of strings, each owned. */
static inline void cm_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}
static inline void cm_strv_freep(char ***v) { cm_strv_free(*v); }

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(cm_freep)
#define _cleanup_close_ _cleanup_(cm_closep)
#define _cleanup_fclose_ _cleanup_(cm_fclosep)
#define _cleanup_closedir_ _cleanup_(cm_closedirp)
#define _cleanup_strv_ _cleanup_(cm_strv_freep)

#define TAKE_PTR(p)                                                            \
    ({                                                                         \
        __typeof__(p) _tp_ = (p);                                              \
        (p) = NULL;                                                            \
        _tp_;                                                                  \
    })
#define TAKE_FD(fd)                                                            \
    ({                                                                         \
        int _tf_ = (fd);                                                       \
        (fd) = -1;                                                             \
        _tf_;                                                                  \
    })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
