/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Which blocks of an ext2/3/4 filesystem are in use, from its superblock, group descriptors and
 * block bitmaps, so the root copy reads and writes only those. The OS disk is host-visible: every
 * field is bounded and checked against the device size. Reads go through a callback; the parser
 * itself does no I/O, so tests and fuzzers feed it buffers. */

#define EXT4_USED_BLOCKS_MAX (1ULL << 29)   /* a 64 MiB bitmap: 2 TiB at 4 KiB blocks */
#define EXT4_USED_GDT_MAX (64U << 20)       /* bytes of group descriptors read */

/* Reads exactly n bytes at offset, or returns -errno. */
typedef int (*Ext4ReadFn)(uint64_t offset, void *buf, size_t n, void *userdata);

typedef struct Ext4UsedMap {
        uint32_t block_size;
        uint64_t blocks;        /* filesystem size in blocks */
        uint64_t used;          /* blocks marked in use */
        uint8_t *bitmap;        /* bit b (LSB first) set: block b is in use */
} Ext4UsedMap;

/* Returns 0 with the map; -EMEDIUMTYPE when the device holds no ext2/3/4 superblock; -EOPNOTSUPP for
 * a layout this parser does not handle (meta_bg, bigalloc, sparse_super2: copy everything instead);
 * -EBADMSG when a field is out of bounds or inconsistent; -EFBIG beyond EXT4_USED_BLOCKS_MAX. */
int ext4_used_map(Ext4ReadFn read, void *userdata, uint64_t device_size, Ext4UsedMap *ret);
void ext4_used_map_done(Ext4UsedMap *m);

static inline bool ext4_used_test(const Ext4UsedMap *m, uint64_t block) {
        return block < m->blocks && (m->bitmap[block / 8] >> (block % 8)) & 1;
}
