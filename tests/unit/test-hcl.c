/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The HCL report parser on every genuine Azure HCL report in ../shared/fixtures/attestation: the
 * binding SHA-256(runtime data) == the hardware report's report data holds for each, the runtime
 * data gives its keys and user data; truncated, oversized and inconsistent variants are refused, each
 * with its own error. */

#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "b64.h"
#include "hash.h"
#include "hcl-report.h"
#include "util.h"

#include "../lib/fixtures.h"

static uint8_t *fixture(const char *rel, size_t *ret_size) {
        _cleanup_free_ char *p = NULL, *buf = NULL;
        size_t n;

        assert_true(asprintf(&p, "%s/%s", FIXTURES_DIR, rel) >= 0);
        assert_int_equal(read_full_file_bounded(p, 1 << 20, &buf, &n), 0);
        *ret_size = n;
        return (uint8_t *) TAKE_PTR(buf);
}

static void put_le32(uint8_t *p, uint32_t v) {
        p[0] = v & 0xff, p[1] = (v >> 8) & 0xff, p[2] = (v >> 16) & 0xff, p[3] = v >> 24;
}

static const struct {
        const char *file;
        uint32_t type;
        uint32_t version;
        bool has_user_data;
} genuine[] = {
        { "azure-cvm-tooling/hcl-report-snp.bin", HCL_REPORT_SNP, 1, false },
        { "azure-cvm-tooling/hcl-report-tdx.bin", HCL_REPORT_TDX, 2, true },
        { "trustee/az-snp-vtpm/hcl-report.bin", HCL_REPORT_SNP, 1, true },
        { "trustee/az-tdx-vtpm/hcl-report.bin", HCL_REPORT_TDX, 2, true },
};

static void test_genuine(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(genuine); i++) {
                _cleanup_free_ uint8_t *p = NULL;
                HclRuntimeData rd;
                HclReport h;
                Digest d;
                size_t n;

                p = fixture(genuine[i].file, &n);
                assert_int_equal(hcl_report_parse(p, n, &h), 0);
                assert_int_equal(h.report_type, genuine[i].type);
                assert_int_equal(h.version, genuine[i].version);
                assert_int_equal(h.hash_type, 1);
                assert_int_equal(h.report_size, HCL_VAR_DATA_OFFSET + h.var_data_size);
                assert_int_equal(h.hw_report_size, genuine[i].type == HCL_REPORT_SNP ? 1184 : 1024);
                /* the binding, computed here independently of hcl_report_check_binding() */
                assert_int_equal(hash_buffer(HASH_SHA256, h.var_data, h.var_data_size, &d), 0);
                assert_memory_equal(d.bytes, h.report_data, 32);
                assert_memory_equal(d.bytes, h.hw_report + (genuine[i].type == HCL_REPORT_SNP ? 0x50 : 128), 32);
                assert_int_equal(hcl_report_check_binding(&h), 0);

                assert_int_equal(hcl_runtime_data_parse(h.var_data, h.var_data_size, &rd), 0);
                assert_int_equal(rd.ak.n_size, 256);
                assert_int_equal(rd.ak.e_size, 3);
                assert_memory_equal(rd.ak.e, "\x01\x00\x01", 3);
                assert_true(rd.has_vm_configuration);
                assert_true(rd.tpm_enabled);
                assert_true(strlen(rd.vm_unique_id) > 0);
                assert_int_equal(rd.has_user_data, genuine[i].has_user_data);
                if (rd.has_user_data)
                        assert_int_equal(rd.user_data_size, 64);
                if (rd.has_ek)
                        assert_int_equal(rd.ek.n_size, 256);
                hcl_runtime_data_done(&rd);

                /* one byte of runtime data changed: still parses, the binding fails */
                p[HCL_VAR_DATA_OFFSET + 2] ^= 0x20;
                assert_int_equal(hcl_report_parse(p, n, &h), 0);
                assert_int_equal(hcl_report_check_binding(&h), -EBADMSG);
        }
}

