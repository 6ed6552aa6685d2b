/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every single-bit change to genuine evidence is refused: the az-snp-vtpm v2 sample (quote message,
 * quote signature, HCL report, VCEK), the generic tpm sample (message, signature, AK), and the raw
 * SNP report with its VCEK. Exhaustive, so it runs in suite kbs rather than under valgrind. */

#define _GNU_SOURCE
#include <stdio.h>
#include <time.h>

#include "kbs-test-util.h"
#include "snp-verify.h"

static unsigned failures;

static int az_verify(const AzParts *p, const SnpRoots *roots, const uint8_t rd[48], const char **reason) {
        KbsVerifyContext ctx = { .amd_roots = roots };
        KbsClaims c = {};
        json_object *ev = az_snp_v2(p->sig, p->sig_size, p->msg, p->msg_size, p->pcrs, p->hcl, p->hcl_size, p->vcek,
                                    p->vcek_size);
        int r = kbs_verify(&ctx, KBS_TEE_AZ_SNP_VTPM, ev, rd, 48, &c, reason);
        kbs_claims_done(&c);
        json_object_put(ev);
        return r;
}

static void flip_all(const char *what, uint8_t *buf, size_t size, int (*check)(void *), void *userdata) {
        unsigned accepted = 0, n = 0;

        for (size_t i = 0; i < size; i++)
                for (unsigned b = 0; b < 8; b++) {
                        buf[i] ^= (uint8_t) (1U << b);
                        if (check(userdata) == 0) {
                                if (accepted++ < 5)
                                        fprintf(stderr, "  %s: flip of byte %zu bit %u accepted\n", what, i, b);
                        }
                        buf[i] ^= (uint8_t) (1U << b);
                        n++;
                }
        printf("%-28s %6u flips, %u accepted\n", what, n, accepted);
        failures += accepted;
}

typedef struct AzCtx {
        AzParts p;
        SnpRoots *roots;
        uint8_t rd[48];
} AzCtx;

static int az_check(void *userdata) {
        AzCtx *c = userdata;
        const char *reason;
        return az_verify(&c->p, c->roots, c->rd, &reason);
}

typedef struct TpmCtx {
        uint8_t *ak, *msg, *sig, *ak_orig;
        size_t ak_size, msg_size, sig_size;
        json_object *pcrs;
        uint8_t rd[48];
} TpmCtx;

static int tpm_check(void *userdata) {
        TpmCtx *t = userdata;
        KbsClaims c = {};
        const char *reason;
        json_object *ev = json_object_new_object(), *q = json_object_new_object();
        char *a = b64_encode(t->ak, t->ak_size, B64_PAD), *m = b64_encode(t->msg, t->msg_size, B64_PAD),
             *s = b64_encode(t->sig, t->sig_size, B64_PAD);
        int r;

        json_object_object_add(q, "message", json_object_new_string(m));
        json_object_object_add(q, "signature", json_object_new_string(s));
        json_object_object_add(q, "pcrs", json_object_get(t->pcrs));
        json_object_object_add(ev, "ak_public", json_object_new_string(a));
        json_object_object_add(ev, "tpm_quote", q);
        r = kbs_verify(&(KbsVerifyContext) {}, KBS_TEE_TPM, ev, t->rd, 48, &c, &reason);
        /* the AK is trusted through the policy, by its DER bytes: one that verifies must be the original */
        if (r == 0 && (c.ak_der_size != t->ak_size || memcmp(c.ak_der, t->ak_orig, t->ak_size) != 0))
                r = -1;
        kbs_claims_done(&c);
        json_object_put(ev);
        free(a), free(m), free(s);
        return r;
}

typedef struct SnpCtx {
        uint8_t *report, *vcek;
        size_t report_size, vcek_size;
        SnpRoots *roots;
} SnpCtx;

static int snp_check(void *userdata) {
        SnpCtx *s = userdata;
        SnpVerifyResult res;
        return snp_verify_report(s->roots, s->report, s->report_size, s->vcek, s->vcek_size, &res);
}

int main(void) {
        fixtures_require();
        uint64_t start = now_usec(CLOCK_MONOTONIC);
        AzCtx az = {};
        TpmCtx tpm = {};
        SnpCtx snp = {};
        const char *reason;

        az.roots = roots_load("trustee/amd-roots/milan_ask_ark_asvk.pem", NULL);
        az_parts_load("trustee/az-snp-vtpm/evidence-v2.json", &az.p);
        unhex_exact(AZ_SNP_V2_REPORT_DATA, az.rd, 48);
        if (az_verify(&az.p, az.roots, az.rd, &reason) != 0) {
                fprintf(stderr, "unmodified az-snp-vtpm evidence refused: %s\n", reason);
                return 1;
        }
        flip_all("az-snp-vtpm quote message", az.p.msg, az.p.msg_size, az_check, &az);
        flip_all("az-snp-vtpm quote signature", az.p.sig, az.p.sig_size, az_check, &az);
        flip_all("az-snp-vtpm HCL report", az.p.hcl, az.p.hcl_size, az_check, &az);
        flip_all("az-snp-vtpm VCEK", az.p.vcek, az.p.vcek_size, az_check, &az);

        json_object *ev = fixture_json("trustee/tpm/tpm_evidence.json"), *q = json_object_object_get(ev, "tpm_quote");
        const char *a = json_object_get_string(json_object_object_get(ev, "ak_public")),
                   *m = json_object_get_string(json_object_object_get(q, "message")),
                   *s = json_object_get_string(json_object_object_get(q, "signature"));
        if (b64_decode(a, strlen(a), B64_PAD, &tpm.ak, &tpm.ak_size) < 0 ||
            b64_decode(m, strlen(m), B64_PAD, &tpm.msg, &tpm.msg_size) < 0 ||
            b64_decode(s, strlen(s), B64_PAD, &tpm.sig, &tpm.sig_size) < 0)
                return 1;
        tpm.ak_orig = malloc(tpm.ak_size);
        memcpy(tpm.ak_orig, tpm.ak, tpm.ak_size);
        tpm.pcrs = json_object_get(json_object_object_get(q, "pcrs"));
        unhex_exact(TPM_FIXTURE_REPORT_DATA, tpm.rd, 48);
        if (tpm_check(&tpm) != 0)
                return fprintf(stderr, "unmodified tpm evidence refused\n"), 1;
        flip_all("tpm quote message", tpm.msg, tpm.msg_size, tpm_check, &tpm);
        flip_all("tpm quote signature", tpm.sig, tpm.sig_size, tpm_check, &tpm);
        flip_all("tpm AK", tpm.ak, tpm.ak_size, tpm_check, &tpm);

        snp.roots = az.roots;
        snp.report = (uint8_t *) fixture_read("trustee/snp/test-report.bin", &snp.report_size);
        snp.vcek = (uint8_t *) fixture_read("trustee/snp/test-vcek.der", &snp.vcek_size);
        if (snp_check(&snp) != 0)
                return fprintf(stderr, "unmodified SNP report refused\n"), 1;
        flip_all("snp report", snp.report, snp.report_size, snp_check, &snp);
        flip_all("snp VCEK", snp.vcek, snp.vcek_size, snp_check, &snp);

        printf("%u accepted flips in %.1f s\n", failures, (now_usec(CLOCK_MONOTONIC) - start) / 1e6);
        az_parts_done(&az.p);
        snp_roots_free(az.roots);
        json_object_put(tpm.pcrs);
        json_object_put(ev);
        free(tpm.ak), free(tpm.ak_orig), free(tpm.msg), free(tpm.sig), free(snp.report), free(snp.vcek);
        return failures == 0 ? 0 : 1;
}
