/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The built-in filters, each a port of the filter of the same name in
 * django/template/defaultfilters.py (Django 3.2) with its quirks: which
 * filters keep safe input safe (KILN_TEMPLATE_FILTER_SAFE, Django's
 * is_safe), which turn their input into text first (@stringfilter: str()
 * of a list is its Python repr), and what they return on bad input
 * (usually "" or the input unchanged, never an error). Filters never
 * modify their input; results are allocated in the render's arena.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <kiln/kiln.h>

#include "template_int.h"

#define F_SAFE	 KILN_TEMPLATE_FILTER_SAFE
#define F_ARG	 KILN_TEMPLATE_FILTER_ARG
#define F_NO_ARG KILN_TEMPLATE_FILTER_NO_ARG

const kiln_val kiln__tpl_fail = { .type = KILN_VAL_NULL };

/* --- helpers ------------------------------------------------------------ */

/* A new string value of type t holding s (NULL on ENOMEM). */
static const kiln_val *
from_str(kiln_arena *a, kiln_str s, kiln_val_type t)
{
	kiln_val *v;

	v = kiln_arena_calloc(a, 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	v->type = t;
	v->u.s = s;
	v->a = a;
	return v;
}

/* A new string value of type t holding b's bytes (NULL on ENOMEM). */
static const kiln_val *
from_buf(kiln_arena *a, const kiln_buf *b, kiln_val_type t)
{
	if (b->oom)
		return NULL;
	return from_str(a, kiln_buf_str(b), t);
}

static const kiln_val *
from_c(kiln_arena *a, const char *s)
{
	return from_str(a, kiln_str_c(s), KILN_VAL_STR);
}

/* str(v) as a slice; the empty slice on ENOMEM (*oom set). */
static kiln_str
text_of(kiln_arena *a, const kiln_val *v, bool *oom)
{
	const kiln_val *s;

	s = kiln__tpl_to_str(a, v);
	if (s == NULL) {
		*oom = true;
		return KILN_STR("");
	}
	return s->u.s;
}

/* Python's int() of a string: optional sign, digits, single '_' between. */
static bool
py_int_str(kiln_str s, int64_t *out)
{
	size_t i = 0;
	bool neg = false, digit = false;
	uint64_t r = 0;

	s = tpl_strip(s);
	if (s.len > 0 && (s.ptr[0] == '+' || s.ptr[0] == '-')) {
		neg = s.ptr[0] == '-';
		i++;
	}
	for (; i < s.len; i++) {
		if (s.ptr[i] == '_' && digit && i + 1 < s.len &&
		    isdigit((unsigned char)s.ptr[i + 1]))
			continue;
		if (!isdigit((unsigned char)s.ptr[i]))
			return false;
		if (r > (uint64_t)INT64_MAX / 10)
			return false;
		r = r * 10 + (uint64_t)(s.ptr[i] - '0');
		digit = true;
	}
	if (!digit || r > (uint64_t)INT64_MAX)
		return false;
	*out = neg ? -(int64_t)r : (int64_t)r;
	return true;
}

/* Python's int(v): ints, bools, floats (truncated) and numeric text. */
static bool
py_int(const kiln_val *v, int64_t *out)
{
	switch (v->type) {
	case KILN_VAL_INT:
		*out = v->u.i;
		return true;
	case KILN_VAL_BOOL:
		*out = v->u.b;
		return true;
	case KILN_VAL_FLOAT:
		if (!isfinite(v->u.f) || fabs(v->u.f) > 9.2e18)
			return false;
		*out = (int64_t)v->u.f;
		return true;
	case KILN_VAL_STR:
	case KILN_VAL_SAFE:
		return py_int_str(v->u.s, out);
	default:
		return false;
	}
}

/* Python's float(v). */
static bool
py_float(const kiln_val *v, double *out)
{
	char buf[128], *end;
	kiln_str s;
	size_t i, n = 0;

	switch (v->type) {
	case KILN_VAL_INT:
		*out = (double)v->u.i;
		return true;
	case KILN_VAL_BOOL:
		*out = v->u.b;
		return true;
	case KILN_VAL_FLOAT:
		*out = v->u.f;
		return true;
	case KILN_VAL_STR:
	case KILN_VAL_SAFE:
		break;
	default:
		return false;
	}
	s = tpl_strip(v->u.s);
	if (s.len == 0 || s.len >= sizeof(buf))
		return false;
	for (i = 0; i < s.len; i++) {
		if (s.ptr[i] == '_')
			continue;
		if (strchr("0123456789.eE+-infatyINFATY", s.ptr[i]) == NULL ||
		    s.ptr[i] == '\0')
			return false;
		buf[n++] = s.ptr[i];
	}
	buf[n] = '\0';
	if (strchr(buf, 'x') != NULL || strchr(buf, 'X') != NULL)
		return false;
	*out = strtod(buf, &end);
	return *end == '\0';
}

/* --- text filters -------------------------------------------------------- */

static const kiln_val *
f_force_escape(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	kiln_buf b;
	bool oom = false;
	kiln_str s;

	(void)arg;
	(void)ae;
	s = text_of(a, v, &oom);
	kiln_buf_init(&b, a, s.len + 16);
	kiln__tpl_escape(&b, s);
	return oom ? NULL : from_buf(a, &b, KILN_VAL_SAFE);
}

/* escape is force_escape, except that safe text is left as it is. */
static const kiln_val *
f_escape(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	if (v->type == KILN_VAL_SAFE)
		return v;
	return f_force_escape(a, v, arg, ae);
}

static const kiln_val *
f_safe(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	bool oom = false;
	kiln_str s;

	(void)arg;
	(void)ae;
	s = text_of(a, v, &oom);
	return oom ? NULL : from_str(a, s, KILN_VAL_SAFE);
}

/*
 * A writable copy of str(v), with its length in *s, for the filters that
 * change letters in place (upper, lower, title, capfirst). NULL on ENOMEM.
 */
static char *
text_copy(kiln_arena *a, const kiln_val *v, kiln_str *s)
{
	bool oom = false;

	*s = text_of(a, v, &oom);
	if (oom)
		return NULL;
	return kiln_arena_strndup(a, s->ptr != NULL ? s->ptr : "", s->len);
}

/* upper/lower: ASCII case mapping (documented difference for non-ASCII). */
static const kiln_val *
change_case(kiln_arena *a, const kiln_val *v, bool up)
{
	kiln_str s;
	char *p;
	size_t i;

	p = text_copy(a, v, &s);
	if (p == NULL)
		return NULL;
	for (i = 0; i < s.len; i++)
		p[i] = (char)(up ? toupper((unsigned char)p[i]) :
				   tolower((unsigned char)p[i]));
	return from_str(a, (kiln_str){ p, s.len }, KILN_VAL_STR);
}

static const kiln_val *
f_upper(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	(void)arg;
	(void)ae;
	return change_case(a, v, true);
}

static const kiln_val *
f_lower(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	(void)arg;
	(void)ae;
	return change_case(a, v, false);
}

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Python's str.title(), then Django's fixes after apostrophes and digits. */
static const kiln_val *
f_title(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	bool prev = false;
	kiln_str s;
	char *p;
	size_t i;

	(void)arg;
	(void)ae;
	p = text_copy(a, v, &s);
	if (p == NULL)
		return NULL;
	for (i = 0; i < s.len; i++) {
		if (is_alpha((unsigned char)p[i])) {
			p[i] = (char)(prev ? tolower((unsigned char)p[i]) :
					     toupper((unsigned char)p[i]));
			prev = true;
		} else {
			prev = (unsigned char)p[i] >= 0x80;
		}
	}
	for (i = 0; i + 2 < s.len; i++)
		if (islower((unsigned char)p[i]) && p[i + 1] == '\'' &&
		    isupper((unsigned char)p[i + 2]))
			p[i + 2] = (char)tolower((unsigned char)p[i + 2]);
	for (i = 0; i + 1 < s.len; i++)
		if (isdigit((unsigned char)p[i]) &&
		    isupper((unsigned char)p[i + 1]))
			p[i + 1] = (char)tolower((unsigned char)p[i + 1]);
	return from_str(a, (kiln_str){ p, s.len }, KILN_VAL_STR);
}

static const kiln_val *
f_capfirst(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	kiln_str s;
	char *p;

	(void)arg;
	(void)ae;
	p = text_copy(a, v, &s);
	if (p == NULL)
		return NULL;
	if (s.len > 0)
		p[0] = (char)toupper((unsigned char)p[0]);
	return from_str(a, (kiln_str){ p, s.len }, KILN_VAL_STR);
}

/*
 * Counts the words of s (runs without tpl_space(), as in str.split()),
 * stopping once there are more than most.
 */
static size_t
count_words(kiln_str s, uint64_t most)
{
	size_t i, n = 0;

	for (i = 0; i < s.len && n <= most; i++)
		if (!tpl_space(s.ptr[i]) && (i == 0 || tpl_space(s.ptr[i - 1])))
			n++;
	return n;
}

/*
 * The start of truncatechars and truncatewords (Django's @stringfilter,
 * then int(arg)): str(v) into *s and the length into *len. Returns false
 * when the filter is already done, with its result in *res: NULL on
 * ENOMEM, or the text unchanged when arg is not an integer.
 */
static bool
trunc_args(kiln_arena *a, const kiln_val *v, const kiln_val *arg, kiln_str *s,
    int64_t *len, const kiln_val **res)
{
	bool oom = false;

	*s = text_of(a, v, &oom);
	if (oom) {
		*res = NULL;
		return false;
	}
	if (!py_int(arg, len)) {
		*res = from_str(a, *s, KILN_VAL_STR);
		return false;
	}
	return true;
}

static const kiln_val *
f_truncatechars(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	const kiln_val *res;
	kiln_str s;
	int64_t len;
	size_t n, keep;
	kiln_buf b;

	(void)ae;
	if (!trunc_args(a, v, arg, &s, &len, &res))
		return res;
	n = kiln__tpl_utf8_len(s);
	if (len >= 0 && (uint64_t)n <= (uint64_t)len)
		return from_str(a, s, KILN_VAL_STR);
	keep = len > 1 ? (size_t)len - 1 : 0;
	kiln_buf_init(&b, a, s.len + 4);
	tpl_put(&b, s.ptr, kiln__tpl_utf8_off(s, keep));
	kiln_buf_append_c(&b, "\xe2\x80\xa6");
	return from_buf(a, &b, KILN_VAL_STR);
}

static const kiln_val *
f_truncatewords(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	const kiln_val *res;
	kiln_str s;
	int64_t len;
	size_t i, nw, take, w, limit, start;
	kiln_buf b;

	(void)ae;
	if (!trunc_args(a, v, arg, &s, &len, &res))
		return res;
	/* Count words, stopping once it is known there are more than len. */
	nw = count_words(s, len < 0 ? UINT64_MAX : (uint64_t)len);
	/* words[:len] with Python's slice rules. */
	if (len >= 0)
		take = (uint64_t)len < nw ? (size_t)len : nw;
	else
		take = (uint64_t)(-len) < nw ? nw - (size_t)(-len) : 0;
	limit = (int64_t)nw > len ? take : nw;
	kiln_buf_init(&b, a, s.len + 8);
	w = 0;
	for (i = 0; i < s.len && w < limit; i++) {
		if (tpl_space(s.ptr[i]))
			continue;
		if (w > 0)
			tpl_putc(&b, ' ');
		start = i;
		while (i < s.len && !tpl_space(s.ptr[i]))
			i++;
		tpl_put(&b, s.ptr + start, i - start);
		w++;
	}
	if ((int64_t)nw > len)
		kiln_buf_append_c(&b, " \xe2\x80\xa6");
	return from_buf(a, &b, KILN_VAL_STR);
}

/* Appends v to b as conditional_escape does. */
static void
cond_escape(kiln_arena *a, kiln_buf *b, const kiln_val *v, bool *oom)
{
	kiln_str s;

	if (v->type == KILN_VAL_SAFE) {
		kiln_buf_append_str(b, v->u.s);
		return;
	}
	s = text_of(a, v, oom);
	kiln__tpl_escape(b, s);
}

static const kiln_val *
f_join(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	kiln_buf b, sep;
	bool oom = false;
	size_t i, off, end;
	const kiln_val *item;

	kiln_buf_init(&sep, a, 16);
	cond_escape(a, &sep, arg, &oom);
	kiln_buf_init(&b, a, 64);
	if (v->type == KILN_VAL_LIST) {
		for (i = 0; i < v->u.list.n; i++) {
			item = v->u.list.items[i];
			if (!ae && !tpl_is_text(item))
				return v;
			if (i > 0)
				kiln_buf_append_str(&b, kiln_buf_str(&sep));
			if (ae)
				cond_escape(a, &b, item, &oom);
			else
				kiln_buf_append_str(&b, item->u.s);
		}
	} else if (tpl_is_text(v)) {
		for (off = 0, i = 0; off < v->u.s.len; off = end, i++) {
			end = kiln__tpl_utf8_next(v->u.s, off);
			if (i > 0)
				kiln_buf_append_str(&b, kiln_buf_str(&sep));
			if (ae && v->type != KILN_VAL_SAFE)
				kiln__tpl_escape(&b,
				    (kiln_str){ v->u.s.ptr + off, end - off });
			else
				tpl_put(&b, v->u.s.ptr + off, end - off);
		}
	} else if (v->type == KILN_VAL_MAP) {
		for (i = 0; i < v->u.map.n; i++) {
			if (i > 0)
				kiln_buf_append_str(&b, kiln_buf_str(&sep));
			if (ae)
				kiln__tpl_escape(&b, v->u.map.items[i].key);
			else
				kiln_buf_append_str(&b, v->u.map.items[i].key);
		}
	} else {
		return v;
	}
	return oom ? NULL : from_buf(a, &b, KILN_VAL_SAFE);
}

static const kiln_val *
f_default(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	(void)a;
	(void)ae;
	return kiln_val_truthy(v) ? v : arg;
}

static const kiln_val *
f_default_if_none(kiln_arena *a, const kiln_val *v, const kiln_val *arg,
    bool ae)
{
	(void)a;
	(void)ae;
	return v->type == KILN_VAL_NULL ? arg : v;
}

static const kiln_val *
f_length(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	(void)arg;
	(void)ae;
	if (tpl_is_text(v))
		return kiln_val_int(a, (int64_t)kiln__tpl_utf8_len(v->u.s));
	return kiln_val_int(a, (int64_t)kiln_val_len(v));
}

static const kiln_val *
f_wordcount(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	bool oom = false;
	kiln_str s;

	(void)arg;
	(void)ae;
	s = text_of(a, v, &oom);
	if (oom)
		return NULL;
	return kiln_val_int(a, (int64_t)count_words(s, UINT64_MAX));
}

/* The idx-th code point of s as a string value. */
static const kiln_val *
char_at(kiln_arena *a, kiln_str s, size_t idx)
{
	size_t off, end;

	off = kiln__tpl_utf8_off(s, idx);
	end = kiln__tpl_utf8_off(s, idx + 1);
	return from_str(a, (kiln_str){ s.ptr + off, end - off }, KILN_VAL_STR);
}

static const kiln_val *
first_last(kiln_arena *a, const kiln_val *v, bool last)
{
	size_t n;

	if (v->type == KILN_VAL_LIST) {
		if (v->u.list.n == 0)
			return from_c(a, "");
		return v->u.list.items[last ? v->u.list.n - 1 : 0];
	}
	if (tpl_is_text(v)) {
		n = kiln__tpl_utf8_len(v->u.s);
		if (n == 0)
			return from_c(a, "");
		return char_at(a, v->u.s, last ? n - 1 : 0);
	}
	if (v->type == KILN_VAL_MAP)
		return &kiln__tpl_fail; /* Python: KeyError on d[0] */
	return from_c(a, "");
}

static const kiln_val *
f_first(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	(void)arg;
	(void)ae;
	return first_last(a, v, false);
}

static const kiln_val *
f_last(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	(void)arg;
	(void)ae;
	return first_last(a, v, true);
}

/*
 * One bound of slice.indices() for a sequence of length n: def when it
 * is None (has false), else counted from the end when negative and
 * clamped to [lo, hi].
 */
static int64_t
slice_bound(bool has, int64_t x, int64_t n, int64_t lo, int64_t hi, int64_t def)
{
	if (!has)
		return def;
	if (x < 0)
		x += n;
	if (x < lo)
		x = lo;
	if (x > hi)
		x = hi;
	return x;
}

/*
 * Python's slice.indices(): normalises start/stop for a sequence of
 * length n and step (not 0). has_* false means None.
 */
static void
slice_indices(int64_t n, bool has_start, int64_t start, bool has_stop,
    int64_t stop, int64_t step, int64_t *ostart, int64_t *ostop)
{
	int64_t lo = step < 0 ? -1 : 0, hi = step < 0 ? n - 1 : n;

	*ostart = slice_bound(has_start, start, n, lo, hi, step < 0 ? hi : lo);
	*ostop = slice_bound(has_stop, stop, n, lo, hi, step < 0 ? lo : hi);
}

static const kiln_val *
f_slice(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	int64_t vals[3] = { 0, 0, 1 }, n, start, stop, i;
	bool has[3] = { false, false, false }, oom = false;
	kiln_str s, bit;
	size_t nb = 0, p, q, off, *offs;
	kiln_val *l;
	kiln_buf b;

	(void)ae;
	s = text_of(a, arg, &oom);
	if (oom)
		return NULL;
	for (p = 0;; p = q + 1) {
		for (q = p; q < s.len && s.ptr[q] != ':'; q++)
			;
		if (nb == 3)
			return v;
		bit.ptr = s.ptr + p;
		bit.len = q - p;
		if (bit.len > 0) {
			if (!py_int_str(bit, &vals[nb]))
				return v;
			has[nb] = true;
		}
		nb++;
		if (q >= s.len)
			break;
	}
	if (nb == 1) {
		/* slice(x) is slice(None, x). */
		vals[1] = vals[0];
		has[1] = has[0];
		has[0] = false;
	}
	if (!has[2])
		vals[2] = 1;
	if (vals[2] == 0)
		return v;
	if (v->type == KILN_VAL_LIST)
		n = (int64_t)v->u.list.n;
	else if (tpl_is_text(v))
		n = (int64_t)kiln__tpl_utf8_len(v->u.s);
	else
		return v;
	slice_indices(n, has[0], vals[0], has[1], vals[1], vals[2], &start,
	    &stop);
	if (v->type == KILN_VAL_LIST) {
		l = kiln_val_list(a);
		if (l == NULL)
			return NULL;
		for (i = start; vals[2] > 0 ? i < stop : i > stop; i += vals[2])
			if (kiln_val_push(l, v->u.list.items[i]) != KILN_OK)
				return NULL;
		return l;
	}
	/* Code point offsets once, so slicing stays linear. */
	offs = kiln_arena_alloc(a, ((size_t)n + 1) * sizeof(*offs));
	if (offs == NULL)
		return NULL;
	for (off = 0, i = 0; off < v->u.s.len; i++) {
		offs[i] = off;
		off = kiln__tpl_utf8_next(v->u.s, off);
	}
	offs[n] = v->u.s.len;
	kiln_buf_init(&b, a, v->u.s.len + 1);
	for (i = start; vals[2] > 0 ? i < stop : i > stop; i += vals[2])
		tpl_put(&b, v->u.s.ptr + offs[i], offs[i + 1] - offs[i]);
	return from_buf(a, &b, KILN_VAL_STR);
}

static const kiln_val *
f_cut(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	bool oom = false;
	kiln_str s, c;
	kiln_buf b;
	size_t i;
	const char *hit;

	(void)ae;
	s = text_of(a, v, &oom);
	c = text_of(a, arg, &oom);
	if (oom)
		return NULL;
	if (c.len == 0)
		return from_str(a, s, KILN_VAL_STR);
	kiln_buf_init(&b, a, s.len + 1);
	for (i = 0; i < s.len;) {
		hit = memmem(s.ptr + i, s.len - i, c.ptr, c.len);
		if (hit == NULL) {
			tpl_put(&b, s.ptr + i, s.len - i);
			break;
		}
		tpl_put(&b, s.ptr + i, (size_t)(hit - (s.ptr + i)));
		i = (size_t)(hit - s.ptr) + c.len;
	}
	return from_buf(a, &b, KILN_VAL_STR);
}

/* --- dates -----------------------------------------------------------------
 */

static const kiln_val *
date_common(kiln_arena *a, const kiln_val *v, const kiln_val *arg,
    const char *def, bool time_only)
{
	kiln_buf b;
	kiln_str fmt;
	bool oom = false;

	if (v->type != KILN_VAL_DATETIME)
		return from_c(a, "");
	fmt = arg != NULL ? text_of(a, arg, &oom) : kiln_str_c(def);
	if (oom)
		return NULL;
	if (fmt.len == 0)
		fmt = kiln_str_c(def);
	kiln_buf_init(&b, a, 32);
	if (!kiln__tpl_datefmt(&b, v, fmt, time_only))
		return from_c(a, "");
	return from_buf(a, &b, KILN_VAL_STR);
}

static const kiln_val *
f_date(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	(void)ae;
	return date_common(a, v, arg, "N j, Y", false);
}

static const kiln_val *
f_time(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	(void)ae;
	return date_common(a, v, arg, "P", true);
}

/* --- HTML --------------------------------------------------------------- */

/*
 * str(v) after normalize_newlines (\r\n and \r become \n), the text
 * linebreaks and linebreaksbr start from; *oom set on ENOMEM.
 */
static kiln_str
lines_of(kiln_arena *a, const kiln_val *v, bool *oom)
{
	kiln_buf b;
	kiln_str s;
	size_t i;

	s = text_of(a, v, oom);
	if (memchr(s.ptr, '\r', s.len) == NULL)
		return s;
	kiln_buf_init(&b, a, s.len + 1);
	for (i = 0; i < s.len; i++) {
		if (s.ptr[i] == '\r') {
			tpl_putc(&b, '\n');
			if (i + 1 < s.len && s.ptr[i + 1] == '\n')
				i++;
		} else {
			tpl_putc(&b, s.ptr[i]);
		}
	}
	if (b.oom)
		*oom = true;
	return kiln_buf_str(&b);
}

/* Appends s, escaped when esc, with every \n turned into <br>. */
static void
append_br(kiln_buf *b, kiln_str s, bool esc)
{
	size_t i, start = 0;

	for (i = 0; i <= s.len; i++) {
		if (i < s.len && s.ptr[i] != '\n')
			continue;
		if (esc)
			kiln__tpl_escape(b,
			    (kiln_str){ s.ptr + start, i - start });
		else
			tpl_put(b, s.ptr + start, i - start);
		if (i < s.len)
			kiln_buf_append_c(b, "<br>");
		start = i + 1;
	}
}

static const kiln_val *
f_linebreaks(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	bool oom = false, esc = ae && v->type != KILN_VAL_SAFE;
	kiln_str s;
	kiln_buf b;
	size_t i, start = 0, j;
	bool firstp = true;

	(void)arg;
	s = lines_of(a, v, &oom);
	if (oom)
		return NULL;
	kiln_buf_init(&b, a, s.len + 32);
	for (i = 0; i <= s.len; i++) {
		if (i < s.len &&
		    !(s.ptr[i] == '\n' && i + 1 < s.len &&
			s.ptr[i + 1] == '\n'))
			continue;
		/* A paragraph ends at a run of two or more newlines. */
		if (!firstp)
			kiln_buf_append_c(&b, "\n\n");
		firstp = false;
		kiln_buf_append_c(&b, "<p>");
		append_br(&b, (kiln_str){ s.ptr + start, i - start }, esc);
		kiln_buf_append_c(&b, "</p>");
		for (j = i; j < s.len && s.ptr[j] == '\n'; j++)
			;
		start = j;
		i = j - 1;
		if (j >= s.len)
			break;
	}
	return from_buf(a, &b, KILN_VAL_SAFE);
}

static const kiln_val *
f_linebreaksbr(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	bool oom = false, esc = ae && v->type != KILN_VAL_SAFE;
	kiln_str s;
	kiln_buf b;

	(void)arg;
	s = lines_of(a, v, &oom);
	if (oom)
		return NULL;
	kiln_buf_init(&b, a, s.len + 32);
	append_br(&b, s, esc);
	return from_buf(a, &b, KILN_VAL_SAFE);
}

/*
 * strip_tags: removes what Python's HTMLParser sees as markup (tags,
 * comments, declarations, processing instructions), repeating while
 * that changes the text, as django.utils.html.strip_tags does.
 */
static kiln_str
strip_once(kiln_arena *a, kiln_str s, bool *oom)
{
	kiln_buf b;
	size_t i = 0, j;
	char q;
	unsigned char c;
	const char *e;

	kiln_buf_init(&b, a, s.len + 1);
	while (i < s.len) {
		if (s.ptr[i] != '<' || i + 1 >= s.len) {
			tpl_putc(&b, s.ptr[i++]);
			continue;
		}
		c = (unsigned char)s.ptr[i + 1];
		if (i + 3 < s.len && memcmp(s.ptr + i, "<!--", 4) == 0) {
			e = memmem(s.ptr + i + 4, s.len - i - 4, "-->", 3);
			if (e == NULL)
				break;
			i = (size_t)(e - s.ptr) + 3;
			continue;
		}
		if (!is_alpha(c) && c != '/' && c != '!' && c != '?') {
			tpl_putc(&b, s.ptr[i++]);
			continue;
		}
		for (j = i + 1, q = 0; j < s.len; j++) {
			if (q != 0) {
				if (s.ptr[j] == q)
					q = 0;
			} else if (s.ptr[j] == '"' || s.ptr[j] == '\'') {
				if (is_alpha(c) && j > i + 1 &&
				    (s.ptr[j - 1] == '=' ||
					tpl_space(s.ptr[j - 1])))
					q = s.ptr[j];
			} else if (s.ptr[j] == '>') {
				break;
			}
		}
		if (j >= s.len) {
			/* An unterminated tag at the end stays text. */
			tpl_put(&b, s.ptr + i, s.len - i);
			break;
		}
		i = j + 1;
	}
	if (b.oom)
		*oom = true;
	return kiln_buf_str(&b);
}

static size_t
count_lt(kiln_str s)
{
	size_t i, n = 0;

	for (i = 0; i < s.len; i++)
		n += s.ptr[i] == '<';
	return n;
}

static const kiln_val *
f_striptags(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	bool oom = false;
	kiln_str s, ns;
	int guard = 0;

	(void)arg;
	(void)ae;
	s = text_of(a, v, &oom);
	while (!oom && memchr(s.ptr, '<', s.len) != NULL &&
	    memchr(s.ptr, '>', s.len) != NULL && guard++ < 100) {
		ns = strip_once(a, s, &oom);
		if (count_lt(ns) == count_lt(s)) {
			break;
		}
		s = ns;
	}
	return oom ? NULL : from_str(a, s, KILN_VAL_STR);
}

static const kiln_val *
f_urlencode(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	static const char hex[] = "0123456789ABCDEF";
	bool oom = false;
	kiln_str s, safe = KILN_STR("/");
	kiln_buf b;
	size_t i;
	unsigned char c;

	(void)ae;
	s = text_of(a, v, &oom);
	if (arg != NULL)
		safe = text_of(a, arg, &oom);
	if (oom)
		return NULL;
	kiln_buf_init(&b, a, s.len * 3 + 1);
	for (i = 0; i < s.len; i++) {
		c = (unsigned char)s.ptr[i];
		if (isalnum(c) || c == '_' || c == '.' || c == '-' ||
		    c == '~' || (c < 0x80 && memchr(safe.ptr, c, safe.len))) {
			tpl_putc(&b, (char)c);
		} else {
			tpl_putc(&b, '%');
			tpl_putc(&b, hex[c >> 4]);
			tpl_putc(&b, hex[c & 15]);
		}
	}
	return from_buf(a, &b, KILN_VAL_STR);
}

static const kiln_val *
f_escapejs(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	bool oom = false;
	kiln_str s;
	kiln_buf b;
	size_t i;
	unsigned char c;

	(void)arg;
	(void)ae;
	s = text_of(a, v, &oom);
	if (oom)
		return NULL;
	kiln_buf_init(&b, a, s.len * 2 + 1);
	for (i = 0; i < s.len; i++) {
		c = (unsigned char)s.ptr[i];
		if (c < 0x20 || strchr("\\'\"><&=-;`", c) != NULL) {
			kiln_buf_printf(&b, "\\u%04X", c);
		} else if (c == 0xE2 && i + 2 < s.len &&
		    (unsigned char)s.ptr[i + 1] == 0x80 &&
		    ((unsigned char)s.ptr[i + 2] == 0xA8 ||
			(unsigned char)s.ptr[i + 2] == 0xA9)) {
			kiln_buf_printf(&b, "\\u%04X",
			    0x2000 + (unsigned char)s.ptr[i + 2] - 0x80);
			i += 2;
		} else {
			tpl_putc(&b, (char)c);
		}
	}
	return from_buf(a, &b, KILN_VAL_SAFE);
}

static const kiln_val *
f_json_script(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	kiln_buf j, b;
	bool oom = false;
	size_t i;

	(void)ae;
	kiln_buf_init(&j, a, 64);
	kiln__tpl_json(&j, v, 0);
	kiln_buf_init(&b, a, j.len + 64);
	kiln_buf_append_c(&b, "<script id=\"");
	cond_escape(a, &b, arg, &oom);
	kiln_buf_append_c(&b, "\" type=\"application/json\">");
	for (i = 0; i < j.len; i++) {
		if (j.ptr[i] == '>')
			kiln_buf_append_c(&b, "\\u003E");
		else if (j.ptr[i] == '<')
			kiln_buf_append_c(&b, "\\u003C");
		else if (j.ptr[i] == '&')
			kiln_buf_append_c(&b, "\\u0026");
		else
			tpl_putc(&b, j.ptr[i]);
	}
	kiln_buf_append_c(&b, "</script>");
	if (oom || j.oom)
		return NULL;
	return from_buf(a, &b, KILN_VAL_SAFE);
}

/* --- numbers -------------------------------------------------------------- */

static const kiln_val *
f_add(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	int64_t x, y;
	kiln_val *l;
	kiln_buf b;
	size_t i;

	(void)ae;
	if (py_int(v, &x) && py_int(arg, &y) &&
	    !__builtin_add_overflow(x, y, &x))
		return kiln_val_int(a, x);
	if (tpl_is_text(v) && tpl_is_text(arg)) {
		kiln_buf_init(&b, a, v->u.s.len + arg->u.s.len + 1);
		kiln_buf_append_str(&b, v->u.s);
		kiln_buf_append_str(&b, arg->u.s);
		return from_buf(a, &b,
		    v->type == KILN_VAL_SAFE && arg->type == KILN_VAL_SAFE ?
			KILN_VAL_SAFE :
			KILN_VAL_STR);
	}
	if (v->type == KILN_VAL_LIST && arg->type == KILN_VAL_LIST) {
		l = kiln_val_list(a);
		if (l == NULL)
			return NULL;
		for (i = 0; i < v->u.list.n; i++)
			if (kiln_val_push(l, v->u.list.items[i]) != KILN_OK)
				return NULL;
		for (i = 0; i < arg->u.list.n; i++)
			if (kiln_val_push(l, arg->u.list.items[i]) != KILN_OK)
				return NULL;
		return l;
	}
	return from_c(a, "");
}

/*
 * The decimal text Django's floatformat starts from: repr() of a float
 * or int, or str(float(text)) for strings. Returns false when the value
 * is not a number.
 */
static bool
decimal_text(kiln_arena *a, const kiln_val *v, kiln_buf *b)
{
	double d;

	switch (v->type) {
	case KILN_VAL_INT:
		kiln_buf_printf(b, "%lld", (long long)v->u.i);
		return true;
	case KILN_VAL_FLOAT:
		kiln__tpl_float_repr(b, v->u.f);
		return true;
	case KILN_VAL_BOOL:
	case KILN_VAL_STR:
	case KILN_VAL_SAFE:
		if (!py_float(v, &d))
			return false;
		kiln__tpl_float_repr(b, d);
		return true;
	default:
		(void)a;
		return false;
	}
}

/*
 * Rounds the decimal number in text (optionally signed, with optional
 * fraction and exponent) half-up to places digits after the point and
 * appends it with exactly that many (places 0: an integer). Returns
 * false for text that is not a finite decimal.
 */
static bool
decimal_round(kiln_buf *out, kiln_str text, int places, bool int_if_whole)
{
	char dig[400];
	size_t nd = 0, i;
	int exp = 0, point = -1, intlen, j, carry;
	bool neg = false, whole = true, nonzero = false;
	const char *p = text.ptr, *end = text.ptr + text.len;

	if (p < end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	for (; p < end && (isdigit((unsigned char)*p) || *p == '.'); p++) {
		if (*p == '.') {
			point = (int)nd;
			continue;
		}
		if (nd + 1 >= sizeof(dig) / 2)
			return false;
		dig[nd++] = *p;
	}
	if (nd == 0)
		return false;
	if (p < end && (*p == 'e' || *p == 'E'))
		exp = atoi(p + 1);
	else if (p != end)
		return false;
	if (exp > 150 || exp < -150)
		return false;
	intlen = (point < 0 ? (int)nd : point) + exp;
	/* Make the integer part at least one digit, then pad the fraction. */
	if (intlen <= 0) {
		memmove(dig + (1 - intlen), dig, nd);
		memset(dig, '0', (size_t)(1 - intlen));
		nd += (size_t)(1 - intlen);
		intlen = 1;
	}
	while ((int)nd < intlen + places + 1)
		dig[nd++] = '0';
	for (i = (size_t)intlen; i < nd; i++)
		if (dig[i] != '0')
			whole = false;
	if (whole && int_if_whole)
		places = 0;
	/* Half-up on the digit after the last kept one. */
	carry = dig[intlen + places] >= '5';
	for (j = intlen + places - 1; j >= 0 && carry; j--) {
		if (dig[j] == '9') {
			dig[j] = '0';
		} else {
			dig[j]++;
			carry = 0;
		}
	}
	for (j = 0; j < intlen + places; j++)
		if (dig[j] != '0')
			nonzero = true;
	if (neg && (nonzero || carry))
		tpl_putc(out, '-');
	if (carry)
		tpl_putc(out, '1');
	/* Skip leading zeros of the integer part, keeping one. */
	for (j = 0; j < intlen - 1 && dig[j] == '0'; j++)
		;
	tpl_put(out, dig + j, (size_t)(intlen - j));
	if (places > 0) {
		tpl_putc(out, '.');
		tpl_put(out, dig + intlen, (size_t)places);
	}
	return true;
}

static const kiln_val *
f_floatformat(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	kiln_buf t, out;
	int64_t p = -1;
	kiln_str as;
	bool oom = false;

	(void)ae;
	kiln_buf_init(&t, a, 32);
	if (!decimal_text(a, v, &t))
		return from_c(a, "");
	if (arg != NULL) {
		as = text_of(a, arg, &oom);
		if (oom)
			return NULL;
		if (as.len > 0 && as.ptr[as.len - 1] == 'g')
			as.len--;
		if (as.len == 0)
			p = -1;
		else if (!py_int_str(as, &p))
			return from_buf(a, &t, KILN_VAL_STR);
	}
	if (p > 100 || p < -100)
		p = p < 0 ? -100 : 100;
	kiln_buf_init(&out, a, 32);
	if (!decimal_round(&out, kiln_buf_str(&t), (int)(p < 0 ? -p : p),
		p < 0))
		return from_buf(a, &t, KILN_VAL_STR);
	return from_buf(a, &out, KILN_VAL_STR);
}

static const kiln_val *
f_filesizeformat(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	static const char *const units[] = { "KB", "MB", "GB", "TB", "PB" };
	double d, unit = 1024.0;
	kiln_buf b;
	int i;
	bool neg;

	(void)arg;
	(void)ae;
	kiln_buf_init(&b, a, 32);
	if (!py_float(v, &d) || isnan(d)) {
		kiln_buf_append_c(&b,
		    "0\xc2\xa0"
		    "bytes");
		return from_buf(a, &b, KILN_VAL_STR);
	}
	neg = d < 0;
	if (neg) {
		d = -d;
		tpl_putc(&b, '-');
	}
	if (d < 1024) {
		kiln_buf_printf(&b, "%lld\xc2\xa0%s", (long long)d,
		    d == 1 ? "byte" : "bytes");
		return from_buf(a, &b, KILN_VAL_STR);
	}
	for (i = 0; i < 4 && d >= unit * 1024; i++)
		unit *= 1024;
	kiln_buf_printf(&b, "%.1f\xc2\xa0%s", d / unit, units[i]);
	return from_buf(a, &b, KILN_VAL_STR);
}

static const kiln_val *
f_yesno(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	kiln_str s = KILN_STR("yes,no,maybe"), bits[3];
	size_t n = 0, i, start = 0;
	bool oom = false;

	(void)ae;
	if (arg != NULL)
		s = text_of(a, arg, &oom);
	if (oom)
		return NULL;
	for (i = 0; i <= s.len; i++) {
		if (i < s.len && s.ptr[i] != ',')
			continue;
		if (n < 3) {
			bits[n].ptr = s.ptr + start;
			bits[n].len = i - start;
		}
		n++;
		start = i + 1;
	}
	if (n < 2)
		return v;
	if (n != 3)
		bits[2] = bits[1];
	if (v->type == KILN_VAL_NULL)
		return from_str(a, bits[2], KILN_VAL_STR);
	return from_str(a, kiln_val_truthy(v) ? bits[0] : bits[1],
	    KILN_VAL_STR);
}

static const kiln_val *
f_pluralize(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	kiln_str s = KILN_STR("s"), one, many;
	const char *comma;
	bool oom = false;
	double d;

	(void)ae;
	if (arg != NULL)
		s = text_of(a, arg, &oom);
	if (oom)
		return NULL;
	comma = memchr(s.ptr, ',', s.len);
	if (comma == NULL) {
		one = KILN_STR("");
		many = s;
	} else {
		one.ptr = s.ptr;
		one.len = (size_t)(comma - s.ptr);
		many.ptr = comma + 1;
		many.len = s.len - one.len - 1;
		if (memchr(many.ptr, ',', many.len) != NULL)
			return from_c(a, "");
	}
	if (v->type == KILN_VAL_LIST || v->type == KILN_VAL_MAP)
		return from_str(a, kiln_val_len(v) == 1 ? one : many,
		    KILN_VAL_STR);
	if (!py_float(v, &d))
		return from_c(a, "");
	return from_str(a, d == 1 ? one : many, KILN_VAL_STR);
}

/* --- dictsort ------------------------------------------------------------- */

/* Resolves a dotted path on item as Django's Variable does on a context. */
static const kiln_val *
item_path(const kiln_val *item, kiln_str path)
{
	size_t i, start = 0, idx, k;
	kiln_str part;
	bool num;

	for (i = 0; i <= path.len && item != NULL; i++) {
		if (i < path.len && path.ptr[i] != '.')
			continue;
		part.ptr = path.ptr + start;
		part.len = i - start;
		start = i + 1;
		if (item->type == KILN_VAL_MAP) {
			item = kiln_val_get_str(item, part);
			continue;
		}
		num = part.len > 0 && part.len < 10;
		idx = 0;
		for (k = 0; k < part.len; k++) {
			if (!isdigit((unsigned char)part.ptr[k]))
				num = false;
			else
				idx = idx * 10 + (size_t)(part.ptr[k] - '0');
		}
		item = num && item->type == KILN_VAL_LIST ?
		    kiln_val_at(item, idx) :
		    NULL;
	}
	return item;
}

/*
 * Sorts keys (and items alongside) stably, bottom-up merge sort, so a
 * long list costs n log n comparisons. *ok turns false when two keys do
 * not compare (Python's TypeError). Returns false when out of memory.
 */
static bool
merge_sort(kiln_arena *a, const kiln_val **keys, const kiln_val **items,
    size_t n, bool rev, bool *ok)
{
	const kiln_val **tk, **ti, **sk = keys, **si = items, **t;
	size_t w, lo, mid, hi, i, j, k;
	int c;

	*ok = true;
	tk = kiln_arena_alloc(a, (n + 1) * sizeof(*tk));
	ti = kiln_arena_alloc(a, (n + 1) * sizeof(*ti));
	if (tk == NULL || ti == NULL)
		return false;
	for (w = 1; w < n; w *= 2) {
		for (lo = 0; lo < n; lo += 2 * w) {
			mid = lo + w < n ? lo + w : n;
			hi = lo + 2 * w < n ? lo + 2 * w : n;
			for (i = lo, j = mid, k = lo; k < hi; k++) {
				c = 0;
				if (i < mid && j < hi) {
					c = kiln__tpl_cmp(sk[i], sk[j], ok);
					if (!*ok)
						return true;
					if (rev)
						c = -c;
				}
				/* Ties keep the left run first: stable. */
				if (j >= hi || (i < mid && c <= 0)) {
					tk[k] = sk[i];
					ti[k] = si[i++];
				} else {
					tk[k] = sk[j];
					ti[k] = si[j++];
				}
			}
		}
		t = sk;
		sk = tk;
		tk = t;
		t = si;
		si = ti;
		ti = t;
	}
	if (sk != keys) {
		memcpy(keys, sk, n * sizeof(*keys));
		memcpy(items, si, n * sizeof(*items));
	}
	return true;
}

static const kiln_val *
dictsort(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool rev)
{
	const kiln_val **keys, **items;
	kiln_val *l;
	size_t n, i;
	bool oom = false, ok;
	kiln_str path;

	if (v->type != KILN_VAL_LIST)
		return from_c(a, "");
	path = text_of(a, arg, &oom);
	if (oom)
		return NULL;
	n = v->u.list.n;
	keys = kiln_arena_alloc(a, (n + 1) * sizeof(*keys));
	items = kiln_arena_alloc(a, (n + 1) * sizeof(*items));
	if (keys == NULL || items == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		items[i] = v->u.list.items[i];
		keys[i] = item_path(items[i], path);
		if (keys[i] == NULL)
			return from_c(a, "");
	}
	if (!merge_sort(a, keys, items, n, rev, &ok))
		return NULL;
	if (!ok)
		return from_c(a, "");
	l = kiln_val_list(a);
	if (l == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		/* The list holds the same items; push needs a mutable one. */
		kiln_val *cp = kiln_arena_alloc(a, sizeof(*cp));

		if (cp == NULL)
			return NULL;
		*cp = *items[i];
		if (kiln_val_push(l, cp) != KILN_OK)
			return NULL;
	}
	return l;
}

static const kiln_val *
f_dictsort(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	(void)ae;
	return dictsort(a, v, arg, false);
}

static const kiln_val *
f_dictsortreversed(kiln_arena *a, const kiln_val *v, const kiln_val *arg,
    bool ae)
{
	(void)ae;
	return dictsort(a, v, arg, true);
}

static const tpl_filter builtin_filters[] = {
	{ "add", f_add, F_ARG },
	{ "capfirst", f_capfirst, F_SAFE | F_NO_ARG },
	{ "cut", f_cut, F_SAFE | F_ARG },
	{ "date", f_date, 0 },
	{ "default", f_default, F_ARG },
	{ "default_if_none", f_default_if_none, F_ARG },
	{ "dictsort", f_dictsort, F_ARG },
	{ "dictsortreversed", f_dictsortreversed, F_ARG },
	{ "escape", f_escape, F_SAFE | F_NO_ARG },
	{ "escapejs", f_escapejs, F_NO_ARG },
	{ "filesizeformat", f_filesizeformat, F_SAFE | F_NO_ARG },
	{ "first", f_first, F_NO_ARG },
	{ "floatformat", f_floatformat, F_SAFE },
	{ "force_escape", f_force_escape, F_SAFE | F_NO_ARG },
	{ "join", f_join, F_SAFE | F_ARG | TPL_F_JOIN },
	{ "json_script", f_json_script, F_ARG },
	{ "last", f_last, F_NO_ARG },
	{ "length", f_length, F_NO_ARG },
	{ "linebreaks", f_linebreaks, F_SAFE | F_NO_ARG },
	{ "linebreaksbr", f_linebreaksbr, F_SAFE | F_NO_ARG },
	{ "lower", f_lower, F_SAFE | F_NO_ARG },
	{ "pluralize", f_pluralize, 0 },
	{ "safe", f_safe, F_SAFE | F_NO_ARG },
	{ "slice", f_slice, F_SAFE | F_ARG },
	{ "striptags", f_striptags, F_SAFE | F_NO_ARG },
	{ "time", f_time, 0 },
	{ "title", f_title, F_SAFE | F_NO_ARG },
	{ "truncatechars", f_truncatechars, F_SAFE | F_ARG },
	{ "truncatewords", f_truncatewords, F_SAFE | F_ARG },
	{ "upper", f_upper, F_NO_ARG },
	{ "urlencode", f_urlencode, 0 },
	{ "wordcount", f_wordcount, F_NO_ARG },
	{ "yesno", f_yesno, 0 },
};

const tpl_filter *
kiln__tpl_builtin_filter(kiln_str name)
{
	size_t i;

	for (i = 0; i < sizeof(builtin_filters) / sizeof(builtin_filters[0]);
	     i++)
		if (kiln_str_eq_c(name, builtin_filters[i].name))
			return &builtin_filters[i];
	return NULL;
}
