/* SKELETON — being written; replaced by the real loader. */
#include "scenario.h"
#include <errno.h>
#include <string.h>
int scenario_load(const char *path, const char *const *sets, int nsets,
                  struct scenario *out, char *err, size_t errlen)
{ (void)path; (void)sets; (void)nsets; (void)out; snprintf(err, errlen, "not yet"); return -ENOSYS; }
int scenario_load_string(const char *file, const char *text, const char *const *sets,
                         int nsets, struct scenario *out, char *err, size_t errlen)
{ (void)file; (void)text; (void)sets; (void)nsets; (void)out; snprintf(err, errlen, "not yet"); return -ENOSYS; }
void scenario_free(struct scenario *s) { (void)s; }
int scenario_write_yaml(const struct scenario *s, FILE *f) { (void)s; (void)f; return -ENOSYS; }
int scn_parse_duration(const char *s, fv_ns_t *out) { (void)s; (void)out; return -ENOSYS; }
int scn_parse_size(const char *s, uint64_t *out) { (void)s; (void)out; return -ENOSYS; }
int scn_parse_count(const char *s, int64_t *out) { (void)s; (void)out; return -ENOSYS; }
