/* live_parse.c — one domain entry (a request body) read by the scenario
 * loader itself, so that a domain created at run time is validated exactly
 * as one in a file, with the same messages.
 *
 * The loader reads whole scenarios, so the entry is put into one: first in
 * `domains:` (its lines indented, so that it can only ever be that list
 * item), then the host's live domains as they were resolved (peers name
 * them, and a peer's rules look at its workload), then the host's settings.
 * A message about the entry is given back with the body's own line and
 * column. Why not a second, domain-only parser: two parsers would drift.
 */
#include "live_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../workloads/workload.h"
#include "engine.h"

#define BODY_LINE 2                 /* the body starts on the document's line 3 */
#define BODY_COL 4                  /* ... indented by 4 */

static void put_indented(FILE *f, const char *text, size_t len)
{
    fputs("    ", f);
    for (size_t i = 0; i < len; i++) {
        fputc(text[i], f);
        if (text[i] == '\n' && i + 1 < len)
            fputs("    ", f);
    }
    fputc('\n', f);
}

/* Is the peer a domain's peer parameter names alive on the host? */
static bool peers_alive(const struct live *l, const struct scn_domain *d)
{
    const struct workload_desc *w = d->wl.desc;
    for (int p = 0; w->params && w->params[p].name; p++) {
        if (!workload_peer_rules(w, w->params[p].name))
            continue;
        int64_t id = d->wl.args.v[p];
        if (id == 0)
            continue;           /* none, or the TAP's host side */
        int k = engine_dom_index(l->scn, (int)id);
        if (k < 0 || !live_alive(l, k))
            return false;
    }
    return true;
}

/* The document as it is written (an open_memstream) and the lines in it,
 * counted as it grows: each text is scanned once. */
struct doc {
    FILE *f;
    char *text;
    size_t len, scanned;
    long lines;
};

static long doc_lines(struct doc *d)
{
    fflush(d->f);
    for (; d->scanned < d->len; d->scanned++)
        d->lines += d->text[d->scanned] == '\n';
    return d->lines;
}

/* The alive domains as entries: without devices (a new domain cannot name
 * a vif), and idle if a peer of theirs is gone (their rules would fail).
 * first_line[i]: the document line alive domain i starts on. */
static void put_alive(const struct live *l, struct doc *doc, int *map, long *first_line, int *n)
{
    const struct workload_desc *idle = workload_find("idle");
    for (int d = 0; d < l->scn->nr_domains; d++) {
        const struct scn_domain *sd = &l->scn->domains[d];
        if (sd->is_dom0 || !live_alive(l, d))
            continue;
        struct scn_domain stub = *sd;
        stub.nr_vifs = stub.nr_vbds = 0;
        stub.vifs = NULL;
        stub.vbds = NULL;
        if (!peers_alive(l, sd)) {
            stub.wl.desc = idle;
            memset(&stub.wl.args, 0, sizeof(stub.wl.args));
        }
        first_line[*n] = doc_lines(doc) + 1;
        scenario_write_domain_yaml(l->scn, &stub, doc->f);
        map[(*n)++] = d;
    }
}

static char *build_doc(const struct live *l, const char *text, size_t len, int *map,
                       long *first_line, int *n)
{
    struct doc doc = { 0 };
    FILE *f = doc.f = open_memstream(&doc.text, &doc.len);
    if (!f)
        return NULL;
    fputs("domains:\n  -\n", f);
    put_indented(f, text, len);
    put_alive(l, &doc, map, first_line, n);
    first_line[*n] = doc_lines(&doc) + 1;
    fprintf(f, "name: live\nengine: real\nduration: 1s\npcpus: %d\nmode: %s\nsched:\n  policy: %s\n",
            l->scn->pcpus, l->scn->mode, l->scn->policy->name);
    if (fclose(f)) {
        free(doc.text);
        return NULL;
    }
    return doc.text;
}

