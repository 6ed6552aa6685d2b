/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "json-util.h"
#include "kbs-protocol.h"

int kbs_parse_auth(const char *body, size_t size, KbsTee *ret_tee, json_object **ret_extra, const char **ret_detail) {
        static const char *const keys[] = { "version", "tee", "extra-params", NULL };
        _cleanup_json_ json_object *o = NULL;
        const char *version, *tee;
        int t;

        if (json_parse_strict(body, size, KBS_JSON_DEPTH, &o) < 0 || !json_object_is_type(o, json_type_object)) {
                *ret_detail = "request body is not a JSON object";
                return -EBADMSG;
        }
        if (json_check_keys(o, keys, NULL) < 0) {
                *ret_detail = "request has an unknown member";
                return -EBADMSG;
        }
        version = json_get_string(o, "version");
        if (!version) {
                *ret_detail = "request has no version";
                return -EBADMSG;
        }
        if (!streq(version, KBS_PROTOCOL_VERSION)) {
                *ret_detail = "protocol version is not supported (this server speaks 0.4.0)";
                return -EPROTONOSUPPORT;
        }
        tee = json_get_string(o, "tee");
        if (!tee) {
                *ret_detail = "request has no tee";
                return -EBADMSG;
        }
        t = kbs_tee_from_string(tee);
        if (t < 0) {
                *ret_detail = "tee is unknown";
                return -EOPNOTSUPP;
        }
        if (t >= _KBS_TEE_SUPPORTED) {
                *ret_detail = "tee is not supported by this server";
                return -EOPNOTSUPP;
        }
        *ret_tee = (KbsTee) t;
        if (ret_extra) {
                json_object *e = NULL;
                (void) json_object_object_get_ex(o, "extra-params", &e);
                *ret_extra = json_object_get(e);
        }
        return 0;
}

void kbs_attest_request_done(KbsAttestRequest *r) {
        json_object_put(r->root);
        json_object_put(r->evidence_owned);
        *r = (KbsAttestRequest) {};
}

int kbs_parse_attest(const char *body, size_t size, KbsAttestRequest *ret, const char **ret_detail) {
        static const char *const keys[] = { "runtime-data", "tee-evidence", "init-data", NULL };
        static const char *const rd_keys[] = { "nonce", "tee-pubkey", NULL };
        static const char *const ev_keys[] = { "primary_evidence", "additional_evidence", NULL };
        _cleanup_(kbs_attest_request_done) KbsAttestRequest a = {};
        json_object *rd, *ev, *pe, *ae, *id;

        if (json_parse_strict(body, size, KBS_JSON_DEPTH, &a.root) < 0 || !json_object_is_type(a.root, json_type_object)) {
                *ret_detail = "request body is not a JSON object";
                return -EBADMSG;
        }
        if (json_check_keys(a.root, keys, NULL) < 0) {
                *ret_detail = "request has an unknown member";
                return -EBADMSG;
        }
        if (!json_object_object_get_ex(a.root, "runtime-data", &rd) || json_check_keys(rd, rd_keys, NULL) < 0) {
                *ret_detail = "runtime-data is missing or has unknown members";
                return -EBADMSG;
        }
        a.nonce = json_get_string(rd, "nonce");
        if (!a.nonce) {
                *ret_detail = "runtime-data has no nonce";
                return -EBADMSG;
        }
        if (!json_object_object_get_ex(rd, "tee-pubkey", &a.tee_pubkey) ||
            !json_object_is_type(a.tee_pubkey, json_type_object)) {
                *ret_detail = "runtime-data has no tee-pubkey";
                return -EBADMSG;
        }
        if (!json_object_object_get_ex(a.root, "tee-evidence", &ev) || json_check_keys(ev, ev_keys, NULL) < 0 ||
            !json_object_object_get_ex(ev, "primary_evidence", &pe)) {
                *ret_detail = "tee-evidence is missing or is not {primary_evidence, additional_evidence}";
                return -EBADMSG;
        }
        if (json_object_is_type(pe, json_type_string)) {
                /* the evidence may come as a JSON document in a string */
                if (json_parse_strict(json_object_get_string(pe), (size_t) json_object_get_string_len(pe), KBS_JSON_DEPTH,
                                   &a.evidence_owned) < 0) {
                        *ret_detail = "primary_evidence is a string but not JSON";
                        return -EBADMSG;
                }
                a.evidence = a.evidence_owned;
        } else
                a.evidence = pe;
        if (!json_object_is_type(a.evidence, json_type_object)) {
                *ret_detail = "primary_evidence is not a JSON object";
                return -EBADMSG;
        }
        a.additional_evidence = "";
        if (json_object_object_get_ex(ev, "additional_evidence", &ae)) {
                if (!json_object_is_type(ae, json_type_string)) {
                        *ret_detail = "additional_evidence is not a string";
                        return -EBADMSG;
                }
                a.additional_evidence = json_object_get_string(ae);
        }
        if (a.additional_evidence[0] != '\0') {
                *ret_detail = "additional_evidence is not empty: this broker verifies no additional evidence and refuses it";
                return -EBADMSG;
        }
        if (json_object_object_get_ex(a.root, "init-data", &id) && !json_object_is_type(id, json_type_null)) {
                static const char *const id_keys[] = { "format", "body", NULL };
                const char *body_s;

                if (!json_object_is_type(id, json_type_object) || json_check_keys(id, id_keys, NULL) < 0 ||
                    !streq_ptr(json_get_string(id, "format"), "toml")) {
                        *ret_detail = "init-data is not {\"format\":\"toml\",\"body\":...} (Trustee takes only toml)";
                        return -EBADMSG;
                }
                body_s = json_get_string(id, "body");
                if (!body_s || kbs_init_data_digest(body_s, strlen(body_s), &a.init_data_digest) < 0) {
                        *ret_detail = "init-data body has no top-level algorithm = \"sha256\", \"sha384\" or \"sha512\"";
                        return -EBADMSG;
                }
                a.have_init_data = true;
        }

        *ret = a;
        a = (KbsAttestRequest) {};
        return 0;
}

