/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The template parser: turns the lexer's tokens into the compiled tree
 * (template_int.h), following Django's parser tag by tag, including its
 * syntax checks. Filter expressions ({{ a.b|f:"x" }}) are parsed by
 * fexpr_parse with the grammar of Django's FilterExpression, and {% if %}
 * conditions by a Pratt parser with the precedences of django.template.
 * smartif. Every error names the template, the line and column of the
 * offending tag, and what was expected. Nesting deeper than
 * limits.max_depth is an error, so hostile templates cannot exhaust the
 * stack.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <kiln/kiln.h>

#include "template_int.h"

#define TPL_MAX_BITS 256

typedef struct tpl_parser {
	kiln_template_env *env; /* for filters, tags and limits */
	tpl_template *t;	/* being built */
	kiln_arena *a;		/* t->a */
	tpl_tok *toks;		/* all tokens */
	size_t ntoks, pos;	/* next token */
	size_t depth;		/* nesting of block tags */
	kiln_err rc;		/* first error */
	char *err;		/* message buffer */
	size_t errlen;
	kiln__ptrs blocks;  /* block nodes seen */
	bool nontext;	    /* a non-text node was added at top level */
	const tpl_tok *cur; /* token being compiled, for errors */
} tpl_parser;

/* Records a syntax error at the current token. Returns false. */
static bool perr(tpl_parser *p, const char *fmt, ...) KILN_PRINTF(2, 3);

