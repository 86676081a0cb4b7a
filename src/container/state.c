/* state.c: the container state directory (see state.h): one directory per
 * container under the root, state.json replaced atomically, flock() to
 * serialise the commands that change a container. */
#include "container/state.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"

#define STATE_FILE "state.json"
#define LOCK_FILE "lock"
#define STATE_MAX (1u << 20)

/* jansson's own json_decrefp (NULL-safe). */
#define _cleanup_json_ _cleanup_(json_decrefp)

static const char *const status_names[] = {
    [CM_STATUS_CREATING] = "creating", [CM_STATUS_CREATED] = "created", [CM_STATUS_RUNNING] = "running",
    [CM_STATUS_STOPPED] = "stopped",   [CM_STATUS_PAUSED] = "paused",
};

const char *cm_status_name(enum cm_status status)
{
    if ((size_t)status < ARRAY_SIZE(status_names))
        return status_names[status];
    return "unknown";
}

int cm_status_from_name(const char *name)
{
    for (size_t i = 0; name && i < ARRAY_SIZE(status_names); i++)
        if (!strcmp(name, status_names[i]))
            return (int)i;
    return -1;
}

int cm_state_validate_id(const char *id, struct cm_error *err)
{
    size_t n = id ? strlen(id) : 0;
    if (!n)
        return cm_err_set(err, 0, "invalid container id \"\": it must not be empty");
    if (n > 128)
        return cm_err_set(err, 0, "invalid container id \"%.40s...\": at most 128 characters", id);
    if (!isalnum((unsigned char)id[0]))
        goto bad;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && !strchr("_.-", id[i]))
            goto bad;
    return 0;
bad:
    return cm_err_set(err, 0, "invalid container id \"%s\": use letters, digits, '_', '.' and '-', starting "
                              "with a letter or digit",
                      id);
}

static int dir_path(const char *root, const char *id, char **out, struct cm_error *err)
{
    if (cm_state_validate_id(id, err) < 0)
        return -1;
    if (!root || root[0] != '/')
        return cm_err_set(err, 0, "the state root \"%s\" must be an absolute path", root ? root : "");
    if (asprintf(out, "%s/%s", root, id) < 0)
        return cm_err_set(err, ENOMEM, "state of container %s", id);
    return 0;
}

/* mkdir -p, each new level 0700: state is for root's eyes only. */
static int mkdir_p(const char *path, struct cm_error *err)
{
    _cleanup_free_ char *p = strdup(path);
    if (!p)
        return cm_err_set(err, ENOMEM, "creating %s", path);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
            return cm_err_sys(err, "creating state directory %s", p);
        *s = c;
        if (!c)
            break;
    }
    return 0;
}

int cm_state_create_dir(const char *root, const char *id, struct cm_error *err)
{
    _cleanup_free_ char *dir = NULL;
    if (dir_path(root, id, &dir, err) < 0)
        return -1;
    if (mkdir_p(root, err) < 0)
        return -1;
    if (mkdir(dir, 0700) < 0) {
        if (errno == EEXIST)
            return cm_err_set(err, EEXIST, "container ID %s already exists (see casemate list; remove it "
                                           "with casemate delete %s)",
                              id, id);
        return cm_err_sys(err, "creating state directory %s", dir);
    }
    return 0;
}

