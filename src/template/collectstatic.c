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
 * hold the same relative path the first wins, as in Django. Unlike
 * Django, url() references inside CSS files are not rewritten.
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
} cs_state;

/* Creates every directory leading to path (mkdir -p of its dirname). */
static int
mkparents(char *path)
{
	char *p;

	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

/* Writes len bytes to path (created or truncated). */
static int
write_file(char *path, const char *data, size_t len)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	if (mkparents(path) == -1)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	while (off < len) {
		n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	return close(fd);
}

/* Reads a whole regular file into cs->a. */
static int
read_all(cs_state *cs, const char *path, kiln_str *out)
{
	struct stat sb;
	char *buf;
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &sb) == -1 || sb.st_size > CS_MAX_FILE)
		goto err;
	buf = kiln_arena_alloc(cs->a, (size_t)sb.st_size + 1);
	if (buf == NULL)
		goto err;
	while (got < (size_t)sb.st_size) {
		n = read(fd, buf + got, (size_t)sb.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	out->ptr = buf;
	out->len = got;
	return 0;
err:
	close(fd);
	return -1;
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

/* Copies one file (rel under its source dir src). */
static int
collect_file(cs_state *cs, const char *src, const char *rel)
{
	kiln_str data;
	kiln_val *h;
	char *dst, *hn;

	if (kiln_val_get(cs->paths, rel) != NULL)
		return 0; /* an earlier directory had it */
	if (read_all(cs, src, &data) == -1) {
		fprintf(stderr, "collectstatic: read %s: %s\n", src,
		    strerror(errno));
		return -1;
	}
	dst = kiln_arena_printf(cs->a, "%s/%s", cs->root, rel);
	hn = hashed_name(cs, rel, data);
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
	if (dst == NULL || write_file(dst, data.ptr, data.len) == -1) {
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
