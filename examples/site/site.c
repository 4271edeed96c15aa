/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The example site: a few pages that show Kiln's core — routing with
 * converters and a regex rule, url_for, a blueprint with its own hook,
 * app hooks, abort with a custom 404 page, cookies, and a JSON API — plus
 * templates and a blog whose posts live in the database (models,
 * migrations, a ListView with pagination and a DetailView).
 * scripts/quickstart serves it behind nginx; tests/integration/site.sh
 * checks every page through nginx.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep, under -std=c11 */

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kiln/kiln.h>

/* The posts of the template page (/posts/); the blog's are in the database. */
static const char *const posts[] = { "Post 1", "Post 2", "Post 3" };

/*
 * The blog's models: an author and their posts, newest first. Tables come
 * from migrations/blog/ (`site makemigrations` wrote them, `site migrate`
 * applies them, on SQLite or MariaDB alike).
 */
static const kiln_field author_fields[] = {
	{ .name = "id", .type = KILN_FIELD_AUTO },
	{ .name = "name", .type = KILN_FIELD_CHAR, .max_length = 100 },
};
static const kiln_model Author = {
	.app_label = "blog",
	.name = "Author",
	.table = "blog_author",
	.fields = author_fields,
	.nfields = 2,
};

static const char *const post_order[] = { "-created", "-id", NULL };
static const kiln_field post_fields[] = {
	{ .name = "id", .type = KILN_FIELD_AUTO },
	{ .name = "title", .type = KILN_FIELD_CHAR, .max_length = 200 },
	{ .name = "body", .type = KILN_FIELD_TEXT },
	{ .name = "author",
	    .type = KILN_FIELD_FK,
	    .to = &Author,
	    .on_delete = KILN_ON_DELETE_CASCADE,
	    .related_name = "posts" },
	{ .name = "created",
	    .type = KILN_FIELD_DATETIME,
	    .flags = KILN_F_AUTO_NOW_ADD },
};
static const kiln_model Post = {
	.app_label = "blog",
	.name = "Post",
	.table = "blog_post",
	.fields = post_fields,
	.nfields = 5,
	.ordering = post_order,
};

/* Appends s to resp's body HTML-escaped. */
static void
write_escaped(kiln_req *req, kiln_resp *resp, const char *s)
{
	const char *rep;

	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '&':
			rep = "&amp;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#x27;";
			break;
		default:
			rep = NULL;
			break;
		}
		if ((rep != NULL ? kiln_resp_write(resp, rep, strlen(rep)) :
				   kiln_resp_write(resp, s, 1)) != KILN_OK)
			kiln_abort(req, 500);
	}
}

/* Starts an HTML page with the site's layout. */
static kiln_resp *
page(kiln_req *req, int status, const char *title)
{
	kiln_resp *resp = kiln_resp_new(req, status);

	if (kiln_resp_printf_body(resp,
		"<!doctype html>\n<html><head><meta charset=\"utf-8\">"
		"<title>%s</title>\n"
		"<link rel=\"stylesheet\" href=\"/static/site.css\"></head>\n"
		"<body><nav><a href=\"%s\">Home</a> <a "
		"href=\"%s\">Blog</a></nav>\n",
		title, kiln_url_for(req, "index", NULL),
		kiln_url_for(req, "blog.index", NULL)) != KILN_OK)
		kiln_abort(req, 500);
	return resp;
}

static kiln_resp *
end_page(kiln_req *req, kiln_resp *resp)
{
	if (kiln_resp_printf_body(resp, "</body></html>\n") != KILN_OK)
		kiln_abort(req, 500);
	return resp;
}

static kiln_resp *
index_view(kiln_req *req)
{
	kiln_resp *resp = page(req, 200, "Kiln");

	if (kiln_resp_printf_body(resp,
		"<h1>Welcome to Kiln</h1>\n<p>Hello, %s.</p>\n<ul>\n"
		"<li><a href=\"%s\">Say hello</a></li>\n"
		"<li><a href=\"%s\">First post</a></li>\n"
		"<li><a href=\"%s\">Archive 2024</a></li>\n"
		"<li><a href=\"%s\">Server status (JSON)</a></li>\n"
		"<li><a href=\"%s\">All posts (a template)</a></li>\n</ul>\n",
		(const char *)kiln_g_get(req, "visitor"),
		kiln_url_for(req, "hello", "name", "world", NULL),
		kiln_url_for(req, "post", "id", "1", NULL),
		kiln_url_for(req, "archive", "year", "2024", NULL),
		kiln_url_for(req, "api.status", NULL),
		kiln_url_for(req, "posts", NULL)) != KILN_OK)
		kiln_abort(req, 500);
	return end_page(req, resp);
}

