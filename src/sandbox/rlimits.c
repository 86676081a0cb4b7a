/* rlimits.c: --ulimit / OCI rlimits (prlimit) and oom_score_adj.
 *
 * Raising a hard limit, and lowering oom_score_adj below what it is, need
 * CAP_SYS_RESOURCE in the initial user namespace. When the host withheld it
 * (a nested container or a VM sandbox drops it from the bounding set), the
 * kernel only says EPERM; the messages here say why. */
#include "sandbox/rlimits.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "util/cleanup.h"

static const struct {
    const char *name;
    int resource;
} rlimit_names[] = {
    {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

int cm_rlimit_from_name(const char *name)
{
    if (!name)
        return -1;
    if (!strncasecmp(name, "RLIMIT_", 7))
        name += 7;
    for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
        if (!strcasecmp(name, rlimit_names[i].name))
            return rlimit_names[i].resource;
    return -1;
}

const char *cm_rlimit_name(int resource)
{
    for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
        if (rlimit_names[i].resource == resource)
            return rlimit_names[i].name;
    return "unknown";
}

static int parse_value(const char *s, size_t len, uint64_t *out)
{
    if ((len == 9 && !strncasecmp(s, "unlimited", 9)) || (len == 2 && !strncmp(s, "-1", 2))) {
        *out = RLIM_INFINITY;
        return 0;
    }
    if (!len || len > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]) || v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

int cm_rlimit_parse(const char *text, struct cm_rlimit *out, struct cm_error *err)
{
    const char *eq = text ? strchr(text, '=') : NULL;
    if (!eq)
        return cm_err_set(err, 0, "invalid --ulimit \"%s\": expected NAME=SOFT[:HARD], e.g. nofile=1024:2048",
                          text ? text : "");
    char name[32];
    if ((size_t)(eq - text) >= sizeof(name))
        return cm_err_set(err, 0, "invalid --ulimit \"%s\": unknown limit name", text);
    snprintf(name, sizeof(name), "%.*s", (int)(eq - text), text);
    int res = cm_rlimit_from_name(name);
    if (res < 0)
        return cm_err_set(err, 0, "invalid --ulimit \"%s\": unknown limit \"%s\" (known: as, core, cpu, data, "
                                  "fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, "
                                  "sigpending, stack)",
                          text, name);
    const char *v = eq + 1;
    const char *colon = strchr(v, ':');
    uint64_t soft, hard;
    if (parse_value(v, colon ? (size_t)(colon - v) : strlen(v), &soft) < 0 ||
        (colon && parse_value(colon + 1, strlen(colon + 1), &hard) < 0))
        return cm_err_set(err, 0, "invalid --ulimit \"%s\": values must be numbers or \"unlimited\"", text);
    if (!colon)
        hard = soft;
    if (soft > hard)
        return cm_err_set(err, 0, "invalid --ulimit \"%s\": the soft limit is above the hard limit", text);
    out->resource = res;
    out->soft = soft;
    out->hard = hard;
    return 0;
}

static void format_limit(uint64_t v, char *buf, size_t len)
{
    if (v == RLIM_INFINITY)
        snprintf(buf, len, "unlimited");
    else
        snprintf(buf, len, "%" PRIu64, v);
}

static bool bounding_has_sys_resource(void)
{
    return prctl(PR_CAPBSET_READ, CAP_SYS_RESOURCE, 0, 0, 0) == 1;
}

static bool in_initial_userns(void)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/uid_map", "re");
    unsigned long a, b, c;
    if (!f || fscanf(f, "%lu %lu %lu", &a, &b, &c) != 3)
        return true;
    return a == 0 && b == 0 && c == 4294967295UL;
}

/* Why setrlimit said EPERM, as a sentence. */
static int explain_eperm(const struct cm_rlimit *l, const struct rlimit *cur, struct cm_error *err)
{
    const char *name = cm_rlimit_name(l->resource);
    char want[32], have[32];
    format_limit(l->hard, want, sizeof(want));
    format_limit(cur->rlim_max, have, sizeof(have));
    if (l->resource == RLIMIT_NOFILE && l->hard != RLIM_INFINITY) {
        _cleanup_fclose_ FILE *f = fopen("/proc/sys/fs/nr_open", "re");
        unsigned long long nr_open = 0;
        if (f && fscanf(f, "%llu", &nr_open) == 1 && l->hard > nr_open)
            return cm_err_set(err, EPERM, "cannot raise hard nofile limit to %s: above the kernel's fs.nr_open (%llu)",
                              want, nr_open);
    }
    if (l->hard > cur->rlim_max) {
        if (!bounding_has_sys_resource())
            return cm_err_set(err, 0, "cannot raise hard %s limit to %s: casemate lacks CAP_SYS_RESOURCE on this "
                                      "host (current hard limit %s)",
                              name, want, have);
        if (!in_initial_userns())
            return cm_err_set(err, 0, "cannot raise hard %s limit to %s inside a user namespace: it needs "
                                      "CAP_SYS_RESOURCE in the initial namespace (current hard limit %s)",
                              name, want, have);
    }
    return cm_err_set(err, EPERM, "setting the %s limit to soft %" PRIu64 " hard %s (current hard limit %s)", name,
                      l->soft, want, have);
}

static int apply_one(pid_t pid, const struct cm_rlimit *l, struct cm_error *err)
{
    struct rlimit cur;
    if (prlimit(pid, (enum __rlimit_resource)l->resource, NULL, &cur) < 0)
        return cm_err_sys(err, "reading the %s limit", cm_rlimit_name(l->resource));
    /* Fail before the kernel does, with the reason. */
    if (l->hard > cur.rlim_max && !bounding_has_sys_resource())
        return explain_eperm(l, &cur, err);
    struct rlimit want = {.rlim_cur = l->soft, .rlim_max = l->hard};
    if (prlimit(pid, (enum __rlimit_resource)l->resource, &want, NULL) < 0) {
        if (errno == EPERM)
            return explain_eperm(l, &cur, err);
        if (errno == EINVAL)
            return cm_err_set(err, EINVAL, "setting the %s limit to soft %" PRIu64 " hard %" PRIu64,
                              cm_rlimit_name(l->resource), l->soft, l->hard);
        return cm_err_sys(err, "setting the %s limit", cm_rlimit_name(l->resource));
    }
    return 0;
}

int cm_rlimits_apply_pid(pid_t pid, const struct cm_rlimit *limits, size_t n, struct cm_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (apply_one(pid, &limits[i], err) < 0)
            return -1;
    return 0;
}

int cm_rlimits_apply(const struct cm_rlimit *limits, size_t n, struct cm_error *err)
{
    return cm_rlimits_apply_pid(0, limits, n, err);
}

int cm_oom_score_adj_apply(pid_t pid, int value, struct cm_error *err)
{
    if (value < -1000 || value > 1000)
        return cm_err_set(err, 0, "invalid --oom-score-adj %d: must be between -1000 and 1000", value);
    char path[64];
    if (pid)
        snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
    else
        snprintf(path, sizeof(path), "/proc/self/oom_score_adj");
    _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return cm_err_sys(err, "setting --oom-score-adj %d: opening %s", value, path);
    char cur[16] = "";
    ssize_t r = read(fd, cur, sizeof(cur) - 1);
    int current = r > 0 ? atoi(cur) : 0;
    char buf[16];
    int len = snprintf(buf, sizeof(buf), "%d", value);
    if (pwrite(fd, buf, (size_t)len, 0) != len) {
        /* The kernel refuses values below the lowest one a privileged
         * writer set (0 at boot) without CAP_SYS_RESOURCE. */
        if (errno == EACCES || errno == EPERM) {
            if (!bounding_has_sys_resource())
                return cm_err_set(err, 0, "cannot lower oom_score_adj to %d: casemate lacks CAP_SYS_RESOURCE on "
                                          "this host (current value %d)",
                                  value, current);
            return cm_err_set(err, errno, "cannot lower oom_score_adj to %d (current value %d): it needs "
                                          "CAP_SYS_RESOURCE in the initial user namespace",
                              value, current);
        }
        return cm_err_sys(err, "setting --oom-score-adj %d: writing %s", value, path);
    }
    return 0;
}
