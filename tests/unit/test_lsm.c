/* test_lsm.c: LSM detection on this host and on a fake /sys, and Landlock
 * confinement of a forked child. */
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
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/lsm.h"
#include "util/cleanup.h"

struct fixture {
    char rw[64];      /* writable under Landlock */
    char ro[64];      /* readable only, holds "file" */
    char fake[64];    /* a fake /sys tree */
    char outside[96]; /* a path in /tmp outside both: must stay uncreated */
};

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    *state = f;
    snprintf(f->rw, sizeof(f->rw), "/tmp/lsm-test-rw-XXXXXX");
    snprintf(f->ro, sizeof(f->ro), "/tmp/lsm-test-ro-XXXXXX");
    snprintf(f->fake, sizeof(f->fake), "/tmp/lsm-test-sys-XXXXXX");
    snprintf(f->outside, sizeof(f->outside), "/tmp/lsm-test-outside-%d", (int)getpid());
    if (!mkdtemp(f->rw) || !mkdtemp(f->ro) || !mkdtemp(f->fake))
        return -1;
    char path[128];
    snprintf(path, sizeof(path), "%s/file", f->ro);
    _cleanup_fclose_ FILE *fp = fopen(path, "we");
    return fp && fputs("content\n", fp) >= 0 ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    cm_lsm_sysfs_prefix = "";
    int r = 0;
    const char *dirs[] = {f->rw, f->ro, f->fake};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
        if (dirs[i][0] && access(dirs[i], F_OK) == 0 &&
            nftw(dirs[i], rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
            r = -1;
    /* Present only if the confinement failed: remove it anyway. */
    unlink(f->outside);
    free(f);
    return r;
}

static void test_apparmor_absent(void **state)
{
    (void)state;
    if (access("/sys/module/apparmor", F_OK) == 0)
        skip(); /* this host has AppArmor built in */
    struct cm_error err = {0};
    assert_int_equal(cm_lsm_check_apparmor("docker-default", &err), -1);
    assert_string_equal(err.msg, "AppArmor profile 'docker-default' requested but AppArmor is not "
                                 "enabled on this host "
                                 "(/sys/module/apparmor/parameters/enabled missing)");
    cm_err_clear(&err);
    assert_int_equal(cm_lsm_apply_apparmor("docker-default", &err), -1);
    assert_non_null(strstr(err.msg, "AppArmor is not enabled"));
    /* "unconfined" is what a host without AppArmor already is. */
    assert_int_equal(cm_lsm_check_apparmor("unconfined", &err), 0);
    assert_int_equal(cm_lsm_apply_apparmor("unconfined", &err), 0);
}

static void test_selinux_absent(void **state)
{
    (void)state;
    if (access("/sys/fs/selinux/enforce", F_OK) == 0)
        skip();
    struct cm_error err = {0};
    assert_int_equal(cm_lsm_check_selinux("system_u:system_r:container_t:s0", &err), -1);
    assert_string_equal(err.msg, "SELinux label 'system_u:system_r:container_t:s0' requested but "
                                 "SELinux is not enabled on this host "
                                 "(/sys/fs/selinux/enforce missing)");
    cm_err_clear(&err);
    assert_int_equal(cm_lsm_apply_selinux("system_u:system_r:container_t:s0", &err), -1);
    assert_non_null(strstr(err.msg, "SELinux is not enabled"));
}

static void test_bad_labels(void **state)
{
    (void)state;
    struct cm_error err = {0};
    assert_int_equal(cm_lsm_check_apparmor("", &err), -1);
    assert_non_null(strstr(err.msg, "empty name"));
    assert_int_equal(cm_lsm_check_apparmor("unconfined\nchangeprofile x", &err), -1);
    assert_non_null(strstr(err.msg, "control character"));
    assert_int_equal(cm_lsm_check_selinux(NULL, &err), -1);
    assert_non_null(strstr(err.msg, "empty name"));
    char big[5000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(cm_lsm_check_selinux(big, &err), -1);
    assert_non_null(strstr(err.msg, "too long"));
}

static void fake_file(struct fixture *f, const char *rel, const char *content)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s%s", f->fake, rel);
    /* mkdir -p of the parent */
    for (char *p = path + strlen(f->fake) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
        *p = '/';
    }
    _cleanup_fclose_ FILE *fp = fopen(path, "we");
    assert_non_null(fp);
    assert_true(fputs(content, fp) >= 0);
}

static void test_fake_sys(void **state)
{
    struct fixture *f = *state;
    struct cm_error err = {0};
    cm_lsm_sysfs_prefix = f->fake;

    /* Built in, disabled. */
    fake_file(f, "/sys/module/apparmor/parameters/enabled", "N\n");
    assert_int_equal(cm_lsm_check_apparmor("docker-default", &err), -1);
    assert_non_null(strstr(err.msg, "(/sys/module/apparmor/parameters/enabled is N)"));
    _cleanup_free_ char *d1 = cm_lsm_describe();
    assert_non_null(d1);
    assert_non_null(strstr(d1, "AppArmor: built in but disabled; SELinux: not enabled"));
    assert_non_null(strstr(d1, "unknown (/sys/kernel/security/lsm unreadable)"));

    /* Enabled, with SELinux permissive and then enforcing. */
    fake_file(f, "/sys/module/apparmor/parameters/enabled", "Y\n");
    fake_file(f, "/sys/fs/selinux/enforce", "0");
    fake_file(f, "/sys/kernel/security/lsm", "capability,landlock,yama,apparmor,bpf");
    assert_int_equal(cm_lsm_check_apparmor("docker-default", &err), 0);
    assert_int_equal(cm_lsm_check_selinux("system_u:system_r:container_t:s0", &err), 0);
    _cleanup_free_ char *d2 = cm_lsm_describe();
    assert_non_null(d2);
    assert_non_null(
        strstr(d2, "landlock,yama,apparmor,bpf; AppArmor: enabled; SELinux: permissive"));
    fake_file(f, "/sys/fs/selinux/enforce", "1");
    _cleanup_free_ char *d3 = cm_lsm_describe();
    assert_non_null(d3);
    assert_non_null(strstr(d3, "SELinux: enforcing"));
}

static void test_describe_host(void **state)
{
    (void)state;
    _cleanup_free_ char *d = cm_lsm_describe();
    assert_non_null(d);
    if (access("/sys/module/apparmor", F_OK) != 0)
        assert_non_null(strstr(d, "AppArmor: not built in"));
    if (access("/sys/fs/selinux/enforce", F_OK) != 0)
        assert_non_null(strstr(d, "SELinux: not enabled"));
    char want[32];
    int abi = cm_landlock_supported();
    if (abi > 0)
        snprintf(want, sizeof(want), "Landlock: ABI %d", abi);
    else
        snprintf(want, sizeof(want), "Landlock: not available");
    assert_non_null(strstr(d, want));
    /* This kernel lists its modules (securityfs or lsm_list_modules). */
    assert_null(strstr(d, "unknown"));
    assert_null(strstr(d, "capability"));
}

/* Child-side checks: each returns the step number on failure, so the
 * parent can say which property broke. */
static int expect_errno(int r, int want)
{
    return r < 0 && errno == want;
}

static int confined_child(const struct fixture *f)
{
    char path[256];
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return 1;
    const char *ro[] = {"/usr", f->ro, NULL};
    const char *rw[] = {f->rw, NULL};
    struct cm_error err = {0};
    if (cm_landlock_restrict(ro, rw, NULL, &err) < 0) {
        fprintf(stderr, "restrict: %s\n", err.msg);
        return 2;
    }
    int fd = open("/usr/bin/env", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 3;
    close(fd);
    if (!expect_errno(open("/etc/hostname", O_RDONLY | O_CLOEXEC), EACCES))
        return 4;
    snprintf(path, sizeof(path), "%s/new", f->rw);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, "x", 1) != 1)
        return 5;
    close(fd);
    if (!expect_errno(open(f->outside, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), EACCES))
        return 6;
    /* Read-only trees: no write, no truncate (ABI 3), no new entries. */
    snprintf(path, sizeof(path), "%s/file", f->ro);
    if (!expect_errno(open(path, O_WRONLY | O_CLOEXEC), EACCES))
        return 7;
    if (cm_landlock_supported() >= 3 && !expect_errno(truncate(path, 0), EACCES))
        return 8;
    snprintf(path, sizeof(path), "%s/dir", f->ro);
    if (!expect_errno(mkdir(path, 0755), EACCES))
        return 9;
    /* Readable is not executable: /usr is ro here. */
    char *const argv[] = {"true", NULL};
    if (!expect_errno(execv("/usr/bin/true", argv), EACCES))
        return 10;
    return 0;
}

