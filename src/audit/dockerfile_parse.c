/* dockerfile_parse.c: the Dockerfile parser (see dockerfile_parse.h).
 *
 * Parsing is in two passes, as BuildKit does: first logical lines (parser
 * directives, continuations, comments, heredoc bodies), then each
 * instruction's arguments (flags, exec or shell form, substitution, key/value
 * pairs). The embedded shell splitter is deliberately tolerant: a linter must
 * see the commands of a broken script rather than give up on it. */
#include "audit/dockerfile_parse.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/cleanup.h"

/* ---- growable string ---------------------------------------------------- */

struct sbuf {
    char *s;
    size_t len, cap;
    bool oom;
};

static void sb_putn(struct sbuf *b, const char *p, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}
static void sb_putc(struct sbuf *b, char c) { sb_putn(b, &c, 1); }
static void sb_puts(struct sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }
/* Hand the string over ("" when empty); NULL only on ENOMEM. */
static char *sb_take(struct sbuf *b)
{
    if (!b->oom && !b->s)
        sb_putn(b, "", 0);
    if (b->oom) {
        free(b->s);
        b->s = NULL;
        return NULL;
    }
    char *s = b->s;
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}
static void sb_free(struct sbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

/* Append one element to a growable array; -1 on ENOMEM. */
static int grow(void **arr, size_t *n, size_t elsize)
{
    if ((*n & (*n - 1)) == 0) { /* n is 0 or a power of two: double */
        size_t cap = *n ? *n * 2 : 1;
        void *p = realloc(*arr, cap * elsize);
        if (!p)
            return -1;
        *arr = p;
    }
    memset((char *)*arr + *n * elsize, 0, elsize);
    (*n)++;
    return 0;
}

static int strv_push(char ***v, size_t *n, char *s)
{
    if (!s)
        return -1;
    /* keep room for the NULL terminator: grow twice as often is fine */
    char **p = realloc(*v, (*n + 2) * sizeof(char *));
    if (!p) {
        free(s);
        return -1;
    }
    *v = p;
    p[(*n)++] = s;
    p[*n] = NULL;
    return 0;
}

/* ---- the shell splitter ------------------------------------------------- */

struct shctx {
    const char *p, *end;
    int line;
    int depth;
    struct cm_sh_script *out;
    char **words;
    size_t n_words;
    int cmd_line;
    const char *text;  /* start of the script, for offsets */
    const char *wstart; /* where the current word starts */
    size_t cmd_off;
    enum cm_sh_op next_op;
    bool oom;
    char *heredocs[8]; /* delimiters of pending << redirections */
    size_t n_heredocs;
};

static const char *const sh_reserved[] = {"if", "then", "else", "elif", "do", "while", "until",
                                          "!", "{", "}", "fi", "done", "esac", "time"};

static bool is_reserved(const char *w)
{
    for (size_t i = 0; i < ARRAY_SIZE(sh_reserved); i++)
        if (strcmp(w, sh_reserved[i]) == 0)
            return true;
    return false;
}

static bool is_assignment(const char *w)
{
    if (!(isalpha((unsigned char)*w) || *w == '_'))
        return false;
    for (const char *q = w; *q; q++) {
        if (*q == '=')
            return true;
        if (!(isalnum((unsigned char)*q) || *q == '_'))
            return false;
    }
    return false;
}

static int sh_split_depth(const char *text, size_t len, int line, int depth,
                          struct cm_sh_script *out);

static bool is_shell_name(const char *a)
{
    const char *b = strrchr(a, '/');
    b = b ? b + 1 : a;
    return !strcmp(b, "sh") || !strcmp(b, "bash") || !strcmp(b, "ash") || !strcmp(b, "dash") ||
           !strcmp(b, "zsh");
}

static void sh_end_cmd(struct shctx *c, enum cm_sh_op op_after)
{
    size_t skip = 0;
    /* Leading VAR=value assignments and reserved words are not the command. */
    while (skip < c->n_words && (is_assignment(c->words[skip]) || is_reserved(c->words[skip])))
        skip++;
    if (skip < c->n_words && !c->oom) {
        if (grow((void **)&c->out->cmds, &c->out->n, sizeof(struct cm_sh_cmd)) < 0) {
            c->oom = true;
        } else {
            struct cm_sh_cmd *cmd = &c->out->cmds[c->out->n - 1];
            cmd->op = c->out->n == 1 ? CM_SH_FIRST : c->next_op;
            cmd->line = c->cmd_line;
            cmd->offset = c->cmd_off;
            for (size_t i = skip; i < c->n_words && !c->oom; i++) {
                char *w = TAKE_PTR(c->words[i]);
                if (strv_push(&cmd->argv, &cmd->argc, w) < 0)
                    c->oom = true;
            }
            if (!cmd->argv && !c->oom && strv_push(&cmd->argv, &cmd->argc, strdup("")) < 0)
                c->oom = true;
            /* sh -c 'script': the script's commands are commands too. */
            if (!c->oom && cmd->argc >= 3 && is_shell_name(cmd->argv[0]) && c->depth < 4) {
                for (size_t i = 1; i + 1 < cmd->argc; i++) {
                    const char *a = cmd->argv[i];
                    if (a[0] == '-' && a[1] != '-' && strchr(a, 'c')) {
                        const char *s = cmd->argv[i + 1];
                        int l = cmd->line;
                        size_t first = c->out->n, off = cmd->offset;
                        if (sh_split_depth(s, strlen(s), l, c->depth + 1, c->out) < 0)
                            c->oom = true;
                        /* offsets in the inner script mean nothing outside */
                        for (size_t k = first; k < c->out->n; k++)
                            c->out->cmds[k].offset = off;
                        break;
                    }
                }
            }
        }
    }
    for (size_t i = 0; i < c->n_words; i++)
        free(c->words[i]);
    c->n_words = 0;
    c->next_op = op_after;
}

static void sh_push_word(struct shctx *c, struct sbuf *w)
{
    char *s = sb_take(w);
    if (!s) {
        c->oom = true;
        return;
    }
    if (c->n_words == 0) {
        c->cmd_line = c->line;
        c->cmd_off = c->wstart ? (size_t)(c->wstart - c->text) : 0;
    }
    char **v = realloc(c->words, (c->n_words + 1) * sizeof(char *));
    if (!v) {
        free(s);
        c->oom = true;
        return;
    }
    c->words = v;
    c->words[c->n_words++] = s;
}

/* Copy a balanced $( ... ) / ${ ... } / ` ... ` into w, counting lines. */
static void sh_copy_balanced(struct shctx *c, struct sbuf *w, char open, char close)
{
    int depth = 0;
    while (c->p < c->end) {
        char ch = *c->p++;
        sb_putc(w, ch);
        if (ch == '\n')
            c->line++;
        if (ch == '\\' && c->p < c->end) {
            sb_putc(w, *c->p);
            if (*c->p == '\n')
                c->line++;
            c->p++;
            continue;
        }
        if (ch == '\'' && open != '`') {
            while (c->p < c->end && *c->p != '\'') {
                if (*c->p == '\n')
                    c->line++;
                sb_putc(w, *c->p++);
            }
            if (c->p < c->end)
                sb_putc(w, *c->p++);
            continue;
        }
        if (ch == open && open != close)
            depth++;
        else if (ch == close) {
            if (open == close || --depth <= 0)
                return;
        }
    }
}

/* Skip the bodies of pending <<DELIM redirections after a newline. */
static void sh_skip_heredocs(struct shctx *c)
{
    for (size_t h = 0; h < c->n_heredocs; h++) {
        const char *delim = c->heredocs[h];
        size_t dl = strlen(delim);
        while (c->p < c->end) {
            const char *eol = memchr(c->p, '\n', (size_t)(c->end - c->p));
            const char *ls = c->p;
            const char *le = eol ? eol : c->end;
            c->p = eol ? eol + 1 : c->end;
            c->line++;
            while (ls < le && *ls == '\t')
                ls++;
            if ((size_t)(le - ls) == dl && memcmp(ls, delim, dl) == 0)
                break;
        }
        free(c->heredocs[h]);
    }
    c->n_heredocs = 0;
}

static int sh_split_depth(const char *text, size_t len, int line, int depth,
                          struct cm_sh_script *out)
{
    struct shctx c = {.p = text, .end = text + len, .line = line, .depth = depth, .out = out,
                      .next_op = CM_SH_SEQ, .text = text};
    struct sbuf w = {0};
    bool in_word = false;
    bool redirect_target = false;
    bool heredoc_target = false;

#define START_WORD()                                                                           \
    do {                                                                                       \
        if (!in_word)                                                                          \
            c.wstart = c.p;                                                                    \
        in_word = true;                                                                        \
    } while (0)
#define END_WORD()                                                                             \
    do {                                                                                       \
        if (in_word) {                                                                         \
            if (heredoc_target) {                                                              \
                char *d_ = sb_take(&w);                                                        \
                if (!d_)                                                                       \
                    c.oom = true;                                                              \
                else if (c.n_heredocs < ARRAY_SIZE(c.heredocs))                                \
                    c.heredocs[c.n_heredocs++] = d_;                                           \
                else                                                                           \
                    free(d_);                                                                  \
            } else if (redirect_target) {                                                      \
                sb_free(&w);                                                                   \
            } else {                                                                           \
                sh_push_word(&c, &w);                                                          \
            }                                                                                  \
            w.len = 0;                                                                         \
            in_word = false;                                                                   \
            redirect_target = heredoc_target = false;                                          \
        }                                                                                      \
    } while (0)

    while (c.p < c.end && !c.oom) {
        char ch = *c.p;
        if (ch == '\\' && c.p + 1 < c.end) {
            if (c.p[1] == '\n') { /* continuation */
                c.p += 2;
                c.line++;
                continue;
            }
            sb_putc(&w, c.p[1]);
            START_WORD();
            c.p += 2;
            continue;
        }
        if (ch == '\'') {
            START_WORD();
            c.p++;
            while (c.p < c.end && *c.p != '\'') {
                if (*c.p == '\n')
                    c.line++;
                sb_putc(&w, *c.p++);
            }
            if (c.p < c.end)
                c.p++;
            continue;
        }
        if (ch == '"') {
            START_WORD();
            c.p++;
            while (c.p < c.end && *c.p != '"') {
                if (*c.p == '\\' && c.p + 1 < c.end && strchr("\\\"$`\n", c.p[1])) {
                    if (c.p[1] == '\n')
                        c.line++;
                    else
                        sb_putc(&w, c.p[1]);
                    c.p += 2;
                    continue;
                }
                if (*c.p == '$' && c.p + 1 < c.end && (c.p[1] == '(' || c.p[1] == '{')) {
                    char open = c.p[1];
                    sb_putc(&w, *c.p++);
                    sh_copy_balanced(&c, &w, open, open == '(' ? ')' : '}');
                    continue;
                }
                if (*c.p == '`') {
                    sb_putc(&w, *c.p++);
                    sh_copy_balanced(&c, &w, '`', '`');
                    continue;
                }
                if (*c.p == '\n')
                    c.line++;
                sb_putc(&w, *c.p++);
            }
            if (c.p < c.end)
                c.p++;
            continue;
        }
        if (ch == '$' && c.p + 1 < c.end && (c.p[1] == '(' || c.p[1] == '{')) {
            char open = c.p[1];
            START_WORD();
            sb_putc(&w, *c.p++);
            sh_copy_balanced(&c, &w, open, open == '(' ? ')' : '}');
            continue;
        }
        if (ch == '`') {
            START_WORD();
            sb_putc(&w, *c.p++);
            sh_copy_balanced(&c, &w, '`', '`');
            continue;
        }
        if (ch == '#' && !in_word) {
            while (c.p < c.end && *c.p != '\n')
                c.p++;
            continue;
        }
        if (ch == ' ' || ch == '\t' || ch == '\r') {
            END_WORD();
            c.p++;
            continue;
        }
        if (ch == '\n') {
            END_WORD();
            sh_end_cmd(&c, CM_SH_SEQ);
            c.p++;
            c.line++;
            if (c.n_heredocs)
                sh_skip_heredocs(&c);
            continue;
        }
        if (ch == '>' || ch == '<') {
            /* A redirection: "2>" drops the fd number, the target is not argv. */
            bool digits = in_word && w.len > 0;
            for (size_t i = 0; digits && i < w.len; i++)
                digits = isdigit((unsigned char)w.s[i]);
            if (digits) {
                w.len = 0;
                in_word = false;
            } else {
                END_WORD();
            }
            bool here = ch == '<' && c.p + 1 < c.end && c.p[1] == '<' &&
                        !(c.p + 2 < c.end && c.p[2] == '<');
            c.p++;
            while (c.p < c.end && (*c.p == '>' || *c.p == '<' || *c.p == '|' || *c.p == '-'))
                c.p++;
            if (c.p < c.end && *c.p == '&') { /* >&2 */
                c.p++;
                while (c.p < c.end && (isdigit((unsigned char)*c.p) || *c.p == '-'))
                    c.p++;
                continue;
            }
            while (c.p < c.end && (*c.p == ' ' || *c.p == '\t'))
                c.p++;
            redirect_target = !here;
            heredoc_target = here;
            /* the target word starts now */
            in_word = false;
            if (c.p < c.end && !strchr("\n;&|()", *c.p)) {
                /* read the target through the normal word machinery */
                bool *flag = here ? &heredoc_target : &redirect_target;
                *flag = true;
                in_word = true;
            }
            continue;
        }
        if (ch == '&' || ch == '|' || ch == ';' || ch == '(' || ch == ')') {
            if (ch == '&' && c.p + 1 < c.end && c.p[1] == '>') { /* &> file */
                END_WORD();
                c.p += 2;
                if (c.p < c.end && *c.p == '>')
                    c.p++;
                while (c.p < c.end && (*c.p == ' ' || *c.p == '\t'))
                    c.p++;
                redirect_target = true;
                in_word = c.p < c.end && !strchr("\n;&|()", *c.p);
                if (!in_word)
                    redirect_target = false;
                continue;
            }
            END_WORD();
            enum cm_sh_op op = CM_SH_SEQ;
            if (ch == '&' && c.p + 1 < c.end && c.p[1] == '&') {
                op = CM_SH_AND;
                c.p++;
            } else if (ch == '|' && c.p + 1 < c.end && c.p[1] == '|') {
                op = CM_SH_OR;
                c.p++;
            } else if (ch == '|') {
                op = CM_SH_PIPE;
                if (c.p + 1 < c.end && c.p[1] == '&')
                    c.p++;
            } else if (ch == ';' && c.p + 1 < c.end && c.p[1] == ';') {
                c.p++;
            }
            c.p++;
            sh_end_cmd(&c, op);
            continue;
        }
        sb_putc(&w, ch);
        START_WORD();
        c.p++;
    }
    if (!c.oom) {
        END_WORD();
        sh_end_cmd(&c, CM_SH_SEQ);
    }
#undef END_WORD
#undef START_WORD
    for (size_t i = 0; i < c.n_words; i++)
        free(c.words[i]);
    free(c.words);
    for (size_t h = 0; h < c.n_heredocs; h++)
        free(c.heredocs[h]);
    sb_free(&w);
    if (c.oom || w.oom) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

int cm_sh_split(const char *text, int line, struct cm_sh_script *out)
{
    return sh_split_depth(text, strlen(text), line, 0, out);
}

void cm_sh_script_free(struct cm_sh_script *s)
{
    for (size_t i = 0; i < s->n; i++)
        cm_strv_free(s->cmds[i].argv);
    free(s->cmds);
    s->cmds = NULL;
    s->n = 0;
}

/* ---- variables ---------------------------------------------------------- */

struct vars {
    struct cm_df_kv *v;
    size_t n;
};

static void vars_free(struct vars *vs)
{
    for (size_t i = 0; i < vs->n; i++) {
        free(vs->v[i].key);
        free(vs->v[i].value);
    }
    free(vs->v);
    vs->v = NULL;
    vs->n = 0;
}

static const char *vars_get(const struct vars *vs, const char *name, size_t nl)
{
    for (size_t i = vs->n; i-- > 0;)
        if (strlen(vs->v[i].key) == nl && memcmp(vs->v[i].key, name, nl) == 0)
            return vs->v[i].value;
    return NULL;
}

static int vars_set(struct vars *vs, const char *key, const char *value)
{
    for (size_t i = 0; i < vs->n; i++) {
        if (strcmp(vs->v[i].key, key) == 0) {
            char *nv = value ? strdup(value) : NULL;
            if (value && !nv)
                return -1;
            free(vs->v[i].value);
            vs->v[i].value = nv;
            return 0;
        }
    }
    if (grow((void **)&vs->v, &vs->n, sizeof(*vs->v)) < 0)
        return -1;
    struct cm_df_kv *kv = &vs->v[vs->n - 1];
    kv->key = strdup(key);
    kv->value = value ? strdup(value) : NULL;
    if (!kv->key || (value && !kv->value)) {
        free(kv->key);
        free(kv->value);
        vs->n--;
        return -1;
    }
    return 0;
}

static int vars_copy(struct vars *dst, const struct vars *src)
{
    for (size_t i = 0; i < src->n; i++)
        if (vars_set(dst, src->v[i].key, src->v[i].value) < 0)
            return -1;
    return 0;
}

/* Expand $VAR and ${VAR...} as BuildKit's shell lexer does for ENV, COPY,
 * FROM...: not inside single quotes, not after the escape character.
 * Unset variables expand to "". */
static void expand_into(struct sbuf *o, const char *s, size_t len, const struct vars *vs,
                        char esc, int depth)
{
    bool squote = false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == esc && i + 1 < len && !squote) {
            sb_putc(o, ch);
            sb_putc(o, s[++i]);
            continue;
        }
        if (ch == '\'') {
            squote = !squote;
            sb_putc(o, ch);
            continue;
        }
        if (ch != '$' || squote || i + 1 >= len) {
            sb_putc(o, ch);
            continue;
        }
        const char *name = s + i + 1;
        if (*name == '{') {
            size_t j = i + 2, nl = 0;
            while (j + nl < len && (isalnum((unsigned char)s[j + nl]) || s[j + nl] == '_'))
                nl++;
            /* find the matching brace */
            size_t k = j + nl;
            int bd = 1;
            while (k < len) {
                if (s[k] == '{')
                    bd++;
                else if (s[k] == '}' && --bd == 0)
                    break;
                k++;
            }
            const char *val = vars_get(vs, s + j, nl);
            const char *mod = s + j + nl;
            size_t modlen = k > j + nl ? k - (j + nl) : 0;
            if (modlen >= 1 && depth < 8) {
                bool colon = mod[0] == ':';
                char op = colon && modlen >= 2 ? mod[1] : mod[0];
                const char *word = mod + (colon ? 2 : 1);
                size_t wl = modlen - (size_t)(word - mod);
                if (colon && modlen < 2)
                    wl = 0;
                bool set = val && (!colon || *val);
                if (op == '-' || op == '=') {
                    if (set)
                        sb_puts(o, val);
                    else
                        expand_into(o, word, wl, vs, esc, depth + 1);
                } else if (op == '+') {
                    if (set)
                        expand_into(o, word, wl, vs, esc, depth + 1);
                } else if (val) { /* :? and the pattern forms: keep the value */
                    sb_puts(o, val);
                }
            } else if (val) {
                sb_puts(o, val);
            }
            i = k < len ? k : len - 1;
            continue;
        }
        size_t nl = 0;
        while (i + 1 + nl < len && (isalnum((unsigned char)name[nl]) || name[nl] == '_'))
            nl++;
        if (nl == 0 || isdigit((unsigned char)name[0])) {
            sb_putc(o, ch);
            continue;
        }
        const char *val = vars_get(vs, name, nl);
        if (val)
            sb_puts(o, val);
        i += nl;
    }
}

