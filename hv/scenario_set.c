/* scenario_set.c — `--set key.path=value` overrides.
 *
 * An override edits the loaded YAML document before anything is validated:
 * the value is parsed as YAML (so `pin=[0,1]` works as in the file) and
 * grafted in place of the old value, creating missing mapping keys and
 * intermediate mappings on the way. Validation then treats it like any file
 * value; the nodes it created are remembered (c->spans) so that a refusal
 * names the --set rather than a file position.
 */
#include "scenario_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Grafted values are copied recursively, each alias as a copy of what it
 * names: an alias loop (`&a [*a]`) would never end, and aliases of aliases
 * (`[&a [x,x,x,x], &b [*a,*a,*a,*a], &c [*b,*b,*b,*b], ...]`) grow
 * exponentially with the width. So the copy stops past SET_MAX_DEPTH levels
 * (no scenario value nests this deep) and past SET_MAX_NODES nodes per value
 * (more than any value without aliases that fits in a command-line argument:
 * 128 KiB, two bytes per value at the least). A path has at most
 * SET_MAX_DEPTH steps (the deepest key is 4: domains.0.workload.period). */
#define SET_MAX_DEPTH 32
#define SET_MAX_NODES 65536

__attribute__((format(printf, 3, 4)))
static int set_fail(struct scn_ctx *c, const char *text, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = scn_failv(c, snprintf(c->err, c->errlen, "--set %s: ", SCN_ECHO(text)), fmt, ap);
    va_end(ap);
    return rc;
}

static int nr_nodes(struct scn_ctx *c)
{
    return (int)(c->doc.nodes.top - c->doc.nodes.start);
}

/* Copy node `id` of src into c->doc; *out = its id there. -ELOOP: too
 * deep; -E2BIG: more than *budget nodes; -EBADMSG: a tag (the copy would
 * drop it), named in tag[SCN_ECHO_BUF + 2]. */
static int copy_node(struct scn_ctx *c, yaml_document_t *src, int id, int depth, int *budget,
                     char *tag, int *out)
{
    yaml_node_t *n = yaml_document_get_node(src, id);
    if (depth > SET_MAX_DEPTH)
        return -ELOOP;
    if (--*budget < 0)
        return -E2BIG;
    if (scn_bad_tag(n, tag))
        return -EBADMSG;
    if (n->type == YAML_SCALAR_NODE) {
        *out = yaml_document_add_scalar(&c->doc, NULL, n->data.scalar.value,
                                        (int)n->data.scalar.length, n->data.scalar.style);
        return *out ? 0 : -ENOMEM;
    }
    bool seq = n->type == YAML_SEQUENCE_NODE;
    *out = seq ? yaml_document_add_sequence(&c->doc, NULL, YAML_FLOW_SEQUENCE_STYLE)
               : yaml_document_add_mapping(&c->doc, NULL, YAML_FLOW_MAPPING_STYLE);
    if (!*out)
        return -ENOMEM;
    long nr = seq ? n->data.sequence.items.top - n->data.sequence.items.start
                  : n->data.mapping.pairs.top - n->data.mapping.pairs.start;
    for (long i = 0; i < nr; i++) {
        /* src is not modified, so n stays valid across the copies. */
        int k = 0, v = 0, rc;
        if (seq)
            rc = copy_node(c, src, n->data.sequence.items.start[i], depth + 1, budget, tag, &v);
        else if ((rc = copy_node(c, src, n->data.mapping.pairs.start[i].key, depth + 1, budget,
                                 tag, &k)) == 0)
            rc = copy_node(c, src, n->data.mapping.pairs.start[i].value, depth + 1, budget, tag,
                           &v);
        if (rc)
            return rc;
        int ok = seq ? yaml_document_append_sequence_item(&c->doc, *out, v)
                     : yaml_document_append_mapping_pair(&c->doc, *out, k, v);
        if (!ok)
            return -ENOMEM;
    }
    return 0;
}

