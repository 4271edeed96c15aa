/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * JSON text to and from kiln_val. Parsing goes through jansson, the JSON
 * library PLATFORM.md names: hostile input is parsed by it, not by hand.
 * jansson allocates with malloc, so its tree lives only inside
 * kiln_json_parse: every path out drops it with json_decref, and nothing
 * jansson owns is reachable from a kiln_val.
 *
 * Writing is done here, straight from the kiln_val tree into an arena
 * kiln_buf. It used to go through jansson too, and that cost 43% of the
 * user-space instructions of a TechEmpower "queries" request (callgrind:
 * 165k of 385k for 20 two-key objects): a malloc per node and a hash
 * table per object to build jansson's tree, a callback per token and
 * snprintf per integer to write it, a free per node, and a second pass to
 * shorten floats. Written here, the same response costs 17.7k. Writing
 * needs no grammar, only escaping, and its input is Kiln's own tree, so
 * none of the library's protection against hostile text is given up. Maps
 * never hold a key twice (kiln_val_set replaces in place), so there is
 * nothing to merge as jansson's objects did. The output is byte for byte
 * what jansson wrote (tests/unit/test_value.c compares the two on random
 * trees, and tests/fuzz/fuzz_json.c on every parsed input).
 *
 * Parsing. Any JSON value is accepted at the top level (Flask's
 * get_json() does the same). A repeated object key keeps its first
 * position and its last value, as Python's json module does. "\u0000"
 * is allowed in strings, which are length-carrying, but jansson rejects
 * it in object keys. Integers outside int64 are rejected with jansson's
 * message ("too big integer") rather than silently rounded to a float;
 * numbers whose magnitude overflows a double ("1e400") are rejected too.
 * Nesting is limited twice: by jansson's own stack guard (2048 levels)
 * while parsing, and by max_depth while converting, where the message
 * gives the position of the first bracket that is too deep.
 *
 * Writing. Output is compact ("," and ":"), UTF-8 (not ASCII-escaped),
 * with map keys in insertion order. Strings are escaped as jansson 2.14
 * does: \" \\ \b \f \n \r \t, other bytes below 0x20 as \u00XX with
 * upper case hex, '/' and DEL as they are. NaN and infinities are
 * KILN_EINVAL, as are strings and keys that are not valid UTF-8, a NULL
 * value and trees nested deeper than DUMP_MAX_DEPTH (which also stops a
 * list that contains itself). A float is written with the fewest
 * significant digits that read back to the same double, so 0.1 is "0.1"
 * as in Python (real_fmt() has the details). Float text assumes a '.'
 * radix, as in the C and C.UTF-8 locales (the only ones a fresh machine
 * has).
 */
#include "config.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <kiln/value.h>

#include "kiln_int.h"

#define JSON_DEFAULT_DEPTH 64
#define DUMP_MAX_DEPTH	   2048

/* State of one conversion from jansson's tree to kiln_val. */
struct parse_ctx {
	kiln_arena *a;	  /* where values go */
	size_t max_depth; /* deepest container allowed */
	bool too_deep;	  /* the limit was hit (else a NULL meant ENOMEM) */
};

/* Writes "line L column C: msg" to err, which may be NULL. */
static void
parse_errf(char *err, size_t errlen, int line, int col, const char *msg)
{
	if (err == NULL || errlen == 0)
		return;
	snprintf(err, errlen, "line %d column %d: %s", line, col, msg);
}

/*
 * Finds where a valid JSON text first nests deeper than max, counting
 * lines and columns as jansson does (lines from 1, columns in characters
 * from 1, so a UTF-8 continuation byte does not count). Only called
 * after jansson accepted the text, so brackets outside strings are
 * structural and the scan needs to know nothing else of the grammar.
 */
