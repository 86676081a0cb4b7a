/* secrets.c: credential recognisers (see secrets.h). Hand-written matchers
 * rather than regex(3): they run over every candidate file of an image. */
#include "audit/secrets.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util/cleanup.h"

static const char *const secret_words[] = {
    "password", "passwd", "pass", "pwd", "secret", "secrets", "token", "apikey", "key",
    "credential", "credentials", "auth", "privatekey", "accesskey", "passphrase",
};
static const char *const public_words[] = {
    "public", "pub", "gpg", "pgp", "fingerprint", "file", "path", "dir", "keyring",
    "keyserver", "keyid", "url", "host", "user", "username", "name", "type", "method",
    "length", "size", "len", "id",
};

static bool word_in(const char *w, size_t l, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(list[i]) == l && strncasecmp(w, list[i], l) == 0)
            return true;
    return false;
}

bool cm_secret_var_name(const char *name)
{
    bool secret = false;
    const char *p = name;
    /* Look at the components of NAME_LIKE_THIS and nameLikeThis. */
    while (*p) {
        while (*p && !isalnum((unsigned char)*p))
            p++;
        const char *s = p;
        if (*p)
            p++;
        while (*p && isalnum((unsigned char)*p) &&
               !(isupper((unsigned char)*p) && islower((unsigned char)p[-1])))
            p++;
        size_t l = (size_t)(p - s);
        if (!l)
            break;
        if (word_in(s, l, public_words, ARRAY_SIZE(public_words)))
            return false;
        if (word_in(s, l, secret_words, ARRAY_SIZE(secret_words)))
            secret = true;
    }
    /* and the whole name for run-together forms: DBPASSWORD, MYSECRETTOKEN */
    if (!secret && (strcasestr(name, "password") || strcasestr(name, "secret") ||
                    strcasestr(name, "token") || strcasestr(name, "apikey")))
        secret = true;
    return secret;
}

static const struct {
    const char *name; /* exact last component, or suffix when it starts with '*' */
    const char *what;
} secret_files[] = {
    {"id_rsa", "SSH private key"},
    {"id_dsa", "SSH private key"},
    {"id_ecdsa", "SSH private key"},
    {"id_ed25519", "SSH private key"},
    {"*.pem", "PEM file"},
    {"*.key", "private key file"},
    {"*.p12", "PKCS#12 key store"},
    {"*.pfx", "PKCS#12 key store"},
    {"*.jks", "Java key store"},
    {"*.keystore", "key store"},
    {".env", "environment file"},
    {".netrc", "netrc credentials"},
    {"_netrc", "netrc credentials"},
    {".git-credentials", "git credentials"},
    {".pgpass", "PostgreSQL password file"},
    {".my.cnf", "MySQL credentials"},
    {".pypirc", "PyPI credentials"},
    {".dockercfg", "Docker registry credentials"},
    {".htpasswd", "htpasswd file"},
    {"credentials.json", "credentials file"},
    {"credentials", "credentials file"},
    {"secrets.yml", "secrets file"},
    {"secrets.yaml", "secrets file"},
    {"secrets.json", "secrets file"},
    {"*.tfstate", "Terraform state"},
    {"*.ovpn", "VPN profile"},
};

const char *cm_secret_file_name(const char *path)
{
    size_t pl = strlen(path);
    while (pl > 1 && path[pl - 1] == '/')
        pl--;
    const char *base = path;
    for (size_t i = 0; i < pl; i++)
        if (path[i] == '/')
            base = path + i + 1;
    size_t bl = (size_t)(path + pl - base);
    if (bl == 0)
        return NULL;
    /* paths that only mean something with their directory */
    if (bl == 11 && !strncmp(base, "config.json", 11) && base - path >= 8 &&
        !strncmp(base - 8, ".docker/", 8))
        return "Docker registry credentials";
    if (bl == 11 && !strncmp(base, "credentials", 11) && base - path >= 5 &&
        !strncmp(base - 5, ".aws/", 5))
        return "AWS credentials";
    if (bl > 5 && !strncmp(base, ".env.", 5)) {
        /* .env.production yes, .env.example / .env.sample / .env.template no */
        const char *sfx = base + 5;
        size_t sl = bl - 5;
        if (!(sl == 7 && !strncmp(sfx, "example", 7)) && !(sl == 6 && !strncmp(sfx, "sample", 6)) &&
            !(sl == 8 && !strncmp(sfx, "template", 8)) && !(sl == 4 && !strncmp(sfx, "dist", 4)))
            return "environment file";
    }
    for (size_t i = 0; i < ARRAY_SIZE(secret_files); i++) {
        const char *n = secret_files[i].name;
        if (n[0] == '*') {
            size_t sl = strlen(n + 1);
            if (bl > sl && !strncasecmp(base + bl - sl, n + 1, sl))
                return secret_files[i].what;
        } else if (strlen(n) == bl && !strncmp(base, n, bl)) {
            return secret_files[i].what;
        }
    }
    return NULL;
}

