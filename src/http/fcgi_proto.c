/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The FastCGI responder protocol as a pure state machine (no I/O): bytes
 * from the peer go in, in chunks of any size, and out come events
 * (a complete request, an undispatched end, a protocol error) and a small
 * buffer of replies to write back. It also encodes responses as STDOUT
 * records over iovecs, without copying the body.
 *
 * Invariants: a record is processed as its bytes arrive; no length read
 * from the peer is used before it has been checked against what is left
 * of the record, or of the params budget (lengths are summed in 64 bits,
 * so two 31-bit lengths never overflow). Params are copied pair by pair
 * into the attached arena, so their memory is bounded by
 * max_params_bytes; the body is bounded by max_body. Each record produces
 * at most one reply of at most REPLY_MAX bytes, and a record is not
 * started while fewer than REPLY_MAX bytes of the reply buffer are free,
 * so replies are bounded however many management records arrive.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/kiln.h>

#include "fcgi_int.h"

/* Record states. */
enum {
	ST_HEADER,  /* reading the 8 header bytes */
	ST_CONTENT, /* reading content */
	ST_PADDING, /* skipping padding */
	ST_DEAD,    /* after an error: nothing more is accepted */
};

/* Pair decoder states. */
enum {
	PR_NLEN,  /* reading the name length */
	PR_VLEN,  /* reading the value length */
	PR_NAME,  /* reading the name */
	PR_VALUE, /* reading the value */
};

/* The largest reply one record can produce (GET_VALUES_RESULT is 59). */
#define REPLY_MAX 64

/* The variables FCGI_GET_VALUES may ask for, and Kiln's answers. */
static const char *const gv_names[3] = {
	"FCGI_MAX_CONNS",
	"FCGI_MAX_REQS",
	"FCGI_MPXS_CONNS",
};
static const char *const gv_values[3] = {
	"1", /* one connection per worker process */
	"1", /* one request at a time */
	"0", /* no multiplexing */
};

/* Marks the parser dead and records why. Returns KILN__FCGI_ERROR. */
static kiln__fcgi_ev
fail(kiln__fcgi *p, const char *why)
{
	p->st = ST_DEAD;
	p->why = why;
	(void)snprintf(p->detail, sizeof(p->detail), "%s", why);
	return KILN__FCGI_ERROR;
}

/*
 * Like fail(), naming the object: a param name, cut to 48 bytes, with
 * bytes other than printable ASCII shown as '?' so that a hostile name
 * cannot forge log lines.
 */
static kiln__fcgi_ev
fail_named(kiln__fcgi *p, const char *why, const char *name, size_t len)
{
	char safe[49];
	size_t i, n;

	n = len > 48 ? 48 : len;
	for (i = 0; i < n; i++)
		safe[i] = name[i] > 0x20 && name[i] < 0x7f ? name[i] : '?';
	safe[n] = '\0';
	p->st = ST_DEAD;
	p->why = why;
	(void)snprintf(p->detail, sizeof(p->detail), "%s %s%s", why, safe,
	    len > 48 ? "..." : "");
	return KILN__FCGI_ERROR;
}

void
kiln__fcgi_put_header(uint8_t *out, unsigned type, uint16_t id, uint16_t clen,
    uint8_t plen)
{
	out[0] = KILN__FCGI_VERSION;
	out[1] = (uint8_t)type;
	out[2] = (uint8_t)(id >> 8);
	out[3] = (uint8_t)id;
	out[4] = (uint8_t)(clen >> 8);
	out[5] = (uint8_t)clen;
	out[6] = plen;
	out[7] = 0;
}

/* Writes an END_REQUEST record (16 bytes) into out. */
static void
put_end_request(uint8_t *out, uint16_t id, uint32_t app_status,
    uint8_t proto_status)
{
	kiln__fcgi_put_header(out, KILN__FCGI_END_REQUEST, id, 8, 0);
	out[8] = (uint8_t)(app_status >> 24);
	out[9] = (uint8_t)(app_status >> 16);
	out[10] = (uint8_t)(app_status >> 8);
	out[11] = (uint8_t)app_status;
	out[12] = proto_status;
	memset(out + 13, 0, 3);
}

size_t
kiln__fcgi_put_end(uint8_t *out, uint16_t id, uint32_t app_status)
{
	kiln__fcgi_put_header(out, KILN__FCGI_STDOUT, id, 0, 0);
	put_end_request(out + 8, id, app_status, KILN__FCGI_REQUEST_COMPLETE);
	return 24;
}

