/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* Reads a whole file, refusing anything larger than max_size (sizes read from outside are always
 * bounded). The buffer is NUL-terminated for convenience; *ret_size excludes the NUL. */
int read_full_file_bounded(const char *path, size_t max_size, char **ret, size_t *ret_size);
int read_full_fd_bounded(int fd, size_t max_size, char **ret, size_t *ret_size);

/* Opens path read-only without blocking (O_NONBLOCK: a FIFO opens at once) and, when root is not
 * NULL, resolved inside root as if it were "/" (openat2() RESOLVE_IN_ROOT: absolute symlinks and ".."
 * stay in it; no magic links). flags: 0 or O_NOFOLLOW (the last component may not be a symlink:
 * -ELOOP). Returns the fd or -errno. The caller checks what it opened (fstat). */
int open_in_root(const char *root, const char *path, int flags);
/* open_in_root() (symlinks followed inside root), then read_full_fd_bounded(); -EBADFD when it is not a
 * regular file. */
int read_regular_file_in_root(const char *root, const char *path, size_t max_size, char **ret, size_t *ret_size);

/* Reads a one-line sysfs/procfs style file, with trailing newlines removed. */
int read_one_line_file(const char *path, size_t max_size, char **ret);

int loop_write(int fd, const void *buf, size_t n);
/* All n bytes at offset, retried on EINTR; a short device or file is -EIO. */
int pread_full(int fd, void *buf, size_t n, uint64_t offset);
int pwrite_full(int fd, const void *buf, size_t n, uint64_t offset);

/* Size of the block device or regular file behind fd; -ENOTBLK for anything else. */
int fd_get_size(int fd, uint64_t *ret);

/* Lower-case hex. hexmem() returns NULL on OOM. unhexmem() accepts upper and lower case. */
char *hexmem(const void *p, size_t l);
int unhexmem(const char *s, void **ret, size_t *ret_size);

int free_and_strdup(char **p, const char *s);
int parse_boolean(const char *s);
int safe_atou(const char *s, unsigned *ret);
bool path_is_absolute(const char *p);
char *strip_trailing_newlines(char *s);

uint64_t now_usec(clockid_t clock);
