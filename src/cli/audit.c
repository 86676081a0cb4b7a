/* audit.c: `casemate audit dockerfile|image|config|host|rules`.
 *
 * Thin: parse the options, run one audit into a cm_report, write it in the
 * asked format, exit 0 / 1 (a finding at or above --fail-on) / 125 (the
 * audit itself could not run). Exit statuses are the contract's
 * (../shared/audit-contract.md). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/report.h"
#include "audit/rules.h"
#include "audit/rules_registry.h"
#include "cli/commands.h"
#include "container/state.h"
#include "spec/docker_inspect.h"
#include "spec/oci.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"

#define AUDIT_MAX_INPUT (64u * 1024 * 1024)

enum { OPT_FORMAT, OPT_FAIL_ON, OPT_DOCKER_SOCKET, OPT_CONTAINER };

struct audit_opts {
    const char *sub;
    enum cm_report_format format;
    enum cm_severity fail_on;
    const char *docker_socket;
    const char *container;
    bool rules_json;
};

static const struct cm_option report_opts[] = {
    {"format", 0, CM_OPT_REQUIRED, "text|json|sarif", "Output format (default text)", OPT_FORMAT},
    {"fail-on", 0, CM_OPT_REQUIRED, "SEVERITY",
     "Exit 1 when a finding is at or above SEVERITY: critical, high (default), medium, low, info",
     OPT_FAIL_ON},
};

static const struct cm_option host_opts[] = {
    {"format", 0, CM_OPT_REQUIRED, "text|json|sarif", "Output format (default text)", OPT_FORMAT},
    {"fail-on", 0, CM_OPT_REQUIRED, "SEVERITY",
     "Exit 1 when a finding is at or above SEVERITY: critical, high (default), medium, low, info",
     OPT_FAIL_ON},
    {"docker-socket", 0, CM_OPT_REQUIRED, "PATH",
     "Docker Engine API socket (default: DOCKER_HOST if unix://, else /var/run/docker.sock)", OPT_DOCKER_SOCKET},
};

static const struct cm_option config_opts[] = {
    {"format", 0, CM_OPT_REQUIRED, "text|json|sarif", "Output format (default text)", OPT_FORMAT},
    {"fail-on", 0, CM_OPT_REQUIRED, "SEVERITY",
     "Exit 1 when a finding is at or above SEVERITY: critical, high (default), medium, low, info",
     OPT_FAIL_ON},
    {"container", 0, CM_OPT_REQUIRED, "NAME",
     "Audit a casemate container: its OCI config.json, or its `casemate run` flags", OPT_CONTAINER},
};

static const struct cm_option rules_opts[] = {
    {"format", 0, CM_OPT_REQUIRED, "markdown|json", "Output format (default markdown)",
     OPT_FORMAT},
};

struct subcommand {
    const char *name;
    const char *usage;
    const char *summary;
    const struct cm_option *opts;
    size_t n_opts;
    size_t min_args, max_args; /* positional arguments; 0 max = unlimited */
};

static const struct subcommand subs[] = {
    {"dockerfile", "[OPTIONS] PATH...",
     "Lint Dockerfiles: secrets, USER, pinned bases, ADD, HEALTHCHECK, sudo, curl|sh, ... "
     "('-' reads standard input)",
     report_opts, ARRAY_SIZE(report_opts), 1, 0},
    {"image", "[OPTIONS] ROOTFS|TAR|OCI-LAYOUT",
     "Audit what an image ships: setuid files, secrets, passwd/shadow, shells, package "
     "managers, its config",
     report_opts, ARRAY_SIZE(report_opts), 1, 1},
    {"config", "[OPTIONS] FILE|--container NAME",
     "Audit a container configuration: an OCI config.json or a `docker inspect` document "
     "(one container or an array) ('-' reads standard input)",
     config_opts, ARRAY_SIZE(config_opts), 0, 1},
    {"host", "[OPTIONS]",
     "Audit this machine: kernel hardening, the Docker daemon and its files, runtime "
     "versions against known escapes, and every running container",
     host_opts, ARRAY_SIZE(host_opts), 0, 0},
    {"rules", "[OPTIONS]", "List every audit rule: id, topic, severity, why, how to fix",
     rules_opts, ARRAY_SIZE(rules_opts), 0, 0},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: casemate audit COMMAND [OPTIONS] [ARGS]\n\n"
                 "Audit Dockerfiles, images, container configs and the Docker host.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
        fprintf(out, "  %-12s %s\n", subs[i].name, subs[i].summary);
    fprintf(out, "\nExit status: 0 no finding at or above --fail-on, 1 findings at or above "
                 "it,\n125 the audit could not run. 'casemate audit COMMAND --help' for "
                 "options.\n");
}

