/* seccomp_cache.c: see seccomp_cache.h. */
#include "sandbox/seccomp_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "util/cleanup.h"

#define MAGIC "casemate-bpf-1\n"

struct hasher {
    uint64_t a, b; /* two FNV-1a lanes with different seeds: 128 bits */
};

static void h_bytes(struct hasher *h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h->a = (h->a ^ p[i]) * 0x100000001b3ULL;
        h->b = (h->b ^ p[i]) * 0x100000001b3ULL;
        h->b ^= h->b >> 29;
    }
}
static void h_u64(struct hasher *h, uint64_t v) { h_bytes(h, &v, sizeof(v)); }
static void h_str(struct hasher *h, const char *s)
{
    h_u64(h, s ? strlen(s) : UINT64_MAX);
    if (s)
        h_bytes(h, s, strlen(s));
}
static void h_strv(struct hasher *h, char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    h_u64(h, v ? n : UINT64_MAX);
    for (size_t i = 0; i < n; i++)
        h_str(h, v[i]);
}

static void cache_path(const char *root, const struct cm_seccomp_profile *p, uint64_t caps,
                       char *out, size_t len)
{
    struct hasher h = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL};
    /* What else the program depends on: this build, libseccomp, kernel. */
    h_str(&h, __DATE__ " " __TIME__ " " __FILE__);
    const struct scmp_version *v = seccomp_version();
    if (v) {
        h_u64(&h, v->major);
        h_u64(&h, v->minor);
        h_u64(&h, v->micro);
    }
    struct utsname u;
    if (uname(&u) == 0) {
        h_str(&h, u.release);
        h_str(&h, u.version);
        h_str(&h, u.machine);
    }
    h_u64(&h, caps);
    h_u64(&h, p->default_action);
    h_u64(&h, (uint64_t)(int64_t)p->default_errno);
    h_strv(&h, p->architectures);
    h_str(&h, p->listener_path);
    h_str(&h, p->listener_metadata);
    h_u64(&h, p->flags);
    h_u64(&h, p->n_rules);
    for (size_t i = 0; i < p->n_rules; i++) {
        const struct cm_scmp_rule *r = &p->rules[i];
        h_strv(&h, r->names);
        h_u64(&h, r->action);
        h_u64(&h, (uint64_t)(int64_t)r->errno_ret);
        h_u64(&h, r->n_args);
        for (size_t j = 0; j < r->n_args; j++) {
            h_u64(&h, r->args[j].index);
            h_u64(&h, r->args[j].value);
            h_u64(&h, r->args[j].value_two);
            h_u64(&h, r->args[j].op);
        }
        h_u64(&h, r->include_caps);
        h_u64(&h, r->exclude_caps);
        h_u64(&h, r->has_include_caps | (uint64_t)r->has_exclude_caps << 1);
        h_strv(&h, r->include_arches);
        h_strv(&h, r->exclude_arches);
    }
    snprintf(out, len, "%s/.seccomp/%016llx%016llx.bpf", root, (unsigned long long)h.a,
             (unsigned long long)h.b);
}

struct header {
    char magic[16];
    uint32_t flags;
    uint32_t notify;
    uint32_t len;
    uint32_t pad;
    uint64_t sum; /* of the instructions: a damaged file is a miss */
};

static uint64_t insn_sum(const struct sock_filter *insns, size_t len)
{
    struct hasher h = {0xcbf29ce484222325ULL, 0};
    h_bytes(&h, insns, len * sizeof(*insns));
    return h.a;
}

int cm_seccomp_cache_get(const char *root, const struct cm_seccomp_profile *p, uint64_t caps,
                         struct cm_seccomp_bpf *out)
{
    char path[4300];
    cache_path(root, p, caps, path, sizeof(path));
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    struct stat st;
    struct header hd;
    if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022) ||
        read(fd, &hd, sizeof(hd)) != (ssize_t)sizeof(hd) || memcmp(hd.magic, MAGIC, sizeof(MAGIC) - 1) ||
        hd.len == 0 || hd.len > BPF_MAXINSNS ||
        (size_t)st.st_size != sizeof(hd) + hd.len * sizeof(struct sock_filter))
        return 0;
    struct sock_filter *insns = malloc(hd.len * sizeof(*insns));
    if (!insns)
        return 0;
    if (read(fd, insns, hd.len * sizeof(*insns)) != (ssize_t)(hd.len * sizeof(*insns)) ||
        insn_sum(insns, hd.len) != hd.sum) {
        free(insns);
        return 0;
    }
    out->insns = insns;
    out->len = (unsigned short)hd.len;
    out->flags = hd.flags;
    out->notify = hd.notify;
    return 1;
}

void cm_seccomp_cache_put(const char *root, const struct cm_seccomp_profile *p, uint64_t caps,
                          const struct cm_seccomp_bpf *bpf)
{
    char dir[4200], path[4300], tmp[4400];
    snprintf(dir, sizeof(dir), "%s/.seccomp", root);
    if ((mkdir(root, 0700) < 0 && errno != EEXIST) || (mkdir(dir, 0700) < 0 && errno != EEXIST))
        return;
    cache_path(root, p, caps, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
    struct header hd = {.flags = bpf->flags, .notify = bpf->notify, .len = bpf->len,
                        .sum = insn_sum(bpf->insns, bpf->len)};
    memcpy(hd.magic, MAGIC, sizeof(MAGIC) - 1);
    _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return;
    size_t body = bpf->len * sizeof(struct sock_filter);
    if (write(fd, &hd, sizeof(hd)) != (ssize_t)sizeof(hd) || write(fd, bpf->insns, body) != (ssize_t)body ||
        rename(tmp, path) < 0)
        unlink(tmp);
}
