/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Tests of the database layer: URL parsing, the alias table from
 * settings, parameterised queries that keep every byte (NUL included),
 * the statement cache and cursor release on arena reset, transactions
 * and savepoints, connections in a forked child, SQLite's byte-exact
 * LIKE, the router chain, and (on MariaDB) reconnecting after the server
 * killed the connection. Backend-independent tests run on SQLite, and
 * on MariaDB too when KILN_TEST_MYSQL_URL is set.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include <kiln/kiln.h>

#include "db_int.h"
#include "suites.h"

#define OK(expr) ck_assert_int_eq((expr), KILN_OK)

static kiln_app *
app_with(const char *url, const char *replica)
{
	kiln_app *app = kiln_app_new("dbtest");

	ck_assert_ptr_nonnull(app);
	OK(kiln_use(app, &kiln_db));
	if (url != NULL)
		OK(kiln_setting_set(app, "database.url", url));
	if (replica != NULL)
		OK(kiln_setting_set(app, "databases.replica", replica));
	OK(kiln_app_configure(app, NULL));
	return app;
}

/* Runs sql and returns the first column of the first row as an int. */
static int64_t
one_int(kiln_db_conn *c, kiln_arena *a, const char *sql)
{
	kiln_db_cursor *cur;
	kiln_val *row;

	ck_assert_msg(kiln_db_query(c, a, kiln_str_c(sql), NULL, 0, &cur) ==
		KILN_OK,
	    "%s: %s", sql, kiln_app_errmsg(kiln_db_app(c)));
	OK(kiln_db_next(cur, &row));
	ck_assert_ptr_nonnull(row);
	kiln_db_close(cur);
	return row[0].type == KILN_VAL_INT ? row[0].u.i :
					     strtoll(row[0].u.s.ptr, NULL, 10);
}

START_TEST(test_db_url_parse)
{
	kiln_arena *a = kiln_arena_new(0);
	char err[256];
	kiln_db_url u;

	OK(kiln_db_url_parse(a, "sqlite:///var/db/site.sqlite3", &u, err,
	    sizeof(err)));
	ck_assert_str_eq(u.scheme, "sqlite");
	ck_assert_str_eq(u.name, "/var/db/site.sqlite3");
	OK(kiln_db_url_parse(a, "sqlite:db.sqlite3", &u, err, sizeof(err)));
	ck_assert_str_eq(u.name, "db.sqlite3");
	OK(kiln_db_url_parse(a, "sqlite::memory:", &u, err, sizeof(err)));
	ck_assert_str_eq(u.name, ":memory:");
	OK(kiln_db_url_parse(a,
	    "mysql://site:p%40ss%3Aw@db.local:3307/blog?unix_socket=/run/"
	    "m%20y.sock",
	    &u, err, sizeof(err)));
	ck_assert_str_eq(u.scheme, "mysql");
	ck_assert_str_eq(u.user, "site");
	ck_assert_str_eq(u.password, "p@ss:w");
	ck_assert_str_eq(u.host, "db.local");
	ck_assert_uint_eq(u.port, 3307);
	ck_assert_str_eq(u.name, "blog");
	ck_assert_str_eq(u.socket, "/run/m y.sock");
	OK(kiln_db_url_parse(a, "mysql://root@/kiln_test?unix_socket=/tmp/s",
	    &u, err, sizeof(err)));
	ck_assert_ptr_null(u.host);
	ck_assert_ptr_null(u.password);
	ck_assert_int_eq(kiln_db_url_parse(a, "postgres://x/y", &u, err,
			     sizeof(err)),
	    KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "scheme"));
	ck_assert_int_eq(kiln_db_url_parse(a, "mysql://h/db?sslmode=on", &u,
			     err, sizeof(err)),
	    KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "sslmode"));
	ck_assert_int_eq(kiln_db_url_parse(a, "mysql://h:99999/db", &u, err,
			     sizeof(err)),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_db_url_parse(a, "mysql://u:%00@h/db", &u, err,
			     sizeof(err)),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_db_url_parse(a, "mysql://u@h/", &u, err,
			     sizeof(err)),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_db_url_parse(a, "sqlite://host/x", &u, err,
			     sizeof(err)),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_db_url_parse(a, "mysql://h/db%", &u, err,
			     sizeof(err)),
	    KILN_EINVAL);
	kiln_arena_free(a);
}
END_TEST

