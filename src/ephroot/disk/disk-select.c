/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Which disk ephroot may format: the `device=auto` rule, the checks every target passes (never the OS
 * root, never mounted, held or read-only), and the final safe-to-destroy decision. */

#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "disk.h"
#include "log.h"
#include "util.h"

#define DEVSET_MAX DISK_DEVSET_MAX
#define SLAVES_DEPTH_MAX DISK_SLAVES_DEPTH_MAX

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

int disk_select_auto(const DiskList *l, size_t *ret_index, const char **ret_reason) {
        size_t found = SIZE_MAX, nresource = 0, nlocal = 0;

        assert_return(l, -EINVAL);
        assert_return(ret_reason, -EINVAL);

        if (!l->azure) {
                *ret_reason = "no positive Azure identity (DMI chassis asset tag), so device=auto picks nothing";
                return -ENODEV;
        }

        for (size_t i = 0; i < l->n; i++)
                if (l->disks[i].role == DISK_ROLE_RESOURCE) {
                        nresource++;
                        found = i;
                }
        if (nresource > 1) {
                *ret_reason = "more than one disk looks like the resource disk; refusing to choose";
                return -ENOTUNIQ;
        }
        if (nresource == 1) {
                *ret_index = found;
                *ret_reason = l->gen1 ? "Azure resource disk (Generation 1 controller ?00000000-0001-*)" :
                                        "Azure resource disk (Generation 2 controller f8b3781a, LUN 1)";
                return 0;
        }

        /* No SCSI resource disk: the local NVMe disk with the lowest index from the v2 metadata, then
         * disks without an index, by kernel name. Only one disk is used; several are for later. */
        for (size_t i = 0; i < l->n; i++) {
                const Disk *d = l->disks + i, *best = found == SIZE_MAX ? NULL : l->disks + found;

                if (d->role != DISK_ROLE_NVME_LOCAL)
                        continue;
                nlocal++;
                if (!best || (d->index >= 0 && (best->index < 0 || d->index < best->index)) ||
                    (d->index < 0 && best->index < 0 && strcmp(d->name, best->name) < 0) ||
                    (d->index >= 0 && d->index == best->index && strcmp(d->name, best->name) < 0))
                        found = i;
        }
        if (nlocal == 0) {
                *ret_reason = "no Azure resource disk and no local NVMe disk";
                return -ENODEV;
        }
        *ret_index = found;
        *ret_reason = nlocal == 1 ? "the local NVMe disk" :
                      l->disks[found].index >= 0 ?
                                                "the local NVMe disk with the lowest index (the others are not used)" :
                                                "the first local NVMe disk by name (the others are not used)";
        return 0;
}

int disk_resolve_path(const char *root, const DiskList *l, const char *path, size_t *ret_index) {
        _cleanup_free_ char *inroot = NULL, *real = NULL;
        bool live = isempty(root) || streq(root, "/");
        struct stat st;

        assert_return(l, -EINVAL);
        assert_return(path, -EINVAL);

        inroot = live ? strdup(path) : disk_root_path(root, path);
        if (!inroot)
                return -ENOMEM;
        real = realpath(inroot, NULL); /* follows /dev/disk/by-... links */
        if (!real)
                return -errno;
        if (stat(real, &st) < 0)
                return -errno;

        for (size_t i = 0; i < l->n; i++) {
                const Disk *d = l->disks + i;
                const char *b = strrchr(real, '/');

                if (S_ISBLK(st.st_mode) ? (major(st.st_rdev) == d->major && minor(st.st_rdev) == d->minor) :
                                          (!live && streq(b ? b + 1 : real, d->name))) {
                        *ret_index = i;
                        return 0;
                }
        }
        return -ENOTBLK;
}

typedef struct DevSet {
        dev_t devs[DEVSET_MAX];
        size_t n;
} DevSet;

/* -E2BIG when the set is full: the caller refuses rather than decide on a truncated set. */
static int devset_add(DevSet *s, dev_t d) {
        for (size_t i = 0; i < s->n; i++)
                if (s->devs[i] == d)
                        return 0;
        if (s->n >= DEVSET_MAX)
                return -E2BIG;
        s->devs[s->n++] = d;
        return 0;
}

static bool devset_contains(const DevSet *s, dev_t d) {
        for (size_t i = 0; i < s->n; i++)
                if (s->devs[i] == d)
                        return true;
        return false;
}

