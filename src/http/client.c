/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The test client: a third transport. It builds the CGI params nginx
 * would send, runs kiln__handle exactly as a worker does, and keeps a
 * cookie jar from the Set-Cookie headers it receives. Each request gets a
 * fresh arena, kept until the next request so the response stays
 * readable; the jar lives in the client's own arena.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include <kiln/kiln.h>

#include "http_int.h"
#include "kiln_int.h"

struct kiln_client {
	kiln_app *app;	       /* not owned */
	kiln_arena *a;	       /* jar and settings */
	kiln_arena *req_a;     /* the last request and response */
	kiln_kvs jar;	       /* cookie name -> value */
	const char *remote;    /* REMOTE_ADDR */
	bool https;	       /* scheme */
	kiln_client_resp resp; /* the last response */
};

kiln_client *
kiln_client_new(kiln_app *app)
{
	kiln_arena *a;
	kiln_client *c;

	a = kiln_arena_new(0);
	if (a == NULL)
		return NULL;
	c = kiln_arena_calloc(a, 1, sizeof(*c));
	if (c == NULL) {
		kiln_arena_free(a);
		return NULL;
	}
	c->app = app;
	c->a = a;
	c->remote = "127.0.0.1";
	kiln_kvs_init(&c->jar, a);
	return c;
}

void
kiln_client_free(kiln_client *c)
{
	if (c == NULL)
		return;
	kiln_arena_free(c->req_a);
	kiln_arena_free(c->a);
}

void
kiln_client_set_remote(kiln_client *c, const char *addr, bool https)
{
	c->remote = kiln_arena_strdup(c->a, addr);
	c->https = https;
}

const kiln_str *
kiln_client_cookie(const kiln_client *c, const char *name)
{
	return kiln_kvs_get(&c->jar, kiln_str_c(name));
}

kiln_err
kiln_client_set_cookie(kiln_client *c, const char *name, const char *value)
{
	kiln_str n, v;

	n = kiln_str_dup(c->a, kiln_str_c(name));
	v = kiln_str_dup(c->a, kiln_str_c(value));
	if (n.ptr == NULL || v.ptr == NULL)
		return KILN_ENOMEM;
	return kiln_kvs_set(&c->jar, n, v);
}

/* Adds "HTTP_" + the header name upper-cased with '-' as '_'. */
static kiln_err
add_header_param(kiln_kvs *p, kiln_arena *a, kiln_str name, kiln_str val)
{
	char *k;
	size_t i;

	k = kiln_arena_alloc(a, name.len + 6);
	if (k == NULL)
		return KILN_ENOMEM;
	memcpy(k, "HTTP_", 5);
	for (i = 0; i < name.len; i++)
		k[5 + i] = name.ptr[i] == '-' ?
		    '_' :
		    (char)toupper((unsigned char)name.ptr[i]);
	k[5 + name.len] = '\0';
	if (strcmp(k, "HTTP_CONTENT_TYPE") == 0)
		return kiln_kvs_add(p, KILN_STR("CONTENT_TYPE"), val);
	return kiln_kvs_add(p, kiln_str_c(k), val);
}

/* The Cookie header from the jar, or an empty slice. */
static kiln_str
jar_header(const kiln_client *c, kiln_arena *a)
{
	kiln_buf b;
	size_t i;

	kiln_buf_init(&b, a, 64);
	for (i = 0; i < c->jar.n; i++) {
		if (i > 0)
			kiln_buf_append(&b, "; ", 2);
		kiln_buf_append_str(&b, c->jar.items[i].key);
		kiln_buf_append_char(&b, '=');
		kiln_buf_append_str(&b, c->jar.items[i].val);
	}
	return kiln_buf_str(&b);
}

/*
 * Applies one Set-Cookie header to the jar: a Max-Age of 0 or less, or an
 * Expires in the past, removes the cookie; otherwise it is stored.
 */
static void
jar_apply(kiln_client *c, kiln_str sc)
{
	const char *eq, *semi, *end = sc.ptr + sc.len;
	kiln_str name, val, attrs;
	bool del = false;

	eq = memchr(sc.ptr, '=', sc.len);
	if (eq == NULL)
		return;
	semi = memchr(eq, ';', (size_t)(end - eq));
	if (semi == NULL)
		semi = end;
	name.ptr = sc.ptr;
	name.len = (size_t)(eq - sc.ptr);
	val.ptr = eq + 1;
	val.len = (size_t)(semi - eq - 1);
	attrs.ptr = semi;
	attrs.len = (size_t)(end - semi);
	if (memmem(attrs.ptr, attrs.len, "Max-Age=0", 9) != NULL ||
	    memmem(attrs.ptr, attrs.len, "Max-Age=-", 9) != NULL ||
	    memmem(attrs.ptr, attrs.len, "Expires=Thu, 01 Jan 1970", 24) !=
		NULL)
		del = true;
	name = kiln_str_dup(c->a, name);
	if (name.ptr == NULL)
		return;
	if (del) {
		kiln_kvs_del(&c->jar, name);
		return;
	}
	val = kiln_str_dup(c->a, val);
	if (val.ptr != NULL && kiln_kvs_set(&c->jar, name, val) != KILN_OK)
		c->resp.status = 0; /* out of memory: the test sees it */
}

