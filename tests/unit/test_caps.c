/* test_caps.c: capability names, --cap-add/--cap-drop semantics, and the
 * five sets applied in a real child process, read back from
 * /proc/self/status. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/caps.h"
#include "util/cleanup.h"

#define BIT(c) ((uint64_t)1 << (c))

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(cm_cap_from_name("CAP_SYS_ADMIN"), 21);
    assert_int_equal(cm_cap_from_name("sys_admin"), 21);
    assert_int_equal(cm_cap_from_name("Sys_Admin"), 21);
    assert_int_equal(cm_cap_from_name("cap_net_bind_service"), 10);
    assert_int_equal(cm_cap_from_name("CHOWN"), 0);
    assert_int_equal(cm_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
    assert_int_equal(cm_cap_from_name("CAP_"), -1);
    assert_int_equal(cm_cap_from_name(""), -1);
    assert_int_equal(cm_cap_from_name("CAP_FLY"), -1);
    assert_int_equal(cm_cap_from_name("ALL"), -1);
    assert_int_equal(cm_cap_from_name("SYS_ADMIN "), -1);
    assert_int_equal(cm_cap_from_name(NULL), -1);
    assert_string_equal(cm_cap_name(21), "CAP_SYS_ADMIN");
    assert_string_equal(cm_cap_name(0), "CAP_CHOWN");
    assert_string_equal(cm_cap_name(40), "CAP_CHECKPOINT_RESTORE");
    assert_null(cm_cap_name(41));
    assert_null(cm_cap_name(-1));
    /* Every name maps back to its number, and agrees with the kernel's
     * header for the ones it defines. */
    for (int c = 0; c <= 40; c++) {
        const char *n = cm_cap_name(c);
        assert_non_null(n);
        assert_int_equal(cm_cap_from_name(n), c);
    }
    assert_int_equal(cm_cap_from_name("CAP_BPF"), CAP_BPF);
    assert_int_equal(cm_cap_from_name("CAP_PERFMON"), CAP_PERFMON);
    assert_int_equal(cm_cap_from_name("CAP_AUDIT_READ"), CAP_AUDIT_READ);
}

static void test_masks(void **state)
{
    (void)state;
    uint64_t d = cm_cap_docker_default_mask();
    assert_int_equal(__builtin_popcountll(d), 14);
    assert_true(d & BIT(CAP_CHOWN));
    assert_true(d & BIT(CAP_NET_RAW));
    assert_true(d & BIT(CAP_AUDIT_WRITE));
    assert_false(d & BIT(CAP_SYS_ADMIN));
    assert_false(d & BIT(CAP_DAC_READ_SEARCH));

    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
    assert_non_null(f);
    int last = -1;
    assert_int_equal(fscanf(f, "%d", &last), 1);
    fclose(f);
    assert_int_equal(cm_cap_last_cap(), last);
    assert_int_equal(cm_cap_all_mask(), (BIT(last + 1) - 1));
}

static void test_apply_flags(void **state)
{
    (void)state;
    struct cm_error err = { 0 };
    uint64_t m = cm_cap_docker_default_mask();
    char *drop_all[] = { "all", NULL };
    char *add_nbs[] = { "NET_BIND_SERVICE", NULL };
    assert_int_equal(cm_caps_apply_flags(&m, add_nbs, drop_all, &err), 0);
    assert_int_equal(m, BIT(CAP_NET_BIND_SERVICE));

    m = 0;
    char *add_all[] = { "ALL", NULL };
    char *drop_admin[] = { "cap_sys_admin", NULL };
    assert_int_equal(cm_caps_apply_flags(&m, add_all, drop_admin, &err), 0);
    assert_int_equal(m, cm_cap_all_mask() & ~BIT(CAP_SYS_ADMIN));

    m = cm_cap_docker_default_mask();
    char *drop_raw[] = { "NET_RAW", "CAP_MKNOD", NULL };
    char *add_ptrace[] = { "sys_ptrace", NULL };
    assert_int_equal(cm_caps_apply_flags(&m, add_ptrace, drop_raw, &err), 0);
    assert_int_equal(m, (cm_cap_docker_default_mask() & ~(BIT(CAP_NET_RAW) | BIT(CAP_MKNOD))) |
                            BIT(CAP_SYS_PTRACE));

    m = 0;
    assert_int_equal(cm_caps_apply_flags(&m, NULL, NULL, &err), 0);
    assert_int_equal(m, 0);

    m = 5;
    char *bad[] = { "CHOWN", "CAP_FLY", NULL };
    assert_int_equal(cm_caps_apply_flags(&m, bad, NULL, &err), -1);
    assert_string_equal(err.msg, "--cap-add: unknown capability \"CAP_FLY\"");
    assert_int_equal(m, 5); /* untouched on error */
    assert_int_equal(cm_caps_apply_flags(&m, NULL, bad, &err), -1);
    assert_string_equal(err.msg, "--cap-drop: unknown capability \"CAP_FLY\"");
}