static int run_child(int (*fn)(const struct fixture *), const struct fixture *f)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(fn(f));
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_landlock_confines(void **state)
{
    struct fixture *f = *state;
    if (cm_landlock_supported() == 0)
        skip();
    assert_int_equal(run_child(confined_child, f), 0);
    /* The confinement was the child's alone. */
    assert_int_equal(access(f->outside, F_OK), -1);
    assert_int_equal(errno, ENOENT);
    char path[128];
    snprintf(path, sizeof(path), "%s/new", f->rw);
    assert_int_equal(access(path, F_OK), 0);
    int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    close(fd);
}

static int exec_child(const struct fixture *f)
{
    (void)f;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return 1;
    /* rx on the trees (whichever exist: merged /usr or not), ro on a
     * single file inside another one. */
    static const char *const libs[] = {"/usr", "/lib", "/lib64", "/lib32"};
    const char *rx[ARRAY_SIZE(libs) + 1] = {0};
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(libs); i++)
        if (access(libs[i], F_OK) == 0)
            rx[n++] = libs[i];
    const char *ro[] = {"/etc/hostname", NULL};
    struct cm_error err = {0};
    if (cm_landlock_restrict(ro, NULL, rx, &err) < 0) {
        fprintf(stderr, "restrict: %s\n", err.msg);
        return 2;
    }
    int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 3;
    close(fd);
    if (!expect_errno(open("/etc/passwd", O_RDONLY | O_CLOEXEC), EACCES))
        return 4;
    if (!expect_errno(open("/usr/bin/env", O_WRONLY | O_CLOEXEC), EACCES))
        return 5;
    char *const argv[] = {"true", NULL};
    execv("/usr/bin/true", argv);
    return 6;
}

