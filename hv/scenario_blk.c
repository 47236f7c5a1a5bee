/* scenario_blk.c — the scenario's disks: the `blkback:` backend, each
 * domain's `vbds`, then what ties them together once every domain is known:
 * blkback.cpu agreeing with netback.cpu (one Domain-0 runs both backends),
 * and every file-backed vbd's image resolved and checked on this host before
 * anything runs: creatable and writable, room on its filesystem to grow to
 * the vbd's size, and no image shared by two vbds.
 *
 * An image path is relative to the scenario file's directory; `%d` in it is
 * the replica index of a domain with `count` (0 without), `%%` a `%`. The
 * loader stores the resolved absolute path, which the resolved scenario
 * writes back with every `%` doubled, so that it loads to the same path from
 * anywhere. Checking that a missing image can be created creates it and
 * removes it again: the loader leaves the host as it found it.
 */
#include "scenario_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define SECTOR 512u
/* The smallest disk: one 4KiB block, the unit blkfront's workloads use. */
#define VBD_MIN 4096
#define VBD_DEFAULT_SIZE (64ULL << 20)
#define QDEPTH_MAX 256
#define DEPTH_DEFAULT 16
#define DEPTH_MAX 1024
#define WEIGHT_DEFAULT 256
#define IOPS_MAX 10000000               /* blkback/qos.h's BB_QOS_MAX_RATE */
#define PATH_EXPECT "a file such as disk.img, relative to the scenario's directory"
#define BW_EXPECT "a size per second such as 2GiB/s: B/s, KiB/s, MiB/s, GiB/s or TiB/s"

static const char *const backends[] = { "memory", "file", NULL };
static const char *const fairness_modes[] = { "none", "sfq", NULL };

bool scn_is_blk_kind(const struct workload_desc *w)
{
    return w && strncmp(w->kind, "blk-", 4) == 0;
}

long scn_nr_vbds(const struct scenario *s)
{
    long n = 0;
    for (int i = 0; i < s->nr_domains; i++)
        n += s->domains[i].nr_vbds;
    return n;
}

const char *scn_escape_path(const char *path, char *buf, size_t len)
{
    size_t k = 0;
    for (; *path && k + 2 < len; path++) {
        if (*path == '%')
            buf[k++] = '%';
        buf[k++] = *path;
    }
    buf[k < len ? k : len - 1] = 0;
    return buf;
}

/* One of choices (NULL-terminated): its index, or a message naming `what`. */
/* ---- blkback: --------------------------------------------------------------- */

static void blk_defaults(struct scn_blkback *bb)
{
    *bb = (struct scn_blkback){
        .backend = SCN_BLK_MEMORY, .cpu = SCN_NB_DOM0, .qdepth = 32,
        /* bench/calibrate_blk.sh on a 2-core VM (docs/CALIBRATION.md) */
        .latency = FV_US(60), .bandwidth = 1536ULL << 20,
        .cost_request = FV_US(2), .cost_kib = FV_NS(85),
        /* As deep as the modelled device: a deeper disk queue would serve
         * in its own order what the scheduler could still reorder. */
        .fairness = SCN_BLK_FAIR_NONE, .depth = DEPTH_DEFAULT, .model_depth = DEPTH_DEFAULT,
    };
}

static int parse_bb_backend(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    struct scn_blkback *bb = obj;
    int i, rc = scn_parse_word(c, node, "blkback.backend", backends, &i);
    if (rc == 0)
        bb->backend = (enum scn_blk_backend)i;
    return rc;
}

static int parse_bb_cpu(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    return scn_parse_backend_cpu(c, node, "blkback.cpu", &((struct scn_blkback *)obj)->cpu);
}

static int parse_bb_fairness(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    struct scn_blkback *bb = obj;
    int i, rc = scn_parse_word(c, node, "blkback.fairness", fairness_modes, &i);
    if (rc == 0)
        bb->fairness = (enum scn_blk_fairness)i;
    return rc;
}

