/* image.c: `casemate audit image`: what an image ships (CM-IMG-*).
 *
 * Two sources feed one set of checks: a root filesystem directory, walked
 * with getdents64 and fstatat(AT_SYMLINK_NOFOLLOW) on directory fds (never a
 * path string, never a symlink followed, never a mount crossed), and tar
 * archives (plain, `docker save`, OCI layout) read in memory with their
 * layers merged and whiteouts applied. File contents are read only for
 * candidate secret files: by name, or small files outside the package
 * managers' trees. */
#include "audit/image.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit/rules.h"
#include "audit/secrets.h"
#include "audit/tar.h"
#include "util/cleanup.h"

extern char **environ;

bool cm_image_no_decompress;

enum {
    I_SETUID_EXPECTED,
    I_SETUID,
    I_WW_FILE,
    I_WW_DIR,
    I_SECRET_NAME,
    I_SECRET_CONTENT,
    I_EMPTY_PW,
    I_DUP_ID,
    I_UID0,
    I_SHELL,
    I_PKG,
    I_UNNEEDED,
    I_CFG_ROOT,
    I_CFG_HEALTH,
    I_CFG_SECRET,
    I_CFG_SSH,
    I_SSHD,
    I_AUTH_SYMLINK,
    I_SECRET_TESTDATA,
    I_COUNT,
};

const struct cm_rule cm_image_rules[] = {
    [I_SETUID_EXPECTED] = {"CM-IMG-001", "setuid-file", CM_SEV_MEDIUM,
                           "setuid/setgid program shipped by the distribution (su, passwd, "
                           "mount...)",
                           "Strip the bits in the Dockerfile: `RUN find / -xdev -perm /6000 -type f "
                           "-exec chmod a-s {} +`, and run with no_new_privs",
                           "CIS 4.8; dockle CIS-DI-0008; seed 002"},
    [I_SETUID] = {"CM-IMG-002", "setuid-file", CM_SEV_HIGH, "Unexpected setuid/setgid file",
                  "Remove the file or its setuid/setgid bit (`chmod a-s FILE`)",
                  "CIS 4.8; dockle CIS-DI-0008; seed 002"},
    [I_WW_FILE] = {"CM-IMG-003", "world-writable-file", CM_SEV_HIGH, "World-writable file",
                   "`chmod o-w FILE` in the Dockerfile", "seed 002; CIS 4.8"},
    [I_WW_DIR] = {"CM-IMG-004", "world-writable-file", CM_SEV_MEDIUM,
                  "World-writable directory without the sticky bit",
                  "`chmod o-w DIR`, or `chmod +t DIR` for a shared scratch directory",
                  "seed 002"},
    [I_SECRET_NAME] = {"CM-IMG-005", "secret-file", CM_SEV_HIGH,
                       "Credential file in the image (by its name)",
                       "Remove it from the image (.dockerignore, multi-stage build) and rotate "
                       "the credential; mount secrets at run time",
                       "dockle CIS-DI-0010; seed 002"},
    [I_SECRET_CONTENT] = {"CM-IMG-006", "secret-file", CM_SEV_CRITICAL,
                          "Credential inside a file of the image (private key, cloud key, token)",
                          "Remove it from every layer (rebuild; a later `rm` leaves it in the "
                          "lower layer) and revoke it",
                          "dockle CIS-DI-0010; seed 002; anchors gap: secrets in contents"},
    [I_EMPTY_PW] = {"CM-IMG-007", "empty-password", CM_SEV_CRITICAL,
                    "Account with an empty password",
                    "Lock the account: `passwd -l NAME` (or `usermod -p '*' NAME`)",
                    "dockle DKL-LI-0001"},
    [I_DUP_ID] = {"CM-IMG-008", "duplicate-id", CM_SEV_MEDIUM, "Duplicate uid or gid",
                  "Give every user and group its own id", "dockle DKL-LI-0002"},
    [I_UID0] = {"CM-IMG-009", "root-user", CM_SEV_HIGH, "Account other than root with uid 0",
                "Remove the account or give it an unprivileged uid", "dockle DKL-LI-0002; CIS 4.1"},
    [I_SHELL] = {"CM-IMG-010", "shell-present", CM_SEV_INFO,
                 "A shell is present in the image",
                 "Ship only the application: `FROM scratch` or a distroless base; casemate's "
                 "tripwire can alarm on /bin/sh at run time",
                 "seed 004"},
    [I_PKG] = {"CM-IMG-011", "package-manager-present", CM_SEV_LOW,
               "A package manager is present in the image",
               "Use a multi-stage build and copy only the application into a minimal base",
               "seed 004; seed 002 (reduce the attack surface)"},
    [I_UNNEEDED] = {"CM-IMG-012", "unneeded-file", CM_SEV_LOW,
                    "File not needed at run time (VCS data, build files, shell history)",
                    "Exclude it with .dockerignore or a multi-stage build",
                    "dockle DKL-LI-0003"},
    [I_CFG_ROOT] = {"CM-IMG-013", "root-user", CM_SEV_MEDIUM,
                    "The image runs as root (config User empty or root)",
                    "Set `USER <unprivileged user>` in the Dockerfile",
                    "CIS 4.1; dockle CIS-DI-0001; seed 002"},
    [I_CFG_HEALTH] = {"CM-IMG-014", "no-healthcheck", CM_SEV_LOW,
                      "The image config has no healthcheck",
                      "Add `HEALTHCHECK CMD <probe>` to the Dockerfile",
                      "CIS 4.6; dockle CIS-DI-0006; seed 002"},
    [I_CFG_SECRET] = {"CM-IMG-015", "secret", CM_SEV_HIGH,
                      "Secret-looking variable in the image config Env",
                      "Pass secrets at run time, not in ENV", "dockle CIS-DI-0010; seed 002"},
    [I_CFG_SSH] = {"CM-IMG-016", "ssh-server", CM_SEV_MEDIUM,
                   "The image config exposes port 22",
                   "Remove `EXPOSE 22`; use `docker exec` for access", "CIS 5.7; seed 001"},
    [I_SSHD] = {"CM-IMG-017", "ssh-server", CM_SEV_MEDIUM, "SSH server binary in the image",
                "Remove openssh-server/dropbear from the image", "CIS 5.7; seed 001"},
    [I_AUTH_SYMLINK] = {"CM-IMG-018", "suspicious-symlink", CM_SEV_MEDIUM,
                        "/etc/passwd, /etc/shadow or /etc/group is a symlink (not followed)",
                        "Make it a regular file; a symlink here can point a tool at the host's "
                        "files",
                        "casemate: never follow a symlink out of the image"},
    [I_SECRET_TESTDATA] = {"CM-IMG-019", "secret-file", CM_SEV_LOW,
                           "Key or token in what looks like test data (tests/, testdata/, "
                           "fixtures/)",
                           "Do not ship test suites in the image; check that the key is not "
                           "used anywhere",
                           "seed 002; seed 004 (ship only the application)"},
    [I_COUNT] = {.id = NULL},
};

