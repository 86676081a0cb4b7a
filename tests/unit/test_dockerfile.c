/* test_dockerfile.c: the Dockerfile parser and every Dockerfile rule (a
 * case that must hit and a near miss that must not). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit/dockerfile_parse.h"
#include "audit/rules.h"
#include "audit/secrets.h"

static void parse_ok(const char *text, struct cm_dockerfile *df)
{
    struct cm_error err = {0};
    int r = cm_df_parse(text, strlen(text), "Dockerfile", df, &err);
    if (r < 0)
        fail_msg("parse failed: %s", err.msg);
}

static const struct cm_df_instr *nth(const struct cm_dockerfile *df, size_t i)
{
    assert_true(i < df->n);
    return &df->instrs[i];
}

/* ---- parser ------------------------------------------------------------- */

static void test_continuations_comments_lines(void **state)
{
    (void)state;
    struct cm_dockerfile df;
    parse_ok("# a comment\n"
             "\n"
             "FROM debian:12\n"
             "RUN apt-get update \\\n"
             "    # a comment inside the continuation\n"
             "\n"
             "    && apt-get install -y curl\n"
             "run echo done\n",
             &df);
    assert_int_equal(df.n, 3);
    assert_string_equal(nth(&df, 0)->keyword, "FROM");
    assert_int_equal(nth(&df, 0)->line, 3);
    const struct cm_df_instr *run = nth(&df, 1);
    assert_int_equal(run->line, 4);
    assert_int_equal(run->end_line, 7);
    assert_null(strstr(run->raw, "comment"));
    assert_int_equal(run->sh.n, 2);
    assert_string_equal(run->sh.cmds[1].argv[0], "apt-get");
    assert_int_equal(run->sh.cmds[1].op, CM_SH_AND);
    /* each command of a continued RUN keeps its physical line */
    assert_int_equal(run->sh.cmds[0].line, 4);
    assert_int_equal(run->sh.cmds[1].line, 7);
    assert_string_equal(nth(&df, 2)->keyword, "RUN"); /* keywords are case-insensitive */
    assert_int_equal(nth(&df, 2)->line, 8);
    cm_df_free(&df);
}

static void test_escape_directive_backtick(void **state)
{
    (void)state;
    struct cm_dockerfile df;
    parse_ok("# escape=`\n"
             "# syntax=docker/dockerfile:1\n"
             "FROM mcr.microsoft.com/windows/servercore:ltsc2022\n"
             "COPY testfile.txt c:\\\n"
             "RUN dir c:\\ `\n"
             "    && echo ok\n",
             &df);
    assert_int_equal(df.escape, '`');
    assert_string_equal(df.syntax, "docker/dockerfile:1");
    assert_int_equal(df.n, 3);
    /* the backslash is not an escape any more: COPY's line stands alone */
    assert_string_equal(nth(&df, 1)->args[1], "c:\\");
    assert_int_equal(nth(&df, 2)->line, 5);
    assert_non_null(strstr(nth(&df, 2)->raw, "echo ok"));
    cm_df_free(&df);

    /* a directive after an instruction is a comment */
    parse_ok("FROM a:1\n# escape=`\nRUN x \\\n y\n", &df);
    assert_int_equal(df.escape, '\\');
    assert_int_equal(df.n, 2);
    cm_df_free(&df);
}

