/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Migration files and makemigrations. A migration is a JSON file,
 * <database.migrations>/<app_label>/NNNN_name.json, holding a list of
 * operations: create_table and drop_table (with the whole table),
 * add_field, remove_field and alter_field (with the column before and/or
 * after). Every operation carries what is needed to undo it, so a file
 * can be applied in both directions and reviewed as it stands. Replaying
 * the files in name order gives the recorded state; makemigrations
 * compares it with the registered models and writes the difference as
 * the next file. Every name read from a file is checked as an identifier
 * before it can reach SQL.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/kiln.h>

#include "orm_int.h"

#define MIG_MAXFILE (1 << 20) /* bytes in one migration file */

/* ---- columns and tables as JSON --------------------------------------- */

static kiln_err
put(kiln_val *map, const char *key, kiln_val *v)
{
	return v != NULL ? kiln_val_set(map, key, v) : KILN_ENOMEM;
}

static kiln_val *
str_or_null(kiln_arena *a, const char *s)
{
	return s != NULL ? kiln_val_cstr(a, s) : kiln_val_null(a);
}

static kiln_val *
col_val(kiln_arena *a, const kiln__col *c)
{
	kiln_val *m = kiln_val_map(a);

	if (m == NULL || put(m, "name", kiln_val_cstr(a, c->name)) ||
	    put(m, "column", kiln_val_cstr(a, c->column)) ||
	    put(m, "type", kiln_val_cstr(a, kiln__type_name(c->type))) ||
	    put(m, "null", kiln_val_bool(a, c->flags & KILN_F_NULL)) ||
	    put(m, "unique", kiln_val_bool(a, c->flags & KILN_F_UNIQUE)) ||
	    put(m, "index", kiln_val_bool(a, c->flags & KILN_F_INDEX)) ||
	    put(m, "pk", kiln_val_bool(a, c->flags & KILN_F_PK)) ||
	    put(m, "max_length", kiln_val_int(a, c->max_length)) ||
	    put(m, "max_digits", kiln_val_int(a, c->max_digits)) ||
	    put(m, "decimal_places", kiln_val_int(a, c->decimal_places)) ||
	    put(m, "default", str_or_null(a, c->def)) ||
	    put(m, "ref_table", str_or_null(a, c->ref_table)) ||
	    put(m, "ref_column", str_or_null(a, c->ref_column)))
		return NULL;
	return m;
}

static kiln_val *
table_val(kiln_arena *a, const kiln__table *t)
{
	kiln_val *m = kiln_val_map(a), *cols = kiln_val_list(a),
		 *tog = kiln_val_list(a);
	size_t i;

	if (m == NULL || cols == NULL || tog == NULL)
		return NULL;
	for (i = 0; i < t->ncols; i++)
		if (kiln_val_push(cols, col_val(a, &t->cols[i])) != KILN_OK)
			return NULL;
	for (i = 0; i < t->ntogether; i++)
		if (kiln_val_push(tog, kiln_val_cstr(a, t->together[i])) !=
		    KILN_OK)
			return NULL;
	if (put(m, "app", kiln_val_cstr(a, t->app)) ||
	    put(m, "model", kiln_val_cstr(a, t->model)) ||
	    put(m, "table", kiln_val_cstr(a, t->table)) ||
	    put(m, "fields", cols) || put(m, "unique_together", tog))
		return NULL;
	return m;
}

/* Reads a string member (NULL when absent or null; *bad when not text). */
static const char *
get_str(const kiln_val *m, const char *key, bool *bad)
{
	const kiln_val *v = kiln_val_get(m, key);

	if (v == NULL || v->type == KILN_VAL_NULL)
		return NULL;
	if (v->type != KILN_VAL_STR || memchr(v->u.s.ptr, '\0', v->u.s.len)) {
		*bad = true;
		return NULL;
	}
	return v->u.s.ptr;
}

