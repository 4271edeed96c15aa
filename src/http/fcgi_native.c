/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The native transport (server.transport = native, the default): Kiln's
 * own FastCGI responder over the socket the master listens on. It does
 * the I/O and the clocks; the protocol is the pure parser of
 * fcgi_proto.c.
 *
 * One worker holds at most one connection. Every wait has a deadline:
 * a connection has fcgi.header_timeout from accept (or from the first
 * byte after a kept connection's previous response) to deliver its
 * params, the body must then keep fcgi.body_min_rate, a response must be
 * written within fcgi.write_timeout, and a kept connection
 * (FCGI_KEEP_CONN) with no new request for fcgi.idle_timeout is closed,
 * so neither a slow peer nor nginx's keepalive pool can pin a worker.
 * Any protocol error or missed deadline closes the connection and next()
 * returns KILN__NEXT_AGAIN. A request is handed over only once its STDIN
 * ended, so the connection is closed plainly after the response, never
 * lingering. Sockets are non-blocking and waits are poll()s of at most
 * SLICE_MS, so a stop request is seen quickly while the worker is idle; a
 * request already being read is finished first (bounded by its
 * deadlines).
 */
#include "config.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kiln/kiln.h>

#include "fcgi_int.h"
#include "kiln_int.h"
#include "server_int.h"

#define SLICE_MS  250	      /* longest single wait, for stop checks */
#define INBUF_LEN (64 * 1024) /* bytes read at once */

/* Fallbacks for settings left at zero (the settings table has its own). */
#define DEF_HEADER_TIMEOUT_MS 5000
#define DEF_WRITE_TIMEOUT_MS  10000
#define DEF_IDLE_TIMEOUT_MS   5000
#define DEF_MAX_PARAMS	      500
#define DEF_MAX_PARAMS_BYTES  (64 * 1024)

/* How a wait or read ended. */
enum {
	IO_OK,	    /* ready, or bytes were read */
	IO_EOF,	    /* the peer closed */
	IO_TIMEOUT, /* the deadline passed */
	IO_STOP,    /* the worker is stopping (only for stoppable waits) */
	IO_ERR,	    /* a socket error */
};

/* A worker's transport state, in its own arena. */
typedef struct nt_state {
	kiln_arena *own;	 /* holds this struct */
	kiln__transport_cfg cfg; /* settings, zeros replaced by defaults */
	int epfd;		 /* epoll on the listening fd, or -1 */
	bool tcp;		 /* the listening socket is TCP */
	int fd;			 /* the connection, or -1 */
	kiln__fcgi p;		 /* its protocol state */
	int64_t hdr_t0;		 /* when the header clock started */
	int64_t body_t0;	 /* when the params ended (0: not yet) */
	int64_t idle_t0;	 /* when a kept connection went idle */
	bool idle;		 /* kept and waiting for its next request */
	size_t inoff;		 /* first unfed byte of in */
	size_t inlen;		 /* bytes in in */
	uint8_t in[INBUF_LEN];	 /* bytes read, not yet fed */
} nt_state;

/* Milliseconds on the monotonic clock. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Logs why a connection is being closed (one line on stderr). */
static void
nt_log(const char *what)
{
	fprintf(stderr, "kiln: worker %d: fcgi: %s; connection closed\n",
	    (int)getpid(), what);
}

/*
 * Prepares the state after fork: the settings (a zero means the default;
 * body_min_rate 0 means the whole body must come within header_timeout),
 * the listening socket made non-blocking (every worker polls it, so an
 * accept that another worker won must not block), and an epoll instance
 * with EPOLLEXCLUSIVE so that a connection wakes one worker, not all;
 * plain poll() is the fallback on kernels without it.
 */
static void *
nt_init(const kiln__transport_cfg *cfg)
{
	struct epoll_event ev;
	struct sockaddr_storage ss;
	socklen_t sl;
	kiln_arena *own;
	nt_state *st;
	int fl;

	own = kiln_arena_new(sizeof(nt_state) + 1024);
	if (own == NULL)
		return NULL;
	st = kiln_arena_calloc(own, 1, sizeof(*st));
	if (st == NULL) {
		kiln_arena_free(own);
		return NULL;
	}
	st->own = own;
	st->cfg = *cfg;
	if (st->cfg.header_timeout_ms <= 0)
		st->cfg.header_timeout_ms = DEF_HEADER_TIMEOUT_MS;
	if (st->cfg.write_timeout_ms <= 0)
		st->cfg.write_timeout_ms = DEF_WRITE_TIMEOUT_MS;
	if (st->cfg.idle_timeout_ms <= 0)
		st->cfg.idle_timeout_ms = DEF_IDLE_TIMEOUT_MS;
	if (st->cfg.body_min_rate < 0)
		st->cfg.body_min_rate = 0;
	if (st->cfg.max_params == 0)
		st->cfg.max_params = DEF_MAX_PARAMS;
	if (st->cfg.max_params_bytes == 0)
		st->cfg.max_params_bytes = DEF_MAX_PARAMS_BYTES;
	st->fd = -1;
	fl = fcntl(cfg->listen_fd, F_GETFL);
	if (fl < 0 || fcntl(cfg->listen_fd, F_SETFL, fl | O_NONBLOCK) != 0) {
		kiln_arena_free(own);
		return NULL;
	}
	sl = sizeof(ss);
	if (getsockname(cfg->listen_fd, (struct sockaddr *)&ss, &sl) == 0)
		st->tcp = ss.ss_family == AF_INET || ss.ss_family == AF_INET6;
	st->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (st->epfd >= 0) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, cfg->listen_fd, &ev) !=
		    0) {
			close(st->epfd);
			st->epfd = -1;
		}
	}
	return st;
}

