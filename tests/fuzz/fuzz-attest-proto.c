/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes the attestation client's response parsers: the input is a reply body as the broker sends it
 * (auth challenge, attest token, error body) and, read as text, a Set-Cookie value. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest-proto.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        AttestChallenge ch = {};
        const char *reason;
        char *text, *s = NULL;

        log_set_max_level(LOG_CRIT);
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';

        if (attest_proto_parse_challenge(text, size, &ch, &reason) >= 0) {
                /* what passed is usable as the protocol uses it */
                if (strlen(ch.nonce) == 0 || strlen(ch.nonce) > ATTEST_NONCE_MAX)
                        abort();
                attest_challenge_done(&ch);
        }
        if (attest_proto_parse_token(text, size, &s, &reason) >= 0)
                free(s);
        s = attest_proto_error_message(text, size);
        free(s);
        s = NULL;
        if (attest_proto_parse_set_cookie(text, &s) >= 0)
                free(s);
        (void) attest_proto_resource_path_valid(text);
        (void) attest_proto_secret_name_valid(text);
        free(text);
        return 0;
}
