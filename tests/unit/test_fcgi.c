/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Unit tests of Kiln's FastCGI responder: the pure record and params
 * parser and the response encoder (src/http/fcgi_proto.c), fed every
 * record type and the malformed shapes of issue 7, whole and a byte at a
 * time; then the native transport (src/http/fcgi_native.c) end to end
 * over a unix socket in a temporary directory, with its deadlines set
 * short so that the timeout tests take well under a second each.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include <kiln/kiln.h>

#include "fcgi_int.h"
#include "server_int.h"

Suite *fcgi_suite(void);

static kiln_arena *a;
static kiln__fcgi P;
static kiln_kvs params;

static void
setup(void)
{
	kiln__fcgi_limits lim;

	a = kiln_arena_new(0);
	ck_assert_ptr_nonnull(a);
	lim.max_params = 500;
	lim.max_params_bytes = 64 * 1024;
	lim.max_body = 1 << 20;
	lim.max_drain = 1 << 20;
	kiln__fcgi_init(&P, &lim);
	kiln__fcgi_attach(&P, a, &params);
}

static void
teardown(void)
{
	kiln_arena_free(a);
	a = NULL;
}

/* Starts again with a fresh arena and parser. */
static void
reset(void)
{
	teardown();
	setup();
}

/* Restarts P with other limits. */
static void
limits(size_t max_params, size_t max_bytes, size_t max_body, size_t max_drain)
{
	kiln__fcgi_limits lim;

	lim.max_params = max_params;
	lim.max_params_bytes = max_bytes;
	lim.max_body = max_body;
	lim.max_drain = max_drain;
	kiln__fcgi_init(&P, &lim);
	kiln__fcgi_attach(&P, a, &params);
}

/* Appends a record: header with any version, content, plen pad bytes. */
static void
rec_v(kiln_buf *b, unsigned ver, unsigned type, unsigned id, const void *c,
    size_t clen, size_t plen)
{
	uint8_t h[8];
	size_t i;

	kiln__fcgi_put_header(h, type, (uint16_t)id, (uint16_t)clen,
	    (uint8_t)plen);
	h[0] = (uint8_t)ver;
	ck_assert_int_eq(kiln_buf_append(b, h, 8), KILN_OK);
	if (clen > 0)
		ck_assert_int_eq(kiln_buf_append(b, c, clen), KILN_OK);
	for (i = 0; i < plen; i++)
		ck_assert_int_eq(kiln_buf_append_char(b, 'P'), KILN_OK);
}

static void
rec(kiln_buf *b, unsigned type, unsigned id, const void *c, size_t clen,
    size_t plen)
{
	rec_v(b, 1, type, id, c, clen, plen);
}

/* Appends BEGIN_REQUEST with role and flags, padded by plen bytes. */
static void
begin(kiln_buf *b, unsigned id, unsigned role, unsigned flags, size_t plen)
{
	uint8_t c[8] = { 0 };

	c[0] = (uint8_t)(role >> 8);
	c[1] = (uint8_t)role;
	c[2] = (uint8_t)flags;
	rec(b, KILN__FCGI_BEGIN_REQUEST, id, c, 8, plen);
}

/* Appends a pair length: 1 byte below 128 unless wide, else 4 bytes. */
static void
plen(kiln_buf *b, uint32_t n, bool wide)
{
	uint8_t l[4];

	if (n < 128 && !wide) {
		ck_assert_int_eq(kiln_buf_append_char(b, (char)n), KILN_OK);
		return;
	}
	l[0] = (uint8_t)(n >> 24 | 0x80);
	l[1] = (uint8_t)(n >> 16);
	l[2] = (uint8_t)(n >> 8);
	l[3] = (uint8_t)n;
	ck_assert_int_eq(kiln_buf_append(b, l, 4), KILN_OK);
}

/* Appends an encoded name-value pair. */
static void
pair(kiln_buf *b, const char *n, const char *v)
{
	plen(b, (uint32_t)strlen(n), false);
	plen(b, (uint32_t)strlen(v), false);
	ck_assert_int_eq(kiln_buf_append_c(b, n), KILN_OK);
	ck_assert_int_eq(kiln_buf_append_c(b, v), KILN_OK);
}

/* Appends a stream of the given type: records of at most max, then empty. */
static void
stream(kiln_buf *b, unsigned type, unsigned id, const void *c, size_t len,
    size_t max)
{
	const char *p = c;
	size_t k;

	while (len > 0) {
		k = len < max ? len : max;
		rec(b, type, id, p, k, 0);
		p += k;
		len -= k;
	}
	rec(b, type, id, NULL, 0, 0);
}

/* Appends the PARAMS stream of NULL-terminated name, value, ... */
static void
params_rec(kiln_buf *b, unsigned id, const char *const *kv, size_t max)
{
	kiln_buf pb;

	kiln_buf_init(&pb, a, 0);
	for (; kv[0] != NULL; kv += 2)
		pair(&pb, kv[0], kv[1]);
	stream(b, KILN__FCGI_PARAMS, id, pb.ptr, pb.len, max);
}

static const char *const basic[] = {
	"REQUEST_METHOD",
	"POST",
	"REQUEST_URI",
	"/a?b=1",
	"SCRIPT_NAME",
	"/a",
	"CONTENT_LENGTH",
	"5",
	"HTTP_HOST",
	"example.org",
	"EMPTY",
	"",
	NULL,
};

/* Appends a whole request: BEGIN, params, body. */
static void
request(kiln_buf *b, unsigned id, unsigned flags, const char *const *kv,
    const char *body)
{
	begin(b, id, KILN__FCGI_RESPONDER, flags, 0);
	params_rec(b, id, kv, 7);
	stream(b, KILN__FCGI_STDIN, id, body, strlen(body), 3);
}

/*
 * Feeds in to P in chunks of chunk bytes, collecting replies in out
 * (may be NULL). Stops at the first event other than MORE and FLUSH;
 * *used (may be NULL) is the bytes consumed.
 */
static kiln__fcgi_ev
feed(kiln_str in, size_t chunk, size_t *used, kiln_buf *out)
{
	kiln__fcgi_ev ev;
	const uint8_t *o;
	size_t off, n, u, olen;

	off = 0;
	ev = KILN__FCGI_MORE;
	while (off < in.len) {
		n = in.len - off < chunk ? in.len - off : chunk;
		ev = kiln__fcgi_feed(&P, in.ptr + off, n, &u);
		ck_assert_uint_le(u, n);
		off += u;
		o = kiln__fcgi_output(&P, &olen);
		ck_assert_uint_le(olen, KILN__FCGI_OUT_CAP);
		if (out != NULL && olen > 0)
			ck_assert_int_eq(kiln_buf_append(out, o, olen),
			    KILN_OK);
		kiln__fcgi_output_consume(&P, olen);
		if (ev == KILN__FCGI_FLUSH)
			continue;
		if (ev != KILN__FCGI_MORE)
			break;
		ck_assert_uint_eq(u, n);
	}
	if (used != NULL)
		*used = off;
	return ev;
}

static kiln__fcgi_ev
feed_buf(const kiln_buf *b, kiln_buf *out)
{
	return feed(kiln_buf_str(b), SIZE_MAX, NULL, out);
}

/* A record decoded from replies. */
typedef struct orec {
	unsigned type;	  /* record type */
	unsigned id;	  /* request id */
	const uint8_t *c; /* content */
	size_t clen;	  /* its length */
} orec;

/* Decodes replies into r (at most max); asserts they are well formed. */
static size_t
decode(const void *buf, size_t len, orec *r, size_t max)
{
	const uint8_t *b = buf;
	size_t n, off, clen, pl;

	n = 0;
	off = 0;
	while (off < len) {
		ck_assert_uint_ge(len - off, 8);
		ck_assert_uint_eq(b[off], 1);
		clen = (size_t)b[off + 4] << 8 | b[off + 5];
		pl = b[off + 6];
		ck_assert_uint_ge(len - off - 8, clen + pl);
		ck_assert_uint_lt(n, max);
		r[n].type = b[off + 1];
		r[n].id = (unsigned)b[off + 2] << 8 | b[off + 3];
		r[n].c = b + off + 8;
		r[n].clen = clen;
		n++;
		off += 8 + clen + pl;
	}
	return n;
}

