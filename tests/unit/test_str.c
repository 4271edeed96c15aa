/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Unit tests of the string slice helpers (src/core/str.c) and of the
 * ordered multi-map (src/core/kv.c). Inputs are passed as slices cut
 * shorter than the bytes behind them wherever that matters, so a read
 * past len shows up as a wrong answer (and under ASan as an error).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <kiln/kiln.h>

Suite *str_suite(void);

/* A slice of the first n bytes of p (which may hold more). */
static kiln_str
sl(const char *p, size_t n)
{
	kiln_str s;

	s.ptr = p;
	s.len = n;
	return s;
}

START_TEST(test_str_caseeq)
{
	ck_assert(kiln_str_caseeq(KILN_STR("Content-Type"),
	    KILN_STR("content-TYPE")));
	ck_assert(kiln_str_caseeq(KILN_STR(""), KILN_STR_NULL));
	ck_assert(!kiln_str_caseeq(KILN_STR("abc"), KILN_STR("abcd")));
	ck_assert(!kiln_str_caseeq(KILN_STR("abc"), KILN_STR("abd")));
	/* Only ASCII folds: É (C3 89) and é (C3 A9) differ. */
	ck_assert(!kiln_str_caseeq(KILN_STR("\xc3\x89"), KILN_STR("\xc3\xa9")));
	/* '@' and '`' sit next to the letters and must not fold. */
	ck_assert(!kiln_str_caseeq(KILN_STR("@"), KILN_STR("`")));
}
END_TEST

START_TEST(test_str_startswith)
{
	ck_assert(kiln_str_startswith(KILN_STR("/blog/1"), KILN_STR("/blog")));
	ck_assert(kiln_str_startswith(KILN_STR("abc"), KILN_STR("")));
	ck_assert(kiln_str_startswith(KILN_STR_NULL, KILN_STR_NULL));
	ck_assert(!kiln_str_startswith(KILN_STR("/b"), KILN_STR("/blog")));
	ck_assert(!kiln_str_startswith(sl("/blog", 3), KILN_STR("/blog")));
}
END_TEST

START_TEST(test_str_to_i64_ok)
{
	int64_t v;

	ck_assert_int_eq(kiln_str_to_i64(KILN_STR("0"), &v), KILN_OK);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(kiln_str_to_i64(KILN_STR("-42"), &v), KILN_OK);
	ck_assert_int_eq(v, -42);
	ck_assert_int_eq(kiln_str_to_i64(KILN_STR("+7"), &v), KILN_OK);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(kiln_str_to_i64(KILN_STR("007"), &v), KILN_OK);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(kiln_str_to_i64(KILN_STR("9223372036854775807"), &v),
	    KILN_OK);
	ck_assert(v == INT64_MAX);
	ck_assert_int_eq(kiln_str_to_i64(KILN_STR("-9223372036854775808"), &v),
	    KILN_OK);
	ck_assert(v == INT64_MIN);
	/* The slice ends before the 4: only "123" is read. */
	ck_assert_int_eq(kiln_str_to_i64(sl("1234", 3), &v), KILN_OK);
	ck_assert_int_eq(v, 123);
}
END_TEST

START_TEST(test_str_to_i64_bad_syntax)
{
	static const char *const bad[] = { "", "-", "+", "1a", " 1", "1 ",
		"--1", "+-1", "0x10", "1.0", "1e3", "\xd9\xa1" };
	int64_t v;
	size_t i;

	v = 99;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(kiln_str_to_i64(kiln_str_c(bad[i]), &v),
		    KILN_EPARSE);
	ck_assert_int_eq(kiln_str_to_i64(KILN_STR("1\0002"), &v), KILN_EPARSE);
	ck_assert_int_eq(v, 99);
}
END_TEST

START_TEST(test_str_to_i64_overflow)
{
	int64_t v;

	v = 5;
	ck_assert_int_eq(kiln_str_to_i64(KILN_STR("9223372036854775808"), &v),
	    KILN_ELIMIT);
	ck_assert_int_eq(kiln_str_to_i64(KILN_STR("-9223372036854775809"), &v),
	    KILN_ELIMIT);
	ck_assert_int_eq(kiln_str_to_i64(KILN_STR("18446744073709551616"), &v),
	    KILN_ELIMIT);
	ck_assert_int_eq(kiln_str_to_i64(KILN_STR("1000000000000000000000000"),
			     &v),
	    KILN_ELIMIT);
	/* Bad syntax wins over overflow. */
	ck_assert_int_eq(kiln_str_to_i64(KILN_STR("99999999999999999999x"), &v),
	    KILN_EPARSE);
	ck_assert_int_eq(v, 5);
}
END_TEST

