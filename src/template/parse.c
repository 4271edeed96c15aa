/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The template parser: turns the lexer's tokens into the compiled tree
 * (template_int.h), following Django's parser tag by tag, including its
 * syntax checks. Expressions inside tags (filter expressions and {% if %}
 * conditions) are compiled by expr.c. Every error names the template,
 * the line and column of the offending tag, and what was expected.
 * Nesting deeper than limits.max_depth is an error, so hostile templates
 * cannot exhaust the stack.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <kiln/kiln.h>

#include "template_int.h"

/* Records a syntax error at the current token. Returns false. */
bool
kiln__tpl_perr(tpl_parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->rc != KILN_OK)
		return false;
	p->rc = KILN_EPARSE;
	if (p->err == NULL || p->errlen == 0)
		return false;
	n = snprintf(p->err, p->errlen, "%s:%u:%u: ", p->t->name,
	    p->cur != NULL ? p->cur->line : 1,
	    p->cur != NULL ? p->cur->col : 1);
	if (n < 0 || (size_t)n >= p->errlen)
		return false;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

/* Records out of memory. Returns false. */
bool
kiln__tpl_poom(tpl_parser *p)
{
	if (p->rc == KILN_OK) {
		p->rc = KILN_ENOMEM;
		if (p->err != NULL && p->errlen > 0)
			snprintf(p->err, p->errlen, "%s: out of memory",
			    p->t->name);
	}
	return false;
}

static bool
is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

/*
 * Splits tag content like Django's smart_split: on whitespace, but a
 * quoted string ("a b" or 'a b', with backslash escapes) stays one bit
 * together with the characters glued to it (x="a b"). Returns the count,
 * or SIZE_MAX when there are more than max.
 */
static size_t
split_bits(kiln_str s, kiln_str *bits, size_t max)
{
	size_t i = 0, n = 0, start, j;
	char q;

	while (i < s.len) {
		while (i < s.len && tpl_space(s.ptr[i]))
			i++;
		if (i >= s.len)
			break;
		start = i;
		while (i < s.len && !tpl_space(s.ptr[i])) {
			if (s.ptr[i] == '"' || s.ptr[i] == '\'') {
				q = s.ptr[i];
				for (j = i + 1; j < s.len && s.ptr[j] != q; j++)
					if (s.ptr[j] == '\\' && j + 1 < s.len)
						j++;
				if (j < s.len) {
					i = j + 1;
					continue;
				}
			}
			i++;
		}
		if (n >= max)
			return SIZE_MAX;
		bits[n].ptr = s.ptr + start;
		bits[n].len = i - start;
		n++;
	}
	return n;
}

/*
 * Splits a block tag's content into bits (TPL_MAX_BITS of them at most)
 * and sets *n; false, after a syntax error, when there are more words.
 */
static bool
tag_bits(tpl_parser *p, kiln_str s, kiln_str *bits, size_t *n)
{
	*n = split_bits(s, bits, TPL_MAX_BITS);
	if (*n == SIZE_MAX)
		return kiln__tpl_perr(p, "too many words in tag");
	return true;
}

/* --- node lists ------------------------------------------------------- */

static bool parse_list(tpl_parser *p, const char *const *until,
    tpl_nodelist *out, const tpl_tok **endtok);

static tpl_node *
node_new(tpl_parser *p, tpl_node_kind kind, const tpl_tok *tok)
{
	tpl_node *n;

	n = kiln_arena_calloc(p->a, 1, sizeof(*n));
	if (n == NULL)
		return kiln__tpl_poom(p), NULL;
	n->kind = kind;
	n->line = tok->line;
	n->col = tok->col;
	return n;
}

/* Returns the first word of a block tag's content. */
static kiln_str
first_word(kiln_str s)
{
	size_t i = 0;

	while (i < s.len && !tpl_space(s.ptr[i]))
		i++;
	s.len = i;
	return s;
}

static bool
in_until(const char *const *until, kiln_str cmd)
{
	size_t i;

	for (i = 0; until != NULL && until[i] != NULL; i++)
		if (kiln_str_eq_c(cmd, until[i]))
			return true;
	return false;
}

