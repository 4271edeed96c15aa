/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * fcgi_hostile: a raw FastCGI client, written for Kiln, that sends a
 * pool hostile inputs over its unix socket, the shapes of issue 7 and
 * more, and after each checks that a valid request ("GET /") is answered
 * with status 200 within 1 s. It prints one line per case and a final
 * "N passed, M failed" on stdout (nothing else), and exits 1 when a case
 * failed. Whether a worker died or spins is checked by the caller
 * (tests/integration/site.sh) from the pool's worker pids.
 *
 *   fcgi_hostile [-w WORKERS] [-H HEADER_MS] [-I IDLE_MS] [-b MAX_BODY]
 *       [-c CASE] SOCKET
 *
 * WORKERS (default 2) is how many connections the stall cases hold at
 * once, so that every worker is pinned and only a deadline can free it;
 * HEADER_MS and IDLE_MS (default 5000, Kiln's fcgi.header_timeout and
 * fcgi.idle_timeout) and MAX_BODY (default 1048576, limits.max_body) are
 * the pool's settings; -c runs only the cases whose name contains CASE.
 * SOCKET is a path, with or without "unix:".
 *
 * Built with the tree (Makefile.am: check_PROGRAMS), or on its own:
 *   cc -std=c11 -O2 -Wall -o fcgi_hostile tests/integration/fcgi_hostile.c
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _GNU_SOURCE 1
#endif

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Record types, roles, flags and statuses (FastCGI 1.0). */
enum {
	T_BEGIN = 1,
	T_ABORT = 2,
	T_END = 3,
	T_PARAMS = 4,
	T_STDIN = 5,
	T_STDOUT = 6,
	T_STDERR = 7,
	T_DATA = 8,
	T_GET_VALUES = 9,
	T_GET_VALUES_RESULT = 10,
	T_UNKNOWN_TYPE = 11,
	ROLE_RESPONDER = 1,
	ROLE_AUTHORIZER = 2,
	KEEP = 1,
	ST_CANT_MPX = 1,
	ST_UNKNOWN_ROLE = 3,
};

#define OUT_KEEP  (256 * 1024) /* STDOUT bytes kept per exchange */
#define PROBE_MS  1000	       /* a valid request must be answered in this */
#define QUICK_MS  1000	       /* a bad connection must be closed in this */
#define SLACK_MS  3000	       /* added to a server deadline */
#define MAX_STALL 64	       /* connections a stall case may hold */

/* Options. */
static const char *sock_path;
static int workers = 2;
static int header_ms = 5000;
static int idle_ms = 5000;
static long max_body = 1048576;

/* A growable byte buffer (this program exits soon; nothing is freed early). */
typedef struct buf {
	uint8_t *p; /* bytes */
	size_t len; /* used */
	size_t cap; /* allocated */
} buf;

/* What came back on a connection. */
typedef struct reply {
	bool eof;	     /* the server closed the connection */
	bool send_failed;    /* the server stopped reading before we finished */
	bool bad;	     /* a malformed record from the server */
	int nend;	     /* END_REQUEST records */
	unsigned end_id[8];  /* their request ids */
	uint32_t end_app[8]; /* app statuses */
	int end_proto[8];    /* protocol statuses */
	size_t out_len;	     /* STDOUT bytes */
	char *out;	     /* the first OUT_KEEP of them, NUL-terminated */
	int ngv;	     /* GET_VALUES_RESULT records */
	int gv_pairs_max;    /* most pairs in one */
	int nunknown;	     /* UNKNOWN_TYPE records */
	int unknown_type;    /* the type named by the last */
	buf acc;	     /* bytes not yet parsed */
} reply;

