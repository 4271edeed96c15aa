/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Many-to-many relations. Each kiln_m2m of a model gets a link model,
 * built at registration in the app arena and registered like any other
 * (so tables, migrations and on_delete need nothing special): an AUTO
 * key and two CASCADE foreign keys, unique together. Lookups cross a
 * relation with two joins (model -> link -> other, compile.c); the row
 * functions below go through QuerySets on the link model.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <kiln/kiln.h>

#include "orm_int.h"

/* Returns a lower-case copy of s in a. */
static char *
lower(kiln_arena *a, const char *s)
{
	char *p = kiln_arena_strdup(a, s), *q;

	for (q = p; q != NULL && *q != '\0'; q++)
		*q = (char)tolower((unsigned char)*q);
	return p;
}

/* Builds and registers the link model of m's relation r. */
static kiln_err
link_register(kiln_app *app, const kiln__meta *mt, const kiln_m2m *r,
    const kiln__meta **out)
{
	kiln_arena *a = kiln_app_arena(app);
	const kiln_model *m = mt->m;
	const char *table, *src, *dst, **together;
	kiln_field *f;
	kiln_model *lm;
	kiln_err rc;

	table = r->table != NULL ?
	    r->table :
	    kiln_arena_printf(a, "%s_%s", m->table, r->name);
	src = lower(a, m->name);
	dst = lower(a, r->to->name);
	if (table == NULL || src == NULL || dst == NULL)
		return KILN_ENOMEM;
	if (strcmp(src, dst) == 0) {
		src = kiln_arena_printf(a, "from_%s", src);
		dst = kiln_arena_printf(a, "to_%s", dst);
	}
	lm = kiln_arena_calloc(a, 1, sizeof(*lm));
	f = kiln_arena_calloc(a, 3, sizeof(*f));
	together = kiln_arena_calloc(a, 2, sizeof(*together));
	if (lm == NULL || f == NULL || together == NULL || src == NULL ||
	    dst == NULL ||
	    (together[0] = kiln_arena_printf(a, "%s,%s", src, dst)) == NULL)
		return KILN_ENOMEM;
	f[0].name = "id";
	f[0].type = KILN_FIELD_AUTO;
	f[1].name = src;
	f[1].type = KILN_FIELD_FK;
	f[1].to = m;
	f[1].related_name = kiln_arena_printf(a, "m2m_%s_src", table);
	f[2].name = dst;
	f[2].type = KILN_FIELD_FK;
	f[2].to = r->to;
	f[2].related_name = kiln_arena_printf(a, "m2m_%s_dst", table);
	lm->app_label = m->app_label;
	lm->name = kiln_arena_printf(a, "%s_%s", m->name, r->name);
	lm->table = table;
	lm->fields = f;
	lm->nfields = 3;
	lm->unique_together = together;
	if (lm->name == NULL || f[1].related_name == NULL ||
	    f[2].related_name == NULL)
		return KILN_ENOMEM;
	if ((rc = kiln_model_register(app, lm)) != KILN_OK)
		return rc;
	*out = kiln__orm_meta(app, lm);
	return *out != NULL ? KILN_OK : KILN_EINVAL;
}

kiln_err
kiln__orm_m2m_register(kiln_app *app, kiln__meta *mt)
{
	const kiln_model *m = mt->m;
	const kiln_m2m *r;
	size_t k;
	kiln_err rc;

	if (m->nm2m == 0)
		return KILN_OK;
	if (m->m2m == NULL ||
	    (mt->through = kiln_arena_calloc(kiln_app_arena(app), m->nm2m,
		 sizeof(*mt->through))) == NULL)
		return kiln__app_error(app, KILN_EINVAL,
		    "model %s: nm2m without m2m, or out of memory", m->name);
	for (k = 0; k < m->nm2m; k++) {
		r = &m->m2m[k];
		if (!kiln__orm_ident_ok(r->name) ||
		    kiln__orm_field_index(m, r->name) >= 0 || r->to == NULL ||
		    (r->table != NULL && !kiln__orm_ident_ok(r->table)))
			return kiln__app_error(app, KILN_EINVAL,
			    "%s: many-to-many '%s' needs a name that is not a "
			    "field, a .to, and a good table name",
			    m->name, r->name != NULL ? r->name : "");
		if (r->to != m && kiln__orm_meta(app, r->to) == NULL)
			return kiln__app_error(app, KILN_EINVAL,
			    "%s.%s: register %s before %s", m->name, r->name,
			    r->to->name, m->name);
		if ((rc = link_register(app, mt, r, &mt->through[k])) !=
		    KILN_OK)
			return rc == KILN_ENOMEM ?
			    kiln__app_error(app, rc, "out of memory") :
			    rc;
	}
	return KILN_OK;
}

/* True when name is the default reverse name of M ("post_set"). */
static bool
default_name(const kiln_model *m, const char *name)
{
	size_t i, n = strlen(m->name);

	if (strlen(name) != n + 4 || strcmp(name + n, "_set") != 0)
		return false;
	for (i = 0; i < n; i++)
		if (tolower((unsigned char)m->name[i]) != name[i])
			return false;
	return true;
}