static void
depth_pos(kiln_str text, size_t max, int *line, int *col)
{
	size_t i, depth;
	bool in_str, esc;
	unsigned char c;

	depth = 0;
	in_str = false;
	esc = false;
	*line = 1;
	*col = 0;
	for (i = 0; i < text.len; i++) {
		c = (unsigned char)text.ptr[i];
		if (c == '\n' && *line < INT_MAX) {
			(*line)++;
			*col = 0;
		} else if ((c & 0xc0) != 0x80 && *col < INT_MAX) {
			(*col)++;
		}
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				return;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
}

static kiln_val *in_value(struct parse_ctx *in, json_t *j, size_t depth);

/* Copies len bytes of p into a as a NUL-terminated slice. */
static bool
key_copy(kiln_arena *a, const char *p, size_t len, kiln_str *out)
{
	char *s;

	s = kiln_arena_strndup(a, p, len);
	if (s == NULL)
		return false;
	out->ptr = s;
	out->len = len;
	return true;
}

/*
 * Converts an array or object. The item array is sized once from
 * jansson's count and filled directly: jansson already merged repeated
 * keys, so no lookup per key is needed (which would make a large object
 * quadratic).
 */
static kiln_val *
in_container(struct parse_ctx *in, json_t *j, size_t depth)
{
	kiln_val *v, *item;
	const char *key;
	json_t *jv;
	size_t i, n, klen;

	if (depth > in->max_depth) {
		in->too_deep = true;
		return NULL;
	}
	if (json_is_array(j)) {
		v = kiln_val_list(in->a);
		n = json_array_size(j);
		if (v == NULL || n == 0)
			return v;
		v->u.list.items =
		    kiln_arena_calloc(in->a, n, sizeof(kiln_val *));
		if (v->u.list.items == NULL)
			return NULL;
		v->u.list.cap = n;
		json_array_foreach(j, i, jv)
		{
			item = in_value(in, jv, depth);
			if (item == NULL)
				return NULL;
			v->u.list.items[v->u.list.n++] = item;
		}
		return v;
	}
	v = kiln_val_map(in->a);
	n = json_object_size(j);
	if (v == NULL || n == 0)
		return v;
	v->u.map.items = kiln_arena_calloc(in->a, n, sizeof(kiln_val_pair));
	if (v->u.map.items == NULL)
		return NULL;
	v->u.map.cap = n;
	json_object_keylen_foreach(j, key, klen, jv)
	{
		item = in_value(in, jv, depth);
		if (item == NULL || v->u.map.n == n)
			return NULL;
		if (!key_copy(in->a, key, klen,
			&v->u.map.items[v->u.map.n].key))
			return NULL;
		v->u.map.items[v->u.map.n++].val = item;
	}
	return v;
}

/*
 * Converts one jansson value at nesting depth (the number of containers
 * around it). Returns NULL when out of memory or too deep (in->too_deep).
 */
static kiln_val *
in_value(struct parse_ctx *in, json_t *j, size_t depth)
{
	kiln_str s;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
	case JSON_ARRAY:
		return in_container(in, j, depth + 1);
	case JSON_STRING:
		s.ptr = json_string_value(j);
		s.len = json_string_length(j);
		return kiln_val_str(in->a, s);
	case JSON_INTEGER:
		return kiln_val_int(in->a, (int64_t)json_integer_value(j));
	case JSON_REAL:
		return kiln_val_float(in->a, json_real_value(j));
	case JSON_TRUE:
		return kiln_val_bool(in->a, true);
	case JSON_FALSE:
		return kiln_val_bool(in->a, false);
	default:
		return kiln_val_null(in->a);
	}
}

