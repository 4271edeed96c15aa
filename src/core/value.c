/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The dynamic value type (kiln/value.h), apart from JSON (json.c). Every
 * value, string copy and container array is allocated in the arena given
 * to the constructor and recorded in the value's a member, so lists and
 * maps can grow later without the caller passing the arena again. Growth
 * doubles and copies, leaving the old array to the arena's next reset.
 *
 * A map holds each key once: kiln_val_set replaces an existing entry in
 * place, so insertion order is the order keys were first set. Lookups
 * scan from the end, so that even a map filled by hand with a repeated
 * key gives the value set last, as value.h promises.
 */
#include "config.h"

#include <stdint.h>

#include <kiln/value.h>

#include "kiln_int.h"

#define VAL_FIRST_CAP 4

static const char *const val_type_names[KILN_VAL__MAX] = {
	[KILN_VAL_NULL] = "null",
	[KILN_VAL_BOOL] = "bool",
	[KILN_VAL_INT] = "int",
	[KILN_VAL_FLOAT] = "float",
	[KILN_VAL_STR] = "str",
	[KILN_VAL_SAFE] = "safe",
	[KILN_VAL_LIST] = "list",
	[KILN_VAL_MAP] = "map",
	[KILN_VAL_DATETIME] = "datetime",
};

