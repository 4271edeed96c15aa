/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Rows (model instances): creation with defaults, typed access, save
 * (UPDATE, falling back to INSERT when no row matched, as Django does),
 * delete with on_delete handled in one transaction, refresh, lazy FK
 * access, and the model signals. A row and everything it points at live
 * in one arena; values are kept in canonical form (model.c).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <kiln/kiln.h>

#include "orm_int.h"

kiln_row *
kiln__orm_row_load(kiln_app *app, kiln_arena *a, const kiln__meta *mt,
    const kiln_val *vals, const char *alias)
{
	struct {
		kiln_row r;
		kiln_val v[];
	} * one;
	kiln_row *r;
	size_t i, n = mt->m->nfields;

	/* The row and its values in one allocation: one per row fetched. */
	if ((one = kiln_arena_calloc(a, 1,
		 sizeof(*one) + n * sizeof(kiln_val))) == NULL ||
	    (one->r.rel = kiln_arena_calloc(a, n, sizeof(*one->r.rel))) == NULL)
		return NULL;
	r = &one->r;
	r->vals = one->v;
	r->app = app;
	r->a = a;
	r->mt = mt;
	r->db = alias;
	for (i = 0; i < n; i++) {
		if (kiln__orm_from_db(a, &mt->m->fields[i], &vals[i],
			&r->vals[i]) != KILN_OK) {
			kiln__app_error(app, KILN_EDB,
			    "%s.%s: the database returned a value of the "
			    "wrong kind",
			    mt->m->name, mt->m->fields[i].name);
			return NULL;
		}
	}
	return r;
}

kiln_err
kiln__orm_run(kiln_db_conn *c, kiln_arena *a, const kiln__sql *s,
    kiln_val ***rows, size_t *n, int64_t *affected, int64_t *insert_id)
{
	kiln_db_cursor *cur;
	kiln_val **v = NULL, **grown, *row;
	size_t cap = 0;
	kiln_err rc;

	if (rows != NULL)
		*rows = NULL;
	if (n != NULL)
		*n = 0;
	if ((rc = kiln_db_query(c, a, kiln_buf_str(&s->b), s->params,
		 s->nparams, &cur)) != KILN_OK)
		return rc;
	if (affected != NULL)
		*affected = kiln_db_affected(cur);
	if (insert_id != NULL)
		*insert_id = kiln_db_insert_id(cur);
	for (;;) {
		if ((rc = kiln_db_next(cur, &row)) != KILN_OK)
			return rc;
		if (row == NULL)
			break;
		if (rows == NULL)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((grown = kiln_arena_alloc(a,
				 cap * sizeof(*grown))) == NULL) {
				kiln_db_close(cur);
				return kiln__app_error(kiln_db_app(c),
				    KILN_ENOMEM, "out of memory");
			}
			if (*n > 0)
				memcpy(grown, v, *n * sizeof(*grown));
			v = grown;
		}
		v[(*n)++] = row;
	}
	if (rows != NULL)
		*rows = v;
	return KILN_OK;
}

kiln_err
kiln__orm_sql_start(kiln__sql *s, kiln_arena *a, size_t len, size_t cap)
{
	memset(s, 0, sizeof(*s));
	kiln_buf_init(&s->b, a, len);
	if (cap > SIZE_MAX / sizeof(*s->params) ||
	    (s->params = kiln_arena_alloc(a, cap * sizeof(*s->params))) == NULL)
		return KILN_ENOMEM;
	s->capparams = cap;
	return KILN_OK;
}

size_t
kiln__orm_batch_rows(size_t per, size_t max)
{
	size_t n = KILN__ORM_MAXPARAMS / per;

	if (n > max)
		n = max;
	return n > 0 ? n : 1;
}

const char *
kiln__orm_write_alias(kiln_app *app, const kiln_model *m,
    const char *explicit_alias, const char *own)
{
	const char *alias;

	if (explicit_alias != NULL)
		return explicit_alias;
	if ((alias = kiln__db_route_write(app, m)) != NULL)
		return alias;
	return own != NULL ? own : "default";
}

