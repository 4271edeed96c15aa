/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Internals of the ORM: the per-model metadata computed at registration,
 * the layouts of rows, conditions and QuerySets, value conversion between
 * C, rows and the database, and the SQL compiler's interface.
 */
#ifndef KILN_ORM_INT_H
#define KILN_ORM_INT_H

#include <kiln/kiln.h>
#include <kiln/orm.h>

#include "db_int.h"

#define KILN__ORM_MAXJOIN   16	  /* joins in one query */
#define KILN__ORM_MAXVALUES 64	  /* columns of values() */
#define KILN__ORM_MAXANN    16	  /* annotations of one QuerySet */
#define KILN__ORM_MAXPARAMS 30000 /* bulk statements (SQLite: 32766) */

/* What registration computed for a model. */
typedef struct kiln__meta {
	const kiln_model *m;		   /* the model */
	const char **cols;		   /* column name of each field */
	size_t pk;			   /* index of the primary key field */
	const struct kiln__meta **through; /* per m2m: its link model */
} kiln__meta;

/*
 * A many-to-many relation seen from one model: the link model, and the
 * indexes of the link's FK to this side (1 or 2) and to the other side.
 */
typedef struct kiln__m2mref {
	const kiln__meta *link; /* the link model */
	size_t self, other;	/* FK field indexes in the link model */
	const kiln__meta *to;	/* the other side's model */
} kiln__m2mref;

/* Finds the m2m relation called name on m (or its reverse name). */
bool kiln__orm_m2m(kiln_app *app, const kiln_model *m, const char *name,
    kiln__m2mref *ref);

/* Registers the link models of m's m2m relations (model.c). */
kiln_err kiln__orm_m2m_register(kiln_app *app, kiln__meta *mt);

/* The rows of a reverse relation, kept on the row they point at. */
typedef struct kiln__rset {
	const char *name;	 /* "comment_set" */
	kiln_row **rows;	 /* the rows */
	size_t n;		 /* count */
	struct kiln__rset *next; /* the row's next set */
} kiln__rset;

struct kiln_row {
	kiln_app *app;		      /* the app */
	kiln_arena *a;		      /* owner of everything here */
	const kiln__meta *mt;	      /* the model */
	kiln_val *vals;		      /* one value per field, canonical form */
	kiln_row **rel;		      /* per field: the related row, or NULL */
	struct kiln__rset *sets;      /* reverse relations loaded */
	kiln_val *ann;		      /* annotate(): one value per name */
	const char *const *ann_names; /* their names */
	size_t nann;		      /* entries */
	const char *db;		      /* alias it came from or went to */
};

/*
 * True when s is a safe stored-file name (file.c): relative, no "." or
 * ".." segment, no empty segment, no backslash or control character.
 */
bool kiln__file_name_ok(kiln_str s);

enum { KILN__Q_LEAF, KILN__Q_AND, KILN__Q_OR, KILN__Q_NOT };

struct kiln_q {
	int kind;	    /* KILN__Q_* */
	const char *lookup; /* LEAF: "author__name__icontains" */
	const kiln_val *v;  /* LEAF: the value (NULL: null) */
	kiln_q *x, *y;	    /* AND/OR: both; NOT: x */
};

struct kiln_qs {
	kiln_app *app;		/* the app */
	kiln_arena *a;		/* everything of this QuerySet */
	const kiln__meta *mt;	/* the model */
	kiln_q *where;		/* the conditions, or NULL */
	const char **order;	/* order_by items */
	size_t norder;		/* entries in order */
	bool order_set;		/* order_by was called */
	int64_t lo, hi;		/* slice; hi < 0: open */
	const char **related;	/* select_related paths */
	size_t nrelated;	/* entries */
	const char **prefetch;	/* prefetch_related names */
	const char **ann_names; /* annotate(): names */
	const char **ann_paths; /* annotate(): what each aggregates */
	kiln_agg *ann_aggs;	/* annotate(): the functions */
	size_t nann;		/* annotate(): entries */
	size_t nprefetch;	/* entries */
	bool distinct;		/* SELECT DISTINCT */
	const char **vfields;	/* VALUES: the field paths */
	size_t nvfields;	/* entries */
	const char *alias;	/* using(), or NULL */
	kiln_err err;		/* a builder's failure, reported later */
	const char *errmsg;	/* its message */
	kiln_row **rows;	/* fetched rows */
	size_t nrows;		/* count */
	bool fetched;		/* rows is valid */
};

