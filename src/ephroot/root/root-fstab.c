/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
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

/* Whether the comma-separated options hold name exactly (or name=... when name has no '='). */
static bool has_option(const char *opts, const char *name) {
        size_t n = strlen(name);

        for (const char *o = opts; o && *o; o = strchr(o, ',') ? strchr(o, ',') + 1 : NULL)
                if (strncmp(o, name, n) == 0 && (o[n] == '\0' || o[n] == ',' || (o[n] == '=' && !strchr(name, '='))))
                        return true;
        return false;
}

static bool is_resource_entry(const char *spec, const char *file, const char *opts, const char *target_node) {
        if (strstr(spec, "azure_resource"))
                return true;
        if (target_node && names_disk_or_partition(spec, target_node))
                return true;
        return (streq(file, "/mnt") || streq(file, "/mnt/resource")) && has_option(opts, "comment=cloudconfig");
}

/* "/boot", "/boot/", "/boot/efi", "/efi": what firmware and boot loader read, on the OS disk by nature. */
static bool is_boot_mount(const char *file) {
        size_t n = strlen(file);

        while (n > 1 && file[n - 1] == '/')
                n--;
        return (n == 5 && strncmp(file, "/boot", 5) == 0) || (n == 9 && strncmp(file, "/boot/efi", 9) == 0) ||
               (n == 4 && strncmp(file, "/efi", 4) == 0);
}

/* A block device the host provides, named by tag or by node; or a share the host serves. Memory-backed
 * devices (zram, ram) are the guest's. Everything else (tmpfs, proc, a path in the root, a network
 * source "host:/export" or "//host/share") is not a host disk. */
static bool is_host_source(const char *spec, const char *type) {
        static const char *const tags[] = { "UUID=", "LABEL=", "PARTUUID=", "PARTLABEL=", "ID=" };
        const char *dev;

        if (STR_IN_SET(type, "9p", "virtiofs"))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(tags); i++)
                if (strncasecmp(spec, tags[i], strlen(tags[i])) == 0)
                        return true;
        dev = startswith(spec, "/dev/");
        if (!dev)
                return false;
        return !startswith(dev, "zram") && !(startswith(dev, "ram") && isdigit((unsigned char) dev[3]));
}