static void test_heredocs(void **state)
{
    (void)state;
    struct cm_dockerfile df;
    parse_ok("FROM debian:12\n"
             "RUN <<EOF\n"
             "apt-get update\n"
             "apt-get install -y curl\n"
             "EOF\n"
             "COPY <<one <<\"two\" /dest/\n"
             "first $HOME\n"
             "one\n"
             "second\n"
             "two\n"
             "RUN <<-EOT bash\n"
             "\techo tabbed\n"
             "\tEOT\n"
             "USER app\n",
             &df);
    assert_int_equal(df.n, 5);
    const struct cm_df_instr *run = nth(&df, 1);
    assert_int_equal(run->n_heredocs, 1);
    assert_string_equal(run->heredocs[0].body, "apt-get update\napt-get install -y curl\n");
    assert_int_equal(run->sh.n, 2);
    assert_string_equal(run->sh.cmds[1].argv[1], "install");
    assert_int_equal(run->sh.cmds[1].line, 4);
    const struct cm_df_instr *copy = nth(&df, 2);
    assert_int_equal(copy->n_heredocs, 2);
    assert_string_equal(copy->heredocs[0].delim, "one");
    assert_string_equal(copy->heredocs[0].body, "first $HOME\n");
    assert_true(copy->heredocs[1].quoted);
    assert_string_equal(copy->heredocs[1].body, "second\n");
    const struct cm_df_instr *tabbed = nth(&df, 3);
    assert_true(tabbed->heredocs[0].strip_tabs);
    assert_string_equal(tabbed->heredocs[0].body, "echo tabbed\n");
    assert_int_equal(nth(&df, 4)->line, 14);
    cm_df_free(&df);

    struct cm_error err = {0};
    const char *bad = "FROM a:1\nRUN <<EOF\necho never closed\n";
    assert_int_equal(cm_df_parse(bad, strlen(bad), "Dockerfile", &df, &err), -1);
    assert_non_null(strstr(err.msg, "Dockerfile:2: unterminated heredoc"));
}

static void test_json_and_shell_forms(void **state)
{
    (void)state;
    struct cm_dockerfile df;
    parse_ok("FROM a:1\n"
             "CMD [\"nginx\", \"-g\", \"daemon off;\"]\n"
             "ENTRYPOINT [not json\n"
             "RUN [\"/bin/sh\", \"-c\", \"make && make install\"]\n"
             "VOLUME [\"/data\", \"/logs\"]\n",
             &df);
    assert_true(nth(&df, 1)->json);
    assert_int_equal(nth(&df, 1)->n_args, 3);
    assert_string_equal(nth(&df, 1)->args[2], "daemon off;");
    assert_false(nth(&df, 2)->json);
    const struct cm_df_instr *run = nth(&df, 3);
    assert_true(run->json);
    /* the exec form's argv, then the commands of its sh -c script */
    assert_int_equal(run->sh.n, 3);
    assert_string_equal(run->sh.cmds[2].argv[0], "make");
    assert_string_equal(run->sh.cmds[2].argv[1], "install");
    assert_int_equal(nth(&df, 4)->n_args, 2);
    cm_df_free(&df);
}

static void test_substitution_and_arg_scope(void **state)
{
    (void)state;
    struct cm_dockerfile df;
    parse_ok("ARG REG=registry.example.com\n"
             "ARG TAG=1.2\n"
             "FROM ${REG}/base:${TAG:-latest} AS build\n"
             "ARG TAG\n"
             "ENV DIR=/opt/app NAME=\"my app\"\n"
             "WORKDIR $DIR/src\n"
             "LABEL a=${UNSET:-dflt} b=${DIR:+set} c=${UNSET:+never} d='$DIR' e=\\$DIR\n"
             "USER ${REG}\n"
             "FROM build\n"
             "WORKDIR ${DIR}\n",
             &df);
    assert_int_equal(df.n_stages, 2);
    assert_string_equal(df.stages[0].base, "registry.example.com/base:1.2");
    assert_string_equal(df.stages[0].name, "build");
    assert_string_equal(nth(&df, 5)->args[0], "/opt/app/src");
    const struct cm_df_instr *label = nth(&df, 6);
    assert_int_equal(label->n_kvs, 5);
    assert_string_equal(label->kvs[0].value, "dflt");
    assert_string_equal(label->kvs[1].value, "set");
    assert_string_equal(label->kvs[2].value, "");
    assert_string_equal(label->kvs[3].value, "$DIR");
    assert_string_equal(label->kvs[4].value, "$DIR");
    /* a global ARG is not visible in a stage unless redeclared: REG was not */
    assert_int_equal(nth(&df, 7)->n_args, 0);
    assert_string_equal(nth(&df, 4)->kvs[1].value, "my app");
    /* a stage built on another inherits its ENV */
    assert_int_equal(df.stages[1].parent, 0);
    assert_string_equal(nth(&df, 9)->args[0], "/opt/app");
    cm_df_free(&df);

    /* legacy ENV form: the value is the rest of the line */
    parse_ok("FROM a:1\nENV GREETING hello world\n", &df);
    assert_string_equal(nth(&df, 1)->kvs[0].key, "GREETING");
    assert_string_equal(nth(&df, 1)->kvs[0].value, "hello world");
    cm_df_free(&df);
}

