/* scenario_limits.c — what keeps a scenario, however hostile, from costing
 * more than a bounded amount of time and memory: the size and nesting
 * depth of the text (checked before libyaml builds a document, since its
 * parser is quadratic in nesting), tags and alias expansion in the built
 * document, and the size of the resolved form every run writes back.
 * The limits themselves are in scenario.h.
 */
#include "scenario_priv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum scn_scan scn_prescan(const char *text, size_t len, yaml_mark_t *at)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return SCN_SCAN_NOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    enum scn_scan r = SCN_SCAN_OK;
    long depth = 0, nodes = 0;
    /* The nodes are counted from the tokens: a scalar or a collection start
     * is one; a key, value or entry indicator followed by none of those
     * stands for an empty value (or an indentless list), one more. Anchors
     * and tags belong to the node that follows; an alias is no new node.
     * Indentless lists (`key:\n- a`) open no level in the token stream, so
     * the depth seen is at least half the real one. */
    bool pending = false;
    while (r == SCN_SCAN_OK) {
        yaml_token_t t;
        if (!yaml_parser_scan(&p, &t))
            break;          /* a syntax error: the loader reports it */
        yaml_token_type_t ty = t.type;
        *at = t.start_mark;
        yaml_token_delete(&t);
        if (ty == YAML_STREAM_END_TOKEN)
            break;
        if (ty == YAML_ANCHOR_TOKEN || ty == YAML_TAG_TOKEN)
            continue;
        bool opens = ty == YAML_FLOW_SEQUENCE_START_TOKEN || ty == YAML_FLOW_MAPPING_START_TOKEN ||
                     ty == YAML_BLOCK_SEQUENCE_START_TOKEN || ty == YAML_BLOCK_MAPPING_START_TOKEN;
        bool node = opens || ty == YAML_SCALAR_TOKEN;
        if (pending && !node && ty != YAML_ALIAS_TOKEN)
            nodes++;
        pending = ty == YAML_KEY_TOKEN || ty == YAML_VALUE_TOKEN || ty == YAML_BLOCK_ENTRY_TOKEN ||
                  ty == YAML_FLOW_ENTRY_TOKEN;
        nodes += node;
        if (ty == YAML_FLOW_SEQUENCE_END_TOKEN || ty == YAML_FLOW_MAPPING_END_TOKEN ||
            ty == YAML_BLOCK_END_TOKEN)
            depth -= depth > 0;
        if (opens && ++depth > SCN_MAX_DEPTH)
            r = SCN_SCAN_DEEP;
        else if (nodes > SCN_MAX_NODES)
            r = SCN_SCAN_NODES;
    }
    if (r == SCN_SCAN_OK && p.error == YAML_MEMORY_ERROR)
        r = SCN_SCAN_NOMEM;
    yaml_parser_delete(&p);
    return r;
}

const char *scn_bad_tag(const yaml_node_t *n, char *buf)
{
    static const char std[] = "tag:yaml.org,2002:";
    const char *tag = (const char *)n->tag;
    const char *def = n->type == YAML_SCALAR_NODE     ? YAML_DEFAULT_SCALAR_TAG
                      : n->type == YAML_SEQUENCE_NODE ? YAML_DEFAULT_SEQUENCE_TAG
                                                      : YAML_DEFAULT_MAPPING_TAG;
    if (!tag || strcmp(tag, def) == 0)
        return NULL;
    if (strncmp(tag, std, sizeof(std) - 1) == 0) {      /* as written: !!float */
        memcpy(buf, "!!", 2);
        scn_echo(tag + sizeof(std) - 1, buf + 2);
        return buf;
    }
    return scn_echo(tag, buf);
}