static int read_dev_attr(const char *dir, dev_t *ret) {
        _cleanup_free_ char *p = NULL, *v = NULL;
        unsigned ma, mi;

        if (asprintf(&p, "%s/dev", dir) < 0)
                return -ENOMEM;
        if (read_one_line_file(p, DISK_SYSFS_ATTR_MAX, &v) < 0 || sscanf(v, "%u:%u", &ma, &mi) != 2)
                return -EINVAL;
        *ret = makedev(ma, mi);
        return 0;
}

static bool dir_has_entries(const char *dir) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return false;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        return true;
        return false;
}

/* The disk's own device number and its partitions', and whether any of them has holders. */
static int disk_devices(const char *root, const Disk *d, DevSet *ret, bool *ret_held) {
        _cleanup_free_ char *link = NULL, *real = NULL, *holders = NULL;
        _cleanup_(closedirp) DIR *dir = NULL;
        struct dirent *de;
        unsigned count = 0;
        int r;

        r = devset_add(ret, makedev(d->major, d->minor));
        if (r < 0)
                return r;
        if (asprintf(&link, "sys/class/block/%s", d->name) < 0)
                return -ENOMEM;
        real = disk_root_path(root, link);
        if (!real)
                return -ENOMEM;
        if (asprintf(&holders, "%s/holders", real) < 0)
                return -ENOMEM;
        *ret_held = dir_has_entries(holders);

        dir = opendir(real);
        if (!dir)
                return -errno;
        while ((de = readdir(dir))) {
                _cleanup_free_ char *sub = NULL, *part = NULL;
                dev_t dev;

                if (de->d_name[0] == '.' || !startswith(de->d_name, d->name))
                        continue;
                if (asprintf(&sub, "%s/%s", real, de->d_name) < 0 || asprintf(&part, "%s/partition", sub) < 0)
                        return -ENOMEM;
                if (access(part, F_OK) < 0)
                        continue;
                if (++count > DISK_PARTITIONS_MAX)
                        return -E2BIG; /* never decide on a part of the partitions */
                if (read_dev_attr(sub, &dev) >= 0) {
                        r = devset_add(ret, dev);
                        if (r < 0)
                                return r;
                }
                free(part);
                if (asprintf(&part, "%s/holders", sub) < 0)
                        return -ENOMEM;
                if (dir_has_entries(part))
                        *ret_held = true;
        }
        return 0;
}

/* A device and everything it is stacked on (dm, md: through "slaves"). -E2BIG or -ELOOP when a
 * bound is hit: the caller refuses rather than decide on a part of the stack. */
