/* fuzz_run_flags.c: `casemate run` flags (cm_run_parse) on arbitrary argv:
 * never a crash, never a leak, on any flag or value. Input: NUL- or
 * newline-separated words; "run" is prepended. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "spec/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *buf = malloc(size + 1);
    char *argv[64];
    int argc = 0;
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    argv[argc++] = "run";
    char *p = buf;
    while (argc < 63 && p < buf + size) {
        size_t len = strcspn(p, "\n");
        p[len] = '\0';
        argv[argc++] = p;
        p += len + 1;
    }
    argv[argc] = NULL;
    struct cm_spec spec;
    bool detach = false;
    cm_run_parse(argc, argv, &spec, &detach, true);
    cm_spec_free(&spec);
    free(buf);
    return 0;
}
