/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "log.h"
#include "tpm2.h"

/* NV reads and writes go in chunks below every TPM's NV buffer maximum (swtpm: 1024). */
#define TPM2_NV_CHUNK 512U
/* TPM2_PCR_Read calls for one tpm2_pcr_read(): 3 for 24 PCRs from a TPM that answers 8 at a time. */
#define TPM2_PCR_READ_CALLS_MAX 8U

struct Tpm2Context {
        TSS2_TCTI_CONTEXT *tcti;
        ESYS_CONTEXT *esys;
        bool banks_known;       /* banks and unsupported_bank hold the TPM's answer */
        unsigned banks;
        uint16_t unsupported_bank;
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

static bool rc_is_missing_handle(TSS2_RC rc) {
        /* TPM_RC_HANDLE (format one, any handle number), as the TPM or the resource manager says it */
        TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;

        return (layer == TSS2_TPM_RC_LAYER || layer == TSS2_RESMGR_TPM_RC_LAYER) && (rc & TPM2_RC_FMT1) &&
                (rc & (TPM2_RC_FMT1 | 0x3FU)) == TPM2_RC_HANDLE;
}

/* An ESYS_TR for a persistent handle or NV index; -ENOENT when the TPM does not have it (the rule of
 * tpm2.h). Close with tr_close(). */
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

static void *memdup_bytes(const void *p, size_t n) {
        void *q = malloc(n ?: 1);
        return q ? memcpy(q, p, n) : NULL;
}

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

static int query_banks(Tpm2Context *c) {
        _cleanup_free_ TPMS_CAPABILITY_DATA *cap = NULL;
        TPMI_YES_NO more = TPM2_NO;
        uint16_t unsupported = 0;
        unsigned banks = 0;
        TSS2_RC rc;

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

        c->banks = banks;
        c->unsupported_bank = unsupported;
        c->banks_known = true;
        return 0;
}

int tpm2_get_banks(Tpm2Context *c, unsigned *ret_banks, uint16_t *ret_unsupported) {
        int r;

        assert_return(c && ret_banks, -EINVAL);

        if (!c->banks_known) {
                r = query_banks(c);
                if (r < 0)
                        return r;
        }
        *ret_banks = c->banks;
        if (ret_unsupported)
                *ret_unsupported = c->unsupported_bank;
        return 0;
}

int tpm2_pcr_extend(Tpm2Context *c, unsigned pcr, const Digest *digests, size_t n_digests) {
        TPML_DIGEST_VALUES values = {};
        TSS2_RC rc;

        assert_return(c && digests, -EINVAL);
        assert_return(pcr < TPM2_PCRS, -EINVAL);
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

static void mask_to_selection(uint32_t mask, TPMI_ALG_HASH alg, TPML_PCR_SELECTION *ret) {
        *ret = (TPML_PCR_SELECTION) {
                .count = 1,
                .pcrSelections[0] = { .hash = alg, .sizeofSelect = 3 },
        };
        for (unsigned i = 0; i < TPM2_PCRS; i++)
                if (mask & (1U << i))
                        ret->pcrSelections[0].pcrSelect[i / 8] |= (uint8_t) (1U << (i % 8));
}

static uint32_t selection_to_mask(const TPMS_PCR_SELECTION *s) {
        uint32_t mask = 0;

        for (unsigned i = 0; i < TPM2_PCRS && i / 8 < s->sizeofSelect && i / 8 < sizeof(s->pcrSelect); i++)
                if (s->pcrSelect[i / 8] & (1U << (i % 8)))
                        mask |= 1U << i;
        return mask;
}

int tpm2_pcr_read(Tpm2Context *c, HashAlg alg, uint32_t pcr_mask, Digest *ret) {
        size_t dsize = hash_alg_size(alg);
        uint32_t got = 0;

        assert_return(c && ret && alg < _HASH_ALG_MAX, -EINVAL);
        assert_return(pcr_mask != 0 && pcr_mask <= TPM2_PCRS_ALL, -EINVAL);

        for (unsigned call = 0; got != pcr_mask; call++) {
                _cleanup_free_ TPML_PCR_SELECTION *out_sel = NULL;
                _cleanup_free_ TPML_DIGEST *values = NULL;
                uint32_t missing = pcr_mask & ~got, ask, out_mask;
                TPML_PCR_SELECTION sel;
                UINT32 counter;
                size_t k = 0;
                TSS2_RC rc;

                if (call >= TPM2_PCR_READ_CALLS_MAX)
                        return log_debug_errno(SYNTHETIC_ERRNO(EIO), "TPM2_PCR_Read returns too few PCRs.");

                /* the missing PCRs of the first selection byte that has any */
                ask = missing & (0xFFU << (__builtin_ctz(missing) / 8 * 8));
                mask_to_selection(ask, hash_alg_to_tpm(alg), &sel);
                rc = Esys_PCR_Read(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, &counter, &out_sel, &values);
                if (rc != TSS2_RC_SUCCESS)
                        return RC_FAIL(rc, "Esys_PCR_Read");
                if (out_sel->count != 1 || out_sel->pcrSelections[0].hash != hash_alg_to_tpm(alg))
                        return log_debug_errno(SYNTHETIC_ERRNO(ENOENT), "The %s bank is not active.",
                                               hash_alg_to_string(alg));
                out_mask = selection_to_mask(out_sel->pcrSelections);
                if (out_mask == 0 || (out_mask & ~ask) || (size_t) __builtin_popcount(out_mask) != values->count)
                        return log_debug_errno(SYNTHETIC_ERRNO(EBADMSG), "TPM2_PCR_Read returned an unexpected selection.");
                for (unsigned i = 0; i < TPM2_PCRS; i++) {
                        if (!(out_mask & (1U << i)))
                                continue;
                        if (values->digests[k].size != dsize)
                                return log_debug_errno(SYNTHETIC_ERRNO(EBADMSG), "PCR %u read back with %u bytes.", i,
                                                       values->digests[k].size);
                        ret[i].alg = alg;
                        ret[i].size = dsize;
                        memcpy(ret[i].bytes, values->digests[k].buffer, dsize);
                        k++;
                }
                got |= out_mask;
        }
        return 0;
}

/* ---- Attestation keys, quote, credential activation ---- */

static int marshal_public(const TPM2B_PUBLIC *pub, uint8_t **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t off = 0;
        TSS2_RC rc;

        buf = malloc(sizeof(TPM2B_PUBLIC));
        if (!buf)
                return -ENOMEM;
        rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(TPM2B_PUBLIC), &off);
        if (rc != TSS2_RC_SUCCESS)
                return RC_FAIL(rc, "Tss2_MU_TPM2B_PUBLIC_Marshal");
        *ret = TAKE_PTR(buf);
        *ret_size = off;
        return 0;
}

int tpm2_create_ak(Tpm2Context *c, Tpm2Hierarchy h, bool ecc, Tpm2Key *ret) {
        _cleanup_free_ TPM2B_PUBLIC *out_public = NULL;
        _cleanup_free_ TPM2B_CREATION_DATA *creation_data = NULL;
        _cleanup_free_ TPM2B_DIGEST *creation_hash = NULL;
        _cleanup_free_ TPMT_TK_CREATION *ticket = NULL;
        TPM2B_SENSITIVE_CREATE sensitive = {};
        TPM2B_DATA outside = {};
        TPML_PCR_SELECTION creation_pcr = {};
        TPM2B_PUBLIC tmpl = {
                .publicArea = {
                        .type = TPM2_ALG_RSA,
                        .nameAlg = TPM2_ALG_SHA256,
                        .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                            TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                            TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT,
                        .parameters.rsaDetail = {
                                .symmetric.algorithm = TPM2_ALG_NULL,
                                .scheme = { .scheme = TPM2_ALG_RSASSA, .details.rsassa.hashAlg = TPM2_ALG_SHA256 },
                                .keyBits = 2048,
                                .exponent = 0,
                        },
                },
        };
        Tpm2Key k = {};
        ESYS_TR handle = ESYS_TR_NONE;
        TSS2_RC rc;
        int r;

        assert_return(c && ret, -EINVAL);

        if (ecc) {
                tmpl.publicArea.type = TPM2_ALG_ECC;
                tmpl.publicArea.parameters.eccDetail = (TPMS_ECC_PARMS) {
                        .symmetric.algorithm = TPM2_ALG_NULL,
                        .scheme = { .scheme = TPM2_ALG_ECDSA, .details.ecdsa.hashAlg = TPM2_ALG_SHA256 },
                        .curveID = TPM2_ECC_NIST_P256,
                        .kdf.scheme = TPM2_ALG_NULL,
                };
        }
        rc = Esys_CreatePrimary(c->esys, h == TPM2_HIERARCHY_ENDORSEMENT ? ESYS_TR_RH_ENDORSEMENT : ESYS_TR_RH_OWNER,
                                ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &tmpl, &outside, &creation_pcr,
                                &handle, &out_public, &creation_data, &creation_hash, &ticket);
        if (rc != TSS2_RC_SUCCESS)
                return RC_FAIL(rc, "Esys_CreatePrimary(AK)");

        r = marshal_public(out_public, &k.public, &k.public_size);
        if (r < 0) {
                (void) Esys_FlushContext(c->esys, handle);
                return r;
        }
        k.handle = handle;
        k.flush = true;
        *ret = k;
        return 0;
}

int tpm2_read_persistent_key(Tpm2Context *c, uint32_t handle, Tpm2Key *ret) {
        _cleanup_free_ TPM2B_PUBLIC *pub = NULL;
        _cleanup_free_ TPM2B_NAME *name = NULL, *qname = NULL;
        Tpm2Key k = {};
        ESYS_TR tr = ESYS_TR_NONE;
        TSS2_RC rc;
        int r;

        assert_return(c && ret, -EINVAL);

        r = tr_from_handle(c, handle, &tr);
        if (r < 0)
                return r;
        rc = Esys_ReadPublic(c->esys, tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, &name, &qname);
        if (rc != TSS2_RC_SUCCESS) {
                tr_close(c, &tr);
                return RC_FAIL(rc, "Esys_ReadPublic");
        }
        r = marshal_public(pub, &k.public, &k.public_size);
        if (r < 0) {
                tr_close(c, &tr);
                return r;
        }
        k.handle = tr;
        k.flush = false;
        *ret = k;
        return 0;
}

void tpm2_key_done(Tpm2Context *c, Tpm2Key *k) {
        if (!k)
                return;
        if (c && k->handle != 0) {
                ESYS_TR tr = k->handle;
                if (k->flush) {
                        TSS2_RC rc = Esys_FlushContext(c->esys, tr);
                        if (rc != TSS2_RC_SUCCESS)
                                log_debug("Esys_FlushContext failed, ignoring: %s", Tss2_RC_Decode(rc));
                } else
                        (void) Esys_TR_Close(c->esys, &tr);
        }
        free(k->public);
        *k = (Tpm2Key) {};
}

/* The signature of a quote in the form asked for, malloc'd. */
static int quote_signature(const TPMT_SIGNATURE *s, Tpm2SigForm form, uint8_t **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t off = 0;
        TSS2_RC rc;

        if (form == TPM2_SIG_RSASSA_SHA256) {
                const TPM2B_PUBLIC_KEY_RSA *sig = &s->signature.rsassa.sig;

                if (s->sigAlg != TPM2_ALG_RSASSA || s->signature.rsassa.hash != TPM2_ALG_SHA256)
                        return log_debug_errno(SYNTHETIC_ERRNO(EOPNOTSUPP),
                                               "Quote signed with algorithm 0x%04x/0x%04x, expected RSASSA with SHA-256.",
                                               s->sigAlg, s->signature.rsassa.hash);
                if (sig->size == 0 || sig->size > sizeof(sig->buffer))
                        return log_debug_errno(SYNTHETIC_ERRNO(EBADMSG), "Quote signature has %u bytes.", sig->size);
                buf = memdup_bytes(sig->buffer, sig->size);
                if (!buf)
                        return -ENOMEM;
                off = sig->size;
        } else {
                buf = malloc(sizeof(TPMT_SIGNATURE));
                if (!buf)
                        return -ENOMEM;
                rc = Tss2_MU_TPMT_SIGNATURE_Marshal(s, buf, sizeof(TPMT_SIGNATURE), &off);
                if (rc != TSS2_RC_SUCCESS)
                        return RC_FAIL(rc, "Tss2_MU_TPMT_SIGNATURE_Marshal");
        }
        *ret = TAKE_PTR(buf);
        *ret_size = off;
        return 0;
}

int tpm2_quote(Tpm2Context *c, const Tpm2Key *ak, uint32_t pcr_mask, const void *qualifying, size_t qualifying_size,
               Tpm2SigForm form, uint8_t **ret_attest, size_t *ret_attest_size, uint8_t **ret_sig, size_t *ret_sig_size) {
        _cleanup_free_ TPM2B_ATTEST *quoted = NULL;
        _cleanup_free_ TPMT_SIGNATURE *signature = NULL;
        _cleanup_free_ uint8_t *attest = NULL;
        TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
        TPM2B_DATA data = {};
        TPML_PCR_SELECTION sel;
        TSS2_RC rc;
        int r;

        assert_return(c && ak && ak->handle && ret_attest && ret_attest_size && ret_sig && ret_sig_size, -EINVAL);
        assert_return(qualifying || qualifying_size == 0, -EINVAL);
        assert_return(qualifying_size <= sizeof(data.buffer), -EINVAL);
        assert_return(pcr_mask != 0 && pcr_mask <= TPM2_PCRS_ALL, -EINVAL);

        data.size = (UINT16) qualifying_size;
        if (qualifying_size > 0)
                memcpy(data.buffer, qualifying, qualifying_size);
        mask_to_selection(pcr_mask, TPM2_ALG_SHA256, &sel);

        rc = Esys_Quote(c->esys, ak->handle, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &data, &scheme, &sel, &quoted,
                        &signature);
        if (rc != TSS2_RC_SUCCESS)
                return RC_FAIL(rc, "Esys_Quote");
        if (quoted->size == 0 || quoted->size > sizeof(quoted->attestationData))
                return log_debug_errno(SYNTHETIC_ERRNO(EBADMSG), "TPM2_Quote returned %u bytes.", quoted->size);

        attest = memdup_bytes(quoted->attestationData, quoted->size);
        if (!attest)
                return -ENOMEM;
        r = quote_signature(signature, form, ret_sig, ret_sig_size);
        if (r < 0)
                return r;
        *ret_attest_size = quoted->size;
        *ret_attest = TAKE_PTR(attest);
        return 0;
}

int tpm2_activate_credential(Tpm2Context *c, const Tpm2Key *ak, const Tpm2Key *ek, const uint8_t *id_object,
                             size_t id_object_size, const uint8_t *enc_secret, size_t enc_secret_size,
                             uint8_t **ret, size_t *ret_size) {
        _cleanup_free_ TPM2B_DIGEST *cert_info = NULL;
        _cleanup_free_ TPM2B_TIMEOUT *timeout = NULL;
        _cleanup_free_ TPMT_TK_AUTH *ticket = NULL;
        TPM2B_ID_OBJECT blob = {};
        TPM2B_ENCRYPTED_SECRET secret = {};
        TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_NULL };
        ESYS_TR session = ESYS_TR_NONE;
        size_t off = 0;
        uint8_t *out;
        TSS2_RC rc;
        int r = 0;

