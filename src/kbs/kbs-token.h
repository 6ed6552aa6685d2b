/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <openssl/evp.h>
#include <stdint.h>
#include <time.h>

#include "jwk.h"
#include "kbs-policy.h"

/* The attestation token the server returns: a JWT (ES256) signed with the broker's token key (from
 * token_key_file, shared by replicas, or made at start-up). Its claims say what was verified and
 * what was not, and carry the TEE key and the policies that held: a resource request presents it
 * (Authorization: Bearer, or sealed in the session cookie) and the broker releases on its claims. */
#define KBS_TOKEN_MAX 16384
int kbs_token_key_new(EVP_PKEY **ret);
/* A PEM EC P-256 private key. -EBADMSG unparsable, -EOPNOTSUPP another key type. */
int kbs_token_key_load(const char *path, EVP_PKEY **ret);
int kbs_token_issue(EVP_PKEY *signer, const KbsClaims *claims, const KbsPolicySet *policies, uint64_t mask,
                    json_object *tee_pubkey, unsigned lifetime_sec, char **ret);
/* Checks a token this broker issued: the exact ES256 header, the signature, iss, and exp after now.
 * *ret_payload: the claims. -EBADMSG with *ret_reason otherwise. */
int kbs_token_verify(EVP_PKEY *key, const char *token, time_t now, json_object **ret_payload, const char **ret_reason);
