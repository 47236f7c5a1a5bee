/* fv_serve.c — `fairvisor serve`: a live host (hv/live.h) behind the
 * management API (hv/serve.h, docs/API.md) until POST /v1/shutdown, SIGINT
 * or SIGTERM; then its results are written as `fairvisor run` writes them.
 *
 *   fairvisor serve [SCENARIO] [--listen ADDR:PORT | --socket PATH]
 *                   [--token-file PATH] [--out DIR] [--max-domains N]
 *
 * Exit status: 0 stopped and results written, 1 set-up or the host failed,
 * 2 bad usage or a bad scenario.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hv/live.h"
#include "hv/results.h"
#include "hv/scenario.h"
#include "hv/serve.h"

#define EXIT_BAD 2

struct serve_args {
    const char *scenario, *listen, *socket, *token_file, *out;
    int max_domains;
};

static void usage_serve(FILE *f)
{
    fprintf(f,
        "usage: fairvisor serve [SCENARIO] [options]\n"
        "\n"
        "Runs a live host on the real engine (SCENARIO's domains, or none) until\n"
        "POST /v1/shutdown, Ctrl-C or SIGTERM, managed over HTTP (docs/API.md);\n"
        "then writes its results as `fairvisor run` does.\n"
        "\n"
        "options:\n"
        "  --listen ADDR:PORT  IPv4 address and port (default %s)\n"
        "  --socket PATH       a Unix socket (mode 0600) instead of TCP\n"
        "  --token-file PATH   where the API token is written (default\n"
        "                      ~/.fairvisor/token-ADDR-PORT, or PATH.token with --socket)\n"
        "  --out DIR           write the results into DIR itself\n"
        "  --max-domains N     domains the host may create over its life (default %d)\n"
        "  -h, --help          this text\n"
        "The token is $FAIRVISOR_TOKEN when set, else random.\n",
        SERVE_DEFAULT_LISTEN, LIVE_MAX_DOMAINS_DEFAULT);
}

static int bad_usage(const char *fmt, const char *v)
{
    fprintf(stderr, "fairvisor serve: ");
    fprintf(stderr, fmt, v);
    fputc('\n', stderr);
    usage_serve(stderr);
    return EXIT_BAD;
}

static int check_args(struct serve_args *a, const char *max)
{
    char err[256];
    struct sockaddr_in sa;
    char *end;
    if (a->listen && a->socket)
        return bad_usage("--listen and --socket cannot be combined%s", "");
    if (a->listen && serve_parse_listen(a->listen, &sa, err, sizeof(err)))
        return bad_usage("%s", err);
    if (max) {
        errno = 0;
        long v = strtol(max, &end, 10);
        if (!*max || *end || errno || v < 1 || v > SCN_MAX_DOMAINS)
            return bad_usage("--max-domains %s: expected a number 1..32751", max);
        a->max_domains = (int)v;
    }
    return -1;
}

/* Returns -1 to go on, else an exit status. */
static int parse_serve_args(int argc, char **argv, struct serve_args *a)
{
    static const struct option opts[] = {
        { "listen", required_argument, NULL, 'l' }, { "socket", required_argument, NULL, 's' },
        { "token-file", required_argument, NULL, 't' }, { "out", required_argument, NULL, 'o' },
        { "max-domains", required_argument, NULL, 'm' }, { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    const char *max = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (optarg && (!optarg[0] || (optarg[0] == '-' && optarg[1] == '-')))
            return bad_usage("an option's value is empty or looks like an option: '%s'", optarg);
        switch (c) {
        case 'l': a->listen = optarg; break;
        case 's': a->socket = optarg; break;
        case 't': a->token_file = optarg; break;
        case 'o': a->out = optarg; break;
        case 'm': max = optarg; break;
        case 'h': usage_serve(stdout); return 0;
        default: usage_serve(stderr); return EXIT_BAD;
        }
    }
    if (argc - optind > 1)
        return bad_usage("expected at most one SCENARIO, got '%s' too", argv[optind + 1]);
    if (optind < argc && !argv[optind][0])
        return bad_usage("SCENARIO is an empty string%s", "");
    a->scenario = optind < argc ? argv[optind] : NULL;
    return check_args(a, max);
}

/* SCENARIO on the real engine, or a host with no domains. 0, or an exit status. */
static int load_scenario(const struct serve_args *a, struct scenario *scn)
{
    char err[1024], text[256];
    static const char *const real[] = { "engine=real" };
    int rc;
    if (a->scenario) {
        rc = scenario_load_host(a->scenario, NULL, NULL, 0, scn, err, sizeof(err));
        if (rc == 0 && strcmp(scn->engine, "real")) {
            fprintf(stderr, "fairvisor serve: %s: engine %s replaced by real (a live host runs "
                    "on the host's CPUs)\n", a->scenario, scn->engine);
            scenario_free(scn);
            rc = scenario_load_host(a->scenario, NULL, real, 1, scn, err, sizeof(err));
        }
    } else {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        snprintf(text, sizeof(text), "name: serve\nengine: real\nduration: 1s\npcpus: %ld\n",
                 cpus > 0 ? cpus : 1);
        rc = scenario_load_host(NULL, text, NULL, 0, scn, err, sizeof(err));
    }
    if (rc)
        fprintf(stderr, "%s\n", err);
    return rc ? EXIT_BAD : 0;
}

/* ---- after the host stopped: results, as `fairvisor run` ------------------------ */

/* ---- the server ------------------------------------------------------------------ */

static struct live *volatile g_live;

static void on_signal(int sig)
{
    (void)sig;
    struct live *l = g_live;
    if (l)
        live_stop(l);
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Write the token where clients look and say where the API is. */
static int announce(const struct serve_args *a, struct serve *srv, const char *token)
{
    char path[PATH_MAX], addr[64] = "", err[PATH_MAX + 128];
    const char *listen = a->listen ? a->listen : SERVE_DEFAULT_LISTEN;
    int port = serve_port(srv);
    if (!a->socket)
        snprintf(addr, sizeof(addr), "%.*s", (int)(strrchr(listen, ':') - listen), listen);
    int rc = a->token_file ? 0 : serve_token_default_path(addr, port, a->socket, path,
                                                          sizeof(path));
    if (rc) {
        fprintf(stderr, "fairvisor serve: no place for the token (%s): give --token-file\n",
                rc == -ENOENT ? "HOME is not set" : strerror(-rc));
        return 1;
    }
    const char *file = a->token_file ? a->token_file : path;
    if (serve_token_write(file, token, err, sizeof(err))) {
        fprintf(stderr, "fairvisor serve: %s\n", err);
        return 1;
    }
    if (a->socket)
        printf("fairvisor serve: listening on unix:%s (token in %s)\n", a->socket, file);
    else
        printf("fairvisor serve: listening on http://%s:%d (token in %s)\n", addr, port, file);
    fflush(stdout);
    return 0;
}

/* Serve until the host stops. 0, or 1 if serving could not start (the
 * host is stopped then too). */
static int serve_host(const struct serve_args *a, struct live *l, const char *token)
{
    char err[1024];
    struct api api = { &serve_live_ops, l, token };
    struct serve_opts so = { a->listen, a->socket };
    struct serve *srv = NULL;
    int rc = serve_start(&api, &so, &srv, err, sizeof(err));
    if (rc)
        fprintf(stderr, "fairvisor serve: %s\n", err);
    else if ((rc = announce(a, srv, token)) == 0) {
        g_live = l;
        catch_signals();
    }
    if (rc)
        live_stop(l);
    live_wait(l);
    serve_stop(srv);
    return rc ? 1 : 0;
}

int fv_cmd_serve(int argc, char **argv)
{
    struct serve_args a = { 0 };
    int rc = parse_serve_args(argc, argv, &a);
    char err[1024], token[SERVE_TOKEN_MAX];
    struct scenario scn;
    if (rc >= 0)
        return rc;
    if ((rc = serve_token_new(token, sizeof(token)))) {
        fprintf(stderr, "fairvisor serve: %s\n", rc == -EINVAL ? "FAIRVISOR_TOKEN must be "
                "printable with no spaces, under 256 bytes" : strerror(-rc));
        return rc == -EINVAL ? EXIT_BAD : 1;
    }
    if ((rc = load_scenario(&a, &scn)))
        return rc;
    struct results *res = results_open(&scn, a.out, NULL, err, sizeof(err));
    struct live *l = NULL;
    if (!res) {
        fprintf(stderr, "fairvisor: %s\n", err);
        rc = 1;
        goto out;
    }
    struct live_opts lo = { .max_domains = a.max_domains, .sink = results_timeline_sink(res) };
    if ((rc = live_start(&scn, &lo, &l, err, sizeof(err)))) {
        fprintf(stderr, "fairvisor: %s\n", err);
        rc = rc == -EINVAL ? EXIT_BAD : 1;
        results_discard(res);
        goto out;
    }
    if ((rc = serve_host(&a, l, token))) {
        live_finish(l, NULL);   /* never served: no results */
        results_discard(res);
        goto out;
    }
    g_live = NULL;
    struct run_result rr;
    memset(&rr, 0, sizeof(rr));
    live_finish(l, &rr);
    rc = results_report(res, &rr, false, false);
    run_result_free(&rr);
    results_close(res);
out:
    scenario_free(&scn);
    return rc;
}
