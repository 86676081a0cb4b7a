/* fuzz_oci_config.c: any bytes as config.json must give a spec or an error,
 * never a crash or a leak; a spec that parses must also write back and
 * parse again (the writer takes whatever the parser accepted). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec/oci.h"
#include "spec/spec.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cm_spec spec;
    struct cm_error err = {0};
    memset(&spec, 0, sizeof(spec));
    if (cm_oci_spec_parse((const char *)data, size, "/bundle", &spec, &err) == 0) {
        char *text = cm_oci_spec_to_json(&spec, &err);
        if (text) {
            struct cm_spec again;
            memset(&again, 0, sizeof(again));
            /* Refusing is allowed (e.g. rootfs became absolute); crashing is not. */
            (void)cm_oci_spec_parse(text, strlen(text), NULL, &again, &err);
            cm_spec_free(&again);
            free(text);
        }
    } else if (!err.msg[0]) {
        __builtin_trap(); /* every refusal must say why */
    }
    cm_spec_free(&spec);
    return 0;
}
