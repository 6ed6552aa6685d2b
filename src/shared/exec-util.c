/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <assert.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec-util.h"
#include "log.h"
#include "util.h"

int exec_find(const char *name, char **ret) {
        static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                char *p;

                if (asprintf(&p, "%s/%s", dirs[i], name) < 0)
                        return -ENOMEM;
                if (access(p, X_OK) == 0) {
                        *ret = p;
                        return 0;
                }
                free(p);
        }
        return -ENOENT;
}

pid_t exec_start(char *const argv[]) {
        static char *const empty_env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
        pid_t pid;

        assert_return(argv && argv[0] && argv[0][0] == '/', -EINVAL);

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd >= 0)
                        (void) dup2(fd, STDIN_FILENO);
                (void) dup2(STDERR_FILENO, STDOUT_FILENO);
                execve(argv[0], argv, empty_env);
                _exit(127);
        }
        return pid;
}

int exec_reap(pid_t pid, uint64_t deadline_usec) {
        int status;

        assert_return(pid > 0, -EINVAL);

        for (;;) {
                pid_t k = waitpid(pid, &status, WNOHANG);
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k == pid)
                        break;
                if (now_usec(CLOCK_MONOTONIC) >= deadline_usec) {
                        (void) kill(pid, SIGKILL);
                        (void) waitpid(pid, &status, 0);
                        return -ETIMEDOUT;
                }
                (void) nanosleep(&(struct timespec) { .tv_nsec = 10 * 1000 * 1000 }, NULL);
        }

        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        return -ECHILD;
}

void exec_kill(pid_t *pid) {
        if (!pid || *pid <= 0)
                return;
        (void) kill(*pid, SIGKILL);
        (void) waitpid(*pid, NULL, 0);
        *pid = 0;
}

int exec_wait(char *const argv[], uint64_t timeout_usec) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        pid_t pid = exec_start(argv);

        if (pid < 0)
                return pid;
        return exec_reap(pid, deadline);
}

typedef struct ForkResult {
        int32_t error; /* 0, or the positive errno fn failed with */
        uint64_t usec; /* fn's run time */
        char message[FORK_JOB_MESSAGE_MAX];
} ForkResult;

static_assert(sizeof(ForkResult) <= PIPE_BUF, "the result is one atomic pipe write");

static void child_collect(const char *message, void *userdata) {
        ForkResult *res = userdata;

        if (res->message[0] == '\0')
                (void) snprintf(res->message, sizeof(res->message), "%s", message);
}

_noreturn_ static void fork_child(ForkFunc fn, void *userdata, int fd) {
        ForkResult res = {};
        LogErrorSink sink = { .error = child_collect, .userdata = &res };
        uint64_t start = now_usec(CLOCK_MONOTONIC);
        int r;

        /* The parent's pages stay locked only while they are shared: lock this copy too. */
        (void) mlockall(MCL_CURRENT | MCL_FUTURE);
        /* Its failure is the parent's to report, once. */
        (void) log_set_error_sink(&sink);

        r = fn(userdata);
        res.error = r < 0 ? -r : 0;
        res.usec = now_usec(CLOCK_MONOTONIC) - start;
        if (write(fd, &res, sizeof(res)) != (ssize_t) sizeof(res))
                _exit(EXIT_FAILURE);
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

int fork_job_start(ForkFunc fn, void *userdata, uint64_t timeout_usec, ForkJob *ret) {
        int fds[2], r;
        pid_t pid;

        assert_return(fn && ret, -EINVAL);

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        fflush(stdout); /* nothing buffered is written twice */
        pid = fork();
        if (pid < 0) {
                r = -errno;
                (void) close(fds[0]);
                (void) close(fds[1]);
                return r;
        }
        if (pid == 0) {
                (void) close(fds[0]);
                fork_child(fn, userdata, fds[1]);
        }
        (void) close(fds[1]);
        *ret = (ForkJob) { .pid = pid, .fd = fds[0], .deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec };
        return 0;
}

int fork_job_finish(ForkJob *j, char *message, uint64_t *ret_usec) {
        ForkResult res = {};
        ssize_t n;
        int r;

        assert_return(j && j->pid > 0 && j->fd >= 0 && message, -EINVAL);

        message[0] = '\0';
        r = exec_reap(j->pid, j->deadline);
        j->pid = 0;
        if (r == -ETIMEDOUT)
                return r;
        n = read(j->fd, &res, sizeof(res));
        j->fd = safe_close(j->fd);
        if (n != (ssize_t) sizeof(res) || res.error < 0 || res.error > 4095 || (r < 0) != (res.error != 0))
                return -EPROTO;
        res.message[sizeof(res.message) - 1] = '\0';
        if (res.error != 0) {
                memcpy(message, res.message, sizeof(res.message));
                return -res.error;
        }
        if (ret_usec)
                *ret_usec = res.usec;
        return 0;
}

void fork_job_done(ForkJob *j) {
        if (!j)
                return;
        exec_kill(&j->pid);
        j->fd = safe_close(j->fd);
}
