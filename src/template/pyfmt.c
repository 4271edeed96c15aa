/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Python-compatible text forms, so that Kiln prints values byte for byte
 * as Django does: str() and repr() of values (lists print as
 * "['a', 1]"), the shortest round-trip repr of floats, Django's
 * localize() for {{ }} output (floats positional, datetimes as
 * DATETIME_FORMAT), json.dumps for json_script, Django's date format
 * characters, and Python's comparison rules for {% if %}. Date and time
 * names are English (LANGUAGE_CODE "en-us"); naive datetimes are taken
 * to be in UTC (TIME_ZONE "UTC").
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <kiln/kiln.h>

#include "template_int.h"

/* Bytes that HTML escaping replaces: & < > " ' (table for the scan). */
static const unsigned char esc_tab[256] = {
	['&'] = 1,
	['<'] = 2,
	['>'] = 3,
	['"'] = 4,
	['\''] = 5,
};

/* SWAR: a 64-bit word has a zero byte (Hacker's Delight 6-1). */
#define ESC_ONES  0x0101010101010101ULL
#define ESC_HIGHS 0x8080808080808080ULL

static inline uint64_t
esc_zero(uint64_t v)
{
	return (v - ESC_ONES) & ~v & ESC_HIGHS;
}

/* Returns nonzero when one of the 8 bytes in w needs escaping. */
static inline uint64_t
esc_word(uint64_t w)
{
	return esc_zero(w ^ (ESC_ONES * '&')) | esc_zero(w ^ (ESC_ONES * '<')) |
	    esc_zero(w ^ (ESC_ONES * '>')) | esc_zero(w ^ (ESC_ONES * '"')) |
	    esc_zero(w ^ (ESC_ONES * '\''));
}

void
kiln__tpl_escape(kiln_buf *b, kiln_str s)
{
	static const char *const rep[] = { "", "&amp;", "&lt;", "&gt;",
		"&quot;", "&#x27;" };
	static const unsigned char replen[] = { 0, 5, 4, 4, 6, 6 };
	const unsigned char *p = (const unsigned char *)s.ptr;
	size_t i = 0, start = 0;
	unsigned char k;
	uint64_t w;

	while (i < s.len) {
		/* Skip clean runs eight bytes at a time. */
		if (i + 8 <= s.len) {
			memcpy(&w, p + i, 8);
			if (esc_word(w) == 0) {
				i += 8;
				continue;
			}
		}
		k = esc_tab[p[i]];
		if (k != 0) {
			if (i > start)
				tpl_put(b, s.ptr + start, i - start);
			tpl_put(b, rep[k], replen[k]);
			start = i + 1;
		}
		i++;
	}
	if (s.len > start)
		tpl_put(b, s.ptr + start, s.len - start);
}

size_t
kiln__tpl_utf8_len(kiln_str s)
{
	size_t i, n = 0;

	for (i = 0; i < s.len; i++)
		if (((unsigned char)s.ptr[i] & 0xC0) != 0x80)
			n++;
	return n;
}

size_t
kiln__tpl_utf8_next(kiln_str s, size_t off)
{
	for (off++; off < s.len; off++)
		if (((unsigned char)s.ptr[off] & 0xC0) != 0x80)
			break;
	return off;
}

size_t
kiln__tpl_utf8_off(kiln_str s, size_t idx)
{
	size_t i, n = 0;

	for (i = 0; i < s.len; i++) {
		if (((unsigned char)s.ptr[i] & 0xC0) != 0x80) {
			if (n == idx)
				return i;
			n++;
		}
	}
	return s.len;
}

/*
 * Finds the shortest decimal digits that read back as f: digits (no
 * point, no sign) into dig and the exponent of the first digit into *e.
 */
