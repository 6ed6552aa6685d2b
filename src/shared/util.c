/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <strings.h>
#include <stdio.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* Frees a buffer of `size` bytes after wiping it: what this reads may be a secret (a key broker's
 * resource, a TLS key), and neither growing the buffer nor failing leaves a copy on the heap. */
static void wipe_free(char *p, size_t size) {
        if (p)
                explicit_bzero(p, size);
        free(p);
}

int read_full_fd_bounded(int fd, size_t max_size, char **ret, size_t *ret_size) {
        char *buf = NULL;
        size_t n = 0, allocated = 0;
        int r;

        assert_return(fd >= 0, -EBADF);
        assert_return(ret, -EINVAL);

        for (;;) {
                ssize_t k;

                if (allocated - n < 4096 + 1) {
                        size_t want = allocated ? allocated * 2 : 4096 + 1;
                        char *p;

                        if (want > max_size + 1)
                                want = max_size + 1;
                        if (want <= n) /* already holding max_size bytes and more is coming */
                                want = n + 1;
                        p = malloc(want + 1); /* not realloc(), which would free the old bytes unwiped */
                        if (!p) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        if (n > 0)
                                memcpy(p, buf, n);
                        wipe_free(buf, allocated + (buf ? 1 : 0));
                        buf = p;
                        allocated = want;
                }

                k = read(fd, buf + n, allocated - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto fail;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > max_size) {
                        r = -EFBIG;
                        goto fail;
                }
        }

        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[n] = '\0';
        *ret = buf;
        if (ret_size)
                *ret_size = n;
        return 0;

fail:
        wipe_free(buf, allocated + (buf ? 1 : 0));
        return r;
}

int read_full_file_bounded(const char *path, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;

        assert_return(path, -EINVAL);

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_full_fd_bounded(fd, max_size, ret, ret_size);
}

int open_in_root(const char *root, const char *path, int flags) {
        _cleanup_close_ int dir_fd = -EBADF;
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (flags & O_NOFOLLOW),
        };
        int fd;

        assert_return(path, -EINVAL);
        assert_return((flags & ~O_NOFOLLOW) == 0, -EINVAL);

        if (root) {
                dir_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (dir_fd < 0)
                        return -errno;
                how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        }
        fd = (int) syscall(SYS_openat2, root ? dir_fd : AT_FDCWD, path, &how, sizeof(how));
        /* Without openat2 (kernels before 5.6, valgrind 3.19): a plain open() has the same meaning
         * when no root confines the lookup; inside a root, there is no safe equivalent: refused. */
        if (fd < 0 && errno == ENOSYS && !root)
                fd = open(path, (int) how.flags);
        return fd < 0 ? -errno : fd;
}

int read_regular_file_in_root(const char *root, const char *path, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = open_in_root(root, path, /* flags= */ 0);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        return read_full_fd_bounded(fd, max_size, ret, ret_size);
}

char *strip_trailing_newlines(char *s) {
        size_t l = strlen(s);

        while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == '\r'))
                s[--l] = '\0';
        return s;
}

int read_one_line_file(const char *path, size_t max_size, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t n;
        int r;

        r = read_full_file_bounded(path, max_size, &buf, &n);
        if (r < 0)
                return r;
        if (memchr(buf, '\0', n))
                return -EBADMSG;
        strip_trailing_newlines(buf);
        *ret = TAKE_PTR(buf);
        return 0;
}

int pread_full(int fd, void *buf, size_t n, uint64_t offset) {
        uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = pread(fd, p, n, (off_t) offset);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO; /* shorter than its size said */
                p += k;
                n -= (size_t) k;
                offset += (uint64_t) k;
        }
        return 0;
}

int pwrite_full(int fd, const void *buf, size_t n, uint64_t offset) {
        const uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = pwrite(fd, p, n, (off_t) offset);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                p += k;
                n -= (size_t) k;
                offset += (uint64_t) k;
        }
        return 0;
}

int loop_write(int fd, const void *buf, size_t n) {
        const char *p = buf;

        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

char *hexmem(const void *p, size_t l) {
        static const char table[] = "0123456789abcdef";
        const uint8_t *x = p;
        char *r, *z;

        z = r = malloc(l * 2 + 1);
        if (!r)
                return NULL;
        for (size_t i = 0; i < l; i++) {
                *z++ = table[x[i] >> 4];
                *z++ = table[x[i] & 15];
        }
        *z = '\0';
        return r;
}

static int unhexchar(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

int unhexmem(const char *s, void **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t l;

        assert_return(s, -EINVAL);

        l = strlen(s);
        if (l % 2 != 0)
                return -EINVAL;
        buf = malloc(l / 2 + 1);
        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < l / 2; i++) {
                int a = unhexchar(s[2 * i]), b = unhexchar(s[2 * i + 1]);
                if (a < 0 || b < 0)
                        return -EINVAL;
                buf[i] = (uint8_t) (a << 4 | b);
        }
        *ret = TAKE_PTR(buf);
        *ret_size = l / 2;
        return 0;
}

int free_and_strdup(char **p, const char *s) {
        char *t = NULL;

        if (s) {
                t = strdup(s);
                if (!t)
                        return -ENOMEM;
        }
        free(*p);
        *p = t;
        return 0;
}

int parse_boolean(const char *s) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        return -EINVAL;
}

int safe_atou(const char *s, unsigned *ret) {
        unsigned long l;
        char *end = NULL;

        if (isempty(s) || s[0] == '-' || s[0] == '+' || s[0] == ' ')
                return -EINVAL;
        errno = 0;
        l = strtoul(s, &end, 10);
        if (errno > 0)
                return -errno;
        if (!end || *end != '\0')
                return -EINVAL;
        if (l > UINT_MAX)
                return -ERANGE;
        *ret = (unsigned) l;
        return 0;
}

bool path_is_absolute(const char *p) {
        return p && p[0] == '/';
}

uint64_t now_usec(clockid_t clock) {
        struct timespec ts;

        if (clock_gettime(clock, &ts) < 0)
                return 0;
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

int fd_get_size(int fd, uint64_t *ret) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISREG(st.st_mode)) {
                *ret = (uint64_t) st.st_size;
                return 0;
        }
        if (!S_ISBLK(st.st_mode))
                return -ENOTBLK;
        if (ioctl(fd, BLKGETSIZE64, ret) < 0)
                return -errno;
        return 0;
}
