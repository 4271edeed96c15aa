/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The kiln_db extension and connections. The alias table is read from
 * settings on first use (database.url is "default", [databases] holds
 * the rest). A connection is opened lazily by kiln_db_conn_get and
 * remembers the pid that opened it: a forked worker forgets inherited
 * handles without touching them (closing would disturb the parent's
 * session) and opens its own. Each connection keeps a small cache of
 * prepared statements keyed by SQL text; a cursor borrows a cached
 * statement (or prepares a private one when it is busy or the cache is
 * full) and gives it back when closed or when its arena is reset, which
 * is what makes kiln_abort() leak-free. A connection lost outside a
 * transaction is reopened and the query retried when it cannot have run.
 */
#include "config.h"

#include <sys/mman.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <kiln/kiln.h>

#include "db_int.h"

static kiln_err db_init_app(kiln_app *app, const kiln_ext *ext);
static kiln_err db_init_master(kiln_app *app, const kiln_ext *ext);
static kiln_err db_init_worker(kiln_app *app, const kiln_ext *ext);
static void db_fini_worker(kiln_app *app, const kiln_ext *ext);
static int cmd_createtables(kiln_app *app, int argc, char **argv);

static const kiln_command db_commands[] = {
	{ "createtables", "[alias]",
	    "create the missing tables of registered models (all databases, "
	    "or one)",
	    cmd_createtables },
	{ "makemigrations", "[app...]",
	    "write migrations for model changes since the last migration",
	    kiln__cmd_makemigrations },
	{ "migrate", "[--database=ALIAS] [app] [target]",
	    "apply pending migrations, or roll back to target (or zero)",
	    kiln__cmd_migrate },
	{ "showmigrations", "[app]", "list migrations, [X] when applied",
	    kiln__cmd_showmigrations },
};

static const kiln_setting_def db_settings[] = {
	{ "database.url", KILN_SETTING_STR, "sqlite:db.sqlite3", 0, 0,
	    "URL of the default database (DATABASE_URL overrides it)" },
	{ "database.conn_max_age", KILN_SETTING_SECONDS, "0", 0, 0,
	    "reopen a connection older than this (0: keep it)" },
	{ "database.busy_timeout", KILN_SETTING_SECONDS, "5s", 0, 0,
	    "SQLite: how long to wait for a locked database" },
	{ "database.migrations", KILN_SETTING_PATH, "migrations", 0, 0,
	    "directory of the migration files (one folder per app)" },
	{ "database.stmt_cache", KILN_SETTING_INT, "64", 0, 4096,
	    "prepared statements kept per connection" },
};

const kiln_ext kiln_db = {
	.name = "db",
	.abi = KILN_EXT_ABI,
	.init_app = db_init_app,
	.init_worker = db_init_worker,
	.init_master = db_init_master,
	.fini_worker = db_fini_worker,
	.settings = db_settings,
	.nsettings = sizeof(db_settings) / sizeof(db_settings[0]),
	.commands = db_commands,
	.ncommands = sizeof(db_commands) / sizeof(db_commands[0]),
};

int64_t
kiln__db_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

kiln__db *
kiln__db_state(kiln_app *app)
{
	kiln__db *db = kiln_ext_data(app, &kiln_db);

	if (db == NULL)
		kiln__app_error(app, KILN_EINVAL,
		    "the database extension is not in use: "
		    "call kiln_use(app, &kiln_db)");
	return db;
}

/*
 * Drops a handle inherited across fork without using it: the connection
 * forgets its handle, statement cache and cursors, and its open
 * transaction levels are marked done. conn_close ends the same way.
 */
static void
conn_forget(kiln_db_conn *c)
{
	size_t i;

	for (i = 0; i < c->depth; i++)
		c->tx[i]->done = true;
	c->depth = 0;
	c->h = NULL;
	c->per = NULL;
	c->cache = NULL;
	c->ncache = 0;
	c->capcache = 0;
	c->cursors = NULL;
	c->broken = false;
}

/* Releases everything a connection holds, in the process that opened it. */
static void
conn_close(kiln_db_conn *c)
{
	kiln_db_cursor *cur;
	size_t i;

	while ((cur = c->cursors) != NULL)
		kiln_db_close(cur);
	if (c->h != NULL && c->pid == kiln__db_pid(c->db)) {
		for (i = 0; i < c->ncache; i++)
			c->ops->finalize(c->cache[i].h);
		c->ops->close(c->h);
		kiln_arena_free(c->per);
	}
	conn_forget(c);
}

