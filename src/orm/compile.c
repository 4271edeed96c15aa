/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The QuerySet compiler. It writes SQL from identifiers checked at model
 * registration and from fixed keywords only; every value a user gives
 * (filters, slices) becomes a "?" parameter. Identifiers are quoted with
 * '"' on both backends (MySQL sessions run with ANSI_QUOTES).
 *
 * Paths across foreign keys ("author__team__name") add joins, reused
 * when two paths share a prefix: INNER for a NOT NULL key, LEFT OUTER for
 * a nullable one (and everything beyond it). The base table keeps its
 * name as alias; joined tables are "T1", "T2", ... in order of creation.
 *
 * LIKE lookups escape '!', '%' and '_' with '!' and say ESCAPE '!', so
 * the same pattern works on both backends whatever their backslash rules.
 * Case-sensitive ones use LIKE BINARY on MySQL (SQLite's like() is
 * replaced by a byte-exact one, src/db/sqlite.c); case-insensitive ones
 * lower both sides. Under NOT, a comparison on a nullable column is
 * wrapped as (cond AND col IS NOT NULL) so that exclude() keeps the rows
 * where the column is NULL, as Django does.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <kiln/kiln.h>

#include "orm_int.h"

/* One join. */
typedef struct join {
	const kiln__meta *mt; /* the joined model */
	int parent;	      /* -1: the base table, else a join index */
	size_t fk;	      /* the FK field in the parent's model */
	bool outer;	      /* LEFT OUTER */
	bool selected;	      /* select_related wants its columns */
	bool rev;	      /* reverse: mt's FK fk points at the parent */
} join;

typedef struct cctx {
	kiln_qs *qs;		       /* what is compiled */
	kiln_app *app;		       /* for messages */
	kiln_arena *a;		       /* the QuerySet's arena */
	bool mysql;		       /* vendor */
	join joins[KILN__ORM_MAXJOIN]; /* joins so far */
	size_t njoins;		       /* entries */
	kiln_buf w;		       /* the WHERE text */
	kiln__sql *out;		       /* parameters go here */
	struct target *vt;	       /* VALUES: the resolved fields */
	struct target *at;	       /* annotate(): the resolved paths */
} cctx;

/* A resolved lookup: the column and what to do with it. */
struct target {
	int join;	      /* -1: base table */
	const kiln__meta *mt; /* the model the field is on */
	const kiln_field *f;  /* the field */
	size_t fi;	      /* its index */
	const char *op;	      /* "exact", ... */
	bool nullable;	      /* the column can be NULL here */
	bool multi;	      /* the path crosses a reverse relation */
};
typedef struct target target;

static const char *const ops[] = { "exact", "iexact", "contains", "icontains",
	"startswith", "istartswith", "endswith", "iendswith", "in", "gt", "gte",
	"lt", "lte", "range", "isnull", NULL };

static bool
is_op(const char *s)
{
	size_t i;

	for (i = 0; ops[i] != NULL; i++)
		if (strcmp(ops[i], s) == 0)
			return true;
	return false;
}

static kiln_err
param(cctx *c, const kiln_val *v)
{
	kiln__sql *s = c->out;
	const kiln_val **p;
	size_t cap;

	if (s->nparams == s->capparams) {
		cap = s->capparams ? s->capparams * 2 : 8;
		if ((p = kiln_arena_alloc(c->a, cap * sizeof(*p))) == NULL)
			return KILN_ENOMEM;
		if (s->nparams > 0)
			memcpy(p, s->params, s->nparams * sizeof(*p));
		s->params = p;
		s->capparams = cap;
	}
	s->params[s->nparams++] = v;
	return KILN_OK;
}

/* Appends alias."column" for field fi of join j (-1: base). */
static void
col(cctx *c, kiln_buf *b, int j, const kiln__meta *mt, size_t fi)
{
	if (j < 0)
		kiln_buf_printf(b, "\"%s\".\"%s\"", c->qs->mt->m->table,
		    mt->cols[fi]);
	else
		kiln_buf_printf(b, "\"T%d\".\"%s\"", j + 1, mt->cols[fi]);
}

