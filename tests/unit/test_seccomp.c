/* test_seccomp.c: seccomp profile parsing (Docker and OCI formats), the
 * default profile, and the compiled filter loaded into real child processes
 * on the running kernel. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/seccomp.h"
#include "spec/seccomp_profile.h"
#include "util/cleanup.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif

static const char seed_chmod[] =
    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{ \"name\": \"chmod\", "
    "\"action\": \"SCMP_ACT_ERRNO\" }]}";

static void profile_freep(struct cm_seccomp_profile **p) { cm_seccomp_profile_free(*p); }
#define _cleanup_profile_ _cleanup_(profile_freep)

static struct cm_seccomp_profile *parse_ok(const char *json)
{
    struct cm_error err = { 0 };
    struct cm_seccomp_profile *p = NULL;
    int rc = cm_seccomp_profile_parse(json, strlen(json), "t.json", &p, &err);
    if (rc < 0)
        fail_msg("unexpected parse error: %s", err.msg);
    assert_non_null(p);
    return p;
}

/* Parse must fail with exactly this message. */
static void parse_fails(const char *json, const char *origin, const char *msg)
{
    struct cm_error err = { 0 };
    struct cm_seccomp_profile *p = NULL;
    int rc = cm_seccomp_profile_parse(json, strlen(json), origin, &p, &err);
    assert_int_equal(rc, -1);
    assert_null(p);
    assert_string_equal(err.msg, msg);
}

/* Parse must fail with a message starting with this. */
static void parse_fails_prefix(const char *json, const char *prefix)
{
    struct cm_error err = { 0 };
    struct cm_seccomp_profile *p = NULL;
    int rc = cm_seccomp_profile_parse(json, strlen(json), "t.json", &p, &err);
    assert_int_equal(rc, -1);
    assert_null(p);
    if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
        fail_msg("message \"%s\" does not start with \"%s\"", err.msg, prefix);
}

static void test_parse_seed_chmod(void **state)
{
    (void)state;
    _cleanup_profile_ struct cm_seccomp_profile *p = parse_ok(seed_chmod);
    assert_int_equal(p->default_action, CM_SCMP_ALLOW);
    assert_int_equal(p->default_errno, EPERM);
    assert_null(p->architectures);
    assert_int_equal(p->n_rules, 1);
    assert_string_equal(p->rules[0].names[0], "chmod");
    assert_null(p->rules[0].names[1]);
    assert_int_equal(p->rules[0].action, CM_SCMP_ERRNO);
    assert_int_equal(p->rules[0].errno_ret, -1);
    assert_int_equal(p->rules[0].n_args, 0);
    assert_false(p->rules[0].has_include_caps);
}

static void test_parse_oci(void **state)
{
    (void)state;
    _cleanup_profile_ struct cm_seccomp_profile *p = parse_ok(
        "{\"defaultAction\": \"SCMP_ACT_KILL_PROCESS\", \"defaultErrnoRet\": 38,"
        " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],"
        " \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],"
        " \"listenerPath\": \"/run/agent.sock\", \"listenerMetadata\": \"meta\","
        " \"syscalls\": [{\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"},"
        "   {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 22,"
        "    \"args\": [{\"index\": 0, \"value\": 8, \"valueTwo\": 0, \"op\": \"SCMP_CMP_EQ\"}]},"
        "   {\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"},"
        "   {\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0,"
        "    \"value\": 2114060288, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}],"
        " \"futureKey\": {\"ignored\": true}}");
    assert_int_equal(p->default_action, CM_SCMP_KILL_PROCESS);
    assert_int_equal(p->default_errno, 38);
    assert_string_equal(p->architectures[0], "SCMP_ARCH_X86_64");
    assert_string_equal(p->architectures[1], "SCMP_ARCH_X86");
    assert_null(p->architectures[2]);
    assert_int_equal(p->flags, (1u << 1) | (1u << 2));
    assert_string_equal(p->listener_path, "/run/agent.sock");
    assert_string_equal(p->listener_metadata, "meta");
    assert_int_equal(p->n_rules, 4);
    assert_string_equal(p->rules[0].names[1], "write");
    assert_int_equal(p->rules[1].errno_ret, 22);
    assert_int_equal(p->rules[1].n_args, 1);
    assert_int_equal(p->rules[1].args[0].op, CM_SCMP_CMP_EQ);
    assert_int_equal(p->rules[1].args[0].value, 8);
    assert_int_equal(p->rules[2].action, CM_SCMP_NOTIFY);
    assert_int_equal(p->rules[3].args[0].op, CM_SCMP_CMP_MASKED_EQ);
    assert_int_equal(p->rules[3].args[0].value, 2114060288);
}

