/* fuzz_state.c: state.json as casemate reads it back (a file under the
 * state root that a crash may have left half-written). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "container/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct cm_state st = {0};
    struct cm_error err = {0};
    if (cm_state_from_json(text, &st, &err) == 0) {
        free(cm_state_to_json(&st));
        free(cm_state_to_oci_json(&st));
    }
    cm_state_free(&st);
    free(text);
    return 0;
}
