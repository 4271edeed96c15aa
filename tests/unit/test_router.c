/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Unit tests of the router (src/core/router.c), driven through the
 * kiln__router_* functions with no app: converters, static and dynamic
 * priority, registration order, 405 with its Allow list, HEAD, OPTIONS,
 * append_slash, regex routes and url_for building with its errors. Each
 * test gets a fresh app arena (the router's) and request arena.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <kiln/kiln.h>

#include "router_int.h"

Suite *router_suite(void);

/* One router and its arenas. */
typedef struct fx {
	kiln_arena *a;		   /* app arena: the router */
	kiln_arena *ra;		   /* request arena: matches and URLs */
	kiln__router *r;	   /* the router under test */
	kiln__bpreg reg;	   /* a blueprint registration, for accessors */
	char err[KILN_ERRMSG_MAX]; /* last error */
} fx;

static kiln_resp *
view_a(kiln_req *req)
{
	(void)req;
	return NULL;
}

static kiln_resp *
view_b(kiln_req *req)
{
	(void)req;
	return NULL;
}

static void
fx_init(fx *f)
{
	memset(f, 0, sizeof(*f));
	f->a = kiln_arena_new(0);
	f->ra = kiln_arena_new(0);
	ck_assert_ptr_nonnull(f->a);
	ck_assert_ptr_nonnull(f->ra);
	f->r = kiln__router_new(f->a);
	ck_assert_ptr_nonnull(f->r);
	f->reg.name = "blog";
	f->reg.prefix = "/blog";
}

static void
fx_fini(fx *f)
{
	kiln_arena_free(f->ra);
	kiln_arena_free(f->a);
}

/* Adds a route under prefix (NULL: none); the error text goes to f->err. */
static kiln_err
add_full(fx *f, const char *methods, const char *prefix, const char *rule,
    bool regex, const char *name)
{
	kiln__route_spec spec;

	memset(&spec, 0, sizeof(spec));
	spec.methods = methods;
	spec.prefix = prefix != NULL ? prefix : "";
	spec.rule = rule;
	spec.regex = regex;
	spec.view = view_a;
	spec.endpoint = name;
	spec.bpreg = &f->reg;
	f->err[0] = '\0';
	return kiln__router_add(f->r, &spec, f->err, sizeof(f->err));
}

static kiln_err
add(fx *f, const char *methods, const char *rule, const char *name)
{
	return add_full(f, methods, NULL, rule, false, name);
}

static kiln_err
add_re(fx *f, const char *methods, const char *pattern, const char *name)
{
	return add_full(f, methods, NULL, pattern, true, name);
}

static kiln__match_rc
match_as(fx *f, const char *method, const char *path, bool append_slash,
    kiln__match *m)
{
	return kiln__router_match(f->r, f->ra, kiln_str_c(method),
	    kiln_str_c(path), append_slash, m);
}

static kiln__match_rc
match(fx *f, const char *method, const char *path, kiln__match *m)
{
	return match_as(f, method, path, false, m);
}

/* The endpoint a GET of path finds, or NULL when it finds none. */
static const char *
found(fx *f, const char *path)
{
	kiln__match m;

	if (match(f, "GET", path, &m) != KILN__MATCH_FOUND)
		return NULL;
	return kiln__route_endpoint(m.route);
}

/* The value of argument name of a match, NUL-terminated, or NULL. */
static const char *
arg(const kiln__match *m, const char *name)
{
	const kiln_str *v = kiln_kvs_get(&m->args, kiln_str_c(name));

	if (v == NULL)
		return NULL;
	ck_assert_int_eq(v->ptr[v->len], '\0');
	return v->ptr;
}

/*
 * Builds the URL of name from NULL-ended name/value pairs. Returns it, or
 * NULL with the code in *rc and the reason in f->err.
 */
static const char *
build(fx *f, kiln_err *rc, const char *name, ...)
{
	kiln_kvs args;
	kiln_str out;
	const char *k;
	const char *v;
	va_list ap;

	kiln_kvs_init(&args, f->ra);
	va_start(ap, name);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		ck_assert_int_eq(kiln_kvs_add(&args, kiln_str_c(k),
				     kiln_str_c(v)),
		    KILN_OK);
	}
	va_end(ap);
	f->err[0] = '\0';
	*rc = kiln__router_build(f->r, f->ra, name, &args, &out, f->err,
	    sizeof(f->err));
	if (*rc != KILN_OK)
		return NULL;
	ck_assert_int_eq(out.ptr[out.len], '\0');
	return out.ptr;
}