static unsigned
get_uint(const kiln_val *m, const char *key, bool *bad)
{
	const kiln_val *v = kiln_val_get(m, key);

	if (v == NULL || v->type == KILN_VAL_NULL)
		return 0;
	if (v->type != KILN_VAL_INT || v->u.i < 0 || v->u.i > 65535) {
		*bad = true;
		return 0;
	}
	return (unsigned)v->u.i;
}

static unsigned
flag(const kiln_val *m, const char *key, unsigned f)
{
	const kiln_val *v = kiln_val_get(m, key);

	return v != NULL && v->type == KILN_VAL_BOOL && v->u.b ? f : 0;
}

/* Parses a column, checking every name that will reach SQL. */
static kiln_err
col_parse(kiln_app *app, kiln_arena *a, const kiln_val *v, kiln__col *c)
{
	const char *type;
	bool bad = false;
	int t;

	memset(c, 0, sizeof(*c));
	if (v == NULL || v->type != KILN_VAL_MAP)
		return kiln__app_error(app, KILN_EINVAL,
		    "migration: a field is not an object");
	c->name = get_str(v, "name", &bad);
	c->column = get_str(v, "column", &bad);
	type = get_str(v, "type", &bad);
	c->max_length = get_uint(v, "max_length", &bad);
	c->max_digits = get_uint(v, "max_digits", &bad);
	c->decimal_places = get_uint(v, "decimal_places", &bad);
	c->def = get_str(v, "default", &bad);
	c->ref_table = get_str(v, "ref_table", &bad);
	c->ref_column = get_str(v, "ref_column", &bad);
	c->flags = flag(v, "null", KILN_F_NULL) |
	    flag(v, "unique", KILN_F_UNIQUE) | flag(v, "index", KILN_F_INDEX) |
	    flag(v, "pk", KILN_F_PK);
	(void)a;
	if (bad || type == NULL || (t = kiln__type_parse(type)) < 0 ||
	    !kiln__orm_ident_ok(c->name) || !kiln__orm_ident_ok(c->column) ||
	    (t == KILN_FIELD_FK &&
		(!kiln__orm_ident_ok(c->ref_table) ||
		    !kiln__orm_ident_ok(c->ref_column))) ||
	    c->max_digits > 38 ||
	    (t == KILN_FIELD_DECIMAL && c->decimal_places > c->max_digits))
		return kiln__app_error(app, KILN_EINVAL,
		    "migration: bad field %s",
		    c->name != NULL ? c->name : "(unnamed)");
	c->type = (kiln_field_type)t;
	return KILN_OK;
}

/* Checks a unique_together group: column names joined by commas. */
static bool
group_ok(const char *g)
{
	char name[64];
	const char *p, *comma;
	size_t len;

	for (p = g; p != NULL; p = comma != NULL ? comma + 1 : NULL) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || len >= sizeof(name))
			return false;
		memcpy(name, p, len);
		name[len] = '\0';
		if (!kiln__orm_ident_ok(name))
			return false;
	}
	return true;
}

