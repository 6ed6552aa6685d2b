/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The boot's phases, in order, each timed and printed, failing closed at the first error. */

#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <time.h>

#include "attest.h"
#include "boot.h"
#include "disk.h"
#include "keygen.h"
#include "log.h"
#include "luks.h"
#include "measure-boot.h"
#include "net-resolv.h"
#include "util.h"

static const char *const phase_names[_BOOT_PHASE_MAX] = {
        [BOOT_PHASE_MEASURE] = "measure",
        [BOOT_PHASE_KEY] = "key",
        [BOOT_PHASE_DISK] = "disk",
        [BOOT_PHASE_VOLUME] = "volume",
        [BOOT_PHASE_MEASURE_DISK] = "measure-disk",
        [BOOT_PHASE_ATTEST] = "attest",
        [BOOT_PHASE_ROOT] = "root",
        [BOOT_PHASE_LEAVE] = "leave",
};

const char *boot_phase_to_string(BootPhase p) {
        return p >= 0 && p < _BOOT_PHASE_MAX ? phase_names[p] : NULL;
}

void boot_status_done(BootStatus *s) {
        if (!s)
                return;
        s->device = mfree(s->device);
        s->identity = mfree(s->identity);
        s->role = mfree(s->role);
        s->classification = mfree(s->classification);
        s->luks_uuid = mfree(s->luks_uuid);
        s->dm_node = mfree(s->dm_node);
        s->cipher = mfree(s->cipher);
        s->error = mfree(s->error);
        s->attest_error = mfree(s->attest_error);
        root_layout_done(&s->root);
}

typedef struct BootRun {
        const Config *config;
        const BootArgs *args;
        BootStatus *status;
        Tpm2Context *tpm;
        Secret *key;
        LuksVolume volume;
        dev_t device_rdev;      /* the target as classified; luks_setup() checks it is still that */
        uint64_t phase_start;
} BootRun;

static void phase_begin(BootRun *b, BootPhase p) {
        b->status->phase = p;
        b->phase_start = now_usec(CLOCK_MONOTONIC);
}

static void phase_end(BootRun *b, const char *fmt, ...) _printf_(2, 3);
static void phase_end(BootRun *b, const char *fmt, ...) {
        BootPhase p = b->status->phase;
        char what[256];
        va_list ap;

        b->status->phase_usec[p] = now_usec(CLOCK_MONOTONIC) - b->phase_start;
        b->status->phase_done[p] = true;
        va_start(ap, fmt);
        (void) vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        printf("ephroot: %-12s %6" PRIu64 " ms  %s\n", phase_names[p], b->status->phase_usec[p] / 1000, what);
        fflush(stdout);
}

static int default_boot_file(const char *rootmnt, const char *prefix, char **ret) {
        struct utsname u;

        if (uname(&u) < 0)
                return -errno;
        return asprintf(ret, "%s/boot/%s-%s", rootmnt, prefix, u.release) < 0 ? -ENOMEM : 0;
}

static int phase_measure(BootRun *b) {
        _cleanup_free_ char *kernel = NULL, *initrd = NULL;
        const BootArgs *a = b->args;
        const Config *c = b->config;
        int r;

        if (!c->tpm_required) {
                log_warning("tpm=none: NO TPM. Nothing is measured and the key comes from getrandom() alone. Development only.");
                return 0;
        }
        r = tpm2_context_new(c->tcti, &b->tpm);
        if (r < 0)
                return log_error_errno(r, "Failed to open the TPM through TCTI '%s': %m", c->tcti);
        r = measure_get_banks(b->tpm, c->tcti, &b->status->banks);
        if (r < 0)
                return r;
        b->status->tpm = true;

        if (!a->kernel && default_boot_file(a->rootmnt, "vmlinuz", &kernel) < 0)
                return log_oom();
        if (!a->initrd && default_boot_file(a->rootmnt, "initrd.img", &initrd) < 0)
                return log_oom();
        return measure_boot_inputs(b->tpm, c,
                                   &(MeasureInputs) { a->kernel ?: kernel, a->initrd ?: initrd, a->cmdline });
}