START_TEST(test_router_static_match)
{
	kiln__match m;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "GET", "/", "index"), KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/about/", "about"), KILN_OK);
	ck_assert_int_eq(match(&f, "GET", "/about/", &m), KILN__MATCH_FOUND);
	ck_assert_str_eq(kiln__route_endpoint(m.route), "about");
	ck_assert_uint_eq(m.args.n, 0);
	ck_assert_str_eq(found(&f, "/"), "index");
	ck_assert_int_eq(match(&f, "GET", "/about", &m), KILN__MATCH_NOTFOUND);
	ck_assert_int_eq(match(&f, "GET", "/About/", &m), KILN__MATCH_NOTFOUND);
	ck_assert_int_eq(match(&f, "GET", "", &m), KILN__MATCH_NOTFOUND);
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_static_many)
{
	char rule[32];
	fx f;
	int i;

	fx_init(&f);
	for (i = 0; i < 600; i++) {
		snprintf(rule, sizeof(rule), "/page/%d/", i);
		ck_assert_int_eq(add(&f, "GET", rule, rule), KILN_OK);
	}
	for (i = 0; i < 600; i += 37) {
		snprintf(rule, sizeof(rule), "/page/%d/", i);
		ck_assert_str_eq(found(&f, rule), rule);
	}
	ck_assert_ptr_null(found(&f, "/page/600/"));
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_int_converter)
{
	kiln__match m;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "GET", "/post/<int:id>/", "detail"), KILN_OK);
	ck_assert_int_eq(match(&f, "GET", "/post/42/", &m), KILN__MATCH_FOUND);
	ck_assert_str_eq(arg(&m, "id"), "42");
	ck_assert_uint_eq(m.args.n, 1);
	ck_assert_ptr_null(found(&f, "/post/abc/"));
	ck_assert_ptr_null(found(&f, "/post/4a/"));
	ck_assert_ptr_null(found(&f, "/post/-1/"));
	ck_assert_ptr_null(found(&f, "/post//"));
	ck_assert_ptr_null(found(&f, "/post/1/2/"));
	/* INT64_MAX fits; one more does not. */
	ck_assert_int_eq(match(&f, "GET", "/post/9223372036854775807/", &m),
	    KILN__MATCH_FOUND);
	ck_assert_str_eq(arg(&m, "id"), "9223372036854775807");
	ck_assert_ptr_null(found(&f, "/post/9223372036854775808/"));
	ck_assert_ptr_null(found(&f, "/post/99999999999999999999999/"));
	/* Leading zeros do not count towards the size. */
	ck_assert_int_eq(match(&f, "GET", "/post/00000000000000000000042/", &m),
	    KILN__MATCH_FOUND);
	ck_assert_str_eq(arg(&m, "id"), "00000000000000000000042");
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_str_converter)
{
	kiln__match m;
	kiln__match_rc rc;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "GET", "/user/<name>", "user"), KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/tag/<str:t>/x", "tag"), KILN_OK);
	ck_assert_int_eq(match(&f, "GET", "/user/bob", &m), KILN__MATCH_FOUND);
	ck_assert_str_eq(arg(&m, "name"), "bob");
	ck_assert_int_eq(match(&f, "GET", "/user/a b%", &m), KILN__MATCH_FOUND);
	ck_assert_str_eq(arg(&m, "name"), "a b%");
	ck_assert_ptr_null(found(&f, "/user/"));
	ck_assert_ptr_null(found(&f, "/user/a/b"));
	ck_assert_str_eq(found(&f, "/tag/c/x"), "tag");
	ck_assert_ptr_null(found(&f, "/tag//x"));
	/* A NUL byte inside the path is just a byte; len is authoritative. */
	rc = kiln__router_match(f.r, f.ra, KILN_STR("GET"),
	    (kiln_str){ "/user/a\0b", 9 }, false, &m);
	ck_assert_int_eq(rc, KILN__MATCH_FOUND);
	ck_assert_uint_eq(m.args.items[0].val.len, 3);
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_slug_converter)
{
	kiln__match m;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "GET", "/a/<slug:s>/", "art"), KILN_OK);
	ck_assert_int_eq(match(&f, "GET", "/a/Hello-World_2/", &m),
	    KILN__MATCH_FOUND);
	ck_assert_str_eq(arg(&m, "s"), "Hello-World_2");
	ck_assert_ptr_null(found(&f, "/a/hello.world/"));
	ck_assert_ptr_null(found(&f, "/a/h\xc3\xa9llo/"));
	ck_assert_ptr_null(found(&f, "/a/a b/"));
	ck_assert_ptr_null(found(&f, "/a//"));
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_uuid_converter)
{
	kiln__match m;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "GET", "/o/<uuid:u>", "obj"), KILN_OK);
	ck_assert_int_eq(match(&f, "GET",
			     "/o/123e4567-e89b-12d3-a456-426614174000", &m),
	    KILN__MATCH_FOUND);
	ck_assert_str_eq(arg(&m, "u"), "123e4567-e89b-12d3-a456-426614174000");
	ck_assert_str_eq(found(&f, "/o/123E4567-E89B-12D3-A456-426614174000"),
	    "obj");
	ck_assert_ptr_null(found(&f, "/o/123e4567-e89b-12d3-a456-42661417400"));
	ck_assert_ptr_null(
	    found(&f, "/o/123e4567-e89b-12d3-a456-4266141740000"));
	ck_assert_ptr_null(
	    found(&f, "/o/g23e4567-e89b-12d3-a456-426614174000"));
	ck_assert_ptr_null(
	    found(&f, "/o/123e4567e-89b-12d3-a456-426614174000"));
	ck_assert_ptr_null(found(&f, "/o/"));
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_path_converter)
{
	kiln__match m;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "GET", "/files/<path:p>", "files"), KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/ed/<path:p>/edit", "edit"), KILN_OK);
	ck_assert_int_eq(match(&f, "GET", "/files/a/b/c.txt", &m),
	    KILN__MATCH_FOUND);
	ck_assert_str_eq(arg(&m, "p"), "a/b/c.txt");
	ck_assert_int_eq(match(&f, "GET", "/files//x", &m), KILN__MATCH_FOUND);
	ck_assert_str_eq(arg(&m, "p"), "/x");
	ck_assert_ptr_null(found(&f, "/files/"));
	ck_assert_int_eq(match(&f, "GET", "/ed/a/b/edit", &m),
	    KILN__MATCH_FOUND);
	ck_assert_str_eq(arg(&m, "p"), "a/b");
	ck_assert_ptr_null(found(&f, "/ed/edit"));
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_several_converters)
{
	kiln__match m;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "GET", "/d/<int:y>-<int:mo>/<slug:s>", "d"),
	    KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/s/<a>-<b>", "s"), KILN_OK);
	ck_assert_int_eq(match(&f, "GET", "/d/2024-05/x-y", &m),
	    KILN__MATCH_FOUND);
	ck_assert_str_eq(arg(&m, "y"), "2024");
	ck_assert_str_eq(arg(&m, "mo"), "05");
	ck_assert_str_eq(arg(&m, "s"), "x-y");
	ck_assert_str_eq(m.args.items[0].key.ptr, "y");
	/* Greedy, as werkzeug's regexes: the first takes the most. */
	ck_assert_int_eq(match(&f, "GET", "/s/x-y-z", &m), KILN__MATCH_FOUND);
	ck_assert_str_eq(arg(&m, "a"), "x-y");
	ck_assert_str_eq(arg(&m, "b"), "z");
	ck_assert_ptr_null(found(&f, "/s/xyz"));
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_backtracking_bounded)
{
	kiln__match m;
	char *path;
	size_t i;
	fx f;

	fx_init(&f);
	/* Both pass the prefix and suffix checks, then must fail inside. */
	ck_assert_int_eq(add(&f, "GET",
			     "/<path:a>/<path:b>/<path:c>/<int:d>/end", "p"),
	    KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/q/<a>-<b>-<c>-<d>.", "q"), KILN_OK);
	path = kiln_arena_alloc(f.ra, 4100);
	ck_assert_ptr_nonnull(path);
	for (i = 0; i < 4000; i += 2)
		memcpy(path + i, "/a", 2);
	strcpy(path + 4000, "/end");
	/* Without the failure memo these take minutes; with it, no time. */
	ck_assert_int_eq(match(&f, "GET", path, &m), KILN__MATCH_NOTFOUND);
	memcpy(path, "/q/", 3);
	memset(path + 3, '-', 2000);
	strcpy(path + 2003, "/.");
	ck_assert_int_eq(match(&f, "GET", path, &m), KILN__MATCH_NOTFOUND);
	path[2003] = '.';
	path[2004] = '\0';
	ck_assert_str_eq(found(&f, path), "q");
	ck_assert_int_eq(match(&f, "GET", "/w/x/y/12/end", &m),
	    KILN__MATCH_FOUND);
	ck_assert_str_eq(arg(&m, "a"), "w");
	ck_assert_str_eq(arg(&m, "d"), "12");
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_static_beats_dynamic)
{
	kiln__match m;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "GET", "/u/<name>", "profile"), KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/u/me", "me"), KILN_OK);
	ck_assert_str_eq(found(&f, "/u/me"), "me");
	ck_assert_int_eq(match(&f, "GET", "/u/you", &m), KILN__MATCH_FOUND);
	ck_assert_str_eq(kiln__route_endpoint(m.route), "profile");
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_registration_order)
{
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "GET", "/x/<int:id>", "x_int"), KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/x/<id>", "x_str"), KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/y/<id>", "y_str"), KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/y/<int:id>", "y_int"), KILN_OK);
	ck_assert_str_eq(found(&f, "/x/5"), "x_int");
	ck_assert_str_eq(found(&f, "/x/five"), "x_str");
	ck_assert_str_eq(found(&f, "/y/5"), "y_str");
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_method_not_allowed)
{
	kiln__match m;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "GET", "/login", "login_form"), KILN_OK);
	ck_assert_int_eq(add(&f, "POST", "/login", "login_post"), KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/item/<int:id>", "item"), KILN_OK);
	ck_assert_int_eq(add(&f, "PUT|PATCH", "/item/<int:id>", "item_put"),
	    KILN_OK);
	ck_assert_int_eq(add(&f, "DELETE", "/item/<name>", "item_del"),
	    KILN_OK);
	ck_assert_int_eq(match(&f, "POST", "/login", &m), KILN__MATCH_FOUND);
	ck_assert_str_eq(kiln__route_endpoint(m.route), "login_post");
	ck_assert_int_eq(match(&f, "PUT", "/login", &m), KILN__MATCH_METHOD);
	ck_assert_str_eq(m.allow.ptr, "GET, HEAD, POST, OPTIONS");
	/* The allow list is the union of every route matching the path. */
	ck_assert_int_eq(match(&f, "POST", "/item/7", &m), KILN__MATCH_METHOD);
	ck_assert_str_eq(m.allow.ptr, "GET, HEAD, PUT, PATCH, DELETE, OPTIONS");
	ck_assert_int_eq(match(&f, "DELETE", "/item/7", &m), KILN__MATCH_FOUND);
	ck_assert_str_eq(kiln__route_endpoint(m.route), "item_del");
	ck_assert_int_eq(match(&f, "PATCH", "/item/x", &m), KILN__MATCH_METHOD);
	ck_assert_str_eq(m.allow.ptr, "DELETE, OPTIONS");
	/* An unknown method, or a lower-case one, is a 405 where a path
	 * matches. */
	ck_assert_int_eq(match(&f, "BREW", "/login", &m), KILN__MATCH_METHOD);
	ck_assert_int_eq(match(&f, "get", "/login", &m), KILN__MATCH_METHOD);
	ck_assert_int_eq(match(&f, "BREW", "/nowhere", &m),
	    KILN__MATCH_NOTFOUND);
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_head_matches_get)
{
	kiln__match m;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, NULL, "/page/<int:n>", "page"), KILN_OK);
	ck_assert_int_eq(add(&f, "POST", "/submit", "submit"), KILN_OK);
	ck_assert_int_eq(match(&f, "HEAD", "/page/3", &m), KILN__MATCH_FOUND);
	ck_assert_str_eq(kiln__route_endpoint(m.route), "page");
	ck_assert_str_eq(arg(&m, "n"), "3");
	ck_assert_int_eq(match(&f, "HEAD", "/submit", &m), KILN__MATCH_METHOD);
	ck_assert_str_eq(m.allow.ptr, "POST, OPTIONS");
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_options)
{
	kiln__match m;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "GET", "/a", "a"), KILN_OK);
	ck_assert_int_eq(add(&f, "GET,OPTIONS", "/b", "b"), KILN_OK);
	/* Without an explicit OPTIONS route the dispatcher answers it. */
	ck_assert_int_eq(match(&f, "OPTIONS", "/a", &m), KILN__MATCH_METHOD);
	ck_assert_str_eq(m.allow.ptr, "GET, HEAD, OPTIONS");
	ck_assert_int_eq(match(&f, "OPTIONS", "/b", &m), KILN__MATCH_FOUND);
	ck_assert_str_eq(kiln__route_endpoint(m.route), "b");
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_methods_spec)
{
	kiln__match m;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "get, post", "/a", "a"), KILN_OK);
	ck_assert_int_eq(add(&f, " PUT | DELETE ", "/b", "b"), KILN_OK);
	ck_assert_int_eq(match(&f, "POST", "/a", &m), KILN__MATCH_FOUND);
	ck_assert_int_eq(match(&f, "DELETE", "/b", &m), KILN__MATCH_FOUND);
	ck_assert_int_eq(match(&f, "GET", "/b", &m), KILN__MATCH_METHOD);
	ck_assert_str_eq(m.allow.ptr, "PUT, DELETE, OPTIONS");
	ck_assert_int_eq(add(&f, "GET,FETCH", "/c", "c"), KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(f.err, "unknown method 'FETCH'"));
	ck_assert_ptr_nonnull(strstr(f.err, "/c"));
	ck_assert_int_eq(add(&f, " , ", "/d", "d"), KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(f.err, "no method"));
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_append_slash)
{
	kiln__match m;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "GET", "/blog/", "blog"), KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/p/<int:id>/", "p"), KILN_OK);
	ck_assert_int_eq(add(&f, "POST", "/form/", "form"), KILN_OK);
	ck_assert_int_eq(match_as(&f, "GET", "/blog", true, &m),
	    KILN__MATCH_REDIRECT);
	ck_assert_str_eq(m.redirect.ptr, "/blog/");
	ck_assert_uint_eq(m.redirect.len, 6);
	ck_assert_int_eq(match_as(&f, "GET", "/blog", false, &m),
	    KILN__MATCH_NOTFOUND);
	ck_assert_int_eq(match_as(&f, "GET", "/p/3", true, &m),
	    KILN__MATCH_REDIRECT);
	ck_assert_str_eq(m.redirect.ptr, "/p/3/");
	/* Any method's route counts. */
	ck_assert_int_eq(match_as(&f, "GET", "/form", true, &m),
	    KILN__MATCH_REDIRECT);
	ck_assert_str_eq(m.redirect.ptr, "/form/");
	ck_assert_int_eq(match_as(&f, "GET", "/p/x", true, &m),
	    KILN__MATCH_NOTFOUND);
	ck_assert_int_eq(match_as(&f, "GET", "/nope/", true, &m),
	    KILN__MATCH_NOTFOUND);
	/* A match on the path itself wins over the redirect. */
	ck_assert_int_eq(match_as(&f, "GET", "/blog/", true, &m),
	    KILN__MATCH_FOUND);
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_regex_match)
{
	kiln__match m;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add_re(&f, "GET",
			     "/archive/(?<year>[0-9]{4})/(?<month>[0-9]{2})/",
			     "archive"),
	    KILN_OK);
	ck_assert_int_eq(add_full(&f, "GET", "/blog", "/(?P<slug>[a-z-]+)",
			     true, "blog.post"),
	    KILN_OK);
	ck_assert_int_eq(match(&f, "GET", "/archive/2024/05/", &m),
	    KILN__MATCH_FOUND);
	ck_assert_str_eq(kiln__route_endpoint(m.route), "archive");
	ck_assert_str_eq(arg(&m, "year"), "2024");
	ck_assert_str_eq(arg(&m, "month"), "05");
	ck_assert_uint_eq(m.args.n, 2);
	ck_assert_ptr_null(found(&f, "/archive/24/05/"));
	/* Anchored at both ends. */
	ck_assert_ptr_null(found(&f, "/archive/2024/05/x"));
	ck_assert_ptr_null(found(&f, "x/archive/2024/05/"));
	ck_assert_int_eq(match(&f, "GET", "/blog/hello-there", &m),
	    KILN__MATCH_FOUND);
	ck_assert_str_eq(arg(&m, "slug"), "hello-there");
	ck_assert_ptr_null(found(&f, "/hello-there"));
	ck_assert_int_eq(match(&f, "POST", "/blog/x", &m), KILN__MATCH_METHOD);
	ck_assert_str_eq(m.allow.ptr, "GET, HEAD, OPTIONS");
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_regex_bad_pattern)
{
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add_re(&f, "GET", "/x/(?<id>[0-9+", "x"), KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(f.err, "/x/(?<id>[0-9+"));
	ck_assert_ptr_nonnull(strstr(f.err, "offset"));
	ck_assert_int_eq(add_full(&f, "GET", "/<lang>", "/x", true, "y"),
	    KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(f.err, "converter"));
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_regex_reverse)
{
	const char *url;
	kiln_err rc;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add_re(&f, "GET",
			     "^/archive/(?<year>[0-9]{4})/(?<month>[0-9]{2})/$",
			     "archive"),
	    KILN_OK);
	ck_assert_int_eq(add_full(&f, "GET", "/blog",
			     "/\\.well-known/(?<name>[a-z ]+(?:/[a-z]+)?)",
			     true, "wk"),
	    KILN_OK);
	url = build(&f, &rc, "archive", "month", "05", "year", "2024", NULL);
	ck_assert_str_eq(url, "/archive/2024/05/");
	url = build(&f, &rc, "archive", "year", "2024", "month", "05", "q",
	    "a b", NULL);
	ck_assert_str_eq(url, "/archive/2024/05/?q=a+b");
	url = build(&f, &rc, "wk", "name", "x y/z", NULL);
	ck_assert_str_eq(url, "/blog/.well-known/x%20y/z");
	ck_assert_ptr_null(
	    build(&f, &rc, "archive", "year", "24", "month", "05", NULL));
	ck_assert_int_eq(rc, KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(f.err, "does not match"));
	/* A value that would capture differently is refused too. */
	ck_assert_ptr_null(build(&f, &rc, "wk", "name", "x/y/z", NULL));
	ck_assert_int_eq(rc, KILN_EINVAL);
	ck_assert_ptr_null(build(&f, &rc, "archive", "year", "2024", NULL));
	ck_assert_int_eq(rc, KILN_EINVAL);
	ck_assert_str_eq(f.err, "url_for('archive'): missing argument 'month'");
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_regex_unreversible)
{
	kiln__match m;
	kiln_err rc;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add_re(&f, "GET", "/r/(?<x>[a-z])+", "rep"), KILN_OK);
	ck_assert_int_eq(add_re(&f, "GET", "/a/(?<x>[0-9]+)|/b/(?<y>[0-9]+)",
			     "alt"),
	    KILN_OK);
	ck_assert_int_eq(add_re(&f, "GET", "/u/([0-9]+)", "unnamed"), KILN_OK);
	ck_assert_int_eq(add_re(&f, "GET", "/d/\\d+/(?<x>.)", "esc"), KILN_OK);
	ck_assert_int_eq(add_re(&f, "GET", "/n/(?<x>a(?<y>b))", "nested"),
	    KILN_OK);
	ck_assert_int_eq(add_re(&f, "GET", "/j/(?<x>a)/(?<x>b)", "twice"),
	    KILN_EINVAL);
	/* They still match; only url_for refuses them. */
	ck_assert_int_eq(match(&f, "GET", "/b/12", &m), KILN__MATCH_FOUND);
	ck_assert_str_eq(arg(&m, "y"), "12");
	ck_assert_ptr_null(arg(&m, "x"));
	ck_assert_ptr_null(build(&f, &rc, "rep", "x", "a", NULL));
	ck_assert_int_eq(rc, KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(f.err, "cannot reverse"));
	ck_assert_ptr_null(build(&f, &rc, "alt", "x", "1", NULL));
	ck_assert_ptr_nonnull(strstr(f.err, "cannot reverse"));
	ck_assert_ptr_null(build(&f, &rc, "unnamed", NULL));
	ck_assert_ptr_nonnull(strstr(f.err, "cannot reverse"));
	ck_assert_ptr_null(build(&f, &rc, "esc", "x", "a", NULL));
	ck_assert_ptr_nonnull(strstr(f.err, "cannot reverse"));
	ck_assert_ptr_null(build(&f, &rc, "nested", "x", "ab", "y", "b", NULL));
	ck_assert_ptr_nonnull(strstr(f.err, "cannot reverse"));
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_url_for_converters)
{
	kiln_err rc;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "GET", "/post/<int:id>/", "detail"), KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/u/<name>", "user"), KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/f/<path:p>", "file"), KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/a/<slug:s>/<uuid:u>", "su"), KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/static/", "static"), KILN_OK);
	ck_assert_str_eq(build(&f, &rc, "detail", "id", "5", NULL), "/post/5/");
	ck_assert_str_eq(build(&f, &rc, "static", NULL), "/static/");
	ck_assert_str_eq(build(&f, &rc, "user", "name", "a b/c?d#e&f", NULL),
	    "/u/a%20b%2Fc%3Fd%23e%26f");
	ck_assert_str_eq(build(&f, &rc, "user", "name", "caf\xc3\xa9", NULL),
	    "/u/caf%C3%A9");
	ck_assert_str_eq(build(&f, &rc, "file", "p", "dir a/b.txt", NULL),
	    "/f/dir%20a/b.txt");
	ck_assert_str_eq(build(&f, &rc, "su", "u",
			     "123e4567-e89b-12d3-a456-426614174000", "s",
			     "my-post", NULL),
	    "/a/my-post/123e4567-e89b-12d3-a456-426614174000");
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_url_for_query)
{
	kiln_err rc;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "GET", "/post/<int:id>/", "detail"), KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/search", "search"), KILN_OK);
	ck_assert_str_eq(build(&f, &rc, "detail", "page", "2", "id", "7", "q",
			     "a b&c=d", NULL),
	    "/post/7/?page=2&q=a+b%26c%3Dd");
	ck_assert_str_eq(build(&f, &rc, "search", "q", "caf\xc3\xa9 #1", "q",
			     "x", NULL),
	    "/search?q=caf%C3%A9+%231&q=x");
	ck_assert_str_eq(build(&f, &rc, "search", "e", "", NULL), "/search?e=");
	fx_fini(&f);
}
END_TEST

