/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Tests of settings: registration, the INI file (through temporary files
 * under /tmp), every type and its errors, application sections, the
 * environment overrides and their aliases, masking, and libinih's limits.
 * Each test runs in its own process (Check forks), so setenv() in one
 * cannot leak into another.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include <kiln/kiln.h>

#include "kiln_int.h"
#include "suites.h"

static const kiln_setting_def demo_defs[] = {
	{ "demo.name", KILN_SETTING_STR, "kiln", 0, 0, "a name" },
	{ "demo.password", KILN_SETTING_SECRET, NULL, 0, 0, "a secret" },
	{ "demo.workers", KILN_SETTING_INT, "2", 1, 512, "workers" },
	{ "demo.offset", KILN_SETTING_INT, "0", -100, 100, "signed" },
	{ "demo.flag", KILN_SETTING_BOOL, "false", 0, 0, "a switch" },
	{ "demo.max_body", KILN_SETTING_SIZE, "1m", 0, 0, "bytes" },
	{ "demo.small", KILN_SETTING_SIZE, "1k", 1, 4096, "few bytes" },
	{ "demo.timeout", KILN_SETTING_SECONDS, "5s", 1, 0, "a wait" },
	{ "demo.db-url", KILN_SETTING_STR, NULL, 0, 0, "a URL" },
	{ "demo.sub.key", KILN_SETTING_STR, NULL, 0, 0, "nested section" },
};

#define NDEMO (sizeof(demo_defs) / sizeof(demo_defs[0]))

/* The 12-factor targets that the core table may or may not define. */
static const kiln_setting_def alias_defs[] = {
	{ "database.url", KILN_SETTING_STR, NULL, 0, 0, "database" },
	{ "redis.url", KILN_SETTING_SECRET, NULL, 0, 0, "redis" },
};

/* A fresh app with the demo table and none of the variables we read. */
static kiln_app *
new_app(void)
{
	static const char *const vars[] = { "DATABASE_URL", "REDIS_URL",
		"SECRET_KEY", "DEBUG", "KILN_APP_DEBUG", "KILN_DEMO_WORKERS",
		"KILN_DEMO_NAME", "KILN_DEMO_DB_URL", "KILN_DEMO_SUB_KEY" };
	kiln_app *app;
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	app = kiln_app_new("test");
	ck_assert_ptr_nonnull(app);
	ck_assert_int_eq(kiln_settings_register(app, demo_defs, NDEMO),
	    KILN_OK);
	return app;
}