bool
kiln__orm_m2m(kiln_app *app, const kiln_model *m, const char *name,
    kiln__m2mref *ref)
{
	const kiln__ptrs *models = kiln__orm_models(app);
	const kiln__meta *mt;
	const kiln_m2m *r;
	size_t i, k;

	for (i = 0; models != NULL && i < models->n; i++) {
		mt = models->items[i];
		for (k = 0; k < mt->m->nm2m; k++) {
			r = &mt->m->m2m[k];
			if (mt->m == m && strcmp(r->name, name) == 0) {
				ref->link = mt->through[k];
				ref->self = 1;
				ref->other = 2;
				ref->to = r->to == m ?
				    mt :
				    kiln__orm_meta(app, r->to);
				return ref->to != NULL;
			}
			if (r->to == m &&
			    (r->related_name != NULL ?
				    strcmp(r->related_name, name) == 0 :
				    default_name(mt->m, name))) {
				ref->link = mt->through[k];
				ref->self = 2;
				ref->other = 1;
				ref->to = mt;
				return true;
			}
		}
	}
	return false;
}

/* Drops what prefetch_related loaded for name: it is stale now. */
static void
forget_set(kiln_row *r, const char *name)
{
	kiln__rset **pp;

	for (pp = &r->sets; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->name, name) == 0) {
			*pp = (*pp)->next;
			return;
		}
	}
}

/* Finds r's relation name; the row must be saved. */
static kiln_err
ref_of(kiln_row *r, const char *name, kiln__m2mref *ref)
{
	if (r->vals[r->mt->pk].type == KILN_VAL_NULL)
		return kiln__app_error(r->app, KILN_EINVAL,
		    "%s: save the row before using %s", r->mt->m->name, name);
	if (!kiln__orm_m2m(r->app, r->mt->m, name, ref))
		return kiln__app_error(r->app, KILN_ENOTFOUND,
		    "%s has no many-to-many relation named '%s'",
		    r->mt->m->name, name);
	return KILN_OK;
}

/* ref_of for the functions that change the links. */
static kiln_err
ref_change(kiln_row *r, const char *name, kiln__m2mref *ref)
{
	kiln_err rc = ref_of(r, name, ref);

	if (rc == KILN_OK)
		forget_set(r, name);
	return rc;
}

/* The link rows of r (and of pk on the other side when pk > 0). */
static kiln_qs *
links(kiln_row *r, const kiln__m2mref *ref, int64_t pk)
{
	kiln_qs *qs = kiln_qs_new(r->app, r->a, ref->link->m);

	qs = kiln_qs_filter_i(qs, ref->link->cols[ref->self], kiln_row_pk(r));
	if (pk > 0)
		qs = kiln_qs_filter_i(qs, ref->link->cols[ref->other], pk);
	return r->db != NULL ? kiln_qs_using(qs, r->db) : qs;
}

kiln_err
kiln_row_m2m_add(kiln_row *r, const char *name, int64_t pk)
{
	kiln__m2mref ref;
	kiln_row *link;
	bool yes;
	kiln_err rc;

	if ((rc = ref_change(r, name, &ref)) != KILN_OK ||
	    (rc = kiln_qs_exists(links(r, &ref, pk), &yes)) != KILN_OK)
		return rc;
	if (yes)
		return KILN_OK;
	if ((link = kiln_row_new(r->app, r->a, ref.link->m)) == NULL)
		return KILN_ENOMEM;
	if ((rc = kiln_row_set_int(link, ref.link->m->fields[ref.self].name,
		 kiln_row_pk(r))) != KILN_OK ||
	    (rc = kiln_row_set_int(link, ref.link->m->fields[ref.other].name,
		 pk)) != KILN_OK)
		return rc;
	return kiln_row_save_using(link, r->db);
}

kiln_err
kiln_row_m2m_remove(kiln_row *r, const char *name, int64_t pk)
{
	kiln__m2mref ref;
	kiln_err rc;

	if ((rc = ref_change(r, name, &ref)) != KILN_OK)
		return rc;
	return kiln_qs_delete(links(r, &ref, pk), NULL);
}

kiln_err
kiln_row_m2m_clear(kiln_row *r, const char *name)
{
	kiln__m2mref ref;
	kiln_err rc;

	if ((rc = ref_change(r, name, &ref)) != KILN_OK)
		return rc;
	return kiln_qs_delete(links(r, &ref, 0), NULL);
}

kiln_err
kiln_row_m2m(kiln_row *r, const char *name, kiln_row ***rows, size_t *n)
{
	const kiln_field *other, *self;
	kiln__rset *set;
	kiln__m2mref ref;
	const char *lookup;
	kiln_qs *qs;
	kiln_err rc;

	*rows = NULL;
	*n = 0;
	if ((rc = ref_of(r, name, &ref)) != KILN_OK)
		return rc;
	for (set = r->sets; set != NULL; set = set->next) {
		if (strcmp(set->name, name) == 0) {
			/* Loaded by prefetch_related. */
			*rows = set->rows;
			*n = set->n;
			return KILN_OK;
		}
	}
	/* From the other model back through the link: one JOIN. */
	other = &ref.link->m->fields[ref.other];
	self = &ref.link->m->fields[ref.self];
	if ((lookup = kiln_arena_printf(r->a, "%s__%s", other->related_name,
		 self->name)) == NULL)
		return KILN_ENOMEM;
	qs = kiln_qs_filter_i(kiln_qs_new(r->app, r->a, ref.to->m), lookup,
	    kiln_row_pk(r));
	if (r->db != NULL)
		qs = kiln_qs_using(qs, r->db);
	return kiln_qs_all(qs, rows, n);
}
