/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Kiln's internal definitions shared between modules: the layouts of the
 * app, blueprint, request and response handles, and the internal
 * functions that the dispatcher, the transports and the test client use.
 * Never installed; users see only the opaque handles.
 */
#ifndef KILN_INT_H
#define KILN_INT_H

#include <setjmp.h>

#include <kiln/kiln.h>

#define KILN_ERRMSG_MAX 512

typedef struct kiln__router kiln__router;
typedef struct kiln__route kiln__route;
typedef struct kiln__settings kiln__settings;

/* A growable array of pointers in an arena. */
typedef struct kiln__ptrs {
	void **items; /* n entries */
	size_t n;     /* used */
	size_t cap;   /* allocated */
} kiln__ptrs;

kiln_err kiln__ptrs_push(kiln__ptrs *v, kiln_arena *a, void *p);

/* An error handler for one status. */
typedef struct kiln__errh {
	int status;		 /* 400-599 */
	kiln_errorhandler_fn fn; /* the handler */
} kiln__errh;

/* A route declared on a blueprint, replayed on each registration. */
typedef struct kiln__route_decl {
	const char *methods; /* "GET,POST" */
	const char *rule;    /* as given */
	bool regex;	     /* kiln_route_re */
	kiln_view_fn view;   /* the view */
	const char *name;    /* local name or NULL */
} kiln__route_decl;

struct kiln_bp {
	kiln_app *app;	     /* owner */
	const char *name;    /* "" for the root blueprint */
	const char *prefix;  /* "" or "/blog" */
	bool registered;     /* routes can no longer be declared */
	kiln__ptrs routes;   /* kiln__route_decl */
	kiln__ptrs before;   /* kiln_before_fn, wrapped in kiln__fnbox */
	kiln__ptrs after;    /* kiln_after_fn */
	kiln__ptrs teardown; /* kiln_teardown_fn */
	kiln__ptrs errh;     /* kiln__errh */
};

/* Function pointers cannot be stored in void *; a box holds one. */
typedef struct kiln__fnbox {
	void (*fn)(void); /* cast back to the real type at the call */
} kiln__fnbox;

/* One registration of a blueprint (a blueprint may be registered twice). */
typedef struct kiln__bpreg {
	kiln_bp *bp;	    /* the blueprint */
	const char *name;   /* registered name ("" for the root) */
	const char *prefix; /* registered prefix */
} kiln__bpreg;

/* Limits on requests, from settings (see src/core/app.c). */
typedef struct kiln__limits {
	size_t max_uri;	       /* REQUEST_URI bytes: over is 414 */
	size_t max_body;       /* body bytes: over is 413 */
	size_t max_fields;     /* query or form fields: over is 400 */
	size_t max_headers;    /* header count: over is 431 */
	size_t max_cookies;    /* cookies kept from the Cookie header */
	size_t max_json_depth; /* JSON nesting */
} kiln__limits;

struct kiln_app {
	char *name;		      /* the app's name */
	kiln_arena *a;		      /* app lifetime */
	char errmsg[KILN_ERRMSG_MAX]; /* last error */
	kiln_bp *root;		      /* the root blueprint */
	kiln__ptrs bpregs;	      /* kiln__bpreg */
	kiln__router *router;	      /* every route */
	kiln__ptrs middleware;	      /* kiln__fnbox of kiln_middleware_fn */
	kiln__ptrs signals;	      /* kiln_signal */
	kiln__ptrs exts;	      /* const kiln_ext */
	kiln__ptrs ext_data;	      /* parallel to exts */
	kiln__ptrs commands;	      /* const kiln_command */
	kiln__settings *settings;     /* definitions and values */
	kiln__limits limits;	      /* cached from settings */
	bool debug;		      /* app.debug */
	bool append_slash;	      /* app.append_slash */
	bool configured;	      /* kiln_app_configure ran */
	kiln_signal *sig_started;     /* request_started */
	kiln_signal *sig_finished;    /* request_finished */
	kiln_signal *sig_exception;   /* got_request_exception */
	struct kiln__board *board;    /* the pool's scoreboard (serve only) */
	const char *settings_path;    /* the file kiln_main configured from */
	char **argv;		      /* kiln_main's command line (for USR2) */
};

