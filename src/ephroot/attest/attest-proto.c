/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* RCAR 0.4.0 requests and replies, as text. No I/O. */

#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "attest-proto.h"
#include "json-util.h"
#include "jwk.h"
#include "util.h"

#define RESOURCE_COMPONENT_MAX 128U
#define SECRET_NAME_MAX 64U
#define ERROR_MESSAGE_MAX 512U

void attest_challenge_done(AttestChallenge *c) {
        if (!c)
                return;
        c->nonce = mfree(c->nonce);
        c->extra_params = mfree(c->extra_params);
}

int attest_proto_parse_json(const char *body, size_t size, json_object **ret) {
        json_tokener *tok;
        json_object *o;
        bool ok;

        assert_return(body && ret, -EINVAL);

        if (size == 0)
                return -EBADMSG;
        if (size > ATTEST_RESPONSE_MAX || size > INT32_MAX)
                return -EFBIG;
        if (memchr(body, '\0', size))
                return -EBADMSG;

        tok = json_tokener_new_ex(ATTEST_JSON_DEPTH);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        o = json_tokener_parse_ex(tok, body, (int) size);
        /* The whole text must be one value: nothing but blanks may follow. */
        ok = json_tokener_get_error(tok) == json_tokener_success;
        if (ok)
                for (size_t i = json_tokener_get_parse_end(tok); i < size; i++)
                        if (!isspace((unsigned char) body[i]))
                                ok = false;
        json_tokener_free(tok);
        if (!ok) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

static bool is_b64_char(char c) {
        return isalnum((unsigned char) c) || strchr("+/-_=", c);
}

int attest_proto_auth_request(const char *tee, const char *extra_params_json, char **ret) {
        _cleanup_json_ json_object *o = NULL, *extra = NULL;

        assert_return(tee && ret, -EINVAL);

        if (extra_params_json) {
                if (attest_proto_parse_json(extra_params_json, strlen(extra_params_json), &extra) < 0 ||
                    !json_object_is_type(extra, json_type_object))
                        return -EINVAL;
        } else if (!(extra = json_object_new_object()))
                return -ENOMEM;

        o = json_object_new_object();
        if (!o || json_add_string(o, "version", ATTEST_PROTOCOL_VERSION) < 0 || json_add_string(o, "tee", tee) < 0 ||
            json_add(o, "extra-params", TAKE_PTR(extra)) < 0)
                return -ENOMEM;
        return json_to_string(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, ret);
}

int attest_proto_parse_challenge(const char *body, size_t size, AttestChallenge *ret, const char **ret_reason) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_free_ char *nonce = NULL, *extra = NULL;
        json_object *n, *e;
        const char *s;
        size_t l;
        int r;

        assert_return(body && ret && ret_reason, -EINVAL);

        r = attest_proto_parse_json(body, size, &o);
        if (r < 0 || !json_object_is_type(o, json_type_object)) {
                *ret_reason = r == -EFBIG ? "the reply is too large" : "the reply is not a JSON object";
                return r == -EFBIG ? r : -EBADMSG;
        }
        if (!json_object_object_get_ex(o, "nonce", &n) || !json_object_is_type(n, json_type_string)) {
                *ret_reason = "the reply has no string \"nonce\"";
                return -EBADMSG;
        }
        s = json_object_get_string(n);
        l = (size_t) json_object_get_string_len(n);
        if (l == 0 || l > ATTEST_NONCE_MAX || strlen(s) != l) {
                *ret_reason = "the nonce is empty or too long";
                return -EBADMSG;
        }
        for (size_t i = 0; i < l; i++)
                if (!is_b64_char(s[i])) {
                        *ret_reason = "the nonce is not base64 text";
                        return -EBADMSG;
                }
        nonce = strdup(s);
        if (!nonce)
                return -ENOMEM;

        if (!json_object_object_get_ex(o, "extra-params", &e) || json_object_is_type(e, json_type_null))
                extra = strdup("");
        else if (json_object_is_type(e, json_type_string)) {
                if ((size_t) json_object_get_string_len(e) > ATTEST_EXTRA_PARAMS_MAX) {
                        *ret_reason = "\"extra-params\" is too long";
                        return -EBADMSG;
                }
                /* Trustee answers "" for types without a second round; a non-empty string is kept as
                 * JSON text for the provider to judge. */
                extra = strdup(json_object_get_string(e));
        } else if (json_object_is_type(e, json_type_object))
                extra = strdup(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN |
                                                                       JSON_C_TO_STRING_NOSLASHESCAPE));
        else {
                *ret_reason = "\"extra-params\" is neither a string nor an object";
                return -EBADMSG;
        }
        if (!extra)
                return -ENOMEM;

        *ret = (AttestChallenge) { .nonce = TAKE_PTR(nonce), .extra_params = TAKE_PTR(extra) };
        return 0;
}

static bool is_token_char(char c) {
        return isalnum((unsigned char) c) || strchr("._-", c);
}

