/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The kiln_templates extension: one template environment per app (its
 * compiled templates are cached per worker, since each worker compiles
 * what it renders after fork), the templates.* and static.* settings,
 * kiln_render() with context processors, TemplateView and RedirectView.
 * Settings are read lazily, on the first render or in init_worker,
 * because kiln_use() runs before kiln_app_configure() has read the file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <kiln/kiln.h>

#include "kiln_int.h"
#include "template_int.h"

/* A TemplateView or RedirectView, found by its route's local name. */
typedef struct tpl_view {
	const char *name;   /* local route name */
	const char *target; /* template name or URL */
	int status;	    /* redirect status */
} tpl_view;

typedef struct tpl_state {
	kiln_app *app;
	kiln_template_env *env;
	bool ready;	  /* settings applied */
	kiln__ptrs dirs;  /* char *: kiln_templates_add_dir before ready */
	kiln__ptrs procs; /* kiln__fnbox of kiln_context_processor_fn */
	kiln__ptrs views; /* tpl_view */
} tpl_state;

/*
 * Built-in templates, found after the app's directories (which may
 * override them): a minimal layout and an error page for error handlers
 * (context: status, reason, message).
 */
static const struct {
	const char *name;
	const char *src;
} tpl_builtins[] = {
	{ "kiln/base.html",
	    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<title>{% block title %}Kiln{% endblock %}</title>"
	    "{% block head %}{% endblock %}</head>\n<body>"
	    "{% block content %}{% endblock %}</body></html>\n" },
	{ "kiln/error.html",
	    "{% extends \"kiln/base.html\" %}"
	    "{% block title %}{{ status }} {{ reason }}{% endblock %}"
	    "{% block content %}<h1>{{ status }} {{ reason }}</h1>"
	    "{% if message %}<p>{{ message }}</p>{% endif %}{% endblock %}" },
};

static kiln_err tpl_init_app(kiln_app *app, const kiln_ext *ext);
static kiln_err tpl_init_worker(kiln_app *app, const kiln_ext *ext);

static const kiln_setting_def tpl_settings[] = {
	{ "templates.dirs", KILN_SETTING_PATH, "templates", 0, 0,
	    "template directories, colon-separated, searched in order" },
	{ "templates.debug_reload", KILN_SETTING_BOOL, NULL, 0, 0,
	    "recompile templates whose file changed (default: app.debug)" },
	{ "static.dirs", KILN_SETTING_PATH, NULL, 0, 0,
	    "directories collectstatic copies (default: app.static_dir)" },
	{ "static.root", KILN_SETTING_PATH, "staticfiles", 0, 0,
	    "STATIC_ROOT: where collectstatic writes, nginx serves" },
	{ "static.manifest", KILN_SETTING_BOOL, "false", 0, 0,
	    "{% static %} uses STATIC_ROOT/staticfiles.json (hashed names)" },
};

static const kiln_command tpl_commands[] = {
	{ "collectstatic", "[--no-manifest]",
	    "copy static files into static.root with content-hashed names",
	    kiln__cmd_collectstatic },
};

const kiln_ext kiln_templates = {
	.name = "templates",
	.abi = KILN_EXT_ABI,
	.init_app = tpl_init_app,
	.init_worker = tpl_init_worker,
	.settings = tpl_settings,
	.nsettings = sizeof(tpl_settings) / sizeof(tpl_settings[0]),
	.commands = tpl_commands,
	.ncommands = sizeof(tpl_commands) / sizeof(tpl_commands[0]),
};

static void
free_env(void *data)
{
	kiln_template_env_free(data);
}

/* {% url %}: kiln_url_build on the app. */
static kiln_err
tpl_url(void *data, kiln_arena *a, const char *name, const kiln_kvs *args,
    kiln_str *out, char *err, size_t errlen)
{
	return kiln_url_build(data, a, name, args, out, err, errlen);
}