/* Closes the connection, if any, and forgets its buffered bytes. */
static void
nt_close(nt_state *st)
{
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	st->inoff = 0;
	st->inlen = 0;
	st->idle = false;
	st->body_t0 = 0;
}

static void
nt_fini(void *arg)
{
	nt_state *st = arg;

	nt_close(st);
	if (st->epfd >= 0)
		close(st->epfd);
	kiln_arena_free(st->own);
}

/*
 * Waits until the connection is ready for events or deadline passes, in
 * slices of SLICE_MS. A stoppable wait (an idle connection) gives up
 * with IO_STOP once the worker is asked to stop.
 */
static int
nt_wait(nt_state *st, short events, int64_t deadline, bool stoppable)
{
	struct pollfd pfd;
	int64_t left;
	int rc;

	for (;;) {
		if (stoppable && kiln__worker_stopping())
			return IO_STOP;
		left = deadline - now_ms();
		if (left <= 0)
			return IO_TIMEOUT;
		pfd.fd = st->fd;
		pfd.events = events;
		pfd.revents = 0;
		rc = poll(&pfd, 1, left < SLICE_MS ? (int)left : SLICE_MS);
		if (rc > 0)
			return IO_OK; /* errors and hangups show in the I/O */
		if (rc < 0 && errno != EINTR)
			return IO_ERR;
	}
}

/*
 * Writes iov[0..n) completely (the array is advanced in place) before
 * deadline, with MSG_NOSIGNAL so a vanished peer is an error, not a
 * signal.
 */
static int
nt_writev(nt_state *st, struct iovec *iov, size_t n, int64_t deadline)
{
	struct msghdr mh;
	ssize_t w;
	size_t i;
	int rc;

	i = 0;
	while (i < n) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov + i;
		mh.msg_iovlen = n - i;
		w = sendmsg(st->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return IO_ERR;
			if ((rc = nt_wait(st, POLLOUT, deadline, false)) !=
			    IO_OK)
				return rc;
			continue;
		}
		while (i < n && (size_t)w >= iov[i].iov_len) {
			w -= (ssize_t)iov[i].iov_len;
			i++;
		}
		if (i < n && w > 0) {
			iov[i].iov_base = (char *)iov[i].iov_base + w;
			iov[i].iov_len -= (size_t)w;
		}
	}
	return IO_OK;
}

/* Writes the parser's pending replies (management answers, refusals). */
static int
nt_flush(nt_state *st)
{
	struct iovec iov;
	const uint8_t *out;
	size_t len;
	int rc;

	out = kiln__fcgi_output(&st->p, &len);
	if (len == 0)
		return IO_OK;
	iov.iov_base = (void *)(uintptr_t)out;
	iov.iov_len = len;
	rc = nt_writev(st, &iov, 1, now_ms() + st->cfg.write_timeout_ms);
	kiln__fcgi_output_consume(&st->p, len);
	return rc;
}

/*
 * The deadline of the next read: idle_timeout for a kept connection
 * waiting for its next request; while the params arrive,
 * header_timeout from accept or from the first byte; for the body,
 * header_timeout after the params plus 1/body_min_rate seconds for each
 * byte received.
 */
static int64_t
nt_deadline(const nt_state *st)
{
	int64_t credit;

	if (st->idle)
		return st->idle_t0 + st->cfg.idle_timeout_ms;
	if (kiln__fcgi_phase_of(&st->p) != KILN__FCGI_BODY)
		return st->hdr_t0 + st->cfg.header_timeout_ms;
	credit = 0;
	if (st->cfg.body_min_rate > 0)
		credit = (int64_t)(kiln__fcgi_body_seen(&st->p) * 1000 /
		    (uint64_t)st->cfg.body_min_rate);
	return st->body_t0 + st->cfg.header_timeout_ms + credit;
}

