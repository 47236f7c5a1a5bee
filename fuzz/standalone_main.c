/* standalone_main.c — run a fuzz harness without libFuzzer: every file
 * named on the command line, and every regular file under each directory
 * named (recursively, in name order), is read whole and passed once to
 * LLVMFuzzerTestOneInput. Linked with fuzz/fuzz_TARGET.c into
 * fuzzrun_TARGET by tests/CMakeLists.txt, so the regression inputs in
 * tests/fuzz/TARGET/ (and the seed corpus) run under ctest in any build,
 * gcc or clang, with or without sanitizers. A crash, a sanitizer report or
 * an oracle's abort fails the test; a hang is caught by the ctest TIMEOUT.
 * Each input's name is printed before it runs, so the culprit is the last
 * name shown.
 *   fuzzrun_scenario tests/fuzz/scenario fuzz/corpus/scenario scenarios
 * Exit status: 0 all ran, 1 an argument could not be read or nothing ran.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ran;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, n = 0, r;
    uint8_t *buf = malloc(cap);
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(buf);
        return -1;
    }
    printf("input %s (%zu bytes)\n", path, n);
    fflush(stdout);
    /* An exact-size copy, so ASan catches a read past the end as libFuzzer would. */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    ran++;
    return 0;
}

static int skip_dot(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return S_ISREG(st.st_mode) ? run_file(path) : 0;
    struct dirent **ents;
    int n = scandir(path, &ents, skip_dot, alphasort);
    if (n < 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char *child = NULL;
        if (asprintf(&child, "%s/%s", path, ents[i]->d_name) < 0)
            abort();
        if (run_path(child) < 0)
            rc = -1;
        free(child);
        free(ents[i]);
    }
    free(ents);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;
    for (int i = 1; i < argc; i++)
        if (run_path(argv[i]) < 0)
            rc = 1;
    printf("%d inputs ran, none crashed\n", ran);
    if (!ran) {
        fprintf(stderr, "no inputs\n");
        rc = 1;
    }
    return rc;
}
