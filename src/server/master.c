/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The prefork master. It never handles requests: it forks the workers,
 * watches them through the shared scoreboard, and obeys signals:
 *
 *   TERM, INT  graceful stop: workers finish the request in flight
 *              (bounded by server.graceful_timeout), then exit
 *   QUIT       fast stop: workers are killed at once
 *   HUP        re-read the settings and replace every worker; the new
 *              generation accepts before the old one is told to stop
 *   TTIN/TTOU  one worker more / fewer
 *   USR1       reopen the log file
 *   USR2       start a new master from the binary on disk, handing it the
 *              listening socket; once its workers are up it retires this
 *              master, which then stops gracefully
 *   CHLD       reap and respawn
 *
 * Signals are blocked and read from a signalfd in the master's poll loop
 * (a tick every 50 ms), so there are no handlers to race with. The same
 * loop answers the control socket (server.control_socket, mode 0600):
 * `APP status` reads the pool's status there from the master itself, so
 * it works even when every worker is busy or hung — exactly when it is
 * needed, and when a status page served by the workers cannot answer. On each
 * tick the master also kills workers whose request ran past server.timeout,
 * recycles those above server.max_rss, and (pm = dynamic) keeps the idle
 * count between min_spare and max_spare. The master holds its own copy of
 * the listening socket throughout, so connections queued during a reload
 * or an upgrade are accepted by the next workers instead of being reset.
 */
#include "config.h"

#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <kiln/kiln.h>

#include "kiln_int.h"
#include "server_int.h"

#define TICK_MS	       50
#define RESPAWN_MIN_MS 100  /* a worker that died younger waits this long */
#define RSS_EVERY_MS   1000 /* how often RSS is read */

/* The master's own state (one per process; lives on serve's stack). */
typedef struct master {
	kiln_app *app;
	kiln__board *board;
	kiln__pool_cfg pcs;	  /* the pool settings (reloaded on HUP) */
	const kiln__pool_cfg *pc; /* &pcs */
	const kiln__transport_ops *tp;
	kiln__transport_cfg cfgs;	/* the transport settings (likewise) */
	const kiln__transport_cfg *cfg; /* &cfgs */
	int generation;			/* current generation */
	int64_t respawn_after;		/* no spawn before this (throttle) */
	int64_t rss_checked;		/* last RSS pass */
	pid_t new_master;		/* a USR2 child, or 0 */
	int sig_fd;			/* signalfd of the blocked signals */
	int ctl_fd;			/* control socket, or -1 */
	bool upgraded;			/* a new master took over */
} master;

int64_t
kiln__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
kiln__wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
kiln__pool_cfg_load(kiln_app *app, kiln__pool_cfg *pc)
{
	pc->dynamic =
	    strcmp(kiln_setting_str(app, "server.pm"), "dynamic") == 0;
	pc->min_workers = (int)kiln_setting_int(app, "server.min_workers");
	pc->max_workers = (int)kiln_setting_int(app, "server.max_workers");
	pc->min_spare = (int)kiln_setting_int(app, "server.min_spare");
	pc->max_spare = (int)kiln_setting_int(app, "server.max_spare");
	pc->timeout_ms = kiln_setting_int(app, "server.timeout");
	pc->graceful_ms = kiln_setting_int(app, "server.graceful_timeout");
	pc->max_rss_kb = kiln_setting_int(app, "server.max_rss") / 1024;
	pc->max_requests =
	    (uint64_t)kiln_setting_int(app, "server.max_requests");
	pc->max_requests_jitter =
	    (uint64_t)kiln_setting_int(app, "server.max_requests_jitter");
	pc->slow_ms = kiln_setting_int(app, "status.slow_threshold");
	pc->settings_path = app->settings_path;
}

kiln_err
kiln__transport_cfg_load(kiln_app *app, int fd, kiln__transport_cfg *cfg)
{
	char err[KILN_ERRMSG_MAX];

	memset(cfg, 0, sizeof(*cfg));
	cfg->listen_fd = fd;
	cfg->max_body = app->limits.max_body;
	cfg->max_params = (size_t)kiln_setting_int(app, "fcgi.max_params");
	cfg->max_params_bytes =
	    (size_t)kiln_setting_int(app, "fcgi.max_params_bytes");
	cfg->header_timeout_ms = kiln_setting_int(app, "fcgi.header_timeout");
	cfg->body_min_rate = kiln_setting_int(app, "fcgi.body_min_rate");
	cfg->write_timeout_ms = kiln_setting_int(app, "fcgi.write_timeout");
	cfg->idle_timeout_ms = kiln_setting_int(app, "fcgi.idle_timeout");
	if (kiln__allow_parse(kiln_setting_str(app, "server.allow_from"),
		&cfg->allow, err, sizeof(err)) != KILN_OK)
		return kiln__app_error(app, KILN_ECONFIG, "%s", err);
	return KILN_OK;
}