/*
 * Reads what the connection has into the empty input buffer, waiting
 * until the current deadline. Only a kept connection waiting for its next
 * request is given up for a stop; a new connection is served (nginx has
 * a request on it), within its header deadline.
 */
static int
nt_read(nt_state *st)
{
	ssize_t r;
	int rc;

	for (;;) {
		r = recv(st->fd, st->in, sizeof(st->in), MSG_DONTWAIT);
		if (r > 0) {
			st->inoff = 0;
			st->inlen = (size_t)r;
			if (st->idle) {
				st->idle = false;
				st->hdr_t0 = now_ms();
			}
			return IO_OK;
		}
		if (r == 0)
			return IO_EOF;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return IO_ERR;
		rc = nt_wait(st, POLLIN, nt_deadline(st), st->idle);
		if (rc != IO_OK)
			return rc;
	}
}

/*
 * Feeds buffered bytes to the parser and reads more until it raises an
 * event: REQUEST, TOOBIG, ENDED or ERROR (with *io IO_OK), or until the
 * I/O fails (ERROR with *io saying how). Replies are written before each
 * wait, so a peer waiting for a GET_VALUES answer gets it.
 */
static kiln__fcgi_ev
nt_pump(nt_state *st, int *io)
{
	kiln__fcgi_ev ev;
	size_t used;

	*io = IO_OK;
	for (;;) {
		if (st->inoff < st->inlen) {
			ev = kiln__fcgi_feed(&st->p, st->in + st->inoff,
			    st->inlen - st->inoff, &used);
			st->inoff += used;
			if (st->body_t0 == 0 &&
			    kiln__fcgi_phase_of(&st->p) == KILN__FCGI_BODY)
				st->body_t0 = now_ms();
			if (ev == KILN__FCGI_FLUSH) {
				if ((*io = nt_flush(st)) != IO_OK)
					return KILN__FCGI_ERROR;
				continue;
			}
			if (ev != KILN__FCGI_MORE)
				return ev;
		}
		if ((*io = nt_flush(st)) != IO_OK)
			return KILN__FCGI_ERROR;
		if ((*io = nt_read(st)) != IO_OK)
			return KILN__FCGI_ERROR;
	}
}

/*
 * Accepts the next connection, waiting in slices so that a stop is seen.
 * Returns KILN__NEXT_REQUEST with st->fd set, KILN__NEXT_STOP, or
 * KILN__NEXT_AGAIN after a pause when accept fails for lack of
 * resources, so a worker out of fds does not spin.
 */
static kiln__next_rc
nt_accept(nt_state *st)
{
	kiln__fcgi_limits lim;
	struct epoll_event ev;
	struct sockaddr_storage peer;
	socklen_t plen;
	struct pollfd pfd;
	int fd, one, rc;

	for (;;) {
		if (kiln__worker_stopping())
			return KILN__NEXT_STOP;
		if (st->epfd >= 0) {
			rc = epoll_wait(st->epfd, &ev, 1, SLICE_MS);
		} else {
			pfd.fd = st->cfg.listen_fd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			rc = poll(&pfd, 1, SLICE_MS);
		}
		if (kiln__worker_stopping())
			return KILN__NEXT_STOP;
		if (rc <= 0)
			continue;
		plen = sizeof(peer);
		fd = accept4(st->cfg.listen_fd, (struct sockaddr *)&peer, &plen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0 &&
		    !kiln__allow_match(&st->cfg.allow,
			(struct sockaddr *)&peer)) {
			nt_log("connection refused: peer not in "
			       "server.allow_from");
			close(fd);
			continue;
		}
		if (fd >= 0)
			break;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
		    errno == ECONNABORTED || errno == EPROTO)
			continue;
		fprintf(stderr, "kiln: worker %d: accept: %s\n", (int)getpid(),
		    strerror(errno));
		(void)poll(NULL, 0, 100);
		return KILN__NEXT_AGAIN;
	}
	if (st->tcp) {
		one = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	}
	st->fd = fd;
	st->inoff = 0;
	st->inlen = 0;
	st->idle = false;
	st->hdr_t0 = now_ms();
	st->body_t0 = 0;
	lim.max_params = st->cfg.max_params;
	lim.max_params_bytes = st->cfg.max_params_bytes;
	lim.max_body = st->cfg.max_body;
	lim.max_drain = KILN__FCGI_DEF_MAX_DRAIN;
	kiln__fcgi_init(&st->p, &lim);
	return KILN__NEXT_REQUEST;
}