FstabKind fstab_classify_line(const char *line, const char *target_node) {
        char spec[4096], file[4096], type[256] = "", opts[4096] = "";
        const char *s = line;

        assert_return(line, FSTAB_KEEP);

        while (*s == ' ' || *s == '\t')
                s++;
        if (*s == '#' || *s == '\0' || sscanf(s, "%4095s %4095s %255s %4095s", spec, file, type, opts) < 2)
                return FSTAB_KEEP;
        if (streq(file, "/"))
                return FSTAB_ROOT;
        if (is_resource_entry(spec, file, opts, target_node))
                return FSTAB_RESOURCE;
        /* Swap is never exempt by where it "mounts"; /boot and the ESP are. */
        if (!streq(type, "swap") && is_boot_mount(file))
                return FSTAB_KEEP;
        /* Not mounted at boot (unless systemd automounts it), or a bind of a directory of the root. */
        if ((has_option(opts, "noauto") && !has_option(opts, "x-systemd.automount")) || has_option(opts, "bind") ||
            has_option(opts, "rbind"))
                return FSTAB_KEEP;
        return is_host_source(spec, type) ? FSTAB_HOST : FSTAB_KEEP;
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

void fstab_host_mounts_done(FstabHostMounts *m) {
        if (!m)
                return;
        for (size_t i = 0; i < m->n; i++)
                free(m->texts[i]);
        m->lines = mfree(m->lines);
        m->texts = mfree(m->texts);
        m->n = 0;
}

int fstab_host_mounts(const char *text, const char *target_node, FstabHostMounts *ret) {
        _cleanup_(fstab_host_mounts_done) FstabHostMounts m = {};
        _cleanup_free_ char *copy = NULL;
        unsigned lineno = 0;
        char *p, *line;

        assert_return(text && ret, -EINVAL);

        if (strlen(text) > FSTAB_SIZE_MAX)
                return -EFBIG;
        copy = strdup(text);
        m.lines = calloc(FSTAB_LINES_MAX, sizeof(unsigned));
        m.texts = calloc(FSTAB_LINES_MAX, sizeof(char *));
        if (!copy || !m.lines || !m.texts)
                return -ENOMEM;

        for (p = copy; (line = strsep(&p, "\n"));) {
                if (!p && *line == '\0')
                        break; /* the text ended with a newline */
                if (++lineno > FSTAB_LINES_MAX)
                        return -EFBIG;
                if (fstab_classify_line(line, target_node) != FSTAB_HOST)
                        continue;
                m.texts[m.n] = strdup(line);
                if (!m.texts[m.n])
                        return -ENOMEM;
                m.lines[m.n++] = lineno;
        }

        *ret = m;
        m = (FstabHostMounts) {};
        return 0;
}

/* One line of the rewritten text: the line as is, commented with a reason, or the root replaced. */
static int rewrite_line(char **out, size_t *len, const char *line, FstabKind kind, const char *root_entry,
                        bool *root_seen, unsigned *changed) {
        static const char *const reasons[] = {
                [FSTAB_ROOT] = COMMENT_PREFIX "root is elsewhere now: ",
                [FSTAB_RESOURCE] = COMMENT_PREFIX "the resource disk belongs to ephroot: ",
                [FSTAB_HOST] = COMMENT_PREFIX "on a disk the host reads, not mounted (host-mounts=comment): ",
        };
        int r = 0;

        if (kind != FSTAB_KEEP) {
                r = append(out, len, reasons[kind]);
                (*changed)++;
        }
        if (r >= 0)
                r = append(out, len, line);
        if (r >= 0)
                r = append(out, len, "\n");
        if (r >= 0 && kind == FSTAB_ROOT && !*root_seen)
                r = append(out, len, root_entry) ?: append(out, len, "\n");
        if (kind == FSTAB_ROOT)
                *root_seen = true;
        return r;
}

int fstab_rewrite(const char *text, const char *root_entry, const char *target_node, bool comment_host, char **ret,
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
                FstabKind kind;

                if (!p && *line == '\0')
                        break; /* the text ended with a newline */
                kind = fstab_classify_line(line, target_node);
                if (kind == FSTAB_HOST && !comment_host)
                        return -EPERM;
                r = rewrite_line(&out, &len, line, kind, root_entry, &root_seen, &changed);
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

int fstab_read(const char *root, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        assert_return(root && ret, -EINVAL);

        r = read_regular_file_in_root(root, "/etc/fstab", FSTAB_SIZE_MAX, &text, &size);
        if (r == -ENOENT) {
                text = strdup("");
                if (!text)
                        return log_oom();
        } else if (r == -EFBIG)
                return log_error_errno(r, "Failed to read '%s/etc/fstab': larger than %u bytes.", root, FSTAB_SIZE_MAX);
        else if (r == -EBADFD)
                return log_error_errno(r, "Failed to read '%s/etc/fstab': not a regular file.", root);
        else if (r < 0)
                return log_error_errno(r, "Failed to read '%s/etc/fstab': %m", root);
        else if (memchr(text, '\0', size))
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Failed to read '%s/etc/fstab': it contains a NUL byte.",
                                       root);
        *ret = TAKE_PTR(text);
        return 0;
}

int fstab_rewrite_file(const char *root, const char *text, const char *root_entry, const char *target_node,
                       bool comment_host) {
        _cleanup_free_ char *path = NULL, *tmp = NULL, *read = NULL, *out = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (asprintf(&path, "%s/etc/fstab", root) < 0 || asprintf(&tmp, "%s/etc/.fstab.ephroot", root) < 0)
                return -ENOMEM;

        if (!text) {
                r = fstab_read(root, &read);
                if (r < 0)
                        return r;
                text = read;
        }

        r = fstab_rewrite(text, root_entry, target_node, comment_host, &out, NULL);
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
