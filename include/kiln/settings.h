/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Settings: one INI file plus environment overrides, read once at start
 * and validated against typed definitions. A setting is named
 * "section.key". The environment overrides a setting with
 * KILN_<SECTION>_<KEY> (upper case), and the 12-factor names DATABASE_URL,
 * REDIS_URL, SECRET_KEY and DEBUG override database.url, redis.url,
 * app.secret_key and app.debug. In a registered section an unknown key is
 * an error; sections nobody registered are the application's own and
 * kept as strings.
 */
#ifndef KILN_SETTINGS_H
#define KILN_SETTINGS_H

#include <kiln/app.h>
#include <kiln/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kiln_setting_type {
	KILN_SETTING_STR,     /* any text */
	KILN_SETTING_SECRET,  /* text, masked ("********") wherever shown */
	KILN_SETTING_INT,     /* decimal integer within [min, max] */
	KILN_SETTING_BOOL,    /* true/false, yes/no, on/off, 1/0 */
	KILN_SETTING_SIZE,    /* bytes, with optional k, m or g suffix */
	KILN_SETTING_SECONDS, /* seconds, with optional ms, s, m or h suffix */
	KILN_SETTING_PATH,    /* a path, or paths separated by ':'; relative
				 ones in the file are relative to the file */
	KILN_SETTING__MAX
} kiln_setting_type;

/* One setting's definition; tables of them are static const. */
typedef struct kiln_setting_def {
	const char *name;	/* "section.key" */
	kiln_setting_type type; /* how the value is checked */
	const char *def;	/* default text (NULL: unset) */
	int64_t min;		/* INT/SIZE/SECONDS: lowest allowed */
	int64_t max;		/* ...: highest allowed (0: no limit) */
	const char *help;	/* one line for `APP check` and docs */
} kiln_setting_def;

/*
 * Registers n definitions (the table must outlive the app). Must be called
 * before kiln_app_configure(). Returns KILN_OK or KILN_EEXIST (a name is
 * defined twice).
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_settings_register(kiln_app *app,
    const kiln_setting_def *defs, size_t n);

/*
 * Sets name to value as if read from the file (before configure, or in
 * tests). Returns KILN_OK, or KILN_ECONFIG with kiln_app_errmsg.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_setting_set(kiln_app *app,
    const char *name, const char *value);

/*
 * Reads a setting. The string form returns the text (NULL when unset);
 * the typed forms return the parsed value (0/false when unset). SIZE is in
 * bytes, SECONDS in milliseconds.
 */
KILN_API const char *kiln_setting_str(const kiln_app *app, const char *name);
KILN_API int64_t kiln_setting_int(const kiln_app *app, const char *name);
KILN_API bool kiln_setting_bool(const kiln_app *app, const char *name);

/*
 * Calls fn for every setting, in name order, with its value as shown to
 * people (secrets masked). For `APP check` and the debug page.
 */
typedef void (
    *kiln_setting_visit_fn)(const char *name, const char *shown, void *data);
KILN_API void kiln_settings_each(const kiln_app *app, kiln_setting_visit_fn fn,
    void *data);

#ifdef __cplusplus
}
#endif
#endif /* KILN_SETTINGS_H */
