/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * `APP serve` and `APP status`. serve gets the listening socket (from
 * systemd socket activation, from the master it replaces on USR2, or by
 * creating it), maps the scoreboard, optionally detaches, and runs the
 * master. status asks a running pool for its status page over FastCGI,
 * as nginx would, so it works wherever the socket is reachable.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <kiln/kiln.h>

#include "kiln_int.h"
#include "server_int.h"

static const kiln__transport_ops *
find_transport(const char *name)
{
	if (strcmp(name, "native") == 0)
		return &kiln__transport_native;
	if (strcmp(name, "libfcgi") == 0)
		return &kiln__transport_libfcgi;
	return NULL;
}

int
kiln__chown_socket(const char *path, const char *owner, const char *group,
    char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;

	if (owner != NULL && *owner != '\0') {
		pw = getpwnam(owner);
		if (pw == NULL) {
			snprintf(err, errlen,
			    "server.socket_owner: no user '%s'", owner);
			return -1;
		}
		uid = pw->pw_uid;
	}
	if (group != NULL && *group != '\0') {
		gr = getgrnam(group);
		if (gr == NULL) {
			snprintf(err, errlen,
			    "server.socket_group: no group "
			    "'%s'",
			    group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    chown(path, uid, gid) != 0) {
		snprintf(err, errlen, "chown %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * An fd handed over by systemd (*systemd set: the socket is systemd's, not
 * ours to remove) or by the master we replace, or -1.
 */
static int
inherited_fd(pid_t *old_master, bool *systemd)
{
	const char *s;
	int64_t v;
	int fd = -1;

	*old_master = 0;
	*systemd = false;
	s = getenv("LISTEN_PID");
	if (s != NULL && kiln_str_to_i64(kiln_str_c(s), &v) == KILN_OK &&
	    v == getpid()) {
		s = getenv("LISTEN_FDS");
		if (s != NULL &&
		    kiln_str_to_i64(kiln_str_c(s), &v) == KILN_OK && v >= 1)
			fd = 3; /* SD_LISTEN_FDS_START */
		*systemd = fd >= 0;
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
		return fd;
	}
	s = getenv("KILN_INHERIT_FD");
	if (s != NULL && kiln_str_to_i64(kiln_str_c(s), &v) == KILN_OK &&
	    v >= 0 && v < INT_MAX)
		fd = (int)v;
	s = getenv("KILN_OLD_MASTER");
	if (s != NULL && kiln_str_to_i64(kiln_str_c(s), &v) == KILN_OK && v > 1)
		*old_master = (pid_t)v;
	unsetenv("KILN_INHERIT_FD");
	unsetenv("KILN_OLD_MASTER");
	return fd;
}

static bool
write_pidfile(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;

	/* Write then rename, so a reader never sees a half-written file. */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return false;
	f = fopen(tmp, "w");
	if (f == NULL) {
		fprintf(stderr, "kiln: pidfile %s: %s\n", tmp, strerror(errno));
		return false;
	}
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "kiln: pidfile %s: %s\n", path,
		    strerror(errno));
		return false;
	}
	return true;
}

/*
 * Detaches: the parent waits until the child has written the pidfile
 * (reported through a pipe) and exits with 0, so `serve --daemon`
 * returns only once the pool is up.
 */
static int
daemonize(int *ready_fd)
{
	int fds[2];
	char c;
	pid_t pid;

	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(fds[1]);
		_exit(read(fds[0], &c, 1) == 1 ? 0 : 1);
	}
	close(fds[0]);
	setsid();
	*ready_fd = fds[1];
	return 0;
}

/* Redirects stdin to /dev/null and stderr to the log file (if any). */
static int
redirect_stdio(const char *log_file)
{
	int fd;

	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		if (log_file == NULL || *log_file == '\0')
			dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	if (log_file == NULL || *log_file == '\0')
		return 0;
	fd = open(log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0) {
		fprintf(stderr, "kiln: log file %s: %s\n", log_file,
		    strerror(errno));
		return -1;
	}
	dup2(fd, STDERR_FILENO);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	return 0;
}

/* Creates the socket from settings (mode, owner, group, backlog). */
static int
make_socket(kiln_app *app, const char *listen)
{
	const char *mode_s = kiln_setting_str(app, "server.socket_mode");
	char err[KILN_ERRMSG_MAX];
	const char *path;
	long mode;
	char *end;
	int fd;

	errno = 0;
	mode = strtol(mode_s, &end, 8);
	if (errno != 0 || *end != '\0' || mode < 0 || mode > 0777) {
		fprintf(stderr,
		    "serve: server.socket_mode must be octal, got "
		    "'%s'\n",
		    mode_s);
		return -1;
	}
	fd = kiln__listen(listen, (int)mode,
	    (int)kiln_setting_int(app, "server.backlog"), err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "serve: %s\n", err);
		return -1;
	}
	path = strncmp(listen, "unix:", 5) == 0 ? listen + 5 :
	    listen[0] == '/'			? listen :
						  NULL;
	if (path != NULL &&
	    kiln__chown_socket(path,
		kiln_setting_str(app, "server.socket_owner"),
		kiln_setting_str(app, "server.socket_group"), err,
		sizeof(err)) != 0) {
		fprintf(stderr, "serve: %s\n", err);
		close(fd);
		return -1;
	}
	return fd;
}

