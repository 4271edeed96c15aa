/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The request and response objects and the router's HTTP behaviour,
 * driven through the test client: query and form fields with repeated
 * keys, JSON in and out, headers, cookies and the client's jar, remote
 * address and scheme, 404/405/OPTIONS/HEAD, APPEND_SLASH, and the bad
 * input the dispatcher must refuse with the right 4xx.
 */
#include <stdio.h>

#include <check.h>

#include <kiln/kiln.h>

#include "suites.h"

static kiln_resp *
echo_args(kiln_req *req)
{
	const kiln_kvs *args = kiln_req_args(req);
	kiln_str tag = KILN_STR("");
	const kiln_str *t;

	t = kiln_kvs_get_nth(args, KILN_STR("tag"), 1);
	if (t != NULL)
		tag = *t;
	return kiln_resp_printf(req, 200, "n=%zu tags=%zu second=%.*s q=%s",
	    args->n, kiln_kvs_count(args, KILN_STR("tag")), (int)tag.len,
	    tag.ptr,
	    kiln_req_arg(req, "q") != NULL ?
		kiln_str_cstr(kiln_req_arena(req), *kiln_req_arg(req, "q")) :
		"-");
}

static kiln_resp *
echo_form(kiln_req *req)
{
	const kiln_str *name = kiln_req_form(req, "name");

	return kiln_resp_printf(req, 200, "name=%.*s fields=%zu",
	    name != NULL ? (int)name->len : 1, name != NULL ? name->ptr : "-",
	    kiln_req_forms(req)->n);
}

static kiln_resp *
echo_json(kiln_req *req)
{
	kiln_val *v = kiln_req_json(req);
	kiln_val *out = kiln_val_map(kiln_req_arena(req));

	if (v == NULL)
		kiln_abort_msg(req, 415, "expected JSON");
	if (kiln_val_set(out, "got", v) != KILN_OK)
		kiln_abort(req, 500);
	return kiln_resp_json(req, 201, out);
}

static kiln_resp *
info(kiln_req *req)
{
	const kiln_str *ua = kiln_req_header(req, "user-agent");
	kiln_str m = kiln_req_method(req), s = kiln_req_scheme(req);
	kiln_str ra = kiln_req_remote_addr(req), h = kiln_req_host(req);

	return kiln_resp_printf(req, 200, "%.*s %.*s %.*s %.*s ua=%.*s",
	    (int)m.len, m.ptr, (int)s.len, s.ptr, (int)ra.len, ra.ptr,
	    (int)h.len, h.ptr, ua != NULL ? (int)ua->len : 1,
	    ua != NULL ? ua->ptr : "-");
}

static kiln_resp *
list_headers(kiln_req *req)
{
	const kiln_kvs *h = kiln_req_headers(req);
	const kiln_str *ct = kiln_kvs_get_case(h, KILN_STR("content-type"));

	return kiln_resp_printf(req, 200, "%s|%.*s|%s",
	    kiln_kvs_get(h, KILN_STR("X-Api-Key")) != NULL ? "key" : "-",
	    ct != NULL ? (int)ct->len : 1, ct != NULL ? ct->ptr : "-",
	    kiln_req_header(req, "x-api-key") != NULL ? "again" : "-");
}

static kiln_resp *
set_cookies(kiln_req *req)
{
	kiln_cookie_opts o = { .max_age = 3600,
		.secure = true,
		.http_only = true,
		.samesite = "Strict",
		.path = "/p",
		.domain = "example.org" };
	kiln_resp *resp = kiln_resp_text(req, 200, NULL, KILN_STR("ok"));

	ck_assert_int_eq(kiln_resp_set_cookie(resp, "sid", "abc123", &o),
	    KILN_OK);
	ck_assert_int_eq(kiln_resp_set_cookie(resp, "plain", "1", NULL),
	    KILN_OK);
	ck_assert_int_eq(kiln_resp_set_cookie(resp, "bad", "a;b", NULL),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_resp_set_cookie(resp, "b d", "x", NULL),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_resp_header_set(resp, "X-Evil",
			     "a\r\nSet-Cookie: x=1"),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_resp_header_set(resp, "Bad Name", "v"),
	    KILN_EINVAL);
	return resp;
}

static kiln_resp *
read_cookie(kiln_req *req)
{
	const kiln_str *v = kiln_req_cookie(req, "sid");

	return kiln_resp_printf(req, 200, "sid=%.*s n=%zu",
	    v != NULL ? (int)v->len : 1, v != NULL ? v->ptr : "-",
	    kiln_req_cookies(req)->n);
}

