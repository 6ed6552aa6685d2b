/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Reads the boot sector and the first MFT records of an NTFS, through the caller's read function,
 * and checks that every in-use file is one a fresh Azure resource disk has: the system files
 * (records 0-15, and the reserved 16-23 when they carry no name), $Extend and what is below it,
 * DATALOSS_WARNING_README.txt in the root (small, no named stream), and System Volume Information
 * in the root with what is below it. Every offset and size taken from the disk is bounded by the
 * record, the attribute or the partition it lies in. */

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "ntfs-fresh.h"

#define NTFS_BOOT_SIZE 512U
#define NTFS_FIXUP_STRIDE 512U
#define NTFS_RECORD_SIZE_MIN 512U
#define NTFS_RECORD_SIZE_MAX 4096U
#define NTFS_CLUSTER_SIZE_MAX (2U << 20)
#define NTFS_RECORD_FIRST_USER 16U  /* 0-15: system files */
#define NTFS_RECORD_FIRST_FREE 24U  /* 16-23: reserved */
#define NTFS_RECORD_ROOT 5U
#define NTFS_RECORD_EXTEND 11U
#define NTFS_NAMES_MAX 4U           /* hard links looked at per record; more is refused */
#define NTFS_DISPLAY_MAX 64U

#define MFT_FLAG_IN_USE 0x0001U
#define MFT_FLAG_DIRECTORY 0x0002U

#define ATTR_ATTRIBUTE_LIST 0x20U
#define ATTR_FILE_NAME 0x30U
#define ATTR_DATA 0x80U
#define ATTR_END 0xffffffffU

#define FILE_NAME_NAMESPACE_DOS 2U
#define MFT_REF_MASK UINT64_C(0x0000ffffffffffff)

typedef struct NtfsName {
        uint64_t parent;
        bool is_readme;
        bool is_svi;
        char display[NTFS_DISPLAY_MAX];
} NtfsName;

typedef struct NtfsRecord {
        bool in_use;
        bool directory;
        uint64_t base;              /* 0 for a base record */
        bool attribute_list;
        bool named_data;            /* a named $DATA stream */
        bool too_many_names;
        uint64_t data_size;         /* of the unnamed $DATA */
        NtfsName names[NTFS_NAMES_MAX];
        unsigned n_names;
        bool allowed_dir;           /* $Extend, System Volume Information, or a directory below them */
} NtfsRecord;

static uint16_t le16(const uint8_t *p) {
        return (uint16_t) (p[0] | (p[1] << 8));
}

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

static uint64_t le64(const uint8_t *p) {
        return (uint64_t) le32(p) | ((uint64_t) le32(p + 4) << 32);
}

static bool is_pow2(uint64_t x) {
        return x != 0 && (x & (x - 1)) == 0;
}

typedef struct NtfsGeometry {
        uint32_t cluster_size;
        uint32_t record_size;
        uint64_t mft_offset;
} NtfsGeometry;

static int parse_boot(const uint8_t *b, uint64_t part_size, NtfsGeometry *ret) {
        uint32_t sector_size, sectors_per_cluster, cluster_size, record_size;
        uint64_t mft_lcn;
        int8_t cpr;

        if (memcmp(b + 3, "NTFS    ", 8) != 0 || b[510] != 0x55 || b[511] != 0xaa)
                return -EBADMSG;
        sector_size = le16(b + 0x0b);
        if (!is_pow2(sector_size) || sector_size < 256 || sector_size > 4096)
                return -EBADMSG;
        if (b[0x0d] <= 0x80)
                sectors_per_cluster = b[0x0d];
        else if (256 - b[0x0d] <= 20)
                sectors_per_cluster = 1U << (256 - b[0x0d]);
        else
                return -EBADMSG;
        if (!is_pow2(sectors_per_cluster))
                return -EBADMSG;
        cluster_size = sector_size * sectors_per_cluster;
        if (cluster_size > NTFS_CLUSTER_SIZE_MAX)
                return -EBADMSG;

        cpr = (int8_t) b[0x40];
        if (cpr > 0) {
                if ((uint32_t) cpr > NTFS_RECORD_SIZE_MAX / cluster_size)
                        return -EBADMSG;
                record_size = (uint32_t) cpr * cluster_size;
        } else if (cpr < 0 && cpr >= -31)
                record_size = 1U << -cpr;
        else
                return -EBADMSG;
        if (!is_pow2(record_size) || record_size < NTFS_RECORD_SIZE_MIN || record_size > NTFS_RECORD_SIZE_MAX)
                return -EBADMSG;

        mft_lcn = le64(b + 0x30);
        if (mft_lcn == 0 || mft_lcn > part_size / cluster_size)
                return -EBADMSG;
        if (mft_lcn * cluster_size > part_size || part_size - mft_lcn * cluster_size < record_size)
                return -EBADMSG;

        *ret = (NtfsGeometry) {
                .cluster_size = cluster_size,
                .record_size = record_size,
                .mft_offset = mft_lcn * cluster_size,
        };
        return 0;
}

