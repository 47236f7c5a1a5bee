/* live_parse.c — the domain entries of a create request's body read by the
 * scenario loader itself, so that a domain created at run time is
 * validated exactly as one in a file, with the same messages.
 *
 * The loader reads whole scenarios, so the entries are put into one: first
 * in `domains:` (each entry's lines indented, so that it can only ever be
 * one list item: live_body.c finds them), then the host's live domains as
 * they were resolved (peers name them, and a peer's rules look at its
 * workload), then the host's settings. Entries made together may name each
 * other (an evtchn-ping pair). A message about an entry is given back with
 * the body's own line and column. Why not a second, domain-only parser:
 * two parsers would drift.
 */
#include "live_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../workloads/workload.h"
#include "engine.h"
#include "scenario_priv.h"

#define ITEM_COL 4                  /* an entry's lines are indented by 4 */

/* The length of the line break at t[0..len), as libyaml counts them (its
 * marks are how both the body's items and the loader's messages count
 * lines): CR LF, CR, LF, and NEL, LS, PS in UTF-8; 0 for none. */
static size_t line_break(const char *t, size_t len)
{
    const unsigned char *u = (const unsigned char *)t;
    if (u[0] == '\r')
        return len > 1 && u[1] == '\n' ? 2 : 1;
    if (u[0] == '\n')
        return 1;
    if (len > 1 && u[0] == 0xc2 && u[1] == 0x85)
        return 2;
    if (len > 2 && u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9))
        return 3;
    return 0;
}

/* An entry as the list item "  -" and its lines: the first from its start,
 * the others without the indentation it had in the body (up to its
 * column), all indented by ITEM_COL; every line break is written as LF
 * (YAML folds them alike), so that the document's lines are the body's. */