/* Queues an END_REQUEST reply (room was checked when the record began). */
static void
reply_end(kiln__fcgi *p, uint16_t id, uint32_t app_status, uint8_t proto_status)
{
	put_end_request(p->out + p->outlen, id, app_status, proto_status);
	p->outlen += 16;
}

/* Queues an FCGI_UNKNOWN_TYPE reply naming type. */
static void
reply_unknown_type(kiln__fcgi *p, uint8_t type)
{
	uint8_t *o;

	o = p->out + p->outlen;
	kiln__fcgi_put_header(o, KILN__FCGI_UNKNOWN_TYPE, 0, 8, 0);
	o[8] = type;
	memset(o + 9, 0, 7);
	p->outlen += 16;
}

/*
 * Queues the FCGI_GET_VALUES_RESULT for the known variables the record
 * asked for, each once, in the order first asked; unknown names are left
 * out, as the specification says. Never more than 59 bytes.
 */
static void
reply_values(kiln__fcgi *p)
{
	uint8_t *o;
	size_t len, nl, vl;
	unsigned i;

	o = p->out + p->outlen;
	len = KILN__FCGI_HEADER_LEN;
	for (i = 0; i < p->gv_n; i++) {
		nl = strlen(gv_names[p->gv_order[i]]);
		vl = strlen(gv_values[p->gv_order[i]]);
		o[len++] = (uint8_t)nl;
		o[len++] = (uint8_t)vl;
		memcpy(o + len, gv_names[p->gv_order[i]], nl);
		len += nl;
		memcpy(o + len, gv_values[p->gv_order[i]], vl);
		len += vl;
	}
	kiln__fcgi_put_header(o, KILN__FCGI_GET_VALUES_RESULT, 0,
	    (uint16_t)(len - KILN__FCGI_HEADER_LEN), 0);
	p->outlen += len;
}

void
kiln__fcgi_init(kiln__fcgi *p, const kiln__fcgi_limits *lim)
{
	memset(p, 0, sizeof(*p));
	p->lim = *lim;
	p->st = ST_HEADER;
	p->phase = KILN__FCGI_IDLE;
	p->pending = KILN__FCGI_MORE;
	p->why = "no error";
	(void)snprintf(p->detail, sizeof(p->detail), "%s", p->why);
}

void
kiln__fcgi_attach(kiln__fcgi *p, kiln_arena *a, kiln_kvs *params)
{
	p->a = a;
	p->params = params;
	kiln_kvs_init(params, a);
	kiln_buf_init(&p->body, a, 0);
}

/* Resets a pair decoder to the start of a pair. */
static void
pairs_reset(kiln__fcgi_pairs *pr)
{
	memset(pr, 0, sizeof(*pr));
	pr->st = PR_NLEN;
}

/*
 * Takes one length byte: a byte with the high bit clear is a whole
 * length (0-127); otherwise it starts a 4-byte big-endian length whose
 * high bit is dropped (up to 0x7FFFFFFF). Returns true with *out set
 * once the length is complete.
 */
static bool
len_byte(kiln__fcgi_pairs *pr, uint8_t b, uint32_t *out)
{
	if (pr->lenhave == 0 && (b & 0x80) == 0) {
		*out = b;
		return true;
	}
	pr->lenbuf[pr->lenhave++] = b;
	if (pr->lenhave < 4)
		return false;
	*out = (uint32_t)(pr->lenbuf[0] & 0x7f) << 24 |
	    (uint32_t)pr->lenbuf[1] << 16 | (uint32_t)pr->lenbuf[2] << 8 |
	    (uint32_t)pr->lenbuf[3];
	pr->lenhave = 0;
	return true;
}

/*
 * Both lengths of a param are known: check them against what is left of
 * the params budget (64-bit sums of 31-bit numbers cannot overflow) and
 * against the pair count, then allocate the pair's storage.
 */
static kiln__fcgi_ev
param_lengths(kiln__fcgi *p)
{
	kiln__fcgi_pairs *pr;
	uint64_t remain;

	pr = &p->pairs;
	remain = (uint64_t)(p->lim.max_params_bytes - p->params_used);
	if ((uint64_t)pr->nlen + (uint64_t)pr->vlen > remain)
		return fail(p, "param lengths past the params limit");
	if (pr->nlen == 0)
		return fail(p, "empty param name");
	if (p->params->n >= p->lim.max_params)
		return fail(p, "too many params");
	pr->name = kiln_arena_alloc(p->a, (size_t)pr->nlen + pr->vlen + 2);
	if (pr->name == NULL)
		return fail(p, "out of memory for params");
	pr->val = pr->name + pr->nlen + 1;
	pr->have = 0;
	return KILN__FCGI_MORE;
}

