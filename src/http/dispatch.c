/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The dispatcher: takes a request built from CGI params through request
 * checks, signals, middleware, hooks, routing and the view, and turns
 * every failure into a response. This is the only place that calls
 * setjmp (STYLE.md section 4): kiln_abort() longjmps to the innermost
 * guard, which asks the error handlers for a response. Because the
 * request arena owns all request memory and every other resource is a
 * registered cleanup, unwinding leaks nothing.
 *
 * Guards nest: the view and before hooks run in an inner guard, so a
 * middleware sees an abort from a view as an ordinary error response; the
 * middleware chain and the after hooks each run in a guard of their own.
 */
#include "config.h"

#include <setjmp.h>
#include <stdio.h>

#include <kiln/kiln.h>

#include "http_int.h"
#include "kiln_int.h"
#include "router_int.h"

typedef kiln_resp *(*guarded_fn)(kiln_req *req, void *arg);

static kiln_resp *after_hooks(kiln_req *req, void *arg);

static kiln_resp *error_response(kiln_req *req, int status);

/*
 * Sends a request signal. A receiver that aborts ends only its own call
 * (the signals sit outside the guards, and a receiver's abort must not
 * take the worker down); the request goes on.
 */
static void
send_signal(kiln_req *req, kiln_signal *sig)
{
	jmp_buf jb;
	jmp_buf *saved = req->jmp;

	if (!kiln_signal_has_receivers(sig))
		return;
	req->jmp = &jb;
	if (setjmp(jb) == 0)
		kiln_signal_send(sig, req->app, req);
	req->jmp = saved;
}

/* Sends got_request_exception for server errors. */
static void
note_exception(kiln_req *req, int status)
{
	if (status >= 500)
		send_signal(req, req->app->sig_exception);
}

/*
 * Runs fn(req, arg); an abort inside it becomes the error response for
 * the aborted status. The previous guard is restored on the way out. A
 * NULL result is a failure (500) unless null_ok.
 */
static kiln_resp *
guard(kiln_req *req, guarded_fn fn, void *arg, bool null_ok)
{
	jmp_buf jb;
	jmp_buf *volatile saved = req->jmp;
	kiln_resp *resp;

	req->jmp = &jb;
	if (setjmp(jb) == 0) {
		resp = fn(req, arg);
		req->jmp = saved;
		if (resp != NULL || null_ok)
			return resp;
		req->errmsg =
		    kiln_arena_strdup(req->a, "the view returned no response");
		req->abort_status = 500;
	}
	req->jmp = saved;
	return error_response(req, req->abort_status);
}

/* The default error page: status, reason and the abort message. */
static kiln_resp *
default_error_page(kiln_req *req, int status)
{
	kiln_buf b;
	const char *reason = kiln_status_reason(status);

	if (req->app->debug && (status >= 500 || status == 404))
		return kiln__debug_page(req, status);
	kiln_buf_init(&b, req->a, 256);
	kiln_buf_printf(&b,
	    "<!doctype html>\n<html><head><title>%d %s</title></head>\n"
	    "<body><h1>%s</h1>\n",
	    status, reason, reason);
	if (req->errmsg != NULL && (status < 500 || req->app->debug)) {
		kiln_buf_append_c(&b, "<p>");
		kiln__html_escape(&b, kiln_str_c(req->errmsg));
		kiln_buf_append_c(&b, "</p>\n");
	}
	kiln_buf_append_c(&b, "</body></html>\n");
	return kiln__resp_html(req, status, &b);
}

/* Finds the handler for status: the route's blueprint first, then the app. */
static kiln_errorhandler_fn
find_handler(const kiln_req *req, int status)
{
	const kiln_bp *bps[2];
	const kiln__errh *h;
	size_t i, j;

	bps[0] = req->bpreg != NULL ? req->bpreg->bp : NULL;
	bps[1] = req->app->root;
	for (i = 0; i < 2; i++) {
		if (bps[i] == NULL)
			continue;
		for (j = 0; j < bps[i]->errh.n; j++) {
			h = bps[i]->errh.items[j];
			if (h->status == status)
				return h->fn;
		}
	}
	return NULL;
}

/* Carries the status into the guarded handler call. */
struct handler_call {
	kiln_errorhandler_fn fn;
	int status;
};

static kiln_resp *
call_handler(kiln_req *req, void *arg)
{
	struct handler_call *hc = arg;

	return hc->fn(req, hc->status);
}

