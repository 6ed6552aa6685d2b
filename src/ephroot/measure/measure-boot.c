/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <sys/utsname.h>

#include "boot-chain.h"
#include "log.h"
#include "measure-boot.h"
#include "luks.h"
#include "measure-log.h"
#include "util.h"

#define KERNEL_NOTES_PATH "/sys/kernel/notes"

/* The banks every extend carries: the TPM's active banks (cached by the TPM context), all of which
 * ephroot can compute. Silent; measure_get_banks() says why they are refused. */
static int extend_banks(Tpm2Context *tpm, unsigned *ret_banks, uint16_t *ret_unsupported) {
        uint16_t unsupported = 0;
        unsigned banks = 0;
        int r;

        r = tpm2_get_banks(tpm, &banks, &unsupported);
        if (r < 0)
                return r;
        if (unsupported != 0) {
                if (ret_unsupported)
                        *ret_unsupported = unsupported;
                return -EOPNOTSUPP;
        }
        if (banks == 0)
                return -ENODEV;
        *ret_banks = banks;
        return 0;
}

int measure_get_banks(Tpm2Context *tpm, const char *tcti, unsigned *ret_banks) {
        uint16_t unsupported = 0;
        unsigned banks = 0;
        int r;

        r = extend_banks(tpm, &banks, &unsupported);
        if (r == -EOPNOTSUPP && unsupported != 0)
                return log_error_errno(r,
                                       "Failed to measure: the TPM has an active PCR bank with algorithm 0x%04x that ephroot cannot compute; refusing to leave it unextended.",
                                       unsupported);
        if (r == -ENODEV)
                return log_error_errno(r, "Failed to measure: the TPM '%s' has no active PCR bank.", tcti);
        if (r < 0)
                return log_error_errno(r, "Failed to read the active PCR banks of TPM '%s': %m", tcti);
        if (ret_banks)
                *ret_banks = banks;
        return 0;
}

static void attach_kernel_info(MeasureEvent *e) {
        _cleanup_free_ char *notes = NULL, *build_id = NULL;
        struct utsname u;
        size_t size;
        int r;

        if (uname(&u) < 0)
                u.release[0] = '\0';

        r = read_full_file_bounded(KERNEL_NOTES_PATH, 64 * 1024, &notes, &size);
        if (r >= 0)
                r = elf_notes_find_build_id(notes, size, &build_id);
        if (r < 0)
                log_debug_errno(r, "Failed to read the build-id from '%s', leaving it out: %m", KERNEL_NOTES_PATH);

        if (measure_event_set_kernel_info(e, isempty(u.release) ? NULL : u.release, build_id) < 0)
                log_debug("Out of memory for kernel information, leaving it out.");
}

int measure_boot_inputs(Tpm2Context *tpm, const Config *c, const MeasureInputs *in) {
        MeasureEvent *events = NULL;
        unsigned banks = 0;
        size_t n = 0;
        int r;

        r = extend_banks(tpm, &banks, /* ret_unsupported= */ NULL);
        if (r < 0)
                return r;
        r = measure_events_build(c, in, banks, &events, &n);
        if (r < 0)
                return r;
        /* bound to what ran: checked before anything is extended, so a refusal leaves PCR 11 as it was */
        r = boot_chain_check(tpm, c, in->event_log, events, n, banks);
        if (r < 0) {
                measure_events_free(events, n);
                return r;
        }
        attach_kernel_info(events + MEASURE_EVENT_KERNEL);

        r = measure_log_extend(tpm, c->measure_log, events, n);
        if (r >= 0)
                for (size_t i = 0; i < n; i++)
                        log_info("Measured %s into PCR %u (%u bank%s).", measure_event_type_to_string(events[i].type),
                                 events[i].pcr, (unsigned) __builtin_popcount(banks),
                                 __builtin_popcount(banks) == 1 ? "" : "s");

        measure_events_free(events, n);
        return r;
}

int measure_volume_events(Tpm2Context *tpm, const Config *c, const MeasureVolumeTarget *t, const LuksVolume *v,
                          const char *dm_name, const Secret *key) {
        MeasureEvent events[2] = {};
        unsigned banks = 0;
        int r;

        r = extend_banks(tpm, &banks, /* ret_unsupported= */ NULL);
        if (r < 0)
                return r;
        r = measure_volume_events_build(&(MeasureDisk) {
                                                .identity = t->identity,
                                                .role = t->role,
                                                .classification = t->classification,
                                                .forced = t->forced,
                                        },
                                        v, dm_name, key, c->pcr_disk, banks, events);
        if (r < 0)
                return r;
        r = measure_log_extend(tpm, c->measure_log, events, ELEMENTSOF(events));
        for (size_t i = 0; i < ELEMENTSOF(events); i++)
                measure_event_done(events + i);
        if (r < 0)
                return r;
        log_info("Measured the disk and the volume key of '%s' into PCR %u.", v->device, c->pcr_disk);
        return 0;
}

int measure_string_event(Tpm2Context *tpm, const Config *c, MeasureEventType type, unsigned pcr, const char *string) {
        MeasureEvent e = {};
        unsigned banks = 0;
        int r;

        r = extend_banks(tpm, &banks, /* ret_unsupported= */ NULL);
        if (r >= 0)
                r = measure_event_build_string(type, pcr, banks, string, &e);
        if (r >= 0)
                r = measure_log_extend(tpm, c->measure_log, &e, 1);
        measure_event_done(&e);
        return r;
}