#define CONTENT_MAX (64 * 1024)   /* bytes of a file scanned for secrets */
#define SMALL_FILE (256 * 1024)   /* files up to this size are scanned when not named */
#define AUTH_MAX (4 * 1024 * 1024)
#define PER_RULE_CAP 200

struct ictx {
    struct cm_report *r;
    const char *subject;
    bool oom;
    unsigned counts[I_COUNT];
    char *passwd, *shadow, *group;
    char shells[512];
    char pkgs[512];
    char first_shell[256];
    char first_pkg[256];
    char content[CONTENT_MAX]; /* the start of the file being scanned */
};

struct ientry {
    const char *path;
    mode_t mode;
    uid_t uid;
    gid_t gid;
    uint64_t size;
};

/* Read up to max bytes of the entry's content; -1 if it cannot be read. */
typedef ssize_t (*reader_fn)(void *rctx, char *buf, size_t max);

__attribute__((format(printf, 5, 6))) static void add(struct ictx *c, int rule, const char *path,
                                                      int line, const char *fmt, ...)
{
    if (++c->counts[rule] > PER_RULE_CAP)
        return;
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (c->counts[rule] == PER_RULE_CAP) {
        size_t l = strlen(buf);
        snprintf(buf + l, sizeof(buf) - l, " (further findings of this rule not shown)");
    }
    if (cm_report_add(c->r, &cm_image_rules[rule], path, line, c->subject, "%s", buf) < 0)
        c->oom = true;
}

static const char *base_of(const char *p)
{
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

static bool in_bin_dir(const char *path)
{
    static const char *const dirs[] = {"/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/",
                                       "/usr/local/bin/", "/usr/local/sbin/"};
    const char *b = base_of(path);
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        size_t l = strlen(dirs[i]);
        if ((size_t)(b - path) == l && !strncmp(path, dirs[i], l))
            return true;
    }
    return false;
}

/* Trees owned by the package manager or the kernel: contents not scanned
 * unless the file name itself is suspicious. */
static bool system_tree(const char *path)
{
    static const char *const pfx[] = {"/usr/", "/lib/", "/lib32/", "/lib64/", "/libx32/", "/bin/",
                                      "/sbin/", "/boot/", "/var/lib/dpkg/", "/var/lib/apt/",
                                      "/var/cache/", "/var/log/", "/proc/", "/sys/", "/dev/",
                                      "/etc/ssl/certs/", "/etc/ca-certificates/", "/var/lib/rpm/",
                                      "/lib/apk/", "/etc/apk/keys/", "/usr/share/"};
    if (!strncmp(path, "/usr/local/", 11) && strncmp(path, "/usr/local/lib/", 15))
        return false;
    for (size_t i = 0; i < ARRAY_SIZE(pfx); i++)
        if (!strncmp(path, pfx[i], strlen(pfx[i])))
            return true;
    return false;
}

/* Dependency trees: thousands of small files, test fixtures with throwaway
 * keys. Scanned by name only. */
static bool third_party_tree(const char *path)
{
    static const char *const parts[] = {"/node_modules/", "/site-packages/", "/dist-packages/",
                                        "/vendor/", "/.cargo/registry/", "/go/pkg/mod/",
                                        "/.m2/repository/", "/gems/"};
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
        if (strstr(path, parts[i]))
            return true;
    return false;
}

static const char *const expected_setuid[] = {
    "su", "passwd", "chsh", "chfn", "gpasswd", "newgrp", "mount", "umount", "ping", "ping6",
    "unix_chkpwd", "chage", "expiry", "wall", "write", "bsd-write", "crontab", "ssh-agent",
    "ssh-keysign", "pkexec", "dbus-daemon-launch-helper", "fusermount", "fusermount3",
    "dotlockfile", "mount.nfs", "utempter", "at", "newuidmap", "newgidmap", "polkit-agent-helper-1",
    "Xorg.wrap", "pam_extrausers_chkpwd", "mail-lock", "mail-unlock", "mail-touchlock",
};
static const char *const shell_names[] = {"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh",
                                          "busybox", "tcsh", "csh", "fish", "rbash"};
static const char *const pkg_names[] = {"apt", "apt-get", "dpkg", "apk", "yum", "dnf",
                                        "microdnf", "rpm", "pip", "pip3", "zypper", "pacman",
                                        "npm", "gem", "easy_install"};
static const char *const unneeded_names[] = {".git", ".svn", ".hg", ".aws", ".npm", ".DS_Store",
                                             "Dockerfile", "docker-compose.yml",
                                             "docker-compose.yaml", ".dockerignore",
                                             ".bash_history", ".zsh_history", ".ash_history",
                                             ".python_history", ".mysql_history",
                                             ".psql_history", ".viminfo", ".lesshst"};

static bool name_in(const char *n, const char *const *list, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!strcmp(n, list[i]))
            return true;
    return false;
}

static void note(char *list, size_t sz, char *first, size_t fsz, const char *path)
{
    size_t l = strlen(list);
    if (!*first)
        snprintf(first, fsz, "%s", path);
    if (l + strlen(path) + 5 < sz)
        snprintf(list + l, sz - l, "%s%s", l ? " " : "", path);
    else if (l + 5 < sz && strcmp(list + l - 3, "..."))
        strcat(list, " ...");
}

static void capture(char **slot, reader_fn rd, void *rctx, uint64_t size)
{
    if (*slot || size > AUTH_MAX)
        return;
    char *buf = malloc((size_t)size + 1);
    if (!buf)
        return;
    ssize_t n = rd(rctx, buf, (size_t)size);
    if (n < 0) {
        free(buf);
        return;
    }
    buf[n] = '\0';
    *slot = buf;
}

