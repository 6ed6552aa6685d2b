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
