/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* LUKS2 on the throw-away disk: the only file that includes <libcryptsetup.h>. The header that
 * decides decryption is made here, lives in tmpfs, and activation uses that file alone; the copy
 * written to the disk (the mark) is for blkid and the next boot's classification, and is never read
 * back. libcryptsetup's messages go to log.h at debug level; its errors become -errno here. */

#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <libcryptsetup.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <time.h>

#include "disk.h"
#include "hash.h"
#include "log.h"
#include "luks.h"
#include "test-hooks.h"
#include "util.h"

#define LUKS_KEY_SIZE 64U               /* AES-256-XTS: two 256-bit keys */
#define LUKS_INTEGRITY_KEY_SIZE 32U     /* hmac(sha256) */
#define LUKS_INTEGRITY_ALG "hmac(sha256)"
#define LUKS_INTEGRITY_KEY_INFO "ephroot integrity key v1"
#define LUKS_PBKDF_ITERATIONS 1000U     /* the volume key digest only: the key is 512 random bits */
#define LUKS_WIPE_BLOCK (1024U * 1024U)

DEFINE_TRIVIAL_CLEANUP_FUNC(struct crypt_device *, crypt_free);

static const char *const integrity_table[_LUKS_INTEGRITY_MAX] = {
        [LUKS_INTEGRITY_NONE] = "none",
        [LUKS_INTEGRITY_HMAC_SHA256] = "hmac-sha256",
};

const char *luks_integrity_to_string(LuksIntegrity i) {
        return i >= 0 && i < _LUKS_INTEGRITY_MAX ? integrity_table[i] : NULL;
}

int luks_integrity_from_string(const char *s) {
        for (LuksIntegrity i = 0; i < _LUKS_INTEGRITY_MAX; i++)
                if (streq_ptr(s, integrity_table[i]))
                        return (int) i;
        return -EINVAL;
}

void luks_params_init(LuksParams *p) {
        *p = (LuksParams) {
                .sector_size = 0,
                .integrity = LUKS_INTEGRITY_NONE,
                .format_discard = true,
                .allow_discards = true,
                .no_read_workqueue = true,
                .no_write_workqueue = true,
                .activate = true,
        };
}

void luks_volume_done(LuksVolume *v) {
        if (!v)
                return;
        v->device = mfree(v->device);
        v->header_path = mfree(v->header_path);
        v->dm_name = mfree(v->dm_name);
        v->dm_node = mfree(v->dm_node);
        v->uuid = mfree(v->uuid);
        v->cipher = mfree(v->cipher);
}

bool luks_dm_name_is_valid(const char *name) {
        size_t n;

        if (isempty(name) || name[0] == '.' || name[0] == '-')
                return false;
        n = strlen(name);
        if (n > LUKS_DM_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
                      (name[i] >= '0' && name[i] <= '9') || strchr("._-", name[i])))
                        return false;
        return true;
}

static const struct {
        uint32_t flag;
        const char *name;
} flag_names[] = {
        { CRYPT_ACTIVATE_ALLOW_DISCARDS, "allow-discards" },
        { CRYPT_ACTIVATE_NO_JOURNAL, "no-journal" },
#ifdef HAVE_CRYPT_ACTIVATE_NO_READ_WORKQUEUE
        { CRYPT_ACTIVATE_NO_READ_WORKQUEUE, "no-read-workqueue" },
#endif
#ifdef HAVE_CRYPT_ACTIVATE_NO_WRITE_WORKQUEUE
        { CRYPT_ACTIVATE_NO_WRITE_WORKQUEUE, "no-write-workqueue" },
#endif
};

int luks_activate_flags_to_string(uint32_t flags, char **ret) {
        char buf[256] = "";

        assert_return(ret, -EINVAL);

        for (size_t i = 0; i < ELEMENTSOF(flag_names); i++)
                if (flags & flag_names[i].flag) {
                        if (buf[0])
                                strcat(buf, ",");
                        strcat(buf, flag_names[i].name);
                        flags &= ~flag_names[i].flag;
                }
        if (flags != 0) /* a flag ephroot does not set: a programming error, not input */
                return -EINVAL;
        *ret = strdup(buf[0] ? buf : "none");
        return *ret ? 0 : -ENOMEM;
}

