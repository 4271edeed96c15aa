/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Extensions and management commands. kiln_use() checks an extension's
 * ABI and name, registers its settings and commands, and calls its
 * init_app; the worker calls every init_worker after fork, in the order
 * the extensions were used, and every fini_worker in reverse.
 *
 * app->exts holds the const kiln_ext pointers in use order and
 * app->ext_data the per-app data set by kiln_ext_set_data(), at the same
 * index. A kiln_use() that fails leaves the app as it was, so the caller
 * may report the error and stop.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <kiln/kiln.h>

#include "kiln_int.h"

/*
 * Returns p as void *, for storing const tables in a kiln__ptrs; they are
 * only ever read back as const.
 */
static void *
unconst(const void *p)
{
	return (void *)(uintptr_t)p;
}

/* Returns the index of the extension named name in app->exts, or -1. */
static long
ext_index(const kiln_app *app, const char *name)
{
	const kiln_ext *e;
	size_t i;

	for (i = 0; i < app->exts.n; i++) {
		e = app->exts.items[i];
		if (strcmp(e->name, name) == 0)
			return (long)i;
	}
	return -1;
}

bool
kiln_app_has_ext(const kiln_app *app, const char *name)
{
	return name != NULL && ext_index(app, name) >= 0;
}

kiln_err
kiln_add_commands(kiln_app *app, const kiln_command *cmds, size_t n)
{
	const kiln_command *c;
	size_t i, j, old = app->commands.n;

	if (n > 0 && cmds == NULL)
		return kiln__app_error(app, KILN_EINVAL,
		    "command table is NULL");
	for (i = 0; i < n; i++) {
		if (cmds[i].name == NULL || cmds[i].name[0] == '\0' ||
		    cmds[i].run == NULL)
			return kiln__app_error(app, KILN_EINVAL,
			    "command %zu has no name or no run function", i);
		for (j = 0; j < app->commands.n; j++) {
			c = app->commands.items[j];
			if (strcmp(c->name, cmds[i].name) == 0)
				return kiln__app_error(app, KILN_EEXIST,
				    "command %s is defined twice",
				    cmds[i].name);
		}
		for (j = 0; j < i; j++) {
			if (strcmp(cmds[j].name, cmds[i].name) == 0)
				return kiln__app_error(app, KILN_EEXIST,
				    "command %s is defined twice",
				    cmds[i].name);
		}
	}
	for (i = 0; i < n; i++) {
		if (kiln__ptrs_push(&app->commands, app->a,
			unconst(&cmds[i])) != KILN_OK) {
			app->commands.n = old;
			return kiln__app_error(app, KILN_ENOMEM,
			    "commands: out of memory");
		}
	}
	return KILN_OK;
}

/* Checks ext before anything of it is registered. */
static kiln_err
ext_check(kiln_app *app, const kiln_ext *ext)
{
	if (ext == NULL || ext->name == NULL || ext->name[0] == '\0')
		return kiln__app_error(app, KILN_EINVAL,
		    "extension has no name");
	if (ext->abi != KILN_EXT_ABI)
		return kiln__app_error(app, KILN_EINVAL,
		    "extension %s was built for ABI %d but this Kiln has ABI "
		    "%d: rebuild it against these headers",
		    ext->name, ext->abi, KILN_EXT_ABI);
	if (ext_index(app, ext->name) >= 0)
		return kiln__app_error(app, KILN_EEXIST,
		    "extension %s is already in use", ext->name);
	if (ext->nsettings > 0 && ext->settings == NULL)
		return kiln__app_error(app, KILN_EINVAL,
		    "extension %s: nsettings is %zu but settings is NULL",
		    ext->name, ext->nsettings);
	if (ext->ncommands > 0 && ext->commands == NULL)
		return kiln__app_error(app, KILN_EINVAL,
		    "extension %s: ncommands is %zu but commands is NULL",
		    ext->name, ext->ncommands);
	return KILN_OK;
}

/*
 * Runs ext's hook fn (named hook in messages). When it fails without
 * leaving a message, leaves "extension NAME: HOOK: REASON".
 */
