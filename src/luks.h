/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "secret.h"

/* The LUKS2 volume on the throw-away disk (luks.c is the only user of libcryptsetup). The header
 * that decides decryption lives in tmpfs (detached header); a copy is written to the disk as
 * ephroot's mark and is never read back. See docs/volume.md. */

#define LUKS_HEADER_DIR_DEFAULT "/run/ephroot"
#define LUKS_DM_NAME_DEFAULT "ephroot"
#define LUKS_CIPHER "aes"
#define LUKS_CIPHER_MODE "xts-plain64"

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

/* Formats device as LUKS2 with key (no keyslot), writes the mark, and when p->activate activates it
 * from the tmpfs header only. Logs failures naming the device. On failure nothing stays mapped. */
int luks_setup(const char *device, const Secret *key, const LuksParams *p, LuksVolume *ret);
void luks_volume_done(LuksVolume *v);

/* Removes the mapping (used when a later boot phase fails, and by tests). */
int luks_deactivate(const char *dm_name);
