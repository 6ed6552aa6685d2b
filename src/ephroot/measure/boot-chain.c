/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ephroot's measurement bound to what actually ran: before the kernel and initrd are extended, the
 * firmware's event log is replayed against the TPM's PCRs 0-9 (a log that does not replay is refused),
 * and the files ephroot measures must be among those the boot loader measured into PCR 9 (GRUB's
 * EV_IPL events). A host that edits grub.cfg to load another initrd, while the one on the OS disk is
 * untouched, is stopped here: ephroot's PCR 11 would otherwise describe a file that never ran.
 * A UKI boot has no boot loader files: systemd-stub measures the UKI's sections into PCR 11 instead
 * (EV_IPL, each section twice: its name with the NUL, then its data; both described by the name in
 * UTF-16). Then the log is replayed against PCR 11 too, and the kernel and initrd must be the data
 * of the .linux and .initrd sections. */

#include <errno.h>
#include <string.h>

#include "boot-chain.h"
#include "log.h"
#include "tcg-log.h"
#include "util.h"

#define FIRMWARE_PCRS_CHECKED 10U /* 0-9: the firmware's and the boot loader's */
#define STUB_PCR 11U              /* systemd-stub's measurements of a UKI's sections */
#define STUB_PHASE "enter-initrd" /* what systemd-pcrphase-initrd.service adds to PCR 11 in a systemd initrd */

/* A systemd-stub event of the section name: EV_IPL in PCR 11, described by the name in UTF-16LE
 * (with or without its NUL). */
