/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The ORM: models declared in C as static const field tables, rows (model
 * instances) in an arena, and lazy QuerySets compiled to SQL in which
 * every value is a bound parameter. Django's ORM is the reference for
 * behaviour; docs/database.md is the guide.
 *
 *   static const kiln_field post_fields[] = {
 *       { .name = "id", .type = KILN_FIELD_AUTO },
 *       { .name = "title", .type = KILN_FIELD_CHAR, .max_length = 200 },
 *       { .name = "author", .type = KILN_FIELD_FK, .to = &Author,
 *         .on_delete = KILN_ON_DELETE_CASCADE },
 *   };
 *   const kiln_model Post = { .app_label = "blog", .name = "Post",
 *       .table = "blog_post", .fields = post_fields, .nfields = 3 };
 *
 * A model is registered once per app (kiln_model_register) before it is
 * used; the kiln_db extension must be in use. Fallible functions return
 * kiln_err with the message on the app (kiln_app_errmsg). QuerySet
 * builders never fail on the spot: an error (a bad lookup, out of
 * memory) is kept and returned by the first function that runs the
 * query. Nothing here aborts except kiln_get_or_404.
 */
#ifndef KILN_ORM_H
#define KILN_ORM_H

#include <kiln/app.h>
#include <kiln/arena.h>
#include <kiln/common.h>
#include <kiln/db.h>
#include <kiln/value.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kiln_field_type {
	KILN_FIELD_AUTO,     /* integer primary key, assigned by the database */
	KILN_FIELD_INT,	     /* 32-bit integer */
	KILN_FIELD_BIGINT,   /* 64-bit integer */
	KILN_FIELD_FLOAT,    /* double */
	KILN_FIELD_DECIMAL,  /* fixed point, as text "12.50" */
	KILN_FIELD_BOOL,     /* true/false */
	KILN_FIELD_CHAR,     /* text of at most max_length characters */
	KILN_FIELD_TEXT,     /* text of any length */
	KILN_FIELD_DATE,     /* "YYYY-MM-DD" */
	KILN_FIELD_DATETIME, /* "YYYY-MM-DD HH:MM:SS[.ffffff]", UTC */
	KILN_FIELD_EMAIL,    /* a CHAR that looks like an address */
	KILN_FIELD_SLUG,     /* a CHAR of letters, digits, - and _ */
	KILN_FIELD_UUID,     /* "xxxxxxxx-xxxx-...", stored as 32 hex digits */
	KILN_FIELD_JSON,     /* JSON text (validated) */
	KILN_FIELD_FK,	     /* foreign key: the related row's primary key */
	KILN_FIELD_FILE,     /* a stored file's name under app.media_root */
	KILN_FIELD__MAX
} kiln_field_type;

/* Field flags. */
#define KILN_F_NULL	    (1u << 0) /* NULL is allowed */
#define KILN_F_BLANK	    (1u << 1) /* "" is allowed in forms */
#define KILN_F_UNIQUE	    (1u << 2) /* a UNIQUE constraint */
#define KILN_F_INDEX	    (1u << 3) /* an index */
#define KILN_F_PK	    (1u << 4) /* the primary key (AUTO implies it) */
#define KILN_F_AUTO_NOW	    (1u << 5) /* DATE/DATETIME: now on every save */
#define KILN_F_AUTO_NOW_ADD (1u << 6) /* DATE/DATETIME: now on insert */

typedef enum kiln_on_delete {
	KILN_ON_DELETE_CASCADE,	 /* delete the rows pointing here too */
	KILN_ON_DELETE_PROTECT,	 /* refuse while rows point here */
	KILN_ON_DELETE_SET_NULL, /* set the key to NULL (needs KILN_F_NULL) */
} kiln_on_delete;

struct kiln_model;

/* One field of a model; tables of them are static const. */
typedef struct kiln_field {
	const char *name;	     /* "title": letters, digits, _ (no "__") */
	kiln_field_type type;	     /* what it holds */
	unsigned flags;		     /* KILN_F_* */
	unsigned max_length;	     /* CHAR/EMAIL/SLUG: characters (0: 255);
					FILE: (0: 100) */
	unsigned max_digits;	     /* DECIMAL: digits in all (0: 10) */
	unsigned decimal_places;     /* DECIMAL: digits after the point */
	const char *def;	     /* default, as text (NULL: none) */
	const struct kiln_model *to; /* FK: the related model */
	kiln_on_delete on_delete;    /* FK: what deleting the target does */
	const char *const *choices;  /* allowed values, NULL-terminated */
	const char *column;	     /* column name (NULL: name, FK: name_id) */
	const char
	    *related_name;     /* FK: the reverse accessor (NULL: model_set) */
	const char *upload_to; /* FILE: directory under app.media_root */
} kiln_field;

