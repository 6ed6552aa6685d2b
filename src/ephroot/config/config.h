/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "luks.h"
#include "macro.h"

#define CONFIG_FILE_DEFAULT "/etc/ephroot.conf"
#define CONFIG_TCTI_DEFAULT "device:/dev/tpmrm0"
#define CONFIG_MEASURE_LOG_DEFAULT "/run/log/systemd/tpm2-measure.log"
#define CONFIG_DEVICE_AUTO "auto"
#define CONFIG_IDENTITY_MAX 256U
#define CONFIG_FILE_SIZE_MAX (64U * 1024U)
#define CMDLINE_SIZE_MAX (64U * 1024U)

/* PCRs ephroot may extend: not firmware's (0-7), not resettable (16, 23), not DRTM (17-22). */
#define CONFIG_PCR_MIN 8U
#define CONFIG_PCR_MAX 15U

typedef enum RootMode {
        ROOT_MODE_COPY,
        ROOT_MODE_OVERLAY,
        _ROOT_MODE_MAX,
} RootMode;

typedef enum FailureAction {
        FAILURE_ACTION_HALT,
        FAILURE_ACTION_POWEROFF,
        FAILURE_ACTION_REBOOT,
        _FAILURE_ACTION_MAX,
} FailureAction;

/* An /etc/fstab mount or swap on a host disk (docs/boot.md, "Other mounts"). */
typedef enum HostMounts {
        HOST_MOUNTS_REFUSE,  /* the boot fails, naming the line */
        HOST_MOUNTS_COMMENT, /* the line is commented out, and that is measured */
        _HOST_MOUNTS_MAX,
} HostMounts;

/* Whether the kernel and initrd measured must be the ones the boot loader measured (docs/measurements.md,
 * "Bound to what the firmware and the boot loader measured"). */
typedef enum BootChain {
        BOOT_CHAIN_AUTO,     /* checked when the firmware has a log; required when it logs boot loader files */
        BOOT_CHAIN_REQUIRED, /* no firmware log, or one without the boot loader's files: the boot fails */
        BOOT_CHAIN_OFF,
        _BOOT_CHAIN_MAX,
} BootChain;

#define CONFIG_KBS_URLS_MAX 8U        /* brokers in kbs-url, tried in order */
#define CONFIG_FAILURE_DELAY_MAX 300U  /* seconds before a failure action, at most */
#define CONFIG_ROOT_HASH_SIZE 32U      /* sha256 */
#define CONFIG_AZURE_IMDS_URL_DEFAULT "http://169.254.169.254"
#define CONFIG_AZURE_REPORT_TIMEOUT_MAX 120U /* seconds */

typedef struct RootHash {
        bool set;
        uint8_t bytes[CONFIG_ROOT_HASH_SIZE];
} RootHash;

/* What the kernel does when a block of the OS root does not match its dm-verity hash (docs/verity.md). */
typedef enum VerityError {
        VERITY_ERROR_EIO,   /* the read fails with EIO and the kernel logs it */
        VERITY_ERROR_PANIC, /* the kernel panics */
        _VERITY_ERROR_MAX,
} VerityError;

#define CONFIG_VERITY_HASH_OFFSET_AUTO UINT64_MAX /* the filesystem size rounded up to 4096 */

typedef enum AttestMode {
        ATTEST_OFF,
        ATTEST_OPTIONAL,
        ATTEST_REQUIRED,
        _ATTEST_MODE_MAX,
} AttestMode;

typedef enum AttestKeyType {
        ATTEST_KEY_EC,   /* P-256, ECDH-ES+A256KW */
        ATTEST_KEY_RSA,  /* RSA-3072, RSA-OAEP-256 */
        _ATTEST_KEY_TYPE_MAX,
} AttestKeyType;

#define CONFIG_SECRETS_MAX 16U
#define CONFIG_ATTEST_PCRS_DEFAULT 0xFFFFFFU /* sha256 0-23: Trustee's tpm verifier hashes every value carried */
#define CONFIG_ATTEST_TIMEOUT_MAX 600U

typedef struct ConfigSecret {
        char *name;     /* the file under /run/ephroot/secrets/ */
        char *resource; /* <repo>/<type>/<tag> */
} ConfigSecret;