static void test_multistage_flags(void **state)
{
    (void)state;
    struct cm_dockerfile df;
    parse_ok("FROM --platform=$BUILDPLATFORM golang:1.22 AS Builder\n"
             "RUN --mount=type=cache,target=/root/.cache --network=none go build\n"
             "FROM scratch\n"
             "COPY --from=builder --chown=1000:1000 --chmod=0755 --link /out/app /app\n",
             &df);
    assert_int_equal(df.n_stages, 2);
    assert_string_equal(df.stages[0].name, "builder");
    assert_string_equal(cm_df_flag(nth(&df, 0), "platform"), "");
    assert_string_equal(cm_df_flag(nth(&df, 1), "mount"), "type=cache,target=/root/.cache");
    assert_string_equal(cm_df_flag(nth(&df, 1), "network"), "none");
    const struct cm_df_instr *copy = nth(&df, 3);
    assert_string_equal(cm_df_flag(copy, "from"), "builder");
    assert_string_equal(cm_df_flag(copy, "chown"), "1000:1000");
    assert_string_equal(cm_df_flag(copy, "link"), "");
    assert_null(cm_df_flag(copy, "parents"));
    assert_int_equal(copy->n_args, 2);
    assert_int_equal(copy->stage, 1);
    assert_int_equal(df.stages[1].parent, -1);
    cm_df_free(&df);
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"FROM a:1\nRUN x\nFOO bar\n", "Dockerfile:3: unknown instruction FOO"},
        {"RUN x\n", "Dockerfile:1: no FROM"},
        {"# just a comment\n", "no FROM instruction"},
        {"FROM\n", "Dockerfile:1: FROM requires"},
        {"FROM a:1\nENV ONLYKEY\n", "Dockerfile:2: ENV must have two arguments"},
        {"# escape=x\nFROM a:1\n", "Dockerfile:1: invalid escape token"},
        {"FROM a:1\nONBUILD FROM b\n", "Dockerfile:2:"},
        {"FROM a\0b\n", "not a text file"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cm_dockerfile df;
        struct cm_error err = {0};
        size_t len = i == 7 ? 10 : strlen(cases[i].text);
        assert_int_equal(cm_df_parse(cases[i].text, len, "Dockerfile", &df, &err), -1);
        if (!strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, err.msg, cases[i].msg);
    }
}