static uint32_t activate_flags(const LuksParams *p) {
        uint32_t f = 0;

        /* dm-crypt with authenticated encryption cannot pass discards down (libcryptsetup refuses). */
        if (p->allow_discards && p->integrity == LUKS_INTEGRITY_NONE)
                f |= CRYPT_ACTIVATE_ALLOW_DISCARDS;
        else if (p->allow_discards)
                log_info("integrity=%s: activating without allow-discards, which dm-integrity under dm-crypt does not support.",
                         luks_integrity_to_string(p->integrity));
        if (p->integrity != LUKS_INTEGRITY_NONE)
                f |= CRYPT_ACTIVATE_NO_JOURNAL; /* a crash ends the key's life anyway */
#ifdef HAVE_CRYPT_ACTIVATE_NO_READ_WORKQUEUE
        if (p->no_read_workqueue)
                f |= CRYPT_ACTIVATE_NO_READ_WORKQUEUE;
#else
        if (p->no_read_workqueue)
                log_notice("This libcryptsetup has no no-read-workqueue flag, ignoring it.");
#endif
#ifdef HAVE_CRYPT_ACTIVATE_NO_WRITE_WORKQUEUE
        if (p->no_write_workqueue)
                f |= CRYPT_ACTIVATE_NO_WRITE_WORKQUEUE;
#else
        if (p->no_write_workqueue)
                log_notice("This libcryptsetup has no no-write-workqueue flag, ignoring it.");
#endif
        return f;
}

int luks_pick_sector_size(unsigned configured, unsigned logical_block_size, uint64_t device_size, uint64_t data_offset,
                          unsigned *ret, const char **ret_why) {
        bool aligned = device_size % 4096 == 0 && data_offset % 4096 == 0;
        unsigned lbs = logical_block_size;

        assert_return(ret && ret_why, -EINVAL);

        if (lbs < 512 || lbs > 4096 || (lbs & (lbs - 1)) != 0)
                return *ret_why = "the device's logical block size is not a power of two in 512..4096", -EINVAL;

        if (configured == 0) {
                if (aligned) {
                        *ret_why = "the logical block size and the alignment allow it";
                        *ret = 4096;
                        return 0;
                }
                if (lbs > 512)
                        return *ret_why = "the device size is not a multiple of 4096 bytes and its logical block size is larger than 512",
                               -EINVAL;
                *ret_why = "the device size is not a multiple of 4096 bytes";
                *ret = 512;
                return 0;
        }
        if (configured == 512) {
                if (lbs > 512)
                        return *ret_why = "the device's logical block size is larger than 512", -EINVAL;
                *ret_why = "configured";
                *ret = 512;
                return 0;
        }
        if (configured == 4096) {
                if (!aligned)
                        return *ret_why = "the device size is not a multiple of 4096 bytes", -EINVAL;
                *ret_why = "configured";
                *ret = 4096;
                return 0;
        }
        return *ret_why = "only 0 (auto), 512 and 4096 are supported", -EINVAL;
}

static void log_cb(int level, const char *msg, void *userdata) {
        size_t n = strlen(msg);

        /* Debug level only, whatever libcryptsetup thinks of it: the caller logs the failure once. */
        while (n > 0 && msg[n - 1] == '\n')
                n--;
        log_debug("libcryptsetup: %.*s", (int) n, msg);
}

/* -ESTALE unless fd is the block device that was checked (expect; 0: nothing to compare): the node
 * was opened by name again, and a name can come to mean another device (hotplug, udev renames). */
static int check_rdev(int fd, dev_t expect) {
        struct stat st;

        if (expect == 0)
                return 0;
        if (fstat(fd, &st) < 0)
                return -errno;
        return S_ISBLK(st.st_mode) && st.st_rdev == expect ? 0 : -ESTALE;
}

/* The device as it is now: size and logical block size. A block device is opened O_EXCL, which the
 * kernel refuses while it is mounted or held by dm/md: a second line of defence after disk-target.c. */
static int device_probe(const char *device, dev_t expect, bool *ret_block, uint64_t *ret_size, unsigned *ret_lbs) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int lbs = 512, r;

        fd = open(device, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISBLK(st.st_mode)) {
                closep(&fd);
                fd = open(device, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_EXCL);
                if (fd < 0)
                        return -errno;
                r = check_rdev(fd, expect);
                if (r < 0)
                        return r;
                if (ioctl(fd, BLKGETSIZE64, ret_size) < 0 || ioctl(fd, BLKSSZGET, &lbs) < 0)
                        return -errno;
                if (lbs <= 0)
                        return -EBADMSG;
                *ret_block = true;
        } else if (S_ISREG(st.st_mode)) {
                if (expect != 0)
                        return -ESTALE; /* a block device was checked */
                *ret_size = (uint64_t) st.st_size;
                *ret_block = false;
        } else
                return S_ISDIR(st.st_mode) ? -EISDIR : -ENOTBLK;
        *ret_lbs = (unsigned) lbs;
        return 0;
}

