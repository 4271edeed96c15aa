/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Applying and rolling back migrations, the history table, and the
 * makemigrations, migrate and showmigrations commands. The history table
 * kiln_migrations records (app, name) per applied file; the applied
 * names must be a prefix of the files, in order. A migration is applied
 * by running its operations against the state the earlier files leave,
 * so every DDL statement knows the table before and after; rolling back
 * runs the inverted operations in reverse order.
 *
 * SQLite cannot alter or drop most columns, so a column change rebuilds
 * the table (Django's way): with foreign keys off, create the new table,
 * copy the rows (new NOT NULL columns get their default as a bound
 * parameter), drop the old one, rename, recreate the indexes, all in one
 * transaction with the history row. MySQL alters in place (its DDL
 * commits by itself, so there a failed migration can be half done).
 */
#include "config.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/kiln.h>

#include "orm_int.h"

static kiln__col hist_cols[] = {
	{ .name = "id",
	    .column = "id",
	    .type = KILN_FIELD_AUTO,
	    .flags = KILN_F_PK },
	{ .name = "app",
	    .column = "app",
	    .type = KILN_FIELD_CHAR,
	    .max_length = 100 },
	{ .name = "name",
	    .column = "name",
	    .type = KILN_FIELD_CHAR,
	    .max_length = 255 },
	{ .name = "applied", .column = "applied", .type = KILN_FIELD_DATETIME },
};

static const kiln__table hist = {
	.app = "kiln",
	.model = "Migration",
	.table = "kiln_migrations",
	.cols = hist_cols,
	.ncols = 4,
};

/* Runs sql with params on c (no rows wanted). */
static kiln_err
run_sql(kiln_db_conn *c, kiln_arena *a, const char *sql,
    const kiln_val *const *params, size_t n)
{
	kiln_db_cursor *cur;
	kiln_err rc;

	if ((rc = kiln_db_query(c, a, kiln_str_c(sql), params, n, &cur)) !=
	    KILN_OK)
		return rc;
	kiln_db_close(cur);
	return KILN_OK;
}

/* Reads the names applied for app_label, in order. */
static kiln_err
applied_names(kiln_db_conn *c, kiln_arena *a, const char *app_label,
    kiln__ptrs *out)
{
	const kiln_val *p[1];
	kiln_db_cursor *cur;
	kiln_val *row;
	kiln_buf b;
	kiln_err rc;

	memset(out, 0, sizeof(*out));
	kiln_buf_init(&b, a, 256);
	kiln__schema_create(&b, &hist, strcmp(kiln_db_vendor(c), "mysql") == 0,
	    NULL);
	if (b.oom || (p[0] = kiln_val_cstr(a, app_label)) == NULL)
		return KILN_ENOMEM;
	if ((rc = kiln_db_exec(c, b.ptr)) != KILN_OK ||
	    (rc = kiln_db_query(c, a,
		 KILN_STR("SELECT \"name\" FROM \"kiln_migrations\" WHERE "
			  "\"app\" = ? ORDER BY \"id\""),
		 p, 1, &cur)) != KILN_OK)
		return rc;
	for (;;) {
		if ((rc = kiln_db_next(cur, &row)) != KILN_OK)
			return rc;
		if (row == NULL)
			return KILN_OK;
		if (row[0].type != KILN_VAL_STR ||
		    kiln__ptrs_push(out, a,
			(void *)(uintptr_t)row[0].u.s.ptr) != KILN_OK)
			return KILN_ENOMEM;
	}
}

/* A kiln_field describing c, for converting its default. */
static void
col_field(const kiln__col *c, kiln_field *f)
{
	memset(f, 0, sizeof(*f));
	f->name = c->name;
	f->type = c->type;
	f->flags = c->flags;
	f->max_length = c->max_length;
	f->max_digits = c->max_digits;
	f->decimal_places = c->decimal_places;
}

/*
 * The value that fills new column c in existing rows: its default, or
 * the type's zero (0, "") for a NOT NULL column without one, or NULL.
 */
static const kiln_val *
fill_value(kiln_app *app, kiln_arena *a, const char *table, const kiln__col *c)
{
	static const kiln_model m = { .name = "migration" };
	const char *text = c->def;
	kiln_val *out, *in;
	kiln_field f;

	(void)table;
	if (text == NULL && (c->flags & KILN_F_NULL))
		return kiln_val_null(a);
	if (text == NULL)
		text = c->type == KILN_FIELD_INT ||
			c->type == KILN_FIELD_BIGINT ||
			c->type == KILN_FIELD_FLOAT ||
			c->type == KILN_FIELD_DECIMAL ||
			c->type == KILN_FIELD_BOOL ?
		    "0" :
		    "";
	col_field(c, &f);
	if ((out = kiln_arena_alloc(a, sizeof(*out))) == NULL ||
	    (in = kiln_val_cstr(a, text)) == NULL ||
	    kiln__orm_clean(app, a, &m, &f, in, false, out) != KILN_OK)
		return NULL;
	return kiln__orm_bind(a, &f, out);
}

/* Rebuilds table before as after on SQLite (see the file comment). */
static kiln_err
rebuild(kiln_db_conn *c, kiln_arena *a, const kiln__table *before,
    const kiln__table *after, const kiln__op *op)
{
	kiln_app *app = kiln_db_app(c);
	const kiln_val **params;
	const char *src;
	kiln_buf b, sel;
	char sql[256];
	size_t i, k, np = 0;
	kiln_err rc;

	if ((params = kiln_arena_calloc(a, after->ncols + 1,
		 sizeof(*params))) == NULL)
		return KILN_ENOMEM;
	snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS \"kiln_new_%s\"",
	    after->table);
	if ((rc = kiln_db_exec(c, sql)) != KILN_OK)
		return rc;
	kiln_buf_init(&b, a, 512);
	kiln__schema_create(&b, after, false,
	    kiln_arena_printf(a, "kiln_new_%s", after->table));
	if (b.oom)
		return KILN_ENOMEM;
	if ((rc = kiln_db_exec(c, b.ptr)) != KILN_OK)
		return rc;
	kiln_buf_init(&b, a, 512);
	kiln_buf_init(&sel, a, 256);
	kiln_buf_printf(&b, "INSERT INTO \"kiln_new_%s\" (", after->table);
	for (i = 0; i < after->ncols; i++) {
		src = after->cols[i].column;
		if (op->kind == KILN__OP_ALTER &&
		    strcmp(src, op->to->column) == 0)
			src = op->from->column;
		for (k = 0; k < before->ncols; k++)
			if (strcmp(before->cols[k].column, src) == 0)
				break;
		kiln_buf_printf(&b, "%s\"%s\"", i > 0 ? ", " : "",
		    after->cols[i].column);
		if (k < before->ncols) {
			kiln_buf_printf(&sel, "%s\"%s\"", i > 0 ? ", " : "",
			    src);
			continue;
		}
		kiln_buf_append_c(&sel, i > 0 ? ", ?" : "?");
		if ((params[np++] = fill_value(app, a, after->table,
			 &after->cols[i])) == NULL)
			return kiln__app_error(app, KILN_EINVAL,
			    "%s.%s: its default does not fit the column",
			    after->table, after->cols[i].column);
	}
	kiln_buf_printf(&b, ") SELECT %s FROM \"%s\"",
	    sel.ptr != NULL ? sel.ptr : "", before->table);
	if (b.oom || sel.oom)
		return KILN_ENOMEM;
	if ((rc = run_sql(c, a, b.ptr, params, np)) != KILN_OK)
		return rc;
	snprintf(sql, sizeof(sql), "DROP TABLE \"%s\"", before->table);
	if ((rc = kiln_db_exec(c, sql)) != KILN_OK)
		return rc;
	snprintf(sql, sizeof(sql),
	    "ALTER TABLE \"kiln_new_%s\" RENAME TO \"%s\"", after->table,
	    after->table);
	if ((rc = kiln_db_exec(c, sql)) != KILN_OK)
		return rc;
	return kiln__schema_indexes(c, after);
}

