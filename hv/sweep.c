/* sweep.c — the `fairvisor sweep` command line: arguments, the grid, and
 * the check of every point before anything runs.
 *
 * Every point is loaded in-process (scenario_load with its overrides) up
 * front, so a --vary key that does not exist, a value in the wrong unit or
 * a policy that refuses a varied key fails the sweep with the loader's own
 * message and exit status 2, instead of as many failed runs. Loading is
 * cheap next to running: N points cost N loads, not N runs.
 */
#include "sweep.h"
#include "results.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXIT_BAD 2

struct sweep_args {
    const char *scenario, *out, *emit, *collect, *policies, *slo;
    const char **vary, **sets;
    int nvary, nsets, jobs, repeats;
};

static void usage_sweep(FILE *f)
{
    fprintf(f,
        "usage: fairvisor sweep SCENARIO --vary KEY=LIST|A..B[:STEP] [--vary ...] [options]\n"
        "       fairvisor sweep --collect DIR\n"
        "\n"
        "Runs SCENARIO at every point of a grid: each combination of the --vary values\n"
        "under each policy, --repeat times (repeat r with the scenario's seed + r). A\n"
        "point is a `fairvisor run` of this binary into DIR/runs/P; then DIR/sweep.csv\n"
        "(one row per point), DIR/knee.txt and knees.csv (where the SLO breaks, per\n"
        "policy) and DIR/plots/density.png/.svg (SLO field and throughput against the\n"
        "first --vary key, one line per policy, min..max bars over the repeats).\n"
        "\n"
        "options:\n"
        "  --vary KEY=LIST        a scenario key, as --set takes it, and its values:\n"
        "  --vary KEY=A..B[:STEP] 1ms,10ms,30ms (units as the key takes them) or the\n"
        "                         integers A to B (domains.flood.count=1..8:2)\n"
        "  --policies P,Q         the policies to run every point under (default: the\n"
        "                         scenario's)\n"
        "  --slo 'NAME.FIELD<V'   the objective: NAME a domain, or a count group (its\n"
        "                         worst member); FIELD a number in its summary.json\n"
        "                         entry (net.latency_ns.p99, blk.latency_ns.p99,\n"
        "                         wakeup_latency_ns.p99, cpu_share, work_units, ...);\n"
        "                         also <=, >, >=; *_ns fields take durations (1ms)\n"
        "  -j, --jobs N           points at once (default: the CPUs; for a real-engine\n"
        "                         scenario the CPUs / its pcpus)\n"
        "  --repeat R             runs of each point (default 1)\n"
        "  --out DIR              the sweep directory, new or empty (default:\n"
        "                         results/sweep/<scenario>-<UTC time>)\n"
        "  --set KEY=VALUE        an override for every point (repeatable)\n"
        "  --emit slurm DIR       write DIR/sweep.sbatch, a Slurm array job with one task\n"
        "                         per point, and DIR/grid.tsv, instead of running\n"
        "  --collect DIR          gather a sweep directory's finished points into its\n"
        "                         CSV, knees and graph (after --emit, or again)\n"
        "  -h, --help             this text\n"
        "\n"
        "Ctrl-C stops launching points and waits for the running ones (a second Ctrl-C\n"
        "stops them); the points not run are `missing` in the CSV. Exit status: 0 every\n"
        "point ran, 1 a point failed or is missing, 2 bad usage or input.\n");
}

static int add_arg(const char ***v, int *n, const char *s)
{
    const char **nv = realloc(*v, (size_t)(*n + 1) * sizeof(*nv));
    if (!nv)
        return -ENOMEM;
    *v = nv;
    nv[(*n)++] = s;
    return 0;
}

static int int_arg(const char *opt, const char *v, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!*v || *end || errno || x < lo || x > hi) {
        fprintf(stderr, "fairvisor sweep: %s %s: expected an integer %d..%d\n", opt, v, lo, hi);
        return -EINVAL;
    }
    *out = (int)x;
    return 0;
}

