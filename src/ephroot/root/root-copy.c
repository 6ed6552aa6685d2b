/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "ext4-used.h"
#include "log.h"
#include "root-copy.h"
#include "util.h"

static int read_cb(uint64_t offset, void *buf, size_t n, void *userdata) {
        return pread_full(*(int *) userdata, buf, n, offset);
}

typedef struct CopyState {
        int src, dst;
        HashContext *hash;
        uint8_t *buf;
        uint64_t copied;
} CopyState;

static int copy_extent(CopyState *s, uint64_t offset, uint64_t length) {
        uint8_t header[16];
        int r;

        for (unsigned i = 0; i < 8; i++) {
                header[i] = (uint8_t) (offset >> (8 * i));
                header[8 + i] = (uint8_t) (length >> (8 * i));
        }
        r = hash_context_update(s->hash, header, sizeof(header));
        if (r < 0)
                return r;

        while (length > 0) {
                size_t n = (size_t) MIN(length, (uint64_t) ROOT_COPY_CHUNK);

                r = pread_full(s->src, s->buf, n, offset);
                if (r < 0)
                        return log_debug_errno(r, "Reading %zu bytes at %" PRIu64 " failed: %m", n, offset);
                r = hash_context_update(s->hash, s->buf, n);
                if (r < 0)
                        return r;
                if (s->dst >= 0) {
                        r = pwrite_full(s->dst, s->buf, n, offset);
                        if (r < 0)
                                return log_debug_errno(r, "Writing %zu bytes at %" PRIu64 " failed: %m", n, offset);
                }
                s->copied += n;
                offset += n;
                length -= n;
        }
        return 0;
}

/* Walks the used-block map in runs, each run one extent (capped so a huge run still streams). */
static int copy_used(CopyState *s, const Ext4UsedMap *m) {
        uint64_t b = 0;
        int r;

        while (b < m->blocks) {
                uint64_t start;

                if (!ext4_used_test(m, b)) {
                        b++;
                        continue;
                }
                start = b;
                while (b < m->blocks && ext4_used_test(m, b))
                        b++;
                r = copy_extent(s, start * m->block_size, (b - start) * m->block_size);
                if (r < 0)
                        return r;
        }
        return 0;
}

int root_copy(int src_fd, int dst_fd, uint64_t dst_size, RootCopyResult *ret) {
        _cleanup_(hash_context_freep) HashContext *hash = NULL;
        _cleanup_(ext4_used_map_done) Ext4UsedMap map = {};
        _cleanup_free_ uint8_t *buf = NULL;
        RootCopyResult res = {};
        CopyState s;
        int r;

        assert_return(src_fd >= 0, -EBADF);
        assert_return(ret, -EINVAL);

        r = fd_get_size(src_fd, &res.source_size);
        if (r < 0)
                return log_debug_errno(r, "Cannot size the source: %m");

        r = ext4_used_map(read_cb, &src_fd, res.source_size, &map);
        if (r >= 0) {
                res.ext4 = true;
                res.block_size = map.block_size;
                res.needed = map.blocks * map.block_size;
        } else if (IN_SET(r, -EMEDIUMTYPE, -EOPNOTSUPP)) {
                log_debug("Source is not an ext2/3/4 layout ephroot can read the block map of, copying all of it.");
                res.needed = res.source_size;
        } else
                return log_debug_errno(r, "Source holds an ext2/3/4 superblock, but its block map is not usable: %m");

        if (dst_fd >= 0 && res.needed > dst_size) {
                *ret = res; /* only needed and source_size are meaningful: the caller reports them */
                return -ENOSPC;
        }

        r = hash_context_new(HASH_SHA256, &hash);
        if (r < 0)
                return r;
        buf = malloc(ROOT_COPY_CHUNK);
        if (!buf)
                return -ENOMEM;

        (void) posix_fadvise(src_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        s = (CopyState) { .src = src_fd, .dst = dst_fd, .hash = hash, .buf = buf };
        r = res.ext4 ? copy_used(&s, &map) : copy_extent(&s, 0, res.source_size);
        if (r < 0)
                return r;

        if (dst_fd >= 0 && fdatasync(dst_fd) < 0)
                return -errno;

        r = hash_context_final(hash, &res.hash);
        if (r < 0)
                return r;
        res.copied = s.copied;
        *ret = res;
        return 0;
}
