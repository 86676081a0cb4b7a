/* portproxy.c: see portproxy.h. */
#include "sandbox/portproxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"

static int parse_port(const char *s, uint16_t *out, bool allow_zero)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || *end || end == s || v < (allow_zero ? 0 : 1) || v > 65535)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

int cm_port_parse(const char *text, struct cm_port *out, struct cm_error *err)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->proto, sizeof(out->proto), "tcp");
    _cleanup_free_ char *copy = strdup(text);
    if (!copy)
        return cm_err_set(err, ENOMEM, "parsing -p %s", text);
    char *slash = strrchr(copy, '/');
    if (slash) {
        *slash = '\0';
        if (strcmp(slash + 1, "tcp"))
            return cm_err_set(err, 0, "-p %s: only tcp ports can be published", text);
    }
    /* [IP:][HOSTPORT:]PORT, IPv6 addresses in brackets. */
    char *fields[3] = {NULL};
    int n = 0;
    char *p = copy;
    if (*p == '[') {
        char *close = strchr(p, ']');
        if (!close || close[1] != ':')
            return cm_err_set(err, 0, "-p %s: bad IPv6 address", text);
        *close = '\0';
        fields[n++] = p + 1;
        p = close + 2;
    }
    for (char *tok = p; tok && n < 3;) {
        char *colon = strchr(tok, ':');
        if (colon)
            *colon = '\0';
        fields[n++] = tok;
        tok = colon ? colon + 1 : NULL;
        if (tok && n == 3)
            return cm_err_set(err, 0, "-p %s: expected [IP:][HOSTPORT:]PORT", text);
    }
    const char *ip = "127.0.0.1", *hostport = NULL, *port = NULL;
    if (n == 1) {
        port = fields[0];
    } else if (n == 2) {
        hostport = fields[0];
        port = fields[1];
    } else {
        ip = fields[0];
        hostport = fields[1];
        port = fields[2];
    }
    if (!*ip)
        ip = "127.0.0.1";
    if (parse_port(port, &out->container_port, false) < 0)
        return cm_err_set(err, 0, "-p %s: '%s' is not a port", text, port);
    if (hostport && *hostport) {
        if (parse_port(hostport, &out->host_port, false) < 0)
            return cm_err_set(err, 0, "-p %s: '%s' is not a port", text, hostport);
    }
    struct in6_addr a6;
    struct in_addr a4;
    if (inet_pton(AF_INET, ip, &a4) != 1 && inet_pton(AF_INET6, ip, &a6) != 1)
        return cm_err_set(err, 0, "-p %s: '%s' is not an IP address", text, ip);
    snprintf(out->host_ip, sizeof(out->host_ip), "%s", ip);
    return 0;
}

int cm_ports_listen(const struct cm_port *ports, size_t n, int *fds, struct cm_error *err)
{
    for (size_t i = 0; i < n; i++)
        fds[i] = -1;
    for (size_t i = 0; i < n; i++) {
        struct sockaddr_storage ss;
        socklen_t len;
        memset(&ss, 0, sizeof(ss));
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, ports[i].host_ip, &s4->sin_addr) == 1) {
            s4->sin_family = AF_INET;
            s4->sin_port = htons(ports[i].host_port);
            len = sizeof(*s4);
        } else {
            inet_pton(AF_INET6, ports[i].host_ip, &s6->sin6_addr);
            s6->sin6_family = AF_INET6;
            s6->sin6_port = htons(ports[i].host_port);
            len = sizeof(*s6);
        }
        fds[i] = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fds[i] < 0 || setsockopt(fds[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fds[i], (struct sockaddr *)&ss, len) < 0 || listen(fds[i], 128) < 0) {
            cm_err_sys(err, "publishing port %s:%u", ports[i].host_ip, ports[i].host_port);
            for (size_t j = 0; j <= i; j++)
                if (fds[j] >= 0)
                    close(fds[j]);
            return -1;
        }
    }
    return 0;
}

/* Copy both ways until either side closes. */
static _Noreturn void relay(int a, int b)
{
    struct pollfd p[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
    char buf[16384];
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            _exit(1);
        }
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = read(p[i].fd, buf, sizeof(buf));
            if (r <= 0) {
                shutdown(p[1 - i].fd, SHUT_WR);
                p[i].fd = -1;
                if (p[1 - i].fd < 0)
                    _exit(0);
                continue;
            }
            for (ssize_t off = 0; off < r;) {
                ssize_t w = write(p[1 - i].fd, buf + off, (size_t)(r - off));
                if (w <= 0)
                    _exit(0);
                off += w;
            }
        }
    }
}

static _Noreturn void proxy_main(const struct cm_port *ports, size_t n, const int *fds)
{
    struct pollfd *p = calloc(n, sizeof(*p));
    if (!p)
        _exit(1);
    for (size_t i = 0; i < n; i++)
        p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    signal(SIGCHLD, SIG_IGN); /* relays are reaped by the kernel */
    for (;;) {
        if (poll(p, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            _exit(1);
        }
        for (size_t i = 0; i < n; i++) {
            if (!(p[i].revents & POLLIN))
                continue;
            int client = accept4(fds[i], NULL, NULL, SOCK_CLOEXEC);
            if (client < 0)
                continue;
            pid_t r = fork();
            if (r == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                /* This socket is made in the container's namespace. */
                int up = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                struct sockaddr_in sa = {.sin_family = AF_INET,
                                         .sin_port = htons(ports[i].container_port),
                                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
                if (up < 0 || connect(up, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                    _exit(1);
                relay(client, up);
            }
            close(client);
        }
    }
}

pid_t cm_ports_start_proxy(pid_t container, const struct cm_port *ports, size_t n, const int *fds,
                           struct cm_error *err)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)container);
    _cleanup_close_ int netns = open(path, O_RDONLY | O_CLOEXEC);
    if (netns < 0)
        return cm_err_sys(err, "opening the container's network namespace"), -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return cm_err_sys(err, "starting the port proxy"), -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* Listening sockets stay in the host namespace; every socket made
         * after setns belongs to the container's. */
        if (setns(netns, CLONE_NEWNET) < 0)
            _exit(1);
        proxy_main(ports, n, fds);
    }
    return pid;
}
