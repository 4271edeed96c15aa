/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Responses: status, headers, cookies and body, all in the request arena,
 * and their serialisation into the CGI header block a FastCGI responder
 * sends ("Status: 200 OK\r\n...\r\n\r\n"). Header injection is refused at
 * the point a header is set, so nothing later can split a response.
 */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include <kiln/kiln.h>

#include "http_int.h"
#include "kiln_int.h"

#define HTML_TYPE "text/html; charset=utf-8"

const char *
kiln_status_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 206:
		return "Partial Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 303:
		return "See Other";
	case 304:
		return "Not Modified";
	case 307:
		return "Temporary Redirect";
	case 308:
		return "Permanent Redirect";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 406:
		return "Not Acceptable";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 411:
		return "Length Required";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Unknown";
	}
}

/* True when s has no CR, LF or NUL (header values). */
static bool
value_ok(kiln_str s)
{
	size_t i;

	for (i = 0; i < s.len; i++) {
		if (s.ptr[i] == '\r' || s.ptr[i] == '\n' || s.ptr[i] == '\0')
			return false;
	}
	return true;
}

kiln_resp *
kiln_resp_new(kiln_req *req, int status)
{
	kiln_resp *resp;

	resp = kiln_arena_calloc(req->a, 1, sizeof(*resp));
	if (resp == NULL)
		kiln_abort(req, 500);
	resp->req = req;
	resp->status = status >= 100 && status <= 599 ? status : 500;
	kiln_kvs_init(&resp->headers, req->a);
	kiln_buf_init(&resp->body, req->a, 0);
	if (resp->body.oom ||
	    kiln_kvs_add(&resp->headers, KILN_STR("Content-Type"),
		KILN_STR(HTML_TYPE)) != KILN_OK)
		kiln_abort(req, 500);
	return resp;
}

kiln_resp *
kiln__resp_html(kiln_req *req, int status, const kiln_buf *body)
{
	kiln_resp *resp;

	if (body->oom)
		return NULL;
	resp = kiln_arena_calloc(req->a, 1, sizeof(*resp));
	if (resp == NULL)
		return NULL;
	resp->req = req;
	resp->status = status;
	kiln_kvs_init(&resp->headers, req->a);
	resp->body = *body;
	if (kiln_kvs_add(&resp->headers, KILN_STR("Content-Type"),
		KILN_STR(HTML_TYPE)) != KILN_OK)
		return NULL;
	return resp;
}

kiln_resp *
kiln_resp_text(kiln_req *req, int status, const char *content_type,
    kiln_str body)
{
	kiln_resp *resp;

	resp = kiln_resp_new(req, status);
	if (content_type != NULL &&
	    kiln_resp_header_set(resp, "Content-Type", content_type) != KILN_OK)
		kiln_abort_msg(req, 500, "bad content type");
	if (kiln_resp_write(resp, body.ptr, body.len) != KILN_OK)
		kiln_abort(req, 500);
	return resp;
}

kiln_resp *
kiln_resp_printf(kiln_req *req, int status, const char *fmt, ...)
{
	kiln_resp *resp;
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = kiln_arena_vprintf(req->a, fmt, ap);
	va_end(ap);
	if (s == NULL)
		kiln_abort(req, 500);
	resp = kiln_resp_new(req, status);
	if (kiln_resp_write(resp, s, strlen(s)) != KILN_OK)
		kiln_abort(req, 500);
	return resp;
}

kiln_resp *
kiln_resp_json(kiln_req *req, int status, const kiln_val *v)
{
	kiln_str text;
	kiln_err rc;

	rc = kiln_json_dump(req->a, v, &text);
	if (rc != KILN_OK)
		kiln_abort_msg(req, 500, "cannot serialise JSON: %s",
		    kiln_strerror(rc));
	return kiln_resp_text(req, status, "application/json", text);
}

kiln_resp *
kiln_redirect(kiln_req *req, const char *url, int status)
{
	kiln_resp *resp;

	if (status == 0)
		status = 302;
	if (status != 301 && status != 302 && status != 303 && status != 307 &&
	    status != 308)
		kiln_abort_msg(req, 500, "redirect status %d is not a redirect",
		    status);
	resp = kiln_resp_new(req, status);
	if (kiln_resp_header_set(resp, "Location", url) != KILN_OK)
		kiln_abort_msg(req, 500, "redirect URL contains CR, LF or NUL");
	return resp;
}