static kiln_err
tpl_init_app(kiln_app *app, const kiln_ext *ext)
{
	tpl_state *st;
	kiln_err rc;
	size_t i;

	st = kiln_arena_calloc(app->a, 1, sizeof(*st));
	if (st == NULL)
		return KILN_ENOMEM;
	st->app = app;
	st->env = kiln_template_env_new(NULL);
	if (st->env == NULL)
		return KILN_ENOMEM;
	rc = kiln_arena_cleanup_add(app->a, free_env, st->env);
	if (rc != KILN_OK) {
		kiln_template_env_free(st->env);
		return rc;
	}
	kiln_template_env_set_url_fn(st->env, tpl_url, app);
	for (i = 0; i < sizeof(tpl_builtins) / sizeof(tpl_builtins[0]); i++) {
		rc = kiln__tpl_add_builtin(st->env, tpl_builtins[i].name,
		    kiln_str_c(tpl_builtins[i].src));
		if (rc != KILN_OK)
			return rc;
	}
	return kiln_ext_set_data(app, ext, st);
}

/* Adds each entry of a colon-separated list of directories. */
static kiln_err
add_dir_list(kiln_template_env *env, kiln_arena *a, const char *list)
{
	const char *p = list, *q;
	char *d;
	kiln_err rc;

	while (p != NULL && *p != '\0') {
		q = strchr(p, ':');
		if (q == NULL)
			q = p + strlen(p);
		if (q > p) {
			d = kiln_arena_strndup(a, p, (size_t)(q - p));
			if (d == NULL)
				return KILN_ENOMEM;
			rc = kiln_template_env_add_dir(env, d);
			if (rc != KILN_OK)
				return rc;
		}
		p = *q == ':' ? q + 1 : q;
	}
	return KILN_OK;
}

/* Applies the settings to the environment once. */
static kiln_err
tpl_ready(tpl_state *st)
{
	kiln_app *app = st->app;
	const char *s, *root;
	char *path;
	size_t i;
	kiln_err rc;

	if (st->ready)
		return KILN_OK;
	rc = add_dir_list(st->env, app->a,
	    kiln_setting_str(app, "templates.dirs"));
	for (i = 0; rc == KILN_OK && i < st->dirs.n; i++)
		rc = kiln_template_env_add_dir(st->env, st->dirs.items[i]);
	if (rc != KILN_OK)
		return rc;
	if (kiln_setting_str(app, "templates.debug_reload") != NULL)
		kiln_template_env_set_reload(st->env,
		    kiln_setting_bool(app, "templates.debug_reload"));
	else
		kiln_template_env_set_reload(st->env, app->debug);
	s = kiln_setting_str(app, "app.static_url");
	if (s != NULL &&
	    kiln_template_env_set_static_url(st->env, s) != KILN_OK)
		return KILN_ENOMEM;
	if (kiln_setting_bool(app, "static.manifest")) {
		root = kiln_setting_str(app, "static.root");
		path = kiln_arena_printf(app->a, "%s/staticfiles.json",
		    root != NULL ? root : "staticfiles");
		if (path == NULL)
			return KILN_ENOMEM;
		rc = kiln_template_env_load_manifest(st->env, path);
		if (rc != KILN_OK)
			return kiln__app_error(app, KILN_ECONFIG,
			    "templates: static.manifest is on but %s cannot "
			    "be read (%s); run collectstatic",
			    path, kiln_strerror(rc));
	}
	st->ready = true;
	return KILN_OK;
}

static kiln_err
tpl_init_worker(kiln_app *app, const kiln_ext *ext)
{
	tpl_state *st = kiln_ext_data(app, ext);

	return st != NULL ? tpl_ready(st) : KILN_OK;
}

kiln_template_env *
kiln_templates_env(kiln_app *app)
{
	tpl_state *st = kiln_ext_data(app, &kiln_templates);

	return st != NULL ? st->env : NULL;
}

kiln_err
kiln_templates_add_dir(kiln_app *app, const char *dir)
{
	tpl_state *st = kiln_ext_data(app, &kiln_templates);
	char *d;

	if (st == NULL)
		return kiln__app_error(app, KILN_EINVAL,
		    "kiln_templates_add_dir: kiln_use(app, &kiln_templates) "
		    "first");
	if (st->ready)
		return kiln_template_env_add_dir(st->env, dir);
	d = kiln_arena_strdup(app->a, dir);
	if (d == NULL || kiln__ptrs_push(&st->dirs, app->a, d) != KILN_OK)
		return KILN_ENOMEM;
	return KILN_OK;
}

