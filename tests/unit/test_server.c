/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The server's pure pieces, on real sockets: creating a unix listener
 * (mode, refusing a live socket, replacing a stale one), reading its
 * listen queue through sock_diag, the TCP allow-list, and the status
 * built from a scoreboard.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include <kiln/kiln.h>

#include "server_int.h"
#include "suites.h"

/* A fresh socket path under /tmp. */
static void
tmp_path(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "/tmp/kiln-test-%d-%s.sock", (int)getpid(), tag);
	unlink(buf);
}

static int
connect_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/*
 * Whether malloc is glibc's own heap here, which the trim test below
 * needs: not under ASan, not with arena debugging.
 */
#if defined(__GLIBC__) && !defined(KILN_ARENA_DEBUG) && \
    !defined(__SANITIZE_ADDRESS__)
#define TRIM_TESTABLE 1
#else
#define TRIM_TESTABLE 0
#endif

#if TRIM_TESTABLE
/* This process's resident set in KiB (/proc/self/statm), or -1. */
static long
rss_kib(void)
{
	long pages = -1, res = -1;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &res) != 2)
		res = -1;
	fclose(f);
	return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Grows a to about 16 MiB in 4 KiB objects, each written. */
static void
grow_16m(kiln_arena *a)
{
	char *p;
	size_t i;

	for (i = 0; i < 16 * 1024 * 1024 / 4096; i++) {
		ck_assert_ptr_nonnull(p = kiln_arena_alloc(a, 4096));
		memset(p, 'x', 4096);
	}
}

#endif

/*
 * A large request in a worker. The arena's blocks come from malloc's
 * heap; when something allocated after them outlives the request (a
 * statement cache entry, say; here a 100 KiB block carved from the top
 * of the heap), freeing the arena leaves them free below it, and free()
 * alone cannot give them back (the heap only shrinks from its top).
 * Ending the request hands the pages back. Under ASan or arena debugging
 * malloc is not glibc's heap: nothing to check.
 */
START_TEST(test_server_worker_trims_after_large_request)
{
#if TRIM_TESTABLE
	kiln_arena *a = kiln_arena_new(16384);
	long before, grown, after;
	char *survivor;

	ck_assert_ptr_nonnull(a);
	before = rss_kib();
	grow_16m(a);
	/* Larger than any free fragment: carved from the top of the heap. */
	survivor = malloc(100 * 1024);
	ck_assert_ptr_nonnull(survivor);
	memset(survivor, 'y', 100 * 1024);
	grown = rss_kib();
	ck_assert_int_gt(grown - before, 12 * 1024);
	kiln__worker_end_request(a);
	after = rss_kib();
	ck_assert_msg(grown - after > 12 * 1024,
	    "RSS %ld KiB before, %ld with the arena grown, %ld after", before,
	    grown, after);
	free(survivor);
	kiln_arena_free(a);
#endif
}
END_TEST

START_TEST(test_server_listen_unix_mode)
{
	char path[108], err[256];
	struct stat st;
	int fd;

	tmp_path(path, sizeof(path), "mode");
	fd = kiln__listen(path, 0640, 16, err, sizeof(err));
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	close(fd);
	unlink(path);
}
END_TEST

START_TEST(test_server_listen_refuses_live_socket)
{
	char path[108], spec[120], err[256];
	int fd, fd2;

	tmp_path(path, sizeof(path), "live");
	snprintf(spec, sizeof(spec), "unix:%s", path);
	fd = kiln__listen(spec, -1, 16, err, sizeof(err));
	ck_assert_int_ge(fd, 0);
	fd2 = kiln__listen(spec, -1, 16, err, sizeof(err));
	ck_assert_int_eq(fd2, -1);
	ck_assert_ptr_nonnull(strstr(err, "another server is listening"));
	/* Once the first is gone, its leftover file is replaced. */
	close(fd);
	fd2 = kiln__listen(spec, -1, 16, err, sizeof(err));
	ck_assert_int_ge(fd2, 0);
	close(fd2);
	unlink(path);
}
END_TEST

