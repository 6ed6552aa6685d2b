/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "measure.h"

/* The firmware's and GRUB's measurements that an image alone determines, predicted as events (no I/O:
 * the caller hashes files and reads EFI binaries):
 *   PCR 4, as OVMF/EDK2 measures a boot: EV_EFI_ACTION "Calling EFI Application from Boot Option",
 *          EV_SEPARATOR (00000000), then each EFI application's Authenticode digest
 *          (EV_EFI_BOOT_SERVICES_APPLICATION) in the order they are started;
 *   PCR 8, as GRUB 2.06 measures its strings (EV_IPL): the digest of the string alone, logged with
 *          the prefix "grub_cmd: " (every command it runs) or "kernel_cmdline: " (the kernel's);
 *   PCR 9, as GRUB measures every file it reads (EV_IPL): the digest of the file's bytes as stored;
 *   PCR 11, as systemd-stub measures a UKI's sections before it starts the kernel (EV_IPL, both events
 *          described by the section's name): for each section it measures, in its canonical order,
 *          the digest of the name with its NUL, then the digest of the section's data as loaded. */

#define BOOT_PREDICT_EFI_PCR 4U
#define BOOT_PREDICT_STRING_PCR 8U
#define BOOT_PREDICT_FILE_PCR 9U
#define BOOT_PREDICT_UKI_PCR 11U
#define BOOT_PREDICT_EVENTS_MAX 4096U
#define BOOT_PREDICT_EFI_ACTION "Calling EFI Application from Boot Option"

typedef enum BootPredictString {
        BOOT_PREDICT_GRUB_COMMAND,        /* "grub_cmd: " */
        BOOT_PREDICT_GRUB_KERNEL_CMDLINE, /* "kernel_cmdline: " */
} BootPredictString;

typedef struct BootPredictEvent {
        uint32_t pcr, type;             /* TCG event type */
        Digest digests[_HASH_ALG_MAX];  /* indexed by HashAlg, those of the prediction's banks */
        char *description;              /* the file, or the string as GRUB logs it */
} BootPredictEvent;

typedef struct BootPredict {
        unsigned banks;
        BootPredictEvent *events;
        size_t n_events, allocated;
} BootPredict;

void boot_predict_done(BootPredict *bp);

/* An EFI application started by the firmware from a boot option (the first one adds the action and
 * separator events before it): its Authenticode digest from the PE image's bytes. -EBADMSG with
 * *ret_why for a malformed image. */
int boot_predict_efi_app(BootPredict *bp, const char *name, const uint8_t *image, size_t size, const char **ret_why);
/* A file GRUB read, with its digests (indexed by HashAlg, every bank of bp). */
int boot_predict_grub_file(BootPredict *bp, const char *name, const Digest *digests);
/* A string GRUB measured. */
int boot_predict_grub_string(BootPredict *bp, BootPredictString kind, const char *s);

/* The sections systemd-stub measures from a UKI (image: the whole PE file). Which sections a stub
 * measures depends on its version, read from the UKI's .sdmagic ("#### LoaderInfo: systemd-stub 252
 * ####"): -EBADMSG with *ret_why for a malformed image, a UKI without .linux or without a
 * systemd-stub version. */
int boot_predict_uki(BootPredict *bp, const uint8_t *image, size_t size, const char **ret_why);

/* The PCRs the events give from reset (zeros); ret->pcr_mask: the PCRs with events. */
int boot_predict_replay(const BootPredict *bp, PcrValues *ret);