const kiln_client_resp *
kiln_client_request(kiln_client *c, const char *method, const char *target,
    const kiln_kvs *headers, kiln_str body)
{
	const char *q, *cl;
	kiln_kvs p;
	kiln_arena *a;
	kiln_resp *resp;
	kiln_str cookie;
	kiln_buf head;
	size_t i;
	kiln_err rc = KILN_OK;

	kiln_arena_free(c->req_a);
	c->req_a = a = kiln_arena_new(0);
	if (a == NULL)
		return NULL;
	kiln_kvs_init(&p, a);
	body = kiln_str_dup(a, body);
	if (body.ptr == NULL)
		return NULL;
	q = strchr(target, '?');
	cl = kiln_arena_printf(a, "%zu", body.len);
	rc |= kiln_kvs_add(&p, KILN_STR("REQUEST_METHOD"), kiln_str_c(method));
	rc |= kiln_kvs_add(&p, KILN_STR("REQUEST_URI"), kiln_str_c(target));
	rc |= kiln_kvs_add(&p, KILN_STR("QUERY_STRING"),
	    kiln_str_c(q != NULL ? q + 1 : ""));
	rc |=
	    kiln_kvs_add(&p, KILN_STR("SERVER_PROTOCOL"), KILN_STR("HTTP/1.1"));
	rc |= kiln_kvs_add(&p, KILN_STR("REMOTE_ADDR"), kiln_str_c(c->remote));
	rc |= kiln_kvs_add(&p, KILN_STR("REQUEST_SCHEME"),
	    c->https ? KILN_STR("https") : KILN_STR("http"));
	rc |= kiln_kvs_add(&p, KILN_STR("HTTP_HOST"), KILN_STR("testserver"));
	rc |= kiln_kvs_add(&p, KILN_STR("CONTENT_LENGTH"), kiln_str_c(cl));
	for (i = 0; headers != NULL && i < headers->n; i++)
		rc |= add_header_param(&p, a, headers->items[i].key,
		    headers->items[i].val);
	cookie = jar_header(c, a);
	if (cookie.len > 0 && kiln_kvs_get(&p, KILN_STR("HTTP_COOKIE")) == NULL)
		rc |= kiln_kvs_add(&p, KILN_STR("HTTP_COOKIE"), cookie);
	if (rc != KILN_OK)
		return NULL;
	resp = kiln__handle(c->app, a, &p, body,
	    body.len > c->app->limits.max_body ? KILN_ELIMIT : KILN_OK);
	/* Serialise as a worker would, so the test sees the wire headers. */
	kiln_buf_init(&head, a, 256);
	if (kiln__resp_head(resp, &head) != KILN_OK)
		return NULL;
	c->resp.status = resp->status;
	c->resp.headers = resp->headers;
	c->resp.body = kiln__resp_wire_body(resp);
	if (c->resp.body.ptr == NULL)
		c->resp.body = KILN_STR("");
	for (i = 0; i < resp->headers.n; i++) {
		if (kiln_str_caseeq(resp->headers.items[i].key,
			KILN_STR("Set-Cookie")))
			jar_apply(c, resp->headers.items[i].val);
	}
	return &c->resp;
}

const kiln_client_resp *
kiln_client_get(kiln_client *c, const char *target)
{
	return kiln_client_request(c, "GET", target, NULL, KILN_STR_NULL);
}

const kiln_client_resp *
kiln_client_post_form(kiln_client *c, const char *target, ...)
{
	const char *k, *v;
	kiln_arena *tmp;
	kiln_kvs h;
	kiln_buf b;
	va_list ap;
	const kiln_client_resp *r;

	tmp = kiln_arena_new(0);
	if (tmp == NULL)
		return NULL;
	kiln_buf_init(&b, tmp, 128);
	va_start(ap, target);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (b.len > 0)
			kiln_buf_append_char(&b, '&');
		kiln__pct_encode(&b, kiln_str_c(k), NULL, true);
		kiln_buf_append_char(&b, '=');
		kiln__pct_encode(&b, kiln_str_c(v != NULL ? v : ""), NULL,
		    true);
	}
	va_end(ap);
	kiln_kvs_init(&h, tmp);
	if (b.oom ||
	    kiln_kvs_add(&h, KILN_STR("Content-Type"),
		KILN_STR("application/x-www-form-urlencoded")) != KILN_OK) {
		kiln_arena_free(tmp);
		return NULL;
	}
	r = kiln_client_request(c, "POST", target, &h, kiln_buf_str(&b));
	kiln_arena_free(tmp);
	return r;
}

const kiln_client_resp *
kiln_client_send_json(kiln_client *c, const char *method, const char *target,
    const char *json)
{
	kiln_arena *tmp;
	kiln_kvs h;
	const kiln_client_resp *r = NULL;

	tmp = kiln_arena_new(0);
	if (tmp == NULL)
		return NULL;
	kiln_kvs_init(&h, tmp);
	if (kiln_kvs_add(&h, KILN_STR("Content-Type"),
		KILN_STR("application/json")) == KILN_OK)
		r = kiln_client_request(c, method, target, &h,
		    kiln_str_c(json));
	kiln_arena_free(tmp);
	return r;
}

const kiln_str *
kiln_client_resp_header(const kiln_client_resp *r, const char *name)
{
	return kiln_kvs_get_case(&r->headers, kiln_str_c(name));
}