/* A byte rate: a size (scenario_units.c's, exactly) followed by "/s". */
static int parse_bandwidth(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    struct scn_blkback *bb = obj;
    const char *v;
    int rc = scn_scalar(c, node, f->name, BW_EXPECT, &v);
    if (rc)
        return rc;
    size_t n = strlen(v);
    char amount[64];
    int64_t x = 0;
    enum scn_perr e = SCN_PSYNTAX;
    if (n > 2 && n - 2 < sizeof(amount) && strcmp(v + n - 2, "/s") == 0) {
        memcpy(amount, v, n - 2);
        amount[n - 2] = 0;
        e = scn_parse_units(amount, SCN_USIZE, &x);
    }
    switch (e) {
    case SCN_POK:
        break;
    case SCN_PNEG:
        return scn_fail(c, node, "bandwidth %s is negative (expected %s)", SCN_ECHO(v), BW_EXPECT);
    case SCN_PRANGE:
        return scn_fail(c, node, "bandwidth %s is too large (expected at most %" PRId64 "B/s)",
                        SCN_ECHO(v), INT64_MAX);
    case SCN_PFRAC:
        return scn_fail(c, node, "bandwidth %s is not a whole number of bytes per second "
                        "(expected %s)", SCN_ECHO(v), BW_EXPECT);
    default:
        return scn_fail(c, node, "bandwidth \"%s\" is not a byte rate (expected %s)", SCN_ECHO(v),
                        BW_EXPECT);
    }
    if (x == 0)
        return scn_fail(c, node, "bandwidth %s is zero (expected a rate > 0)", SCN_ECHO(v));
    bb->bandwidth = (uint64_t)x;
    return 0;
}

static int parse_model(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    static const struct scn_field fields[] = {
        { .name = "latency", .type = SCN_T_NS, SCN_FLD(struct scn_blkback, latency), .min = 0,
          .max = INT64_MAX },
        { .name = "bandwidth", .type = SCN_T_CUSTOM, .parse = parse_bandwidth },
        { .name = "depth", .type = SCN_T_INT, SCN_FLD(struct scn_blkback, model_depth), .min = 1,
          .max = DEPTH_MAX, .why = "requests the device serves at once" },
    };
    static const struct scn_mapping m = {
        "blkback.model", "model: { latency: 100us, bandwidth: 2GiB/s, depth: 16 }", fields, 3,
        NULL,
    };
    return scn_parse_mapping(c, &m, node, obj);
}

static int parse_bb_cost(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    static const struct scn_field fields[] = {
        { .name = "request", .type = SCN_T_NS, SCN_FLD(struct scn_blkback, cost_request),
          .min = 0, .max = INT64_MAX },
        { .name = "kib", .type = SCN_T_NS, SCN_FLD(struct scn_blkback, cost_kib), .min = 0,
          .max = INT64_MAX },
    };
    static const struct scn_mapping m = {
        "blkback.cost", "cost: { request: 2us, kib: 100ns }", fields, 2, NULL,
    };
    return scn_parse_mapping(c, &m, node, obj);
}

static const struct scn_field bb_fields[] = {
    { .name = "backend", .type = SCN_T_CUSTOM, .parse = parse_bb_backend },
    { .name = "cpu", .type = SCN_T_CUSTOM, .parse = parse_bb_cpu },
    { .name = "qdepth", .type = SCN_T_INT, SCN_FLD(struct scn_blkback, qdepth), .min = 1,
      .max = QDEPTH_MAX },
    { .name = "fairness", .type = SCN_T_CUSTOM, .parse = parse_bb_fairness },
    { .name = "depth", .type = SCN_T_INT, SCN_FLD(struct scn_blkback, depth), .min = 1,
      .max = DEPTH_MAX, .why = "requests at the disk over all vbds" },
    { .name = "model", .type = SCN_T_CUSTOM, .parse = parse_model },
    { .name = "cost", .type = SCN_T_CUSTOM, .parse = parse_bb_cost },
};

