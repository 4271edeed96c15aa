/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Regex routes: the part of the router that speaks PCRE2. A pattern is
 * compiled once, at registration (before fork), anchored at both ends and
 * JIT-compiled when PCRE2 has a JIT. At the same time it is tokenised into
 * literal text and named groups, which is what lets url_for rebuild a path
 * from a pattern that has no other regex construct outside its named
 * groups. Building runs the pattern on the result, so a path url_for
 * returns is always one the route matches, with the same arguments.
 *
 * Invariants: the compiled pattern, the match data, the match context and
 * the JIT stack are allocated by PCRE2 itself (it reallocates its heap
 * frames inside the match data, which an arena cannot do) and are released
 * by cleanups of the router's arena; everything else lives in that arena.
 * The match data is shared by every pattern of a router, which is safe
 * because a worker is single-threaded; matches are bounded by match and
 * heap limits, and a pattern that hits one simply does not match.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <kiln/kiln.h>

#include "http_int.h"
#include "router_int.h"

/* PCRE2 limits for a match against a hostile path. */
#define RE_MATCH_LIMIT 1000000
#define RE_HEAP_LIMIT  4096 /* KiB */
#define RE_JIT_STACK   (512 * 1024)

/* A token of a reversible regex: literal text or a named group. */
typedef struct retok {
	bool is_group; /* named group, else literal */
	kiln_str text; /* unescaped literal, or the group's name */
	kiln_str enc;  /* literal: percent-encoded */
} retok;

/* A named group of a regex and the number of its capture. */
typedef struct regroup {
	kiln_str name;	/* group name */
	uint32_t group; /* capture number */
} regroup;

struct kiln__regex_env {
	pcre2_match_data *md;	    /* shared by every pattern */
	uint32_t md_pairs;	    /* ovector pairs of md */
	pcre2_match_context *mctx;  /* limits for matching */
	pcre2_jit_stack *jit_stack; /* JIT stack shared by every pattern */
};

struct kiln__regex {
	pcre2_code *re;	       /* the compiled pattern */
	regroup *names;	       /* named groups, by name */
	size_t nnames;	       /* named-group count */
	retok *toks;	       /* tokens, when reversible */
	size_t ntoks;	       /* token count */
	kiln_str *args;	       /* the group tokens' names, in pattern order */
	size_t nargs;	       /* group token count */
	const char *noreverse; /* why url_for cannot build it */
};

/* Returns true for an ASCII letter or digit (no locale). */
static bool
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* --- compiling ------------------------------------------------------- */

static void
re_code_free(void *p)
{
	pcre2_code_free(p);
}

/* Releases the router's shared PCRE2 objects (an arena cleanup). */
static void
env_free(void *p)
{
	kiln__regex_env *env = p;

	pcre2_match_data_free(env->md);
	pcre2_match_context_free(env->mctx);
	pcre2_jit_stack_free(env->jit_stack);
	env->md = NULL;
	env->mctx = NULL;
	env->jit_stack = NULL;
}

/*
 * Makes sure the shared environment, its match context and its match data
 * exist, and that the match data has room for pairs captures. The PCRE2
 * objects are malloc'ed by PCRE2 and released by an arena cleanup.
 */
static kiln_err
env_need(kiln_arena *a, kiln__regex_env **envp, uint32_t pairs)
{
	kiln__regex_env *env = *envp;
	pcre2_match_data *md;

	if (env == NULL) {
		env = kiln_arena_calloc(a, 1, sizeof(*env));
		if (env == NULL ||
		    kiln_arena_cleanup_add(a, env_free, env) != KILN_OK)
			return KILN_ENOMEM;
		*envp = env;
	}
	if (env->mctx == NULL) {
		env->mctx = pcre2_match_context_create(NULL);
		if (env->mctx == NULL)
			return KILN_ENOMEM;
		pcre2_set_match_limit(env->mctx, RE_MATCH_LIMIT);
		pcre2_set_heap_limit(env->mctx, RE_HEAP_LIMIT);
		env->jit_stack =
		    pcre2_jit_stack_create(32 * 1024, RE_JIT_STACK, NULL);
		if (env->jit_stack != NULL)
			pcre2_jit_stack_assign(env->mctx, NULL, env->jit_stack);
	}
	if (env->md != NULL && env->md_pairs >= pairs)
		return KILN_OK;
	md = pcre2_match_data_create(pairs, NULL);
	if (md == NULL)
		return KILN_ENOMEM;
	pcre2_match_data_free(env->md);
	env->md = md;
	env->md_pairs = pairs;
	return KILN_OK;
}

