/* test_cgroup.c: the cgroup module against the real kernel (no mocks).
 *
 * Needs root and a cgroup hierarchy; skips otherwise. Every test keeps what
 * it creates in `struct fx` and the teardown removes it (children killed,
 * cgroups destroyed) even when an assertion failed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/cgroup.h"
#include "util/cleanup.h"

#define V2_MOUNT "/sys/fs/cgroup/unified"

struct fx {
    struct cm_cgroup *cg;
    pid_t child[4];
    char parent_dirs[64][512]; /* --cgroup-parent dirs to rmdir */
    size_t n_parent_dirs;
    volatile long *counter; /* shared with the child */
};

static struct fx F;
static bool exists(const char *path);

static int setup(void **state)
{
    (void)state;
    memset(&F, 0, sizeof(F));
    F.counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (F.counter == MAP_FAILED)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(F.child); i++) {
        if (F.child[i] > 0) {
            kill(F.child[i], SIGKILL);
            waitpid(F.child[i], NULL, 0);
        }
    }
    struct cm_error err;
    if (F.cg && cm_cgroup_destroy(F.cg, &err) < 0)
        fprintf(stderr, "teardown: %s\n", err.msg);
    F.cg = NULL;
    /* A parent can be busy for a moment after its last child went away. */
    for (size_t i = F.n_parent_dirs; i-- > 0;) {
        for (int t = 0; t < 400 && rmdir(F.parent_dirs[i]) < 0; t++) {
            if (errno != EBUSY) {
                if (errno != ENOENT)
                    fprintf(stderr, "teardown: rmdir %s: %s\n", F.parent_dirs[i], strerror(errno));
                break;
            }
            usleep(5000);
        }
    }
    munmap((void *)F.counter, 4096);
    return 0;
}

static bool have_cgroups(void)
{
    enum cm_cgroup_layout l;
    struct cm_error err;
    return geteuid() == 0 && cm_cgroup_detect(&l, &err) == 0;
}

#define REQUIRE_CGROUPS()                                                      \
    do {                                                                       \
        if (!have_cgroups())                                                   \
            skip();                                                            \
    } while (0)

static bool have_v2_mount(void)
{
    struct stat st;
    return stat(V2_MOUNT "/cgroup.procs", &st) == 0;
}

static void unlimited(struct cm_resources *r)
{
    memset(r, 0, sizeof(*r));
    r->memory_limit = -1;
    r->memory_swap = -2;
    r->memory_reservation = -1;
    r->cpu_quota = -1;
    r->pids_limit = -1;
    r->hugetlb_limit = -1;
}

static char *readf(const char *dir, const char *file)
{
    static char buf[4096];
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A child that waits for a byte on `fd`, then runs `body`. */
static pid_t spawn(void (*body)(void), int *go_fd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(p[1]);
        if (read(p[0], &c, 1) != 1)
            _exit(99);
        body();
        _exit(0);
    }
    close(p[0]);
    *go_fd = p[1];
    return pid;
}

static void go(int fd)
{
    char c = 'g';
    assert_int_equal(write(fd, &c, 1), 1);
    close(fd);
}

static void body_spin(void)
{
    for (;;)
        (*F.counter)++;
}

static void body_sleep(void)
{
    for (;;)
        pause();
}

/* ---- pure helpers ---- */

static void test_parse_size(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t out;
    } ok[] = {{"32m", 32LL << 20},   {"1g", 1LL << 30},    {"512k", 512LL << 10}, {"1024", 1024},
              {"1.5g", 3LL << 29},   {"64MiB", 64LL << 20}, {"2GB", 2LL << 30},   {"-1", -1},
              {"100b", 100},         {"0.5k", 512}};
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        int64_t v = 0;
        struct cm_error err;
        assert_int_equal(cm_parse_size(ok[i].in, &v, &err), 0);
        assert_int_equal(v, ok[i].out);
    }
    static const char *const bad[] = {"", "m", "12x", "1.g", "-5", "1..5m", "99999999999999999999", "16777216t", "3mm"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        int64_t v = 0;
        struct cm_error err;
        assert_int_equal(cm_parse_size(bad[i], &v, &err), -1);
        assert_non_null(strstr(err.msg, "invalid size"));
    }
}

