/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The SQLite driver (kiln_db_sqlite). A connection is opened in WAL mode
 * with a busy timeout and foreign keys on. LIKE is replaced by Kiln's
 * own like(): byte-exact (case-sensitive, as Django's contains is meant
 * to be) and safe with NUL bytes, which SQLite's built-in LIKE stops at;
 * case-insensitive lookups lower both sides instead. A statement is
 * stepped once by execute, so errors and row counts are known at once;
 * fetch hands out that first row and steps on.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include <kiln/kiln.h>

#include "db_int.h"

/* A prepared statement and where it stands. */
typedef struct sq_stmt {
	sqlite3_stmt *st; /* the statement */
	sqlite3 *db;	  /* its connection */
	int last;	  /* SQLITE_ROW/DONE of the pending step */
	bool pending;	  /* last is not yet handed to fetch */
} sq_stmt;

/* Returns the length of the UTF-8 character starting with byte c. */
static size_t
u8len(unsigned char c)
{
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	if (c >= 0xc0)
		return 2;
	return 1;
}

/*
 * Matches s against a LIKE pattern with % and _ and escape character esc
 * (0: none), byte for byte. The classic two-pointer algorithm: on a
 * mismatch, retry from the last % one character further on, so the cost
 * is O(len(p) * len(s)) at worst and there is no recursion.
 */
static bool
like_match(const unsigned char *p, size_t plen, const unsigned char *s,
    size_t slen, int esc)
{
	size_t pi = 0, si = 0, star_p = 0, star_s = 0, n;
	bool star = false;

	while (si < slen) {
		if (pi < plen && p[pi] == '%' && esc != '%') {
			star = true;
			star_p = ++pi;
			star_s = si;
			continue;
		}
		if (pi < plen && p[pi] == '_' && esc != '_') {
			n = u8len(s[si]);
			si += n <= slen - si ? n : slen - si;
			pi++;
			continue;
		}
		if (pi < plen) {
			n = pi;
			if (esc != 0 && p[pi] == esc && pi + 1 < plen)
				n = pi + 1;
			if (p[n] == s[si]) {
				pi = n + 1;
				si++;
				continue;
			}
		}
		if (!star)
			return false;
		n = u8len(s[star_s]);
		star_s += n <= slen - star_s ? n : slen - star_s;
		si = star_s;
		pi = star_p;
	}
	while (pi < plen && p[pi] == '%' && esc != '%')
		pi++;
	return pi == plen;
}

/* like(pattern, value [, escape]): SQL's X LIKE Y [ESCAPE Z]. */
static void
sq_like(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *p, *s, *e;
	int esc = 0;

	if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
	    sqlite3_value_type(argv[1]) == SQLITE_NULL)
		return;
	if (argc == 3) {
		e = sqlite3_value_text(argv[2]);
		if (e == NULL || sqlite3_value_bytes(argv[2]) != 1) {
			sqlite3_result_error(ctx,
			    "ESCAPE expression must be a single character", -1);
			return;
		}
		esc = e[0];
	}
	p = sqlite3_value_text(argv[0]);
	s = sqlite3_value_text(argv[1]);
	if (p == NULL || s == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	sqlite3_result_int(ctx,
	    like_match(p, (size_t)sqlite3_value_bytes(argv[0]), s,
		(size_t)sqlite3_value_bytes(argv[1]), esc));
}

static kiln_err
sq_fail(sqlite3 *db, const char *what, char *err, size_t errlen)
{
	kiln__db_seterr(err, errlen, "sqlite: %s: %s (%d)", what,
	    sqlite3_errmsg(db), sqlite3_extended_errcode(db));
	return KILN_EDB;
}

static kiln_err
sq_open(const kiln_db_url *url, int64_t busy_ms, kiln_arena *per, void **conn,
    char *err, size_t errlen)
{
	static const char *const pragmas =
	    "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";
	sqlite3 *db = NULL;
	int flags =
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	bool mem;

	(void)per;
	mem = strcmp(url->name, ":memory:") == 0;
	if (sqlite3_open_v2(url->name, &db, flags, NULL) != SQLITE_OK) {
		if (db == NULL) {
			kiln__db_seterr(err, errlen, "sqlite: open %s: %s",
			    url->name, "out of memory");
			return KILN_ENOMEM;
		}
		kiln__db_seterr(err, errlen, "sqlite: open %s: %s", url->name,
		    sqlite3_errmsg(db));
		goto err;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db,
	    busy_ms > INT32_MAX ? INT32_MAX : (int)busy_ms);
	if (sqlite3_exec(db, pragmas, NULL, NULL, NULL) != SQLITE_OK ||
	    (!mem &&
		sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL,
		    NULL) != SQLITE_OK)) {
		sq_fail(db, url->name, err, errlen);
		goto err;
	}
	if (sqlite3_create_function(db, "like", 2,
		SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
		sq_like, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(db, "like", 3,
		SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
		sq_like, NULL, NULL) != SQLITE_OK) {
		sq_fail(db, "like()", err, errlen);
		goto err;
	}
	*conn = db;
	return KILN_OK;
err:
	sqlite3_close_v2(db);
	return KILN_EDB;
}

