/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Table DDL, per backend (the ORM's dialect for types), from a table
 * description (kiln__table) that both registered models and migration
 * files produce. SQLite tables are STRICT unless a DECIMAL column needs
 * NUMERIC affinity (STRICT allows only INTEGER, REAL, TEXT, BLOB and
 * ANY); MySQL tables are InnoDB in utf8mb4 with the binary no-pad
 * collation, so text compares byte for byte on both backends ('a' !=
 * 'A', 'a' != 'a '). Foreign keys are real constraints on both; deletes
 * are ordered by the ORM, which handles on_delete itself. Every name put
 * in SQL here was checked as an identifier, at model registration or
 * when a migration file was read.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <kiln/kiln.h>

#include "orm_int.h"

static const char *const type_names[KILN_FIELD__MAX] = {
	[KILN_FIELD_AUTO] = "auto",
	[KILN_FIELD_INT] = "int",
	[KILN_FIELD_BIGINT] = "bigint",
	[KILN_FIELD_FLOAT] = "float",
	[KILN_FIELD_DECIMAL] = "decimal",
	[KILN_FIELD_BOOL] = "bool",
	[KILN_FIELD_CHAR] = "char",
	[KILN_FIELD_TEXT] = "text",
	[KILN_FIELD_DATE] = "date",
	[KILN_FIELD_DATETIME] = "datetime",
	[KILN_FIELD_EMAIL] = "email",
	[KILN_FIELD_SLUG] = "slug",
	[KILN_FIELD_UUID] = "uuid",
	[KILN_FIELD_JSON] = "json",
	[KILN_FIELD_FK] = "fk",
	[KILN_FIELD_FILE] = "file",
};

const char *
kiln__type_name(kiln_field_type t)
{
	return (int)t >= 0 && t < KILN_FIELD__MAX ? type_names[t] : "?";
}

int
kiln__type_parse(const char *s)
{
	int i;

	for (i = 0; i < KILN_FIELD__MAX; i++)
		if (strcmp(type_names[i], s) == 0)
			return i;
	return -1;
}

/* Turns "author,slug" (field names) into "author_id,slug" (columns). */
static const char *
together_cols(kiln_arena *a, const kiln__meta *mt, const char *group)
{
	const char *p, *comma;
	char name[64];
	kiln_buf b;
	size_t len;
	long fi;

	kiln_buf_init(&b, a, 64);
	for (p = group; p != NULL; p = comma != NULL ? comma + 1 : NULL) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len >= sizeof(name))
			return NULL;
		memcpy(name, p, len);
		name[len] = '\0';
		if ((fi = kiln__orm_field_index(mt->m, name)) < 0)
			return NULL;
		kiln_buf_printf(&b, "%s%s", b.len > 0 ? "," : "", mt->cols[fi]);
	}
	return b.oom ? NULL : b.ptr;
}

kiln_err
kiln__table_from_meta(kiln_app *app, kiln_arena *a, const kiln__meta *mt,
    kiln__table *t)
{
	const kiln_field *f;
	const kiln__meta *tm;
	kiln__col *c;
	size_t i, n = 0;

	memset(t, 0, sizeof(*t));
	t->app = mt->m->app_label != NULL ? mt->m->app_label : "";
	t->model = mt->m->name;
	t->table = mt->m->table;
	t->ncols = mt->m->nfields;
	if ((t->cols = kiln_arena_calloc(a, t->ncols, sizeof(*t->cols))) ==
	    NULL)
		return KILN_ENOMEM;
	for (i = 0; i < t->ncols; i++) {
		f = &mt->m->fields[i];
		c = &t->cols[i];
		c->name = f->name;
		c->column = mt->cols[i];
		c->type = f->type;
		c->flags = f->flags & KILN__SCHEMA_FLAGS;
		if (f->type == KILN_FIELD_AUTO)
			c->flags |= KILN_F_PK;
		c->max_length = f->type == KILN_FIELD_CHAR ||
			f->type == KILN_FIELD_EMAIL ||
			f->type == KILN_FIELD_SLUG ?
		    (f->max_length != 0 ? f->max_length : 255) :
		    f->type == KILN_FIELD_FILE ?
		    (f->max_length != 0 ? f->max_length : 100) :
		    0;
		if (f->type == KILN_FIELD_DECIMAL) {
			c->max_digits = f->max_digits != 0 ? f->max_digits : 10;
			c->decimal_places = f->decimal_places;
		}
		c->def = f->def;
		if (f->type == KILN_FIELD_FK) {
			if ((tm = f->to == mt->m ?
				    mt :
				    kiln__orm_meta(app, f->to)) == NULL)
				return KILN_EINVAL;
			c->ref_table = tm->m->table;
			c->ref_column = tm->cols[tm->pk];
		}
	}
	for (i = 0; mt->m->unique_together != NULL &&
	     mt->m->unique_together[i] != NULL;
	     i++)
		n++;
	if (n > 0 &&
	    (t->together = kiln_arena_calloc(a, n, sizeof(*t->together))) ==
		NULL)
		return KILN_ENOMEM;
	for (i = 0; i < n; i++)
		if ((t->together[i] = together_cols(a, mt,
			 mt->m->unique_together[i])) == NULL)
			return KILN_EINVAL;
	t->ntogether = n;
	return KILN_OK;
}