START_TEST(test_db_aliases)
{
	kiln_app *app = app_with("sqlite::memory:", "sqlite::memory:");
	kiln_db_conn *c, *r;
	kiln_arena *a = kiln_arena_new(0);

	c = kiln_db_conn_get(app, NULL);
	r = kiln_db_conn_get(app, "replica");
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_ne(c, r);
	ck_assert_str_eq(kiln_db_alias(c), "default");
	ck_assert_str_eq(kiln_db_vendor(r), "sqlite");
	ck_assert_ptr_eq(kiln_db_conn_get(app, "default"), c);
	OK(kiln_db_exec(c, "CREATE TABLE only_here (x INTEGER)"));
	ck_assert_int_eq(one_int(c, a,
			     "SELECT COUNT(*) FROM sqlite_master WHERE "
			     "name = 'only_here'"),
	    1);
	ck_assert_int_eq(one_int(r, a,
			     "SELECT COUNT(*) FROM sqlite_master WHERE "
			     "name = 'only_here'"),
	    0);
	ck_assert_ptr_null(kiln_db_conn_get(app, "other"));
	ck_assert_ptr_nonnull(strstr(kiln_app_errmsg(app), "other"));
	kiln_arena_free(a);
	kiln_app_free(app);

	app = app_with("bogus://x", NULL);
	ck_assert_ptr_null(kiln_db_conn_get(app, NULL));
	ck_assert_ptr_nonnull(strstr(kiln_app_errmsg(app), "database.url"));
	kiln_app_free(app);
	app = app_with("sqlite::memory:", "mysql://nohost/");
	ck_assert_ptr_null(kiln_db_conn_get(app, NULL));
	ck_assert_ptr_nonnull(
	    strstr(kiln_app_errmsg(app), "databases.replica"));
	kiln_app_free(app);
	app = app_with("sqlite:///nonexistent-dir/x/y.db", NULL);
	ck_assert_ptr_null(kiln_db_conn_get(app, NULL));
	ck_assert_ptr_nonnull(strstr(kiln_app_errmsg(app), "y.db"));
	kiln_app_free(app);
	app = kiln_app_new("noext");
	ck_assert_ptr_null(kiln_db_conn_get(app, NULL));
	ck_assert_ptr_nonnull(strstr(kiln_app_errmsg(app), "kiln_use"));
	kiln_app_free(app);
}
END_TEST

/*
 * The serving master's hook reads the alias table and initialises each
 * driver's client library without connecting; a bad URL fails there,
 * before any worker is forked.
 */
START_TEST(test_db_init_master)
{
	kiln_app *app;

	app = app_with("sqlite::memory:", "mysql://u:p@nohost.invalid/x");
	OK(kiln__exts_init_master(app));
	/* Nothing was opened: the first query still connects lazily. */
	ck_assert_ptr_nonnull(kiln_db_conn_get(app, NULL));
	kiln_app_free(app);
	app = app_with("sqlite::memory:", "nosuch://x");
	ck_assert_int_eq(kiln__exts_init_master(app), KILN_ECONFIG);
	ck_assert_ptr_nonnull(
	    strstr(kiln_app_errmsg(app), "databases.replica"));
	kiln_app_free(app);
}
END_TEST

/* The backends to run on: SQLite, and MariaDB when configured. */
static const char *
backend_url(int b)
{
	return b == 0 ? "sqlite::memory:" : getenv("KILN_TEST_MYSQL_URL");
}

