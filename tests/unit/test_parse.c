/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Unit tests of the pure HTTP parsers (src/http/parse.c): percent
 * escapes, urlencoded fields, cookies, Content-Type, CGI header names,
 * tokens and HTML escaping. Many inputs are slices cut short of the
 * bytes behind them, so that reading past len gives a wrong answer.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <kiln/kiln.h>

#include "http_int.h"

Suite *parse_suite(void);

static kiln_arena *a;

static void
setup(void)
{
	a = kiln_arena_new(0);
	ck_assert_ptr_nonnull(a);
}

static void
teardown(void)
{
	kiln_arena_free(a);
	a = NULL;
}

/* Asserts that slice s holds exactly the bytes of lit. */
#define ck_assert_kstr(s, lit)                                          \
	do {                                                            \
		kiln_str s_ = (s);                                      \
		ck_assert_uint_eq(s_.len, sizeof(lit) - 1);             \
		if (s_.len > 0)                                         \
			ck_assert_mem_eq(s_.ptr, lit, sizeof(lit) - 1); \
	} while (0)

/* Decodes lit; returns the result or fails the test on an error. */
static kiln_str
decode(const char *lit, bool plus)
{
	kiln_str out;

	ck_assert_int_eq(kiln__pct_decode(a, kiln_str_c(lit), plus, &out),
	    KILN_OK);
	ck_assert_int_eq(out.ptr[out.len], '\0');
	return out;
}

/* Returns the urlencoded parse code of lit into m with max fields. */
static kiln_err
form(const char *lit, size_t max, kiln_kvs *m, const char **why)
{
	kiln_kvs_init(m, a);
	return kiln__parse_urlencoded(a, kiln_str_c(lit), max, m, why);
}

START_TEST(test_parse_pct_decode)
{
	kiln_str out;

	ck_assert_kstr(decode("a%20b", false), "a b");
	ck_assert_kstr(decode("a+b", true), "a b");
	ck_assert_kstr(decode("a+b", false), "a+b");
	ck_assert_kstr(decode("%41%62%2b", true), "Ab+");
	ck_assert_kstr(decode("%e9%C3%A9", false), "\xe9\xc3\xa9");
	ck_assert_kstr(decode("", false), "");
	/* A decoded NUL is data here; callers decide whether it is allowed. */
	ck_assert_kstr(decode("x%00y", false), "x\0y");
	ck_assert_int_eq(kiln__pct_decode(a, KILN_STR("%"), false, &out),
	    KILN_EPARSE);
	ck_assert_ptr_null(out.ptr);
	ck_assert_int_eq(kiln__pct_decode(a, KILN_STR("%4"), false, &out),
	    KILN_EPARSE);
	ck_assert_int_eq(kiln__pct_decode(a, KILN_STR("%zz"), false, &out),
	    KILN_EPARSE);
	ck_assert_int_eq(kiln__pct_decode(a, KILN_STR("%4g"), false, &out),
	    KILN_EPARSE);
	ck_assert_int_eq(kiln__pct_decode(a, KILN_STR("%%41"), false, &out),
	    KILN_EPARSE);
	ck_assert_int_eq(kiln__pct_decode(a, KILN_STR("ab%"), false, &out),
	    KILN_EPARSE);
	/* "ab%41" cut to "ab%4": the 1 beyond the slice must not be read. */
	ck_assert_int_eq(kiln__pct_decode(a, (kiln_str){ "ab%41", 4 }, false,
			     &out),
	    KILN_EPARSE);
}
END_TEST

START_TEST(test_parse_pct_encode)
{
	kiln_buf b;

	kiln_buf_init(&b, a, 0);
	ck_assert_int_eq(kiln__pct_encode(&b, KILN_STR("a b/\xc3\xa9~-._"),
			     NULL, false),
	    KILN_OK);
	ck_assert_str_eq(b.ptr, "a%20b%2F%C3%A9~-._");
	kiln_buf_init(&b, a, 0);
	ck_assert_int_eq(kiln__pct_encode(&b, KILN_STR("a b/c"), "/", true),
	    KILN_OK);
	ck_assert_str_eq(b.ptr, "a+b/c");
	/* '+' is escaped under plus_space even when listed as safe. */
	kiln_buf_init(&b, a, 0);
	ck_assert_int_eq(kiln__pct_encode(&b, KILN_STR("1+1"), "+", true),
	    KILN_OK);
	ck_assert_str_eq(b.ptr, "1%2B1");
	kiln_buf_init(&b, a, 0);
	ck_assert_int_eq(kiln__pct_encode(&b, KILN_STR("1+1"), "+", false),
	    KILN_OK);
	ck_assert_str_eq(b.ptr, "1+1");
	/* NUL is never safe, and the input is not NUL-terminated. */
	kiln_buf_init(&b, a, 0);
	ck_assert_int_eq(kiln__pct_encode(&b, (kiln_str){ "\0&=xyz", 4 }, "",
			     false),
	    KILN_OK);
	ck_assert_str_eq(b.ptr, "%00%26%3Dx");
}
END_TEST