/* The path of a unix listen spec ("unix:/p", "/p"), or NULL for TCP. */
static const char *
spec_path(const char *listen)
{
	if (strncmp(listen, "unix:", 5) == 0)
		return listen + 5;
	if (listen[0] == '/' || listen[0] == '.')
		return listen;
	return NULL;
}

/* The path a listening unix socket is bound to (in app's arena), or NULL. */
static const char *
bound_path(kiln_app *app, int fd)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);

	memset(&sun, 0, sizeof(sun));
	if (getsockname(fd, (struct sockaddr *)&sun, &len) != 0 ||
	    sun.sun_family != AF_UNIX || sun.sun_path[0] == '\0')
		return NULL;
	return kiln_arena_strndup(app->a, sun.sun_path,
	    strnlen(sun.sun_path, sizeof(sun.sun_path)));
}

/*
 * The control socket's path: server.control_socket, or the unix socket's
 * path + ".ctl"; NULL when there is none (TCP without the setting).
 */
static const char *
ctl_path(kiln_app *app, const char *sock_path)
{
	const char *p = kiln_setting_str(app, "server.control_socket");

	if (p != NULL && *p != '\0')
		return strcmp(p, "off") == 0 ? NULL : p;
	if (sock_path == NULL)
		return NULL;
	return kiln_arena_printf(app->a, "%s.ctl", sock_path);
}

/*
 * Creates the control socket at path (mode 0600). It belongs to this
 * master: a leftover one, or the one of the master this one replaces on
 * USR2, is taken over. Returns the fd or -1 (then status falls back to
 * asking a worker).
 */
