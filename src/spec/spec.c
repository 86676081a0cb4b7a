/* spec.c: defaults, validation and ownership of struct cm_spec. */
#include "spec/spec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "spec/seccomp_profile.h"
#include "util/cleanup.h"

/* Docker's masked paths, plus the ones it added later. Shared with the
 * auditor through cm_default_masked_paths. */
const char *const cm_default_masked_paths[] = {
    "/proc/acpi",          "/proc/asound",      "/proc/kcore",
    "/proc/keys",          "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats",   "/proc/sched_debug", "/proc/scsi",
    "/proc/interrupts",    "/sys/firmware",     "/sys/devices/virtual/powercap",
    NULL,
};

const char *const cm_default_readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

size_t cm_strv_len(char *const *strv)
{
    size_t n = 0;
    while (strv && strv[n])
        n++;
    return n;
}

int cm_strv_append(char ***strv, const char *s)
{
    size_t n = cm_strv_len(*strv);
    char *copy = strdup(s);
    if (!copy)
        return -1;
    char **grown = realloc(*strv, (n + 2) * sizeof(char *));
    if (!grown) {
        free(copy);
        return -1;
    }
    grown[n] = copy;
    grown[n + 1] = NULL;
    *strv = grown;
    return 0;
}

char **cm_strv_dup(char *const *strv)
{
    size_t n = cm_strv_len(strv);
    char **out = calloc(n + 1, sizeof(char *));
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        out[i] = strdup(strv[i]);
        if (!out[i]) {
            cm_strv_free(out);
            return NULL;
        }
    }
    return out;
}

int cm_env_set(char ***env, const char *kv)
{
    const char *eq = strchr(kv, '=');
    size_t keylen = eq ? (size_t)(eq - kv) : strlen(kv);
    for (char **p = *env; p && *p; p++) {
        if (strncmp(*p, kv, keylen) == 0 && ((*p)[keylen] == '=' || (*p)[keylen] == '\0')) {
            char *copy = strdup(kv);
            if (!copy)
                return -1;
            free(*p);
            *p = copy;
            return 0;
        }
    }
    return cm_strv_append(env, kv);
}

struct cm_mount *cm_spec_add_mount(struct cm_spec *spec)
{
    struct cm_mount *grown = realloc(spec->mounts, (spec->n_mounts + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    spec->mounts = grown;
    struct cm_mount *m = &spec->mounts[spec->n_mounts++];
    memset(m, 0, sizeof(*m));
    return m;
}

int cm_spec_init_defaults(struct cm_spec *spec)
{
    memset(spec, 0, sizeof(*spec));
    spec->readonly_rootfs = true;
    spec->rootfs_propagation = MS_PRIVATE;
    spec->no_new_privs = true;
    spec->landlock = false;
    spec->ns_new = CM_NS_USER | CM_NS_PID | CM_NS_MOUNT | CM_NS_NET | CM_NS_IPC |
                   CM_NS_UTS | CM_NS_CGROUP;
    spec->network = CM_NET_NONE;
    spec->tmp_size = CM_DEFAULT_TMP_SIZE;
    spec->umask = 022;
    spec->resources.memory_limit = CM_DEFAULT_MEMORY_LIMIT;
    spec->resources.memory_swap = -2;
    spec->resources.memory_reservation = -1;
    spec->resources.cpu_quota = -1;
    spec->resources.pids_limit = CM_DEFAULT_PIDS_LIMIT;
    spec->resources.hugetlb_limit = -1;
    spec->remove = true;
    for (const char *const *p = cm_default_masked_paths; *p; p++)
        if (cm_strv_append(&spec->masked_paths, *p) < 0)
            return -1;
    for (const char *const *p = cm_default_readonly_paths; *p; p++)
        if (cm_strv_append(&spec->readonly_paths, *p) < 0)
            return -1;
    if (cm_env_set(&spec->env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0)
        return -1;
    spec->cwd = strdup("/");
    if (!spec->cwd)
        return -1;
    return 0;
}

static void free_mount(struct cm_mount *m)
{
    free(m->source);
    free(m->destination);
    free(m->type);
    free(m->data);
}

static void free_hook(struct cm_hook *h)
{
    free(h->path);
    cm_strv_free(h->args);
    cm_strv_free(h->env);
}

static void free_kvs(struct cm_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

void cm_spec_free(struct cm_spec *spec)
{
    if (!spec)
        return;
    free(spec->id);
    free(spec->name);
    free(spec->bundle);
    free(spec->rootfs);
    cm_strv_free(spec->args);
    cm_strv_free(spec->env);
    free(spec->cwd);
    free(spec->user);
    free(spec->additional_gids);
    cm_seccomp_profile_free(spec->seccomp);
    free(spec->seccomp_path);
    free(spec->apparmor_profile);
    free(spec->selinux_label);
    free(spec->mount_label);
    for (size_t i = 0; i < spec->n_ns_join; i++)
        free(spec->ns_join[i].path);
    free(spec->ns_join);
    free(spec->uid_map);
    free(spec->gid_map);
    free(spec->hostname);
    free(spec->domainname);
    for (size_t i = 0; i < spec->n_mounts; i++)
        free_mount(&spec->mounts[i]);
    free(spec->mounts);
    cm_strv_free(spec->masked_paths);
    cm_strv_free(spec->readonly_paths);
    for (size_t i = 0; i < spec->n_devices; i++) {
        free(spec->devices[i].path);
        free(spec->devices[i].access);
    }
    free(spec->devices);
    free(spec->rlimits);
    free(spec->resources.cpuset_cpus);
    free(spec->resources.cpuset_mems);
    free(spec->cgroup_parent);
    free(spec->cgroups_path);
    free_kvs(spec->sysctl, spec->n_sysctl);
    free_kvs(spec->annotations, spec->n_annotations);
    for (int k = 0; k < CM_HOOK_KIND_COUNT; k++) {
        for (size_t i = 0; i < spec->n_hooks[k]; i++)
            free_hook(&spec->hooks[k][i]);
        free(spec->hooks[k]);
    }
    free(spec->ports);
    memset(spec, 0, sizeof(*spec));
}

int cm_spec_validate(const struct cm_spec *spec, struct cm_error *err)
{
    if (!spec->rootfs || spec->rootfs[0] != '/')
        return cm_err_set(err, 0, "root filesystem path must be absolute");
    if (!spec->args || !spec->args[0] || !spec->args[0][0])
        return cm_err_set(err, 0, "no command to run");
    if (!spec->cwd || spec->cwd[0] != '/')
        return cm_err_set(err, 0, "working directory '%s' must be an absolute path",
                          spec->cwd ? spec->cwd : "");
    for (size_t i = 0; i < spec->n_mounts; i++) {
        const struct cm_mount *m = &spec->mounts[i];
        if (!m->destination || m->destination[0] != '/')
            return cm_err_set(err, 0, "mount destination '%s' must be an absolute path",
                              m->destination ? m->destination : "");
    }
    if ((spec->cap_effective & ~spec->cap_permitted) ||
        (spec->cap_ambient & ~(spec->cap_permitted & spec->cap_inheritable)))
        return cm_err_set(err, 0, "capability sets are inconsistent: effective and "
                                  "ambient capabilities must be permitted (and ambient inheritable)");
    if (!(spec->ns_new & CM_NS_USER) && spec->n_uid_map)
        return cm_err_set(err, 0, "uid mappings given without a new user namespace");
    return 0;
}
