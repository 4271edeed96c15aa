/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The stock raw libfcgi floor of the benchmark (issues 6 and 7): the
 * least a C program can do to answer TechEmpower's tests through libfcgi,
 * with libfcgi's own FCGX_Accept_r/FCGX_Finish_r loop and nothing else:
 * no framework, no routing table, no JSON encoder, no template engine.
 * plaintext and json are constant texts; db, queries, fortunes and
 * updates use hand-written MariaDB prepared statements (mysql_stmt_*,
 * prepared once per worker; the updates test's batched UPDATE once per
 * row count) and format their output with snprintf and a hand-written
 * HTML escape. It is what a framework built on libfcgi and
 * libmariadb cannot go below, so Kiln's ratio over it measures what
 * Kiln's own transport, dispatcher, ORM and templates cost or save.
 *
 *     floor SOCKET_PATH WORKERS [MYSQL_SOCKET USER PASSWORD DATABASE]
 *
 * With FLOOR_PLAIN_CLOSE=1 in the environment each worker reads the
 * request body to its end and detaches the connection before finishing
 * the request, so libfcgi closes it plainly instead of shutting it down
 * and waiting up to 2 s for nginx to close first: the variant issue 6
 * measured (bench/run's floor-close target).
 *
 * It creates the unix socket (mode 0666, loopback benchmarking only), forks
 * WORKERS processes that accept on it, and waits. Each worker connects
 * to the database (when one is given) after the fork. SIGTERM or SIGINT
 * to the parent stops the workers and removes the socket. bench/run
 * builds it with a plain cc command; it is not part of libkiln.
 */
#define _DEFAULT_SOURCE /* random, srandom */
#define _POSIX_C_SOURCE 200809L

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <mysql.h>

#define FLOOR_MAX_WORKERS 64

static volatile sig_atomic_t floor_stop;

/* The database of the workers (argv[3..6]), or NULL. */
static const char *db_sock, *db_user, *db_pass, *db_name;

#define WORLD_ROWS   10000
#define MAX_QUERIES  500
#define MAX_FORTUNES 64
#define MAX_MESSAGE  2048
#define MAX_UPDATES  16 /* batched UPDATEs kept prepared, by row count */

/* One worker's connection and statements, prepared once. */
static MYSQL *db;
static MYSQL_STMT *st_world, *st_fortune;

/*
 * The updates test's UPDATE ... CASE for n rows, prepared on first use
 * of each n. Only MAX_UPDATES counts are kept, so a client asking for
 * every count from 1 to 500 cannot pile up prepared statements on the
 * server; other counts are prepared, run and closed.
 */
static struct {
	int n;
	MYSQL_STMT *st;
} st_update[MAX_UPDATES];
static int nupdate;

/* The response body being built. */
static char *out;
static size_t out_len, out_cap;

static void
out_put(const char *s, size_t n)
{
	char *p;

	if (out_len + n > out_cap) {
		out_cap = (out_len + n) * 2;
		p = realloc(out, out_cap);
		if (p == NULL)
			_exit(1);
		out = p;
	}
	memcpy(out + out_len, s, n);
	out_len += n;
}

static void
out_int(long v)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%ld", v);

	out_put(b, (size_t)n);
}

static MYSQL_STMT *
prepare(const char *sql)
{
	MYSQL_STMT *st = mysql_stmt_init(db);

	if (st == NULL || mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		fprintf(stderr, "floor: prepare %s: %s\n", sql,
		    mysql_error(db));
		_exit(1);
	}
	return st;
}

/* Connects the worker and prepares the three statements. */
static void
db_open(void)
{
	db = mysql_init(NULL);
	if (db == NULL) {
		fprintf(stderr, "floor: mysql_init failed\n");
		_exit(1);
	}
	mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (mysql_real_connect(db, NULL, db_user, db_pass, db_name, 0, db_sock,
		CLIENT_FOUND_ROWS) == NULL) {
		fprintf(stderr, "floor: connect: %s\n", mysql_error(db));
		_exit(1);
	}
	st_world = prepare("SELECT id, randomNumber FROM world WHERE id = ?");
	st_fortune = prepare("SELECT id, message FROM fortune");
}

