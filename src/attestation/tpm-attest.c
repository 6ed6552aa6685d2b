/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <string.h>

#include "macro.h"
#include "tpm-attest.h"

typedef struct Reader {
        const uint8_t *p;
        size_t n, off;
} Reader;

static int get_u8(Reader *r, uint8_t *v) {
        if (r->n - r->off < 1)
                return -EBADMSG;
        *v = r->p[r->off++];
        return 0;
}

static int get_u16(Reader *r, uint16_t *v) {
        if (r->n - r->off < 2)
                return -EBADMSG;
        *v = (uint16_t) (r->p[r->off] << 8 | r->p[r->off + 1]);
        r->off += 2;
        return 0;
}

static int get_u32(Reader *r, uint32_t *v) {
        if (r->n - r->off < 4)
                return -EBADMSG;
        *v = (uint32_t) r->p[r->off] << 24 | (uint32_t) r->p[r->off + 1] << 16 | (uint32_t) r->p[r->off + 2] << 8 |
             r->p[r->off + 3];
        r->off += 4;
        return 0;
}

static int get_u64(Reader *r, uint64_t *v) {
        uint32_t hi, lo;
        int k = get_u32(r, &hi);

        if (k < 0 || (k = get_u32(r, &lo)) < 0)
                return k;
        *v = (uint64_t) hi << 32 | lo;
        return 0;
}

/* A TPM2B: u16 size, then size bytes, at most max. */
static int get_tpm2b(Reader *r, size_t max, uint8_t *buf, uint16_t *size) {
        uint16_t s;
        int k = get_u16(r, &s);

        if (k < 0)
                return k;
        if (s > max || r->n - r->off < s)
                return -EBADMSG;
        memcpy(buf, r->p + r->off, s);
        r->off += s;
        *size = s;
        return 0;
}

size_t tpm_hash_size(uint16_t alg) {
        switch (alg) {
        case TPM_ALG_SHA1:
                return 20;
        case TPM_ALG_SHA256:
                return 32;
        case TPM_ALG_SHA384:
                return 48;
        case TPM_ALG_SHA512:
                return 64;
        default:
                return 0;
        }
}

int tpm_quote_info_parse(const uint8_t *p, size_t n, TpmQuoteInfo *ret) {
        Reader r = { .p = p, .n = n };
        TpmQuoteInfo q = {};
        int k;

        assert_return(p || n == 0, -EINVAL);
        assert_return(ret, -EINVAL);

        if ((k = get_u32(&r, &q.magic)) < 0 || (k = get_u16(&r, &q.type)) < 0)
                return k;
        if (q.magic != TPM_GENERATED_VALUE || q.type != TPM_ST_ATTEST_QUOTE)
                return -EBADMSG;
        if ((k = get_tpm2b(&r, TPM_NAME_MAX, q.signer, &q.signer_size)) < 0 ||
            (k = get_tpm2b(&r, TPM_DATA_MAX, q.extra, &q.extra_size)) < 0 || (k = get_u64(&r, &q.clock)) < 0 ||
            (k = get_u32(&r, &q.reset_count)) < 0 || (k = get_u32(&r, &q.restart_count)) < 0 ||
            (k = get_u8(&r, &q.safe)) < 0 || (k = get_u64(&r, &q.firmware_version)) < 0 ||
            (k = get_u32(&r, &q.n_selections)) < 0)
                return k;
        if (q.safe > 1 || q.n_selections > TPM_PCR_BANKS_MAX)
                return -EBADMSG;
        for (uint32_t i = 0; i < q.n_selections; i++) {
                TpmPcrSelection *s = q.selections + i;

                if ((k = get_u16(&r, &s->hash)) < 0 || (k = get_u8(&r, &s->size)) < 0)
                        return k;
                if (s->size > TPM_PCR_SELECT_MAX || r.n - r.off < s->size)
                        return -EBADMSG;
                memcpy(s->select, r.p + r.off, s->size);
                r.off += s->size;
        }
        if ((k = get_tpm2b(&r, TPM_DATA_MAX, q.pcr_digest, &q.pcr_digest_size)) < 0)
                return k;
        if (r.off != r.n)
                return -EBADMSG;

        *ret = q;
        return 0;
}

int tpm_signature_parse(const uint8_t *p, size_t n, TpmSignature *ret) {
        Reader r = { .p = p, .n = n };
        TpmSignature s = {};
        int k;

        assert_return(p || n == 0, -EINVAL);
        assert_return(ret, -EINVAL);

        if ((k = get_u16(&r, &s.alg)) < 0)
                return k;
        switch (s.alg) {
        case TPM_ALG_RSASSA:
        case TPM_ALG_RSAPSS:
                if ((k = get_u16(&r, &s.hash)) < 0 || (k = get_tpm2b(&r, TPM_SIG_MAX, s.sig, &s.sig_size)) < 0)
                        return k;
                break;
        case TPM_ALG_ECDSA:
                if ((k = get_u16(&r, &s.hash)) < 0 || (k = get_tpm2b(&r, TPM_DATA_MAX + 2, s.sig, &s.sig_size)) < 0 ||
                    (k = get_tpm2b(&r, TPM_DATA_MAX + 2, s.s, &s.s_size)) < 0)
                        return k;
                break;
        default:
                return -EOPNOTSUPP;
        }
        if (tpm_hash_size(s.hash) == 0)
                return -EOPNOTSUPP;
        if (s.sig_size == 0 || r.off != r.n)
                return -EBADMSG;
        *ret = s;
        return 0;
}
