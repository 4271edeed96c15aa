/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * libFuzzer harness for kiln_json_parse and kiln_json_dump. Whatever
 * parses must dump (the parser only yields valid UTF-8, finite numbers
 * and shallow trees), the dump must parse again, and dumping that second
 * tree must give the same text byte for byte: floats keep their value
 * and strings their bytes through the round trip. A failed parse must
 * leave a "line L column C: ..." message.
 *
 * kiln_json_dump writes its text itself, and jansson is the reference:
 * the input parsed by jansson alone and written by json_dumps (with 17
 * digits for floats) must give kiln's text byte for byte, except that a
 * float may be spelled shorter as long as it reads back to the same
 * double.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <kiln/kiln.h>

#include "../json_same.h"

#define FUZZ_MAX_DEPTH 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Compares kiln's text out for data (which kiln_json_parse accepted) with
 * jansson's own parse and dump of data; aborts on a difference.
 */
static void
check_jansson(const uint8_t *data, size_t size, kiln_str out)
{
	json_t *root;
	char *text;

	root = json_loadb((const char *)data, size,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (root == NULL)
		abort(); /* kiln parses with jansson: both must accept */
	text = json_dumps(root,
	    JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER |
		JSON_REAL_PRECISION(17));
	if (text == NULL) {
		json_decref(root);
		return; /* out of memory */
	}
	if (strlen(out.ptr) != out.len || !json_same(out.ptr, text))
		abort();
	free(text);
	json_decref(root);
}

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
	check_jansson(data, size, out);
	v2 = kiln_json_parse(a, out, FUZZ_MAX_DEPTH, err, sizeof(err));
	if (v2 == NULL || v2->type != v->type)
		abort();
	if (kiln_json_dump(a, v2, &out2) != KILN_OK || !kiln_str_eq(out, out2))
		abort();
done:
	kiln_arena_free(a);
	return 0;
}