static kiln_resp *
del_cookie(kiln_req *req)
{
	kiln_resp *resp = kiln_resp_text(req, 200, NULL, KILN_STR("bye"));

	ck_assert_int_eq(kiln_resp_delete_cookie(resp, "sid", NULL, NULL),
	    KILN_OK);
	return resp;
}

static kiln_resp *
go(kiln_req *req)
{
	return kiln_redirect(req,
	    kiln_url_for(req, "item", "id", "a b/c", "next", "/x?y=1&z", NULL),
	    303);
}

static kiln_resp *
item(kiln_req *req)
{
	return kiln_resp_printf(req, 200, "item %s", kiln_arg_str(req, "id"));
}

static kiln_resp *
submit(kiln_req *req)
{
	return kiln_resp_text(req, 200, NULL, kiln_req_body(req));
}

static kiln_app *
make_app(void)
{
	kiln_app *app = kiln_app_new("client");
	kiln_bp *r;

	ck_assert_ptr_nonnull(app);
	r = kiln_app_bp(app);
	ck_assert_int_eq(kiln_route(r, "GET", "/args", echo_args, "args"),
	    KILN_OK);
	ck_assert_int_eq(kiln_route(r, "POST", "/form", echo_form, "form"),
	    KILN_OK);
	ck_assert_int_eq(kiln_route(r, "POST,PUT", "/json", echo_json, "json"),
	    KILN_OK);
	ck_assert_int_eq(kiln_route(r, "GET,POST,DELETE", "/info", info,
			     "info"),
	    KILN_OK);
	ck_assert_int_eq(kiln_route(r, "GET", "/set", set_cookies, "set"),
	    KILN_OK);
	ck_assert_int_eq(kiln_route(r, "POST", "/hdrs", list_headers, "hdrs"),
	    KILN_OK);
	ck_assert_int_eq(kiln_route(r, "GET", "/read", read_cookie, "read"),
	    KILN_OK);
	ck_assert_int_eq(kiln_route(r, "GET", "/del", del_cookie, "del"),
	    KILN_OK);
	ck_assert_int_eq(kiln_route(r, "GET", "/go", go, "go"), KILN_OK);
	ck_assert_int_eq(kiln_route(r, "GET", "/item/<id>/", item, "item"),
	    KILN_OK);
	ck_assert_int_eq(kiln_route(r, "POST", "/submit", submit, "submit"),
	    KILN_OK);
	ck_assert_int_eq(kiln_setting_set(app, "limits.max_body", "64"),
	    KILN_OK);
	ck_assert_int_eq(kiln_setting_set(app, "limits.max_uri", "200"),
	    KILN_OK);
	ck_assert_int_eq(kiln_setting_set(app, "limits.max_fields", "5"),
	    KILN_OK);
	ck_assert_int_eq(kiln_app_configure(app, NULL), KILN_OK);
	return app;
}

#define SETUP()                                \
	kiln_app *app = make_app();            \
	kiln_client *c = kiln_client_new(app); \
	const kiln_client_resp *r;             \
	ck_assert_ptr_nonnull(c)
#define TEARDOWN()           \
	kiln_client_free(c); \
	kiln_app_free(app)

START_TEST(test_client_query_multivalue)
{
	SETUP();
	r = kiln_client_get(c, "/args?tag=a&tag=b%20c&q=x+y&empty");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body.ptr, "n=4 tags=2 second=b c q=x y");
	r = kiln_client_get(c, "/args?a=1&b=2&c=3&d=4&e=5&f=6");
	ck_assert_int_eq(r->status, 400);
	r = kiln_client_get(c, "/args?q=%zz");
	ck_assert_int_eq(r->status, 400);
	ck_assert_ptr_nonnull(strstr(r->body.ptr, "query"));
	r = kiln_client_get(c, "/args?q=%ff");
	ck_assert_int_eq(r->status, 400);
	TEARDOWN();
}
END_TEST

START_TEST(test_client_form)
{
	SETUP();
	r = kiln_client_post_form(c, "/form", "name", "Zoë & co", "x", "1",
	    NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body.ptr, "name=Zoë & co fields=2");
	TEARDOWN();
}
END_TEST