/* Asserts r is END_REQUEST for id with the given statuses. */
static void
assert_end(const orec *r, unsigned id, uint32_t app, unsigned proto)
{
	uint32_t st;

	ck_assert_uint_eq(r->type, KILN__FCGI_END_REQUEST);
	ck_assert_uint_eq(r->id, id);
	ck_assert_uint_eq(r->clen, 8);
	st = (uint32_t)r->c[0] << 24 | (uint32_t)r->c[1] << 16 |
	    (uint32_t)r->c[2] << 8 | r->c[3];
	ck_assert_uint_eq(st, app);
	ck_assert_uint_eq(r->c[4], proto);
}

/* Returns the value of param name, asserting that it is present. */
static kiln_str
param(const char *name)
{
	const kiln_str *v;

	v = kiln_kvs_get(&params, kiln_str_c(name));
	ck_assert_msg(v != NULL, "param %s missing", name);
	return *v;
}

START_TEST(test_fcgi_request_parsed)
{
	kiln_buf b;
	kiln_str body;

	kiln_buf_init(&b, a, 0);
	request(&b, 7, 0, basic, "hello");
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_REQUEST);
	ck_assert_int_eq(kiln__fcgi_phase_of(&P), KILN__FCGI_DISPATCH);
	ck_assert_uint_eq(kiln__fcgi_request_id(&P), 7);
	ck_assert(!kiln__fcgi_keep_conn(&P));
	ck_assert(kiln__fcgi_drained(&P));
	ck_assert(kiln__fcgi_at_boundary(&P));
	ck_assert_uint_eq(params.n, 6);
	ck_assert(kiln_str_eq_c(param("REQUEST_METHOD"), "POST"));
	ck_assert(kiln_str_eq_c(param("REQUEST_URI"), "/a?b=1"));
	ck_assert(kiln_str_eq_c(param("HTTP_HOST"), "example.org"));
	ck_assert_uint_eq(param("EMPTY").len, 0);
	ck_assert(kiln_str_eq_c(params.items[0].key, "REQUEST_METHOD"));
	body = kiln__fcgi_body(&P);
	ck_assert(kiln_str_eq_c(body, "hello"));
	kiln__fcgi_finish(&P);
	ck_assert_int_eq(kiln__fcgi_phase_of(&P), KILN__FCGI_IDLE);
}
END_TEST

/* Any chunking gives the same request as one chunk. */
START_TEST(test_fcgi_byte_at_a_time_same_result)
{
	kiln__fcgi_ev ev;
	kiln_buf b;
	size_t chunk, used, i;

	for (chunk = 1; chunk <= 19; chunk++) {
		reset();
		kiln_buf_init(&b, a, 0);
		begin(&b, 3, KILN__FCGI_RESPONDER, KILN__FCGI_KEEP_CONN, 5);
		params_rec(&b, 3, basic, 4);
		rec(&b, KILN__FCGI_STDIN, 3, "he", 2, 6);
		rec(&b, KILN__FCGI_STDIN, 3, "llo", 3, 0);
		rec(&b, KILN__FCGI_STDIN, 3, NULL, 0, 3);
		ev = feed(kiln_buf_str(&b), chunk, &used, NULL);
		ck_assert_msg(ev == KILN__FCGI_REQUEST, "chunk %zu: %s", chunk,
		    kiln__fcgi_why(&P));
		ck_assert_uint_eq(used, b.len);
		ck_assert(kiln__fcgi_keep_conn(&P));
		ck_assert_uint_eq(params.n, 6);
		for (i = 0; basic[2 * i] != NULL; i++) {
			ck_assert(
			    kiln_str_eq_c(params.items[i].key, basic[2 * i]));
			ck_assert(kiln_str_eq_c(params.items[i].val,
			    basic[2 * i + 1]));
		}
		ck_assert(kiln_str_eq_c(kiln__fcgi_body(&P), "hello"));
	}
}
END_TEST

START_TEST(test_fcgi_bad_version_rejected)
{
	kiln_buf b;
	uint8_t c[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };

	kiln_buf_init(&b, a, 0);
	rec_v(&b, 2, KILN__FCGI_BEGIN_REQUEST, 1, c, 8, 0);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	ck_assert_str_eq(kiln__fcgi_why(&P), "bad FastCGI version");
	/* A dead parser stays dead. */
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
}
END_TEST

START_TEST(test_fcgi_request_id_zero_rejected)
{
	kiln_buf b;
	unsigned types[] = { KILN__FCGI_BEGIN_REQUEST, KILN__FCGI_PARAMS,
		KILN__FCGI_STDIN, KILN__FCGI_ABORT_REQUEST };
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		reset();
		kiln_buf_init(&b, a, 0);
		if (types[i] == KILN__FCGI_BEGIN_REQUEST)
			begin(&b, 0, KILN__FCGI_RESPONDER, 0, 0);
		else
			rec(&b, types[i], 0, NULL, 0, 0);
		ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
		ck_assert_str_eq(kiln__fcgi_why(&P),
		    "request id 0 on an application record");
	}
}
END_TEST

/* A header or record cut short is never acted on. */
START_TEST(test_fcgi_truncated_record_waits)
{
	kiln_buf b;
	size_t used;

	kiln_buf_init(&b, a, 0);
	request(&b, 1, 0, basic, "hello");
	/* Everything but the last 3 header bytes of the empty STDIN. */
	ck_assert_int_eq(feed((kiln_str){ b.ptr, b.len - 3 }, 64, &used, NULL),
	    KILN__FCGI_MORE);
	ck_assert_uint_eq(used, b.len - 3);
	ck_assert(!kiln__fcgi_at_boundary(&P));
	ck_assert_int_eq(kiln__fcgi_phase_of(&P), KILN__FCGI_BODY);
}
END_TEST

/* A record whose content length runs past the bytes sent is not acted on. */
START_TEST(test_fcgi_content_past_record_waits)
{
	kiln_buf b;
	uint8_t h[8];

	kiln_buf_init(&b, a, 0);
	begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	kiln__fcgi_put_header(h, KILN__FCGI_PARAMS, 1, 1000, 0);
	ck_assert_int_eq(kiln_buf_append(&b, h, 8), KILN_OK);
	pair(&b, "A", "b");
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_MORE);
	ck_assert_int_eq(kiln__fcgi_phase_of(&P), KILN__FCGI_HEADERS);
	ck_assert(!kiln__fcgi_at_boundary(&P));
}
END_TEST

START_TEST(test_fcgi_begin_wrong_length_rejected)
{
	kiln_buf b;
	uint8_t c[9] = { 0, 1, 0 };

	kiln_buf_init(&b, a, 0);
	rec(&b, KILN__FCGI_BEGIN_REQUEST, 1, c, 9, 0);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	ck_assert_str_eq(kiln__fcgi_why(&P), "BEGIN_REQUEST body not 8 bytes");
}
END_TEST

/*
 * libfcgi parsed the padding after BEGIN_REQUEST as a record: here the
 * padding holds bytes that look like an empty PARAMS record, and must be
 * skipped.
 */
START_TEST(test_fcgi_begin_padding_skipped)
{
	kiln_buf b;
	uint8_t c[8] = { 0, 1, 0 };
	uint8_t fake[8];

	kiln_buf_init(&b, a, 0);
	rec(&b, KILN__FCGI_BEGIN_REQUEST, 1, c, 8, 0);
	b.ptr[6] = 8; /* padding length */
	kiln__fcgi_put_header(fake, KILN__FCGI_PARAMS, 1, 0, 0);
	ck_assert_int_eq(kiln_buf_append(&b, fake, 8), KILN_OK);
	params_rec(&b, 1, basic, 100);
	stream(&b, KILN__FCGI_STDIN, 1, "hello", 5, 100);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_REQUEST);
	ck_assert_uint_eq(params.n, 6);
	ck_assert(kiln_str_eq_c(param("SCRIPT_NAME"), "/a"));
}
END_TEST

