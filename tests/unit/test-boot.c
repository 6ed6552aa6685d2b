/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Pure parts of the boot: the fstab rewrite, the ext2/3/4 used-block map on hand-made superblocks,
 * the boot keys of the configuration, and how a failure's one sentence reaches the failure line. */

#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "boot.h"
#include "exec-util.h"
#include "config.h"
#include "ext4-used.h"
#include "log.h"
#include "measure.h"
#include "root-fstab.h"
#include "root-verity.h"
#include "root.h"
#include "util.h"

static void test_fstab_azure(void **state) {
        const char *in =
                "# /etc/fstab: static file system information.\n"
                "UUID=1234-abcd / ext4 errors=remount-ro 0 1\n"
                "UUID=5678 /boot/efi vfat umask=0077 0 1\n"
                "/dev/disk/cloud/azure_resource-part1\t/mnt\tauto\tdefaults,nofail,x-systemd.after=cloud-init.service,_netdev,comment=cloudconfig\t0\t2\n"
                "/dev/sdb1 /data ext4 defaults 0 2\n"
                "/dev/sdbb1 /other ext4 defaults 0 2\n"
                "/dev/sdb /whole ext4 defaults 0 2\n"
                "\n";
        char *out = NULL;
        unsigned changed = 0;

        (void) state;
        /* /dev/sdbb1 is another disk, and a host's: refused unless commented out. */
        assert_int_equal(fstab_rewrite(in, "/dev/mapper/ephroot / ext4 defaults,noatime 0 0", "/dev/sdb",
                                       /* comment_host= */ false, &out, &changed),
                         -EPERM);
        assert_null(out);
        assert_int_equal(fstab_rewrite(in, "/dev/mapper/ephroot / ext4 defaults,noatime 0 0", "/dev/sdb",
                                       /* comment_host= */ true, &out, &changed),
                         0);
        assert_int_equal(changed, 5);
        assert_non_null(strstr(out, "# ephroot: root is elsewhere now: UUID=1234-abcd / ext4 errors=remount-ro 0 1\n"
                                    "/dev/mapper/ephroot / ext4 defaults,noatime 0 0\n"));
        assert_non_null(strstr(out, "\nUUID=5678 /boot/efi vfat umask=0077 0 1\n"));
        assert_non_null(strstr(out, "# ephroot: the resource disk belongs to ephroot: /dev/disk/cloud/azure_resource-part1\t/mnt"));
        assert_non_null(strstr(out, "# ephroot: the resource disk belongs to ephroot: /dev/sdb1 /data"));
        assert_non_null(strstr(out, "# ephroot: the resource disk belongs to ephroot: /dev/sdb /whole"));
        assert_non_null(strstr(out, "\n# ephroot: on a disk the host reads, not mounted (host-mounts=comment): /dev/sdbb1 /other ext4 defaults 0 2\n"));
        assert_non_null(strstr(out, "# /etc/fstab: static file system information.\n"));
        free(out);

        /* NVMe names partitions with a 'p'. */
        assert_int_equal(fstab_rewrite("/dev/nvme1n1p2 /x ext4 defaults 0 2\n/dev/nvme1n10 /y ext4 defaults 0 2\n",
                                       "r / ext4 defaults 0 0", "/dev/nvme1n1", true, &out, &changed), 0);
        assert_non_null(strstr(out, "# ephroot: the resource disk belongs to ephroot: /dev/nvme1n1p2 /x"));
        assert_non_null(strstr(out, "\n# ephroot: on a disk the host reads, not mounted (host-mounts=comment): /dev/nvme1n10 /y ext4"));
        free(out);
}

static void test_fstab_no_root_entry(void **state) {
        char *out = NULL;
        unsigned changed = 0;

        (void) state;
        assert_int_equal(fstab_rewrite("", "overlay / overlay defaults 0 0", NULL, false, &out, &changed), 0);
        assert_string_equal(out, "overlay / overlay defaults 0 0\n");
        assert_int_equal(changed, 1);
        free(out);

        /* No trailing newline, a /mnt entry that is not cloud-init's stays (tmpfs: not a disk). */
        assert_int_equal(fstab_rewrite("tmpfs /mnt tmpfs defaults 0 0", "overlay / overlay defaults 0 0", "/dev/sdb",
                                       false, &out, &changed), 0);
        assert_string_equal(out, "tmpfs /mnt tmpfs defaults 0 0\noverlay / overlay defaults 0 0\n");
        free(out);
}