static kiln_err
conn_open(kiln_db_conn *c)
{
	kiln_app *app = c->db->app;
	char err[KILN__DB_ERRMAX] = "";
	kiln_arena *per;
	int64_t cap;
	kiln_err rc;
	void *h = NULL;

	if ((per = kiln_arena_new(0)) == NULL)
		return kiln__app_error(app, KILN_ENOMEM,
		    "database %s: out of memory", c->alias);
	cap = kiln_setting_int(app, "database.stmt_cache");
	rc = c->ops->open(&c->url,
	    kiln_setting_int(app, "database.busy_timeout"), per, &h, err,
	    sizeof(err));
	if (rc == KILN_OK && cap > 0 &&
	    (c->cache = kiln_arena_calloc(per, (size_t)cap,
		 sizeof(*c->cache))) == NULL) {
		c->ops->close(h);
		rc = KILN_ENOMEM;
		snprintf(err, sizeof(err), "out of memory");
	}
	if (rc != KILN_OK) {
		kiln_arena_free(per);
		return kiln__app_error(app, rc, "database %s: %s", c->alias,
		    err);
	}
	c->h = h;
	c->per = per;
	c->pid = kiln__db_pid(c->db);
	c->opened_ms = kiln__db_now_ms();
	/* Read once here, not per query (a settings lookup by name). */
	c->max_age = kiln_setting_int(app, "database.conn_max_age");
	c->capcache = c->cache != NULL ? (size_t)cap : 0;
	c->ncache = 0;
	return KILN_OK;
}

/* Closes (or forgets) every connection of db. */
static void
conns_close(kiln__db *db)
{
	size_t i;

	for (i = 0; i < db->conns.n; i++)
		conn_close(db->conns.items[i]);
}

/* The page behind kiln__db_pid. */
struct kiln__dbpid {
	pid_t pid;  /* the process that wrote it */
	bool armed; /* pid is valid: false in a child after fork() */
};

pid_t
kiln__db_pid(kiln__db *db)
{
	struct kiln__dbpid *p = db->self;

	if (p != NULL && p->armed)
		return p->pid;
	if (p == NULL)
		return getpid();
	p->pid = getpid();
	p->armed = true;
	return p->pid;
}

/*
 * Maps the page of kiln__db_pid. A page of its own, not the app arena's
 * memory, because fork() must clear it in the child and nothing else.
 * Without MADV_WIPEONFORK, db->self stays NULL and kiln__db_pid asks the
 * kernel each time.
 */
static void
pid_page_map(kiln__db *db)
{
	long sz = sysconf(_SC_PAGESIZE);
	void *p;

	if (sz <= 0)
		return;
	/* Outlives no arena: unmapped by db_app_cleanup. */
	p = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
#ifdef MADV_WIPEONFORK
	if (madvise(p, (size_t)sz, MADV_WIPEONFORK) == 0) {
		db->self = p;
		return;
	}
#endif
	munmap(p, (size_t)sz);
}

static void
db_app_cleanup(void *data)
{
	kiln__db *db = data;

	conns_close(db);
	if (db->self != NULL) {
		munmap(db->self, (size_t)sysconf(_SC_PAGESIZE));
		db->self = NULL;
	}
}

/* Adds the alias name with URL text to db's table. */
static kiln_err
conn_add(kiln__db *db, const char *name, const char *text)
{
	kiln_app *app = db->app;
	kiln_arena *a = kiln_app_arena(app);
	char err[KILN__DB_ERRMAX] = "";
	kiln_db_conn *c;
	const char *p;

	for (p = name; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return kiln__app_error(app, KILN_ECONFIG,
			    "databases.%s: an alias is letters, digits, _ "
			    "and -",
			    name);
	}
	if ((c = kiln_arena_calloc(a, 1, sizeof(*c))) == NULL ||
	    (c->alias = kiln_arena_strdup(a, name)) == NULL ||
	    (c->urltext = kiln_arena_strdup(a, text)) == NULL)
		return kiln__app_error(app, KILN_ENOMEM, "out of memory");
	if (kiln_db_url_parse(a, text, &c->url, err, sizeof(err)) != KILN_OK)
		return kiln__app_error(app, KILN_ECONFIG, "%s: %s",
		    strcmp(name, "default") == 0 ?
			"database.url" :
			kiln_arena_printf(a, "databases.%s", name),
		    err);
	c->ops = strcmp(c->url.scheme, "sqlite") == 0 ? &kiln_db_sqlite :
							&kiln_db_mysql;
	c->db = db;
	if (kiln__ptrs_push(&db->conns, a, c) != KILN_OK)
		return kiln__app_error(app, KILN_ENOMEM, "out of memory");
	return KILN_OK;
}