kiln_row *
kiln_row_new(kiln_app *app, kiln_arena *a, const kiln_model *m)
{
	const kiln__meta *mt = kiln__orm_meta(app, m);
	const kiln_field *f;
	kiln_val *def;
	kiln_row *r;
	size_t i;

	if (mt == NULL)
		return NULL;
	if ((r = kiln_arena_calloc(a, 1, sizeof(*r))) == NULL ||
	    (r->vals = kiln_arena_calloc(a, m->nfields, sizeof(*r->vals))) ==
		NULL ||
	    (r->rel = kiln_arena_calloc(a, m->nfields, sizeof(*r->rel))) ==
		NULL) {
		kiln__app_error(app, KILN_ENOMEM, "out of memory");
		return NULL;
	}
	r->app = app;
	r->a = a;
	r->mt = mt;
	for (i = 0; i < m->nfields; i++) {
		f = &m->fields[i];
		r->vals[i].type = KILN_VAL_NULL;
		r->vals[i].a = a;
		if (f->def == NULL)
			continue;
		if ((def = kiln_val_cstr(a, f->def)) == NULL ||
		    kiln__orm_clean(app, a, m, f, def, false, &r->vals[i]) !=
			KILN_OK)
			return NULL;
	}
	return r;
}

const kiln_model *
kiln_row_model(const kiln_row *r)
{
	return r->mt->m;
}

const char *
kiln_row_db(const kiln_row *r)
{
	return r->db;
}

/* Returns the field index of name on r, or -1 with a message. */
static long
row_field(const kiln_row *r, const char *name)
{
	long i = kiln__orm_field_index(r->mt->m, name);

	if (i < 0)
		kiln__app_error(r->app, KILN_ENOTFOUND, "%s has no field %s",
		    r->mt->m->name, name);
	return i;
}

kiln_err
kiln_row_set(kiln_row *r, const char *field, const kiln_val *v)
{
	long i = row_field(r, field);
	kiln_val clean;
	kiln_err rc;

	if (i < 0)
		return KILN_ENOTFOUND;
	if ((rc = kiln__orm_clean(r->app, r->a, r->mt->m, &r->mt->m->fields[i],
		 v, true, &clean)) != KILN_OK)
		return rc;
	/* Strings were copied into r->a by the cleaning, or are v's own. */
	if (clean.type == KILN_VAL_STR && v != NULL &&
	    clean.u.s.ptr == v->u.s.ptr)
		clean.u.s = kiln_str_dup(r->a, clean.u.s);
	if (clean.type == KILN_VAL_STR && clean.u.s.ptr == NULL)
		return kiln__app_error(r->app, KILN_ENOMEM, "out of memory");
	r->vals[i] = clean;
	r->rel[i] = NULL;
	return KILN_OK;
}

kiln_err
kiln_row_set_int(kiln_row *r, const char *field, int64_t i)
{
	kiln_val v = { .type = KILN_VAL_INT, .u.i = i, .a = r->a };

	return kiln_row_set(r, field, &v);
}

kiln_err
kiln_row_set_float(kiln_row *r, const char *field, double f)
{
	kiln_val v = { .type = KILN_VAL_FLOAT, .u.f = f, .a = r->a };

	return kiln_row_set(r, field, &v);
}

kiln_err
kiln_row_set_bool(kiln_row *r, const char *field, bool b)
{
	kiln_val v = { .type = KILN_VAL_BOOL, .u.b = b, .a = r->a };

	return kiln_row_set(r, field, &v);
}

kiln_err
kiln_row_set_str(kiln_row *r, const char *field, const char *s)
{
	kiln_val v = { .type = KILN_VAL_NULL, .a = r->a };

	if (s != NULL) {
		v.type = KILN_VAL_STR;
		v.u.s = kiln_str_c(s);
	}
	return kiln_row_set(r, field, &v);
}

