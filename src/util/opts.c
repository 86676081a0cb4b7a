/* opts.c: see opts.h. */
#include "util/opts.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"

void cm_opts_help(FILE *out, const char *cmd, const char *usage, const char *summary,
                  const struct cm_option *opts, size_t n_opts)
{
    fprintf(out, "Usage: casemate %s %s\n\n%s\n\nOptions:\n", cmd, usage, summary);
    for (size_t i = 0; i < n_opts; i++) {
        const struct cm_option *o = &opts[i];
        char left[64];
        int n = 0;
        if (o->short_name)
            n = snprintf(left, sizeof(left), "-%c, --%s", o->short_name, o->long_name);
        else
            n = snprintf(left, sizeof(left), "    --%s", o->long_name);
        if (o->arg == CM_OPT_REQUIRED && n > 0 && (size_t)n < sizeof(left))
            snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->metavar ? o->metavar : "VALUE");
        else if (o->arg == CM_OPT_OPTIONAL && n > 0 && (size_t)n < sizeof(left))
            snprintf(left + n, sizeof(left) - (size_t)n, "[=%s]", o->metavar ? o->metavar : "true|false");
        fprintf(out, "  %-32s %s\n", left, o->help);
    }
    fprintf(out, "  %-32s %s\n", "-h, --help", "Show this help");
}

int cm_opt_bool(const char *arg)
{
    if (!arg || !strcmp(arg, "true") || !strcmp(arg, "1") || !strcmp(arg, "yes"))
        return 1;
    if (!strcmp(arg, "false") || !strcmp(arg, "0") || !strcmp(arg, "no"))
        return 0;
    return -1;
}

int cm_opts_parse(const struct cm_option *opts, size_t n_opts, int argc, char **argv,
                  const char *cmd, const char *usage, const char *summary,
                  cm_opt_handler handler, void *ctx)
{
    _cleanup_free_ struct option *longs = calloc(n_opts + 2, sizeof(struct option));
    _cleanup_free_ char *shorts = calloc(n_opts * 3 + 4, 1);
    if (!longs || !shorts)
        return cm_fail("%s: out of memory", cmd), -1;
    size_t s = 0;
    shorts[s++] = '+'; /* stop at the first positional: the rest is the command */
    shorts[s++] = ':';
    for (size_t i = 0; i < n_opts; i++) {
        longs[i].name = opts[i].long_name;
        longs[i].has_arg = opts[i].arg == CM_OPT_NONE       ? no_argument
                           : opts[i].arg == CM_OPT_REQUIRED ? required_argument
                                                            : optional_argument;
        longs[i].flag = NULL;
        longs[i].val = 1000 + (int)i;
        if (opts[i].short_name) {
            shorts[s++] = (char)opts[i].short_name;
            if (opts[i].arg == CM_OPT_REQUIRED)
                shorts[s++] = ':';
        }
    }
    longs[n_opts].name = "help";
    longs[n_opts].has_arg = no_argument;
    longs[n_opts].val = 'h';
    shorts[s++] = 'h';

    optind = 0; /* full reset of getopt's state */
    opterr = 0;
    for (;;) {
        int longidx = -1;
        int c = getopt_long(argc, argv, shorts, longs, &longidx);
        if (c == -1)
            break;
        if (c == 'h') {
            cm_opts_help(stdout, cmd, usage, summary, opts, n_opts);
            return -2;
        }
        if (c == '?') {
            if (optopt)
                cm_fail("%s: unknown option '-%c' (see 'casemate %s --help')", cmd, optopt, cmd);
            else
                cm_fail("%s: unknown option '%s' (see 'casemate %s --help')", cmd,
                        argv[optind - 1], cmd);
            return -1;
        }
        if (c == ':') {
            cm_fail("%s: option '%s' needs a value (see 'casemate %s --help')", cmd,
                    argv[optind - 1], cmd);
            return -1;
        }
        size_t idx = 0;
        if (c >= 1000) {
            idx = (size_t)(c - 1000);
        } else {
            for (idx = 0; idx < n_opts; idx++)
                if (opts[idx].short_name == c)
                    break;
            if (idx == n_opts)
                return cm_fail("%s: unknown option '-%c'", cmd, c), -1;
        }
        if (handler(opts[idx].id, optarg, ctx) < 0)
            return -1;
    }
    return optind;
}

static void roff_escaped(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '-' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
}

void cm_opts_man(FILE *out, const struct cm_option *opts, size_t n_opts)
{
    for (size_t i = 0; i < n_opts; i++) {
        const struct cm_option *o = &opts[i];
        fputs(".TP\n", out);
        if (o->short_name)
            fprintf(out, "\\fB\\-%c\\fR, ", o->short_name);
        fputs("\\fB\\-\\-", out);
        roff_escaped(out, o->long_name);
        fputs("\\fR", out);
        if (o->arg == CM_OPT_REQUIRED) {
            fputs(" \\fI", out);
            roff_escaped(out, o->metavar ? o->metavar : "VALUE");
            fputs("\\fR", out);
        } else if (o->arg == CM_OPT_OPTIONAL) {
            fputs("[=\\fI", out);
            roff_escaped(out, o->metavar ? o->metavar : "true|false");
            fputs("\\fR]", out);
        }
        fputc('\n', out);
        roff_escaped(out, o->help);
        fputs(".\n", out);
    }
}

int cm_opts_parse_id(const struct cm_option *opts, size_t n_opts, int argc, char **argv,
                     const char *cmd, const char *summary, cm_opt_handler handler, void *ctx,
                     const char **id)
{
    char usage[64];
    snprintf(usage, sizeof(usage), "%sID", n_opts ? "[OPTIONS] " : "");
    int first = cm_opts_parse(opts, n_opts, argc, argv, cmd, usage, summary, handler, ctx);
    if (first == -2)
        return 0;
    if (first < 0)
        return -1;
    if (argc - first != 1) {
        cm_fail("%s: expected one container ID (usage: casemate %s %s)", cmd, cmd, usage);
        return -1;
    }
    *id = argv[first];
    return 1;
}