/* What collect() gathers: copies of the names in [databases]. */
typedef struct collect_ctx {
	kiln_app *app;	  /* the app (its arena holds the copies) */
	kiln__ptrs names; /* char * */
	bool oom;	  /* a copy failed */
} collect_ctx;

static void
collect(const char *name, const char *shown, void *data)
{
	collect_ctx *ctx = data;
	char *copy;

	(void)shown;
	if (strncmp(name, "databases.", 10) != 0)
		return;
	if ((copy = kiln_arena_strdup(kiln_app_arena(ctx->app), name)) ==
		NULL ||
	    kiln__ptrs_push(&ctx->names, kiln_app_arena(ctx->app), copy) !=
		KILN_OK)
		ctx->oom = true;
}

/*
 * Reads the alias table from settings, once. The names in [databases]
 * are collected first, since a setting's real (unmasked) value can only
 * be read by name.
 */
static kiln_err build_table(kiln__db *db);

static kiln_err
build(kiln__db *db)
{
	kiln_err rc;

	if (db->built)
		return KILN_OK;
	if ((rc = build_table(db)) != KILN_OK)
		db->conns.n = 0;
	return rc;
}

static kiln_err
build_table(kiln__db *db)
{
	kiln_app *app = db->app;
	collect_ctx ctx;
	const char *name, *text;
	size_t i;
	kiln_err rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.app = app;
	kiln_settings_each(app, collect, &ctx);
	if (ctx.oom)
		return kiln__app_error(app, KILN_ENOMEM, "out of memory");
	text = kiln_setting_str(app, "database.url");
	if ((rc = conn_add(db, "default",
		 text != NULL ? text : "sqlite:db.sqlite3")) != KILN_OK)
		return rc;
	for (i = 0; i < ctx.names.n; i++) {
		name = ctx.names.items[i];
		if (strcmp(name + 10, "default") == 0)
			return kiln__app_error(app, KILN_ECONFIG,
			    "databases.default: the default database is "
			    "database.url");
		text = kiln_setting_str(app, name);
		if ((rc = conn_add(db, name + 10, text != NULL ? text : "")) !=
		    KILN_OK)
			return rc;
	}
	db->built = true;
	return KILN_OK;
}

static kiln_err
db_init_app(kiln_app *app, const kiln_ext *ext)
{
	kiln__db *db;

	if ((db = kiln_arena_calloc(kiln_app_arena(app), 1, sizeof(*db))) ==
	    NULL)
		return KILN_ENOMEM;
	db->app = app;
	pid_page_map(db);
	if (kiln_ext_set_data(app, ext, db) != KILN_OK ||
	    kiln_arena_cleanup_add(kiln_app_arena(app), db_app_cleanup, db) !=
		KILN_OK)
		return KILN_ENOMEM;
	return kiln__db_teardown_install(app);
}

/*
 * Before the first fork: reads the alias table and initialises the
 * client library of each driver in use, once, so the workers inherit it
 * (MariaDB's client initialises OpenSSL, about 2 MiB of pages a worker
 * would otherwise touch for itself). No connection is opened here.
 */
static kiln_err
db_init_master(kiln_app *app, const kiln_ext *ext)
{
	kiln__db *db = kiln_ext_data(app, ext);
	char err[KILN__DB_ERRMAX] = "";
	kiln_db_conn *c;
	size_t i;
	kiln_err rc;

	if ((rc = build(db)) != KILN_OK)
		return rc;
	for (i = 0; i < db->conns.n; i++) {
		c = db->conns.items[i];
		if (c->ops->library_init != NULL &&
		    (rc = c->ops->library_init(err, sizeof(err))) != KILN_OK)
			return kiln__app_error(app, rc, "%s", err);
	}
	return KILN_OK;
}

