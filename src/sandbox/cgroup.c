/* cgroup.c: container cgroups on v1, v2 and hybrid hosts.
 *
 * The layout is read at run time from /proc/self/mountinfo: every v1
 * hierarchy that carries a controller is used for that controller; a cgroup2
 * mount is used for what only v2 has (and for cgroup.kill / cgroup.freeze
 * when v1 has no freezer). Named v1 hierarchies (name=systemd) are left
 * alone. The container's directory goes beneath the cgroup casemate runs in,
 * per hierarchy (/proc/self/cgroup), so casemate never moves a process out
 * of its own tree; its name, casemate-<id>-<ownerpid>, lets cm_cgroup_gc
 * find what a killed casemate left behind. */
#include "sandbox/cgroup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"

#define CG_MAX_HIER 16
/* v1 reports "no limit" as LONG_MAX rounded down to a page. */
#define CG_V1_UNLIMITED 0x7FFFFFFFFFFFF000ULL
#define CG_DEFAULT_PERIOD 100000ULL

struct cg_hier {
    int version;       /* 1 or 2 */
    char *controllers; /* comma-separated; v2: those enabled for the container */
    char *dir;         /* the container's directory */
};

struct cm_cgroup {
    enum cm_cgroup_layout layout;
    bool rm_parent; /* the parent is an OCI cgroupsPath, this container's own */
    struct cg_hier h[CG_MAX_HIER];
    size_t n;
    char v2_note[512]; /* why a v2 controller could not be enabled */
};

/* A mounted hierarchy and the cgroup casemate runs in there. */
struct cg_mount {
    int version;
    char *controllers;
    char *mount;
    char *own; /* our cgroup, relative to the mount: "" or "/a/b" */
};

struct cg_host {
    enum cm_cgroup_layout layout;
    struct cg_mount m[CG_MAX_HIER];
    size_t n;
};

/* Controllers casemate enables in a v2 subtree (if the host offers them). */
static const char *const v2_wanted[] = {"cpuset", "cpu", "io", "memory", "pids"};

/* ---- small file helpers ---- */

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read a whole (small) file; NULL with errno set on failure. */
static char *read_all(const char *path)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, len = 0;
    _cleanup_free_ char *buf = malloc(cap);
    if (!buf)
        return NULL;
    for (;;) {
        if (len + 1 >= cap) {
            if (cap >= (1u << 24)) {
                errno = EFBIG;
                return NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                return NULL;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    buf[len] = '\0';
    return TAKE_PTR(buf);
}

static char *cg_read(const char *dir, const char *file)
{
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, file) < 0)
        return NULL;
    return read_all(path);
}

static bool cg_has(const char *dir, const char *file)
{
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, file) < 0)
        return false;
    return access(path, F_OK) == 0;
}

/* Write without a trailing newline; errno kept for the caller. */
static int cg_write_raw(const char *dir, const char *file, const char *value)
{
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, file) < 0)
        return -1;
    /* O_TRUNC is ignored by cgroupfs, as for a shell redirection. */
    _cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = strlen(value);
    ssize_t w = write(fd, value, len);
    if (w < 0)
        return -1;
    if ((size_t)w != len) {
        errno = EIO;
        return -1;
    }
    return 0;
}

static int cg_write(const char *dir, const char *file, const char *value, struct cm_error *err)
{
    if (cg_write_raw(dir, file, value) < 0)
        return cm_err_sys(err, "writing \"%s\" to %s/%s", value, dir, file);
    return 0;
}

static int cg_write_i64(const char *dir, const char *file, int64_t v, struct cm_error *err)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRId64, v);
    return cg_write(dir, file, buf, err);
}

static int cg_read_u64(const char *dir, const char *file, uint64_t *out)
{
    _cleanup_free_ char *s = cg_read(dir, file);
    if (!s)
        return -1;
    if (!strncmp(s, "max", 3)) {
        *out = UINT64_MAX;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    *out = v;
    return 0;
}

/* "key value" lines (memory.stat, cpu.stat, memory.events, cgroup.events). */
static int cg_read_key(const char *dir, const char *file, const char *key, uint64_t *out)
{
    _cleanup_free_ char *s = cg_read(dir, file);
    if (!s)
        return -1;
    size_t klen = strlen(key);
    for (char *line = s; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (!strncmp(line, key, klen) && line[klen] == ' ') {
            *out = strtoull(line + klen + 1, NULL, 10);
            return 0;
        }
        line = nl ? nl + 1 : NULL;
    }
    errno = ENOENT;
    return -1;
}

static bool list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; p && *p;) {
        const char *e = strpbrk(p, ", \n");
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, item, n))
            return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}

/* ---- host detection ---- */

static void host_free(struct cg_host *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->m[i].controllers);
        free(h->m[i].mount);
        free(h->m[i].own);
    }
    h->n = 0;
}

/* The controller names the kernel knows (first column of /proc/cgroups),
 * comma-separated: they tell controllers from other v1 mount options. */