static const struct scn_mapping bb_map = {
    "blkback", "blkback: { backend: memory, cpu: dom0 }", bb_fields,
    sizeof(bb_fields) / sizeof(bb_fields[0]), NULL,
};

int scn_parse_blkback(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    struct scenario *s = obj;
    blk_defaults(&s->blkback);
    c->blkback_node = node;
    return scn_parse_mapping(c, &bb_map, node, &s->blkback);
}

int scn_default_blkback(struct scn_ctx *c, const struct scn_field *f, int map, void *obj)
{
    (void)c, (void)f, (void)map;
    struct scenario *s = obj;
    blk_defaults(&s->blkback);
    return 0;
}

/* ---- one vbd ------------------------------------------------------------------ */

/* `%d` (the replica index) and `%%` are the only escapes (parse_path
 * refuses any other %). */
static bool has_index(const char *p)
{
    for (; *p; p++) {
        if (*p != '%' || !p[1])
            continue;
        if (*++p == 'd')
            return true;
    }
    return false;
}

static int parse_path(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    struct scn_vbd *v = obj;
    const char *p;
    int rc = scn_scalar(c, node, f->name, PATH_EXPECT, &p);
    if (rc)
        return rc;
    if (!*p)
        return scn_fail(c, node, "path is empty (expected %s)", PATH_EXPECT);
    if (strlen(p) >= sizeof(v->path))
        return scn_fail(c, node, "path \"%s\" is too long (expected at most %zu characters)",
                        SCN_ECHO(p), sizeof(v->path) - 1);
    for (const char *q = p; *q; q++) {
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            return scn_fail(c, node, "path \"%s\" contains a control character (expected "
                            "printable characters)", SCN_ECHO(p));
        if (*q == '%' && q[1] != 'd' && q[1] != '%')
            return scn_fail(c, node, "path \"%s\" has a %% not followed by d or %% (expected "
                            "%%d for the replica index, %%%% for a %%)", SCN_ECHO(p));
        q += *q == '%';
    }
    memcpy(v->path, p, strlen(p) + 1);
    return 0;
}

static const struct scn_field vbd_fields[] = {
    { .name = "size", .type = SCN_T_SIZE, SCN_FLD(struct scn_vbd, size), .min = VBD_MIN,
      .max = INT64_MAX, .why = "one 4KiB block" },
    { .name = "backend", .type = SCN_T_ENUM, SCN_FLD(struct scn_vbd, backend),
      .choices = backends },
    { .name = "path", .type = SCN_T_CUSTOM, .parse = parse_path },
    { .name = "weight", .type = SCN_T_INT, SCN_FLD(struct scn_vbd, weight), .min = 1,
      .max = 65535 },
    { .name = "reservation", .type = SCN_T_INT, SCN_FLD(struct scn_vbd, reservation), .min = 0,
      .max = IOPS_MAX, .why = "IOPS, 0 = none" },
    { .name = "limit", .type = SCN_T_INT, SCN_FLD(struct scn_vbd, limit), .min = 0,
      .max = IOPS_MAX, .why = "IOPS, 0 = none" },
};

static const struct scn_mapping vbd_map = {
    "vbd", "a mapping such as { size: 64MiB, backend: file, path: disk.img }", vbd_fields,
    sizeof(vbd_fields) / sizeof(vbd_fields[0]), NULL,
};

static struct scn_vbd vbd_defaults(const struct scn_ctx *c)
{
    return (struct scn_vbd){ .size = VBD_DEFAULT_SIZE, .backend = c->s->blkback.backend,
                             .weight = WEIGHT_DEFAULT };
}

