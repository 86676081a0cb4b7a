/* test_passwd.c: --user resolution against a root filesystem's own
 * /etc/passwd and /etc/group, including hostile roots whose files are
 * symlinks pointing out of the root. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/cleanup.h"
#include "util/passwd.h"
#include "util/safepath.h"

struct fixture {
    char dir[64];   /* /tmp/passwd-test-XXXXXX */
    char root[128]; /* dir/root: the container root */
    int rootfd;
};

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

static void write_at(struct fixture *f, const char *rel, const char *content)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
    _cleanup_fclose_ FILE *fp = fopen(path, "we");
    assert_non_null(fp);
    assert_int_equal(fputs(content, fp) >= 0, 1);
}

static void symlink_at(struct fixture *f, const char *target, const char *rel)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
    assert_int_equal(symlink(target, path), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/passwd-test-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->root, sizeof(f->root), "%s/root", f->dir);
    char etc[160];
    snprintf(etc, sizeof(etc), "%s/etc", f->root);
    if (mkdir(f->root, 0755) < 0 || mkdir(etc, 0755) < 0)
        return -1;
    f->rootfd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    *state = f;
    return f->rootfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    cm_safepath_force_fallback = false;
    if (f->rootfd >= 0)
        close(f->rootfd);
    int r = nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return r;
}

