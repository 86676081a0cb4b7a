/* selfexe.h: run casemate from a sealed memfd (CVE-2019-5736).
 *
 * A process in the container could once open /proc/<runtime pid>/exe and
 * overwrite the runtime binary on the host. Before entering any container,
 * casemate re-executes itself from an anonymous, sealed copy: writes to it
 * fail, and the host binary is never reachable from the container. */
#ifndef CASEMATE_SANDBOX_SELFEXE_H
#define CASEMATE_SANDBOX_SELFEXE_H

#include <stdbool.h>

#include "util/error.h"

/* True when the running image is a sealed memfd. */
bool cm_selfexe_is_sealed(void);
/* Re-exec from a sealed memfd unless already so. Returns only on error. */
int cm_selfexe_ensure_sealed(char **argv, struct cm_error *err);

#endif
