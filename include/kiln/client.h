/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The test client: runs requests through the whole app in-process (no
 * nginx, no sockets), exactly as a worker would dispatch them, and keeps
 * cookies between calls like a browser. A response stays valid until the
 * next request on the same client.
 */
#ifndef KILN_CLIENT_H
#define KILN_CLIENT_H

#include <kiln/app.h>
#include <kiln/common.h>
#include <kiln/kv.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kiln_client kiln_client;

typedef struct kiln_client_resp {
	int status;	  /* 200 */
	kiln_kvs headers; /* as sent, Set-Cookie included */
	kiln_str body;	  /* the body (NUL-terminated) */
} kiln_client_resp;

/*
 * Creates a client for app (which must be configured). Returns NULL when
 * out of memory. The client does not own app.
 */
KILN_API KILN_WARN_UNUSED kiln_client *kiln_client_new(kiln_app *app);
KILN_API void kiln_client_free(kiln_client *c);

/*
 * Sends a request. target is the path with an optional query
 * ("/a?x=1", percent-encoded as on the wire). headers (may be NULL) are
 * extra request headers; body may be empty. Returns the response, or NULL
 * when out of memory.
 */
KILN_API const kiln_client_resp *kiln_client_request(kiln_client *c,
    const char *method, const char *target, const kiln_kvs *headers,
    kiln_str body);

/* GET target. */
KILN_API const kiln_client_resp *kiln_client_get(kiln_client *c,
    const char *target);

/* POST urlencoded fields: pairs of C strings (name, value), ended by NULL. */
KILN_API const kiln_client_resp *kiln_client_post_form(kiln_client *c,
    const char *target, ...);

/* POST (or another method) a JSON text with application/json. */
KILN_API const kiln_client_resp *kiln_client_send_json(kiln_client *c,
    const char *method, const char *target, const char *json);

/* A response header (case-insensitive), or NULL. */
KILN_API const kiln_str *kiln_client_resp_header(const kiln_client_resp *r,
    const char *name);

/* The cookie jar: a cookie's current value, or NULL; set one by hand. */
KILN_API const kiln_str *kiln_client_cookie(const kiln_client *c,
    const char *name);
KILN_API KILN_WARN_UNUSED kiln_err kiln_client_set_cookie(kiln_client *c,
    const char *name, const char *value);

/* Sets the remote address and scheme the app sees (default 127.0.0.1, http). */
KILN_API void kiln_client_set_remote(kiln_client *c, const char *addr,
    bool https);

#ifdef __cplusplus
}
#endif
#endif /* KILN_CLIENT_H */
