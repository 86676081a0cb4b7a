/* tar.c: the tar reader (see tar.h). Every length is checked against the
 * buffer: archives come from untrusted images (fuzzed by fuzz_image_tar). */
#include "audit/tar.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/cleanup.h"

#define BLOCK 512

static uint64_t num(const unsigned char *p, size_t n, bool *ok)
{
    uint64_t v = 0;
    if (n && (p[0] & 0x80)) { /* GNU base-256, big endian */
        if (p[0] & 0x40) {
            *ok = false; /* negative */
            return 0;
        }
        v = p[0] & 0x3f;
        for (size_t i = 1; i < n; i++) {
            if (v >> 55) {
                *ok = false;
                return 0;
            }
            v = (v << 8) | p[i];
        }
        return v;
    }
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\0'))
        i++;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
        if (v >> 60) {
            *ok = false;
            return 0;
        }
        v = v * 8 + (uint64_t)(p[i] - '0');
    }
    return v;
}

int cm_tar_probe(const unsigned char *buf, size_t len)
{
    if (len < BLOCK)
        return 0;
    bool ok = true;
    uint64_t want = num(buf + 148, 8, &ok);
    uint64_t sum = 0;
    for (size_t i = 0; i < BLOCK; i++)
        sum += (i >= 148 && i < 156) ? ' ' : buf[i];
    return ok && sum == want && sum != 8 * ' ';
}

