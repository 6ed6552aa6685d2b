/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <string.h>

#include "b64.h"
#include "hash.h"
#include "hcl-report.h"
#include "json-util.h"
#include "macro.h"
#include "util.h"

#define HCL_MAGIC 0x414c4348U /* "HCLA" */
#define HCL_SNP_REPORT_DATA_OFFSET 0x50U
#define HCL_TDREPORT_REPORTDATA_OFFSET 128U

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

int hcl_report_parse(const uint8_t *p, size_t n, HclReport *ret) {
        HclReport h = {};
        uint32_t data_size, req_version, var_size;

        assert_return(p || n == 0, -EINVAL);
        assert_return(ret, -EINVAL);

        if (n > HCL_REPORT_MAX)
                return -EFBIG;
        if (n < HCL_VAR_DATA_OFFSET)
                return -ENODATA;
        if (le32(p) != HCL_MAGIC)
                return -EBADMSG;
        h.version = le32(p + 4);
        if (h.version < 1 || h.version > 2)
                return -EBADMSG;
        h.report_size = le32(p + 8);
        h.hw_report = p + HCL_HW_REPORT_OFFSET;
        /* request_type 2 (attestation report), status 0, reserved zero */
        if (le32(p + 12) != 2 || le32(p + 16) != 0 || le32(p + 20) != 0 || le32(p + 24) != 0 || le32(p + 28) != 0)
                return -EBADMSG;

        data_size = le32(p + HCL_REQUEST_OFFSET);
        req_version = le32(p + HCL_REQUEST_OFFSET + 4);
        h.report_type = le32(p + HCL_REQUEST_OFFSET + 8);
        h.hash_type = le32(p + HCL_REQUEST_OFFSET + 12);
        var_size = le32(p + HCL_REQUEST_OFFSET + 16);
        if (req_version != 1)
                return -EBADMSG;
        if (h.report_type != HCL_REPORT_SNP && h.report_type != HCL_REPORT_TDX)
                return -EOPNOTSUPP;
        if (h.hash_type != 1)
                return -EOPNOTSUPP;
        if (var_size > HCL_VAR_DATA_MAX)
                return -EFBIG;
        if (var_size > n - HCL_VAR_DATA_OFFSET)
                return -ENODATA;
        /* Every byte is accounted for: the sizes agree, and what is not a field is zero. Nothing in an
         * unauthenticated byte can then differ between two reports that verify the same. */
        if (data_size != HCL_VAR_DATA_OFFSET - HCL_REQUEST_OFFSET + var_size ||
            h.report_size != HCL_VAR_DATA_OFFSET + var_size)
                return -EBADMSG;
        for (size_t i = HCL_VAR_DATA_OFFSET + var_size; i < n; i++)
                if (p[i] != 0)
                        return -EBADMSG;
        if (h.report_type == HCL_REPORT_TDX) {
                for (size_t i = HCL_HW_REPORT_OFFSET + HCL_TDREPORT_SIZE; i < HCL_REQUEST_OFFSET; i++)
                        if (p[i] != 0)
                                return -EBADMSG;
                h.hw_report_size = HCL_TDREPORT_SIZE;
                h.report_data = h.hw_report + HCL_TDREPORT_REPORTDATA_OFFSET;
        } else {
                h.hw_report_size = HCL_HW_REPORT_SIZE;
                h.report_data = h.hw_report + HCL_SNP_REPORT_DATA_OFFSET;
        }
        h.var_data = p + HCL_VAR_DATA_OFFSET;
        h.var_data_size = var_size;

        *ret = h;
        return 0;
}

int hcl_report_check_binding(const HclReport *h) {
        Digest d;
        int r;

        assert_return(h && h->report_data && h->var_data, -EINVAL);

        r = hash_buffer(HASH_SHA256, h->var_data, h->var_data_size, &d);
        if (r < 0)
                return r;
        return CRYPTO_memcmp(d.bytes, h->report_data, 32) == 0 ? 0 : -EBADMSG;
}

