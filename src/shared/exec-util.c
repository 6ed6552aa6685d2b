/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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
