/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * QuerySets: builders that copy (a QuerySet never changes once made, so
 * one can be refined in several ways, as in Django), and evaluators that
 * compile (compile.c), pick a database (using(), else the routers, else
 * "default") and run. A builder's failure is kept in the QuerySet and
 * returned by the first evaluator. Rows fetched by kiln_qs_all are kept,
 * so iterating a QuerySet twice runs one query.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/kiln.h>

#include "orm_int.h"

kiln_qs *
kiln_qs_new(kiln_app *app, kiln_arena *a, const kiln_model *m)
{
	const kiln__meta *mt = kiln__orm_meta(app, m);
	kiln_qs *qs;

	if (mt == NULL || (qs = kiln_arena_calloc(a, 1, sizeof(*qs))) == NULL)
		return NULL;
	qs->app = app;
	qs->a = a;
	qs->mt = mt;
	qs->hi = -1;
	return qs;
}

kiln_qs *
kiln_objects(kiln_req *req, const kiln_model *m)
{
	return kiln_qs_new(kiln_req_app(req), kiln_req_arena(req), m);
}

/* A copy of qs without its fetched rows. */
static kiln_qs *
clone(const kiln_qs *qs)
{
	kiln_qs *n;

	if (qs == NULL || (n = kiln_arena_alloc(qs->a, sizeof(*n))) == NULL)
		return NULL;
	*n = *qs;
	n->rows = NULL;
	n->nrows = 0;
	n->fetched = false;
	return n;
}

kiln_q *
kiln_q_new(kiln_arena *a, const char *lookup, const kiln_val *v)
{
	kiln_q *q;

	if (lookup == NULL || (q = kiln_arena_calloc(a, 1, sizeof(*q))) == NULL)
		return NULL;
	q->kind = KILN__Q_LEAF;
	q->lookup = kiln_arena_strdup(a, lookup);
	q->v = v;
	return q->lookup != NULL ? q : NULL;
}

static kiln_q *
q_node(kiln_arena *a, int kind, kiln_q *x, kiln_q *y)
{
	kiln_q *q;

	if (x == NULL || (kind != KILN__Q_NOT && y == NULL) ||
	    (q = kiln_arena_calloc(a, 1, sizeof(*q))) == NULL)
		return NULL;
	q->kind = kind;
	q->x = x;
	q->y = y;
	return q;
}

kiln_q *
kiln_q_and(kiln_arena *a, kiln_q *x, kiln_q *y)
{
	return q_node(a, KILN__Q_AND, x, y);
}

kiln_q *
kiln_q_or(kiln_arena *a, kiln_q *x, kiln_q *y)
{
	return q_node(a, KILN__Q_OR, x, y);
}

kiln_q *
kiln_q_not(kiln_arena *a, kiln_q *x)
{
	return q_node(a, KILN__Q_NOT, x, NULL);
}

kiln_qs *
kiln_qs_where(kiln_qs *qs, kiln_q *q)
{
	kiln_qs *n = clone(qs);

	if (n == NULL || q == NULL)
		return NULL;
	n->where = n->where == NULL ? q : kiln_q_and(n->a, n->where, q);
	return n->where != NULL ? n : NULL;
}

kiln_qs *
kiln_qs_filter(kiln_qs *qs, const char *lookup, const kiln_val *v)
{
	return qs == NULL ? NULL :
			    kiln_qs_where(qs, kiln_q_new(qs->a, lookup, v));
}

kiln_qs *
kiln_qs_filter_i(kiln_qs *qs, const char *lookup, int64_t i)
{
	return qs == NULL ? NULL :
			    kiln_qs_filter(qs, lookup, kiln_val_int(qs->a, i));
}

kiln_qs *
kiln_qs_filter_s(kiln_qs *qs, const char *lookup, const char *s)
{
	if (qs == NULL)
		return NULL;
	return kiln_qs_filter(qs, lookup,
	    s != NULL ? kiln_val_cstr(qs->a, s) : kiln_val_null(qs->a));
}

kiln_qs *
kiln_qs_exclude(kiln_qs *qs, const char *lookup, const kiln_val *v)
{
	if (qs == NULL)
		return NULL;
	return kiln_qs_where(qs,
	    kiln_q_not(qs->a, kiln_q_new(qs->a, lookup, v)));
}

