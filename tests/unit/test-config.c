/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "log.h"

static int setup(void **state) {
        Config *c = calloc(1, sizeof(Config));
        assert_non_null(c);
        assert_int_equal(config_init(c), 0);
        *state = c;
        return 0;
}

static int teardown(void **state) {
        config_done(*state);
        free(*state);
        return 0;
}

static void test_defaults(void **state) {
        Config *c = *state;

        assert_false(c->enabled);
        assert_int_equal(c->log_level, LOG_INFO);
        assert_string_equal(c->tcti, "device:/dev/tpmrm0");
        assert_int_equal(c->pcr_kernel, 11);
        assert_int_equal(c->pcr_initrd, 11);
        assert_int_equal(c->pcr_cmdline, 12);
        assert_string_equal(c->measure_log, "/run/log/systemd/tpm2-measure.log");
}

static void test_file_good(void **state) {
        Config *c = *state;
        const char *text =
                "# comment\n"
                "\n"
                "   enabled = yes   \n"
                "log-level=debug\n"
                "tcti = \"swtpm:host=127.0.0.1,port=2321\"\n"
                "pcr_kernel = 13\n" /* '_' and '-' are the same */
                "PCR-INITRD = 14\r\n"
                "\tpcr-cmdline\t=\t15\n"
                "measure-log = /run/ephroot/m.log";

        assert_int_equal(config_parse_text(c, text, "test.conf"), 0);
        assert_true(c->enabled);
        assert_int_equal(c->log_level, LOG_DEBUG);
        assert_string_equal(c->tcti, "swtpm:host=127.0.0.1,port=2321");
        assert_int_equal(c->pcr_kernel, 13);
        assert_int_equal(c->pcr_initrd, 14);
        assert_int_equal(c->pcr_cmdline, 15);
        assert_string_equal(c->measure_log, "/run/ephroot/m.log");
}

static void test_file_bad(void **state) {
        static const char *const bad[] = {
                "unknown = 1\n",               /* unknown key */
                "pcr-kernel = 7\n",            /* firmware PCR */
                "pcr-kernel = 16\n",           /* resettable */
                "pcr-kernel = 23\n",           /* resettable */
                "pcr-kernel = eleven\n",       /* not a number */
                "pcr-kernel = -11\n",          /* sign */
                "pcr-kernel = 11x\n",          /* trailing garbage */
                "pcr-kernel = 99999999999999999999\n", /* overflow */
                "log-level = loud\n",          /* bad level */
                "enabled = maybe\n",           /* bad boolean */
                "tcti = :nothing\n",           /* no module */
                "tcti = ../evil:x\n",          /* module name with a path */
                "measure-log = relative.log\n", /* not absolute */
                "tcti =\n",                    /* empty value */
                "tcti = \"\"\n",               /* empty, quoted */
                "just words\n",                /* no '=' */
                "= value\n",                   /* no key */
                "ephroot.tcti = device:/dev/tpm0\n", /* command line prefix in the file */
                "tcti = \"unbalanced\n",       /* quote */
                "measure-log = /run/a\x01b\n", /* control character */
                "pcr kernel = 11\n",           /* space in key */
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                Config c;
                assert_int_equal(config_init(&c), 0);
                if (config_parse_text(&c, bad[i], "bad.conf") >= 0)
                        fail_msg("accepted bad input #%zu: %s", i, bad[i]);
                config_done(&c);
        }
        (void) state;
}

static void test_file_duplicates(void **state) {
        Config *c = *state;

        /* Security-relevant: refused. */
        assert_int_equal(config_parse_text(c, "tcti = device:/dev/tpm0\ntcti = device:/dev/tpm0\n", "d.conf"), -EEXIST);
        assert_int_equal(config_parse_text(c, "pcr-kernel = 13\npcr_kernel = 14\n", "d.conf"), -EEXIST);
        /* Not security-relevant: the last one wins. */
        assert_int_equal(config_parse_text(c, "log-level = debug\nlog-level = err\n", "d.conf"), 0);
        assert_int_equal(c->log_level, LOG_ERR);
}

