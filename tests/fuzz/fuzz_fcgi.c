/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * libFuzzer harness for the FastCGI record and params parser and the
 * response encoder (src/http/fcgi_proto.c).
 *
 * Input: byte 0 picks max_params and max_params_bytes, byte 1 max_body,
 * byte 2 max_drain (all small, so the limit paths are reached), bytes
 * 3-10 seed the chunk sizes, the rest is the byte stream a peer sends.
 * The stream is fed twice: whole, and in pseudo-random chunks of 1 to
 * 64 bytes (sometimes up to 4096). Both runs must see the same events,
 * params, bodies, replies and error (the parser's result must not depend
 * on how reads split the stream). A run ends, as the connection would,
 * at an error or at an over-limit body that was not drained. Every handed-over
 * request is checked against the limits and the parser's promises (unique names
 * without '=' or NUL, NUL-terminated, body within max_body, replies within the
 * buffer). Finally the stream is encoded as a response and decoded back.
 */
#include "config.h"

#include <sys/uio.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/kiln.h>

#include "fcgi_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What one run saw. */
typedef struct digest {
	uint64_t h;	 /* FNV-1a over events, params, bodies, replies */
	size_t events;	 /* events other than MORE and FLUSH */
	size_t consumed; /* bytes consumed */
} digest;

static void
mix(digest *d, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		d->h ^= b[i];
		d->h *= 0x100000001b3ULL;
	}
}

/* A small deterministic generator for chunk sizes. */
static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Checks a handed-over request against the limits and the contract. */
static void
check_request(const kiln__fcgi *p, const kiln_kvs *params,
    const kiln__fcgi_limits *lim, kiln__fcgi_ev ev)
{
	kiln_str body;
	size_t i, j;

	if (params->n > lim->max_params)
		abort();
	for (i = 0; i < params->n; i++) {
		kiln_str k = params->items[i].key;
		kiln_str v = params->items[i].val;

		if (k.len == 0 || k.ptr[k.len] != '\0' || v.ptr[v.len] != '\0')
			abort();
		if (memchr(k.ptr, '=', k.len) != NULL ||
		    memchr(k.ptr, '\0', k.len) != NULL ||
		    memchr(v.ptr, '\0', v.len) != NULL)
			abort();
		if (k.len + v.len > lim->max_params_bytes)
			abort();
		for (j = 0; j < i && params->n <= 64; j++)
			if (kiln_str_eq(k, params->items[j].key))
				abort();
	}
	body = kiln__fcgi_body(p);
	if (body.ptr == NULL || body.len > lim->max_body)
		abort();
	if (ev == KILN__FCGI_TOOBIG && body.len != 0)
		abort();
	if (ev == KILN__FCGI_REQUEST && !kiln__fcgi_drained(p))
		abort();
	if (kiln__fcgi_phase_of(p) != KILN__FCGI_DISPATCH)
		abort();
}

/* Mixes a handed-over request into the digest. */
static void
mix_request(digest *d, const kiln__fcgi *p, const kiln_kvs *params)
{
	kiln_str body;
	uint16_t id;
	size_t i;

	id = kiln__fcgi_request_id(p);
	mix(d, &id, sizeof(id));
	mix(d, &params->n, sizeof(params->n));
	for (i = 0; i < params->n; i++) {
		mix(d, params->items[i].key.ptr, params->items[i].key.len + 1);
		mix(d, params->items[i].val.ptr, params->items[i].val.len + 1);
	}
	body = kiln__fcgi_body(p);
	mix(d, &body.len, sizeof(body.len));
	mix(d, body.ptr, body.len);
}

/*
 * Feeds the stream in chunks (whole when seed is 0), acting as the
 * transport does: replies are taken after each call, a request is
 * finished and its arena reset, ERROR ends the run.
 */