/*
 * Reads the pattern's named groups into rx->names (sorted by name, as
 * PCRE2's name table is).
 */
static kiln_err
re_names(kiln_arena *a, kiln__regex *rx)
{
	PCRE2_SPTR table;
	uint32_t count;
	uint32_t size;
	uint32_t i;
	const unsigned char *e;

	if (pcre2_pattern_info(rx->re, PCRE2_INFO_NAMECOUNT, &count) != 0 ||
	    pcre2_pattern_info(rx->re, PCRE2_INFO_NAMEENTRYSIZE, &size) != 0 ||
	    pcre2_pattern_info(rx->re, PCRE2_INFO_NAMETABLE, &table) != 0)
		return KILN_EINVAL;
	if (count == 0)
		return KILN_OK;
	rx->names = kiln_arena_calloc(a, count, sizeof(*rx->names));
	if (rx->names == NULL)
		return KILN_ENOMEM;
	for (i = 0; i < count; i++) {
		e = table + (size_t)i * size;
		rx->names[i].group = ((uint32_t)e[0] << 8) | e[1];
		rx->names[i].name = kiln_str_c((const char *)e + 2);
		rx->names[i].name.ptr = kiln_arena_strndup(a,
		    rx->names[i].name.ptr, rx->names[i].name.len);
		if (rx->names[i].name.ptr == NULL)
			return KILN_ENOMEM;
	}
	rx->nnames = count;
	return KILN_OK;
}

/*
 * Skips a group's body from p (just after its opening) to just past its
 * closing ')', honouring escapes and character classes. Returns NULL
 * when the body holds \Q...\E or is unbalanced (then url_for refuses).
 */
static const char *
re_skip_group(const char *p)
{
	int depth = 1;

	while (*p != '\0' && depth > 0) {
		if (*p == '\\') {
			if (p[1] == 'Q' || p[1] == '\0')
				return NULL;
			p += 2;
			continue;
		}
		if (*p == '[') {
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p != '\0' && *p != ']') {
				if (*p == '\\' && p[1] != '\0')
					p++;
				else if (p[0] == '[' && p[1] == ':' &&
				    strstr(p + 2, ":]") != NULL)
					p = strstr(p + 2, ":]") + 1;
				p++;
			}
			if (*p == '\0')
				return NULL;
		} else if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		p++;
	}
	return depth == 0 ? p : NULL;
}

/*
 * Appends a token to rx (toks and args have room for every byte of the
 * pattern).
 */
static kiln_err
re_tok_add(kiln_arena *a, kiln__regex *rx, bool group, const char *p,
    size_t len)
{
	retok *t = &rx->toks[rx->ntoks];

	if (!group && len == 0)
		return KILN_OK;
	t->is_group = group;
	t->text.ptr = kiln_arena_strndup(a, p, len);
	t->text.len = len;
	if (t->text.ptr == NULL)
		return KILN_ENOMEM;
	if (!group && kiln__router_encode(a, t->text, &t->enc) != KILN_OK)
		return KILN_ENOMEM;
	if (group)
		rx->args[rx->nargs++] = t->text;
	rx->ntoks++;
	return KILN_OK;
}

/*
 * Reads a named-group opening at p ("(?<n>", "(?P<n>" or "(?'n'") and
 * returns the name's slice, or a zero slice when p opens something else.
 */
static kiln_str
re_group_name(const char *p, const char **body)
{
	const char *n;
	char close;
	size_t len;

	if (strncmp(p, "(?<", 3) == 0 && p[3] != '=' && p[3] != '!') {
		n = p + 3;
		close = '>';
	} else if (strncmp(p, "(?P<", 4) == 0) {
		n = p + 4;
		close = '>';
	} else if (strncmp(p, "(?'", 3) == 0) {
		n = p + 3;
		close = '\'';
	} else
		return KILN_STR_NULL;
	len = strcspn(n, close == '>' ? ">" : "'");
	if (n[len] != close)
		return KILN_STR_NULL;
	*body = n + len + 1;
	return (kiln_str){ n, len };
}

