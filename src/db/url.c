/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Database URLs. sqlite:///abs/path, sqlite:rel/path and sqlite::memory:
 * name a SQLite file; mysql://user:pass@host:port/db?unix_socket=PATH (or
 * mariadb://) a MySQL/MariaDB server. User, password, database and socket
 * are percent-decoded; a decoded NUL byte is refused, as is any query
 * option other than unix_socket, so a typo is not silently ignored.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <kiln/kiln.h>

#include "db_int.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Returns a decoded, NUL-terminated copy of len bytes at p in a, or NULL
 * on a bad escape, a NUL byte or no memory (*bad tells which).
 */
static char *
decode(kiln_arena *a, const char *p, size_t len, bool *bad)
{
	char *out, *o;
	size_t i;
	int hi, lo;

	*bad = false;
	if ((out = kiln_arena_alloc(a, len + 1)) == NULL)
		return NULL;
	for (i = 0, o = out; i < len; i++) {
		if (p[i] != '%') {
			*o++ = p[i];
			continue;
		}
		if (i + 2 >= len)
			goto bad;
		hi = hexval(p[i + 1]);
		lo = hexval(p[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			goto bad;
		*o++ = (char)(hi * 16 + lo);
		i += 2;
	}
	*o = '\0';
	return out;
bad:
	*bad = true;
	return NULL;
}

void
kiln__db_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Decodes one part into *out; NULL when empty. */
static kiln_err
part(kiln_arena *a, const char *p, size_t len, const char **out,
    const char *what, char *err, size_t errlen)
{
	bool bad;

	*out = NULL;
	if (len == 0)
		return KILN_OK;
	if ((*out = decode(a, p, len, &bad)) != NULL)
		return KILN_OK;
	if (!bad)
		return KILN_ENOMEM;
	kiln__db_seterr(err, errlen, "bad percent-escape or NUL in the %s",
	    what);
	return KILN_EINVAL;
}

static kiln_err
parse_sqlite(kiln_arena *a, const char *rest, kiln_db_url *url, char *err,
    size_t errlen)
{
	const char *path = rest;

	if (strncmp(rest, "//", 2) == 0) {
		path = rest + 2;
		if (path[0] != '/' && strcmp(path, ":memory:") != 0) {
			kiln__db_seterr(err, errlen,
			    "sqlite URL has a host; write sqlite:///abs/path "
			    "or sqlite:relative/path");
			return KILN_EINVAL;
		}
	}
	if (path[0] == '\0') {
		kiln__db_seterr(err, errlen, "sqlite URL has no path");
		return KILN_EINVAL;
	}
	url->scheme = "sqlite";
	return part(a, path, strlen(path), &url->name, "path", err, errlen);
}

/* Parses "?unix_socket=PATH" (the only option). */
static kiln_err
parse_query(kiln_arena *a, const char *q, kiln_db_url *url, char *err,
    size_t errlen)
{
	static const char key[] = "unix_socket=";
	const char *amp;
	size_t len;
	kiln_err rc;

	while (*q != '\0') {
		amp = strchr(q, '&');
		len = amp != NULL ? (size_t)(amp - q) : strlen(q);
		if (len < sizeof(key) - 1 ||
		    strncmp(q, key, sizeof(key) - 1) != 0) {
			kiln__db_seterr(err, errlen,
			    "unknown option '%.*s' (only unix_socket=PATH)",
			    (int)(len > 40 ? 40 : len), q);
			return KILN_EINVAL;
		}
		if ((rc = part(a, q + sizeof(key) - 1, len - (sizeof(key) - 1),
			 &url->socket, "unix_socket", err, errlen)) != KILN_OK)
			return rc;
		q += len;
		if (*q == '&')
			q++;
	}
	return KILN_OK;
}

/* Parses "[user[:pass]@][host][:port]/db[?opts]". */
static kiln_err
parse_mysql(kiln_arena *a, const char *rest, kiln_db_url *url, char *err,
    size_t errlen)
{
	const char *at, *auth, *colon, *slash, *q, *hostend, *portp;
	int64_t port;
	kiln_err rc;

	url->scheme = "mysql";
	if (strncmp(rest, "//", 2) != 0) {
		kiln__db_seterr(err, errlen, "mysql URL must start mysql://");
		return KILN_EINVAL;
	}
	rest += 2;
	slash = strchr(rest, '/');
	q = strchr(rest, '?');
	if (slash == NULL || (q != NULL && q < slash)) {
		kiln__db_seterr(err, errlen, "mysql URL has no /database");
		return KILN_EINVAL;
	}
	at = memchr(rest, '@', (size_t)(slash - rest));
	/* The password may contain '@' when escaped; take the last '@'. */
	while (at != NULL && memchr(at + 1, '@', (size_t)(slash - at - 1)))
		at = memchr(at + 1, '@', (size_t)(slash - at - 1));
	auth = rest;
	if (at != NULL) {
		colon = memchr(auth, ':', (size_t)(at - auth));
		if ((rc = part(a, auth, (size_t)((colon ? colon : at) - auth),
			 &url->user, "user", err, errlen)) != KILN_OK)
			return rc;
		if (colon != NULL &&
		    (rc = part(a, colon + 1, (size_t)(at - colon - 1),
			 &url->password, "password", err, errlen)) != KILN_OK)
			return rc;
		rest = at + 1;
	}
	hostend = slash;
	portp = memchr(rest, ':', (size_t)(slash - rest));
	if (portp != NULL) {
		hostend = portp;
		if (kiln_str_to_i64((kiln_str){ portp + 1,
					(size_t)(slash - portp - 1) },
			&port) != KILN_OK ||
		    port < 1 || port > 65535) {
			kiln__db_seterr(err, errlen, "bad port in mysql URL");
			return KILN_EINVAL;
		}
		url->port = (unsigned)port;
	}
	if ((rc = part(a, rest, (size_t)(hostend - rest), &url->host, "host",
		 err, errlen)) != KILN_OK)
		return rc;
	if ((rc = part(a, slash + 1,
		 q != NULL ? (size_t)(q - slash - 1) : strlen(slash + 1),
		 &url->name, "database", err, errlen)) != KILN_OK)
		return rc;
	if (url->name == NULL) {
		kiln__db_seterr(err, errlen, "mysql URL has no database name");
		return KILN_EINVAL;
	}
	return q != NULL ? parse_query(a, q + 1, url, err, errlen) : KILN_OK;
}

kiln_err
kiln_db_url_parse(kiln_arena *a, const char *text, kiln_db_url *url, char *err,
    size_t errlen)
{
	memset(url, 0, sizeof(*url));
	if (text == NULL || text[0] == '\0') {
		kiln__db_seterr(err, errlen, "empty database URL");
		return KILN_EINVAL;
	}
	if (strncmp(text, "sqlite:", 7) == 0)
		return parse_sqlite(a, text + 7, url, err, errlen);
	if (strncmp(text, "mysql:", 6) == 0)
		return parse_mysql(a, text + 6, url, err, errlen);
	if (strncmp(text, "mariadb:", 8) == 0)
		return parse_mysql(a, text + 8, url, err, errlen);
	kiln__db_seterr(err, errlen,
	    "unknown database URL scheme (sqlite: or mysql:)");
	return KILN_EINVAL;
}
