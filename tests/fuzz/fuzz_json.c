/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * libFuzzer harness for kiln_json_parse and kiln_json_dump. Whatever
 * parses must dump (the parser only yields valid UTF-8, finite numbers
 * and shallow trees), the dump must parse again, and dumping that second
 * tree must give the same text byte for byte: floats keep their value
 * and strings their bytes through the round trip. A failed parse must
 * leave a "line L column C: ..." message.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/kiln.h>

#define FUZZ_MAX_DEPTH 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kiln_arena *a;
	kiln_val *v, *v2;
	kiln_str out, out2;
	char err[200];

	a = kiln_arena_new(4096);
	if (a == NULL)
		return 0;
	v = kiln_json_parse(a, (kiln_str){ (const char *)data, size },
	    FUZZ_MAX_DEPTH, err, sizeof(err));
	if (v == NULL) {
		if (strncmp(err, "line ", 5) != 0 &&
		    strcmp(err, "out of memory") != 0)
			abort();
		goto done;
	}
	if (kiln_json_dump(a, v, &out) != KILN_OK)
		abort();
	v2 = kiln_json_parse(a, out, FUZZ_MAX_DEPTH, err, sizeof(err));
	if (v2 == NULL || v2->type != v->type)
		abort();
	if (kiln_json_dump(a, v2, &out2) != KILN_OK || !kiln_str_eq(out, out2))
		abort();
done:
	kiln_arena_free(a);
	return 0;
}