/* Every file, directory and link of the image passes here once. */
static void visit(struct ictx *c, const struct ientry *e, reader_fn rd, void *rctx)
{
    const char *path = e->path;
    const char *base = base_of(path);
    mode_t m = e->mode;

    if (S_ISLNK(m)) {
        if (!strcmp(path, "/etc/passwd") || !strcmp(path, "/etc/shadow") ||
            !strcmp(path, "/etc/group"))
            add(c, I_AUTH_SYMLINK, path, 0, "%s is a symbolic link; not followed", path);
    }
    if ((S_ISREG(m) || S_ISLNK(m)) && in_bin_dir(path)) {
        if (name_in(base, shell_names, ARRAY_SIZE(shell_names)))
            note(c->shells, sizeof(c->shells), c->first_shell, sizeof(c->first_shell), path);
        if (name_in(base, pkg_names, ARRAY_SIZE(pkg_names)))
            note(c->pkgs, sizeof(c->pkgs), c->first_pkg, sizeof(c->first_pkg), path);
        if (S_ISREG(m) && (!strcmp(base, "sshd") || !strcmp(base, "dropbear")))
            add(c, I_SSHD, path, 0, "%s", path);
    }
    if (S_ISDIR(m)) {
        if ((m & S_IWOTH) && !(m & S_ISVTX))
            add(c, I_WW_DIR, path, 0, "%s mode %04o", path, (unsigned)(m & 07777));
        if (name_in(base, unneeded_names, ARRAY_SIZE(unneeded_names)) && !system_tree(path) &&
            !third_party_tree(path))
            add(c, I_UNNEEDED, path, 0, "%s/", path);
        return;
    }
    if (!S_ISREG(m))
        return;

    if (m & (S_ISUID | S_ISGID)) {
        bool expected = name_in(base, expected_setuid, ARRAY_SIZE(expected_setuid));
        add(c, expected ? I_SETUID_EXPECTED : I_SETUID, path, 0, "%s mode %04o uid %u gid %u%s%s",
            path, (unsigned)(m & 07777), (unsigned)e->uid, (unsigned)e->gid,
            (m & S_ISUID) ? " setuid" : "", (m & S_ISGID) ? " setgid" : "");
    }
    if (m & S_IWOTH)
        add(c, I_WW_FILE, path, 0, "%s mode %04o", path, (unsigned)(m & 07777));
    if (name_in(base, unneeded_names, ARRAY_SIZE(unneeded_names)) && !system_tree(path) &&
        !third_party_tree(path))
        add(c, I_UNNEEDED, path, 0, "%s", path);

    if (!strcmp(path, "/etc/passwd"))
        capture(&c->passwd, rd, rctx, e->size);
    else if (!strcmp(path, "/etc/shadow"))
        capture(&c->shadow, rd, rctx, e->size);
    else if (!strcmp(path, "/etc/group"))
        capture(&c->group, rd, rctx, e->size);

    /* Secrets: by name, then by content for named and small candidates. */
    const char *named = cm_secret_file_name(path);
    size_t bl = strlen(base);
    bool needs_content = false; /* names that are only a secret with the right content */
    if (bl > 4 && (!strcmp(base + bl - 4, ".pem") || !strcmp(base + bl - 4, ".key") ||
                   !strcmp(base + bl - 4, ".crt"))) {
        named = NULL;
        needs_content = true;
    }
    bool npmrc = !strcmp(base, ".npmrc");
    bool scan = named || needs_content || npmrc ||
                (e->size > 0 && e->size <= SMALL_FILE && !system_tree(path) &&
                 !third_party_tree(path));
    if (e->size == 0 || !scan) {
        if (named && e->size > 0)
            add(c, I_SECRET_NAME, path, 0, "%s (%s)", path, named);
        return;
    }
    char *buf = c->content;
    ssize_t n = rd(rctx, buf, sizeof(c->content));
    if (n <= 0) {
        if (named)
            add(c, I_SECRET_NAME, path, 0, "%s (%s)", path, named);
        return;
    }
    size_t off = 0, ml = 0;
    const char *what = cm_secret_scan(buf, (size_t)n, &off, &ml);
    if (what) {
        int line = 1;
        for (size_t i = 0; i < off; i++)
            line += buf[i] == '\n';
        bool test_data = strstr(path, "/test/") || strstr(path, "/tests/") ||
                         strstr(path, "/testdata/") || strstr(path, "/test_data/") ||
                         strstr(path, "/fixtures/") || strstr(path, "/testing/");
        add(c, test_data ? I_SECRET_TESTDATA : I_SECRET_CONTENT, path, line, "%s: %s", path, what);
    } else if (npmrc) {
        if (memmem(buf, (size_t)n, "_authToken", 10) || memmem(buf, (size_t)n, "_auth=", 6) ||
            memmem(buf, (size_t)n, "_password", 9))
            add(c, I_SECRET_NAME, path, 0, "%s (npm registry token)", path);
    } else if (named) {
        add(c, I_SECRET_NAME, path, 0, "%s (%s)", path, named);
    }
}

/* ---- /etc/passwd, /etc/shadow, /etc/group ------------------------------- */

struct idrec {
    long id;
    char name[64];
    int line;
};

static int cmp_id(const void *a, const void *b)
{
    const struct idrec *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->line - y->line;
}

/* Split "a:b:c" into at most n fields in place. */
static size_t fields(char *line, char **f, size_t n)
{
    size_t k = 0;
    f[k++] = line;
    for (char *p = line; *p && k < n; p++)
        if (*p == ':') {
            *p = '\0';
            f[k++] = p + 1;
        }
    return k;
}

static void check_ids(struct ictx *c, char *text, const char *path, int id_field, bool passwd)
{
    size_t cap = 0, n = 0;
    _cleanup_free_ struct idrec *recs = NULL;
    int line = 0;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        line++;
        if (*l == '#' || *l == '+' || *l == '-')
            continue;
        char *f[8];
        size_t nf = fields(l, f, 8);
        if ((int)nf <= id_field)
            continue;
        char *end = NULL;
        long id = strtol(f[id_field], &end, 10);
        if (end == f[id_field] || *end)
            continue;
        if (passwd) {
            if (f[1][0] == '\0')
                add(c, I_EMPTY_PW, path, line, "user %s has an empty password field", f[0]);
            if (id == 0 && strcmp(f[0], "root"))
                add(c, I_UID0, path, line, "user %s has uid 0", f[0]);
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            if (nc > 100000)
                break;
            struct idrec *nr = realloc(recs, nc * sizeof(*nr));
            if (!nr) {
                c->oom = true;
                return;
            }
            recs = nr;
            cap = nc;
        }
        recs[n].id = id;
        recs[n].line = line;
        snprintf(recs[n].name, sizeof(recs[n].name), "%s", f[0]);
        n++;
    }
    if (n < 2)
        return;
    qsort(recs, n, sizeof(*recs), cmp_id);
    for (size_t i = 1; i < n; i++) {
        if (recs[i].id == recs[i - 1].id && (i < 2 || recs[i - 2].id != recs[i].id))
            add(c, I_DUP_ID, path, recs[i].line, "%s %ld shared by %s and %s",
                passwd ? "uid" : "gid", recs[i].id, recs[i - 1].name, recs[i].name);
    }
}

