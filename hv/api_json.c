/* api_json.c — the JSON side of the management API (docs/API.md): DOM and
 * host objects, scheduler parameters both ways, event frames. */
#include "api_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "scenario_priv.h"

static const char *const state_names[] = { "running", "blocked", "paused", "destroyed" };
static const char *const event_names[] = { "created", "destroyed", "paused", "unpaused",
                                           "sched", "starvation", "shutdown" };

const char *api_state_name(enum live_state s)
{
    return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

const char *api_event_name(enum live_ev_type t)
{
    return (unsigned)t < sizeof(event_names) / sizeof(event_names[0]) ? event_names[t] : "?";
}

/* ---- scheduler parameters ---------------------------------------------------- */

int64_t api_dom_param(const struct sched_dom_params *sp, const char *name)
{
    if (!strcmp(name, "weight"))
        return sp->weight;
    if (!strcmp(name, "cap"))
        return sp->cap;
    if (!strcmp(name, "period"))
        return sp->period;
    if (!strcmp(name, "budget"))
        return sp->budget;
    if (!strcmp(name, "extratime"))
        return sp->extratime;
    return 0;
}

int64_t api_global_param(const struct sched_global_params *gp, const char *name)
{
    const struct scn_gp_field *g = scn_gp_field_find(name);     /* the loader's table */
    fv_ns_t v = 0;
    if (g)
        memcpy(&v, (const char *)gp + g->off, sizeof(v));
    return v;
}

static json_t *param_json(const struct sched_param_desc *d, int64_t v)
{
    char buf[SCN_FMT_MAX];
    switch (d->kind) {
    case SCHED_PARAM_NS: return json_string(scn_format_duration(v, buf, sizeof(buf)));
    case SCHED_PARAM_BOOL: return json_boolean(v);
    default: return json_integer(v);
    }
}

/* Exactly one of sp / gp is given: the schema is per-domain or global. */
json_t *api_sched_json(const struct sched_param_desc *schema, const struct sched_dom_params *sp,
                       const struct sched_global_params *gp)
{
    json_t *o = json_object();
    for (const struct sched_param_desc *d = schema; o && d && d->name; d++) {
        int64_t v = sp ? api_dom_param(sp, d->name) : api_global_param(gp, d->name);
        if (json_object_set_new(o, d->name, param_json(d, v))) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* Unknown name, wrong JSON type or out of range: the message names the key. */
static int param_value(const struct sched_param_desc *d, json_t *v, int64_t *out, char *err,
                       size_t errlen)
{
    char a[SCN_FMT_MAX], b[SCN_FMT_MAX], c[SCN_FMT_MAX];
    if (d->kind == SCHED_PARAM_BOOL) {
        if (!json_is_boolean(v))
            goto type;
        *out = json_is_true(v);
        return 0;
    }
    if (d->kind == SCHED_PARAM_NS) {
        fv_ns_t ns;
        if (!json_is_string(v))
            goto type;
        if (scn_parse_duration(json_string_value(v), &ns)) {
            snprintf(err, errlen, "%s: \"%.40s\" is not a duration (expected a number with a "
                     "unit, such as \"30ms\" or \"1500us\")", d->name, json_string_value(v));
            return -EINVAL;
        }
        *out = ns;
    } else {
        if (!json_is_integer(v))
            goto type;
        *out = json_integer_value(v);
    }
    if (*out >= d->min && *out <= d->max)
        return 0;
    if (d->kind == SCHED_PARAM_NS)
        snprintf(err, errlen, "%s: %s is out of range (expected %s..%s)", d->name,
                 scn_format_duration(*out, a, sizeof(a)), scn_format_duration(d->min, b, sizeof(b)),
                 scn_format_duration(d->max, c, sizeof(c)));
    else
        snprintf(err, errlen, "%s: %" PRId64 " is out of range (expected %" PRId64 "..%" PRId64 ")",
                 d->name, *out, d->min, d->max);
    return -EINVAL;
type:
    snprintf(err, errlen, "%s: expected %s", d->name,
             d->kind == SCHED_PARAM_BOOL ? "true or false" :
             d->kind == SCHED_PARAM_NS ? "a duration string such as \"30ms\"" : "an integer");
    return -EINVAL;
}

static void schema_keys(const struct sched_param_desc *schema, char *buf, size_t len)
{
    buf[0] = '\0';
    for (const struct sched_param_desc *d = schema; d && d->name; d++) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, "%s%s", d == schema ? "" : ", ", d->name);
    }
    if (!buf[0])
        snprintf(buf, len, "none: the policy has no such parameters");
}

int api_parse_params(const struct sched_param_desc *schema, json_t *obj, struct live_param *p,
                     int *n, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    char keys[256];
    *n = 0;
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "request: expected a JSON object of parameters, such as "
                 "{\"weight\": 512}");
        return -EINVAL;
    }
    json_object_foreach(obj, key, v) {
        const struct sched_param_desc *d = sched_param_find(schema, key);
        if (!d) {
            schema_keys(schema, keys, sizeof(keys));
            snprintf(err, errlen, "%.64s: unknown parameter (expected one of: %s)", key, keys);
            return -EINVAL;
        }
        if (*n >= API_PARAMS_MAX) {
            snprintf(err, errlen, "request: more than %d parameters", API_PARAMS_MAX);
            return -EINVAL;
        }
        p[*n].name = d->name;
        int rc = param_value(d, v, &p[*n].value, err, errlen);
        if (rc)
            return rc;
        (*n)++;
    }
    return 0;
}

