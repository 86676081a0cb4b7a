/* seccomp_profile.h: seccomp profiles as data (Docker and OCI JSON formats,
 * casemate's built-in default), independent of libseccomp.
 *
 * The sandbox compiles a profile with libseccomp (sandbox/seccomp.h). Keeping
 * the profile as plain data lets the auditor and learn mode read it too. */
#ifndef CASEMATE_SPEC_SECCOMP_PROFILE_H
#define CASEMATE_SPEC_SECCOMP_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

enum cm_scmp_action {
    CM_SCMP_KILL_PROCESS,
    CM_SCMP_KILL_THREAD,
    CM_SCMP_TRAP,
    CM_SCMP_ERRNO,
    CM_SCMP_TRACE,
    CM_SCMP_ALLOW,
    CM_SCMP_LOG,
    CM_SCMP_NOTIFY,
};

enum cm_scmp_op {
    CM_SCMP_CMP_NE,
    CM_SCMP_CMP_LT,
    CM_SCMP_CMP_LE,
    CM_SCMP_CMP_EQ,
    CM_SCMP_CMP_GE,
    CM_SCMP_CMP_GT,
    CM_SCMP_CMP_MASKED_EQ,
};

struct cm_scmp_arg {
    unsigned index;
    uint64_t value;
    uint64_t value_two;
    enum cm_scmp_op op;
};

struct cm_scmp_rule {
    char **names; /* NULL-terminated syscall names */
    enum cm_scmp_action action;
    int errno_ret;          /* for ERRNO; -1 = profile default (EPERM) */
    struct cm_scmp_arg *args;
    size_t n_args;
    /* Docker "includes"/"excludes": the rule applies only when these
     * capabilities are (or are not) granted. Bit n = capability n. */
    uint64_t include_caps;
    uint64_t exclude_caps;
    bool has_include_caps;
    bool has_exclude_caps;
    char **include_arches; /* NULL = any */
    char **exclude_arches;
};

struct cm_seccomp_profile {
    enum cm_scmp_action default_action;
    int default_errno; /* defaultErrnoRet, EPERM when absent */
    char **architectures; /* NULL-terminated, SCMP_ARCH_* names or NULL */
    struct cm_scmp_rule *rules;
    size_t n_rules;
    char *listener_path;     /* OCI listenerPath for SCMP_ACT_NOTIFY */
    char *listener_metadata;
    unsigned flags;          /* SECCOMP_FILTER_FLAG_* (OCI "flags") */
};

/* Parse a profile in Docker's format or the OCI format from a JSON text.
 * `origin` names the source for messages ("chmod.json"). */
int cm_seccomp_profile_parse(const char *json, size_t len, const char *origin,
                             struct cm_seccomp_profile **out, struct cm_error *err);
int cm_seccomp_profile_load_file(const char *path, struct cm_seccomp_profile **out,
                                 struct cm_error *err);

/* casemate's default profile: Docker's allowlist with its argument and
 * capability rules, stricter where Docker is weak (see the .c file). */
int cm_seccomp_profile_default(struct cm_seccomp_profile **out, struct cm_error *err);

void cm_seccomp_profile_free(struct cm_seccomp_profile *p);

/* Name <-> action, for messages and for writing OCI JSON. */
const char *cm_scmp_action_name(enum cm_scmp_action a);

#endif