/*
 * Builds the response for an error status: the user's handler, or the
 * default page when there is none or the handler itself fails. The
 * response keeps the status unless the handler chose another.
 */
static kiln_resp *
error_response(kiln_req *req, int status)
{
	struct handler_call hc;
	jmp_buf jb;
	jmp_buf *volatile saved = req->jmp;
	kiln_resp *volatile resp = NULL;

	note_exception(req, status);
	hc.fn = find_handler(req, status);
	hc.status = status;
	if (hc.fn != NULL) {
		req->jmp = &jb;
		if (setjmp(jb) == 0)
			resp = call_handler(req, &hc);
		req->jmp = saved;
	}
	if (resp == NULL)
		resp = default_error_page(req, status);
	if (resp == NULL)
		KILN_PANIC("out of memory building an error page");
	return resp;
}

/* Calls every before hook of bp; returns the first response, or NULL. */
static kiln_resp *
run_before(kiln_req *req, const kiln_bp *bp)
{
	const kiln__fnbox *box;
	kiln_resp *resp;
	size_t i;

	for (i = 0; i < bp->before.n; i++) {
		box = bp->before.items[i];
		resp = ((kiln_before_fn)box->fn)(req);
		if (resp != NULL)
			return resp;
	}
	return NULL;
}

/* Routes, runs the before hooks and the view. Runs inside a guard. */
static kiln_resp *
route_and_view(kiln_req *req, void *arg)
{
	kiln__match m;
	kiln__match_rc rc;
	kiln_resp *resp;
	kiln_str raw;
	const char *q;

	(void)arg;
	memset(&m, 0, sizeof(m));
	rc = kiln__router_match(req->app->router, req->a, req->method,
	    req->path, req->app->append_slash, &m);
	if (rc == KILN__MATCH_FOUND) {
		req->route = m.route;
		req->bpreg = kiln__route_bpreg(m.route);
		req->route_args = m.args;
	}
	resp = run_before(req, req->app->root);
	if (resp == NULL && req->bpreg != NULL &&
	    req->bpreg->bp != req->app->root)
		resp = run_before(req, req->bpreg->bp);
	if (resp != NULL)
		return resp;
	switch (rc) {
	case KILN__MATCH_FOUND:
		return kiln__route_view(req->route)(req);
	case KILN__MATCH_METHOD:
		if (kiln_str_eq_c(req->method, "OPTIONS"))
			resp = kiln_resp_new(req, 200);
		else
			resp = error_response(req, 405);
		if (kiln_resp_header_set(resp, "Allow",
			kiln_str_cstr(req->a, m.allow)) != KILN_OK)
			kiln_abort(req, 500);
		return resp;
	case KILN__MATCH_REDIRECT:
		/* The client's own (still encoded) path plus '/', query kept.
		 */
		raw = req->raw_uri;
		q = memchr(raw.ptr, '?', raw.len);
		if (q != NULL)
			raw.len = (size_t)(q - raw.ptr);
		return kiln_redirect(req,
		    kiln_arena_printf(req->a, "%.*s/%s%.*s", (int)raw.len,
			raw.ptr, req->query.len > 0 ? "?" : "",
			(int)req->query.len, req->query.ptr),
		    kiln_str_eq_c(req->method, "GET") ||
			    kiln_str_eq_c(req->method, "HEAD") ?
			301 :
			308);
	case KILN__MATCH_NOTFOUND:
		kiln_abort(req, 404);
	case KILN__MATCH_ERROR:
	default:
		kiln_abort(req, 500);
	}
}

/* Runs the middleware from req->mw_index, then the routed view. */
static kiln_resp *
chain(kiln_req *req, void *arg)
{
	const kiln__fnbox *box;

	(void)arg;
	if (req->mw_index < req->app->middleware.n) {
		box = req->app->middleware.items[req->mw_index++];
		return ((kiln_middleware_fn)box->fn)(req, NULL);
	}
	return guard(req, after_hooks, guard(req, route_and_view, NULL, false),
	    false);
}

kiln_resp *
kiln_next_call(kiln_req *req, kiln_next *next)
{
	kiln_resp *resp;

	(void)next;
	resp = chain(req, NULL);
	return resp != NULL ? resp : error_response(req, 500);
}