/* A param is complete: validate it and add it. */
static kiln__fcgi_ev
param_done(kiln__fcgi *p)
{
	kiln__fcgi_pairs *pr;
	kiln_str k, v;

	pr = &p->pairs;
	pr->name[pr->nlen] = '\0';
	pr->val[pr->vlen] = '\0';
	if (memchr(pr->name, '=', pr->nlen) != NULL)
		return fail_named(p, "'=' in param name", pr->name, pr->nlen);
	if (memchr(pr->name, '\0', pr->nlen) != NULL)
		return fail(p, "NUL in param name");
	if (memchr(pr->val, '\0', pr->vlen) != NULL)
		return fail_named(p, "NUL in the value of param", pr->name,
		    pr->nlen);
	k.ptr = pr->name;
	k.len = pr->nlen;
	v.ptr = pr->val;
	v.len = pr->vlen;
	if (kiln_kvs_add(p->params, k, v) != KILN_OK)
		return fail(p, "out of memory for params");
	pairs_reset(pr);
	return KILN__FCGI_MORE;
}

/*
 * Decodes n bytes of the PARAMS stream of the active request. Pairs may
 * span records, so the decoder keeps its place between calls.
 */
static kiln__fcgi_ev
params_feed(kiln__fcgi *p, const uint8_t *b, size_t n)
{
	kiln__fcgi_pairs *pr;
	size_t k;
	kiln__fcgi_ev ev;

	pr = &p->pairs;
	while (n > 0) {
		switch (pr->st) {
		case PR_NLEN:
		case PR_VLEN:
			p->params_used++;
			if (!len_byte(pr, *b,
				pr->st == PR_NLEN ? &pr->nlen : &pr->vlen)) {
				b++;
				n--;
				break;
			}
			b++;
			n--;
			if (pr->st == PR_NLEN) {
				pr->st = PR_VLEN;
				break;
			}
			if ((ev = param_lengths(p)) != KILN__FCGI_MORE)
				return ev;
			pr->st = PR_NAME;
			break;
		case PR_NAME:
			k = pr->nlen - pr->have;
			k = k < n ? k : n;
			memcpy(pr->name + pr->have, b, k);
			pr->have += (uint32_t)k;
			p->params_used += k;
			b += k;
			n -= k;
			if (pr->have < pr->nlen)
				break;
			pr->have = 0;
			pr->st = PR_VALUE;
			if (pr->vlen == 0 &&
			    (ev = param_done(p)) != KILN__FCGI_MORE)
				return ev;
			break;
		default: /* PR_VALUE */
			k = pr->vlen - pr->have;
			k = k < n ? k : n;
			memcpy(pr->val + pr->have, b, k);
			pr->have += (uint32_t)k;
			p->params_used += k;
			b += k;
			n -= k;
			if (pr->have == pr->vlen &&
			    (ev = param_done(p)) != KILN__FCGI_MORE)
				return ev;
			break;
		}
	}
	return KILN__FCGI_MORE;
}

/* A GET_VALUES name is complete: note it if Kiln knows it. */
static void
gv_name(kiln__fcgi *p)
{
	unsigned i;

	if (p->gv.nlen >= sizeof(p->gv.small))
		return;
	for (i = 0; i < 3; i++) {
		if (strlen(gv_names[i]) == p->gv.nlen &&
		    memcmp(gv_names[i], p->gv.small, p->gv.nlen) == 0 &&
		    (p->gv_seen & (1u << i)) == 0) {
			p->gv_seen |= 1u << i;
			p->gv_order[p->gv_n++] = (uint8_t)i;
		}
	}
}

/*
 * Decodes n bytes of a GET_VALUES record. Its pairs must lie within the
 * record: left is the count of content bytes not yet decoded, including
 * these n. Names are compared on their first 15 bytes; longer names are
 * unknown. Values (which should be empty) are skipped.
 */