static int
random_id(void)
{
	return (int)(random() % WORLD_ROWS) + 1;
}

/* Reads world row id into *rnd; returns 0, or -1 on an error. */
static int
world_get(int id, int *rnd)
{
	MYSQL_BIND in, res[2];
	int rid = 0, r = -1;

	memset(&in, 0, sizeof(in));
	memset(res, 0, sizeof(res));
	in.buffer_type = MYSQL_TYPE_LONG;
	in.buffer = &id;
	res[0].buffer_type = MYSQL_TYPE_LONG;
	res[0].buffer = &rid;
	res[1].buffer_type = MYSQL_TYPE_LONG;
	res[1].buffer = rnd;
	if (mysql_stmt_bind_param(st_world, &in) != 0 ||
	    mysql_stmt_execute(st_world) != 0 ||
	    mysql_stmt_bind_result(st_world, res) != 0)
		return -1;
	if (mysql_stmt_fetch(st_world) == 0)
		r = 0;
	mysql_stmt_free_result(st_world);
	return r;
}

/*
 * Writes rnd[i] to row id[i] for i < n with one statement, as Django's
 * bulk_update does:
 *
 *   UPDATE world SET randomNumber = CASE WHEN id = ? THEN ? ...
 *   ELSE randomNumber END WHERE id IN (?, ...)
 *
 * An id given twice gets its first number (CASE takes the first match).
 * Returns 0, or -1 on an error.
 */
static int
world_set_all(int *id, int *rnd, int n)
{
	static char sql[96 + MAX_QUERIES * 26];
	static MYSQL_BIND in[3 * MAX_QUERIES];
	MYSQL_STMT *st = NULL;
	size_t len;
	int i, r = -1, kept = 0;

	for (i = 0; i < nupdate && st == NULL; i++)
		if (st_update[i].n == n) {
			st = st_update[i].st;
			kept = 1;
		}
	if (st == NULL) {
		len = (size_t)snprintf(sql, sizeof(sql),
		    "UPDATE world SET randomNumber = CASE");
		for (i = 0; i < n; i++)
			len += (size_t)snprintf(sql + len, sizeof(sql) - len,
			    " WHEN id = ? THEN ?");
		len += (size_t)snprintf(sql + len, sizeof(sql) - len,
		    " ELSE randomNumber END WHERE id IN (?");
		for (i = 1; i < n; i++)
			len += (size_t)snprintf(sql + len, sizeof(sql) - len,
			    ",?");
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, ")");
		if ((st = mysql_stmt_init(db)) == NULL)
			return -1;
		if (mysql_stmt_prepare(st, sql, len) != 0) {
			fprintf(stderr, "floor: prepare update: %s\n",
			    mysql_stmt_error(st));
			mysql_stmt_close(st);
			return -1;
		}
		if (nupdate < MAX_UPDATES) {
			st_update[nupdate].n = n;
			st_update[nupdate++].st = st;
			kept = 1;
		}
	}
	memset(in, 0, (size_t)(3 * n) * sizeof(in[0]));
	for (i = 0; i < n; i++) {
		in[2 * i].buffer_type = MYSQL_TYPE_LONG;
		in[2 * i].buffer = &id[i];
		in[2 * i + 1].buffer_type = MYSQL_TYPE_LONG;
		in[2 * i + 1].buffer = &rnd[i];
		in[2 * n + i].buffer_type = MYSQL_TYPE_LONG;
		in[2 * n + i].buffer = &id[i];
	}
	if (mysql_stmt_bind_param(st, in) == 0 && mysql_stmt_execute(st) == 0)
		r = 0;
	else
		fprintf(stderr, "floor: update: %s\n", mysql_stmt_error(st));
	if (!kept)
		mysql_stmt_close(st);
	return r;
}

/*
 * ?NAME=N (name is "queries=" or "count=") clamped to 1..MAX_QUERIES; 1
 * when missing or not a number.
 */
