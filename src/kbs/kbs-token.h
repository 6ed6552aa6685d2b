/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <openssl/evp.h>
#include <stdint.h>

#include "jwk.h"
#include "kbs-policy.h"

/* The attestation token the server returns: a JWT (ES256) signed with a key made at start-up. Its
 * claims say what was verified and what was not, for the relying party's logs; the server itself
 * keys its decisions on the session, not on the token. */
int kbs_token_key_new(EVP_PKEY **ret);
int kbs_token_issue(EVP_PKEY *signer, const KbsClaims *claims, const KbsPolicySet *policies, uint64_t mask,
                    json_object *tee_pubkey, unsigned lifetime_sec, char **ret);
