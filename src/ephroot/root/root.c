/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "exec-util.h"
#include "log.h"
#include "root-fstab.h"
#include "root-verity.h"
#include "root.h"
#include "util.h"

#ifndef EXT4_IOC_RESIZE_FS
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)
#endif
#ifndef XFS_SUPER_MAGIC
#define XFS_SUPER_MAGIC 0x58465342
#endif

void root_layout_done(RootLayout *l) {
        if (!l)
                return;
        l->source_node = mfree(l->source_node);
        l->fstype = mfree(l->fstype);
        l->verity_node = mfree(l->verity_node);
}

static const char *fstype_from_magic(long magic) {
        switch ((unsigned long) magic) {
        case EXT4_SUPER_MAGIC: /* also ext2 and ext3 */
                return "ext4";
        case XFS_SUPER_MAGIC:
                return "xfs";
        case BTRFS_SUPER_MAGIC:
                return "btrfs";
        case SQUASHFS_MAGIC:
                return "squashfs";
        case EROFS_SUPER_MAGIC_V1:
                return "erofs";
        default:
                return NULL;
        }
}

int root_find_source(const char *path, char **ret_node, char **ret_fstype) {
        _cleanup_free_ char *parent = NULL, *uevent = NULL, *node = NULL, *fstype = NULL;
        struct stat st, pst, nst;
        struct statfs sfs;
        const char *name, *type;
        char sys[64];
        size_t size;
        int r;

        if (stat(path, &st) < 0)
                return log_error_errno(errno, "Failed to find the OS root at '%s': %m", path);
        if (asprintf(&parent, "%s/..", path) < 0)
                return log_oom();
        if (stat(parent, &pst) < 0)
                return log_error_errno(errno, "Failed to stat '%s': %m", parent);
        if (st.st_dev == pst.st_dev)
                return log_error_errno(SYNTHETIC_ERRNO(ENOTBLK), "Failed to find the OS root: nothing is mounted at '%s'.",
                                       path);
        if (statfs(path, &sfs) < 0)
                return log_error_errno(errno, "Failed to statfs '%s': %m", path);
        type = fstype_from_magic((long) sfs.f_type);
        if (!type)
                return log_error_errno(SYNTHETIC_ERRNO(EMEDIUMTYPE),
                                       "Failed to lay the root: the OS root at '%s' has a filesystem type (0x%lx) ephroot does not know.",
                                       path, (unsigned long) sfs.f_type);

        /* The kernel's own name for the device, not a udev link. */
        (void) snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/uevent", major(st.st_dev), minor(st.st_dev));
        r = read_full_file_bounded(sys, 4096, &uevent, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to find the block device of the OS root ('%s'): %m", sys);
        name = strstr(uevent, "DEVNAME=");
        if (!name)
                return log_error_errno(SYNTHETIC_ERRNO(ENODEV), "Failed to find the block device of the OS root: '%s' names none.",
                                       sys);
        name += strlen("DEVNAME=");
        if (asprintf(&node, "/dev/%.*s", (int) strcspn(name, "\n"), name) < 0)
                return log_oom();
        if (stat(node, &nst) < 0 || !S_ISBLK(nst.st_mode) || nst.st_rdev != st.st_dev)
                return log_error_errno(SYNTHETIC_ERRNO(ENODEV), "Failed to open the OS root: '%s' is not its device node.",
                                       node);
        fstype = strdup(type);
        if (!fstype)
                return log_oom();

        *ret_node = TAKE_PTR(node);
        *ret_fstype = TAKE_PTR(fstype);
        return 0;
}

static bool size_ok(uint64_t s) {
        return s >= 512 && s <= 65536 && (s & (s - 1)) == 0;
}

int root_copy_sector_limit(const char *fstype, uint64_t fs_block_size, unsigned source_logical_block_size,
                           unsigned *ret) {
        uint64_t limit;

        assert_return(fstype && ret, -EINVAL);

        if (!size_ok(fs_block_size))
                return -EINVAL;
        if (STR_IN_SET(fstype, "ext4", "btrfs"))
                limit = fs_block_size;
        else if (streq(fstype, "xfs")) {
                if (!size_ok(source_logical_block_size))
                        return -EINVAL;
                limit = MIN(fs_block_size, (uint64_t) source_logical_block_size);
        } else
                return -EOPNOTSUPP;

        *ret = limit >= 4096 ? 4096 : 512;
        return 0;
}

int root_copy_sector_size(const char *rootmnt, unsigned *ret) {
        _cleanup_free_ char *node = NULL, *fstype = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct statfs sfs;
        int r, logical = 0;

        assert_return(rootmnt && ret, -EINVAL);

        r = root_find_source(rootmnt, &node, &fstype);
        if (r < 0)
                return r;
        if (statfs(rootmnt, &sfs) < 0)
                return log_error_errno(errno, "Failed to statfs '%s': %m", rootmnt);
        fd = open(node, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open the OS root '%s': %m", node);
        if (ioctl(fd, BLKSSZGET, &logical) < 0)
                return log_error_errno(errno, "Failed to read the logical block size of '%s': %m", node);

        r = root_copy_sector_limit(fstype, (uint64_t) sfs.f_bsize, (unsigned) logical, ret);
        if (r == -EOPNOTSUPP)
                return log_error_errno(SYNTHETIC_ERRNO(EROFS),
                                       "Failed to lay the root: copy mode needs a writable filesystem, the OS root is %s; use mode=overlay.",
                                       fstype);
        if (r < 0)
                return log_error_errno(r, "Failed to lay the root: the OS root '%s' reports a block size of %ld bytes (device: %d).",
                                       node, (long) sfs.f_bsize, logical);
        return 0;
}

static int lay_copy(const Config *c, const char *rootmnt, const char *volume_node, uint64_t volume_size,
                    RootLayout *l) {
        _cleanup_close_ int src = -EBADF, dst = -EBADF, dir = -EBADF;
        int r;

        if (!STR_IN_SET(l->fstype, "ext4", "xfs", "btrfs"))
                return log_error_errno(SYNTHETIC_ERRNO(EROFS),
                                       "Failed to lay the root: copy mode needs a writable filesystem, the OS root is %s; use mode=overlay.",
                                       l->fstype);

        src = open(l->verity_node ?: l->source_node, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (src < 0)
                return log_error_errno(errno, "Failed to open the OS root '%s': %m", l->verity_node ?: l->source_node);
        dst = open(volume_node, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (dst < 0)
                return log_error_errno(errno, "Failed to open the volume '%s': %m", volume_node);

        r = root_copy(src, dst, volume_size, &l->copy);
        if (r == -ENOSPC)
                return log_error_errno(r,
                                       "Failed to copy the OS root '%s': it needs %" PRIu64 " bytes, the encrypted volume on the resource disk has %" PRIu64 ".",
                                       l->source_node, l->copy.needed, volume_size);
        if (r == -EIO && l->verity_node)
                return log_error_errno(r, "Failed to copy the OS root '%s': dm-verity refused a block (the disk differs from verity-root-hash=).",
                                       l->source_node);
        if (r < 0)
                return log_error_errno(r, "Failed to copy the OS root '%s' to '%s': %m", l->source_node, volume_node);
        src = safe_close(src);
        dst = safe_close(dst);

        if (c->root_hash.set && memcmp(c->root_hash.bytes, l->copy.hash.bytes, sizeof(c->root_hash.bytes)) != 0) {
                _cleanup_free_ char *got = hexmem(l->copy.hash.bytes, l->copy.hash.size);
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                       "Failed to verify the OS root '%s': its root hash is sha256:%s, not the one root-hash= expects.",
                                       l->source_node, strna(got));
        }

        if (l->verity_node)
                root_verity_close(); /* the OS root was unmounted before it was opened through dm-verity */
        else if (umount2(rootmnt, 0) < 0)
                return log_error_errno(errno, "Failed to unmount the OS root from '%s': %m", rootmnt);
        if (mount(volume_node, rootmnt, l->fstype, MS_NOATIME, NULL) < 0)
                return log_error_errno(errno, "Failed to mount the copied root '%s' at '%s': %m", volume_node, rootmnt);

        if (l->copy.ext4) {
                uint64_t blocks = volume_size / l->copy.block_size;

                dir = open(rootmnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dir < 0)
                        return log_error_errno(errno, "Failed to open '%s': %m", rootmnt);
                if (blocks * l->copy.block_size > l->copy.needed && ioctl(dir, EXT4_IOC_RESIZE_FS, &blocks) < 0)
                        return log_error_errno(errno, "Failed to grow the copied root to %" PRIu64 " bytes: %m",
                                               blocks * l->copy.block_size);
                l->grown_to = MAX(blocks * l->copy.block_size, l->copy.needed);
        } else
                log_notice("The copied %s root keeps its size (%" PRIu64 " bytes): ephroot grows ext4 only.", l->fstype,
                           l->copy.needed);
        return 0;
}

/* The overlay's upper: 4 KiB blocks, no journal (the volume dies with the boot), no discard (the disk
 * was discarded before formatting). Started first, so that it runs while the root phase waits for the
 * dm-verity child (root_verity_start()); lay_overlay() waits for it. */
static int overlay_mkfs_start(const char *volume_node, pid_t *ret) {
        _cleanup_free_ char *mkfs = NULL;
        pid_t pid;
        int r;

        r = exec_find("mkfs.ext4", &mkfs);
        if (r < 0)
                return log_error_errno(r, "Failed to find mkfs.ext4 in the initramfs: %m");
        pid = exec_start((char *const[]) { mkfs, (char *) "-q", (char *) "-F", (char *) "-b", (char *) "4096", (char *) "-O",
                                           (char *) "^has_journal", (char *) "-E", (char *) "lazy_itable_init=1,nodiscard",
                                           (char *) "-L", (char *) "ephroot-upper", (char *) volume_node, NULL });
        if (pid < 0)
                return log_error_errno(pid, "Failed to make the overlay's ext4 on '%s': %m", volume_node);
        *ret = pid;
        return 0;
}

int root_overlay_dirs(void) {
        if (mkdir(ROOT_STATE_DIR, 0700) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Failed to create '%s': %m", ROOT_STATE_DIR);
        if ((mkdir(ROOT_OVERLAY_LOWER, 0755) < 0 && errno != EEXIST) ||
            (mkdir(ROOT_OVERLAY_UPPER, 0755) < 0 && errno != EEXIST))
                return log_error_errno(errno, "Failed to create the overlay directories in '%s': %m", ROOT_STATE_DIR);
        return 0;
}

static int lay_overlay(const char *rootmnt, const char *volume_node, const RootLayout *l, pid_t *mkfs_pid,
                       uint64_t mkfs_deadline) {
        _cleanup_free_ char *options = NULL;
        struct statvfs sv;
        int r;

        r = exec_reap(*mkfs_pid, mkfs_deadline);
        *mkfs_pid = 0;
        if (r < 0)
                return log_error_errno(r, "Failed to make the overlay's ext4 on '%s': %m", volume_node);

        r = root_overlay_dirs();
        if (r < 0)
                return r;

        if (mount(volume_node, ROOT_OVERLAY_UPPER, "ext4", MS_NOATIME, NULL) < 0)
                return log_error_errno(errno, "Failed to mount '%s' at '%s': %m", volume_node, ROOT_OVERLAY_UPPER);
        if ((mkdir(ROOT_OVERLAY_UPPER "/upper", 0755) < 0 && errno != EEXIST) ||
            (mkdir(ROOT_OVERLAY_UPPER "/work", 0755) < 0 && errno != EEXIST))
                return log_error_errno(errno, "Failed to create the overlay's upper and work directories: %m");

        if (l->verity_node) {
                /* The host-visible mount is gone; the verity job mounted the verified mapping at
                 * ROOT_OVERLAY_LOWER (root_verity_start()). */
        } else if (mount(rootmnt, ROOT_OVERLAY_LOWER, NULL, MS_MOVE, NULL) < 0)
                return log_error_errno(errno, "Failed to move the OS root from '%s' to '%s': %m", rootmnt,
                                       ROOT_OVERLAY_LOWER);
        if (statvfs(ROOT_OVERLAY_LOWER, &sv) < 0)
                return log_error_errno(errno, "Failed to statvfs '%s': %m", ROOT_OVERLAY_LOWER);
        if (!(sv.f_flag & ST_RDONLY) && mount(NULL, ROOT_OVERLAY_LOWER, NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
                return log_error_errno(errno, "Failed to make the OS root read-only: %m");

        if (asprintf(&options, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", ROOT_OVERLAY_LOWER, ROOT_OVERLAY_UPPER,
                     ROOT_OVERLAY_UPPER) < 0)
                return log_oom();
        if (mount("overlay", rootmnt, "overlay", 0, options) < 0)
                return log_error_errno(errno, "Failed to mount the overlay at '%s': %m", rootmnt);
        return 0;
}

int root_lay(const Config *c, const char *rootmnt, const char *volume_node, uint64_t volume_size,
             const char *target_node, const char *fstab, RootVerityJob *verity, RootLayout *ret) {
        _cleanup_(root_layout_done) RootLayout l = { .mode = c->mode };
        _cleanup_(exec_kill) pid_t mkfs_pid = 0;
        _cleanup_free_ char *entry = NULL;
        uint64_t mkfs_deadline = 0;
        int r;

        assert_return(c && rootmnt && volume_node && ret, -EINVAL);
        /* verity-root-hash= set: the caller started the job (root_verity_start()), and only then. */
        assert_return(!!verity == c->verity_root_hash.set && (!verity || verity->job.pid > 0), -EINVAL);

        if (verity) {
                /* Found before the unmount. */
                l.source_node = strdup(verity->source_node);
                l.fstype = strdup(verity->fstype);
                if (!l.source_node || !l.fstype)
                        return log_oom();
        } else {
                r = root_find_source(rootmnt, &l.source_node, &l.fstype);
                if (r < 0)
                        return r;
        }
        if (c->mode != ROOT_MODE_COPY) {
                mkfs_deadline = now_usec(CLOCK_MONOTONIC) + ROOT_MKFS_TIMEOUT_USEC;
                r = overlay_mkfs_start(volume_node, &mkfs_pid);
                if (r < 0)
                        return r;
        }
        if (verity) {
                r = root_verity_finish(verity, &l.verity_node, &l.verity_usec);
                if (r < 0)
                        return r;
                fstab = NULL; /* read again, through dm-verity */
        }

        if (c->mode == ROOT_MODE_COPY) {
                r = lay_copy(c, rootmnt, volume_node, volume_size, &l);
                if (r >= 0 && asprintf(&entry, "%s / %s defaults,noatime 0 0", volume_node, l.fstype) < 0)
                        r = log_oom();
        } else {
                if (c->root_hash.set)
                        log_warning("root-hash= applies to copy mode only; the overlay's lower layer is not hashed.");
                r = lay_overlay(rootmnt, volume_node, &l, &mkfs_pid, mkfs_deadline);
                if (r >= 0 && !(entry = strdup("overlay / overlay defaults 0 0")))
                        r = log_oom();
        }
        if (r < 0)
                return r;

        r = fstab_rewrite_file(rootmnt, fstab, entry, target_node, c->host_mounts == HOST_MOUNTS_COMMENT);
        if (r == -EPERM)
                return log_error_errno(r, "Failed to rewrite '%s/etc/fstab' for the new root: it mounts a host disk, refusing.",
                                       rootmnt);
        if (r < 0)
                return log_error_errno(r, "Failed to rewrite '%s/etc/fstab' for the new root: %m", rootmnt);

        *ret = l;
        l = (RootLayout) {};
        return 0;
}
