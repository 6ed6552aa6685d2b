/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "secret.h"

/* The LUKS2 volume on the throw-away disk (luks.c is the only user of libcryptsetup). The header
 * that decides decryption lives in tmpfs (detached header); a copy is written to the disk as
 * ephroot's mark and is never read back. See docs/volume.md. */

#define LUKS_HEADER_DIR_DEFAULT "/run/ephroot"
#define LUKS_DM_NAME_DEFAULT "ephroot"
#define LUKS_CIPHER "aes"
#define LUKS_CIPHER_MODE "xts-plain64"

/* The on-disk layout (docs/volume.md): the mark area at the start of the disk holds a copy of the
 * header, two 16 KiB metadata copies and a keyslots area that fills it to 1 MiB; the encrypted data
 * starts right after it. The disk must offer at least LUKS_DATA_SIZE_MIN bytes of data. */
#define LUKS_METADATA_SIZE (16U * 1024U)
#define LUKS_MARK_SIZE (1024U * 1024U)
#define LUKS_KEYSLOTS_SIZE (LUKS_MARK_SIZE - 2U * LUKS_METADATA_SIZE)
#define LUKS_DATA_SIZE_MIN (16U * 1024U * 1024U)
#define LUKS_DM_NAME_MAX 64U

typedef enum LuksIntegrity {
        LUKS_INTEGRITY_NONE,
        LUKS_INTEGRITY_HMAC_SHA256,
        _LUKS_INTEGRITY_MAX,
} LuksIntegrity;

typedef struct LuksParams {
        const char *header_dir;    /* tmpfs directory for the detached header; NULL: default */
        const char *dm_name;       /* device-mapper name; NULL: default */
        unsigned sector_size;      /* 0: 4096 when the device allows it, else 512 */
        LuksIntegrity integrity;
        bool format_discard;       /* one BLKDISCARD of the whole device before formatting */
        bool allow_discards;       /* activation flags */
        bool no_read_workqueue;
        bool no_write_workqueue;
        bool activate;             /* false: format and write the mark only (host tests, no dm) */
        dev_t device_rdev;         /* the block device the disk checks classified (DiskTarget.rdev); every
                                    * open by name must find it again. 0: an image file, or unchecked */
} LuksParams;

typedef struct LuksVolume {
        char *device;              /* the disk that was formatted */
        char *header_path;         /* the detached header in tmpfs */
        char *dm_name;             /* NULL when not activated */
        char *dm_node;             /* /dev/mapper/<dm_name>, NULL when not activated */
        char *uuid;                /* LUKS UUID, new every format */
        char *cipher;              /* "aes-xts-plain64" */
        unsigned key_bits;         /* 512 */
        unsigned sector_size;      /* 512 or 4096 */
        LuksIntegrity integrity;
        uint64_t data_offset;      /* bytes: where the encrypted data starts (after the mark area) */
        uint64_t data_size;        /* bytes of plaintext the mapping offers */
        uint32_t activate_flags;   /* the libcryptsetup CRYPT_ACTIVATE_* flags used */
        bool discarded;            /* the pre-format discard succeeded */
} LuksVolume;

void luks_params_init(LuksParams *p); /* the defaults */
const char *luks_integrity_to_string(LuksIntegrity i);
int luks_integrity_from_string(const char *s);

/* The volume key as libcryptsetup holds it (crypt_format(), crypt_activate_by_volume_key()): key (the
 * 64-byte cipher key) and, with integrity, a 32-byte HMAC key derived from it (HKDF-SHA256, info
 * "ephroot integrity key v1") after it: 96 bytes. systemd's volume-key measurement is keyed by this. */
int luks_volume_key(const Secret *key, LuksIntegrity integrity, Secret **ret);

/* Formats device as LUKS2 with key (no keyslot), writes the mark, and when p->activate activates it
 * from the tmpfs header only. Logs failures naming the device. On failure nothing stays mapped and
 * the header file is removed. */
int luks_setup(const char *device, const Secret *key, const LuksParams *p, LuksVolume *ret);
void luks_volume_done(LuksVolume *v);

/* Removes the mapping (used when a later boot phase fails, and by tests). */
int luks_deactivate(const char *dm_name);

/* 1..LUKS_DM_NAME_MAX characters of A-Z a-z 0-9 . _ -, not starting with . or -: also what makes
 * systemd's "cryptsetup:<name>:<uuid>" string unambiguous without escaping. */
bool luks_dm_name_is_valid(const char *name);

/* The activation flags as text, in a fixed order: "allow-discards,no-journal,no-read-workqueue,
 * no-write-workqueue" (those set), or "none". For the disk event and for printing. */
int luks_activate_flags_to_string(uint32_t flags, char **ret);

/* The sector size rule (pure): configured 0 picks 4096 when the logical block size is <= 4096 and the
 * device size and data offset are multiples of 4096, else 512; 512 and 4096 are checked against the
 * device. *ret_why (static text) says why, on success and on failure (-EINVAL). */
int luks_pick_sector_size(unsigned configured, unsigned logical_block_size, uint64_t device_size, uint64_t data_offset,
                          unsigned *ret, const char **ret_why);