START_TEST(test_parse_pct_round_trip_all_bytes)
{
	char all[256];
	kiln_str out;
	kiln_buf b;
	size_t i;

	for (i = 0; i < 256; i++)
		all[i] = (char)i;
	kiln_buf_init(&b, a, 0);
	ck_assert_int_eq(kiln__pct_encode(&b, (kiln_str){ all, 256 }, "/:@",
			     true),
	    KILN_OK);
	ck_assert_int_eq(kiln__pct_decode(a, kiln_buf_str(&b), true, &out),
	    KILN_OK);
	ck_assert_uint_eq(out.len, 256);
	ck_assert_mem_eq(out.ptr, all, 256);
}
END_TEST

START_TEST(test_parse_urlencoded_fields)
{
	kiln_kvs m;

	ck_assert_int_eq(form("a=1&b=2&a=3", 10, &m, NULL), KILN_OK);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_uint_eq(kiln_kvs_count(&m, KILN_STR("a")), 2);
	ck_assert_kstr(*kiln_kvs_get_nth(&m, KILN_STR("a"), 1), "3");
	ck_assert_int_eq(form("&&flag&x=&=v&", 10, &m, NULL), KILN_OK);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_kstr(m.items[0].key, "flag");
	ck_assert_kstr(m.items[0].val, "");
	ck_assert_kstr(m.items[1].key, "x");
	ck_assert_kstr(m.items[1].val, "");
	ck_assert_kstr(m.items[2].key, "");
	ck_assert_kstr(m.items[2].val, "v");
	ck_assert_int_eq(form("q=a+b%21&eq=b=c;d", 10, &m, NULL), KILN_OK);
	ck_assert_kstr(*kiln_kvs_get(&m, KILN_STR("q")), "a b!");
	/* '=' after the first and ';' are part of the value. */
	ck_assert_kstr(*kiln_kvs_get(&m, KILN_STR("eq")), "b=c;d");
	ck_assert_int_eq(form("caf%C3%A9=%E2%82%AC", 10, &m, NULL), KILN_OK);
	ck_assert_kstr(*kiln_kvs_get(&m, KILN_STR("caf\xc3\xa9")),
	    "\xe2\x82\xac");
	ck_assert_int_eq(form("", 0, &m, NULL), KILN_OK);
	ck_assert_uint_eq(m.n, 0);
	/* A slice: "a=1&b=2" cut to "a=1&b". */
	kiln_kvs_init(&m, a);
	ck_assert_int_eq(kiln__parse_urlencoded(a, (kiln_str){ "a=1&b=2", 5 },
			     10, &m, NULL),
	    KILN_OK);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_kstr(*kiln_kvs_get(&m, KILN_STR("b")), "");
}
END_TEST

START_TEST(test_parse_urlencoded_malformed)
{
	const char *why;
	kiln_kvs m;

	ck_assert_int_eq(form("a=%", 10, &m, &why), KILN_EPARSE);
	ck_assert_str_eq(why, "malformed percent escape");
	ck_assert_int_eq(form("a=%4", 10, &m, &why), KILN_EPARSE);
	ck_assert_int_eq(form("a=%zz", 10, &m, &why), KILN_EPARSE);
	ck_assert_int_eq(form("%g0=1", 10, &m, &why), KILN_EPARSE);
	ck_assert_int_eq(form("ok=1&a=%ff", 10, &m, &why), KILN_EPARSE);
	ck_assert_str_eq(why, "field is not valid UTF-8");
	ck_assert_int_eq(form("a=%C0%80", 10, &m, &why), KILN_EPARSE);
	ck_assert_int_eq(form("a=%ED%A0%80", 10, &m, &why), KILN_EPARSE);
	ck_assert_int_eq(form("a=x%00y", 10, &m, &why), KILN_EPARSE);
	ck_assert_str_eq(why, "NUL byte in a field");
	ck_assert_int_eq(form("k%00=1", 10, &m, &why), KILN_EPARSE);
	/* Pairs appended before the error are taken back; older ones stay. */
	kiln_kvs_init(&m, a);
	ck_assert_int_eq(kiln_kvs_add(&m, KILN_STR("old"), KILN_STR("1")),
	    KILN_OK);
	ck_assert_int_eq(kiln__parse_urlencoded(a, KILN_STR("x=1&y=%"), 10, &m,
			     NULL),
	    KILN_EPARSE);
	ck_assert_uint_eq(m.n, 1);
	ck_assert_kstr(m.items[0].key, "old");
}
END_TEST