static void test_v2_user_data(void **state) {
        /* the evidence-v2 report carries the report data of the fixture's nonce as user-data */
        static const uint8_t expected[] = { 0x98, 0x2f, 0x5c, 0x6e, 0x45, 0xdf, 0x0e, 0xd3 };
        _cleanup_free_ uint8_t *hcl = NULL;
        _cleanup_free_ char *t = NULL;
        const char *s, *e;
        HclRuntimeData rd;
        HclReport h;
        size_t n, hs;

        t = (char *) fixture("trustee/az-snp-vtpm/evidence-v2.json", &n);
        s = strstr(t, "\"hcl_report\": \"");
        assert_non_null(s);
        s += strlen("\"hcl_report\": \"");
        e = strchr(s, '"');
        assert_non_null(e);
        assert_int_equal(b64_decode(s, (size_t) (e - s), B64_URL | B64_PAD, &hcl, &hs), 0);
        assert_int_equal(hcl_report_parse(hcl, hs, &h), 0);
        assert_int_equal(hcl_report_check_binding(&h), 0);
        assert_int_equal(hcl_runtime_data_parse(h.var_data, h.var_data_size, &rd), 0);
        assert_true(rd.has_user_data);
        assert_memory_equal(rd.user_data, expected, sizeof(expected));
        hcl_runtime_data_done(&rd);
}

static void test_truncated(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(genuine); i++) {
                _cleanup_free_ uint8_t *p = NULL;
                HclReport h;
                size_t n;

                p = fixture(genuine[i].file, &n);
                assert_int_equal(hcl_report_parse(p, n, &h), 0);
                /* inside the fixed part, and inside the variable data */
                assert_int_equal(hcl_report_parse(p, 0, &h), -ENODATA);
                assert_int_equal(hcl_report_parse(p, HCL_VAR_DATA_OFFSET - 1, &h), -ENODATA);
                assert_int_equal(hcl_report_parse(p, HCL_VAR_DATA_OFFSET + h.var_data_size - 1, &h), -ENODATA);
                /* exactly the declared size (no NV padding) is fine */
                assert_int_equal(hcl_report_parse(p, HCL_VAR_DATA_OFFSET + h.var_data_size, &h), 0);
        }
}

static void test_oversized(void **state) {
        _cleanup_free_ uint8_t *p = NULL, *big = NULL;
        HclReport h;
        size_t n;

        p = fixture("trustee/az-snp-vtpm/hcl-report.bin", &n);
        /* a buffer over the cap, even when its tail is the zero padding */
        big = calloc(1, HCL_REPORT_MAX + 1);
        assert_non_null(big);
        memcpy(big, p, n);
        assert_int_equal(hcl_report_parse(big, HCL_REPORT_MAX, &h), 0);
        assert_int_equal(hcl_report_parse(big, HCL_REPORT_MAX + 1, &h), -EFBIG);
        /* variable data declared over its cap (and over the buffer) */
        put_le32(big + HCL_REQUEST_OFFSET + 16, HCL_VAR_DATA_MAX + 1);
        assert_int_equal(hcl_report_parse(big, HCL_REPORT_MAX, &h), -EFBIG);
        put_le32(big + HCL_REQUEST_OFFSET + 16, UINT32_MAX);
        assert_int_equal(hcl_report_parse(big, HCL_REPORT_MAX, &h), -EFBIG);
        /* the runtime data parser has the same cap */
        HclRuntimeData rd;
        assert_int_equal(hcl_runtime_data_parse(big, HCL_VAR_DATA_MAX + 1, &rd), -EFBIG);
}