/*
 * Appends a copy of s to the string list *l of *n entries. The list is
 * copied, not grown in place: the QuerySet it came from still uses it.
 * False when out of memory.
 */
static bool
list_add(kiln_arena *a, const char ***l, size_t *n, const char *s)
{
	const char **nl = kiln_arena_alloc(a, (*n + 1) * sizeof(*nl));

	if (nl == NULL || (s = kiln_arena_strdup(a, s)) == NULL)
		return false;
	if (*n > 0)
		memcpy(nl, *l, *n * sizeof(*nl));
	nl[*n] = s;
	*l = nl;
	(*n)++;
	return true;
}

kiln_qs *
kiln_qs_order_by(kiln_qs *qs, const char *field, ...)
{
	kiln_qs *n = clone(qs);
	const char *f;
	va_list ap;

	if (n == NULL)
		return NULL;
	n->order = NULL;
	n->norder = 0;
	n->order_set = true;
	va_start(ap, field);
	for (f = field; f != NULL; f = va_arg(ap, const char *)) {
		if (!list_add(n->a, &n->order, &n->norder, f)) {
			va_end(ap);
			return NULL;
		}
	}
	va_end(ap);
	return n;
}

kiln_qs *
kiln_qs_slice(kiln_qs *qs, int64_t start, int64_t stop)
{
	kiln_qs *n = clone(qs);
	int64_t lo, hi;

	if (n == NULL)
		return NULL;
	if (start < 0 || (stop < 0 && stop != -1)) {
		n->err = KILN_EINVAL;
		n->errmsg = "negative indexing is not supported";
		return n;
	}
	if (start > INT64_MAX - n->lo || stop > INT64_MAX - n->lo) {
		n->err = KILN_ELIMIT;
		n->errmsg = "slice bounds too large";
		return n;
	}
	/* A slice of a slice is relative to it, as in Python. */
	lo = n->lo + start;
	hi = stop < 0 ? n->hi : n->lo + stop;
	if (n->hi >= 0 && hi > n->hi)
		hi = n->hi;
	if (n->hi >= 0 && lo > n->hi)
		lo = n->hi;
	n->lo = lo;
	n->hi = hi;
	return n;
}

kiln_qs *
kiln_qs_select_related(kiln_qs *qs, const char *path)
{
	kiln_qs *n = clone(qs);

	if (n == NULL || path == NULL ||
	    !list_add(n->a, &n->related, &n->nrelated, path))
		return NULL;
	return n;
}

kiln_qs *
kiln_qs_prefetch_related(kiln_qs *qs, const char *name)
{
	kiln_qs *n = clone(qs);

	if (n == NULL || name == NULL ||
	    !list_add(n->a, &n->prefetch, &n->nprefetch, name))
		return NULL;
	return n;
}

kiln_qs *
kiln_qs_annotate(kiln_qs *qs, const char *name, kiln_agg agg, const char *path)
{
	kiln_qs *n = clone(qs);
	const char **names, **paths;
	kiln_agg *aggs;
	size_t k;

	if (n == NULL || name == NULL || path == NULL)
		return NULL;
	if (!kiln__orm_ident_ok(name) ||
	    kiln__orm_field_index(n->mt->m, name) >= 0 || (int)agg < 0 ||
	    agg >= KILN_AGG__MAX || n->nann == KILN__ORM_MAXANN) {
		n->err = KILN_EINVAL;
		n->errmsg = "annotate: the name must be an identifier that is "
			    "not a field, with a known function (at most 16)";
		return n;
	}
	names = kiln_arena_alloc(n->a, (n->nann + 1) * sizeof(*names));
	paths = kiln_arena_alloc(n->a, (n->nann + 1) * sizeof(*paths));
	aggs = kiln_arena_alloc(n->a, (n->nann + 1) * sizeof(*aggs));
	if (names == NULL || paths == NULL || aggs == NULL)
		return NULL;
	for (k = 0; k < n->nann; k++) {
		names[k] = n->ann_names[k];
		paths[k] = n->ann_paths[k];
		aggs[k] = n->ann_aggs[k];
	}
	if ((names[k] = kiln_arena_strdup(n->a, name)) == NULL ||
	    (paths[k] = kiln_arena_strdup(n->a, path)) == NULL)
		return NULL;
	aggs[k] = agg;
	n->ann_names = names;
	n->ann_paths = paths;
	n->ann_aggs = aggs;
	n->nann++;
	return n;
}

