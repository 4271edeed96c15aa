/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Kiln's own FastCGI responder protocol: a pure, incremental record and
 * params parser (src/http/fcgi_proto.c) and the response encoder, used by
 * the native transport (src/http/fcgi_native.c), the unit tests and the
 * fuzzer. Nothing here does I/O: the caller feeds received bytes in, in
 * chunks of any size, and writes out what the parser asks it to send.
 *
 * One connection carries one request at a time (FCGI_MPXS_CONNS is 0).
 * A request is handed over only when its PARAMS stream and its STDIN
 * stream have both ended, so the body has been read to the end before
 * the response and the connection can be closed plainly (no lingering
 * close). Every length read from the peer is checked against what is left
 * of the record and against the limits given at init; memory is bounded
 * by those limits, and output waiting to be written by a fixed buffer.
 */
#ifndef KILN_FCGI_INT_H
#define KILN_FCGI_INT_H

#include <sys/uio.h>

#include <kiln/kiln.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Record header layout and protocol constants (FastCGI 1.0). */
#define KILN__FCGI_VERSION     1     /* the only version there is */
#define KILN__FCGI_HEADER_LEN  8     /* bytes in a record header */
#define KILN__FCGI_MAX_CONTENT 65535 /* bytes of content in one record */

enum {
	KILN__FCGI_BEGIN_REQUEST = 1,
	KILN__FCGI_ABORT_REQUEST = 2,
	KILN__FCGI_END_REQUEST = 3,
	KILN__FCGI_PARAMS = 4,
	KILN__FCGI_STDIN = 5,
	KILN__FCGI_STDOUT = 6,
	KILN__FCGI_STDERR = 7,
	KILN__FCGI_DATA = 8,
	KILN__FCGI_GET_VALUES = 9,
	KILN__FCGI_GET_VALUES_RESULT = 10,
	KILN__FCGI_UNKNOWN_TYPE = 11,
};

/* BEGIN_REQUEST roles and flags; END_REQUEST protocol statuses. */
enum {
	KILN__FCGI_RESPONDER = 1,
	KILN__FCGI_AUTHORIZER = 2,
	KILN__FCGI_FILTER = 3,
	KILN__FCGI_KEEP_CONN = 1,
	KILN__FCGI_REQUEST_COMPLETE = 0,
	KILN__FCGI_CANT_MPX_CONN = 1,
	KILN__FCGI_OVERLOADED = 2,
	KILN__FCGI_UNKNOWN_ROLE = 3,
};

/* The app status sent in END_REQUEST after an ABORT_REQUEST. */
#define KILN__FCGI_ABORT_STATUS 1

/* Bytes of replies (management answers, refusals) the parser may hold. */
#define KILN__FCGI_OUT_CAP 512

/*
 * STDIN bytes read and thrown away past max_body before the parser gives
 * up on draining an over-limit body (then the connection is closed after
 * the 413 instead of being kept).
 */
#define KILN__FCGI_DEF_MAX_DRAIN ((size_t)1 << 20)

/* Limits on one request. Zero max_params or max_params_bytes is zero. */
typedef struct kiln__fcgi_limits {
	size_t max_params; /* PARAMS pairs */
	size_t
	    max_params_bytes; /* PARAMS stream bytes, length bytes included */
	size_t max_body;      /* STDIN bytes kept; more is "too big" */
	size_t max_drain;     /* STDIN bytes discarded past max_body */
} kiln__fcgi_limits;

/* What kiln__fcgi_feed() stopped for. */
typedef enum kiln__fcgi_ev {
	KILN__FCGI_MORE,  /* all input consumed: read more */
	KILN__FCGI_FLUSH, /* the reply buffer is nearly full: write it first */
	KILN__FCGI_REQUEST, /* a complete request: params and body are ready */
	KILN__FCGI_TOOBIG, /* a complete request whose body was over max_body */
	KILN__FCGI_ENDED,  /* the request ended undispatched (abort, role) */
	KILN__FCGI_ERROR,  /* protocol violation or limit: close */
} kiln__fcgi_ev;

/* Where the connection is, for the caller's deadlines. */
typedef enum kiln__fcgi_phase {
	KILN__FCGI_IDLE,     /* no request active */
	KILN__FCGI_HEADERS,  /* BEGIN_REQUEST seen, PARAMS not ended */
	KILN__FCGI_BODY,     /* PARAMS ended, STDIN not ended */
	KILN__FCGI_DISPATCH, /* handed over; waiting for kiln__fcgi_finish() */
} kiln__fcgi_phase;