/* Empty names are positional: they fill the rule's arguments in order. */
START_TEST(test_router_url_for_positional)
{
	kiln_err rc;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "GET", "/<slug:s>/<int:id>/", "two"), KILN_OK);
	ck_assert_int_eq(add_re(&f, "GET", "/y/(?<year>[0-9]{4})/", "year"),
	    KILN_OK);
	ck_assert_str_eq(build(&f, &rc, "two", "", "a-b", "", "9", "p", "1",
			     NULL),
	    "/a-b/9/?p=1");
	ck_assert_str_eq(build(&f, &rc, "year", "", "2024", NULL), "/y/2024/");
	ck_assert_ptr_null(
	    build(&f, &rc, "two", "", "a", "", "1", "", "x", NULL));
	ck_assert_int_eq(rc, KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(f.err,
	    "3 positional arguments given, the "
	    "rule has 2"));
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_url_for_errors)
{
	kiln_err rc;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add_full(&f, "GET", "/blog", "/<int:id>/", false,
			     "blog.detail"),
	    KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/o/<uuid:u>", "obj"), KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/s/<slug:s>", "slug"), KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/u/<name>", "user"), KILN_OK);
	ck_assert_str_eq(build(&f, &rc, "blog.detail", "id", "3", NULL),
	    "/blog/3/");
	ck_assert_ptr_null(build(&f, &rc, "blog.detail", "x", "1", NULL));
	ck_assert_int_eq(rc, KILN_EINVAL);
	ck_assert_str_eq(f.err,
	    "url_for('blog.detail'): missing argument 'id'");
	ck_assert_ptr_null(build(&f, &rc, "x", NULL));
	ck_assert_int_eq(rc, KILN_ENOTFOUND);
	ck_assert_str_eq(f.err, "no route named 'x'");
	ck_assert_ptr_null(build(&f, &rc, "blog.detail", "id", "abc", NULL));
	ck_assert_int_eq(rc, KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(f.err, "'abc' is not a valid int"));
	ck_assert_ptr_null(build(&f, &rc, "blog.detail", "id", "-3", NULL));
	ck_assert_ptr_null(
	    build(&f, &rc, "blog.detail", "id", "9223372036854775808", NULL));
	ck_assert_int_eq(rc, KILN_EINVAL);
	ck_assert_ptr_null(build(&f, &rc, "obj", "u", "not-a-uuid", NULL));
	ck_assert_int_eq(rc, KILN_EINVAL);
	ck_assert_ptr_null(build(&f, &rc, "slug", "s", "a b", NULL));
	ck_assert_int_eq(rc, KILN_EINVAL);
	ck_assert_ptr_null(build(&f, &rc, "user", "name", "", NULL));
	ck_assert_int_eq(rc, KILN_EINVAL);
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_url_for_round_trip)
{
	const char *paths[] = { "/d/2024-05/x-y", "/s/x-y-z", "/f/a/b/c" };
	kiln__match m;
	kiln_str out;
	size_t i;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "GET", "/d/<int:y>-<int:mo>/<slug:s>", "d"),
	    KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/s/<a>-<b>", "s"), KILN_OK);
	ck_assert_int_eq(add(&f, "GET", "/f/<path:p>", "f"), KILN_OK);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		ck_assert_int_eq(match(&f, "GET", paths[i], &m),
		    KILN__MATCH_FOUND);
		ck_assert_int_eq(kiln__router_build(f.r, f.ra,
				     kiln__route_endpoint(m.route), &m.args,
				     &out, f.err, sizeof(f.err)),
		    KILN_OK);
		ck_assert_str_eq(out.ptr, paths[i]);
	}
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_malformed_rules)
{
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "GET", "/post/<int:id", "a"), KILN_EINVAL);
	ck_assert_str_eq(f.err, "rule '/post/<int:id': unclosed '<'");
	ck_assert_int_eq(add(&f, "GET", "/post/<int:>/", "a"), KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(f.err, "empty argument name"));
	ck_assert_int_eq(add(&f, "GET", "/post/<>/", "a"), KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(f.err, "empty argument name"));
	ck_assert_int_eq(add(&f, "GET", "/post/<float:x>/", "a"), KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(f.err, "unknown converter 'float'"));
	ck_assert_ptr_nonnull(strstr(f.err, "/post/<float:x>/"));
	ck_assert_int_eq(add(&f, "GET", "/<a>/<int:a>", "a"), KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(f.err, "duplicate argument 'a'"));
	ck_assert_int_eq(add(&f, "GET", "post/", "a"), KILN_EINVAL);
	ck_assert_str_eq(f.err, "rule 'post/': must start with '/'");
	ck_assert_int_eq(add(&f, "GET", "", "a"), KILN_EINVAL);
	ck_assert_int_eq(add(&f, "GET", "/<a b>", "a"), KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(f.err, "bad argument name"));
	/* Nothing half-added: the name is still free. */
	ck_assert_int_eq(add(&f, "GET", "/ok/<int:id>", "a"), KILN_OK);
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_duplicate_name)
{
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "GET", "/a", "same"), KILN_OK);
	ck_assert_int_eq(add(&f, "POST", "/b", "same"), KILN_EEXIST);
	ck_assert_ptr_nonnull(strstr(f.err, "'same' is already used"));
	ck_assert_int_eq(add_re(&f, "GET", "/c", "same"), KILN_EEXIST);
	/* Unnamed routes never clash. */
	ck_assert_int_eq(add(&f, "GET", "/d", NULL), KILN_OK);
	ck_assert_int_eq(add(&f, "POST", "/d", NULL), KILN_OK);
	ck_assert_ptr_null(found(&f, "/b"));
	fx_fini(&f);
}
END_TEST

