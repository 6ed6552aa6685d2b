/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The PE/COFF Authenticode digest, as UEFI firmware measures an EFI application into PCR 4. Follows
 * EDK2's MeasurePeImageAndExtend() (SecurityPkg/Tcg/Tcg2Dxe/MeasureBootPeCoff.c, read at tianocore/edk2
 * 1abfa4ce4835639c66ae82cc0d72cffcf3f28b6b) step by step, so the
 * digest is the firmware's even where the PE/COFF specification leaves room: the trailing data starts
 * at SizeOfHeaders plus the sizes of the hashed sections (not at the end of the last section), and
 * its length is the file size minus that and minus the certificate table's size. Unlike the firmware,
 * every offset and size is checked against the image before it is used. */

#include <errno.h>
#include <string.h>

#include "pe-authenticode.h"
#include "util.h"

#define PE_MAGIC_PE32 0x10BU
#define PE_MAGIC_PE32_PLUS 0x20BU
#define PE_DIRECTORY_SECURITY 4U
#define PE_DIRECTORIES_MAX 16U
#define PE_SECTION_HEADER_SIZE 40U

static uint16_t le16(const uint8_t *p) {
        return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static int bad(const char **ret_why, const char *why) {
        if (ret_why)
                *ret_why = why;
        return -EBADMSG;
}

static void add_range(PeLayout *l, size_t offset, size_t size) {
        if (size > 0)
                l->ranges[l->n_ranges++] = (PeRange) { offset, size };
}

/* Where the NT headers start: after the DOS stub when there is one ("MZ", e_lfanew), else at 0, as
 * EDK2 accepts both. */
static int find_nt_headers(const uint8_t *p, size_t size, size_t *ret, const char **ret_why) {
        size_t off = 0;

        if (size >= 2 && p[0] == 'M' && p[1] == 'Z') {
                if (size < 64)
                        return bad(ret_why, "the DOS header is truncated");
                off = le32(p + 0x3C);
        }
        if (off > size || size - off < 4 + 20)
                return bad(ret_why, "the PE header (e_lfanew) lies beyond the end of the file");
        if (memcmp(p + off, "PE\0\0", 4) != 0)
                return bad(ret_why, "no PE signature");
        *ret = off;
        return 0;
}

/* Sorts section indexes by PointerToRawData, stable (EDK2's insertion sort). */
static void sort_sections(const uint8_t *table, unsigned n, unsigned order[]) {
        for (unsigned i = 0; i < n; i++) {
                uint32_t key = le32(table + (size_t) i * PE_SECTION_HEADER_SIZE + 20);
                unsigned pos = i;

                for (; pos > 0 && key < le32(table + (size_t) order[pos - 1] * PE_SECTION_HEADER_SIZE + 20); pos--)
                        order[pos] = order[pos - 1];
                order[pos] = i;
        }
}

/* The headers every use needs: the optional header, the section table, SizeOfHeaders; each bounded. */
typedef struct PeHeaders {
        size_t opt, opt_size, sec, headers;
        unsigned n_sections;
        uint32_t nrva;
        size_t dir_off;
} PeHeaders;

static int parse_headers(const uint8_t *p, size_t size, PeHeaders *ret, const char **ret_why) {
        size_t nt, nrva_off;
        PeHeaders h = {};
        uint16_t magic;
        int r;

        if (size > PE_IMAGE_SIZE_MAX)
                return -E2BIG;
        r = find_nt_headers(p, size, &nt, ret_why);
        if (r < 0)
                return r;
        h.n_sections = le16(p + nt + 4 + 2);
        h.opt_size = le16(p + nt + 4 + 16);
        h.opt = nt + 4 + 20;
        if (h.n_sections > PE_SECTIONS_MAX) {
                if (ret_why)
                        *ret_why = "too many sections";
                return -E2BIG;
        }
        if (h.opt_size > size - h.opt)
                return bad(ret_why, "the optional header (SizeOfOptionalHeader) lies beyond the end of the file");
        if (h.opt_size < 2)
                return bad(ret_why, "no optional header");
        magic = le16(p + h.opt);
        if (magic == PE_MAGIC_PE32)
                nrva_off = 92, h.dir_off = 96;
        else if (magic == PE_MAGIC_PE32_PLUS)
                nrva_off = 108, h.dir_off = 112;
        else
                return bad(ret_why, "the optional header is neither PE32 nor PE32+");
        if (h.opt_size < nrva_off + 4)
                return bad(ret_why, "the optional header is too short for its fields");
        h.nrva = le32(p + h.opt + nrva_off);
        if (h.nrva > PE_DIRECTORIES_MAX || h.dir_off + (size_t) h.nrva * 8 > h.opt_size)
                return bad(ret_why, "NumberOfRvaAndSizes does not fit the optional header");
        h.headers = le32(p + h.opt + 60);
        h.sec = h.opt + h.opt_size;
        if (h.headers > size)
                return bad(ret_why, "SizeOfHeaders is beyond the end of the file");
        if ((size_t) h.n_sections * PE_SECTION_HEADER_SIZE > h.headers ||
            h.sec > h.headers - (size_t) h.n_sections * PE_SECTION_HEADER_SIZE)
                return bad(ret_why, "the section table does not fit in SizeOfHeaders");
        *ret = h;
        return 0;
}

int pe_authenticode_layout(const uint8_t *p, size_t size, PeLayout *ret, const char **ret_why) {
        unsigned order[PE_SECTIONS_MAX];
        size_t cksum, secdir = 0;
        uint32_t cert_size = 0;
        uint64_t hashed;
        PeHeaders h;
        int r;

        assert_return(p && ret, -EINVAL);
        r = parse_headers(p, size, &h, ret_why);
        if (r < 0)
                return r;
        cksum = h.opt + 64;

        *ret = (PeLayout) {};
        add_range(ret, 0, cksum);
        if (h.nrva > PE_DIRECTORY_SECURITY) {
                uint32_t cert_offset;

                secdir = h.opt + h.dir_off + PE_DIRECTORY_SECURITY * 8;
                cert_offset = le32(p + secdir);
                cert_size = le32(p + secdir + 4);
                if (cert_size > 0 && ((uint64_t) cert_offset + cert_size > size || cert_offset < h.headers))
                        return bad(ret_why, "the certificate table lies outside the file's data");
                add_range(ret, cksum + 4, secdir - (cksum + 4));
                add_range(ret, secdir + 8, h.headers - (secdir + 8));
        } else
                add_range(ret, cksum + 4, h.headers - (cksum + 4));
        ret->cert_size = cert_size;

        sort_sections(p + h.sec, h.n_sections, order);
        hashed = h.headers;
        for (unsigned i = 0; i < h.n_sections; i++) {
                const uint8_t *s = p + h.sec + (size_t) order[i] * PE_SECTION_HEADER_SIZE;
                uint32_t raw_size = le32(s + 16), raw_offset = le32(s + 20);

                if (raw_size == 0)
                        continue;
                if ((uint64_t) raw_offset + raw_size > size)
                        return bad(ret_why, "a section's raw data lies beyond the end of the file");
                add_range(ret, raw_offset, raw_size);
                hashed += raw_size;
        }
        /* what follows, up to the certificate table (assumed last, as the firmware assumes) */
        if (size > hashed) {
                if (size > hashed + cert_size)
                        add_range(ret, (size_t) hashed, size - (size_t) hashed - cert_size);
                else if (size < hashed + cert_size)
                        return bad(ret_why, "the certificate table overlaps the sections");
        }
        return 0;
}

int pe_authenticode_digest(const uint8_t *p, size_t size, unsigned algs, Digest *ret,
                           const char **ret_why) {
        PeLayout l;
        int r;

        assert_return(p && ret, -EINVAL);
        r = pe_authenticode_layout(p, size, &l, ret_why);
        if (r < 0)
                return r;
        FOREACH_HASH_ALG(alg, algs) {
                _cleanup_(hash_context_freep) HashContext *h = NULL;

                r = hash_context_new(alg, &h);
                for (size_t i = 0; r >= 0 && i < l.n_ranges; i++)
                        r = hash_context_update(h, p + l.ranges[i].offset, l.ranges[i].size);
                if (r >= 0)
                        r = hash_context_final(h, ret + alg);
                if (r < 0)
                        return r;
        }
        return 0;
}

int pe_section_find(const uint8_t *p, size_t size, const char *name, PeSection *ret, const char **ret_why) {
        char want[PE_SECTION_NAME_MAX] = {};
        bool found = false;
        PeHeaders h;
        size_t n;
        int r;

        assert_return(p && name && ret, -EINVAL);
        n = strlen(name);
        assert_return(n > 0 && n <= PE_SECTION_NAME_MAX, -EINVAL);
        memcpy(want, name, n);
        r = parse_headers(p, size, &h, ret_why);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < h.n_sections; i++) {
                const uint8_t *s = p + h.sec + (size_t) i * PE_SECTION_HEADER_SIZE;
                uint32_t virtual_size = le32(s + 8), raw_size = le32(s + 16), raw_offset = le32(s + 20);

                if (memcmp(s, want, PE_SECTION_NAME_MAX) != 0)
                        continue;
                if (found)
                        return bad(ret_why, "two sections have the same name");
                if (raw_size > 0 && (uint64_t) raw_offset + raw_size > size)
                        return bad(ret_why, "a section's raw data lies beyond the end of the file");
                if (virtual_size > PE_IMAGE_SIZE_MAX)
                        return bad(ret_why, "a section's VirtualSize is over the image size bound");
                *ret = (PeSection) {
                        .raw = { raw_offset, MIN(raw_size, virtual_size) },
                        .virtual_size = virtual_size,
                };
                found = true;
        }
        return found ? 0 : -ENOENT;
}

int pe_section_digest(const uint8_t *p, const PeSection *s, unsigned algs, Digest *ret) {
        static const uint8_t zeros[4096] = {};

        assert_return(p && s && ret, -EINVAL);
        FOREACH_HASH_ALG(alg, algs) {
                _cleanup_(hash_context_freep) HashContext *h = NULL;
                int r;

                r = hash_context_new(alg, &h);
                if (r >= 0)
                        r = hash_context_update(h, p + s->raw.offset, s->raw.size);
                /* the loaded image: zeros from the end of the raw data to VirtualSize */
                for (size_t left = s->virtual_size - s->raw.size; r >= 0 && left > 0; left -= MIN(left, sizeof(zeros)))
                        r = hash_context_update(h, zeros, MIN(left, sizeof(zeros)));
                if (r >= 0)
                        r = hash_context_final(h, ret + alg);
                if (r < 0)
                        return r;
        }
        return 0;
}