/* Words of s, quotes removed, the escape character honoured. */
static int split_words(const char *s, char esc, char ***out, size_t *n)
{
    struct sbuf w = {0};
    bool in = false;
    for (const char *p = s;; p++) {
        if (*p == '\0' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            if (in) {
                if (strv_push(out, n, sb_take(&w)) < 0)
                    return -1;
                in = false;
            }
            if (*p == '\0')
                break;
            continue;
        }
        in = true;
        if (*p == esc && p[1]) {
            sb_putc(&w, *++p);
        } else if (*p == '\'') {
            for (p++; *p && *p != '\''; p++)
                sb_putc(&w, *p);
            if (!*p)
                break;
        } else if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == esc && (p[1] == '"' || p[1] == esc || p[1] == '$'))
                    p++;
                sb_putc(&w, *p);
            }
            if (!*p)
                break;
        } else {
            sb_putc(&w, *p);
        }
    }
    if (in && strv_push(out, n, sb_take(&w)) < 0)
        return -1;
    sb_free(&w);
    return 0;
}

/* ---- instructions ------------------------------------------------------- */

enum {
    F_EXPAND = 1,   /* arguments take ARG/ENV substitution */
    F_JSON = 2,     /* exec form allowed */
    F_HEREDOC = 4,  /* heredocs allowed */
    F_KV = 8,       /* key=value pairs (ENV, LABEL) */
};