/*
 * Tokenises a pattern into literal text and named groups for url_for.
 * Returns NULL when it is reversible, else the reason it is not: any
 * regex construct outside a named group other than a leading '^', a
 * trailing '$' and escaped punctuation; a quantified group; a named group
 * used twice or nested. Uses a scratch literal buffer of the pattern's
 * size.
 */
static const char *
re_tokenize(kiln_arena *a, kiln__regex *rx, const char *pat, bool *oom)
{
	size_t plen = strlen(pat);
	const char *p = pat;
	const char *body;
	char *lit;
	size_t n = 0;
	size_t i;
	size_t j;
	kiln_str name;

	*oom = true;
	lit = kiln_arena_alloc(a, plen + 1);
	rx->toks = kiln_arena_calloc(a, plen + 1, sizeof(*rx->toks));
	rx->args = kiln_arena_calloc(a, plen + 1, sizeof(*rx->args));
	if (lit == NULL || rx->toks == NULL || rx->args == NULL)
		return NULL;
	*oom = false;
	if (*p == '^')
		p++;
	while (*p != '\0') {
		if (*p == '$' && p[1] == '\0')
			break;
		if (*p == '\\') {
			if (p[1] == '\0' || is_alnum((unsigned char)p[1]))
				return "it uses an escape sequence";
			lit[n++] = p[1];
			p += 2;
			continue;
		}
		if (*p == '(') {
			name = re_group_name(p, &body);
			if (name.ptr == NULL)
				return "it has a group that is not a named "
				       "group";
			p = re_skip_group(body);
			if (p == NULL)
				return "a named group's body cannot be read";
			if (*p != '\0' && strchr("?*+{", *p) != NULL)
				return "a named group is repeated or optional";
			if (re_tok_add(a, rx, false, lit, n) != KILN_OK ||
			    re_tok_add(a, rx, true, name.ptr, name.len) !=
				KILN_OK) {
				*oom = true;
				return NULL;
			}
			n = 0;
			continue;
		}
		if (strchr(".^$|?*+[]{})", *p) != NULL)
			return "it has a regex operator outside named groups";
		lit[n++] = *p++;
	}
	if (re_tok_add(a, rx, false, lit, n) != KILN_OK) {
		*oom = true;
		return NULL;
	}
	/* Each named group once, and none nested inside another. */
	n = 0;
	for (i = 0; i < rx->ntoks; i++) {
		if (!rx->toks[i].is_group)
			continue;
		n++;
		for (j = i + 1; j < rx->ntoks; j++) {
			if (rx->toks[j].is_group &&
			    kiln_str_eq(rx->toks[i].text, rx->toks[j].text))
				return "a named group appears twice";
		}
	}
	if (n != rx->nnames)
		return "a named group appears twice or inside another group";
	return NULL;
}

kiln_err
kiln__regex_compile(kiln_arena *a, kiln__regex_env **env, const char *pat,
    kiln__regex **out, char *err, size_t errlen)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	kiln__regex *rx;
	uint32_t captures;
	bool oom;
	int code;

	rx = kiln_arena_calloc(a, 1, sizeof(*rx));
	if (rx == NULL)
		return KILN_ENOMEM;
	*out = rx;
	rx->re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_ANCHORED | PCRE2_ENDANCHORED, &code, &off, NULL);
	if (rx->re == NULL) {
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", code);
		return kiln__router_errf(err, errlen, KILN_EINVAL,
		    "pattern '%s': %s at offset %zu", pat, (char *)msg,
		    (size_t)off);
	}
	if (kiln_arena_cleanup_add(a, re_code_free, rx->re) != KILN_OK) {
		pcre2_code_free(rx->re);
		rx->re = NULL;
		return KILN_ENOMEM;
	}
	/* Without JIT support the interpreter runs the pattern instead. */
	(void)pcre2_jit_compile(rx->re, PCRE2_JIT_COMPLETE);
	if (pcre2_pattern_info(rx->re, PCRE2_INFO_CAPTURECOUNT, &captures) != 0)
		return kiln__router_errf(err, errlen, KILN_EINVAL,
		    "pattern '%s': cannot read its captures", pat);
	if (env_need(a, env, captures + 1) != KILN_OK ||
	    re_names(a, rx) != KILN_OK)
		return KILN_ENOMEM;
	rx->noreverse = re_tokenize(a, rx, pat, &oom);
	if (oom)
		return KILN_ENOMEM;
	return KILN_OK;
}

