/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Reverse relations and prefetch_related. A reverse relation of model M
 * is named by another model's FK to M: its related_name, or the other
 * model's name in lower case followed by "_set" (Django's default).
 * prefetch_related runs one query per name after the main query, with
 * the keys of every fetched row in an IN list, and files the results on
 * the rows: forward FKs into the row's related slot, reverse relations
 * into a set kept on the row. Matching goes through arrays sorted by
 * key, so the cost is O(n log n), not the product of the two sides.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/kiln.h>

#include "orm_int.h"

/* True when name is m2's default reverse name ("comment_set"). */
static bool
default_name(const kiln_model *m2, const char *name)
{
	size_t i, n = strlen(m2->name);

	if (strlen(name) != n + 4 || strcmp(name + n, "_set") != 0)
		return false;
	for (i = 0; i < n; i++)
		if (tolower((unsigned char)m2->name[i]) != name[i])
			return false;
	return true;
}

bool
kiln__orm_reverse(kiln_app *app, const kiln_model *m, const char *name,
    const kiln__meta **from, size_t *fk)
{
	const kiln__ptrs *models = kiln__orm_models(app);
	const kiln__meta *mt;
	const kiln_field *f;
	size_t i, k;

	for (i = 0; models != NULL && i < models->n; i++) {
		mt = models->items[i];
		for (k = 0; k < mt->m->nfields; k++) {
			f = &mt->m->fields[k];
			if (f->type != KILN_FIELD_FK || f->to != m)
				continue;
			if (f->related_name != NULL ?
				strcmp(f->related_name, name) == 0 :
				default_name(mt->m, name)) {
				*from = mt;
				*fk = k;
				return true;
			}
		}
	}
	return false;
}

/* A key and what it belongs to, for sorting. */
typedef struct keyed {
	int64_t key; /* the primary key */
	void *p;     /* forward: the target row; reverse: the parent's set */
} keyed;

static int
keyed_cmp(const void *a, const void *b)
{
	int64_t x = ((const keyed *)a)->key, y = ((const keyed *)b)->key;

	return x < y ? -1 : x > y;
}

static keyed *
keyed_find(keyed *v, size_t n, int64_t key)
{
	keyed k = { .key = key };

	return bsearch(&k, v, n, sizeof(*v), keyed_cmp);
}

/* Builds a list value of the keys field fi holds on rows (no NULLs). */
static kiln_val *
key_list(kiln_arena *a, kiln_row **rows, size_t n, size_t fi)
{
	kiln_val *l = kiln_val_list(a);
	size_t i;

	for (i = 0; l != NULL && i < n; i++) {
		if (rows[i]->vals[fi].type == KILN_VAL_INT &&
		    kiln_val_push(l, &rows[i]->vals[fi]) != KILN_OK)
			return NULL;
	}
	return l;
}

/* Forward FK fi: one query for the targets, filed on each row. */
static kiln_err
forward(kiln_qs *qs, kiln_row **rows, size_t n, size_t fi, const char *alias)
{
	const kiln_field *f = &qs->mt->m->fields[fi];
	kiln_row **targets;
	kiln_val *keys;
	keyed *idx, *hit;
	size_t i, nt;
	kiln_qs *tq;
	kiln_err rc;

	if ((keys = key_list(qs->a, rows, n, fi)) == NULL)
		return kiln__app_error(qs->app, KILN_ENOMEM, "out of memory");
	if (keys->u.list.n == 0)
		return KILN_OK;
	tq = kiln_qs_using(kiln_qs_filter(kiln_qs_new(qs->app, qs->a, f->to),
			       "pk__in", keys),
	    alias);
	if ((rc = kiln_qs_all(tq, &targets, &nt)) != KILN_OK)
		return rc;
	if ((idx = kiln_arena_calloc(qs->a, nt ? nt : 1, sizeof(*idx))) == NULL)
		return kiln__app_error(qs->app, KILN_ENOMEM, "out of memory");
	for (i = 0; i < nt; i++) {
		idx[i].key = kiln_row_pk(targets[i]);
		idx[i].p = targets[i];
	}
	qsort(idx, nt, sizeof(*idx), keyed_cmp);
	for (i = 0; i < n; i++) {
		if (rows[i]->vals[fi].type != KILN_VAL_INT)
			continue;
		hit = keyed_find(idx, nt, rows[i]->vals[fi].u.i);
		rows[i]->rel[fi] = hit != NULL ? hit->p : NULL;
	}
	return KILN_OK;
}

