/* test_rlimits.c: --ulimit parsing, prlimit on real processes, and
 * oom_score_adj, including the message when CAP_SYS_RESOURCE is missing.
 * Limits are changed in forked children only, never in the test process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/rlimits.h"
#include "util/cleanup.h"

static bool have_sys_resource(void)
{
    return prctl(PR_CAPBSET_READ, CAP_SYS_RESOURCE, 0, 0, 0) == 1;
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(cm_rlimit_from_name("nofile"), RLIMIT_NOFILE);
    assert_int_equal(cm_rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
    assert_int_equal(cm_rlimit_from_name("NPROC"), RLIMIT_NPROC);
    assert_int_equal(cm_rlimit_from_name("bogus"), -1);
    assert_int_equal(cm_rlimit_from_name(NULL), -1);
    assert_string_equal(cm_rlimit_name(RLIMIT_CORE), "core");
    assert_string_equal(cm_rlimit_name(RLIMIT_STACK), "stack");
}

static void test_parse(void **state)
{
    (void)state;
    struct cm_rlimit l;
    struct cm_error err;
    assert_int_equal(cm_rlimit_parse("nofile=1024:2048", &l, &err), 0);
    assert_int_equal(l.resource, RLIMIT_NOFILE);
    assert_int_equal(l.soft, 1024);
    assert_int_equal(l.hard, 2048);
    assert_int_equal(cm_rlimit_parse("nproc=64", &l, &err), 0);
    assert_int_equal(l.soft, 64);
    assert_int_equal(l.hard, 64);
    assert_int_equal(cm_rlimit_parse("core=unlimited", &l, &err), 0);
    assert_true(l.soft == RLIM_INFINITY && l.hard == RLIM_INFINITY);
    assert_int_equal(cm_rlimit_parse("stack=8192:-1", &l, &err), 0);
    assert_true(l.soft == 8192 && l.hard == RLIM_INFINITY);

    static const char *const bad[] = {"nofile", "bogus=1", "nofile=2:1", "nofile=abc", "nofile=", "nofile=1:",
                                      "=5", "nofile=99999999999999999999999", "averyveryveryverylongnamethatisnotalimit=1"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(cm_rlimit_parse(bad[i], &l, &err), -1);
        assert_non_null(strstr(err.msg, "--ulimit"));
    }
}

/* Run `fn` in a child; it returns 0 or fills msg. */
static int in_child(int (*fn)(char *msg, size_t len), char *msg, size_t len)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        char m[1024] = "";
        int r = fn(m, sizeof(m));
        if (write(p[1], m, strlen(m)) < 0)
            _exit(3);
        _exit(r == 0 ? 0 : 1);
    }
    close(p[1]);
    ssize_t n = read(p[0], msg, len - 1);
    close(p[0]);
    msg[n > 0 ? n : 0] = '\0';
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int lower_nofile(char *msg, size_t len)
{
    struct rlimit cur;
    getrlimit(RLIMIT_NOFILE, &cur);
    struct cm_rlimit l = {.resource = RLIMIT_NOFILE, .soft = 100, .hard = cur.rlim_max - 1};
    struct cm_error err;
    if (cm_rlimits_apply(&l, 1, &err) < 0) {
        snprintf(msg, len, "%s", err.msg);
        return -1;
    }
    struct rlimit now;
    getrlimit(RLIMIT_NOFILE, &now);
    if (now.rlim_cur != 100 || now.rlim_max != cur.rlim_max - 1) {
        snprintf(msg, len, "limits not applied: %lu %lu", (unsigned long)now.rlim_cur,
                 (unsigned long)now.rlim_max);
        return -1;
    }
    return 0;
}

static void test_apply_lower(void **state)
{
    (void)state;
    char msg[1024];
    int r = in_child(lower_nofile, msg, sizeof(msg));
    if (r)
        fail_msg("%s", msg);
}

static int raise_nofile(char *msg, size_t len)
{
    struct cm_rlimit l = {.resource = RLIMIT_NOFILE, .soft = 1024, .hard = 1048576};
    struct cm_error err;
    if (cm_rlimits_apply(&l, 1, &err) < 0) {
        snprintf(msg, len, "%s", err.msg);
        return -1;
    }
    return 0;
}

static void test_apply_raise_hard(void **state)
{
    (void)state;
    struct rlimit cur;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &cur), 0);
    if (cur.rlim_max >= 1048576)
        skip();
    char msg[1024];
    int r = in_child(raise_nofile, msg, sizeof(msg));
    if (have_sys_resource()) {
        if (geteuid() == 0)
            assert_int_equal(r, 0);
        return;
    }
    /* This host: CAP_SYS_RESOURCE is not in the bounding set. */
    assert_int_equal(r, 1);
    char want[256];
    snprintf(want, sizeof(want),
             "cannot raise hard nofile limit to 1048576: casemate lacks CAP_SYS_RESOURCE on this host "
             "(current hard limit %lu)",
             (unsigned long)cur.rlim_max);
    assert_string_equal(msg, want);
}

static void test_apply_pid(void **state)
{
    (void)state;
    pid_t pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    assert_true(pid > 0);
    struct cm_rlimit l = {.resource = RLIMIT_CORE, .soft = 0, .hard = 0};
    struct cm_error err;
    int r = cm_rlimits_apply_pid(pid, &l, 1, &err);
    struct rlimit got = {1, 1};
    int r2 = prlimit(pid, RLIMIT_CORE, NULL, &got);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_int_equal(r, 0);
    assert_int_equal(r2, 0);
    assert_int_equal(got.rlim_cur, 0);
    assert_int_equal(got.rlim_max, 0);
}

static int read_adj(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
    FILE *f = fopen(path, "re");
    int v = -9999;
    if (f) {
        if (fscanf(f, "%d", &v) != 1)
            v = -9999;
        fclose(f);
    }
    return v;
}

static void test_oom_score_adj(void **state)
{
    (void)state;
    pid_t pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    assert_true(pid > 0);
    struct cm_error err;
    int r1 = cm_oom_score_adj_apply(pid, 500, &err);
    int v1 = read_adj(pid);
    int r2 = cm_oom_score_adj_apply(pid, 2000, &err);
    bool range_msg = strstr(err.msg, "between -1000 and 1000") != NULL;
    int r3 = cm_oom_score_adj_apply(pid, -500, &err);
    char msg3[1024];
    snprintf(msg3, sizeof(msg3), "%s", err.msg);
    int v3 = read_adj(pid);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_int_equal(r1, 0);
    assert_int_equal(v1, 500);
    assert_int_equal(r2, -1);
    assert_true(range_msg);
    if (have_sys_resource()) {
        assert_int_equal(r3, 0);
        assert_int_equal(v3, -500);
    } else {
        assert_int_equal(r3, -1);
        assert_non_null(strstr(msg3, "cannot lower oom_score_adj to -500: casemate lacks CAP_SYS_RESOURCE"));
        assert_int_equal(v3, 500);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_apply_lower),
        cmocka_unit_test(test_apply_raise_hard),
        cmocka_unit_test(test_apply_pid),
        cmocka_unit_test(test_oom_score_adj),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
