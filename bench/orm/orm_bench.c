/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The ORM beside hand-written prepared statements (issue 5): the
 * TechEmpower "db" test (one World row by a random id) and "queries"
 * test (20 of them), both on ONE Kiln connection. The ORM side is what a
 * view writes,
 *
 *     kiln_qs_get(kiln_qs_filter_i(kiln_objects(req, &World), "id", id), &r)
 *
 * in a request arena reset once per iteration; the raw side prepares
 * its statement once on the connection's own handle (MYSQL * or
 * sqlite3 *, from the internal kiln__db_native) and then only binds,
 * executes and reads per fetch. Both walk the same random ids.
 *
 *     orm_bench URL [--setup] [--rounds N] [--seconds S] [--label L]
 *     orm_bench URL --profile orm|raw [--iters N] [--queries Q]
 *
 * --setup (re)creates the World table (10000 rows) through the ORM
 * (sqlite::memory: always needs it). 200 rows are read by both sides
 * first and compared. A round (default 15) times each (test, side) for
 * about S seconds (default 0.1) with an iteration count fixed in the
 * warm-up, in 20 slices that alternate the sides (ABBA). Prints one
 * Markdown table row per test: the medians in microseconds per
 * iteration, the median of the per-round ratios ORM/raw, and their
 * range. --profile runs one side's loop for callgrind
 * (--toggle-collect=orm_loop or raw_loop).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>
#include <sqlite3.h>

#include <kiln/kiln.h>

#include "db_int.h"

#define WORLD_ROWS 10000
#define MAX_ROUNDS 101
#define SLICES	   20 /* interleaved slices per round */

static const kiln_field world_fields[] = {
	{
	    .name = "id",
	    .type = KILN_FIELD_AUTO,
	},
	{
	    .name = "randomNumber",
	    .type = KILN_FIELD_INT,
	},
};

static const kiln_model World = {
	.app_label = "bench",
	.name = "World",
	.table = "World",
	.fields = world_fields,
	.nfields = 2,
};

static const char *const world_sql =
    "SELECT \"id\", \"randomNumber\" FROM \"World\" WHERE \"id\" = ?";

/* Everything one backend's run needs. */
typedef struct bench {
	kiln_app *app;	     /* with kiln_db and World registered */
	kiln_db_conn *c;     /* the one connection */
	kiln_arena *a;	     /* the "request" arena of the ORM side */
	bool mysql;	     /* which driver */
	MYSQL_STMT *my;	     /* raw, MariaDB: prepared once */
	MYSQL_BIND myp[1];   /* its parameter */
	MYSQL_BIND myr[2];   /* its result columns */
	long long pid;	     /* the parameter's storage */
	long long rid, rnum; /* the result's storage */
	sqlite3_stmt *sq;    /* raw, SQLite: prepared once */
	uint64_t seed;	     /* the id sequence */
	int64_t sum;	     /* what was read (so nothing is optimised out) */
} bench;

static void
die(bench *b, const char *what)
{
	fprintf(stderr, "orm_bench: %s: %s\n", what,
	    b != NULL && b->app != NULL ? kiln_app_errmsg(b->app) : "");
	exit(1);
}