static int phase_disk(BootRun *b) {
        _cleanup_(disk_list_done) DiskList l = {};
        _cleanup_(disk_target_done) DiskTarget t = {};
        BootStatus *s = b->status;
        int r;

        r = disk_enumerate("/", disk_nvme_read_vs, NULL, &l);
        if (r < 0)
                return log_error_errno(r, "Failed to enumerate the disks: %m");
        r = disk_pick_target(&(DiskTargetRequest) {
                                     .root = "/",
                                     .device = b->config->device,
                                     .force_format = b->config->force_format,
                                     .rootmnt = b->args->rootmnt,
                             },
                             &l, &t);
        if (r < 0)
                return log_oom();
        if (!t.node)
                return log_error_errno(SYNTHETIC_ERRNO(ENODEV), "Failed to find a disk to format: %s",
                                       strna(t.reason));
        if (!t.ok)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "%s", strna(t.reason));

        b->device_rdev = t.rdev;
        s->device = strdup(t.node);
        s->role = strdup(t.disk ? disk_role_to_string(t.disk->role) : "unknown");
        s->classification = strdup(disk_class_to_string(t.class));
        s->identity = t.identity ? strdup(t.identity) : NULL;
        if (!s->device || !s->role || !s->classification || (t.identity && !s->identity))
                return log_oom();
        s->forced = t.forced;
        if (t.forced)
                log_warning("FORCED: formatting '%s' (%s), which holds something ephroot does not recognise, because force-format= names it.",
                            t.node, t.identity);
        return 0;
}

static int phase_volume(BootRun *b) {
        BootStatus *s = b->status;
        LuksParams p;
        int r;

        config_luks_params(b->config, &p);
        p.header_dir = b->args->header_dir;
        p.activate = true;
        p.device_rdev = b->device_rdev;

        /* A copy of the OS root must be mountable on the volume: decided before anything is formatted. */
        if (b->config->mode == ROOT_MODE_COPY) {
                unsigned limit;

                r = root_copy_sector_size(b->args->rootmnt, &limit);
                if (r < 0)
                        return r;
                if (p.sector_size > limit)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "Failed to set up the volume: sector-size=%u is larger than the OS root's blocks allow (%u); its copy could not be mounted. Use sector-size=0 or %u.",
                                               p.sector_size, limit, limit);
                if (p.sector_size == 0 && limit < 4096) {
                        log_notice("Using 512-byte encryption sectors: the OS root's filesystem has blocks smaller than 4096 bytes, and its copy must mount on the volume.");
                        p.sector_size = 512;
                }
        }
        r = luks_setup(s->device, b->key, &p, &b->volume);
        if (r < 0)
                return r;
        s->luks_uuid = strdup(b->volume.uuid);
        s->dm_node = strdup(b->volume.dm_node);
        s->cipher = strdup(b->volume.cipher);
        if (!s->luks_uuid || !s->dm_node || !s->cipher)
                return log_oom();
        s->sector_size = b->volume.sector_size;
        s->volume_size = b->volume.data_size;
        return 0;
}

static int phase_measure_disk(BootRun *b) {
        BootStatus *s = b->status;
        int r = 0;

        if (b->tpm)
                r = measure_volume_events(b->tpm, b->config,
                                          &(MeasureVolumeTarget) {
                                                  .identity = s->identity,
                                                  .role = s->role,
                                                  .classification = s->classification,
                                                  .forced = s->forced,
                                          },
                                          &b->volume, b->volume.dm_name, b->key);
        /* The key's last use: from here on it exists only in the kernel's keyring. */
        b->key = secret_free(b->key);
        return r;
}

/* After the disk events, before the root is laid (a refusal costs no copy) and before the closing
 * event: the quote covers everything measured so far. required: a failure is the boot's; optional: it
 * is logged, noted in status.json, and the boot goes on without the secrets. */
static int phase_attest(BootRun *b) {
        const Config *c = b->config;
        AttestResult res = {};
        int r;

        /* The boot script brought the network up (initramfs-tools' configure_networking) because attest
         * is on, but glibc finds the name servers it learnt only in /etc/resolv.conf. */
        (void) resolv_conf_ensure("/run", "/etc/resolv.conf");

        r = attest_run(c, b->tpm, b->args->secrets_dir ?: ATTEST_SECRETS_DIR, &res);
        if (r >= 0) {
                b->status->attested = true;
                b->status->attest_secrets = res.n_secrets;
                return 0;
        }
        if (c->attest == ATTEST_REQUIRED)
                return r;
        /* Survived: the error is not the boot's, so a later failure reports its own. */
        b->status->attest_error = strdup(log_first_error() ?: "unknown error");
        log_clear_first_error();
        log_warning("attest=optional: attestation failed (%s), going on without secrets.",
                    strna(b->status->attest_error));
        return 0;
}

int boot_measure_failure(Tpm2Context *tpm, const Config *c, const char *phase) {
        const unsigned pcrs[] = { c->pcr_kernel, c->pcr_initrd, c->pcr_cmdline, c->pcr_disk, c->pcr_leave };
        _cleanup_free_ char *s = NULL;
        uint32_t done = 0;
        int n = 0, r = 0;

        if (asprintf(&s, BOOT_FAILURE_PREFIX " phase=%s", phase) < 0)
                return log_oom();
        for (size_t i = 0; i < ELEMENTSOF(pcrs); i++) {
                int k;

                if (done & (1U << pcrs[i]))
                        continue;
                done |= 1U << pcrs[i];
                k = measure_string_event(tpm, c, MEASURE_EVENT_FAILURE, pcrs[i], s);
                if (k < 0) {
                        log_warning("Failed to extend the failure event into PCR %u.", pcrs[i]);
                        r = k;
                } else
                        n++;
        }
        /* Every PCR counts: a policy may use any one of them alone. */
        return r < 0 ? r : n;
}

