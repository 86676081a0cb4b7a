/* devices.c: the device cgroup: which device nodes a container may open or
 * create. See devices.h. */
#include "sandbox/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

bool cm_devices_force_bpf;

/* What every container gets: the nodes casemate puts in its /dev (and an
 * OCI runtime must supply), the terminal, and nothing else. */
static const struct cm_dev_rule defaults[] = {
    {'c', 1, 3, "rwm", true},   /* null */
    {'c', 1, 5, "rwm", true},   /* zero */
    {'c', 1, 7, "rwm", true},   /* full */
    {'c', 1, 8, "rwm", true},   /* random */
    {'c', 1, 9, "rwm", true},   /* urandom */
    {'c', 5, 0, "rwm", true},   /* tty */
    {'c', 5, 1, "rwm", true},   /* console */
    {'c', 5, 2, "rwm", true},   /* ptmx */
    {'c', 136, -1, "rwm", true}, /* pts/N */
};

static int add_rule(struct cm_dev_rule **rules, size_t *n, struct cm_dev_rule r)
{
    struct cm_dev_rule *g = realloc(*rules, (*n + 1) * sizeof(*g));
    if (!g)
        return -1;
    g[(*n)++] = r;
    *rules = g;
    return 0;
}

int cm_devices_rules(const struct cm_spec *spec, struct cm_dev_rule **out, size_t *n_out,
                     struct cm_error *err)
{
    struct cm_dev_rule *rules = NULL;
    size_t n = 0;
    /* Deny all first; what follows allows, in order, the last match wins. */
    if (add_rule(&rules, &n, (struct cm_dev_rule){'a', -1, -1, "rwm", false}) < 0)
        goto oom;
    for (size_t i = 0; i < spec->n_devices; i++) {
        const struct cm_device *d = &spec->devices[i];
        if (d->path)
            continue;
        struct cm_dev_rule r = {d->type ? d->type : 'a', d->major, d->minor, "rwm", d->allow};
        if (d->access && *d->access)
            snprintf(r.access, sizeof(r.access), "%s", d->access);
        if (add_rule(&rules, &n, r) < 0)
            goto oom;
    }
    /* linux.devices nodes are there to be used. */
    for (size_t i = 0; i < spec->n_devices; i++) {
        const struct cm_device *d = &spec->devices[i];
        if (d->path && (d->type == 'c' || d->type == 'b') &&
            add_rule(&rules, &n, (struct cm_dev_rule){d->type, d->major, d->minor, "rwm", true}) < 0)
            goto oom;
    }
    for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
        if (add_rule(&rules, &n, defaults[i]) < 0)
            goto oom;
    *out = rules;
    *n_out = n;
    return 0;
oom:
    free(rules);
    return cm_err_set(err, ENOMEM, "building the device rules");
}

static void rule_text(const struct cm_dev_rule *r, char *buf, size_t len)
{
    if (r->type == 'a') {
        snprintf(buf, len, "a");
        return;
    }
    char maj[16], min[16];
    if (r->major < 0)
        snprintf(maj, sizeof(maj), "*");
    else
        snprintf(maj, sizeof(maj), "%lld", (long long)r->major);
    if (r->minor < 0)
        snprintf(min, sizeof(min), "*");
    else
        snprintf(min, sizeof(min), "%lld", (long long)r->minor);
    snprintf(buf, len, "%c %s:%s %s", r->type, maj, min, r->access);
}

static int apply_v1(const char *dir, const struct cm_dev_rule *rules, size_t n, struct cm_error *err)
{
    for (size_t i = 0; i < n; i++) {
        char path[4200], text[64];
        snprintf(path, sizeof(path), "%s/%s", dir, rules[i].allow ? "devices.allow" : "devices.deny");
        rule_text(&rules[i], text, sizeof(text));
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        size_t len = strlen(text);
        if (fd < 0 || write(fd, text, len) != (ssize_t)len)
            return cm_err_sys(err, "device cgroup: writing '%s' to %s", text, path);
    }
    return 0;
}

/* ---- v2: a BPF_PROG_TYPE_CGROUP_DEVICE program ---- */

struct prog {
    struct bpf_insn insns[4096];
    size_t n;
};

#define INSN(c, d, s, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

