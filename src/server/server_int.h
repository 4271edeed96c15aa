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

#include <kiln/kiln.h>

#include "kiln_int.h"

/* The outcome of waiting for a request. */
typedef enum kiln__next_rc {
	KILN__NEXT_REQUEST, /* *params and *body are filled: dispatch it */
	KILN__NEXT_TOOBIG,  /* params filled, body over max_body: answer 413 */
	KILN__NEXT_STOP,    /* the worker is asked to stop: return */
	KILN__NEXT_AGAIN,   /* nothing usable (bad peer, timeout): call again */
} kiln__next_rc;

/* Settings a transport needs, read once before the workers fork. */
typedef struct kiln__transport_cfg {
	int listen_fd;             /* the listening socket, shared by workers */
	size_t max_body;           /* bytes */
	size_t max_params_bytes;   /* total PARAMS bytes per request */
	size_t max_params;         /* PARAMS pairs per request */
	int64_t header_timeout_ms; /* time to receive params */
	int64_t body_min_rate;     /* bytes per second a body must keep up */
	int64_t write_timeout_ms;  /* time to write a response */
	int64_t idle_timeout_ms;   /* keep-conn idle time */
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
	kiln__next_rc (*next)(void *st, kiln_arena *a, kiln_kvs *params,
	    kiln_str *body);
	/* Writes the response (CGI header block, body) and ends the request. */
	kiln_err (*respond)(void *st, kiln_str head, kiln_str body);
	/* Releases the state (closes any connection). */
	void (*fini)(void *st);
} kiln__transport_ops;

extern const kiln__transport_ops kiln__transport_native;
extern const kiln__transport_ops kiln__transport_libfcgi;

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

/*
 * Runs the prefork master: forks workers that each run the worker loop
 * over the transport, respawns those that die, stops on TERM/INT.
 * Returns the exit status.
 */
int kiln__serve(kiln_app *app, int listen_fd, int workers,
    const kiln__transport_ops *tp, const kiln__transport_cfg *cfg);

/* The worker loop: runs until asked to stop. Returns the exit status. */
int kiln__worker_run(kiln_app *app, const kiln__transport_ops *tp,
    const kiln__transport_cfg *cfg);

#endif /* KILN_SERVER_INT_H */
