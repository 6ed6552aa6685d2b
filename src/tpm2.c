/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "log.h"
#include "tpm2.h"

/* PC Client TPMs have 24 PCRs (TPM2_MAX_PCRS, 32, is only the structure size). */
#define TPM2_PCR_COUNT 24U

struct Tpm2Context {
        TSS2_TCTI_CONTEXT *tcti;
        ESYS_CONTEXT *esys;
};

static int tpm2_rc_to_errno(TSS2_RC rc) {
        if (rc == TSS2_RC_SUCCESS)
                return 0;

        switch (rc & TSS2_RC_LAYER_MASK) {
        case TSS2_TPM_RC_LAYER:
        case TSS2_RESMGR_TPM_RC_LAYER:
                /* Format-one codes carry the parameter/handle/session number in bits 6 and 8-11:
                 * keep only the format bit and the error number. Format-zero codes (warnings
                 * such as RETRY) are whole. */
                switch (rc & TPM2_RC_FMT1 ? rc & (TPM2_RC_FMT1 | 0x3FU) : rc & 0xFFFU) {
                case TPM2_RC_RETRY:
                case TPM2_RC_YIELDED:
                case TPM2_RC_TESTING:
                        return -EAGAIN;
                case TPM2_RC_OBJECT_MEMORY:
                case TPM2_RC_SESSION_MEMORY:
                case TPM2_RC_MEMORY:
                        return -ENOSPC;
                case TPM2_RC_HASH:
                case TPM2_RC_VALUE:
                case TPM2_RC_SIZE:
                        return -EINVAL;
                default:
                        return -EIO;
                }
        default:
                switch (rc & 0xFFFFU) { /* the base code below the layer */
                case TSS2_BASE_RC_NO_CONNECTION:
                case TSS2_BASE_RC_IO_ERROR:
                        return -ECONNREFUSED;
                case TSS2_BASE_RC_MEMORY:
                        return -ENOMEM;
                case TSS2_BASE_RC_NOT_IMPLEMENTED:
                        return -EOPNOTSUPP;
                case TSS2_BASE_RC_TRY_AGAIN:
                        return -EAGAIN;
                case TSS2_BASE_RC_BAD_VALUE:
                case TSS2_BASE_RC_BAD_REFERENCE:
                case TSS2_BASE_RC_BAD_SIZE:
                case TSS2_BASE_RC_INSUFFICIENT_BUFFER:
                        return -EINVAL;
                case TSS2_BASE_RC_MALFORMED_RESPONSE:
                        return -EBADMSG;
                default:
                        return -EIO;
                }
        }
}

#define RC_FAIL(rc, what) log_debug_errno(tpm2_rc_to_errno(rc), "%s failed: %s", (what), Tss2_RC_Decode(rc))

int tpm2_context_new(const char *tcti, Tpm2Context **ret) {
        _cleanup_(tpm2_context_freep) Tpm2Context *c = NULL;
        TSS2_RC rc;

        assert_return(tcti, -EINVAL);
        assert_return(ret, -EINVAL);

        /* tpm2-tss logs errors to stderr by itself; we decode and log them once, here, instead. */
        if (log_get_max_level() < LOG_DEBUG)
                (void) setenv("TSS2_LOG", "all+none", /* overwrite= */ 0);

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;

        rc = Tss2_TctiLdr_Initialize(tcti, &c->tcti);
        if (rc != TSS2_RC_SUCCESS) {
                c->tcti = NULL;
                return RC_FAIL(rc, "Tss2_TctiLdr_Initialize");
        }

        rc = Esys_Initialize(&c->esys, c->tcti, /* abiVersion= */ NULL);
        if (rc != TSS2_RC_SUCCESS) {
                c->esys = NULL;
                return RC_FAIL(rc, "Esys_Initialize");
        }

        *ret = TAKE_PTR(c);
        return 0;
}