int cm_state_lock(const char *root, const char *id, int timeout_ms, struct cm_error *err)
{
    _cleanup_free_ char *dir = NULL;
    if (dir_path(root, id, &dir, err) < 0)
        return -1;
    _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        if (errno == ENOENT)
            return cm_err_set(err, ENOENT, "container %s does not exist", id);
        return cm_err_sys(err, "opening state directory %s", dir);
    }
    _cleanup_close_ int fd = openat(dfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return cm_err_sys(err, "opening lock file %s/" LOCK_FILE, dir);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long delay = 1;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            break;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return cm_err_sys(err, "locking container %s", id);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed >= timeout_ms)
            return cm_err_set(err, EWOULDBLOCK, "container %s is busy: another casemate command is changing it",
                              id);
        struct timespec ts = {0, delay * 1000000L};
        nanosleep(&ts, NULL);
        if (delay < 50)
            delay *= 2;
    }
    /* A delete may have removed the directory while we waited: a lock on an
     * unlinked file protects nothing. */
    struct stat a, b;
    if (fstat(fd, &a) < 0 || fstatat(dfd, LOCK_FILE, &b, AT_SYMLINK_NOFOLLOW) < 0 || a.st_ino != b.st_ino ||
        a.st_dev != b.st_dev)
        return cm_err_set(err, ENOENT, "container %s does not exist (deleted meanwhile)", id);
    return TAKE_FD(fd);
}

/* ---- JSON ---- */

/* JSON strings are UTF-8; a path or argument need not be. Keep what can be
 * kept rather than lose the whole state. */
static json_t *jstr(const char *v)
{
    json_t *j = json_string(v);
    if (j)
        return j;
    _cleanup_free_ char *copy = strdup(v);
    if (!copy)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    return json_string(copy);
}

static int set_str(json_t *o, const char *key, const char *v)
{
    if (!v)
        return 0;
    return json_object_set_new(o, key, jstr(v));
}

static json_t *state_json(const struct cm_state *st, bool oci_only)
{
    _cleanup_json_ json_t *o = json_object();
    if (!o)
        return NULL;
    int r = 0;
    r |= set_str(o, "ociVersion", CM_OCI_VERSION);
    r |= set_str(o, "id", st->id);
    r |= set_str(o, "status", cm_status_name(st->status));
    r |= json_object_set_new(o, "pid", json_integer(st->status == CM_STATUS_STOPPED && oci_only ? 0 : st->pid));
    r |= set_str(o, "bundle", st->bundle ? st->bundle : "");
    if (st->n_annotations) {
        json_t *a = json_object();
        if (!a)
            return NULL;
        r |= json_object_set_new(o, "annotations", a);
        for (size_t i = 0; i < st->n_annotations; i++)
            r |= set_str(a, st->annotations[i].key, st->annotations[i].value ? st->annotations[i].value : "");
    }
    if (oci_only)
        return r ? NULL : TAKE_PTR(o);
    r |= set_str(o, "rootfs", st->rootfs);
    r |= set_str(o, "created", st->created);
    r |= set_str(o, "cgroup", st->cgroup);
    r |= json_object_set_new(o, "pidStartTime", json_integer((json_int_t)st->pid_start));
    r |= json_object_set_new(o, "supervisorPid", json_integer(st->supervisor_pid));
    if (st->exited)
        r |= json_object_set_new(o, "exitStatus", json_integer(st->exit_status));
    r |= json_object_set_new(o, "oomKilled", json_boolean(st->oom_killed));
    if (st->argv) {
        json_t *a = json_array();
        if (!a)
            return NULL;
        r |= json_object_set_new(o, "args", a);
        for (char **p = st->argv; *p; p++)
            r |= json_array_append_new(a, jstr(*p));
    }
    if (r)
        return NULL;
    return TAKE_PTR(o);
}

char *cm_state_to_json(const struct cm_state *st)
{
    _cleanup_json_ json_t *o = state_json(st, false);
    return o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
}

char *cm_state_to_oci_json(const struct cm_state *st)
{
    _cleanup_json_ json_t *o = state_json(st, true);
    return o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
}

static int get_str(json_t *o, const char *key, char **out, bool required, struct cm_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (required)
            return cm_err_set(err, 0, "state file: \"%s\" is missing", key);
        return 0;
    }
    if (!json_is_string(v))
        return cm_err_set(err, 0, "state file: \"%s\" must be a string", key);
    *out = strdup(json_string_value(v));
    if (!*out)
        return cm_err_set(err, ENOMEM, "state file");
    return 0;
}