/* Lazily parsed parts of a request. */
enum {
	KILN__REQ_ARGS = 1 << 0,
	KILN__REQ_FORM = 1 << 1,
	KILN__REQ_COOKIES = 1 << 2,
	KILN__REQ_JSON = 1 << 3,
	KILN__REQ_HEADERS = 1 << 4,
};

struct kiln_req {
	kiln_app *app;		  /* the app */
	kiln_arena *a;		  /* request arena */
	kiln_kvs params;	  /* FastCGI/CGI params as received */
	kiln_str method;	  /* REQUEST_METHOD */
	kiln_str raw_uri;	  /* REQUEST_URI as sent */
	kiln_str path;		  /* percent-decoded path */
	kiln_str query;		  /* QUERY_STRING */
	kiln_str body;		  /* the request body */
	kiln_str remote_addr;	  /* REMOTE_ADDR */
	kiln_str scheme;	  /* http or https */
	kiln_str host;		  /* Host */
	kiln_kvs headers;	  /* "Content-Type" style names, on first use */
	unsigned parsed;	  /* KILN__REQ_* */
	kiln_kvs args;		  /* query args */
	kiln_kvs form;		  /* form fields */
	kiln_kvs cookies;	  /* cookies */
	kiln_val *json;		  /* JSON body */
	const kiln__route *route; /* matched route or NULL */
	const kiln__bpreg *bpreg; /* its blueprint registration */
	kiln_kvs route_args;	  /* converter values as text */
	kiln_kvs g;		  /* g: values are void * in val.ptr */
	jmp_buf *jmp;		  /* the dispatcher's, while it runs */
	int abort_status;	  /* status given to kiln_abort */
	char *errmsg;		  /* kiln_abort_msg text or NULL */
	char *trace;		  /* debug: backtrace at the abort, or NULL */
	size_t mw_index;	  /* next middleware to run */
};

struct kiln_resp {
	int status;	  /* HTTP status */
	kiln_kvs headers; /* in order; Content-Type included */
	kiln_buf body;	  /* the body */
	kiln_req *req;	  /* the request it answers */
};

/*
 * Fills req (zeroed, in arena a) from CGI params and a body: method, URI,
 * query, headers, remote address, scheme and host. Validation that can
 * fail with an HTTP status happens in the dispatcher, not here.
 */
kiln_err kiln__req_init(kiln_req *req, kiln_app *app, kiln_arena *a,
    const kiln_kvs *params, kiln_str body);

/*
 * Marks every signal idle again (signal.c). A receiver that aborted
 * unwound through kiln_signal_send, leaving its send counted as in
 * progress; between requests none is, so the dispatcher calls this
 * before each request.
 */
void kiln__signals_settle(kiln_app *app);

/*
 * Debug mode (debug.c): kiln__debug_capture records the backtrace of the
 * caller of kiln_abort in req->trace; kiln__debug_page builds the
 * technical error page for status (NULL when out of memory).
 */
void kiln__debug_capture(kiln_req *req);
kiln_resp *kiln__debug_page(kiln_req *req, int status);

/*
 * Unix seconds as a proleptic Gregorian date and time, UTC (value.c;
 * Howard Hinnant's days-from-civil inverted). days counts from
 * 1970-01-01. Used by JSON output of datetimes and the date filters.
 */
typedef struct kiln__date {
	int64_t year;	    /* 1970 */
	int mon, day;	    /* 1-12, 1-31 */
	int hour, min, sec; /* 0-23, 0-59, 0-59 */
	int64_t days;	    /* days since the epoch (floor) */
} kiln__date;
void kiln__date_from_unix(int64_t secs, kiln__date *out);