Tpm2Context *tpm2_context_free(Tpm2Context *c) {
        if (!c)
                return NULL;
        if (c->esys)
                Esys_Finalize(&c->esys);
        if (c->tcti)
                Tss2_TctiLdr_Finalize(&c->tcti);
        free(c);
        return NULL;
}

int tpm2_get_random(Tpm2Context *c, void *buf, size_t n) {
        uint8_t *p = buf;
        unsigned calls = 0;

        assert_return(c && (buf || n == 0), -EINVAL);

        while (n > 0) {
                _cleanup_free_ TPM2B_DIGEST *rnd = NULL;
                size_t want = n > sizeof(rnd->buffer) ? sizeof(rnd->buffer) : n;
                TSS2_RC rc;

                /* A TPM may return fewer bytes than asked; bound the loop so a TPM that returns nothing
                 * cannot keep us here forever. */
                if (++calls > 64 + n)
                        return log_debug_errno(SYNTHETIC_ERRNO(EIO), "TPM2_GetRandom keeps returning no data.");

                rc = Esys_GetRandom(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, (UINT16) want, &rnd);
                if (rc != TSS2_RC_SUCCESS)
                        return RC_FAIL(rc, "Esys_GetRandom");
                if (rnd->size > want) {
                        explicit_bzero(rnd->buffer, sizeof(rnd->buffer));
                        return log_debug_errno(SYNTHETIC_ERRNO(EBADMSG), "TPM2_GetRandom returned more than asked.");
                }
                memcpy(p, rnd->buffer, rnd->size);
                explicit_bzero(rnd->buffer, sizeof(rnd->buffer));
                p += rnd->size;
                n -= rnd->size;
        }
        return 0;
}

int tpm2_get_active_banks(Tpm2Context *c, unsigned *ret_banks, uint16_t *ret_unsupported) {
        _cleanup_free_ TPMS_CAPABILITY_DATA *cap = NULL;
        TPMI_YES_NO more = TPM2_NO;
        uint16_t unsupported = 0;
        unsigned banks = 0;
        TSS2_RC rc;

        assert_return(c && ret_banks, -EINVAL);

        rc = Esys_GetCapability(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS,
                                /* property= */ 0, /* propertyCount= */ 1, &more, &cap);
        if (rc != TSS2_RC_SUCCESS)
                return RC_FAIL(rc, "Esys_GetCapability(TPM2_CAP_PCRS)");
        if (cap->capability != TPM2_CAP_PCRS)
                return log_debug_errno(SYNTHETIC_ERRNO(EBADMSG), "TPM returned capability 0x%x, not PCRS.",
                                       cap->capability);

        for (uint32_t i = 0; i < cap->data.assignedPCR.count && i < TPM2_NUM_PCR_BANKS; i++) {
                const TPMS_PCR_SELECTION *s = cap->data.assignedPCR.pcrSelections + i;
                bool active = false;
                int a;

                for (unsigned j = 0; j < s->sizeofSelect && j < sizeof(s->pcrSelect); j++)
                        if (s->pcrSelect[j] != 0)
                                active = true;
                if (!active)
                        continue;

                a = hash_alg_from_tpm(s->hash);
                if (a < 0) {
                        if (unsupported == 0)
                                unsupported = s->hash;
                        continue;
                }
                banks |= HASH_BIT(a);
        }

        *ret_banks = banks;
        if (ret_unsupported)
                *ret_unsupported = unsupported;
        return 0;
}