/* Writes len bytes of text to a new file under /tmp; its name in path. */
static void
ini_file(char path[64], const char *text, size_t len)
{
	int fd;

	snprintf(path, 64, "/tmp/kiln-settings-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* Configures app from text; returns the result. */
static kiln_err
configure_text(kiln_app *app, const char *text, char path[64])
{
	kiln_err rc;

	ini_file(path, text, strlen(text));
	rc = kiln_app_configure(app, path);
	unlink(path);
	return rc;
}

/* Asserts that configuring from text fails with "<path>:<want>". */
static void
config_fails(const char *text, const char *want)
{
	kiln_app *app = new_app();
	char path[64], msg[KILN_ERRMSG_MAX];

	ck_assert_int_eq(configure_text(app, text, path), KILN_ECONFIG);
	snprintf(msg, sizeof(msg), "%s:%s", path, want);
	ck_assert_str_eq(kiln_app_errmsg(app), msg);
	kiln_app_free(app);
}

START_TEST(test_settings_defaults)
{
	kiln_app *app = new_app();

	ck_assert_int_eq(kiln_app_configure(app, NULL), KILN_OK);
	ck_assert_str_eq(kiln_setting_str(app, "demo.name"), "kiln");
	ck_assert_int_eq(kiln_setting_int(app, "demo.workers"), 2);
	ck_assert(!kiln_setting_bool(app, "demo.flag"));
	ck_assert_int_eq(kiln_setting_int(app, "demo.max_body"), 1048576);
	ck_assert_int_eq(kiln_setting_int(app, "demo.timeout"), 5000);
	ck_assert_ptr_null(kiln_setting_str(app, "demo.db-url"));
	ck_assert_ptr_null(kiln_setting_str(app, "demo.password"));
	kiln_app_free(app);
}
END_TEST

START_TEST(test_settings_mistyped_getters)
{
	kiln_app *app = new_app();

	ck_assert_int_eq(kiln_app_configure(app, NULL), KILN_OK);
	ck_assert_int_eq(kiln_setting_int(app, "nope.nothing"), 0);
	ck_assert(!kiln_setting_bool(app, "nope.nothing"));
	ck_assert_ptr_null(kiln_setting_str(app, "nope.nothing"));
	ck_assert_int_eq(kiln_setting_int(app, "demo.name"), 0);
	ck_assert_int_eq(kiln_setting_int(app, "demo.flag"), 0);
	ck_assert(!kiln_setting_bool(app, "demo.workers"));
	ck_assert_int_eq(kiln_setting_int(app, NULL), 0);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_settings_file_every_type)
{
	kiln_app *app = new_app();
	char path[64];

	ck_assert_int_eq(configure_text(app,
			     "; a comment\n"
			     "# another\n"
			     "[demo]\n"
			     "name = My Site\n"
			     "password = hunter2\n"
			     "workers = 16\n"
			     "offset = -5\n"
			     "flag = Yes\n"
			     "max_body = 10k\n"
			     "small = 4K\n"
			     "timeout = 250ms\n"
			     "\n"
			     "[demo.sub]\n"
			     "key = nested\n",
			     path),
	    KILN_OK);
	ck_assert_str_eq(kiln_setting_str(app, "demo.name"), "My Site");
	ck_assert_str_eq(kiln_setting_str(app, "demo.password"), "hunter2");
	ck_assert_int_eq(kiln_setting_int(app, "demo.workers"), 16);
	ck_assert_int_eq(kiln_setting_int(app, "demo.offset"), -5);
	ck_assert(kiln_setting_bool(app, "demo.flag"));
	ck_assert_int_eq(kiln_setting_int(app, "demo.max_body"), 10240);
	ck_assert_int_eq(kiln_setting_int(app, "demo.small"), 4096);
	ck_assert_int_eq(kiln_setting_int(app, "demo.timeout"), 250);
	ck_assert_str_eq(kiln_setting_str(app, "demo.workers"), "16");
	ck_assert_str_eq(kiln_setting_str(app, "demo.sub.key"), "nested");
	kiln_app_free(app);
}
END_TEST

START_TEST(test_settings_size_and_seconds_units)
{
	static const struct {
		const char *name, *text;
		int64_t want;
	} cases[] = {
		{ "demo.max_body", "512", 512 },
		{ "demo.max_body", "2m", 2 * 1024 * 1024 },
		{ "demo.max_body", "2M", 2 * 1024 * 1024 },
		{ "demo.max_body", "3g", 3LL * 1024 * 1024 * 1024 },
		{ "demo.max_body", " 7k ", 7 * 1024 },
		{ "demo.timeout", "30", 30000 },
		{ "demo.timeout", "30s", 30000 },
		{ "demo.timeout", "2m", 120000 },
		{ "demo.timeout", "1h", 3600000 },
		{ "demo.timeout", "1500MS", 1500 },
	};
	kiln_app *app = new_app();
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(kiln_setting_set(app, cases[i].name,
				     cases[i].text),
		    KILN_OK);
		ck_assert_int_eq(kiln_setting_int(app, cases[i].name),
		    cases[i].want);
	}
	kiln_app_free(app);
}
END_TEST

START_TEST(test_settings_bool_spellings)
{
	static const char *const yes[] = { "true", "TRUE", "yes", "Yes", "on",
		"ON", "1" };
	static const char *const no[] = { "false", "False", "no", "NO", "off",
		"Off", "0" };
	kiln_app *app = new_app();
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		ck_assert_int_eq(kiln_setting_set(app, "demo.flag", yes[i]),
		    KILN_OK);
		ck_assert(kiln_setting_bool(app, "demo.flag"));
		ck_assert_int_eq(kiln_setting_set(app, "demo.flag", no[i]),
		    KILN_OK);
		ck_assert(!kiln_setting_bool(app, "demo.flag"));
	}
	ck_assert_int_eq(kiln_setting_set(app, "demo.flag", "maybe"),
	    KILN_ECONFIG);
	ck_assert_str_eq(kiln_app_errmsg(app),
	    "demo.flag: expected true or false (or yes/no, on/off, 1/0), got "
	    "'maybe'");
	ck_assert_int_eq(kiln_setting_set(app, "demo.flag", "2"), KILN_ECONFIG);
	ck_assert(!kiln_setting_bool(app, "demo.flag"));
	kiln_app_free(app);
}
END_TEST

