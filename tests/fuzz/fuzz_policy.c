/* fuzz_policy.c: the host policy parser (policy.json), and enforcing what
 * parses on a default spec. */
#include <stdint.h>
#include <stdlib.h>

#include "spec/policy.h"
#include "spec/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cm_policy *p = NULL;
    struct cm_error err = {0};
    if (cm_policy_parse((const char *)data, size, "policy.json", &p, &err) == 0 && p) {
        struct cm_spec spec;
        if (cm_spec_init_defaults(&spec) == 0) {
            spec.rootfs = NULL;
            cm_policy_enforce(p, &spec, &err);
        }
        cm_spec_free(&spec);
    }
    cm_policy_free(p);
    return 0;
}
