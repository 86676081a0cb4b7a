/* policy.h: the host policy, /etc/casemate/policy.json.
 *
 *   {"refuse": ["CM-CFG-001", "host-network", ...],
 *    "floor": {"no_new_privileges": true, "pids_limit": 512, "memory": "512m",
 *              "seccomp": "default", "userns": true}}
 *
 * The floor raises every spec before it runs; then the container-config
 * rules (audit/config_rules.c, the same ones `casemate audit config` uses)
 * are run on it, and a finding whose rule id or topic is in "refuse" stops
 * the container. */
#ifndef CASEMATE_SPEC_POLICY_H
#define CASEMATE_SPEC_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "spec/spec.h"
#include "util/error.h"

#define CM_POLICY_DEFAULT_PATH "/etc/casemate/policy.json"

struct cm_policy {
    char *path;              /* where it was loaded from, for messages */
    char **refuse;           /* rule ids or topics, NULL-terminated */
    bool floor_no_new_privs;
    int64_t floor_pids_limit; /* 0 = no floor */
    int64_t floor_memory;     /* bytes, 0 = no floor */
    bool floor_seccomp;       /* at least the default seccomp profile */
    bool floor_userns;        /* always a user namespace */
};

/* Load the policy from `path`, or $CASEMATE_POLICY, or the default path.
 * A missing file is no policy: *out = NULL and 0 is returned. A policy that
 * names an unknown rule or key is an error (a typo must not open a hole). */
int cm_policy_load(const char *path, struct cm_policy **out, struct cm_error *err);
/* Parse policy text; `origin` names it in messages. */
int cm_policy_parse(const char *text, size_t len, const char *origin, struct cm_policy **out,
                    struct cm_error *err);
void cm_policy_free(struct cm_policy *p);

/* Raise `spec` to the floor, then refuse it (-1, err set) if any config rule
 * named in "refuse" hits. NULL policy: nothing to do. */
int cm_policy_enforce(const struct cm_policy *p, struct cm_spec *spec, struct cm_error *err);

/* "512m", "1g", "1048576" -> bytes; -1 if malformed. */
int64_t cm_policy_parse_size(const char *s);

#endif