static void test_parse_docker_features(void **state)
{
    (void)state;
    _cleanup_profile_ struct cm_seccomp_profile *p = parse_ok(
        "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1,"
        " \"archMap\": [{\"architecture\": \"SCMP_ARCH_AARCH64\", \"subArchitectures\":"
        "   [\"SCMP_ARCH_ARM\"]}, {\"architecture\": \"SCMP_ARCH_X86_64\","
        "   \"subArchitectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"]},"
        "   {\"architecture\": \"SCMP_ARCH_RISCV64\", \"subArchitectures\": null}],"
        " \"syscalls\": ["
        "  {\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ALLOW\", \"comment\": \"x\","
        "   \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},"
        "  {\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\","
        "   \"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\"], \"arches\": [\"s390\", \"s390x\"]}},"
        "  {\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ALLOW\","
        "   \"includes\": {\"minKernel\": \"4.8\"}},"
        "  {\"names\": [\"bpf\"], \"action\": \"SCMP_ACT_ALLOW\","
        "   \"includes\": {\"minKernel\": \"99.1\"}},"
        "  {\"names\": [\"kexec_load\"], \"action\": \"SCMP_ACT_ALLOW\","
        "   \"excludes\": {\"minKernel\": \"3.0\"}},"
        "  {\"names\": [\"arch_prctl\"], \"action\": \"SCMP_ACT_ALLOW\","
        "   \"includes\": {\"arches\": [\"amd64\", \"x32\"]}}]}");
#if defined(__x86_64__)
    assert_string_equal(p->architectures[0], "SCMP_ARCH_X86_64");
    assert_string_equal(p->architectures[1], "SCMP_ARCH_X86");
    assert_string_equal(p->architectures[2], "SCMP_ARCH_X32");
    assert_null(p->architectures[3]);
#endif
    /* minKernel 99.1 (includes) and 3.0 (excludes) drop their rules here. */
    assert_int_equal(p->n_rules, 4);
    assert_string_equal(p->rules[0].names[0], "mount");
    assert_true(p->rules[0].has_include_caps);
    assert_int_equal(p->rules[0].include_caps, (uint64_t)1 << CAP_SYS_ADMIN);
    assert_true(p->rules[1].has_exclude_caps);
    assert_int_equal(p->rules[1].exclude_caps, (uint64_t)1 << CAP_SYS_ADMIN);
    assert_string_equal(p->rules[1].exclude_arches[1], "s390x");
    assert_string_equal(p->rules[2].names[0], "ptrace");
    assert_string_equal(p->rules[3].include_arches[0], "amd64");
}