static void test_shell_split(void **state)
{
    (void)state;
    struct cm_sh_script s = {0};
    assert_int_equal(cm_sh_split("DEBIAN_FRONTEND=noninteractive apt-get install -y 'a b' \"c $(d e)\" "
                                 "2>/dev/null && f || g; h | i |& j\n"
                                 "if [ -x k ]; then l \\\n  m; fi # trailing comment\n"
                                 "sh -c 'curl x | sh' > out",
                                 10, &s),
                     0);
    assert_int_equal(s.n, 11); /* "fi" alone is not a command */
    assert_string_equal(s.cmds[0].argv[0], "apt-get");
    assert_int_equal(s.cmds[0].argc, 5);
    assert_string_equal(s.cmds[0].argv[3], "a b");
    assert_string_equal(s.cmds[0].argv[4], "c $(d e)");
    assert_int_equal(s.cmds[1].op, CM_SH_AND);
    assert_int_equal(s.cmds[2].op, CM_SH_OR);
    assert_int_equal(s.cmds[3].op, CM_SH_SEQ);
    assert_int_equal(s.cmds[4].op, CM_SH_PIPE);
    assert_int_equal(s.cmds[5].op, CM_SH_PIPE);
    assert_string_equal(s.cmds[6].argv[0], "[");
    assert_int_equal(s.cmds[6].line, 11);
    assert_string_equal(s.cmds[7].argv[0], "l");
    assert_string_equal(s.cmds[7].argv[1], "m");
    assert_string_equal(s.cmds[8].argv[0], "sh");
    assert_int_equal(s.cmds[8].argc, 3); /* "> out" is not an argument */
    assert_int_equal(s.cmds[8].line, 13);
    assert_string_equal(s.cmds[9].argv[0], "curl");
    assert_string_equal(s.cmds[10].argv[0], "sh");
    assert_int_equal(s.cmds[10].op, CM_SH_PIPE);
    cm_sh_script_free(&s);

    /* garbage is tolerated */
    assert_int_equal(cm_sh_split("echo 'unclosed \"$(( `", 1, &s), 0);
    cm_sh_script_free(&s);
}

static void test_secret_recognisers(void **state)
{
    (void)state;
    assert_true(cm_secret_var_name("DB_PASSWORD"));
    assert_true(cm_secret_var_name("apiKey"));
    assert_true(cm_secret_var_name("AWS_SECRET_ACCESS_KEY"));
    assert_true(cm_secret_var_name("GITHUB_TOKEN"));
    assert_false(cm_secret_var_name("GPG_KEY"));
    assert_false(cm_secret_var_name("PASSWORD_FILE"));
    assert_false(cm_secret_var_name("MONKEY"));
    assert_false(cm_secret_var_name("PATH"));
    assert_non_null(cm_secret_file_name("/root/.ssh/id_rsa"));
    assert_null(cm_secret_file_name("/root/.ssh/id_rsa.pub"));
    assert_non_null(cm_secret_file_name("home/u/.aws/credentials"));
    assert_non_null(cm_secret_file_name(".env.production"));
    assert_null(cm_secret_file_name(".env.example"));
    assert_non_null(cm_secret_file_name("/x/.docker/config.json"));
    assert_null(cm_secret_file_name("/x/config.json"));
    const char *t = "token: xoxb-123456789012-abcdefABCDEF here";
    size_t off = 0, ml = 0;
    assert_string_equal(cm_secret_scan(t, strlen(t), &off, &ml), "Slack token");
    assert_int_equal(off, 7);
    t = "ok AKIAABCDEFGHIJKLMNO"; /* 19 characters: not a key id */
    assert_null(cm_secret_scan(t, strlen(t), NULL, NULL));
    t = "https://user:$PASS@host/";
    assert_null(cm_secret_scan(t, strlen(t), NULL, NULL));
    t = "https://user:hunter2@host/";
    assert_string_equal(cm_secret_scan(t, strlen(t), NULL, NULL), "password in URL");
}

/* ---- rules -------------------------------------------------------------- */

static size_t count(const char *text, const char *id, int *line)
{
    struct cm_report r = {0};
    struct cm_error err = {0};
    if (cm_audit_dockerfile(text, strlen(text), "Dockerfile", &r, &err) < 0)
        fail_msg("audit failed: %s", err.msg);
    size_t n = 0;
    for (size_t i = 0; i < r.n; i++) {
        if (!strcmp(r.findings[i].rule->id, id)) {
            if (!n && line)
                *line = r.findings[i].line;
            n++;
        }
        assert_non_null(r.findings[i].path);
        assert_true(r.findings[i].line > 0);
    }
    cm_report_free(&r);
    return n;
}