/*
 * A many-to-many relation (Django's ManyToManyField). Kiln registers a
 * link model for it, whose table (default "<table>_<name>") has the
 * columns "<model>_id" and "<to>_id" (lower case; "from_x_id"/"to_x_id"
 * when a model relates to itself), unique together, both deleted with
 * either side.
 */
typedef struct kiln_m2m {
	const char *name;	     /* "tags": letters, digits, _ */
	const struct kiln_model *to; /* the related model */
	const char *table;	     /* the link table, or NULL */
	const char *related_name;    /* reverse name (NULL: "<model>_set") */
} kiln_m2m;

/* A model; static const. */
typedef struct kiln_model {
	const char *app_label;	  /* "blog" */
	const char *name;	  /* "Post" */
	const char *table;	  /* "blog_post" */
	const kiln_field *fields; /* the fields, in column order */
	size_t nfields;		  /* entries in fields */
	/* The default order ("-created"), NULL-ended, or NULL. */
	const char *const *ordering;
	/* Groups of fields unique together ("author,slug"), NULL-ended. */
	const char *const *unique_together;
	const kiln_m2m *m2m; /* many-to-many relations */
	size_t nm2m;	     /* entries in m2m */
} kiln_model;

/*
 * Registers m on app (the table must outlive it). Checks the
 * declaration: names, exactly one primary key, a registered FK target.
 * Returns KILN_OK, KILN_EEXIST or KILN_EINVAL with kiln_app_errmsg.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_model_register(kiln_app *app,
    const kiln_model *m);

/* Returns the field named name (or "pk"), or NULL. */
KILN_API const kiln_field *kiln_model_field(const kiln_model *m,
    const char *name);

/*
 * Creates the tables (and indexes) of every registered model that the
 * routers allow on alias (NULL: "default") and that does not exist yet;
 * drop_tables drops them, in reverse order. For tests and bootstrapping
 * until migrations are written. Returns KILN_OK or KILN_EDB.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_orm_create_tables(kiln_app *app,
    const char *alias);
KILN_API KILN_WARN_UNUSED kiln_err kiln_orm_drop_tables(kiln_app *app,
    const char *alias);

/*
 * Migrations (docs/database.md). makemigrations compares the models of
 * app_label with the state its migration files record (under the
 * database.migrations directory) and writes the difference as the next
 * file; *written is its path (app arena), or NULL when nothing changed.
 * migrate applies app_label's pending migrations on alias (NULL:
 * "default"; app_label NULL: every app with migrations), or, with a
 * target ("0001_initial", "0001", or "zero"), applies or rolls back to
 * it. Both return KILN_OK or an error with kiln_app_errmsg.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_orm_makemigrations(kiln_app *app,
    const char *app_label, const char **written);
KILN_API KILN_WARN_UNUSED kiln_err kiln_orm_migrate(kiln_app *app,
    const char *alias, const char *app_label, const char *target);

/* ---- rows ---------------------------------------------------------- */

/* A model instance; lives in an arena, never freed by hand. */
typedef struct kiln_row kiln_row;

/*
 * Creates an unsaved row of m in a, with every field at its default
 * (NULL when it has none). Returns NULL with kiln_app_errmsg when m is
 * not registered or memory ran out.
 */
KILN_API kiln_row *kiln_row_new(kiln_app *app, kiln_arena *a,
    const kiln_model *m);

/* The row's model, and the alias it was loaded from or saved to (or NULL). */
KILN_API const kiln_model *kiln_row_model(const kiln_row *r);
KILN_API const char *kiln_row_db(const kiln_row *r);

