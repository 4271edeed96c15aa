/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The benchmark application: TechEmpower's framework tests written the
 * way a Kiln user writes an application, through the public API only
 * (<kiln/kiln.h>): models and QuerySets for the database, a template
 * with autoescaping for the fortunes. bench/run serves it behind nginx
 * beside the peers in bench/peers/ and the raw libfcgi floor in
 * bench/floor/, all on one MariaDB that bench/run creates and fills.
 *
 *   /plaintext          "Hello, World!"
 *   /json               {"message":"Hello, World!"}
 *   /db                 one random World row as JSON
 *   /queries?queries=N  N random World rows (N clamped to 1..500)
 *   /fortunes           every Fortune plus one added at request time,
 *                       sorted by message, through templates/fortunes.html
 *   /updates?queries=N  N random World rows, each given a new
 *                       randomNumber, saved with one bulk_update
 *   /cached-queries?count=N
 *                       N random World rows from a per-worker in-memory
 *                       copy of the table, loaded on the worker's first
 *                       use (Kiln has no cache battery yet: this is a
 *                       plain array, not a shared cache)
 *
 * The database and template directory come from the settings file
 * bench/run writes ([database] url, [templates] dirs).
 *
 * TechEmpower requires Server and Date headers on every response; nginx,
 * which fronts every target in the suite, adds both, so the views do not.
 */
#define _POSIX_C_SOURCE 200809L /* getpid, under -std=c11 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kiln/kiln.h>

/*
 * The plaintext test: the fixed text "Hello, World!" as text/plain. The
 * rules allow no caching of the response object, so it is built anew on
 * every request, as any view would be.
 */
static kiln_resp *
plaintext_view(kiln_req *req)
{
	return kiln_resp_text(req, 200, "text/plain",
	    KILN_STR("Hello, World!"));
}

/*
 * The json test: a new object {"message": "Hello, World!"} built for
 * every request and serialised by the framework's JSON encoder, as the
 * rules require (no pre-serialised text).
 */
static kiln_resp *
json_view(kiln_req *req)
{
	kiln_arena *a = kiln_req_arena(req);
	kiln_val *obj;
	kiln_val *msg;

	obj = kiln_val_map(a);
	msg = kiln_val_cstr(a, "Hello, World!");
	if (obj == NULL || msg == NULL ||
	    kiln_val_set(obj, "message", msg) != KILN_OK)
		kiln_abort(req, 500);
	return kiln_resp_json(req, 200, obj);
}

/*
 * The database tests' models, on the tables bench/run creates (the
 * TechEmpower schema: world and fortune).
 */
static const kiln_field world_fields[] = {
	{ .name = "id", .type = KILN_FIELD_AUTO },
	{ .name = "randomNumber", .type = KILN_FIELD_INT },
};
static const kiln_model World = {
	.app_label = "bench",
	.name = "World",
	.table = "world",
	.fields = world_fields,
	.nfields = 2,
};

static const kiln_field fortune_fields[] = {
	{ .name = "id", .type = KILN_FIELD_AUTO },
	{ .name = "message", .type = KILN_FIELD_CHAR, .max_length = 2048 },
};
static const kiln_model Fortune = {
	.app_label = "bench",
	.name = "Fortune",
	.table = "fortune",
	.fields = fortune_fields,
	.nfields = 2,
};

/* Rows in the world table, and the most a queries test may ask for. */
#define WORLD_ROWS  10000
#define MAX_QUERIES 500

/*
 * A random number in 1..WORLD_ROWS. xorshift64, seeded on first use. Only
 * views draw, and views run only in workers, each forked from a master
 * that never drew: so each worker seeds itself, with its own pid, and
 * two workers do not draw the same ids (a getpid() per draw would cost a
 * system call each).
 */
static int64_t
random_id(void)
{
	static uint64_t state;

	if (state == 0)
		state = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^
		    0x9e3779b97f4a7c15ull;
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (int64_t)(state % WORLD_ROWS) + 1;
}

/*
 * The count a queries-style test asks for in argument name: an integer
 * clamped to 1..MAX_QUERIES, and 1 when it is missing or not a number,
 * as TechEmpower's rules say.
 */
static size_t
query_count(kiln_req *req, const char *name)
{
	const kiln_str *s = kiln_req_arg(req, name);
	int64_t n;

	if (s == NULL || kiln_str_to_i64(*s, &n) != KILN_OK || n < 1)
		return 1;
	return n > MAX_QUERIES ? MAX_QUERIES : (size_t)n;
}

