/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The application object and everything registered on it: blueprints and
 * their routes, hooks, error handlers and middleware, and the core
 * settings. All of it lives in the app's arena and is set up before the
 * workers fork; a worker only reads it.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include <kiln/kiln.h>

#include "kiln_int.h"
#include "router_int.h"

/* The settings every app has (docs/settings.md lists them). */
static const kiln_setting_def core_settings[] = {
	{ "app.debug", KILN_SETTING_BOOL, "false", 0, 0,
	    "show the debug error page (never in production)" },
	{ "app.secret_key", KILN_SETTING_SECRET, NULL, 0, 0,
	    "key for signing cookies and tokens" },
	{ "app.append_slash", KILN_SETTING_BOOL, "true", 0, 0,
	    "redirect /x to /x/ when only /x/ has a route" },
	{ "app.static_url", KILN_SETTING_STR, "/static/", 0, 0,
	    "URL prefix nginx serves static files under" },
	{ "app.static_dir", KILN_SETTING_PATH, "static", 0, 0,
	    "directory of the app's static files" },
	{ "app.media_url", KILN_SETTING_STR, "/media/", 0, 0,
	    "URL prefix nginx serves uploaded (media) files under" },
	{ "app.media_root", KILN_SETTING_PATH, "media", 0, 0,
	    "directory of uploaded files (FILE fields)" },
	{ "server.listen", KILN_SETTING_STR, "unix:kiln.sock", 0, 0,
	    "unix:PATH or HOST:PORT the pool listens on" },
	{ "server.workers", KILN_SETTING_INT, "2", 1, 512, "worker processes" },
	{ "server.transport", KILN_SETTING_STR, "native", 0, 0,
	    "FastCGI implementation: native or libfcgi" },
	{ "server.socket_mode", KILN_SETTING_STR, "0660", 0, 0,
	    "permissions of a unix socket (octal)" },
	{ "server.backlog", KILN_SETTING_INT, "511", 1, 65535,
	    "listen queue length" },
	{ "server.allow_from", KILN_SETTING_STR, "127.0.0.1 ::1", 0, 0,
	    "TCP peers (addresses or networks, 'all') the native transport "
	    "accepts" },
	{ "server.socket_owner", KILN_SETTING_STR, NULL, 0, 0,
	    "user that owns a unix socket (name or uid)" },
	{ "server.socket_group", KILN_SETTING_STR, NULL, 0, 0,
	    "group of a unix socket (name or gid), e.g. nginx's" },
	{ "server.control_socket", KILN_SETTING_STR, NULL, 0, 0,
	    "the master's control socket (default: the unix socket + .ctl; "
	    "off: none)" },
	{ "server.pidfile", KILN_SETTING_PATH, NULL, 0, 0,
	    "file the master writes its pid to" },
	{ "server.daemon", KILN_SETTING_BOOL, "false", 0, 0,
	    "detach from the terminal after start" },
	{ "server.log_file", KILN_SETTING_PATH, NULL, 0, 0,
	    "log file (reopened on SIGUSR1); unset: stderr" },
	{ "server.pm", KILN_SETTING_STR, "static", 0, 0,
	    "pool mode: static or dynamic" },
	{ "server.min_workers", KILN_SETTING_INT, "1", 1, 512,
	    "dynamic: fewest workers" },
	{ "server.max_workers", KILN_SETTING_INT, "8", 1, 512,
	    "dynamic: most workers" },
	{ "server.min_spare", KILN_SETTING_INT, "1", 0, 512,
	    "dynamic: fewest idle workers" },
	{ "server.max_spare", KILN_SETTING_INT, "3", 1, 512,
	    "dynamic: most idle workers" },
	{ "server.timeout", KILN_SETTING_SECONDS, "30s", 0, 0,
	    "a request running longer kills its worker (0: never)" },
	{ "server.graceful_timeout", KILN_SETTING_SECONDS, "30s", 0, 0,
	    "time workers get to finish on stop or reload" },
	{ "server.max_requests", KILN_SETTING_INT, "0", 0, 0,
	    "recycle a worker after this many requests (0: never)" },
	{ "server.max_requests_jitter", KILN_SETTING_INT, "0", 0, 0,
	    "add up to this many to max_requests per worker" },
	{ "server.max_rss", KILN_SETTING_SIZE, "0", 0, 0,
	    "recycle a worker whose RSS grows above this (0: never)" },
	{ "status.path", KILN_SETTING_STR, "/kiln-status", 0, 0,
	    "URL of the pool status page (empty: off)" },
	{ "status.allow", KILN_SETTING_STR, "127.0.0.1 ::1", 0, 0,
	    "client addresses that may read the status page ('all': any)" },
	{ "status.slow_threshold", KILN_SETTING_SECONDS, "1s", 0, 0,
	    "requests this slow are listed on the status page" },
	{ "limits.max_uri", KILN_SETTING_SIZE, "4k", 16, 1 << 20,
	    "longest request URI (414 above)" },
	{ "limits.max_body", KILN_SETTING_SIZE, "1m", 0, 0,
	    "largest request body kept in memory (413 above)" },
	{ "limits.max_fields", KILN_SETTING_INT, "1000", 1, 1000000,
	    "most query or form fields (400 above)" },
	{ "limits.max_headers", KILN_SETTING_INT, "100", 1, 10000,
	    "most request headers (431 above)" },
	{ "limits.max_cookies", KILN_SETTING_INT, "100", 1, 10000,
	    "most cookies read from the Cookie header" },
	{ "limits.max_json_depth", KILN_SETTING_INT, "64", 1, 10000,
	    "deepest JSON nesting accepted" },
	{ "fcgi.header_timeout", KILN_SETTING_SECONDS, "5s", 1, 0,
	    "time a connection has to send its request headers" },
	{ "fcgi.body_min_rate", KILN_SETTING_SIZE, "1k", 0, 0,
	    "bytes per second a request body must keep up" },
	{ "fcgi.write_timeout", KILN_SETTING_SECONDS, "10s", 1, 0,
	    "time to write a response" },
	{ "fcgi.idle_timeout", KILN_SETTING_SECONDS, "5s", 1, 0,
	    "idle time before a kept FastCGI connection is closed" },
	{ "fcgi.max_params", KILN_SETTING_INT, "500", 16, 100000,
	    "most FastCGI params per request" },
	{ "fcgi.max_params_bytes", KILN_SETTING_SIZE, "64k", 1024, 16 << 20,
	    "most FastCGI params bytes per request" },
};

