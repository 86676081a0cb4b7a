/* safepath.c: resolve paths inside a container root without escaping it.
 * See safepath.h. The fallback walks one component at a time with
 * O_NOFOLLOW and resolves symlinks by hand relative to the root, so ".."
 * and absolute links stay inside (as RESOLVE_IN_ROOT does). */
#include "util/safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

bool cm_safepath_force_fallback;

#define MAX_SYMLINKS 40

const char *cm_fd_path(int fd, char buf[32])
{
    snprintf(buf, 32, "/proc/self/fd/%d", fd);
    return buf;
}

static int sys_openat2(int dirfd, const char *path, int flags, mode_t mode, unsigned long long resolve)
{
    struct open_how how = {.flags = (unsigned long long)flags | O_CLOEXEC,
                           .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                           .resolve = resolve};
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* The fallback walk. Returns an fd or -1 with errno set. */
static int walk_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
    /* A stack of directory fds from the root down, so ".." can pop. */
    int stack[256];
    int depth = 0;
    int links = 0;
    int result = -1;
    _cleanup_free_ char *work = strdup(path);
    if (!work)
        return -1;

    stack[0] = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
    if (stack[0] < 0)
        return -1;

    char *rest = work;
    for (;;) {
        while (*rest == '/')
            rest++;
        if (*rest == '\0') {
            /* The path named a directory we already hold. */
            result = openat(stack[depth], ".", (flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC);
            break;
        }
        char *slash = strchr(rest, '/');
        char *next = NULL;
        if (slash) {
            *slash = '\0';
            next = slash + 1;
            while (*next == '/')
                next++;
            if (*next == '\0')
                next = NULL;
        }
        const char *comp = rest;
        bool last = next == NULL;
        if (!strcmp(comp, ".")) {
            if (last) {
                result = openat(stack[depth], ".", (flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC);
                break;
            }
            rest = next;
            continue;
        }
        if (!strcmp(comp, "..")) {
            if (depth > 0)
                close(stack[depth--]);
            if (last) {
                result = openat(stack[depth], ".", (flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC);
                break;
            }
            rest = next;
            continue;
        }
        struct stat st;
        if (fstatat(stack[depth], comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT && last && (flags & O_CREAT)) {
                result = openat(stack[depth], comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
                break;
            }
            break;
        }
        if (S_ISLNK(st.st_mode)) {
            if (++links > MAX_SYMLINKS) {
                errno = ELOOP;
                break;
            }
            char target[4096];
            ssize_t n = readlinkat(stack[depth], comp, target, sizeof(target) - 1);
            if (n < 0)
                break;
            target[n] = '\0';
            if (target[0] == '/') {
                while (depth > 0)
                    close(stack[depth--]);
            }
            /* New work string: target + "/" + remaining path. */
            size_t tl = strlen(target), rl = next ? strlen(next) : 0;
            char *joined = malloc(tl + rl + 2);
            if (!joined)
                break;
            memcpy(joined, target, tl);
            joined[tl] = '/';
            if (next)
                memcpy(joined + tl + 1, next, rl);
            joined[tl + 1 + rl] = '\0';
            free(work);
            work = joined;
            rest = work;
            continue;
        }
        if (last) {
            result = openat(stack[depth], comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
            break;
        }
        if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            break;
        }
        if (depth + 1 >= (int)ARRAY_SIZE(stack)) {
            errno = ENAMETOOLONG;
            break;
        }
        int fd = openat(stack[depth], comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            break;
        stack[++depth] = fd;
        rest = next;
    }
    int saved = errno;
    while (depth >= 0)
        close(stack[depth--]);
    errno = saved;
    return result;
}

static int open_in_root_raw(int rootfd, const char *path, int flags, mode_t mode)
{
    if (!cm_safepath_force_fallback) {
        int fd = sys_openat2(rootfd, path, flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
        if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
            return fd;
        /* ENOSYS: kernel < 5.6; EPERM: a seccomp filter denies openat2. */
    }
    return walk_in_root(rootfd, path, flags, mode);
}

int cm_open_in_root(int rootfd, const char *path, int flags, mode_t mode, struct cm_error *err)
{
    int fd = open_in_root_raw(rootfd, path, flags, mode);
    if (fd < 0)
        return cm_err_sys(err, "opening %s inside the root filesystem", path);
    return fd;
}

int cm_mkdir_in_root(int rootfd, const char *path, mode_t mode, struct cm_error *err)
{
    _cleanup_free_ char *copy = strdup(path);
    if (!copy)
        return cm_err_set(err, ENOMEM, "creating %s", path);
    /* Create each prefix in turn, resolving inside the root every time. */
    size_t len = strlen(copy);
    for (size_t i = 1; i <= len; i++) {
        if (copy[i] != '/' && copy[i] != '\0')
            continue;
        char saved = copy[i];
        copy[i] = '\0';
        int fd = open_in_root_raw(rootfd, copy, O_PATH | O_DIRECTORY, 0);
        if (fd < 0 && errno == ENOENT) {
            char *slash = strrchr(copy, '/');
            _cleanup_close_ int parent = -1;
            if (slash == copy) {
                parent = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
            } else {
                *slash = '\0';
                parent = open_in_root_raw(rootfd, copy, O_PATH | O_DIRECTORY, 0);
                *slash = '/';
            }
            if (parent < 0)
                return cm_err_sys(err, "creating %s inside the root filesystem", path);
            if (mkdirat(parent, slash + 1, mode) < 0 && errno != EEXIST)
                return cm_err_sys(err, "creating %s inside the root filesystem", copy);
            fd = open_in_root_raw(rootfd, copy, O_PATH | O_DIRECTORY, 0);
        }
        if (fd < 0) {
            if (errno == ENOTDIR)
                return cm_err_set(err, 0, "%s inside the root filesystem is not a directory", copy);
            return cm_err_sys(err, "creating %s inside the root filesystem", copy);
        }
        copy[i] = saved;
        if (saved == '\0')
            return fd;
        close(fd);
    }
    return open_in_root_raw(rootfd, "/", O_PATH | O_DIRECTORY, 0);
}

int cm_mkfile_in_root(int rootfd, const char *path, struct cm_error *err)
{
    int fd = open_in_root_raw(rootfd, path, O_PATH, 0);
    if (fd >= 0) {
        struct stat st;
        if (fstat(fd, &st) < 0) {
            close(fd);
            return cm_err_sys(err, "checking %s", path);
        }
        if (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)) {
            close(fd);
            return cm_err_set(err, 0, "%s inside the root filesystem is not a regular file", path);
        }
        return fd;
    }
    _cleanup_free_ char *dir = strdup(path);
    if (!dir)
        return cm_err_set(err, ENOMEM, "creating %s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        int d = cm_mkdir_in_root(rootfd, dir, 0755, err);
        if (d < 0)
            return -1;
        close(d);
    }
    int created = open_in_root_raw(rootfd, path, O_CREAT | O_WRONLY | O_NOFOLLOW, 0644);
    if (created < 0 && errno != EEXIST)
        return cm_err_sys(err, "creating %s inside the root filesystem", path);
    if (created >= 0)
        close(created);
    fd = open_in_root_raw(rootfd, path, O_PATH | O_NOFOLLOW, 0);
    if (fd < 0)
        return cm_err_sys(err, "opening %s inside the root filesystem", path);
    return fd;
}

int cm_read_file_in_root(int rootfd, const char *path, size_t max, char **out, size_t *len,
                         struct cm_error *err)
{
    _cleanup_close_ int fd = open_in_root_raw(rootfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
    if (fd < 0)
        return cm_err_sys(err, "opening %s inside the root filesystem", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return cm_err_sys(err, "reading %s", path);
    if (!S_ISREG(st.st_mode))
        return cm_err_set(err, 0, "%s inside the root filesystem is not a regular file", path);
    _cleanup_free_ char *buf = malloc(max + 1);
    if (!buf)
        return cm_err_set(err, ENOMEM, "reading %s", path);
    size_t total = 0;
    while (total < max) {
        ssize_t n = read(fd, buf + total, max - total);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return cm_err_sys(err, "reading %s", path);
        }
        if (n == 0)
            break;
        total += (size_t)n;
    }
    buf[total] = '\0';
    if (len)
        *len = total;
    *out = TAKE_PTR(buf);
    return 0;
}
