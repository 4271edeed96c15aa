/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Internals of the database layer, shared by src/db and src/orm: the
 * per-app state of the kiln_db extension, the connection and cursor
 * layouts, and the router chain's raw answers.
 */
#ifndef KILN_DB_INT_H
#define KILN_DB_INT_H

#include <sys/types.h>

#include <kiln/kiln.h>

#include "kiln_int.h"

#define KILN__DB_ERRMAX 512

typedef struct kiln__db kiln__db;

/* A cached prepared statement. */
typedef struct kiln__stmt {
	const char *sql; /* the text (in the connection arena) */
	size_t len;	 /* its length */
	void *h;	 /* the driver's statement */
	bool busy;	 /* a cursor is using it */
} kiln__stmt;

/* One open level of a transaction. */
typedef struct kiln__txlevel {
	kiln_db_conn *c; /* the connection */
	kiln_arena *a;	 /* the arena it was opened with */
	unsigned level;	 /* 1 = the transaction, 2+ = savepoints */
	bool done;	 /* committed or rolled back */
} kiln__txlevel;

#define KILN__DB_MAXDEPTH 32

struct kiln_db_conn {
	kiln__db *db;		 /* the app's state */
	const char *alias;	 /* "default" */
	const char *urltext;	 /* as configured */
	kiln_db_url url;	 /* parsed */
	const kiln_db_ops *ops;	 /* the driver */
	void *h;		 /* driver connection, NULL when closed */
	pid_t pid;		 /* the process that opened h */
	int64_t opened_ms;	 /* when h was opened (monotonic) */
	int64_t max_age;	 /* database.conn_max_age when opened */
	kiln_arena *per;	 /* lives as long as h */
	kiln__stmt *cache;	 /* prepared statements */
	size_t ncache, capcache; /* used, allocated */
	kiln_db_cursor *cursors; /* open cursors */
	kiln__txlevel *tx[KILN__DB_MAXDEPTH]; /* open levels */
	unsigned depth;			      /* levels open */
	bool broken;	   /* lost inside a transaction: reopen */
	uint64_t nqueries; /* statements run */
};

struct kiln_db_cursor {
	kiln_db_conn *c;      /* the connection */
	kiln_arena *a;	      /* rows go here */
	kiln__stmt *slot;     /* the cache slot, or NULL */
	void *h;	      /* the driver statement */
	void *conn_h;	      /* the driver connection it ran on */
	size_t ncols;	      /* result columns */
	int64_t affected;     /* rows changed */
	int64_t insert_id;    /* last insert id */
	bool open;	      /* holds the statement */
	kiln_db_cursor *next; /* in c->cursors */
};

/* The extension's per-app state. */
struct kiln__db {
	kiln_app *app;		  /* the owner */
	kiln__ptrs conns;	  /* kiln_db_conn, built on first use */
	bool built;		  /* conns read from settings */
	kiln__ptrs routers;	  /* const kiln_db_router */
	kiln__ptrs models;	  /* const kiln_model, registered */
	void *orm;		  /* the ORM's state (orm_int.h) */
	struct kiln__dbpid *self; /* kiln__db_pid's page, or NULL */
};

/*
 * This process's id, as getpid() but without a system call per query:
 * it is kept in a page that fork() clears in the child
 * (MADV_WIPEONFORK), so a cleared page means "ask the kernel again".
 * Where the kernel lacks that (before Linux 4.14), every call asks.
 */
pid_t kiln__db_pid(kiln__db *db);

/* Returns the app's db state, or NULL (with a message) when not in use. */
kiln__db *kiln__db_state(kiln_app *app);

/* The router chain's raw answers: NULL when no router has an opinion. */
const char *kiln__db_route_read(kiln_app *app, const struct kiln_model *m);
const char *kiln__db_route_write(kiln_app *app, const struct kiln_model *m);

/*
 * Adds the teardown hook that rolls back the transaction levels a
 * request left open (txn.c).
 */
kiln_err kiln__db_teardown_install(kiln_app *app);

/* The migration commands of the kiln_db extension (src/orm/migrate.c). */
int kiln__cmd_makemigrations(kiln_app *app, int argc, char **argv);
int kiln__cmd_migrate(kiln_app *app, int argc, char **argv);
int kiln__cmd_showmigrations(kiln_app *app, int argc, char **argv);

/*
 * The driver's own handle under c (MYSQL * for "mysql", sqlite3 * for
 * "sqlite"), opening the connection when needed, or NULL with a message.
 * For bench/orm, which times hand-written statements on the same
 * connection as the ORM; nothing in Kiln itself uses it.
 */
void *kiln__db_native(kiln_db_conn *c);

/* The MYSQL * of a driver connection of kiln_db_mysql (mysql.c). */
void *kiln__db_mysql_native(void *conn);

/* Milliseconds on the monotonic clock. */
int64_t kiln__db_now_ms(void);

/* Writes a message into err (errlen bytes), printf-like. */
void kiln__db_seterr(char *err, size_t errlen, const char *fmt, ...)
    KILN_PRINTF(3, 4);

#endif /* KILN_DB_INT_H */