static void test_parse_errors(void **state)
{
    (void)state;
    parse_fails("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"name\": \"chmod\","
                " \"action\": \"SCMP_ACT_FOO\"}]}",
                "chmod.json", "chmod.json: syscalls[0].action: unknown action \"SCMP_ACT_FOO\"");
    parse_fails("{\"syscalls\": []}", "p.json", "p.json: defaultAction: missing");
    parse_fails("{\"defaultAction\": 5}", "p.json",
                "p.json: defaultAction: expected a string, got an integer");
    parse_fails("[1]", "p.json", "p.json: top level: expected an object, got an array");
    parse_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": {}}", "p.json",
                "p.json: syscalls: expected an array, got an object");
    parse_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
                " \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 6, \"value\": 1,"
                " \"op\": \"SCMP_CMP_EQ\"}]}]}",
                "p.json", "p.json: syscalls[0].args[0].index: 6 is out of range (0 to 5)");
    parse_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
                " \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 1,"
                " \"op\": \"SCMP_CMP_FOO\"}]}]}",
                "p.json", "p.json: syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\"");
    parse_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
                " \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": -1,"
                " \"op\": \"SCMP_CMP_EQ\"}]}]}",
                "p.json",
                "p.json: syscalls[0].args[0].value: -1 is out of range (0 to "
                "18446744073709551615)");
    parse_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
                " \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"caps\": [\"CAP_FLY\"]}}]}",
                "p.json", "p.json: syscalls[0].includes.caps[0]: unknown capability \"CAP_FLY\"");
    parse_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
                " \"action\": \"SCMP_ACT_ALLOW\", \"errnoRet\": 1}]}",
                "p.json",
                "p.json: syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or "
                "SCMP_ACT_TRACE, not SCMP_ACT_ALLOW");
    parse_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"name\": \"read\","
                " \"names\": [\"write\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
                "p.json", "p.json: syscalls[0]: both \"name\" and \"names\" given; use one");
    parse_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{"
                " \"action\": \"SCMP_ACT_ALLOW\"}]}",
                "p.json", "p.json: syscalls[0]: no syscall name (\"names\" is missing or empty)");
    parse_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\", 3],"
                " \"action\": \"SCMP_ACT_ALLOW\"}]}",
                "p.json", "p.json: syscalls[0].names[1]: expected a string, got an integer");
    parse_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"]}]}",
                "p.json", "p.json: syscalls[0].action: missing");
    parse_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_Z80\"]}",
                "p.json", "p.json: architectures[0]: unknown architecture \"SCMP_ARCH_Z80\"");
    parse_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86\"],"
                " \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\"}]}",
                "p.json", "p.json: archMap: both \"architectures\" and \"archMap\" given; use one");
    parse_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"flags\": [\"SECCOMP_FILTER_FLAG_X\"]}",
                "p.json", "p.json: flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_X\"");
    parse_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 5000}", "p.json",
                "p.json: defaultErrnoRet: 5000 is out of range (0 to 4095)");
    parse_fails("{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}", "p.json",
                "p.json: defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
    parse_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
                " \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"minKernel\": \"four\"}}]}",
                "p.json", "p.json: syscalls[0].includes.minKernel: invalid kernel version \"four\"");
    parse_fails_prefix("{\"defaultAction\": \"SCMP_ACT_ALLOW\",", "t.json: invalid JSON: line 1");
    parse_fails_prefix("", "t.json: invalid JSON");
}

static void test_load_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/seccomp-unit.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/chmod.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(seed_chmod, f);
    fclose(f);

    struct cm_error err = { 0 };
    struct cm_seccomp_profile *p = NULL;
    int rc = cm_seccomp_profile_load_file(path, &p, &err);
    unlink(path);
    char missing[160];
    snprintf(missing, sizeof(missing), "%s/missing.json", dir);
    struct cm_seccomp_profile *q = NULL;
    struct cm_error err2 = { 0 };
    int rc2 = cm_seccomp_profile_load_file(missing, &q, &err2);
    struct cm_error err3 = { 0 };
    int rc3 = cm_seccomp_profile_load_file(dir, &q, &err3);
    rmdir(dir);

    assert_int_equal(rc, 0);
    assert_int_equal(p->n_rules, 1);
    cm_seccomp_profile_free(p);
    assert_int_equal(rc2, -1);
    assert_null(q);
    assert_non_null(strstr(err2.msg, missing));
    assert_non_null(strstr(err2.msg, "No such file or directory"));
    assert_int_equal(rc3, -1);
    assert_non_null(strstr(err3.msg, "not a regular file"));
}

static void test_action_names(void **state)
{
    (void)state;
    assert_string_equal(cm_scmp_action_name(CM_SCMP_ERRNO), "SCMP_ACT_ERRNO");
    assert_string_equal(cm_scmp_action_name(CM_SCMP_KILL_PROCESS), "SCMP_ACT_KILL_PROCESS");
    assert_string_equal(cm_scmp_action_name(CM_SCMP_NOTIFY), "SCMP_ACT_NOTIFY");
    /* SCMP_ACT_KILL is Docker's spelling of KILL_THREAD. */
    _cleanup_profile_ struct cm_seccomp_profile *p =
        parse_ok("{\"defaultAction\": \"SCMP_ACT_KILL\"}");
    assert_int_equal(p->default_action, CM_SCMP_KILL_THREAD);
}

