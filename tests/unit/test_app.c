/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * App-level behaviour through the test client: registration errors,
 * blueprints (twice, relative url_for), the order of hooks and
 * middleware, short-circuits, g, abort from depth, error handlers at app
 * and blueprint level, teardown on failure, and the request signals.
 */
#include <stdio.h>

#include <check.h>

#include <kiln/kiln.h>

#include "suites.h"

/* The order hooks ran in, as letters. */
static char trace[64];

static void
mark(const char *s)
{
	strncat(trace, s, sizeof(trace) - strlen(trace) - 1);
}

static kiln_resp *
view_ok(kiln_req *req)
{
	mark("V");
	return kiln_resp_text(req, 200, "text/plain", KILN_STR("ok"));
}

static int
deep_abort(kiln_req *req, int depth)
{
	if (depth < 0)
		return 0;
	if (depth == 0)
		kiln_abort_msg(req, 403, "no entry at depth %d", depth);
	return deep_abort(req, depth - 1) + 1;
}

static int
deep_abort500(kiln_req *req, int depth)
{
	if (depth < 0)
		return 0;
	if (depth == 0)
		kiln_abort_msg(req, 500, "the disk is <full>");
	return deep_abort500(req, depth - 1) + 1;
}

static kiln_resp *
view_deep(kiln_req *req)
{
	return kiln_resp_printf(req, 200, "%d", deep_abort(req, 20));
}

static kiln_resp *
view_null(kiln_req *req)
{
	(void)req;
	return NULL;
}

static kiln_resp *
view_g(kiln_req *req)
{
	const char *seen = kiln_g_get(req, "user");

	if (kiln_g_get(req, "leftover") != NULL)
		return kiln_resp_text(req, 500, NULL, KILN_STR("g leaked"));
	if (kiln_g_set(req, "leftover",
		kiln_arena_strdup(kiln_req_arena(req), "x")) != KILN_OK)
		kiln_abort(req, 500);
	return kiln_resp_printf(req, 200, "user=%s", seen != NULL ? seen : "-");
}

static kiln_resp *
view_bpname(kiln_req *req)
{
	return kiln_resp_printf(req, 200, "%s %s %s", kiln_req_blueprint(req),
	    kiln_req_endpoint(req),
	    kiln_url_for(req, ".item", "id", "7", NULL));
}

static kiln_resp *
before_a(kiln_req *req)
{
	mark("a");
	if (kiln_g_set(req, "user",
		kiln_arena_strdup(kiln_req_arena(req), "ann")) != KILN_OK)
		kiln_abort(req, 500);
	return NULL;
}

static kiln_resp *
before_bp(kiln_req *req)
{
	mark("b");
	if (kiln_req_arg(req, "stop") != NULL)
		return kiln_resp_text(req, 409, NULL, KILN_STR("stopped"));
	return NULL;
}

static kiln_resp *
after_1(kiln_req *req, kiln_resp *resp)
{
	(void)req;
	mark("1");
	return resp;
}

static kiln_resp *
after_2(kiln_req *req, kiln_resp *resp)
{
	(void)req;
	mark("2");
	return resp;
}

static kiln_resp *
after_bp(kiln_req *req, kiln_resp *resp)
{
	(void)req;
	mark("B");
	return resp;
}

static void
teardown_t(kiln_req *req)
{
	(void)req;
	mark("T");
}

static kiln_resp *
mw_outer(kiln_req *req, kiln_next *next)
{
	kiln_resp *resp;

	mark("(");
	if (kiln_req_header(req, "X-Block") != NULL)
		return kiln_resp_text(req, 451, NULL, KILN_STR("blocked"));
	resp = kiln_next_call(req, next);
	mark(")");
	if (kiln_resp_header_set(resp, "X-Mw", "1") != KILN_OK)
		kiln_abort(req, 500);
	return resp;
}