void
kiln__schema_coldef(kiln_buf *b, const kiln__col *c, bool mysql)
{
	kiln_buf_printf(b, "\"%s\" ", c->column);
	switch (c->type) {
	case KILN_FIELD_AUTO:
		kiln_buf_append_c(b,
		    mysql ? "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY" :
			    "INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT");
		return;
	case KILN_FIELD_INT:
		kiln_buf_append_c(b, mysql ? "INT" : "INTEGER");
		break;
	case KILN_FIELD_BIGINT:
	case KILN_FIELD_FK:
		kiln_buf_append_c(b, mysql ? "BIGINT" : "INTEGER");
		break;
	case KILN_FIELD_BOOL:
		kiln_buf_append_c(b, mysql ? "BOOL" : "INTEGER");
		break;
	case KILN_FIELD_FLOAT:
		kiln_buf_append_c(b, mysql ? "DOUBLE" : "REAL");
		break;
	case KILN_FIELD_DECIMAL:
		kiln_buf_printf(b, "DECIMAL(%u, %u)", c->max_digits,
		    c->decimal_places);
		break;
	case KILN_FIELD_CHAR:
	case KILN_FIELD_EMAIL:
	case KILN_FIELD_SLUG:
	case KILN_FIELD_FILE:
		if (mysql)
			kiln_buf_printf(b, "VARCHAR(%u)", c->max_length);
		else
			kiln_buf_append_c(b, "TEXT");
		break;
	case KILN_FIELD_DATE:
		kiln_buf_append_c(b, mysql ? "DATE" : "TEXT");
		break;
	case KILN_FIELD_DATETIME:
		kiln_buf_append_c(b, mysql ? "DATETIME(6)" : "TEXT");
		break;
	case KILN_FIELD_UUID:
		kiln_buf_append_c(b, mysql ? "CHAR(32)" : "TEXT");
		break;
	default:
		kiln_buf_append_c(b, mysql ? "LONGTEXT" : "TEXT");
		break;
	}
	if (c->flags & KILN_F_PK)
		kiln_buf_append_c(b, " NOT NULL PRIMARY KEY");
	else
		kiln_buf_append_c(b,
		    (c->flags & KILN_F_NULL) ? " NULL" : " NOT NULL");
	if ((c->flags & KILN_F_UNIQUE) && !(c->flags & KILN_F_PK))
		kiln_buf_append_c(b, " UNIQUE");
	if (c->type == KILN_FIELD_BOOL && !mysql)
		kiln_buf_printf(b, " CHECK (\"%s\" IN (0, 1))", c->column);
	if (c->type == KILN_FIELD_FK && !mysql)
		kiln_buf_printf(b,
		    " REFERENCES \"%s\" (\"%s\") DEFERRABLE INITIALLY DEFERRED",
		    c->ref_table, c->ref_column);
}