/*
 * Sets a field, converting and validating v for it (an int from "12", a
 * date must be a real date, max_length, choices, email, slug, JSON
 * syntax). v is copied. NULL v (or a null value) sets NULL, which needs
 * KILN_F_NULL. An FK may be set by its name or its column ("author" or
 * "author_id") to the related primary key. Returns KILN_OK, KILN_ENOTFOUND
 * (no such field) or KILN_EINVAL, with kiln_app_errmsg naming the field.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_row_set(kiln_row *r, const char *field,
    const kiln_val *v);
KILN_API KILN_WARN_UNUSED kiln_err kiln_row_set_int(kiln_row *r,
    const char *field, int64_t i);
KILN_API KILN_WARN_UNUSED kiln_err kiln_row_set_str(kiln_row *r,
    const char *field, const char *s);
KILN_API KILN_WARN_UNUSED kiln_err kiln_row_set_float(kiln_row *r,
    const char *field, double f);
KILN_API KILN_WARN_UNUSED kiln_err kiln_row_set_bool(kiln_row *r,
    const char *field, bool b);

/*
 * Reads a field: the value (INT for integer kinds and FKs, FLOAT, BOOL,
 * STR for the rest, NULL), or NULL when there is no such field. The
 * typed forms return 0, 0.0, false or "" for NULL and unknown fields.
 */
KILN_API const kiln_val *kiln_row_get(const kiln_row *r, const char *field);
KILN_API int64_t kiln_row_int(const kiln_row *r, const char *field);
KILN_API double kiln_row_float(const kiln_row *r, const char *field);
KILN_API bool kiln_row_bool(const kiln_row *r, const char *field);
KILN_API const char *kiln_row_str(const kiln_row *r, const char *field);

/*
 * FILE fields (Django's FileField). A FILE value is a relative name under
 * app.media_root ("avatars/ann.png"); names with "..", a leading '/',
 * backslashes or control characters are refused when set.
 *
 * kiln_row_file_save writes data as a new file in media_root/upload_to
 * named after filename (reduced to its last segment and to letters,
 * digits, '-', '_' and '.', as Django's get_valid_filename; a name taken
 * already gets "_" and 7 random letters before its extension), then sets
 * the field to its name. It does not save the row. Returns KILN_OK,
 * KILN_EINVAL (no such FILE field, or nothing left of filename) or
 * KILN_EIO, with the message on the app.
 *
 * kiln_row_file_url returns app.media_url + the name, percent-encoded
 * ("" when empty), and kiln_row_file_path media_root/name, both in the
 * row's arena.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_row_file_save(kiln_row *r,
    const char *field, const char *filename, kiln_str data);
KILN_API const char *kiln_row_file_url(const kiln_row *r, const char *field);
KILN_API const char *kiln_row_file_path(const kiln_row *r, const char *field);
KILN_API bool kiln_row_is_null(const kiln_row *r, const char *field);

/* The primary key (0 while unsaved). */
KILN_API int64_t kiln_row_pk(const kiln_row *r);

