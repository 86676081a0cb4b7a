/* rules.h: the rule sets of every audit, and the entry points each audit
 * module provides. The config rules are also the host policy's rules. */
#ifndef CASEMATE_AUDIT_RULES_H
#define CASEMATE_AUDIT_RULES_H

#include <stddef.h>

#include "audit/finding.h"
#include "spec/spec.h"

/* Rule tables, one per audit kind, each terminated by an entry with id NULL. */
extern const struct cm_rule cm_dockerfile_rules[]; /* audit/dockerfile_rules.c */
extern const struct cm_rule cm_image_rules[];      /* audit/image.c */
extern const struct cm_rule cm_config_rules[];     /* audit/config_rules.c */
extern const struct cm_rule cm_host_rules[];       /* audit/host.c */

/* Lint Dockerfile text; `path` names it in findings. Returns -1 (err set)
 * only when the file cannot be parsed at all. */
int cm_audit_dockerfile(const char *text, size_t len, const char *path, struct cm_report *r,
                        struct cm_error *err);
/* Audit an image: a root filesystem directory, a tar archive (docker save or
 * plain rootfs tar) or an OCI layout directory. */
int cm_audit_image(const char *target, struct cm_report *r, struct cm_error *err);
/* Container config rules on a spec; `path`/`subject` name it in findings. */
int cm_audit_config_spec(const struct cm_spec *spec, const char *path, const char *subject,
                         struct cm_report *r);
/* The host, its Docker daemon and running containers. */
int cm_audit_host(const char *docker_socket, struct cm_report *r, struct cm_error *err);

#endif
