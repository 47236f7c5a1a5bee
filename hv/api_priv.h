/* api_priv.h — what api.c, api_json.c and api_metrics.c share: the JSON
 * forms of the host, a domain and scheduler parameters, and the checking
 * of PATCH bodies against a policy's schema. */
#ifndef FV_API_PRIV_H
#define FV_API_PRIV_H

#include <jansson.h>

#include "api.h"

#define API_CT_JSON "application/json"
#define API_CT_METRICS "text/plain; version=0.0.4"
#define API_CT_EVENTS "text/event-stream"

/* Names of enum live_state / enum live_ev_type ("?" out of range); kept
 * here rather than live.c's tables so that the core links without the host. */
const char *api_state_name(enum live_state s);
const char *api_event_name(enum live_ev_type t);

/* A parameter's current value by schema name (0 and false if the name is
 * not one the structs hold). */
int64_t api_dom_param(const struct sched_dom_params *sp, const char *name);
int64_t api_global_param(const struct sched_global_params *gp, const char *name);

/* {"weight":256,"cap":0} / {"tslice":"30ms",...}: every key of the schema. */
json_t *api_sched_json(const struct sched_param_desc *schema, const struct sched_dom_params *sp,
                       const struct sched_global_params *gp);
/* DOM of the contract; h gives the policy's schema and the counters' names. */
json_t *api_dom_json(const struct live_dom_info *d, const struct live_host_info *h);
json_t *api_host_json(const struct live_host_info *h);

/* Check a PATCH body (a JSON object) against schema: every key known, of
 * its kind's JSON type, in [min, max]. Fills p[0..*n-1] (names point into
 * the schema). Returns 0 or -EINVAL with a message naming the key. */
int api_parse_params(const struct sched_param_desc *schema, json_t *obj, struct live_param *p,
                     int *n, char *err, size_t errlen);

/* uint64_t as a JSON integer (saturated at INT64_MAX). */
static inline json_int_t api_ji(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)v;
}

#endif
