/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The MySQL/MariaDB driver (kiln_db_mysql) over MariaDB Connector/C,
 * with server-side prepared statements (mysql_stmt_*). Each session is
 * set to ANSI_QUOTES (so identifiers are quoted with " on every backend),
 * strict mode, UTC and READ COMMITTED, and connects with
 * CLIENT_FOUND_ROWS so an UPDATE reports the rows it matched (save()
 * relies on that). Results are stored client-side (mysql_stmt_store_result)
 * so another statement may run while a cursor is open. Integer columns
 * are fetched as integers, floating ones as doubles, everything else
 * (DECIMAL, dates, text) as text; a value longer than its buffer is
 * fetched again with mysql_stmt_fetch_column and the buffer grows.
 * Statement state lives in the arena the caller gives to prepare.
 * Auto-reconnect stays off: a reconnect invalidates prepared statements,
 * so src/db/conn.c reopens the connection itself.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <kiln/kiln.h>

#include "db_int.h"

#define MY_INITBUF 256

/* A connection and the code of its last error. */
typedef struct my_conn {
	MYSQL *m;      /* the connection */
	unsigned last; /* last error number, 0 when none */
} my_conn;

/* The kinds a column is fetched as. */
enum { MY_NULL, MY_INT, MY_FLOAT, MY_STR };

/* A prepared statement with its result bindings. */
typedef struct my_stmt {
	MYSQL_STMT *st;	     /* the statement */
	my_conn *c;	     /* its connection */
	kiln_arena *per;     /* owns everything below */
	unsigned ncols;	     /* result columns (0: none) */
	unsigned nparams;    /* placeholders */
	MYSQL_BIND *rb;	     /* result bindings */
	int *kind;	     /* MY_* per column */
	long long *ints;     /* MY_INT storage */
	double *dbls;	     /* MY_FLOAT storage */
	char **bufs;	     /* MY_STR storage */
	unsigned long *lens; /* value lengths */
	my_bool *nulls;	     /* NULL flags */
	my_bool *errs;	     /* truncation flags */
	const char **names;  /* column names */
	bool stored;	     /* a result set is held */
} my_stmt;

static kiln_err
my_fail(my_conn *c, MYSQL_STMT *st, const char *what, char *err, size_t errlen)
{
	if (st != NULL) {
		c->last = mysql_stmt_errno(st);
		kiln__db_seterr(err, errlen, "mysql: %s: %s (%u)", what,
		    mysql_stmt_error(st), c->last);
	} else {
		c->last = mysql_errno(c->m);
		kiln__db_seterr(err, errlen, "mysql: %s: %s (%u)", what,
		    mysql_error(c->m), c->last);
	}
	return KILN_EDB;
}

static kiln_err
my_open(const kiln_db_url *url, int64_t busy_ms, kiln_arena *per, void **conn,
    char *err, size_t errlen)
{
	static const char *const init[] = {
		"SET SESSION sql_mode = 'ANSI_QUOTES,STRICT_ALL_TABLES,"
		"NO_BACKSLASH_ESCAPES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
		"ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
		"SET SESSION time_zone = '+00:00'",
		"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
	};
	unsigned timeout = 10;
	my_conn *c;
	size_t i;

	(void)busy_ms;
	if ((c = kiln_arena_calloc(per, 1, sizeof(*c))) == NULL)
		return KILN_ENOMEM;
	if ((c->m = mysql_init(NULL)) == NULL) {
		kiln__db_seterr(err, errlen, "mysql: init: out of memory");
		return KILN_ENOMEM;
	}
	mysql_options(c->m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(c->m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	if (mysql_real_connect(c->m, url->host, url->user, url->password,
		url->name, url->port, url->socket, CLIENT_FOUND_ROWS) == NULL) {
		kiln__db_seterr(err, errlen, "mysql: connect to %s: %s",
		    url->socket != NULL	  ? url->socket :
			url->host != NULL ? url->host :
					    "localhost",
		    mysql_error(c->m));
		goto err;
	}
	for (i = 0; i < sizeof(init) / sizeof(init[0]); i++) {
		if (mysql_real_query(c->m, init[i], strlen(init[i])) != 0) {
			my_fail(c, NULL, init[i], err, errlen);
			goto err;
		}
	}
	*conn = c;
	return KILN_OK;
err:
	mysql_close(c->m);
	return KILN_EDB;
}

static void
my_close(void *conn)
{
	mysql_close(((my_conn *)conn)->m);
}

static kiln_err
my_exec(void *conn, const char *sql, char *err, size_t errlen)
{
	my_conn *c = conn;
	MYSQL_RES *res;

	c->last = 0;
	if (mysql_real_query(c->m, sql, strlen(sql)) != 0)
		return my_fail(c, NULL, sql, err, errlen);
	/* A statement that returns rows anyway: drop them. */
	if ((res = mysql_store_result(c->m)) != NULL)
		mysql_free_result(res);
	return KILN_OK;
}

/* Chooses how column f is fetched. */
static int
my_kind(const MYSQL_FIELD *f)
{
	switch (f->type) {
	case MYSQL_TYPE_TINY:
	case MYSQL_TYPE_SHORT:
	case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_LONGLONG:
	case MYSQL_TYPE_YEAR:
		return MY_INT;
	case MYSQL_TYPE_FLOAT:
	case MYSQL_TYPE_DOUBLE:
		return MY_FLOAT;
	case MYSQL_TYPE_NULL:
		return MY_NULL;
	default:
		return MY_STR;
	}
}

/*
 * Sets up the result bindings of s from its metadata: one kind and one
 * buffer per column, all in s->per.
 */
static kiln_err
my_bind_setup(my_stmt *s, MYSQL_RES *meta)
{
	MYSQL_FIELD *f;
	unsigned i, n = s->ncols;
	kiln_arena *a = s->per;

	s->rb = kiln_arena_calloc(a, n, sizeof(*s->rb));
	s->kind = kiln_arena_calloc(a, n, sizeof(*s->kind));
	s->ints = kiln_arena_calloc(a, n, sizeof(*s->ints));
	s->dbls = kiln_arena_calloc(a, n, sizeof(*s->dbls));
	s->bufs = kiln_arena_calloc(a, n, sizeof(*s->bufs));
	s->lens = kiln_arena_calloc(a, n, sizeof(*s->lens));
	s->nulls = kiln_arena_calloc(a, n, sizeof(*s->nulls));
	s->errs = kiln_arena_calloc(a, n, sizeof(*s->errs));
	s->names = kiln_arena_calloc(a, n, sizeof(*s->names));
	if (s->rb == NULL || s->kind == NULL || s->ints == NULL ||
	    s->dbls == NULL || s->bufs == NULL || s->lens == NULL ||
	    s->nulls == NULL || s->errs == NULL || s->names == NULL)
		return KILN_ENOMEM;
	f = mysql_fetch_fields(meta);
	for (i = 0; i < n; i++) {
		s->kind[i] = my_kind(&f[i]);
		if ((s->names[i] = kiln_arena_strdup(a, f[i].name)) == NULL)
			return KILN_ENOMEM;
		s->rb[i].length = &s->lens[i];
		s->rb[i].is_null = &s->nulls[i];
		s->rb[i].error = &s->errs[i];
		switch (s->kind[i]) {
		case MY_INT:
			s->rb[i].buffer_type = MYSQL_TYPE_LONGLONG;
			s->rb[i].buffer = &s->ints[i];
			s->rb[i].is_unsigned =
			    (f[i].flags & UNSIGNED_FLAG) != 0;
			break;
		case MY_FLOAT:
			s->rb[i].buffer_type = MYSQL_TYPE_DOUBLE;
			s->rb[i].buffer = &s->dbls[i];
			break;
		default:
			if ((s->bufs[i] = kiln_arena_alloc(a, MY_INITBUF)) ==
			    NULL)
				return KILN_ENOMEM;
			s->rb[i].buffer_type = MYSQL_TYPE_STRING;
			s->rb[i].buffer = s->bufs[i];
			s->rb[i].buffer_length = MY_INITBUF;
			break;
		}
	}
	return KILN_OK;
}

static kiln_err
my_prepare(void *conn, kiln_arena *per, kiln_str sql, void **stmt, char *err,
    size_t errlen)
{
	my_conn *c = conn;
	MYSQL_RES *meta = NULL;
	my_stmt *s;
	kiln_err rc;

	c->last = 0;
	if ((s = kiln_arena_calloc(per, 1, sizeof(*s))) == NULL)
		return KILN_ENOMEM;
	s->c = c;
	s->per = per;
	if ((s->st = mysql_stmt_init(c->m)) == NULL)
		return my_fail(c, NULL, "stmt_init", err, errlen);
	if (mysql_stmt_prepare(s->st, sql.ptr, sql.len) != 0) {
		rc = my_fail(c, s->st, "prepare", err, errlen);
		goto err;
	}
	s->nparams = (unsigned)mysql_stmt_param_count(s->st);
	s->ncols = mysql_stmt_field_count(s->st);
	if (s->ncols > 0) {
		if ((meta = mysql_stmt_result_metadata(s->st)) == NULL) {
			rc = my_fail(c, s->st, "metadata", err, errlen);
			goto err;
		}
		rc = my_bind_setup(s, meta);
		mysql_free_result(meta);
		if (rc != KILN_OK)
			goto err;
	}
	*stmt = s;
	return KILN_OK;
err:
	mysql_stmt_close(s->st);
	return rc;
}

/* Fills pb[i] for params[i]; integer storage comes from a. */
static kiln_err
my_bind_param(MYSQL_BIND *pb, const kiln_val *v, kiln_arena *a)
{
	long long *ip;
	double *dp;

	switch (v == NULL ? KILN_VAL_NULL : v->type) {
	case KILN_VAL_NULL:
		pb->buffer_type = MYSQL_TYPE_NULL;
		return KILN_OK;
	case KILN_VAL_BOOL:
	case KILN_VAL_INT:
		if ((ip = kiln_arena_alloc(a, sizeof(*ip))) == NULL)
			return KILN_ENOMEM;
		*ip = v->type == KILN_VAL_BOOL ? (v->u.b ? 1 : 0) : v->u.i;
		pb->buffer_type = MYSQL_TYPE_LONGLONG;
		pb->buffer = ip;
		return KILN_OK;
	case KILN_VAL_FLOAT:
		if ((dp = kiln_arena_alloc(a, sizeof(*dp))) == NULL)
			return KILN_ENOMEM;
		*dp = v->u.f;
		pb->buffer_type = MYSQL_TYPE_DOUBLE;
		pb->buffer = dp;
		return KILN_OK;
	case KILN_VAL_STR:
	case KILN_VAL_SAFE:
		pb->buffer_type = MYSQL_TYPE_STRING;
		/* Connector/C only reads the buffer; the cast drops const. */
		pb->buffer =
		    (void *)(uintptr_t)(v->u.s.ptr != NULL ? v->u.s.ptr : "");
		pb->buffer_length = v->u.s.len;
		return KILN_OK;
	default:
		return KILN_EINVAL;
	}
}

static kiln_err
my_execute(void *conn, void *stmt, kiln_arena *a, const kiln_val *const *params,
    size_t n, char *err, size_t errlen)
{
	my_conn *c = conn;
	my_stmt *s = stmt;
	MYSQL_BIND *pb = NULL;
	size_t i;

	c->last = 0;
	if (n != s->nparams) {
		kiln__db_seterr(err, errlen,
		    "mysql: %zu parameters given, %u placeholders", n,
		    s->nparams);
		return KILN_EINVAL;
	}
	if (s->stored) {
		mysql_stmt_free_result(s->st);
		s->stored = false;
	}
	if (n > 0) {
		if ((pb = kiln_arena_calloc(a, n, sizeof(*pb))) == NULL)
			return KILN_ENOMEM;
		for (i = 0; i < n; i++) {
			if (my_bind_param(&pb[i], params[i], a) != KILN_OK) {
				kiln__db_seterr(err, errlen,
				    "mysql: parameter %zu: cannot bind a %s",
				    i + 1, kiln_val_type_name(params[i]->type));
				return KILN_EINVAL;
			}
		}
		if (mysql_stmt_bind_param(s->st, pb) != 0)
			return my_fail(c, s->st, "bind", err, errlen);
	}
	if (mysql_stmt_execute(s->st) != 0)
		return my_fail(c, s->st, "execute", err, errlen);
	if (s->ncols == 0)
		return KILN_OK;
	if (mysql_stmt_store_result(s->st) != 0)
		return my_fail(c, s->st, "store_result", err, errlen);
	s->stored = true;
	if (mysql_stmt_bind_result(s->st, s->rb) != 0)
		return my_fail(c, s->st, "bind_result", err, errlen);
	return KILN_OK;
}

/*
 * Column i was longer than its buffer: fetches it whole into a, and
 * grows the buffer for the rows that follow.
 */
static kiln_err
my_refetch(my_stmt *s, unsigned i, kiln_arena *a, kiln_val *v)
{
	MYSQL_BIND b;
	unsigned long len = s->lens[i], got = 0;
	char *p, *grown;
	size_t cap;

	if ((p = kiln_arena_alloc(a, (size_t)len + 1)) == NULL)
		return KILN_ENOMEM;
	memset(&b, 0, sizeof(b));
	b.buffer_type = MYSQL_TYPE_STRING;
	b.buffer = p;
	b.buffer_length = len;
	b.length = &got;
	if (mysql_stmt_fetch_column(s->st, &b, i, 0) != 0)
		return KILN_EDB;
	p[len] = '\0';
	v->type = KILN_VAL_STR;
	v->u.s.ptr = p;
	v->u.s.len = len;
	cap = (size_t)len * 2 > (size_t)len ? (size_t)len * 2 : (size_t)len;
	if ((grown = kiln_arena_alloc(s->per, cap)) != NULL) {
		s->bufs[i] = grown;
		s->rb[i].buffer = grown;
		s->rb[i].buffer_length = cap;
		if (mysql_stmt_bind_result(s->st, s->rb) != 0)
			return KILN_EDB;
	}
	return KILN_OK;
}

/* Copies column i of the fetched row into v. */
static kiln_err
my_column(my_stmt *s, unsigned i, kiln_arena *a, kiln_val *v)
{
	char *p;

	v->a = a;
	if (s->nulls[i] || s->kind[i] == MY_NULL) {
		v->type = KILN_VAL_NULL;
		return KILN_OK;
	}
	if (s->kind[i] == MY_INT) {
		v->type = KILN_VAL_INT;
		v->u.i = s->ints[i];
		return KILN_OK;
	}
	if (s->kind[i] == MY_FLOAT) {
		v->type = KILN_VAL_FLOAT;
		v->u.f = s->dbls[i];
		return KILN_OK;
	}
	if (s->lens[i] > s->rb[i].buffer_length)
		return my_refetch(s, i, a, v);
	if ((p = kiln_arena_alloc(a, (size_t)s->lens[i] + 1)) == NULL)
		return KILN_ENOMEM;
	memcpy(p, s->bufs[i], s->lens[i]);
	p[s->lens[i]] = '\0';
	v->type = KILN_VAL_STR;
	v->u.s.ptr = p;
	v->u.s.len = s->lens[i];
	return KILN_OK;
}

static kiln_err
my_fetch(void *conn, void *stmt, kiln_arena *a, kiln_val **row, char *err,
    size_t errlen)
{
	my_conn *c = conn;
	my_stmt *s = stmt;
	kiln_val *r;
	unsigned i;
	int rc;
	kiln_err e;

	*row = NULL;
	if (!s->stored)
		return KILN_OK;
	rc = mysql_stmt_fetch(s->st);
	if (rc == MYSQL_NO_DATA)
		return KILN_OK;
	if (rc != 0 && rc != MYSQL_DATA_TRUNCATED)
		return my_fail(c, s->st, "fetch", err, errlen);
	if ((r = kiln_arena_calloc(a, s->ncols, sizeof(*r))) == NULL)
		return KILN_ENOMEM;
	for (i = 0; i < s->ncols; i++) {
		if ((e = my_column(s, i, a, &r[i])) != KILN_OK) {
			if (e == KILN_EDB)
				return my_fail(c, s->st, "fetch_column", err,
				    errlen);
			return e;
		}
	}
	*row = r;
	return KILN_OK;
}

static size_t
my_ncols(void *stmt)
{
	return ((my_stmt *)stmt)->ncols;
}

static const char *
my_colname(void *stmt, size_t i)
{
	my_stmt *s = stmt;

	return i < s->ncols ? s->names[i] : "";
}

static int64_t
my_affected(void *conn, void *stmt)
{
	(void)conn;
	return (int64_t)mysql_stmt_affected_rows(((my_stmt *)stmt)->st);
}

static int64_t
my_insert_id(void *conn, void *stmt)
{
	(void)conn;
	return (int64_t)mysql_stmt_insert_id(((my_stmt *)stmt)->st);
}

static void
my_reset(void *stmt)
{
	my_stmt *s = stmt;

	if (s->stored) {
		mysql_stmt_free_result(s->st);
		s->stored = false;
	}
}

static void
my_finalize(void *stmt)
{
	my_stmt *s = stmt;

	my_reset(s);
	mysql_stmt_close(s->st);
}

static int
my_lost(void *conn)
{
	switch (((my_conn *)conn)->last) {
	case CR_SERVER_GONE_ERROR:
		return 2;
	case CR_SERVER_LOST:
	case CR_CONN_HOST_ERROR:
	case CR_CONNECTION_ERROR:
	case ER_CONNECTION_KILLED:
	case 4031: /* ER_CLIENT_INTERACTION_TIMEOUT (MariaDB 10.3+) */
		return 1;
	default:
		return 0;
	}
}

/* mysql_library_init does its work once per process; later calls return 0. */
static kiln_err
my_library_init(char *err, size_t errlen)
{
	if (mysql_library_init(0, NULL, NULL) != 0) {
		kiln__db_seterr(err, errlen,
		    "mysql: the client library failed to initialise");
		return KILN_EDB;
	}
	return KILN_OK;
}

void *
kiln__db_mysql_native(void *conn)
{
	return ((my_conn *)conn)->m;
}

const kiln_db_ops kiln_db_mysql = {
	.abi = KILN_DB_ABI,
	.vendor = "mysql",
	.open = my_open,
	.close = my_close,
	.exec = my_exec,
	.prepare = my_prepare,
	.execute = my_execute,
	.fetch = my_fetch,
	.ncols = my_ncols,
	.colname = my_colname,
	.affected = my_affected,
	.insert_id = my_insert_id,
	.reset = my_reset,
	.finalize = my_finalize,
	.lost = my_lost,
	.library_init = my_library_init,
};