static void test_parse_cpus(void **state)
{
    (void)state;
    int64_t q = 0;
    uint64_t p = 0;
    struct cm_error err;
    assert_int_equal(cm_parse_cpus("0.25", &q, &p, &err), 0);
    assert_int_equal(q, 25000);
    assert_int_equal(p, 100000);
    assert_int_equal(cm_parse_cpus("1", &q, &p, &err), 0);
    assert_int_equal(q, 100000);
    assert_int_equal(cm_parse_cpus("-1", &q, &p, &err), 0);
    assert_int_equal(q, -1);
    assert_int_equal(cm_parse_cpus("abc", &q, &p, &err), -1);
    assert_int_equal(cm_parse_cpus("0.001", &q, &p, &err), -1);
    assert_int_equal(cm_parse_cpus("100000", &q, &p, &err), -1);
    assert_non_null(strstr(err.msg, "CPU"));
}

static void test_format_size(void **state)
{
    (void)state;
    char b[32];
    cm_format_size(32ULL << 20, b, sizeof(b));
    assert_string_equal(b, "32 MiB");
    cm_format_size(3ULL << 29, b, sizeof(b));
    assert_string_equal(b, "1.5 GiB");
    cm_format_size(100, b, sizeof(b));
    assert_string_equal(b, "100 B");
}

/* ---- real cgroups ---- */

static void test_detect(void **state)
{
    (void)state;
    REQUIRE_CGROUPS();
    enum cm_cgroup_layout l;
    struct cm_error err;
    assert_int_equal(cm_cgroup_detect(&l, &err), 0);
    struct stat st;
    bool tmpfs_root = stat("/sys/fs/cgroup/cgroup.procs", &st) < 0;
    if (tmpfs_root && exists("/sys/fs/cgroup/memory/cgroup.procs"))
        assert_int_equal(l, have_v2_mount() ? CM_CGROUP_HYBRID : CM_CGROUP_V1);
    else if (!tmpfs_root)
        assert_int_equal(l, CM_CGROUP_V2);
}

/* The memory controller's own cgroup of this process ("" for the root). */
static void own_cgroup(const char *ctrl, char *out, size_t len)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    assert_non_null(f);
    char line[1024];
    out[0] = '\0';
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        if (strstr(c1 + 1, ctrl)) {
            snprintf(out, len, "%s", strcmp(c2 + 1, "/") ? c2 + 1 : "");
            break;
        }
    }
    fclose(f);
}

static void test_limits_written(void **state)
{
    (void)state;
    REQUIRE_CGROUPS();
    enum cm_cgroup_layout l;
    struct cm_error err;
    assert_int_equal(cm_cgroup_detect(&l, &err), 0);
    if (l == CM_CGROUP_V2)
        skip(); /* the v1 files are checked here; v2 in test_v2_backend */
    struct cm_resources r;
    unlimited(&r);
    r.memory_limit = 32LL << 20;
    r.memory_reservation = 16LL << 20;
    r.pids_limit = 20;
    r.cpu_quota = 25000;
    r.cpu_period = 100000;
    r.cpu_shares = 512;
    r.cpuset_cpus = "0";
    assert_int_equal(cm_cgroup_create("cgtest-limits", NULL, &r, &F.cg, &err), 0);

    const char *mem = cm_cgroup_dir(F.cg, "memory");
    assert_non_null(mem);
    char own[512], want[1024];
    own_cgroup("memory", own, sizeof(own));
    snprintf(want, sizeof(want), "/sys/fs/cgroup/memory%s/casemate-cgtest-limits-%d", own, (int)getpid());
    assert_string_equal(mem, want);
    assert_string_equal(readf(mem, "memory.limit_in_bytes"), "33554432");
    assert_string_equal(readf(mem, "memory.soft_limit_in_bytes"), "16777216");
    if (exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"))
        assert_string_equal(readf(mem, "memory.memsw.limit_in_bytes"), "67108864");
    assert_string_equal(readf(cm_cgroup_dir(F.cg, "pids"), "pids.max"), "20");
    assert_string_equal(readf(cm_cgroup_dir(F.cg, "cpu"), "cpu.cfs_quota_us"), "25000");
    assert_string_equal(readf(cm_cgroup_dir(F.cg, "cpu"), "cpu.cfs_period_us"), "100000");
    assert_string_equal(readf(cm_cgroup_dir(F.cg, "cpu"), "cpu.shares"), "512");
    const char *cs = cm_cgroup_dir(F.cg, "cpuset");
    assert_string_equal(readf(cs, "cpuset.cpus"), "0");
    char parent_mems[64];
    snprintf(parent_mems, sizeof(parent_mems), "%s", readf("/sys/fs/cgroup/cpuset", "cpuset.mems"));
    assert_string_equal(readf(cs, "cpuset.mems"), parent_mems);
    /* named hierarchies are left alone */
    assert_null(cm_cgroup_dir(F.cg, "name=systemd"));
    char path[600];
    snprintf(path, sizeof(path), "/sys/fs/cgroup/systemd/casemate-cgtest-limits-%d", (int)getpid());
    assert_false(exists(path));

    /* A child that joins runs on CPU 0 only. */
    int fd = -1;
    F.child[0] = spawn(body_sleep, &fd);
    assert_int_equal(cm_cgroup_add_pid(F.cg, F.child[0], &err), 0);
    go(fd);
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < 100 && sched_getaffinity(F.child[0], sizeof(set), &set) == 0 && CPU_COUNT(&set) != 1; i++)
        usleep(1000);
    assert_int_equal(CPU_COUNT(&set), 1);
    assert_true(CPU_ISSET(0, &set));

    /* update: pids changes, memory stays */
    struct cm_resources u;
    cm_resources_keep_all(&u);
    u.pids_limit = 50;
    assert_int_equal(cm_cgroup_update(F.cg, &u, &err), 0);
    assert_string_equal(readf(cm_cgroup_dir(F.cg, "pids"), "pids.max"), "50");
    assert_string_equal(readf(mem, "memory.limit_in_bytes"), "33554432");
    u.pids_limit = -1;
    u.memory_limit = 64LL << 20;
    assert_int_equal(cm_cgroup_update(F.cg, &u, &err), 0);
    assert_string_equal(readf(cm_cgroup_dir(F.cg, "pids"), "pids.max"), "max");
    assert_string_equal(readf(mem, "memory.limit_in_bytes"), "67108864");
}

