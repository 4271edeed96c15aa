/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * kiln_main(): the management commands every Kiln application binary
 * has (serve, routes, check, help), plus those that extensions and the
 * application register. Global option: --settings FILE (or the
 * KILN_SETTINGS environment variable), accepted anywhere on the line.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <kiln/kiln.h>

#include "kiln_int.h"
#include "router_int.h"
#include "server_int.h"

static int cmd_serve(kiln_app *app, int argc, char **argv);
static int cmd_routes(kiln_app *app, int argc, char **argv);
static int cmd_check(kiln_app *app, int argc, char **argv);
static int cmd_help(kiln_app *app, int argc, char **argv);

static const kiln_command builtin[] = {
	{ "serve", "[--listen SPEC] [--workers N] [--pidfile FILE] "
		   "[--transport native|libfcgi]",
	    "run the prefork FastCGI pool in the foreground", cmd_serve },
	{ "routes", "", "list every route with its methods and name",
	    cmd_routes },
	{ "check", "", "validate the settings and print them (secrets masked)",
	    cmd_check },
	{ "help", "", "list the commands", cmd_help },
};

#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))

/* Returns the value of option name at argv[*i] ("--x V" or "--x=V"). */
static const char *
opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

static const kiln__transport_ops *
find_transport(const char *name)
{
	if (strcmp(name, "native") == 0)
		return &kiln__transport_native;
	if (strcmp(name, "libfcgi") == 0)
		return &kiln__transport_libfcgi;
	return NULL;
}

static bool
write_pidfile(const char *path)
{
	FILE *f;

	f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "kiln: pidfile %s: %s\n", path, strerror(errno));
		return false;
	}
	fprintf(f, "%d\n", (int)getpid());
	return fclose(f) == 0;
}

