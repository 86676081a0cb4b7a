/* test_state.c: the state store in a temporary root (removed by the
 * teardown, whatever happened). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container/state.h"
#include "util/cleanup.h"

static char root[256];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/state-test-XXXXXX");
    if (!mkdtemp(root))
        return -1;
    /* the store makes the root itself: start from a path that is not there */
    strcat(root, "/root");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char *slash = strrchr(root, '/');
    *slash = '\0';
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static void test_ids(void **state)
{
    (void)state;
    char long_ok[129], long_bad[130];
    memset(long_ok, 'a', 128);
    long_ok[128] = '\0';
    memset(long_bad, 'a', 129);
    long_bad[129] = '\0';
    static const char *good[] = {"a", "abc-1.2_3", "0", "Web.1"};
    for (size_t i = 0; i < ARRAY_SIZE(good); i++)
        assert_int_equal(cm_state_validate_id(good[i], NULL), 0);
    assert_int_equal(cm_state_validate_id(long_ok, NULL), 0);
    static const char *bad[] = {"", ".", "..", "a/b", "-a", ".a", "a b", "../x", "a\n", "é"};
    struct cm_error err;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(cm_state_validate_id(bad[i], &err), -1);
        assert_non_null(strstr(err.msg, "invalid container id"));
    }
    assert_int_equal(cm_state_validate_id(long_bad, &err), -1);
    assert_int_equal(cm_state_validate_id(NULL, &err), -1);
}

static void test_status_names(void **state)
{
    (void)state;
    for (int s = CM_STATUS_CREATING; s <= CM_STATUS_PAUSED; s++)
        assert_int_equal(cm_status_from_name(cm_status_name((enum cm_status)s)), s);
    assert_string_equal(cm_status_name(CM_STATUS_RUNNING), "running");
    assert_int_equal(cm_status_from_name("bogus"), -1);
}

static void fill(struct cm_state *st, const char *id)
{
    memset(st, 0, sizeof(*st));
    st->id = strdup(id);
    st->status = CM_STATUS_RUNNING;
    st->pid = 4242;
    st->pid_start = 123456;
    st->bundle = strdup("/srv/bundle");
    st->n_annotations = 2;
    st->annotations = calloc(2, sizeof(*st->annotations));
    st->annotations[0].key = strdup("org.example.a");
    st->annotations[0].value = strdup("1");
    st->annotations[1].key = strdup("b");
    st->annotations[1].value = strdup("two words");
    st->rootfs = strdup("/srv/rootfs");
    char now[64];
    cm_state_now_rfc3339(now, sizeof(now));
    st->created = strdup(now);
    st->cgroup = strdup("hybrid;1:pids:/sys/fs/cgroup/pids/casemate-x-1");
    st->supervisor_pid = 77;
    st->exited = true;
    st->exit_status = 137;
    st->oom_killed = true;
    st->argv = calloc(4, sizeof(char *));
    st->argv[0] = strdup("/bin/sh");
    st->argv[1] = strdup("-c");
    st->argv[2] = strdup("echo \xff"); /* not UTF-8: kept, the byte replaced */
}