/* Collects what kiln__router_each visits, one line per route. */
static void
visit(const char *methods, const char *rule, const char *endpoint, void *data)
{
	char *out = data;
	size_t len = strlen(out);

	snprintf(out + len, 512 - len, "%s %s %s\n", methods, rule,
	    endpoint != NULL ? endpoint : "-");
}

START_TEST(test_router_each_and_accessors)
{
	char out[512] = "";
	kiln__route_spec spec;
	kiln__match m;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add(&f, "POST|GET", "/z/<int:id>", "z"), KILN_OK);
	ck_assert_int_eq(add(&f, NULL, "/a", NULL), KILN_OK);
	ck_assert_int_eq(add_full(&f, "GET", "/blog", "/(?<s>[a-z]+)", true,
			     "blog.s"),
	    KILN_OK);
	ck_assert_int_eq(add_full(&f, "DELETE", "/blog", "/", false,
			     "blog.index"),
	    KILN_OK);
	kiln__router_each(f.r, visit, out);
	ck_assert_str_eq(out,
	    "GET, POST /z/<int:id> z\n"
	    "GET /a -\n"
	    "GET ^/blog/(?<s>[a-z]+) blog.s\n"
	    "DELETE /blog/ blog.index\n");
	memset(&spec, 0, sizeof(spec));
	spec.rule = "/v";
	spec.view = view_b;
	spec.bpreg = &f.reg;
	ck_assert_int_eq(kiln__router_add(f.r, &spec, NULL, 0), KILN_OK);
	ck_assert_int_eq(match(&f, "GET", "/v", &m), KILN__MATCH_FOUND);
	ck_assert_ptr_eq(kiln__route_view(m.route), view_b);
	ck_assert_ptr_eq(kiln__route_bpreg(m.route), &f.reg);
	ck_assert_ptr_null(kiln__route_endpoint(m.route));
	ck_assert_int_eq(match(&f, "GET", "/z/1", &m), KILN__MATCH_FOUND);
	ck_assert_ptr_eq(kiln__route_view(m.route), view_a);
	fx_fini(&f);
}
END_TEST

