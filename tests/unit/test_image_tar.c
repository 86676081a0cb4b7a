/* test_image_tar.c: the in-memory tar reader used by the image audit, and
 * the archive audit on archives built here byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "audit/image.h"
#include "audit/rules.h"
#include "audit/tar.h"

/* Append one ustar entry to buf at *off. */
static void put(unsigned char *buf, size_t *off, const char *name, char type, unsigned mode,
                const char *data, const char *link)
{
    unsigned char *h = buf + *off;
    size_t len = data ? strlen(data) : 0;
    memset(h, 0, 512);
    snprintf((char *)h, 100, "%s", name);
    snprintf((char *)h + 100, 8, "%07o", mode);
    snprintf((char *)h + 108, 8, "%07o", 0u);
    snprintf((char *)h + 116, 8, "%07o", 0u);
    snprintf((char *)h + 124, 12, "%011zo", len);
    snprintf((char *)h + 136, 12, "%011o", 0u);
    h[156] = (unsigned char)type;
    if (link)
        snprintf((char *)h + 157, 100, "%s", link);
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    *off += 512;
    if (len) {
        memcpy(buf + *off, data, len);
        *off += (len + 511) / 512 * 512;
    }
}

struct seen {
    char paths[16][256];
    mode_t modes[16];
    int n;
};

static int collect(void *ctx, const struct cm_tar_entry *e)
{
    struct seen *s = ctx;
    if (s->n < 16) {
        snprintf(s->paths[s->n], 256, "%s", e->path);
        s->modes[s->n] = e->mode;
        s->n++;
    }
    return 0;
}

static void test_normalise(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(cm_tar_normalise("./a//b/./c/", 11, out, sizeof(out)), 0);
    assert_string_equal(out, "/a/b/c");
    assert_int_equal(cm_tar_normalise("/etc/passwd", 11, out, sizeof(out)), 0);
    assert_string_equal(out, "/etc/passwd");
    assert_int_equal(cm_tar_normalise("./", 2, out, sizeof(out)), 0);
    assert_string_equal(out, "/");
    assert_int_equal(cm_tar_normalise("a/../../etc", 11, out, sizeof(out)), -1);
    assert_int_equal(cm_tar_normalise("..", 2, out, sizeof(out)), -1);
}

static void test_iterate(void **state)
{
    (void)state;
    unsigned char *buf = calloc(1, 16384);
    size_t off = 0;
    put(buf, &off, "./etc/", '5', 0755, NULL, NULL);
    put(buf, &off, "./etc/passwd", '0', 0644, "root:x:0:0::/:/bin/sh\n", NULL);
    put(buf, &off, "../escape", '0', 0644, "x", NULL);
    put(buf, &off, "bin/su", '0', 04755, "elf", NULL);
    put(buf, &off, "bin/sh", '2', 0777, NULL, "/bin/busybox");
    struct seen s = {0};
    struct cm_error err = {0};
    assert_int_equal(cm_tar_iterate(buf, off + 1024, collect, &s, &err), 0);
    assert_int_equal(s.n, 4); /* "../escape" is skipped */
    assert_string_equal(s.paths[0], "/etc");
    assert_true(S_ISDIR(s.modes[0]));
    assert_string_equal(s.paths[2], "/bin/su");
    assert_int_equal(s.modes[2] & 07777, 04755);
    assert_true(S_ISLNK(s.modes[3]));

    /* a corrupted checksum is an error, not a guess */
    unsigned char saved = buf[0];
    buf[0] = 'X';
    assert_int_equal(cm_tar_iterate(buf, off, collect, &s, &err), -1);
    assert_non_null(strstr(err.msg, "checksum"));
    buf[0] = saved;
    /* a size running past the end */
    assert_int_equal(cm_tar_iterate(buf, 512 * 2 + 10, collect, &s, &err), -1);
    assert_non_null(strstr(err.msg, "past the end"));
    free(buf);
}

static void test_archive_audit(void **state)
{
    (void)state;
    unsigned char *buf = calloc(1, 16384);
    size_t off = 0;
    put(buf, &off, "etc/shadow", '0', 0640, "root::19000::::::\n", NULL);
    put(buf, &off, "usr/bin/helper", '0', 04755, "elf", NULL);
    put(buf, &off, "usr/bin/hl", '1', 04755, NULL, "usr/bin/helper");
    put(buf, &off, "etc/passwd", '2', 0777, NULL, "/etc/shadow");
    struct cm_report r = {0};
    struct cm_error err = {0};
    cm_image_no_decompress = true;
    assert_int_equal(cm_audit_image_archive(buf, off + 1024, "t.tar", &r, &err), 0);
    int setuid = 0, empty = 0, link = 0;
    for (size_t i = 0; i < r.n; i++) {
        const char *id = r.findings[i].rule->id;
        setuid += !strcmp(id, "CM-IMG-002");
        empty += !strcmp(id, "CM-IMG-007");
        link += !strcmp(id, "CM-IMG-018");
        assert_string_equal(r.findings[i].subject, "t.tar");
    }
    assert_int_equal(setuid, 2);
    assert_int_equal(empty, 1);
    assert_int_equal(link, 1);
    cm_report_free(&r);

    /* not an archive */
    memset(buf, 'A', 2048);
    assert_int_equal(cm_audit_image_archive(buf, 2048, "junk", &r, &err), -1);
    assert_non_null(strstr(err.msg, "junk"));
    cm_report_free(&r);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_iterate),
        cmocka_unit_test(test_archive_audit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