static const char standard_passwd[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "app:x:1000:1000:App,,,:/home/app:/bin/sh\n"
    "app:x:1001:1001:duplicate, first wins:/home/dup:/bin/sh\n"
    "nohome:x:1002:1002\n"
    "big:x:4294967294:4294967294::/big:/bin/sh\n";

static const char standard_group[] =
    "root:x:0:\n"
    "daemon:x:1:app\n"
    "staff:x:50:root, app ,other\n"
    "app:x:1000:\n"
    "audio:x:29:app\n"
    "audio2:x:29:app\n" /* same gid twice: listed once */
    "video:x:44:apple,ap\n";

static void standard_root(struct fixture *f)
{
    write_at(f, "root/etc/passwd", standard_passwd);
    write_at(f, "root/etc/group", standard_group);
}

static void expect_groups(const struct cm_user *u, const gid_t *want, size_t n)
{
    assert_int_equal(u->n_groups, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(u->groups[i], want[i]);
}

static void test_by_name(void **state)
{
    struct fixture *f = *state;
    standard_root(f);
    struct cm_user u = {0};
    struct cm_error err = {0};
    assert_int_equal(cm_user_resolve(f->rootfd, "app", &u, &err), 0);
    assert_int_equal(u.uid, 1000);
    assert_int_equal(u.gid, 1000);
    assert_string_equal(u.name, "app");
    assert_string_equal(u.home, "/home/app");
    static const gid_t want[] = {1, 50, 29};
    expect_groups(&u, want, ARRAY_SIZE(want));
    cm_user_free(&u);
}

static void test_by_uid_in_passwd(void **state)
{
    struct fixture *f = *state;
    standard_root(f);
    struct cm_user u = {0};
    struct cm_error err = {0};
    assert_int_equal(cm_user_resolve(f->rootfd, "0", &u, &err), 0);
    assert_int_equal(u.uid, 0);
    assert_int_equal(u.gid, 0);
    assert_string_equal(u.name, "root");
    assert_string_equal(u.home, "/root");
    static const gid_t want[] = {50};
    expect_groups(&u, want, ARRAY_SIZE(want));
    cm_user_free(&u);
}

static void test_uid_not_in_passwd(void **state)
{
    struct fixture *f = *state;
    standard_root(f);
    struct cm_user u = {0};
    struct cm_error err = {0};
    assert_int_equal(cm_user_resolve(f->rootfd, "4242", &u, &err), 0);
    assert_int_equal(u.uid, 4242);
    assert_int_equal(u.gid, 0);
    assert_null(u.name);
    assert_string_equal(u.home, "/");
    assert_int_equal(u.n_groups, 0);
    cm_user_free(&u);
}

static void test_name_and_group(void **state)
{
    struct fixture *f = *state;
    standard_root(f);
    struct cm_user u = {0};
    struct cm_error err = {0};
    /* An explicit group brings no supplementary groups (as runc). */
    assert_int_equal(cm_user_resolve(f->rootfd, "app:staff", &u, &err), 0);
    assert_int_equal(u.uid, 1000);
    assert_int_equal(u.gid, 50);
    assert_int_equal(u.n_groups, 0);
    cm_user_free(&u);

    assert_int_equal(cm_user_resolve(f->rootfd, "1000:audio", &u, &err), 0);
    assert_int_equal(u.uid, 1000);
    assert_int_equal(u.gid, 29);
    assert_string_equal(u.home, "/home/app");
    cm_user_free(&u);

    assert_int_equal(cm_user_resolve(f->rootfd, "5000:6000", &u, &err), 0);
    assert_int_equal(u.uid, 5000);
    assert_int_equal(u.gid, 6000);
    assert_null(u.name);
    cm_user_free(&u);

    assert_int_equal(cm_user_resolve(f->rootfd, "daemon:44", &u, &err), 0);
    assert_int_equal(u.uid, 1);
    assert_int_equal(u.gid, 44);
    cm_user_free(&u);

    /* An empty user part is root, the default user. */
    assert_int_equal(cm_user_resolve(f->rootfd, ":staff", &u, &err), 0);
    assert_int_equal(u.uid, 0);
    assert_int_equal(u.gid, 50);
    cm_user_free(&u);
}

static void test_home_default(void **state)
{
    struct fixture *f = *state;
    standard_root(f);
    struct cm_user u = {0};
    struct cm_error err = {0};
    assert_int_equal(cm_user_resolve(f->rootfd, "nohome", &u, &err), 0);
    assert_int_equal(u.uid, 1002);
    assert_string_equal(u.home, "/");
    cm_user_free(&u);
}

static void test_unknown_names(void **state)
{
    struct fixture *f = *state;
    standard_root(f);
    struct cm_user u = {0};
    struct cm_error err = {0};
    char want[256];
    assert_int_equal(cm_user_resolve(f->rootfd, "bob", &u, &err), -1);
    snprintf(want, sizeof(want), "user 'bob' not found in %s/etc/passwd", f->root);
    assert_string_equal(err.msg, want);
    assert_null(u.name);
    assert_null(u.groups);

    assert_int_equal(cm_user_resolve(f->rootfd, "app:wheel", &u, &err), -1);
    snprintf(want, sizeof(want), "group 'wheel' not found in %s/etc/group", f->root);
    assert_string_equal(err.msg, want);
    assert_null(u.home);

    /* A member list entry that only shares a prefix is no membership. */
    write_at(f, "root/etc/passwd", "ap:x:7:7::/:/bin/sh\n");
    assert_int_equal(cm_user_resolve(f->rootfd, "ap", &u, &err), 0);
    static const gid_t want_ap[] = {44};
    expect_groups(&u, want_ap, ARRAY_SIZE(want_ap));
    cm_user_free(&u);
}

static void test_id_range(void **state)
{
    struct fixture *f = *state;
    standard_root(f);
    struct cm_user u = {0};
    struct cm_error err = {0};
    assert_int_equal(cm_user_resolve(f->rootfd, "4294967294", &u, &err), 0);
    assert_int_equal(u.uid, 4294967294u);
    assert_string_equal(u.name, "big");
    cm_user_free(&u);

    static const char *const bad[] = {"4294967295", "99999999999999999999", "0:4294967295",
                                      "1:2:3"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        cm_err_clear(&err);
        assert_int_equal(cm_user_resolve(f->rootfd, bad[i], &u, &err), -1);
        assert_non_null(strstr(err.msg, "invalid user"));
        assert_null(u.home);
    }
    /* A sign makes it a name, which does not exist. */
    assert_int_equal(cm_user_resolve(f->rootfd, "-1", &u, &err), -1);
    assert_non_null(strstr(err.msg, "user '-1' not found"));
}

static void test_malformed_lines_skipped(void **state)
{
    struct fixture *f = *state;
    /* runc reads a non-numeric uid as 0: "evil" must not become root. */
    write_at(f, "root/etc/passwd",
             "# comment:x:0:0::/:/bin/sh\n"
             "\n"
             "evil:x:abc:0::/evil:/bin/sh\n"
             "evil2:x:0:zz::/evil:/bin/sh\n"
             "short:x:5\n"
             ":x:6:6::/noname:/bin/sh\n"
             "huge:x:4294967295:0::/:/bin/sh\n"
             "neg:x:-1:0::/:/bin/sh\n"
             "+nis:x:7:7::/:/bin/sh\n"
             "   \t \r\n"
             "ok:x:10:10::/home/ok:/bin/sh\r\n"
             "last:x:11:11::/home/last:/bin/sh"); /* no final newline */
    write_at(f, "root/etc/group",
             "bad:x:nope:ok\n"
             "nocolon\n"
             "good:x:20:ok\n");
    static const char *const skipped[] = {"evil", "evil2", "short", "huge", "neg", "+nis", "#"};
    struct cm_user u = {0};
    struct cm_error err = {0};
    for (size_t i = 0; i < ARRAY_SIZE(skipped); i++) {
        assert_int_equal(cm_user_resolve(f->rootfd, skipped[i], &u, &err), -1);
        assert_non_null(strstr(err.msg, "not found"));
    }
    /* uid 6 has an entry without a name: numeric, not in passwd. */
    assert_int_equal(cm_user_resolve(f->rootfd, "6", &u, &err), 0);
    assert_null(u.name);
    assert_string_equal(u.home, "/");
    cm_user_free(&u);

    assert_int_equal(cm_user_resolve(f->rootfd, "ok", &u, &err), 0);
    assert_int_equal(u.uid, 10);
    assert_string_equal(u.home, "/home/ok");
    static const gid_t want[] = {20};
    expect_groups(&u, want, ARRAY_SIZE(want));
    cm_user_free(&u);

    assert_int_equal(cm_user_resolve(f->rootfd, "last", &u, &err), 0);
    assert_int_equal(u.uid, 11);
    assert_string_equal(u.home, "/home/last");
    cm_user_free(&u);
}

static void test_long_lines(void **state)
{
    struct fixture *f = *state;
    /* A 1 MiB GECOS field before the entry we want (runc's scanner stops
     * at 64 KiB), and a 1 MiB member list. */
    size_t big = 1024 * 1024;
    _cleanup_free_ char *passwd = malloc(big + 256);
    _cleanup_free_ char *group = malloc(big + 256);
    assert_non_null(passwd);
    assert_non_null(group);
    int n = sprintf(passwd, "filler:x:1:1:");
    memset(passwd + n, 'g', big);
    sprintf(passwd + n + big, ":/:/bin/sh\nlong:x:3000:3000::/home/long:/bin/sh\n");
    n = sprintf(group, "many:x:77:");
    for (size_t i = 0; i < big / 8; i++)
        n += sprintf(group + n, "u%06zu,", i % 1000000);
    sprintf(group + n, "long\n");
    write_at(f, "root/etc/passwd", passwd);
    write_at(f, "root/etc/group", group);

    struct cm_user u = {0};
    struct cm_error err = {0};
    assert_int_equal(cm_user_resolve(f->rootfd, "long", &u, &err), 0);
    assert_int_equal(u.uid, 3000);
    static const gid_t want[] = {77};
    expect_groups(&u, want, ARRAY_SIZE(want));
    cm_user_free(&u);
}

static void test_missing_files(void **state)
{
    struct fixture *f = *state;
    struct cm_user u = {0};
    struct cm_error err = {0};
    /* No /etc/passwd nor /etc/group: numbers are fine, names are not. */
    assert_int_equal(cm_user_resolve(f->rootfd, "1000:1000", &u, &err), 0);
    assert_int_equal(u.uid, 1000);
    assert_int_equal(u.gid, 1000);
    assert_string_equal(u.home, "/");
    cm_user_free(&u);
    assert_int_equal(cm_user_resolve(f->rootfd, "0", &u, &err), 0);
    assert_int_equal(u.uid, 0);
    assert_int_equal(u.gid, 0);
    cm_user_free(&u);

    assert_int_equal(cm_user_resolve(f->rootfd, "app", &u, &err), -1);
    assert_non_null(strstr(err.msg, "user 'app' not found"));
    assert_non_null(strstr(err.msg, "/etc/passwd does not exist"));

    write_at(f, "root/etc/passwd", standard_passwd);
    assert_int_equal(cm_user_resolve(f->rootfd, "app:staff", &u, &err), -1);
    assert_non_null(strstr(err.msg, "group 'staff' not found"));
    /* A user without /etc/group simply has no supplementary groups. */
    assert_int_equal(cm_user_resolve(f->rootfd, "app", &u, &err), 0);
    assert_int_equal(u.n_groups, 0);
    cm_user_free(&u);

    /* /etc itself missing (ENOTDIR when it is a file). */
    char etc[PATH_MAX];
    snprintf(etc, sizeof(etc), "%s/etc", f->root);
    assert_int_equal(nftw(etc, rm_entry, 4, FTW_DEPTH | FTW_PHYS), 0);
    write_at(f, "root/etc", "not a directory\n");
    assert_int_equal(cm_user_resolve(f->rootfd, "7", &u, &err), 0);
    assert_int_equal(u.uid, 7);
    cm_user_free(&u);
}

static void test_not_regular(void **state)
{
    struct fixture *f = *state;
    struct cm_user u = {0};
    struct cm_error err = {0};
    char path[PATH_MAX];
    /* A FIFO must neither hang us nor be read. */
    snprintf(path, sizeof(path), "%s/etc/passwd", f->root);
    assert_int_equal(mkfifo(path, 0644), 0);
    assert_int_equal(cm_user_resolve(f->rootfd, "1000", &u, &err), -1);
    assert_non_null(strstr(err.msg, "not a regular file"));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(cm_user_resolve(f->rootfd, "app", &u, &err), -1);
    assert_non_null(strstr(err.msg, "not a regular file"));
    assert_null(u.home);
}

/* A hostile root: /etc/passwd and /etc/group point out of the root. The
 * files just outside the root define users with home /HOST; the host's
 * /etc/shadow would parse as "root" with uid 20228 or so. Neither may ever
 * be seen: links resolve inside the root, to the root's own file or to
 * nothing. `own` puts decoys inside the root where the links land. */
enum { OWN_NONE, OWN_DECOYS };

static void hostile(struct fixture *f, const char *passwd_target, const char *group_target,
                    int own, const char *want_root_home, long want_hostonly_uid)
{
    write_at(f, "outside-passwd", "root:x:0:0::/HOST:/bin/sh\nhostonly:x:1:1::/HOST:/bin/sh\n");
    write_at(f, "outside-group", "hostgrp:x:99:root,hostonly\n");
    symlink_at(f, passwd_target, "root/etc/passwd");
    symlink_at(f, group_target, "root/etc/group");
    if (own == OWN_DECOYS) {
        write_at(f, "root/etc/shadow", "root:x:0:0::/from-rootfs:/bin/sh\n");
        write_at(f, "root/outside-passwd", "hostonly:x:5:5::/from-rootfs:/bin/sh\n");
    }

    struct cm_user u = {0};
    struct cm_error err = {0};
    int r = cm_user_resolve(f->rootfd, "root", &u, &err);
    if (want_root_home) {
        assert_int_equal(r, 0);
        assert_string_equal(u.home, want_root_home);
        assert_int_equal(u.uid, 0);
        assert_int_equal(u.n_groups, 0);
        cm_user_free(&u);
    } else {
        assert_int_equal(r, -1);
        assert_non_null(strstr(err.msg, "user 'root' not found"));
    }
    r = cm_user_resolve(f->rootfd, "hostonly", &u, &err);
    if (want_hostonly_uid >= 0) {
        assert_int_equal(r, 0);
        assert_string_equal(u.home, "/from-rootfs");
        assert_int_equal(u.uid, want_hostonly_uid);
        assert_int_equal(u.n_groups, 0);
        cm_user_free(&u);
    } else {
        assert_int_equal(r, -1);
        assert_non_null(strstr(err.msg, "user 'hostonly' not found"));
    }
    /* Numeric users work whatever the links do, and see nothing of the
     * host either. */
    assert_int_equal(cm_user_resolve(f->rootfd, "1", &u, &err), 0);
    assert_int_equal(u.gid, 0);
    assert_string_equal(u.home, "/");
    assert_null(u.name);
    cm_user_free(&u);
}

static void test_hostile_abs_shadow(void **state)
{
    hostile(*state, "/etc/shadow", "/etc/gshadow", OWN_NONE, NULL, -1);
}

static void test_hostile_rel_shadow(void **state)
{
    hostile(*state, "../../../../../../../../etc/shadow", "../../../../../../../etc/gshadow",
            OWN_NONE, NULL, -1);
}

static void test_hostile_abs_shadow_own(void **state)
{
    hostile(*state, "/etc/shadow", "/etc/gshadow", OWN_DECOYS, "/from-rootfs", -1);
}

static void test_hostile_rel_shadow_own(void **state)
{
    hostile(*state, "../../../../../../../../etc/shadow", "../../../../../../../etc/gshadow",
            OWN_DECOYS, "/from-rootfs", -1);
}

/* Targets we control, so the test does not depend on the host's
 * /etc/shadow: the files just outside the root. */
static void test_hostile_outside_abs(void **state)
{
    struct fixture *f = *state;
    char abs_passwd[PATH_MAX], abs_group[PATH_MAX];
    snprintf(abs_passwd, sizeof(abs_passwd), "%s/outside-passwd", f->dir);
    snprintf(abs_group, sizeof(abs_group), "%s/outside-group", f->dir);
    hostile(f, abs_passwd, abs_group, OWN_NONE, NULL, -1);
}

static void test_hostile_outside_rel(void **state)
{
    /* ../../outside-passwd from /etc lands on the root's own /outside-passwd. */
    hostile(*state, "../../outside-passwd", "../../outside-group", OWN_DECOYS, NULL, 5);
}

static void test_hostile_outside_rel_missing(void **state)
{
    hostile(*state, "../../outside-passwd", "../../outside-group", OWN_NONE, NULL, -1);
}

/* The same through safepath's fallback walk (no openat2). */
static void test_hostile_fallback(void **state)
{
    cm_safepath_force_fallback = true;
    hostile(*state, "../../outside-passwd", "/../outside-group", OWN_NONE, NULL, -1);
}

static void test_hostile_fallback_own(void **state)
{
    cm_safepath_force_fallback = true;
    hostile(*state, "../../../outside-passwd", "../../../../../../../etc/gshadow", OWN_DECOYS,
            NULL, 5);
}

static void test_hostile_fallback_shadow(void **state)
{
    cm_safepath_force_fallback = true;
    hostile(*state, "/etc/shadow", "/etc/gshadow", OWN_DECOYS, "/from-rootfs", -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_by_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_by_uid_in_passwd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uid_not_in_passwd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_and_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_home_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_id_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_lines_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_abs_shadow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_rel_shadow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_abs_shadow_own, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_rel_shadow_own, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_outside_abs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_outside_rel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_outside_rel_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_fallback_own, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_fallback_shadow, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
