/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The database layer: named databases (aliases) read from settings, one
 * connection per alias per process opened lazily on first use (a worker
 * never uses a connection its parent opened), parameterised queries
 * through a driver table (struct kiln_db_ops), transactions with nested
 * savepoints, and the router chain that picks a database for a model.
 *
 * Settings (registered by the kiln_db extension):
 *   database.url            the "default" alias (DATABASE_URL overrides it)
 *   database.conn_max_age   reopen a connection older than this (0: never)
 *   database.busy_timeout   SQLite: how long to wait for a lock
 *   database.stmt_cache     prepared statements kept per connection
 *   [databases] NAME = URL  further aliases (docs/database.md)
 * URLs: sqlite:///abs/path, sqlite:relative/path, sqlite::memory:,
 * mysql://user:pass@host:port/db?unix_socket=PATH (user and password
 * percent-decoded).
 *
 * Errors are returned as kiln_err with the message on the app
 * (kiln_app_errmsg). Nothing here aborts.
 */
#ifndef KILN_DB_H
#define KILN_DB_H

#include <kiln/app.h>
#include <kiln/arena.h>
#include <kiln/common.h>
#include <kiln/ext.h>
#include <kiln/value.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_DB_ABI 2

struct kiln_model; /* kiln/orm.h */

/* The extension: kiln_use(app, &kiln_db). The ORM needs it. */
KILN_API extern const kiln_ext kiln_db;

/* A parsed database URL (all strings NUL-terminated, in the app arena). */
typedef struct kiln_db_url {
	const char *scheme;   /* "sqlite" or "mysql" */
	const char *user;     /* decoded, or NULL */
	const char *password; /* decoded, or NULL */
	const char *host;     /* or NULL */
	unsigned port;	      /* 0: the driver's default */
	const char *name;     /* database name, or the SQLite file path */
	const char *socket;   /* ?unix_socket=PATH, or NULL */
} kiln_db_url;

/*
 * Parses text into *url (strings in a). Returns KILN_OK or KILN_EINVAL
 * with a message in err (errlen bytes).
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_db_url_parse(kiln_arena *a,
    const char *text, kiln_db_url *url, char *err, size_t errlen);

/*
 * A driver. Every function gets the driver's own handles; errors are
 * written to err (errlen bytes). Rows are fetched as arrays of ncols
 * values in the arena given (NULL, INT, FLOAT or STR).
 */
typedef struct kiln_db_ops {
	int abi;	    /* KILN_DB_ABI */
	const char *vendor; /* "sqlite", "mysql": also the URL scheme */
	/* Connects. per is an arena that lives as long as the connection. */
	kiln_err (*open)(const kiln_db_url *url, int64_t busy_ms,
	    kiln_arena *per, void **conn, char *err, size_t errlen);
	void (*close)(void *conn);
	/* Runs sql without parameters or rows (DDL, BEGIN, SAVEPOINT). */
	kiln_err (*exec)(void *conn, const char *sql, char *err, size_t errlen);
	/* Prepares sql; the statement may keep state in per. */
	kiln_err (*prepare)(void *conn, kiln_arena *per, kiln_str sql,
	    void **stmt, char *err, size_t errlen);
	/* Binds n params and runs; a is the caller's (request) arena. */
	kiln_err (*execute)(void *conn, void *stmt, kiln_arena *a,
	    const kiln_val *const *params, size_t n, char *err, size_t errlen);
	/* Fetches the next row into *row (NULL at the end). */
	kiln_err (*fetch)(void *conn, void *stmt, kiln_arena *a, kiln_val **row,
	    char *err, size_t errlen);
	size_t (*ncols)(void *stmt);
	const char *(*colname)(void *stmt, size_t i);
	int64_t (*affected)(void *conn, void *stmt);
	int64_t (*insert_id)(void *conn, void *stmt);
	/* Ends a run so the statement can be executed again. */
	void (*reset)(void *stmt);
	void (*finalize)(void *stmt);
	/*
	 * Whether the last error means the connection is gone: 0 no, 1 yes
	 * (the statement may have run), 2 yes, before it was sent.
	 */
	int (*lost)(void *conn);
	/*
	 * Or NULL. Initialises the client library once per process; the
	 * serving master calls it before forking, so the workers share what
	 * it loads (for MariaDB's client, OpenSSL's tables: about 2 MiB).
	 */
	kiln_err (*library_init)(char *err, size_t errlen);
} kiln_db_ops;

/* The built-in drivers. */
KILN_API extern const kiln_db_ops kiln_db_sqlite;
KILN_API extern const kiln_db_ops kiln_db_mysql;

/* One alias's connection in this process. */
typedef struct kiln_db_conn kiln_db_conn;

/* A running query: its rows, or its row count and insert id. */
typedef struct kiln_db_cursor kiln_db_cursor;

/*
 * Returns the connection for alias (NULL: "default"), opening it when
 * needed: on first use, in a process other than the one that opened it,
 * after conn_max_age, or after the connection was lost. Returns NULL with
 * kiln_app_errmsg on an unknown alias, a bad URL or a failed connect.
 * The connection belongs to the app; never free it.
 */
KILN_API kiln_db_conn *kiln_db_conn_get(kiln_app *app, const char *alias);