START_TEST(test_settings_int_range_errors)
{
	config_fails("[demo]\nworkers = lots\n",
	    "2: demo.workers: expected an integer from 1 to 512, got 'lots'");
	config_fails("[demo]\nname = x\nworkers = 513\n",
	    "3: demo.workers: expected an integer from 1 to 512, got '513'");
	config_fails("[demo]\nworkers = 0\n",
	    "2: demo.workers: expected an integer from 1 to 512, got '0'");
	config_fails("[demo]\noffset = -101\n",
	    "2: demo.offset: expected an integer from -100 to 100, got "
	    "'-101'");
	config_fails("[demo]\nworkers = 99999999999999999999\n",
	    "2: demo.workers: expected an integer from 1 to 512, got "
	    "'99999999999999999999'");
	config_fails("[demo]\nworkers = 3x\n",
	    "2: demo.workers: expected an integer from 1 to 512, got '3x'");
}
END_TEST

START_TEST(test_settings_size_seconds_errors)
{
	config_fails("[demo]\nsmall = 5k\n",
	    "2: demo.small: expected a size in bytes (suffix k, m or g "
	    "allowed) from 1 to 4k, got '5k'");
	config_fails("[demo]\nmax_body = 5x\n",
	    "2: demo.max_body: expected a size in bytes (suffix k, m or g "
	    "allowed), got '5x'");
	config_fails("[demo]\nmax_body = 99999999999g\n",
	    "2: demo.max_body: expected a size in bytes (suffix k, m or g "
	    "allowed), got '99999999999g'");
	config_fails("[demo]\nmax_body = -1\n",
	    "2: demo.max_body: expected a size in bytes (suffix k, m or g "
	    "allowed), got '-1'");
	config_fails("[demo]\ntimeout = 1.5s\n",
	    "2: demo.timeout: expected a duration in seconds (suffix ms, s, "
	    "m or h allowed) of at least 1ms, got '1.5s'");
	config_fails("[demo]\ntimeout = 0\n",
	    "2: demo.timeout: expected a duration in seconds (suffix ms, s, "
	    "m or h allowed) of at least 1ms, got '0'");
	config_fails("[demo]\ntimeout = 2 days\n",
	    "2: demo.timeout: expected a duration in seconds (suffix ms, s, "
	    "m or h allowed) of at least 1ms, got '2 days'");
}
END_TEST

START_TEST(test_settings_unknown_key)
{
	config_fails("[demo]\nwokers = 3\n",
	    "2: demo.wokers: unknown setting (did you mean demo.workers?)");
	config_fails("[demo]\n\nzzzzzz = 3\n",
	    "3: demo.zzzzzz: unknown setting");
	config_fails("[DEMO]\nworkers = 3\n",
	    "2: DEMO.workers: unknown section [DEMO] (section names are case "
	    "sensitive)");
}
END_TEST

START_TEST(test_settings_key_outside_section)
{
	config_fails("\n\nworkers = 3\n[demo]\n", "3: key outside a section");
}
END_TEST

START_TEST(test_settings_syntax_errors)
{
	config_fails("[demo\nworkers = 3\n",
	    "1: syntax error (expected [section], key = value, or a "
	    "comment)");
	config_fails("[demo]\nworkers = 3\njust words\nworkers = x\n",
	    "3: syntax error (expected [section], key = value, or a "
	    "comment)");
	/* The first error wins, whichever kind it is. */
	config_fails("[demo]\nworkers = x\njust words\n",
	    "2: demo.workers: expected an integer from 1 to 512, got 'x'");
}
END_TEST