static kiln__fcgi_ev
gv_feed(kiln__fcgi *p, const uint8_t *b, size_t n, size_t left)
{
	kiln__fcgi_pairs *pr;
	size_t k;

	pr = &p->gv;
	while (n > 0) {
		switch (pr->st) {
		case PR_NLEN:
		case PR_VLEN:
			n--;
			left--;
			if (!len_byte(pr, *b++,
				pr->st == PR_NLEN ? &pr->nlen : &pr->vlen))
				break;
			if (pr->st == PR_NLEN) {
				pr->st = PR_VLEN;
				break;
			}
			if ((uint64_t)pr->nlen + pr->vlen > left)
				return fail(p,
				    "GET_VALUES pair past the record");
			pr->have = 0;
			pr->st = PR_NAME;
			if (pr->nlen == 0) {
				gv_name(p);
				pr->st = PR_VALUE;
			}
			if (pr->st == PR_VALUE && pr->vlen == 0)
				pairs_reset(pr);
			break;
		case PR_NAME:
			k = pr->nlen - pr->have;
			k = k < n ? k : n;
			if (pr->have < sizeof(pr->small))
				memcpy(pr->small + pr->have, b,
				    k < sizeof(pr->small) - pr->have ?
					k :
					sizeof(pr->small) - pr->have);
			pr->have += (uint32_t)k;
			b += k;
			n -= k;
			left -= k;
			if (pr->have < pr->nlen)
				break;
			gv_name(p);
			pr->have = 0;
			pr->st = PR_VALUE;
			if (pr->vlen == 0)
				pairs_reset(pr);
			break;
		default: /* PR_VALUE */
			k = pr->vlen - pr->have;
			k = k < n ? k : n;
			pr->have += (uint32_t)k;
			b += k;
			n -= k;
			left -= k;
			if (pr->have == pr->vlen)
				pairs_reset(pr);
			break;
		}
	}
	return KILN__FCGI_MORE;
}

/*
 * Decodes n bytes of STDIN of the active request: kept while the body is
 * within max_body, counted and dropped past it. Returns TOOBIG (the
 * request is handed over undrained) when even the drain allowance is
 * used up, ERROR when the body runs past CONTENT_LENGTH.
 */
static kiln__fcgi_ev
body_feed(kiln__fcgi *p, const uint8_t *b, size_t n)
{
	p->body_seen += n;
	if (p->have_clen && p->body_seen > p->content_length)
		return fail(p, "body longer than CONTENT_LENGTH");
	if (!p->toobig && p->body_seen > p->lim.max_body)
		p->toobig = true;
	if (!p->toobig) {
		if (kiln_buf_append(&p->body, b, n) != KILN_OK)
			return fail(p, "out of memory for the body");
		return KILN__FCGI_MORE;
	}
	if (p->body_seen > p->lim.max_body &&
	    p->body_seen - p->lim.max_body > p->lim.max_drain) {
		p->drained = false;
		p->phase = KILN__FCGI_DISPATCH;
		return KILN__FCGI_TOOBIG;
	}
	return KILN__FCGI_MORE;
}

/* Orders params by name, for finding duplicates. */
static int
kv_cmp(const void *x, const void *y)
{
	const kiln_kv *a, *b;
	size_t n;
	int c;

	a = *(const kiln_kv *const *)x;
	b = *(const kiln_kv *const *)y;
	n = a->key.len < b->key.len ? a->key.len : b->key.len;
	c = memcmp(a->key.ptr, b->key.ptr, n);
	if (c != 0)
		return c;
	return a->key.len < b->key.len ? -1 : a->key.len > b->key.len;
}

/* Reads CONTENT_LENGTH when given: decimal digits only, at most 18. */
static kiln__fcgi_ev
params_content_length(kiln__fcgi *p)
{
	const kiln_str *cl;
	uint64_t v;
	size_t i;

	cl = kiln_kvs_get(p->params, KILN_STR("CONTENT_LENGTH"));
	if (cl == NULL || cl->len == 0)
		return KILN__FCGI_MORE;
	if (cl->len > 18)
		return fail(p, "CONTENT_LENGTH too long");
	v = 0;
	for (i = 0; i < cl->len; i++) {
		if (cl->ptr[i] < '0' || cl->ptr[i] > '9')
			return fail(p, "CONTENT_LENGTH not a number");
		v = v * 10 + (uint64_t)(cl->ptr[i] - '0');
	}
	p->have_clen = true;
	p->content_length = v;
	return KILN__FCGI_MORE;
}

/*
 * Joins repeated request headers, in the order they came: nginx passes a
 * header sent twice (two "X-Dup:" lines) as two HTTP_X_DUP params. As
 * RFC 9110 section 5.3 allows, their values are combined with ", " (with
 * "; " for Cookie, as RFC 6265 joins cookies), so the request is served
 * instead of being refused for a client's ordinary repetition. Runs only
 * when a duplicate was found; quadratic in the params, which
 * fcgi.max_params bounds.
 */
static kiln__fcgi_ev
merge_headers(kiln__fcgi *p)
{
	kiln_kv *it = p->params->items;
	const char *sep;
	kiln_buf b;
	size_t i, k, m = 0;

	for (i = 0; i < p->params->n; i++) {
		for (k = 0; k < m; k++) {
			if (kiln_str_eq(it[k].key, it[i].key))
				break;
		}
		if (k == m) {
			it[m++] = it[i];
			continue;
		}
		sep = kiln_str_eq(it[k].key, KILN_STR("HTTP_COOKIE")) ? "; " :
									", ";
		kiln_buf_init(&b, p->a, it[k].val.len + it[i].val.len + 2);
		kiln_buf_append_str(&b, it[k].val);
		kiln_buf_append_c(&b, sep);
		kiln_buf_append_str(&b, it[i].val);
		if (b.oom)
			return fail(p, "out of memory for params");
		it[k].val = kiln_buf_str(&b);
	}
	p->params->n = m;
	return KILN__FCGI_MORE;
}