/* --emit slurm DIR takes two words: taken out of argv before getopt. */
static int take_emit(int *argc, char **argv, struct sweep_args *a)
{
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--emit") != 0)
            continue;
        if (a->emit || i + 2 >= *argc || strcmp(argv[i + 1], "slurm") != 0 || !argv[i + 2][0]) {
            fprintf(stderr, "fairvisor sweep: %s (expected --emit slurm DIR, once)\n",
                    a->emit ? "--emit given twice" : "--emit needs `slurm DIR`");
            return -EINVAL;
        }
        a->emit = argv[i + 2];
        memmove(&argv[i], &argv[i + 3], (size_t)(*argc - i - 3) * sizeof(*argv));
        *argc -= 3;
        argv[*argc] = NULL;
        i--;
    }
    return 0;
}

/* Returns -1 to go on, else an exit status. */
static int parse_args(int argc, char **argv, struct sweep_args *a)
{
    static const struct option opts[] = {
        { "vary", required_argument, NULL, 'V' }, { "policies", required_argument, NULL, 'p' },
        { "slo", required_argument, NULL, 'l' }, { "jobs", required_argument, NULL, 'j' },
        { "repeat", required_argument, NULL, 'r' }, { "out", required_argument, NULL, 'o' },
        { "set", required_argument, NULL, 'S' }, { "collect", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' }, { 0 },
    };
    if (take_emit(&argc, argv, a))
        return EXIT_BAD;
    int c, rc = 0;
    optind = 1;
    while (rc == 0 && (c = getopt_long(argc, argv, "hj:", opts, NULL)) != -1) {
        if (optarg && !*optarg) {
            fprintf(stderr, "fairvisor sweep: an option has an empty value (expected a "
                    "value after every option)\n");
            rc = -EINVAL;
            break;
        }
        switch (c) {
        case 'V': rc = add_arg(&a->vary, &a->nvary, optarg); break;
        case 'S': rc = add_arg(&a->sets, &a->nsets, optarg); break;
        case 'p': a->policies = optarg; break;
        case 'l': a->slo = optarg; break;
        case 'o': a->out = optarg; break;
        case 'c': a->collect = optarg; break;
        case 'j': rc = int_arg("-j", optarg, 1, 1024, &a->jobs); break;
        case 'r': rc = int_arg("--repeat", optarg, 1, 1000, &a->repeats); break;
        case 'h': usage_sweep(stdout); return 0;
        default: rc = -EINVAL; break;
        }
    }
    if (rc) {
        usage_sweep(stderr);
        return rc == -ENOMEM ? 1 : EXIT_BAD;
    }
    if (a->collect) {
        if (optind != argc || a->nvary || a->nsets || a->policies || a->slo || a->out ||
            a->emit || a->jobs || a->repeats) {
            fprintf(stderr, "fairvisor sweep: --collect DIR takes nothing else (the sweep's "
                    "arguments are in DIR/grid.tsv)\n");
            return EXIT_BAD;
        }
        return -1;
    }
    if (optind != argc - 1 || !argv[optind][0]) {
        fprintf(stderr, "fairvisor sweep: expected exactly one SCENARIO file\n");
        usage_sweep(stderr);
        return EXIT_BAD;
    }
    a->scenario = argv[optind];
    if (!a->nvary) {
        fprintf(stderr, "fairvisor sweep: no --vary (expected at least one, such as --vary "
                "domains.flood.count=1..8)\n");
        return EXIT_BAD;
    }
    if (a->out && a->emit) {
        fprintf(stderr, "fairvisor sweep: --out and --emit cannot be combined (--emit slurm "
                "DIR names the sweep directory)\n");
        return EXIT_BAD;
    }
    return -1;
}

/* ---- the grid from the arguments ----------------------------------------------- */

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static bool same_key(const char *set, const char *key)
{
    size_t kl = strlen(key);
    return strncmp(set, key, kl) == 0 && set[kl] == '=';
}

/* The user's --set: printable, not the policy (that is --policies), not a
 * varied key (the --vary would silently win). */
static int check_sets(const struct sweep_args *a, const struct sweep_grid *g)
{
    for (int i = 0; i < a->nsets; i++) {
        const char *why = has_control(a->sets[i]) ? "has a control character"
                        : same_key(a->sets[i], "sched.policy") ? "sets the policy: use --policies P,Q"
                        : NULL;
        for (int k = 0; !why && k < g->nkeys; k++)
            if (same_key(a->sets[i], g->axes[k].key))
                why = "sets a key --vary varies";
        if (why) {
            fprintf(stderr, "fairvisor sweep: --set %s: %s\n", a->sets[i], why);
            return -EINVAL;
        }
    }
    return 0;
}

static int build_grid(const struct sweep_args *a, const struct scenario *base,
                      struct sweep_grid *g)
{
    char err[4096];
    int rc = 0;
    for (int i = 0; rc == 0 && i < a->nvary; i++) {
        if (g->nkeys >= SWEEP_MAX_KEYS) {
            fprintf(stderr, "fairvisor sweep: more than %d --vary (expected at most %d)\n",
                    SWEEP_MAX_KEYS, SWEEP_MAX_KEYS);
            return -EINVAL;
        }
        if ((rc = sweep_axis_parse(a->vary[i], &g->axes[g->nkeys], err, sizeof(err)))) {
            fprintf(stderr, "fairvisor sweep: %s\n", err);
            return rc;
        }
        for (int k = 0; k < g->nkeys; k++)
            if (strcmp(g->axes[k].key, g->axes[g->nkeys].key) == 0) {
                fprintf(stderr, "fairvisor sweep: --vary %s: the key is varied twice (expected "
                        "one --vary per key)\n", a->vary[i]);
                g->nkeys++;
                return -EINVAL;
            }
        g->nkeys++;
    }
    if ((rc = check_sets(a, g)))
        return rc;
    for (int i = 0; i < a->nsets; i++) {
        char **ns = realloc(g->sets, (size_t)(g->nsets + 1) * sizeof(*ns));
        if (!ns || !(ns[g->nsets] = strdup(a->sets[i])))
            return g->sets = ns ? ns : g->sets, -ENOMEM;
        g->sets = ns;
        g->nsets++;
    }
    rc = sweep_grid_policies(g, a->policies ? a->policies : base->policy ? base->policy->name : "credit", err,
                             sizeof(err));
    if (rc == 0 && a->slo && (g->has_slo = true))
        rc = sweep_slo_parse(a->slo, &g->slo, err, sizeof(err));
    g->repeats = a->repeats ? a->repeats : 1;
    g->seed = base->seed;
    snprintf(g->name, sizeof(g->name), "%s", base->name);
    if (rc == 0)
        rc = sweep_grid_size(g, err, sizeof(err));
    if (rc == -EINVAL)
        fprintf(stderr, "fairvisor sweep: %s\n", err);
    return rc;
}

/* ---- every point loads ---------------------------------------------------------- */

/* The loader's message for one point, said in the sweep's terms: a --set
 * it names is a --vary value, the policy, or the user's own --set. */
static void point_refused(const struct sweep_grid *g, const int *vi, int pol, const char *msg)
{
    for (int k = 0; k < g->nkeys; k++) {
        char pre[1024];
        int n = snprintf(pre, sizeof(pre), "--set %s=%s: ", g->axes[k].key,
                         g->axes[k].vals[vi[k]]);
        if (n < (int)sizeof(pre) && strncmp(msg, pre, (size_t)n) == 0) {
            fprintf(stderr, "fairvisor sweep: --vary %s=%s (value %s): %s\n", g->axes[k].key,
                    g->axes[k].spec, g->axes[k].vals[vi[k]], msg + n);
            return;
        }
    }
    char pre[128];
    int n = snprintf(pre, sizeof(pre), "--set sched.policy=%s: ", g->policies[pol]);
    if (strncmp(msg, pre, (size_t)n) == 0) {
        fprintf(stderr, "fairvisor sweep: --policies (policy %s): %s\n", g->policies[pol],
                msg + n);
        return;
    }
    if (strncmp(msg, "--set ", 6) == 0) {
        fprintf(stderr, "fairvisor sweep: %s\n", msg);
        return;
    }
    /* a file position: the point's overrides made something else wrong */
    fprintf(stderr, "fairvisor sweep: at");
    for (int k = 0; k < g->nkeys; k++)
        fprintf(stderr, " %s=%s", g->axes[k].key, g->axes[k].vals[vi[k]]);
    fprintf(stderr, " under %s: %s\n", g->policies[pol], msg);
}

/* Load each point (repeats aside) with its overrides; check the SLO's
 * domain in each. *engine_real, *pcpus: the most any point asks for. */
static int check_points(const struct sweep_grid *g, bool *engine_real, int *pcpus)
{
    int ncombo = g->npoints / g->repeats, nsets = g->nsets + g->nkeys + 1, rc = 0;
    const char **sets = calloc((size_t)nsets, sizeof(*sets));
    char **owned = calloc((size_t)g->nkeys + 1, sizeof(*owned));
    char err[4096];
    if (!sets || !owned)
        rc = -ENOMEM;
    for (int c = 0; rc == 0 && c < ncombo; c++) {
        int vi[SWEEP_MAX_KEYS], pol, rep;
        sweep_point(g, c * g->repeats, vi, &pol, &rep);
        for (int i = 0; i < g->nsets; i++)
            sets[i] = g->sets[i];
        for (int k = 0; rc == 0 && k <= g->nkeys; k++) {
            int w = k < g->nkeys ? asprintf(&owned[k], "%s=%s", g->axes[k].key,
                                            g->axes[k].vals[vi[k]])
                                 : asprintf(&owned[k], "sched.policy=%s", g->policies[pol]);
            if (w < 0)
                owned[k] = NULL, rc = -ENOMEM;
            else
                sets[g->nsets + k] = owned[k];
        }
        struct scenario scn;
        if (rc == 0 && scenario_load(g->scenario, sets, nsets, &scn, err, sizeof(err)) != 0) {
            point_refused(g, vi, pol, err);
            rc = -EINVAL;
        } else if (rc == 0) {
            if (g->has_slo && sweep_slo_check(&g->slo, &scn, err, sizeof(err)) != 0) {
                fprintf(stderr, "fairvisor sweep: %s\n", err);
                rc = -EINVAL;
            }
            *engine_real |= strcmp(scn.engine, "real") == 0;
            *pcpus = scn.pcpus > *pcpus ? scn.pcpus : *pcpus;
            scenario_free(&scn);
        }
        for (int k = 0; k <= g->nkeys; k++) {
            free(owned[k]);
            owned[k] = NULL;
        }
    }
    free(sets);
    free(owned);
    return rc;
}

/* ---- the sweep directory ----------------------------------------------------------- */

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return -ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    return mkdir(buf, 0777) < 0 && errno != EEXIST ? -errno : 0;
}