static kiln_resp *
handler_403(kiln_req *req, int status)
{
	return kiln_resp_printf(req, status, "custom %d: %s", status,
	    kiln_req_errmsg(req));
}

static kiln_resp *
bp_handler_404(kiln_req *req, int status)
{
	return kiln_resp_printf(req, status, "bp-404");
}

static kiln_resp *
view_bp404(kiln_req *req)
{
	kiln_abort(req, 404);
}

static int started, finished, exceptions;

static void
on_signal(const kiln_signal *sig, const void *sender, void *args, void *data)
{
	(void)sender;
	(void)args;
	(void)data;
	if (strcmp(kiln_signal_name(sig), KILN_SIGNAL_REQUEST_STARTED) == 0)
		started++;
	else if (strcmp(kiln_signal_name(sig), KILN_SIGNAL_REQUEST_FINISHED) ==
	    0)
		finished++;
	else
		exceptions++;
}

static kiln_app *
make_app(void)
{
	kiln_app *app = kiln_app_new("test");
	kiln_bp *root, *bp;

	ck_assert_ptr_nonnull(app);
	root = kiln_app_bp(app);
	ck_assert_int_eq(kiln_route(root, "GET", "/", view_ok, "index"),
	    KILN_OK);
	ck_assert_int_eq(kiln_route(root, "GET", "/deep", view_deep, "deep"),
	    KILN_OK);
	ck_assert_int_eq(kiln_route(root, "GET", "/null", view_null, "null"),
	    KILN_OK);
	ck_assert_int_eq(kiln_route(root, "GET", "/g", view_g, "g"), KILN_OK);
	ck_assert_int_eq(kiln_before_request(root, before_a), KILN_OK);
	ck_assert_int_eq(kiln_after_request(root, after_1), KILN_OK);
	ck_assert_int_eq(kiln_after_request(root, after_2), KILN_OK);
	ck_assert_int_eq(kiln_teardown_request(root, teardown_t), KILN_OK);
	ck_assert_int_eq(kiln_errorhandler(root, 403, handler_403), KILN_OK);
	ck_assert_int_eq(kiln_use_middleware(app, mw_outer), KILN_OK);

	bp = kiln_bp_new(app, "shop", "/shop");
	ck_assert_ptr_nonnull(bp);
	ck_assert_int_eq(kiln_route(bp, "GET", "/", view_ok, "index"), KILN_OK);
	ck_assert_int_eq(kiln_route(bp, "GET", "/item/<int:id>/", view_bpname,
			     "item"),
	    KILN_OK);
	ck_assert_int_eq(kiln_route(bp, "GET", "/gone", view_bp404, "gone"),
	    KILN_OK);
	ck_assert_int_eq(kiln_before_request(bp, before_bp), KILN_OK);
	ck_assert_int_eq(kiln_after_request(bp, after_bp), KILN_OK);
	ck_assert_int_eq(kiln_errorhandler(bp, 404, bp_handler_404), KILN_OK);
	ck_assert_int_eq(kiln_register_bp(app, bp, NULL, NULL), KILN_OK);
	/* The same blueprint again under another prefix and name. */
	ck_assert_int_eq(kiln_register_bp(app, bp, "/store", "store"), KILN_OK);
	ck_assert_int_eq(kiln_app_configure(app, NULL), KILN_OK);
	trace[0] = '\0';
	return app;
}