/* The next id in 1..WORLD_ROWS (xorshift64). */
static int64_t
next_id(bench *b)
{
	b->seed ^= b->seed << 13;
	b->seed ^= b->seed >> 7;
	b->seed ^= b->seed << 17;
	return (int64_t)(b->seed % WORLD_ROWS) + 1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* (Re)creates World with WORLD_ROWS rows through the ORM. */
static void
setup_table(bench *b)
{
	kiln_row **rows;
	size_t i;

	if (kiln_orm_drop_tables(b->app, NULL) != KILN_OK ||
	    kiln_orm_create_tables(b->app, NULL) != KILN_OK)
		die(b, "create World");
	if ((rows = kiln_arena_calloc(b->a, WORLD_ROWS, sizeof(*rows))) == NULL)
		die(b, "out of memory");
	srand(1);
	for (i = 0; i < WORLD_ROWS; i++) {
		if ((rows[i] = kiln_row_new(b->app, b->a, &World)) == NULL ||
		    kiln_row_set_int(rows[i], "id", (int64_t)i + 1) !=
			KILN_OK ||
		    kiln_row_set_int(rows[i], "randomNumber",
			1 + rand() % 10000) != KILN_OK)
			die(b, "fill World");
	}
	if (kiln_db_begin(b->c, b->a) != KILN_OK ||
	    kiln_orm_bulk_create(rows, WORLD_ROWS) != KILN_OK ||
	    kiln_db_commit(b->c) != KILN_OK)
		die(b, "fill World");
	kiln_arena_reset(b->a);
}

/* Prepares the raw side's statement on the connection's own handle. */
static void
setup_raw(bench *b)
{
	void *h = kiln__db_native(b->c);

	if (h == NULL)
		die(b, "native handle");
	if (!b->mysql) {
		if (sqlite3_prepare_v2(h, world_sql, -1, &b->sq, NULL) !=
		    SQLITE_OK)
			die(b, sqlite3_errmsg(h));
		return;
	}
	if ((b->my = mysql_stmt_init(h)) == NULL ||
	    mysql_stmt_prepare(b->my, world_sql, strlen(world_sql)) != 0)
		die(b, mysql_error(h));
	memset(b->myp, 0, sizeof(b->myp));
	b->myp[0].buffer_type = MYSQL_TYPE_LONGLONG;
	b->myp[0].buffer = &b->pid;
	memset(b->myr, 0, sizeof(b->myr));
	b->myr[0].buffer_type = MYSQL_TYPE_LONGLONG;
	b->myr[0].buffer = &b->rid;
	b->myr[1].buffer_type = MYSQL_TYPE_LONGLONG;
	b->myr[1].buffer = &b->rnum;
	if (mysql_stmt_bind_param(b->my, b->myp) != 0 ||
	    mysql_stmt_bind_result(b->my, b->myr) != 0)
		die(b, mysql_stmt_error(b->my));
}

/*
 * The ORM side: iters iterations ("requests") of q fetches each, the
 * arena reset per iteration as the request's would be.
 */
__attribute__((noinline)) static void
orm_loop(bench *b, long iters, int q)
{
	kiln_qs *qs;
	kiln_row *r;
	long i;
	int k;

	for (i = 0; i < iters; i++) {
		kiln_arena_reset(b->a);
		for (k = 0; k < q; k++) {
			qs = kiln_qs_filter_i(kiln_qs_new(b->app, b->a, &World),
			    "id", next_id(b));
			if (kiln_qs_get(qs, &r) != KILN_OK)
				die(b, "ORM get");
			b->sum += kiln_row_int(r, "randomNumber");
		}
	}
}

/* The raw side: the same fetches with the statement prepared once. */
__attribute__((noinline)) static void
raw_loop(bench *b, long iters, int q)
{
	long i;
	int k, rc;

	for (i = 0; i < iters; i++) {
		for (k = 0; k < q; k++) {
			if (!b->mysql) {
				sqlite3_bind_int64(b->sq, 1, next_id(b));
				if (sqlite3_step(b->sq) != SQLITE_ROW)
					die(b, "sqlite3_step");
				b->sum += sqlite3_column_int64(b->sq, 1);
				sqlite3_reset(b->sq);
				continue;
			}
			b->pid = next_id(b);
			if (mysql_stmt_execute(b->my) != 0)
				die(b, mysql_stmt_error(b->my));
			while ((rc = mysql_stmt_fetch(b->my)) == 0)
				b->sum += b->rnum;
			if (rc != MYSQL_NO_DATA)
				die(b, mysql_stmt_error(b->my));
		}
	}
}

/*
 * Checks that both sides read the same rows: the ORM's row against the
 * raw statement's for n ids, so the ratio compares equal work.
 */
static void
verify(bench *b, int n)
{
	kiln_row *r;
	int64_t id, want;
	int i, rc;

	for (i = 0; i < n; i++) {
		id = next_id(b);
		kiln_arena_reset(b->a);
		if (kiln_qs_get(kiln_qs_filter_i(kiln_qs_new(b->app, b->a,
						     &World),
				    "id", id),
			&r) != KILN_OK)
			die(b, "ORM get");
		if (!b->mysql) {
			sqlite3_bind_int64(b->sq, 1, id);
			if (sqlite3_step(b->sq) != SQLITE_ROW)
				die(b, "sqlite3_step");
			want = sqlite3_column_int64(b->sq, 1);
			sqlite3_reset(b->sq);
		} else {
			b->pid = id;
			if (mysql_stmt_execute(b->my) != 0 ||
			    mysql_stmt_fetch(b->my) != 0)
				die(b, mysql_stmt_error(b->my));
			want = b->rnum;
			while ((rc = mysql_stmt_fetch(b->my)) == 0)
				;
			if (rc != MYSQL_NO_DATA)
				die(b, mysql_stmt_error(b->my));
		}
		if (kiln_row_pk(r) != id ||
		    kiln_row_int(r, "randomNumber") != want) {
			fprintf(stderr,
			    "orm_bench: id %lld: ORM and raw differ\n",
			    (long long)id);
			exit(1);
		}
	}
}

/* Runs one side; returns the seconds it took. */
static double
timed(bench *b, bool orm, long iters, int q)
{
	double t0 = now_s();

	if (orm)
		orm_loop(b, iters, q);
	else
		raw_loop(b, iters, q);
	return now_s() - t0;
}

/* Iterations that take about secs, from a short trial. */
static long
calibrate(bench *b, bool orm, int q, double secs)
{
	long n = 1;
	double t;

	for (;;) {
		t = timed(b, orm, n, q);
		if (t > 0.01 || n > (1L << 30))
			break;
		n *= 2;
	}
	n = (long)((double)n * secs / t);
	return n > 0 ? n : 1;
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, c = *(const double *)y;

	return a < c ? -1 : a > c;
}

static double
median(const double *v, int n)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/*
 * Times one test (q fetches per iteration) and prints its row. A round
 * is SLICES short slices, each running both sides in turn (ABBA), so a
 * burst of load from elsewhere on the machine lands on both sides
 * alike; a round's time per side is the sum over its slices. Reported:
 * the medians over rounds of each side's time per iteration, the median
 * of the rounds' ratios, and their range.
 */
static void
run_test(bench *b, const char *label, const char *test, int q, int rounds,
    double secs)
{
	double orm[MAX_ROUNDS], raw[MAX_ROUNDS], ratio[MAX_ROUNDS];
	double lo, hi, to, tr;
	long n_orm, n_raw;
	int i, k;

	/* Warm-up (caches, the server's buffer pool) and calibration. */
	n_orm = calibrate(b, true, q, secs / SLICES);
	n_raw = calibrate(b, false, q, secs / SLICES);
	for (i = 0; i < rounds; i++) {
		to = tr = 0;
		for (k = 0; k < SLICES; k++) {
			if (k % 4 == 0 || k % 4 == 3) {
				to += timed(b, true, n_orm, q);
				tr += timed(b, false, n_raw, q);
			} else {
				tr += timed(b, false, n_raw, q);
				to += timed(b, true, n_orm, q);
			}
		}
		orm[i] = to / (double)(n_orm * SLICES);
		raw[i] = tr / (double)(n_raw * SLICES);
		ratio[i] = orm[i] / raw[i];
	}
	lo = 1e9;
	hi = 0;
	for (i = 0; i < rounds; i++) {
		lo = ratio[i] < lo ? ratio[i] : lo;
		hi = ratio[i] > hi ? ratio[i] : hi;
	}
	printf("| %s | %s | %.2f | %.2f | **%.2fx** | %.2f–%.2f | %d |\n",
	    label, test, median(orm, rounds) * 1e6, median(raw, rounds) * 1e6,
	    median(ratio, rounds), lo, hi, rounds);
	fflush(stdout);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: orm_bench URL [--setup] [--rounds N] [--seconds S] "
	    "[--label L]\n"
	    "       orm_bench URL --profile orm|raw [--iters N] "
	    "[--queries Q]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	bench b;
	const char *url, *profile = NULL, *label = NULL;
	double secs = 0.1;
	long iters = 20000;
	int i, rounds = 15, queries = 1;
	bool setup = false;

	if (argc < 2)
		usage();
	url = argv[1];
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--setup") == 0)
			setup = true;
		else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			secs = atof(argv[++i]);
		else if (strcmp(argv[i], "--label") == 0 && i + 1 < argc)
			label = argv[++i];
		else if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc)
			profile = argv[++i];
		else if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc)
			iters = atol(argv[++i]);
		else if (strcmp(argv[i], "--queries") == 0 && i + 1 < argc)
			queries = atoi(argv[++i]);
		else
			usage();
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || secs <= 0 || iters < 1 ||
	    queries < 1)
		usage();
	memset(&b, 0, sizeof(b));
	b.seed = 88172645463325252ULL;
	if ((b.app = kiln_app_new("orm_bench")) == NULL)
		die(NULL, "kiln_app_new");
	if (kiln_use(b.app, &kiln_db) != KILN_OK ||
	    kiln_setting_set(b.app, "database.url", url) != KILN_OK ||
	    kiln_app_configure(b.app, NULL) != KILN_OK ||
	    kiln_model_register(b.app, &World) != KILN_OK)
		die(&b, "configure");
	if ((b.a = kiln_arena_new(0)) == NULL)
		die(&b, "kiln_arena_new");
	if ((b.c = kiln_db_conn_get(b.app, NULL)) == NULL)
		die(&b, "connect");
	b.mysql = strcmp(kiln_db_vendor(b.c), "mysql") == 0;
	if (setup)
		setup_table(&b);
	setup_raw(&b);
	verify(&b, 200);
	if (label == NULL)
		label = b.mysql ? "MariaDB" : "SQLite";
	if (profile != NULL) {
		/* A short warm-up, so one-time preparation is not counted. */
		orm_loop(&b, 10, queries);
		raw_loop(&b, 10, queries);
		if (strcmp(profile, "orm") == 0)
			orm_loop(&b, iters, queries);
		else if (strcmp(profile, "raw") == 0)
			raw_loop(&b, iters, queries);
		else
			usage();
	} else {
		run_test(&b, label, "db (1 query)", 1, rounds, secs);
		run_test(&b, label, "queries=20", 20, rounds, secs);
	}
	if (b.my != NULL)
		mysql_stmt_close(b.my);
	if (b.sq != NULL)
		sqlite3_finalize(b.sq);
	kiln_arena_free(b.a);
	kiln_app_free(b.app);
	return b.sum == -1; /* never: keeps sum alive */
}