START_TEST(test_client_json_in_out)
{
	SETUP();
	r = kiln_client_send_json(c, "POST", "/json",
	    "{\"a\":[1,2.5,\"x\"],\"b\":null}");
	ck_assert_int_eq(r->status, 201);
	ck_assert_str_eq(r->body.ptr,
	    "{\"got\":{\"a\":[1,2.5,\"x\"],\"b\":null}}");
	ck_assert_str_eq(kiln_client_resp_header(r, "Content-Type")->ptr,
	    "application/json");
	r = kiln_client_send_json(c, "PUT", "/json", "{\"a\":");
	ck_assert_int_eq(r->status, 400);
	ck_assert_ptr_nonnull(strstr(r->body.ptr, "malformed JSON"));
	ck_assert_ptr_nonnull(strstr(r->body.ptr, "line 1"));
	r = kiln_client_request(c, "POST", "/json", NULL, KILN_STR("{}"));
	ck_assert_int_eq(r->status, 415);
	TEARDOWN();
}
END_TEST

START_TEST(test_client_headers_and_remote)
{
	kiln_kvs h;
	kiln_arena *a = kiln_arena_new(0);

	SETUP();
	kiln_kvs_init(&h, a);
	ck_assert_int_eq(kiln_kvs_add(&h, KILN_STR("User-Agent"),
			     KILN_STR("curl/8")),
	    KILN_OK);
	kiln_client_set_remote(c, "10.1.2.3", true);
	r = kiln_client_request(c, "DELETE", "/info", &h, KILN_STR_NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body.ptr,
	    "DELETE https 10.1.2.3 testserver ua=curl/8");
	kiln_arena_free(a);
	TEARDOWN();
}
END_TEST

START_TEST(test_client_header_list)
{
	kiln_kvs h;
	kiln_arena *a = kiln_arena_new(0);

	SETUP();
	kiln_kvs_init(&h, a);
	ck_assert_int_eq(kiln_kvs_add(&h, KILN_STR("X-Api-Key"),
			     KILN_STR("k1")),
	    KILN_OK);
	ck_assert_int_eq(kiln_kvs_add(&h, KILN_STR("Content-Type"),
			     KILN_STR("text/x-test")),
	    KILN_OK);
	r = kiln_client_request(c, "POST", "/hdrs", &h, KILN_STR("x"));
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body.ptr, "key|text/x-test|again");
	kiln_arena_free(a);
	TEARDOWN();
}
END_TEST

START_TEST(test_client_cookie_jar)
{
	const kiln_str *sc;

	SETUP();
	r = kiln_client_get(c, "/set");
	ck_assert_int_eq(r->status, 200);
	sc = kiln_client_resp_header(r, "Set-Cookie");
	ck_assert_ptr_nonnull(sc);
	ck_assert_str_eq(sc->ptr,
	    "sid=abc123; Max-Age=3600; Domain=example.org; "
	    "Path=/p; Secure; HttpOnly; SameSite=Strict");
	ck_assert_str_eq(kiln_client_cookie(c, "sid")->ptr, "abc123");
	ck_assert_str_eq(kiln_client_cookie(c, "plain")->ptr, "1");
	r = kiln_client_get(c, "/read");
	ck_assert_str_eq(r->body.ptr, "sid=abc123 n=2");
	r = kiln_client_get(c, "/del");
	ck_assert_ptr_null(kiln_client_cookie(c, "sid"));
	r = kiln_client_get(c, "/read");
	ck_assert_str_eq(r->body.ptr, "sid=- n=1");
	TEARDOWN();
}
END_TEST

