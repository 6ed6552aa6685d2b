/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "root.h"
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
        const char *kernel;      /* NULL: <rootmnt>/boot/vmlinuz-<uname -r> */
        const char *initrd;      /* NULL: <rootmnt>/boot/initrd.img-<uname -r> */
        const char *cmdline;     /* the kernel command line as read */
        const char *header_dir;  /* NULL: /run/ephroot */
        const char *secrets_dir; /* NULL: /run/ephroot/secrets */
} BootArgs;

typedef struct BootStatus {
        bool failed;
        BootPhase phase;                      /* the phase that failed, when failed */
        uint64_t phase_usec[_BOOT_PHASE_MAX];
        bool phase_done[_BOOT_PHASE_MAX];
        uint64_t total_usec;
        bool tpm;                             /* measured into a TPM (false: tpm=none) */
        unsigned banks;
        char *device, *identity, *role, *classification;
        bool forced;
        char *luks_uuid, *dm_node, *cipher;
        unsigned sector_size;
        uint64_t volume_size;
        RootLayout root;
        bool attested;                        /* attest= ran and succeeded */
        unsigned attest_secrets;
        char *attest_error;                   /* attest=optional: why it did not succeed */
        char *error;                          /* the first error, when failed */
} BootStatus;

const char *boot_phase_to_string(BootPhase p);
void boot_status_done(BootStatus *s);

/* Runs every phase in order, printing one line per phase on stdout. On failure, extends the failure
 * event ("ephroot-failure:v1 phase=<phase>") into every PCR ephroot uses, when a TPM is open, and
 * returns the error with st->failed set. Logs failures. */
int boot_run(const Config *c, const BootArgs *a, BootStatus *st);

/* Extends "ephroot-failure:v1 phase=<phase>" into each PCR ephroot uses (kernel, initrd, command line,
 * disk, leave; each once), with its log record. Tries every PCR; returns how many got it, or -errno
 * if any did not. */
int boot_measure_failure(Tpm2Context *tpm, const Config *c, const char *phase);

/* The phase name the boot-failed verb records: ephroot did not finish (killed, crashed, or a failure
 * action that did not stop the machine). */
#define BOOT_PHASE_UNFINISHED "unfinished"

/* /run/ephroot/status.json (boot-status.c). */
int boot_status_write(const Config *c, const BootStatus *st, const char *path);