static void
float_digits(double f, char *dig, size_t len, int *e)
{
	char buf[64], *p;
	int prec;
	size_t n = 0;

	for (prec = 0; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec, f);
		if (strtod(buf, NULL) == f)
			break;
	}
	p = buf;
	if (*p == '-')
		p++;
	for (; *p != 'e' && *p != '\0'; p++)
		if (*p != '.' && n + 1 < len)
			dig[n++] = *p;
	while (n > 1 && dig[n - 1] == '0')
		n--;
	dig[n] = '\0';
	*e = *p == 'e' ? atoi(p + 1) : 0;
}

/*
 * Appends the digits dig (exponent e of the first, from float_digits) in
 * positional notation: "0.000ddd" below 1, else the integer digits padded
 * with zeros and the rest after a point. point_zero writes a whole
 * number as repr() does ("12.0"); without it there is no point ("12").
 */
static void
float_positional(kiln_buf *b, const char *dig, int e, bool point_zero)
{
	int i, nd;

	nd = (int)strlen(dig);
	if (e < 0) {
		kiln_buf_append_c(b, "0.");
		for (i = 0; i < -e - 1; i++)
			tpl_putc(b, '0');
		kiln_buf_append_c(b, dig);
		return;
	}
	for (i = 0; i <= e; i++)
		tpl_putc(b, i < nd ? dig[i] : '0');
	if (nd > e + 1) {
		tpl_putc(b, '.');
		kiln_buf_append_c(b, dig + e + 1);
	} else if (point_zero) {
		kiln_buf_append_c(b, ".0");
	}
}

void
kiln__tpl_float_repr(kiln_buf *b, double f)
{
	char dig[32];
	int e, nd;

	if (isnan(f)) {
		kiln_buf_append_c(b, "nan");
		return;
	}
	if (isinf(f)) {
		kiln_buf_append_c(b, f < 0 ? "-inf" : "inf");
		return;
	}
	if (signbit(f))
		tpl_putc(b, '-');
	float_digits(fabs(f), dig, sizeof(dig), &e);
	nd = (int)strlen(dig);
	if (e >= -4 && e < 16) {
		float_positional(b, dig, e, true);
		return;
	}
	tpl_putc(b, dig[0]);
	if (nd > 1) {
		tpl_putc(b, '.');
		kiln_buf_append_c(b, dig + 1);
	}
	kiln_buf_printf(b, "e%c%02d", e < 0 ? '-' : '+', abs(e));
}

/* Django's number_format of a float: its repr, in positional notation. */
static void
float_display(kiln_buf *b, double f)
{
	char dig[32];
	int e;

	if (isnan(f) || isinf(f) || (fabs(f) >= 1e-4 && fabs(f) < 1e16) ||
	    f == 0) {
		kiln__tpl_float_repr(b, f);
		return;
	}
	if (signbit(f))
		tpl_putc(b, '-');
	float_digits(fabs(f), dig, sizeof(dig), &e);
	float_positional(b, dig, e, false);
}