/* Runs one formatted DDL statement. */
static kiln_err ddl(kiln_db_conn *c, kiln_arena *a, const char *fmt, ...)
    KILN_PRINTF(3, 4);

static kiln_err
ddl(kiln_db_conn *c, kiln_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *sql;

	va_start(ap, fmt);
	sql = kiln_arena_vprintf(a, fmt, ap);
	va_end(ap);
	return sql != NULL ? kiln_db_exec(c, sql) : KILN_ENOMEM;
}

/* Appends a column definition without UNIQUE (added separately). */
static const char *
coldef(kiln_arena *a, const kiln__col *c, bool force_null)
{
	kiln__col tmp = *c;
	kiln_buf b;

	tmp.flags &= ~(unsigned)KILN_F_UNIQUE;
	if (force_null)
		tmp.flags |= KILN_F_NULL;
	kiln_buf_init(&b, a, 128);
	kiln__schema_coldef(&b, &tmp, true);
	return b.oom ? NULL : b.ptr;
}

/* The MySQL statements of an add, remove or alter (in place). */
static kiln_err
mysql_alter(kiln_db_conn *c, kiln_arena *a, const kiln__op *op)
{
	const char *t = op->table;
	const kiln__col *from = op->from, *to = op->to;
	const kiln_val *p[1];
	kiln_err rc = KILN_OK;

	if ((from != NULL && from->type == KILN_FIELD_AUTO) ||
	    (to != NULL && to->type == KILN_FIELD_AUTO))
		return kiln__app_error(kiln_db_app(c), KILN_EUNSUPPORTED,
		    "%s: changing the primary key is not supported", t);
	if (from != NULL && from->type == KILN_FIELD_FK)
		rc = ddl(c, a,
		    "ALTER TABLE \"%s\" DROP FOREIGN KEY \"%s_%s_fk\"", t, t,
		    from->column);
	if (rc == KILN_OK && op->kind == KILN__OP_REMOVE)
		return ddl(c, a, "ALTER TABLE \"%s\" DROP COLUMN \"%s\"", t,
		    from->column);
	if (rc == KILN_OK && from != NULL && (from->flags & KILN_F_UNIQUE) &&
	    !(to->flags & KILN_F_UNIQUE))
		rc = ddl(c, a, "ALTER TABLE \"%s\" DROP INDEX \"%s\"", t,
		    from->column);
	if (rc == KILN_OK && from != NULL && (from->flags & KILN_F_INDEX) &&
	    !(to->flags & KILN_F_INDEX))
		rc = ddl(c, a, "DROP INDEX \"%s_%s_idx\" ON \"%s\"", t,
		    from->column, t);
	if (rc == KILN_OK && op->kind == KILN__OP_ADD) {
		rc = ddl(c, a, "ALTER TABLE \"%s\" ADD COLUMN %s", t,
		    coldef(a, to, true));
		if (rc == KILN_OK && !(to->flags & KILN_F_NULL)) {
			if ((p[0] = fill_value(kiln_db_app(c), a, t, to)) ==
			    NULL)
				return kiln__app_error(kiln_db_app(c),
				    KILN_EINVAL,
				    "%s.%s: its default does not fit", t,
				    to->column);
			rc = run_sql(c, a,
			    kiln_arena_printf(a, "UPDATE \"%s\" SET \"%s\" = ?",
				t, to->column),
			    p, 1);
			if (rc == KILN_OK)
				rc = ddl(c, a,
				    "ALTER TABLE \"%s\" MODIFY COLUMN %s", t,
				    coldef(a, to, false));
		}
	} else if (rc == KILN_OK) {
		rc = ddl(c, a, "ALTER TABLE \"%s\" CHANGE COLUMN \"%s\" %s", t,
		    from->column, coldef(a, to, false));
	}
	if (rc == KILN_OK && (to->flags & KILN_F_UNIQUE) &&
	    (from == NULL || !(from->flags & KILN_F_UNIQUE)))
		rc = ddl(c, a, "ALTER TABLE \"%s\" ADD UNIQUE \"%s\" (\"%s\")",
		    t, to->column, to->column);
	if (rc == KILN_OK && to->type == KILN_FIELD_FK)
		rc = ddl(c, a,
		    "ALTER TABLE \"%s\" ADD CONSTRAINT \"%s_%s_fk\" FOREIGN "
		    "KEY (\"%s\") REFERENCES \"%s\" (\"%s\")",
		    t, t, to->column, to->column, to->ref_table,
		    to->ref_column);
	if (rc == KILN_OK && (to->flags & KILN_F_INDEX) &&
	    (from == NULL || !(from->flags & KILN_F_INDEX)))
		rc = ddl(c, a, "CREATE INDEX \"%s_%s_idx\" ON \"%s\" (\"%s\")",
		    t, to->column, t, to->column);
	return rc;
}