START_TEST(test_db_params_roundtrip)
{
	static const char bytes[] = "a'b\"c\\d\0e%f_g; DROP TABLE t; --";
	kiln_val *params[4], *row;
	kiln_db_cursor *cur;
	kiln_db_conn *c;
	kiln_arena *a;
	kiln_app *app;
	const char *url;
	int b;

	for (b = 0; b < 2; b++) {
		if ((url = backend_url(b)) == NULL || url[0] == '\0')
			continue;
		app = app_with(url, NULL);
		a = kiln_arena_new(0);
		c = kiln_db_conn_get(app, NULL);
		ck_assert_msg(c != NULL, "%s", kiln_app_errmsg(app));
		OK(kiln_db_exec(c, "DROP TABLE IF EXISTS kt"));
		OK(kiln_db_exec(c,
		    b == 0 ? "CREATE TABLE kt (i INTEGER, f REAL, "
			     "s TEXT, n TEXT)" :
			     "CREATE TABLE kt (i BIGINT, f DOUBLE, "
			     "s LONGTEXT, n TEXT)"));
		params[0] = kiln_val_int(a, INT64_MIN + 1);
		params[1] = kiln_val_float(a, -2.5);
		params[2] =
		    kiln_val_str(a, (kiln_str){ bytes, sizeof(bytes) - 1 });
		params[3] = kiln_val_null(a);
		OK(kiln_db_query(c, a,
		    KILN_STR("INSERT INTO kt (i, f, s, n) VALUES (?, ?, ?, ?)"),
		    (const kiln_val *const *)params, 4, &cur));
		ck_assert_int_eq(kiln_db_affected(cur), 1);
		OK(kiln_db_query(c, a,
		    KILN_STR("SELECT i, f, s, n FROM kt WHERE s = ?"),
		    (const kiln_val *const *)&params[2], 1, &cur));
		ck_assert_uint_eq(kiln_db_ncols(cur), 4);
		ck_assert_str_eq(kiln_db_colname(cur, 2), "s");
		OK(kiln_db_next(cur, &row));
		ck_assert_ptr_nonnull(row);
		ck_assert_int_eq(row[0].u.i, INT64_MIN + 1);
		ck_assert(row[1].u.f == -2.5);
		ck_assert_int_eq(row[2].type, KILN_VAL_STR);
		ck_assert_uint_eq(row[2].u.s.len, sizeof(bytes) - 1);
		ck_assert(
		    memcmp(row[2].u.s.ptr, bytes, sizeof(bytes) - 1) == 0);
		ck_assert_int_eq(row[3].type, KILN_VAL_NULL);
		OK(kiln_db_next(cur, &row));
		ck_assert_ptr_null(row);
		/* A long value is fetched whole (MySQL refetches it). */
		params[2] = kiln_val_str(a,
		    kiln_str_c(kiln_arena_printf(a, "%05000d", 7)));
		OK(kiln_db_query(c, a,
		    KILN_STR("INSERT INTO kt (i, f, s, n) VALUES (?, ?, ?, ?)"),
		    (const kiln_val *const *)params, 4, &cur));
		OK(kiln_db_query(c, a,
		    KILN_STR("SELECT s FROM kt ORDER BY i, LENGTH(s)"), NULL, 0,
		    &cur));
		OK(kiln_db_next(cur, &row));
		OK(kiln_db_next(cur, &row));
		ck_assert_uint_eq(row[0].u.s.len, 5000);
		/* An open cursor holds its table (SQLite): close it. */
		kiln_db_close(cur);
		/* Errors name the database and leave no statement behind. */
		ck_assert_int_eq(kiln_db_query(c, a, KILN_STR("SELEC nonsense"),
				     NULL, 0, &cur),
		    KILN_EDB);
		ck_assert_ptr_nonnull(
		    strstr(kiln_app_errmsg(app), "database default"));
		ck_assert_int_ne(kiln_db_query(c, a, KILN_STR("SELECT ? + 1"),
				     NULL, 0, &cur),
		    KILN_OK);
		OK(kiln_db_exec(c, "DROP TABLE kt"));
		kiln_arena_free(a);
		kiln_app_free(app);
	}
}
END_TEST

