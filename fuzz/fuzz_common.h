/* fuzz_common.h — what the scenario harnesses share: the round-trip oracle.
 *
 * scenario.h promises that scenario_write_yaml writes YAML "that
 * scenario_load accepts and that resolves to the same scenario". So a
 * scenario that loaded is written, loaded again and written again: the
 * second load must succeed and both texts must be equal. Any difference is
 * reported and aborts, which libFuzzer (and fuzz/standalone_main.c) count as
 * a finding, like a crash.
 */
#ifndef FV_FUZZ_COMMON_H
#define FV_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/scenario.h"

/* The input as a NUL-terminated string (malloc'd; NULL if out of memory). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text) {
        memcpy(text, data, size);
        text[size] = '\0';
    }
    return text;
}

static inline char *fuzz_write_yaml(const struct scenario *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        abort();
    int rc = scenario_write_yaml(s, m);
    if (fclose(m) != 0 || rc != 0) {
        fprintf(stderr, "fuzz: scenario_write_yaml failed: %d\n", rc);
        abort();
    }
    return buf;
}

/* s loaded from `file`: check the round trip (see the top of the file). */
static inline void fuzz_check_roundtrip(const char *file, const struct scenario *s)
{
    char err[1024];
    char *text = fuzz_write_yaml(s);
    struct scenario again;
    if (scenario_load_string(file, text, NULL, 0, &again, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz: the resolved scenario does not load again: %s\n"
                        "---- scenario_write_yaml wrote:\n%s----\n", err, text);
        abort();
    }
    char *text2 = fuzz_write_yaml(&again);
    if (strcmp(text, text2) != 0) {
        fprintf(stderr, "fuzz: the resolved scenario resolves to another one\n"
                        "---- first written:\n%s---- after loading that and writing again:\n%s----\n",
                text, text2);
        abort();
    }
    scenario_free(&again);
    free(text2);
    free(text);
}

#endif