static int parse_var_data(const uint8_t *var_data, size_t size, json_object **ret) {
        json_tokener *tok;
        json_object *o;
        size_t len = size;

        /* The JSON may be followed by NUL padding. */
        while (len > 0 && var_data[len - 1] == '\0')
                len--;
        if (len == 0 || memchr(var_data, '\0', len))
                return -EBADMSG;
        tok = json_tokener_new_ex(16);
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, (const char *) var_data, (int) len);
        if (json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(o, json_type_object) ||
            json_tokener_get_parse_end(tok) != len) {
                json_object_put(o);
                json_tokener_free(tok);
                return -EBADMSG;
        }
        json_tokener_free(tok);
        *ret = o;
        return 0;
}

static int b64_member(json_object *o, const char *key, size_t max, uint8_t **ret, size_t *ret_size) {
        int r = json_get_b64(o, key, B64_URL | B64_PAD_OPTIONAL, max, ret, ret_size);

        return r == -EFBIG ? -EBADMSG : r;
}

int hcl_var_data_rsa_key(const uint8_t *var_data, size_t size, const char *kid, uint8_t **ret_n, size_t *ret_n_size,
                         uint8_t **ret_e, size_t *ret_e_size) {
        json_object *o = NULL, *keys;
        int r = -ENOENT;

        assert_return(var_data && kid && ret_n && ret_e, -EINVAL);

        r = parse_var_data(var_data, size, &o);
        if (r < 0)
                return r;
        r = -ENOENT;
        if (json_object_object_get_ex(o, "keys", &keys) && json_object_is_type(keys, json_type_array))
                for (size_t i = 0; i < json_object_array_length(keys); i++) {
                        json_object *k = json_object_array_get_idx(keys, i), *v;
                        _cleanup_free_ uint8_t *n = NULL, *e = NULL;
                        size_t ns, es;

                        if (!json_object_object_get_ex(k, "kid", &v) || !json_object_is_type(v, json_type_string) ||
                            !streq(json_object_get_string(v), kid))
                                continue;
                        if (!json_object_object_get_ex(k, "kty", &v) || !json_object_is_type(v, json_type_string) ||
                            !streq(json_object_get_string(v), "RSA")) {
                                r = -EOPNOTSUPP;
                                break;
                        }
                        r = b64_member(k, "n", 1024, &n, &ns);
                        if (r >= 0)
                                r = b64_member(k, "e", 8, &e, &es);
                        if (r < 0)
                                break;
                        *ret_n = TAKE_PTR(n);
                        *ret_n_size = ns;
                        *ret_e = TAKE_PTR(e);
                        *ret_e_size = es;
                        r = 0;
                        break;
                }
        json_object_put(o);
        return r;
}

int hcl_var_data_user_data(const uint8_t *var_data, size_t size, uint8_t **ret, size_t *ret_size) {
        json_object *o = NULL, *v;
        void *buf = NULL;
        size_t n;
        int r;

        assert_return(var_data && ret && ret_size, -EINVAL);

        r = parse_var_data(var_data, size, &o);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(o, "user-data", &v))
                r = -ENOENT;
        else if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) > 2 * 64)
                r = -EBADMSG;
        else if (unhexmem(json_object_get_string(v), &buf, &n) < 0)
                r = -EBADMSG;
        else {
                *ret = buf;
                *ret_size = n;
                r = 0;
        }
        json_object_put(o);
        return r;
}

static int rsa_key_from(json_object *k, HclRsaKey *ret) {
        _cleanup_free_ uint8_t *n = NULL, *e = NULL;
        json_object *v;
        size_t ns, es;

        if (!json_object_object_get_ex(k, "kty", &v) || !json_object_is_type(v, json_type_string))
                return -EBADMSG;
        if (!streq(json_object_get_string(v), "RSA"))
                return -EOPNOTSUPP;
        if (b64_member(k, "n", 1024, &n, &ns) < 0 || b64_member(k, "e", 8, &e, &es) < 0)
                return -EBADMSG;
        if (ns == 0 || ns > 1024 || es == 0 || es > 8)
                return -EBADMSG;
        *ret = (HclRsaKey) { .n = TAKE_PTR(n), .e = TAKE_PTR(e), .n_size = ns, .e_size = es };
        return 0;
}