static kiln_resp *
hello_view(kiln_req *req)
{
	kiln_resp *resp = page(req, 200, "Hello");

	if (kiln_resp_printf_body(resp, "<p>Hello, ") != KILN_OK)
		kiln_abort(req, 500);
	write_escaped(req, resp, kiln_arg_str(req, "name"));
	if (kiln_resp_printf_body(resp, "!</p>\n") != KILN_OK)
		kiln_abort(req, 500);
	return end_page(req, resp);
}

static kiln_resp *
post_view(kiln_req *req)
{
	int64_t id = kiln_arg_int(req, "id");
	kiln_resp *resp;

	if (id < 1 || id > 3)
		kiln_abort_msg(req, 404, "there is no post %lld",
		    (long long)id);
	resp = page(req, 200, posts[id - 1]);
	if (kiln_resp_printf_body(resp, "<h1>%s</h1>\n", posts[id - 1]) !=
	    KILN_OK)
		kiln_abort(req, 500);
	return end_page(req, resp);
}

/* Echoes a route argument: tags, items and files share this view. */
static kiln_resp *
echo_arg(kiln_req *req, const char *label, const char *arg)
{
	kiln_resp *resp = page(req, 200, label);

	if (kiln_resp_printf_body(resp, "<p>%s: ", label) != KILN_OK)
		kiln_abort(req, 500);
	write_escaped(req, resp, kiln_arg_str(req, arg));
	return end_page(req, resp);
}

static kiln_resp *
tag_view(kiln_req *req)
{
	return echo_arg(req, "Tag", "tag");
}

static kiln_resp *
item_view(kiln_req *req)
{
	return echo_arg(req, "Item", "id");
}

static kiln_resp *
file_view(kiln_req *req)
{
	return echo_arg(req, "File", "p");
}

static kiln_resp *
archive_view(kiln_req *req)
{
	kiln_resp *resp = page(req, 200, "Archive");

	/* The regex route's group is four digits: safe to print as is. */
	if (kiln_resp_printf_body(resp, "<h1>Archive %s</h1>\n",
		kiln_arg_str(req, "year")) != KILN_OK)
		kiln_abort(req, 500);
	return end_page(req, resp);
}

static kiln_resp *
about_view(kiln_req *req)
{
	kiln_resp *resp = page(req, 200, "About");

	if (kiln_resp_printf_body(resp,
		"<h1>About</h1><p>Kiln is a web "
		"framework for C.</p>\n") != KILN_OK)
		kiln_abort(req, 500);
	return end_page(req, resp);
}

static kiln_resp *
pid_view(kiln_req *req)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	return kiln_resp_text(req, 200, "text/plain; charset=utf-8",
	    kiln_str_c(buf));
}

/*
 * Test views, answering 404 unless the settings say [site] test_views =
 * true (the integration tests use them; never enable them in
 * production). /slow?ms=N sleeps, /crash dereferences NULL.
 */
static void
need_test_views(kiln_req *req)
{
	const char *on = kiln_setting_str(kiln_req_app(req), "site.test_views");

	if (on == NULL || strcmp(on, "true") != 0)
		kiln_abort(req, 404);
}

static kiln_resp *
slow_view(kiln_req *req)
{
	const kiln_str *ms = kiln_req_arg(req, "ms");
	int64_t n = 100;
	struct timespec ts;

	need_test_views(req);
	if (ms != NULL &&
	    (kiln_str_to_i64(*ms, &n) != KILN_OK || n < 0 || n > 120000))
		kiln_abort_msg(req, 400, "ms must be 0 to 120000");
	ts.tv_sec = n / 1000;
	ts.tv_nsec = (n % 1000) * 1000000;
	nanosleep(&ts, NULL);
	return kiln_resp_printf(req, 200, "slept %lld ms\n", (long long)n);
}

static kiln_resp *
crash_view(kiln_req *req)
{
	volatile int *p = NULL;

	need_test_views(req);
	*p =
	    1; /* a deliberate crash: the worker dies, the master replaces it */
	return NULL;
}