/*
 * The row an FK field points at: from select_related when it was used,
 * else fetched now (and kept). *out is NULL when the key is NULL.
 * Returns KILN_OK, KILN_ENOTFOUND (dangling key) or KILN_EDB.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_row_related(kiln_row *r, const char *fk,
    kiln_row **out);

/*
 * The rows of another model whose FK points at r, by reverse name
 * ("comment_set", or the FK's related_name), in that model's order: from
 * prefetch_related when it was used, else fetched now (and kept). In r's
 * arena. Returns KILN_OK, KILN_ENOTFOUND (no such relation) or KILN_EDB.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_row_reverse(kiln_row *r,
    const char *name, kiln_row ***rows, size_t *n);

/*
 * Many-to-many: add or remove the link between r and the row of the
 * related model whose key is pk (adding twice is a no-op, as in Django),
 * remove all of r's links, or list the related rows (in the related
 * model's order, one query). name is the m2m's name on r's model, or its
 * reverse name on the other side ("post_set"). r must be saved. Each
 * returns KILN_OK, KILN_ENOTFOUND (no such relation) or KILN_EDB.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_row_m2m_add(kiln_row *r,
    const char *name, int64_t pk);
KILN_API KILN_WARN_UNUSED kiln_err kiln_row_m2m_remove(kiln_row *r,
    const char *name, int64_t pk);
KILN_API KILN_WARN_UNUSED kiln_err kiln_row_m2m_clear(kiln_row *r,
    const char *name);
KILN_API KILN_WARN_UNUSED kiln_err kiln_row_m2m(kiln_row *r, const char *name,
    kiln_row ***rows, size_t *n);

/*
 * Saves the row: an UPDATE when it has a primary key (an INSERT when no
 * row matched), else an INSERT that sets the key. auto_now fields are
 * set first. Sends pre_save and post_save (kiln_orm_event, sender the
 * model). The database is alias if not NULL, else the routers' choice
 * for writes, else the row's own, else "default".
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_row_save(kiln_row *r);
KILN_API KILN_WARN_UNUSED kiln_err kiln_row_save_using(kiln_row *r,
    const char *alias);

/*
 * Deletes the row and, in one transaction, what points at it per each
 * FK's on_delete (CASCADE deletes row by row, with signals; PROTECT
 * refuses with KILN_EINVAL and a message naming the model; SET_NULL
 * updates). Sends pre_delete and post_delete. The row's key becomes NULL.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_row_delete(kiln_row *r);

/*
 * Inserts n rows of one model with multi-row INSERTs (Django's
 * bulk_create): no signals, and the keys of rows without one stay unset.
 * On the routers' write database. Returns KILN_OK, KILN_EINVAL or KILN_EDB.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_orm_bulk_create(kiln_row **rows,
    size_t n);

/*
 * Writes the named fields (NULL-ended; an FK by its name or column) of
 * n saved rows of one model by primary key (Django's bulk_update): one UPDATE
 * per batch of at most 500 rows and 30000 parameters, each column set by CASE
 * WHEN "pk" = ? THEN ? ... ELSE the column END, WHERE "pk" IN (...); several
 * batches run in one transaction (a savepoint inside an open one). Each value
 * is checked as kiln_row_set checks it (NULL allowed, length, choices) before
 * anything is sent, so a refused value writes nothing. Like Django: no signals,
 * and auto_now fields are not set (a named one is written as the row
 * holds it). A key given twice is written once, with the values of its
 * first row. *matched (may be NULL) gets the distinct rows matched; rows
 * whose key is not in the table are skipped, not inserted. On the routers'
 * write database. n == 0 does nothing (the names are not checked).
 * Returns KILN_OK, KILN_ENOTFOUND (an unknown field), KILN_EINVAL (rows of
 * two models, a row without a key, the primary key named, no fields, a
 * refused value), KILN_ENOMEM or KILN_EDB, with kiln_app_errmsg.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_orm_bulk_update(kiln_row **rows,
    size_t n, int64_t *matched, const char *field, ...);

/* Reloads every field from the database. KILN_ENOTFOUND when it is gone. */
KILN_API KILN_WARN_UNUSED kiln_err kiln_row_refresh(kiln_row *r);

/*
 * The row as a map (field name to value; FKs under their column name,
 * and related rows loaded by select_related under the field name). JSON
 * fields are parsed. In the row's arena; NULL when out of memory.
 */
KILN_API kiln_val *kiln_row_val(const kiln_row *r);

/* What pre_save, post_save, pre_delete and post_delete receive as args. */
typedef struct kiln_orm_event {
	const kiln_model *model; /* the row's model (also the sender) */
	kiln_row *row;		 /* the row */
	bool created;		 /* save: the row is (being) inserted */
	const char *alias;	 /* the database */
} kiln_orm_event;

/* ---- QuerySets ----------------------------------------------------- */

/* Aggregate functions (aggregate and annotate). */
typedef enum kiln_agg {
	KILN_AGG_COUNT, /* non-null values (int) */
	KILN_AGG_SUM,	/* int for integer fields, else float/decimal text */
	KILN_AGG_AVG,	/* float */
	KILN_AGG_MIN,	/* the field's type */
	KILN_AGG_MAX,	/* the field's type */
	KILN_AGG__MAX
} kiln_agg;

typedef struct kiln_qs kiln_qs;
typedef struct kiln_q kiln_q;

/*
 * A QuerySet over every row of m, in arena a. Builders return a new
 * QuerySet (the old one is unchanged, as in Django) in the same arena,
 * or NULL when out of memory; every builder and evaluator accepts NULL
 * and then fails with KILN_ENOMEM. Nothing runs until an evaluator is
 * called, and the rows of kiln_qs_all are kept for the next call.
 */
KILN_API kiln_qs *kiln_qs_new(kiln_app *app, kiln_arena *a,
    const kiln_model *m);

/* The same in req's arena (Post.objects in a view). */
KILN_API kiln_qs *kiln_objects(kiln_req *req, const kiln_model *m);

