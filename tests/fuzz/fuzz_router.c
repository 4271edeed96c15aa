/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * libFuzzer harness for the router (src/core/router.c). The input is
 *
 *   one flags byte, then RULE '\n' PATH '\n' ARGS
 *
 * where the flags pick a regex or converter rule, a blueprint prefix, the
 * rule's methods, the request method and append_slash, and ARGS is
 * "k=v&k=v" (taken raw) for url_for. The rule is added next to a few
 * fixed routes (errors are fine), the path is matched, and the URL of the
 * matched route is built back from the matched arguments.
 *
 * Beyond "no crash, no leak, no hang" it checks invariants and traps when
 * one breaks: a route found by converters always builds from its own
 * arguments, and the built URL decodes back to the matched path (for
 * regex routes too, whenever url_for accepts them); a redirect is the
 * path plus '/'.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/kiln.h>

#include "http_int.h"
#include "router_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_methods[] = {
	"GET",
	"HEAD",
	"POST",
	"PUT",
	"PATCH",
	"DELETE",
	"OPTIONS",
	"BREW",
};

static const char *const fuzz_specs[] = {
	"GET",
	"POST|GET",
	"PUT, OPTIONS",
	"get,head",
};

static kiln_resp *
fuzz_view(kiln_req *req)
{
	(void)req;
	return NULL;
}

static void
fuzz_visit(const char *methods, const char *rule, const char *endpoint,
    void *data)
{
	size_t *n = data;

	/* Touch every string so ASan sees a bad one. */
	*n += strlen(methods) + strlen(rule) +
	    (endpoint != NULL ? strlen(endpoint) : 0);
}

/* Splits [p, end) at the first '\n': returns the part before it. */
static kiln_str
fuzz_line(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	kiln_str s;

	s.ptr = *p;
	s.len = nl != NULL ? (size_t)(nl - *p) : (size_t)(end - *p);
	*p = nl != NULL ? nl + 1 : end;
	return s;
}

/* Parses "k=v&k=v" raw (no decoding) into args. */
static void
fuzz_args(kiln_str in, kiln_kvs *args)
{
	const char *p = in.ptr;
	const char *end = in.ptr + in.len;
	const char *amp;
	const char *eq;
	kiln_str k;
	kiln_str v;

	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		k.ptr = p;
		k.len = (size_t)((eq != NULL ? eq : amp) - p);
		v.ptr = eq != NULL ? eq + 1 : amp;
		v.len = (size_t)(amp - v.ptr);
		if (kiln_kvs_add(args, k, v) != KILN_OK)
			return;
		p = amp < end ? amp + 1 : end;
	}
}

/* Adds the fixed routes the fuzzed one competes with. */
static void
fuzz_fixed(kiln__router *r)
{
	static const char *const rules[] = { "/", "/s/<int:id>/",
		"/p/<slug:s>-<uuid:u>", "/f/<path:p>/edit" };
	kiln__route_spec spec;
	char err[256];
	size_t i;

	memset(&spec, 0, sizeof(spec));
	spec.prefix = "";
	spec.view = fuzz_view;
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		spec.rule = rules[i];
		spec.endpoint = rules[i];
		if (kiln__router_add(r, &spec, err, sizeof(err)) != KILN_OK)
			__builtin_trap();
	}
}

/*
 * Builds the URL of the matched route from its own arguments and checks
 * that it decodes back to path (query-free, as every argument is used).
 */
static void
fuzz_round_trip(const kiln__router *r, kiln_arena *a, const kiln__match *m,
    kiln_str path, bool regex)
{
	const char *endpoint = kiln__route_endpoint(m->route);
	kiln_str out;
	kiln_str dec;
	char err[256];

	if (endpoint == NULL)
		return;
	if (kiln__router_build(r, a, endpoint, &m->args, &out, err,
		sizeof(err)) != KILN_OK) {
		if (!regex)
			__builtin_trap();
		return;
	}
	if (kiln__pct_decode(a, out, false, &dec) != KILN_OK ||
	    !kiln_str_eq(dec, path))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	const char *end = (const char *)data + size;
	kiln__route_spec spec;
	kiln__match m;
	kiln__match_rc rc;
	kiln__router *r;
	kiln_arena *a;
	kiln_arena *ra;
	kiln_str rule;
	kiln_str path;
	kiln_str out;
	kiln_kvs args;
	char err[256];
	size_t n = 0;
	uint8_t fl;

	if (size < 1)
		return 0;
	fl = data[0];
	a = kiln_arena_new(0);
	ra = kiln_arena_new(0);
	r = a != NULL ? kiln__router_new(a) : NULL;
	if (ra == NULL || r == NULL)
		goto out;
	fuzz_fixed(r);
	rule = fuzz_line(&p, end);
	path = fuzz_line(&p, end);
	memset(&spec, 0, sizeof(spec));
	spec.regex = (fl & 1) != 0;
	spec.prefix = (fl & 0x20) != 0 ? "/pre" : "";
	spec.methods = fuzz_specs[fl >> 6];
	spec.rule = kiln_arena_strndup(a, rule.ptr, rule.len);
	spec.view = fuzz_view;
	spec.endpoint = "fuzz";
	if (spec.rule == NULL)
		goto out;
	(void)kiln__router_add(r, &spec, err, sizeof(err));
	rc = kiln__router_match(r, ra, kiln_str_c(fuzz_methods[(fl >> 2) & 7]),
	    path, (fl & 2) != 0, &m);
	if (rc == KILN__MATCH_FOUND)
		fuzz_round_trip(r, ra, &m, path,
		    spec.regex &&
			kiln_str_eq_c(kiln_str_c(kiln__route_endpoint(m.route)),
			    "fuzz"));
	if (rc == KILN__MATCH_REDIRECT &&
	    (m.redirect.len != path.len + 1 ||
		memcmp(m.redirect.ptr, path.ptr, path.len) != 0 ||
		m.redirect.ptr[path.len] != '/'))
		__builtin_trap();
	if (rc == KILN__MATCH_METHOD && m.allow.len == 0)
		__builtin_trap();
	kiln_kvs_init(&args, ra);
	fuzz_args((kiln_str){ p, (size_t)(end - p) }, &args);
	(void)kiln__router_build(r, ra, "fuzz", &args, &out, err, sizeof(err));
	kiln__router_each(r, fuzz_visit, &n);
out:
	kiln_arena_free(ra);
	kiln_arena_free(a);
	return 0;
}