const kiln_val *
kiln_row_get(const kiln_row *r, const char *field)
{
	long i = kiln__orm_field_index(r->mt->m, field);
	size_t k;

	if (i >= 0)
		return &r->vals[i];
	for (k = 0; k < r->nann; k++)
		if (strcmp(r->ann_names[k], field) == 0)
			return &r->ann[k];
	return NULL;
}

int64_t
kiln_row_int(const kiln_row *r, const char *field)
{
	const kiln_val *v = kiln_row_get(r, field);

	if (v == NULL)
		return 0;
	if (v->type == KILN_VAL_BOOL)
		return v->u.b;
	return v->type == KILN_VAL_INT ? v->u.i : 0;
}

double
kiln_row_float(const kiln_row *r, const char *field)
{
	const kiln_val *v = kiln_row_get(r, field);

	if (v == NULL)
		return 0.0;
	if (v->type == KILN_VAL_INT)
		return (double)v->u.i;
	return v->type == KILN_VAL_FLOAT ? v->u.f : 0.0;
}

bool
kiln_row_bool(const kiln_row *r, const char *field)
{
	const kiln_val *v = kiln_row_get(r, field);

	return v != NULL && v->type == KILN_VAL_BOOL && v->u.b;
}

const char *
kiln_row_str(const kiln_row *r, const char *field)
{
	const kiln_val *v = kiln_row_get(r, field);

	if (v == NULL || v->type != KILN_VAL_STR || v->u.s.ptr == NULL)
		return "";
	return v->u.s.ptr;
}

bool
kiln_row_is_null(const kiln_row *r, const char *field)
{
	const kiln_val *v = kiln_row_get(r, field);

	return v == NULL || v->type == KILN_VAL_NULL;
}

int64_t
kiln_row_pk(const kiln_row *r)
{
	const kiln_val *v = &r->vals[r->mt->pk];

	return v->type == KILN_VAL_INT ? v->u.i : 0;
}

/* Sends one of the model signals for r. */
static void
row_signal(kiln_row *r, const char *name, bool created, const char *alias)
{
	kiln_signal *sig = kiln_signal_get(r->app, name);
	kiln_orm_event ev;

	if (sig == NULL || !kiln_signal_has_receivers(sig))
		return;
	ev.model = r->mt->m;
	ev.row = r;
	ev.created = created;
	ev.alias = alias;
	kiln_signal_send(sig, r->mt->m, &ev);
}

/* Sets auto_now (always) and auto_now_add (on insert) fields to now. */
static kiln_err
auto_now(kiln_row *r, bool adding)
{
	const kiln_field *f;
	struct timespec ts;
	struct tm tm;
	char buf[96];
	kiln_val *v;
	size_t i;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	for (i = 0; i < r->mt->m->nfields; i++) {
		f = &r->mt->m->fields[i];
		if (!((f->flags & KILN_F_AUTO_NOW) ||
			((f->flags & KILN_F_AUTO_NOW_ADD) && adding)))
			continue;
		if (f->type == KILN_FIELD_DATE)
			strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
		else
			snprintf(buf, sizeof(buf),
			    "%04d-%02d-%02d %02d:%02d:%02d.%06ld",
			    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			    tm.tm_hour, tm.tm_min, tm.tm_sec,
			    (long)(ts.tv_nsec / 1000) % 1000000);
		if ((v = kiln_val_cstr(r->a, buf)) == NULL ||
		    kiln__orm_clean(r->app, r->a, r->mt->m, f, v, false,
			&r->vals[i]) != KILN_OK)
			return KILN_ENOMEM;
	}
	return KILN_OK;
}

/* Checks NOT NULL fields before writing, for a clear message. */
static kiln_err
null_check(kiln_row *r)
{
	const kiln_field *f;
	size_t i;

	for (i = 0; i < r->mt->m->nfields; i++) {
		f = &r->mt->m->fields[i];
		if (r->vals[i].type == KILN_VAL_NULL && i != r->mt->pk &&
		    (f->flags & KILN_F_NULL) == 0)
			return kiln__app_error(r->app, KILN_EINVAL,
			    "%s.%s: may not be NULL", r->mt->m->name, f->name);
	}
	return KILN_OK;
}