/*
 * The parents' side of a reverse or many-to-many prefetch: the keys of
 * rows (for the IN list), an index with room for every row, and an empty
 * set named name on each row (sets[i] is rows[i]'s). All in qs's arena.
 */
static kiln_err
parents(kiln_qs *qs, kiln_row **rows, size_t n, const char *name,
    kiln_val **keys, keyed **idx, kiln__rset ***sets)
{
	size_t i;

	if ((*keys = key_list(qs->a, rows, n, qs->mt->pk)) == NULL ||
	    (*idx = kiln_arena_calloc(qs->a, n ? n : 1, sizeof(**idx))) ==
		NULL ||
	    (*sets = kiln_arena_calloc(qs->a, n ? n : 1, sizeof(**sets))) ==
		NULL)
		return kiln__app_error(qs->app, KILN_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if (((*sets)[i] = kiln_arena_calloc(qs->a, 1,
			 sizeof(***sets))) == NULL)
			return kiln__app_error(qs->app, KILN_ENOMEM,
			    "out of memory");
		(*sets)[i]->name = name;
		(*sets)[i]->next = rows[i]->sets;
		rows[i]->sets = (*sets)[i];
	}
	return KILN_OK;
}

/*
 * Files the children a reverse or many-to-many query fetched on the
 * parents' sets, in the children's order. kids[k] belongs to the parent
 * whose key it holds in field key; what is filed is kids[k] itself, or,
 * when via >= 0, the row it joined through its FK field via (a link
 * whose far row is missing is counted but not filed). Two passes: count
 * each parent's children, then file them.
 */
static kiln_err
file_kids(kiln_qs *qs, kiln_row **rows, size_t n, keyed *idx, kiln__rset **sets,
    kiln_row **kids, size_t nk, size_t key, long via)
{
	kiln__rset *set;
	kiln_row *kid;
	keyed *hit;
	size_t i;

	for (i = 0; i < n; i++) {
		idx[i].key = kiln_row_pk(rows[i]);
		idx[i].p = sets[i];
	}
	qsort(idx, n, sizeof(*idx), keyed_cmp);
	for (i = 0; i < nk; i++)
		if ((hit = keyed_find(idx, n, kids[i]->vals[key].u.i)) != NULL)
			((kiln__rset *)hit->p)->n++;
	for (i = 0; i < n; i++) {
		if (sets[i]->n > 0 &&
		    (sets[i]->rows = kiln_arena_calloc(qs->a, sets[i]->n,
			 sizeof(kiln_row *))) == NULL)
			return kiln__app_error(qs->app, KILN_ENOMEM,
			    "out of memory");
		sets[i]->n = 0;
	}
	for (i = 0; i < nk; i++) {
		hit = keyed_find(idx, n, kids[i]->vals[key].u.i);
		kid = via >= 0 ? kids[i]->rel[via] : kids[i];
		if (hit == NULL || kid == NULL)
			continue;
		set = hit->p;
		set->rows[set->n++] = kid;
	}
	return KILN_OK;
}

/*
 * Reverse relation: one query for the children of every row, then two
 * passes: count each parent's children, then file them in order.
 */
static kiln_err
reverse(kiln_qs *qs, kiln_row **rows, size_t n, const char *name,
    const kiln__meta *from, size_t fk, const char *alias)
{
	kiln_row **kids;
	kiln__rset **sets = NULL;
	kiln_val *keys = NULL;
	keyed *idx = NULL;
	size_t nk;
	kiln_qs *cq;
	char lookup[96];
	kiln_err rc;

	if ((rc = parents(qs, rows, n, name, &keys, &idx, &sets)) != KILN_OK ||
	    keys->u.list.n == 0)
		return rc;
	snprintf(lookup, sizeof(lookup), "%s__in", from->cols[fk]);
	cq = kiln_qs_using(kiln_qs_filter(kiln_qs_new(qs->app, qs->a, from->m),
			       lookup, keys),
	    alias);
	if ((rc = kiln_qs_all(cq, &kids, &nk)) != KILN_OK)
		return rc;
	return file_kids(qs, rows, n, idx, sets, kids, nk, fk, -1);
}

/*
 * Many-to-many: one query on the link model with the far rows joined
 * (select_related), in the far model's default order, filed on each row
 * by the link's key to it.
 */
