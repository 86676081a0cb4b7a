/* seccomp.h: compile a seccomp profile with libseccomp and load it.
 *
 * The filter is compiled before clone (so a bad profile fails before any
 * namespace exists) and loaded last, just before execve. */
#ifndef CASEMATE_SANDBOX_SECCOMP_H
#define CASEMATE_SANDBOX_SECCOMP_H

#include <stdint.h>
#include <linux/filter.h>

#include "spec/seccomp_profile.h"
#include "util/error.h"

/* A compiled BPF program, ready for seccomp(SECCOMP_SET_MODE_FILTER). */
struct cm_seccomp_bpf {
    struct sock_filter *insns;
    unsigned short len;
    unsigned flags;           /* SECCOMP_FILTER_FLAG_* to load with */
    bool notify;              /* the profile has SCMP_ACT_NOTIFY rules */
};

/* Compile `profile` for the native architecture (and its compat arches),
 * resolving capability-dependent rules against `granted_caps` (bit n =
 * capability n, the container's effective/bounding set). Unknown syscall
 * names are skipped (as Docker does) unless they are in no libseccomp table,
 * in which case they are skipped with a debug message. */
int cm_seccomp_compile(const struct cm_seccomp_profile *profile, uint64_t granted_caps,
                       struct cm_seccomp_bpf *out, struct cm_error *err);

/* Load the program into the calling thread (needs no_new_privs or
 * CAP_SYS_ADMIN). Returns the notify fd (>= 0) when the profile has notify
 * rules, 0 otherwise, -1 on error. */
int cm_seccomp_load(const struct cm_seccomp_bpf *bpf, struct cm_error *err);

void cm_seccomp_bpf_free(struct cm_seccomp_bpf *bpf);

#endif
