/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The template engine: the differential corpus (tests/template/, whose
 * expected outputs Django 3.2 produced), error messages with template,
 * line and column, limits on hostile templates, the cache and debug
 * reload, user filters and tags, and the extension in an app: kiln_render
 * with context processors, {% url %}, {% static %} with a manifest,
 * TemplateView, RedirectView and collectstatic.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include <kiln/kiln.h>
#include <kiln/template.h>

#include "suites.h"

#ifndef KILN_SRCDIR
#define KILN_SRCDIR "."
#endif

/* Reads a whole file (malloc'd, NUL-terminated) or returns NULL. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f;
	char *buf;
	long n;

	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
		fclose(f);
		return NULL;
	}
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf != NULL) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

static void
spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Renders src with the JSON context ctx; returns the output or the error. */
static const char *
render(kiln_arena *a, kiln_template_env *env, const char *src, const char *ctx,
    kiln_err *rc)
{
	static char err[512];
	kiln_val *c = NULL;
	kiln_str out;

	if (ctx != NULL) {
		c = kiln_template_json_context(a, kiln_str_c(ctx), err,
		    sizeof(err));
		ck_assert_msg(c != NULL, "context: %s", err);
	}
	*rc = kiln_template_render_str(env, kiln_str_c(src), c, a, &out, err,
	    sizeof(err));
	return *rc == KILN_OK ? out.ptr : err;
}

START_TEST(test_template_corpus)
{
	kiln_arena *a = kiln_arena_new(0);
	kiln_template_env *env = kiln_template_env_new(NULL);
	char path[1024], err[512];
	char *text, *exp;
	kiln_val *cases, *c, *ctx;
	kiln_str cj, out;
	size_t n, en, i, fails = 0;
	kiln_err rc;
	bool experr, ok;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(env);
	snprintf(path, sizeof(path), "%s/tests/template/lib", KILN_SRCDIR);
	ck_assert_int_eq(kiln_template_env_add_dir(env, path), KILN_OK);
	snprintf(path, sizeof(path), "%s/tests/template/cases.json",
	    KILN_SRCDIR);
	text = slurp(path, &n);
	ck_assert_msg(text != NULL, "cannot read %s", path);
	cases = kiln_json_parse(a, (kiln_str){ text, n }, 64, err, sizeof(err));
	ck_assert_msg(cases != NULL, "cases.json: %s", err);
	ck_assert_uint_ge(kiln_val_len(cases), 150);
	for (i = 0; i < kiln_val_len(cases); i++) {
		c = kiln_val_at(cases, i);
		ck_assert_int_eq(kiln_json_dump(a, kiln_val_get(c, "context"),
				     &cj),
		    KILN_OK);
		ctx = kiln_template_json_context(a, cj, err, sizeof(err));
		ck_assert_ptr_nonnull(ctx);
		snprintf(path, sizeof(path),
		    "%s/tests/template/expected/%s.out", KILN_SRCDIR,
		    kiln_val_get(c, "name")->u.s.ptr);
		exp = slurp(path, &en);
		ck_assert_msg(exp != NULL, "missing %s", path);
		rc = kiln_template_render_str(env,
		    kiln_val_get(c, "template")->u.s, ctx, a, &out, err,
		    sizeof(err));
		experr = en > 7 && memcmp(exp, "!ERROR ", 7) == 0;
		ok = experr ? rc != KILN_OK :
			      rc == KILN_OK && out.len == en &&
			memcmp(out.ptr, exp, en) == 0;
		if (!ok) {
			fails++;
			fprintf(stderr,
			    "template case %s: expected [%s] got "
			    "[%s]\n",
			    kiln_val_get(c, "name")->u.s.ptr, exp,
			    rc == KILN_OK ? out.ptr : err);
		}
		free(exp);
	}
	ck_assert_msg(fails == 0, "%zu of %zu corpus cases differ from Django",
	    fails, kiln_val_len(cases));
	free(text);
	kiln_template_env_free(env);
	kiln_arena_free(a);
}
END_TEST