/* A directory that does not exist yet, or holds nothing. */
static bool dir_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n == 0;
}

/* Create the sweep directory, its absolute path into dir[PATH_MAX]:
 * --emit's or --out's, new or empty, else
 * results/sweep/<scenario>-<UTC time>[-N]. */
static int make_sweep_dir(const struct sweep_args *a, const struct sweep_grid *g, char *dir)
{
    const char *given = a->emit ? a->emit : a->out;
    char path[PATH_MAX];
    int err = 0;
    if (given) {
        if (!dir_empty(given)) {
            fprintf(stderr, "fairvisor sweep: %s %s: the directory is not empty (expected a "
                    "new or empty directory)\n", a->emit ? "--emit slurm" : "--out", given);
            return -EEXIST;
        }
        snprintf(path, sizeof(path), "%s", given);
        err = mkdir_p(path);
    } else {
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
        err = mkdir_p("results/sweep");
        for (int i = 1; !err; i++) {
            snprintf(path, sizeof(path), i > 1 ? "results/sweep/%s-%s-%d" : "results/sweep/%s-%s",
                     g->name, stamp, i);
            if (mkdir(path, 0777) == 0)
                break;
            err = errno == EEXIST && i < 1000 ? 0 : -errno;
        }
    }
    if (!err && !realpath(path, dir))
        err = -errno;
    char sub[PATH_MAX + 8];
    for (int i = 0; !err && i < 2; i++) {
        snprintf(sub, sizeof(sub), "%s/%s", dir, i ? "logs" : "runs");
        err = mkdir(sub, 0777) < 0 && errno != EEXIST ? -errno : 0;
    }
    if (err)
        fprintf(stderr, "fairvisor sweep: %s: cannot create the sweep directory: %s\n",
                given ? given : "results/sweep", strerror(-err));
    return err;
}