/* What one entry can be refused for on its own. */
static int check_vbd(struct scn_ctx *c, int item, const struct scn_dom_tmpl *t,
                     const struct scn_vbd *v)
{
    char b[SCN_FMT_MAX];
    int path = scn_map_get(c, item, "path");
    if (v->size % SECTOR)
        return scn_fail(c, scn_map_get(c, item, "size"), "size %s is not a whole number of "
                        "%u-byte sectors (expected a multiple of 512 bytes)",
                        scn_format_size(v->size, b, sizeof(b)), SECTOR);
    if (v->backend == SCN_BLK_MEMORY && path)
        return scn_fail(c, path, "path on a vbd with backend memory (expected no path, or "
                        "backend: file)");
    if (v->backend == SCN_BLK_FILE && !path)
        return scn_fail(c, item, "vbd with backend file has no path (expected path: FILE, "
                        "the image)");
    if (v->limit && v->reservation > v->limit)
        return scn_fail(c, scn_map_get(c, item, "reservation"), "reservation %" PRIu64 " IOPS is "
                        "above limit %" PRIu64 " IOPS (expected a reservation <= the limit, or "
                        "limit: 0 for none)", v->reservation, v->limit);
    if (path && t->count >= 2 && !has_index(v->path))
        return scn_fail(c, path, "path on a domain with count %" PRId64 " would be one image "
                        "for every replica (expected a path with %%d, the replica index)",
                        t->count);
    return 0;
}

int scn_parse_vbds(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    struct scn_dom_tmpl *t = obj;
    yaml_node_t *n = scn_node(c, node);
    if (n->type != YAML_SEQUENCE_NODE)
        return scn_fail(c, node, "vbds is %s (expected a list such as [{ size: 64MiB }])",
                        n->type == YAML_SCALAR_NODE ? "a single value" : "a mapping");
    long nr = n->data.sequence.items.top - n->data.sequence.items.start;
    if (nr > SCN_MAX_VBDS)
        return scn_fail(c, node, "vbds has %ld entries (expected at most %d per domain)", nr,
                        SCN_MAX_VBDS);
    if (nr == 0 && scn_is_blk_kind(t->d.wl.desc))
        return scn_fail(c, node, "vbds is empty (expected at least one vbd: workload %s uses "
                        "the domain's first)", t->d.wl.desc->kind);
    free(t->d.vbds);
    t->d.nr_vbds = 0;
    if (!(t->d.vbds = calloc((size_t)(nr ? nr : 1), sizeof(*t->d.vbds))))
        return scn_oom(c);
    for (long i = 0; i < nr; i++) {
        int item = scn_node(c, node)->data.sequence.items.start[i];
        struct scn_vbd v = vbd_defaults(c);
        int rc = scn_parse_mapping(c, &vbd_map, item, &v);
        if (rc == 0)
            rc = check_vbd(c, item, t, &v);
        if (rc)
            return rc;
        t->d.vbds[t->d.nr_vbds++] = v;
    }
    return 0;
}

/* A blk-* workload without `vbds`: one vbd, every key its default (a file
 * one's path is <scenario dir>/<domain name>.img, set once names are known). */
int scn_default_vbds(struct scn_ctx *c, const struct scn_field *f, int map, void *obj)
{
    (void)f, (void)map;
    struct scn_dom_tmpl *t = obj;
    if (!scn_is_blk_kind(t->d.wl.desc))
        return 0;
    if (!(t->d.vbds = calloc(1, sizeof(*t->d.vbds))))
        return scn_oom(c);
    t->d.vbds[0] = vbd_defaults(c);
    t->d.nr_vbds = 1;
    return 0;
}

/* ---- blkback.cpu and netback.cpu ---------------------------------------------- */

/* A cpu written in one block is the other's default; written in both, they
 * must agree. */
static int agree_cpu(struct scn_ctx *c)
{
    struct scenario *s = c->s;
    struct scn_blkback *bb = &s->blkback;
    static const char *const names[] = { [SCN_NB_DOM0] = "dom0", [SCN_NB_DEDICATED] = "dedicated" };
    bool net = s->netback.port != SCN_NB_NONE;
    int at = scn_map_get(c, c->blkback_node, "cpu");
    int nat = net ? scn_map_get(c, c->netback_node, "cpu") : 0;
    if (!at) {
        if (net)
            bb->cpu = s->netback.cpu;
        return 0;
    }
    if (nat && bb->cpu != s->netback.cpu)
        return scn_fail(c, at, "blkback.cpu: %s disagrees with netback.cpu: %s (expected the "
                        "same cpu in both: one Domain-0 runs both backends)", names[bb->cpu],
                        names[s->netback.cpu]);
    if (bb->cpu == SCN_NB_DEDICATED && s->pcpus < 2)
        return scn_fail(c, at, "blkback.cpu: dedicated needs pcpus >= 2: one pCPU is "
                        "Domain-0's own (expected pcpus >= 2, or cpu: dom0; pcpus is %d)",
                        s->pcpus);
    if (net)
        s->netback.cpu = bb->cpu;
    return 0;
}