static void
run(const kiln__fcgi_limits *lim, const uint8_t *s, size_t len, uint64_t seed,
    digest *d)
{
	static kiln__fcgi p; /* large; kept off the stack */
	kiln__fcgi_ev ev;
	const uint8_t *out;
	kiln_arena *a;
	kiln_kvs params;
	size_t off, n, used, olen;
	uint64_t r;

	memset(d, 0, sizeof(*d));
	d->h = 0xcbf29ce484222325ULL;
	a = kiln_arena_new(4096);
	if (a == NULL)
		abort();
	kiln__fcgi_init(&p, lim);
	kiln__fcgi_attach(&p, a, &params);
	off = 0;
	ev = KILN__FCGI_MORE;
	while (off < len) {
		n = len - off;
		if (seed != 0) {
			r = next_rand(&seed);
			n = (r & 7) == 0 ? (size_t)(r >> 8) % 4096 + 1 :
					   (size_t)(r >> 8) % 64 + 1;
			n = n < len - off ? n : len - off;
		}
		ev = kiln__fcgi_feed(&p, s + off, n, &used);
		if (used > n || (ev == KILN__FCGI_MORE && used != n))
			abort();
		off += used;
		out = kiln__fcgi_output(&p, &olen);
		if (olen > KILN__FCGI_OUT_CAP)
			abort();
		mix(d, out, olen);
		kiln__fcgi_output_consume(&p, olen);
		if (ev == KILN__FCGI_MORE || ev == KILN__FCGI_FLUSH)
			continue;
		d->events++;
		mix(d, &ev, sizeof(ev));
		if (ev == KILN__FCGI_ERROR) {
			/* The transport closes: where in the chunk is moot. */
			mix(d, kiln__fcgi_why(&p), strlen(kiln__fcgi_why(&p)));
			off = len;
			break;
		}
		if (ev == KILN__FCGI_ENDED) {
			kiln_arena_reset(a);
			kiln__fcgi_attach(&p, a, &params);
			continue;
		}
		check_request(&p, &params, lim, ev);
		mix_request(d, &p, &params);
		if (!kiln__fcgi_drained(&p)) {
			/* Answered, then closed: the rest is never read. */
			kiln__fcgi_finish(&p);
			if (kiln__fcgi_feed(&p, s, len, &used) !=
			    KILN__FCGI_ERROR)
				abort();
			off = len;
			break;
		}
		kiln__fcgi_finish(&p);
		if (kiln__fcgi_phase_of(&p) != KILN__FCGI_IDLE)
			abort();
		kiln_arena_reset(a);
		kiln__fcgi_attach(&p, a, &params);
	}
	d->consumed = off;
	kiln_arena_free(a);
}

/* Encodes head and body as a response and checks the records decode back. */
static void
check_encoder(const uint8_t *s, size_t len, uint64_t seed)
{
	struct iovec iov[KILN__FCGI_ENC_IOV];
	kiln__fcgi_enc enc;
	kiln_str head, body;
	size_t i, n, max, got, cut, clen;
	const uint8_t *hp;
	bool ended;

	cut = len / 3;
	head.ptr = (const char *)s;
	head.len = cut;
	body.ptr = (const char *)s + cut;
	body.len = len - cut;
	kiln__fcgi_enc_init(&enc, (uint16_t)(seed | 1), head, body);
	max = 4 + (size_t)(seed % (KILN__FCGI_ENC_IOV - 3));
	got = 0;
	clen = 0;
	ended = false;
	while ((n = kiln__fcgi_enc_iov(&enc, iov, max)) > 0) {
		for (i = 0; i < n; i++) {
			if (iov[i].iov_len == 8 && clen == 0 && !ended) {
				/* A record header: its content follows. */
				hp = iov[i].iov_base;
				if (hp[0] != 1 || hp[1] != KILN__FCGI_STDOUT)
					abort();
				clen = (size_t)hp[4] << 8 | hp[5];
				if (clen == 0)
					abort();
				continue;
			}
			if (iov[i].iov_len == 24 && clen == 0) {
				hp = iov[i].iov_base;
				if (hp[1] != KILN__FCGI_STDOUT || hp[5] != 0 ||
				    hp[9] != KILN__FCGI_END_REQUEST)
					abort();
				ended = true;
				continue;
			}
			if (iov[i].iov_len > clen || ended)
				abort();
			/* head and body are adjacent in s. */
			if (memcmp(iov[i].iov_base, s + got, iov[i].iov_len) !=
			    0)
				abort();
			got += iov[i].iov_len;
			clen -= iov[i].iov_len;
		}
	}
	if (got != len || clen != 0 || !ended)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kiln__fcgi_limits lim;
	digest whole, chunked;
	uint64_t seed;

	if (size < 11)
		return 0;
	lim.max_params = 1 + (size_t)(data[0] & 15) * 4;
	lim.max_params_bytes = (size_t)64 << ((data[0] >> 4) & 7);
	lim.max_body = (size_t)data[1] * 8;
	lim.max_drain = (size_t)data[2] * 16;
	memcpy(&seed, data + 3, sizeof(seed));
	seed |= 1;
	run(&lim, data + 11, size - 11, 0, &whole);
	run(&lim, data + 11, size - 11, seed, &chunked);
	if (whole.h != chunked.h || whole.events != chunked.events ||
	    whole.consumed != chunked.consumed)
		abort();
	check_encoder(data + 11, size - 11, seed);
	return 0;
}