static bool profile_names(const struct cm_seccomp_profile *p, const char *name,
                          enum cm_scmp_action action)
{
    for (size_t i = 0; i < p->n_rules; i++)
        for (char **n = p->rules[i].names; n && *n; n++)
            if (strcmp(*n, name) == 0 && p->rules[i].action == action)
                return true;
    return false;
}

static void test_default_profile_data(void **state)
{
    (void)state;
    struct cm_error err = { 0 };
    _cleanup_profile_ struct cm_seccomp_profile *p = NULL;
    assert_int_equal(cm_seccomp_profile_default(&p, &err), 0);
    assert_int_equal(p->default_action, CM_SCMP_ERRNO);
    assert_int_equal(p->default_errno, EPERM);
    assert_true(profile_names(p, "read", CM_SCMP_ALLOW));
    assert_true(profile_names(p, "execve", CM_SCMP_ALLOW));
    static const char *const never[] = { "keyctl", "add_key", "request_key", "io_uring_setup",
                                         "io_uring_enter", "io_uring_register", "kexec_load" };
    for (size_t i = 0; i < ARRAY_SIZE(never); i++)
        if (profile_names(p, never[i], CM_SCMP_ALLOW))
            fail_msg("%s is allowed by the default profile", never[i]);
    /* clone3 always ENOSYS, never under a capability condition. */
    bool clone3 = false;
    for (size_t i = 0; i < p->n_rules; i++)
        if (strcmp(p->rules[i].names[0], "clone3") == 0) {
            assert_int_equal(p->rules[i].action, CM_SCMP_ERRNO);
            assert_int_equal(p->rules[i].errno_ret, ENOSYS);
            assert_false(p->rules[i].has_include_caps || p->rules[i].has_exclude_caps);
            clone3 = true;
        }
    assert_true(clone3);
#if defined(__x86_64__)
    assert_string_equal(p->architectures[0], "SCMP_ARCH_X86_64");
    assert_string_equal(p->architectures[2], "SCMP_ARCH_X32");
#endif
}

static void test_compile_basic(void **state)
{
    (void)state;
    struct cm_error err = { 0 };
    _cleanup_profile_ struct cm_seccomp_profile *p = NULL;
    assert_int_equal(cm_seccomp_profile_default(&p, &err), 0);
    struct cm_seccomp_bpf bpf = { 0 };
    assert_int_equal(cm_seccomp_compile(p, 0, &bpf, &err), 0);
    assert_non_null(bpf.insns);
    assert_true(bpf.len > 100);
    assert_false(bpf.notify);
    cm_seccomp_bpf_free(&bpf);
    assert_null(bpf.insns);

    /* NOTIFY rules are reported; unknown syscall names are skipped. */
    _cleanup_profile_ struct cm_seccomp_profile *q = parse_ok(
        "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
        " {\"names\": [\"mkdir\", \"no_such_syscall\"], \"action\": \"SCMP_ACT_NOTIFY\"},"
        " {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ALLOW\"}]}");
    assert_int_equal(cm_seccomp_compile(q, 0, &bpf, &err), 0);
    assert_true(bpf.notify);
    cm_seccomp_bpf_free(&bpf);
}