/* Returns true when alias is configured. */
KILN_API bool kiln_db_has_alias(kiln_app *app, const char *alias);

/* The connection's alias, vendor ("sqlite", "mysql") and app. */
KILN_API const char *kiln_db_alias(const kiln_db_conn *c);
KILN_API const char *kiln_db_vendor(const kiln_db_conn *c);
KILN_API kiln_app *kiln_db_app(const kiln_db_conn *c);

/* Statements run on c since it was first opened (for N+1 tests). */
KILN_API uint64_t kiln_db_queries(const kiln_db_conn *c);

/*
 * Runs sql, which takes no parameters and returns no rows. Returns
 * KILN_OK or KILN_EDB with kiln_app_errmsg.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_db_exec(kiln_db_conn *c,
    const char *sql);

/*
 * Runs sql with n bound parameters ("?" placeholders). The cursor lives
 * in arena a, and its statement is released when the cursor is closed or
 * when a is reset, whichever comes first (so kiln_abort leaks nothing).
 * Returns KILN_OK or KILN_EDB with kiln_app_errmsg. A lost connection
 * outside a transaction is reopened and the query retried once when it
 * cannot have taken effect (while preparing, a SELECT, or when the
 * driver says it was never sent).
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_db_query(kiln_db_conn *c, kiln_arena *a,
    kiln_str sql, const kiln_val *const *params, size_t n,
    kiln_db_cursor **out);

/*
 * Fetches the next row: *row points at ncols values in the cursor's
 * arena, or is NULL after the last row (the cursor is then closed).
 * Returns KILN_OK or KILN_EDB.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_db_next(kiln_db_cursor *cur,
    kiln_val **row);

/* Columns of the result, and the name of column i. */
KILN_API size_t kiln_db_ncols(const kiln_db_cursor *cur);
KILN_API const char *kiln_db_colname(const kiln_db_cursor *cur, size_t i);

/* Rows changed by an INSERT, UPDATE or DELETE, and the new row's id. */
KILN_API int64_t kiln_db_affected(const kiln_db_cursor *cur);
KILN_API int64_t kiln_db_insert_id(const kiln_db_cursor *cur);

/* Releases the statement now (idempotent). */
KILN_API void kiln_db_close(kiln_db_cursor *cur);

/*
 * Transactions. begin opens a transaction, or a savepoint inside one;
 * commit and rollback end the innermost level. A level still open when
 * arena a is reset (an abort, or a view that forgot) is rolled back, and
 * so is every level opened with the request's arena when the request
 * ends. Each returns KILN_OK or KILN_EDB / KILN_EINVAL (nothing open).
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_db_begin(kiln_db_conn *c,
    kiln_arena *a);
KILN_API KILN_WARN_UNUSED kiln_err kiln_db_commit(kiln_db_conn *c);
KILN_API KILN_WARN_UNUSED kiln_err kiln_db_rollback(kiln_db_conn *c);

/* Levels open: 0 outside a transaction, 1 in one, 2+ in savepoints. */
KILN_API unsigned kiln_db_depth(const kiln_db_conn *c);

/*
 * Runs fn(c, data) in an atomic block: commits when it returns KILN_OK,
 * rolls back otherwise (and if fn aborts, when a is reset). Returns fn's
 * code, or the commit's.
 */
typedef kiln_err (*kiln_db_atomic_fn)(kiln_db_conn *c, void *data);
KILN_API KILN_WARN_UNUSED kiln_err kiln_db_atomic(kiln_db_conn *c,
    kiln_arena *a, kiln_db_atomic_fn fn, void *data);

/*
 * A database router (Django's DATABASE_ROUTERS). Each hook may be NULL.
 * db_for_read/db_for_write return an alias or NULL (no opinion);
 * allow_relation/allow_migrate return 1 (yes), 0 (no) or -1 (no opinion).
 * The first router with an opinion decides; without one, reads and writes
 * go to the row's own database or "default", and everything is allowed.
 */
typedef struct kiln_db_router {
	const char *(*db_for_read)(const struct kiln_model *m, void *data);
	const char *(*db_for_write)(const struct kiln_model *m, void *data);
	int (*allow_relation)(const struct kiln_model *a,
	    const struct kiln_model *b, void *data);
	int (*allow_migrate)(const char *alias, const struct kiln_model *m,
	    void *data);
	void *data; /* given to every hook */
} kiln_db_router;

/* Appends r to the chain (r must outlive the app). KILN_OK or KILN_ENOMEM. */
KILN_API KILN_WARN_UNUSED kiln_err kiln_db_router_add(kiln_app *app,
    const kiln_db_router *r);

/* The chain's decisions ("default" when no router has an opinion). */
KILN_API const char *kiln_db_for_read(kiln_app *app,
    const struct kiln_model *m);
KILN_API const char *kiln_db_for_write(kiln_app *app,
    const struct kiln_model *m);
KILN_API bool kiln_db_allow_relation(kiln_app *app, const struct kiln_model *a,
    const struct kiln_model *b);
KILN_API bool kiln_db_allow_migrate(kiln_app *app, const char *alias,
    const struct kiln_model *m);

#ifdef __cplusplus
}
#endif
#endif /* KILN_DB_H */