static const struct {
    const char *name;
    int flags;
} keywords[] = {
    {"ADD", F_EXPAND | F_JSON | F_HEREDOC},
    {"ARG", F_EXPAND},
    {"CMD", F_JSON},
    {"COPY", F_EXPAND | F_JSON | F_HEREDOC},
    {"ENTRYPOINT", F_JSON},
    {"ENV", F_EXPAND | F_KV},
    {"EXPOSE", F_EXPAND},
    {"FROM", F_EXPAND},
    {"HEALTHCHECK", F_JSON},
    {"LABEL", F_EXPAND | F_KV},
    {"MAINTAINER", 0},
    {"ONBUILD", 0},
    {"RUN", F_JSON | F_HEREDOC},
    {"SHELL", F_JSON},
    {"STOPSIGNAL", F_EXPAND},
    {"USER", F_EXPAND},
    {"VOLUME", F_EXPAND | F_JSON},
    {"WORKDIR", F_EXPAND},
};

static int keyword_flags(const char *kw)
{
    for (size_t i = 0; i < ARRAY_SIZE(keywords); i++)
        if (strcmp(keywords[i].name, kw) == 0)
            return keywords[i].flags;
    return -1;
}

static void instr_free(struct cm_df_instr *in)
{
    free(in->keyword);
    free(in->raw);
    free(in->expanded);
    for (size_t i = 0; i < in->n_args; i++)
        free(in->args[i]);
    free(in->args);
    for (size_t i = 0; i < in->n_flags; i++) {
        free(in->flags[i].name);
        free(in->flags[i].value);
    }
    free(in->flags);
    for (size_t i = 0; i < in->n_heredocs; i++) {
        free(in->heredocs[i].delim);
        free(in->heredocs[i].body);
    }
    free(in->heredocs);
    for (size_t i = 0; i < in->n_kvs; i++) {
        free(in->kvs[i].key);
        free(in->kvs[i].value);
    }
    free(in->kvs);
    cm_sh_script_free(&in->sh);
    if (in->onbuild) {
        instr_free(in->onbuild);
        free(in->onbuild);
    }
}

