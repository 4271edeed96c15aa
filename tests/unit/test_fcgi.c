/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Unit tests of Kiln's FastCGI responder: the pure record and params
 * parser and the response encoder (src/http/fcgi_proto.c), fed every
 * record type and the malformed shapes of issue 7, whole and a byte at a
 * time. The record builders and the reply decoder defined here are shared
 * with the native transport's tests (test_fcgi.h, test_fcgi_native.c).
 */
#include "config.h"

#include <sys/uio.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <check.h>

#include <kiln/kiln.h>

#include "fcgi_int.h"
#include "suites.h"
#include "test_fcgi.h"

static kiln_arena *a;
static kiln__fcgi P;
static kiln_kvs params;

/* (Re)starts P on a with the given limits. */
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

static void
setup(void)
{
	a = kiln_arena_new(0);
	ck_assert_ptr_nonnull(a);
	limits(500, 64 * 1024, 1 << 20, 1 << 20);
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

void
ft_rec_v(kiln_buf *b, unsigned ver, unsigned type, unsigned id, const void *c,
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

void
ft_rec(kiln_buf *b, unsigned type, unsigned id, const void *c, size_t clen,
    size_t plen)
{
	ft_rec_v(b, 1, type, id, c, clen, plen);
}

void
ft_begin(kiln_buf *b, unsigned id, unsigned role, unsigned flags, size_t plen)
{
	uint8_t c[8] = { 0 };

	c[0] = (uint8_t)(role >> 8);
	c[1] = (uint8_t)role;
	c[2] = (uint8_t)flags;
	ft_rec(b, KILN__FCGI_BEGIN_REQUEST, id, c, 8, plen);
}

void
ft_plen(kiln_buf *b, uint32_t n, bool wide)
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

void
ft_pair(kiln_buf *b, const char *n, const char *v)
{
	ft_plen(b, (uint32_t)strlen(n), false);
	ft_plen(b, (uint32_t)strlen(v), false);
	ck_assert_int_eq(kiln_buf_append_c(b, n), KILN_OK);
	ck_assert_int_eq(kiln_buf_append_c(b, v), KILN_OK);
}

void
ft_stream(kiln_buf *b, unsigned type, unsigned id, const void *c, size_t len,
    size_t max)
{
	const char *p = c;
	size_t k;

	while (len > 0) {
		k = len < max ? len : max;
		ft_rec(b, type, id, p, k, 0);
		p += k;
		len -= k;
	}
	ft_rec(b, type, id, NULL, 0, 0);
}

void
ft_params(kiln_buf *b, unsigned id, const char *const *kv, size_t max)
{
	kiln_buf pb;

	kiln_buf_init(&pb, b->a, 0);
	for (; kv[0] != NULL; kv += 2)
		ft_pair(&pb, kv[0], kv[1]);
	ft_stream(b, KILN__FCGI_PARAMS, id, pb.ptr, pb.len, max);
}

const char *const ft_basic[] = {
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

void
ft_request(kiln_buf *b, unsigned id, unsigned flags, const char *const *kv,
    const char *body)
{
	ft_begin(b, id, KILN__FCGI_RESPONDER, flags, 0);
	ft_params(b, id, kv, 7);
	ft_stream(b, KILN__FCGI_STDIN, id, body, strlen(body), 3);
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

size_t
ft_decode(const void *buf, size_t len, ft_orec *r, size_t max)
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

void
ft_assert_end(const ft_orec *r, unsigned id, uint32_t app, unsigned proto)
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

/* Starts again (fresh arena and parser) with b empty in the new arena. */
static void
fresh(kiln_buf *b)
{
	reset();
	kiln_buf_init(b, a, 0);
}

/*
 * Feeds b whole and asserts that the parser fails, for the reason why
 * unless why is NULL.
 */
static void
feed_error(const kiln_buf *b, const char *why)
{
	ck_assert_int_eq(feed_buf(b, NULL), KILN__FCGI_ERROR);
	if (why != NULL)
		ck_assert_str_eq(kiln__fcgi_why(&P), why);
}

/* Asserts that request 1 with params kv and body fails, for why. */
static void
request_error(const char *const *kv, const char *body, const char *why)
{
	kiln_buf b;

	kiln_buf_init(&b, a, 0);
	ft_request(&b, 1, 0, kv, body);
	feed_error(&b, why);
}

/*
 * Feeds b whole, asserts that the parser stops with want, and decodes
 * what it answered into r (at most max records). Returns the count.
 */
static size_t
feed_replies(const kiln_buf *b, kiln__fcgi_ev want, ft_orec *r, size_t max)
{
	kiln_buf out;

	kiln_buf_init(&out, a, 0);
	ck_assert_int_eq(feed_buf(b, &out), want);
	return ft_decode(out.ptr, out.len, r, max);
}

/* Starts b with BEGIN_REQUEST (responder, no flags) and pb empty. */
static void
begin_pb(kiln_buf *b, kiln_buf *pb)
{
	kiln_buf_init(b, a, 0);
	kiln_buf_init(pb, a, 0);
	ft_begin(b, 1, KILN__FCGI_RESPONDER, 0, 0);
}

START_TEST(test_fcgi_request_parsed)
{
	kiln_buf b;
	kiln_str body;

	kiln_buf_init(&b, a, 0);
	ft_request(&b, 7, 0, ft_basic, "hello");
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
		ft_begin(&b, 3, KILN__FCGI_RESPONDER, KILN__FCGI_KEEP_CONN, 5);
		ft_params(&b, 3, ft_basic, 4);
		ft_rec(&b, KILN__FCGI_STDIN, 3, "he", 2, 6);
		ft_rec(&b, KILN__FCGI_STDIN, 3, "llo", 3, 0);
		ft_rec(&b, KILN__FCGI_STDIN, 3, NULL, 0, 3);
		ev = feed(kiln_buf_str(&b), chunk, &used, NULL);
		ck_assert_msg(ev == KILN__FCGI_REQUEST, "chunk %zu: %s", chunk,
		    kiln__fcgi_why(&P));
		ck_assert_uint_eq(used, b.len);
		ck_assert(kiln__fcgi_keep_conn(&P));
		ck_assert_uint_eq(params.n, 6);
		for (i = 0; ft_basic[2 * i] != NULL; i++) {
			ck_assert(kiln_str_eq_c(params.items[i].key,
			    ft_basic[2 * i]));
			ck_assert(kiln_str_eq_c(params.items[i].val,
			    ft_basic[2 * i + 1]));
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
	ft_rec_v(&b, 2, KILN__FCGI_BEGIN_REQUEST, 1, c, 8, 0);
	feed_error(&b, "bad FastCGI version");
	/* A dead parser stays dead. */
	feed_error(&b, NULL);
}
END_TEST

START_TEST(test_fcgi_request_id_zero_rejected)
{
	kiln_buf b;
	unsigned types[] = { KILN__FCGI_BEGIN_REQUEST, KILN__FCGI_PARAMS,
		KILN__FCGI_STDIN, KILN__FCGI_ABORT_REQUEST };
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		fresh(&b);
		if (types[i] == KILN__FCGI_BEGIN_REQUEST)
			ft_begin(&b, 0, KILN__FCGI_RESPONDER, 0, 0);
		else
			ft_rec(&b, types[i], 0, NULL, 0, 0);
		feed_error(&b, "request id 0 on an application record");
	}
}
END_TEST

/* A header or record cut short is never acted on. */
START_TEST(test_fcgi_truncated_record_waits)
{
	kiln_buf b;
	size_t used;

	kiln_buf_init(&b, a, 0);
	ft_request(&b, 1, 0, ft_basic, "hello");
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
	ft_begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	kiln__fcgi_put_header(h, KILN__FCGI_PARAMS, 1, 1000, 0);
	ck_assert_int_eq(kiln_buf_append(&b, h, 8), KILN_OK);
	ft_pair(&b, "A", "b");
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
	ft_rec(&b, KILN__FCGI_BEGIN_REQUEST, 1, c, 9, 0);
	feed_error(&b, "BEGIN_REQUEST body not 8 bytes");
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
	ft_rec(&b, KILN__FCGI_BEGIN_REQUEST, 1, c, 8, 0);
	b.ptr[6] = 8; /* padding length */
	kiln__fcgi_put_header(fake, KILN__FCGI_PARAMS, 1, 0, 0);
	ck_assert_int_eq(kiln_buf_append(&b, fake, 8), KILN_OK);
	ft_params(&b, 1, ft_basic, 100);
	ft_stream(&b, KILN__FCGI_STDIN, 1, "hello", 5, 100);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_REQUEST);
	ck_assert_uint_eq(params.n, 6);
	ck_assert(kiln_str_eq_c(param("SCRIPT_NAME"), "/a"));
}
END_TEST

/* No dispatch while PARAMS has not ended, even with the body complete. */
START_TEST(test_fcgi_params_not_ended_no_dispatch)
{
	kiln_buf b, pb;

	begin_pb(&b, &pb);
	ft_pair(&pb, "REQUEST_METHOD", "GET");
	ft_rec(&b, KILN__FCGI_PARAMS, 1, pb.ptr, pb.len, 0);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_MORE);
	ck_assert_int_eq(kiln__fcgi_phase_of(&P), KILN__FCGI_HEADERS);
	/* STDIN before the end of PARAMS is a protocol error. */
	kiln_buf_init(&b, a, 0);
	ft_rec(&b, KILN__FCGI_STDIN, 1, NULL, 0, 0);
	feed_error(&b, "STDIN before the PARAMS stream ended");
}
END_TEST

/* No dispatch while STDIN has not ended. */
START_TEST(test_fcgi_stdin_not_ended_no_dispatch)
{
	kiln_buf b;

	kiln_buf_init(&b, a, 0);
	ft_begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	ft_params(&b, 1, ft_basic, 100);
	ft_rec(&b, KILN__FCGI_STDIN, 1, "hello", 5, 0);
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
	ft_begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	ft_rec(&b, KILN__FCGI_PARAMS, 1, part, sizeof(part), 0);
	ft_rec(&b, KILN__FCGI_PARAMS, 1, NULL, 0, 0);
	feed_error(&b, "PARAMS ended inside a pair");
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
		begin_pb(&b, &pb);
		ft_plen(&pb, shapes[i][0], true);
		ft_plen(&pb, shapes[i][1], true);
		ck_assert_int_eq(kiln_buf_append_c(&pb, "AAAAAAAA"), KILN_OK);
		ft_rec(&b, KILN__FCGI_PARAMS, 1, pb.ptr, pb.len, 0);
		feed_error(&b, "param lengths past the params limit");
	}
}
END_TEST

/* 4-byte lengths of small values are accepted. */
START_TEST(test_fcgi_wide_lengths_accepted)
{
	kiln_buf b, pb;

	begin_pb(&b, &pb);
	ft_plen(&pb, 4, true);
	ft_plen(&pb, 200, false);
	ck_assert_int_eq(kiln_buf_append_c(&pb, "LONG"), KILN_OK);
	while (pb.len < 4 + 4 + 4 + 200)
		ck_assert_int_eq(kiln_buf_append_char(&pb, 'v'), KILN_OK);
	ft_stream(&b, KILN__FCGI_PARAMS, 1, pb.ptr, pb.len, 3);
	ft_stream(&b, KILN__FCGI_STDIN, 1, NULL, 0, 1);
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
	kiln_buf b, pb;
	ft_orec r[4];
	size_t i;

	kiln_buf_init(&b, a, 0);
	kiln_buf_init(&pb, a, 0);
	for (i = 0; i < 10; i++)
		ft_pair(&pb, names[i], "");
	ft_rec(&b, KILN__FCGI_GET_VALUES, 0, pb.ptr, pb.len, 0);
	ck_assert_uint_eq(feed_replies(&b, KILN__FCGI_MORE, r, 4), 1);
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
	ft_plen(&pb, 0x7fffffff, true);
	ft_plen(&pb, 0x7fffffff, true);
	ft_rec(&b, KILN__FCGI_GET_VALUES, 0, pb.ptr, pb.len, 0);
	feed_error(&b, "GET_VALUES pair past the record");
	fresh(&b);
	ft_rec(&b, KILN__FCGI_GET_VALUES, 1, NULL, 0, 0);
	feed_error(&b, NULL);
}
END_TEST

/* A flood of management records never holds more than OUT_CAP bytes. */
START_TEST(test_fcgi_get_values_flood_bounded)
{
	kiln_buf b, pb;
	ft_orec r[300];
	size_t i, used;
	kiln__fcgi_ev ev;

	kiln_buf_init(&b, a, 0);
	kiln_buf_init(&pb, a, 0);
	ft_pair(&pb, "FCGI_MPXS_CONNS", "");
	for (i = 0; i < 200; i++)
		ft_rec(&b, KILN__FCGI_GET_VALUES, 0, pb.ptr, pb.len, 0);
	/* Fed whole, the parser stops with FLUSH before its buffer fills. */
	ev = kiln__fcgi_feed(&P, b.ptr, b.len, &used);
	ck_assert_int_eq(ev, KILN__FCGI_FLUSH);
	ck_assert_uint_lt(used, b.len);
	limits(500, 64 * 1024, 1 << 20, 1 << 20);
	ck_assert_uint_eq(feed_replies(&b, KILN__FCGI_MORE, r, 300), 200);
	ck_assert_uint_eq(r[199].type, KILN__FCGI_GET_VALUES_RESULT);
}
END_TEST

START_TEST(test_fcgi_unknown_type_answered)
{
	kiln_buf b;
	ft_orec r[4];

	kiln_buf_init(&b, a, 0);
	ft_rec(&b, 42, 0, "xyz", 3, 5);
	ft_rec(&b, 0, 9, NULL, 0, 0);
	ft_request(&b, 1, 0, ft_basic, "hello");
	ck_assert_uint_eq(feed_replies(&b, KILN__FCGI_REQUEST, r, 4), 2);
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
		fresh(&b);
		ft_rec(&b, types[i], 1, NULL, 0, 0);
		feed_error(&b, "record type sent only by applications");
	}
}
END_TEST

