/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The prefork master: forks the workers, respawns any that die, and stops
 * them gracefully on TERM or INT. It never handles requests. Signals are
 * blocked and taken synchronously with sigtimedwait(), so the loop needs
 * no handlers and no flags that a handler could race with.
 *
 * This is the small first master; the full process manager (reload,
 * scaling, timeouts, status) grows from it (issue 3).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <kiln/kiln.h>

#include "kiln_int.h"
#include "server_int.h"

#define GRACEFUL_MS   10000 /* workers get this long to finish on stop */
#define RESPAWN_MIN_MS 100  /* a worker that died younger waits this long */

struct slot {
	pid_t pid;          /* 0 when empty */
	int64_t started_ms; /* when it was forked */
	int64_t respawn_ms; /* not before this time */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Forks one worker into s. Returns 0, or -1 when fork failed. */
static int
spawn(struct slot *s, kiln_app *app, const kiln__transport_ops *tp,
    const kiln__transport_cfg *cfg)
{
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "kiln: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0)
		_exit(kiln__worker_run(app, tp, cfg));
	s->pid = pid;
	s->started_ms = now_ms();
	return 0;
}

/* Reaps dead workers and schedules their respawn. */
static void
reap(struct slot *slots, int n, bool stopping)
{
	int status, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < n; i++) {
			if (slots[i].pid != pid)
				continue;
			slots[i].pid = 0;
			slots[i].respawn_ms =
			    now_ms() - slots[i].started_ms < RESPAWN_MIN_MS
			    ? now_ms() + RESPAWN_MIN_MS
			    : 0;
			if (!stopping && WIFSIGNALED(status))
				fprintf(stderr, "kiln: worker %d killed by "
				    "signal %d; respawning\n", (int)pid,
				    WTERMSIG(status));
			else if (!stopping)
				fprintf(stderr, "kiln: worker %d exited with "
				    "status %d; respawning\n", (int)pid,
				    WEXITSTATUS(status));
		}
	}
}

static int
alive(const struct slot *slots, int n)
{
	int i, count = 0;

	for (i = 0; i < n; i++)
		count += slots[i].pid != 0;
	return count;
}

/* Sends sig to every worker. */
static void
signal_all(const struct slot *slots, int n, int sig)
{
	int i;

	for (i = 0; i < n; i++) {
		if (slots[i].pid != 0)
			kill(slots[i].pid, sig);
	}
}

/* Stops the workers: TERM, wait up to GRACEFUL_MS, then KILL. */
static void
stop_all(struct slot *slots, int n, int sig)
{
	int64_t deadline = now_ms() + GRACEFUL_MS;
	struct timespec ts = { 0, 10 * 1000000 };

	signal_all(slots, n, sig);
	while (alive(slots, n) > 0 && now_ms() < deadline) {
		nanosleep(&ts, NULL);
		reap(slots, n, true);
	}
	if (alive(slots, n) > 0) {
		signal_all(slots, n, SIGKILL);
		while (alive(slots, n) > 0) {
			nanosleep(&ts, NULL);
			reap(slots, n, true);
		}
	}
}

int
kiln__serve(kiln_app *app, int listen_fd, int workers,
    const kiln__transport_ops *tp, const kiln__transport_cfg *cfg)
{
	struct timespec tick = { 0, 50 * 1000000 };
	struct slot *slots;
	sigset_t set;
	int i, sig;

	(void)listen_fd;
	slots = kiln_arena_calloc(kiln_app_arena(app), (size_t)workers,
	    sizeof(*slots));
	if (slots == NULL)
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "kiln: master %d serving with %d %s workers\n",
	    (int)getpid(), workers, tp->name);
	for (;;) {
		reap(slots, workers, false);
		for (i = 0; i < workers; i++) {
			if (slots[i].pid == 0 && now_ms() >= slots[i].respawn_ms)
				(void)spawn(&slots[i], app, tp, cfg);
		}
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
			break;
	}
	fprintf(stderr, "kiln: master %d stopping (signal %d)\n",
	    (int)getpid(), sig);
	stop_all(slots, workers, sig == SIGQUIT ? SIGKILL : SIGTERM);
	return 0;
}
