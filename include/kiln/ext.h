/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Extensions. A battery (sessions, cache, auth, admin) or a third-party
 * module is one const struct kiln_ext. kiln_use() registers its settings
 * and commands and calls init_app at once. When the app serves, init_master
 * runs once in the master after the settings are loaded and before the
 * first worker is forked: load there what every worker only reads (client
 * libraries, tables), so the workers share those pages instead of each
 * building its own. init_worker runs in each worker after fork (open
 * connections there), fini_worker before it exits. Commands other than
 * serve run neither init_master nor init_worker.
 */
#ifndef KILN_EXT_H
#define KILN_EXT_H

#include <kiln/app.h>
#include <kiln/common.h>
#include <kiln/settings.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_EXT_ABI 2

/* A management command: returns the process exit status. */
typedef struct kiln_command {
	const char *name;				  /* "migrate" */
	const char *usage;				  /* "[app] [target]" */
	const char *help;				  /* one line */
	int (*run)(kiln_app *app, int argc, char **argv); /* argv[0] = name */
} kiln_command;

struct kiln_ext {
	const char *name; /* unique, "sessions" */
	int abi;	  /* KILN_EXT_ABI */
	kiln_err (*init_app)(kiln_app *app, const kiln_ext *ext); /* or NULL */
	kiln_err (
	    *init_worker)(kiln_app *app, const kiln_ext *ext);	 /* or NULL */
	void (*fini_worker)(kiln_app *app, const kiln_ext *ext); /* or NULL */
	kiln_err (
	    *init_master)(kiln_app *app, const kiln_ext *ext); /* or NULL */
	const kiln_setting_def *settings;		       /* or NULL */
	size_t nsettings;	      /* entries in settings */
	const kiln_command *commands; /* or NULL */
	size_t ncommands;	      /* entries in commands */
};

/*
 * Registers ext on app: its settings and commands, then init_app. Using
 * the same extension twice is KILN_EEXIST; a different abi KILN_EINVAL.
 * The struct must outlive the app. Returns init_app's result otherwise.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_use(kiln_app *app, const kiln_ext *ext);

/* Returns true when ext (or one named name) is registered on app. */
KILN_API bool kiln_app_has_ext(const kiln_app *app, const char *name);

/* Per-app state of an extension: set in init_app, read anywhere. */
KILN_API KILN_WARN_UNUSED kiln_err kiln_ext_set_data(kiln_app *app,
    const kiln_ext *ext, void *data);
KILN_API void *kiln_ext_data(const kiln_app *app, const kiln_ext *ext);

/* Registers n application commands (the table must outlive the app). */
KILN_API KILN_WARN_UNUSED kiln_err kiln_add_commands(kiln_app *app,
    const kiln_command *cmds, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* KILN_EXT_H */
