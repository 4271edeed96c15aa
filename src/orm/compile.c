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
	struct target *rec;	       /* each condition's target, in order */
	size_t nrec, caprec;	       /* entries, allocated */
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

/*
 * Returns the entry of ops equal to s, or NULL. Targets keep that
 * pointer, never the lookup's own text, so that a cached compile (see
 * below) can keep them.
 */
static const char *
op_of(const char *s)
{
	size_t i;

	for (i = 0; ops[i] != NULL; i++)
		if (strcmp(ops[i], s) == 0)
			return ops[i];
	return NULL;
}

static bool
is_op(const char *s)
{
	return op_of(s) != NULL;
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

/*
 * Appends the NULL-ended strings given. The compiler's hot paths write
 * with this rather than kiln_buf_printf, which formats everything twice
 * (once to measure): that was half of the time of a compile.
 */
static void
cat(kiln_buf *b, ...)
{
	const char *s;
	va_list ap;

	va_start(ap, b);
	while ((s = va_arg(ap, const char *)) != NULL)
		kiln_buf_append_c(b, s);
	va_end(ap);
}

/* Appends the alias of join j, "T<j + 1>" (j < KILN__ORM_MAXJOIN). */
static void
join_alias(kiln_buf *b, size_t j)
{
	char t[8];
	size_t n = 0, k = j + 1;

	t[n++] = 'T';
	if (k >= 10)
		t[n++] = (char)('0' + k / 10 % 10);
	t[n++] = (char)('0' + k % 10);
	kiln_buf_append(b, t, n);
}

/* Appends alias."column" for field fi of join j (-1: base). */
static void
col(cctx *c, kiln_buf *b, int j, const kiln__meta *mt, size_t fi)
{
	if (j < 0) {
		cat(b, "\"", c->qs->mt->m->table, "\".\"", mt->cols[fi], "\"",
		    (char *)NULL);
		return;
	}
	kiln_buf_append_char(b, '"');
	join_alias(b, (size_t)j);
	cat(b, "\".\"", mt->cols[fi], "\"", (char *)NULL);
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
	t->op = ops[0];
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
				t->op = op_of(parts[i + 1]);
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
			t->op = op_of(parts[i + 1]);
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
				t->op = op_of(parts[i + 2]);
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

/* Keeps the target of a condition for the compile cache (below). */
static kiln_err
record(cctx *c, const target *t)
{
	target *p;
	size_t cap;

	if (c->nrec == c->caprec) {
		cap = c->caprec ? c->caprec * 2 : 4;
		if ((p = kiln_arena_alloc(c->a, cap * sizeof(*p))) == NULL)
			return KILN_ENOMEM;
		if (c->nrec > 0)
			memcpy(p, c->rec, c->nrec * sizeof(*p));
		c->rec = p;
		c->caprec = cap;
	}
	c->rec[c->nrec++] = *t;
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
	if ((rc = record(c, &t)) != KILN_OK)
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

	cat(b, " FROM \"", c->qs->mt->m->table, "\"", (char *)NULL);
	for (i = 0; i < c->njoins; i++) {
		j = &c->joins[i];
		pmt = j->parent < 0 ? c->qs->mt : c->joins[j->parent].mt;
		cat(b, j->outer ? " LEFT OUTER" : " INNER", " JOIN \"",
		    j->mt->m->table, "\" \"", (char *)NULL);
		join_alias(b, i);
		kiln_buf_append_c(b, "\" ON (");
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

/* Adds the LIMIT and OFFSET values of a sliced QuerySet. */
static kiln_err
limit_params(cctx *c)
{
	const kiln_qs *qs = c->qs;
	kiln_val *lim, *off;

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
	if (param(c, lim) != KILN_OK || param(c, off) != KILN_OK)
		return KILN_ENOMEM;
	return KILN_OK;
}

/* Appends LIMIT/OFFSET with bound values. */
static kiln_err
limit(cctx *c, kiln_buf *b)
{
	if (c->qs->hi < 0 && c->qs->lo == 0)
		return KILN_OK;
	kiln_buf_append_c(b, " LIMIT ? OFFSET ?");
	return limit_params(c);
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

/* Compiles qs into c->out (which c was set up with) the long way. */
static kiln_err
compile_full(cctx *c, kiln__sqlmode mode, kiln_agg agg, const char *field,
    const kiln_val *v, int ordmode)
{
	kiln_qs *qs = c->qs;
	kiln__sql *out = c->out;
	target at;
	kiln_err rc;

	memset(&at, 0, sizeof(at));
	kiln_buf_init(&c->w, qs->a, 128);
	kiln_buf_init(&out->b, qs->a, 256);
	if (mode == KILN__SQL_UPDATE) {
		if ((rc = resolve(c, field, false, &at)) != KILN_OK)
			return rc;
		if (at.join >= 0)
			return fail(c, KILN_EINVAL,
			    "update: '%s' is not a field of %s", field,
			    qs->mt->m->name);
		kiln_buf_printf(&out->b, "UPDATE \"%s\" SET \"%s\" = ?",
		    qs->mt->m->table, qs->mt->cols[at.fi]);
		if ((rc = param(c, v)) != KILN_OK)
			return rc;
		if (qs->where != NULL &&
		    (rc = tree(c, qs->where, false, 0)) != KILN_OK)
			return rc;
		if (c->njoins > 0 || qs->lo != 0 || qs->hi >= 0) {
			/*
			 * Joins or a slice: select the keys in a derived
			 * table, which MySQL allows on the updated table.
			 */
			kiln_buf_printf(&out->b,
			    " WHERE \"%s\".\"%s\" IN "
			    "(SELECT \"kiln_pk\" FROM (SELECT ",
			    qs->mt->m->table, qs->mt->cols[qs->mt->pk]);
			col(c, &out->b, -1, qs->mt, qs->mt->pk);
			kiln_buf_append_c(&out->b, " AS \"kiln_pk\"");
			from(c, &out->b);
			if (c->w.len > 0) {
				kiln_buf_append_c(&out->b, " WHERE ");
				kiln_buf_append_str(&out->b,
				    kiln_buf_str(&c->w));
			}
			if ((rc = order(c, &out->b, false, false)) != KILN_OK ||
			    (rc = limit(c, &out->b)) != KILN_OK)
				return rc;
			kiln_buf_append_c(&out->b, ") \"sub\")");
		} else if (c->w.len > 0) {
			kiln_buf_append_c(&out->b, " WHERE ");
			kiln_buf_append_str(&out->b, kiln_buf_str(&c->w));
		}
		return out->b.oom || c->w.oom ? KILN_ENOMEM : KILN_OK;
	}
	if (mode == KILN__SQL_SELECT && (rc = related(c)) != KILN_OK)
		return rc;
	if (mode == KILN__SQL_VALUES && (rc = values(c)) != KILN_OK)
		return rc;
	if (mode == KILN__SQL_AGG &&
	    (rc = resolve(c, field, false, &at)) != KILN_OK)
		return rc;
	if (mode != KILN__SQL_VALUES && (rc = annotations(c)) != KILN_OK)
		return rc;
	if (qs->where != NULL && (rc = tree(c, qs->where, false, 0)) != KILN_OK)
		return rc;
	if ((rc = assemble(c, &out->b, mode, agg, &at, ordmode)) != KILN_OK)
		return rc == KILN_ENOMEM ?
		    kiln__app_error(qs->app, rc, "out of memory") :
		    rc;
	return KILN_OK;
}

/*
 * The compile cache. An app runs the same few shapes of QuerySet over
 * and over with other values (a view's filter by key), so each shape's
 * SQL is kept, per app, after its first successful compile: the key is
 * everything of the QuerySet that the text depends on (the model, the
 * mode, every lookup and the kind of its value: null, a list and its
 * length, or its truth for isnull; order, slicing, joins asked for,
 * annotations, values fields, the vendor), and a hit only rebuilds the
 * parameters, cleaning each value against the target its lookup
 * resolved to when the shape was compiled. Values never reach the text,
 * so a hit binds exactly what a full compile would. The cache is
 * bounded (CACHE_MAX shapes; later shapes are compiled each time) and is
 * emptied when a model is registered, since that can change what a
 * lookup resolves to.
 */
#define CACHE_SLOTS 512	 /* open addressing, a power of two */
#define CACHE_MAX   256	 /* shapes kept: at most half the slots */
#define KEY_MAX	    1024 /* longer keys are not cached */

/* One cached shape. */
typedef struct centry {
	uint64_t h;	       /* the key's hash */
	char *key;	       /* the key */
	size_t klen;	       /* its length */
	char *sql;	       /* the text */
	size_t len;	       /* its length */
	target *leaves;	       /* each condition's target, in tree order */
	size_t nleaves;	       /* entries */
	size_t nrel;	       /* select_related rows */
	kiln__relplan *rel;    /* their plans */
	size_t ann_col0;       /* first annotation column */
	const kiln_field **vf; /* VALUES: each column's field */
	const kiln_field **af; /* annotations' fields */
} centry;

/* The per-app cache, hung on the kiln_db state (db->orm). */
typedef struct ccache {
	centry *slot[CACHE_SLOTS]; /* by hash */
	size_t n;		   /* shapes kept */
	size_t nmodels;		   /* models registered when filled */
} ccache;

/* A key under construction (fixed buffer; over when it did not fit). */
typedef struct kbuf {
	char p[KEY_MAX]; /* the bytes */
	size_t n;	 /* used */
	bool over;	 /* too long to cache */
} kbuf;

static void
kput(kbuf *k, const void *p, size_t n)
{
	if (k->over || n > sizeof(k->p) - k->n) {
		k->over = true;
		return;
	}
	memcpy(k->p + k->n, p, n);
	k->n += n;
}

/* A string with its NUL, so that "ab","c" and "a","bc" differ. */
static void
kstr(kbuf *k, const char *s)
{
	kput(k, s, strlen(s) + 1);
}

static void
kint(kbuf *k, int64_t i)
{
	kput(k, &i, sizeof(i));
}

/* A number, in one byte when it is below 255 (modes, flags, counts). */
static void
kbyte(kbuf *k, size_t v)
{
	unsigned char b = v < 255 ? (unsigned char)v : 255;

	kput(k, &b, 1);
	if (v >= 255)
		kint(k, (int64_t)v);
}

/* The condition tree: its structure, lookups and value kinds. */
static void
ktree(kbuf *k, const kiln_q *q, unsigned depth)
{
	const kiln_val *v;
	size_t i, nn = 0;

	if (depth > 64) {
		k->over = true;
		return;
	}
	kbyte(k, (unsigned)q->kind);
	if (q->kind != KILN__Q_LEAF) {
		ktree(k, q->x, depth + 1);
		if (q->kind != KILN__Q_NOT)
			ktree(k, q->y, depth + 1);
		return;
	}
	kstr(k, q->lookup);
	v = q->v;
	if (v == NULL || v->type == KILN_VAL_NULL) {
		kbyte(k, 1);
	} else if (v->type == KILN_VAL_LIST) {
		for (i = 0; i < v->u.list.n; i++)
			nn += v->u.list.items[i]->type != KILN_VAL_NULL;
		kbyte(k, 2);
		kint(k, (int64_t)v->u.list.n);
		kint(k, (int64_t)nn);
	} else {
		kbyte(k, kiln_val_truthy(v) ? 3 : 4);
	}
}

/* Builds the key of compiling qs so; false when it cannot be cached. */
static bool
shape_key(const kiln_qs *qs, bool mysql, kiln__sqlmode mode, kiln_agg agg,
    const char *field, int ordmode, kbuf *k)
{
	const void *m = qs->mt;
	unsigned char hd[9];
	size_t i;

	/* Shapes with 255 or more of anything are compiled each time. */
	if (qs->norder > 254 || qs->nrelated > 254 || qs->nann > 254 ||
	    qs->nvfields > 254 || (unsigned)mode > 254 || (unsigned)agg > 254 ||
	    (unsigned)ordmode > 254)
		return false;
	hd[0] = (unsigned char)mode;
	hd[1] = (unsigned char)agg;
	hd[2] = (unsigned char)ordmode;
	hd[3] =
	    (unsigned char)(mysql | (qs->lo != 0) << 1 | (qs->hi >= 0) << 2 |
		qs->distinct << 3 | qs->order_set << 4 | (field != NULL) << 5);
	hd[4] = (unsigned char)qs->norder;
	hd[5] = (unsigned char)qs->nrelated;
	hd[6] = (unsigned char)qs->nann;
	hd[7] = (unsigned char)qs->nvfields;
	hd[8] = qs->where != NULL;
	k->n = 0;
	k->over = false;
	kput(k, &m, sizeof(m));
	kput(k, hd, sizeof(hd));
	if (field != NULL)
		kstr(k, field);
	for (i = 0; i < qs->norder; i++)
		kstr(k, qs->order[i]);
	for (i = 0; i < qs->nrelated; i++)
		kstr(k, qs->related[i]);
	for (i = 0; i < qs->nann; i++) {
		kstr(k, qs->ann_names[i]);
		kstr(k, qs->ann_paths[i]);
		kbyte(k, (size_t)qs->ann_aggs[i]);
	}
	for (i = 0; i < qs->nvfields; i++)
		kstr(k, qs->vfields[i]);
	if (qs->where != NULL)
		ktree(k, qs->where, 0);
	return !k->over;
}

/* A hash of the key, eight bytes at a time (FNV-1a's constants). */
static uint64_t
khash(const kbuf *k)
{
	uint64_t h = 14695981039346656037ULL, w;
	size_t i;

	for (i = 0; i + 8 <= k->n; i += 8) {
		memcpy(&w, k->p + i, 8);
		h = (h ^ w) * 1099511628211ULL;
		h ^= h >> 29;
	}
	for (; i < k->n; i++)
		h = (h ^ (unsigned char)k->p[i]) * 1099511628211ULL;
	return h ^ (h >> 32);
}

/* The app's cache (created on first use), or NULL. */
static ccache *
cache_of(kiln_app *app)
{
	kiln__db *db = kiln__db_state(app);
	ccache *cc;

	if (db == NULL)
		return NULL;
	if ((cc = db->orm) == NULL) {
		if ((cc = kiln_arena_calloc(kiln_app_arena(app), 1,
			 sizeof(*cc))) == NULL)
			return NULL;
		db->orm = cc;
	}
	if (cc->nmodels != db->models.n) {
		memset(cc->slot, 0, sizeof(cc->slot));
		cc->n = 0;
		cc->nmodels = db->models.n;
	}
	return cc;
}

/* The slot for key k: its entry, or the empty slot where it would go. */
static centry **
cache_slot(ccache *cc, const kbuf *k, uint64_t h)
{
	size_t i = (size_t)h & (CACHE_SLOTS - 1);
	centry *e;

	while ((e = cc->slot[i]) != NULL) {
		if (e->h == h && e->klen == k->n &&
		    memcmp(e->key, k->p, k->n) == 0)
			break;
		i = (i + 1) & (CACHE_SLOTS - 1);
	}
	return &cc->slot[i];
}

/* Keeps a successful compile of c under key k (quietly not when full). */
static void
cache_add(kiln_app *app, ccache *cc, centry **slot, const kbuf *k, uint64_t h,
    const cctx *c)
{
	kiln_arena *a = kiln_app_arena(app);
	const kiln__sql *s = c->out;
	centry *e;

	if (cc->n >= CACHE_MAX ||
	    (e = kiln_arena_calloc(a, 1, sizeof(*e))) == NULL)
		return;
	e->h = h;
	e->klen = k->n;
	e->len = s->b.len;
	e->nleaves = c->nrec;
	e->nrel = s->nrel;
	e->ann_col0 = s->ann_col0;
	if ((e->key = kiln_arena_alloc(a, k->n)) == NULL ||
	    (e->sql = kiln_arena_strndup(a, s->b.ptr, s->b.len)) == NULL ||
	    (e->leaves = kiln_arena_calloc(a, c->nrec + 1,
		 sizeof(*e->leaves))) == NULL ||
	    (e->rel = kiln_arena_calloc(a, s->nrel + 1, sizeof(*e->rel))) ==
		NULL ||
	    (e->vf = kiln_arena_calloc(a, c->qs->nvfields + 1,
		 sizeof(*e->vf))) == NULL ||
	    (e->af = kiln_arena_calloc(a, c->qs->nann + 1, sizeof(*e->af))) ==
		NULL)
		return;
	memcpy(e->key, k->p, k->n);
	if (c->nrec > 0)
		memcpy(e->leaves, c->rec, c->nrec * sizeof(*e->leaves));
	if (s->nrel > 0)
		memcpy(e->rel, s->rel, s->nrel * sizeof(*e->rel));
	if (c->qs->nvfields > 0)
		memcpy(e->vf, s->vf, c->qs->nvfields * sizeof(*e->vf));
	if (c->qs->nann > 0)
		memcpy(e->af, s->af, c->qs->nann * sizeof(*e->af));
	*slot = e;
	cc->n++;
}

/*
 * The parameters of one condition, as leaf() adds them, for target t
 * (which leaf() resolved when the shape was compiled).
 */
static kiln_err
leaf_params(cctx *c, const target *t, const kiln_q *q)
{
	const kiln_val *v = q->v;
	const char *op = t->op;
	size_t i;
	kiln_err rc;

	if (strcmp(op, "isnull") == 0 || v == NULL || v->type == KILN_VAL_NULL)
		return KILN_OK;
	if (strcmp(op, "in") == 0) {
		for (i = 0; i < v->u.list.n; i++) {
			if (v->u.list.items[i]->type != KILN_VAL_NULL &&
			    (rc = value(c, t, v->u.list.items[i])) != KILN_OK)
				return rc;
		}
		return KILN_OK;
	}
	if (strcmp(op, "range") == 0) {
		if ((rc = value(c, t, v->u.list.items[0])) != KILN_OK)
			return rc;
		return value(c, t, v->u.list.items[1]);
	}
	if (strcmp(op, "exact") == 0 || strcmp(op, "iexact") == 0 ||
	    strcmp(op, "gt") == 0 || strcmp(op, "gte") == 0 ||
	    strcmp(op, "lt") == 0 || strcmp(op, "lte") == 0)
		return value(c, t, v);
	return like_value(c, t, v);
}

/* The parameters of the condition tree, in tree() order. */
static kiln_err
tree_params(cctx *c, const kiln_q *q, const centry *e, size_t *next)
{
	kiln_err rc;

	if (q->kind == KILN__Q_LEAF) {
		if (*next >= e->nleaves)
			return KILN_EINVAL; /* cannot happen: same shape */
		return leaf_params(c, &e->leaves[(*next)++], q);
	}
	if ((rc = tree_params(c, q->x, e, next)) != KILN_OK)
		return rc;
	return q->kind == KILN__Q_NOT ? KILN_OK : tree_params(c, q->y, e, next);
}

/* Fills c->out from cached entry e and the values of c->qs. */
static kiln_err
replay(cctx *c, const centry *e, kiln__sqlmode mode, const kiln_val *v)
{
	kiln__sql *out = c->out;
	const kiln_qs *qs = c->qs;
	size_t next = 0;
	kiln_err rc;

	out->nrel = e->nrel;
	if (e->nrel > 0)
		memcpy(out->rel, e->rel, e->nrel * sizeof(*out->rel));
	if (qs->nvfields > 0)
		memcpy(out->vf, e->vf, qs->nvfields * sizeof(*out->vf));
	if (qs->nann > 0)
		memcpy(out->af, e->af, qs->nann * sizeof(*out->af));
	out->ann_col0 = e->ann_col0;
	kiln_buf_init(&out->b, c->a, e->len + 1);
	kiln_buf_append(&out->b, e->sql, e->len);
	if (out->b.oom)
		return kiln__app_error(c->app, KILN_ENOMEM, "out of memory");
	if (mode == KILN__SQL_UPDATE && (rc = param(c, v)) != KILN_OK)
		return rc;
	if (qs->where != NULL &&
	    (rc = tree_params(c, qs->where, e, &next)) != KILN_OK)
		return rc;
	if (qs->hi >= 0 || qs->lo != 0)
		return limit_params(c);
	return KILN_OK;
}

kiln_err
kiln__orm_compile(kiln_qs *qs, const char *vendor, kiln__sqlmode mode,
    kiln_agg agg, const char *field, const kiln_val *v, int ordmode,
    kiln__sql *out)
{
	ccache *cc = NULL;
	centry **slot = NULL;
	uint64_t h = 0;
	kbuf k;
	cctx c;
	kiln_err rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.qs = qs;
	c.app = qs->app;
	c.a = qs->a;
	c.mysql = strcmp(vendor, "mysql") == 0;
	c.out = out;
	out->empty = qs->hi >= 0 && qs->hi <= qs->lo;
	if (shape_key(qs, c.mysql, mode, agg, field, ordmode, &k) &&
	    (cc = cache_of(qs->app)) != NULL) {
		h = khash(&k);
		slot = cache_slot(cc, &k, h);
		if (*slot != NULL)
			return replay(&c, *slot, mode, v);
	}
	if ((rc = compile_full(&c, mode, agg, field, v, ordmode)) != KILN_OK)
		return rc;
	if (slot != NULL)
		cache_add(qs->app, cc, slot, &k, h, &c);
	return KILN_OK;
}
