/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The application: its blueprints, hooks, middleware, error handlers and
 * extensions, and kiln_main(), which runs the management commands.
 *
 * Order of a request (docs/routing.md has the long form):
 *   signal request_started -> middleware (first added is outermost) ->
 *   app before hooks -> blueprint before hooks -> view ->
 *   blueprint after hooks -> app after hooks (each in reverse order of
 *   registration, as Flask does) -> middleware unwinds -> signal
 *   request_finished -> teardown hooks (blueprint, then app, always run).
 * A before hook that returns a response short-circuits: the view is not
 * called, but the after hooks still run on that response. A middleware
 * that returns without calling kiln_next_call skips everything inside it
 * (hooks and view); only teardown hooks and request_finished still run.
 * An abort in a view or hook becomes the error handler's response before
 * it reaches the middleware, so a middleware always gets a response.
 */
#ifndef KILN_APP_H
#define KILN_APP_H

#include <kiln/arena.h>
#include <kiln/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kiln_app kiln_app;
typedef struct kiln_bp kiln_bp;
typedef struct kiln_req kiln_req;
typedef struct kiln_resp kiln_resp;
typedef struct kiln_ext kiln_ext;
typedef struct kiln_next kiln_next;

/* A view: returns the response (NULL means 500). May abort. */
typedef kiln_resp *(*kiln_view_fn)(kiln_req *req);

/* A before hook: NULL to go on, or a response to short-circuit. May abort. */
typedef kiln_resp *(*kiln_before_fn)(kiln_req *req);

/* An after hook: returns the response to send (usually resp, modified). */
typedef kiln_resp *(*kiln_after_fn)(kiln_req *req, kiln_resp *resp);

/* A teardown hook: runs after the response is built, even on failure. */
typedef void (*kiln_teardown_fn)(kiln_req *req);

/* An error handler for a status code: returns the response to send. */
typedef kiln_resp *(*kiln_errorhandler_fn)(kiln_req *req, int status);

/*
 * A middleware wraps everything after it: call kiln_next_call(req, next)
 * to go on, or return a response without calling it to short-circuit.
 */
typedef kiln_resp *(*kiln_middleware_fn)(kiln_req *req, kiln_next *next);

/*
 * Creates an application named name. Settings are read later, by
 * kiln_main() or kiln_app_configure(). Returns NULL when out of memory.
 * The app owns everything registered on it; free it with kiln_app_free().
 */
KILN_API KILN_WARN_UNUSED kiln_app *kiln_app_new(const char *name);

/* Frees the app and everything it owns. NULL is a no-op. */
KILN_API void kiln_app_free(kiln_app *app);

/* Returns the app's name. */
KILN_API const char *kiln_app_name(const kiln_app *app);

/* Returns the app's arena (app lifetime). */
KILN_API kiln_arena *kiln_app_arena(kiln_app *app);

/*
 * Returns the last error message left on the app by a failed call
 * (registration, settings), or "" when none.
 */
KILN_API const char *kiln_app_errmsg(const kiln_app *app);

/*
 * Returns the app's root blueprint (name "", no prefix): routes and hooks
 * registered on it are the app's own.
 */
KILN_API kiln_bp *kiln_app_bp(kiln_app *app);

/*
 * Creates a blueprint named name whose routes live under prefix ("" or
 * "/blog"), owned by app. It takes effect when registered.
 * Returns NULL (with kiln_app_errmsg) on a bad name or prefix.
 */
KILN_API kiln_bp *kiln_bp_new(kiln_app *app, const char *name,
    const char *prefix);

/*
 * Registers bp's routes on app. prefix NULL uses the blueprint's own;
 * name NULL uses the blueprint's own. Registering a blueprint twice needs a
 * different name the second time (route names are "name.route").
 * Returns KILN_OK, or KILN_EEXIST / KILN_EINVAL with kiln_app_errmsg.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_register_bp(kiln_app *app, kiln_bp *bp,
    const char *prefix, const char *name);

/*
 * Adds a view for rule and methods ("GET", "GET,POST"; NULL: "GET") named
 * name (NULL: the rule itself is not nameable). A rule is a path with
 * converters: "/post/<int:id>/", "<slug:s>", "<uuid:u>", "<path:p>",
 * "<str:s>" (or "<s>"). HEAD is served wherever GET is, OPTIONS
 * everywhere. Returns KILN_OK or KILN_EINVAL/KILN_EEXIST with the reason
 * in kiln_app_errmsg.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_route(kiln_bp *bp, const char *methods,
    const char *rule, kiln_view_fn view, const char *name);

/*
 * Adds a view for a PCRE2 regular expression matched against the whole
 * path after the blueprint prefix (anchored at both ends). Named groups
 * "(?<year>[0-9]{4})" become route arguments. kiln_url_for() can build
 * such a route when each named group appears once outside any repetition;
 * the built path is checked against the pattern.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_route_re(kiln_bp *bp,
    const char *methods, const char *pattern, kiln_view_fn view,
    const char *name);

/* Hooks, on the app's root blueprint or a blueprint (that bp's routes only). */
KILN_API KILN_WARN_UNUSED kiln_err kiln_before_request(kiln_bp *bp,
    kiln_before_fn fn);
KILN_API KILN_WARN_UNUSED kiln_err kiln_after_request(kiln_bp *bp,
    kiln_after_fn fn);
KILN_API KILN_WARN_UNUSED kiln_err kiln_teardown_request(kiln_bp *bp,
    kiln_teardown_fn fn);

/*
 * Sets the handler for status (400-599) on the app (root blueprint) or a
 * blueprint. A blueprint's handler applies to aborts from its views; the
 * app's handles everything else, including 404 and 405 from routing.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_errorhandler(kiln_bp *bp, int status,
    kiln_errorhandler_fn fn);

/* Appends a middleware; the first added is the outermost. */
KILN_API KILN_WARN_UNUSED kiln_err kiln_use_middleware(kiln_app *app,
    kiln_middleware_fn fn);

/* Calls the rest of the chain from inside a middleware. */
KILN_API kiln_resp *kiln_next_call(kiln_req *req, kiln_next *next);

/*
 * Loads settings: the INI file at path (NULL: none) and then the
 * environment overrides (docs/settings.md). Returns KILN_OK, or KILN_ECONFIG
 * with a message naming the file, line or key in kiln_app_errmsg.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_app_configure(kiln_app *app,
    const char *path);

/*
 * Runs a management command from argv (serve, runserver, routes, check,
 * ...; "help" lists them). Returns the process exit status.
 */
KILN_API int kiln_main(kiln_app *app, int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif /* KILN_APP_H */
