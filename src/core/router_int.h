/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The router: compiles URL rules (with converters) and regex rules, matches
 * a decoded path and a method against them, and builds URLs back from a
 * route name (url_for). Pure: no I/O, no request; everything it keeps is
 * in the arena given to kiln__router_new (app lifetime), and matching
 * allocates only in the arena passed to it (request lifetime).
 *
 * Converters: int (digits, optional leading '-'? no: [0-9]+, value fits
 * int64), str (one or more bytes other than '/'), slug ([A-Za-z0-9_-]+),
 * uuid (8-4-4-4-12 hex, any case), path (one or more bytes, '/' allowed).
 */
#ifndef KILN_ROUTER_INT_H
#define KILN_ROUTER_INT_H

#include <kiln/kiln.h>

#include "kiln_int.h"

/* What kiln__router_add needs to know about a route. */
typedef struct kiln__route_spec {
	const char *methods;  /* "GET", "GET,POST", "GET|POST"; NULL: GET */
	const char *prefix;   /* blueprint prefix, "" or "/blog" */
	const char *rule;     /* "/<int:id>/" or, if regex, a PCRE2 pattern */
	bool regex;	      /* rule is a regular expression */
	kiln_view_fn view;    /* the view */
	const char *endpoint; /* full name "blog.detail", or NULL */
	const kiln__bpreg *bpreg; /* registration it belongs to */
} kiln__route_spec;

typedef enum kiln__match_rc {
	KILN__MATCH_FOUND,    /* m->route and m->args are set */
	KILN__MATCH_NOTFOUND, /* nothing matches: 404 */
	KILN__MATCH_METHOD,   /* the path matches, the method not: 405, m->allow
			       */
	KILN__MATCH_REDIRECT, /* path + "/" matches: redirect to m->redirect */
	KILN__MATCH_ERROR,    /* out of memory */
} kiln__match_rc;

typedef struct kiln__match {
	const kiln__route *route; /* FOUND */
	kiln_kvs args;		  /* FOUND: argument name -> text (in arena) */
	kiln_str allow;		  /* METHOD: "GET, HEAD, OPTIONS" */
	kiln_str redirect;	  /* REDIRECT: the path with '/' appended */
} kiln__match;

/* Creates an empty router whose rules live in a. NULL on ENOMEM. */
kiln__router *kiln__router_new(kiln_arena *a);

/*
 * Adds a route. Rejects (KILN_EINVAL, reason in err) a malformed rule, an
 * unknown converter, a duplicate argument name, an unknown method, a bad
 * regex (with PCRE2's message and offset); KILN_EEXIST for an endpoint
 * name already used.
 */
kiln_err kiln__router_add(kiln__router *r, const kiln__route_spec *spec,
    char *err, size_t errlen);

/*
 * Matches method and the decoded path. Routes are tried in registration
 * order; a rule without converters is found by exact lookup first. HEAD
 * matches GET routes. When append_slash is true and nothing matched, the
 * path + "/" is tried and REDIRECT reported if it matches a route for
 * this method. args and strings are allocated in a.
 */
kiln__match_rc kiln__router_match(const kiln__router *r, kiln_arena *a,
    kiln_str method, kiln_str path, bool append_slash, kiln__match *m);

/*
 * Builds the URL path for endpoint with args (name -> value); args not in
 * the rule become a query string in their order. Pairs with an empty
 * name are positional: they fill the rule's arguments in rule order
 * (Django's reverse(args=...)), and more of them than the rule has is
 * KILN_EINVAL. Values are
 * percent-encoded (path converters keep '/'); each value must satisfy its
 * converter. Returns KILN_OK with *out in a, KILN_ENOTFOUND (no such
 * endpoint) or KILN_EINVAL (missing argument, value rejected), with the
 * reason in err.
 */
kiln_err kiln__router_build(const kiln__router *r, kiln_arena *a,
    const char *endpoint, const kiln_kvs *args, kiln_str *out, char *err,
    size_t errlen);

/* Accessors of a matched route. */
kiln_view_fn kiln__route_view(const kiln__route *rt);
const char *kiln__route_endpoint(const kiln__route *rt); /* or NULL */
const kiln__bpreg *kiln__route_bpreg(const kiln__route *rt);

/* Calls fn for each route in registration order (for `APP routes`). */
typedef void (*kiln__route_visit_fn)(const char *methods, const char *rule,
    const char *endpoint, void *data);
void kiln__router_each(const kiln__router *r, kiln__route_visit_fn fn,
    void *data);

/*
 * Regex routes (src/core/regex.c), used only by src/core/router.c: the
 * router's one user of PCRE2. A kiln__regex is one compiled pattern; the
 * kiln__regex_env holds the PCRE2 objects shared by all of a router's
 * patterns (match data, match context with limits, JIT stack). Both live
 * in the router's arena, whose cleanups free what PCRE2 allocated.
 */
typedef struct kiln__regex kiln__regex;
typedef struct kiln__regex_env kiln__regex_env;

/*
 * Compiles pat, anchored at both ends, into *out in a, creating or
 * growing *env (NULL at first) so that its match data fits the pattern's
 * captures. A pattern url_for cannot rebuild still compiles; building it
 * then fails with the reason. Returns KILN_OK, KILN_EINVAL (PCRE2's
 * message and offset in err) or KILN_ENOMEM.
 */
kiln_err kiln__regex_compile(kiln_arena *a, kiln__regex_env **env,
    const char *pat, kiln__regex **out, char *err, size_t errlen);

/*
 * Matches all of s against rx. Returns 1 on a match, with the named
 * groups that took part in m->args (values copied into a) when m is not
 * NULL; 0 when it does not match (or hits a limit); -1 on ENOMEM.
 */
int kiln__regex_match(const kiln__regex_env *env, const kiln__regex *rx,
    kiln_arena *a, kiln_str s, kiln__match *m);

/*
 * Sets *names to rx's named groups in the order the pattern has them
 * (borrowed, app lifetime) and returns how many there are.
 */
size_t kiln__regex_args(const kiln__regex *rx, const kiln_str **names);

/*
 * Appends to b the percent-encoded path rx gives with args (name ->
 * value, not NULL), then checks that the pattern matches it with each
 * named group capturing exactly its value. endpoint and display name the
 * route in messages. Returns KILN_OK, KILN_EINVAL (reason in err) or
 * KILN_ENOMEM.
 */
kiln_err kiln__regex_build(const kiln__regex_env *env, const kiln__regex *rx,
    const kiln_kvs *args, kiln_buf *b, const char *endpoint,
    const char *display, char *err, size_t errlen);

/*
 * Helpers of src/core/router.c that src/core/regex.c shares. errf formats
 * the reason for rc into err (which may be NULL) and returns rc. encode
 * percent-encodes a rule's literal text, keeping RFC 3986 pchars, into a
 * NUL-terminated slice in a. args_init sizes m->args for n arguments once
 * (no growth while matching); args_add appends key (borrowed) with a copy
 * of [p, p + len) in a.
 */
kiln_err kiln__router_errf(char *err, size_t errlen, kiln_err rc,
    const char *fmt, ...) KILN_PRINTF(4, 5);
kiln_err kiln__router_encode(kiln_arena *a, kiln_str s, kiln_str *out);
kiln_err kiln__router_args_init(kiln__match *m, kiln_arena *a, size_t n);
kiln_err kiln__router_args_add(kiln__match *m, kiln_arena *a, kiln_str key,
    const char *p, size_t len);

#endif /* KILN_ROUTER_INT_H */
