/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Unit tests of Kiln's native FastCGI transport (src/http/fcgi_native.c),
 * end to end over a unix socket in a temporary directory: requests and
 * responses, kept connections, GET_VALUES and ABORT_REQUEST on the wire,
 * and the deadlines, which are set short here so that each timeout test
 * takes well under a second. Requests are built with the record builders
 * of test_fcgi.h.
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
#include "suites.h"
#include "test_fcgi.h"

static kiln_arena *a;
static char sockdir[64];
static char sockpath[128];
static int lfd = -1;

/* One test's transport and client connection. */
typedef struct tconn {
	void *st;	/* the transport */
	int fd;		/* the client's end */
	kiln_buf b;	/* what the client sends next */
	kiln_kvs pm;	/* the params of the last request */
	kiln_str body;	/* its body */
	kiln_buf reply; /* what the client received */
} tconn;

/* Milliseconds on the monotonic clock. */
static int64_t
ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Fills sun with the test socket's address. */
static void
sock_addr(struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, sockpath, strlen(sockpath));
}

static void
net_setup(void)
{
	struct sockaddr_un sun;

	a = kiln_arena_new(0);
	ck_assert_ptr_nonnull(a);
	snprintf(sockdir, sizeof(sockdir), "/tmp/kiln-fcgi-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(sockdir));
	snprintf(sockpath, sizeof(sockpath), "%s/s", sockdir);
	sock_addr(&sun);
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
	kiln_arena_free(a);
	a = NULL;
}

/*
 * Starts the transport with short deadlines and connects a client to it;
 * c->b is ready for the first request.
 */
static void
tc_open(tconn *c, size_t max_body)
{
	kiln__transport_cfg cfg;
	struct sockaddr_un sun;

	memset(&cfg, 0, sizeof(cfg));
	cfg.listen_fd = lfd;
	cfg.max_body = max_body;
	cfg.max_params = 100;
	cfg.max_params_bytes = 16384;
	cfg.header_timeout_ms = 300;
	cfg.body_min_rate = 1024;
	cfg.write_timeout_ms = 300;
	cfg.idle_timeout_ms = 300;
	c->st = kiln__transport_native.init(&cfg);
	ck_assert_ptr_nonnull(c->st);
	sock_addr(&sun);
	c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(c->fd, 0);
	ck_assert_int_eq(connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	kiln_buf_init(&c->b, a, 0);
}

static void
tc_close(tconn *c)
{
	close(c->fd);
	kiln__transport_native.fini(c->st);
}

/* Sends c->b and starts it again empty. */
static void
tc_send(tconn *c)
{
	ck_assert_int_eq(send(c->fd, c->b.ptr, c->b.len, MSG_NOSIGNAL),
	    (ssize_t)c->b.len);
	kiln_buf_init(&c->b, a, 0);
}

/* Asserts that the transport's next event is want. */
static void
tc_next(tconn *c, kiln__next_rc want)
{
	kiln_kvs_init(&c->pm, a);
	ck_assert_int_eq(kiln__transport_native.next(c->st, a, &c->pm,
			     &c->body),
	    want);
}

/* Answers the current request, asserting that the transport took it. */
static void
tc_respond(tconn *c, kiln_str head, kiln_str body)
{
	ck_assert_int_eq(kiln__transport_native.respond(c->st, head, body),
	    KILN_OK);
}

/* Asserts that t0 was between 250 ms and 1.5 s ago (a 300 ms deadline). */
static void
assert_deadline(int64_t t0)
{
	int64_t dt = ms() - t0;

	ck_assert_int_ge(dt, 250);
	ck_assert_int_lt(dt, 1500);
}

/*
 * Reads into c->reply (started empty) until END_REQUEST for any id
 * arrives, the peer closes, or 2 s pass. Returns true when the peer
 * closed; with until_eof, reads on past END_REQUEST until it does.
 */
static bool
tc_recv(tconn *c, bool until_eof)
{
	kiln_buf *out = &c->reply;
	struct pollfd pfd;
	char tmp[65536];
	int64_t end, left;
	ssize_t n;
	size_t i, rl;

	kiln_buf_init(out, a, 0);
	end = ms() + 2000;
	for (;;) {
		left = end - ms();
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return false;
		n = recv(c->fd, tmp, sizeof(tmp), 0);
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

/* The STDOUT content of c->reply, concatenated; its records in r. */
static kiln_str
reply_stdout(const tconn *c, ft_orec *r, size_t *nrec)
{
	kiln_buf s;
	size_t i, n;

	n = ft_decode(c->reply.ptr, c->reply.len, r, 64);
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
	tconn c;
	kiln_str out;
	ft_orec r[64];
	size_t n;

	tc_open(&c, 1024);
	ft_request(&c.b, 1, 0, getreq, "");
	tc_send(&c);
	tc_next(&c, KILN__NEXT_REQUEST);
	ck_assert_uint_eq(c.pm.n, 4);
	ck_assert(
	    kiln_str_eq_c(*kiln_kvs_get(&c.pm, KILN_STR("REQUEST_URI")), "/"));
	ck_assert_uint_eq(c.body.len, 0);
	tc_respond(&c, KILN_STR("Status: 200 OK\r\n\r\n"), KILN_STR("hello"));
	ck_assert(tc_recv(&c, true)); /* closed: no keep-conn */
	out = reply_stdout(&c, r, &n);
	ck_assert(kiln_str_eq_c(out, "Status: 200 OK\r\n\r\nhello"));
	ft_assert_end(&r[n - 1], 1, 0, KILN__FCGI_REQUEST_COMPLETE);
	/* Answering twice is refused. */
	ck_assert_int_ne(kiln__transport_native.respond(c.st, KILN_STR("x"),
			     KILN_STR("")),
	    KILN_OK);
	tc_close(&c);
}
END_TEST

/*
 * A kept connection serves two requests (the first preceded by
 * GET_VALUES, whose answer comes first), then is closed after the idle
 * timeout.
 */
START_TEST(test_fcgi_native_keep_conn_and_idle)
{
	tconn c;
	kiln_buf pb;
	kiln_str out;
	ft_orec r[64];
	size_t n;
	int64_t t0;

	tc_open(&c, 1024);
	kiln_buf_init(&pb, a, 0);
	ft_pair(&pb, "FCGI_MAX_CONNS", "");
	ft_rec(&c.b, KILN__FCGI_GET_VALUES, 0, pb.ptr, pb.len, 0);
	ft_request(&c.b, 1, KILN__FCGI_KEEP_CONN, ft_basic, "hello");
	tc_send(&c);
	tc_next(&c, KILN__NEXT_REQUEST);
	ck_assert(kiln_str_eq_c(c.body, "hello"));
	tc_respond(&c, KILN_STR("A\r\n\r\n"), KILN_STR("1"));
	ck_assert(!tc_recv(&c, false));
	out = reply_stdout(&c, r, &n);
	ck_assert_uint_eq(r[0].type, KILN__FCGI_GET_VALUES_RESULT);
	ck_assert(kiln_str_eq_c(out, "A\r\n\r\n1"));
	/* The second request on the same connection. */
	ft_request(&c.b, 1, KILN__FCGI_KEEP_CONN, getreq, "");
	tc_send(&c);
	kiln_arena_reset(a);
	tc_next(&c, KILN__NEXT_REQUEST);
	ck_assert_uint_eq(c.pm.n, 4);
	tc_respond(&c, KILN_STR("B\r\n\r\n"), KILN_STR(""));
	ck_assert(!tc_recv(&c, false));
	/* Nothing more: closed after idle_timeout (300 ms). */
	t0 = ms();
	ck_assert_int_eq(kiln__transport_native.next(c.st, a, &c.pm, &c.body),
	    KILN__NEXT_AGAIN);
	assert_deadline(t0);
	ck_assert(tc_recv(&c, true));
	ck_assert_uint_eq(c.reply.len, 0);
	tc_close(&c);
}
END_TEST

/* BEGIN_REQUEST and then nothing: closed at the header deadline. */
START_TEST(test_fcgi_native_header_timeout)
{
	tconn c;
	int64_t t0;

	tc_open(&c, 1024);
	ft_begin(&c.b, 1, KILN__FCGI_RESPONDER, KILN__FCGI_KEEP_CONN, 0);
	tc_send(&c);
	t0 = ms();
	tc_next(&c, KILN__NEXT_AGAIN);
	assert_deadline(t0);
	ck_assert(tc_recv(&c, true));
	tc_close(&c);
}
END_TEST

/* A protocol error closes the connection at once. */
START_TEST(test_fcgi_native_protocol_error_closes)
{
	tconn c;
	int64_t t0;

	tc_open(&c, 1024);
	ft_rec_v(&c.b, 9, KILN__FCGI_BEGIN_REQUEST, 1, "\0\1\0\0\0\0\0\0", 8,
	    0);
	tc_send(&c);
	t0 = ms();
	tc_next(&c, KILN__NEXT_AGAIN);
	ck_assert_int_lt(ms() - t0, 200);
	ck_assert(tc_recv(&c, true));
	ck_assert_uint_eq(c.reply.len, 0);
	tc_close(&c);
}
END_TEST

/* An over-limit body: TOOBIG with params, then the 413 is delivered. */
START_TEST(test_fcgi_native_toobig)
{
	static const char *const cl[] = { "CONTENT_LENGTH", "2000",
		"REQUEST_URI", "/up", NULL };
	tconn c;
	kiln_str out;
	ft_orec r[64];
	char big[2000];
	size_t n;

	tc_open(&c, 1000);
	memset(big, 'x', sizeof(big));
	ft_begin(&c.b, 1, KILN__FCGI_RESPONDER, 0, 0);
	ft_params(&c.b, 1, cl, 100);
	ft_stream(&c.b, KILN__FCGI_STDIN, 1, big, sizeof(big), 700);
	tc_send(&c);
	tc_next(&c, KILN__NEXT_TOOBIG);
	ck_assert(kiln_str_eq_c(*kiln_kvs_get(&c.pm, KILN_STR("REQUEST_URI")),
	    "/up"));
	tc_respond(&c, KILN_STR("Status: 413\r\n\r\n"), KILN_STR(""));
	ck_assert(tc_recv(&c, true));
	out = reply_stdout(&c, r, &n);
	ck_assert(kiln_str_eq_c(out, "Status: 413\r\n\r\n"));
	tc_close(&c);
}
END_TEST

/* ABORT_REQUEST on a kept connection: answered, and the next one served. */
START_TEST(test_fcgi_native_abort_then_request)
{
	tconn c;
	ft_orec r[64];

	tc_open(&c, 1024);
	ft_begin(&c.b, 2, KILN__FCGI_RESPONDER, KILN__FCGI_KEEP_CONN, 0);
	ft_rec(&c.b, KILN__FCGI_ABORT_REQUEST, 2, NULL, 0, 0);
	tc_send(&c);
	tc_next(&c, KILN__NEXT_AGAIN);
	ck_assert(!tc_recv(&c, false));
	ck_assert_uint_eq(ft_decode(c.reply.ptr, c.reply.len, r, 64), 1);
	ft_assert_end(&r[0], 2, KILN__FCGI_ABORT_STATUS,
	    KILN__FCGI_REQUEST_COMPLETE);
	ft_request(&c.b, 3, 0, getreq, "");
	tc_send(&c);
	tc_next(&c, KILN__NEXT_REQUEST);
	tc_respond(&c, KILN_STR("C\r\n\r\n"), KILN_STR(""));
	tc_close(&c);
}
END_TEST

/* A peer that does not read: the write deadline frees the worker. */
START_TEST(test_fcgi_native_write_timeout)
{
	tconn c;
	kiln_str big;
	int64_t t0;
	char *p;

	tc_open(&c, 1024);
	ft_request(&c.b, 1, 0, getreq, "");
	tc_send(&c);
	tc_next(&c, KILN__NEXT_REQUEST);
	p = kiln_arena_calloc(a, 1, 16 << 20);
	ck_assert_ptr_nonnull(p);
	big.ptr = p;
	big.len = 16 << 20;
	t0 = ms();
	ck_assert_int_eq(kiln__transport_native.respond(c.st,
			     KILN_STR("D\r\n\r\n"), big),
	    KILN_ETIMEDOUT);
	assert_deadline(t0);
	tc_close(&c);
}
END_TEST

/*
 * A body trickled at a byte every 100 ms misses the minimum rate: the
 * connection is closed soon after the grace (header_timeout) runs out.
 */
START_TEST(test_fcgi_native_body_min_rate)
{
	static const char *const cl[] = { "CONTENT_LENGTH", "1000", NULL };
	tconn c;
	int64_t t0, dt;
	pid_t pid;
	int i, status;

	tc_open(&c, 4096);
	ft_begin(&c.b, 1, KILN__FCGI_RESPONDER, 0, 0);
	ft_params(&c.b, 1, cl, 100);
	ft_rec(&c.b, KILN__FCGI_STDIN, 1, NULL, 0, 0);
	c.b.ptr[c.b.len - 4] = (char)(1000 >> 8);
	c.b.ptr[c.b.len - 3] = (char)(1000 & 0xff);
	tc_send(&c);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		for (i = 0; i < 40; i++) {
			if (send(c.fd, "x", 1, MSG_NOSIGNAL) != 1)
				_exit(0);
			usleep(100 * 1000);
		}
		_exit(0);
	}
	t0 = ms();
	tc_next(&c, KILN__NEXT_AGAIN);
	dt = ms() - t0;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ck_assert_int_ge(dt, 250);
	ck_assert_int_lt(dt, 1500);
	tc_close(&c);
}
END_TEST

Suite *
fcgi_native_suite(void)
{
	Suite *s;
	TCase *tn;

	s = suite_create("fcgi_native");
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
