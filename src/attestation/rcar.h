/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

/* The binding of Trustee's RCAR protocol (kbs-protocol.md, version 0.4.0), computed the same way by
 * the attestation client and by ephroot-kbs: the report data that the evidence carries is
 * SHA-384(JCS({"additional-evidence":A,"nonce":N,"tee-pubkey":JWK})), RFC 8785 canonical JSON. */

#define RCAR_REPORT_DATA_SIZE 48U /* SHA-384 */

/* nonce: the server's nonce as it came (base64 text); tee_pubkey: the TEE key as a JWK object;
 * additional_evidence: "" for the client, which sends none. No I/O. */
int rcar_report_data(const char *nonce, json_object *tee_pubkey, const char *additional_evidence,
                     uint8_t ret[RCAR_REPORT_DATA_SIZE]);
