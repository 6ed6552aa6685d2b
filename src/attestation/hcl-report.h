/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The Azure CVM HCL report (NV index 0x01400001; azure-cvm.md): a 32-byte header, the hardware
 * report (SNP report or TDREPORT), the request data and the runtime-data JSON ("variable data")
 * whose SHA-256 the hardware report binds. Parsed from bytes, no I/O. Neutral. */

#define HCL_HEADER_SIZE 32U
#define HCL_HW_REPORT_OFFSET 0x20U
#define HCL_HW_REPORT_SIZE 1184U
#define HCL_REQUEST_OFFSET 0x4C0U
#define HCL_VAR_DATA_OFFSET 0x4D4U
#define HCL_REPORT_MAX (64U * 1024U)
#define HCL_VAR_DATA_MAX (16U * 1024U)   /* the runtime-data JSON: ~1.2 KiB on Azure today */
#define HCL_TDREPORT_SIZE 1024U
#define HCL_REPORT_DATA_SIZE 64U          /* SNP report_data, TDREPORT reportdata */
#define HCL_USER_DATA_MAX 64U             /* NV 0x01400002 holds at most 64 bytes */
#define HCL_VM_UNIQUE_ID_MAX 64U

typedef enum HclReportType {
        HCL_REPORT_SNP = 2,
        HCL_REPORT_TDX = 4,
} HclReportType;

typedef struct HclReport {
        uint32_t version;         /* header version, 1 or 2 */
        uint32_t report_size;     /* header: header + hardware report + request data + variable data */
        uint32_t report_type;     /* HclReportType */
        uint32_t hash_type;       /* 1 = SHA-256 */
        const uint8_t *hw_report; /* points into the input: HCL_HW_REPORT_SIZE bytes */
        size_t hw_report_size;    /* the meaningful part: SNP_REPORT_SIZE, or HCL_TDREPORT_SIZE (then zeros) */
        const uint8_t *report_data; /* in hw_report: SNP report_data or TDREPORT reportdata, 64 bytes */
        const uint8_t *var_data;  /* points into the input */
        size_t var_data_size;
} HclReport;

/* Parses the report; the result points into p, which must outlive it. Errors, distinct so that a
 * caller can say what was wrong:
 *   -ENODATA     truncated: shorter than the fixed part, or than the variable data it declares;
 *   -EFBIG       oversized: more than HCL_REPORT_MAX bytes, or variable data over HCL_VAR_DATA_MAX;
 *   -EBADMSG     inconsistent: bad magic or version, sizes that disagree, non-zero padding;
 *   -EOPNOTSUPP  a report type other than SNP or TDX, or a hash other than SHA-256. */
int hcl_report_parse(const uint8_t *p, size_t n, HclReport *ret);

/* The binding: SHA-256(variable data) == report_data[0:32]. 0, or -EBADMSG when it does not hold. */
int hcl_report_check_binding(const HclReport *h);

/* The runtime-data JSON ("variable data"), every member bounded. Keys are kept as RSA modulus and
 * exponent bytes; HCLEkPub, vm-configuration and user-data are optional (absent: has_* false). */
typedef struct HclRsaKey {
        uint8_t *n, *e;
        size_t n_size, e_size;
} HclRsaKey;

typedef struct HclRuntimeData {
        HclRsaKey ak;                   /* "HCLAkPub", required */
        bool has_ek;
        HclRsaKey ek;                   /* "HCLEkPub" */
        bool has_vm_configuration;
        bool console_enabled, secure_boot, tpm_enabled;
        char vm_unique_id[HCL_VM_UNIQUE_ID_MAX + 1];
        bool has_user_data;
        uint8_t user_data[HCL_USER_DATA_MAX];
        size_t user_data_size;
} HclRuntimeData;

/* -EBADMSG for malformed JSON or members, -ENOENT without HCLAkPub, -EOPNOTSUPP for a non-RSA AK. */
int hcl_runtime_data_parse(const uint8_t *var_data, size_t size, HclRuntimeData *ret);
void hcl_runtime_data_done(HclRuntimeData *d);

/* From the runtime-data JSON: the RSA modulus and exponent of the key with kid (e.g. "HCLAkPub"),
 * and the user-data bytes (hex in the JSON; absent -> -ENOENT). Buffers are malloc'd. */
int hcl_var_data_rsa_key(const uint8_t *var_data, size_t size, const char *kid, uint8_t **ret_n, size_t *ret_n_size,
                         uint8_t **ret_e, size_t *ret_e_size);
int hcl_var_data_user_data(const uint8_t *var_data, size_t size, uint8_t **ret, size_t *ret_size);
