/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "macro.h"

/* The PCR bank algorithms ephroot can compute in software. A set of them is a bitmask of
 * HASH_BIT(alg). */
typedef enum HashAlg {
        HASH_SHA1,
        HASH_SHA256,
        HASH_SHA384,
        HASH_SHA512,
        _HASH_ALG_MAX,
} HashAlg;

#define HASH_BIT(alg) (1U << (alg))
#define HASH_ALL ((1U << _HASH_ALG_MAX) - 1U)
#define HASH_SIZE_MAX 64U
#define FOREACH_HASH_ALG(a, set)                                  \
        for (HashAlg a = 0; a < _HASH_ALG_MAX; a++)               \
                if ((set) & HASH_BIT(a))

typedef struct Digest {
        HashAlg alg;
        size_t size;
        uint8_t bytes[HASH_SIZE_MAX];
} Digest;

const char *hash_alg_to_string(HashAlg alg);
int hash_alg_from_string(const char *s);
size_t hash_alg_size(HashAlg alg);
/* TPM_ALG_ID values (TPM 2.0 Part 2, table 9), without pulling in tss2 headers. */
uint16_t hash_alg_to_tpm(HashAlg alg);
int hash_alg_from_tpm(uint16_t id);

int hash_buffer(HashAlg alg, const void *p, size_t n, Digest *ret);

/* Hashes everything readable from fd (at most max_size bytes, else -EFBIG) with every algorithm in
 * the set, in one pass. ret is indexed by HashAlg. */
int hash_fd(int fd, uint64_t max_size, unsigned algs, Digest ret[static _HASH_ALG_MAX], uint64_t *ret_size);

/* Incremental hashing with one algorithm, for streams that are not a plain fd (the root copy). */
typedef struct HashContext HashContext;
int hash_context_new(HashAlg alg, HashContext **ret);
int hash_context_update(HashContext *h, const void *p, size_t n);
int hash_context_final(HashContext *h, Digest *ret);
HashContext *hash_context_free(HashContext *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(HashContext *, hash_context_free);

/* Software PCR extend: pcr = H(pcr || event). Both must be of the same algorithm. */
int hash_extend(Digest *pcr, const Digest *event);
/* A PCR at its reset value (all zeros) for alg. */
void hash_zero(HashAlg alg, Digest *ret);

/* HMAC (RFC 2104) with alg's hash, keyed by key (which is never copied outside OpenSSL's own
 * context, and that context is freed, which cleanses it). */
int hash_hmac(HashAlg alg, const void *key, size_t key_size, const void *p, size_t n, Digest *ret);

/* HKDF-SHA256 (RFC 5869), extract and expand. salt may be NULL (then HashLen zero bytes, as the RFC
 * says), info may be NULL/empty. Writes exactly ret_size bytes (1..255*32) to ret; on failure ret is
 * wiped. OpenSSL's copies of the inputs are cleansed when its context is freed. */
int hkdf_sha256(const void *ikm, size_t ikm_size, const void *salt, size_t salt_size, const void *info,
                size_t info_size, void *ret, size_t ret_size);