/* Runs bp's after hooks, newest first. */
static kiln_resp *
run_after(kiln_req *req, const kiln_bp *bp, kiln_resp *resp)
{
	const kiln__fnbox *box;
	size_t i;

	for (i = bp->after.n; i > 0; i--) {
		box = bp->after.items[i - 1];
		resp = ((kiln_after_fn)box->fn)(req, resp);
		if (resp == NULL)
			kiln_abort_msg(req, 500, "an after hook returned NULL");
	}
	return resp;
}

static kiln_resp *
after_hooks(kiln_req *req, void *arg)
{
	kiln_resp *resp = arg;

	if (req->bpreg != NULL && req->bpreg->bp != req->app->root)
		resp = run_after(req, req->bpreg->bp, resp);
	return run_after(req, req->app->root, resp);
}

/* Teardown hooks run always, blueprint first; aborts there are ignored. */
static void
teardown(kiln_req *req)
{
	const kiln_bp *bps[2];
	const kiln__fnbox *box;
	jmp_buf jb;
	volatile size_t i, j;

	bps[0] = req->bpreg != NULL && req->bpreg->bp != req->app->root ?
	    req->bpreg->bp :
	    NULL;
	bps[1] = req->app->root;
	req->jmp = &jb;
	for (i = 0; i < 2; i++) {
		if (bps[i] == NULL)
			continue;
		for (j = bps[i]->teardown.n; j > 0; j--) {
			box = bps[i]->teardown.items[j - 1];
			if (setjmp(jb) == 0)
				((kiln_teardown_fn)box->fn)(req);
		}
	}
	req->jmp = NULL;
}

/* Counts the request headers (HTTP_* params, and the two CONTENT_*). */
static size_t
header_count(const kiln_req *req)
{
	size_t i, n = 0;

	for (i = 0; i < req->params.n; i++)
		n += kiln_str_startswith(req->params.items[i].key,
			 KILN_STR("HTTP_")) ||
		    kiln_str_startswith(req->params.items[i].key,
			KILN_STR("CONTENT_"));
	return n;
}

/*
 * Checks what must hold before any user code runs: method syntax, URI
 * length, body size, header count, and a path that decodes to UTF-8.
 * Aborts with the matching 4xx.
 */
static kiln_resp *
check_request(kiln_req *req, void *arg)
{
	const kiln__limits *l = &req->app->limits;
	kiln_err limit_rc = *(kiln_err *)arg;
	kiln_str raw;
	const char *q;

	if (!kiln__is_token(req->method))
		kiln_abort_msg(req, 400, "malformed request method");
	if (req->raw_uri.len > l->max_uri)
		kiln_abort_msg(req, 414, "the URI is longer than %zu bytes",
		    l->max_uri);
	if (limit_rc == KILN_ELIMIT || req->body.len > l->max_body)
		kiln_abort_msg(req, 413, "the body is larger than %zu bytes",
		    l->max_body);
	if (header_count(req) > l->max_headers)
		kiln_abort_msg(req, 431, "more than %zu request headers",
		    l->max_headers);
	raw = req->raw_uri;
	q = memchr(raw.ptr != NULL ? raw.ptr : "", '?', raw.len);
	if (q != NULL)
		raw.len = (size_t)(q - raw.ptr);
	if (raw.len == 0 || raw.ptr[0] != '/')
		kiln_abort_msg(req, 400,
		    "the request path must start with '/'");
	if (kiln__pct_decode(req->a, raw, false, &req->path) != KILN_OK)
		kiln_abort_msg(req, 400,
		    "malformed percent-encoding in the path");
	if (memchr(req->path.ptr, '\0', req->path.len) != NULL ||
	    !kiln_utf8_valid(req->path))
		kiln_abort_msg(req, 400, "the path is not valid UTF-8");
	return NULL;
}

kiln_resp *
kiln__handle(kiln_app *app, kiln_arena *a, const kiln_kvs *params,
    kiln_str body, kiln_err limit_rc)
{
	kiln_resp *resp;
	kiln_req *req;

	req = kiln_arena_calloc(a, 1, sizeof(*req));
	if (req == NULL || kiln__req_init(req, app, a, params, body) != KILN_OK)
		KILN_PANIC("out of memory starting a request");
	kiln__signals_settle(app);
	send_signal(req, app->sig_started);
	resp = guard(req, check_request, &limit_rc, true);
	if (resp == NULL)
		resp = guard(req, chain, NULL, false);
	send_signal(req, app->sig_finished);
	teardown(req);
	return resp;
}