static bool stub_event_is(const TcgEvent *e, const char *name) {
        size_t n = strlen(name);

        if (e->pcr != STUB_PCR || e->type != TCG_EV_IPL || e->data_size < 2 * n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (e->data[2 * i] != (uint8_t) name[i] || e->data[2 * i + 1] != 0)
                        return false;
        return e->data_size == 2 * n || (e->data_size >= 2 * n + 2 && e->data[2 * n] == 0 && e->data[2 * n + 1] == 0);
}

static bool has_stub_events(const TcgLog *log) {
        for (size_t i = 0; i < log->n_events; i++)
                if (log->events[i].pcr == STUB_PCR && log->events[i].type == TCG_EV_IPL)
                        return true;
        return false;
}

/* The event of a section's data: the second of its two events (the first is of its name). */
static const TcgEvent *stub_section_data(const TcgLog *log, const char *section) {
        bool name_seen = false;

        for (size_t i = 0; i < log->n_events; i++)
                if (stub_event_is(log->events + i, section)) {
                        if (name_seen)
                                return log->events + i;
                        name_seen = true;
                }
        return NULL;
}

static int check_uki_file(const TcgLog *log, int bank, HashAlg alg, const MeasureEvent *m) {
        const char *section = m->type == MEASURE_EVENT_KERNEL ? ".linux" : ".initrd";
        _cleanup_free_ char *mine = hexmem(m->digests[alg].bytes, m->digests[alg].size), *theirs = NULL;
        const TcgEvent *e = stub_section_data(log, section);

        if (e && memcmp(e->digests[bank], m->digests[alg].bytes, m->digests[alg].size) == 0)
                return 0;
        if (e)
                theirs = hexmem(e->digests[bank], m->digests[alg].size);
        return log_error_errno(SYNTHETIC_ERRNO(EPERM),
                               "The %s '%s' is not what the boot loader loaded: %s %s here, %s in PCR %u (the UKI's %s section, as systemd-stub measured it); refusing.",
                               m->type == MEASURE_EVENT_KERNEL ? "kernel" : "initrd", m->path, hash_alg_to_string(alg),
                               strna(mine), theirs ? theirs : "no such section", STUB_PCR, section);
}

/* The PCR 9 event of the same file name (the boot loader logs its path: "(hd0,gpt1)/boot/initrd.img-…"),
 * for the message. */
static const TcgEvent *same_name(const TcgLog *log, const char *path) {
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        size_t n = strlen(base);

        for (size_t i = 0; i < log->n_events; i++) {
                const TcgEvent *e = log->events + i;
                const char *d = (const char *) e->data;
                size_t len = strnlen(d, e->data_size);

                if (e->pcr != BOOT_CHAIN_LOADER_PCR || e->type == TCG_EV_NO_ACTION || len < n)
                        continue;
                if (memcmp(d + len - n, base, n) == 0 && (len == n || d[len - n - 1] == '/' || d[len - n - 1] == ')'))
                        return e;
        }
        return NULL;
}

static int check_file(const TcgLog *log, int bank, HashAlg alg, const MeasureEvent *m) {
        _cleanup_free_ char *mine = hexmem(m->digests[alg].bytes, m->digests[alg].size), *theirs = NULL;
        const TcgEvent *e;

        for (size_t i = 0; i < log->n_events; i++) {
                e = log->events + i;
                if (e->pcr == BOOT_CHAIN_LOADER_PCR && e->type != TCG_EV_NO_ACTION &&
                    memcmp(e->digests[bank], m->digests[alg].bytes, m->digests[alg].size) == 0)
                        return 0;
        }
        e = same_name(log, m->path);
        if (e)
                theirs = hexmem(e->digests[bank], m->digests[alg].size);
        return log_error_errno(SYNTHETIC_ERRNO(EPERM),
                               "The %s '%s' is not what the boot loader loaded: %s %s here, %s in PCR %u (%s); refusing.",
                               m->type == MEASURE_EVENT_KERNEL ? "kernel" : "initrd", m->path, hash_alg_to_string(alg),
                               strna(mine), theirs ? theirs : "no file of that name",
                               BOOT_CHAIN_LOADER_PCR, e ? "the boot loader's measurement of that name" : "the firmware log");
}

static int replay_against_tpm(Tpm2Context *tpm, const TcgLog *log, HashAlg alg, bool uki) {
        Digest replayed[TCG_PCRS], tpm_values[TPM2_PCRS];
        uint32_t mask = (1U << FIRMWARE_PCRS_CHECKED) - 1;
        int r;

        r = tcg_log_replay(log, alg, replayed);
        if (r < 0)
                return log_error_errno(r, "Failed to replay the firmware event log: %m");
        if (uki)
                mask |= 1U << STUB_PCR;
        r = tpm2_pcr_read(tpm, alg, mask, tpm_values);
        if (r < 0)
                return log_error_errno(r, "Failed to read the %s PCRs 0-9%s: %m", hash_alg_to_string(alg),
                                       uki ? " and 11" : "");
        if (uki && memcmp(replayed[STUB_PCR].bytes, tpm_values[STUB_PCR].bytes, replayed[STUB_PCR].size) != 0) {
                /* a systemd initrd may have measured its phase already (systemd-pcrphase-initrd.service) */
                Digest phase;

                r = hash_buffer(alg, STUB_PHASE, strlen(STUB_PHASE), &phase);
                if (r >= 0)
                        r = hash_extend(&replayed[STUB_PCR], &phase);
                if (r < 0)
                        return log_error_errno(r, "Failed to extend the replayed PCR %u: %m", STUB_PCR);
                if (memcmp(replayed[STUB_PCR].bytes, tpm_values[STUB_PCR].bytes, replayed[STUB_PCR].size) == 0)
                        log_info("PCR %u replays with systemd's '" STUB_PHASE "' measured after the stub's.", STUB_PCR);
                else
                        r = tcg_log_replay(log, alg, replayed); /* the log's own value for the message */
                if (r < 0)
                        return log_error_errno(r, "Failed to replay the firmware event log: %m");
        }
        for (unsigned p = 0; p < TCG_PCRS; p++)
                if ((mask & (1U << p)) && memcmp(replayed[p].bytes, tpm_values[p].bytes, replayed[p].size) != 0) {
                        _cleanup_free_ char *a = hexmem(replayed[p].bytes, replayed[p].size),
                                            *b = hexmem(tpm_values[p].bytes, tpm_values[p].size);
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                               "The firmware event log does not replay: %s PCR %u is %s in the log, %s in the TPM; refusing.",
                                               hash_alg_to_string(alg), p, strna(a), strna(b));
                }
        return 0;
}

