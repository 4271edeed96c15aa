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

static int cmd_routes(kiln_app *app, int argc, char **argv);
static int cmd_check(kiln_app *app, int argc, char **argv);
static int cmd_help(kiln_app *app, int argc, char **argv);

static const kiln_command builtin[] = {
	{ "serve",
	    "[--listen SPEC] [--workers N] [--pidfile FILE] "
	    "[--transport native|libfcgi] [--daemon] [--log-file FILE]",
	    "run the prefork FastCGI pool", kiln__cmd_serve },
	{ "status", "[--listen SPEC] [--json]",
	    "print the running pool's status", kiln__cmd_status },
	{ "routes", "", "list every route with its methods and name",
	    cmd_routes },
	{ "check", "", "validate the settings and print them (secrets masked)",
	    cmd_check },
	{ "help", "", "list the commands", cmd_help },
};

#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))

const char *
kiln__opt_value(int argc, char **argv, int *i, const char *name)
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
		if ((v = kiln__opt_value(argc, argv, &i, "--settings")) != NULL)
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
	app->settings_path = settings;
	app->argv = argv;
	if (kiln_app_configure(app, settings) != KILN_OK) {
		fprintf(stderr, "%s: %s\n", app->name, kiln_app_errmsg(app));
		return 1;
	}
	rc = cmd->run(app, n, args);
	fflush(stdout);
	return rc;
}
