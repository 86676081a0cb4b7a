/* error.c: see error.h. */
#include "util/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

bool cm_debug_enabled;

static void vset(struct cm_error *err, int errnum, const char *fmt, va_list ap)
{
    if (!err)
        return;
    err->errnum = errnum;
    int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    if (n < 0)
        err->msg[0] = '\0';
    if (errnum) {
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(errnum));
    }
}

int cm_err_set(struct cm_error *err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, errnum, fmt, ap);
    va_end(ap);
    return -1;
}

int cm_err_sys(struct cm_error *err, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    vset(err, saved, fmt, ap);
    va_end(ap);
    errno = saved;
    return -1;
}

int cm_err_prefix(struct cm_error *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    char old[sizeof(err->msg)];
    memcpy(old, err->msg, sizeof(old));
    snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
    return -1;
}

void cm_err_clear(struct cm_error *err)
{
    if (err) {
        err->errnum = 0;
        err->msg[0] = '\0';
    }
}

void cm_err_print(const struct cm_error *err)
{
    fprintf(stderr, "casemate: %s\n", err && err->msg[0] ? err->msg : "unknown error");
}

static void vprint(const char *kind, const char *fmt, va_list ap)
{
    char buf[2048];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    fprintf(stderr, "casemate: %s%s\n", kind, buf);
}

void cm_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint("warning: ", fmt, ap);
    va_end(ap);
}

void cm_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint("", fmt, ap);
    va_end(ap);
}

int cm_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint("", fmt, ap);
    va_end(ap);
    return CM_EXIT_FAILURE;
}

void cm_debug(const char *fmt, ...)
{
    if (!cm_debug_enabled)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprint("debug: ", fmt, ap);
    va_end(ap);
}