kiln_resp *
kiln_resp_x_accel(kiln_req *req, const char *uri, const char *content_type)
{
	kiln_resp *resp;

	resp = kiln_resp_new(req, 200);
	if (kiln_resp_header_set(resp, "X-Accel-Redirect", uri) != KILN_OK)
		kiln_abort_msg(req, 500, "X-Accel-Redirect URI is malformed");
	if (content_type == NULL)
		kiln_kvs_del(&resp->headers, KILN_STR("Content-Type"));
	else if (kiln_resp_header_set(resp, "Content-Type", content_type) !=
	    KILN_OK)
		kiln_abort_msg(req, 500, "bad content type");
	return resp;
}

int
kiln_resp_status(const kiln_resp *resp)
{
	return resp->status;
}

void
kiln_resp_set_status(kiln_resp *resp, int status)
{
	if (status >= 100 && status <= 599)
		resp->status = status;
}

/* Checks and copies a header; replace drops existing ones of that name. */
static kiln_err
header_put(kiln_resp *resp, const char *name, const char *value, bool replace)
{
	kiln_str n, v;
	kiln_kv *it;
	size_t i, j;

	n = kiln_str_c(name);
	v = kiln_str_c(value);
	if (!kiln__is_token(n) || !value_ok(v))
		return KILN_EINVAL;
	n = kiln_str_dup(resp->req->a, n);
	v = kiln_str_dup(resp->req->a, v);
	if (n.ptr == NULL || v.ptr == NULL)
		return KILN_ENOMEM;
	if (replace) {
		/* Case-insensitive removal, keeping the order of the rest. */
		it = resp->headers.items;
		for (i = 0, j = 0; i < resp->headers.n; i++) {
			if (!kiln_str_caseeq(it[i].key, n))
				it[j++] = it[i];
		}
		resp->headers.n = j;
	}
	return kiln_kvs_add(&resp->headers, n, v);
}

kiln_err
kiln_resp_header_set(kiln_resp *resp, const char *name, const char *value)
{
	return header_put(resp, name, value, true);
}

kiln_err
kiln_resp_header_add(kiln_resp *resp, const char *name, const char *value)
{
	return header_put(resp, name, value, false);
}

const kiln_str *
kiln_resp_header(const kiln_resp *resp, const char *name)
{
	return kiln_kvs_get_case(&resp->headers, kiln_str_c(name));
}

const kiln_kvs *
kiln_resp_headers(const kiln_resp *resp)
{
	return &resp->headers;
}

/* A cookie value: printable ASCII except space, '"', ',', ';', '\\'. */
static bool
cookie_value_ok(const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v <= 0x20 || *v >= 0x7f || *v == '"' || *v == ',' ||
		    *v == ';' || *v == '\\')
			return false;
	}
	return true;
}

/* An attribute value (path, domain) must not end the attribute early. */
static bool
cookie_attr_ok(const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v < 0x20 || *v == 0x7f || *v == ';')
			return false;
	}
	return true;
}