int tpm2_pcr_extend(Tpm2Context *c, unsigned pcr, const Digest *digests, size_t n_digests) {
        TPML_DIGEST_VALUES values = {};
        TSS2_RC rc;

        assert_return(c && digests, -EINVAL);
        assert_return(pcr < TPM2_PCR_COUNT, -EINVAL);
        assert_return(n_digests > 0 && n_digests <= TPM2_NUM_PCR_BANKS, -EINVAL);

        for (size_t i = 0; i < n_digests; i++) {
                if (digests[i].size != hash_alg_size(digests[i].alg) || digests[i].size > sizeof(TPMU_HA))
                        return -EINVAL;
                values.digests[i].hashAlg = hash_alg_to_tpm(digests[i].alg);
                memcpy(&values.digests[i].digest, digests[i].bytes, digests[i].size);
        }
        values.count = (UINT32) n_digests;

        /* ESYS_TR_PCR0 + n is the PCR handle; PCRs take the empty password. */
        rc = Esys_PCR_Extend(c->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &values);
        if (rc != TSS2_RC_SUCCESS)
                return RC_FAIL(rc, "Esys_PCR_Extend");
        return 0;
}

int tpm2_pcr_read(Tpm2Context *c, unsigned pcr, HashAlg alg, Digest *ret) {
        _cleanup_free_ TPML_PCR_SELECTION *out_sel = NULL;
        _cleanup_free_ TPML_DIGEST *values = NULL;
        TPML_PCR_SELECTION sel = {
                .count = 1,
                .pcrSelections[0] = {
                        .hash = hash_alg_to_tpm(alg),
                        .sizeofSelect = 3,
                },
        };
        UINT32 counter;
        TSS2_RC rc;

        assert_return(c && ret, -EINVAL);
        assert_return(pcr < TPM2_PCR_COUNT && alg < _HASH_ALG_MAX, -EINVAL);

        sel.pcrSelections[0].pcrSelect[pcr / 8] = (uint8_t) (1U << (pcr % 8));

        rc = Esys_PCR_Read(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, &counter, &out_sel, &values);
        if (rc != TSS2_RC_SUCCESS)
                return RC_FAIL(rc, "Esys_PCR_Read");
        if (values->count != 1)
                return log_debug_errno(SYNTHETIC_ERRNO(ENOENT), "PCR %u is not in the %s bank.", pcr,
                                       hash_alg_to_string(alg));
        if (values->digests[0].size != hash_alg_size(alg))
                return log_debug_errno(SYNTHETIC_ERRNO(EBADMSG), "PCR %u read back with %u bytes, expected %zu.",
                                       pcr, values->digests[0].size, hash_alg_size(alg));

        ret->alg = alg;
        ret->size = values->digests[0].size;
        memcpy(ret->bytes, values->digests[0].buffer, ret->size);
        return 0;
}

int tpm2_flush_handle(Tpm2Context *c, uint32_t handle) {
        ESYS_TR tr;
        TSS2_RC rc;

        assert_return(c, -EINVAL);

        rc = Esys_TR_FromTPMPublic(c->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr);
        if (rc != TSS2_RC_SUCCESS)
                return RC_FAIL(rc, "Esys_TR_FromTPMPublic");
        rc = Esys_FlushContext(c->esys, tr);
        if (rc != TSS2_RC_SUCCESS)
                return RC_FAIL(rc, "Esys_FlushContext");
        return 0;
}

/* --- Azure vTPM (NV report, persistent AK) --- */

#define TPM2_AZ_NV_CHUNK 512U /* below every TPM's NV buffer maximum (swtpm: 1024) */

static void *memdup_az(const void *p, size_t n) {
        void *q = malloc(n);
        return q ? memcpy(q, p, n) : NULL;
}

static bool rc_is_missing_handle(TSS2_RC rc) {
        /* TPM_RC_HANDLE (format one, any handle number), as the TPM or the resource manager says it */
        TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;

        return (layer == TSS2_TPM_RC_LAYER || layer == TSS2_RESMGR_TPM_RC_LAYER) && (rc & TPM2_RC_FMT1) &&
                (rc & (TPM2_RC_FMT1 | 0x3FU)) == TPM2_RC_HANDLE;
}