static void test_cmdline_good(void **state) {
        Config *c = *state;

        assert_int_equal(config_parse_cmdline(c,
                                 "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro ephroot=on ephroot.log_level=warning "
                                 "\"ephroot.measure-log=/run/a b/m.log\" ephroot.tcti=\"swtpm:host=127.0.0.1,port=1\" "
                                 "ephrootx=1 notephroot.tcti=x quiet\n"),
                         0);
        assert_true(c->enabled);
        assert_int_equal(c->log_level, LOG_WARNING);
        assert_string_equal(c->measure_log, "/run/a b/m.log");
        assert_string_equal(c->tcti, "swtpm:host=127.0.0.1,port=1");
}

static void test_cmdline_bare_flag_and_init_args(void **state) {
        Config *c = *state;

        /* A bare "ephroot" turns it on; everything after "--" is init's. */
        assert_int_equal(config_parse_cmdline(c, "quiet ephroot -- ephroot.pcr-kernel=13 ephroot.bogus=1"), 0);
        assert_true(c->enabled);
        assert_int_equal(c->pcr_kernel, 11);
}

static void test_cmdline_bad(void **state) {
        static const char *const bad[] = {
                "ephroot.nosuchkey=1",
                "ephroot.tcti",          /* no value */
                "ephroot.tcti=",         /* empty value */
                "ephroot.pcr-kernel=5",
                "ephroot=perhaps",
                "ephroot.=x",            /* empty key */
                "ephroot.pcr-kernel=13 ephroot.pcr-kernel=13", /* duplicate */
                "ephroot ephroot=off",   /* duplicate enable switch */
                "ephroot.measure-log=rel",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                Config c;
                assert_int_equal(config_init(&c), 0);
                if (config_parse_cmdline(&c, bad[i]) >= 0)
                        fail_msg("accepted bad command line #%zu: %s", i, bad[i]);
                config_done(&c);
        }
        (void) state;
}

static void test_precedence(void **state) {
        Config *c = *state;

        /* defaults < file < command line; one source each, so the same key in both is fine. */
        assert_int_equal(config_parse_text(c, "pcr-kernel = 13\npcr-cmdline = 14\n", "p.conf"), 0);
        assert_int_equal(config_parse_cmdline(c, "ephroot.pcr-kernel=15"), 0);
        assert_int_equal(c->pcr_kernel, 15);
        assert_int_equal(c->pcr_cmdline, 14);
        assert_int_equal(c->pcr_initrd, 11);
}

static int collect(const char *word, void *userdata) {
        char *buf = userdata;
        strcat(buf, "[");
        strcat(buf, word);
        strcat(buf, "]");
        return 0;
}

static void test_cmdline_words(void **state) {
        char buf[256] = "";

        assert_int_equal(cmdline_foreach_word("  a  b=\"c d\" \"e f\"\tg=\"\" -- h", collect, buf), 0);
        assert_string_equal(buf, "[a][b=c d][e f][g=]");
        buf[0] = '\0';
        assert_int_equal(cmdline_foreach_word("", collect, buf), 0);
        assert_string_equal(buf, "");
        buf[0] = '\0';
        /* An unterminated quote runs to the end, like the kernel's parser. */
        assert_int_equal(cmdline_foreach_word("x=\"y z", collect, buf), 0);
        assert_string_equal(buf, "[x=y z]");
        (void) state;
}

