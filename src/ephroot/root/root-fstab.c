/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "root-fstab.h"
#include "util.h"

#define COMMENT_PREFIX "# ephroot: "

/* The disk itself or one of its partitions: /dev/sdb, /dev/sdb1, /dev/nvme1n1p2; not /dev/sdbb. */
static bool names_disk_or_partition(const char *spec, const char *disk) {
        const char *rest = startswith(spec, disk);

        if (!rest)
                return false;
        if (*rest == '\0')
                return true;
        /* A disk name ending in a digit takes 'p' before the partition number (nvme0n1p1, loop0p1). */
        if (isdigit((unsigned char) disk[strlen(disk) - 1]) && *rest++ != 'p')
                return false;
        return *rest != '\0' && rest[strspn(rest, "0123456789")] == '\0';
}

static bool is_resource_entry(const char *spec, const char *file, const char *opts, const char *target_node) {
        if (strstr(spec, "azure_resource"))
                return true;
        if (target_node && names_disk_or_partition(spec, target_node))
                return true;
        return (streq(file, "/mnt") || streq(file, "/mnt/resource")) && strstr(opts, "comment=cloudconfig");
}

static int append(char **buf, size_t *len, const char *s) {
        size_t n = strlen(s);
        char *p = realloc(*buf, *len + n + 1);

        if (!p)
                return -ENOMEM;
        memcpy(p + *len, s, n + 1);
        *buf = p;
        *len += n;
        return 0;
}

int fstab_rewrite(const char *text, const char *root_entry, const char *target_node, char **ret,
                  unsigned *ret_changed) {
        _cleanup_free_ char *copy = NULL, *out = NULL;
        unsigned changed = 0;
        bool root_seen = false;
        size_t len = 0;
        char *p, *line;
        int r;

        assert_return(text, -EINVAL);
        assert_return(root_entry, -EINVAL);
        assert_return(ret, -EINVAL);

        if (strlen(text) > FSTAB_SIZE_MAX)
                return -EFBIG;
        copy = strdup(text);
        out = strdup("");
        if (!copy || !out)
                return -ENOMEM;

        for (p = copy; (line = strsep(&p, "\n"));) {
                char spec[4096], file[4096], type[256], opts[4096];
                const char *s = line;
                bool last = !p;

                if (last && *line == '\0')
                        break; /* the text ended with a newline */

                while (*s == ' ' || *s == '\t')
                        s++;
                if (*s != '#' && *s != '\0' &&
                    sscanf(s, "%4095s %4095s %255s %4095s", spec, file, type, opts) >= 2) {
                        if (sscanf(s, "%*s %*s %*s %4095s", opts) != 1)
                                opts[0] = '\0';
                        if (streq(file, "/")) {
                                r = append(&out, &len, COMMENT_PREFIX "root is elsewhere now: ");
                                if (r >= 0)
                                        r = append(&out, &len, line);
                                if (r >= 0 && !root_seen)
                                        r = append(&out, &len, "\n") ?: append(&out, &len, root_entry);
                                root_seen = true;
                                changed++;
                                if (r < 0)
                                        return r;
                                r = append(&out, &len, "\n");
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        if (is_resource_entry(spec, file, opts, target_node)) {
                                r = append(&out, &len, COMMENT_PREFIX "the resource disk belongs to ephroot: ");
                                if (r < 0)
                                        return r;
                                changed++;
                        }
                }
                r = append(&out, &len, line);
                if (r >= 0)
                        r = append(&out, &len, "\n");
                if (r < 0)
                        return r;
        }

        if (!root_seen) {
                r = append(&out, &len, root_entry) ?: append(&out, &len, "\n");
                if (r < 0)
                        return r;
                changed++;
        }

        *ret = TAKE_PTR(out);
        if (ret_changed)
                *ret_changed = changed;
        return 0;
}

int fstab_rewrite_file(const char *root, const char *root_entry, const char *target_node) {
        _cleanup_free_ char *path = NULL, *tmp = NULL, *text = NULL, *out = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t size;
        int r;

        if (asprintf(&path, "%s/etc/fstab", root) < 0 || asprintf(&tmp, "%s/etc/.fstab.ephroot", root) < 0)
                return -ENOMEM;

        r = read_full_file_bounded(path, FSTAB_SIZE_MAX, &text, &size);
        if (r == -ENOENT) {
                text = strdup("");
                if (!text)
                        return -ENOMEM;
        } else if (r < 0)
                return log_debug_errno(r, "Reading '%s' failed: %m", path);

        r = fstab_rewrite(text, root_entry, target_node, &out, NULL);
        if (r < 0)
                return r;

        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, out, strlen(out));
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}
