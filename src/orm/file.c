/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * FILE fields: the value is a file's name relative to app.media_root,
 * which nginx serves at app.media_url. kiln_row_file_save writes the bytes
 * under media_root/upload_to with a cleaned-up, unique name (exclusive
 * create, so two workers never overwrite each other's upload) and sets
 * the field; the name check keeps every stored name inside media_root.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <kiln/kiln.h>

#include "http_int.h"
#include "kiln_int.h"
#include "orm_int.h"

#define NAME_TRIES 100 /* unique-name attempts before giving up */

bool
kiln__file_name_ok(kiln_str s)
{
	size_t i, seg = 0;

	if (s.len == 0 || s.ptr[0] == '/')
		return false;
	for (i = 0; i <= s.len; i++) {
		if (i < s.len &&
		    ((unsigned char)s.ptr[i] < 0x20 || s.ptr[i] == 0x7f ||
			s.ptr[i] == '\\'))
			return false;
		if (i < s.len && s.ptr[i] != '/')
			continue;
		/* A segment ends at i: no "", "." or "..". */
		if (i == seg || (i - seg == 1 && s.ptr[seg] == '.') ||
		    (i - seg == 2 && s.ptr[seg] == '.' &&
			s.ptr[seg + 1] == '.'))
			return false;
		seg = i + 1;
	}
	return true;
}

/* The FILE field named field of r, or NULL with a message. */
static const kiln_field *
file_field(const kiln_row *r, const char *field)
{
	long i = kiln__orm_field_index(r->mt->m, field);

	if (i < 0 || r->mt->m->fields[i].type != KILN_FIELD_FILE) {
		kiln__app_error(r->app, KILN_EINVAL, "%s.%s: not a FILE field",
		    r->mt->m->name, field);
		return NULL;
	}
	return &r->mt->m->fields[i];
}

/*
 * Reduces filename to its last segment with only letters, digits, '-',
 * '_' and '.' (spaces become '_'; others are dropped), in a. NULL when
 * nothing (or only dots) is left.
 */
static char *
clean_name(kiln_arena *a, const char *filename)
{
	const char *base = strrchr(filename, '/'), *p;
	char *out, *o;

	base = base != NULL ? base + 1 : filename;
	p = strrchr(base, '\\');
	if (p != NULL)
		base = p + 1;
	out = kiln_arena_alloc(a, strlen(base) + 1);
	if (out == NULL)
		return NULL;
	for (o = out, p = base; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.')
			*o++ = *p;
		else if (*p == ' ')
			*o++ = '_';
	}
	*o = '\0';
	for (p = out; *p == '.'; p++)
		;
	return *p == '\0' ? NULL : out;
}

kiln_err
kiln_row_file_save(kiln_row *r, const char *field, const char *filename,
    kiln_str data)
{
	const kiln_field *f = file_field(r, field);
	const char *root = kiln_setting_str(r->app, "app.media_root");
	const char *dir, *dot, *name;
	unsigned char rnd[7];
	char *clean, *path, sfx[9];
	int fd = -1, i, k;

	if (f == NULL)
		return KILN_EINVAL;
	clean = clean_name(r->a, filename != NULL ? filename : "");
	if (clean == NULL)
		return kiln__app_error(r->app, KILN_EINVAL,
		    "%s.%s: '%s' leaves no usable file name", r->mt->m->name,
		    field, filename != NULL ? filename : "");
	dir = f->upload_to != NULL && f->upload_to[0] != '\0' ? f->upload_to :
								NULL;
	dot = strrchr(clean, '.');
	if (dot == clean)
		dot = NULL;
	for (i = 0; i < NAME_TRIES; i++) {
		sfx[0] = '\0';
		if (i > 0) {
			/* Django's "_" + 7 random letters before the extension.
			 */
			if (RAND_bytes(rnd, sizeof(rnd)) != 1)
				break;
			sfx[0] = '_';
			for (k = 0; k < 7; k++)
				sfx[k + 1] = "abcdefghijklmnopqrstuvwxyz"
					     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					     "0123456789"[rnd[k] % 62];
			sfx[8] = '\0';
		}
		name = kiln_arena_printf(r->a, "%s%s%.*s%s%s",
		    dir != NULL ? dir : "", dir != NULL ? "/" : "",
		    dot != NULL ? (int)(dot - clean) : (int)strlen(clean),
		    clean, sfx, dot != NULL ? dot : "");
		path = kiln_arena_printf(r->a, "%s/%s", root, name);
		if (name == NULL || path == NULL)
			return KILN_ENOMEM;
		if (!kiln__file_name_ok(kiln_str_c(name)))
			return kiln__app_error(r->app, KILN_EINVAL,
			    "%s.%s: upload_to '%s' is not a safe directory",
			    r->mt->m->name, field, dir);
		if (kiln__mkdir_parents(path) != 0)
			break;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		return kiln__app_error(r->app, KILN_EIO,
		    "%s.%s: cannot create "
		    "a file for '%s' under %s: %s",
		    r->mt->m->name, field, clean, root, strerror(errno));
	if (kiln__write_all(fd, data.ptr, data.len) != 0 || close(fd) != 0) {
		unlink(path);
		return kiln__app_error(r->app, KILN_EIO, "%s.%s: write %s: %s",
		    r->mt->m->name, field, path, strerror(errno));
	}
	return kiln_row_set_str(r, field, name);
}

const char *
kiln_row_file_url(const kiln_row *r, const char *field)
{
	const char *name = kiln_row_str(r, field);
	const char *base = kiln_setting_str(r->app, "app.media_url");
	kiln_buf b;

	if (file_field(r, field) == NULL || name[0] == '\0')
		return "";
	kiln_buf_init(&b, r->a, strlen(name) + 16);
	kiln_buf_append_c(&b, base != NULL ? base : "/media/");
	kiln__pct_encode(&b, kiln_str_c(name), "/", false);
	return b.oom ? "" : b.ptr;
}

const char *
kiln_row_file_path(const kiln_row *r, const char *field)
{
	const char *name = kiln_row_str(r, field);

	if (file_field(r, field) == NULL || name[0] == '\0')
		return "";
	return kiln_arena_printf(r->a, "%s/%s",
	    kiln_setting_str(r->app, "app.media_root"), name);
}
