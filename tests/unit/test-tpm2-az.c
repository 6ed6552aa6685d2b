/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* tpm2.c as the Azure evidence uses it, against a TSS whose answers the test chooses
 * (-Wl,--wrap=...): NV sizes read from the TPM are bounded, reads with owner authorization go in
 * chunks and short answers are refused, the user-data index is (re)defined only when needed, quotes
 * over sha256 PCRs 0-23 asked as the bare RSASSA-SHA256 signature refuse another scheme, PCR reads go
 * one selection byte at a time and must return every PCR asked. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include "tpm2.h"

static int dummy;

/* what the fake TPM holds */
static bool nv_exists;
static uint16_t nv_size;
static uint8_t nv_data[4096];
static int nv_read_short;       /* NV_Read returns this many bytes fewer */
static unsigned nv_reads, nv_defines, nv_undefines, nv_writes;
static uint16_t defined_size;
static TPMA_NV defined_attributes;
static TPM2_ALG_ID quote_sig_alg;
static unsigned pcr_read_count;

#define WRAP(ret, name, ...) ret __wrap_##name(__VA_ARGS__); ret __wrap_##name(__VA_ARGS__)

WRAP(TSS2_RC, Tss2_TctiLdr_Initialize, const char *conf, TSS2_TCTI_CONTEXT **ctx) {
        *ctx = (TSS2_TCTI_CONTEXT *) &dummy;
        return TSS2_RC_SUCCESS;
}
WRAP(void, Tss2_TctiLdr_Finalize, TSS2_TCTI_CONTEXT **ctx) {
        *ctx = NULL;
}
WRAP(TSS2_RC, Esys_Initialize, ESYS_CONTEXT **esys, TSS2_TCTI_CONTEXT *tcti, TSS2_ABI_VERSION *abi) {
        *esys = (ESYS_CONTEXT *) &dummy;
        return TSS2_RC_SUCCESS;
}
WRAP(void, Esys_Finalize, ESYS_CONTEXT **esys) {
        *esys = NULL;
}
WRAP(TSS2_RC, Esys_TR_FromTPMPublic, ESYS_CONTEXT *e, TPM2_HANDLE h, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3, ESYS_TR *tr) {
        if ((h >> 24) == 0x01 && !nv_exists)
                return 0x18b; /* TPM_RC_HANDLE, handle 1 */
        *tr = 0x4000;
        return TSS2_RC_SUCCESS;
}
WRAP(TSS2_RC, Esys_TR_Close, ESYS_CONTEXT *e, ESYS_TR *tr) {
        *tr = ESYS_TR_NONE;
        return TSS2_RC_SUCCESS;
}
WRAP(TSS2_RC, Esys_NV_ReadPublic, ESYS_CONTEXT *e, ESYS_TR nv, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
     TPM2B_NV_PUBLIC **pub, TPM2B_NAME **name) {
        *pub = calloc(1, sizeof(**pub));
        (*pub)->nvPublic.dataSize = nv_size;
        return TSS2_RC_SUCCESS;
}
WRAP(TSS2_RC, Esys_NV_Read, ESYS_CONTEXT *e, ESYS_TR auth, ESYS_TR nv, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3, UINT16 size,
     UINT16 offset, TPM2B_MAX_NV_BUFFER **data) {
        assert_int_equal(auth, ESYS_TR_RH_OWNER);
        assert_true(size <= 512);
        assert_true(offset + size <= nv_size);
        nv_reads++;
        *data = calloc(1, sizeof(**data));
        (*data)->size = (UINT16) (size - nv_read_short);
        memcpy((*data)->buffer, nv_data + offset, (*data)->size);
        return TSS2_RC_SUCCESS;
}
WRAP(TSS2_RC, Esys_NV_UndefineSpace, ESYS_CONTEXT *e, ESYS_TR auth, ESYS_TR nv, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3) {
        nv_undefines++;
        nv_exists = false;
        return TSS2_RC_SUCCESS;
}
WRAP(TSS2_RC, Esys_NV_DefineSpace, ESYS_CONTEXT *e, ESYS_TR auth, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
     const TPM2B_AUTH *a, const TPM2B_NV_PUBLIC *pub, ESYS_TR *tr) {
        assert_int_equal(auth, ESYS_TR_RH_OWNER);
        assert_int_equal(pub->nvPublic.nameAlg, TPM2_ALG_SHA256);
        nv_defines++;
        defined_size = pub->nvPublic.dataSize;
        defined_attributes = pub->nvPublic.attributes;
        nv_exists = true;
        nv_size = defined_size;
        *tr = 0x4001;
        return TSS2_RC_SUCCESS;
}
WRAP(TSS2_RC, Esys_NV_Write, ESYS_CONTEXT *e, ESYS_TR auth, ESYS_TR nv, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3,
     const TPM2B_MAX_NV_BUFFER *data, UINT16 offset) {
        assert_int_equal(offset, 0);
        assert_true(data->size <= nv_size);
        memcpy(nv_data, data->buffer, data->size);
        nv_writes++;
        return TSS2_RC_SUCCESS;
}
WRAP(TSS2_RC, Esys_Quote, ESYS_CONTEXT *e, ESYS_TR key, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3, const TPM2B_DATA *qd,
     const TPMT_SIG_SCHEME *scheme, const TPML_PCR_SELECTION *sel, TPM2B_ATTEST **quoted, TPMT_SIGNATURE **sig) {
        assert_int_equal(scheme->scheme, TPM2_ALG_NULL);
        assert_int_equal(sel->count, 1);
        assert_int_equal(sel->pcrSelections[0].hash, TPM2_ALG_SHA256);
        assert_memory_equal(sel->pcrSelections[0].pcrSelect, "\xff\xff\xff", 3);
        *quoted = calloc(1, sizeof(**quoted));
        (*quoted)->size = 10 + qd->size;
        memcpy((*quoted)->attestationData, "\xff\x54\x43\x47\x80\x18", 6);
        memcpy((*quoted)->attestationData + 10, qd->buffer, qd->size);
        *sig = calloc(1, sizeof(**sig));
        (*sig)->sigAlg = quote_sig_alg;
        (*sig)->signature.rsassa.hash = TPM2_ALG_SHA256;
        (*sig)->signature.rsassa.sig.size = 256;
        memset((*sig)->signature.rsassa.sig.buffer, 0xab, 256);
        return TSS2_RC_SUCCESS;
}
WRAP(TSS2_RC, Esys_PCR_Read, ESYS_CONTEXT *e, ESYS_TR s1, ESYS_TR s2, ESYS_TR s3, const TPML_PCR_SELECTION *in,
     UINT32 *counter, TPML_PCR_SELECTION **out, TPML_DIGEST **values) {
        unsigned b = 0;

        while (b < 3 && in->pcrSelections[0].pcrSelect[b] == 0)
                b++;
        assert_true(b < 3);
        /* one group of 8 PCRs (one selection byte) per call */
        for (unsigned j = b + 1; j < 3; j++)
                assert_int_equal(in->pcrSelections[0].pcrSelect[j], 0);
        *out = calloc(1, sizeof(**out));
        **out = *in;
        *values = calloc(1, sizeof(**values));
        (*values)->count = pcr_read_count;
        for (unsigned i = 0; i < pcr_read_count; i++) {
                (*values)->digests[i].size = 32;
                memset((*values)->digests[i].buffer, (int) (b * 8 + i), 32);
        }
        return TSS2_RC_SUCCESS;
}