static kiln_resp *
cookie_set_view(kiln_req *req)
{
	kiln_cookie_opts o = { .http_only = true, .samesite = "Lax" };
	kiln_resp *resp =
	    kiln_resp_text(req, 200, "text/plain", KILN_STR("set\n"));

	if (kiln_resp_set_cookie(resp, "flavour", "oatmeal", &o) != KILN_OK)
		kiln_abort(req, 500);
	return resp;
}

static kiln_resp *
cookie_get_view(kiln_req *req)
{
	const kiln_str *v = kiln_req_cookie(req, "flavour");

	return kiln_resp_printf(req, 200, "flavour=%.*s\n",
	    v != NULL ? (int)v->len : 6, v != NULL ? v->ptr : "(none)");
}

static kiln_resp *
api_status_view(kiln_req *req)
{
	kiln_arena *a = kiln_req_arena(req);
	kiln_val *o = kiln_val_map(a);

	if (o == NULL ||
	    kiln_val_set(o, "ok", kiln_val_bool(a, true)) != KILN_OK ||
	    kiln_val_set(o, "pid", kiln_val_int(a, getpid())) != KILN_OK)
		kiln_abort(req, 500);
	return kiln_resp_json(req, 200, o);
}

static kiln_resp *
api_echo_view(kiln_req *req)
{
	kiln_arena *a = kiln_req_arena(req);
	kiln_val *in = kiln_req_json(req);
	kiln_val *o = kiln_val_map(a);

	if (in == NULL)
		kiln_abort_msg(req, 415, "send application/json");
	if (o == NULL || kiln_val_set(o, "you_sent", in) != KILN_OK)
		kiln_abort(req, 500);
	return kiln_resp_json(req, 200, o);
}

/* JSON errors for the API blueprint, HTML elsewhere. */
static kiln_resp *
api_error(kiln_req *req, int status)
{
	kiln_arena *a = kiln_req_arena(req);
	kiln_val *o = kiln_val_map(a);

	if (o == NULL ||
	    kiln_val_set(o, "error",
		kiln_val_cstr(a, kiln_status_reason(status))) != KILN_OK ||
	    kiln_val_set(o, "detail", kiln_val_cstr(a, kiln_req_errmsg(req))) !=
		KILN_OK)
		return NULL;
	return kiln_resp_json(req, status, o);
}

static kiln_resp *
not_found(kiln_req *req, int status)
{
	kiln_resp *resp = page(req, status, "Page not found");

	if (kiln_resp_printf_body(resp, "<h1>Page not found</h1>\n<p>") !=
	    KILN_OK)
		kiln_abort(req, 500);
	write_escaped(req, resp, kiln_req_errmsg(req));
	if (kiln_resp_printf_body(resp, "</p>\n") != KILN_OK)
		kiln_abort(req, 500);
	return end_page(req, resp);
}

/* The blog's posts with their authors, in one query (select_related). */
static kiln_qs *
posts_with_authors(kiln_req *req)
{
	return kiln_qs_select_related(kiln_objects(req, &Post), "author");
}

/* ListView: templates/blog/post_list.html, five posts a page. */
static const kiln_list_view blog_list = {
	.model = &Post,
	.paginate_by = 5,
	.queryset = posts_with_authors,
};

/* DetailView: templates/blog/post_detail.html, 404 for an unknown pk. */
static const kiln_detail_view blog_post = {
	.model = &Post,
	.queryset = posts_with_authors,
};

static kiln_resp *
blog_index(kiln_req *req)
{
	return kiln_render_list(req, &blog_list);
}

static kiln_resp *
blog_detail(kiln_req *req)
{
	return kiln_render_detail(req, &blog_post);
}

/* The posts `site seed` writes into an empty blog. */
static const char *const seed_posts[][2] = {
	{ "Hello, Kiln", "A web framework for C, behind nginx." },
	{ "Templates",
	    "Django's template language, compiled once per worker." },
	{ "The ORM", "Models in C, lazy QuerySets, SQLite and MariaDB." },
	{ "Blueprints", "Routes, hooks and error handlers under a prefix." },
	{ "The pool", "Prefork FastCGI workers, reloaded without a gap." },
	{ "Signals", "request_started, post_save and your own." },
	{ "Static files", "Served by nginx, never by a worker." },
};