static void test_disk_keys(void **state) {
        static const char *const bad[] = {
                "device = sdb\n",                                  /* not absolute */
                "device = /dev/../etc/passwd\n",                   /* dot-dot */
                "device = /dev/sdb/..\n",
                "device = AUTO\n",                                 /* only "auto" */
                "force-format = /dev/sdb\n",                       /* a kernel name, not an identity */
                "force-format = sdb\n",
                "force-format = vmbus:f8b3781a-1e82-4818-a1c3-63d806ec15bb:lun1\n", /* no size */
                "force-format = \"nvme:SN 1:ns1:size=1\"\n",      /* blank */
                "device = /dev/sdb\ndevice = /dev/sdc\n",          /* duplicate */
                "force-format = nvme:S1:ns1:size=1\nforce_format = nvme:S1:ns1:size=1\n",
        };
        Config *c = *state;
        char buf[1024] = "";
        FILE *f;

        assert_string_equal(c->device, "auto");
        assert_null(c->force_format);

        assert_int_equal(config_parse_text(c,
                                 "device = /dev/disk/by-path/acpi-VMBUS:00-vmbus-f8b3781a1e824818a1c363d806ec15bb-lun-1\n"
                                 "force-format = vmbus:f8b3781a-1e82-4818-a1c3-63d806ec15bb:lun1:size=75161927680\n",
                                 "disk.conf"),
                         0);
        assert_string_equal(c->device, "/dev/disk/by-path/acpi-VMBUS:00-vmbus-f8b3781a1e824818a1c363d806ec15bb-lun-1");
        assert_string_equal(c->force_format, "vmbus:f8b3781a-1e82-4818-a1c3-63d806ec15bb:lun1:size=75161927680");

        assert_int_equal(config_parse_cmdline(c, "ephroot.device=auto ephroot.force_format=nvme:SN123:ns1:size=4096"), 0);
        assert_string_equal(c->device, "auto");
        assert_string_equal(c->force_format, "nvme:SN123:ns1:size=4096");
        assert_int_equal(config_parse_cmdline(c, "ephroot.device=/dev/sdb ephroot.device=/dev/sdb"), -EEXIST);

        f = fmemopen(buf, sizeof(buf), "w");
        assert_non_null(f);
        assert_int_equal(config_dump(c, f), 0);
        fclose(f);
        assert_non_null(strstr(buf, "\nforce-format = nvme:SN123:ns1:size=4096\n"));

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                Config d;
                assert_int_equal(config_init(&d), 0);
                if (config_parse_text(&d, bad[i], "bad.conf") >= 0)
                        fail_msg("accepted bad disk setting #%zu: %s", i, bad[i]);
                config_done(&d);
        }
}

static void test_host_mounts_key(void **state) {
        Config *c = *state;
        char *v = NULL;

        assert_int_equal(c->host_mounts, HOST_MOUNTS_REFUSE);
        assert_int_equal(config_parse_text(c, "host-mounts = comment\n", "t.conf"), 0);
        assert_int_equal(c->host_mounts, HOST_MOUNTS_COMMENT);
        assert_int_equal(config_get(c, "host_mounts", &v), 0);
        assert_string_equal(v, "comment");
        free(v);
        assert_int_equal(config_parse_cmdline(c, "ephroot.host-mounts=refuse"), 0);
        assert_int_equal(c->host_mounts, HOST_MOUNTS_REFUSE);
        assert_int_equal(config_parse_text(c, "host-mounts = yes\n", "t.conf"), -EINVAL);
        assert_int_equal(config_parse_text(c, "host-mounts = Comment\n", "t.conf"), -EINVAL);
        assert_int_equal(config_parse_text(c, "host-mounts = comment\nhost-mounts = comment\n", "t.conf"), -EEXIST);
}

/* lock = yes: the kernel command line may not change any security-relevant key; the same value is
 * no change, other keys stay free. */
