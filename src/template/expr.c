/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Expressions inside tags: variables and literals (Django's Variable: a
 * number, a quoted string, which is safe, or a dotted lookup whose parts
 * must not start with '_'), filter expressions with the grammar of
 * Django's FilterExpression (var|name:arg|name, spaces allowed around
 * '|'), and {% if %} conditions, parsed by a Pratt parser with the
 * binding powers of django.template.smartif (or 6, and 7, not 8, in 9,
 * comparisons 10). Recursion is bounded by limits.max_depth.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <kiln/kiln.h>

#include "template_int.h"

static bool
is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Returns a string literal's value (without quotes, escapes undone). */
static kiln_val *
unquote(tpl_parser *p, kiln_str s)
{
	char *out;
	size_t i, n = 0;
	kiln_val *v;
	char q = s.ptr[0];

	out = kiln_arena_alloc(p->a, s.len + 1);
	if (out == NULL)
		return NULL;
	/* Django: s[1:-1].replace('\\' + q, q).replace('\\\\', '\\'). */
	for (i = 1; i + 1 < s.len; i++) {
		if (s.ptr[i] == '\\' && i + 2 < s.len && s.ptr[i + 1] == q) {
			out[n++] = q;
			i++;
		} else if (s.ptr[i] == '\\' && i + 2 < s.len &&
		    s.ptr[i + 1] == '\\') {
			out[n++] = '\\';
			i++;
		} else {
			out[n++] = s.ptr[i];
		}
	}
	out[n] = '\0';
	v = kiln_arena_calloc(p->a, 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	v->type = KILN_VAL_SAFE;
	v->u.s.ptr = out;
	v->u.s.len = n;
	v->a = p->a;
	return v;
}

/*
 * Parses a number literal as Python's int() or float() would accept the
 * text Django hands them. Returns false when it is not a number.
 */
static bool
parse_number(tpl_parser *p, kiln_str s, const kiln_val **out)
{
	char buf[64], *end;
	bool isfloat = false;
	size_t i;
	int64_t iv;
	double d;

	if (s.len == 0 || s.len >= sizeof(buf))
		return false;
	for (i = 0; i < s.len; i++) {
		if (s.ptr[i] == '.' || s.ptr[i] == 'e' || s.ptr[i] == 'E')
			isfloat = true;
	}
	memcpy(buf, s.ptr, s.len);
	buf[s.len] = '\0';
	if (!isfloat) {
		if (kiln_str_to_i64(s, &iv) != KILN_OK) {
			if (s.ptr[0] == '+' &&
			    kiln_str_to_i64((kiln_str){ s.ptr + 1, s.len - 1 },
				&iv) == KILN_OK)
				goto isint;
			return false;
		}
	isint:
		*out = kiln_val_int(p->a, iv);
		return true;
	}
	if (s.ptr[s.len - 1] == '.')
		return false;
	if (!is_digit((unsigned char)buf[0]) && buf[0] != '-' &&
	    buf[0] != '+' && buf[0] != '.')
		return false;
	d = strtod(buf, &end);
	if (*end != '\0')
		return false;
	*out = kiln_val_float(p->a, d);
	return true;
}

/*
 * Parses one variable or literal (Django's Variable): a number, a quoted
 * string (safe), or a dotted lookup whose parts do not start with '_'.
 */
static bool
var_parse(tpl_parser *p, kiln_str s, tpl_var *v)
{
	size_t i, start, n;

	memset(v, 0, sizeof(*v));
	if (s.len == 0)
		return kiln__tpl_perr(p, "empty variable");
	if (parse_number(p, s, &v->lit)) {
		if (v->lit == NULL)
			return kiln__tpl_poom(p);
		return true;
	}
	if ((s.ptr[0] == '"' || s.ptr[0] == '\'') && s.len >= 2 &&
	    s.ptr[s.len - 1] == s.ptr[0]) {
		v->lit = unquote(p, s);
		return v->lit != NULL ? true : kiln__tpl_poom(p);
	}
	if (s.ptr[0] == '_')
		goto underscore;
	n = 1;
	for (i = 0; i < s.len; i++) {
		if (s.ptr[i] == '.') {
			n++;
			if (i + 1 < s.len && s.ptr[i + 1] == '_')
				goto underscore;
		}
	}
	v->parts = kiln_arena_alloc(p->a, n * sizeof(*v->parts));
	if (v->parts == NULL)
		return kiln__tpl_poom(p);
	start = 0;
	v->nparts = 0;
	for (i = 0; i <= s.len; i++) {
		if (i == s.len || s.ptr[i] == '.') {
			v->parts[v->nparts].ptr = s.ptr + start;
			v->parts[v->nparts].len = i - start;
			v->nparts++;
			start = i + 1;
		}
	}
	return true;
underscore:
	return kiln__tpl_perr(p,
	    "variables and attributes may not begin with "
	    "underscores: '%.*s'",
	    (int)s.len, s.ptr);
}

/* Length of a quoted constant at s[i] ("..." or '...'), or 0. */
static size_t
const_len(kiln_str s, size_t i)
{
	char q;
	size_t j;

	if (i >= s.len || (s.ptr[i] != '"' && s.ptr[i] != '\''))
		return 0;
	q = s.ptr[i];
	for (j = i + 1; j < s.len; j++) {
		if (s.ptr[j] == '\\') {
			j++;
			continue;
		}
		if (s.ptr[j] == q)
			return j + 1 - i;
	}
	return 0;
}

/* Length of a variable or number at s[i]: [\w.]+ or [-+.]?\d[\d.e]*. */
static size_t
varnum_len(kiln_str s, size_t i)
{
	size_t j = i;

	while (
	    j < s.len && (is_word((unsigned char)s.ptr[j]) || s.ptr[j] == '.'))
		j++;
	if (j > i)
		return j - i;
	if (i < s.len &&
	    (s.ptr[i] == '-' || s.ptr[i] == '+' || s.ptr[i] == '.'))
		j++;
	if (j < s.len && is_digit((unsigned char)s.ptr[j])) {
		j++;
		while (j < s.len &&
		    (is_digit((unsigned char)s.ptr[j]) || s.ptr[j] == '.' ||
			s.ptr[j] == 'e'))
			j++;
		return j - i;
	}
	return 0;
}

/* Finds a filter: the user's first, then the built-ins. */
static const tpl_filter *
find_filter(tpl_parser *p, kiln_str name)
{
	const tpl_filter *f;

	f = kiln__tpl_user_filter(p->env, name);
	if (f == NULL)
		f = kiln__tpl_builtin_filter(name);
	return f;
}

/*
 * Parses a filter expression: a variable or constant followed by
 * |name or |name:arg filters, with optional spaces around '|'.
 */
tpl_fexpr *
kiln__tpl_fexpr_parse(tpl_parser *p, kiln_str s)
{
	tpl_fexpr *e;
	kiln__ptrs calls = { 0 };
	tpl_fcall *c;
	kiln_str name, arg;
	size_t i = 0, n, j;

	e = kiln_arena_calloc(p->a, 1, sizeof(*e));
	if (e == NULL)
		return kiln__tpl_poom(p), NULL;
	n = const_len(s, 0);
	if (n == 0)
		n = varnum_len(s, 0);
	if (n == 0) {
		kiln__tpl_perr(p,
		    "could not find a variable at the start of '%.*s'",
		    (int)s.len, s.ptr);
		return NULL;
	}
	if (!var_parse(p, (kiln_str){ s.ptr, n }, &e->var))
		return NULL;
	i = n;
	while (i < s.len) {
		j = i;
		while (j < s.len && tpl_space(s.ptr[j]))
			j++;
		if (j >= s.len || s.ptr[j] != '|')
			goto remainder;
		j++;
		while (j < s.len && tpl_space(s.ptr[j]))
			j++;
		name.ptr = s.ptr + j;
		while (j < s.len && is_word((unsigned char)s.ptr[j]))
			j++;
		name.len = (size_t)(s.ptr + j - name.ptr);
		if (name.len == 0)
			goto remainder;
		c = kiln_arena_calloc(p->a, 1, sizeof(*c));
		if (c == NULL || kiln__ptrs_push(&calls, p->a, c) != KILN_OK)
			return kiln__tpl_poom(p), NULL;
		c->f = find_filter(p, name);
		if (c->f == NULL) {
			kiln__tpl_perr(p, "invalid filter: '%.*s'",
			    (int)name.len, name.ptr);
			return NULL;
		}
		if (j < s.len && s.ptr[j] == ':') {
			n = const_len(s, j + 1);
			if (n == 0)
				n = varnum_len(s, j + 1);
			if (n > 0) {
				arg.ptr = s.ptr + j + 1;
				arg.len = n;
				if (!var_parse(p, arg, &c->arg))
					return NULL;
				c->has_arg = true;
				j += 1 + n;
			}
		}
		if (c->has_arg && (c->f->flags & KILN_TEMPLATE_FILTER_NO_ARG)) {
			kiln__tpl_perr(p, "%s requires 1 arguments, 2 provided",
			    c->f->name);
			return NULL;
		}
		if (!c->has_arg && (c->f->flags & KILN_TEMPLATE_FILTER_ARG)) {
			kiln__tpl_perr(p, "%s requires 2 arguments, 1 provided",
			    c->f->name);
			return NULL;
		}
		i = j;
	}
	e->calls = kiln_arena_alloc(p->a, (calls.n + 1) * sizeof(*e->calls));
	if (e->calls == NULL)
		return kiln__tpl_poom(p), NULL;
	for (i = 0; i < calls.n; i++)
		e->calls[i] = *(tpl_fcall *)calls.items[i];
	e->n = calls.n;
	return e;
remainder:
	kiln__tpl_perr(p, "could not parse the remainder: '%.*s' from '%.*s'",
	    (int)(s.len - i), s.ptr + i, (int)s.len, s.ptr);
	return NULL;
}

/* --- {% if %} conditions ------------------------------------------------ */

typedef struct cond_parser {
	tpl_parser *p;
	const kiln_str *bits; /* the condition's words */
	size_t n, pos;
	tpl_op ops[TPL_MAX_BITS]; /* per token: operator, or LEAF */
	size_t depth;
} cond_parser;

/* Binding power of an operator, as in smartif. */
static int
op_lbp(tpl_op op)
{
	switch (op) {
	case TPL_OP_OR:
		return 6;
	case TPL_OP_AND:
		return 7;
	case TPL_OP_NOT:
		return 8;
	case TPL_OP_IN:
	case TPL_OP_NOTIN:
		return 9;
	case TPL_OP_LEAF:
		return 0;
	default:
		return 10;
	}
}

static tpl_op
op_of(kiln_str w)
{
	static const struct {
		const char *s;
		tpl_op op;
	} ops[] = {
		{ "or", TPL_OP_OR },
		{ "and", TPL_OP_AND },
		{ "not", TPL_OP_NOT },
		{ "in", TPL_OP_IN },
		{ "is", TPL_OP_IS },
		{ "==", TPL_OP_EQ },
		{ "!=", TPL_OP_NE },
		{ ">", TPL_OP_GT },
		{ ">=", TPL_OP_GE },
		{ "<", TPL_OP_LT },
		{ "<=", TPL_OP_LE },
	};
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (kiln_str_eq_c(w, ops[i].s))
			return ops[i].op;
	return TPL_OP_LEAF;
}

static tpl_cond *cond_expr(cond_parser *c, int rbp);

/* The "null denotation" of the token at c->pos: a literal or "not". */
static tpl_cond *
cond_nud(cond_parser *c)
{
	tpl_cond *n;
	size_t i = c->pos;

	if (i >= c->n) {
		kiln__tpl_perr(c->p, "unexpected end of expression in if tag");
		return NULL;
	}
	c->pos++;
	n = kiln_arena_calloc(c->p->a, 1, sizeof(*n));
	if (n == NULL)
		return kiln__tpl_poom(c->p), NULL;
	if (c->ops[i] == TPL_OP_LEAF) {
		n->op = TPL_OP_LEAF;
		n->e = kiln__tpl_fexpr_parse(c->p, c->bits[i]);
		return n->e != NULL ? n : NULL;
	}
	if (c->ops[i] == TPL_OP_NOT) {
		n->op = TPL_OP_NOT;
		n->l = cond_expr(c, op_lbp(TPL_OP_NOT));
		return n->l != NULL ? n : NULL;
	}
	kiln__tpl_perr(c->p, "not expecting '%.*s' in this position in if tag",
	    (int)c->bits[i].len, c->bits[i].ptr);
	return NULL;
}

/* Parses an expression whose operators bind tighter than rbp. */
static tpl_cond *
cond_expr(cond_parser *c, int rbp)
{
	tpl_cond *left, *n;
	tpl_op op;

	if (++c->depth > c->p->env->lim.max_depth) {
		kiln__tpl_perr(c->p, "if expression nested too deeply");
		return NULL;
	}
	left = cond_nud(c);
	while (left != NULL && c->pos < c->n && rbp < op_lbp(c->ops[c->pos])) {
		op = c->ops[c->pos];
		if (op == TPL_OP_NOT) {
			kiln__tpl_perr(c->p,
			    "not expecting 'not' as infix operator in "
			    "if tag");
			return NULL;
		}
		c->pos++;
		n = kiln_arena_calloc(c->p->a, 1, sizeof(*n));
		if (n == NULL)
			return kiln__tpl_poom(c->p), NULL;
		n->op = op;
		n->l = left;
		n->r = cond_expr(c, op_lbp(op));
		if (n->r == NULL)
			return NULL;
		left = n;
	}
	c->depth--;
	return left;
}

/* Compiles the words of an if/elif condition. */
tpl_cond *
kiln__tpl_cond_parse(tpl_parser *p, const kiln_str *words, size_t n)
{
	cond_parser c;
	kiln_str merged[TPL_MAX_BITS];
	size_t i, m = 0;
	tpl_cond *r;

	memset(&c, 0, sizeof(c));
	c.p = p;
	for (i = 0; i < n; i++) {
		c.ops[m] = op_of(words[i]);
		merged[m] = words[i];
		if (c.ops[m] == TPL_OP_IS && i + 1 < n &&
		    kiln_str_eq_c(words[i + 1], "not")) {
			c.ops[m] = TPL_OP_ISNOT;
			i++;
		} else if (c.ops[m] == TPL_OP_NOT && i + 1 < n &&
		    kiln_str_eq_c(words[i + 1], "in")) {
			c.ops[m] = TPL_OP_NOTIN;
			i++;
		}
		m++;
	}
	c.bits = merged;
	c.n = m;
	r = cond_expr(&c, 0);
	if (r != NULL && c.pos < c.n) {
		kiln__tpl_perr(p, "unused '%.*s' at end of if expression",
		    (int)c.bits[c.pos].len, c.bits[c.pos].ptr);
		return NULL;
	}
	return r;
}
