/* dockerfile_rules.c: the Dockerfile rules (CM-DF-*) and cm_audit_dockerfile.
 *
 * The seeds' Dockerfile advice (seed 002) and the security checks of
 * hadolint, dockle and Trivy, run over the parsed Dockerfile. Shell commands
 * are looked at one simple command at a time (argv), so "apt-get update &&
 * apt-get install" and "curl ... | sh" are seen for what they are. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit/dockerfile_parse.h"
#include "audit/rules.h"
#include "audit/secrets.h"
#include "util/cleanup.h"

enum {
    R_SECRET_ENV,
    R_SECRET_ARG,
    R_SECRET_VALUE,
    R_SECRET_COPY,
    R_NO_USER,
    R_USER_ROOT,
    R_LATEST,
    R_NO_DIGEST,
    R_ADD_LOCAL,
    R_ADD_URL,
    R_NO_HEALTHCHECK,
    R_SUDO_RUN,
    R_SUDO_PKG,
    R_UPDATE_ALONE,
    R_UPGRADE,
    R_NO_RECOMMENDS,
    R_CURL_PIPE,
    R_PIPEFAIL,
    R_CHMOD_WORLD,
    R_CHMOD_SETUID,
    R_EXPOSE_22,
    R_SSH_SERVER,
    R_SERVICES,
    R_HUB_USER_IMAGE,
    R_UNTRUSTED_REGISTRY,
    R_INSECURE_DOWNLOAD,
    R_WORKDIR_SYSTEM,
    R_VOLUME_SENSITIVE,
    R_RUN_CD,
    R_APT_LISTS,
    R_APK_CACHE,
    R_RUN_INSECURE,
    R_COUNT,
};

const struct cm_rule cm_dockerfile_rules[] = {
    [R_SECRET_ENV] = {"CM-DF-001", "secret", CM_SEV_HIGH,
                      "Secret-looking ENV variable set in the Dockerfile",
                      "Do not bake secrets into the image: pass them at run time (docker run "
                      "--env-file, a secrets manager) or use RUN --mount=type=secret at build time",
                      "hadolint DL3064; dockle CIS-DI-0010; Trivy DS-0031; seed 002"},
    [R_SECRET_ARG] = {"CM-DF-002", "secret", CM_SEV_MEDIUM,
                      "Secret-looking build ARG (build arguments stay in the image history)",
                      "Use RUN --mount=type=secret,id=NAME and `docker build --secret id=NAME` "
                      "instead of ARG",
                      "hadolint DL3064; Trivy DS-0031; seed 002"},
    [R_SECRET_VALUE] = {"CM-DF-003", "secret", CM_SEV_CRITICAL,
                        "Credential written in the Dockerfile (private key, cloud key, token, "
                        "password in a URL)",
                        "Remove the credential, revoke it (it is in the history of the "
                        "repository and of the image), and use RUN --mount=type=secret",
                        "dockle CIS-DI-0010; seed 002"},
    [R_SECRET_COPY] = {"CM-DF-004", "secret", CM_SEV_HIGH,
                       "Credential file copied into the image",
                       "Do not COPY keys, .env or credential files; list them in "
                       ".dockerignore and mount them at build time with "
                       "RUN --mount=type=secret or at run time",
                       "dockle CIS-DI-0010; Trivy DS-0031; seed 002"},
    [R_NO_USER] = {"CM-DF-005", "root-user", CM_SEV_MEDIUM,
                   "No USER in the final stage: the container runs as root",
                   "Add `RUN useradd --system app` (or adduser -S) and `USER app` before "
                   "CMD/ENTRYPOINT",
                   "CIS 4.1; dockle CIS-DI-0001; Trivy DS-0002; seed 002"},
    [R_USER_ROOT] = {"CM-DF-006", "root-user", CM_SEV_HIGH,
                     "The last USER of the final stage is root",
                     "End the final stage with `USER <unprivileged user>`; use gosu or su-exec "
                     "in the entrypoint if a step needs root",
                     "hadolint DL3002; CIS 4.1; Trivy DS-0002; seed 002"},
    [R_LATEST] = {"CM-DF-007", "unpinned-base", CM_SEV_MEDIUM,
                  "Base image without a tag or with the `latest` tag",
                  "Pin the base image: `FROM debian:12.7-slim` or better "
                  "`FROM debian@sha256:<digest>`",
                  "hadolint DL3006, DL3007; dockle DKL-DI-0006; Trivy DS-0001; seed 002"},
    [R_NO_DIGEST] = {"CM-DF-008", "unpinned-base", CM_SEV_INFO,
                     "Base image pinned by tag, not by digest (tags can be moved)",
                     "Pin by digest: `FROM image:tag@sha256:<digest>` and update it on purpose",
                     "CIS 4.2; seed 002"},
    [R_ADD_LOCAL] = {"CM-DF-009", "add-instead-of-copy", CM_SEV_MEDIUM,
                     "ADD used to copy local files",
                     "Use COPY: it does only what it says (ADD also unpacks archives and "
                     "fetches URLs)",
                     "hadolint DL3020; CIS 4.9; dockle CIS-DI-0009; Trivy DS-0005; seed 002"},
    [R_ADD_URL] = {"CM-DF-010", "add-instead-of-copy", CM_SEV_MEDIUM,
                   "ADD fetches a remote URL without a checksum",
                   "Download with curl and verify a checksum in the same RUN, or use "
                   "`ADD --checksum=sha256:<digest> URL`",
                   "hadolint DL3020; CIS 4.9; seed 002"},
    [R_NO_HEALTHCHECK] = {"CM-DF-011", "no-healthcheck", CM_SEV_LOW,
                          "No HEALTHCHECK in the final stage",
                          "Add `HEALTHCHECK CMD <probe>` (e.g. `HEALTHCHECK CMD wget -q -O- "
                          "http://localhost:8080/health || exit 1`)",
                          "CIS 4.6; dockle CIS-DI-0006; hadolint DL3057; Trivy DS-0026; seed 002"},
    [R_SUDO_RUN] = {"CM-DF-012", "sudo", CM_SEV_MEDIUM, "sudo used in the Dockerfile",
                    "Build steps run as root already; drop privileges with USER, or with gosu "
                    "/ su-exec in an entrypoint",
                    "hadolint DL3004; dockle DKL-DI-0001; seed 002"},
    [R_SUDO_PKG] = {"CM-DF-013", "sudo", CM_SEV_MEDIUM, "sudo installed in the image",
                    "Do not install sudo; use gosu or su-exec to step down from root",
                    "dockle DKL-DI-0001; seed 002"},
    [R_UPDATE_ALONE] = {"CM-DF-014", "update-without-install", CM_SEV_MEDIUM,
                        "Package index updated in a RUN that installs nothing (cached layer, "
                        "stale index)",
                        "Update and install in the same RUN: `RUN apt-get update && apt-get "
                        "install -y --no-install-recommends pkg && rm -rf /var/lib/apt/lists/*`",
                        "CIS 4.7; dockle CIS-DI-0007; Trivy DS-0017; seed 002"},
    [R_UPGRADE] = {"CM-DF-015", "upgrade", CM_SEV_LOW,
                   "Distribution upgrade inside the Dockerfile",
                   "Rebuild from an updated, pinned base image instead of upgrading in a layer",
                   "dockle DKL-DI-0003; hadolint DL3005 (retired); seed 002"},
    [R_NO_RECOMMENDS] = {"CM-DF-016", "no-install-recommends", CM_SEV_LOW,
                         "apt-get install without --no-install-recommends",
                         "Use `apt-get install -y --no-install-recommends pkg`: every extra "
                         "package is attack surface",
                         "hadolint DL3015; Trivy DS-0029; seed 002"},
    [R_CURL_PIPE] = {"CM-DF-017", "curl-pipe-shell", CM_SEV_HIGH,
                     "Downloaded script piped straight into an interpreter",
                     "Download to a file, verify its checksum or signature, then run it",
                     "seed 002 (download packages securely)"},
    [R_PIPEFAIL] = {"CM-DF-018", "pipefail", CM_SEV_LOW,
                    "RUN with a pipe but without pipefail: a failing download is ignored",
                    "Add `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` before the RUN, "
                    "or start it with `set -o pipefail &&`",
                    "hadolint DL4006"},
    [R_CHMOD_WORLD] = {"CM-DF-019", "world-writable", CM_SEV_MEDIUM,
                       "Files made world-writable",
                       "Give write access to the owner only (chmod 755 / 644, or chown to "
                       "the app user)",
                       "seed 002; anchors gap: chmod 777"},
    [R_CHMOD_SETUID] = {"CM-DF-020", "setuid", CM_SEV_HIGH, "setuid or setgid bit set",
                        "Do not add setuid/setgid bits; remove existing ones with `RUN find / "
                        "-xdev -perm /6000 -type f -exec chmod a-s {} +`",
                        "CIS 4.8; dockle CIS-DI-0008; seed 002"},
    [R_EXPOSE_22] = {"CM-DF-021", "ssh-server", CM_SEV_MEDIUM, "Port 22 (SSH) exposed",
                     "Do not run SSH in a container; use `docker exec` for access",
                     "CIS 5.7; Trivy DS-0004; seed 001"},
    [R_SSH_SERVER] = {"CM-DF-022", "ssh-server", CM_SEV_HIGH,
                      "SSH server installed or started in the image",
                      "Remove openssh-server/dropbear; use `docker exec` for access",
                      "CIS 5.7; seed 001; seed 002"},
    [R_SERVICES] = {"CM-DF-023", "multiple-services", CM_SEV_MEDIUM,
                    "Several services or a process supervisor in one container",
                    "Run one service per container and compose them (docker compose, pods)",
                    "seed 002 (one single service)"},
    [R_HUB_USER_IMAGE] = {"CM-DF-024", "untrusted-registry", CM_SEV_LOW,
                          "Base image from a user namespace of Docker Hub (not an official image)",
                          "Use an official or verified image, or one from your own registry; set "
                          "CASEMATE_TRUSTED_REGISTRIES to enforce a list",
                          "hadolint DL3026; CIS 4.2; seed 002"},
    [R_UNTRUSTED_REGISTRY] = {"CM-DF-025", "untrusted-registry", CM_SEV_MEDIUM,
                              "Base image from a registry outside CASEMATE_TRUSTED_REGISTRIES",
                              "Pull base images from your in-house registry only",
                              "hadolint DL3026; CIS 4.2; seed 002"},
    [R_INSECURE_DOWNLOAD] = {"CM-DF-026", "insecure-download", CM_SEV_HIGH,
                             "TLS verification or package signature checking disabled",
                             "Remove -k/--insecure, --no-check-certificate, --allow-unauthenticated, "
                             "--nogpgcheck, --trusted-host; install the right CA certificates",
                             "seed 002 (download packages securely)"},
    [R_WORKDIR_SYSTEM] = {"CM-DF-027", "system-dir", CM_SEV_LOW,
                          "WORKDIR set to a system directory",
                          "Use a directory of the application: `WORKDIR /app`",
                          "Trivy DS-0013"},
    [R_VOLUME_SENSITIVE] = {"CM-DF-028", "sensitive-volume", CM_SEV_HIGH,
                            "VOLUME on a sensitive system path (/dev, /proc, /sys, /, /etc, the "
                            "Docker socket)",
                            "Declare volumes for application data only",
                            "dockle DKL-DI-0002; CIS 5.5"},
    [R_RUN_CD] = {"CM-DF-029", "hygiene", CM_SEV_INFO, "RUN cd instead of WORKDIR",
                  "Use `WORKDIR /path`", "hadolint DL3003; Trivy DS-0013"},
    [R_APT_LISTS] = {"CM-DF-030", "hygiene", CM_SEV_LOW,
                     "apt lists left in the final image",
                     "End the RUN that installs with `&& rm -rf /var/lib/apt/lists/*`",
                     "hadolint DL3009; dockle DKL-DI-0005"},
    [R_APK_CACHE] = {"CM-DF-031", "hygiene", CM_SEV_LOW, "apk add without --no-cache",
                     "Use `apk add --no-cache pkg`", "dockle DKL-DI-0004; Trivy DS-0025"},
    [R_RUN_INSECURE] = {"CM-DF-032", "privileged", CM_SEV_HIGH,
                        "RUN --security=insecure: a build step without sandbox",
                        "Remove --security=insecure; it needs the security.insecure "
                        "entitlement and runs the step with all privileges",
                        "CIS 5.4 (privileged)"},
    [R_COUNT] = {.id = NULL},
};

struct dfctx {
    const struct cm_dockerfile *df;
    const char *path;
    struct cm_report *r;
    bool oom;
    bool *in_final; /* per stage: the final stage or one it builds on */
};

