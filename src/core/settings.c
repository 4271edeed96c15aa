/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Settings: typed definitions registered by the core and by extensions,
 * values read from one INI file (through libinih) and from the
 * environment, and the getters the rest of Kiln reads them with.
 *
 * Every setting is one entry in an array sorted by name, so lookups are
 * a binary search and kiln_settings_each() walks names in order. An entry
 * holds up to three layers of text: the definition's default, the file
 * (or kiln_setting_set), and the environment; the highest layer that is
 * set wins. Typed text is checked and parsed when it is stored, so a
 * getter never fails and a bad value stops the start with a message that
 * names the file and line (or the variable), the key and what was
 * expected. Entries without a definition are the application's own
 * sections, kept as text.
 *
 * Everything lives in the app's arena. Nothing here is global: libinih's
 * run-time knobs (Debian exports them as variables) are left alone, and
 * its limits are enforced by the line reader below instead.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include <kiln/kiln.h>

#include "kiln_int.h"

#define NAME_MAX_LEN	127	   /* longest registered "section.key" */
#define SECTION_MAX_LEN 49	   /* libinih keeps 50 bytes of a section */
#define SHOW_MAX	40	   /* bytes of a bad value echoed back */
#define MASK		"********" /* how a secret is shown */

#define KIB ((int64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

/* The layers of a value, lowest precedence first. */
enum { LAYER_DEFAULT, LAYER_FILE, LAYER_ENV, LAYER__MAX };

typedef struct layer {
	const char *text; /* NULL: not set in this layer */
	int64_t num;	  /* parsed value of typed settings (BOOL: 0 or 1) */
} layer;

typedef struct entry {
	const char *name;	     /* "section.key" */
	const kiln_setting_def *def; /* NULL: an application section's text */
	layer v[LAYER__MAX];	     /* default, file, environment */
	int line;		     /* line in the file being read, or 0 */
} entry;

struct kiln__settings {
	kiln_arena *a;	    /* the app's arena */
	kiln__ptrs entries; /* entry, sorted by name (strcmp) */
};

/* The 12-factor names, applied when their setting is registered. */
static const struct {
	const char *var;  /* environment variable */
	const char *name; /* setting it overrides */
} aliases[] = {
	{ "DATABASE_URL", "database.url" },
	{ "REDIS_URL", "redis.url" },
	{ "SECRET_KEY", "app.secret_key" },
	{ "DEBUG", "app.debug" },
};

/*
 * Words that mark an unregistered key as a secret for display (the list
 * Django's debug page uses).
 */
static const char *const secret_words[] = {
	"api",
	"auth",
	"key",
	"pass",
	"secret",
	"signature",
	"token",
};

/* State of one file read, shared by the line reader and the handler. */
typedef struct parse {
	kiln_app *app;	  /* the app being configured */
	const char *path; /* the file, as given */
	FILE *fp;	  /* open on path */
	int line;	  /* number of the line last handed to libinih */
	bool indented;	  /* that line starts with white space */
	entry *last;	  /* the entry the previous key line set */
	int err_line;	  /* line of the first error we found, or 0 */
	kiln_err rc;	  /* its code */
	int read_errno;	  /* errno of a failed read, or 0 */
} parse;

