/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Without libFuzzer: feeds each file named on the command line (or each file in each directory)
 * to the harness once, so the corpus runs as an ordinary test, under valgrind too. */

#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
        char *buf = NULL;
        size_t n;
        int r;

        r = read_full_file_bounded(path, 1024 * 1024, &buf, &n);
        if (r < 0) {
                fprintf(stderr, "Failed to read '%s': %s\n", path, strerror(-r));
                return r;
        }
        (void) LLVMFuzzerTestOneInput((const uint8_t *) buf, n);
        free(buf);
        return 0;
}

int main(int argc, char **argv) {
        const char *fixtures = NULL;
        unsigned count = 0;
        int i = 1;

        /* --fixtures=DIR: the files named after it are genuine third-party fixtures under DIR, which
         * a plain clone does not have: skip (77) when DIR is absent, as tests/lib/fixtures.h does. */
        if (argc > 1 && strncmp(argv[1], "--fixtures=", 11) == 0) {
                fixtures = argv[1] + 11;
                if (access(fixtures, R_OK | X_OK) < 0) {
                        printf("SKIP: genuine fixtures not found at %s (meson option -Dfixtures=DIR)\n", fixtures);
                        return 77;
                }
                i = 2;
        }

        for (; i < argc; i++) {
                _cleanup_free_ char *joined = NULL;
                const char *path = argv[i];
                struct stat st;

                if (fixtures) {
                        if (asprintf(&joined, "%s/%s", fixtures, argv[i]) < 0)
                                return EXIT_FAILURE;
                        path = joined;
                }
                if (stat(path, &st) < 0) {
                        perror(path);
                        return EXIT_FAILURE;
                }
                if (S_ISDIR(st.st_mode)) {
                        struct dirent **names;
                        int n = scandir(path, &names, NULL, alphasort);
                        if (n < 0)
                                return EXIT_FAILURE;
                        for (int j = 0; j < n; j++) {
                                char *p;
                                if (names[j]->d_name[0] != '.' && asprintf(&p, "%s/%s", path, names[j]->d_name) >= 0) {
                                        if (run_file(p) < 0)
                                                return EXIT_FAILURE;
                                        count++;
                                        free(p);
                                }
                                free(names[j]);
                        }
                        free(names);
                } else {
                        if (run_file(path) < 0)
                                return EXIT_FAILURE;
                        count++;
                }
        }
        printf("replayed %u inputs\n", count);
        return count > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