/* No dispatch while PARAMS has not ended, even with the body complete. */
START_TEST(test_fcgi_params_not_ended_no_dispatch)
{
	kiln_buf b, pb;

	kiln_buf_init(&b, a, 0);
	kiln_buf_init(&pb, a, 0);
	begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	pair(&pb, "REQUEST_METHOD", "GET");
	rec(&b, KILN__FCGI_PARAMS, 1, pb.ptr, pb.len, 0);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_MORE);
	ck_assert_int_eq(kiln__fcgi_phase_of(&P), KILN__FCGI_HEADERS);
	/* STDIN before the end of PARAMS is a protocol error. */
	kiln_buf_init(&b, a, 0);
	rec(&b, KILN__FCGI_STDIN, 1, NULL, 0, 0);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	ck_assert_str_eq(kiln__fcgi_why(&P),
	    "STDIN before the PARAMS stream ended");
}
END_TEST

/* No dispatch while STDIN has not ended. */
START_TEST(test_fcgi_stdin_not_ended_no_dispatch)
{
	kiln_buf b;

	kiln_buf_init(&b, a, 0);
	begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	params_rec(&b, 1, basic, 100);
	rec(&b, KILN__FCGI_STDIN, 1, "hello", 5, 0);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_MORE);
	ck_assert_int_eq(kiln__fcgi_phase_of(&P), KILN__FCGI_BODY);
	ck_assert_uint_eq(kiln__fcgi_body_seen(&P), 5);
}
END_TEST

/* A pair cut by the end of the PARAMS stream is an error. */
START_TEST(test_fcgi_params_end_inside_pair)
{
	kiln_buf b;
	const char part[] = { 4, 1, 'A', 'B' };

	kiln_buf_init(&b, a, 0);
	begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	rec(&b, KILN__FCGI_PARAMS, 1, part, sizeof(part), 0);
	rec(&b, KILN__FCGI_PARAMS, 1, NULL, 0, 0);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	ck_assert_str_eq(kiln__fcgi_why(&P), "PARAMS ended inside a pair");
}
END_TEST

/*
 * The CVE-2025-23016 follow-up shape: two lengths near 0x7FFFFFFF whose
 * sum overflows a 32-bit int, in 32 bytes. Also a 4-byte length that is
 * merely over the budget.
 */
START_TEST(test_fcgi_length_overflow_rejected)
{
	kiln_buf b, pb;
	uint32_t shapes[][2] = {
		{ 0x7fffffff, 0x7fffffff },
		{ 0x7ffffff0, 0x20 },
		{ 1, 0x7fffffff },
		{ 0x10000, 1 },
	};
	size_t i;

	for (i = 0; i < 4; i++) {
		reset();
		kiln_buf_init(&b, a, 0);
		kiln_buf_init(&pb, a, 0);
		begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
		plen(&pb, shapes[i][0], true);
		plen(&pb, shapes[i][1], true);
		ck_assert_int_eq(kiln_buf_append_c(&pb, "AAAAAAAA"), KILN_OK);
		rec(&b, KILN__FCGI_PARAMS, 1, pb.ptr, pb.len, 0);
		ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
		ck_assert_str_eq(kiln__fcgi_why(&P),
		    "param lengths past the params limit");
	}
}
END_TEST

/* 4-byte lengths of small values are accepted. */
START_TEST(test_fcgi_wide_lengths_accepted)
{
	kiln_buf b, pb;

	kiln_buf_init(&b, a, 0);
	kiln_buf_init(&pb, a, 0);
	begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	plen(&pb, 4, true);
	plen(&pb, 200, false);
	ck_assert_int_eq(kiln_buf_append_c(&pb, "LONG"), KILN_OK);
	while (pb.len < 4 + 4 + 4 + 200)
		ck_assert_int_eq(kiln_buf_append_char(&pb, 'v'), KILN_OK);
	stream(&b, KILN__FCGI_PARAMS, 1, pb.ptr, pb.len, 3);
	stream(&b, KILN__FCGI_STDIN, 1, NULL, 0, 1);
	ck_assert_msg(feed_buf(&b, NULL) == KILN__FCGI_REQUEST, "%s",
	    kiln__fcgi_why(&P));
	ck_assert_uint_eq(param("LONG").len, 200);
}
END_TEST

/*
 * libfcgi's FCGI_GET_VALUES smashed its stack past three names. Ten names
 * (known ones repeated, unknown ones, an empty one) get one answer with
 * each known variable once.
 */
START_TEST(test_fcgi_get_values_ten_names)
{
	static const char *const names[10] = {
		"FCGI_MAX_CONNS",
		"FCGI_MAX_REQS",
		"FCGI_MPXS_CONNS",
		"FCGI_MAX_CONNS",
		"X",
		"",
		"FCGI_MAX_REQSX",
		"FCGI_MPXS_CONNS",
		"FCGI_MAX_CONNS_AND_A_VERY_LONG_TAIL",
		"Y",
	};
	kiln_buf b, pb, out;
	orec r[4];
	size_t i, n;

	kiln_buf_init(&b, a, 0);
	kiln_buf_init(&pb, a, 0);
	kiln_buf_init(&out, a, 0);
	for (i = 0; i < 10; i++)
		pair(&pb, names[i], "");
	rec(&b, KILN__FCGI_GET_VALUES, 0, pb.ptr, pb.len, 0);
	ck_assert_int_eq(feed_buf(&b, &out), KILN__FCGI_MORE);
	n = decode(out.ptr, out.len, r, 4);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(r[0].type, KILN__FCGI_GET_VALUES_RESULT);
	ck_assert_uint_eq(r[0].id, 0);
	ck_assert_uint_eq(r[0].clen, 17 + 16 + 18);
	ck_assert_mem_eq(r[0].c, "\016\001FCGI_MAX_CONNS1", 17);
	ck_assert_mem_eq(r[0].c + 17, "\015\001FCGI_MAX_REQS1", 16);
	ck_assert_mem_eq(r[0].c + 33, "\017\001FCGI_MPXS_CONNS0", 18);
	ck_assert(kiln__fcgi_at_boundary(&P));
}
END_TEST

/* A GET_VALUES pair running past its record is an error. */
START_TEST(test_fcgi_get_values_pair_past_record)
{
	kiln_buf b, pb;

	kiln_buf_init(&b, a, 0);
	kiln_buf_init(&pb, a, 0);
	plen(&pb, 0x7fffffff, true);
	plen(&pb, 0x7fffffff, true);
	rec(&b, KILN__FCGI_GET_VALUES, 0, pb.ptr, pb.len, 0);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	ck_assert_str_eq(kiln__fcgi_why(&P), "GET_VALUES pair past the record");
	reset();
	kiln_buf_init(&b, a, 0);
	rec(&b, KILN__FCGI_GET_VALUES, 1, NULL, 0, 0);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
}
END_TEST

/* A flood of management records never holds more than OUT_CAP bytes. */
START_TEST(test_fcgi_get_values_flood_bounded)
{
	kiln_buf b, pb, out;
	orec r[300];
	size_t i, n, used;
	kiln__fcgi_ev ev;

	kiln_buf_init(&b, a, 0);
	kiln_buf_init(&pb, a, 0);
	kiln_buf_init(&out, a, 0);
	pair(&pb, "FCGI_MPXS_CONNS", "");
	for (i = 0; i < 200; i++)
		rec(&b, KILN__FCGI_GET_VALUES, 0, pb.ptr, pb.len, 0);
	/* Fed whole, the parser stops with FLUSH before its buffer fills. */
	ev = kiln__fcgi_feed(&P, b.ptr, b.len, &used);
	ck_assert_int_eq(ev, KILN__FCGI_FLUSH);
	ck_assert_uint_lt(used, b.len);
	limits(500, 64 * 1024, 1 << 20, 1 << 20);
	ck_assert_int_eq(feed_buf(&b, &out), KILN__FCGI_MORE);
	n = decode(out.ptr, out.len, r, 300);
	ck_assert_uint_eq(n, 200);
	ck_assert_uint_eq(r[199].type, KILN__FCGI_GET_VALUES_RESULT);
}
END_TEST