static kiln_err
run_hook(kiln_app *app, const kiln_ext *ext, const char *hook,
    kiln_err (*fn)(kiln_app *, const kiln_ext *))
{
	kiln_err rc;

	app->errmsg[0] = '\0';
	rc = fn(app, ext);
	if (rc != KILN_OK && app->errmsg[0] == '\0')
		kiln__app_error(app, rc, "extension %s: %s: %s", ext->name,
		    hook, kiln_strerror(rc));
	return rc;
}

/*
 * Registers ext's settings and commands and calls init_app. On failure
 * everything done so far is undone, in reverse order.
 */
kiln_err
kiln_use(kiln_app *app, const kiln_ext *ext)
{
	size_t ncmds = app->commands.n, nexts = app->exts.n;
	kiln_err rc;

	if ((rc = ext_check(app, ext)) != KILN_OK)
		return rc;
	if (ext->nsettings > 0 &&
	    (rc = kiln_settings_register(app, ext->settings, ext->nsettings)) !=
		KILN_OK)
		return rc;
	if ((rc = kiln_add_commands(app, ext->commands, ext->ncommands)) !=
	    KILN_OK)
		goto err;
	/* Registered before init_app, which may call kiln_ext_set_data. */
	if (kiln__ptrs_push(&app->exts, app->a, unconst(ext)) != KILN_OK ||
	    kiln__ptrs_push(&app->ext_data, app->a, NULL) != KILN_OK) {
		rc = kiln__app_error(app, KILN_ENOMEM,
		    "extension %s: out of memory", ext->name);
		goto err;
	}
	if (ext->init_app == NULL ||
	    (rc = run_hook(app, ext, "init_app", ext->init_app)) == KILN_OK)
		return KILN_OK;
err:
	app->exts.n = nexts;
	app->ext_data.n = nexts;
	app->commands.n = ncmds;
	kiln__settings_unregister(app, ext->settings, ext->nsettings);
	return rc;
}

kiln_err
kiln_ext_set_data(kiln_app *app, const kiln_ext *ext, void *data)
{
	long i;

	if (ext == NULL || ext->name == NULL ||
	    (i = ext_index(app, ext->name)) < 0)
		return kiln__app_error(app, KILN_ENOTFOUND,
		    "extension %s is not in use",
		    ext != NULL && ext->name != NULL ? ext->name : "(null)");
	app->ext_data.items[i] = data;
	return KILN_OK;
}

void *
kiln_ext_data(const kiln_app *app, const kiln_ext *ext)
{
	long i;
	size_t k;

	if (ext == NULL || ext->name == NULL)
		return NULL;
	/* The same struct is the common case (a battery's own lookups). */
	for (k = 0; k < app->exts.n; k++)
		if (app->exts.items[k] == ext)
			return app->ext_data.items[k];
	if ((i = ext_index(app, ext->name)) < 0)
		return NULL;
	return app->ext_data.items[i];
}

kiln_err
kiln__exts_init_master(kiln_app *app)
{
	const kiln_ext *e;
	size_t i;
	kiln_err rc;

	for (i = 0; i < app->exts.n; i++) {
		e = app->exts.items[i];
		if (e->init_master != NULL &&
		    (rc = run_hook(app, e, "init_master", e->init_master)) !=
			KILN_OK)
			return rc;
	}
	return KILN_OK;
}

kiln_err
kiln__exts_init_worker(kiln_app *app)
{
	const kiln_ext *e;
	size_t i;
	kiln_err rc;

	for (i = 0; i < app->exts.n; i++) {
		e = app->exts.items[i];
		if (e->init_worker == NULL ||
		    (rc = run_hook(app, e, "init_worker", e->init_worker)) ==
			KILN_OK)
			continue;
		/* Undo the ones that succeeded, newest first. */
		while (i-- > 0) {
			e = app->exts.items[i];
			if (e->fini_worker != NULL)
				e->fini_worker(app, e);
		}
		return rc;
	}
	return KILN_OK;
}

void
kiln__exts_fini_worker(kiln_app *app)
{
	const kiln_ext *e;
	size_t i;

	for (i = app->exts.n; i-- > 0;) {
		e = app->exts.items[i];
		if (e->fini_worker != NULL)
			e->fini_worker(app, e);
	}
}