/* ---- objects ------------------------------------------------------------------- */

static json_t *pct_json(const struct live_pct *p)
{
    return json_pack("{s:I, s:I, s:I}", "p50", api_ji(p->p50), "p99", api_ji(p->p99),
                     "max", api_ji(p->max));
}

static json_t *io_json(const struct live_dom_info *d)
{
    return json_pack("{s:{s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I}}",
                     "net", "tx_pkts", api_ji(d->net_tx_pkts), "rx_pkts", api_ji(d->net_rx_pkts),
                     "tx_bytes", api_ji(d->net_tx_bytes), "rx_bytes", api_ji(d->net_rx_bytes),
                     "drops", api_ji(d->net_drops),
                     "blk", "reads", api_ji(d->blk_reads), "writes", api_ji(d->blk_writes),
                     "bytes", api_ji(d->blk_bytes));
}

/* jansson has no NaN or infinity (nor has JSON). */
static double finite_or_0(double v)
{
    return isfinite(v) ? v : 0.0;
}

static json_t *counters_json(const struct live_dom_info *d, const struct live_host_info *h)
{
    json_t *o = json_object();
    for (int i = 0; o && i < h->nr_counters && i < RUN_MAX_COUNTERS; i++)
        if (json_object_set_new(o, h->counter_names[i], json_integer(api_ji(d->counters[i])))) {
            json_decref(o);
            return NULL;
        }
    return o;
}

json_t *api_dom_json(const struct live_dom_info *d, const struct live_host_info *h)
{
    const struct sched_ops *ops = h->ops;
    json_t *o = json_pack(
        "{s:s%, s:i, s:s, s:i, s:I, s:I, s:o?, s:I, s:I, s:f, s:f, s:o?, s:o?, s:I}",
        "name", d->name, strnlen(d->name, sizeof(d->name)), "id", d->id,
        "state", api_state_name(d->state), "vcpus", d->vcpus,
        "memory_bytes", api_ji(d->memory), "mem_resident_bytes", api_ji(d->mem_resident),
        "sched", api_sched_json(ops ? ops->dom_params : NULL, &d->sp, NULL),
        "created_ns", (json_int_t)d->created_ns, "cpu_ns", (json_int_t)d->cpu_ns,
        "cpu_share", finite_or_0(d->cpu_share),
        "cpu_share_recent", finite_or_0(d->cpu_share_recent),
        "wait_ns", pct_json(&d->wait_ns), "wakeup_latency_ns", pct_json(&d->wakeup_ns),
        "work_units", api_ji(d->work_units));
    json_t *io = io_json(d);
    json_t *tail = json_pack("{s:I, s:I, s:I, s:o?}", "backend_cpu_ns",
                             (json_int_t)d->backend_cpu_ns, "starved_ns", (json_int_t)d->starved_ns,
                             "starvation_events", api_ji(d->starvation_events), "counters",
                             counters_json(d, h));
    if (!o || !io || !tail || json_object_update(o, io) || json_object_update(o, tail)) {
        json_decref(o);
        o = NULL;
    }
    json_decref(io);
    json_decref(tail);
    return o;
}

json_t *api_host_json(const struct live_host_info *h)
{
    return json_pack("{s:s?, s:s, s:s?, s:s?, s:i, s:I, s:i, s:i, s:i, s:b, s:o?}",
                     "version", h->version, "engine", "real", "policy", h->policy,
                     "mode", h->mode, "pcpus", h->pcpus, "uptime_ns", (json_int_t)h->uptime_ns,
                     "domains", h->domains, "created", h->created, "max_domains", h->max_domains,
                     "chargeback", (int)h->chargeback,
                     "sched", api_sched_json(h->ops ? h->ops->global_params : NULL, NULL, &h->gp));
}

/* ---- events ---------------------------------------------------------------------- */

char *api_sse_frame(const struct live_event *ev, size_t *len)
{
    json_t *o = json_pack("{s:I, s:I, s:s}", "seq", api_ji(ev->seq), "at_ns", (json_int_t)ev->at,
                          "type", api_event_name(ev->type));
    size_t dn = strnlen(ev->domain, sizeof(ev->domain));
    if (o && dn && json_object_set_new(o, "domain", json_stringn(ev->domain, dn)))
        goto fail;
    if (o && ev->id >= 0 && json_object_set_new(o, "id", json_integer(ev->id)))
        goto fail;
    if (o && ev->type == LIVE_EV_STARVATION &&
        (json_object_set_new(o, "resource", json_stringn(ev->resource,
                                                         strnlen(ev->resource, sizeof(ev->resource)))) ||
         json_object_set_new(o, "duration_ns", json_integer(ev->duration_ns))))
        goto fail;
    char *data = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    char *frame = NULL;
    int n = data ? asprintf(&frame, "id: %" PRIu64 "\nevent: %s\ndata: %s\n\n", ev->seq,
                            api_event_name(ev->type), data) : -1;
    free(data);
    if (n < 0)
        return NULL;
    *len = (size_t)n;
    return frame;
fail:
    json_decref(o);
    return NULL;
}
