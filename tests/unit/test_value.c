/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Unit tests of the dynamic value (src/core/value.c) and of JSON parsing
 * and writing (src/core/json.c). Error messages are compared in full,
 * because users see them in 400 responses.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <kiln/kiln.h>

Suite *value_suite(void);

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

/* Parses lit with the default depth; the test fails on a parse error. */
static kiln_val *
parse_ok(const char *lit)
{
	char err[256];
	kiln_val *v;

	v = kiln_json_parse(a, kiln_str_c(lit), 0, err, sizeof(err));
	ck_assert_msg(v != NULL, "parse of %s failed: %s", lit, err);
	return v;
}

/* Parses lit, which must fail, and returns the message (in a). */
static const char *
parse_err(const char *lit, size_t max_depth)
{
	char err[256];
	kiln_val *v;

	memset(err, 'x', sizeof(err));
	v = kiln_json_parse(a, kiln_str_c(lit), max_depth, err, sizeof(err));
	ck_assert_msg(v == NULL, "parse of %s succeeded", lit);
	return kiln_arena_strdup(a, err);
}

/* Dumps v, which must succeed, and returns the text. */
static const char *
dump_ok(const kiln_val *v)
{
	kiln_str out;

	ck_assert_int_eq(kiln_json_dump(a, v, &out), KILN_OK);
	ck_assert_ptr_nonnull(out.ptr);
	ck_assert_uint_eq(strlen(out.ptr), out.len);
	return out.ptr;
}

START_TEST(test_value_scalars)
{
	kiln_val *v;

	v = kiln_val_null(a);
	ck_assert_int_eq(v->type, KILN_VAL_NULL);
	v = kiln_val_bool(a, true);
	ck_assert_int_eq(v->type, KILN_VAL_BOOL);
	ck_assert(v->u.b);
	v = kiln_val_int(a, INT64_MIN);
	ck_assert_int_eq(v->type, KILN_VAL_INT);
	ck_assert(v->u.i == INT64_MIN);
	v = kiln_val_float(a, 2.5);
	ck_assert_int_eq(v->type, KILN_VAL_FLOAT);
	ck_assert_double_eq(v->u.f, 2.5);
	ck_assert_uint_eq(kiln_val_len(v), 0);
}
END_TEST

START_TEST(test_value_strings_are_copied)
{
	char src[] = "hello";
	kiln_val *v;

	v = kiln_val_str(a, kiln_str_c(src));
	src[0] = 'j';
	ck_assert_int_eq(v->type, KILN_VAL_STR);
	ck_assert_str_eq(v->u.s.ptr, "hello");
	ck_assert_uint_eq(kiln_val_len(v), 5);
	v = kiln_val_safe(a, KILN_STR("<b>"));
	ck_assert_int_eq(v->type, KILN_VAL_SAFE);
	ck_assert_str_eq(v->u.s.ptr, "<b>");
	v = kiln_val_str(a, KILN_STR("a\0b"));
	ck_assert_uint_eq(v->u.s.len, 3);
	ck_assert_int_eq(v->u.s.ptr[3], '\0');
	v = kiln_val_cstr(a, NULL);
	ck_assert_int_eq(v->type, KILN_VAL_STR);
	ck_assert_uint_eq(v->u.s.len, 0);
	ck_assert_str_eq(v->u.s.ptr, "");
}
END_TEST

START_TEST(test_value_list_grows)
{
	kiln_val *l, *v;
	size_t i;

	l = kiln_val_list(a);
	ck_assert_ptr_null(kiln_val_at(l, 0));
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(kiln_val_push(l, kiln_val_int(a, (int64_t)i)),
		    KILN_OK);
	ck_assert_uint_eq(kiln_val_len(l), 100);
	v = kiln_val_at(l, 99);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(v->u.i, 99);
	ck_assert_ptr_null(kiln_val_at(l, 100));
	ck_assert_int_eq(kiln_val_push(l, NULL), KILN_EINVAL);
	ck_assert_int_eq(kiln_val_push(kiln_val_map(a), kiln_val_null(a)),
	    KILN_EINVAL);
	ck_assert_ptr_null(kiln_val_at(kiln_val_map(a), 0));
}
END_TEST

