/* bench_live.c — what a live host's management costs (issue 10), side by
 * side in one process on one host:
 *   create+destroy of an idle domain through live.h (a plain C call), and
 *   of one with a vif and a memory vbd (netback and blkback take them in
 *   and let them go between two passes), then the first over HTTP (POST /v1/domains + DELETE through libcurl on one
 *   kept-alive loopback connection: parsing, JSON, the daemon's threads);
 *   GET /v1/domains with 1 and with 100 domains;
 *   a monitor.counters read (one read(2) of a perf event group, three
 *   software events) beside getppid(2), the floor of any system call.
 * A plain executable: `bench_live [CYCLES]` (default 1000); prints
 * microseconds per operation. The smoke test runs 20 cycles. */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hv/counters.h"
#include "hv/live.h"
#include "hv/scenario.h"
#include "hv/serve.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p, (void)u;
    return s * n;
}

static long http(CURL *c, const char *method, const char *url, const char *body)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    else
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

static void die(const char *what, const char *err)
{
    fprintf(stderr, "bench_live: %s: %s\n", what, err);
    exit(1);
}

static double direct_cycles(struct live *l, int n, const char *text)
{
    char err[1024];
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        if (live_create(l, "bench", text, strlen(text), NULL, err, sizeof(err)))
            die("create", err);
        if (live_destroy(l, "t", err, sizeof(err)))
            die("destroy", err);
    }
    return (now_s() - t0) / n * 1e6;
}

static double http_cycles(CURL *c, const char *base, int n)
{
    char url[256], one[256];
    snprintf(url, sizeof(url), "%s/v1/domains", base);
    snprintf(one, sizeof(one), "%s/v1/domains/t", base);
    double t0 = now_s();
    for (int i = 0; i < n; i++)
        if (http(c, "POST", url, "{\"name\": \"t\"}") != 201 || http(c, "DELETE", one, NULL) != 200)
            die("http", "a request failed");
    return (now_s() - t0) / n * 1e6;
}

static double http_list(CURL *c, const char *base, int n)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/v1/domains", base);
    double t0 = now_s();
    for (int i = 0; i < n; i++)
        if (http(c, "GET", url, NULL) != 200)
            die("http", "GET failed");
    return (now_s() - t0) / n * 1e6;
}

static void counter_reads(int n)
{
    const char *names[] = { "task-clock", "page-faults", "context-switches" };
    struct counters *c;
    char err[256];
    uint64_t v[3];
    if (counters_open(&c, names, 3, err, sizeof(err))) {
        printf("counters_read: not available here (%s)\n", err);
        return;
    }
    double t0 = now_s();
    for (int i = 0; i < n; i++)
        counters_read(c, v);
    double t1 = now_s();
    for (int i = 0; i < n; i++)
        (void)getppid();
    double t2 = now_s();
    counters_close(c);
    printf("counters_read (3 events)     %8.3f us   getppid() %8.3f us\n", (t1 - t0) / n * 1e6,
           (t2 - t1) / n * 1e6);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    if (n < 1)
        n = 1;
    char err[1024];
    struct scenario scn;
    /* Domain-0 runs netback (a DPDK ring port) and blkback for the domains
     * with devices; without DPDK the host has none and that row says so. */
    const char *host = "name: bench\nengine: real\nduration: 1s\npcpus: 1\n";
    const char *with_backends = "name: bench\nengine: real\nduration: 1s\npcpus: 1\n"
                                "netback: { port: ring }\nblkback: { backend: memory }\n";
    struct live *l;
    struct live_opts lo = { .max_domains = 5 * n + 200 };
    bool devices = true;
    if (scenario_load_host(NULL, with_backends, NULL, 0, &scn, err, sizeof(err)))
        die("scenario", err);
    if (live_start(&scn, &lo, &l, err, sizeof(err))) {
        fprintf(stderr, "bench_live: no backends (%s): domains without devices only\n", err);
        scenario_free(&scn);
        devices = false;
        if (scenario_load_host(NULL, host, NULL, 0, &scn, err, sizeof(err)))
            die("scenario", err);
        if (live_start(&scn, &lo, &l, err, sizeof(err)))
            die("live_start", err);
    }
    struct api api = { &serve_live_ops, l, "bench-token" };
    struct serve_opts so = { "127.0.0.1:0", NULL };
    struct serve *srv;
    if (serve_start(&api, &so, &srv, err, sizeof(err)))
        die("serve_start", err);
    char base[64];
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", serve_port(srv));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer bench-token");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);

    printf("bench_live: %d cycles each, 1 pCPU%s\n", n,
           devices ? ", Domain-0 running netback and blkback" : "");
    printf("create+destroy, live.h call  %8.1f us\n", direct_cycles(l, n, "{name: t}"));
    if (devices)
        printf("  ... with a vif + 1 MiB vbd %8.1f us\n",
               direct_cycles(l, n, "{name: t, vifs: [{}], vbds: [{size: 1MiB}]}"));
    printf("create+destroy, HTTP         %8.1f us\n", http_cycles(c, base, n));
    printf("GET /v1/domains, 1 domain    %8.1f us\n", http_list(c, base, n));
    for (int i = 0; i < 100; i++) {
        char text[64];
        snprintf(text, sizeof(text), "{name: d%d}", i);
        if (live_create(l, "bench", text, strlen(text), NULL, err, sizeof(err)))
            die("create", err);
    }
    printf("GET /v1/domains, 100 domains %8.1f us\n", http_list(c, base, n));
    counter_reads(100 * n);

    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    live_stop(l);
    live_wait(l);
    serve_stop(srv);
    live_finish(l, NULL);
    scenario_free(&scn);
    return 0;
}
