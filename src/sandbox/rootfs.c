/* rootfs.c: build the container's mount tree and pivot into it.
 *
 * Order (each step needs the one before):
 *   1. make every mount private, so nothing we do propagates to the host;
 *   2. attach the root filesystem (a clone, so the host's copy is untouched),
 *      under a throwaway overlay when it is to be writable;
 *   3. /proc, /dev (+ pts, shm, mqueue), /sys, /tmp, /run: fresh instances;
 *   4. user mounts (volumes, --tmpfs), which may land inside the ones above;
 *   5. masked and read-only paths, after /proc and /sys exist;
 *   6. /etc/hostname and /etc/hosts;
 *   7. the root read-only (last: the steps above create mount points);
 *   8. pivot_root and detach the old root.
 * Mounting uses the new mount API: clone a tree (open_tree), set its
 * attributes (mount_setattr: only adds flags, never clears locked ones) and
 * move it onto an fd resolved inside the root. */
#include "sandbox/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sandbox/cgroup.h"
#include "util/cleanup.h"
#include "util/safepath.h"

int cm_open_verified_devnull(struct cm_error *err)
{
    _cleanup_close_ int fd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return cm_err_sys(err, "opening the host's /dev/null");
    struct stat st;
    if (fstat(fd, &st) < 0)
        return cm_err_sys(err, "checking the host's /dev/null");
    if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3)
        return cm_err_set(err, 0, "the host's /dev/null is not the null device (1:3); "
                                  "refusing to mask paths with it");
    return TAKE_FD(fd);
}