/* DATA is an error for the active responder request, ignored for others. */
START_TEST(test_fcgi_data_record)
{
	kiln_buf b;

	kiln_buf_init(&b, a, 0);
	ft_rec(&b, KILN__FCGI_DATA, 5, "zz", 2, 0);
	ft_begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_MORE);
	kiln_buf_init(&b, a, 0);
	ft_rec(&b, KILN__FCGI_DATA, 1, "zz", 2, 0);
	feed_error(&b, "DATA record for a responder");
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
	kiln_buf b;
	ft_orec r[4];

	kiln_buf_init(&b, a, 0);
	ft_begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	ft_begin(&b, 2, KILN__FCGI_RESPONDER, 0, 0);
	ft_params(&b, 2, other, 100);
	ft_params(&b, 1, ft_basic, 100);
	ft_stream(&b, KILN__FCGI_STDIN, 2, "junk", 4, 100);
	ft_stream(&b, KILN__FCGI_STDIN, 1, "hello", 5, 100);
	ck_assert_uint_eq(feed_replies(&b, KILN__FCGI_REQUEST, r, 4), 1);
	ck_assert_uint_eq(kiln__fcgi_request_id(&P), 1);
	ck_assert_uint_eq(params.n, 6);
	ck_assert_ptr_null(kiln_kvs_get(&params, KILN_STR("OTHER")));
	ck_assert(kiln_str_eq_c(kiln__fcgi_body(&P), "hello"));
	ft_assert_end(&r[0], 2, 0, KILN__FCGI_CANT_MPX_CONN);
	fresh(&b);
	ft_begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	ft_begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	feed_error(&b, NULL);
}
END_TEST