START_TEST(test_client_garbage_cookie)
{
	kiln_kvs h;
	kiln_arena *a = kiln_arena_new(0);

	SETUP();
	kiln_kvs_init(&h, a);
	ck_assert_int_eq(kiln_kvs_add(&h, KILN_STR("Cookie"),
			     KILN_STR(";;==;\"\x01\xff=;sid=ok;=x")),
	    KILN_OK);
	r = kiln_client_request(c, "GET", "/read", &h, KILN_STR_NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_nonnull(strstr(r->body.ptr, "sid=ok"));
	kiln_arena_free(a);
	TEARDOWN();
}
END_TEST

START_TEST(test_client_url_for_redirect)
{
	SETUP();
	r = kiln_client_get(c, "/go");
	ck_assert_int_eq(r->status, 303);
	ck_assert_str_eq(kiln_client_resp_header(r, "Location")->ptr,
	    "/item/a%20b%2Fc/?next=%2Fx%3Fy%3D1%26z");
	r = kiln_client_get(c, "/item/a%20b%2Fc/");
	ck_assert_int_eq(r->status, 404); /* %2F decodes to '/', as in Flask */
	r = kiln_client_get(c, "/item/a%20b/");
	ck_assert_str_eq(r->body.ptr, "item a b");
	TEARDOWN();
}
END_TEST

START_TEST(test_client_methods)
{
	SETUP();
	r = kiln_client_get(c, "/form");
	ck_assert_int_eq(r->status, 405);
	ck_assert_str_eq(kiln_client_resp_header(r, "Allow")->ptr,
	    "POST, OPTIONS");
	r = kiln_client_request(c, "OPTIONS", "/info", NULL, KILN_STR_NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(kiln_client_resp_header(r, "Allow")->ptr,
	    "GET, HEAD, POST, DELETE, OPTIONS");
	r = kiln_client_request(c, "HEAD", "/info", NULL, KILN_STR_NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_uint_eq(r->body.len, 0);
	r = kiln_client_request(c, "BREW", "/info", NULL, KILN_STR_NULL);
	ck_assert_int_eq(r->status, 405);
	r = kiln_client_request(c, "GE T", "/info", NULL, KILN_STR_NULL);
	ck_assert_int_eq(r->status, 400);
	TEARDOWN();
}
END_TEST

START_TEST(test_client_bad_input)
{
	char uri[400];

	SETUP();
	r = kiln_client_get(c, "/nowhere");
	ck_assert_int_eq(r->status, 404);
	r = kiln_client_get(c, "/item/%zz/");
	ck_assert_int_eq(r->status, 400);
	ck_assert_ptr_nonnull(strstr(r->body.ptr, "percent-encoding"));
	r = kiln_client_get(c, "/item/%ff%fe/");
	ck_assert_int_eq(r->status, 400);
	ck_assert_ptr_nonnull(strstr(r->body.ptr, "UTF-8"));
	r = kiln_client_get(c, "/item/a%00b/");
	ck_assert_int_eq(r->status, 400);
	memset(uri, 'a', sizeof(uri));
	uri[0] = '/';
	uri[sizeof(uri) - 1] = '\0';
	r = kiln_client_get(c, uri);
	ck_assert_int_eq(r->status, 414);
	r = kiln_client_request(c, "POST", "/submit", NULL,
	    KILN_STR("0123456789012345678901234567890123456789"
		     "0123456789012345678901234567890123456789"));
	ck_assert_int_eq(r->status, 413);
	r = kiln_client_request(c, "POST", "/submit", NULL, KILN_STR("small"));
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body.ptr, "small");
	r = kiln_client_get(c, "relative");
	ck_assert_int_eq(r->status, 400);
	TEARDOWN();
}
END_TEST

START_TEST(test_client_append_slash)
{
	SETUP();
	r = kiln_client_get(c, "/item/abc?x=1");
	ck_assert_int_eq(r->status, 301);
	ck_assert_str_eq(kiln_client_resp_header(r, "Location")->ptr,
	    "/item/abc/?x=1");
	/* The Location keeps the client's percent-encoding. */
	r = kiln_client_get(c, "/item/a%20b%3Fc");
	ck_assert_int_eq(r->status, 301);
	ck_assert_str_eq(kiln_client_resp_header(r, "Location")->ptr,
	    "/item/a%20b%3Fc/");
	/* Other methods get 308, which keeps the method and body. */
	r = kiln_client_post_form(c, "/item/abc", "a", "b", NULL);
	ck_assert_int_eq(r->status, 308);
	ck_assert_str_eq(kiln_client_resp_header(r, "Location")->ptr,
	    "/item/abc/");
	TEARDOWN();
}
END_TEST

Suite *
client_suite(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_client_query_multivalue);
	tcase_add_test(tc, test_client_form);
	tcase_add_test(tc, test_client_json_in_out);
	tcase_add_test(tc, test_client_headers_and_remote);
	tcase_add_test(tc, test_client_header_list);
	tcase_add_test(tc, test_client_cookie_jar);
	tcase_add_test(tc, test_client_garbage_cookie);
	tcase_add_test(tc, test_client_url_for_redirect);
	tcase_add_test(tc, test_client_methods);
	tcase_add_test(tc, test_client_bad_input);
	tcase_add_test(tc, test_client_append_slash);
	suite_add_tcase(s, tc);
	return s;
}
