/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

/* The Authenticode digest of a PE/COFF image: what UEFI firmware measures into PCR 4 for an
 * EV_EFI_BOOT_SERVICES_APPLICATION (EDK2's Tcg2Dxe MeasurePeImageAndExtend(), after the PE/COFF
 * specification's "Calculating the PE Image Hash"): the headers up to SizeOfHeaders without the
 * checksum and without the certificate-table directory entry, then every section with raw data in
 * the order of PointerToRawData, then what follows them in the file minus the certificate table's
 * size. Pure: bytes in, no I/O. Every header field is bounded against the image. */

#define PE_IMAGE_SIZE_MAX (512U << 20)
#define PE_SECTIONS_MAX 256U

typedef struct PeRange {
        size_t offset, size;
} PeRange;

/* The byte ranges hashed, in order (at most 3 header ranges, the sections, the trailing data). */
typedef struct PeLayout {
        PeRange ranges[3 + PE_SECTIONS_MAX + 1];
        size_t n_ranges;
        uint32_t cert_size; /* the certificate table's size from its directory entry, 0 without */
} PeLayout;

/* -EBADMSG for a malformed image, with a sentence saying what is wrong in *ret_why (static string,
 * may be NULL); -E2BIG beyond the bounds above. */
int pe_authenticode_layout(const uint8_t *p, size_t size, PeLayout *ret, const char **ret_why);

/* The digest in every algorithm of algs (ret is indexed by HashAlg). */
int pe_authenticode_digest(const uint8_t *p, size_t size, unsigned algs, Digest *ret,
                           const char **ret_why);

/* A section's data as the loaded image has it (what systemd-stub measures into PCR 11 for a UKI's
 * sections): raw, the bytes in the file (at most VirtualSize of them), then zeros up to
 * virtual_size. */
#define PE_SECTION_NAME_MAX 8U

typedef struct PeSection {
        PeRange raw;
        size_t virtual_size;
} PeSection;

/* The section named name (at most 8 bytes, compared with the whole NUL-padded name field). -ENOENT
 * without one; -EBADMSG with *ret_why for a malformed image or two sections of that name. */
int pe_section_find(const uint8_t *p, size_t size, const char *name, PeSection *ret, const char **ret_why);
/* The digest of a section's loaded data in every algorithm of algs (ret indexed by HashAlg). */
int pe_section_digest(const uint8_t *p, const PeSection *s, unsigned algs, Digest *ret);
