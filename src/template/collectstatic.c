/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * `APP collectstatic`: copies every file under the static directories
 * (static.dirs, colon-separated; default app.static_dir) into static.root,
 * both under its own name and under a content-hashed name
 * ("css/site.css" -> "css/site.5d41402abc4b.css": the first 12 hex digits
 * of the MD5 of the bytes, as Django's ManifestStaticFilesStorage names
 * them), and writes static.root/staticfiles.json mapping one to the
 * other. With static.manifest on, {% static %} then emits hashed names,
 * which nginx can serve with far-future caching. When two directories
 * hold the same relative path the first wins, as in Django. As Django's
 * storage does, url(...) references inside CSS files are rewritten to
 * the hashed names of the files they point at, in the hashed copy of the
 * CSS (whose hash is taken after the rewrite); CSS files are therefore
 * hashed after every other file, in name order.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <kiln/kiln.h>

#include "kiln_int.h"
#include "template_int.h"

#define CS_MAX_DEPTH 32
#define CS_MAX_FILE  (512 * 1024 * 1024)

typedef struct cs_state {
	kiln_arena *a;
	const char *root; /* static.root */
	kiln_val *paths;  /* relative path -> hashed path */
	size_t copied;	  /* files written */
	bool manifest;	  /* write hashed copies and the manifest */
	kiln__ptrs css;	  /* (source, rel) pairs of CSS files, for later */
	bool css_pass;	  /* collecting the deferred CSS files now */
} cs_state;

/* Writes len bytes to path (created or truncated). */
static int
write_file(char *path, const char *data, size_t len)
{
	int fd;

	if (kiln__mkdir_parents(path) == -1)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	if (kiln__write_all(fd, data, len) != 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* Returns "dir/name.<hash12>.ext" for rel (in cs->a). */
static char *
hashed_name(cs_state *cs, const char *rel, kiln_str data)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[13];
	const char *slash, *dot;
	int i;

	if (EVP_Digest(data.ptr, data.len, md, &mdlen, EVP_md5(), NULL) != 1)
		return NULL;
	for (i = 0; i < 6; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	slash = strrchr(rel, '/');
	dot = strrchr(slash != NULL ? slash + 1 : rel, '.');
	if (dot == NULL || dot == (slash != NULL ? slash + 1 : rel))
		return kiln_arena_printf(cs->a, "%s.%s", rel, hex);
	return kiln_arena_printf(cs->a, "%.*s.%s%s", (int)(dot - rel), rel, hex,
	    dot);
}

/* True when s ends with suffix. */
static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * Resolves ref (a relative URL in the CSS file at rel) to a path below
 * the static root, handling "." and ".."; NULL when it climbs out.
 */
static char *
resolve_ref(cs_state *cs, const char *rel, kiln_str ref)
{
	kiln_buf b;
	const char *slash = strrchr(rel, '/'), *p, *end, *seg;
	size_t len;

	kiln_buf_init(&b, cs->a, strlen(rel) + ref.len);
	if (slash != NULL)
		kiln_buf_append(&b, rel, (size_t)(slash - rel));
	for (p = ref.ptr, end = ref.ptr + ref.len; p < end; p = seg + len + 1) {
		seg = p;
		len = 0;
		while (seg + len < end && seg[len] != '/')
			len++;
		if (len == 0 || (len == 1 && seg[0] == '.')) {
			/* nothing */
		} else if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			slash = memrchr(b.ptr, '/', b.len);
			if (b.len == 0)
				return NULL;
			b.len = slash != NULL ? (size_t)(slash - b.ptr) : 0;
			b.ptr[b.len] = '\0';
		} else {
			if (b.len > 0)
				kiln_buf_append_char(&b, '/');
			kiln_buf_append(&b, seg, len);
		}
		if (seg + len >= end)
			break;
	}
	return b.oom ? NULL : b.ptr;
}

/*
 * Rewrites the url(...) references of a CSS text: a relative reference to
 * a collected file gets that file's hashed name (its last segment; query
 * and fragment kept); data:, absolute and unknown references stay.
 */
static kiln_str
rewrite_css(cs_state *cs, const char *rel, kiln_str css)
{
	const char *p = css.ptr, *end = css.ptr + css.len, *u, *q, *r;
	const kiln_val *h;
	kiln_str ref;
	kiln_buf b;
	char *target;
	size_t base;

	kiln_buf_init(&b, cs->a, css.len + 64);
	while ((u = memmem(p, (size_t)(end - p), "url(", 4)) != NULL) {
		q = u + 4;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q < end && (*q == '"' || *q == '\''))
			q++;
		for (r = q; r < end && *r != ')' && *r != '"' && *r != '\'' &&
		     *r != '?' && *r != '#' && *r != ' ';
		     r++)
			;
		ref.ptr = q;
		ref.len = (size_t)(r - q);
		kiln_buf_append(&b, p, (size_t)(q - p));
		p = q;
		if (ref.len == 0 || r >= end || ref.ptr[0] == '/' ||
		    memchr(ref.ptr, ':', ref.len) != NULL)
			continue;
		target = resolve_ref(cs, rel, ref);
		h = target != NULL ? kiln_val_get(cs->paths, target) : NULL;
		if (h == NULL || h->type != KILN_VAL_STR)
			continue;
		/* Keep the reference's directory part, swap the file name. */
		for (base = ref.len; base > 0 && ref.ptr[base - 1] != '/';
		     base--)
			;
		kiln_buf_append(&b, ref.ptr, base);
		q = strrchr(h->u.s.ptr, '/');
		kiln_buf_append_c(&b, q != NULL ? q + 1 : h->u.s.ptr);
		p = r;
	}
	kiln_buf_append(&b, p, (size_t)(end - p));
	return b.oom ? css : kiln_buf_str(&b);
}

