/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "log.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static LogTarget log_target = LOG_TARGET_AUTO;
static LogTarget log_resolved = _LOG_TARGET_MAX; /* AUTO resolved once, at the first message */
static int log_max_level = LOG_INFO;
static int kmsg_fd = -EBADF;

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",   [LOG_ERR] = "err",
        [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

static const char *const target_names[_LOG_TARGET_MAX] = {
        [LOG_TARGET_AUTO] = "auto",
        [LOG_TARGET_JOURNAL] = "journal",
        [LOG_TARGET_KMSG] = "kmsg",
        [LOG_TARGET_STDERR] = "stderr",
};

void log_set_target(LogTarget t) {
        log_target = t;
        log_resolved = _LOG_TARGET_MAX;
        log_close();
}

LogTarget log_get_target(void) {
        return log_target;
}

void log_set_max_level(int level) {
        if (level >= LOG_EMERG && level <= LOG_DEBUG)
                log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

void log_close(void) {
        if (kmsg_fd >= 0)
                (void) close(kmsg_fd);
        kmsg_fd = -EBADF;
}

int log_level_from_string(const char *s) {
        if (isempty(s))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (streq(s, level_names[i]))
                        return (int) i;
        if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
                return s[0] - '0';
        return -EINVAL;
}

const char *log_level_to_string(int level) {
        if (level < 0 || level >= (int) ELEMENTSOF(level_names))
                return NULL;
        return level_names[level];
}

int log_target_from_string(const char *s) {
        if (isempty(s))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(target_names); i++)
                if (streq(s, target_names[i]))
                        return (int) i;
        return -EINVAL;
}

static LogTarget resolve_target(void) {
        if (log_resolved != _LOG_TARGET_MAX)
                return log_resolved;

        log_resolved = log_target;
        if (log_target == LOG_TARGET_AUTO) {
                if (access(JOURNAL_SOCKET, W_OK) == 0)
                        log_resolved = LOG_TARGET_JOURNAL;
                else if (access("/dev/kmsg", W_OK) == 0)
                        log_resolved = LOG_TARGET_KMSG;
                else
                        log_resolved = LOG_TARGET_STDERR;
        }
        if (log_resolved == LOG_TARGET_KMSG && kmsg_fd < 0) {
                kmsg_fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
                if (kmsg_fd < 0)
                        log_resolved = LOG_TARGET_STDERR;
        }
        return log_resolved;
}

static void write_kmsg(int level, const char *msg) {
        char line[LOG_MESSAGE_MAX + 32];
        int n;

        /* "<level>ephroot: message" - the kernel adds the facility-less priority prefix itself. */
        n = snprintf(line, sizeof(line), "<%i>ephroot[%i]: %s\n", level, (int) getpid(), msg);
        if (n < 0)
                return;
        if ((size_t) n >= sizeof(line))
                n = sizeof(line) - 1;
        (void) !write(kmsg_fd, line, (size_t) n);
}

static const LogErrorSink *error_sink = NULL;

const LogErrorSink *log_set_error_sink(const LogErrorSink *sink) {
        const LogErrorSink *prev = error_sink;

        error_sink = sink;
        return prev;
}

int log_internal(int level, int error, const char *file, int line, const char *func, const char *format, ...) {
        char msg[LOG_MESSAGE_MAX];
        int saved_errno = errno, e = ERRNO_VALUE(error);
        va_list ap;

        if (level > log_max_level)
                return -e;

        /* %m in the format means the error passed in, not whatever errno happens to hold. */
        errno = e;
        va_start(ap, format);
        (void) vsnprintf(msg, sizeof(msg), format, ap);
        va_end(ap);

        if (level <= LOG_ERR && error_sink) {
                error_sink->error(msg, error_sink->userdata);
                errno = saved_errno;
                return -e;
        }

        switch (resolve_target()) {
        case LOG_TARGET_JOURNAL: {
                char codefile[256], codeline[32];

                (void) snprintf(codefile, sizeof(codefile), "CODE_FILE=%s", file);
                (void) snprintf(codeline, sizeof(codeline), "CODE_LINE=%i", line);
                if (sd_journal_send_with_location(codefile, codeline, func, "MESSAGE=%s", msg,
                                                  "PRIORITY=%i", level, "SYSLOG_IDENTIFIER=ephroot",
                                                  e ? "ERRNO=%i" : NULL, e, NULL) >= 0)
                        break;
                _fallthrough_;
        }
        case LOG_TARGET_KMSG:
                if (kmsg_fd >= 0) {
                        write_kmsg(level, msg);
                        break;
                }
                _fallthrough_;
        default:
                (void) fprintf(stderr, "%s\n", msg);
        }

        errno = saved_errno;
        return -e;
}
