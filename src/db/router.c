/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The database router chain (Django's DATABASE_ROUTERS): routers are
 * asked in the order they were added and the first with an opinion
 * decides. The raw answers (NULL: nobody had an opinion) are for the
 * ORM, which falls back to a row's own database before "default".
 */
#include "config.h"

#include <stdint.h>

#include <kiln/kiln.h>

#include "db_int.h"

kiln_err
kiln_db_router_add(kiln_app *app, const kiln_db_router *r)
{
	kiln__db *db = kiln__db_state(app);

	if (db == NULL)
		return KILN_EINVAL;
	if (r == NULL)
		return kiln__app_error(app, KILN_EINVAL, "router is NULL");
	if (kiln__ptrs_push(&db->routers, kiln_app_arena(app),
		(void *)(uintptr_t)r) != KILN_OK)
		return kiln__app_error(app, KILN_ENOMEM, "out of memory");
	return KILN_OK;
}

/* Asks each router's read (or write) hook; NULL when none answers. */
static const char *
route(kiln_app *app, const struct kiln_model *m, bool write)
{
	kiln__db *db = kiln_ext_data(app, &kiln_db);
	const kiln_db_router *r;
	const char *alias;
	size_t i;

	if (db == NULL)
		return NULL;
	for (i = 0; i < db->routers.n; i++) {
		r = db->routers.items[i];
		if (write && r->db_for_write != NULL)
			alias = r->db_for_write(m, r->data);
		else if (!write && r->db_for_read != NULL)
			alias = r->db_for_read(m, r->data);
		else
			alias = NULL;
		if (alias != NULL)
			return alias;
	}
	return NULL;
}

const char *
kiln__db_route_read(kiln_app *app, const struct kiln_model *m)
{
	return route(app, m, false);
}

const char *
kiln__db_route_write(kiln_app *app, const struct kiln_model *m)
{
	return route(app, m, true);
}

const char *
kiln_db_for_read(kiln_app *app, const struct kiln_model *m)
{
	const char *alias = route(app, m, false);

	return alias != NULL ? alias : "default";
}

const char *
kiln_db_for_write(kiln_app *app, const struct kiln_model *m)
{
	const char *alias = route(app, m, true);

	return alias != NULL ? alias : "default";
}

/*
 * Asks each router's allow_relation hook (migrate false: about a and b)
 * or allow_migrate hook (migrate true: about model a on alias); the
 * first router with an opinion (an answer >= 0) decides, and with none
 * the answer is yes.
 */
static bool
allow(kiln_app *app, bool migrate, const char *alias,
    const struct kiln_model *a, const struct kiln_model *b)
{
	kiln__db *db = kiln_ext_data(app, &kiln_db);
	const kiln_db_router *r;
	size_t i;
	int v;

	for (i = 0; db != NULL && i < db->routers.n; i++) {
		r = db->routers.items[i];
		if (migrate && r->allow_migrate != NULL)
			v = r->allow_migrate(alias, a, r->data);
		else if (!migrate && r->allow_relation != NULL)
			v = r->allow_relation(a, b, r->data);
		else
			v = -1;
		if (v >= 0)
			return v != 0;
	}
	return true;
}

bool
kiln_db_allow_relation(kiln_app *app, const struct kiln_model *a,
    const struct kiln_model *b)
{
	return allow(app, false, NULL, a, b);
}

bool
kiln_db_allow_migrate(kiln_app *app, const char *alias,
    const struct kiln_model *m)
{
	return allow(app, true, alias, m, NULL);
}
