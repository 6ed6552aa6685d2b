/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The RCAR binding hash (rcar.h). */

#include <errno.h>
#include <string.h>

#include "hash.h"
#include "json-canon.h"
#include "json-util.h"
#include "jwk.h"
#include "macro.h"
#include "rcar.h"

int rcar_report_data(const char *nonce, json_object *tee_pubkey, const char *additional_evidence,
                     uint8_t ret[RCAR_REPORT_DATA_SIZE]) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_free_ char *canon = NULL;
        size_t canon_size;
        Digest d;
        int r;

        assert_return(nonce && tee_pubkey && additional_evidence && ret, -EINVAL);

        o = json_object_new_object();
        if (!o || json_add_string(o, "additional-evidence", additional_evidence) < 0 ||
            json_add_string(o, "nonce", nonce) < 0 || json_add(o, "tee-pubkey", json_object_get(tee_pubkey)) < 0)
                return -ENOMEM;
        r = json_canon(o, &canon, &canon_size);
        if (r < 0)
                return r;
        r = hash_buffer(HASH_SHA384, canon, canon_size, &d);
        if (r < 0)
                return r;
        memcpy(ret, d.bytes, RCAR_REPORT_DATA_SIZE);
        return 0;
}
