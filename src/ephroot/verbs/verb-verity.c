/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `ephroot verity-format IMAGE [--hash-device DEV | --hash-offset auto|BYTES] [--json]`: writes the
 * dm-verity hash tree of an OS root filesystem with libcryptsetup, after the filesystem (the default)
 * or on a device or partition of its own, and prints the root hash for verity-root-hash=. The last step
 * of an image build (docs/verity.md). */

#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ext4-used.h"
#include "json-util.h"
#include "log.h"
#include "util.h"
#include "verbs.h"
#include "verity.h"

static struct {
        const char *image;
        const char *hash_device;
        uint64_t hash_offset; /* UINT64_MAX: auto */
        bool json;
} arg = { .hash_offset = UINT64_MAX };

enum {
        ARG_HASH_DEVICE = 0x100,
        ARG_HASH_OFFSET,
        ARG_JSON,
};

static int parse_u64(const char *s, uint64_t *ret) {
        char *end = NULL;
        unsigned long long v;

        if (isempty(s) || s[0] < '0' || s[0] > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

static VerbResult parse_option(VerbContext *ctx, int c, const char *value) {
        switch (c) {
        case ARG_HASH_DEVICE:
                arg.hash_device = value;
                return VERB_OK;
        case ARG_HASH_OFFSET:
                if (streq(value, "auto")) {
                        arg.hash_offset = UINT64_MAX;
                        return VERB_OK;
                }
                if (parse_u64(value, &arg.hash_offset) < 0 || arg.hash_offset % VERITY_BLOCK_SIZE != 0 ||
                    arg.hash_offset == UINT64_MAX)
                        return verb_usage("Invalid --hash-offset '%s': 'auto' or a multiple of %u bytes.", value,
                                          VERITY_BLOCK_SIZE);
                return VERB_OK;
        case ARG_JSON:
                arg.json = true;
                return VERB_OK;
        default:
                return VERB_USAGE;
        }
}

static VerbResult parse_args(VerbContext *ctx, int argc, char **argv) {
        if (argc != 1)
                return verb_usage("Usage: ephroot verity-format IMAGE [--hash-device DEV | --hash-offset auto|BYTES] [--json]");
        if (arg.hash_device && arg.hash_offset != UINT64_MAX)
                return verb_usage("--hash-device and --hash-offset exclude each other.");
        arg.image = argv[0];
        return VERB_OK;
}

static int read_cb(uint64_t offset, void *buf, size_t n, void *userdata) {
        return pread_full(*(int *) userdata, buf, n, offset);
}

/* The bytes the filesystem on fd takes, from its superblock (ext2/3/4), or -errno. */
static int filesystem_size(int fd, uint64_t device_size, uint64_t *ret) {
        _cleanup_(ext4_used_map_done) Ext4UsedMap m = {};
        int r;

        r = ext4_used_map(read_cb, &fd, device_size, &m);
        if (r < 0)
                return r;
        *ret = m.blocks * m.block_size;
        return 0;
}

static int open_size(const char *path, int flags, int *ret_fd, uint64_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = open(path, flags | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open '%s': %m", path);
        r = fd_get_size(fd, ret_size);
        if (r < 0)
                return log_error_errno(r, "Failed to get the size of '%s': %m", path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int print_result(const VerityFormatParams *p, const VerityFormatResult *res) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_free_ char *hex = NULL, *text = NULL;

        hex = hexmem(res->root_hash, sizeof(res->root_hash));
        if (!hex)
                return log_oom();
        if (!arg.json) {
                puts(hex);
                return 0;
        }
        o = json_object_new_object();
        if (!o || json_add_string(o, "root_hash", hex) < 0 || json_add_string(o, "hash_algorithm", VERITY_HASH) < 0 ||
            json_add_string(o, "data_device", p->data_device) < 0 || json_add_uint(o, "data_size", p->data_size) < 0 ||
            json_add_int(o, "data_block_size", VERITY_BLOCK_SIZE) < 0 ||
            json_add_string(o, "hash_device", p->hash_device) < 0 || json_add_uint(o, "hash_offset", p->hash_offset) < 0 ||
            json_add_uint(o, "hash_size", res->hash_size) < 0 || json_to_string(o, JSON_C_TO_STRING_PLAIN, &text) < 0)
                return log_oom();
        puts(text);
        return 0;
}

static int run(VerbContext *ctx) {
        _cleanup_close_ int fd = -EBADF, hfd = -EBADF;
        uint64_t image_size, fs_size = 0, hash_device_size, need;
        VerityFormatParams p = { .data_device = arg.image };
        VerityFormatResult res;
        struct stat a, b;
        int r;

        r = open_size(arg.image, O_RDWR, &fd, &image_size);
        if (r < 0)
                return r;
        r = filesystem_size(fd, image_size, &fs_size);
        if (r == -EMEDIUMTYPE && arg.hash_device)
                fs_size = image_size / VERITY_BLOCK_SIZE * VERITY_BLOCK_SIZE; /* cover the whole partition */
        else if (r == -EMEDIUMTYPE)
                return log_error_errno(r, "Failed to find an ext2/3/4 filesystem on '%s', so where its data ends is unknown: "
                                       "use --hash-device.", arg.image);
        else if (r < 0)
                return log_error_errno(r, "Failed to read the filesystem size of '%s': %m", arg.image);
        if (fs_size < VERITY_BLOCK_SIZE)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Failed to format '%s' for dm-verity: too small (%" PRIu64 " bytes).",
                                       arg.image, image_size);
        p.data_size = (fs_size + VERITY_BLOCK_SIZE - 1) / VERITY_BLOCK_SIZE * VERITY_BLOCK_SIZE;
        if (p.data_size > image_size)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Failed to format '%s' for dm-verity: its filesystem claims %" PRIu64
                                       " bytes, the image has %" PRIu64 ".", arg.image, fs_size, image_size);
        need = verity_hash_size(p.data_size);

        if (arg.hash_device) {
                r = open_size(arg.hash_device, O_RDWR, &hfd, &hash_device_size);
                if (r < 0)
                        return r;
                if (fstat(fd, &a) < 0 || fstat(hfd, &b) < 0)
                        return log_error_errno(errno, "Failed to stat '%s': %m", arg.hash_device);
                if (a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_rdev == b.st_rdev)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Failed to use '%s' as the hash device: it is the image itself "
                                               "(use --hash-offset).", arg.hash_device);
                p.hash_device = arg.hash_device;
                p.hash_offset = 0;
        } else {
                hash_device_size = image_size;
                p.hash_device = arg.image;
                p.hash_offset = arg.hash_offset != UINT64_MAX ? arg.hash_offset : p.data_size;
                if (p.hash_offset < p.data_size)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Failed to put the hash tree at offset %" PRIu64 " of '%s': "
                                               "the filesystem takes the first %" PRIu64 " bytes.", p.hash_offset, arg.image, p.data_size);
        }
        if (p.hash_offset > hash_device_size || hash_device_size - p.hash_offset < need)
                return log_error_errno(SYNTHETIC_ERRNO(ENOSPC), "Failed to write the hash tree to '%s': it needs %" PRIu64
                                       " bytes from offset %" PRIu64 ", the device has %" PRIu64 ". Make the image larger than "
                                       "the filesystem (e.g. truncate -s +%" PRIu64 ") or use --hash-device.",
                                       p.hash_device, need, p.hash_offset, hash_device_size, need);

        r = verity_format(&p, &res);
        if (r < 0)
                return log_error_errno(r, "Failed to format '%s' for dm-verity: %m", arg.image);
        return print_result(&p, &res);
}

static const struct option options[] = {
        { "hash-device", required_argument, NULL, ARG_HASH_DEVICE },
        { "hash-offset", required_argument, NULL, ARG_HASH_OFFSET },
        { "json", no_argument, NULL, ARG_JSON },
        {},
};

const Verb verb_verity_format = {
        .name = "verity-format",
        .synopsis = "IMAGE [--hash-device DEV | --hash-offset auto|BYTES] [--json]",
        .help = "Write the dm-verity hash tree of the ext2/3/4 OS root filesystem in IMAGE (a file or\n"
                "partition) with libcryptsetup: after the filesystem (--hash-offset auto, the default:\n"
                "its size rounded up to 4096) or on a device of its own, and print the root hash for\n"
                "verity-root-hash=. The last step of an image build, after update-initramfs.",
        .options = options,
        .parse_option = parse_option,
        .parse_args = parse_args,
        .run = run,
};