static kiln_err
db_init_worker(kiln_app *app, const kiln_ext *ext)
{
	kiln__db *db = kiln_ext_data(app, ext);
	kiln_db_conn *c;
	size_t i;

	for (i = 0; i < db->conns.n; i++) {
		c = db->conns.items[i];
		if (c->h != NULL && c->pid != kiln__db_pid(c->db))
			conn_forget(c);
	}
	return build(db);
}

static void
db_fini_worker(kiln_app *app, const kiln_ext *ext)
{
	conns_close(kiln_ext_data(app, ext));
}

/* Finds alias in db's table, or NULL with a message. */
static kiln_db_conn *
conn_find(kiln__db *db, const char *alias)
{
	kiln_db_conn *c;
	size_t i;

	if (build(db) != KILN_OK)
		return NULL;
	for (i = 0; i < db->conns.n; i++) {
		c = db->conns.items[i];
		if (strcmp(c->alias, alias) == 0)
			return c;
	}
	kiln__app_error(db->app, KILN_ENOTFOUND,
	    "no database named '%s' (see [databases] in the settings)", alias);
	return NULL;
}

bool
kiln_db_has_alias(kiln_app *app, const char *alias)
{
	kiln__db *db = kiln_ext_data(app, &kiln_db);
	size_t i;

	if (db == NULL || build(db) != KILN_OK)
		return false;
	for (i = 0; i < db->conns.n; i++)
		if (strcmp(((kiln_db_conn *)db->conns.items[i])->alias,
			alias != NULL ? alias : "default") == 0)
			return true;
	return false;
}

kiln_db_conn *
kiln_db_conn_get(kiln_app *app, const char *alias)
{
	kiln__db *db;
	kiln_db_conn *c;
	int64_t max_age;

	if ((db = kiln__db_state(app)) == NULL ||
	    (c = conn_find(db, alias != NULL ? alias : "default")) == NULL)
		return NULL;
	if (c->h != NULL && c->pid != kiln__db_pid(c->db))
		conn_forget(c);
	if (c->h != NULL && c->depth == 0 && c->cursors == NULL) {
		max_age = c->max_age;
		if (c->broken ||
		    (max_age > 0 && kiln__db_now_ms() - c->opened_ms > max_age))
			conn_close(c);
	}
	if (c->h == NULL && conn_open(c) != KILN_OK)
		return NULL;
	return c;
}

const char *
kiln_db_alias(const kiln_db_conn *c)
{
	return c->alias;
}

const char *
kiln_db_vendor(const kiln_db_conn *c)
{
	return c->ops->vendor;
}

kiln_app *
kiln_db_app(const kiln_db_conn *c)
{
	return c->db->app;
}

uint64_t
kiln_db_queries(const kiln_db_conn *c)
{
	return c->nqueries;
}

void *
kiln__db_native(kiln_db_conn *c)
{
	if (kiln_db_conn_get(c->db->app, c->alias) == NULL)
		return NULL;
	return c->ops == &kiln_db_mysql ? kiln__db_mysql_native(c->h) : c->h;
}

/* Makes sure c has a live handle in this process. */
static kiln_err
conn_ready(kiln_db_conn *c)
{
	if (c->h != NULL && c->pid != kiln__db_pid(c->db))
		conn_forget(c);
	if (c->broken && c->depth > 0)
		return kiln__app_error(c->db->app, KILN_EDB,
		    "database %s: the connection was lost inside a "
		    "transaction; roll it back",
		    c->alias);
	if (c->broken)
		conn_close(c);
	return c->h != NULL ? KILN_OK : conn_open(c);
}

/* Notes a failure: a lost connection is closed, or marked when in a tx. */
static int
conn_failed(kiln_db_conn *c)
{
	int lost = c->h != NULL ? c->ops->lost(c->h) : 0;

	if (lost != 0)
		c->broken = true;
	return lost;
}

kiln_err
kiln_db_exec(kiln_db_conn *c, const char *sql)
{
	char err[KILN__DB_ERRMAX] = "";
	kiln_err rc;
	int lost;

	if ((rc = conn_ready(c)) != KILN_OK)
		return rc;
	c->nqueries++;
	if ((rc = c->ops->exec(c->h, sql, err, sizeof(err))) == KILN_OK)
		return KILN_OK;
	lost = conn_failed(c);
	if (lost == 2 && c->depth == 0) {
		conn_close(c);
		if ((rc = conn_open(c)) != KILN_OK)
			return rc;
		if ((rc = c->ops->exec(c->h, sql, err, sizeof(err))) == KILN_OK)
			return KILN_OK;
		conn_failed(c);
	}
	return kiln__app_error(c->db->app, rc, "database %s: %s", c->alias,
	    err);
}

