/* passwd.c: --user resolution against the container's own /etc/passwd and
 * /etc/group, with the semantics of runc's user.GetExecUser (which Docker
 * uses): numeric ids need no entry, names must exist, supplementary groups
 * come from /etc/group only when the group is not given explicitly.
 *
 * Where runc is lax we are strict: a line whose uid or gid is not a number is
 * skipped (runc reads it as 0, i.e. root), ids above 2^32-2 are refused, and
 * lines of any length are read (runc's scanner fails past 64 KiB). Both files
 * are read through cm_read_file_in_root, so a hostile root whose /etc/passwd
 * is a symlink to the host's /etc/shadow reads its own file or nothing. */
#include "util/passwd.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/safepath.h"

/* Larger than any sane account database; bigger files are refused rather
 * than read partially (a truncated file could drop the user's entry). */
#define DB_MAX (16u * 1024 * 1024)
/* setgroups(2) refuses more than NGROUPS_MAX (65536 on Linux). */
#define GROUPS_MAX 65536
/* (uid_t)-1 means "unchanged" to setresuid: never a real id. */
#define ID_MAX 4294967294ULL

/* A whole file, or none (missing is not an error: numeric specs need none). */
struct db {
    char *buf;
    size_t len;
    bool present;
    char where[4200]; /* "<rootfs>/etc/passwd", for messages */
};

static void db_free(struct db *d) { free(d->buf); }
#define _cleanup_db_ _cleanup_(db_free)

/* The host path of the root, for messages only ("/" inside a container). */
static void describe_path(int rootfd, const char *path, char *out, size_t size)
{
    char link[32], root[4096];
    ssize_t n = readlink(cm_fd_path(rootfd, link), root, sizeof(root) - 1);
    if (n <= 0) {
        snprintf(out, size, "%s of the root filesystem", path);
        return;
    }
    root[n] = '\0';
    if (n == 1 && root[0] == '/')
        root[0] = '\0';
    snprintf(out, size, "%s%s", root, path);
}

static int db_load(int rootfd, const char *path, struct db *d, struct cm_error *err)
{
    struct cm_error rerr = {0};
    describe_path(rootfd, path, d->where, sizeof(d->where));
    /* Ask for one byte more than the limit to tell "exactly full" from
     * "too large". */
    if (cm_read_file_in_root(rootfd, path, DB_MAX + 1, &d->buf, &d->len, &rerr) < 0) {
        if (rerr.errnum == ENOENT || rerr.errnum == ENOTDIR)
            return 0;
        return cm_err_set(err, 0, "reading %s: %s", d->where, rerr.msg);
    }
    if (d->len > DB_MAX)
        return cm_err_set(err, 0, "reading %s: larger than %u bytes", d->where, DB_MAX);
    if (memchr(d->buf, '\0', d->len))
        return cm_err_set(err, 0, "reading %s: contains a NUL byte", d->where);
    d->present = true;
    return 0;
}

