/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The volume key: 64 bytes from the vTPM's generator and 64 from the kernel's, mixed with
 * HKDF-SHA256 (hash.c does the arithmetic), so that the key is as good as the better of the two.
 * Nothing here is logged but sizes. */

#define _GNU_SOURCE
#include <sys/random.h>

#include "hash.h"
#include "keygen.h"
#include "log.h"
#include "test-hooks.h"
#include "util.h"

/* getrandom() returns at most 32 MiB per call and never fewer than asked for <= 256 bytes once the
 * pool is initialised; the cap only guards against a kernel that keeps returning short reads. */
#define GETRANDOM_CALLS_MAX 64U

static int getrandom_full(void *buf, size_t n) {
        uint8_t *p = buf;
        unsigned calls = 0;

        while (n > 0) {
                ssize_t k;

                if (++calls > GETRANDOM_CALLS_MAX)
                        return -EIO;
                /* Blocking (no GRND_NONBLOCK): better to wait for the pool than to key a disk with less. */
                k = getrandom(p, n, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

int keygen_volume_key(Tpm2Context *tpm, Secret **ret) {
        _cleanup_(secret_freep) Secret *ikm = NULL, *key = NULL;
        int r;

        assert_return(ret, -EINVAL);

        /* Input keying material: TPM bytes first, then the kernel's; without a TPM only the kernel's. */
        r = secret_new(tpm ? 2 * KEYGEN_INPUT_SIZE : KEYGEN_INPUT_SIZE, &ikm);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the key inputs: %m");
        r = secret_new(KEYGEN_KEY_SIZE, &key);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the volume key: %m");

        if (tpm) {
                r = tpm2_get_random(tpm, ikm->data, KEYGEN_INPUT_SIZE);
                if (r < 0)
                        return log_error_errno(r, "Failed to get %u random bytes from the TPM: %m", KEYGEN_INPUT_SIZE);
        } else
                log_warning("NO TPM: deriving the volume key from getrandom() alone (tpm=none, development only).");

        r = getrandom_full(ikm->data + (tpm ? KEYGEN_INPUT_SIZE : 0), KEYGEN_INPUT_SIZE);
        if (r < 0)
                return log_error_errno(r, "Failed to get %u random bytes from the kernel: %m", KEYGEN_INPUT_SIZE);

        r = hkdf_sha256(ikm->data, ikm->size, /* salt= */ NULL, 0, KEYGEN_HKDF_INFO, strlen(KEYGEN_HKDF_INFO),
                        key->data, key->size);
        if (r < 0)
                return log_error_errno(r, "Failed to derive the volume key with HKDF-SHA256: %m");

        /* ikm is wiped here, by its cleanup. */
        log_debug("Derived a %zu-byte volume key from %zu bytes of input.", key->size, ikm->size);
        test_hook_volume_key(key);
        *ret = TAKE_PTR(key);
        return 0;
}