int kbs_init_data_digest(const char *toml, size_t size, Digest *ret) {
        static const struct {
                const char *name;
                HashAlg alg;
        } algs[] = { { "sha256", HASH_SHA256 }, { "sha384", HASH_SHA384 }, { "sha512", HASH_SHA512 } };
        const char *p = toml, *end = toml + size;

        assert_return(toml && ret, -EINVAL);
        if (memchr(toml, '\0', size))
                return -EBADMSG;
        /* line by line until the first table header: `algorithm = "…"` (or '…'), spaces around */
        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                size_t n = (eol ? (size_t) (eol - p) : (size_t) (end - p)), skip = 0;
                char line[64], value[16];
                int m = 0;

                while (skip < n && (p[skip] == ' ' || p[skip] == '\t'))
                        skip++;
                if (skip < n && p[skip] == '[')
                        break;
                if (n < sizeof(line)) {
                        memcpy(line, p, n);
                        line[n] = '\0';
                }
                if (n < sizeof(line) && sscanf(line + skip, "algorithm = \"%15[a-z0-9]\" %n", value, &m) == 1 && m > 0 &&
                    skip + (size_t) m == n) {
                        for (size_t i = 0; i < ELEMENTSOF(algs); i++)
                                if (streq(value, algs[i].name))
                                        return hash_buffer(algs[i].alg, toml, size, ret) < 0 ? -EIO : 0;
                        return -EBADMSG;
                }
                p += n + 1;
        }
        return -EBADMSG;
}

static int component(const char **p, char *out, bool last) {
        size_t n = 0;

        while (**p && **p != '/') {
                char c = **p;
                if (n >= KBS_RESOURCE_COMPONENT_MAX ||
                    !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", c))
                        return -EINVAL;
                out[n++] = c;
                (*p)++;
        }
        out[n] = '\0';
        if (n == 0 || streq(out, ".") || streq(out, ".."))
                return -EINVAL;
        if (last)
                return **p == '\0' ? 0 : -EINVAL;
        if (**p != '/')
                return -EINVAL;
        (*p)++;
        return 0;
}

int kbs_parse_resource_path(const char *url, char *repo, char *type, char *tag) {
        const char *p;

        assert_return(url && repo && type && tag, -EINVAL);
        p = startswith(url, "/kbs/v0/resource/");
        if (!p)
                return -EINVAL;
        if (component(&p, repo, false) < 0 || component(&p, type, false) < 0 || component(&p, tag, true) < 0)
                return -EINVAL;
        return 0;
}

char *kbs_error_body(const char *type, const char *detail) {
        _cleanup_json_ json_object *o = json_object_new_object();
        char t[128], *s = NULL;

        if (!o)
                return NULL;
        (void) snprintf(t, sizeof(t), "https://github.com/confidential-containers/kbs/errors/%s", type);
        if (json_add_string(o, "type", t) < 0 || json_add_string(o, "detail", detail) < 0 ||
            json_to_string(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &s) < 0)
                return NULL;
        return s;
}