/* cm_report_add runs every evidence string through cm_redact: it is copied
 * from the Dockerfile and may hold a value we did not recognise as a secret. */
__attribute__((format(printf, 4, 5))) static void add(struct dfctx *c, int rule, int line,
                                                      const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (cm_report_add(c->r, &cm_dockerfile_rules[rule], c->path, line, NULL, "%s", buf) < 0)
        c->oom = true;
}

/* The instruction as written, shortened, for evidence. */
static void shown(const struct cm_df_instr *in, char *buf, size_t sz)
{
    snprintf(buf, sz, "%s %s", in->keyword, in->raw ? in->raw : "");
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    if (strlen(buf) >= 120)
        strcpy(buf + 116, "...");
}

static void cmd_text(const struct cm_sh_cmd *cmd, char *buf, size_t sz)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < cmd->argc && o + 1 < sz; i++) {
        int n = snprintf(buf + o, sz - o, "%s%s", i ? " " : "", cmd->argv[i]);
        if (n < 0)
            break;
        o += (size_t)n;
    }
    if (o >= sz - 1 && sz > 4)
        strcpy(buf + sz - 4, "...");
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
}

static const char *base_name(const char *p)
{
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

/* Index of the real command in argv, past sudo/env/nice/... wrappers. */
static size_t cmd_start(const struct cm_sh_cmd *cmd)
{
    size_t i = 0;
    while (i < cmd->argc) {
        const char *a = base_name(cmd->argv[i]);
        if (!strcmp(a, "sudo") || !strcmp(a, "env") || !strcmp(a, "nice") ||
            !strcmp(a, "nohup") || !strcmp(a, "exec") || !strcmp(a, "command") ||
            !strcmp(a, "time") || !strcmp(a, "xargs") || !strcmp(a, "eatmydata")) {
            i++;
            while (i < cmd->argc && (cmd->argv[i][0] == '-' || strchr(cmd->argv[i], '=')))
                i++;
        } else if (!strcmp(a, "gosu") || !strcmp(a, "su-exec") || !strcmp(a, "chroot")) {
            i += 2;
        } else {
            break;
        }
    }
    return i;
}

static const char *cmd_name(const struct cm_sh_cmd *cmd, size_t *idx)
{
    size_t i = cmd_start(cmd);
    if (idx)
        *idx = i;
    return i < cmd->argc ? base_name(cmd->argv[i]) : "";
}

static bool has_arg(const struct cm_sh_cmd *cmd, size_t from, const char *opt)
{
    for (size_t i = from; i < cmd->argc; i++)
        if (!strcmp(cmd->argv[i], opt))
            return true;
    return false;
}

static bool has_arg_prefix(const struct cm_sh_cmd *cmd, size_t from, const char *pfx)
{
    size_t l = strlen(pfx);
    for (size_t i = from; i < cmd->argc; i++)
        if (!strncmp(cmd->argv[i], pfx, l))
            return true;
    return false;
}

/* First non-option argument after argv[from]. */
static const char *subcommand(const struct cm_sh_cmd *cmd, size_t from, size_t *at)
{
    for (size_t i = from + 1; i < cmd->argc; i++) {
        const char *a = cmd->argv[i];
        if (a[0] == '-') {
            /* options that take a separate value */
            if (!strcmp(a, "-o") || !strcmp(a, "-c") || !strcmp(a, "-t") ||
                !strcmp(a, "--option") || !strcmp(a, "--repository") || !strcmp(a, "-X") ||
                !strcmp(a, "--root") || !strcmp(a, "--enablerepo") || !strcmp(a, "--setopt"))
                i++;
            continue;
        }
        if (at)
            *at = i;
        return a;
    }
    return "";
}

enum pm { PM_NONE, PM_APT, PM_APK, PM_YUM, PM_ZYPPER };

static enum pm pkg_manager(const char *n)
{
    if (!strcmp(n, "apt-get") || !strcmp(n, "apt") || !strcmp(n, "aptitude"))
        return PM_APT;
    if (!strcmp(n, "apk"))
        return PM_APK;
    if (!strcmp(n, "yum") || !strcmp(n, "dnf") || !strcmp(n, "microdnf") || !strcmp(n, "tdnf"))
        return PM_YUM;
    if (!strcmp(n, "zypper"))
        return PM_ZYPPER;
    return PM_NONE;
}

static bool is_install(enum pm pm, const char *sub)
{
    switch (pm) {
    case PM_APT:
    case PM_YUM:
    case PM_ZYPPER:
        return !strcmp(sub, "install") || !strcmp(sub, "in");
    case PM_APK:
        return !strcmp(sub, "add");
    default:
        return false;
    }
}

static bool is_index_update(enum pm pm, const char *sub)
{
    switch (pm) {
    case PM_APT:
    case PM_APK:
        return !strcmp(sub, "update");
    case PM_YUM:
        return !strcmp(sub, "makecache") || !strcmp(sub, "check-update");
    case PM_ZYPPER:
        return !strcmp(sub, "refresh") || !strcmp(sub, "ref");
    default:
        return false;
    }
}

static bool is_upgrade(enum pm pm, const char *sub, const struct cm_sh_cmd *cmd, size_t at)
{
    switch (pm) {
    case PM_APT:
        return !strcmp(sub, "upgrade") || !strcmp(sub, "dist-upgrade") ||
               !strcmp(sub, "full-upgrade");
    case PM_APK:
        return !strcmp(sub, "upgrade");
    case PM_YUM:
        /* `yum update` with no package names upgrades everything */
        if (!strcmp(sub, "upgrade") || !strcmp(sub, "distro-sync"))
            return true;
        if (!strcmp(sub, "update")) {
            for (size_t i = at + 1; i < cmd->argc; i++)
                if (cmd->argv[i][0] != '-')
                    return false;
            return true;
        }
        return false;
    case PM_ZYPPER:
        return !strcmp(sub, "up") || !strcmp(sub, "update") || !strcmp(sub, "dup") ||
               !strcmp(sub, "dist-upgrade");
    default:
        return false;
    }
}

/* Package name without version or architecture: "openssh-server=1:9.2" ->
 * "openssh-server". */
static bool pkg_is(const char *arg, const char *name)
{
    size_t l = strlen(name);
    return !strncmp(arg, name, l) && (arg[l] == '\0' || arg[l] == '=' || arg[l] == ':' ||
                                      arg[l] == '~' || arg[l] == '<' || arg[l] == '>');
}

static const char *const ssh_pkgs[] = {"openssh-server", "openssh", "dropbear", "ssh",
                                       "openssh-server-pam", "tinyssh"};
static const char *const supervisor_pkgs[] = {"supervisor", "supervisord", "runit", "s6",
                                              "s6-overlay", "openrc", "systemd-sysv", "monit",
                                              "circus"};
static const char *const supervisor_cmds[] = {"supervisord", "runsvdir", "s6-svscan",
                                              "openrc", "systemd", "init", "monit", "circusd"};
static const char *const fetchers[] = {"curl", "wget", "fetch", "aria2c", "http", "iwr"};
static const char *const interpreters[] = {"sh", "bash", "ash", "dash", "zsh", "ksh", "fish",
                                           "python", "python2", "python3", "perl", "ruby",
                                           "node", "php", "pwsh"};

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s, list[i]))
            return true;
    return false;
}