static kiln_err
many(kiln_qs *qs, kiln_row **rows, size_t n, const char *name,
    const kiln__m2mref *ref, const char *alias)
{
	const char *other = ref->link->m->fields[ref->other].name;
	const char *const *ord = ref->to->m->ordering;
	kiln_row **links;
	kiln__rset **sets = NULL;
	kiln_val *keys = NULL;
	keyed *idx = NULL;
	size_t i, k, nl;
	kiln_qs *lq;
	kiln_err rc;

	if ((rc = parents(qs, rows, n, name, &keys, &idx, &sets)) != KILN_OK ||
	    keys->u.list.n == 0)
		return rc;
	lq = kiln_qs_filter(kiln_qs_new(qs->app, qs->a, ref->link->m),
	    kiln_arena_printf(qs->a, "%s__in", ref->link->cols[ref->self]),
	    keys);
	lq = kiln_qs_using(kiln_qs_select_related(lq, other), alias);
	if (lq == NULL)
		return kiln__app_error(qs->app, KILN_ENOMEM, "out of memory");
	/* The far model's order, as kiln_row_m2m gives it. */
	for (k = 0; ord != NULL && ord[k] != NULL; k++)
		;
	if (k > 0 &&
	    (lq->order = kiln_arena_calloc(qs->a, k, sizeof(*lq->order))) !=
		NULL) {
		for (i = 0; i < k; i++)
			lq->order[i] = kiln_arena_printf(qs->a, "%s%s__%s",
			    ord[i][0] == '-' ? "-" : "", other,
			    ord[i] + (ord[i][0] == '-'));
		lq->norder = k;
		lq->order_set = true;
	}
	if ((rc = kiln_qs_all(lq, &links, &nl)) != KILN_OK)
		return rc;
	return file_kids(qs, rows, n, idx, sets, links, nl, ref->self,
	    (long)ref->other);
}

kiln_err
kiln__orm_prefetch(kiln_qs *qs, kiln_row **rows, size_t n, const char *alias)
{
	kiln__m2mref ref;
	const kiln__meta *from;
	const char *name;
	size_t i, fk;
	long fi;
	kiln_err rc;

	for (i = 0; i < qs->nprefetch; i++) {
		name = qs->prefetch[i];
		fi = kiln__orm_field_index(qs->mt->m, name);
		if (fi >= 0 && qs->mt->m->fields[fi].type == KILN_FIELD_FK)
			rc = forward(qs, rows, n, (size_t)fi, alias);
		else if (kiln__orm_reverse(qs->app, qs->mt->m, name, &from,
			     &fk))
			rc = reverse(qs, rows, n, name, from, fk, alias);
		else if (kiln__orm_m2m(qs->app, qs->mt->m, name, &ref))
			rc = many(qs, rows, n, name, &ref, alias);
		else
			rc = kiln__app_error(qs->app, KILN_EINVAL,
			    "prefetch_related: %s has no relation named '%s'",
			    qs->mt->m->name, name);
		if (rc != KILN_OK)
			return rc;
	}
	return KILN_OK;
}

kiln_err
kiln_row_reverse(kiln_row *r, const char *name, kiln_row ***rows, size_t *n)
{
	const kiln__meta *from;
	kiln__rset *set;
	kiln_qs *qs;
	size_t fk;
	kiln_err rc;

	*rows = NULL;
	*n = 0;
	for (set = r->sets; set != NULL; set = set->next) {
		if (strcmp(set->name, name) == 0) {
			*rows = set->rows;
			*n = set->n;
			return KILN_OK;
		}
	}
	if (!kiln__orm_reverse(r->app, r->mt->m, name, &from, &fk))
		return kiln__app_error(r->app, KILN_ENOTFOUND,
		    "%s has no reverse relation named '%s'", r->mt->m->name,
		    name);
	if ((set = kiln_arena_calloc(r->a, 1, sizeof(*set))) == NULL ||
	    (set->name = kiln_arena_strdup(r->a, name)) == NULL)
		return kiln__app_error(r->app, KILN_ENOMEM, "out of memory");
	qs = kiln_qs_filter_i(kiln_qs_new(r->app, r->a, from->m),
	    from->cols[fk], kiln_row_pk(r));
	if (r->db != NULL)
		qs = kiln_qs_using(qs, r->db);
	if ((rc = kiln_qs_all(qs, &set->rows, &set->n)) != KILN_OK)
		return rc;
	set->next = r->sets;
	r->sets = set;
	*rows = set->rows;
	*n = set->n;
	return KILN_OK;
}