START_TEST(test_value_map_set_get)
{
	kiln_val *m, *v;
	char key[] = "name";

	m = kiln_val_map(a);
	ck_assert_ptr_null(kiln_val_get(m, "name"));
	ck_assert_int_eq(kiln_val_set(m, key, kiln_val_cstr(a, "kiln")),
	    KILN_OK);
	key[0] = 'g';
	ck_assert_int_eq(kiln_val_set(m, "n", kiln_val_int(a, 1)), KILN_OK);
	ck_assert_int_eq(kiln_val_set(m, "name", kiln_val_cstr(a, "oven")),
	    KILN_OK);
	ck_assert_uint_eq(kiln_val_len(m), 2);
	/* Replaced in place: "name" is still first. */
	ck_assert_str_eq(m->u.map.items[0].key.ptr, "name");
	v = kiln_val_get(m, "name");
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v->u.s.ptr, "oven");
	ck_assert_ptr_null(kiln_val_get(m, "game"));
	ck_assert_ptr_nonnull(kiln_val_get_str(m, KILN_STR("n")));
	ck_assert_int_eq(kiln_val_set(m, "x", NULL), KILN_EINVAL);
	ck_assert_int_eq(kiln_val_set(m, NULL, kiln_val_null(a)), KILN_EINVAL);
	ck_assert_int_eq(kiln_val_set(kiln_val_list(a), "x", kiln_val_null(a)),
	    KILN_EINVAL);
	ck_assert_ptr_null(kiln_val_get(kiln_val_list(a), "x"));
	ck_assert_ptr_null(kiln_val_get(NULL, "x"));
}
END_TEST

START_TEST(test_value_truthy)
{
	kiln_val *l;

	ck_assert(!kiln_val_truthy(NULL));
	ck_assert(!kiln_val_truthy(kiln_val_null(a)));
	ck_assert(!kiln_val_truthy(kiln_val_bool(a, false)));
	ck_assert(kiln_val_truthy(kiln_val_bool(a, true)));
	ck_assert(!kiln_val_truthy(kiln_val_int(a, 0)));
	ck_assert(kiln_val_truthy(kiln_val_int(a, -1)));
	ck_assert(!kiln_val_truthy(kiln_val_float(a, 0.0)));
	ck_assert(!kiln_val_truthy(kiln_val_float(a, -0.0)));
	ck_assert(kiln_val_truthy(kiln_val_float(a, NAN)));
	ck_assert(!kiln_val_truthy(kiln_val_cstr(a, "")));
	ck_assert(kiln_val_truthy(kiln_val_cstr(a, "0")));
	ck_assert(!kiln_val_truthy(kiln_val_safe(a, KILN_STR(""))));
	l = kiln_val_list(a);
	ck_assert(!kiln_val_truthy(l));
	ck_assert_int_eq(kiln_val_push(l, kiln_val_null(a)), KILN_OK);
	ck_assert(kiln_val_truthy(l));
	ck_assert(!kiln_val_truthy(kiln_val_map(a)));
}
END_TEST

START_TEST(test_value_type_names)
{
	ck_assert_str_eq(kiln_val_type_name(KILN_VAL_NULL), "null");
	ck_assert_str_eq(kiln_val_type_name(KILN_VAL_BOOL), "bool");
	ck_assert_str_eq(kiln_val_type_name(KILN_VAL_INT), "int");
	ck_assert_str_eq(kiln_val_type_name(KILN_VAL_FLOAT), "float");
	ck_assert_str_eq(kiln_val_type_name(KILN_VAL_STR), "str");
	ck_assert_str_eq(kiln_val_type_name(KILN_VAL_SAFE), "safe");
	ck_assert_str_eq(kiln_val_type_name(KILN_VAL_LIST), "list");
	ck_assert_str_eq(kiln_val_type_name(KILN_VAL_MAP), "map");
	ck_assert_str_eq(kiln_val_type_name(KILN_VAL__MAX), "unknown");
}
END_TEST

START_TEST(test_value_json_parse_any_top_level)
{
	kiln_val *v;

	v = parse_ok("42");
	ck_assert_int_eq(v->type, KILN_VAL_INT);
	ck_assert_int_eq(v->u.i, 42);
	v = parse_ok(" \"x\" ");
	ck_assert_int_eq(v->type, KILN_VAL_STR);
	ck_assert_str_eq(v->u.s.ptr, "x");
	ck_assert_int_eq(parse_ok("true")->type, KILN_VAL_BOOL);
	ck_assert_int_eq(parse_ok("null")->type, KILN_VAL_NULL);
	v = parse_ok("1.0");
	ck_assert_int_eq(v->type, KILN_VAL_FLOAT);
	ck_assert_double_eq(v->u.f, 1.0);
	ck_assert_int_eq(parse_ok("1e2")->type, KILN_VAL_FLOAT);
	ck_assert_int_eq(parse_ok("[]")->type, KILN_VAL_LIST);
	ck_assert_int_eq(parse_ok("{}")->type, KILN_VAL_MAP);
}
END_TEST