kiln_qs *
kiln_qs_distinct(kiln_qs *qs)
{
	kiln_qs *n = clone(qs);

	if (n != NULL)
		n->distinct = true;
	return n;
}

kiln_qs *
kiln_qs_using(kiln_qs *qs, const char *alias)
{
	kiln_qs *n = clone(qs);

	if (n != NULL && alias != NULL &&
	    (n->alias = kiln_arena_strdup(n->a, alias)) == NULL)
		return NULL;
	return n;
}

/* Checks qs before running; returns its kept error with the message. */
static kiln_err
usable(kiln_qs *qs)
{
	if (qs == NULL)
		return KILN_ENOMEM;
	if (qs->err != KILN_OK)
		return kiln__app_error(qs->app, qs->err, "%s: %s",
		    qs->mt->m->name, qs->errmsg);
	return KILN_OK;
}

/* The connection qs reads from. */
static kiln_db_conn *
read_conn(kiln_qs *qs)
{
	const char *alias = qs->alias;

	if (alias == NULL)
		alias = kiln_db_for_read(qs->app, qs->mt->m);
	return kiln_db_conn_get(qs->app, alias);
}

/*
 * Compiles and runs qs in mode on the connection it reads from (put in
 * *cp when cp is not NULL); rows as database values.
 */
static kiln_err
run(kiln_qs *qs, kiln__sqlmode mode, kiln_agg agg, const char *field,
    int ordmode, kiln_db_conn **cp, kiln__sql *s, kiln_val ***rows, size_t *n)
{
	kiln_db_conn *c;
	kiln_err rc;

	if ((c = read_conn(qs)) == NULL)
		return KILN_EDB;
	if (cp != NULL)
		*cp = c;
	*rows = NULL;
	*n = 0;
	if ((rc = kiln__orm_compile(qs, kiln_db_vendor(c), mode, agg, field,
		 NULL, ordmode, s)) != KILN_OK)
		return rc;
	if (s->empty && mode != KILN__SQL_COUNT && mode != KILN__SQL_AGG)
		return KILN_OK;
	return kiln__orm_run(c, qs->a, s, rows, n, NULL, NULL);
}

static kiln_err agg_value(kiln_qs *qs, kiln_agg agg, const kiln_field *f,
    const kiln_val *in, kiln_val **out);

/* Files the annotations of one result row on r. */
static kiln_err
load_ann(kiln_qs *qs, const kiln__sql *s, const kiln_val *vals, kiln_row *r)
{
	kiln_val *v;
	size_t k;
	kiln_err rc;

	if ((r->ann = kiln_arena_calloc(qs->a, qs->nann, sizeof(*r->ann))) ==
	    NULL)
		return kiln__app_error(qs->app, KILN_ENOMEM, "out of memory");
	for (k = 0; k < qs->nann; k++) {
		if ((rc = agg_value(qs, qs->ann_aggs[k], s->af[k],
			 &vals[s->ann_col0 + k], &v)) != KILN_OK)
			return rc;
		if (qs->ann_aggs[k] == KILN_AGG_COUNT &&
		    v->type != KILN_VAL_INT)
			v = kiln_val_int(qs->a, 0);
		if (v == NULL)
			return KILN_ENOMEM;
		r->ann[k] = *v;
	}
	r->ann_names = qs->ann_names;
	r->nann = qs->nann;
	return KILN_OK;
}

/* Turns result rows into row objects, with their select_related rows. */
static kiln_err
load(kiln_qs *qs, const kiln__sql *s, kiln_val **vals, size_t n,
    const char *alias, kiln_row ***out)
{
	kiln_row **rows, *rel[KILN__ORM_MAXJOIN], *parent;
	const kiln__relplan *p;
	size_t i, k;
	kiln_err rc;

	if ((rows = kiln_arena_calloc(qs->a, n ? n : 1, sizeof(*rows))) == NULL)
		return kiln__app_error(qs->app, KILN_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if ((rows[i] = kiln__orm_row_load(qs->app, qs->a, qs->mt,
			 vals[i], alias)) == NULL)
			return KILN_EDB;
		for (k = 0; k < s->nrel; k++) {
			p = &s->rel[k];
			rel[k] = NULL;
			parent = p->parent < 0 ? rows[i] : rel[p->parent];
			if (parent == NULL ||
			    vals[i][p->col0 + p->mt->pk].type == KILN_VAL_NULL)
				continue;
			if ((rel[k] = kiln__orm_row_load(qs->app, qs->a, p->mt,
				 vals[i] + p->col0, alias)) == NULL)
				return KILN_EDB;
			parent->rel[p->fk] = rel[k];
		}
		if (qs->nann > 0 &&
		    (rc = load_ann(qs, s, vals[i], rows[i])) != KILN_OK)
			return rc;
	}
	*out = rows;
	return KILN_OK;
}