int attest_proto_parse_set_cookie(const char *set_cookie, char **ret) {
        const char *v;
        size_t l;

        assert_return(ret, -EINVAL);

        if (!set_cookie)
                return -ENOENT;
        v = startswith(set_cookie, "kbs-session-id=");
        if (!v)
                return -ENOENT;
        l = strcspn(v, ";");
        if (l == 0 || l > ATTEST_SESSION_ID_MAX)
                return -EBADMSG;
        for (size_t i = 0; i < l; i++)
                if (!is_token_char(v[i]))
                        return -EBADMSG;
        return asprintf(ret, "kbs-session-id=%.*s", (int) l, v) < 0 ? -ENOMEM : 0;
}

int attest_proto_attest_request(const char *nonce, json_object *tee_pubkey, const char *evidence_json, char **ret) {
        _cleanup_json_ json_object *o = NULL, *rd = NULL, *te = NULL, *ev = NULL;
        int r;

        assert_return(nonce && tee_pubkey && evidence_json && ret, -EINVAL);

        /* The evidence can be large (an SNP report and certificates): parse with the response limit. */
        r = attest_proto_parse_json(evidence_json, strlen(evidence_json), &ev);
        if (r < 0)
                return r;

        o = json_object_new_object();
        rd = json_object_new_object();
        te = json_object_new_object();
        if (!o || !rd || !te || json_add_string(rd, "nonce", nonce) < 0 ||
            json_add(rd, "tee-pubkey", json_object_get(tee_pubkey)) < 0 ||
            json_add(te, "primary_evidence", TAKE_PTR(ev)) < 0 || json_add_string(te, "additional_evidence", "") < 0 ||
            json_add(o, "runtime-data", TAKE_PTR(rd)) < 0 || json_add(o, "tee-evidence", TAKE_PTR(te)) < 0)
                return -ENOMEM;
        return json_to_string(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, ret);
}

int attest_proto_parse_token(const char *body, size_t size, char **ret, const char **ret_reason) {
        _cleanup_json_ json_object *o = NULL;
        json_object *t;
        const char *s;
        size_t l;
        unsigned dots = 0;
        int r;

        assert_return(body && ret && ret_reason, -EINVAL);

        r = attest_proto_parse_json(body, size, &o);
        if (r < 0 || !json_object_is_type(o, json_type_object)) {
                *ret_reason = r == -EFBIG ? "the reply is too large" : "the reply is not a JSON object";
                return r == -EFBIG ? r : -EBADMSG;
        }
        if (!json_object_object_get_ex(o, "token", &t) || !json_object_is_type(t, json_type_string)) {
                *ret_reason = "the reply has no string \"token\"";
                return -EBADMSG;
        }
        s = json_object_get_string(t);
        l = (size_t) json_object_get_string_len(t);
        if (l == 0 || l > ATTEST_TOKEN_MAX || strlen(s) != l) {
                *ret_reason = "the token is empty or too long";
                return -EBADMSG;
        }
        for (size_t i = 0; i < l; i++) {
                if (s[i] == '.')
                        dots++;
                else if (!is_token_char(s[i])) {
                        *ret_reason = "the token is not a compact JWT";
                        return -EBADMSG;
                }
        }
        if (dots != 2) {
                *ret_reason = "the token is not a compact JWT";
                return -EBADMSG;
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

char *attest_proto_error_message(const char *body, size_t size) {
        _cleanup_json_ json_object *o = NULL;
        json_object *t, *d;
        const char *type, *slash, *detail = "";
        char buf[ERROR_MESSAGE_MAX];

        if (!body || attest_proto_parse_json(body, size, &o) < 0 || !json_object_is_type(o, json_type_object))
                return NULL;
        if (!json_object_object_get_ex(o, "type", &t) || !json_object_is_type(t, json_type_string))
                return NULL;
        type = json_object_get_string(t);
        slash = strrchr(type, '/');
        if (slash)
                type = slash + 1;
        if (json_object_object_get_ex(o, "detail", &d) && json_object_is_type(d, json_type_string))
                detail = json_object_get_string(d);
        (void) snprintf(buf, sizeof(buf), "%s%s%s", type, *detail ? ": " : "", detail);
        /* The server's words go to a log line: keep them printable. */
        for (char *p = buf; *p; p++)
                if (!isprint((unsigned char) *p))
                        *p = '?';
        return strdup(buf);
}

static bool component_valid(const char *p, size_t l) {
        if (l == 0 || l > RESOURCE_COMPONENT_MAX)
                return false;
        if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
                return false;
        for (size_t i = 0; i < l; i++)
                if (!isalnum((unsigned char) p[i]) && !strchr("._-", p[i]))
                        return false;
        return true;
}

bool attest_proto_resource_path_valid(const char *path) {
        const char *p = path;

        if (!path)
                return false;
        for (unsigned i = 0; i < 3; i++) {
                size_t l = strcspn(p, "/");
                if (!component_valid(p, l))
                        return false;
                p += l;
                if (i < 2) {
                        if (*p != '/')
                                return false;
                        p++;
                }
        }
        return *p == '\0';
}

bool attest_proto_secret_name_valid(const char *name) {
        size_t l;

        if (!name || name[0] == '.')
                return false;
        l = strlen(name);
        return l <= SECRET_NAME_MAX && component_valid(name, l);
}
