/* userns.c: per-container host id ranges; see userns.h. */
#include "sandbox/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <stdbool.h>
#include <unistd.h>

#include "util/cleanup.h"

struct id_range {
    uint32_t start;
    uint32_t count;
};

/* root's first range in /etc/subuid or /etc/subgid ("root:100000:65536" or
 * "0:100000:65536"). Returns 1 when found, 0 when not. */
static int read_sub_range(const char *path, struct id_range *out)
{
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        char name[128];
        unsigned long start, count;
        if (sscanf(line, "%127[^:]:%lu:%lu", name, &start, &count) != 3)
            continue;
        if (strcmp(name, "root") && strcmp(name, "0"))
            continue;
        if (count < CM_USERNS_RANGE || start == 0 || start + count > 0xFFFFFFFFul)
            continue;
        out->start = (uint32_t)start;
        out->count = (uint32_t)count;
        return 1;
    }
    return 0;
}

static bool slot_recorded(const char *state_root, uint32_t s)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/.userns/%u", state_root, s);
    return access(path, F_OK) == 0;
}

static int alloc_slot(const char *state_root, const char *persist_id, struct cm_userns_slot *slot,
                      struct cm_error *err)
{
    slot->lock_fd = -1;
    struct id_range uids = {CM_USERNS_POOL_BASE, CM_USERNS_POOL_SLOTS * CM_USERNS_RANGE};
    struct id_range gids = uids;
    struct id_range su, sg;
    if (read_sub_range("/etc/subuid", &su) && read_sub_range("/etc/subgid", &sg)) {
        uids = su;
        gids = sg;
    }
    uint32_t slots = uids.count / CM_USERNS_RANGE;
    if (gids.count / CM_USERNS_RANGE < slots)
        slots = gids.count / CM_USERNS_RANGE;
    if (slots == 0)
        return cm_err_set(err, 0, "allocating a user namespace range: root's /etc/subuid "
                                  "and /etc/subgid ranges are smaller than %u ids", CM_USERNS_RANGE);

    if (mkdir(state_root, 0700) < 0 && errno != EEXIST)
        return cm_err_sys(err, "creating state directory %s", state_root);
    char path[4096];
    snprintf(path, sizeof(path), "%s/userns.lock", state_root);
    _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return cm_err_sys(err, "opening %s", path);

    /* Start at a pseudo-random slot so concurrent starts rarely collide. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint32_t first = (uint32_t)((unsigned long)ts.tv_nsec ^ (unsigned long)getpid()) % slots;
    for (uint32_t i = 0; i < slots; i++) {
        uint32_t s = (first + i) % slots;
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = s, .l_len = 1};
        if (fcntl(fd, F_OFD_SETLK, &fl) == 0) {
            if (slot_recorded(state_root, s)) {
                fl.l_type = F_UNLCK;
                fcntl(fd, F_OFD_SETLK, &fl);
                continue;
            }
            if (persist_id) {
                char dir[4200], record[4300];
                snprintf(dir, sizeof(dir), "%s/.userns", state_root);
                snprintf(record, sizeof(record), "%s/%u", dir, s);
                if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                    return cm_err_sys(err, "creating %s", dir);
                _cleanup_close_ int rec = open(record, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                size_t len = strlen(persist_id);
                if (rec < 0 || write(rec, persist_id, len) != (ssize_t)len)
                    return cm_err_sys(err, "recording user namespace range in %s", record);
            }
            slot->host_uid = uids.start + s * CM_USERNS_RANGE;
            slot->host_gid = gids.start + s * CM_USERNS_RANGE;
            slot->size = CM_USERNS_RANGE;
            slot->lock_fd = TAKE_FD(fd);
            return 0;
        }
        if (errno != EAGAIN && errno != EACCES)
            return cm_err_sys(err, "locking a slot in %s", path);
    }
    return cm_err_set(err, 0, "allocating a user namespace range: all %u ranges are in use", slots);
}

int cm_userns_alloc(const char *state_root, struct cm_userns_slot *slot, struct cm_error *err)
{
    return alloc_slot(state_root, NULL, slot, err);
}

int cm_userns_alloc_persistent(const char *state_root, const char *id, struct cm_userns_slot *slot,
                               struct cm_error *err)
{
    if (alloc_slot(state_root, id, slot, err) < 0)
        return -1;
    cm_userns_release(slot); /* the record holds it now */
    return 0;
}

void cm_userns_release_persistent(const char *state_root, const char *id)
{
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/.userns", state_root);
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4500], buf[200];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
        if (n < 0)
            continue;
        buf[n] = '\0';
        if (!strcmp(buf, id))
            unlinkat(dirfd(d), e->d_name, 0);
    }
}

void cm_userns_release(struct cm_userns_slot *slot)
{
    if (slot->lock_fd >= 0)
        close(slot->lock_fd); /* the OFD lock goes with the last reference */
    slot->lock_fd = -1;
}

static int write_map(pid_t pid, const char *file, const struct cm_idmap *map, size_t n,
                     struct cm_error *err)
{
    char path[64], buf[4096];
    size_t off = 0;
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(buf + off, sizeof(buf) - off, "%u %u %u\n", map[i].container_id,
                         map[i].host_id, map[i].size);
        if (w < 0 || (size_t)w >= sizeof(buf) - off)
            return cm_err_set(err, 0, "writing %s: too many mappings", path);
        off += (size_t)w;
    }
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return cm_err_sys(err, "opening %s", path);
    if (write(fd, buf, off) != (ssize_t)off)
        return cm_err_sys(err, "writing %s (\"%.*s\")", path, (int)(off ? off - 1 : 0), buf);
    return 0;
}

int cm_userns_write_maps(pid_t pid, const struct cm_idmap *uid_map, size_t n_uid,
                         const struct cm_idmap *gid_map, size_t n_gid, struct cm_error *err)
{
    if (write_map(pid, "uid_map", uid_map, n_uid, err) < 0)
        return -1;
    return write_map(pid, "gid_map", gid_map, n_gid, err);
}

uint32_t cm_idmap_to_host(const struct cm_idmap *map, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (id >= map[i].container_id && id - map[i].container_id < map[i].size)
            return map[i].host_id + (id - map[i].container_id);
    return UINT32_MAX;
}
