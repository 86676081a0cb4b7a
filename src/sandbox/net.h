/* net.h: the container's network namespace. The default is `none`: a new
 * namespace with only loopback, brought up here. */
#ifndef CASEMATE_SANDBOX_NET_H
#define CASEMATE_SANDBOX_NET_H

#include "util/error.h"

/* Bring up "lo" in the current network namespace. */
int cm_net_loopback_up(struct cm_error *err);

#endif
