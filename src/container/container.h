/* container.h: running a container from a spec.
 *
 * container.c holds the whole setup sequence, parent and child, top to
 * bottom in one place. */
#ifndef CASEMATE_CONTAINER_CONTAINER_H
#define CASEMATE_CONTAINER_CONTAINER_H

#include "spec/spec.h"
#include "util/error.h"

/* Run `spec` in the foreground: create, start, forward signals and the
 * terminal, wait, and remove everything. Returns the container's exit
 * status (the command's, 128+N for signal N, 126/127 when the command
 * cannot be run), or -1 with `err` set when casemate itself failed before
 * the command started (the caller exits 125). */
int cm_container_run(struct cm_spec *spec, const char *state_root, struct cm_error *err);

#endif