/* Formats the until list as "'a', 'b' or 'c'" into buf. */
static const char *
until_text(const char *const *until, char *buf, size_t len)
{
	size_t i, n = 0;
	int w;

	buf[0] = '\0';
	for (i = 0; until != NULL && until[i] != NULL; i++) {
		w = snprintf(buf + n, len - n, "%s'%s'",
		    i == 0 ? "" : (until[i + 1] == NULL ? " or " : ", "),
		    until[i]);
		if (w < 0 || (size_t)w >= len - n)
			break;
		n += (size_t)w;
	}
	return buf;
}

/* Parses the body of a tag up to one of until; sets *end to the closer. */
static bool
parse_body(tpl_parser *p, const tpl_tok *open, const char *const *until,
    tpl_nodelist *out, const tpl_tok **end)
{
	char buf[256];

	if (!parse_list(p, until, out, end))
		return false;
	if (*end == NULL) {
		p->cur = open;
		return kiln__tpl_perr(p, "unclosed tag '%.*s', expected %s",
		    (int)first_word(open->s).len, open->s.ptr,
		    until_text(until, buf, sizeof(buf)));
	}
	return true;
}

/* Returns the length of the name (word characters) that bit starts with. */
static size_t
name_len(kiln_str bit)
{
	size_t i;

	for (i = 0; i < bit.len && is_word((unsigned char)bit.ptr[i]); i++)
		;
	return i;
}

/* True when bit looks like name=value. */
static bool
is_kwarg(kiln_str bit)
{
	size_t eq;

	eq = name_len(bit);
	return eq > 0 && eq < bit.len && bit.ptr[eq] == '=';
}

/*
 * Parses name=value pairs (Django's token_kwargs). legacy allows
 * "value as name [and value as name]". Consumes from *bits; returns the
 * count added to b, or SIZE_MAX on a compile error.
 */
static size_t
parse_kwargs(tpl_parser *p, const kiln_str *bits, size_t n, bool legacy,
    tpl_binds *b, size_t *used)
{
	size_t i = 0, k, cnt = 0, eq;
	bool kwformat;

	*used = 0;
	b->names = kiln_arena_alloc(p->a, (n + 1) * sizeof(*b->names));
	b->vals = kiln_arena_alloc(p->a, (n + 1) * sizeof(*b->vals));
	b->n = 0;
	if (b->names == NULL || b->vals == NULL)
		return kiln__tpl_poom(p), SIZE_MAX;
	if (n == 0)
		return 0;
	kwformat = is_kwarg(bits[0]);
	if (!kwformat && (!legacy || n < 3 || !kiln_str_eq_c(bits[1], "as")))
		return 0;
	while (i < n) {
		if (kwformat) {
			eq = name_len(bits[i]);
			if (eq == 0 || eq >= bits[i].len - 1 ||
			    bits[i].ptr[eq] != '=')
				break;
			b->names[b->n].ptr = bits[i].ptr;
			b->names[b->n].len = eq;
			b->vals[b->n] = kiln__tpl_fexpr_parse(p,
			    (kiln_str){ bits[i].ptr + eq + 1,
				bits[i].len - eq - 1 });
			i++;
		} else {
			if (n - i < 3 || !kiln_str_eq_c(bits[i + 1], "as"))
				break;
			b->names[b->n] = bits[i + 2];
			b->vals[b->n] = kiln__tpl_fexpr_parse(p, bits[i]);
			i += 3;
		}
		if (b->vals[b->n] == NULL)
			return SIZE_MAX;
		/* A later duplicate replaces an earlier one (a dict). */
		for (k = 0; k < b->n; k++) {
			if (kiln_str_eq(b->names[k], b->names[b->n])) {
				b->vals[k] = b->vals[b->n];
				b->n--;
				break;
			}
		}
		b->n++;
		cnt++;
		if (i < n && !kwformat) {
			if (!kiln_str_eq_c(bits[i], "and"))
				break;
			i++;
		}
	}
	*used = i;
	return cnt;
}

/*
 * Compiles each of bits[0, n) as a filter expression, for the tags that
 * take a list of values (cycle, firstof, simple tags). The array has a
 * spare slot, so that n may be 0. NULL after an error.
 */
static tpl_fexpr **
fexpr_list(tpl_parser *p, const kiln_str *bits, size_t n)
{
	tpl_fexpr **vals;
	size_t i;

	vals = kiln_arena_alloc(p->a, (n + 1) * sizeof(*vals));
	if (vals == NULL)
		return kiln__tpl_poom(p), NULL;
	for (i = 0; i < n; i++) {
		vals[i] = kiln__tpl_fexpr_parse(p, bits[i]);
		if (vals[i] == NULL)
			return NULL;
	}
	return vals;
}

