/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

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
#define HCL_TDREPORT_SIZE 1024U

typedef enum HclReportType {
        HCL_REPORT_SNP = 2,
        HCL_REPORT_TDX = 4,
} HclReportType;

typedef struct HclReport {
        uint32_t version;
        uint32_t report_type;    /* HclReportType */
        uint32_t hash_type;      /* 1 = SHA-256 */
        const uint8_t *hw_report; /* points into the input: HCL_HW_REPORT_SIZE bytes */
        const uint8_t *var_data; /* points into the input */
        size_t var_data_size;
} HclReport;

/* Parses the report; the result points into p, which must outlive it. */
int hcl_report_parse(const uint8_t *p, size_t n, HclReport *ret);

/* From the runtime-data JSON: the RSA modulus and exponent of the key with kid (e.g. "HCLAkPub"),
 * and the user-data bytes (hex in the JSON; absent -> -ENOENT). Buffers are malloc'd. */
int hcl_var_data_rsa_key(const uint8_t *var_data, size_t size, const char *kid, uint8_t **ret_n, size_t *ret_n_size,
                         uint8_t **ret_e, size_t *ret_e_size);
int hcl_var_data_user_data(const uint8_t *var_data, size_t size, uint8_t **ret, size_t *ret_size);