/* Checks the "FILE" magic and applies the update sequence array in place. -EBADMSG if the record is
 * torn or malformed, -ENOENT if it does not carry the FILE magic (never written: not in use). */
static int apply_fixup(uint8_t *rec, uint32_t record_size) {
        uint16_t usa_ofs, usa_count, usn;

        if (memcmp(rec, "FILE", 4) != 0)
                return -ENOENT;
        usa_ofs = le16(rec + 4);
        usa_count = le16(rec + 6);
        if (usa_count != record_size / NTFS_FIXUP_STRIDE + 1 || usa_ofs < 8 || (usa_ofs & 1) ||
            (uint32_t) usa_ofs + 2U * usa_count > NTFS_FIXUP_STRIDE - 2)
                return -EBADMSG;
        usn = le16(rec + usa_ofs);
        for (unsigned i = 1; i < usa_count; i++) {
                uint8_t *end = rec + i * NTFS_FIXUP_STRIDE - 2;

                if (le16(end) != usn)
                        return -EBADMSG; /* torn write, or not a record */
                memcpy(end, rec + usa_ofs + 2 * i, 2);
        }
        return 0;
}

static void utf16_display(const uint8_t *p, unsigned len, char *buf, size_t size) {
        size_t j = 0;

        for (unsigned i = 0; i < len && j + 4 < size; i++) {
                uint16_t c = le16(p + 2 * i);

                buf[j++] = c >= 0x20 && c < 0x7f && c != '\'' ? (char) c : '?';
        }
        if (j + 4 >= size) { /* cut */
                memcpy(buf + j, "...", 3);
                j += 3;
        }
        buf[j] = '\0';
}

static bool utf16_equal_ascii(const uint8_t *p, unsigned len, const char *s) {
        if (len != strlen(s))
                return false;
        for (unsigned i = 0; i < len; i++)
                if (le16(p + 2 * i) != (uint8_t) s[i])
                        return false;
        return true;
}

/* Parses one fixed-up record's header and attributes. -EBADMSG when malformed. */
static int parse_record(const uint8_t *rec, uint32_t record_size, NtfsRecord *ret) {
        uint32_t attrs, in_use, off;
        uint16_t flags;

        *ret = (NtfsRecord) {};
        attrs = le16(rec + 20);
        flags = le16(rec + 22);
        in_use = le32(rec + 24);
        if (in_use > record_size || attrs < 24 || attrs >= in_use || (attrs & 7))
                return -EBADMSG;
        ret->in_use = flags & MFT_FLAG_IN_USE;
        ret->directory = flags & MFT_FLAG_DIRECTORY;
        ret->base = le64(rec + 32) & MFT_REF_MASK;
        if (!ret->in_use)
                return 0;

        for (off = attrs; off + 8 <= in_use;) {
                const uint8_t *a = rec + off;
                uint32_t type = le32(a), len;
                uint16_t name_len;

                if (type == ATTR_END)
                        break;
                len = le32(a + 4);
                if (len < 24 || (len & 7) || len > in_use - off)
                        return -EBADMSG;
                name_len = a[9];

                if (type == ATTR_ATTRIBUTE_LIST)
                        ret->attribute_list = true;
                else if (type == ATTR_DATA && name_len > 0)
                        ret->named_data = true;
                else if (type == ATTR_DATA) {
                        if (a[8]) { /* non-resident */
                                if (len < 64)
                                        return -EBADMSG;
                                ret->data_size = le64(a + 48);
                        } else
                                ret->data_size = le32(a + 16);
                } else if (type == ATTR_FILE_NAME) {
                        uint32_t vlen = le32(a + 16);
                        uint16_t voff = le16(a + 20);
                        const uint8_t *v;
                        unsigned nlen;

                        if (a[8] || voff > len || vlen > len - voff || vlen < 66)
                                return -EBADMSG; /* $FILE_NAME is always resident */
                        v = a + voff;
                        nlen = v[64];
                        if (66 + 2 * nlen > vlen)
                                return -EBADMSG;
                        if (v[65] != FILE_NAME_NAMESPACE_DOS) { /* a DOS name only aliases the long one */
                                NtfsName *n;

                                if (ret->n_names >= NTFS_NAMES_MAX)
                                        ret->too_many_names = true;
                                else {
                                        n = ret->names + ret->n_names++;
                                        n->parent = le64(v) & MFT_REF_MASK;
                                        n->is_readme = utf16_equal_ascii(v + 66, nlen, NTFS_FRESH_README);
                                        n->is_svi = utf16_equal_ascii(v + 66, nlen, NTFS_FRESH_SVI);
                                        utf16_display(v + 66, nlen, n->display, sizeof(n->display));
                                }
                        }
                }
                off += len;
        }
        return 0;
}