static int collect_lower(const char *root, dev_t dev, unsigned depth, DevSet *s) {
        _cleanup_free_ char *rel = NULL, *dir = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int r;

        r = devset_add(s, dev);
        if (r < 0)
                return r;
        if (asprintf(&rel, "sys/dev/block/%u:%u/slaves", major(dev), minor(dev)) < 0)
                return -ENOMEM;
        dir = disk_root_path(root, rel);
        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return 0;
        while ((de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;
                dev_t lower;

                if (de->d_name[0] == '.')
                        continue;
                if (depth >= SLAVES_DEPTH_MAX)
                        return -ELOOP;
                if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
                        return -ENOMEM;
                if (read_dev_attr(sub, &lower) < 0)
                        continue;
                r = collect_lower(root, lower, depth + 1, s);
                if (r < 0)
                        return r;
        }
        return 0;
}

int disk_mountinfo_parse(const char *text, DiskMountVisitor visit, void *userdata) {
        const char *p = text;

        assert_return(text, -EINVAL);
        assert_return(visit, -EINVAL);

        while (*p) {
                const char *eol = strchrnul(p, '\n');
                char line[4096], mountpoint[4096], source[4096] = "";
                unsigned id, parent, ma, mi;
                size_t l = (size_t) (eol - p);
                const char *sep;
                int r;

                if (l > 0) {
                        /* Only the first five fields matter; overlay mounts can have very long options
                         * after them, so a long line is cut rather than refused. */
                        if (l >= sizeof(line))
                                l = sizeof(line) - 1;
                        memcpy(line, p, l);
                        line[l] = '\0';
                        /* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw" */
                        if (sscanf(line, "%u %u %u:%u %*s %4095s", &id, &parent, &ma, &mi, mountpoint) != 5)
                                return -EBADMSG;
                        sep = strstr(line, " - ");
                        if (!sep || sscanf(sep + 3, "%*s %4095s", source) != 1)
                                source[0] = '\0';
                        r = visit(makedev(ma, mi), mountpoint, source, userdata);
                        if (r < 0)
                                return r;
                }
                p = *eol ? eol + 1 : eol;
        }
        return 0;
}

typedef struct UseState {
        const char *root;
        const char *rootmnt;
        const DevSet *disk;
        DiskUse *use;
} UseState;

/* The device number of a mount source such as /dev/sdc or /dev/mapper/root, through its name in
 * <root>/sys/class/block (so it works on a fake root, whose /dev holds plain files). */
static int source_devnum(const char *root, const char *source, dev_t *ret) {
        _cleanup_free_ char *path = NULL, *real = NULL, *rel = NULL, *sys = NULL;
        const char *name;

        if (!startswith(source, "/dev/"))
                return -EINVAL;
        path = disk_root_path(root, source);
        if (!path)
                return -ENOMEM;
        real = realpath(path, NULL);
        if (!real)
                return -errno;
        name = strrchr(real, '/');
        if (!name || isempty(name + 1) || asprintf(&rel, "sys/class/block/%s", name + 1) < 0)
                return -EINVAL;
        sys = disk_root_path(root, rel);
        if (!sys)
                return -ENOMEM;
        return read_dev_attr(sys, ret);
}

static bool path_equal_mnt(const char *mountpoint, const char *rootmnt) {
        size_t l = strlen(rootmnt);

        while (l > 1 && rootmnt[l - 1] == '/')
                l--;
        return strlen(mountpoint) == l && strncmp(mountpoint, rootmnt, l) == 0;
}

/* Whether dev, or anything it sits on, is the disk or one of its partitions. */
static int on_disk(const UseState *s, dev_t dev, bool *ret) {
        DevSet lower = {};
        int r;

        r = collect_lower(s->root, dev, 0, &lower);
        if (r < 0)
                return r;
        for (size_t i = 0; i < lower.n; i++)
                if (devset_contains(s->disk, lower.devs[i]))
                        *ret = true;
        return 0;
}

static int visit_mount(dev_t dev, const char *mountpoint, const char *source, void *userdata) {
        UseState *s = userdata;
        int r;

        if (devset_contains(s->disk, dev))
                s->use->mounted = true;
        if (streq(mountpoint, "/") || (s->rootmnt && path_equal_mnt(mountpoint, s->rootmnt))) {
                dev_t src;

                r = on_disk(s, dev, &s->use->is_root);
                if (r < 0)
                        return r;
                /* btrfs and others mount an anonymous device (0:N): the source names the real one. */
                if (major(dev) == 0 && source_devnum(s->root, source, &src) >= 0)
                        return on_disk(s, src, &s->use->is_root);
        }
        return 0;
}

int disk_swaps_parse(const char *text, DiskSwapVisitor visit, void *userdata) {
        const char *p = text;
        bool header = true;

        assert_return(text, -EINVAL);
        assert_return(visit, -EINVAL);

        while (*p) {
                const char *eol = strchrnul(p, '\n');
                size_t l = (size_t) (eol - p);
                char line[4096], name[4096], type[32];
                int r;

                if (l > 0 && !header) {
                        /* "/dev/sdb2  partition  1048572  0  -2"; a name with blanks is escaped (\040). */
                        if (l >= sizeof(line))
                                return -EBADMSG;
                        memcpy(line, p, l);
                        line[l] = '\0';
                        if (sscanf(line, "%4095s %31s", name, type) != 2)
                                return -EBADMSG;
                        r = visit(name, streq(type, "partition"), userdata);
                        if (r < 0)
                                return r;
                }
                if (l > 0)
                        header = false; /* "Filename Type Size Used Priority" */
                p = *eol ? eol + 1 : eol;
        }
        return 0;
}

static int visit_swap(const char *name, bool partition, void *userdata) {
        UseState *s = userdata;
        dev_t dev;
        int r;

        if (!partition)
                return 0; /* a swap file lies on a mounted file system, which the mount check sees */
        r = source_devnum(s->root, name, &dev);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0; /* not a device ephroot can name: it cannot be on an enumerated disk */
        return on_disk(s, dev, &s->use->swap);
}

int disk_get_use(const char *root, const Disk *d, const char *rootmnt, DiskUse *ret) {
        _cleanup_free_ char *mountinfo = NULL, *swaps = NULL, *text = NULL;
        bool live = isempty(root) || streq(root, "/");
        DiskUse u = { .read_only = d->read_only };
        DevSet devs = {};
        UseState s = { .root = root, .rootmnt = rootmnt, .disk = &devs, .use = &u };
        struct stat st;
        int r;

        r = disk_devices(root, d, &devs, &u.held);
        if (r < 0)
                return r;

        mountinfo = disk_root_path(root, "proc/self/mountinfo");
        if (!mountinfo)
                return -ENOMEM;
        r = read_full_file_bounded(mountinfo, DISK_MOUNTINFO_MAX, &text, NULL);
        if (r < 0)
                return r;
        r = disk_mountinfo_parse(text, visit_mount, &s);
        if (r < 0)
                return r;

        swaps = disk_root_path(root, "proc/swaps");
        if (!swaps)
                return -ENOMEM;
        text = mfree(text);
        r = read_full_file_bounded(swaps, DISK_MOUNTINFO_MAX, &text, NULL);
        if (r >= 0)
                r = disk_swaps_parse(text, visit_swap, &s);
        if (r < 0 && r != -ENOENT) /* no /proc/swaps: a kernel without swap */
                return r;

        if (live) {
                _cleanup_close_ int fd = -EBADF;
                int ro = 0;

                /* "/" itself, in case its mountinfo line names an anonymous device (btrfs, overlay). */
                if (stat("/", &st) >= 0) {
                        r = on_disk(&s, st.st_dev, &u.is_root);
                        if (r < 0)
                                return r;
                }
                fd = open(d->node, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                if (fd >= 0 && ioctl(fd, BLKROGET, &ro) >= 0 && ro)
                        u.read_only = true;
        }

        *ret = u;
        return 0;
}

int disk_check_use(const Disk *d, const DiskUse *u, const char **ret_reason) {
        assert_return(d, -EINVAL);
        assert_return(u, -EINVAL);
        assert_return(ret_reason, -EINVAL);

        if (d->role == DISK_ROLE_OS)
                return *ret_reason = "it is the Azure OS disk", -EPERM;
        if (d->role == DISK_ROLE_CDROM)
                return *ret_reason = "it is a CD-ROM", -EPERM;
        if (u->is_root)
                return *ret_reason = "it holds the root file system", -EBUSY;
        if (u->mounted)
                return *ret_reason = "it or one of its partitions is mounted", -EBUSY;
        if (u->swap)
                return *ret_reason = "it or one of its partitions is an active swap area", -EBUSY;
        if (u->held)
                return *ret_reason = "it or one of its partitions is held by another device (dm, md, ...)", -EBUSY;
        if (u->read_only)
                return *ret_reason = "it is read-only", -EROFS;
        return 0;
}

int disk_check_destroyable(const char *identity, DiskClass c, const char *class_reason, const char *force_format,
                           bool *ret_forced, char **ret_reason) {
        int r;

        assert_return(class_reason, -EINVAL);
        assert_return(ret_forced, -EINVAL);
        assert_return(ret_reason, -EINVAL);

        *ret_forced = false;
        if (c != DISK_CLASS_FOREIGN)
                return asprintf(ret_reason, "%s: %s", disk_class_to_string(c), class_reason) < 0 ? -ENOMEM : 0;

        if (!force_format)
                r = asprintf(ret_reason, "it is foreign (%s); only force-format=%s would override", class_reason,
                             identity ?: "<none: this disk has no stable identity>");
        else if (!identity || !streq(force_format, identity))
                r = asprintf(ret_reason, "it is foreign (%s), and force-format=%s names another disk (this one is %s)",
                             class_reason, force_format, identity ?: "<no stable identity>");
        else {
                *ret_forced = true;
                return asprintf(ret_reason, "FORCED by force-format=%s although it is foreign (%s)", identity,
                                class_reason) < 0 ? -ENOMEM : 0;
        }
        return r < 0 ? -ENOMEM : -EPERM;
}
