/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* tpm2.c against a TSS whose answers the test chooses (-Wl,--wrap=...): return-code translation,
 * short and hostile GetRandom answers, bank detection; for attestation, PCR reads of a whole bank and NV
 * reads against a TPM that answers too little, too much or something else than asked. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include "log.h"
#include "tpm2.h"

static int dummy;

TSS2_RC __wrap_Tss2_TctiLdr_Initialize(const char *conf, TSS2_TCTI_CONTEXT **ctx);
TSS2_RC __wrap_Tss2_TctiLdr_Initialize(const char *conf, TSS2_TCTI_CONTEXT **ctx) {
        check_expected_ptr(conf);
        *ctx = (TSS2_TCTI_CONTEXT *) &dummy;
        return mock_type(TSS2_RC);
}

void __wrap_Tss2_TctiLdr_Finalize(TSS2_TCTI_CONTEXT **ctx);
void __wrap_Tss2_TctiLdr_Finalize(TSS2_TCTI_CONTEXT **ctx) {
        *ctx = NULL;
}

TSS2_RC __wrap_Esys_Initialize(ESYS_CONTEXT **esys, TSS2_TCTI_CONTEXT *tcti, TSS2_ABI_VERSION *abi);
TSS2_RC __wrap_Esys_Initialize(ESYS_CONTEXT **esys, TSS2_TCTI_CONTEXT *tcti, TSS2_ABI_VERSION *abi) {
        *esys = (ESYS_CONTEXT *) &dummy;
        return TSS2_RC_SUCCESS;
}

void __wrap_Esys_Finalize(ESYS_CONTEXT **esys);
void __wrap_Esys_Finalize(ESYS_CONTEXT **esys) {
        *esys = NULL;
}

TSS2_RC __wrap_Esys_PCR_Extend(ESYS_CONTEXT *e, ESYS_TR pcr, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
                               const TPML_DIGEST_VALUES *values);
TSS2_RC __wrap_Esys_PCR_Extend(ESYS_CONTEXT *e, ESYS_TR pcr, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
                               const TPML_DIGEST_VALUES *values) {
        check_expected(pcr);
        check_expected(values->count);
        return mock_type(TSS2_RC);
}

TSS2_RC __wrap_Esys_GetRandom(ESYS_CONTEXT *e, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3, UINT16 bytes, TPM2B_DIGEST **out);
TSS2_RC __wrap_Esys_GetRandom(ESYS_CONTEXT *e, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3, UINT16 bytes, TPM2B_DIGEST **out) {
        int give = mock_type(int); /* bytes to return; -1: as many as asked */
        TPM2B_DIGEST *d = calloc(1, sizeof(*d));

        d->size = (UINT16) (give < 0 ? bytes : give);
        memset(d->buffer, 0x5a, d->size);
        *out = d;
        return TSS2_RC_SUCCESS;
}

TSS2_RC __wrap_Esys_GetCapability(ESYS_CONTEXT *e, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3, TPM2_CAP cap, UINT32 prop,
                                  UINT32 count, TPMI_YES_NO *more, TPMS_CAPABILITY_DATA **data);
TSS2_RC __wrap_Esys_GetCapability(ESYS_CONTEXT *e, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3, TPM2_CAP cap, UINT32 prop,
                                  UINT32 count, TPMI_YES_NO *more, TPMS_CAPABILITY_DATA **data) {
        TPMS_CAPABILITY_DATA *d = calloc(1, sizeof(*d));

        d->capability = TPM2_CAP_PCRS;
        d->data.assignedPCR.count = 3;
        d->data.assignedPCR.pcrSelections[0] = (TPMS_PCR_SELECTION) { .hash = TPM2_ALG_SHA1, .sizeofSelect = 3 };
        d->data.assignedPCR.pcrSelections[1] = (TPMS_PCR_SELECTION) {
                .hash = TPM2_ALG_SHA256, .sizeofSelect = 3, .pcrSelect = { 0xff, 0xff, 0xff } };
        d->data.assignedPCR.pcrSelections[2] = (TPMS_PCR_SELECTION) {
                .hash = mock_type(TPM2_ALG_ID), .sizeofSelect = 3, .pcrSelect = { 0, 0x08, 0 } };
        *more = TPM2_NO;
        *data = d;
        return TSS2_RC_SUCCESS;
}