static kiln_err
table_parse(kiln_app *app, kiln_arena *a, const kiln_val *v, kiln__table *t)
{
	const kiln_val *cols, *tog;
	bool bad = false;
	size_t i;
	kiln_err rc;

	memset(t, 0, sizeof(*t));
	if (v == NULL || v->type != KILN_VAL_MAP)
		return kiln__app_error(app, KILN_EINVAL,
		    "migration: a table is not an object");
	t->app = get_str(v, "app", &bad);
	t->model = get_str(v, "model", &bad);
	t->table = get_str(v, "table", &bad);
	cols = kiln_val_get(v, "fields");
	tog = kiln_val_get(v, "unique_together");
	if (bad || !kiln__orm_ident_ok(t->table) || cols == NULL ||
	    cols->type != KILN_VAL_LIST || cols->u.list.n == 0 ||
	    (tog != NULL && tog->type != KILN_VAL_LIST))
		return kiln__app_error(app, KILN_EINVAL,
		    "migration: bad table %s",
		    t->table != NULL ? t->table : "(unnamed)");
	t->ncols = cols->u.list.n;
	if ((t->cols = kiln_arena_calloc(a, t->ncols, sizeof(*t->cols))) ==
	    NULL)
		return KILN_ENOMEM;
	for (i = 0; i < t->ncols; i++)
		if ((rc = col_parse(app, a, cols->u.list.items[i],
			 &t->cols[i])) != KILN_OK)
			return rc;
	t->ntogether = tog != NULL ? tog->u.list.n : 0;
	if (t->ntogether > 0 &&
	    (t->together = kiln_arena_calloc(a, t->ntogether,
		 sizeof(*t->together))) == NULL)
		return KILN_ENOMEM;
	for (i = 0; i < t->ntogether; i++) {
		v = tog->u.list.items[i];
		if (v->type != KILN_VAL_STR || !group_ok(v->u.s.ptr))
			return kiln__app_error(app, KILN_EINVAL,
			    "migration: bad unique_together in %s", t->table);
		t->together[i] = v->u.s.ptr;
	}
	return KILN_OK;
}

kiln_err
kiln__op_parse(kiln_app *app, kiln_arena *a, const kiln_val *v, kiln__op *op)
{
	static const char *const kinds[] = { "create_table", "drop_table",
		"add_field", "remove_field", "alter_field" };
	const char *kind;
	bool bad = false;
	size_t i;

	memset(op, 0, sizeof(*op));
	kind = v != NULL && v->type == KILN_VAL_MAP ? get_str(v, "op", &bad) :
						      NULL;
	for (i = 0; kind != NULL && i < 5; i++)
		if (strcmp(kind, kinds[i]) == 0)
			break;
	if (kind == NULL || i == 5)
		return kiln__app_error(app, KILN_EINVAL,
		    "migration: unknown operation %s",
		    kind != NULL ? kind : "(none)");
	op->kind = (int)i;
	if (op->kind <= KILN__OP_DROP) {
		if ((op->t = kiln_arena_alloc(a, sizeof(*op->t))) == NULL)
			return KILN_ENOMEM;
		op->table = NULL;
		if (table_parse(app, a, kiln_val_get(v, "table"), op->t) !=
		    KILN_OK)
			return KILN_EINVAL;
		op->table = op->t->table;
		return KILN_OK;
	}
	op->table = get_str(v, "table", &bad);
	if (bad || !kiln__orm_ident_ok(op->table))
		return kiln__app_error(app, KILN_EINVAL,
		    "migration: %s without a table", kind);
	if (op->kind != KILN__OP_ADD &&
	    ((op->from = kiln_arena_alloc(a, sizeof(*op->from))) == NULL ||
		col_parse(app, a, kiln_val_get(v, "from"), op->from) !=
		    KILN_OK))
		return KILN_EINVAL;
	if (op->kind != KILN__OP_REMOVE &&
	    ((op->to = kiln_arena_alloc(a, sizeof(*op->to))) == NULL ||
		col_parse(app, a, kiln_val_get(v, "to"), op->to) != KILN_OK))
		return KILN_EINVAL;
	return KILN_OK;
}

void
kiln__op_invert(kiln__op *op)
{
	kiln__col *c;

	switch (op->kind) {
	case KILN__OP_CREATE:
		op->kind = KILN__OP_DROP;
		break;
	case KILN__OP_DROP:
		op->kind = KILN__OP_CREATE;
		break;
	case KILN__OP_ADD:
		op->kind = KILN__OP_REMOVE;
		op->from = op->to;
		op->to = NULL;
		break;
	case KILN__OP_REMOVE:
		op->kind = KILN__OP_ADD;
		op->to = op->from;
		op->from = NULL;
		break;
	default:
		c = op->from;
		op->from = op->to;
		op->to = c;
		break;
	}
}

/* ---- state ------------------------------------------------------------ */

