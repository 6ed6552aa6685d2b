/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* dm-verity through libcryptsetup (CRYPT_VERITY): the hash tree is written and checked by the library,
 * as veritysetup does. The second file of the volume module that includes <libcryptsetup.h> (luks.c
 * is the LUKS2 one); libcryptsetup's messages go to log.h at debug level, its errors become -errno. */

#define _GNU_SOURCE
#include <assert.h>
#include <libcryptsetup.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "verity.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct crypt_device *, crypt_free);

static void log_cb(int level, const char *msg, void *userdata) {
        size_t n = strlen(msg);

        while (n > 0 && msg[n - 1] == '\n')
                n--;
        log_debug("libcryptsetup: %.*s", (int) n, msg);
}

uint64_t verity_hash_size(uint64_t data_size) {
        const uint64_t per_block = VERITY_BLOCK_SIZE / VERITY_ROOT_HASH_SIZE; /* 128 hashes per block */
        uint64_t blocks = (data_size + VERITY_BLOCK_SIZE - 1) / VERITY_BLOCK_SIZE, total = 1; /* superblock */

        /* Each level holds the hashes of the one below, until one block holds them all. */
        do {
                blocks = (blocks + per_block - 1) / per_block;
                total += blocks;
        } while (blocks > 1);
        return total * VERITY_BLOCK_SIZE;
}

int verity_format(const VerityFormatParams *p, VerityFormatResult *ret) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        struct crypt_params_verity params = {
                .hash_name = VERITY_HASH,
                .data_device = p->data_device,
                .salt = NULL, /* random */
                .salt_size = VERITY_SALT_SIZE,
                .hash_type = 1,
                .data_block_size = VERITY_BLOCK_SIZE,
                .hash_block_size = VERITY_BLOCK_SIZE,
                .data_size = p->data_size / VERITY_BLOCK_SIZE,
                .hash_area_offset = p->hash_offset,
                .flags = CRYPT_VERITY_CREATE_HASH,
        };
        VerityFormatResult res = {};
        size_t n = sizeof(res.root_hash);
        int r;

        assert(p && p->data_device && p->hash_device && ret);
        if (p->data_size == 0 || p->data_size % VERITY_BLOCK_SIZE != 0 || p->hash_offset % VERITY_BLOCK_SIZE != 0)
                return -EINVAL;

        crypt_set_log_callback(NULL, log_cb, NULL);
        r = crypt_init(&cd, p->hash_device);
        if (r < 0)
                return log_debug_errno(r, "crypt_init('%s') failed: %m", p->hash_device);
        crypt_set_log_callback(cd, log_cb, NULL);
        r = crypt_format(cd, CRYPT_VERITY, /* cipher= */ NULL, /* cipher_mode= */ NULL, /* uuid= */ NULL,
                         /* volume_key= */ NULL, /* volume_key_size= */ 0, &params);
        if (r < 0)
                return log_debug_errno(r, "crypt_format(CRYPT_VERITY) on '%s' failed: %m", p->hash_device);
        r = crypt_volume_key_get(cd, CRYPT_ANY_SLOT, (char *) res.root_hash, &n, /* passphrase= */ NULL, 0);
        if (r < 0)
                return log_debug_errno(r, "Failed to get the root hash from libcryptsetup: %m");
        if (n != sizeof(res.root_hash))
                return log_debug_errno(SYNTHETIC_ERRNO(EBADMSG), "libcryptsetup returned a %zu-byte root hash.", n);
        res.hash_size = verity_hash_size(p->data_size);
        *ret = res;
        return 0;
}

int verity_dm_ready(const char *name) {
        assert(name);

        crypt_set_log_callback(NULL, log_cb, NULL);
        return crypt_status(NULL, name) == CRYPT_INVALID ? -ENXIO : 0;
}

static int read_first_block(const char *node) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ void *buf = NULL;
        int r;

        fd = open(node, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_DIRECT);
        if (fd < 0)
                return -errno;
        if (posix_memalign(&buf, VERITY_BLOCK_SIZE, VERITY_BLOCK_SIZE) != 0)
                return -ENOMEM;
        r = pread_full(fd, buf, VERITY_BLOCK_SIZE, 0);
        return r < 0 ? r : 0;
}

int verity_activate(const char *data_device, const char *hash_device, uint64_t hash_offset,
                    const uint8_t *root_hash, bool panic, const char *name, char **ret_node) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        _cleanup_free_ char *node = NULL;
        struct crypt_params_verity params = {
                .hash_area_offset = hash_offset,
        };
        uint32_t flags = CRYPT_ACTIVATE_READONLY;
        int r;

        assert(data_device && hash_device && root_hash && name && ret_node);

        crypt_set_log_callback(NULL, log_cb, NULL);
        r = crypt_init_data_device(&cd, hash_device, data_device);
        if (r < 0)
                return log_debug_errno(r, "crypt_init_data_device('%s', '%s') failed: %m", hash_device, data_device);
        crypt_set_log_callback(cd, log_cb, NULL);
        r = crypt_load(cd, CRYPT_VERITY, &params);
        if (r < 0)
                return log_debug_errno(r, "crypt_load(CRYPT_VERITY) at offset %llu of '%s' failed: %m",
                                       (unsigned long long) hash_offset, hash_device);
        if (panic) {
#ifdef CRYPT_ACTIVATE_PANIC_ON_CORRUPTION
                flags |= CRYPT_ACTIVATE_PANIC_ON_CORRUPTION;
#else
                return log_debug_errno(SYNTHETIC_ERRNO(EOPNOTSUPP), "This libcryptsetup has no panic-on-corruption.");
#endif
        }
        r = crypt_activate_by_volume_key(cd, name, (const char *) root_hash, VERITY_ROOT_HASH_SIZE, flags);
        if (r < 0)
                return log_debug_errno(r, "crypt_activate_by_volume_key('%s', verity) failed: %m", name);
        if (asprintf(&node, "/dev/mapper/%s", name) < 0) {
                (void) crypt_deactivate(cd, name);
                return -ENOMEM;
        }
        r = read_first_block(node);
        if (r < 0) {
                (void) crypt_deactivate(cd, name);
                return log_debug_errno(r, "Reading the first block of '%s' failed: %m", node);
        }
        *ret_node = TAKE_PTR(node);
        return 0;
}

int verity_deactivate(const char *name) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        int r;

        crypt_set_log_callback(NULL, log_cb, NULL);
        r = crypt_init_by_name(&cd, name);
        if (r < 0)
                return log_debug_errno(r, "crypt_init_by_name('%s') failed: %m", name);
        crypt_set_log_callback(cd, log_cb, NULL);
        r = crypt_deactivate(cd, name);
        return r < 0 ? log_debug_errno(r, "crypt_deactivate('%s') failed: %m", name) : 0;
}
