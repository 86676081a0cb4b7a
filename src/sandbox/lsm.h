/* lsm.h: Linux security modules for the container process: AppArmor and
 * SELinux exec labels, Landlock filesystem confinement, and the host's LSM
 * state for `casemate audit host`. */
#ifndef CASEMATE_SANDBOX_LSM_H
#define CASEMATE_SANDBOX_LSM_H

#include "util/error.h"

/* Fail (with the reason) when `profile` cannot be applied on this host:
 * AppArmor not built in or disabled, or a malformed name. "unconfined"
 * needs no AppArmor and always passes. Call before creating anything. */
int cm_lsm_check_apparmor(const char *profile, struct cm_error *err);
/* Same for an SELinux process label ("user:role:type:level"). */
int cm_lsm_check_selinux(const char *label, struct cm_error *err);

/* Ask the kernel to switch to `profile` / `label` at the next execve().
 * Call in the container, after its /proc is mounted (the attr file is
 * checked to be on a real procfs, CVE-2019-16884), just before exec.
 * apply_apparmor("unconfined") on a host without AppArmor does nothing. */
int cm_lsm_apply_apparmor(const char *profile, struct cm_error *err);
int cm_lsm_apply_selinux(const char *label, struct cm_error *err);

/* The Landlock ABI version the kernel offers, 0 when it has none. */
int cm_landlock_supported(void);

/* Confine the calling thread (and its future children) to the given trees:
 * ro_paths readable, rx_paths readable and executable, rw_paths readable and
 * writable (not executable). Every filesystem right the kernel's ABI knows
 * is handled, so anything not listed is denied. Each list is NULL-terminated
 * and may be NULL. Requires no_new_privs (or CAP_SYS_ADMIN). */
int cm_landlock_restrict(const char *const *ro_paths, const char *const *rw_paths,
                         const char *const *rx_paths, struct cm_error *err);

/* "lockdown,landlock,bpf; AppArmor: not built in; SELinux: not enabled;
 * Landlock: ABI 7". Caller frees; NULL only when out of memory. */
char *cm_lsm_describe(void);

/* Prepended to the /sys paths read for detection; "" in casemate. Unit
 * tests point it at a fake tree to exercise the "enabled" branches. */
extern const char *cm_lsm_sysfs_prefix;

#endif
