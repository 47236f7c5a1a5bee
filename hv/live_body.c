/* live_body.c — a create request's body as domain entries: one mapping, or
 * each item of a sequence (a pair that names each other must be created
 * together). libyaml reads the body once to find where each item starts
 * and ends; the scenario loader then reads the items themselves
 * (live_parse.c), so the items' text is passed on untouched and messages
 * can point back into the body. */
#include "live_priv.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <yaml.h>

/* The first thing in the text that is not blank or a comment. */
static char first_char(const char *text, size_t len)
{
    bool comment = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (comment) {
            comment = c != '\n';
            continue;
        }
        if (c == '#')
            comment = true;
        else if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return c;
    }
    return 0;
}

/* Items of a sequence body into items (NULL: count them only): 0, or 1 when
 * the body is not a sequence (or not YAML), or -E2BIG, -ENODATA, -ENOMEM. */
static int split(const char *text, size_t len, struct live_item *items, int max, int *n)
{
    char c = first_char(text, len);
    if (c != '-' && c != '[')
        return 1;                       /* a mapping, or not YAML: the loader says which */
    yaml_parser_t p;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&p))
        return -ENOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int rc = 1;
    if (!yaml_parser_load(&p, &doc)) {
        yaml_parser_delete(&p);
        return 1;                       /* broken: the loader gives the position */
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root && root->type == YAML_SEQUENCE_NODE) {
        int k = 0;
        rc = 0;
        for (yaml_node_item_t *it = root->data.sequence.items.start;
             it < root->data.sequence.items.top; it++, k++) {
            if (k == max) {
                rc = -E2BIG;
                break;
            }
            yaml_node_t *node = yaml_document_get_node(&doc, *it);
            size_t a = node->start_mark.index, b = node->end_mark.index;
            if (items)
                items[k] = (struct live_item){ a, b > a && b <= len ? b - a : len - a,
                                               (int)node->start_mark.line + 1,
                                               (int)node->start_mark.column + 1 };
        }
        *n = k;
        if (k == 0)
            rc = -ENODATA;
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return rc;
}

int live_body_items(const char *text, size_t len, struct live_item *items, int max, int *n)
{
    int rc = split(text, len, items, max, n);
    if (rc == 1) {
        *n = 1;
        items[0] = (struct live_item){ 0, len, 1, 1 };
        rc = 0;
    }
    return rc;
}

bool live_body_is_list(const char *text, size_t len)
{
    int n = 0;
    return split(text, len, NULL, INT32_MAX, &n) != 1;
}