kiln__table *
kiln__state_find(const kiln__state *st, const char *name)
{
	kiln__table *t;
	size_t i;

	for (i = 0; i < st->tables.n; i++) {
		t = st->tables.items[i];
		if (strcmp(t->table, name) == 0)
			return t;
	}
	return NULL;
}

/* Returns the index of column name in t, or -1. */
static long
col_index(const kiln__table *t, const char *column)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].column, column) == 0)
			return (long)i;
	return -1;
}

/* A copy of t whose column array may change (columns are shared). */
static kiln__table *
table_copy(kiln_arena *a, const kiln__table *t, size_t extra)
{
	kiln__table *n = kiln_arena_alloc(a, sizeof(*n));

	if (n == NULL)
		return NULL;
	*n = *t;
	if ((n->cols = kiln_arena_calloc(a, t->ncols + extra,
		 sizeof(*n->cols))) == NULL)
		return NULL;
	memcpy(n->cols, t->cols, t->ncols * sizeof(*n->cols));
	return n;
}

kiln_err
kiln__state_apply(kiln_app *app, kiln__state *st, const kiln__op *op)
{
	kiln__table *t = kiln__state_find(st, op->table), *n;
	size_t i;
	long ci;

	if (op->kind == KILN__OP_CREATE) {
		if (t != NULL)
			return kiln__app_error(app, KILN_EINVAL,
			    "migration: table %s exists already", op->table);
		return kiln__ptrs_push(&st->tables, st->a, op->t);
	}
	if (t == NULL)
		return kiln__app_error(app, KILN_EINVAL,
		    "migration: no table %s", op->table);
	for (i = 0; i < st->tables.n && st->tables.items[i] != t; i++)
		;
	if (op->kind == KILN__OP_DROP) {
		memmove(&st->tables.items[i], &st->tables.items[i + 1],
		    (st->tables.n - i - 1) * sizeof(void *));
		st->tables.n--;
		return KILN_OK;
	}
	ci = op->from != NULL ? col_index(t, op->from->column) :
				col_index(t, op->to->column);
	if ((op->kind == KILN__OP_ADD) != (ci < 0))
		return kiln__app_error(app, KILN_EINVAL,
		    "migration: column %s.%s %s", op->table,
		    op->kind == KILN__OP_ADD ? op->to->column :
					       op->from->column,
		    op->kind == KILN__OP_ADD ? "exists already" : "is missing");
	if ((n = table_copy(st->a, t, 1)) == NULL)
		return KILN_ENOMEM;
	if (op->kind == KILN__OP_ADD) {
		n->cols[n->ncols++] = *op->to;
	} else if (op->kind == KILN__OP_REMOVE) {
		memmove(&n->cols[ci], &n->cols[ci + 1],
		    (n->ncols - (size_t)ci - 1) * sizeof(*n->cols));
		n->ncols--;
	} else {
		n->cols[ci] = *op->to;
	}
	st->tables.items[i] = n;
	return KILN_OK;
}

/* ---- files ------------------------------------------------------------ */

static int
name_cmp(const void *x, const void *y)
{
	return strcmp(((const kiln__migration *)x)->name,
	    ((const kiln__migration *)y)->name);
}

/* Returns the directory of app_label's migrations (in a). */
static const char *
mig_dir(kiln_app *app, kiln_arena *a, const char *app_label)
{
	const char *root = kiln_setting_str(app, "database.migrations");

	return kiln_arena_printf(a, "%s/%s", root != NULL ? root : "migrations",
	    app_label);
}

/* Reads a whole file of at most MIG_MAXFILE bytes into a. */
static kiln_err
slurp(kiln_app *app, kiln_arena *a, const char *path, kiln_str *out)
{
	char *buf;
	size_t n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return kiln__app_error(app, KILN_EIO, "open %s: %s", path,
		    strerror(errno));
	if ((buf = kiln_arena_alloc(a, MIG_MAXFILE + 1)) == NULL) {
		fclose(f);
		return KILN_ENOMEM;
	}
	n = fread(buf, 1, MIG_MAXFILE + 1, f);
	fclose(f);
	if (n > MIG_MAXFILE)
		return kiln__app_error(app, KILN_ELIMIT,
		    "%s: larger than %d bytes", path, MIG_MAXFILE);
	buf[n] = '\0';
	out->ptr = buf;
	out->len = n;
	return KILN_OK;
}