/* Fetches rows with an ordering mode (0 as asked, 1 first, 2 last). */
static kiln_err
fetch(kiln_qs *qs, int ordmode, kiln_row ***rows, size_t *n)
{
	kiln_db_conn *c;
	kiln_val **vals;
	kiln__sql s;
	kiln_err rc;

	if ((rc = usable(qs)) != KILN_OK)
		return rc;
	if ((rc = run(qs, KILN__SQL_SELECT, KILN_AGG_COUNT, NULL, ordmode, &c,
		 &s, &vals, n)) != KILN_OK)
		return rc;
	if ((rc = load(qs, &s, vals, *n, kiln_db_alias(c), rows)) != KILN_OK)
		return rc;
	return qs->nprefetch > 0 ?
	    kiln__orm_prefetch(qs, *rows, *n, kiln_db_alias(c)) :
	    KILN_OK;
}

kiln_err
kiln_qs_all(kiln_qs *qs, kiln_row ***rows, size_t *n)
{
	kiln_err rc;

	*rows = NULL;
	*n = 0;
	if (qs != NULL && qs->fetched) {
		*rows = qs->rows;
		*n = qs->nrows;
		return KILN_OK;
	}
	if ((rc = fetch(qs, 0, rows, n)) != KILN_OK)
		return rc;
	qs->rows = *rows;
	qs->nrows = *n;
	qs->fetched = true;
	return KILN_OK;
}

/* Reads one integer from a one-row, one-column result. */
static int64_t
scalar_int(kiln_val **vals, size_t n)
{
	if (n == 0 || vals[0][0].type == KILN_VAL_NULL)
		return 0;
	if (vals[0][0].type == KILN_VAL_INT)
		return vals[0][0].u.i;
	if (vals[0][0].type == KILN_VAL_STR)
		return strtoll(vals[0][0].u.s.ptr, NULL, 10);
	return (int64_t)vals[0][0].u.f;
}

/*
 * count() and exists(): from the rows when qs has fetched them (*out is
 * their number), else with one query in mode (KILN__SQL_COUNT: *out is
 * the count; KILN__SQL_EXISTS: 1 when a row matches, else 0).
 */
static kiln_err
count_rows(kiln_qs *qs, kiln__sqlmode mode, int64_t *out)
{
	kiln_val **vals;
	kiln__sql s;
	size_t n;
	kiln_err rc;

	*out = 0;
	if ((rc = usable(qs)) != KILN_OK)
		return rc;
	if (qs->fetched) {
		*out = (int64_t)qs->nrows;
		return KILN_OK;
	}
	if ((rc = run(qs, mode, KILN_AGG_COUNT, NULL, 0, NULL, &s, &vals,
		 &n)) != KILN_OK)
		return rc;
	if (mode == KILN__SQL_EXISTS)
		*out = n > 0;
	else
		*out = s.empty ? 0 : scalar_int(vals, n);
	return KILN_OK;
}

kiln_err
kiln_qs_count(kiln_qs *qs, int64_t *out)
{
	return count_rows(qs, KILN__SQL_COUNT, out);
}

kiln_err
kiln_qs_exists(kiln_qs *qs, bool *yes)
{
	int64_t n;
	kiln_err rc;

	rc = count_rows(qs, KILN__SQL_EXISTS, &n);
	*yes = n > 0;
	return rc;
}

/*
 * True when qs's only condition is its primary key equal to a value, so
 * that it matches one row at most: forward joins (select_related) and
 * annotations (grouped by the row) keep it so.
 */