#define SMALL_PARAMS 48 /* up to this many, duplicates are found pairwise */

/*
 * Finds duplicate names among few params by comparing each pair (length
 * first): a repeated request header sets *merge, any other repetition is
 * a protocol error.
 */
static kiln__fcgi_ev
small_dups(kiln__fcgi *p, bool *merge)
{
	const kiln_kv *it = p->params->items;
	size_t i, j, n = p->params->n;

	for (i = 1; i < n; i++) {
		for (j = 0; j < i; j++) {
			if (it[i].key.len != it[j].key.len ||
			    memcmp(it[i].key.ptr, it[j].key.ptr,
				it[i].key.len) != 0)
				continue;
			if (!kiln_str_startswith(it[i].key, KILN_STR("HTTP_")))
				return fail_named(p, "duplicate param",
				    it[i].key.ptr, it[i].key.len);
			*merge = true;
		}
	}
	return KILN__FCGI_MORE;
}

/*
 * The PARAMS stream ended (an empty PARAMS record): the last pair must be
 * complete, names unique (sorted copies of the pointers, so O(n log n))
 * except request headers (HTTP_*), whose repetitions are joined,
 * CONTENT_LENGTH valid. A declared body over max_body is known to be too
 * big now; one past even the drain allowance is handed over at once,
 * without reading it.
 */
static kiln__fcgi_ev
params_end(kiln__fcgi *p)
{
	const kiln_kv **v;
	size_t i, n;
	bool merge = false;

	if (p->pairs.st != PR_NLEN || p->pairs.lenhave != 0)
		return fail(p, "PARAMS ended inside a pair");
	n = p->params->n;
	if (n > 1 && n <= SMALL_PARAMS) {
		/* nginx sends about 20: pairwise beats sorting them. */
		if (small_dups(p, &merge) != KILN__FCGI_MORE)
			return KILN__FCGI_ERROR;
	} else if (n > 1) {
		v = kiln_arena_calloc(p->a, n, sizeof(*v));
		if (v == NULL)
			return fail(p, "out of memory for params");
		for (i = 0; i < n; i++)
			v[i] = &p->params->items[i];
		qsort(v, n, sizeof(*v), kv_cmp);
		for (i = 1; i < n; i++) {
			if (!kiln_str_eq(v[i - 1]->key, v[i]->key))
				continue;
			if (!kiln_str_startswith(v[i]->key, KILN_STR("HTTP_")))
				return fail_named(p, "duplicate param",
				    v[i]->key.ptr, v[i]->key.len);
			merge = true;
		}
	}
	if (merge && merge_headers(p) != KILN__FCGI_MORE)
		return KILN__FCGI_ERROR;
	if (params_content_length(p) != KILN__FCGI_MORE)
		return KILN__FCGI_ERROR;
	p->phase = KILN__FCGI_BODY;
	if (!p->have_clen)
		return KILN__FCGI_MORE;
	if (p->content_length > p->lim.max_body) {
		p->toobig = true;
		if (p->content_length - p->lim.max_body > p->lim.max_drain) {
			p->drained = false;
			p->phase = KILN__FCGI_DISPATCH;
			return KILN__FCGI_TOOBIG;
		}
	} else if (kiln_buf_reserve(&p->body, (size_t)p->content_length) !=
	    KILN_OK) {
		return fail(p, "out of memory for the body");
	}
	return KILN__FCGI_MORE;
}

/* The STDIN stream ended: the request is complete. */
static kiln__fcgi_ev
stdin_end(kiln__fcgi *p)
{
	if (p->have_clen && p->body_seen != p->content_length)
		return fail(p, "body shorter than CONTENT_LENGTH");
	p->drained = true;
	p->phase = KILN__FCGI_DISPATCH;
	return p->toobig ? KILN__FCGI_TOOBIG : KILN__FCGI_REQUEST;
}

/*
 * A BEGIN_REQUEST body is complete. While a request is active another id
 * is refused with FCGI_CANT_MPX_CONN (its later records are ignored); a
 * role other than responder is refused with FCGI_UNKNOWN_ROLE. Otherwise
 * the request becomes active and its storage is emptied.
 */