/* "FILE:L:C: msg" about the body: give it the body's own position. A
 * message about one of the alive domains' entries (valid as they are) is
 * the new name taken (-EEXIST), or the body left something open (a flow
 * list, a quote) that the parser noticed only there: no position then. */
static int rebase_message(const struct live *l, const char *file, const int *map,
                          const long *first_line, int n, char *err, size_t errlen)
{
    size_t fl = strlen(file);
    int line, col, used = 0;
    if (strncmp(err, file, fl) != 0 || sscanf(err + fl, ":%d:%d:%n", &line, &col, &used) != 2 ||
        !used)
        return -EINVAL;
    char rest[1024];
    for (int i = 0; i < n; i++) {
        if (line < first_line[i] || line >= first_line[i + 1])
            continue;
        if (strstr(err, "is used twice")) {
            snprintf(err, errlen, "%s: a domain named %s exists (expected a new name)", file,
                     l->scn->domains[map[i]].name);
            return -EEXIST;
        }
        snprintf(rest, sizeof(rest), "%s", err + fl + used);
        snprintf(err, errlen, "%s: at its end:%s", file, rest);
        return -EINVAL;
    }
    snprintf(rest, sizeof(rest), "%s", err + fl + used);
    if (line > BODY_LINE)
        snprintf(err, errlen, "%s:%d:%d:%s", file, line - BODY_LINE,
                 col > BODY_COL ? col - BODY_COL : 1, rest);
    else
        snprintf(err, errlen, "%s:%s", file, rest);
    return -EINVAL;
}

/* The new domain's peers from ids of the document to the host's. */
static void remap_peers(struct scn_domain *d, const int *map, int n, const struct scenario *host)
{
    const struct workload_desc *w = d->wl.desc;
    for (int p = 0; w->params && w->params[p].name; p++) {
        if (!workload_peer_rules(w, w->params[p].name))
            continue;
        int64_t id = d->wl.args.v[p];
        if (id >= 2 && id - 2 < n)      /* the document's guest ids: 1 the new one, then map[] */
            d->wl.args.v[p] = host->domains[map[id - 2]].id;
    }
}

int live_parse_domain(const struct live *l, const char *file, const char *text, size_t len,
                      struct scn_domain *out, char *err, size_t errlen)
{
    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s: the body holds a NUL byte (expected YAML or JSON text)", file);
        return -EINVAL;
    }
    int *map = calloc((size_t)l->scn->nr_domains + 1, sizeof(*map)), n = 0;
    long *first_line = calloc((size_t)l->scn->nr_domains + 2, sizeof(*first_line));
    char *doc = map && first_line ? build_doc(l, text, len, map, first_line, &n) : NULL;
    if (!doc) {
        free(map);
        free(first_line);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    struct scenario t;
    int rc = scenario_load_string(file, doc, NULL, 0, &t, err, errlen);
    free(doc);
    if (rc) {
        rc = rebase_message(l, file, map, first_line, n, err, errlen);
        free(map);
        free(first_line);
        return rc;
    }
    free(first_line);
    const struct scn_domain *nd = &t.domains[0];
    if (t.nr_guests != n + 1) {
        snprintf(err, errlen, "%s: one domain expected, and `count` makes %d (expected no count "
                 "key: create replicas one by one)", file, t.nr_guests - n);
        rc = -EINVAL;
    } else if (nd->nr_vifs || nd->nr_vbds) {
        snprintf(err, errlen, "%s: domain %s has %s, which a running host cannot add yet "
                 "(netback and blkback learn their devices when the host starts: put it in the "
                 "scenario `serve` starts from)", file, nd->name, nd->nr_vifs ? "a vif" : "a vbd");
        rc = -ENOTSUP;
    } else {
        *out = *nd;
        remap_peers(out, map, n, l->scn);
    }
    free(map);
    scenario_free(&t);
    return rc;
}
