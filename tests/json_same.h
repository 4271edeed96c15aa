/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * json_same(), shared by the JSON differential unit test
 * (tests/unit/test_value.c) and the JSON fuzzer (tests/fuzz/fuzz_json.c):
 * compares Kiln's JSON text with jansson's for the same tree.
 */
#ifndef KILN_TESTS_JSON_SAME_H
#define KILN_TESTS_JSON_SAME_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * Whether kiln's JSON text k is jansson's text j but for how floats are
 * spelled: every byte matches except number tokens with a '.' or an
 * exponent, which must read back to the same double (bit for bit, so
 * -0.0 is not 0.0) and be no longer in k.
 */
static bool
json_same(const char *k, const char *j)
{
	static const char num[] = "+-.0123456789eE";
	bool in_str, esc;
	size_t nk, nj;
	double dk, dj;

	in_str = false;
	esc = false;
	while (*k != '\0' || *j != '\0') {
		if (!in_str && (*k == '-' || (*k >= '0' && *k <= '9'))) {
			nk = strspn(k, num);
			nj = strspn(j, num);
			if (nk != nj || memcmp(k, j, nk) != 0) {
				if (strcspn(k, ".eE") >= nk ||
				    strcspn(j, ".eE") >= nj || nk > nj)
					return false;
				dk = strtod(k, NULL);
				dj = strtod(j, NULL);
				if (memcmp(&dk, &dj, sizeof(dk)) != 0)
					return false;
			}
			k += nk;
			j += nj;
			continue;
		}
		if (*k != *j)
			return false;
		if (esc)
			esc = false;
		else if (in_str && *k == '\\')
			esc = true;
		else if (*k == '"')
			in_str = !in_str;
		k++;
		j++;
	}
	return true;
}

#endif