/* Returns true when sql is a read (SELECT), which is safe to retry. */
static bool
is_read(kiln_str sql)
{
	size_t i = 0;

	while (i < sql.len &&
	    (sql.ptr[i] == ' ' || sql.ptr[i] == '\n' || sql.ptr[i] == '\t' ||
		sql.ptr[i] == '('))
		i++;
	return sql.len - i >= 6 && strncasecmp(sql.ptr + i, "select", 6) == 0;
}

/* Returns the cache slot holding sql, or NULL. */
static kiln__stmt *
cache_find(kiln_db_conn *c, kiln_str sql)
{
	size_t i;

	for (i = 0; i < c->ncache; i++) {
		if (c->cache[i].len == sql.len &&
		    memcmp(c->cache[i].sql, sql.ptr, sql.len) == 0)
			return &c->cache[i];
	}
	return NULL;
}

static void
cursor_cleanup(void *data)
{
	kiln_db_close(data);
}

/*
 * Gets a statement for sql into cur: the cached one when idle, a new
 * cached one when there is room, else a private one prepared in cur's
 * arena (finalized on close).
 */
static kiln_err
stmt_get(kiln_db_cursor *cur, kiln_str sql, char *err, size_t errlen)
{
	kiln_db_conn *c = cur->c;
	kiln__stmt *slot = cache_find(c, sql);
	char *copy;
	void *h = NULL;
	kiln_err rc;

	if (slot != NULL && !slot->busy) {
		slot->busy = true;
		cur->slot = slot;
		cur->h = slot->h;
		return KILN_OK;
	}
	if (slot == NULL && c->ncache < c->capcache) {
		if ((copy = kiln_arena_strndup(c->per, sql.ptr, sql.len)) ==
		    NULL)
			return KILN_ENOMEM;
		if ((rc = c->ops->prepare(c->h, c->per, sql, &h, err,
			 errlen)) != KILN_OK)
			return rc;
		slot = &c->cache[c->ncache++];
		slot->sql = copy;
		slot->len = sql.len;
		slot->h = h;
		slot->busy = true;
		cur->slot = slot;
		cur->h = h;
		return KILN_OK;
	}
	if ((rc = c->ops->prepare(c->h, cur->a, sql, &h, err, errlen)) !=
	    KILN_OK)
		return rc;
	cur->slot = NULL;
	cur->h = h;
	return KILN_OK;
}

/*
 * One attempt at running sql: takes a statement, links the cursor so the
 * arena's cleanup releases it, executes. On failure the cursor is closed.
 */
static kiln_err
query_once(kiln_db_cursor *cur, kiln_str sql, const kiln_val *const *params,
    size_t n, char *err, size_t errlen, bool *prepared)
{
	kiln_db_conn *c = cur->c;
	kiln_err rc;

	*prepared = false;
	if ((rc = stmt_get(cur, sql, err, errlen)) != KILN_OK)
		return rc;
	*prepared = true;
	cur->conn_h = c->h;
	cur->open = true;
	cur->next = c->cursors;
	c->cursors = cur;
	rc = c->ops->execute(c->h, cur->h, cur->a, params, n, err, errlen);
	if (rc != KILN_OK) {
		kiln_db_close(cur);
		return rc;
	}
	cur->ncols = c->ops->ncols(cur->h);
	cur->affected = c->ops->affected(c->h, cur->h);
	cur->insert_id = c->ops->insert_id(c->h, cur->h);
	return KILN_OK;
}