/* World.objects.get(id=random): one row, or abort with 500. */
static kiln_row *
random_world(kiln_req *req)
{
	kiln_row *row;

	if (kiln_qs_get(kiln_qs_filter_i(kiln_objects(req, &World), "id",
			    random_id()),
		&row) != KILN_OK)
		kiln_abort_msg(req, 500, "%s",
		    kiln_app_errmsg(kiln_req_app(req)));
	return row;
}

/* The row as a JSON-ready map, or abort with 500. */
static kiln_val *
row_val(kiln_req *req, const kiln_row *row)
{
	kiln_val *v = kiln_row_val(row);

	if (v == NULL)
		kiln_abort(req, 500);
	return v;
}

/* The db test: one random World row, {"id":N,"randomNumber":M}. */
static kiln_resp *
db_view(kiln_req *req)
{
	return kiln_resp_json(req, 200, row_val(req, random_world(req)));
}

/* The queries test: a list of N random World rows, one query each. */
static kiln_resp *
queries_view(kiln_req *req)
{
	size_t i, n = query_count(req, "queries");
	kiln_val *list = kiln_val_list(kiln_req_arena(req));

	if (list == NULL)
		kiln_abort(req, 500);
	for (i = 0; i < n; i++) {
		if (kiln_val_push(list, row_val(req, random_world(req))) !=
		    KILN_OK)
			kiln_abort(req, 500);
	}
	return kiln_resp_json(req, 200, list);
}

/*
 * The updates test: N random rows read one by one, each given a new
 * randomNumber, then written back together with one bulk_update (one
 * UPDATE ... CASE by primary key, as Django's bulk_update, which the
 * rules allow: "use of batch updates is acceptable"). An id drawn twice
 * is stored with its first new number.
 */
static kiln_resp *
updates_view(kiln_req *req)
{
	size_t i, n = query_count(req, "queries");
	kiln_val *list = kiln_val_list(kiln_req_arena(req));
	kiln_row **rows =
	    kiln_arena_alloc(kiln_req_arena(req), n * sizeof(*rows));

	if (list == NULL || rows == NULL)
		kiln_abort(req, 500);
	for (i = 0; i < n; i++) {
		rows[i] = random_world(req);
		if (kiln_row_set_int(rows[i], "randomNumber", random_id()) !=
		    KILN_OK)
			kiln_abort_msg(req, 500, "%s",
			    kiln_app_errmsg(kiln_req_app(req)));
	}
	if (kiln_orm_bulk_update(rows, n, NULL, "randomNumber", NULL) !=
	    KILN_OK)
		kiln_abort_msg(req, 500, "%s",
		    kiln_app_errmsg(kiln_req_app(req)));
	for (i = 0; i < n; i++)
		if (kiln_val_push(list, row_val(req, rows[i])) != KILN_OK)
			kiln_abort(req, 500);
	return kiln_resp_json(req, 200, list);
}

/* qsort order of the fortunes: by message, bytewise (UTF-8 code points). */
static int
fortune_cmp(const void *a, const void *b)
{
	const kiln_row *x = *(const kiln_row *const *)a;
	const kiln_row *y = *(const kiln_row *const *)b;

	return strcmp(kiln_row_str(x, "message"), kiln_row_str(y, "message"));
}

/*
 * The fortunes test: every Fortune row plus one added at request time
 * (id 0, never saved), sorted by message, rendered by
 * templates/fortunes.html, whose autoescaping turns the stored
 * <script> fortune into text.
 */
static kiln_resp *
fortunes_view(kiln_req *req)
{
	kiln_app *app = kiln_req_app(req);
	kiln_arena *a = kiln_req_arena(req);
	kiln_row **rows, **all, *extra;
	kiln_val *ctx, *list;
	size_t i, n;

	if (kiln_qs_all(kiln_objects(req, &Fortune), &rows, &n) != KILN_OK)
		kiln_abort_msg(req, 500, "%s", kiln_app_errmsg(app));
	extra = kiln_row_new(app, a, &Fortune);
	all = kiln_arena_alloc(a, (n + 1) * sizeof(*all));
	if (extra == NULL || all == NULL ||
	    kiln_row_set_int(extra, "id", 0) != KILN_OK ||
	    kiln_row_set_str(extra, "message",
		"Additional fortune added at request time.") != KILN_OK)
		kiln_abort(req, 500);
	for (i = 0; i < n; i++)
		all[i] = rows[i];
	all[n] = extra;
	qsort(all, n + 1, sizeof(*all), fortune_cmp);
	ctx = kiln_val_map(a);
	list = kiln_val_list(a);
	if (ctx == NULL || list == NULL)
		kiln_abort(req, 500);
	for (i = 0; i <= n; i++) {
		if (kiln_val_push(list, row_val(req, all[i])) != KILN_OK)
			kiln_abort(req, 500);
	}
	if (kiln_val_set(ctx, "fortunes", list) != KILN_OK)
		kiln_abort(req, 500);
	return kiln_render(req, "fortunes.html", ctx);
}