static bool run_of(const char *p, const char *end, size_t min, const char *set_kind)
{
    size_t n = 0;
    while (p + n < end && n < min) {
        unsigned char c = (unsigned char)p[n];
        bool ok;
        if (set_kind[0] == 'U') /* upper case and digits */
            ok = isupper(c) || isdigit(c);
        else /* token characters */
            ok = isalnum(c) || c == '_' || c == '-';
        if (!ok)
            break;
        n++;
    }
    return n >= min;
}

const char *cm_secret_scan(const char *buf, size_t len, size_t *off, size_t *mlen)
{
    const char *end = buf + len;
    for (const char *p = buf; p < end; p++) {
        const char *what = NULL;
        size_t ml = 0;
        switch (*p) {
        case '-':
            /* -----BEGIN RSA PRIVATE KEY----- / OPENSSH / EC / ENCRYPTED / plain */
            if ((size_t)(end - p) >= 16 && !memcmp(p, "-----BEGIN ", 11)) {
                const char *eol = memchr(p, '\n', (size_t)(end - p));
                size_t l = eol ? (size_t)(eol - p) : (size_t)(end - p);
                if (l < 80 && (memmem(p, l, "PRIVATE KEY-----", 16) ||
                               memmem(p, l, "PRIVATE KEY BLOCK-----", 22))) {
                    what = "private key";
                    ml = l;
                }
            }
            break;
        case 'A':
            if ((size_t)(end - p) >= 20 && (!memcmp(p, "AKIA", 4) || !memcmp(p, "ASIA", 4)) &&
                run_of(p + 4, end, 16, "U") &&
                (p + 20 == end || !isalnum((unsigned char)p[20])) &&
                (p == buf || !isalnum((unsigned char)p[-1]))) {
                what = "AWS access key id";
                ml = 20;
            }
            break;
        case 'g':
            if ((size_t)(end - p) >= 40 &&
                (!memcmp(p, "ghp_", 4) || !memcmp(p, "gho_", 4) || !memcmp(p, "ghs_", 4) ||
                 !memcmp(p, "ghu_", 4) || !memcmp(p, "ghr_", 4)) &&
                run_of(p + 4, end, 36, "t")) {
                what = "GitHub token";
                ml = 40;
            } else if ((size_t)(end - p) >= 33 && !memcmp(p, "github_pat_", 11) &&
                       run_of(p + 11, end, 22, "t")) {
                what = "GitHub token";
                ml = 33;
            } else if ((size_t)(end - p) >= 26 && !memcmp(p, "glpat-", 6) &&
                       run_of(p + 6, end, 20, "t")) {
                what = "GitLab token";
                ml = 26;
            }
            break;
        case 'x':
            if ((size_t)(end - p) >= 15 && p[1] == 'o' && p[2] == 'x' && strchr("baprs", p[3]) &&
                p[3] && p[4] == '-' && run_of(p + 5, end, 10, "t")) {
                what = "Slack token";
                ml = 15;
            }
            break;
        case 's':
            if ((size_t)(end - p) >= 32 && !memcmp(p, "sk_live_", 8) && run_of(p + 8, end, 24, "t")) {
                what = "Stripe secret key";
                ml = 32;
            }
            break;
        case 'n':
            if ((size_t)(end - p) >= 40 && !memcmp(p, "npm_", 4) && run_of(p + 4, end, 36, "t")) {
                what = "npm token";
                ml = 40;
            }
            break;
        case ':':
            /* scheme://user:password@host, the password not a $variable */
            if (p + 3 < end && p[1] == '/' && p[2] == '/') {
                const char *q = p + 3;
                const char *colon = NULL;
                while (q < end && (isalnum((unsigned char)*q) || strchr("._-~%!$&*+:", *q))) {
                    if (*q == ':' && !colon)
                        colon = q;
                    q++;
                }
                if (colon && q < end && *q == '@' && q > colon + 1 && colon[1] != '$' &&
                    colon > p + 3) {
                    what = "password in URL";
                    ml = (size_t)(q - p);
                }
            }
            break;
        default:
            break;
        }
        if (what) {
            if (off)
                *off = (size_t)(p - buf);
            if (mlen)
                *mlen = ml;
            return what;
        }
    }
    return NULL;
}