/*
 * Files (fs.c). kiln__file_read reads a whole regular file of at most max
 * bytes into a (NUL-terminated): KILN_OK, KILN_ENOTFOUND, KILN_ELIMIT,
 * KILN_ENOMEM or KILN_EIO; *mtime_ns (may be NULL) gets its mtime.
 * kiln__mkdir_parents creates the directories leading to path (mkdir -p
 * of its dirname; path is modified and restored). kiln__write_all writes
 * len bytes to fd. Both return 0 or -1 with errno.
 */
kiln_err kiln__file_read(kiln_arena *a, const char *path, size_t max,
    kiln_str *out, int64_t *mtime_ns);
int kiln__mkdir_parents(char *path);
int kiln__write_all(int fd, const void *p, size_t len);

/* Caches the core settings on app (limits, debug); called by configure. */
kiln_err kiln__app_settings_loaded(kiln_app *app);

/*
 * Logs msg with its place and aborts the process; the master respawns
 * a worker that dies this way (STYLE.md section 4).
 */
#define KILN_PANIC(msg) kiln__panic(__FILE__, __LINE__, (msg))
KILN_NORETURN void kiln__panic(const char *file, int line, const char *msg);

/* Sets app->errmsg (printf-like) and returns rc. */
kiln_err kiln__app_error(kiln_app *app, kiln_err rc, const char *fmt, ...)
    KILN_PRINTF(3, 4);

/*
 * Builds a request from CGI params and a body (both in arena a, owned by
 * the caller's arena) and dispatches it through the whole app, returning
 * the response (never NULL). limit_rc is a transport's verdict on the
 * request's size: KILN_OK, or KILN_ELIMIT when the body was over the limit
 * (the response is then a 413). Used by the worker and the test client.
 */
kiln_resp *kiln__handle(kiln_app *app, kiln_arena *a, const kiln_kvs *params,
    kiln_str body, kiln_err limit_rc);

/*
 * Writes resp's CGI header block ("Status: 200 OK\r\nName: v\r\n...\r\n")
 * into out. For HEAD the body is still counted in Content-Length.
 */
kiln_err kiln__resp_head(const kiln_resp *resp, kiln_buf *out);

/*
 * A text/html response whose body is the buffer body (taken over, not
 * copied), without aborting: error pages use it where an abort would
 * recurse. Returns NULL when out of memory.
 */
kiln_resp *kiln__resp_html(kiln_req *req, int status, const kiln_buf *body);

/* Returns the body to send for resp (empty for HEAD, 204 and 304). */
kiln_str kiln__resp_wire_body(const kiln_resp *resp);

/* settings.c */

/* Creates the empty settings store of an app, in a. NULL when out of memory. */
kiln__settings *kiln__settings_new(kiln_arena *a);

/*
 * Removes the definitions of defs (registered by kiln_settings_register
 * with this same table) again; used to undo a failed kiln_use().
 */
void kiln__settings_unregister(kiln_app *app, const kiln_setting_def *defs,
    size_t n);

/* ext.c */

/*
 * Calls every extension's init_worker in the order they were used (in a
 * worker, after fork). When one fails, the fini_worker of those already
 * initialised run (newest first) and its code is returned, with the
 * message on the app. Call kiln__exts_fini_worker only after KILN_OK.
 */
kiln_err kiln__exts_init_worker(kiln_app *app);

/*
 * Calls every extension's init_master in the order they were used (in the
 * serving master, before the first fork). Stops at the first failure and
 * returns its code, with the message on the app.
 */
kiln_err kiln__exts_init_master(kiln_app *app);

/* Calls every extension's fini_worker, newest first (worker exit). */
void kiln__exts_fini_worker(kiln_app *app);

/* signal.c: nothing internal; app.c uses the public kiln_signal_get(). */

#endif /* KILN_INT_H */
