/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The server side: listening sockets, the prefork master, the worker
 * loop, and the transports a worker reads requests through. A transport
 * turns connections on the listening socket into (params, body) pairs and
 * writes responses back; the worker loop owns the request arena and the
 * dispatch. Transports: "native" (Kiln's own FastCGI, src/http/fcgi_*.c)
 * and "libfcgi" (src/http/fcgi_libfcgi.c).
 */
#ifndef KILN_SERVER_INT_H
#define KILN_SERVER_INT_H

#include <sys/socket.h>

#include <kiln/kiln.h>

#include "kiln_int.h"

/* The outcome of waiting for a request. */
typedef enum kiln__next_rc {
	KILN__NEXT_REQUEST, /* *params and *body are filled: dispatch it */
	KILN__NEXT_TOOBIG,  /* params filled, body over max_body: answer 413 */
	KILN__NEXT_STOP,    /* the worker is asked to stop: return */
	KILN__NEXT_AGAIN,   /* nothing usable (bad peer, timeout): call again */
} kiln__next_rc;

/*
 * The peers a TCP listener accepts (server.allow_from): addresses or
 * CIDR networks, IPv4 kept as v4-mapped IPv6. Unix sockets are guarded by
 * their file mode instead.
 */
#define KILN__ALLOW_MAX 32

typedef struct kiln__allow {
	bool any;				 /* "all": no check */
	size_t n;				 /* entries used */
	unsigned char addr[KILN__ALLOW_MAX][16]; /* network, v4-mapped */
	unsigned char bits[KILN__ALLOW_MAX];	 /* prefix length (0-128) */
} kiln__allow;

/*
 * Parses a list like "127.0.0.1 ::1 10.0.0.0/8" (spaces or commas) into
 * out. Returns KILN_OK, or KILN_ECONFIG with the bad entry named in err.
 */
kiln_err kiln__allow_parse(const char *list, kiln__allow *out, char *err,
    size_t errlen);

/* True when the peer address sa is allowed (non-IP peers always are). */
bool kiln__allow_match(const kiln__allow *al, const struct sockaddr *sa);

/* Settings a transport needs, read once before the workers fork. */
typedef struct kiln__transport_cfg {
	int listen_fd;		   /* the listening socket, shared by workers */
	size_t max_body;	   /* bytes */
	size_t max_params_bytes;   /* total PARAMS bytes per request */
	size_t max_params;	   /* PARAMS pairs per request */
	int64_t header_timeout_ms; /* time to receive params */
	int64_t body_min_rate;	   /* bytes per second a body must keep up */
	int64_t write_timeout_ms;  /* time to write a response */
	int64_t idle_timeout_ms;   /* keep-conn idle time */
	kiln__allow allow;	   /* TCP peers accepted */
} kiln__transport_cfg;

typedef struct kiln__transport_ops {
	const char *name; /* "native", "libfcgi" */
	/* Prepares per-worker state (after fork). NULL on failure. */
	void *(*init)(const kiln__transport_cfg *cfg);
	/*
	 * Waits for the next complete request and reads it into a (params
	 * as CGI pairs, body). Must return KILN__NEXT_STOP soon after
	 * kiln__worker_stopping() turns true.
	 */
	kiln__next_rc (
	    *next)(void *st, kiln_arena *a, kiln_kvs *params, kiln_str *body);
	/* Writes the response (CGI header block, body) and ends the request. */
	kiln_err (*respond)(void *st, kiln_str head, kiln_str body);
	/* Releases the state (closes any connection). */
	void (*fini)(void *st);
} kiln__transport_ops;

extern const kiln__transport_ops kiln__transport_native;
extern const kiln__transport_ops kiln__transport_libfcgi;

/*
 * The scoreboard: one shared, anonymous mapping made by the master before
 * it forks, in which each worker publishes its state and the master its
 * own counters. Readers tolerate torn values (they are statistics);
 * nothing in it is a pointer. The status endpoint, served by any worker,
 * reads the whole board.
 */
#define KILN__SLOTS_MAX 1024 /* twice the worker limit: room for a reload */
#define KILN__URL_MAX	160  /* bytes of the current URL kept per worker */
#define KILN__SLOW_MAX	16   /* slow requests remembered */

typedef enum kiln__wstate {
	KILN__W_EMPTY,	  /* no process */
	KILN__W_STARTING, /* forked, not yet accepting */
	KILN__W_IDLE,	  /* waiting for a request */
	KILN__W_BUSY,	  /* handling a request */
	KILN__W_STOPPING, /* told to stop; finishing its request */
} kiln__wstate;

typedef struct kiln__slot {
	volatile pid_t pid;	       /* the worker, 0 when empty */
	volatile int state;	       /* kiln__wstate */
	volatile int generation;       /* reload generation it belongs to */
	volatile uint64_t requests;    /* requests served */
	volatile int64_t started_at;   /* fork time, Unix ms */
	volatile int64_t req_start_ms; /* monotonic ms, 0 when idle */
	volatile uint64_t rss_kb;      /* resident set, filled by the master */
	char url[KILN__URL_MAX];       /* "GET /path?q" while busy */
} kiln__slot;

typedef struct kiln__slow {
	int64_t at;		 /* Unix ms when it finished or was killed */
	int64_t ms;		 /* duration */
	pid_t pid;		 /* worker */
	bool killed;		 /* ran past the timeout */
	char url[KILN__URL_MAX]; /* "GET /path" */
} kiln__slow;

typedef struct kiln__board {
	int64_t started_at;	    /* master start, Unix ms */
	pid_t master;		    /* master pid */
	volatile int target;	    /* workers wanted now */
	volatile uint64_t accepted; /* requests handled by every worker ever */
	volatile uint64_t killed_timeout; /* workers killed for a timeout */
	volatile uint64_t respawns;	  /* workers replaced after dying */
	volatile uint64_t slow_count;	  /* slow requests seen */
	kiln__slow slow[KILN__SLOW_MAX];  /* ring of the latest */
	char pm[8];			  /* "static" or "dynamic" */
	char log_file[256];		  /* reopened on USR1 ("" for stderr) */
	int listen_fd;			  /* for the queue length */
	kiln__slot slots[KILN__SLOTS_MAX];
} kiln__board;

/* Records a slow (or, killed, a timed-out) request in board's ring. */
void kiln__note_slow(kiln__board *b, const kiln__slot *s, int64_t ms,
    bool killed);

/* Returns the monotonic clock in milliseconds. */
int64_t kiln__now_ms(void);

/* Returns the wall clock in Unix milliseconds. */
int64_t kiln__wall_ms(void);

/*
 * Reads the listen queue of fd: *queued connections waiting for
 * accept and *max the backlog. Unix sockets through NETLINK_SOCK_DIAG,
 * TCP through TCP_INFO. Returns KILN_OK or KILN_EUNSUPPORTED.
 */
kiln_err kiln__listen_queue(int fd, uint32_t *queued, uint32_t *max);

/* Builds the pool's status (docs/deployment.md) in a; NULL on ENOMEM. */
kiln_val *kiln__status_build(kiln_app *app, kiln_arena *a, kiln__board *b);

/* Appends the status o as aligned text to out. */
kiln_err kiln__status_text(kiln_buf *out, const kiln_val *o);

/*
 * Registers the status view at status.path on app (before fork); it
 * reads board. Returns KILN_OK or an error with kiln_app_errmsg.
 */
kiln_err kiln__status_register(kiln_app *app, kiln__board *board);

/*
 * Installs the crash handler in a worker: a fatal signal writes the
 * signal, the request in flight and a backtrace with file:line to stderr,
 * then the worker dies and the master replaces it.
 */
void kiln__crash_init(const char *exe);

/* True once the worker has been asked to stop (signal-safe flag). */
bool kiln__worker_stopping(void);

/*
 * Creates the listening socket for spec: "unix:/path" or "/path" (mode
 * 0660 unless mode >= 0; refuses to replace a socket a live server
 * answers on), or "host:port" (IPv4/IPv6; "port" alone is 127.0.0.1).
 * Returns the fd or -1 with a message in err.
 */
int kiln__listen(const char *spec, int mode, int backlog, char *err,
    size_t errlen);

/* What the master needs beyond the transport's settings. */
typedef struct kiln__pool_cfg {
	int workers;		      /* static size, or dynamic start size */
	bool dynamic;		      /* pm = dynamic */
	int min_workers, max_workers; /* dynamic bounds */
	int min_spare, max_spare;     /* dynamic idle bounds */
	int64_t timeout_ms;	      /* request timeout (0: none) */
	int64_t graceful_ms;	      /* graceful stop bound */
	int64_t max_rss_kb;	      /* recycle above (0: none) */
	uint64_t max_requests;	      /* recycle after (0: never) */
	uint64_t max_requests_jitter; /* plus up to this many */
	int64_t slow_ms;	   /* a request this long is logged as slow */
	const char *settings_path; /* re-read on HUP (may be NULL) */
	const char *pidfile;	   /* or NULL */
	const char *log_file;	   /* or NULL: stderr */
	const char *exe;	   /* this binary, for USR2 */
	char **argv;		   /* the command line, for USR2 */
	pid_t old_master;	   /* after USR2: the master to retire, or 0 */
	int ctl_fd;		   /* control socket (listening), or -1 */
} kiln__pool_cfg;

/* Fills the settings-derived fields of pc (not workers, exe, argv, ...). */
void kiln__pool_cfg_load(kiln_app *app, kiln__pool_cfg *pc);

/*
 * Fills cfg from the app's settings, for the listening socket fd.
 * Returns KILN_OK or KILN_ECONFIG (a bad server.allow_from) with
 * kiln_app_errmsg.
 */
kiln_err kiln__transport_cfg_load(kiln_app *app, int fd,
    kiln__transport_cfg *cfg);

/*
 * Runs the prefork master until it is stopped: forks workers that each
 * run the worker loop over the transport, respawns those that die, and
 * obeys the signals in docs/deployment.md. board is the shared
 * scoreboard (already mapped). Returns the exit status; *upgraded is set
 * when a new master took over (then the socket and pidfile are its).
 */
int kiln__serve(kiln_app *app, kiln__board *board, const kiln__pool_cfg *pc,
    const kiln__transport_ops *tp, const kiln__transport_cfg *cfg,
    bool *upgraded);

/*
 * The worker loop: runs until asked to stop or recycled. slot is its
 * scoreboard entry. Returns the exit status.
 */
int kiln__worker_run(kiln_app *app, const kiln__transport_ops *tp,
    const kiln__transport_cfg *cfg, kiln__slot *slot, kiln__board *board,
    uint64_t max_requests);

/*
 * Ends a request in the worker loop: resets its arena a and, when the
 * arena had grown past 256 KiB, hands the heap's free pages back to the
 * system (glibc's malloc_trim).
 */
void kiln__worker_end_request(kiln_arena *a);

/* The serve and status commands (src/cli/serve.c). */
int kiln__cmd_serve(kiln_app *app, int argc, char **argv);
int kiln__cmd_status(kiln_app *app, int argc, char **argv);

/*
 * Returns the value of option name at argv[*i] ("--x V" or "--x=V",
 * advancing *i past V), or NULL when argv[*i] is not that option.
 */
const char *kiln__opt_value(int argc, char **argv, int *i, const char *name);

/* Sets the owner and group of the unix socket at path (NULL: leave). */
int kiln__chown_socket(const char *path, const char *owner, const char *group,
    char *err, size_t errlen);

#endif /* KILN_SERVER_INT_H */