/* Appends Python's repr() of a string. */
static void
str_repr(kiln_buf *b, kiln_str s)
{
	char q = '\'';
	size_t i;
	unsigned char c;

	if (memchr(s.ptr, '\'', s.len) != NULL &&
	    memchr(s.ptr, '"', s.len) == NULL)
		q = '"';
	tpl_putc(b, q);
	for (i = 0; i < s.len; i++) {
		c = (unsigned char)s.ptr[i];
		if (c == (unsigned char)q || c == '\\') {
			tpl_putc(b, '\\');
			tpl_putc(b, (char)c);
		} else if (c == '\n') {
			kiln_buf_append_c(b, "\\n");
		} else if (c == '\r') {
			kiln_buf_append_c(b, "\\r");
		} else if (c == '\t') {
			kiln_buf_append_c(b, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			kiln_buf_printf(b, "\\x%02x", c);
		} else {
			tpl_putc(b, (char)c);
		}
	}
	tpl_putc(b, q);
}

static void datetime_str(kiln_buf *b, const kiln_val *v, char sep);

/* Appenders of one value or one map key, in repr() or json.dumps form. */
typedef void (*fmt_val_fn)(kiln_buf *b, const kiln_val *v, size_t depth);
typedef void (*fmt_key_fn)(kiln_buf *b, kiln_str key);

/*
 * Appends a list as "[a, b]" or a map as "{k: a}", the punctuation that
 * repr() and json.dumps share: val appends each item (at depth + 1) and
 * key each map key, in the caller's dialect.
 */

static void
container(kiln_buf *b, const kiln_val *v, size_t depth, fmt_val_fn val,
    fmt_key_fn key)
{
	size_t i;

	if (v->type == KILN_VAL_LIST) {
		tpl_putc(b, '[');
		for (i = 0; i < v->u.list.n; i++) {
			if (i > 0)
				kiln_buf_append_c(b, ", ");
			val(b, v->u.list.items[i], depth + 1);
		}
		tpl_putc(b, ']');
		return;
	}
	tpl_putc(b, '{');
	for (i = 0; i < v->u.map.n; i++) {
		if (i > 0)
			kiln_buf_append_c(b, ", ");
		key(b, v->u.map.items[i].key);
		kiln_buf_append_c(b, ": ");
		val(b, v->u.map.items[i].val, depth + 1);
	}
	tpl_putc(b, '}');
}

/* Appends repr(v). */
static void
repr(kiln_buf *b, const kiln_val *v, size_t depth)
{
	tpl_tm tm;

	if (depth > 64) {
		kiln_buf_append_c(b, "...");
		return;
	}
	switch (v->type) {
	case KILN_VAL_STR:
	case KILN_VAL_SAFE:
		str_repr(b, v->u.s);
		return;
	case KILN_VAL_LIST:
	case KILN_VAL_MAP:
		container(b, v, depth, repr, str_repr);
		return;
	case KILN_VAL_DATETIME:
		kiln__tpl_civil(v->u.dt.secs, v->u.dt.usec, &tm);
		kiln_buf_printf(b, "datetime.datetime(%lld, %d, %d, %d, %d",
		    (long long)tm.year, tm.mon, tm.day, tm.hour, tm.min);
		if (tm.sec != 0 || tm.usec != 0)
			kiln_buf_printf(b, ", %d", tm.sec);
		if (tm.usec != 0)
			kiln_buf_printf(b, ", %d", tm.usec);
		tpl_putc(b, ')');
		return;
	default:
		kiln__tpl_pystr(b, v);
		return;
	}
}

void
kiln__tpl_pystr(kiln_buf *b, const kiln_val *v)
{
	switch (v->type) {
	case KILN_VAL_NULL:
		kiln_buf_append_c(b, "None");
		return;
	case KILN_VAL_BOOL:
		kiln_buf_append_c(b, v->u.b ? "True" : "False");
		return;
	case KILN_VAL_INT:
		kiln_buf_printf(b, "%lld", (long long)v->u.i);
		return;
	case KILN_VAL_FLOAT:
		kiln__tpl_float_repr(b, v->u.f);
		return;
	case KILN_VAL_STR:
	case KILN_VAL_SAFE:
		kiln_buf_append_str(b, v->u.s);
		return;
	case KILN_VAL_DATETIME:
		datetime_str(b, v, ' ');
		return;
	default:
		repr(b, v, 0);
		return;
	}
}

void
kiln__tpl_display(kiln_buf *b, const kiln_val *v)
{
	switch (v->type) {
	case KILN_VAL_FLOAT:
		float_display(b, v->u.f);
		return;
	case KILN_VAL_DATETIME:
		kiln__tpl_datefmt(b, v, KILN_STR("N j, Y, P"), false);
		return;
	default:
		kiln__tpl_pystr(b, v);
		return;
	}
}

const kiln_val *
kiln__tpl_to_str(kiln_arena *a, const kiln_val *v)
{
	kiln_buf b;

	if (v->type == KILN_VAL_STR || v->type == KILN_VAL_SAFE)
		return v;
	kiln_buf_init(&b, a, 32);
	kiln__tpl_pystr(&b, v);
	if (b.oom)
		return NULL;
	return kiln_val_str(a, kiln_buf_str(&b));
}

/* --- dates ------------------------------------------------------------- */

int64_t
kiln__tpl_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

void
kiln__tpl_civil(int64_t secs, int32_t usec, tpl_tm *tm)
{
	kiln__date t;
	int64_t days;

	kiln__date_from_unix(secs, &t);
	days = t.days;
	tm->year = t.year;
	tm->mon = t.mon;
	tm->day = t.day;
	tm->hour = t.hour;
	tm->min = t.min;
	tm->sec = t.sec;
	tm->usec = usec;
	/* 1970-01-01 was a Thursday (3 with Monday = 0). */
	tm->wday = (int)(((days % 7) + 7 + 3) % 7);
	tm->yday = (int)(days - kiln__tpl_days_from_civil(tm->year, 1, 1));
}

static void
datetime_str(kiln_buf *b, const kiln_val *v, char sep)
{
	tpl_tm tm;

	kiln__tpl_civil(v->u.dt.secs, v->u.dt.usec, &tm);
	kiln_buf_printf(b, "%04lld-%02d-%02d%c%02d:%02d:%02d",
	    (long long)tm.year, tm.mon, tm.day, sep, tm.hour, tm.min, tm.sec);
	if (tm.usec != 0)
		kiln_buf_printf(b, ".%06d", tm.usec);
}

static const char *const month_names[] = { "January", "February", "March",
	"April", "May", "June", "July", "August", "September", "October",
	"November", "December" };
static const char *const month_ap[] = { "Jan.", "Feb.", "March", "April", "May",
	"June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec." };
static const char *const day_names[] = { "Monday", "Tuesday", "Wednesday",
	"Thursday", "Friday", "Saturday", "Sunday" };

/* ISO 8601 week number and week-numbering year: the Thursday decides. */
static void
iso_week(const tpl_tm *tm, int64_t *year, int *week)
{
	int64_t days, thu;
	tpl_tm t;

	days = kiln__tpl_days_from_civil(tm->year, tm->mon, tm->day);
	thu = days - tm->wday + 3;
	kiln__tpl_civil(thu * 86400, 0, &t);
	*year = t.year;
	*week = (int)((thu - kiln__tpl_days_from_civil(t.year, 1, 1)) / 7 + 1);
}

static int
hour12(int h)
{
	return h % 12 == 0 ? 12 : h % 12;
}

/* Returns true when c is a format character of Django's TimeFormat. */
static bool
is_time_char(char c)
{
	return strchr("aAefgGhHiOPsTuZ", c) != NULL;
}

bool
kiln__tpl_datefmt(kiln_buf *b, const kiln_val *dt, kiln_str fmt, bool time_only)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	tpl_tm tm;
	int64_t iy;
	int iw, d;
	size_t i;
	char c;

	kiln__tpl_civil(dt->u.dt.secs, dt->u.dt.usec, &tm);
	for (i = 0; i < fmt.len; i++) {
		c = fmt.ptr[i];
		if (c == '\\' && i + 1 < fmt.len) {
			tpl_putc(b, fmt.ptr[++i]);
			continue;
		}
		if (strchr("aAbcdDeEfFgGhHiIjlLmMnNoOPrsStTUuwWyYzZ", c) ==
			NULL ||
		    c == '\0') {
			tpl_putc(b, c);
			continue;
		}
		if (time_only && !is_time_char(c))
			return false;
		switch (c) {
		case 'a':
			kiln_buf_append_c(b, tm.hour >= 12 ? "p.m." : "a.m.");
			break;
		case 'A':
			kiln_buf_append_c(b, tm.hour >= 12 ? "PM" : "AM");
			break;
		case 'b':
			kiln_buf_printf(b, "%c%c%c",
			    month_names[tm.mon - 1][0] | 0x20,
			    month_names[tm.mon - 1][1],
			    month_names[tm.mon - 1][2]);
			break;
		case 'c':
			datetime_str(b, dt, 'T');
			break;
		case 'd':
			kiln_buf_printf(b, "%02d", tm.day);
			break;
		case 'D':
			kiln_buf_printf(b, "%.3s", day_names[tm.wday]);
			break;
		case 'e':
			break;
		case 'E':
		case 'F':
			kiln_buf_append_c(b, month_names[tm.mon - 1]);
			break;
		case 'f':
			if (tm.min == 0)
				kiln_buf_printf(b, "%d", hour12(tm.hour));
			else
				kiln_buf_printf(b, "%d:%02d", hour12(tm.hour),
				    tm.min);
			break;
		case 'g':
			kiln_buf_printf(b, "%d", hour12(tm.hour));
			break;
		case 'G':
			kiln_buf_printf(b, "%d", tm.hour);
			break;
		case 'h':
			kiln_buf_printf(b, "%02d", hour12(tm.hour));
			break;
		case 'H':
			kiln_buf_printf(b, "%02d", tm.hour);
			break;
		case 'i':
			kiln_buf_printf(b, "%02d", tm.min);
			break;
		case 'I':
			tpl_putc(b, '0');
			break;
		case 'j':
			kiln_buf_printf(b, "%d", tm.day);
			break;
		case 'l':
			kiln_buf_append_c(b, day_names[tm.wday]);
			break;
		case 'L':
			kiln_buf_append_c(b,
			    is_leap(tm.year) ? "True" : "False");
			break;
		case 'm':
			kiln_buf_printf(b, "%02d", tm.mon);
			break;
		case 'M':
			kiln_buf_printf(b, "%.3s", month_names[tm.mon - 1]);
			break;
		case 'n':
			kiln_buf_printf(b, "%d", tm.mon);
			break;
		case 'N':
			kiln_buf_append_c(b, month_ap[tm.mon - 1]);
			break;
		case 'o':
			iso_week(&tm, &iy, &iw);
			kiln_buf_printf(b, "%lld", (long long)iy);
			break;
		case 'O':
			kiln_buf_append_c(b, "+0000");
			break;
		case 'P':
			if (tm.min == 0 && tm.hour == 0)
				kiln_buf_append_c(b, "midnight");
			else if (tm.min == 0 && tm.hour == 12)
				kiln_buf_append_c(b, "noon");
			else if (tm.min == 0)
				kiln_buf_printf(b, "%d %s", hour12(tm.hour),
				    tm.hour >= 12 ? "p.m." : "a.m.");
			else
				kiln_buf_printf(b, "%d:%02d %s",
				    hour12(tm.hour), tm.min,
				    tm.hour >= 12 ? "p.m." : "a.m.");
			break;
		case 'r':
			kiln_buf_printf(b,
			    "%.3s, %02d %.3s %04lld %02d:%02d:%02d +0000",
			    day_names[tm.wday], tm.day, month_names[tm.mon - 1],
			    (long long)tm.year, tm.hour, tm.min, tm.sec);
			break;
		case 's':
			kiln_buf_printf(b, "%02d", tm.sec);
			break;
		case 'S':
			d = tm.day;
			if (d == 11 || d == 12 || d == 13)
				kiln_buf_append_c(b, "th");
			else if (d % 10 == 1)
				kiln_buf_append_c(b, "st");
			else if (d % 10 == 2)
				kiln_buf_append_c(b, "nd");
			else if (d % 10 == 3)
				kiln_buf_append_c(b, "rd");
			else
				kiln_buf_append_c(b, "th");
			break;
		case 't':
			d = mdays[tm.mon - 1];
			if (tm.mon == 2 && is_leap(tm.year))
				d = 29;
			kiln_buf_printf(b, "%d", d);
			break;
		case 'T':
			kiln_buf_append_c(b, "UTC");
			break;
		case 'u':
			kiln_buf_printf(b, "%06d", tm.usec);
			break;
		case 'U':
			kiln_buf_printf(b, "%lld", (long long)dt->u.dt.secs);
			break;
		case 'w':
			kiln_buf_printf(b, "%d", (tm.wday + 1) % 7);
			break;
		case 'W':
			iso_week(&tm, &iy, &iw);
			kiln_buf_printf(b, "%d", iw);
			break;
		case 'y':
			kiln_buf_printf(b, "%02d", (int)(tm.year % 100));
			break;
		case 'Y':
			kiln_buf_printf(b, "%lld", (long long)tm.year);
			break;
		case 'z':
			kiln_buf_printf(b, "%d", tm.yday + 1);
			break;
		case 'Z':
			tpl_putc(b, '0');
			break;
		default:
			tpl_putc(b, c);
			break;
		}
	}
	return true;
}