/* Logs one line with the master's pid. */
static void mlog(const char *fmt, ...) KILN_PRINTF(1, 2);

static void
mlog(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "kiln: master %d: %s\n", (int)getpid(), line);
	fflush(stderr);
}

/* Counts the slots of generation gen in the given states (mask of 1<<state). */
static int
count(const master *m, int gen, unsigned mask)
{
	const kiln__slot *s;
	int i, n = 0;

	for (i = 0; i < KILN__SLOTS_MAX; i++) {
		s = &m->board->slots[i];
		if (s->pid != 0 && (gen < 0 || s->generation == gen) &&
		    (mask & (1u << s->state)))
			n++;
	}
	return n;
}

#define LIVE \
	((1u << KILN__W_STARTING) | (1u << KILN__W_IDLE) | (1u << KILN__W_BUSY))

/* Forks one worker into a free slot. Returns 0, or -1. */
static int
spawn(master *m)
{
	kiln__slot *s = NULL;
	uint64_t max_req = 0;
	pid_t pid;
	int i;

	for (i = 0; i < KILN__SLOTS_MAX; i++) {
		if (m->board->slots[i].pid == 0) {
			s = &m->board->slots[i];
			break;
		}
	}
	if (s == NULL)
		return -1;
	if (m->pc->max_requests > 0) {
		max_req = m->pc->max_requests;
		if (m->pc->max_requests_jitter > 0)
			max_req += (uint64_t)random() %
			    (m->pc->max_requests_jitter + 1);
	}
	memset((void *)s, 0, sizeof(*s));
	s->state = KILN__W_STARTING;
	s->generation = m->generation;
	s->started_at = kiln__wall_ms();
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		mlog("fork: %s", strerror(errno));
		s->state = KILN__W_EMPTY;
		return -1;
	}
	if (pid == 0) {
		if (m->sig_fd >= 0)
			close(m->sig_fd);
		if (m->ctl_fd >= 0)
			close(m->ctl_fd);
		s->pid = getpid();
		_exit(kiln__worker_run(m->app, m->tp, m->cfg, s, m->board,
		    max_req));
	}
	s->pid = pid;
	return 0;
}

void
kiln__note_slow(kiln__board *b, const kiln__slot *s, int64_t ms, bool killed)
{
	uint64_t n = __atomic_fetch_add(&b->slow_count, 1, __ATOMIC_RELAXED);
	kiln__slow *e = &b->slow[n % KILN__SLOW_MAX];

	e->at = kiln__wall_ms();
	e->ms = ms;
	e->pid = s->pid;
	e->killed = killed;
	memcpy(e->url, s->url, sizeof(e->url));
	e->url[sizeof(e->url) - 1] = '\0';
}

/* Reaps dead children; logs unexpected deaths with their request. */
static void
reap(master *m)
{
	kiln__slot *s;
	int status, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == m->new_master) {
			mlog("new master %d exited (status %d); carrying on",
			    (int)pid, WEXITSTATUS(status));
			m->new_master = 0;
			continue;
		}
		for (i = 0; i < KILN__SLOTS_MAX; i++) {
			s = &m->board->slots[i];
			if (s->pid != pid)
				continue;
			if (s->state != KILN__W_STOPPING) {
				if (WIFSIGNALED(status))
					mlog("worker %d died of signal %d%s%s",
					    (int)pid, WTERMSIG(status),
					    s->state == KILN__W_BUSY ?
						" during " :
						"",
					    s->state == KILN__W_BUSY ? s->url :
								       "");
				else if (WEXITSTATUS(status) != 0)
					mlog("worker %d exited with status %d",
					    (int)pid, WEXITSTATUS(status));
				if (WIFSIGNALED(status) ||
				    WEXITSTATUS(status) != 0) {
					m->board->respawns++;
					if (kiln__wall_ms() - s->started_at <
					    RESPAWN_MIN_MS)
						m->respawn_after =
						    kiln__now_ms() +
						    RESPAWN_MIN_MS;
				}
			}
			s->pid = 0;
			s->state = KILN__W_EMPTY;
		}
	}
}