/* --- tags ------------------------------------------------------------- */

typedef bool (*tag_fn)(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits,
    size_t n, tpl_node **out);

static bool
tag_if(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	static const char *const until[] = { "elif", "else", "endif", NULL };
	static const char *const until_end[] = { "endif", NULL };
	kiln__ptrs conds = { 0 }, bodies = { 0 };
	kiln_str cb[TPL_MAX_BITS];
	tpl_nodelist *body;
	const tpl_tok *end;
	tpl_cond *c;
	tpl_node *node;
	size_t i, cn;

	node = node_new(p, TPL_N_IF, tok);
	if (node == NULL)
		return false;
	c = kiln__tpl_cond_parse(p, bits + 1, n - 1);
	for (;;) {
		if (c == NULL)
			return false;
		body = kiln_arena_calloc(p->a, 1, sizeof(*body));
		if (body == NULL ||
		    kiln__ptrs_push(&conds, p->a, c) != KILN_OK ||
		    kiln__ptrs_push(&bodies, p->a, body) != KILN_OK)
			return kiln__tpl_poom(p);
		if (!parse_body(p, tok, until, body, &end))
			return false;
		if (!kiln_str_eq_c(first_word(end->s), "elif"))
			break;
		p->cur = end;
		if (!tag_bits(p, end->s, cb, &cn))
			return false;
		c = kiln__tpl_cond_parse(p, cb + 1, cn - 1);
	}
	if (kiln_str_eq_c(end->s, "else")) {
		body = kiln_arena_calloc(p->a, 1, sizeof(*body));
		if (body == NULL ||
		    kiln__ptrs_push(&bodies, p->a, body) != KILN_OK)
			return kiln__tpl_poom(p);
		if (!parse_body(p, tok, until_end, body, &end))
			return false;
	}
	if (!kiln_str_eq_c(end->s, "endif")) {
		p->cur = end;
		return kiln__tpl_perr(p, "malformed template tag: '%.*s'",
		    (int)end->s.len, end->s.ptr);
	}
	node->u.ifn.n = bodies.n;
	node->u.ifn.conds =
	    kiln_arena_calloc(p->a, bodies.n, sizeof(tpl_cond *));
	node->u.ifn.bodies =
	    kiln_arena_calloc(p->a, bodies.n, sizeof(tpl_nodelist));
	if (node->u.ifn.conds == NULL || node->u.ifn.bodies == NULL)
		return kiln__tpl_poom(p);
	for (i = 0; i < bodies.n; i++) {
		node->u.ifn.conds[i] = i < conds.n ? conds.items[i] : NULL;
		node->u.ifn.bodies[i] = *(tpl_nodelist *)bodies.items[i];
	}
	*out = node;
	return true;
}

static bool
tag_for(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	static const char *const until[] = { "empty", "endfor", NULL };
	static const char *const until_end[] = { "endfor", NULL };
	tpl_node *node;
	const tpl_tok *end;
	size_t in_idx, i, j, k, start;
	bool rev;
	kiln_str all;

	if (n < 4)
		return kiln__tpl_perr(p,
		    "'for' statements should have at least four "
		    "words: %.*s",
		    (int)tok->s.len, tok->s.ptr);
	rev = kiln_str_eq_c(bits[n - 1], "reversed");
	in_idx = rev ? n - 3 : n - 2;
	if (!kiln_str_eq_c(bits[in_idx], "in"))
		return kiln__tpl_perr(p,
		    "'for' statements should use the format "
		    "'for x in y': %.*s",
		    (int)tok->s.len, tok->s.ptr);
	node = node_new(p, TPL_N_FOR, tok);
	if (node == NULL)
		return false;
	node->u.forn.reversed = rev;
	/* Loop variables: the words between "for" and "in", split on ','. */
	all.ptr = bits[1].ptr;
	all.len =
	    (size_t)(bits[in_idx - 1].ptr + bits[in_idx - 1].len - bits[1].ptr);
	node->u.forn.vars =
	    kiln_arena_alloc(p->a, (all.len + 1) * sizeof(kiln_str));
	if (node->u.forn.vars == NULL)
		return kiln__tpl_poom(p);
	start = 0;
	for (i = 0; i <= all.len; i++) {
		if (i < all.len && all.ptr[i] != ',')
			continue;
		j = start;
		k = i;
		while (j < k && tpl_space(all.ptr[j]))
			j++;
		while (k > j && tpl_space(all.ptr[k - 1]))
			k--;
		if (j == k || memchr(all.ptr + j, ' ', k - j) != NULL ||
		    memchr(all.ptr + j, '"', k - j) != NULL ||
		    memchr(all.ptr + j, '\'', k - j) != NULL ||
		    memchr(all.ptr + j, '|', k - j) != NULL ||
		    memchr(all.ptr + j, '\t', k - j) != NULL)
			return kiln__tpl_perr(p,
			    "'for' tag received an invalid "
			    "argument: %.*s",
			    (int)tok->s.len, tok->s.ptr);
		node->u.forn.vars[node->u.forn.nvars].ptr = all.ptr + j;
		node->u.forn.vars[node->u.forn.nvars].len = k - j;
		node->u.forn.nvars++;
		start = i + 1;
	}
	node->u.forn.seq = kiln__tpl_fexpr_parse(p, bits[in_idx + 1]);
	if (node->u.forn.seq == NULL)
		return false;
	if (!parse_body(p, tok, until, &node->u.forn.body, &end))
		return false;
	if (kiln_str_eq_c(first_word(end->s), "empty") &&
	    !parse_body(p, tok, until_end, &node->u.forn.empty, &end))
		return false;
	*out = node;
	return true;
}

