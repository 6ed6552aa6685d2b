/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "config.h"
#include "hash.h"
#include "luks.h"
#include "secret.h"

/* Files larger than this are refused rather than hashed: a kernel or initrd of more than 1 GiB is not
 * one, and hashing a device or a pipe endlessly would hang the boot. */
#define MEASURE_FILE_SIZE_MAX (1024ULL * 1024ULL * 1024ULL)
#define MEASURE_PCR_COUNT 24U

typedef enum MeasureEventType {
        MEASURE_EVENT_KERNEL,
        MEASURE_EVENT_INITRD,
        MEASURE_EVENT_CMDLINE,
        MEASURE_EVENT_DISK,         /* the volume's setup: H(disk string), see measure_disk_string() */
        MEASURE_EVENT_VOLUME_KEY,   /* systemd's: HMAC(volume key, "cryptsetup:<dm name>:<uuid>") */
        MEASURE_EVENT_LEAVE_INITRD, /* systemd's phase string "leave-initrd" */
        MEASURE_EVENT_FAILURE,      /* the boot failed closed: H(failure string) */
        MEASURE_EVENT_HOST_MOUNTS,  /* host-mounts=comment: H(measure_host_mounts_string()) */
        MEASURE_EVENT_VERITY,       /* verity-root-hash= set: H(measure_verity_string()) */
        _MEASURE_EVENT_TYPE_MAX,
} MeasureEventType;

/* One PCR extend and its log record. The digests are what is extended; everything else describes
 * the event for a verifier and is not hashed. */
typedef struct MeasureEvent {
        MeasureEventType type;
        unsigned pcr;
        unsigned banks; /* HashAlg bitmask of the valid digests */
        Digest digests[_HASH_ALG_MAX];
        char *path;     /* file events: the file as named */
        uint64_t size;  /* file events: bytes hashed */
        char *string;   /* string events: the measured text */
        char *kernel_release;  /* kernel event, informational: uname -r of the running kernel */
        char *kernel_build_id; /* kernel event, informational: GNU build-id from /sys/kernel/notes */
} MeasureEvent;

typedef struct MeasureInputs {
        const char *kernel;  /* path */
        const char *initrd;  /* path */
        const char *cmdline; /* text, as read from /proc/cmdline (a trailing newline is dropped) */
        const char *root;    /* the OS root: kernel and initrd are resolved inside it, as if it were "/";
                              * NULL: the paths as given */
        const char *event_log; /* the firmware's event log for boot-chain; NULL: the kernel's */
} MeasureInputs;

/* The PCR values a sequence of events produces from reset (all zeros). */
typedef struct PcrValues {
        uint32_t pcr_mask;
        unsigned banks;
        Digest values[MEASURE_PCR_COUNT][_HASH_ALG_MAX];
} PcrValues;

const char *measure_event_type_to_string(MeasureEventType t);

/* Drops the newline procfs appends to the command line; the rest is measured byte for byte. */
void measure_cmdline_normalize(char *cmdline);

void measure_event_done(MeasureEvent *e);
void measure_events_free(MeasureEvent *events, size_t n);

/* Builds the boot's events, in the order they are extended (kernel, initrd, command line), with
 * digests for every bank in `banks`. The one place that decides what bytes are measured: the boot
 * and `predict` both call it. Kernel and initrd are opened with openat2(): inside in->root when set
 * (RESOLVE_IN_ROOT), never through a symlink as last component (-ELOOP), without blocking, and must be
 * regular files (-EBADFD: a FIFO, a device, a directory). Logs failures, naming the file. */
int measure_events_build(const Config *c, const MeasureInputs *in, unsigned banks, MeasureEvent **ret,
                         size_t *ret_n);

/* Replays events from zeroed PCRs. */
int measure_replay(const MeasureEvent *events, size_t n, unsigned banks, PcrValues *ret);
/* Replays events onto v (every bank of v; what came before them, e.g. systemd-stub's PCR 11 events). */
int measure_replay_onto(const MeasureEvent *events, size_t n, PcrValues *v);

/* Attaches the running kernel's release and build-id to a kernel event (information only). */
int measure_event_set_kernel_info(MeasureEvent *e, const char *release, const char *build_id);

/* Finds the GNU build-id in an ELF note section image (such as /sys/kernel/notes). Returns lower-case
 * hex, or -ENOENT when there is none, -EBADMSG when the notes are malformed. No I/O. */