START_TEST(test_fcgi_unknown_type_answered)
{
	kiln_buf b, out;
	orec r[4];

	kiln_buf_init(&b, a, 0);
	kiln_buf_init(&out, a, 0);
	rec(&b, 42, 0, "xyz", 3, 5);
	rec(&b, 0, 9, NULL, 0, 0);
	request(&b, 1, 0, basic, "hello");
	ck_assert_int_eq(feed_buf(&b, &out), KILN__FCGI_REQUEST);
	ck_assert_uint_eq(decode(out.ptr, out.len, r, 4), 2);
	ck_assert_uint_eq(r[0].type, KILN__FCGI_UNKNOWN_TYPE);
	ck_assert_uint_eq(r[0].clen, 8);
	ck_assert_uint_eq(r[0].c[0], 42);
	ck_assert_uint_eq(r[1].c[0], 0);
}
END_TEST

/* Types only an application sends are protocol errors from a server. */
START_TEST(test_fcgi_app_types_rejected)
{
	unsigned types[] = { KILN__FCGI_END_REQUEST, KILN__FCGI_STDOUT,
		KILN__FCGI_STDERR, KILN__FCGI_GET_VALUES_RESULT,
		KILN__FCGI_UNKNOWN_TYPE };
	kiln_buf b;
	size_t i;

	for (i = 0; i < 5; i++) {
		reset();
		kiln_buf_init(&b, a, 0);
		rec(&b, types[i], 1, NULL, 0, 0);
		ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
		ck_assert_str_eq(kiln__fcgi_why(&P),
		    "record type sent only by applications");
	}
}
END_TEST

/* DATA is an error for the active responder request, ignored for others. */
START_TEST(test_fcgi_data_record)
{
	kiln_buf b;

	kiln_buf_init(&b, a, 0);
	rec(&b, KILN__FCGI_DATA, 5, "zz", 2, 0);
	begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_MORE);
	kiln_buf_init(&b, a, 0);
	rec(&b, KILN__FCGI_DATA, 1, "zz", 2, 0);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	ck_assert_str_eq(kiln__fcgi_why(&P), "DATA record for a responder");
}
END_TEST

/*
 * A second BEGIN_REQUEST with another id while one is active is refused
 * with FCGI_CANT_MPX_CONN; that id's records are ignored; the same id
 * again is a protocol error.
 */
START_TEST(test_fcgi_multiplexing_refused)
{
	static const char *const other[] = { "OTHER", "1", NULL };
	kiln_buf b, out;
	orec r[4];

	kiln_buf_init(&b, a, 0);
	kiln_buf_init(&out, a, 0);
	begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	begin(&b, 2, KILN__FCGI_RESPONDER, 0, 0);
	params_rec(&b, 2, other, 100);
	params_rec(&b, 1, basic, 100);
	stream(&b, KILN__FCGI_STDIN, 2, "junk", 4, 100);
	stream(&b, KILN__FCGI_STDIN, 1, "hello", 5, 100);
	ck_assert_int_eq(feed_buf(&b, &out), KILN__FCGI_REQUEST);
	ck_assert_uint_eq(kiln__fcgi_request_id(&P), 1);
	ck_assert_uint_eq(params.n, 6);
	ck_assert_ptr_null(kiln_kvs_get(&params, KILN_STR("OTHER")));
	ck_assert(kiln_str_eq_c(kiln__fcgi_body(&P), "hello"));
	ck_assert_uint_eq(decode(out.ptr, out.len, r, 4), 1);
	assert_end(&r[0], 2, 0, KILN__FCGI_CANT_MPX_CONN);
	reset();
	kiln_buf_init(&b, a, 0);
	begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
}
END_TEST

START_TEST(test_fcgi_abort_request_ends)
{
	kiln_buf b, out;
	orec r[4];

	kiln_buf_init(&b, a, 0);
	kiln_buf_init(&out, a, 0);
	begin(&b, 4, KILN__FCGI_RESPONDER, KILN__FCGI_KEEP_CONN, 0);
	params_rec(&b, 4, basic, 100);
	rec(&b, KILN__FCGI_STDIN, 4, "he", 2, 0);
	rec(&b, KILN__FCGI_ABORT_REQUEST, 9, NULL, 0, 0); /* not active */
	rec(&b, KILN__FCGI_ABORT_REQUEST, 4, NULL, 0, 0);
	ck_assert_int_eq(feed_buf(&b, &out), KILN__FCGI_ENDED);
	ck_assert_int_eq(kiln__fcgi_phase_of(&P), KILN__FCGI_IDLE);
	ck_assert(kiln__fcgi_keep_conn(&P));
	ck_assert_uint_eq(decode(out.ptr, out.len, r, 4), 1);
	assert_end(&r[0], 4, KILN__FCGI_ABORT_STATUS,
	    KILN__FCGI_REQUEST_COMPLETE);
	/* The connection carries on with the next request. */
	kiln_buf_init(&b, a, 0);
	request(&b, 5, 0, basic, "hello");
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_REQUEST);
	ck_assert_uint_eq(params.n, 6);
}
END_TEST

START_TEST(test_fcgi_unknown_role_refused)
{
	kiln_buf b, out;
	orec r[4];

	kiln_buf_init(&b, a, 0);
	kiln_buf_init(&out, a, 0);
	begin(&b, 3, KILN__FCGI_AUTHORIZER, 0, 0);
	params_rec(&b, 3, basic, 100);
	ck_assert_int_eq(feed_buf(&b, &out), KILN__FCGI_ENDED);
	ck_assert(!kiln__fcgi_keep_conn(&P));
	ck_assert_uint_eq(decode(out.ptr, out.len, r, 4), 1);
	assert_end(&r[0], 3, 0, KILN__FCGI_UNKNOWN_ROLE);
}
END_TEST

/* Duplicates would let a forged param shadow nginx's; rejected. */
START_TEST(test_fcgi_duplicate_params_rejected)
{
	static const char *const dup[] = { "SCRIPT_NAME", "/a", "X", "1",
		"SCRIPT_NAME", "/b", NULL };
	kiln_buf b;

	kiln_buf_init(&b, a, 0);
	request(&b, 1, 0, dup, "");
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	ck_assert_str_eq(kiln__fcgi_why(&P), "duplicate param SCRIPT_NAME");
}
END_TEST

/* A header the client repeated is joined, as RFC 9110 allows. */
START_TEST(test_fcgi_repeated_headers_joined)
{
	static const char *const rep[] = { "HTTP_X_DUP", "a", "REQUEST_URI",
		"/", "HTTP_COOKIE", "x=1", "HTTP_X_DUP", "b", "HTTP_COOKIE",
		"y=2", "HTTP_X_DUP", "c", NULL };
	kiln_buf b;

	kiln_buf_init(&b, a, 0);
	request(&b, 1, 0, rep, "");
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_REQUEST);
	ck_assert_uint_eq(params.n, 3);
	ck_assert(kiln_str_eq_c(param("HTTP_X_DUP"), "a, b, c"));
	ck_assert(kiln_str_eq_c(param("HTTP_COOKIE"), "x=1; y=2"));
	ck_assert(kiln_str_eq_c(param("REQUEST_URI"), "/"));
	/* Arrival order is kept. */
	ck_assert(kiln_str_eq_c(params.items[0].key, "HTTP_X_DUP"));
}
END_TEST