static Tpm2Context *open_ctx(void) {
        Tpm2Context *c = NULL;
        assert_int_equal(tpm2_context_new("swtpm", &c), 0);
        nv_exists = true;
        nv_read_short = 0;
        nv_reads = nv_defines = nv_undefines = nv_writes = 0;
        quote_sig_alg = TPM2_ALG_RSASSA;
        pcr_read_count = 8;
        return c;
}

static void test_nv_read(void **state) {
        Tpm2Context *c = open_ctx();
        uint8_t *buf = NULL;
        size_t n;

        for (size_t i = 0; i < sizeof(nv_data); i++)
                nv_data[i] = (uint8_t) (i * 7);
        nv_size = 1300;
        assert_int_equal(tpm2_nv_read(c, 0x01400001, TPM2_NV_AUTH_OWNER, 64 * 1024, &buf, &n), 0);
        assert_int_equal(n, 1300);
        assert_memory_equal(buf, nv_data, 1300);
        assert_int_equal(nv_reads, 3); /* 512 + 512 + 276 */
        free(buf);

        /* the size the TPM states is bounded by the caller's maximum, and must not be 0 */
        nv_size = 2048;
        assert_int_equal(tpm2_nv_read(c, 0x01400001, TPM2_NV_AUTH_OWNER, 2047, &buf, &n), -EFBIG);
        nv_size = 0;
        assert_int_equal(tpm2_nv_read(c, 0x01400001, TPM2_NV_AUTH_OWNER, 2047, &buf, &n), -EFBIG);
        /* a short answer */
        nv_size = 600;
        nv_read_short = 1;
        assert_int_equal(tpm2_nv_read(c, 0x01400001, TPM2_NV_AUTH_OWNER, 4096, &buf, &n), -EBADMSG);
        /* no such index */
        nv_exists = false;
        assert_int_equal(tpm2_nv_read(c, 0x01400001, TPM2_NV_AUTH_OWNER, 4096, &buf, &n), -ENOENT);
        tpm2_context_free(c);
}