static void check_shadow(struct ictx *c, char *text)
{
    int line = 0;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        line++;
        char *f[3];
        if (fields(l, f, 3) < 2 || !*f[0])
            continue;
        if (f[1][0] == '\0')
            add(c, I_EMPTY_PW, "/etc/shadow", line, "user %s has an empty password", f[0]);
    }
}

static void finish(struct ictx *c)
{
    if (c->passwd)
        check_ids(c, c->passwd, "/etc/passwd", 2, true);
    if (c->shadow)
        check_shadow(c, c->shadow);
    if (c->group)
        check_ids(c, c->group, "/etc/group", 2, false);
    if (*c->shells)
        add(c, I_SHELL, c->first_shell, 0, "%s", c->shells);
    if (*c->pkgs)
        add(c, I_PKG, c->first_pkg, 0, "%s", c->pkgs);
}

static void ictx_free(struct ictx *c)
{
    free(c->passwd);
    free(c->shadow);
    free(c->group);
}

/* ---- the image config (docker save / OCI) ------------------------------- */

/* The build steps recorded in the config's history, as Dockerfile lines:
 * "/bin/sh -c #(nop)  ENV A=b" (classic builder), "/bin/sh -c cmd" and
 * "RUN /bin/sh -c cmd # buildkit". Returns a malloc'd line, NULL to skip. */
static char *history_line(const char *created_by)
{
    const char *s = created_by;
    while (*s == ' ')
        s++;
    const char *prefix = "";
    if (!strncmp(s, "/bin/sh -c #(nop)", 17)) {
        s += 17;
    } else if (!strncmp(s, "/bin/sh -c ", 11)) {
        s += 11;
        prefix = "RUN ";
    } else if (!strncmp(s, "RUN /bin/sh -c ", 15)) {
        s += 15;
        prefix = "RUN ";
    } else if (!strncmp(s, "|", 1)) {
        /* "|2 A=b /bin/sh -c cmd": build args first */
        const char *q = strstr(s, "/bin/sh -c ");
        if (!q)
            return NULL;
        s = q + 11;
        prefix = "RUN ";
    }
    while (*s == ' ')
        s++;
    /* classic builder sources are content hashes: nothing to say about them */
    if (!strncmp(s, "ADD file:", 9) || !strncmp(s, "ADD dir:", 8) || !strncmp(s, "COPY file:", 10) ||
        !strncmp(s, "COPY dir:", 9) || !*s)
        return NULL;
    char *line = NULL;
    if (asprintf(&line, "%s%s", prefix, s) < 0)
        return NULL;
    size_t l = strlen(line);
    if (l >= 11 && !strcmp(line + l - 11, " # buildkit"))
        line[l - 11] = '\0';
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ';';
    return line;
}

/* Dockerfile rules that mean something on an image's build history (CIS 4.7
 * update alone, 4.9 ADD, curl | sh, sudo, chmod...). The config rules speak
 * for USER and HEALTHCHECK; the base image is not in the history. */
static bool history_rule(const struct cm_rule *rule)
{
    static const char *const skip[] = {"root-user", "no-healthcheck", "unpinned-base",
                                       "untrusted-registry", "hygiene", "pipefail"};
    for (size_t i = 0; i < ARRAY_SIZE(skip); i++)
        if (!strcmp(rule->topic, skip[i]))
            return false;
    return true;
}

static void check_history(struct ictx *c, json_t *history, const char *name)
{
    char where[512];
    snprintf(where, sizeof(where), "%s history", name);
    for (size_t i = 0; i < json_array_size(history) && !c->oom; i++) {
        const char *cb = json_string_value(json_object_get(json_array_get(history, i), "created_by"));
        if (!cb)
            continue;
        _cleanup_free_ char *line = history_line(cb);
        if (!line)
            continue;
        _cleanup_free_ char *text = NULL;
        if (asprintf(&text, "FROM scratch\n%s\n", line) < 0) {
            c->oom = true;
            return;
        }
        struct cm_report tmp = {0};
        struct cm_error err = {0};
        if (cm_audit_dockerfile(text, strlen(text), where, &tmp, &err) == 0) {
            for (size_t k = 0; k < tmp.n; k++) {
                const struct cm_finding *f = &tmp.findings[k];
                if (!history_rule(f->rule))
                    continue;
                if (cm_report_add(c->r, f->rule, where, (int)i + 1, c->subject, "%s",
                                  f->evidence ? f->evidence : "") < 0)
                    c->oom = true;
            }
        }
        cm_report_free(&tmp);
    }
}

static void check_config(struct ictx *c, const unsigned char *data, size_t len, const char *name)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)data, len, 0, &jerr);
    if (!root)
        return;
    json_t *cfg = json_object_get(root, "config");
    if (!json_is_object(cfg))
        cfg = json_object_get(root, "Config");
    if (json_is_object(cfg)) {
        const char *user = json_string_value(json_object_get(cfg, "User"));
        if (!user || !*user || !strcmp(user, "root") || !strcmp(user, "0") ||
            !strncmp(user, "root:", 5) || !strncmp(user, "0:", 2))
            add(c, I_CFG_ROOT, name, 0, "User \"%s\"", user ? user : "");
        json_t *hc = json_object_get(cfg, "Healthcheck");
        json_t *test = json_object_get(hc, "Test");
        const char *t0 = json_string_value(json_array_get(test, 0));
        if (!json_is_object(hc) || !t0 || !strcmp(t0, "NONE"))
            add(c, I_CFG_HEALTH, name, 0, "no Healthcheck in the image config");
        json_t *env = json_object_get(cfg, "Env");
        for (size_t i = 0; i < json_array_size(env); i++) {
            const char *kv = json_string_value(json_array_get(env, i));
            if (!kv)
                continue;
            const char *eq = strchr(kv, '=');
            char key[256];
            snprintf(key, sizeof(key), "%.*s", (int)(eq ? (size_t)(eq - kv) : strlen(kv)), kv);
            bool valued = eq && eq[1];
            if ((valued && cm_secret_var_name(key)) ||
                (eq && cm_secret_scan(eq + 1, strlen(eq + 1), NULL, NULL)))
                add(c, I_CFG_SECRET, name, 0, "Env %s=****", key);
        }
        json_t *ports = json_object_get(cfg, "ExposedPorts");
        const char *port;
        json_t *v;
        json_object_foreach(ports, port, v)
        {
            if (!strcmp(port, "22") || !strcmp(port, "22/tcp"))
                add(c, I_CFG_SSH, name, 0, "ExposedPorts %s", port);
        }
    }
    check_history(c, json_object_get(root, "history"), name);
    json_decref(root);
}

/* ---- directory walk ------------------------------------------------------ */

struct dir_rctx {
    int dfd;
    const char *name;
};