void cm_df_free(struct cm_dockerfile *df)
{
    for (size_t i = 0; i < df->n; i++)
        instr_free(&df->instrs[i]);
    free(df->instrs);
    for (size_t i = 0; i < df->n_stages; i++) {
        free(df->stages[i].name);
        free(df->stages[i].base);
    }
    free(df->stages);
    free(df->syntax);
    free(df->check);
    memset(df, 0, sizeof(*df));
}

const char *cm_df_flag(const struct cm_df_instr *in, const char *name)
{
    for (size_t i = 0; i < in->n_flags; i++)
        if (strcmp(in->flags[i].name, name) == 0)
            return in->flags[i].value ? in->flags[i].value : "";
    return NULL;
}

struct lines {
    const char **start;
    size_t *len;
    size_t n;
};

static int split_lines(const char *text, size_t len, struct lines *ls)
{
    size_t n = 0, i = 0;
    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t l = nl ? (size_t)(nl - (text + i)) : len - i;
        if (grow((void **)&ls->start, &n, sizeof(*ls->start)) < 0)
            return -1;
        size_t n2 = n - 1;
        if (grow((void **)&ls->len, &n2, sizeof(*ls->len)) < 0)
            return -1;
        ls->start[n - 1] = text + i;
        ls->len[n - 1] = (l > 0 && text[i + l - 1] == '\r') ? l - 1 : l;
        ls->n = n;
        i += l + 1;
    }
    return 0;
}