/* From $MFT's own record: the number of records its unnamed $DATA holds, which must lie in one run
 * starting at the MFT offset of the boot sector. */
static int parse_mft_size(const uint8_t *rec, const NtfsGeometry *g, uint64_t part_size, uint64_t *ret_records) {
        uint32_t attrs = le16(rec + 20), in_use = le32(rec + 24), off;

        if (in_use > g->record_size || attrs < 24 || attrs >= in_use || (attrs & 7))
                return -EBADMSG;
        for (off = attrs; off + 8 <= in_use;) {
                const uint8_t *a = rec + off;
                uint32_t type = le32(a), len;
                uint64_t data_size, run_len = 0, records;
                int64_t lcn = 0;
                uint16_t mp;
                unsigned lsize, osize;

                if (type == ATTR_END)
                        break;
                len = le32(a + 4);
                if (len < 24 || (len & 7) || len > in_use - off)
                        return -EBADMSG;
                if (type != ATTR_DATA || a[9] != 0) {
                        off += len;
                        continue;
                }
                if (!a[8] || len < 64 || le64(a + 16) != 0)
                        return -EBADMSG; /* non-resident, starting at VCN 0 */
                data_size = le64(a + 48);
                mp = le16(a + 32);
                if (mp < 64 || mp >= len)
                        return -EBADMSG;
                lsize = a[mp] & 0x0f;
                osize = a[mp] >> 4;
                if (lsize < 1 || lsize > 8 || osize < 1 || osize > 8 || mp + 1U + lsize + osize > len)
                        return -EBADMSG;
                for (unsigned i = 0; i < lsize; i++)
                        run_len |= (uint64_t) a[mp + 1 + i] << (8 * i);
                for (unsigned i = 0; i < osize; i++)
                        lcn |= (int64_t) ((uint64_t) a[mp + 1 + lsize + i] << (8 * i));
                if (osize < 8 && (a[mp + lsize + osize] & 0x80))
                        lcn -= (int64_t) 1 << (8 * osize); /* sign extension */
                if (lcn <= 0 || (uint64_t) lcn > part_size / g->cluster_size ||
                    (uint64_t) lcn * g->cluster_size != g->mft_offset)
                        return -EBADMSG;
                if (run_len > part_size / g->cluster_size || data_size > run_len * g->cluster_size)
                        return -EBADMSG; /* the records counted below lie in the first run */
                records = data_size / g->record_size;
                if (records < NTFS_RECORD_FIRST_USER)
                        return -EBADMSG;
                if (records > NTFS_FRESH_RECORDS_MAX)
                        return -E2BIG;
                if (records * g->record_size > part_size - g->mft_offset)
                        return -EBADMSG;
                *ret_records = records;
                return 0;
        }
        return -EBADMSG;
}

/* Returns NULL, "" for a file to let by, or the reason (allocated); the name fits after "NTFS holds ". */
static int check_name(const NtfsRecord *recs, size_t i, const NtfsName *n, char **ret) {
        const NtfsRecord *r = recs + i;
        const char *what = r->directory ? "directory" : "file";

        *ret = NULL;
        if (n->parent < NTFS_FRESH_RECORDS_MAX && recs[n->parent].allowed_dir && n->parent != i)
                return 0; /* below $Extend or System Volume Information */
        if (n->parent == NTFS_RECORD_ROOT && n->is_svi && r->directory)
                return 0;
        if (n->parent == NTFS_RECORD_ROOT && n->is_readme && !r->directory) {
                if (r->named_data)
                        return asprintf(ret, "'%s' with a named data stream (MFT record %zu)", n->display, i) < 0 ?
                                       -ENOMEM : 0;
                if (r->data_size > NTFS_FRESH_README_SIZE_MAX)
                        return asprintf(ret, "'%s' of %" PRIu64 " bytes, larger than Azure's (MFT record %zu)",
                                        n->display, r->data_size, i) < 0 ?
                                       -ENOMEM : 0;
                return 0;
        }
        return asprintf(ret, "an unexpected %s '%s' (MFT record %zu)", what, n->display, i) < 0 ? -ENOMEM : 0;
}

