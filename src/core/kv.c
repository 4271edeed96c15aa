/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The ordered multi-map of string pairs (kiln/kv.h). Pairs sit in one
 * array in insertion order; the array lives in the map's arena and
 * doubles when full. An arena cannot give memory back, so growth copies
 * into a new array and leaves the old one to the next reset: doubling
 * keeps that waste below the size of the final array. Slices are stored
 * as given, never copied. Lookups are linear scans, which are faster than
 * hashing for the few dozen pairs a request carries.
 */
#include "config.h"

#include <stdint.h>

#include <kiln/kv.h>

#define KVS_FIRST_CAP 8

void
kiln_kvs_init(kiln_kvs *m, kiln_arena *a)
{
	m->items = NULL;
	m->n = 0;
	m->cap = 0;
	m->a = a;
}

/*
 * Makes room for one more pair. The size computation is checked so that
 * a map can never wrap around to a small allocation. A map that was
 * zeroed rather than initialised has no arena and cannot grow
 * (KILN_EINVAL).
 */
static kiln_err
kvs_grow(kiln_kvs *m)
{
	kiln_kv *items;
	size_t cap;

	if (m->n < m->cap)
		return KILN_OK;
	if (m->a == NULL)
		return KILN_EINVAL;
	if (m->cap == 0)
		cap = KVS_FIRST_CAP;
	else if (m->cap > SIZE_MAX / 2 / sizeof(kiln_kv))
		return KILN_ENOMEM;
	else
		cap = m->cap * 2;
	items = kiln_arena_alloc(m->a, cap * sizeof(kiln_kv));
	if (items == NULL)
		return KILN_ENOMEM;
	if (m->n > 0)
		memcpy(items, m->items, m->n * sizeof(kiln_kv));
	m->items = items;
	m->cap = cap;
	return KILN_OK;
}

kiln_err
kiln_kvs_add(kiln_kvs *m, kiln_str key, kiln_str val)
{
	kiln_err rc;

	rc = kvs_grow(m);
	if (rc != KILN_OK)
		return rc;
	m->items[m->n].key = key;
	m->items[m->n].val = val;
	m->n++;
	return KILN_OK;
}

/*
 * The first pair named key keeps its position and takes the new value;
 * later pairs of that name are removed, like QueryDict.__setitem__.
 */
kiln_err
kiln_kvs_set(kiln_kvs *m, kiln_str key, kiln_str val)
{
	size_t i, j;
	bool found;

	found = false;
	for (i = 0, j = 0; i < m->n; i++) {
		if (kiln_str_eq(m->items[i].key, key)) {
			if (found)
				continue;
			found = true;
			m->items[i].val = val;
		}
		m->items[j++] = m->items[i];
	}
	m->n = j;
	if (found)
		return KILN_OK;
	return kiln_kvs_add(m, key, val);
}

size_t
kiln_kvs_del(kiln_kvs *m, kiln_str key)
{
	size_t i, j, removed;

	removed = 0;
	for (i = 0, j = 0; i < m->n; i++) {
		if (kiln_str_eq(m->items[i].key, key)) {
			removed++;
			continue;
		}
		m->items[j++] = m->items[i];
	}
	m->n = j;
	return removed;
}

const kiln_str *
kiln_kvs_get(const kiln_kvs *m, kiln_str key)
{
	return kiln_kvs_get_nth(m, key, 0);
}

const kiln_str *
kiln_kvs_get_case(const kiln_kvs *m, kiln_str key)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (kiln_str_caseeq(m->items[i].key, key))
			return &m->items[i].val;
	}
	return NULL;
}

size_t
kiln_kvs_count(const kiln_kvs *m, kiln_str key)
{
	size_t i, n;

	n = 0;
	for (i = 0; i < m->n; i++) {
		if (kiln_str_eq(m->items[i].key, key))
			n++;
	}
	return n;
}

const kiln_str *
kiln_kvs_get_nth(const kiln_kvs *m, kiln_str key, size_t idx)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (!kiln_str_eq(m->items[i].key, key))
			continue;
		if (idx == 0)
			return &m->items[i].val;
		idx--;
	}
	return NULL;
}
