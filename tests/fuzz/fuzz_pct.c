/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * libFuzzer harness for kiln__pct_decode and kiln__pct_encode. The first
 * byte picks the mode (plus_space, and a safe set); the rest is the
 * text. Encoding any bytes and decoding them must give the bytes back;
 * text that decodes must re-encode to something that decodes to the
 * same bytes. HTML escaping is run on the same bytes for coverage.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/kiln.h>

#include "http_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encodes in, decodes the result, and checks that in comes back. */
static void
round_trip(kiln_arena *a, kiln_str in, const char *safe, bool plus)
{
	kiln_str back;
	kiln_buf b;

	kiln_buf_init(&b, a, 0);
	if (kiln__pct_encode(&b, in, safe, plus) != KILN_OK)
		abort();
	if (kiln__pct_decode(a, kiln_buf_str(&b), plus, &back) != KILN_OK)
		abort();
	if (!kiln_str_eq(in, back) || back.ptr[back.len] != '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const safes[] = { NULL, "", "/", "/:@!$&'()*+,;=" };
	kiln_str in, dec;
	kiln_arena *a;
	const char *safe;
	kiln_buf b;
	kiln_err rc;
	bool plus;

	if (size == 0)
		return 0;
	plus = (data[0] & 1) != 0;
	safe = safes[(data[0] >> 1) & 3];
	in = (kiln_str){ (const char *)data + 1, size - 1 };
	a = kiln_arena_new(1024);
	if (a == NULL)
		return 0;
	round_trip(a, in, safe, plus);
	rc = kiln__pct_decode(a, in, plus, &dec);
	if (rc == KILN_OK) {
		if (dec.len > in.len)
			abort();
		round_trip(a, dec, safe, plus);
	} else if (rc != KILN_EPARSE || dec.ptr != NULL) {
		abort();
	}
	kiln_buf_init(&b, a, 0);
	if (kiln__html_escape(&b, in) != KILN_OK || b.len < in.len)
		abort();
	kiln_arena_free(a);
	return 0;
}
