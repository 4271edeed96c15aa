/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Arenas: bump allocation from a chain of blocks, released all at once.
 * The first block is kept across resets so a worker's request arena does
 * not call malloc in the steady state. Objects larger than a quarter of
 * the block size get a block of their own, released at the next reset.
 * Cleanups form a list (newest first) that reset and free run in order.
 *
 * With KILN_ARENA_DEBUG every object is a separate malloc with a canary
 * after it, checked at reset, so ASan and valgrind see each object.
 *
 * This is the only file that calls malloc (STYLE.md section 3).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <kiln/arena.h>

#define ARENA_ALIGN	    16
#define ARENA_DEFAULT_BLOCK 8192
#define ARENA_CANARY	    0x6b696c6e61726e61ULL /* "kilnarna" */

struct block {
	struct block *next; /* older block */
	size_t size;	    /* usable bytes after the header */
	size_t used;	    /* bytes handed out */
			    /* data follows, aligned */
};

struct cleanup {
	struct cleanup *next; /* registered earlier */
	kiln_cleanup_fn fn;
	void *data;
};

#ifdef KILN_ARENA_DEBUG
struct dbg_obj {
	struct dbg_obj *next; /* allocated earlier */
	size_t size;	      /* requested bytes */
			      /* data follows, then an 8-byte canary */
};
#endif

struct kiln_arena {
	struct block *head;	  /* current block (newest) */
	struct block *first;	  /* the block kept across resets */
	struct block *large;	  /* blocks of single large objects */
	struct cleanup *cleanups; /* newest first */
	size_t block_size;	  /* usable bytes of a normal block */
	size_t used;		  /* bytes handed out since reset */
#ifdef KILN_ARENA_DEBUG
	struct dbg_obj *objs; /* newest first */
#endif
};

#define BLOCK_HDR \
	((sizeof(struct block) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))
#define BLOCK_DATA(b) ((char *)(b) + BLOCK_HDR)