/* The text, before libyaml builds a document of it. */
int scn_check_text(struct scn_ctx *c, const char *text, size_t len)
{
    char sz[SCN_FMT_MAX];
    scn_format_size(SCN_MAX_FILE_SIZE, sz, sizeof(sz));
    if (len > SCN_MAX_FILE_SIZE) {
        snprintf(c->err, c->errlen, "%s: the scenario is larger than %s (expected at most %s of "
                 "YAML)", c->file, sz, sz);
        return -EINVAL;
    }
    yaml_mark_t at = { 0 };
    switch (scn_prescan(text, len, &at)) {
    case SCN_SCAN_OK:
        return 0;
    case SCN_SCAN_DEEP:
        snprintf(c->err, c->errlen, "%s:%zu:%zu: lists and mappings nest more than %d deep "
                 "(expected at most %d levels)", c->file, at.line + 1, at.column + 1,
                 SCN_MAX_DEPTH, SCN_MAX_DEPTH);
        return -EINVAL;
    case SCN_SCAN_NODES:
        snprintf(c->err, c->errlen, "%s:%zu:%zu: the scenario has more than %d values, keys, lists "
                 "and mappings (expected at most %d)", c->file, at.line + 1, at.column + 1,
                 SCN_MAX_NODES, SCN_MAX_NODES);
        return -EINVAL;
    default:
        return scn_oom(c);
    }
}

/* The document as the loader will walk it, overrides applied, before the
 * walk: every node reachable from the root, each alias (*NAME) taken as a
 * copy of what it names, since that is what the walk does. Aliases are
 * allowed (sharing a workload or pin list between domains is fair use), but
 * a few lines of aliases of aliases can stand for billions of nodes, and
 * `&a [*a]` for infinitely many: so the expanded size is computed here, once
 * per distinct node (memoised, linear in the document), and refused past
 * SCN_MAX_NODES, which bounds the walk's work whatever the aliases. Tags are
 * checked here too: the loader reads every value from its text, so a tag
 * (`!!float 512`) would be silently ignored; only the default tags libyaml
 * sets on untagged nodes pass. */
int scn_check_doc(struct scn_ctx *c)
{
    int n = (int)(c->doc.nodes.top - c->doc.nodes.start);
    if (!n)
        return 0;
    unsigned char *state = calloc((size_t)n + 1, 1);     /* 0 unseen, 1 open, 2 done */
    uint32_t *size = calloc((size_t)n + 1, sizeof(*size));
    struct frame {
        int node;
        long next;      /* next child: items in order, or key, value, key, ... */
    } *stack = NULL;
    size_t sp = 0, cap = 0;
    int rc = state && size ? 0 : scn_oom(c), kid = 1;
    for (bool enter = true; rc == 0;) {
        if (enter) {    /* kid is new */
            char tag[SCN_ECHO_BUF + 2];
            if (scn_bad_tag(scn_node(c, kid), tag)) {
                rc = scn_fail(c, kid, "tag %s is not supported (expected no tag: every value is "
                              "read from its text, such as 512 or 10ms)", tag);
                break;
            }
            if (sp == cap) {
                struct frame *ns = realloc(stack, (cap = cap ? 2 * cap : 64) * sizeof(*ns));
                if (!ns) {
                    rc = scn_oom(c);
                    break;
                }
                stack = ns;
            }
            stack[sp++] = (struct frame){ kid, 0 };
            state[kid] = 1;
            size[kid] = 1;
        }
        struct frame *f = &stack[sp - 1];
        yaml_node_t *y = scn_node(c, f->node);
        long nkids = y->type == YAML_SEQUENCE_NODE
                         ? y->data.sequence.items.top - y->data.sequence.items.start
                     : y->type == YAML_MAPPING_NODE
                         ? 2 * (y->data.mapping.pairs.top - y->data.mapping.pairs.start) : 0;
        if (f->next < nkids) {
            long i = f->next++;
            kid = y->type == YAML_SEQUENCE_NODE ? y->data.sequence.items.start[i]
                  : i % 2 ? y->data.mapping.pairs.start[i / 2].value
                          : y->data.mapping.pairs.start[i / 2].key;
            if (state[kid] == 1) {
                rc = scn_fail(c, kid, "an alias inside this value names the value itself "
                              "(expected no alias loops)");
                break;
            }
            enter = state[kid] == 0;
            if (enter)
                continue;
            size[f->node] += size[kid];         /* done before: its size is known */
        } else {
            state[f->node] = 2;
            int done = f->node;
            if (--sp == 0)
                break;
            f = &stack[sp - 1];
            size[f->node] += size[done];
            enter = false;
        }
        if (size[f->node] > SCN_MAX_NODES)      /* sizes stay <= 2 x SCN_MAX_NODES + 1 */
            rc = scn_fail(c, f->node, "this value expands to more than %d values through aliases "
                          "(expected at most %d in all, each use of an alias counting in full)",
                          SCN_MAX_NODES, SCN_MAX_NODES);
        enter = false;
    }
    free(stack);
    free(state);
    free(size);
    return rc;
}

