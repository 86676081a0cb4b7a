/* secrets.h: recognising credentials, shared by the Dockerfile and image
 * audits: secret-looking variable names, credential file names, and
 * credential values inside text (private keys, cloud keys, tokens). */
#ifndef CASEMATE_AUDIT_SECRETS_H
#define CASEMATE_AUDIT_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

/* A variable name that usually holds a secret (DB_PASSWORD, API_KEY, ...),
 * but not the public halves (GPG_KEY, *_PUBLIC_KEY) nor *_FILE or *_PATH. */
bool cm_secret_var_name(const char *name);

/* A file name (last path component, or a path ending) that usually holds
 * credentials: id_rsa, .env, *.pem, .netrc, credentials.json, .aws/credentials...
 * Returns a short description, or NULL. */
const char *cm_secret_file_name(const char *path);

/* The first credential value in buf: returns its kind ("AWS access key id",
 * "private key", ...) and sets *off and *mlen to where it is; NULL if none. */
const char *cm_secret_scan(const char *buf, size_t len, size_t *off, size_t *mlen);

#endif
