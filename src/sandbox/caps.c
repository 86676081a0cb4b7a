/* caps.c: Linux capabilities: the name table, --cap-add/--cap-drop, and
 * applying the bounding, permitted, effective, inheritable and ambient sets
 * with prctl(2) and capset(2).
 *
 * capset is called directly rather than through libcap: it is one syscall
 * with a fixed v3 layout, and doing it by hand keeps the order of the five
 * steps explicit (the bounding set must shrink while CAP_SETPCAP is still
 * effective, ambient can only be raised once permitted and inheritable hold
 * the cap). */
#include "sandbox/caps.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

/* Index = capability number (include/uapi/linux/capability.h). */
static const char *const cap_names[] = {
    [0] = "CAP_CHOWN",
    [1] = "CAP_DAC_OVERRIDE",
    [2] = "CAP_DAC_READ_SEARCH",
    [3] = "CAP_FOWNER",
    [4] = "CAP_FSETID",
    [5] = "CAP_KILL",
    [6] = "CAP_SETGID",
    [7] = "CAP_SETUID",
    [8] = "CAP_SETPCAP",
    [9] = "CAP_LINUX_IMMUTABLE",
    [10] = "CAP_NET_BIND_SERVICE",
    [11] = "CAP_NET_BROADCAST",
    [12] = "CAP_NET_ADMIN",
    [13] = "CAP_NET_RAW",
    [14] = "CAP_IPC_LOCK",
    [15] = "CAP_IPC_OWNER",
    [16] = "CAP_SYS_MODULE",
    [17] = "CAP_SYS_RAWIO",
    [18] = "CAP_SYS_CHROOT",
    [19] = "CAP_SYS_PTRACE",
    [20] = "CAP_SYS_PACCT",
    [21] = "CAP_SYS_ADMIN",
    [22] = "CAP_SYS_BOOT",
    [23] = "CAP_SYS_NICE",
    [24] = "CAP_SYS_RESOURCE",
    [25] = "CAP_SYS_TIME",
    [26] = "CAP_SYS_TTY_CONFIG",
    [27] = "CAP_MKNOD",
    [28] = "CAP_LEASE",
    [29] = "CAP_AUDIT_WRITE",
    [30] = "CAP_AUDIT_CONTROL",
    [31] = "CAP_SETFCAP",
    [32] = "CAP_MAC_OVERRIDE",
    [33] = "CAP_MAC_ADMIN",
    [34] = "CAP_SYSLOG",
    [35] = "CAP_WAKE_ALARM",
    [36] = "CAP_BLOCK_SUSPEND",
    [37] = "CAP_AUDIT_READ",
    [38] = "CAP_PERFMON",
    [39] = "CAP_BPF",
    [40] = "CAP_CHECKPOINT_RESTORE",
};

/* Docker's default set (moby oci/caps/defaults.go), as seed 001 lists it. */
static const int docker_default_caps[] = {
    0 /* CHOWN */,       1 /* DAC_OVERRIDE */, 4 /* FSETID */,  3 /* FOWNER */,
    27 /* MKNOD */,      13 /* NET_RAW */,     6 /* SETGID */,  7 /* SETUID */,
    31 /* SETFCAP */,    8 /* SETPCAP */,      10 /* NET_BIND_SERVICE */,
    18 /* SYS_CHROOT */, 5 /* KILL */,         29 /* AUDIT_WRITE */,
};

#define CAP_BIT(c) ((uint64_t)1 << (c))

int cm_cap_from_name(const char *name)
{
    if (!name)
        return -1;
    const char *bare = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
    if (!*bare)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
        if (strcasecmp(bare, cap_names[i] + 4) == 0)
            return (int)i;
    return -1;
}

const char *cm_cap_name(int cap)
{
    if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_names))
        return NULL;
    return cap_names[cap];
}

int cm_cap_last_cap(void)
{
    /* The kernel may know caps newer than our table; the bounding-set drop
     * must cover those too, so the kernel's figure wins when readable. */
    static int cached = -1;
    if (cached >= 0)
        return cached;
    int last = -1;
    _cleanup_close_ int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[16] = { 0 };
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n > 0) {
            char *end = NULL;
            long v = strtol(buf, &end, 10);
            if (end != buf && v >= 0 && v < 64)
                last = (int)v;
        }
    }
    /* No /proc (early in the container child): ask the bounding set, which
     * answers EINVAL past the last cap the kernel knows. */
    if (last < 0) {
        last = 0;
        while (last < 63 && prctl(PR_CAPBSET_READ, (unsigned long)last + 1, 0UL, 0UL, 0UL) >= 0)
            last++;
    }
    cached = last;
    return last;
}

uint64_t cm_cap_all_mask(void)
{
    int last = cm_cap_last_cap();
    return last >= 63 ? UINT64_MAX : CAP_BIT(last + 1) - 1;
}

uint64_t cm_cap_docker_default_mask(void)
{
    uint64_t mask = 0;
    for (size_t i = 0; i < ARRAY_SIZE(docker_default_caps); i++)
        mask |= CAP_BIT(docker_default_caps[i]);
    return mask;
}