/* Asks one worker to stop gracefully. */
static void
retire(kiln__slot *s)
{
	if (s->pid != 0 && s->state != KILN__W_STOPPING) {
		s->state = KILN__W_STOPPING;
		kill(s->pid, SIGTERM);
	}
}

/* Picks a worker of the current generation to retire: idle ones first. */
static kiln__slot *
pick_victim(master *m)
{
	kiln__slot *s, *busy = NULL;
	int i;

	for (i = KILN__SLOTS_MAX - 1; i >= 0; i--) {
		s = &m->board->slots[i];
		if (s->pid == 0 || s->generation != m->generation)
			continue;
		if (s->state == KILN__W_IDLE || s->state == KILN__W_STARTING)
			return s;
		if (s->state == KILN__W_BUSY && busy == NULL)
			busy = s;
	}
	return busy;
}

/* Kills workers past the timeout; recycles those over the RSS limit. */
static void
police(master *m)
{
	kiln__slot *s;
	int64_t now = kiln__now_ms(), ms;
	unsigned long pages, rss;
	char path[64];
	FILE *f;
	int i;
	bool rss_pass = now - m->rss_checked >= RSS_EVERY_MS;

	if (rss_pass)
		m->rss_checked = now;
	for (i = 0; i < KILN__SLOTS_MAX; i++) {
		s = &m->board->slots[i];
		if (s->pid == 0)
			continue;
		ms = s->req_start_ms != 0 ? now - s->req_start_ms : 0;
		if (m->pc->timeout_ms > 0 && s->state == KILN__W_BUSY &&
		    ms > m->pc->timeout_ms) {
			mlog("worker %d killed: %s ran %lld ms, past the "
			     "%lld ms timeout",
			    (int)s->pid, s->url, (long long)ms,
			    (long long)m->pc->timeout_ms);
			kiln__note_slow(m->board, s, ms, true);
			m->board->killed_timeout++;
			s->state = KILN__W_STOPPING; /* expected death */
			kill(s->pid, SIGKILL);
			continue;
		}
		if (!rss_pass)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/statm", (int)s->pid);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fscanf(f, "%lu %lu", &pages, &rss) == 2)
			s->rss_kb = (uint64_t)rss *
			    ((uint64_t)sysconf(_SC_PAGESIZE) / 1024);
		fclose(f);
		if (m->pc->max_rss_kb > 0 &&
		    s->rss_kb > (uint64_t)m->pc->max_rss_kb &&
		    s->state != KILN__W_STOPPING) {
			mlog("worker %d recycled: RSS %llu KiB over %lld KiB",
			    (int)s->pid, (unsigned long long)s->rss_kb,
			    (long long)m->pc->max_rss_kb);
			retire(s);
		}
	}
}

/*
 * Brings the current generation to the target count: spawns the missing
 * (respecting the throttle), retires the surplus. For pm = dynamic the
 * target first moves to keep the idle count within the spare bounds.
 */
static void
balance(master *m)
{
	const kiln__pool_cfg *pc = m->pc;
	int live, idle, target;
	kiln__slot *s;

	live = count(m, m->generation, LIVE);
	if (pc->dynamic) {
		idle = count(m, m->generation,
		    (1u << KILN__W_IDLE) | (1u << KILN__W_STARTING));
		target = m->board->target;
		if (idle < pc->min_spare && target < pc->max_workers)
			target = live + 1 > target ? live + 1 : target;
		else if (idle > pc->max_spare && target > pc->min_workers)
			target = live - 1;
		if (target < pc->min_workers)
			target = pc->min_workers;
		if (target > pc->max_workers)
			target = pc->max_workers;
		m->board->target = target;
	}
	target = m->board->target;
	while (live < target && kiln__now_ms() >= m->respawn_after) {
		if (spawn(m) != 0)
			break;
		live++;
	}
	while (live > target) {
		s = pick_victim(m);
		if (s == NULL)
			break;
		retire(s);
		live--;
	}
}

/* Retires the old generations once the current one accepts. */
static void
finish_reload(master *m)
{
	kiln__slot *s;
	int i;

	if (count(m, m->generation, 1u << KILN__W_STARTING) > 0)
		return;
	for (i = 0; i < KILN__SLOTS_MAX; i++) {
		s = &m->board->slots[i];
		if (s->pid != 0 && s->generation != m->generation)
			retire(s);
	}
}