static bool
tag_with(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	static const char *const until[] = { "endwith", NULL };
	tpl_node *node;
	const tpl_tok *end;
	size_t used, cnt;

	node = node_new(p, TPL_N_WITH, tok);
	if (node == NULL)
		return false;
	cnt = parse_kwargs(p, bits + 1, n - 1, true, &node->u.with.b, &used);
	if (cnt == SIZE_MAX)
		return false;
	if (cnt == 0)
		return kiln__tpl_perr(p,
		    "'with' expected at least one variable "
		    "assignment");
	if (used < n - 1)
		return kiln__tpl_perr(p,
		    "'with' received an invalid token: '%.*s'",
		    (int)bits[1 + used].len, bits[1 + used].ptr);
	if (!parse_body(p, tok, until, &node->u.with.body, &end))
		return false;
	*out = node;
	return true;
}

static bool
tag_block(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	static const char *const until[] = { "endblock", NULL };
	kiln_str eb[2];
	tpl_node *node, *o;
	const tpl_tok *end;
	size_t i;

	if (n != 2)
		return kiln__tpl_perr(p, "'block' tag takes only one argument");
	for (i = 0; i < p->blocks.n; i++) {
		o = p->blocks.items[i];
		if (kiln_str_eq(o->u.block.name, bits[1]))
			return kiln__tpl_perr(p,
			    "'block' tag with name '%.*s' appears "
			    "more than once",
			    (int)bits[1].len, bits[1].ptr);
	}
	node = node_new(p, TPL_N_BLOCK, tok);
	if (node == NULL)
		return false;
	node->u.block.name = bits[1];
	if (kiln__ptrs_push(&p->blocks, p->a, node) != KILN_OK)
		return kiln__tpl_poom(p);
	if (!parse_body(p, tok, until, &node->u.block.body, &end))
		return false;
	if (!kiln_str_eq_c(end->s, "endblock")) {
		n = split_bits(end->s, eb, 2);
		if (n != 2 || !kiln_str_eq(eb[1], node->u.block.name)) {
			p->cur = end;
			return kiln__tpl_perr(p,
			    "invalid block tag '%.*s', expected "
			    "'endblock' or 'endblock %.*s'",
			    (int)end->s.len, end->s.ptr,
			    (int)node->u.block.name.len,
			    node->u.block.name.ptr);
		}
	}
	*out = node;
	return true;
}

static bool
tag_extends(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	tpl_node *node;
	tpl_nodelist rest;
	const tpl_tok *end;

	if (n != 2)
		return kiln__tpl_perr(p, "'extends' takes one argument");
	if (p->t->extends != NULL)
		return kiln__tpl_perr(p,
		    "'extends' cannot appear more than once in the "
		    "same template");
	if (p->nontext || p->depth != 2)
		return kiln__tpl_perr(p,
		    "'extends' must be the first tag in the "
		    "template");
	node = node_new(p, TPL_N_EXTENDS, tok);
	if (node == NULL)
		return false;
	node->u.ext.parent = kiln__tpl_fexpr_parse(p, bits[1]);
	if (node->u.ext.parent == NULL)
		return false;
	p->t->extends = node;
	/* The rest of the template only contributes its blocks. */
	if (!parse_list(p, NULL, &rest, &end))
		return false;
	*out = node;
	return true;
}