START_TEST(test_fcgi_abort_request_ends)
{
	kiln_buf b;
	ft_orec r[4];

	kiln_buf_init(&b, a, 0);
	ft_begin(&b, 4, KILN__FCGI_RESPONDER, KILN__FCGI_KEEP_CONN, 0);
	ft_params(&b, 4, ft_basic, 100);
	ft_rec(&b, KILN__FCGI_STDIN, 4, "he", 2, 0);
	ft_rec(&b, KILN__FCGI_ABORT_REQUEST, 9, NULL, 0, 0); /* not active */
	ft_rec(&b, KILN__FCGI_ABORT_REQUEST, 4, NULL, 0, 0);
	ck_assert_uint_eq(feed_replies(&b, KILN__FCGI_ENDED, r, 4), 1);
	ck_assert_int_eq(kiln__fcgi_phase_of(&P), KILN__FCGI_IDLE);
	ck_assert(kiln__fcgi_keep_conn(&P));
	ft_assert_end(&r[0], 4, KILN__FCGI_ABORT_STATUS,
	    KILN__FCGI_REQUEST_COMPLETE);
	/* The connection carries on with the next request. */
	kiln_buf_init(&b, a, 0);
	ft_request(&b, 5, 0, ft_basic, "hello");
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_REQUEST);
	ck_assert_uint_eq(params.n, 6);
}
END_TEST

