/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Tests of signals (connect, dedup, sender filter, disconnect, changes
 * made from inside a send) and of extensions (ABI and name checks, per-app
 * data, commands, settings, rollback of a failed init_app, and the worker
 * hooks' order).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <check.h>

#include <kiln/kiln.h>

#include "kiln_int.h"
#include "suites.h"

/* What receivers saw: calls in order, as short tags. */
typedef struct trace {
	char log[128];	     /* tags appended by receivers */
	const void *sender;  /* last sender seen */
	void *args;	     /* last args seen */
	kiln_signal *victim; /* for the receivers that disconnect */
} trace;

static void
tag(trace *t, const char *s)
{
	size_t n = strlen(t->log);

	snprintf(t->log + n, sizeof(t->log) - n, "%s", s);
}

static void
rx_a(const kiln_signal *sig, const void *sender, void *args, void *data)
{
	trace *t = data;

	(void)sig;
	t->sender = sender;
	t->args = args;
	tag(t, "a");
}

static void
rx_b(const kiln_signal *sig, const void *sender, void *args, void *data)
{
	(void)sig;
	(void)sender;
	(void)args;
	tag(data, "b");
}

static void
rx_c(const kiln_signal *sig, const void *sender, void *args, void *data)
{
	(void)sig;
	(void)sender;
	(void)args;
	tag(data, "c");
}

/* Disconnects itself and rx_c during the send. */
static void
rx_quitter(const kiln_signal *sig, const void *sender, void *args, void *data)
{
	trace *t = data;

	(void)sig;
	(void)sender;
	(void)args;
	tag(t, "q");
	ck_assert_int_eq(kiln_signal_disconnect(t->victim, rx_quitter, NULL, t),
	    KILN_OK);
	ck_assert_int_eq(kiln_signal_disconnect(t->victim, rx_c, NULL, t),
	    KILN_OK);
}

/* Connects rx_b during the send. */
static void
rx_connector(const kiln_signal *sig, const void *sender, void *args, void *data)
{
	trace *t = data;

	(void)sig;
	(void)sender;
	(void)args;
	tag(t, "n");
	ck_assert_int_eq(kiln_signal_connect(t->victim, rx_b, NULL, t),
	    KILN_OK);
}

/* Sends the signal again from inside a send, once. */
static void
rx_nester(const kiln_signal *sig, const void *sender, void *args, void *data)
{
	trace *t = data;

	(void)sig;
	(void)args;
	tag(t, "[");
	if (sender == NULL)
		ck_assert_uint_eq(kiln_signal_send(t->victim, t, NULL), 2);
	tag(t, "]");
}

START_TEST(test_signal_get_by_name)
{
	kiln_app *app = kiln_app_new("t");
	kiln_signal *s1, *s2;

	ck_assert_ptr_nonnull(app);
	s1 = kiln_signal_get(app, "custom");
	s2 = kiln_signal_get(app, "custom");
	ck_assert_ptr_nonnull(s1);
	ck_assert_ptr_eq(s1, s2);
	ck_assert_str_eq(kiln_signal_name(s1), "custom");
	ck_assert_ptr_ne(kiln_signal_get(app, "other"), s1);
	ck_assert_ptr_null(kiln_signal_get(app, ""));
	ck_assert_ptr_null(kiln_signal_get(app, NULL));
	ck_assert_ptr_eq(kiln_signal_get(app, KILN_SIGNAL_REQUEST_STARTED),
	    app->sig_started);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_signal_send_in_connect_order)
{
	kiln_app *app = kiln_app_new("t");
	kiln_signal *sig = kiln_signal_get(app, "s");
	trace t = { 0 };
	int args = 42;

	ck_assert(!kiln_signal_has_receivers(sig));
	ck_assert_uint_eq(kiln_signal_send(sig, app, &args), 0);
	ck_assert_int_eq(kiln_signal_connect(sig, rx_b, NULL, &t), KILN_OK);
	ck_assert_int_eq(kiln_signal_connect(sig, rx_a, NULL, &t), KILN_OK);
	ck_assert_int_eq(kiln_signal_connect(sig, rx_c, NULL, &t), KILN_OK);
	ck_assert(kiln_signal_has_receivers(sig));
	ck_assert_uint_eq(kiln_signal_send(sig, app, &args), 3);
	ck_assert_str_eq(t.log, "bac");
	ck_assert_ptr_eq(t.sender, app);
	ck_assert_ptr_eq(t.args, &args);
	ck_assert_uint_eq(kiln_signal_send(NULL, app, &args), 0);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_signal_connect_dedups)
{
	kiln_app *app = kiln_app_new("t");
	kiln_signal *sig = kiln_signal_get(app, "s");
	trace t = { 0 }, u = { 0 };

	ck_assert_int_eq(kiln_signal_connect(sig, rx_a, NULL, &t), KILN_OK);
	ck_assert_int_eq(kiln_signal_connect(sig, rx_a, NULL, &t), KILN_OK);
	ck_assert_uint_eq(kiln_signal_send(sig, NULL, NULL), 1);
	/* Other data or another sender is another receiver. */
	ck_assert_int_eq(kiln_signal_connect(sig, rx_a, NULL, &u), KILN_OK);
	ck_assert_int_eq(kiln_signal_connect(sig, rx_a, app, &t), KILN_OK);
	ck_assert_uint_eq(kiln_signal_send(sig, app, NULL), 3);
	ck_assert_str_eq(t.log, "aaa");
	ck_assert_str_eq(u.log, "a");
	ck_assert_int_eq(kiln_signal_connect(sig, NULL, NULL, &t), KILN_EINVAL);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_signal_sender_filter)
{
	kiln_app *app = kiln_app_new("t");
	kiln_signal *sig = kiln_signal_get(app, "s");
	trace t = { 0 };
	int one, two;

	ck_assert_int_eq(kiln_signal_connect(sig, rx_a, &one, &t), KILN_OK);
	ck_assert_int_eq(kiln_signal_connect(sig, rx_b, NULL, &t), KILN_OK);
	ck_assert_uint_eq(kiln_signal_send(sig, &two, NULL), 1);
	ck_assert_str_eq(t.log, "b");
	ck_assert_uint_eq(kiln_signal_send(sig, &one, NULL), 2);
	ck_assert_str_eq(t.log, "bab");
	ck_assert_uint_eq(kiln_signal_send(sig, NULL, NULL), 1);
	ck_assert_str_eq(t.log, "babb");
	kiln_app_free(app);
}
END_TEST

START_TEST(test_signal_disconnect)
{
	kiln_app *app = kiln_app_new("t");
	kiln_signal *sig = kiln_signal_get(app, "s");
	trace t = { 0 };
	int one;

	ck_assert_int_eq(kiln_signal_connect(sig, rx_a, &one, &t), KILN_OK);
	ck_assert_int_eq(kiln_signal_connect(sig, rx_b, NULL, &t), KILN_OK);
	/* Only the exact (fn, sender, data) disconnects. */
	ck_assert_int_eq(kiln_signal_disconnect(sig, rx_a, NULL, &t),
	    KILN_ENOTFOUND);
	ck_assert_int_eq(kiln_signal_disconnect(sig, rx_a, &one, &t), KILN_OK);
	ck_assert_int_eq(kiln_signal_disconnect(sig, rx_a, &one, &t),
	    KILN_ENOTFOUND);
	ck_assert_uint_eq(kiln_signal_send(sig, &one, NULL), 1);
	ck_assert_int_eq(kiln_signal_disconnect(sig, rx_b, NULL, &t), KILN_OK);
	ck_assert(!kiln_signal_has_receivers(sig));
	ck_assert_uint_eq(kiln_signal_send(sig, &one, NULL), 0);
	ck_assert_str_eq(t.log, "b");
	kiln_app_free(app);
}
END_TEST

START_TEST(test_signal_disconnect_during_send)
{
	kiln_app *app = kiln_app_new("t");
	kiln_signal *sig = kiln_signal_get(app, "s");
	trace t = { 0 };

	t.victim = sig;
	ck_assert_int_eq(kiln_signal_connect(sig, rx_a, NULL, &t), KILN_OK);
	ck_assert_int_eq(kiln_signal_connect(sig, rx_quitter, NULL, &t),
	    KILN_OK);
	ck_assert_int_eq(kiln_signal_connect(sig, rx_c, NULL, &t), KILN_OK);
	ck_assert_int_eq(kiln_signal_connect(sig, rx_b, NULL, &t), KILN_OK);
	/* rx_c, disconnected before its turn, is not called. */
	ck_assert_uint_eq(kiln_signal_send(sig, NULL, NULL), 3);
	ck_assert_str_eq(t.log, "aqb");
	ck_assert_uint_eq(kiln_signal_send(sig, NULL, NULL), 2);
	ck_assert_str_eq(t.log, "aqbab");
	/* The dead slots are gone: reconnecting works as new. */
	ck_assert_int_eq(kiln_signal_connect(sig, rx_c, NULL, &t), KILN_OK);
	ck_assert_uint_eq(kiln_signal_send(sig, NULL, NULL), 3);
	ck_assert_str_eq(t.log, "aqbababc");
	kiln_app_free(app);
}
END_TEST

START_TEST(test_signal_connect_during_send)
{
	kiln_app *app = kiln_app_new("t");
	kiln_signal *sig = kiln_signal_get(app, "s");
	trace t = { 0 };

	t.victim = sig;
	ck_assert_int_eq(kiln_signal_connect(sig, rx_connector, NULL, &t),
	    KILN_OK);
	/* A receiver connected during a send waits for the next one. */
	ck_assert_uint_eq(kiln_signal_send(sig, NULL, NULL), 1);
	ck_assert_str_eq(t.log, "n");
	ck_assert_uint_eq(kiln_signal_send(sig, NULL, NULL), 2);
	ck_assert_str_eq(t.log, "nnb");
	kiln_app_free(app);
}
END_TEST

START_TEST(test_signal_nested_send)
{
	kiln_app *app = kiln_app_new("t");
	kiln_signal *sig = kiln_signal_get(app, "s");
	trace t = { 0 };

	t.victim = sig;
	ck_assert_int_eq(kiln_signal_connect(sig, rx_nester, NULL, &t),
	    KILN_OK);
	ck_assert_int_eq(kiln_signal_connect(sig, rx_a, NULL, &t), KILN_OK);
	/* The inner send (sender t) reaches only receivers without a filter. */
	ck_assert_uint_eq(kiln_signal_send(sig, NULL, NULL), 2);
	ck_assert_str_eq(t.log, "[[]a]a");
	kiln_app_free(app);
}
END_TEST

/* ---- extensions ------------------------------------------------------ */

/* What the test extensions record, reached through kiln_ext_data. */
typedef struct extlog {
	char log[64]; /* hooks called, as tags */
	int inits;    /* init_app calls */
} extlog;

static int
cmd_hello(kiln_app *app, int argc, char **argv)
{
	(void)app;
	(void)argc;
	(void)argv;
	return 0;
}

static const kiln_setting_def greet_settings[] = {
	{ "greet.word", KILN_SETTING_STR, "hello", 0, 0, "the greeting" },
	{ "greet.times", KILN_SETTING_INT, "1", 1, 10, "how often" },
};

static const kiln_command greet_commands[] = {
	{ "hello", "", "say hello", cmd_hello },
	{ "goodbye", "[name]", "say goodbye", cmd_hello },
};

static kiln_err
greet_init(kiln_app *app, const kiln_ext *ext)
{
	extlog *l;

	/* The extension is findable (and its data settable) in init_app. */
	ck_assert(kiln_app_has_ext(app, "greet"));
	ck_assert_ptr_null(kiln_ext_data(app, ext));
	l = kiln_arena_calloc(kiln_app_arena(app), 1, sizeof(*l));
	if (l == NULL)
		return KILN_ENOMEM;
	l->inits++;
	return kiln_ext_set_data(app, ext, l);
}

static const kiln_ext greet = {
	.name = "greet",
	.abi = KILN_EXT_ABI,
	.init_app = greet_init,
	.settings = greet_settings,
	.nsettings = 2,
	.commands = greet_commands,
	.ncommands = 2,
};

static kiln_err
fail_init(kiln_app *app, const kiln_ext *ext)
{
	(void)ext;
	return kiln__app_error(app, KILN_EIO, "greet2 cannot start");
}

START_TEST(test_signal_ext_use_registers_everything)
{
	kiln_app *app = kiln_app_new("t");
	size_t ncmd = app->commands.n;
	const kiln_command *c;

	ck_assert(!kiln_app_has_ext(app, "greet"));
	ck_assert_int_eq(kiln_use(app, &greet), KILN_OK);
	ck_assert(kiln_app_has_ext(app, "greet"));
	ck_assert_ptr_nonnull(kiln_ext_data(app, &greet));
	ck_assert_int_eq(((extlog *)kiln_ext_data(app, &greet))->inits, 1);
	ck_assert_str_eq(kiln_setting_str(app, "greet.word"), "hello");
	ck_assert_int_eq(kiln_setting_int(app, "greet.times"), 1);
	ck_assert_uint_eq(app->commands.n, ncmd + 2);
	c = app->commands.items[ncmd + 1];
	ck_assert_str_eq(c->name, "goodbye");
	ck_assert_ptr_eq(c, &greet_commands[1]);
	/* Its section is now registered: unknown keys are refused. */
	ck_assert_int_eq(kiln_setting_set(app, "greet.wrod", "hi"),
	    KILN_ECONFIG);
	ck_assert_str_eq(kiln_app_errmsg(app),
	    "greet.wrod: unknown setting (did you mean greet.word?)");
	kiln_app_free(app);
}
END_TEST

START_TEST(test_signal_ext_abi_mismatch)
{
	kiln_ext old = greet;
	kiln_app *app = kiln_app_new("t");

	old.abi = KILN_EXT_ABI + 1;
	ck_assert_int_eq(kiln_use(app, &old), KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(kiln_app_errmsg(app), "ABI"));
	ck_assert(!kiln_app_has_ext(app, "greet"));
	ck_assert_ptr_null(kiln_setting_str(app, "greet.word"));
	kiln_app_free(app);
}
END_TEST

START_TEST(test_signal_ext_twice)
{
	kiln_ext copy = greet;
	kiln_app *app = kiln_app_new("t");

	ck_assert_int_eq(kiln_use(app, &greet), KILN_OK);
	ck_assert_int_eq(kiln_use(app, &greet), KILN_EEXIST);
	ck_assert_str_eq(kiln_app_errmsg(app),
	    "extension greet is already in use");
	/* Names are the identity: a copy of the struct is the same one. */
	ck_assert_int_eq(kiln_use(app, &copy), KILN_EEXIST);
	ck_assert_uint_eq(app->exts.n, 1);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_signal_ext_failed_init_is_undone)
{
	kiln_ext bad = greet;
	kiln_app *app = kiln_app_new("t");
	size_t ncmd = app->commands.n;

	bad.init_app = fail_init;
	ck_assert_int_eq(kiln_use(app, &bad), KILN_EIO);
	ck_assert_str_eq(kiln_app_errmsg(app), "greet2 cannot start");
	ck_assert(!kiln_app_has_ext(app, "greet"));
	ck_assert_uint_eq(app->commands.n, ncmd);
	ck_assert_ptr_null(kiln_setting_str(app, "greet.word"));
	/* Nothing is left behind: the fixed extension can be used. */
	ck_assert_int_eq(kiln_use(app, &greet), KILN_OK);
	ck_assert_str_eq(kiln_setting_str(app, "greet.word"), "hello");
	kiln_app_free(app);
}
END_TEST

START_TEST(test_signal_ext_data)
{
	static const kiln_ext bare = {
		.name = "bare",
		.abi = KILN_EXT_ABI,
	};
	kiln_app *app = kiln_app_new("t");
	int x;

	ck_assert_int_eq(kiln_ext_set_data(app, &bare, &x), KILN_ENOTFOUND);
	ck_assert_ptr_null(kiln_ext_data(app, &bare));
	ck_assert_int_eq(kiln_use(app, &bare), KILN_OK);
	ck_assert_ptr_null(kiln_ext_data(app, &bare));
	ck_assert_int_eq(kiln_ext_set_data(app, &bare, &x), KILN_OK);
	ck_assert_ptr_eq(kiln_ext_data(app, &bare), &x);
	kiln_app_free(app);
}
END_TEST

START_TEST(test_signal_ext_commands_checked)
{
	static const kiln_command dup[] = {
		{ "hello", "", "again", cmd_hello },
	};
	static const kiln_command norun[] = {
		{ "x", "", "no run", NULL },
	};
	kiln_app *app = kiln_app_new("t");
	size_t n;

	ck_assert_int_eq(kiln_add_commands(app, greet_commands, 2), KILN_OK);
	n = app->commands.n;
	ck_assert_int_eq(kiln_add_commands(app, dup, 1), KILN_EEXIST);
	ck_assert_str_eq(kiln_app_errmsg(app),
	    "command hello is defined twice");
	ck_assert_int_eq(kiln_add_commands(app, norun, 1), KILN_EINVAL);
	ck_assert_uint_eq(app->commands.n, n);
	/* greet's own commands now clash, so using it fails cleanly. */
	ck_assert_int_eq(kiln_use(app, &greet), KILN_EEXIST);
	ck_assert(!kiln_app_has_ext(app, "greet"));
	ck_assert_ptr_null(kiln_setting_str(app, "greet.word"));
	kiln_app_free(app);
}
END_TEST

START_TEST(test_signal_ext_settings_after_configure)
{
	static const kiln_ext bare = {
		.name = "bare",
		.abi = KILN_EXT_ABI,
	};
	kiln_app *app = kiln_app_new("t");

	ck_assert_int_eq(kiln_app_configure(app, NULL), KILN_OK);
	ck_assert_int_eq(kiln_use(app, &greet), KILN_EINVAL);
	ck_assert(!kiln_app_has_ext(app, "greet"));
	/* One without settings does not care. */
	ck_assert_int_eq(kiln_use(app, &bare), KILN_OK);
	kiln_app_free(app);
}
END_TEST

/* Worker hooks log "<name>+" and "<name>-" into their extlog. */
static kiln_err
w_init(kiln_app *app, const kiln_ext *ext)
{
	extlog *l = kiln_ext_data(app, ext);
	size_t n = strlen(l->log);

	snprintf(l->log + n, sizeof(l->log) - n, "%s+", ext->name);
	if (strcmp(ext->name, "bad") == 0)
		return kiln__app_error(app, KILN_EDB, "bad: no database");
	return KILN_OK;
}

static void
w_fini(kiln_app *app, const kiln_ext *ext)
{
	extlog *l = kiln_ext_data(app, ext);
	size_t n = strlen(l->log);

	snprintf(l->log + n, sizeof(l->log) - n, "%s-", ext->name);
}

static const kiln_ext ext_one = {
	.name = "1",
	.abi = KILN_EXT_ABI,
	.init_worker = w_init,
	.fini_worker = w_fini,
};

static const kiln_ext ext_two = {
	.name = "2",
	.abi = KILN_EXT_ABI,
	.init_worker = w_init,
};

static const kiln_ext ext_three = {
	.name = "3",
	.abi = KILN_EXT_ABI,
	.init_worker = w_init,
	.fini_worker = w_fini,
};

static const kiln_ext ext_bad = {
	.name = "bad",
	.abi = KILN_EXT_ABI,
	.init_worker = w_init,
	.fini_worker = w_fini,
};

/* Master hooks log "<name>*"; bad's fails. */
static kiln_err
m_init(kiln_app *app, const kiln_ext *ext)
{
	extlog *l = kiln_ext_data(app, ext);
	size_t n = strlen(l->log);

	snprintf(l->log + n, sizeof(l->log) - n, "%s*", ext->name);
	if (strcmp(ext->name, "mbad") == 0)
		return KILN_EIO;
	return KILN_OK;
}

START_TEST(test_signal_ext_master_hook)
{
	static const kiln_ext m1 = { .name = "m1",
		.abi = KILN_EXT_ABI,
		.init_master = m_init,
		.init_worker = w_init };
	static const kiln_ext m2 = { .name = "m2",
		.abi = KILN_EXT_ABI,
		.init_master = m_init };
	static const kiln_ext mbad = { .name = "mbad",
		.abi = KILN_EXT_ABI,
		.init_master = m_init };
	kiln_app *app = kiln_app_new("t");
	extlog l = { 0 };

	ck_assert_int_eq(kiln_use(app, &m1), KILN_OK);
	ck_assert_int_eq(kiln_use(app, &ext_two), KILN_OK);
	ck_assert_int_eq(kiln_use(app, &m2), KILN_OK);
	ck_assert_int_eq(kiln_ext_set_data(app, &m1, &l), KILN_OK);
	ck_assert_int_eq(kiln_ext_set_data(app, &ext_two, &l), KILN_OK);
	ck_assert_int_eq(kiln_ext_set_data(app, &m2, &l), KILN_OK);
	/* Only the master hooks run, in the order of use; no worker hook. */
	ck_assert_int_eq(kiln__exts_init_master(app), KILN_OK);
	ck_assert_str_eq(l.log, "m1*m2*");
	/* A failure stops there, with a message naming the extension. */
	ck_assert_int_eq(kiln_use(app, &mbad), KILN_OK);
	ck_assert_int_eq(kiln_use(app, &ext_three), KILN_OK);
	ck_assert_int_eq(kiln_ext_set_data(app, &mbad, &l), KILN_OK);
	ck_assert_int_eq(kiln_ext_set_data(app, &ext_three, &l), KILN_OK);
	l.log[0] = '\0';
	ck_assert_int_eq(kiln__exts_init_master(app), KILN_EIO);
	ck_assert_str_eq(l.log, "m1*m2*mbad*");
	ck_assert_ptr_nonnull(
	    strstr(kiln_app_errmsg(app), "extension mbad: init_master"));
	kiln_app_free(app);
}
END_TEST

START_TEST(test_signal_ext_worker_hook_order)
{
	kiln_app *app = kiln_app_new("t");
	extlog l = { 0 };

	ck_assert_int_eq(kiln_use(app, &ext_one), KILN_OK);
	ck_assert_int_eq(kiln_use(app, &ext_two), KILN_OK);
	ck_assert_int_eq(kiln_use(app, &ext_three), KILN_OK);
	ck_assert_int_eq(kiln_ext_set_data(app, &ext_one, &l), KILN_OK);
	ck_assert_int_eq(kiln_ext_set_data(app, &ext_two, &l), KILN_OK);
	ck_assert_int_eq(kiln_ext_set_data(app, &ext_three, &l), KILN_OK);
	ck_assert_int_eq(kiln__exts_init_worker(app), KILN_OK);
	ck_assert_str_eq(l.log, "1+2+3+");
	kiln__exts_fini_worker(app);
	ck_assert_str_eq(l.log, "1+2+3+3-1-");
	kiln_app_free(app);
}
END_TEST

START_TEST(test_signal_ext_worker_init_failure)
{
	kiln_app *app = kiln_app_new("t");
	extlog l = { 0 };

	ck_assert_int_eq(kiln_use(app, &ext_one), KILN_OK);
	ck_assert_int_eq(kiln_use(app, &ext_two), KILN_OK);
	ck_assert_int_eq(kiln_use(app, &ext_bad), KILN_OK);
	ck_assert_int_eq(kiln_use(app, &ext_three), KILN_OK);
	ck_assert_int_eq(kiln_ext_set_data(app, &ext_one, &l), KILN_OK);
	ck_assert_int_eq(kiln_ext_set_data(app, &ext_two, &l), KILN_OK);
	ck_assert_int_eq(kiln_ext_set_data(app, &ext_bad, &l), KILN_OK);
	ck_assert_int_eq(kiln_ext_set_data(app, &ext_three, &l), KILN_OK);
	/* bad fails: the ones before it are finished, 3 never starts. */
	ck_assert_int_eq(kiln__exts_init_worker(app), KILN_EDB);
	ck_assert_str_eq(l.log, "1+2+bad+1-");
	ck_assert_str_eq(kiln_app_errmsg(app), "bad: no database");
	kiln_app_free(app);
}
END_TEST

Suite *
signal_suite(void)
{
	Suite *s = suite_create("signal");
	TCase *tc = tcase_create("signal");
	TCase *te = tcase_create("ext");

	tcase_add_test(tc, test_signal_get_by_name);
	tcase_add_test(tc, test_signal_send_in_connect_order);
	tcase_add_test(tc, test_signal_connect_dedups);
	tcase_add_test(tc, test_signal_sender_filter);
	tcase_add_test(tc, test_signal_disconnect);
	tcase_add_test(tc, test_signal_disconnect_during_send);
	tcase_add_test(tc, test_signal_connect_during_send);
	tcase_add_test(tc, test_signal_nested_send);
	suite_add_tcase(s, tc);
	tcase_add_test(te, test_signal_ext_use_registers_everything);
	tcase_add_test(te, test_signal_ext_abi_mismatch);
	tcase_add_test(te, test_signal_ext_twice);
	tcase_add_test(te, test_signal_ext_failed_init_is_undone);
	tcase_add_test(te, test_signal_ext_data);
	tcase_add_test(te, test_signal_ext_commands_checked);
	tcase_add_test(te, test_signal_ext_settings_after_configure);
	tcase_add_test(te, test_signal_ext_worker_hook_order);
	tcase_add_test(te, test_signal_ext_worker_init_failure);
	tcase_add_test(te, test_signal_ext_master_hook);
	suite_add_tcase(s, te);
	return s;
}