/* Parse a chmod mode: set *world when others get write (without the sticky
 * bit), *setid when setuid/setgid is added. */
static void chmod_mode(const char *m, bool *world, bool *setid)
{
    size_t l = strlen(m);
    bool octal = l >= 1 && l <= 5;
    for (size_t i = 0; i < l; i++)
        octal = octal && m[i] >= '0' && m[i] <= '7';
    if (octal) {
        unsigned long v = strtoul(m, NULL, 8);
        if (v & 06000)
            *setid = true;
        if ((v & 0002) && !(v & 01000))
            *world = true;
        return;
    }
    /* symbolic: [ugoa]*[+-=][rwxXst]*, comma separated */
    const char *p = m;
    while (*p) {
        bool who_o = false; /* "chmod +w" follows the umask: not world-writable */
        while (*p && strchr("ugoa", *p)) {
            if (*p == 'o' || *p == 'a')
                who_o = true;
            p++;
        }
        while (*p && strchr("+-=", *p)) {
            char op = *p++;
            bool w = false, s = false, t = false;
            while (*p && strchr("rwxXstugo", *p)) {
                w |= *p == 'w';
                s |= *p == 's';
                t |= *p == 't';
                p++;
            }
            if (op != '-') {
                if (s)
                    *setid = true;
                if (w && who_o && !t)
                    *world = true;
            }
        }
        if (*p == ',')
            p++;
        else if (*p)
            p++; /* not a mode after all */
    }
}

