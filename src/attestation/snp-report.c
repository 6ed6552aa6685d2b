/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "snp-report.h"

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t le64(const uint8_t *p) {
        return (uint64_t) le32(p) | (uint64_t) le32(p + 4) << 32;
}

int snp_report_parse(const uint8_t *p, size_t n, SnpReport *ret) {
        SnpReport r = {};

        assert_return(p || n == 0, -EINVAL);
        assert_return(ret, -EINVAL);

        if (n != SNP_REPORT_SIZE)
                return -EBADMSG;

        r.version = le32(p + 0x000);
        r.guest_svn = le32(p + 0x004);
        r.policy = le64(p + 0x008);
        r.vmpl = le32(p + 0x030);
        r.signature_algo = le32(p + 0x034);
        r.current_tcb = le64(p + 0x038);
        r.platform_info = le64(p + 0x040);
        r.flags = le32(p + 0x048);
        memcpy(r.report_data, p + 0x050, 64);
        memcpy(r.measurement, p + 0x090, 48);
        memcpy(r.host_data, p + 0x0C0, 32);
        memcpy(r.id_key_digest, p + 0x0E0, 48);
        memcpy(r.author_key_digest, p + 0x110, 48);
        memcpy(r.report_id, p + 0x140, 32);
        r.reported_tcb = le64(p + 0x180);
        if (r.version >= 3) {
                r.cpuid_family = p[0x188];
                r.cpuid_model = p[0x189];
                r.cpuid_stepping = p[0x18A];
        }
        memcpy(r.chip_id, p + 0x1A0, 64);
        r.committed_tcb = le64(p + 0x1E0);
        r.launch_tcb = le64(p + 0x1F0);
        memcpy(r.sig_r, p + 0x2A0, 72);
        memcpy(r.sig_s, p + 0x2E8, 72);

        /* The signature area is r and s (72 bytes each, of which P-384 uses 48) and reserved bytes: none
         * of it is signed, so all that is not r or s must be zero. */
        for (size_t i = 0x2A0 + 48; i < 0x2A0 + 72; i++)
                if (p[i] != 0 || p[i + 72] != 0)
                        return -EBADMSG;
        for (size_t i = 0x2A0 + 144; i < SNP_REPORT_SIZE; i++)
                if (p[i] != 0)
                        return -EBADMSG;
        if (r.version < 2 || r.version > 5)
                return -EBADMSG;
        if (r.signature_algo != SNP_SIG_ALGO_ECDSA_P384_SHA384)
                return -EOPNOTSUPP;
        if (r.vmpl > 3)
                return -EBADMSG;

        *ret = r;
        return 0;
}

SnpProduct snp_report_product(const SnpReport *r) {
        if (!r || r->version < 3)
                return SNP_PRODUCT_UNKNOWN;
        if (r->cpuid_family == 0x19) {
                if (r->cpuid_model <= 0x0F)
                        return SNP_PRODUCT_MILAN;
                if ((r->cpuid_model >= 0x10 && r->cpuid_model <= 0x1F) || (r->cpuid_model >= 0xA0 && r->cpuid_model <= 0xAF))
                        return SNP_PRODUCT_GENOA;
        }
        if (r->cpuid_family == 0x1A)
                return SNP_PRODUCT_TURIN;
        return SNP_PRODUCT_UNKNOWN;
}

SnpTcb snp_tcb_decode(uint64_t tcb, SnpProduct product) {
#define BYTE(i) ((uint8_t) (tcb >> (8 * (i))))
        if (product == SNP_PRODUCT_TURIN)
                return (SnpTcb) {
                        .fmc = BYTE(0), .bootloader = BYTE(1), .tee = BYTE(2), .snp = BYTE(3), .microcode = BYTE(7)
                };
        return (SnpTcb) { .bootloader = BYTE(0), .tee = BYTE(1), .snp = BYTE(6), .microcode = BYTE(7) };
#undef BYTE
}

static const char *const product_names[_SNP_PRODUCT_MAX] = {
        [SNP_PRODUCT_UNKNOWN] = "unknown",
        [SNP_PRODUCT_MILAN] = "Milan",
        [SNP_PRODUCT_GENOA] = "Genoa",
        [SNP_PRODUCT_TURIN] = "Turin",
};

const char *snp_product_to_string(SnpProduct p) {
        return p < _SNP_PRODUCT_MAX ? product_names[p] : NULL;
}

int snp_product_from_string(const char *s) {
        for (int i = 1; i < _SNP_PRODUCT_MAX; i++)
                if (s && strcasecmp(s, product_names[i]) == 0)
                        return i;
        return -EINVAL;
}
