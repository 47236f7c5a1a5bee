/* sweep_grid.c — the grid of a sweep: --vary values, --policies, point
 * numbering and each point's `fairvisor run` command line.
 *
 * A --vary value is passed to the child's --set exactly as written, so it
 * takes the units the scenario key takes and the scenario loader judges it
 * (sweep.c loads every point in-process before anything runs). Here the
 * values only need to be told apart and put in order: the knee is "the
 * largest value that still holds", which needs "1ms" < "500us" to be false.
 */
#include "sweep.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched.h"

#define ECHO_MAX 120        /* characters of an argument echoed in a message */

__attribute__((format(printf, 4, 5)))
static int vary_fail(char *err, size_t errlen, const char *arg, const char *fmt, ...)
{
    int len = (int)strlen(arg);
    int w = snprintf(err, errlen, "--vary %.*s%s: ", len > ECHO_MAX ? ECHO_MAX : len, arg,
                     len > ECHO_MAX ? "..." : "");
    if (w >= 0 && (size_t)w < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + w, errlen - (size_t)w, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

void sweep_axis_free(struct sweep_axis *a)
{
    for (int i = 0; a->vals && i < a->n; i++)
        free(a->vals[i]);
    free(a->vals);
    free(a->x);
    free(a->key);
    free(a->spec);
    memset(a, 0, sizeof(*a));
}

static bool key_ok(const char *k, size_t len)
{
    if (!len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!(k[i] == '.' || k[i] == '_' || k[i] == '-' || (k[i] >= '0' && k[i] <= '9') ||
              (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z')))
            return false;
    return true;
}

static int add_value(struct sweep_axis *a, const char *v, size_t len)
{
    if (a->n % 64 == 0) {
        char **nv = realloc(a->vals, (size_t)(a->n + 64) * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        a->vals = nv;
    }
    if (!(a->vals[a->n] = strndup(v, len)))
        return -ENOMEM;
    a->n++;
    return 0;
}

/* A..B[:STEP] (spec has ".."). */
static int parse_range(struct sweep_axis *a, const char *arg, const char *spec, char *err,
                       size_t errlen)
{
    const char *dots = strstr(spec, "..");
    char *as = strndup(spec, (size_t)(dots - spec));
    const char *colon = strchr(dots + 2, ':');
    char *bs = strndup(dots + 2, colon ? (size_t)(colon - dots - 2) : strlen(dots + 2));
    const char *ss = colon ? colon + 1 : "1";
    long long v[3];
    const char *txt[3] = { as, bs, ss };
    int rc = as && bs ? 0 : -ENOMEM;
    for (int i = 0; rc == 0 && i < 3; i++) {
        char *end;
        errno = 0;
        v[i] = strtoll(txt[i], &end, 10);
        if (!*txt[i] || *end || errno || txt[i][0] == ' ' || txt[i][0] == '+')
            rc = i < 2 ? vary_fail(err, errlen, arg, "\"%s\" is not an integer (A..B[:STEP] takes "
                                   "integers; list values with units: 1ms,2ms,5ms)", txt[i])
                       : vary_fail(err, errlen, arg, "step \"%s\" is not an integer (expected "
                                   "A..B:STEP with STEP >= 1)", txt[i]);
    }
    if (rc == 0 && v[0] > v[1])
        rc = vary_fail(err, errlen, arg, "%lld is above %lld (expected A <= B)", v[0], v[1]);
    if (rc == 0 && v[2] < 1)
        rc = vary_fail(err, errlen, arg, "step %lld is not a positive integer (expected "
                       "A..B:STEP with STEP >= 1)", v[2]);
    uint64_t n = rc ? 0 : ((uint64_t)v[1] - (uint64_t)v[0]) / (uint64_t)v[2] + 1;
    if (rc == 0 && n > SWEEP_MAX_VALUES)
        rc = vary_fail(err, errlen, arg, "%llu values (expected at most %d)",
                       (unsigned long long)n, SWEEP_MAX_VALUES);
    for (uint64_t i = 0; rc == 0 && i < n; i++) {
        char buf[32];
        int len = snprintf(buf, sizeof(buf), "%lld", (long long)((uint64_t)v[0] + i * (uint64_t)v[2]));
        rc = add_value(a, buf, (size_t)len);
    }
    free(as);
    free(bs);
    return rc;
}

static int parse_list(struct sweep_axis *a, const char *arg, const char *spec, char *err,
                      size_t errlen)
{
    for (const char *p = spec;;) {
        size_t len = strcspn(p, ",");
        const char *v = p;
        size_t vlen = len;
        while (vlen && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        if (!vlen)
            return vary_fail(err, errlen, arg, "value %d is empty (expected comma-separated "
                             "values such as 1,2,4)", a->n + 1);
        for (size_t i = 0; i < vlen; i++)
            if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
                return vary_fail(err, errlen, arg, "value %d has a control character "
                                 "(expected printable values)", a->n + 1);
        if (a->n >= SWEEP_MAX_VALUES)
            return vary_fail(err, errlen, arg, "more than %d values", SWEEP_MAX_VALUES);
        int rc = add_value(a, v, vlen);
        if (rc)
            return rc;
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

enum vkind { VK_NONE, VK_NUMBER, VK_NS, VK_BYTES };

/* What a value stands for: a plain number or count (10k), a duration, a
 * size; VK_NONE for anything else (a policy knob such as drr). */
static enum vkind value_kind(const char *v, double *x)
{
    char *end;
    double d = strtod(v, &end);
    int64_t c;
    fv_ns_t ns;
    uint64_t b;
    if (*v && !*end && isfinite(d) && v[0] != ' ')
        return *x = d, VK_NUMBER;
    if (scn_parse_count(v, &c) == 0)
        return *x = (double)c, VK_NUMBER;
    if (scn_parse_duration(v, &ns) == 0)
        return *x = (double)ns, VK_NS;
    if (scn_parse_size(v, &b) == 0)
        return *x = (double)b, VK_BYTES;
    return VK_NONE;
}

/* Fill a->x, a->numeric; refuse a value given twice. */
static int place_values(struct sweep_axis *a, const char *arg, char *err, size_t errlen)
{
    if (!(a->x = calloc((size_t)a->n, sizeof(*a->x))))
        return -ENOMEM;
    enum vkind k0 = VK_NONE;
    a->numeric = true;
    for (int i = 0; i < a->n; i++) {
        enum vkind k = value_kind(a->vals[i], &a->x[i]);
        if (i == 0)
            k0 = k;
        if (k == VK_NONE || k != k0)
            a->numeric = false;
    }
    for (int i = 0; !a->numeric && i < a->n; i++)
        a->x[i] = i;
    /* Sorted copies find a repeat in n log n (a range gives 10,000). */
    int *ord = malloc((size_t)a->n * sizeof(*ord));
    if (!ord)
        return -ENOMEM;
    sweep_axis_order(a, ord);
    int rc = 0;
    for (int i = 1; a->numeric && rc == 0 && i < a->n; i++)
        if (a->x[ord[i]] == a->x[ord[i - 1]])
            rc = strcmp(a->vals[ord[i]], a->vals[ord[i - 1]]) == 0
                     ? vary_fail(err, errlen, arg, "value %s is given twice (expected distinct "
                                 "values)", a->vals[ord[i]])
                     : vary_fail(err, errlen, arg, "%s and %s are the same value (expected "
                                 "distinct values)", a->vals[ord[i - 1]], a->vals[ord[i]]);
    for (int i = 0; !a->numeric && rc == 0 && i < a->n; i++)
        for (int j = 0; rc == 0 && j < i; j++)
            if (strcmp(a->vals[i], a->vals[j]) == 0)
                rc = vary_fail(err, errlen, arg, "value %s is given twice (expected distinct "
                               "values)", a->vals[i]);
    free(ord);
    return rc;
}

int sweep_axis_parse(const char *arg, struct sweep_axis *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof(*a));
    const char *eq = strchr(arg, '=');
    const char *usage = "(expected KEY=LIST or KEY=A..B[:STEP], such as domains.flood.count=1..8 "
                        "or sched.tslice=1ms,10ms,30ms)";
    if (!eq)
        return vary_fail(err, errlen, arg, "no '=' %s", usage);
    size_t klen = (size_t)(eq - arg);
    if (!klen)
        return vary_fail(err, errlen, arg, "no key before '=' %s", usage);
    if (!key_ok(arg, klen))
        return vary_fail(err, errlen, arg, "key \"%.*s\" is not a scenario path (expected "
                         "steps of letters, digits, _ or - joined by '.', such as "
                         "domains.flood.count)", klen > ECHO_MAX ? ECHO_MAX : (int)klen, arg);
    if (klen == 12 && strncmp(arg, "sched.policy", klen) == 0)
        return vary_fail(err, errlen, arg, "the policy is varied with --policies P,Q");
    if (klen == 4 && strncmp(arg, "seed", klen) == 0)
        return vary_fail(err, errlen, arg, "the seed is varied with --repeat R (repeat r runs "
                         "with the scenario's seed + r)");
    const char *spec = eq + 1;
    if (!*spec)
        return vary_fail(err, errlen, arg, "no values %s", usage);
    a->key = strndup(arg, klen);
    a->spec = strdup(spec);
    int rc = a->key && a->spec ? 0 : -ENOMEM;
    if (rc == 0)
        rc = strstr(spec, "..") ? parse_range(a, arg, spec, err, errlen)
                                : parse_list(a, arg, spec, err, errlen);
    if (rc == 0)
        rc = place_values(a, arg, err, errlen);
    if (rc == -ENOMEM)
        snprintf(err, errlen, "--vary: out of memory");
    if (rc)
        sweep_axis_free(a);
    return rc;
}

static const struct sweep_axis *sort_axis;

static int cmp_x(const void *pa, const void *pb)
{
    double x = sort_axis->x[*(const int *)pa], y = sort_axis->x[*(const int *)pb];
    if (x != y)
        return x < y ? -1 : 1;
    return (*(const int *)pa > *(const int *)pb) - (*(const int *)pa < *(const int *)pb);
}

void sweep_axis_order(const struct sweep_axis *a, int *order)
{
    for (int i = 0; i < a->n; i++)
        order[i] = i;
    sort_axis = a;      /* the CLI is single-threaded */
    qsort(order, (size_t)a->n, sizeof(*order), cmp_x);
    sort_axis = NULL;
}

/* ---- policies, size, points ------------------------------------------------ */

static bool policy_known(const char *name)
{
    for (int i = 0; sched_policies[i]; i++)
        if (strcmp(sched_policies[i]->name, name) == 0)
            return true;
    return false;
}

static void policy_names(char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; sched_policies[i] && used + 1 < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", sched_policies[i]->name);
        used = w < 0 ? used : used + (size_t)w;
    }
}

int sweep_grid_policies(struct sweep_grid *g, const char *list, char *err, size_t errlen)
{
    char names[256];
    int len = (int)strlen(list);
    for (const char *p = list;;) {
        size_t l = strcspn(p, ",");
        const char *v = p;
        while (l && *v == ' ')
            v++, l--;
        while (l && v[l - 1] == ' ')
            l--;
        char *name = strndup(v, l);
        if (!name)
            return -ENOMEM;
        const char *why = !l ? "is empty" : !policy_known(name) ? "is not a policy" : NULL;
        for (int i = 0; !why && i < g->npol; i++)
            if (strcmp(g->policies[i], name) == 0)
                why = "is given twice";
        if (why) {
            policy_names(names, sizeof(names));
            snprintf(err, errlen, "--policies %.*s%s: policy %d%s%s%s %s (expected distinct "
                     "policies among: %s)", len > ECHO_MAX ? ECHO_MAX : len, list,
                     len > ECHO_MAX ? "..." : "", g->npol + 1, l ? " \"" : "", l ? name : "",
                     l ? "\"" : "", why, names);
            free(name);
            return -EINVAL;
        }
        char **np = realloc(g->policies, (size_t)(g->npol + 1) * sizeof(*np));
        if (!np) {
            free(name);
            return -ENOMEM;
        }
        g->policies = np;
        g->policies[g->npol++] = name;
        if (!p[strcspn(p, ",")])
            return 0;
        p += strcspn(p, ",") + 1;
    }
}

int sweep_grid_size(struct sweep_grid *g, char *err, size_t errlen)
{
    uint64_t n = (uint64_t)g->npol * (uint64_t)g->repeats;
    for (int k = 0; k < g->nkeys; k++)
        n *= (uint64_t)g->axes[k].n;          /* each factor <= 10,000: no overflow yet */
    if (n > SWEEP_MAX_POINTS || n == 0) {
        snprintf(err, errlen, "the grid has %llu points (%s)", (unsigned long long)n,
                 n ? "expected at most 100000: fewer values, policies or repeats"
                   : "expected at least one --vary value and one policy");
        return -EINVAL;
    }
    g->npoints = (int)n;
    return 0;
}

void sweep_point(const struct sweep_grid *g, int p, int *vi, int *pol, int *rep)
{
    *rep = p % g->repeats;
    p /= g->repeats;
    *pol = p % g->npol;
    p /= g->npol;
    for (int k = g->nkeys - 1; k >= 0; k--) {
        vi[k] = p % g->axes[k].n;
        p /= g->axes[k].n;
    }
}

int sweep_point_index(const struct sweep_grid *g, const int *vi, int pol, int rep)
{
    int p = 0;
    for (int k = 0; k < g->nkeys; k++)
        p = p * g->axes[k].n + vi[k];
    return (p * g->npol + pol) * g->repeats + rep;
}

void sweep_argv_free(char **argv)
{
    for (char **a = argv; a && *a; a++)
        free(*a);
    free(argv);
}

char **sweep_point_argv(const struct sweep_grid *g, int p, const char *exe, const char *outdir)
{
    int n = 0, cap = 2 * (g->nsets + g->nkeys) + 16;
    char **argv = calloc((size_t)cap, sizeof(*argv));
    int vi[SWEEP_MAX_KEYS], pol, rep;
    if (!argv)
        return NULL;
    sweep_point(g, p, vi, &pol, &rep);
    bool ok = (argv[n++] = strdup(exe)) && (argv[n++] = strdup("run")) &&
              (argv[n++] = strdup(g->scenario)) && (argv[n++] = strdup("--out")) &&
              (argv[n++] = strdup(outdir));
    for (int i = 0; ok && i < g->nsets; i++)
        ok = (argv[n++] = strdup("--set")) && (argv[n++] = strdup(g->sets[i]));
    for (int k = 0; ok && k < g->nkeys; k++)
        ok = (argv[n++] = strdup("--set")) &&
             asprintf(&argv[n++], "%s=%s", g->axes[k].key, g->axes[k].vals[vi[k]]) >= 0;
    ok = ok && (argv[n++] = strdup("--set")) &&
         asprintf(&argv[n++], "sched.policy=%s", g->policies[pol]) >= 0 &&
         (argv[n++] = strdup("--seed")) &&
         asprintf(&argv[n++], "%llu", (unsigned long long)(g->seed + (uint64_t)rep)) >= 0 &&
         (argv[n++] = strdup("--quiet")) && (argv[n++] = strdup("--no-plot"));
    if (!ok) {
        /* a failed asprintf leaves its pointer undefined */
        argv[n - 1] = NULL;
        sweep_argv_free(argv);
        return NULL;
    }
    return argv;
}

void sweep_grid_free(struct sweep_grid *g)
{
    for (int k = 0; k < g->nkeys; k++)
        sweep_axis_free(&g->axes[k]);
    for (int i = 0; i < g->nsets; i++)
        free(g->sets[i]);
    for (int i = 0; i < g->npol; i++)
        free(g->policies[i]);
    free(g->sets);
    free(g->policies);
    free(g->scenario);
    memset(g, 0, sizeof(*g));
}
