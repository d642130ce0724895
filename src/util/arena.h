/*
 * arena: the per-request memory of a worker.
 *
 * A worker owns one arena with a fixed first block that lives as long as the
 * process; every string or array a request needs is carved from it and all
 * of it is released at once by arena_reset() when the request ends.  Only a
 * request that outgrows the first block costs a malloc (an overflow block,
 * freed on reset), so the common request allocates nothing.
 */
#ifndef FINICOM_ARENA_H
#define FINICOM_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	char *base;
	size_t cap;
	size_t used;
	struct arena_block *overflow; /* malloc'd blocks, newest first */
	size_t limit;                 /* most bytes one request may take in all */
	size_t total;
};

/* Set up an arena with a first block of cap bytes, at most limit bytes in all. */
int arena_init(struct arena *a, size_t cap, size_t limit);
void arena_free(struct arena *a);
void arena_reset(struct arena *a);

/* Memory for n bytes, 16-byte aligned, owned by the arena; NULL past the limit. */
void *arena_alloc(struct arena *a, size_t n);
/* A NUL-terminated copy of s[0..n) in the arena, or NULL. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* printf into the arena, or NULL. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
