/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Image-only prediction of PCRs 4, 8 and 9 (boot-predict.h). The event order of PCR 4 is EDK2's
 * (OVMF; checked against the genuine logs of the fixtures, see tests/cli/test-reference-image.sh):
 * Tcg2Dxe measures the action string when the boot manager first calls a boot option, then the
 * separators of PCRs 0-6, then each image LoadImage() starts. Other firmware (Azure's Hyper-V UEFI,
 * older firmware without the action event) orders PCR 4 differently: docs/measurements.md. GRUB's
 * strings and files as grub-core/commands/tpm.c measures them (read at coreos/grub
 * d6ca0a90cac78f40ea4a04ac6894784c5313cbe9; the same in GRUB 2.06). A UKI's sections as systemd-stub
 * measures them into PCR 11 (docs/TPM2_PCR_MEASUREMENTS.md; the order is its UnifiedSection enum). */

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

#include "boot-predict.h"
#include "pe-authenticode.h"
#include "tcg-log.h"
#include "util.h"

#define TCG_EV_EFI_ACTION 0x80000007U

void boot_predict_done(BootPredict *bp) {
        for (size_t i = 0; i < bp->n_events; i++)
                free(bp->events[i].description);
        free(bp->events);
        bp->events = NULL;
        bp->n_events = bp->allocated = 0;
}

/* Appends an event; takes description (freed on failure too). */
static int add_event(BootPredict *bp, uint32_t pcr, uint32_t type, const Digest *digests,
                     char *description) {
        _cleanup_free_ char *d = description;

        if (!d)
                return -ENOMEM;
        if (bp->n_events >= BOOT_PREDICT_EVENTS_MAX)
                return -E2BIG;
        if (bp->n_events >= bp->allocated) {
                size_t want = bp->allocated ? bp->allocated * 2 : 16;
                BootPredictEvent *p = reallocarray(bp->events, want, sizeof(BootPredictEvent));

                if (!p)
                        return -ENOMEM;
                bp->events = p;
                bp->allocated = want;
        }
        bp->events[bp->n_events] = (BootPredictEvent) { .pcr = pcr, .type = type, .description = TAKE_PTR(d) };
        FOREACH_HASH_ALG(alg, bp->banks)
                bp->events[bp->n_events].digests[alg] = digests[alg];
        bp->n_events++;
        return 0;
}