/* What the compiler makes. */
typedef enum kiln__sqlmode {
	KILN__SQL_SELECT, /* rows (with select_related columns) */
	KILN__SQL_COUNT,  /* SELECT COUNT(*) */
	KILN__SQL_EXISTS, /* SELECT 1 ... LIMIT 1 */
	KILN__SQL_AGG,	  /* SELECT AGG(field) */
	KILN__SQL_PKS,	  /* SELECT pk */
	KILN__SQL_UPDATE, /* UPDATE ... SET field = ? */
	KILN__SQL_VALUES, /* SELECT of qs->vfields */
} kiln__sqlmode;

/* One select_related row in a result: where its columns start. */
typedef struct kiln__relplan {
	const kiln__meta *mt; /* its model */
	int parent;	      /* -1: the base row, else a relplan index */
	size_t fk;	      /* the FK field in the parent's model */
	size_t col0;	      /* first column */
} kiln__relplan;

typedef struct kiln__sql {
	kiln_buf b;		 /* the statement */
	const kiln_val **params; /* bound values, in order */
	size_t nparams, capparams;
	kiln__relplan rel[KILN__ORM_MAXJOIN]; /* select_related rows */
	size_t nrel;			      /* entries in rel */
	bool empty; /* the result is known to be empty */
	const kiln_field *vf[KILN__ORM_MAXVALUES]; /* VALUES: each column's */
	const kiln_field *af[KILN__ORM_MAXANN];	   /* annotations' fields */
	size_t ann_col0; /* SELECT: the first annotation column */
} kiln__sql;

/*
 * Compiles qs for vendor ("sqlite", "mysql"). For AGG, agg and field
 * say what; for UPDATE, field and v. ordmode 1 orders by the primary key
 * when nothing else orders (first()), 2 also reverses the order (last()).
 * Returns KILN_OK or KILN_EINVAL / KILN_ENOMEM with kiln_app_errmsg.
 */
kiln_err kiln__orm_compile(kiln_qs *qs, const char *vendor, kiln__sqlmode mode,
    kiln_agg agg, const char *field, const kiln_val *v, int ordmode,
    kiln__sql *out);

/* Returns the metadata of a registered model, or NULL with a message. */
const kiln__meta *kiln__orm_meta(kiln_app *app, const kiln_model *m);

/* True when s is a name fit for SQL: letters, digits, single '_'. */
bool kiln__orm_ident_ok(const char *s);

/* Returns the index of field name (or "pk", or an FK's column), or -1. */
long kiln__orm_field_index(const kiln_model *m, const char *name);

/*
 * Converts v to the canonical value of field f (into *out, strings in a).
 * strict also checks what saving checks (length, choices, formats, NULL
 * allowed). Returns KILN_OK or KILN_EINVAL with kiln_app_errmsg.
 */
kiln_err kiln__orm_clean(kiln_app *app, kiln_arena *a, const kiln_model *m,
    const kiln_field *f, const kiln_val *v, bool strict, kiln_val *out);

/* Returns the value to bind for a canonical value of f (in a), or NULL. */
const kiln_val *kiln__orm_bind(kiln_arena *a, const kiln_field *f,
    const kiln_val *v);

/* Converts a database value of f to its canonical form. */
kiln_err kiln__orm_from_db(kiln_arena *a, const kiln_field *f,
    const kiln_val *in, kiln_val *out);

/* Builds a row of mt from ncols database values (NULL when out of memory). */
kiln_row *kiln__orm_row_load(kiln_app *app, kiln_arena *a, const kiln__meta *mt,
    const kiln_val *vals, const char *alias);

/* Runs sql on c and returns every row (values per row) in a. */
kiln_err kiln__orm_run(kiln_db_conn *c, kiln_arena *a, const kiln__sql *s,
    kiln_val ***rows, size_t *n, int64_t *affected, int64_t *insert_id);

/*
 * Starts a hand-built statement (row.c, bulk.c): s is emptied, its text
 * gets room for len bytes and its parameters room for cap, all in a.
 * KILN_ENOMEM when the parameter array cannot be had.
 */
kiln_err kiln__orm_sql_start(kiln__sql *s, kiln_arena *a, size_t len,
    size_t cap);

/*
 * Rows per statement for a multi-row write binding per parameters a row:
 * at most max, under KILN__ORM_MAXPARAMS, and never less than one.
 */
size_t kiln__orm_batch_rows(size_t per, size_t max);

/* The write alias for a row of m: explicit, router, own, "default". */
const char *kiln__orm_write_alias(kiln_app *app, const kiln_model *m,
    const char *explicit_alias, const char *own);

/*
 * Finds the reverse relation name of model m: the model holding the FK
 * and the FK's index. Returns false when there is none.
 */
bool kiln__orm_reverse(kiln_app *app, const kiln_model *m, const char *name,
    const kiln__meta **from, size_t *fk);