START_TEST(test_fcgi_bad_names_rejected)
{
	static const char *const eq[] = { "DOCUMENT_URI=/x", "y", NULL };
	static const char *const empty[] = { "", "y", NULL };
	kiln_buf b, pb;

	kiln_buf_init(&b, a, 0);
	request(&b, 1, 0, eq, "");
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	ck_assert_str_eq(kiln__fcgi_why(&P),
	    "'=' in param name DOCUMENT_URI=/x");
	reset();
	kiln_buf_init(&b, a, 0);
	request(&b, 1, 0, empty, "");
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	ck_assert_str_eq(kiln__fcgi_why(&P), "empty param name");
	reset();
	kiln_buf_init(&b, a, 0);
	kiln_buf_init(&pb, a, 0);
	begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	ck_assert_int_eq(kiln_buf_append(&pb, "\003\001A\nB\0", 7), KILN_OK);
	stream(&b, KILN__FCGI_PARAMS, 1, pb.ptr, pb.len, 100);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	ck_assert_str_eq(kiln__fcgi_why(&P), "NUL in the value of param A?B");
}
END_TEST

/* 100,000 tiny params stop at max_params; 1 MiB stops at the byte limit. */
START_TEST(test_fcgi_param_limits)
{
	kiln_arena *pa;
	kiln_buf b, pb;
	char name[16], val[101];
	size_t i;

	limits(500, 16 << 20, 1024, 1024);
	kiln_buf_init(&b, a, 0);
	kiln_buf_init(&pb, a, 0);
	begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "P%zu", i);
		pair(&pb, name, "");
	}
	stream(&b, KILN__FCGI_PARAMS, 1, pb.ptr, pb.len, 65535);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	ck_assert_str_eq(kiln__fcgi_why(&P), "too many params");
	ck_assert_uint_eq(params.n, 500);
	/* 1 MiB of params in 100-byte pairs: stopped at the byte limit. */
	limits(100000, 64 * 1024, 1024, 1024);
	pa = kiln_arena_new(0);
	ck_assert_ptr_nonnull(pa);
	kiln__fcgi_attach(&P, pa, &params);
	kiln_buf_init(&b, a, 0);
	kiln_buf_init(&pb, a, 0);
	begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	memset(val, 'v', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	for (i = 0; pb.len < (1 << 20); i++) {
		snprintf(name, sizeof(name), "H%05zu", i);
		pair(&pb, name, val);
	}
	/* Records hold whole pairs (108 bytes each), 500 to a record. */
	stream(&b, KILN__FCGI_PARAMS, 1, pb.ptr, pb.len, 108 * 500);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	ck_assert_str_eq(kiln__fcgi_why(&P),
	    "params over the params byte limit");
	/* What was kept is bounded by the limit, not by what was sent. */
	ck_assert_uint_lt(kiln_arena_used(pa), 256 * 1024);
	kiln_arena_free(pa);
	/* One 1 MiB value: stopped at its length, before any allocation. */
	limits(100000, 64 * 1024, 1024, 1024);
	kiln_buf_init(&b, a, 0);
	kiln_buf_init(&pb, a, 0);
	begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	plen(&pb, 1, false);
	plen(&pb, 1 << 20, true);
	ck_assert_int_eq(kiln_buf_append_char(&pb, 'N'), KILN_OK);
	stream(&b, KILN__FCGI_PARAMS, 1, pb.ptr, pb.len, 65535);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	ck_assert_str_eq(kiln__fcgi_why(&P),
	    "param lengths past the params limit");
}
END_TEST

/* An over-limit body is drained and reported; a huge one is not read. */
START_TEST(test_fcgi_body_over_limit)
{
	static const char *const cl[] = { "CONTENT_LENGTH", "20", NULL };
	static const char *const huge[] = { "CONTENT_LENGTH", "5000", NULL };
	static const char *const none[] = { "A", "1", NULL };
	uint8_t h[8];
	kiln_buf b;
	size_t i;

	limits(10, 1024, 10, 100);
	kiln_buf_init(&b, a, 0);
	request(&b, 1, KILN__FCGI_KEEP_CONN, cl, "01234567890123456789");
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_TOOBIG);
	ck_assert(kiln__fcgi_drained(&P));
	ck_assert_uint_eq(kiln__fcgi_body(&P).len, 0);
	ck_assert(kiln_str_eq_c(param("CONTENT_LENGTH"), "20"));
	kiln__fcgi_finish(&P);
	ck_assert_int_eq(kiln__fcgi_phase_of(&P), KILN__FCGI_IDLE);
	/* Declared past max_body + max_drain: handed over unread. */
	limits(10, 1024, 10, 100);
	kiln_buf_init(&b, a, 0);
	begin(&b, 1, KILN__FCGI_RESPONDER, KILN__FCGI_KEEP_CONN, 0);
	params_rec(&b, 1, huge, 100);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_TOOBIG);
	ck_assert(!kiln__fcgi_drained(&P));
	kiln__fcgi_finish(&P);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	/* Without CONTENT_LENGTH: the drain gives up past the allowance. */
	limits(10, 1024, 10, 100);
	kiln_buf_init(&b, a, 0);
	begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	params_rec(&b, 1, none, 100);
	kiln__fcgi_put_header(h, KILN__FCGI_STDIN, 1, 300, 0);
	ck_assert_int_eq(kiln_buf_append(&b, h, 8), KILN_OK);
	for (i = 0; i < 300; i++)
		ck_assert_int_eq(kiln_buf_append_char(&b, 'x'), KILN_OK);
	ck_assert_int_eq(feed(kiln_buf_str(&b), 7, NULL, NULL),
	    KILN__FCGI_TOOBIG);
	ck_assert(!kiln__fcgi_drained(&P));
	ck_assert_uint_gt(kiln__fcgi_body_seen(&P), 110);
	ck_assert_uint_le(kiln__fcgi_body_seen(&P), 117);
}
END_TEST

START_TEST(test_fcgi_content_length_mismatch)
{
	static const char *const cl5[] = { "CONTENT_LENGTH", "5", NULL };
	static const char *const bad[] = { "CONTENT_LENGTH", "5x", NULL };
	static const char *const neg[] = { "CONTENT_LENGTH", "-1", NULL };
	static const char *const big[] = { "CONTENT_LENGTH",
		"1234567890123456789", NULL };
	kiln_buf b;

	kiln_buf_init(&b, a, 0);
	request(&b, 1, 0, cl5, "hey");
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	ck_assert_str_eq(kiln__fcgi_why(&P),
	    "body shorter than CONTENT_LENGTH");
	reset();
	kiln_buf_init(&b, a, 0);
	request(&b, 1, 0, cl5, "hello!");
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	ck_assert_str_eq(kiln__fcgi_why(&P), "body longer than CONTENT_LENGTH");
	reset();
	kiln_buf_init(&b, a, 0);
	request(&b, 1, 0, bad, "hello");
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	reset();
	kiln_buf_init(&b, a, 0);
	request(&b, 1, 0, neg, "");
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	ck_assert_str_eq(kiln__fcgi_why(&P), "CONTENT_LENGTH not a number");
	reset();
	kiln_buf_init(&b, a, 0);
	request(&b, 1, 0, big, "");
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_ERROR);
	ck_assert_str_eq(kiln__fcgi_why(&P), "CONTENT_LENGTH too long");
}
END_TEST