static struct block *
block_new(size_t size)
{
	struct block *b;

	if (size > SIZE_MAX - BLOCK_HDR)
		return NULL;
	b = malloc(BLOCK_HDR + size);
	if (b == NULL)
		return NULL;
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

kiln_arena *
kiln_arena_new(size_t block_size)
{
	kiln_arena *a;

	if (block_size == 0)
		block_size = ARENA_DEFAULT_BLOCK;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->block_size = block_size;
	a->first = block_new(block_size);
	if (a->first == NULL) {
		free(a);
		return NULL;
	}
	a->head = a->first;
	return a;
}

/*
 * Runs and forgets the cleanups. A cleanup may allocate in the arena or
 * register another cleanup; those run in the same pass.
 */
static void
run_cleanups(kiln_arena *a)
{
	struct cleanup *c;

	while ((c = a->cleanups) != NULL) {
		a->cleanups = c->next;
		c->fn(c->data);
	}
}

#ifdef KILN_ARENA_DEBUG
static void
dbg_release(kiln_arena *a)
{
	struct dbg_obj *o, *next;
	uint64_t canary;

	for (o = a->objs; o != NULL; o = next) {
		next = o->next;
		memcpy(&canary, (char *)(o + 1) + o->size, sizeof(canary));
		if (canary != ARENA_CANARY) {
			fprintf(stderr,
			    "kiln: arena canary overwritten after a "
			    "%zu-byte object\n",
			    o->size);
			abort();
		}
		free(o);
	}
	a->objs = NULL;
}
#endif

void
kiln_arena_reset(kiln_arena *a)
{
	struct block *b, *next;

	if (a == NULL)
		return;
	run_cleanups(a);
#ifdef KILN_ARENA_DEBUG
	dbg_release(a);
#endif
	for (b = a->head; b != NULL && b != a->first; b = next) {
		next = b->next;
		free(b);
	}
	for (b = a->large; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->large = NULL;
	a->head = a->first;
	a->first->next = NULL;
	a->first->used = 0;
	a->used = 0;
}

void
kiln_arena_free(kiln_arena *a)
{
	if (a == NULL)
		return;
	kiln_arena_reset(a);
	free(a->first);
	free(a);
}

#ifdef KILN_ARENA_DEBUG
static void *
dbg_alloc(kiln_arena *a, size_t size)
{
	struct dbg_obj *o;
	uint64_t canary = ARENA_CANARY;

	if (size > SIZE_MAX - sizeof(*o) - sizeof(canary))
		return NULL;
	o = malloc(sizeof(*o) + size + sizeof(canary));
	if (o == NULL)
		return NULL;
	o->size = size;
	o->next = a->objs;
	a->objs = o;
	memcpy((char *)(o + 1) + size, &canary, sizeof(canary));
	a->used += size;
	return o + 1;
}
#endif

void *
kiln_arena_alloc(kiln_arena *a, size_t size)
{
	struct block *b;
	size_t need;

	if (size == 0)
		size = 1;
#ifdef KILN_ARENA_DEBUG
	return dbg_alloc(a, size);
#endif
	if (size > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	b = a->head;
	if (b->size - b->used >= need) {
		b->used += need;
		a->used += need;
		return BLOCK_DATA(b) + b->used - need;
	}
	if (need > a->block_size / 4) {
		/* A large object: a block of its own, on the large list. */
		b = block_new(need);
		if (b == NULL)
			return NULL;
		b->used = need;
		b->next = a->large;
		a->large = b;
		a->used += need;
		return BLOCK_DATA(b);
	}
	b = block_new(a->block_size);
	if (b == NULL)
		return NULL;
	b->next = a->head;
	a->head = b;
	b->used = need;
	a->used += need;
	return BLOCK_DATA(b);
}

void *
kiln_arena_calloc(kiln_arena *a, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	p = kiln_arena_alloc(a, n * size);
	if (p != NULL)
		memset(p, 0, n * size);
	return p;
}

char *
kiln_arena_strndup(kiln_arena *a, const char *p, size_t len)
{
	char *s;

	if (len == SIZE_MAX)
		return NULL;
	s = kiln_arena_alloc(a, len + 1);
	if (s == NULL)
		return NULL;
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

char *
kiln_arena_strdup(kiln_arena *a, const char *s)
{
	return kiln_arena_strndup(a, s, strlen(s));
}

kiln_str
kiln_str_dup(kiln_arena *a, kiln_str s)
{
	kiln_str r;

	r.ptr = kiln_arena_strndup(a, s.ptr, s.len);
	r.len = r.ptr != NULL ? s.len : 0;
	return r;
}

const char *
kiln_str_cstr(kiln_arena *a, kiln_str s)
{
	return kiln_arena_strndup(a, s.ptr, s.len);
}

char *
kiln_arena_vprintf(kiln_arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	char *s;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return NULL;
	s = kiln_arena_alloc(a, (size_t)n + 1);
	if (s == NULL)
		return NULL;
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

char *
kiln_arena_printf(kiln_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = kiln_arena_vprintf(a, fmt, ap);
	va_end(ap);
	return s;
}

kiln_err
kiln_arena_cleanup_add(kiln_arena *a, kiln_cleanup_fn fn, void *data)
{
	struct cleanup *c;

	c = kiln_arena_alloc(a, sizeof(*c));
	if (c == NULL)
		return KILN_ENOMEM;
	c->fn = fn;
	c->data = data;
	c->next = a->cleanups;
	a->cleanups = c;
	return KILN_OK;
}

size_t
kiln_arena_used(const kiln_arena *a)
{
	return a->used;
}

/* --- buffers ------------------------------------------------------- */

void
kiln_buf_init(kiln_buf *b, kiln_arena *a, size_t hint)
{
	b->a = a;
	b->len = 0;
	b->oom = false;
	b->ptr = kiln_arena_alloc(a, hint + 1);
	if (b->ptr == NULL) {
		b->cap = 0;
		b->oom = true;
		return;
	}
	b->cap = hint;
	b->ptr[0] = '\0';
}

kiln_err
kiln_buf_reserve(kiln_buf *b, size_t extra)
{
	size_t cap;
	char *p;

	if (b->ptr != NULL && b->cap - b->len >= extra)
		return KILN_OK;
	if (extra > SIZE_MAX / 2 - b->len) {
		b->oom = true;
		return KILN_ENOMEM;
	}
	cap = b->cap < 64 ? 64 : b->cap;
	while (cap - b->len < extra)
		cap *= 2;
	p = kiln_arena_alloc(b->a, cap + 1);
	if (p == NULL) {
		b->oom = true;
		return KILN_ENOMEM;
	}
	if (b->len > 0)
		memcpy(p, b->ptr, b->len);
	p[b->len] = '\0';
	b->ptr = p;
	b->cap = cap;
	return KILN_OK;
}

kiln_err
kiln_buf_append(kiln_buf *b, const void *p, size_t len)
{
	if (kiln_buf_reserve(b, len) != KILN_OK)
		return KILN_ENOMEM;
	if (len > 0)
		memcpy(b->ptr + b->len, p, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return KILN_OK;
}

kiln_err
kiln_buf_append_str(kiln_buf *b, kiln_str s)
{
	return kiln_buf_append(b, s.ptr, s.len);
}

kiln_err
kiln_buf_append_c(kiln_buf *b, const char *s)
{
	return kiln_buf_append(b, s, strlen(s));
}

kiln_err
kiln_buf_append_char(kiln_buf *b, char c)
{
	return kiln_buf_append(b, &c, 1);
}

kiln_err
kiln_buf_printf(kiln_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	/* Format once into the room there is; only a miss formats again. */
	room = b->ptr != NULL ? b->cap - b->len + 1 : 0;
	va_start(ap, fmt);
	n = vsnprintf(room > 0 ? b->ptr + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		if (b->ptr != NULL)
			b->ptr[b->len] = '\0';
		return KILN_EINVAL;
	}
	if ((size_t)n < room) {
		b->len += (size_t)n;
		return KILN_OK;
	}
	if (b->ptr != NULL)
		b->ptr[b->len] = '\0'; /* undo the cut-off attempt */
	if (kiln_buf_reserve(b, (size_t)n) != KILN_OK)
		return KILN_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return KILN_OK;
}

kiln_str
kiln_buf_str(const kiln_buf *b)
{
	kiln_str s;

	s.ptr = b->ptr;
	s.len = b->len;
	return s;
}