/*
 * Conditions. A lookup is "field", "field__op" or a path across foreign
 * keys, "author__name__icontains", and
 * back along reverse relations, "posts__title" (filter only: exclude and
 * NOT across a reverse relation return KILN_EUNSUPPORTED; like Django,
 * a parent matching through several children appears once per child). Ops:
 * exact (the default), iexact, contains, icontains, startswith, istartswith,
 * endswith, iendswith, in (v a list), gt, gte, lt, lte, range (v a list of
 * two), isnull (v a bool). v (NULL means a null value) must outlive the
 * QuerySet. A null exact is IS NULL, as in Django.
 */
KILN_API kiln_q *kiln_q_new(kiln_arena *a, const char *lookup,
    const kiln_val *v);
KILN_API kiln_q *kiln_q_and(kiln_arena *a, kiln_q *x, kiln_q *y);
KILN_API kiln_q *kiln_q_or(kiln_arena *a, kiln_q *x, kiln_q *y);
KILN_API kiln_q *kiln_q_not(kiln_arena *a, kiln_q *x);

KILN_API kiln_qs *kiln_qs_filter(kiln_qs *qs, const char *lookup,
    const kiln_val *v);
KILN_API kiln_qs *kiln_qs_filter_i(kiln_qs *qs, const char *lookup, int64_t i);
KILN_API kiln_qs *kiln_qs_filter_s(kiln_qs *qs, const char *lookup,
    const char *s);
KILN_API kiln_qs *kiln_qs_exclude(kiln_qs *qs, const char *lookup,
    const kiln_val *v);
KILN_API kiln_qs *kiln_qs_where(kiln_qs *qs, kiln_q *q);

/*
 * Orders by fields ("-created" descending, "author__name" across an FK),
 * replacing any earlier order and the model's default. NULL-ended.
 */
KILN_API kiln_qs *kiln_qs_order_by(kiln_qs *qs, const char *field, ...);

/*
 * Python's qs[start:stop]: LIMIT/OFFSET. stop -1 means no end; other
 * negative values are refused when the QuerySet runs (as Django refuses
 * negative indexing). A slice of a slice is relative to it.
 */
KILN_API kiln_qs *kiln_qs_slice(kiln_qs *qs, int64_t start, int64_t stop);

/*
 * Loads related rows with one extra query per name after the main one:
 * a forward FK of this model ("author"), or a reverse relation, which is
 * the related_name of another model's FK to this one or, without one,
 * that model's name in lower case with "_set" ("comment_set"), or a
 * many-to-many relation (either side). Read them with kiln_row_related,
 * kiln_row_reverse and kiln_row_m2m.
 */
KILN_API kiln_qs *kiln_qs_prefetch_related(kiln_qs *qs, const char *name);

/* Loads the rows behind an FK path ("author", "author__team") by JOIN. */
KILN_API kiln_qs *kiln_qs_select_related(kiln_qs *qs, const char *path);

/*
 * Adds a per-row aggregate named name (not a field's name) of path, a
 * field across FKs or reverse relations ("posts", "posts__views"), as
 * Django's annotate(Count("posts")): the query is grouped by the row.
 * Read it with kiln_row_get(row, name); order_by accepts the name.
 */
KILN_API kiln_qs *kiln_qs_annotate(kiln_qs *qs, const char *name, kiln_agg agg,
    const char *path);

/* SELECT DISTINCT. */
KILN_API kiln_qs *kiln_qs_distinct(kiln_qs *qs);

/* Runs on alias instead of the routers' choice. */
KILN_API kiln_qs *kiln_qs_using(kiln_qs *qs, const char *alias);

