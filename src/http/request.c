/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The request object: built from CGI params by kiln__req_init, read by
 * views through the accessors below. Query arguments, form fields,
 * cookies and the JSON body are parsed on first use, in the request arena.
 * Parsing failures that are the client's fault abort with 400.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include <kiln/kiln.h>

#include "http_int.h"
#include "kiln_int.h"
#include "router_int.h"

/* Returns the param named name (a C literal), or an empty slice. */
static kiln_str
param(const kiln_kvs *params, const char *name)
{
	const kiln_str *v;

	v = kiln_kvs_get(params, kiln_str_c(name));
	return v != NULL ? *v : KILN_STR_NULL;
}

kiln_err
kiln__req_init(kiln_req *req, kiln_app *app, kiln_arena *a,
    const kiln_kvs *params, kiln_str body)
{
	kiln_str https, port;

	req->app = app;
	req->a = a;
	req->params = *params;
	req->body = body;
	req->method = param(params, "REQUEST_METHOD");
	req->raw_uri = param(params, "REQUEST_URI");
	req->query = param(params, "QUERY_STRING");
	if (req->raw_uri.len == 0) {
		/* No REQUEST_URI: rebuild it as CGI does. */
		req->raw_uri = param(params, "DOCUMENT_URI");
		if (req->raw_uri.len == 0)
			req->raw_uri = param(params, "PATH_INFO");
	}
	req->remote_addr = param(params, "REMOTE_ADDR");
	req->scheme = param(params, "REQUEST_SCHEME");
	https = param(params, "HTTPS");
	if (req->scheme.len == 0)
		req->scheme = https.len > 0 && !kiln_str_eq_c(https, "off") ?
		    KILN_STR("https") :
		    KILN_STR("http");
	kiln_kvs_init(&req->headers, a); /* built on first use */
	kiln_kvs_init(&req->route_args, a);
	kiln_kvs_init(&req->g, a);
	req->host = param(params, "HTTP_HOST");
	if (req->host.len == 0) {
		req->host = param(params, "SERVER_NAME");
		port = param(params, "SERVER_PORT");
		if (req->host.len > 0 && port.len > 0 &&
		    !kiln_str_eq_c(port, "80") && !kiln_str_eq_c(port, "443"))
			req->host = kiln_str_c(kiln_arena_printf(a, "%.*s:%.*s",
			    (int)req->host.len, req->host.ptr, (int)port.len,
			    port.ptr));
	}
	return KILN_OK;
}

kiln_arena *
kiln_req_arena(kiln_req *req)
{
	return req->a;
}

kiln_app *
kiln_req_app(kiln_req *req)
{
	return req->app;
}

kiln_str
kiln_req_method(const kiln_req *req)
{
	return req->method;
}

kiln_str
kiln_req_path(const kiln_req *req)
{
	return req->path;
}

kiln_str
kiln_req_query_string(const kiln_req *req)
{
	return req->query;
}

kiln_str
kiln_req_full_path(const kiln_req *req)
{
	return req->raw_uri;
}

kiln_str
kiln_req_body(const kiln_req *req)
{
	return req->body;
}

kiln_str
kiln_req_remote_addr(const kiln_req *req)
{
	return req->remote_addr;
}

kiln_str
kiln_req_scheme(const kiln_req *req)
{
	return req->scheme;
}

kiln_str
kiln_req_host(const kiln_req *req)
{
	return req->host;
}

bool
kiln_req_is_secure(const kiln_req *req)
{
	return kiln_str_eq_c(req->scheme, "https");
}

/*
 * Looks a header up among the CGI params without building the header
 * list: "User-Agent" is the param HTTP_USER_AGENT ("Content-Type" and
 * "Content-Length" are CONTENT_TYPE and CONTENT_LENGTH).
 */
const kiln_str *
kiln_req_header(const kiln_req *req, const char *name)
{
	char cgi[128];
	size_t i, off = 5, len = strlen(name);

	if (len == 0 || len + off >= sizeof(cgi))
		return NULL;
	if (strcasecmp(name, "Content-Type") == 0 ||
	    strcasecmp(name, "Content-Length") == 0)
		off = 0;
	else
		memcpy(cgi, "HTTP_", 5);
	for (i = 0; i < len; i++)
		cgi[off + i] = name[i] == '-' ?
		    '_' :
		    (char)toupper((unsigned char)name[i]);
	return kiln_kvs_get(&req->params, (kiln_str){ cgi, off + len });
}

