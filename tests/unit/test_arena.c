/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Arena and buffer tests: alignment, large objects, reset reuse,
 * cleanups in reverse order, overflow refusal, buffer growth.
 */
#include <stdint.h>

#include <check.h>

#include <kiln/kiln.h>

#include "suites.h"

static int order[8];
static int norder;

static void
record(void *data)
{
	order[norder++] = (int)(intptr_t)data;
}

START_TEST(test_arena_alignment)
{
	kiln_arena *a = kiln_arena_new(0);
	char *p1, *p2;
	size_t i;

	ck_assert_ptr_nonnull(a);
	for (i = 1; i < 100; i += 7) {
		p1 = kiln_arena_alloc(a, i);
		ck_assert_ptr_nonnull(p1);
		ck_assert_uint_eq((uintptr_t)p1 % 16, 0);
	}
	p2 = kiln_arena_calloc(a, 10, 10);
	ck_assert_ptr_nonnull(p2);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(p2[i], 0);
	kiln_arena_free(a);
}
END_TEST

START_TEST(test_arena_large_objects)
{
	kiln_arena *a = kiln_arena_new(1024);
	char *big, *small;

	big = kiln_arena_alloc(a, 100000);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 100000);
	small = kiln_arena_alloc(a, 10);
	ck_assert_ptr_nonnull(small);
	ck_assert(small < big || small >= big + 100000);
	ck_assert_uint_ge(kiln_arena_used(a), 100000);
	kiln_arena_reset(a);
	ck_assert_uint_eq(kiln_arena_used(a), 0);
	ck_assert_ptr_nonnull(kiln_arena_alloc(a, 5000));
	kiln_arena_free(a);
}
END_TEST

START_TEST(test_arena_overflow_refused)
{
	kiln_arena *a = kiln_arena_new(0);

	ck_assert_ptr_null(kiln_arena_alloc(a, SIZE_MAX));
	ck_assert_ptr_null(kiln_arena_calloc(a, SIZE_MAX / 2, 4));
	ck_assert_ptr_nonnull(kiln_arena_alloc(a, 1));
	kiln_arena_free(a);
}
END_TEST

START_TEST(test_arena_cleanups_reverse)
{
	kiln_arena *a = kiln_arena_new(0);

	norder = 0;
	ck_assert_int_eq(kiln_arena_cleanup_add(a, record, (void *)1), KILN_OK);
	ck_assert_int_eq(kiln_arena_cleanup_add(a, record, (void *)2), KILN_OK);
	ck_assert_int_eq(kiln_arena_cleanup_add(a, record, (void *)3), KILN_OK);
	kiln_arena_reset(a);
	ck_assert_int_eq(norder, 3);
	ck_assert_int_eq(order[0], 3);
	ck_assert_int_eq(order[2], 1);
	/* Reset forgot them: a second reset runs nothing. */
	kiln_arena_reset(a);
	ck_assert_int_eq(norder, 3);
	ck_assert_int_eq(kiln_arena_cleanup_add(a, record, (void *)4), KILN_OK);
	kiln_arena_free(a);
	ck_assert_int_eq(norder, 4);
	ck_assert_int_eq(order[3], 4);
}
END_TEST

START_TEST(test_arena_strings)
{
	kiln_arena *a = kiln_arena_new(0);
	kiln_str s;
	char *p;

	p = kiln_arena_printf(a, "%s-%d", "id", 42);
	ck_assert_str_eq(p, "id-42");
	ck_assert_str_eq(kiln_arena_strndup(a, "abcdef", 3), "abc");
	s = kiln_str_dup(a, KILN_STR("hello"));
	ck_assert_uint_eq(s.len, 5);
	ck_assert_int_eq(s.ptr[5], '\0');
	ck_assert_str_eq(kiln_str_cstr(a, (kiln_str){ "xyz!", 3 }), "xyz");
	kiln_arena_free(a);
}
END_TEST

START_TEST(test_arena_buf_growth)
{
	kiln_arena *a = kiln_arena_new(256);
	kiln_buf b;
	int i;

	kiln_buf_init(&b, a, 0);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(kiln_buf_printf(&b, "%03d,", i), KILN_OK);
	ck_assert_uint_eq(b.len, 4000);
	ck_assert(!b.oom);
	ck_assert_int_eq(memcmp(b.ptr, "000,001,", 8), 0);
	ck_assert_int_eq(memcmp(b.ptr + 3996, "999,", 4), 0);
	ck_assert_int_eq(b.ptr[b.len], '\0');
	ck_assert_int_eq(kiln_buf_append_char(&b, 'z'), KILN_OK);
	ck_assert_int_eq(kiln_buf_str(&b).len, 4001);
	kiln_arena_free(a);
}
END_TEST

START_TEST(test_arena_strerror)
{
	ck_assert_str_eq(kiln_strerror(KILN_OK), "success");
	ck_assert_str_eq(kiln_strerror(KILN_ENOMEM), "out of memory");
	ck_assert_str_eq(kiln_strerror((kiln_err)999), "unknown error");
}
END_TEST

Suite *
arena_suite(void)
{
	Suite *s = suite_create("arena");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_arena_alignment);
	tcase_add_test(tc, test_arena_large_objects);
	tcase_add_test(tc, test_arena_overflow_refused);
	tcase_add_test(tc, test_arena_cleanups_reverse);
	tcase_add_test(tc, test_arena_strings);
	tcase_add_test(tc, test_arena_buf_growth);
	tcase_add_test(tc, test_arena_strerror);
	suite_add_tcase(s, tc);
	return s;
}