static char *known_controllers(void)
{
    _cleanup_free_ char *s = read_all("/proc/cgroups");
    if (!s)
        return NULL;
    size_t cap = strlen(s) + 1;
    char *out = calloc(1, cap);
    if (!out)
        return NULL;
    size_t len = 0;
    for (char *line = s; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (line[0] != '#') {
            size_t w = strcspn(line, " \t");
            if (w && len + w + 2 <= cap) {
                memcpy(out + len, line, w);
                len += w;
                out[len++] = ',';
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    out[len] = '\0';
    return out;
}

/* Our cgroup in the hierarchy whose /proc/self/cgroup entry names
 * `first_ctrl` (v1) or the "0::" entry (v2). Mount roots other than "/"
 * (a bind of a subtree, as in a cgroup namespace) are cut off. */
static char *own_cgroup(const char *cgfile, int version, const char *first_ctrl,
                        const char *mount_root)
{
    _cleanup_free_ char *copy = strdup(cgfile);
    if (!copy)
        return NULL;
    for (char *line = copy; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c2) {
            *c2 = '\0';
            const char *ctrls = c1 + 1;
            const char *path = c2 + 1;
            bool match = version == 2 ? (!strncmp(line, "0:", 2) && *ctrls == '\0')
                                      : list_has(ctrls, first_ctrl);
            if (match) {
                if (strcmp(mount_root, "/") && !strncmp(path, mount_root, strlen(mount_root)))
                    path += strlen(mount_root);
                if (!strcmp(path, "/"))
                    path = "";
                return strdup(path);
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return strdup("");
}

static int host_detect(struct cg_host *host, const char *only_v2, struct cm_error *err)
{
    memset(host, 0, sizeof(*host));
    _cleanup_free_ char *mi = read_all("/proc/self/mountinfo");
    if (!mi)
        return cm_err_sys(err, "reading /proc/self/mountinfo");
    _cleanup_free_ char *cgfile = read_all("/proc/self/cgroup");
    if (!cgfile)
        return cm_err_sys(err, "reading /proc/self/cgroup");
    _cleanup_free_ char *known = known_controllers();
    bool have_v1 = false, have_v2 = false, v2_at_root = false;

    for (char *line = mi; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *next = nl ? nl + 1 : NULL;
        char *sep = strstr(line, " - ");
        char root[PATH_MAX], mnt[PATH_MAX], fstype[64], source[PATH_MAX], sopts[1024];
        if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
            sscanf(sep + 3, "%63s %4095s %1023s", fstype, source, sopts) != 3) {
            line = next;
            continue;
        }
        if (host->n >= CG_MAX_HIER) {
            line = next;
            continue;
        }
        struct cg_mount *m = &host->m[host->n];
        if (!strcmp(fstype, "cgroup2")) {
            if (only_v2 && strcmp(mnt, only_v2)) {
                line = next;
                continue;
            }
            for (size_t i = 0; i < host->n; i++)
                if (host->m[i].version == 2)
                    goto skip; /* the same hierarchy mounted twice */
            have_v2 = true;
            if (!strcmp(mnt, "/sys/fs/cgroup"))
                v2_at_root = true;
            m->version = 2;
            m->mount = strdup(mnt);
            m->own = own_cgroup(cgfile, 2, NULL, root);
            _cleanup_free_ char *rootdir = NULL;
            if (m->mount && m->own && asprintf(&rootdir, "%s%s", m->mount, m->own) >= 0) {
                char *c = cg_read(rootdir, "cgroup.controllers");
                if (c)
                    c[strcspn(c, "\n")] = '\0';
                m->controllers = c ? c : strdup("");
            }
            if (!m->mount || !m->own || !m->controllers)
                return host_free(host), cm_err_set(err, ENOMEM, "detecting cgroups");
            host->n++;
        } else if (!strcmp(fstype, "cgroup") && !only_v2) {
            /* Keep only controller names from the super options. */
            char ctrls[1024] = "";
            size_t len = 0;
            for (char *save = NULL, *tok = strtok_r(sopts, ",", &save); tok;
                 tok = strtok_r(NULL, ",", &save)) {
                if (!strchr(tok, '=') && known && list_has(known, tok)) {
                    int w = snprintf(ctrls + len, sizeof(ctrls) - len, "%s%s", len ? "," : "", tok);
                    if (w > 0)
                        len += (size_t)w;
                }
            }
            if (!len)
                goto skip; /* a named hierarchy: not ours to touch */
            char first[64];
            snprintf(first, sizeof(first), "%.*s", (int)strcspn(ctrls, ","), ctrls);
            for (size_t i = 0; i < host->n; i++)
                if (host->m[i].version == 1 && list_has(host->m[i].controllers, first))
                    goto skip;
            have_v1 = true;
            m->version = 1;
            m->controllers = strdup(ctrls);
            m->mount = strdup(mnt);
            m->own = own_cgroup(cgfile, 1, first, root);
            if (!m->mount || !m->own || !m->controllers)
                return host_free(host), cm_err_set(err, ENOMEM, "detecting cgroups");
            host->n++;
        }
    skip:
        line = next;
    }

    if (v2_at_root && !only_v2) {
        /* /sys/fs/cgroup itself is cgroup2: a unified host, whatever else is
         * mounted elsewhere. */
        size_t j = 0;
        for (size_t i = 0; i < host->n; i++) {
            if (host->m[i].version == 2) {
                host->m[j++] = host->m[i];
            } else {
                free(host->m[i].controllers);
                free(host->m[i].mount);
                free(host->m[i].own);
            }
        }
        host->n = j;
        have_v1 = false;
    }
    if (!have_v1 && !have_v2) {
        if (only_v2)
            return cm_err_set(err, 0, "no cgroup2 hierarchy is mounted at %s", only_v2);
        return cm_err_set(err, 0, "no cgroup hierarchy is mounted (neither v1 nor v2 in /proc/self/mountinfo)");
    }
    host->layout = have_v1 ? (have_v2 ? CM_CGROUP_HYBRID : CM_CGROUP_V1) : CM_CGROUP_V2;
    return 0;
}

int cm_cgroup_detect(enum cm_cgroup_layout *layout, struct cm_error *err)
{
    struct cg_host host;
    if (host_detect(&host, NULL, err) < 0)
        return -1;
    *layout = host.layout;
    host_free(&host);
    return 0;
}

const char *cm_cgroup_layout_name(enum cm_cgroup_layout layout)
{
    switch (layout) {
    case CM_CGROUP_V1:
        return "v1";
    case CM_CGROUP_V2:
        return "v2";
    case CM_CGROUP_HYBRID:
        return "hybrid";
    }
    return "unknown";
}

/* ---- the handle ---- */

static void cg_free(struct cm_cgroup *cg)
{
    if (!cg)
        return;
    for (size_t i = 0; i < cg->n; i++) {
        free(cg->h[i].controllers);
        free(cg->h[i].dir);
    }
    free(cg);
}

void cm_cgroup_close(struct cm_cgroup *cg) { cg_free(cg); }

static void cg_destroyp(struct cm_cgroup **cg)
{
    if (*cg) {
        struct cm_error ignored;
        cm_cgroup_destroy(*cg, &ignored);
    }
}

static struct cg_hier *find_ctrl(const struct cm_cgroup *cg, const char *ctrl)
{
    for (size_t i = 0; i < cg->n; i++)
        if (cg->h[i].version == 1 && list_has(cg->h[i].controllers, ctrl))
            return (struct cg_hier *)&cg->h[i];
    for (size_t i = 0; i < cg->n; i++)
        if (cg->h[i].version == 2 && list_has(cg->h[i].controllers, ctrl))
            return (struct cg_hier *)&cg->h[i];
    return NULL;
}

static struct cg_hier *find_v2(const struct cm_cgroup *cg)
{
    for (size_t i = 0; i < cg->n; i++)
        if (cg->h[i].version == 2)
            return (struct cg_hier *)&cg->h[i];
    return NULL;
}

const char *cm_cgroup_dir(const struct cm_cgroup *cg, const char *controller)
{
    if (!cg)
        return NULL;
    struct cg_hier *h = controller && *controller ? find_ctrl(cg, controller) : find_v2(cg);
    return h ? h->dir : NULL;
}

enum cm_cgroup_layout cm_cgroup_get_layout(const struct cm_cgroup *cg) { return cg->layout; }

char *cm_cgroup_describe(const struct cm_cgroup *cg)
{
    if (!cg)
        return NULL;
    size_t cap = 64;
    for (size_t i = 0; i < cg->n; i++)
        cap += strlen(cg->h[i].controllers) + strlen(cg->h[i].dir) + 8;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t len = (size_t)snprintf(out, cap, "%s%s", cm_cgroup_layout_name(cg->layout),
                                  cg->rm_parent ? ";rmparent" : "");
    for (size_t i = 0; i < cg->n; i++)
        len += (size_t)snprintf(out + len, cap - len, ";%d:%s:%s", cg->h[i].version,
                                cg->h[i].controllers, cg->h[i].dir);
    return out;
}

int cm_cgroup_open(const char *description, struct cm_cgroup **out, struct cm_error *err)
{
    _cleanup_free_ char *copy = description ? strdup(description) : NULL;
    if (!copy)
        return cm_err_set(err, description ? ENOMEM : EINVAL, "opening container cgroup");
    struct cm_cgroup *cg = calloc(1, sizeof(*cg));
    if (!cg)
        return cm_err_set(err, ENOMEM, "opening container cgroup");
    char *save = NULL;
    char *tok = strtok_r(copy, ";", &save);
    if (!tok || (strcmp(tok, "v1") && strcmp(tok, "v2") && strcmp(tok, "hybrid")))
        goto bad;
    cg->layout = !strcmp(tok, "v1") ? CM_CGROUP_V1 : !strcmp(tok, "v2") ? CM_CGROUP_V2 : CM_CGROUP_HYBRID;
    while ((tok = strtok_r(NULL, ";", &save))) {
        if (!strcmp(tok, "rmparent")) {
            cg->rm_parent = true;
            continue;
        }
        char *c1 = strchr(tok, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2 || cg->n >= CG_MAX_HIER || (tok[0] != '1' && tok[0] != '2') || c1 != tok + 1 ||
            c2[1] != '/' || strstr(c2 + 1, "/.."))
            goto bad;
        *c2 = '\0';
        struct cg_hier *h = &cg->h[cg->n];
        h->version = tok[0] - '0';
        h->controllers = strdup(c1 + 1);
        h->dir = strdup(c2 + 1);
        cg->n++;
        if (!h->controllers || !h->dir) {
            cg_free(cg);
            return cm_err_set(err, ENOMEM, "opening container cgroup");
        }
    }
    if (!cg->n)
        goto bad;
    *out = cg;
    return 0;
bad:
    cg_free(cg);
    return cm_err_set(err, EINVAL, "opening container cgroup: malformed description \"%s\"", description);
}

/* ---- resources ---- */

void cm_resources_keep_all(struct cm_resources *res)
{
    memset(res, 0, sizeof(*res));
    res->memory_limit = CM_RES_KEEP;
    res->memory_swap = -2;
    res->memory_reservation = -1;
    res->cpu_quota = CM_RES_KEEP;
    res->cpu_period = 0;
    res->cpu_shares = 0;
    res->pids_limit = CM_RES_KEEP;
    res->blkio_weight = 0;
    res->hugetlb_limit = -1;
}

/* A limit the host cannot enforce: an error, unless it is casemate's own
 * default (then skipped with a warning: the user did not ask for it, but
 * should know the container is not contained). */
static int missing(const struct cm_cgroup *cg, const char *flag, const char *ctrl, bool is_default,
                   struct cm_error *err)
{
    if (is_default) {
        cm_warn("the %s cgroup controller is not available here%s%s%s: casemate's default %s limit "
                "is not applied (give casemate a delegated cgroup with --cgroup-parent)",
                ctrl, cg->v2_note[0] ? " (" : "", cg->v2_note, cg->v2_note[0] ? ")" : "", flag);
        return 0;
    }
    return cm_err_set(err, 0, "cannot apply %s: the %s cgroup controller is not available on this host%s%s",
                      flag, ctrl, cg->v2_note[0] ? " (" : "", cg->v2_note[0] ? cg->v2_note : "");
}

static int apply_memory(struct cm_cgroup *cg, const struct cm_resources *res, bool creating,
                        struct cm_error *err)
{
    int64_t limit = res->memory_limit;
    int64_t swap = res->memory_swap;
    /* 0 means "not given", as in Docker: never a zero-byte limit. */
    bool set_limit = limit != CM_RES_KEEP && limit != 0;
    bool set_res = res->memory_reservation >= 0;
    if (swap >= 0 && set_limit && limit > 0 && swap < limit)
        return cm_err_set(err, 0, "--memory-swap (%" PRId64 ") must be at least --memory (%" PRId64 ")",
                          swap, limit);
    /* Docker: --memory without --memory-swap allows as much swap again. */
    if (swap == -2 && creating && set_limit && limit > 0)
        swap = limit > INT64_MAX / 2 ? -1 : 2 * limit;
    bool set_swap = swap != -2;
    bool explicit_swap = res->memory_swap != -2;
    if (!set_limit && !set_swap && !set_res)
        return 0;
    struct cg_hier *h = find_ctrl(cg, "memory");
    if (!h) {
        if (set_limit && limit != -1 &&
            missing(cg, "-m/--memory", "memory", creating && limit == CM_DEFAULT_MEMORY_LIMIT, err) < 0)
            return -1;
        if (set_res && missing(cg, "--memory-reservation", "memory", false, err) < 0)
            return -1;
        if (explicit_swap && swap != -1 && missing(cg, "--memory-swap", "memory", false, err) < 0)
            return -1;
        return 0;
    }
    if (h->version == 1) {
        bool have_memsw = cg_has(h->dir, "memory.memsw.limit_in_bytes");
        if (set_swap && !have_memsw) {
            if (explicit_swap && swap != -1)
                return cm_err_set(err, 0, "cannot apply --memory-swap: swap accounting is not enabled "
                                          "(no memory.memsw.limit_in_bytes; boot with swapaccount=1)");
            set_swap = false;
        }
        if (set_swap) {
            /* memsw must stay >= the memory limit at every step: when the
             * kernel refuses the new memsw (EINVAL, below the current
             * limit), lower the limit first. */
            char v[32];
            snprintf(v, sizeof(v), "%" PRId64, swap < 0 ? -1 : swap);
            if (cg_write_raw(h->dir, "memory.memsw.limit_in_bytes", v) < 0) {
                if (errno != EINVAL || !set_limit)
                    return cm_err_sys(err, "setting --memory-swap: writing %s to %s/memory.memsw.limit_in_bytes",
                                      v, h->dir);
                if (cg_write_i64(h->dir, "memory.limit_in_bytes", limit < 0 ? -1 : limit, err) < 0)
                    return cm_err_prefix(err, "setting -m/--memory");
                set_limit = false;
                if (cg_write(h->dir, "memory.memsw.limit_in_bytes", v, err) < 0)
                    return cm_err_prefix(err, "setting --memory-swap");
            }
        }
        if (set_limit && cg_write_i64(h->dir, "memory.limit_in_bytes", limit < 0 ? -1 : limit, err) < 0)
            return cm_err_prefix(err, "setting -m/--memory");
        if (set_res && cg_write_i64(h->dir, "memory.soft_limit_in_bytes", res->memory_reservation, err) < 0)
            return cm_err_prefix(err, "setting --memory-reservation");
        return 0;
    }
    /* v2 counts swap apart from memory. */
    if (set_limit) {
        char v[32];
        if (limit < 0)
            snprintf(v, sizeof(v), "max");
        else
            snprintf(v, sizeof(v), "%" PRId64, limit);
        if (cg_write(h->dir, "memory.max", v, err) < 0)
            return cm_err_prefix(err, "setting -m/--memory");
    }
    if (set_swap) {
        if (!cg_has(h->dir, "memory.swap.max")) {
            if (explicit_swap && swap != -1)
                return cm_err_set(err, 0, "cannot apply --memory-swap: the kernel has no memory.swap.max");
        } else {
            char v[32];
            if (swap < 0)
                snprintf(v, sizeof(v), "max");
            else if (limit > 0 && set_limit)
                snprintf(v, sizeof(v), "%" PRId64, swap - limit);
            else
                snprintf(v, sizeof(v), "%" PRId64, swap);
            if (cg_write(h->dir, "memory.swap.max", v, err) < 0)
                return cm_err_prefix(err, "setting --memory-swap");
        }
    }
    if (set_res && cg_write_i64(h->dir, "memory.low", res->memory_reservation, err) < 0)
        return cm_err_prefix(err, "setting --memory-reservation");
    return 0;
}

/* cpu.shares (2..262144) to cpu.weight (1..10000), linearly, as crun does. */
static uint64_t shares_to_weight(uint64_t shares)
{
    if (shares < 2)
        shares = 2;
    if (shares > 262144)
        shares = 262144;
    return 1 + ((shares - 2) * 9999) / 262142;
}

static int apply_cpu(struct cm_cgroup *cg, const struct cm_resources *res, struct cm_error *err)
{
    bool set_quota = res->cpu_quota != CM_RES_KEEP && res->cpu_quota != 0;
    bool set_period = res->cpu_period != 0;
    bool set_shares = res->cpu_shares != 0;
    if (!set_quota && !set_period && !set_shares)
        return 0;
    struct cg_hier *h = find_ctrl(cg, "cpu");
    if (!h) {
        if ((set_quota && res->cpu_quota > 0) || set_period)
            return missing(cg, "--cpus", "cpu", false, err);
        if (set_shares)
            return missing(cg, "--cpu-shares", "cpu", false, err);
        return 0;
    }
    if (h->version == 1) {
        if (set_period && cg_write_i64(h->dir, "cpu.cfs_period_us", (int64_t)res->cpu_period, err) < 0)
            return cm_err_prefix(err, "setting --cpus");
        if (set_quota && cg_write_i64(h->dir, "cpu.cfs_quota_us", res->cpu_quota < 0 ? -1 : res->cpu_quota, err) < 0)
            return cm_err_prefix(err, "setting --cpus");
        if (set_shares && cg_write_i64(h->dir, "cpu.shares", (int64_t)res->cpu_shares, err) < 0)
            return cm_err_prefix(err, "setting --cpu-shares");
        return 0;
    }
    if (set_quota || set_period) {
        /* cpu.max holds both: keep the half not being changed. */
        char quota[32] = "max";
        uint64_t period = CG_DEFAULT_PERIOD;
        _cleanup_free_ char *cur = cg_read(h->dir, "cpu.max");
        if (cur) {
            char q[32];
            unsigned long long p;
            if (sscanf(cur, "%31s %llu", q, &p) == 2) {
                snprintf(quota, sizeof(quota), "%s", q);
                period = p;
            }
        }
        if (set_quota) {
            if (res->cpu_quota < 0)
                snprintf(quota, sizeof(quota), "max");
            else
                snprintf(quota, sizeof(quota), "%" PRId64, res->cpu_quota);
        }
        if (set_period)
            period = res->cpu_period;
        char v[64];
        snprintf(v, sizeof(v), "%s %" PRIu64, quota, period);
        if (cg_write(h->dir, "cpu.max", v, err) < 0)
            return cm_err_prefix(err, "setting --cpus");
    }
    if (set_shares &&
        cg_write_i64(h->dir, "cpu.weight", (int64_t)shares_to_weight(res->cpu_shares), err) < 0)
        return cm_err_prefix(err, "setting --cpu-shares");
    return 0;
}

static int apply_cpuset(struct cm_cgroup *cg, const struct cm_resources *res, struct cm_error *err)
{
    if (!res->cpuset_cpus && !res->cpuset_mems)
        return 0;
    struct cg_hier *h = find_ctrl(cg, "cpuset");
    if (!h)
        return missing(cg, res->cpuset_cpus ? "--cpuset-cpus" : "--cpuset-mems", "cpuset", false, err);
    if (res->cpuset_cpus && cg_write(h->dir, "cpuset.cpus", res->cpuset_cpus, err) < 0)
        return cm_err_prefix(err, "setting --cpuset-cpus %s", res->cpuset_cpus);
    if (res->cpuset_mems && cg_write(h->dir, "cpuset.mems", res->cpuset_mems, err) < 0)
        return cm_err_prefix(err, "setting --cpuset-mems %s", res->cpuset_mems);
    return 0;
}

static int apply_pids(struct cm_cgroup *cg, const struct cm_resources *res, bool creating,
                      struct cm_error *err)
{
    if (res->pids_limit == CM_RES_KEEP)
        return 0;
    struct cg_hier *h = find_ctrl(cg, "pids");
    if (!h) {
        if (res->pids_limit <= 0)
            return 0;
        return missing(cg, "--pids-limit", "pids", creating && res->pids_limit == CM_DEFAULT_PIDS_LIMIT, err);
    }
    char v[32];
    if (res->pids_limit <= 0) /* 0 is unlimited too, as in Docker */
        snprintf(v, sizeof(v), "max");
    else
        snprintf(v, sizeof(v), "%" PRId64, res->pids_limit);
    if (cg_write(h->dir, "pids.max", v, err) < 0)
        return cm_err_prefix(err, "setting --pids-limit");
    return 0;
}

static int apply_blkio(struct cm_cgroup *cg, const struct cm_resources *res, struct cm_error *err)
{
    if (!res->blkio_weight)
        return 0;
    if (res->blkio_weight < 10 || res->blkio_weight > 1000)
        return cm_err_set(err, 0, "invalid --blkio-weight %u: must be between 10 and 1000", res->blkio_weight);
    struct cg_hier *h = find_ctrl(cg, cg->layout == CM_CGROUP_V2 ? "io" : "blkio");
    if (!h)
        h = find_ctrl(cg, "io");
    if (!h)
        return missing(cg, "--blkio-weight", "blkio/io", false, err);
    static const char *const v1_files[] = {"blkio.weight", "blkio.bfq.weight"};
    static const char *const v2_files[] = {"io.bfq.weight", "io.weight"};
    const char *const *files = h->version == 1 ? v1_files : v2_files;
    for (size_t i = 0; i < 2; i++) {
        if (!cg_has(h->dir, files[i]))
            continue;
        if (cg_write_i64(h->dir, files[i], res->blkio_weight, err) < 0)
            return cm_err_prefix(err, "setting --blkio-weight");
        return 0;
    }
    return cm_err_set(err, 0, "cannot apply --blkio-weight %u: the kernel offers neither %s nor %s "
                              "(no CFQ/BFQ I/O scheduler weight support)",
                      res->blkio_weight, files[0], files[1]);
}

static int apply_all(struct cm_cgroup *cg, const struct cm_resources *res, bool creating,
                     struct cm_error *err)
{
    if (apply_memory(cg, res, creating, err) < 0 || apply_cpu(cg, res, err) < 0 ||
        apply_cpuset(cg, res, err) < 0 || apply_pids(cg, res, creating, err) < 0 ||
        apply_blkio(cg, res, err) < 0)
        return -1;
    return 0;
}

int cm_cgroup_update(struct cm_cgroup *cg, const struct cm_resources *res, struct cm_error *err)
{
    if (!cg || !res)
        return cm_err_set(err, EINVAL, "updating cgroup limits");
    return apply_all(cg, res, false, err);
}

/* ---- creation ---- */

/* A v1 cpuset cgroup starts with empty cpus and mems, and no task can join
 * it until they are set: inherit the parent's. */
static int cpuset_init(const char *dir, struct cm_error *err)
{
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    _cleanup_free_ char *parent = strdup(dir);
    if (!parent)
        return cm_err_set(err, ENOMEM, "initialising cpuset");
    char *slash = strrchr(parent, '/');
    if (!slash || slash == parent)
        return 0;
    *slash = '\0';
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        _cleanup_free_ char *cur = cg_read(dir, files[i]);
        if (!cur)
            return cm_err_sys(err, "reading %s/%s", dir, files[i]);
        if (cur[0] != '\n' && cur[0] != '\0')
            continue;
        _cleanup_free_ char *val = cg_read(parent, files[i]);
        if (!val)
            return cm_err_sys(err, "reading %s/%s", parent, files[i]);
        val[strcspn(val, "\n")] = '\0';
        if (!val[0])
            return cm_err_set(err, 0, "cannot initialise %s/%s: the parent's is empty", dir, files[i]);
        if (cg_write(dir, files[i], val, err) < 0)
            return -1;
    }
    return 0;
}

/* mkdir -p of `path` below `start` (which must exist). The last component
 * must not exist yet (it is the container's). */
static int make_dirs(const char *start, const char *path, bool cpuset, struct cm_error *err)
{
    size_t slen = strlen(start);
    _cleanup_free_ char *p = strdup(path);
    if (!p)
        return cm_err_set(err, ENOMEM, "creating cgroup %s", path);
    for (char *s = p + slen; s && *s;) {
        char *next = strchr(s + 1, '/');
        if (next)
            *next = '\0';
        bool last = !next;
        if (mkdir(p, 0755) < 0) {
            if (errno != EEXIST || last) {
                if (errno == EEXIST)
                    return cm_err_set(err, EEXIST, "creating cgroup %s", p);
                return cm_err_sys(err, "creating cgroup %s", p);
            }
        }
        if (cpuset && cpuset_init(p, err) < 0)
            return -1;
        if (next)
            *next = '/';
        s = next;
    }
    return 0;
}

/* Enable the controllers casemate uses in every subtree_control from `start`
 * down to the parent of `dir`; what cannot be enabled is left out (and a
 * limit that needs it fails later, naming it). */
static void v2_enable(struct cm_cgroup *cg, const char *start, const char *dir)
{
    _cleanup_free_ char *p = strdup(dir);
    if (!p)
        return;
    char *last = strrchr(p, '/');
    if (!last)
        return;
    *last = '\0'; /* p = parent of the container's directory */
    size_t slen = strlen(start);
    for (char *s = p + slen;;) {
        char save = *s;
        *s = '\0';
        _cleanup_free_ char *avail = cg_read(p[0] ? p : "/", "cgroup.controllers");
        _cleanup_free_ char *on = cg_read(p[0] ? p : "/", "cgroup.subtree_control");
        for (size_t i = 0; avail && on && i < ARRAY_SIZE(v2_wanted); i++) {
            if (!list_has(avail, v2_wanted[i]) || list_has(on, v2_wanted[i]))
                continue;
            char v[32];
            snprintf(v, sizeof(v), "+%s", v2_wanted[i]);
            if (cg_write_raw(p, "cgroup.subtree_control", v) < 0 && !cg->v2_note[0]) {
                /* EBUSY: cgroup v2 lets a cgroup with processes of its own
                 * hand no domain controller to its children. */
                if (errno == EBUSY)
                    snprintf(cg->v2_note, sizeof(cg->v2_note),
                             "%s cannot delegate it: that cgroup has processes of its own; run casemate "
                             "from a cgroup without other processes or give --cgroup-parent)",
                             p);
                else
                    snprintf(cg->v2_note, sizeof(cg->v2_note), "enabling it in %s/cgroup.subtree_control: %s)",
                             p, strerror(errno));
            }
        }
        *s = save;
        if (!save)
            break;
        char *next = strchr(s + 1, '/');
        s = next ? next : s + strlen(s);
    }
}

static int valid_parent(const char *parent, struct cm_error *err)
{
    if (strstr(parent, "..") || strchr(parent, ';') || strchr(parent, '\n') || strchr(parent, ':'))
        return cm_err_set(err, 0, "invalid --cgroup-parent \"%s\": must be a cgroup path without \"..\", "
                                  "\":\" or \";\" (systemd slice notation is not supported)",
                          parent);
    return 0;
}

static int valid_id(const char *id, struct cm_error *err)
{
    size_t n = id ? strlen(id) : 0;
    if (!n || n > 128 || !isalnum((unsigned char)id[0]))
        goto bad;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && !strchr("_.-", id[i]))
            goto bad;
    return 0;
bad:
    return cm_err_set(err, 0, "invalid container id \"%s\" for a cgroup name", id ? id : "");
}

/* `exact`: `parent` is an OCI cgroupsPath: the engine's cgroup for this
 * container (where it reads stats, hierarchically); casemate-<id>-<pid> goes
 * in it as everywhere, and it is removed with the container, as runc does. */
static int create_on(const struct cg_host *host, const char *id, const char *parent, bool exact,
                     const struct cm_resources *res, struct cm_cgroup **out, struct cm_error *err)
{
    if (valid_id(id, err) < 0)
        return -1;
    if (parent && *parent && valid_parent(parent, err) < 0)
        return -1;
    _cleanup_(cg_destroyp) struct cm_cgroup *cg = calloc(1, sizeof(*cg));
    if (!cg)
        return cm_err_set(err, ENOMEM, "creating cgroup");
    cg->layout = host->layout;
    cg->rm_parent = exact;
    char name[256];
    snprintf(name, sizeof(name), "casemate-%s-%d", id, (int)getpid());

    for (size_t i = 0; i < host->n; i++) {
        const struct cg_mount *m = &host->m[i];
        _cleanup_free_ char *start = NULL, *dir = NULL;
        /* An absolute parent is taken from the hierarchy's root, a relative
         * one from our own cgroup. */
        bool abs = parent && parent[0] == '/';
        if (asprintf(&start, "%s%s", m->mount, abs ? "" : m->own) < 0)
            return cm_err_set(err, ENOMEM, "creating cgroup");
        const char *rel = parent && *parent ? parent + (abs ? 1 : 0) : "";
        size_t rlen = strlen(rel);
        while (rlen && rel[rlen - 1] == '/')
            rlen--;
        if (asprintf(&dir, "%s/%.*s%s%s", start, (int)rlen, rel, rlen ? "/" : "", name) < 0)
            return cm_err_set(err, ENOMEM, "creating cgroup");
        struct cg_hier *h = &cg->h[cg->n];
        h->version = m->version;
        h->controllers = strdup(m->version == 1 ? m->controllers : "");
        if (!h->controllers)
            return cm_err_set(err, ENOMEM, "creating cgroup");
        int r = make_dirs(start, dir, m->version == 1 && list_has(m->controllers, "cpuset"), err);
        if (r < 0 && err->errnum != EEXIST) {
            /* The directory may be half made: let destroy remove it. */
            if (access(dir, F_OK) == 0) {
                h->dir = TAKE_PTR(dir);
                cg->n++;
            } else {
                free(h->controllers);
                h->controllers = NULL;
            }
            return -1;
        }
        if (r < 0) {
            free(h->controllers);
            h->controllers = NULL;
            return cm_err_prefix(err, "a cgroup for container %s already exists", id);
        }
        h->dir = TAKE_PTR(dir);
        cg->n++;
        if (m->version == 2) {
            v2_enable(cg, start, h->dir);
            char *c = cg_read(h->dir, "cgroup.controllers");
            if (!c)
                return cm_err_sys(err, "reading %s/cgroup.controllers", h->dir);
            c[strcspn(c, "\n")] = '\0';
            free(h->controllers);
            h->controllers = c;
        }
    }
    if (res && apply_all(cg, res, true, err) < 0)
        return -1;
    *out = TAKE_PTR(cg);
    return 0;
}

int cm_cgroup_create(const char *id, const char *parent, const struct cm_resources *res,
                     struct cm_cgroup **out, struct cm_error *err)
{
    struct cg_host host;
    if (host_detect(&host, NULL, err) < 0)
        return cm_err_prefix(err, "creating the cgroup of container %s", id ? id : "");
    int r = create_on(&host, id, parent, false, res, out, err);
    host_free(&host);
    return r;
}

int cm_cgroup_create_exact(const char *id, const char *path, const struct cm_resources *res,
                           struct cm_cgroup **out, struct cm_error *err)
{
    if (!path || !*path)
        return cm_err_set(err, 0, "creating the cgroup of container %s: empty cgroupsPath", id);
    struct cg_host host;
    if (host_detect(&host, NULL, err) < 0)
        return cm_err_prefix(err, "creating the cgroup of container %s", id ? id : "");
    int r = create_on(&host, id, path, true, res, out, err);
    host_free(&host);
    return r;
}

int cm_cgroup_create_v2_at(const char *v2_mount, const char *id, const char *parent,
                           const struct cm_resources *res, struct cm_cgroup **out,
                           struct cm_error *err)
{
    struct cg_host host;
    if (host_detect(&host, v2_mount, err) < 0)
        return -1;
    host.layout = CM_CGROUP_V2;
    int r = create_on(&host, id, parent, false, res, out, err);
    host_free(&host);
    return r;
}

int cm_cgroup_add_pid(struct cm_cgroup *cg, pid_t pid, struct cm_error *err)
{
    char v[32];
    snprintf(v, sizeof(v), "%d", (int)pid);
    for (size_t i = 0; i < cg->n; i++) {
        if (cg_write_raw(cg->h[i].dir, "cgroup.procs", v) < 0) {
            if (errno == ENOSPC && list_has(cg->h[i].controllers, "cpuset"))
                return cm_err_sys(err, "moving pid %d into %s (cpuset.cpus or cpuset.mems is empty)",
                                  (int)pid, cg->h[i].dir);
            return cm_err_sys(err, "moving pid %d into %s", (int)pid, cg->h[i].dir);
        }
    }
    return 0;
}

/* ---- freezer ---- */

static int wait_state(const char *dir, const char *file, const char *key, const char *want,
                      const char *rewrite, struct cm_error *err)
{
    uint64_t deadline = now_ms() + 5000;
    long delay = 1;
    for (;;) {
        bool ok;
        if (key) {
            uint64_t v = 0;
            ok = cg_read_key(dir, file, key, &v) == 0 && v == strtoull(want, NULL, 10);
        } else {
            _cleanup_free_ char *s = cg_read(dir, file);
            ok = s && !strncmp(s, want, strlen(want)) &&
                 (s[strlen(want)] == '\n' || s[strlen(want)] == '\0');
        }
        if (ok)
            return 0;
        if (now_ms() > deadline)
            return cm_err_set(err, ETIMEDOUT, "waiting for %s/%s to read %s", dir, file, want);
        /* v1 can stay FREEZING when a task is in an uninterruptible sleep:
         * asking again retries the tasks that were missed. */
        if (rewrite)
            cg_write_raw(dir, file, rewrite);
        sleep_ms(delay);
        if (delay < 50)
            delay *= 2;
    }
}

int cm_cgroup_freeze(struct cm_cgroup *cg, bool frozen, struct cm_error *err)
{
    struct cg_hier *h = find_ctrl(cg, "freezer");
    if (h && h->version == 1) {
        const char *want = frozen ? "FROZEN" : "THAWED";
        if (cg_write(h->dir, "freezer.state", want, err) < 0)
            return cm_err_prefix(err, frozen ? "pausing the container" : "resuming the container");
        if (wait_state(h->dir, "freezer.state", NULL, want, frozen ? want : NULL, err) < 0) {
            if (frozen)
                cg_write_raw(h->dir, "freezer.state", "THAWED");
            return cm_err_prefix(err, frozen ? "pausing the container" : "resuming the container");
        }
        return 0;
    }
    h = find_v2(cg);
    if (!h || !cg_has(h->dir, "cgroup.freeze"))
        return cm_err_set(err, 0, "cannot %s the container: no freezer (neither the v1 freezer controller nor cgroup.freeze)",
                          frozen ? "pause" : "resume");
    if (cg_write(h->dir, "cgroup.freeze", frozen ? "1" : "0", err) < 0 ||
        wait_state(h->dir, "cgroup.events", "frozen", frozen ? "1" : "0", NULL, err) < 0) {
        if (frozen)
            cg_write_raw(h->dir, "cgroup.freeze", "0");
        return cm_err_prefix(err, frozen ? "pausing the container" : "resuming the container");
    }
    return 0;
}

/* ---- statistics ---- */

static void blkio_v1(const char *dir, uint64_t *rd, uint64_t *wr)
{
    _cleanup_free_ char *s = cg_read(dir, "blkio.throttle.io_service_bytes_recursive");
    for (char *line = s; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char dev[64], op[16];
        unsigned long long v;
        if (sscanf(line, "%63s %15s %llu", dev, op, &v) == 3) {
            if (!strcmp(op, "Read"))
                *rd += v;
            else if (!strcmp(op, "Write"))
                *wr += v;
        }
        line = nl ? nl + 1 : NULL;
    }
}

static void blkio_v2(const char *dir, uint64_t *rd, uint64_t *wr)
{
    _cleanup_free_ char *s = cg_read(dir, "io.stat");
    for (char *line = s; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        for (char *save = NULL, *tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
            if (!strncmp(tok, "rbytes=", 7))
                *rd += strtoull(tok + 7, NULL, 10);
            else if (!strncmp(tok, "wbytes=", 7))
                *wr += strtoull(tok + 7, NULL, 10);
        }
        line = nl ? nl + 1 : NULL;
    }
}

static uint64_t oom_kills(const struct cm_cgroup *cg, bool *under_oom)
{
    uint64_t v = 0;
    *under_oom = false;
    struct cg_hier *h = find_ctrl(cg, "memory");
    if (!h)
        return 0;
    if (h->version == 2) {
        if (cg_read_key(h->dir, "memory.events", "oom_kill", &v) < 0)
            return 0;
        return v;
    }
    uint64_t u = 0;
    if (cg_read_key(h->dir, "memory.oom_control", "under_oom", &u) == 0 && u)
        *under_oom = true;
    if (cg_read_key(h->dir, "memory.oom_control", "oom_kill", &v) == 0)
        return v;
    /* Kernels before 4.13 have no oom_kill count: hitting the limit of
     * memory+swap is the best sign left. */
    uint64_t fail = 0;
    if (cg_read_u64(h->dir, "memory.memsw.failcnt", &fail) == 0 && fail)
        *under_oom = true;
    return 0;
}

int cm_cgroup_stats(struct cm_cgroup *cg, struct cm_cgroup_stats *st, struct cm_error *err)
{
    if (!cg || !st)
        return cm_err_set(err, EINVAL, "reading cgroup statistics");
    memset(st, 0, sizeof(*st));
    st->memory_limit = UINT64_MAX;
    st->pids_limit = UINT64_MAX;
    bool any = false;

    struct cg_hier *h = find_ctrl(cg, "cpuacct");
    uint64_t v = 0;
    if (h && h->version == 1 && cg_read_u64(h->dir, "cpuacct.usage", &v) == 0) {
        st->cpu_usage_ns = v;
        any = true;
    } else if ((h = find_v2(cg)) && cg_read_key(h->dir, "cpu.stat", "usage_usec", &v) == 0) {
        st->cpu_usage_ns = v * 1000;
        any = true;
    }

    if ((h = find_ctrl(cg, "memory"))) {
        bool v1 = h->version == 1;
        uint64_t usage = 0, inactive = 0, limit = 0;
        if (cg_read_u64(h->dir, v1 ? "memory.usage_in_bytes" : "memory.current", &usage) == 0) {
            any = true;
            if (cg_read_key(h->dir, "memory.stat", v1 ? "total_inactive_file" : "inactive_file",
                            &inactive) == 0 && inactive < usage)
                usage -= inactive;
            st->memory_usage = usage;
        }
        if (cg_read_u64(h->dir, v1 ? "memory.limit_in_bytes" : "memory.max", &limit) == 0)
            st->memory_limit = limit >= CG_V1_UNLIMITED ? UINT64_MAX : limit;
    }
    if ((h = find_ctrl(cg, "pids"))) {
        if (cg_read_u64(h->dir, "pids.current", &v) == 0) {
            st->pids_current = v;
            any = true;
        }
        if (cg_read_u64(h->dir, "pids.max", &v) == 0)
            st->pids_limit = v;
    }
    if ((h = find_ctrl(cg, "blkio")) && h->version == 1)
        blkio_v1(h->dir, &st->blkio_read, &st->blkio_write);
    else if ((h = find_ctrl(cg, "io")))
        blkio_v2(h->dir, &st->blkio_read, &st->blkio_write);
    bool under = false;
    st->oom_kills = oom_kills(cg, &under);
    if (!any)
        return cm_err_sys(err, "reading cgroup statistics of %s", cg->n ? cg->h[0].dir : "?");
    return 0;
}

bool cm_cgroup_oom_killed(struct cm_cgroup *cg)
{
    if (!cg)
        return false;
    bool under = false;
    return oom_kills(cg, &under) > 0 || under;
}

/* ---- processes ---- */

typedef int (*pid_fn)(pid_t pid, void *ctx);

/* Call fn on every pid of `dir` and its descendants; returns how many. */
static long walk_pids(const char *dir, pid_fn fn, void *ctx, int depth)
{
    long count = 0;
    _cleanup_free_ char *s = cg_read(dir, "cgroup.procs");
    for (char *line = s; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        long pid = strtol(line, NULL, 10);
        if (pid > 0) {
            count++;
            if (fn && fn((pid_t)pid, ctx) < 0)
                return -1;
        }
        line = nl ? nl + 1 : NULL;
    }
    if (depth > 32)
        return count;
    _cleanup_closedir_ DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_type != DT_DIR || e->d_name[0] == '.')
            continue;
        _cleanup_free_ char *sub = NULL;
        if (asprintf(&sub, "%s/%s", dir, e->d_name) < 0)
            return -1;
        long c = walk_pids(sub, fn, ctx, depth + 1);
        if (c < 0)
            return -1;
        count += c;
    }
    return count;
}