static void put_item(FILE *f, const char *text, size_t len, int col)
{
    fputs("  -\n    ", f);
    for (size_t i = 0; i < len;) {
        size_t br = line_break(text + i, len - i);
        if (!br) {
            fputc(text[i++], f);
            continue;
        }
        fputc('\n', f);
        i += br;
        if (i >= len)
            break;
        for (int k = 1; k < col && i < len && text[i] == ' '; k++)
            i++;
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

/* The alive domains as entries: their vifs with their IPs (a new vif's
 * auto address skips them, a given one that repeats them is refused) and
 * auto MACs (the document's ids are not the host's: check_macs checks
 * MACs against the host's own), without vbds (check_images), and idle if
 * a peer of theirs is gone (their rules would fail). first_line[i]: the document
 * line alive domain i starts on. */
static void put_alive(const struct live *l, struct doc *doc, int *map, long *first_line, int *n)
{
    const struct workload_desc *idle = workload_find("idle");
    for (int d = 0; d < l->scn->nr_domains; d++) {
        const struct scn_domain *sd = &l->scn->domains[d];
        if (sd->is_dom0 || !live_alive(l, d))
            continue;
        struct scn_domain stub = *sd;
        struct scn_vif vifs[SCN_MAX_VIFS];
        stub.nr_vifs = sd->nr_vifs < SCN_MAX_VIFS ? sd->nr_vifs : SCN_MAX_VIFS;
        for (int i = 0; i < stub.nr_vifs; i++) {
            vifs[i] = sd->vifs[i];
            memset(vifs[i].mac, 0, sizeof(vifs[i].mac));
        }
        stub.vifs = vifs;
        stub.nr_vbds = 0;
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

/* The host's netback and blkback as far as a new domain's entry depends on
 * them: the vifs' subnet, the vbds' default backend, the pCPU Domain-0
 * keeps. The port is never the TAP (the host's exists already: the loader
 * would refuse its name); check_subnet checks the subnet instead. */
static void put_backends(const struct scenario *h, FILE *f)
{
    char a[32];
    const struct scn_netback *nb = &h->netback;
    if (nb->port != SCN_NB_NONE)
        fprintf(f, "netback:\n  port: %s\n  cpu: %s\n  fairness: %s\n  tap:\n    address: %s/%d\n",
                nb->port == SCN_NB_NULL ? "null" : "ring",
                nb->cpu == SCN_NB_DEDICATED ? "dedicated" : "dom0",
                nb->fairness == SCN_NB_FAIR_DRR ? "drr" : "none",
                scn_format_ipv4(nb->tap_ip, a, sizeof(a)), nb->tap_prefix);
    const struct scn_blkback *bb = &h->blkback;
    if (bb->present)
        fprintf(f, "blkback:\n  backend: %s\n  cpu: %s\n  fairness: %s\n",
                bb->backend == SCN_BLK_FILE ? "file" : "memory",
                bb->cpu == SCN_NB_DEDICATED ? "dedicated" : "dom0",
                bb->fairness == SCN_BLK_FAIR_SFQ ? "sfq" : "none");
}

/* What the document holds: the entries (item_line[i]: the document line
 * entry i's text starts on), then the alive domains (map[j]: alive entry
 * j's index on the host; first_line[j]: its line; first_line[n]: the
 * settings'). */
struct layout {
    const struct live_item *items;
    int k;
    long *item_line;
    int *map;
    long *first_line;
    int n;
};

static char *build_doc(const struct live *l, const char *text, struct layout *y)
{
    struct doc doc = { 0 };
    FILE *f = doc.f = open_memstream(&doc.text, &doc.len);
    if (!f)
        return NULL;
    fputs("domains:\n", f);
    for (int i = 0; i < y->k; i++) {
        y->item_line[i] = doc_lines(&doc) + 2;
        put_item(f, text + y->items[i].off, y->items[i].len, y->items[i].col);
    }
    put_alive(l, &doc, y->map, y->first_line, &y->n);
    y->first_line[y->n] = doc_lines(&doc) + 1;
    fprintf(f, "name: live\nengine: real\nduration: 1s\npcpus: %d\nmode: %s\nsched:\n  policy: %s\n",
            l->scn->pcpus, l->scn->mode, l->scn->policy->name);
    put_backends(l->scn, f);
    if (fclose(f)) {
        free(doc.text);
        return NULL;
    }
    return doc.text;
}

/* "FILE:L:C: msg" about the body: give it the body's own position. A
 * message about one of the alive domains' entries (valid as they are) is
 * a new name taken (-EEXIST), a vif's address repeated (the new one's), or
 * the body left something open (a flow list, a quote) that the parser
 * noticed only there: no position then. */
static int rebase_message(const struct live *l, const char *file, const struct layout *y,
                          char *err, size_t errlen)
{
    size_t fl = strlen(file);
    int line, col, used = 0;
    if (strncmp(err, file, fl) != 0 || sscanf(err + fl, ":%d:%d:%n", &line, &col, &used) != 2 ||
        !used)
        return -EINVAL;
    char rest[1024];
    snprintf(rest, sizeof(rest), "%s", err + fl + used);
    for (int i = 0; i < y->n; i++) {
        if (line < y->first_line[i] || line >= y->first_line[i + 1])
            continue;
        if (strstr(err, "is used twice")) {
            snprintf(err, errlen, "%s: a domain named %s exists (expected a new name)", file,
                     l->scn->domains[y->map[i]].name);
            return -EEXIST;
        }
        snprintf(err, errlen, "%s:%s%s", file, strstr(rest, " is also the ") ? "" : " at its end:",
                 rest);
        return -EINVAL;
    }
    /* Past the entries, yet about none of the alive domains: the settings,
     * or the end of the document (the body left something open). */
    bool past = line >= y->first_line[0];
    for (int i = y->k - 1; i >= 0 && !past; i--) {
        const struct live_item *it = &y->items[i];
        if (line < y->item_line[i] - 1)
            continue;
        if (line < y->item_line[i])             /* its "-" line: where it starts */
            snprintf(err, errlen, "%s:%d:%d:%s", file, it->line, it->col, rest);
        else
            snprintf(err, errlen, "%s:%ld:%d:%s", file, it->line + (line - y->item_line[i]),
                     col > ITEM_COL ? col - ITEM_COL + it->col - 1 : it->col, rest);
        return -EINVAL;
    }
    snprintf(err, errlen, "%s:%s%s", file, past ? " at its end:" : "", rest);
    return -EINVAL;
}

/* The new domains' peers from ids of the document to the host's: 1..k are
 * the entries (to be indexes nr_domains...), then the alive ones. */
static void remap_peers(struct scn_domain *d, const struct layout *y, const struct scenario *host)
{
    const struct workload_desc *w = d->wl.desc;
    for (int p = 0; w->params && w->params[p].name; p++) {
        if (!workload_peer_rules(w, w->params[p].name))
            continue;
        int64_t id = d->wl.args.v[p];
        if (id >= 1 && id <= y->k)
            d->wl.args.v[p] = engine_dom_id(host, host->nr_domains + (int)id - 1);
        else if (id > y->k && id - y->k - 1 < y->n)
            d->wl.args.v[p] = host->domains[y->map[id - y->k - 1]].id;
    }
}

/* ---- the new domain's devices against the host's ---------------------------------- */

/* Its MACs: the loader's auto MAC is made of the document's id; the
 * host's is the id the domain gets (entry i: index nr_domains + i). No
 * alive vif, nor one of an entry before it, may have it. */
static int check_macs(const struct live *l, const char *file, struct scn_domain *nd, int i,
                      char *err, size_t errlen)
{
    int id = engine_dom_id(l->scn, l->scn->nr_domains + i);
    char a[32];
    for (int j = 0; j < nd[i].nr_vifs; j++) {
        uint8_t *m = nd[i].vifs[j].mac;
        if (nd[i].vifs[j].mac_auto)
            scn_auto_mac(id, j, m);
        for (int d = 0; d < l->scn->nr_domains + i; d++) {
            bool mine = d >= l->scn->nr_domains;
            const struct scn_domain *o = mine ? &nd[d - l->scn->nr_domains] : &l->scn->domains[d];
            for (int k = 0; (mine || live_alive(l, d)) && k < o->nr_vifs; k++)
                if (memcmp(o->vifs[k].mac, m, 6) == 0) {
                    snprintf(err, errlen, "%s: mac %s of vif %d of domain %s is also the mac of "
                             "vif %d of domain %s (expected a different MAC for each vif)", file,
                             scn_format_mac(m, a, sizeof(a)), j, nd[i].name, k, o->name);
                    return -EINVAL;
                }
        }
    }
    return 0;
}

/* With a TAP port its vifs' addresses are in the TAP's subnet (the
 * document's port is never the TAP: put_backends). */
static int check_subnet(const struct live *l, const char *file, const struct scn_domain *nd,
                        char *err, size_t errlen)
{
    const struct scn_netback *nb = &l->scn->netback;
    if (nb->port != SCN_NB_TAP)
        return 0;
    uint32_t m = scn_ip_mask(nb->tap_prefix);
    char a[32], sn[64];
    for (int j = 0; j < nd->nr_vifs; j++)
        if ((nd->vifs[j].ip & m) != (nb->tap_ip & m)) {
            snprintf(err, errlen, "%s: ip %s of vif %d is outside the TAP's subnet %s (expected "
                     "an address in %s: netback.port is tap)", file,
                     scn_format_ipv4(nd->vifs[j].ip, a, sizeof(a)), j,
                     scn_ip_subnet(nb->tap_ip, nb->tap_prefix, sn, sizeof(sn)), sn);
            return -EINVAL;
        }
    return 0;
}

/* Its images: none an alive domain's vbd uses. */
static int check_images(const struct live *l, const char *file, const struct scn_domain *nd,
                        char *err, size_t errlen)
{
    for (int j = 0; j < nd->nr_vbds; j++) {
        if (nd->vbds[j].backend != SCN_BLK_FILE)
            continue;
        for (int d = 0; d < l->scn->nr_domains; d++) {
            const struct scn_domain *o = &l->scn->domains[d];
            for (int k = 0; live_alive(l, d) && k < o->nr_vbds; k++)
                if (o->vbds[k].backend == SCN_BLK_FILE &&
                    strcmp(o->vbds[k].path, nd->vbds[j].path) == 0) {
                    snprintf(err, errlen, "%s: vbd %d: image %s is the image of vbd %d of domain "
                             "%s (expected another path: two vbds cannot share an image)", file,
                             j, nd->vbds[j].path, k, o->name);
                    return -EINVAL;
                }
        }
    }
    return 0;
}

static int check_devices(const struct live *l, const char *file, struct scn_domain *nd, int i,
                         char *err, size_t errlen)
{
    int rc = check_macs(l, file, nd, i, err, errlen);
    if (!rc)
        rc = check_subnet(l, file, &nd[i], err, errlen);
    return rc ? rc : check_images(l, file, &nd[i], err, errlen);
}

static void *dup_array(const void *a, int n, size_t size)
{
    void *p = malloc((size_t)n * size);
    return p ? memcpy(p, a, (size_t)n * size) : NULL;
}

/* The loaded document's entries into out[0..k), checked against the host. */
static int take_entries(const struct live *l, const char *file, struct scenario *t,
                        const struct layout *y, struct scn_domain *out, char *err, size_t errlen)
{
    if (t->nr_guests != y->k + y->n) {
        snprintf(err, errlen, "%s: %d domain%s expected, and `count` makes %d (expected no count "
                 "key: name each domain)", file, y->k, y->k > 1 ? "s" : "",
                 t->nr_guests - y->n);
        return -EINVAL;
    }
    int rc = 0;
    for (int i = 0; i < y->k && !rc; i++)
        rc = check_devices(l, file, t->domains, i, err, errlen);
    for (int i = 0; i < y->k && !rc; i++) {
        const struct scn_domain *nd = &t->domains[i];
        out[i] = *nd;
        remap_peers(&out[i], y, l->scn);
        /* Its devices outlive the document's scenario. */
        out[i].vifs = nd->nr_vifs ? dup_array(nd->vifs, nd->nr_vifs, sizeof(*nd->vifs)) : NULL;
        out[i].vbds = nd->nr_vbds ? dup_array(nd->vbds, nd->nr_vbds, sizeof(*nd->vbds)) : NULL;
        if ((nd->nr_vifs && !out[i].vifs) || (nd->nr_vbds && !out[i].vbds)) {
            live_free_devices(out, 0, i + 1);
            snprintf(err, errlen, "out of memory");
            rc = -ENOMEM;
        }
    }
    return rc;
}

static int items_error(const char *file, int rc, int max, char *err, size_t errlen)
{
    if (rc == -E2BIG)
        snprintf(err, errlen, "%s: more than %d domain entries (expected at most %d in one "
                 "request)", file, max, max);
    else if (rc == -ENODATA)
        snprintf(err, errlen, "%s: an empty list (expected one domain entry, or a list of them)",
                 file);
    else
        snprintf(err, errlen, "out of memory");
    return rc == -ENOMEM ? rc : -EINVAL;
}

int live_parse_domains(const struct live *l, const char *file, const char *text, size_t len,
                       struct scn_domain *out, int max, int *nout, char *err, size_t errlen)
{
    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s: the body holds a NUL byte (expected YAML or JSON text)", file);
        return -EINVAL;
    }
    struct live_item *items = calloc((size_t)max + 1, sizeof(*items));
    struct layout y = { .items = items };
    int rc = items ? live_body_items(text, len, items, max, &y.k) : -ENOMEM;
    if (rc)
        return free(items), items_error(file, rc, max, err, errlen);
    y.item_line = calloc((size_t)y.k, sizeof(*y.item_line));
    y.map = calloc((size_t)l->scn->nr_domains + 1, sizeof(*y.map));
    y.first_line = calloc((size_t)l->scn->nr_domains + 2, sizeof(*y.first_line));
    char *doc = y.item_line && y.map && y.first_line ? build_doc(l, text, &y) : NULL;
    struct scenario t;
    if (!doc) {
        snprintf(err, errlen, "out of memory");
        rc = -ENOMEM;
    } else if ((rc = scenario_load_host_string(file, doc, &t, err, errlen))) {
        rc = rebase_message(l, file, &y, err, errlen);
    } else {
        rc = take_entries(l, file, &t, &y, out, err, errlen);
        scenario_free(&t);
    }
    if (!rc)
        *nout = y.k;
    free(doc);
    free(items);
    free(y.item_line);
    free(y.map);
    free(y.first_line);
    return rc;
}