START_TEST(test_settings_set_twice_and_continuation)
{
	config_fails("[demo]\nname = a\n\nname = b\n",
	    "4: demo.name: set twice (first on line 2)");
	config_fails("[demo]\nname = a\n  workers = 4\n",
	    "3: indented line continues the value of demo.name: values are "
	    "one line (remove the indentation)");
	/* An indented section header would also be swallowed by libinih. */
	config_fails("[demo]\nname = a\n  [other]\n",
	    "3: indented line continues the value of demo.name: values are "
	    "one line (remove the indentation)");
}
END_TEST

START_TEST(test_settings_indented_first_key)
{
	kiln_app *app = new_app();
	char path[64];

	/* Only a line after a key continues it; a first key may be indented. */
	ck_assert_int_eq(configure_text(app, "[demo]\n  workers = 4\n", path),
	    KILN_OK);
	ck_assert_int_eq(kiln_setting_int(app, "demo.workers"), 4);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_settings_app_sections)
{
	kiln_app *app = new_app();
	char path[64];

	ck_assert_int_eq(configure_text(app,
			     "[mysite]\n"
			     "title = Hello, world\n"
			     "items_per_page = 20\n"
			     "comment = a ;trailing comment\n"
			     "semi = a;b\n"
			     "colon: yes\n",
			     path),
	    KILN_OK);
	ck_assert_str_eq(kiln_setting_str(app, "mysite.title"), "Hello, world");
	ck_assert_str_eq(kiln_setting_str(app, "mysite.items_per_page"), "20");
	/* Unregistered settings are text: the typed getters give 0. */
	ck_assert_int_eq(kiln_setting_int(app, "mysite.items_per_page"), 0);
	/* libinih: " ;" starts an inline comment, ";" alone does not. */
	ck_assert_str_eq(kiln_setting_str(app, "mysite.comment"), "a");
	ck_assert_str_eq(kiln_setting_str(app, "mysite.semi"), "a;b");
	ck_assert_str_eq(kiln_setting_str(app, "mysite.colon"), "yes");
	kiln_app_free(app);
}
END_TEST

START_TEST(test_settings_bom_and_crlf)
{
	kiln_app *app = new_app();
	char path[64];

	ck_assert_int_eq(configure_text(app,
			     "\xEF\xBB\xBF[demo]\r\nworkers = 9\r\n"
			     "name = crlf\r\n",
			     path),
	    KILN_OK);
	ck_assert_int_eq(kiln_setting_int(app, "demo.workers"), 9);
	ck_assert_str_eq(kiln_setting_str(app, "demo.name"), "crlf");
	kiln_app_free(app);
}
END_TEST

START_TEST(test_settings_long_line)
{
	char text[512], path[64], msg[KILN_ERRMSG_MAX];
	kiln_app *app = new_app();
	size_t n;

	/* 197 bytes ("v = " and 193 x) is the longest line libinih reads. */
	n = (size_t)snprintf(text, sizeof(text), "[mysite]\r\nv = ");
	memset(text + n, 'x', 193);
	memcpy(text + n + 193, "\r\n", 3);
	ck_assert_int_eq(configure_text(app, text, path), KILN_OK);
	ck_assert_uint_eq(strlen(kiln_setting_str(app, "mysite.v")), 193);
	kiln_app_free(app);

	app = new_app();
	n = (size_t)snprintf(text, sizeof(text), "[mysite]\nv = ");
	memset(text + n, 'x', 194);
	memcpy(text + n + 194, "\nw = 1\n", 8);
	ck_assert_int_eq(configure_text(app, text, path), KILN_ECONFIG);
	snprintf(msg, sizeof(msg),
	    "%s:2: line is 198 bytes long; libinih reads at most 197", path);
	ck_assert_str_eq(kiln_app_errmsg(app), msg);
	ck_assert_ptr_null(kiln_setting_str(app, "mysite.v"));
	kiln_app_free(app);
}
END_TEST