kiln_err
kiln__ptrs_push(kiln__ptrs *v, kiln_arena *a, void *p)
{
	void **items;
	size_t cap;

	if (v->n == v->cap) {
		cap = v->cap == 0 ? 8 : v->cap * 2;
		items = kiln_arena_alloc(a, cap * sizeof(*items));
		if (items == NULL)
			return KILN_ENOMEM;
		if (v->n > 0)
			memcpy(items, v->items, v->n * sizeof(*items));
		v->items = items;
		v->cap = cap;
	}
	v->items[v->n++] = p;
	return KILN_OK;
}

kiln_err
kiln__app_error(kiln_app *app, kiln_err rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(app->errmsg, sizeof(app->errmsg), fmt, ap);
	va_end(ap);
	return rc;
}

static kiln_bp *
bp_alloc(kiln_app *app, const char *name, const char *prefix)
{
	kiln_bp *bp;

	bp = kiln_arena_calloc(app->a, 1, sizeof(*bp));
	if (bp == NULL)
		return NULL;
	bp->app = app;
	bp->name = kiln_arena_strdup(app->a, name);
	bp->prefix = kiln_arena_strdup(app->a, prefix);
	if (bp->name == NULL || bp->prefix == NULL)
		return NULL;
	return bp;
}

kiln_app *
kiln_app_new(const char *name)
{
	kiln_arena *a;
	kiln_app *app;

	a = kiln_arena_new(0);
	if (a == NULL)
		return NULL;
	app = kiln_arena_calloc(a, 1, sizeof(*app));
	if (app == NULL)
		goto err;
	app->a = a;
	app->name = kiln_arena_strdup(a, name != NULL ? name : "app");
	app->router = kiln__router_new(a);
	app->settings = kiln__settings_new(a);
	app->root = bp_alloc(app, "", "");
	if (app->name == NULL || app->router == NULL || app->settings == NULL ||
	    app->root == NULL)
		goto err;
	if (kiln_register_bp(app, app->root, NULL, NULL) != KILN_OK)
		goto err;
	if (kiln_settings_register(app, core_settings,
		sizeof(core_settings) / sizeof(core_settings[0])) != KILN_OK)
		goto err;
	app->sig_started = kiln_signal_get(app, KILN_SIGNAL_REQUEST_STARTED);
	app->sig_finished = kiln_signal_get(app, KILN_SIGNAL_REQUEST_FINISHED);
	app->sig_exception =
	    kiln_signal_get(app, KILN_SIGNAL_GOT_REQUEST_EXCEPTION);
	if (app->sig_started == NULL || app->sig_finished == NULL ||
	    app->sig_exception == NULL)
		goto err;
	/* Defaults until kiln_app_configure reads the settings. */
	if (kiln__app_settings_loaded(app) != KILN_OK)
		goto err;
	app->configured = false;
	return app;
err:
	kiln_arena_free(a);
	return NULL;
}