static bool blank_or_comment(const char *s, size_t l)
{
    size_t i = 0;
    while (i < l && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i == l || s[i] == '#';
}

struct parser {
    const char *path;
    struct cm_dockerfile *df;
    struct cm_error *err;
    struct lines ls;
    size_t li;
    struct vars globals; /* ARG before the first FROM */
    struct vars scope;   /* the current stage's ARG and ENV */
    struct vars *stage_env; /* per stage, for stages built on other stages */
    /* the logical line being parsed, and where each physical line of it
     * starts, so that commands of a continued RUN keep their own line */
    const char *logical;
    size_t *lm_off;
    int *lm_line;
    size_t lm_n;
};

static int line_at(const struct parser *ps, size_t off, int dflt)
{
    int line = dflt;
    for (size_t i = 0; i < ps->lm_n && ps->lm_off[i] <= off; i++)
        line = ps->lm_line[i];
    return line;
}

static int perr(struct parser *ps, int line, const char *fmt, const char *arg)
{
    char what[512];
    snprintf(what, sizeof(what), fmt, arg);
    return cm_err_set(ps->err, 0, "%s:%d: %s", ps->path, line, what);
}

/* Find heredoc markers (<<EOF, <<-EOF, <<"EOF") in an instruction's text. */
static int find_heredocs(struct parser *ps, struct cm_df_instr *in, const char *s)
{
    char q = 0;
    for (const char *p = s; *p; p++) {
        if (q) {
            if (*p == q)
                q = 0;
            continue;
        }
        if (*p == '\'' || *p == '"') {
            q = *p;
            continue;
        }
        if (p[0] != '<' || p[1] != '<' || p[2] == '<')
            continue;
        /* only at the start of a word: $((1<<2)) is not a heredoc */
        const char *ws0 = p;
        while (ws0 > s && isdigit((unsigned char)ws0[-1])) /* 0<<EOF: an fd number */
            ws0--;
        if (ws0 > s && ws0[-1] != ' ' && ws0[-1] != '\t')
            continue;
        const char *m = p + 2;
        bool strip = false, quoted = false;
        if (*m == '-') {
            strip = true;
            m++;
        }
        char dq = 0;
        if (*m == '"' || *m == '\'') {
            dq = *m++;
            quoted = true;
        }
        const char *ws = m;
        while (*m && (isalnum((unsigned char)*m) || *m == '_' || *m == '-' || *m == '.'))
            m++;
        if (m == ws || (dq && *m != dq)) {
            p = m > p ? m - 1 : p;
            continue;
        }
        if (in->n_heredocs >= 16)
            return perr(ps, in->line, "too many heredocs in %s", in->keyword);
        if (grow((void **)&in->heredocs, &in->n_heredocs, sizeof(*in->heredocs)) < 0)
            return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
        struct cm_df_heredoc *h = &in->heredocs[in->n_heredocs - 1];
        h->delim = strndup(ws, (size_t)(m - ws));
        if (!h->delim)
            return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
        h->strip_tabs = strip;
        h->quoted = quoted;
        p = dq ? m : m - 1;
    }
    return 0;
}

/* Read the heredoc bodies that follow the instruction's last line. */
static int read_heredocs(struct parser *ps, struct cm_df_instr *in)
{
    for (size_t h = 0; h < in->n_heredocs; h++) {
        struct cm_df_heredoc *hd = &in->heredocs[h];
        struct sbuf b = {0};
        bool found = false;
        while (ps->li < ps->ls.n) {
            const char *s = ps->ls.start[ps->li];
            size_t l = ps->ls.len[ps->li];
            ps->li++;
            in->end_line = (int)ps->li;
            if (hd->strip_tabs)
                while (l > 0 && *s == '\t') {
                    s++;
                    l--;
                }
            if (l == strlen(hd->delim) && memcmp(s, hd->delim, l) == 0) {
                found = true;
                break;
            }
            sb_putn(&b, s, l);
            sb_putc(&b, '\n');
        }
        hd->body = sb_take(&b);
        if (!hd->body)
            return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
        if (!found)
            return perr(ps, in->line, "unterminated heredoc <<%s", hd->delim);
    }
    return 0;
}

static bool is_json_array(const char *s, char ***out, size_t *n)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s != '[')
        return false;
    json_error_t jerr;
    json_t *a = json_loads(s, JSON_DECODE_ANY, &jerr);
    if (!a)
        return false;
    bool ok = json_is_array(a);
    for (size_t i = 0; ok && i < json_array_size(a); i++)
        ok = json_is_string(json_array_get(a, i));
    for (size_t i = 0; ok && i < json_array_size(a); i++)
        if (strv_push(out, n, strdup(json_string_value(json_array_get(a, i)))) < 0)
            ok = false;
    json_decref(a);
    return ok;
}

static char *expand(const struct parser *ps, const struct vars *vs, const char *s)
{
    struct sbuf o = {0};
    expand_into(&o, s, strlen(s), vs, ps->df->escape, 0);
    return sb_take(&o);
}

