/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * kiln-admin: project-independent tools. For now one command:
 *
 *   kiln-admin render TEMPLATE [--dir DIR]... [--context FILE.json]
 *                     [--static-url URL]
 *
 * renders the template named TEMPLATE (looked up in each --dir in order,
 * so {% extends %} and {% include %} work; without --dir, TEMPLATE is a
 * file path) with the JSON context (an object; {"$datetime": "..."} is a
 * datetime, {"$safe": "..."} a safe string) and writes exactly the
 * rendered bytes to stdout. On a template error it writes the message to
 * stderr and exits 1; on bad usage it exits 2.
 */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/kiln.h>
#include <kiln/template.h>

#define ADMIN_MAX_CONTEXT (64 * 1024 * 1024)

static void
usage(void)
{
	fprintf(stderr,
	    "usage: kiln-admin render TEMPLATE [--dir DIR]... "
	    "[--context FILE.json] [--static-url URL]\n");
}

/* Reads a whole file into a (at most ADMIN_MAX_CONTEXT bytes). */
static int
read_file(kiln_arena *a, const char *path, kiln_str *out)
{
	FILE *f;
	char *buf;
	size_t n = 0, cap = 4096;
	size_t got;

	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL)
		return -1;
	buf = kiln_arena_alloc(a, cap + 1);
	while (buf != NULL) {
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n < cap)
			break;
		if (cap >= ADMIN_MAX_CONTEXT) {
			errno = EFBIG;
			buf = NULL;
			break;
		}
		{
			char *nb = kiln_arena_alloc(a, cap * 2 + 1);

			if (nb != NULL)
				memcpy(nb, buf, n);
			buf = nb;
			cap *= 2;
		}
	}
	if (f != stdin)
		fclose(f);
	if (buf == NULL)
		return -1;
	buf[n] = '\0';
	out->ptr = buf;
	out->len = n;
	return 0;
}

static int
cmd_render(int argc, char **argv)
{
	kiln_template_env *env;
	kiln_arena *a;
	const char *name = NULL, *ctxfile = NULL, *surl = NULL;
	char err[1024], *copy, *copy2;
	kiln_val *ctx = NULL;
	kiln_str text, out;
	bool have_dir = false;
	int i, rc = 1;

	a = kiln_arena_new(0);
	env = kiln_template_env_new(NULL);
	if (a == NULL || env == NULL)
		goto oom;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			if (kiln_template_env_add_dir(env, argv[++i]) !=
			    KILN_OK)
				goto oom;
			have_dir = true;
		} else if (strcmp(argv[i], "--context") == 0 && i + 1 < argc) {
			ctxfile = argv[++i];
		} else if (strcmp(argv[i], "--static-url") == 0 &&
		    i + 1 < argc) {
			surl = argv[++i];
		} else if (argv[i][0] == '-' || name != NULL) {
			usage();
			rc = 2;
			goto done;
		} else {
			name = argv[i];
		}
	}
	if (name == NULL) {
		usage();
		rc = 2;
		goto done;
	}
	if (!have_dir) {
		/* A plain file path: its directory is the template dir. */
		copy = kiln_arena_strdup(a, name);
		copy2 = kiln_arena_strdup(a, name);
		if (copy == NULL || copy2 == NULL ||
		    kiln_template_env_add_dir(env, dirname(copy)) != KILN_OK)
			goto oom;
		name = basename(copy2);
	}
	if (surl != NULL &&
	    kiln_template_env_set_static_url(env, surl) != KILN_OK)
		goto oom;
	if (ctxfile != NULL) {
		if (read_file(a, ctxfile, &text) == -1) {
			fprintf(stderr, "kiln-admin: %s: %s\n", ctxfile,
			    strerror(errno));
			goto done;
		}
		ctx = kiln_template_json_context(a, text, err, sizeof(err));
		if (ctx == NULL) {
			fprintf(stderr, "kiln-admin: %s: %s\n", ctxfile, err);
			goto done;
		}
		if (ctx->type != KILN_VAL_MAP) {
			fprintf(stderr,
			    "kiln-admin: %s: the context must be "
			    "a JSON object\n",
			    ctxfile);
			goto done;
		}
	}
	if (kiln_template_render(env, name, ctx, a, &out, err, sizeof(err)) !=
	    KILN_OK) {
		fprintf(stderr, "kiln-admin: %s\n", err);
		goto done;
	}
	if (fwrite(out.ptr, 1, out.len, stdout) != out.len ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "kiln-admin: write: %s\n", strerror(errno));
		goto done;
	}
	rc = 0;
	goto done;
oom:
	fprintf(stderr, "kiln-admin: out of memory\n");
done:
	kiln_template_env_free(env);
	kiln_arena_free(a);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "render") == 0)
		return cmd_render(argc - 1, argv + 1);
	if (argc >= 2 &&
	    (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage();
		return 0;
	}
	usage();
	return 2;
}