static void test_to_string(void **state)
{
    (void)state;
    _cleanup_free_ char *none = cm_caps_to_string(0);
    assert_string_equal(none, "");
    _cleanup_free_ char *two = cm_caps_to_string(BIT(CAP_CHOWN) | BIT(CAP_KILL));
    assert_string_equal(two, "CAP_CHOWN,CAP_KILL");
    _cleanup_free_ char *odd = cm_caps_to_string(BIT(CAP_SYS_ADMIN) | BIT(62));
    assert_string_equal(odd, "CAP_SYS_ADMIN,CAP_62");
    _cleanup_free_ char *all = cm_caps_to_string(UINT64_MAX);
    assert_non_null(strstr(all, "CAP_CHECKPOINT_RESTORE,CAP_41"));
}

/* Read "Name:\t<hex>" from /proc/self/status. */
static int read_status_caps(uint64_t out[5])
{
    static const char *const keys[5] = { "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:" };
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return -1;
    char line[256];
    int found = 0;
    while (fgets(line, sizeof(line), f))
        for (int i = 0; i < 5; i++)
            if (strncmp(line, keys[i], strlen(keys[i])) == 0 &&
                sscanf(line + strlen(keys[i]), "%" SCNx64, &out[i]) == 1)
                found++;
    fclose(f);
    return found == 5 ? 0 : -1;
}

struct sets {
    uint64_t bnd, eff, prm, inh, amb;
};

/* Apply in a child and compare with /proc/self/status there. Returns the
 * child's exit status (0 = the kernel shows exactly `want`). */
static int apply_in_child(const struct sets *s)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct cm_error err = { 0 };
        if (cm_caps_apply(s->bnd, s->eff, s->prm, s->inh, s->amb, &err) < 0) {
            dprintf(2, "cm_caps_apply: %s\n", err.msg);
            _exit(2);
        }
        uint64_t got[5];
        if (read_status_caps(got) < 0)
            _exit(3);
        uint64_t all = cm_cap_all_mask();
        uint64_t want[5] = { s->inh, s->prm, s->eff, s->bnd & all, s->amb };
        for (int i = 0; i < 5; i++)
            if (got[i] != want[i]) {
                dprintf(2, "set %d: got %" PRIx64 ", want %" PRIx64 "\n", i, got[i], want[i]);
                _exit(4);
            }
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void test_apply_kernel(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    /* casemate's default: nothing at all. */
    struct sets none = { 0 };
    assert_int_equal(apply_in_child(&none), 0);

    /* A mixed grant, with an ambient cap (a non-root user keeping it). */
    uint64_t nbs = BIT(CAP_NET_BIND_SERVICE);
    struct sets mixed = {
        .bnd = nbs | BIT(CAP_CHOWN) | BIT(CAP_KILL),
        .eff = nbs | BIT(CAP_CHOWN),
        .prm = nbs | BIT(CAP_CHOWN) | BIT(CAP_KILL),
        .inh = nbs,
        .amb = nbs,
    };
    assert_int_equal(apply_in_child(&mixed), 0);

    /* Docker's 14, everything but ambient. */
    uint64_t d = cm_cap_docker_default_mask();
    struct sets docker = { .bnd = d, .eff = d, .prm = d, .inh = 0, .amb = 0 };
    assert_int_equal(apply_in_child(&docker), 0);

    /* An ambient cap that is not inheritable cannot be raised: an error,
     * not a silent success. */
    struct sets bad = { .bnd = nbs, .eff = nbs, .prm = nbs, .inh = 0, .amb = nbs };
    int status = apply_in_child(&bad);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
}

/* The runtime's order for a non-root --user: keep caps across setresuid,
 * then apply; granted caps survive as ambient. */
static void test_apply_after_setresuid(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct cm_error err = { 0 };
        uint64_t nbs = BIT(CAP_NET_BIND_SERVICE);
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setresgid(1000, 1000, 1000) < 0 ||
            setresuid(1000, 1000, 1000) < 0)
            _exit(5);
        if (cm_caps_apply(nbs, nbs, nbs, nbs, nbs, &err) < 0) {
            dprintf(2, "cm_caps_apply: %s\n", err.msg);
            _exit(2);
        }
        uint64_t got[5];
        if (read_status_caps(got) < 0)
            _exit(3);
        /* inh, prm, eff, bnd, amb */
        for (int i = 0; i < 5; i++)
            if (got[i] != nbs) {
                dprintf(2, "set %d: got %" PRIx64 "\n", i, got[i]);
                _exit(4);
            }
        _exit(getuid() == 1000 ? 0 : 6);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),     cmocka_unit_test(test_masks),
        cmocka_unit_test(test_apply_flags), cmocka_unit_test(test_to_string),
        cmocka_unit_test(test_apply_kernel), cmocka_unit_test(test_apply_after_setresuid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