static void
die(const char *what)
{
	fprintf(stderr, "fcgi_hostile: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
b_put(buf *b, const void *p, size_t n)
{
	uint8_t *np;

	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		np = realloc(b->p, b->cap);
		if (np == NULL)
			die("realloc");
		b->p = np;
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
b_free(buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Appends a record with any version, content and plen zero bytes of padding. */
static void
b_rec_v(buf *b, int ver, int type, unsigned id, const void *c, size_t clen,
    size_t plen)
{
	uint8_t h[8], pad[255];

	h[0] = (uint8_t)ver;
	h[1] = (uint8_t)type;
	h[2] = (uint8_t)(id >> 8);
	h[3] = (uint8_t)id;
	h[4] = (uint8_t)(clen >> 8);
	h[5] = (uint8_t)clen;
	h[6] = (uint8_t)plen;
	h[7] = 0;
	b_put(b, h, 8);
	b_put(b, c, clen);
	memset(pad, 0, sizeof(pad));
	b_put(b, pad, plen);
}

static void
b_rec(buf *b, int type, unsigned id, const void *c, size_t clen)
{
	b_rec_v(b, 1, type, id, c, clen, 0);
}

static void
b_begin(buf *b, unsigned id, unsigned role, unsigned flags)
{
	uint8_t c[8] = { 0 };

	c[0] = (uint8_t)(role >> 8);
	c[1] = (uint8_t)role;
	c[2] = (uint8_t)flags;
	b_rec(b, T_BEGIN, id, c, 8);
}

/* Appends a pair length: one byte below 128 unless wide, else four. */
static void
b_len(buf *b, uint32_t n, bool wide)
{
	uint8_t l[4];

	if (n < 128 && !wide) {
		l[0] = (uint8_t)n;
		b_put(b, l, 1);
		return;
	}
	l[0] = (uint8_t)(n >> 24 | 0x80);
	l[1] = (uint8_t)(n >> 16);
	l[2] = (uint8_t)(n >> 8);
	l[3] = (uint8_t)n;
	b_put(b, l, 4);
}

static void
b_pair_n(buf *b, const char *n, size_t nl, const char *v, size_t vl)
{
	b_len(b, (uint32_t)nl, false);
	b_len(b, (uint32_t)vl, false);
	b_put(b, n, nl);
	b_put(b, v, vl);
}

static void
b_pair(buf *b, const char *n, const char *v)
{
	b_pair_n(b, n, strlen(n), v, strlen(v));
}

/* Appends a stream of records of at most 65535 bytes; ended if end. */
static void
b_stream(buf *b, int type, unsigned id, const void *p, size_t len, bool end)
{
	const uint8_t *s = p;
	size_t k;

	while (len > 0) {
		k = len < 65535 ? len : 65535;
		b_rec(b, type, id, s, k);
		s += k;
		len -= k;
	}
	if (end)
		b_rec(b, type, id, NULL, 0);
}

/* The params nginx sends for "GET uri" (Kiln's nginx snippet). */
static void
b_get_pairs(buf *pb, const char *uri, const char *cl)
{
	b_pair(pb, "GATEWAY_INTERFACE", "CGI/1.1");
	b_pair(pb, "SERVER_SOFTWARE", "nginx/1.22.1");
	b_pair(pb, "REQUEST_METHOD", cl[0] != '\0' ? "POST" : "GET");
	b_pair(pb, "REQUEST_URI", uri);
	b_pair(pb, "QUERY_STRING", "");
	b_pair(pb, "CONTENT_TYPE",
	    cl[0] != '\0' ? "application/octet-stream" : "");
	b_pair(pb, "CONTENT_LENGTH", cl);
	b_pair(pb, "SCRIPT_NAME", "");
	b_pair(pb, "PATH_INFO", uri);
	b_pair(pb, "DOCUMENT_URI", uri);
	b_pair(pb, "SERVER_PROTOCOL", "HTTP/1.1");
	b_pair(pb, "REQUEST_SCHEME", "http");
	b_pair(pb, "REMOTE_ADDR", "127.0.0.1");
	b_pair(pb, "REMOTE_PORT", "40000");
	b_pair(pb, "SERVER_ADDR", "127.0.0.1");
	b_pair(pb, "SERVER_PORT", "80");
	b_pair(pb, "SERVER_NAME", "localhost");
	b_pair(pb, "HTTP_HOST", "localhost");
	b_pair(pb, "HTTP_USER_AGENT", "fcgi_hostile");
}

/*
 * Appends the PARAMS stream of a GET / (a POST declaring cl unless cl is
 * ""), or only its first 1/part of the bytes; ended if end.
 */
static void
b_params(buf *b, unsigned id, const char *cl, size_t part, bool end)
{
	buf pb = { 0 };

	b_get_pairs(&pb, "/", cl);
	b_stream(b, T_PARAMS, id, pb.p, pb.len / part, end);
	b_free(&pb);
}

/* Appends BEGIN_REQUEST and the ended PARAMS stream of a GET /. */
static void
b_get_head(buf *b, unsigned id, unsigned flags, const char *cl)
{
	b_begin(b, id, ROLE_RESPONDER, flags);
	b_params(b, id, cl, 1, true);
}

/* Appends a whole valid GET / request. */
static void
b_get(buf *b, unsigned id, unsigned flags)
{
	b_get_head(b, id, flags, "");
	b_rec(b, T_STDIN, id, NULL, 0);
}

/* Connects to the pool's socket; -1 on failure. */
static int
conn(void)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sock_path) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, sock_path, strlen(sock_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 &&
	    errno != EINPROGRESS && errno != EAGAIN) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
reply_init(reply *r)
{
	memset(r, 0, sizeof(*r));
	r->out = calloc(1, OUT_KEEP + 1);
	if (r->out == NULL)
		die("calloc");
}

static void
reply_free(reply *r)
{
	free(r->out);
	b_free(&r->acc);
}

/* Parses the complete records in r->acc. */
static void
reply_parse(reply *r)
{
	const uint8_t *p;
	size_t off, clen, rl, i, k, nl, vl;
	int pairs;

	off = 0;
	while (r->acc.len - off >= 8) {
		p = r->acc.p + off;
		clen = (size_t)p[4] << 8 | p[5];
		rl = 8 + clen + p[6];
		if (r->acc.len - off < rl)
			break;
		if (p[0] != 1)
			r->bad = true;
		switch (p[1]) {
		case T_STDOUT:
			k = clen;
			if (r->out_len < OUT_KEEP) {
				k = OUT_KEEP - r->out_len < clen ?
				    OUT_KEEP - r->out_len :
				    clen;
				memcpy(r->out + r->out_len, p + 8, k);
			}
			r->out_len += clen;
			break;
		case T_END:
			if (clen != 8)
				r->bad = true;
			if (r->nend < 8 && clen == 8) {
				r->end_id[r->nend] = (unsigned)p[2] << 8 | p[3];
				r->end_app[r->nend] = (uint32_t)p[8] << 24 |
				    (uint32_t)p[9] << 16 |
				    (uint32_t)p[10] << 8 | p[11];
				r->end_proto[r->nend] = p[12];
			}
			r->nend++;
			break;
		case T_GET_VALUES_RESULT:
			pairs = 0;
			for (i = 0; i < clen;) {
				nl = p[8 + i++];
				if (i >= clen) {
					r->bad = true;
					break;
				}
				vl = p[8 + i++];
				if (nl > 127 || vl > 127 ||
				    i + nl + vl > clen) {
					r->bad = true;
					break;
				}
				i += nl + vl;
				pairs++;
			}
			r->ngv++;
			if (pairs > r->gv_pairs_max)
				r->gv_pairs_max = pairs;
			break;
		case T_UNKNOWN_TYPE:
			r->nunknown++;
			r->unknown_type = clen >= 1 ? p[8] : -1;
			break;
		case T_STDERR:
			break;
		default:
			r->bad = true;
			break;
		}
		off += rl;
	}
	memmove(r->acc.p, r->acc.p + off, r->acc.len - off);
	r->acc.len -= off;
}

/*
 * Sends out (if any) while reading replies, until want_ends END_REQUEST
 * records arrived, the server closed, or timeout_ms passed. A send the
 * server refuses (it closed) ends the sending, not the reading.
 */
static void
exchange(int fd, const buf *out, int timeout_ms, int want_ends, reply *r)
{
	struct pollfd pfd;
	uint8_t tmp[65536];
	int64_t end, left;
	size_t sent;
	ssize_t n;

	sent = 0;
	end = now_ms() + timeout_ms;
	while (!r->eof && r->nend < want_ends) {
		left = end - now_ms();
		if (left <= 0)
			return;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (out != NULL && sent < out->len && !r->send_failed)
			pfd.events |= POLLOUT;
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd.revents & POLLOUT) {
			n = send(fd, out->p + sent, out->len - sent,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				r->send_failed = true;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
			if (n > 0) {
				b_put(&r->acc, tmp, (size_t)n);
				reply_parse(r);
			} else if (n == 0 ||
			    (errno != EAGAIN && errno != EINTR)) {
				r->eof = true;
			}
		}
	}
}

/* The HTTP status of the (first) response in r: "Status: NNN", or 200. */
static int
status_of(const reply *r)
{
	const char *s;

	s = strstr(r->out, "Status: ");
	if (s == NULL)
		return r->out_len > 0 ? 200 : 0;
	return atoi(s + 8);
}

/* Counts "Status: 200" in r's kept output. */
static int
count_200(const reply *r)
{
	const char *s;
	int n;

	n = 0;
	for (s = r->out; (s = strstr(s, "Status: 200")) != NULL; s++)
		n++;
	return n;
}

/*
 * Sends out on a new connection and expects the server to close it
 * within QUICK_MS without any response.
 */
static const char *
expect_closed(const buf *out)
{
	reply r;
	const char *res;
	int fd;

	fd = conn();
	if (fd < 0)
		return "cannot connect";
	reply_init(&r);
	exchange(fd, out, QUICK_MS, 1000, &r);
	res = NULL;
	if (!r.eof)
		res = "connection not closed within 1 s";
	else if (r.out_len > 0 || r.nend > 0)
		res = "a response was sent to a bad request";
	else if (r.bad)
		res = "malformed record from the server";
	reply_free(&r);
	close(fd);
	return res;
}

/* Sends out on a new connection and closes it at once. */
static const char *
send_and_close(const buf *out)
{
	int fd;

	fd = conn();
	if (fd < 0)
		return "cannot connect";
	if (out->len > 0)
		(void)send(fd, out->p, out->len, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
	return NULL;
}

/*
 * Expects one response to out with status want (0: any END_REQUEST, even
 * a refusal), within timeout_ms, on a new connection; *rfd (may be NULL) keeps
 * the connection open for the caller.
 */
static const char *
expect_status(const buf *out, int want, int timeout_ms, reply *r, int *rfd)
{
	static char msg[128];
	int fd, st;

	if (rfd != NULL)
		*rfd = -1;
	fd = conn();
	if (fd < 0)
		return "cannot connect";
	exchange(fd, out, timeout_ms, 1, r);
	if (rfd != NULL)
		*rfd = fd;
	else
		close(fd);
	if (r->bad)
		return "malformed record from the server";
	if (r->nend < 1) {
		snprintf(msg, sizeof(msg), "no END_REQUEST within %d ms%s",
		    timeout_ms, r->eof ? " (connection closed)" : "");
		return msg;
	}
	if (want != 0 && r->end_proto[0] != 0)
		return "END_REQUEST protocol status not REQUEST_COMPLETE";
	st = status_of(r);
	if (want != 0 && st != want) {
		snprintf(msg, sizeof(msg), "status %d, wanted %d", st, want);
		return msg;
	}
	return NULL;
}

/*
 * Holds `workers` connections at once (every worker pinned), each sent
 * prefix and then, every tick_ms (0: never), the next byte of trickle,
 * and expects the server to close every one within limit_ms. With
 * respond set, each first gets a whole keep-conn request answered (so
 * prefix is ignored) and must then be closed as idle.
 */
static const char *
stall(const buf *prefix, const buf *trickle, int tick_ms, int limit_ms,
    bool respond)
{
	static char msg[128];
	struct pollfd pfd[MAX_STALL];
	size_t tpos[MAX_STALL];
	bool closed[MAX_STALL];
	reply r;
	buf kb = { 0 };
	int64_t end, next_tick;
	int fd[MAX_STALL], i, n, open, left;
	uint8_t tmp[4096];
	ssize_t k;

	n = workers < MAX_STALL ? workers : MAX_STALL;
	for (i = 0; i < n; i++) {
		fd[i] = conn();
		if (fd[i] < 0)
			return "cannot connect";
		closed[i] = false;
		tpos[i] = 0;
		if (respond) {
			b_get(&kb, 1, KEEP);
			reply_init(&r);
			exchange(fd[i], &kb, PROBE_MS, 1, &r);
			left = r.nend;
			reply_free(&r);
			b_free(&kb);
			if (left < 1)
				return "keep-conn request not answered";
		} else if (prefix->len > 0) {
			(void)send(fd[i], prefix->p, prefix->len,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		}
	}
	end = now_ms() + limit_ms;
	next_tick = now_ms() + tick_ms;
	open = n;
	while (open > 0 && now_ms() < end) {
		for (i = 0; i < n; i++) {
			pfd[i].fd = closed[i] ? -1 : fd[i];
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		(void)poll(pfd, (nfds_t)n, 50);
		for (i = 0; i < n; i++) {
			if (closed[i] ||
			    (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) ==
				0)
				continue;
			k = recv(fd[i], tmp, sizeof(tmp), MSG_DONTWAIT);
			if (k == 0 || (k < 0 && errno != EAGAIN)) {
				closed[i] = true;
				open--;
			}
		}
		if (tick_ms > 0 && now_ms() >= next_tick) {
			next_tick += tick_ms;
			for (i = 0; i < n; i++) {
				if (closed[i] || tpos[i] >= trickle->len)
					continue;
				if (send(fd[i], trickle->p + tpos[i], 1,
					MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
					tpos[i]++;
			}
		}
	}
	for (i = 0; i < n; i++)
		close(fd[i]);
	if (open > 0) {
		snprintf(msg, sizeof(msg),
		    "%d of %d held connections still "
		    "open after %d ms",
		    open, n, limit_ms);
		return msg;
	}
	return NULL;
}

/* ---- the cases ---------------------------------------------------- */

/*
 * Most cases are a byte string (built by an m_ function) and a check:
 * the server must close the connection without answering (K_CLOSED), or
 * the client closes it right after sending (K_SENT), or `workers`
 * connections send it and hold on until the header deadline closes them
 * (K_STALL), or the server must answer it with a given status in time,
 * after which a t_ function may check the reply further and go on with
 * the connection (K_STATUS). The rest are functions of their own (K_FN).
 */
enum { K_CLOSED, K_SENT, K_STALL, K_STATUS, K_FN };

static void
m_bad_version(buf *b)
{
	uint8_t c[8] = { 0, 1, 0 };

	b_rec_v(b, 2, T_BEGIN, 1, c, 8, 0);
	b_get(b, 1, 0);
}

static void
m_version_zero(buf *b)
{
	b_rec_v(b, 0, T_GET_VALUES, 0, NULL, 0, 0);
}

static void
m_id0_begin(buf *b)
{
	b_begin(b, 0, ROLE_RESPONDER, 0);
}

static void
m_id0_params(buf *b)
{
	b_begin(b, 1, ROLE_RESPONDER, 0);
	b_rec(b, T_PARAMS, 0, "\016\003REQUEST_METHODGET", 19);
}

static void
m_id0_stdin(buf *b)
{
	b_get_head(b, 1, 0, "");
	b_rec(b, T_STDIN, 0, NULL, 0);
}

/* The first 5 bytes of a record header. */
static void
m_truncated_header(buf *b)
{
	b_begin(b, 1, ROLE_RESPONDER, 0);
	b->len = 5;
}

/* A PARAMS record announcing 1000 bytes, followed by 10 and silence. */
static void
m_past_record(buf *b)
{
	uint8_t h[8] = { 1, T_PARAMS, 0, 1, 1000 >> 8, 1000 & 0xff, 0, 0 };

	b_begin(b, 1, ROLE_RESPONDER, 0);
	b_put(b, h, 8);
	b_pair(b, "A", "12345678");
}

static void
m_begin_bad_length(buf *b)
{
	uint8_t c[9] = { 0, 1, 0 };

	b_rec(b, T_BEGIN, 1, c, 9);
	b_get(b, 1, 0);
}

/* Params that never end (no empty PARAMS record). */
static void
m_params_unended(buf *b)
{
	b_begin(b, 1, ROLE_RESPONDER, 0);
	b_params(b, 1, "", 1, false);
}

static void
m_params_unended_then_stdin(buf *b)
{
	m_params_unended(b);
	b_rec(b, T_STDIN, 1, NULL, 0);
}

static void
m_stdin_unended(buf *b)
{
	b_get_head(b, 1, 0, "10");
	b_rec(b, T_STDIN, 1, "abc", 3);
}

/* A PARAMS record holding one pair with the two lengths given. */
static void
m_lengths(buf *b, uint32_t nl, uint32_t vl)
{
	buf pb = { 0 };

	b_begin(b, 1, ROLE_RESPONDER, 0);
	b_len(&pb, nl, true);
	b_len(&pb, vl, true);
	b_put(&pb, "AAAAAAAAAAAAAAAA", 16);
	b_rec(b, T_PARAMS, 1, pb.p, pb.len);
	b_free(&pb);
}

static void
m_length_int_max_pair(buf *b)
{
	m_lengths(b, 0x7fffffff, 0x7fffffff);
}

static void
m_length_sum_past_int_max(buf *b)
{
	m_lengths(b, 0x7ffffff0, 0x20);
}

static void
m_length_past_record(buf *b)
{
	m_lengths(b, 1, 0x10000);
}

static void
m_server_sends_stdout(buf *b)
{
	b_rec(b, T_STDOUT, 1, "Status: 200\r\n\r\n", 15);
	b_get(b, 1, 0);
}

/* A GET / whose params end with the extra pairs in extra (n bytes). */
static void
m_extra_params(buf *b, const char *extra, size_t n)
{
	buf pb = { 0 };

	b_begin(b, 1, ROLE_RESPONDER, 0);
	b_get_pairs(&pb, "/", "");
	b_put(&pb, extra, n);
	b_stream(b, T_PARAMS, 1, pb.p, pb.len, true);
	b_rec(b, T_STDIN, 1, NULL, 0);
	b_free(&pb);
}

static void
m_many_tiny_params(buf *b)
{
	buf pb = { 0 };
	char name[32];
	int i;

	b_begin(b, 1, ROLE_RESPONDER, 0);
	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "P%d", i);
		b_pair(&pb, name, "");
	}
	b_stream(b, T_PARAMS, 1, pb.p, pb.len, true);
	b_rec(b, T_STDIN, 1, NULL, 0);
	b_free(&pb);
}

static void
m_params_one_mib(buf *b)
{
	buf pb = { 0 };
	char name[32], val[1000];
	int i;

	memset(val, 'v', sizeof(val));
	b_begin(b, 1, ROLE_RESPONDER, 0);
	for (i = 0; pb.len < 1048576; i++) {
		snprintf(name, sizeof(name), "HTTP_X_%d", i);
		b_pair_n(&pb, name, strlen(name), val, sizeof(val));
	}
	b_stream(b, T_PARAMS, 1, pb.p, pb.len, true);
	b_rec(b, T_STDIN, 1, NULL, 0);
	b_free(&pb);
}

/* A POST / declaring cl with a body of n bytes (n <= 100). */
static void
m_body(buf *b, const char *cl, size_t n)
{
	char body[100];

	memset(body, 'x', sizeof(body));
	b_get_head(b, 1, 0, cl);
	b_stream(b, T_STDIN, 1, body, n, true);
}

static void
m_begin_keep(buf *b)
{
	b_begin(b, 1, ROLE_RESPONDER, KEEP);
}

static void
m_mid_params(buf *b)
{
	b_get_head(b, 1, 0, "");
	b->len -= 60;
}

static void
m_mid_body(buf *b)
{
	b_get_head(b, 1, 0, "5000");
	b_rec(b, T_STDIN, 1, "partial", 7);
}

static void
m_nothing(buf *b)
{
	(void)b;
}

/* 4 KiB of pseudo-random bytes after a 0xff. */
static void
m_garbage(buf *b)
{
	uint32_t x;
	uint8_t c;
	int i;

	x = 12345;
	c = 0xff;
	b_put(b, &c, 1);
	for (i = 0; i < 4095; i++) {
		x = x * 1103515245 + 12345;
		c = (uint8_t)(x >> 16);
		b_put(b, &c, 1);
	}
}

static void
m_http_request(buf *b)
{
	b_put(b, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
}

static void
m_data_record(buf *b)
{
	b_get_head(b, 1, 0, "");
	b_rec(b, T_DATA, 1, "data", 4);
	b_rec(b, T_STDIN, 1, NULL, 0);
}

/*
 * BEGIN_REQUEST padded with bytes that read as an empty PARAMS record:
 * libfcgi took them for one and ran the request without params. The
 * padding must be skipped and the real params used.
 */
static void
m_begin_padding(buf *b)
{
	uint8_t c[8] = { 0, 1, 0 };
	uint8_t fake[8] = { 1, T_PARAMS, 0, 1, 0, 0, 0, 0 };

	b_rec_v(b, 1, T_BEGIN, 1, c, 8, 0);
	b->p[6] = 8;
	b_put(b, fake, 8);
	b_params(b, 1, "", 1, true);
	b_rec(b, T_STDIN, 1, NULL, 0);
}

/*
 * FCGI_GET_VALUES naming more than three variables (libfcgi's stack
 * overflow): answered once, each known variable at most once, and the
 * connection is still good for a request.
 */
static void
m_get_values_many_names(buf *b)
{
	static const char *const names[] = { "FCGI_MAX_CONNS", "FCGI_MAX_REQS",
		"FCGI_MPXS_CONNS", "FCGI_MAX_CONNS", "FCGI_MAX_REQS",
		"FCGI_MPXS_CONNS", "AAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBB",
		"CCCCCCCCCCCCCCCC", "DDDDDDDDDDDDDDDD", "EEEEEEEEEEEEEEEE",
		"FFFFFFFFFFFFFFFF" };
	buf pb = { 0 };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		b_pair(&pb, names[i], "");
	b_rec(b, T_GET_VALUES, 0, pb.p, pb.len);
	b_get(b, 1, 0);
	b_free(&pb);
}

static const char *
t_get_values_once(int fd, reply *r)
{
	(void)fd;
	if (r->ngv != 1 || r->gv_pairs_max > 3)
		return "GET_VALUES not answered once with at most 3 variables";
	return NULL;
}

/* 5000 GET_VALUES records, then a request: all answered, bounded. */
static void
m_get_values_flood(buf *b)
{
	buf pb = { 0 };
	int i;

	b_pair(&pb, "FCGI_MPXS_CONNS", "");
	for (i = 0; i < 5000; i++)
		b_rec(b, T_GET_VALUES, 0, pb.p, pb.len);
	b_get(b, 1, 0);
	b_free(&pb);
}

static const char *
t_get_values_all(int fd, reply *r)
{
	(void)fd;
	return r->ngv != 5000 ? "not every GET_VALUES was answered" : NULL;
}

static void
m_unknown_type(buf *b)
{
	b_rec(b, 42, 0, "xyz", 3);
	b_rec(b, 200, 7, NULL, 0);
	b_get(b, 1, 0);
}

static const char *
t_unknown_type(int fd, reply *r)
{
	(void)fd;
	if (r->nunknown != 2 || r->unknown_type != 200)
		return "FCGI_UNKNOWN_TYPE not sent for each unknown record";
	return NULL;
}

/* Request 2 begun while request 1 is active: refused, 1 answered. */
static void
m_multiplexing(buf *b)
{
	b_begin(b, 1, ROLE_RESPONDER, 0);
	b_begin(b, 2, ROLE_RESPONDER, 0);
	b_params(b, 2, "", 1, true);
	b_params(b, 1, "", 1, true);
	b_rec(b, T_STDIN, 2, NULL, 0);
	b_rec(b, T_STDIN, 1, NULL, 0);
}

static const char *
t_multiplexing(int fd, reply *r)
{
	exchange(fd, NULL, PROBE_MS, 2, r);
	if (r->nend != 2 || r->end_id[0] != 2 ||
	    r->end_proto[0] != ST_CANT_MPX || r->end_id[1] != 1 ||
	    r->end_proto[1] != 0 || status_of(r) != 200)
		return "request 2 not refused with CANT_MPX_CONN, or "
		       "request 1 not answered";
	return NULL;
}

/* Half the params of a kept request, then ABORT_REQUEST. */
static void
m_abort(buf *b)
{
	b_begin(b, 1, ROLE_RESPONDER, KEEP);
	b_params(b, 1, "", 2, false);
	b_rec(b, T_ABORT, 1, NULL, 0);
}

static const char *
t_abort(int fd, reply *r)
{
	buf b = { 0 };
	const char *res;

	if (r->end_id[0] != 1)
		return "END_REQUEST for the aborted request missing";
	if (r->out_len != 0)
		return "the aborted request was dispatched";
	b_get(&b, 2, 0);
	exchange(fd, &b, PROBE_MS, 2, r);
	res = NULL;
	if (r->nend != 2 || r->end_id[1] != 2 || status_of(r) != 200)
		res = "request after ABORT on a kept connection not answered";
	b_free(&b);
	return res;
}

/* Returns why (NULL when it did) unless the server closes fd at once. */
static const char *
closes(int fd, reply *r, const char *why)
{
	exchange(fd, NULL, QUICK_MS, 1000, r);
	return r->eof ? NULL : why;
}

static void
m_authorizer(buf *b)
{
	b_begin(b, 1, ROLE_AUTHORIZER, 0);
}

static const char *
t_unknown_role(int fd, reply *r)
{
	if (r->end_proto[0] != ST_UNKNOWN_ROLE)
		return "not refused with FCGI_UNKNOWN_ROLE";
	return closes(fd, r, "connection not closed after the refusal");
}

/* A body just over max_body is read to its end and answered 413. */
static void
m_body_over_limit(buf *b)
{
	char cl[32], *body;
	size_t n;

	n = (size_t)max_body + 1000;
	snprintf(cl, sizeof(cl), "%zu", n);
	body = calloc(1, n);
	if (body == NULL)
		die("calloc");
	b_get_head(b, 1, 0, cl);
	b_stream(b, T_STDIN, 1, body, n, true);
	free(body);
}

/* CONTENT_LENGTH of 1 GiB: answered 413 at once, the body never read. */
static void
m_body_declared_huge(buf *b)
{
	char chunk[4096];

	memset(chunk, 'x', sizeof(chunk));
	b_get_head(b, 1, 0, "1073741824");
	b_rec(b, T_STDIN, 1, chunk, sizeof(chunk));
}

static const char *
t_closed_after_413(int fd, reply *r)
{
	return closes(fd, r, "connection not closed after the 413");
}

static void
m_get(buf *b)
{
	b_get(b, 1, 0);
}

/*
 * After the answer, a trickle of junk: the connection is closed at once
 * (no lingering close reading the junk).
 */
static const char *
t_linger(int fd, reply *r)
{
	int64_t t;
	int i;

	t = now_ms();
	for (i = 0; i < 40 && !r->eof; i++) {
		if (send(fd, "j", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
		    errno != EAGAIN)
			break;
		exchange(fd, NULL, 50, 1000, r);
	}
	if (!r->eof && i >= 40)
		return "connection kept open while the peer trickled";
	if (now_ms() - t > QUICK_MS)
		return "connection closed only after more than 1 s";
	return NULL;
}

/* Two keep-conn requests in one write: both answered. */
static void
m_two_kept(buf *b)
{
	b_get(b, 1, KEEP);
	b_get(b, 2, KEEP);
}

static const char *
t_both_answered(int fd, reply *r)
{
	exchange(fd, NULL, PROBE_MS, 2, r);
	if (r->nend != 2 || r->end_id[1] != 2 || count_200(r) != 2)
		return "second pipelined request not answered";
	return NULL;
}

/* A request on a connection whose previous one did not ask to keep it. */
static void
m_two_unkept(buf *b)
{
	b_get(b, 1, 0);
	b_get(b, 2, 0);
}

static const char *
t_closed_after_one(int fd, reply *r)
{
	exchange(fd, NULL, QUICK_MS, 2, r);
	if (!r->eof || r->nend != 1)
		return "connection not closed after a request without "
		       "FCGI_KEEP_CONN";
	return NULL;
}

/* A valid request a byte at a time, 1 ms apart: answered. */
static const char *
c_byte_trickle_fast(void)
{
	buf b = { 0 };
	const char *res;
	reply r;
	size_t i;
	int fd;

	b_get(&b, 1, 0);
	fd = conn();
	if (fd < 0)
		return "cannot connect";
	for (i = 0; i < b.len; i++) {
		if (send(fd, b.p + i, 1, MSG_NOSIGNAL) != 1) {
			close(fd);
			b_free(&b);
			return "connection closed during a fast trickle";
		}
		(void)poll(NULL, 0, 1); /* 1 ms */
	}
	reply_init(&r);
	exchange(fd, NULL, PROBE_MS, 1, &r);
	res = r.nend == 1 && status_of(&r) == 200 ?
	    NULL :
	    "trickled request not answered";
	close(fd);
	reply_free(&r);
	b_free(&b);
	return res;
}

/* A valid request a byte every 250 ms: closed at the header deadline. */
static const char *
c_byte_trickle_slow(void)
{
	buf b = { 0 }, none = { 0 };
	const char *res;

	b_get(&b, 1, 0);
	res = stall(&none, &b, 250, header_ms + SLACK_MS, false);
	b_free(&b);
	return res;
}

/* Params complete, then a body a byte every 250 ms: closed (min rate). */
static const char *
c_body_trickle(void)
{
	buf head = { 0 }, body = { 0 };
	const char *res;
	uint8_t h[8] = { 1, T_STDIN, 0, 1, 0xff, 0xff, 0, 0 };
	char x[65535];

	memset(x, 'x', sizeof(x));
	b_get_head(&head, 1, 0, "65535");
	b_put(&head, h, 8);
	b_put(&body, x, sizeof(x));
	res = stall(&head, &body, 250, header_ms + SLACK_MS, false);
	b_free(&head);
	b_free(&body);
	return res;
}

/* Kept connections left idle after a response: closed at idle_timeout. */
static const char *
c_keepalive_idle(void)
{
	buf none = { 0 };

	return stall(&none, NULL, 0, idle_ms + SLACK_MS, true);
}

typedef struct hcase {
	const char *name;      /* printed */
	int kind;	       /* K_* */
	void (*build)(buf *b); /* the bytes (unless K_FN or with) */
	void (*with)(buf *b, const char *arg, size_t n); /* or these */
	const char *arg; /* with: its argument */
	size_t n;	 /* with: and the other */
	int want;	 /* K_STATUS: the status, 0 any END_REQUEST */
	int ms;		 /* K_STATUS: time allowed for it */
	const char *(*then)(int fd, reply *r); /* K_STATUS: more, or NULL */
	const char *(*fn)(void); /* K_FN: NULL on success, else why */
} hcase;

#define CLOSED(c, m) .name = c, .kind = K_CLOSED, .build = m
#define WITH(c, m, a, len) \
	.name = c, .kind = K_CLOSED, .with = m, .arg = a, .n = len
#define SENT(c, m)  .name = c, .kind = K_SENT, .build = m
#define STALL(c, m) .name = c, .kind = K_STALL, .build = m
#define STATUS(c, m, w, t, f) \
	.name = c, .kind = K_STATUS, .build = m, .want = w, .ms = t, .then = f
#define FN(c, f) .name = c, .kind = K_FN, .fn = f

static const hcase cases[] = {
	{ CLOSED("bad_version", m_bad_version) },
	{ CLOSED("version_zero", m_version_zero) },
	{ CLOSED("request_id_0_begin", m_id0_begin) },
	{ CLOSED("request_id_0_params", m_id0_params) },
	{ CLOSED("request_id_0_stdin", m_id0_stdin) },
	{ SENT("truncated_header_close", m_truncated_header) },
	{ STALL("truncated_header_stall", m_truncated_header) },
	{ SENT("content_past_record_close", m_past_record) },
	{ STALL("content_past_record_stall", m_past_record) },
	{ CLOSED("begin_bad_length", m_begin_bad_length) },
	{ STATUS("begin_padding_skipped", m_begin_padding, 200, PROBE_MS,
	    NULL) },
	{ CLOSED("params_unended_then_stdin", m_params_unended_then_stdin) },
	{ STALL("params_unended_stall", m_params_unended) },
	{ STALL("stdin_unended_stall", m_stdin_unended) },
	{ CLOSED("length_int_max_pair", m_length_int_max_pair) },
	{ CLOSED("length_sum_past_int_max", m_length_sum_past_int_max) },
	{ CLOSED("length_past_record", m_length_past_record) },
	{ STATUS("get_values_many_names", m_get_values_many_names, 200,
	    PROBE_MS, t_get_values_once) },
	{ STATUS("get_values_flood", m_get_values_flood, 200, 3000,
	    t_get_values_all) },
	{ STATUS("unknown_type", m_unknown_type, 200, PROBE_MS,
	    t_unknown_type) },
	{ CLOSED("server_sends_stdout", m_server_sends_stdout) },
	{ STATUS("multiplexing_refused", m_multiplexing, 0, PROBE_MS,
	    t_multiplexing) },
	{ STATUS("abort_request", m_abort, 0, PROBE_MS, t_abort) },
	{ STATUS("unknown_role", m_authorizer, 0, PROBE_MS, t_unknown_role) },
	{ WITH("duplicate_param", m_extra_params, "\013\002SCRIPT_NAME/x",
	    15) },
	{ WITH("name_with_equals", m_extra_params, "\017\002DOCUMENT_URI=/x/y",
	    19) },
	{ WITH("nul_in_value", m_extra_params, "\001\003Xa\0b", 6) },
	{ WITH("empty_name", m_extra_params, "\000\001v", 3) },
	{ CLOSED("many_tiny_params", m_many_tiny_params) },
	{ CLOSED("params_one_mib", m_params_one_mib) },
	{ WITH("body_shorter_than_cl", m_body, "100", 10) },
	{ WITH("body_longer_than_cl", m_body, "10", 100) },
	{ STATUS("body_over_limit", m_body_over_limit, 413, 3000, NULL) },
	{ STATUS("body_declared_huge", m_body_declared_huge, 413, PROBE_MS,
	    t_closed_after_413) },
	{ SENT("closed_after_begin", m_begin_keep) },
	{ SENT("closed_mid_params", m_mid_params) },
	{ SENT("closed_mid_body", m_mid_body) },
	{ SENT("empty_connection", m_nothing) },
	{ CLOSED("garbage", m_garbage) },
	{ CLOSED("http_request", m_http_request) },
	{ CLOSED("data_record", m_data_record) },
	{ FN("byte_trickle_fast", c_byte_trickle_fast) },
	{ FN("byte_trickle_slow", c_byte_trickle_slow) },
	{ FN("body_trickle", c_body_trickle) },
	{ STALL("begin_then_stall", m_begin_keep) },
	{ FN("keepalive_idle", c_keepalive_idle) },
	{ STATUS("linger_trickle", m_get, 200, PROBE_MS, t_linger) },
	{ STATUS("pipelined_keep_conn", m_two_kept, 200, PROBE_MS,
	    t_both_answered) },
	{ STATUS("reuse_without_keep", m_two_unkept, 200, PROBE_MS,
	    t_closed_after_one) },
};

/*
 * Runs a K_STATUS case's bytes on a new connection: the answer, then
 * its t_ function (which gets the connection, kept open for it).
 */
static const char *
status_case(const hcase *c, const buf *b)
{
	const char *res;
	reply r;
	int fd;

	reply_init(&r);
	if (c->then == NULL)
		res = expect_status(b, c->want, c->ms, &r, NULL);
	else {
		res = expect_status(b, c->want, c->ms, &r, &fd);
		if (res == NULL)
			res = c->then(fd, &r);
		close(fd);
	}
	reply_free(&r);
	return res;
}

/* Runs one case. Returns NULL or why it failed. */
static const char *
run_case(const hcase *c)
{
	buf b = { 0 };
	const char *res;

	if (c->kind == K_FN)
		return c->fn();
	if (c->with != NULL)
		c->with(&b, c->arg, c->n);
	else
		c->build(&b);
	if (c->kind == K_CLOSED)
		res = expect_closed(&b);
	else if (c->kind == K_SENT)
		res = send_and_close(&b);
	else if (c->kind == K_STATUS)
		res = status_case(c, &b);
	else
		res = stall(&b, NULL, 0, header_ms + SLACK_MS, false);
	b_free(&b);
	return res;
}

/* The check after every case: GET / answered with 200 within 1 s. */
static const char *
probe(void)
{
	static const hcase get = { STATUS("probe", m_get, 200, PROBE_MS,
	    NULL) };
	static char msg[160];
	const char *res;
	int64_t t0;

	t0 = now_ms();
	res = run_case(&get);
	if (res != NULL) {
		snprintf(msg, sizeof(msg), "probe after the case: %s (%lld ms)",
		    res, (long long)(now_ms() - t0));
		res = msg;
	}
	return res;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: fcgi_hostile [-w WORKERS] [-H HEADER_MS] "
	    "[-I IDLE_MS] [-b MAX_BODY] [-c CASE] SOCKET\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *only, *res;
	int64_t t0;
	size_t i;
	int opt, passed, failed;

	only = NULL;
	while ((opt = getopt(argc, argv, "w:H:I:b:c:")) != -1) {
		switch (opt) {
		case 'w':
			workers = atoi(optarg);
			break;
		case 'H':
			header_ms = atoi(optarg);
			break;
		case 'I':
			idle_ms = atoi(optarg);
			break;
		case 'b':
			max_body = atol(optarg);
			break;
		case 'c':
			only = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || workers < 1 || header_ms < 1 || idle_ms < 1 ||
	    max_body < 0)
		usage();
	sock_path = argv[optind];
	if (strncmp(sock_path, "unix:", 5) == 0)
		sock_path += 5;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((res = probe()) != NULL) {
		printf("not ok 0 server answers GET /: %s\n", res);
		printf("0 passed, 1 failed\n");
		return 1;
	}
	passed = failed = 0;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (only != NULL && strstr(cases[i].name, only) == NULL)
			continue;
		t0 = now_ms();
		res = run_case(&cases[i]);
		if (res == NULL)
			res = probe();
		if (res == NULL) {
			passed++;
			printf("ok %zu %s (%lld ms)\n", i + 1, cases[i].name,
			    (long long)(now_ms() - t0));
		} else {
			failed++;
			printf("not ok %zu %s: %s\n", i + 1, cases[i].name,
			    res);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