static int stat_rdev_matches(const char *device, dev_t expect) {
        struct stat st;

        if (expect == 0)
                return 0;
        if (stat(device, &st) < 0)
                return -errno;
        return S_ISBLK(st.st_mode) && st.st_rdev == expect ? 0 : -ESTALE;
}

static int open_for_write(const char *device, bool block, dev_t expect) {
        _cleanup_close_ int fd = open(device, O_WRONLY | O_CLOEXEC | O_NOCTTY | (block ? O_EXCL : 0));
        int r;

        if (fd < 0)
                return -errno;
        r = check_rdev(fd, expect);
        if (r < 0)
                return r;
        return TAKE_FD(fd);
}

/* One discard of the whole device instead of zeroing it; an image file gets its blocks punched out. */
static int discard_device(const char *device, bool block, dev_t expect, uint64_t size) {
        _cleanup_close_ int fd = open_for_write(device, block, expect);

        if (fd < 0)
                return fd;
        if (block) {
                uint64_t range[2] = { 0, size };
                if (ioctl(fd, BLKDISCARD, range) < 0)
                        return -errno;
        } else if (size > 0 && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t) size) < 0)
                return -errno;
        return 0;
}

/* The mark: the tmpfs header's bytes, at the start of the disk. Written, never read back. */
static int write_mark(const char *header_path, const char *device, bool block, dev_t expect) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t size;
        int r;

        r = read_full_file_bounded(header_path, LUKS_MARK_SIZE, &buf, &size);
        if (r < 0)
                return r;
        if (size < 4096)
                return -EBADMSG;

        fd = open_for_write(device, block, expect);
        if (fd < 0)
                return fd;
        r = loop_write(fd, buf, size);
        if (r < 0)
                return r;
        return fdatasync(fd) < 0 ? -errno : 0;
}

