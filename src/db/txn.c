/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Transactions and savepoints. Level 1 is BEGIN/COMMIT/ROLLBACK; deeper
 * levels are SAVEPOINT kiln_sp<N>. Each level is a token in the arena it
 * was opened with, registered as a cleanup before the statement runs: if
 * the arena is reset while the level is still open (kiln_abort unwound
 * past it, or a view forgot to commit), the cleanup rolls back that level
 * and every level inside it. A teardown hook does the same at the end of
 * each request, so a dangling transaction never outlives its request.
 */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include <kiln/kiln.h>

#include "db_int.h"

/* Ends the innermost level with commit (true) or rollback (false). */
static kiln_err
tx_end(kiln_db_conn *c, bool commit)
{
	kiln__txlevel *t;
	char sql[64];
	kiln_err rc, rc2;

	if (c->depth == 0)
		return kiln__app_error(c->db->app, KILN_EINVAL,
		    "database %s: no transaction is open", c->alias);
	t = c->tx[c->depth - 1];
	if (t->level == 1) {
		rc = kiln_db_exec(c, commit ? "COMMIT" : "ROLLBACK");
		/* A failed COMMIT leaves the transaction open: end it. */
		if (rc != KILN_OK && commit &&
		    kiln_db_exec(c, "ROLLBACK") != KILN_OK)
			c->broken = true;
	} else {
		if (commit) {
			snprintf(sql, sizeof(sql),
			    "RELEASE SAVEPOINT kiln_sp%u", t->level);
			rc = kiln_db_exec(c, sql);
		} else {
			snprintf(sql, sizeof(sql),
			    "ROLLBACK TO SAVEPOINT kiln_sp%u", t->level);
			rc = kiln_db_exec(c, sql);
			snprintf(sql, sizeof(sql),
			    "RELEASE SAVEPOINT kiln_sp%u", t->level);
			rc2 = kiln_db_exec(c, sql);
			if (rc == KILN_OK)
				rc = rc2;
		}
	}
	t->done = true;
	c->depth--;
	return rc;
}

/* The arena cleanup of a level: rolls it back when still open. */
static void
tx_cleanup(void *data)
{
	kiln__txlevel *t = data;
	kiln_db_conn *c = t->c;

	if (t->done)
		return;
	if (c->h == NULL || c->pid != kiln__db_pid(c->db)) {
		t->done = true;
		return;
	}
	while (!t->done && c->depth >= t->level)
		(void)tx_end(c, false);
	t->done = true;
}

kiln_err
kiln_db_begin(kiln_db_conn *c, kiln_arena *a)
{
	kiln__txlevel *t;
	char sql[64];
	kiln_err rc;

	if (c->depth >= KILN__DB_MAXDEPTH)
		return kiln__app_error(c->db->app, KILN_ELIMIT,
		    "database %s: more than %d nested atomic blocks", c->alias,
		    KILN__DB_MAXDEPTH);
	if ((t = kiln_arena_calloc(a, 1, sizeof(*t))) == NULL)
		return kiln__app_error(c->db->app, KILN_ENOMEM,
		    "database %s: out of memory", c->alias);
	t->c = c;
	t->a = a;
	t->level = c->depth + 1;
	t->done = true;
	if (kiln_arena_cleanup_add(a, tx_cleanup, t) != KILN_OK)
		return kiln__app_error(c->db->app, KILN_ENOMEM,
		    "database %s: out of memory", c->alias);
	if (t->level == 1) {
		rc = kiln_db_exec(c, "BEGIN");
	} else {
		snprintf(sql, sizeof(sql), "SAVEPOINT kiln_sp%u", t->level);
		rc = kiln_db_exec(c, sql);
	}
	if (rc != KILN_OK)
		return rc;
	t->done = false;
	c->tx[c->depth++] = t;
	return KILN_OK;
}

kiln_err
kiln_db_commit(kiln_db_conn *c)
{
	return tx_end(c, true);
}

kiln_err
kiln_db_rollback(kiln_db_conn *c)
{
	return tx_end(c, false);
}

unsigned
kiln_db_depth(const kiln_db_conn *c)
{
	return c->depth;
}

kiln_err
kiln_db_atomic(kiln_db_conn *c, kiln_arena *a, kiln_db_atomic_fn fn, void *data)
{
	kiln_err rc;

	if ((rc = kiln_db_begin(c, a)) != KILN_OK)
		return rc;
	rc = fn(c, data);
	if (rc == KILN_OK)
		return kiln_db_commit(c);
	(void)tx_end(c, false);
	return rc;
}

/* Rolls back every level opened with the ending request's arena. */
static void
db_teardown(kiln_req *req)
{
	kiln__db *db = kiln_ext_data(kiln_req_app(req), &kiln_db);
	kiln_arena *a = kiln_req_arena(req);
	kiln_db_conn *c;
	size_t i;

	if (db == NULL)
		return;
	for (i = 0; i < db->conns.n; i++) {
		c = db->conns.items[i];
		if (c->h == NULL || c->pid != kiln__db_pid(c->db))
			continue;
		while (c->depth > 0 && c->tx[c->depth - 1]->a == a)
			(void)tx_end(c, false);
	}
}

kiln_err
kiln__db_teardown_install(kiln_app *app)
{
	return kiln_teardown_request(kiln_app_bp(app), db_teardown);
}