struct pid_list {
    pid_t *v;
    size_t n, cap;
};

static int collect(pid_t pid, void *ctx)
{
    struct pid_list *l = ctx;
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] == pid)
            return 0; /* the same process seen in another hierarchy */
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        pid_t *nv = realloc(l->v, cap * sizeof(*nv));
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = pid;
    return 0;
}

int cm_cgroup_pids(struct cm_cgroup *cg, pid_t **pids, size_t *n, struct cm_error *err)
{
    struct pid_list l = {0};
    struct cg_hier *h = find_ctrl(cg, "pids");
    if (!h)
        h = cg->n ? &cg->h[0] : NULL;
    if (h && walk_pids(h->dir, collect, &l, 0) < 0) {
        free(l.v);
        return cm_err_set(err, ENOMEM, "listing the processes of %s", h->dir);
    }
    *pids = l.v;
    *n = l.n;
    return 0;
}

static int sigkill(pid_t pid, void *ctx)
{
    (void)ctx;
    if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
        cm_debug("cgroup: cannot kill pid %d: %s", (int)pid, strerror(errno));
    return 0;
}

/* SIGKILL until no pid is left in any hierarchy; bounded. */
static int kill_all(struct cm_cgroup *cg, struct cm_error *err)
{
    struct cg_hier *v2 = find_v2(cg);
    bool have_kill = v2 && cg_has(v2->dir, "cgroup.kill");
    struct cg_hier *fz = find_ctrl(cg, "freezer");
    uint64_t deadline = now_ms() + 10000;
    long delay = 1;
    for (;;) {
        if (have_kill && cg_write_raw(v2->dir, "cgroup.kill", "1") < 0 && errno != ENOENT)
            cm_debug("cgroup: writing cgroup.kill in %s: %s", v2->dir, strerror(errno));
        long left = 0;
        for (size_t i = 0; i < cg->n; i++) {
            long c = walk_pids(cg->h[i].dir, have_kill ? NULL : sigkill, NULL, 0);
            if (c > 0)
                left += c;
            /* cgroup.kill only covers the v2 tree: another hierarchy may
             * hold a pid that escaped it. */
            if (c > 0 && have_kill && cg->h[i].version == 1)
                walk_pids(cg->h[i].dir, sigkill, NULL, 0);
        }
        if (!left)
            return 0;
        /* A frozen task does not die until thawed. */
        if (fz && fz->version == 1)
            cg_write_raw(fz->dir, "freezer.state", "THAWED");
        if (v2 && cg_has(v2->dir, "cgroup.freeze"))
            cg_write_raw(v2->dir, "cgroup.freeze", "0");
        if (now_ms() > deadline)
            return cm_err_set(err, ETIMEDOUT, "killing the processes of cgroup %s: %ld still there after 10 s",
                              cg->h[0].dir, left);
        sleep_ms(delay);
        if (delay < 20)
            delay *= 2;
    }
}

