#ifndef GEOGRID_CSUPPORT_H
#define GEOGRID_CSUPPORT_H

// Two processor-level operations Swift cannot express, for the hot paths of the in-memory indexes, and one
// allocator setting Swift's Glibc module does not export.

/// A hint to start loading the cache line holding `address` for reading, without waiting for it. The
/// nearest-resource search issues these for every line a query will read, so that their cache misses overlap
/// instead of following one another.
static inline void geogrid_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Sine and cosine of one angle in one call, sharing the argument reduction (glibc's sincos, a GNU extension
/// that Swift's Glibc module does not export).
static inline void geogrid_sincos(double x, double *s, double *c) { __builtin_sincos(x, s, c); }

#if __has_include(<malloc.h>)
#include <malloc.h>
#endif

/// Bounds glibc's malloc arenas to `n` (mallopt M_ARENA_MAX); 0 where the allocator has no such setting.
static inline int geogrid_bound_malloc_arenas(int n) {
#ifdef M_ARENA_MAX
    return mallopt(M_ARENA_MAX, n);
#else
    (void)n;
    return 0;
#endif
}

#endif
