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

int pe_authenticode_layout(const uint8_t *p, size_t size, PeLayout *ret, const char **ret_why) {
        size_t nt, opt, opt_size, nrva_off, dir_off, sec, headers, cksum, secdir = 0;
        unsigned n_sections, order[PE_SECTIONS_MAX];
        uint32_t nrva, cert_size = 0;
        uint64_t hashed;
        uint16_t magic;
        int r;

        assert_return(p && ret, -EINVAL);
        if (size > PE_IMAGE_SIZE_MAX)
                return -E2BIG;
        r = find_nt_headers(p, size, &nt, ret_why);
        if (r < 0)
                return r;
        n_sections = le16(p + nt + 4 + 2);
        opt_size = le16(p + nt + 4 + 16);
        opt = nt + 4 + 20;
        if (n_sections > PE_SECTIONS_MAX) {
                if (ret_why)
                        *ret_why = "too many sections";
                return -E2BIG;
        }
        if (opt_size > size - opt)
                return bad(ret_why, "the optional header (SizeOfOptionalHeader) lies beyond the end of the file");
        if (opt_size < 2)
                return bad(ret_why, "no optional header");
        magic = le16(p + opt);
        if (magic == PE_MAGIC_PE32)
                nrva_off = 92, dir_off = 96;
        else if (magic == PE_MAGIC_PE32_PLUS)
                nrva_off = 108, dir_off = 112;
        else
                return bad(ret_why, "the optional header is neither PE32 nor PE32+");
        if (opt_size < nrva_off + 4)
                return bad(ret_why, "the optional header is too short for its fields");
        nrva = le32(p + opt + nrva_off);
        if (nrva > PE_DIRECTORIES_MAX || dir_off + (size_t) nrva * 8 > opt_size)
                return bad(ret_why, "NumberOfRvaAndSizes does not fit the optional header");
        headers = le32(p + opt + 60);
        cksum = opt + 64;
        sec = opt + opt_size;
        if (headers > size)
                return bad(ret_why, "SizeOfHeaders is beyond the end of the file");
        if ((size_t) n_sections * PE_SECTION_HEADER_SIZE > headers || sec > headers - (size_t) n_sections * PE_SECTION_HEADER_SIZE)
                return bad(ret_why, "the section table does not fit in SizeOfHeaders");

        *ret = (PeLayout) {};
        add_range(ret, 0, cksum);
        if (nrva > PE_DIRECTORY_SECURITY) {
                uint32_t cert_offset;

                secdir = opt + dir_off + PE_DIRECTORY_SECURITY * 8;
                cert_offset = le32(p + secdir);
                cert_size = le32(p + secdir + 4);
                if (cert_size > 0 && ((uint64_t) cert_offset + cert_size > size || cert_offset < headers))
                        return bad(ret_why, "the certificate table lies outside the file's data");
                add_range(ret, cksum + 4, secdir - (cksum + 4));
                add_range(ret, secdir + 8, headers - (secdir + 8));
        } else
                add_range(ret, cksum + 4, headers - (cksum + 4));
        ret->cert_size = cert_size;

        sort_sections(p + sec, n_sections, order);
        hashed = headers;
        for (unsigned i = 0; i < n_sections; i++) {
                const uint8_t *s = p + sec + (size_t) order[i] * PE_SECTION_HEADER_SIZE;
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