/* True for "NNNN_name.json" with a name fit for a file. */
static bool
mig_name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 10 || n > 100 || strcmp(s + n - 5, ".json") != 0 || s[4] != '_')
		return false;
	for (i = 0; i < n - 5; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return false;
	return s[0] >= '0' && s[0] <= '9' && s[3] >= '0' && s[3] <= '9';
}

kiln_err
kiln__mig_load(kiln_app *app, kiln_arena *a, const char *app_label,
    kiln__migration **out, size_t *n)
{
	const char *dir = mig_dir(app, a, app_label);
	char err[160];
	kiln__migration *v = NULL, *grown;
	struct dirent *de;
	kiln_val *doc;
	size_t cap = 0, i;
	kiln_str text;
	DIR *d;
	kiln_err rc = KILN_OK;

	*out = NULL;
	*n = 0;
	if (dir == NULL)
		return KILN_ENOMEM;
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ?
		    KILN_OK :
		    kiln__app_error(app, KILN_EIO, "open %s: %s", dir,
			strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (!mig_name_ok(de->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((grown = kiln_arena_calloc(a, cap, sizeof(*v))) ==
			    NULL) {
				rc = KILN_ENOMEM;
				break;
			}
			if (*n > 0)
				memcpy(grown, v, *n * sizeof(*v));
			v = grown;
		}
		v[*n].name =
		    kiln_arena_strndup(a, de->d_name, strlen(de->d_name) - 5);
		(*n)++;
	}
	closedir(d);
	if (rc != KILN_OK)
		return kiln__app_error(app, rc, "out of memory");
	if (*n > 0)
		qsort(v, *n, sizeof(*v), name_cmp);
	for (i = 0; i < *n; i++) {
		if ((rc = slurp(app, a,
			 kiln_arena_printf(a, "%s/%s.json", dir, v[i].name),
			 &text)) != KILN_OK)
			return rc;
		doc = kiln_json_parse(a, text, 0, err, sizeof(err));
		if (doc == NULL ||
		    (v[i].ops = kiln_val_get(doc, "operations")) == NULL ||
		    v[i].ops->type != KILN_VAL_LIST)
			return kiln__app_error(app, KILN_EPARSE,
			    "%s/%s.json: %s", dir, v[i].name,
			    doc == NULL ? err : "no operations list");
	}
	*out = v;
	return KILN_OK;
}

/* ---- makemigrations --------------------------------------------------- */

static bool
str_eq(const char *x, const char *y)
{
	return (x == NULL && y == NULL) ||
	    (x != NULL && y != NULL && strcmp(x, y) == 0);
}

static bool
col_eq(const kiln__col *x, const kiln__col *y)
{
	return str_eq(x->name, y->name) && str_eq(x->column, y->column) &&
	    x->type == y->type && x->flags == y->flags &&
	    x->max_length == y->max_length && x->max_digits == y->max_digits &&
	    x->decimal_places == y->decimal_places && str_eq(x->def, y->def) &&
	    str_eq(x->ref_table, y->ref_table) &&
	    str_eq(x->ref_column, y->ref_column);
}

/* Appends {"op": kind, "table": ..., "from": ..., "to": ...}. */
static kiln_err
add_op(kiln_arena *a, kiln_val *ops, const char *kind, const char *table,
    const kiln__col *from, const kiln__col *to)
{
	kiln_val *op = kiln_val_map(a);

	if (op == NULL || put(op, "op", kiln_val_cstr(a, kind)) ||
	    put(op, "table", kiln_val_cstr(a, table)) ||
	    (from != NULL && put(op, "from", col_val(a, from))) ||
	    (to != NULL && put(op, "to", col_val(a, to))))
		return KILN_ENOMEM;
	return kiln_val_push(ops, op);
}

static kiln_err
add_table_op(kiln_arena *a, kiln_val *ops, const char *kind,
    const kiln__table *t)
{
	kiln_val *op = kiln_val_map(a);

	if (op == NULL || put(op, "op", kiln_val_cstr(a, kind)) ||
	    put(op, "table", table_val(a, t)))
		return KILN_ENOMEM;
	return kiln_val_push(ops, op);
}

/* The columns of one table: added, removed and altered ones. */
static kiln_err
diff_table(kiln_app *app, kiln_arena *a, kiln_val *ops, const kiln__table *old,
    const kiln__table *cur)
{
	const kiln__col *c;
	size_t i;
	long k;
	kiln_err rc = KILN_OK;

	for (i = 0; i < cur->ncols && rc == KILN_OK; i++) {
		c = &cur->cols[i];
		k = col_index(old, c->column);
		if (k < 0 && c->def == NULL && !(c->flags & KILN_F_NULL) &&
		    (c->type == KILN_FIELD_DATE ||
			c->type == KILN_FIELD_DATETIME ||
			c->type == KILN_FIELD_UUID ||
			c->type == KILN_FIELD_FK || c->type == KILN_FIELD_JSON))
			return kiln__app_error(app, KILN_EINVAL,
			    "%s.%s: a new NOT NULL %s field needs a default "
			    "(.def) or KILN_F_NULL to fill existing rows",
			    cur->model, c->name, kiln__type_name(c->type));
		if (k < 0)
			rc = add_op(a, ops, "add_field", cur->table, NULL, c);
		else if (!col_eq(&old->cols[k], c))
			rc = add_op(a, ops, "alter_field", cur->table,
			    &old->cols[k], c);
	}
	for (i = 0; i < old->ncols && rc == KILN_OK; i++)
		if (col_index(cur, old->cols[i].column) < 0)
			rc = add_op(a, ops, "remove_field", cur->table,
			    &old->cols[i], NULL);
	return rc;
}

/* Writes ops as dir/NNNN_name.json, one operation per line. */
static kiln_err
write_file(kiln_app *app, kiln_arena *a, const char *dir, const char *name,
    const char *app_label, const kiln_val *ops, const char **path)
{
	kiln_str text;
	size_t i;
	FILE *f;
	char *p, *buf;

	/* mkdir -p: each parent, then dir itself below. */
	if ((buf = kiln_arena_strdup(a, dir)) == NULL)
		return KILN_ENOMEM;
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return kiln__app_error(app, KILN_EIO, "mkdir %s: %s",
			    buf, strerror(errno));
		*p = '/';
	}
	if ((*path = kiln_arena_printf(a, "%s/%s.json", dir, name)) == NULL)
		return KILN_ENOMEM;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return kiln__app_error(app, KILN_EIO, "mkdir %s: %s", dir,
		    strerror(errno));
	if ((f = fopen(*path, "wx")) == NULL)
		return kiln__app_error(app, KILN_EIO, "create %s: %s", *path,
		    strerror(errno));
	fprintf(f, "{\"app\": \"%s\", \"name\": \"%s\", \"operations\": [\n",
	    app_label, name);
	for (i = 0; i < ops->u.list.n; i++) {
		if (kiln_json_dump(a, ops->u.list.items[i], &text) != KILN_OK) {
			fclose(f);
			return kiln__app_error(app, KILN_ENOMEM,
			    "out of memory");
		}
		fprintf(f, "  %s%s\n", text.ptr,
		    i + 1 < ops->u.list.n ? "," : "");
	}
	fprintf(f, "]}\n");
	if (fclose(f) != 0)
		return kiln__app_error(app, KILN_EIO, "write %s: %s", *path,
		    strerror(errno));
	return KILN_OK;
}

