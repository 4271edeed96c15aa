/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Template environments: the loader (in-memory sources, then directories
 * in order), the cache of compiled templates keyed by name, user filters
 * and tags, and the public render entry points. A template is compiled
 * the first time it is loaded and kept for the environment's life; with
 * reload on, its file's mtime is checked on every load and a changed file
 * is compiled again. The old tree is retired, not freed, because a render
 * in progress may still be walking it (a template that includes itself
 * while being edited); retired trees are freed with the environment.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <kiln/kiln.h>

#include "template_int.h"

#define TPL_CTX_MAX_DEPTH 64

kiln_template_env *
kiln_template_env_new(const kiln_template_limits *lim)
{
	kiln_template_env *env;
	kiln_arena *a;

	a = kiln_arena_new(0);
	if (a == NULL)
		return NULL;
	env = kiln_arena_calloc(a, 1, sizeof(*env));
	if (env == NULL) {
		kiln_arena_free(a);
		return NULL;
	}
	env->a = a;
	if (lim != NULL)
		env->lim = *lim;
	if (env->lim.max_source == 0)
		env->lim.max_source = 1024 * 1024;
	if (env->lim.max_tokens == 0)
		env->lim.max_tokens = 100000;
	if (env->lim.max_depth == 0)
		env->lim.max_depth = 100;
	if (env->lim.max_include == 0)
		env->lim.max_include = 32;
	if (env->lim.max_output == 0)
		env->lim.max_output = 64 * 1024 * 1024;
	if (env->lim.max_steps == 0)
		env->lim.max_steps = 50 * 1000 * 1000;
	env->static_url = "/static/";
	return env;
}

void
kiln_template_env_free(kiln_template_env *env)
{
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; i < env->cache.n; i++)
		kiln__tpl_free(env->cache.items[i]);
	for (i = 0; i < env->retired.n; i++)
		kiln_arena_free(env->retired.items[i]);
	kiln_arena_free(env->a);
}

kiln_err
kiln_template_env_add_dir(kiln_template_env *env, const char *dir)
{
	char *d;

	d = kiln_arena_strdup(env->a, dir);
	if (d == NULL || kiln__ptrs_push(&env->dirs, env->a, d) != KILN_OK)
		return KILN_ENOMEM;
	return KILN_OK;
}

/* Adds an in-memory template; builtin ones are found after directories. */
static kiln_err
add_source(kiln_template_env *env, const char *name, kiln_str source,
    bool builtin)
{
	tpl_source *s;

	s = kiln_arena_calloc(env->a, 1, sizeof(*s));
	if (s == NULL)
		return KILN_ENOMEM;
	s->name = kiln_arena_strdup(env->a, name);
	s->src = kiln_str_dup(env->a, source);
	s->builtin = builtin;
	if (s->name == NULL || (s->src.ptr == NULL && source.len > 0) ||
	    kiln__ptrs_push(&env->sources, env->a, s) != KILN_OK)
		return KILN_ENOMEM;
	return KILN_OK;
}

kiln_err
kiln_template_env_add_source(kiln_template_env *env, const char *name,
    kiln_str source)
{
	return add_source(env, name, source, false);
}

kiln_err
kiln__tpl_add_builtin(kiln_template_env *env, const char *name, kiln_str source)
{
	return add_source(env, name, source, true);
}

/* Finds an in-memory source of that kind, newest first. */
static const tpl_source *
find_mem(const kiln_template_env *env, const char *name, bool builtin)
{
	const tpl_source *s;
	size_t i;

	for (i = env->sources.n; i > 0; i--) {
		s = env->sources.items[i - 1];
		if (s->builtin == builtin && strcmp(s->name, name) == 0)
			return s;
	}
	return NULL;
}

void
kiln_template_env_set_reload(kiln_template_env *env, bool reload)
{
	env->reload = reload;
}

kiln_err
kiln_template_env_set_static_url(kiln_template_env *env, const char *url)
{
	char *u;

	u = kiln_arena_strdup(env->a, url);
	if (u == NULL)
		return KILN_ENOMEM;
	env->static_url = u;
	return KILN_OK;
}

void
kiln_template_env_set_url_fn(kiln_template_env *env, kiln_template_url_fn fn,
    void *data)
{
	env->url_fn = fn;
	env->url_data = data;
}