START_TEST(test_db_stmt_cache)
{
	kiln_app *app = app_with("sqlite::memory:", NULL);
	kiln_db_conn *c = kiln_db_conn_get(app, NULL);
	kiln_arena *req = kiln_arena_new(0);
	kiln_db_cursor *cur, *cur2;
	kiln_val *row;
	uint64_t q0 = kiln_db_queries(c);

	ck_assert_int_eq(one_int(c, req, "SELECT 41 + 1"), 42);
	ck_assert_int_eq(one_int(c, req, "SELECT 41 + 1"), 42);
	ck_assert_uint_eq(c->ncache, 1);
	ck_assert_uint_eq(kiln_db_queries(c) - q0, 2);
	/* A cursor left open is released when its arena is reset. */
	OK(kiln_db_query(c, req, KILN_STR("SELECT 1 UNION ALL SELECT 2"), NULL,
	    0, &cur));
	OK(kiln_db_next(cur, &row));
	ck_assert(c->cache[1].busy);
	/* The same text while it is busy gets a private statement. */
	OK(kiln_db_query(c, req, KILN_STR("SELECT 1 UNION ALL SELECT 2"), NULL,
	    0, &cur2));
	ck_assert_ptr_null(cur2->slot);
	ck_assert_ptr_nonnull(c->cursors);
	kiln_arena_reset(req);
	ck_assert(!c->cache[1].busy);
	ck_assert_ptr_null(c->cursors);
	ck_assert_int_eq(one_int(c, req, "SELECT 1 UNION ALL SELECT 2"), 1);
	kiln_arena_free(req);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_db_transactions)
{
	kiln_arena *a;
	kiln_app *app;
	kiln_db_conn *c;
	const char *url;
	int b;

	for (b = 0; b < 2; b++) {
		if ((url = backend_url(b)) == NULL || url[0] == '\0')
			continue;
		app = app_with(url, NULL);
		a = kiln_arena_new(0);
		c = kiln_db_conn_get(app, NULL);
		OK(kiln_db_exec(c, "DROP TABLE IF EXISTS kx"));
		OK(kiln_db_exec(c,
		    b == 0 ? "CREATE TABLE kx (i INTEGER)" :
			     "CREATE TABLE kx (i INT) "
			     "ENGINE=InnoDB"));
		ck_assert_int_eq(kiln_db_commit(c), KILN_EINVAL);
		OK(kiln_db_begin(c, a));
		OK(kiln_db_exec(c, "INSERT INTO kx VALUES (1)"));
		OK(kiln_db_begin(c, a));
		OK(kiln_db_exec(c, "INSERT INTO kx VALUES (2)"));
		OK(kiln_db_begin(c, a));
		OK(kiln_db_exec(c, "INSERT INTO kx VALUES (3)"));
		ck_assert_uint_eq(kiln_db_depth(c), 3);
		OK(kiln_db_commit(c));	 /* keeps 3 inside level 2 */
		OK(kiln_db_rollback(c)); /* drops 2 and 3 */
		ck_assert_int_eq(one_int(c, a, "SELECT COUNT(*) FROM kx"), 1);
		OK(kiln_db_commit(c));
		ck_assert_uint_eq(kiln_db_depth(c), 0);
		/* Open levels are rolled back when their arena goes. */
		OK(kiln_db_begin(c, a));
		OK(kiln_db_exec(c, "INSERT INTO kx VALUES (4)"));
		OK(kiln_db_begin(c, a));
		OK(kiln_db_exec(c, "INSERT INTO kx VALUES (5)"));
		kiln_arena_reset(a);
		ck_assert_uint_eq(kiln_db_depth(c), 0);
		ck_assert_int_eq(one_int(c, a, "SELECT COUNT(*) FROM kx"), 1);
		OK(kiln_db_exec(c, "DROP TABLE kx"));
		kiln_arena_free(a);
		kiln_app_free(app);
	}
}
END_TEST