kiln_err
kiln__app_settings_loaded(kiln_app *app)
{
	kiln__limits *l = &app->limits;

	app->debug = kiln_setting_bool(app, "app.debug");
	app->append_slash = kiln_setting_bool(app, "app.append_slash");
	l->max_uri = (size_t)kiln_setting_int(app, "limits.max_uri");
	l->max_body = (size_t)kiln_setting_int(app, "limits.max_body");
	l->max_fields = (size_t)kiln_setting_int(app, "limits.max_fields");
	l->max_headers = (size_t)kiln_setting_int(app, "limits.max_headers");
	l->max_cookies = (size_t)kiln_setting_int(app, "limits.max_cookies");
	l->max_json_depth =
	    (size_t)kiln_setting_int(app, "limits.max_json_depth");
	app->configured = true;
	return KILN_OK;
}

void
kiln_app_free(kiln_app *app)
{
	if (app == NULL)
		return;
	kiln_arena_free(app->a);
}

const char *
kiln_app_name(const kiln_app *app)
{
	return app->name;
}

kiln_arena *
kiln_app_arena(kiln_app *app)
{
	return app->a;
}

const char *
kiln_app_errmsg(const kiln_app *app)
{
	return app->errmsg;
}

kiln_bp *
kiln_app_bp(kiln_app *app)
{
	return app->root;
}

/* Names are identifiers: letters, digits, '_' and '-', not empty. */
static bool
name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	}
	return true;
}

/* A prefix is "" or starts with '/' and does not end with one. */
static bool
prefix_ok(const char *p)
{
	size_t len = strlen(p);

	return len == 0 || (p[0] == '/' && p[len - 1] != '/');
}

kiln_bp *
kiln_bp_new(kiln_app *app, const char *name, const char *prefix)
{
	if (name == NULL || !name_ok(name)) {
		kiln__app_error(app, KILN_EINVAL,
		    "blueprint name '%s' must be letters, digits, '_' or '-'",
		    name != NULL ? name : "(null)");
		return NULL;
	}
	if (prefix == NULL)
		prefix = "";
	if (!prefix_ok(prefix)) {
		kiln__app_error(app, KILN_EINVAL,
		    "blueprint '%s': prefix '%s' must start with '/' and not "
		    "end with one",
		    name, prefix);
		return NULL;
	}
	return bp_alloc(app, name, prefix);
}

/* Adds one declared route to the router under registration reg. */
static kiln_err
route_add(kiln_app *app, const kiln__bpreg *reg, const kiln__route_decl *d)
{
	kiln__route_spec spec;
	char err[KILN_ERRMSG_MAX];
	kiln_err rc;

	memset(&spec, 0, sizeof(spec));
	spec.methods = d->methods;
	spec.prefix = reg->prefix;
	spec.rule = d->rule;
	spec.regex = d->regex;
	spec.view = d->view;
	spec.bpreg = reg;
	if (d->name != NULL) {
		spec.endpoint = reg->name[0] == '\0' ?
		    d->name :
		    kiln_arena_printf(app->a, "%s.%s", reg->name, d->name);
		if (spec.endpoint == NULL)
			return KILN_ENOMEM;
	}
	err[0] = '\0';
	rc = kiln__router_add(app->router, &spec, err, sizeof(err));
	if (rc != KILN_OK)
		return kiln__app_error(app, rc, "%s", err);
	return KILN_OK;
}

kiln_err
kiln_register_bp(kiln_app *app, kiln_bp *bp, const char *prefix,
    const char *name)
{
	kiln__bpreg *reg;
	size_t i;
	kiln_err rc;

	if (bp->app != app)
		return kiln__app_error(app, KILN_EINVAL,
		    "blueprint '%s' belongs to another app", bp->name);
	if (prefix == NULL)
		prefix = bp->prefix;
	if (name == NULL)
		name = bp->name;
	if (!prefix_ok(prefix))
		return kiln__app_error(app, KILN_EINVAL,
		    "blueprint '%s': bad prefix '%s'", name, prefix);
	for (i = 0; i < app->bpregs.n; i++) {
		reg = app->bpregs.items[i];
		if (strcmp(reg->name, name) == 0)
			return kiln__app_error(app, KILN_EEXIST,
			    "a blueprint named '%s' is already registered "
			    "(register it again under another name)",
			    name);
	}
	reg = kiln_arena_calloc(app->a, 1, sizeof(*reg));
	if (reg == NULL)
		return KILN_ENOMEM;
	reg->bp = bp;
	reg->name = kiln_arena_strdup(app->a, name);
	reg->prefix = kiln_arena_strdup(app->a, prefix);
	if (reg->name == NULL || reg->prefix == NULL ||
	    kiln__ptrs_push(&app->bpregs, app->a, reg) != KILN_OK)
		return KILN_ENOMEM;
	for (i = 0; i < bp->routes.n; i++) {
		rc = route_add(app, reg, bp->routes.items[i]);
		if (rc != KILN_OK)
			return rc;
	}
	bp->registered = true;
	return KILN_OK;
}