kiln_err
kiln_db_query(kiln_db_conn *c, kiln_arena *a, kiln_str sql,
    const kiln_val *const *params, size_t n, kiln_db_cursor **out)
{
	char err[KILN__DB_ERRMAX];
	kiln_db_cursor *cur;
	bool prepared, retried = false;
	kiln_err rc;
	int lost;

	/* Not "= \"\"", which would clear all of it on every query. */
	err[0] = '\0';
	*out = NULL;
	if ((rc = conn_ready(c)) != KILN_OK)
		return rc;
	if ((cur = kiln_arena_calloc(a, 1, sizeof(*cur))) == NULL ||
	    kiln_arena_cleanup_add(a, cursor_cleanup, cur) != KILN_OK)
		return kiln__app_error(c->db->app, KILN_ENOMEM,
		    "database %s: out of memory", c->alias);
	cur->c = c;
	cur->a = a;
again:
	c->nqueries++;
	rc = query_once(cur, sql, params, n, err, sizeof(err), &prepared);
	if (rc == KILN_OK) {
		*out = cur;
		return KILN_OK;
	}
	lost = conn_failed(c);
	if (lost != 0 && c->depth == 0 && !retried &&
	    (!prepared || lost == 2 || is_read(sql))) {
		retried = true;
		conn_close(c);
		if ((rc = conn_open(c)) != KILN_OK)
			return rc;
		goto again;
	}
	return kiln__app_error(c->db->app, rc, "database %s: %s", c->alias,
	    err);
}

kiln_err
kiln_db_next(kiln_db_cursor *cur, kiln_val **row)
{
	char err[KILN__DB_ERRMAX];
	kiln_db_conn *c = cur->c;
	kiln_err rc;

	err[0] = '\0';
	*row = NULL;
	if (!cur->open)
		return KILN_OK;
	if (cur->conn_h != c->h) {
		kiln_db_close(cur);
		return kiln__app_error(c->db->app, KILN_EDB,
		    "database %s: connection closed under a cursor", c->alias);
	}
	rc = c->ops->fetch(c->h, cur->h, cur->a, row, err, sizeof(err));
	if (rc != KILN_OK) {
		conn_failed(c);
		kiln_db_close(cur);
		return kiln__app_error(c->db->app, rc, "database %s: %s",
		    c->alias, err);
	}
	if (*row == NULL)
		kiln_db_close(cur);
	return KILN_OK;
}

size_t
kiln_db_ncols(const kiln_db_cursor *cur)
{
	return cur->ncols;
}

const char *
kiln_db_colname(const kiln_db_cursor *cur, size_t i)
{
	if (!cur->open || i >= cur->ncols)
		return "";
	return cur->c->ops->colname(cur->h, i);
}

int64_t
kiln_db_affected(const kiln_db_cursor *cur)
{
	return cur->affected;
}

int64_t
kiln_db_insert_id(const kiln_db_cursor *cur)
{
	return cur->insert_id;
}

void
kiln_db_close(kiln_db_cursor *cur)
{
	kiln_db_conn *c = cur->c;
	kiln_db_cursor **pp;

	if (!cur->open)
		return;
	cur->open = false;
	for (pp = &c->cursors; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == cur) {
			*pp = cur->next;
			break;
		}
	}
	if (cur->conn_h != c->h || c->h == NULL ||
	    c->pid != kiln__db_pid(c->db))
		return;
	c->ops->reset(cur->h);
	if (cur->slot != NULL)
		cur->slot->busy = false;
	else
		c->ops->finalize(cur->h);
}

/*
 * APP createtables [alias]: kiln_orm_create_tables on one alias, or on
 * every configured one (the routers' allow_migrate decides per model).
 * A stop-gap until migrations; tables that exist are left alone.
 */
static int
cmd_createtables(kiln_app *app, int argc, char **argv)
{
	kiln__db *db = kiln__db_state(app);
	kiln_db_conn *c;
	size_t i;

	if (db == NULL || build(db) != KILN_OK) {
		fprintf(stderr, "%s: %s\n", argv[0], kiln_app_errmsg(app));
		return 1;
	}
	if (argc > 2) {
		fprintf(stderr, "usage: %s [alias]\n", argv[0]);
		return 2;
	}
	for (i = 0; i < db->conns.n; i++) {
		c = db->conns.items[i];
		if (argc == 2 && strcmp(argv[1], c->alias) != 0)
			continue;
		if (kiln_orm_create_tables(app, c->alias) != KILN_OK) {
			fprintf(stderr, "%s: %s\n", argv[0],
			    kiln_app_errmsg(app));
			return 1;
		}
		printf("tables created on %s (%s)\n", c->alias, c->ops->vendor);
		if (argc == 2)
			return 0;
	}
	if (argc == 2) {
		fprintf(stderr, "%s: no database named '%s'\n", argv[0],
		    argv[1]);
		return 1;
	}
	return 0;
}