START_TEST(test_template_syntax_error_names_place)
{
	kiln_arena *a = kiln_arena_new(0);
	kiln_err rc;
	const char *r;

	r = render(a, NULL, "line one\n  {% if x %}never closed", NULL, &rc);
	ck_assert_int_eq(rc, KILN_EPARSE);
	ck_assert_msg(strstr(r, "<string>:2:3:") != NULL, "%s", r);
	ck_assert_msg(strstr(r, "'endif'") != NULL, "%s", r);
	r = render(a, NULL, "ab\n{{ x|nosuch }}", NULL, &rc);
	ck_assert_int_eq(rc, KILN_EPARSE);
	ck_assert_msg(strstr(r, "<string>:2:1:") != NULL &&
		strstr(r, "nosuch") != NULL,
	    "%s", r);
	r = render(a, NULL, "{% frob %}", NULL, &rc);
	ck_assert_int_eq(rc, KILN_EPARSE);
	ck_assert_msg(strstr(r, "frob") != NULL, "%s", r);
	r = render(a, NULL, "{% for x in l %}{% endif %}", NULL, &rc);
	ck_assert_msg(strstr(r, "expected 'empty' or 'endfor'") != NULL, "%s",
	    r);
	kiln_arena_free(a);
}
END_TEST

START_TEST(test_template_missing_and_escape)
{
	kiln_arena *a = kiln_arena_new(0);
	kiln_err rc;
	const char *r;

	r = render(a, NULL, "[{{ a.b.c }}|{{ x|upper }}]", "{}", &rc);
	ck_assert_int_eq(rc, KILN_OK);
	ck_assert_str_eq(r, "[|]");
	r = render(a, NULL, "{{ s }}{{ t }}",
	    "{\"s\": \"<&>\\\"'\", \"t\": {\"$safe\": \"<b>\"}}", &rc);
	ck_assert_str_eq(r, "&lt;&amp;&gt;&quot;&#x27;<b>");
	kiln_arena_free(a);
}
END_TEST

START_TEST(test_template_limits)
{
	kiln_arena *a = kiln_arena_new(0);
	kiln_template_limits lim = { .max_depth = 8,
		.max_tokens = 50,
		.max_output = 100,
		.max_source = 1000 };
	kiln_template_env *env = kiln_template_env_new(&lim);
	char src[2000];
	kiln_err rc;
	const char *r;
	size_t i;

	src[0] = '\0';
	for (i = 0; i < 10; i++)
		strcat(src, "{% if 1 %}");
	r = render(a, env, src, NULL, &rc);
	ck_assert_int_eq(rc, KILN_EPARSE);
	ck_assert_msg(strstr(r, "nested") != NULL, "%s", r);
	src[0] = '\0';
	for (i = 0; i < 60; i++)
		strcat(src, "{{ x }}");
	r = render(a, env, src, NULL, &rc);
	ck_assert_int_eq(rc, KILN_ELIMIT);
	memset(src, 'x', 1500);
	src[1500] = '\0';
	r = render(a, env, src, NULL, &rc);
	ck_assert_int_eq(rc, KILN_ELIMIT);
	r = render(a, env,
	    "{% for i in l %}{% for j in l %}xxxxx{% endfor %}"
	    "{% endfor %}",
	    "{\"l\": [1,2,3,4,5,6]}", &rc);
	ck_assert_int_eq(rc, KILN_ELIMIT);
	ck_assert_msg(strstr(r, "output") != NULL, "%s", r);
	kiln_template_env_free(env);
	kiln_arena_free(a);
}
END_TEST

START_TEST(test_template_recursive_include_is_bounded)
{
	kiln_arena *a = kiln_arena_new(0);
	kiln_template_env *env = kiln_template_env_new(NULL);
	kiln_str out;
	char err[512];
	kiln_err rc;

	ck_assert_int_eq(kiln_template_env_add_source(env, "loop.html",
			     KILN_STR("x{% include \"loop.html\" %}")),
	    KILN_OK);
	rc = kiln_template_render(env, "loop.html", NULL, a, &out, err,
	    sizeof(err));
	ck_assert_int_eq(rc, KILN_ELIMIT);
	ck_assert_msg(strstr(err, "loop.html:1:2:") != NULL, "%s", err);
	ck_assert_int_eq(kiln_template_env_add_source(env, "ext.html",
			     KILN_STR("{% extends \"ext.html\" %}")),
	    KILN_OK);
	rc = kiln_template_render(env, "ext.html", NULL, a, &out, err,
	    sizeof(err));
	ck_assert_int_eq(rc, KILN_ELIMIT);
	rc = kiln_template_render(env, "../etc/passwd", NULL, a, &out, err,
	    sizeof(err));
	ck_assert_int_eq(rc, KILN_ENOTFOUND);
	kiln_template_env_free(env);
	kiln_arena_free(a);
}
END_TEST