/* Remove `dir` and the cgroups below it, deepest first. */
static int rm_tree(const char *dir, int depth, struct cm_error *err)
{
    if (depth < 32) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
            return errno == ENOENT ? 0 : cm_err_sys(err, "opening cgroup %s", dir);
        for (struct dirent *e; (e = readdir(d));) {
            if (e->d_type != DT_DIR || e->d_name[0] == '.')
                continue;
            _cleanup_free_ char *sub = NULL;
            if (asprintf(&sub, "%s/%s", dir, e->d_name) < 0)
                return cm_err_set(err, ENOMEM, "removing cgroup %s", dir);
            if (rm_tree(sub, depth + 1, err) < 0)
                return -1;
        }
    }
    /* EBUSY for a moment after the last task exits, while the kernel
     * finishes tearing it down. */
    uint64_t deadline = now_ms() + 2000;
    while (rmdir(dir) < 0) {
        if (errno == ENOENT)
            return 0;
        if (errno != EBUSY || now_ms() > deadline)
            return cm_err_sys(err, "removing cgroup %s", dir);
        sleep_ms(10);
    }
    return 0;
}

int cm_cgroup_destroy(struct cm_cgroup *cg, struct cm_error *err)
{
    if (!cg)
        return 0;
    int r = kill_all(cg, err);
    for (size_t i = 0; i < cg->n; i++) {
        struct cm_error e2;
        if (rm_tree(cg->h[i].dir, 0, &e2) < 0 && r == 0) {
            *err = e2;
            r = -1;
        }
        if (cg->rm_parent) {
            /* Best effort: anything else still in it keeps it. */
            char *slash = strrchr(cg->h[i].dir, '/');
            if (slash && slash != cg->h[i].dir) {
                *slash = '\0';
                rmdir(cg->h[i].dir);
                *slash = '/';
            }
        }
    }
    cg_free(cg);
    return r;
}