static int get_int(json_t *o, const char *key, json_int_t min, json_int_t max, json_int_t *out, bool *present,
                   struct cm_error *err)
{
    json_t *v = json_object_get(o, key);
    if (present)
        *present = v != NULL;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return cm_err_set(err, 0, "state file: \"%s\" must be an integer between %" JSON_INTEGER_FORMAT
                                  " and %" JSON_INTEGER_FORMAT,
                          key, min, max);
    *out = json_integer_value(v);
    return 0;
}

int cm_state_from_json(const char *text, struct cm_state *st, struct cm_error *err)
{
    memset(st, 0, sizeof(*st));
    json_error_t jerr;
    _cleanup_json_ json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!o)
        return cm_err_set(err, 0, "state file: invalid JSON at line %d: %s", jerr.line, jerr.text);
    if (!json_is_object(o))
        return cm_err_set(err, 0, "state file: not a JSON object");
    _cleanup_free_ char *status = NULL;
    json_int_t v = 0;
    bool present = false;
    if (get_str(o, "id", &st->id, true, err) < 0 || get_str(o, "status", &status, true, err) < 0)
        goto fail;
    if (cm_state_validate_id(st->id, err) < 0) {
        cm_err_prefix(err, "state file");
        goto fail;
    }
    int s = cm_status_from_name(status);
    if (s < 0) {
        cm_err_set(err, 0, "state file: unknown status \"%s\"", status);
        goto fail;
    }
    st->status = (enum cm_status)s;
    if (get_int(o, "pid", 0, INT32_MAX, &v, NULL, err) < 0)
        goto fail;
    st->pid = (pid_t)v;
    v = 0;
    if (get_int(o, "supervisorPid", 0, INT32_MAX, &v, NULL, err) < 0)
        goto fail;
    st->supervisor_pid = (pid_t)v;
    v = 0;
    if (get_int(o, "pidStartTime", 0, INT64_MAX, &v, NULL, err) < 0)
        goto fail;
    st->pid_start = (uint64_t)v;
    v = 0;
    if (get_int(o, "exitStatus", 0, 255, &v, &present, err) < 0)
        goto fail;
    st->exited = present;
    st->exit_status = (int)v;
    json_t *oom = json_object_get(o, "oomKilled");
    if (oom && !json_is_boolean(oom)) {
        cm_err_set(err, 0, "state file: \"oomKilled\" must be true or false");
        goto fail;
    }
    st->oom_killed = oom && json_is_true(oom);
    if (get_str(o, "bundle", &st->bundle, false, err) < 0 || get_str(o, "rootfs", &st->rootfs, false, err) < 0 ||
        get_str(o, "created", &st->created, false, err) < 0 || get_str(o, "cgroup", &st->cgroup, false, err) < 0)
        goto fail;
    if (st->bundle && !st->bundle[0]) {
        free(st->bundle);
        st->bundle = NULL;
    }
    json_t *ann = json_object_get(o, "annotations");
    if (ann) {
        if (!json_is_object(ann)) {
            cm_err_set(err, 0, "state file: \"annotations\" must be an object");
            goto fail;
        }
        size_t n = json_object_size(ann);
        st->annotations = calloc(n ? n : 1, sizeof(*st->annotations));
        if (!st->annotations) {
            cm_err_set(err, ENOMEM, "state file");
            goto fail;
        }
        const char *key;
        json_t *val;
        json_object_foreach(ann, key, val)
        {
            if (!json_is_string(val)) {
                cm_err_set(err, 0, "state file: annotation \"%s\" must be a string", key);
                goto fail;
            }
            struct cm_kv *kv = &st->annotations[st->n_annotations];
            kv->key = strdup(key);
            kv->value = strdup(json_string_value(val));
            st->n_annotations++;
            if (!kv->key || !kv->value) {
                cm_err_set(err, ENOMEM, "state file");
                goto fail;
            }
        }
    }
    json_t *args = json_object_get(o, "args");
    if (args) {
        if (!json_is_array(args)) {
            cm_err_set(err, 0, "state file: \"args\" must be an array of strings");
            goto fail;
        }
        st->argv = calloc(json_array_size(args) + 1, sizeof(char *));
        if (!st->argv) {
            cm_err_set(err, ENOMEM, "state file");
            goto fail;
        }
        size_t i;
        json_t *a;
        json_array_foreach(args, i, a)
        {
            if (!json_is_string(a)) {
                cm_err_set(err, 0, "state file: \"args\" must be an array of strings");
                goto fail;
            }
            st->argv[i] = strdup(json_string_value(a));
            if (!st->argv[i]) {
                cm_err_set(err, ENOMEM, "state file");
                goto fail;
            }
        }
    }
    return 0;
