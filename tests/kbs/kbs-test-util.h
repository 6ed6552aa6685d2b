/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

/* Helpers shared by the key broker's C tests: fixture loading and evidence assembly. */

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "kbs-policy.h"
#include "kbs-verifier.h"
#include "util.h"

#include "../lib/fixtures.h"

static inline char *fixture_path(const char *rel) {
        char *p;
        if (asprintf(&p, "%s/%s", FIXTURES_DIR, rel) < 0)
                abort();
        return p;
}

static __attribute__((unused, noinline)) char *fixture_read(const char *rel, size_t *ret_size) {
        char *p = fixture_path(rel), *buf = NULL;
        size_t n;

        if (read_full_file_bounded(p, 1 << 20, &buf, &n) < 0) {
                fprintf(stderr, "cannot read fixture %s\n", p);
                abort();
        }
        free(p);
        if (ret_size)
                *ret_size = n;
        return buf;
}

static inline json_object *fixture_json(const char *rel) {
        size_t n;
        char *t = fixture_read(rel, &n);
        json_object *o = json_tokener_parse(t);
        free(t);
        if (!o)
                abort();
        return o;
}

static inline void unhex_exact(const char *hex, uint8_t *out, size_t size) {
        void *b;
        size_t n;
        if (unhexmem(hex, &b, &n) < 0 || n != size)
                abort();
        memcpy(out, b, size);
        free(b);
}

/* AMD roots from the fixture files named (NULL-terminated), e.g. "trustee/amd-roots/milan_ask_ark_asvk.pem". */
static inline SnpRoots *roots_load(const char *first, ...) {
        SnpRoots *r = snp_roots_new();
        va_list ap;

        va_start(ap, first);
        for (const char *f = first; f; f = va_arg(ap, const char *)) {
                size_t n;
                char *pem = fixture_read(f, &n);
                if (snp_roots_add_pem(r, pem, n) < 0)
                        abort();
                free(pem);
        }
        va_end(ap);
        return r;
}

/* A policy (the whole file) for tee that pins PCR 0 to the value the claims carry, with extra members
 * (", ..." or ""); aborts when the quote does not cover PCR 0. Free the result. */
static inline char *policy_pinning_pcr0(const char *tee, const KbsClaims *c, const char *extra) {
        char *hex, *t;

        if (!c->have_pcrs || !(c->pcr_mask & 1U) || !(hex = hexmem(c->pcrs[0], 32)))
                abort();
        if (asprintf(&t, "{\"policies\":[{\"name\":\"p\",\"tee\":[\"%s\"],\"pcrs\":{\"sha256\":{\"0\":\"%s\"}}%s}]}",
                     tee, hex, extra) < 0)
                abort();
        free(hex);
        return t;
}

/* az-snp-vtpm v2 evidence from its parts. */
static inline json_object *az_snp_v2(const uint8_t *sig, size_t sig_size, const uint8_t *msg, size_t msg_size,
                                     json_object *pcrs, const uint8_t *hcl, size_t hcl_size, const uint8_t *vcek,
                                     size_t vcek_size) {
        json_object *o = json_object_new_object(), *q = json_object_new_object();
        char *s = hexmem(sig, sig_size), *m = hexmem(msg, msg_size), *h = b64_encode(hcl, hcl_size, B64_URL | B64_PAD),
             *v = b64_encode(vcek, vcek_size, B64_URL);

        json_object_object_add(q, "signature", json_object_new_string(s));
        json_object_object_add(q, "message", json_object_new_string(m));
        json_object_object_add(q, "pcrs", json_object_get(pcrs));
        json_object_object_add(o, "version", json_object_new_int(2));
        json_object_object_add(o, "tpm_quote", q);
        json_object_object_add(o, "hcl_report", json_object_new_string(h));
        json_object_object_add(o, "vcek", json_object_new_string(v));
        free(s), free(m), free(h), free(v);
        return o;
}

/* The binary parts of a fixture's v2 evidence. */
typedef struct AzParts {
        uint8_t *sig, *msg, *hcl, *vcek;
        size_t sig_size, msg_size, hcl_size, vcek_size;
        json_object *pcrs;
} AzParts;

static inline void az_parts_load(const char *rel, AzParts *p) {
        json_object *e = fixture_json(rel), *q;
        void *b;

        json_object_object_get_ex(e, "tpm_quote", &q);
        if (unhexmem(json_object_get_string(json_object_object_get(q, "signature")), &b, &p->sig_size) < 0)
                abort();
        p->sig = b;
        if (unhexmem(json_object_get_string(json_object_object_get(q, "message")), &b, &p->msg_size) < 0)
                abort();
        p->msg = b;
        p->pcrs = json_object_get(json_object_object_get(q, "pcrs"));
        const char *h = json_object_get_string(json_object_object_get(e, "hcl_report")),
                   *v = json_object_get_string(json_object_object_get(e, "vcek"));
        if (b64_decode(h, strlen(h), B64_URL | B64_PAD_OPTIONAL, &p->hcl, &p->hcl_size) < 0 ||
            b64_decode(v, strlen(v), B64_URL | B64_PAD_OPTIONAL, &p->vcek, &p->vcek_size) < 0)
                abort();
        json_object_put(e);
}

static inline void az_parts_done(AzParts *p) {
        free(p->sig), free(p->msg), free(p->hcl), free(p->vcek);
        json_object_put(p->pcrs);
}

#define AZ_SNP_V2_REPORT_DATA \
        "982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9f5f819ef"
#define AZ_SNP_GENOA_REPORT_DATA \
        "0218488bae25d2509232bf676f1a66a30d7372add909109b36016ef136f2938ca05475f8b46094de6b64270ea35d950f"
#define TPM_FIXTURE_REPORT_DATA \
        "a04182b506878d4f29b91ee606a71a0d3361ccf1b22db20c98adcaa537bea393ef0e41a18b3569ab678f1497fbc5c120"