static int write_grid(const struct sweep_grid *g, const char *dir)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return -ENOMEM;
    int err = sweep_grid_write_tsv(g, m);
    if (fclose(m) && !err)
        err = -ENOMEM;
    if (!err)
        err = results_write_atomic(dir, "grid.tsv", text, len);
    free(text);
    if (err)
        fprintf(stderr, "fairvisor sweep: %s/grid.tsv: %s\n", dir, strerror(-err));
    return err;
}

static int default_jobs(bool real, int pcpus)
{
    cpu_set_t set;
    int cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
    /* real-engine points pin pCPU threads: side by side they would share
     * CPUs and measure each other */
    if (real && pcpus > 0)
        cpus /= pcpus;
    return cpus > 0 ? cpus : 1;
}

static int emit(const struct sweep_grid *g, const char *dir, const char *exe, bool real,
                int pcpus)
{
    char err[PATH_MAX + 256];
    if (sweep_emit_slurm(g, dir, exe, real ? pcpus : 1, err, sizeof(err))) {
        fprintf(stderr, "fairvisor sweep: %s\n", err);
        return 1;
    }
    printf("sweep: %d points of %s as a Slurm array job in %s\n", g->npoints, g->name, dir);
    if (g->npoints > 1001)
        printf("note: more than 1001 tasks: Slurm's default MaxArraySize (1001) must be "
               "raised in slurm.conf\n");
    printf("submit: sbatch %s/sweep.sbatch\nthen:   %s sweep --collect %s\n", dir, exe, dir);
    return 0;
}