/* --- JSON as Python's json.dumps ----------------------------------------- */

/* Appends s as a JSON string with ensure_ascii (\uXXXX, surrogate pairs). */
static void
json_str(kiln_buf *b, kiln_str s)
{
	size_t i = 0;
	unsigned char c;
	uint32_t cp;
	int extra;

	tpl_putc(b, '"');
	while (i < s.len) {
		c = (unsigned char)s.ptr[i];
		if (c < 0x80) {
			i++;
			switch (c) {
			case '"':
				kiln_buf_append_c(b, "\\\"");
				break;
			case '\\':
				kiln_buf_append_c(b, "\\\\");
				break;
			case '\n':
				kiln_buf_append_c(b, "\\n");
				break;
			case '\r':
				kiln_buf_append_c(b, "\\r");
				break;
			case '\t':
				kiln_buf_append_c(b, "\\t");
				break;
			case '\b':
				kiln_buf_append_c(b, "\\b");
				break;
			case '\f':
				kiln_buf_append_c(b, "\\f");
				break;
			default:
				if (c < 0x20)
					kiln_buf_printf(b, "\\u%04x", c);
				else
					tpl_putc(b, (char)c);
			}
			continue;
		}
		extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
		cp = c & (extra == 3 ? 0x07 : extra == 2 ? 0x0F : 0x1F);
		i++;
		while (extra-- > 0 && i < s.len) {
			cp = (cp << 6) | ((unsigned char)s.ptr[i] & 0x3F);
			i++;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			kiln_buf_printf(b, "\\u%04x\\u%04x",
			    (unsigned)(0xD800 + (cp >> 10)),
			    (unsigned)(0xDC00 + (cp & 0x3FF)));
		} else {
			kiln_buf_printf(b, "\\u%04x", (unsigned)cp);
		}
	}
	tpl_putc(b, '"');
}

