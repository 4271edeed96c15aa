/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Creates the listening socket the master shares with its workers. Kiln
 * does this itself rather than through FCGX_OpenSocket, which unlinks a
 * live server's socket, exits on failure, binds every interface for an
 * empty host and leaves the mode to the umask (PLATFORM.md).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <kiln/kiln.h>

#include "server_int.h"

/* True when something accepts connections on the unix socket at path. */
static bool
unix_alive(const struct sockaddr_un *sun)
{
	int fd, rc;

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return false;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	return rc == 0;
}

static int
listen_unix(const char *path, int mode, int backlog, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd = -1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen,
		    "unix socket path %s is longer than %zu "
		    "bytes",
		    path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket",
			    path);
			return -1;
		}
		if (unix_alive(&sun)) {
			snprintf(err, errlen,
			    "another server is listening on "
			    "%s; stop it first",
			    path);
			return -1;
		}
		unlink(path); /* a stale socket of a dead server */
	}
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		goto err;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		goto err;
	if (chmod(path, mode >= 0 ? (mode_t)mode : 0660) != 0)
		goto err;
	if (listen(fd, backlog) != 0)
		goto err;
	return fd;
err:
	snprintf(err, errlen, "listen on %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int
listen_tcp(const char *spec, int backlog, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256];
	const char *colon, *port;
	int fd = -1, one = 1, rc;
	size_t hlen;

	colon = strrchr(spec, ':');
	if (colon == NULL) {
		snprintf(host, sizeof(host), "127.0.0.1");
		port = spec;
	} else {
		hlen = (size_t)(colon - spec);
		if (hlen >= sizeof(host)) {
			snprintf(err, errlen, "host in %s is too long", spec);
			return -1;
		}
		memcpy(host, spec, hlen);
		host[hlen] = '\0';
		if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
			memmove(host, host + 1, hlen - 2);
			host[hlen - 2] = '\0';
		}
		port = colon + 1;
		if (host[0] == '\0')
			snprintf(host, sizeof(host), "127.0.0.1");
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "listen on %s: %s", spec,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, backlog) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		snprintf(err, errlen, "listen on %s: %s", spec,
		    strerror(errno));
	freeaddrinfo(res);
	return fd;
}

int
kiln__listen(const char *spec, int mode, int backlog, char *err, size_t errlen)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return listen_unix(spec + 5, mode, backlog, err, errlen);
	if (spec[0] == '/' || spec[0] == '.')
		return listen_unix(spec, mode, backlog, err, errlen);
	return listen_tcp(spec, backlog, err, errlen);
}

/* Parses one address or CIDR network into a v4-mapped 16-byte form. */
static bool
allow_one(const char *s, size_t len, unsigned char addr[16],
    unsigned char *bits)
{
	struct in_addr v4;
	char buf[64];
	const char *slash;
	int64_t b;
	int maxbits = 128;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash != NULL)
		buf[slash - buf] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, &v4) == 1) {
		addr[10] = 0xff;
		addr[11] = 0xff;
		memcpy(addr + 12, &v4, 4);
		maxbits = 32;
	} else if (inet_pton(AF_INET6, buf, addr) != 1) {
		return false;
	}
	b = maxbits;
	if (slash != NULL &&
	    (kiln_str_to_i64(kiln_str_c(slash + 1), &b) != KILN_OK || b < 0 ||
		b > maxbits))
		return false;
	*bits = (unsigned char)(maxbits == 32 ? b + 96 : b);
	return true;
}

kiln_err
kiln__allow_parse(const char *list, kiln__allow *out, char *err, size_t errlen)
{
	const char *p, *end;
	size_t len;

	memset(out, 0, sizeof(*out));
	for (p = list != NULL ? list : ""; *p != '\0'; p = end) {
		while (*p == ' ' || *p == ',')
			p++;
		end = p;
		while (*end != '\0' && *end != ' ' && *end != ',')
			end++;
		len = (size_t)(end - p);
		if (len == 0)
			continue;
		if (len == 3 && memcmp(p, "all", 3) == 0) {
			out->any = true;
			continue;
		}
		if (out->n == KILN__ALLOW_MAX) {
			snprintf(err, errlen,
			    "server.allow_from: more than %d "
			    "entries",
			    KILN__ALLOW_MAX);
			return KILN_ECONFIG;
		}
		if (!allow_one(p, len, out->addr[out->n], &out->bits[out->n])) {
			snprintf(err, errlen,
			    "server.allow_from: '%.*s' is not "
			    "an IP address or network",
			    (int)len, p);
			return KILN_ECONFIG;
		}
		out->n++;
	}
	return KILN_OK;
}

bool
kiln__allow_match(const kiln__allow *al, const struct sockaddr *sa)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	unsigned char a[16], mask;
	size_t i, byte;
	unsigned bits;

	if (al->any || sa->sa_family == AF_UNIX)
		return true;
	memset(a, 0, sizeof(a));
	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		a[10] = 0xff;
		a[11] = 0xff;
		memcpy(a + 12, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(a, &sin6->sin6_addr, 16);
	} else {
		return false;
	}
	for (i = 0; i < al->n; i++) {
		bits = al->bits[i];
		for (byte = 0; bits >= 8; byte++, bits -= 8) {
			if (a[byte] != al->addr[i][byte])
				break;
		}
		if (bits >= 8)
			continue; /* a whole byte differed */
		mask = (unsigned char)(0xff << (8 - bits));
		if (bits == 0 || (a[byte] & mask) == (al->addr[i][byte] & mask))
			return true;
	}
	return false;
}