/* Whatever loads must load again from what scenario_write_yaml makes of it
 * (scenario.h; every run keeps it as scenario.yaml): count expansion and
 * filled defaults make it larger than the file, so it is held to the same
 * limits. A bound computed from the domains settles almost every scenario;
 * only when it exceeds a limit is the YAML written and measured. */
int scn_check_resolved(struct scn_ctx *c)
{
    const struct scenario *s = c->s;
    uint64_t nodes = 64 + 6 * (uint64_t)s->gp.nr_windows;
    uint64_t bytes = 1024 + 100 * (uint64_t)s->gp.nr_windows;
    /* netback: and dom0: (about 40 nodes, 400 bytes); each vif is a mapping
     * of 4 keys (9 nodes, at most about 110 bytes: a 6-byte MAC quoted, an
     * address with its prefix, a rate of two durations) and its domain's
     * `vifs:` 2 more. At SCN_MAX_VIFS vifs on each of SCN_MAX_DOMAINS
     * domains this is what tips a scenario over the limits. */
    if (s->netback.port != SCN_NB_NONE)
        nodes += 64, bytes += 512;
    /* blkback: and, without a network, dom0: (about 32 nodes, 250 bytes);
     * each vbd a mapping of up to 6 keys (13 nodes; 120 bytes and its path
     * quoted, each byte at most 4 escaped: size, backend, path, weight,
     * reservation, limit) and its domain's `vbds:` 2 more. */
    if (s->blkback.present)
        nodes += 48, bytes += 384;
    for (int i = 0; i < s->nr_domains; i++) {
        const struct scn_domain *d = &s->domains[i];
        int np = 0, pins = d->pinned ? cpumask_weight(&d->pin) : 0;
        while (d->wl.desc->params && d->wl.desc->params[np].name)
            np++;
        nodes += 32 + (uint64_t)pins + 2 * (uint64_t)np;
        bytes += 320 + strlen(d->name) + 5 * (uint64_t)pins + 96 * (uint64_t)np;
        if (d->nr_vifs)
            nodes += 2 + 9 * (uint64_t)d->nr_vifs, bytes += 16 + 128 * (uint64_t)d->nr_vifs;
        for (int j = 0; j < d->nr_vbds; j++)
            nodes += 13 + 2 * (j == 0), bytes += 120 + 4 * (uint64_t)strlen(d->vbds[j].path);
    }
    if (nodes <= SCN_MAX_NODES && bytes <= SCN_MAX_FILE_SIZE)
        return 0;
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return scn_oom(c);
    int wrc = scenario_write_yaml(s, m);
    if (fclose(m) != 0 || wrc != 0) {
        free(text);
        return scn_oom(c);
    }
    yaml_mark_t at;
    enum scn_scan r = len > SCN_MAX_FILE_SIZE ? SCN_SCAN_NODES : scn_prescan(text, len, &at);
    free(text);
    if (r == SCN_SCAN_NOMEM)
        return scn_oom(c);
    if (r == SCN_SCAN_OK)
        return 0;
    /* "fewer domains, shorter pin lists, fewer vifs or fewer vbds", the
     * devices named only when there are some. */
    const char *more[4] = { "fewer domains", "shorter pin lists" };
    int n = 2;
    if (s->netback.port != SCN_NB_NONE)
        more[n++] = "fewer vifs";
    if (s->blkback.present)
        more[n++] = "fewer vbds";
    char sz[SCN_FMT_MAX], expect[128] = "";
    for (int i = 0; i < n; i++) {
        size_t k = strlen(expect);
        snprintf(expect + k, sizeof(expect) - k, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ",
                 more[i]);
    }
    return scn_fail(c, scn_map_get(c, c->root, "domains"), "the resolved scenario, every replica "
                    "written out, would be larger than %s or %d values (expected %s: a run's "
                    "scenario.yaml must load again)",
                    scn_format_size(SCN_MAX_FILE_SIZE, sz, sizeof(sz)), SCN_MAX_NODES, expect);
}
