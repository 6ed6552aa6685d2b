/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
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

/* A function run in a forked child (no exec), while the caller does something else: for library calls
 * that are not thread-safe (libdevmapper). The child mlockall()s at once (memory locks are not
 * inherited), captures the first message logged at LOG_ERR or worse instead of printing it, and
 * writes fn's result, its run time and that message into a pipe in one atomic write. */
typedef int (*ForkFunc)(void *userdata);

typedef struct ForkJob {
        pid_t pid;
        int fd;            /* the pipe's read end */
        uint64_t deadline; /* CLOCK_MONOTONIC */
} ForkJob;

#define FORK_JOB_NULL ((ForkJob) { .fd = -EBADF })
#define FORK_JOB_MESSAGE_MAX 2048

/* Forks; the child runs fn(userdata) and _exit()s. Returns 0 or -errno from pipe2/fork. */
int fork_job_start(ForkFunc fn, void *userdata, uint64_t timeout_usec, ForkJob *ret);
/* Waits for the child until the job's deadline. 0 when fn returned >= 0 (its run time in ret_usec);
 * -ETIMEDOUT (the child was killed); -EPROTO when the child ended without a result (a crash, a
 * signal); else fn's error, with the sentence it logged in message (empty when it logged none).
 * message: FORK_JOB_MESSAGE_MAX bytes (a plain pointer: `[static]` would make the NULL check dead,
 * which gcc 14 reports under -Wnonnull-compare). */
int fork_job_finish(ForkJob *j, char *message, uint64_t *ret_usec);
/* Kills and reaps a child still running and closes the pipe. Safe on a done or FORK_JOB_NULL job. */
void fork_job_done(ForkJob *j);

/* Finds name in the initramfs' usual directories (/usr/sbin, /sbin, /usr/bin, /bin). */
int exec_find(const char *name, char **ret);
