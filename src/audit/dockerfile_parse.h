/* dockerfile_parse.h: a Dockerfile parser for the auditor.
 *
 * Follows BuildKit's dockerfile/parser: parser directives (# escape=, # syntax=,
 * # check=), the escape character, line continuations with comments and blank
 * lines inside them, heredocs (<<EOF, <<-EOF, quoted delimiters, several per
 * instruction), exec (JSON) and shell forms, instruction flags, ARG/ENV
 * substitution with ARG-before-FROM scoping, and multi-stage builds. RUN in
 * shell form is also split into the simple commands of its && / || / ; / |
 * chain so that rules can look at each command's argv. */
#ifndef CASEMATE_AUDIT_DOCKERFILE_PARSE_H
#define CASEMATE_AUDIT_DOCKERFILE_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* How a simple command is joined to the one before it. */
enum cm_sh_op {
    CM_SH_FIRST, /* first command of the script */
    CM_SH_SEQ,   /* ; newline & ( ) */
    CM_SH_AND,   /* && */
    CM_SH_OR,    /* || */
    CM_SH_PIPE,  /* | */
};

struct cm_sh_cmd {
    char **argv;      /* NULL-terminated; quotes removed, leading VAR=x dropped */
    size_t argc;
    enum cm_sh_op op; /* how it follows the previous command */
    int line;         /* Dockerfile line the command starts on (0 if unknown) */
    size_t offset;    /* where it starts in the split text */
};

struct cm_sh_script {
    struct cm_sh_cmd *cmds;
    size_t n;
};

struct cm_df_flag {
    char *name;  /* without "--": "chown", "mount", "from" */
    char *value; /* NULL for a bare --link */
};

struct cm_df_heredoc {
    char *delim;
    char *body;
    bool strip_tabs; /* <<- */
    bool quoted;     /* <<"EOF": no expansion */
};

struct cm_df_kv {
    char *key;
    char *value; /* NULL for ARG without default */
};

struct cm_df_instr {
    char *keyword;     /* upper case: "RUN" */
    int line;          /* line of the keyword, 1-based */
    int end_line;      /* last line, continuations and heredocs included */
    int stage;         /* index into stages, -1 for ARG before the first FROM */
    char *raw;         /* arguments after the flags, continuations joined, unexpanded */
    char *expanded;    /* raw with ARG/ENV substituted where Docker does it */
    bool json;         /* exec form */
    char **args;       /* JSON elements, or words of `expanded` (quotes removed) */
    size_t n_args;
    struct cm_df_flag *flags;
    size_t n_flags;
    struct cm_df_heredoc *heredocs;
    size_t n_heredocs;
    struct cm_df_kv *kvs; /* ENV, ARG, LABEL pairs (expanded) */
    size_t n_kvs;
    struct cm_sh_script sh; /* RUN/CMD/ENTRYPOINT shell form, and RUN heredoc scripts */
    struct cm_df_instr *onbuild; /* the instruction ONBUILD wraps */
};

struct cm_df_stage {
    char *name;       /* AS name, lower case, or NULL */
    char *base;       /* image after substitution: "debian:12", "scratch", a stage name */
    int parent;       /* index of the stage it builds on, -1 for an image */
    int line;
    size_t first;     /* index of its FROM instruction */
    size_t end;       /* one past its last instruction */
};

struct cm_dockerfile {
    struct cm_df_instr *instrs;
    size_t n;
    struct cm_df_stage *stages;
    size_t n_stages;
    char escape;      /* '\\' or '`' */
    char *syntax;     /* # syntax= value or NULL */
    char *check;      /* # check= value or NULL */
};

/* Parse `text`. `path` names the file in error messages:
 * "Dockerfile:12: unknown instruction FOO". */
int cm_df_parse(const char *text, size_t len, const char *path, struct cm_dockerfile *df,
                struct cm_error *err);
void cm_df_free(struct cm_dockerfile *df);

/* Value of flag `name` of an instruction, "" for a bare flag, NULL if absent. */
const char *cm_df_flag(const struct cm_df_instr *in, const char *name);

/* Split shell text into simple commands. Never fails on odd syntax (unclosed
 * quotes end at the end of the text); -1 only on ENOMEM. `line` is the line
 * the text starts on; newlines advance it. Commands of `sh -c '...'` are
 * split too and appended. */
int cm_sh_split(const char *text, int line, struct cm_sh_script *out);
void cm_sh_script_free(struct cm_sh_script *s);

#endif