void
kiln__tpl_json(kiln_buf *b, const kiln_val *v, size_t depth)
{
	kiln_buf tmp;

	if (depth > 64) {
		kiln_buf_append_c(b, "null");
		return;
	}
	switch (v->type) {
	case KILN_VAL_NULL:
		kiln_buf_append_c(b, "null");
		return;
	case KILN_VAL_BOOL:
		kiln_buf_append_c(b, v->u.b ? "true" : "false");
		return;
	case KILN_VAL_INT:
		kiln_buf_printf(b, "%lld", (long long)v->u.i);
		return;
	case KILN_VAL_FLOAT:
		if (isnan(v->u.f))
			kiln_buf_append_c(b, "NaN");
		else if (isinf(v->u.f))
			kiln_buf_append_c(b,
			    v->u.f < 0 ? "-Infinity" : "Infinity");
		else
			kiln__tpl_float_repr(b, v->u.f);
		return;
	case KILN_VAL_STR:
	case KILN_VAL_SAFE:
		json_str(b, v->u.s);
		return;
	case KILN_VAL_LIST:
	case KILN_VAL_MAP:
		container(b, v, depth, kiln__tpl_json, json_str);
		return;
	case KILN_VAL_DATETIME:
		/* DjangoJSONEncoder: isoformat, microseconds cut to ms. */
		kiln_buf_init(&tmp, b->a, 32);
		datetime_str(&tmp, v, 'T');
		if (tmp.len > 23)
			tmp.len = 23;
		json_str(b, kiln_buf_str(&tmp));
		return;
	default:
		kiln_buf_append_c(b, "null");
		return;
	}
}

