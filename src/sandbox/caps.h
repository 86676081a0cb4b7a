/* caps.h: Linux capabilities: names, parsing, and applying the five sets.
 *
 * The table of names is shared by the runtime (--cap-add), the OCI parser and
 * the auditor, so they cannot drift. */
#ifndef CASEMATE_SANDBOX_CAPS_H
#define CASEMATE_SANDBOX_CAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define CM_CAP_ALL_KNOWN ((uint64_t)-1)

/* "CAP_SYS_ADMIN", "sys_admin", "Sys_Admin" -> 21. -1 if unknown. */
int cm_cap_from_name(const char *name);
/* 21 -> "CAP_SYS_ADMIN"; NULL if unknown. */
const char *cm_cap_name(int cap);
/* The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap). */
int cm_cap_last_cap(void);
/* Every capability this kernel knows, as a mask. */
uint64_t cm_cap_all_mask(void);
/* Docker's default 14 capabilities (seed 001), for the auditor and `spec`. */
uint64_t cm_cap_docker_default_mask(void);

/* Apply --cap-add / --cap-drop lists (each entry a name or "ALL") to `mask`.
 * Docker semantics: start from `mask`, drop, then add. */
int cm_caps_apply_flags(uint64_t *mask, char *const *add, char *const *drop,
                        struct cm_error *err);

/* "CAP_CHOWN,CAP_KILL" (for messages and the auditor). Caller frees. */
char *cm_caps_to_string(uint64_t mask);

/* In the container child, after setresuid/setresgid: drop everything outside
 * `bounding` from the bounding set, set permitted/effective/inheritable, and
 * raise `ambient`. The calling process must still hold CAP_SETPCAP in its
 * user namespace when this is called (the caller uses PR_SET_KEEPCAPS). */
int cm_caps_apply(uint64_t bounding, uint64_t effective, uint64_t permitted,
                  uint64_t inheritable, uint64_t ambient, struct cm_error *err);

#endif
