/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Operations on string slices (kiln_str) that are not inline in
 * kiln/common.h: case-insensitive comparison, prefix test, strict decimal
 * integer parsing and UTF-8 validation. Every function reads at most len
 * bytes from ptr and never assumes a terminating NUL, so each is safe on
 * a slice of hostile input. Case folding is ASCII only and independent of
 * the locale.
 */
#include "config.h"

#include <stdint.h>

#include <kiln/common.h>

/* ASCII lower case, without the locale that tolower() consults. */
static unsigned char
str_lower(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (unsigned char)(c - 'A' + 'a');
	return c;
}

bool
kiln_str_caseeq(kiln_str a, kiln_str b)
{
	const unsigned char *p, *q;
	size_t i;

	if (a.len != b.len)
		return false;
	p = (const unsigned char *)a.ptr;
	q = (const unsigned char *)b.ptr;
	for (i = 0; i < a.len; i++) {
		if (str_lower(p[i]) != str_lower(q[i]))
			return false;
	}
	return true;
}

bool
kiln_str_startswith(kiln_str s, kiln_str prefix)
{
	if (prefix.len > s.len)
		return false;
	return prefix.len == 0 || memcmp(s.ptr, prefix.ptr, prefix.len) == 0;
}

/*
 * The magnitude is accumulated as an unsigned number and compared with
 * the limit of the sign before each step, so no signed arithmetic can
 * overflow and INT64_MIN, whose magnitude has no positive int64, parses.
 * The syntax is checked in full first: "12x" is KILN_EPARSE even when the
 * digits before the x would overflow.
 */
kiln_err
kiln_str_to_i64(kiln_str s, int64_t *out)
{
	uint64_t limit, v;
	bool neg;
	size_t i, start;
	unsigned d;

	if (s.len == 0)
		return KILN_EPARSE;
	neg = s.ptr[0] == '-';
	start = s.ptr[0] == '-' || s.ptr[0] == '+' ? 1 : 0;
	if (start == s.len)
		return KILN_EPARSE;
	for (i = start; i < s.len; i++) {
		if (s.ptr[i] < '0' || s.ptr[i] > '9')
			return KILN_EPARSE;
	}
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	v = 0;
	for (i = start; i < s.len; i++) {
		d = (unsigned)(s.ptr[i] - '0');
		if (v > (limit - d) / 10)
			return KILN_ELIMIT;
		v = v * 10 + d;
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return KILN_OK;
}

/*
 * Validates per RFC 3629 (Table 3-7 of the Unicode standard): the second
 * byte's range depends on the first, which rules out overlong forms
 * (C0, C1, E0 80-9F, F0 80-8F), surrogates (ED A0-BF) and code points
 * above U+10FFFF (F4 90-BF, F5-FF). A sequence cut short by the end of
 * the slice is invalid.
 */
bool
kiln_utf8_valid(kiln_str s)
{
	const unsigned char *p;
	unsigned char c, lo, hi;
	size_t i, n, k;

	p = (const unsigned char *)s.ptr;
	i = 0;
	while (i < s.len) {
		c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else {
			return false;
		}
		if (s.len - i - 1 < n)
			return false;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return false;
		for (k = 2; k <= n; k++) {
			if (p[i + k] < 0x80 || p[i + k] > 0xbf)
				return false;
		}
		i += n + 1;
	}
	return true;
}