static bool
by_pk(const kiln_qs *qs)
{
	const kiln_q *q = qs->where;

	return q != NULL && q->kind == KILN__Q_LEAF && q->v != NULL &&
	    q->v->type != KILN_VAL_NULL && q->v->type != KILN_VAL_LIST &&
	    kiln__orm_field_index(qs->mt->m, q->lookup) == (long)qs->mt->pk;
}

kiln_err
kiln_qs_get(kiln_qs *qs, kiln_row **out)
{
	kiln_row **rows;
	kiln_qs *lim;
	size_t n;
	kiln_err rc;

	*out = NULL;
	if ((rc = usable(qs)) != KILN_OK)
		return rc;
	/*
	 * Two rows are enough to know there is more than one; a lookup by
	 * primary key needs no LIMIT (less for the database to run).
	 */
	if (qs->hi >= 0 || qs->lo != 0 || by_pk(qs))
		lim = clone(qs);
	else
		lim = kiln_qs_slice(qs, 0, 2);
	if ((rc = fetch(lim, 0, &rows, &n)) != KILN_OK)
		return rc;
	if (n == 0)
		return kiln__app_error(qs->app, KILN_ENOTFOUND,
		    "%s matching query does not exist", qs->mt->m->name);
	if (n > 1)
		return kiln__app_error(qs->app, KILN_ELIMIT,
		    "get() returned more than one %s", qs->mt->m->name);
	*out = rows[0];
	return KILN_OK;
}

/* first (ordmode 1) or last (2): the one row at that end, or NULL. */
static kiln_err
edge(kiln_qs *qs, int ordmode, kiln_row **out)
{
	kiln_row **rows;
	kiln_qs *one;
	size_t n;
	kiln_err rc;

	*out = NULL;
	if ((rc = usable(qs)) != KILN_OK)
		return rc;
	if (ordmode == 2 && (qs->lo != 0 || qs->hi >= 0))
		return kiln__app_error(qs->app, KILN_EINVAL,
		    "%s: last() of a sliced QuerySet is not supported",
		    qs->mt->m->name);
	one = kiln_qs_slice(qs, 0, 1);
	if ((rc = fetch(one, ordmode, &rows, &n)) != KILN_OK)
		return rc;
	*out = n > 0 ? rows[0] : NULL;
	return KILN_OK;
}

kiln_err
kiln_qs_first(kiln_qs *qs, kiln_row **out)
{
	return edge(qs, 1, out);
}

kiln_err
kiln_qs_last(kiln_qs *qs, kiln_row **out)
{
	return edge(qs, 2, out);
}

/* Converts an aggregate's database value for field f and agg. */
static kiln_err
agg_value(kiln_qs *qs, kiln_agg agg, const kiln_field *f, const kiln_val *in,
    kiln_val **out)
{
	kiln_val *v;
	double d;

	if ((v = kiln_arena_alloc(qs->a, sizeof(*v))) == NULL)
		return kiln__app_error(qs->app, KILN_ENOMEM, "out of memory");
	*v = *in;
	v->a = qs->a;
	*out = v;
	if (in->type == KILN_VAL_NULL)
		return KILN_OK;
	if (agg == KILN_AGG_AVG ||
	    (agg == KILN_AGG_SUM && f->type == KILN_FIELD_FLOAT)) {
		d = in->type == KILN_VAL_INT   ? (double)in->u.i :
		    in->type == KILN_VAL_FLOAT ? in->u.f :
						 strtod(in->u.s.ptr, NULL);
		v->type = KILN_VAL_FLOAT;
		v->u.f = d;
		return KILN_OK;
	}
	if (agg == KILN_AGG_SUM && f->type == KILN_FIELD_DECIMAL)
		return kiln__orm_from_db(qs->a, f, in, v);
	if (agg == KILN_AGG_SUM && in->type != KILN_VAL_INT) {
		/* MySQL sums integers as DECIMAL. */
		v->type = KILN_VAL_INT;
		v->u.i = in->type == KILN_VAL_FLOAT ?
		    (int64_t)in->u.f :
		    strtoll(in->u.s.ptr, NULL, 10);
		return KILN_OK;
	}
	if (agg == KILN_AGG_MIN || agg == KILN_AGG_MAX)
		return kiln__orm_from_db(qs->a, f, in, v) == KILN_OK ?
		    KILN_OK :
		    kiln__app_error(qs->app, KILN_EDB,
			"aggregate of the wrong kind");
	return KILN_OK;
}