#define GHP "ghp_" "0123456789abcdefghijABCDEFGHIJ012345"

static const struct rule_case {
    const char *id;
    int line; /* expected line of the hit */
    const char *hit;
    const char *miss;
} rule_cases[] = {
    {"CM-DF-001", 2, "FROM a:1\nENV DB_PASSWORD=hunter2 APP=1\n",
     "FROM a:1\nENV GPG_KEY=ABCDEF PASSWORD_FILE=/run/secrets/pw EMPTY_TOKEN=\n"},
    {"CM-DF-002", 2, "FROM a:1\nARG GITHUB_TOKEN\n", "FROM a:1\nARG VERSION=1\n"},
    {"CM-DF-003", 3, "FROM a:1\nUSER app\nRUN curl -H \"Authorization: token " GHP "\" https://x\n",
     "FROM a:1\nRUN git clone https://github.com/x/y && curl -u \"$U:$P\" https://$H/\n"},
    {"CM-DF-004", 2, "FROM a:1\nCOPY id_rsa .env /root/\n",
     "FROM a:1\nCOPY id_rsa.pub /root/.ssh/authorized_keys\nCOPY .env.example /app/\n"},
    {"CM-DF-005", 1, "FROM a:1\nRUN true\n", "FROM a:1\nUSER app\n"},
    {"CM-DF-006", 3, "FROM a:1\nUSER app\nUSER root\n", "FROM a:1\nUSER root\nRUN x\nUSER 1000\n"},
    {"CM-DF-007", 2, "ARG V=latest\nFROM debian:$V\n", "FROM debian:12\n"},
    {"CM-DF-008", 1, "FROM debian:12\n",
     "FROM debian@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"},
    {"CM-DF-009", 2, "FROM a:1\nADD app.py /app/\n", "FROM a:1\nADD rootfs.tar.gz /\n"},
    {"CM-DF-010", 2, "FROM a:1\nADD https://x.example/y.sh /y.sh\n",
     "FROM a:1\nADD --checksum=sha256:abc https://x.example/y.sh /y.sh\n"},
    {"CM-DF-011", 3, "FROM a:1 AS b\nHEALTHCHECK CMD true\nFROM c:1\n",
     "FROM a:1 AS b\nHEALTHCHECK CMD true\nFROM b\n"},
    {"CM-DF-012", 2, "FROM a:1\nRUN sudo make install\n", "FROM a:1\nRUN make install && echo sudo\n"},
    {"CM-DF-013", 2, "FROM a:1\nRUN apt-get update && apt-get install -y sudo\n",
     "FROM a:1\nRUN apt-get update && apt-get install -y gosu\n"},
    {"CM-DF-014", 2, "FROM a:1\nRUN apt-get update\nRUN apt-get install -y x\n",
     "FROM a:1\nRUN apt-get update && apt-get install -y x\n"},
    {"CM-DF-015", 2, "FROM a:1\nRUN apt-get update && apt-get -y dist-upgrade\n",
     "FROM a:1\nRUN apt-get update && apt-get install -y --only-upgrade openssl\n"},
    {"CM-DF-016", 2, "FROM a:1\nRUN apt-get install -y curl\n",
     "FROM a:1\nRUN apt-get install -y --no-install-recommends curl\n"},
    {"CM-DF-017", 2, "FROM a:1\nRUN curl -fsSL https://get.example | sh\n",
     "FROM a:1\nRUN curl -fsSLo /tmp/i.sh https://get.example && sha256sum -c i.sha && sh /tmp/i.sh\n"},
    {"CM-DF-018", 2, "FROM a:1\nRUN curl -fsSL https://x | tar xz\n",
     "FROM a:1\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN curl -fsSL https://x | tar xz\n"
     "RUN set -o pipefail && wget -qO- https://y | tar x\n"},
    {"CM-DF-019", 2, "FROM a:1\nRUN chmod -R 777 /app\n",
     "FROM a:1\nRUN chmod 1777 /scratch && chmod 755 /app && chmod o-w /x\n"},
    {"CM-DF-020", 2, "FROM a:1\nRUN chmod u+s /usr/bin/x\n",
     "FROM a:1\nRUN chmod u-s /usr/bin/x && chmod 0755 /y\n"},
    {"CM-DF-021", 2, "FROM a:1\nEXPOSE 80 22/tcp\n", "FROM a:1\nEXPOSE 2222 8022/tcp\n"},
    {"CM-DF-022", 2, "FROM a:1\nRUN apt-get install -y --no-install-recommends openssh-server\n",
     "FROM a:1\nRUN apt-get install -y --no-install-recommends openssh-client\n"},
    {"CM-DF-023", 3, "FROM a:1\nUSER app\nCMD [\"supervisord\", \"-n\"]\n",
     "FROM a:1\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\n"},
    {"CM-DF-024", 1, "FROM someuser/tool:1.0\n",
     "FROM library/debian:12\nFROM ghcr.io/org/tool:1\n"},
    {"CM-DF-025", 1, "FROM debian:12\n", "FROM registry.example.com/base:1\n"},
    {"CM-DF-026", 2, "FROM a:1\nRUN curl -fsSLk https://x -o y\n",
     "FROM a:1\nRUN curl -fsSL https://x -o y && wget -q https://z\n"},
    {"CM-DF-027", 2, "FROM a:1\nWORKDIR /usr/bin/\n", "FROM a:1\nWORKDIR /app\n"},
    {"CM-DF-028", 2, "FROM a:1\nVOLUME [\"/data\", \"/sys/fs/cgroup\"]\n",
     "FROM a:1\nVOLUME /data /var/lib/postgresql\n"},
    {"CM-DF-029", 2, "FROM a:1\nRUN cd /src && make\n", "FROM a:1\nWORKDIR /src\nRUN make\n"},
    {"CM-DF-030", 2, "FROM a:1\nRUN apt-get update && apt-get install -y --no-install-recommends x\n",
     "FROM a:1\nRUN apt-get update && apt-get install -y --no-install-recommends x "
     "&& rm -rf /var/lib/apt/lists/*\n"},
    {"CM-DF-031", 2, "FROM a:1\nRUN apk add curl\n", "FROM a:1\nRUN apk add --no-cache curl\n"},
    {"CM-DF-032", 2, "FROM a:1\nRUN --security=insecure make\n",
     "FROM a:1\nRUN --network=none make\n"},
};