START_TEST(test_settings_long_section_and_nul)
{
	char path[64], msg[KILN_ERRMSG_MAX];
	static const char nul[] = "[demo]\nname = a\0b\n";
	kiln_app *app;

	config_fails("[a123456789b123456789c123456789d123456789e1234567890]\n"
		     "x = 1\n",
	    "1: section name is over 49 bytes");
	app = new_app();
	ini_file(path, nul, sizeof(nul) - 1);
	ck_assert_int_eq(kiln_app_configure(app, path), KILN_ECONFIG);
	unlink(path);
	snprintf(msg, sizeof(msg), "%s:2: NUL byte in the line", path);
	ck_assert_str_eq(kiln_app_errmsg(app), msg);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_settings_missing_file)
{
	kiln_app *app = new_app();

	ck_assert_int_eq(kiln_app_configure(app, "/nonexistent/kiln.ini"),
	    KILN_ECONFIG);
	ck_assert_str_eq(kiln_app_errmsg(app),
	    "open /nonexistent/kiln.ini: No such file or directory");
	ck_assert_int_eq(kiln_app_configure(app, "/tmp"), KILN_ECONFIG);
	ck_assert_str_eq(kiln_app_errmsg(app), "read /tmp: Is a directory");
	kiln_app_free(app);
}
END_TEST

START_TEST(test_settings_env_overrides)
{
	kiln_app *app = new_app();
	char path[64];

	setenv("KILN_DEMO_WORKERS", "7", 1);
	setenv("KILN_DEMO_NAME", "from env", 1);
	setenv("KILN_DEMO_DB_URL", "sqlite:///tmp/x.db", 1);
	setenv("KILN_DEMO_SUB_KEY", "deep", 1);
	ck_assert_int_eq(configure_text(app,
			     "[demo]\nworkers = 3\nname = file\nflag = on\n",
			     path),
	    KILN_OK);
	ck_assert_int_eq(kiln_setting_int(app, "demo.workers"), 7);
	ck_assert_str_eq(kiln_setting_str(app, "demo.name"), "from env");
	ck_assert_str_eq(kiln_setting_str(app, "demo.db-url"),
	    "sqlite:///tmp/x.db");
	ck_assert_str_eq(kiln_setting_str(app, "demo.sub.key"), "deep");
	ck_assert(kiln_setting_bool(app, "demo.flag"));

	/* The environment is read at each configure; empty is unset. */
	unsetenv("KILN_DEMO_NAME");
	setenv("KILN_DEMO_WORKERS", "", 1);
	ck_assert_int_eq(kiln_app_configure(app, NULL), KILN_OK);
	ck_assert_int_eq(kiln_setting_int(app, "demo.workers"), 3);
	ck_assert_str_eq(kiln_setting_str(app, "demo.name"), "file");
	kiln_app_free(app);
}
END_TEST

/* Registers the alias targets the core table does not already define. */
static void
register_aliases(kiln_app *app)
{
	size_t i;
	kiln_err rc;

	for (i = 0; i < sizeof(alias_defs) / sizeof(alias_defs[0]); i++) {
		rc = kiln_settings_register(app, &alias_defs[i], 1);
		ck_assert(rc == KILN_OK || rc == KILN_EEXIST);
	}
}

START_TEST(test_settings_env_aliases)
{
	kiln_app *app = new_app();

	register_aliases(app);
	setenv("DATABASE_URL", "mysql://u:pw@db/site", 1);
	setenv("REDIS_URL", "unix:///tmp/redis.sock", 1);
	setenv("SECRET_KEY", "s3cr3t-from-env", 1);
	setenv("DEBUG", "on", 1);
	ck_assert_int_eq(kiln_app_configure(app, NULL), KILN_OK);
	ck_assert_str_eq(kiln_setting_str(app, "database.url"),
	    "mysql://u:pw@db/site");
	ck_assert_str_eq(kiln_setting_str(app, "redis.url"),
	    "unix:///tmp/redis.sock");
	ck_assert_str_eq(kiln_setting_str(app, "app.secret_key"),
	    "s3cr3t-from-env");
	ck_assert(kiln_setting_bool(app, "app.debug"));

	/* The KILN_ name is more specific and wins over the alias. */
	setenv("KILN_APP_DEBUG", "false", 1);
	ck_assert_int_eq(kiln_app_configure(app, NULL), KILN_OK);
	ck_assert(!kiln_setting_bool(app, "app.debug"));
	kiln_app_free(app);
}
END_TEST

