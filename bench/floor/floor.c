/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The stock raw libfcgi floor of the benchmark (issues 6 and 7): the
 * least a C program can do to answer TechEmpower's plaintext and json
 * tests through libfcgi, with libfcgi's own FCGX_Accept_r/FCGX_Finish_r
 * loop and nothing else: no framework, no routing table, no JSON encoder
 * (the json body is the constant text the peers produce). It is what a
 * framework built on libfcgi cannot go below, so Kiln's ratio over it
 * measures what Kiln's own transport and dispatcher cost or save.
 *
 *     floor SOCKET_PATH WORKERS
 *
 * creates the unix socket (mode 0666, loopback benchmarking only), forks
 * WORKERS processes that accept on it, and waits. SIGTERM or SIGINT to
 * the parent stops the workers and removes the socket. bench/run builds
 * it with a plain cc command; it is not part of libkiln.
 */
#define _POSIX_C_SOURCE 200809L

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#define FLOOR_MAX_WORKERS 64

static volatile sig_atomic_t floor_stop;

static void
on_stop(int sig)
{
	(void)sig;
	floor_stop = 1;
}

/*
 * Answers one request with a constant CGI response. Both carry
 * Content-Length, as Kiln's do, so nginx forwards them in the same shape
 * (no chunked encoding). FCGX_PutStr, not FCGX_FPrintF: libfcgi's own
 * printf does not know %zu, and a floor formats nothing it need not.
 */
static void
answer(FCGX_Request *r)
{
	static const char plain[] = "Content-Type: text/plain\r\n"
				    "Content-Length: 13\r\n\r\n"
				    "Hello, World!";
	static const char json[] = "Content-Type: application/json\r\n"
				   "Content-Length: 27\r\n\r\n"
				   "{\"message\":\"Hello, World!\"}";
	static const char nf[] = "Status: 404 Not Found\r\n"
				 "Content-Type: text/plain\r\n"
				 "Content-Length: 10\r\n\r\nnot found\n";
	const char *uri = FCGX_GetParam("DOCUMENT_URI", r->envp);

	if (uri != NULL && strcmp(uri, "/plaintext") == 0)
		FCGX_PutStr(plain, sizeof(plain) - 1, r->out);
	else if (uri != NULL && strcmp(uri, "/json") == 0)
		FCGX_PutStr(json, sizeof(json) - 1, r->out);
	else
		FCGX_PutStr(nf, sizeof(nf) - 1, r->out);
}

/* A worker: libfcgi's stock loop until the parent stops it. */
static void
worker(int sock)
{
	FCGX_Request r;

	sigset_t none;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (FCGX_InitRequest(&r, sock, 0) != 0)
		_exit(1);
	while (FCGX_Accept_r(&r) >= 0) {
		answer(&r);
		FCGX_Finish_r(&r);
	}
	_exit(0);
}

int
main(int argc, char **argv)
{
	pid_t pids[FLOOR_MAX_WORKERS];
	struct sigaction sa;
	sigset_t block, old;
	int n, i, sock;

	if (argc != 3 || (n = atoi(argv[2])) < 1 || n > FLOOR_MAX_WORKERS) {
		fprintf(stderr, "usage: floor SOCKET_PATH WORKERS (1-%d)\n",
		    FLOOR_MAX_WORKERS);
		return 2;
	}
	if (FCGX_Init() != 0) {
		fprintf(stderr, "floor: FCGX_Init failed\n");
		return 1;
	}
	(void)unlink(argv[1]);
	sock = FCGX_OpenSocket(argv[1], 511);
	if (sock < 0) {
		fprintf(stderr, "floor: listen %s failed\n", argv[1]);
		return 1;
	}
	(void)chmod(argv[1], 0666);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	/* Blocked until sigsuspend, so a stop cannot slip past the check. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	(void)sigprocmask(SIG_BLOCK, &block, &old);
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			worker(sock);
		if (pids[i] < 0) {
			fprintf(stderr, "floor: fork: %s\n", strerror(errno));
			n = i;
			floor_stop = 1;
			break;
		}
	}
	while (!floor_stop)
		sigsuspend(&old);
	for (i = 0; i < n; i++)
		(void)kill(pids[i], SIGTERM);
	for (i = 0; i < n; i++)
		(void)waitpid(pids[i], NULL, 0);
	(void)unlink(argv[1]);
	return 0;
}