static int collect(const char *dir)
{
    struct sweep_grid g;
    char path[PATH_MAX], err[4096];
    snprintf(path, sizeof(path), "%s/grid.tsv", dir);
    if (sweep_grid_read_tsv(path, &g, err, sizeof(err))) {
        fprintf(stderr, "fairvisor sweep: --collect %s: %s\n", dir, err);
        return EXIT_BAD;
    }
    int rc = sweep_report(&g, dir, stdout);
    if (rc < 0)
        fprintf(stderr, "fairvisor sweep: writing into %s failed: %s\n", dir, strerror(-rc));
    sweep_grid_free(&g);
    return rc ? 1 : 0;
}

static int sweep_new(const struct sweep_args *a)
{
    struct scenario base;
    struct sweep_grid g = { 0 };
    char err[4096], dir[PATH_MAX], exe[PATH_MAX];
    if (scenario_load(a->scenario, a->sets, a->nsets, &base, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return EXIT_BAD;
    }
    int rc = build_grid(a, &base, &g);
    scenario_free(&base);
    bool real = false;
    int pcpus = 1;
    if (rc == 0 && !(g.scenario = realpath(a->scenario, NULL))) {
        rc = -errno;
        fprintf(stderr, "fairvisor sweep: %s: %s\n", a->scenario, strerror(-rc));
    }
    if (rc == 0)
        rc = check_points(&g, &real, &pcpus);
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (rc == 0 && len <= 0) {
        rc = -errno;
        fprintf(stderr, "fairvisor sweep: cannot find this binary (/proc/self/exe): %s\n",
                strerror(-rc));
    }
    if (rc == 0) {
        exe[len] = '\0';
        rc = make_sweep_dir(a, &g, dir);
    }
    if (rc == 0)
        rc = write_grid(&g, dir);
    if (rc == 0 && a->emit) {
        rc = emit(&g, dir, exe, real, pcpus);
    } else if (rc == 0) {
        int jobs = a->jobs ? a->jobs : default_jobs(real, pcpus);
        int run = sweep_run_local(&g, dir, exe, jobs, stdout);
        int rep = sweep_report(&g, dir, stdout);
        if (rep < 0)
            fprintf(stderr, "fairvisor sweep: writing into %s failed: %s\n", dir, strerror(-rep));
        rc = run || rep ? 1 : 0;
    } else if (rc == -EINVAL || rc == -EEXIST) {
        rc = EXIT_BAD;
    } else {
        if (rc == -ENOMEM)
            fprintf(stderr, "fairvisor sweep: out of memory\n");
        rc = 1;                 /* the others said what failed */
    }
    sweep_grid_free(&g);
    return rc;
}

int fv_cmd_sweep(int argc, char **argv)
{
    struct sweep_args a = { 0 };
    char **args = calloc((size_t)argc + 1, sizeof(*args));
    if (!args)
        return 1;
    memcpy(args, argv, (size_t)argc * sizeof(*args));     /* take_emit edits it */
    int rc = parse_args(argc, args, &a);
    if (rc < 0)
        rc = a.collect ? collect(a.collect) : sweep_new(&a);
    free(a.vary);
    free(a.sets);
    free(args);
    return rc;
}