/* Copies one file (rel under its source dir src). */
static int
collect_file(cs_state *cs, const char *src, const char *rel)
{
	kiln_str data, hashed;
	kiln_err rc;
	kiln_val *h;
	char *dst, *hn;
	const char **pair;

	if (kiln_val_get(cs->paths, rel) != NULL)
		return 0; /* an earlier directory had it */
	if (cs->manifest && ends_with(rel, ".css") && !cs->css_pass) {
		pair = kiln_arena_alloc(cs->a, 2 * sizeof(*pair));
		if (pair == NULL)
			return -1;
		pair[0] = src;
		pair[1] = rel;
		return kiln__ptrs_push(&cs->css, cs->a, pair) == KILN_OK ? 0 :
									   -1;
	}
	if ((rc = kiln__file_read(cs->a, src, CS_MAX_FILE, &data, NULL)) !=
	    KILN_OK) {
		fprintf(stderr, "collectstatic: read %s: %s\n", src,
		    kiln_strerror(rc));
		return -1;
	}
	hashed = cs->css_pass ? rewrite_css(cs, rel, data) : data;
	dst = kiln_arena_printf(cs->a, "%s/%s", cs->root, rel);
	hn = hashed_name(cs, rel, hashed);
	if (dst == NULL || hn == NULL)
		return -1;
	if (write_file(dst, data.ptr, data.len) == -1) {
		fprintf(stderr, "collectstatic: write %s: %s\n", dst,
		    strerror(errno));
		return -1;
	}
	h = kiln_val_cstr(cs->a, cs->manifest ? hn : rel);
	if (h == NULL || kiln_val_set(cs->paths, rel, h) != KILN_OK)
		return -1;
	cs->copied++;
	if (!cs->manifest)
		return 0;
	dst = kiln_arena_printf(cs->a, "%s/%s", cs->root, hn);
	if (dst == NULL || write_file(dst, hashed.ptr, hashed.len) == -1) {
		fprintf(stderr, "collectstatic: write %s/%s: %s\n", cs->root,
		    hn, strerror(errno));
		return -1;
	}
	return 0;
}