kiln_err
kiln_resp_set_cookie(kiln_resp *resp, const char *name, const char *value,
    const kiln_cookie_opts *opts)
{
	static const kiln_cookie_opts none;
	char date[64];
	struct tm tm;
	time_t t;
	kiln_buf b;

	if (opts == NULL)
		opts = &none;
	if (!kiln__is_token(kiln_str_c(name)) || !cookie_value_ok(value) ||
	    (opts->path != NULL && !cookie_attr_ok(opts->path)) ||
	    (opts->domain != NULL && !cookie_attr_ok(opts->domain)))
		return KILN_EINVAL;
	if (opts->samesite != NULL && strcmp(opts->samesite, "Lax") != 0 &&
	    strcmp(opts->samesite, "Strict") != 0 &&
	    strcmp(opts->samesite, "None") != 0)
		return KILN_EINVAL;
	kiln_buf_init(&b, resp->req->a, 128);
	kiln_buf_printf(&b, "%s=%s", name, value);
	if (opts->expires != 0) {
		t = (time_t)opts->expires;
		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		kiln_buf_printf(&b, "; Expires=%s", date);
	}
	if (opts->max_age != 0)
		kiln_buf_printf(&b, "; Max-Age=%lld",
		    opts->max_age < 0 ? 0LL : (long long)opts->max_age);
	if (opts->domain != NULL)
		kiln_buf_printf(&b, "; Domain=%s", opts->domain);
	kiln_buf_printf(&b, "; Path=%s", opts->path != NULL ? opts->path : "/");
	if (opts->secure ||
	    (opts->samesite != NULL && strcmp(opts->samesite, "None") == 0))
		kiln_buf_append_c(&b, "; Secure");
	if (opts->http_only)
		kiln_buf_append_c(&b, "; HttpOnly");
	if (opts->samesite != NULL)
		kiln_buf_printf(&b, "; SameSite=%s", opts->samesite);
	if (b.oom)
		return KILN_ENOMEM;
	return kiln_resp_header_add(resp, "Set-Cookie", b.ptr);
}

kiln_err
kiln_resp_delete_cookie(kiln_resp *resp, const char *name, const char *path,
    const char *domain)
{
	kiln_cookie_opts o;

	memset(&o, 0, sizeof(o));
	o.max_age = -1;
	o.expires = 1; /* Thu, 01 Jan 1970 00:00:01 GMT */
	o.path = path;
	o.domain = domain;
	return kiln_resp_set_cookie(resp, name, "", &o);
}

kiln_err
kiln_resp_write(kiln_resp *resp, const void *p, size_t len)
{
	return kiln_buf_append(&resp->body, p, len);
}

kiln_err
kiln_resp_printf_body(kiln_resp *resp, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = kiln_arena_vprintf(resp->req->a, fmt, ap);
	va_end(ap);
	if (s == NULL)
		return KILN_ENOMEM;
	return kiln_buf_append(&resp->body, s, strlen(s));
}

kiln_str
kiln_resp_body(const kiln_resp *resp)
{
	return kiln_buf_str(&resp->body);
}

kiln_err
kiln_resp_set_body(kiln_resp *resp, kiln_str body)
{
	resp->body.len = 0;
	return kiln_buf_append(&resp->body, body.ptr, body.len);
}

/* True when the status or method means no body is sent. */
static bool
no_body(const kiln_resp *resp)
{
	return resp->status == 204 || resp->status == 304 ||
	    resp->status < 200 || kiln_str_eq_c(resp->req->method, "HEAD");
}

/* Appends n in decimal (the head is on every request's path: no printf). */
static void
append_uint(kiln_buf *b, uint64_t n)
{
	char digits[24];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	kiln_buf_append(b, digits + i, sizeof(digits) - i);
}

kiln_err
kiln__resp_head(const kiln_resp *resp, kiln_buf *out)
{
	const kiln_kv *h;
	size_t i;

	kiln_buf_append(out, "Status: ", 8);
	append_uint(out, (uint64_t)resp->status);
	kiln_buf_append_char(out, ' ');
	kiln_buf_append_c(out, kiln_status_reason(resp->status));
	kiln_buf_append(out, "\r\n", 2);
	for (i = 0; i < resp->headers.n; i++) {
		h = &resp->headers.items[i];
		if (kiln_str_caseeq(h->key, KILN_STR("Content-Length")))
			continue;
		kiln_buf_append_str(out, h->key);
		kiln_buf_append(out, ": ", 2);
		kiln_buf_append_str(out, h->val);
		kiln_buf_append(out, "\r\n", 2);
	}
	if (resp->status != 204 && resp->status != 304 && resp->status >= 200) {
		kiln_buf_append(out, "Content-Length: ", 16);
		append_uint(out, resp->body.len);
		kiln_buf_append(out, "\r\n", 2);
	}
	kiln_buf_append(out, "\r\n", 2);
	return out->oom ? KILN_ENOMEM : KILN_OK;
}

kiln_str
kiln__resp_wire_body(const kiln_resp *resp)
{
	if (no_body(resp))
		return KILN_STR_NULL;
	return kiln_buf_str(&resp->body);
}