static bool looks_like_mode(const char *a)
{
    if (!*a)
        return false;
    for (const char *p = a; *p; p++)
        if (!strchr("01234567ugoa+-=rwxXst,", *p))
            return false;
    return strpbrk(a, "01234567+=-") != NULL;
}

struct runinfo {
    bool update, install_apt, install_any, rm_lists, apk_add_cache, rm_apk_cache, cache_mount;
    bool pipefail;
    int update_line, apt_line, apk_line;
};

static bool shell_has_pipefail(const struct cm_df_instr *shell)
{
    for (size_t i = 0; shell && i < shell->n_args; i++)
        if (strstr(shell->args[i], "pipefail"))
            return true;
    return false;
}

/* Checks on one shell script (RUN, ONBUILD RUN, CMD, ENTRYPOINT). */
static void check_script(struct dfctx *c, const struct cm_df_instr *in, bool final,
                         bool is_run, const struct cm_df_instr *shell, struct runinfo *ri)
{
    const struct cm_sh_script *sh = &in->sh;
    char ev[240], iev[240];
    shown(in, iev, sizeof(iev));
    bool pipefail = shell_has_pipefail(shell);
    bool pipe_reported = false;
    int services = 0;
    for (size_t k = 0; k < sh->n; k++) {
        const struct cm_sh_cmd *cmd = &sh->cmds[k];
        size_t at = 0;
        const char *name = cmd_name(cmd, &at);
        int line = cmd->line ? cmd->line : in->line;
        cmd_text(cmd, ev, sizeof(ev));

        if (!strcmp(base_name(cmd->argv[0]), "sudo"))
            add(c, R_SUDO_RUN, line, "%s", ev);
        if (!strcmp(name, "set") && has_arg_prefix(cmd, at + 1, "-") &&
            (has_arg(cmd, at + 1, "pipefail") || has_arg_prefix(cmd, at + 1, "-eo") ||
             has_arg_prefix(cmd, at + 1, "-euo") || has_arg_prefix(cmd, at + 1, "-exo") ||
             has_arg_prefix(cmd, at + 1, "-uo") || has_arg_prefix(cmd, at + 1, "-xeo")))
            pipefail = true;

        /* a pipe: fetcher | interpreter */
        if (cmd->op == CM_SH_PIPE && is_run) {
            bool fetch = false;
            for (size_t j = k; j-- > 0;) {
                if (in_list(cmd_name(&sh->cmds[j], NULL), fetchers, ARRAY_SIZE(fetchers)))
                    fetch = true;
                if (sh->cmds[j].op != CM_SH_PIPE)
                    break;
            }
            const char *interp = name;
            char iname[32];
            snprintf(iname, sizeof(iname), "%s", interp);
            /* python3.11 -> python3 */
            char *dot = strchr(iname, '.');
            if (dot && !strncmp(iname, "python", 6))
                *dot = '\0';
            if (fetch && in_list(iname, interpreters, ARRAY_SIZE(interpreters)))
                add(c, R_CURL_PIPE, line, "%s", iev);
            if (!pipefail && !pipe_reported && in->n_heredocs == 0 && !in->json) {
                add(c, R_PIPEFAIL, in->line, "%s", iev);
                pipe_reported = true;
            }
        }
        /* sh -c "$(curl ...)" and bash <(curl ...) */
        if (in_list(name, interpreters, ARRAY_SIZE(interpreters))) {
            for (size_t i = at + 1; i < cmd->argc; i++) {
                const char *a = cmd->argv[i];
                if ((strstr(a, "$(curl") || strstr(a, "$(wget") || strstr(a, "`curl") ||
                     strstr(a, "`wget")) && is_run)
                    add(c, R_CURL_PIPE, line, "%s", ev);
            }
        }

        if (!strcmp(name, "chmod")) {
            bool world = false, setid = false;
            for (size_t i = at + 1; i < cmd->argc; i++) {
                const char *a = cmd->argv[i];
                if (a[0] == '-' && !looks_like_mode(a))
                    continue; /* -R, --recursive */
                if (!looks_like_mode(a))
                    break;
                chmod_mode(a, &world, &setid);
                break;
            }
            if (world && final)
                add(c, R_CHMOD_WORLD, line, "%s", ev);
            if (setid && final)
                add(c, R_CHMOD_SETUID, line, "%s", ev);
        }
        if (!strcmp(name, "cd") && is_run && sh->n > 1)
            add(c, R_RUN_CD, line, "%s", ev);

        /* TLS / signature checks turned off */
        bool insecure = false;
        if (!strcmp(name, "curl")) {
            for (size_t i = at + 1; i < cmd->argc; i++) {
                const char *a = cmd->argv[i];
                if (!strcmp(a, "--insecure") ||
                    (a[0] == '-' && a[1] != '-' && strchr(a, 'k') && strspn(a + 1, "fsSLkvIiOJ#ZNqo") == strlen(a + 1)))
                    insecure = true;
            }
        } else if (!strcmp(name, "wget")) {
            insecure = has_arg(cmd, at + 1, "--no-check-certificate");
        } else if (!strcmp(name, "pip") || !strcmp(name, "pip3") || !strncmp(name, "python", 6)) {
            insecure = has_arg(cmd, at + 1, "--trusted-host") ||
                       has_arg_prefix(cmd, at + 1, "--trusted-host=");
        } else if (!strcmp(name, "git")) {
            for (size_t i = at + 1; i < cmd->argc; i++)
                if (strcasestr(cmd->argv[i], "sslverify") &&
                    (strcasestr(cmd->argv[i], "false") ||
                     (i + 1 < cmd->argc && !strcasecmp(cmd->argv[i + 1], "false"))))
                    insecure = true;
        } else if (!strcmp(name, "npm") || !strcmp(name, "yarn")) {
            for (size_t i = at + 1; i + 1 < cmd->argc; i++)
                if (!strcmp(cmd->argv[i], "strict-ssl") && !strcmp(cmd->argv[i + 1], "false"))
                    insecure = true;
        } else if (!strcmp(name, "rpm")) {
            insecure = has_arg(cmd, at + 1, "--nosignature") || has_arg(cmd, at + 1, "--nodigest");
        }
        enum pm pm = pkg_manager(name);
        if (pm != PM_NONE) {
            insecure = insecure || has_arg(cmd, at + 1, "--allow-unauthenticated") ||
                       has_arg(cmd, at + 1, "--allow-insecure-repositories") ||
                       has_arg(cmd, at + 1, "--force-yes") || has_arg(cmd, at + 1, "--nogpgcheck") ||
                       has_arg(cmd, at + 1, "--allow-untrusted") ||
                       has_arg(cmd, at + 1, "--no-gpg-checks") ||
                       has_arg_prefix(cmd, at + 1, "--allow-unauthenticated=") ||
                       has_arg(cmd, at + 1, "APT::Get::AllowUnauthenticated=true") ||
                       has_arg(cmd, at + 1, "Acquire::https::Verify-Peer=false");
        }
        if (insecure)
            add(c, R_INSECURE_DOWNLOAD, line, "%s", ev);

        if (pm != PM_NONE && is_run) {
            size_t sat = at;
            const char *sub = subcommand(cmd, at, &sat);
            if (is_index_update(pm, sub)) {
                ri->update = true;
                if (!ri->update_line)
                    ri->update_line = line;
            }
            if (is_upgrade(pm, sub, cmd, sat))
                add(c, R_UPGRADE, line, "%s", ev);
            if (is_install(pm, sub)) {
                ri->install_any = true;
                if (pm == PM_APT) {
                    ri->install_apt = true;
                    if (!ri->apt_line)
                        ri->apt_line = line;
                    if (final && !has_arg(cmd, at + 1, "--no-install-recommends") &&
                        !has_arg_prefix(cmd, at + 1, "APT::Install-Recommends=false") &&
                        !has_arg_prefix(cmd, at + 1, "APT::Install-Recommends=0"))
                        add(c, R_NO_RECOMMENDS, line, "%s", ev);
                }
                if (pm == PM_APK && !has_arg(cmd, at + 1, "--no-cache")) {
                    ri->apk_add_cache = true;
                    if (!ri->apk_line)
                        ri->apk_line = line;
                }
                for (size_t i = sat + 1; i < cmd->argc; i++) {
                    const char *a = cmd->argv[i];
                    if (a[0] == '-')
                        continue;
                    if (pkg_is(a, "sudo"))
                        add(c, R_SUDO_PKG, line, "%s", ev);
                    for (size_t j = 0; j < ARRAY_SIZE(ssh_pkgs) && final; j++)
                        if (pkg_is(a, ssh_pkgs[j]))
                            add(c, R_SSH_SERVER, line, "%s", ev);
                    for (size_t j = 0; j < ARRAY_SIZE(supervisor_pkgs) && final; j++)
                        if (pkg_is(a, supervisor_pkgs[j]))
                            add(c, R_SERVICES, line, "%s", ev);
                }
            }
        }
        if (!strcmp(name, "rm")) {
            for (size_t i = at + 1; i < cmd->argc; i++) {
                if (!strncmp(cmd->argv[i], "/var/lib/apt/lists", 18))
                    ri->rm_lists = true;
                if (!strncmp(cmd->argv[i], "/var/cache/apk", 14))
                    ri->rm_apk_cache = true;
            }
        }
        if (!is_run && final) {
            /* CMD / ENTRYPOINT starting daemons */
            if (!strcmp(name, "sshd") || !strcmp(name, "dropbear") ||
                (!strcmp(name, "service") && at + 1 < cmd->argc &&
                 (!strcmp(cmd->argv[at + 1], "ssh") || !strcmp(cmd->argv[at + 1], "sshd"))))
                add(c, R_SSH_SERVER, line, "%s", ev);
            if (in_list(name, supervisor_cmds, ARRAY_SIZE(supervisor_cmds)))
                add(c, R_SERVICES, line, "%s", ev);
            if (!strcmp(name, "service") || !strcmp(name, "rc-service") ||
                !strncmp(cmd->argv[at < cmd->argc ? at : 0], "/etc/init.d/", 12))
                services++;
        }
    }
    if (!is_run && final && services >= 1 && sh->n >= 2)
        add(c, R_SERVICES, in->line, "%d services started by %s", services + 1, in->keyword);
}