START_TEST(test_settings_env_bad_values)
{
	kiln_app *app = new_app();

	setenv("KILN_DEMO_WORKERS", "lots", 1);
	ck_assert_int_eq(kiln_app_configure(app, NULL), KILN_ECONFIG);
	ck_assert_str_eq(kiln_app_errmsg(app),
	    "KILN_DEMO_WORKERS: demo.workers: expected an integer from 1 to "
	    "512, got 'lots'");
	unsetenv("KILN_DEMO_WORKERS");
	setenv("DEBUG", "maybe", 1);
	ck_assert_int_eq(kiln_app_configure(app, NULL), KILN_ECONFIG);
	ck_assert_str_eq(kiln_app_errmsg(app),
	    "DEBUG: app.debug: expected true or false (or yes/no, on/off, "
	    "1/0), got 'maybe'");
	kiln_app_free(app);
}
END_TEST

#define SEEN_MAX 256

/* Records what kiln_settings_each shows, for the tests below. */
typedef struct seen {
	char names[SEEN_MAX][80]; /* names in visit order */
	char shown[SEEN_MAX][80]; /* what was shown */
	size_t n;		  /* visits */
} seen;

static void
visit(const char *name, const char *shown, void *data)
{
	seen *s = data;

	if (s->n < SEEN_MAX) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
		snprintf(s->shown[s->n], sizeof(s->shown[0]), "%s", shown);
	}
	s->n++;
}

/* Returns what was shown for name, or NULL when it was not visited. */
static const char *
shown_for(const seen *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n && i < SEEN_MAX; i++) {
		if (strcmp(s->names[i], name) == 0)
			return s->shown[i];
	}
	return NULL;
}