static kiln__fcgi_ev
begin_end(kiln__fcgi *p)
{
	unsigned role;

	role = (unsigned)p->begin[0] << 8 | p->begin[1];
	if (p->phase != KILN__FCGI_IDLE) {
		if (p->rid == p->id)
			return fail(p, "BEGIN_REQUEST for the active request");
		reply_end(p, p->rid, 0, KILN__FCGI_CANT_MPX_CONN);
		return KILN__FCGI_MORE;
	}
	p->keep = (p->begin[2] & KILN__FCGI_KEEP_CONN) != 0;
	if (role != KILN__FCGI_RESPONDER) {
		reply_end(p, p->rid, 0, KILN__FCGI_UNKNOWN_ROLE);
		return KILN__FCGI_ENDED;
	}
	if (p->a == NULL)
		return fail(p, "no storage attached for the request");
	p->id = p->rid;
	p->phase = KILN__FCGI_HEADERS;
	p->toobig = false;
	p->drained = false;
	p->have_clen = false;
	p->content_length = 0;
	p->body_seen = 0;
	p->params_bytes = 0;
	p->params_used = 0;
	pairs_reset(&p->pairs);
	kiln_kvs_init(p->params, p->a);
	kiln_buf_init(&p->body, p->a, 0);
	return KILN__FCGI_MORE;
}

/* True when the current record belongs to the active request. */
static bool
is_active(const kiln__fcgi *p)
{
	return p->id != 0 && p->rid == p->id &&
	    (p->phase == KILN__FCGI_HEADERS || p->phase == KILN__FCGI_BODY);
}

/*
 * A record header is complete: check the version, the request id against
 * the type (0 only for management records, never for application ones),
 * and the content length where the type fixes it; count PARAMS bytes
 * against the budget before any of them is read.
 */
static kiln__fcgi_ev
on_header(kiln__fcgi *p)
{
	const uint8_t *h;

	h = p->hdr;
	if (h[0] != KILN__FCGI_VERSION)
		return fail(p, "bad FastCGI version");
	p->type = h[1];
	p->rid = (uint16_t)(h[2] << 8 | h[3]);
	p->clen = (uint16_t)(h[4] << 8 | h[5]);
	p->cleft = p->clen;
	p->pleft = h[6];
	p->pending = KILN__FCGI_MORE;
	switch (p->type) {
	case KILN__FCGI_BEGIN_REQUEST:
	case KILN__FCGI_ABORT_REQUEST:
	case KILN__FCGI_PARAMS:
	case KILN__FCGI_STDIN:
	case KILN__FCGI_DATA:
		if (p->rid == 0)
			return fail(p, "request id 0 on an application record");
		break;
	case KILN__FCGI_GET_VALUES:
		if (p->rid != 0)
			return fail(p, "GET_VALUES with a request id");
		pairs_reset(&p->gv);
		p->gv_seen = 0;
		p->gv_n = 0;
		return KILN__FCGI_MORE;
	case KILN__FCGI_END_REQUEST:
	case KILN__FCGI_STDOUT:
	case KILN__FCGI_STDERR:
	case KILN__FCGI_GET_VALUES_RESULT:
	case KILN__FCGI_UNKNOWN_TYPE:
		return fail(p, "record type sent only by applications");
	default:
		return KILN__FCGI_MORE; /* answered FCGI_UNKNOWN_TYPE at the end
					 */
	}
	if (p->type == KILN__FCGI_BEGIN_REQUEST) {
		if (p->clen != 8)
			return fail(p, "BEGIN_REQUEST body not 8 bytes");
		p->beginhave = 0;
		return KILN__FCGI_MORE;
	}
	if (!is_active(p))
		return KILN__FCGI_MORE; /* another id's record: skipped */
	if (p->type == KILN__FCGI_DATA)
		return fail(p, "DATA record for a responder");
	if (p->type == KILN__FCGI_PARAMS) {
		if (p->phase != KILN__FCGI_HEADERS)
			return fail(p, "PARAMS after the PARAMS stream ended");
		if (p->clen > p->lim.max_params_bytes - p->params_bytes)
			return fail(p, "params over the params byte limit");
		p->params_bytes += p->clen;
	}
	if (p->type == KILN__FCGI_STDIN && p->phase != KILN__FCGI_BODY)
		return fail(p, "STDIN before the PARAMS stream ended");
	return KILN__FCGI_MORE;
}

