/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "secret.h"
#include "tpm2.h"

/* The volume key: HKDF-SHA256 (RFC 5869) with input keying material = 64 bytes of TPM2_GetRandom
 * followed by 64 bytes of getrandom(), no salt, info = KEYGEN_HKDF_INFO, output KEYGEN_KEY_SIZE
 * bytes. The inputs are wiped as soon as the key is derived. See docs/volume.md. */

#define KEYGEN_KEY_SIZE 64U
#define KEYGEN_INPUT_SIZE 64U
#define KEYGEN_HKDF_INFO "ephroot volume key v1"

/* tpm NULL means "this machine has no TPM": only allowed when the caller has checked that the
 * configuration says so (development only); the key then comes from getrandom() alone. */
int keygen_volume_key(Tpm2Context *tpm, Secret **ret);