static void
sq_close(void *conn)
{
	sqlite3_close_v2(conn);
}

static kiln_err
sq_exec(void *conn, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(conn, sql, NULL, NULL, &msg) == SQLITE_OK)
		return KILN_OK;
	kiln__db_seterr(err, errlen, "sqlite: %s: %s", sql,
	    msg != NULL ? msg : sqlite3_errmsg(conn));
	sqlite3_free(msg);
	return KILN_EDB;
}

static kiln_err
sq_prepare(void *conn, kiln_arena *per, kiln_str sql, void **stmt, char *err,
    size_t errlen)
{
	sq_stmt *s;
	const char *tail = NULL;

	if (sql.len > INT32_MAX) {
		kiln__db_seterr(err, errlen, "sqlite: statement too long");
		return KILN_ELIMIT;
	}
	if ((s = kiln_arena_calloc(per, 1, sizeof(*s))) == NULL)
		return KILN_ENOMEM;
	s->db = conn;
	if (sqlite3_prepare_v3(conn, sql.ptr, (int)sql.len,
		SQLITE_PREPARE_PERSISTENT, &s->st, &tail) != SQLITE_OK)
		return sq_fail(conn, "prepare", err, errlen);
	if (s->st == NULL) {
		kiln__db_seterr(err, errlen, "sqlite: empty statement");
		return KILN_EINVAL;
	}
	if (tail != NULL && tail != sql.ptr + sql.len &&
	    strspn(tail, " \t\r\n;") < (size_t)(sql.ptr + sql.len - tail)) {
		sqlite3_finalize(s->st);
		kiln__db_seterr(err, errlen,
		    "sqlite: more than one statement in one query");
		return KILN_EINVAL;
	}
	*stmt = s;
	return KILN_OK;
}

/* Binds params[i] to placeholder i + 1. */
static int
sq_bind(sqlite3_stmt *st, int i, const kiln_val *v)
{
	switch (v == NULL ? KILN_VAL_NULL : v->type) {
	case KILN_VAL_NULL:
		return sqlite3_bind_null(st, i);
	case KILN_VAL_BOOL:
		return sqlite3_bind_int(st, i, v->u.b ? 1 : 0);
	case KILN_VAL_INT:
		return sqlite3_bind_int64(st, i, v->u.i);
	case KILN_VAL_FLOAT:
		return sqlite3_bind_double(st, i, v->u.f);
	case KILN_VAL_STR:
	case KILN_VAL_SAFE:
		return sqlite3_bind_text64(st, i,
		    v->u.s.ptr != NULL ? v->u.s.ptr : "", v->u.s.len,
		    SQLITE_TRANSIENT, SQLITE_UTF8);
	default:
		return SQLITE_MISMATCH;
	}
}

static kiln_err
sq_execute(void *conn, void *stmt, kiln_arena *a, const kiln_val *const *params,
    size_t n, char *err, size_t errlen)
{
	sq_stmt *s = stmt;
	size_t i;
	int rc;

	(void)a;
	/*
	 * No sqlite3_clear_bindings: every placeholder is bound below (n
	 * must match), and sq_reset cleared them when the last run ended.
	 */
	sqlite3_reset(s->st);
	s->pending = false;
	if (n != (size_t)sqlite3_bind_parameter_count(s->st)) {
		kiln__db_seterr(err, errlen,
		    "sqlite: %zu parameters given, %d placeholders", n,
		    sqlite3_bind_parameter_count(s->st));
		return KILN_EINVAL;
	}
	for (i = 0; i < n; i++) {
		if ((rc = sq_bind(s->st, (int)i + 1, params[i])) != SQLITE_OK) {
			if (rc == SQLITE_MISMATCH) {
				kiln__db_seterr(err, errlen,
				    "sqlite: parameter %zu: cannot bind a %s",
				    i + 1, kiln_val_type_name(params[i]->type));
				return KILN_EINVAL;
			}
			return sq_fail(conn, "bind", err, errlen);
		}
	}
	rc = sqlite3_step(s->st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sq_fail(conn, "step", err, errlen);
		sqlite3_reset(s->st);
		return KILN_EDB;
	}
	s->last = rc;
	s->pending = true;
	return KILN_OK;
}