/* Returns the join for FK fi of parent, adding it when new (-2: full). */
static int
join_add(cctx *c, int parent, const kiln__meta *pmt, size_t fi)
{
	const kiln_field *f = &pmt->m->fields[fi];
	const kiln__meta *mt;
	size_t i;
	join *j;

	for (i = 0; i < c->njoins; i++)
		if (c->joins[i].parent == parent && !c->joins[i].rev &&
		    c->joins[i].fk == fi)
			return (int)i;
	if (c->njoins == KILN__ORM_MAXJOIN)
		return -2;
	if ((mt = kiln__orm_meta(c->app, f->to)) == NULL)
		return -2;
	j = &c->joins[c->njoins];
	j->mt = mt;
	j->parent = parent;
	j->fk = fi;
	j->outer = (f->flags & KILN_F_NULL) != 0 ||
	    (parent >= 0 && c->joins[parent].outer);
	j->selected = false;
	j->rev = false;
	return (int)c->njoins++;
}

static kiln_err fail(cctx *c, kiln_err rc, const char *fmt, ...)
    KILN_PRINTF(3, 4);

static kiln_err
fail(cctx *c, kiln_err rc, const char *fmt, ...)
{
	char msg[KILN_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kiln__app_error(c->app, rc, "%s", msg);
}

/*
 * Returns the join of a reverse relation: the rows of child whose FK fk
 * points at parent's rows (-2: full). Always LEFT OUTER, so isnull finds
 * the parents without children; a condition on the child's columns
 * drops those rows anyway.
 */
static int
join_add_rev(cctx *c, int parent, const kiln__meta *child, size_t fk)
{
	join *j;
	size_t i;

	for (i = 0; i < c->njoins; i++)
		if (c->joins[i].parent == parent && c->joins[i].rev &&
		    c->joins[i].mt == child && c->joins[i].fk == fk)
			return (int)i;
	if (c->njoins == KILN__ORM_MAXJOIN)
		return -2;
	j = &c->joins[c->njoins];
	memset(j, 0, sizeof(*j));
	j->mt = child;
	j->parent = parent;
	j->fk = fk;
	j->outer = true;
	j->rev = true;
	return (int)c->njoins++;
}

/*
 * Resolves a lookup path into t. with_op allows a trailing operator.
 * A path that ends at the primary key of an FK's target ("author__id")
 * uses the FK column itself, with no join.
 */
static kiln_err
resolve(cctx *c, const char *lookup, bool with_op, target *t)
{
	char *path, *parts[32], *p;
	size_t n = 0, i;
	const kiln__meta *mt = c->qs->mt;
	const kiln__meta *tm;
	const kiln_field *f;
	int j = -1;
	long fi, ti;
	size_t rfk;
	kiln__m2mref ref;
	bool is_rev, is_m2m;

	if ((path = kiln_arena_strdup(c->a, lookup)) == NULL)
		return KILN_ENOMEM;
	for (p = path; n < 32;) {
		parts[n++] = p;
		if ((p = strstr(p, "__")) == NULL)
			break;
		*p = '\0';
		p += 2;
	}
	if (p != NULL || parts[0][0] == '\0')
		return fail(c, KILN_EINVAL, "bad lookup '%s'", lookup);
	memset(t, 0, sizeof(*t));
	t->op = "exact";
	for (i = 0; i < n; i++) {
		fi = kiln__orm_field_index(mt->m, parts[i]);
		is_rev = fi < 0 &&
		    kiln__orm_reverse(c->app, mt->m, parts[i], &tm, &rfk);
		is_m2m = fi < 0 && !is_rev &&
		    kiln__orm_m2m(c->app, mt->m, parts[i], &ref);
		if (is_rev || is_m2m) {
			/*
			 * A reverse relation (one join) or a many-to-many
			 * one (two, through the link): the far rows' key.
			 */
			if (is_rev)
				j = join_add_rev(c, j, tm, rfk);
			else if ((j = join_add_rev(c, j, ref.link, ref.self)) !=
			    -2)
				j = join_add(c, j, ref.link, ref.other);
			if (j == -2)
				return fail(c, KILN_ELIMIT,
				    "too many joins in '%s'", lookup);
			mt = is_rev ? tm : ref.to;
			t->join = j;
			t->mt = mt;
			t->fi = mt->pk;
			t->f = &mt->m->fields[mt->pk];
			t->nullable = true;
			t->multi = true;
			if (i + 1 == n)
				return KILN_OK;
			if (i + 2 == n && with_op && is_op(parts[i + 1]) &&
			    kiln__orm_field_index(mt->m, parts[i + 1]) < 0) {
				t->op = parts[i + 1];
				return KILN_OK;
			}
			continue;
		}
		if (fi < 0)
			return fail(c, KILN_EINVAL,
			    "cannot resolve '%s' into a field of %s", parts[i],
			    mt->m->name);
		f = &mt->m->fields[fi];
		t->join = j;
		t->mt = mt;
		t->f = f;
		t->fi = (size_t)fi;
		t->nullable = (f->flags & KILN_F_NULL) != 0 ||
		    (j >= 0 && c->joins[j].outer);
		t->multi = t->multi || (j >= 0 && c->joins[j].rev);
		if (i + 1 == n)
			return KILN_OK;
		if (i + 2 == n && with_op && is_op(parts[i + 1]) &&
		    (f->type != KILN_FIELD_FK ||
			kiln__orm_field_index(f->to, parts[i + 1]) < 0)) {
			t->op = parts[i + 1];
			return KILN_OK;
		}
		if (f->type != KILN_FIELD_FK)
			return fail(c, KILN_EINVAL,
			    "unsupported lookup '%s' on %s", parts[i + 1],
			    f->name);
		if ((tm = kiln__orm_meta(c->app, f->to)) == NULL)
			return KILN_EINVAL;
		ti = kiln__orm_field_index(f->to, parts[i + 1]);
		if (ti == (long)tm->pk &&
		    (i + 2 == n ||
			(i + 3 == n && with_op && is_op(parts[i + 2])))) {
			if (i + 3 == n)
				t->op = parts[i + 2];
			return KILN_OK;
		}
		if ((j = join_add(c, j, mt, (size_t)fi)) == -2)
			return fail(c, KILN_ELIMIT, "too many joins in '%s'",
			    lookup);
		mt = tm;
	}
	return KILN_OK;
}

/* Builds the LIKE pattern for op from text s: escapes, then wildcards. */
static const kiln_val *
like_pattern(kiln_arena *a, const char *op, kiln_str s)
{
	const char *base = op[0] == 'i' ? op + 1 : op;
	kiln_buf b;
	size_t i;

	kiln_buf_init(&b, a, s.len + 8);
	if (strcmp(base, "contains") == 0 || strcmp(base, "endswith") == 0)
		kiln_buf_append_char(&b, '%');
	for (i = 0; i < s.len; i++) {
		if (s.ptr[i] == '!' || s.ptr[i] == '%' || s.ptr[i] == '_')
			kiln_buf_append_char(&b, '!');
		kiln_buf_append_char(&b, s.ptr[i]);
	}
	if (strcmp(base, "contains") == 0 || strcmp(base, "startswith") == 0)
		kiln_buf_append_char(&b, '%');
	if (b.oom)
		return NULL;
	return kiln_val_str(a, kiln_buf_str(&b));
}

/* Cleans v for t's field (leniently) and adds it as a parameter. */
static kiln_err
value(cctx *c, const target *t, const kiln_val *v)
{
	kiln_val *clean;
	const kiln_val *b;
	kiln_err rc;

	if ((clean = kiln_arena_alloc(c->a, sizeof(*clean))) == NULL)
		return KILN_ENOMEM;
	if ((rc = kiln__orm_clean(c->app, c->a, t->mt->m, t->f, v, false,
		 clean)) != KILN_OK)
		return rc;
	if ((b = kiln__orm_bind(c->a, t->f, clean)) == NULL)
		return KILN_ENOMEM;
	return param(c, b);
}

/* The text a LIKE lookup matches: the cleaned value as text. */
static kiln_err
like_value(cctx *c, const target *t, const kiln_val *v)
{
	kiln_val clean;
	const kiln_val *b, *pat;
	kiln_str s;
	kiln_err rc;

	if (v->type == KILN_VAL_STR || v->type == KILN_VAL_SAFE) {
		s = v->u.s;
	} else {
		if ((rc = kiln__orm_clean(c->app, c->a, t->mt->m, t->f, v,
			 false, &clean)) != KILN_OK)
			return rc;
		if ((b = kiln__orm_bind(c->a, t->f, &clean)) == NULL)
			return KILN_ENOMEM;
		if (b->type == KILN_VAL_STR)
			s = b->u.s;
		else if (b->type == KILN_VAL_INT)
			s = kiln_str_c(
			    kiln_arena_printf(c->a, "%lld", (long long)b->u.i));
		else
			s = kiln_str_c(
			    kiln_arena_printf(c->a, "%.17g", b->u.f));
	}
	if ((pat = like_pattern(c->a, t->op, s)) == NULL)
		return KILN_ENOMEM;
	return param(c, pat);
}

/* Writes "lhs IN (?, ...)" for a list value. */
static kiln_err
leaf_in(cctx *c, const target *t, const kiln_val *v, kiln_buf *lhs)
{
	size_t i, n = 0;
	kiln_err rc;

	if (v->type != KILN_VAL_LIST)
		return fail(c, KILN_EINVAL, "%s__in needs a list", t->f->name);
	for (i = 0; i < v->u.list.n; i++) {
		if (v->u.list.items[i]->type == KILN_VAL_NULL)
			continue; /* NULL is never IN anything (Django drops it)
				   */
		kiln_buf_append_c(&c->w, n == 0 ? "" : ", ");
		if (n == 0) {
			kiln_buf_append_str(&c->w, kiln_buf_str(lhs));
			kiln_buf_append_c(&c->w, " IN (");
		}
		kiln_buf_append_char(&c->w, '?');
		if ((rc = value(c, t, v->u.list.items[i])) != KILN_OK)
			return rc;
		n++;
	}
	kiln_buf_append_c(&c->w, n == 0 ? "0 = 1" : ")");
	return KILN_OK;
}

/* Compiles one condition. */
static kiln_err
leaf(cctx *c, const kiln_q *q, bool negated)
{
	const kiln_val *v = q->v;
	const char *op, *cmp = NULL;
	kiln_buf lhs;
	target t;
	bool null = v == NULL || v->type == KILN_VAL_NULL, wrap;
	kiln_err rc;

	if ((rc = resolve(c, q->lookup, true, &t)) != KILN_OK)
		return rc;
	op = t.op;
	if (negated && t.multi)
		return fail(c, KILN_EUNSUPPORTED,
		    "'%s': exclude() and NOT across a reverse relation are "
		    "not supported yet",
		    q->lookup);
	kiln_buf_init(&lhs, c->a, 64);
	col(c, &lhs, t.join, t.mt, t.fi);
	if (strcmp(op, "isnull") == 0) {
		kiln_buf_append_str(&c->w, kiln_buf_str(&lhs));
		kiln_buf_append_c(&c->w,
		    kiln_val_truthy(v) ? " IS NULL" : " IS NOT NULL");
		return KILN_OK;
	}
	if (null && (strcmp(op, "exact") == 0 || strcmp(op, "iexact") == 0)) {
		kiln_buf_append_str(&c->w, kiln_buf_str(&lhs));
		kiln_buf_append_c(&c->w, " IS NULL");
		return KILN_OK;
	}
	if (null)
		return fail(c, KILN_EINVAL,
		    "cannot use NULL as the value of %s__%s", t.f->name, op);
	wrap = negated && t.nullable;
	if (wrap)
		kiln_buf_append_char(&c->w, '(');
	if (strcmp(op, "exact") == 0)
		cmp = " = ?";
	else if (strcmp(op, "gt") == 0)
		cmp = " > ?";
	else if (strcmp(op, "gte") == 0)
		cmp = " >= ?";
	else if (strcmp(op, "lt") == 0)
		cmp = " < ?";
	else if (strcmp(op, "lte") == 0)
		cmp = " <= ?";
	if (cmp != NULL) {
		kiln_buf_append_str(&c->w, kiln_buf_str(&lhs));
		kiln_buf_append_c(&c->w, cmp);
		rc = value(c, &t, v);
	} else if (strcmp(op, "iexact") == 0) {
		kiln_buf_printf(&c->w, "LOWER(%s) = LOWER(?)", lhs.ptr);
		rc = value(c, &t, v);
	} else if (strcmp(op, "in") == 0) {
		rc = leaf_in(c, &t, v, &lhs);
	} else if (strcmp(op, "range") == 0) {
		if (v->type != KILN_VAL_LIST || v->u.list.n != 2)
			return fail(c, KILN_EINVAL,
			    "%s__range needs a list of two values", t.f->name);
		kiln_buf_printf(&c->w, "%s BETWEEN ? AND ?", lhs.ptr);
		if ((rc = value(c, &t, v->u.list.items[0])) == KILN_OK)
			rc = value(c, &t, v->u.list.items[1]);
	} else if (op[0] == 'i') {
		kiln_buf_printf(&c->w, "LOWER(%s) LIKE LOWER(?) ESCAPE '!'",
		    lhs.ptr);
		rc = like_value(c, &t, v);
	} else {
		kiln_buf_printf(&c->w, "%s LIKE %s? ESCAPE '!'", lhs.ptr,
		    c->mysql ? "BINARY " : "");
		rc = like_value(c, &t, v);
	}
	if (rc == KILN_OK && wrap)
		kiln_buf_printf(&c->w, " AND %s IS NOT NULL)", lhs.ptr);
	return rc;
}

/* Compiles a condition tree; negated counts the NOTs above (odd: true). */
static kiln_err
tree(cctx *c, const kiln_q *q, bool negated, unsigned depth)
{
	kiln_err rc;

	if (depth > 64)
		return fail(c, KILN_ELIMIT, "conditions nested too deep");
	switch (q->kind) {
	case KILN__Q_LEAF:
		return leaf(c, q, negated);
	case KILN__Q_NOT:
		kiln_buf_append_c(&c->w, "NOT (");
		if ((rc = tree(c, q->x, !negated, depth + 1)) != KILN_OK)
			return rc;
		kiln_buf_append_char(&c->w, ')');
		return KILN_OK;
	default:
		kiln_buf_append_char(&c->w, '(');
		if ((rc = tree(c, q->x, negated, depth + 1)) != KILN_OK)
			return rc;
		kiln_buf_append_c(&c->w,
		    q->kind == KILN__Q_AND ? " AND " : " OR ");
		if ((rc = tree(c, q->y, negated, depth + 1)) != KILN_OK)
			return rc;
		kiln_buf_append_char(&c->w, ')');
		return KILN_OK;
	}
}

/* Adds the joins of each select_related path and marks them selected. */
static kiln_err
related(cctx *c)
{
	const kiln__meta *mt;
	char *path, *p, *part;
	size_t i;
	long fi;
	int j;

	for (i = 0; i < c->qs->nrelated; i++) {
		if ((path = kiln_arena_strdup(c->a, c->qs->related[i])) == NULL)
			return KILN_ENOMEM;
		mt = c->qs->mt;
		j = -1;
		for (p = path; p != NULL;) {
			part = p;
			if ((p = strstr(p, "__")) != NULL) {
				*p = '\0';
				p += 2;
			}
			fi = kiln__orm_field_index(mt->m, part);
			if (fi < 0 || mt->m->fields[fi].type != KILN_FIELD_FK)
				return fail(c, KILN_EINVAL,
				    "select_related: '%s' is not a foreign key "
				    "of %s",
				    part, mt->m->name);
			if ((j = join_add(c, j, mt, (size_t)fi)) == -2)
				return fail(c, KILN_ELIMIT,
				    "select_related: too many joins");
			c->joins[j].selected = true;
			mt = c->joins[j].mt;
		}
	}
	return KILN_OK;
}

/* Resolves the fields of values() into c->vt and out->vf. */
static kiln_err
values(cctx *c)
{
	size_t i, n = c->qs->nvfields;
	kiln_err rc;

	if (n == 0 || n > KILN__ORM_MAXVALUES)
		return fail(c, KILN_EINVAL, "values: 1 to %d fields",
		    KILN__ORM_MAXVALUES);
	if ((c->vt = kiln_arena_calloc(c->a, n, sizeof(*c->vt))) == NULL)
		return KILN_ENOMEM;
	for (i = 0; i < n; i++) {
		if ((rc = resolve(c, c->qs->vfields[i], false, &c->vt[i])) !=
		    KILN_OK)
			return rc;
		c->out->vf[i] = c->vt[i].f;
	}
	return KILN_OK;
}

static void columns(cctx *c, kiln_buf *b, int j, const kiln__meta *mt);

/* Returns the index of annotation name on qs, or -1. */
static long
ann_index(const kiln_qs *qs, const char *name)
{
	size_t i;

	for (i = 0; i < qs->nann; i++)
		if (strcmp(qs->ann_names[i], name) == 0)
			return (long)i;
	return -1;
}

/* Resolves annotate()'s paths into c->at and out->af. */
static kiln_err
annotations(cctx *c)
{
	size_t i, n = c->qs->nann;
	kiln_err rc;

	if (n == 0)
		return KILN_OK;
	if ((c->at = kiln_arena_calloc(c->a, n, sizeof(*c->at))) == NULL)
		return KILN_ENOMEM;
	for (i = 0; i < n; i++) {
		if ((rc = resolve(c, c->qs->ann_paths[i], false, &c->at[i])) !=
		    KILN_OK)
			return rc;
		c->out->af[i] = c->at[i].f;
	}
	return KILN_OK;
}

/* Appends ", AGG(col) AS "name"" for each annotation. */
static void
ann_list(cctx *c, kiln_buf *b)
{
	static const char *const aggs[] = { "COUNT", "SUM", "AVG", "MIN",
		"MAX" };
	size_t i;

	for (i = 0; i < c->qs->nann; i++) {
		kiln_buf_printf(b, ", %s(", aggs[c->qs->ann_aggs[i]]);
		col(c, b, c->at[i].join, c->at[i].mt, c->at[i].fi);
		kiln_buf_printf(b, ") AS \"%s\"", c->qs->ann_names[i]);
	}
}

/*
 * Appends GROUP BY over the base columns (and the selected joins' with
 * related), which annotate() needs: one group per row of the model.
 */
static void
group_by(cctx *c, kiln_buf *b, bool related)
{
	size_t i;

	kiln_buf_append_c(b, " GROUP BY ");
	columns(c, b, -1, c->qs->mt);
	for (i = 0; related && i < c->njoins; i++) {
		if (!c->joins[i].selected)
			continue;
		kiln_buf_append_c(b, ", ");
		columns(c, b, (int)i, c->joins[i].mt);
	}
}

/* Appends the ORDER BY clause (order may be reversed for last()). */
static kiln_err
order(cctx *c, kiln_buf *b, bool reverse, bool need)
{
	const char *const *items = c->qs->order;
	size_t n = c->qs->norder, i;
	const char *item;
	bool desc;
	target t;
	kiln_err rc;

	if (!c->qs->order_set && c->qs->mt->m->ordering != NULL) {
		items = c->qs->mt->m->ordering;
		for (n = 0; items[n] != NULL; n++)
			;
	}
	if (n == 0 && !need)
		return KILN_OK;
	kiln_buf_append_c(b, " ORDER BY ");
	if (n == 0) {
		col(c, b, -1, c->qs->mt, c->qs->mt->pk);
		kiln_buf_append_c(b, reverse ? " DESC" : " ASC");
		return KILN_OK;
	}
	for (i = 0; i < n; i++) {
		item = items[i];
		desc = item[0] == '-';
		if (i > 0)
			kiln_buf_append_c(b, ", ");
		if (ann_index(c->qs, item + desc) >= 0) {
			kiln_buf_printf(b, "\"%s\"", item + desc);
		} else {
			if ((rc = resolve(c, item + desc, false, &t)) !=
			    KILN_OK)
				return rc;
			col(c, b, t.join, t.mt, t.fi);
		}
		kiln_buf_append_c(b, desc != reverse ? " DESC" : " ASC");
	}
	return KILN_OK;
}

/* Appends every column of mt (at join j). */
static void
columns(cctx *c, kiln_buf *b, int j, const kiln__meta *mt)
{
	size_t i;

	for (i = 0; i < mt->m->nfields; i++) {
		if (i > 0)
			kiln_buf_append_c(b, ", ");
		col(c, b, j, mt, i);
	}
}

/* Appends FROM with its joins. */
static void
from(cctx *c, kiln_buf *b)
{
	const join *j;
	const kiln__meta *pmt;
	size_t i;

	kiln_buf_printf(b, " FROM \"%s\"", c->qs->mt->m->table);
	for (i = 0; i < c->njoins; i++) {
		j = &c->joins[i];
		pmt = j->parent < 0 ? c->qs->mt : c->joins[j->parent].mt;
		kiln_buf_printf(b, " %s JOIN \"%s\" \"T%zu\" ON (",
		    j->outer ? "LEFT OUTER" : "INNER", j->mt->m->table, i + 1);
		if (j->rev) {
			col(c, b, (int)i, j->mt, j->fk);
			kiln_buf_append_c(b, " = ");
			col(c, b, j->parent, pmt, pmt->pk);
		} else {
			col(c, b, (int)i, j->mt, j->mt->pk);
			kiln_buf_append_c(b, " = ");
			col(c, b, j->parent, pmt, j->fk);
		}
		kiln_buf_append_char(b, ')');
	}
}

/* Appends LIMIT/OFFSET with bound values. */
static kiln_err
limit(cctx *c, kiln_buf *b)
{
	const kiln_qs *qs = c->qs;
	kiln_val *lim, *off;

	if (qs->hi < 0 && qs->lo == 0)
		return KILN_OK;
	if (qs->hi >= 0)
		lim = kiln_val_int(c->a, qs->hi - qs->lo);
	else if (c->mysql)
		/* MySQL has no "no limit"; its manual says use the maximum. */
		lim = kiln_val_int(c->a, INT64_MAX);
	else
		lim = kiln_val_int(c->a, -1);
	off = kiln_val_int(c->a, qs->lo);
	if (lim == NULL || off == NULL)
		return KILN_ENOMEM;
	kiln_buf_append_c(b, " LIMIT ? OFFSET ?");
	if (param(c, lim) != KILN_OK || param(c, off) != KILN_OK)
		return KILN_ENOMEM;
	return KILN_OK;
}

/*
 * The SELECT list for rows: the base columns, then the columns of each
 * selected join in order, recording where each related row starts.
 * A join's parent is selected too (select_related marks every step).
 */
static void
select_list(cctx *c, kiln_buf *b)
{
	kiln__sql *s = c->out;
	int plan_of[KILN__ORM_MAXJOIN];
	size_t i, col0 = c->qs->mt->m->nfields;
	const join *j;

	columns(c, b, -1, c->qs->mt);
	for (i = 0; i < c->njoins; i++) {
		j = &c->joins[i];
		plan_of[i] = -1;
		if (!j->selected)
			continue;
		kiln_buf_append_c(b, ", ");
		columns(c, b, (int)i, j->mt);
		s->rel[s->nrel].mt = j->mt;
		s->rel[s->nrel].parent =
		    j->parent < 0 ? -1 : plan_of[j->parent];
		s->rel[s->nrel].fk = j->fk;
		s->rel[s->nrel].col0 = col0;
		col0 += j->mt->m->nfields;
		plan_of[i] = (int)s->nrel++;
	}
	s->ann_col0 = col0;
	ann_list(c, b);
}

/* Body shared by all modes: "<select> FROM ... WHERE ... ORDER ... LIMIT". */
static kiln_err
assemble(cctx *c, kiln_buf *b, kiln__sqlmode mode, kiln_agg agg,
    const target *at, int ordmode)
{
	static const char *const aggs[] = { "COUNT", "SUM", "AVG", "MIN",
		"MAX" };
	const kiln_qs *qs = c->qs;
	bool sliced = qs->lo != 0 || qs->hi >= 0;
	bool sub = (mode == KILN__SQL_COUNT || mode == KILN__SQL_AGG) &&
	    (sliced || qs->distinct || qs->nann > 0);
	kiln_buf ord;
	kiln_err rc;

	kiln_buf_init(&ord, c->a, 64);
	if (mode == KILN__SQL_SELECT || mode == KILN__SQL_PKS || sub ||
	    mode == KILN__SQL_VALUES || mode == KILN__SQL_EXISTS) {
		if ((rc = order(c, &ord, ordmode == 2, ordmode != 0)) !=
		    KILN_OK)
			return rc;
	}
	if (sub) {
		if (mode == KILN__SQL_COUNT)
			kiln_buf_append_c(b, "SELECT COUNT(*) FROM (");
		else
			kiln_buf_printf(b,
			    "SELECT %s(\"sub\".\"kiln_v\") FROM (", aggs[agg]);
	}
	kiln_buf_append_c(b, "SELECT ");
	if (qs->distinct && mode != KILN__SQL_EXISTS)
		kiln_buf_append_c(b, "DISTINCT ");
	if (mode == KILN__SQL_SELECT) {
		select_list(c, b);
	} else if (mode == KILN__SQL_VALUES) {
		for (size_t k = 0; k < c->qs->nvfields; k++) {
			if (k > 0)
				kiln_buf_append_c(b, ", ");
			col(c, b, c->vt[k].join, c->vt[k].mt, c->vt[k].fi);
		}
	} else if (mode == KILN__SQL_PKS || (sub && mode == KILN__SQL_COUNT)) {
		if (sub && (qs->distinct || qs->nann > 0))
			columns(c, b, -1, qs->mt);
		else
			col(c, b, -1, qs->mt, qs->mt->pk);
		if (sub)
			ann_list(c, b);
	} else if (mode == KILN__SQL_EXISTS) {
		kiln_buf_append_c(b, "1");
	} else if (mode == KILN__SQL_COUNT) {
		kiln_buf_append_c(b, "COUNT(*)");
	} else if (sub) {
		if (qs->distinct) {
			columns(c, b, -1, qs->mt);
			kiln_buf_append_c(b, ", ");
		}
		col(c, b, at->join, at->mt, at->fi);
		kiln_buf_append_c(b, " AS \"kiln_v\"");
		ann_list(c, b);
	} else {
		kiln_buf_printf(b, "%s(", aggs[agg]);
		col(c, b, at->join, at->mt, at->fi);
		kiln_buf_append_char(b, ')');
	}
	from(c, b);
	if (c->w.len > 0) {
		kiln_buf_append_c(b, " WHERE ");
		kiln_buf_append_str(b, kiln_buf_str(&c->w));
	}
	if (qs->nann > 0 && (mode == KILN__SQL_SELECT || sub))
		group_by(c, b, mode == KILN__SQL_SELECT);
	kiln_buf_append_str(b, kiln_buf_str(&ord));
	if (mode == KILN__SQL_EXISTS && !sliced) {
		kiln_buf_append_c(b, " LIMIT 1");
	} else if ((rc = limit(c, b)) != KILN_OK) {
		return rc;
	}
	if (sub)
		kiln_buf_append_c(b, ") \"sub\"");
	return b->oom || c->w.oom || ord.oom ? KILN_ENOMEM : KILN_OK;
}

kiln_err
kiln__orm_compile(kiln_qs *qs, const char *vendor, kiln__sqlmode mode,
    kiln_agg agg, const char *field, const kiln_val *v, int ordmode,
    kiln__sql *out)
{
	cctx c;
	target at;
	kiln_err rc;

	memset(&at, 0, sizeof(at));
	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.qs = qs;
	c.app = qs->app;
	c.a = qs->a;
	c.mysql = strcmp(vendor, "mysql") == 0;
	c.out = out;
	kiln_buf_init(&c.w, qs->a, 128);
	kiln_buf_init(&out->b, qs->a, 256);
	out->empty = qs->hi >= 0 && qs->hi <= qs->lo;
	if (mode == KILN__SQL_UPDATE) {
		if ((rc = resolve(&c, field, false, &at)) != KILN_OK)
			return rc;
		if (at.join >= 0)
			return fail(&c, KILN_EINVAL,
			    "update: '%s' is not a field of %s", field,
			    qs->mt->m->name);
		kiln_buf_printf(&out->b, "UPDATE \"%s\" SET \"%s\" = ?",
		    qs->mt->m->table, qs->mt->cols[at.fi]);
		if ((rc = param(&c, v)) != KILN_OK)
			return rc;
		if (qs->where != NULL &&
		    (rc = tree(&c, qs->where, false, 0)) != KILN_OK)
			return rc;
		if (c.njoins > 0 || qs->lo != 0 || qs->hi >= 0) {
			/*
			 * Joins or a slice: select the keys in a derived
			 * table, which MySQL allows on the updated table.
			 */
			kiln_buf_printf(&out->b,
			    " WHERE \"%s\".\"%s\" IN "
			    "(SELECT \"kiln_pk\" FROM (SELECT ",
			    qs->mt->m->table, qs->mt->cols[qs->mt->pk]);
			col(&c, &out->b, -1, qs->mt, qs->mt->pk);
			kiln_buf_append_c(&out->b, " AS \"kiln_pk\"");
			from(&c, &out->b);
			if (c.w.len > 0) {
				kiln_buf_append_c(&out->b, " WHERE ");
				kiln_buf_append_str(&out->b,
				    kiln_buf_str(&c.w));
			}
			if ((rc = order(&c, &out->b, false, false)) !=
				KILN_OK ||
			    (rc = limit(&c, &out->b)) != KILN_OK)
				return rc;
			kiln_buf_append_c(&out->b, ") \"sub\")");
		} else if (c.w.len > 0) {
			kiln_buf_append_c(&out->b, " WHERE ");
			kiln_buf_append_str(&out->b, kiln_buf_str(&c.w));
		}
		return out->b.oom || c.w.oom ? KILN_ENOMEM : KILN_OK;
	}
	if (mode == KILN__SQL_SELECT && (rc = related(&c)) != KILN_OK)
		return rc;
	if (mode == KILN__SQL_VALUES && (rc = values(&c)) != KILN_OK)
		return rc;
	if (mode == KILN__SQL_AGG &&
	    (rc = resolve(&c, field, false, &at)) != KILN_OK)
		return rc;
	if (mode != KILN__SQL_VALUES && (rc = annotations(&c)) != KILN_OK)
		return rc;
	if (qs->where != NULL &&
	    (rc = tree(&c, qs->where, false, 0)) != KILN_OK)
		return rc;
	if ((rc = assemble(&c, &out->b, mode, agg, &at, ordmode)) != KILN_OK)
		return rc == KILN_ENOMEM ?
		    kiln__app_error(qs->app, rc, "out of memory") :
		    rc;
	return KILN_OK;
}