/*
 * The incremental decoder of one name-value pair stream (PARAMS, or the
 * content of one GET_VALUES record). Internal to fcgi_proto.c; here so
 * that the parser can be embedded without allocation.
 */
typedef struct kiln__fcgi_pairs {
	uint8_t st;	   /* which field is being read */
	uint8_t lenbuf[4]; /* the length bytes read so far */
	uint8_t lenhave;   /* how many of them */
	uint32_t nlen;	   /* name length */
	uint32_t vlen;	   /* value length */
	uint32_t have;	   /* name or value bytes read so far */
	char *name;	   /* storage for the name (PARAMS), NUL-terminated */
	char *val;	   /* storage for the value (PARAMS), NUL-terminated */
	char small[16];	   /* the name's first bytes (GET_VALUES) */
} kiln__fcgi_pairs;

/*
 * The parser of one connection. Embed it (no allocation) and initialise
 * it with kiln__fcgi_init(); every member is private to fcgi_proto.c.
 */
typedef struct kiln__fcgi {
	kiln__fcgi_limits lim; /* limits, copied at init */
	uint8_t st;	       /* record state: header, content, padding */
	uint8_t hdr[KILN__FCGI_HEADER_LEN]; /* the header being read */
	uint8_t hdrhave;		    /* bytes of hdr read */
	uint8_t type;			    /* current record's type */
	uint16_t rid;			    /* current record's request id */
	uint16_t clen;		 /* current record's content length */
	uint16_t cleft;		 /* content bytes left to read */
	uint8_t pleft;		 /* padding bytes left to skip */
	uint8_t begin[8];	 /* a BEGIN_REQUEST body being read */
	uint8_t beginhave;	 /* bytes of begin read */
	kiln__fcgi_ev pending;	 /* event raised once the padding is skipped */
	kiln__fcgi_phase phase;	 /* see kiln__fcgi_phase */
	uint16_t id;		 /* the active request's id (0: none) */
	bool keep;		 /* its FCGI_KEEP_CONN flag */
	bool toobig;		 /* its body went over max_body */
	bool drained;		 /* its STDIN was read to the end */
	bool have_clen;		 /* CONTENT_LENGTH was given */
	uint64_t content_length; /* its value */
	uint64_t body_seen;	 /* STDIN bytes received, kept or not */
	size_t params_bytes;	 /* PARAMS stream bytes received */
	size_t params_used;	 /* of which consumed by decoded pairs */
	kiln__fcgi_pairs pairs;	 /* the PARAMS stream decoder */
	kiln__fcgi_pairs gv;	 /* the current GET_VALUES record decoder */
	unsigned gv_seen;	 /* known names asked in that record */
	uint8_t gv_order[3];	 /* in the order first asked */
	uint8_t gv_n;		 /* how many */
	kiln_arena *a;		 /* request storage (kiln__fcgi_attach) */
	kiln_kvs *params;	 /* where params go */
	kiln_buf body;		 /* where the body goes */
	uint8_t out[KILN__FCGI_OUT_CAP]; /* replies waiting to be written */
	size_t outlen;			 /* bytes in out */
	const char *why;		 /* static reason for the last ERROR */
	char detail[96]; /* the reason with its object, for logs */
} kiln__fcgi;

/* Starts a parser for a new connection with the given limits. */
void kiln__fcgi_init(kiln__fcgi *p, const kiln__fcgi_limits *lim);

/*
 * Gives the parser the storage for the next request: params are appended
 * to *params (re-initialised here, in a) and the body is kept in a. Call
 * it while the phase is KILN__FCGI_IDLE, before feeding the bytes of a
 * request; a and params must outlive the request's use of them. A
 * BEGIN_REQUEST fed before any attach is a protocol error (no storage).
 * Each accepted BEGIN_REQUEST empties *params and the body again.
 */
void kiln__fcgi_attach(kiln__fcgi *p, kiln_arena *a, kiln_kvs *params);