/* Two requests on a kept connection, sent back to back. */
START_TEST(test_fcgi_keep_conn_two_requests)
{
	static const char *const second[] = { "REQUEST_URI", "/2", NULL };
	kiln_buf b;
	size_t used;

	kiln_buf_init(&b, a, 0);
	request(&b, 1, KILN__FCGI_KEEP_CONN, basic, "hello");
	request(&b, 1, KILN__FCGI_KEEP_CONN, second, "");
	ck_assert_int_eq(feed(kiln_buf_str(&b), SIZE_MAX, &used, NULL),
	    KILN__FCGI_REQUEST);
	ck_assert_uint_lt(used, b.len);
	ck_assert(kiln__fcgi_keep_conn(&P));
	kiln__fcgi_finish(&P);
	kiln__fcgi_attach(&P, a, &params);
	ck_assert_int_eq(feed((kiln_str){ b.ptr + used, b.len - used },
			     SIZE_MAX, NULL, NULL),
	    KILN__FCGI_REQUEST);
	ck_assert_uint_eq(params.n, 1);
	ck_assert(kiln_str_eq_c(param("REQUEST_URI"), "/2"));
	ck_assert_uint_eq(kiln__fcgi_body(&P).len, 0);
	/* Fed while the request is being answered: refused. */
	ck_assert_int_eq(kiln__fcgi_feed(&P, b.ptr, 1, &used),
	    KILN__FCGI_ERROR);
}
END_TEST

/* The encoder's records decode back to head + body, then the end. */
START_TEST(test_fcgi_encoder_roundtrip)
{
	struct iovec iov[KILN__FCGI_ENC_IOV];
	kiln__fcgi_enc enc;
	kiln_buf wire, got;
	kiln_str head, body;
	orec *r;
	char *big;
	size_t i, n, nrec, calls;

	big = kiln_arena_alloc(a, 300000);
	ck_assert_ptr_nonnull(big);
	for (i = 0; i < 300000; i++)
		big[i] = (char)('a' + i % 26);
	head = KILN_STR("Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n");
	body.ptr = big;
	body.len = 300000;
	kiln__fcgi_enc_init(&enc, 513, head, body);
	kiln_buf_init(&wire, a, 0);
	calls = 0;
	while ((n = kiln__fcgi_enc_iov(&enc, iov, 5)) > 0) {
		calls++;
		for (i = 0; i < n; i++)
			ck_assert_int_eq(kiln_buf_append(&wire, iov[i].iov_base,
					     iov[i].iov_len),
			    KILN_OK);
	}
	ck_assert_uint_gt(calls, 1);
	r = kiln_arena_alloc(a, 64 * sizeof(*r));
	nrec = decode(wire.ptr, wire.len, r, 64);
	ck_assert_uint_eq(nrec, 5 + 1 + 1);
	kiln_buf_init(&got, a, 0);
	for (i = 0; i + 2 < nrec; i++) {
		ck_assert_uint_eq(r[i].type, KILN__FCGI_STDOUT);
		ck_assert_uint_eq(r[i].id, 513);
		ck_assert_uint_le(r[i].clen, KILN__FCGI_MAX_CONTENT);
		ck_assert_int_eq(kiln_buf_append(&got, r[i].c, r[i].clen),
		    KILN_OK);
	}
	ck_assert_uint_eq(r[nrec - 2].type, KILN__FCGI_STDOUT);
	ck_assert_uint_eq(r[nrec - 2].clen, 0);
	assert_end(&r[nrec - 1], 513, 0, KILN__FCGI_REQUEST_COMPLETE);
	ck_assert_uint_eq(got.len, head.len + body.len);
	ck_assert_mem_eq(got.ptr, head.ptr, head.len);
	ck_assert_mem_eq(got.ptr + head.len, big, body.len);
}
END_TEST

/* A small response is one record plus the end: at most 4 iovecs. */
START_TEST(test_fcgi_encoder_small_one_batch)
{
	struct iovec iov[KILN__FCGI_ENC_IOV];
	kiln__fcgi_enc enc;

	kiln__fcgi_enc_init(&enc, 1, KILN_STR("Status: 204 No Content\r\n\r\n"),
	    KILN_STR_NULL);
	ck_assert_uint_eq(kiln__fcgi_enc_iov(&enc, iov, KILN__FCGI_ENC_IOV), 3);
	ck_assert_uint_eq(iov[2].iov_len, 24);
	ck_assert_uint_eq(kiln__fcgi_enc_iov(&enc, iov, KILN__FCGI_ENC_IOV), 0);
	kiln__fcgi_enc_init(&enc, 1, KILN_STR("H\r\n\r\n"), KILN_STR("body"));
	ck_assert_uint_eq(kiln__fcgi_enc_iov(&enc, iov, KILN__FCGI_ENC_IOV), 4);
}
END_TEST

/* ---- the native transport, end to end over a unix socket ---------- */

static char sockdir[64];
static char sockpath[128];
static int lfd = -1;

/* Milliseconds on the monotonic clock. */
static int64_t
ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
net_setup(void)
{
	struct sockaddr_un sun;

	setup();
	snprintf(sockdir, sizeof(sockdir), "/tmp/kiln-fcgi-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(sockdir));
	snprintf(sockpath, sizeof(sockpath), "%s/s", sockdir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sockpath, strlen(sockpath));
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(lfd, 16), 0);
}

static void
net_teardown(void)
{
	close(lfd);
	lfd = -1;
	unlink(sockpath);
	rmdir(sockdir);
	teardown();
}

/* Starts the transport with short deadlines. */
static void *
tp_start(size_t max_body)
{
	kiln__transport_cfg cfg;
	void *st;

	memset(&cfg, 0, sizeof(cfg));
	cfg.listen_fd = lfd;
	cfg.max_body = max_body;
	cfg.max_params = 100;
	cfg.max_params_bytes = 16384;
	cfg.header_timeout_ms = 300;
	cfg.body_min_rate = 1024;
	cfg.write_timeout_ms = 300;
	cfg.idle_timeout_ms = 300;
	st = kiln__transport_native.init(&cfg);
	ck_assert_ptr_nonnull(st);
	return st;
}

/* Connects a client to the test socket. */
static int
client(void)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sockpath, strlen(sockpath));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

static void
send_buf(int fd, const kiln_buf *b)
{
	ck_assert_int_eq(send(fd, b->ptr, b->len, MSG_NOSIGNAL),
	    (ssize_t)b->len);
}

/*
 * Reads from fd into out until END_REQUEST for any id arrives, the peer
 * closes, or 2 s pass. Returns true when the peer closed.
 */
static bool
recv_reply(int fd, kiln_buf *out, bool until_eof)
{
	struct pollfd pfd;
	char tmp[65536];
	int64_t end, left;
	ssize_t n;
	size_t i, rl;

	end = ms() + 2000;
	for (;;) {
		left = end - ms();
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return false;
		n = recv(fd, tmp, sizeof(tmp), 0);
		if (n <= 0)
			return true;
		ck_assert_int_eq(kiln_buf_append(out, tmp, (size_t)n), KILN_OK);
		if (until_eof)
			continue;
		/* Stop once the last complete record is END_REQUEST. */
		for (i = 0; i + 8 <= out->len; i += rl) {
			rl = 8 +
			    ((size_t)(uint8_t)out->ptr[i + 4] << 8 |
				(uint8_t)out->ptr[i + 5]) +
			    (uint8_t)out->ptr[i + 6];
			if (i + rl > out->len)
				break;
			if (out->ptr[i + 1] == KILN__FCGI_END_REQUEST &&
			    i + rl == out->len)
				return false;
		}
	}
}

/* The STDOUT content of a reply, concatenated. */
static kiln_str
reply_stdout(const kiln_buf *reply, orec *r, size_t *nrec)
{
	kiln_buf s;
	size_t i, n;

	n = decode(reply->ptr, reply->len, r, 64);
	kiln_buf_init(&s, a, 0);
	for (i = 0; i < n; i++)
		if (r[i].type == KILN__FCGI_STDOUT && r[i].clen > 0)
			ck_assert_int_eq(kiln_buf_append(&s, r[i].c, r[i].clen),
			    KILN_OK);
	*nrec = n;
	return kiln_buf_str(&s);
}

static const char *const getreq[] = {
	"REQUEST_METHOD",
	"GET",
	"REQUEST_URI",
	"/",
	"SCRIPT_NAME",
	"",
	"CONTENT_LENGTH",
	"",
	NULL,
};