/* Runs the DDL of op, updating st. */
static kiln_err
op_run(kiln_db_conn *c, kiln_arena *a, kiln__state *st, const kiln__op *op)
{
	kiln_app *app = kiln_db_app(c);
	bool mysql = strcmp(kiln_db_vendor(c), "mysql") == 0;
	const kiln__table *before = kiln__state_find(st, op->table);
	kiln_buf b;
	kiln_err rc;

	if ((rc = kiln__state_apply(app, st, op)) != KILN_OK)
		return rc;
	switch (op->kind) {
	case KILN__OP_CREATE:
		kiln_buf_init(&b, a, 512);
		kiln__schema_create(&b, op->t, mysql, NULL);
		if (b.oom)
			return KILN_ENOMEM;
		if ((rc = kiln_db_exec(c, b.ptr)) != KILN_OK)
			return rc;
		return kiln__schema_indexes(c, op->t);
	case KILN__OP_DROP:
		return ddl(c, a, "DROP TABLE \"%s\"", op->table);
	default:
		if (mysql)
			return mysql_alter(c, a, op);
		return rebuild(c, a, before, kiln__state_find(st, op->table),
		    op);
	}
}

/*
 * Asks the routers whether table's model may be migrated on c's
 * database (the model of a dropped table is no longer known: NULL).
 * A skipped operation still counts in the state and the history, as in
 * Django.
 */