static void test_lock(void **state) {
        static const char *const refused[] = {
                "ephroot=off",
                "ephroot=0",
                "ephroot.enabled=no",
                "ephroot.tpm=none",
                "ephroot.attest=optional",
                "ephroot.attest=off",
                "ephroot.kbs-url=https://evil.example",
                "ephroot.kbs_pin=sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                "ephroot.kbs-ca-file=/tmp/ca.pem",
                "ephroot.secret.disk-key=evil/key/1",       /* another resource */
                "ephroot.secret.other=repo/key/2",          /* a new secret */
                "ephroot.failure-action=reboot",
                "ephroot.pcr-kernel=13",
                "ephroot.pcr-cmdline=13",
                "ephroot.pcr-disk=14",
                "ephroot.pcr-leave=14",
                "ephroot.attest-pcrs=0-7",
                "ephroot.host-mounts=comment",
                "ephroot.mode=overlay",
                "ephroot.measure-log=/tmp/log",
                "ephroot.tcti=swtpm:port=1",
                "ephroot.device=/dev/sdc",
                "ephroot.verity-root-hash=0000000000000000000000000000000000000000000000000000000000000000",
                "ephroot.verity-hash-offset=4096",
                "ephroot.verity-hash-device=/dev/sdb2",
                "ephroot.verity-error=panic",
                "ephroot.lock=no",
                "ephroot.lock=yes",
                "root=/dev/sda1 quiet ephroot.attest=optional", /* among other words */
        };
        const char *file = "enabled = yes\n"
                           "lock = yes\n"
                           "attest = required\n"
                           "kbs-url = https://kbs.example\n"
                           "secret.disk-key = repo/key/1\n";
        Config *c = *state;

        assert_int_equal(config_parse_text(c, file, "ephroot.conf"), 0);
        assert_true(c->lock);
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
                Config d;
                int r;

                assert_int_equal(config_init(&d), 0);
                assert_int_equal(config_parse_text(&d, file, "ephroot.conf"), 0);
                r = config_parse_cmdline(&d, refused[i]);
                if (r != -EPERM)
                        fail_msg("lock = yes: '%s' gave %d, expected -EPERM", refused[i], r);
                config_done(&d);
        }

        /* The same values change nothing; keys without [s] are free; a malformed value is still
         * refused as malformed. */
        assert_int_equal(config_parse_cmdline(c, "root=/dev/sda1 ephroot ephroot.attest=required "
                                                 "ephroot.kbs-url=https://kbs.example ephroot.secret.disk-key=repo/key/1 "
                                                 "ephroot.pcr-kernel=11 ephroot.log-level=debug ephroot.failure-delay=30 "
                                                 "ephroot.attest-timeout=120"),
                         0);
        assert_int_equal(c->log_level, LOG_DEBUG);
        assert_int_equal(c->failure_delay, 30);
        assert_int_equal(c->attest, ATTEST_REQUIRED);
        assert_int_equal(config_parse_cmdline(c, "ephroot.attest=sometimes"), -EINVAL);

        /* Unlocked, the command line overrides as before; lock on the command line is never accepted. */
        {
                Config d;

                assert_int_equal(config_init(&d), 0);
                assert_int_equal(config_parse_text(&d, "enabled = yes\nattest = required\n", "ephroot.conf"), 0);
                assert_int_equal(config_parse_cmdline(&d, "ephroot.attest=optional ephroot=off"), 0);
                assert_int_equal(d.attest, ATTEST_OPTIONAL);
                assert_false(d.enabled);
                assert_int_equal(config_parse_cmdline(&d, "ephroot.lock=yes"), -EPERM);
                config_done(&d);
        }

        /* lock = yes needs enabled = yes in the file: locked off would be a silent no. */
        {
                Config d;

                assert_int_equal(config_init(&d), 0);
                assert_int_equal(config_parse_text(&d, "lock = yes\n", "ephroot.conf"), -EINVAL);
                config_done(&d);
                assert_int_equal(config_init(&d), 0);
                assert_int_equal(config_parse_text(&d, "lock = yes\nenabled = no\n", "ephroot.conf"), -EINVAL);
                config_done(&d);
                assert_int_equal(config_init(&d), 0);
                assert_int_equal(config_parse_text(&d, "lock = yes\nlock = yes\nenabled = yes\n", "ephroot.conf"),
                                 -EEXIST);
                config_done(&d);
        }
}

static void test_sizes_bounded(void **state) {
        Config *c = *state;
        size_t n = CONFIG_FILE_SIZE_MAX + 2;
        char *big = malloc(n);

        assert_non_null(big);
        memset(big, '#', n - 1);
        big[n - 1] = '\0';
        assert_int_equal(config_parse_text(c, big, "big.conf"), -EFBIG);
        assert_int_equal(config_parse_cmdline(c, big), -E2BIG);
        free(big);
}