static int
query_count(FCGX_Request *r, const char *name)
{
	const char *q = FCGX_GetParam("QUERY_STRING", r->envp);
	const char *p;
	size_t len = strlen(name);
	long n;

	for (p = q; p != NULL && *p != '\0'; p++) {
		if ((p == q || p[-1] == '&') && strncmp(p, name, len) == 0) {
			n = strtol(p + len, NULL, 10);
			if (n < 1)
				return 1;
			return n > MAX_QUERIES ? MAX_QUERIES : (int)n;
		}
	}
	return 1;
}

/* Sends out[] with its headers; the body must be complete. */
static void
send_out(FCGX_Request *r, const char *type)
{
	char h[128];
	int n = snprintf(h, sizeof(h),
	    "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n", type, out_len);

	FCGX_PutStr(h, n, r->out);
	FCGX_PutStr(out, (int)out_len, r->out);
}

static void
send_error(FCGX_Request *r)
{
	static const char e[] = "Status: 500 Internal Server Error\r\n"
				"Content-Type: text/plain\r\n"
				"Content-Length: 9\r\n\r\ndb error\n";

	fprintf(stderr, "floor: %s\n", mysql_error(db));
	FCGX_PutStr(e, sizeof(e) - 1, r->out);
}

static void
world_json(int id, int rnd)
{
	out_put("{\"id\":", 6);
	out_int(id);
	out_put(",\"randomNumber\":", 16);
	out_int(rnd);
	out_put("}", 1);
}

static void
db_test(FCGX_Request *r)
{
	int id = random_id(), rnd;

	out_len = 0;
	if (world_get(id, &rnd) != 0)
		return send_error(r);
	world_json(id, rnd);
	send_out(r, "application/json");
}

/*
 * The queries test (update 0), and the updates test: the same N reads,
 * each row given a new number, then one batched UPDATE for all of them.
 */
static void
queries_test(FCGX_Request *r, int update)
{
	static int ids[MAX_QUERIES], rnds[MAX_QUERIES];
	int i, n = query_count(r, "queries=");

	out_len = 0;
	for (i = 0; i < n; i++) {
		ids[i] = random_id();
		if (world_get(ids[i], &rnds[i]) != 0)
			return send_error(r);
		if (update)
			rnds[i] = random_id();
	}
	if (update && world_set_all(ids, rnds, n) != 0)
		return send_error(r);
	out_put("[", 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			out_put(",", 1);
		world_json(ids[i], rnds[i]);
	}
	out_put("]", 1);
	send_out(r, "application/json");
}

/*
 * The cached-queries test: N random rows from this worker's copy of the
 * world table's randomNumbers, read with one query on first use.
 */
static void
cached_test(FCGX_Request *r)
{
	static int *cache;
	MYSQL_RES *res;
	MYSQL_ROW row;
	long id;
	int i, n = query_count(r, "count=");

	if (cache == NULL) {
		if ((cache = calloc(WORLD_ROWS + 1, sizeof(*cache))) == NULL ||
		    mysql_query(db, "SELECT id, randomNumber FROM world") !=
			0 ||
		    (res = mysql_store_result(db)) == NULL) {
			free(cache);
			cache = NULL;
			return send_error(r);
		}
		while ((row = mysql_fetch_row(res)) != NULL) {
			id = strtol(row[0], NULL, 10);
			if (id >= 1 && id <= WORLD_ROWS)
				cache[id] = (int)strtol(row[1], NULL, 10);
		}
		mysql_free_result(res);
	}
	out_len = 0;
	out_put("[", 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			out_put(",", 1);
		id = random_id();
		world_json((int)id, cache[id]);
	}
	out_put("]", 1);
	send_out(r, "application/json");
}

struct fortune {
	int id;
	unsigned long len;
	char msg[MAX_MESSAGE + 1];
};

static int
fortune_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fortune *)a)->msg,
	    ((const struct fortune *)b)->msg);
}

static void
out_escaped(const char *s, size_t n)
{
	size_t i, from = 0;
	const char *rep;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		out_put(s + from, i - from);
		out_put(rep, strlen(rep));
		from = i + 1;
	}
	out_put(s + from, n - from);
}

