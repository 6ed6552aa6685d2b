/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A small, bounded NTFS reader that answers one question: does this NTFS hold only what a fresh Azure
 * resource disk holds (DATALOSS_WARNING_README.txt and System Volume Information)? It does no I/O
 * of its own: the caller passes a function that reads bytes of the partition. See docs/disks.md. */

#include <stddef.h>
#include <stdint.h>

#define NTFS_FRESH_RECORDS_MAX 256U         /* MFT records looked at; a larger MFT is refused */
#define NTFS_FRESH_README "DATALOSS_WARNING_README.txt"
#define NTFS_FRESH_README_SIZE_MAX (64U << 10)
#define NTFS_FRESH_SVI "System Volume Information"

/* Reads size bytes at offset (relative to the start of the file system) into buf. 0 or -errno. The
 * reader is only called with ranges inside [0, part_size). */
typedef int (*NtfsReadFn)(uint64_t offset, void *buf, size_t size, void *userdata);

/* Returns 0 with *ret_unexpected NULL when every in-use file is expected, 0 with *ret_unexpected set
 * (allocated, fits after "NTFS holds ") when not, -EBADMSG when the file system cannot be parsed
 * within the bounds, -E2BIG when its MFT is larger than NTFS_FRESH_RECORDS_MAX records, -ENOMEM, or
 * the reader's error. */
int ntfs_fresh_check(NtfsReadFn read_fn, void *userdata, uint64_t part_size, char **ret_unexpected);