static bool
tag_include(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	tpl_node *node;
	size_t i = 2, used, cnt;
	bool seen_with = false, seen_only = false;

	if (n < 2)
		return kiln__tpl_perr(p,
		    "'include' tag takes at least one argument: "
		    "the name of the template to be included");
	node = node_new(p, TPL_N_INCLUDE, tok);
	if (node == NULL)
		return false;
	node->u.inc.name = kiln__tpl_fexpr_parse(p, bits[1]);
	if (node->u.inc.name == NULL)
		return false;
	while (i < n) {
		if (kiln_str_eq_c(bits[i], "with")) {
			if (seen_with)
				return kiln__tpl_perr(p,
				    "the 'with' option was "
				    "specified more than once");
			seen_with = true;
			cnt = parse_kwargs(p, bits + i + 1, n - i - 1, false,
			    &node->u.inc.b, &used);
			if (cnt == SIZE_MAX)
				return false;
			if (cnt == 0)
				return kiln__tpl_perr(p,
				    "\"with\" in 'include' tag "
				    "needs at least one keyword "
				    "argument");
			i += 1 + used;
		} else if (kiln_str_eq_c(bits[i], "only")) {
			if (seen_only)
				return kiln__tpl_perr(p,
				    "the 'only' option was "
				    "specified more than once");
			seen_only = true;
			node->u.inc.only = true;
			i++;
		} else {
			return kiln__tpl_perr(p,
			    "unknown argument for 'include' tag: "
			    "'%.*s'",
			    (int)bits[i].len, bits[i].ptr);
		}
	}
	*out = node;
	return true;
}

/*
 * {% url 'name' a b %}: positional arguments, kept as binds with empty
 * names; the router fills the rule's arguments with them in order.
 */
static bool
url_positional(tpl_parser *p, tpl_node *node, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	tpl_binds *b = &node->u.url.b;
	size_t i;

	for (i = 0; i < n; i++) {
		if (is_kwarg(bits[i]))
			return kiln__tpl_perr(p,
			    "'url' arguments are all name=value or all "
			    "positional, not both (as in Django): '%.*s'",
			    (int)bits[i].len, bits[i].ptr);
		b->names[b->n] = KILN_STR("");
		b->vals[b->n] = kiln__tpl_fexpr_parse(p, bits[i]);
		if (b->vals[b->n] == NULL)
			return false;
		b->n++;
	}
	*out = node;
	return true;
}

static bool
tag_url(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	tpl_node *node;
	size_t used, cnt;

	if (n < 2)
		return kiln__tpl_perr(p,
		    "'url' takes at least one argument, a URL "
		    "pattern name");
	node = node_new(p, TPL_N_URL, tok);
	if (node == NULL)
		return false;
	node->u.url.name = kiln__tpl_fexpr_parse(p, bits[1]);
	if (node->u.url.name == NULL)
		return false;
	if (n >= 4 && kiln_str_eq_c(bits[n - 2], "as")) {
		node->u.url.as = bits[n - 1];
		n -= 2;
	}
	cnt = parse_kwargs(p, bits + 2, n - 2, false, &node->u.url.b, &used);
	if (cnt == SIZE_MAX)
		return false;
	if (used == 0 && n > 2)
		return url_positional(p, node, bits + 2, n - 2, out);
	if (used < n - 2)
		return kiln__tpl_perr(p,
		    "'url' arguments are all name=value or all positional, "
		    "not both (as in Django): '%.*s'",
		    (int)bits[2 + used].len, bits[2 + used].ptr);
	*out = node;
	return true;
}

static bool
tag_static(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	tpl_node *node;

	if (n < 2)
		return kiln__tpl_perr(p,
		    "'static' takes at least one argument (path "
		    "to file)");
	node = node_new(p, TPL_N_STATIC, tok);
	if (node == NULL)
		return false;
	node->u.stat.path = kiln__tpl_fexpr_parse(p, bits[1]);
	if (node->u.stat.path == NULL)
		return false;
	if (n == 4 && kiln_str_eq_c(bits[2], "as"))
		node->u.stat.as = bits[3];
	else if (n != 2)
		return kiln__tpl_perr(p,
		    "'static' takes a path and optionally "
		    "'as name'");
	*out = node;
	return true;
}