START_TEST(test_db_fork)
{
	char path[] = "/tmp/kiln-db-fork-XXXXXX";
	char url[128];
	kiln_app *app;
	kiln_db_conn *c;
	kiln_arena *a;
	void *parent_h;
	pid_t pid;
	int status, fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(url, sizeof(url), "sqlite://%s", path);
	app = app_with(url, NULL);
	a = kiln_arena_new(0);
	c = kiln_db_conn_get(app, NULL);
	OK(kiln_db_exec(c, "CREATE TABLE f (i INTEGER)"));
	parent_h = c->h;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* The child must not use the parent's handle. */
		c = kiln_db_conn_get(app, NULL);
		if (c == NULL || c->h == parent_h || c->pid != getpid() ||
		    kiln_db_exec(c, "INSERT INTO f VALUES (7)") != KILN_OK)
			_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_ptr_eq(kiln_db_conn_get(app, NULL)->h, parent_h);
	ck_assert_int_eq(one_int(c, a, "SELECT SUM(i) FROM f"), 7);
	/* init_worker forgets inherited handles without closing them. */
	pid = fork();
	if (pid == 0) {
		if (kiln__exts_init_worker(app) != KILN_OK || c->h != NULL)
			_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	kiln_arena_free(a);
	kiln_app_free(app);
	unlink(path);
	snprintf(url, sizeof(url), "%s-wal", path);
	unlink(url);
	snprintf(url, sizeof(url), "%s-shm", path);
	unlink(url);
}
END_TEST

START_TEST(test_db_sqlite_like)
{
	kiln_app *app = app_with("sqlite::memory:", NULL);
	kiln_db_conn *c = kiln_db_conn_get(app, NULL);
	kiln_arena *a = kiln_arena_new(0);
	kiln_val *p[2];
	struct {
		const char *pat, *s;
		int want;
	} cases[] = {
		{ "abc", "abc", 1 },
		{ "abc", "ABC", 0 }, /* case-sensitive, unlike SQLite's own */
		{ "a%", "abc", 1 },
		{ "%c", "abc", 1 },
		{ "a_c", "abc", 1 },
		{ "a_c", "aéc", 1 }, /* _ is one character, not one byte */
		{ "a!%c", "a%c", 1 },
		{ "a!%c", "abc", 0 },
		{ "a!_c", "abc", 0 },
		{ "%!!%", "x!y", 1 },
		{ "%b%b%", "abab", 1 },
		{ "%b%b%", "ab", 0 },
		{ "", "", 1 },
		{ "%", "", 1 },
		{ "_", "", 0 },
	};
	size_t i;
	char sql[] = "SELECT ? LIKE ? ESCAPE '!'";

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p[0] = kiln_val_cstr(a, cases[i].s);
		p[1] = kiln_val_cstr(a, cases[i].pat);
		kiln_db_cursor *cur;
		kiln_val *row;

		OK(kiln_db_query(c, a, kiln_str_c(sql),
		    (const kiln_val *const *)p, 2, &cur));
		OK(kiln_db_next(cur, &row));
		ck_assert_msg(row[0].u.i == cases[i].want, "'%s' LIKE '%s'",
		    cases[i].s, cases[i].pat);
	}
	/* NUL bytes do not end the strings. */
	p[0] = kiln_val_str(a, (kiln_str){ "a\0b", 3 });
	p[1] = kiln_val_str(a, (kiln_str){ "%\0c", 3 });
	{
		kiln_db_cursor *cur;
		kiln_val *row;

		OK(kiln_db_query(c, a, kiln_str_c(sql),
		    (const kiln_val *const *)p, 2, &cur));
		OK(kiln_db_next(cur, &row));
		ck_assert_int_eq(row[0].u.i, 0);
	}
	kiln_arena_free(a);
	kiln_app_free(app);
}
END_TEST