START_TEST(test_app_hook_order)
{
	kiln_app *app = make_app();
	kiln_client *c = kiln_client_new(app);
	const kiln_client_resp *r;

	r = kiln_client_get(c, "/");
	ck_assert_int_eq(r->status, 200);
	/* middleware ( before a, view V, after hooks newest first, ) teardown
	 */
	ck_assert_str_eq(trace, "(aV21)T");
	ck_assert_ptr_nonnull(kiln_client_resp_header(r, "X-Mw"));
	trace[0] = '\0';
	r = kiln_client_get(c, "/shop/");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(trace, "(abVB21)T");
	kiln_client_free(c);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_app_short_circuits)
{
	kiln_app *app = make_app();
	kiln_client *c = kiln_client_new(app);
	const kiln_client_resp *r;
	kiln_kvs h;
	kiln_arena *a = kiln_arena_new(0);

	r = kiln_client_get(c, "/shop/?stop=1");
	ck_assert_int_eq(r->status, 409);
	ck_assert_str_eq(r->body.ptr, "stopped");
	/* The view did not run, but after hooks did. */
	ck_assert_str_eq(trace, "(abB21)T");
	kiln_kvs_init(&h, a);
	ck_assert_int_eq(kiln_kvs_add(&h, KILN_STR("X-Block"), KILN_STR("1")),
	    KILN_OK);
	trace[0] = '\0';
	r = kiln_client_request(c, "GET", "/", &h, KILN_STR_NULL);
	ck_assert_int_eq(r->status, 451);
	/* A middleware's short-circuit skips everything inside it. */
	ck_assert_str_eq(trace, "(T");
	kiln_arena_free(a);
	kiln_client_free(c);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_app_abort_from_depth)
{
	kiln_app *app = make_app();
	kiln_client *c = kiln_client_new(app);
	const kiln_client_resp *r;

	r = kiln_client_get(c, "/deep");
	ck_assert_int_eq(r->status, 403);
	ck_assert_str_eq(r->body.ptr, "custom 403: no entry at depth 0");
	/* The middleware saw the error response and still unwound. */
	ck_assert_ptr_nonnull(kiln_client_resp_header(r, "X-Mw"));
	ck_assert_ptr_nonnull(strchr(trace, 'T'));
	kiln_client_free(c);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_app_null_view_is_500)
{
	kiln_app *app = make_app();
	kiln_client *c = kiln_client_new(app);
	kiln_signal *sig =
	    kiln_signal_get(app, KILN_SIGNAL_GOT_REQUEST_EXCEPTION);
	const kiln_client_resp *r;

	exceptions = 0;
	ck_assert_int_eq(kiln_signal_connect(sig, on_signal, NULL, NULL),
	    KILN_OK);
	r = kiln_client_get(c, "/null");
	ck_assert_int_eq(r->status, 500);
	ck_assert_ptr_nonnull(strstr(r->body.ptr, "Internal Server Error"));
	ck_assert_int_eq(exceptions, 1);
	kiln_client_free(c);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_app_g_is_per_request)
{
	kiln_app *app = make_app();
	kiln_client *c = kiln_client_new(app);
	const kiln_client_resp *r;

	r = kiln_client_get(c, "/g");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body.ptr, "user=ann");
	r = kiln_client_get(c, "/g");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body.ptr, "user=ann");
	kiln_client_free(c);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_app_blueprint_twice)
{
	kiln_app *app = make_app();
	kiln_client *c = kiln_client_new(app);
	const kiln_client_resp *r;

	r = kiln_client_get(c, "/shop/item/3/");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body.ptr, "shop shop.item /shop/item/7/");
	r = kiln_client_get(c, "/store/item/3/");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body.ptr, "store store.item /store/item/7/");
	kiln_client_free(c);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_app_bp_error_handler)
{
	kiln_app *app = make_app();
	kiln_client *c = kiln_client_new(app);
	const kiln_client_resp *r;

	r = kiln_client_get(c, "/shop/gone");
	ck_assert_int_eq(r->status, 404);
	ck_assert_str_eq(r->body.ptr, "bp-404");
	/* A routing 404 is the app's: the default page here. */
	r = kiln_client_get(c, "/nowhere");
	ck_assert_int_eq(r->status, 404);
	ck_assert_ptr_nonnull(strstr(r->body.ptr, "Not Found"));
	kiln_client_free(c);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_app_registration_errors)
{
	kiln_app *app = kiln_app_new("t");
	kiln_bp *bp;

	ck_assert_ptr_null(kiln_bp_new(app, "bad name", "/x"));
	ck_assert_ptr_nonnull(strstr(kiln_app_errmsg(app), "bad name"));
	ck_assert_ptr_null(kiln_bp_new(app, "b", "x/"));
	bp = kiln_bp_new(app, "b", "/b");
	ck_assert_ptr_nonnull(bp);
	ck_assert_int_eq(kiln_register_bp(app, bp, NULL, NULL), KILN_OK);
	ck_assert_int_eq(kiln_register_bp(app, bp, "/c", NULL), KILN_EEXIST);
	ck_assert_int_eq(kiln_route(bp, "GET", "/late", view_ok, "late"),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_errorhandler(bp, 200, handler_403), KILN_EINVAL);
	ck_assert_int_eq(kiln_route(kiln_app_bp(app), "GET", "/<bad", view_ok,
			     NULL),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_route(kiln_app_bp(app), "GET", "/x", view_ok,
			     "x"),
	    KILN_OK);
	ck_assert_int_eq(kiln_route(kiln_app_bp(app), "GET", "/y", view_ok,
			     "x"),
	    KILN_EEXIST);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_app_request_signals)
{
	kiln_app *app = make_app();
	kiln_client *c = kiln_client_new(app);

	started = finished = 0;
	ck_assert_int_eq(kiln_signal_connect(kiln_signal_get(app,
						 KILN_SIGNAL_REQUEST_STARTED),
			     on_signal, app, NULL),
	    KILN_OK);
	ck_assert_int_eq(kiln_signal_connect(kiln_signal_get(app,
						 KILN_SIGNAL_REQUEST_FINISHED),
			     on_signal, NULL, NULL),
	    KILN_OK);
	ck_assert_ptr_nonnull(kiln_client_get(c, "/"));
	ck_assert_ptr_nonnull(kiln_client_get(c, "/nowhere"));
	ck_assert_int_eq(started, 2);
	ck_assert_int_eq(finished, 2);
	kiln_client_free(c);
	kiln_app_free(app);
}
END_TEST