static bool
tag_csrf(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	(void)bits;
	(void)n;
	*out = node_new(p, TPL_N_CSRF, tok);
	return *out != NULL;
}

static bool
tag_now(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	tpl_node *node;

	node = node_new(p, TPL_N_NOW, tok);
	if (node == NULL)
		return false;
	if (n == 4 && kiln_str_eq_c(bits[2], "as")) {
		node->u.now.as = bits[3];
		n = 2;
	}
	if (n != 2 || bits[1].len < 2)
		return kiln__tpl_perr(p, "'now' statement takes one argument");
	node->u.now.fmt.ptr = bits[1].ptr + 1;
	node->u.now.fmt.len = bits[1].len - 2;
	*out = node;
	return true;
}

/*
 * {% cycle name %}: advances and outputs the cycle named earlier in the
 * template with "as name" (Django's named cycle reference), sharing its
 * position. An unknown name is a syntax error, as in Django.
 */
static bool
cycle_ref(tpl_parser *p, const tpl_tok *tok, kiln_str name, tpl_node **out)
{
	const tpl_node *c;
	tpl_node *node;
	size_t i;

	for (i = p->cycles.n; i > 0; i--) {
		c = p->cycles.items[i - 1];
		if (kiln_str_eq(c->u.cycle.as, name))
			break;
	}
	if (i == 0)
		return kiln__tpl_perr(p,
		    "No named cycles in template. '%.*s' is not defined",
		    (int)name.len, name.ptr);
	node = node_new(p, TPL_N_CYCLE, tok);
	if (node == NULL)
		return false;
	node->u.cycle = c->u.cycle;
	node->u.cycle.ref = c->u.cycle.ref != NULL ? c->u.cycle.ref : c;
	*out = node;
	return true;
}

static bool
tag_cycle(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	tpl_node *node;
	size_t last = n;

	if (n < 2)
		return kiln__tpl_perr(p,
		    "'cycle' tag requires at least two arguments");
	if (n == 2)
		return cycle_ref(p, tok, bits[1], out);
	node = node_new(p, TPL_N_CYCLE, tok);
	if (node == NULL)
		return false;
	if (n > 4) {
		if (kiln_str_eq_c(bits[n - 3], "as")) {
			if (!kiln_str_eq_c(bits[n - 1], "silent"))
				return kiln__tpl_perr(p,
				    "only 'silent' flag is allowed "
				    "after cycle's name, not '%.*s'",
				    (int)bits[n - 1].len, bits[n - 1].ptr);
			node->u.cycle.silent = true;
			node->u.cycle.as = bits[n - 2];
			last = n - 3;
		} else if (kiln_str_eq_c(bits[n - 2], "as")) {
			node->u.cycle.as = bits[n - 1];
			last = n - 2;
		}
	}
	node->u.cycle.vals = fexpr_list(p, bits + 1, last - 1);
	if (node->u.cycle.vals == NULL)
		return false;
	node->u.cycle.n = last - 1;
	if (node->u.cycle.as.len > 0 &&
	    kiln__ptrs_push(&p->cycles, p->a, node) != KILN_OK)
		return kiln__tpl_poom(p);
	*out = node;
	return true;
}

/*
 * The tags that hold a body up to one closer and nothing else to parse
 * (spaceless, autoescape, verbatim): a new node of kind with the body in
 * u.autoesc.body.
 */
static bool
body_tag(tpl_parser *p, const tpl_tok *tok, tpl_node_kind kind,
    const char *const *until, tpl_node **out)
{
	tpl_node *node;
	const tpl_tok *end;

	node = node_new(p, kind, tok);
	if (node == NULL ||
	    !parse_body(p, tok, until, &node->u.autoesc.body, &end))
		return false;
	*out = node;
	return true;
}

static bool
tag_spaceless(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	static const char *const until[] = { "endspaceless", NULL };

	(void)bits;
	(void)n;
	return body_tag(p, tok, TPL_N_SPACELESS, until, out);
}

static bool
tag_autoescape(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits,
    size_t n, tpl_node **out)
{
	static const char *const until[] = { "endautoescape", NULL };

	if (n != 2)
		return kiln__tpl_perr(p,
		    "'autoescape' tag requires exactly one "
		    "argument");
	if (!kiln_str_eq_c(bits[1], "on") && !kiln_str_eq_c(bits[1], "off"))
		return kiln__tpl_perr(p,
		    "'autoescape' argument should be 'on' or "
		    "'off'");
	if (!body_tag(p, tok, TPL_N_AUTOESCAPE, until, out))
		return false;
	(*out)->u.autoesc.on = kiln_str_eq_c(bits[1], "on");
	return true;
}