/* Every PCR ephroot extends gets the failure event, so no policy over any of them can match. */
static void extend_failure(BootRun *b) {
        if (!b->tpm) {
                log_warning("No TPM is open: the failure cannot be measured.");
                return;
        }
        (void) boot_measure_failure(b->tpm, b->config, phase_names[b->status->phase]);
}

int boot_run(const Config *c, const BootArgs *a, BootStatus *st) {
        BootRun b = { .config = c, .args = a, .status = st };
        uint64_t start = now_usec(CLOCK_MONOTONIC);
        int r;

        assert_return(c && a && a->rootmnt && a->cmdline && st, -EINVAL);

        phase_begin(&b, BOOT_PHASE_MEASURE);
        r = phase_measure(&b);
        if (r < 0)
                goto fail;
        phase_end(&b, st->tpm ? "kernel, initrd, command line into PCR %u, %u, %u (%u banks)" : "skipped (tpm=none)",
                  c->pcr_kernel, c->pcr_initrd, c->pcr_cmdline, (unsigned) __builtin_popcount(st->banks));

        phase_begin(&b, BOOT_PHASE_KEY);
        r = keygen_volume_key(b.tpm, &b.key);
        if (r < 0)
                goto fail;
        phase_end(&b, "%u bytes, HKDF-SHA256 over TPM and kernel randomness", KEYGEN_KEY_SIZE);

        phase_begin(&b, BOOT_PHASE_DISK);
        r = phase_disk(&b);
        if (r < 0)
                goto fail;
        phase_end(&b, "%s (%s, %s%s)", st->device, st->role, st->classification, st->forced ? ", FORCED" : "");

        phase_begin(&b, BOOT_PHASE_VOLUME);
        r = phase_volume(&b);
        if (r < 0)
                goto fail;
        phase_end(&b, "%s: LUKS2 %s, %u-byte sectors, header in tmpfs", st->dm_node, st->cipher, st->sector_size);

        phase_begin(&b, BOOT_PHASE_MEASURE_DISK);
        r = phase_measure_disk(&b);
        if (r < 0)
                goto fail;
        phase_end(&b, st->tpm ? "disk and volume-key events into PCR %u" : "skipped (tpm=none)", c->pcr_disk);

        /* attest=off (the default): no phase at all, neither on the console nor in status.json. */
        if (c->attest != ATTEST_OFF) {
                phase_begin(&b, BOOT_PHASE_ATTEST);
                r = phase_attest(&b);
                if (r < 0)
                        goto fail;
                if (st->attested)
                        phase_end(&b, "%s to %s: %u secret%s in %s", c->attest_tee, c->kbs_url, st->attest_secrets,
                                  st->attest_secrets == 1 ? "" : "s", a->secrets_dir ?: ATTEST_SECRETS_DIR);
                else
                        phase_end(&b, "FAILED (attest=optional, going on without secrets)");
        }

        phase_begin(&b, BOOT_PHASE_ROOT);
        r = root_lay(c, a->rootmnt, st->dm_node, st->volume_size, st->device, &st->root);
        if (r < 0)
                goto fail;
        if (c->mode == ROOT_MODE_COPY)
                phase_end(&b, "copy of %s: %" PRIu64 " MiB read (%s), grown to %" PRIu64 " MiB", st->root.source_node,
                          st->root.copy.copied >> 20, st->root.copy.ext4 ? "used blocks" : "whole device",
                          st->root.grown_to >> 20);
        else
                phase_end(&b, "overlay: %s read-only under an ext4 upper on %s", st->root.source_node, st->dm_node);

        phase_begin(&b, BOOT_PHASE_LEAVE);
        if (b.tpm) {
                r = measure_string_event(b.tpm, c, MEASURE_EVENT_LEAVE_INITRD, c->pcr_leave, BOOT_LEAVE_STRING);
                if (r < 0)
                        goto fail;
        }
        phase_end(&b, st->tpm ? "\"" BOOT_LEAVE_STRING "\" into PCR %u" : "skipped (tpm=none)", c->pcr_leave);

        st->total_usec = now_usec(CLOCK_MONOTONIC) - start;
        tpm2_context_free(b.tpm);
        luks_volume_done(&b.volume);
        return 0;

fail:
        st->failed = true;
        st->total_usec = now_usec(CLOCK_MONOTONIC) - start;
        st->error = strdup(log_first_error() ?: "unknown error");
        b.key = secret_free(b.key);
        extend_failure(&b);
        tpm2_context_free(b.tpm);
        luks_volume_done(&b.volume);
        return r;
}