/* ---- garbage collection ---- */

static bool owner_gone(const char *name)
{
    if (strncmp(name, "casemate-", 9))
        return false;
    const char *dash = strrchr(name, '-');
    if (!dash || dash < name + 9 || !dash[1])
        return false;
    char *end = NULL;
    long pid = strtol(dash + 1, &end, 10);
    if (*end || pid <= 0 || pid == getpid())
        return false;
    return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

void cm_cgroup_gc(void)
{
    struct cg_host host;
    struct cm_error err;
    if (host_detect(&host, NULL, &err) < 0)
        return;
    for (size_t i = 0; i < host.n; i++) {
        _cleanup_free_ char *base = NULL;
        if (asprintf(&base, "%s%s", host.m[i].mount, host.m[i].own) < 0)
            continue;
        _cleanup_closedir_ DIR *d = opendir(base);
        for (struct dirent *e; d && (e = readdir(d));) {
            if (e->d_type != DT_DIR || !owner_gone(e->d_name))
                continue;
            _cleanup_free_ char *dir = NULL;
            if (asprintf(&dir, "%s/%s", base, e->d_name) < 0)
                continue;
            /* Never kill here: a cgroup with processes may belong to a
             * detached container whose supervisor is still to come. */
            if (walk_pids(dir, NULL, NULL, 0) != 0)
                continue;
            if (rm_tree(dir, 0, &err) < 0)
                cm_debug("cgroup gc: %s", err.msg);
            else
                cm_debug("cgroup gc: removed %s", dir);
        }
    }
    host_free(&host);
}

/* ---- parsing and formatting for the flag parser ---- */

/* Parse a non-negative decimal "12" or "1.5" into an integer scaled by
 * `scale`, rounding down. */
static int parse_decimal(const char *s, const char **end, uint64_t scale, uint64_t *out)
{
    uint64_t whole = 0;
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return -1;
    while (isdigit((unsigned char)*p)) {
        if (whole > (UINT64_MAX - 9) / 10)
            return -1;
        whole = whole * 10 + (uint64_t)(*p++ - '0');
    }
    if (whole && whole > UINT64_MAX / scale)
        return -1;
    uint64_t v = whole * scale;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        uint64_t div = 1, frac = 0;
        while (isdigit((unsigned char)*p)) {
            if (div < 1000000000ULL) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                div *= 10;
            }
            p++;
        }
        /* frac/div * scale, without overflow for scales up to 2^50 */
        uint64_t add = (scale / div) * frac + ((scale % div) * frac) / div;
        if (v > UINT64_MAX - add)
            return -1;
        v += add;
    }
    *end = p;
    *out = v;
    return 0;
}