/* Move a detached tree onto `target_fd`. */
static int attach(int tree, int target_fd)
{
    return move_mount(tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

static int set_attrs(int tree, uint64_t set, bool recursive)
{
    if (!set)
        return 0;
    struct mount_attr attr = {.attr_set = set};
    return mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
                         sizeof(attr));
}

/* Mount a fresh filesystem of `fstype` at `dest` inside the root. */
static int mount_fs(int rootfd, const char *dest, const char *fstype, unsigned long flags,
                    const char *data, struct cm_error *err)
{
    _cleanup_close_ int target = cm_mkdir_in_root(rootfd, dest, 0755, err);
    if (target < 0)
        return cm_err_prefix(err, "mounting %s on %s", fstype, dest);
    char buf[32];
    if (mount(fstype, cm_fd_path(target, buf), fstype, flags, data) < 0)
        return cm_err_sys(err, "mounting %s on %s", fstype, dest);
    return 0;
}

/* Bind a host path (or fd when src is NULL) at `dest` inside the root. */
static int bind_at(int rootfd, int src_dirfd, const char *src, const char *dest, uint64_t attrs,
                   bool recursive, struct cm_error *err)
{
    unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
    if (!src || !*src)
        flags |= AT_EMPTY_PATH;
    _cleanup_close_ int tree = open_tree(src_dirfd, src ? src : "", flags);
    if (tree < 0)
        return cm_err_sys(err, "cloning %s for %s", src && *src ? src : "the source", dest);
    struct stat st;
    if (fstat(tree, &st) < 0)
        return cm_err_sys(err, "checking %s", src ? src : dest);
    _cleanup_close_ int target = S_ISDIR(st.st_mode) ? cm_mkdir_in_root(rootfd, dest, 0755, err)
                                                     : cm_mkfile_in_root(rootfd, dest, err);
    if (target < 0)
        return cm_err_prefix(err, "bind-mounting onto %s", dest);
    if (set_attrs(tree, attrs, recursive) < 0)
        return cm_err_sys(err, "setting mount flags on %s", dest);
    if (attach(tree, target) < 0)
        return cm_err_sys(err, "bind-mounting onto %s", dest);
    return 0;
}

static int setup_proc_at(int rootfd, const char *dest, unsigned long flags, struct cm_error *err)
{
    /* /proc must be a real directory of the root, never a symlink (a
     * symlinked /proc let a container aim the mount at host paths). Every
     * component is checked with O_NOFOLLOW. */
    struct stat st;
    _cleanup_close_ int dir = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
    _cleanup_free_ char *copy = strdup(dest);
    if (dir < 0 || !copy)
        return cm_err_sys(err, "mounting %s", dest);
    char *save = NULL;
    for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (!strcmp(c, "..") || !strcmp(c, "."))
            return cm_err_set(err, 0, "mounting %s: '.' and '..' are refused in a /proc target", dest);
        if (mkdirat(dir, c, 0555) < 0 && errno != EEXIST)
            return cm_err_sys(err, "mounting %s: creating %s", dest, c);
        int next = openat(dir, c, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 || fstat(next, &st) < 0 || !S_ISDIR(st.st_mode)) {
            if (next >= 0)
                close(next);
            return cm_err_set(err, 0, "mounting %s: %s in the root filesystem is a symlink or "
                                      "not a directory; refusing", dest, c);
        }
        close(dir);
        dir = next;
    }
    char buf[32];
    if (mount("proc", cm_fd_path(dir, buf), "proc", flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        return cm_err_sys(err, "mounting %s", dest);
    return 0;
}

static int setup_proc(int rootfd, struct cm_error *err)
{
    return setup_proc_at(rootfd, "/proc", 0, err);
}

/* cgroupfs inside the container: the container's own cgroup directories,
 * bound read-only (the unified one on v2; on v1 a tmpfs with one per
 * controller). Bound rather than mounted: the mounts are made before the
 * cgroup namespace exists, and a user namespace may not mount v1
 * hierarchies at all. Without a cgroup (cannot happen for containers),
 * a fresh mount. */
static int mount_cgroupfs(int rootfd, const struct cm_mount *m, const struct cm_cgroup *cg,
                          struct cm_error *err)
{
    uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                     ((m->flags & MS_RDONLY) ? MOUNT_ATTR_RDONLY : 0);
    unsigned long flags = m->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    struct stat st;
    bool v2 = stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0;
    if (v2) {
        const char *dir = cg ? cm_cgroup_dir(cg, NULL) : NULL;
        if (dir)
            return bind_at(rootfd, AT_FDCWD, dir, m->destination, attrs, false, err);
        return mount_fs(rootfd, m->destination, "cgroup2", flags, NULL, err);
    }
    if (mount_fs(rootfd, m->destination, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k",
                 err) < 0)
        return -1;
    _cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f)
        return cm_err_sys(err, "reading /proc/self/cgroup");
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        char *a = strchr(line, ':');
        char *b = a ? strchr(a + 1, ':') : NULL;
        if (!b || b == a + 1)
            continue; /* the v2 entry "0::/" of a hybrid host */
        *b = '\0';
        const char *ctrls = a + 1;
        if (!strncmp(ctrls, "name=", 5))
            continue;
        char dest[600], first[64];
        snprintf(dest, sizeof(dest), "%s/%s", m->destination, ctrls);
        snprintf(first, sizeof(first), "%.*s", (int)strcspn(ctrls, ","), ctrls);
        const char *dir = cg ? cm_cgroup_dir(cg, first) : NULL;
        int r = dir ? bind_at(rootfd, AT_FDCWD, dir, dest, attrs, false, err)
                    : mount_fs(rootfd, dest, "cgroup", flags, ctrls, err);
        if (r < 0)
            return -1;
    }
    _cleanup_close_ int t = cm_open_in_root(rootfd, m->destination, O_PATH, 0, err);
    struct mount_attr attr = {.attr_set = attrs};
    if (t < 0 || mount_setattr(t, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
        return cm_err_sys(err, "making %s read-only", m->destination);
    return 0;
}

/* OCI: the devices the runtime must supply, and linux.devices. Inside a
 * user namespace nodes cannot be made: the host's are bound instead. */
static int add_device(const struct cm_spec *spec, int rootfd, const char *path, char type,
                      unsigned maj, unsigned min, mode_t mode, struct cm_error *err)
{
    bool userns = spec->ns_new & CM_NS_USER;
    if (!userns) {
        _cleanup_close_ int t = cm_mkfile_in_root(rootfd, path, err);
        if (t < 0)
            return -1;
        /* Replace the placeholder with the node, through the parent dir. */
        _cleanup_free_ char *dir = strdup(path);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        if (!slash)
            return cm_err_set(err, ENOMEM, "creating %s", path);
        *slash = '\0';
        _cleanup_close_ int d = cm_open_in_root(rootfd, *dir ? dir : "/", O_PATH | O_DIRECTORY, 0, err);
        if (d < 0)
            return -1;
        if (unlinkat(d, slash + 1, 0) < 0 ||
            mknodat(d, slash + 1, (type == 'b' ? S_IFBLK : S_IFCHR) | (mode & 07777), makedev(maj, min)) < 0)
            return cm_err_sys(err, "creating device %s", path);
        return 0;
    }
    char host[300];
    snprintf(host, sizeof(host), "/dev/%s", strncmp(path, "/dev/", 5) ? path : path + 5);
    struct stat st;
    if (stat(host, &st) < 0 || major(st.st_rdev) != maj || minor(st.st_rdev) != min ||
        (type == 'b') != (S_ISBLK(st.st_mode) != 0))
        return cm_err_set(err, 0, "device %s (%c %u:%u): no such node on the host to bind into a "
                                  "container with a user namespace", path, type, maj, min);
    return bind_at(rootfd, AT_FDCWD, host, path, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, false, err);
}

static int setup_oci_dev(const struct cm_spec *spec, int rootfd, struct cm_error *err)
{
    static const struct {
        const char *path;
        unsigned maj, min;
    } defaults[] = {{"/dev/null", 1, 3}, {"/dev/zero", 1, 5}, {"/dev/full", 1, 7},
                    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};
    bool dev_mounted = false;
    for (size_t i = 0; i < spec->n_mounts; i++)
        dev_mounted |= spec->mounts[i].destination && !strcmp(spec->mounts[i].destination, "/dev");
    for (size_t i = 0; dev_mounted && i < ARRAY_SIZE(defaults); i++) {
        bool listed = false;
        for (size_t j = 0; j < spec->n_devices; j++)
            listed |= spec->devices[j].path && !strcmp(spec->devices[j].path, defaults[i].path);
        if (!listed && add_device(spec, rootfd, defaults[i].path, 'c', defaults[i].maj,
                                  defaults[i].min, 0666, err) < 0)
            return -1;
    }
    for (size_t j = 0; j < spec->n_devices; j++) {
        const struct cm_device *d = &spec->devices[j];
        if (!d->path)
            continue;
        if (d->type == 'p' || d->major < 0 || d->minor < 0)
            return cm_err_set(err, 0, "linux.devices: %s: only character and block devices are "
                                      "supported", d->path);
        if (add_device(spec, rootfd, d->path, d->type, (unsigned)d->major, (unsigned)d->minor,
                       d->file_mode ? d->file_mode : 0666, err) < 0)
            return -1;
    }
    if (!dev_mounted)
        return 0;
    _cleanup_close_ int dev = cm_open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY, 0, err);
    if (dev < 0)
        return -1;
    static const char *const links[][2] = {
        {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},         {"/proc/kcore", "core"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(links); i++)
        if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
            return cm_err_sys(err, "creating /dev/%s", links[i][1]);
    return 0;
}

/* OCI linux.sysctl, written through the container's own /proc. */
static int write_sysctls(const struct cm_spec *spec, int rootfd, struct cm_error *err)
{
    for (size_t i = 0; i < spec->n_sysctl; i++) {
        const char *key = spec->sysctl[i].key;
        char path[512];
        int n = snprintf(path, sizeof(path), "/proc/sys/%s", key);
        if (n < 0 || (size_t)n >= sizeof(path) || strstr(key, ".."))
            return cm_err_set(err, 0, "linux.sysctl: bad key '%s'", key);
        for (char *p = path + 10; *p; p++)
            if (*p == '.')
                *p = '/';
        _cleanup_close_ int fd = cm_open_in_root(rootfd, path, O_WRONLY | O_TRUNC, 0, err);
        if (fd < 0)
            return cm_err_prefix(err, "linux.sysctl %s", key);
        size_t len = strlen(spec->sysctl[i].value);
        if (write(fd, spec->sysctl[i].value, len) != (ssize_t)len)
            return cm_err_sys(err, "linux.sysctl: setting %s to '%s'", key, spec->sysctl[i].value);
    }
    return 0;
}

static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

static int setup_dev(int rootfd, bool terminal, struct cm_error *err)
{
    if (mount_fs(rootfd, "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_STRICTATIME,
                 "mode=755,size=65536k", err) < 0)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
        char host[64], dest[64];
        snprintf(host, sizeof(host), "/dev/%s", dev_nodes[i]);
        snprintf(dest, sizeof(dest), "/dev/%s", dev_nodes[i]);
        struct stat st;
        if (stat(host, &st) < 0 || !S_ISCHR(st.st_mode))
            return cm_err_set(err, 0, "setting up /dev: the host's %s is not a character device", host);
        if (bind_at(rootfd, AT_FDCWD, host, dest, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, false, err) < 0)
            return -1;
    }
    if (mount_fs(rootfd, "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                 "newinstance,ptmxmode=0666,mode=0620,gid=5", err) < 0 &&
        mount_fs(rootfd, "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                 "newinstance,ptmxmode=0666,mode=0620", err) < 0)
        return -1;
    if (mount_fs(rootfd, "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 "mode=1777,size=65536k", err) < 0)
        return -1;
    if (mount_fs(rootfd, "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0)
        return -1;
    _cleanup_close_ int dev = cm_open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY, 0, err);
    if (dev < 0)
        return -1;
    static const char *const links[][2] = {
        {"/proc/self/fd", "fd"},     {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(links); i++)
        if (symlinkat(links[i][0], dev, links[i][1]) < 0)
            return cm_err_sys(err, "creating /dev/%s", links[i][1]);
    (void)terminal;
    return 0;
}

static int setup_sys(int rootfd, struct cm_error *err)
{
    unsigned long flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (mount_fs(rootfd, "/sys", "sysfs", flags, NULL, err) == 0)
        return 0;
    /* Without a network namespace of our own the kernel refuses a new sysfs:
     * fall back to the host's, read-only. */
    if (err->errnum != EPERM)
        return -1;
    return bind_at(rootfd, AT_FDCWD, "/sys", "/sys",
                   MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                   true, err);
}


static uint64_t mount_attrs_of(unsigned long flags)
{
    uint64_t a = 0;
    if (flags & MS_RDONLY)
        a |= MOUNT_ATTR_RDONLY;
    if (flags & MS_NOSUID)
        a |= MOUNT_ATTR_NOSUID;
    if (flags & MS_NODEV)
        a |= MOUNT_ATTR_NODEV;
    if (flags & MS_NOEXEC)
        a |= MOUNT_ATTR_NOEXEC;
    if (flags & MS_NOATIME)
        a |= MOUNT_ATTR_NOATIME;
    return a;
}

/* Attach a bind mount the parent cloned (flags already set) at its
 * destination, a directory or a file like its source. */
static int attach_tree(int rootfd, int tree, const struct cm_mount *m, struct cm_error *err)
{
    if (tree < 0)
        return cm_err_set(err, 0, "bind mount %s: no source was prepared", m->destination);
    struct stat st;
    if (fstat(tree, &st) < 0)
        return cm_err_sys(err, "checking bind mount source %s", m->source);
    _cleanup_close_ int target = S_ISDIR(st.st_mode) ? cm_mkdir_in_root(rootfd, m->destination, 0755, err)
                                                     : cm_mkfile_in_root(rootfd, m->destination, err);
    if (target < 0)
        return cm_err_prefix(err, "bind-mounting %s", m->source);
    if (attach(tree, target) < 0)
        return cm_err_sys(err, "bind-mounting %s onto %s", m->source, m->destination);
    return 0;
}

int cm_bind_source_prepare(const struct cm_mount *m, struct cm_error *err)
{
    unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m->recursive ? AT_RECURSIVE : 0);
    _cleanup_close_ int tree = open_tree(AT_FDCWD, m->source, flags);
    if (tree < 0)
        return cm_err_sys(err, "cloning bind mount source %s", m->source);
    if (set_attrs(tree, mount_attrs_of(m->flags), m->recursive) < 0)
        return cm_err_sys(err, "setting mount flags on %s", m->source);
    return TAKE_FD(tree);
}

static int setup_user_mounts(const struct cm_spec *spec, int rootfd, const int *source_fds,
                             const struct cm_cgroup *cg, struct cm_error *err)
{
    for (size_t i = 0; i < spec->n_mounts; i++) {
        const struct cm_mount *m = &spec->mounts[i];
        const char *type = m->type ? m->type : "bind";
        int r;
        if (!strcmp(type, "bind") || (m->flags & MS_BIND)) {
            r = attach_tree(rootfd, source_fds ? source_fds[i] : -1, m, err);
        } else if (!strcmp(type, "proc")) {
            r = setup_proc_at(rootfd, m->destination, m->flags, err);
        } else if (!strcmp(type, "cgroup") || !strcmp(type, "cgroup2")) {
            r = mount_cgroupfs(rootfd, m, cg, err);
        } else if (!strcmp(type, "sysfs")) {
            r = mount_fs(rootfd, m->destination, "sysfs", m->flags, m->data, err);
            if (r < 0 && err->errnum == EPERM)
                r = bind_at(rootfd, AT_FDCWD, "/sys", m->destination,
                            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                                ((m->flags & MS_RDONLY) ? MOUNT_ATTR_RDONLY : 0),
                            true, err);
        } else {
            const char *source = m->source && *m->source ? m->source : type;
            _cleanup_close_ int target = cm_mkdir_in_root(rootfd, m->destination, 0755, err);
            if (target < 0)
                return cm_err_prefix(err, "mounting %s on %s", type, m->destination);
            char buf[32];
            r = mount(source, cm_fd_path(target, buf), type, m->flags, m->data);
            if (r < 0)
                cm_err_sys(err, "mounting %s on %s%s%s", type, m->destination,
                           m->data ? " with " : "", m->data ? m->data : "");
        }
        if (r < 0)
            return -1;
        if (m->propagation) {
            _cleanup_close_ int t = cm_open_in_root(rootfd, m->destination, O_PATH, 0, err);
            char buf[32];
            if (t < 0 || mount(NULL, cm_fd_path(t, buf), NULL, m->propagation, NULL) < 0)
                return cm_err_sys(err, "setting propagation of %s", m->destination);
        }
    }
    return 0;
}

static int mask_paths(const struct cm_spec *spec, int rootfd, struct cm_error *err)
{
    _cleanup_close_ int devnull = -1;
    for (char **p = spec->masked_paths; p && *p; p++) {
        _cleanup_close_ int target = cm_open_in_root(rootfd, *p, O_PATH | O_NOFOLLOW, 0, err);
        if (target < 0) {
            if (err->errnum == ENOENT)
                continue;
            return cm_err_prefix(err, "masking %s", *p);
        }
        struct stat st;
        if (fstat(target, &st) < 0)
            return cm_err_sys(err, "masking %s", *p);
        char buf[32];
        if (S_ISDIR(st.st_mode)) {
            /* An empty read-only tmpfs hides a directory's contents. */
            if (mount("tmpfs", cm_fd_path(target, buf), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                      "size=0,mode=0555") < 0)
                return cm_err_sys(err, "masking %s with an empty tmpfs", *p);
            continue;
        }
        if (devnull < 0 && (devnull = cm_open_verified_devnull(err)) < 0)
            return cm_err_prefix(err, "masking %s", *p);
        _cleanup_close_ int tree = open_tree(devnull, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (tree < 0 || attach(tree, target) < 0)
            return cm_err_sys(err, "masking %s with /dev/null", *p);
    }
    return 0;
}

static int readonly_paths(const struct cm_spec *spec, int rootfd, struct cm_error *err)
{
    for (char **p = spec->readonly_paths; p && *p; p++) {
        _cleanup_close_ int target = cm_open_in_root(rootfd, *p, O_PATH | O_NOFOLLOW, 0, err);
        if (target < 0) {
            if (err->errnum == ENOENT)
                continue;
            return cm_err_prefix(err, "making %s read-only", *p);
        }
        _cleanup_close_ int tree =
            open_tree(target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
        if (tree < 0 ||
            set_attrs(tree, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                      true) < 0 ||
            attach(tree, target) < 0)
            return cm_err_sys(err, "making %s read-only", *p);
    }
    return 0;
}

/* /etc/hostname and /etc/hosts come from a small detached tmpfs that only
 * the bind mounts reference: nothing is written to the host or the image. */
static int setup_etc_files(const struct cm_spec *spec, int rootfd, struct cm_error *err)
{
    const char *hostname = spec->hostname ? spec->hostname : "casemate";
    _cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0)
        return cm_err_sys(err, "creating the tmpfs for /etc/hostname");
    if (fsconfig(fs, FSCONFIG_SET_STRING, "size", "64k", 0) < 0 ||
        fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
        fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return cm_err_sys(err, "configuring the tmpfs for /etc/hostname");
    _cleanup_close_ int mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (mnt < 0)
        return cm_err_sys(err, "mounting the tmpfs for /etc/hostname");
    char hosts[1024];
    snprintf(hosts, sizeof(hosts),
             "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t%s\n", hostname);
    char hn[300];
    snprintf(hn, sizeof(hn), "%s\n", hostname);
    const char *files[][2] = {{"hostname", hn}, {"hosts", hosts}};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        _cleanup_close_ int f = openat(mnt, files[i][0], O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        size_t len = strlen(files[i][1]);
        if (f < 0 || write(f, files[i][1], len) != (ssize_t)len)
            return cm_err_sys(err, "writing /etc/%s", files[i][0]);
        char dest[32];
        snprintf(dest, sizeof(dest), "/etc/%s", files[i][0]);
        uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                         (spec->readonly_rootfs ? MOUNT_ATTR_RDONLY : 0);
        if (bind_at(rootfd, mnt, files[i][0], dest, attrs, false, err) < 0) {
            /* A root filesystem without /etc that cannot be written: the
             * container simply has no such file, as with an empty image. */
            if (err->errnum == EROFS || err->errnum == EACCES || err->errnum == EPERM) {
                cm_debug("skipping /etc/%s: %s", files[i][0], err->msg);
                continue;
            }
            return -1;
        }
    }
    return 0;
}

/* Returns the fd of the overlay mount.
 * --read-only=false: the container writes into an overlay whose upper
 * layer is a size-limited tmpfs that only this mount namespace holds. The
 * host's root filesystem is never written (so no setuid-root file can be
 * planted in it through the idmapped root, seed 001) and a container cannot
 * fill the host disk (seed 000). The layer is gone when the container is. */
static int writable_overlay(const struct cm_spec *spec, int rootfs_fd, int lower_fd,
                            struct cm_error *err)
{
    _cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
    char size[32];
    snprintf(size, sizeof(size), "%llu",
             (unsigned long long)(spec->storage_size ? spec->storage_size : spec->tmp_size));
    if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "size", size, 0) < 0 ||
        fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
        fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return cm_err_sys(err, "creating the writable layer (tmpfs)");
    _cleanup_close_ int layer = fsmount(fs, FSMOUNT_CLOEXEC, 0);
    if (layer < 0)
        return cm_err_sys(err, "mounting the writable layer");
    if (mkdirat(layer, "upper", 0755) < 0 || mkdirat(layer, "work", 0755) < 0)
        return cm_err_sys(err, "preparing the writable layer");
    char upper[64], work[64], lower[32];
    cm_fd_path(lower_fd, lower);
    snprintf(upper, sizeof(upper), "/proc/self/fd/%d/upper", layer);
    snprintf(work, sizeof(work), "/proc/self/fd/%d/work", layer);
    _cleanup_close_ int ov = fsopen("overlay", FSOPEN_CLOEXEC);
    if (ov < 0)
        return cm_err_sys(err, "creating the writable root (overlayfs)");
    if (fsconfig(ov, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0 ||
        fsconfig(ov, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
        fsconfig(ov, FSCONFIG_SET_STRING, "workdir", work, 0) < 0)
        return cm_err_sys(err, "configuring the writable root (overlayfs)");
    if ((spec->ns_new & CM_NS_USER) && fsconfig(ov, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
        return cm_err_sys(err, "configuring the writable root (overlayfs userxattr)");
    if (fsconfig(ov, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return cm_err_sys(err, "creating the writable root (overlayfs on %s)", spec->rootfs);
    _cleanup_close_ int mnt = fsmount(ov, FSMOUNT_CLOEXEC, 0);
    if (mnt < 0 || attach(mnt, rootfs_fd) < 0)
        return cm_err_sys(err, "attaching the writable root");
    return TAKE_FD(mnt);
}

static int pivot(int rootfd, struct cm_error *err)
{
    /* pivot_root(".", ".") stacks the old root on top of the new one; the
     * detach then leaves only the new root, with no directory needed. */
    if (fchdir(rootfd) < 0)
        return cm_err_sys(err, "entering the root filesystem");
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return cm_err_sys(err, "pivot_root into the root filesystem");
    if (umount2(".", MNT_DETACH) < 0)
        return cm_err_sys(err, "detaching the old root");
    if (chdir("/") < 0)
        return cm_err_sys(err, "entering /");
    return 0;
}

int cm_rootfs_setup(const struct cm_spec *spec, int rootfs_fd, int tree_fd, const int *source_fds,
                    const struct cm_cgroup *cg, int *rootfd_out, struct cm_error *err)
{
    unsigned long prop = spec->rootfs_propagation ? spec->rootfs_propagation : MS_PRIVATE;
    if (mount(NULL, "/", NULL, MS_REC | prop, NULL) < 0)
        return cm_err_sys(err, "making the mount namespace private");

    _cleanup_close_ int own_tree = -1;
    if (tree_fd < 0) {
        own_tree = open_tree(rootfs_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
                                                AT_EMPTY_PATH);
        if (own_tree < 0)
            return cm_err_sys(err, "cloning root filesystem %s", spec->rootfs);
        tree_fd = own_tree;
    }
    if (attach(tree_fd, rootfs_fd) < 0)
        return cm_err_sys(err, "attaching root filesystem %s", spec->rootfs);
    /* The tree's fd names the attached mount itself; a lookup of the path
     * would need search permission on host directories. */
    _cleanup_close_ int rootfd = fcntl(tree_fd, F_DUPFD_CLOEXEC, 3);
    if (rootfd < 0)
        return cm_err_sys(err, "holding the root filesystem");
    if (!spec->readonly_rootfs) {
        int top = writable_overlay(spec, rootfs_fd, rootfd, err);
        if (top < 0)
            return -1;
        close(rootfd);
        rootfd = top;
    }

    if (!spec->oci_mounts) {
        if (setup_proc(rootfd, err) < 0 || setup_dev(rootfd, spec->terminal, err) < 0 ||
            setup_sys(rootfd, err) < 0)
            return -1;
        /* The container's own cgroup, read-only, where tools look for it
         * (the cgroup namespace hides every other). */
        if (cg) {
            struct cm_mount cgm = {.destination = (char *)"/sys/fs/cgroup", .type = (char *)"cgroup",
                                   .flags = MS_RDONLY};
            if (mount_cgroupfs(rootfd, &cgm, cg, err) < 0)
                return -1;
        }
        char data[64];
        snprintf(data, sizeof(data), "mode=1777,size=%llu", (unsigned long long)spec->tmp_size);
        if (mount_fs(rootfd, "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, data, err) < 0)
            return -1;
        snprintf(data, sizeof(data), "mode=755,size=%llu", (unsigned long long)spec->tmp_size);
        if (mount_fs(rootfd, "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, data, err) < 0)
            return -1;
    }
    if (setup_user_mounts(spec, rootfd, source_fds, cg, err) < 0)
        return -1;
    if (spec->oci_mounts && setup_oci_dev(spec, rootfd, err) < 0)
        return -1;
    /* Before /proc/sys turns read-only. */
    if (write_sysctls(spec, rootfd, err) < 0)
        return -1;
    if (mask_paths(spec, rootfd, err) < 0 || readonly_paths(spec, rootfd, err) < 0)
        return -1;
    if (!spec->oci_mounts && setup_etc_files(spec, rootfd, err) < 0)
        return -1;
    if (spec->readonly_rootfs) {
        /* Only the root mount itself: /tmp, /run and volumes keep theirs. */
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
        if (mount_setattr(rootfd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
            return cm_err_sys(err, "making the root filesystem read-only");
    }
    *rootfd_out = TAKE_FD(rootfd);
    return 0;
}

int cm_rootfs_pivot(int rootfd, struct cm_error *err)
{
    return pivot(rootfd, err);
}