/* Compiling the default profile is on every container start. */
static void test_compile_speed(void **state)
{
    (void)state;
    struct cm_error err = { 0 };
    _cleanup_profile_ struct cm_seccomp_profile *p = NULL;
    assert_int_equal(cm_seccomp_profile_default(&p, &err), 0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    const int runs = 10;
    for (int i = 0; i < runs; i++) {
        struct cm_seccomp_bpf bpf = { 0 };
        assert_int_equal(cm_seccomp_compile(p, 0, &bpf, &err), 0);
        cm_seccomp_bpf_free(&bpf);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = ((double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6) /
                runs;
    print_message("default profile compiles in %.2f ms\n", ms);
}

/* ---- real kernel tests: load the filter in a child and probe ---------- */

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            dprintf(2, "child check failed, line %d: %s (errno %d: %s)\n", __LINE__,   \
                    #cond, errno, strerror(errno));                                    \
            _exit(1);                                                                  \
        }                                                                              \
    } while (0)
/* A syscall that must fail with exactly this errno. */
#define FAILS_WITH(call, e) CHECK((errno = 0, (call)) == -1 && errno == (e))

typedef void (*child_fn)(void *arg);

/* Fork, set no_new_privs, load `bpf`, run `fn`; the child exits 0 when all
 * its checks pass. Returns the wait status. */
static int run_confined(const struct cm_seccomp_bpf *bpf, child_fn fn, void *arg)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct cm_error err = { 0 };
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            _exit(3);
        if (cm_seccomp_load(bpf, &err) < 0) {
            dprintf(2, "load: %s\n", err.msg);
            _exit(2);
        }
        fn(arg);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void assert_child_ok(int status)
{
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("confined child failed (status 0x%x)", status);
}

static void compile_default(uint64_t caps, struct cm_seccomp_bpf *bpf)
{
    struct cm_error err = { 0 };
    _cleanup_profile_ struct cm_seccomp_profile *p = NULL;
    assert_int_equal(cm_seccomp_profile_default(&p, &err), 0);
    if (cm_seccomp_compile(p, caps, bpf, &err) < 0)
        fail_msg("compile: %s", err.msg);
}

/* clone(flags) that must be refused; a child that slips through exits. */
static long raw_clone(unsigned long flags)
{
    long rc = syscall(SYS_clone, flags | SIGCHLD, 0L, 0L, 0L, 0L);
    if (rc == 0)
        _exit(0);
    if (rc > 0)
        waitpid((pid_t)rc, NULL, 0);
    return rc;
}

static void probe_default(void *arg)
{
    (void)arg;
    /* Ordinary life goes on. */
    CHECK(getpid() > 0);
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    CHECK(devnull >= 0);
    CHECK(write(devnull, "x", 1) == 1);
    close(devnull);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK(s >= 0);
    close(s);
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(s >= 0);
    close(s);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(7);
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7);
    CHECK(personality(0xffffffff) >= 0);
    CHECK(personality(PER_LINUX) >= 0);

    /* casemate's stricter rules. */
    FAILS_WITH(unshare(CLONE_NEWUSER), EPERM);
    FAILS_WITH(raw_clone(CLONE_NEWUSER), EPERM);
    FAILS_WITH(raw_clone(CLONE_NEWNET), EPERM);
    FAILS_WITH(syscall(SYS_clone3, NULL, 0), ENOSYS);
    FAILS_WITH(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), EPERM);
    FAILS_WITH(syscall(SYS_add_key, "user", "casemate", "x", 1, KEY_SPEC_SESSION_KEYRING), EPERM);
    FAILS_WITH(syscall(SYS_request_key, "user", "casemate", NULL, 0), EPERM);
    char params[120] = { 0 };
    FAILS_WITH(syscall(SYS_io_uring_setup, 1, params), EPERM);
    FAILS_WITH(syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0), EPERM);
    FAILS_WITH(socket(AF_VSOCK, SOCK_STREAM, 0), EPERM);
    FAILS_WITH(socket(AF_ALG, SOCK_SEQPACKET, 0), EPERM);
    /* The kernel reads the family as an int: high bits must not help. */
    FAILS_WITH(syscall(SYS_socket, 0x100000000L | AF_ALG, SOCK_SEQPACKET, 0), EPERM);
    FAILS_WITH(syscall(SYS_socket, 0x100000000L | AF_VSOCK, SOCK_STREAM, 0), EPERM);
    FAILS_WITH(personality(READ_IMPLIES_EXEC), EPERM);
    FAILS_WITH(personality(ADDR_NO_RANDOMIZE), EPERM);
    /* A syscall newer than any the profile names: ENOSYS, so libc falls
     * back, not EPERM (lsm_list_modules, Linux 6.8: not in the profile). */
    FAILS_WITH(syscall(461, NULL, NULL, 0), ENOSYS);
    /* Docker's capability rules: no CAP_SYS_ADMIN, no mount. */
    FAILS_WITH(mount("none", "/nonexistent-casemate", "tmpfs", 0, NULL), EPERM);
    FAILS_WITH(umount2("/nonexistent-casemate", 0), EPERM);
    FAILS_WITH(syscall(SYS_reboot, 0, 0, 0, NULL), EPERM);
    FAILS_WITH(syscall(SYS_kexec_load, 0, 0, NULL, 0), EPERM);
}