static bool
perr(tpl_parser *p, const char *fmt, ...)
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
static bool
poom(tpl_parser *p)
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

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
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
		while (i < s.len && is_space(s.ptr[i]))
			i++;
		if (i >= s.len)
			break;
		start = i;
		while (i < s.len && !is_space(s.ptr[i])) {
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
		return perr(p, "empty variable");
	if (parse_number(p, s, &v->lit)) {
		if (v->lit == NULL)
			return poom(p);
		return true;
	}
	if ((s.ptr[0] == '"' || s.ptr[0] == '\'') && s.len >= 2 &&
	    s.ptr[s.len - 1] == s.ptr[0]) {
		v->lit = unquote(p, s);
		return v->lit != NULL ? true : poom(p);
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
		return poom(p);
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
	return perr(p,
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
static tpl_fexpr *
fexpr_parse(tpl_parser *p, kiln_str s)
{
	tpl_fexpr *e;
	kiln__ptrs calls = { 0 };
	tpl_fcall *c;
	kiln_str name, arg;
	size_t i = 0, n, j;

	e = kiln_arena_calloc(p->a, 1, sizeof(*e));
	if (e == NULL)
		return poom(p), NULL;
	n = const_len(s, 0);
	if (n == 0)
		n = varnum_len(s, 0);
	if (n == 0) {
		perr(p, "could not find a variable at the start of '%.*s'",
		    (int)s.len, s.ptr);
		return NULL;
	}
	if (!var_parse(p, (kiln_str){ s.ptr, n }, &e->var))
		return NULL;
	i = n;
	while (i < s.len) {
		j = i;
		while (j < s.len && is_space(s.ptr[j]))
			j++;
		if (j >= s.len || s.ptr[j] != '|')
			goto remainder;
		j++;
		while (j < s.len && is_space(s.ptr[j]))
			j++;
		name.ptr = s.ptr + j;
		while (j < s.len && is_word((unsigned char)s.ptr[j]))
			j++;
		name.len = (size_t)(s.ptr + j - name.ptr);
		if (name.len == 0)
			goto remainder;
		c = kiln_arena_calloc(p->a, 1, sizeof(*c));
		if (c == NULL || kiln__ptrs_push(&calls, p->a, c) != KILN_OK)
			return poom(p), NULL;
		c->f = find_filter(p, name);
		if (c->f == NULL) {
			perr(p, "invalid filter: '%.*s'", (int)name.len,
			    name.ptr);
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
			perr(p, "%s requires 1 arguments, 2 provided",
			    c->f->name);
			return NULL;
		}
		if (!c->has_arg && (c->f->flags & KILN_TEMPLATE_FILTER_ARG)) {
			perr(p, "%s requires 2 arguments, 1 provided",
			    c->f->name);
			return NULL;
		}
		i = j;
	}
	e->calls = kiln_arena_alloc(p->a, (calls.n + 1) * sizeof(*e->calls));
	if (e->calls == NULL)
		return poom(p), NULL;
	for (i = 0; i < calls.n; i++)
		e->calls[i] = *(tpl_fcall *)calls.items[i];
	e->n = calls.n;
	return e;
remainder:
	perr(p, "could not parse the remainder: '%.*s' from '%.*s'",
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
		perr(c->p, "unexpected end of expression in if tag");
		return NULL;
	}
	c->pos++;
	n = kiln_arena_calloc(c->p->a, 1, sizeof(*n));
	if (n == NULL)
		return poom(c->p), NULL;
	if (c->ops[i] == TPL_OP_LEAF) {
		n->op = TPL_OP_LEAF;
		n->e = fexpr_parse(c->p, c->bits[i]);
		return n->e != NULL ? n : NULL;
	}
	if (c->ops[i] == TPL_OP_NOT) {
		n->op = TPL_OP_NOT;
		n->l = cond_expr(c, op_lbp(TPL_OP_NOT));
		return n->l != NULL ? n : NULL;
	}
	perr(c->p, "not expecting '%.*s' in this position in if tag",
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
		perr(c->p, "if expression nested too deeply");
		return NULL;
	}
	left = cond_nud(c);
	while (left != NULL && c->pos < c->n && rbp < op_lbp(c->ops[c->pos])) {
		op = c->ops[c->pos];
		if (op == TPL_OP_NOT) {
			perr(c->p,
			    "not expecting 'not' as infix operator in "
			    "if tag");
			return NULL;
		}
		c->pos++;
		n = kiln_arena_calloc(c->p->a, 1, sizeof(*n));
		if (n == NULL)
			return poom(c->p), NULL;
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
static tpl_cond *
cond_parse(tpl_parser *p, const kiln_str *words, size_t n)
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
		perr(p, "unused '%.*s' at end of if expression",
		    (int)c.bits[c.pos].len, c.bits[c.pos].ptr);
		return NULL;
	}
	return r;
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
		return poom(p), NULL;
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

	while (i < s.len && !is_space(s.ptr[i]))
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
		return perr(p, "unclosed tag '%.*s', expected %s",
		    (int)first_word(open->s).len, open->s.ptr,
		    until_text(until, buf, sizeof(buf)));
	}
	return true;
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
		return poom(p), SIZE_MAX;
	if (n == 0)
		return 0;
	for (eq = 0;
	     eq < bits[0].len && is_word((unsigned char)bits[0].ptr[eq]); eq++)
		;
	kwformat = eq > 0 && eq < bits[0].len && bits[0].ptr[eq] == '=';
	if (!kwformat && (!legacy || n < 3 || !kiln_str_eq_c(bits[1], "as")))
		return 0;
	while (i < n) {
		if (kwformat) {
			for (eq = 0; eq < bits[i].len &&
			     is_word((unsigned char)bits[i].ptr[eq]);
			     eq++)
				;
			if (eq == 0 || eq >= bits[i].len - 1 ||
			    bits[i].ptr[eq] != '=')
				break;
			b->names[b->n].ptr = bits[i].ptr;
			b->names[b->n].len = eq;
			b->vals[b->n] = fexpr_parse(p,
			    (kiln_str){ bits[i].ptr + eq + 1,
				bits[i].len - eq - 1 });
			i++;
		} else {
			if (n - i < 3 || !kiln_str_eq_c(bits[i + 1], "as"))
				break;
			b->names[b->n] = bits[i + 2];
			b->vals[b->n] = fexpr_parse(p, bits[i]);
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
	c = cond_parse(p, bits + 1, n - 1);
	for (;;) {
		if (c == NULL)
			return false;
		body = kiln_arena_calloc(p->a, 1, sizeof(*body));
		if (body == NULL ||
		    kiln__ptrs_push(&conds, p->a, c) != KILN_OK ||
		    kiln__ptrs_push(&bodies, p->a, body) != KILN_OK)
			return poom(p);
		if (!parse_body(p, tok, until, body, &end))
			return false;
		if (!kiln_str_eq_c(first_word(end->s), "elif"))
			break;
		p->cur = end;
		cn = split_bits(end->s, cb, TPL_MAX_BITS);
		if (cn == SIZE_MAX)
			return perr(p, "too many words in tag");
		c = cond_parse(p, cb + 1, cn - 1);
	}
	if (kiln_str_eq_c(end->s, "else")) {
		body = kiln_arena_calloc(p->a, 1, sizeof(*body));
		if (body == NULL ||
		    kiln__ptrs_push(&bodies, p->a, body) != KILN_OK)
			return poom(p);
		if (!parse_body(p, tok, until_end, body, &end))
			return false;
	}
	if (!kiln_str_eq_c(end->s, "endif")) {
		p->cur = end;
		return perr(p, "malformed template tag: '%.*s'",
		    (int)end->s.len, end->s.ptr);
	}
	node->u.ifn.n = bodies.n;
	node->u.ifn.conds =
	    kiln_arena_calloc(p->a, bodies.n, sizeof(tpl_cond *));
	node->u.ifn.bodies =
	    kiln_arena_calloc(p->a, bodies.n, sizeof(tpl_nodelist));
	if (node->u.ifn.conds == NULL || node->u.ifn.bodies == NULL)
		return poom(p);
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
		return perr(p,
		    "'for' statements should have at least four "
		    "words: %.*s",
		    (int)tok->s.len, tok->s.ptr);
	rev = kiln_str_eq_c(bits[n - 1], "reversed");
	in_idx = rev ? n - 3 : n - 2;
	if (!kiln_str_eq_c(bits[in_idx], "in"))
		return perr(p,
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
		return poom(p);
	start = 0;
	for (i = 0; i <= all.len; i++) {
		if (i < all.len && all.ptr[i] != ',')
			continue;
		j = start;
		k = i;
		while (j < k && is_space(all.ptr[j]))
			j++;
		while (k > j && is_space(all.ptr[k - 1]))
			k--;
		if (j == k || memchr(all.ptr + j, ' ', k - j) != NULL ||
		    memchr(all.ptr + j, '"', k - j) != NULL ||
		    memchr(all.ptr + j, '\'', k - j) != NULL ||
		    memchr(all.ptr + j, '|', k - j) != NULL ||
		    memchr(all.ptr + j, '\t', k - j) != NULL)
			return perr(p,
			    "'for' tag received an invalid "
			    "argument: %.*s",
			    (int)tok->s.len, tok->s.ptr);
		node->u.forn.vars[node->u.forn.nvars].ptr = all.ptr + j;
		node->u.forn.vars[node->u.forn.nvars].len = k - j;
		node->u.forn.nvars++;
		start = i + 1;
	}
	node->u.forn.seq = fexpr_parse(p, bits[in_idx + 1]);
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
		return perr(p,
		    "'with' expected at least one variable "
		    "assignment");
	if (used < n - 1)
		return perr(p, "'with' received an invalid token: '%.*s'",
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
		return perr(p, "'block' tag takes only one argument");
	for (i = 0; i < p->blocks.n; i++) {
		o = p->blocks.items[i];
		if (kiln_str_eq(o->u.block.name, bits[1]))
			return perr(p,
			    "'block' tag with name '%.*s' appears "
			    "more than once",
			    (int)bits[1].len, bits[1].ptr);
	}
	node = node_new(p, TPL_N_BLOCK, tok);
	if (node == NULL)
		return false;
	node->u.block.name = bits[1];
	if (kiln__ptrs_push(&p->blocks, p->a, node) != KILN_OK)
		return poom(p);
	if (!parse_body(p, tok, until, &node->u.block.body, &end))
		return false;
	if (!kiln_str_eq_c(end->s, "endblock")) {
		n = split_bits(end->s, eb, 2);
		if (n != 2 || !kiln_str_eq(eb[1], node->u.block.name)) {
			p->cur = end;
			return perr(p,
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
		return perr(p, "'extends' takes one argument");
	if (p->t->extends != NULL)
		return perr(p,
		    "'extends' cannot appear more than once in the "
		    "same template");
	if (p->nontext || p->depth != 2)
		return perr(p,
		    "'extends' must be the first tag in the "
		    "template");
	node = node_new(p, TPL_N_EXTENDS, tok);
	if (node == NULL)
		return false;
	node->u.ext.parent = fexpr_parse(p, bits[1]);
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
		return perr(p,
		    "'include' tag takes at least one argument: "
		    "the name of the template to be included");
	node = node_new(p, TPL_N_INCLUDE, tok);
	if (node == NULL)
		return false;
	node->u.inc.name = fexpr_parse(p, bits[1]);
	if (node->u.inc.name == NULL)
		return false;
	while (i < n) {
		if (kiln_str_eq_c(bits[i], "with")) {
			if (seen_with)
				return perr(p,
				    "the 'with' option was "
				    "specified more than once");
			seen_with = true;
			cnt = parse_kwargs(p, bits + i + 1, n - i - 1, false,
			    &node->u.inc.b, &used);
			if (cnt == SIZE_MAX)
				return false;
			if (cnt == 0)
				return perr(p,
				    "\"with\" in 'include' tag "
				    "needs at least one keyword "
				    "argument");
			i += 1 + used;
		} else if (kiln_str_eq_c(bits[i], "only")) {
			if (seen_only)
				return perr(p,
				    "the 'only' option was "
				    "specified more than once");
			seen_only = true;
			node->u.inc.only = true;
			i++;
		} else {
			return perr(p,
			    "unknown argument for 'include' tag: "
			    "'%.*s'",
			    (int)bits[i].len, bits[i].ptr);
		}
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
		return perr(p,
		    "'url' takes at least one argument, a URL "
		    "pattern name");
	node = node_new(p, TPL_N_URL, tok);
	if (node == NULL)
		return false;
	node->u.url.name = fexpr_parse(p, bits[1]);
	if (node->u.url.name == NULL)
		return false;
	if (n >= 4 && kiln_str_eq_c(bits[n - 2], "as")) {
		node->u.url.as = bits[n - 1];
		n -= 2;
	}
	cnt = parse_kwargs(p, bits + 2, n - 2, false, &node->u.url.b, &used);
	if (cnt == SIZE_MAX)
		return false;
	if (used < n - 2)
		return perr(p,
		    "'url' arguments must be name=value (Kiln "
		    "routes take named arguments): '%.*s'",
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
		return perr(p,
		    "'static' takes at least one argument (path "
		    "to file)");
	node = node_new(p, TPL_N_STATIC, tok);
	if (node == NULL)
		return false;
	node->u.stat.path = fexpr_parse(p, bits[1]);
	if (node->u.stat.path == NULL)
		return false;
	if (n == 4 && kiln_str_eq_c(bits[2], "as"))
		node->u.stat.as = bits[3];
	else if (n != 2)
		return perr(p,
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
		return perr(p, "'now' statement takes one argument");
	node->u.now.fmt.ptr = bits[1].ptr + 1;
	node->u.now.fmt.len = bits[1].len - 2;
	*out = node;
	return true;
}

static bool
tag_cycle(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	tpl_node *node;
	size_t i, last = n;

	if (n < 2)
		return perr(p, "'cycle' tag requires at least two arguments");
	if (n == 2)
		return perr(p,
		    "named cycle references ({%% cycle name %%}) "
		    "are not supported");
	node = node_new(p, TPL_N_CYCLE, tok);
	if (node == NULL)
		return false;
	if (n > 4) {
		if (kiln_str_eq_c(bits[n - 3], "as")) {
			if (!kiln_str_eq_c(bits[n - 1], "silent"))
				return perr(p,
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
	node->u.cycle.vals = kiln_arena_alloc(p->a, last * sizeof(tpl_fexpr *));
	if (node->u.cycle.vals == NULL)
		return poom(p);
	for (i = 1; i < last; i++) {
		node->u.cycle.vals[i - 1] = fexpr_parse(p, bits[i]);
		if (node->u.cycle.vals[i - 1] == NULL)
			return false;
	}
	node->u.cycle.n = last - 1;
	*out = node;
	return true;
}

static bool
tag_spaceless(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	static const char *const until[] = { "endspaceless", NULL };
	tpl_node *node;
	const tpl_tok *end;

	(void)bits;
	(void)n;
	node = node_new(p, TPL_N_SPACELESS, tok);
	if (node == NULL ||
	    !parse_body(p, tok, until, &node->u.autoesc.body, &end))
		return false;
	*out = node;
	return true;
}

static bool
tag_autoescape(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits,
    size_t n, tpl_node **out)
{
	static const char *const until[] = { "endautoescape", NULL };
	tpl_node *node;
	const tpl_tok *end;

	if (n != 2)
		return perr(p,
		    "'autoescape' tag requires exactly one "
		    "argument");
	if (!kiln_str_eq_c(bits[1], "on") && !kiln_str_eq_c(bits[1], "off"))
		return perr(p,
		    "'autoescape' argument should be 'on' or "
		    "'off'");
	node = node_new(p, TPL_N_AUTOESCAPE, tok);
	if (node == NULL)
		return false;
	node->u.autoesc.on = kiln_str_eq_c(bits[1], "on");
	if (!parse_body(p, tok, until, &node->u.autoesc.body, &end))
		return false;
	*out = node;
	return true;
}

static bool
tag_verbatim(tpl_parser *p, const tpl_tok *tok, const kiln_str *bits, size_t n,
    tpl_node **out)
{
	static const char *const until[] = { "endverbatim", NULL };
	tpl_node *node;
	const tpl_tok *end;

	(void)bits;
	(void)n;
	/* The lexer made everything up to the endverbatim text. */
	node = node_new(p, TPL_N_SPACELESS, tok);
	if (node == NULL ||
	    !parse_body(p, tok, until, &node->u.autoesc.body, &end))
		return false;
	/* A plain list of text nodes: render it as an always-on body. */
	node->kind = TPL_N_AUTOESCAPE;
	node->u.autoesc.on = true;
	*out = node;
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
	return perr(p, "unclosed tag 'comment', expected 'endcomment'");
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
	size_t i;

	if (n < 2)
		return perr(p,
		    "'firstof' statement requires at least one "
		    "argument");
	node = node_new(p, TPL_N_FIRSTOF, tok);
	if (node == NULL)
		return false;
	node->u.firstof.vals = kiln_arena_alloc(p->a, n * sizeof(tpl_fexpr *));
	if (node->u.firstof.vals == NULL)
		return poom(p);
	for (i = 1; i < n; i++) {
		node->u.firstof.vals[i - 1] = fexpr_parse(p, bits[i]);
		if (node->u.firstof.vals[i - 1] == NULL)
			return false;
	}
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
	size_t i;

	node = node_new(p, TPL_N_TAG, tok);
	if (node == NULL)
		return false;
	node->u.tag.t = tag;
	if (n >= 3 && kiln_str_eq_c(bits[n - 2], "as")) {
		node->u.tag.as = bits[n - 1];
		n -= 2;
	}
	node->u.tag.args = kiln_arena_alloc(p->a, n * sizeof(tpl_fexpr *));
	if (node->u.tag.args == NULL)
		return poom(p);
	for (i = 1; i < n; i++) {
		node->u.tag.args[i - 1] = fexpr_parse(p, bits[i]);
		if (node->u.tag.args[i - 1] == NULL)
			return false;
	}
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
	n = split_bits(tok->s, bits, TPL_MAX_BITS);
	if (n == SIZE_MAX)
		return perr(p, "too many words in tag");
	for (i = 0; i < sizeof(tag_table) / sizeof(tag_table[0]); i++) {
		if (kiln_str_eq_c(cmd, tag_table[i].name)) {
			if (++p->depth > p->env->lim.max_depth)
				return perr(p,
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
		return perr(p, "invalid block tag '%.*s', expected %s",
		    (int)cmd.len, cmd.ptr, until_text(until, buf, sizeof(buf)));
	return perr(p, "invalid block tag '%.*s' (unknown tag)", (int)cmd.len,
	    cmd.ptr);
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
				return perr(p, "empty variable tag");
			node = node_new(p, TPL_N_VAR, tok);
			if (node == NULL)
				return false;
			node->u.var = fexpr_parse(p, tok->s);
			if (node->u.var == NULL)
				return false;
			break;
		case TPL_TOK_BLOCK:
			if (tok->s.len == 0)
				return perr(p, "empty block tag");
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
			return poom(p);
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