static bool
tag_verbatim(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	static const char *const until[] = { "endverbatim", NULL };

	(void)bits;
	(void)n;
	/*
	 * The lexer made everything up to the endverbatim text, so the body
	 * is a plain list of text nodes: render it as an always-on body.
	 */
	if (!body_tag(p, tok, TPL_N_AUTOESCAPE, until, out))
		return false;
	(*out)->u.autoesc.on = true;
	return true;
}

static bool
tag_comment(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	(void)bits;
	(void)n;
	while (p->pos < p->ntoks) {
		const tpl_tok *t = &p->toks[p->pos++];

		if (t->kind == TPL_TOK_BLOCK &&
		    kiln_str_eq_c(t->s, "endcomment")) {
			*out = NULL;
			return true;
		}
	}
	p->cur = tok;
	return kiln__tpl_perr(p,
	    "unclosed tag 'comment', expected 'endcomment'");
}

static bool
tag_load(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	(void)p;
	(void)tok;
	(void)bits;
	(void)n;
	*out = NULL;
	return true;
}

static bool
tag_firstof(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	tpl_node *node;

	if (n < 2)
		return kiln__tpl_perr(p,
		    "'firstof' statement requires at least one "
		    "argument");
	node = node_new(p, TPL_N_FIRSTOF, tok);
	if (node == NULL)
		return false;
	node->u.firstof.vals = fexpr_list(p, bits + 1, n - 1);
	if (node->u.firstof.vals == NULL)
		return false;
	node->u.firstof.n = n - 1;
	*out = node;
	return true;
}

/* A user's simple tag: {% name arg ... [as var] %}. */
static bool
tag_user(tpl_parser *p, const tpl_tag *tag, const tpl_tok *tok,
    const kiln_str *bits, size_t n, tpl_node **out)
{
	tpl_node *node;

	node = node_new(p, TPL_N_TAG, tok);
	if (node == NULL)
		return false;
	node->u.tag.t = tag;
	if (n >= 3 && kiln_str_eq_c(bits[n - 2], "as")) {
		node->u.tag.as = bits[n - 1];
		n -= 2;
	}
	node->u.tag.args = fexpr_list(p, bits + 1, n - 1);
	if (node->u.tag.args == NULL)
		return false;
	node->u.tag.n = n - 1;
	*out = node;
	return true;
}

static const struct {
	const char *name;
	tag_fn fn;
} tag_table[] = {
	{ "if", tag_if },
	{ "for", tag_for },
	{ "with", tag_with },
	{ "block", tag_block },
	{ "extends", tag_extends },
	{ "include", tag_include },
	{ "url", tag_url },
	{ "static", tag_static },
	{ "csrf_token", tag_csrf },
	{ "now", tag_now },
	{ "cycle", tag_cycle },
	{ "spaceless", tag_spaceless },
	{ "autoescape", tag_autoescape },
	{ "verbatim", tag_verbatim },
	{ "comment", tag_comment },
	{ "load", tag_load },
	{ "firstof", tag_firstof },
};

/* Compiles one block tag (not a closer of the enclosing list). */
static bool
parse_tag(tpl_parser *p, const tpl_tok *tok, tpl_node **out,
    const char *const *until)
{
	kiln_str bits[TPL_MAX_BITS];
	kiln_str cmd;
	const tpl_tag *ut;
	size_t n, i;
	char buf[256];
	bool ok;

	*out = NULL;
	cmd = first_word(tok->s);
	if (!tag_bits(p, tok->s, bits, &n))
		return false;
	for (i = 0; i < sizeof(tag_table) / sizeof(tag_table[0]); i++) {
		if (kiln_str_eq_c(cmd, tag_table[i].name)) {
			if (++p->depth > p->env->lim.max_depth)
				return kiln__tpl_perr(p,
				    "tags nested more than %zu "
				    "deep",
				    p->env->lim.max_depth);
			ok = tag_table[i].fn(p, tok, bits, n, out);
			p->depth--;
			return ok;
		}
	}
	ut = kiln__tpl_user_tag(p->env, cmd);
	if (ut != NULL)
		return tag_user(p, ut, tok, bits, n, out);
	if (until != NULL && until[0] != NULL)
		return kiln__tpl_perr(p,
		    "invalid block tag '%.*s', expected %s", (int)cmd.len,
		    cmd.ptr, until_text(until, buf, sizeof(buf)));
	return kiln__tpl_perr(p, "invalid block tag '%.*s' (unknown tag)",
	    (int)cmd.len, cmd.ptr);
}

