/* opts.h: option tables that drive both the parser and --help, so the help
 * text can never drift from what is accepted. */
#ifndef CASEMATE_UTIL_OPTS_H
#define CASEMATE_UTIL_OPTS_H

#include <stdio.h>

enum cm_opt_arg { CM_OPT_NONE, CM_OPT_REQUIRED, CM_OPT_OPTIONAL };

struct cm_option {
    const char *long_name; /* without "--" */
    int short_name;        /* 0 for none */
    enum cm_opt_arg arg;
    const char *metavar;   /* "PATH", shown in --help */
    const char *help;      /* one line */
    int id;                /* passed to the handler */
};

/* Called for each option; return <0 to stop parsing with exit 125 (the
 * handler prints its own message). */
typedef int (*cm_opt_handler)(int id, const char *arg, void *ctx);

/* Parse options from argv[1..] up to the first positional argument (options
 * after it belong to the container command). `--help`/`-h` print the help
 * and return -2. Returns the index of the first positional argument, or -1
 * after printing "casemate: <cmd>: ..." for a bad option. */
int cm_opts_parse(const struct cm_option *opts, size_t n_opts, int argc, char **argv,
                  const char *cmd, const char *usage, const char *summary,
                  cm_opt_handler handler, void *ctx);

/* cm_opts_parse for commands that take exactly one ID after their options:
 * returns 1 with *id set, 0 after --help, -1 after a message (exit 125). */
int cm_opts_parse_id(const struct cm_option *opts, size_t n_opts, int argc, char **argv,
                     const char *cmd, const char *summary, cm_opt_handler handler, void *ctx,
                     const char **id);

void cm_opts_help(FILE *out, const char *cmd, const char *usage, const char *summary,
                  const struct cm_option *opts, size_t n_opts);

/* The same table as roff, for the man page's OPTIONS section. */
void cm_opts_man(FILE *out, const struct cm_option *opts, size_t n_opts);

/* "true"/"false"/"1"/"0"/NULL(=true) -> 1/0; -1 if neither. */
int cm_opt_bool(const char *arg);

#endif