/* Filter and tag names are identifiers. */
static bool
valid_name(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0')
		return false;
	for (i = 0; name[i] != '\0'; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
			(name[i] >= 'A' && name[i] <= 'Z') ||
			(name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return false;
	return true;
}

kiln_err
kiln_template_add_filter(kiln_template_env *env, const char *name,
    kiln_template_filter_fn fn, unsigned flags)
{
	tpl_filter *f;

	if (!valid_name(name) || fn == NULL)
		return KILN_EINVAL;
	f = kiln_arena_calloc(env->a, 1, sizeof(*f));
	if (f == NULL)
		return KILN_ENOMEM;
	f->name = kiln_arena_strdup(env->a, name);
	f->fn = fn;
	f->flags = flags;
	if (f->name == NULL ||
	    kiln__ptrs_push(&env->filters, env->a, f) != KILN_OK)
		return KILN_ENOMEM;
	return KILN_OK;
}

kiln_err
kiln_template_add_tag(kiln_template_env *env, const char *name,
    kiln_template_tag_fn fn, void *data)
{
	tpl_tag *t;

	if (!valid_name(name) || fn == NULL)
		return KILN_EINVAL;
	t = kiln_arena_calloc(env->a, 1, sizeof(*t));
	if (t == NULL)
		return KILN_ENOMEM;
	t->name = kiln_arena_strdup(env->a, name);
	t->fn = fn;
	t->data = data;
	if (t->name == NULL ||
	    kiln__ptrs_push(&env->tags, env->a, t) != KILN_OK)
		return KILN_ENOMEM;
	return KILN_OK;
}

const tpl_filter *
kiln__tpl_user_filter(const kiln_template_env *env, kiln_str name)
{
	const tpl_filter *f;
	size_t i;

	for (i = env->filters.n; i > 0; i--) {
		f = env->filters.items[i - 1];
		if (kiln_str_eq_c(name, f->name))
			return f;
	}
	return NULL;
}

const tpl_tag *
kiln__tpl_user_tag(const kiln_template_env *env, kiln_str name)
{
	const tpl_tag *t;
	size_t i;

	for (i = env->tags.n; i > 0; i--) {
		t = env->tags.items[i - 1];
		if (kiln_str_eq_c(name, t->name))
			return t;
	}
	return NULL;
}

/* Django's safe_join rule: relative, no "..", no empty name. */
static bool
safe_name(const char *name)
{
	const char *p;

	if (name[0] == '\0' || name[0] == '/')
		return false;
	for (p = name; *p != '\0'; p++) {
		if (p[0] == '.' && p[1] == '.' && (p == name || p[-1] == '/') &&
		    (p[2] == '/' || p[2] == '\0'))
			return false;
	}
	return true;
}

/* Returns the file's mtime in ns, or -1. */
static int64_t
file_mtime(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) == -1)
		return -1;
	return (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
}

/*
 * Finds name's source: in-memory templates, then each directory in
 * order, then the built-in templates.
 */
static kiln_err
find_source(kiln_template_env *env, kiln_arena *tmp, const char *name,
    kiln_str *src, const char **path, int64_t *mtime, char *err, size_t errlen)
{
	const tpl_source *s;
	const char *dir;
	char *p;
	size_t i;
	kiln_err rc;

	*path = NULL;
	*mtime = 0;
	s = find_mem(env, name, false);
	if (s != NULL) {
		*src = s->src;
		return KILN_OK;
	}
	if (safe_name(name)) {
		for (i = 0; i < env->dirs.n; i++) {
			dir = env->dirs.items[i];
			p = kiln_arena_printf(tmp, "%s/%s", dir, name);
			if (p == NULL)
				return KILN_ENOMEM;
			rc = kiln__file_read(tmp, p, env->lim.max_source, src,
			    mtime);
			if (rc == KILN_ENOTFOUND)
				continue;
			if (rc == KILN_ELIMIT && err != NULL)
				snprintf(err, errlen,
				    "%s: template is over "
				    "the limit of %zu bytes",
				    p, env->lim.max_source);
			else if (rc != KILN_OK && err != NULL)
				snprintf(err, errlen,
				    "%s: cannot read the "
				    "template",
				    p);
			*path = p;
			return rc;
		}
	}
	/* Built-in templates come last, so an app can override them. */
	s = find_mem(env, name, true);
	if (s != NULL) {
		*src = s->src;
		return KILN_OK;
	}
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "template '%s' does not exist", name);
	return KILN_ENOTFOUND;
}

