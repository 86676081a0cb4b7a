/* error.h: errors that carry context as they rise.
 *
 * Library code never exits and never prints: it fills a cm_error (errno plus
 * a message) and returns -1. Callers add context with cm_err_prefix, so the
 * user finally reads one line: what was being done, to what, and why:
 *   casemate: mounting /proc in /srv/rootfs: /srv/rootfs/proc is a symlink */
#ifndef CASEMATE_UTIL_ERROR_H
#define CASEMATE_UTIL_ERROR_H

#include <stdarg.h>
#include <stdbool.h>

/* Exit codes, as Docker uses them. */
enum {
    CM_EXIT_OK = 0,
    CM_EXIT_FAILURE = 125,    /* casemate itself failed */
    CM_EXIT_CANNOT_EXEC = 126, /* the command exists but cannot be run */
    CM_EXIT_NOT_FOUND = 127,   /* the command does not exist */
};

struct cm_error {
    int errnum;      /* errno of the root cause, 0 when none */
    char msg[1024];  /* "what: why", without the "casemate: " prefix */
};

/* Set the error; appends ": strerror(errnum)" when errnum != 0. Returns -1. */
int cm_err_set(struct cm_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, with errno as errnum. Returns -1. */
int cm_err_sys(struct cm_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prepend context: "context: previous message". Returns -1. */
int cm_err_prefix(struct cm_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cm_err_clear(struct cm_error *err);

/* "casemate: <msg>\n" on stderr. */
void cm_err_print(const struct cm_error *err);

/* Diagnostics on stderr, "casemate: warning: ...". */
void cm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cm_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "casemate: <msg>" and return CM_EXIT_FAILURE; for the CLI layer. */
int cm_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --log FILE [--log-format json]: every diagnostic is also appended there,
 * as engines expect ({"level":"error","msg":"...","time":"..."} per line in
 * JSON). Best effort: a log that cannot be opened is ignored. */
void cm_log_open(const char *path, bool json);

/* Global verbosity (set once by main from --debug / CASEMATE_DEBUG). */
extern bool cm_debug_enabled;
void cm_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