static Tpm2Context *open_ctx(void) {
        Tpm2Context *c = NULL;

        expect_string(__wrap_Tss2_TctiLdr_Initialize, conf, "device:/dev/tpmrm0");
        will_return(__wrap_Tss2_TctiLdr_Initialize, TSS2_RC_SUCCESS);
        assert_int_equal(tpm2_context_new("device:/dev/tpmrm0", &c), 0);
        return c;
}

static void test_open_failure(void **state) {
        Tpm2Context *c = NULL;

        expect_string(__wrap_Tss2_TctiLdr_Initialize, conf, "swtpm:port=1");
        will_return(__wrap_Tss2_TctiLdr_Initialize, TSS2_TCTI_RC_IO_ERROR);
        assert_int_equal(tpm2_context_new("swtpm:port=1", &c), -ECONNREFUSED);
        assert_null(c);

        expect_string(__wrap_Tss2_TctiLdr_Initialize, conf, "nosuch");
        will_return(__wrap_Tss2_TctiLdr_Initialize, TSS2_TCTI_RC_NOT_IMPLEMENTED);
        assert_int_equal(tpm2_context_new("nosuch", &c), -EOPNOTSUPP);
        (void) state;
}

static void test_extend_rc(void **state) {
        Tpm2Context *c = open_ctx();
        Digest d[2] = { { .alg = HASH_SHA1, .size = 20 }, { .alg = HASH_SHA256, .size = 32 } };

        expect_value(__wrap_Esys_PCR_Extend, pcr, ESYS_TR_PCR0 + 11);
        expect_value(__wrap_Esys_PCR_Extend, values->count, 2);
        will_return(__wrap_Esys_PCR_Extend, TSS2_RC_SUCCESS);
        assert_int_equal(tpm2_pcr_extend(c, 11, d, 2), 0);

        expect_value(__wrap_Esys_PCR_Extend, pcr, ESYS_TR_PCR0 + 12);
        expect_value(__wrap_Esys_PCR_Extend, values->count, 1);
        will_return(__wrap_Esys_PCR_Extend, TPM2_RC_RETRY);
        assert_int_equal(tpm2_pcr_extend(c, 12, d, 1), -EAGAIN);

        /* TPM_RC_HASH on parameter 1 (format-one code with the parameter bits set). */
        expect_value(__wrap_Esys_PCR_Extend, pcr, ESYS_TR_PCR0 + 12);
        expect_value(__wrap_Esys_PCR_Extend, values->count, 1);
        will_return(__wrap_Esys_PCR_Extend, TPM2_RC_HASH | TPM2_RC_P | TPM2_RC_1);
        assert_int_equal(tpm2_pcr_extend(c, 12, d, 1), -EINVAL);

        /* Wrong digest size, PCR out of range: refused before the TPM sees them. */
        d[0].size = 19;
        assert_int_equal(tpm2_pcr_extend(c, 12, d, 1), -EINVAL);
        assert_int_equal(tpm2_pcr_extend(c, 24, d + 1, 1), -EINVAL);
        tpm2_context_free(c);
        (void) state;
}

static void test_get_random(void **state) {
        Tpm2Context *c = open_ctx();
        uint8_t buf[100];

        /* Short answers are looped over until enough bytes arrived. */
        will_return(__wrap_Esys_GetRandom, 32);
        will_return(__wrap_Esys_GetRandom, 32);
        will_return(__wrap_Esys_GetRandom, 0);
        will_return(__wrap_Esys_GetRandom, -1);
        memset(buf, 0, sizeof(buf));
        assert_int_equal(tpm2_get_random(c, buf, sizeof(buf)), 0);
        for (size_t i = 0; i < sizeof(buf); i++)
                assert_int_equal(buf[i], 0x5a);

        /* A TPM that never returns anything cannot keep us looping. */
        will_return_count(__wrap_Esys_GetRandom, 0, 64 + 8);
        assert_int_equal(tpm2_get_random(c, buf, 8), -EIO);
        tpm2_context_free(c);
        (void) state;
}