kiln_err
kiln_qs_aggregate(kiln_qs *qs, kiln_agg agg, const char *field, kiln_val **out)
{
	kiln_val **vals, nul = { .type = KILN_VAL_NULL };
	const kiln_field *f;
	const kiln__meta *fm;
	kiln__sql s;
	size_t n;
	char *p, *last;
	kiln_err rc;

	*out = NULL;
	if ((rc = usable(qs)) != KILN_OK)
		return rc;
	if ((int)agg < 0 || agg >= KILN_AGG__MAX || field == NULL)
		return kiln__app_error(qs->app, KILN_EINVAL,
		    "aggregate: bad function or field");
	if ((rc = run(qs, KILN__SQL_AGG, agg, field, 0, NULL, &s, &vals, &n)) !=
	    KILN_OK)
		return rc;
	if (agg == KILN_AGG_COUNT) {
		*out = kiln_val_int(qs->a, s.empty ? 0 : scalar_int(vals, n));
		return *out != NULL ? KILN_OK : KILN_ENOMEM;
	}
	/* The field the path ends at decides the result's kind. */
	fm = qs->mt;
	if ((p = kiln_arena_strdup(qs->a, field)) == NULL)
		return KILN_ENOMEM;
	for (last = p; (p = strstr(p, "__")) != NULL; last = p) {
		*p = '\0';
		p += 2;
		f = kiln_model_field(fm->m, last);
		if (f != NULL && f->type == KILN_FIELD_FK &&
		    (fm = kiln__orm_meta(qs->app, f->to)) == NULL)
			return KILN_EINVAL;
	}
	if ((f = kiln_model_field(fm->m, last)) == NULL)
		return KILN_EINVAL;
	return agg_value(qs, agg, f, s.empty || n == 0 ? &nul : &vals[0][0],
	    out);
}

kiln_err
kiln_qs_update(kiln_qs *qs, const char *field, const kiln_val *v, int64_t *n)
{
	const kiln_field *f;
	const kiln_val *b;
	kiln_db_conn *c;
	kiln_val clean;
	kiln__sql s;
	int64_t affected = 0;
	kiln_err rc;

	if (n != NULL)
		*n = 0;
	if ((rc = usable(qs)) != KILN_OK)
		return rc;
	if ((f = kiln_model_field(qs->mt->m, field)) == NULL)
		return kiln__app_error(qs->app, KILN_ENOTFOUND,
		    "%s has no field %s", qs->mt->m->name, field);
	if ((rc = kiln__orm_clean(qs->app, qs->a, qs->mt->m, f, v, true,
		 &clean)) != KILN_OK)
		return rc;
	if ((b = kiln__orm_bind(qs->a, f, &clean)) == NULL)
		return KILN_ENOMEM;
	if ((c = kiln_db_conn_get(qs->app,
		 kiln__orm_write_alias(qs->app, qs->mt->m, qs->alias, NULL))) ==
	    NULL)
		return KILN_EDB;
	if ((rc = kiln__orm_compile(qs, kiln_db_vendor(c), KILN__SQL_UPDATE,
		 KILN_AGG_COUNT, field, b, 0, &s)) != KILN_OK)
		return rc;
	if (s.empty)
		return KILN_OK;
	if ((rc = kiln__orm_run(c, qs->a, &s, NULL, NULL, &affected, NULL)) !=
	    KILN_OK)
		return rc;
	if (n != NULL)
		*n = affected;
	return KILN_OK;
}

kiln_err
kiln_qs_delete(kiln_qs *qs, int64_t *n)
{
	kiln_row **rows;
	size_t i, cnt;
	kiln_err rc;

	if (n != NULL)
		*n = 0;
	if ((rc = kiln_qs_all(qs, &rows, &cnt)) != KILN_OK)
		return rc;
	for (i = 0; i < cnt; i++) {
		if ((rc = kiln_row_delete(rows[i])) != KILN_OK)
			return rc;
		if (n != NULL)
			(*n)++;
	}
	qs->fetched = false;
	return KILN_OK;
}

/*
 * values()/values_list(): the named fields (NULL-ended; none named: every
 * field of the model) of each row, as maps or as lists.
 */