static void body_forker(void)
{
    int ok = 0, eagain = 0;
    for (int i = 0; i < 10; i++) {
        pid_t p = fork();
        if (p == 0) {
            pause();
            _exit(0);
        }
        if (p > 0)
            ok++;
        else if (errno == EAGAIN)
            eagain++;
    }
    /* exit status: forks that succeeded, +100 if EAGAIN was seen */
    _exit(ok + (eagain ? 100 : 0));
}

static void test_pids_enforced(void **state)
{
    (void)state;
    REQUIRE_CGROUPS();
    struct cm_resources r;
    unlimited(&r);
    r.pids_limit = 4;
    struct cm_error err;
    assert_int_equal(cm_cgroup_create("cgtest-pids", NULL, &r, &F.cg, &err), 0);
    int fd = -1;
    F.child[0] = spawn(body_forker, &fd);
    assert_int_equal(cm_cgroup_add_pid(F.cg, F.child[0], &err), 0);
    go(fd);
    int status = 0;
    assert_int_equal(waitpid(F.child[0], &status, 0), F.child[0]);
    F.child[0] = 0;
    assert_true(WIFEXITED(status));
    /* the forker itself counts: 3 more fit under 4 */
    assert_int_equal(WEXITSTATUS(status), 100 + 3);
    /* The grandchildren are still in the cgroup: destroy must kill them. */
    pid_t *pids = NULL;
    size_t n = 0;
    assert_int_equal(cm_cgroup_pids(F.cg, &pids, &n, &err), 0);
    free(pids);
    assert_int_equal(n, 3);
    char dir[512];
    snprintf(dir, sizeof(dir), "%s", cm_cgroup_dir(F.cg, "pids"));
    assert_int_equal(cm_cgroup_destroy(F.cg, &err), 0);
    F.cg = NULL;
    assert_false(exists(dir));
}

static void check_freeze(const char *what)
{
    struct cm_error err;
    int fd = -1;
    F.child[0] = spawn(body_spin, &fd);
    assert_int_equal(cm_cgroup_add_pid(F.cg, F.child[0], &err), 0);
    go(fd);
    usleep(20000);
    assert_int_equal(cm_cgroup_freeze(F.cg, true, &err), 0);
    long a = *F.counter;
    usleep(100000);
    long b = *F.counter;
    assert_int_equal(a, b);
    if (!strcmp(what, "v1"))
        assert_string_equal(readf(cm_cgroup_dir(F.cg, "freezer"), "freezer.state"), "FROZEN");
    assert_int_equal(cm_cgroup_freeze(F.cg, false, &err), 0);
    usleep(50000);
    assert_true(*F.counter > b);
}