static void
fortunes_test(FCGX_Request *r)
{
	static struct fortune f[MAX_FORTUNES + 1];
	static const char extra[] = "Additional fortune added at request time.";
	static const char head[] =
	    "<!DOCTYPE html><html><head><title>Fortunes</title></head>"
	    "<body><table><tr><th>id</th><th>message</th></tr>";
	MYSQL_BIND res[2];
	int n = 0, i, rc;

	out_len = 0;
	memset(res, 0, sizeof(res));
	if (mysql_stmt_execute(st_fortune) != 0)
		return send_error(r);
	for (;;) {
		if (n == MAX_FORTUNES)
			break;
		res[0].buffer_type = MYSQL_TYPE_LONG;
		res[0].buffer = &f[n].id;
		res[1].buffer_type = MYSQL_TYPE_STRING;
		res[1].buffer = f[n].msg;
		res[1].buffer_length = MAX_MESSAGE;
		res[1].length = &f[n].len;
		if (mysql_stmt_bind_result(st_fortune, res) != 0)
			return send_error(r);
		rc = mysql_stmt_fetch(st_fortune);
		if (rc == MYSQL_NO_DATA)
			break;
		if (rc != 0 && rc != MYSQL_DATA_TRUNCATED) {
			mysql_stmt_free_result(st_fortune);
			return send_error(r);
		}
		if (f[n].len > MAX_MESSAGE)
			f[n].len = MAX_MESSAGE;
		f[n].msg[f[n].len] = '\0';
		n++;
	}
	mysql_stmt_free_result(st_fortune);
	f[n].id = 0;
	f[n].len = sizeof(extra) - 1;
	memcpy(f[n].msg, extra, sizeof(extra));
	n++;
	qsort(f, (size_t)n, sizeof(f[0]), fortune_cmp);
	out_put(head, sizeof(head) - 1);
	for (i = 0; i < n; i++) {
		out_put("<tr><td>", 8);
		out_int(f[i].id);
		out_put("</td><td>", 9);
		out_escaped(f[i].msg, f[i].len);
		out_put("</td></tr>", 10);
	}
	out_put("</table></body></html>", 22);
	send_out(r, "text/html; charset=utf-8");
}

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
	else if (db != NULL && uri != NULL && strcmp(uri, "/db") == 0)
		db_test(r);
	else if (db != NULL && uri != NULL && strcmp(uri, "/queries") == 0)
		queries_test(r, 0);
	else if (db != NULL && uri != NULL && strcmp(uri, "/updates") == 0)
		queries_test(r, 1);
	else if (db != NULL && uri != NULL && strcmp(uri, "/fortunes") == 0)
		fortunes_test(r);
	else if (db != NULL && uri != NULL &&
	    strcmp(uri, "/cached-queries") == 0)
		cached_test(r);
	else
		FCGX_PutStr(nf, sizeof(nf) - 1, r->out);
}

/* A worker: libfcgi's stock loop until the parent stops it. */
static void
worker(int sock)
{
	FCGX_Request r;
	const char *pc = getenv("FLOOR_PLAIN_CLOSE");
	int plain_close = pc != NULL && strcmp(pc, "1") == 0;
	char sink[512];
	sigset_t none;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	if (db_sock != NULL)
		db_open();
	if (FCGX_InitRequest(&r, sock, 0) != 0)
		_exit(1);
	while (FCGX_Accept_r(&r) >= 0) {
		answer(&r);
		if (plain_close) {
			while (FCGX_GetStr(sink, sizeof(sink), r.in) > 0)
				;
			FCGX_Detach(&r);
		}
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

	if ((argc != 3 && argc != 7) || (n = atoi(argv[2])) < 1 ||
	    n > FLOOR_MAX_WORKERS) {
		fprintf(stderr,
		    "usage: floor SOCKET_PATH WORKERS (1-%d) "
		    "[MYSQL_SOCKET USER PASSWORD DATABASE]\n",
		    FLOOR_MAX_WORKERS);
		return 2;
	}
	if (argc == 7) {
		db_sock = argv[3];
		db_user = argv[4];
		db_pass = argv[5];
		db_name = argv[6];
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