static int hash_all(unsigned banks, const void *p, size_t n, Digest *ret) {
        FOREACH_HASH_ALG(alg, banks) {
                int r = hash_buffer(alg, p, n, ret + alg);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool has_pcr(const BootPredict *bp, uint32_t pcr) {
        for (size_t i = 0; i < bp->n_events; i++)
                if (bp->events[i].pcr == pcr)
                        return true;
        return false;
}

/* EDK2's events before the first boot option's application: the action, then PCR 4's separator. */
static int add_boot_option_prologue(BootPredict *bp) {
        static const uint8_t separator[4] = {};
        Digest d[_HASH_ALG_MAX];
        int r;

        r = hash_all(bp->banks, BOOT_PREDICT_EFI_ACTION, strlen(BOOT_PREDICT_EFI_ACTION), d);
        if (r >= 0)
                r = add_event(bp, BOOT_PREDICT_EFI_PCR, TCG_EV_EFI_ACTION, d, strdup(BOOT_PREDICT_EFI_ACTION));
        if (r >= 0)
                r = hash_all(bp->banks, separator, sizeof(separator), d);
        if (r >= 0)
                r = add_event(bp, BOOT_PREDICT_EFI_PCR, TCG_EV_SEPARATOR, d, strdup("00000000"));
        return r;
}

int boot_predict_efi_app(BootPredict *bp, const char *name, const uint8_t *image, size_t size, const char **ret_why) {
        Digest d[_HASH_ALG_MAX];
        int r;

        assert_return(bp && name && image, -EINVAL);
        r = pe_authenticode_digest(image, size, bp->banks, d, ret_why);
        if (r < 0)
                return r;
        if (!has_pcr(bp, BOOT_PREDICT_EFI_PCR)) {
                r = add_boot_option_prologue(bp);
                if (r < 0)
                        return r;
        }
        return add_event(bp, BOOT_PREDICT_EFI_PCR, TCG_EV_EFI_BOOT_SERVICES_APPLICATION, d, strdup(name));
}

int boot_predict_grub_file(BootPredict *bp, const char *name, const Digest *digests) {
        assert_return(bp && name && digests, -EINVAL);
        return add_event(bp, BOOT_PREDICT_FILE_PCR, TCG_EV_IPL, digests, strdup(name));
}

int boot_predict_grub_string(BootPredict *bp, BootPredictString kind, const char *s) {
        Digest d[_HASH_ALG_MAX];
        char *description;
        int r;

        assert_return(bp && s, -EINVAL);
        /* GRUB hashes the string alone and logs it behind its prefix (grub-core/commands/tpm.c) */
        r = hash_all(bp->banks, s, strlen(s), d);
        if (r < 0)
                return r;
        if (asprintf(&description, "%s%s", kind == BOOT_PREDICT_GRUB_COMMAND ? "grub_cmd: " : "kernel_cmdline: ", s) < 0)
                return -ENOMEM;
        return add_event(bp, BOOT_PREDICT_STRING_PCR, TCG_EV_IPL, d, description);
}

int boot_predict_replay(const BootPredict *bp, PcrValues *ret) {
        PcrValues v = { .banks = bp->banks };
        int r;

        assert_return(bp && ret, -EINVAL);
        for (unsigned p = 0; p < MEASURE_PCR_COUNT; p++)
                FOREACH_HASH_ALG(alg, bp->banks)
                        hash_zero(alg, &v.values[p][alg]);
        for (size_t i = 0; i < bp->n_events; i++) {
                const BootPredictEvent *e = bp->events + i;

                FOREACH_HASH_ALG(alg, bp->banks) {
                        r = hash_extend(&v.values[e->pcr][alg], e->digests + alg);
                        if (r < 0)
                                return r;
                }
                v.pcr_mask |= 1U << e->pcr;
        }
        *ret = v;
        return 0;
}

/* systemd-stub's canonical order (its UnifiedSection enum) of the sections it measures; .pcrsig is
 * never measured, and a stub skips the sections it does not know and the absent or empty ones. Each
 * section from the release whose NEWS says its stub takes it (254 .uname, 256 .ucode, 257 .hwids;
 * .sbat is in 254's table). tests/cli/test-uki-measure.sh checks the list against the stubs' own
 * tables in 252's, 254's and 257's systemd-measure and 257's systemd-pcrlock lock-uki. */
static const struct {
        const char *name;
        unsigned since;
} uki_sections[] = {
        { ".linux", 0 },     { ".osrel", 0 },  { ".cmdline", 0 }, { ".initrd", 0 },
        { ".ucode", 256 },   { ".splash", 0 }, { ".dtb", 0 },     { ".uname", 254 },
        { ".sbat", 254 },    { ".pcrpkey", 0 }, { ".hwids", 257 },
};

/* Sections whose measurement depends on more than the file: a multi-profile UKI (.profile, 257) is
 * measured per profile, the one the boot menu picked; .dtbauto (257) and .efifw (after 257) are
 * chosen by the stub among several for the machine. Such a UKI is refused, not mispredicted. */
static const struct {
        const char *name, *why;
} uki_refused[] = {
        { ".profile", "a multi-profile UKI (.profile): measured per profile, not predicted" },
        { ".dtbauto", "a UKI with .dtbauto: measured as the stub picks it for the machine, not predicted" },
        { ".efifw", "a UKI with .efifw: measured as the stub picks it for the machine, not predicted" },
};

/* The stub's version from .sdmagic ("#### LoaderInfo: systemd-stub 252.39-1~deb12u2 ####"). */
static int uki_stub_version(const uint8_t *image, size_t size, unsigned *ret, const char **ret_why) {
        static const char key[] = "systemd-stub ";
        char text[256];
        PeSection s;
        unsigned v = 0;
        const char *p;
        int r;

        r = pe_section_find(image, size, ".sdmagic", &s, ret_why);
        if (r == -ENOENT) {
                if (ret_why)
                        *ret_why = "no .sdmagic section: not a systemd-stub UKI, or a stub too old to say its version";
                return -EBADMSG;
        }
        if (r < 0)
                return r;
        memset(text, 0, sizeof(text));
        memcpy(text, image + s.raw.offset, MIN(s.raw.size, sizeof(text) - 1));
        p = strstr(text, key);
        if (!p || !isdigit((unsigned char) p[strlen(key)])) {
                if (ret_why)
                        *ret_why = ".sdmagic does not name a systemd-stub version";
                return -EBADMSG;
        }
        for (p += strlen(key); isdigit((unsigned char) *p) && v < 100000; p++)
                v = v * 10 + (unsigned) (*p - '0');
        *ret = v;
        return 0;
}

int boot_predict_uki(BootPredict *bp, const uint8_t *image, size_t size, const char **ret_why) {
        unsigned version;
        bool linux_seen = false;
        int r;

        assert_return(bp && image, -EINVAL);
        r = uki_stub_version(image, size, &version, ret_why);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(uki_refused); i++) {
                r = pe_section_find(image, size, uki_refused[i].name, &(PeSection) {}, ret_why);
                if (r == -ENOENT)
                        continue;
                if (r >= 0 && ret_why)
                        *ret_why = uki_refused[i].why;
                return r >= 0 ? -EBADMSG : r;
        }
        for (size_t i = 0; i < ELEMENTSOF(uki_sections); i++) {
                Digest d[_HASH_ALG_MAX];
                PeSection s;

                if (version < uki_sections[i].since)
                        continue;
                r = pe_section_find(image, size, uki_sections[i].name, &s, ret_why);
                if (r == -ENOENT || (r >= 0 && s.virtual_size == 0))
                        continue; /* the stub skips absent and empty sections */
                if (r < 0)
                        return r;
                linux_seen = linux_seen || i == 0;
                /* the name with its NUL, then the data */
                r = hash_all(bp->banks, uki_sections[i].name, strlen(uki_sections[i].name) + 1, d);
                if (r >= 0)
                        r = add_event(bp, BOOT_PREDICT_UKI_PCR, TCG_EV_IPL, d, strdup(uki_sections[i].name));
                if (r >= 0)
                        r = pe_section_digest(image, &s, bp->banks, d);
                if (r >= 0)
                        r = add_event(bp, BOOT_PREDICT_UKI_PCR, TCG_EV_IPL, d, strdup(uki_sections[i].name));
                if (r < 0)
                        return r;
        }
        if (!linux_seen) {
                if (ret_why)
                        *ret_why = "no .linux section: not a UKI";
                return -EBADMSG;
        }
        return 0;
}