/* --- comparisons -------------------------------------------------------- */

static bool
is_num(const kiln_val *v)
{
	return v->type == KILN_VAL_INT || v->type == KILN_VAL_FLOAT ||
	    v->type == KILN_VAL_BOOL;
}

static double
num_of(const kiln_val *v)
{
	if (v->type == KILN_VAL_FLOAT)
		return v->u.f;
	if (v->type == KILN_VAL_BOOL)
		return v->u.b ? 1 : 0;
	return (double)v->u.i;
}

bool
kiln__tpl_eq(const kiln_val *a, const kiln_val *b)
{
	size_t i;
	const kiln_val *o;

	if (is_num(a) && is_num(b)) {
		if (a->type != KILN_VAL_FLOAT && b->type != KILN_VAL_FLOAT)
			return (a->type == KILN_VAL_INT ? a->u.i : a->u.b) ==
			    (b->type == KILN_VAL_INT ? b->u.i : b->u.b);
		return num_of(a) == num_of(b);
	}
	if (tpl_is_text(a) && tpl_is_text(b))
		return kiln_str_eq(a->u.s, b->u.s);
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case KILN_VAL_NULL:
		return true;
	case KILN_VAL_DATETIME:
		return a->u.dt.secs == b->u.dt.secs &&
		    a->u.dt.usec == b->u.dt.usec;
	case KILN_VAL_LIST:
		if (a->u.list.n != b->u.list.n)
			return false;
		for (i = 0; i < a->u.list.n; i++)
			if (!kiln__tpl_eq(a->u.list.items[i],
				b->u.list.items[i]))
				return false;
		return true;
	case KILN_VAL_MAP:
		if (a->u.map.n != b->u.map.n)
			return false;
		for (i = 0; i < a->u.map.n; i++) {
			o = kiln_val_get_str(b, a->u.map.items[i].key);
			if (o == NULL ||
			    !kiln__tpl_eq(a->u.map.items[i].val, o))
				return false;
		}
		return true;
	default:
		return false;
	}
}