START_TEST(test_value_json_parse_objects)
{
	kiln_val *v, *l;

	v = parse_ok("{\"z\":1,\"a\":[true,null,\"s\"],\"m\":{\"k\":2.5}}");
	ck_assert_int_eq(v->type, KILN_VAL_MAP);
	ck_assert_uint_eq(kiln_val_len(v), 3);
	/* Document order is kept. */
	ck_assert_str_eq(v->u.map.items[0].key.ptr, "z");
	ck_assert_str_eq(v->u.map.items[1].key.ptr, "a");
	ck_assert_str_eq(v->u.map.items[2].key.ptr, "m");
	l = kiln_val_get(v, "a");
	ck_assert_uint_eq(kiln_val_len(l), 3);
	ck_assert_str_eq(kiln_val_at(l, 2)->u.s.ptr, "s");
	ck_assert_double_eq(kiln_val_get(kiln_val_get(v, "m"), "k")->u.f, 2.5);
	/* A repeated key keeps its first place and its last value. */
	v = parse_ok("{\"a\":1,\"b\":2,\"a\":3}");
	ck_assert_uint_eq(kiln_val_len(v), 2);
	ck_assert_str_eq(v->u.map.items[0].key.ptr, "a");
	ck_assert_int_eq(kiln_val_get(v, "a")->u.i, 3);
	/* The parsed map can grow. */
	ck_assert_int_eq(kiln_val_set(v, "c", kiln_val_null(a)), KILN_OK);
	ck_assert_uint_eq(kiln_val_len(v), 3);
}
END_TEST

START_TEST(test_value_json_parse_errors)
{
	char err[16];

	ck_assert_str_eq(parse_err("[1,]", 0),
	    "line 1 column 4: unexpected token near ']'");
	ck_assert_str_eq(parse_err("", 0),
	    "line 1 column 0: unexpected token near end of file");
	ck_assert_str_eq(parse_err("{\"a\" 1}", 0),
	    "line 1 column 6: ':' expected near '1'");
	ck_assert_str_eq(parse_err("[\n1,\n2,,]", 0),
	    "line 3 column 3: unexpected token near ','");
	ck_assert_str_eq(parse_err("[1] x", 0),
	    "line 1 column 5: end of file expected near 'x'");
	ck_assert_str_eq(parse_err("nul", 0),
	    "line 1 column 3: invalid token near 'nul'");
	ck_assert_str_eq(parse_err("\"\xff\"", 0),
	    "line 1 column 1: unable to decode byte 0xff near '\"'");
	ck_assert_str_eq(parse_err("{\"a\\u0000b\":1}", 0),
	    "line 1 column 11: NUL byte in object key not supported near "
	    "'\"a\\u0000b\"'");
	/* err may be NULL, and a short err is cut, not overrun. */
	ck_assert_ptr_null(kiln_json_parse(a, KILN_STR("{"), 0, NULL, 0));
	memset(err, 'x', sizeof(err));
	ck_assert_ptr_null(kiln_json_parse(a, KILN_STR("{"), 0, err, 8));
	ck_assert_str_eq(err, "line 1 ");
	ck_assert_int_eq(err[8], 'x');
	/* The slice ends before the closing bracket. */
	ck_assert_ptr_null(
	    kiln_json_parse(a, (kiln_str){ "[1]", 2 }, 0, NULL, 0));
}
END_TEST

