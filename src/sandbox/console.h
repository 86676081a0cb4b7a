/* console.h: the container's terminal (-t).
 *
 * The pty is allocated inside the container, from its own devpts instance,
 * so the container never holds a host pty; the master goes to the parent,
 * which copies between it and the user's terminal. */
#ifndef CASEMATE_SANDBOX_CONSOLE_H
#define CASEMATE_SANDBOX_CONSOLE_H

#include <stdbool.h>
#include <termios.h>

#include "util/error.h"

/* In the container child, after pivot_root: open /dev/ptmx, make the slave
 * the controlling terminal and fds 0-2. Returns the master fd. */
int cm_console_setup_child(struct cm_error *err);

/* Host side: put our terminal in raw mode (saved in *saved, *was_raw set). */
int cm_console_raw(int fd, struct termios *saved, bool *was_raw);
void cm_console_restore(int fd, const struct termios *saved, bool was_raw);
/* Copy our terminal's size to the master. */
void cm_console_resize(int from_fd, int master);

#endif