static kiln_resp *
view_boom(kiln_req *req)
{
	deep_abort500(req, 3);
	return NULL;
}

/* The debug pages: backtrace with file:line, request, masked settings. */
START_TEST(test_app_debug_pages)
{
	kiln_app *app = kiln_app_new("dbg");
	kiln_client *c;
	const kiln_client_resp *r;

	ck_assert_int_eq(kiln_route(kiln_app_bp(app), "GET", "/boom", view_boom,
			     "boom"),
	    KILN_OK);
	ck_assert_int_eq(kiln_setting_set(app, "app.debug", "true"), KILN_OK);
	ck_assert_int_eq(kiln_setting_set(app, "app.secret_key", "s3cr3t-k3y"),
	    KILN_OK);
	ck_assert_int_eq(kiln_app_configure(app, NULL), KILN_OK);
	c = kiln_client_new(app);
	r = kiln_client_get(c, "/boom?x=%3Cb%3E");
	ck_assert_int_eq(r->status, 500);
	ck_assert_msg(strstr(r->body.ptr, "deep_abort500 (") != NULL &&
		strstr(r->body.ptr, "test_app.c:") != NULL &&
		strstr(r->body.ptr, "view_boom (") != NULL,
	    "%s", r->body.ptr);
	ck_assert_ptr_nonnull(strstr(r->body.ptr, "the disk is &lt;full&gt;"));
	ck_assert_ptr_nonnull(strstr(r->body.ptr, "/boom?x=%3Cb%3E"));
	ck_assert_ptr_nonnull(strstr(r->body.ptr, "app.secret_key"));
	ck_assert_ptr_null(strstr(r->body.ptr, "s3cr3t-k3y"));
	r = kiln_client_get(c, "/nowhere");
	ck_assert_int_eq(r->status, 404);
	ck_assert_ptr_nonnull(strstr(r->body.ptr, "Routes tried"));
	ck_assert_ptr_nonnull(strstr(r->body.ptr, "<td>/boom</td>"));
	kiln_client_free(c);
	kiln_app_free(app);
	/* Off (the default): a bare page, no message, no backtrace. */
	app = kiln_app_new("nodbg");
	ck_assert_int_eq(kiln_route(kiln_app_bp(app), "GET", "/boom", view_boom,
			     "boom"),
	    KILN_OK);
	ck_assert_int_eq(kiln_app_configure(app, NULL), KILN_OK);
	c = kiln_client_new(app);
	r = kiln_client_get(c, "/boom");
	ck_assert_int_eq(r->status, 500);
	ck_assert_ptr_null(strstr(r->body.ptr, "deep_abort500"));
	ck_assert_ptr_null(strstr(r->body.ptr, "disk"));
	r = kiln_client_get(c, "/nowhere");
	ck_assert_ptr_null(strstr(r->body.ptr, "Routes tried"));
	kiln_client_free(c);
	kiln_app_free(app);
}
END_TEST