/* ---- image paths ---------------------------------------------------------------- */

/* Where a message about key `key` of vbd j of guest i points: the value,
 * else the vbd, else its vbds list, else the domain. */
static int vbd_node(struct scn_ctx *c, int i, int j, const char *key)
{
    int dom = c->src[c->src_of[i]].node, vbds = scn_map_get(c, dom, "vbds");
    yaml_node_t *n = scn_node(c, vbds);
    if (!n || n->type != YAML_SEQUENCE_NODE ||
        j >= n->data.sequence.items.top - n->data.sequence.items.start)
        return vbds ? vbds : dom;
    int item = n->data.sequence.items.start[j], at = scn_map_get(c, item, key);
    return at ? at : item;
}

/* The scenario file's directory, absolute: canonical when it exists (a
 * scenario given as text may name a file nowhere). false: too long. */
static bool scenario_dir(const struct scn_ctx *c, char *out)
{
    char rel[PATH_MAX], cwd[PATH_MAX];
    const char *slash = strrchr(c->file, '/');
    if (!slash)
        snprintf(rel, sizeof(rel), ".");
    else
        snprintf(rel, sizeof(rel), "%.*s", slash == c->file ? 1 : (int)(slash - c->file),
                 c->file);
    if (realpath(rel, out))
        return true;
    if (rel[0] == '/')
        return snprintf(out, PATH_MAX, "%s", rel) < PATH_MAX;
    return getcwd(cwd, sizeof(cwd)) && snprintf(out, PATH_MAX, "%s/%s", cwd, rel) < PATH_MAX;
}

/* dir/raw (or raw, when absolute) without empty or "." components. */
static void join_clean(const char *dir, const char *raw, char *out, size_t len)
{
    char tmp[2 * PATH_MAX + 2];
    size_t k = 0;
    snprintf(tmp, sizeof(tmp), "%s/%s", raw[0] == '/' ? "" : dir, raw);
    for (char *save = NULL, *p = strtok_r(tmp, "/", &save); p; p = strtok_r(NULL, "/", &save))
        if (strcmp(p, ".") != 0 && k < len)
            k += (size_t)snprintf(out + k, len - k, "/%s", p);
    if (!k)
        snprintf(out, len, "/");
}

/* Vbd j of guest i (replica r of its entry): its path resolved in place. */
static int resolve_path(struct scn_ctx *c, const char *dir, int i, int j, int r)
{
    struct scn_domain *d = &c->s->domains[i];
    struct scn_vbd *v = &d->vbds[j];
    char raw[4 * SCN_PATH_MAX], full[PATH_MAX];
    size_t k = 0;
    if (!v->path[0])
        snprintf(raw, sizeof(raw), "%s.img", d->name);
    else
        for (const char *p = v->path; *p && k + 16 < sizeof(raw); p++) {
            if (*p != '%' || !p[1])
                raw[k++] = *p;
            else if (*++p == '%')
                raw[k++] = '%';
            else
                k += (size_t)snprintf(raw + k, sizeof(raw) - k, "%d", r);
        }
    if (v->path[0])
        raw[k] = 0;
    join_clean(dir, raw, full, sizeof(full));
    if (strlen(full) >= sizeof(v->path))
        return scn_fail(c, vbd_node(c, i, j, "path"), "path %s of vbd %d of domain %s is %zu "
                        "characters long once resolved (expected at most %zu: a shorter path)",
                        full, j, d->name, strlen(full), sizeof(v->path) - 1);
    memcpy(v->path, full, strlen(full) + 1);
    return 0;
}