static bool
allowed(kiln_db_conn *c, const char *table)
{
	const kiln__ptrs *models = kiln__orm_models(kiln_db_app(c));
	const kiln__meta *mt;
	size_t i;

	for (i = 0; models != NULL && i < models->n; i++) {
		mt = models->items[i];
		if (strcmp(mt->m->table, table) == 0)
			return kiln_db_allow_migrate(kiln_db_app(c),
			    kiln_db_alias(c), mt->m);
	}
	return kiln_db_allow_migrate(kiln_db_app(c), kiln_db_alias(c), NULL);
}

/*
 * Applies (forward) or rolls back migration m[i], given the state the
 * files before it leave (forward) or the state after it (backward).
 */
static kiln_err
mig_run(kiln_db_conn *c, kiln_arena *a, kiln__state *st, const char *label,
    const kiln__migration *m, bool forward)
{
	bool sqlite = strcmp(kiln_db_vendor(c), "sqlite") == 0;
	const kiln_val *p[2];
	size_t i, n = m->ops->u.list.n;
	kiln__op op;
	kiln_err rc = KILN_OK;

	if (sqlite &&
	    (rc = kiln_db_exec(c, "PRAGMA foreign_keys = OFF")) != KILN_OK)
		return rc;
	if (sqlite && (rc = kiln_db_begin(c, a)) != KILN_OK)
		goto out;
	for (i = 0; i < n && rc == KILN_OK; i++) {
		rc = kiln__op_parse(kiln_db_app(c), a,
		    m->ops->u.list.items[forward ? i : n - 1 - i], &op);
		if (rc != KILN_OK)
			break;
		if (!forward)
			kiln__op_invert(&op);
		if (allowed(c, op.table))
			rc = op_run(c, a, st, &op);
		else
			rc = kiln__state_apply(kiln_db_app(c), st, &op);
	}
	p[0] = kiln_val_cstr(a, label);
	p[1] = kiln_val_cstr(a, m->name);
	if (rc == KILN_OK)
		rc = forward ? run_sql(c, a,
				   "INSERT INTO \"kiln_migrations\" (\"app\", "
				   "\"name\", \"applied\") VALUES (?, ?, "
				   "CURRENT_TIMESTAMP)",
				   p, 2) :
			       run_sql(c, a,
				   "DELETE FROM \"kiln_migrations\" WHERE "
				   "\"app\" = ? AND \"name\" = ?",
				   p, 2);
	if (sqlite && kiln_db_depth(c) > 0) {
		if (rc == KILN_OK)
			rc = kiln_db_commit(c);
		else if (kiln_db_rollback(c) != KILN_OK) {
			/* The first failure's message is the one to keep. */
		}
	}
out:
	if (sqlite && kiln_db_exec(c, "PRAGMA foreign_keys = ON") != KILN_OK &&
	    rc == KILN_OK)
		rc = KILN_EDB;
	return rc;
}

