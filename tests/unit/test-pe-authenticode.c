/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PE/COFF Authenticode digest on images built here byte by byte (PE32+ and PE32, sections listed
 * out of file order, a section without raw data, trailing data, a certificate table), against the
 * bytes the PE/COFF specification says are hashed, assembled independently of the parser; every
 * header field out of bounds; a section's data as loaded (what systemd-stub measures of a UKI: the raw
 * bytes up to VirtualSize, zeros beyond them) and the refusals of pe_section_find(); and the
 * image-only prediction of PCRs 4, 8, 9 (boot-predict.c). The
 * real EFI binaries against pesign are in tests/cli/test-reference-image.sh. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot-predict.h"
#include "hash.h"
#include "pe-authenticode.h"
#include "util.h"

#define NT 0x40U             /* e_lfanew */
#define OPT (NT + 24U)       /* the optional header */
#define HEADERS 0x200U       /* SizeOfHeaders */
#define TEXT_AT 0x200U       /* .text raw data, 0x200 bytes */
#define DATA_AT 0x400U       /* .data raw data, 0x200 bytes */
#define TRAIL_AT 0x600U      /* 0x80 bytes after the sections */
#define CERT_AT 0x680U       /* the certificate table, 0x100 bytes */
#define IMAGE_SIZE 0x780U

typedef struct Image {
        uint8_t b[IMAGE_SIZE];
        size_t size;
        bool pe32;
        size_t dir;          /* offset of the data directories */
} Image;

static void put16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t) v, p[1] = (uint8_t) (v >> 8);
}

