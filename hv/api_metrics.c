/* api_metrics.c — GET /metrics: the host and its domains in Prometheus'
 * text exposition format 0.0.4, from the same figures as the JSON. Times
 * are seconds, printed exactly from integer nanoseconds. */
#include "api_priv.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum mkind { M_INT, M_U64, M_NS, M_DBL, M_PCT };

struct dom_metric {
    const char *name, *type, *help;
    enum mkind kind;
    size_t off;
};

#define DM(n, t, k, f, h) { "fairvisor_domain_" n, t, h, k, offsetof(struct live_dom_info, f) }
static const struct dom_metric dom_metrics[] = {
    DM("vcpus", "gauge", M_INT, vcpus, "vCPUs of a domain."),
    DM("memory_bytes", "gauge", M_U64, memory, "Memory configured for a domain."),
    DM("mem_resident_bytes", "gauge", M_U64, mem_resident, "Guest memory a domain touched."),
    DM("cpu_seconds_total", "counter", M_NS, cpu_ns, "CPU time a domain received."),
    DM("cpu_share", "gauge", M_DBL, cpu_share,
       "CPU a domain received over its life, as a fraction of the host's pCPUs."),
    DM("cpu_share_recent", "gauge", M_DBL, cpu_share_recent,
       "CPU share over the last sampling interval."),
    DM("wait_seconds", "gauge", M_PCT, wait_ns, "Time runnable vCPUs waited for a pCPU."),
    DM("wakeup_latency_seconds", "gauge", M_PCT, wakeup_ns,
       "Time from a vCPU's wake-up to running."),
    DM("work_units_total", "counter", M_U64, work_units, "Work units a domain's workload did."),
    DM("net_tx_packets_total", "counter", M_U64, net_tx_pkts, "Frames a domain sent."),
    DM("net_rx_packets_total", "counter", M_U64, net_rx_pkts, "Frames a domain received."),
    DM("net_tx_bytes_total", "counter", M_U64, net_tx_bytes, "Bytes a domain sent."),
    DM("net_rx_bytes_total", "counter", M_U64, net_rx_bytes, "Bytes a domain received."),
    DM("net_drops_total", "counter", M_U64, net_drops, "Frames of a domain dropped."),
    DM("blk_reads_total", "counter", M_U64, blk_reads, "Disk reads a domain completed."),
    DM("blk_writes_total", "counter", M_U64, blk_writes, "Disk writes a domain completed."),
    DM("blk_bytes_total", "counter", M_U64, blk_bytes, "Bytes a domain read and wrote."),
    DM("backend_cpu_seconds_total", "counter", M_NS, backend_cpu_ns,
       "Domain-0 CPU time spent on a domain's I/O."),
    DM("starved_seconds_total", "counter", M_NS, starved_ns, "Time a domain was starved."),
    DM("starvation_events_total", "counter", M_U64, starvation_events,
       "Starvation events of a domain."),
};

/* ns as seconds, exact: 1250000000 -> "1.25", 0 -> "0". */
static void put_seconds(FILE *f, int64_t ns)
{
    uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    char frac[16];
    snprintf(frac, sizeof(frac), "%09" PRIu64, a % 1000000000u);
    for (int i = 8; i >= 0 && frac[i] == '0'; i--)
        frac[i] = '\0';
    fprintf(f, "%s%" PRIu64 "%s%s", ns < 0 ? "-" : "", a / 1000000000u, frac[0] ? "." : "", frac);
}

static void put_double(FILE *f, double v)
{
    if (isnan(v))
        fputs("NaN", f);
    else if (isinf(v))
        fputs(v > 0 ? "+Inf" : "-Inf", f);
    else
        fprintf(f, "%.9g", v);
}

/* A label value: \ " and newline escaped, as the format requires. */
static void put_label(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; i++) {
        if (s[i] == '\\' || s[i] == '"')
            fputc('\\', f);
        if (s[i] == '\n')
            fputs("\\n", f);
        else
            fputc(s[i], f);
    }
}

