/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Unit tests of the dynamic value (src/core/value.c) and of JSON parsing
 * and writing (src/core/json.c). Error messages are compared in full,
 * because users see them in 400 responses. The JSON writer is compared
 * with jansson's (which it replaced) on pseudo-random trees, so its text
 * stays what jansson wrote.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include <kiln/kiln.h>

#include "../json_same.h"

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

START_TEST(test_value_json_dump_floats)
{
	static const struct {
		double f;
		const char *text;
	} cases[] = {
		{ 5e-324, "5e-324" },
		{ 2.2250738585072014e-308, "2.2250738585072014e-308" },
		{ 1e-7, "1e-7" },
		{ -1.5e-5, "-1.5e-5" },
		{ 0.30000000000000004, "0.30000000000000004" },
		{ 123456789012345.6, "123456789012345.6" },
		{ 1234567890123456.7, "1234567890123456.8" },
		{ 1e15, "1e15" },
		{ 1e16, "1e16" },
		/* Between 1e15 and 1e17 the 17-digit form can be shorter. */
		{ 0x1.c40b35a98b272p+53, "15904876822357220.0" },
		{ 1e17, "1e17" },
		{ 1e22, "1e22" },
		{ 1.7976931348623157e308, "1.7976931348623157e308" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_str_eq(dump_ok(kiln_val_float(a, cases[i].f)),
		    cases[i].text);
}
END_TEST

START_TEST(test_value_json_dump_datetimes)
{
	ck_assert_str_eq(dump_ok(kiln_val_datetime(a, 0, 0)),
	    "\"1970-01-01T00:00:00\"");
	ck_assert_str_eq(dump_ok(kiln_val_datetime(a, -1, 0)),
	    "\"1969-12-31T23:59:59\"");
	ck_assert_str_eq(dump_ok(kiln_val_datetime(a, 951868800, 5)),
	    "\"2000-03-01T00:00:00.000005\"");
	ck_assert_str_eq(dump_ok(kiln_val_datetime(a, -62135596800LL, 0)),
	    "\"0001-01-01T00:00:00\"");
	ck_assert_str_eq(dump_ok(kiln_val_datetime(a, 253402300799LL, 0)),
	    "\"9999-12-31T23:59:59\"");
}
END_TEST

START_TEST(test_value_json_dump_escapes)
{
	char all[128], want[1024], *w;
	kiln_val *m;
	size_t i;

	/* Every ASCII byte, escaped as jansson escapes it. */
	w = want;
	*w++ = '"';
	for (i = 0; i < sizeof(all); i++) {
		all[i] = (char)i;
		if (i == '"' || i == '\\')
			w += sprintf(w, "\\%c", (int)i);
		else if (i == '\b')
			w += sprintf(w, "\\b");
		else if (i == '\f')
			w += sprintf(w, "\\f");
		else if (i == '\n')
			w += sprintf(w, "\\n");
		else if (i == '\r')
			w += sprintf(w, "\\r");
		else if (i == '\t')
			w += sprintf(w, "\\t");
		else if (i < 0x20)
			w += sprintf(w, "\\u%04X", (unsigned)i);
		else
			*w++ = (char)i;
	}
	*w++ = '"';
	*w = '\0';
	ck_assert_str_eq(dump_ok(kiln_val_str(a, (kiln_str){ all, 128 })),
	    want);
	ck_assert_str_eq(dump_ok(
			     kiln_val_str(a, KILN_STR("\x01\x0b\x1f/\x7f"))),
	    "\"\\u0001\\u000B\\u001F/\x7f\"");
	/* Keys are escaped the same way, NUL included. */
	m = kiln_val_map(a);
	ck_assert_int_eq(kiln_val_set_str(m, KILN_STR("a\0\"\xc3\xa9"),
			     kiln_val_str(a, KILN_STR(""))),
	    KILN_OK);
	ck_assert_str_eq(dump_ok(m), "{\"a\\u0000\\\"\xc3\xa9\":\"\"}");
}
END_TEST

START_TEST(test_value_json_dump_limits)
{
	kiln_val *root, *v, *l;
	kiln_str out;
	size_t i;

	/* 2048 nested containers are written, 2049 are refused. */
	root = v = kiln_val_list(a);
	for (i = 1; i < 2048; i++) {
		l = kiln_val_list(a);
		ck_assert_int_eq(kiln_val_push(v, l), KILN_OK);
		v = l;
	}
	ck_assert_int_eq(kiln_json_dump(a, root, &out), KILN_OK);
	ck_assert_uint_eq(out.len, 2 * 2048);
	ck_assert_int_eq(out.ptr[2047], '[');
	ck_assert_int_eq(out.ptr[2048], ']');
	ck_assert_int_eq(kiln_val_push(v, kiln_val_map(a)), KILN_OK);
	ck_assert_int_eq(kiln_json_dump(a, root, &out), KILN_EINVAL);
	ck_assert_ptr_null(out.ptr);
	/* Trees built by hand: a NULL item, a NULL key with a length. */
	l = kiln_val_list(a);
	ck_assert_int_eq(kiln_val_push(l, kiln_val_int(a, 1)), KILN_OK);
	l->u.list.items[0] = NULL;
	ck_assert_int_eq(kiln_json_dump(a, l, &out), KILN_EINVAL);
	v = kiln_val_map(a);
	ck_assert_int_eq(kiln_val_set(v, "k", kiln_val_int(a, 1)), KILN_OK);
	v->u.map.items[0].key = (kiln_str){ NULL, 1 };
	ck_assert_int_eq(kiln_json_dump(a, v, &out), KILN_EINVAL);
	v->u.map.items[0].key = (kiln_str){ NULL, 0 };
	ck_assert_str_eq(dump_ok(v), "{\"\":1}");
	ck_assert_int_eq(kiln_json_dump(a,
			     kiln_val_str(a, KILN_STR("ok\xe2\x82")), &out),
	    KILN_EINVAL);
}
END_TEST

/* The state of the differential test's generator (xorshift64). */
struct gen {
	uint64_t s;	/* the PRNG state, never 0 */
	bool floats;	/* a float was generated */
	bool bad;	/* invalid UTF-8 was generated */
	bool allow_bad; /* invalid UTF-8 may be generated in values */
};

static uint64_t
gen_next(struct gen *g)
{
	g->s ^= g->s << 13;
	g->s ^= g->s >> 7;
	g->s ^= g->s << 17;
	return g->s;
}

/* A random finite double, often one of the awkward ones. */
static double
gen_double(struct gen *g)
{
	static const double special[] = { 0.1, 1e300, -0.0, 0.0, 1.0, -1.5,
		5e-324, 2.2250738585072014e-308, 1e-310, 1e15, 1e16, 1e17,
		0x1.c40b35a98b272p+53, 1.7976931348623157e308, 1e-7,
		0.30000000000000004 };
	uint64_t u;
	double f;

	switch (gen_next(g) % 4) {
	case 0:
		return special[gen_next(g) %
		    (sizeof(special) / sizeof(special[0]))];
	case 1:
		return (double)(int64_t)gen_next(g) /
		    (double)(1 + gen_next(g) % 1000);
	case 2:
		return ldexp((double)(gen_next(g) >> 11),
		    (int)(gen_next(g) % 2000) - 1100);
	default:
		do {
			u = gen_next(g);
			memcpy(&f, &u, sizeof(f));
		} while (!isfinite(f));
		return f;
	}
}

/*
 * Appends a random string of up to 12 pieces to buf (of at least 64
 * bytes per piece) and returns its length: ASCII, every control byte,
 * quotes, backslashes, multi-byte UTF-8 up to U+10FFFF, and (when
 * allow_bad, rarely) a sequence that is not UTF-8. Keys never get one:
 * jansson 2.14 writes a bad key without failing (dump.c ignores
 * dump_string's result for keys), so it is no reference there, and
 * kiln_json_dump refuses such keys as it always has
 * (test_value_json_dump_errors).
 */
static size_t
gen_text(struct gen *g, char *buf, bool allow_bad)
{
	static const char *const pieces[] = { "a", "Z", " ", "\"", "\\", "/",
		"\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
		"\xf4\x8f\xbf\xbf", "\xef\xbf\xbf", "\xed\x9f\xbf",
		"\xee\x80\x80", "id", "randomNumber", "hello, world" };
	static const char *const bad[] = { "\xff", "\xc0\xaf", "\xed\xa0\x80",
		"\xe2\x82", "\xf4\x90\x80\x80", "\x80" };
	size_t i, n, len;
	uint64_t r;

	len = 0;
	n = gen_next(g) % 13;
	for (i = 0; i < n; i++) {
		r = gen_next(g) % 64;
		if (allow_bad && r == 0) {
			r = gen_next(g) % (sizeof(bad) / sizeof(bad[0]));
			memcpy(buf + len, bad[r], strlen(bad[r]));
			len += strlen(bad[r]);
			g->bad = true;
		} else if (r < 16) {
			buf[len++] = (char)(gen_next(g) % 0x20);
		} else {
			r = gen_next(g) % (sizeof(pieces) / sizeof(pieces[0]));
			memcpy(buf + len, pieces[r], strlen(pieces[r]));
			len += strlen(pieces[r]);
		}
	}
	return len;
}

/*
 * Builds a random value in a and the same value as a jansson tree in *j
 * (NULL when jansson could not build it). depth bounds the nesting.
 */
static kiln_val *
gen_val(struct gen *g, int depth, json_t **j)
{
	char text[13 * 64];
	kiln_val *v, *item;
	json_t *jitem;
	size_t i, n, len;
	int64_t x;

	switch (gen_next(g) % (depth > 0 ? 10 : 7)) {
	case 0:
		*j = json_null();
		return kiln_val_null(a);
	case 1:
		x = gen_next(g) % 2;
		*j = json_boolean(x);
		return kiln_val_bool(a, x != 0);
	case 2:
		switch (gen_next(g) % 5) {
		case 0:
			x = INT64_MIN;
			break;
		case 1:
			x = INT64_MAX;
			break;
		case 2:
			x = (int64_t)(gen_next(g) % 2001) - 1000;
			break;
		default:
			x = (int64_t)gen_next(g);
			break;
		}
		*j = json_integer(x);
		return kiln_val_int(a, x);
	case 3:
		if (gen_next(g) % 3 != 0) {
			g->floats = true;
			*j = json_real(gen_double(g));
			return kiln_val_float(a, json_real_value(*j));
		}
		/* FALLTHROUGH */
	case 4:
	case 5:
	case 6:
		len = gen_text(g, text, g->allow_bad);
		*j = json_stringn_nocheck(text, len);
		return gen_next(g) % 2 ?
		    kiln_val_str(a, (kiln_str){ text, len }) :
		    kiln_val_safe(a, (kiln_str){ text, len });
	case 7:
	case 8:
		v = kiln_val_list(a);
		*j = json_array();
		n = gen_next(g) % 6;
		for (i = 0; i < n; i++) {
			item = gen_val(g, depth - 1, &jitem);
			ck_assert_int_eq(kiln_val_push(v, item), KILN_OK);
			ck_assert_int_eq(json_array_append_new(*j, jitem), 0);
		}
		return v;
	default:
		/* Keys from a small set, so some repeat (both replace). */
		v = kiln_val_map(a);
		*j = json_object();
		n = gen_next(g) % 6;
		for (i = 0; i < n; i++) {
			if (gen_next(g) % 4 == 0)
				len = gen_text(g, text, false);
			else
				len = (size_t)sprintf(text, "k%d",
				    (int)(gen_next(g) % 8));
			item = gen_val(g, depth - 1, &jitem);
			ck_assert_int_eq(kiln_val_set_str(v,
					     (kiln_str){ text, len }, item),
			    KILN_OK);
			ck_assert_int_eq(json_object_setn_new_nocheck(*j, text,
					     len, jitem),
			    0);
		}
		return v;
	}
}

START_TEST(test_value_json_dump_matches_jansson)
{
	struct gen g = { .s = 0x9e3779b97f4a7c15ULL };
	size_t exact, floats, bad, i;
	kiln_val *v;
	kiln_str out;
	kiln_err rc;
	json_t *j;
	char *jtext;

	/* The comparison itself tells floats from everything else. */
	ck_assert(json_same("[0.1,1e16]",
	    "[0.10000000000000001,10000000000000000.0]"));
	ck_assert(!json_same("[0.1]", "[0.2]"));
	ck_assert(!json_same("[-0.0]", "[0.0]"));
	ck_assert(!json_same("[10]", "[1e1]"));
	ck_assert(!json_same("[\"\\u000b\"]", "[\"\\u000B\"]"));
	ck_assert(!json_same("[1,2]", "[1,2,3]"));
	exact = floats = bad = 0;
	for (i = 0; i < 4000; i++) {
		g.floats = false;
		g.bad = false;
		g.allow_bad = i % 4 == 3;
		v = gen_val(&g, 1 + (int)(i % 5), &j);
		ck_assert_ptr_nonnull(v);
		ck_assert_ptr_nonnull(j);
		jtext = json_dumps(j,
		    JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER |
			JSON_REAL_PRECISION(17));
		rc = kiln_json_dump(a, v, &out);
		if (jtext == NULL) {
			/* Both refuse text that is not UTF-8. */
			ck_assert(g.bad);
			ck_assert_int_eq(rc, KILN_EINVAL);
			ck_assert_ptr_null(out.ptr);
			bad++;
		} else {
			ck_assert_int_eq(rc, KILN_OK);
			ck_assert_uint_eq(strlen(out.ptr), out.len);
			if (g.floats) {
				ck_assert_msg(json_same(out.ptr, jtext),
				    "tree %zu: kiln %s, jansson %s", i, out.ptr,
				    jtext);
				floats++;
			} else {
				ck_assert_str_eq(out.ptr, jtext);
				exact++;
			}
		}
		free(jtext);
		json_decref(j);
		kiln_arena_reset(a);
	}
	/* The generator reached every kind of tree. */
	ck_assert_uint_gt(exact, 3000);
	ck_assert_uint_gt(floats, 500);
	ck_assert_uint_gt(bad, 50);
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
	tcase_add_test(tc, test_value_json_dump_floats);
	tcase_add_test(tc, test_value_json_dump_datetimes);
	tcase_add_test(tc, test_value_json_dump_escapes);
	tcase_add_test(tc, test_value_json_dump_limits);
	tcase_add_test(tc, test_value_json_dump_matches_jansson);
	suite_add_tcase(s, tc);
	return s;
}
