/* gnttab.h — a domain's grant table (Xen semantics, v1-like), engine-independent.
 *
 * A domain lets one named peer domain read, or read and write, one 4 KiB
 * page of its own memory by granting it: gnttab_grant returns a reference
 * (an index into the table) that the guest hands to the peer, typically in
 * a ring request. The peer (a backend in domain 0, running as hypervisor
 * side code) reaches the page only through gnttab_copy_from/_to or
 * gnttab_map, which check the reference, the caller's domain id and the
 * access mode, and pin the entry while they use it. The guest takes access
 * back with gnttab_end, which refuses (-EBUSY, retry later) while the entry
 * is pinned, as Xen's gnttab_end_foreign_access_ref does.
 *
 * Error codes (every call returns 0, a reference >= 0, or -errno):
 *   grant:  -EINVAL page not 4 KiB aligned (absolute address) or not wholly
 *           inside the domain's memory, peer < 0, peer == own id or peer a
 *           reserved id (>= DOMID_FIRST_RESERVED); then -ESHUTDOWN the
 *           domain is being torn down; then -ENOSPC every entry is in use.
 *   end:    -EINVAL ref out of range or not granted; -EBUSY pinned.
 *   copy/map, checked in this order: -EINVAL ref out of range; -ENOENT not
 *           granted; -EPERM caller is not the peer; -EACCES write access to
 *           a read-only grant; -ERANGE offset + len beyond the page (copy
 *           only); -ESHUTDOWN the table is shut down; -EBUSY the pin count
 *           is saturated (GNTTAB_PIN_MAX pins at once).
 *   unmap:  -EINVAL ref out of range or not pinned.
 *
 * Teardown: gnttab_shutdown, then wait until gnttab_pinned() is 0 (no copy
 * or map in progress, and none can start), then free the memory and
 * gnttab_destroy.
 *
 * Threads: grant/end (the guest's vCPUs) and copy/map/unmap (backends)
 * may run concurrently on any threads; copy/map/unmap take no lock. See
 * the "Locking:" block in gnttab.c.
 */
#ifndef FV_GNTTAB_H
#define FV_GNTTAB_H

#include <stdbool.h>
#include <stdint.h>

#define GNTTAB_PAGE_SIZE 4096u
#define GNTTAB_DEFAULT_MAX 4096u      /* entries per domain unless told otherwise */
#define GNTTAB_MAX_ENTRIES (1u << 20) /* largest max_entries gnttab_create accepts */
#define GNTTAB_PIN_MAX 0x7FFFu        /* concurrent pins (copies + maps) per entry */

typedef uint32_t grant_ref_t;
struct gnttab;

/* The table of domain `domid` (0 .. DOMID_FIRST_RESERVED-1), whose memory
 * is [mem, mem + mem_size); max_entries 0 means GNTTAB_DEFAULT_MAX. NULL
 * with errno EINVAL (bad id, size or range) or ENOMEM. */
struct gnttab *gnttab_create(int domid, void *mem, uint64_t mem_size, uint32_t max_entries);
/* Free the table; nothing may use it any more (see Teardown above). */
void gnttab_destroy(struct gnttab *gt);

/* Guest hypercall: let `peer` access `page`, read-only or read-write.
 * Returns the reference (lowest free on a fresh table) or -errno. */
int gnttab_grant(struct gnttab *gt, int peer, const void *page, bool readonly);
/* Guest hypercall: end access to ref: 0 or -errno. */
int gnttab_end(struct gnttab *gt, grant_ref_t ref);
/* The domain is being torn down: new grants fail with -ESHUTDOWN, copies
 * and maps fail with -ESHUTDOWN from now on. Idempotent. */
void gnttab_shutdown(struct gnttab *gt);

/* Backend grant copy between the granted page (at offset) and the
 * caller's own buffer; caller is the calling domain's id. */
int gnttab_copy_from(struct gnttab *gt, int caller, grant_ref_t ref, uint32_t offset, void *dst,
                     uint32_t len);
int gnttab_copy_to(struct gnttab *gt, int caller, grant_ref_t ref, uint32_t offset,
                   const void *src, uint32_t len);
/* Backend map: the page, pinned until gnttab_unmap; NULL with *err set
 * (err may be NULL). unmap drops one pin: call it once per successful map
 * of ref (there are no map handles; an unpaired unmap would take a pin
 * that a copy in progress holds). */
void *gnttab_map(struct gnttab *gt, int caller, grant_ref_t ref, bool writable, int *err);
int gnttab_unmap(struct gnttab *gt, grant_ref_t ref);

uint32_t gnttab_in_use(const struct gnttab *gt);   /* entries granted now */
uint32_t gnttab_pinned(const struct gnttab *gt);   /* entries pinned now (O(max_entries)) */
uint32_t gnttab_max_entries(const struct gnttab *gt);
int gnttab_domid(const struct gnttab *gt);

#endif