/* A decimal id in [0, 2^32-2]: digits only, no sign, no spaces. */
static int parse_id(const char *s, uint32_t *out)
{
    if (!*s || strlen(s) > 10)
        return -1;
    unsigned long long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (unsigned long long)(*p - '0');
    }
    if (v > ID_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* Split `line` in place at ':' into at most `max` fields; returns the count.
 * The last field keeps any further ':' (the shell or the member list never
 * holds one that matters). */
static size_t split_fields(char *line, char **fields, size_t max)
{
    size_t n = 0;
    fields[n++] = line;
    for (char *p = line; *p && n < max; p++) {
        if (*p == ':') {
            *p = '\0';
            fields[n++] = p + 1;
        }
    }
    return n;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Call `fn` for each well-formed line (name and numeric id present) with its
 * fields, until it returns non-zero. Comments, blank lines, NIS "+"/"-"
 * entries and lines with a non-numeric id are skipped. The buffer is cut
 * up in place, so each file is walked once. */
typedef int (*line_fn)(char **fields, size_t n, uint32_t id, void *ctx);

static int each_entry(struct db *d, size_t min_fields, size_t max_fields, line_fn fn, void *ctx)
{
    if (!d->present)
        return 0;
    char *p = d->buf, *end = d->buf + d->len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *next = nl ? nl + 1 : end;
        if (nl)
            *nl = '\0';
        char *line = trim(p);
        p = next;
        if (!*line || *line == '#' || *line == '+' || *line == '-')
            continue;
        char *fields[7] = {0};
        size_t n = split_fields(line, fields, max_fields);
        uint32_t id;
        if (n < min_fields || !*fields[0] || parse_id(fields[2], &id) < 0)
            continue;
        int r = fn(fields, n, id, ctx);
        if (r)
            return r;
    }
    return 0;
}

/* passwd: name:password:uid:gid:gecos:home:shell */
struct pw_query {
    const char *name; /* match by name, or by uid when NULL */
    uint32_t uid;
    bool found;
    uint32_t found_uid, found_gid;
    char *found_name;
    char *found_home;
};

static int pw_match(char **f, size_t n, uint32_t uid, void *ctx)
{
    struct pw_query *q = ctx;
    uint32_t gid;
    if (parse_id(f[3], &gid) < 0)
        return 0;
    if (q->name ? strcmp(f[0], q->name) != 0 : uid != q->uid)
        return 0;
    q->found = true;
    q->found_uid = uid;
    q->found_gid = gid;
    q->found_name = strdup(f[0]);
    q->found_home = strdup(n > 5 && *f[5] ? f[5] : "/");
    if (!q->found_name || !q->found_home)
        return -1;
    return 1; /* first match wins, as in runc */
}

/* group: name:password:gid:member,member */
struct gr_query {
    const char *name; /* explicit group by name ... */
    bool by_gid;      /* ... or by gid ... */
    uint32_t gid;
    bool found;
    uint32_t found_gid;
    const char *member; /* ... or every group listing this user */
    gid_t *groups;
    size_t n_groups;
};

static bool lists_member(char *list, const char *user)
{
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (!strcmp(trim(tok), user))
            return true;
    return false;
}

static int gr_match(char **f, size_t n, uint32_t gid, void *ctx)
{
    struct gr_query *q = ctx;
    if (!q->member) {
        if (q->by_gid ? gid != q->gid : strcmp(f[0], q->name) != 0)
            return 0;
        q->found = true;
        q->found_gid = gid;
        return 1;
    }
    if (n < 4 || !lists_member(f[3], q->member))
        return 0;
    for (size_t i = 0; i < q->n_groups; i++)
        if (q->groups[i] == gid)
            return 0;
    if (q->n_groups >= GROUPS_MAX)
        return -2;
    gid_t *g = realloc(q->groups, (q->n_groups + 1) * sizeof(gid_t));
    if (!g)
        return -1;
    q->groups = g;
    q->groups[q->n_groups++] = gid;
    return 0;
}

void cm_user_free(struct cm_user *u)
{
    if (!u)
        return;
    free(u->groups);
    free(u->home);
    free(u->name);
    u->groups = NULL;
    u->n_groups = 0;
    u->home = NULL;
    u->name = NULL;
}

static void user_freep(struct cm_user *u) { cm_user_free(u); }

int cm_user_resolve(int rootfd, const char *spec, struct cm_user *out, struct cm_error *err)
{
    *out = (struct cm_user){0};
    if (!spec)
        spec = "";
    _cleanup_free_ char *copy = strdup(spec);
    if (!copy)
        return cm_err_set(err, ENOMEM, "resolving user '%s'", spec);
    char *user_arg = copy;
    char *group_arg = strchr(copy, ':');
    if (group_arg) {
        *group_arg++ = '\0';
        if (strchr(group_arg, ':'))
            return cm_err_set(err, 0, "invalid user '%s': expected USER[:GROUP]", spec);
    }
    bool user_numeric = all_digits(user_arg);
    uint32_t uid_arg = 0, gid_arg = 0;
    if (user_numeric && parse_id(user_arg, &uid_arg) < 0)
        return cm_err_set(err, 0, "invalid user '%s': uid out of range 0-%llu", spec, ID_MAX);
    bool group_given = group_arg && *group_arg;
    bool group_numeric = group_given && all_digits(group_arg);
    if (group_numeric && parse_id(group_arg, &gid_arg) < 0)
        return cm_err_set(err, 0, "invalid user '%s': gid out of range 0-%llu", spec, ID_MAX);

    _cleanup_db_ struct db pw = {0};
    if (db_load(rootfd, "/etc/passwd", &pw, err) < 0)
        return -1;

    /* An empty user part means root, as runc's default user. */
    struct pw_query pq = {.name = (*user_arg && !user_numeric) ? user_arg : NULL, .uid = uid_arg};
    int r = each_entry(&pw, 4, 7, pw_match, &pq);
    _cleanup_(user_freep) struct cm_user u = {.uid = uid_arg, .gid = 0};
    u.name = pq.found_name;
    u.home = pq.found_home;
    if (r < 0)
        return cm_err_set(err, ENOMEM, "resolving user '%s'", spec);
    if (pq.found) {
        u.uid = pq.found_uid;
        u.gid = pq.found_gid;
    } else if (pq.name) {
        if (!pw.present)
            return cm_err_set(err, 0, "user '%s' not found: %s does not exist", user_arg, pw.where);
        return cm_err_set(err, 0, "user '%s' not found in %s", user_arg, pw.where);
    } else {
        u.home = strdup("/");
        if (!u.home)
            return cm_err_set(err, ENOMEM, "resolving user '%s'", spec);
    }

    if (!group_given && !u.name) {
        /* A numeric user with no passwd entry belongs to no listed group. */
        *out = u;
        u = (struct cm_user){0};
        return 0;
    }

    _cleanup_db_ struct db gr = {0};
    if (db_load(rootfd, "/etc/group", &gr, err) < 0)
        return -1;

    if (group_given) {
        /* An explicit group replaces the primary group and, as in runc and
         * Docker, brings no supplementary groups from /etc/group. */
        struct gr_query gq = {.name = group_arg, .by_gid = group_numeric, .gid = gid_arg};
        each_entry(&gr, 3, 4, gr_match, &gq);
        if (gq.found) {
            u.gid = gq.found_gid;
        } else if (group_numeric) {
            u.gid = gid_arg;
        } else if (!gr.present) {
            return cm_err_set(err, 0, "group '%s' not found: %s does not exist", group_arg, gr.where);
        } else {
            return cm_err_set(err, 0, "group '%s' not found in %s", group_arg, gr.where);
        }
    } else {
        struct gr_query gq = {.member = u.name};
        r = each_entry(&gr, 3, 4, gr_match, &gq);
        u.groups = gq.groups;
        u.n_groups = gq.n_groups;
        if (r == -1)
            return cm_err_set(err, ENOMEM, "reading the groups of user '%s'", u.name);
        if (r == -2)
            return cm_err_set(err, 0, "user '%s' is in more than %d groups in %s", u.name,
                              GROUPS_MAX, gr.where);
    }
    *out = u;
    u = (struct cm_user){0};
    return 0;
}