static ssize_t read_fd(int fd, char *buf, size_t max)
{
    size_t got = 0;
    while (got < max) {
        ssize_t n = read(fd, buf + got, max - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static ssize_t dir_read(void *p, char *buf, size_t max)
{
    struct dir_rctx *d = p;
    _cleanup_close_ int fd =
        openat(d->dfd, d->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return -1;
    return read_fd(fd, buf, max);
}

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static int walk(struct ictx *c, int dfd, char *path, size_t plen, dev_t dev, int depth,
                struct cm_error *err)
{
    enum { BUFSZ = 32768 };
    _cleanup_free_ char *buf = malloc(BUFSZ);
    if (!buf)
        return cm_err_set(err, ENOMEM, "walking %s", plen ? path : "/");
    for (;;) {
        long n = syscall(SYS_getdents64, dfd, buf, BUFSZ);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return cm_err_sys(err, "reading directory %s", plen ? path : "/");
        }
        if (n == 0)
            return 0;
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            off += d->d_reclen;
            const char *name = d->d_name;
            if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
                continue;
            size_t nl = strlen(name);
            if (plen + 1 + nl >= 4096)
                continue; /* deeper than PATH_MAX: nothing a container could use */
            path[plen] = '/';
            memcpy(path + plen + 1, name, nl + 1);
            struct ientry e = {.path = path};
            if (d->d_type == DT_LNK) {
                e.mode = S_IFLNK | 0777;
                visit(c, &e, NULL, NULL);
                path[plen] = '\0';
                continue;
            }
            struct stat st;
            if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                path[plen] = '\0';
                continue; /* removed while we walk */
            }
            e.mode = st.st_mode;
            e.uid = st.st_uid;
            e.gid = st.st_gid;
            e.size = (uint64_t)st.st_size;
            struct dir_rctx rc = {.dfd = dfd, .name = name};
            visit(c, &e, dir_read, &rc);
            if (S_ISDIR(st.st_mode) && st.st_dev == dev && depth < 256) {
                _cleanup_close_ int sub =
                    openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0 && walk(c, sub, path, plen + 1 + nl, dev, depth + 1, err) < 0)
                    return -1;
            }
            path[plen] = '\0';
            if (c->oom)
                return cm_err_set(err, ENOMEM, "auditing image");
        }
    }
}

static int audit_rootfs_dir(int rootfd, const char *target, struct cm_report *r,
                            struct cm_error *err)
{
    struct ictx c = {.r = r, .subject = target};
    struct stat st;
    if (fstat(rootfd, &st) < 0) {
        ictx_free(&c);
        return cm_err_sys(err, "auditing image %s", target);
    }
    char path[4096] = "";
    int ret = walk(&c, rootfd, path, 0, st.st_dev, 0, err);
    if (ret == 0) {
        finish(&c);
        if (c.oom)
            ret = cm_err_set(err, ENOMEM, "auditing image %s", target);
    }
    ictx_free(&c);
    if (ret < 0)
        cm_err_prefix(err, "auditing image %s", target);
    return ret;
}

/* ---- merged layers ------------------------------------------------------- */

struct ment {
    char *path;
    char *link;
    const unsigned char *data;
    uint64_t size;
    mode_t mode;
    uid_t uid;
    gid_t gid;
    char type;
    int layer;
    bool deleted;
};

struct fsmap {
    struct ment *e;
    size_t n, cap;
    size_t *tab; /* index + 1, 0 when empty */
    size_t tabsz;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static struct ment *map_get(struct fsmap *m, const char *path)
{
    if (!m->tabsz)
        return NULL;
    for (size_t i = hash_str(path) & (m->tabsz - 1);; i = (i + 1) & (m->tabsz - 1)) {
        if (!m->tab[i])
            return NULL;
        struct ment *e = &m->e[m->tab[i] - 1];
        if (!strcmp(e->path, path))
            return e;
    }
}

static int map_rehash(struct fsmap *m, size_t sz)
{
    size_t *t = calloc(sz, sizeof(size_t));
    if (!t)
        return -1;
    for (size_t k = 0; k < m->n; k++) {
        size_t i = hash_str(m->e[k].path) & (sz - 1);
        while (t[i])
            i = (i + 1) & (sz - 1);
        t[i] = k + 1;
    }
    free(m->tab);
    m->tab = t;
    m->tabsz = sz;
    return 0;
}

static struct ment *map_put(struct fsmap *m, const char *path)
{
    struct ment *e = map_get(m, path);
    if (e) {
        free(e->link);
        e->link = NULL;
        return e;
    }
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 256;
        struct ment *ne = realloc(m->e, nc * sizeof(*ne));
        if (!ne)
            return NULL;
        m->e = ne;
        m->cap = nc;
    }
    if ((m->n + 1) * 2 > m->tabsz && map_rehash(m, m->tabsz ? m->tabsz * 2 : 1024) < 0)
        return NULL;
    e = &m->e[m->n];
    memset(e, 0, sizeof(*e));
    e->path = strdup(path);
    if (!e->path)
        return NULL;
    size_t i = hash_str(path) & (m->tabsz - 1);
    while (m->tab[i])
        i = (i + 1) & (m->tabsz - 1);
    m->tab[i] = ++m->n;
    return e;
}

static void map_free(struct fsmap *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->e[i].path);
        free(m->e[i].link);
    }
    free(m->e);
    free(m->tab);
    memset(m, 0, sizeof(*m));
}

/* Delete everything under dir/ that came from a lower layer. */
static void map_delete_under(struct fsmap *m, const char *dir, int layer)
{
    size_t dl = strlen(dir);
    bool root = dl == 1 && dir[0] == '/';
    for (size_t i = 0; i < m->n; i++) {
        struct ment *e = &m->e[i];
        if (e->layer < layer && !e->deleted &&
            (root ? e->path[1] != '\0' : (!strncmp(e->path, dir, dl) && e->path[dl] == '/')))
            e->deleted = true;
    }
}

struct layer_ctx {
    struct fsmap *m;
    int layer;
};