static void test_freeze_v1(void **state)
{
    (void)state;
    REQUIRE_CGROUPS();
    struct cm_resources r;
    unlimited(&r);
    struct cm_error err;
    assert_int_equal(cm_cgroup_create("cgtest-freeze", NULL, &r, &F.cg, &err), 0);
    if (!cm_cgroup_dir(F.cg, "freezer") || cm_cgroup_get_layout(F.cg) == CM_CGROUP_V2)
        skip();
    check_freeze("v1");
}

/* Touch every page through a volatile pointer: the compiler may not drop
 * the stores (it may drop a memset of memory that never escapes). */
static void touch(size_t n)
{
    volatile char *p = malloc(n);
    if (!p)
        _exit(2);
    for (size_t i = 0; i < n; i += 4096)
        p[i] = 1;
}

static void body_hog(void)
{
    touch(8u << 20);
    *F.counter = 1;
    for (;;)
        pause();
}

static void test_stats(void **state)
{
    (void)state;
    REQUIRE_CGROUPS();
    struct cm_resources r;
    unlimited(&r);
    r.memory_limit = 64LL << 20;
    r.pids_limit = 10;
    struct cm_error err;
    assert_int_equal(cm_cgroup_create("cgtest-stats", NULL, &r, &F.cg, &err), 0);
    int fd = -1;
    F.child[0] = spawn(body_hog, &fd);
    assert_int_equal(cm_cgroup_add_pid(F.cg, F.child[0], &err), 0);
    go(fd);
    for (int i = 0; i < 200 && !*F.counter; i++)
        usleep(5000);
    struct cm_cgroup_stats st;
    assert_int_equal(cm_cgroup_stats(F.cg, &st, &err), 0);
    assert_true(st.memory_usage >= (8u << 20));
    assert_int_equal(st.memory_limit, 64ULL << 20);
    assert_int_equal(st.pids_current, 1);
    assert_int_equal(st.pids_limit, 10);
    assert_true(st.cpu_usage_ns > 0);
    assert_int_equal(st.oom_kills, 0);
    assert_false(cm_cgroup_oom_killed(F.cg));
}

static void body_oom(void)
{
    for (int i = 0; i < 64; i++)
        touch(1u << 20);
    _exit(0);
}

static void test_oom(void **state)
{
    (void)state;
    REQUIRE_CGROUPS();
    struct cm_resources r;
    unlimited(&r);
    r.memory_limit = 16LL << 20;
    r.memory_swap = 16LL << 20;
    struct cm_error err;
    assert_int_equal(cm_cgroup_create("cgtest-oom", NULL, &r, &F.cg, &err), 0);
    int fd = -1;
    F.child[0] = spawn(body_oom, &fd);
    assert_int_equal(cm_cgroup_add_pid(F.cg, F.child[0], &err), 0);
    go(fd);
    int status = 0;
    assert_int_equal(waitpid(F.child[0], &status, 0), F.child[0]);
    F.child[0] = 0;
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    assert_true(cm_cgroup_oom_killed(F.cg));
    struct cm_cgroup_stats st;
    assert_int_equal(cm_cgroup_stats(F.cg, &st, &err), 0);
    assert_true(st.oom_kills >= 1);
}