kiln_val *
kiln_json_parse(kiln_arena *a, kiln_str text, size_t max_depth, char *err,
    size_t errlen)
{
	struct parse_ctx in;
	json_error_t jerr;
	json_t *root;
	kiln_val *v;
	int line, col;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	v = NULL;
	root = json_loadb(text.ptr != NULL ? text.ptr : "", text.len,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (root == NULL) {
		if (json_error_code(&jerr) == json_error_out_of_memory)
			parse_errf(err, errlen, jerr.line, jerr.column,
			    "out of memory");
		else
			parse_errf(err, errlen, jerr.line, jerr.column,
			    jerr.text);
		goto err;
	}
	in.a = a;
	in.max_depth = max_depth != 0 ? max_depth : JSON_DEFAULT_DEPTH;
	in.too_deep = false;
	v = in_value(&in, root, 0);
	if (v == NULL && in.too_deep) {
		depth_pos(text, in.max_depth, &line, &col);
		if (err != NULL && errlen > 0)
			snprintf(err, errlen,
			    "line %d column %d: nesting deeper than %zu", line,
			    col, in.max_depth);
	} else if (v == NULL && err != NULL && errlen > 0) {
		snprintf(err, errlen, "out of memory");
	}
err:
	json_decref(root);
	return v;
}

/* Room for any float's text (at most 24 bytes) and its NUL. */
#define REAL_MAX 40

/*
 * Gives "%g" text jansson's touches: ".0" when it would read back as an
 * integer, and no '+' or leading zeros in the exponent ("1e+07" becomes
 * "1e7").
 */
static void
real_touch(char *s)
{
	char *e, *d;

	e = strchr(s, 'e');
	if (e == NULL) {
		if (strchr(s, '.') == NULL)
			strcat(s, ".0");
		return;
	}
	d = e + 1;
	if (*d == '-')
		d++;
	e = d;
	while (*e == '+' || (*e == '0' && e[1] != '\0'))
		e++;
	memmove(d, e, strlen(e) + 1);
}

/*
 * Formats the finite f into s (of REAL_MAX bytes) with the fewest
 * significant digits that read back as exactly f. Fifteen digits always
 * survive the trip through a normal double (DBL_DIG), so shorter forms
 * need not be tried: "%.15g" of a number with a shorter form already
 * prints that form (trailing zeros dropped). real_touch() then gives the
 * text jansson's touches.
 *
 * One exception keeps the text Kiln wrote when jansson printed every
 * float with 17 digits and a second pass shortened each one only when
 * that made it shorter: between 1e15 and 1e17 "%.17g" writes the number
 * out in full while the shorter precisions switch to an exponent, and
 * there the full form can be the shorter text ("15904876822357220.0",
 * not "1.590487682235722e16"). Elsewhere both use the same notation and
 * the fewest digits are never longer.
 */
static void
real_fmt(double f, char *s)
{
	char full[REAL_MAX];
	int p;

	/* Subnormals carry fewer digits: search them from 1. */
	for (p = fabs(f) < DBL_MIN ? 1 : 15; p < 17; p++) {
		snprintf(s, REAL_MAX, "%.*g", p, f);
		if (strtod(s, NULL) == f)
			break;
	}
	if (p == 17)
		snprintf(s, REAL_MAX, "%.17g", f);
	real_touch(s);
	if (p < 17 && fabs(f) >= 1e15 && fabs(f) < 1e17 &&
	    strchr(s, 'e') != NULL) {
		snprintf(full, sizeof(full), "%.17g", f);
		real_touch(full);
		if (strlen(full) < strlen(s))
			memcpy(s, full, strlen(full) + 1);
	}
}

/*
 * How each byte is written inside a JSON string, as jansson 2.14's
 * dump_string() writes it: 0 copies the byte, 'u' writes "\u00XX" (upper
 * case hex), anything else is the letter after a backslash: bytes 0x00
 * to 0x1f (\b \t \n \f \r among them), then '"' and '\\'. '/' and DEL
 * are copied, and bytes of 0x80 and up pass through as UTF-8.
 */
static const char str_esc[256] = { 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b',
	't', 'n', 'u', 'f', 'r', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	'u', ['"'] = '"', ['\\'] = '\\' };

/*
 * Returns room for n more bytes at the end of b (its used length not
 * moved), or NULL when out of memory. The buffer's own check is repeated
 * inline so the common case costs a comparison, not a call.
 */
static inline char *
out_room(kiln_buf *b, size_t n)
{
	if (b->cap - b->len < n && kiln_buf_reserve(b, n) != KILN_OK)
		return NULL;
	return b->ptr + b->len;
}

/* Appends n bytes of p to b; false when out of memory. */
static inline bool
out_bytes(kiln_buf *b, const void *p, size_t n)
{
	char *w;

	if ((w = out_room(b, n)) == NULL)
		return false;
	memcpy(w, p, n);
	b->len += n;
	return true;
}

/* Appends the byte c to b; false when out of memory. */
static inline bool
out_byte(kiln_buf *b, char c)
{
	char *w;

	if ((w = out_room(b, 1)) == NULL)
		return false;
	*w = c;
	b->len++;
	return true;
}

/*
 * Writes s as a quoted JSON string. Runs of bytes that need no escape
 * are copied whole. Whether s is valid UTF-8 is checked only when it has
 * a byte of 0x80 or up, seen on the way: plain ASCII always is.
 */
static kiln_err
out_str(kiln_buf *b, kiln_str s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p, *end, *run;
	unsigned char c, high;
	char *w, e;

	if (s.len == 0)
		return out_bytes(b, "\"\"", 2) ? KILN_OK : KILN_ENOMEM;
	if (s.ptr == NULL)
		return KILN_EINVAL;
	if (!out_byte(b, '"'))
		return KILN_ENOMEM;
	p = (const unsigned char *)s.ptr;
	end = p + s.len;
	high = 0;
	for (run = p; p < end; p++) {
		c = *p;
		high |= c;
		if ((e = str_esc[c]) == 0)
			continue;
		if ((w = out_room(b, (size_t)(p - run) + 6)) == NULL)
			return KILN_ENOMEM;
		memcpy(w, run, (size_t)(p - run));
		w += p - run;
		*w++ = '\\';
		*w++ = e;
		if (e == 'u') {
			*w++ = '0';
			*w++ = '0';
			*w++ = hex[c >> 4];
			*w++ = hex[c & 0xf];
		}
		b->len = (size_t)(w - b->ptr);
		run = p + 1;
	}
	if ((w = out_room(b, (size_t)(end - run) + 1)) == NULL)
		return KILN_ENOMEM;
	memcpy(w, run, (size_t)(end - run));
	w[end - run] = '"';
	b->len += (size_t)(end - run) + 1;
	if ((high & 0x80) != 0 && !kiln_utf8_valid(s))
		return KILN_EINVAL;
	return KILN_OK;
}

/* Writes i in decimal, INT64_MIN included, without printf. */
static bool
out_int(kiln_buf *b, int64_t i)
{
	char tmp[24], *p;
	uint64_t u;

	u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
	p = tmp + sizeof(tmp);
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (i < 0)
		*--p = '-';
	return out_bytes(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

/*
 * Writes a datetime as an ISO 8601 string ("2024-03-05T14:07:09", with
 * ".123456" when it has microseconds), using the proleptic Gregorian
 * calendar (days-from-civil inverted, as in Howard Hinnant's algorithm).
 * The text is digits and punctuation only, so it needs no escaping.
 */
static bool
out_datetime(kiln_buf *b, const kiln_val *v)
{
	char buf[64];
	kiln__date t;
	int n;

	kiln__date_from_unix(v->u.dt.secs, &t);
	if (v->u.dt.usec != 0)
		n = snprintf(buf, sizeof(buf),
		    "\"%04lld-%02d-%02dT%02d:%02d:%02d.%06d\"",
		    (long long)t.year, t.mon, t.day, t.hour, t.min, t.sec,
		    (int)v->u.dt.usec);
	else
		n = snprintf(buf, sizeof(buf),
		    "\"%04lld-%02d-%02dT%02d:%02d:%02d\"", (long long)t.year,
		    t.mon, t.day, t.hour, t.min, t.sec);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return false;
	return out_bytes(b, buf, (size_t)n);
}

/*
 * Writes the finite f. Kept out of out_value() so that the text buffer is
 * not in every frame of a deep recursion.
 */
static bool
out_real(kiln_buf *b, double f)
{
	char num[REAL_MAX];

	real_fmt(f, num);
	return out_bytes(b, num, strlen(num));
}

static kiln_err out_value(kiln_buf *b, const kiln_val *v, size_t depth);

/*
 * Writes a list or map, whose items sit at depth (the containers around
 * them, this one included). A map key is checked as a string value is.
 */
static kiln_err
out_container(kiln_buf *b, const kiln_val *v, size_t depth)
{
	const kiln_val_pair *pr;
	kiln_err rc;
	size_t i, n;
	bool list;

	if (depth > DUMP_MAX_DEPTH)
		return KILN_EINVAL;
	list = v->type == KILN_VAL_LIST;
	n = list ? v->u.list.n : v->u.map.n;
	if (!out_byte(b, list ? '[' : '{'))
		return KILN_ENOMEM;
	for (i = 0; i < n; i++) {
		if (i > 0 && !out_byte(b, ','))
			return KILN_ENOMEM;
		if (list) {
			rc = out_value(b, v->u.list.items[i], depth);
		} else {
			pr = &v->u.map.items[i];
			rc = out_str(b, pr->key);
			if (rc == KILN_OK && !out_byte(b, ':'))
				rc = KILN_ENOMEM;
			if (rc == KILN_OK)
				rc = out_value(b, pr->val, depth);
		}
		if (rc != KILN_OK)
			return rc;
	}
	return out_byte(b, list ? ']' : '}') ? KILN_OK : KILN_ENOMEM;
}

/* Writes one value at depth (the number of containers around it). */
static kiln_err
out_value(kiln_buf *b, const kiln_val *v, size_t depth)
{
	bool ok;

	if (v == NULL)
		return KILN_EINVAL;
	switch (v->type) {
	case KILN_VAL_NULL:
		ok = out_bytes(b, "null", 4);
		break;
	case KILN_VAL_BOOL:
		ok =
		    v->u.b ? out_bytes(b, "true", 4) : out_bytes(b, "false", 5);
		break;
	case KILN_VAL_INT:
		ok = out_int(b, v->u.i);
		break;
	case KILN_VAL_FLOAT:
		if (!isfinite(v->u.f))
			return KILN_EINVAL;
		ok = out_real(b, v->u.f);
		break;
	case KILN_VAL_STR:
	case KILN_VAL_SAFE:
		return out_str(b, v->u.s);
	case KILN_VAL_LIST:
	case KILN_VAL_MAP:
		return out_container(b, v, depth + 1);
	case KILN_VAL_DATETIME:
		ok = out_datetime(b, v);
		break;
	default:
		return KILN_EINVAL;
	}
	return ok ? KILN_OK : KILN_ENOMEM;
}

kiln_err
kiln_json_dump(kiln_arena *a, const kiln_val *v, kiln_str *out)
{
	kiln_buf b;
	kiln_err rc;

	*out = KILN_STR_NULL;
	kiln_buf_init(&b, a, 64);
	if (b.oom)
		return KILN_ENOMEM;
	rc = out_value(&b, v, 0);
	if (rc != KILN_OK)
		return rc;
	b.ptr[b.len] = '\0';
	out->ptr = b.ptr;
	out->len = b.len;
	return KILN_OK;
}