static void test_save_load(void **state)
{
    (void)state;
    struct cm_error err;
    assert_int_equal(cm_state_create_dir(root, "c1", &err), 0);
    struct stat sb;
    assert_int_equal(stat(root, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0700);
    assert_int_equal(cm_state_create_dir(root, "c1", &err), -1);
    assert_int_equal(err.errnum, EEXIST);
    assert_non_null(strstr(err.msg, "container ID c1 already exists"));
    assert_int_equal(cm_state_create_dir(root, "../evil", &err), -1);

    struct cm_state st, back;
    fill(&st, "c1");
    assert_int_equal(cm_state_save(root, &st, &err), 0);
    /* the second save replaces the first */
    st.status = CM_STATUS_STOPPED;
    assert_int_equal(cm_state_save(root, &st, &err), 0);
    assert_int_equal(cm_state_load(root, "c1", &back, &err), 0);
    assert_string_equal(back.id, "c1");
    assert_int_equal(back.status, CM_STATUS_STOPPED);
    assert_int_equal(back.pid, 4242);
    assert_int_equal(back.pid_start, 123456);
    assert_string_equal(back.bundle, "/srv/bundle");
    assert_int_equal(back.n_annotations, 2);
    assert_string_equal(back.annotations[1].value, "two words");
    assert_string_equal(back.rootfs, "/srv/rootfs");
    assert_string_equal(back.created, st.created);
    assert_string_equal(back.cgroup, st.cgroup);
    assert_int_equal(back.supervisor_pid, 77);
    assert_true(back.exited);
    assert_int_equal(back.exit_status, 137);
    assert_true(back.oom_killed);
    assert_string_equal(back.argv[0], "/bin/sh");
    assert_string_equal(back.argv[1], "-c");
    assert_string_equal(back.argv[2], "echo ?");
    assert_null(back.argv[3]);
    cm_state_free(&back);

    /* atomic replace leaves no temp file; the file is root's only */
    char path[512];
    snprintf(path, sizeof(path), "%s/c1", root);
    _cleanup_closedir_ DIR *d = opendir(path);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        assert_null(strstr(e->d_name, ".tmp"));
    snprintf(path, sizeof(path), "%s/c1/state.json", root);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);

    /* OCI state: only the OCI fields */
    _cleanup_free_ char *oci = cm_state_to_oci_json(&st);
    json_error_t jerr;
    json_t *o = json_loads(oci, 0, &jerr);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "ociVersion")), CM_OCI_VERSION);
    assert_string_equal(json_string_value(json_object_get(o, "id")), "c1");
    assert_string_equal(json_string_value(json_object_get(o, "status")), "stopped");
    assert_string_equal(json_string_value(json_object_get(o, "bundle")), "/srv/bundle");
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "annotations"), "b")), "two words");
    assert_non_null(json_object_get(o, "pid"));
    assert_null(json_object_get(o, "cgroup"));
    assert_null(json_object_get(o, "supervisorPid"));
    json_decref(o);
    cm_state_free(&st);

    /* missing container */
    assert_int_equal(cm_state_load(root, "nope", &back, &err), -1);
    assert_int_equal(err.errnum, ENOENT);
    assert_string_equal(err.msg, "container nope does not exist: No such file or directory");
    /* a state file that names another container */
    assert_int_equal(cm_state_create_dir(root, "c2", &err), 0);
    fill(&st, "c1");
    snprintf(path, sizeof(path), "%s/c2/state.json", root);
    _cleanup_free_ char *text = cm_state_to_json(&st);
    FILE *f = fopen(path, "we");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    cm_state_free(&st);
    assert_int_equal(cm_state_load(root, "c2", &back, &err), -1);
    assert_non_null(strstr(err.msg, "not \"c2\""));
}

static void test_from_json_errors(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "[]",
        "{\"status\":\"running\"}",
        "{\"id\":\"../x\",\"status\":\"running\"}",
        "{\"id\":\"a\",\"status\":\"flying\"}",
        "{\"id\":\"a\",\"status\":\"running\",\"pid\":\"1\"}",
        "{\"id\":\"a\",\"status\":\"running\",\"pid\":-1}",
        "{\"id\":\"a\",\"status\":\"running\",\"exitStatus\":300}",
        "{\"id\":\"a\",\"status\":\"running\",\"annotations\":[]}",
        "{\"id\":\"a\",\"status\":\"running\",\"annotations\":{\"k\":1}}",
        "{\"id\":\"a\",\"status\":\"running\",\"args\":[\"x\",2]}",
        "{\"id\":\"a\",\"status\":\"running\",\"oomKilled\":1}",
        "{\"id\":\"a\",\"id\":\"b\",\"status\":\"running\"}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct cm_state st;
        struct cm_error err;
        assert_int_equal(cm_state_from_json(bad[i], &st, &err), -1);
        assert_non_null(strstr(err.msg, "state file"));
    }
    struct cm_state st;
    struct cm_error err;
    assert_int_equal(cm_state_from_json("{\"id\":\"a\",\"status\":\"created\"}", &st, &err), 0);
    assert_false(st.exited);
    assert_null(st.bundle);
    cm_state_free(&st);
}

