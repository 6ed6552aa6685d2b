/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What a disk holds, and whether that is one of the three things ephroot may destroy: a fresh Azure
 * "Temporary Storage" NTFS, a blank disk, or ephroot's own mark. The only file that includes
 * <blkid/blkid.h>. Opens read-only and never writes. */

#define _GNU_SOURCE
#include <blkid/blkid.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>

#include "disk.h"
#include "log.h"
#include "ntfs-fresh.h"
#include "util.h"

#define GPT_MSR_TYPE_GUID "e3c9e316-0b5c-4db8-817d-f92df00215ae"
#define GPT_BASIC_DATA_TYPE_GUID "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7"
#define MBR_NTFS_TYPE 0x07

DEFINE_TRIVIAL_CLEANUP_FUNC(blkid_probe, blkid_free_probe);

static const char *const disk_class_table[_DISK_CLASS_MAX] = {
        [DISK_CLASS_FRESH_AZURE_RESOURCE] = "fresh-azure-resource",
        [DISK_CLASS_BLANK] = "blank",
        [DISK_CLASS_EPHROOT] = "ephroot",
        [DISK_CLASS_FOREIGN] = "foreign",
};

const char *disk_class_to_string(DiskClass c) {
        return c >= 0 && c < _DISK_CLASS_MAX ? disk_class_table[c] : NULL;
}

typedef struct Signature {
        char type[64];
        char label[256];
        char subsystem[64];
        char version[32];
        char pttype[16];
        bool found;
        bool ambivalent;
} Signature;

static void copy_value(blkid_probe pr, const char *name, char *buf, size_t size) {
        const char *v = NULL;

        buf[0] = '\0';
        if (blkid_probe_lookup_value(pr, name, &v, NULL) == 0 && v)
                (void) snprintf(buf, size, "%s", v);
}

/* Probes the range [offset, offset+size) of fd for a filesystem/RAID/crypto signature and, if
 * with_parts, a partition table. Returns -errno or 0. */
static int probe_range(int fd, uint64_t offset, uint64_t size, bool with_parts, Signature *ret,
                       blkid_probe *ret_probe) {
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        int r;

        *ret = (Signature) {};
        errno = 0;
        pr = blkid_new_probe();
        if (!pr)
                return errno > 0 ? -errno : -ENOMEM;
        if (blkid_probe_set_device(pr, fd, (blkid_loff_t) offset, (blkid_loff_t) size) < 0)
                return -EIO;

        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL | BLKID_SUBLKS_VERSION |
                                                      BLKID_SUBLKS_USAGE);
        blkid_probe_enable_partitions(pr, with_parts);
        if (with_parts)
                blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);

        errno = 0;
        r = blkid_do_safeprobe(pr);
        if (r == -2) /* more than one signature: ambivalent */
                ret->ambivalent = ret->found = true;
        else if (r < 0)
                return errno > 0 ? -errno : -EIO;
        else if (r == 0) {
                ret->found = true;
                copy_value(pr, "TYPE", ret->type, sizeof(ret->type));
                copy_value(pr, "LABEL", ret->label, sizeof(ret->label));
                copy_value(pr, "SUBSYSTEM", ret->subsystem, sizeof(ret->subsystem));
                copy_value(pr, "VERSION", ret->version, sizeof(ret->version));
                copy_value(pr, "PTTYPE", ret->pttype, sizeof(ret->pttype));
        }

        if (ret_probe)
                *ret_probe = TAKE_PTR(pr);
        return 0;
}

static bool is_temporary_storage(const Signature *s) {
        return !s->ambivalent && streq(s->type, "ntfs") && streq(s->label, AZURE_RESOURCE_NTFS_LABEL);
}

static int read_all_zero(int fd, uint64_t offset, uint64_t size, bool *ret) {
        _cleanup_free_ uint8_t *buf = malloc(DISK_ZERO_CHECK_BYTES);
        uint64_t done = 0;

        if (!buf)
                return -ENOMEM;
        while (done < size) {
                size_t want = size - done > DISK_ZERO_CHECK_BYTES ? DISK_ZERO_CHECK_BYTES : (size_t) (size - done);
                int r = pread_full(fd, buf, want, offset + done);

                if (r < 0)
                        return r;
                for (size_t i = 0; i < want; i++)
                        if (buf[i] != 0) {
                                *ret = false;
                                return 0;
                        }
                done += want;
        }
        *ret = true;
        return 0;
}

typedef struct PartReader {
        int fd;
        uint64_t offset;
        uint64_t size;
} PartReader;

static int part_read(uint64_t offset, void *buf, size_t size, void *userdata) {
        const PartReader *p = userdata;

        if (offset > p->size || size > p->size - offset)
                return -ERANGE;
        return pread_full(p->fd, buf, size, p->offset + offset);
}

