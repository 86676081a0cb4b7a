/* fuzz_image_tar.c: the tar reader and the archive audit (docker save
 * manifest, OCI index and manifest, layer merging with whiteouts) on
 * arbitrary bytes. Compressed layers are refused rather than handed to a
 * gzip child, to keep the harness in one process. */
#include <stddef.h>
#include <stdint.h>

#include "audit/image.h"
#include "audit/tar.h"

static int count(void *ctx, const struct cm_tar_entry *e)
{
    (*(size_t *)ctx) += (size_t)e->size;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cm_image_no_decompress = true;
    struct cm_error err = {0};
    size_t total = 0;
    (void)cm_tar_iterate(data, size, count, &total, &err);

    struct cm_report r = {0};
    (void)cm_audit_image_archive(data, size, "fuzz.tar", &r, &err);
    cm_report_free(&r);
    return 0;
}