/* Parse value as YAML and add it to the document; *out = its node. */
static int graft(struct scn_ctx *c, const char *text, const char *value, int *out)
{
    /* The value is untrusted text like the file: the same limits, before
     * libyaml builds it. */
    size_t len = strnlen(value, (size_t)SCN_MAX_FILE_SIZE + 1);
    yaml_mark_t at = { 0 };
    enum scn_scan scan = len > SCN_MAX_FILE_SIZE ? SCN_SCAN_NODES : scn_prescan(value, len, &at);
    if (scan == SCN_SCAN_DEEP)
        return set_fail(c, text, "the value nests lists and mappings more than %d deep (expected "
                        "a value such as 512, 10ms or [0, 1])", SCN_MAX_DEPTH);
    if (scan == SCN_SCAN_NODES)
        return set_fail(c, text, "the value is too large (expected a value such as 512, 10ms or "
                        "[0, 1])");
    if (scan == SCN_SCAN_NOMEM)
        return scn_oom(c);
    yaml_parser_t p;
    yaml_document_t v;
    if (!yaml_parser_initialize(&p))
        return scn_oom(c);
    yaml_parser_set_input_string(&p, (const unsigned char *)value, len);
    int rc = 0, budget = SET_MAX_NODES;
    char tag[SCN_ECHO_BUF + 2] = "";
    if (!yaml_parser_load(&p, &v)) {
        rc = set_fail(c, text, "the value is not valid YAML: %s (expected a value such as 512, "
                      "10ms or [0, 1])", p.problem ? p.problem : "unknown problem");
        yaml_parser_delete(&p);
        return rc;
    }
    /* One value, nothing after it: libyaml stops after the first document,
     * so `[0] [1]` or `2s\n---\nx` would quietly lose the rest. */
    yaml_document_t next;
    if (yaml_document_get_root_node(&v)) {
        if (!yaml_parser_load(&p, &next)) {
            rc = set_fail(c, text, "the value is not valid YAML: %s (expected one value such as "
                          "512, 10ms or [0, 1])", p.problem ? p.problem : "unknown problem");
        } else {
            if (yaml_document_get_root_node(&next))
                rc = set_fail(c, text, "the value holds more than one YAML document (expected one "
                              "value such as 512, 10ms or [0, 1])");
            yaml_document_delete(&next);
        }
        if (rc) {
            yaml_document_delete(&v);
            yaml_parser_delete(&p);
            return rc;
        }
    }
    if (!yaml_document_get_root_node(&v))    /* empty value: an empty scalar, as `key:` */
        rc = (*out = yaml_document_add_scalar(&c->doc, NULL, (yaml_char_t *)"", 0,
                                              YAML_PLAIN_SCALAR_STYLE)) ? 0 : -ENOMEM;
    else
        rc = copy_node(c, &v, 1, 0, &budget, tag, out);
    yaml_document_delete(&v);
    yaml_parser_delete(&p);
    if (rc == -ELOOP)   /* the prescan bounds the nesting as written: an alias loop */
        return set_fail(c, text, "the value nests more than %d levels through its aliases "
                        "(expected a plain value)", SET_MAX_DEPTH);
    if (rc == -E2BIG)
        return set_fail(c, text, "the value expands to more than %d values through aliases "
                        "(expected a plain value)", SET_MAX_NODES);
    if (rc == -EBADMSG)
        return set_fail(c, text, "tag %s is not supported (expected no tag: every value is read "
                        "from its text, such as 512 or 10ms)", tag);
    return rc ? scn_oom(c) : 0;
}

/* Index in sequence `seq` named by step: a number, or the name of a domain. */
static int seq_index(struct scn_ctx *c, const char *text, int seq, const char *step,
                     const char *where, long *idx)
{
    yaml_node_t *n = scn_node(c, seq);
    long nr = n->data.sequence.items.top - n->data.sequence.items.start;
    char *end;
    long i = strtol(step, &end, 10);
    if (*step >= '0' && *step <= '9' && !*end) {
        if (i < nr)
            return *idx = i, 0;
        if (!nr)
            return set_fail(c, text, "%s is an empty list (expected a path into an existing entry)",
                            SCN_ECHO(where));
        return set_fail(c, text, "index %s is out of range for %s (expected 0..%ld)",
                        SCN_ECHO(step), SCN_ECHO(where), nr - 1);
    }
    for (i = 0; i < nr; i++) {
        int name = scn_map_get(c, n->data.sequence.items.start[i], "name");
        yaml_node_t *v = scn_node(c, name);
        if (v && v->type == YAML_SCALAR_NODE && strcmp((const char *)v->data.scalar.value, step) == 0)
            return *idx = i, 0;
    }
    return set_fail(c, text, "%s has no entry named \"%s\" (expected an index 0..%ld or a name)",
                    SCN_ECHO(where), SCN_ECHO(step), nr - 1);
}