/*
 * Evaluators. all: the rows (in the QuerySet's arena). count, exists.
 * get: exactly one row, else KILN_ENOTFOUND ("Post matching query does
 * not exist") or KILN_ELIMIT ("get() returned more than one Post").
 * first/last: by the order (the primary key when unordered); *out NULL
 * when there are no rows. Each returns KILN_OK, KILN_EINVAL (a bad
 * lookup, found when the query is compiled) or KILN_EDB.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_qs_all(kiln_qs *qs, kiln_row ***rows,
    size_t *n);
KILN_API KILN_WARN_UNUSED kiln_err kiln_qs_count(kiln_qs *qs, int64_t *n);
KILN_API KILN_WARN_UNUSED kiln_err kiln_qs_exists(kiln_qs *qs, bool *yes);
KILN_API KILN_WARN_UNUSED kiln_err kiln_qs_get(kiln_qs *qs, kiln_row **out);
KILN_API KILN_WARN_UNUSED kiln_err kiln_qs_first(kiln_qs *qs, kiln_row **out);
KILN_API KILN_WARN_UNUSED kiln_err kiln_qs_last(kiln_qs *qs, kiln_row **out);

/*
 * Computes one aggregate of field (a path across FKs allowed) over the
 * QuerySet's rows. *out is a null value when there are no rows (except
 * COUNT, which is 0).
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_qs_aggregate(kiln_qs *qs, kiln_agg agg,
    const char *field, kiln_val **out);

/*
 * values() and values_list(): a list with one map (path to value) or one
 * list per row, of the fields named (NULL-ended, paths across FKs
 * allowed; none named: every field, FKs under their column name). In
 * the QuerySet's arena.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_qs_values(kiln_qs *qs, kiln_val **out,
    const char *field, ...);
KILN_API KILN_WARN_UNUSED kiln_err kiln_qs_values_list(kiln_qs *qs,
    kiln_val **out, const char *field, ...);

/*
 * UPDATE of one field on every matching row (no signals, as in Django);
 * *n gets the rows matched (may be NULL).
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_qs_update(kiln_qs *qs,
    const char *field, const kiln_val *v, int64_t *n);

/* Deletes every matching row as kiln_row_delete does; *n may be NULL. */
KILN_API KILN_WARN_UNUSED kiln_err kiln_qs_delete(kiln_qs *qs, int64_t *n);

/*
 * The SELECT the QuerySet runs and its parameter count (for tests and
 * debugging); the SQL is in the QuerySet's arena.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_qs_sql(kiln_qs *qs, const char *vendor,
    kiln_str *sql, size_t *nparams);

/* ---- generic views ---------------------------------------------------- */

/*
 * ListView: a view calls kiln_render_list(req, &spec) with a static
 * const spec. The context has object_list and <context_name> (default
 * "<model>_list", lower case): lists of row maps (kiln_row_val), and
 * with paginate_by, page_obj (number, num_pages, count, has_next,
 * has_previous, has_other_pages, next_page_number,
 * previous_page_number, start_index, end_index) and is_paginated. The
 * page is ?page=N or ?page=last; another value is a 404. The template
 * defaults to "<app_label>/<model>_list.html" in lower case.
 * Renders with kiln_render (kiln_templates must be in use). May abort.
 */
typedef struct kiln_list_view {
	const kiln_model *model;	     /* the rows */
	const char *template_name;	     /* or NULL: the default */
	size_t paginate_by;		     /* rows per page (0: one page) */
	const char *context_name;	     /* or NULL: "<model>_list" */
	kiln_qs *(*queryset)(kiln_req *req); /* or NULL: every row */
} kiln_list_view;

KILN_API kiln_resp *kiln_render_list(kiln_req *req, const kiln_list_view *v);

/*
 * DetailView: the row whose key is the route argument pk_arg (default
 * "pk"), or whose slug_field (default "slug") is the argument slug_arg,
 * as object and <context_name> (default the model's name in lower
 * case); 404 when there is none. The template defaults to
 * "<app_label>/<model>_detail.html". May abort.
 */
typedef struct kiln_detail_view {
	const kiln_model *model;	     /* the rows */
	const char *template_name;	     /* or NULL: the default */
	const char *pk_arg;		     /* or NULL: "pk" */
	const char *slug_arg;		     /* or NULL: look up by key */
	const char *slug_field;		     /* or NULL: "slug" */
	const char *context_name;	     /* or NULL: "<model>" */
	kiln_qs *(*queryset)(kiln_req *req); /* or NULL: every row */
} kiln_detail_view;

KILN_API kiln_resp *kiln_render_detail(kiln_req *req,
    const kiln_detail_view *v);

/*
 * In a view: the one row of qs, or abort with 404 (none, or more than
 * one) or 500 (a database error). May abort.
 */
KILN_API kiln_row *kiln_get_or_404(kiln_req *req, kiln_qs *qs);

#ifdef __cplusplus
}
#endif
#endif /* KILN_ORM_H */
