/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* Runs argv[0] (an absolute path) with an empty environment, stdin from /dev/null and stdout to
 * stderr, and waits for it at most timeout_usec; on timeout it is killed. Returns 0 when it exited
 * 0, -ETIMEDOUT, -ECHILD for a non-zero exit or a signal, or -errno from fork/exec. No shell. */
int exec_wait(char *const argv[], uint64_t timeout_usec);

/* Finds name in the initramfs' usual directories (/usr/sbin, /sbin, /usr/bin, /bin). */
int exec_find(const char *name, char **ret);