/* An ESYS_TR for a TPM handle; -ENOENT when nothing is there. Close with Esys_TR_Close(). */
static int tr_from_handle(Tpm2Context *c, uint32_t handle, ESYS_TR *ret) {
        TSS2_RC rc;

        rc = Esys_TR_FromTPMPublic(c->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ret);
        if (rc_is_missing_handle(rc))
                return log_debug_errno(SYNTHETIC_ERRNO(ENOENT), "TPM handle 0x%08x does not exist.", handle);
        if (rc != TSS2_RC_SUCCESS)
                return RC_FAIL(rc, "Esys_TR_FromTPMPublic");
        return 0;
}

static void tr_close(Tpm2Context *c, ESYS_TR *tr) {
        if (*tr != ESYS_TR_NONE)
                (void) Esys_TR_Close(c->esys, tr);
        *tr = ESYS_TR_NONE;
}

static int nv_data_size(Tpm2Context *c, ESYS_TR tr, uint16_t *ret) {
        _cleanup_free_ TPM2B_NV_PUBLIC *pub = NULL;
        TSS2_RC rc;

        rc = Esys_NV_ReadPublic(c->esys, tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, /* nvName= */ NULL);
        if (rc != TSS2_RC_SUCCESS)
                return RC_FAIL(rc, "Esys_NV_ReadPublic");
        *ret = pub->nvPublic.dataSize;
        return 0;
}

int tpm2_nv_az_write(Tpm2Context *c, uint32_t index, const void *data, size_t size) {
        ESYS_TR tr = ESYS_TR_NONE;
        TPM2B_MAX_NV_BUFFER buf = {};
        uint16_t have = 0;
        TSS2_RC rc;
        int r;

        assert_return(c && data, -EINVAL);
        assert_return(size > 0 && size <= sizeof(buf.buffer) && size <= TPM2_AZ_NV_CHUNK, -EINVAL);

        r = tr_from_handle(c, index, &tr);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r >= 0) {
                r = nv_data_size(c, tr, &have);
                if (r < 0)
                        goto finish;
                if (have != size) {
                        log_debug("NV index 0x%08x has %u bytes, redefining it with %zu.", index, have, size);
                        rc = Esys_NV_UndefineSpace(c->esys, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                                   ESYS_TR_NONE);
                        if (rc != TSS2_RC_SUCCESS) {
                                r = RC_FAIL(rc, "Esys_NV_UndefineSpace");
                                goto finish;
                        }
                        tr = ESYS_TR_NONE; /* undefining closed it */
                }
        }
        if (tr == ESYS_TR_NONE) {
                TPM2B_AUTH auth = {};
                TPM2B_NV_PUBLIC pub = {
                        .nvPublic = {
                                .nvIndex = index,
                                .nameAlg = TPM2_ALG_SHA256,
                                .attributes = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD,
                                .dataSize = (UINT16) size,
                        },
                };

                rc = Esys_NV_DefineSpace(c->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &auth,
                                         &pub, &tr);
                if (rc != TSS2_RC_SUCCESS) {
                        tr = ESYS_TR_NONE;
                        r = RC_FAIL(rc, "Esys_NV_DefineSpace");
                        goto finish;
                }
        }

        buf.size = (UINT16) size;
        memcpy(buf.buffer, data, size);
        rc = Esys_NV_Write(c->esys, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &buf,
                           /* offset= */ 0);
        r = rc == TSS2_RC_SUCCESS ? 0 : RC_FAIL(rc, "Esys_NV_Write");
finish:
        tr_close(c, &tr);
        return r;
}

