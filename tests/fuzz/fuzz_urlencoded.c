/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * libFuzzer harness for kiln__parse_urlencoded (query strings and form
 * bodies). The input is the raw field string; max_fields is small so the
 * limit path is reached often. Besides the sanitizers, it checks the
 * contract: on success every key and value is valid UTF-8 without NUL
 * and NUL-terminated, and there are at most max_fields pairs; on error
 * the map is left as it was and *why names the problem.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/kiln.h>

#include "http_int.h"

#define FUZZ_MAX_FIELDS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks one decoded key or value. */
static void
check_text(kiln_str s)
{
	if (s.ptr == NULL || s.ptr[s.len] != '\0' ||
	    memchr(s.ptr, '\0', s.len) != NULL || !kiln_utf8_valid(s))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kiln_arena *a;
	const char *why;
	kiln_kvs m;
	kiln_err rc;
	size_t i;

	a = kiln_arena_new(1024);
	if (a == NULL)
		return 0;
	kiln_kvs_init(&m, a);
	rc = kiln__parse_urlencoded(a, (kiln_str){ (const char *)data, size },
	    FUZZ_MAX_FIELDS, &m, &why);
	if (rc == KILN_OK) {
		if (m.n > FUZZ_MAX_FIELDS || why != NULL)
			abort();
		for (i = 0; i < m.n; i++) {
			check_text(m.items[i].key);
			check_text(m.items[i].val);
		}
	} else if (m.n != 0 || why == NULL ||
	    (rc != KILN_EPARSE && rc != KILN_ELIMIT && rc != KILN_ENOMEM)) {
		abort();
	}
	kiln_arena_free(a);
	return 0;
}
