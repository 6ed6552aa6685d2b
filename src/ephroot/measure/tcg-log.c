/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "byte-reader.h"
#include "tcg-log.h"
#include "util.h"

static const char spec_id_signature[16] = "Spec ID Event03";
static const char startup_locality_signature[16] = "StartupLocality";

typedef ByteReader Cursor;

static const uint8_t *take(Cursor *c, size_t n) {
        return byte_reader_take(c, n);
}

static int take_u32(Cursor *c, uint32_t *ret) {
        return byte_reader_le32(c, ret) < 0 ? -EBADMSG : 0;
}

static int take_u16(Cursor *c, uint16_t *ret) {
        return byte_reader_le16(c, ret) < 0 ? -EBADMSG : 0;
}

/* TCG_EfiSpecIDEventStruct: signature, platformClass, versions, uintnSize, the banks, vendor info. */
static int parse_spec_id(const uint8_t *data, uint32_t size, TcgLog *log) {
        Cursor c = { data, size };
        const uint8_t *sig = take(&c, 16), *v, *vendor_size;
        uint32_t platform_class, n;

        if (!sig || memcmp(sig, spec_id_signature, 16) != 0 || take_u32(&c, &platform_class) < 0 ||
            !(v = take(&c, 4)) || take_u32(&c, &n) < 0)
                return -EBADMSG;
        if (v[1] != 2 || (v[3] != 1 && v[3] != 2)) /* spec version 2.x, UINTN 4 or 8 bytes */
                return -EBADMSG;
        if (n == 0 || n > TCG_LOG_BANKS_MAX)
                return n == 0 ? -EBADMSG : -E2BIG;
        for (uint32_t i = 0; i < n; i++) {
                TcgBank *b = log->banks + i;
                int a;

                if (take_u16(&c, &b->tpm_alg) < 0 || take_u16(&c, &b->size) < 0 || b->size == 0 || b->size > 64)
                        return -EBADMSG;
                for (uint32_t j = 0; j < i; j++)
                        if (log->banks[j].tpm_alg == b->tpm_alg)
                                return -EBADMSG;
                a = hash_alg_from_tpm(b->tpm_alg);
                if (a >= 0 && hash_alg_size((HashAlg) a) != b->size)
                        return -EBADMSG;
                b->alg = a >= 0 ? a : -1;
        }
        vendor_size = take(&c, 1);
        if (!vendor_size || !take(&c, *vendor_size) || c.left != 0)
                return -EBADMSG;
        log->n_banks = n;
        log->crypto_agile = true;
        return 0;
}

static int add_event(TcgLog *log, const TcgEvent *e, size_t *allocated) {
        if (log->n_events >= TCG_LOG_EVENTS_MAX)
                return -E2BIG;
        if (log->n_events >= *allocated) {
                size_t want = *allocated ? *allocated * 2 : 64;
                TcgEvent *p = reallocarray(log->events, want, sizeof(TcgEvent));

                if (!p)
                        return -ENOMEM;
                log->events = p;
                *allocated = want;
        }
        log->events[log->n_events++] = *e;
        return 0;
}

static void note_startup_locality(TcgLog *log, const TcgEvent *e) {
        /* StartupLocality: the 16-byte signature, then the locality (PC Client PFP 10.4.5.3) */
        if (e->type == TCG_EV_NO_ACTION && e->pcr == 0 && e->data_size == 17 &&
            memcmp(e->data, startup_locality_signature, 16) == 0)
                log->startup_locality = e->data[16];
}

/* One TCG_PCR_EVENT (SHA-1 format): PCR, type, 20-byte digest, size, data. */
static int parse_sha1_event(Cursor *c, TcgEvent *e) {
        uint32_t size;

        *e = (TcgEvent) {};
        if (take_u32(c, &e->pcr) < 0 || take_u32(c, &e->type) < 0 || !(e->digests[0] = take(c, 20)) ||
            take_u32(c, &size) < 0 || !(e->data = take(c, size)))
                return -EBADMSG;
        e->data_size = size;
        return e->pcr < TCG_PCRS ? 0 : -EBADMSG;
}

/* One TCG_PCR_EVENT2: PCR, type, a digest for every bank of the Spec ID event in any order, size, data. */
static int parse_event2(Cursor *c, const TcgLog *log, TcgEvent *e) {
        uint32_t count, size;

        *e = (TcgEvent) {};
        if (take_u32(c, &e->pcr) < 0 || take_u32(c, &e->type) < 0 || take_u32(c, &count) < 0)
                return -EBADMSG;
        if (e->pcr >= TCG_PCRS || count != log->n_banks)
                return -EBADMSG;
        for (uint32_t i = 0; i < count; i++) {
                uint16_t alg;
                unsigned b;

                if (take_u16(c, &alg) < 0)
                        return -EBADMSG;
                for (b = 0; b < log->n_banks && log->banks[b].tpm_alg != alg; b++)
                        ;
                if (b == log->n_banks || e->digests[b] || !(e->digests[b] = take(c, log->banks[b].size)))
                        return -EBADMSG;
        }
        if (take_u32(c, &size) < 0 || !(e->data = take(c, size)))
                return -EBADMSG;
        e->data_size = size;
        return 0;
}