static const char *
rd(const struct kiln_model *m, void *data)
{
	(void)m;
	return data;
}

static int
no_migrate(const char *alias, const struct kiln_model *m, void *data)
{
	(void)m;
	(void)data;
	return strcmp(alias, "replica") == 0 ? 0 : -1;
}

static char name_replica[] = "replica";
static char name_other[] = "other";

START_TEST(test_db_router_chain)
{
	static const kiln_db_router silent = { .db_for_read = NULL };
	static const kiln_db_router first = { .db_for_read = rd,
		.allow_migrate = no_migrate,
		.data = name_replica };
	static const kiln_db_router second = { .db_for_read = rd,
		.db_for_write = rd,
		.data = name_other };
	kiln_app *app = app_with("sqlite::memory:", NULL);

	ck_assert_str_eq(kiln_db_for_read(app, NULL), "default");
	ck_assert_ptr_null(kiln__db_route_write(app, NULL));
	OK(kiln_db_router_add(app, &silent));
	OK(kiln_db_router_add(app, &first));
	OK(kiln_db_router_add(app, &second));
	ck_assert_str_eq(kiln_db_for_read(app, NULL), "replica");
	ck_assert_str_eq(kiln_db_for_write(app, NULL), "other");
	ck_assert(!kiln_db_allow_migrate(app, "replica", NULL));
	ck_assert(kiln_db_allow_migrate(app, "default", NULL));
	ck_assert(kiln_db_allow_relation(app, NULL, NULL));
	ck_assert_int_eq(kiln_db_router_add(app, NULL), KILN_EINVAL);
	kiln_app_free(app);
}
END_TEST

/* KiB of libcrypto resident in this process (/proc/self/smaps), or -1. */
static long
crypto_kib(void)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	unsigned long lo, hi;
	char line[512];
	bool in = false;
	long kib = 0, v;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = strstr(line, "libcrypto") != NULL;
		else if (in && sscanf(line, "Rss: %ld", &v) == 1)
			kib += v;
	}
	fclose(f);
	return kib;
}

/*
 * MariaDB only: a worker forked after the master's init_master connects
 * and queries without setting MariaDB's client (and with it OpenSSL) up
 * for itself, so it touches little of libcrypto: about 0.4 MiB, against
 * 2.5 MiB when each worker did the set-up.
 */
START_TEST(test_db_mysql_prefork_client)
{
	const char *url = getenv("KILN_TEST_MYSQL_URL");
	kiln_app *app = app_with(url, NULL);
	kiln_db_conn *c;
	int status;
	long kib;
	pid_t pid;

	OK(kiln__exts_init_master(app));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (kiln__exts_init_worker(app) != KILN_OK ||
		    (c = kiln_db_conn_get(app, NULL)) == NULL ||
		    kiln_db_exec(c, "SELECT 1") != KILN_OK)
			_exit(2);
		kib = crypto_kib();
		if (kib < 0 || kib >= 1536) {
			fprintf(stderr, "worker: %ld KiB of libcrypto\n", kib);
			_exit(1);
		}
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the worker set MariaDB's client up for itself (status %d)",
	    status);
	kiln_app_free(app);
}
END_TEST

