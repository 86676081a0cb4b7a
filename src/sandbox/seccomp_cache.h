/* seccomp_cache.h: compiled seccomp filters kept under the state root.
 *
 * libseccomp takes a few milliseconds of CPU to turn Docker-sized profiles
 * into BPF, about half of a container's start. The result depends only on
 * the profile, the granted capabilities, this build of casemate, the
 * libseccomp version and the kernel, so it is kept in
 * <root>/.seccomp/<hash>.bpf (root only) and reused. It is a cache: any
 * file may be deleted at any time; a damaged one is compiled again. */
#ifndef CASEMATE_SANDBOX_SECCOMP_CACHE_H
#define CASEMATE_SANDBOX_SECCOMP_CACHE_H

#include <stdint.h>

#include "sandbox/seccomp.h"
#include "spec/seccomp_profile.h"

/* 1 and *out filled on a hit, 0 on a miss. */
int cm_seccomp_cache_get(const char *root, const struct cm_seccomp_profile *p, uint64_t caps,
                         struct cm_seccomp_bpf *out);
/* Best effort: a cache that cannot be written is skipped. */
void cm_seccomp_cache_put(const char *root, const struct cm_seccomp_profile *p, uint64_t caps,
                          const struct cm_seccomp_bpf *bpf);

#endif
