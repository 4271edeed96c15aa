/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Pure parsers and encoders of HTTP pieces: percent-encoding, urlencoded
 * forms and query strings, the Cookie header, Content-Type, and CGI
 * header names. Each works over a buffer with explicit limits, allocates
 * only in the arena it is given, never aborts, and is fuzzed
 * (tests/fuzz/).
 */
#ifndef KILN_HTTP_INT_H
#define KILN_HTTP_INT_H

#include <kiln/kiln.h>

/*
 * Percent-decodes in into *out (NUL-terminated, in a). plus_space turns
 * '+' into ' ' (forms and queries). A '%' not followed by two hex digits
 * is KILN_EPARSE. Decoded bytes are not checked for UTF-8 here.
 */
kiln_err kiln__pct_decode(kiln_arena *a, kiln_str in, bool plus_space,
    kiln_str *out);

/*
 * Appends in to b percent-encoded: unreserved bytes (A-Z a-z 0-9 - . _ ~)
 * and the bytes in safe (may be NULL) pass through; with plus_space a
 * space becomes '+' (for query strings, like urlencode).
 */
kiln_err kiln__pct_encode(kiln_buf *b, kiln_str in, const char *safe,
    bool plus_space);

/*
 * Parses an application/x-www-form-urlencoded string (a query string or
 * a form body) into out, appending pairs. '&' separates pairs (';' does
 * not); a pair without '=' has an empty value; empty pairs are skipped.
 * Keys and values are decoded (plus as space) and must be valid UTF-8
 * without NUL. Errors: KILN_EPARSE (bad escape, bad UTF-8), KILN_ELIMIT
 * (more than max_fields pairs). On error *why (may be NULL) names the
 * problem in a static string.
 */
kiln_err kiln__parse_urlencoded(kiln_arena *a, kiln_str in, size_t max_fields,
    kiln_kvs *out, const char **why);

/*
 * Parses a Cookie header ("a=1; b=2") into out, leniently as browsers
 * and Django do: a malformed pair is skipped, never an error; at most
 * max_cookies pairs are kept. Values in double quotes lose the quotes.
 * Names and values are not percent-decoded.
 */
kiln_err kiln__parse_cookies(kiln_arena *a, kiln_str header, size_t max_cookies,
    kiln_kvs *out);

/*
 * Splits a Content-Type value into the lower-cased media type ("text/html",
 * in a) and the value of its charset parameter (or empty). KILN_EPARSE when
 * there is no "type/subtype".
 */
kiln_err kiln__parse_content_type(kiln_arena *a, kiln_str in, kiln_str *mime,
    kiln_str *charset);

/*
 * Turns a CGI param name into an HTTP header name: "HTTP_X_FORWARDED_FOR"
 * -> "X-Forwarded-For", "CONTENT_TYPE" -> "Content-Type",
 * "CONTENT_LENGTH" -> "Content-Length". Returns KILN_ENOTFOUND for params
 * that are not headers.
 */
kiln_err kiln__cgi_header_name(kiln_arena *a, kiln_str cgi, kiln_str *out);

/* Returns true when s is an RFC 9110 token (header names, cookie names,
 * methods). */
bool kiln__is_token(kiln_str s);

/* Appends s to b HTML-escaped (& < > " ' as Django does). */
kiln_err kiln__html_escape(kiln_buf *b, kiln_str s);

#endif /* KILN_HTTP_INT_H */