/* Consumes n content bytes of the current record. */
static kiln__fcgi_ev
on_content(kiln__fcgi *p, const uint8_t *b, size_t n)
{
	switch (p->type) {
	case KILN__FCGI_BEGIN_REQUEST:
		memcpy(p->begin + p->beginhave, b, n);
		p->beginhave = (uint8_t)(p->beginhave + n);
		return KILN__FCGI_MORE;
	case KILN__FCGI_PARAMS:
		return is_active(p) ? params_feed(p, b, n) : KILN__FCGI_MORE;
	case KILN__FCGI_STDIN:
		return is_active(p) ? body_feed(p, b, n) : KILN__FCGI_MORE;
	case KILN__FCGI_GET_VALUES:
		return gv_feed(p, b, n, p->cleft);
	default:
		return KILN__FCGI_MORE;
	}
}

/* The current record's content is complete: act on it. */
static kiln__fcgi_ev
on_record_end(kiln__fcgi *p)
{
	switch (p->type) {
	case KILN__FCGI_BEGIN_REQUEST:
		return begin_end(p);
	case KILN__FCGI_ABORT_REQUEST:
		if (!is_active(p))
			return KILN__FCGI_MORE;
		reply_end(p, p->id, KILN__FCGI_ABORT_STATUS,
		    KILN__FCGI_REQUEST_COMPLETE);
		p->phase = KILN__FCGI_IDLE;
		p->id = 0;
		return KILN__FCGI_ENDED;
	case KILN__FCGI_PARAMS:
		if (!is_active(p) || p->clen != 0)
			return KILN__FCGI_MORE;
		return params_end(p);
	case KILN__FCGI_STDIN:
		if (!is_active(p) || p->clen != 0)
			return KILN__FCGI_MORE;
		return stdin_end(p);
	case KILN__FCGI_GET_VALUES:
		if (p->gv.st != PR_NLEN || p->gv.lenhave != 0)
			return fail(p, "GET_VALUES ended inside a pair");
		reply_values(p);
		return KILN__FCGI_MORE;
	case KILN__FCGI_DATA:
		return KILN__FCGI_MORE;
	default:
		reply_unknown_type(p, p->type);
		return KILN__FCGI_MORE;
	}
}

/*
 * Ends the current record once its content is read: acts on it, then
 * either skips its padding (the event waits for the padding's end, so a
 * request is handed over at a record boundary) or raises the event now.
 */
static kiln__fcgi_ev
finish_record(kiln__fcgi *p)
{
	kiln__fcgi_ev ev;

	ev = on_record_end(p);
	if (ev == KILN__FCGI_ERROR)
		return ev;
	if (p->pleft > 0) {
		p->pending = ev;
		p->st = ST_PADDING;
		return KILN__FCGI_MORE;
	}
	p->st = ST_HEADER;
	p->hdrhave = 0;
	return ev;
}

/*
 * The record state machine (long because it is one switch over the three
 * states, each a few lines): header bytes are collected into p->hdr,
 * content is passed to on_content() as it arrives, padding is skipped.
 * Returns at the first event; *used tells the caller where to resume.
 */
kiln__fcgi_ev
kiln__fcgi_feed(kiln__fcgi *p, const void *buf, size_t len, size_t *used)
{
	const uint8_t *b;
	size_t off, k;
	kiln__fcgi_ev ev;

	b = buf;
	off = 0;
	ev = KILN__FCGI_MORE;
	/* Once handed over (the padding skipped), nothing is read. */
	if (p->phase == KILN__FCGI_DISPATCH && p->st == ST_HEADER)
		ev = fail(p, "fed while a request is being answered");
	if (p->st == ST_DEAD)
		ev = KILN__FCGI_ERROR;
	while (ev == KILN__FCGI_MORE && off < len) {
		switch (p->st) {
		case ST_HEADER:
			if (p->hdrhave == 0 &&
			    p->outlen + REPLY_MAX > KILN__FCGI_OUT_CAP) {
				ev = KILN__FCGI_FLUSH;
				break;
			}
			k = KILN__FCGI_HEADER_LEN - p->hdrhave;
			k = k < len - off ? k : len - off;
			memcpy(p->hdr + p->hdrhave, b + off, k);
			p->hdrhave = (uint8_t)(p->hdrhave + k);
			off += k;
			if (p->hdrhave < KILN__FCGI_HEADER_LEN)
				break;
			if ((ev = on_header(p)) != KILN__FCGI_MORE)
				break;
			p->st = ST_CONTENT;
			if (p->cleft == 0)
				ev = finish_record(p);
			break;
		case ST_CONTENT:
			k = p->cleft < len - off ? p->cleft : len - off;
			ev = on_content(p, b + off, k);
			off += k;
			p->cleft = (uint16_t)(p->cleft - k);
			if (ev == KILN__FCGI_MORE && p->cleft == 0)
				ev = finish_record(p);
			break;
		default: /* ST_PADDING */
			k = p->pleft < len - off ? p->pleft : len - off;
			off += k;
			p->pleft = (uint8_t)(p->pleft - k);
			if (p->pleft > 0)
				break;
			p->st = ST_HEADER;
			p->hdrhave = 0;
			ev = p->pending;
			p->pending = KILN__FCGI_MORE;
			break;
		}
	}
	*used = off;
	return ev;
}