int tcg_log_parse(const uint8_t *p, size_t size, TcgLog *ret) {
        TcgLog log = {};
        Cursor c = { p, size };
        size_t allocated = 0;
        TcgEvent first;
        int r;

        assert_return(p && ret, -EINVAL);
        if (size > TCG_LOG_SIZE_MAX)
                return -E2BIG;

        r = parse_sha1_event(&c, &first);
        if (r < 0)
                return r;
        if (first.type == TCG_EV_NO_ACTION && first.pcr == 0 && first.data_size >= 16 &&
            memcmp(first.data, spec_id_signature, 16) == 0) {
                r = parse_spec_id(first.data, first.data_size, &log);
                if (r < 0)
                        return r;
        } else {
                /* SHA-1-only log: the first event is an ordinary one */
                log.n_banks = 1;
                log.banks[0] = (TcgBank) { .tpm_alg = 0x0004, .size = 20, .alg = HASH_SHA1 };
                r = add_event(&log, &first, &allocated);
                if (r < 0)
                        goto fail;
        }

        /* a log ends where the data ends; the kernel's file has no trailer */
        while (c.left > 0) {
                TcgEvent e;

                r = log.crypto_agile ? parse_event2(&c, &log, &e) : parse_sha1_event(&c, &e);
                if (r < 0)
                        goto fail;
                note_startup_locality(&log, &e);
                r = add_event(&log, &e, &allocated);
                if (r < 0)
                        goto fail;
        }
        *ret = log;
        return 0;
fail:
        tcg_log_done(&log);
        return r;
}

void tcg_log_done(TcgLog *log) {
        free(log->events);
        *log = (TcgLog) {};
}

int tcg_log_bank(const TcgLog *log, HashAlg alg) {
        for (unsigned b = 0; b < log->n_banks; b++)
                if (log->banks[b].alg == (int) alg)
                        return (int) b;
        return -ENOENT;
}

int tcg_log_replay(const TcgLog *log, HashAlg alg, Digest ret[TCG_PCRS]) {
        int b, r;

        assert_return(log && ret, -EINVAL);
        b = tcg_log_bank(log, alg);
        if (b < 0)
                return b;
        for (unsigned i = 0; i < TCG_PCRS; i++) {
                hash_zero(alg, ret + i);
                if (i >= 17 && i <= 22)
                        memset(ret[i].bytes, 0xff, ret[i].size);
        }
        ret[0].bytes[ret[0].size - 1] = log->startup_locality;
        for (size_t i = 0; i < log->n_events; i++) {
                const TcgEvent *e = log->events + i;
                Digest d = { .alg = alg, .size = hash_alg_size(alg) };

                if (e->type == TCG_EV_NO_ACTION)
                        continue;
                memcpy(d.bytes, e->digests[b], d.size);
                r = hash_extend(ret + e->pcr, &d);
                if (r < 0)
                        return r;
        }
        return 0;
}

const char *tcg_event_type_to_string(uint32_t type) {
        static const struct {
                uint32_t type;
                const char *name;
        } names[] = {
                { 0x00000000, "EV_PREBOOT_CERT" },
                { 0x00000001, "EV_POST_CODE" },
                { 0x00000003, "EV_NO_ACTION" },
                { 0x00000004, "EV_SEPARATOR" },
                { 0x00000005, "EV_ACTION" },
                { 0x00000006, "EV_EVENT_TAG" },
                { 0x00000007, "EV_S_CRTM_CONTENTS" },
                { 0x00000008, "EV_S_CRTM_VERSION" },
                { 0x00000009, "EV_CPU_MICROCODE" },
                { 0x0000000A, "EV_PLATFORM_CONFIG_FLAGS" },
                { 0x0000000B, "EV_TABLE_OF_DEVICES" },
                { 0x0000000C, "EV_COMPACT_HASH" },
                { 0x0000000D, "EV_IPL" },
                { 0x0000000E, "EV_IPL_PARTITION_DATA" },
                { 0x0000000F, "EV_NONHOST_CODE" },
                { 0x00000010, "EV_NONHOST_CONFIG" },
                { 0x00000011, "EV_NONHOST_INFO" },
                { 0x00000012, "EV_OMIT_BOOT_DEVICE_EVENTS" },
                { 0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG" },
                { 0x80000002, "EV_EFI_VARIABLE_BOOT" },
                { 0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION" },
                { 0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER" },
                { 0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER" },
                { 0x80000006, "EV_EFI_GPT_EVENT" },
                { 0x80000007, "EV_EFI_ACTION" },
                { 0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB" },
                { 0x80000009, "EV_EFI_HANDOFF_TABLES" },
                { 0x8000000A, "EV_EFI_PLATFORM_FIRMWARE_BLOB2" },
                { 0x8000000B, "EV_EFI_HANDOFF_TABLES2" },
                { 0x8000000C, "EV_EFI_VARIABLE_BOOT2" },
                { 0x800000E0, "EV_EFI_VARIABLE_AUTHORITY" },
                { 0x800000E1, "EV_EFI_SPDM_FIRMWARE_BLOB" },
                { 0x800000E2, "EV_EFI_SPDM_FIRMWARE_CONFIG" },
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (names[i].type == type)
                        return names[i].name;
        return NULL;
}