        assert_return(c && ak && ek && id_object && enc_secret && ret && ret_size, -EINVAL);

        rc = Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(id_object, id_object_size, &off, &blob);
        if (rc != TSS2_RC_SUCCESS || off != id_object_size)
                return log_debug_errno(SYNTHETIC_ERRNO(EBADMSG), "The credential blob is not a TPM2B_ID_OBJECT.");
        off = 0;
        rc = Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(enc_secret, enc_secret_size, &off, &secret);
        if (rc != TSS2_RC_SUCCESS || off != enc_secret_size)
                return log_debug_errno(SYNTHETIC_ERRNO(EBADMSG), "The encrypted secret is not a TPM2B_ENCRYPTED_SECRET.");

        /* The EK's policy: PolicySecret(TPM_RH_ENDORSEMENT) with the empty endorsement password. */
        rc = Esys_StartAuthSession(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   /* nonceCaller= */ NULL, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256, &session);
        if (rc != TSS2_RC_SUCCESS)
                return RC_FAIL(rc, "Esys_StartAuthSession");
        rc = Esys_PolicySecret(c->esys, ESYS_TR_RH_ENDORSEMENT, session, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                               /* nonceTPM= */ NULL, /* cpHashA= */ NULL, /* policyRef= */ NULL, /* expiration= */ 0,
                               &timeout, &ticket);
        if (rc != TSS2_RC_SUCCESS) {
                r = RC_FAIL(rc, "Esys_PolicySecret");
                goto fail;
        }
        rc = Esys_ActivateCredential(c->esys, ak->handle, ek->handle, ESYS_TR_PASSWORD, session, ESYS_TR_NONE, &blob,
                                     &secret, &cert_info);
        if (rc != TSS2_RC_SUCCESS) {
                r = RC_FAIL(rc, "Esys_ActivateCredential");
                goto fail;
        }
        /* A policy session is flushed by the TPM after use only when continueSession is clear; ESAPI
         * sets it by default, so flush it here. */
        (void) Esys_FlushContext(c->esys, session);