static int access_mask(const char *access)
{
    int m = 0;
    for (const char *p = access; *p; p++)
        m |= *p == 'r' ? BPF_DEVCG_ACC_READ : *p == 'w' ? BPF_DEVCG_ACC_WRITE : *p == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
    return m;
}

/* Program: r2 = type, r3 = access, r4 = major, r5 = minor; then one block
 * per rule, the last rule first (the last match wins), each returning on a
 * match; no match: deny. */
static int build_program(const struct cm_dev_rule *rules, size_t n, struct prog *p)
{
    p->n = 0;
#define EMIT(x) (p->insns[p->n++] = (x))
    EMIT(INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0));
    EMIT(INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xFFFF));
    EMIT(INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_3, BPF_REG_1, 0, 0));
    EMIT(INSN(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16));
    EMIT(INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0));
    EMIT(INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0));
    bool ended = false; /* a rule without conditions: nothing after it runs */
    for (size_t k = n; k-- > 0 && !ended;) {
        const struct cm_dev_rule *r = &rules[k];
        struct bpf_insn block[16];
        size_t b = 0;
        /* Conditions jump to the end of the block (fixed below). */
        if (r->type != 'a') {
            int t = r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
            block[b++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, -1, t);
        }
        int m = access_mask(r->access);
        if (m != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
            /* Requested access must be within the rule's. */
            block[b++] = INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
            block[b++] = INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, ~m);
            block[b++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_1, 0, -1, 0);
        }
        if (r->major >= 0)
            block[b++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, -1, (int32_t)r->major);
        if (r->minor >= 0)
            block[b++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, -1, (int32_t)r->minor);
        ended = b == 0;
        block[b++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r->allow ? 1 : 0);
        block[b++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        if (p->n + b + 2 > ARRAY_SIZE(p->insns))
            return -1;
        for (size_t i = 0; i < b; i++) {
            if (block[i].off == -1)
                block[i].off = (int16_t)(b - i - 1);
            EMIT(block[i]);
        }
    }
    if (!ended) {
        EMIT(INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));
        EMIT(INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    }
#undef EMIT
    return 0;
}

static int apply_v2(const char *dir, const struct cm_dev_rule *rules, size_t n, struct cm_error *err)
{
    static struct prog p;
    if (build_program(rules, n, &p) < 0)
        return cm_err_set(err, 0, "device cgroup: too many device rules");
    char log[4096] = "";
    union bpf_attr load;
    memset(&load, 0, sizeof(load));
    load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    load.insns = (uint64_t)(uintptr_t)p.insns;
    load.insn_cnt = (uint32_t)p.n;
    load.license = (uint64_t)(uintptr_t) "GPL";
    load.log_buf = (uint64_t)(uintptr_t)log;
    load.log_size = sizeof(log);
    load.log_level = 1;
    _cleanup_close_ int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
    if (prog < 0)
        return cm_err_sys(err, "device cgroup: loading the BPF device filter%s%.200s", log[0] ? ": " : "", log);
    _cleanup_close_ int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgfd < 0)
        return cm_err_sys(err, "device cgroup: opening %s", dir);
    union bpf_attr attach;
    memset(&attach, 0, sizeof(attach));
    attach.target_fd = (uint32_t)cgfd;
    attach.attach_bpf_fd = (uint32_t)prog;
    attach.attach_type = BPF_CGROUP_DEVICE;
    attach.attach_flags = BPF_F_ALLOW_MULTI;
    if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof(attach)) < 0)
        return cm_err_sys(err, "device cgroup: attaching the BPF device filter to %s", dir);
    return 0;
}

int cm_devices_apply(struct cm_cgroup *cg, const struct cm_spec *spec, struct cm_error *err)
{
    _cleanup_free_ struct cm_dev_rule *rules = NULL;
    size_t n = 0;
    if (cm_devices_rules(spec, &rules, &n, err) < 0)
        return -1;
    const char *v1 = cm_devices_force_bpf ? NULL : cm_cgroup_dir(cg, "devices");
    if (v1)
        return apply_v1(v1, rules, n, err);
    const char *v2 = cm_cgroup_dir(cg, NULL);
    if (v2)
        return apply_v2(v2, rules, n, err);
    return cm_err_set(err, 0, "device cgroup: neither a v1 devices controller nor a v2 cgroup is "
                              "available to restrict the container's devices");
}