/* Declares a route on bp; the root blueprint's go to the router at once. */
static kiln_err
route_declare(kiln_bp *bp, const char *methods, const char *rule, bool regex,
    kiln_view_fn view, const char *name)
{
	kiln_app *app = bp->app;
	kiln__route_decl *d;

	if (rule == NULL || view == NULL)
		return kiln__app_error(app, KILN_EINVAL,
		    "kiln_route: rule and view are required");
	if (bp->registered && bp != app->root)
		return kiln__app_error(app, KILN_EINVAL,
		    "blueprint '%s' is registered already: declare route '%s' "
		    "before kiln_register_bp",
		    bp->name, rule);
	d = kiln_arena_calloc(app->a, 1, sizeof(*d));
	if (d == NULL)
		return KILN_ENOMEM;
	d->methods =
	    methods != NULL ? kiln_arena_strdup(app->a, methods) : "GET";
	d->rule = kiln_arena_strdup(app->a, rule);
	d->regex = regex;
	d->view = view;
	d->name = name != NULL ? kiln_arena_strdup(app->a, name) : NULL;
	if (d->methods == NULL || d->rule == NULL ||
	    (name != NULL && d->name == NULL))
		return KILN_ENOMEM;
	if (bp == app->root)
		return route_add(app, app->bpregs.items[0], d);
	return kiln__ptrs_push(&bp->routes, app->a, d);
}

kiln_err
kiln_route(kiln_bp *bp, const char *methods, const char *rule,
    kiln_view_fn view, const char *name)
{
	return route_declare(bp, methods, rule, false, view, name);
}

kiln_err
kiln_route_re(kiln_bp *bp, const char *methods, const char *pattern,
    kiln_view_fn view, const char *name)
{
	return route_declare(bp, methods, pattern, true, view, name);
}

/* Boxes a function pointer and appends it to list. */
static kiln_err
push_fn(kiln_app *app, kiln__ptrs *list, void (*fn)(void))
{
	kiln__fnbox *box;

	if (fn == NULL)
		return kiln__app_error(app, KILN_EINVAL, "hook is NULL");
	box = kiln_arena_alloc(app->a, sizeof(*box));
	if (box == NULL)
		return KILN_ENOMEM;
	box->fn = fn;
	return kiln__ptrs_push(list, app->a, box);
}

kiln_err
kiln_before_request(kiln_bp *bp, kiln_before_fn fn)
{
	return push_fn(bp->app, &bp->before, (void (*)(void))fn);
}

kiln_err
kiln_after_request(kiln_bp *bp, kiln_after_fn fn)
{
	return push_fn(bp->app, &bp->after, (void (*)(void))fn);
}

kiln_err
kiln_teardown_request(kiln_bp *bp, kiln_teardown_fn fn)
{
	return push_fn(bp->app, &bp->teardown, (void (*)(void))fn);
}

kiln_err
kiln_use_middleware(kiln_app *app, kiln_middleware_fn fn)
{
	return push_fn(app, &app->middleware, (void (*)(void))fn);
}

kiln_err
kiln_errorhandler(kiln_bp *bp, int status, kiln_errorhandler_fn fn)
{
	kiln__errh *h;
	size_t i;

	if (status < 400 || status > 599 || fn == NULL)
		return kiln__app_error(bp->app, KILN_EINVAL,
		    "error handler: status %d is not 400-599, or fn is NULL",
		    status);
	for (i = 0; i < bp->errh.n; i++) {
		h = bp->errh.items[i];
		if (h->status == status) {
			h->fn = fn;
			return KILN_OK;
		}
	}
	h = kiln_arena_alloc(bp->app->a, sizeof(*h));
	if (h == NULL)
		return KILN_ENOMEM;
	h->status = status;
	h->fn = fn;
	return kiln__ptrs_push(&bp->errh, bp->app->a, h);
}