START_TEST(test_parse_urlencoded_field_limit)
{
	const char *why;
	kiln_kvs m;

	ck_assert_int_eq(form("a&b", 2, &m, &why), KILN_OK);
	ck_assert_ptr_null(why);
	ck_assert_int_eq(form("a&b&c", 2, &m, &why), KILN_ELIMIT);
	ck_assert_str_eq(why, "too many fields");
	ck_assert_uint_eq(m.n, 0);
	/* Empty pairs do not count. */
	ck_assert_int_eq(form("&a&&b&&", 2, &m, &why), KILN_OK);
	ck_assert_int_eq(form("a", 0, &m, &why), KILN_ELIMIT);
	/* The limit is checked before a field is decoded. */
	ck_assert_int_eq(form("a&b&%zz", 2, &m, &why), KILN_ELIMIT);
}
END_TEST

START_TEST(test_parse_cookies)
{
	kiln_kvs m;

	kiln_kvs_init(&m, a);
	ck_assert_int_eq(kiln__parse_cookies(a,
			     KILN_STR("sid=abc; theme=dark;lang=en ; "
				      "q=\"x y\"; eq=a=b; sid=second"),
			     50, &m),
	    KILN_OK);
	ck_assert_uint_eq(m.n, 6);
	ck_assert_kstr(*kiln_kvs_get(&m, KILN_STR("sid")), "abc");
	ck_assert_kstr(*kiln_kvs_get_nth(&m, KILN_STR("sid"), 1), "second");
	ck_assert_kstr(*kiln_kvs_get(&m, KILN_STR("lang")), "en");
	ck_assert_kstr(*kiln_kvs_get(&m, KILN_STR("q")), "x y");
	ck_assert_kstr(*kiln_kvs_get(&m, KILN_STR("eq")), "a=b");
	ck_assert_kstr(m.items[1].key, "theme");
	/* The limit keeps the first ones; it is not an error. */
	kiln_kvs_init(&m, a);
	ck_assert_int_eq(kiln__parse_cookies(a, KILN_STR("a=1; b=2; c=3"), 2,
			     &m),
	    KILN_OK);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_kstr(m.items[1].key, "b");
}
END_TEST

START_TEST(test_parse_cookies_garbage)
{
	kiln_kvs m;

	kiln_kvs_init(&m, a);
	ck_assert_int_eq(kiln__parse_cookies(a, KILN_STR("=;;==a;b"), 50, &m),
	    KILN_OK);
	ck_assert_uint_eq(m.n, 0);
	ck_assert_int_eq(kiln__parse_cookies(a, KILN_STR(";;; ; "), 50, &m),
	    KILN_OK);
	ck_assert_int_eq(kiln__parse_cookies(a, KILN_STR_NULL, 50, &m),
	    KILN_OK);
	ck_assert_uint_eq(m.n, 0);
	/* Unmatched quotes are kept as sent. */
	ck_assert_int_eq(kiln__parse_cookies(a, KILN_STR("a=\"x; b=y\"; c=\""),
			     50, &m),
	    KILN_OK);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_kstr(*kiln_kvs_get(&m, KILN_STR("a")), "\"x");
	ck_assert_kstr(*kiln_kvs_get(&m, KILN_STR("b")), "y\"");
	ck_assert_kstr(*kiln_kvs_get(&m, KILN_STR("c")), "\"");
	/* Control bytes, a space in a name and bad UTF-8 drop the pair. */
	kiln_kvs_init(&m, a);
	ck_assert_int_eq(kiln__parse_cookies(a,
			     KILN_STR("n\x01=1; a b=2; v=\x7f; u=\xff; "
				      "z=\0; ok=1"),
			     50, &m),
	    KILN_OK);
	ck_assert_uint_eq(m.n, 1);
	ck_assert_kstr(m.items[0].key, "ok");
	/* A slice cut inside the value. */
	kiln_kvs_init(&m, a);
	ck_assert_int_eq(kiln__parse_cookies(a, (kiln_str){ "k=12345", 4 }, 50,
			     &m),
	    KILN_OK);
	ck_assert_kstr(*kiln_kvs_get(&m, KILN_STR("k")), "12");
}
END_TEST