fail:
    cm_state_free(st);
    return -1;
}

void cm_state_free(struct cm_state *st)
{
    if (!st)
        return;
    free(st->id);
    free(st->bundle);
    for (size_t i = 0; i < st->n_annotations; i++) {
        free(st->annotations[i].key);
        free(st->annotations[i].value);
    }
    free(st->annotations);
    free(st->rootfs);
    free(st->created);
    free(st->cgroup);
    cm_strv_free(st->argv);
    memset(st, 0, sizeof(*st));
}

/* ---- files ---- */

static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

int cm_state_save(const char *root, const struct cm_state *st, struct cm_error *err)
{
    _cleanup_free_ char *dir = NULL;
    if (dir_path(root, st->id, &dir, err) < 0)
        return -1;
    _cleanup_free_ char *text = cm_state_to_json(st);
    if (!text)
        return cm_err_set(err, ENOMEM, "serialising the state of container %s", st->id);
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        if (errno == ENOENT)
            return cm_err_set(err, ENOENT, "saving state: container %s does not exist", st->id);
        return cm_err_sys(err, "opening state directory %s", dir);
    }
    char tmp[64];
    snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", STATE_FILE, (int)getpid());
    _cleanup_close_ int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return cm_err_sys(err, "writing %s/%s", dir, tmp);
    size_t len = strlen(text);
    if (write_all(fd, text, len) < 0 || write_all(fd, "\n", 1) < 0 || fsync(fd) < 0) {
        cm_err_sys(err, "writing %s/%s", dir, tmp);
        unlinkat(dfd, tmp, 0);
        return -1;
    }
    if (renameat(dfd, tmp, dfd, STATE_FILE) < 0) {
        cm_err_sys(err, "replacing %s/" STATE_FILE, dir);
        unlinkat(dfd, tmp, 0);
        return -1;
    }
    /* The rename itself must reach the disk too. */
    if (fsync(dfd) < 0)
        return cm_err_sys(err, "syncing %s", dir);
    return 0;
}

int cm_state_load(const char *root, const char *id, struct cm_state *st, struct cm_error *err)
{
    memset(st, 0, sizeof(*st));
    _cleanup_free_ char *dir = NULL;
    if (dir_path(root, id, &dir, err) < 0)
        return -1;
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/" STATE_FILE, dir) < 0)
        return cm_err_set(err, ENOMEM, "state of container %s", id);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return cm_err_set(err, ENOENT, "container %s does not exist", id);
        return cm_err_sys(err, "reading %s", path);
    }
    struct stat sb;
    if (fstat(fd, &sb) < 0)
        return cm_err_sys(err, "reading %s", path);
    if (!S_ISREG(sb.st_mode) || sb.st_size > STATE_MAX)
        return cm_err_set(err, 0, "reading %s: not a regular file of at most 1 MiB", path);
    _cleanup_free_ char *text = malloc((size_t)sb.st_size + 1);
    if (!text)
        return cm_err_set(err, ENOMEM, "reading %s", path);
    size_t len = 0;
    while (len < (size_t)sb.st_size) {
        ssize_t r = read(fd, text + len, (size_t)sb.st_size - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return cm_err_sys(err, "reading %s", path);
        if (r == 0)
            break;
        len += (size_t)r;
    }
    text[len] = '\0';
    if (cm_state_from_json(text, st, err) < 0)
        return cm_err_prefix(err, "%s", path);
    if (strcmp(st->id, id)) {
        cm_err_set(err, 0, "%s: holds the state of \"%s\", not \"%s\"", path, st->id, id);
        cm_state_free(st);
        return -1;
    }
    return 0;
}