/* Each kind of line, as fstab(5) and systemd-fstab-generator know them. */
static void test_fstab_classify(void **state) {
        static const struct {
                const char *line;
                FstabKind kind;
        } cases[] = {
                /* / and the boot partitions. */
                { "UUID=1234 / ext4 defaults 0 1", FSTAB_ROOT },
                { "UUID=1234 /boot ext4 defaults 0 2", FSTAB_KEEP },
                { "UUID=1234 /boot/ ext4 defaults 0 2", FSTAB_KEEP },
                { "UUID=ABCD-EF01 /boot/efi vfat umask=0077 0 1", FSTAB_KEEP },
                { "PARTUUID=0a1b /efi vfat umask=0077 0 1", FSTAB_KEEP },
                /* Host disks, by every name. */
                { "UUID=1234 /var ext4 defaults 0 2", FSTAB_HOST },
                { "uuid=1234 /var ext4 defaults 0 2", FSTAB_HOST },
                { "LABEL=home /home ext4 defaults 0 2", FSTAB_HOST },
                { "PARTUUID=0a1b-02 /var/log xfs defaults 0 2", FSTAB_HOST },
                { "PARTLABEL=tmp /tmp ext4 defaults 0 2", FSTAB_HOST },
                { "ID=wwn-0x5000 /srv ext4 defaults 0 2", FSTAB_HOST },
                { "/dev/sda3 /var ext4 defaults 0 2", FSTAB_HOST },
                { "  /dev/disk/by-uuid/1234\t/srv\text4\tdefaults\t0\t2", FSTAB_HOST },
                { "/dev/mapper/rootvg-varlv /var xfs defaults 0 0", FSTAB_HOST }, /* LVM on the OS disk */
                { "/dev/vda2 /boot/efi/x vfat defaults 0 0", FSTAB_HOST },       /* not /boot/efi itself */
                { "UUID=1234 /bootx ext4 defaults 0 2", FSTAB_HOST },
                { "myshare /mnt/host virtiofs defaults 0 0", FSTAB_HOST },
                { "hostshare /mnt/9p 9p trans=virtio 0 0", FSTAB_HOST },
                { "UUID=1234 /var ext4 noauto,x-systemd.automount 0 2", FSTAB_HOST },
                { "UUID=1234 /var ext4 defaults,nofail 0 2", FSTAB_HOST },
                /* Swap: a partition is the host's, even under /boot; a file in the root and zram are not. */
                { "UUID=5678 none swap sw 0 0", FSTAB_HOST },
                { "/dev/sda2 swap swap defaults 0 0", FSTAB_HOST },
                { "UUID=5678 /boot swap sw 0 0", FSTAB_HOST },
                { "/swapfile none swap sw 0 0", FSTAB_KEEP },
                { "/dev/zram0 none swap sw,pri=100 0 0", FSTAB_KEEP },
                { "/dev/ram0 /mnt/ram ext2 defaults 0 0", FSTAB_KEEP },
                /* Kernel file systems, tmpfs, binds, network: not a host disk. */
                { "tmpfs /tmp tmpfs defaults,size=2G 0 0", FSTAB_KEEP },
                { "proc /proc proc defaults 0 0", FSTAB_KEEP },
                { "none /sys/fs/bpf bpf defaults 0 0", FSTAB_KEEP },
                { "/srv/data /var/lib/data none bind 0 0", FSTAB_KEEP },
                { "/srv/data /var/lib/data none defaults,rbind 0 0", FSTAB_KEEP },
                { "server:/export /mnt/nfs nfs4 defaults,_netdev 0 0", FSTAB_KEEP },
                { "//server/share /mnt/smb cifs credentials=/etc/smb 0 0", FSTAB_KEEP },
                /* Not mounted at boot. */
                { "/dev/sr0 /media/cdrom0 udf,iso9660 user,noauto 0 0", FSTAB_KEEP },
                /* Comments, blanks, malformed. */
                { "# UUID=1234 /var ext4 defaults 0 2", FSTAB_KEEP },
                { "", FSTAB_KEEP },
                { "   ", FSTAB_KEEP },
                { "UUID=1234", FSTAB_KEEP },
                /* The resource disk is ephroot's, not a host mount. */
                { "/dev/disk/cloud/azure_resource-part1 /mnt auto defaults,comment=cloudconfig 0 2", FSTAB_RESOURCE },
                { "/dev/sdb1 /mnt ext4 defaults 0 2", FSTAB_RESOURCE },
                /* "comment=cloudconfig" must be an option, not a substring of one. */
                { "LABEL=x /mnt ext4 defaults,xcomment=cloudconfig 0 2", FSTAB_HOST },
        };

        (void) state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                FstabKind k = fstab_classify_line(cases[i].line, "/dev/sdb");
                if (k != cases[i].kind)
                        fail_msg("'%s': kind %d, expected %d", cases[i].line, k, cases[i].kind);
        }
}