static void test_landlock_exec_and_file_rule(void **state)
{
    if (cm_landlock_supported() == 0)
        skip();
    assert_int_equal(run_child(exec_child, *state), 0);
}

static int no_nnp_child(const struct fixture *f)
{
    (void)f;
    /* Lose CAP_SYS_ADMIN (which would stand in for no_new_privs). */
    if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
        return 1;
    const char *ro[] = {"/usr", NULL};
    struct cm_error err = {0};
    if (cm_landlock_restrict(ro, NULL, NULL, &err) == 0)
        return 2;
    if (!strstr(err.msg, "no_new_privs is not set"))
        return 3;
    if (open("/etc/hostname", O_RDONLY | O_CLOEXEC) < 0)
        return 4; /* a failed restrict must not half-confine */
    return 0;
}

static void test_landlock_needs_nnp(void **state)
{
    if (cm_landlock_supported() == 0 || geteuid() != 0)
        skip();
    assert_int_equal(run_child(no_nnp_child, *state), 0);
}

static void test_landlock_bad_path(void **state)
{
    (void)state;
    if (cm_landlock_supported() == 0)
        skip();
    /* Fails before restricting: safe to call in the test process. */
    const char *ro[] = {"/usr", "/nonexistent-lsm-test", NULL};
    struct cm_error err = {0};
    assert_int_equal(cm_landlock_restrict(ro, NULL, NULL, &err), -1);
    assert_string_equal(err.msg, "opening /nonexistent-lsm-test for a Landlock rule: No such file "
                                 "or directory");
    int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apparmor_absent),
        cmocka_unit_test(test_selinux_absent),
        cmocka_unit_test(test_bad_labels),
        cmocka_unit_test_setup_teardown(test_fake_sys, setup, teardown),
        cmocka_unit_test(test_describe_host),
        cmocka_unit_test_setup_teardown(test_landlock_confines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_landlock_exec_and_file_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_landlock_needs_nnp, setup, teardown),
        cmocka_unit_test(test_landlock_bad_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