/* ENV/LABEL: "k=v k2=v2" or the legacy "k v w". ARG: "name[=default]"... */
static int parse_kvs(struct parser *ps, struct cm_df_instr *in)
{
    bool is_arg = strcmp(in->keyword, "ARG") == 0;
    if (in->n_args == 0)
        return perr(ps, in->line, "%s requires at least one argument", in->keyword);
    bool legacy = !is_arg && !strchr(in->args[0], '=');
    size_t count = legacy ? 1 : in->n_args;
    for (size_t i = 0; i < count; i++) {
        if (grow((void **)&in->kvs, &in->n_kvs, sizeof(*in->kvs)) < 0)
            return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
        struct cm_df_kv *kv = &in->kvs[in->n_kvs - 1];
        const char *a = in->args[i];
        const char *eq = strchr(a, '=');
        if (legacy) {
            if (in->n_args < 2)
                return perr(ps, in->line, "%s must have two arguments", in->keyword);
            kv->key = strdup(a);
            /* the value is the rest of the line, as written */
            const char *r = in->expanded;
            while (*r == ' ' || *r == '\t')
                r++;
            r += strcspn(r, " \t");
            while (*r == ' ' || *r == '\t')
                r++;
            kv->value = strdup(r);
            if (!kv->key || !kv->value)
                return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
        } else {
            if (!eq && !is_arg)
                return perr(ps, in->line, "%s names must be given as key=value", in->keyword);
            kv->key = eq ? strndup(a, (size_t)(eq - a)) : strdup(a);
            kv->value = eq ? strdup(eq + 1) : NULL;
            if (!kv->key || (eq && !kv->value))
                return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
            if (!*kv->key)
                return perr(ps, in->line, "%s with an empty name", in->keyword);
        }
    }
    return 0;
}

