/* oci.c: the OCI commands `spec` and `features` (create, start, ps: oci_runtime.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "spec/oci.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"



/* ------------------------------------------------------------------ */
/* casemate spec */

enum { SPEC_BUNDLE, SPEC_ROOTLESS };

static const struct cm_option spec_opts[] = {
    {"bundle", 'b', CM_OPT_REQUIRED, "DIR", "Write DIR/config.json (default: the current directory)",
     SPEC_BUNDLE},
    {"rootless", 0, CM_OPT_NONE, NULL,
     "Map only your own uid and gid, set no cgroup limits (for an unprivileged user)",
     SPEC_ROOTLESS},
};

struct spec_args {
    const char *bundle;
    bool rootless;
};

static int spec_opt(int id, const char *arg, void *ctx)
{
    struct spec_args *a = ctx;
    if (id == SPEC_BUNDLE)
        a->bundle = arg;
    else
        a->rootless = true;
    return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int cmd_spec(int argc, char **argv)
{
    static const char usage[] = "[--bundle DIR] [--rootless]";
    static const char summary[] =
        "Write a config.json with casemate's hardened defaults in OCI terms: every namespace\n"
        "including user (uid 0 mapped to 100000-165535: replace with your /etc/subuid range),\n"
        "no capabilities, no_new_privs, the default seccomp profile, a read-only root,\n"
        "size-limited tmpfs on /tmp and /run, masked paths, pids and memory limits.\n"
        "The root filesystem is expected in DIR/rootfs. An existing config.json is never\n"
        "overwritten.";
    struct spec_args a = {.bundle = "."};
    int first = cm_opts_parse(spec_opts, ARRAY_SIZE(spec_opts), argc, argv, "spec", usage,
                              summary, spec_opt, &a);
    if (first == -2)
        return CM_EXIT_OK;
    if (first < 0)
        return CM_EXIT_FAILURE;
    if (first < argc)
        return cm_fail("spec: unexpected argument '%s' (see 'casemate spec --help')", argv[first]);

    struct cm_error err = {0};
    struct cm_spec spec = {0};
    _cleanup_free_ char *text = NULL;
    if (cm_oci_spec_defaults(&spec, a.rootless, &err) == 0)
        text = cm_oci_spec_to_json(&spec, &err);
    cm_spec_free(&spec);
    if (!text)
        return cm_fail("spec: %s", err.msg);

    _cleanup_close_ int dirfd = open(a.bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return cm_fail("spec: opening the bundle directory %s: %s", a.bundle, strerror(errno));
    /* O_EXCL: like runc, never overwrite someone's config; O_NOFOLLOW: a
     * planted symlink must not redirect the write. */
    _cleanup_close_ int fd = openat(dirfd, "config.json",
                                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST)
        return cm_fail("spec: %s/config.json already exists; remove it first", a.bundle);
    if (fd < 0)
        return cm_fail("spec: creating %s/config.json: %s", a.bundle, strerror(errno));
    size_t len = strlen(text);
    if (write_all(fd, text, len) < 0 || write_all(fd, "\n", 1) < 0) {
        int saved = errno;
        unlinkat(dirfd, "config.json", 0);
        return cm_fail("spec: writing %s/config.json: %s", a.bundle, strerror(saved));
    }
    if (close(TAKE_FD(fd)) < 0) {
        int saved = errno;
        unlinkat(dirfd, "config.json", 0);
        return cm_fail("spec: writing %s/config.json: %s", a.bundle, strerror(saved));
    }
    return CM_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* casemate features */

/* AppArmor confines only when the module is loaded and enabled. */
static bool apparmor_enabled(void)
{
    _cleanup_fclose_ FILE *f = fopen("/sys/module/apparmor/parameters/enabled", "re");
    return f && fgetc(f) == 'Y';
}

/* SELinux labels mean something only with selinuxfs mounted. */
static bool selinux_enabled(void)
{
    struct stat st;
    return stat("/sys/fs/selinux/enforce", &st) == 0;
}

int cmd_features(int argc, char **argv)
{
    static const char summary[] =
        "Print the OCI features document: the runtime-spec versions, hooks, mount options,\n"
        "namespaces, capabilities, cgroup and seccomp support, and which LSMs this host has.";
    int first = cm_opts_parse(NULL, 0, argc, argv, "features", "", summary, spec_opt, NULL);
    if (first == -2)
        return CM_EXIT_OK;
    if (first < 0)
        return CM_EXIT_FAILURE;
    if (first < argc)
        return cm_fail("features: unexpected argument '%s'", argv[first]);
    struct cm_error err = {0};
    _cleanup_free_ char *text = cm_oci_features_json(apparmor_enabled(), selinux_enabled(), &err);
    if (!text)
        return cm_fail("features: %s", err.msg);
    if (printf("%s\n", text) < 0 || fflush(stdout) != 0)
        return cm_fail("features: writing to stdout: %s", strerror(errno));
    return CM_EXIT_OK;
}
