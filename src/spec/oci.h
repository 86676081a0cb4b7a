/* oci.h: OCI runtime-spec 1.2 config.json <-> struct cm_spec.
 *
 * What casemate cannot do is refused with a message naming the field, never
 * silently ignored. */
#ifndef CASEMATE_SPEC_OCI_H
#define CASEMATE_SPEC_OCI_H

#include <stdbool.h>
#include <stddef.h>

#include "spec/spec.h"
#include "util/error.h"

/* Parse config.json text into `spec` (which the caller has NOT initialised
 * with defaults: an OCI config is taken as written; casemate's floor is the
 * host policy's job). `bundle_dir` resolves a relative root.path; may be
 * NULL for audit use, then root.path is kept as written. */
int cm_oci_spec_parse(const char *json, size_t len, const char *bundle_dir,
                      struct cm_spec *spec, struct cm_error *err);
int cm_oci_spec_load(const char *bundle_dir, struct cm_spec *spec, struct cm_error *err);

/* casemate's hardened defaults as an OCI config.json (for `casemate spec`).
 * Caller frees the returned string. */
char *cm_oci_spec_default_json(struct cm_error *err);

/* The spec as config.json text (what `casemate spec` writes). */
char *cm_oci_spec_to_json(const struct cm_spec *spec, struct cm_error *err);
/* casemate's hardened defaults in OCI terms; `rootless` maps only the
 * caller's own ids and sets no cgroup limits. */
int cm_oci_spec_defaults(struct cm_spec *spec, bool rootless, struct cm_error *err);
/* The OCI features document (`casemate features`). */
char *cm_oci_features_json(bool apparmor, bool selinux, struct cm_error *err);

#endif