static int parse_stage(struct parser *ps, struct cm_df_instr *in)
{
    struct cm_dockerfile *df = ps->df;
    /* FROM $UNSET expands to nothing: an unknown base, not a syntax error */
    bool unresolved = in->n_args == 0 && strchr(in->raw, '$');
    if (!unresolved && in->n_args != 1 &&
        !(in->n_args == 3 && strcasecmp(in->args[1], "as") == 0))
        return perr(ps, in->line, "%s", "FROM requires either one or three arguments");
    if (grow((void **)&df->stages, &df->n_stages, sizeof(*df->stages)) < 0)
        return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
    size_t n_env = df->n_stages - 1;
    if (grow((void **)&ps->stage_env, &n_env, sizeof(*ps->stage_env)) < 0) {
        df->n_stages--;
        return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
    }
    struct cm_df_stage *st = &df->stages[df->n_stages - 1];
    st->parent = -1;
    st->line = in->line;
    st->first = df->n;
    st->end = df->n + 1;
    st->base = strdup(unresolved ? "" : in->args[0]);
    if (!st->base)
        return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
    if (in->n_args == 3) {
        st->name = strdup(in->args[2]);
        if (!st->name)
            return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
        for (char *p = st->name; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    for (size_t i = 0; i + 1 < df->n_stages; i++)
        if (df->stages[i].name && strcasecmp(df->stages[i].name, st->base) == 0)
            st->parent = (int)i;
    /* A stage starts with the ENV of the stage it builds on; global ARGs
     * must be redeclared to be seen. */
    vars_free(&ps->scope);
    if (st->parent >= 0 && vars_copy(&ps->scope, &ps->stage_env[st->parent]) < 0)
        return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
    return 0;
}

static int parse_args(struct parser *ps, struct cm_df_instr *in, const char *rest, bool inner);

static int parse_onbuild(struct parser *ps, struct cm_df_instr *in, const char *rest)
{
    const char *p = rest;
    size_t kl = strcspn(p, " \t");
    if (kl == 0)
        return perr(ps, in->line, "%s", "ONBUILD requires at least one argument");
    in->onbuild = calloc(1, sizeof(*in->onbuild));
    if (!in->onbuild || !(in->onbuild->keyword = strndup(p, kl)))
        return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
    struct cm_df_instr *sub = in->onbuild;
    for (char *k = sub->keyword; *k; k++)
        *k = (char)toupper((unsigned char)*k);
    sub->line = in->line;
    sub->end_line = in->end_line;
    sub->stage = in->stage;
    if (keyword_flags(sub->keyword) < 0)
        return perr(ps, in->line, "unknown instruction %s", sub->keyword);
    if (!strcmp(sub->keyword, "ONBUILD") || !strcmp(sub->keyword, "FROM") ||
        !strcmp(sub->keyword, "MAINTAINER"))
        return perr(ps, in->line, "%s isn't allowed as an ONBUILD trigger", sub->keyword);
    p += kl;
    while (*p == ' ' || *p == '\t')
        p++;
    return parse_args(ps, sub, p, true);
}

/* Everything after the keyword: flags, form, substitution, pairs. */
static int parse_args(struct parser *ps, struct cm_df_instr *in, const char *rest, bool inner)
{
    int kf = keyword_flags(in->keyword);
    const char *p = rest;
    /* flags: --name[=value], before the arguments */
    while (p[0] == '-' && p[1] == '-' && p[2] && p[2] != ' ') {
        size_t tl = strcspn(p, " \t");
        const char *eq = memchr(p, '=', tl);
        if (grow((void **)&in->flags, &in->n_flags, sizeof(*in->flags)) < 0)
            return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
        struct cm_df_flag *f = &in->flags[in->n_flags - 1];
        f->name = strndup(p + 2, (size_t)((eq ? eq : p + tl) - (p + 2)));
        if (!f->name)
            return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
        if (eq) {
            _cleanup_free_ char *v = strndup(eq + 1, tl - (size_t)(eq + 1 - p));
            if (!v)
                return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
            /* flags take substitution too (--platform=$BUILDPLATFORM) */
            const struct vars *vs = in->stage < 0 ? &ps->globals : &ps->scope;
            f->value = (kf & F_EXPAND) || !strcmp(in->keyword, "FROM") ? expand(ps, vs, v)
                                                                       : TAKE_PTR(v);
            if (!f->value)
                return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
        }
        p += tl;
        while (*p == ' ' || *p == '\t')
            p++;
    }
    in->raw = strdup(p);
    if (!in->raw)
        return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
    if (!strcmp(in->keyword, "ONBUILD") && !inner)
        return parse_onbuild(ps, in, p);

    if (!inner && (kf & F_HEREDOC)) {
        if (find_heredocs(ps, in, in->raw) < 0)
            return -1;
        if (in->n_heredocs && read_heredocs(ps, in) < 0)
            return -1;
    }

    /* FROM sees only the global ARGs; everything else the stage's scope. */
    const struct vars *vs = strcmp(in->keyword, "FROM") == 0 || in->stage < 0 ? &ps->globals
                                                                             : &ps->scope;
    if ((kf & F_JSON) && is_json_array(in->raw, &in->args, &in->n_args)) {
        in->json = true;
        in->expanded = strdup(in->raw);
        if (!in->expanded)
            return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
        if (kf & F_EXPAND) {
            for (size_t i = 0; i < in->n_args; i++) {
                char *e = expand(ps, vs, in->args[i]);
                if (!e)
                    return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
                free(in->args[i]);
                in->args[i] = e;
            }
        }
    } else {
        if (in->n_args) { /* a half-parsed JSON array */
            for (size_t i = 0; i < in->n_args; i++)
                free(in->args[i]);
            free(in->args);
            in->args = NULL;
            in->n_args = 0;
        }
        in->expanded = (kf & F_EXPAND) ? expand(ps, vs, in->raw) : strdup(in->raw);
        if (!in->expanded || split_words(in->expanded, ps->df->escape, &in->args, &in->n_args) < 0)
            return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
    }

    bool is_run = strcmp(in->keyword, "RUN") == 0;
    if (!in->json && (is_run || !strcmp(in->keyword, "CMD") || !strcmp(in->keyword, "ENTRYPOINT"))) {
        if (cm_sh_split(in->raw, in->line, &in->sh) < 0)
            return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
        if (ps->logical && p >= ps->logical) {
            size_t base = (size_t)(p - ps->logical);
            for (size_t i = 0; i < in->sh.n; i++)
                in->sh.cmds[i].line = line_at(ps, base + in->sh.cmds[i].offset, in->line);
        }
    } else if (in->json && is_run && in->n_args) {
        /* exec form: the argv is one command (and sh -c scripts inside it) */
        if (grow((void **)&in->sh.cmds, &in->sh.n, sizeof(*in->sh.cmds)) < 0)
            return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
        struct cm_sh_cmd *c = &in->sh.cmds[0];
        c->op = CM_SH_FIRST;
        c->line = in->line;
        for (size_t i = 0; i < in->n_args; i++)
            if (strv_push(&c->argv, &c->argc, strdup(in->args[i])) < 0)
                return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
        if (c->argc >= 3 && is_shell_name(c->argv[0]) && c->argv[1][0] == '-' &&
            strchr(c->argv[1], 'c') && cm_sh_split(c->argv[2], in->line, &in->sh) < 0)
            return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
    }
    /* RUN <<EOF (or RUN sh <<EOF): the heredoc is the script. */
    if (is_run && in->n_heredocs) {
        bool script = in->sh.n == 0 || is_shell_name(in->sh.cmds[0].argv[0]);
        if (in->sh.n == 1 && in->sh.cmds[0].argc >= 1 && !strncmp(in->sh.cmds[0].argv[0], "<<", 2))
            script = true;
        int line = in->line + 1;
        for (size_t h = 0; h < in->n_heredocs && script; h++) {
            if (cm_sh_split(in->heredocs[h].body, line, &in->sh) < 0)
                return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
        }
    }

    if (kf & F_KV || !strcmp(in->keyword, "ARG")) {
        if (parse_kvs(ps, in) < 0)
            return -1;
    }
    return 0;
}

/* Apply an instruction's effect on the variable scopes. */
static int apply_scope(struct parser *ps, struct cm_df_instr *in)
{
    bool is_env = strcmp(in->keyword, "ENV") == 0;
    if (!is_env && strcmp(in->keyword, "ARG") != 0)
        return 0;
    for (size_t i = 0; i < in->n_kvs; i++) {
        struct cm_df_kv *kv = &in->kvs[i];
        int r;
        if (in->stage < 0) {
            r = vars_set(&ps->globals, kv->key, kv->value ? kv->value : "");
        } else if (!is_env && !kv->value) {
            /* ARG NAME in a stage: the global default, if any */
            const char *g = vars_get(&ps->globals, kv->key, strlen(kv->key));
            r = vars_get(&ps->scope, kv->key, strlen(kv->key)) ? 0
                                                               : vars_set(&ps->scope, kv->key, g ? g : "");
        } else {
            r = vars_set(&ps->scope, kv->key, kv->value);
        }
        if (r < 0)
            return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
    }
    return 0;
}

/* Parser directives: "# key=value" lines at the very top. */
static int parse_directives(struct parser *ps)
{
    struct cm_dockerfile *df = ps->df;
    for (; ps->li < ps->ls.n; ps->li++) {
        const char *s = ps->ls.start[ps->li];
        size_t l = ps->ls.len[ps->li];
        size_t i = 0;
        while (i < l && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i == l || s[i] != '#')
            return 0;
        i++;
        while (i < l && (s[i] == ' ' || s[i] == '\t'))
            i++;
        size_t ks = i;
        while (i < l && isalnum((unsigned char)s[i]))
            i++;
        size_t kl = i - ks;
        while (i < l && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (kl == 0 || i == l || s[i] != '=')
            return 0;
        i++;
        while (i < l && (s[i] == ' ' || s[i] == '\t'))
            i++;
        size_t ve = l;
        while (ve > i && (s[ve - 1] == ' ' || s[ve - 1] == '\t'))
            ve--;
        char **slot = NULL;
        if (kl == 6 && !strncasecmp(s + ks, "escape", 6)) {
            if (ve - i != 1 || (s[i] != '\\' && s[i] != '`'))
                return perr(ps, (int)ps->li + 1, "%s",
                            "invalid escape token: the escape directive takes ` or \\");
            df->escape = s[i];
            continue;
        } else if (kl == 6 && !strncasecmp(s + ks, "syntax", 6)) {
            slot = &df->syntax;
        } else if (kl == 5 && !strncasecmp(s + ks, "check", 5)) {
            slot = &df->check;
        } else {
            return 0; /* an unknown directive is a comment and ends the directives */
        }
        if (*slot)
            return perr(ps, (int)ps->li + 1, "%s", "only one of each parser directive is allowed");
        *slot = strndup(s + i, ve - i);
        if (!*slot)
            return cm_err_set(ps->err, ENOMEM, "parsing %s", ps->path);
    }
    return 0;
}

static int lm_push(struct parser *ps, size_t off, int line)
{
    size_t n = ps->lm_n;
    if (grow((void **)&ps->lm_off, &n, sizeof(*ps->lm_off)) < 0)
        return -1;
    n = ps->lm_n;
    if (grow((void **)&ps->lm_line, &n, sizeof(*ps->lm_line)) < 0)
        return -1;
    ps->lm_off[ps->lm_n] = off;
    ps->lm_line[ps->lm_n] = line;
    ps->lm_n++;
    return 0;
}

/* Is line s (length l) continued with the escape character? Returns the
 * length without it, or -1. */
static long continued(const char *s, size_t l, char esc)
{
    while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t'))
        l--;
    if (l > 0 && s[l - 1] == esc)
        return (long)l - 1;
    return -1;
}

int cm_df_parse(const char *text, size_t len, const char *path, struct cm_dockerfile *df,
                struct cm_error *err)
{
    memset(df, 0, sizeof(*df));
    struct parser ps = {.path = path ? path : "Dockerfile", .df = df, .err = err};
    int ret = -1;
    df->escape = '\\';
    if (memchr(text, '\0', len)) {
        cm_err_set(err, 0, "%s: not a text file (contains NUL bytes)", ps.path);
        goto out;
    }
    if (split_lines(text, len, &ps.ls) < 0) {
        cm_err_set(err, ENOMEM, "parsing %s", ps.path);
        goto out;
    }
    /* A UTF-8 byte order mark is allowed before the first line. */
    if (ps.ls.n && ps.ls.len[0] >= 3 && !memcmp(ps.ls.start[0], "\xef\xbb\xbf", 3)) {
        ps.ls.start[0] += 3;
        ps.ls.len[0] -= 3;
    }
    if (parse_directives(&ps) < 0)
        goto out;

    while (ps.li < ps.ls.n) {
        const char *s = ps.ls.start[ps.li];
        size_t l = ps.ls.len[ps.li];
        if (blank_or_comment(s, l)) {
            ps.li++;
            continue;
        }
        int start = (int)ps.li + 1;
        struct sbuf b = {0};
        ps.lm_n = 0;
        for (;;) {
            long cl = continued(s, l, df->escape);
            if (lm_push(&ps, b.len, (int)ps.li + 1) < 0) {
                sb_free(&b);
                cm_err_set(err, ENOMEM, "parsing %s", ps.path);
                goto out;
            }
            ps.li++;
            if (cl < 0) {
                sb_putn(&b, s, l);
                break;
            }
            sb_putn(&b, s, (size_t)cl);
            /* comments and blank lines inside a continuation are dropped */
            while (ps.li < ps.ls.n && blank_or_comment(ps.ls.start[ps.li], ps.ls.len[ps.li]))
                ps.li++;
            if (ps.li >= ps.ls.n)
                break;
            s = ps.ls.start[ps.li];
            l = ps.ls.len[ps.li];
        }
        _cleanup_free_ char *logical = sb_take(&b);
        if (!logical) {
            cm_err_set(err, ENOMEM, "parsing %s", ps.path);
            goto out;
        }
        const char *p = logical;
        ps.logical = logical;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t kl = strcspn(p, " \t");
        if (grow((void **)&df->instrs, &df->n, sizeof(*df->instrs)) < 0) {
            cm_err_set(err, ENOMEM, "parsing %s", ps.path);
            goto out;
        }
        struct cm_df_instr *in = &df->instrs[df->n - 1];
        in->line = start;
        in->end_line = (int)ps.li;
        in->stage = (int)df->n_stages - 1;
        in->keyword = strndup(p, kl);
        if (!in->keyword) {
            cm_err_set(err, ENOMEM, "parsing %s", ps.path);
            goto out;
        }
        for (char *k = in->keyword; *k; k++)
            *k = (char)toupper((unsigned char)*k);
        if (keyword_flags(in->keyword) < 0) {
            /* show the word as written, shortened */
            char shown[64];
            snprintf(shown, sizeof(shown), "%.*s", (int)(kl > 40 ? 40 : kl), p);
            perr(&ps, start, "unknown instruction %s", shown);
            goto out;
        }
        bool is_from = strcmp(in->keyword, "FROM") == 0;
        if (in->stage < 0 && !is_from && strcmp(in->keyword, "ARG") != 0) {
            perr(&ps, start, "%s", "no FROM before the first instruction (only ARG may precede FROM)");
            goto out;
        }
        if (is_from)
            in->stage = (int)df->n_stages; /* the stage it opens */
        p += kl;
        while (*p == ' ' || *p == '\t')
            p++;
        if (parse_args(&ps, in, p, false) < 0)
            goto out;
        if (is_from && parse_stage(&ps, in) < 0)
            goto out;
        if (apply_scope(&ps, in) < 0)
            goto out;
        if (df->n_stages) {
            df->stages[df->n_stages - 1].end = df->n;
            /* keep a copy of the stage's scope for stages built on it */
            struct vars *se = &ps.stage_env[df->n_stages - 1];
            vars_free(se);
            if (vars_copy(se, &ps.scope) < 0) {
                cm_err_set(err, ENOMEM, "parsing %s", ps.path);
                goto out;
            }
        }
    }
    if (df->n_stages == 0) {
        cm_err_set(err, 0, "%s: no FROM instruction", ps.path);
        goto out;
    }
    ret = 0;
out:
    free(ps.ls.start);
    free(ps.ls.len);
    free(ps.lm_off);
    free(ps.lm_line);
    vars_free(&ps.globals);
    vars_free(&ps.scope);
    for (size_t i = 0; i < df->n_stages; i++)
        vars_free(&ps.stage_env[i]);
    free(ps.stage_env);
    if (ret < 0)
        cm_df_free(df);
    return ret;
}
