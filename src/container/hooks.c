/* hooks.c: see hooks.h. */
#include "container/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"

static const char *const hook_names[CM_HOOK_KIND_COUNT] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

char *cm_hook_state_json(const struct cm_spec *spec, const char *status, pid_t pid)
{
    json_t *o = json_object();
    json_t *ann = json_object();
    if (!o || !ann) {
        json_decref(o);
        json_decref(ann);
        return NULL;
    }
    for (size_t i = 0; i < spec->n_annotations; i++)
        json_object_set_new(ann, spec->annotations[i].key, json_string(spec->annotations[i].value));
    json_object_set_new(o, "ociVersion", json_string("1.2.0"));
    json_object_set_new(o, "id", json_string(spec->id ? spec->id : ""));
    json_object_set_new(o, "status", json_string(status));
    if (pid > 0)
        json_object_set_new(o, "pid", json_integer(pid));
    json_object_set_new(o, "bundle", json_string(spec->bundle ? spec->bundle : ""));
    json_object_set_new(o, "annotations", ann);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

static int run_one(const struct cm_hook *h, const char *kind, const char *state, struct cm_error *err)
{
    int in[2];
    if (pipe2(in, O_CLOEXEC) < 0)
        return cm_err_sys(err, "%s hook %s: pipe", kind, h->path);
    char *const default_args[] = {h->path, NULL};
    char *const empty_env[] = {NULL};
    pid_t pid = fork();
    if (pid < 0) {
        close(in[0]);
        close(in[1]);
        return cm_err_sys(err, "%s hook %s: fork", kind, h->path);
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (dup2(in[0], 0) < 0)
            _exit(127);
        execve(h->path, h->args && h->args[0] ? h->args : default_args, h->env ? h->env : empty_env);
        _exit(127);
    }
    close(in[0]);
    size_t len = strlen(state);
    signal(SIGPIPE, SIG_IGN);
    if (write(in[1], state, len) != (ssize_t)len && errno != EPIPE)
        cm_debug("%s hook %s did not read the state", kind, h->path);
    close(in[1]);
    _cleanup_close_ int pfd = pidfd_open(pid, 0);
    if (pfd >= 0 && h->timeout > 0) {
        struct pollfd p = {.fd = pfd, .events = POLLIN};
        int r;
        do
            r = poll(&p, 1, h->timeout * 1000);
        while (r < 0 && errno == EINTR);
        if (r == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return cm_err_set(err, 0, "%s hook %s timed out after %d s", kind, h->path, h->timeout);
        }
    }
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return cm_err_sys(err, "%s hook %s: wait", kind, h->path);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFSIGNALED(status))
        return cm_err_set(err, 0, "%s hook %s was killed by signal %d", kind, h->path, WTERMSIG(status));
    return cm_err_set(err, 0, "%s hook %s exited with status %d", kind, h->path, WEXITSTATUS(status));
}

int cm_hooks_run(const struct cm_spec *spec, enum cm_hook_kind kind, const char *state_json,
                 struct cm_error *err)
{
    for (size_t i = 0; i < spec->n_hooks[kind]; i++)
        if (run_one(&spec->hooks[kind][i], hook_names[kind], state_json ? state_json : "{}", err) < 0)
            return -1;
    return 0;
}