/* config_get(): one key's value as the file writes it, any spelling of the key, NULL when unset. */
static void test_get(void **state) {
        Config *c = *state;
        char *v = NULL;

        assert_int_equal(config_get(c, "failure-action", &v), 0);
        assert_string_equal(v, "halt");
        free(v);
        assert_int_equal(config_get(c, "kbs-url", &v), 0);
        assert_null(v);
        assert_int_equal(config_get(c, "attest-pcrs", &v), 0);
        assert_string_equal(v, "0-23");
        free(v);

        assert_int_equal(config_parse_text(c,
                                 "failure-action = poweroff\ntcti = swtpm:host=127.0.0.1,port=2321\n"
                                 "attest-pcrs = 0,2,4-7,23\nsecret.db = default/app/db\ntpm = none\n",
                                 "get.conf"),
                         0);
        assert_int_equal(config_get(c, "FAILURE_action", &v), 0);
        assert_string_equal(v, "poweroff");
        free(v);
        assert_int_equal(config_get(c, "tcti", &v), 0);
        assert_string_equal(v, "swtpm:host=127.0.0.1,port=2321");
        free(v);
        assert_int_equal(config_get(c, "attest_pcrs", &v), 0);
        assert_string_equal(v, "0,2,4-7,23");
        free(v);
        assert_int_equal(config_get(c, "tpm", &v), 0);
        assert_string_equal(v, "none");
        free(v);
        assert_int_equal(config_get(c, "secret.db", &v), 0);
        assert_string_equal(v, "default/app/db");
        free(v);
        assert_int_equal(config_get(c, "secret.other", &v), 0);
        assert_null(v);

        assert_int_equal(config_get(c, "no-such-key", &v), -ENOKEY);
        assert_int_equal(config_get(c, "secret./x", &v), -ENOKEY);
        assert_int_equal(config_get(c, "", &v), -ENOKEY);
        assert_true(config_key_exists("Failure_Action"));
        assert_true(config_key_exists("secret.db"));
        assert_false(config_key_exists("no-such-key"));
        assert_false(config_key_exists("ephroot.tcti"));
}

/* dm-verity keys: the root hash as verity-format prints it, the tree's place, the error mode. */
static void test_verity_keys(void **state) {
        static const char *const bad[] = {
                "verity-root-hash = sha256:abababababababababababababababababababababababababababababababab\n",
                "verity-root-hash = abab\n",
                "verity-root-hash = zzababababababababababababababababababababababababababababababab\n",
                "verity-hash-offset = 100\n",
                "verity-hash-offset = -4096\n",
                "verity-hash-offset = 4096x\n",
                "verity-hash-offset = 18446744073709551616\n",
                "verity-hash-device = auto\n",
                "verity-hash-device = sdb2\n",
                "verity-error = ignore\n",
                "verity-error = panic\nverity-error = panic\n", /* [s]: twice in one source */
        };
        Config *c = *state;
        char *v = NULL;

        assert_false(c->verity_root_hash.set);
        assert_true(c->verity_hash_offset == CONFIG_VERITY_HASH_OFFSET_AUTO);
        assert_null(c->verity_hash_device);
        assert_int_equal(c->verity_error, VERITY_ERROR_EIO);
        assert_int_equal(config_get(c, "verity-root-hash", &v), 0);
        assert_null(v);

        assert_int_equal(config_parse_text(c,
                                 "verity-root-hash = 1EAAD0A7E9FA13DDE81EF281F98C2CC9A40B13705BFF44A8626D2CEB955BCB23\n"
                                 "verity-hash-offset = 33554432\nverity-hash-device = /dev/disk/by-partlabel/root-verity\n"
                                 "verity-error = panic\n",
                                 "v.conf"),
                         0);
        assert_true(c->verity_root_hash.set);
        assert_int_equal(c->verity_root_hash.bytes[0], 0x1e);
        assert_int_equal(c->verity_root_hash.bytes[31], 0x23);
        assert_true(c->verity_hash_offset == 33554432);
        assert_string_equal(c->verity_hash_device, "/dev/disk/by-partlabel/root-verity");
        assert_int_equal(c->verity_error, VERITY_ERROR_PANIC);
        assert_int_equal(config_get(c, "verity_root_hash", &v), 0);
        assert_string_equal(v, "1eaad0a7e9fa13dde81ef281f98c2cc9a40b13705bff44a8626d2ceb955bcb23");
        v = mfree(v);
        assert_int_equal(config_get(c, "verity-hash-offset", &v), 0);
        assert_string_equal(v, "33554432");
        v = mfree(v);
        assert_int_equal(config_parse_cmdline(c, "ephroot.verity-hash-offset=auto ephroot.verity-error=eio"), 0);
        assert_true(c->verity_hash_offset == CONFIG_VERITY_HASH_OFFSET_AUTO);
        assert_int_equal(c->verity_error, VERITY_ERROR_EIO);

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                Config d;
                int r;

                assert_int_equal(config_init(&d), 0);
                r = config_parse_text(&d, bad[i], "bad.conf");
                if (r != (i + 1 == sizeof(bad) / sizeof(bad[0]) ? -EEXIST : -EINVAL))
                        fail_msg("'%s' gave %d", bad[i], r);
                config_done(&d);
        }
}