static bool list_has_all(char *const *list)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcasecmp(list[i], "ALL") == 0)
            return true;
    return false;
}

/* Mask of the named caps, "ALL" excluded (callers handle it). */
static int list_to_mask(char *const *list, const char *flag, uint64_t *out,
                        struct cm_error *err)
{
    uint64_t mask = 0;
    for (size_t i = 0; list && list[i]; i++) {
        if (strcasecmp(list[i], "ALL") == 0)
            continue;
        int cap = cm_cap_from_name(list[i]);
        if (cap < 0)
            return cm_err_set(err, 0, "%s: unknown capability \"%s\"", flag, list[i]);
        mask |= CAP_BIT(cap);
    }
    *out = mask;
    return 0;
}

int cm_caps_apply_flags(uint64_t *mask, char *const *add, char *const *drop,
                        struct cm_error *err)
{
    uint64_t add_mask = 0, drop_mask = 0;
    if (list_to_mask(add, "--cap-add", &add_mask, err) < 0 ||
        list_to_mask(drop, "--cap-drop", &drop_mask, err) < 0)
        return -1;

    /* moby's TweakCapabilities: "add ALL" wins and only the explicit drops
     * are removed from it; "drop ALL" keeps only the explicit adds; otherwise
     * drop from the base set, then add. */
    if (list_has_all(add))
        *mask = cm_cap_all_mask() & ~drop_mask;
    else if (list_has_all(drop))
        *mask = add_mask;
    else
        *mask = (*mask & ~drop_mask) | add_mask;
    return 0;
}

char *cm_caps_to_string(uint64_t mask)
{
    size_t len = 1;
    for (int c = 0; c < 64; c++)
        if (mask & CAP_BIT(c))
            len += (cm_cap_name(c) ? strlen(cm_cap_name(c)) : sizeof("CAP_63") - 1) + 1;
    char *out = malloc(len);
    if (!out)
        return NULL;
    char *p = out;
    *p = '\0';
    for (int c = 0; c < 64; c++) {
        if (!(mask & CAP_BIT(c)))
            continue;
        const char *name = cm_cap_name(c);
        char unknown[16];
        if (!name) {
            snprintf(unknown, sizeof(unknown), "CAP_%d", c);
            name = unknown;
        }
        p += sprintf(p, "%s%s", p == out ? "" : ",", name);
    }
    return out;
}

int cm_caps_apply(uint64_t bounding, uint64_t effective, uint64_t permitted,
                  uint64_t inheritable, uint64_t ambient, struct cm_error *err)
{
    int last = cm_cap_last_cap();
    struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[2] = { 0 };

    /* 0. After setresuid with PR_SET_KEEPCAPS the kernel keeps the permitted
     * set but empties the effective one; make the permitted caps effective
     * again so step 1 holds CAP_SETPCAP (always allowed: eff <= prm). */
    if (syscall(SYS_capget, &hdr, data) < 0)
        return cm_err_sys(err, "reading the current capabilities");
    data[0].effective = data[0].permitted;
    data[1].effective = data[1].permitted;
    if (syscall(SYS_capset, &hdr, data) < 0)
        return cm_err_sys(err, "raising the permitted capabilities to effective");

    /* 1. Bounding set first: PR_CAPBSET_DROP needs CAP_SETPCAP in the
     * effective set, which step 2 may remove. */
    for (int c = 0; c <= last; c++) {
        if (bounding & CAP_BIT(c))
            continue;
        if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0UL, 0UL, 0UL) < 0) {
            /* EINVAL: the kernel does not know this cap; nothing to drop. */
            if (errno == EINVAL)
                continue;
            return cm_err_sys(err, "dropping %s from the bounding set",
                              cm_cap_name(c) ? cm_cap_name(c) : "a capability");
        }
    }

    /* 2. permitted, effective, inheritable in one capset (v3: two words). */
    for (int i = 0; i < 2; i++) {
        data[i].effective = (uint32_t)(effective >> (32 * i));
        data[i].permitted = (uint32_t)(permitted >> (32 * i));
        data[i].inheritable = (uint32_t)(inheritable >> (32 * i));
    }
    if (syscall(SYS_capset, &hdr, data) < 0) {
        _cleanup_free_ char *names = cm_caps_to_string(permitted);
        return cm_err_sys(err, "setting capabilities (permitted: %s)",
                          names && *names ? names : "none");
    }

    /* 3. Ambient last: raising needs the cap permitted and inheritable. The
     * clear also removes anything inherited from casemate's own parent. */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0UL, 0UL, 0UL) < 0) {
        /* Kernels before 4.3 have no ambient set: fine if none is wanted. */
        if (!(errno == EINVAL && ambient == 0))
            return cm_err_sys(err, "clearing the ambient capability set");
    }
    for (int c = 0; c <= last && c < 64; c++) {
        if (!(ambient & CAP_BIT(c)))
            continue;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)c, 0UL, 0UL) < 0)
            return cm_err_sys(err, "raising %s in the ambient set",
                              cm_cap_name(c) ? cm_cap_name(c) : "a capability");
    }
    return 0;
}
