/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The boot's phases, in order, each timed and printed, failing closed at the first error, and the
 * steps `ephroot volume` shares with them (target checks, TPM, measuring the volume). Each failure is
 * reported once, by one sentence: a phase sets it (BootError), or a callee logs it and the boot
 * collects it while it runs. */

#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
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
#include "root-fstab.h"
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
        boot_target_done(&s->target);
        s->luks_uuid = mfree(s->luks_uuid);
        s->dm_node = mfree(s->dm_node);
        s->cipher = mfree(s->cipher);
        s->error = mfree(s->error);
        s->attest_error = mfree(s->attest_error);
        root_layout_done(&s->root);
}

int boot_error_set(BootError *e, int error, const char *format, ...) {
        int saved_errno = errno;
        va_list ap;

        if (!boot_error_isset(e)) {
                errno = ERRNO_VALUE(error); /* for %m */
                va_start(ap, format);
                (void) vsnprintf(e->message, sizeof(e->message), format, ap);
                va_end(ap);
                errno = saved_errno;
        }
        return -ERRNO_VALUE(error);
}

static void collect_error(const char *message, void *userdata) {
        BootError *e = userdata;

        if (!boot_error_isset(e))
                (void) snprintf(e->message, sizeof(e->message), "%s", message);
}

void boot_error_collect(BootError *e) {
        e->sink = (LogErrorSink) { .error = collect_error, .userdata = e };
        e->prev = log_set_error_sink(&e->sink);
}

void boot_error_collect_end(BootError *e) {
        (void) log_set_error_sink(e->prev);
        e->prev = NULL;
}

void boot_target_done(BootTarget *t) {
        if (!t)
                return;
        t->node = mfree(t->node);
        t->identity = mfree(t->identity);
        t->role = mfree(t->role);
        t->classification = mfree(t->classification);
        t->reason = mfree(t->reason);
}

int boot_open_tpm(const Config *c, Tpm2Context **ret, BootError *e) {
        BootError logged = {};
        int r;

        r = tpm2_context_new(c->tcti, ret);
        if (r >= 0)
                return 0;
        r = boot_error_set(e ?: &logged, r, "Failed to open the TPM through TCTI '%s': %m", c->tcti);
        if (!e)
                log_error_errno(r, "%s", logged.message);
        return r;
}

/* A path named on the command line may be an image file: it must exist, be a file or a block device,
 * and a file must not back a loop device. */
static int check_named_path(const char *device, BootError *e) {
        _cleanup_free_ char *loop = NULL;
        struct stat st;
        int r;

        if (stat(device, &st) < 0) {
                if (errno == ENOENT)
                        return boot_error_set(e, SYNTHETIC_ERRNO(ENOENT), "Refusing to format '%s': it does not exist.",
                                              device);
                return boot_error_set(e, errno, "Refusing to format '%s': cannot look at it: %m", device);
        }
        if (S_ISDIR(st.st_mode))
                return boot_error_set(e, SYNTHETIC_ERRNO(EISDIR), "Refusing to format '%s': it is a directory.", device);
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                return boot_error_set(e, SYNTHETIC_ERRNO(ENOTBLK),
                                      "Refusing to format '%s': it is neither a block device nor an image file.", device);
        if (!S_ISREG(st.st_mode))
                return 0;
        r = disk_find_loop_backing("/", device, &loop);
        if (r < 0)
                return boot_error_set(e, r, "Refusing to format '%s': cannot check whether it is in use: %m", device);
        if (r > 0)
                return boot_error_set(e, SYNTHETIC_ERRNO(EBUSY),
                                      "Refusing to format '%s': it is in use as the backing file of %s.", device, loop);
        return 0;
}

int boot_pick_target(const Config *c, const char *device, bool named, const char *rootmnt, BootTarget *ret,
                     BootError *e) {
        _cleanup_(disk_list_done) DiskList l = {};
        _cleanup_(disk_target_done) DiskTarget t = {};
        _cleanup_(boot_target_done) BootTarget bt = {};
        int r;

        assert_return(c && device && ret && e, -EINVAL);

        if (named) {
                r = check_named_path(device, e);
                if (r < 0)
                        return r;
        }
        r = disk_enumerate("/", disk_nvme_read_vs, NULL, &l);
        if (r < 0)
                return boot_error_set(e, r, "Failed to enumerate the disks: %m");
        r = disk_pick_target(&(DiskTargetRequest) {
                                     .root = "/",
                                     .device = device,
                                     .force_format = c->force_format,
                                     .rootmnt = rootmnt,
                                     .inspect = named,
                             },
                             &l, &t);
        if (r < 0)
                return boot_error_set(e, r, "Out of memory.");
        if (!t.node)
                return boot_error_set(e, SYNTHETIC_ERRNO(ENODEV), "Failed to find a disk to format: %s", strna(t.reason));
        if (!t.ok)
                return boot_error_set(e, SYNTHETIC_ERRNO(EPERM), "%s.", strna(t.reason));

        bt = (BootTarget) {
                .node = strdup(t.node),
                .identity = t.identity ? strdup(t.identity) : NULL,
                .role = strdup(t.disk ? disk_role_to_string(t.disk->role) : "image"),
                .classification = strdup(disk_class_to_string(t.class)),
                .reason = strdup(strempty(t.reason)),
                .forced = t.forced,
                .rdev = t.rdev,
        };
        if (!bt.node || !bt.role || !bt.classification || !bt.reason || (t.identity && !bt.identity))
                return boot_error_set(e, SYNTHETIC_ERRNO(ENOMEM), "Out of memory.");
        *ret = bt;
        bt = (BootTarget) {};
        return 0;
}