static void test_inconsistent(void **state) {
        static const struct {
                size_t offset;
                uint32_t value; /* XORed into the u32 at offset */
                int error;
        } cases[] = {
                { 0, 1, -EBADMSG },                                     /* magic */
                { 4, 4, -EBADMSG },                                     /* header version 5 */
                { 8, 1, -EBADMSG },                                     /* report_size */
                { 12, 1, -EBADMSG },                                    /* request_type */
                { 16, 1, -EBADMSG },                                    /* status */
                { 28, 0x100, -EBADMSG },                                /* reserved */
                { HCL_REQUEST_OFFSET, 1, -EBADMSG },                    /* data_size */
                { HCL_REQUEST_OFFSET + 4, 2, -EBADMSG },                /* request version */
                { HCL_REQUEST_OFFSET + 8, 1, -EOPNOTSUPP },             /* report type 3 or 5 */
                { HCL_REQUEST_OFFSET + 12, 3, -EOPNOTSUPP },            /* hash type 2 */
                { HCL_REQUEST_OFFSET + 16, 1, -EBADMSG },               /* variable_data_size */
        };
        for (size_t i = 0; i < ELEMENTSOF(genuine); i++) {
                _cleanup_free_ uint8_t *p = NULL;
                HclReport h;
                size_t n;

                p = fixture(genuine[i].file, &n);
                assert_int_equal(hcl_report_parse(p, n, &h), 0);
                for (size_t j = 0; j < ELEMENTSOF(cases); j++) {
                        uint8_t *f = p + cases[j].offset;
                        uint32_t v = (uint32_t) f[0] | (uint32_t) f[1] << 8 | (uint32_t) f[2] << 16 | (uint32_t) f[3] << 24;

                        put_le32(f, v ^ cases[j].value);
                        assert_int_equal(hcl_report_parse(p, n, &h), cases[j].error);
                        put_le32(f, v);
                }
                /* a non-zero byte in the padding after the variable data */
                if (n > HCL_VAR_DATA_OFFSET + h.var_data_size) {
                        p[n - 1] = 1;
                        assert_int_equal(hcl_report_parse(p, n, &h), -EBADMSG);
                        p[n - 1] = 0;
                }
                /* TDX: a non-zero byte after the 1024-byte TDREPORT */
                if (genuine[i].type == HCL_REPORT_TDX) {
                        p[HCL_HW_REPORT_OFFSET + HCL_TDREPORT_SIZE + 7] = 1;
                        assert_int_equal(hcl_report_parse(p, n, &h), -EBADMSG);
                        p[HCL_HW_REPORT_OFFSET + HCL_TDREPORT_SIZE + 7] = 0;
                }
                assert_int_equal(hcl_report_parse(p, n, &h), 0);
        }
}

static int rd_parse(const char *json, HclRuntimeData *rd) {
        return hcl_runtime_data_parse((const uint8_t *) json, strlen(json), rd);
}

#define AK "{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"AQID\"}"

static void test_runtime_data(void **state) {
        HclRuntimeData rd;

        assert_int_equal(rd_parse("{\"keys\":[" AK "],\"user-data\":\"00ff\"}", &rd), 0);
        assert_int_equal(rd.ak.n_size, 3);
        assert_false(rd.has_ek);
        assert_false(rd.has_vm_configuration);
        assert_true(rd.has_user_data);
        assert_int_equal(rd.user_data_size, 2);
        hcl_runtime_data_done(&rd);

        assert_int_equal(rd_parse("{\"keys\":[]}", &rd), -ENOENT);
        assert_int_equal(rd_parse("{\"vm-configuration\":{}}", &rd), -EBADMSG);
        assert_int_equal(rd_parse("{\"keys\":[" AK "," AK "]}", &rd), -EBADMSG);
        assert_int_equal(rd_parse("{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"EC\"}]}", &rd), -EOPNOTSUPP);
        assert_int_equal(rd_parse("{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"*\"}]}", &rd), -EBADMSG);
        assert_int_equal(rd_parse("{\"keys\":[" AK "],\"user-data\":\"0\"}", &rd), -EBADMSG);
        assert_int_equal(rd_parse("{\"keys\":[" AK "],\"user-data\":\""
                                  "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
                                  "00\"}", &rd), -EBADMSG);
        assert_int_equal(rd_parse("{\"keys\":[" AK "],\"user-data\":7}", &rd), -EBADMSG);
        assert_int_equal(rd_parse("{\"keys\":[" AK "],\"vm-configuration\":{\"secure-boot\":\"yes\"}}", &rd), -EBADMSG);
        assert_int_equal(rd_parse("{\"keys\":[" AK "],\"vm-configuration\":{\"vmUniqueId\":"
                                  "\"0123456789012345678901234567890123456789012345678901234567890123456789\"}}", &rd), -EBADMSG);
        assert_int_equal(rd_parse("{\"keys\":[" AK "]} trailing", &rd), -EBADMSG);
        assert_int_equal(rd_parse("[1]", &rd), -EBADMSG);
        assert_int_equal(rd_parse("", &rd), -EBADMSG);
}

int main(void) {
        fixtures_require();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_genuine),
                cmocka_unit_test(test_v2_user_data),
                cmocka_unit_test(test_truncated),
                cmocka_unit_test(test_oversized),
                cmocka_unit_test(test_inconsistent),
                cmocka_unit_test(test_runtime_data),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
