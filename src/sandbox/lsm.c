/* lsm.c: Linux security modules. AppArmor and SELinux are detected from
 * their sysfs files and applied by writing the exec attribute of our own
 * process in procfs; Landlock is applied with its three syscalls. A
 * requested label that the host cannot apply is an error, never a warning:
 * silently running unconfined is what we refuse to do. */
#include "sandbox/lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

const char *cm_lsm_sysfs_prefix = "";

#define APPARMOR_ENABLED "/sys/module/apparmor/parameters/enabled"
#define APPARMOR_MODULE "/sys/module/apparmor"
#define SELINUX_ENFORCE "/sys/fs/selinux/enforce"
#define LSM_LIST "/sys/kernel/security/lsm"

/* Kernel headers of Debian 12 predate some of these. */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif
/* lsm_list_modules (Linux 6.8) has one number on every architecture using
 * the common syscall table. */
#if !defined(__NR_lsm_list_modules) && (defined(__x86_64__) || defined(__aarch64__) || \
                                        defined(__riscv) || defined(__loongarch__))
#define __NR_lsm_list_modules 461
#endif

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1

/* Filesystem rights by the ABI that introduced them. */
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_WRITE_FILE (1ULL << 1)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_FS_ABI1 ((1ULL << 13) - 1) /* EXECUTE .. MAKE_SYM */
#define LL_FS_REFER (1ULL << 13)      /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14)   /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15)  /* ABI 5 */
/* The rights that make sense on a file (others are EINVAL on a file rule). */
#define LL_FS_FILE_RIGHTS                                                      \
    (LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

struct ll_ruleset_attr {
    uint64_t handled_access_fs;
};

struct ll_path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

static const struct {
    int abi;
    uint64_t rights;
} ll_fs_rights_by_abi[] = {
    {1, LL_FS_ABI1},
    {2, LL_FS_REFER},
    {3, LL_FS_TRUNCATE},
    {5, LL_FS_IOCTL_DEV},
};

/* Module ids of lsm_list_modules, as in <linux/lsm.h> (LSM_ID_*). */
static const struct {
    uint64_t id;
    const char *name;
} lsm_ids[] = {
    {100, "capability"}, {101, "selinux"}, {102, "smack"},    {103, "tomoyo"},
    {104, "apparmor"},   {105, "yama"},    {106, "loadpin"},  {107, "safesetid"},
    {108, "lockdown"},   {109, "bpf"},     {110, "landlock"}, {111, "ima"},
    {112, "evm"},        {113, "ipe"},
};

static void sysfs_path(char *buf, size_t size, const char *path)
{
    snprintf(buf, size, "%s%s", cm_lsm_sysfs_prefix, path);
}

/* First line of a small file, trailing newline removed; -1 with errno. */
static int read_line(const char *path, char *buf, size_t size)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -1;
    ssize_t n;
    do
        n = read(fd, buf, size - 1);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

enum lsm_state { LSM_ABSENT, LSM_DISABLED, LSM_ENABLED };

/* AppArmor: built in when its module directory exists, enabled when its
 * "enabled" parameter reads Y. `why` explains a non-enabled state. */
static enum lsm_state apparmor_state(char *why, size_t size)
{
    char path[4096], value[16];
    sysfs_path(path, sizeof(path), APPARMOR_ENABLED);
    if (read_line(path, value, sizeof(value)) < 0) {
        int saved = errno;
        char mod[4096];
        sysfs_path(mod, sizeof(mod), APPARMOR_MODULE);
        bool built_in = access(mod, F_OK) == 0;
        snprintf(why, size, "%s %s", APPARMOR_ENABLED,
                 saved == ENOENT ? "missing" : strerror(saved));
        return built_in ? LSM_DISABLED : LSM_ABSENT;
    }
    if (value[0] != 'Y') {
        snprintf(why, size, "%s is %s", APPARMOR_ENABLED, value);
        return LSM_DISABLED;
    }
    return LSM_ENABLED;
}

/* SELinux: selinuxfs mounted means enabled; enforce reads 1 or 0. */
static enum lsm_state selinux_state(bool *enforcing, char *why, size_t size)
{
    char path[4096], value[16];
    sysfs_path(path, sizeof(path), SELINUX_ENFORCE);
    *enforcing = false;
    if (read_line(path, value, sizeof(value)) < 0) {
        snprintf(why, size, "%s %s", SELINUX_ENFORCE,
                 errno == ENOENT ? "missing" : strerror(errno));
        return LSM_ABSENT;
    }
    *enforcing = value[0] == '1';
    return LSM_ENABLED;
}

/* Labels go to the kernel as one write: no newline, no NUL, bounded. */
static int check_label(const char *kind, const char *label, struct cm_error *err)
{
    if (!label || !*label)
        return cm_err_set(err, 0, "%s: empty name", kind);
    if (strlen(label) > 4000)
        return cm_err_set(err, 0, "%s '%.40s...': name too long", kind, label);
    for (const char *p = label; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return cm_err_set(err, 0, "%s '%s': control character in name", kind, label);
    return 0;
}

int cm_lsm_check_apparmor(const char *profile, struct cm_error *err)
{
    if (check_label("AppArmor profile", profile, err) < 0)
        return -1;
    if (!strcmp(profile, "unconfined"))
        return 0;
    char why[4200];
    if (apparmor_state(why, sizeof(why)) != LSM_ENABLED)
        return cm_err_set(err, 0,
                          "AppArmor profile '%s' requested but AppArmor is not enabled on this "
                          "host (%s)",
                          profile, why);
    return 0;
}

int cm_lsm_check_selinux(const char *label, struct cm_error *err)
{
    if (check_label("SELinux label", label, err) < 0)
        return -1;
    bool enforcing;
    char why[4200];
    if (selinux_state(&enforcing, why, sizeof(why)) != LSM_ENABLED)
        return cm_err_set(err, 0,
                          "SELinux label '%s' requested but SELinux is not enabled on this "
                          "host (%s)",
                          label, why);
    return 0;
}

/* Write `value` to one of our /proc/self/attr files, refusing anything but
 * a real procfs there: a root filesystem that mounts its own "/proc" must
 * not swallow the label (CVE-2019-16884). */
static int write_attr(const char *path, const char *value, struct cm_error *err)
{
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    if (fd < 0)
        return cm_err_sys(err, "opening %s", path);
    struct statfs sfs;
    if (fstatfs(fd, &sfs) < 0)
        return cm_err_sys(err, "checking %s", path);
    if (sfs.f_type != PROC_SUPER_MAGIC)
        return cm_err_set(err, 0, "%s is not on procfs", path);
    size_t len = strlen(value);
    ssize_t n;
    do
        n = write(fd, value, len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return cm_err_sys(err, "writing '%s' to %s", value, path);
    if ((size_t)n != len)
        return cm_err_set(err, EIO, "writing '%s' to %s: short write", value, path);
    return 0;
}

int cm_lsm_apply_apparmor(const char *profile, struct cm_error *err)
{
    if (cm_lsm_check_apparmor(profile, err) < 0)
        return -1;
    char why[4200];
    if (apparmor_state(why, sizeof(why)) != LSM_ENABLED)
        return 0; /* "unconfined" on a host without AppArmor */
    char cmd[4100];
    snprintf(cmd, sizeof(cmd), "exec %s", profile);
    /* Stacked-LSM kernels have a per-module directory; older ones only the
     * shared file. */
    const char *path = access("/proc/self/attr/apparmor/exec", F_OK) == 0
                           ? "/proc/self/attr/apparmor/exec"
                           : "/proc/self/attr/exec";
    if (write_attr(path, cmd, err) < 0)
        return cm_err_prefix(err, "applying AppArmor profile '%s'", profile);
    return 0;
}

int cm_lsm_apply_selinux(const char *label, struct cm_error *err)
{
    if (cm_lsm_check_selinux(label, err) < 0)
        return -1;
    if (write_attr("/proc/self/attr/exec", label, err) < 0)
        return cm_err_prefix(err, "applying SELinux label '%s'", label);
    return 0;
}

int cm_landlock_supported(void)
{
    long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
    return abi > 0 ? (int)abi : 0;
}

static uint64_t landlock_handled(int abi)
{
    uint64_t rights = 0;
    for (size_t i = 0; i < ARRAY_SIZE(ll_fs_rights_by_abi); i++)
        if (abi >= ll_fs_rights_by_abi[i].abi)
            rights |= ll_fs_rights_by_abi[i].rights;
    return rights;
}

static int landlock_add_paths(int ruleset, const char *const *paths, uint64_t access,
                              uint64_t handled, struct cm_error *err)
{
    for (size_t i = 0; paths && paths[i]; i++) {
        _cleanup_close_ int fd = open(paths[i], O_PATH | O_CLOEXEC);
        if (fd < 0)
            return cm_err_sys(err, "opening %s for a Landlock rule", paths[i]);
        struct stat st;
        if (fstat(fd, &st) < 0)
            return cm_err_sys(err, "checking %s for a Landlock rule", paths[i]);
        struct ll_path_beneath_attr rule = {
            .allowed_access = access & handled & (S_ISDIR(st.st_mode) ? ~0ULL : LL_FS_FILE_RIGHTS),
            .parent_fd = fd,
        };
        if (syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &rule, 0) < 0)
            return cm_err_sys(err, "adding a Landlock rule for %s", paths[i]);
    }
    return 0;
}

int cm_landlock_restrict(const char *const *ro_paths, const char *const *rw_paths,
                         const char *const *rx_paths, struct cm_error *err)
{
    int abi = cm_landlock_supported();
    if (abi == 0)
        return cm_err_sys(err, "Landlock is not available on this kernel");
    uint64_t handled = landlock_handled(abi);
    uint64_t may_read = LL_FS_READ_FILE | LL_FS_READ_DIR;
    uint64_t may_write = handled & ~LL_FS_EXECUTE;

    struct ll_ruleset_attr attr = {.handled_access_fs = handled};
    _cleanup_close_ int ruleset =
        (int)syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr), 0);
    if (ruleset < 0)
        return cm_err_sys(err, "creating a Landlock ruleset (ABI %d)", abi);
    if (landlock_add_paths(ruleset, ro_paths, may_read, handled, err) < 0 ||
        landlock_add_paths(ruleset, rx_paths, may_read | LL_FS_EXECUTE, handled, err) < 0 ||
        landlock_add_paths(ruleset, rw_paths, may_read | may_write, handled, err) < 0)
        return -1;
    if (syscall(__NR_landlock_restrict_self, ruleset, 0) < 0) {
        if (errno == EPERM && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
            return cm_err_sys(err, "applying the Landlock ruleset: no_new_privs is not set");
        return cm_err_sys(err, "applying the Landlock ruleset");
    }
    return 0;
}

/* Active LSMs, comma-separated, without "capability" (always there). From
 * securityfs when mounted, else from lsm_list_modules. */
static void active_lsms(char *buf, size_t size)
{
    char path[4096], line[1024];
    sysfs_path(path, sizeof(path), LSM_LIST);
    bool from_file = read_line(path, line, sizeof(line)) == 0;
#ifdef __NR_lsm_list_modules
    if (!from_file && !*cm_lsm_sysfs_prefix) {
        uint64_t ids[64];
        uint32_t sz = sizeof(ids);
        long n = syscall(__NR_lsm_list_modules, ids, &sz, 0);
        line[0] = '\0';
        for (long i = 0; i < n; i++) {
            const char *name = NULL;
            for (size_t j = 0; j < ARRAY_SIZE(lsm_ids); j++)
                if (lsm_ids[j].id == ids[i])
                    name = lsm_ids[j].name;
            size_t len = strlen(line);
            if (name)
                snprintf(line + len, sizeof(line) - len, "%s%s", len ? "," : "", name);
            else
                snprintf(line + len, sizeof(line) - len, "%slsm%llu", len ? "," : "",
                         (unsigned long long)ids[i]);
        }
        from_file = n > 0;
    }
#endif
    if (!from_file) {
        snprintf(buf, size, "unknown (%s unreadable)", LSM_LIST);
        return;
    }
    buf[0] = '\0';
    char *save = NULL;
    for (char *tok = strtok_r(line, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!strcmp(tok, "capability"))
            continue;
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s", len ? "," : "", tok);
    }
    if (!buf[0])
        snprintf(buf, size, "none");
}

char *cm_lsm_describe(void)
{
    char lsms[1024], why[4200];
    active_lsms(lsms, sizeof(lsms));
    const char *apparmor;
    switch (apparmor_state(why, sizeof(why))) {
    case LSM_ENABLED:
        apparmor = "enabled";
        break;
    case LSM_DISABLED:
        apparmor = "built in but disabled";
        break;
    default:
        apparmor = "not built in";
        break;
    }
    bool enforcing;
    const char *selinux = selinux_state(&enforcing, why, sizeof(why)) != LSM_ENABLED
                              ? "not enabled"
                              : enforcing ? "enforcing" : "permissive";
    int abi = cm_landlock_supported();
    char *out = NULL;
    int r;
    if (abi > 0)
        r = asprintf(&out, "%s; AppArmor: %s; SELinux: %s; Landlock: ABI %d", lsms, apparmor,
                     selinux, abi);
    else
        r = asprintf(&out, "%s; AppArmor: %s; SELinux: %s; Landlock: not available", lsms,
                     apparmor, selinux);
    return r < 0 ? NULL : out;
}