int cm_proc_start_time(pid_t pid, uint64_t *start)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char buf[1024];
    if (!fgets(buf, sizeof(buf), f))
        return -1;
    /* comm may hold spaces and ')': count fields after the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    p++;
    for (int field = 3; field < 22; field++) {
        p = strchr(p + 1, ' ');
        if (!p)
            return -1;
    }
    *start = strtoull(p + 1, NULL, 10);
    return 0;
}

bool cm_state_refresh(struct cm_state *st)
{
    if (st->status == CM_STATUS_STOPPED || st->pid <= 0)
        return false;
    uint64_t start = 0;
    bool alive = cm_proc_start_time(st->pid, &start) == 0 && (!st->pid_start || start == st->pid_start);
    if (alive) {
        /* A zombie has exited too. */
        char path[64], buf[512];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)st->pid);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char *p = f && fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
        if (p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
            alive = false;
    }
    if (alive)
        return false;
    st->status = CM_STATUS_STOPPED;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cm_state_list(const char *root, char ***ids, struct cm_error *err)
{
    *ids = NULL;
    _cleanup_strv_ char **v = calloc(1, sizeof(char *));
    if (!v)
        return cm_err_set(err, ENOMEM, "listing containers");
    size_t n = 0;
    _cleanup_closedir_ DIR *d = opendir(root);
    if (!d) {
        if (errno != ENOENT)
            return cm_err_sys(err, "listing containers in %s", root);
        *ids = TAKE_PTR(v);
        return 0;
    }
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
            continue;
        if (cm_state_validate_id(e->d_name, NULL) < 0)
            continue;
        struct stat sb;
        if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(sb.st_mode))
            continue;
        char **nv = realloc(v, (n + 2) * sizeof(char *));
        if (!nv)
            return cm_err_set(err, ENOMEM, "listing containers");
        v = nv;
        v[n] = strdup(e->d_name);
        v[n + 1] = NULL;
        if (!v[n])
            return cm_err_set(err, ENOMEM, "listing containers");
        n++;
    }
    qsort(v, n, sizeof(char *), cmp_str);
    *ids = TAKE_PTR(v);
    return 0;
}

int cm_state_remove(const char *root, const char *id, struct cm_error *err)
{
    _cleanup_free_ char *dir = NULL;
    if (dir_path(root, id, &dir, err) < 0)
        return -1;
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (dfd < 0) {
        if (errno == ENOENT)
            return 0;
        return cm_err_sys(err, "removing state directory %s", dir);
    }
    /* Only files live here (state, lock, temp files, logs). */
    int dfd2 = dup(dfd);
    if (dfd2 < 0)
        return cm_err_sys(err, "removing state directory %s", dir);
    _cleanup_closedir_ DIR *d = fdopendir(dfd2);
    if (!d) {
        cm_err_sys(err, "removing state directory %s", dir);
        close(dfd2);
        return -1;
    }
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (unlinkat(dfd, e->d_name, 0) < 0 && errno != ENOENT)
            return cm_err_sys(err, "removing %s/%s", dir, e->d_name);
    }
    if (rmdir(dir) < 0 && errno != ENOENT)
        return cm_err_sys(err, "removing state directory %s", dir);
    return 0;
}

void cm_state_now_rfc3339(char *buf, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%09ldZ", base, ts.tv_nsec);
}
