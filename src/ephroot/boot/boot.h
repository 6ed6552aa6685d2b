/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "log.h"
#include "luks.h"
#include "root.h"
#include "secret.h"
#include "tpm2.h"

/* `ephroot boot`: the whole job in the initramfs (docs/boot.md). */

#define BOOT_STATUS_PATH "/run/ephroot/status.json"
#define BOOT_LEAVE_STRING "leave-initrd"
#define BOOT_FAILURE_PREFIX "ephroot-failure:v1"

typedef enum BootPhase {
        BOOT_PHASE_MEASURE,      /* kernel, initrd, command line */
        BOOT_PHASE_KEY,          /* the volume key from the TPM */
        BOOT_PHASE_DISK,         /* discover and check the target */
        BOOT_PHASE_VOLUME,       /* format and activate */
        BOOT_PHASE_MEASURE_DISK, /* the disk and volume-key events; the key is wiped after it */
        BOOT_PHASE_ATTEST,       /* attest=: evidence to the key broker, secrets to /run/ephroot/secrets */
        BOOT_PHASE_ROOT,         /* copy or overlay */
        BOOT_PHASE_LEAVE,        /* the closing leave-initrd event */
        _BOOT_PHASE_MAX,
} BootPhase;

typedef struct BootArgs {
        const char *rootmnt;     /* where initramfs-tools mounted the OS root */
        const char *kernel;      /* NULL: /boot/vmlinuz-<uname -r> inside rootmnt (RESOLVE_IN_ROOT) */
        const char *initrd;      /* NULL: /boot/initrd.img-<uname -r> inside rootmnt; both NULL or neither */
        const char *cmdline;     /* the kernel command line as read */
        const char *header_dir;  /* NULL: /run/ephroot */
        const char *secrets_dir; /* NULL: /run/ephroot/secrets */
} BootArgs;

/* The one sentence a failure is reported with: the boot's failure line ("ephroot: boot failed: ...")
 * and status.json's "error". The first sentence set stays: later ones are consequences. */
typedef struct BootError {
        char message[LOG_MESSAGE_MAX];
        LogErrorSink sink;        /* while collecting (boot_error_collect()) */
        const LogErrorSink *prev;
} BootError;

/* Sets the sentence unless one is set; "%m" is error's. Returns -ERRNO_VALUE(error). */
int boot_error_set(BootError *e, int error, const char *format, ...) _printf_(3, 4);
static inline bool boot_error_isset(const BootError *e) {
        return e->message[0] != '\0';
}
static inline void boot_error_clear(BootError *e) {
        e->message[0] = '\0';
}

/* Between these two, a failure a callee logs (measure/, volume/, root/, attest/, config/ word their
 * own failures) becomes e's sentence instead of a log line: the boot reports each failure once. */
void boot_error_collect(BootError *e);
void boot_error_collect_end(BootError *e);

/* The disk that is formatted, as the disk event and status.json describe it. */
typedef struct BootTarget {
        char *node;
        char *identity;       /* NULL: none (an image file, a disk without an Azure identity) */
        char *role;           /* "resource", "nvme-local", ...; "image" for an image file */
        char *classification;
        char *reason;         /* why it was picked and may be destroyed */
        bool forced;          /* force-format= named it */
        dev_t rdev;           /* the block device classified (luks_setup() checks it still is); 0: image */
} BootTarget;

void boot_target_done(BootTarget *t);

/* The shared steps of `boot` and `ephroot volume`:
 *
 * boot_open_tpm(): the TPM at c->tcti; the one place its failure is worded. e NULL: logged.
 *
 * boot_pick_target(): the disk to format, device= or a path, checked as disk-target.c decides (never
 * the OS or root disk, nothing mounted, held or read-only, only what is safe to destroy unless
 * force-format= names it). named: a path given to `ephroot volume`, which may be an image file (first
 * checked as a file: it exists, not a directory, not a loop device's backing file). rootmnt: where
 * the OS root is mounted, or NULL. A refusal fills e and returns -EPERM (-ENODEV: no disk at all).
 *
 * boot_measure_volume(): the disk and volume-key events into pcr-disk (nothing without a TPM), the
 * volume named dm_name (its mapping's name, or the name it would have when not activated); the
 * key's last use: it is wiped after. Fails closed: a volume that could not be measured is deactivated,
 * never left behind. */
int boot_open_tpm(const Config *c, Tpm2Context **ret, BootError *e);
int boot_pick_target(const Config *c, const char *device, bool named, const char *rootmnt, BootTarget *ret,
                     BootError *e);
int boot_measure_volume(Tpm2Context *tpm, const Config *c, const BootTarget *t, LuksVolume *v,
                        const char *dm_name, Secret **key);

typedef struct BootStatus {
        bool failed;
        BootPhase phase;                      /* the phase that failed, when failed */
        uint64_t phase_usec[_BOOT_PHASE_MAX];
        bool phase_done[_BOOT_PHASE_MAX];
        uint64_t total_usec;
        bool tpm;                             /* measured into a TPM (false: tpm=none) */
        unsigned banks;
        BootTarget target;
        char *luks_uuid, *dm_node, *cipher;
        unsigned sector_size;
        uint64_t volume_size;
        RootLayout root;
        bool attested;                        /* attest= ran and succeeded */
        unsigned attest_secrets;
        char *attest_error;                   /* attest=optional: why it did not succeed */
        char *error;                          /* the failure's sentence, when failed */
} BootStatus;

const char *boot_phase_to_string(BootPhase p);
void boot_status_done(BootStatus *s);

/* Runs every phase in order, printing one line per phase on stdout. On failure, extends the failure
 * event ("ephroot-failure:v1 phase=<phase>") into every PCR ephroot uses, when a TPM is open, and
 * returns the error with st->failed set and st->error its one sentence, which is not logged: the
 * caller prints it as the failure line. */
int boot_run(const Config *c, const BootArgs *a, BootStatus *st);

/* Extends "ephroot-failure:v1 phase=<phase>" into each PCR ephroot uses (kernel, initrd, command line,
 * disk, leave; each once), with its log record. Tries every PCR; returns how many got it, or -errno
 * if any did not (each such PCR is logged once, by measure_string_event()). */
int boot_measure_failure(Tpm2Context *tpm, const Config *c, const char *phase);

/* The phase name the boot-failed verb records: ephroot did not finish (killed, crashed, or a failure
 * action that did not stop the machine). */
#define BOOT_PHASE_UNFINISHED "unfinished"

/* /run/ephroot/status.json (boot-status.c). */
int boot_status_write(const Config *c, const BootStatus *st, const char *path);