/* Finds the goal index for target (NULL: all, "zero": none). */
static kiln_err
goal_of(kiln_app *app, const kiln__migration *m, size_t n, const char *target,
    size_t *goal)
{
	size_t i, len;

	if (target == NULL) {
		*goal = n;
		return KILN_OK;
	}
	if (strcmp(target, "zero") == 0) {
		*goal = 0;
		return KILN_OK;
	}
	len = strlen(target);
	for (i = 0; i < n; i++) {
		if (strcmp(m[i].name, target) == 0 ||
		    (strncmp(m[i].name, target, len) == 0 &&
			m[i].name[len] == '_')) {
			*goal = i + 1;
			return KILN_OK;
		}
	}
	return kiln__app_error(app, KILN_ENOTFOUND, "no migration %s", target);
}

/* Migrates one app to target; progress lines go to log (may be NULL). */
static kiln_err
migrate_app(kiln_db_conn *c, kiln_arena *a, const char *label,
    const char *target, FILE *log)
{
	kiln_app *app = kiln_db_app(c);
	kiln__migration *m;
	kiln__ptrs done;
	kiln__state st;
	size_t n, i, goal = 0;
	kiln_err rc;

	if ((rc = kiln__mig_load(app, a, label, &m, &n)) != KILN_OK ||
	    (rc = applied_names(c, a, label, &done)) != KILN_OK ||
	    (rc = goal_of(app, m, n, target, &goal)) != KILN_OK)
		return rc;
	for (i = 0; i < done.n; i++)
		if (i >= n || strcmp(done.items[i], m[i].name) != 0)
			return kiln__app_error(app, KILN_EINVAL,
			    "%s: applied migration %s is not the file in "
			    "its place",
			    label, (const char *)done.items[i]);
	for (i = done.n; i < goal; i++) {
		if ((rc = kiln__state_replay(app, a, m, i, &st)) != KILN_OK ||
		    (rc = mig_run(c, a, &st, label, &m[i], true)) != KILN_OK)
			return rc;
		if (log != NULL)
			fprintf(log, "  applied %s.%s\n", label, m[i].name);
	}
	for (i = done.n; i > goal; i--) {
		if ((rc = kiln__state_replay(app, a, m, i, &st)) != KILN_OK ||
		    (rc = mig_run(c, a, &st, label, &m[i - 1], false)) !=
			KILN_OK)
			return rc;
		if (log != NULL)
			fprintf(log, "  rolled back %s.%s\n", label,
			    m[i - 1].name);
	}
	return KILN_OK;
}

/* Lists the app labels that have a migrations directory. */
static kiln_err
labels(kiln_app *app, kiln_arena *a, kiln__ptrs *out)
{
	const char *root = kiln_setting_str(app, "database.migrations");
	struct dirent *de;
	DIR *d;

	memset(out, 0, sizeof(*out));
	if ((d = opendir(root != NULL ? root : "migrations")) == NULL)
		return KILN_OK;
	while ((de = readdir(d)) != NULL) {
		if (!kiln__orm_ident_ok(de->d_name))
			continue;
		if (kiln__ptrs_push(out, a, kiln_arena_strdup(a, de->d_name)) !=
		    KILN_OK) {
			closedir(d);
			return KILN_ENOMEM;
		}
	}
	closedir(d);
	return KILN_OK;
}