static void test_kernel_default_profile(void **state)
{
    (void)state;
    struct cm_seccomp_bpf bpf = { 0 };
    compile_default(0, &bpf);
    assert_child_ok(run_confined(&bpf, probe_default, NULL));
    cm_seccomp_bpf_free(&bpf);
}

static void probe_sys_admin(void *arg)
{
    (void)arg;
    /* Allowed by the filter: the kernel's own answer, not EPERM. */
    errno = 0;
    CHECK(mount("none", "/nonexistent-casemate", "tmpfs", 0, NULL) == -1 && errno == ENOENT);
    CHECK(unshare(CLONE_NEWUTS) == 0);
    long rc = raw_clone(CLONE_NEWNS);
    CHECK(rc > 0);
    /* Still no user namespace, with CAP_SYS_ADMIN or not. */
    FAILS_WITH(unshare(CLONE_NEWUSER), EPERM);
    FAILS_WITH(unshare(CLONE_NEWUSER | CLONE_NEWNS), EPERM);
    FAILS_WITH(raw_clone(CLONE_NEWUSER), EPERM);
    FAILS_WITH(syscall(SYS_clone3, NULL, 0), ENOSYS);
}

static void test_kernel_cap_rules(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    struct cm_seccomp_bpf bpf = { 0 };
    compile_default((uint64_t)1 << CAP_SYS_ADMIN, &bpf);
    assert_child_ok(run_confined(&bpf, probe_sys_admin, NULL));
    cm_seccomp_bpf_free(&bpf);
}

#if defined(__x86_64__)
/* A 32-bit syscall from this 64-bit process, through int 0x80. */
static long int80(long nr, long a, long b, long c)
{
    long ret;
    /* The 32-bit entry does not preserve r8-r11 for a 64-bit caller. */
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "b"(a), "c"(b), "d"(c)
                     : "memory", "r8", "r9", "r10", "r11");
    return ret;
}

#define I386_getpid 20
#define I386_socketcall 102
#define I386_keyctl 288
#define I386_socket 359
#define X32_BIT 0x40000000L

static void probe_compat(void *arg)
{
    uint32_t *args = arg; /* below 4 GiB, readable by 32-bit syscalls */
    /* i386 ABI: allowlist and socket families apply there too. */
    CHECK(int80(I386_getpid, 0, 0, 0) == getpid());
    CHECK(int80(I386_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) == -EPERM);
    CHECK(int80(I386_socket, AF_VSOCK, SOCK_STREAM, 0) == -EPERM);
    CHECK(int80(I386_socket, AF_ALG, SOCK_SEQPACKET, 0) == -EPERM);
    long s = int80(I386_socket, AF_INET, SOCK_DGRAM, 0);
    CHECK(s >= 0);
    close((int)s);
    /* socketcall hides the family in memory: SYS_SOCKET is refused. */
    args[0] = AF_VSOCK, args[1] = SOCK_STREAM, args[2] = 0;
    CHECK(int80(I386_socketcall, 1 /* SYS_SOCKET */, (long)(uintptr_t)args, 0) == -EPERM);
}

/* x32 ABI: x86_64's numbers with the x32 bit. */
static void probe_x32_runs(void *arg)
{
    (void)arg;
    CHECK(syscall(X32_BIT | SYS_getpid) == getpid());
    errno = 0;
    CHECK(syscall(X32_BIT | SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) ==
              -1 && errno == EPERM);
    CHECK(syscall(X32_BIT | SYS_unshare, CLONE_NEWUSER) == -1 && errno == EPERM);
}