static void test_destroy_live_child(void **state)
{
    (void)state;
    REQUIRE_CGROUPS();
    struct cm_resources r;
    unlimited(&r);
    r.pids_limit = 10;
    struct cm_error err;
    assert_int_equal(cm_cgroup_create("cgtest-destroy", NULL, &r, &F.cg, &err), 0);
    _cleanup_free_ char *desc = cm_cgroup_describe(F.cg);
    assert_non_null(desc);
    int fd = -1;
    F.child[0] = spawn(body_sleep, &fd);
    assert_int_equal(cm_cgroup_add_pid(F.cg, F.child[0], &err), 0);
    go(fd);
    /* Freeze first: destroy must still get rid of a paused container. */
    if (cm_cgroup_dir(F.cg, "freezer"))
        assert_int_equal(cm_cgroup_freeze(F.cg, true, &err), 0);

    /* Re-open from the description, as `delete` does in another process. */
    struct cm_cgroup *again = NULL;
    assert_int_equal(cm_cgroup_open(desc, &again, &err), 0);
    _cleanup_free_ char *desc2 = cm_cgroup_describe(again);
    assert_string_equal(desc, desc2);
    assert_int_equal(cm_cgroup_destroy(again, &err), 0);
    int status = 0;
    assert_int_equal(waitpid(F.child[0], &status, 0), F.child[0]);
    F.child[0] = 0;
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    /* Every directory named in the description is gone. */
    for (char *p = strchr(desc, ';'); p; p = strchr(p + 1, ';')) {
        char *dir = strchr(strchr(p + 1, ':') + 1, ':') + 1;
        char path[512];
        snprintf(path, sizeof(path), "%.*s", (int)strcspn(dir, ";"), dir);
        assert_false(exists(path));
    }
    cm_cgroup_close(F.cg);
    F.cg = NULL;
}