kiln_err
kiln_context_processor(kiln_app *app, kiln_context_processor_fn fn)
{
	tpl_state *st = kiln_ext_data(app, &kiln_templates);
	kiln__fnbox *box;

	if (st == NULL || fn == NULL)
		return kiln__app_error(app, KILN_EINVAL,
		    "kiln_context_processor: kiln_use(app, &kiln_templates) "
		    "first");
	box = kiln_arena_alloc(app->a, sizeof(*box));
	if (box == NULL)
		return KILN_ENOMEM;
	box->fn = (void (*)(void))fn;
	return kiln__ptrs_push(&st->procs, app->a, box);
}

/* Sets key to a string value in map m (in a). */
static kiln_err
set_s(kiln_arena *a, kiln_val *m, const char *key, kiln_str s)
{
	kiln_val *v;

	v = kiln_val_str(a, s);
	if (v == NULL)
		return KILN_ENOMEM;
	return kiln_val_set(m, key, v);
}

/* The built-in processors: request, debug, STATIC_URL, MEDIA_URL. */
static kiln_err
builtin_procs(kiln_req *req, tpl_state *st, kiln_val *m)
{
	kiln_arena *a = req->a;
	kiln_val *r, *args, *b;
	const kiln_kvs *kv;
	const char *s;
	size_t i;
	kiln_err rc;

	r = kiln_val_map(a);
	args = kiln_val_map(a);
	b = kiln_val_bool(a, req->app->debug);
	if (r == NULL || args == NULL || b == NULL)
		return KILN_ENOMEM;
	kv = kiln_req_args(req);
	for (i = 0; kv != NULL && i < kv->n; i++) {
		if (kiln_val_get_str(args, kv->items[i].key) != NULL)
			continue; /* the first value, like request.GET[k] */
		rc = kiln_val_set_str(args, kv->items[i].key,
		    kiln_val_str(a, kv->items[i].val));
		if (rc != KILN_OK)
			return rc;
	}
	if ((rc = set_s(a, r, "path", kiln_req_path(req))) != KILN_OK ||
	    (rc = set_s(a, r, "method", kiln_req_method(req))) != KILN_OK ||
	    (rc = set_s(a, r, "full_path", kiln_req_full_path(req))) !=
		KILN_OK ||
	    (rc = set_s(a, r, "scheme", kiln_req_scheme(req))) != KILN_OK ||
	    (rc = set_s(a, r, "host", kiln_req_host(req))) != KILN_OK ||
	    (rc = set_s(a, r, "remote_addr", kiln_req_remote_addr(req))) !=
		KILN_OK ||
	    (rc = set_s(a, r, "endpoint",
		 kiln_str_c(kiln_req_endpoint(req)))) != KILN_OK ||
	    (rc = kiln_val_set(r, "GET", args)) != KILN_OK ||
	    (rc = kiln_val_set(m, "request", r)) != KILN_OK ||
	    (rc = kiln_val_set(m, "debug", b)) != KILN_OK ||
	    (rc = set_s(a, m, "STATIC_URL", kiln_str_c(st->env->static_url))) !=
		KILN_OK)
		return rc;
	s = kiln_setting_str(req->app, "app.media_url");
	return set_s(a, m, "MEDIA_URL", kiln_str_c(s != NULL ? s : "/media/"));
}

kiln_resp *
kiln_render(kiln_req *req, const char *name, kiln_val *ctx)
{
	tpl_state *st = kiln_ext_data(req->app, &kiln_templates);
	char err[TPL_ERRMAX];
	const kiln_val *ctxs[2];
	kiln_context_processor_fn fn;
	tpl_template *t;
	kiln_val *procs;
	kiln_resp *resp;
	kiln_buf b;
	kiln_err rc;
	size_t i;

	if (st == NULL)
		kiln_abort_msg(req, 500,
		    "kiln_render(\"%s\"): the templates "
		    "extension is not in use",
		    name);
	if (tpl_ready(st) != KILN_OK)
		kiln_abort_msg(req, 500, "templates: %s",
		    kiln_app_errmsg(req->app));
	procs = kiln_val_map(req->a);
	if (procs == NULL || builtin_procs(req, st, procs) != KILN_OK)
		kiln_abort_msg(req, 500, "templates: out of memory");
	for (i = 0; i < st->procs.n; i++) {
		fn = (kiln_context_processor_fn)((kiln__fnbox *)
						     st->procs.items[i])
			 ->fn;
		rc = fn(req, procs);
		if (rc != KILN_OK)
			kiln_abort_msg(req, 500,
			    "context processor %zu "
			    "failed: %s",
			    i + 1, kiln_strerror(rc));
	}
	t = kiln__tpl_load(st->env, name, &rc, err, sizeof(err));
	if (t == NULL)
		kiln_abort_msg(req, 500, "template error: %s", err);
	ctxs[0] = procs;
	ctxs[1] = ctx;
	kiln_buf_init(&b, req->a, 4096);
	rc = kiln__tpl_render(st->env, t, ctxs, ctx != NULL ? 2 : 1, req->a, &b,
	    err, sizeof(err));
	if (rc != KILN_OK)
		kiln_abort_msg(req, 500, "template error: %s", err);
	if (b.oom)
		kiln_abort_msg(req, 500, "template error: out of memory");
	resp = kiln_resp_new(req, 200);
	/* The body is the render buffer itself: no copy. */
	resp->body = b;
	return resp;
}