/* What config_dump() prints parses back to the same configuration. */
static void test_dump_round_trip(void **state) {
        Config *c = *state, d;
        char a[8192] = {}, b[8192] = {};
        FILE *f;

        assert_int_equal(config_parse_text(c,
                                 "enabled = yes\nmode = overlay\nroot-hash = sha256:"
                                 "abababababababababababababababababababababababababababababababab\n"
                                 "force-format = nvme:SN1:ns1:size=4096\nkbs-url = https://kbs.example\n"
                                 "attest = optional\nattest-pcrs = 1,3-4\nattest-ak-type = ecc\nintegrity = hmac-sha256\n"
                                 "secret.key = a/b/c\nlog-level = debug\n"
                                 "verity-root-hash = cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd\n"
                                 "verity-hash-offset = 8192\nverity-hash-device = /dev/vdb\nverity-error = panic\n",
                                 "rt.conf"),
                         0);
        f = fmemopen(a, sizeof(a) - 1, "w");
        assert_non_null(f);
        assert_int_equal(config_dump(c, f), 0);
        fclose(f);
        assert_non_null(strstr(a, "\n#kbs-ca-file = (unset: the system's CA bundle)\n"));
        assert_non_null(strstr(a, "\nattest-pcrs = 1,3-4\n"));

        assert_int_equal(config_init(&d), 0);
        assert_int_equal(config_parse_text(&d, a, "dump"), 0);
        f = fmemopen(b, sizeof(b) - 1, "w");
        assert_non_null(f);
        assert_int_equal(config_dump(&d, f), 0);
        fclose(f);
        assert_string_equal(a, b);
        config_done(&d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
                cmocka_unit_test_setup_teardown(test_file_good, setup, teardown),
                cmocka_unit_test(test_file_bad),
                cmocka_unit_test_setup_teardown(test_file_duplicates, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cmdline_good, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cmdline_bare_flag_and_init_args, setup, teardown),
                cmocka_unit_test(test_cmdline_bad),
                cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
                cmocka_unit_test(test_cmdline_words),
                cmocka_unit_test_setup_teardown(test_disk_keys, setup, teardown),
                cmocka_unit_test_setup_teardown(test_host_mounts_key, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
                cmocka_unit_test_setup_teardown(test_verity_keys, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sizes_bounded, setup, teardown),
                cmocka_unit_test_setup_teardown(test_get, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dump_round_trip, setup, teardown),
        };

        log_set_target(LOG_TARGET_STDERR);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