START_TEST(test_value_json_depth_limit)
{
	char deep[3001 * 2 + 1];
	size_t i;

	ck_assert_ptr_nonnull(
	    kiln_json_parse(a, KILN_STR("[[[1]]]"), 3, NULL, 0));
	ck_assert_str_eq(parse_err("[[[[1]]]]", 3),
	    "line 1 column 4: nesting deeper than 3");
	ck_assert_str_eq(parse_err("{\"a\":[\n {\"[\":[[]]}]}", 3),
	    "line 2 column 7: nesting deeper than 3");
	/* The default is 64. */
	for (i = 0; i < 64; i++) {
		deep[i] = '[';
		deep[64 + i] = ']';
	}
	deep[128] = '\0';
	ck_assert_ptr_nonnull(kiln_json_parse(a, kiln_str_c(deep), 0, NULL, 0));
	for (i = 0; i < 65; i++) {
		deep[i] = '[';
		deep[65 + i] = ']';
	}
	deep[130] = '\0';
	ck_assert_str_eq(parse_err(deep, 0),
	    "line 1 column 65: nesting deeper than 64");
	/* jansson's own guard stops runaway nesting first. */
	for (i = 0; i < 3001; i++) {
		deep[i] = '[';
		deep[3001 + i] = ']';
	}
	deep[6002] = '\0';
	ck_assert_str_eq(parse_err(deep, 5000),
	    "line 1 column 2049: maximum parsing depth reached near '['");
}
END_TEST

START_TEST(test_value_json_big_numbers)
{
	kiln_val *v;

	v = parse_ok("9223372036854775807");
	ck_assert_int_eq(v->type, KILN_VAL_INT);
	ck_assert(v->u.i == INT64_MAX);
	v = parse_ok("-9223372036854775808");
	ck_assert(v->u.i == INT64_MIN);
	ck_assert_str_eq(parse_err("9223372036854775808", 0),
	    "line 1 column 19: too big integer near '9223372036854775808'");
	ck_assert_str_eq(parse_err("[-9223372036854775809]", 0),
	    "line 1 column 21: too big negative integer near "
	    "'-9223372036854775809'");
	ck_assert_str_eq(parse_err("1e400", 0),
	    "line 1 column 5: real number overflow near '1e400'");
	v = parse_ok("1e300");
	ck_assert_int_eq(v->type, KILN_VAL_FLOAT);
	ck_assert_double_eq(v->u.f, 1e300);
}
END_TEST

START_TEST(test_value_json_unicode)
{
	kiln_val *v;

	v = parse_ok("\"caf\\u00e9\"");
	ck_assert_str_eq(v->u.s.ptr, "caf\xc3\xa9");
	v = parse_ok("\"\\ud83d\\ude00\"");
	ck_assert_str_eq(v->u.s.ptr, "\xf0\x9f\x98\x80");
	v = parse_ok("\"a\\u0000b\"");
	ck_assert_uint_eq(v->u.s.len, 3);
	ck_assert_int_eq(memcmp(v->u.s.ptr, "a\0b", 3), 0);
	ck_assert_str_eq(parse_err("\"\\ud83d\"", 0),
	    "line 1 column 8: invalid Unicode '\\uD83D' near '\"\\ud83d\"'");
	ck_assert_str_eq(parse_err("\"\\ude00x\"", 0),
	    "line 1 column 9: invalid Unicode '\\uDE00' near '\"\\ude00x\"'");
	/* Raw UTF-8 passes through; an overlong form is refused. */
	v = parse_ok("\"\xe2\x82\xac\"");
	ck_assert_str_eq(v->u.s.ptr, "\xe2\x82\xac");
	ck_assert_ptr_null(
	    kiln_json_parse(a, KILN_STR("\"\xc0\xaf\""), 0, NULL, 0));
	/* Written back as UTF-8, with control characters escaped. */
	ck_assert_str_eq(dump_ok(parse_ok("\"\\u00e9\\u0000\\n\\\"\"")),
	    "\"\xc3\xa9\\u0000\\n\\\"\"");
}
END_TEST