START_TEST(test_template_cache_and_reload)
{
	kiln_arena *a = kiln_arena_new(0);
	kiln_template_env *env = kiln_template_env_new(NULL);
	char dir[] = "/tmp/kiln-tpl-XXXXXX", path[256], err[256];
	struct timespec ts[2];
	kiln_str out;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/page.html", dir);
	spit(path, "one {{ x }}");
	ck_assert_int_eq(kiln_template_env_add_dir(env, dir), KILN_OK);
	ck_assert_int_eq(kiln_template_render(env, "page.html", NULL, a, &out,
			     err, sizeof(err)),
	    KILN_OK);
	ck_assert_str_eq(out.ptr, "one ");
	/* Without reload the compiled template is kept. */
	spit(path, "two");
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) + 10;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	ck_assert_int_eq(kiln_template_render(env, "page.html", NULL, a, &out,
			     err, sizeof(err)),
	    KILN_OK);
	ck_assert_str_eq(out.ptr, "one ");
	kiln_template_env_set_reload(env, true);
	ck_assert_int_eq(kiln_template_render(env, "page.html", NULL, a, &out,
			     err, sizeof(err)),
	    KILN_OK);
	ck_assert_str_eq(out.ptr, "two");
	ck_assert_int_eq(kiln_template_check(env, "nope.html", err,
			     sizeof(err)),
	    KILN_ENOTFOUND);
	unlink(path);
	rmdir(dir);
	kiln_template_env_free(env);
	kiln_arena_free(a);
}
END_TEST

static const kiln_val *
shout(kiln_arena *a, const kiln_val *v, const kiln_val *arg, bool ae)
{
	(void)ae;
	return kiln_val_str(a,
	    kiln_str_c(kiln_arena_printf(a, "%s%s",
		v->type == KILN_VAL_STR ? v->u.s.ptr : "?",
		arg != NULL ? arg->u.s.ptr : "!")));
}

static const kiln_val *
sum_tag(kiln_arena *a, const kiln_val *const *args, size_t n, void *data)
{
	int64_t s = *(const int *)data;
	size_t i;

	for (i = 0; i < n; i++)
		s += args[i]->type == KILN_VAL_INT ? args[i]->u.i : 0;
	return kiln_val_int(a, s);
}

START_TEST(test_template_user_filter_and_tag)
{
	kiln_arena *a = kiln_arena_new(0);
	kiln_template_env *env = kiln_template_env_new(NULL);
	static const int base = 100;
	kiln_err rc;
	const char *r;

	ck_assert_int_eq(kiln_template_add_filter(env, "shout", shout, 0),
	    KILN_OK);
	ck_assert_int_eq(kiln_template_add_filter(env, "bad name", shout, 0),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_template_add_tag(env, "sum", sum_tag,
			     (void *)(uintptr_t)&base),
	    KILN_OK);
	r = render(a, env,
	    "{{ s|shout }} {{ s|shout:\"?\" }} {% sum 1 n 3 %} "
	    "{% sum n as t %}[{{ t }}]",
	    "{\"s\": \"<hi>\", \"n\": 2}", &rc);
	ck_assert_int_eq(rc, KILN_OK);
	ck_assert_str_eq(r, "&lt;hi&gt;! &lt;hi&gt;? 106 [102]");
	kiln_template_env_free(env);
	kiln_arena_free(a);
}
END_TEST

START_TEST(test_template_datetime_context)
{
	kiln_arena *a = kiln_arena_new(0);
	char err[128];
	kiln_val *v;
	kiln_str js;

	v = kiln_template_json_context(a,
	    KILN_STR("{\"d\": {\"$datetime\": \"2024-02-29T23:59:58.5\"}}"),
	    err, sizeof(err));
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(kiln_val_get(v, "d")->type, KILN_VAL_DATETIME);
	ck_assert_int_eq(kiln_val_get(v, "d")->u.dt.usec, 500000);
	ck_assert_int_eq(kiln_json_dump(a, v, &js), KILN_OK);
	ck_assert_str_eq(js.ptr, "{\"d\":\"2024-02-29T23:59:58.500000\"}");
	ck_assert_ptr_null(kiln_template_json_context(a,
	    KILN_STR("{\"d\": {\"$datetime\": \"2023-02-29T00:00:00\"}}"), err,
	    sizeof(err)));
	kiln_arena_free(a);
}
END_TEST

/* --- the extension in an app ------------------------------------------ */

static kiln_resp *
page(kiln_req *req)
{
	kiln_val *ctx = kiln_val_map(kiln_req_arena(req));

	if (kiln_val_set(ctx, "name",
		kiln_val_cstr(kiln_req_arena(req), "<Ann>")) != KILN_OK)
		kiln_abort(req, 500);
	return kiln_render(req, "page.html", ctx);
}