int cm_parse_size(const char *s, int64_t *out, struct cm_error *err)
{
    if (!s || !*s)
        return cm_err_set(err, 0, "invalid size \"\": expected a number with an optional unit (b, k, m, g, t)");
    if (!strcmp(s, "-1")) {
        *out = -1;
        return 0;
    }
    static const struct {
        char unit;
        uint64_t scale;
    } units[] = {{'b', 1}, {'k', 1ULL << 10}, {'m', 1ULL << 20}, {'g', 1ULL << 30}, {'t', 1ULL << 40}, {'p', 1ULL << 50}};
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    /* Find the unit first: the scale is applied to the fraction too. */
    const char *q = p;
    while (isdigit((unsigned char)*q) || *q == '.')
        q++;
    uint64_t scale = 1;
    const char *u = q;
    while (isspace((unsigned char)*u))
        u++;
    if (*u) {
        char c = (char)tolower((unsigned char)*u);
        size_t i = 0;
        for (; i < ARRAY_SIZE(units); i++)
            if (units[i].unit == c)
                break;
        if (i == ARRAY_SIZE(units))
            goto bad;
        scale = units[i].scale;
        u++;
        /* accepted spellings: k, kb, kib (any case) */
        if (c != 'b' && (*u == 'i' || *u == 'I'))
            u++;
        if (c != 'b' && (*u == 'b' || *u == 'B'))
            u++;
        if (*u)
            goto bad;
    }
    uint64_t v;
    const char *end;
    if (parse_decimal(p, &end, scale, &v) < 0 || end != q)
        goto bad;
    if (v > (uint64_t)INT64_MAX)
        return cm_err_set(err, 0, "invalid size \"%s\": too large", s);
    *out = (int64_t)v;
    return 0;
bad:
    return cm_err_set(err, 0, "invalid size \"%s\": expected a number with an optional unit (b, k, m, g, t), e.g. 32m or 1.5g",
                      s);
}