/*
 * Parses tokens into out until a block tag whose first word is in until
 * (then *endtok is that tag, consumed) or the end (then *endtok is NULL).
 */
static bool
parse_list(tpl_parser *p, const char *const *until, tpl_nodelist *out,
    const tpl_tok **endtok)
{
	kiln__ptrs nodes = { 0 };
	const tpl_tok *tok;
	tpl_node *node;
	bool top = p->depth == 0;

	*endtok = NULL;
	p->depth++;
	while (p->pos < p->ntoks) {
		tok = &p->toks[p->pos++];
		p->cur = tok;
		node = NULL;
		switch (tok->kind) {
		case TPL_TOK_TEXT:
			node = node_new(p, TPL_N_TEXT, tok);
			if (node == NULL)
				return false;
			node->u.text = tok->s;
			break;
		case TPL_TOK_VAR:
			if (tok->s.len == 0)
				return kiln__tpl_perr(p, "empty variable tag");
			node = node_new(p, TPL_N_VAR, tok);
			if (node == NULL)
				return false;
			node->u.var = kiln__tpl_fexpr_parse(p, tok->s);
			if (node->u.var == NULL)
				return false;
			break;
		case TPL_TOK_BLOCK:
			if (tok->s.len == 0)
				return kiln__tpl_perr(p, "empty block tag");
			if (in_until(until, first_word(tok->s))) {
				*endtok = tok;
				goto done;
			}
			if (!parse_tag(p, tok, &node, until))
				return false;
			break;
		case TPL_TOK_COMMENT:
			break;
		}
		if (node == NULL)
			continue;
		if (top && node->kind != TPL_N_TEXT)
			p->nontext = true;
		if (kiln__ptrs_push(&nodes, p->a, node) != KILN_OK)
			return kiln__tpl_poom(p);
	}
done:
	p->depth--;
	out->items = (tpl_node **)nodes.items;
	out->n = nodes.n;
	return true;
}

tpl_template *
kiln__tpl_compile(kiln_template_env *env, const char *name, kiln_str src,
    kiln_err *rc, char *err, size_t errlen)
{
	tpl_parser p;
	tpl_template *t;
	kiln_arena *a;
	const tpl_tok *end;

	if (src.len > env->lim.max_source) {
		*rc = KILN_ELIMIT;
		if (err != NULL && errlen > 0)
			snprintf(err, errlen,
			    "%s: template is %zu bytes, over "
			    "the limit of %zu",
			    name, src.len, env->lim.max_source);
		return NULL;
	}
	a = kiln_arena_new(0);
	if (a == NULL)
		goto oom;
	t = kiln_arena_calloc(a, 1, sizeof(*t));
	if (t == NULL)
		goto oom_a;
	t->a = a;
	t->name = kiln_arena_strdup(a, name);
	t->src = kiln_str_dup(a, src);
	if (t->name == NULL || (t->src.ptr == NULL && src.len > 0))
		goto oom_a;
	memset(&p, 0, sizeof(p));
	p.env = env;
	p.t = t;
	p.a = a;
	p.err = err;
	p.errlen = errlen;
	p.rc = kiln__tpl_lex(a, t->src, env->lim.max_tokens, &p.toks, &p.ntoks);
	if (p.rc == KILN_ELIMIT) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: more than %zu tokens", name,
			    env->lim.max_tokens);
	} else if (p.rc == KILN_ENOMEM) {
		goto oom_a;
	} else if (parse_list(&p, NULL, &t->body, &end)) {
		t->blocks = (tpl_node **)p.blocks.items;
		t->nblocks = p.blocks.n;
		*rc = KILN_OK;
		return t;
	}
	*rc = p.rc;
	kiln_arena_free(a);
	return NULL;
oom_a:
	kiln_arena_free(a);
oom:
	*rc = KILN_ENOMEM;
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: out of memory", name);
	return NULL;
}

void
kiln__tpl_free(tpl_template *t)
{
	if (t != NULL)
		kiln_arena_free(t->a);
}