static kiln_err
migrate(kiln_app *app, const char *alias, const char *label, const char *target,
    FILE *log)
{
	kiln_db_conn *c = kiln_db_conn_get(app, alias);
	kiln__ptrs all;
	kiln_arena *a;
	size_t i;
	kiln_err rc;

	if (c == NULL)
		return KILN_EDB;
	if ((a = kiln_arena_new(0)) == NULL)
		return kiln__app_error(app, KILN_ENOMEM, "out of memory");
	if (label != NULL) {
		rc = migrate_app(c, a, label, target, log);
	} else if ((rc = labels(app, a, &all)) == KILN_OK) {
		for (i = 0; i < all.n && rc == KILN_OK; i++)
			rc = migrate_app(c, a, all.items[i], NULL, log);
	}
	kiln_arena_free(a);
	return rc == KILN_ENOMEM ? kiln__app_error(app, rc, "out of memory") :
				   rc;
}

kiln_err
kiln_orm_migrate(kiln_app *app, const char *alias, const char *app_label,
    const char *target)
{
	return migrate(app, alias, app_label, target, NULL);
}

/* ---- commands --------------------------------------------------------- */

int
kiln__cmd_makemigrations(kiln_app *app, int argc, char **argv)
{
	const kiln__ptrs *models = kiln__orm_models(app);
	const kiln__meta *mt;
	const char *written, *seen[64];
	size_t i, k, nseen = 0;
	int j;

	if (models == NULL)
		return 1;
	for (j = 1; j < argc || (argc == 1 && j == 1); j++) {
		for (i = 0; i < models->n; i++) {
			mt = models->items[i];
			if (mt->m->app_label == NULL ||
			    (argc > 1 &&
				strcmp(mt->m->app_label, argv[j]) != 0))
				continue;
			for (k = 0; k < nseen; k++)
				if (strcmp(seen[k], mt->m->app_label) == 0)
					break;
			if (k < nseen || nseen == 64)
				continue;
			seen[nseen++] = mt->m->app_label;
			if (kiln_orm_makemigrations(app, mt->m->app_label,
				&written) != KILN_OK) {
				fprintf(stderr, "%s: %s\n", argv[0],
				    kiln_app_errmsg(app));
				return 1;
			}
			if (written != NULL)
				printf("%s: wrote %s\n", mt->m->app_label,
				    written);
			else
				printf("%s: no changes\n", mt->m->app_label);
		}
		if (argc == 1)
			break;
	}
	return 0;
}

int
kiln__cmd_migrate(kiln_app *app, int argc, char **argv)
{
	const char *alias = NULL;

	if (argc > 1 && strncmp(argv[1], "--database=", 11) == 0) {
		alias = argv[1] + 11;
		argv++;
		argc--;
	}
	if (argc > 3) {
		fprintf(stderr,
		    "usage: migrate [--database=ALIAS] [app] "
		    "[target]\n");
		return 2;
	}
	if (migrate(app, alias, argc > 1 ? argv[1] : NULL,
		argc > 2 ? argv[2] : NULL, stdout) != KILN_OK) {
		fprintf(stderr, "%s: %s\n", argv[0], kiln_app_errmsg(app));
		return 1;
	}
	return 0;
}

int
kiln__cmd_showmigrations(kiln_app *app, int argc, char **argv)
{
	kiln_db_conn *c = kiln_db_conn_get(app, NULL);
	kiln__migration *m;
	kiln__ptrs all, done;
	kiln_arena *a;
	size_t i, k, n;
	int status = 0;

	if (c == NULL || (a = kiln_arena_new(0)) == NULL) {
		fprintf(stderr, "%s: %s\n", argv[0], kiln_app_errmsg(app));
		return 1;
	}
	memset(&all, 0, sizeof(all));
	if (argc > 1) {
		if (kiln__ptrs_push(&all, a, argv[1]) != KILN_OK)
			status = 1;
	} else if (labels(app, a, &all) != KILN_OK) {
		status = 1;
	}
	for (i = 0; status == 0 && i < all.n; i++) {
		if (kiln__mig_load(app, a, all.items[i], &m, &n) != KILN_OK ||
		    applied_names(c, a, all.items[i], &done) != KILN_OK) {
			status = 1;
			break;
		}
		printf("%s\n", (const char *)all.items[i]);
		for (k = 0; k < n; k++)
			printf(" [%c] %s\n", k < done.n ? 'X' : ' ', m[k].name);
	}
	if (status != 0)
		fprintf(stderr, "%s: %s\n", argv[0], kiln_app_errmsg(app));
	kiln_arena_free(a);
	return status;
}