static void test_lock(void **state)
{
    (void)state;
    struct cm_error err;
    assert_int_equal(cm_state_lock(root, "ghost", 0, &err), -1);
    assert_int_equal(err.errnum, ENOENT);
    assert_int_equal(cm_state_create_dir(root, "l1", &err), 0);
    int fd = cm_state_lock(root, "l1", 0, &err);
    assert_true(fd >= 0);
    /* a second command waits, then gives up with a clear message */
    int fd2 = cm_state_lock(root, "l1", 100, &err);
    assert_int_equal(fd2, -1);
    assert_int_equal(err.errnum, EWOULDBLOCK);
    assert_non_null(strstr(err.msg, "container l1 is busy"));
    /* ... and gets it when the first one finishes while it waits */
    pid_t pid = fork();
    if (pid == 0) {
        usleep(100000);
        _exit(0);
    }
    close(fd); /* the child holds a copy of the same OFD: the lock lives on */
    fd2 = cm_state_lock(root, "l1", 50, &err);
    assert_int_equal(fd2, -1);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    fd2 = cm_state_lock(root, "l1", 2000, &err);
    assert_true(fd2 >= 0);
    /* a container deleted while locked is gone for the next one */
    assert_int_equal(cm_state_remove(root, "l1", &err), 0);
    close(fd2);
    assert_int_equal(cm_state_lock(root, "l1", 0, &err), -1);
    assert_int_equal(err.errnum, ENOENT);
}

static void test_list_remove(void **state)
{
    (void)state;
    struct cm_error err;
    char **ids = NULL;
    assert_int_equal(cm_state_list(root, &ids, &err), 0); /* root not there yet */
    assert_null(ids[0]);
    cm_strv_free(ids);
    static const char *names[] = {"zeta", "alpha", "m-1"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        assert_int_equal(cm_state_create_dir(root, names[i], &err), 0);
    char path[512];
    snprintf(path, sizeof(path), "%s/userns.lock", root); /* another module's file */
    FILE *f = fopen(path, "we");
    assert_non_null(f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/.hidden", root);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(cm_state_list(root, &ids, &err), 0);
    assert_string_equal(ids[0], "alpha");
    assert_string_equal(ids[1], "m-1");
    assert_string_equal(ids[2], "zeta");
    assert_null(ids[3]);
    cm_strv_free(ids);

    struct cm_state st;
    fill(&st, "alpha");
    assert_int_equal(cm_state_save(root, &st, &err), 0);
    cm_state_free(&st);
    int fd = cm_state_lock(root, "alpha", 0, &err);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(cm_state_remove(root, "alpha", &err), 0);
    snprintf(path, sizeof(path), "%s/alpha", root);
    struct stat sb;
    assert_int_equal(stat(path, &sb), -1);
    assert_int_equal(cm_state_remove(root, "alpha", &err), 0); /* twice is fine */
    assert_int_equal(cm_state_remove(root, "../etc", &err), -1);
    assert_int_equal(cm_state_list(root, &ids, &err), 0);
    assert_string_equal(ids[0], "m-1");
    assert_null(ids[2]);
    cm_strv_free(ids);
}

static void test_refresh(void **state)
{
    (void)state;
    struct cm_state st;
    memset(&st, 0, sizeof(st));
    st.status = CM_STATUS_RUNNING;
    st.pid = getpid();
    assert_int_equal(cm_proc_start_time(getpid(), &st.pid_start), 0);
    assert_false(cm_state_refresh(&st));
    assert_int_equal(st.status, CM_STATUS_RUNNING);
    /* the same pid with another start time is another process */
    st.pid_start += 1;
    assert_true(cm_state_refresh(&st));
    assert_int_equal(st.status, CM_STATUS_STOPPED);
    /* an exited (zombie) and then reaped child */
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    st.status = CM_STATUS_RUNNING;
    st.pid = pid;
    st.pid_start = 0;
    usleep(50000);
    assert_true(cm_state_refresh(&st)); /* zombie */
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    st.status = CM_STATUS_PAUSED;
    assert_true(cm_state_refresh(&st)); /* gone */
    assert_int_equal(cm_proc_start_time(pid, &st.pid_start), -1);
}

static void test_rfc3339(void **state)
{
    (void)state;
    char buf[64];
    cm_state_now_rfc3339(buf, sizeof(buf));
    assert_int_equal(strlen(buf), 30);
    assert_true(buf[4] == '-' && buf[10] == 'T' && buf[19] == '.' && buf[29] == 'Z');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
        cmocka_unit_test(test_from_json_errors),
        cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_remove, setup, teardown),
        cmocka_unit_test(test_refresh),
        cmocka_unit_test(test_rfc3339),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
