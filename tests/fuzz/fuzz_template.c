/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * libFuzzer harness for the template lexer, parser and renderer. The
 * input is a template named "self.html" in an environment that also
 * holds a base template with blocks and a partial, so {% extends %},
 * {% include %} (also of itself) and {{ block.super }} are reachable.
 * It is compiled and rendered with a context holding every value type.
 * Whatever the input, the engine must return KILN_OK or an error with a
 * message naming the template, never crash, hang or leak; output stays
 * under the limit set here.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/kiln.h>
#include <kiln/template.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_ctx[] =
    "{\"s\": \"<a href='x'>&\", \"n\": 3, \"f\": -2.5, \"t\": true, "
    "\"z\": null, \"l\": [1, \"two\", [3, 4], {\"k\": \"v\"}], "
    "\"m\": {\"name\": \"amy\", \"age\": 9, \"tags\": [\"a\", \"b\"]}, "
    "\"rows\": [{\"id\": 2, \"msg\": \"b\"}, {\"id\": 1, \"msg\": \"a\"}], "
    "\"d\": {\"$datetime\": \"2024-03-05T14:07:09.000123\"}, "
    "\"safe\": {\"$safe\": \"<b>ok</b>\"}}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kiln_template_limits lim = {
		.max_source = 65536,
		.max_tokens = 4096,
		.max_depth = 64,
		.max_include = 8,
		.max_output = 1 << 20,
		.max_steps = 200000,
	};
	kiln_template_env *env;
	kiln_arena *a;
	kiln_val *ctx;
	kiln_str out;
	char err[512];
	kiln_err rc;

	a = kiln_arena_new(4096);
	env = kiln_template_env_new(&lim);
	if (a == NULL || env == NULL)
		goto done;
	ctx =
	    kiln_template_json_context(a, KILN_STR(fuzz_ctx), err, sizeof(err));
	if (ctx == NULL)
		abort();
	if (kiln_template_env_add_source(env, "self.html",
		(kiln_str){ (const char *)data, size }) != KILN_OK ||
	    kiln_template_env_add_source(env, "base.html",
		KILN_STR("<t>{% block title %}T{% endblock %}</t>"
			 "{% block body %}{{ s }}{% endblock %}")) != KILN_OK ||
	    kiln_template_env_add_source(env, "part.html",
		KILN_STR("{{ m.name|upper }}{% for x in l %}{{ x }}"
			 "{% endfor %}")) != KILN_OK)
		goto done;
	err[0] = '\0';
	rc = kiln_template_render(env, "self.html", ctx, a, &out, err,
	    sizeof(err));
	if (rc == KILN_OK) {
		if (out.len > lim.max_output + 65536)
			abort();
	} else if (rc != KILN_ENOMEM && err[0] == '\0') {
		abort(); /* every error carries a message */
	}
done:
	kiln_template_env_free(env);
	kiln_arena_free(a);
	return 0;
}
