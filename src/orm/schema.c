/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Table DDL for registered models, per backend (the ORM's dialect for
 * types). SQLite tables are STRICT unless a DECIMAL column needs NUMERIC
 * affinity (STRICT allows only INTEGER, REAL, TEXT, BLOB and ANY); MySQL
 * tables are InnoDB in utf8mb4 with the binary no-pad collation, so
 * text compares byte for byte on both backends ('a' != 'A', 'a' != 'a ').
 * Foreign keys are real constraints on both; deletes are ordered by the
 * ORM, which handles on_delete itself.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <kiln/kiln.h>

#include "orm_int.h"

/* Appends the SQL type and constraints of f (named column). */
static void
coltype(kiln_buf *b, const kiln_field *f, const char *column, bool mysql)
{
	unsigned len = f->max_length != 0 ? f->max_length : 255;
	unsigned digits = f->max_digits != 0 ? f->max_digits : 10;

	switch (f->type) {
	case KILN_FIELD_AUTO:
		kiln_buf_append_c(b,
		    mysql ? "BIGINT NOT NULL AUTO_INCREMENT "
			    "PRIMARY KEY" :
			    "INTEGER NOT NULL PRIMARY KEY "
			    "AUTOINCREMENT");
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
		kiln_buf_printf(b, "DECIMAL(%u, %u)", digits,
		    f->decimal_places);
		break;
	case KILN_FIELD_CHAR:
	case KILN_FIELD_EMAIL:
	case KILN_FIELD_SLUG:
		if (mysql)
			kiln_buf_printf(b, "VARCHAR(%u)", len);
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
	if (f->flags & KILN_F_PK)
		kiln_buf_append_c(b, " NOT NULL PRIMARY KEY");
	else
		kiln_buf_append_c(b,
		    (f->flags & KILN_F_NULL) ? " NULL" : " NOT NULL");
	if ((f->flags & KILN_F_UNIQUE) && !(f->flags & KILN_F_PK))
		kiln_buf_append_c(b, " UNIQUE");
	if (f->type == KILN_FIELD_BOOL && !mysql)
		kiln_buf_printf(b, " CHECK (\"%s\" IN (0, 1))", column);
}

/* Appends the UNIQUE constraints of unique_together (checked names). */
static void
together(kiln_buf *b, const kiln__meta *mt)
{
	const char *p, *comma;
	char name[64];
	size_t i, len;
	long fi;

	for (i = 0; mt->m->unique_together != NULL &&
	     mt->m->unique_together[i] != NULL;
	     i++) {
		kiln_buf_append_c(b, ", UNIQUE (");
		for (p = mt->m->unique_together[i]; p != NULL;
		     p = comma != NULL ? comma + 1 : NULL) {
			comma = strchr(p, ',');
			len = comma != NULL ? (size_t)(comma - p) : strlen(p);
			if (len >= sizeof(name))
				len = sizeof(name) - 1;
			memcpy(name, p, len);
			name[len] = '\0';
			fi = kiln__orm_field_index(mt->m, name);
			if (fi >= 0)
				kiln_buf_printf(b, "%s\"%s\"",
				    p != mt->m->unique_together[i] ? ", " : "",
				    mt->cols[fi]);
		}
		kiln_buf_append_char(b, ')');
	}
}

/* Writes the CREATE TABLE of mt. */
static void
create_sql(kiln_buf *b, const kiln__meta *mt, bool mysql, kiln_app *app)
{
	const kiln_field *f;
	const kiln__meta *tm;
	bool strict = true;
	size_t i;

	kiln_buf_printf(b, "CREATE TABLE IF NOT EXISTS \"%s\" (", mt->m->table);
	for (i = 0; i < mt->m->nfields; i++) {
		f = &mt->m->fields[i];
		if (f->type == KILN_FIELD_DECIMAL)
			strict = false;
		kiln_buf_printf(b, "%s\"%s\" ", i > 0 ? ", " : "", mt->cols[i]);
		coltype(b, f, mt->cols[i], mysql);
		if (f->type == KILN_FIELD_FK && !mysql &&
		    (tm = f->to == mt->m ? mt : kiln__orm_meta(app, f->to)) !=
			NULL)
			kiln_buf_printf(b,
			    " REFERENCES \"%s\" (\"%s\") DEFERRABLE INITIALLY "
			    "DEFERRED",
			    tm->m->table, tm->cols[tm->pk]);
	}
	for (i = 0; mysql && i < mt->m->nfields; i++) {
		f = &mt->m->fields[i];
		if (f->type != KILN_FIELD_FK ||
		    (tm = f->to == mt->m ? mt : kiln__orm_meta(app, f->to)) ==
			NULL)
			continue;
		kiln_buf_printf(b,
		    ", CONSTRAINT \"%s_%s_fk\" FOREIGN KEY (\"%s\") "
		    "REFERENCES \"%s\" (\"%s\")",
		    mt->m->table, mt->cols[i], mt->cols[i], tm->m->table,
		    tm->cols[tm->pk]);
	}
	together(b, mt);
	kiln_buf_append_char(b, ')');
	if (mysql)
		kiln_buf_append_c(b,
		    " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 "
		    "COLLATE=utf8mb4_nopad_bin");
	else if (strict)
		kiln_buf_append_c(b, " STRICT");
}

kiln_err
kiln_orm_create_tables(kiln_app *app, const char *alias)
{
	const kiln__ptrs *models = kiln__orm_models(app);
	const kiln__meta *mt;
	const kiln_field *f;
	kiln_db_conn *c;
	kiln_arena *a;
	kiln_buf b;
	size_t i, k;
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
		kiln_buf_init(&b, a, 512);
		create_sql(&b, mt, mysql, app);
		if (b.oom) {
			rc = kiln__app_error(app, KILN_ENOMEM, "out of memory");
			break;
		}
		if ((rc = kiln_db_exec(c, b.ptr)) != KILN_OK)
			break;
		for (k = 0; k < mt->m->nfields && rc == KILN_OK; k++) {
			f = &mt->m->fields[k];
			if (!(f->flags & KILN_F_INDEX) &&
			    !(f->type == KILN_FIELD_FK && !mysql))
				continue;
			kiln_buf_init(&b, a, 128);
			kiln_buf_printf(&b,
			    "CREATE INDEX IF NOT EXISTS \"%s_%s_idx\" ON "
			    "\"%s\" (\"%s\")",
			    mt->m->table, mt->cols[k], mt->m->table,
			    mt->cols[k]);
			rc = b.oom ? KILN_ENOMEM : kiln_db_exec(c, b.ptr);
		}
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