/* Walks dir (prefix rel, "" at the top) depth-first in name order. */
static int
collect_dir(cs_state *cs, const char *dir, const char *rel, int depth)
{
	struct dirent **ents = NULL;
	struct stat sb;
	char *path, *nrel;
	int n, i, rc = 0;

	if (depth > CS_MAX_DEPTH) {
		fprintf(stderr, "collectstatic: %s: nested too deeply\n", dir);
		return -1;
	}
	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "collectstatic: %s: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (rc == 0 && ents[i]->d_name[0] != '.') {
			path = kiln_arena_printf(cs->a, "%s/%s", dir,
			    ents[i]->d_name);
			nrel = kiln_arena_printf(cs->a, "%s%s%s", rel,
			    rel[0] != '\0' ? "/" : "", ents[i]->d_name);
			if (path == NULL || nrel == NULL)
				rc = -1;
			else if (stat(path, &sb) == -1)
				rc = 0; /* a dangling link: skip it */
			else if (S_ISDIR(sb.st_mode))
				rc = collect_dir(cs, path, nrel, depth + 1);
			else if (S_ISREG(sb.st_mode))
				rc = collect_file(cs, path, nrel);
		}
		free(ents[i]); /* scandir's malloc, outside any arena */
	}
	free(ents);
	return rc;
}

int
kiln__cmd_collectstatic(kiln_app *app, int argc, char **argv)
{
	cs_state cs;
	const char *dirs, *p, *q;
	kiln_val *man, *ver;
	kiln_str json;
	char *d, *mpath;
	int i, rc = 0;

	memset(&cs, 0, sizeof(cs));
	cs.manifest = true;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-manifest") == 0) {
			cs.manifest = false;
		} else {
			fprintf(stderr, "collectstatic: unknown option %s\n",
			    argv[i]);
			return 2;
		}
	}
	cs.a = kiln_arena_new(0);
	if (cs.a == NULL)
		return 1;
	cs.root = kiln_setting_str(app, "static.root");
	dirs = kiln_setting_str(app, "static.dirs");
	if (dirs == NULL)
		dirs = kiln_setting_str(app, "app.static_dir");
	cs.paths = kiln_val_map(cs.a);
	if (cs.root == NULL || cs.root[0] == '\0' || dirs == NULL ||
	    cs.paths == NULL) {
		fprintf(stderr,
		    "collectstatic: set static.root and "
		    "static.dirs\n");
		kiln_arena_free(cs.a);
		return 2;
	}
	for (p = dirs; rc == 0 && *p != '\0'; p = *q == ':' ? q + 1 : q) {
		q = strchr(p, ':');
		if (q == NULL)
			q = p + strlen(p);
		if (q == p)
			continue;
		d = kiln_arena_strndup(cs.a, p, (size_t)(q - p));
		rc = d != NULL ? collect_dir(&cs, d, "", 0) : -1;
	}
	/* CSS last: its url() references need the other files' names. */
	cs.css_pass = true;
	for (i = 0; rc == 0 && (size_t)i < cs.css.n; i++) {
		const char **pair = cs.css.items[i];

		rc = collect_file(&cs, pair[0], pair[1]);
	}
	if (rc == 0 && cs.manifest) {
		man = kiln_val_map(cs.a);
		ver = kiln_val_cstr(cs.a, "1.0");
		mpath = kiln_arena_printf(cs.a, "%s/staticfiles.json", cs.root);
		if (man == NULL || ver == NULL || mpath == NULL ||
		    kiln_val_set(man, "paths", cs.paths) != KILN_OK ||
		    kiln_val_set(man, "version", ver) != KILN_OK ||
		    kiln_json_dump(cs.a, man, &json) != KILN_OK ||
		    write_file(mpath, json.ptr, json.len) == -1) {
			fprintf(stderr,
			    "collectstatic: cannot write the "
			    "manifest\n");
			rc = -1;
		}
	}
	if (rc == 0)
		printf("%zu static file%s copied to '%s'%s.\n", cs.copied,
		    cs.copied == 1 ? "" : "s", cs.root,
		    cs.manifest ? ", with hashed names and staticfiles.json" :
				  "");
	kiln_arena_free(cs.a);
	return rc == 0 ? 0 : 1;
}