START_TEST(test_fcgi_unknown_role_refused)
{
	kiln_buf b;
	ft_orec r[4];

	kiln_buf_init(&b, a, 0);
	ft_begin(&b, 3, KILN__FCGI_AUTHORIZER, 0, 0);
	ft_params(&b, 3, ft_basic, 100);
	ck_assert_uint_eq(feed_replies(&b, KILN__FCGI_ENDED, r, 4), 1);
	ck_assert(!kiln__fcgi_keep_conn(&P));
	ft_assert_end(&r[0], 3, 0, KILN__FCGI_UNKNOWN_ROLE);
}
END_TEST

/* Duplicates would let a forged param shadow nginx's; rejected. */
START_TEST(test_fcgi_duplicate_params_rejected)
{
	static const char *const dup[] = { "SCRIPT_NAME", "/a", "X", "1",
		"SCRIPT_NAME", "/b", NULL };

	request_error(dup, "", "duplicate param SCRIPT_NAME");
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
	ft_request(&b, 1, 0, rep, "");
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

	request_error(eq, "", "'=' in param name DOCUMENT_URI=/x");
	reset();
	request_error(empty, "", "empty param name");
	reset();
	begin_pb(&b, &pb);
	ck_assert_int_eq(kiln_buf_append(&pb, "\003\001A\nB\0", 7), KILN_OK);
	ft_stream(&b, KILN__FCGI_PARAMS, 1, pb.ptr, pb.len, 100);
	feed_error(&b, "NUL in the value of param A?B");
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
	begin_pb(&b, &pb);
	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "P%zu", i);
		ft_pair(&pb, name, "");
	}
	ft_stream(&b, KILN__FCGI_PARAMS, 1, pb.ptr, pb.len, 65535);
	feed_error(&b, "too many params");
	ck_assert_uint_eq(params.n, 500);
	/* 1 MiB of params in 100-byte pairs: stopped at the byte limit. */
	limits(100000, 64 * 1024, 1024, 1024);
	pa = kiln_arena_new(0);
	ck_assert_ptr_nonnull(pa);
	kiln__fcgi_attach(&P, pa, &params);
	begin_pb(&b, &pb);
	memset(val, 'v', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	for (i = 0; pb.len < (1 << 20); i++) {
		snprintf(name, sizeof(name), "H%05zu", i);
		ft_pair(&pb, name, val);
	}
	/* Records hold whole pairs (108 bytes each), 500 to a record. */
	ft_stream(&b, KILN__FCGI_PARAMS, 1, pb.ptr, pb.len, 108 * 500);
	feed_error(&b, "params over the params byte limit");
	/* What was kept is bounded by the limit, not by what was sent. */
	ck_assert_uint_lt(kiln_arena_used(pa), 256 * 1024);
	kiln_arena_free(pa);
	/* One 1 MiB value: stopped at its length, before any allocation. */
	limits(100000, 64 * 1024, 1024, 1024);
	begin_pb(&b, &pb);
	ft_plen(&pb, 1, false);
	ft_plen(&pb, 1 << 20, true);
	ck_assert_int_eq(kiln_buf_append_char(&pb, 'N'), KILN_OK);
	ft_stream(&b, KILN__FCGI_PARAMS, 1, pb.ptr, pb.len, 65535);
	feed_error(&b, "param lengths past the params limit");
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
	ft_request(&b, 1, KILN__FCGI_KEEP_CONN, cl, "01234567890123456789");
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_TOOBIG);
	ck_assert(kiln__fcgi_drained(&P));
	ck_assert_uint_eq(kiln__fcgi_body(&P).len, 0);
	ck_assert(kiln_str_eq_c(param("CONTENT_LENGTH"), "20"));
	kiln__fcgi_finish(&P);
	ck_assert_int_eq(kiln__fcgi_phase_of(&P), KILN__FCGI_IDLE);
	/* Declared past max_body + max_drain: handed over unread. */
	limits(10, 1024, 10, 100);
	kiln_buf_init(&b, a, 0);
	ft_begin(&b, 1, KILN__FCGI_RESPONDER, KILN__FCGI_KEEP_CONN, 0);
	ft_params(&b, 1, huge, 100);
	ck_assert_int_eq(feed_buf(&b, NULL), KILN__FCGI_TOOBIG);
	ck_assert(!kiln__fcgi_drained(&P));
	kiln__fcgi_finish(&P);
	feed_error(&b, NULL);
	/* Without CONTENT_LENGTH: the drain gives up past the allowance. */
	limits(10, 1024, 10, 100);
	kiln_buf_init(&b, a, 0);
	ft_begin(&b, 1, KILN__FCGI_RESPONDER, 0, 0);
	ft_params(&b, 1, none, 100);
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

	request_error(cl5, "hey", "body shorter than CONTENT_LENGTH");
	reset();
	request_error(cl5, "hello!", "body longer than CONTENT_LENGTH");
	reset();
	request_error(bad, "hello", NULL);
	reset();
	request_error(neg, "", "CONTENT_LENGTH not a number");
	reset();
	request_error(big, "", "CONTENT_LENGTH too long");
}
END_TEST

/* Two requests on a kept connection, sent back to back. */
START_TEST(test_fcgi_keep_conn_two_requests)
{
	static const char *const second[] = { "REQUEST_URI", "/2", NULL };
	kiln_buf b;
	size_t used;

	kiln_buf_init(&b, a, 0);
	ft_request(&b, 1, KILN__FCGI_KEEP_CONN, ft_basic, "hello");
	ft_request(&b, 1, KILN__FCGI_KEEP_CONN, second, "");
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
	ft_orec *r;
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
	nrec = ft_decode(wire.ptr, wire.len, r, 64);
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
	ft_assert_end(&r[nrec - 1], 513, 0, KILN__FCGI_REQUEST_COMPLETE);
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

Suite *
fcgi_suite(void)
{
	Suite *s;
	TCase *tc;

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
	return s;
}
