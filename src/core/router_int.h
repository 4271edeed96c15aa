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

#endif /* KILN_ROUTER_INT_H */