static int
cmd_serve(kiln_app *app, int argc, char **argv)
{
	const kiln__transport_ops *tp;
	kiln__transport_cfg cfg;
	const char *listen = kiln_setting_str(app, "server.listen");
	const char *pidfile = kiln_setting_str(app, "server.pidfile");
	const char *transport = kiln_setting_str(app, "server.transport");
	const char *v, *mode_s;
	int64_t workers = kiln_setting_int(app, "server.workers");
	char err[KILN_ERRMSG_MAX];
	long mode;
	int i, fd, rc;

	for (i = 1; i < argc; i++) {
		if ((v = opt_value(argc, argv, &i, "--listen")) != NULL)
			listen = v;
		else if ((v = opt_value(argc, argv, &i, "--workers")) != NULL) {
			if (kiln_str_to_i64(kiln_str_c(v), &workers) != KILN_OK ||
			    workers < 1 || workers > 512) {
				fprintf(stderr, "serve: --workers takes 1 to "
				    "512, got '%s'\n", v);
				return 2;
			}
		} else if ((v = opt_value(argc, argv, &i, "--pidfile")) != NULL)
			pidfile = v;
		else if ((v = opt_value(argc, argv, &i, "--transport")) != NULL)
			transport = v;
		else {
			fprintf(stderr, "serve: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	tp = find_transport(transport);
	if (tp == NULL) {
		fprintf(stderr, "serve: server.transport must be native or "
		    "libfcgi, got '%s'\n", transport);
		return 2;
	}
	mode_s = kiln_setting_str(app, "server.socket_mode");
	errno = 0;
	mode = strtol(mode_s, NULL, 8);
	if (errno != 0 || mode < 0 || mode > 0777) {
		fprintf(stderr, "serve: server.socket_mode must be octal, got "
		    "'%s'\n", mode_s);
		return 2;
	}
	fd = kiln__listen(listen, (int)mode,
	    (int)kiln_setting_int(app, "server.backlog"), err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "serve: %s\n", err);
		return 1;
	}
	if (pidfile != NULL && *pidfile != '\0' && !write_pidfile(pidfile))
		return 1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.listen_fd = fd;
	cfg.max_body = app->limits.max_body;
	cfg.max_params = (size_t)kiln_setting_int(app, "fcgi.max_params");
	cfg.max_params_bytes =
	    (size_t)kiln_setting_int(app, "fcgi.max_params_bytes");
	cfg.header_timeout_ms = kiln_setting_int(app, "fcgi.header_timeout");
	cfg.body_min_rate = kiln_setting_int(app, "fcgi.body_min_rate");
	cfg.write_timeout_ms = kiln_setting_int(app, "fcgi.write_timeout");
	cfg.idle_timeout_ms = kiln_setting_int(app, "fcgi.idle_timeout");
	rc = kiln__serve(app, fd, (int)workers, tp, &cfg);
	close(fd);
	if (strncmp(listen, "unix:", 5) == 0)
		unlink(listen + 5);
	else if (listen[0] == '/')
		unlink(listen);
	if (pidfile != NULL && *pidfile != '\0')
		unlink(pidfile);
	return rc;
}

static void
print_route(const char *methods, const char *rule, const char *endpoint,
    void *data)
{
	(void)data;
	printf("%-24s %-20s %s\n", rule, methods,
	    endpoint != NULL ? endpoint : "-");
}

static int
cmd_routes(kiln_app *app, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("%-24s %-20s %s\n", "RULE", "METHODS", "NAME");
	kiln__router_each(app->router, print_route, NULL);
	return 0;
}

static void
print_setting(const char *name, const char *shown, void *data)
{
	(void)data;
	printf("%s = %s\n", name, shown != NULL ? shown : "");
}

static int
cmd_check(kiln_app *app, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	kiln_settings_each(app, print_setting, NULL);
	printf("check: settings are valid\n");
	return 0;
}

static void
print_cmd(const kiln_command *c)
{
	printf("  %-16s %s\n  %-16s   %s\n", c->name, c->help, "", c->usage);
}

static int
cmd_help(kiln_app *app, int argc, char **argv)
{
	size_t i;

	(void)argc;
	printf("usage: %s [--settings FILE] COMMAND [options]\n\ncommands:\n",
	    argv != NULL && argv[0] != NULL ? app->name : "app");
	for (i = 0; i < NBUILTIN; i++)
		print_cmd(&builtin[i]);
	for (i = 0; i < app->commands.n; i++)
		print_cmd(app->commands.items[i]);
	return 0;
}

static const kiln_command *
find_command(const kiln_app *app, const char *name)
{
	const kiln_command *c;
	size_t i;

	for (i = 0; i < app->commands.n; i++) {
		c = app->commands.items[i];
		if (strcmp(c->name, name) == 0)
			return c;
	}
	for (i = 0; i < NBUILTIN; i++) {
		if (strcmp(builtin[i].name, name) == 0)
			return &builtin[i];
	}
	return NULL;
}

int
kiln_main(kiln_app *app, int argc, char **argv)
{
	const kiln_command *cmd;
	const char *settings = getenv("KILN_SETTINGS");
	const char *v;
	char **args;
	int i, n = 0, rc;

	if (app == NULL) {
		fprintf(stderr, "kiln: no app (out of memory?)\n");
		return 1;
	}
	/* Take --settings out wherever it is; the rest goes to the command. */
	args = kiln_arena_calloc(app->a, (size_t)argc + 1, sizeof(*args));
	if (args == NULL)
		return 1;
	for (i = 1; i < argc; i++) {
		if ((v = opt_value(argc, argv, &i, "--settings")) != NULL)
			settings = v;
		else
			args[n++] = argv[i];
	}
	if (n == 0 || strcmp(args[0], "--help") == 0 ||
	    strcmp(args[0], "-h") == 0)
		return cmd_help(app, n, argv);
	cmd = find_command(app, args[0]);
	if (cmd == NULL) {
		fprintf(stderr, "%s: unknown command '%s' (try 'help')\n",
		    app->name, args[0]);
		return 2;
	}
	if (kiln_app_configure(app, settings) != KILN_OK) {
		fprintf(stderr, "%s: %s\n", app->name, kiln_app_errmsg(app));
		return 1;
	}
	rc = cmd->run(app, n, args);
	fflush(stdout);
	return rc;
}