/*
 * The cached-queries test's cache: the randomNumber of every World row,
 * loaded from the database on a worker's first use and kept for the
 * worker's life. Per worker and never invalidated: Kiln has no cache
 * battery yet, so this is what a user would write today (TechEmpower
 * allows an in-process map).
 */
static int32_t *world_cache;

/* Rows loaded per query while filling the cache. */
#define CACHE_CHUNK 1000

/*
 * Fills the cache CACHE_CHUNK rows at a time, reusing one arena, so a
 * worker's heap grows by one chunk's rows and not by the whole table's.
 */
static void
load_world_cache(kiln_req *req)
{
	kiln_app *app = kiln_req_app(req);
	kiln_arena *a = kiln_arena_new(0);
	kiln_row **rows;
	kiln_qs *qs;
	size_t i, n;
	int64_t id, lo;

	if (a == NULL)
		kiln_abort(req, 500);
	free(world_cache);
	world_cache = calloc(WORLD_ROWS + 1, sizeof(*world_cache));
	if (world_cache == NULL) {
		kiln_arena_free(a);
		kiln_abort(req, 500);
	}
	for (lo = 1; lo <= WORLD_ROWS; lo += CACHE_CHUNK) {
		qs = kiln_qs_filter_i(kiln_qs_new(app, a, &World), "id__gte",
		    lo);
		qs = kiln_qs_filter_i(qs, "id__lt", lo + CACHE_CHUNK);
		if (kiln_qs_all(qs, &rows, &n) != KILN_OK) {
			kiln_arena_free(a);
			free(world_cache);
			world_cache = NULL;
			kiln_abort_msg(req, 500, "%s", kiln_app_errmsg(app));
		}
		for (i = 0; i < n; i++) {
			id = kiln_row_pk(rows[i]);
			if (id >= 1 && id <= WORLD_ROWS)
				world_cache[id] = (int32_t)kiln_row_int(rows[i],
				    "randomNumber");
		}
		kiln_arena_reset(a);
	}
	kiln_arena_free(a);
}

/* The cached-queries test: N random rows from the per-worker cache. */
static kiln_resp *
cached_queries_view(kiln_req *req)
{
	kiln_arena *a = kiln_req_arena(req);
	size_t i, n = query_count(req, "count");
	kiln_val *list = kiln_val_list(a), *obj;
	int64_t id;

	if (world_cache == NULL) /* each worker loads its own */
		load_world_cache(req);
	if (list == NULL)
		kiln_abort(req, 500);
	for (i = 0; i < n; i++) {
		id = random_id();
		obj = kiln_val_map(a);
		if (obj == NULL ||
		    kiln_val_set(obj, "id", kiln_val_int(a, id)) != KILN_OK ||
		    kiln_val_set(obj, "randomNumber",
			kiln_val_int(a, world_cache[id])) != KILN_OK ||
		    kiln_val_push(list, obj) != KILN_OK)
			kiln_abort(req, 500);
	}
	return kiln_resp_json(req, 200, list);
}

/* Registers a route or stops main with the app's message. */
#define CHECK(call)                                        \
	do {                                               \
		if ((call) != KILN_OK) {                   \
			fprintf(stderr, "bench_app: %s\n", \
			    kiln_app_errmsg(app));         \
			kiln_app_free(app);                \
			return 1;                          \
		}                                          \
	} while (0)

int
main(int argc, char **argv)
{
	kiln_app *app = kiln_app_new("bench");
	kiln_bp *root;
	int rc;

	if (app == NULL) {
		fprintf(stderr, "bench_app: out of memory\n");
		return 1;
	}
	root = kiln_app_bp(app);
	CHECK(
	    kiln_route(root, "GET", "/plaintext", plaintext_view, "plaintext"));
	CHECK(kiln_route(root, "GET", "/json", json_view, "json"));
	CHECK(kiln_use(app, &kiln_db));
	CHECK(kiln_use(app, &kiln_templates));
	CHECK(kiln_model_register(app, &World));
	CHECK(kiln_model_register(app, &Fortune));
	CHECK(kiln_route(root, "GET", "/db", db_view, "db"));
	CHECK(kiln_route(root, "GET", "/queries", queries_view, "queries"));
	CHECK(kiln_route(root, "GET", "/fortunes", fortunes_view, "fortunes"));
	CHECK(kiln_route(root, "GET", "/updates", updates_view, "updates"));
	CHECK(kiln_route(root, "GET", "/cached-queries", cached_queries_view,
	    "cached_queries"));
	rc = kiln_main(app, argc, argv);
	kiln_app_free(app);
	return rc;
}