/* Writes the statement for an UPDATE (update) or INSERT of r into s. */
static kiln_err
write_sql(kiln_row *r, bool update, bool with_pk, const char *vendor,
    kiln__sql *s)
{
	const kiln__meta *mt = r->mt;
	size_t i, n = 0;
	const kiln_val *b;

	if (kiln__orm_sql_start(s, r->a, 256, mt->m->nfields + 1) != KILN_OK)
		return KILN_ENOMEM;
	kiln_buf_printf(&s->b,
	    update ? "UPDATE \"%s\" SET " :
		     "INSERT INTO "
		     "\"%s\" (",
	    mt->m->table);
	for (i = 0; i < mt->m->nfields; i++) {
		if (i == mt->pk && (update || !with_pk))
			continue;
		kiln_buf_printf(&s->b, update ? "%s\"%s\" = ?" : "%s\"%s\"",
		    n > 0 ? ", " : "", mt->cols[i]);
		if ((b = kiln__orm_bind(r->a, &mt->m->fields[i],
			 &r->vals[i])) == NULL)
			return KILN_ENOMEM;
		s->params[n++] = b;
	}
	if (update) {
		if (n == 0)
			return KILN_EINVAL;
		kiln_buf_printf(&s->b, " WHERE \"%s\" = ?", mt->cols[mt->pk]);
		s->params[n++] = &r->vals[mt->pk];
	} else if (n == 0) {
		s->b.len = 0;
		kiln_buf_printf(&s->b,
		    strcmp(vendor, "mysql") == 0 ? "INSERT INTO \"%s\" () "
						   "VALUES ()" :
						   "INSERT INTO \"%s\" DEFAULT "
						   "VALUES",
		    mt->m->table);
	} else {
		kiln_buf_append_c(&s->b, ") VALUES (");
		for (i = 0; i < n; i++)
			kiln_buf_append_c(&s->b, i > 0 ? ", ?" : "?");
		kiln_buf_append_char(&s->b, ')');
	}
	s->nparams = n;
	return s->b.oom ? KILN_ENOMEM : KILN_OK;
}

kiln_err
kiln_row_save_using(kiln_row *r, const char *alias)
{
	kiln_db_conn *c;
	kiln__sql s;
	int64_t affected = 0, id = 0;
	bool adding = r->vals[r->mt->pk].type == KILN_VAL_NULL;
	kiln_err rc;

	alias = kiln__orm_write_alias(r->app, r->mt->m, alias, r->db);
	if ((c = kiln_db_conn_get(r->app, alias)) == NULL)
		return KILN_EDB;
	if ((rc = auto_now(r, adding)) != KILN_OK)
		return kiln__app_error(r->app, rc, "out of memory");
	row_signal(r, KILN_SIGNAL_PRE_SAVE, adding, alias);
	if ((rc = null_check(r)) != KILN_OK)
		return rc;
	if (!adding) {
		rc = write_sql(r, true, true, kiln_db_vendor(c), &s);
		if (rc == KILN_OK)
			rc = kiln__orm_run(c, r->a, &s, NULL, NULL, &affected,
			    NULL);
		else if (rc == KILN_EINVAL)
			rc = KILN_OK; /* only a key: nothing to update */
		if (rc != KILN_OK)
			return rc;
	}
	if (adding || affected == 0) {
		if ((rc = write_sql(r, false, !adding, kiln_db_vendor(c),
			 &s)) != KILN_OK ||
		    (rc = kiln__orm_run(c, r->a, &s, NULL, NULL, NULL, &id)) !=
			KILN_OK)
			return rc == KILN_ENOMEM ?
			    kiln__app_error(r->app, rc, "out of memory") :
			    rc;
		if (adding) {
			r->vals[r->mt->pk].type = KILN_VAL_INT;
			r->vals[r->mt->pk].u.i = id;
		}
		adding = true;
	}
	r->db = alias;
	row_signal(r, KILN_SIGNAL_POST_SAVE, adding, alias);
	return KILN_OK;
}

