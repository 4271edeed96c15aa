/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Crash containment in a worker. A fatal signal (SEGV, BUS, FPE, ILL,
 * ABRT) runs this handler on an alternate stack: it writes the signal and
 * a backtrace with function, file and line (libbacktrace, reading the
 * binary's DWARF) to stderr, which is the pool's log, then re-raises the
 * signal so the worker dies with it. nginx answers the one request in
 * flight with 502; the master logs the death with that request's URL and
 * forks a replacement. The libbacktrace state is created before any
 * request, so the handler allocates nothing.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef HAVE_BACKTRACE_H
#include <backtrace.h>
#endif

#include <kiln/kiln.h>

#include "server_int.h"

#define ALTSTACK_SIZE (64 * 1024)

#ifdef HAVE_BACKTRACE_H
static struct backtrace_state *bt_state; /* set before fork-time requests */

/* Writes s to stderr without stdio (the handler may interrupt it). */
static void
say(const char *s)
{
	ssize_t n;
	size_t len = strlen(s);

	while (len > 0) {
		n = write(STDERR_FILENO, s, len);
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static int
frame(void *data, uintptr_t pc, const char *file, int line, const char *fn)
{
	char buf[512];
	int *depth = data;

	snprintf(buf, sizeof(buf), "kiln:   #%d %s at %s:%d (0x%lx)\n",
	    (*depth)++, fn != NULL ? fn : "??", file != NULL ? file : "??",
	    line, (unsigned long)pc);
	say(buf);
	return *depth >= 48; /* stop after 48 frames */
}

static void
bt_error(void *data, const char *msg, int errnum)
{
	(void)data;
	(void)errnum;
	say("kiln:   (backtrace unavailable: ");
	say(msg);
	say(")\n");
}
#endif

static void
on_crash(int sig)
{
#ifdef HAVE_BACKTRACE_H
	char buf[128];
	int depth = 0;

	snprintf(buf, sizeof(buf),
	    "kiln: worker %d crashed with signal %d; "
	    "backtrace:\n",
	    (int)getpid(), sig);
	say(buf);
	if (bt_state != NULL)
		backtrace_full(bt_state, 0, frame, bt_error, &depth);
#endif
	signal(sig, SIG_DFL);
	raise(sig);
}

void
kiln__crash_init(const char *exe)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa;
	stack_t ss;
	size_t i;

#ifdef HAVE_BACKTRACE_H
	if (bt_state == NULL)
		bt_state = backtrace_create_state(exe, 0, NULL, NULL);
#else
	(void)exe;
#endif
	/* Worker lifetime: the alternate stack outlives every arena. */
	ss.ss_sp = malloc(ALTSTACK_SIZE);
	ss.ss_size = ALTSTACK_SIZE;
	ss.ss_flags = 0;
	if (ss.ss_sp != NULL)
		sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}
