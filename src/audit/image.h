/* image.h: the image audit's entry points beyond rules.h: auditing an
 * archive already in memory (for the fuzzer and for callers that hold the
 * bytes), and a switch that keeps the fuzzer from spawning decompressors. */
#ifndef CASEMATE_AUDIT_IMAGE_H
#define CASEMATE_AUDIT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "audit/finding.h"
#include "util/error.h"

/* When true, compressed layers are an error instead of a `gzip -dc` child. */
extern bool cm_image_no_decompress;

/* Audit a tar archive in memory: a plain root filesystem tar, a `docker save`
 * archive or an OCI layout tar. `name` is the subject of the findings. */
int cm_audit_image_archive(const unsigned char *buf, size_t len, const char *name,
                           struct cm_report *r, struct cm_error *err);

#endif