int cm_tar_normalise(const char *in, size_t inlen, char *out, size_t outsz)
{
    size_t o = 0;
    size_t i = 0;
    if (outsz < 2)
        return -1;
    while (i < inlen && in[i]) {
        while (i < inlen && in[i] == '/')
            i++;
        size_t s = i;
        while (i < inlen && in[i] && in[i] != '/')
            i++;
        size_t l = i - s;
        if (l == 0 || (l == 1 && in[s] == '.'))
            continue;
        if (l == 2 && in[s] == '.' && in[s + 1] == '.')
            return -1;
        if (o + 1 + l + 1 > outsz)
            return -1;
        out[o++] = '/';
        memcpy(out + o, in + s, l);
        o += l;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return 0;
}

/* One pax record set: pick path, linkpath, size, uid, gid. */
static void pax_parse(const unsigned char *d, size_t n, char **path, char **link, uint64_t *size,
                      bool *has_size, uint64_t *uid, uint64_t *gid, bool *has_uid, bool *has_gid)
{
    size_t i = 0;
    while (i < n) {
        size_t rl = 0, j = i;
        while (j < n && d[j] >= '0' && d[j] <= '9' && rl < (1u << 30))
            rl = rl * 10 + (size_t)(d[j++] - '0');
        if (j >= n || d[j] != ' ' || rl == 0 || rl > n - i || i + rl < j + 1)
            return;
        const char *kv = (const char *)d + j + 1;
        size_t kvl = i + rl - (j + 1);
        if (kvl == 0 || kv[kvl - 1] != '\n')
            return;
        kvl--;
        const char *eq = memchr(kv, '=', kvl);
        if (eq) {
            size_t kl = (size_t)(eq - kv);
            const char *v = eq + 1;
            size_t vl = kvl - kl - 1;
            char **slot = NULL;
            if (kl == 4 && !memcmp(kv, "path", 4))
                slot = path;
            else if (kl == 8 && !memcmp(kv, "linkpath", 8))
                slot = link;
            if (slot) {
                char *s = strndup(v, vl);
                if (s) {
                    free(*slot);
                    *slot = s;
                }
            } else if ((kl == 4 && !memcmp(kv, "size", 4)) || (kl == 3 && !memcmp(kv, "uid", 3)) ||
                       (kl == 3 && !memcmp(kv, "gid", 3))) {
                uint64_t x = 0;
                for (size_t k = 0; k < vl && v[k] >= '0' && v[k] <= '9' && !(x >> 59); k++)
                    x = x * 10 + (uint64_t)(v[k] - '0');
                if (kv[0] == 's') {
                    *size = x;
                    *has_size = true;
                } else if (kv[0] == 'u') {
                    *uid = x;
                    *has_uid = true;
                } else {
                    *gid = x;
                    *has_gid = true;
                }
            }
        }
        i += rl;
    }
}

static mode_t type_bits(char t)
{
    switch (t) {
    case '1':
    case '0':
    case '\0':
    case '7':
    case 'S':
        return S_IFREG;
    case '2':
        return S_IFLNK;
    case '3':
        return S_IFCHR;
    case '4':
        return S_IFBLK;
    case '5':
        return S_IFDIR;
    case '6':
        return S_IFIFO;
    default:
        return S_IFREG;
    }
}

int cm_tar_iterate(const unsigned char *buf, size_t len, cm_tar_cb cb, void *ctx,
                   struct cm_error *err)
{
    size_t off = 0;
    _cleanup_free_ char *long_name = NULL;
    _cleanup_free_ char *long_link = NULL;
    uint64_t pax_size = 0, pax_uid = 0, pax_gid = 0;
    bool has_pax_size = false, has_pax_uid = false, has_pax_gid = false;
    char norm[4096];

    while (off + BLOCK <= len) {
        const unsigned char *h = buf + off;
        bool zero = true;
        for (size_t i = 0; i < BLOCK && zero; i++)
            zero = h[i] == 0;
        if (zero)
            return 0; /* end of archive */
        if (!cm_tar_probe(h, BLOCK))
            return cm_err_set(err, 0, "bad tar header checksum at offset %zu", off);
        bool ok = true;
        uint64_t size = num(h + 124, 12, &ok);
        char type = (char)h[156];
        if (has_pax_size)
            size = pax_size;
        if (!ok || size > len - off - BLOCK)
            return cm_err_set(err, 0, "tar entry at offset %zu runs past the end of the archive",
                              off);
        const unsigned char *data = h + BLOCK;
        uint64_t padded = (size + BLOCK - 1) / BLOCK * BLOCK;
        size_t next = off + BLOCK + (size_t)(padded > len - off - BLOCK ? len - off - BLOCK : padded);

        if (type == 'L' || type == 'K') {
            char *s = strndup((const char *)data, (size_t)size);
            if (!s)
                return cm_err_set(err, ENOMEM, "reading tar");
            if (type == 'L') {
                free(long_name);
                long_name = s;
            } else {
                free(long_link);
                long_link = s;
            }
            off = next;
            continue;
        }
        if (type == 'x') {
            pax_parse(data, (size_t)size, &long_name, &long_link, &pax_size, &has_pax_size, &pax_uid,
                      &pax_gid, &has_pax_uid, &has_pax_gid);
            off = next;
            continue;
        }
        if (type == 'g') {
            off = next;
            continue;
        }
        /* the entry itself */
        char name[256 + 2];
        const char *nm;
        size_t nl;
        if (long_name) {
            nm = long_name;
            nl = strlen(long_name);
        } else {
            size_t pl = strnlen((const char *)h + 345, 155);
            size_t bl = strnlen((const char *)h, 100);
            bool ustar = !memcmp(h + 257, "ustar", 5);
            if (ustar && pl && h[345]) {
                memcpy(name, h + 345, pl);
                name[pl] = '/';
                memcpy(name + pl + 1, h, bl);
                nl = pl + 1 + bl;
            } else {
                memcpy(name, h, bl);
                nl = bl;
            }
            name[nl] = '\0';
            nm = name;
        }
        char lname[101];
        const char *ln = long_link;
        if (!ln) {
            size_t ll = strnlen((const char *)h + 157, 100);
            memcpy(lname, h + 157, ll);
            lname[ll] = '\0';
            ln = lname;
        }
        int r = 0;
        if (cm_tar_normalise(nm, nl, norm, sizeof(norm)) == 0) {
            struct cm_tar_entry e = {
                .path = norm,
                .linkname = ln,
                .type = type ? type : '0',
                .mode = (mode_t)(num(h + 100, 8, &ok) & 07777) | type_bits(type),
                .uid = (uid_t)(has_pax_uid ? pax_uid : num(h + 108, 8, &ok)),
                .gid = (gid_t)(has_pax_gid ? pax_gid : num(h + 116, 8, &ok)),
                .size = (type == '5' || type == '2' || type == '1') ? 0 : size,
                .data = data,
            };
            r = cb(ctx, &e);
        }
        free(long_name);
        long_name = NULL;
        free(long_link);
        long_link = NULL;
        has_pax_size = has_pax_uid = has_pax_gid = false;
        if (r < 0)
            return r;
        off = next;
    }
    return 0;
}