/* Renders the built-in error page template. */
static kiln_resp *
teapot(kiln_req *req)
{
	kiln_arena *a = kiln_req_arena(req);
	kiln_val *ctx = kiln_val_map(a);

	if (kiln_val_set(ctx, "status", kiln_val_int(a, 418)) != KILN_OK ||
	    kiln_val_set(ctx, "reason", kiln_val_cstr(a, "teapot")) !=
		KILN_OK ||
	    kiln_val_set(ctx, "message", kiln_val_cstr(a, "<short>")) !=
		KILN_OK)
		kiln_abort(req, 500);
	return kiln_render(req, "kiln/error.html", ctx);
}

static kiln_resp *
broken(kiln_req *req)
{
	return kiln_render(req, "broken.html", NULL);
}

static kiln_resp *
post(kiln_req *req)
{
	return kiln_resp_printf(req, 200, "post %s", kiln_arg_str(req, "id"));
}

static kiln_err
add_site(kiln_req *req, kiln_val *ctx)
{
	return kiln_val_set(ctx, "site",
	    kiln_val_cstr(kiln_req_arena(req), "Kiln site"));
}

/* An app with templates in a temporary directory. */
static kiln_app *
tpl_app(char *dir)
{
	kiln_app *app = kiln_app_new("tplapp");
	char path[256];

	ck_assert_ptr_nonnull(app);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/page.html", dir);
	spit(path,
	    "{{ site }}|{{ name }}|{{ request.path }}|{{ request.GET.q }}"
	    "|{{ STATIC_URL }}|{{ MEDIA_URL }}|{% url 'post' id=7 %}"
	    "{% url 'post' 8 %}|"
	    "{% static 'css/a.css' %}|{{ view.args.slug }}");
	snprintf(path, sizeof(path), "%s/broken.html", dir);
	spit(path, "ok\n{% for %}");
	ck_assert_int_eq(kiln_use(app, &kiln_templates), KILN_OK);
	ck_assert_int_eq(kiln_setting_set(app, "templates.dirs",
			     "/nonexistent"),
	    KILN_OK);
	ck_assert_int_eq(kiln_templates_add_dir(app, dir), KILN_OK);
	ck_assert_int_eq(kiln_context_processor(app, add_site), KILN_OK);
	ck_assert_int_eq(kiln_route(kiln_app_bp(app), "GET", "/page", page,
			     "page"),
	    KILN_OK);
	ck_assert_int_eq(kiln_route(kiln_app_bp(app), "GET", "/teapot", teapot,
			     "teapot"),
	    KILN_OK);
	ck_assert_int_eq(kiln_route(kiln_app_bp(app), "GET", "/broken", broken,
			     "broken"),
	    KILN_OK);
	ck_assert_int_eq(kiln_route(kiln_app_bp(app), "GET", "/post/<int:id>",
			     post, "post"),
	    KILN_OK);
	ck_assert_int_eq(kiln_template_view(kiln_app_bp(app), "/about/<slug>",
			     "page.html", "about"),
	    KILN_OK);
	ck_assert_int_eq(kiln_redirect_view(kiln_app_bp(app), "/old", "/page",
			     301, "old"),
	    KILN_OK);
	return app;
}

static void
rm_tree(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_template_render_in_app)
{
	char dir[] = "/tmp/kiln-tplapp-XXXXXX";
	kiln_app *app = tpl_app(dir);
	const kiln_client_resp *r;
	kiln_client *c;

	ck_assert_int_eq(kiln_app_configure(app, NULL), KILN_OK);
	c = kiln_client_new(app);
	ck_assert_ptr_nonnull(c);
	r = kiln_client_get(c, "/page?q=a%26b");
	ck_assert_msg(r->status == 200, "%d %s", r->status, r->body.ptr);
	ck_assert_str_eq(r->body.ptr,
	    "Kiln site|&lt;Ann&gt;|/page|a&amp;b|"
	    "/static/|/media/|/post/7/post/8|"
	    "/static/css/a.css|");
	r = kiln_client_get(c, "/about/team");
	ck_assert_int_eq(r->status, 200);
	ck_assert_msg(strstr(r->body.ptr, "|team") != NULL, "%s", r->body.ptr);
	r = kiln_client_get(c, "/old");
	ck_assert_int_eq(r->status, 301);
	ck_assert_str_eq(kiln_client_resp_header(r, "Location")->ptr, "/page");
	r = kiln_client_get(c, "/broken");
	ck_assert_int_eq(r->status, 500);
	r = kiln_client_get(c, "/teapot");
	ck_assert_int_eq(r->status, 200);
	ck_assert_msg(strstr(r->body.ptr, "<title>418 teapot</title>") !=
		    NULL &&
		strstr(r->body.ptr, "<p>&lt;short&gt;</p>") != NULL,
	    "%s", r->body.ptr);
	kiln_client_free(c);
	kiln_app_free(app);
	rm_tree(dir);
}
END_TEST

