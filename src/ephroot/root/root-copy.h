/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hash.h"

/* Copying the OS root filesystem, block for block, into the encrypted volume. For ext2/3/4 only the
 * blocks in use are read and written (ext4-used.c); anything else is copied whole. What is read is
 * hashed as it is read: the root hash (v1) is SHA-256 over, for each copied extent in increasing
 * offset order, its byte offset and byte length as 64-bit little-endian numbers, then its bytes.
 * `ephroot root-hash IMAGE` computes the same value at image build time. */

#define ROOT_COPY_CHUNK (4U << 20)

typedef struct RootCopyResult {
        bool ext4;           /* used blocks only */
        uint32_t block_size; /* ext4: the filesystem's block size */
        uint64_t source_size;/* bytes of the source device */
        uint64_t needed;     /* bytes the destination must have: the filesystem's size (ext4) or the source's */
        uint64_t copied;     /* bytes read (and written) */
        Digest hash;         /* the root hash, sha256 */
} RootCopyResult;

/* Copies src into dst (dst_fd < 0: only hashes, for `root-hash`). -ENOSPC when the destination, of
 * dst_size bytes, is smaller than the copy needs (checked before anything is written); then, as the one
 * exception to "untouched on failure", ret->needed and ret->source_size say how much is needed. */
int root_copy(int src_fd, int dst_fd, uint64_t dst_size, RootCopyResult *ret);