/* Says why the connection failed, when it is worth a log line. */
static void
nt_fail(nt_state *st, kiln__fcgi_ev ev, int io)
{
	bool clean;

	clean = kiln__fcgi_phase_of(&st->p) == KILN__FCGI_IDLE &&
	    kiln__fcgi_at_boundary(&st->p);
	if (ev == KILN__FCGI_ERROR && io == IO_OK)
		nt_log(kiln__fcgi_why(&st->p));
	else if (io == IO_TIMEOUT && !st->idle)
		nt_log(kiln__fcgi_phase_of(&st->p) == KILN__FCGI_BODY ?
			"request body too slow" :
			"request headers not received in time");
	else if ((io == IO_EOF || io == IO_ERR) && !clean)
		nt_log("peer closed the connection mid-request");
	nt_close(st);
}

/*
 * Waits for the next complete request (see the file comment). The
 * request's params are decoded into params and its body into a.
 */
static kiln__next_rc
nt_next(void *arg, kiln_arena *a, kiln_kvs *params, kiln_str *body)
{
	nt_state *st = arg;
	kiln__next_rc rc;
	kiln__fcgi_ev ev;
	int io;

	if (st->fd >= 0 && kiln__fcgi_phase_of(&st->p) == KILN__FCGI_DISPATCH)
		nt_close(st); /* the last request was never answered */
	if (st->fd < 0 && (rc = nt_accept(st)) != KILN__NEXT_REQUEST)
		return rc;
	kiln__fcgi_attach(&st->p, a, params);
	ev = nt_pump(st, &io);
	switch (ev) {
	case KILN__FCGI_REQUEST:
		*body = kiln__fcgi_body(&st->p);
		return KILN__NEXT_REQUEST;
	case KILN__FCGI_TOOBIG:
		*body = KILN_STR("");
		return KILN__NEXT_TOOBIG;
	case KILN__FCGI_ENDED:
		st->body_t0 = 0;
		if (nt_flush(st) != IO_OK || !kiln__fcgi_keep_conn(&st->p))
			nt_close(st);
		return KILN__NEXT_AGAIN;
	default:
		if (io == IO_STOP) {
			nt_close(st);
			return KILN__NEXT_STOP;
		}
		nt_fail(st, ev, io);
		return KILN__NEXT_AGAIN;
	}
}

/*
 * Writes the response as STDOUT records and END_REQUEST, preceded by any
 * pending replies, in as few sendmsg() calls as the socket allows (one
 * for a response under about 1 MiB that fits the socket buffer). Then
 * the connection is kept for the next request (FCGI_KEEP_CONN, body read
 * to the end) or closed plainly.
 */
static kiln_err
nt_respond(void *arg, kiln_str head, kiln_str body)
{
	nt_state *st = arg;
	struct iovec iov[KILN__FCGI_ENC_IOV + 1];
	kiln__fcgi_enc enc;
	const uint8_t *out;
	int64_t deadline;
	size_t n, outlen;
	int io;

	if (st->fd < 0 || kiln__fcgi_phase_of(&st->p) != KILN__FCGI_DISPATCH)
		return KILN_ECLOSED;
	deadline = now_ms() + st->cfg.write_timeout_ms;
	kiln__fcgi_enc_init(&enc, kiln__fcgi_request_id(&st->p), head, body);
	out = kiln__fcgi_output(&st->p, &outlen);
	n = 0;
	if (outlen > 0) {
		iov[0].iov_base = (void *)(uintptr_t)out;
		iov[0].iov_len = outlen;
		n = 1;
	}
	io = IO_OK;
	while (io == IO_OK) {
		n += kiln__fcgi_enc_iov(&enc, iov + n, KILN__FCGI_ENC_IOV);
		if (n == 0)
			break;
		io = nt_writev(st, iov, n, deadline);
		n = 0;
	}
	kiln__fcgi_output_consume(&st->p, outlen);
	kiln__fcgi_finish(&st->p);
	if (io != IO_OK) {
		nt_log(io == IO_TIMEOUT ?
			"response not written in time" :
			"peer gone while writing the response");
		nt_close(st);
		return io == IO_TIMEOUT ? KILN_ETIMEDOUT : KILN_EIO;
	}
	if (!kiln__fcgi_keep_conn(&st->p) || !kiln__fcgi_drained(&st->p)) {
		nt_close(st);
		return KILN_OK;
	}
	st->body_t0 = 0;
	if (st->inoff < st->inlen) {
		st->hdr_t0 = now_ms(); /* the next request has begun */
	} else {
		st->idle = true;
		st->idle_t0 = now_ms();
	}
	return KILN_OK;
}

const kiln__transport_ops kiln__transport_native = {
	.name = "native",
	.init = nt_init,
	.next = nt_next,
	.respond = nt_respond,
	.fini = nt_fini,
};
