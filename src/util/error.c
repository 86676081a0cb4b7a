/* error.c: see error.h. */
#include "util/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

bool cm_debug_enabled;

static FILE *log_file;
static bool log_json;

void cm_log_open(const char *path, bool json)
{
    log_file = fopen(path, "ae");
    log_json = json;
}

static void log_line(const char *level, const char *msg)
{
    if (!log_file)
        return;
    time_t now = time(NULL);
    struct tm tm;
    char ts[40];
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!log_json) {
        fprintf(log_file, "%s %s: %s\n", ts, level, msg);
    } else {
        fprintf(log_file, "{\"level\":\"%s\",\"msg\":\"", level);
        for (const char *p = msg; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if (c == '"' || c == '\\')
                fprintf(log_file, "\\%c", c);
            else if (c < 0x20)
                fprintf(log_file, "\\u%04x", c);
            else
                fputc(c, log_file);
        }
        fprintf(log_file, "\",\"time\":\"%s\"}\n", ts);
    }
    fflush(log_file);
}

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
    const char *msg = err && err->msg[0] ? err->msg : "unknown error";
    fprintf(stderr, "casemate: %s\n", msg);
    log_line("error", msg);
}

static void vprint(const char *kind, const char *fmt, va_list ap)
{
    char buf[2048];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    fprintf(stderr, "casemate: %s%s\n", kind, buf);
    log_line(!strcmp(kind, "warning: ") ? "warning" : !strncmp(kind, "debug: ", 7) ? "debug" : "error", buf);
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

/* Debug lines carry the time since the process started (from
 * /proc/self/stat would cost a read; the first debug call is close enough
 * to exec), so --debug doubles as a profile of the setup sequence. */
void cm_debug(const char *fmt, ...)
{
    if (!cm_debug_enabled)
        return;
    static struct timespec t0;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!t0.tv_sec && !t0.tv_nsec)
        t0 = now;
    double ms = (double)(now.tv_sec - t0.tv_sec) * 1e3 + (double)(now.tv_nsec - t0.tv_nsec) / 1e6;
    char kind[48];
    snprintf(kind, sizeof(kind), "debug: [%d %7.3f ms] ", (int)getpid(), ms);
    va_list ap;
    va_start(ap, fmt);
    vprint(kind, fmt, ap);
    va_end(ap);
}