static int layer_entry(void *p, const struct cm_tar_entry *te)
{
    struct layer_ctx *lc = p;
    const char *base = base_of(te->path);
    if (!strncmp(base, ".wh.", 4)) {
        char dir[4096];
        size_t dl = (size_t)(base - te->path);
        snprintf(dir, sizeof(dir), "%.*s", (int)(dl > 1 ? dl - 1 : 1), te->path);
        if (!strcmp(base, ".wh..wh..opq")) {
            map_delete_under(lc->m, dir, lc->layer);
        } else {
            char victim[8200];
            snprintf(victim, sizeof(victim), "%s%s%s", dl > 1 ? dir : "", "/", base + 4);
            struct ment *v = map_get(lc->m, victim);
            if (v && v->layer < lc->layer) {
                v->deleted = true;
                if (S_ISDIR(v->mode))
                    map_delete_under(lc->m, victim, lc->layer);
            }
        }
        return 0;
    }
    if (!strcmp(te->path, "/"))
        return 0;
    struct ment *e = map_put(lc->m, te->path);
    if (!e)
        return -ENOMEM;
    e->deleted = false;
    e->layer = lc->layer;
    e->mode = te->mode;
    e->uid = te->uid;
    e->gid = te->gid;
    e->size = te->size;
    e->data = te->data;
    e->type = te->type;
    if (te->linkname && *te->linkname && !(e->link = strdup(te->linkname)))
        return -ENOMEM;
    return 0;
}

struct tar_rctx {
    struct fsmap *m;
    const struct ment *e;
};

static ssize_t tar_read(void *p, char *buf, size_t max)
{
    struct tar_rctx *t = p;
    const struct ment *e = t->e;
    if (e->type == '1' && e->link) { /* hard link: the target's content */
        char norm[4096];
        if (cm_tar_normalise(e->link, strlen(e->link), norm, sizeof(norm)) < 0)
            return -1;
        e = map_get(t->m, norm);
        if (!e || e->deleted || e->type == '1')
            return -1;
    }
    if (!e->data || e->type == 'S')
        return -1;
    size_t n = e->size < max ? (size_t)e->size : max;
    memcpy(buf, e->data, n);
    return (ssize_t)n;
}

static int scan_map(struct fsmap *m, const char *name, struct cm_report *r, const char *config_name,
                    const unsigned char *config, size_t config_len, struct cm_error *err)
{
    struct ictx c = {.r = r, .subject = name};
    for (size_t i = 0; i < m->n && !c.oom; i++) {
        const struct ment *e = &m->e[i];
        if (e->deleted)
            continue;
        uint64_t size = e->size;
        if (e->type == '1' && e->link) {
            char norm[4096];
            const struct ment *t = NULL;
            if (cm_tar_normalise(e->link, strlen(e->link), norm, sizeof(norm)) == 0)
                t = map_get(m, norm);
            size = t ? t->size : 0;
        }
        struct ientry ie = {.path = e->path, .mode = e->mode, .uid = e->uid, .gid = e->gid,
                            .size = size};
        struct tar_rctx rc = {.m = m, .e = e};
        visit(&c, &ie, tar_read, &rc);
    }
    if (config)
        check_config(&c, config, config_len, config_name ? config_name : "config");
    finish(&c);
    ictx_free(&c);
    if (c.oom)
        return cm_err_set(err, ENOMEM, "auditing image %s", name);
    return 0;
}

/* ---- archives: plain, docker save, OCI ---------------------------------- */

struct blob {
    unsigned char *data; /* owned: decompressed copies, or mmaps */
    size_t len;
    bool mapped;
};

struct source {
    int dirfd;                     /* an OCI layout directory, or -1 */
    const unsigned char *tar;      /* or a tar archive in memory */
    size_t tar_len;
    struct fsmap outer;            /* the archive's own entries */
    struct blob *keep;             /* memory to release at the end */
    size_t n_keep;
};

static void source_free(struct source *s)
{
    for (size_t i = 0; i < s->n_keep; i++) {
        if (s->keep[i].mapped)
            munmap(s->keep[i].data, s->keep[i].len);
        else
            free(s->keep[i].data);
    }
    free(s->keep);
    map_free(&s->outer);
}

static int keep(struct source *s, unsigned char *data, size_t len, bool mapped)
{
    struct blob *k = realloc(s->keep, (s->n_keep + 1) * sizeof(*k));
    if (!k) {
        if (mapped)
            munmap(data, len);
        else
            free(data);
        return -1;
    }
    s->keep = k;
    s->keep[s->n_keep++] = (struct blob){.data = data, .len = len, .mapped = mapped};
    return 0;
}