const kiln_kvs *
kiln_req_headers(kiln_req *req)
{
	kiln_str name;
	size_t i;

	if (req->parsed & KILN__REQ_HEADERS)
		return &req->headers;
	req->parsed |= KILN__REQ_HEADERS;
	for (i = 0; i < req->params.n; i++) {
		if (kiln__cgi_header_name(req->a, req->params.items[i].key,
			&name) != KILN_OK)
			continue;
		if (kiln_kvs_add(&req->headers, name,
			req->params.items[i].val) != KILN_OK)
			kiln_abort(req, 500);
	}
	return &req->headers;
}

const kiln_kvs *
kiln_req_args(kiln_req *req)
{
	const char *why = NULL;
	kiln_err rc;

	if (req->parsed & KILN__REQ_ARGS)
		return &req->args;
	kiln_kvs_init(&req->args, req->a);
	req->parsed |= KILN__REQ_ARGS;
	rc = kiln__parse_urlencoded(req->a, req->query,
	    req->app->limits.max_fields, &req->args, &why);
	if (rc == KILN_ENOMEM)
		kiln_abort(req, 500);
	if (rc != KILN_OK)
		kiln_abort_msg(req, 400, "bad query string: %s",
		    why != NULL ? why : kiln_strerror(rc));
	return &req->args;
}

const kiln_str *
kiln_req_arg(kiln_req *req, const char *name)
{
	return kiln_kvs_get(kiln_req_args(req), kiln_str_c(name));
}

/* Returns the request's media type, lower-cased, or an empty slice. */
static kiln_str
req_mime(kiln_req *req)
{
	const kiln_str *ct;
	kiln_str mime, charset;

	ct = kiln_req_header(req, "Content-Type");
	if (ct == NULL ||
	    kiln__parse_content_type(req->a, *ct, &mime, &charset) != KILN_OK)
		return KILN_STR_NULL;
	return mime;
}

const kiln_kvs *
kiln_req_forms(kiln_req *req)
{
	const char *why = NULL;
	kiln_err rc;

	if (req->parsed & KILN__REQ_FORM)
		return &req->form;
	kiln_kvs_init(&req->form, req->a);
	req->parsed |= KILN__REQ_FORM;
	if (!kiln_str_eq_c(req_mime(req), "application/x-www-form-urlencoded"))
		return &req->form;
	rc = kiln__parse_urlencoded(req->a, req->body,
	    req->app->limits.max_fields, &req->form, &why);
	if (rc == KILN_ENOMEM)
		kiln_abort(req, 500);
	if (rc != KILN_OK)
		kiln_abort_msg(req, 400, "bad form body: %s",
		    why != NULL ? why : kiln_strerror(rc));
	return &req->form;
}

const kiln_str *
kiln_req_form(kiln_req *req, const char *name)
{
	return kiln_kvs_get(kiln_req_forms(req), kiln_str_c(name));
}

kiln_val *
kiln_req_json(kiln_req *req)
{
	char err[200];
	kiln_str mime;

	if (req->parsed & KILN__REQ_JSON)
		return req->json;
	req->parsed |= KILN__REQ_JSON;
	mime = req_mime(req);
	if (!kiln_str_eq_c(mime, "application/json") &&
	    !(mime.len > 5 && memcmp(mime.ptr + mime.len - 5, "+json", 5) == 0))
		return NULL;
	err[0] = '\0';
	req->json = kiln_json_parse(req->a, req->body,
	    req->app->limits.max_json_depth, err, sizeof(err));
	if (req->json == NULL)
		kiln_abort_msg(req, 400, "malformed JSON body: %s", err);
	return req->json;
}

const kiln_kvs *
kiln_req_cookies(kiln_req *req)
{
	const kiln_str *h;

	if (req->parsed & KILN__REQ_COOKIES)
		return &req->cookies;
	kiln_kvs_init(&req->cookies, req->a);
	req->parsed |= KILN__REQ_COOKIES;
	h = kiln_req_header(req, "Cookie");
	if (h != NULL &&
	    kiln__parse_cookies(req->a, *h, req->app->limits.max_cookies,
		&req->cookies) == KILN_ENOMEM)
		kiln_abort(req, 500);
	return &req->cookies;
}

const kiln_str *
kiln_req_cookie(kiln_req *req, const char *name)
{
	return kiln_kvs_get(kiln_req_cookies(req), kiln_str_c(name));
}

