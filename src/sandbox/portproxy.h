/* portproxy.h: published ports (-p [IP:][HOSTPORT:]PORT) for containers
 * whose network is `none`.
 *
 * A small proxy process listens on the host address (127.0.0.1 unless the
 * user names another: seed 000 says publish only what is needed, on a
 * chosen interface) and, having joined the container's network namespace,
 * connects each client to the container's loopback. No bridge, no NAT
 * rules, no shared network between containers (seed 002: ARP spoofing on a
 * shared bridge), nothing left on the host when it stops. */
#ifndef CASEMATE_SANDBOX_PORTPROXY_H
#define CASEMATE_SANDBOX_PORTPROXY_H

#include <sys/types.h>

#include "spec/spec.h"
#include "util/error.h"

/* Parse "-p" text into `out`. */
int cm_port_parse(const char *text, struct cm_port *out, struct cm_error *err);

/* Bind and listen on every published port, in the host's network
 * namespace. Returns 0 and fills fds[i] (one per port). */
int cm_ports_listen(const struct cm_port *ports, size_t n, int *fds, struct cm_error *err);

/* Start the proxy for container `pid`: returns the proxy's pid. The
 * listening fds are handed over (the caller closes its copies). */
pid_t cm_ports_start_proxy(pid_t container, const struct cm_port *ports, size_t n, const int *fds,
                           struct cm_error *err);

#endif