static int
make_ctl(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr,
		    "serve: control socket path %s is too long; "
		    "status will ask a worker\n",
		    path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(path, 0600) != 0 || listen(fd, 8) != 0) {
		fprintf(stderr, "serve: control socket %s: %s\n", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The path of the running binary, for USR2 (resolved now, exec'd later). */
static const char *
self_exe(kiln_app *app)
{
	char buf[PATH_MAX];
	ssize_t n;

	n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return app->argv != NULL ? app->argv[0] : NULL;
	buf[n] = '\0';
	return kiln_arena_strdup(app->a, buf);
}

int
kiln__cmd_serve(kiln_app *app, int argc, char **argv)
{
	const kiln__transport_ops *tp;
	kiln__transport_cfg cfg;
	kiln__pool_cfg pc;
	kiln__board *board;
	const char *listen = kiln_setting_str(app, "server.listen");
	const char *transport = kiln_setting_str(app, "server.transport");
	const char *v, *ctl = NULL, *sock_path = NULL;
	int64_t workers = kiln_setting_int(app, "server.workers");
	bool daemon = kiln_setting_bool(app, "server.daemon"), upgraded = false;
	bool systemd, owns_socket = false, wrote_pidfile = false;
	int i, fd, rc = 1, ready_fd = -1;

	memset(&pc, 0, sizeof(pc));
	pc.pidfile = kiln_setting_str(app, "server.pidfile");
	pc.log_file = kiln_setting_str(app, "server.log_file");
	for (i = 1; i < argc; i++) {
		if ((v = kiln__opt_value(argc, argv, &i, "--listen")) != NULL)
			listen = v;
		else if ((v = kiln__opt_value(argc, argv, &i, "--workers")) !=
		    NULL) {
			if (kiln_str_to_i64(kiln_str_c(v), &workers) !=
				KILN_OK ||
			    workers < 1 || workers > 512) {
				fprintf(stderr,
				    "serve: --workers takes 1 to "
				    "512, got '%s'\n",
				    v);
				return 2;
			}
		} else if ((v = kiln__opt_value(argc, argv, &i, "--pidfile")) !=
		    NULL)
			pc.pidfile = v;
		else if ((v = kiln__opt_value(argc, argv, &i, "--transport")) !=
		    NULL)
			transport = v;
		else if ((v = kiln__opt_value(argc, argv, &i, "--log-file")) !=
		    NULL)
			pc.log_file = v;
		else if (strcmp(argv[i], "--daemon") == 0)
			daemon = true;
		else {
			fprintf(stderr, "serve: unknown option '%s'\n",
			    argv[i]);
			return 2;
		}
	}
	tp = find_transport(transport);
	if (tp == NULL) {
		fprintf(stderr,
		    "serve: server.transport must be native or "
		    "libfcgi, got '%s'\n",
		    transport);
		return 2;
	}
	kiln__pool_cfg_load(app, &pc);
	pc.workers = (int)workers;
	pc.exe = self_exe(app);
	pc.argv = app->argv;
	fd = inherited_fd(&pc.old_master, &systemd);
	if (pc.old_master > 0)
		daemon = false; /* an upgrade runs where the old master ran */
	/*
	 * The socket is ours to remove at the end when this master made it,
	 * or when it took it over from the master it replaced (USR2) and
	 * served; never when systemd made it.
	 */
	if (fd < 0) {
		fd = make_socket(app, listen);
		owns_socket = fd >= 0;
	}
	if (fd < 0)
		return 1;
	sock_path = bound_path(app, fd);
	pc.ctl_fd = -1;
	/* Shared by the master and every worker; outlives every arena. */
	board = mmap(NULL, sizeof(*board), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (board == MAP_FAILED) {
		fprintf(stderr, "serve: mmap: %s\n", strerror(errno));
		board = NULL;
		goto out;
	}
	board->listen_fd = fd;
	if (kiln__transport_cfg_load(app, fd, &cfg) != KILN_OK ||
	    kiln__status_register(app, board) != KILN_OK ||
	    kiln__exts_init_master(app) != KILN_OK) {
		fprintf(stderr, "serve: %s\n", kiln_app_errmsg(app));
		goto out;
	}
	ctl = ctl_path(app, sock_path);
	pc.ctl_fd = ctl != NULL ? make_ctl(ctl) : -1;
	if (daemon && daemonize(&ready_fd) != 0) {
		fprintf(stderr, "serve: cannot detach: %s\n", strerror(errno));
		goto out;
	}
	if ((daemon || (pc.log_file != NULL && *pc.log_file != '\0')) &&
	    redirect_stdio(pc.log_file) != 0)
		goto out;
	if (pc.pidfile != NULL && *pc.pidfile != '\0') {
		if (!write_pidfile(pc.pidfile))
			goto out;
		wrote_pidfile = true;
	}
	if (ready_fd >= 0) {
		(void)write(ready_fd, "r", 1);
		close(ready_fd);
	}
	rc = kiln__serve(app, board, &pc, tp, &cfg, &upgraded);
	owns_socket = !systemd;
out:
	if (pc.ctl_fd >= 0) {
		close(pc.ctl_fd);
		if (!upgraded)
			unlink(ctl);
	}
	if (!upgraded && owns_socket && sock_path != NULL)
		unlink(sock_path);
	if (!upgraded && wrote_pidfile)
		unlink(pc.pidfile);
	close(fd);
	if (board != NULL)
		munmap(board, sizeof(*board));
	return rc;
}

/* Appends one FastCGI name-value pair (1- or 4-byte lengths). */
static void
put_pair(kiln_buf *b, const char *name, const char *value)
{
	size_t lens[2] = { strlen(name), strlen(value) };
	unsigned char l[4];
	int i;

	for (i = 0; i < 2; i++) {
		if (lens[i] < 128) {
			l[0] = (unsigned char)lens[i];
			kiln_buf_append(b, l, 1);
		} else {
			l[0] = (unsigned char)(0x80 | ((lens[i] >> 24) & 0x7f));
			l[1] = (unsigned char)(lens[i] >> 16);
			l[2] = (unsigned char)(lens[i] >> 8);
			l[3] = (unsigned char)lens[i];
			kiln_buf_append(b, l, 4);
		}
	}
	kiln_buf_append_c(b, name);
	kiln_buf_append_c(b, value);
}

/* Appends a record header for content of len bytes. */
static void
put_header(kiln_buf *b, int type, size_t len)
{
	unsigned char h[8] = { 1, (unsigned char)type, 0, 1,
		(unsigned char)(len >> 8), (unsigned char)len, 0, 0 };

	kiln_buf_append(b, h, sizeof(h));
}

/* Connects to a unix path or host:port. Returns the fd or -1. */
static int
dial(const char *spec)
{
	struct sockaddr_un sun;
	struct addrinfo hints, *res, *ai;
	char host[256];
	const char *path = NULL, *colon;
	int fd = -1;

	if (strncmp(spec, "unix:", 5) == 0)
		path = spec + 5;
	else if (spec[0] == '/' || spec[0] == '.')
		path = spec;
	if (path != NULL) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(path) >= sizeof(sun.sun_path))
			return -1;
		memcpy(sun.sun_path, path, strlen(path));
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd >= 0 &&
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
			close(fd);
			fd = -1;
		}
		return fd;
	}
	colon = strrchr(spec, ':');
	snprintf(host, sizeof(host), "%.*s",
	    colon != NULL ? (int)(colon - spec) : 0, spec);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host[0] != '\0' ? host : "127.0.0.1",
		colon != NULL ? colon + 1 : spec, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/*
 * Sends one GET for uri to the pool at spec and collects the STDOUT
 * stream into out (CGI headers and body). Returns 0, or -1 on a
 * connection failure or after 5 s without an answer.
 */
static int
fcgi_get(kiln_arena *a, const char *spec, const char *uri, kiln_buf *out)
{
	static const unsigned char begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
	unsigned char h[8];
	struct pollfd pfd;
	kiln_buf req, params;
	const char *q = strchr(uri, '?');
	char buf[65536 + 256];
	size_t have = 0, clen, rlen;
	ssize_t n;
	int fd, rc = -1;

	kiln_buf_init(&params, a, 256);
	put_pair(&params, "REQUEST_METHOD", "GET");
	put_pair(&params, "REQUEST_URI", uri);
	put_pair(&params, "QUERY_STRING", q != NULL ? q + 1 : "");
	put_pair(&params, "REMOTE_ADDR", "127.0.0.1");
	put_pair(&params, "SERVER_PROTOCOL", "HTTP/1.1");
	put_pair(&params, "HTTP_HOST", "localhost");
	kiln_buf_init(&req, a, 512);
	put_header(&req, 1, sizeof(begin));
	kiln_buf_append(&req, begin, sizeof(begin));
	put_header(&req, 4, params.len);
	kiln_buf_append(&req, params.ptr, params.len);
	put_header(&req, 4, 0);
	put_header(&req, 5, 0);
	if (req.oom || params.oom)
		return -1;
	fd = dial(spec);
	if (fd < 0)
		return -1;
	if (write(fd, req.ptr, req.len) != (ssize_t)req.len)
		goto out;
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, 5000) <= 0)
			goto out;
		n = read(fd, buf + have, sizeof(buf) - have);
		if (n <= 0)
			goto out;
		have += (size_t)n;
		while (have >= 8) {
			memcpy(h, buf, 8);
			clen = ((size_t)h[4] << 8) | h[5];
			rlen = 8 + clen + h[6];
			if (have < rlen)
				break;
			if (h[1] == 6)
				kiln_buf_append(out, buf + 8, clen);
			else if (h[1] == 3) {
				rc = out->oom ? -1 : 0;
				goto out;
			}
			memmove(buf, buf + rlen, have - rlen);
			have -= rlen;
		}
	}
