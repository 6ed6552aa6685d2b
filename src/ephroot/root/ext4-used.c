/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The used-block map of an ext2/3/4 filesystem (see ext4-used.h). Layout as documented in the kernel's
 * Documentation/filesystems/ext4/ (superblock, group descriptors, "Block and inode bitmaps", "Meta
 * block groups", "Flexible block groups"). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ext4-used.h"

#define SB_OFFSET 1024U
#define SB_SIZE 1024U
#define EXT4_MAGIC 0xEF53U

#define COMPAT_RESIZE_INODE 0x0010U
#define COMPAT_SPARSE_SUPER2 0x0200U
#define INCOMPAT_META_BG 0x0010U
#define INCOMPAT_64BIT 0x0080U
#define RO_COMPAT_SPARSE_SUPER 0x0001U
#define RO_COMPAT_GDT_CSUM 0x0010U
#define RO_COMPAT_BIGALLOC 0x0200U
#define RO_COMPAT_METADATA_CSUM 0x0400U
#define BG_BLOCK_UNINIT 0x0002U

typedef struct Layout {
        uint32_t bs;
        uint64_t blocks;
        uint32_t first_data_block;
        uint32_t blocks_per_group;
        uint32_t itable_blocks;
        uint32_t desc_size;
        uint64_t groups;
        uint64_t gdt_blocks;
        uint32_t reserved_gdt;
        bool sparse_super;
        bool uninit_valid;
        bool is64;
} Layout;

static uint16_t le16(const uint8_t *p) {
        return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static bool is_power_of(uint64_t n, uint64_t base) {
        while (n > 1 && n % base == 0)
                n /= base;
        return n == 1;
}

static bool group_has_super(const Layout *l, uint64_t g) {
        if (!l->sparse_super || g <= 1)
                return true;
        return is_power_of(g, 3) || is_power_of(g, 5) || is_power_of(g, 7);
}

static int parse_superblock(const uint8_t *sb, uint64_t device_size, Layout *ret) {
        uint32_t compat = le32(sb + 0x5C), incompat = le32(sb + 0x60), ro_compat = le32(sb + 0x64);
        uint32_t log_bs = le32(sb + 0x18), inodes_per_group = le32(sb + 0x28), inode_size = le16(sb + 0x58);
        Layout l = {};

        if (le16(sb + 0x38) != EXT4_MAGIC)
                return -EMEDIUMTYPE;
        if ((incompat & INCOMPAT_META_BG) || (ro_compat & RO_COMPAT_BIGALLOC) || (compat & COMPAT_SPARSE_SUPER2))
                return -EOPNOTSUPP;
        if (log_bs > 6)
                return -EBADMSG;

        l.bs = 1024U << log_bs;
        l.is64 = incompat & INCOMPAT_64BIT;
        l.blocks = le32(sb + 0x04) | (l.is64 ? (uint64_t) le32(sb + 0x150) << 32 : 0);
        l.first_data_block = le32(sb + 0x14);
        l.blocks_per_group = le32(sb + 0x20);
        l.sparse_super = ro_compat & RO_COMPAT_SPARSE_SUPER;
        l.uninit_valid = ro_compat & (RO_COMPAT_GDT_CSUM | RO_COMPAT_METADATA_CSUM);
        l.desc_size = l.is64 ? le16(sb + 0xFE) : 32;
        l.reserved_gdt = compat & COMPAT_RESIZE_INODE ? le16(sb + 0xCE) : 0;

        if (l.blocks == 0 || l.blocks > device_size / l.bs)
                return -EBADMSG; /* empty, or larger than the device it is on */
        if (l.blocks > EXT4_USED_BLOCKS_MAX)
                return -EFBIG;
        if (l.first_data_block != (l.bs == 1024 ? 1U : 0U) || l.first_data_block >= l.blocks)
                return -EBADMSG;
        if (l.blocks_per_group == 0 || l.blocks_per_group > 8 * l.bs || l.blocks_per_group % 8 != 0)
                return -EBADMSG;
        if (l.desc_size < 32 || l.desc_size > 1024 || (l.desc_size & (l.desc_size - 1)) || (l.is64 && l.desc_size < 64))
                return -EBADMSG;
        if (inode_size < 128 || inode_size > l.bs || (inode_size & (inode_size - 1)) || inodes_per_group == 0 ||
            inodes_per_group > 8 * l.bs)
                return -EBADMSG;
        if (l.reserved_gdt > 1024)
                return -EBADMSG;

        l.itable_blocks = (uint32_t) (((uint64_t) inodes_per_group * inode_size + l.bs - 1) / l.bs);
        l.groups = (l.blocks - l.first_data_block + l.blocks_per_group - 1) / l.blocks_per_group;
        if (l.groups * l.desc_size > EXT4_USED_GDT_MAX)
                return -EBADMSG;
        l.gdt_blocks = (l.groups * l.desc_size + l.bs - 1) / l.bs;

        *ret = l;
        return 0;
}

static int mark_range(Ext4UsedMap *m, uint64_t start, uint64_t count) {
        if (start >= m->blocks || count > m->blocks - start)
                return -EBADMSG;
        for (uint64_t b = start; b < start + count; b++)
                m->bitmap[b / 8] |= (uint8_t) (1U << (b % 8));
        return 0;
}

static uint64_t desc_block(const Layout *l, const uint8_t *d, size_t lo, size_t hi) {
        return le32(d + lo) | (l->is64 ? (uint64_t) le32(d + hi) << 32 : 0);
}

int ext4_used_map(Ext4ReadFn read, void *userdata, uint64_t device_size, Ext4UsedMap *ret) {
        _cleanup_free_ uint8_t *gdt = NULL, *bitmap = NULL, *block = NULL;
        uint8_t sb[SB_SIZE];
        Ext4UsedMap m = {};
        Layout l;
        int r;

        assert_return(read, -EINVAL);
        assert_return(ret, -EINVAL);

        if (device_size < SB_OFFSET + SB_SIZE)
                return -EMEDIUMTYPE;
        r = read(SB_OFFSET, sb, sizeof(sb), userdata);
        if (r < 0)
                return r;
        r = parse_superblock(sb, device_size, &l);
        if (r < 0)
                return r;

        m.block_size = l.bs;
        m.blocks = l.blocks;
        bitmap = calloc((l.blocks + 7) / 8, 1);
        gdt = malloc(l.groups * l.desc_size);
        block = malloc(l.bs);
        if (!bitmap || !gdt || !block)
                return -ENOMEM;
        m.bitmap = bitmap;

        r = read(((uint64_t) l.first_data_block + 1) * l.bs, gdt, l.groups * l.desc_size, userdata);
        if (r < 0)
                return r;

        /* Block 0 always: the boot sector area, and for block sizes above 1 KiB the superblock. */
        r = mark_range(&m, 0, (uint64_t) l.first_data_block + 1);
        if (r < 0)
                return r;

        for (uint64_t g = 0; g < l.groups; g++) {
                const uint8_t *d = gdt + g * l.desc_size;
                uint64_t start = l.first_data_block + g * l.blocks_per_group;
                uint64_t count = MIN((uint64_t) l.blocks_per_group, l.blocks - start);
                uint64_t block_bitmap = desc_block(&l, d, 0x00, 0x20);
                uint64_t inode_bitmap = desc_block(&l, d, 0x04, 0x24);
                uint64_t inode_table = desc_block(&l, d, 0x08, 0x28);

                /* Superblock backup, group descriptors and the blocks reserved for growing them. */
                if (group_has_super(&l, g)) {
                        r = mark_range(&m, start, MIN(count, 1 + l.gdt_blocks + l.reserved_gdt));
                        if (r < 0)
                                return r;
                }

                /* This group's bitmaps and inode table, wherever flex_bg put them. */
                r = mark_range(&m, block_bitmap, 1);
                if (r >= 0)
                        r = mark_range(&m, inode_bitmap, 1);
                if (r >= 0)
                        r = mark_range(&m, inode_table, l.itable_blocks);
                if (r < 0)
                        return r;

                if (l.uninit_valid && (le16(d + 0x12) & BG_BLOCK_UNINIT))
                        continue; /* never allocated from: nothing beyond the metadata above */

                r = read(block_bitmap * l.bs, block, l.bs, userdata);
                if (r < 0)
                        return r;
                for (uint64_t i = 0; i < count; i++)
                        if ((block[i / 8] >> (i % 8)) & 1)
                                m.bitmap[(start + i) / 8] |= (uint8_t) (1U << ((start + i) % 8));
        }

        for (uint64_t i = 0; i < (l.blocks + 7) / 8; i++)
                m.used += (uint64_t) __builtin_popcount(bitmap[i]);

        TAKE_PTR(bitmap);
        *ret = m;
        return 0;
}

void ext4_used_map_done(Ext4UsedMap *m) {
        if (!m)
                return;
        m->bitmap = mfree(m->bitmap);
}
