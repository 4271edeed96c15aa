/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The debug pages (app.debug = true; never on by default). A 5xx shows
 * the message, the C backtrace captured where kiln_abort() was called
 * (function, file and line, read from the binary's DWARF by libbacktrace),
 * the request (method, path, query, headers, cookies) and the settings
 * with secrets masked; a 404 lists every route that was tried, like
 * Django's technical 404. Everything is HTML-escaped.
 *
 * The libbacktrace state is made on first use in each process (a worker
 * after fork, or a test), since only debug mode needs it.
 */
#include "config.h"

#include <stdio.h>

#ifdef HAVE_BACKTRACE_H
#include <backtrace.h>
#endif

#include <kiln/kiln.h>

#include "http_int.h"
#include "kiln_int.h"
#include "router_int.h"

#define TRACE_MAX 32 /* frames shown */

#ifdef HAVE_BACKTRACE_H
static struct backtrace_state *debug_bt; /* per process, on first use */

/* One frame: "function (file:line)" on a line of its own. */
static int
frame(void *data, uintptr_t pc, const char *file, int line, const char *fn)
{
	kiln_buf *b = data;

	(void)pc;
	if (fn == NULL && file == NULL)
		return 0;
	kiln_buf_printf(b, "%s (%s:%d)\n", fn != NULL ? fn : "??",
	    file != NULL ? file : "??", line);
	return b->len > TRACE_MAX * 200;
}

static void
frame_error(void *data, const char *msg, int errnum)
{
	(void)errnum;
	kiln_buf_printf(data, "(backtrace unavailable: %s)\n", msg);
}
#endif

void
kiln__debug_capture(kiln_req *req)
{
#ifdef HAVE_BACKTRACE_H
	kiln_buf b;

	if (debug_bt == NULL)
		debug_bt = backtrace_create_state(NULL, 0, NULL, NULL);
	if (debug_bt == NULL)
		return;
	kiln_buf_init(&b, req->a, 1024);
	/* Skip this function and kiln_abort's frames. */
	backtrace_full(debug_bt, 2, frame, frame_error, &b);
	if (!b.oom)
		req->trace = b.ptr;
#else
	(void)req;
#endif
}

/* Appends "<h2>title</h2><table>" rows of name/value pairs. */
static void
kv_table(kiln_buf *b, const char *title, const kiln_kvs *kv)
{
	size_t i;

	kiln_buf_printf(b, "<h2>%s</h2>\n<table>\n", title);
	for (i = 0; i < kv->n; i++) {
		kiln_buf_append_c(b, "<tr><th>");
		kiln__html_escape(b, kv->items[i].key);
		kiln_buf_append_c(b, "</th><td>");
		kiln__html_escape(b, kv->items[i].val);
		kiln_buf_append_c(b, "</td></tr>\n");
	}
	if (kv->n == 0)
		kiln_buf_append_c(b, "<tr><td>(none)</td></tr>\n");
	kiln_buf_append_c(b, "</table>\n");
}

static void
setting_row(const char *name, const char *shown, void *data)
{
	kiln_buf *b = data;

	kiln_buf_append_c(b, "<tr><th>");
	kiln__html_escape(b, kiln_str_c(name));
	kiln_buf_append_c(b, "</th><td>");
	kiln__html_escape(b, kiln_str_c(shown != NULL ? shown : ""));
	kiln_buf_append_c(b, "</td></tr>\n");
}

static void
route_row(const char *methods, const char *rule, const char *endpoint,
    void *data)
{
	kiln_buf *b = data;

	kiln_buf_append_c(b, "<tr><td>");
	kiln__html_escape(b, kiln_str_c(rule));
	kiln_buf_append_c(b, "</td><td>");
	kiln__html_escape(b, kiln_str_c(methods));
	kiln_buf_append_c(b, "</td><td>");
	kiln__html_escape(b, kiln_str_c(endpoint != NULL ? endpoint : "-"));
	kiln_buf_append_c(b, "</td></tr>\n");
}

kiln_resp *
kiln__debug_page(kiln_req *req, int status)
{
	const char *reason = kiln_status_reason(status);
	const kiln_kvs *headers;
	kiln_kvs cookies;
	kiln_buf b;

	kiln_buf_init(&b, req->a, 4096);
	kiln_buf_printf(&b,
	    "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
	    "<title>%d %s (debug)</title>\n<style>body{font:14px sans-serif}"
	    "th{text-align:left;padding-right:1em;vertical-align:top}"
	    "pre{background:#f4f4f4;padding:.5em}</style></head>\n"
	    "<body><h1>%d %s</h1>\n<p class=\"message\">",
	    status, reason, status, reason);
	kiln__html_escape(&b,
	    kiln_str_c(req->errmsg != NULL ? req->errmsg : ""));
	kiln_buf_append_c(&b, "</p>\n<p>");
	kiln__html_escape(&b, req->method);
	kiln_buf_append_char(&b, ' ');
	kiln__html_escape(&b, req->raw_uri);
	if (req->route != NULL && kiln__route_endpoint(req->route) != NULL) {
		kiln_buf_append_c(&b, " &rarr; view of route ");
		kiln__html_escape(&b,
		    kiln_str_c(kiln__route_endpoint(req->route)));
	}
	kiln_buf_append_c(&b, "</p>\n");
	if (req->trace != NULL) {
		kiln_buf_append_c(&b,
		    "<h2>Backtrace (where kiln_abort was called)</h2>\n<pre>");
		kiln__html_escape(&b, kiln_str_c(req->trace));
		kiln_buf_append_c(&b, "</pre>\n");
	}
	if (status == 404) {
		kiln_buf_append_c(&b,
		    "<h2>Routes tried, in order</h2>\n<table>"
		    "<tr><th>rule</th><th>methods</th>"
		    "<th>name</th></tr>\n");
		kiln__router_each(req->app->router, route_row, &b);
		kiln_buf_append_c(&b, "</table>\n");
	}
	headers = kiln_req_headers(req);
	kv_table(&b, "Request headers", headers);
	kiln_kvs_init(&cookies, req->a);
	if (kiln_req_header(req, "Cookie") != NULL)
		(void)kiln__parse_cookies(req->a,
		    *kiln_req_header(req, "Cookie"),
		    req->app->limits.max_cookies, &cookies);
	kv_table(&b, "Cookies", &cookies);
	kiln_buf_append_c(&b, "<h2>Settings (secrets masked)</h2>\n<table>\n");
	kiln_settings_each(req->app, setting_row, &b);
	kiln_buf_append_c(&b,
	    "</table>\n<p>You see this page because app.debug is true. "
	    "Never turn it on in production.</p>\n</body></html>\n");
	return kiln__resp_html(req, status, &b);
}
