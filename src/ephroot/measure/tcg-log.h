/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

/* The firmware's event log (/sys/kernel/security/tpm0/binary_bios_measurements), TCG PC Client
 * Platform Firmware Profile format: either crypto-agile (a first SHA-1-format event of type
 * EV_NO_ACTION carrying "Spec ID Event03" and the banks, then TCG_PCR_EVENT2 records) or the
 * SHA-1-only legacy form. The parser takes bytes, does no I/O and keeps pointers into them. */

#define TCG_LOG_SIZE_MAX (8U << 20)
#define TCG_LOG_EVENTS_MAX 16384U
#define TCG_LOG_BANKS_MAX 8U
#define TCG_PCRS 24U

#define TCG_EV_NO_ACTION 0x00000003U
#define TCG_EV_SEPARATOR 0x00000004U
#define TCG_EV_IPL 0x0000000DU
#define TCG_EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003U

typedef struct TcgBank {
        uint16_t tpm_alg;  /* TPM_ALG_ID as the log names it */
        uint16_t size;     /* digest size the log gives */
        int alg;           /* HashAlg, or -1 for a bank ephroot cannot compute (e.g. SM3) */
} TcgBank;

typedef struct TcgEvent {
        uint32_t pcr, type;
        const uint8_t *digests[TCG_LOG_BANKS_MAX]; /* per bank of the log, digest bytes in the log */
        const uint8_t *data;
        uint32_t data_size;
} TcgEvent;

typedef struct TcgLog {
        bool crypto_agile;
        unsigned n_banks;
        TcgBank banks[TCG_LOG_BANKS_MAX];
        uint8_t startup_locality;  /* from a "StartupLocality" EV_NO_ACTION event, 0 otherwise */
        TcgEvent *events;
        size_t n_events;
} TcgLog;

/* -EBADMSG for a malformed or truncated log, -E2BIG beyond the bounds above. */
int tcg_log_parse(const uint8_t *p, size_t size, TcgLog *ret);
void tcg_log_done(TcgLog *log);

/* The bank index of alg in the log, or -ENOENT. */
int tcg_log_bank(const TcgLog *log, HashAlg alg);

/* Replays every event but EV_NO_ACTION into PCRs 0..23 of bank alg (reset values: zero, PCR 0 with
 * the startup locality in its last byte, 17..22 all ones). */
int tcg_log_replay(const TcgLog *log, HashAlg alg, Digest ret[TCG_PCRS]);

const char *tcg_event_type_to_string(uint32_t type);