START_TEST(test_settings_env_alias_needs_registration)
{
	kiln_app *app = new_app();
	seen *s = calloc(1, sizeof(*s));
	bool registered;

	/* Whether the core defines redis.url or not, the alias follows. */
	ck_assert_ptr_nonnull(s);
	kiln_settings_each(app, visit, s);
	registered = shown_for(s, "redis.url") != NULL;
	setenv("REDIS_URL", "unix:///tmp/r.sock", 1);
	ck_assert_int_eq(kiln_app_configure(app, NULL), KILN_OK);
	if (registered)
		ck_assert_str_eq(kiln_setting_str(app, "redis.url"),
		    "unix:///tmp/r.sock");
	else
		ck_assert_ptr_null(kiln_setting_str(app, "redis.url"));
	memset(s, 0, sizeof(*s));
	kiln_settings_each(app, visit, s);
	ck_assert(registered == (shown_for(s, "redis.url") != NULL));
	free(s);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_settings_each_masks_secrets)
{
	kiln_app *app = new_app();
	seen *s = calloc(1, sizeof(*s));
	char path[64];

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(configure_text(app,
			     "[demo]\n"
			     "password = hunter2\n"
			     "db-url = mysql://user:pw@db:3306/x?a=b\n"
			     "[mysite]\n"
			     "api_token = abc\n"
			     "title = hi\n",
			     path),
	    KILN_OK);
	kiln_settings_each(app, visit, s);
	ck_assert_str_eq(shown_for(s, "demo.password"), "********");
	ck_assert_str_eq(shown_for(s, "mysite.api_token"), "********");
	ck_assert_str_eq(shown_for(s, "mysite.title"), "hi");
	ck_assert_str_eq(shown_for(s, "demo.db-url"),
	    "mysql://user:********@db:3306/x?a=b");
	ck_assert_str_eq(shown_for(s, "demo.workers"), "2");
	/* Unset shows as empty; the secret's text is still readable. */
	ck_assert_str_eq(shown_for(s, "demo.sub.key"), "");
	ck_assert_str_eq(kiln_setting_str(app, "demo.password"), "hunter2");

	memset(s, 0, sizeof(*s));
	ck_assert_int_eq(kiln_setting_set(app, "demo.password", ""), KILN_OK);
	kiln_settings_each(app, visit, s);
	ck_assert_str_eq(shown_for(s, "demo.password"), "");
	free(s);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_settings_each_in_name_order)
{
	kiln_app *app = new_app();
	seen *s = calloc(1, sizeof(*s));
	size_t i;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(kiln_setting_set(app, "aaa.first", "1"), KILN_OK);
	ck_assert_int_eq(kiln_setting_set(app, "zzz.last", "1"), KILN_OK);
	kiln_settings_each(app, visit, s);
	ck_assert_uint_ge(s->n, NDEMO + 2);
	ck_assert_uint_le(s->n, SEEN_MAX);
	ck_assert_str_eq(s->names[0], "aaa.first");
	ck_assert_str_eq(s->names[s->n - 1], "zzz.last");
	for (i = 1; i < s->n; i++)
		ck_assert_int_lt(strcmp(s->names[i - 1], s->names[i]), 0);
	free(s);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_settings_register_errors)
{
	static const kiln_setting_def bad_default[] = {
		{ "x.n", KILN_SETTING_INT, "ten", 0, 0, "" },
	};
	static const kiln_setting_def bad_name[] = {
		{ "nodot", KILN_SETTING_STR, NULL, 0, 0, "" },
	};
	static const kiln_setting_def bad_range[] = {
		{ "x.r", KILN_SETTING_INT, NULL, 10, 5, "" },
	};
	static const kiln_setting_def twice[] = {
		{ "x.a", KILN_SETTING_STR, NULL, 0, 0, "" },
		{ "x.a", KILN_SETTING_STR, NULL, 0, 0, "" },
	};
	kiln_app *app = new_app();

	ck_assert_int_eq(kiln_settings_register(app, demo_defs, 1),
	    KILN_EEXIST);
	ck_assert_str_eq(kiln_app_errmsg(app),
	    "setting demo.name is defined twice");
	ck_assert_int_eq(kiln_settings_register(app, twice, 2), KILN_EEXIST);
	ck_assert_ptr_null(kiln_setting_str(app, "x.a"));
	ck_assert_int_eq(kiln_settings_register(app, bad_default, 1),
	    KILN_EINVAL);
	ck_assert_str_eq(kiln_app_errmsg(app), "x.n: bad default 'ten'");
	ck_assert_int_eq(kiln_settings_register(app, bad_name, 1), KILN_EINVAL);
	ck_assert_int_eq(kiln_settings_register(app, bad_range, 1),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_app_configure(app, NULL), KILN_OK);
	ck_assert_int_eq(kiln_settings_register(app, alias_defs, 1),
	    KILN_EINVAL);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_settings_set_checks)
{
	static const kiln_setting_def late[] = {
		{ "late.count", KILN_SETTING_INT, "1", 0, 10, "" },
	};
	kiln_app *app = new_app();

	ck_assert_int_eq(kiln_setting_set(app, "demo.workers", "600"),
	    KILN_ECONFIG);
	ck_assert_str_eq(kiln_app_errmsg(app),
	    "demo.workers: expected an integer from 1 to 512, got '600'");
	ck_assert_int_eq(kiln_setting_set(app, "demo.nope", "1"), KILN_ECONFIG);
	ck_assert_int_eq(kiln_setting_set(app, "nodot", "1"), KILN_ECONFIG);
	ck_assert_str_eq(kiln_app_errmsg(app),
	    "nodot: not of the form section.key");
	/* A value set before its section is registered is adopted. */
	ck_assert_int_eq(kiln_setting_set(app, "late.count", "7"), KILN_OK);
	ck_assert_int_eq(kiln_setting_int(app, "late.count"), 0);
	ck_assert_int_eq(kiln_settings_register(app, late, 1), KILN_OK);
	ck_assert_int_eq(kiln_setting_int(app, "late.count"), 7);
	/* NULL clears the value back to the default. */
	ck_assert_int_eq(kiln_setting_set(app, "late.count", NULL), KILN_OK);
	ck_assert_int_eq(kiln_setting_int(app, "late.count"), 1);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_settings_orphan_after_registration)
{
	static const kiln_setting_def late[] = {
		{ "late.count", KILN_SETTING_INT, "1", 0, 10, "" },
	};
	kiln_app *app = new_app();

	ck_assert_int_eq(kiln_setting_set(app, "late.cuont", "7"), KILN_OK);
	ck_assert_int_eq(kiln_settings_register(app, late, 1), KILN_OK);
	ck_assert_int_eq(kiln_app_configure(app, NULL), KILN_ECONFIG);
	ck_assert_str_eq(kiln_app_errmsg(app), "late.cuont: unknown setting");
	kiln_app_free(app);
}
END_TEST