static void test_fstab_host_mounts(void **state) {
        const char *in = "UUID=1 / ext4 defaults 0 1\n"
                         "UUID=2 /boot ext4 defaults 0 2\n"
                         "UUID=3 /var ext4 defaults 0 2\n"
                         "tmpfs /tmp tmpfs defaults 0 0\n"
                         "UUID=4 none swap sw 0 0\n";
        FstabHostMounts m = {};
        char *big, *s = NULL;

        (void) state;
        assert_int_equal(fstab_host_mounts(in, NULL, &m), 0);
        assert_int_equal(m.n, 2);
        assert_int_equal(m.lines[0], 3);
        assert_string_equal(m.texts[0], "UUID=3 /var ext4 defaults 0 2");
        assert_int_equal(m.lines[1], 5);
        assert_string_equal(m.texts[1], "UUID=4 none swap sw 0 0");

        /* The measured text: fixed grammar, the lines escaped as in the disk string. */
        assert_int_equal(measure_host_mounts_string(m.lines, (const char *const *) m.texts, m.n, &s), 0);
        assert_string_equal(s, "ephroot-host-mounts:v1 action=comment count=2 "
                               "line=3:UUID%3D3%20/var%20ext4%20defaults%200%202 "
                               "line=5:UUID%3D4%20none%20swap%20sw%200%200");
        free(s);
        fstab_host_mounts_done(&m);

        assert_int_equal(fstab_host_mounts("# nothing\n", NULL, &m), 0);
        assert_int_equal(m.n, 0);
        fstab_host_mounts_done(&m);

        /* Bounded: FSTAB_LINES_MAX lines (each ended by a newline) pass, one more does not. */
        big = malloc(FSTAB_LINES_MAX + 2);
        assert_non_null(big);
        memset(big, '\n', FSTAB_LINES_MAX);
        big[FSTAB_LINES_MAX] = '\0';
        assert_int_equal(fstab_host_mounts(big, NULL, &m), 0);
        fstab_host_mounts_done(&m);
        memset(big, '\n', FSTAB_LINES_MAX + 1);
        big[FSTAB_LINES_MAX + 1] = '\0';
        assert_int_equal(fstab_host_mounts(big, NULL, &m), -EFBIG);
        free(big);
}

static void test_fstab_too_big(void **state) {
        char *big = malloc(FSTAB_SIZE_MAX + 2), *out = NULL;

        (void) state;
        assert_non_null(big);
        memset(big, '#', FSTAB_SIZE_MAX + 1);
        big[FSTAB_SIZE_MAX + 1] = '\0';
        assert_int_equal(fstab_rewrite(big, "x / y z 0 0", NULL, false, &out, NULL), -EFBIG);
        assert_null(out);
        free(big);
}

/* A hand-made filesystem image in memory. */
typedef struct Img {
        uint8_t *bytes;
        size_t size;
} Img;

static int img_read(uint64_t offset, void *buf, size_t n, void *userdata) {
        Img *img = userdata;
        if (offset > img->size || n > img->size - offset)
                return -EIO;
        memcpy(buf, img->bytes + offset, n);
        return 0;
}

static void put16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
}