kiln__settings *
kiln__settings_new(kiln_arena *a)
{
	kiln__settings *s;

	s = kiln_arena_calloc(a, 1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->a = a;
	return s;
}

/*
 * Sets the app's message to "src:line: text", "src: text" or "text" and
 * returns rc. src is a file or an environment variable (or NULL).
 */
static kiln_err fail(kiln_app *app, kiln_err rc, const char *src, int line,
    const char *fmt, ...) KILN_PRINTF(5, 6);

static kiln_err
fail(kiln_app *app, kiln_err rc, const char *src, int line, const char *fmt,
    ...)
{
	char msg[KILN_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (src != NULL && line > 0)
		return kiln__app_error(app, rc, "%s:%d: %s", src, line, msg);
	if (src != NULL)
		return kiln__app_error(app, rc, "%s: %s", src, msg);
	return kiln__app_error(app, rc, "%s", msg);
}

/* Finds name; on a miss, *pos (if not NULL) is where it would go. */
static entry *
lookup(const kiln__settings *s, const char *name, size_t *pos)
{
	size_t lo = 0, hi = s->entries.n, mid;
	entry *e;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		e = s->entries.items[mid];
		c = strcmp(name, e->name);
		if (c == 0)
			return e;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (pos != NULL)
		*pos = lo;
	return NULL;
}

/* Inserts e at pos, keeping the array sorted. */
static kiln_err
insert(kiln__settings *s, size_t pos, entry *e)
{
	void **items;

	if (kiln__ptrs_push(&s->entries, s->a, e) != KILN_OK)
		return KILN_ENOMEM;
	items = s->entries.items;
	memmove(items + pos + 1, items + pos,
	    (s->entries.n - 1 - pos) * sizeof(*items));
	items[pos] = e;
	return KILN_OK;
}

/* Returns the layer that decides e's value, or NULL when it is unset. */
static const layer *
effective(const entry *e)
{
	int i;

	for (i = LAYER__MAX - 1; i >= 0; i--) {
		if (e->v[i].text != NULL)
			return &e->v[i];
	}
	return NULL;
}

/* Returns the length of name's section: the part before its last dot. */
static size_t
section_len(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot != NULL ? (size_t)(dot - name) : 0;
}

/* True when some registered definition lives in section sec (len bytes). */
static bool
section_registered(const kiln__settings *s, const char *sec, size_t len,
    bool nocase)
{
	const entry *e;
	size_t i;

	for (i = 0; i < s->entries.n; i++) {
		e = s->entries.items[i];
		if (e->def == NULL || section_len(e->name) != len)
			continue;
		if (!nocase && strncmp(e->name, sec, len) == 0)
			return true;
		if (nocase && strncasecmp(e->name, sec, len) == 0)
			return true;
	}
	return false;
}

/* Edit distance of two short strings; SIZE_MAX when either is too long. */
static size_t
distance(const char *a, const char *b)
{
	size_t row[NAME_MAX_LEN + 2];
	size_t la = strlen(a), lb = strlen(b), i, j, diag, up, best;

	if (la > NAME_MAX_LEN || lb > NAME_MAX_LEN)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/*
 * Returns the registered name closest to name within its section, or
 * NULL when none is close enough (at most 2 edits, and fewer than half
 * the key) to be a likely typo.
 */
static const char *
closest(const kiln__settings *s, const char *name)
{
	size_t len = section_len(name), d, best = SIZE_MAX;
	const char *found = NULL;
	const entry *e;
	size_t i;

	for (i = 0; i < s->entries.n; i++) {
		e = s->entries.items[i];
		if (e->def == NULL || section_len(e->name) != len ||
		    strncmp(e->name, name, len) != 0)
			continue;
		d = distance(name + len, e->name + len);
		if (d < best) {
			best = d;
			found = e->name;
		}
	}
	if (found == NULL || best > 2 || best * 2 >= strlen(name + len))
		return NULL;
	return found;
}

/* Copies up to SHOW_MAX bytes of s into buf, replacing control bytes. */
static const char *
show(const char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < SHOW_MAX && i + 4 < size; i++)
		buf[i] = iscntrl((unsigned char)s[i]) ? '?' : s[i];
	if (s[i] != '\0') {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* Formats a byte count with the largest exact suffix ("64k"). */
static void
fmt_size(int64_t n, char *buf, size_t size)
{
	if (n > 0 && n % GIB == 0)
		snprintf(buf, size, "%" PRId64 "g", n / GIB);
	else if (n > 0 && n % MIB == 0)
		snprintf(buf, size, "%" PRId64 "m", n / MIB);
	else if (n > 0 && n % KIB == 0)
		snprintf(buf, size, "%" PRId64 "k", n / KIB);
	else
		snprintf(buf, size, "%" PRId64, n);
}

/* Formats milliseconds with the largest exact unit ("5s"). */
static void
fmt_ms(int64_t n, char *buf, size_t size)
{
	if (n > 0 && n % 3600000 == 0)
		snprintf(buf, size, "%" PRId64 "h", n / 3600000);
	else if (n > 0 && n % 60000 == 0)
		snprintf(buf, size, "%" PRId64 "m", n / 60000);
	else if (n > 0 && n % 1000 == 0)
		snprintf(buf, size, "%" PRId64 "s", n / 1000);
	else
		snprintf(buf, size, "%" PRId64 "ms", n);
}

/* Formats a bound of d in the unit its type reads. */
static void
fmt_bound(const kiln_setting_def *d, int64_t n, char *buf, size_t size)
{
	if (d->type == KILN_SETTING_SIZE)
		fmt_size(n, buf, size);
	else if (d->type == KILN_SETTING_SECONDS)
		fmt_ms(n, buf, size);
	else
		snprintf(buf, size, "%" PRId64, n);
}

/* Writes what d accepts, as in "an integer from 1 to 512". */
static void
describe(const kiln_setting_def *d, char *buf, size_t size)
{
	char lo[32], hi[32];
	const char *what;

	switch (d->type) {
	case KILN_SETTING_BOOL:
		snprintf(buf, size, "true or false (or yes/no, on/off, 1/0)");
		return;
	case KILN_SETTING_INT:
		what = "an integer";
		break;
	case KILN_SETTING_SIZE:
		what = "a size in bytes (suffix k, m or g allowed)";
		break;
	case KILN_SETTING_SECONDS:
		what = "a duration in seconds (suffix ms, s, m or h allowed)";
		break;
	case KILN_SETTING_PATH:
		snprintf(buf, size, "a path (or paths separated by ':')");
		return;
	default:
		snprintf(buf, size, "text");
		return;
	}
	fmt_bound(d, d->min, lo, sizeof(lo));
	fmt_bound(d, d->max, hi, sizeof(hi));
	if (d->max != 0)
		snprintf(buf, size, "%s from %s to %s", what, lo, hi);
	else if (d->min > 0 || d->type == KILN_SETTING_INT)
		snprintf(buf, size, "%s of at least %s", what, lo);
	else
		snprintf(buf, size, "%s", what);
}

/* Trims ASCII white space from both ends of s. */
static kiln_str
trim(const char *p)
{
	kiln_str s = kiln_str_c(p);

	while (s.len > 0 && isspace((unsigned char)s.ptr[0])) {
		s.ptr++;
		s.len--;
	}
	while (s.len > 0 && isspace((unsigned char)s.ptr[s.len - 1]))
		s.len--;
	return s;
}

/*
 * Reads the decimal digits at the start of s into *out, advancing s.
 * Returns KILN_OK, KILN_EPARSE when there are none, or KILN_ELIMIT when
 * the number is over INT64_MAX.
 */
static kiln_err
digits(kiln_str *s, int64_t *out)
{
	int64_t n = 0;
	size_t i;
	int dig;

	for (i = 0; i < s->len && s->ptr[i] >= '0' && s->ptr[i] <= '9'; i++) {
		dig = s->ptr[i] - '0';
		if (n > (INT64_MAX - dig) / 10)
			return KILN_ELIMIT;
		n = n * 10 + dig;
	}
	if (i == 0)
		return KILN_EPARSE;
	s->ptr += i;
	s->len -= i;
	*out = n;
	return KILN_OK;
}

/* Multiplies *n by mult; KILN_ELIMIT on overflow. */
static kiln_err
scale(int64_t *n, int64_t mult)
{
	if (*n > INT64_MAX / mult)
		return KILN_ELIMIT;
	*n *= mult;
	return KILN_OK;
}

/* Parses a boolean spelling; KILN_EPARSE when it is none. */
static kiln_err
parse_bool(kiln_str s, int64_t *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (kiln_str_caseeq(s, kiln_str_c(yes[i]))) {
			*out = 1;
			return KILN_OK;
		}
		if (kiln_str_caseeq(s, kiln_str_c(no[i]))) {
			*out = 0;
			return KILN_OK;
		}
	}
	return KILN_EPARSE;
}

/* Returns the multiplier of a SIZE or SECONDS suffix, or 0 if unknown. */
static int64_t
suffix(kiln_setting_type type, kiln_str s)
{
	if (type == KILN_SETTING_SIZE) {
		if (s.len == 0)
			return 1;
		if (s.len == 1 && (s.ptr[0] == 'k' || s.ptr[0] == 'K'))
			return KIB;
		if (s.len == 1 && (s.ptr[0] == 'm' || s.ptr[0] == 'M'))
			return MIB;
		if (s.len == 1 && (s.ptr[0] == 'g' || s.ptr[0] == 'G'))
			return GIB;
		return 0;
	}
	if (s.len == 0 || kiln_str_caseeq(s, KILN_STR("s")))
		return 1000;
	if (kiln_str_caseeq(s, KILN_STR("ms")))
		return 1;
	if (kiln_str_caseeq(s, KILN_STR("m")))
		return 60000;
	if (kiln_str_caseeq(s, KILN_STR("h")))
		return 3600000;
	return 0;
}

/*
 * Checks text against d and parses it into *out (BOOL: 0/1; SIZE: bytes;
 * SECONDS: milliseconds). Returns KILN_OK, KILN_EPARSE (not the right
 * shape) or KILN_ELIMIT (out of d's range).
 */
static kiln_err
parse_value(const kiln_setting_def *d, const char *text, int64_t *out)
{
	kiln_str s = trim(text);
	bool neg = false;
	int64_t n, mult;
	kiln_err rc;

	*out = 0;
	if (d->type == KILN_SETTING_STR || d->type == KILN_SETTING_SECRET ||
	    d->type == KILN_SETTING_PATH)
		return KILN_OK;
	if (d->type == KILN_SETTING_BOOL)
		return parse_bool(s, out);
	if (d->type == KILN_SETTING_INT && s.len > 0 &&
	    (s.ptr[0] == '-' || s.ptr[0] == '+')) {
		neg = s.ptr[0] == '-';
		s.ptr++;
		s.len--;
	}
	if ((rc = digits(&s, &n)) != KILN_OK)
		return rc;
	if (d->type == KILN_SETTING_INT) {
		if (s.len != 0)
			return KILN_EPARSE;
	} else {
		if ((mult = suffix(d->type, s)) == 0)
			return KILN_EPARSE;
		if ((rc = scale(&n, mult)) != KILN_OK)
			return rc;
	}
	if (neg)
		n = -n;
	if (n < d->min || (d->max != 0 && n > d->max))
		return KILN_ELIMIT;
	*out = n;
	return KILN_OK;
}

/* Reports text as a bad value for d, read from src (and line). */
static kiln_err
bad_value(kiln_app *app, const char *src, int line, const kiln_setting_def *d,
    const char *text)
{
	char want[160], got[SHOW_MAX + 8];

	describe(d, want, sizeof(want));
	return fail(app, KILN_ECONFIG, src, line, "%s: expected %s, got '%s'",
	    d->name, want, show(text, got, sizeof(got)));
}

/*
 * Stores text as e's value in layer, after checking it against e's
 * definition. A typed value is stored trimmed. NULL text unsets the layer.
 */
static kiln_err
store(kiln_app *app, entry *e, int lay, const char *text, const char *src,
    int line)
{
	kiln__settings *s = app->settings;
	int64_t num = 0;
	kiln_str t;
	char *copy;

	if (text == NULL) {
		e->v[lay].text = NULL;
		e->v[lay].num = 0;
		return KILN_OK;
	}
	if (e->def != NULL && parse_value(e->def, text, &num) != KILN_OK)
		return bad_value(app, src, line, e->def, text);
	if (e->def != NULL && e->def->type != KILN_SETTING_STR &&
	    e->def->type != KILN_SETTING_SECRET &&
	    e->def->type != KILN_SETTING_PATH)
		t = trim(text);
	else
		t = kiln_str_c(text);
	copy = kiln_arena_strndup(s->a, t.ptr, t.len);
	if (copy == NULL)
		return kiln__app_error(app, KILN_ENOMEM,
		    "settings: out of memory");
	e->v[lay].text = copy;
	e->v[lay].num = num;
	return KILN_OK;
}

/* True when name is "section.key" of letters, digits, '_', '-' and dots. */
static bool
name_ok(const char *name)
{
	size_t len = strlen(name), i;

	if (len == 0 || len > NAME_MAX_LEN || name[0] == '.' ||
	    name[len - 1] == '.' || strchr(name, '.') == NULL ||
	    strstr(name, "..") != NULL)
		return false;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' &&
		    name[i] != '-' && name[i] != '.')
			return false;
	}
	return true;
}

/*
 * Checks one definition before anything is registered: its shape, its
 * bounds, its default, and that no other definition (in this table or
 * already registered) has its name.
 */
static kiln_err
def_check(kiln_app *app, const kiln_setting_def *defs, size_t i)
{
	const kiln_setting_def *d = &defs[i];
	const entry *e;
	int64_t num;
	size_t j;

	if (d->name == NULL || !name_ok(d->name))
		return fail(app, KILN_EINVAL, NULL, 0,
		    "setting name '%s' is not section.key (letters, digits, "
		    "'_', '-', at most %d bytes)",
		    d->name != NULL ? d->name : "(null)", NAME_MAX_LEN);
	if ((unsigned)d->type >= KILN_SETTING__MAX)
		return fail(app, KILN_EINVAL, NULL, 0, "%s: unknown type %d",
		    d->name, (int)d->type);
	if (d->max != 0 && d->min > d->max)
		return fail(app, KILN_EINVAL, NULL, 0,
		    "%s: min %" PRId64 " is above max %" PRId64, d->name,
		    d->min, d->max);
	if (d->def != NULL && parse_value(d, d->def, &num) != KILN_OK)
		return fail(app, KILN_EINVAL, NULL, 0, "%s: bad default '%s'",
		    d->name, d->def);
	for (j = 0; j < i; j++) {
		if (strcmp(defs[j].name, d->name) == 0)
			return fail(app, KILN_EEXIST, NULL, 0,
			    "setting %s is defined twice", d->name);
	}
	e = lookup(app->settings, d->name, NULL);
	if (e != NULL && e->def != NULL)
		return fail(app, KILN_EEXIST, NULL, 0,
		    "setting %s is defined twice", d->name);
	if (e != NULL && e->v[LAYER_FILE].text != NULL &&
	    parse_value(d, e->v[LAYER_FILE].text, &num) != KILN_OK)
		return bad_value(app, NULL, 0, d, e->v[LAYER_FILE].text);
	return KILN_OK;
}

kiln_err
kiln_settings_register(kiln_app *app, const kiln_setting_def *defs, size_t n)
{
	kiln__settings *s = app->settings;
	const kiln_setting_def *d;
	size_t i, pos;
	kiln_err rc;
	entry *e;

	if (app->configured)
		return fail(app, KILN_EINVAL, NULL, 0,
		    "settings registered after kiln_app_configure: register "
		    "them (and use extensions) before configuring");
	if (n > 0 && defs == NULL)
		return fail(app, KILN_EINVAL, NULL, 0,
		    "settings table is NULL");
	for (i = 0; i < n; i++) {
		if ((rc = def_check(app, defs, i)) != KILN_OK)
			return rc;
	}
	for (i = 0; i < n; i++) {
		d = &defs[i];
		e = lookup(s, d->name, &pos);
		if (e == NULL) {
			e = kiln_arena_calloc(s->a, 1, sizeof(*e));
			if (e == NULL || insert(s, pos, e) != KILN_OK)
				return kiln__app_error(app, KILN_ENOMEM,
				    "settings: out of memory");
		}
		/* An application value set before registration is adopted. */
		e->name = d->name;
		e->def = d;
		e->v[LAYER_DEFAULT].text = d->def;
		if (d->def != NULL)
			(void)parse_value(d, d->def, &e->v[LAYER_DEFAULT].num);
		if (e->v[LAYER_FILE].text != NULL)
			(void)parse_value(d, e->v[LAYER_FILE].text,
			    &e->v[LAYER_FILE].num);
	}
	return KILN_OK;
}

void
kiln__settings_unregister(kiln_app *app, const kiln_setting_def *defs, size_t n)
{
	kiln__settings *s = app->settings;
	size_t i, pos, k;
	entry *e;

	for (i = 0; i < n; i++) {
		e = lookup(s, defs[i].name, NULL);
		if (e == NULL || e->def != &defs[i])
			continue;
		for (pos = 0; s->entries.items[pos] != e; pos++)
			continue;
		for (k = pos; k + 1 < s->entries.n; k++)
			s->entries.items[k] = s->entries.items[k + 1];
		s->entries.n--;
	}
}

/*
 * Finds or creates the entry for name (section.key) on behalf of src and
 * line. A name in a registered section must be registered; any other is
 * the application's own and is created as text.
 */
static kiln_err
entry_get(kiln_app *app, const char *name, const char *src, int line,
    entry **out)
{
	kiln__settings *s = app->settings;
	size_t pos, len = section_len(name);
	const char *near;
	entry *e;

	*out = lookup(s, name, &pos);
	if (*out != NULL)
		return KILN_OK;
	if (len == 0 || name[len + 1] == '\0')
		return fail(app, KILN_ECONFIG, src, line,
		    "%s: not of the form section.key", name);
	if (section_registered(s, name, len, false)) {
		near = closest(s, name);
		return fail(app, KILN_ECONFIG, src, line,
		    "%s: unknown setting%s%s%s", name,
		    near != NULL ? " (did you mean " : "",
		    near != NULL ? near : "", near != NULL ? "?)" : "");
	}
	if (section_registered(s, name, len, true))
		return fail(app, KILN_ECONFIG, src, line,
		    "%s: unknown section [%.*s] (section names are case "
		    "sensitive)",
		    name, (int)len, name);
	e = kiln_arena_calloc(s->a, 1, sizeof(*e));
	if (e == NULL || (e->name = kiln_arena_strdup(s->a, name)) == NULL ||
	    insert(s, pos, e) != KILN_OK)
		return kiln__app_error(app, KILN_ENOMEM,
		    "settings: out of memory");
	*out = e;
	return KILN_OK;
}

kiln_err
kiln_setting_set(kiln_app *app, const char *name, const char *value)
{
	entry *e;
	kiln_err rc;

	if (name == NULL)
		return fail(app, KILN_ECONFIG, NULL, 0, "setting name is NULL");
	/* Clearing what was never set creates nothing. */
	if (value == NULL && lookup(app->settings, name, NULL) == NULL)
		return KILN_OK;
	if ((rc = entry_get(app, name, NULL, 0, &e)) != KILN_OK)
		return rc;
	return store(app, e, LAYER_FILE, value, NULL, 0);
}

/* Finds name for the getters; NULL when unknown. */
static const entry *
find(const kiln_app *app, const char *name)
{
	if (app == NULL || app->settings == NULL || name == NULL)
		return NULL;
	return lookup(app->settings, name, NULL);
}

const char *
kiln_setting_str(const kiln_app *app, const char *name)
{
	const entry *e = find(app, name);
	const layer *l;

	if (e == NULL || (l = effective(e)) == NULL)
		return NULL;
	return l->text;
}

int64_t
kiln_setting_int(const kiln_app *app, const char *name)
{
	const entry *e = find(app, name);
	const layer *l;

	if (e == NULL || e->def == NULL || (l = effective(e)) == NULL)
		return 0;
	switch (e->def->type) {
	case KILN_SETTING_INT:
	case KILN_SETTING_SIZE:
	case KILN_SETTING_SECONDS:
		return l->num;
	default:
		return 0;
	}
}

bool
kiln_setting_bool(const kiln_app *app, const char *name)
{
	const entry *e = find(app, name);
	const layer *l;

	if (e == NULL || e->def == NULL || e->def->type != KILN_SETTING_BOOL ||
	    (l = effective(e)) == NULL)
		return false;
	return l->num != 0;
}

/* True when an unregistered key's name suggests a secret. */
static bool
looks_secret(const char *name)
{
	const char *key = name + section_len(name);
	size_t i, j, wl, kl = strlen(key);

	for (i = 0; i < sizeof(secret_words) / sizeof(secret_words[0]); i++) {
		wl = strlen(secret_words[i]);
		for (j = 0; j + wl <= kl; j++) {
			if (strncasecmp(key + j, secret_words[i], wl) == 0)
				return true;
		}
	}
	return false;
}

/*
 * Writes text into buf with the password of a URL ("scheme://user:pw@")
 * masked. Returns text itself when there is none, or MASK when the result
 * would not fit.
 */
static const char *
mask_url(const char *text, char *buf, size_t size)
{
	const char *p = strstr(text, "://"), *at = NULL, *colon;
	size_t auth, i;

	if (p == NULL)
		return text;
	p += 3;
	/* The userinfo ends at the last '@' before the path. */
	auth = strcspn(p, "/?#");
	for (i = 0; i < auth; i++) {
		if (p[i] == '@')
			at = p + i;
	}
	if (at == NULL)
		return text;
	colon = memchr(p, ':', (size_t)(at - p));
	if (colon == NULL)
		return text;
	if (snprintf(buf, size, "%.*s" MASK "%s", (int)(colon + 1 - text), text,
		at) >= (int)size)
		return MASK;
	return buf;
}

void
kiln_settings_each(const kiln_app *app, kiln_setting_visit_fn fn, void *data)
{
	const kiln__settings *s = app->settings;
	char buf[512];
	const entry *e;
	const layer *l;
	const char *shown;
	bool secret;
	size_t i;

	for (i = 0; i < s->entries.n; i++) {
		e = s->entries.items[i];
		l = effective(e);
		if (e->def != NULL)
			secret = e->def->type == KILN_SETTING_SECRET;
		else
			secret = looks_secret(e->name);
		if (l == NULL || l->text[0] == '\0')
			shown = "";
		else if (secret)
			shown = MASK;
		else
			shown = mask_url(l->text, buf, sizeof(buf));
		fn(e->name, shown, data);
	}
}

/*
 * libinih's line reader. It hands libinih one line at a time, which lets
 * us count lines (the Debian build gives the handler no line number) and
 * catch what libinih would get wrong silently: a line longer than its
 * buffer (num bytes with "\r\n\0", 200 on Debian) would be split in two,
 * a NUL byte would cut a line short, and a section name over 49 bytes
 * would be truncated. Each is an error; returning NULL ends the parse.
 */
static char *
ini_read(char *str, int num, void *stream)
{
	parse *p = stream;
	size_t n = 0, len = 0, name;
	int c = EOF, last = 0, before = 0;
	const char *q;
	bool nul = false;

	if (p->err_line != 0 || num < 4)
		return NULL;
	while (last != '\n' && (c = getc(p->fp)) != EOF) {
		if (c == '\0')
			nul = true;
		if (n + 1 < (size_t)num)
			str[n++] = (char)c;
		len++;
		before = last;
		last = c;
	}
	if (c == EOF && ferror(p->fp)) {
		p->read_errno = errno != 0 ? errno : EIO;
		return NULL;
	}
	if (len == 0)
		return NULL;
	str[n] = '\0';
	p->line++;
	p->indented =
	    str[0] == ' ' || str[0] == '\t' || str[0] == '\v' || str[0] == '\f';
	/* The length without the line ending, which libinih also stores. */
	if (last == '\n')
		len -= before == '\r' ? 2 : 1;
	else if (last == '\r')
		len--;
	if (nul) {
		p->rc = fail(p->app, KILN_ECONFIG, p->path, p->line,
		    "NUL byte in the line");
	} else if (len > (size_t)num - 3) {
		p->rc = fail(p->app, KILN_ECONFIG, p->path, p->line,
		    "line is %zu bytes long; libinih reads at most %zu", len,
		    (size_t)num - 3);
	} else {
		for (q = str; isspace((unsigned char)*q); q++)
			continue;
		name = *q == '[' ? strcspn(q + 1, "]") : 0;
		if (name <= SECTION_MAX_LEN)
			return str;
		p->rc = fail(p->app, KILN_ECONFIG, p->path, p->line,
		    "section name is over %d bytes", SECTION_MAX_LEN);
	}
	p->err_line = p->line;
	return NULL;
}

/*
 * Makes each relative element of a PATH value (':'-separated) relative
 * to the directory of the settings file it was read from, as an absolute
 * path, so that a site's settings work whatever directory it runs in.
 * Returns the new text in the settings arena, or NULL when out of memory.
 */
static const char *
resolve_paths(parse *p, const char *value)
{
	char dir[PATH_MAX], abs[PATH_MAX], *slash;
	const char *elem, *end;
	kiln_buf b;

	if (strlen(p->path) >= sizeof(dir))
		return value;
	memcpy(dir, p->path, strlen(p->path) + 1);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (realpath(dir, abs) == NULL)
		return value;
	kiln_buf_init(&b, p->app->settings->a, strlen(value) + 64);
	for (elem = value;; elem = end + 1) {
		end = strchr(elem, ':');
		if (end == NULL)
			end = elem + strlen(elem);
		if (elem != value)
			kiln_buf_append_char(&b, ':');
		if (end > elem && elem[0] != '/')
			kiln_buf_printf(&b, "%s/", abs);
		kiln_buf_append(&b, elem, (size_t)(end - elem));
		if (*end == '\0')
			break;
	}
	return b.oom ? NULL : b.ptr;
}

/*
 * Handles one "key = value" line of section: builds "section.key" and
 * refuses keys outside a section, unknown keys in registered sections,
 * keys set twice and continuation lines (libinih would append an indented
 * line to the previous value), then stores the value in the file layer.
 */
static kiln_err
file_entry(parse *p, const char *section, const char *key, const char *value)
{
	char name[512];
	kiln_err rc;
	entry *e;

	if (section[0] == '\0')
		return fail(p->app, KILN_ECONFIG, p->path, p->line,
		    "key outside a section");
	if (key[0] == '\0')
		return fail(p->app, KILN_ECONFIG, p->path, p->line,
		    "empty key in [%s]", section);
	if (snprintf(name, sizeof(name), "%s.%s", section, key) >=
	    (int)sizeof(name))
		return fail(p->app, KILN_ECONFIG, p->path, p->line,
		    "key too long");
	if ((rc = entry_get(p->app, name, p->path, p->line, &e)) != KILN_OK)
		return rc;
	if (p->indented && e == p->last)
		return fail(p->app, KILN_ECONFIG, p->path, p->line,
		    "indented line continues the value of %s: values are one "
		    "line (remove the indentation)",
		    e->name);
	if (e->line != 0)
		return fail(p->app, KILN_ECONFIG, p->path, p->line,
		    "%s: set twice (first on line %d)", e->name, e->line);
	if (e->def != NULL && e->def->type == KILN_SETTING_PATH &&
	    (value = resolve_paths(p, value)) == NULL)
		return kiln__app_error(p->app, KILN_ENOMEM,
		    "settings: out of memory");
	if ((rc = store(p->app, e, LAYER_FILE, value, p->path, p->line)) !=
	    KILN_OK)
		return rc;
	e->line = p->line;
	p->last = e;
	return KILN_OK;
}

/*
 * libinih's handler. Returns 0 on error, as libinih expects; the first
 * error's message stays on the app and later calls do nothing.
 */
static int
ini_entry(void *user, const char *section, const char *key, const char *value)
{
	parse *p = user;

	if (p->err_line != 0)
		return 0;
	p->rc = file_entry(p, section, key, value);
	if (p->rc != KILN_OK) {
		p->err_line = p->line;
		return 0;
	}
	return 1;
}

/* Reads the INI file at path into the file layer. */
static kiln_err
load_file(kiln_app *app, const char *path)
{
	kiln__settings *s = app->settings;
	parse p;
	kiln_err rc;
	size_t i;
	int ln;

	memset(&p, 0, sizeof(p));
	p.app = app;
	p.path = path;
	p.fp = fopen(path, "r");
	if (p.fp == NULL)
		return fail(app, KILN_ECONFIG, NULL, 0, "open %s: %s", path,
		    strerror(errno));
	for (i = 0; i < s->entries.n; i++)
		((entry *)s->entries.items[i])->line = 0;
	ln = ini_parse_stream(ini_read, &p, ini_entry, &p);
	if (p.read_errno != 0)
		rc = fail(app, KILN_ECONFIG, NULL, 0, "read %s: %s", path,
		    strerror(p.read_errno));
	else if (ln > 0 && (p.err_line == 0 || ln < p.err_line))
		rc = fail(app, KILN_ECONFIG, path, ln,
		    "syntax error (expected [section], key = value, or a "
		    "comment)");
	else if (p.err_line != 0)
		rc = p.rc;
	else if (ln < 0)
		rc = kiln__app_error(app, KILN_ENOMEM, "read %s: out of memory",
		    path);
	else
		rc = KILN_OK;
	fclose(p.fp);
	return rc;
}

/* Writes the KILN_<SECTION>_<KEY> name of a setting into buf. */
static void
env_name(const char *name, char *buf, size_t size)
{
	size_t i, n;

	n = (size_t)snprintf(buf, size, "KILN_");
	for (i = 0; name[i] != '\0' && n + 1 < size; i++, n++) {
		if (name[i] == '.' || name[i] == '-')
			buf[n] = '_';
		else
			buf[n] = (char)toupper((unsigned char)name[i]);
	}
	buf[n] = '\0';
}

/*
 * Replaces the environment layer: KILN_<SECTION>_<KEY> for every
 * registered setting, then the 12-factor aliases for those the KILN_ form
 * did not set. An empty variable counts as unset.
 */
static kiln_err
load_env(kiln_app *app)
{
	kiln__settings *s = app->settings;
	char var[NAME_MAX_LEN + 16];
	const char *val;
	kiln_err rc;
	entry *e;
	size_t i;

	for (i = 0; i < s->entries.n; i++) {
		e = s->entries.items[i];
		e->v[LAYER_ENV].text = NULL;
		if (e->def == NULL)
			continue;
		env_name(e->name, var, sizeof(var));
		val = getenv(var);
		if (val != NULL && val[0] != '\0' &&
		    (rc = store(app, e, LAYER_ENV, val, var, 0)) != KILN_OK)
			return rc;
	}
	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		e = lookup(s, aliases[i].name, NULL);
		if (e == NULL || e->def == NULL || e->v[LAYER_ENV].text != NULL)
			continue;
		val = getenv(aliases[i].var);
		if (val != NULL && val[0] != '\0' &&
		    (rc = store(app, e, LAYER_ENV, val, aliases[i].var, 0)) !=
			KILN_OK)
			return rc;
	}
	return KILN_OK;
}