static int on_option(int id, const char *arg, void *ctx)
{
    struct audit_opts *o = ctx;
    switch (id) {
    case OPT_FORMAT:
        if (strcmp(o->sub, "rules") == 0) {
            if (strcmp(arg, "json") == 0)
                o->rules_json = true;
            else if (strcmp(arg, "markdown") != 0 && strcmp(arg, "text") != 0)
                return cm_fail("audit rules: --format must be markdown or json, not \"%s\"", arg),
                       -1;
            return 0;
        } else {
            int f = cm_report_format_from_name(arg);
            if (f < 0)
                return cm_fail("audit %s: --format must be text, json or sarif, not \"%s\"",
                               o->sub, arg),
                       -1;
            o->format = (enum cm_report_format)f;
        }
        return 0;
    case OPT_FAIL_ON: {
        int s = cm_severity_from_name(arg);
        if (s < 0)
            return cm_fail("audit %s: --fail-on must be critical, high, medium, low or info, "
                           "not \"%s\"", o->sub, arg),
                   -1;
        o->fail_on = (enum cm_severity)s;
        return 0;
    }
    case OPT_DOCKER_SOCKET:
        o->docker_socket = arg;
        return 0;
    case OPT_CONTAINER:
        o->container = arg;
        return 0;
    }
    return -1;
}

/* Options may come before, between or after the positional arguments:
 * cm_opts_parse stops at the first positional, so parse again from there. */
static int parse_args(const struct subcommand *sc, int argc, char **argv, struct audit_opts *o,
                      char ***positional)
{
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "audit %s", sc->name);
    int base = 0;
    while (base < argc) {
        int idx = cm_opts_parse(sc->opts, sc->n_opts, argc - base, argv + base, cmd, sc->usage,
                                sc->summary, on_option, o);
        if (idx == -2)
            return -2;
        if (idx < 0)
            return -1;
        int at = base + idx;
        if (at >= argc)
            break;
        if (strcmp(argv[at], "--") == 0) {
            for (int k = at + 1; k < argc; k++)
                if (cm_strv_append(positional, argv[k]) < 0)
                    return cm_fail("audit: out of memory"), -1;
            break;
        }
        if (cm_strv_append(positional, argv[at]) < 0)
            return cm_fail("audit: out of memory"), -1;
        base = at; /* argv[at] plays argv[0] for the next round */
    }
    size_t n = cm_strv_len(*positional);
    if (n < sc->min_args || (sc->max_args && n > sc->max_args) ||
        (sc->min_args == 0 && sc->max_args == 0 && n > 0)) {
        if (n > 0 && sc->max_args == 0 && sc->min_args == 0)
            cm_fail("%s: unexpected argument \"%s\" (see 'casemate %s --help')", cmd,
                    (*positional)[0], cmd);
        else
            cm_fail("%s: expected %s (see 'casemate %s --help')", cmd, sc->usage, cmd);
        return -1;
    }
    return 0;
}