static void test_every_rule_hits_and_misses(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rule_cases) / sizeof(rule_cases[0]); i++) {
        const struct rule_case *c = &rule_cases[i];
        bool registry = !strcmp(c->id, "CM-DF-025");
        if (registry)
            setenv("CASEMATE_TRUSTED_REGISTRIES", "registry.example.com, ghcr.io", 1);
        int line = 0;
        size_t hits = count(c->hit, c->id, &line);
        size_t misses = count(c->miss, c->id, NULL);
        if (registry)
            unsetenv("CASEMATE_TRUSTED_REGISTRIES");
        if (hits == 0)
            fail_msg("%s: expected a finding in:\n%s", c->id, c->hit);
        if (line != c->line)
            fail_msg("%s: finding on line %d, expected %d", c->id, line, c->line);
        if (misses)
            fail_msg("%s: unexpected finding in:\n%s", c->id, c->miss);
    }
}

static void test_every_rule_has_a_case(void **state)
{
    (void)state;
    size_t n = 0;
    for (const struct cm_rule *r = cm_dockerfile_rules; r->id; r++, n++) {
        bool found = false;
        for (size_t i = 0; i < sizeof(rule_cases) / sizeof(rule_cases[0]); i++)
            found = found || !strcmp(rule_cases[i].id, r->id);
        if (!found)
            fail_msg("rule %s has no test case", r->id);
        assert_non_null(r->topic);
        assert_non_null(r->title);
        assert_non_null(r->remediation);
        assert_non_null(r->references);
    }
    assert_int_equal(n, sizeof(rule_cases) / sizeof(rule_cases[0]));
}