START_TEST(test_server_listen_bad_specs)
{
	char err[256];
	char longpath[200];

	memset(longpath, 'x', sizeof(longpath));
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	ck_assert_int_eq(kiln__listen(longpath, -1, 16, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "longer than"));
	ck_assert_int_eq(kiln__listen("/etc/passwd", -1, 16, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "not a socket"));
	ck_assert_int_eq(kiln__listen("127.0.0.1:notaport", -1, 16, err,
			     sizeof(err)),
	    -1);
}
END_TEST

START_TEST(test_server_listen_queue_unix)
{
	char path[108], err[256];
	uint32_t q = 99, max = 0;
	int fd, c[3], i;

	tmp_path(path, sizeof(path), "queue");
	fd = kiln__listen(path, -1, 7, err, sizeof(err));
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(kiln__listen_queue(fd, &q, &max), KILN_OK);
	ck_assert_uint_eq(q, 0);
	ck_assert_uint_eq(max, 7);
	for (i = 0; i < 3; i++)
		c[i] = connect_unix(path);
	ck_assert_int_eq(kiln__listen_queue(fd, &q, &max), KILN_OK);
	ck_assert_uint_eq(q, 3);
	for (i = 0; i < 3; i++)
		close(c[i]);
	close(fd);
	unlink(path);
}
END_TEST

START_TEST(test_server_listen_queue_tcp)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char err[256];
	uint32_t q = 99, max = 0;
	int fd, c;

	fd = kiln__listen("127.0.0.1:0", -1, 9, err, sizeof(err));
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&sin, len), 0);
	ck_assert_int_eq(kiln__listen_queue(fd, &q, &max), KILN_OK);
	ck_assert_uint_eq(q, 1);
	ck_assert_uint_eq(max, 9);
	close(c);
	close(fd);
}
END_TEST

/* Builds a sockaddr for an IPv4 or IPv6 text address. */
static const struct sockaddr *
addr(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		ck_assert_int_eq(inet_pton(AF_INET6, text, &sin6->sin6_addr),
		    1);
		sin6->sin6_family = AF_INET6;
	}
	return (const struct sockaddr *)ss;
}

START_TEST(test_server_allow_list)
{
	struct sockaddr_storage ss;
	kiln__allow al;
	char err[200];

	ck_assert_int_eq(kiln__allow_parse("127.0.0.1 ::1, 10.1.0.0/16 "
					   "fd00::/8",
			     &al, err, sizeof(err)),
	    KILN_OK);
	ck_assert_uint_eq(al.n, 4);
	ck_assert(kiln__allow_match(&al, addr("127.0.0.1", &ss)));
	ck_assert(!kiln__allow_match(&al, addr("127.0.0.2", &ss)));
	ck_assert(kiln__allow_match(&al, addr("::1", &ss)));
	ck_assert(kiln__allow_match(&al, addr("10.1.200.3", &ss)));
	ck_assert(!kiln__allow_match(&al, addr("10.2.0.1", &ss)));
	ck_assert(kiln__allow_match(&al, addr("fd12::5", &ss)));
	ck_assert(!kiln__allow_match(&al, addr("fe80::1", &ss)));
	ck_assert(kiln__allow_match(&al, addr("::ffff:127.0.0.1", &ss)));
	ck_assert_int_eq(kiln__allow_parse("all", &al, err, sizeof(err)),
	    KILN_OK);
	ck_assert(kiln__allow_match(&al, addr("192.0.2.1", &ss)));
	ck_assert_int_eq(kiln__allow_parse("10.0.0.0/33", &al, err,
			     sizeof(err)),
	    KILN_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "10.0.0.0/33"));
	ck_assert_int_eq(kiln__allow_parse("localhost", &al, err, sizeof(err)),
	    KILN_ECONFIG);
	ck_assert_int_eq(kiln__allow_parse("", &al, err, sizeof(err)), KILN_OK);
	ck_assert(!kiln__allow_match(&al, addr("127.0.0.1", &ss)));
}
END_TEST