typedef struct Config {
        bool enabled;
        bool lock;          /* the file's lock = yes: the command line may not change any [s] key */
        int log_level;
        char *tcti;
        unsigned pcr_kernel;
        unsigned pcr_initrd;
        unsigned pcr_cmdline;
        char *measure_log;
        char *device;       /* "auto" or an absolute path */
        char *force_format; /* a disk identity (see docs/disks.md), or NULL */
        RootMode mode;
        RootHash root_hash;                       /* expected `ephroot root-hash` of the OS root */
        HostMounts host_mounts;
        /* dm-verity under the OS root (docs/verity.md): set root hash, the tree's place, on corruption. */
        RootHash verity_root_hash;
        uint64_t verity_hash_offset;              /* bytes, or CONFIG_VERITY_HASH_OFFSET_AUTO */
        char *verity_hash_device;                 /* NULL: the OS root device itself */
        VerityError verity_error;
        BootChain boot_chain;
        FailureAction failure_action;
        unsigned failure_delay;                   /* seconds, before poweroff/reboot */
        unsigned pcr_leave;                       /* the closing "leave-initrd" event */
        /* The volume (docs/volume.md); crypttab-like names. */
        unsigned pcr_disk;       /* the disk event and the volume-key event */
        LuksIntegrity integrity;
        unsigned sector_size;    /* 0 (auto), 512, 4096 */
        bool discard;            /* activation: allow-discards */
        bool format_discard;     /* one discard of the whole disk before formatting */
        bool no_read_workqueue;
        bool no_write_workqueue;
        bool tpm_required;       /* tpm=required; false is tpm=none, development only */
        /* Azure evidence (docs/azure.md) */
        char *azure_imds_url;           /* base URL of the instance metadata service */
        unsigned azure_report_timeout;  /* seconds to wait for the paravisor's fresh HCL report */
        /* Attestation (docs/attestation.md). */
        AttestMode attest;
        char *kbs_url;              /* one or more base URLs, joined by commas */
        char *kbs_ca_file;
        char *kbs_pin;
        bool kbs_insecure;          /* a plain-HTTP kbs-url is allowed (tests only) */
        char *attest_tee;
        AttestKeyType attest_key;
        bool attest_ak_endorsement; /* the AK's hierarchy: endorsement instead of owner */
        bool attest_ak_ecc;         /* an ECC P-256 AK (ECDSA) instead of RSA-2048 (RSASSA) */
        uint32_t attest_pcrs;       /* sha256 PCRs the quote covers, a bitmask of 0-23 */
        unsigned attest_timeout;    /* seconds, the whole attestation */
        unsigned kbs_connect_timeout;
        unsigned kbs_retries;
        char *attest_vcek_file;     /* svsm-vtpm: the VCEK (DER) when the platform does not hand it out */
        ConfigSecret secrets[CONFIG_SECRETS_MAX];
        size_t n_secrets;
} Config;

const char *root_mode_to_string(RootMode m);
const char *failure_action_to_string(FailureAction a);
const char *host_mounts_to_string(HostMounts h);
const char *boot_chain_to_string(BootChain b);
const char *attest_mode_to_string(AttestMode m);
const char *verity_error_to_string(VerityError e);

/* Fills in the built-in defaults. Returns -ENOMEM on allocation failure. */
int config_init(Config *c);
void config_done(Config *c);

/* Parsers take text, never file names, and do no I/O. Each call is one source: a security-relevant
 * key given twice within it is refused. Later calls override earlier ones (defaults < file <
 * command line). "origin" names the source in messages. On failure the Config may be partially
 * updated; callers treat any failure as fatal. `lock` is the file's alone (refused on the command
 * line, and needs enabled = yes in the file); once set, config_parse_cmdline() refuses (-EPERM) any
 * security-relevant key or secret.<name> whose value would differ from the one it has. */
int config_parse_text(Config *c, const char *text, const char *origin);
int config_parse_cmdline(Config *c, const char *cmdline);

/* Splits a kernel command line the way the kernel does (whitespace separated, double quotes group
 * and are removed, parsing stops at "--"). Calls cb for each word; stops at the first error. */
int cmdline_foreach_word(const char *cmdline, int (*cb)(const char *word, void *userdata), void *userdata);

/* Prints every key with its current value, in the configuration file format; an unset key as a
 * comment ("#kbs-url = (unset)"). */
int config_dump(const Config *c, FILE *f);

/* The value of one key (as the file would write it; '_' and '-' alike, any case), or of secret.<name>;
 * *ret is NULL when it is unset. -ENOKEY: no such key. No I/O. */
int config_get(const Config *c, const char *key, char **ret);
bool config_key_exists(const char *key);

/* The volume settings as luks_setup() takes them (header_dir and dm_name stay NULL: defaults). */
void config_luks_params(const Config *c, LuksParams *ret);