/* Open a relative path under dirfd, refusing symlinks at every step. */
static int open_nofollow(int dirfd, const char *rel, struct cm_error *err)
{
    char norm[4096];
    if (cm_tar_normalise(rel, strlen(rel), norm, sizeof(norm)) < 0)
        return cm_err_set(err, 0, "%s: path leaves the image layout", rel);
    _cleanup_close_ int cur = -1;
    int at = dirfd;
    char *save = NULL;
    char *p = norm + 1;
    for (char *comp = strtok_r(p, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
        bool last = save == NULL || *save == '\0';
        int fd = openat(at, comp,
                        (last ? O_RDONLY : O_RDONLY | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC |
                            O_NONBLOCK);
        if (fd < 0)
            return cm_err_sys(err, "opening %s in the image layout", rel);
        if (cur >= 0)
            close(cur);
        cur = fd;
        at = cur;
    }
    if (cur < 0)
        return cm_err_set(err, 0, "%s: empty path", rel);
    return TAKE_FD(cur);
}

static int source_get(struct source *s, const char *name, const unsigned char **data, size_t *len,
                      struct cm_error *err)
{
    if (s->dirfd >= 0) {
        _cleanup_close_ int fd = open_nofollow(s->dirfd, name, err);
        if (fd < 0)
            return -1;
        struct stat st;
        if (fstat(fd, &st) < 0)
            return cm_err_sys(err, "reading %s", name);
        if (!S_ISREG(st.st_mode))
            return cm_err_set(err, 0, "%s is not a regular file", name);
        if (st.st_size == 0) {
            *data = (const unsigned char *)"";
            *len = 0;
            return 0;
        }
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED)
            return cm_err_sys(err, "reading %s", name);
        if (keep(s, p, (size_t)st.st_size, true) < 0)
            return cm_err_set(err, ENOMEM, "reading %s", name);
        *data = p;
        *len = (size_t)st.st_size;
        return 0;
    }
    char norm[4096];
    if (cm_tar_normalise(name, strlen(name), norm, sizeof(norm)) < 0)
        return cm_err_set(err, 0, "%s: path leaves the archive", name);
    struct ment *e = map_get(&s->outer, norm);
    if (e && e->type == '1' && e->link) { /* docker save links identical layers */
        char t[4096];
        if (cm_tar_normalise(e->link, strlen(e->link), t, sizeof(t)) == 0)
            e = map_get(&s->outer, t);
    }
    if (!e || !S_ISREG(e->mode) || e->type == '1')
        return cm_err_set(err, ENOENT, "%s not found in the archive", name);
    *data = e->data;
    *len = (size_t)e->size;
    return 0;
}

/* `gzip -dc` / `zstd -dc` on a memfd: zlib is not among our link
 * dependencies, and the child never sees a path from the image. */
static int decompress(const unsigned char *in, size_t len, const char *prog, unsigned char **out,
                      size_t *out_len, struct cm_error *err)
{
    if (cm_image_no_decompress)
        return cm_err_set(err, 0, "compressed layer (decompression disabled)");
    _cleanup_close_ int mfd = memfd_create("casemate-layer", MFD_CLOEXEC);
    if (mfd < 0)
        return cm_err_sys(err, "decompressing a layer");
    for (size_t off = 0; off < len;) {
        ssize_t n = write(mfd, in + off, len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return cm_err_sys(err, "decompressing a layer");
        }
        off += (size_t)n;
    }
    if (lseek(mfd, 0, SEEK_SET) < 0)
        return cm_err_sys(err, "decompressing a layer");
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return cm_err_sys(err, "decompressing a layer");
    _cleanup_close_ int rfd = pfd[0];
    _cleanup_close_ int wfd = pfd[1];
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return cm_err_set(err, ENOMEM, "decompressing a layer");
    int rc = posix_spawn_file_actions_adddup2(&fa, mfd, 0);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&fa, wfd, 1);
    if (rc == 0)
        rc = posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *argv[] = {(char *)prog, (char *)"-dc", NULL};
    pid_t pid;
    if (rc == 0)
        rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return cm_err_set(err, rc, "decompressing a layer: cannot run %s", prog);
    close(TAKE_FD(wfd));
    size_t cap = len * 4 + 65536, got = 0;
    _cleanup_free_ unsigned char *buf = malloc(cap);
    int ret = 0;
    if (!buf)
        ret = cm_err_set(err, ENOMEM, "decompressing a layer");
    while (ret == 0) {
        if (got == cap) {
            if (cap >= ((size_t)1 << 34)) {
                ret = cm_err_set(err, EFBIG, "decompressing a layer");
                break;
            }
            unsigned char *nb = realloc(buf, cap * 2);
            if (!nb) {
                ret = cm_err_set(err, ENOMEM, "decompressing a layer");
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(rfd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ret = cm_err_sys(err, "decompressing a layer");
            break;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(TAKE_FD(rfd)); /* the child gets EPIPE if we stopped early */
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (ret == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        ret = cm_err_set(err, 0, "decompressing a layer: %s failed (corrupt layer?)", prog);
    if (ret < 0)
        return -1;
    *out = TAKE_PTR(buf);
    *out_len = got;
    return 0;
}

/* A layer blob: tar, or gzip/zstd compressed tar. */
static int layer_tar(struct source *s, const unsigned char *d, size_t l, const unsigned char **out,
                     size_t *out_len, struct cm_error *err)
{
    const char *prog = NULL;
    if (l >= 2 && d[0] == 0x1f && d[1] == 0x8b)
        prog = "gzip";
    else if (l >= 4 && d[0] == 0x28 && d[1] == 0xb5 && d[2] == 0x2f && d[3] == 0xfd)
        prog = "zstd";
    if (!prog) {
        *out = d;
        *out_len = l;
        return 0;
    }
    unsigned char *u = NULL;
    size_t ul = 0;
    if (decompress(d, l, prog, &u, &ul, err) < 0)
        return -1;
    if (keep(s, u, ul, false) < 0)
        return cm_err_set(err, ENOMEM, "decompressing a layer");
    *out = u;
    *out_len = ul;
    return 0;
}

static int outer_entry(void *p, const struct cm_tar_entry *te)
{
    struct layer_ctx lc = {.m = p, .layer = 0};
    /* the archive itself: no whiteouts to apply, keep names as they are */
    if (!strcmp(te->path, "/"))
        return 0;
    struct ment *e = map_put(lc.m, te->path);
    if (!e)
        return -ENOMEM;
    e->mode = te->mode;
    e->size = te->size;
    e->data = te->data;
    e->type = te->type;
    if (te->linkname && *te->linkname && !(e->link = strdup(te->linkname)))
        return -ENOMEM;
    return 0;
}

/* "sha256:abc..." -> "blobs/sha256/abc...", refusing anything else. */
static int blob_path(const char *digest, char *out, size_t sz, struct cm_error *err)
{
    const char *colon = digest ? strchr(digest, ':') : NULL;
    if (!colon || colon == digest || !colon[1])
        return cm_err_set(err, 0, "invalid digest \"%s\"", digest ? digest : "");
    for (const char *p = digest; p < colon; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '+' || *p == '.' ||
              *p == '_' || *p == '-'))
            return cm_err_set(err, 0, "invalid digest algorithm in \"%s\"", digest);
    for (const char *p = colon + 1; *p; p++)
        if (!isalnum((unsigned char)*p))
            return cm_err_set(err, 0, "invalid digest \"%s\"", digest);
    snprintf(out, sz, "blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1);
    return 0;
}

static json_t *load_json(struct source *s, const char *name, struct cm_error *err)
{
    const unsigned char *d;
    size_t l;
    if (source_get(s, name, &d, &l, err) < 0)
        return NULL;
    json_error_t jerr;
    json_t *j = json_loadb((const char *)d, l, 0, &jerr);
    if (!j)
        cm_err_set(err, 0, "%s: invalid JSON at line %d: %s", name, jerr.line, jerr.text);
    return j;
}

static int merge_layers(struct source *s, const char *const *layers, size_t n, struct fsmap *m,
                        struct cm_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const unsigned char *d, *t;
        size_t l, tl;
        if (source_get(s, layers[i], &d, &l, err) < 0 || layer_tar(s, d, l, &t, &tl, err) < 0)
            return cm_err_prefix(err, "layer %zu (%s)", i + 1, layers[i]);
        struct layer_ctx lc = {.m = m, .layer = (int)i + 1};
        int r = cm_tar_iterate(t, tl, layer_entry, &lc, err);
        if (r == -ENOMEM)
            return cm_err_set(err, ENOMEM, "reading layer %s", layers[i]);
        if (r < 0)
            return cm_err_prefix(err, "layer %zu (%s)", i + 1, layers[i]);
    }
    return 0;
}

static int audit_layers(struct source *s, const char *const *layers, size_t n, const char *config,
                        const char *name, struct cm_report *r, struct cm_error *err)
{
    struct fsmap m = {0};
    const unsigned char *cd = NULL;
    size_t cl = 0;
    int ret = merge_layers(s, layers, n, &m, err);
    if (ret == 0 && config && source_get(s, config, &cd, &cl, err) < 0)
        ret = cm_err_prefix(err, "image config");
    if (ret == 0)
        ret = scan_map(&m, name, r, config, cd, cl, err);
    map_free(&m);
    return ret;
}

static int audit_docker_save(struct source *s, const char *name, struct cm_report *r,
                             struct cm_error *err)
{
    json_t *man = load_json(s, "manifest.json", err);
    if (!man)
        return -1;
    int ret = -1;
    json_t *img = json_array_get(man, 0);
    json_t *jl = json_object_get(img, "Layers");
    const char *config = json_string_value(json_object_get(img, "Config"));
    size_t n = json_array_size(jl);
    const char **layers = calloc(n + 1, sizeof(char *));
    if (!json_is_object(img) || !json_is_array(jl)) {
        cm_err_set(err, 0, "manifest.json: no image with Layers");
    } else if (!layers) {
        cm_err_set(err, ENOMEM, "reading manifest.json");
    } else {
        ret = 0;
        for (size_t i = 0; i < n && ret == 0; i++)
            if (!(layers[i] = json_string_value(json_array_get(jl, i))))
                ret = cm_err_set(err, 0, "manifest.json: layer %zu is not a path", i + 1);
        if (ret == 0)
            ret = audit_layers(s, layers, n, config, name, r, err);
    }
    free(layers);
    json_decref(man);
    return ret;
}

static int audit_oci(struct source *s, const char *name, struct cm_report *r, struct cm_error *err)
{
    json_t *doc = load_json(s, "index.json", err);
    char path[512];
    /* index -> (nested index ->) manifest */
    for (int depth = 0; doc && depth < 4; depth++) {
        json_t *ms = json_object_get(doc, "manifests");
        if (!json_is_array(ms))
            break;
        const char *dg = json_string_value(json_object_get(json_array_get(ms, 0), "digest"));
        json_t *next = NULL;
        if (blob_path(dg, path, sizeof(path), err) == 0)
            next = load_json(s, path, err);
        json_decref(doc);
        doc = next;
    }
    if (!doc)
        return cm_err_prefix(err, "reading the OCI layout");
    int ret = -1;
    json_t *jl = json_object_get(doc, "layers");
    size_t n = json_array_size(jl);
    char **paths = calloc(n + 1, sizeof(char *));
    char cfg[512];
    const char *cdg = json_string_value(json_object_get(json_object_get(doc, "config"), "digest"));
    if (!json_is_array(jl)) {
        cm_err_set(err, 0, "OCI manifest without layers");
    } else if (!paths) {
        cm_err_set(err, ENOMEM, "reading the OCI manifest");
    } else if (blob_path(cdg, cfg, sizeof(cfg), err) == 0) {
        ret = 0;
        for (size_t i = 0; i < n && ret == 0; i++) {
            char p[512];
            const char *dg = json_string_value(json_object_get(json_array_get(jl, i), "digest"));
            if (blob_path(dg, p, sizeof(p), err) < 0 || !(paths[i] = strdup(p)))
                ret = -1;
        }
        if (ret == 0)
            ret = audit_layers(s, (const char *const *)paths, n, cfg, name, r, err);
    }
    for (size_t i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
    json_decref(doc);
    return ret;
}

int cm_audit_image_archive(const unsigned char *buf, size_t len, const char *name,
                           struct cm_report *r, struct cm_error *err)
{
    struct source s = {.dirfd = -1, .tar = buf, .tar_len = len};
    int ret;
    if (!cm_tar_probe(buf, len)) {
        ret = cm_err_set(err, 0, "%s: not a tar archive, OCI layout or root filesystem", name);
        goto out;
    }
    ret = cm_tar_iterate(buf, len, outer_entry, &s.outer, err);
    if (ret == -ENOMEM) {
        ret = cm_err_set(err, ENOMEM, "reading %s", name);
        goto out;
    }
    if (ret < 0) {
        cm_err_prefix(err, "reading %s", name);
        goto out;
    }
    if (map_get(&s.outer, "/manifest.json")) {
        ret = audit_docker_save(&s, name, r, err);
    } else if (map_get(&s.outer, "/index.json") && map_get(&s.outer, "/oci-layout")) {
        ret = audit_oci(&s, name, r, err);
    } else {
        /* a root filesystem tar (docker export, a tarball of a rootfs) */
        struct fsmap m = {0};
        struct layer_ctx lc = {.m = &m, .layer = 1};
        ret = cm_tar_iterate(buf, len, layer_entry, &lc, err);
        if (ret == -ENOMEM)
            ret = cm_err_set(err, ENOMEM, "reading %s", name);
        if (ret == 0)
            ret = scan_map(&m, name, r, NULL, NULL, 0, err);
        map_free(&m);
    }
    if (ret < 0)
        cm_err_prefix(err, "auditing image %s", name);
out:
    source_free(&s);
    return ret < 0 ? -1 : 0;
}

int cm_audit_image(const char *target, struct cm_report *r, struct cm_error *err)
{
    /* The target itself is the user's path and may be a symlink; nothing
     * below it is followed. */
    _cleanup_close_ int fd = open(target, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return cm_err_sys(err, "auditing image %s", target);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return cm_err_sys(err, "auditing image %s", target);
    if (S_ISDIR(st.st_mode)) {
        struct stat ls;
        if (fstatat(fd, "oci-layout", &ls, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(ls.st_mode) &&
            fstatat(fd, "index.json", &ls, AT_SYMLINK_NOFOLLOW) == 0) {
            struct source s = {.dirfd = fd};
            int ret = audit_oci(&s, target, r, err);
            source_free(&s);
            if (ret < 0)
                cm_err_prefix(err, "auditing image %s", target);
            return ret < 0 ? -1 : 0;
        }
        return audit_rootfs_dir(fd, target, r, err);
    }
    if (!S_ISREG(st.st_mode))
        return cm_err_set(err, 0, "auditing image %s: not a directory or an archive file", target);
    if (st.st_size == 0)
        return cm_err_set(err, 0, "auditing image %s: empty file", target);
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return cm_err_sys(err, "auditing image %s: mapping the archive", target);
    const unsigned char *d = p;
    size_t l = (size_t)st.st_size;
    int ret;
    /* a compressed archive: image.tar.gz from `docker save | gzip` */
    struct source tmp = {.dirfd = -1};
    const unsigned char *t = d;
    size_t tl = l;
    if (l >= 4 && ((d[0] == 0x1f && d[1] == 0x8b) ||
                   (d[0] == 0x28 && d[1] == 0xb5 && d[2] == 0x2f && d[3] == 0xfd))) {
        if (layer_tar(&tmp, d, l, &t, &tl, err) < 0) {
            source_free(&tmp);
            munmap(p, l);
            return cm_err_prefix(err, "auditing image %s", target);
        }
    }
    ret = cm_audit_image_archive(t, tl, target, r, err);
    source_free(&tmp);
    munmap(p, l);
    return ret;
}