kiln_err
kiln__state_replay(kiln_app *app, kiln_arena *a, const kiln__migration *m,
    size_t n, kiln__state *st)
{
	kiln__op op;
	size_t i, k;
	kiln_err rc;

	memset(st, 0, sizeof(*st));
	st->a = a;
	for (i = 0; i < n; i++) {
		for (k = 0; k < m[i].ops->u.list.n; k++) {
			if ((rc = kiln__op_parse(app, a,
				 m[i].ops->u.list.items[k], &op)) != KILN_OK ||
			    (rc = kiln__state_apply(app, st, &op)) != KILN_OK)
				return rc;
		}
	}
	return KILN_OK;
}

/* Replays every migration of app_label into st. */
static kiln_err
replay(kiln_app *app, kiln_arena *a, const char *app_label, kiln__state *st,
    size_t *nfiles, const char **last)
{
	kiln__migration *m;
	size_t n;
	kiln_err rc;

	if ((rc = kiln__mig_load(app, a, app_label, &m, &n)) != KILN_OK ||
	    (rc = kiln__state_replay(app, a, m, n, st)) != KILN_OK)
		return rc;
	*nfiles = n;
	*last = n > 0 ? m[n - 1].name : NULL;
	return KILN_OK;
}

/* True when a registered model has the table name. */
static bool
registered(const kiln__ptrs *models, const char *name)
{
	const kiln__meta *mt;
	size_t i;

	for (i = 0; i < models->n; i++) {
		mt = models->items[i];
		if (strcmp(mt->m->table, name) == 0)
			return true;
	}
	return false;
}

