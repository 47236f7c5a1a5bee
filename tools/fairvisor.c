/* fairvisor — the command line (DESIGN §6).
 *
 *   fairvisor run SCENARIO [--engine E] [--out DIR] [--seed N] [--set k=v]...
 *   fairvisor plot DIR
 *   fairvisor compare DIR... [--out DIR] [--by domain|group]
 *   fairvisor sweep SCENARIO --vary KEY=VALUES --policies P,Q [--slo ...] | --collect DIR
 *   fairvisor policies | workloads
 *
 * Exit status: 0 success, 1 the run failed (or was interrupted), 2 bad usage
 * or bad input.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hv/compare.h"
#include "hv/engine.h"
#include "hv/results.h"
#include "hv/scenario.h"
#include "hv/sweep.h"
#include "hv/serve.h"
#include "sched/sched.h"
#include "workloads/workload.h"
#include "fv_client.h"

#include "hv/version.h"
#define EXIT_BAD 2

static volatile sig_atomic_t stop_requested;

static void on_sigint(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage_main(FILE *f)
{
    fprintf(f,
        "usage: fairvisor <command> [options]\n"
        "\n"
        "commands:\n"
        "  run SCENARIO     run one experiment; writes results, graphs, a summary table\n"
        "  plot DIR         redraw the graphs of a results directory\n"
        "  compare DIR...   runs side by side: a table, compare.csv and bar charts\n"
        "  sweep SCENARIO   run a grid of --vary values x policies: CSV, knees, a curve\n"
        "  serve [SCENARIO] a live host managed over HTTP until told to stop (docs/API.md)\n"
        "  policies         list scheduler policies and their parameters\n"
        "  workloads        list workload kinds and their parameters\n"
        "\n"
        "commands on running hosts (`fairvisor serve`; --host URL, default %s):\n"
        "  create FILE      create a domain from a scenario domain entry\n"
        "  list [NAME...]   the domains, as `xl list`\n"
        "  destroy | pause | unpause NAME\n"
        "  sched-credit | sched-credit2 | sched-rtds   parameters, as `xl sched-*`\n"
        "  shutdown         stop the host (it writes its results)\n"
        "  top              the domains' CPU, I/O, waits and starvation, as xentop\n"
        "\n"
        "`fairvisor <command> --help` for a command's options. `--version` prints %s.\n"
        "Exit status: 0 success, 1 the run failed or was interrupted, 2 bad usage or input.\n",
        FVC_DEFAULT_HOST, FV_VERSION);
}

static void usage_run(FILE *f)
{
    fprintf(f,
        "usage: fairvisor run SCENARIO [options]\n"
        "\n"
        "Runs the scenario (a YAML file, see scenarios/) and writes\n"
        "results/<scenario>/<UTC time>-<policy>-<engine>/ with scenario.yaml,\n"
        "summary.json, timeline.csv and plots/.\n"
        "\n"
        "options:\n"
        "  --engine E        sim (virtual time, deterministic) | real; overrides `engine:`\n"
        "  --out DIR         write the results into DIR itself\n"
        "  --results-root D  parent of the timestamped directory (default: results;\n"
        "                    not with --out)\n"
        "  --seed N          overrides `seed:`\n"
        "  --set KEY=VALUE   override any field: --set sched.tslice=1ms,\n"
        "                    --set domains.0.weight=512 (repeatable)\n"
        "  --no-plot         skip the graphs\n"
        "  --quiet           no summary table\n"
        "  -h, --help        this text\n");
}

/* ---- listing schemas --------------------------------------------------- */

static void print_param_value(FILE *f, int ns, int64_t v)
{
    char buf[32];
    if (!ns)
        fprintf(f, "%lld", (long long)v);
    else
        fputs(fv_fmt_ns(v, buf, sizeof(buf)), f);
}

static void print_sched_params(FILE *f, const char *what, const struct sched_param_desc *p)
{
    for (; p && p->name; p++) {
        int ns = p->kind == SCHED_PARAM_NS;
        fprintf(f, "    %-10s %-7s default ", p->name, what);
        if (p->kind == SCHED_PARAM_BOOL)
            fprintf(f, "%s", p->def ? "true" : "false");
        else
            print_param_value(f, ns, p->def);
        if (p->kind != SCHED_PARAM_BOOL) {
            fprintf(f, ", range ");
            print_param_value(f, ns, p->min);
            fprintf(f, "..");
            print_param_value(f, ns, p->max);
        }
        fprintf(f, "%s%s\n", p->help ? "  " : "", p->help ? p->help : "");
    }
}