/* One step of the path from node cur: follow (or create) `step`; at the
 * last step, put `value` there. *next = the node reached. */
static int step_into(struct scn_ctx *c, const char *text, int cur, const char *step,
                     const char *where, int value, int *next)
{
    yaml_node_t *n = scn_node(c, cur);
    if (n->type == YAML_SEQUENCE_NODE) {
        long i = 0;
        int rc = seq_index(c, text, cur, step, where, &i);
        if (rc)
            return rc;
        if (value)
            n->data.sequence.items.start[i] = value;
        *next = n->data.sequence.items.start[i];
        return 0;
    }
    if (n->type != YAML_MAPPING_NODE)
        return set_fail(c, text, "%s is a single value (expected a path through mappings and lists)",
                        *where ? SCN_ECHO(where) : "the scenario");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = scn_node(c, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, step) == 0) {
            if (value)
                p->value = value;
            *next = p->value;
            return 0;
        }
    }
    /* Adding nodes may move the node array: n is not used past here. */
    int child = value ? value : yaml_document_add_mapping(&c->doc, NULL, YAML_BLOCK_MAPPING_STYLE);
    int key = yaml_document_add_scalar(&c->doc, NULL, (yaml_char_t *)step, -1,
                                       YAML_PLAIN_SCALAR_STYLE);
    if (!child || !key || !yaml_document_append_mapping_pair(&c->doc, cur, key, child))
        return scn_oom(c);
    *next = child;
    return 0;
}

static int walk(struct scn_ctx *c, const char *text, const char *path, int value)
{
    int cur = 1, steps = 1;
    for (const char *p = path; (p = strchr(p, '.')); p++)
        if (++steps > SET_MAX_DEPTH)    /* each step copies the path so far */
            return set_fail(c, text, "the key has more than %d steps (expected KEY such as "
                            "domains.0.weight)", SET_MAX_DEPTH);
    for (const char *step = path;;) {
        const char *dot = strchr(step, '.');
        size_t len = dot ? (size_t)(dot - step) : strlen(step);
        if (!len)
            return set_fail(c, text, "the key has an empty step (expected KEY such as "
                            "domains.0.weight)");
        /* where: the path up to the node this step starts from, for messages */
        char *name = strndup(step, len);
        char *where = strndup(path, step > path ? (size_t)(step - path - 1) : 0);
        int rc = name && where ? step_into(c, text, cur, name, where, dot ? 0 : value, &cur)
                               : scn_oom(c);
        free(name);
        free(where);
        if (rc || !dot)
            return rc;
        step = dot + 1;
    }
}

static int apply_one(struct scn_ctx *c, const char *text)
{
    const char *eq = strchr(text, '=');
    if (!eq || eq == text)
        return set_fail(c, text, "%s (expected KEY=VALUE such as domains.0.weight=512)",
                        eq ? "no key before '='" : "no '='");
    if (!yaml_document_get_root_node(&c->doc) &&
        !yaml_document_add_mapping(&c->doc, NULL, YAML_BLOCK_MAPPING_STYLE))
        return scn_oom(c);
    char *path = strndup(text, (size_t)(eq - text));
    char *copy = strdup(text);
    struct scn_set_span *sp = realloc(c->spans, (size_t)(c->nspans + 1) * sizeof(*sp));
    if (!path || !copy || !sp) {
        free(path), free(copy);
        if (sp)
            c->spans = sp;
        return scn_oom(c);
    }
    c->spans = sp;
    int first = nr_nodes(c) + 1, value;
    int rc = graft(c, text, eq + 1, &value);
    if (rc == 0)
        rc = walk(c, text, path, value);
    free(path);
    if (rc) {
        free(copy);
        return rc;
    }
    c->spans[c->nspans++] = (struct scn_set_span){ first, nr_nodes(c), copy };
    return 0;
}

int scn_apply_sets(struct scn_ctx *c, const char *const *sets, int nsets)
{
    for (int i = 0; i < nsets; i++) {
        int rc = apply_one(c, sets[i]);
        if (rc)
            return rc;
    }
    return 0;
}
