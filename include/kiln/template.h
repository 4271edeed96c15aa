/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Templates: Django's template language, compiled once into a tree and
 * rendered into an arena buffer without re-parsing (docs/templates.md).
 *
 * A template environment (kiln_template_env) holds the loader's
 * directories, the compiled templates cached by name, and the user's
 * filters and tags. It works on its own (kiln-admin, tests, benchmarks)
 * or as the kiln_templates extension of an app, which adds the
 * templates.* settings, kiln_render() with context processors, the
 * TemplateView and RedirectView helpers and the `collectstatic` command.
 *
 * Context values are kiln_val (kiln/value.h). Semantics follow Django:
 * a missing variable renders as "", output is HTML-escaped (& < > " ')
 * unless the value is KILN_VAL_SAFE or autoescape is off.
 */
#ifndef KILN_TEMPLATE_H
#define KILN_TEMPLATE_H

#include <kiln/app.h>
#include <kiln/arena.h>
#include <kiln/common.h>
#include <kiln/ext.h>
#include <kiln/kv.h>
#include <kiln/value.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kiln_template_env kiln_template_env;

/* Limits applied while compiling and rendering (0 in a field: default). */
typedef struct kiln_template_limits {
	size_t max_source;  /* bytes of one template source (1 MiB) */
	size_t max_tokens;  /* tokens in one template (100000) */
	size_t max_depth;   /* nested tags within one template (100) */
	size_t max_include; /* nested include/extends at render (32) */
	size_t max_output;  /* bytes one render may produce (64 MiB) */
	size_t max_steps;   /* nodes rendered + loop iterations (50M) */
} kiln_template_limits;

/*
 * A filter written in C: {{ value|name }} or {{ value|name:arg }}. value
 * and arg (NULL when no argument was given) are borrowed; return a value
 * allocated in a (or value itself), or NULL when out of memory.
 * autoescape tells whether the surrounding output is being escaped.
 */
typedef const kiln_val *(*kiln_template_filter_fn)(kiln_arena *a,
    const kiln_val *value, const kiln_val *arg, bool autoescape);

/* Filter flags. */
#define KILN_TEMPLATE_FILTER_SAFE   0x1 /* safe input stays safe (is_safe) */
#define KILN_TEMPLATE_FILTER_ARG    0x2 /* requires an argument */
#define KILN_TEMPLATE_FILTER_NO_ARG 0x4 /* takes no argument */

/*
 * A simple tag written in C: {% name arg ... %}. args are the resolved
 * arguments (nargs of them, borrowed). Return the value to output (it is
 * escaped unless KILN_VAL_SAFE), or NULL when out of memory. data is the
 * pointer given at registration.
 */
typedef const kiln_val *(*kiln_template_tag_fn)(kiln_arena *a,
    const kiln_val *const *args, size_t nargs, void *data);

/*
 * Builds the URL of a named route for {% url %}: like kiln_url_build.
 * Set by the extension; standalone environments have none and {% url %}
 * is then a render error.
 */
typedef kiln_err (*kiln_template_url_fn)(void *data, kiln_arena *a,
    const char *name, const kiln_kvs *args, kiln_str *out, char *err,
    size_t errlen);

/*
 * Creates an environment with limits lim (NULL: defaults). Returns NULL
 * when out of memory. Free it with kiln_template_env_free().
 */
KILN_API KILN_WARN_UNUSED kiln_template_env *kiln_template_env_new(
    const kiln_template_limits *lim);

/* Frees env and every compiled template. NULL is a no-op. */
KILN_API void kiln_template_env_free(kiln_template_env *env);

/*
 * Appends a directory searched for templates (first added, first
 * searched). Template names are relative paths; absolute names and ".."
 * components are rejected. Returns KILN_OK or KILN_ENOMEM.
 */
KILN_API KILN_WARN_UNUSED kiln_err
kiln_template_env_add_dir(kiln_template_env *env, const char *dir);

/*
 * Adds an in-memory template named name (copied), found before any
 * directory. Used for built-in templates and tests.
 */
KILN_API KILN_WARN_UNUSED kiln_err
kiln_template_env_add_source(kiln_template_env *env, const char *name,
    kiln_str source);

/* With reload on, a template whose file changed is compiled again. */
KILN_API void kiln_template_env_set_reload(kiln_template_env *env, bool reload);

/* Sets the prefix {% static %} uses (default "/static/"); copied. */
KILN_API KILN_WARN_UNUSED kiln_err
kiln_template_env_set_static_url(kiln_template_env *env, const char *url);

/*
 * Loads a collectstatic manifest (JSON {"paths": {"a.css":
 * "a.0123abcd.css"}}) that {% static %} uses to map names. Returns
 * KILN_OK, KILN_EIO or KILN_EPARSE.
 */
KILN_API KILN_WARN_UNUSED kiln_err
kiln_template_env_load_manifest(kiln_template_env *env, const char *path);

/* Sets the URL builder for {% url %}. */
KILN_API void kiln_template_env_set_url_fn(kiln_template_env *env,
    kiln_template_url_fn fn, void *data);

/*
 * Registers a filter or a simple tag (names are copied; a name already
 * defined, built-in or not, is replaced). Templates compiled before the
 * call keep what they resolved. Returns KILN_OK, KILN_EINVAL (bad name)
 * or KILN_ENOMEM.
 */
KILN_API KILN_WARN_UNUSED kiln_err
kiln_template_add_filter(kiln_template_env *env, const char *name,
    kiln_template_filter_fn fn, unsigned flags);
KILN_API KILN_WARN_UNUSED kiln_err kiln_template_add_tag(kiln_template_env *env,
    const char *name, kiln_template_tag_fn fn, void *data);

/*
 * Compiles (or takes from the cache) the template name and renders it
 * with ctx (a map, or NULL) into *out, allocated in a. On failure
 * returns KILN_ENOTFOUND (no such template), KILN_EPARSE (a syntax
 * error), KILN_ELIMIT (a limit) or KILN_ENOMEM, with a message naming the
 * template, line and column in err (errlen bytes, may be NULL).
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_template_render(kiln_template_env *env,
    const char *name, const kiln_val *ctx, kiln_arena *a, kiln_str *out,
    char *err, size_t errlen);

/*
 * Renders template source src (not cached; named "<string>" in errors)
 * with ctx into *out in a. env may be NULL (a default environment, no
 * directories). Returns as kiln_template_render does.
 */
KILN_API KILN_WARN_UNUSED kiln_err
kiln_template_render_str(kiln_template_env *env, kiln_str src,
    const kiln_val *ctx, kiln_arena *a, kiln_str *out, char *err,
    size_t errlen);

/*
 * Compiles template name (or takes it from the cache) without rendering,
 * to check it. Returns as kiln_template_render does.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_template_check(kiln_template_env *env,
    const char *name, char *err, size_t errlen);

/*
 * Parses JSON text into a context value in a, turning every object
 * {"$datetime": "2024-03-05T14:07:09[.ffffff]"} into a KILN_VAL_DATETIME
 * and every {"$safe": "text"} into a KILN_VAL_SAFE string.
 * Returns NULL with a message in err on malformed JSON or datetime.
 */
KILN_API kiln_val *kiln_template_json_context(kiln_arena *a, kiln_str text,
    char *err, size_t errlen);

/* --- The extension -------------------------------------------------- */

/*
 * The templates extension: kiln_use(app, &kiln_templates). Settings:
 * templates.dirs (colon-separated, relative to the working directory;
 * default "templates"), templates.debug_reload (default: follows
 * app.debug), templates.media_url ("/media/"), templates.manifest
 * (use STATIC_ROOT/staticfiles.json for {% static %}), static.dirs and
 * static.root for collectstatic. Command: `APP collectstatic`.
 */
KILN_API extern const kiln_ext kiln_templates;

/*
 * A context processor: adds variables to ctx (a map in the request
 * arena) before each kiln_render. Returns KILN_OK or an error, which
 * makes the render fail with 500.
 */
typedef kiln_err (*kiln_context_processor_fn)(kiln_req *req, kiln_val *ctx);

/* Returns the app's environment (NULL when the extension is not used). */
KILN_API kiln_template_env *kiln_templates_env(kiln_app *app);

/* Adds a template directory (a blueprint's, say) after templates.dirs. */
KILN_API KILN_WARN_UNUSED kiln_err kiln_templates_add_dir(kiln_app *app,
    const char *dir);

/*
 * Adds a context processor, run after the built-in ones (request, debug,
 * STATIC_URL, MEDIA_URL) in the order added. The user's context passed to
 * kiln_render overrides what processors set.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_context_processor(kiln_app *app,
    kiln_context_processor_fn fn);

/*
 * Renders template name with ctx (a map or NULL; borrowed) plus the
 * context processors' variables, and returns a 200 text/html response.
 * A missing template or a template error aborts with 500 and a message
 * naming the template, line and column. May abort.
 */
KILN_API kiln_resp *kiln_render(kiln_req *req, const char *name, kiln_val *ctx);

/*
 * TemplateView: a GET route on bp for rule, named name (required), that
 * renders template (copied) with the route's arguments in the context
 * ("view.args"). RedirectView: a route that redirects to url (copied;
 * status 0 is 302).
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_template_view(kiln_bp *bp,
    const char *rule, const char *template_name, const char *name);
KILN_API KILN_WARN_UNUSED kiln_err kiln_redirect_view(kiln_bp *bp,
    const char *rule, const char *url, int status, const char *name);

#ifdef __cplusplus
}
#endif
#endif /* KILN_TEMPLATE_H */