START_TEST(test_value_json_dump)
{
	kiln_val *m, *l;

	m = kiln_val_map(a);
	ck_assert_int_eq(kiln_val_set(m, "z", kiln_val_int(a, -3)), KILN_OK);
	ck_assert_int_eq(kiln_val_set(m, "a", kiln_val_null(a)), KILN_OK);
	l = kiln_val_list(a);
	ck_assert_int_eq(kiln_val_push(l, kiln_val_bool(a, true)), KILN_OK);
	ck_assert_int_eq(kiln_val_push(l, kiln_val_float(a, 0.1)), KILN_OK);
	ck_assert_int_eq(kiln_val_push(l, kiln_val_float(a, 1.0)), KILN_OK);
	ck_assert_int_eq(kiln_val_push(l, kiln_val_safe(a, KILN_STR("<b>"))),
	    KILN_OK);
	ck_assert_int_eq(kiln_val_set(m, "l", l), KILN_OK);
	ck_assert_int_eq(kiln_val_set(m, "e", kiln_val_map(a)), KILN_OK);
	ck_assert_str_eq(dump_ok(m),
	    "{\"z\":-3,\"a\":null,\"l\":[true,0.1,1.0,\"<b>\"],\"e\":{}}");
	ck_assert_str_eq(dump_ok(kiln_val_cstr(a, "a/b")), "\"a/b\"");
	ck_assert_str_eq(dump_ok(kiln_val_float(a, 1.0 / 3.0)),
	    "0.3333333333333333");
	ck_assert_str_eq(dump_ok(kiln_val_float(a, 1e300)), "1e300");
	ck_assert_str_eq(dump_ok(kiln_val_float(a, -0.0)), "-0.0");
	ck_assert_str_eq(dump_ok(kiln_val_int(a, INT64_MIN)),
	    "-9223372036854775808");
}
END_TEST

START_TEST(test_value_json_dump_errors)
{
	kiln_val *l, *m;
	kiln_str out;

	ck_assert_int_eq(kiln_json_dump(a, kiln_val_float(a, NAN), &out),
	    KILN_EINVAL);
	ck_assert_ptr_null(out.ptr);
	ck_assert_int_eq(kiln_json_dump(a, kiln_val_float(a, -INFINITY), &out),
	    KILN_EINVAL);
	l = kiln_val_list(a);
	ck_assert_int_eq(kiln_val_push(l, kiln_val_int(a, 1)), KILN_OK);
	ck_assert_int_eq(kiln_val_push(l, kiln_val_float(a, INFINITY)),
	    KILN_OK);
	ck_assert_int_eq(kiln_json_dump(a, l, &out), KILN_EINVAL);
	ck_assert_int_eq(kiln_json_dump(a, kiln_val_str(a, KILN_STR("\xff")),
			     &out),
	    KILN_EINVAL);
	m = kiln_val_map(a);
	ck_assert_int_eq(kiln_val_set(m, "\xed\xa0\x80", kiln_val_null(a)),
	    KILN_OK);
	ck_assert_int_eq(kiln_json_dump(a, m, &out), KILN_EINVAL);
	ck_assert_int_eq(kiln_json_dump(a, NULL, &out), KILN_EINVAL);
	/* A list that holds itself is refused, not followed forever. */
	l = kiln_val_list(a);
	ck_assert_int_eq(kiln_val_push(l, l), KILN_OK);
	ck_assert_int_eq(kiln_json_dump(a, l, &out), KILN_EINVAL);
}
END_TEST

START_TEST(test_value_json_round_trip)
{
	static const char *const docs[] = {
		"{\"b\":[1,2.5,\"x\"],\"a\":{\"c\":null,\"d\":false}}",
		"[0.1,0.2,0.30000000000000004,1e-7,1.2345678901234568e17]",
		"[-0.0,100.0,1.5e300,2.2250738585072014e-308,5e-324]",
		"\"\\u0000\\u001F\xe2\x82\xac\"",
		"[[],{},\"\"]",
	};
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		ck_assert_str_eq(dump_ok(parse_ok(docs[i])), docs[i]);
}
END_TEST

Suite *
value_suite(void)
{
	Suite *s;
	TCase *tc;

	s = suite_create("value");
	tc = tcase_create("value");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_value_scalars);
	tcase_add_test(tc, test_value_strings_are_copied);
	tcase_add_test(tc, test_value_list_grows);
	tcase_add_test(tc, test_value_map_set_get);
	tcase_add_test(tc, test_value_truthy);
	tcase_add_test(tc, test_value_type_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("json");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_value_json_parse_any_top_level);
	tcase_add_test(tc, test_value_json_parse_objects);
	tcase_add_test(tc, test_value_json_parse_errors);
	tcase_add_test(tc, test_value_json_depth_limit);
	tcase_add_test(tc, test_value_json_big_numbers);
	tcase_add_test(tc, test_value_json_unicode);
	tcase_add_test(tc, test_value_json_dump);
	tcase_add_test(tc, test_value_json_dump_errors);
	tcase_add_test(tc, test_value_json_round_trip);
	suite_add_tcase(s, tc);
	return s;
}