/* The whole file (or standard input for "-"), NUL-terminated. */
static char *read_input(const char *path, size_t *len, struct cm_error *err)
{
    _cleanup_close_ int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO)
                                                    : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return cm_err_sys(err, "cannot open %s", path), NULL;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return cm_err_sys(err, "cannot read %s", path), NULL;
    if (S_ISDIR(st.st_mode))
        return cm_err_set(err, EISDIR, "cannot read %s", path), NULL;
    size_t cap = 65536, n = 0;
    _cleanup_free_ char *buf = malloc(cap);
    if (!buf)
        return cm_err_set(err, ENOMEM, "reading %s", path), NULL;
    for (;;) {
        if (n + 1 >= cap) {
            if (cap >= AUDIT_MAX_INPUT)
                return cm_err_set(err, EFBIG, "reading %s", path), NULL;
            char *grown = realloc(buf, cap * 2);
            if (!grown)
                return cm_err_set(err, ENOMEM, "reading %s", path), NULL;
            buf = grown;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return cm_err_sys(err, "cannot read %s", path), NULL;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *len = n;
    return TAKE_PTR(buf);
}

static const char *display_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

static int audit_dockerfiles(char **paths, struct cm_report *r, struct cm_error *err)
{
    for (char **p = paths; *p; p++) {
        size_t len = 0;
        _cleanup_free_ char *text = read_input(*p, &len, err);
        if (!text)
            return -1;
        const char *name = display_name(*p);
        if (cm_audit_dockerfile(text, len, name, r, err) < 0) {
            if (!strstr(err->msg, name))
                cm_err_prefix(err, "%s", name);
            return -1;
        }
    }
    return 0;
}

/* "web (image nginx:1.27, sha256:0123456789ab)" */
static char *container_subject(const struct cm_docker_container *c, size_t index)
{
    char *s = NULL;
    const char *iid = c->image_id ? c->image_id : "";
    if (strncmp(iid, "sha256:", 7) == 0)
        iid += 7;
    char name_buf[32];
    const char *name = c->name;
    if (!name) {
        snprintf(name_buf, sizeof(name_buf), "container %zu", index);
        name = name_buf;
    }
    int n;
    if (c->image || *iid)
        n = asprintf(&s, "%s (image %s%s%.12s)", name, c->image ? c->image : "",
                     c->image && *iid ? ", " : "", iid);
    else
        n = asprintf(&s, "%s", name);
    return n < 0 ? NULL : s;
}

static int audit_config_file(const char *path, struct cm_report *r, struct cm_error *err)
{
    size_t len = 0;
    _cleanup_free_ char *text = read_input(path, &len, err);
    if (!text)
        return -1;
    const char *name = display_name(path);
    json_error_t jerr;
    json_auto_t *root = json_loadb(text, len, 0, &jerr);
    if (!root)
        return cm_err_set(err, 0, "%s: invalid JSON at line %d, column %d: %s", name, jerr.line,
                          jerr.column, jerr.text);
    if (json_is_object(root) && json_object_get(root, "ociVersion")) {
        struct cm_spec spec;
        memset(&spec, 0, sizeof(spec));
        int rc = cm_oci_spec_parse(text, len, NULL, &spec, err);
        if (rc == 0 && cm_audit_config_spec(&spec, name, NULL, r) < 0)
            rc = cm_err_set(err, ENOMEM, "auditing %s", name);
        else if (rc < 0)
            cm_err_prefix(err, "%s", name);
        cm_spec_free(&spec);
        return rc;
    }
    if (!cm_docker_inspect_detect(root))
        return cm_err_set(err, 0, "%s: neither an OCI config.json (no \"ociVersion\") nor a "
                                  "`docker inspect` document (no \"HostConfig\" or \"Config\")",
                          name);
    struct cm_docker_container *cs = NULL;
    size_t n = 0;
    if (cm_docker_inspect_parse(text, len, NULL, &cs, &n, err) < 0)
        return cm_err_prefix(err, "%s", name);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        _cleanup_free_ char *subject = container_subject(&cs[i], i);
        if (!subject || cm_audit_config_spec(&cs[i].spec, name, subject, r) < 0)
            rc = cm_err_set(err, ENOMEM, "auditing %s", name);
    }
    cm_docker_containers_free(cs, n);
    return rc;
}