/* Copies column i of the current row into *v. */
static kiln_err
sq_column(sqlite3_stmt *st, int i, kiln_arena *a, kiln_val *v)
{
	const void *p;
	char *copy;
	size_t len;

	v->a = a;
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		v->type = KILN_VAL_NULL;
		return KILN_OK;
	case SQLITE_INTEGER:
		v->type = KILN_VAL_INT;
		v->u.i = sqlite3_column_int64(st, i);
		return KILN_OK;
	case SQLITE_FLOAT:
		v->type = KILN_VAL_FLOAT;
		v->u.f = sqlite3_column_double(st, i);
		return KILN_OK;
	case SQLITE_BLOB:
		p = sqlite3_column_blob(st, i);
		break;
	default:
		p = sqlite3_column_text(st, i);
		break;
	}
	len = (size_t)sqlite3_column_bytes(st, i);
	if ((copy = kiln_arena_alloc(a, len + 1)) == NULL)
		return KILN_ENOMEM;
	if (len > 0)
		memcpy(copy, p, len);
	copy[len] = '\0';
	v->type = KILN_VAL_STR;
	v->u.s.ptr = copy;
	v->u.s.len = len;
	return KILN_OK;
}

static kiln_err
sq_fetch(void *conn, void *stmt, kiln_arena *a, kiln_val **row, char *err,
    size_t errlen)
{
	sq_stmt *s = stmt;
	kiln_val *r;
	int rc, i, n;

	*row = NULL;
	if (s->pending) {
		rc = s->last;
		s->pending = false;
	} else {
		rc = sqlite3_step(s->st);
	}
	if (rc == SQLITE_DONE)
		return KILN_OK;
	if (rc != SQLITE_ROW)
		return sq_fail(conn, "step", err, errlen);
	n = sqlite3_column_count(s->st);
	if ((r = kiln_arena_calloc(a, n > 0 ? (size_t)n : 1, sizeof(*r))) ==
	    NULL)
		return KILN_ENOMEM;
	for (i = 0; i < n; i++)
		if (sq_column(s->st, i, a, &r[i]) != KILN_OK)
			return KILN_ENOMEM;
	*row = r;
	return KILN_OK;
}

static size_t
sq_ncols(void *stmt)
{
	return (size_t)sqlite3_column_count(((sq_stmt *)stmt)->st);
}

static const char *
sq_colname(void *stmt, size_t i)
{
	const char *n = sqlite3_column_name(((sq_stmt *)stmt)->st, (int)i);

	return n != NULL ? n : "";
}

static int64_t
sq_affected(void *conn, void *stmt)
{
	(void)stmt;
	return sqlite3_changes64(conn);
}

static int64_t
sq_insert_id(void *conn, void *stmt)
{
	(void)stmt;
	return sqlite3_last_insert_rowid(conn);
}

static void
sq_reset(void *stmt)
{
	sq_stmt *s = stmt;

	sqlite3_reset(s->st);
	sqlite3_clear_bindings(s->st);
	s->pending = false;
}

static void
sq_finalize(void *stmt)
{
	sqlite3_finalize(((sq_stmt *)stmt)->st);
}

static int
sq_lost(void *conn)
{
	(void)conn;
	return 0;
}

static kiln_err
sq_library_init(char *err, size_t errlen)
{
	if (sqlite3_initialize() != SQLITE_OK) {
		kiln__db_seterr(err, errlen,
		    "sqlite: the library failed to initialise");
		return KILN_EDB;
	}
	return KILN_OK;
}

const kiln_db_ops kiln_db_sqlite = {
	.abi = KILN_DB_ABI,
	.vendor = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.exec = sq_exec,
	.prepare = sq_prepare,
	.execute = sq_execute,
	.fetch = sq_fetch,
	.ncols = sq_ncols,
	.colname = sq_colname,
	.affected = sq_affected,
	.insert_id = sq_insert_id,
	.reset = sq_reset,
	.finalize = sq_finalize,
	.lost = sq_lost,
	.library_init = sq_library_init,
};