int cm_parse_cpus(const char *s, int64_t *quota, uint64_t *period, struct cm_error *err)
{
    if (!s)
        s = "";
    if (!strcmp(s, "-1") || !strcmp(s, "0")) {
        *quota = -1;
        *period = CG_DEFAULT_PERIOD;
        return 0;
    }
    uint64_t nano;
    const char *end;
    if (parse_decimal(s, &end, 1000000000ULL, &nano) < 0 || *end)
        return cm_err_set(err, 0, "invalid --cpus \"%s\": expected a number of CPUs such as 0.5 or 2", s);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 1)
        ncpu = 1;
    /* The kernel's smallest quota is 1 ms per 100 ms period. */
    if (nano < 10000000ULL || nano > (uint64_t)ncpu * 1000000000ULL)
        return cm_err_set(err, 0, "invalid --cpus \"%s\": the range is 0.01 to %ld.00, as there %s only %ld CPU%s",
                          s, ncpu, ncpu == 1 ? "is" : "are", ncpu, ncpu == 1 ? "" : "s");
    *period = CG_DEFAULT_PERIOD;
    *quota = (int64_t)(nano * CG_DEFAULT_PERIOD / 1000000000ULL);
    return 0;
}

void cm_format_size(uint64_t bytes, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    size_t u = 0;
    uint64_t whole = bytes, rem = 0;
    while (whole >= 1024 && u + 1 < ARRAY_SIZE(units)) {
        rem = whole % 1024;
        whole /= 1024;
        u++;
    }
    unsigned tenth = (unsigned)(rem * 10 / 1024);
    if (tenth)
        snprintf(buf, len, "%" PRIu64 ".%u %s", whole, tenth, units[u]);
    else
        snprintf(buf, len, "%" PRIu64 " %s", whole, units[u]);
}