tpl_template *
kiln__tpl_load(kiln_template_env *env, const char *name, kiln_err *rc,
    char *err, size_t errlen)
{
	tpl_template *t = NULL;
	kiln_arena *tmp;
	kiln_str src;
	const char *path;
	int64_t mtime;
	size_t i, slot = SIZE_MAX;

	for (i = 0; i < env->cache.n; i++) {
		t = env->cache.items[i];
		if (strcmp(t->name, name) != 0)
			continue;
		if (!env->reload || t->path == NULL ||
		    file_mtime(t->path) == t->mtime) {
			*rc = KILN_OK;
			return t;
		}
		slot = i;
		break;
	}
	tmp = kiln_arena_new(0);
	if (tmp == NULL) {
		*rc = KILN_ENOMEM;
		return NULL;
	}
	*rc = find_source(env, tmp, name, &src, &path, &mtime, err, errlen);
	t = NULL;
	if (*rc == KILN_OK)
		t = kiln__tpl_compile(env, name, src, rc, err, errlen);
	if (t != NULL && path != NULL) {
		t->path = kiln_arena_strdup(t->a, path);
		t->mtime = mtime;
		if (t->path == NULL) {
			kiln__tpl_free(t);
			t = NULL;
			*rc = KILN_ENOMEM;
		}
	}
	kiln_arena_free(tmp);
	if (t == NULL)
		return NULL;
	if (slot != SIZE_MAX) {
		if (kiln__ptrs_push(&env->retired, env->a,
			((tpl_template *)env->cache.items[slot])->a) != KILN_OK)
			goto oom;
		env->cache.items[slot] = t;
	} else if (kiln__ptrs_push(&env->cache, env->a, t) != KILN_OK) {
		goto oom;
	}
	return t;
oom:
	kiln__tpl_free(t);
	*rc = KILN_ENOMEM;
	return NULL;
}

kiln_err
kiln_template_check(kiln_template_env *env, const char *name, char *err,
    size_t errlen)
{
	kiln_err rc;

	if (kiln__tpl_load(env, name, &rc, err, errlen) == NULL)
		return rc;
	return KILN_OK;
}

kiln_err
kiln_template_render(kiln_template_env *env, const char *name,
    const kiln_val *ctx, kiln_arena *a, kiln_str *out, char *err, size_t errlen)
{
	tpl_template *t;
	kiln_buf b;
	kiln_err rc;
	const kiln_val *ctxs[1];

	t = kiln__tpl_load(env, name, &rc, err, errlen);
	if (t == NULL)
		return rc;
	ctxs[0] = ctx;
	kiln_buf_init(&b, a, t->src.len * 2 + 1024);
	rc = kiln__tpl_render(env, t, ctxs, ctx != NULL ? 1 : 0, a, &b, err,
	    errlen);
	if (rc != KILN_OK)
		return rc;
	if (b.oom)
		return KILN_ENOMEM;
	*out = kiln_buf_str(&b);
	return KILN_OK;
}

kiln_err
kiln_template_render_str(kiln_template_env *env, kiln_str src,
    const kiln_val *ctx, kiln_arena *a, kiln_str *out, char *err, size_t errlen)
{
	kiln_template_env *own = NULL;
	tpl_template *t;
	kiln_buf b;
	kiln_err rc;
	const kiln_val *ctxs[1];

	if (env == NULL) {
		own = env = kiln_template_env_new(NULL);
		if (env == NULL)
			return KILN_ENOMEM;
	}
	t = kiln__tpl_compile(env, "<string>", src, &rc, err, errlen);
	if (t != NULL) {
		ctxs[0] = ctx;
		kiln_buf_init(&b, a, src.len + 256);
		rc = kiln__tpl_render(env, t, ctxs, ctx != NULL ? 1 : 0, a, &b,
		    err, errlen);
		if (rc == KILN_OK && b.oom)
			rc = KILN_ENOMEM;
		if (rc == KILN_OK)
			*out = kiln_buf_str(&b);
		kiln__tpl_free(t);
	}
	kiln_template_env_free(own);
	return rc;
}

/* --- JSON contexts ----------------------------------------------------------
 */

/* Reads n digits at s[*i] into *out. */
static bool
iso_num(kiln_str s, size_t *i, size_t n, int *out)
{
	size_t k;
	int r = 0;

	if (*i + n > s.len)
		return false;
	for (k = 0; k < n; k++) {
		if (s.ptr[*i + k] < '0' || s.ptr[*i + k] > '9')
			return false;
		r = r * 10 + (s.ptr[*i + k] - '0');
	}
	*i += n;
	*out = r;
	return true;
}