/*
 * Inserts rows[0..n) of one model with multi-row INSERTs, at most 100
 * rows (and 30000 parameters, under SQLite's limit) per statement.
 */
static kiln_err
bulk_chunk(kiln_db_conn *c, kiln_row **rows, size_t n)
{
	const kiln__meta *mt = rows[0]->mt;
	kiln__sql s;
	size_t i, k, per = mt->m->nfields;
	const kiln_val *b;
	kiln_arena *a = rows[0]->a;

	if (kiln__orm_sql_start(&s, a, 256, n * per) != KILN_OK)
		return KILN_ENOMEM;
	kiln_buf_printf(&s.b, "INSERT INTO \"%s\" (", mt->m->table);
	for (k = 0; k < per; k++)
		kiln_buf_printf(&s.b, "%s\"%s\"", k > 0 ? ", " : "",
		    mt->cols[k]);
	kiln_buf_append_c(&s.b, ") VALUES ");
	for (i = 0; i < n; i++) {
		kiln_buf_append_c(&s.b, i > 0 ? ", (" : "(");
		for (k = 0; k < per; k++) {
			kiln_buf_append_c(&s.b, k > 0 ? ", ?" : "?");
			if ((b = kiln__orm_bind(a, &mt->m->fields[k],
				 &rows[i]->vals[k])) == NULL)
				return KILN_ENOMEM;
			s.params[s.nparams++] = b;
		}
		kiln_buf_append_char(&s.b, ')');
	}
	if (s.b.oom)
		return KILN_ENOMEM;
	return kiln__orm_run(c, a, &s, NULL, NULL, NULL, NULL);
}

kiln_err
kiln_orm_bulk_create(kiln_row **rows, size_t n)
{
	kiln_db_conn *c;
	size_t i, chunk;
	kiln_err rc;

	if (n == 0)
		return KILN_OK;
	for (i = 0; i < n; i++) {
		if (rows[i]->mt != rows[0]->mt)
			return kiln__app_error(rows[0]->app, KILN_EINVAL,
			    "bulk_create: rows of %s and %s mixed",
			    rows[0]->mt->m->name, rows[i]->mt->m->name);
		if ((rc = auto_now(rows[i], true)) != KILN_OK)
			return kiln__app_error(rows[0]->app, rc,
			    "out of memory");
		if ((rc = null_check(rows[i])) != KILN_OK)
			return rc;
	}
	if ((c = kiln_db_conn_get(rows[0]->app,
		 kiln__orm_write_alias(rows[0]->app, rows[0]->mt->m, NULL,
		     NULL))) == NULL)
		return KILN_EDB;
	chunk = kiln__orm_batch_rows(rows[0]->mt->m->nfields, 100);
	for (i = 0; i < n; i += chunk) {
		if ((rc = bulk_chunk(c, rows + i,
			 n - i < chunk ? n - i : chunk)) != KILN_OK)
			return rc == KILN_ENOMEM ?
			    kiln__app_error(rows[0]->app, rc, "out of memory") :
			    rc;
	}
	for (i = 0; i < n; i++)
		rows[i]->db = kiln_db_alias(c);
	return KILN_OK;
}

kiln_err
kiln_row_save(kiln_row *r)
{
	return kiln_row_save_using(r, NULL);
}

/* Fetches the row of mt whose key is pk on alias into *out (or NULL). */
static kiln_err
fetch_pk(kiln_app *app, kiln_arena *a, const kiln__meta *mt, int64_t pk,
    const char *alias, kiln_row **out)
{
	kiln_qs *qs;

	*out = NULL;
	qs = kiln_qs_new(app, a, mt->m);
	qs = kiln_qs_filter_i(qs, "pk", pk);
	if (alias != NULL)
		qs = kiln_qs_using(qs, alias);
	return kiln_qs_get(qs, out);
}