static void put32(uint8_t *p, uint32_t v) {
        for (unsigned i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static void section(Image *im, unsigned i, const char *name, uint32_t raw_size, uint32_t raw_at) {
        size_t opt_size = im->pe32 ? 224 : 240;
        uint8_t *s = im->b + OPT + opt_size + 40 * i;

        memcpy(s, name, strlen(name));
        put32(s + 8, raw_size ? raw_size : 0x1000); /* VirtualSize */
        put32(s + 12, 0x1000 * (i + 1));            /* VirtualAddress */
        put32(s + 16, raw_size);
        put32(s + 20, raw_at);
}

/* Three sections in the table: .data (file offset 0x400), .bss (no raw data), .text (0x200): the
 * digest must take .text before .data. */
static void build(Image *im, bool pe32, bool with_cert) {
        size_t opt_size = pe32 ? 224 : 240;

        memset(im, 0, sizeof(*im));
        im->pe32 = pe32;
        im->size = with_cert ? IMAGE_SIZE : CERT_AT;
        im->dir = OPT + (pe32 ? 96 : 112);
        for (size_t i = 0; i < IMAGE_SIZE; i++)
                im->b[i] = (uint8_t) (i * 7 + 3);
        memset(im->b, 0, HEADERS);
        im->b[0] = 'M', im->b[1] = 'Z';
        put32(im->b + 0x3C, NT);
        memcpy(im->b + NT, "PE\0\0", 4);
        put16(im->b + NT + 4, 0x8664);
        put16(im->b + NT + 6, 3);
        put16(im->b + NT + 20, (uint16_t) opt_size);
        put16(im->b + OPT, pe32 ? 0x10B : 0x20B);
        put32(im->b + OPT + 56, 0x4000);            /* SizeOfImage */
        put32(im->b + OPT + 60, HEADERS);
        put32(im->b + OPT + 64, 0xC0FFEE);          /* CheckSum */
        put32(im->b + OPT + (pe32 ? 92 : 108), 16); /* NumberOfRvaAndSizes */
        for (unsigned d = 0; d < 16; d++)           /* every directory but the certificates' non-zero */
                put32(im->b + im->dir + 8 * d, 0x100 + d), put32(im->b + im->dir + 8 * d + 4, 0x10 + d);
        put32(im->b + im->dir + 32, with_cert ? CERT_AT : 0);
        put32(im->b + im->dir + 36, with_cert ? IMAGE_SIZE - CERT_AT : 0);
        section(im, 0, ".data", 0x200, DATA_AT);
        section(im, 1, ".bss", 0, 0);
        section(im, 2, ".text", 0x200, TEXT_AT);
}

/* What the specification hashes, assembled here from the layout above. */
static size_t expected_bytes(const Image *im, uint8_t *out) {
        size_t n = 0, cksum = OPT + 64, secdir = im->dir + 32;

#define COPY(from, to) (memcpy(out + n, im->b + (from), (to) - (from)), n += (to) - (from))
        COPY(0, cksum);
        COPY(cksum + 4, secdir);
        COPY(secdir + 8, HEADERS);
        COPY(TEXT_AT, TEXT_AT + 0x200);
        COPY(DATA_AT, DATA_AT + 0x200);
        COPY(TRAIL_AT, CERT_AT);
#undef COPY
        return n;
}

static void assert_digests(const Image *im) {
        uint8_t expected[IMAGE_SIZE];
        size_t n = expected_bytes(im, expected);
        Digest got[_HASH_ALG_MAX], want;
        const char *why = NULL;

        assert_int_equal(pe_authenticode_digest(im->b, im->size, HASH_ALL, got, &why), 0);
        FOREACH_HASH_ALG(alg, HASH_ALL) {
                assert_int_equal(hash_buffer(alg, expected, n, &want), 0);
                assert_int_equal(got[alg].size, hash_alg_size(alg));
                assert_memory_equal(got[alg].bytes, want.bytes, want.size);
        }
}

static void digest_sha256(const Image *im, Digest *ret) {
        Digest d[_HASH_ALG_MAX];

        assert_int_equal(pe_authenticode_digest(im->b, im->size, HASH_BIT(HASH_SHA256), d, NULL), 0);
        *ret = d[HASH_SHA256];
}

static void test_digest_pe32_plus_and_pe32(void **state) {
        Image im;

        build(&im, /* pe32= */ false, /* with_cert= */ true);
        assert_digests(&im);
        build(&im, /* pe32= */ true, /* with_cert= */ true);
        assert_digests(&im);
        build(&im, /* pe32= */ false, /* with_cert= */ false);
        assert_digests(&im);
}

/* Signing changes the checksum, the certificate entry and the table, never the digest; any other byte
 * does. */
static void test_digest_what_counts(void **state) {
        Image im, signed_im;
        Digest a, b;

        build(&im, false, false);
        build(&signed_im, false, true);
        put32(signed_im.b + OPT + 64, 0xBADC0DE);
        digest_sha256(&im, &a);
        digest_sha256(&signed_im, &b);
        assert_memory_equal(a.bytes, b.bytes, a.size);
        signed_im.b[CERT_AT + 9] ^= 1;
        digest_sha256(&signed_im, &b);
        assert_memory_equal(a.bytes, b.bytes, a.size);

        static const size_t counted[] = { 2, OPT + 60, OPT + 68, HEADERS - 1, TEXT_AT + 5, DATA_AT + 0x1FF, TRAIL_AT, CERT_AT - 1 };
        for (size_t i = 0; i < ELEMENTSOF(counted); i++) {
                Image changed = signed_im;

                changed.b[counted[i]] ^= 0x40;
                if (counted[i] == OPT + 60) /* SizeOfHeaders: keep it valid */
                        put32(changed.b + OPT + 60, HEADERS - 8);
                digest_sha256(&changed, &b);
                assert_memory_not_equal(a.bytes, b.bytes, a.size);
        }
}

/* Without a certificate directory (NumberOfRvaAndSizes <= 4) the headers are hashed from the checksum on
 * in one piece, and nothing is subtracted at the end. */
static void test_digest_few_directories(void **state) {
        uint8_t expected[IMAGE_SIZE];
        Digest got, want;
        Image im;
        size_t n = 0;

        build(&im, false, false);
        put32(im.b + OPT + 108, 4);
        memcpy(expected, im.b, OPT + 64), n = OPT + 64;
        memcpy(expected + n, im.b + OPT + 68, HEADERS - (OPT + 68)), n += HEADERS - (OPT + 68);
        memcpy(expected + n, im.b + TEXT_AT, 0x200), n += 0x200;
        memcpy(expected + n, im.b + DATA_AT, 0x200), n += 0x200;
        memcpy(expected + n, im.b + TRAIL_AT, CERT_AT - TRAIL_AT), n += CERT_AT - TRAIL_AT;
        digest_sha256(&im, &got);
        assert_int_equal(hash_buffer(HASH_SHA256, expected, n, &want), 0);
        assert_memory_equal(got.bytes, want.bytes, want.size);
}

static void assert_refused(const Image *im, int error, const char *why_part) {
        Digest d[_HASH_ALG_MAX];
        const char *why = NULL;

        assert_int_equal(pe_authenticode_digest(im->b, im->size, HASH_ALL, d, &why), error);
        if (why_part) {
                assert_non_null(why);
                assert_non_null(strstr(why, why_part));
        }
}

static void test_malformed(void **state) {
        Image good, im;

        build(&good, false, true);
        /* every truncation: the certificate table (or more) is cut off */
        for (size_t n = 0; n < good.size; n++) {
                im = good;
                im.size = n;
                assert_refused(&im, -EBADMSG, NULL);
        }
        im = good, put32(im.b + 0x3C, 0xFFFFFFF0);
        assert_refused(&im, -EBADMSG, "e_lfanew");
        im = good, im.b[NT + 1] = 'X';
        assert_refused(&im, -EBADMSG, "no PE signature");
        im = good, put16(im.b + OPT, 0x107);
        assert_refused(&im, -EBADMSG, "neither PE32 nor PE32+");
        im = good, put16(im.b + NT + 20, 0xFFFF);
        assert_refused(&im, -EBADMSG, "SizeOfOptionalHeader");
        im = good, put16(im.b + NT + 20, 100);
        assert_refused(&im, -EBADMSG, "too short");
        im = good, put32(im.b + OPT + 108, 17);
        assert_refused(&im, -EBADMSG, "NumberOfRvaAndSizes");
        im = good, put32(im.b + OPT + 60, IMAGE_SIZE + 1);
        assert_refused(&im, -EBADMSG, "SizeOfHeaders");
        im = good, put32(im.b + OPT + 60, 0x100);
        assert_refused(&im, -EBADMSG, "section table");
        im = good, put16(im.b + NT + 6, 300);
        assert_refused(&im, -E2BIG, "too many sections");
        im = good, put16(im.b + NT + 6, 12);
        assert_refused(&im, -EBADMSG, "section table");
        im = good, put32(im.b + OPT + 240 + 20, 0xFFFFFF00);
        assert_refused(&im, -EBADMSG, "beyond the end");
        im = good, put32(im.b + im.dir + 36, 0x101);
        assert_refused(&im, -EBADMSG, "certificate table");
        im = good, put32(im.b + im.dir + 32, 0x10);
        assert_refused(&im, -EBADMSG, "certificate table");
        /* the certificate table claims more than what follows the sections */
        im = good, put32(im.b + im.dir + 32, TRAIL_AT - 0x10), put32(im.b + im.dir + 36, IMAGE_SIZE - TRAIL_AT + 0x10);
        assert_refused(&im, -EBADMSG, "overlaps the sections");
        im = good, im.size = PE_IMAGE_SIZE_MAX + 1ULL;
        assert_int_equal(pe_authenticode_layout(im.b, im.size, &(PeLayout) {}, NULL), -E2BIG);
}

static void assert_section_digest(const Image *im, const char *name, const uint8_t *want, size_t n) {
        Digest got[_HASH_ALG_MAX], d;
        PeSection s;

        assert_int_equal(pe_section_find(im->b, im->size, name, &s, NULL), 0);
        assert_int_equal(pe_section_digest(im->b, &s, HASH_ALL, got), 0);
        FOREACH_HASH_ALG(alg, HASH_ALL) {
                assert_int_equal(hash_buffer(alg, want, n, &d), 0);
                assert_memory_equal(got[alg].bytes, d.bytes, d.size);
        }
}

static void test_sections(void **state) {
        uint8_t want[0x1000] = {};
        const char *why = NULL;
        PeSection s;
        Image im;

        build(&im, false, true);
        assert_int_equal(pe_section_find(im.b, im.size, ".text", &s, &why), 0);
        assert_int_equal(s.raw.offset, TEXT_AT);
        assert_int_equal(s.raw.size, 0x200);
        assert_int_equal(s.virtual_size, 0x200);
        assert_section_digest(&im, ".text", im.b + TEXT_AT, 0x200);
        /* no raw data: VirtualSize zeros */
        assert_section_digest(&im, ".bss", want, 0x1000);
        /* VirtualSize below the raw size: only VirtualSize bytes; above it: zeros after the raw data */
        put32(im.b + OPT + 240 + 8, 0x10);
        assert_section_digest(&im, ".data", im.b + DATA_AT, 0x10);
        put32(im.b + OPT + 240 + 8, 0x300);
        memcpy(want, im.b + DATA_AT, 0x200);
        assert_section_digest(&im, ".data", want, 0x300);

        /* the whole 8-byte name: ".tex" and ".textX" are other names */
        assert_int_equal(pe_section_find(im.b, im.size, ".tex", &s, NULL), -ENOENT);
        assert_int_equal(pe_section_find(im.b, im.size, ".linux", &s, NULL), -ENOENT);
        assert_int_equal(pe_section_find(im.b, im.size, ".toolongname", &s, NULL), -EINVAL);
        /* two of a name */
        memcpy(im.b + OPT + 240 + 40, ".text\0\0\0", 8);
        assert_int_equal(pe_section_find(im.b, im.size, ".text", &s, &why), -EBADMSG);
        assert_string_equal(why, "two sections have the same name");
        /* raw data beyond the file */
        build(&im, false, true);
        put32(im.b + OPT + 240 + 20, IMAGE_SIZE - 0x100);
        assert_int_equal(pe_section_find(im.b, im.size, ".data", &s, &why), -EBADMSG);
        assert_string_equal(why, "a section's raw data lies beyond the end of the file");
        /* VirtualSize over the bound: refused before any zero is hashed */
        build(&im, false, true);
        put32(im.b + OPT + 240 + 8, 0xFFFFFFFFU);
        assert_int_equal(pe_section_find(im.b, im.size, ".data", &s, &why), -EBADMSG);
        /* malformed headers: the Authenticode parser's refusals */
        im.b[NT] = 'X';
        assert_int_equal(pe_section_find(im.b, im.size, ".data", &s, &why), -EBADMSG);
        assert_string_equal(why, "no PE signature");
}

/* A UKI needs systemd-stub's version (.sdmagic) and a .linux section. */
static void test_predict_uki_refusals(void **state) {
        _cleanup_(boot_predict_done) BootPredict bp = { .banks = HASH_BIT(HASH_SHA256) };
        const char *why = NULL;
        Image im;

        build(&im, false, true);
        assert_int_equal(boot_predict_uki(&bp, im.b, im.size, &why), -EBADMSG);
        assert_non_null(strstr(why, "no .sdmagic section"));
        memcpy(im.b + OPT + 240, ".sdmagic", 8); /* .data's bytes: no version in them */
        assert_int_equal(boot_predict_uki(&bp, im.b, im.size, &why), -EBADMSG);
        assert_string_equal(why, ".sdmagic does not name a systemd-stub version");
        memcpy(im.b + DATA_AT, "#### LoaderInfo: systemd-stub 252.1 ####", 40);
        assert_int_equal(boot_predict_uki(&bp, im.b, im.size, &why), -EBADMSG);
        assert_string_equal(why, "no .linux section: not a UKI");
        memcpy(im.b + OPT + 240 + 80, ".linux\0\0", 8); /* .text */
        assert_int_equal(boot_predict_uki(&bp, im.b, im.size, &why), 0);
        assert_int_equal(bp.n_events, 2);
        assert_string_equal(bp.events[0].description, ".linux");
        assert_int_equal(bp.events[1].pcr, 11);
}

/* PCR 4 from reset: action, separator, each application; PCR 8: the strings alone; PCR 9: files. */
static void test_predict(void **state) {
        _cleanup_(boot_predict_done) BootPredict bp = { .banks = HASH_BIT(HASH_SHA256) | HASH_BIT(HASH_SHA1) };
        Digest pcr4, app, d, f[_HASH_ALG_MAX] = {};
        PcrValues v;
        Image im;

        build(&im, false, true);
        digest_sha256(&im, &app);
        assert_int_equal(boot_predict_efi_app(&bp, "shimx64.efi", im.b, im.size, NULL), 0);
        assert_int_equal(boot_predict_efi_app(&bp, "grubx64.efi", im.b, im.size, NULL), 0);
        assert_int_equal(bp.n_events, 4);
        assert_int_equal(boot_predict_grub_string(&bp, BOOT_PREDICT_GRUB_COMMAND, "linux /vmlinuz ro"), 0);
        assert_int_equal(boot_predict_grub_string(&bp, BOOT_PREDICT_GRUB_KERNEL_CMDLINE, "/vmlinuz ro"), 0);
        assert_string_equal(bp.events[4].description, "grub_cmd: linux /vmlinuz ro");
        assert_string_equal(bp.events[5].description, "kernel_cmdline: /vmlinuz ro");
        assert_int_equal(hash_buffer(HASH_SHA256, "/vmlinuz ro", 11, &d), 0);
        assert_memory_equal(bp.events[5].digests[HASH_SHA256].bytes, d.bytes, 32);
        FOREACH_HASH_ALG(alg, bp.banks)
                assert_int_equal(hash_buffer(alg, "abc", 3, f + alg), 0);
        assert_int_equal(boot_predict_grub_file(&bp, "(hd0,gpt1)/boot/grub/grub.cfg", f), 0);
        assert_int_equal(boot_predict_replay(&bp, &v), 0);
        assert_int_equal(v.pcr_mask, (1U << 4) | (1U << 8) | (1U << 9));

        hash_zero(HASH_SHA256, &pcr4);
        assert_int_equal(hash_buffer(HASH_SHA256, BOOT_PREDICT_EFI_ACTION, 40, &d), 0);
        assert_int_equal(hash_extend(&pcr4, &d), 0);
        assert_int_equal(hash_buffer(HASH_SHA256, "\0\0\0\0", 4, &d), 0);
        assert_int_equal(hash_extend(&pcr4, &d), 0);
        assert_int_equal(hash_extend(&pcr4, &app), 0);
        assert_int_equal(hash_extend(&pcr4, &app), 0);
        assert_memory_equal(v.values[4][HASH_SHA256].bytes, pcr4.bytes, 32);

        /* a malformed application adds nothing */
        im.b[NT] = 'X';
        assert_int_equal(boot_predict_efi_app(&bp, "bad.efi", im.b, im.size, NULL), -EBADMSG);
        assert_int_equal(bp.n_events, 7);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_digest_pe32_plus_and_pe32),
                cmocka_unit_test(test_digest_what_counts),
                cmocka_unit_test(test_digest_few_directories),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_predict),
                cmocka_unit_test(test_sections),
                cmocka_unit_test(test_predict_uki_refusals),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