/* --- matching -------------------------------------------------------- */

/*
 * Runs the pattern on s. Returns PCRE2's result: > 0 on a match, otherwise
 * no match (limits and bad UTF-8 under (*UTF) count as no match).
 */
static int
re_run(const kiln__regex_env *env, const kiln__regex *rx, const char *s,
    size_t len)
{
	return pcre2_match(rx->re, (PCRE2_SPTR)s, len, 0, 0, env->md,
	    env->mctx);
}

int
kiln__regex_match(const kiln__regex_env *env, const kiln__regex *rx,
    kiln_arena *a, kiln_str s, kiln__match *m)
{
	PCRE2_SIZE *ov;
	size_t g;
	size_t i;

	if (re_run(env, rx, s.ptr, s.len) <= 0)
		return 0;
	if (m == NULL)
		return 1;
	if (kiln__router_args_init(m, a, rx->nnames) != KILN_OK)
		return -1;
	ov = pcre2_get_ovector_pointer(env->md);
	for (i = 0; i < rx->nnames; i++) {
		g = rx->names[i].group;
		if (ov[2 * g] == PCRE2_UNSET)
			continue;
		/* Duplicate names ((?J)) are adjacent: keep the first set. */
		if (m->args.n > 0 &&
		    kiln_str_eq(m->args.items[m->args.n - 1].key,
			rx->names[i].name))
			continue;
		if (kiln__router_args_add(m, a, rx->names[i].name,
			s.ptr + ov[2 * g],
			ov[2 * g + 1] - ov[2 * g]) != KILN_OK)
			return -1;
	}
	return 1;
}

/* --- building -------------------------------------------------------- */

size_t
kiln__regex_args(const kiln__regex *rx, const kiln_str **names)
{
	*names = rx->args;
	return rx->nargs;
}

/*
 * Checks that the decoded text d matches rx with each named group
 * capturing exactly the value given for it.
 */
static bool
re_verify(const kiln__regex_env *env, const kiln__regex *rx, kiln_str d,
    const kiln_kvs *args)
{
	PCRE2_SIZE *ov;
	const kiln_str *v;
	size_t g;
	size_t i;

	if (re_run(env, rx, d.ptr, d.len) <= 0)
		return false;
	ov = pcre2_get_ovector_pointer(env->md);
	for (i = 0; i < rx->nnames; i++) {
		g = rx->names[i].group;
		v = kiln_kvs_get(args, rx->names[i].name);
		if (v == NULL || ov[2 * g] == PCRE2_UNSET ||
		    ov[2 * g + 1] - ov[2 * g] != v->len ||
		    (v->len > 0 && memcmp(d.ptr + ov[2 * g], v->ptr, v->len)))
			return false;
	}
	return true;
}

kiln_err
kiln__regex_build(const kiln__regex_env *env, const kiln__regex *rx,
    const kiln_kvs *args, kiln_buf *b, const char *endpoint,
    const char *display, char *err, size_t errlen)
{
	const kiln_str *v;
	const retok *t;
	kiln_buf d;

	if (rx->noreverse != NULL)
		return kiln__router_errf(err, errlen, KILN_EINVAL,
		    "url_for('%s'): cannot reverse regex route '%s': %s",
		    endpoint, display, rx->noreverse);
	kiln_buf_init(&d, b->a, 64);
	for (t = rx->toks; t < rx->toks + rx->ntoks; t++) {
		if (!t->is_group) {
			(void)kiln_buf_append_str(&d, t->text);
			(void)kiln_buf_append_str(b, t->enc);
			continue;
		}
		v = kiln_kvs_get(args, t->text);
		if (v == NULL)
			return kiln__router_errf(err, errlen, KILN_EINVAL,
			    "url_for('%s'): missing argument '%s'", endpoint,
			    t->text.ptr);
		(void)kiln_buf_append_str(&d, *v);
		(void)kiln__pct_encode(b, *v, "/", false);
	}
	if (d.oom)
		return KILN_ENOMEM;
	if (!re_verify(env, rx, kiln_buf_str(&d), args))
		return kiln__router_errf(err, errlen, KILN_EINVAL,
		    "url_for('%s'): the arguments give '%.*s', which does not "
		    "match '%s' as given",
		    endpoint, (int)(d.len > 128 ? 128 : d.len), d.ptr, display);
	return KILN_OK;
}