int
kiln__tpl_cmp(const kiln_val *a, const kiln_val *b, bool *ok)
{
	size_t i, n;
	int r;
	double x, y;

	*ok = true;
	if (is_num(a) && is_num(b)) {
		if (a->type == KILN_VAL_INT && b->type == KILN_VAL_INT)
			return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
		x = num_of(a);
		y = num_of(b);
		if (isnan(x) || isnan(y)) {
			*ok = false;
			return 0;
		}
		return x < y ? -1 : x > y;
	}
	if (tpl_is_text(a) && tpl_is_text(b)) {
		n = a->u.s.len < b->u.s.len ? a->u.s.len : b->u.s.len;
		r = n > 0 ? memcmp(a->u.s.ptr, b->u.s.ptr, n) : 0;
		if (r != 0)
			return r < 0 ? -1 : 1;
		return a->u.s.len < b->u.s.len ? -1 : a->u.s.len > b->u.s.len;
	}
	if (a->type == KILN_VAL_DATETIME && b->type == KILN_VAL_DATETIME) {
		if (a->u.dt.secs != b->u.dt.secs)
			return a->u.dt.secs < b->u.dt.secs ? -1 : 1;
		return a->u.dt.usec < b->u.dt.usec ?
		    -1 :
		    a->u.dt.usec > b->u.dt.usec;
	}
	if (a->type == KILN_VAL_LIST && b->type == KILN_VAL_LIST) {
		n = a->u.list.n < b->u.list.n ? a->u.list.n : b->u.list.n;
		for (i = 0; i < n; i++) {
			if (kiln__tpl_eq(a->u.list.items[i],
				b->u.list.items[i]))
				continue;
			return kiln__tpl_cmp(a->u.list.items[i],
			    b->u.list.items[i], ok);
		}
		return a->u.list.n < b->u.list.n ? -1 :
						   a->u.list.n > b->u.list.n;
	}
	*ok = false;
	return 0;
}
