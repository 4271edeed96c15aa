/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Kiln's side of the template benchmark: renders each named template of
 * bench/templates/django/ with context.json for SECONDS seconds and
 * prints "name renders_per_second bytes" per template. The context is
 * parsed once; each render reuses one arena, reset between renders, as a
 * worker's request arena is.
 *
 *   bench_kiln DIR CONTEXT.json SECONDS NAME...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kiln/kiln.h>
#include <kiln/template.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	kiln_template_env *env;
	kiln_arena *ca, *a;
	kiln_val *ctx;
	kiln_str out;
	char err[512], *text;
	double secs, start, el;
	long n, len;
	FILE *f;
	int i;

	if (argc < 5) {
		fprintf(stderr,
		    "usage: bench_kiln DIR CONTEXT SECONDS NAME...\n");
		return 2;
	}
	f = fopen(argv[2], "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0)
		return 1;
	rewind(f);
	text = malloc((size_t)len + 1);
	if (text == NULL || fread(text, 1, (size_t)len, f) != (size_t)len)
		return 1;
	fclose(f);
	secs = atof(argv[3]);
	ca = kiln_arena_new(0);
	a = kiln_arena_new(64 * 1024);
	env = kiln_template_env_new(NULL);
	if (ca == NULL || a == NULL || env == NULL ||
	    kiln_template_env_add_dir(env, argv[1]) != KILN_OK)
		return 1;
	ctx = kiln_template_json_context(ca, (kiln_str){ text, (size_t)len },
	    err, sizeof(err));
	if (ctx == NULL) {
		fprintf(stderr, "bench_kiln: %s\n", err);
		return 1;
	}
	for (i = 4; i < argc; i++) {
		n = 0;
		start = now();
		do {
			/* Batches of 1000 keep the clock out of the loop. */
			for (int k = 0; k < 1000; k++, n++) {
				kiln_arena_reset(a);
				if (kiln_template_render(env, argv[i], ctx, a,
					&out, err, sizeof(err)) != KILN_OK) {
					fprintf(stderr, "bench_kiln: %s\n",
					    err);
					return 1;
				}
			}
			el = now() - start;
		} while (el < secs);
		printf("%s %.0f %zu\n", argv[i], (double)n / el, out.len);
	}
	kiln_template_env_free(env);
	kiln_arena_free(a);
	kiln_arena_free(ca);
	free(text);
	return 0;
}