void
kiln__fcgi_finish(kiln__fcgi *p)
{
	if (p->phase != KILN__FCGI_DISPATCH)
		return;
	p->phase = KILN__FCGI_IDLE;
	p->id = 0;
	if (!p->drained && p->st != ST_DEAD) {
		p->st = ST_DEAD;
		p->why = "body not drained";
		(void)snprintf(p->detail, sizeof(p->detail), "%s", p->why);
	}
}

kiln_str
kiln__fcgi_body(const kiln__fcgi *p)
{
	kiln_str s;

	if (p->toobig || p->body.ptr == NULL || p->body.len == 0)
		return KILN_STR("");
	s.ptr = p->body.ptr;
	s.len = p->body.len;
	return s;
}

kiln__fcgi_phase
kiln__fcgi_phase_of(const kiln__fcgi *p)
{
	return p->phase;
}

uint16_t
kiln__fcgi_request_id(const kiln__fcgi *p)
{
	return p->id;
}

bool
kiln__fcgi_keep_conn(const kiln__fcgi *p)
{
	return p->keep;
}

bool
kiln__fcgi_drained(const kiln__fcgi *p)
{
	return p->drained;
}

uint64_t
kiln__fcgi_body_seen(const kiln__fcgi *p)
{
	return p->body_seen;
}

bool
kiln__fcgi_at_boundary(const kiln__fcgi *p)
{
	return p->st == ST_HEADER && p->hdrhave == 0;
}

const uint8_t *
kiln__fcgi_output(const kiln__fcgi *p, size_t *len)
{
	*len = p->outlen;
	return p->out;
}

void
kiln__fcgi_output_consume(kiln__fcgi *p, size_t n)
{
	if (n >= p->outlen) {
		p->outlen = 0;
		return;
	}
	memmove(p->out, p->out + n, p->outlen - n);
	p->outlen -= n;
}

const char *
kiln__fcgi_why(const kiln__fcgi *p)
{
	return p->detail;
}

void
kiln__fcgi_enc_init(kiln__fcgi_enc *e, uint16_t id, kiln_str head,
    kiln_str body)
{
	memset(e, 0, sizeof(*e));
	e->id = id;
	e->seg[0] = head;
	e->seg[1] = body;
}

/* Bytes of head and body not yet encoded. */
static size_t
enc_left(const kiln__fcgi_enc *e)
{
	size_t n;

	if (e->segi > 1)
		return 0;
	n = e->seg[e->segi].len - e->segoff;
	if (e->segi == 0)
		n += e->seg[1].len;
	return n;
}

/* Points iov at p, dropping const as struct iovec requires (never written). */
static void
iov_set(struct iovec *iov, const void *p, size_t len)
{
	iov->iov_base = (void *)(uintptr_t)p;
	iov->iov_len = len;
}

size_t
kiln__fcgi_enc_iov(kiln__fcgi_enc *e, struct iovec *iov, size_t max)
{
	size_t n, rec, left, clen, take, k;
	kiln_str s;

	n = 0;
	rec = 0;
	while (rec < KILN__FCGI_ENC_RECS && n + 3 <= max &&
	    (left = enc_left(e)) > 0) {
		clen = left < KILN__FCGI_MAX_CONTENT ? left :
						       KILN__FCGI_MAX_CONTENT;
		kiln__fcgi_put_header(e->hdrs[rec], KILN__FCGI_STDOUT, e->id,
		    (uint16_t)clen, 0);
		iov_set(&iov[n++], e->hdrs[rec], KILN__FCGI_HEADER_LEN);
		rec++;
		for (take = clen; take > 0;) {
			s = e->seg[e->segi];
			if (e->segoff == s.len) {
				e->segi++;
				e->segoff = 0;
				continue;
			}
			k = s.len - e->segoff < take ? s.len - e->segoff : take;
			iov_set(&iov[n++], s.ptr + e->segoff, k);
			e->segoff += k;
			take -= k;
		}
	}
	if (enc_left(e) == 0 && !e->tail_done && n < max) {
		kiln__fcgi_put_end(e->tail, e->id, 0);
		iov_set(&iov[n++], e->tail, sizeof(e->tail));
		e->tail_done = true;
	}
	return n;
}
