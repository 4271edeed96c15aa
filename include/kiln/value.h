/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The one dynamic value type that flows through JSON bodies and responses,
 * template contexts, sessions and the cache. Values live in an arena and
 * are never freed one by one. Maps keep insertion order (JSON objects are
 * written back in the order they were built) and, on lookup, the last
 * value set for a key wins.
 */
#ifndef KILN_VALUE_H
#define KILN_VALUE_H

#include <kiln/arena.h>
#include <kiln/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kiln_val_type {
	KILN_VAL_NULL,
	KILN_VAL_BOOL,
	KILN_VAL_INT,
	KILN_VAL_FLOAT,
	KILN_VAL_STR,  /* text, escaped when rendered */
	KILN_VAL_SAFE, /* text already safe for HTML (not escaped again) */
	KILN_VAL_LIST,
	KILN_VAL_MAP,
	KILN_VAL_DATETIME, /* a naive date and time (templates' date filters) */
	KILN_VAL__MAX
} kiln_val_type;

typedef struct kiln_val kiln_val;

/* One map entry. */
typedef struct kiln_val_pair {
	kiln_str key;  /* the key */
	kiln_val *val; /* the value, never NULL */
} kiln_val_pair;

struct kiln_val {
	kiln_val_type type; /* which member of u is used */
	union {
		bool b;	    /* KILN_VAL_BOOL */
		int64_t i;  /* KILN_VAL_INT */
		double f;   /* KILN_VAL_FLOAT */
		kiln_str s; /* KILN_VAL_STR, KILN_VAL_SAFE */
		struct {
			kiln_val **items; /* n values */
			size_t n, cap;
		} list; /* KILN_VAL_LIST */
		struct {
			kiln_val_pair *items; /* n pairs, in insertion order */
			size_t n, cap;
		} map; /* KILN_VAL_MAP */
		struct {
			int64_t secs; /* seconds since 1970-01-01T00:00:00 */
			int32_t usec; /* microseconds, 0-999999 */
		} dt; /* KILN_VAL_DATETIME, naive (no time zone) */
	} u;
	kiln_arena *a; /* owner, for lists and maps that grow */
};

/*
 * Constructors. Each returns a value in a, or NULL when out of memory.
 * String constructors copy the bytes.
 */
KILN_API kiln_val *kiln_val_null(kiln_arena *a);
KILN_API kiln_val *kiln_val_bool(kiln_arena *a, bool b);
KILN_API kiln_val *kiln_val_int(kiln_arena *a, int64_t i);
KILN_API kiln_val *kiln_val_float(kiln_arena *a, double f);
KILN_API kiln_val *kiln_val_str(kiln_arena *a, kiln_str s);
KILN_API kiln_val *kiln_val_cstr(kiln_arena *a, const char *s);
KILN_API kiln_val *kiln_val_safe(kiln_arena *a, kiln_str s);
KILN_API kiln_val *kiln_val_list(kiln_arena *a);
KILN_API kiln_val *kiln_val_map(kiln_arena *a);

/*
 * A naive datetime secs seconds (and usec microseconds, 0-999999) after
 * 1970-01-01T00:00:00, with no time zone. JSON dumps it as an ISO 8601
 * string ("2024-03-05T14:07:09", ".123456" when usec is set). NULL when
 * out of memory or usec is out of range.
 */
KILN_API kiln_val *kiln_val_datetime(kiln_arena *a, int64_t secs, int32_t usec);

/* Appends v to list. Returns KILN_OK, KILN_EINVAL (not a list) or KILN_ENOMEM.
 */
KILN_API kiln_err kiln_val_push(kiln_val *list, kiln_val *v);

/*
 * Sets key (copied) to v in map, replacing an existing entry in place.
 * Returns KILN_OK, KILN_EINVAL (not a map, or v NULL) or KILN_ENOMEM.
 */
KILN_API kiln_err kiln_val_set(kiln_val *map, const char *key, kiln_val *v);
KILN_API kiln_err kiln_val_set_str(kiln_val *map, kiln_str key, kiln_val *v);

/* Returns the value for key in map, or NULL (also when map is not a map). */
KILN_API kiln_val *kiln_val_get(const kiln_val *map, const char *key);
KILN_API kiln_val *kiln_val_get_str(const kiln_val *map, kiln_str key);

/* Returns the idx-th item of list, or NULL. */
KILN_API kiln_val *kiln_val_at(const kiln_val *list, size_t idx);

/* Returns the item count of a list or map, the byte length of a string, else 0.
 */
KILN_API size_t kiln_val_len(const kiln_val *v);

/*
 * Python truthiness: null, false, 0, 0.0, "" and empty containers are
 * false; a datetime is true.
 */
KILN_API bool kiln_val_truthy(const kiln_val *v);

/* Returns the type's name ("null", "bool", "int", ...). */
KILN_API const char *kiln_val_type_name(kiln_val_type t);

/*
 * Parses JSON text into a value in a. Limits: depth at most max_depth
 * (0: 64). Returns the value, or NULL with a message ("line 1 column 5:
 * ...") written to err (of errlen bytes, may be NULL) on malformed JSON.
 * Numbers without fraction or exponent that fit int64 become ints.
 */
KILN_API kiln_val *kiln_json_parse(kiln_arena *a, kiln_str text,
    size_t max_depth, char *err, size_t errlen);

/*
 * Serialises v as compact JSON text into a. Strings that are not valid
 * UTF-8 are an error. Returns KILN_OK, KILN_EINVAL or KILN_ENOMEM; the
 * text is in *out (NUL-terminated).
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_json_dump(kiln_arena *a,
    const kiln_val *v, kiln_str *out);

#ifdef __cplusplus
}
#endif
#endif /* KILN_VALUE_H */