static void check_run_flags(struct dfctx *c, const struct cm_df_instr *in, struct runinfo *ri)
{
    const char *sec = cm_df_flag(in, "security");
    if (sec && !strcmp(sec, "insecure"))
        add(c, R_RUN_INSECURE, in->line, "RUN --security=insecure");
    for (size_t i = 0; i < in->n_flags; i++) {
        if (strcmp(in->flags[i].name, "mount") || !in->flags[i].value)
            continue;
        const char *v = in->flags[i].value;
        if (strstr(v, "type=cache") &&
            (strstr(v, "/var/lib/apt") || strstr(v, "/var/cache/apt") || strstr(v, "/var/cache/apk") ||
             strstr(v, "/etc/apk/cache")))
            ri->cache_mount = true;
    }
}

/* ---- FROM --------------------------------------------------------------- */

static bool registry_trusted(const char *registry)
{
    const char *env = getenv("CASEMATE_TRUSTED_REGISTRIES");
    if (!env || !*env)
        return true;
    size_t rl = strlen(registry);
    for (const char *p = env; *p;) {
        size_t l = strcspn(p, ", ");
        if (l == rl && !strncasecmp(p, registry, l))
            return true;
        p += l;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return false;
}

static void check_from(struct dfctx *c, const struct cm_df_instr *in, const struct cm_df_stage *st)
{
    const char *ref = st->base;
    if (st->parent >= 0 || !strcasecmp(ref, "scratch"))
        return;
    /* An unresolved variable leaves the reference incomplete: say nothing. */
    if (!*ref || ref[strlen(ref) - 1] == ':' || ref[0] == ':' || ref[0] == '/' ||
        strstr(ref, "//"))
        return;
    char ev[240];
    shown(in, ev, sizeof(ev));
    const char *at = strchr(ref, '@');
    const char *slash = strrchr(ref, '/');
    const char *colon = strrchr(slash ? slash : ref, ':');
    if (at && (!colon || colon > at))
        colon = NULL;
    /* registry: first component with a dot or a port, or localhost */
    const char *first_end = strchr(ref, '/');
    char registry[256] = "docker.io";
    const char *repo = ref;
    if (first_end) {
        size_t fl = (size_t)(first_end - ref);
        if ((memchr(ref, '.', fl) || memchr(ref, ':', fl) || (fl == 9 && !strncmp(ref, "localhost", 9))) &&
            fl < sizeof(registry)) {
            memcpy(registry, ref, fl);
            registry[fl] = '\0';
            repo = first_end + 1;
        }
    }
    if (!strcmp(registry, "index.docker.io") || !strcmp(registry, "registry-1.docker.io"))
        strcpy(registry, "docker.io");
    if (!at) {
        if (!colon || !strncmp(colon, ":latest", 7))
            add(c, R_LATEST, in->line, "%s", ev);
        else
            add(c, R_NO_DIGEST, in->line, "%s", ev);
    }
    if (!registry_trusted(registry)) {
        add(c, R_UNTRUSTED_REGISTRY, in->line, "%s (registry %s)", ev, registry);
    } else if (!strcmp(registry, "docker.io")) {
        const char *rs = strchr(repo, '/');
        if (rs && strncmp(repo, "library/", 8))
            add(c, R_HUB_USER_IMAGE, in->line, "%s", ev);
    }
}

/* ---- the other instructions -------------------------------------------- */

static bool is_user_root(const char *u)
{
    size_t l = strcspn(u, ":");
    return (l == 4 && !strncasecmp(u, "root", 4)) || (l == 1 && u[0] == '0');
}

static bool is_archive(const char *s)
{
    static const char *const exts[] = {".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz",
                                       ".tar.xz", ".txz", ".tar.zst", ".tar.lz", ".tar.Z"};
    size_t l = strlen(s);
    for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
        size_t el = strlen(exts[i]);
        if (l > el && !strcasecmp(s + l - el, exts[i]))
            return true;
    }
    return false;
}

