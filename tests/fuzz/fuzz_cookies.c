/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * libFuzzer harness for the request header parsers: the Cookie header
 * (kiln__parse_cookies), and on the same bytes Content-Type
 * (kiln__parse_content_type), CGI param names (kiln__cgi_header_name)
 * and kiln__is_token. Cookies are never an error; every kept pair must
 * be a slice of the input with a non-empty name and no control bytes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/kiln.h>

#include "http_int.h"

#define FUZZ_MAX_COOKIES 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True when s lies inside the input and holds no control byte. */
static bool
in_input(kiln_str s, const uint8_t *data, size_t size)
{
	size_t i;

	if (s.len > 0 &&
	    ((const uint8_t *)s.ptr < data ||
		(const uint8_t *)s.ptr + s.len > data + size))
		return false;
	for (i = 0; i < s.len; i++) {
		if ((unsigned char)s.ptr[i] < 0x20 ||
		    (unsigned char)s.ptr[i] == 0x7f)
			return false;
	}
	return true;
}

static void
fuzz_cookies(kiln_arena *a, const uint8_t *data, size_t size)
{
	kiln_kvs m;
	size_t i;

	kiln_kvs_init(&m, a);
	if (kiln__parse_cookies(a, (kiln_str){ (const char *)data, size },
		FUZZ_MAX_COOKIES, &m) != KILN_OK)
		return;
	if (m.n > FUZZ_MAX_COOKIES)
		abort();
	for (i = 0; i < m.n; i++) {
		if (m.items[i].key.len == 0 ||
		    !in_input(m.items[i].key, data, size) ||
		    !in_input(m.items[i].val, data, size))
			abort();
	}
}

/* A parsed media type is "type/subtype", both tokens, in lower case. */
static bool
mime_ok(kiln_str m)
{
	const char *slash;
	size_t i;

	if (m.ptr == NULL || m.ptr[m.len] != '\0')
		return false;
	slash = memchr(m.ptr, '/', m.len);
	if (slash == NULL)
		return false;
	for (i = 0; i < m.len; i++) {
		if (m.ptr[i] >= 'A' && m.ptr[i] <= 'Z')
			return false;
	}
	return kiln__is_token((kiln_str){ m.ptr, (size_t)(slash - m.ptr) }) &&
	    kiln__is_token(
		(kiln_str){ slash + 1, (size_t)(m.ptr + m.len - slash - 1) });
}

static void
fuzz_headers(kiln_arena *a, const uint8_t *data, size_t size)
{
	kiln_str in, mime, cs, name;
	kiln_err rc;

	in = (kiln_str){ (const char *)data, size };
	rc = kiln__parse_content_type(a, in, &mime, &cs);
	if (rc == KILN_OK && (!mime_ok(mime) || cs.ptr == NULL))
		abort();
	if (rc != KILN_OK && (rc != KILN_EPARSE || mime.len != 0))
		abort();
	rc = kiln__cgi_header_name(a, in, &name);
	if (rc == KILN_OK && !kiln__is_token(name))
		abort();
	if (rc != KILN_OK && rc != KILN_ENOTFOUND)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kiln_arena *a;

	a = kiln_arena_new(1024);
	if (a == NULL)
		return 0;
	fuzz_cookies(a, data, size);
	fuzz_headers(a, data, size);
	kiln_arena_free(a);
	return 0;
}