static void test_gc(void **state)
{
    (void)state;
    REQUIRE_CGROUPS();
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        struct cm_resources r;
        unlimited(&r);
        struct cm_error err;
        struct cm_cgroup *cg = NULL;
        if (cm_cgroup_create("cgtest-gc", NULL, &r, &cg, &err) < 0)
            _exit(1);
        char *d = cm_cgroup_describe(cg);
        if (!d || write(p[1], d, strlen(d)) < 0)
            _exit(1);
        _exit(0); /* as if killed: nothing removed */
    }
    close(p[1]);
    char desc[2048] = "";
    ssize_t n = read(p[0], desc, sizeof(desc) - 1);
    close(p[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(n > 0);
    desc[n] = '\0';
    struct cm_error err;
    assert_int_equal(cm_cgroup_open(desc, &F.cg, &err), 0); /* teardown removes it if gc fails */
    const char *dir = cm_cgroup_dir(F.cg, "pids");
    if (!dir)
        dir = cm_cgroup_dir(F.cg, NULL);
    assert_true(exists(dir));

    /* One of ours (owner alive) must survive gc. */
    struct cm_resources r;
    unlimited(&r);
    struct cm_cgroup *mine = NULL;
    assert_int_equal(cm_cgroup_create("cgtest-gc-live", NULL, &r, &mine, &err), 0);
    cm_cgroup_gc();
    bool mine_ok = exists(cm_cgroup_dir(mine, cm_cgroup_dir(mine, "pids") ? "pids" : NULL));
    assert_int_equal(cm_cgroup_destroy(mine, &err), 0);
    assert_true(mine_ok);
    assert_false(exists(dir));
}

static void test_gc_keeps_populated(void **state)
{
    (void)state;
    REQUIRE_CGROUPS();
    /* A dead owner but a live process: gc must leave it (and the process). */
    int p[2];
    assert_int_equal(pipe(p), 0);
    int fd = -1;
    F.child[0] = spawn(body_sleep, &fd);
    pid_t pid = fork();
    if (pid == 0) {
        struct cm_resources r;
        unlimited(&r);
        struct cm_error err;
        struct cm_cgroup *cg = NULL;
        if (cm_cgroup_create("cgtest-gc-busy", NULL, &r, &cg, &err) < 0 ||
            cm_cgroup_add_pid(cg, F.child[0], &err) < 0)
            _exit(1);
        char *d = cm_cgroup_describe(cg);
        if (!d || write(p[1], d, strlen(d)) < 0)
            _exit(1);
        _exit(0);
    }
    close(p[1]);
    char desc[2048] = "";
    ssize_t n = read(p[0], desc, sizeof(desc) - 1);
    close(p[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    go(fd);
    assert_true(n > 0);
    desc[n] = '\0';
    struct cm_error err;
    assert_int_equal(cm_cgroup_open(desc, &F.cg, &err), 0);
    cm_cgroup_gc();
    const char *dir = cm_cgroup_dir(F.cg, "pids");
    assert_true(exists(dir ? dir : cm_cgroup_dir(F.cg, NULL)));
    assert_int_equal(kill(F.child[0], 0), 0);
}

static void test_errors(void **state)
{
    (void)state;
    REQUIRE_CGROUPS();
    struct cm_resources r;
    unlimited(&r);
    struct cm_error err;
    struct cm_cgroup *cg = NULL;
    assert_int_equal(cm_cgroup_create("cgtest-err", "../escape", &r, &cg, &err), -1);
    assert_non_null(strstr(err.msg, "--cgroup-parent"));
    assert_int_equal(cm_cgroup_create("bad/id", NULL, &r, &cg, &err), -1);
    assert_int_equal(cm_cgroup_open("garbage", &cg, &err), -1);
    assert_int_equal(cm_cgroup_open("v1;1:pids:/sys/fs/cgroup/pids/../../etc", &cg, &err), -1);
    r.blkio_weight = 5000;
    assert_int_equal(cm_cgroup_create("cgtest-err", NULL, &r, &cg, &err), -1);
    assert_non_null(strstr(err.msg, "--blkio-weight"));
    /* a failed create leaves nothing behind */
    char path[512];
    snprintf(path, sizeof(path), "/sys/fs/cgroup/pids/casemate-cgtest-err-%d", (int)getpid());
    assert_false(exists(path));
    /* the same id twice from one owner is refused */
    r.blkio_weight = 0;
    assert_int_equal(cm_cgroup_create("cgtest-err", NULL, &r, &F.cg, &err), 0);
    assert_int_equal(cm_cgroup_create("cgtest-err", NULL, &r, &cg, &err), -1);
    assert_non_null(strstr(err.msg, "already exists"));
}

static void test_blkio_weight(void **state)
{
    (void)state;
    REQUIRE_CGROUPS();
    struct cm_resources r;
    unlimited(&r);
    r.blkio_weight = 300;
    struct cm_error err;
    int rc = cm_cgroup_create("cgtest-blkio", NULL, &r, &F.cg, &err);
    if (rc < 0) {
        /* no weight file on this kernel: the message must say so */
        assert_non_null(strstr(err.msg, "--blkio-weight"));
        return;
    }
    const char *d = cm_cgroup_dir(F.cg, "blkio");
    if (!d)
        d = cm_cgroup_dir(F.cg, "io");
    assert_non_null(d);
    const char *w = readf(d, "blkio.weight");
    if (!w)
        w = readf(d, "blkio.bfq.weight");
    if (!w)
        w = readf(d, "io.bfq.weight");
    assert_non_null(w);
    assert_non_null(strstr(w, "300"));
}

static void test_cgroup_parent(void **state)
{
    (void)state;
    REQUIRE_CGROUPS();
    struct cm_resources r;
    unlimited(&r);
    r.pids_limit = 7;
    struct cm_error err;
    int rc = cm_cgroup_create("cgtest-par", "cgtest-parent/sub", &r, &F.cg, &err);
    /* Record the parent dirs for teardown before asserting. */
    if (rc == 0) {
        _cleanup_free_ char *desc = cm_cgroup_describe(F.cg);
        for (char *p = strchr(desc, ';'); p && F.n_parent_dirs + 2 <= ARRAY_SIZE(F.parent_dirs);
             p = strchr(p + 1, ';')) {
            char *dir = strchr(strchr(p + 1, ':') + 1, ':') + 1;
            int len = (int)strcspn(dir, ";");
            char tmp[512];
            snprintf(tmp, sizeof(tmp), "%.*s", len, dir);
            *strrchr(tmp, '/') = '\0'; /* .../cgtest-parent/sub */
            char *sub = strrchr(tmp, '/');
            assert_string_equal(sub, "/sub");
            *sub = '\0';
            snprintf(F.parent_dirs[F.n_parent_dirs++], 512, "%s", tmp);
            snprintf(F.parent_dirs[F.n_parent_dirs++], 512, "%s/sub", tmp);
        }
    }
    assert_int_equal(rc, 0);
    const char *d = cm_cgroup_dir(F.cg, "pids");
    if (d) {
        assert_non_null(strstr(d, "/cgtest-parent/sub/casemate-cgtest-par-"));
        assert_string_equal(readf(d, "pids.max"), "7");
    }
    /* a cpuset parent made on the way can take tasks */
    const char *cs = cm_cgroup_dir(F.cg, "cpuset");
    if (cs) {
        int fd = -1;
        F.child[0] = spawn(body_sleep, &fd);
        assert_int_equal(cm_cgroup_add_pid(F.cg, F.child[0], &err), 0);
        go(fd);
    }
}

/* The v2 backend on the cgroup2 mount of a hybrid host: no controllers
 * there, but the core v2 files (cgroup.procs, cgroup.freeze, cgroup.events,
 * cgroup.kill, cpu.stat) work. */
static void test_v2_backend(void **state)
{
    (void)state;
    REQUIRE_CGROUPS();
    if (!have_v2_mount())
        skip();
    struct cm_resources r;
    unlimited(&r);
    struct cm_error err;
    /* A limit the v2 hierarchy cannot enforce fails, naming the flag. */
    r.memory_limit = 32LL << 20;
    assert_int_equal(cm_cgroup_create_v2_at(V2_MOUNT, "cgtest-v2", NULL, &r, &F.cg, &err), -1);
    bool has_mem = strstr(err.msg, "-m/--memory") != NULL;
    char path[512];
    snprintf(path, sizeof(path), V2_MOUNT "/casemate-cgtest-v2-%d", (int)getpid());
    assert_false(exists(path));
    if (!has_mem) /* a v2 host with the memory controller would have accepted it */
        fail_msg("unexpected: %s", err.msg);
    /* casemate's own defaults are skipped where the controller is missing */
    r.memory_limit = CM_DEFAULT_MEMORY_LIMIT;
    r.pids_limit = CM_DEFAULT_PIDS_LIMIT;
    assert_int_equal(cm_cgroup_create_v2_at(V2_MOUNT, "cgtest-v2", NULL, &r, &F.cg, &err), 0);
    assert_int_equal(cm_cgroup_get_layout(F.cg), CM_CGROUP_V2);
    const char *dir = cm_cgroup_dir(F.cg, NULL);
    assert_string_equal(dir, path);
    /* no v1 hierarchy is used by the v2 backend */
    assert_null(cm_cgroup_dir(F.cg, "memory"));
    assert_null(cm_cgroup_dir(F.cg, "freezer"));

    int fd = -1;
    F.child[0] = spawn(body_spin, &fd);
    assert_int_equal(cm_cgroup_add_pid(F.cg, F.child[0], &err), 0);
    char want[128];
    snprintf(want, sizeof(want), "0::/casemate-cgtest-v2-%d\n", (int)getpid());
    {
        char p2[64], line[512];
        snprintf(p2, sizeof(p2), "/proc/%d/cgroup", (int)F.child[0]);
        FILE *g = fopen(p2, "re");
        assert_non_null(g);
        bool found = false;
        while (fgets(line, sizeof(line), g))
            if (!strncmp(line, want, strlen(want)))
                found = true;
        fclose(g);
        assert_true(found);
    }
    go(fd);
    usleep(20000);
    /* freeze through cgroup.freeze / cgroup.events */
    assert_int_equal(cm_cgroup_freeze(F.cg, true, &err), 0);
    assert_non_null(strstr(readf(dir, "cgroup.freeze"), "1"));
    long a = *F.counter;
    usleep(100000);
    assert_int_equal(*F.counter, a);
    assert_int_equal(cm_cgroup_freeze(F.cg, false, &err), 0);
    usleep(50000);
    assert_true(*F.counter > a);
    /* stats from cpu.stat */
    struct cm_cgroup_stats st;
    assert_int_equal(cm_cgroup_stats(F.cg, &st, &err), 0);
    assert_true(st.cpu_usage_ns > 0);
    pid_t *pids = NULL;
    size_t n = 0;
    assert_int_equal(cm_cgroup_pids(F.cg, &pids, &n, &err), 0);
    bool seen = n == 1 && pids[0] == F.child[0];
    free(pids);
    assert_true(seen);
    /* destroy through cgroup.kill, frozen or not */
    assert_int_equal(cm_cgroup_freeze(F.cg, true, &err), 0);
    assert_int_equal(cm_cgroup_destroy(F.cg, &err), 0);
    F.cg = NULL;
    int status = 0;
    assert_int_equal(waitpid(F.child[0], &status, 0), F.child[0]);
    F.child[0] = 0;
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_false(exists(path));
}

/* The v2 file formats, on a plain directory standing in for a v2 cgroup
 * with every controller (this host's v2 hierarchy has none of them). */
static char fake[64];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static int fake_setup(void **state)
{
    (void)state;
    snprintf(fake, sizeof(fake), "/tmp/cgroup-test-XXXXXX");
    if (!mkdtemp(fake))
        return -1;
    static const char *const files[][2] = {
        {"memory.max", "max\n"},
        {"memory.swap.max", "max\n"},
        {"memory.low", "0\n"},
        {"memory.current", "10485760\n"},
        {"memory.stat", "anon 8388608\nfile 2097152\ninactive_file 1048576\n"},
        {"memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n"},
        {"cpu.max", "max 100000\n"},
        {"cpu.weight", "100\n"},
        {"cpu.stat", "usage_usec 1500\nuser_usec 1000\n"},
        {"cpuset.cpus", "\n"},
        {"cpuset.mems", "\n"},
        {"pids.max", "max\n"},
        {"pids.current", "3\n"},
        {"io.weight", "default 100\n"},
        {"io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2\n8:16 rbytes=1 wbytes=2\n"},
        {"cgroup.freeze", "0\n"},
        {"cgroup.events", "populated 1\nfrozen 1\n"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", fake, files[i][0]);
        FILE *f = fopen(path, "we");
        if (!f)
            return -1;
        fputs(files[i][1], f);
        fclose(f);
    }
    return 0;
}

static int fake_teardown(void **state)
{
    (void)state;
    nftw(fake, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static void test_v2_file_formats(void **state)
{
    (void)state;
    char desc[256];
    snprintf(desc, sizeof(desc), "v2;2:cpuset cpu io memory pids:%s", fake);
    struct cm_cgroup *cg = NULL;
    struct cm_error err;
    assert_int_equal(cm_cgroup_open(desc, &cg, &err), 0);
    struct cm_resources r;
    unlimited(&r);
    r.memory_limit = 32LL << 20;
    r.memory_swap = 48LL << 20;
    r.memory_reservation = 8LL << 20;
    r.cpu_quota = 25000;
    r.cpu_period = 50000;
    r.cpu_shares = 1024;
    r.cpuset_cpus = "0";
    r.cpuset_mems = "0";
    r.pids_limit = 20;
    r.blkio_weight = 500;
    int rc = cm_cgroup_update(cg, &r, &err);
    if (rc < 0)
        fail_msg("%s", err.msg);
    assert_string_equal(readf(fake, "memory.max"), "33554432");
    assert_string_equal(readf(fake, "memory.swap.max"), "16777216"); /* v2 counts swap alone */
    assert_string_equal(readf(fake, "memory.low"), "8388608");
    assert_string_equal(readf(fake, "cpu.max"), "25000 50000");
    assert_string_equal(readf(fake, "cpu.weight"), "39"); /* 1 + (1022 * 9999) / 262142 */
    assert_string_equal(readf(fake, "cpuset.cpus"), "0");
    assert_string_equal(readf(fake, "pids.max"), "20");
    assert_string_equal(readf(fake, "io.weight"), "500");
    /* update keeps what it is not given; cpu.max keeps its period */
    struct cm_resources u;
    cm_resources_keep_all(&u);
    u.cpu_quota = -1;
    u.pids_limit = -1;
    assert_int_equal(cm_cgroup_update(cg, &u, &err), 0);
    assert_string_equal(readf(fake, "cpu.max"), "max 50000");
    assert_string_equal(readf(fake, "pids.max"), "max");
    assert_string_equal(readf(fake, "memory.max"), "33554432");

    struct cm_cgroup_stats st;
    assert_int_equal(cm_cgroup_stats(cg, &st, &err), 0);
    assert_int_equal(st.cpu_usage_ns, 1500000);
    assert_int_equal(st.memory_usage, 10485760 - 1048576);
    assert_int_equal(st.memory_limit, 32ULL << 20);
    assert_int_equal(st.pids_current, 3);
    assert_int_equal(st.pids_limit, UINT64_MAX);
    assert_int_equal(st.blkio_read, 4097);
    assert_int_equal(st.blkio_write, 8194);
    assert_int_equal(st.oom_kills, 1);
    assert_true(cm_cgroup_oom_killed(cg));
    /* freeze writes cgroup.freeze and waits for "frozen 1" */
    assert_int_equal(cm_cgroup_freeze(cg, true, &err), 0);
    assert_string_equal(readf(fake, "cgroup.freeze"), "1");
    cm_cgroup_close(cg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_parse_cpus),
        cmocka_unit_test(test_format_size),
        cmocka_unit_test(test_detect),
        cmocka_unit_test_setup_teardown(test_limits_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pids_enforced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_freeze_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_live_child, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gc_keeps_populated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blkio_weight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cgroup_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v2_backend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v2_file_formats, fake_setup, fake_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