static bool is_url(const char *s)
{
    return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8) || !strncmp(s, "git@", 4) ||
           !strncmp(s, "git://", 6);
}

static void check_copy_add(struct dfctx *c, const struct cm_df_instr *in, bool final)
{
    bool add_i = strcmp(in->keyword, "ADD") == 0;
    char ev[240];
    shown(in, ev, sizeof(ev));
    bool world = false, setid = false;
    const char *mode = cm_df_flag(in, "chmod");
    if (mode && *mode)
        chmod_mode(mode, &world, &setid);
    if (world && final)
        add(c, R_CHMOD_WORLD, in->line, "%s", ev);
    if (setid && final)
        add(c, R_CHMOD_SETUID, in->line, "%s", ev);
    if (in->n_args < 2)
        return; /* COPY <<EOF /dest: content written inline */
    bool local_reported = false;
    for (size_t i = 0; i + 1 < in->n_args; i++) {
        const char *src = in->args[i];
        if (!strncmp(src, "<<", 2))
            continue;
        if (add_i && is_url(src)) {
            if (!cm_df_flag(in, "checksum"))
                add(c, R_ADD_URL, in->line, "%s", ev);
        } else if (add_i && !is_archive(src) && !local_reported) {
            add(c, R_ADD_LOCAL, in->line, "%s", ev);
            local_reported = true;
        }
        const char *what = cm_secret_file_name(src);
        if (what && !is_url(src))
            add(c, R_SECRET_COPY, in->line, "%s (%s)", ev, what);
    }
}

