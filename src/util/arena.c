/*
 * arena: bump allocation reset per request.  See arena.h.
 */
#include "util/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
	struct arena_block *next;
	size_t size;
	max_align_t data[];
};

#define ALIGN16(n) (((n) + 15) & ~(size_t)15)

int
arena_init(struct arena *a, size_t cap, size_t limit)
{
	memset(a, 0, sizeof(*a));
	a->base = malloc(cap);
	if (a->base == NULL)
		return -1;
	a->cap = cap;
	a->limit = limit;
	return 0;
}

void
arena_reset(struct arena *a)
{
	struct arena_block *b = a->overflow, *next;

	for (; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->overflow = NULL;
	a->used = 0;
	a->total = 0;
}

void
arena_free(struct arena *a)
{
	arena_reset(a);
	free(a->base);
	a->base = NULL;
	a->cap = 0;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	size_t need = ALIGN16(n ? n : 1);
	struct arena_block *b;

	if (need < n || a->total + need > a->limit)
		return NULL;
	if (a->used + need <= a->cap) {
		void *p = a->base + a->used;
		a->used += need;
		a->total += need;
		return p;
	}
	b = malloc(sizeof(*b) + need);
	if (b == NULL)
		return NULL;
	b->size = need;
	b->next = a->overflow;
	a->overflow = b;
	a->total += need;
	return b->data;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (p = arena_alloc(a, (size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