static void
abort_receiver(const kiln_signal *sig, const void *sender, void *args,
    void *data)
{
	(void)sig;
	(void)sender;
	(void)data;
	started++;
	kiln_abort((kiln_req *)args, 403);
}

/* A receiver that aborts ends only its own call; the request goes on. */
START_TEST(test_app_aborting_receiver)
{
	kiln_app *app = make_app();
	kiln_client *c = kiln_client_new(app);
	kiln_signal *sig = kiln_signal_get(app, KILN_SIGNAL_REQUEST_STARTED);
	kiln_signal *exc =
	    kiln_signal_get(app, KILN_SIGNAL_GOT_REQUEST_EXCEPTION);
	const kiln_client_resp *r;

	started = 0;
	ck_assert_int_eq(kiln_signal_connect(sig, abort_receiver, NULL, NULL),
	    KILN_OK);
	r = kiln_client_get(c, "/");
	ck_assert_int_eq(r->status, 200);
	r = kiln_client_get(c, "/");
	ck_assert_int_eq(r->status, 200);
	ck_assert_int_eq(started, 2);
	/* Even on got_request_exception, sent while a 500 is being built. */
	ck_assert_int_eq(kiln_signal_connect(exc, abort_receiver, NULL, NULL),
	    KILN_OK);
	r = kiln_client_get(c, "/null");
	ck_assert_int_eq(r->status, 500);
	ck_assert_int_eq(started, 4);
	ck_assert_int_eq(kiln_signal_disconnect(exc, abort_receiver, NULL,
			     NULL),
	    KILN_OK);
	/* The aborted sends were settled: disconnecting removes it at once. */
	ck_assert_int_eq(kiln_signal_disconnect(sig, abort_receiver, NULL,
			     NULL),
	    KILN_OK);
	ck_assert(!kiln_signal_has_receivers(sig));
	r = kiln_client_get(c, "/");
	ck_assert_int_eq(started, 4);
	kiln_client_free(c);
	kiln_app_free(app);
}
END_TEST

Suite *
app_suite(void)
{
	Suite *s = suite_create("app");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_app_hook_order);
	tcase_add_test(tc, test_app_short_circuits);
	tcase_add_test(tc, test_app_abort_from_depth);
	tcase_add_test(tc, test_app_null_view_is_500);
	tcase_add_test(tc, test_app_g_is_per_request);
	tcase_add_test(tc, test_app_blueprint_twice);
	tcase_add_test(tc, test_app_bp_error_handler);
	tcase_add_test(tc, test_app_registration_errors);
	tcase_add_test(tc, test_app_request_signals);
	tcase_add_test(tc, test_app_aborting_receiver);
	tcase_add_test(tc, test_app_debug_pages);
	suite_add_tcase(s, tc);
	return s;
}
