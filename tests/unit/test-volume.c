/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The volume's pure parts: Secret (size cap, wipe on free, seen through a wrapped free()), HKDF and
 * HMAC against the RFC vectors, the key derivation with the TPM and the kernel replaced by fixed
 * bytes (-Wl,--wrap=tpm2_get_random,--wrap=getrandom), the disk event string, the keyed event, the
 * new log records, the sector size rule and the volume configuration keys. Expected values come
 * from the RFCs or from Python's hmac module, never from this code. */

#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <sys/sysmacros.h>
#include <json-c/json.h>
#include <sys/random.h>

#include "config.h"
#include "hash.h"
#include "keygen.h"
#include "luks.h"
#include "measure-json.h"
#include "measure.h"
#include "secret.h"
#include "util.h"

/* --- wrapped functions ------------------------------------------------------------------------ */

void __real_free(void *p);
void __wrap_free(void *p);
int __wrap_tpm2_get_random(Tpm2Context *c, void *buf, size_t n);
ssize_t __wrap_getrandom(void *buf, size_t n, unsigned flags);

/* free(): when the pointer is the Secret under watch, check it was wiped before it is released. */
static const void *watched;
static size_t watched_size;
static bool watched_wiped;

void __wrap_free(void *p) {
        if (p && p == watched) {
                const uint8_t *b = p;
                watched_wiped = true;
                for (size_t i = 0; i < watched_size; i++)
                        if (b[i] != 0)
                                watched_wiped = false;
                watched = NULL;
        }
        __real_free(p);
}

static int tpm_result;
static unsigned tpm_calls, getrandom_calls;
static uint8_t getrandom_first; /* first byte value handed out by the fake getrandom */

int __wrap_tpm2_get_random(Tpm2Context *c, void *buf, size_t n) {
        tpm_calls++;
        if (tpm_result < 0)
                return tpm_result;
        for (size_t i = 0; i < n; i++)
                ((uint8_t *) buf)[i] = (uint8_t) i; /* 0x00..0x3f */
        return 0;
}

ssize_t __wrap_getrandom(void *buf, size_t n, unsigned flags) {
        /* Short reads and EINTR first, as the kernel may give them: keygen must loop. */
        static size_t given;
        size_t k = n > 7 ? 7 : n;

        getrandom_calls++;
        assert_int_equal(flags, 0); /* blocking, never GRND_NONBLOCK */
        if (getrandom_calls % 3 == 1) {
                errno = EINTR;
                return -1;
        }
        for (size_t i = 0; i < k; i++)
                ((uint8_t *) buf)[i] = (uint8_t) (getrandom_first + given + i);
        given += k;
        if (given >= KEYGEN_INPUT_SIZE)
                given = 0;
        return (ssize_t) k;
}

/* --- helpers ---------------------------------------------------------------------------------- */

static void assert_hex(const void *p, size_t n, const char *hex) {
        char *h = hexmem(p, n);
        assert_non_null(h);
        assert_string_equal(h, hex);
        __real_free(h);
}

static void fill_range(uint8_t *b, size_t n, uint8_t first) {
        for (size_t i = 0; i < n; i++)
                b[i] = (uint8_t) (first + i);
}

/* --- Secret ----------------------------------------------------------------------------------- */

static void test_secret(void **state) {
        Secret *s = NULL;

        assert_int_equal(secret_new(0, &s), -EINVAL);
        assert_int_equal(secret_new(SECRET_SIZE_MAX + 1, &s), -EINVAL);
        assert_null(s);
        assert_null(secret_free(NULL));

        assert_int_equal(secret_new(SECRET_SIZE_MAX, &s), 0);
        assert_int_equal(s->size, SECRET_SIZE_MAX);
        for (size_t i = 0; i < s->size; i++)
                assert_int_equal(s->data[i], 0);
        s = secret_free(s);

        assert_int_equal(secret_new(64, &s), 0);
        memset(s->data, 0xA5, s->size);
        watched = s;
        watched_size = sizeof(Secret) + 64;
        watched_wiped = false;
        assert_null(secret_free(s));
        assert_null(watched);          /* free() saw it */
        assert_true(watched_wiped);    /* and every byte, header included, was zero by then */
        (void) state;
}

/* --- HKDF (RFC 5869 appendix A, cases 1-3) and HMAC (RFC 4231 case 2) ------------------------- */