/*
 * Feeds len bytes received from the peer. Consumes bytes until they run
 * out (KILN__FCGI_MORE, *used == len) or until an event: a complete
 * request (REQUEST or TOOBIG: params and body are ready and the phase is
 * DISPATCH), an undispatched end (ENDED: write the output, then close
 * unless kiln__fcgi_keep_conn()), a full reply buffer (FLUSH: write the
 * output, then feed buf + *used again), or a protocol error (ERROR: close
 * the connection; kiln__fcgi_why() says why). *used is the number of
 * bytes consumed. After ERROR the parser must be re-initialised.
 */
kiln__fcgi_ev kiln__fcgi_feed(kiln__fcgi *p, const void *buf, size_t len,
    size_t *used);

/*
 * Ends the request handed over by REQUEST or TOOBIG, after its response
 * was written: the phase returns to IDLE for the next request on a kept
 * connection.
 */
void kiln__fcgi_finish(kiln__fcgi *p);

/* The body of the handed-over request (in the attached arena; "" if none). */
kiln_str kiln__fcgi_body(const kiln__fcgi *p);

/* The current phase. */
kiln__fcgi_phase kiln__fcgi_phase_of(const kiln__fcgi *p);

/* The active (or last) request's id and FCGI_KEEP_CONN flag. */
uint16_t kiln__fcgi_request_id(const kiln__fcgi *p);
bool kiln__fcgi_keep_conn(const kiln__fcgi *p);

/*
 * True when the whole STDIN stream of the handed-over request was read
 * (always after REQUEST; after TOOBIG only if the drain did not give up).
 * A connection may be kept only then.
 */
bool kiln__fcgi_drained(const kiln__fcgi *p);

/* STDIN bytes received for the active request (for a minimum rate). */
uint64_t kiln__fcgi_body_seen(const kiln__fcgi *p);

/* True when no partial record is buffered (a clean place to close). */
bool kiln__fcgi_at_boundary(const kiln__fcgi *p);

/*
 * The replies waiting to be written (management answers, END_REQUEST
 * refusals), and the removal of the first n of them once written.
 */
const uint8_t *kiln__fcgi_output(const kiln__fcgi *p, size_t *len);
void kiln__fcgi_output_consume(kiln__fcgi *p, size_t n);

/* Why the last ERROR happened, with its object ("duplicate param X"). */
const char *kiln__fcgi_why(const kiln__fcgi *p);

/* Writes a record header into out[8]. */
void kiln__fcgi_put_header(uint8_t *out, unsigned type, uint16_t id,
    uint16_t clen, uint8_t plen);

/*
 * Writes the end of a response into out[24]: the empty STDOUT record
 * that ends the stream, then END_REQUEST with app_status and
 * FCGI_REQUEST_COMPLETE. Returns 24.
 */
size_t kiln__fcgi_put_end(uint8_t *out, uint16_t id, uint32_t app_status);

/* Records per kiln__fcgi_enc_iov() batch, and iovecs it may need. */
#define KILN__FCGI_ENC_RECS 16
#define KILN__FCGI_ENC_IOV  (KILN__FCGI_ENC_RECS * 3 + 1)

/*
 * The response encoder: the bytes of head then body are cut into STDOUT
 * records of at most KILN__FCGI_MAX_CONTENT bytes without copying them,
 * followed by the end of the stream and END_REQUEST (app status 0).
 */
typedef struct kiln__fcgi_enc {
	uint16_t id;	 /* the request's id */
	kiln_str seg[2]; /* head, body */
	size_t segi;	 /* current segment */
	size_t segoff;	 /* bytes of it already encoded */
	bool tail_done;	 /* the end records were encoded */
	uint8_t hdrs[KILN__FCGI_ENC_RECS][KILN__FCGI_HEADER_LEN]; /* headers */
	uint8_t tail[24]; /* empty STDOUT + END_REQUEST */
} kiln__fcgi_enc;

/* Starts encoding a response (the slices must outlive the encoder). */
void kiln__fcgi_enc_init(kiln__fcgi_enc *e, uint16_t id, kiln_str head,
    kiln_str body);

/*
 * Fills iov (room for max entries, at least 4) with the next batch of
 * records. The iovecs point into e and into the slices, so each batch
 * must be written before the next call. Returns the number of entries,
 * 0 once everything was encoded.
 */
size_t kiln__fcgi_enc_iov(kiln__fcgi_enc *e, struct iovec *iov, size_t max);

#ifdef __cplusplus
}
#endif
#endif /* KILN_FCGI_INT_H */