START_TEST(test_fcgi_native_request_response)
{
	kiln_buf b, reply;
	kiln_kvs pm;
	kiln_str body, out;
	orec r[64];
	size_t n;
	void *st;
	int fd;

	st = tp_start(1024);
	fd = client();
	kiln_buf_init(&b, a, 0);
	request(&b, 1, 0, getreq, "");
	send_buf(fd, &b);
	kiln_kvs_init(&pm, a);
	ck_assert_int_eq(kiln__transport_native.next(st, a, &pm, &body),
	    KILN__NEXT_REQUEST);
	ck_assert_uint_eq(pm.n, 4);
	ck_assert(
	    kiln_str_eq_c(*kiln_kvs_get(&pm, KILN_STR("REQUEST_URI")), "/"));
	ck_assert_uint_eq(body.len, 0);
	ck_assert_int_eq(kiln__transport_native.respond(st,
			     KILN_STR("Status: 200 OK\r\n\r\n"),
			     KILN_STR("hello")),
	    KILN_OK);
	kiln_buf_init(&reply, a, 0);
	ck_assert(recv_reply(fd, &reply, true)); /* closed: no keep-conn */
	out = reply_stdout(&reply, r, &n);
	ck_assert(kiln_str_eq_c(out, "Status: 200 OK\r\n\r\nhello"));
	assert_end(&r[n - 1], 1, 0, KILN__FCGI_REQUEST_COMPLETE);
	/* Answering twice is refused. */
	ck_assert_int_ne(kiln__transport_native.respond(st, KILN_STR("x"),
			     KILN_STR("")),
	    KILN_OK);
	close(fd);
	kiln__transport_native.fini(st);
}
END_TEST

/*
 * A kept connection serves two requests (the first preceded by
 * GET_VALUES, whose answer comes first), then is closed after the idle
 * timeout.
 */
START_TEST(test_fcgi_native_keep_conn_and_idle)
{
	kiln_buf b, pb, reply;
	kiln_kvs pm;
	kiln_str body, out;
	orec r[64];
	size_t n;
	int64_t t0;
	void *st;
	int fd;

	st = tp_start(1024);
	fd = client();
	kiln_buf_init(&b, a, 0);
	kiln_buf_init(&pb, a, 0);
	pair(&pb, "FCGI_MAX_CONNS", "");
	rec(&b, KILN__FCGI_GET_VALUES, 0, pb.ptr, pb.len, 0);
	request(&b, 1, KILN__FCGI_KEEP_CONN, basic, "hello");
	send_buf(fd, &b);
	kiln_kvs_init(&pm, a);
	ck_assert_int_eq(kiln__transport_native.next(st, a, &pm, &body),
	    KILN__NEXT_REQUEST);
	ck_assert(kiln_str_eq_c(body, "hello"));
	ck_assert_int_eq(kiln__transport_native.respond(st,
			     KILN_STR("A\r\n\r\n"), KILN_STR("1")),
	    KILN_OK);
	kiln_buf_init(&reply, a, 0);
	ck_assert(!recv_reply(fd, &reply, false));
	out = reply_stdout(&reply, r, &n);
	ck_assert_uint_eq(r[0].type, KILN__FCGI_GET_VALUES_RESULT);
	ck_assert(kiln_str_eq_c(out, "A\r\n\r\n1"));
	/* The second request on the same connection. */
	kiln_buf_init(&b, a, 0);
	request(&b, 1, KILN__FCGI_KEEP_CONN, getreq, "");
	send_buf(fd, &b);
	kiln_arena_reset(a);
	kiln_kvs_init(&pm, a);
	ck_assert_int_eq(kiln__transport_native.next(st, a, &pm, &body),
	    KILN__NEXT_REQUEST);
	ck_assert_uint_eq(pm.n, 4);
	ck_assert_int_eq(kiln__transport_native.respond(st,
			     KILN_STR("B\r\n\r\n"), KILN_STR("")),
	    KILN_OK);
	kiln_buf_init(&reply, a, 0);
	ck_assert(!recv_reply(fd, &reply, false));
	/* Nothing more: closed after idle_timeout (300 ms). */
	t0 = ms();
	ck_assert_int_eq(kiln__transport_native.next(st, a, &pm, &body),
	    KILN__NEXT_AGAIN);
	ck_assert_int_ge(ms() - t0, 250);
	ck_assert_int_lt(ms() - t0, 1500);
	kiln_buf_init(&reply, a, 0);
	ck_assert(recv_reply(fd, &reply, true));
	ck_assert_uint_eq(reply.len, 0);
	close(fd);
	kiln__transport_native.fini(st);
}
END_TEST

/* BEGIN_REQUEST and then nothing: closed at the header deadline. */
START_TEST(test_fcgi_native_header_timeout)
{
	kiln_buf b, reply;
	kiln_kvs pm;
	kiln_str body;
	int64_t t0;
	void *st;
	int fd;

	st = tp_start(1024);
	fd = client();
	kiln_buf_init(&b, a, 0);
	begin(&b, 1, KILN__FCGI_RESPONDER, KILN__FCGI_KEEP_CONN, 0);
	send_buf(fd, &b);
	t0 = ms();
	kiln_kvs_init(&pm, a);
	ck_assert_int_eq(kiln__transport_native.next(st, a, &pm, &body),
	    KILN__NEXT_AGAIN);
	ck_assert_int_ge(ms() - t0, 250);
	ck_assert_int_lt(ms() - t0, 1500);
	kiln_buf_init(&reply, a, 0);
	ck_assert(recv_reply(fd, &reply, true));
	close(fd);
	kiln__transport_native.fini(st);
}
END_TEST

/* A protocol error closes the connection at once. */
START_TEST(test_fcgi_native_protocol_error_closes)
{
	kiln_buf b, reply;
	kiln_kvs pm;
	kiln_str body;
	int64_t t0;
	void *st;
	int fd;

	st = tp_start(1024);
	fd = client();
	kiln_buf_init(&b, a, 0);
	rec_v(&b, 9, KILN__FCGI_BEGIN_REQUEST, 1, "\0\1\0\0\0\0\0\0", 8, 0);
	send_buf(fd, &b);
	t0 = ms();
	kiln_kvs_init(&pm, a);
	ck_assert_int_eq(kiln__transport_native.next(st, a, &pm, &body),
	    KILN__NEXT_AGAIN);
	ck_assert_int_lt(ms() - t0, 200);
	kiln_buf_init(&reply, a, 0);
	ck_assert(recv_reply(fd, &reply, true));
	ck_assert_uint_eq(reply.len, 0);
	close(fd);
	kiln__transport_native.fini(st);
}
END_TEST

/* An over-limit body: TOOBIG with params, then the 413 is delivered. */
START_TEST(test_fcgi_native_toobig)
{
	static const char *const cl[] = { "CONTENT_LENGTH", "2000",
		"REQUEST_URI", "/up", NULL };
	kiln_buf b, reply;
	kiln_kvs pm;
	kiln_str body, out;
	orec r[64];
	char big[2000];
	size_t n;
	void *st;
	int fd;

	st = tp_start(1000);
	fd = client();
	memset(big, 'x', sizeof(big));
	kiln_buf_init(&b, a, 0);
	begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	params_rec(&b, 1, cl, 100);
	stream(&b, KILN__FCGI_STDIN, 1, big, sizeof(big), 700);
	send_buf(fd, &b);
	kiln_kvs_init(&pm, a);
	ck_assert_int_eq(kiln__transport_native.next(st, a, &pm, &body),
	    KILN__NEXT_TOOBIG);
	ck_assert(
	    kiln_str_eq_c(*kiln_kvs_get(&pm, KILN_STR("REQUEST_URI")), "/up"));
	ck_assert_int_eq(kiln__transport_native.respond(st,
			     KILN_STR("Status: 413\r\n\r\n"), KILN_STR("")),
	    KILN_OK);
	kiln_buf_init(&reply, a, 0);
	ck_assert(recv_reply(fd, &reply, true));
	out = reply_stdout(&reply, r, &n);
	ck_assert(kiln_str_eq_c(out, "Status: 413\r\n\r\n"));
	close(fd);
	kiln__transport_native.fini(st);
}
END_TEST

