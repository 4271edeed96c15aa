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
 *                       randomNumber and saved
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
	rc = kiln_main(app, argc, argv);
	kiln_app_free(app);
	return rc;
}
