/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The request, as a view sees it. Every pointer returned here is owned by
 * the request's arena and valid until the response has been written.
 * Names are case-sensitive except header names.
 */
#ifndef KILN_REQUEST_H
#define KILN_REQUEST_H

#include <kiln/app.h>
#include <kiln/arena.h>
#include <kiln/common.h>
#include <kiln/kv.h>
#include <kiln/value.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Returns the request's arena: allocate here, never free. */
KILN_API kiln_arena *kiln_req_arena(kiln_req *req);

/* Returns the application handling the request. */
KILN_API kiln_app *kiln_req_app(kiln_req *req);

/* The method ("GET"), and the percent-decoded path ("/a b/"). */
KILN_API kiln_str kiln_req_method(const kiln_req *req);
KILN_API kiln_str kiln_req_path(const kiln_req *req);

/* The raw query string (after '?', without it; empty when none). */
KILN_API kiln_str kiln_req_query_string(const kiln_req *req);

/* The path and query as the client sent them ("/a%20b/?x=1"). */
KILN_API kiln_str kiln_req_full_path(const kiln_req *req);

/*
 * Query arguments (request.args): the first value named name, or NULL.
 * kiln_req_args returns them all, for multi-valued keys.
 */
KILN_API const kiln_str *kiln_req_arg(kiln_req *req, const char *name);
KILN_API const kiln_kvs *kiln_req_args(kiln_req *req);

/*
 * Form fields of an application/x-www-form-urlencoded body
 * (request.form). Parsed on first use. A malformed body aborts with 400;
 * may abort.
 */
KILN_API const kiln_str *kiln_req_form(kiln_req *req, const char *name);
KILN_API const kiln_kvs *kiln_req_forms(kiln_req *req);

/*
 * The JSON body (request.get_json()). Returns NULL when the content type
 * is not application/json; aborts with 400 and a message saying where the
 * JSON is malformed. May abort.
 */
KILN_API kiln_val *kiln_req_json(kiln_req *req);

/* The raw body bytes (empty when none). */
KILN_API kiln_str kiln_req_body(const kiln_req *req);

/* A header by name, case-insensitively ("Content-Type"), or NULL. */
KILN_API const kiln_str *kiln_req_header(const kiln_req *req, const char *name);

/*
 * All headers, with names as "Content-Type" (for iteration), built on
 * first use in the request arena. May abort (out of memory).
 */
KILN_API const kiln_kvs *kiln_req_headers(kiln_req *req);

/* A cookie by name, or NULL. A garbage Cookie header yields no cookies. */
KILN_API const kiln_str *kiln_req_cookie(kiln_req *req, const char *name);
KILN_API const kiln_kvs *kiln_req_cookies(kiln_req *req);

/* The client's address as nginx saw it ("127.0.0.1"). */
KILN_API kiln_str kiln_req_remote_addr(const kiln_req *req);

/* "http" or "https", and the Host the client asked for (with port). */
KILN_API kiln_str kiln_req_scheme(const kiln_req *req);
KILN_API kiln_str kiln_req_host(const kiln_req *req);

/* True when the scheme is https. */
KILN_API bool kiln_req_is_secure(const kiln_req *req);

/*
 * Route arguments. kiln_arg returns the argument's text or NULL; the typed
 * forms abort with 500 when the route has no such argument (a programming
 * error) and kiln_arg_int returns the value of an <int:...> argument.
 */
KILN_API const kiln_str *kiln_arg(const kiln_req *req, const char *name);
KILN_API const char *kiln_arg_str(kiln_req *req, const char *name);
KILN_API int64_t kiln_arg_int(kiln_req *req, const char *name);

/* The matched route's name ("blog.detail") and blueprint name ("blog"). */
KILN_API const char *kiln_req_endpoint(const kiln_req *req);
KILN_API const char *kiln_req_blueprint(const kiln_req *req);

/*
 * g: per-request storage, empty at the start of every request. The value
 * pointer is stored as is (allocate it in the request arena).
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_g_set(kiln_req *req, const char *key,
    void *value);
KILN_API void *kiln_g_get(const kiln_req *req, const char *key);

/*
 * Ends the request now with status: unwinds to the dispatcher, which runs
 * the error handler for status. Never returns. msg_fmt (may be NULL) is the
 * description shown on the default error page.
 */
KILN_API KILN_NORETURN void kiln_abort(kiln_req *req, int status);
KILN_API KILN_NORETURN void kiln_abort_msg(kiln_req *req, int status,
    const char *fmt, ...) KILN_PRINTF(3, 4);

/* Returns the message given to kiln_abort_msg (or "" ). */
KILN_API const char *kiln_req_errmsg(const kiln_req *req);

/*
 * Builds the URL of the route named name. The variable arguments are
 * pairs of C strings, name then value, ended by NULL; values fill the
 * rule's arguments (percent-encoded) and the rest become the query
 * string. A name starting with "." is relative to the current blueprint.
 * Returns the URL in the request arena. An unknown name, a missing
 * argument or a value its converter rejects aborts with 500 and a message
 * naming the problem. May abort.
 */
KILN_API const char *kiln_url_for(kiln_req *req, const char *name, ...);

/*
 * The same without aborting, for code outside a request: writes the URL
 * (in arena a) to *out, or returns KILN_ENOTFOUND / KILN_EINVAL with a
 * message in err (errlen bytes). args holds name/value pairs.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_url_build(const kiln_app *app,
    kiln_arena *a, const char *name, const kiln_kvs *args, kiln_str *out,
    char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif /* KILN_REQUEST_H */
