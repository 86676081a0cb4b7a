/* rlimits.h: --ulimit and OCI rlimits, and oom_score_adj.
 *
 * Applied in the container child before exec. A hard limit above the current
 * one needs CAP_SYS_RESOURCE in the initial user namespace: when the host
 * lacks it (some VMs, nested containers), say so rather than fail obscurely. */
#ifndef CASEMATE_SANDBOX_RLIMITS_H
#define CASEMATE_SANDBOX_RLIMITS_H

#include "spec/spec.h"
#include "util/error.h"

/* "nofile" / "RLIMIT_NOFILE" -> RLIMIT_NOFILE; -1 if unknown. */
int cm_rlimit_from_name(const char *name);
const char *cm_rlimit_name(int resource);
/* Parse --ulimit NAME=SOFT[:HARD] ("unlimited" and -1 accepted). */
int cm_rlimit_parse(const char *text, struct cm_rlimit *out, struct cm_error *err);

int cm_rlimits_apply(const struct cm_rlimit *limits, size_t n, struct cm_error *err);
/* The same on another process (prlimit), e.g. from the parent before the
 * child enters its user namespace, where raising a hard limit is still
 * possible. Added by the rlimits module. */
int cm_rlimits_apply_pid(pid_t pid, const struct cm_rlimit *limits, size_t n, struct cm_error *err);
/* Write /proc/<pid>/oom_score_adj ("self" when pid is 0). */
int cm_oom_score_adj_apply(pid_t pid, int value, struct cm_error *err);

#endif