START_TEST(test_settings_core_limits_cached)
{
	kiln_app *app = new_app();
	char path[64];

	ck_assert_int_eq(configure_text(app,
			     "[limits]\nmax_body = 2m\n[app]\ndebug = yes\n",
			     path),
	    KILN_OK);
	ck_assert_int_eq(kiln_setting_int(app, "limits.max_body"),
	    2 * 1024 * 1024);
	ck_assert_uint_eq(app->limits.max_body, 2 * 1024 * 1024);
	ck_assert(app->debug);
	ck_assert(app->configured);
	kiln_app_free(app);
}
END_TEST

/* PATH values in a file are relative to the file; the environment's are not. */
START_TEST(test_settings_paths_relative_to_file)
{
	kiln_app *app = new_app();
	char path[64], want[128];

	ck_assert_int_eq(configure_text(app,
			     "[server]\nlog_file = logs/site.log\n"
			     "pidfile = /run/x.pid\n[app]\n"
			     "static_dir = a:/abs/b::c\n",
			     path),
	    KILN_OK);
	/* mkstemp made the file in /tmp, so relative means /tmp/... */
	ck_assert_str_eq(kiln_setting_str(app, "server.log_file"),
	    "/tmp/logs/site.log");
	ck_assert_str_eq(kiln_setting_str(app, "server.pidfile"), "/run/x.pid");
	snprintf(want, sizeof(want), "/tmp/a:/abs/b::/tmp/c");
	ck_assert_str_eq(kiln_setting_str(app, "app.static_dir"), want);
	kiln_app_free(app);
	app = new_app();
	setenv("KILN_SERVER_LOG_FILE", "rel.log", 1);
	ck_assert_int_eq(kiln_app_configure(app, NULL), KILN_OK);
	ck_assert_str_eq(kiln_setting_str(app, "server.log_file"), "rel.log");
	unsetenv("KILN_SERVER_LOG_FILE");
	kiln_app_free(app);
}
END_TEST

Suite *
settings_suite(void)
{
	Suite *s = suite_create("settings");
	TCase *tc = tcase_create("settings");

	tcase_add_test(tc, test_settings_defaults);
	tcase_add_test(tc, test_settings_paths_relative_to_file);
	tcase_add_test(tc, test_settings_mistyped_getters);
	tcase_add_test(tc, test_settings_file_every_type);
	tcase_add_test(tc, test_settings_size_and_seconds_units);
	tcase_add_test(tc, test_settings_bool_spellings);
	tcase_add_test(tc, test_settings_int_range_errors);
	tcase_add_test(tc, test_settings_size_seconds_errors);
	tcase_add_test(tc, test_settings_unknown_key);
	tcase_add_test(tc, test_settings_key_outside_section);
	tcase_add_test(tc, test_settings_syntax_errors);
	tcase_add_test(tc, test_settings_set_twice_and_continuation);
	tcase_add_test(tc, test_settings_indented_first_key);
	tcase_add_test(tc, test_settings_app_sections);
	tcase_add_test(tc, test_settings_bom_and_crlf);
	tcase_add_test(tc, test_settings_long_line);
	tcase_add_test(tc, test_settings_long_section_and_nul);
	tcase_add_test(tc, test_settings_missing_file);
	tcase_add_test(tc, test_settings_env_overrides);
	tcase_add_test(tc, test_settings_env_aliases);
	tcase_add_test(tc, test_settings_env_alias_needs_registration);
	tcase_add_test(tc, test_settings_env_bad_values);
	tcase_add_test(tc, test_settings_each_masks_secrets);
	tcase_add_test(tc, test_settings_each_in_name_order);
	tcase_add_test(tc, test_settings_register_errors);
	tcase_add_test(tc, test_settings_set_checks);
	tcase_add_test(tc, test_settings_orphan_after_registration);
	tcase_add_test(tc, test_settings_core_limits_cached);
	suite_add_tcase(s, tc);
	return s;
}