/* Sets *ret to foreign with a formatted reason. Returns 0 or -ENOMEM. */
_printf_(3, 4) static int foreign(DiskClass *ret, char **ret_reason, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(ret_reason, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        *ret = DISK_CLASS_FOREIGN;
        return 0;
}

/* Looks at each partition of a DOS or GPT table. The Azure layouts: MBR with one NTFS "Temporary
 * Storage" partition; GPT with one such partition, optionally preceded by a Microsoft Reserved
 * partition (disks over 2 TiB). */
static int classify_partitions(int fd, blkid_probe pr, const char *pttype, DiskClass *ret, char **ret_reason) {
        blkid_partlist pl;
        int n, r, data = -1;

        errno = 0;
        pl = blkid_probe_get_partitions(pr);
        if (!pl)
                return errno > 0 ? -errno : -EIO;
        n = blkid_partlist_numof_partitions(pl);
        if (n < 0)
                return -EIO;
        if (n == 0)
                return foreign(ret, ret_reason, "%s partition table without partitions", pttype);
        if (n > 2)
                return foreign(ret, ret_reason, "%s partition table with %d partitions", pttype, n);

        for (int i = 0; i < n; i++) {
                blkid_partition p = blkid_partlist_get_partition(pl, i);
                const char *t = p ? blkid_partition_get_type_string(p) : NULL;
                _cleanup_free_ char *unexpected = NULL;
                blkid_loff_t start, size;
                PartReader part;
                Signature sig;

                if (!p)
                        return -EIO;
                start = blkid_partition_get_start(p);
                size = blkid_partition_get_size(p);
                if (start < 0 || size <= 0 || start > INT64_MAX / 512 || size > INT64_MAX / 512)
                        return -EBADMSG;

                r = probe_range(fd, (uint64_t) start * 512, (uint64_t) size * 512, /* with_parts= */ false, &sig,
                                NULL);
                if (r < 0)
                        return r;

                if (n == 2 && i == 0) {
                        /* Only a GPT Microsoft Reserved partition with no signature may come first. */
                        if (!streq(pttype, "gpt") || !t || strcasecmp(t, GPT_MSR_TYPE_GUID) != 0 || sig.found)
                                return foreign(ret, ret_reason,
                                               "%s partition table with 2 partitions, the first not an empty Microsoft Reserved partition",
                                               pttype);
                        continue;
                }

                if (!is_temporary_storage(&sig))
                        return foreign(ret, ret_reason, "partition %d holds %s%s%s%s, not NTFS labelled '%s'", i + 1,
                                       sig.ambivalent ? "several signatures" : !sig.found ? "no signature" : sig.type,
                                       isempty(sig.label) ? "" : " labelled '", sig.label, isempty(sig.label) ? "" : "'",
                                       AZURE_RESOURCE_NTFS_LABEL);
                if (streq(pttype, "dos") && blkid_partition_get_type(p) != MBR_NTFS_TYPE)
                        return foreign(ret, ret_reason, "partition %d has MBR type 0x%02x, not NTFS", i + 1,
                                       (unsigned) blkid_partition_get_type(p));
                if (streq(pttype, "gpt") && (!t || strcasecmp(t, GPT_BASIC_DATA_TYPE_GUID) != 0))
                        return foreign(ret, ret_reason, "partition %d has GPT type %s, not Microsoft basic data", i + 1,
                                       strempty(t));
                /* The label alone proves nothing: only Azure's own files may be in it. */
                part = (PartReader) { .fd = fd, .offset = (uint64_t) start * 512, .size = (uint64_t) size * 512 };
                r = ntfs_fresh_check(part_read, &part, part.size, &unexpected);
                if (r == -E2BIG)
                        return foreign(ret, ret_reason, "partition %d: NTFS '%s' has more than %u MFT records", i + 1,
                                       AZURE_RESOURCE_NTFS_LABEL, NTFS_FRESH_RECORDS_MAX);
                if (r == -EBADMSG)
                        return foreign(ret, ret_reason, "partition %d: NTFS '%s' could not be read as a fresh one", i + 1,
                                       AZURE_RESOURCE_NTFS_LABEL);
                if (r < 0)
                        return log_debug_errno(r, "Failed to read the NTFS of partition %d: %m", i + 1);
                if (unexpected)
                        return foreign(ret, ret_reason, "partition %d: NTFS '%s' holds %s", i + 1,
                                       AZURE_RESOURCE_NTFS_LABEL, unexpected);
                data = i;
        }

        if (data < 0)
                return -EBADMSG;
        *ret = DISK_CLASS_FRESH_AZURE_RESOURCE;
        return asprintf(ret_reason, "%s partition table with %s NTFS '%s' partition", pttype,
                        n == 2 ? "a Microsoft Reserved and one" : "one", AZURE_RESOURCE_NTFS_LABEL) < 0 ? -ENOMEM : 0;
}

/* The head is not zero: names a file system left where a wiped table's first partition began, if
 * libblkid finds one there, for a reason that says what would be destroyed. */
static int classify_orphans(int fd, uint64_t size, char **ret_reason) {
        static const uint64_t offsets[] = { 2048 * 512, 63 * 512 };

        for (size_t i = 0; i < ELEMENTSOF(offsets); i++) {
                Signature sig;
                int r;

                if (offsets[i] >= size)
                        continue;
                r = probe_range(fd, offsets[i], size - offsets[i], /* with_parts= */ false, &sig, NULL);
                if (r < 0)
                        return r;
                if (sig.found)
                        return asprintf(ret_reason, "no partition table, but %s at byte %" PRIu64 ", as a wiped table leaves it",
                                        sig.ambivalent ? "several signatures" : isempty(sig.type) ? "a signature" : sig.type,
                                        offsets[i]) < 0 ? -ENOMEM : 0;
        }
        return asprintf(ret_reason, "no known signature but non-zero data in the first 8 MiB") < 0 ? -ENOMEM : 0;
}

int disk_classify(const char *path, DiskClass *ret_class, char **ret_reason, uint64_t *ret_size, dev_t *ret_rdev) {
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        _cleanup_free_ char *reason = NULL;
        _cleanup_close_ int fd = -EBADF;
        DiskClass c = DISK_CLASS_FOREIGN;
        struct stat st;
        Signature sig;
        uint64_t size;
        int r;

        assert_return(path, -EINVAL);
        assert_return(ret_class, -EINVAL);
        assert_return(ret_reason, -EINVAL);

        /* O_NONBLOCK: an empty CD-ROM drive answers at once instead of waiting for a medium. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        r = fd_get_size(fd, &size);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (ret_rdev)
                *ret_rdev = S_ISBLK(st.st_mode) ? st.st_rdev : 0;

        if (size < DISK_ZERO_CHECK_BYTES) {
                /* Nothing ephroot could use, and too small to tell "blank" from "never written". */
                reason = strdup("smaller than 1 MiB");
                if (!reason)
                        return -ENOMEM;
                *ret_class = DISK_CLASS_FOREIGN;
                *ret_reason = TAKE_PTR(reason);
                if (ret_size)
                        *ret_size = size;
                return 0;
        }

        r = probe_range(fd, 0, size, /* with_parts= */ true, &sig, &pr);
        if (r < 0)
                return log_debug_errno(r, "blkid failed to probe '%s': %m", path);

        if (sig.ambivalent)
                r = asprintf(&reason, "several conflicting signatures") < 0 ? -ENOMEM : 0;
        else if (!isempty(sig.type) && streq(sig.type, "crypto_LUKS")) {
                if (streq(sig.version, "2") && streq(sig.label, EPHROOT_LUKS_LABEL) &&
                    streq(sig.subsystem, EPHROOT_LUKS_SUBSYSTEM)) {
                        c = DISK_CLASS_EPHROOT;
                        r = asprintf(&reason, "LUKS2 header with ephroot's label and subsystem") < 0 ? -ENOMEM : 0;
                } else
                        r = asprintf(&reason, "LUKS%s volume with label '%s' and subsystem '%s'", sig.version,
                                     sig.label, sig.subsystem) < 0 ? -ENOMEM : 0;
        } else if (!isempty(sig.type))
                r = asprintf(&reason, "the whole disk holds %s%s%s%s", sig.type,
                             isempty(sig.label) ? "" : " labelled '", sig.label, isempty(sig.label) ? "" : "'") < 0 ?
                            -ENOMEM : 0;
        else if (streq(sig.pttype, "dos") || streq(sig.pttype, "gpt"))
                r = classify_partitions(fd, pr, sig.pttype, &c, &reason);
        else if (!isempty(sig.pttype))
                r = asprintf(&reason, "%s partition table", sig.pttype) < 0 ? -ENOMEM : 0;
        else if (sig.found)
                r = asprintf(&reason, "an unnamed signature") < 0 ? -ENOMEM : 0;
        else {
                uint64_t head_size = MIN(size, (uint64_t) DISK_ZERO_CHECK_HEAD_BYTES);
                bool head = false, tail = false;

                /* A partition table that was wiped (sgdisk --zap-all, wipefs on the table only) leaves
                 * its partitions behind: the head must be zero well beyond the usual first partition
                 * offsets (63 sectors, 1 MiB). */
                r = read_all_zero(fd, 0, head_size, &head);
                if (r >= 0 && head)
                        r = read_all_zero(fd, size - DISK_ZERO_CHECK_BYTES, DISK_ZERO_CHECK_BYTES, &tail);
                if (r >= 0 && head && tail) {
                        c = DISK_CLASS_BLANK;
                        r = asprintf(&reason, "no signature and only zeros in the first 8 MiB and the last MiB") < 0 ?
                                    -ENOMEM : 0;
                } else if (r >= 0 && !head)
                        r = classify_orphans(fd, size, &reason);
                else if (r >= 0)
                        r = asprintf(&reason, "no known signature but non-zero data in the last MiB") < 0 ? -ENOMEM : 0;
        }
        if (r < 0)
                return r;

        *ret_class = c;
        *ret_reason = TAKE_PTR(reason);
        if (ret_size)
                *ret_size = size;
        return 0;
}