/* HUP: re-read settings, start a new generation. */
static void
reload(master *m)
{
	kiln__transport_cfg cfg;

	if (m->pc->settings_path != NULL &&
	    kiln_app_configure(m->app, m->pc->settings_path) != KILN_OK) {
		mlog("reload refused, keeping the running workers: %s",
		    kiln_app_errmsg(m->app));
		return;
	}
	/* Settings-derived values change; the pool's identity does not. */
	if (kiln__transport_cfg_load(m->app, m->cfgs.listen_fd, &cfg) !=
	    KILN_OK) {
		mlog("reload refused, keeping the running workers: %s",
		    kiln_app_errmsg(m->app));
		return;
	}
	m->cfgs = cfg;
	kiln__pool_cfg_load(m->app, &m->pcs);
	m->generation++;
	mlog("reloading: starting generation %d", m->generation);
}

/* USR2: fork and exec the binary on disk, handing over the socket. */
static void
upgrade(master *m)
{
	char fdbuf[16], pidbuf[16];
	pid_t pid;
	int flags;

	if (m->new_master != 0) {
		mlog("upgrade already in progress (new master %d)",
		    (int)m->new_master);
		return;
	}
	pid = fork();
	if (pid < 0) {
		mlog("upgrade: fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		flags = fcntl(m->board->listen_fd, F_GETFD);
		fcntl(m->board->listen_fd, F_SETFD, flags & ~FD_CLOEXEC);
		snprintf(fdbuf, sizeof(fdbuf), "%d", m->board->listen_fd);
		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getppid());
		setenv("KILN_INHERIT_FD", fdbuf, 1);
		setenv("KILN_OLD_MASTER", pidbuf, 1);
		execv(m->pc->exe, m->pc->argv);
		fprintf(stderr, "kiln: upgrade: exec %s: %s\n", m->pc->exe,
		    strerror(errno));
		_exit(127);
	}
	m->new_master = pid;
	mlog("upgrade: started new master %d from %s", (int)pid, m->pc->exe);
}

/*
 * Reopens the log file on stderr (USR1, for logrotate), then has every
 * worker do the same (their handler reopens board->log_file).
 */
static void
reopen_log(master *m)
{
	const char *path = m->board->log_file;
	int fd, i;

	if (*path == '\0')
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0) {
		mlog("reopen %s: %s", path, strerror(errno));
		return;
	}
	dup2(fd, STDERR_FILENO);
	close(fd);
	for (i = 0; i < KILN__SLOTS_MAX; i++) {
		if (m->board->slots[i].pid != 0)
			kill(m->board->slots[i].pid, SIGUSR1);
	}
	mlog("log reopened");
}

/*
 * Answers one control connection: reads a request line ("status" or
 * "status json") within 200 ms, writes the status, closes. The socket
 * is the owner's only (0600), and every step is bounded, so a stuck
 * client cannot stall the master.
 */