static void check_kvs(struct dfctx *c, const struct cm_df_instr *in)
{
    bool is_env = strcmp(in->keyword, "ENV") == 0;
    bool is_arg = strcmp(in->keyword, "ARG") == 0;
    for (size_t i = 0; i < in->n_kvs; i++) {
        const struct cm_df_kv *kv = &in->kvs[i];
        if (!cm_secret_var_name(kv->key))
            continue;
        if (is_env && kv->value && *kv->value)
            add(c, R_SECRET_ENV, in->line, "ENV %s=****", kv->key);
        else if (is_arg)
            add(c, R_SECRET_ARG, in->line, "ARG %s%s", kv->key, kv->value && *kv->value ? "=****" : "");
    }
    if (is_env) {
        for (size_t i = 0; i < in->n_kvs; i++) {
            const struct cm_df_kv *kv = &in->kvs[i];
            const char *v = kv->value ? kv->value : "";
            if ((!strcmp(kv->key, "GIT_SSL_NO_VERIFY") && *v && strcmp(v, "0") && strcasecmp(v, "false")) ||
                (!strcmp(kv->key, "NODE_TLS_REJECT_UNAUTHORIZED") && !strcmp(v, "0")) ||
                (!strcmp(kv->key, "PYTHONHTTPSVERIFY") && !strcmp(v, "0")) ||
                (!strcmp(kv->key, "PIP_TRUSTED_HOST") && *v) ||
                (!strcmp(kv->key, "CURL_CA_BUNDLE") && !*v && kv->value))
                add(c, R_INSECURE_DOWNLOAD, in->line, "ENV %s=%s", kv->key, v);
        }
    }
}

static void check_secret_values(struct dfctx *c, const struct cm_df_instr *in)
{
    size_t off = 0, ml = 0;
    const char *what = cm_secret_scan(in->raw, strlen(in->raw), &off, &ml);
    if (what) {
        add(c, R_SECRET_VALUE, in->line, "%s in %s instruction", what, in->keyword);
        return;
    }
    for (size_t h = 0; h < in->n_heredocs; h++) {
        const char *b = in->heredocs[h].body;
        what = cm_secret_scan(b, strlen(b), &off, &ml);
        if (what) {
            int line = in->line + 1;
            for (size_t i = 0; i < off; i++)
                line += b[i] == '\n';
            add(c, R_SECRET_VALUE, line, "%s in heredoc of %s", what, in->keyword);
            return;
        }
    }
}

static bool is_system_dir(const char *p)
{
    static const char *const dirs[] = {"/", "/bin", "/sbin", "/usr", "/usr/bin", "/usr/sbin",
                                       "/usr/lib", "/usr/local/bin", "/lib", "/lib64", "/etc",
                                       "/boot", "/dev", "/proc", "/sys", "/var", "/run", "/var/run"};
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", p);
    size_t l = strlen(buf);
    while (l > 1 && buf[l - 1] == '/')
        buf[--l] = '\0';
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
        if (!strcmp(buf, dirs[i]))
            return true;
    return false;
}

static bool is_sensitive_volume(const char *p)
{
    static const char *const pfx[] = {"/dev", "/proc", "/sys", "/etc", "/boot",
                                      "/var/run/docker.sock", "/run/docker.sock",
                                      "/var/lib/docker"};
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", p);
    size_t l = strlen(buf);
    while (l > 1 && buf[l - 1] == '/')
        buf[--l] = '\0';
    if (!strcmp(buf, "/"))
        return true;
    for (size_t i = 0; i < ARRAY_SIZE(pfx); i++) {
        size_t pl = strlen(pfx[i]);
        if (!strncmp(buf, pfx[i], pl) && (buf[pl] == '\0' || buf[pl] == '/'))
            return true;
    }
    return false;
}