static int bool_member(json_object *o, const char *key, bool *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return 0; /* absent: false */
        if (!json_object_is_type(v, json_type_boolean))
                return -EBADMSG;
        *ret = json_object_get_boolean(v);
        return 0;
}

void hcl_runtime_data_done(HclRuntimeData *d) {
        if (!d)
                return;
        free(d->ak.n);
        free(d->ak.e);
        free(d->ek.n);
        free(d->ek.e);
        *d = (HclRuntimeData) {};
}

static int runtime_data_fill(json_object *o, HclRuntimeData *d) {
        json_object *keys, *v;
        size_t nkeys;
        int r;

        /* keys: HCLAkPub required, HCLEkPub optional; each kid at most once */
        if (!json_object_object_get_ex(o, "keys", &keys) || !json_object_is_type(keys, json_type_array))
                return -EBADMSG;
        nkeys = json_object_array_length(keys);
        if (nkeys > 16)
                return -EBADMSG;
        for (size_t i = 0; i < nkeys; i++) {
                json_object *k = json_object_array_get_idx(keys, i);
                HclRsaKey *slot;
                const char *kid;

                if (!json_object_is_type(k, json_type_object) || !json_object_object_get_ex(k, "kid", &v) ||
                    !json_object_is_type(v, json_type_string))
                        return -EBADMSG;
                kid = json_object_get_string(v);
                if (streq(kid, "HCLAkPub"))
                        slot = &d->ak;
                else if (streq(kid, "HCLEkPub"))
                        slot = &d->ek;
                else
                        continue;
                if (slot->n)
                        return -EBADMSG; /* twice */
                r = rsa_key_from(k, slot);
                if (r < 0)
                        return r;
                if (slot == &d->ek)
                        d->has_ek = true;
        }
        if (!d->ak.n)
                return -ENOENT;

        if (json_object_object_get_ex(o, "vm-configuration", &v)) {
                json_object *id;

                if (!json_object_is_type(v, json_type_object))
                        return -EBADMSG;
                if (bool_member(v, "console-enabled", &d->console_enabled) < 0 ||
                    bool_member(v, "secure-boot", &d->secure_boot) < 0 ||
                    bool_member(v, "tpm-enabled", &d->tpm_enabled) < 0)
                        return -EBADMSG;
                if (json_object_object_get_ex(v, "vmUniqueId", &id)) {
                        if (!json_object_is_type(id, json_type_string) ||
                            (size_t) json_object_get_string_len(id) > HCL_VM_UNIQUE_ID_MAX)
                                return -EBADMSG;
                        strcpy(d->vm_unique_id, json_object_get_string(id));
                }
                d->has_vm_configuration = true;
        }

        if (json_object_object_get_ex(o, "user-data", &v)) {
                _cleanup_free_ void *buf = NULL;
                size_t n;

                if (!json_object_is_type(v, json_type_string) ||
                    (size_t) json_object_get_string_len(v) > 2 * HCL_USER_DATA_MAX ||
                    unhexmem(json_object_get_string(v), &buf, &n) < 0 || n > HCL_USER_DATA_MAX)
                        return -EBADMSG;
                memcpy(d->user_data, buf, n);
                d->user_data_size = n;
                d->has_user_data = true;
        }
        return 0;
}

int hcl_runtime_data_parse(const uint8_t *var_data, size_t size, HclRuntimeData *ret) {
        HclRuntimeData d = {};
        json_object *o = NULL;
        int r;

        assert_return(var_data || size == 0, -EINVAL);
        assert_return(ret, -EINVAL);

        if (size > HCL_VAR_DATA_MAX)
                return -EFBIG;
        r = parse_var_data(var_data, size, &o);
        if (r < 0)
                return r;
        r = runtime_data_fill(o, &d);
        json_object_put(o);
        if (r < 0) {
                hcl_runtime_data_done(&d);
                return r;
        }
        *ret = d;
        return 0;
}