int tpm2_nv_az_read(Tpm2Context *c, uint32_t index, size_t max_size, uint8_t **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *out = NULL;
        ESYS_TR tr = ESYS_TR_NONE;
        uint16_t size = 0;
        int r;

        assert_return(c && ret && ret_size, -EINVAL);

        r = tr_from_handle(c, index, &tr);
        if (r < 0)
                return r;
        r = nv_data_size(c, tr, &size);
        if (r < 0)
                goto finish;
        if (size == 0 || size > max_size) {
                r = log_debug_errno(SYNTHETIC_ERRNO(EFBIG), "NV index 0x%08x has %u bytes, expected 1..%zu.", index,
                                    size, max_size);
                goto finish;
        }
        out = malloc(size);
        if (!out) {
                r = -ENOMEM;
                goto finish;
        }
        for (uint16_t off = 0; off < size;) {
                _cleanup_free_ TPM2B_MAX_NV_BUFFER *data = NULL;
                uint16_t want = (uint16_t) MIN((unsigned) (size - off), TPM2_AZ_NV_CHUNK);
                TSS2_RC rc;

                rc = Esys_NV_Read(c->esys, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, want,
                                  off, &data);
                if (rc != TSS2_RC_SUCCESS) {
                        r = RC_FAIL(rc, "Esys_NV_Read");
                        goto finish;
                }
                if (data->size != want) {
                        r = log_debug_errno(SYNTHETIC_ERRNO(EBADMSG), "TPM2_NV_Read returned %u bytes, asked %u.",
                                            data->size, want);
                        goto finish;
                }
                memcpy(out + off, data->buffer, want);
                off += want;
        }
        *ret = TAKE_PTR(out);
        *ret_size = size;
        r = 0;
finish:
        tr_close(c, &tr);
        return r;
}

int tpm2_read_public_rsa_az(Tpm2Context *c, uint32_t handle, uint8_t **ret_n, size_t *ret_n_size,
                            uint32_t *ret_exponent) {
        _cleanup_free_ TPM2B_PUBLIC *pub = NULL;
        ESYS_TR tr = ESYS_TR_NONE;
        uint8_t *n;
        TSS2_RC rc;
        int r;

        assert_return(c && ret_n && ret_n_size && ret_exponent, -EINVAL);

        r = tr_from_handle(c, handle, &tr);
        if (r < 0)
                return r;
        rc = Esys_ReadPublic(c->esys, tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL, NULL);
        tr_close(c, &tr);
        if (rc != TSS2_RC_SUCCESS)
                return RC_FAIL(rc, "Esys_ReadPublic");
        if (pub->publicArea.type != TPM2_ALG_RSA)
                return log_debug_errno(SYNTHETIC_ERRNO(EOPNOTSUPP), "Key 0x%08x is not an RSA key.", handle);
        if (pub->publicArea.unique.rsa.size == 0 ||
            pub->publicArea.unique.rsa.size > sizeof(pub->publicArea.unique.rsa.buffer))
                return log_debug_errno(SYNTHETIC_ERRNO(EBADMSG), "Key 0x%08x has an invalid modulus size.", handle);
        n = memdup_az(pub->publicArea.unique.rsa.buffer, pub->publicArea.unique.rsa.size);
        if (!n)
                return -ENOMEM;
        *ret_n = n;
        *ret_n_size = pub->publicArea.unique.rsa.size;
        *ret_exponent = pub->publicArea.parameters.rsaDetail.exponent;
        return 0;
}

static void pcr_select_az(TPML_PCR_SELECTION *sel, unsigned first_byte, unsigned n_bytes) {
        *sel = (TPML_PCR_SELECTION) {
                .count = 1,
                .pcrSelections[0] = { .hash = TPM2_ALG_SHA256, .sizeofSelect = 3 },
        };
        for (unsigned i = first_byte; i < first_byte + n_bytes; i++)
                sel->pcrSelections[0].pcrSelect[i] = 0xFF;
}

