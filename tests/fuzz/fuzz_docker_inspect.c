/* fuzz_docker_inspect.c: `docker inspect` documents (casemate audit config)
 * into specs, then the config rules on each. */
#include <stdint.h>
#include <stdlib.h>

#include "audit/finding.h"
#include "audit/rules.h"
#include "spec/docker_inspect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cm_docker_container *c = NULL;
    size_t n = 0;
    struct cm_error err = {0};
    if (cm_docker_inspect_parse((const char *)data, size, NULL, &c, &n, &err) == 0) {
        struct cm_report r = {0};
        for (size_t i = 0; i < n; i++)
            cm_audit_config_spec(&c[i].spec, "inspect.json", c[i].name, &r);
        cm_report_free(&r);
        cm_docker_containers_free(c, n);
    }
    return 0;
}