static void
ctl_serve(master *m)
{
	struct pollfd pfd;
	kiln_arena *a;
	kiln_val *o;
	kiln_str js;
	kiln_buf out;
	char line[64];
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = accept4(m->ctl_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	pfd.fd = fd;
	pfd.events = POLLIN;
	n = 0;
	if (poll(&pfd, 1, 200) == 1)
		n = read(fd, line, sizeof(line) - 1);
	a = kiln_arena_new(0);
	if (n <= 0 || a == NULL)
		goto out;
	line[n] = '\0';
	kiln_buf_init(&out, a, 4096);
	o = kiln__status_build(m->app, a, m->board);
	if (o == NULL)
		goto out;
	if (strncmp(line, "status json", 11) == 0) {
		if (kiln_json_dump(a, o, &js) != KILN_OK)
			goto out;
		kiln_buf_append_str(&out, js);
		kiln_buf_append_char(&out, '\n');
	} else if (strncmp(line, "status", 6) == 0) {
		(void)kiln__status_text(&out, o);
	} else {
		kiln_buf_append_c(&out, "error: unknown request\n");
	}
	pfd.events = POLLOUT;
	while (off < out.len && poll(&pfd, 1, 1000) == 1) {
		n = send(fd, out.ptr + off, out.len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
out:
	kiln_arena_free(a);
	close(fd);
}

/* Stops every worker: TERM and wait (bounded), or KILL at once. */
static void
stop_all(master *m, bool fast)
{
	int64_t deadline = kiln__now_ms() + m->pc->graceful_ms;
	struct timespec ts = { 0, 10 * 1000000 };
	kiln__slot *s;
	int i;

	for (i = 0; i < KILN__SLOTS_MAX; i++) {
		s = &m->board->slots[i];
		if (s->pid == 0)
			continue;
		if (fast) {
			s->state = KILN__W_STOPPING;
			kill(s->pid, SIGKILL);
		} else {
			retire(s);
		}
	}
	while (count(m, -1, ~0u) > 0) {
		if (kiln__now_ms() >= deadline && !fast) {
			mlog("graceful timeout: killing the rest");
			fast = true;
			for (i = 0; i < KILN__SLOTS_MAX; i++) {
				if (m->board->slots[i].pid != 0)
					kill(m->board->slots[i].pid, SIGKILL);
			}
		}
		nanosleep(&ts, NULL);
		reap(m);
	}
}

/*
 * Waits up to one tick for a signal or a control connection (which it
 * answers). Returns the signal number, or 0 when none arrived.
 */
static int
next_signal(master *m)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	nfds_t n = 1;

	pfd[0].fd = m->sig_fd;
	pfd[0].events = POLLIN;
	if (m->ctl_fd >= 0) {
		pfd[1].fd = m->ctl_fd;
		pfd[1].events = POLLIN;
		n = 2;
	}
	if (poll(pfd, n, TICK_MS) <= 0)
		return 0;
	if (n == 2 && (pfd[1].revents & POLLIN))
		ctl_serve(m);
	if ((pfd[0].revents & POLLIN) &&
	    read(m->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		return (int)si.ssi_signo;
	return 0;
}

int
kiln__serve(kiln_app *app, kiln__board *board, const kiln__pool_cfg *pc,
    const kiln__transport_ops *tp, const kiln__transport_cfg *cfg,
    bool *upgraded)
{
	master m;
	sigset_t set;
	int sig = 0;
	bool fast = false, retired_old = false;

	memset(&m, 0, sizeof(m));
	m.app = app;
	m.board = board;
	m.pcs = *pc;
	m.pc = &m.pcs;
	m.tp = tp;
	m.cfgs = *cfg;
	m.cfg = &m.cfgs;
	board->master = getpid();
	board->started_at = kiln__wall_ms();
	board->target = m.pc->workers;
	snprintf(board->pm, sizeof(board->pm), "%s",
	    m.pc->dynamic ? "dynamic" : "static");
	snprintf(board->log_file, sizeof(board->log_file), "%s",
	    m.pc->log_file != NULL ? m.pc->log_file : "");
	srandom((unsigned)getpid());
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTTIN);
	sigaddset(&set, SIGTTOU);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	m.ctl_fd = pc->ctl_fd;
	m.sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (m.sig_fd < 0) {
		mlog("signalfd: %s", strerror(errno));
		return 1;
	}
	mlog("serving with %d %s workers (pm %s)", m.pc->workers, tp->name,
	    board->pm);
	for (;;) {
		reap(&m);
		police(&m);
		balance(&m);
		finish_reload(&m);
		if (m.pc->old_master > 0 && !retired_old &&
		    count(&m, m.generation, 1u << KILN__W_IDLE) >=
			board->target) {
			/* After USR2: our workers accept; retire the old
			 * master. */
			mlog("workers ready; stopping old master %d",
			    (int)m.pc->old_master);
			kill(m.pc->old_master, SIGTERM);
			retired_old = true;
		}
		sig = next_signal(&m);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGQUIT) {
			fast = true;
			break;
		}
		if (sig == SIGHUP)
			reload(&m);
		else if (sig == SIGTTIN && board->target < 512) {
			board->target++;
			if (m.pc->dynamic && board->target > m.pc->max_workers)
				board->target = m.pc->max_workers;
		} else if (sig == SIGTTOU && board->target > 1)
			board->target--;
		else if (sig == SIGUSR1)
			reopen_log(&m);
		else if (sig == SIGUSR2)
			upgrade(&m);
	}
	m.upgraded = m.new_master != 0;
	mlog("stopping (%s)%s", fast ? "fast" : "graceful",
	    m.upgraded ? "; the new master keeps the socket" : "");
	stop_all(&m, fast);
	close(m.sig_fd);
	*upgraded = m.upgraded;
	return 0;
}