/* Loads the prefetch_related names of qs onto rows (n of them). */
kiln_err kiln__orm_prefetch(kiln_qs *qs, kiln_row **rows, size_t n,
    const char *alias);

/*
 * A table as the schema code sees it: what DDL needs of a model, also
 * what a migration file records (src/orm/migrate.c), so both paths make
 * the same tables.
 */
typedef struct kiln__col {
	const char *name;	 /* field name */
	const char *column;	 /* column name */
	kiln_field_type type;	 /* the field's type */
	unsigned flags;		 /* KILN_F_NULL, _UNIQUE, _INDEX, _PK only */
	unsigned max_length;	 /* CHAR/EMAIL/SLUG */
	unsigned max_digits;	 /* DECIMAL */
	unsigned decimal_places; /* DECIMAL */
	const char *def;	 /* default text: fills a new column */
	const char *ref_table;	 /* FK: the referenced table */
	const char *ref_column;	 /* FK: its key column */
} kiln__col;

typedef struct kiln__table {
	const char *app;       /* app_label */
	const char *model;     /* model name */
	const char *table;     /* table name */
	kiln__col *cols;       /* columns in order */
	size_t ncols;	       /* entries */
	const char **together; /* unique groups of columns, "a_id,b" */
	size_t ntogether;      /* entries */
} kiln__table;

#define KILN__SCHEMA_FLAGS \
	(KILN_F_NULL | KILN_F_UNIQUE | KILN_F_INDEX | KILN_F_PK)

/* Describes registered model mt as a table (in a). */
kiln_err kiln__table_from_meta(kiln_app *app, kiln_arena *a,
    const kiln__meta *mt, kiln__table *t);

/* Appends CREATE TABLE for t, named name (NULL: t's own name). */
void kiln__schema_create(kiln_buf *b, const kiln__table *t, bool mysql,
    const char *name);

/* Appends one column definition ("title" VARCHAR(200) NOT NULL). */
void kiln__schema_coldef(kiln_buf *b, const kiln__col *c, bool mysql);

/* Creates the indexes of t (INDEX fields, and FK columns on SQLite). */
kiln_err kiln__schema_indexes(kiln_db_conn *c, const kiln__table *t);

/* Field type names in migration files ("char"), and back (-1: unknown). */
const char *kiln__type_name(kiln_field_type t);
int kiln__type_parse(const char *s);

/* ---- migrations (migfile.c, migrate.c) ---- */

/* One migration file, read. */
typedef struct kiln__migration {
	const char *name; /* "0001_initial" */
	kiln_val *ops;	  /* the operations, a list of maps */
} kiln__migration;

enum {
	KILN__OP_CREATE,
	KILN__OP_DROP,
	KILN__OP_ADD,
	KILN__OP_REMOVE,
	KILN__OP_ALTER
};

/* One operation, parsed; from/to are the column before and after. */
typedef struct kiln__op {
	int kind;	   /* KILN__OP_* */
	const char *table; /* the table */
	kiln__table *t;	   /* CREATE/DROP: the whole table */
	kiln__col *from;   /* REMOVE, ALTER: the column before */
	kiln__col *to;	   /* ADD, ALTER: the column after */
} kiln__op;

/* The tables a run of migrations leaves (the "recorded state"). */
typedef struct kiln__state {
	kiln__ptrs tables; /* kiln__table */
	kiln_arena *a;	   /* everything here */
} kiln__state;

/* Reads app_label's migration files, sorted by name, into *out (in a). */
kiln_err kiln__mig_load(kiln_app *app, kiln_arena *a, const char *app_label,
    kiln__migration **out, size_t *n);

/* Parses an operation of a migration file (checking every name). */
kiln_err kiln__op_parse(kiln_app *app, kiln_arena *a, const kiln_val *v,
    kiln__op *op);

/* Turns op into the operation that undoes it. */
void kiln__op_invert(kiln__op *op);

/* Applies op to st. KILN_EINVAL when it does not fit (a missing table). */
kiln_err kiln__state_apply(kiln_app *app, kiln__state *st, const kiln__op *op);

/*
 * Replays the operations of m[0..n) into st, which it empties first (its
 * tables go in a): the state those migrations leave.
 */
kiln_err kiln__state_replay(kiln_app *app, kiln_arena *a,
    const kiln__migration *m, size_t n, kiln__state *st);

/* The table named name in st, or NULL. */
kiln__table *kiln__state_find(const kiln__state *st, const char *name);

/* Every registered model (for on_delete). */
const kiln__ptrs *kiln__orm_models(kiln_app *app);

#endif /* KILN_ORM_INT_H */
