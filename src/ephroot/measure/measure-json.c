/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <json-c/json.h>
#include <stdio.h>

#include "measure-json.h"
#include "util.h"

static void json_object_putp(json_object **p) {
        if (*p)
                (void) json_object_put(*p);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* json_object_object_add() takes ownership of the value on success. */
static int add(json_object *o, const char *key, json_object *v) {
        if (!v)
                return -ENOMEM;
        return json_object_object_add(o, key, v) < 0 ? -ENOMEM : 0;
}

static int add_string(json_object *o, const char *key, const char *s) {
        return s ? add(o, key, json_object_new_string(s)) : 0;
}

static json_object *digest_to_json(const Digest *d) {
        _cleanup_free_ char *hex = hexmem(d->bytes, d->size);
        _cleanup_json_ json_object *o = NULL;

        if (!hex)
                return NULL;
        o = json_object_new_object();
        if (!o || add_string(o, "hashAlg", hash_alg_to_string(d->alg)) < 0 || add_string(o, "digest", hex) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static int to_string(json_object *o, char **ret) {
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        char *copy;

        if (!s)
                return -ENOMEM;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

/* How each event presents itself in the log. Events that systemd also makes (a volume key, a boot
 * phase) use systemd's content type and event type, so systemd-pcrlock and other readers of
 * systemd's log understand them; ephroot's own use "ephroot" and the event type's name. */
static const struct {
        const char *content_type;
        const char *event_type;
} record_kind[_MEASURE_EVENT_TYPE_MAX] = {
        [MEASURE_EVENT_KERNEL] = { "ephroot", "kernel" },
        [MEASURE_EVENT_INITRD] = { "ephroot", "initrd" },
        [MEASURE_EVENT_CMDLINE] = { "ephroot", "cmdline" },
        [MEASURE_EVENT_DISK] = { "ephroot", "disk" },
        [MEASURE_EVENT_VOLUME_KEY] = { "systemd", "volume-key" },
        [MEASURE_EVENT_LEAVE_INITRD] = { "systemd", "phase" },
        [MEASURE_EVENT_FAILURE] = { "ephroot", "failure" },
};

int measure_json_record(const MeasureEvent *e, const char *boot_id, uint64_t timestamp_usec, char **ret) {
        _cleanup_json_ json_object *rec = NULL, *digests = NULL, *content = NULL;
        int r;

        assert_return(e && ret, -EINVAL);
        assert_return(e->type < _MEASURE_EVENT_TYPE_MAX, -EINVAL);

        rec = json_object_new_object();
        digests = json_object_new_array();
        content = json_object_new_object();
        if (!rec || !digests || !content)
                return -ENOMEM;

        FOREACH_HASH_ALG(a, e->banks) {
                json_object *d = digest_to_json(e->digests + a);
                if (!d || json_object_array_add(digests, d) < 0) {
                        json_object_putp(&d);
                        return -ENOMEM;
                }
        }

        r = add_string(content, "eventType", record_kind[e->type].event_type);
        if (r >= 0 && e->path)
                r = add_string(content, "path", e->path);
        if (r >= 0 && e->path)
                r = add(content, "size", json_object_new_uint64(e->size));
        if (r >= 0)
                r = add_string(content, "string", e->string);
        if (r >= 0)
                r = add_string(content, "kernelRelease", e->kernel_release);
        if (r >= 0)
                r = add_string(content, "kernelBuildId", e->kernel_build_id);
        if (r >= 0)
                r = add_string(content, "bootId", boot_id);
        if (r >= 0)
                r = add(content, "timestamp", json_object_new_uint64(timestamp_usec));
        if (r >= 0)
                r = add(rec, "pcr", json_object_new_int((int) e->pcr));
        if (r >= 0)
                r = add(rec, "digests", TAKE_PTR(digests));
        if (r >= 0)
                r = add_string(rec, "content_type", record_kind[e->type].content_type);
        if (r >= 0)
                r = add(rec, "content", TAKE_PTR(content));
        if (r < 0)
                return r;

        return to_string(rec, ret);
}

int measure_json_pcr_values(const PcrValues *v, char **ret) {
        _cleanup_json_ json_object *root = NULL, *pcrs = NULL;
        int r;

        assert_return(v && ret, -EINVAL);

        root = json_object_new_object();
        pcrs = json_object_new_object();
        if (!root || !pcrs)
                return -ENOMEM;

        FOREACH_HASH_ALG(a, v->banks) {
                _cleanup_json_ json_object *bank = json_object_new_object();

                if (!bank)
                        return -ENOMEM;
                for (unsigned p = 0; p < MEASURE_PCR_COUNT; p++) {
                        _cleanup_free_ char *hex = NULL;
                        char key[8];

                        if (!(v->pcr_mask & (1U << p)))
                                continue;
                        hex = hexmem(v->values[p][a].bytes, v->values[p][a].size);
                        if (!hex)
                                return -ENOMEM;
                        (void) snprintf(key, sizeof(key), "%u", p);
                        r = add_string(bank, key, hex);
                        if (r < 0)
                                return r;
                }
                r = add(pcrs, hash_alg_to_string(a), TAKE_PTR(bank));
                if (r < 0)
                        return r;
        }
        r = add(root, "pcrs", TAKE_PTR(pcrs));
        if (r < 0)
                return r;

        return to_string(root, ret);
}