/* --- TemplateView and RedirectView ------------------------------------ */

/* Finds the view registered for the request's route. */
static const tpl_view *
find_view(kiln_req *req, tpl_state **stp)
{
	tpl_state *st = kiln_ext_data(req->app, &kiln_templates);
	const char *ep = kiln_req_endpoint(req), *local;
	const tpl_view *v;
	size_t i;

	*stp = st;
	if (st == NULL || ep == NULL)
		return NULL;
	local = strrchr(ep, '.');
	local = local != NULL ? local + 1 : ep;
	for (i = 0; i < st->views.n; i++) {
		v = st->views.items[i];
		if (strcmp(v->name, local) == 0)
			return v;
	}
	return NULL;
}

static kiln_resp *
template_view(kiln_req *req)
{
	const tpl_view *v;
	tpl_state *st;
	kiln_val *ctx, *view, *args;
	size_t i;

	v = find_view(req, &st);
	if (v == NULL)
		kiln_abort_msg(req, 500,
		    "TemplateView: no template for "
		    "route '%s'",
		    kiln_req_endpoint(req));
	ctx = kiln_val_map(req->a);
	view = kiln_val_map(req->a);
	args = kiln_val_map(req->a);
	if (ctx == NULL || view == NULL || args == NULL)
		kiln_abort(req, 500);
	for (i = 0; i < req->route_args.n; i++)
		if (kiln_val_set_str(args, req->route_args.items[i].key,
			kiln_val_str(req->a, req->route_args.items[i].val)) !=
		    KILN_OK)
			kiln_abort(req, 500);
	if (kiln_val_set(view, "args", args) != KILN_OK ||
	    kiln_val_set(ctx, "view", view) != KILN_OK)
		kiln_abort(req, 500);
	return kiln_render(req, v->target, ctx);
}

static kiln_resp *
redirect_view(kiln_req *req)
{
	const tpl_view *v;
	tpl_state *st;

	v = find_view(req, &st);
	if (v == NULL)
		kiln_abort_msg(req, 500, "RedirectView: no URL for route '%s'",
		    kiln_req_endpoint(req));
	return kiln_redirect(req, v->target, v->status);
}

static kiln_err
add_view(kiln_bp *bp, const char *rule, const char *target, int status,
    const char *name, kiln_view_fn fn)
{
	tpl_state *st = kiln_ext_data(bp->app, &kiln_templates);
	tpl_view *v;

	if (st == NULL || name == NULL || target == NULL)
		return kiln__app_error(bp->app, KILN_EINVAL,
		    "template/redirect views need kiln_templates in use, a "
		    "target and a route name");
	v = kiln_arena_calloc(bp->app->a, 1, sizeof(*v));
	if (v == NULL)
		return KILN_ENOMEM;
	v->name = kiln_arena_strdup(bp->app->a, name);
	v->target = kiln_arena_strdup(bp->app->a, target);
	v->status = status;
	if (v->name == NULL || v->target == NULL ||
	    kiln__ptrs_push(&st->views, bp->app->a, v) != KILN_OK)
		return KILN_ENOMEM;
	return kiln_route(bp, "GET", rule, fn, name);
}

kiln_err
kiln_template_view(kiln_bp *bp, const char *rule, const char *template_name,
    const char *name)
{
	return add_view(bp, rule, template_name, 0, name, template_view);
}

kiln_err
kiln_redirect_view(kiln_bp *bp, const char *rule, const char *url, int status,
    const char *name)
{
	return add_view(bp, rule, url, status, name, redirect_view);
}