START_TEST(test_router_blueprint_prefix)
{
	kiln__match m;
	kiln_err rc;
	fx f;

	fx_init(&f);
	ck_assert_int_eq(add_full(&f, "GET", "/blog", "/<int:id>/", false,
			     "blog.detail"),
	    KILN_OK);
	ck_assert_int_eq(add_full(&f, "GET", "/blog", "/", false, "blog.index"),
	    KILN_OK);
	ck_assert_int_eq(add_full(&f, "GET", "/<lang>", "/about", false,
			     "about"),
	    KILN_OK);
	ck_assert_int_eq(match(&f, "GET", "/blog/3/", &m), KILN__MATCH_FOUND);
	ck_assert_str_eq(kiln__route_endpoint(m.route), "blog.detail");
	ck_assert_str_eq(found(&f, "/blog/"), "blog.index");
	ck_assert_ptr_null(found(&f, "/3/"));
	/* Converters in a prefix work as in Flask. */
	ck_assert_int_eq(match(&f, "GET", "/fr/about", &m), KILN__MATCH_FOUND);
	ck_assert_str_eq(arg(&m, "lang"), "fr");
	ck_assert_str_eq(build(&f, &rc, "about", "lang", "de", NULL),
	    "/de/about");
	ck_assert_int_eq(add_full(&f, "GET", "blog", "/x", false, "bad"),
	    KILN_EINVAL);
	fx_fini(&f);
}
END_TEST

