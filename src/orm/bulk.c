/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * bulk_update (Django's QuerySet.bulk_update): the named fields of many
 * rows of one model written by primary key with one UPDATE per batch,
 * each column set by a CASE on the key:
 *
 *   UPDATE "t" SET "f" = CASE WHEN "id" = ? THEN ? ... ELSE "f" END, ...
 *   WHERE "id" IN (?, ...)
 *
 * Invariants: every value is cleaned as kiln_row_set cleans it and bound
 * as a save binds it before anything is sent, so a refused value writes
 * nothing. A key that appears more than once is written once, with the
 * values of its first row (what one CASE would do, made to hold across
 * batches too), so the rows matched are distinct rows. The rows are
 * written in key order, which keeps the lock order of two concurrent
 * calls the same. Several batches run in one transaction; one batch is
 * one statement and needs none. No signals are sent, and auto_now
 * fields are left alone unless named (Django does the same).
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/kiln.h>

#include "orm_int.h"

#define BULK_MAXROWS 500 /* rows per statement */

/* One row to write. */
typedef struct bulk_item {
	const kiln_val *key;   /* the canonical primary key, for sorting */
	const kiln_val *pk;    /* the key as bound */
	const kiln_val **vals; /* per named field: the value as bound */
	size_t i;	       /* its index in rows: the first one wins */
} bulk_item;

/* Orders two canonical values of one field (NULL keys never get here). */
static int
val_cmp(const kiln_val *x, const kiln_val *y)
{
	size_t n;
	int c;

	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	switch (x->type) {
	case KILN_VAL_INT:
		return x->u.i < y->u.i ? -1 : x->u.i > y->u.i;
	case KILN_VAL_FLOAT:
		return x->u.f < y->u.f ? -1 : x->u.f > y->u.f;
	case KILN_VAL_BOOL:
		return (int)x->u.b - (int)y->u.b;
	case KILN_VAL_STR:
		n = x->u.s.len < y->u.s.len ? x->u.s.len : y->u.s.len;
		if (n > 0 && (c = memcmp(x->u.s.ptr, y->u.s.ptr, n)) != 0)
			return c;
		return x->u.s.len < y->u.s.len ? -1 : x->u.s.len > y->u.s.len;
	default:
		return 0;
	}
}

/* qsort order of the items: by key, then by place in the caller's list. */
static int
item_cmp(const void *a, const void *b)
{
	const bulk_item *x = a, *y = b;
	int c = val_cmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * Reads the NULL-ended field names after field into idx (room for every
 * field of mt) and *nf, skipping repeats. Refuses an unknown name, the
 * primary key, and an empty list, with the message on app.
 */
static kiln_err
bulk_fields(kiln_app *app, const kiln__meta *mt, const char *field, va_list ap,
    size_t *idx, size_t *nf)
{
	const char *name;
	size_t j;
	long k;

	*nf = 0;
	for (name = field; name != NULL; name = va_arg(ap, const char *)) {
		if ((k = kiln__orm_field_index(mt->m, name)) < 0)
			return kiln__app_error(app, KILN_ENOTFOUND,
			    "bulk_update: %s has no field %s", mt->m->name,
			    name);
		if ((size_t)k == mt->pk)
			return kiln__app_error(app, KILN_EINVAL,
			    "bulk_update: %s.%s is the primary key, which "
			    "bulk_update cannot set",
			    mt->m->name, mt->m->fields[k].name);
		for (j = 0; j < *nf && idx[j] != (size_t)k; j++)
			continue;
		if (j == *nf)
			idx[(*nf)++] = (size_t)k;
	}
	if (*nf == 0)
		return kiln__app_error(app, KILN_EINVAL,
		    "bulk_update: no fields named");
	return KILN_OK;
}

/*
 * Checks rows[0..n) (one model, each with a key) and fills items[i] with
 * row i's key and its named values, cleaned strictly (as kiln_row_set
 * does: NULL allowed, lengths, choices, formats) and bound (as a save
 * binds them). Cleaned copies live in a. The message names the row.
 */
static kiln_err
bulk_items(kiln_row **rows, size_t n, kiln_arena *a, const size_t *idx,
    size_t nf, bulk_item *items)
{
	kiln_app *app = rows[0]->app;
	const kiln__meta *mt = rows[0]->mt;
	const kiln_field *f;
	const char *why;
	kiln_val *clean;
	size_t i, j;
	kiln_row *r;

	if ((clean = kiln_arena_calloc(a, n, nf * sizeof(*clean))) == NULL)
		return KILN_ENOMEM;
	for (i = 0; i < n; i++) {
		r = rows[i];
		if (r->mt != mt)
			return kiln__app_error(app, KILN_EINVAL,
			    "bulk_update: rows of %s and %s mixed", mt->m->name,
			    r->mt->m->name);
		if (r->vals[mt->pk].type == KILN_VAL_NULL)
			return kiln__app_error(app, KILN_EINVAL,
			    "bulk_update: row %zu of %s has no primary key", i,
			    mt->m->name);
		items[i].i = i;
		items[i].key = &r->vals[mt->pk];
		if ((items[i].pk = kiln__orm_bind(a, &mt->m->fields[mt->pk],
			 items[i].key)) == NULL ||
		    (items[i].vals = kiln_arena_alloc(a,
			 nf * sizeof(*items[i].vals))) == NULL)
			return KILN_ENOMEM;
		for (j = 0; j < nf; j++) {
			f = &mt->m->fields[idx[j]];
			if (kiln__orm_clean(app, a, mt->m, f, &r->vals[idx[j]],
				true, &clean[i * nf + j]) != KILN_OK) {
				/* Copied: the new message is formatted over it.
				 */
				why =
				    kiln_arena_strdup(a, kiln_app_errmsg(app));
				return kiln__app_error(app, KILN_EINVAL,
				    "bulk_update: row %zu: %s", i,
				    why != NULL ? why : f->name);
			}
			if ((items[i].vals[j] = kiln__orm_bind(a, f,
				 &clean[i * nf + j])) == NULL)
				return KILN_ENOMEM;
		}
	}
	return KILN_OK;
}

/* Runs one UPDATE for items[0..n); adds the rows it matched to *matched. */
static kiln_err
bulk_batch(kiln_db_conn *c, kiln_arena *a, const kiln__meta *mt,
    const size_t *idx, size_t nf, const bulk_item *items, size_t n,
    int64_t *matched)
{
	const char *pkcol = mt->cols[mt->pk];
	int64_t affected = 0;
	kiln__sql s;
	size_t i, j;
	kiln_err rc;

	if (kiln__orm_sql_start(&s, a, 64 + n * (nf * (24 + strlen(pkcol)) + 3),
		n * (2 * nf + 1)) != KILN_OK)
		return KILN_ENOMEM;
	kiln_buf_printf(&s.b, "UPDATE \"%s\" SET ", mt->m->table);
	for (j = 0; j < nf; j++) {
		kiln_buf_printf(&s.b, "%s\"%s\" = CASE", j > 0 ? ", " : "",
		    mt->cols[idx[j]]);
		for (i = 0; i < n; i++) {
			kiln_buf_printf(&s.b, " WHEN \"%s\" = ? THEN ?", pkcol);
			s.params[s.nparams++] = items[i].pk;
			s.params[s.nparams++] = items[i].vals[j];
		}
		kiln_buf_printf(&s.b, " ELSE \"%s\" END", mt->cols[idx[j]]);
	}
	kiln_buf_printf(&s.b, " WHERE \"%s\" IN (", pkcol);
	for (i = 0; i < n; i++) {
		kiln_buf_append_c(&s.b, i > 0 ? ", ?" : "?");
		s.params[s.nparams++] = items[i].pk;
	}
	kiln_buf_append_char(&s.b, ')');
	if (s.b.oom)
		return KILN_ENOMEM;
	if ((rc = kiln__orm_run(c, a, &s, NULL, NULL, &affected, NULL)) !=
	    KILN_OK)
		return rc;
	*matched += affected;
	return KILN_OK;
}

/*
 * Sorts the items by key and drops every item whose key an earlier row
 * of the caller's list has; returns how many are left.
 */
static size_t
bulk_unique(bulk_item *items, size_t n)
{
	size_t i, k;

	if (n < 2)
		return n;
	qsort(items, n, sizeof(*items), item_cmp);
	for (i = 1, k = 1; i < n; i++)
		if (val_cmp(items[i].key, items[k - 1].key) != 0)
			items[k++] = items[i];
	return k;
}

kiln_err
kiln_orm_bulk_update(kiln_row **rows, size_t n, int64_t *matched,
    const char *field, ...)
{
	const kiln__meta *mt;
	bulk_item *items;
	kiln_db_conn *c;
	kiln_app *app;
	kiln_arena *a;
	size_t *idx, nf, chunk, i, left;
	int64_t total = 0;
	bool several;
	va_list ap;
	kiln_err rc;

	if (matched != NULL)
		*matched = 0;
	if (n == 0)
		return KILN_OK;
	app = rows[0]->app;
	mt = rows[0]->mt;
	a = rows[0]->a;
	if ((idx = kiln_arena_alloc(a, mt->m->nfields * sizeof(*idx))) ==
		NULL ||
	    (items = kiln_arena_calloc(a, n, sizeof(*items))) == NULL)
		return kiln__app_error(app, KILN_ENOMEM, "out of memory");
	va_start(ap, field);
	rc = bulk_fields(app, mt, field, ap, idx, &nf);
	va_end(ap);
	if (rc != KILN_OK)
		return rc;
	if ((rc = bulk_items(rows, n, a, idx, nf, items)) != KILN_OK)
		return rc == KILN_ENOMEM ?
		    kiln__app_error(app, rc, "out of memory") :
		    rc;
	left = bulk_unique(items, n);
	if ((c = kiln_db_conn_get(app,
		 kiln__orm_write_alias(app, mt->m, NULL, NULL))) == NULL)
		return KILN_EDB;
	chunk = kiln__orm_batch_rows(2 * nf + 1, BULK_MAXROWS);
	several = left > chunk;
	if (several && (rc = kiln_db_begin(c, a)) != KILN_OK)
		return rc;
	for (i = 0; i < left; i += chunk) {
		if ((rc = bulk_batch(c, a, mt, idx, nf, items + i,
			 left - i < chunk ? left - i : chunk, &total)) !=
		    KILN_OK) {
			if (several && kiln_db_rollback(c) != KILN_OK) {
				/* The first failure's message matters more. */
			}
			return rc == KILN_ENOMEM ?
			    kiln__app_error(app, rc, "out of memory") :
			    rc;
		}
	}
	if (several && (rc = kiln_db_commit(c)) != KILN_OK)
		return rc;
	for (i = 0; i < n; i++)
		rows[i]->db = kiln_db_alias(c);
	if (matched != NULL)
		*matched = total;
	return KILN_OK;
}
