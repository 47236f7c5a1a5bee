/* fuzz_scenario.c — libFuzzer harness: the scenario loader from bytes.
 *
 * The input is a scenario file: a NUL-terminated copy goes to
 * scenario_load_string (a NUL byte inside the input ends the text there,
 * as it would for any C caller; scenario_load itself refuses such a file).
 * A scenario that loads is also checked to write and load back to itself
 * (fuzz_common.h), and a short one-line input is also tried as a duration,
 * a size and a count (check_units). Refusals are expected and fine: only
 * crashes, sanitizer reports, leaks, hangs and a broken round trip are
 * findings.
 *   tools/fuzz scenario [SECONDS]
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "hv/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A short one-line input is also a value for the unit parsers, whose
 * formatters are exact: format(parse(x)) must parse back to the same. */
static void check_units(const char *text)
{
    char buf[SCN_FMT_MAX];
    fv_ns_t ns, ns2;
    uint64_t b, b2;
    int64_t n;
    if (scn_parse_duration(text, &ns) == 0
        && (scn_parse_duration(scn_format_duration(ns, buf, sizeof(buf)), &ns2) != 0 || ns2 != ns)) {
        fprintf(stderr, "fuzz: duration \"%s\" formats as \"%s\", which does not parse back\n",
                text, buf);
        abort();
    }
    if (scn_parse_size(text, &b) == 0
        && (scn_parse_size(scn_format_size(b, buf, sizeof(buf)), &b2) != 0 || b2 != b)) {
        fprintf(stderr, "fuzz: size \"%s\" formats as \"%s\", which does not parse back\n",
                text, buf);
        abort();
    }
    (void)scn_parse_count(text, &n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    if (size < 64 && !strchr(text, '\n'))
        check_units(text);
    struct scenario s;
    char err[1024];
    if (scenario_load_string("fuzz.yaml", text, NULL, 0, &s, err, sizeof(err)) == 0) {
        fuzz_check_roundtrip("fuzz.yaml", &s);
        scenario_free(&s);
    }
    free(text);
    return 0;
}