void
kiln__schema_create(kiln_buf *b, const kiln__table *t, bool mysql,
    const char *name)
{
	const char *p, *comma;
	bool strict = true;
	size_t i;

	kiln_buf_printf(b, "CREATE TABLE IF NOT EXISTS \"%s\" (",
	    name != NULL ? name : t->table);
	for (i = 0; i < t->ncols; i++) {
		if (t->cols[i].type == KILN_FIELD_DECIMAL)
			strict = false;
		if (i > 0)
			kiln_buf_append_c(b, ", ");
		kiln__schema_coldef(b, &t->cols[i], mysql);
	}
	for (i = 0; mysql && i < t->ncols; i++) {
		if (t->cols[i].type != KILN_FIELD_FK)
			continue;
		kiln_buf_printf(b,
		    ", CONSTRAINT \"%s_%s_fk\" FOREIGN KEY (\"%s\") "
		    "REFERENCES \"%s\" (\"%s\")",
		    t->table, t->cols[i].column, t->cols[i].column,
		    t->cols[i].ref_table, t->cols[i].ref_column);
	}
	for (i = 0; i < t->ntogether; i++) {
		kiln_buf_append_c(b, ", UNIQUE (");
		for (p = t->together[i]; p != NULL;
		     p = comma != NULL ? comma + 1 : NULL) {
			comma = strchr(p, ',');
			kiln_buf_printf(b, "%s\"%.*s\"",
			    p != t->together[i] ? ", " : "",
			    (int)(comma != NULL ? (size_t)(comma - p) :
						  strlen(p)),
			    p);
		}
		kiln_buf_append_char(b, ')');
	}
	kiln_buf_append_char(b, ')');
	if (mysql)
		kiln_buf_append_c(b,
		    " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 "
		    "COLLATE=utf8mb4_nopad_bin");
	else if (strict)
		kiln_buf_append_c(b, " STRICT");
}

kiln_err
kiln__schema_indexes(kiln_db_conn *c, const kiln__table *t)
{
	bool mysql = strcmp(kiln_db_vendor(c), "mysql") == 0;
	char sql[512];
	size_t i;
	kiln_err rc;

	for (i = 0; i < t->ncols; i++) {
		if (!(t->cols[i].flags & KILN_F_INDEX) &&
		    !(t->cols[i].type == KILN_FIELD_FK && !mysql))
			continue;
		snprintf(sql, sizeof(sql),
		    "CREATE INDEX IF NOT EXISTS \"%s_%s_idx\" ON \"%s\" "
		    "(\"%s\")",
		    t->table, t->cols[i].column, t->table, t->cols[i].column);
		if ((rc = kiln_db_exec(c, sql)) != KILN_OK)
			return rc;
	}
	return KILN_OK;
}

kiln_err
kiln_orm_create_tables(kiln_app *app, const char *alias)
{
	const kiln__ptrs *models = kiln__orm_models(app);
	const kiln__meta *mt;
	kiln__table t;
	kiln_db_conn *c;
	kiln_arena *a;
	kiln_buf b;
	size_t i;
	bool mysql;
	kiln_err rc = KILN_OK;

	if (models == NULL)
		return KILN_EINVAL;
	if ((c = kiln_db_conn_get(app, alias)) == NULL)
		return KILN_EDB;
	if ((a = kiln_arena_new(0)) == NULL)
		return kiln__app_error(app, KILN_ENOMEM, "out of memory");
	mysql = strcmp(kiln_db_vendor(c), "mysql") == 0;
	for (i = 0; i < models->n && rc == KILN_OK; i++) {
		mt = models->items[i];
		if (!kiln_db_allow_migrate(app, kiln_db_alias(c), mt->m))
			continue;
		if ((rc = kiln__table_from_meta(app, a, mt, &t)) != KILN_OK) {
			rc = kiln__app_error(app, rc, "%s: cannot describe it",
			    mt->m->name);
			break;
		}
		kiln_buf_init(&b, a, 512);
		kiln__schema_create(&b, &t, mysql, NULL);
		if (b.oom) {
			rc = kiln__app_error(app, KILN_ENOMEM, "out of memory");
			break;
		}
		if ((rc = kiln_db_exec(c, b.ptr)) == KILN_OK)
			rc = kiln__schema_indexes(c, &t);
	}
	kiln_arena_free(a);
	return rc;
}

kiln_err
kiln_orm_drop_tables(kiln_app *app, const char *alias)
{
	const kiln__ptrs *models = kiln__orm_models(app);
	const kiln__meta *mt;
	kiln_db_conn *c;
	char sql[160];
	size_t i;
	kiln_err rc;

	if (models == NULL)
		return KILN_EINVAL;
	if ((c = kiln_db_conn_get(app, alias)) == NULL)
		return KILN_EDB;
	for (i = models->n; i > 0; i--) {
		mt = models->items[i - 1];
		if (!kiln_db_allow_migrate(app, kiln_db_alias(c), mt->m))
			continue;
		snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS \"%s\"",
		    mt->m->table);
		if ((rc = kiln_db_exec(c, sql)) != KILN_OK)
			return rc;
	}
	return KILN_OK;
}