START_TEST(test_parse_content_type)
{
	kiln_str mime, cs;

	ck_assert_int_eq(kiln__parse_content_type(a, KILN_STR("text/html"),
			     &mime, &cs),
	    KILN_OK);
	ck_assert_kstr(mime, "text/html");
	ck_assert_kstr(cs, "");
	ck_assert_int_eq(kiln__parse_content_type(a,
			     KILN_STR("  Text/HTML ;  Charset=UTF-8  "), &mime,
			     &cs),
	    KILN_OK);
	ck_assert_kstr(mime, "text/html");
	ck_assert_kstr(cs, "UTF-8");
	ck_assert_int_eq(mime.ptr[mime.len], '\0');
	ck_assert_int_eq(kiln__parse_content_type(a,
			     KILN_STR("application/json;charset=\"utf-8\""),
			     &mime, &cs),
	    KILN_OK);
	ck_assert_kstr(mime, "application/json");
	ck_assert_kstr(cs, "utf-8");
	ck_assert_int_eq(kiln__parse_content_type(a,
			     KILN_STR("multipart/form-data; boundary=\"a;b\"; "
				      "charset=latin1; charset=utf-8"),
			     &mime, &cs),
	    KILN_OK);
	ck_assert_kstr(mime, "multipart/form-data");
	ck_assert_kstr(cs, "latin1");
	ck_assert_int_eq(kiln__parse_content_type(a,
			     KILN_STR("text/plain; charset=\"a\\\"b\""), &mime,
			     &cs),
	    KILN_OK);
	ck_assert_kstr(cs, "a\"b");
	/* Broken parameters are ignored, the type still counts. */
	ck_assert_int_eq(kiln__parse_content_type(a,
			     KILN_STR("text/plain; charset"), &mime, &cs),
	    KILN_OK);
	ck_assert_kstr(cs, "");
	ck_assert_int_eq(kiln__parse_content_type(a,
			     KILN_STR("text/plain; charset=\"utf-8"), &mime,
			     &cs),
	    KILN_OK);
	ck_assert_kstr(mime, "text/plain");
	ck_assert_kstr(cs, "");
	ck_assert_int_eq(kiln__parse_content_type(a,
			     KILN_STR("text/plain; charset=ascii junk; x=1"),
			     &mime, &cs),
	    KILN_OK);
	ck_assert_kstr(cs, "ascii");
	/* The slice stops before ";charset=x". */
	ck_assert_int_eq(kiln__parse_content_type(a,
			     (kiln_str){ "text/css;charset=x", 8 }, &mime, &cs),
	    KILN_OK);
	ck_assert_kstr(mime, "text/css");
	ck_assert_kstr(cs, "");
}
END_TEST

START_TEST(test_parse_content_type_malformed)
{
	static const char *const bad[] = { "", "text", "/html", "text/",
		"text/ html", "text /html", "te xt/html", "text/html garbage",
		"text/html,text/plain", "\xc3\xa9/x", "text/\"x\"" };
	kiln_str mime, cs;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(kiln__parse_content_type(a, kiln_str_c(bad[i]),
				  &mime, &cs) == KILN_EPARSE,
		    "\"%s\" accepted", bad[i]);
		ck_assert_uint_eq(mime.len, 0);
	}
}
END_TEST