static kiln_err
values_run(kiln_qs *qs, bool as_list, const char *first, va_list ap,
    kiln_val **out)
{
	const char **names;
	kiln_val **vals, *list, *item, *v;
	kiln__sql s;
	kiln_qs *vq;
	const char *f;
	size_t i, k, n = 0, nrows;
	kiln_err rc;

	*out = NULL;
	if ((rc = usable(qs)) != KILN_OK)
		return rc;
	if ((vq = clone(qs)) == NULL ||
	    (names = kiln_arena_calloc(qs->a, KILN__ORM_MAXVALUES,
		 sizeof(*names))) == NULL)
		return kiln__app_error(qs->app, KILN_ENOMEM, "out of memory");
	for (f = first; f != NULL && n < KILN__ORM_MAXVALUES;
	     f = va_arg(ap, const char *))
		names[n++] = f;
	if (f != NULL)
		return kiln__app_error(qs->app, KILN_ELIMIT,
		    "values: more than %d fields", KILN__ORM_MAXVALUES);
	for (i = 0; n == 0 && i < qs->mt->m->nfields; i++)
		names[i] = qs->mt->m->fields[i].type == KILN_FIELD_FK ?
		    qs->mt->cols[i] :
		    qs->mt->m->fields[i].name;
	if (n == 0)
		n = qs->mt->m->nfields;
	vq->vfields = names;
	vq->nvfields = n;
	if ((rc = run(vq, KILN__SQL_VALUES, KILN_AGG_COUNT, NULL, 0, NULL, &s,
		 &vals, &nrows)) != KILN_OK)
		return rc;
	if ((list = kiln_val_list(qs->a)) == NULL)
		return kiln__app_error(qs->app, KILN_ENOMEM, "out of memory");
	for (i = 0; i < nrows; i++) {
		item = as_list ? kiln_val_list(qs->a) : kiln_val_map(qs->a);
		if (item == NULL || kiln_val_push(list, item) != KILN_OK)
			return kiln__app_error(qs->app, KILN_ENOMEM,
			    "out of memory");
		for (k = 0; k < n; k++) {
			if ((v = kiln_arena_alloc(qs->a, sizeof(*v))) == NULL ||
			    kiln__orm_from_db(qs->a, s.vf[k], &vals[i][k], v) !=
				KILN_OK ||
			    (as_list ?
				    kiln_val_push(item, v) :
				    kiln_val_set(item, names[k], v)) != KILN_OK)
				return kiln__app_error(qs->app, KILN_ENOMEM,
				    "values: out of memory or a bad value");
		}
	}
	*out = list;
	return KILN_OK;
}

kiln_err
kiln_qs_values(kiln_qs *qs, kiln_val **out, const char *field, ...)
{
	va_list ap;
	kiln_err rc;

	va_start(ap, field);
	rc = values_run(qs, false, field, ap, out);
	va_end(ap);
	return rc;
}

kiln_err
kiln_qs_values_list(kiln_qs *qs, kiln_val **out, const char *field, ...)
{
	va_list ap;
	kiln_err rc;

	va_start(ap, field);
	rc = values_run(qs, true, field, ap, out);
	va_end(ap);
	return rc;
}

kiln_err
kiln_qs_sql(kiln_qs *qs, const char *vendor, kiln_str *sql, size_t *nparams)
{
	kiln__sql s;
	kiln_err rc;

	if ((rc = usable(qs)) != KILN_OK)
		return rc;
	if ((rc = kiln__orm_compile(qs, vendor != NULL ? vendor : "sqlite",
		 KILN__SQL_SELECT, KILN_AGG_COUNT, NULL, NULL, 0, &s)) !=
	    KILN_OK)
		return rc;
	*sql = kiln_buf_str(&s.b);
	*nparams = s.nparams;
	return KILN_OK;
}

kiln_row *
kiln_get_or_404(kiln_req *req, kiln_qs *qs)
{
	kiln_row *r;
	kiln_err rc;

	rc = kiln_qs_get(qs, &r);
	if (rc == KILN_OK)
		return r;
	if (rc == KILN_ENOTFOUND || rc == KILN_ELIMIT)
		kiln_abort_msg(req, 404, "%s",
		    kiln_app_errmsg(kiln_req_app(req)));
	kiln_abort_msg(req, 500, "%s", kiln_app_errmsg(kiln_req_app(req)));
}
