/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "config.h"

/* The OS root through dm-verity (docs/verity.md): with verity-root-hash= set, both root modes read the
 * OS root only through this read-only mapping. */

#define ROOT_VERITY_DM_NAME "ephroot-os"

/* The verity superblock's place on its device, from the configuration: verity-hash-offset= when set;
 * else 0 on a verity-hash-device= of its own, or the ext2/3/4 filesystem size on source_fd rounded up
 * to 4096 (as `ephroot verity-format` puts it). Logs failures. */
int root_verity_hash_offset(const Config *c, int source_fd, uint64_t source_size, uint64_t *ret);

/* Opens source_node through dm-verity as /dev/mapper/ephroot-os with c->verity_root_hash; fails closed,
 * with one sentence naming verity, when no hash tree is found or it does not match. */
int root_verity_open(const Config *c, const char *source_node, char **ret_node);
void root_verity_close(void);