#define SEED_POSTS (sizeof(seed_posts) / sizeof(seed_posts[0]))

/*
 * `site seed`: gives an empty blog an author and seven posts, so the
 * example has something to show (and to paginate), dated a day apart
 * from 1 January 2026 with one bulk_update (Django's bulk_update: one
 * UPDATE for every row; auto_now_add set "created" when each was saved).
 * Does nothing when there are posts already.
 */
static int
cmd_seed(kiln_app *app, int argc, char **argv)
{
	kiln_arena *a = kiln_arena_new(0);
	kiln_row *author, *p, *rows[SEED_POSTS];
	char when[32];
	int64_t n = 0;
	size_t i;
	int rc = 1;

	(void)argc;
	(void)argv;
	if (a == NULL)
		return 1;
	if (kiln_qs_count(kiln_qs_new(app, a, &Post), &n) != KILN_OK)
		goto out;
	if (n > 0) {
		printf("seed: the blog has %lld posts already\n", (long long)n);
		rc = 0;
		goto out;
	}
	author = kiln_row_new(app, a, &Author);
	if (author == NULL ||
	    kiln_row_set_str(author, "name", "Ada") != KILN_OK ||
	    kiln_row_save(author) != KILN_OK)
		goto out;
	for (i = 0; i < SEED_POSTS; i++) {
		rows[i] = p = kiln_row_new(app, a, &Post);
		if (p == NULL ||
		    kiln_row_set_str(p, "title", seed_posts[i][0]) != KILN_OK ||
		    kiln_row_set_str(p, "body", seed_posts[i][1]) != KILN_OK ||
		    kiln_row_set_int(p, "author", kiln_row_pk(author)) !=
			KILN_OK ||
		    kiln_row_save(p) != KILN_OK)
			goto out;
		snprintf(when, sizeof(when), "2026-01-%02zu 09:00:00", i + 1);
		if (kiln_row_set_str(p, "created", when) != KILN_OK)
			goto out;
	}
	if (kiln_orm_bulk_update(rows, SEED_POSTS, &n, "created", NULL) !=
	    KILN_OK)
		goto out;
	printf("seed: wrote 1 author and %lld posts\n", (long long)n);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "seed: %s\n", kiln_app_errmsg(app));
	kiln_arena_free(a);
	return rc;
}

static const kiln_command site_commands[] = {
	{ "seed", "", "write sample blog posts into an empty database",
	    cmd_seed },
};

/*
 * The posts page, rendered from templates/posts.html (extends base.html,
 * a loop with cycle and empty, an include, filters, {% now %}).
 */
static kiln_resp *
posts_view(kiln_req *req)
{
	kiln_arena *a = kiln_req_arena(req);
	kiln_val *ctx = kiln_val_map(a), *list = kiln_val_list(a), *p;
	size_t i;

	if (ctx == NULL || list == NULL)
		kiln_abort(req, 500);
	for (i = 0; i < 3; i++) {
		p = kiln_val_map(a);
		if (p == NULL ||
		    kiln_val_set(p, "id", kiln_val_int(a, (int64_t)i + 1)) !=
			KILN_OK ||
		    kiln_val_set(p, "title", kiln_val_cstr(a, posts[i])) !=
			KILN_OK ||
		    kiln_val_set(p, "published",
			kiln_val_datetime(a, 1709647629 + (int64_t)i * 86400,
			    0)) != KILN_OK ||
		    kiln_val_set(p, "body",
			kiln_val_cstr(a,
			    "Kiln renders <Django> templates, "
			    "compiled once per worker.")) != KILN_OK ||
		    kiln_val_push(list, p) != KILN_OK)
			kiln_abort(req, 500);
	}
	if (kiln_val_set(ctx, "posts", list) != KILN_OK)
		kiln_abort(req, 500);
	return kiln_render(req, "posts.html", ctx);
}

/* App after hook: every dynamic response says who served it. */
static kiln_resp *
served_by(kiln_req *req, kiln_resp *resp)
{
	if (kiln_resp_header_set(resp, "X-Served-By", "kiln") != KILN_OK)
		kiln_abort(req, 500);
	return resp;
}

/* Blueprint after hook: only the blog's responses. */
static kiln_resp *
blog_mark(kiln_req *req, kiln_resp *resp)
{
	if (kiln_resp_header_set(resp, "X-Blog", "1") != KILN_OK)
		kiln_abort(req, 500);
	return resp;
}