kiln_err
kiln_row_related(kiln_row *r, const char *fk, kiln_row **out)
{
	long i = row_field(r, fk);
	const kiln_field *f;
	const kiln__meta *tm;
	kiln_err rc;

	*out = NULL;
	if (i < 0)
		return KILN_ENOTFOUND;
	f = &r->mt->m->fields[i];
	if (f->type != KILN_FIELD_FK)
		return kiln__app_error(r->app, KILN_EINVAL,
		    "%s.%s is not a foreign key", r->mt->m->name, f->name);
	if (r->vals[i].type == KILN_VAL_NULL)
		return KILN_OK;
	if (r->rel[i] != NULL) {
		*out = r->rel[i];
		return KILN_OK;
	}
	if ((tm = kiln__orm_meta(r->app, f->to)) == NULL)
		return KILN_EINVAL;
	rc = fetch_pk(r->app, r->a, tm, r->vals[i].u.i,
	    r->db != NULL ? r->db : kiln__db_route_read(r->app, f->to), out);
	if (rc == KILN_OK)
		r->rel[i] = *out;
	return rc;
}

kiln_err
kiln_row_refresh(kiln_row *r)
{
	kiln_row *fresh;
	kiln_err rc;

	if (r->vals[r->mt->pk].type == KILN_VAL_NULL)
		return kiln__app_error(r->app, KILN_EINVAL,
		    "%s: refresh of an unsaved row", r->mt->m->name);
	if ((rc = fetch_pk(r->app, r->a, r->mt, kiln_row_pk(r), r->db,
		 &fresh)) != KILN_OK)
		return rc;
	memcpy(r->vals, fresh->vals, r->mt->m->nfields * sizeof(*r->vals));
	memset(r->rel, 0, r->mt->m->nfields * sizeof(*r->rel));
	r->sets = NULL;
	return KILN_OK;
}

static kiln_err row_delete(kiln_row *r, kiln_db_conn *c, unsigned depth);

/*
 * Applies every FK's on_delete to the rows of other models that point
 * at r: PROTECT refuses, SET_NULL updates, CASCADE deletes row by row.
 */
static kiln_err
collect(kiln_row *r, kiln_db_conn *c, unsigned depth)
{
	const kiln__ptrs *models = kiln__orm_models(r->app);
	const kiln__meta *mt;
	const kiln_field *f;
	kiln_row **rows;
	kiln_qs *qs;
	size_t i, k, n;
	bool any;
	kiln_err rc;

	for (i = 0; i < models->n; i++) {
		mt = models->items[i];
		for (k = 0; k < mt->m->nfields; k++) {
			f = &mt->m->fields[k];
			if (f->type != KILN_FIELD_FK || f->to != r->mt->m)
				continue;
			qs = kiln_qs_new(r->app, r->a, mt->m);
			qs = kiln_qs_filter_i(qs, mt->cols[k], kiln_row_pk(r));
			qs = kiln_qs_using(qs, kiln_db_alias(c));
			if (f->on_delete == KILN_ON_DELETE_PROTECT) {
				if ((rc = kiln_qs_exists(qs, &any)) != KILN_OK)
					return rc;
				if (any)
					return kiln__app_error(r->app,
					    KILN_EINVAL,
					    "cannot delete %s %lld: rows of %s "
					    "point at it through the "
					    "protected key %s",
					    r->mt->m->name,
					    (long long)kiln_row_pk(r),
					    mt->m->name, f->name);
			} else if (f->on_delete == KILN_ON_DELETE_SET_NULL) {
				if ((rc = kiln_qs_update(qs, f->name, NULL,
					 NULL)) != KILN_OK)
					return rc;
			} else {
				if ((rc = kiln_qs_all(qs, &rows, &n)) !=
				    KILN_OK)
					return rc;
				for (; n > 0; n--, rows++)
					if ((rc = row_delete(*rows, c,
						 depth + 1)) != KILN_OK)
						return rc;
			}
		}
	}
	return KILN_OK;
}