static bool exposes_22(const char *a)
{
    /* "22", "22/tcp", "20-25", "2222:22" is not EXPOSE syntax but be kind */
    char *end = NULL;
    long lo = strtol(a, &end, 10);
    if (end == a)
        return false;
    long hi = lo;
    if (*end == '-') {
        const char *s = end + 1;
        hi = strtol(s, &end, 10);
        if (end == s)
            hi = lo;
    }
    return lo <= 22 && 22 <= hi;
}

int cm_audit_dockerfile(const char *text, size_t len, const char *path, struct cm_report *r,
                        struct cm_error *err)
{
    struct cm_dockerfile df = {0};
    if (cm_df_parse(text, len, path, &df, err) < 0)
        return -1;
    struct dfctx c = {.df = &df, .path = path ? path : "Dockerfile", .r = r};
    int ret = -1;
    c.in_final = calloc(df.n_stages, sizeof(bool));
    if (!c.in_final) {
        cm_err_set(err, ENOMEM, "auditing %s", c.path);
        goto out;
    }
    for (int s = (int)df.n_stages - 1; s >= 0 && !c.in_final[s]; s = df.stages[s].parent)
        c.in_final[s] = true;

    const struct cm_df_instr *shell = NULL;
    int cur_stage = -2;
    for (size_t i = 0; i < df.n; i++) {
        const struct cm_df_instr *in = &df.instrs[i];
        if (in->stage != cur_stage) {
            cur_stage = in->stage;
            shell = NULL;
        }
        bool final = in->stage >= 0 && c.in_final[in->stage];
        const char *kw = in->keyword;
        char ev[240];
        shown(in, ev, sizeof(ev));
        check_secret_values(&c, in);
        const struct cm_df_instr *run = in;
        if (!strcmp(kw, "ONBUILD") && in->onbuild)
            run = in->onbuild;
        if (!strcmp(kw, "FROM")) {
            check_from(&c, in, &df.stages[in->stage]);
        } else if (!strcmp(run->keyword, "RUN")) {
            struct runinfo ri = {0};
            check_run_flags(&c, run, &ri);
            check_script(&c, run, final, true, shell, &ri);
            if (strstr(run->raw, "<(curl") || strstr(run->raw, "<(wget"))
                add(&c, R_CURL_PIPE, run->line, "%s", ev);
            if (ri.update && !ri.install_any)
                add(&c, R_UPDATE_ALONE, ri.update_line ? ri.update_line : in->line, "%s", ev);
            if (final && ri.install_apt && !ri.rm_lists && !ri.cache_mount)
                add(&c, R_APT_LISTS, ri.apt_line, "%s", ev);
            if (final && ri.apk_add_cache && !ri.rm_apk_cache && !ri.cache_mount)
                add(&c, R_APK_CACHE, ri.apk_line, "%s", ev);
        } else if (!strcmp(kw, "CMD") || !strcmp(kw, "ENTRYPOINT")) {
            struct runinfo ri = {0};
            if (in->json && in->n_args) {
                /* exec form: one command */
                struct cm_sh_cmd cmd = {.argv = in->args, .argc = in->n_args, .line = in->line};
                struct cm_df_instr tmp = *in;
                tmp.sh.cmds = &cmd;
                tmp.sh.n = 1;
                check_script(&c, &tmp, final, false, shell, &ri);
            } else {
                check_script(&c, in, final, false, shell, &ri);
            }
        } else if (!strcmp(run->keyword, "COPY") || !strcmp(run->keyword, "ADD")) {
            check_copy_add(&c, run, final);
        } else if (!strcmp(run->keyword, "ENV") || !strcmp(run->keyword, "ARG")) {
            check_kvs(&c, run);
        } else if (!strcmp(kw, "SHELL")) {
            shell = in;
        } else if (!strcmp(kw, "EXPOSE") && final) {
            for (size_t a = 0; a < in->n_args; a++)
                if (exposes_22(in->args[a])) {
                    add(&c, R_EXPOSE_22, in->line, "%s", ev);
                    break;
                }
        } else if (!strcmp(kw, "WORKDIR")) {
            if (in->n_args && in->args[0][0] == '/' && is_system_dir(in->args[0]))
                add(&c, R_WORKDIR_SYSTEM, in->line, "%s", ev);
        } else if (!strcmp(kw, "VOLUME")) {
            for (size_t a = 0; a < in->n_args; a++)
                if (is_sensitive_volume(in->args[a])) {
                    add(&c, R_VOLUME_SENSITIVE, in->line, "%s", ev);
                    break;
                }
        }
    }

    /* The final stage: who it runs as, and whether it has a health check. */
    const struct cm_df_instr *user = NULL;
    bool healthcheck = false;
    for (int s = (int)df.n_stages - 1; s >= 0; s = df.stages[s].parent) {
        const struct cm_df_stage *st = &df.stages[s];
        for (size_t i = st->end; i-- > st->first;) {
            const struct cm_df_instr *in = &df.instrs[i];
            /* USER $UNSET is an unknown user, not a missing one */
            if (!user && !strcmp(in->keyword, "USER"))
                user = in;
            if (!strcmp(in->keyword, "HEALTHCHECK"))
                healthcheck = true;
        }
    }
    const struct cm_df_stage *last = &df.stages[df.n_stages - 1];
    if (!user) {
        add(&c, R_NO_USER, last->line, "final stage FROM %s has no USER", last->base);
    } else if (user->n_args && is_user_root(user->args[0])) {
        char ev[240];
        shown(user, ev, sizeof(ev));
        add(&c, R_USER_ROOT, user->line, "%s", ev);
    }
    if (!healthcheck)
        add(&c, R_NO_HEALTHCHECK, last->line, "final stage FROM %s has no HEALTHCHECK", last->base);

    if (c.oom) {
        cm_err_set(err, ENOMEM, "auditing %s", c.path);
        goto out;
    }
    ret = 0;
out:
    free(c.in_final);
    cm_df_free(&df);
    return ret;
}