        out = malloc(cert_info->size ?: 1);
        if (!out) {
                explicit_bzero(cert_info->buffer, sizeof(cert_info->buffer));
                return -ENOMEM;
        }
        memcpy(out, cert_info->buffer, cert_info->size);
        *ret_size = cert_info->size;
        explicit_bzero(cert_info->buffer, sizeof(cert_info->buffer));
        *ret = out;
        return 0;

fail:
        (void) Esys_FlushContext(c->esys, session);
        return r;
}

/* ---- NV indices ---- */

static int nv_data_size(Tpm2Context *c, ESYS_TR tr, uint16_t *ret) {
        _cleanup_free_ TPM2B_NV_PUBLIC *pub = NULL;
        _cleanup_free_ TPM2B_NAME *name = NULL;
        TSS2_RC rc;

        rc = Esys_NV_ReadPublic(c->esys, tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, &name);
        if (rc != TSS2_RC_SUCCESS)
                return RC_FAIL(rc, "Esys_NV_ReadPublic");
        *ret = pub->nvPublic.dataSize;
        return 0;
}

static int nv_read_chunks(Tpm2Context *c, ESYS_TR tr, ESYS_TR auth, uint8_t *buf, uint16_t size) {
        for (uint16_t off = 0; off < size;) {
                _cleanup_free_ TPM2B_MAX_NV_BUFFER *data = NULL;
                uint16_t n = (uint16_t) MIN((unsigned) (size - off), TPM2_NV_CHUNK);
                TSS2_RC rc;

                rc = Esys_NV_Read(c->esys, auth, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, n, off, &data);
                if (rc != TSS2_RC_SUCCESS)
                        return RC_FAIL(rc, "Esys_NV_Read");
                if (data->size != n)
                        return log_debug_errno(SYNTHETIC_ERRNO(EBADMSG), "TPM2_NV_Read returned %u bytes, asked %u.",
                                               data->size, n);
                memcpy(buf + off, data->buffer, n);
                off += n;
        }
        return 0;
}

