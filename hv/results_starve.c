/* results_starve.c — starvation events into summary.json and
 * starvation.csv (see results_starve.h). */
#include "results_starve.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"

/* A domain index of rr by name; "?" for one outside the run. */
static const char *dom_name(const struct run_result *rr, int d)
{
    return d >= 0 && d < rr->nr_doms ? rr->doms[d].name : "?";
}

static json_t *json_event(const struct run_result *rr, const struct run_starve_event *ev)
{
    json_t *holders = json_array();
    for (int i = 0; holders && i < ev->nr_holders && i < RUN_STARVE_HOLDERS; i++)
        if (json_array_append_new(holders, json_string(dom_name(rr, ev->holders[i]))) < 0) {
            json_decref(holders);
            holders = NULL;
        }
    int r = ev->resource >= 0 && ev->resource < RUN_STARVE_RESOURCES ? ev->resource : 0;
    /* s:o steals holders even when packing fails. */
    return json_pack("{s:I, s:I, s:s, s:s, s:o, s:i}", "start_ns", (json_int_t)ev->start_ns,
                     "duration_ns", (json_int_t)ev->duration_ns, "domain", dom_name(rr, ev->dom),
                     "resource", run_starve_names[r], "holders", holders,
                     "holders_total", ev->holders_total);
}

static json_t *json_list(const struct run_result *rr)
{
    json_t *a = json_array();
    for (int i = 0; a && i < rr->nr_starve_list; i++)
        if (json_array_append_new(a, json_event(rr, &rr->starve_list[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *json_by_resource(const struct dom_result *d)
{
    json_t *o = json_object();
    for (int k = 0; o && k < RUN_STARVE_RESOURCES; k++) {
        json_t *v = json_pack("{s:I, s:I}", "events", (json_int_t)d->starve_by[k].events,
                              "starved_ns", (json_int_t)d->starve_by[k].starved_ns);
        if (json_object_set_new(o, run_starve_names[k], v) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

json_t *results_starve_json(json_t *root, const struct run_result *rr)
{
    if (!root)
        return NULL;
    json_t *starv = json_object_get(root, "starvation");
    json_t *doms = json_object_get(root, "domains");
    int bad = !json_is_object(starv) || !json_is_array(doms);
    if (!bad) {
        bad |= json_object_set_new(starv, "list", json_list(rr));
        bad |= json_object_set_new(starv, "list_truncated", json_boolean(rr->starve_list_truncated));
    }
    for (size_t i = 0; !bad && i < json_array_size(doms) && i < (size_t)rr->nr_doms; i++)
        bad |= json_object_set_new(json_array_get(doms, i), "starvation_by_resource",
                                   json_by_resource(&rr->doms[i]));
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}

/* A name as a CSV field: the holders are split on ';', the rows on ','. */
static void csv_put_name(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        fputc(c == ',' || c == ';' || c == '"' || c <= ' ' || c == 0x7f ? '_' : c, f);
    }
}

int results_write_starvation_csv(const char *dir, const struct run_result *rr)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return -errno;
    fputs("start_ns,duration_ns,domain,resource,holders\n", f);
    for (int i = 0; i < rr->nr_starve_list; i++) {
        const struct run_starve_event *ev = &rr->starve_list[i];
        int r = ev->resource >= 0 && ev->resource < RUN_STARVE_RESOURCES ? ev->resource : 0;
        fprintf(f, "%" PRId64 ",%" PRId64 ",", (int64_t)ev->start_ns, (int64_t)ev->duration_ns);
        csv_put_name(f, dom_name(rr, ev->dom));
        fprintf(f, ",%s,", run_starve_names[r]);
        for (int h = 0; h < ev->nr_holders && h < RUN_STARVE_HOLDERS; h++) {
            if (h)
                fputc(';', f);
            csv_put_name(f, dom_name(rr, ev->holders[h]));
        }
        fputc('\n', f);
    }
    int err = ferror(f) ? -EIO : 0;
    if (fclose(f) != 0 && !err)
        err = -ENOMEM;
    if (!err)
        err = results_write_atomic(dir, "starvation.csv", buf, len);
    free(buf);
    return err;
}