kiln_err
kiln_orm_makemigrations(kiln_app *app, const char *app_label,
    const char **written)
{
	const kiln__ptrs *models = kiln__orm_models(app);
	const kiln__meta *mt;
	kiln__table *old, cur;
	kiln__state st;
	const char *last, *dir;
	kiln_val *ops;
	kiln_arena *a;
	size_t i, nfiles;
	unsigned next;
	kiln_err rc;

	*written = NULL;
	if (models == NULL)
		return KILN_EINVAL;
	if ((a = kiln_arena_new(0)) == NULL ||
	    (ops = kiln_val_list(a)) == NULL) {
		kiln_arena_free(a);
		return kiln__app_error(app, KILN_ENOMEM, "out of memory");
	}
	if ((rc = replay(app, a, app_label, &st, &nfiles, &last)) != KILN_OK)
		goto out;
	for (i = 0; i < models->n && rc == KILN_OK; i++) {
		mt = models->items[i];
		if (mt->m->app_label == NULL ||
		    strcmp(mt->m->app_label, app_label) != 0)
			continue;
		if ((rc = kiln__table_from_meta(app, a, mt, &cur)) != KILN_OK)
			break;
		if ((old = kiln__state_find(&st, cur.table)) == NULL)
			rc = add_table_op(a, ops, "create_table", &cur);
		else
			rc = diff_table(app, a, ops, old, &cur);
	}
	for (i = 0; i < st.tables.n && rc == KILN_OK; i++) {
		old = st.tables.items[i];
		if (!registered(models, old->table))
			rc = add_table_op(a, ops, "drop_table", old);
	}
	if (rc != KILN_OK || ops->u.list.n == 0)
		goto out;
	next = 1;
	if (last != NULL)
		next = (unsigned)strtoul(last, NULL, 10) + 1;
	dir = mig_dir(app, a, app_label);
	rc = write_file(app, a, dir,
	    kiln_arena_printf(a, nfiles == 0 ? "%04u_initial" : "%04u_auto",
		next),
	    app_label, ops, written);
	if (rc == KILN_OK)
		*written = kiln_arena_strdup(kiln_app_arena(app), *written);
out:
	kiln_arena_free(a);
	return rc == KILN_ENOMEM ? kiln__app_error(app, rc, "out of memory") :
				   rc;
}
