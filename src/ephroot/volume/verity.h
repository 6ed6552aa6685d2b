/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* dm-verity for the OS root (verity.c, libcryptsetup's verity support: the hash tree is libcryptsetup's,
 * never made by hand). See docs/verity.md. */

#define VERITY_BLOCK_SIZE 4096U
#define VERITY_HASH "sha256"
#define VERITY_ROOT_HASH_SIZE 32U
#define VERITY_SALT_SIZE 32U

typedef struct VerityFormatParams {
        const char *data_device;   /* the filesystem image or partition */
        const char *hash_device;   /* where the tree goes: data_device itself or another file/partition */
        uint64_t data_size;        /* bytes of data the tree covers, a multiple of VERITY_BLOCK_SIZE */
        uint64_t hash_offset;      /* bytes: where the verity superblock and tree start on hash_device */
} VerityFormatParams;

typedef struct VerityFormatResult {
        uint8_t root_hash[VERITY_ROOT_HASH_SIZE];
        uint64_t hash_size;        /* bytes the superblock and tree take on hash_device */
} VerityFormatResult;

/* The bytes the superblock and hash tree of data_size bytes of data take (pure). */
uint64_t verity_hash_size(uint64_t data_size);

/* Writes the verity superblock (random salt, sha256, 4096-byte blocks, format 1) and the hash tree for
 * p->data_size bytes of p->data_device at p->hash_offset of p->hash_device. Logs at debug level only. */
int verity_format(const VerityFormatParams *p, VerityFormatResult *ret);

/* Makes sure the kernel's device-mapper answers (libcryptsetup's crypt_status(NULL, name), which loads
 * dm_mod through /dev/mapper/control when it is not loaded yet). Called before two processes use
 * device-mapper at once: the first use of a not yet loaded dm_mod from two processes at the same time
 * fails one of them with -EOPNOTSUPP ("Failed to activate ...: Operation not supported", seen in the
 * VM rig 2 boots in 3). 0, or -ENXIO when device-mapper does not answer. */
int verity_dm_ready(const char *name);

/* Opens data_device through dm-verity as /dev/mapper/<name>, read-only, from the verity superblock at
 * hash_offset of hash_device and the expected root hash; panic: the kernel panics on a corrupted block
 * instead of failing the read. Then reads the first data block through the mapping, so a root hash
 * that does not match the tree fails here (-EIO, the mapping removed), not at the first file read.
 * -ENOENT/-EINVAL: no verity superblock at that place. Logs at debug level only. root_hash:
 * VERITY_ROOT_HASH_SIZE bytes (a plain pointer: `[static]` would make the NULL check dead, which gcc
 * 14 reports under -Wnonnull-compare). */
int verity_activate(const char *data_device, const char *hash_device, uint64_t hash_offset,
                    const uint8_t *root_hash, bool panic, const char *name, char **ret_node);
int verity_deactivate(const char *name);