static void test_nv_write(void **state) {
        Tpm2Context *c = open_ctx();
        uint8_t ud[64];

        memset(ud, 0x42, sizeof(ud));
        /* absent: defined with 64 bytes, owner read/write, then written */
        nv_exists = false;
        assert_int_equal(tpm2_nv_write(c, 0x01400002, ud, sizeof(ud)), 0);
        assert_int_equal(nv_defines, 1);
        assert_int_equal(nv_undefines, 0);
        assert_int_equal(defined_size, 64);
        assert_int_equal(defined_attributes, TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD);
        assert_int_equal(nv_writes, 1);
        assert_memory_equal(nv_data, ud, 64);
        /* present with the right size: written only */
        assert_int_equal(tpm2_nv_write(c, 0x01400002, ud, sizeof(ud)), 0);
        assert_int_equal(nv_defines, 1);
        assert_int_equal(nv_writes, 2);
        /* present with another size: redefined */
        nv_size = 32;
        assert_int_equal(tpm2_nv_write(c, 0x01400002, ud, sizeof(ud)), 0);
        assert_int_equal(nv_undefines, 1);
        assert_int_equal(nv_defines, 2);
        assert_int_equal(nv_writes, 3);
        /* nothing over the chunk */
        uint8_t big[1025] = {};
        assert_int_equal(tpm2_nv_write(c, 0x01400002, big, sizeof(big)), -EINVAL);
        tpm2_context_free(c);
}

static void test_quote(void **state) {
        Tpm2Context *c = open_ctx();
        Tpm2Key ak = { .handle = 0x4000 }; /* the persistent AK at 0x81000003, as tpm2_read_persistent_key() opens it */
        uint8_t rd[48], big[65] = {}, *msg = NULL, *sig = NULL;
        size_t msg_size, sig_size;

        memset(rd, 0x11, sizeof(rd));
        assert_int_equal(tpm2_quote(c, &ak, TPM2_PCRS_ALL, rd, sizeof(rd), TPM2_SIG_RSASSA_SHA256, &msg, &msg_size, &sig,
                                    &sig_size),
                         0);
        assert_int_equal(msg_size, 58);
        assert_memory_equal(msg + 10, rd, 48);
        assert_int_equal(sig_size, 256);
        assert_int_equal(sig[0], 0xab);
        free(msg);
        free(sig);
        msg = sig = NULL;

        quote_sig_alg = TPM2_ALG_ECDSA;
        assert_int_equal(tpm2_quote(c, &ak, TPM2_PCRS_ALL, rd, sizeof(rd), TPM2_SIG_RSASSA_SHA256, &msg, &msg_size, &sig,
                                    &sig_size),
                         -EOPNOTSUPP);
        assert_null(msg);
        assert_int_equal(tpm2_quote(c, &ak, TPM2_PCRS_ALL, big, sizeof(big), TPM2_SIG_RSASSA_SHA256, &msg, &msg_size, &sig,
                                    &sig_size),
                         -EINVAL);
        tpm2_key_done(c, &ak);
        tpm2_context_free(c);
}

static void test_pcr_read(void **state) {
        Tpm2Context *c = open_ctx();
        Digest pcrs[TPM2_PCRS];

        assert_int_equal(tpm2_pcr_read(c, HASH_SHA256, TPM2_PCRS_ALL, pcrs), 0);
        for (unsigned i = 0; i < TPM2_PCRS; i++)
                assert_int_equal(pcrs[i].bytes[31], i);
        /* a TPM that leaves PCRs out: its answer names 8 PCRs but carries 7 digests */
        pcr_read_count = 7;
        assert_int_equal(tpm2_pcr_read(c, HASH_SHA256, TPM2_PCRS_ALL, pcrs), -EBADMSG);
        tpm2_context_free(c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_nv_read),
                cmocka_unit_test(test_nv_write),
                cmocka_unit_test(test_quote),
                cmocka_unit_test(test_pcr_read),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