out:
	close(fd);
	return rc;
}

/*
 * Asks the master over its control socket and prints the answer.
 * Returns 0, or -1 when there is no answer (no such socket, no master).
 */
static int
ctl_status(kiln_app *app, const char *path, bool json)
{
	struct pollfd pfd;
	kiln_buf out;
	char buf[4096];
	ssize_t n;
	int fd;

	if (path == NULL)
		return -1;
	fd = dial(path);
	if (fd < 0)
		return -1;
	kiln_buf_init(&out, app->a, 4096);
	if (write(fd, json ? "status json\n" : "status\n", json ? 12 : 7) < 0) {
		close(fd);
		return -1;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, 5000) == 1 && (n = read(fd, buf, sizeof(buf))) > 0)
		kiln_buf_append(&out, buf, (size_t)n);
	close(fd);
	if (out.len == 0 || out.oom)
		return -1;
	fwrite(out.ptr, 1, out.len, stdout);
	return 0;
}

int
kiln__cmd_status(kiln_app *app, int argc, char **argv)
{
	const char *listen = kiln_setting_str(app, "server.listen");
	const char *path = kiln_setting_str(app, "status.path");
	const char *v, *body, *uri;
	bool json = false;
	kiln_buf out;
	int i;

	for (i = 1; i < argc; i++) {
		if ((v = kiln__opt_value(argc, argv, &i, "--listen")) != NULL)
			listen = v;
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else {
			fprintf(stderr, "status: unknown option '%s'\n",
			    argv[i]);
			return 2;
		}
	}
	if (ctl_status(app, ctl_path(app, spec_path(listen)), json) == 0)
		return 0;
	if (path == NULL || *path == '\0') {
		fprintf(stderr,
		    "status: no control socket and status.path is "
		    "empty\n");
		return 1;
	}
	uri =
	    kiln_arena_printf(app->a, "%s%s", path, json ? "?format=json" : "");
	kiln_buf_init(&out, app->a, 4096);
	if (uri == NULL || fcgi_get(app->a, listen, uri, &out) != 0) {
		fprintf(stderr, "status: no answer from the pool at %s\n",
		    listen);
		return 1;
	}
	if (strncmp(out.ptr, "Status: 200", 11) != 0) {
		fprintf(stderr, "status: the pool answered: %.*s\n",
		    (int)strcspn(out.ptr, "\r\n"), out.ptr);
		return 1;
	}
	body = strstr(out.ptr, "\r\n\r\n");
	fputs(body != NULL ? body + 4 : "", stdout);
	if (json)
		fputc('\n', stdout);
	return 0;
}