/* Returns a zeroed value of type t in a, or NULL. */
static kiln_val *
val_new(kiln_arena *a, kiln_val_type t)
{
	kiln_val *v;

	v = kiln_arena_calloc(a, 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	v->type = t;
	v->a = a;
	return v;
}

/* Returns a NUL-terminated copy of s in a (ptr NULL when out of memory). */
static kiln_str
val_copy(kiln_arena *a, kiln_str s)
{
	kiln_str r;
	char *p;

	r.ptr = NULL;
	r.len = 0;
	if (s.len == SIZE_MAX)
		return r;
	p = kiln_arena_alloc(a, s.len + 1);
	if (p == NULL)
		return r;
	if (s.len > 0)
		memcpy(p, s.ptr, s.len);
	p[s.len] = '\0';
	r.ptr = p;
	r.len = s.len;
	return r;
}

/*
 * Returns a new array of cap elements of size bytes in a holding the n
 * elements of old, or NULL when out of memory or when the new size would
 * overflow. The caller then doubles cap.
 */
static void *
val_grow(kiln_arena *a, const void *old, size_t n, size_t *cap, size_t size)
{
	size_t ncap;
	void *p;

	if (*cap == 0)
		ncap = VAL_FIRST_CAP;
	else if (*cap > SIZE_MAX / 2 / size)
		return NULL;
	else
		ncap = *cap * 2;
	p = kiln_arena_alloc(a, ncap * size);
	if (p == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, old, n * size);
	*cap = ncap;
	return p;
}

kiln_val *
kiln_val_null(kiln_arena *a)
{
	return val_new(a, KILN_VAL_NULL);
}

kiln_val *
kiln_val_bool(kiln_arena *a, bool b)
{
	kiln_val *v;

	v = val_new(a, KILN_VAL_BOOL);
	if (v != NULL)
		v->u.b = b;
	return v;
}

kiln_val *
kiln_val_int(kiln_arena *a, int64_t i)
{
	kiln_val *v;

	v = val_new(a, KILN_VAL_INT);
	if (v != NULL)
		v->u.i = i;
	return v;
}

kiln_val *
kiln_val_float(kiln_arena *a, double f)
{
	kiln_val *v;

	v = val_new(a, KILN_VAL_FLOAT);
	if (v != NULL)
		v->u.f = f;
	return v;
}

/* Builds a string value of type t holding a copy of s. */
static kiln_val *
val_text(kiln_arena *a, kiln_val_type t, kiln_str s)
{
	kiln_val *v;

	v = val_new(a, t);
	if (v == NULL)
		return NULL;
	v->u.s = val_copy(a, s);
	if (v->u.s.ptr == NULL)
		return NULL;
	return v;
}

kiln_val *
kiln_val_str(kiln_arena *a, kiln_str s)
{
	return val_text(a, KILN_VAL_STR, s);
}

/* A NULL s gives the empty string, as kiln_str_c does. */
kiln_val *
kiln_val_cstr(kiln_arena *a, const char *s)
{
	return val_text(a, KILN_VAL_STR, kiln_str_c(s));
}

kiln_val *
kiln_val_safe(kiln_arena *a, kiln_str s)
{
	return val_text(a, KILN_VAL_SAFE, s);
}

kiln_val *
kiln_val_list(kiln_arena *a)
{
	return val_new(a, KILN_VAL_LIST);
}

kiln_val *
kiln_val_map(kiln_arena *a)
{
	return val_new(a, KILN_VAL_MAP);
}

kiln_val *
kiln_val_datetime(kiln_arena *a, int64_t secs, int32_t usec)
{
	kiln_val *v;

	if (usec < 0 || usec > 999999)
		return NULL;
	v = val_new(a, KILN_VAL_DATETIME);
	if (v == NULL)
		return NULL;
	v->u.dt.secs = secs;
	v->u.dt.usec = usec;
	return v;
}

kiln_err
kiln_val_push(kiln_val *list, kiln_val *v)
{
	kiln_val **items;

	if (list == NULL || list->type != KILN_VAL_LIST || v == NULL)
		return KILN_EINVAL;
	if (list->u.list.n == list->u.list.cap) {
		items = val_grow(list->a, list->u.list.items, list->u.list.n,
		    &list->u.list.cap, sizeof(*items));
		if (items == NULL)
			return KILN_ENOMEM;
		list->u.list.items = items;
	}
	list->u.list.items[list->u.list.n++] = v;
	return KILN_OK;
}

/* Returns the index of the last entry named key in map, or SIZE_MAX. */
static size_t
val_find(const kiln_val *map, kiln_str key)
{
	size_t i;

	for (i = map->u.map.n; i > 0; i--) {
		if (kiln_str_eq(map->u.map.items[i - 1].key, key))
			return i - 1;
	}
	return SIZE_MAX;
}

kiln_err
kiln_val_set_str(kiln_val *map, kiln_str key, kiln_val *v)
{
	kiln_val_pair *items;
	kiln_str k;
	size_t i;

	if (map == NULL || map->type != KILN_VAL_MAP || v == NULL ||
	    (key.ptr == NULL && key.len > 0))
		return KILN_EINVAL;
	i = val_find(map, key);
	if (i != SIZE_MAX) {
		map->u.map.items[i].val = v;
		return KILN_OK;
	}
	k = val_copy(map->a, key);
	if (k.ptr == NULL)
		return KILN_ENOMEM;
	if (map->u.map.n == map->u.map.cap) {
		items = val_grow(map->a, map->u.map.items, map->u.map.n,
		    &map->u.map.cap, sizeof(*items));
		if (items == NULL)
			return KILN_ENOMEM;
		map->u.map.items = items;
	}
	map->u.map.items[map->u.map.n].key = k;
	map->u.map.items[map->u.map.n].val = v;
	map->u.map.n++;
	return KILN_OK;
}

kiln_err
kiln_val_set(kiln_val *map, const char *key, kiln_val *v)
{
	if (key == NULL)
		return KILN_EINVAL;
	return kiln_val_set_str(map, kiln_str_c(key), v);
}

kiln_val *
kiln_val_get_str(const kiln_val *map, kiln_str key)
{
	size_t i;

	if (map == NULL || map->type != KILN_VAL_MAP)
		return NULL;
	i = val_find(map, key);
	return i != SIZE_MAX ? map->u.map.items[i].val : NULL;
}

kiln_val *
kiln_val_get(const kiln_val *map, const char *key)
{
	if (key == NULL)
		return NULL;
	return kiln_val_get_str(map, kiln_str_c(key));
}

kiln_val *
kiln_val_at(const kiln_val *list, size_t idx)
{
	if (list == NULL || list->type != KILN_VAL_LIST ||
	    idx >= list->u.list.n)
		return NULL;
	return list->u.list.items[idx];
}

size_t
kiln_val_len(const kiln_val *v)
{
	if (v == NULL)
		return 0;
	switch (v->type) {
	case KILN_VAL_STR:
	case KILN_VAL_SAFE:
		return v->u.s.len;
	case KILN_VAL_LIST:
		return v->u.list.n;
	case KILN_VAL_MAP:
		return v->u.map.n;
	default:
		return 0;
	}
}

/* NaN is true, as in Python (bool(float("nan")) is True). */
bool
kiln_val_truthy(const kiln_val *v)
{
	if (v == NULL)
		return false;
	switch (v->type) {
	case KILN_VAL_NULL:
		return false;
	case KILN_VAL_BOOL:
		return v->u.b;
	case KILN_VAL_INT:
		return v->u.i != 0;
	case KILN_VAL_FLOAT:
		return v->u.f != 0.0;
	case KILN_VAL_DATETIME:
		return true;
	default:
		return kiln_val_len(v) != 0;
	}
}

const char *
kiln_val_type_name(kiln_val_type t)
{
	if ((unsigned)t >= KILN_VAL__MAX)
		return "unknown";
	return val_type_names[t];
}

void
kiln__date_from_unix(int64_t secs, kiln__date *out)
{
	int64_t days, s, z, era, doe, yoe, y, doy, mp;

	days = secs / 86400;
	s = secs % 86400;
	if (s < 0) {
		s += 86400;
		days--;
	}
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	out->day = (int)(doy - (153 * mp + 2) / 5 + 1);
	out->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	out->year = out->mon <= 2 ? y + 1 : y;
	out->hour = (int)(s / 3600);
	out->min = (int)(s / 60 % 60);
	out->sec = (int)(s % 60);
	out->days = days;
}
