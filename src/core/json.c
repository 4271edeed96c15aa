/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * JSON text to and from kiln_val, through jansson (PLATFORM.md: JSON is
 * parsed and written by a library, not by hand). jansson allocates with
 * malloc, so its trees live only inside one call here: every path out of
 * kiln_json_parse and kiln_json_dump drops the tree with json_decref, and
 * nothing jansson owns is reachable from a kiln_val.
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
 * with map keys in insertion order. NaN and infinities are KILN_EINVAL,
 * as are strings that are not valid UTF-8 and trees nested deeper than
 * DUMP_MAX_DEPTH (which also stops a list that contains itself). A float
 * is written with the fewest significant digits that read back to the
 * same double, so 0.1 is "0.1" as in Python. jansson has a single
 * precision for a whole document, so it writes every float with 17
 * digits and shorten_reals() then rewrites each float token in its
 * output; strings and the structure are left exactly as jansson wrote
 * them. Float text assumes a '.' radix, as in the C and C.UTF-8 locales
 * (the only ones a fresh machine has).
 */
#include "config.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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

/* State of one conversion from kiln_val to jansson's tree. */
struct dump_ctx {
	kiln_err rc; /* the first error */
	bool reals;  /* a float was written: its text needs shortening */
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

/*
 * Formats the finite f into s (of REAL_MAX bytes) with the fewest
 * significant digits that read back as exactly f. Fifteen digits always
 * survive the trip through a normal double (DBL_DIG), so shorter forms
 * need not be tried: "%.15g" of a number with a shorter form already
 * prints that form (trailing zeros dropped). The text then gets jansson's
 * touches: ".0" when it would read back as an integer, and no '+' or leading
 * zeros in the exponent ("1e+07" becomes "1e7").
 */
#define REAL_MAX 40

static void
real_fmt(double f, char *s)
{
	char *e, *d;
	int p;

	/* Subnormals carry fewer digits: search them from 1. */
	for (p = fabs(f) < DBL_MIN ? 1 : 15; p < 17; p++) {
		snprintf(s, REAL_MAX, "%.*g", p, f);
		if (strtod(s, NULL) == f)
			break;
	}
	if (p == 17)
		snprintf(s, REAL_MAX, "%.17g", f);
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
 * Rewrites, in place, each float in the JSON text in b (which jansson
 * wrote with 17 digits) with real_fmt(). A number token outside strings
 * that has a '.' or an exponent is a float; "%.17g" text reads back to
 * the exact double, and the new text is never longer than the old, so
 * the write position never passes the read position.
 */
static void
shorten_reals(kiln_buf *b)
{
	char tok[REAL_MAX], out[REAL_MAX];
	size_t r, w, start, n;
	bool in_str, esc, real;
	char c;

	in_str = false;
	esc = false;
	for (r = 0, w = 0; r < b->len;) {
		c = b->ptr[r];
		if (in_str || c == '"' || (c != '-' && (c < '0' || c > '9'))) {
			if (esc)
				esc = false;
			else if (in_str && c == '\\')
				esc = true;
			else if (c == '"')
				in_str = !in_str;
			b->ptr[w++] = b->ptr[r++];
			continue;
		}
		start = r;
		real = false;
		while (r < b->len && b->ptr[r] != '\0' &&
		    strchr("+-.0123456789eE", b->ptr[r]) != NULL) {
			if (strchr(".eE", b->ptr[r]) != NULL)
				real = true;
			r++;
		}
		n = r - start;
		if (real && n < sizeof(tok)) {
			memcpy(tok, b->ptr + start, n);
			tok[n] = '\0';
			real_fmt(strtod(tok, NULL), out);
			if (strlen(out) <= n) {
				memcpy(b->ptr + w, out, strlen(out));
				w += strlen(out);
				continue;
			}
		}
		memmove(b->ptr + w, b->ptr + start, n);
		w += n;
	}
	b->len = w;
	b->ptr[w] = '\0';
}

static json_t *out_value(struct dump_ctx *o, const kiln_val *v, size_t depth);

/* Converts a list or map; NULL with o->rc set on failure. */
static json_t *
out_container(struct dump_ctx *o, const kiln_val *v, size_t depth)
{
	const kiln_val_pair *pr;
	json_t *j, *item;
	size_t i;

	if (depth > DUMP_MAX_DEPTH) {
		o->rc = KILN_EINVAL;
		return NULL;
	}
	j = v->type == KILN_VAL_LIST ? json_array() : json_object();
	if (j == NULL) {
		o->rc = KILN_ENOMEM;
		return NULL;
	}
	for (i = 0; i < kiln_val_len(v); i++) {
		if (v->type == KILN_VAL_LIST) {
			item = out_value(o, v->u.list.items[i], depth);
			if (item == NULL || json_array_append_new(j, item) != 0)
				goto err;
			continue;
		}
		pr = &v->u.map.items[i];
		if ((pr->key.ptr == NULL && pr->key.len > 0) ||
		    !kiln_utf8_valid(pr->key)) {
			o->rc = KILN_EINVAL;
			goto err;
		}
		item = out_value(o, pr->val, depth);
		if (item == NULL ||
		    json_object_setn_new_nocheck(j,
			pr->key.ptr != NULL ? pr->key.ptr : "", pr->key.len,
			item) != 0)
			goto err;
	}
	return j;
err:
	if (o->rc == KILN_OK)
		o->rc = KILN_ENOMEM;
	json_decref(j);
	return NULL;
}

/*
 * Returns a datetime as an ISO 8601 string ("2024-03-05T14:07:09", with
 * ".123456" when it has microseconds), using the proleptic Gregorian
 * calendar (days-from-civil inverted, as in Howard Hinnant's algorithm).
 */
static json_t *
out_datetime(const kiln_val *v)
{
	char buf[64];
	kiln__date t;

	kiln__date_from_unix(v->u.dt.secs, &t);
	if (v->u.dt.usec != 0)
		snprintf(buf, sizeof(buf),
		    "%04lld-%02d-%02dT%02d:%02d:%02d.%06d", (long long)t.year,
		    t.mon, t.day, t.hour, t.min, t.sec, (int)v->u.dt.usec);
	else
		snprintf(buf, sizeof(buf), "%04lld-%02d-%02dT%02d:%02d:%02d",
		    (long long)t.year, t.mon, t.day, t.hour, t.min, t.sec);
	return json_string(buf);
}

/*
 * Converts one value at depth (containers around it). On failure returns
 * NULL and leaves the reason in o->rc; what was built is released.
 */
static json_t *
out_value(struct dump_ctx *o, const kiln_val *v, size_t depth)
{
	json_t *j;

	if (v == NULL) {
		o->rc = KILN_EINVAL;
		return NULL;
	}
	switch (v->type) {
	case KILN_VAL_NULL:
		j = json_null();
		break;
	case KILN_VAL_BOOL:
		j = json_boolean(v->u.b);
		break;
	case KILN_VAL_INT:
		j = json_integer((json_int_t)v->u.i);
		break;
	case KILN_VAL_FLOAT:
		if (!isfinite(v->u.f)) {
			o->rc = KILN_EINVAL;
			return NULL;
		}
		j = json_real(v->u.f);
		o->reals = true;
		break;
	case KILN_VAL_STR:
	case KILN_VAL_SAFE:
		if ((v->u.s.ptr == NULL && v->u.s.len > 0) ||
		    !kiln_utf8_valid(v->u.s)) {
			o->rc = KILN_EINVAL;
			return NULL;
		}
		j = json_stringn_nocheck(v->u.s.ptr != NULL ? v->u.s.ptr : "",
		    v->u.s.len);
		break;
	case KILN_VAL_LIST:
	case KILN_VAL_MAP:
		return out_container(o, v, depth + 1);
	case KILN_VAL_DATETIME:
		j = out_datetime(v);
		break;
	default:
		o->rc = KILN_EINVAL;
		return NULL;
	}
	if (j == NULL)
		o->rc = KILN_ENOMEM;
	return j;
}

/* json_dump_callback's sink: appends to the kiln_buf in data. */
static int
dump_sink(const char *buffer, size_t size, void *data)
{
	return kiln_buf_append(data, buffer, size) == KILN_OK ? 0 : -1;
}

kiln_err
kiln_json_dump(kiln_arena *a, const kiln_val *v, kiln_str *out)
{
	struct dump_ctx o;
	json_t *root;
	kiln_buf b;
	size_t flags;

	*out = KILN_STR_NULL;
	o.rc = KILN_OK;
	o.reals = false;
	root = out_value(&o, v, 0);
	if (root == NULL)
		goto err;
	flags = JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(17);
	kiln_buf_init(&b, a, 64);
	if (b.oom || json_dump_callback(root, dump_sink, &b, flags) != 0 ||
	    b.oom) {
		o.rc = KILN_ENOMEM;
		goto err;
	}
	if (o.reals)
		shorten_reals(&b); /* only floats need the second pass */
	out->ptr = b.ptr;
	out->len = b.len;
err:
	json_decref(root);
	return o.rc;
}