int tpm2_quote_az(Tpm2Context *c, uint32_t ak_handle, const void *qualifying, size_t qualifying_size,
                  uint8_t **ret_msg, size_t *ret_msg_size, uint8_t **ret_sig, size_t *ret_sig_size) {
        _cleanup_free_ TPM2B_ATTEST *quoted = NULL;
        _cleanup_free_ TPMT_SIGNATURE *signature = NULL;
        _cleanup_free_ uint8_t *msg = NULL;
        TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
        TPM2B_DATA qd = {};
        TPML_PCR_SELECTION sel;
        ESYS_TR ak = ESYS_TR_NONE;
        uint8_t *sig;
        TSS2_RC rc;
        int r;

        assert_return(c && (qualifying || qualifying_size == 0), -EINVAL);
        assert_return(qualifying_size <= sizeof(qd.buffer), -EINVAL);
        assert_return(ret_msg && ret_msg_size && ret_sig && ret_sig_size, -EINVAL);

        qd.size = (UINT16) qualifying_size;
        memcpy(qd.buffer, qualifying, qualifying_size);
        pcr_select_az(&sel, 0, 3);

        r = tr_from_handle(c, ak_handle, &ak);
        if (r < 0)
                return r;
        rc = Esys_Quote(c->esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qd, &scheme, &sel, &quoted,
                        &signature);
        tr_close(c, &ak);
        if (rc != TSS2_RC_SUCCESS)
                return RC_FAIL(rc, "Esys_Quote");
        if (signature->sigAlg != TPM2_ALG_RSASSA || signature->signature.rsassa.hash != TPM2_ALG_SHA256)
                return log_debug_errno(SYNTHETIC_ERRNO(EOPNOTSUPP),
                                       "Quote signed with algorithm 0x%04x/0x%04x, expected RSASSA with SHA-256.",
                                       signature->sigAlg, signature->signature.rsassa.hash);
        if (quoted->size == 0 || quoted->size > sizeof(quoted->attestationData) ||
            signature->signature.rsassa.sig.size == 0 ||
            signature->signature.rsassa.sig.size > sizeof(signature->signature.rsassa.sig.buffer))
                return log_debug_errno(SYNTHETIC_ERRNO(EBADMSG), "Quote has an invalid size.");

        msg = memdup_az(quoted->attestationData, quoted->size);
        sig = memdup_az(signature->signature.rsassa.sig.buffer, signature->signature.rsassa.sig.size);
        if (!msg || !sig) {
                free(sig);
                return -ENOMEM;
        }
        *ret_msg = TAKE_PTR(msg);
        *ret_msg_size = quoted->size;
        *ret_sig = sig;
        *ret_sig_size = signature->signature.rsassa.sig.size;
        return 0;
}

int tpm2_pcr_read_az(Tpm2Context *c, uint8_t ret[TPM2_AZ_PCRS][32]) {
        uint8_t pcrs[TPM2_AZ_PCRS][32];

        assert_return(c && ret, -EINVAL);

        /* TPM2_PCR_Read returns at most 8 digests per call: one call per selection byte. */
        for (unsigned b = 0; b < 3; b++) {
                _cleanup_free_ TPML_PCR_SELECTION *out_sel = NULL;
                _cleanup_free_ TPML_DIGEST *values = NULL;
                TPML_PCR_SELECTION sel;
                UINT32 counter;
                TSS2_RC rc;

                pcr_select_az(&sel, b, 1);
                rc = Esys_PCR_Read(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, &counter, &out_sel,
                                   &values);
                if (rc != TSS2_RC_SUCCESS)
                        return RC_FAIL(rc, "Esys_PCR_Read");
                if (values->count != 8 || out_sel->count != 1 || out_sel->pcrSelections[0].pcrSelect[b] != 0xFF)
                        return log_debug_errno(SYNTHETIC_ERRNO(ENOENT), "The sha256 bank does not have PCRs %u..%u.",
                                               b * 8, b * 8 + 7);
                for (unsigned i = 0; i < 8; i++) {
                        if (values->digests[i].size != 32)
                                return log_debug_errno(SYNTHETIC_ERRNO(EBADMSG), "PCR %u read back with %u bytes.",
                                                       b * 8 + i, values->digests[i].size);
                        memcpy(pcrs[b * 8 + i], values->digests[i].buffer, 32);
                }
        }
        memcpy(ret, pcrs, sizeof(pcrs));
        return 0;
}