/* Why path cannot be opened or created (errnum), as a message. */
static int image_error(struct scn_ctx *c, int at, const char *path, bool exists, int errnum)
{
    if (errnum == ENOENT)
        return scn_fail(c, at, "path %s cannot be created: its directory does not exist "
                        "(expected a file in an existing directory)", path);
    if (errnum == ENOTDIR)
        return scn_fail(c, at, "path %s cannot be created: a parent of it is not a directory "
                        "(expected a file in an existing directory)", path);
    return scn_fail(c, at, "path %s cannot be %s: %s (expected a file fairvisor may %s)", path,
                    exists ? "opened for writing" : "created", strerror(errnum),
                    exists ? "read and write" : "create");
}

static const char *approx_size(uint64_t b, char *buf, size_t len)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    int u = 0;
    double x = (double)b;
    while (x >= 1024 && u < 6)
        x /= 1024, u++;
    snprintf(buf, len, u ? "%.1f%s" : "%.0f%s", x, units[u]);
    return buf;
}

/* The image of vbd j of guest i, as this host sees it: refused when it
 * cannot be opened for writing (or created: then removed again), or its
 * filesystem lacks the room to grow it to the vbd's size. *key: the image's
 * canonical name (malloc'd): the real path of an existing file, else of its
 * directory plus its name. */
static int check_image(struct scn_ctx *c, int i, int j, char **key)
{
    const struct scn_domain *d = &c->s->domains[i];
    const struct scn_vbd *v = &d->vbds[j];
    const char *p = v->path;
    int at = vbd_node(c, i, j, "path");
    struct stat st;
    bool exists = stat(p, &st) == 0;
    int errnum = errno;
    if (exists && S_ISDIR(st.st_mode))
        return scn_fail(c, at, "path %s is a directory (expected a file: the vbd's image)", p);
    if (exists && !S_ISREG(st.st_mode))
        return scn_fail(c, at, "path %s is not a regular file (expected a file: the vbd's "
                        "image)", p);
    if (!exists && errnum == ENOENT && lstat(p, &st) == 0)
        return scn_fail(c, at, "path %s is a symbolic link to nothing (expected a file, or no "
                        "file: fairvisor creates it)", p);
    if (!exists && errnum != ENOENT)
        return image_error(c, at, p, false, errnum);
    int fd = open(p, O_RDWR | O_CLOEXEC | (exists ? 0 : O_CREAT | O_EXCL), 0644);
    if (fd < 0)
        return image_error(c, at, p, exists, errno);
    struct statvfs vfs;
    int vrc = fstatvfs(fd, &vfs);
    close(fd);
    if (!exists)
        unlink(p);
    uint64_t have = exists ? (uint64_t)st.st_size : 0;
    uint64_t free_b = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    if (vrc == 0 && v->size > have && v->size - have > free_b) {
        char a[SCN_FMT_MAX], b[SCN_FMT_MAX], f[SCN_FMT_MAX];
        return scn_fail(c, vbd_node(c, i, j, "size"), "vbd size %s needs %s more on the "
                        "filesystem of %s, which has %s free (expected a smaller size, or a "
                        "path on a filesystem with room)", scn_format_size(v->size, a, sizeof(a)),
                        approx_size(v->size - have, b, sizeof(b)), p,
                        approx_size(free_b, f, sizeof(f)));
    }
    char real[PATH_MAX], dir[PATH_MAX];
    const char *base = strrchr(p, '/') + 1;
    snprintf(dir, sizeof(dir), "%.*s", base - p > 1 ? (int)(base - p - 1) : 1, p);
    *key = NULL;
    if (exists && realpath(p, real))
        *key = strdup(real);
    else if (!realpath(dir, real))
        *key = strdup(p);
    else if (asprintf(key, "%s/%s", strcmp(real, "/") ? real : "", base) < 0)
        *key = NULL;
    return *key ? 0 : scn_oom(c);
}

