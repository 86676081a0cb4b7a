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
    struct cg_hier h[CG_MAX_HIER];
    size_t n;
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
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
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

/* The v1 controller names the kernel knows (first column of /proc/cgroups). */
static bool is_v1_controller(const char *known, const char *opt)
{
    return list_has(known, opt);
}

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
                if (!strchr(tok, '=') && known && is_v1_controller(known, tok)) {
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
    size_t len = (size_t)snprintf(out, cap, "%s", cm_cgroup_layout_name(cg->layout));
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
 * default (then skipped: the user did not ask for it). */
static int missing(const char *flag, const char *ctrl, bool is_default, struct cm_error *err)
{
    if (is_default) {
        cm_debug("cgroup: %s controller not available: default %s not applied", ctrl, flag);
        return 0;
    }
    return cm_err_set(err, 0, "cannot apply %s: the %s cgroup controller is not available on this host",
                      flag, ctrl);
}

static int apply_memory(struct cm_cgroup *cg, const struct cm_resources *res, bool creating,
                        struct cm_error *err)
{
    int64_t limit = res->memory_limit;
    int64_t swap = res->memory_swap;
    bool set_limit = limit != CM_RES_KEEP;
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
            missing("-m/--memory", "memory", creating && limit == CM_DEFAULT_MEMORY_LIMIT, err) < 0)
            return -1;
        if (set_res && missing("--memory-reservation", "memory", false, err) < 0)
            return -1;
        if (explicit_swap && swap != -1 && missing("--memory-swap", "memory", false, err) < 0)
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
                    set_limit = false;
                    if (cg_write(h->dir, "memory.memsw.limit_in_bytes", v, err) < 0)
                        return cm_err_prefix(err, "setting --memory-swap");
                }
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
    bool set_quota = res->cpu_quota != CM_RES_KEEP;
    bool set_period = res->cpu_period != 0;
    bool set_shares = res->cpu_shares != 0;
    if (!set_quota && !set_period && !set_shares)
        return 0;
    struct cg_hier *h = find_ctrl(cg, "cpu");
    if (!h) {
        if ((set_quota && res->cpu_quota > 0) || set_period)
            return missing("--cpus", "cpu", false, err);
        if (set_shares)
            return missing("--cpu-shares", "cpu", false, err);
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
        return missing(res->cpuset_cpus ? "--cpuset-cpus" : "--cpuset-mems", "cpuset", false, err);
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
        if (res->pids_limit < 0)
            return 0;
        return missing("--pids-limit", "pids", creating && res->pids_limit == CM_DEFAULT_PIDS_LIMIT, err);
    }
    char v[32];
    if (res->pids_limit < 0)
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