static int cmd_policies(void)
{
    for (int i = 0; sched_policies[i]; i++) {
        const struct sched_ops *o = sched_policies[i];
        printf("%s%s%s\n", o->name, o->help ? ": " : "", o->help ? o->help : "");
        print_sched_params(stdout, "sched:", o->global_params);
        print_sched_params(stdout, "domain", o->dom_params);
    }
    return 0;
}

static int cmd_workloads(void)
{
    static const char *const kinds[] = { "duration", "size", "count", "bool", "choice" };
    for (int i = 0; workload_kinds[i]; i++) {
        const struct workload_desc *w = workload_kinds[i];
        printf("%s: %s\n", w->kind, w->help);
        for (const struct wl_param_desc *p = w->params; p && p->name; p++) {
            const char *kind = workload_peer_rules(w, p->name) ? "domain" : kinds[p->kind];
            printf("    %-8s %-8s default ", p->name, kind);
            if (p->kind == WL_ENUM)
                printf("%s", p->choices[p->def]);
            else
                print_param_value(stdout, p->kind == WL_NS, p->def);
            printf("  %s\n", p->help);
        }
    }
    return 0;
}

/* ---- run ------------------------------------------------------------------ */

struct run_args {
    const char *scenario, *out, *root;
    const char **sets;
    int nsets;
    bool no_plot, quiet;
};

static int add_set(struct run_args *a, const char *s)
{
    const char **n = realloc(a->sets, (size_t)(a->nsets + 1) * sizeof(*n));
    if (!n)
        return -ENOMEM;
    a->sets = n;
    a->sets[a->nsets++] = s;
    return 0;
}

/* An option value that cannot be what was meant is bad usage (exit 2), not
 * a failed run: an empty one (`--out ''`, typically an unset shell
 * variable; `--results-root ''` would otherwise put the run under /), or
 * the next option swallowed as the value (`--out --no-plot`). A directory
 * really named like an option can be written ./--no-plot. */
static bool bad_value(const char *opt, const char *v)
{
    if (!*v)
        fprintf(stderr, "fairvisor run: --%s needs a value, got an empty string\n", opt);
    else if (v[0] == '-' && v[1] == '-')
        fprintf(stderr, "fairvisor run: --%s %s: the value looks like an option (was the value "
                "forgotten?)\n", opt, v);
    else
        return false;
    return true;
}

/* Returns -1 to go on, else an exit status. */
static int parse_run_args(int argc, char **argv, struct run_args *a, char **owned, int *nowned)
{
    static const struct option opts[] = {
        { "engine", required_argument, NULL, 'e' }, { "out", required_argument, NULL, 'o' },
        { "seed", required_argument, NULL, 's' }, { "set", required_argument, NULL, 'S' },
        { "results-root", required_argument, NULL, 'r' }, { "no-plot", no_argument, NULL, 'P' },
        { "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' }, { 0 },
    };
    int c, li = -1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        char *kv = NULL;
        if (optarg && li >= 0 && bad_value(opts[li].name, optarg)) {
            usage_run(stderr);
            return EXIT_BAD;
        }
        li = -1;
        switch (c) {
        case 'e':
        case 's':
            if (asprintf(&kv, "%s=%s", c == 'e' ? "engine" : "seed", optarg) < 0)
                return 1;
            owned[(*nowned)++] = kv;
            add_set(a, kv);
            break;
        case 'S': add_set(a, optarg); break;
        case 'o': a->out = optarg; break;
        case 'r': a->root = optarg; break;
        case 'P': a->no_plot = true; break;
        case 'q': a->quiet = true; break;
        case 'h': usage_run(stdout); return 0;
        default: usage_run(stderr); return EXIT_BAD;
        }
    }
    if (optind != argc - 1 || !argv[optind][0]) {
        fprintf(stderr, "fairvisor run: expected exactly one SCENARIO file%s\n",
                optind == argc - 1 ? " (got an empty name)" : "");
        usage_run(stderr);
        return EXIT_BAD;
    }
    if (a->out && a->root) {
        fprintf(stderr, "fairvisor run: --out and --results-root cannot be combined (--out "
                "names the results directory itself; --results-root the parent of a "
                "timestamped one)\n");
        usage_run(stderr);
        return EXIT_BAD;
    }
    a->scenario = argv[optind];
    return -1;
}

