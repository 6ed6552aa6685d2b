/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <string.h>

#include "hash.h"
#include "macro.h"
#include "tpm-attest.h"
#include "tpm-public.h"

typedef struct Reader {
        const uint8_t *p;
        size_t n, off;
} Reader;

static int u16(Reader *r, uint16_t *v) {
        if (r->n - r->off < 2)
                return -EBADMSG;
        *v = (uint16_t) (r->p[r->off] << 8 | r->p[r->off + 1]);
        r->off += 2;
        return 0;
}

static int u32(Reader *r, uint32_t *v) {
        uint16_t a, b;
        int k = u16(r, &a);
        if (k < 0 || (k = u16(r, &b)) < 0)
                return k;
        *v = (uint32_t) a << 16 | b;
        return 0;
}

static int tpm2b(Reader *r, size_t max, uint8_t *out, uint16_t *size) {
        uint16_t s;
        int k = u16(r, &s);

        if (k < 0)
                return k;
        if (s > max || r->n - r->off < s)
                return -EBADMSG;
        if (out)
                memcpy(out, r->p + r->off, s);
        r->off += s;
        *size = s;
        return 0;
}

int tpm_public_parse(const uint8_t *p, size_t n, TpmPublic *ret) {
        TpmPublic pub = {};
        Reader r;
        uint16_t size, policy_size, kdf;
        int k;

        assert_return(p || n == 0, -EINVAL);
        assert_return(ret, -EINVAL);

        if (n < 2)
                return -EBADMSG;
        size = (uint16_t) (p[0] << 8 | p[1]);
        if (size != n - 2)
                return -EBADMSG;
        r = (Reader) { .p = p + 2, .n = size };
        pub.tpmt = p + 2;
        pub.tpmt_size = size;

        if ((k = u16(&r, &pub.type)) < 0 || (k = u16(&r, &pub.name_alg)) < 0 || (k = u32(&r, &pub.attributes)) < 0 ||
            (k = tpm2b(&r, 64, NULL, &policy_size)) < 0 || (k = u16(&r, &pub.sym_alg)) < 0)
                return k;
        if (tpm_hash_size(pub.name_alg) == 0)
                return -EOPNOTSUPP;
        if (pub.sym_alg != TPM_ALG_NULL && ((k = u16(&r, &pub.sym_bits)) < 0 || (k = u16(&r, &pub.sym_mode)) < 0))
                return k;
        if ((k = u16(&r, &pub.scheme)) < 0)
                return k;
        if (pub.scheme != TPM_ALG_NULL && (k = u16(&r, &pub.scheme_hash)) < 0)
                return k;

        switch (pub.type) {
        case TPM_ALG_RSA:
                if ((k = u16(&r, &pub.rsa_bits)) < 0 || (k = u32(&r, &pub.rsa_exponent)) < 0 ||
                    (k = tpm2b(&r, sizeof(pub.n), pub.n, &pub.n_size)) < 0)
                        return k;
                if (pub.n_size == 0 || pub.n_size * 8U != pub.rsa_bits)
                        return -EBADMSG;
                break;
        case TPM_ALG_ECC:
                if ((k = u16(&r, &pub.curve)) < 0 || (k = u16(&r, &kdf)) < 0)
                        return k;
                if (kdf != TPM_ALG_NULL) {
                        uint16_t h;
                        if ((k = u16(&r, &h)) < 0)
                                return k;
                }
                if ((k = tpm2b(&r, sizeof(pub.n), pub.n, &pub.n_size)) < 0 ||
                    (k = tpm2b(&r, sizeof(pub.y), pub.y, &pub.y_size)) < 0)
                        return k;
                if (pub.n_size == 0 || pub.n_size > 66 || pub.n_size != pub.y_size)
                        return -EBADMSG;
                break;
        default:
                return -EOPNOTSUPP;
        }
        if (r.off != r.n)
                return -EBADMSG;
        *ret = pub;
        return 0;
}

int tpm_public_name(const TpmPublic *pub, uint8_t *ret, size_t *ret_size) {
        Digest d;
        int k;

        assert_return(pub && ret && ret_size, -EINVAL);
        k = hash_alg_from_tpm(pub->name_alg);
        if (k < 0)
                return k;
        k = hash_buffer((HashAlg) k, pub->tpmt, pub->tpmt_size, &d);
        if (k < 0)
                return k;
        ret[0] = (uint8_t) (pub->name_alg >> 8);
        ret[1] = (uint8_t) pub->name_alg;
        memcpy(ret + 2, d.bytes, d.size);
        *ret_size = 2 + d.size;
        return 0;
}