/* MariaDB only: the server kills the connection; the next query works. */
START_TEST(test_db_mysql_reconnect)
{
	const char *url = getenv("KILN_TEST_MYSQL_URL");
	kiln_app *app = app_with(url, url);
	kiln_arena *a = kiln_arena_new(0);
	kiln_db_conn *c = kiln_db_conn_get(app, NULL);
	kiln_db_conn *killer = kiln_db_conn_get(app, "replica");
	char sql[64];
	int64_t id, id2;

	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(killer);
	id = one_int(c, a, "SELECT CONNECTION_ID()");
	snprintf(sql, sizeof(sql), "KILL %lld", (long long)id);
	OK(kiln_db_exec(killer, sql));
	/* A cached statement on a dead connection: reopened and retried. */
	id2 = one_int(c, a, "SELECT CONNECTION_ID()");
	ck_assert_int_ne(id, id2);
	/* Inside a transaction the loss is reported, not hidden. */
	OK(kiln_db_begin(c, a));
	snprintf(sql, sizeof(sql), "KILL %lld", (long long)id2);
	OK(kiln_db_exec(killer, sql));
	ck_assert_int_eq(kiln_db_exec(c, "DO 1"), KILN_EDB);
	ck_assert_int_ne(kiln_db_rollback(c), KILN_OK);
	ck_assert_uint_eq(kiln_db_depth(c), 0);
	/* And the next use after it works again. */
	c = kiln_db_conn_get(app, NULL);
	ck_assert_int_eq(one_int(c, a, "SELECT 6 * 7"), 42);
	kiln_arena_free(a);
	kiln_app_free(app);
}
END_TEST

/*
 * MariaDB only, with tests/integration/mariadb.sh's restart script: the
 * server restarts under an idle connection; the next read and the next
 * write both work (a worker is never left broken).
 */
START_TEST(test_db_mysql_restart)
{
	const char *url = getenv("KILN_TEST_MYSQL_URL");
	const char *restart = getenv("KILN_TEST_MYSQL_RESTART");
	kiln_app *app = app_with(url, NULL);
	kiln_arena *a = kiln_arena_new(0);
	kiln_db_conn *c = kiln_db_conn_get(app, NULL);
	kiln_err rc;

	ck_assert_ptr_nonnull(c);
	OK(kiln_db_exec(c, "DROP TABLE IF EXISTS kr"));
	OK(kiln_db_exec(c, "CREATE TABLE kr (i INT)"));
	ck_assert_int_eq(one_int(c, a, "SELECT 6 * 7"), 42);
	ck_assert_int_eq(system(restart), 0);
	/* A read on a cached statement: reopened and retried. */
	ck_assert_int_eq(one_int(c, a, "SELECT 6 * 7"), 42);
	ck_assert_int_eq(system(restart), 0);
	/* A write after a restart. */
	rc = kiln_db_exec(c, "INSERT INTO kr VALUES (1)");
	ck_assert_msg(rc == KILN_OK, "%s", kiln_app_errmsg(app));
	ck_assert_int_eq(one_int(c, a, "SELECT COUNT(*) FROM kr"), 1);
	OK(kiln_db_exec(c, "DROP TABLE kr"));
	kiln_arena_free(a);
	kiln_app_free(app);
}
END_TEST

Suite *
db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("core");
	const char *my = getenv("KILN_TEST_MYSQL_URL");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_db_url_parse);
	tcase_add_test(tc, test_db_aliases);
	tcase_add_test(tc, test_db_init_master);
	tcase_add_test(tc, test_db_params_roundtrip);
	tcase_add_test(tc, test_db_stmt_cache);
	tcase_add_test(tc, test_db_transactions);
	tcase_add_test(tc, test_db_fork);
	tcase_add_test(tc, test_db_sqlite_like);
	tcase_add_test(tc, test_db_router_chain);
	if (my != NULL && my[0] != '\0') {
		tcase_add_test(tc, test_db_mysql_reconnect);
		tcase_add_test(tc, test_db_mysql_prefork_client);
	}
	if (my != NULL && my[0] != '\0' &&
	    getenv("KILN_TEST_MYSQL_RESTART") != NULL)
		tcase_add_test(tc, test_db_mysql_restart);
	suite_add_tcase(s, tc);
	return s;
}