Suite *
router_suite(void)
{
	Suite *s = suite_create("router");
	TCase *tc = tcase_create("router");

	tcase_add_test(tc, test_router_static_match);
	tcase_add_test(tc, test_router_static_many);
	tcase_add_test(tc, test_router_int_converter);
	tcase_add_test(tc, test_router_str_converter);
	tcase_add_test(tc, test_router_slug_converter);
	tcase_add_test(tc, test_router_uuid_converter);
	tcase_add_test(tc, test_router_path_converter);
	tcase_add_test(tc, test_router_several_converters);
	tcase_add_test(tc, test_router_backtracking_bounded);
	tcase_add_test(tc, test_router_static_beats_dynamic);
	tcase_add_test(tc, test_router_registration_order);
	tcase_add_test(tc, test_router_method_not_allowed);
	tcase_add_test(tc, test_router_head_matches_get);
	tcase_add_test(tc, test_router_options);
	tcase_add_test(tc, test_router_methods_spec);
	tcase_add_test(tc, test_router_append_slash);
	tcase_add_test(tc, test_router_regex_match);
	tcase_add_test(tc, test_router_regex_bad_pattern);
	tcase_add_test(tc, test_router_regex_reverse);
	tcase_add_test(tc, test_router_regex_unreversible);
	tcase_add_test(tc, test_router_url_for_converters);
	tcase_add_test(tc, test_router_url_for_query);
	tcase_add_test(tc, test_router_url_for_positional);
	tcase_add_test(tc, test_router_url_for_errors);
	tcase_add_test(tc, test_router_url_for_round_trip);
	tcase_add_test(tc, test_router_malformed_rules);
	tcase_add_test(tc, test_router_duplicate_name);
	tcase_add_test(tc, test_router_each_and_accessors);
	tcase_add_test(tc, test_router_blueprint_prefix);
	suite_add_tcase(s, tc);
	return s;
}
