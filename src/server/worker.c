/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The worker: after fork it opens what extensions need, then loops —
 * wait for a request through the transport, dispatch it, write the
 * response, reset the request arena. One request at a time, one thread.
 * It publishes its state in its scoreboard slot (idle, busy with which
 * URL since when, requests served), which is how the master enforces the
 * request timeout and how the status page sees the pool.
 *
 * Stopping: TERM, INT and QUIT set a flag. So that a worker blocked in
 * accept() (libfcgi gives no other way out) notices, the handler also
 * dup2()s a socket that is not listening over the worker's copy of the
 * listening fd, which makes accept fail at once; the master keeps its own
 * copy, so connections queued on the socket are not reset (php-fpm's
 * approach, PLATFORM.md). A request in flight is finished first.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <kiln/kiln.h>

#include "kiln_int.h"
#include "server_int.h"

/* The worker's only mutable global state (STYLE.md section 6). */
static struct kiln__worker {
	volatile sig_atomic_t stopping; /* a stop signal arrived */
	int listen_fd;			/* the shared listening socket */
	int dummy_fd;			/* a socket that never listens */
	const char *log_file;		/* the board's, reopened on USR1 */
} worker = { 0, -1, -1, NULL };

bool
kiln__worker_stopping(void)
{
	return worker.stopping != 0;
}

static void
on_stop(int sig)
{
	int saved = errno;

	(void)sig;
	worker.stopping = 1;
	if (worker.dummy_fd >= 0 && worker.listen_fd >= 0)
		dup2(worker.dummy_fd, worker.listen_fd);
	errno = saved;
}

/* USR1: reopen the log on stderr (open and dup2 are async-signal-safe). */
static void
on_reopen(int sig)
{
	int saved = errno, fd;

	(void)sig;
	if (worker.log_file != NULL && worker.log_file[0] != '\0') {
		fd = open(worker.log_file,
		    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
	}
	errno = saved;
}

/* Installs the worker's signal dispositions (after fork). */
static void
worker_signals(void)
{
	struct sigaction sa;
	sigset_t all;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTTIN, &sa, NULL);
	sigaction(SIGTTOU, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_reopen;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_flags = 0;
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

/* Publishes "METHOD URI" as the slot's current request. */
static void
slot_busy(kiln__slot *slot, const kiln_kvs *params)
{
	const kiln_str *m, *u;
	int n;

	m = kiln_kvs_get(params, KILN_STR("REQUEST_METHOD"));
	u = kiln_kvs_get(params, KILN_STR("REQUEST_URI"));
	n = snprintf(slot->url, sizeof(slot->url), "%.*s %.*s",
	    m != NULL ? (int)(m->len > 16 ? 16 : m->len) : 1,
	    m != NULL ? m->ptr : "-",
	    u != NULL ? (int)(u->len > KILN__URL_MAX ? KILN__URL_MAX : u->len) :
			1,
	    u != NULL ? u->ptr : "-");
	(void)n;
	slot->req_start_ms = kiln__now_ms();
	slot->state = KILN__W_BUSY;
}

/*
 * A request whose arena grew past this many bytes has its memory handed
 * back to the system when it ends, not only to malloc.
 */
#define TRIM_AFTER (256 * 1024)

/*
 * After a large request (a 500-row JSON list, a big upload) malloc keeps
 * the freed blocks in its heap, and when anything allocated later sits
 * above them the worker's RSS stays at the request's high-water mark for
 * the worker's life; malloc_trim gives those pages back. Small requests
 * skip it (it walks the heap).
 */
void
kiln__worker_end_request(kiln_arena *a)
{
	bool big = kiln_arena_used(a) > TRIM_AFTER;

	kiln_arena_reset(a);
#ifdef __GLIBC__
	if (big)
		(void)malloc_trim(0);
#else
	(void)big;
#endif
}

int
kiln__worker_run(kiln_app *app, const kiln__transport_ops *tp,
    const kiln__transport_cfg *cfg, kiln__slot *slot, kiln__board *board,
    uint64_t max_requests)
{
	kiln_arena *a = NULL;
	kiln_resp *resp;
	kiln_kvs params;
	kiln_str body;
	kiln_buf head;
	kiln__next_rc nrc;
	int64_t ms, slow_ms;
	void *st = NULL;
	int status = 1;

	worker.listen_fd = cfg->listen_fd;
	worker.log_file = board->log_file;
	worker.dummy_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	worker_signals();
	kiln__crash_init(NULL);
	slow_ms = kiln_setting_int(app, "status.slow_threshold");
	if (kiln__exts_init_worker(app) != KILN_OK) {
		fprintf(stderr, "kiln: worker %d: %s\n", (int)getpid(),
		    kiln_app_errmsg(app));
		goto err;
	}
	a = kiln_arena_new(16384);
	st = tp->init(cfg);
	if (a == NULL || st == NULL) {
		fprintf(stderr,
		    "kiln: worker %d: %s transport failed to start\n",
		    (int)getpid(), tp->name);
		goto err;
	}
	while (!kiln__worker_stopping()) {
		if (max_requests > 0 && slot->requests >= max_requests)
			break; /* recycled; the master forks a fresh one */
		slot->req_start_ms = 0;
		if (slot->state != KILN__W_STOPPING)
			slot->state = KILN__W_IDLE;
		kiln_kvs_init(&params, a);
		body = KILN_STR_NULL;
		nrc = tp->next(st, a, &params, &body);
		if (nrc == KILN__NEXT_STOP)
			break;
		if (nrc == KILN__NEXT_AGAIN) {
			kiln_arena_reset(a);
			continue;
		}
		slot_busy(slot, &params);
		resp = kiln__handle(app, a, &params, body,
		    nrc == KILN__NEXT_TOOBIG ? KILN_ELIMIT : KILN_OK);
		kiln_buf_init(&head, a, 512);
		if (kiln__resp_head(resp, &head) == KILN_OK)
			(void)tp->respond(st, kiln_buf_str(&head),
			    kiln__resp_wire_body(resp));
		ms = kiln__now_ms() - slot->req_start_ms;
		if (slow_ms > 0 && ms >= slow_ms)
			kiln__note_slow(board, slot, ms, false);
		slot->requests++;
		__atomic_fetch_add(&board->accepted, 1, __ATOMIC_RELAXED);
		kiln__worker_end_request(a);
	}
	status = 0;
err:
	slot->state = KILN__W_STOPPING;
	if (st != NULL)
		tp->fini(st);
	kiln__exts_fini_worker(app);
	kiln_arena_free(a);
	return status;
}