START_TEST(test_server_status_build)
{
	kiln_app *app = kiln_app_new("pool");
	kiln_arena *a = kiln_arena_new(0);
	kiln__board *b = calloc(1, sizeof(*b));
	const kiln_val *ws;
	kiln_val *o;
	kiln_buf out;

	ck_assert_ptr_nonnull(b);
	b->master = 42;
	b->target = 2;
	b->accepted = 10;
	b->listen_fd = -1;
	snprintf(b->pm, sizeof(b->pm), "static");
	b->slots[0].pid = 100;
	b->slots[0].state = KILN__W_BUSY;
	b->slots[0].requests = 7;
	snprintf(b->slots[0].url, sizeof(b->slots[0].url), "GET /x");
	b->slots[5].pid = 101;
	b->slots[5].state = KILN__W_IDLE;
	o = kiln__status_build(app, a, b);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(kiln_val_get(o, "busy")->u.i, 1);
	ck_assert_int_eq(kiln_val_get(o, "idle")->u.i, 1);
	ck_assert_int_eq(kiln_val_get(o, "master")->u.i, 42);
	ws = kiln_val_get(o, "workers");
	ck_assert_uint_eq(kiln_val_len(ws), 2);
	ck_assert_int_eq(kiln_val_get(kiln_val_at(ws, 0), "pid")->u.i, 100);
	ck_assert_str_eq(kiln_val_get(kiln_val_at(ws, 0), "current")->u.s.ptr,
	    "GET /x");
	ck_assert_int_eq(kiln_val_get(kiln_val_at(ws, 1), "current")->type,
	    KILN_VAL_NULL);
	kiln_buf_init(&out, a, 0);
	ck_assert_int_eq(kiln__status_text(&out, o), KILN_OK);
	ck_assert_ptr_nonnull(strstr(out.ptr,
	    "workers:        2 (target 2, "
	    "busy 1, idle 1)"));
	ck_assert_ptr_nonnull(strstr(out.ptr, "GET /x"));
	free(b);
	kiln_arena_free(a);
	kiln_app_free(app);
}
END_TEST

/* The status page through the dispatcher: loopback only by default. */
START_TEST(test_server_status_page_access)
{
	kiln_app *app = kiln_app_new("pool");
	kiln__board *b = calloc(1, sizeof(*b));
	const kiln_client_resp *r;
	kiln_client *c;

	ck_assert_ptr_nonnull(b);
	b->listen_fd = -1;
	b->target = 1;
	b->slots[0].pid = 77;
	b->slots[0].state = KILN__W_IDLE;
	ck_assert_int_eq(kiln_app_configure(app, NULL), KILN_OK);
	ck_assert_int_eq(kiln__status_register(app, b), KILN_OK);
	c = kiln_client_new(app);
	r = kiln_client_get(c, "/kiln-status?format=json");
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_nonnull(strstr(r->body.ptr, "\"workers\":[{\"pid\":77,"));
	ck_assert_str_eq(kiln_client_resp_header(r, "Cache-Control")->ptr,
	    "no-store");
	r = kiln_client_get(c, "/kiln-status");
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_nonnull(strstr(r->body.ptr, "pm:"));
	kiln_client_set_remote(c, "192.0.2.7", false);
	r = kiln_client_get(c, "/kiln-status");
	ck_assert_int_eq(r->status, 404);
	kiln_client_free(c);
	free(b);
	kiln_app_free(app);
}
END_TEST

Suite *
server_suite(void)
{
	Suite *s = suite_create("server");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_server_listen_unix_mode);
	tcase_add_test(tc, test_server_worker_trims_after_large_request);
	tcase_add_test(tc, test_server_listen_refuses_live_socket);
	tcase_add_test(tc, test_server_listen_bad_specs);
	tcase_add_test(tc, test_server_listen_queue_unix);
	tcase_add_test(tc, test_server_listen_queue_tcp);
	tcase_add_test(tc, test_server_allow_list);
	tcase_add_test(tc, test_server_status_build);
	tcase_add_test(tc, test_server_status_page_access);
	suite_add_tcase(s, tc);
	return s;
}
