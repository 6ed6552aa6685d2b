/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* Runs argv[0] (an absolute path) with an empty environment, stdin from /dev/null and stdout to
 * stderr, and waits for it at most timeout_usec; on timeout it is killed. Returns 0 when it exited
 * 0, -ETIMEDOUT, -ECHILD for a non-zero exit or a signal, or -errno from fork/exec. No shell. */
int exec_wait(char *const argv[], uint64_t timeout_usec);

/* The two halves of exec_wait(), for a child that runs while the caller does something else:
 * exec_start() forks and execs as exec_wait() does and returns the child's pid (> 0) or -errno;
 * exec_reap() waits for it until deadline_usec (CLOCK_MONOTONIC) and returns as exec_wait() does. A
 * caller that gives up on the child kills and reaps it with exec_kill() (safe on pid <= 0). */
pid_t exec_start(char *const argv[]);
int exec_reap(pid_t pid, uint64_t deadline_usec);
void exec_kill(pid_t *pid);

/* Finds name in the initramfs' usual directories (/usr/sbin, /sbin, /usr/bin, /bin). */
int exec_find(const char *name, char **ret);