static int cmd_run(int argc, char **argv)
{
    struct run_args a = { 0 };
    char *owned[2 * argc + 1];
    int nowned = 0;
    int rc = parse_run_args(argc, argv, &a, owned, &nowned);
    char err[1024] = "";
    struct scenario scn;
    struct results *res = NULL;
    struct run_result rr;
    memset(&rr, 0, sizeof(rr));
    if (rc >= 0)
        goto out;
    if (scenario_load(a.scenario, a.sets, a.nsets, &scn, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        rc = EXIT_BAD;
        goto out;
    }
    res = results_open(&scn, a.out, a.root, err, sizeof(err));
    if (!res) {
        fprintf(stderr, "fairvisor: %s\n", err);
        rc = 1;
        goto out_scn;
    }
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    struct engine_opts eo = { .sink = results_timeline_sink(res), .stop = &stop_requested };
    int erc = engine_run(&scn, &eo, &rr, err, sizeof(err));
    if (erc) {
        /* Nothing ran: leave no results directory behind. -EINVAL is a
         * scenario the engine or policy refused (bad input); anything
         * else, the host could not set the run up. */
        fprintf(stderr, "fairvisor: %s\n", err);
        rc = erc == -EINVAL ? EXIT_BAD : 1;
        results_discard(res);
        goto out_scn;
    }
    rc = results_report(res, &rr, a.quiet, a.no_plot);
    run_result_free(&rr);
    results_close(res);
out_scn:
    scenario_free(&scn);
out:
    for (int i = 0; i < nowned; i++)
        free(owned[i]);
    free(a.sets);
    return rc;
}

/* ---- plot ----------------------------------------------------------------- */

static int cmd_plot(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: fairvisor plot DIR\n\nRedraws DIR/plots/ from DIR/timeline.csv and "
               "DIR/wakeup-latency.csv with gnuplot.\n");
        return 0;
    }
    if (argc != 2 || !argv[1][0]) {
        fprintf(stderr, "%susage: fairvisor plot DIR\n",
                argc == 2 ? "fairvisor plot: DIR is an empty string\n" : "");
        return EXIT_BAD;
    }
    struct stat st;
    char path[4096];
    snprintf(path, sizeof(path), "%s/timeline.csv", argv[1]);
    if (stat(path, &st)) {
        fprintf(stderr, "fairvisor plot: %s: not a results directory (expected %s)\n", argv[1], path);
        return EXIT_BAD;
    }
    char why[2048];
    int rc = results_plot(argv[1], stdout, why, sizeof(why));
    if (rc == 0) {
        printf("graphs: %s/plots/\n", argv[1]);
        return 0;
    }
    if (rc < 0)
        fprintf(stderr, "fairvisor plot: graphs failed: %s\n", why[0] ? why : strerror(-rc));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return EXIT_BAD;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage_main(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("fairvisor %s\n", FV_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "plot"))
        return cmd_plot(argc - 1, argv + 1);
    if (!strcmp(cmd, "compare"))
        return fv_cmd_compare(argc - 1, argv + 1);
    if (!strcmp(cmd, "sweep"))
        return fv_cmd_sweep(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve"))
        return fv_cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "policies"))
        return cmd_policies();
    if (!strcmp(cmd, "workloads"))
        return cmd_workloads();
    if (fv_client_verb(cmd))
        return fv_client_main(argc - 1, argv + 1);
    fprintf(stderr, "fairvisor: unknown command '%s' (expected run, plot, compare, sweep, serve, policies, workloads, or a host command: create, list, destroy, pause, unpause, sched-credit, sched-credit2, sched-rtds, shutdown, top)\n", cmd);
    usage_main(stderr);
    return EXIT_BAD;
}