int boot_measure_volume(Tpm2Context *tpm, const Config *c, const BootTarget *t, LuksVolume *v,
                        const char *dm_name, Secret **key) {
        int r = 0;

        if (tpm)
                r = measure_volume_events(tpm, c,
                                          &(MeasureVolumeTarget) {
                                                  .identity = t->identity,
                                                  .role = t->role,
                                                  .classification = t->classification,
                                                  .forced = t->forced,
                                          },
                                          v, dm_name, *key);
        /* The key's last use: from here on it exists only in the kernel's keyring. */
        *key = secret_free(*key);
        if (r < 0 && v->dm_name)
                (void) luks_deactivate(v->dm_name);
        return r;
}

typedef struct BootRun {
        const Config *config;
        const BootArgs *args;
        BootStatus *status;
        BootError error;
        Tpm2Context *tpm;
        Secret *key;
        LuksVolume volume;
        char *fstab;                 /* the OS root's /etc/fstab, read once (phase disk) */
        FstabHostMounts host_mounts; /* its lines on host disks (commented out: host-mounts=comment) */
        RootVerityJob verity;        /* verity-root-hash=: the OS root opened through dm-verity (phase volume on) */
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

/* "/boot/<prefix>-<uname -r>", a path inside the OS root. */
static int default_boot_file(const char *prefix, char **ret) {
        struct utsname u;

        if (uname(&u) < 0)
                return -errno;
        return asprintf(ret, "/boot/%s-%s", prefix, u.release) < 0 ? -ENOMEM : 0;
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
        r = boot_open_tpm(c, &b->tpm, &b->error);
        if (r < 0)
                return r;
        r = measure_get_banks(b->tpm, c->tcti, &b->status->banks);
        if (r < 0)
                return r;
        b->status->tpm = true;

        /* The OS disk's files are the host's: resolved inside the OS root, never through a symlink out
         * of it. --kernel/--initrd (the initramfs script's or a test's choice) are taken as given. */
        if (a->kernel)
                return measure_boot_inputs(b->tpm, c, &(MeasureInputs) { a->kernel, a->initrd, a->cmdline });
        if (default_boot_file("vmlinuz", &kernel) < 0 || default_boot_file("initrd.img", &initrd) < 0)
                return log_oom();
        return measure_boot_inputs(b->tpm, c, &(MeasureInputs) { kernel, initrd, a->cmdline, .root = a->rootmnt });
}

/* A line from the host's disk, fit for one message: printable ASCII only (a tab is a space, anything
 * else '?'), at most 200 bytes. */
static void sanitize_line(const char *line, char buf[static 204]) {
        size_t n = 0;

        for (const char *p = line; *p && n < 200; p++)
                buf[n++] = *p == '\t' ? ' ' : *p >= 0x20 && *p < 0x7f ? *p : '?';
        if (line[n] != '\0')
                buf[n++] = '.', buf[n++] = '.', buf[n++] = '.';
        buf[n] = '\0';
}

/* The OS root's /etc/fstab, read once and judged before anything is formatted: a mount or swap on a
 * host disk (other than /, /boot, /boot/efi, /efi and the resource disk) fails the boot naming the
 * line, or with host-mounts=comment is noted for the rewrite and the measurement. The text read here
 * is the one written back (the host could serve another one on a second read). */
static int check_fstab(BootRun *b) {
        const FstabHostMounts *m = &b->host_mounts;
        const char *rootmnt = b->args->rootmnt;
        char line[204];
        int r;

        r = fstab_read(rootmnt, &b->fstab);
        if (r < 0)
                return r;
        r = fstab_host_mounts(b->fstab, b->status->target.node, &b->host_mounts);
        if (r == -EFBIG)
                return boot_error_set(&b->error, r, "Failed to check '%s/etc/fstab': more than %u lines, refusing.",
                                      rootmnt, FSTAB_LINES_MAX);
        if (r < 0)
                return boot_error_set(&b->error, r, "Failed to check '%s/etc/fstab': %m", rootmnt);
        if (m->n == 0)
                return 0;
        sanitize_line(m->texts[0], line);
        if (b->config->host_mounts == HOST_MOUNTS_REFUSE)
                return boot_error_set(&b->error, SYNTHETIC_ERRNO(EPERM),
                                      "Refusing to boot: /etc/fstab line %u mounts a disk the host reads: '%s'%s. Move it into the root, or set host-mounts=comment to leave it unmounted.",
                                      m->lines[0], line, m->n > 1 ? " (and more lines)" : "");
        for (size_t i = 0; i < m->n; i++) {
                sanitize_line(m->texts[i], line);
                log_warning("host-mounts=comment: /etc/fstab line %u mounts a disk the host reads, commenting it out: '%s'",
                            m->lines[i], line);
        }
        return 0;
}

static int phase_disk(BootRun *b) {
        const BootTarget *t = &b->status->target;
        int r;

        r = boot_pick_target(b->config, b->config->device, /* named= */ false, b->args->rootmnt, &b->status->target,
                             &b->error);
        if (r < 0)
                return r;
        if (t->forced)
                log_warning("FORCED: formatting '%s' (%s), which holds something ephroot does not recognise, because force-format= names it.",
                            t->node, t->identity);
        return check_fstab(b);
}

/* host-mounts=comment: what was commented out, into pcr-disk before attestation, so a verifier sees it. */
static int measure_host_mounts(BootRun *b) {
        const FstabHostMounts *m = &b->host_mounts;
        _cleanup_free_ char *s = NULL;
        int r;

        if (!b->tpm || m->n == 0)
                return 0;
        r = measure_host_mounts_string(m->lines, (const char *const *) m->texts, m->n, &s);
        if (r < 0)
                return log_oom();
        return measure_string_event(b->tpm, b->config, MEASURE_EVENT_HOST_MOUNTS, b->config->pcr_disk, s);
}

/* verity-root-hash= set: the root hash the OS root will be checked against, into pcr-disk before
 * attestation and before the root is opened with it. */
static int measure_verity(BootRun *b) {
        _cleanup_free_ char *s = NULL;

        if (!b->tpm || !b->config->verity_root_hash.set)
                return 0;
        if (measure_verity_string(b->config->verity_root_hash.bytes, verity_error_to_string(b->config->verity_error), &s) < 0)
                return log_oom();
        return measure_string_event(b->tpm, b->config, MEASURE_EVENT_VERITY, b->config->pcr_disk, s);
}

static int phase_volume(BootRun *b) {
        BootStatus *s = b->status;
        LuksParams p;
        int r;

        config_luks_params(b->config, &p);
        p.header_dir = b->args->header_dir;
        p.activate = true;
        p.device_rdev = s->target.rdev;

        /* A copy of the OS root must be mountable on the volume: decided before anything is formatted. */
        if (b->config->mode == ROOT_MODE_COPY) {
                unsigned limit;

                r = root_copy_sector_size(b->args->rootmnt, &limit);
                if (r < 0)
                        return r;
                if (p.sector_size > limit)
                        return boot_error_set(&b->error, SYNTHETIC_ERRNO(EINVAL),
                                              "Failed to set up the volume: sector-size=%u is larger than the OS root's blocks allow (%u); its copy could not be mounted. Use sector-size=0 or %u.",
                                              p.sector_size, limit, limit);
                if (p.sector_size == 0 && limit < 4096) {
                        log_notice("Using 512-byte encryption sectors: the OS root's filesystem has blocks smaller than 4096 bytes, and its copy must mount on the volume.");
                        p.sector_size = 512;
                }
        }
        /* The last use of the host-visible mount: from here the OS root is opened through dm-verity
         * in a child process while the volume is set up, and the root phase waits for it. */
        if (b->config->verity_root_hash.set) {
                r = root_verity_start(b->config, b->args->rootmnt, b->config->mode != ROOT_MODE_COPY, &b->verity);
                if (r < 0)
                        return r;
        }
        r = luks_setup(s->target.node, b->key, &p, &b->volume);
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
        /* Survived: the sentence is not the boot's, so a later failure reports its own. */
        b->status->attest_error = strdup(boot_error_isset(&b->error) ? b->error.message : "unknown error");
        boot_error_clear(&b->error);
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
                /* A PCR that cannot be extended is named by measure_string_event(); the others are
                 * still tried. */
                k = measure_string_event(tpm, c, MEASURE_EVENT_FAILURE, pcrs[i], s);
                if (k < 0)
                        r = k;
                else
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

/* The phases in order; returns at the first failure, with st->phase naming it. */
static int run_phases(BootRun *b) {
        const Config *c = b->config;
        BootStatus *st = b->status;
        int r;

        phase_begin(b, BOOT_PHASE_MEASURE);
        r = phase_measure(b);
        if (r < 0)
                return r;
        phase_end(b, st->tpm ? "kernel, initrd, command line into PCR %u, %u, %u (%u banks)" : "skipped (tpm=none)",
                  c->pcr_kernel, c->pcr_initrd, c->pcr_cmdline, (unsigned) __builtin_popcount(st->banks));

        phase_begin(b, BOOT_PHASE_KEY);
        r = keygen_volume_key(b->tpm, &b->key);
        if (r < 0)
                return r;
        phase_end(b, "%u bytes, HKDF-SHA256 over TPM and kernel randomness", KEYGEN_KEY_SIZE);

        phase_begin(b, BOOT_PHASE_DISK);
        r = phase_disk(b);
        if (r < 0)
                return r;
        phase_end(b, "%s (%s, %s%s)", st->target.node, st->target.role, st->target.classification,
                  st->target.forced ? ", FORCED" : "");

        phase_begin(b, BOOT_PHASE_VOLUME);
        r = phase_volume(b);
        if (r < 0)
                return r;
        phase_end(b, "%s: LUKS2 %s, %u-byte sectors, header in tmpfs", st->dm_node, st->cipher, st->sector_size);

        phase_begin(b, BOOT_PHASE_MEASURE_DISK);
        r = boot_measure_volume(b->tpm, c, &st->target, &b->volume, b->volume.dm_name, &b->key);
        if (r >= 0)
                r = measure_host_mounts(b);
        if (r >= 0)
                r = measure_verity(b);
        if (r < 0)
                return r;
        phase_end(b, st->tpm ? "disk and volume-key events%s%s into PCR %u" : "skipped (tpm=none)",
                  b->host_mounts.n > 0 ? ", host-mounts event" : "", c->verity_root_hash.set ? ", verity event" : "",
                  c->pcr_disk);

        /* attest=off (the default): no phase at all, neither on the console nor in status.json. */
        if (c->attest != ATTEST_OFF) {
                phase_begin(b, BOOT_PHASE_ATTEST);
                r = phase_attest(b);
                if (r < 0)
                        return r;
                if (st->attested)
                        phase_end(b, "%s to %s: %u secret%s in %s", c->attest_tee, c->kbs_url, st->attest_secrets,
                                  st->attest_secrets == 1 ? "" : "s", b->args->secrets_dir ?: ATTEST_SECRETS_DIR);
                else
                        phase_end(b, "FAILED (attest=optional, going on without secrets)");
        }

        phase_begin(b, BOOT_PHASE_ROOT);
        r = root_lay(c, b->args->rootmnt, st->dm_node, st->volume_size, st->target.node, b->fstab,
                     c->verity_root_hash.set ? &b->verity : NULL, &st->root);
        if (r < 0)
                return r;
        if (c->mode == ROOT_MODE_COPY)
                phase_end(b, "copy of %s: %" PRIu64 " MiB read (%s), grown to %" PRIu64 " MiB", st->root.source_node,
                          st->root.copy.copied >> 20, st->root.copy.ext4 ? "used blocks" : "whole device",
                          st->root.grown_to >> 20);
        else
                phase_end(b, "overlay: %s%s%s read-only under an ext4 upper on %s", st->root.source_node,
                          st->root.verity_node ? " through dm-verity as " : "", strempty(st->root.verity_node), st->dm_node);

        phase_begin(b, BOOT_PHASE_LEAVE);
        if (b->tpm) {
                r = measure_string_event(b->tpm, c, MEASURE_EVENT_LEAVE_INITRD, c->pcr_leave, BOOT_LEAVE_STRING);
                if (r < 0)
                        return r;
        }
        phase_end(b, st->tpm ? "\"" BOOT_LEAVE_STRING "\" into PCR %u" : "skipped (tpm=none)", c->pcr_leave);
        return 0;
}

int boot_run(const Config *c, const BootArgs *a, BootStatus *st) {
        BootRun b = { .config = c, .args = a, .status = st, .verity = ROOT_VERITY_JOB_NULL };
        uint64_t start = now_usec(CLOCK_MONOTONIC);
        int r;

        assert_return(c && a && a->rootmnt && a->cmdline && st, -EINVAL);

        boot_error_collect(&b.error);
        r = run_phases(&b);
        st->total_usec = now_usec(CLOCK_MONOTONIC) - start;
        if (r < 0) {
                st->failed = true;
                st->error = strdup(boot_error_isset(&b.error) ? b.error.message : "unknown error");
                b.key = secret_free(b.key);
                extend_failure(&b);
        }
        boot_error_collect_end(&b.error);
        root_verity_job_done(&b.verity);
        tpm2_context_free(b.tpm);
        luks_volume_done(&b.volume);
        free(b.fstab);
        fstab_host_mounts_done(&b.host_mounts);
        return r;
}
