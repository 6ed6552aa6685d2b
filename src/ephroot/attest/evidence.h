/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <json-c/json.h>
#include <stdint.h>

#include "config.h"
#include "rcar.h"
#include "tpm2.h"

/* Evidence providers: each makes the `tee-evidence.primary_evidence` of one KBS tee type, bound to the
 * protocol's report data. The attestation client (attest.c) picks the provider by the configured tee
 * name and knows nothing of the type's internals; a provider knows nothing of HTTP, sessions or JWE.
 * See docs/attestation.md for the exchange and the formats. */

typedef struct EvidenceRequest {
        Tpm2Context *tpm;
        const Config *config;
        const uint8_t *report_data;     /* RCAR_REPORT_DATA_SIZE bytes (rcar.h) */
        const char *nonce;              /* the server's nonce, as it came (base64 text) */
        const char *extra_params;       /* the auth reply's "extra-params" as JSON text; NULL or "" if none */
        void *state;                    /* what auth_extra_params() made, or NULL */
} EvidenceRequest;

typedef struct EvidenceProvider {
        const char *tee; /* "tpm", "svsm-vtpm", "az-snp-vtpm", "az-tdx-vtpm" */

        /* Optional: the JSON object text for the auth request's "extra-params" (NULL: "{}"), and state
         * for collect() (an AK made for this attestation, say), freed with state_free(). */
        int (*auth_extra_params)(Tpm2Context *tpm, const Config *config, void **ret_state, char **ret_json);

        /* The primary evidence as compact JSON text, exactly in the format the type's verifier (Trustee
         * or ephroot-kbs) expects. Logs failures, naming what failed. */
        int (*collect)(const EvidenceRequest *req, char **ret_json);

        /* Optional: frees the state of auth_extra_params() (flushing TPM objects it holds). */
        void (*state_free)(Tpm2Context *tpm, void *state);
} EvidenceProvider;

/* The providers ephroot has, by tee name; NULL when there is none of that name. */
const EvidenceProvider *evidence_provider_find(const char *tee);

/* attest-tee= "azure": az-snp-vtpm or az-tdx-vtpm, as the type of the paravisor's HCL report says. */
#define EVIDENCE_TEE_AZURE_DETECT "azure"

/* The provider for tee, resolving EVIDENCE_TEE_AZURE_DETECT through the TPM. Logs failures. */
int evidence_provider_resolve(Tpm2Context *tpm, const char *tee, const EvidenceProvider **ret);

/* Provided by their modules, listed in evidence.c. */
extern const EvidenceProvider evidence_provider_tpm;       /* evidence-tpm.c */
extern const EvidenceProvider evidence_provider_svsm_vtpm; /* evidence-svsm.c */
extern const EvidenceProvider evidence_provider_az_snp;    /* evidence-az.c */
extern const EvidenceProvider evidence_provider_az_tdx;    /* evidence-az.c */

/* evidence-tpm.c: the base64 DER SubjectPublicKeyInfo of the AK the `tpm` provider makes (a primary
 * key, so the same for as long as the TPM keeps its seeds), for a broker's `trusted_aks`. Logs. */
int evidence_tpm_ak_spki(Tpm2Context *tpm, const Config *config, char **ret_b64);

/* evidence-tpm.c, shared with svsm-vtpm: {"message","signature","pcrs"} of a quote by ak over the
 * configured sha256 PCRs (attest-pcrs=) with the qualifying data given, and all 24 sha256 PCRs. Logs. */
int evidence_tpm_quote_json(Tpm2Context *tpm, const Config *config, const Tpm2Key *ak, const uint8_t *qualifying,
                            size_t qualifying_size, json_object **ret);