static void test_banks(void **state) {
        Tpm2Context *c = open_ctx();
        unsigned banks;
        uint16_t unsupported;

        /* sha1 allocated but empty (inactive), sha256 active, sha384 active. */
        will_return(__wrap_Esys_GetCapability, TPM2_ALG_SHA384);
        assert_int_equal(tpm2_get_banks(c, &banks, &unsupported), 0);
        assert_int_equal(banks, HASH_BIT(HASH_SHA256) | HASH_BIT(HASH_SHA384));
        assert_int_equal(unsupported, 0);

        /* Asked once per context: the second answer comes from the cache (no GetCapability is queued). */
        banks = 0;
        assert_int_equal(tpm2_get_banks(c, &banks, /* ret_unsupported= */ NULL), 0);
        assert_int_equal(banks, HASH_BIT(HASH_SHA256) | HASH_BIT(HASH_SHA384));
        tpm2_context_free(c);

        /* An active bank we cannot compute is reported, so the caller can refuse. */
        c = open_ctx();
        will_return(__wrap_Esys_GetCapability, TPM2_ALG_SM3_256);
        assert_int_equal(tpm2_get_banks(c, &banks, &unsupported), 0);
        assert_int_equal(banks, HASH_BIT(HASH_SHA256));
        assert_int_equal(unsupported, TPM2_ALG_SM3_256);
        tpm2_context_free(c);
        (void) state;
}

/* ---- attestation: PCR_Read of a whole bank, NV reads ---- */

static enum { PCR_GOOD, PCR_ONE_PER_CALL, PCR_NONE, PCR_EXTRA, PCR_SHORT_DIGEST, PCR_OTHER_BANK } pcr_mode;
static unsigned pcr_calls;

TSS2_RC __wrap_Esys_PCR_Read(ESYS_CONTEXT *e, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3, const TPML_PCR_SELECTION *in,
                             UINT32 *counter, TPML_PCR_SELECTION **out_sel, TPML_DIGEST **out);
TSS2_RC __wrap_Esys_PCR_Read(ESYS_CONTEXT *e, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3, const TPML_PCR_SELECTION *in,
                             UINT32 *counter, TPML_PCR_SELECTION **out_sel, TPML_DIGEST **out) {
        TPML_PCR_SELECTION *sel = calloc(1, sizeof(*sel));
        TPML_DIGEST *d = calloc(1, sizeof(*d));
        unsigned max = pcr_mode == PCR_ONE_PER_CALL ? 1 : 8;

        pcr_calls++;
        sel->count = 1;
        sel->pcrSelections[0] = (TPMS_PCR_SELECTION) { .hash = in->pcrSelections[0].hash, .sizeofSelect = 3 };
        if (pcr_mode == PCR_OTHER_BANK)
                sel->pcrSelections[0].hash = TPM2_ALG_SHA1;
        /* the first (up to) 8 PCRs asked, as a real TPM does, each digest = its number */
        for (unsigned i = 0; i < 24 && d->count < max && pcr_mode != PCR_NONE; i++) {
                if (!(in->pcrSelections[0].pcrSelect[i / 8] & (1U << (i % 8))))
                        continue;
                sel->pcrSelections[0].pcrSelect[i / 8] |= (uint8_t) (1U << (i % 8));
                d->digests[d->count].size = pcr_mode == PCR_SHORT_DIGEST ? 20 : 32;
                memset(d->digests[d->count].buffer, (int) i, 32);
                d->count++;
        }
        if (pcr_mode == PCR_EXTRA && pcr_calls == 2) /* a PCR that was already read */
                sel->pcrSelections[0].pcrSelect[0] |= 1;
        *counter = 1;
        *out_sel = sel;
        *out = d;
        return TSS2_RC_SUCCESS;
}

static void test_pcr_read(void **state) {
        Tpm2Context *c = open_ctx();
        Digest v[24];

        pcr_mode = PCR_GOOD;
        pcr_calls = 0;
        assert_int_equal(tpm2_pcr_read(c, HASH_SHA256, TPM2_PCRS_ALL, v), 0);
        assert_int_equal(pcr_calls, 3);
        for (unsigned i = 0; i < 24; i++) {
                assert_int_equal(v[i].size, 32);
                assert_int_equal(v[i].bytes[0], i);
                assert_int_equal(v[i].bytes[31], i);
        }
        /* a TPM returning one PCR per call: bounded, refused */
        pcr_mode = PCR_ONE_PER_CALL;
        pcr_calls = 0;
        assert_int_equal(tpm2_pcr_read(c, HASH_SHA256, TPM2_PCRS_ALL, v), -EIO);
        assert_true(pcr_calls <= 8);
        pcr_mode = PCR_NONE;
        assert_int_equal(tpm2_pcr_read(c, HASH_SHA256, TPM2_PCRS_ALL, v), -EBADMSG);
        pcr_mode = PCR_EXTRA;
        pcr_calls = 0;
        assert_int_equal(tpm2_pcr_read(c, HASH_SHA256, TPM2_PCRS_ALL, v), -EBADMSG);
        pcr_mode = PCR_SHORT_DIGEST;
        assert_int_equal(tpm2_pcr_read(c, HASH_SHA256, TPM2_PCRS_ALL, v), -EBADMSG);
        pcr_mode = PCR_OTHER_BANK;
        assert_int_equal(tpm2_pcr_read(c, HASH_SHA256, TPM2_PCRS_ALL, v), -ENOENT);
        assert_int_equal(tpm2_pcr_read(c, HASH_SHA256, TPM2_PCRS_ALL, NULL), -EINVAL); /* a live check */
        tpm2_context_free(c);
        (void) state;
}