START_TEST(test_parse_cgi_header_name)
{
	kiln_str out;

	ck_assert_int_eq(kiln__cgi_header_name(a,
			     KILN_STR("HTTP_X_FORWARDED_FOR"), &out),
	    KILN_OK);
	ck_assert_kstr(out, "X-Forwarded-For");
	ck_assert_int_eq(out.ptr[out.len], '\0');
	ck_assert_int_eq(kiln__cgi_header_name(a, KILN_STR("CONTENT_TYPE"),
			     &out),
	    KILN_OK);
	ck_assert_kstr(out, "Content-Type");
	ck_assert_int_eq(kiln__cgi_header_name(a, KILN_STR("CONTENT_LENGTH"),
			     &out),
	    KILN_OK);
	ck_assert_kstr(out, "Content-Length");
	ck_assert_int_eq(kiln__cgi_header_name(a, KILN_STR("HTTP_HOST"), &out),
	    KILN_OK);
	ck_assert_kstr(out, "Host");
	ck_assert_int_eq(kiln__cgi_header_name(a, KILN_STR("REQUEST_METHOD"),
			     &out),
	    KILN_ENOTFOUND);
	ck_assert_int_eq(kiln__cgi_header_name(a, KILN_STR("HTTP_"), &out),
	    KILN_ENOTFOUND);
	ck_assert_int_eq(kiln__cgi_header_name(a, KILN_STR("HTTP_A B"), &out),
	    KILN_ENOTFOUND);
	ck_assert_int_eq(kiln__cgi_header_name(a, KILN_STR("CONTENT_TYPES"),
			     &out),
	    KILN_ENOTFOUND);
	ck_assert_int_eq(kiln__cgi_header_name(a, KILN_STR("http_host"), &out),
	    KILN_ENOTFOUND);
	/* A slice: "HTTP_ACCEPT" cut to "HTTP_ACC". */
	ck_assert_int_eq(kiln__cgi_header_name(a,
			     (kiln_str){ "HTTP_ACCEPT", 8 }, &out),
	    KILN_OK);
	ck_assert_kstr(out, "Acc");
}
END_TEST

START_TEST(test_parse_is_token)
{
	ck_assert(kiln__is_token(KILN_STR("GET")));
	ck_assert(kiln__is_token(KILN_STR("x!#$%&'*+-.^_`|~09")));
	ck_assert(!kiln__is_token(KILN_STR("")));
	ck_assert(!kiln__is_token(KILN_STR("a b")));
	ck_assert(!kiln__is_token(KILN_STR("a:b")));
	ck_assert(!kiln__is_token(KILN_STR("a\0")));
	ck_assert(!kiln__is_token(KILN_STR("\xc3\xa9")));
	ck_assert(!kiln__is_token(KILN_STR("(x)")));
}
END_TEST

START_TEST(test_parse_html_escape)
{
	kiln_buf b;

	kiln_buf_init(&b, a, 0);
	ck_assert_int_eq(kiln__html_escape(&b,
			     KILN_STR("<a href=\"x\">'Tom' & Jerry</a>")),
	    KILN_OK);
	ck_assert_str_eq(b.ptr,
	    "&lt;a href=&quot;x&quot;&gt;&#x27;Tom&#x27; &amp; "
	    "Jerry&lt;/a&gt;");
	kiln_buf_init(&b, a, 0);
	ck_assert_int_eq(kiln__html_escape(&b, KILN_STR("plain")), KILN_OK);
	ck_assert_int_eq(kiln__html_escape(&b, KILN_STR_NULL), KILN_OK);
	ck_assert_int_eq(kiln__html_escape(&b, (kiln_str){ "x<y", 2 }),
	    KILN_OK);
	ck_assert_str_eq(b.ptr, "plainx&lt;");
}
END_TEST

Suite *
parse_suite(void)
{
	Suite *s;
	TCase *tc;

	s = suite_create("parse");
	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_pct_decode);
	tcase_add_test(tc, test_parse_pct_encode);
	tcase_add_test(tc, test_parse_pct_round_trip_all_bytes);
	tcase_add_test(tc, test_parse_urlencoded_fields);
	tcase_add_test(tc, test_parse_urlencoded_malformed);
	tcase_add_test(tc, test_parse_urlencoded_field_limit);
	tcase_add_test(tc, test_parse_cookies);
	tcase_add_test(tc, test_parse_cookies_garbage);
	tcase_add_test(tc, test_parse_content_type);
	tcase_add_test(tc, test_parse_content_type_malformed);
	tcase_add_test(tc, test_parse_cgi_header_name);
	tcase_add_test(tc, test_parse_is_token);
	tcase_add_test(tc, test_parse_html_escape);
	suite_add_tcase(s, tc);
	return s;
}