/* App before hook: stores the visitor's name in g for the views. */
static kiln_resp *
load_visitor(kiln_req *req)
{
	const kiln_str *v = kiln_req_cookie(req, "visitor");
	char *name;
	size_t i;

	name = kiln_arena_strdup(kiln_req_arena(req), "guest");
	/* Only a plain word is accepted: it is printed without escaping. */
	for (i = 0; v != NULL && i < v->len; i++) {
		if (!isalnum((unsigned char)v->ptr[i]))
			break;
	}
	if (v != NULL && v->len > 0 && v->len < 32 && i == v->len)
		name = kiln_arena_strndup(kiln_req_arena(req), v->ptr, v->len);
	if (name == NULL || kiln_g_set(req, "visitor", name) != KILN_OK)
		kiln_abort(req, 500);
	return NULL;
}

#define CHECK(expr)                                                          \
	do {                                                                 \
		if ((expr) != KILN_OK) {                                     \
			fprintf(stderr, "site: %s\n", kiln_app_errmsg(app)); \
			return 1;                                            \
		}                                                            \
	} while (0)

int
main(int argc, char **argv)
{
	kiln_app *app = kiln_app_new("site");
	kiln_bp *root, *blog, *api;
	int rc;

	if (app == NULL)
		return 1;
	root = kiln_app_bp(app);
	CHECK(kiln_route(root, "GET", "/", index_view, "index"));
	CHECK(kiln_route(root, "GET", "/hello/<name>/", hello_view, "hello"));
	CHECK(kiln_route(root, "GET", "/posts/<int:id>/", post_view, "post"));
	CHECK(kiln_route(root, "GET", "/tags/<slug:tag>/", tag_view, "tag"));
	CHECK(kiln_route(root, "GET", "/items/<uuid:id>/", item_view, "item"));
	CHECK(kiln_route(root, "GET", "/files/<path:p>", file_view, "file"));
	CHECK(kiln_route_re(root, "GET", "/archive/(?<year>[0-9]{4})/",
	    archive_view, "archive"));
	CHECK(kiln_route(root, "GET", "/about/", about_view, "about"));
	CHECK(kiln_route(root, "GET", "/pid", pid_view, "pid"));
	CHECK(kiln_route(root, "GET", "/cookie/set", cookie_set_view,
	    "cookie_set"));
	CHECK(kiln_route(root, "GET", "/cookie/get", cookie_get_view,
	    "cookie_get"));
	CHECK(kiln_use(app, &kiln_templates));
	CHECK(kiln_use(app, &kiln_db));
	CHECK(kiln_model_register(app, &Author));
	CHECK(kiln_model_register(app, &Post));
	CHECK(kiln_add_commands(app, site_commands,
	    sizeof(site_commands) / sizeof(site_commands[0])));
	CHECK(kiln_route(root, "GET", "/posts/", posts_view, "posts"));
	CHECK(kiln_template_view(root, "/colophon/", "about.html", "colophon"));
	CHECK(kiln_route(root, "GET", "/slow", slow_view, "slow"));
	CHECK(kiln_route(root, "GET", "/crash", crash_view, "crash"));
	CHECK(kiln_after_request(root, served_by));
	CHECK(kiln_before_request(root, load_visitor));
	CHECK(kiln_errorhandler(root, 404, not_found));

	blog = kiln_bp_new(app, "blog", "/blog");
	if (blog == NULL)
		return 1;
	CHECK(kiln_route(blog, "GET", "/", blog_index, "index"));
	CHECK(kiln_route(blog, "GET", "/<int:pk>/", blog_detail, "detail"));
	CHECK(kiln_after_request(blog, blog_mark));
	CHECK(kiln_register_bp(app, blog, NULL, NULL));

	api = kiln_bp_new(app, "api", "/api");
	if (api == NULL)
		return 1;
	CHECK(kiln_route(api, "GET", "/status", api_status_view, "status"));
	CHECK(kiln_route(api, "POST", "/echo", api_echo_view, "echo"));
	CHECK(kiln_errorhandler(api, 400, api_error));
	CHECK(kiln_errorhandler(api, 415, api_error));
	CHECK(kiln_register_bp(app, api, NULL, NULL));

	rc = kiln_main(app, argc, argv);
	kiln_app_free(app);
	return rc;
}