static uint16_t nv_size;
static bool nv_short;
static unsigned nv_reads;

TSS2_RC __wrap_Esys_TR_FromTPMPublic(ESYS_CONTEXT *e, TPM2_HANDLE h, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3, ESYS_TR *out);
TSS2_RC __wrap_Esys_TR_FromTPMPublic(ESYS_CONTEXT *e, TPM2_HANDLE h, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3, ESYS_TR *out) {
        *out = 0x4000;
        return TSS2_RC_SUCCESS;
}
TSS2_RC __wrap_Esys_TR_Close(ESYS_CONTEXT *e, ESYS_TR *tr);
TSS2_RC __wrap_Esys_TR_Close(ESYS_CONTEXT *e, ESYS_TR *tr) {
        *tr = ESYS_TR_NONE;
        return TSS2_RC_SUCCESS;
}
TSS2_RC __wrap_Esys_NV_ReadPublic(ESYS_CONTEXT *e, ESYS_TR nv, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
                                  TPM2B_NV_PUBLIC **pub, TPM2B_NAME **name);
TSS2_RC __wrap_Esys_NV_ReadPublic(ESYS_CONTEXT *e, ESYS_TR nv, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
                                  TPM2B_NV_PUBLIC **pub, TPM2B_NAME **name) {
        *pub = calloc(1, sizeof(**pub));
        (*pub)->nvPublic.dataSize = nv_size;
        *name = calloc(1, sizeof(**name));
        return TSS2_RC_SUCCESS;
}
TSS2_RC __wrap_Esys_NV_Read(ESYS_CONTEXT *e, ESYS_TR auth, ESYS_TR nv, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3, UINT16 size,
                            UINT16 offset, TPM2B_MAX_NV_BUFFER **data);
TSS2_RC __wrap_Esys_NV_Read(ESYS_CONTEXT *e, ESYS_TR auth, ESYS_TR nv, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3, UINT16 size,
                            UINT16 offset, TPM2B_MAX_NV_BUFFER **data) {
        assert_int_equal(auth, nv); /* TPM2_NV_AUTH_INDEX: the index authorizes its own read */
        *data = calloc(1, sizeof(**data));
        nv_reads++;
        (*data)->size = nv_short ? size - 1 : size;
        for (unsigned i = 0; i < size; i++)
                (*data)->buffer[i] = (uint8_t) (offset + i);
        return TSS2_RC_SUCCESS;
}

static void test_nv_read(void **state) {
        Tpm2Context *c = open_ctx();
        uint8_t *p = NULL;
        size_t n = 0;

        nv_size = 1184;
        nv_short = false;
        nv_reads = 0;
        assert_int_equal(tpm2_nv_read(c, 0x01C00002, TPM2_NV_AUTH_INDEX, 4096, &p, &n), 0);
        assert_int_equal(n, 1184);
        assert_int_equal(nv_reads, 3);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(p[i], (uint8_t) i);
        free(p);
        p = NULL;
        /* over the caller's limit, empty, or a TPM that returns less than asked */
        assert_int_equal(tpm2_nv_read(c, 0x01C00002, TPM2_NV_AUTH_INDEX, 1000, &p, &n), -EFBIG);
        nv_size = 0;
        assert_int_equal(tpm2_nv_read(c, 0x01C00002, TPM2_NV_AUTH_INDEX, 4096, &p, &n), -EFBIG);
        nv_size = 100;
        nv_short = true;
        assert_int_equal(tpm2_nv_read(c, 0x01C00002, TPM2_NV_AUTH_INDEX, 4096, &p, &n), -EBADMSG);
        assert_null(p);
        tpm2_context_free(c);
        (void) state;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_open_failure),
                cmocka_unit_test(test_extend_rc),
                cmocka_unit_test(test_get_random),
                cmocka_unit_test(test_banks),
                cmocka_unit_test(test_pcr_read),
                cmocka_unit_test(test_nv_read),
        };

        log_set_target(LOG_TARGET_STDERR);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