/* ABORT_REQUEST on a kept connection: answered, and the next one served. */
START_TEST(test_fcgi_native_abort_then_request)
{
	kiln_buf b, reply;
	kiln_kvs pm;
	kiln_str body;
	orec r[64];
	void *st;
	int fd;

	st = tp_start(1024);
	fd = client();
	kiln_buf_init(&b, a, 0);
	begin(&b, 2, KILN__FCGI_RESPONDER, KILN__FCGI_KEEP_CONN, 0);
	rec(&b, KILN__FCGI_ABORT_REQUEST, 2, NULL, 0, 0);
	send_buf(fd, &b);
	kiln_kvs_init(&pm, a);
	ck_assert_int_eq(kiln__transport_native.next(st, a, &pm, &body),
	    KILN__NEXT_AGAIN);
	kiln_buf_init(&reply, a, 0);
	ck_assert(!recv_reply(fd, &reply, false));
	ck_assert_uint_eq(decode(reply.ptr, reply.len, r, 64), 1);
	assert_end(&r[0], 2, KILN__FCGI_ABORT_STATUS,
	    KILN__FCGI_REQUEST_COMPLETE);
	kiln_buf_init(&b, a, 0);
	request(&b, 3, 0, getreq, "");
	send_buf(fd, &b);
	kiln_kvs_init(&pm, a);
	ck_assert_int_eq(kiln__transport_native.next(st, a, &pm, &body),
	    KILN__NEXT_REQUEST);
	ck_assert_int_eq(kiln__transport_native.respond(st,
			     KILN_STR("C\r\n\r\n"), KILN_STR("")),
	    KILN_OK);
	close(fd);
	kiln__transport_native.fini(st);
}
END_TEST

/* A peer that does not read: the write deadline frees the worker. */
START_TEST(test_fcgi_native_write_timeout)
{
	kiln_buf b;
	kiln_kvs pm;
	kiln_str body, big;
	int64_t t0;
	void *st;
	char *p;
	int fd;

	st = tp_start(1024);
	fd = client();
	kiln_buf_init(&b, a, 0);
	request(&b, 1, 0, getreq, "");
	send_buf(fd, &b);
	kiln_kvs_init(&pm, a);
	ck_assert_int_eq(kiln__transport_native.next(st, a, &pm, &body),
	    KILN__NEXT_REQUEST);
	p = kiln_arena_calloc(a, 1, 16 << 20);
	ck_assert_ptr_nonnull(p);
	big.ptr = p;
	big.len = 16 << 20;
	t0 = ms();
	ck_assert_int_eq(kiln__transport_native.respond(st,
			     KILN_STR("D\r\n\r\n"), big),
	    KILN_ETIMEDOUT);
	ck_assert_int_ge(ms() - t0, 250);
	ck_assert_int_lt(ms() - t0, 1500);
	close(fd);
	kiln__transport_native.fini(st);
}
END_TEST

/*
 * A body trickled at a byte every 100 ms misses the minimum rate: the
 * connection is closed soon after the grace (header_timeout) runs out.
 */
START_TEST(test_fcgi_native_body_min_rate)
{
	static const char *const cl[] = { "CONTENT_LENGTH", "1000", NULL };
	kiln_buf b;
	kiln_kvs pm;
	kiln_str body;
	int64_t t0, dt;
	pid_t pid;
	void *st;
	int fd, i, status;

	st = tp_start(4096);
	fd = client();
	kiln_buf_init(&b, a, 0);
	begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	params_rec(&b, 1, cl, 100);
	rec(&b, KILN__FCGI_STDIN, 1, NULL, 0, 0);
	b.ptr[b.len - 4] = (char)(1000 >> 8);
	b.ptr[b.len - 3] = (char)(1000 & 0xff);
	send_buf(fd, &b);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		for (i = 0; i < 40; i++) {
			if (send(fd, "x", 1, MSG_NOSIGNAL) != 1)
				_exit(0);
			usleep(100 * 1000);
		}
		_exit(0);
	}
	t0 = ms();
	kiln_kvs_init(&pm, a);
	ck_assert_int_eq(kiln__transport_native.next(st, a, &pm, &body),
	    KILN__NEXT_AGAIN);
	dt = ms() - t0;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ck_assert_int_ge(dt, 250);
	ck_assert_int_lt(dt, 1500);
	close(fd);
	kiln__transport_native.fini(st);
}
END_TEST

Suite *
fcgi_suite(void)
{
	Suite *s;
	TCase *tc, *tn;

	s = suite_create("fcgi");
	tc = tcase_create("proto");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fcgi_request_parsed);
	tcase_add_test(tc, test_fcgi_byte_at_a_time_same_result);
	tcase_add_test(tc, test_fcgi_bad_version_rejected);
	tcase_add_test(tc, test_fcgi_request_id_zero_rejected);
	tcase_add_test(tc, test_fcgi_truncated_record_waits);
	tcase_add_test(tc, test_fcgi_content_past_record_waits);
	tcase_add_test(tc, test_fcgi_begin_wrong_length_rejected);
	tcase_add_test(tc, test_fcgi_begin_padding_skipped);
	tcase_add_test(tc, test_fcgi_params_not_ended_no_dispatch);
	tcase_add_test(tc, test_fcgi_stdin_not_ended_no_dispatch);
	tcase_add_test(tc, test_fcgi_params_end_inside_pair);
	tcase_add_test(tc, test_fcgi_length_overflow_rejected);
	tcase_add_test(tc, test_fcgi_wide_lengths_accepted);
	tcase_add_test(tc, test_fcgi_get_values_ten_names);
	tcase_add_test(tc, test_fcgi_get_values_pair_past_record);
	tcase_add_test(tc, test_fcgi_get_values_flood_bounded);
	tcase_add_test(tc, test_fcgi_unknown_type_answered);
	tcase_add_test(tc, test_fcgi_app_types_rejected);
	tcase_add_test(tc, test_fcgi_data_record);
	tcase_add_test(tc, test_fcgi_multiplexing_refused);
	tcase_add_test(tc, test_fcgi_abort_request_ends);
	tcase_add_test(tc, test_fcgi_unknown_role_refused);
	tcase_add_test(tc, test_fcgi_duplicate_params_rejected);
	tcase_add_test(tc, test_fcgi_repeated_headers_joined);
	tcase_add_test(tc, test_fcgi_bad_names_rejected);
	tcase_add_test(tc, test_fcgi_param_limits);
	tcase_add_test(tc, test_fcgi_body_over_limit);
	tcase_add_test(tc, test_fcgi_content_length_mismatch);
	tcase_add_test(tc, test_fcgi_keep_conn_two_requests);
	tcase_add_test(tc, test_fcgi_encoder_roundtrip);
	tcase_add_test(tc, test_fcgi_encoder_small_one_batch);
	suite_add_tcase(s, tc);
	tn = tcase_create("native");
	tcase_add_checked_fixture(tn, net_setup, net_teardown);
	tcase_set_timeout(tn, 10);
	tcase_add_test(tn, test_fcgi_native_request_response);
	tcase_add_test(tn, test_fcgi_native_keep_conn_and_idle);
	tcase_add_test(tn, test_fcgi_native_header_timeout);
	tcase_add_test(tn, test_fcgi_native_protocol_error_closes);
	tcase_add_test(tn, test_fcgi_native_toobig);
	tcase_add_test(tn, test_fcgi_native_abort_then_request);
	tcase_add_test(tn, test_fcgi_native_write_timeout);
	tcase_add_test(tn, test_fcgi_native_body_min_rate);
	suite_add_tcase(s, tn);
	return s;
}