/* Deletes r and what cascades from it, inside the caller's transaction. */
static kiln_err
row_delete(kiln_row *r, kiln_db_conn *c, unsigned depth)
{
	const kiln_val *params[1];
	kiln__sql s;
	kiln_err rc;

	if (depth > 100)
		return kiln__app_error(r->app, KILN_ELIMIT,
		    "%s: cascade deeper than 100 levels", r->mt->m->name);
	row_signal(r, KILN_SIGNAL_PRE_DELETE, false, kiln_db_alias(c));
	if ((rc = collect(r, c, depth)) != KILN_OK)
		return rc;
	memset(&s, 0, sizeof(s));
	kiln_buf_init(&s.b, r->a, 64);
	kiln_buf_printf(&s.b, "DELETE FROM \"%s\" WHERE \"%s\" = ?",
	    r->mt->m->table, r->mt->cols[r->mt->pk]);
	if ((params[0] = kiln_val_int(r->a, kiln_row_pk(r))) == NULL || s.b.oom)
		return kiln__app_error(r->app, KILN_ENOMEM, "out of memory");
	s.params = params;
	s.nparams = 1;
	if ((rc = kiln__orm_run(c, r->a, &s, NULL, NULL, NULL, NULL)) !=
	    KILN_OK)
		return rc;
	row_signal(r, KILN_SIGNAL_POST_DELETE, false, kiln_db_alias(c));
	return KILN_OK;
}

/* Clears the keys of r after a delete (Django sets pk to None). */
static void
forget_pk(kiln_row *r)
{
	r->vals[r->mt->pk].type = KILN_VAL_NULL;
}

kiln_err
kiln_row_delete(kiln_row *r)
{
	const char *alias;
	kiln_db_conn *c;
	kiln_err rc;

	if (r->vals[r->mt->pk].type == KILN_VAL_NULL)
		return kiln__app_error(r->app, KILN_EINVAL,
		    "%s: delete of an unsaved row", r->mt->m->name);
	alias = kiln__orm_write_alias(r->app, r->mt->m, NULL, r->db);
	if ((c = kiln_db_conn_get(r->app, alias)) == NULL)
		return KILN_EDB;
	if ((rc = kiln_db_begin(c, r->a)) != KILN_OK)
		return rc;
	if ((rc = row_delete(r, c, 0)) != KILN_OK) {
		if (kiln_db_rollback(c) != KILN_OK) {
			/* The message of the first failure matters more. */
		}
		return rc;
	}
	if ((rc = kiln_db_commit(c)) != KILN_OK)
		return rc;
	forget_pk(r);
	return KILN_OK;
}

kiln_val *
kiln_row_val(const kiln_row *r)
{
	const kiln__meta *mt = r->mt;
	const kiln_field *f;
	kiln_val *map, *v;
	size_t i;

	if ((map = kiln_val_map(r->a)) == NULL)
		return NULL;
	for (i = 0; i < mt->m->nfields; i++) {
		f = &mt->m->fields[i];
		v = kiln_arena_alloc(r->a, sizeof(*v));
		if (v == NULL)
			return NULL;
		*v = r->vals[i];
		if (f->type == KILN_FIELD_JSON && v->type == KILN_VAL_STR &&
		    (v = kiln_json_parse(r->a, v->u.s, 0, NULL, 0)) == NULL)
			return NULL;
		if (kiln_val_set(map,
			f->type == KILN_FIELD_FK ? mt->cols[i] : f->name,
			v) != KILN_OK)
			return NULL;
		if (f->type == KILN_FIELD_FK && r->rel[i] != NULL &&
		    ((v = kiln_row_val(r->rel[i])) == NULL ||
			kiln_val_set(map, f->name, v) != KILN_OK))
			return NULL;
	}
	for (i = 0; i < r->nann; i++)
		if (kiln_val_set(map, r->ann_names[i], &r->ann[i]) != KILN_OK)
			return NULL;
	return map;
}
