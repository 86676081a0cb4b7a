/* fuzz_dockerfile.c: the Dockerfile parser, the shell splitter and every
 * Dockerfile rule on arbitrary input. Must never crash, leak or hang. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/dockerfile_parse.h"
#include "audit/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cm_report r = {0};
    struct cm_error err = {0};
    (void)cm_audit_dockerfile((const char *)data, size, "Dockerfile", &r, &err);
    cm_report_free(&r);

    /* the shell splitter on its own, as a C string */
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    struct cm_sh_script sh = {0};
    (void)cm_sh_split(s, 1, &sh);
    cm_sh_script_free(&sh);
    free(s);
    return 0;
}