static void test_more_variants(void **state)
{
    (void)state;
    /* curl | sh in all its spellings */
    assert_int_equal(count("FROM a:1\nRUN wget -qO- https://x | sudo -E bash -s --\n", "CM-DF-017", NULL), 1);
    assert_int_equal(count("FROM a:1\nRUN sh -c \"$(curl -fsSL https://x)\"\n", "CM-DF-017", NULL), 1);
    assert_int_equal(count("FROM a:1\nRUN bash <(curl -s https://x)\n", "CM-DF-017", NULL), 1);
    assert_int_equal(count("FROM a:1\nRUN curl -s https://x | python3.11 -\n", "CM-DF-017", NULL), 1);
    /* setuid / world-writable by octal and via COPY --chmod */
    assert_int_equal(count("FROM a:1\nRUN chmod 4755 /x\n", "CM-DF-020", NULL), 1);
    assert_int_equal(count("FROM a:1\nCOPY --chmod=2755 x /x\n", "CM-DF-020", NULL), 1);
    assert_int_equal(count("FROM a:1\nRUN chmod a+rwx /x\n", "CM-DF-019", NULL), 1);
    assert_int_equal(count("FROM a:1\nCOPY --chmod=666 x /x\n", "CM-DF-019", NULL), 1);
    /* only the final image matters for what it ships */
    assert_int_equal(count("FROM a:1 AS b\nRUN chmod 777 /x\nFROM c:1\n", "CM-DF-019", NULL), 0);
    assert_int_equal(count("FROM a:1 AS b\nRUN chmod 777 /x\nFROM b\n", "CM-DF-019", NULL), 1);
    /* the final stage inherits USER from the stage it builds on */
    assert_int_equal(count("FROM a:1 AS b\nUSER app\nFROM b\n", "CM-DF-005", NULL), 0);
    /* USER from a build argument without default: unknown, not missing */
    assert_int_equal(count("FROM a:1\nARG UID\nUSER $UID\n", "CM-DF-005", NULL), 0);
    assert_int_equal(count("FROM a:1\nARG UID\nUSER $UID\n", "CM-DF-006", NULL), 0);
    assert_int_equal(count("FROM a:1\nARG U=root\nUSER ${U}\n", "CM-DF-006", NULL), 1);
    /* ONBUILD triggers are checked too */
    assert_int_equal(count("FROM a:1\nONBUILD RUN sudo x\n", "CM-DF-012", NULL), 1);
    /* a secret in a heredoc body, with its own line */
    int line = 0;
    assert_int_equal(count("FROM a:1\nCOPY <<EOF /k\nline\n-----BEGIN RSA PRIVATE KEY-----\nEOF\n",
                           "CM-DF-003", &line), 1);
    assert_int_equal(line, 4);
    /* cache mounts replace the apt lists cleanup */
    assert_int_equal(count("FROM a:1\nRUN --mount=type=cache,target=/var/lib/apt apt-get update && "
                           "apt-get install -y --no-install-recommends x\n", "CM-DF-030", NULL), 0);
    /* yum update with no package is an upgrade; with one it is not */
    assert_int_equal(count("FROM a:1\nRUN yum -y update\n", "CM-DF-015", NULL), 1);
    assert_int_equal(count("FROM a:1\nRUN yum -y update openssl\n", "CM-DF-015", NULL), 0);
    /* shift operators are not heredocs */
    assert_int_equal(count("FROM a:1\nRUN echo $((1<<2)) && sudo x\n", "CM-DF-012", NULL), 1);
    /* an unresolved variable in FROM says nothing */
    assert_int_equal(count("ARG IMG\nFROM $IMG\n", "CM-DF-007", NULL), 0);
    assert_int_equal(count("FROM scratch\n", "CM-DF-007", NULL), 0);
}