int tpm2_nv_read(Tpm2Context *c, uint32_t index, Tpm2NvAuth auth, size_t max_size, uint8_t **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *buf = NULL;
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
                r = log_debug_errno(SYNTHETIC_ERRNO(EFBIG), "NV index 0x%08x holds %u bytes, limit %zu.", index, size,
                                    max_size);
                goto finish;
        }
        buf = malloc(size);
        if (!buf) {
                r = -ENOMEM;
                goto finish;
        }
        r = nv_read_chunks(c, tr, auth == TPM2_NV_AUTH_OWNER ? ESYS_TR_RH_OWNER : tr, buf, size);
        if (r < 0)
                goto finish;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
finish:
        tr_close(c, &tr);
        return r;
}

/* Makes sure index exists with size bytes: undefines it when it has another size, defines it when absent.
 * *tr is the open index, or ESYS_TR_NONE when absent; on success it is the index to write. */
static int nv_define(Tpm2Context *c, uint32_t index, size_t size, ESYS_TR *tr) {
        TPM2B_AUTH auth = {};
        TPM2B_NV_PUBLIC pub = {
                .nvPublic = {
                        .nvIndex = index,
                        .nameAlg = TPM2_ALG_SHA256,
                        .attributes = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD,
                        .dataSize = (UINT16) size,
                },
        };
        uint16_t have = 0;
        TSS2_RC rc;
        int r;

        if (*tr != ESYS_TR_NONE) {
                r = nv_data_size(c, *tr, &have);
                if (r < 0)
                        return r;
                if (have == size)
                        return 0;
                log_debug("NV index 0x%08x has %u bytes, redefining it with %zu.", index, have, size);
                rc = Esys_NV_UndefineSpace(c->esys, ESYS_TR_RH_OWNER, *tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE);
                if (rc != TSS2_RC_SUCCESS)
                        return RC_FAIL(rc, "Esys_NV_UndefineSpace");
                *tr = ESYS_TR_NONE; /* undefining closed it */
        }
        rc = Esys_NV_DefineSpace(c->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &auth, &pub,
                                 tr);
        if (rc != TSS2_RC_SUCCESS) {
                *tr = ESYS_TR_NONE;
                return RC_FAIL(rc, "Esys_NV_DefineSpace");
        }
        return 0;
}

int tpm2_nv_write(Tpm2Context *c, uint32_t index, const void *data, size_t size) {
        TPM2B_MAX_NV_BUFFER buf = {};
        ESYS_TR tr = ESYS_TR_NONE;
        TSS2_RC rc;
        int r;

        assert_return(c && data, -EINVAL);
        assert_return(size > 0 && size <= sizeof(buf.buffer) && size <= TPM2_NV_CHUNK, -EINVAL);

        r = tr_from_handle(c, index, &tr);
        if (r < 0 && r != -ENOENT)
                return r;
        r = nv_define(c, index, size, &tr);
        if (r < 0)
                goto finish;

        buf.size = (UINT16) size;
        memcpy(buf.buffer, data, size);
        rc = Esys_NV_Write(c->esys, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &buf,
                           /* offset= */ 0);
        r = rc == TSS2_RC_SUCCESS ? 0 : RC_FAIL(rc, "Esys_NV_Write");
finish:
        tr_close(c, &tr);
        return r;
}