/*
 * Finds values given with kiln_setting_set before their section was
 * registered and that no definition claimed.
 */
static kiln_err
check_orphans(kiln_app *app)
{
	const kiln__settings *s = app->settings;
	const entry *e;
	size_t i;

	for (i = 0; i < s->entries.n; i++) {
		e = s->entries.items[i];
		if (e->def == NULL && e->v[LAYER_FILE].text != NULL &&
		    section_registered(s, e->name, section_len(e->name), false))
			return fail(app, KILN_ECONFIG, NULL, 0,
			    "%s: unknown setting", e->name);
	}
	return KILN_OK;
}

kiln_err
kiln_app_configure(kiln_app *app, const char *path)
{
	kiln_err rc;

	if (app == NULL || app->settings == NULL)
		return KILN_EINVAL;
	app->errmsg[0] = '\0';
	if (path != NULL && (rc = load_file(app, path)) != KILN_OK)
		return rc;
	if ((rc = check_orphans(app)) != KILN_OK)
		return rc;
	if ((rc = load_env(app)) != KILN_OK)
		return rc;
	app->configured = true;
	rc = kiln__app_settings_loaded(app);
	if (rc != KILN_OK) {
		app->configured = false;
		return rc;
	}
	app->configured = true;
	return KILN_OK;
}
