/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small idioms shared by every module: ownership through cleanup attributes, string helpers, and
 * errno conventions (functions return -errno on failure). No logic lives here. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _fallthrough_ __attribute__((fallthrough))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Whether an int equals one of the values listed. */
#define IN_SET(x, ...)                                                  \
        ({                                                              \
                const int _x = (x);                                     \
                const int _v[] = { __VA_ARGS__ };                       \
                bool _found = false;                                    \
                for (size_t _i = 0; _i < ELEMENTSOF(_v); _i++)          \
                        if (_v[_i] == _x) {                             \
                                _found = true;                          \
                                break;                                  \
                        }                                               \
                _found;                                                 \
        })

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                                  \
        ({                                           \
                __typeof__(p) *_pp_ = &(p);          \
                __typeof__(p) _p_ = *_pp_;           \
                *_pp_ = NULL;                        \
                _p_;                                 \
        })

#define TAKE_FD(fd)                                  \
        ({                                           \
                int *_pfd_ = &(fd);                  \
                int _fd_ = *_pfd_;                   \
                *_pfd_ = -EBADF;                     \
                _fd_;                                \
        })

/* An error that the code made up rather than one the kernel returned: log_*_errno() then does not
 * pretend it came from a system call. The bit is stripped before the value is returned. */
#define SYNTHETIC_ERRNO_BIT (1 << 30)
#define SYNTHETIC_ERRNO(e) (SYNTHETIC_ERRNO_BIT | (e))
#define ERRNO_VALUE(e) ((abs(e)) & ~SYNTHETIC_ERRNO_BIT)

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)              \
        static inline void func##p(type *p) {                \
                if (*p)                                      \
                        func(*p);                            \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                (void) close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

static inline int safe_close(int fd) {
        if (fd >= 0)
                (void) close(fd);
        return -EBADF;
}

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

static inline bool isempty(const char *s) {
        return !s || !*s;
}

static inline const char *strempty(const char *s) {
        return s ?: "";
}

static inline const char *strna(const char *s) {
        return s ?: "n/a";
}

/* Whether a string equals one of the strings listed. */
#define STR_IN_SET(x, ...)                                              \
        ({                                                              \
                const char *const _s[] = { __VA_ARGS__ };               \
                bool _f = false;                                        \
                for (size_t _i = 0; _i < ELEMENTSOF(_s); _i++)          \
                        if (streq(x, _s[_i])) {                         \
                                _f = true;                              \
                                break;                                  \
                        }                                               \
                _f;                                                     \
        })

static inline const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

#define assert_return(expr, r)          \
        do {                            \
                if (!(expr))            \
                        return (r);     \
        } while (0)