const kiln_str *
kiln_arg(const kiln_req *req, const char *name)
{
	return kiln_kvs_get(&req->route_args, kiln_str_c(name));
}

const char *
kiln_arg_str(kiln_req *req, const char *name)
{
	const kiln_str *v;

	v = kiln_arg(req, name);
	if (v == NULL)
		kiln_abort_msg(req, 500, "route has no argument '%s'", name);
	return kiln_str_cstr(req->a, *v);
}

int64_t
kiln_arg_int(kiln_req *req, const char *name)
{
	const kiln_str *v;
	int64_t i;

	v = kiln_arg(req, name);
	if (v == NULL)
		kiln_abort_msg(req, 500, "route has no argument '%s'", name);
	if (kiln_str_to_i64(*v, &i) != KILN_OK)
		kiln_abort_msg(req, 500,
		    "route argument '%s' is not an integer", name);
	return i;
}

const char *
kiln_req_endpoint(const kiln_req *req)
{
	return req->route != NULL ? kiln__route_endpoint(req->route) : NULL;
}

const char *
kiln_req_blueprint(const kiln_req *req)
{
	return req->bpreg != NULL ? req->bpreg->name : NULL;
}

kiln_err
kiln_g_set(kiln_req *req, const char *key, void *value)
{
	kiln_str k, v;

	k = kiln_str_dup(req->a, kiln_str_c(key));
	if (k.ptr == NULL)
		return KILN_ENOMEM;
	v.ptr = value;
	v.len = 0;
	return kiln_kvs_set(&req->g, k, v);
}

void *
kiln_g_get(const kiln_req *req, const char *key)
{
	const kiln_str *v;

	v = kiln_kvs_get(&req->g, kiln_str_c(key));
	return v != NULL ? (void *)(uintptr_t)v->ptr : NULL;
}

void
kiln_abort(kiln_req *req, int status)
{
	if (status < 400 || status > 599)
		status = 500;
	req->abort_status = status;
	if (req->app->debug && status >= 500 && req->trace == NULL)
		kiln__debug_capture(req);
	if (req->jmp == NULL) {
		/* Outside the dispatcher: a programming error. */
		KILN_PANIC("kiln_abort outside a request");
	}
	longjmp(*req->jmp, 1);
}

void
kiln_abort_msg(kiln_req *req, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	req->errmsg = kiln_arena_vprintf(req->a, fmt, ap);
	va_end(ap);
	kiln_abort(req, status);
}

const char *
kiln_req_errmsg(const kiln_req *req)
{
	return req->errmsg != NULL ? req->errmsg : "";
}

/* Builds a URL for name relative to the request (".x" -> "bp.x"). */
const char *
kiln_url_for(kiln_req *req, const char *name, ...)
{
	char err[KILN_ERRMSG_MAX];
	const char *k, *v;
	kiln_kvs args;
	kiln_str out;
	va_list ap;
	kiln_err rc;

	if (name[0] == '.' && req->bpreg != NULL && req->bpreg->name[0] != '\0')
		name =
		    kiln_arena_printf(req->a, "%s%s", req->bpreg->name, name);
	else if (name[0] == '.')
		name++;
	if (name == NULL)
		kiln_abort(req, 500);
	kiln_kvs_init(&args, req->a);
	va_start(ap, name);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (v == NULL) {
			va_end(ap);
			kiln_abort_msg(req, 500,
			    "url_for('%s'): argument '%s' has no value", name,
			    k);
		}
		if (kiln_kvs_add(&args, kiln_str_c(k), kiln_str_c(v)) !=
		    KILN_OK) {
			va_end(ap);
			kiln_abort(req, 500);
		}
	}
	va_end(ap);
	err[0] = '\0';
	rc = kiln_url_build(req->app, req->a, name, &args, &out, err,
	    sizeof(err));
	if (rc != KILN_OK)
		kiln_abort_msg(req, 500, "%s", err);
	return out.ptr;
}

kiln_err
kiln_url_build(const kiln_app *app, kiln_arena *a, const char *name,
    const kiln_kvs *args, kiln_str *out, char *err, size_t errlen)
{
	kiln_kvs none;

	if (args == NULL) {
		kiln_kvs_init(&none, a);
		args = &none;
	}
	return kiln__router_build(app->router, a, name, args, out, err, errlen);
}