START_TEST(test_str_utf8_valid)
{
	ck_assert(kiln_utf8_valid(KILN_STR_NULL));
	ck_assert(kiln_utf8_valid(KILN_STR("plain ascii")));
	ck_assert(kiln_utf8_valid(KILN_STR("caf\xc3\xa9")));	  /* é */
	ck_assert(kiln_utf8_valid(KILN_STR("\xe2\x82\xac")));	  /* € */
	ck_assert(kiln_utf8_valid(KILN_STR("\xf0\x9f\x98\x80"))); /* 😀 */
	ck_assert(kiln_utf8_valid(KILN_STR("\xf4\x8f\xbf\xbf"))); /* U+10FFFF */
	ck_assert(kiln_utf8_valid(KILN_STR("\xed\x9f\xbf")));	  /* U+D7FF */
	ck_assert(kiln_utf8_valid(KILN_STR("\xee\x80\x80")));	  /* U+E000 */
	ck_assert(kiln_utf8_valid(KILN_STR("a\0b")));		  /* NUL */
}
END_TEST

START_TEST(test_str_utf8_invalid)
{
	static const char *const bad[] = {
		"\xc0\x80",	    /* overlong NUL */
		"\xc1\xbf",	    /* overlong */
		"\xe0\x80\xaf",	    /* overlong '/' */
		"\xe0\x9f\xbf",	    /* overlong */
		"\xf0\x8f\xbf\xbf", /* overlong */
		"\xed\xa0\x80",	    /* surrogate U+D800 */
		"\xed\xbf\xbf",	    /* surrogate U+DFFF */
		"\xf4\x90\x80\x80", /* U+110000 */
		"\xf5\x80\x80\x80", /* beyond */
		"\xff",
		"\xfe",
		"\x80", /* lone continuation */
		"a\xbf",
		"\xc3",		/* truncated */
		"\xe2\x82",	/* truncated */
		"\xf0\x9f\x98", /* truncated */
		"\xc3\x28",	/* bad continuation */
		"\xe2\x28\xa1",
		"\xf0\x9f\x28\x80",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!kiln_utf8_valid(kiln_str_c(bad[i])),
		    "case %zu accepted", i);
	/* The bytes after the slice must not complete the sequence. */
	ck_assert(!kiln_utf8_valid(sl("\xe2\x82\xac", 2)));
	ck_assert(!kiln_utf8_valid(sl("x\xf0\x9f\x98\x80", 4)));
}
END_TEST

START_TEST(test_kv_add_get)
{
	kiln_arena *a;
	kiln_kvs m;
	const kiln_str *v;

	a = kiln_arena_new(0);
	ck_assert_ptr_nonnull(a);
	kiln_kvs_init(&m, a);
	ck_assert_ptr_null(kiln_kvs_get(&m, KILN_STR("a")));
	ck_assert_int_eq(kiln_kvs_add(&m, KILN_STR("a"), KILN_STR("1")),
	    KILN_OK);
	ck_assert_int_eq(kiln_kvs_add(&m, KILN_STR("B"), KILN_STR("2")),
	    KILN_OK);
	ck_assert_int_eq(kiln_kvs_add(&m, KILN_STR("a"), KILN_STR("3")),
	    KILN_OK);
	ck_assert_uint_eq(m.n, 3);
	v = kiln_kvs_get(&m, KILN_STR("a"));
	ck_assert_ptr_nonnull(v);
	ck_assert(kiln_str_eq_c(*v, "1"));
	ck_assert_ptr_null(kiln_kvs_get(&m, KILN_STR("b")));
	v = kiln_kvs_get_case(&m, KILN_STR("b"));
	ck_assert_ptr_nonnull(v);
	ck_assert(kiln_str_eq_c(*v, "2"));
	ck_assert_uint_eq(kiln_kvs_count(&m, KILN_STR("a")), 2);
	ck_assert_uint_eq(kiln_kvs_count(&m, KILN_STR("zz")), 0);
	v = kiln_kvs_get_nth(&m, KILN_STR("a"), 1);
	ck_assert_ptr_nonnull(v);
	ck_assert(kiln_str_eq_c(*v, "3"));
	ck_assert_ptr_null(kiln_kvs_get_nth(&m, KILN_STR("a"), 2));
	/* Keys compare by length, so an embedded NUL is significant. */
	ck_assert_int_eq(kiln_kvs_add(&m, KILN_STR("k\0x"), KILN_STR("n")),
	    KILN_OK);
	ck_assert_ptr_null(kiln_kvs_get(&m, KILN_STR("k")));
	ck_assert_ptr_nonnull(kiln_kvs_get(&m, KILN_STR("k\0x")));
	kiln_arena_free(a);
}
END_TEST

START_TEST(test_kv_growth_keeps_order)
{
	char keys[1000][8];
	kiln_arena *a;
	kiln_kvs m;
	size_t i;

	a = kiln_arena_new(0);
	ck_assert_ptr_nonnull(a);
	kiln_kvs_init(&m, a);
	for (i = 0; i < 1000; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
		ck_assert_int_eq(kiln_kvs_add(&m, kiln_str_c(keys[i]),
				     KILN_STR("v")),
		    KILN_OK);
	}
	ck_assert_uint_eq(m.n, 1000);
	ck_assert_uint_ge(m.cap, m.n);
	for (i = 0; i < 1000; i++)
		ck_assert(kiln_str_eq_c(m.items[i].key, keys[i]));
	ck_assert_ptr_nonnull(kiln_kvs_get(&m, KILN_STR("k999")));
	kiln_arena_free(a);
}
END_TEST

