/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * An ordered multi-map of string pairs, as used for query arguments, form
 * fields, headers, cookies and route arguments. Keys may repeat (Django's
 * QueryDict); lookups return the first or every value. Storage is in an
 * arena; lookups are linear, which beats hashing at the sizes requests have.
 */
#ifndef KILN_KV_H
#define KILN_KV_H

#include <kiln/arena.h>
#include <kiln/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kiln_kv {
	kiln_str key; /* the name */
	kiln_str val; /* the value */
} kiln_kv;

typedef struct kiln_kvs {
	kiln_kv *items; /* n pairs in insertion order */
	size_t n;	/* pairs used */
	size_t cap;	/* pairs allocated */
	kiln_arena *a;	/* owner of items */
} kiln_kvs;

/* Starts an empty map whose storage comes from a. */
KILN_API void kiln_kvs_init(kiln_kvs *m, kiln_arena *a);

/*
 * Appends a pair (the slices are stored, not copied: they must live as
 * long as m). Returns KILN_OK or KILN_ENOMEM.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_kvs_add(kiln_kvs *m, kiln_str key,
    kiln_str val);

/* Replaces every pair named key with one pair (appended if absent). */
KILN_API KILN_WARN_UNUSED kiln_err kiln_kvs_set(kiln_kvs *m, kiln_str key,
    kiln_str val);

/* Removes every pair named key. Returns how many were removed. */
KILN_API size_t kiln_kvs_del(kiln_kvs *m, kiln_str key);

/*
 * Finds the first value named key (exact match, or ASCII case-insensitive
 * for the _case variant). Returns a pointer into m, or NULL when absent.
 */
KILN_API const kiln_str *kiln_kvs_get(const kiln_kvs *m, kiln_str key);
KILN_API const kiln_str *kiln_kvs_get_case(const kiln_kvs *m, kiln_str key);

/* Returns the number of values named key. */
KILN_API size_t kiln_kvs_count(const kiln_kvs *m, kiln_str key);

/*
 * Returns the idx-th value named key (0 is the first), or NULL. Together
 * with kiln_kvs_count this walks a multi-valued key (getlist).
 */
KILN_API const kiln_str *kiln_kvs_get_nth(const kiln_kvs *m, kiln_str key,
    size_t idx);

#ifdef __cplusplus
}
#endif
#endif /* KILN_KV_H */