static void put32(uint8_t *p, uint32_t v) {
        for (unsigned i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

/* One group of 4 KiB blocks: 64 blocks, bitmap at 2, inode bitmap at 3, inode table at 4 (1 block). */
static Img make_img(void) {
        Img img = { .size = 64 * 4096 };
        uint8_t *sb, *gd;

        img.bytes = calloc(1, img.size);
        assert_non_null(img.bytes);
        sb = img.bytes + 1024;
        put32(sb + 0x04, 64);          /* blocks */
        put32(sb + 0x14, 0);           /* first data block */
        put32(sb + 0x18, 2);           /* 4 KiB */
        put32(sb + 0x20, 64);          /* blocks per group */
        put32(sb + 0x28, 32);          /* inodes per group */
        put16(sb + 0x38, 0xEF53);
        put16(sb + 0x58, 128);         /* inode size: 32 * 128 = 1 block */
        gd = img.bytes + 4096;         /* block 1 */
        put32(gd + 0x00, 2);
        put32(gd + 0x04, 3);
        put32(gd + 0x08, 4);
        img.bytes[2 * 4096] = 0x1F;    /* blocks 0-4 in use */
        img.bytes[2 * 4096 + 5] = 0x01; /* block 40 */
        return img;
}

static void test_ext4_used(void **state) {
        Img img = make_img();
        Ext4UsedMap m = {};

        (void) state;
        assert_int_equal(ext4_used_map(img_read, &img, img.size, &m), 0);
        assert_int_equal(m.block_size, 4096);
        assert_int_equal(m.blocks, 64);
        assert_int_equal(m.used, 6);
        assert_true(ext4_used_test(&m, 0) && ext4_used_test(&m, 4) && ext4_used_test(&m, 40));
        assert_false(ext4_used_test(&m, 5) || ext4_used_test(&m, 63) || ext4_used_test(&m, 64));
        ext4_used_map_done(&m);
        free(img.bytes);
}

static void test_ext4_bad(void **state) {
        Img img = make_img();
        Ext4UsedMap m = {};

        (void) state;
        /* Larger than its device. */
        assert_int_equal(ext4_used_map(img_read, &img, img.size - 4096, &m), -EBADMSG);
        /* Not ext at all. */
        put16(img.bytes + 1024 + 0x38, 0);
        assert_int_equal(ext4_used_map(img_read, &img, img.size, &m), -EMEDIUMTYPE);
        put16(img.bytes + 1024 + 0x38, 0xEF53);
        /* A bitmap pointing past the end. */
        put32(img.bytes + 4096, 1000);
        assert_int_equal(ext4_used_map(img_read, &img, img.size, &m), -EBADMSG);
        put32(img.bytes + 4096, 2);
        /* Block size field out of range. */
        put32(img.bytes + 1024 + 0x18, 30);
        assert_int_equal(ext4_used_map(img_read, &img, img.size, &m), -EBADMSG);
        put32(img.bytes + 1024 + 0x18, 2);
        /* meta_bg: not handled, copied whole by the caller. */
        put32(img.bytes + 1024 + 0x60, 0x10);
        assert_int_equal(ext4_used_map(img_read, &img, img.size, &m), -EOPNOTSUPP);
        put32(img.bytes + 1024 + 0x60, 0);
        /* Blocks per group beyond what one bitmap block covers. */
        put32(img.bytes + 1024 + 0x20, 8 * 4096 + 8);
        assert_int_equal(ext4_used_map(img_read, &img, img.size, &m), -EBADMSG);
        assert_null(m.bitmap);
        free(img.bytes);
}

/* Copy mode: the volume's sector size must not exceed what the copied filesystem can mount on. */
static void test_copy_sector_limit(void **state) {
        unsigned s = 0;

        assert_int_equal(root_copy_sector_limit("ext4", 4096, 512, &s), 0);
        assert_int_equal(s, 4096);
        assert_int_equal(root_copy_sector_limit("ext4", 1024, 512, &s), 0); /* small mkfs.ext4 picks 1 KiB */
        assert_int_equal(s, 512);
        assert_int_equal(root_copy_sector_limit("ext4", 2048, 4096, &s), 0);
        assert_int_equal(s, 512);
        assert_int_equal(root_copy_sector_limit("ext4", 65536, 512, &s), 0);
        assert_int_equal(s, 4096);
        assert_int_equal(root_copy_sector_limit("btrfs", 4096, 512, &s), 0);
        assert_int_equal(s, 4096);
        assert_int_equal(root_copy_sector_limit("xfs", 4096, 512, &s), 0); /* xfs sector size may be 512 */
        assert_int_equal(s, 512);
        assert_int_equal(root_copy_sector_limit("xfs", 4096, 4096, &s), 0);
        assert_int_equal(s, 4096);
        s = 7;
        assert_int_equal(root_copy_sector_limit("ext4", 0, 512, &s), -EINVAL);
        assert_int_equal(root_copy_sector_limit("ext4", 3000, 512, &s), -EINVAL);
        assert_int_equal(root_copy_sector_limit("ext4", 256, 512, &s), -EINVAL);
        assert_int_equal(root_copy_sector_limit("xfs", 4096, 0, &s), -EINVAL);
        assert_int_equal(root_copy_sector_limit("squashfs", 4096, 512, &s), -EOPNOTSUPP);
        assert_int_equal(s, 7); /* untouched on failure */
        (void) state;
}

static void test_config_boot_keys(void **state) {
        Config c;

        (void) state;
        assert_int_equal(config_init(&c), 0);
        assert_int_equal(c.mode, ROOT_MODE_COPY);
        assert_int_equal(c.failure_action, FAILURE_ACTION_HALT);
        assert_int_equal(c.pcr_leave, 11);
        assert_int_equal(config_parse_cmdline(&c, "ephroot.mode=overlay ephroot.failure-action=poweroff ephroot.failure-delay=0 "
                                                  "ephroot.root-hash=sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"), 0);
        assert_int_equal(c.mode, ROOT_MODE_OVERLAY);
        assert_int_equal(c.failure_action, FAILURE_ACTION_POWEROFF);
        assert_int_equal(c.failure_delay, 0);
        assert_true(c.root_hash.set);
        assert_int_equal(c.root_hash.bytes[1], 0x11);
        assert_int_equal(config_parse_cmdline(&c, "ephroot.mode=copyish"), -EINVAL);
        assert_int_equal(config_parse_cmdline(&c, "ephroot.failure-action=continue"), -EINVAL);
        assert_int_equal(config_parse_cmdline(&c, "ephroot.failure-delay=301"), -EINVAL);
        assert_int_equal(config_parse_cmdline(&c, "ephroot.root-hash=sha256:0011"), -EINVAL);
        assert_int_equal(config_parse_cmdline(&c, "ephroot.root-hash=md5:00112233445566778899aabbccddeeff"), -EINVAL);
        assert_int_equal(config_parse_cmdline(&c, "ephroot.pcr-leave=16"), -EINVAL);
        assert_int_equal(config_parse_cmdline(&c, "ephroot.mode=copy ephroot.mode=overlay"), -EEXIST);
        config_done(&c);
}

/* The first sentence stays; %m is the error passed in. */
static void test_boot_error_set(void **state) {
        BootError e = {};

        assert_false(boot_error_isset(&e));
        errno = EPERM;
        assert_int_equal(boot_error_set(&e, -ENOENT, "Failed to open '%s': %m", "/x"), -ENOENT);
        assert_string_equal(e.message, "Failed to open '/x': No such file or directory");
        assert_int_equal(errno, EPERM);
        assert_int_equal(boot_error_set(&e, SYNTHETIC_ERRNO(EIO), "a consequence"), -EIO);
        assert_string_equal(e.message, "Failed to open '/x': No such file or directory");
        boot_error_clear(&e);
        assert_false(boot_error_isset(&e));
        assert_int_equal(boot_error_set(&e, SYNTHETIC_ERRNO(ENODEV), "Failed to find a disk to format: %s", "none"), -ENODEV);
        assert_string_equal(e.message, "Failed to find a disk to format: none");
}

/* While collecting, what a callee logs at LOG_ERR is the sentence (the first one), not a log line;
 * warnings are still written; collections nest. */
static void test_boot_error_collect(void **state) {
        BootError outer = {}, inner = {};

        boot_error_collect(&outer);
        log_warning("a warning, written as usual");
        assert_int_equal(log_error_errno(SYNTHETIC_ERRNO(ENOSPC), "Failed to copy '%s': %m", "/dev/vdb"), -ENOSPC);
        (void) log_error_errno(SYNTHETIC_ERRNO(EIO), "a later error");
        assert_string_equal(outer.message, "Failed to copy '/dev/vdb': No space left on device");

        boot_error_collect(&inner);
        (void) log_error_errno(SYNTHETIC_ERRNO(EINVAL), "inner");
        boot_error_collect_end(&inner);
        assert_string_equal(inner.message, "inner");
        (void) log_error_errno(SYNTHETIC_ERRNO(EINVAL), "outer again");
        assert_string_equal(outer.message, "Failed to copy '/dev/vdb': No space left on device");
        boot_error_collect_end(&outer);

        /* Collected no longer: a sentence set directly is not overwritten by a log line either. */
        (void) log_error_errno(SYNTHETIC_ERRNO(EINVAL), "written to stderr, not collected");
        assert_string_equal(outer.message, "Failed to copy '/dev/vdb': No space left on device");
}

/* verity-root-hash=: the measured text (from the configuration alone, so predict computes it) and where
 * the boot looks for the hash tree. */
static void test_verity_event_and_offset(void **state) {
        Config c;
        uint64_t off = 1;
        char *s = NULL;
        int fd;

        (void) state;
        assert_int_equal(config_init(&c), 0);
        assert_int_equal(config_parse_text(&c, "verity-root-hash = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
                                           "t.conf"),
                         0);
        assert_int_equal(measure_verity_string(c.verity_root_hash.bytes, verity_error_to_string(c.verity_error), &s), 0);
        assert_string_equal(s, "ephroot-verity:v1 root-hash=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff error=eio");
        free(s);

        /* No filesystem on the device and offset auto: refused, naming the keys to set. */
        fd = memfd_create("os-root", MFD_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 1 << 20), 0);
        assert_int_equal(root_verity_hash_offset(&c, fd, 1 << 20, &off), -EMEDIUMTYPE);
        assert_true(off == 1);
        /* A hash device of its own: offset 0; an explicit offset wins. */
        assert_int_equal(config_parse_text(&c, "verity-hash-device = /dev/vdb\n", "t2.conf"), 0);
        assert_int_equal(root_verity_hash_offset(&c, fd, 1 << 20, &off), 0);
        assert_true(off == 0);
        assert_int_equal(config_parse_text(&c, "verity-hash-offset = 8192\n", "t3.conf"), 0);
        assert_int_equal(root_verity_hash_offset(&c, fd, 1 << 20, &off), 0);
        assert_true(off == 8192);
        close(fd);
        config_done(&c);
}

/* exec_start()/exec_reap(): the overlay's mkfs.ext4 runs while the OS root is opened through
 * dm-verity. The child runs alongside the caller, its exit status and the deadline are kept, and a
 * child given up on is killed and reaped. */
static void test_exec_start_reap(void **state) {
        uint64_t t0 = now_usec(CLOCK_MONOTONIC);
        pid_t a, b, c;

        a = exec_start((char *const[]) { (char *) "/bin/sh", (char *) "-c", (char *) "sleep 1", NULL });
        b = exec_start((char *const[]) { (char *) "/bin/sh", (char *) "-c", (char *) "sleep 1; exit 3", NULL });
        assert_true(a > 0 && b > 0);
        /* both ran at once: reaping both takes about 1 s; one after the other would be 2 s or more */
        assert_int_equal(exec_reap(a, now_usec(CLOCK_MONOTONIC) + 5000000), 0);
        assert_int_equal(exec_reap(b, now_usec(CLOCK_MONOTONIC) + 5000000), -ECHILD);
        assert_true(now_usec(CLOCK_MONOTONIC) - t0 < 1900000);

        c = exec_start((char *const[]) { (char *) "/bin/sleep", (char *) "10", NULL });
        assert_true(c > 0);
        assert_int_equal(exec_reap(c, now_usec(CLOCK_MONOTONIC) + 100000), -ETIMEDOUT);
        assert_int_equal(waitpid(c, NULL, WNOHANG), -1); /* already reaped */

        c = exec_start((char *const[]) { (char *) "/bin/sleep", (char *) "10", NULL });
        assert_true(c > 0);
        exec_kill(&c);
        assert_int_equal(c, 0);
        assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* no child left, none a zombie */
        exec_kill(&c); /* a no-op on 0 */

        assert_int_equal(exec_start((char *const[]) { (char *) "sh", NULL }), -EINVAL); /* not absolute */
        assert_int_equal(exec_wait((char *const[]) { (char *) "/nonexistent/mkfs", NULL }, 5000000), -ECHILD);
}

/* fork_job_*: what the child returns, logs, and how it ends, reach the parent. */
static int job_ok(void *userdata) {
        usleep(200 * 1000);
        return 0;
}

static int job_fail(void *userdata) {
        log_info("not an error, not captured");
        (void) log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Failed to do %s: the first sentence.", (const char *) userdata);
        return log_error_errno(SYNTHETIC_ERRNO(EIO), "A second sentence, not kept.");
}

static int job_fail_silent(void *userdata) {
        return -ENOENT;
}

static int job_crash(void *userdata) {
        abort();
}

static int job_hang(void *userdata) {
        sleep(10);
        return 0;
}

static int job_write_parent(void *userdata) {
        *(int *) userdata = 42; /* the child's copy */
        return 0;
}

static void test_fork_job(void **state) {
        char message[FORK_JOB_MESSAGE_MAX];
        ForkJob a = FORK_JOB_NULL, b = FORK_JOB_NULL, j = FORK_JOB_NULL;
        uint64_t t0 = now_usec(CLOCK_MONOTONIC), usec = 0;
        int v = 7;

        /* two at once, while the parent goes on */
        assert_int_equal(fork_job_start(job_ok, NULL, 5000000, &a), 0);
        assert_int_equal(fork_job_start(job_ok, NULL, 5000000, &b), 0);
        assert_true(a.pid > 0 && b.pid > 0 && a.fd >= 0);
        assert_true(now_usec(CLOCK_MONOTONIC) - t0 < 150000);
        assert_int_equal(fork_job_finish(&a, message, &usec), 0);
        assert_int_equal(fork_job_finish(&b, message, NULL), 0);
        assert_true(usec >= 200000 && usec < 5000000);
        assert_true(now_usec(CLOCK_MONOTONIC) - t0 < 390000);
        assert_int_equal(a.pid, 0);
        assert_int_equal(a.fd, -EBADF);
        fork_job_done(&a); /* a no-op on a finished job */

        /* the first error sentence comes back, not printed by the child; the error is what fn returned */
        assert_int_equal(fork_job_start(job_fail, (void *) "the job", 5000000, &j), 0);
        assert_int_equal(fork_job_finish(&j, message, NULL), -EIO);
        assert_string_equal(message, "Failed to do the job: the first sentence.");

        assert_int_equal(fork_job_start(job_fail_silent, NULL, 5000000, &j), 0);
        assert_int_equal(fork_job_finish(&j, message, NULL), -ENOENT);
        assert_string_equal(message, "");

        /* a child that dies without a result */
        assert_int_equal(fork_job_start(job_crash, NULL, 5000000, &j), 0);
        assert_int_equal(fork_job_finish(&j, message, NULL), -EPROTO);

        /* the deadline: killed and reaped */
        t0 = now_usec(CLOCK_MONOTONIC);
        assert_int_equal(fork_job_start(job_hang, NULL, 100000, &j), 0);
        assert_int_equal(fork_job_finish(&j, message, NULL), -ETIMEDOUT);
        assert_true(now_usec(CLOCK_MONOTONIC) - t0 < 2000000);
        fork_job_done(&j);

        /* given up: fork_job_done() kills and reaps, no zombie */
        assert_int_equal(fork_job_start(job_hang, NULL, 5000000, &j), 0);
        fork_job_done(&j);
        assert_int_equal(j.pid, 0);
        assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);

        /* the child works on a copy */
        assert_int_equal(fork_job_start(job_write_parent, &v, 5000000, &j), 0);
        assert_int_equal(fork_job_finish(&j, message, NULL), 0);
        assert_int_equal(v, 7);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_verity_event_and_offset),
                cmocka_unit_test(test_exec_start_reap),
                cmocka_unit_test(test_fork_job),
                cmocka_unit_test(test_fstab_azure),
                cmocka_unit_test(test_fstab_no_root_entry),
                cmocka_unit_test(test_fstab_classify),
                cmocka_unit_test(test_fstab_host_mounts),
                cmocka_unit_test(test_fstab_too_big),
                cmocka_unit_test(test_ext4_used),
                cmocka_unit_test(test_ext4_bad),
                cmocka_unit_test(test_copy_sector_limit),
                cmocka_unit_test(test_config_boot_keys),
                cmocka_unit_test(test_boot_error_set),
                cmocka_unit_test(test_boot_error_collect),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