START_TEST(test_kv_set_replaces_all)
{
	kiln_arena *a;
	kiln_kvs m;

	a = kiln_arena_new(0);
	ck_assert_ptr_nonnull(a);
	kiln_kvs_init(&m, a);
	ck_assert_int_eq(kiln_kvs_add(&m, KILN_STR("x"), KILN_STR("1")),
	    KILN_OK);
	ck_assert_int_eq(kiln_kvs_add(&m, KILN_STR("y"), KILN_STR("2")),
	    KILN_OK);
	ck_assert_int_eq(kiln_kvs_add(&m, KILN_STR("x"), KILN_STR("3")),
	    KILN_OK);
	ck_assert_int_eq(kiln_kvs_add(&m, KILN_STR("z"), KILN_STR("4")),
	    KILN_OK);
	ck_assert_int_eq(kiln_kvs_set(&m, KILN_STR("x"), KILN_STR("9")),
	    KILN_OK);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_uint_eq(kiln_kvs_count(&m, KILN_STR("x")), 1);
	/* The first x keeps its place. */
	ck_assert(kiln_str_eq_c(m.items[0].key, "x"));
	ck_assert(kiln_str_eq_c(m.items[0].val, "9"));
	ck_assert(kiln_str_eq_c(m.items[2].key, "z"));
	ck_assert_int_eq(kiln_kvs_set(&m, KILN_STR("new"), KILN_STR("5")),
	    KILN_OK);
	ck_assert_uint_eq(m.n, 4);
	ck_assert(kiln_str_eq_c(m.items[3].key, "new"));
	kiln_arena_free(a);
}
END_TEST

START_TEST(test_kv_del_counts)
{
	kiln_arena *a;
	kiln_kvs m;

	a = kiln_arena_new(0);
	ck_assert_ptr_nonnull(a);
	kiln_kvs_init(&m, a);
	ck_assert_uint_eq(kiln_kvs_del(&m, KILN_STR("x")), 0);
	ck_assert_int_eq(kiln_kvs_add(&m, KILN_STR("x"), KILN_STR("1")),
	    KILN_OK);
	ck_assert_int_eq(kiln_kvs_add(&m, KILN_STR("y"), KILN_STR("2")),
	    KILN_OK);
	ck_assert_int_eq(kiln_kvs_add(&m, KILN_STR("x"), KILN_STR("3")),
	    KILN_OK);
	ck_assert_uint_eq(kiln_kvs_del(&m, KILN_STR("x")), 2);
	ck_assert_uint_eq(m.n, 1);
	ck_assert(kiln_str_eq_c(m.items[0].key, "y"));
	ck_assert_ptr_null(kiln_kvs_get(&m, KILN_STR("x")));
	/* The map still grows after a delete. */
	ck_assert_int_eq(kiln_kvs_add(&m, KILN_STR("x"), KILN_STR("4")),
	    KILN_OK);
	ck_assert(kiln_str_eq_c(*kiln_kvs_get(&m, KILN_STR("x")), "4"));
	kiln_arena_free(a);
}
END_TEST

START_TEST(test_kv_uninitialised_map_refuses)
{
	kiln_kvs m;

	memset(&m, 0, sizeof(m));
	ck_assert_int_eq(kiln_kvs_add(&m, KILN_STR("a"), KILN_STR("b")),
	    KILN_EINVAL);
	ck_assert_uint_eq(m.n, 0);
	ck_assert_ptr_null(kiln_kvs_get(&m, KILN_STR("a")));
}
END_TEST

Suite *
str_suite(void)
{
	Suite *s;
	TCase *tc;

	s = suite_create("str");
	tc = tcase_create("str");
	tcase_add_test(tc, test_str_caseeq);
	tcase_add_test(tc, test_str_startswith);
	tcase_add_test(tc, test_str_to_i64_ok);
	tcase_add_test(tc, test_str_to_i64_bad_syntax);
	tcase_add_test(tc, test_str_to_i64_overflow);
	tcase_add_test(tc, test_str_utf8_valid);
	tcase_add_test(tc, test_str_utf8_invalid);
	suite_add_tcase(s, tc);
	tc = tcase_create("kv");
	tcase_add_test(tc, test_kv_add_get);
	tcase_add_test(tc, test_kv_growth_keeps_order);
	tcase_add_test(tc, test_kv_set_replaces_all);
	tcase_add_test(tc, test_kv_del_counts);
	tcase_add_test(tc, test_kv_uninitialised_map_refuses);
	suite_add_tcase(s, tc);
	return s;
}