static void probe_x32_absent(void *arg)
{
    (void)arg;
    syscall(X32_BIT | SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
    _exit(9); /* not reached: the filter kills a foreign ABI */
}

static void test_kernel_x32(void **state)
{
    (void)state;
    /* Does this kernel run x32? (Probe unconfined, in a child.) */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(syscall(X32_BIT | SYS_getpid) == getpid() ? 0 : 1);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    bool x32 = WIFEXITED(status) && WEXITSTATUS(status) == 0;

    struct cm_seccomp_bpf bpf = { 0 };
    compile_default(0, &bpf);
    status = run_confined(&bpf, x32 ? probe_x32_runs : probe_x32_absent, NULL);
    cm_seccomp_bpf_free(&bpf);
    if (x32)
        assert_child_ok(status);
    else if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
        fail_msg("x32 syscall on a kernel without x32: status 0x%x, expected SIGSYS", status);
}

static void test_kernel_compat_abis(void **state)
{
    (void)state;
    /* int 0x80 needs IA32 emulation; probe it unconfined in a child first
     * (without it the instruction faults). */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(int80(I386_getpid, 0, 0, 0) == getpid() ? 0 : 1);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        skip();

    uint32_t *args = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    assert_true(args != MAP_FAILED);
    struct cm_seccomp_bpf bpf = { 0 };
    compile_default(0, &bpf);
    status = run_confined(&bpf, probe_compat, args);
    cm_seccomp_bpf_free(&bpf);
    munmap(args, 4096);
    assert_child_ok(status);
}
#endif

struct chmod_arg {
    const char *file;
};

static void probe_chmod(void *arg)
{
    const struct chmod_arg *a = arg;
    FAILS_WITH(syscall(SYS_chmod, a->file, 0777), EPERM);
    int fd = open(a->file, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    CHECK(fchmod(fd, 0600) == 0);
    close(fd);
    /* Allow by default: everything else works, keyctl included. */
    CHECK(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) != -1 ||
          errno != EPERM);
}

static void test_kernel_seed_chmod(void **state)
{
    (void)state;
    char dir[] = "/tmp/seccomp-unit.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char profile_path[128], file[128];
    snprintf(profile_path, sizeof(profile_path), "%s/chmod.json", dir);
    snprintf(file, sizeof(file), "%s/x", dir);
    FILE *f = fopen(profile_path, "w");
    int fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    bool made = f && fd >= 0;
    if (f) {
        fputs(seed_chmod, f);
        fclose(f);
    }
    if (fd >= 0)
        close(fd);

    struct cm_error err = { 0 };
    struct cm_seccomp_profile *p = NULL;
    struct cm_seccomp_bpf bpf = { 0 };
    int rc = made ? cm_seccomp_profile_load_file(profile_path, &p, &err) : -1;
    if (rc == 0)
        rc = cm_seccomp_compile(p, 0, &bpf, &err);
    struct chmod_arg a = { .file = file };
    int status = rc == 0 ? run_confined(&bpf, probe_chmod, &a) : -1;
    struct stat st = { 0 };
    int st_rc = stat(file, &st);

    cm_seccomp_bpf_free(&bpf);
    cm_seccomp_profile_free(p);
    unlink(file);
    unlink(profile_path);
    rmdir(dir);
    assert_true(made);
    if (rc < 0)
        fail_msg("%s", err.msg);
    assert_child_ok(status);
    assert_int_equal(st_rc, 0);
    assert_int_equal(st.st_mode & 07777, 0600); /* fchmod ran, chmod did not */
}

static void test_kernel_notify_listener(void **state)
{
    (void)state;
    _cleanup_profile_ struct cm_seccomp_profile *p = parse_ok(
        "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
        " {\"names\": [\"mknod\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}");
    struct cm_error err = { 0 };
    struct cm_seccomp_bpf bpf = { 0 };
    assert_int_equal(cm_seccomp_compile(p, 0, &bpf, &err), 0);
    assert_true(bpf.notify);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            _exit(3);
        int fd = cm_seccomp_load(&bpf, &err);
        /* The listener is a new fd, not 0/1/2 and not an error. */
        _exit(fd > 2 && fcntl(fd, F_GETFD) >= 0 ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    cm_seccomp_bpf_free(&bpf);
    assert_child_ok(status);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_seed_chmod),
        cmocka_unit_test(test_parse_oci),
        cmocka_unit_test(test_parse_docker_features),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_action_names),
        cmocka_unit_test(test_default_profile_data),
        cmocka_unit_test(test_compile_basic),
        cmocka_unit_test(test_compile_speed),
        cmocka_unit_test(test_kernel_default_profile),
        cmocka_unit_test(test_kernel_cap_rules),
#if defined(__x86_64__)
        cmocka_unit_test(test_kernel_compat_abis),
        cmocka_unit_test(test_kernel_x32),
#endif
        cmocka_unit_test(test_kernel_seed_chmod),
        cmocka_unit_test(test_kernel_notify_listener),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