kiln_err
kiln__tpl_parse_iso(kiln_str s, int64_t *secs, int32_t *usec)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	int y, mo, d, h = 0, mi = 0, se = 0, us = 0, k;
	size_t i = 0;

	if (!iso_num(s, &i, 4, &y) || i >= s.len || s.ptr[i++] != '-' ||
	    !iso_num(s, &i, 2, &mo) || i >= s.len || s.ptr[i++] != '-' ||
	    !iso_num(s, &i, 2, &d))
		return KILN_EPARSE;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 &&
		!((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
		return KILN_EPARSE;
	if (i < s.len) {
		if (s.ptr[i] != 'T' && s.ptr[i] != ' ')
			return KILN_EPARSE;
		i++;
		if (!iso_num(s, &i, 2, &h) || i >= s.len || s.ptr[i++] != ':' ||
		    !iso_num(s, &i, 2, &mi))
			return KILN_EPARSE;
		if (i < s.len && s.ptr[i] == ':') {
			i++;
			if (!iso_num(s, &i, 2, &se))
				return KILN_EPARSE;
			if (i < s.len && s.ptr[i] == '.') {
				i++;
				for (k = 0; k < 6; k++) {
					us *= 10;
					if (i < s.len && s.ptr[i] >= '0' &&
					    s.ptr[i] <= '9')
						us += s.ptr[i++] - '0';
					else if (k == 0)
						return KILN_EPARSE;
				}
			}
		}
		if (i != s.len || h > 23 || mi > 59 || se > 59)
			return KILN_EPARSE;
	}
	*secs = kiln__tpl_days_from_civil(y, mo, d) * 86400 + h * 3600 +
	    mi * 60 + se;
	*usec = us;
	return KILN_OK;
}

/* Replaces {"$datetime": "..."} objects below v, in place. */
static kiln_err
convert_dates(kiln_arena *a, kiln_val *v, size_t depth, char *err,
    size_t errlen)
{
	kiln_val *s;
	int64_t secs;
	int32_t usec;
	size_t i;
	kiln_err rc;

	if (depth > TPL_CTX_MAX_DEPTH)
		return KILN_ELIMIT;
	if (v->type == KILN_VAL_LIST) {
		for (i = 0; i < v->u.list.n; i++) {
			rc = convert_dates(a, v->u.list.items[i], depth + 1,
			    err, errlen);
			if (rc != KILN_OK)
				return rc;
		}
		return KILN_OK;
	}
	if (v->type != KILN_VAL_MAP)
		return KILN_OK;
	s = kiln_val_get(v, "$safe");
	if (v->u.map.n == 1 && s != NULL && s->type == KILN_VAL_STR) {
		v->type = KILN_VAL_SAFE;
		v->u.s = s->u.s;
		return KILN_OK;
	}
	s = kiln_val_get(v, "$datetime");
	if (v->u.map.n == 1 && s != NULL) {
		if (s->type != KILN_VAL_STR ||
		    kiln__tpl_parse_iso(s->u.s, &secs, &usec) != KILN_OK) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen,
				    "bad $datetime value "
				    "(want \"YYYY-MM-DDTHH:MM:SS\")");
			return KILN_EPARSE;
		}
		v->type = KILN_VAL_DATETIME;
		v->u.dt.secs = secs;
		v->u.dt.usec = usec;
		return KILN_OK;
	}
	for (i = 0; i < v->u.map.n; i++) {
		rc = convert_dates(a, v->u.map.items[i].val, depth + 1, err,
		    errlen);
		if (rc != KILN_OK)
			return rc;
	}
	return KILN_OK;
}

kiln_val *
kiln_template_json_context(kiln_arena *a, kiln_str text, char *err,
    size_t errlen)
{
	kiln_val *v;

	v = kiln_json_parse(a, text, TPL_CTX_MAX_DEPTH, err, errlen);
	if (v == NULL)
		return NULL;
	if (convert_dates(a, v, 0, err, errlen) != KILN_OK)
		return NULL;
	return v;
}

kiln_err
kiln_template_env_load_manifest(kiln_template_env *env, const char *path)
{
	kiln_str text;
	kiln_val *v, *paths;
	int64_t mtime;
	kiln_err rc;

	rc = kiln__file_read(env->a, path, 64 * 1024 * 1024, &text, &mtime);
	if (rc != KILN_OK)
		return rc == KILN_ENOTFOUND ? KILN_EIO : rc;
	v = kiln_json_parse(env->a, text, 8, NULL, 0);
	paths = kiln_val_get(v, "paths");
	if (paths == NULL || paths->type != KILN_VAL_MAP)
		return KILN_EPARSE;
	env->manifest = paths;
	return KILN_OK;
}