struct image {
    char *key;
    int dom, vbd;
};

static int cmp_image(const void *a, const void *b)
{
    const struct image *x = a, *y = b;
    int r = strcmp(x->key, y->key);
    if (r)
        return r;
    return x->dom != y->dom ? (x->dom > y->dom) - (x->dom < y->dom)
                            : (x->vbd > y->vbd) - (x->vbd < y->vbd);
}

/* The first vbd, in file order, whose image one before it has too. */
static int check_shared(struct scn_ctx *c, struct image *im, long n)
{
    qsort(im, (size_t)n, sizeof(*im), cmp_image);
    long best = -1, first = 0, start = 0;
    for (long k = 1; k < n; k++) {
        if (strcmp(im[k].key, im[k - 1].key) != 0) {
            start = k;
            continue;
        }
        if (best < 0 || im[k].dom < im[best].dom ||
            (im[k].dom == im[best].dom && im[k].vbd < im[best].vbd))
            best = k, first = start;
    }
    if (best < 0)
        return 0;
    const struct scenario *s = c->s;
    const struct image *x = &im[best], *y = &im[first];
    const char *px = s->domains[x->dom].vbds[x->vbd].path;
    const char *py = s->domains[y->dom].vbds[y->vbd].path;
    bool same = strcmp(px, py) == 0;
    return scn_fail(c, vbd_node(c, x->dom, x->vbd, "path"), "path %s of vbd %d of domain %s is "
                    "also the image of vbd %d of domain %s%s%s%s (expected a different image for "
                    "each vbd)", px, x->vbd, s->domains[x->dom].name, y->vbd,
                    s->domains[y->dom].name, same ? "" : " (", same ? "" : py, same ? "" : ")");
}

static int resolve_images(struct scn_ctx *c)
{
    struct scenario *s = c->s;
    long n = 0;
    for (int i = 0; i < s->nr_guests; i++)
        for (int j = 0; j < s->domains[i].nr_vbds; j++)
            n += s->domains[i].vbds[j].backend == SCN_BLK_FILE;
    if (!n)
        return 0;
    struct image *im = calloc((size_t)n, sizeof(*im));
    char *dir = malloc(PATH_MAX);
    int rc = im && dir ? 0 : scn_oom(c), r = 0;
    long m = 0;
    if (dir && !scenario_dir(c, dir))
        rc = scn_fail(c, 0, "the scenario's directory has no absolute path (expected the "
                      "current directory to exist, and a path shorter than %d bytes)", PATH_MAX);
    for (int i = 0; rc == 0 && i < s->nr_guests; i++) {
        r = i && c->src_of[i] == c->src_of[i - 1] ? r + 1 : 0;
        for (int j = 0; rc == 0 && j < s->domains[i].nr_vbds; j++) {
            if (s->domains[i].vbds[j].backend != SCN_BLK_FILE)
                continue;
            rc = resolve_path(c, dir, i, j, r);
            if (rc == 0 && (rc = check_image(c, i, j, &im[m].key)) == 0)
                im[m].dom = i, im[m++].vbd = j;
        }
    }
    if (rc == 0)
        rc = check_shared(c, im, m);
    for (long k = 0; im && k < m; k++)
        free(im[k].key);
    free(im);
    free(dir);
    return rc;
}

int scn_blk_finish(struct scn_ctx *c)
{
    struct scenario *s = c->s;
    /* A live host's Domain-0 may run blkback for vbds that come later. */
    if (!scn_nr_vbds(s) && !(c->host && c->blkback_node)) {
        if (c->blkback_node)
            return scn_fail(c, c->blkback_node, "blkback: no domain has a vbd (expected a "
                            "domain with vbds, or running a blk-* workload)");
        memset(&s->blkback, 0, sizeof(s->blkback));
        return 0;
    }
    s->blkback.present = true;
    int rc = agree_cpu(c);
    return rc ? rc : resolve_images(c);
}
