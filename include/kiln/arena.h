/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Arenas and growable buffers. Every allocation in Kiln belongs to an
 * arena: the request arena (reset after each response), the worker arena
 * or the app arena. Objects are never freed one by one; a reset or free
 * releases all of them at once and runs the registered cleanups in
 * reverse order, which is how non-memory resources (statements, fds,
 * library objects) are released, even after kiln_abort().
 */
#ifndef KILN_ARENA_H
#define KILN_ARENA_H

#include <stdarg.h>

#include <kiln/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kiln_arena kiln_arena;

/* A cleanup run when its arena is reset or freed. */
typedef void (*kiln_cleanup_fn)(void *data);

/*
 * Creates an arena whose blocks are block_size bytes (0: the default, 8
 * KiB). Returns NULL when out of memory. Free it with kiln_arena_free().
 */
KILN_API KILN_WARN_UNUSED kiln_arena *kiln_arena_new(size_t block_size);

/* Runs the cleanups and releases every block, then a itself. NULL is a no-op.
 */
KILN_API void kiln_arena_free(kiln_arena *a);

/*
 * Runs the cleanups (last registered first) and forgets every object,
 * keeping the first block for reuse. Oversized blocks are released.
 */
KILN_API void kiln_arena_reset(kiln_arena *a);

/*
 * Returns size bytes aligned for any type, owned by a, or NULL when out of
 * memory (or when size overflows). kiln_arena_calloc zeroes them.
 */
KILN_API void *kiln_arena_alloc(kiln_arena *a, size_t size);
KILN_API void *kiln_arena_calloc(kiln_arena *a, size_t n, size_t size);

/* Returns a NUL-terminated copy of s (or of len bytes of p) in a, or NULL. */
KILN_API char *kiln_arena_strdup(kiln_arena *a, const char *s);
KILN_API char *kiln_arena_strndup(kiln_arena *a, const char *p, size_t len);

/* Returns a NUL-terminated copy of s in a as a slice (ptr NULL on ENOMEM). */
KILN_API kiln_str kiln_str_dup(kiln_arena *a, kiln_str s);

/* Returns the NUL-terminated copy of s, for passing a slice to libc. */
KILN_API const char *kiln_str_cstr(kiln_arena *a, kiln_str s);

/* Formats into a, like asprintf. Returns NULL when out of memory. */
KILN_API char *kiln_arena_printf(kiln_arena *a, const char *fmt, ...)
    KILN_PRINTF(2, 3);
KILN_API char *kiln_arena_vprintf(kiln_arena *a, const char *fmt, va_list ap)
    KILN_PRINTF(2, 0);

/*
 * Registers fn(data) to run when a is reset or freed. Returns KILN_OK or
 * KILN_ENOMEM (then fn was not registered: release the resource now).
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_arena_cleanup_add(kiln_arena *a,
    kiln_cleanup_fn fn, void *data);

/* Returns the bytes handed out by a since its last reset (for tests). */
KILN_API size_t kiln_arena_used(const kiln_arena *a);

/*
 * A growable byte buffer whose storage lives in an arena. ptr is always
 * NUL-terminated after a successful append. A failed append leaves the
 * buffer as it was and sets oom, so a chain of appends may be checked
 * once at the end.
 */
typedef struct kiln_buf {
	char *ptr;     /* the bytes, NUL-terminated */
	size_t len;    /* bytes used, not counting the NUL */
	size_t cap;    /* bytes available, not counting the NUL */
	kiln_arena *a; /* the owner of ptr */
	bool oom;      /* an append failed */
} kiln_buf;

/* Starts an empty buffer in a with room for hint bytes. */
KILN_API void kiln_buf_init(kiln_buf *b, kiln_arena *a, size_t hint);

/* Appends bytes; each returns KILN_OK or KILN_ENOMEM (and sets b->oom). */
KILN_API kiln_err kiln_buf_append(kiln_buf *b, const void *p, size_t len);
KILN_API kiln_err kiln_buf_append_str(kiln_buf *b, kiln_str s);
KILN_API kiln_err kiln_buf_append_c(kiln_buf *b, const char *s);
KILN_API kiln_err kiln_buf_append_char(kiln_buf *b, char c);
KILN_API kiln_err kiln_buf_printf(kiln_buf *b, const char *fmt, ...)
    KILN_PRINTF(2, 3);

/* Ensures room for extra more bytes. Returns KILN_OK or KILN_ENOMEM. */
KILN_API kiln_err kiln_buf_reserve(kiln_buf *b, size_t extra);

/* Returns the contents as a slice (valid until the next append). */
KILN_API kiln_str kiln_buf_str(const kiln_buf *b);

#ifdef __cplusplus
}
#endif
#endif /* KILN_ARENA_H */
