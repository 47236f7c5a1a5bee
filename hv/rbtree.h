/* rbtree.h — red-black trees from libbsd's <bsd/sys/tree.h> (the BSD
 * RB_* macros: intrusive, no allocation, O(log n) insert/remove/min).
 * libbsd's cdefs.h leaves __unused undefined on Linux (Debian #522773),
 * and tree.h's RB_GENERATE_STATIC needs it. Include this header last. */
#ifndef FV_RBTREE_H
#define FV_RBTREE_H

#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
#include <bsd/sys/tree.h>

#endif
