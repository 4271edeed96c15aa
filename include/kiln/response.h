/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Responses. A response lives in its request's arena. Views return one;
 * the helpers below build the common kinds. Header names are stored as
 * given; a header set twice with kiln_resp_header_set keeps the last value.
 */
#ifndef KILN_RESPONSE_H
#define KILN_RESPONSE_H

#include <kiln/app.h>
#include <kiln/arena.h>
#include <kiln/common.h>
#include <kiln/kv.h>
#include <kiln/value.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Cookie attributes (all optional; zero means "not set"). */
typedef struct kiln_cookie_opts {
	int64_t max_age;      /* Max-Age in seconds; < 0 deletes; 0 unset */
	int64_t expires;      /* Expires as a Unix time; 0 unset */
	const char *path;     /* Path; NULL: "/" */
	const char *domain;   /* Domain; NULL: none */
	bool secure;	      /* Secure */
	bool http_only;	      /* HttpOnly */
	const char *samesite; /* "Lax", "Strict" or "None"; NULL: none */
} kiln_cookie_opts;

/*
 * Creates an empty response with status (100-599) and content type
 * "text/html; charset=utf-8". Never returns NULL: out of memory aborts
 * with 500 (may abort).
 */
KILN_API kiln_resp *kiln_resp_new(kiln_req *req, int status);

/* A response whose body is a copy of body, with content_type (NULL: html). */
KILN_API kiln_resp *kiln_resp_text(kiln_req *req, int status,
    const char *content_type, kiln_str body);

/* The same formatted with printf (text/html). */
KILN_API kiln_resp *kiln_resp_printf(kiln_req *req, int status, const char *fmt,
    ...) KILN_PRINTF(3, 4);

/* A JSON response of v (application/json). Unserialisable v gives 500. */
KILN_API kiln_resp *kiln_resp_json(kiln_req *req, int status,
    const kiln_val *v);

/*
 * A redirect to url (absolute or path) with status 301, 302, 303, 307 or
 * 308 (0: 302). url is copied; CR and LF in it abort with 500.
 */
KILN_API kiln_resp *kiln_redirect(kiln_req *req, const char *url, int status);

/*
 * Hands the request to nginx to serve the file at uri from an internal
 * location (X-Accel-Redirect), with content_type (NULL: let nginx decide).
 */
KILN_API kiln_resp *kiln_resp_x_accel(kiln_req *req, const char *uri,
    const char *content_type);

/* Status. */
KILN_API int kiln_resp_status(const kiln_resp *resp);
KILN_API void kiln_resp_set_status(kiln_resp *resp, int status);

/*
 * Headers. Names and values are copied. A name or value containing CR, LF
 * or NUL, or a name with characters outside RFC 9110's token, returns
 * KILN_EINVAL and sets nothing.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_resp_header_set(kiln_resp *resp,
    const char *name, const char *value);
KILN_API KILN_WARN_UNUSED kiln_err kiln_resp_header_add(kiln_resp *resp,
    const char *name, const char *value);
KILN_API const kiln_str *kiln_resp_header(const kiln_resp *resp,
    const char *name);
KILN_API const kiln_kvs *kiln_resp_headers(const kiln_resp *resp);

/*
 * Sets a cookie (a Set-Cookie header). Names must be tokens; values are
 * sent as given, and must not contain control characters, ';', ',' , '"',
 * '\\' or spaces (encode them first). Returns KILN_OK or KILN_EINVAL.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_resp_set_cookie(kiln_resp *resp,
    const char *name, const char *value, const kiln_cookie_opts *opts);

/* Deletes a cookie in the browser (empty value, Max-Age=0, expired). */
KILN_API KILN_WARN_UNUSED kiln_err kiln_resp_delete_cookie(kiln_resp *resp,
    const char *name, const char *path, const char *domain);

/* Body: appends bytes (returns KILN_OK or KILN_ENOMEM), or reads it. */
KILN_API KILN_WARN_UNUSED kiln_err kiln_resp_write(kiln_resp *resp,
    const void *p, size_t len);
KILN_API KILN_WARN_UNUSED kiln_err kiln_resp_printf_body(kiln_resp *resp,
    const char *fmt, ...) KILN_PRINTF(2, 3);
KILN_API kiln_str kiln_resp_body(const kiln_resp *resp);

/* Replaces the body. */
KILN_API KILN_WARN_UNUSED kiln_err kiln_resp_set_body(kiln_resp *resp,
    kiln_str body);

/* Returns the reason phrase for status ("Not Found"), or "Unknown". */
KILN_API const char *kiln_status_reason(int status);

#ifdef __cplusplus
}
#endif
#endif /* KILN_RESPONSE_H */