static void put_labels(FILE *f, const struct live_dom_info *d, const char *quantile)
{
    fputs("{domain=\"", f);
    put_label(f, d->name, sizeof(d->name));
    fprintf(f, "\",id=\"%d\"", d->id);
    if (quantile)
        fprintf(f, ",quantile=\"%s\"", quantile);
    fputc('}', f);
}

static void put_dom_value(FILE *f, const struct dom_metric *m, const struct live_dom_info *d)
{
    const char *p = (const char *)d + m->off;
    int iv;
    uint64_t u;
    int64_t ns;
    double dv;
    struct live_pct pc;
    switch (m->kind) {
    case M_INT: memcpy(&iv, p, sizeof(iv)); fprintf(f, " %d\n", iv); return;
    case M_U64: memcpy(&u, p, sizeof(u)); fprintf(f, " %" PRIu64 "\n", u); return;
    case M_NS: memcpy(&ns, p, sizeof(ns)); fputc(' ', f); put_seconds(f, ns); break;
    case M_DBL: memcpy(&dv, p, sizeof(dv)); fputc(' ', f); put_double(f, dv); break;
    case M_PCT:
        memcpy(&pc, p, sizeof(pc));
        fputc(' ', f);
        put_seconds(f, (int64_t)api_ji(pc.p50));
        fputc('\n', f);
        fputs(m->name, f);
        put_labels(f, d, "0.99");
        fputc(' ', f);
        put_seconds(f, (int64_t)api_ji(pc.p99));
        break;
    }
    fputc('\n', f);
}

static void put_head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_host(FILE *f, const struct live_host_info *h)
{
    put_head(f, "fairvisor_host_uptime_seconds", "gauge", "Time since the host started.");
    fputs("fairvisor_host_uptime_seconds ", f);
    put_seconds(f, h->uptime_ns);
    fputc('\n', f);
    put_head(f, "fairvisor_host_domains", "gauge", "Domains alive now.");
    fprintf(f, "fairvisor_host_domains %d\n", h->domains);
    put_head(f, "fairvisor_host_domains_created_total", "counter",
             "Domains the host created over its life.");
    fprintf(f, "fairvisor_host_domains_created_total %d\n", h->created);
    put_head(f, "fairvisor_host_pcpus", "gauge", "Physical CPUs the host runs on.");
    fprintf(f, "fairvisor_host_pcpus %d\n", h->pcpus);
}

char *api_metrics_text(const struct live_host_info *h, const struct live_dom_info *d, int n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    put_host(f, h);
    for (size_t k = 0; k < sizeof(dom_metrics) / sizeof(dom_metrics[0]); k++) {
        const struct dom_metric *m = &dom_metrics[k];
        put_head(f, m->name, m->type, m->help);
        for (int i = 0; i < n; i++) {
            fputs(m->name, f);
            put_labels(f, &d[i], m->kind == M_PCT ? "0.5" : NULL);
            put_dom_value(f, m, &d[i]);
        }
    }
    if (h->nr_counters > 0)
        put_head(f, "fairvisor_domain_counter_total", "counter",
                 "Events (monitor.counters) counted while the domain's vCPUs ran.");
    for (int i = 0; i < n; i++)
        for (int k = 0; k < h->nr_counters && k < RUN_MAX_COUNTERS; k++) {
            fputs("fairvisor_domain_counter_total{domain=\"", f);
            put_label(f, d[i].name, sizeof(d[i].name));
            fprintf(f, "\",id=\"%d\",event=\"", d[i].id);
            put_label(f, h->counter_names[k], sizeof(h->counter_names[k]));
            fprintf(f, "\"} %llu\n", (unsigned long long)d[i].counters[k]);
        }
    if (fclose(f)) {
        free(buf);
        return NULL;
    }
    return buf;
}
