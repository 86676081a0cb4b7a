/* devices.h: the device cgroup.
 *
 * A container may open (and, with CAP_MKNOD, create) only the device nodes
 * it is given: everything else is denied by its cgroup, so a container that
 * makes /dev/sda for itself still cannot read the host's disk. On v1 the
 * devices controller's allow/deny lists; on v2 a BPF_CGROUP_DEVICE program
 * (as runc and crun do). Rules: deny all, then OCI linux.resources.devices
 * in order, then the nodes of linux.devices, then casemate's defaults
 * (null, zero, full, random, urandom, tty, console, ptmx, pts); the last
 * rule that matches decides. */
#ifndef CASEMATE_SANDBOX_DEVICES_H
#define CASEMATE_SANDBOX_DEVICES_H

#include <stdbool.h>
#include <stdint.h>

#include "sandbox/cgroup.h"
#include "spec/spec.h"
#include "util/error.h"

struct cm_dev_rule {
    char type;         /* 'a' all, 'c', 'b' */
    int64_t major;     /* -1 any */
    int64_t minor;     /* -1 any */
    char access[4];    /* subset of "rwm" */
    bool allow;
};

/* The rules for `spec`, in order. Caller frees *out. */
int cm_devices_rules(const struct cm_spec *spec, struct cm_dev_rule **out, size_t *n,
                     struct cm_error *err);

/* Restrict the container's cgroup to those rules. */
int cm_devices_apply(struct cm_cgroup *cg, const struct cm_spec *spec, struct cm_error *err);

/* Tests: use the v2 BPF program even where a v1 devices controller exists
 * (CASEMATE_TEST_DEVICES_BPF=1), to exercise it on a hybrid host. */
extern bool cm_devices_force_bpf;

#endif
