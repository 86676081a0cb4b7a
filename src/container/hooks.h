/* hooks.h: OCI hooks (prestart, createRuntime, createContainer,
 * startContainer, poststart, poststop): each runs with the container's OCI
 * state as JSON on its stdin, bounded by its timeout. */
#ifndef CASEMATE_CONTAINER_HOOKS_H
#define CASEMATE_CONTAINER_HOOKS_H

#include <sys/types.h>

#include "spec/spec.h"
#include "util/error.h"

/* OCI state JSON for hooks ("creating", "created", "running", "stopped").
 * Caller frees. */
char *cm_hook_state_json(const struct cm_spec *spec, const char *status, pid_t pid);

/* Run every hook of `kind` in order; the first failure stops and fails. */
int cm_hooks_run(const struct cm_spec *spec, enum cm_hook_kind kind, const char *state_json,
                 struct cm_error *err);

#endif