static void test_hkdf_rfc5869(void **state) {
        uint8_t ikm[80], salt[80], info[80], okm[82];

        memset(ikm, 0x0b, 22);
        fill_range(salt, 13, 0x00);
        fill_range(info, 10, 0xf0);
        assert_int_equal(hkdf_sha256(ikm, 22, salt, 13, info, 10, okm, 42), 0);
        assert_hex(okm, 42, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");

        fill_range(ikm, 80, 0x00);
        fill_range(salt, 80, 0x60);
        fill_range(info, 80, 0xb0);
        assert_int_equal(hkdf_sha256(ikm, 80, salt, 80, info, 80, okm, 82), 0);
        assert_hex(okm, 82,
                   "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da"
                   "3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87");

        /* Case 3: no salt, no info: the form keygen uses (no salt). */
        memset(ikm, 0x0b, 22);
        assert_int_equal(hkdf_sha256(ikm, 22, NULL, 0, NULL, 0, okm, 42), 0);
        assert_hex(okm, 42, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");

        assert_int_equal(hkdf_sha256(ikm, 22, NULL, 0, NULL, 0, okm, 0), -EINVAL);
        assert_int_equal(hkdf_sha256(NULL, 0, NULL, 0, NULL, 0, okm, 42), -EINVAL);
        (void) state;
}

static void test_hmac(void **state) {
        Digest d;

        assert_int_equal(hash_hmac(HASH_SHA256, "Jefe", 4, "what do ya want for nothing?", 28, &d), 0);
        assert_int_equal(d.size, 32);
        assert_hex(d.bytes, d.size, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        assert_int_equal(hash_hmac(HASH_SHA256, NULL, 0, "x", 1, &d), -EINVAL);
        (void) state;
}

/* --- key derivation --------------------------------------------------------------------------- */

static void test_keygen(void **state) {
        Secret *key = NULL;

        /* TPM bytes 0x00..0x3f then kernel bytes 0x40..0x7f; Python:
         * hkdf(bytes(range(128)), salt=None, info=b"ephroot volume key v1", L=64) */
        tpm_result = 0;
        tpm_calls = getrandom_calls = 0;
        getrandom_first = 0x40;
        assert_int_equal(keygen_volume_key((Tpm2Context *) 0x1, &key), 0);
        assert_int_equal(tpm_calls, 1);
        assert_true(getrandom_calls > 10); /* looped over EINTR and short reads */
        assert_int_equal(key->size, KEYGEN_KEY_SIZE);
        assert_hex(key->data, key->size,
                   "d2a42c62aeb8c363a335500a4b7b7a0aafffac7d42f1fa5ce387bb2329550427"
                   "766a0fd19127f09578ab14980d112c0b27b181d9782f241c09c2d43985b84db8");
        key = secret_free(key);

        /* No TPM (tpm=none): the kernel's 64 bytes alone. */
        tpm_calls = 0;
        assert_int_equal(keygen_volume_key(NULL, &key), 0);
        assert_int_equal(tpm_calls, 0);
        assert_hex(key->data, key->size,
                   "4bee595f13b229e56e404c1d59e76535f51e14a0859232069a3bd55159efce23"
                   "c6e088a41fc2921c6370105b7082ec04e80217a67a3298d4c70e7438b5a213d9");
        key = secret_free(key);

        /* A TPM that fails means no key. */
        tpm_result = -EIO;
        assert_int_equal(keygen_volume_key((Tpm2Context *) 0x1, &key), -EIO);
        assert_null(key);
        tpm_result = 0;
        (void) state;
}

/* --- the disk event --------------------------------------------------------------------------- */

static void test_disk_string(void **state) {
        MeasureDisk d = {
                .identity = "vmbus:f8b3781a-1e82-4818-a1c3-63d806ec15bb:lun1:size=75161927680",
                .role = "resource",
                .classification = "fresh-azure-resource",
                .uuid = "0b1c2d3e-0000-4000-8000-000000000001",
                .cipher = "aes-xts-plain64",
                .key_bits = 512,
                .sector_size = 4096,
                .integrity = "none",
                .flags = "allow-discards,no-read-workqueue,no-write-workqueue",
                .forced = false,
        };
        char *s = NULL;

        assert_int_equal(measure_disk_string(&d, &s), 0);
        assert_string_equal(s, "ephroot-disk:v1 identity=vmbus:f8b3781a-1e82-4818-a1c3-63d806ec15bb:lun1:size%3D75161927680"
                               " role=resource class=fresh-azure-resource uuid=0b1c2d3e-0000-4000-8000-000000000001"
                               " cipher=aes-xts-plain64 key-bits=512 sector-size=4096 integrity=none"
                               " flags=allow-discards,no-read-workqueue,no-write-workqueue forced=no");
        __real_free(s);

        /* Every field moves the string; odd values are escaped so no field can fake another. */
        d = (MeasureDisk) {
                .identity = "nvme:S N=1%x\x01\xc3\xa9:ns1",
                .role = "-",
                .classification = NULL,
                .uuid = "",
                .cipher = "cipher_null-ecb",
                .key_bits = 0,
                .sector_size = 512,
                .integrity = "hmac-sha256",
                .flags = "none",
                .forced = true,
        };
        assert_int_equal(measure_disk_string(&d, &s), 0);
        assert_string_equal(s, "ephroot-disk:v1 identity=nvme:S%20N%3D1%25x%01%C3%A9:ns1 role=%2D class=- uuid="
                               " cipher=cipher_null-ecb key-bits=0 sector-size=512 integrity=hmac-sha256 flags=none"
                               " forced=yes");
        __real_free(s);

        /* An identity that tries to smuggle in a field stays one field. */
        d.identity = "x forced=no";
        assert_int_equal(measure_disk_string(&d, &s), 0);
        assert_non_null(strstr(s, "identity=x%20forced%3Dno "));
        assert_non_null(strstr(s, " forced=yes"));
        assert_null(strstr(s, " forced=no"));
        __real_free(s);
        (void) state;
}

/* --- events and their records ----------------------------------------------------------------- */

static json_object *record(const MeasureEvent *e) {
        char *json = NULL;
        json_object *o;

        assert_int_equal(measure_json_record(e, "556139f4ac8f4d7183d723ef99d349bf", 1, &json), 0);
        o = json_tokener_parse(json);
        assert_non_null(o);
        __real_free(json);
        return o;
}

static const char *get_str(json_object *o, const char *k1, const char *k2) {
        json_object *v = NULL;
        assert_true(json_object_object_get_ex(o, k1, &v));
        if (k2)
                assert_true(json_object_object_get_ex(v, k2, &v));
        return json_object_get_string(v);
}

static void test_events(void **state) {
        const char *vk = "cryptsetup:ephroot:0b1c2d3e-0000-4000-8000-000000000001";
        unsigned banks = HASH_BIT(HASH_SHA1) | HASH_BIT(HASH_SHA256) | HASH_BIT(HASH_SHA384);
        MeasureEvent e = {};
        Secret *key = NULL;
        char *keyhex, *json = NULL;
        Digest d;
        json_object *o;

        assert_int_equal(secret_new(64, &key), 0);
        fill_range(key->data, 64, 0);
        keyhex = hexmem(key->data, 64);

        /* systemd's volume-key event: HMAC_<bank>(key, string), values from Python's hmac module. */
        assert_int_equal(measure_event_build_hmac(MEASURE_EVENT_VOLUME_KEY, 15, banks, vk, key, &e), 0);
        assert_hex(e.digests[HASH_SHA1].bytes, 20, "ca6819fa28f95c16d9fdcb2e294f712547cc76b0");
        assert_hex(e.digests[HASH_SHA256].bytes, 32, "8936824cc0e87c01afbba5aea98edf4bbdb5a379527f44f52a137d08f8346a24");
        assert_hex(e.digests[HASH_SHA384].bytes, 48,
                   "37f8c9e1e2510912f66f8d7472c0352812792784147638ee1a277205dca3f1177ec79f4f6ca6dcd6309abdc4dd3b2660");
        assert_int_equal(measure_json_record(&e, NULL, 1, &json), 0);
        assert_null(strstr(json, keyhex)); /* the key is not in the record */
        __real_free(json);
        o = record(&e);
        assert_string_equal(get_str(o, "content_type", NULL), "systemd");
        assert_string_equal(get_str(o, "content", "eventType"), "volume-key");
        assert_string_equal(get_str(o, "content", "string"), vk);
        json_object_put(o);
        measure_event_done(&e);

        /* String events: H(string) per bank. */
        assert_int_equal(measure_event_build_string(MEASURE_EVENT_DISK, 15, banks, "abc", &e), 0);
        assert_int_equal(hash_buffer(HASH_SHA256, "abc", 3, &d), 0);
        assert_memory_equal(e.digests[HASH_SHA256].bytes, d.bytes, 32);
        o = record(&e);
        assert_string_equal(get_str(o, "content_type", NULL), "ephroot");
        assert_string_equal(get_str(o, "content", "eventType"), "disk");
        assert_string_equal(get_str(o, "content", "string"), "abc");
        json_object_put(o);
        measure_event_done(&e);

        assert_int_equal(measure_event_build_string(MEASURE_EVENT_LEAVE_INITRD, 11, banks, "leave-initrd", &e), 0);
        o = record(&e);
        assert_string_equal(get_str(o, "content_type", NULL), "systemd");
        assert_string_equal(get_str(o, "content", "eventType"), "phase");
        json_object_put(o);
        measure_event_done(&e);

        assert_int_equal(measure_event_build_string(MEASURE_EVENT_FAILURE, 15, banks, "failure:luks", &e), 0);
        o = record(&e);
        assert_string_equal(get_str(o, "content_type", NULL), "ephroot");
        assert_string_equal(get_str(o, "content", "eventType"), "failure");
        json_object_put(o);
        measure_event_done(&e);

        assert_string_equal(measure_event_type_to_string(MEASURE_EVENT_DISK), "disk");
        assert_string_equal(measure_event_type_to_string(MEASURE_EVENT_VOLUME_KEY), "volume-key");
        assert_string_equal(measure_event_type_to_string(MEASURE_EVENT_LEAVE_INITRD), "leave-initrd");
        assert_string_equal(measure_event_type_to_string(MEASURE_EVENT_FAILURE), "failure");

        /* Bad input. */
        assert_int_equal(measure_event_build_string(MEASURE_EVENT_DISK, 24, banks, "x", &e), -EINVAL);
        assert_int_equal(measure_event_build_string(MEASURE_EVENT_DISK, 15, 0, "x", &e), -EINVAL);
        assert_int_equal(measure_event_build_hmac(MEASURE_EVENT_VOLUME_KEY, 15, banks, vk, NULL, &e), -EINVAL);

        __real_free(keyhex);
        secret_free(key);
        (void) state;
}

static void test_volume_events(void **state) {
        LuksVolume v = {
                .device = (char *) "/dev/sdb",
                .uuid = (char *) "0b1c2d3e-0000-4000-8000-000000000001",
                .cipher = (char *) "aes-xts-plain64",
                .key_bits = 512,
                .sector_size = 4096,
                .integrity = LUKS_INTEGRITY_NONE,
                .activate_flags = 0,
        };
        MeasureEvent e[2];
        Secret *key = NULL;
        Digest d;

        assert_int_equal(secret_new(64, &key), 0);
        fill_range(key->data, 64, 0);
        assert_int_equal(measure_volume_events_build(&(MeasureDisk) { .identity = NULL, .role = "image",
                                                                      .classification = "blank",
                                                                      .cipher = "ignored" },
                                                     &v, "ephroot", key, 15, HASH_BIT(HASH_SHA256), e),
                         0);
        assert_int_equal(e[0].type, MEASURE_EVENT_DISK);
        assert_int_equal(e[0].pcr, 15);
        assert_string_equal(e[0].string, "ephroot-disk:v1 identity=- role=image class=blank"
                                         " uuid=0b1c2d3e-0000-4000-8000-000000000001 cipher=aes-xts-plain64 key-bits=512"
                                         " sector-size=4096 integrity=none flags=none forced=no");
        assert_int_equal(hash_buffer(HASH_SHA256, e[0].string, strlen(e[0].string), &d), 0);
        assert_memory_equal(e[0].digests[HASH_SHA256].bytes, d.bytes, 32);
        assert_int_equal(e[1].type, MEASURE_EVENT_VOLUME_KEY);
        assert_string_equal(e[1].string, "cryptsetup:ephroot:0b1c2d3e-0000-4000-8000-000000000001");
        assert_hex(e[1].digests[HASH_SHA256].bytes, 32, "8936824cc0e87c01afbba5aea98edf4bbdb5a379527f44f52a137d08f8346a24");
        measure_event_done(e + 0);
        measure_event_done(e + 1);

        /* With integrity, the key is the whole volume key libcryptsetup holds, 96 bytes: the 64-byte key and
         * HKDF-SHA256(key, info "ephroot integrity key v1", 32) after it, as systemd-cryptsetup keys the
         * HMAC with the key it activated (src/cryptsetup/cryptsetup.c, measure_volume_key()). Expected:
         * Python's hmac over key + hkdf(key, salt=None, info, 32). */
        v.integrity = LUKS_INTEGRITY_HMAC_SHA256;
        assert_int_equal(measure_volume_events_build(&(MeasureDisk) { .role = "image", .classification = "blank" },
                                                     &v, "ephroot", key, 15, HASH_BIT(HASH_SHA256), e),
                         0);
        assert_string_equal(e[1].string, "cryptsetup:ephroot:0b1c2d3e-0000-4000-8000-000000000001");
        assert_hex(e[1].digests[HASH_SHA256].bytes, 32, "fcb4463a24644bd291c29b39401c27b8cc0aa1e6cc4798b8090323e0705718e6");
        measure_event_done(e + 0);
        measure_event_done(e + 1);
        v.integrity = LUKS_INTEGRITY_NONE;

        /* A mapping name with bytes systemd escapes: the string and the HMAC as systemd makes them. */
        assert_int_equal(measure_volume_events_build(&(MeasureDisk) {}, &v, "a:b\\c\x01 \x7f\xc3\xa9", key, 15,
                                                     HASH_BIT(HASH_SHA256), e),
                         0);
        assert_string_equal(e[1].string, "cryptsetup:a\\x3ab\\x5cc\\x01 \\x7f\\xc3\\xa9:0b1c2d3e-0000-4000-8000-000000000001");
        assert_hex(e[1].digests[HASH_SHA256].bytes, 32, "d6e76432bdc7cc1d43324c650f975971943bcb03c6fc604fa3e3cf347541954d");
        measure_event_done(e + 0);
        measure_event_done(e + 1);

        /* no place for the events: refused (the check is live code, not assumed away by ret[static 2]) */
        assert_int_equal(measure_volume_events_build(&(MeasureDisk) {}, &v, "ephroot", key, 15, HASH_BIT(HASH_SHA256), NULL),
                         -EINVAL);
        v.uuid = NULL;
        assert_int_equal(measure_volume_events_build(&(MeasureDisk) {}, &v, "ephroot", key, 15, HASH_BIT(HASH_SHA256), e),
                         -EINVAL);
        secret_free(key);
        (void) state;
}

/* systemd's cryptsetup_get_volume_key_prefix() (src/shared/cryptsetup-util.c, commit
 * 00923bf3000b17874b27a1557a6a03e66d99fe13) joins "cryptsetup:", xescape(name, ":") and the UUID;
 * xescape (src/basic/escape.c) writes bytes < 0x20, >= 0x7f, '\\' and the bad ':' as \xHH, lower-case. */
static void test_volume_key_string(void **state) {
        char *s = NULL;

        assert_int_equal(measure_volume_key_string("ephroot", "u-1", &s), 0);
        assert_string_equal(s, "cryptsetup:ephroot:u-1");
        free(s);
        assert_int_equal(measure_volume_key_string("luks-root_1.x", "u", &s), 0);
        assert_string_equal(s, "cryptsetup:luks-root_1.x:u");
        free(s);
        assert_int_equal(measure_volume_key_string(":", "u", &s), 0);
        assert_string_equal(s, "cryptsetup:\\x3a:u");
        free(s);
        assert_int_equal(measure_volume_key_string("\\\t\x1f~\x7f\x80\xff", "u", &s), 0);
        assert_string_equal(s, "cryptsetup:\\x5c\\x09\\x1f~\\x7f\\x80\\xff:u");
        free(s);
        assert_int_equal(measure_volume_key_string("", "u", &s), 0);
        assert_string_equal(s, "cryptsetup::u");
        free(s);
        assert_int_equal(measure_volume_key_string(NULL, "u", &s), -EINVAL);
        (void) state;
}

/* The volume key libcryptsetup gets: the key alone without integrity, key + 32-byte HKDF key with it. */
static void test_luks_volume_key(void **state) {
        Secret *key = NULL, *vk = NULL;

        assert_int_equal(secret_new(64, &key), 0);
        fill_range(key->data, 64, 0);
        assert_int_equal(luks_volume_key(key, LUKS_INTEGRITY_NONE, &vk), 0);
        assert_int_equal(vk->size, 64);
        assert_memory_equal(vk->data, key->data, 64);
        secret_free(vk);
        assert_int_equal(luks_volume_key(key, LUKS_INTEGRITY_HMAC_SHA256, &vk), 0);
        assert_int_equal(vk->size, 96);
        assert_memory_equal(vk->data, key->data, 64);
        /* Python: hkdf(bytes(range(64)), salt=None, info=b"ephroot integrity key v1", L=32) */
        assert_hex(vk->data + 64, 32, "5334ba63e0353d2078eb0169940aa0cb4b2fabef59a69fef1759dd01f6a3aeba");
        secret_free(vk);
        secret_free(key);
        (void) state;
}

/* --- LUKS helpers ----------------------------------------------------------------------------- */

static void test_sector_size(void **state) {
        const uint64_t M = 1024 * 1024;
        const char *why;
        unsigned s;

        assert_int_equal(luks_pick_sector_size(0, 512, 64 * M, M, &s, &why), 0);
        assert_int_equal(s, 4096);
        assert_int_equal(luks_pick_sector_size(0, 4096, 64 * M, M, &s, &why), 0);
        assert_int_equal(s, 4096);
        assert_int_equal(luks_pick_sector_size(0, 512, 64 * M + 512, M, &s, &why), 0); /* not aligned */
        assert_int_equal(s, 512);
        assert_non_null(strstr(why, "multiple of 4096"));
        assert_int_equal(luks_pick_sector_size(0, 512, 64 * M, M + 512, &s, &why), 0);
        assert_int_equal(s, 512);
        assert_int_equal(luks_pick_sector_size(0, 8192, 64 * M, M, &s, &why), -EINVAL);
        assert_int_equal(luks_pick_sector_size(0, 1000, 64 * M, M, &s, &why), -EINVAL);
        assert_int_equal(luks_pick_sector_size(512, 512, 64 * M, M, &s, &why), 0);
        assert_int_equal(s, 512);
        assert_int_equal(luks_pick_sector_size(512, 4096, 64 * M, M, &s, &why), -EINVAL);
        assert_int_equal(luks_pick_sector_size(4096, 512, 64 * M + 512, M, &s, &why), -EINVAL);
        assert_int_equal(luks_pick_sector_size(1024, 512, 64 * M, M, &s, &why), -EINVAL);
        (void) state;
}

static void test_luks_strings(void **state) {
        char *f = NULL;

        assert_string_equal(luks_integrity_to_string(LUKS_INTEGRITY_NONE), "none");
        assert_string_equal(luks_integrity_to_string(LUKS_INTEGRITY_HMAC_SHA256), "hmac-sha256");
        assert_int_equal(luks_integrity_from_string("hmac-sha256"), LUKS_INTEGRITY_HMAC_SHA256);
        assert_int_equal(luks_integrity_from_string("hmac(sha256)"), -EINVAL);
        assert_int_equal(luks_integrity_from_string(NULL), -EINVAL);

        assert_true(luks_dm_name_is_valid("ephroot"));
        assert_true(luks_dm_name_is_valid("eph_root-1.x"));
        assert_false(luks_dm_name_is_valid(""));
        assert_false(luks_dm_name_is_valid("a:b"));   /* would make "cryptsetup:<name>:<uuid>" ambiguous */
        assert_false(luks_dm_name_is_valid("a/b"));
        assert_false(luks_dm_name_is_valid(".."));
        assert_false(luks_dm_name_is_valid("-x"));
        assert_false(luks_dm_name_is_valid("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")); /* 65 */

        assert_int_equal(luks_activate_flags_to_string(0, &f), 0);
        assert_string_equal(f, "none");
        __real_free(f);
        (void) state;
}

static void test_luks_setup_refusals(void **state) {
        LuksParams p;
        LuksVolume v = {};
        Secret *key = NULL;
        char dir[] = "/tmp/test-volume-XXXXXX", img[256];
        FILE *f;

        assert_non_null(mkdtemp(dir));
        (void) snprintf(img, sizeof(img), "%s/small.img", dir);
        f = fopen(img, "w");
        assert_non_null(f);
        assert_int_equal(ftruncate(fileno(f), 8 * 1024 * 1024), 0); /* < 1 MiB mark + 16 MiB data */
        fclose(f);

        luks_params_init(&p);
        p.activate = false;
        p.header_dir = dir;

        assert_int_equal(secret_new(32, &key), 0);
        assert_int_equal(luks_setup(img, key, &p, &v), -EINVAL); /* wrong key size */
        key = secret_free(key);
        assert_int_equal(secret_new(64, &key), 0);
        assert_int_equal(luks_setup(img, key, &p, &v), -ENOSPC);
        assert_int_equal(luks_setup(dir, key, &p, &v), -EISDIR);
        p.dm_name = "a:b";
        assert_int_equal(luks_setup(img, key, &p, &v), -EINVAL);
        p.dm_name = NULL;
        p.header_dir = "relative";
        assert_int_equal(luks_setup(img, key, &p, &v), -EINVAL);
        assert_null(v.uuid);
        /* Classified as the block device 8:16, now an image file under that name: refused before
         * anything is opened for writing (checked again before discard, format and the mark). */
        p.header_dir = dir;
        p.device_rdev = makedev(8, 16);
        assert_int_equal(luks_setup(img, key, &p, &v), -ESTALE);
        p.device_rdev = 0;

        secret_free(key);
        assert_int_equal(unlink(img), 0);
        assert_int_equal(rmdir(dir), 0); /* nothing (no header file) was left behind */
        (void) state;
}

/* --- configuration ---------------------------------------------------------------------------- */

static void test_config_volume(void **state) {
        static const char *const bad[] = {
                "pcr-disk = 7\n", "pcr-disk = 16\n", "integrity = hmac-sha512\n", "integrity = \n",
                "sector-size = 1024\n", "sector-size = 4k\n", "discard = maybe\n", "format-discard = 2\n",
                "no-read-workqueue = y e s\n", "tpm = optional\n", "tpm = None\n",
                "integrity = none\nintegrity = none\n", "tpm = none\ntpm = none\n",
        };
        Config c;
        LuksParams p;
        char buf[2048] = "";
        FILE *f;

        assert_int_equal(config_init(&c), 0);
        assert_int_equal(c.pcr_disk, 15);
        assert_int_equal(c.integrity, LUKS_INTEGRITY_NONE);
        assert_true(c.tpm_required && c.discard && c.format_discard && c.no_read_workqueue && c.no_write_workqueue);
        assert_int_equal(config_parse_text(&c,
                                           "pcr-disk = 14\nintegrity = hmac-sha256\nsector-size = 512\ndiscard = no\n"
                                           "format-discard = no\nno-read-workqueue = no\nno-write-workqueue = no\n"
                                           "tpm = none\n",
                                           "v.conf"),
                         0);
        assert_int_equal(c.pcr_disk, 14);
        assert_int_equal(c.integrity, LUKS_INTEGRITY_HMAC_SHA256);
        assert_int_equal(c.sector_size, 512);
        assert_false(c.tpm_required || c.discard || c.format_discard || c.no_read_workqueue || c.no_write_workqueue);
        assert_int_equal(config_parse_cmdline(&c, "ephroot.sector_size=4096 ephroot.tpm=required ephroot.pcr-disk=15"), 0);
        assert_int_equal(c.sector_size, 4096);
        assert_true(c.tpm_required);

        config_luks_params(&c, &p);
        assert_int_equal(p.integrity, LUKS_INTEGRITY_HMAC_SHA256);
        assert_int_equal(p.sector_size, 4096);
        assert_false(p.allow_discards || p.format_discard || p.no_read_workqueue || p.no_write_workqueue);
        assert_true(p.activate);

        f = fmemopen(buf, sizeof(buf), "w");
        assert_non_null(f);
        assert_int_equal(config_dump(&c, f), 0);
        fclose(f);
        assert_non_null(strstr(buf, "\npcr-disk = 15\nintegrity = hmac-sha256\nsector-size = 4096\ndiscard = no\n"));
        assert_non_null(strstr(buf, "\ntpm = required\n"));
        config_done(&c);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(config_init(&c), 0);
                if (config_parse_text(&c, bad[i], "bad.conf") >= 0)
                        fail_msg("accepted bad volume setting #%zu: %s", i, bad[i]);
                config_done(&c);
        }
        (void) state;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_secret),
                cmocka_unit_test(test_hkdf_rfc5869),
                cmocka_unit_test(test_hmac),
                cmocka_unit_test(test_keygen),
                cmocka_unit_test(test_disk_string),
                cmocka_unit_test(test_events),
                cmocka_unit_test(test_volume_events),
                cmocka_unit_test(test_volume_key_string),
                cmocka_unit_test(test_luks_volume_key),
                cmocka_unit_test(test_sector_size),
                cmocka_unit_test(test_luks_strings),
                cmocka_unit_test(test_luks_setup_refusals),
                cmocka_unit_test(test_config_volume),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