int elf_notes_find_build_id(const void *notes, size_t size, char **ret_hex);

/* A string event: the digest for each bank in `banks` is that bank's hash of the string's bytes (no
 * NUL); the string goes into the log record. Used for disk, leave-initrd and failure. Logs failures. */
int measure_event_build_string(MeasureEventType t, unsigned pcr, unsigned banks, const char *string,
                               MeasureEvent *ret);

/* A keyed event, as systemd-cryptsetup measures a volume key: the digest for each bank is
 * HMAC_<bank hash>(key, string). The string goes into the record; the key goes nowhere. */
int measure_event_build_hmac(MeasureEventType t, unsigned pcr, unsigned banks, const char *string, const Secret *key,
                             MeasureEvent *ret);

/* measure-disk.c: the disk event's text (docs/measurements.md, "The disk event"). No I/O. */
#define MEASURE_DISK_PREFIX "ephroot-disk:v1"

typedef struct MeasureDisk {
        const char *identity;       /* stable disk identity (docs/disks.md); NULL: none (image, plain disk) */
        const char *role;           /* os, resource, data, nvme-local, unknown, image */
        const char *classification; /* fresh-azure-resource, blank, ephroot, foreign */
        const char *uuid;           /* LUKS UUID */
        const char *cipher;         /* aes-xts-plain64 */
        unsigned key_bits;
        unsigned sector_size;
        const char *integrity;      /* none, hmac-sha256 */
        const char *flags;          /* luks_activate_flags_to_string() */
        bool forced;                /* force-format= overrode a foreign classification */
} MeasureDisk;

/* "ephroot-disk:v1 identity=... role=... class=... uuid=... cipher=... key-bits=... sector-size=...
 * integrity=... flags=... forced=yes|no": fixed order, every field present; NULL becomes "-", and
 * bytes outside [A-Za-z0-9._:,/+@-] (and a value that is exactly "-") are written as %XX. */
int measure_disk_string(const MeasureDisk *d, char **ret);

/* systemd's volume-key string, as cryptsetup_get_volume_key_prefix() makes it:
 * "cryptsetup:<dm_name escaped>:<uuid>", where the escape (systemd's xescape(name, ":")) writes a
 * control byte, a byte >= 0x7f, '\\' and ':' as \xHH (lower-case hex). */
int measure_volume_key_string(const char *dm_name, const char *uuid, char **ret);

/* The volume's two events, in the order they are extended, both into pcr: [0] the disk event,
 * H(measure_disk_string()), with the target's fields from `target` (identity, role, classification,
 * forced; its LUKS fields are ignored) and the LUKS fields from v; [1] systemd's volume-key event,
 * HMAC(luks_volume_key(key, v->integrity), measure_volume_key_string(dm_name, v->uuid)): keyed by the
 * whole volume key libcryptsetup holds, 96 bytes with integrity. dm_name is the mapping's name (given, since v->dm_name
 * is NULL when the volume was not activated). ret points to two MeasureEvents (a plain pointer, not
 * `ret[static 2]`: that declares ret non-NULL, and the -EINVAL check for NULL would then be dead code,
 * which gcc 14 reports with -Wnonnull-compare). On failure nothing is returned. Logs failures. */
int measure_volume_events_build(const MeasureDisk *target, const LuksVolume *v, const char *dm_name,
                                const Secret *key, unsigned pcr, unsigned banks, MeasureEvent *ret);

/* The host-mounts event's text (docs/measurements.md): "ephroot-host-mounts:v1 action=comment
 * count=<n>", then " line=<number>:<the fstab line>" for each line commented out, in order, escaped as
 * in the disk string. No I/O. */
#define MEASURE_HOST_MOUNTS_PREFIX "ephroot-host-mounts:v1"
int measure_host_mounts_string(const unsigned *lines, const char *const *texts, size_t n, char **ret);

/* The verity event's text (docs/verity.md): "ephroot-verity:v1 root-hash=<64 hex> error=<eio|panic>",
 * from the configuration alone, so `ephroot predict` computes it. No I/O. root_hash: 32 bytes (a plain
 * pointer, not `[static 32]`, so the NULL check stays live under gcc 14's -Wnonnull-compare). */
#define MEASURE_VERITY_PREFIX "ephroot-verity:v1"
int measure_verity_string(const uint8_t *root_hash, const char *error_mode, char **ret);