/* mkdir -p: parents 0755 (as /run/... would be), the directory itself 0700. */
static int mkdir_p(const char *dir) {
        _cleanup_free_ char *copy = strdup(dir);
        char *p;

        if (!copy)
                return -ENOMEM;
        for (p = copy + 1; (p = strchr(p, '/')); p++) {
                *p = '\0';
                if (mkdir(copy, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(copy, 0700) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int create_header_file(const char *dir, const char *name, char **ret_path) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct statfs sfs;
        struct stat st;
        int r;

        r = mkdir_p(dir);
        if (r < 0)
                return r;
        if (stat(dir, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        if (statfs(dir, &sfs) >= 0 && sfs.f_type != TMPFS_MAGIC && sfs.f_type != RAMFS_MAGIC)
                log_notice("The header directory '%s' is not on tmpfs: the header is only as private as that file system.",
                           dir);

        if (asprintf(&path, "%s/%s.header", dir, name) < 0)
                return -ENOMEM;
        /* O_EXCL: never reuse a header that is there already (another volume of the same name). */
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return -errno;
        /* libcryptsetup writes into a header file but does not grow it: give it the whole area. */
        if (ftruncate(fd, LUKS_MARK_SIZE) < 0) {
                int k = -errno;
                (void) unlink(path);
                return k;
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

int luks_volume_key(const Secret *key, LuksIntegrity integrity, Secret **ret) {
        _cleanup_(secret_freep) Secret *vk = NULL;
        int r;

        assert_return(key && ret, -EINVAL);
        assert_return(integrity >= 0 && integrity < _LUKS_INTEGRITY_MAX, -EINVAL);

        r = secret_new(key->size + (integrity == LUKS_INTEGRITY_NONE ? 0 : LUKS_INTEGRITY_KEY_SIZE), &vk);
        if (r < 0)
                return r;
        memcpy(vk->data, key->data, key->size);
        if (integrity != LUKS_INTEGRITY_NONE) {
                r = hkdf_sha256(key->data, key->size, /* salt= */ NULL, 0, LUKS_INTEGRITY_KEY_INFO,
                                strlen(LUKS_INTEGRITY_KEY_INFO), vk->data + key->size, LUKS_INTEGRITY_KEY_SIZE);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(vk);
        return 0;
}

/* What a failed luks_setup() must undo; run by its cleanup unless disarmed on success. */
typedef struct Rollback {
        struct crypt_device *cd;
        const char *dm_name;   /* set once the mapping exists */
        const char *header;    /* set once the header file exists */
} Rollback;

static void rollback_run(Rollback *rb) {
        if (rb->dm_name) {
                int r = crypt_deactivate(rb->cd, rb->dm_name);
                if (r < 0)
                        log_error_errno(r, "Failed to remove the half-made mapping '%s': %m", rb->dm_name);
        }
        if (rb->header && unlink(rb->header) < 0)
                log_debug_errno(errno, "Failed to remove '%s', ignoring: %m", rb->header);
}

static int wipe_integrity(struct crypt_device *cd, const char *dm_node) {
        uint64_t t0 = now_usec(CLOCK_MONOTONIC);
        int r;

        /* Every sector's tag is written once, so that reading a sector never written since format does
         * not fail its integrity check. Through the mapping, direct I/O, 1 MiB at a time. */
        r = crypt_wipe(cd, dm_node, CRYPT_WIPE_ZERO, /* offset= */ 0, /* length= */ 0, LUKS_WIPE_BLOCK,
                       /* flags= */ 0, /* progress= */ NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to initialise the integrity tags of '%s': %m", dm_node);
        log_info("Initialised the integrity tags of '%s' in %.1f s.", dm_node,
                 (double) (now_usec(CLOCK_MONOTONIC) - t0) / 1e6);
        return 0;
}

/* The volume key digest only (no keyslot is ever made): PBKDF2 with a fixed count, no benchmark. */
static const struct crypt_pbkdf_type luks_pbkdf = {
        .type = CRYPT_KDF_PBKDF2,
        .hash = "sha256",
        .iterations = LUKS_PBKDF_ITERATIONS,
        .flags = CRYPT_PBKDF_NO_BENCHMARK,
};

/* What luks_setup() is asked to do, checked before anything is touched. */
static int check_request(const char *device, const Secret *key, const LuksParams *p, const char *header_dir,
                         const char *dm_name) {
        if (key->size != LUKS_KEY_SIZE)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Failed to format '%s': the key has %zu bytes, not %u.",
                                       device, key->size, LUKS_KEY_SIZE);
        if (!luks_dm_name_is_valid(dm_name))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "Failed to format '%s': invalid device-mapper name '%s' (1..%u of A-Z a-z 0-9 . _ -).",
                                       device, dm_name, LUKS_DM_NAME_MAX);
        if (!path_is_absolute(header_dir))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "Failed to format '%s': the header directory '%s' is not an absolute path.",
                                       device, header_dir);
        if (!luks_integrity_to_string(p->integrity))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Failed to format '%s': unknown integrity mode %d.",
                                       device, (int) p->integrity);
        return 0;
}

/* The device as it is now (the one checked, big enough) and the encryption sector size it allows. */
static int probe_device(const char *device, const LuksParams *p, bool *ret_block, uint64_t *ret_size,
                        unsigned *ret_sector_size) {
        const char *why = NULL;
        uint64_t size = 0;
        unsigned lbs = 0;
        int r;

        r = device_probe(device, p->device_rdev, ret_block, &size, &lbs);
        if (r == -ESTALE)
                return log_error_errno(r, "Failed to format '%s': it is no longer the device that was checked (%u:%u), refusing.",
                                       device, major(p->device_rdev), minor(p->device_rdev));
        if (r == -EBUSY)
                return log_error_errno(r, "Failed to open '%s' exclusively: it is in use (mounted or held).", device);
        if (r == -EISDIR || r == -ENOTBLK)
                return log_error_errno(r, "Failed to format '%s': not a block device or image file.", device);
        if (r < 0)
                return log_error_errno(r, "Failed to open '%s': %m", device);
        if (size < LUKS_MARK_SIZE + LUKS_DATA_SIZE_MIN)
                return log_error_errno(SYNTHETIC_ERRNO(ENOSPC),
                                       "Failed to format '%s': %" PRIu64 " bytes is too small (at least %u MiB needed).",
                                       device, size, (LUKS_MARK_SIZE + LUKS_DATA_SIZE_MIN) >> 20);

        r = luks_pick_sector_size(p->sector_size, lbs, size, LUKS_MARK_SIZE, ret_sector_size, &why);
        if (r < 0)
                return log_error_errno(r, "Failed to format '%s' with sector size %u: %s.", device, p->sector_size, why);
        if (*ret_sector_size == 4096)
                log_debug("Encryption sector size 4096 for '%s': %s.", device, why);
        else
                log_notice("Encryption sector size 512 for '%s': %s.", device, why);
        *ret_size = size;
        return 0;
}

/* The pre-format discard, when configured: a device that cannot discard is formatted all the same. */
static int discard_before_format(const char *device, bool block, const LuksParams *p, uint64_t size,
                                 bool *ret_discarded) {
        int r;

        r = discard_device(device, block, p->device_rdev, size);
        if (r == -ESTALE)
                return log_error_errno(r, "Failed to discard '%s': it is no longer the device that was checked (%u:%u), refusing.",
                                       device, major(p->device_rdev), minor(p->device_rdev));
        if (r < 0)
                log_full_errno(r == -EOPNOTSUPP ? LOG_DEBUG : LOG_NOTICE, r,
                               "Failed to discard '%s' before formatting, ignoring: %m", device);
        *ret_discarded = r >= 0;
        return 0;
}

/* A libcryptsetup handle on the device with the tmpfs header, set up for crypt_format(). */
static int crypt_open_for_format(const char *device, const char *header_path, dev_t expect,
                                 struct crypt_device **ret_cd) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        int r;

        /* libcryptsetup opens the device by name itself: the closest check is just before. */
        r = stat_rdev_matches(device, expect);
        if (r < 0)
                return log_error_errno(r, "Failed to format '%s': it is no longer the device that was checked (%u:%u), refusing.",
                                       device, major(expect), minor(expect));
        crypt_set_log_callback(NULL, log_cb, NULL);
        r = crypt_init_data_device(&cd, header_path, device);
        if (r < 0)
                return log_error_errno(r, "Failed to open '%s' with header '%s' for LUKS2: %m", device, header_path);
        crypt_set_log_callback(cd, log_cb, NULL);
        /* The default for LUKS2 already; said explicitly because it keeps the key out of the dm table. */
        r = crypt_volume_key_keyring(cd, /* enable= */ 1);
        if (r < 0)
                log_debug_errno(r, "Failed to ask libcryptsetup for the kernel keyring, ignoring: %m");

        /* Before crypt_format(): otherwise it benchmarks PBKDF2 for the volume key digest (about 1 s). */
        r = crypt_set_pbkdf_type(cd, &luks_pbkdf);
        if (r >= 0)
                r = crypt_set_metadata_size(cd, LUKS_METADATA_SIZE, LUKS_KEYSLOTS_SIZE);
        if (r >= 0)
                r = crypt_set_data_offset(cd, LUKS_MARK_SIZE / 512);
        if (r < 0)
                return log_error_errno(r, "Failed to set the LUKS2 parameters for '%s': %m", device);
        *ret_cd = TAKE_PTR(cd);
        return 0;
}

/* LUKS2 into the tmpfs header, with no keyslot, then its copy onto the device as the mark. */
static int format_and_mark(struct crypt_device *cd, const char *device, bool block, const LuksParams *p,
                           const LuksVolume *v, const Secret *vk) {
        struct crypt_params_luks2 params = {
                .pbkdf = &luks_pbkdf,
                .label = EPHROOT_LUKS_LABEL,
                .subsystem = EPHROOT_LUKS_SUBSYSTEM,
                .sector_size = v->sector_size,
                .integrity = p->integrity != LUKS_INTEGRITY_NONE ? LUKS_INTEGRITY_ALG : NULL,
        };
        int r;

        r = crypt_format(cd, CRYPT_LUKS2, LUKS_CIPHER, LUKS_CIPHER_MODE, /* uuid= */ NULL, (const char *) vk->data,
                         vk->size, &params);
        if (r < 0)
                return log_error_errno(r, "Failed to format '%s' as LUKS2 (header '%s'): %m", device, v->header_path);

        r = write_mark(v->header_path, device, block, p->device_rdev);
        if (r == -ESTALE)
                return log_error_errno(r, "Failed to write the LUKS2 mark onto '%s': it is no longer the device that was checked (%u:%u), refusing.",
                                       device, major(p->device_rdev), minor(p->device_rdev));
        if (r < 0)
                return log_error_errno(r, "Failed to write the LUKS2 mark onto '%s': %m", device);
        return 0;
}

/* The mapping, from the handle crypt_format() made: its metadata is the tmpfs header, nothing read
 * from the disk. The key goes to the kernel keyring (libcryptsetup's default for LUKS2), not into the
 * dm table. rb->dm_name is set as soon as the mapping exists. */
static int activate_volume(struct crypt_device *cd, const char *device, const char *dm_name, const Secret *vk,
                           LuksIntegrity integrity, LuksVolume *v, Rollback *rb) {
        struct crypt_active_device cad = {};
        int r;

        r = crypt_activate_by_volume_key(cd, dm_name, (const char *) vk->data, vk->size, v->activate_flags);
        if (r < 0)
                return log_error_errno(r, "Failed to activate '%s' as '%s': %m", device, dm_name);
        rb->dm_name = dm_name;
        if (asprintf(&v->dm_node, "%s/%s", crypt_get_dir(), dm_name) < 0 || !(v->dm_name = strdup(dm_name)))
                return log_oom();

        if (integrity != LUKS_INTEGRITY_NONE) {
                r = wipe_integrity(cd, v->dm_node);
                if (r < 0)
                        return r;
        }

        r = crypt_get_active_device(cd, dm_name, &cad);
        if (r < 0)
                return log_error_errno(r, "Failed to read back the mapping '%s': %m", dm_name);
        v->data_size = cad.size * 512;
        return 0;
}

int luks_setup(const char *device, const Secret *key, const LuksParams *p, LuksVolume *ret) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        _cleanup_(secret_freep) Secret *vk = NULL;
        _cleanup_(luks_volume_done) LuksVolume v = {};
        _cleanup_(rollback_run) Rollback rb = {};
        const char *header_dir, *dm_name;
        bool block = false;
        uint64_t size = 0;
        int r;

        assert_return(device && key && p && ret, -EINVAL);

        header_dir = p->header_dir ?: LUKS_HEADER_DIR_DEFAULT;
        dm_name = p->dm_name ?: LUKS_DM_NAME_DEFAULT;
        r = check_request(device, key, p, header_dir, dm_name);
        if (r < 0)
                return r;
        r = probe_device(device, p, &block, &size, &v.sector_size);
        if (r < 0)
                return r;

        r = create_header_file(header_dir, dm_name, &v.header_path);
        if (r < 0)
                return log_error_errno(r, "Failed to create the LUKS2 header file '%s/%s.header': %m", header_dir,
                                       dm_name);
        rb.header = v.header_path;

        if (p->format_discard) {
                r = discard_before_format(device, block, p, size, &v.discarded);
                if (r < 0)
                        return r;
        }

        r = crypt_open_for_format(device, v.header_path, p->device_rdev, &cd);
        if (r < 0)
                return r;
        rb.cd = cd;
        r = luks_volume_key(key, p->integrity, &vk);
        if (r < 0)
                return log_error_errno(r, "Failed to prepare the volume key for '%s': %m", device);
        r = format_and_mark(cd, device, block, p, &v, vk);
        if (r < 0)
                return r;
        r = test_hook_after_mark(device, v.header_path);
        if (r < 0)
                return r;

        v.activate_flags = activate_flags(p);
        if (p->activate) {
                r = activate_volume(cd, device, dm_name, vk, p->integrity, &v, &rb);
                if (r < 0)
                        return r;
        }

        v.data_offset = crypt_get_data_offset(cd) * 512;
        if (!p->activate)
                v.data_size = size - v.data_offset;
        v.key_bits = LUKS_KEY_SIZE * 8;
        v.integrity = p->integrity;
        v.device = strdup(device);
        v.uuid = strdup(strempty(crypt_get_uuid(cd)));
        if (asprintf(&v.cipher, "%s-%s", crypt_get_cipher(cd), crypt_get_cipher_mode(cd)) < 0)
                v.cipher = NULL;
        if (!v.device || !v.uuid || !v.cipher)
                return log_oom();

        rb = (Rollback) {}; /* success: keep the mapping and the header */
        *ret = v;
        v = (LuksVolume) {};
        return 0;
}

int luks_deactivate(const char *dm_name) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        int r;

        assert_return(dm_name, -EINVAL);

        crypt_set_log_callback(NULL, log_cb, NULL);
        r = crypt_init_by_name(&cd, dm_name);
        if (r < 0)
                return log_error_errno(r, "Failed to find the mapping '%s': %m", dm_name);
        crypt_set_log_callback(cd, log_cb, NULL);
        r = crypt_deactivate(cd, dm_name);
        if (r < 0)
                return log_error_errno(r, "Failed to remove the mapping '%s': %m", dm_name);
        return 0;
}
