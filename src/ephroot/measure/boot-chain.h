/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "config.h"
#include "measure.h"
#include "tpm2.h"

#define BOOT_CHAIN_LOG_DEFAULT "/sys/kernel/security/tpm0/binary_bios_measurements"
#define BOOT_CHAIN_LOADER_PCR 9U /* GRUB measures every file it loads here */

/* With boot-chain=auto or required: the firmware's event log (log_path, NULL: the kernel's) replays
 * against the TPM's PCRs 0-9 in every bank both have, and the kernel and initrd events among events
 * (built for banks) match files the boot loader measured into PCR 9. A UKI boot (systemd-stub's events
 * in PCR 11) replays against PCR 11 too, and the kernel and initrd must match the .linux and .initrd
 * sections the stub measured. auto: no log at all, or a log with neither (a direct kernel boot), is not
 * checked further; required: both are refusals. Logs what it checked or why it refuses (naming the file
 * and both digests). */
int boot_chain_check(Tpm2Context *tpm, const Config *c, const char *log_path, const MeasureEvent *events, size_t n,
                     unsigned banks);
