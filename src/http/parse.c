/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Pure parsers and encoders of HTTP pieces (http_int.h): percent-encoding,
 * urlencoded query strings and forms, the Cookie header, Content-Type,
 * CGI header names, tokens and HTML escaping.
 *
 * Every input is hostile and a slice, not a C string: each function reads
 * only the len bytes it is given, checks every index against len before
 * using it, allocates only in the arena it is handed (or the buffer's
 * arena), and reports bad input with a return code, never by aborting.
 * Outputs that are built (decoded text, media types) are NUL-terminated
 * copies in the arena; outputs that are slices of the input say so.
 * Character classes are ASCII only and ignore the locale.
 */
#include "config.h"

#include <stdint.h>

#include <kiln/kiln.h>

#include "http_int.h"

/* RFC 9110 tchar, beyond ALPHA and DIGIT. */
static const char tchar_extra[] = "!#$%&'*+-.^_`|~";

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_tchar(unsigned char c)
{
	return is_alpha(c) || is_digit(c) ||
	    (c != '\0' && strchr(tchar_extra, c) != NULL);
}

/* Control bytes (and DEL), which no decoded field may contain. */
static bool
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static unsigned char
to_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static unsigned char
to_upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c;
}

/* Returns the value of hex digit c, or -1. */
static int
hex_val(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	c = to_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Trims spaces and tabs (HTTP's OWS) from both ends of s. */
static kiln_str
trim_ows(kiln_str s)
{
	while (s.len > 0 && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
		s.ptr++;
		s.len--;
	}
	while (
	    s.len > 0 && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
		s.len--;
	return s;
}

bool
kiln__is_token(kiln_str s)
{
	size_t i;

	if (s.len == 0)
		return false;
	for (i = 0; i < s.len; i++) {
		if (!is_tchar((unsigned char)s.ptr[i]))
			return false;
	}
	return true;
}

/*
 * Decoding never grows the text, so one allocation of in.len + 1 bytes
 * is enough. Both hex digits are checked to exist (i + 2 < len) before
 * they are read.
 */
kiln_err
kiln__pct_decode(kiln_arena *a, kiln_str in, bool plus_space, kiln_str *out)
{
	char *p;
	size_t i, n;
	int hi, lo;

	*out = KILN_STR_NULL;
	if (in.len == SIZE_MAX)
		return KILN_ENOMEM;
	p = kiln_arena_alloc(a, in.len + 1);
	if (p == NULL)
		return KILN_ENOMEM;
	n = 0;
	for (i = 0; i < in.len; i++) {
		if (in.ptr[i] == '%') {
			if (in.len - i < 3)
				return KILN_EPARSE;
			hi = hex_val((unsigned char)in.ptr[i + 1]);
			lo = hex_val((unsigned char)in.ptr[i + 2]);
			if (hi < 0 || lo < 0)
				return KILN_EPARSE;
			p[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (plus_space && in.ptr[i] == '+') {
			p[n++] = ' ';
		} else {
			p[n++] = in.ptr[i];
		}
	}
	p[n] = '\0';
	out->ptr = p;
	out->len = n;
	return KILN_OK;
}

/*
 * Runs of bytes that pass through are appended in one call. With
 * plus_space a literal '+' is always escaped, even when safe lists it,
 * because a decoder would read it back as a space. NUL is never safe
 * (strchr would find the terminator of safe).
 */
kiln_err
kiln__pct_encode(kiln_buf *b, kiln_str in, const char *safe, bool plus_space)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	size_t i, run;
	char esc[3];

	run = 0;
	for (i = 0; i < in.len; i++) {
		c = (unsigned char)in.ptr[i];
		if (is_alpha(c) || is_digit(c) || c == '-' || c == '.' ||
		    c == '_' || c == '~' ||
		    (safe != NULL && c != '\0' && strchr(safe, c) != NULL &&
			!(plus_space && c == '+'))) {
			run++;
			continue;
		}
		if (run > 0 &&
		    kiln_buf_append(b, in.ptr + i - run, run) != KILN_OK)
			return KILN_ENOMEM;
		run = 0;
		if (plus_space && c == ' ') {
			if (kiln_buf_append_char(b, '+') != KILN_OK)
				return KILN_ENOMEM;
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 0x0f];
		if (kiln_buf_append(b, esc, sizeof(esc)) != KILN_OK)
			return KILN_ENOMEM;
	}
	if (run > 0 &&
	    kiln_buf_append(b, in.ptr + in.len - run, run) != KILN_OK)
		return KILN_ENOMEM;
	return KILN_OK;
}

/*
 * Decodes one name or value of a urlencoded pair and checks that the
 * result is text: valid UTF-8 with no NUL. Sets *why on failure.
 */
static kiln_err
form_decode(kiln_arena *a, kiln_str in, kiln_str *out, const char **why)
{
	kiln_err rc;

	rc = kiln__pct_decode(a, in, true, out);
	if (rc == KILN_EPARSE) {
		*why = "malformed percent escape";
		return rc;
	}
	if (rc != KILN_OK) {
		*why = "out of memory";
		return rc;
	}
	if (memchr(out->ptr, '\0', out->len) != NULL) {
		*why = "NUL byte in a field";
		return KILN_EPARSE;
	}
	if (!kiln_utf8_valid(*out)) {
		*why = "field is not valid UTF-8";
		return KILN_EPARSE;
	}
	return KILN_OK;
}

/*
 * Walks the '&'-separated pairs. The field limit is checked before a
 * pair is decoded, so an input of many pairs costs at most max_fields
 * decodings. On any error the pairs this call appended are removed
 * again, so out holds either all of the input's pairs or none.
 */
kiln_err
kiln__parse_urlencoded(kiln_arena *a, kiln_str in, size_t max_fields,
    kiln_kvs *out, const char **why)
{
	const char *dummy, *amp, *eq, *end;
	kiln_str pair, key, val;
	size_t start_n, fields;
	kiln_err rc;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (in.len == 0)
		return KILN_OK;
	start_n = out->n;
	fields = 0;
	end = in.ptr + in.len;
	pair.ptr = in.ptr;
	for (;;) {
		amp = memchr(pair.ptr, '&', (size_t)(end - pair.ptr));
		pair.len = (size_t)((amp != NULL ? amp : end) - pair.ptr);
		if (pair.len > 0) {
			if (fields == max_fields) {
				*why = "too many fields";
				rc = KILN_ELIMIT;
				goto err;
			}
			fields++;
			eq = memchr(pair.ptr, '=', pair.len);
			key.ptr = pair.ptr;
			key.len =
			    eq != NULL ? (size_t)(eq - pair.ptr) : pair.len;
			val.ptr = eq != NULL ? eq + 1 : pair.ptr + pair.len;
			val.len = pair.len - key.len - (eq != NULL ? 1 : 0);
			if ((rc = form_decode(a, key, &key, why)) != KILN_OK ||
			    (rc = form_decode(a, val, &val, why)) != KILN_OK)
				goto err;
			if ((rc = kiln_kvs_add(out, key, val)) != KILN_OK) {
				*why = "out of memory";
				goto err;
			}
		}
		if (amp == NULL)
			break;
		pair.ptr = amp + 1;
	}
	return KILN_OK;
err:
	out->n = start_n;
	return rc;
}

/*
 * Checks a cookie name or value: no control bytes and valid UTF-8.
 * Values may hold spaces (browsers send them); names may not, nor the
 * characters that delimit the header (',' '"' and those already split
 * on).
 */
static bool
cookie_ok(kiln_str s, bool name)
{
	unsigned char c;
	size_t i;

	for (i = 0; i < s.len; i++) {
		c = (unsigned char)s.ptr[i];
		if (is_ctl(c))
			return false;
		if (name && (c == ' ' || c == '"' || c == ','))
			return false;
	}
	return kiln_utf8_valid(s);
}

/*
 * Splits on ';', trims each piece, and keeps "name=value" pieces whose
 * name is non-empty. Anything else is skipped: a piece without '=', an
 * empty name, control bytes in a name or value, spaces inside a name,
 * invalid UTF-8. A value wrapped in double quotes loses them; a lone or
 * unmatched quote is kept as it is. The kept pairs are slices of header.
 */
kiln_err
kiln__parse_cookies(kiln_arena *a, kiln_str header, size_t max_cookies,
    kiln_kvs *out)
{
	const char *semi, *eq, *end;
	kiln_str piece, name, val;
	size_t kept;

	(void)a;
	if (header.len == 0)
		return KILN_OK;
	kept = 0;
	end = header.ptr + header.len;
	piece.ptr = header.ptr;
	while (kept < max_cookies) {
		semi = memchr(piece.ptr, ';', (size_t)(end - piece.ptr));
		piece.len = (size_t)((semi != NULL ? semi : end) - piece.ptr);
		eq = memchr(piece.ptr, '=', piece.len);
		if (eq != NULL) {
			name.ptr = piece.ptr;
			name.len = (size_t)(eq - piece.ptr);
			val.ptr = eq + 1;
			val.len = piece.len - name.len - 1;
			name = trim_ows(name);
			val = trim_ows(val);
			if (val.len >= 2 && val.ptr[0] == '"' &&
			    val.ptr[val.len - 1] == '"') {
				val.ptr++;
				val.len -= 2;
			}
			if (name.len > 0 && cookie_ok(name, true) &&
			    cookie_ok(val, false)) {
				if (kiln_kvs_add(out, name, val) != KILN_OK)
					return KILN_ENOMEM;
				kept++;
			}
		}
		if (semi == NULL)
			break;
		piece.ptr = semi + 1;
	}
	return KILN_OK;
}

/*
 * Reads one parameter value starting at p (before end): a token, or a
 * quoted-string with backslash escapes undone (into a). Sets *next past
 * it. Returns KILN_EPARSE when a quoted string is not closed, or
 * KILN_ENOMEM.
 */
static kiln_err
ct_param_value(kiln_arena *a, const char *p, const char *end, const char **next,
    kiln_str *val)
{
	char *q;
	size_t n;

	if (p < end && *p == '"') {
		p++;
		q = kiln_arena_alloc(a, (size_t)(end - p) + 1);
		if (q == NULL)
			return KILN_ENOMEM;
		n = 0;
		while (p < end && *p != '"') {
			if (*p == '\\' && end - p > 1)
				p++;
			q[n++] = *p++;
		}
		if (p == end)
			return KILN_EPARSE;
		q[n] = '\0';
		val->ptr = q;
		val->len = n;
		*next = p + 1;
		return KILN_OK;
	}
	val->ptr = p;
	while (p < end && is_tchar((unsigned char)*p))
		p++;
	val->len = (size_t)(p - val->ptr);
	*next = p;
	return KILN_OK;
}

/*
 * Parses the parameters after the media type (p points just after the
 * subtype) and sets *charset (which starts as KILN_STR_NULL) from the
 * first "charset" parameter. Only a non-parameter right after the type
 * is an error (KILN_EPARSE). Later the parameters are read leniently, as
 * browsers send them: a parameter without '=', with a bad name, with an
 * unclosed quote or followed by junk ends the scan, and no charset after
 * that point counts. Returns KILN_OK, KILN_EPARSE or KILN_ENOMEM.
 */
static kiln_err
ct_params(kiln_arena *a, const char *p, const char *end, kiln_str *charset)
{
	kiln_str name, val;
	kiln_err rc;
	bool first;

	for (first = true;; first = false) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			return KILN_OK;
		if (*p != ';')
			return first ? KILN_EPARSE : KILN_OK;
		p++;
		while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
			p++;
		name.ptr = p;
		while (p < end && is_tchar((unsigned char)*p))
			p++;
		name.len = (size_t)(p - name.ptr);
		if (name.len == 0 || p == end || *p != '=')
			return KILN_OK;
		rc = ct_param_value(a, p + 1, end, &p, &val);
		if (rc != KILN_OK)
			return rc == KILN_ENOMEM ? rc : KILN_OK;
		if (charset->ptr == NULL &&
		    kiln_str_caseeq(name, KILN_STR("charset"))) {
			*charset = kiln_str_dup(a, val);
			if (charset->ptr == NULL)
				return KILN_ENOMEM;
		}
	}
}

/*
 * The media type is "type/subtype", both tokens, with optional spaces
 * before it; it is returned lower-cased in a. The charset value is
 * returned unquoted but otherwise as sent (compare it with
 * kiln_str_caseeq), as a NUL-terminated copy in a.
 */
kiln_err
kiln__parse_content_type(kiln_arena *a, kiln_str in, kiln_str *mime,
    kiln_str *charset)
{
	const char *p, *end, *start, *slash;
	kiln_str cs;
	kiln_err rc;
	char *m;
	size_t i, n;

	*mime = KILN_STR("");
	*charset = KILN_STR("");
	if (in.len == 0)
		return KILN_EPARSE;
	p = in.ptr;
	end = in.ptr + in.len;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	start = p;
	while (p < end && is_tchar((unsigned char)*p))
		p++;
	if (p == start || p == end || *p != '/')
		return KILN_EPARSE;
	slash = p++;
	while (p < end && is_tchar((unsigned char)*p))
		p++;
	if (p == slash + 1)
		return KILN_EPARSE;
	n = (size_t)(p - start);
	cs = KILN_STR_NULL;
	rc = ct_params(a, p, end, &cs);
	if (rc != KILN_OK)
		return rc;
	m = kiln_arena_alloc(a, n + 1);
	if (m == NULL)
		return KILN_ENOMEM;
	if (cs.ptr != NULL)
		*charset = cs;
	for (i = 0; i < n; i++)
		m[i] = (char)to_lower((unsigned char)start[i]);
	m[n] = '\0';
	mime->ptr = m;
	mime->len = n;
	return KILN_OK;
}

/*
 * Builds "Word-Word" from "WORD_WORD": each '_' becomes '-' and each
 * word is capitalised. The result must be a token; nginx only passes
 * names of letters, digits and '_', but the params are hostile too.
 */
kiln_err
kiln__cgi_header_name(kiln_arena *a, kiln_str cgi, kiln_str *out)
{
	kiln_str src;
	char *p;
	size_t i;
	bool word_start;

	*out = KILN_STR_NULL;
	if (kiln_str_eq(cgi, KILN_STR("CONTENT_TYPE")) ||
	    kiln_str_eq(cgi, KILN_STR("CONTENT_LENGTH")))
		src = cgi;
	else if (cgi.len > 5 && kiln_str_startswith(cgi, KILN_STR("HTTP_")))
		src = (kiln_str){ cgi.ptr + 5, cgi.len - 5 };
	else
		return KILN_ENOTFOUND;
	p = kiln_arena_alloc(a, src.len + 1);
	if (p == NULL)
		return KILN_ENOMEM;
	word_start = true;
	for (i = 0; i < src.len; i++) {
		if (src.ptr[i] == '_') {
			p[i] = '-';
			word_start = true;
			continue;
		}
		p[i] = (char)(word_start ? to_upper((unsigned char)src.ptr[i]) :
					   to_lower((unsigned char)src.ptr[i]));
		word_start = false;
	}
	p[src.len] = '\0';
	out->ptr = p;
	out->len = src.len;
	if (!kiln__is_token(*out)) {
		*out = KILN_STR_NULL;
		return KILN_ENOTFOUND;
	}
	return KILN_OK;
}

/*
 * Escapes as Django's escape() does: & < > " and ' (as &#x27;). Runs of
 * plain bytes are appended in one call.
 */
kiln_err
kiln__html_escape(kiln_buf *b, kiln_str s)
{
	const char *rep;
	size_t i, run;

	run = 0;
	for (i = 0; i < s.len; i++) {
		switch (s.ptr[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#x27;";
			break;
		default:
			run++;
			continue;
		}
		if (run > 0 &&
		    kiln_buf_append(b, s.ptr + i - run, run) != KILN_OK)
			return KILN_ENOMEM;
		run = 0;
		if (kiln_buf_append_c(b, rep) != KILN_OK)
			return KILN_ENOMEM;
	}
	if (run > 0 && kiln_buf_append(b, s.ptr + s.len - run, run) != KILN_OK)
		return KILN_ENOMEM;
	return KILN_OK;
}
