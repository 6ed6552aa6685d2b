/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <syslog.h>

#include "macro.h"

/* Where log lines go. LOG_TARGET_AUTO picks the journal when its socket exists, else /dev/kmsg,
 * else stderr (see STYLE.md: early boot has no journal). Tests force stderr. */
typedef enum LogTarget {
        LOG_TARGET_AUTO,
        LOG_TARGET_JOURNAL,
        LOG_TARGET_KMSG,
        LOG_TARGET_STDERR,
        _LOG_TARGET_MAX,
} LogTarget;

void log_set_target(LogTarget t);
LogTarget log_get_target(void);
void log_set_max_level(int level);
int log_get_max_level(void);
void log_close(void);

/* The longest message written; longer ones are cut. */
#define LOG_MESSAGE_MAX 2048

/* Where messages at LOG_ERR and worse go instead of the log target while it is set: `ephroot boot`
 * turns a failure a callee logged into its one failure line (boot.c), and the verbs' configuration
 * loader hands its error to the verb (verbs.c). Other levels are written as usual. */
typedef struct LogErrorSink {
        void (*error)(const char *message, void *userdata);
        void *userdata;
} LogErrorSink;

/* Sets the sink (NULL: none) and returns the one it replaces, for the caller to put back. */
const LogErrorSink *log_set_error_sink(const LogErrorSink *sink);

/* Parses "emerg".."debug" or "0".."7"; returns the level or -EINVAL. */
int log_level_from_string(const char *s);
const char *log_level_to_string(int level);
int log_target_from_string(const char *s);

/* Logs (if level passes) and returns -ERRNO_VALUE(error) when error != 0, else 0. "%m" in the format
 * expands to strerror(ERRNO_VALUE(error)). */
int log_internal(int level, int error, const char *file, int line, const char *func, const char *format, ...)
        _printf_(6, 7);

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_full(level, ...) (void) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, (error), __VA_ARGS__)
#define log_info_errno(error, ...) log_full_errno(LOG_INFO, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, (error), __VA_ARGS__)

#define log_oom() log_error_errno(SYNTHETIC_ERRNO(ENOMEM), "Out of memory.")