int ntfs_fresh_check(NtfsReadFn read_fn, void *userdata, uint64_t part_size, char **ret_unexpected) {
        _cleanup_free_ uint8_t *mft = NULL;
        _cleanup_free_ NtfsRecord *recs = NULL;
        _cleanup_free_ char *unexpected = NULL;
        uint8_t boot[NTFS_BOOT_SIZE];
        NtfsGeometry g;
        uint64_t n;
        bool changed;
        int r;

        assert_return(read_fn, -EINVAL);
        assert_return(ret_unexpected, -EINVAL);

        if (part_size < NTFS_BOOT_SIZE)
                return -EBADMSG;
        r = read_fn(0, boot, sizeof(boot), userdata);
        if (r < 0)
                return r;
        r = parse_boot(boot, part_size, &g);
        if (r < 0)
                return r;

        mft = malloc((size_t) NTFS_FRESH_RECORDS_MAX * g.record_size);
        recs = calloc(NTFS_FRESH_RECORDS_MAX, sizeof(NtfsRecord));
        if (!mft || !recs)
                return -ENOMEM;

        r = read_fn(g.mft_offset, mft, g.record_size, userdata);
        if (r < 0)
                return r;
        r = apply_fixup(mft, g.record_size);
        if (r < 0)
                return -EBADMSG;
        r = parse_mft_size(mft, &g, part_size, &n);
        if (r < 0)
                return r;

        r = read_fn(g.mft_offset, mft, (size_t) n * g.record_size, userdata);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                uint8_t *rec = mft + i * g.record_size;

                r = apply_fixup(rec, g.record_size);
                if (r == -ENOENT)
                        continue; /* never written */
                if (r < 0)
                        return r;
                r = parse_record(rec, g.record_size, recs + i);
                if (r < 0)
                        return r;
        }

        /* The directories whose contents are let by: $Extend, System Volume Information in the root,
         * and every directory below them (the closure, at most n rounds). */
        recs[NTFS_RECORD_EXTEND].allowed_dir = recs[NTFS_RECORD_EXTEND].in_use;
        for (size_t i = NTFS_RECORD_FIRST_USER; i < n; i++)
                for (unsigned k = 0; k < recs[i].n_names; k++)
                        if (recs[i].in_use && recs[i].base == 0 && recs[i].directory && recs[i].names[k].is_svi &&
                            recs[i].names[k].parent == NTFS_RECORD_ROOT && recs[i].n_names == 1)
                                recs[i].allowed_dir = true;
        do {
                changed = false;
                for (size_t i = NTFS_RECORD_FIRST_USER; i < n; i++) {
                        NtfsRecord *d = recs + i;
                        bool all = d->n_names > 0;

                        if (!d->in_use || d->base != 0 || !d->directory || d->allowed_dir || d->too_many_names)
                                continue;
                        for (unsigned k = 0; k < d->n_names; k++)
                                all = all && d->names[k].parent < n && d->names[k].parent != i &&
                                      recs[d->names[k].parent].allowed_dir;
                        if (all)
                                d->allowed_dir = changed = true;
                }
        } while (changed);

        for (size_t i = NTFS_RECORD_FIRST_USER; i < n; i++) {
                const NtfsRecord *d = recs + i;

                if (!d->in_use)
                        continue;
                if (d->base != 0) {
                        if (d->base < NTFS_RECORD_FIRST_USER)
                                continue; /* an extension of a system file ($MFT) */
                        r = asprintf(&unexpected, "MFT record %zu extending record %" PRIu64, i, d->base);
                        break;
                }
                if (d->n_names == 0) {
                        if (i < NTFS_RECORD_FIRST_FREE)
                                continue; /* reserved, marked in use by mkntfs and Windows */
                        r = asprintf(&unexpected, "MFT record %zu in use without a name", i);
                        break;
                }
                if (d->too_many_names || d->attribute_list) {
                        r = asprintf(&unexpected, "'%s' with %s (MFT record %zu)", d->names[0].display,
                                     d->too_many_names ? "too many names" : "an attribute list", i);
                        break;
                }
                for (unsigned k = 0; k < d->n_names && !unexpected; k++) {
                        r = check_name(recs, i, d->names + k, &unexpected);
                        if (r < 0)
                                return r;
                }
                if (unexpected)
                        break;
        }
        if (r < 0)
                return -ENOMEM;

        *ret_unexpected = TAKE_PTR(unexpected);
        return 0;
}
