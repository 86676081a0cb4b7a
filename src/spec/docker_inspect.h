/* docker_inspect.h: a `docker inspect` document (or the Engine API's
 * GET /containers/<id>/json, the same object) -> struct cm_spec, for the
 * auditor's config rules. Docker's own defaults are applied as Docker applies
 * them (14 capabilities, no user namespace, writable root, no limits), so
 * the spec says what the container really runs with. */
#ifndef CASEMATE_SPEC_DOCKER_INSPECT_H
#define CASEMATE_SPEC_DOCKER_INSPECT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "spec/spec.h"
#include "util/error.h"

/* What the daemon adds to every container without it showing in inspect. */
struct cm_docker_daemon_defaults {
    bool userns_remap;      /* dockerd --userns-remap */
    bool no_new_privileges; /* dockerd --no-new-privileges */
};

struct cm_docker_container {
    struct cm_spec spec;
    char *id;
    char *name;     /* without Docker's leading '/' */
    char *image;    /* Config.Image as the user named it, e.g. "nginx:1.27" */
    char *image_id; /* Image: "sha256:..." */
};

/* One container object. `daemon` may be NULL (Docker's defaults). */
int cm_docker_container_from_json(json_t *obj, const struct cm_docker_daemon_defaults *daemon,
                                  struct cm_docker_container *c, struct cm_error *err);

/* A whole document: one object or an array of them. */
int cm_docker_inspect_parse(const char *text, size_t len,
                            const struct cm_docker_daemon_defaults *daemon,
                            struct cm_docker_container **out, size_t *n, struct cm_error *err);

/* A document looks like docker inspect output (has HostConfig or Config
 * next to an Id/Name), as opposed to an OCI config.json. */
bool cm_docker_inspect_detect(json_t *root);

void cm_docker_container_free(struct cm_docker_container *c);
void cm_docker_containers_free(struct cm_docker_container *c, size_t n);

#endif
