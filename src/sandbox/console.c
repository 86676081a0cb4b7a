/* console.c: see console.h. */
#include "sandbox/console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/cleanup.h"

int cm_console_setup_child(struct cm_error *err)
{
    _cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return cm_err_sys(err, "allocating a terminal: opening /dev/ptmx");
    if (unlockpt(master) < 0)
        return cm_err_sys(err, "allocating a terminal: unlockpt");
    char name[64];
    if (ptsname_r(master, name, sizeof(name)) != 0)
        return cm_err_sys(err, "allocating a terminal: ptsname");
    _cleanup_close_ int slave = open(name, O_RDWR | O_NOCTTY);
    if (slave < 0)
        return cm_err_sys(err, "allocating a terminal: opening %s", name);
    if (setsid() < 0)
        return cm_err_sys(err, "allocating a terminal: setsid");
    if (ioctl(slave, TIOCSCTTY, 0) < 0)
        return cm_err_sys(err, "allocating a terminal: making %s the controlling terminal", name);
    for (int fd = 0; fd <= 2; fd++)
        if (dup2(slave, fd) < 0)
            return cm_err_sys(err, "allocating a terminal: dup2");
    return TAKE_FD(master);
}

int cm_console_raw(int fd, struct termios *saved, bool *was_raw)
{
    *was_raw = false;
    if (!isatty(fd))
        return 0;
    if (tcgetattr(fd, saved) < 0)
        return -1;
    struct termios raw = *saved;
    cfmakeraw(&raw);
    raw.c_oflag |= OPOST; /* keep \n -> \r\n for our own messages */
    if (tcsetattr(fd, TCSANOW, &raw) < 0)
        return -1;
    *was_raw = true;
    return 0;
}

void cm_console_restore(int fd, const struct termios *saved, bool was_raw)
{
    if (was_raw)
        tcsetattr(fd, TCSANOW, saved);
}

void cm_console_resize(int from_fd, int master)
{
    struct winsize ws;
    if (ioctl(from_fd, TIOCGWINSZ, &ws) == 0)
        ioctl(master, TIOCSWINSZ, &ws);
}