/* A casemate container: the config.json of the bundle it was created from. */
static int audit_container(const char *name, struct cm_report *r, struct cm_error *err)
{
    const char *root = cm_globals.root ? cm_globals.root : CM_DEFAULT_STATE_ROOT;
    struct cm_state st;
    memset(&st, 0, sizeof(st));
    if (cm_state_validate_id(name, err) < 0 || cm_state_load(root, name, &st, err) < 0)
        return -1; /* the state module names the container */
    int rc = 0;
    if (!st.bundle || !*st.bundle) {
        /* Started by `casemate run`: its spec is its recorded command line,
         * parsed again exactly as `exec` does. */
        size_t n = cm_strv_len(st.argv);
        char **args = n ? calloc(n + 1, sizeof(char *)) : NULL;
        if (!args) {
            rc = cm_err_set(err, 0, "container %s has no recorded configuration to audit", name);
        } else {
            memcpy(args, st.argv, n * sizeof(char *));
            struct cm_spec spec;
            bool detach = false;
            if (cm_run_parse((int)n, args, &spec, &detach, true) != 0)
                rc = cm_err_set(err, 0, "container %s: its recorded command line no longer parses", name);
            else
                rc = cm_audit_config_spec(&spec, "casemate run", name, r) < 0 ? -1 : 0;
            cm_spec_free(&spec);
            free(args);
        }
    } else {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/config.json", st.bundle) < 0) {
            path = NULL;
            rc = cm_err_set(err, ENOMEM, "container %s", name);
        } else {
            rc = audit_config_file(path, r, err);
        }
    }
    cm_state_free(&st);
    return rc;
}

static int print_rules(bool as_json)
{
    if (as_json) {
        json_auto_t *doc = cm_rules_json();
        if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
            return cm_fail("audit rules: cannot write the rule list");
        putchar('\n');
    } else {
        _cleanup_free_ char *md = cm_rules_markdown();
        if (!md || fputs(md, stdout) == EOF)
            return cm_fail("audit rules: cannot write the rule list");
    }
    return fflush(stdout) == 0 ? 0 : cm_fail("audit rules: writing: %s", strerror(errno));
}

int cmd_audit(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CM_EXIT_FAILURE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    const struct subcommand *sc = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            sc = &subs[i];
    if (!sc)
        return cm_fail("audit: unknown command \"%s\" (see 'casemate audit --help')", argv[1]);

    struct audit_opts o = {.sub = sc->name, .format = CM_FORMAT_TEXT, .fail_on = CM_SEV_HIGH};
    _cleanup_strv_ char **args = NULL;
    int prc = parse_args(sc, argc - 1, argv + 1, &o, &args);
    if (prc == -2)
        return 0;
    if (prc < 0)
        return CM_EXIT_FAILURE;
    if (strcmp(sc->name, "rules") == 0)
        return print_rules(o.rules_json);
    if (strcmp(sc->name, "config") == 0 && (cm_strv_len(args) == 1) == (o.container != NULL))
        return cm_fail("audit config: give either FILE or --container NAME (see 'casemate "
                       "audit config --help')");

    struct cm_report r = {.kind = sc->name};
    struct cm_error err = {0};
    int rc = 0;
    if (strcmp(sc->name, "dockerfile") == 0)
        rc = audit_dockerfiles(args, &r, &err);
    else if (strcmp(sc->name, "image") == 0)
        rc = cm_audit_image(args[0], &r, &err);
    else if (strcmp(sc->name, "config") == 0 && o.container)
        rc = audit_container(o.container, &r, &err);
    else if (strcmp(sc->name, "config") == 0)
        rc = audit_config_file(args[0], &r, &err);
    else
        rc = cm_audit_host(o.docker_socket, &r, &err);
    if (rc < 0) {
        cm_report_free(&r);
        fprintf(stderr, "casemate: audit %s: %s\n", sc->name, err.msg[0] ? err.msg : "failed");
        return CM_EXIT_FAILURE;
    }
    if (cm_report_write(&r, o.format, stdout, &err) < 0 || fflush(stdout) != 0) {
        cm_report_free(&r);
        return cm_fail("audit %s: %s", sc->name, err.msg[0] ? err.msg : "writing the report");
    }
    int status = cm_report_exit_status(&r, o.fail_on);
    cm_report_free(&r);
    return status;
}