static void test_clean_dockerfile_nothing_above_low(void **state)
{
    (void)state;
    const char *clean =
        "# syntax=docker/dockerfile:1\n"
        "FROM golang:1.22-bookworm AS build\n"
        "WORKDIR /src\n"
        "COPY go.mod go.sum ./\n"
        "RUN --mount=type=cache,target=/root/.cache go mod download\n"
        "COPY . .\n"
        "RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app\n"
        "\n"
        "FROM debian:12-slim\n"
        "RUN apt-get update \\\n"
        " && apt-get install -y --no-install-recommends ca-certificates \\\n"
        " && rm -rf /var/lib/apt/lists/* \\\n"
        " && useradd --system --uid 10001 app\n"
        "COPY --from=build /out/app /usr/local/bin/app\n"
        "USER app\n"
        "EXPOSE 8080\n"
        "HEALTHCHECK CMD [\"/usr/local/bin/app\", \"healthcheck\"]\n"
        "ENTRYPOINT [\"/usr/local/bin/app\"]\n";
    struct cm_report r = {0};
    struct cm_error err = {0};
    assert_int_equal(cm_audit_dockerfile(clean, strlen(clean), "Dockerfile", &r, &err), 0);
    for (size_t i = 0; i < r.n; i++)
        if (r.findings[i].severity > CM_SEV_LOW)
            fail_msg("clean Dockerfile: %s %s", r.findings[i].rule->id, r.findings[i].evidence);
    cm_report_free(&r);
}

static void test_secret_values_redacted(void **state)
{
    (void)state;
    const char *text = "FROM a:1\nENV DB_PASSWORD=hunter2\nARG API_KEY=s3cr3tv4lue\n"
                       "RUN echo " GHP " > /t\n";
    struct cm_report r = {0};
    struct cm_error err = {0};
    assert_int_equal(cm_audit_dockerfile(text, strlen(text), "Dockerfile", &r, &err), 0);
    assert_true(r.n >= 3);
    for (size_t i = 0; i < r.n; i++) {
        const char *ev = r.findings[i].evidence ? r.findings[i].evidence : "";
        assert_null(strstr(ev, "hunter2"));
        assert_null(strstr(ev, "s3cr3tv4lue"));
        assert_null(strstr(ev, GHP));
    }
    cm_report_free(&r);
}

static void test_audit_reports_parse_errors(void **state)
{
    (void)state;
    struct cm_report r = {0};
    struct cm_error err = {0};
    const char *text = "FROM a:1\n\nFOO bar\n";
    assert_int_equal(cm_audit_dockerfile(text, strlen(text), "app/Dockerfile", &r, &err), -1);
    assert_string_equal(err.msg, "app/Dockerfile:3: unknown instruction FOO");
    assert_int_equal(r.n, 0);
    cm_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_continuations_comments_lines),
        cmocka_unit_test(test_escape_directive_backtick),
        cmocka_unit_test(test_heredocs),
        cmocka_unit_test(test_json_and_shell_forms),
        cmocka_unit_test(test_substitution_and_arg_scope),
        cmocka_unit_test(test_multistage_flags),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_shell_split),
        cmocka_unit_test(test_secret_recognisers),
        cmocka_unit_test(test_every_rule_hits_and_misses),
        cmocka_unit_test(test_every_rule_has_a_case),
        cmocka_unit_test(test_more_variants),
        cmocka_unit_test(test_clean_dockerfile_nothing_above_low),
        cmocka_unit_test(test_secret_values_redacted),
        cmocka_unit_test(test_audit_reports_parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