int boot_chain_check(Tpm2Context *tpm, const Config *c, const char *log_path, const MeasureEvent *events, size_t n,
                     unsigned banks) {
        _cleanup_free_ char *data = NULL;
        bool loader_files = false, uki;
        unsigned checked = 0;
        HashAlg first = _HASH_ALG_MAX;
        TcgLog log;
        size_t size;
        int r;

        if (c->boot_chain == BOOT_CHAIN_OFF)
                return 0;
        /* The kernel's log describes the kernel's TPM: with another TPM (a swtpm TCTI in tests) it says
         * nothing about the PCRs ephroot extends, unless a log is named. */
        if (!log_path && !startswith(c->tcti, "device:")) {
                if (c->boot_chain == BOOT_CHAIN_REQUIRED)
                        return log_error_errno(SYNTHETIC_ERRNO(ENODEV),
                                               "boot-chain=required, but the TPM '%s' is not the kernel's and no firmware log was named; refusing.",
                                               c->tcti);
                log_debug("TPM '%s' is not the kernel's: the firmware log does not describe it, the boot chain is not checked.",
                          c->tcti);
                return 0;
        }
        log_path = log_path ?: BOOT_CHAIN_LOG_DEFAULT;
        r = read_full_file_bounded(log_path, TCG_LOG_SIZE_MAX, &data, &size);
        if (r == -ENOENT && c->boot_chain == BOOT_CHAIN_AUTO) {
                log_info("No firmware event log at '%s' (a direct kernel boot): the boot chain is not checked.", log_path);
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to read the firmware event log '%s' (boot-chain=%s): %m", log_path,
                                       boot_chain_to_string(c->boot_chain));
        r = tcg_log_parse((const uint8_t *) data, size, &log);
        if (r < 0)
                return log_error_errno(r, "Failed to parse the firmware event log '%s': malformed, truncated or over bounds.",
                                       log_path);

        /* every bank both the TPM and the log have: the log must replay in each */
        uki = has_stub_events(&log);
        FOREACH_HASH_ALG(alg, banks) {
                if (tcg_log_bank(&log, alg) < 0)
                        continue;
                r = replay_against_tpm(tpm, &log, alg, uki);
                if (r < 0)
                        goto finish;
                if (first == _HASH_ALG_MAX || alg == HASH_SHA256)
                        first = alg;
                checked++;
        }
        if (checked == 0) {
                r = log_error_errno(SYNTHETIC_ERRNO(EOPNOTSUPP),
                                    "The firmware event log '%s' has no bank the TPM has active; refusing.", log_path);
                goto finish;
        }

        for (size_t i = 0; !uki && i < log.n_events; i++)
                if (log.events[i].pcr == BOOT_CHAIN_LOADER_PCR && log.events[i].type != TCG_EV_NO_ACTION)
                        loader_files = true;
        if (!uki && !loader_files) {
                if (c->boot_chain == BOOT_CHAIN_REQUIRED) {
                        r = log_error_errno(SYNTHETIC_ERRNO(ENOENT),
                                            "The firmware event log replays, but neither a boot loader measured a file into PCR %u nor systemd-stub a UKI into PCR 11 (boot-chain=required); refusing.",
                                            BOOT_CHAIN_LOADER_PCR);
                        goto finish;
                }
                log_info("The firmware event log replays in %u bank%s; no boot loader file in PCR %u and no UKI in PCR 11 (a direct boot): kernel and initrd are not matched.",
                         checked, checked == 1 ? "" : "s", BOOT_CHAIN_LOADER_PCR);
                r = 0;
                goto finish;
        }
        for (size_t i = 0; i < n; i++) {
                if (events[i].type != MEASURE_EVENT_KERNEL && events[i].type != MEASURE_EVENT_INITRD)
                        continue;
                r = (uki ? check_uki_file : check_file)(&log, tcg_log_bank(&log, first), first, events + i);
                if (r < 0)
                        goto finish;
        }
        if (uki)
                log_info("Boot chain: the firmware log replays in %u bank%s (PCRs 0-9 and %u), and kernel and initrd are the UKI's .linux and .initrd sections systemd-stub measured.",
                         checked, checked == 1 ? "" : "s", STUB_PCR);
        else
                log_info("Boot chain: the firmware log replays in %u bank%s, and kernel and initrd are the files the boot loader measured.",
                         checked, checked == 1 ? "" : "s");
        r = 0;
finish:
        tcg_log_done(&log);
        return r;
}