/*
 * Returns the contents of the one file in root/sub whose name starts with
 * prefix and has a 12-hex-digit hash (in a static buffer).
 */
static const char *
slurp_hashed(const char *root, const char *sub, const char *prefix)
{
	static char buf[1024];
	char dpath[400], fpath[700];
	struct dirent *e;
	DIR *d;
	FILE *f;
	size_t n = 0;

	snprintf(dpath, sizeof(dpath), "%s/%s", root, sub);
	d = opendir(dpath);
	ck_assert_ptr_nonnull(d);
	buf[0] = '\0';
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 ||
		    strlen(e->d_name) != strlen(prefix) + 12 + 4)
			continue;
		snprintf(fpath, sizeof(fpath), "%s/%s", dpath, e->d_name);
		f = fopen(fpath, "r");
		ck_assert_ptr_nonnull(f);
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
	}
	closedir(d);
	return buf;
}

START_TEST(test_template_collectstatic_manifest)
{
	char dir[] = "/tmp/kiln-tplapp-XXXXXX";
	kiln_app *app = tpl_app(dir);
	char sdir[300], root[300], path[400], a0[] = "tplapp",
					      a1[] = "collectstatic";
	char *argv[] = { a0, a1, NULL };
	const kiln_client_resp *r;
	kiln_client *c;
	struct stat sb;

	snprintf(sdir, sizeof(sdir), "%s/static", dir);
	snprintf(root, sizeof(root), "%s/root", dir);
	ck_assert_int_eq(mkdir(sdir, 0755), 0);
	snprintf(path, sizeof(path), "%s/css", sdir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/css/a.css", sdir);
	spit(path, "hello");
	snprintf(path, sizeof(path), "%s/img", sdir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/img/b.png", sdir);
	spit(path, "hello");
	/* Sorted after a.css, so it is hashed after the file it points at. */
	snprintf(path, sizeof(path), "%s/css/site.css", sdir);
	spit(path,
	    "body{background:url(\"../img/b.png?v=1\")}"
	    "i{src:url(data:x)}u{x:url(/abs.png)}"
	    "a{x:url(a.css)}n{x:url(nope.png)}");
	setenv("KILN_STATIC_DIRS", sdir, 1);
	setenv("KILN_STATIC_ROOT", root, 1);
	setenv("KILN_STATIC_MANIFEST", "true", 1);
	ck_assert_int_eq(kiln_main(app, 2, argv), 0);
	/* md5("hello") = 5d41402abc4b2a76b9719d911017c592 */
	snprintf(path, sizeof(path), "%s/css/a.5d41402abc4b.css", root);
	ck_assert_int_eq(stat(path, &sb), 0);
	snprintf(path, sizeof(path), "%s/css/a.css", root);
	ck_assert_int_eq(stat(path, &sb), 0);
	/* The hashed copy of site.css points at the hashed names. */
	ck_assert_str_eq(slurp_hashed(root, "css", "site."),
	    "body{background:url(\"../img/b.5d41402abc4b.png?v=1\")}"
	    "i{src:url(data:x)}u{x:url(/abs.png)}"
	    "a{x:url(a.5d41402abc4b.css)}n{x:url(nope.png)}");
	c = kiln_client_new(app);
	r = kiln_client_get(c, "/page");
	ck_assert_int_eq(r->status, 200);
	ck_assert_msg(strstr(r->body.ptr, "/static/css/a.5d41402abc4b.css") !=
		NULL,
	    "%s", r->body.ptr);
	kiln_client_free(c);
	kiln_app_free(app);
	rm_tree(dir);
}
END_TEST

Suite *
template_suite(void)
{
	Suite *s = suite_create("template");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_template_corpus);
	tcase_add_test(tc, test_template_syntax_error_names_place);
	tcase_add_test(tc, test_template_missing_and_escape);
	tcase_add_test(tc, test_template_limits);
	tcase_add_test(tc, test_template_recursive_include_is_bounded);
	tcase_add_test(tc, test_template_cache_and_reload);
	tcase_add_test(tc, test_template_user_filter_and_tag);
	tcase_add_test(tc, test_template_datetime_context);
	tcase_add_test(tc, test_template_render_in_app);
	tcase_add_test(tc, test_template_collectstatic_manifest);
	suite_add_tcase(s, tc);
	return s;
}
