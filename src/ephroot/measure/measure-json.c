/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <stdio.h>

#include "json-util.h"
#include "measure-json.h"
#include "util.h"

static json_object *digest_to_json(const Digest *d) {
        _cleanup_free_ char *hex = hexmem(d->bytes, d->size);
        _cleanup_json_ json_object *o = NULL;

        if (!hex)
                return NULL;
        o = json_object_new_object();
        if (!o || json_add_string(o, "hashAlg", hash_alg_to_string(d->alg)) < 0 || json_add_string(o, "digest", hex) < 0)
                return NULL;
        return TAKE_PTR(o);
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
        [MEASURE_EVENT_HOST_MOUNTS] = { "ephroot", "host-mounts" },
        [MEASURE_EVENT_VERITY] = { "ephroot", "verity" },
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
                r = json_append(digests, digest_to_json(e->digests + a));
                if (r < 0)
                        return r;
        }

        /* Members that do not apply to the event are left out, not null. */
        r = json_add_string(content, "eventType", record_kind[e->type].event_type);
        if (r >= 0 && e->path)
                r = json_add_string(content, "path", e->path);
        if (r >= 0 && e->path)
                r = json_add_uint(content, "size", e->size);
        if (r >= 0 && e->string)
                r = json_add_string(content, "string", e->string);
        if (r >= 0 && e->kernel_release)
                r = json_add_string(content, "kernelRelease", e->kernel_release);
        if (r >= 0 && e->kernel_build_id)
                r = json_add_string(content, "kernelBuildId", e->kernel_build_id);
        if (r >= 0 && boot_id)
                r = json_add_string(content, "bootId", boot_id);
        if (r >= 0)
                r = json_add_uint(content, "timestamp", timestamp_usec);
        if (r >= 0)
                r = json_add_int(rec, "pcr", (int64_t) e->pcr);
        if (r >= 0)
                r = json_add(rec, "digests", TAKE_PTR(digests));
        if (r >= 0)
                r = json_add_string(rec, "content_type", record_kind[e->type].content_type);
        if (r >= 0)
                r = json_add(rec, "content", TAKE_PTR(content));
        if (r < 0)
                return r;

        return json_to_string(rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, ret);
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
                        r = json_add_string(bank, key, hex);
                        if (r < 0)
                                return r;
                }
                r = json_add(pcrs, hash_alg_to_string(a), TAKE_PTR(bank));
                if (r < 0)
                        return r;
        }
        r = json_add(root, "pcrs", TAKE_PTR(pcrs));
        if (r < 0)
                return r;

        return json_to_string(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, ret);
}

int measure_json_pcrlock(const MeasureEvent *events, size_t n, char **ret) {
        _cleanup_json_ json_object *root = NULL, *records = NULL;
        int r;

        assert_return((events || n == 0) && ret, -EINVAL);

        root = json_object_new_object();
        records = json_object_new_array();
        if (!root || !records)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                _cleanup_json_ json_object *rec = json_object_new_object(), *digests = json_object_new_array();

                if (!rec || !digests)
                        return -ENOMEM;
                if (events[i].pcr >= MEASURE_PCR_COUNT || events[i].banks == 0)
                        return -EINVAL;
                FOREACH_HASH_ALG(a, events[i].banks) {
                        r = json_append(digests, digest_to_json(events[i].digests + a));
                        if (r < 0)
                                return r;
                }
                r = json_add_int(rec, "pcr", (int64_t) events[i].pcr);
                if (r >= 0)
                        r = json_add(rec, "digests", TAKE_PTR(digests));
                if (r >= 0)
                        r = json_append(records, TAKE_PTR(rec));
                if (r < 0)
                        return r;
        }
        r = json_add(root, "records", TAKE_PTR(records));
        if (r < 0)
                return r;

        return json_to_string(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, ret);
}
