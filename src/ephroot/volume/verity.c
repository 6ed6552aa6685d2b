/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* dm-verity through libcryptsetup (CRYPT_VERITY): the hash tree is written and checked by the library,
 * as veritysetup does. The second file of the volume module that includes <libcryptsetup.h> (luks.c
 * is the LUKS2 one); libcryptsetup's messages go to log.h at debug level, its errors become -errno. */

#define _GNU_SOURCE
#include <assert.h>
#include <libcryptsetup.h>
#include <string.h>

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
