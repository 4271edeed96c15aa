/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Models and fields: registration (which checks a declaration once and
 * computes column names), and the conversions every value goes through.
 * A row holds canonical values: INT for integer kinds and FKs, FLOAT,
 * BOOL, and text for the rest (decimals "12.50", dates "2024-02-29",
 * datetimes "2024-02-29 13:05:00[.ffffff]" in UTC, UUIDs with dashes).
 * kiln__orm_bind turns a canonical value into what the driver binds
 * (booleans as 0/1, UUIDs as 32 hex digits, Django's layout), and
 * kiln__orm_from_db reads what either backend returns back into the
 * canonical form. Identifiers are checked here, which is what lets the
 * compiler put them in SQL: no value ever is.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/kiln.h>

#include "orm_int.h"

/* Returns true when s is a non-empty identifier without "__". */
bool
kiln__orm_ident_ok(const char *s)
{
	const char *p;

	if (s == NULL || s[0] == '\0' || strlen(s) > 60 ||
	    isdigit((unsigned char)s[0]))
		return false;
	for (p = s; *p != '\0'; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_'))
			return false;
	return strstr(s, "__") == NULL;
}

const kiln__ptrs *
kiln__orm_models(kiln_app *app)
{
	kiln__db *db = kiln__db_state(app);

	return db != NULL ? &db->models : NULL;
}

const kiln__meta *
kiln__orm_meta(kiln_app *app, const kiln_model *m)
{
	kiln__db *db = kiln__db_state(app);
	const kiln__meta *mt;
	size_t i;

	if (db == NULL)
		return NULL;
	for (i = 0; i < db->models.n; i++) {
		mt = db->models.items[i];
		if (mt->m == m)
			return mt;
	}
	kiln__app_error(app, KILN_EINVAL, "model %s is not registered",
	    m != NULL && m->name != NULL ? m->name : "(null)");
	return NULL;
}

long
kiln__orm_field_index(const kiln_model *m, const char *name)
{
	const kiln_field *f;
	size_t i, n;

	for (i = 0; i < m->nfields; i++) {
		f = &m->fields[i];
		if (strcmp(f->name, name) == 0)
			return (long)i;
		if (f->column != NULL && strcmp(f->column, name) == 0)
			return (long)i;
		n = strlen(f->name);
		if (f->type == KILN_FIELD_FK && f->column == NULL &&
		    strncmp(name, f->name, n) == 0 &&
		    strcmp(name + n, "_id") == 0)
			return (long)i;
	}
	if (strcmp(name, "pk") == 0) {
		for (i = 0; i < m->nfields; i++)
			if (m->fields[i].type == KILN_FIELD_AUTO ||
			    (m->fields[i].flags & KILN_F_PK) != 0)
				return (long)i;
	}
	return -1;
}

const kiln_field *
kiln_model_field(const kiln_model *m, const char *name)
{
	long i = kiln__orm_field_index(m, name);

	return i >= 0 ? &m->fields[i] : NULL;
}

/* Checks one field of m; returns KILN_OK or KILN_EINVAL. */
static kiln_err
field_check(kiln_app *app, const kiln_model *m, const kiln_field *f)
{
	if (!kiln__orm_ident_ok(f->name) ||
	    (f->column != NULL && !kiln__orm_ident_ok(f->column)))
		return kiln__app_error(app, KILN_EINVAL,
		    "%s: field name '%s' must be letters, digits and single "
		    "underscores",
		    m->name, f->name != NULL ? f->name : "");
	if ((int)f->type < 0 || f->type >= KILN_FIELD__MAX)
		return kiln__app_error(app, KILN_EINVAL, "%s.%s: bad type",
		    m->name, f->name);
	if (f->type == KILN_FIELD_FK) {
		if (f->to == NULL)
			return kiln__app_error(app, KILN_EINVAL,
			    "%s.%s: a foreign key needs .to", m->name, f->name);
		if (f->to != m && kiln__orm_meta(app, f->to) == NULL)
			return kiln__app_error(app, KILN_EINVAL,
			    "%s.%s: register %s before %s", m->name, f->name,
			    f->to->name, m->name);
		if (f->on_delete == KILN_ON_DELETE_SET_NULL &&
		    (f->flags & KILN_F_NULL) == 0)
			return kiln__app_error(app, KILN_EINVAL,
			    "%s.%s: SET_NULL needs KILN_F_NULL", m->name,
			    f->name);
	}
	if (f->type == KILN_FIELD_DECIMAL &&
	    (f->max_digits > 38 || f->decimal_places > 30 ||
		f->decimal_places > (f->max_digits ? f->max_digits : 10)))
		return kiln__app_error(app, KILN_EINVAL,
		    "%s.%s: decimal_places must fit in max_digits (<= 38)",
		    m->name, f->name);
	return KILN_OK;
}

/* Checks that each unique_together group names fields of m. */
static kiln_err
together_check(kiln_app *app, const kiln_model *m)
{
	char name[64];
	const char *p, *comma;
	size_t i, len;

	for (i = 0; m->unique_together != NULL && m->unique_together[i]; i++) {
		for (p = m->unique_together[i]; p != NULL;
		     p = comma != NULL ? comma + 1 : NULL) {
			comma = strchr(p, ',');
			len = comma != NULL ? (size_t)(comma - p) : strlen(p);
			if (len == 0 || len >= sizeof(name))
				return kiln__app_error(app, KILN_EINVAL,
				    "%s: bad unique_together '%s'", m->name,
				    m->unique_together[i]);
			memcpy(name, p, len);
			name[len] = '\0';
			if (kiln__orm_field_index(m, name) < 0)
				return kiln__app_error(app, KILN_EINVAL,
				    "%s: unique_together names no field '%s'",
				    m->name, name);
		}
	}
	return KILN_OK;
}

kiln_err
kiln_model_register(kiln_app *app, const kiln_model *m)
{
	kiln__db *db = kiln__db_state(app);
	kiln_arena *a = kiln_app_arena(app);
	kiln__meta *mt;
	const kiln_field *f;
	size_t i, j, npk = 0;
	kiln_err rc;

	if (db == NULL)
		return KILN_EINVAL;
	if (m == NULL || !kiln__orm_ident_ok(m->name) ||
	    !kiln__orm_ident_ok(m->table) || m->fields == NULL ||
	    m->nfields == 0)
		return kiln__app_error(app, KILN_EINVAL,
		    "model %s: needs a name, a table (letters, digits, _) "
		    "and fields",
		    m != NULL && m->name ? m->name : "(null)");
	for (i = 0; i < db->models.n; i++) {
		mt = db->models.items[i];
		if (mt->m == m || strcmp(mt->m->table, m->table) == 0)
			return kiln__app_error(app, KILN_EEXIST,
			    "model %s: registered twice (or its table is "
			    "taken)",
			    m->name);
	}
	if ((mt = kiln_arena_calloc(a, 1, sizeof(*mt))) == NULL ||
	    (mt->cols = kiln_arena_calloc(a, m->nfields, sizeof(char *))) ==
		NULL)
		return kiln__app_error(app, KILN_ENOMEM, "out of memory");
	mt->m = m;
	for (i = 0; i < m->nfields; i++) {
		f = &m->fields[i];
		if ((rc = field_check(app, m, f)) != KILN_OK)
			return rc;
		for (j = 0; j < i; j++)
			if (strcmp(m->fields[j].name, f->name) == 0)
				return kiln__app_error(app, KILN_EINVAL,
				    "%s.%s: defined twice", m->name, f->name);
		if (f->type == KILN_FIELD_AUTO || (f->flags & KILN_F_PK)) {
			mt->pk = i;
			npk++;
		}
		if (f->column != NULL)
			mt->cols[i] = f->column;
		else if (f->type == KILN_FIELD_FK)
			mt->cols[i] = kiln_arena_printf(a, "%s_id", f->name);
		else
			mt->cols[i] = f->name;
		if (mt->cols[i] == NULL)
			return kiln__app_error(app, KILN_ENOMEM,
			    "out of memory");
	}
	if (npk != 1)
		return kiln__app_error(app, KILN_EINVAL,
		    "model %s: needs exactly one primary key (an AUTO field "
		    "or KILN_F_PK), has %zu",
		    m->name, npk);
	if (m->ordering != NULL) {
		for (i = 0; m->ordering[i] != NULL; i++) {
			if (kiln__orm_field_index(m,
				m->ordering[i] + (m->ordering[i][0] == '-')) <
			    0)
				return kiln__app_error(app, KILN_EINVAL,
				    "model %s: ordering names no field: %s",
				    m->name, m->ordering[i]);
		}
	}
	if ((rc = together_check(app, m)) != KILN_OK)
		return rc;
	if (kiln__ptrs_push(&db->models, a, mt) != KILN_OK)
		return kiln__app_error(app, KILN_ENOMEM, "out of memory");
	/* The link models of m2m relations come right after the model. */
	return kiln__orm_m2m_register(app, mt);
}

/* ---- conversions ------------------------------------------------------ */

static kiln_err
bad(kiln_app *app, const kiln_model *m, const kiln_field *f, const char *why)
{
	return kiln__app_error(app, KILN_EINVAL, "%s.%s: %s", m->name, f->name,
	    why);
}

static void
set_str(kiln_val *out, kiln_arena *a, const char *p, size_t len)
{
	out->type = KILN_VAL_STR;
	out->u.s.ptr = p;
	out->u.s.len = len;
	out->a = a;
}

/* Text of a scalar value (numbers formatted); false for lists and maps. */
static bool
as_text(kiln_arena *a, const kiln_val *v, kiln_str *s)
{
	char *p = NULL;

	switch (v->type) {
	case KILN_VAL_STR:
	case KILN_VAL_SAFE:
		*s = v->u.s;
		if (s->ptr == NULL)
			s->ptr = "";
		return true;
	case KILN_VAL_INT:
		p = kiln_arena_printf(a, "%lld", (long long)v->u.i);
		break;
	case KILN_VAL_FLOAT:
		p = kiln_arena_printf(a, "%.17g", v->u.f);
		break;
	case KILN_VAL_BOOL:
		p = kiln_arena_strdup(a, v->u.b ? "True" : "False");
		break;
	default:
		return false;
	}
	if (p == NULL)
		return false;
	*s = kiln_str_c(p);
	return true;
}

/* Parses an integer from v. */
static bool
as_int(const kiln_val *v, int64_t *out)
{
	kiln_str s;
	size_t i = 0, j;

	switch (v->type) {
	case KILN_VAL_INT:
		*out = v->u.i;
		return true;
	case KILN_VAL_BOOL:
		*out = v->u.b ? 1 : 0;
		return true;
	case KILN_VAL_FLOAT:
		if (!isfinite(v->u.f) || v->u.f != floor(v->u.f) ||
		    fabs(v->u.f) > 9.0e18)
			return false;
		*out = (int64_t)v->u.f;
		return true;
	case KILN_VAL_STR:
	case KILN_VAL_SAFE:
		s = v->u.s;
		while (i < s.len && isspace((unsigned char)s.ptr[i]))
			i++;
		j = s.len;
		while (j > i && isspace((unsigned char)s.ptr[j - 1]))
			j--;
		return kiln_str_to_i64((kiln_str){ s.ptr + i, j - i }, out) ==
		    KILN_OK;
	default:
		return false;
	}
}

/* Parses a finite double from v. */
static bool
as_float(kiln_arena *a, const kiln_val *v, double *out)
{
	const char *c;
	char *end;

	switch (v->type) {
	case KILN_VAL_INT:
		*out = (double)v->u.i;
		return true;
	case KILN_VAL_FLOAT:
		*out = v->u.f;
		return isfinite(v->u.f);
	case KILN_VAL_STR:
	case KILN_VAL_SAFE:
		if (v->u.s.len == 0 || memchr(v->u.s.ptr, '\0', v->u.s.len))
			return false;
		if ((c = kiln_str_cstr(a, v->u.s)) == NULL)
			return false;
		*out = strtod(c, &end);
		while (isspace((unsigned char)*end))
			end++;
		return *end == '\0' && end != c && isfinite(*out);
	default:
		return false;
	}
}

/* Counts UTF-8 characters. */
static size_t
u8count(kiln_str s)
{
	size_t i, n = 0;

	for (i = 0; i < s.len; i++)
		if (((unsigned char)s.ptr[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Reads exactly n digits at p into *out. */
static bool
digits(const char *p, size_t n, int *out)
{
	size_t i;

	*out = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return false;
		*out = *out * 10 + (p[i] - '0');
	}
	return true;
}

/*
 * Parses "YYYY-MM-DD" (date) or a datetime "YYYY-MM-DD[ T]HH:MM[:SS[.f]]"
 * with an optional "Z" or "+00:00", and writes the canonical text to buf
 * (at least 32 bytes). A bare date is midnight when want_time.
 */
static bool
parse_when(kiln_str s, bool want_time, char *buf, size_t size)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	int y, mo, d, h = 0, mi = 0, sec = 0, us = 0, k;
	size_t i = 10, nf;
	const char *p = s.ptr;

	if (s.len < 10 || !digits(p, 4, &y) || p[4] != '-' ||
	    !digits(p + 5, 2, &mo) || p[7] != '-' || !digits(p + 8, 2, &d))
		return false;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return false;
	if (!want_time) {
		if (s.len != 10)
			return false;
		snprintf(buf, size, "%04d-%02d-%02d", y, mo, d);
		return true;
	}
	if (s.len > 10) {
		if ((p[10] != ' ' && p[10] != 'T') || s.len < 16 ||
		    !digits(p + 11, 2, &h) || p[13] != ':' ||
		    !digits(p + 14, 2, &mi))
			return false;
		i = 16;
		if (i < s.len && p[i] == ':') {
			if (s.len < 19 || !digits(p + 17, 2, &sec))
				return false;
			i = 19;
			if (i < s.len && p[i] == '.') {
				for (nf = 0, i++;
				     i < s.len && isdigit((unsigned char)p[i]);
				     i++, nf++) {
					if (nf < 6)
						us = us * 10 + (p[i] - '0');
				}
				if (nf == 0)
					return false;
				for (k = (int)(nf < 6 ? nf : 6); k < 6; k++)
					us *= 10;
			}
		}
		if (i < s.len && p[i] == 'Z')
			i++;
		else if (s.len - i == 6 && strncmp(p + i, "+00:00", 6) == 0)
			i += 6;
		if (i != s.len || h > 23 || mi > 59 || sec > 59)
			return false;
	}
	if (us != 0)
		snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d.%06d", y, mo,
		    d, h, mi, sec, us);
	else
		snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d,
		    h, mi, sec);
	return true;
}

/* Normalises a UUID (32 hex, or 36 with dashes) to 36 lowercase. */
static bool
parse_uuid(kiln_str s, char *buf)
{
	size_t i, n = 0;

	if (s.len != 32 && s.len != 36)
		return false;
	for (i = 0; i < s.len; i++) {
		if (s.len == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (s.ptr[i] != '-')
				return false;
			continue;
		}
		if (!isxdigit((unsigned char)s.ptr[i]))
			return false;
		if (n >= 36)
			return false;
		buf[n++] = (char)tolower((unsigned char)s.ptr[i]);
		if (n == 8 || n == 13 || n == 18 || n == 23)
			buf[n++] = '-';
	}
	buf[36] = '\0';
	return n == 36;
}

/*
 * Parses a decimal number and writes it with exactly places digits after
 * the point. Fails on bad syntax, or more digits than allowed.
 */
static bool
parse_decimal(kiln_arena *a, const kiln_val *v, unsigned maxd, unsigned places,
    kiln_str *out)
{
	kiln_str s;
	kiln_buf b;
	size_t i = 0, ip, fp, fs, k;
	bool neg = false;

	if (v->type == KILN_VAL_FLOAT) {
		if (!isfinite(v->u.f))
			return false;
		s = kiln_str_c(
		    kiln_arena_printf(a, "%.*f", (int)places, v->u.f));
	} else if (!as_text(a, v, &s)) {
		return false;
	}
	if (s.ptr == NULL)
		return false;
	if (i < s.len && (s.ptr[i] == '-' || s.ptr[i] == '+'))
		neg = s.ptr[i++] == '-';
	for (ip = i; i < s.len && isdigit((unsigned char)s.ptr[i]); i++)
		;
	ip = i - ip;
	fs = i;
	fp = 0;
	if (i < s.len && s.ptr[i] == '.') {
		fs = ++i;
		for (; i < s.len && isdigit((unsigned char)s.ptr[i]); i++)
			fp++;
	}
	if (i != s.len || ip + fp == 0)
		return false;
	/* Extra fraction digits must be zeros. */
	for (k = places; k < fp; k++)
		if (s.ptr[fs + k] != '0')
			return false;
	kiln_buf_init(&b, a, s.len + places + 2);
	if (neg)
		kiln_buf_append_char(&b, '-');
	i = s.ptr[0] == '-' || s.ptr[0] == '+' ? 1 : 0;
	while (ip > 1 && s.ptr[i] == '0') {
		i++;
		ip--;
	}
	if (ip == 0)
		kiln_buf_append_char(&b, '0');
	else
		kiln_buf_append(&b, s.ptr + i, ip);
	if (ip > (size_t)(maxd - places) && !(ip == 1 && s.ptr[i] == '0'))
		return false;
	if (places > 0) {
		kiln_buf_append_char(&b, '.');
		for (k = 0; k < places; k++)
			kiln_buf_append_char(&b, k < fp ? s.ptr[fs + k] : '0');
	}
	if (b.oom)
		return false;
	*out = kiln_buf_str(&b);
	if (neg && strspn(out->ptr + 1, "0.") == out->len - 1) {
		out->ptr++; /* "-0.00" is "0.00" */
		out->len--;
	}
	return true;
}

static bool
email_ok(kiln_str s)
{
	const char *at = memchr(s.ptr, '@', s.len);
	size_t i, local, dom;

	if (at == NULL)
		return false;
	local = (size_t)(at - s.ptr);
	dom = s.len - local - 1;
	if (local == 0 || dom < 3 || memchr(at + 1, '@', dom) != NULL ||
	    memchr(at + 1, '.', dom) == NULL || at[1] == '.' ||
	    s.ptr[s.len - 1] == '.')
		return false;
	for (i = 0; i < s.len; i++)
		if ((unsigned char)s.ptr[i] <= ' ' || s.ptr[i] == 0x7f)
			return false;
	return true;
}

static bool
slug_ok(kiln_str s)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if (!isalnum((unsigned char)s.ptr[i]) && s.ptr[i] != '-' &&
		    s.ptr[i] != '_')
			return false;
	return s.len > 0;
}

/* The checks only saving makes on text: length, format, choices. */
static kiln_err
text_checks(kiln_app *app, kiln_arena *a, const kiln_model *m,
    const kiln_field *f, kiln_str s)
{
	unsigned max = f->max_length != 0 ? f->max_length :
	    f->type == KILN_FIELD_FILE	  ? 100 :
					    255;
	size_t i;

	if (!kiln_utf8_valid(s))
		return bad(app, m, f, "not valid UTF-8");
	if (f->type == KILN_FIELD_FILE && !kiln__file_name_ok(s))
		return bad(app, m, f,
		    "a file name is relative, without '..', '\\' or control "
		    "characters");
	if ((f->type == KILN_FIELD_CHAR || f->type == KILN_FIELD_EMAIL ||
		f->type == KILN_FIELD_SLUG || f->type == KILN_FIELD_FILE) &&
	    u8count(s) > max)
		return kiln__app_error(app, KILN_EINVAL,
		    "%s.%s: at most %u characters (it has %zu)", m->name,
		    f->name, max, u8count(s));
	if (f->type == KILN_FIELD_EMAIL && !email_ok(s))
		return bad(app, m, f, "not an email address");
	if (f->type == KILN_FIELD_SLUG && !slug_ok(s))
		return bad(app, m, f,
		    "a slug is letters, digits, hyphens and underscores");
	if (f->type == KILN_FIELD_JSON &&
	    kiln_json_parse(a, s, 0, NULL, 0) == NULL)
		return bad(app, m, f, "not valid JSON");
	if (f->choices != NULL) {
		for (i = 0; f->choices[i] != NULL; i++)
			if (kiln_str_eq_c(s, f->choices[i]))
				return KILN_OK;
		return bad(app, m, f, "not one of the choices");
	}
	return KILN_OK;
}

/* Cleans a value for the text-like kinds (and JSON from lists/maps). */
static kiln_err
clean_text(kiln_app *app, kiln_arena *a, const kiln_model *m,
    const kiln_field *f, const kiln_val *v, bool strict, kiln_val *out)
{
	char buf[128];
	kiln_str s;
	kiln_err rc;

	if (f->type == KILN_FIELD_JSON &&
	    (v->type == KILN_VAL_LIST || v->type == KILN_VAL_MAP)) {
		if (kiln_json_dump(a, v, &s) != KILN_OK)
			return bad(app, m, f, "cannot be written as JSON");
	} else if (!as_text(a, v, &s)) {
		return bad(app, m, f, "expected text");
	}
	if (f->type == KILN_FIELD_DATE || f->type == KILN_FIELD_DATETIME) {
		if (!parse_when(s, f->type == KILN_FIELD_DATETIME, buf,
			sizeof(buf)))
			return bad(app, m, f,
			    f->type == KILN_FIELD_DATE ?
				"expected a date YYYY-MM-DD" :
				"expected a datetime YYYY-MM-DD HH:MM:SS");
		s = kiln_str_dup(a, kiln_str_c(buf));
	} else if (f->type == KILN_FIELD_UUID) {
		if (!parse_uuid(s, buf))
			return bad(app, m, f, "expected a UUID");
		s = kiln_str_dup(a, kiln_str_c(buf));
	} else if (strict && (rc = text_checks(app, a, m, f, s)) != KILN_OK) {
		return rc;
	}
	if (s.ptr == NULL)
		return kiln__app_error(app, KILN_ENOMEM, "out of memory");
	set_str(out, a, s.ptr, s.len);
	return KILN_OK;
}

kiln_err
kiln__orm_clean(kiln_app *app, kiln_arena *a, const kiln_model *m,
    const kiln_field *f, const kiln_val *v, bool strict, kiln_val *out)
{
	kiln_str s;
	int64_t i;
	double d;

	memset(out, 0, sizeof(*out));
	out->a = a;
	if (v == NULL || v->type == KILN_VAL_NULL) {
		out->type = KILN_VAL_NULL;
		if (strict && (f->flags & KILN_F_NULL) == 0 &&
		    f->type != KILN_FIELD_AUTO)
			return bad(app, m, f, "may not be NULL");
		return KILN_OK;
	}
	switch (f->type) {
	case KILN_FIELD_AUTO:
	case KILN_FIELD_INT:
	case KILN_FIELD_BIGINT:
	case KILN_FIELD_FK:
		if (!as_int(v, &i))
			return bad(app, m, f, "expected an integer");
		if (strict && f->type == KILN_FIELD_INT &&
		    (i < INT32_MIN || i > INT32_MAX))
			return bad(app, m, f, "out of the 32-bit range");
		out->type = KILN_VAL_INT;
		out->u.i = i;
		return KILN_OK;
	case KILN_FIELD_FLOAT:
		if (!as_float(a, v, &d))
			return bad(app, m, f, "expected a number");
		out->type = KILN_VAL_FLOAT;
		out->u.f = d;
		return KILN_OK;
	case KILN_FIELD_BOOL:
		out->type = KILN_VAL_BOOL;
		if (v->type == KILN_VAL_BOOL) {
			out->u.b = v->u.b;
			return KILN_OK;
		}
		if (as_int(v, &i) && (i == 0 || i == 1)) {
			out->u.b = i == 1;
			return KILN_OK;
		}
		if (as_text(a, v, &s) &&
		    (kiln_str_caseeq(s, KILN_STR("true")) ||
			kiln_str_caseeq(s, KILN_STR("false")))) {
			out->u.b = kiln_str_caseeq(s, KILN_STR("true"));
			return KILN_OK;
		}
		return bad(app, m, f, "expected true or false");
	case KILN_FIELD_DECIMAL:
		if (!parse_decimal(a, v, f->max_digits ? f->max_digits : 10,
			f->decimal_places, &s))
			return kiln__app_error(app, KILN_EINVAL,
			    "%s.%s: expected a decimal with at most %u digits, "
			    "%u after the point",
			    m->name, f->name,
			    f->max_digits ? f->max_digits : 10,
			    f->decimal_places);
		set_str(out, a, s.ptr, s.len);
		return KILN_OK;
	default:
		return clean_text(app, a, m, f, v, strict, out);
	}
}

const kiln_val *
kiln__orm_bind(kiln_arena *a, const kiln_field *f, const kiln_val *v)
{
	kiln_val *b;
	char *hex;
	size_t i, n = 0;

	if (v == NULL || v->type == KILN_VAL_NULL)
		return v;
	if (v->type == KILN_VAL_BOOL)
		return kiln_val_int(a, v->u.b ? 1 : 0);
	if (f->type == KILN_FIELD_UUID && v->type == KILN_VAL_STR &&
	    v->u.s.len == 36) {
		if ((hex = kiln_arena_alloc(a, 33)) == NULL)
			return NULL;
		for (i = 0; i < 36; i++)
			if (v->u.s.ptr[i] != '-')
				hex[n++] = v->u.s.ptr[i];
		hex[n] = '\0';
		if ((b = kiln_val_str(a, (kiln_str){ hex, n })) == NULL)
			return NULL;
		return b;
	}
	return v;
}

kiln_err
kiln__orm_from_db(kiln_arena *a, const kiln_field *f, const kiln_val *in,
    kiln_val *out)
{
	char buf[128];
	kiln_str s;
	int64_t i;
	double d;

	*out = *in;
	out->a = a;
	if (in->type == KILN_VAL_NULL)
		return KILN_OK;
	switch (f->type) {
	case KILN_FIELD_AUTO:
	case KILN_FIELD_INT:
	case KILN_FIELD_BIGINT:
	case KILN_FIELD_FK:
		if (!as_int(in, &i))
			return KILN_EINVAL;
		out->type = KILN_VAL_INT;
		out->u.i = i;
		return KILN_OK;
	case KILN_FIELD_FLOAT:
		if (!as_float(a, in, &d))
			return KILN_EINVAL;
		out->type = KILN_VAL_FLOAT;
		out->u.f = d;
		return KILN_OK;
	case KILN_FIELD_BOOL:
		if (!as_int(in, &i))
			return KILN_EINVAL;
		out->type = KILN_VAL_BOOL;
		out->u.b = i != 0;
		return KILN_OK;
	case KILN_FIELD_DECIMAL:
		if (!parse_decimal(a, in, 38, f->decimal_places, &s))
			return KILN_EINVAL;
		set_str(out, a, s.ptr, s.len);
		return KILN_OK;
	case KILN_FIELD_DATE:
	case KILN_FIELD_DATETIME:
		if (in->type == KILN_VAL_STR &&
		    parse_when(in->u.s, f->type == KILN_FIELD_DATETIME, buf,
			sizeof(buf))) {
			s = kiln_str_dup(a, kiln_str_c(buf));
			set_str(out, a, s.ptr, s.len);
		}
		return KILN_OK;
	case KILN_FIELD_UUID:
		if (in->type == KILN_VAL_STR && parse_uuid(in->u.s, buf)) {
			s = kiln_str_dup(a, kiln_str_c(buf));
			set_str(out, a, s.ptr, s.len);
		}
		return KILN_OK;
	default:
		if (in->type != KILN_VAL_STR && as_text(a, in, &s))
			set_str(out, a, s.ptr, s.len);
		return KILN_OK;
	}
}
