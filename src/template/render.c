/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Rendering: walks a compiled template, writing into a kiln_buf in the
 * caller's arena. The context is a stack: the caller's maps at the
 * bottom (context processors, then the view's context), then the
 * variables pushed by for, with, include and "as" forms. Lookups scan the
 * pushed variables from the top, then the maps, then Django's builtins
 * True, False and None. Inheritance follows Django's BlockContext: each
 * block name has a stack of definitions, the most derived on top; a block
 * renders the top definition and {{ block.super }} the next one down.
 * Errors (a missing included template, a loop that cannot unpack, a
 * limit) stop the render with a message naming the template, line and
 * column of the tag.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <kiln/kiln.h>

#include "template_int.h"

/* One block name's stack of definitions. */
typedef struct bstack {
	kiln_str name;
	const tpl_node **items; /* bottom (base) first */
	size_t n, cap;
} bstack;

typedef struct bctx {
	bstack *s;
	size_t n, cap;
} bctx;

typedef struct ent {
	kiln_str name;
	const kiln_val *val;
} ent;

typedef struct cyc {
	const tpl_node *node;
	size_t i;
} cyc;

typedef struct rstate {
	kiln_template_env *env;
	kiln_arena *a;
	kiln_buf *out;
	bool autoescape;
	const kiln_val *const *ctx; /* maps, bottom first */
	size_t nctx;
	ent *stk; /* pushed variables */
	size_t n, cap;
	size_t floor; /* lookups stop here (include ... only) */
	bctx *bc;     /* block context of the current extends chain */
	const tpl_node *cur_block;
	const tpl_node *cur_node; /* being rendered, for errors */
	cyc *cyc;
	size_t ncyc, cyccap, cycbase;
	size_t depth;		 /* include/extends nesting */
	size_t steps;		 /* nodes and iterations so far */
	const tpl_template *tpl; /* being rendered */
	kiln_err rc;
	char *err;
	size_t errlen;
	kiln_val *v_true, *v_false, *v_null, *v_empty, *v_emptymap;
} rstate;

static void render_list(rstate *st, const tpl_nodelist *l);
static void render_template(rstate *st, const tpl_template *t);

static void rerr(rstate *st, const tpl_node *n, kiln_err rc, const char *fmt,
    ...) KILN_PRINTF(4, 5);

/* Records the first render error, at node n (may be NULL). */
static void
rerr(rstate *st, const tpl_node *n, kiln_err rc, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (st->rc != KILN_OK)
		return;
	st->rc = rc;
	if (st->err == NULL || st->errlen == 0)
		return;
	w = snprintf(st->err, st->errlen,
	    "%s:%u:%u: ", st->tpl != NULL ? st->tpl->name : "<template>",
	    n != NULL ? n->line : 1, n != NULL ? n->col : 1);
	if (w < 0 || (size_t)w >= st->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(st->err + w, st->errlen - (size_t)w, fmt, ap);
	va_end(ap);
}

static void
room(rstate *st)
{
	rerr(st, NULL, KILN_ENOMEM, "out of memory");
}

/* --- the context stack ------------------------------------------------ */

static const kiln_val *
lookup_name(rstate *st, kiln_str name)
{
	const kiln_val *v;
	size_t i;

	for (i = st->n; i > st->floor; i--)
		if (kiln_str_eq(st->stk[i - 1].name, name))
			return st->stk[i - 1].val;
	for (i = st->nctx; i > 0; i--) {
		v = kiln_val_get_str(st->ctx[i - 1], name);
		if (v != NULL)
			return v;
	}
	if (kiln_str_eq_c(name, "True"))
		return st->v_true;
	if (kiln_str_eq_c(name, "False"))
		return st->v_false;
	if (kiln_str_eq_c(name, "None"))
		return st->v_null;
	return NULL;
}

/* Pushes name = v on top of the stack. */
static bool
push_var(rstate *st, kiln_str name, const kiln_val *v)
{
	ent *ns;
	size_t ncap;

	if (st->n == st->cap) {
		ncap = st->cap ? st->cap * 2 : 16;
		ns = kiln_arena_alloc(st->a, ncap * sizeof(*ns));
		if (ns == NULL) {
			room(st);
			return false;
		}
		if (st->n > 0)
			memcpy(ns, st->stk, st->n * sizeof(*ns));
		st->stk = ns;
		st->cap = ncap;
	}
	st->stk[st->n].name = name;
	st->stk[st->n].val = v;
	st->n++;
	return true;
}

/* Sets name in the nearest scope holding it (Django's set_upward), else pushes.
 */
static void
set_var(rstate *st, kiln_str name, const kiln_val *v)
{
	size_t i;

	for (i = st->n; i > st->floor; i--) {
		if (kiln_str_eq(st->stk[i - 1].name, name)) {
			st->stk[i - 1].val = v;
			return;
		}
	}
	push_var(st, name, v);
}

/* --- values ----------------------------------------------------------- */

static kiln_val *
mkval(rstate *st, kiln_val_type t)
{
	kiln_val *v;

	v = kiln_arena_calloc(st->a, 1, sizeof(*v));
	if (v == NULL) {
		room(st);
		return NULL;
	}
	v->type = t;
	v->a = st->a;
	return v;
}

static const kiln_val *
mkstr(rstate *st, kiln_str s, kiln_val_type t)
{
	kiln_val *v;

	v = mkval(st, t);
	if (v != NULL)
		v->u.s = s;
	return v;
}

static const kiln_val *
mkbool(rstate *st, bool b)
{
	return b ? st->v_true : st->v_false;
}

/* Returns true when s is all digits (a list index). */
static bool
parse_index(kiln_str s, size_t *idx)
{
	size_t i, r = 0;

	if (s.len == 0 || s.len > 9)
		return false;
	for (i = 0; i < s.len; i++) {
		if (s.ptr[i] < '0' || s.ptr[i] > '9')
			return false;
		r = r * 10 + (size_t)(s.ptr[i] - '0');
	}
	*idx = r;
	return true;
}

/* d.items, d.keys, d.values of a map, as Python returns them. */
static const kiln_val *
map_method(rstate *st, const kiln_val *m, kiln_str name)
{
	kiln_val *l, *pair, *k;
	size_t i;
	int which;

	if (kiln_str_eq_c(name, "items"))
		which = 0;
	else if (kiln_str_eq_c(name, "keys"))
		which = 1;
	else if (kiln_str_eq_c(name, "values"))
		which = 2;
	else
		return NULL;
	l = kiln_val_list(st->a);
	if (l == NULL)
		return room(st), NULL;
	for (i = 0; i < m->u.map.n; i++) {
		k = kiln_val_str(st->a, m->u.map.items[i].key);
		if (k == NULL)
			return room(st), NULL;
		if (which == 0) {
			pair = kiln_val_list(st->a);
			if (pair == NULL || kiln_val_push(pair, k) != KILN_OK ||
			    kiln_val_push(pair, m->u.map.items[i].val) !=
				KILN_OK ||
			    kiln_val_push(l, pair) != KILN_OK)
				return room(st), NULL;
		} else if (kiln_val_push(l,
			       which == 1 ? k : m->u.map.items[i].val) !=
		    KILN_OK) {
			return room(st), NULL;
		}
	}
	return l;
}

/* Looks name up on cur as Django does: key, attribute, then index. */
static const kiln_val *
attr(rstate *st, const kiln_val *cur, kiln_str name)
{
	const kiln_val *v;
	kiln_val *r;
	size_t idx, off, end;
	tpl_tm tm;

	switch (cur->type) {
	case KILN_VAL_MAP:
		v = kiln_val_get_str(cur, name);
		return v != NULL ? v : map_method(st, cur, name);
	case KILN_VAL_LIST:
		if (parse_index(name, &idx))
			return kiln_val_at(cur, idx);
		return NULL;
	case KILN_VAL_STR:
	case KILN_VAL_SAFE:
		if (!parse_index(name, &idx) ||
		    idx >= kiln__tpl_utf8_len(cur->u.s))
			return NULL;
		off = kiln__tpl_utf8_off(cur->u.s, idx);
		end = kiln__tpl_utf8_off(cur->u.s, idx + 1);
		return mkstr(st, (kiln_str){ cur->u.s.ptr + off, end - off },
		    KILN_VAL_STR);
	case KILN_VAL_DATETIME:
		kiln__tpl_civil(cur->u.dt.secs, cur->u.dt.usec, &tm);
		r = mkval(st, KILN_VAL_INT);
		if (r == NULL)
			return NULL;
		if (kiln_str_eq_c(name, "year"))
			r->u.i = tm.year;
		else if (kiln_str_eq_c(name, "month"))
			r->u.i = tm.mon;
		else if (kiln_str_eq_c(name, "day"))
			r->u.i = tm.day;
		else if (kiln_str_eq_c(name, "hour"))
			r->u.i = tm.hour;
		else if (kiln_str_eq_c(name, "minute"))
			r->u.i = tm.min;
		else if (kiln_str_eq_c(name, "second"))
			r->u.i = tm.sec;
		else if (kiln_str_eq_c(name, "microsecond"))
			r->u.i = tm.usec;
		else
			return NULL;
		return r;
	default:
		return NULL;
	}
}

static void render_block(rstate *st, kiln_str name, const tpl_node *self);

/* Renders {{ block.super }}: the next definition of the current block. */
static const kiln_val *
block_super(rstate *st)
{
	kiln_buf b, *save;
	size_t i;
	kiln_str name = st->cur_block->u.block.name;
	bool found = false;

	if (st->bc == NULL) {
		/* Django: "Did you use {{ block.super }} in a base template?"
		 */
		rerr(st, st->cur_block, KILN_EINVAL,
		    "{{ block.super }} used in a template that does not extend "
		    "another");
		return NULL;
	}
	for (i = 0; i < st->bc->n; i++)
		if (kiln_str_eq(st->bc->s[i].name, name) && st->bc->s[i].n > 0)
			found = true;
	if (!found)
		return st->v_empty;
	kiln_buf_init(&b, st->a, 256);
	save = st->out;
	st->out = &b;
	render_block(st, name, st->cur_block);
	st->out = save;
	if (b.oom)
		return room(st), NULL;
	return mkstr(st, kiln_buf_str(&b), KILN_VAL_SAFE);
}

/* Resolves a variable; NULL when it does not exist. */
static const kiln_val *
resolve(rstate *st, const tpl_var *v)
{
	const kiln_val *cur;
	size_t i;

	if (v->lit != NULL)
		return v->lit;
	if (st->cur_block != NULL && v->nparts == 2 &&
	    kiln_str_eq_c(v->parts[0], "block") &&
	    kiln_str_eq_c(v->parts[1], "super") &&
	    lookup_name(st, v->parts[0]) == NULL)
		return block_super(st);
	cur = lookup_name(st, v->parts[0]);
	for (i = 1; cur != NULL && i < v->nparts; i++)
		cur = attr(st, cur, v->parts[i]);
	return cur;
}

/* Returns true when n items joined by sep bytes would pass max_output. */
static bool
too_big(const rstate *st, size_t n, size_t sep)
{
	return sep != 0 && n > st->env->lim.max_output / sep;
}

/*
 * Evaluates a filter expression. A missing variable is "" (or None with
 * ignore_failures, as in {% if %}), and filters still apply to it.
 */
static const kiln_val *
eval(rstate *st, const tpl_fexpr *e, bool ignore_failures)
{
	const kiln_val *v, *arg, *nv;
	const tpl_fcall *c;
	size_t i;

	v = resolve(st, &e->var);
	if (st->rc != KILN_OK)
		return NULL;
	if (v == NULL)
		v = ignore_failures ? st->v_null : st->v_empty;
	for (i = 0; i < e->n; i++) {
		c = &e->calls[i];
		arg = NULL;
		if (c->has_arg) {
			arg = resolve(st, &c->arg);
			if (st->rc != KILN_OK)
				return NULL;
			if (arg == NULL) {
				/* Django raises; {% if %} takes it as None. */
				if (ignore_failures)
					return st->v_null;
				rerr(st, st->cur_node, KILN_ENOTFOUND,
				    "filter '%s': its argument '%.*s' does not "
				    "exist",
				    c->f->name, (int)c->arg.parts[0].len,
				    c->arg.parts[0].ptr);
				return NULL;
			}
		}
		if ((c->f->flags & TPL_F_JOIN) && arg != NULL &&
		    too_big(st, kiln_val_len(v),
			arg->type == KILN_VAL_STR ||
				arg->type == KILN_VAL_SAFE ?
			    arg->u.s.len :
			    24)) {
			rerr(st, st->cur_node, KILN_ELIMIT,
			    "filter '%s': result over the output limit",
			    c->f->name);
			return NULL;
		}
		nv = c->f->fn(st->a, v, arg, st->autoescape);
		if (nv == NULL)
			return room(st), NULL;
		if (kiln_val_len(nv) > st->env->lim.max_output) {
			rerr(st, st->cur_node, KILN_ELIMIT,
			    "filter '%s': result over the output limit",
			    c->f->name);
			return NULL;
		}
		if (nv == &kiln__tpl_fail) {
			rerr(st, st->cur_node, KILN_EINVAL,
			    "filter '%s' cannot take a %s", c->f->name,
			    kiln_val_type_name(v->type));
			return NULL;
		}
		if ((c->f->flags & KILN_TEMPLATE_FILTER_SAFE) &&
		    v->type == KILN_VAL_SAFE && nv->type != KILN_VAL_SAFE) {
			nv = kiln__tpl_to_str(st->a, nv);
			if (nv == NULL)
				return room(st), NULL;
			nv = mkstr(st, nv->u.s, KILN_VAL_SAFE);
			if (nv == NULL)
				return NULL;
		}
		v = nv;
	}
	return v;
}

/* Writes v as {{ }} does: localized text, escaped unless safe. */
static void
output(rstate *st, const kiln_val *v)
{
	kiln_buf tmp;
	char num[24];
	size_t n;
	uint64_t u;

	switch (v->type) {
	case KILN_VAL_SAFE:
		tpl_put(st->out, v->u.s.ptr, v->u.s.len);
		return;
	case KILN_VAL_STR:
		if (st->autoescape)
			kiln__tpl_escape(st->out, v->u.s);
		else
			tpl_put(st->out, v->u.s.ptr, v->u.s.len);
		return;
	case KILN_VAL_INT:
		/* The hot path of tables of numbers: no printf. */
		u = v->u.i < 0 ? 0 - (uint64_t)v->u.i : (uint64_t)v->u.i;
		n = sizeof(num);
		do {
			num[--n] = (char)('0' + u % 10);
			u /= 10;
		} while (u != 0);
		if (v->u.i < 0)
			num[--n] = '-';
		tpl_put(st->out, num + n, sizeof(num) - n);
		return;
	default:
		break;
	}
	if (!st->autoescape) {
		kiln__tpl_display(st->out, v);
		return;
	}
	kiln_buf_init(&tmp, st->a, 64);
	kiln__tpl_display(&tmp, v);
	kiln__tpl_escape(st->out, kiln_buf_str(&tmp));
}

/* Returns v's text (str() of non-strings), or NULL on ENOMEM. */
static const kiln_val *
as_str(rstate *st, const kiln_val *v)
{
	const kiln_val *r;

	r = kiln__tpl_to_str(st->a, v);
	if (r == NULL)
		room(st);
	return r;
}

/* --- {% if %} --------------------------------------------------------- */

/* Python's "x in y"; *ok false on a TypeError. */
static bool
contains(const kiln_val *x, const kiln_val *y, bool *ok)
{
	size_t i;

	*ok = true;
	switch (y->type) {
	case KILN_VAL_LIST:
		for (i = 0; i < y->u.list.n; i++)
			if (kiln__tpl_eq(x, y->u.list.items[i]))
				return true;
		return false;
	case KILN_VAL_MAP:
		if (x->type != KILN_VAL_STR && x->type != KILN_VAL_SAFE)
			return false;
		return kiln_val_get_str(y, x->u.s) != NULL;
	case KILN_VAL_STR:
	case KILN_VAL_SAFE:
		if (x->type != KILN_VAL_STR && x->type != KILN_VAL_SAFE) {
			*ok = false;
			return false;
		}
		if (x->u.s.len == 0)
			return true;
		return memmem(y->u.s.ptr, y->u.s.len, x->u.s.ptr, x->u.s.len) !=
		    NULL;
	default:
		*ok = false;
		return false;
	}
}

/* Python's "x is y" for the values templates can hold. */
static bool
is_same(const kiln_val *x, const kiln_val *y)
{
	if (x == y)
		return true;
	if (x->type == KILN_VAL_NULL && y->type == KILN_VAL_NULL)
		return true;
	if (x->type == KILN_VAL_BOOL && y->type == KILN_VAL_BOOL)
		return x->u.b == y->u.b;
	return false;
}

static const kiln_val *
cond_eval(rstate *st, const tpl_cond *c)
{
	const kiln_val *x, *y;
	bool ok;
	int r;

	if (st->rc != KILN_OK)
		return st->v_false;
	switch (c->op) {
	case TPL_OP_LEAF:
		x = eval(st, c->e, true);
		return x != NULL ? x : st->v_false;
	case TPL_OP_OR:
		x = cond_eval(st, c->l);
		return kiln_val_truthy(x) ? x : cond_eval(st, c->r);
	case TPL_OP_AND:
		x = cond_eval(st, c->l);
		return !kiln_val_truthy(x) ? x : cond_eval(st, c->r);
	case TPL_OP_NOT:
		return mkbool(st, !kiln_val_truthy(cond_eval(st, c->l)));
	default:
		break;
	}
	x = cond_eval(st, c->l);
	y = cond_eval(st, c->r);
	switch (c->op) {
	case TPL_OP_IN:
		r = contains(x, y, &ok);
		return mkbool(st, ok && r);
	case TPL_OP_NOTIN:
		r = contains(x, y, &ok);
		return mkbool(st, ok && !r);
	case TPL_OP_IS:
		return mkbool(st, is_same(x, y));
	case TPL_OP_ISNOT:
		return mkbool(st, !is_same(x, y));
	case TPL_OP_EQ:
		return mkbool(st, kiln__tpl_eq(x, y));
	case TPL_OP_NE:
		return mkbool(st, !kiln__tpl_eq(x, y));
	default:
		break;
	}
	r = kiln__tpl_cmp(x, y, &ok);
	if (!ok)
		return st->v_false;
	switch (c->op) {
	case TPL_OP_GT:
		return mkbool(st, r > 0);
	case TPL_OP_GE:
		return mkbool(st, r >= 0);
	case TPL_OP_LT:
		return mkbool(st, r < 0);
	default:
		return mkbool(st, r <= 0);
	}
}

static void
render_if(rstate *st, const tpl_node *n)
{
	size_t i;

	for (i = 0; i < n->u.ifn.n; i++) {
		if (n->u.ifn.conds[i] == NULL ||
		    kiln_val_truthy(cond_eval(st, n->u.ifn.conds[i]))) {
			render_list(st, &n->u.ifn.bodies[i]);
			return;
		}
	}
}

/* --- {% for %} -------------------------------------------------------- */

/* The items a for loop walks over, as Python iterates them. */
static const kiln_val **
loop_items(rstate *st, const kiln_val *seq, size_t *n)
{
	const kiln_val **items;
	size_t i, cnt, off, end = 0;

	*n = 0;
	switch (seq->type) {
	case KILN_VAL_LIST:
		cnt = seq->u.list.n;
		break;
	case KILN_VAL_MAP:
		cnt = seq->u.map.n;
		break;
	case KILN_VAL_STR:
	case KILN_VAL_SAFE:
		cnt = kiln__tpl_utf8_len(seq->u.s);
		break;
	default:
		return NULL;
	}
	if (cnt == 0)
		return NULL;
	items = kiln_arena_alloc(st->a, cnt * sizeof(*items));
	if (items == NULL)
		return room(st), NULL;
	for (i = 0, off = 0; i < cnt; i++, off = end) {
		if (seq->type == KILN_VAL_LIST) {
			items[i] = seq->u.list.items[i];
		} else if (seq->type == KILN_VAL_MAP) {
			items[i] =
			    mkstr(st, seq->u.map.items[i].key, KILN_VAL_STR);
		} else {
			end = kiln__tpl_utf8_next(seq->u.s, off);
			items[i] = mkstr(st,
			    (kiln_str){ seq->u.s.ptr + off, end - off },
			    KILN_VAL_STR);
		}
		if (items[i] == NULL)
			return NULL;
	}
	*n = cnt;
	return items;
}

/* The forloop map's members, updated in place on every iteration. */
typedef struct loopvars {
	kiln_val *counter, *counter0, *revcounter, *revcounter0, *first, *last;
} loopvars;

static kiln_val *
forloop_new(rstate *st, loopvars *lv)
{
	const kiln_val *parent;
	kiln_val *m, *pm;

	m = kiln_val_map(st->a);
	lv->counter = kiln_val_int(st->a, 0);
	lv->counter0 = kiln_val_int(st->a, 0);
	lv->revcounter = kiln_val_int(st->a, 0);
	lv->revcounter0 = kiln_val_int(st->a, 0);
	lv->first = kiln_val_bool(st->a, false);
	lv->last = kiln_val_bool(st->a, false);
	parent = lookup_name(st, KILN_STR("forloop"));
	if (parent == NULL)
		parent = st->v_emptymap;
	/* A shallow copy: maps are values the loop only reads. */
	pm = kiln_arena_alloc(st->a, sizeof(*pm));
	if (pm != NULL)
		*pm = *parent;
	if (pm == NULL || m == NULL || lv->counter == NULL ||
	    lv->counter0 == NULL || lv->revcounter == NULL ||
	    lv->revcounter0 == NULL || lv->first == NULL || lv->last == NULL ||
	    kiln_val_set(m, "parentloop", pm) != KILN_OK ||
	    kiln_val_set(m, "counter0", lv->counter0) != KILN_OK ||
	    kiln_val_set(m, "counter", lv->counter) != KILN_OK ||
	    kiln_val_set(m, "revcounter", lv->revcounter) != KILN_OK ||
	    kiln_val_set(m, "revcounter0", lv->revcounter0) != KILN_OK ||
	    kiln_val_set(m, "first", lv->first) != KILN_OK ||
	    kiln_val_set(m, "last", lv->last) != KILN_OK)
		return room(st), NULL;
	return m;
}

static void
render_for(rstate *st, const tpl_node *n)
{
	const kiln_val *seq, **items, *item, **sub;
	kiln_val *fl;
	loopvars lv;
	size_t cnt, i, j, mark, base, len;

	seq = eval(st, n->u.forn.seq, true);
	if (seq == NULL)
		return;
	if (seq->type == KILN_VAL_INT || seq->type == KILN_VAL_FLOAT ||
	    seq->type == KILN_VAL_BOOL || seq->type == KILN_VAL_DATETIME) {
		rerr(st, n, KILN_EINVAL, "'for' cannot iterate over a %s",
		    kiln_val_type_name(seq->type));
		return;
	}
	items = loop_items(st, seq, &cnt);
	if (st->rc != KILN_OK)
		return;
	if (cnt == 0) {
		render_list(st, &n->u.forn.empty);
		return;
	}
	mark = st->n;
	fl = forloop_new(st, &lv);
	if (fl == NULL || !push_var(st, KILN_STR("forloop"), fl))
		return;
	base = st->n;
	for (j = 0; j < n->u.forn.nvars; j++)
		if (!push_var(st, n->u.forn.vars[j], st->v_null))
			return;
	for (i = 0; i < cnt && st->rc == KILN_OK; i++) {
		if (++st->steps > st->env->lim.max_steps) {
			rerr(st, n, KILN_ELIMIT,
			    "render took more than %zu steps",
			    st->env->lim.max_steps);
			break;
		}
		item = items[n->u.forn.reversed ? cnt - 1 - i : i];
		lv.counter0->u.i = (int64_t)i;
		lv.counter->u.i = (int64_t)i + 1;
		lv.revcounter->u.i = (int64_t)(cnt - i);
		lv.revcounter0->u.i = (int64_t)(cnt - i - 1);
		lv.first->u.b = i == 0;
		lv.last->u.b = i == cnt - 1;
		st->n = base + n->u.forn.nvars;
		if (n->u.forn.nvars == 1) {
			st->stk[base].val = item;
		} else {
			len = item->type == KILN_VAL_LIST ?
			    item->u.list.n :
			    item->type == KILN_VAL_MAP ?
			    item->u.map.n :
			    item->type == KILN_VAL_STR ||
				item->type == KILN_VAL_SAFE ?
			    kiln__tpl_utf8_len(item->u.s) :
			    1;
			if (len != n->u.forn.nvars) {
				rerr(st, n, KILN_EINVAL,
				    "need %zu values to unpack in for loop; "
				    "got %zu",
				    n->u.forn.nvars, len);
				break;
			}
			sub = item->type == KILN_VAL_LIST ?
			    NULL :
			    loop_items(st, item, &len);
			for (j = 0; j < n->u.forn.nvars; j++)
				st->stk[base + j].val = sub != NULL ?
				    sub[j] :
				    item->type == KILN_VAL_LIST ?
				    item->u.list.items[j] :
				    st->v_null;
		}
		render_list(st, &n->u.forn.body);
	}
	st->n = mark;
}

/* --- blocks, extends, include ----------------------------------------- */

static bstack *
bc_find(rstate *st, bctx *bc, kiln_str name, bool create)
{
	bstack *ns;
	size_t i, ncap;

	for (i = 0; i < bc->n; i++)
		if (kiln_str_eq(bc->s[i].name, name))
			return &bc->s[i];
	if (!create)
		return NULL;
	if (bc->n == bc->cap) {
		ncap = bc->cap ? bc->cap * 2 : 8;
		ns = kiln_arena_calloc(st->a, ncap, sizeof(*ns));
		if (ns == NULL)
			return room(st), NULL;
		if (bc->n > 0)
			memcpy(ns, bc->s, bc->n * sizeof(*ns));
		bc->s = ns;
		bc->cap = ncap;
	}
	bc->s[bc->n].name = name;
	return &bc->s[bc->n++];
}

/* Pushes node on top of (top) or under (!top) the stack for its name. */
static void
bc_add(rstate *st, const tpl_node *node, bool top)
{
	bstack *s;
	const tpl_node **ni;
	size_t ncap;

	s = bc_find(st, st->bc, node->u.block.name, true);
	if (s == NULL)
		return;
	if (s->n == s->cap) {
		ncap = s->cap ? s->cap * 2 : 4;
		ni = kiln_arena_alloc(st->a, ncap * sizeof(*ni));
		if (ni == NULL) {
			room(st);
			return;
		}
		if (s->n > 0)
			memcpy(ni, s->items, s->n * sizeof(*ni));
		s->items = ni;
		s->cap = ncap;
	}
	if (top) {
		s->items[s->n++] = node;
	} else {
		memmove(s->items + 1, s->items, s->n * sizeof(*ni));
		s->items[0] = node;
		s->n++;
	}
}

/* Renders the block name: its most derived definition (else self). */
static void
render_block(rstate *st, kiln_str name, const tpl_node *self)
{
	const tpl_node *node = NULL, *save;
	bstack *s;
	size_t mark;

	s = st->bc != NULL ? bc_find(st, st->bc, name, false) : NULL;
	if (s != NULL && s->n > 0)
		node = s->items[--s->n];
	save = st->cur_block;
	st->cur_block = node != NULL ? node : self;
	mark = st->n;
	if (st->cur_block != NULL)
		render_list(st, &st->cur_block->u.block.body);
	st->n = mark;
	st->cur_block = save;
	if (node != NULL)
		bc_add(st, node, true);
}

/* Resolves a template name expression and loads the template. */
static tpl_template *
load_named(rstate *st, const tpl_node *n, const tpl_fexpr *e, const char *tag)
{
	const kiln_val *v;
	tpl_template *t;
	const char *name;
	char msg[TPL_ERRMAX];
	kiln_err rc;

	v = eval(st, e, false);
	if (v == NULL)
		return NULL;
	if ((v->type != KILN_VAL_STR && v->type != KILN_VAL_SAFE) ||
	    v->u.s.len == 0) {
		rerr(st, n, KILN_EINVAL, "invalid template name in '%s' tag",
		    tag);
		return NULL;
	}
	if (st->depth >= st->env->lim.max_include) {
		rerr(st, n, KILN_ELIMIT, "'%s' nested more than %zu deep", tag,
		    st->env->lim.max_include);
		return NULL;
	}
	name = kiln_str_cstr(st->a, v->u.s);
	if (name == NULL)
		return room(st), NULL;
	t = kiln__tpl_load(st->env, name, &rc, msg, sizeof(msg));
	if (t == NULL)
		rerr(st, n, rc, "%s: %s", tag, msg);
	return t;
}

static void
render_extends(rstate *st, const tpl_node *n)
{
	const tpl_template *self = st->tpl;
	tpl_template *parent;
	size_t i;

	parent = load_named(st, n, n->u.ext.parent, "extends");
	if (parent == NULL)
		return;
	if (st->bc == NULL) {
		st->bc = kiln_arena_calloc(st->a, 1, sizeof(*st->bc));
		if (st->bc == NULL) {
			room(st);
			return;
		}
	}
	for (i = 0; i < self->nblocks; i++)
		bc_add(st, self->blocks[i], false);
	if (parent->extends == NULL)
		for (i = 0; i < parent->nblocks; i++)
			bc_add(st, parent->blocks[i], false);
	st->depth++;
	st->tpl = parent;
	render_list(st, &parent->body);
	st->tpl = self;
	st->depth--;
}

/* Renders t in a fresh block and cycle state (a top-level render or include).
 */
static void
render_template(rstate *st, const tpl_template *t)
{
	bctx *bc = st->bc;
	const tpl_node *cb = st->cur_block;
	const tpl_template *tpl = st->tpl;
	size_t cycbase = st->cycbase, ncyc = st->ncyc;

	st->bc = NULL;
	st->cur_block = NULL;
	st->cycbase = st->ncyc;
	st->tpl = t;
	render_list(st, &t->body);
	st->tpl = tpl;
	st->cycbase = cycbase;
	st->ncyc = ncyc;
	st->cur_block = cb;
	st->bc = bc;
}

static void
render_include(rstate *st, const tpl_node *n)
{
	const kiln_val *const *ctx = st->ctx;
	const kiln_val **vals;
	tpl_template *t;
	size_t i, mark = st->n, floor = st->floor, nctx = st->nctx;

	t = load_named(st, n, n->u.inc.name, "include");
	if (t == NULL)
		return;
	vals = kiln_arena_alloc(st->a, (n->u.inc.b.n + 1) * sizeof(*vals));
	if (vals == NULL) {
		room(st);
		return;
	}
	for (i = 0; i < n->u.inc.b.n; i++) {
		vals[i] = eval(st, n->u.inc.b.vals[i], false);
		if (vals[i] == NULL)
			return;
	}
	if (n->u.inc.only) {
		st->floor = st->n;
		st->nctx = 0;
	}
	for (i = 0; i < n->u.inc.b.n; i++)
		if (!push_var(st, n->u.inc.b.names[i], vals[i]))
			return;
	st->depth++;
	render_template(st, t);
	st->depth--;
	st->n = mark;
	st->floor = floor;
	st->ctx = ctx;
	st->nctx = nctx;
}

static void
render_with(rstate *st, const tpl_node *n)
{
	const kiln_val **vals;
	size_t i, mark = st->n;

	vals = kiln_arena_alloc(st->a, (n->u.with.b.n + 1) * sizeof(*vals));
	if (vals == NULL) {
		room(st);
		return;
	}
	for (i = 0; i < n->u.with.b.n; i++) {
		vals[i] = eval(st, n->u.with.b.vals[i], false);
		if (vals[i] == NULL)
			return;
	}
	for (i = 0; i < n->u.with.b.n; i++)
		if (!push_var(st, n->u.with.b.names[i], vals[i]))
			return;
	render_list(st, &n->u.with.body);
	st->n = mark;
}

/* --- url, static, now, cycle, spaceless -------------------------------- */

static void
render_url(rstate *st, const tpl_node *n)
{
	const kiln_val *name, *v;
	kiln_kvs args;
	kiln_str url;
	char msg[256];
	size_t i;

	name = eval(st, n->u.url.name, false);
	if (name == NULL || (name = as_str(st, name)) == NULL)
		return;
	kiln_kvs_init(&args, st->a);
	for (i = 0; i < n->u.url.b.n; i++) {
		v = eval(st, n->u.url.b.vals[i], false);
		if (v == NULL || (v = as_str(st, v)) == NULL)
			return;
		if (kiln_kvs_add(&args, n->u.url.b.names[i], v->u.s) !=
		    KILN_OK) {
			room(st);
			return;
		}
	}
	if (st->env->url_fn == NULL) {
		if (n->u.url.as.len > 0) {
			set_var(st, n->u.url.as, st->v_empty);
			return;
		}
		rerr(st, n, KILN_ENOTFOUND,
		    "url: no URL builder (the "
		    "template is not rendered for an "
		    "app)");
		return;
	}
	if (st->env->url_fn(st->env->url_data, st->a,
		kiln_str_cstr(st->a, name->u.s), &args, &url, msg,
		sizeof(msg)) != KILN_OK) {
		if (n->u.url.as.len > 0) {
			set_var(st, n->u.url.as, st->v_empty);
			return;
		}
		rerr(st, n, KILN_ENOTFOUND, "url: %s", msg);
		return;
	}
	v = mkstr(st, url, KILN_VAL_STR);
	if (v == NULL)
		return;
	if (n->u.url.as.len > 0)
		push_var(st, n->u.url.as, v);
	else
		output(st, v);
}

/* Appends urljoin(static_url, quote(path)) to b, through the manifest. */
static void
static_url(rstate *st, kiln_buf *b, kiln_str path)
{
	const kiln_val *m;
	const char *base = st->env->static_url;
	size_t blen = strlen(base), i;
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;

	if (st->env->manifest != NULL) {
		m = kiln_val_get_str(st->env->manifest, path);
		if (m != NULL && m->type == KILN_VAL_STR)
			path = m->u.s;
	}
	if (path.len > 0 && path.ptr[0] == '/')
		blen = 0;
	else if (memmem(path.ptr, path.len, "://", 3) != NULL)
		blen = 0;
	else
		while (blen > 0 && base[blen - 1] != '/')
			blen--;
	tpl_put(b, base, blen);
	for (i = 0; i < path.len; i++) {
		c = (unsigned char)path.ptr[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == '-' || c == '~' || c == '/') {
			tpl_putc(b, (char)c);
		} else {
			tpl_putc(b, '%');
			tpl_putc(b, hex[c >> 4]);
			tpl_putc(b, hex[c & 15]);
		}
	}
}

static void
render_static(rstate *st, const tpl_node *n)
{
	const kiln_val *p, *v;
	kiln_buf b;

	p = eval(st, n->u.stat.path, false);
	if (p == NULL || (p = as_str(st, p)) == NULL)
		return;
	kiln_buf_init(&b, st->a, 64);
	static_url(st, &b, p->u.s);
	if (b.oom) {
		room(st);
		return;
	}
	v = mkstr(st, kiln_buf_str(&b), KILN_VAL_STR);
	if (v == NULL)
		return;
	if (n->u.stat.as.len > 0)
		push_var(st, n->u.stat.as, v);
	else
		output(st, v);
}

static void
render_now(rstate *st, const tpl_node *n)
{
	kiln_val dt;
	kiln_buf b;
	const kiln_val *v;

	memset(&dt, 0, sizeof(dt));
	dt.type = KILN_VAL_DATETIME;
	dt.u.dt.secs = (int64_t)time(NULL);
	kiln_buf_init(&b, st->a, 32);
	kiln__tpl_datefmt(&b, &dt,
	    n->u.now.fmt.len > 0 ? n->u.now.fmt : KILN_STR("N j, Y"), false);
	v = mkstr(st, kiln_buf_str(&b), KILN_VAL_STR);
	if (v == NULL)
		return;
	if (n->u.now.as.len > 0)
		push_var(st, n->u.now.as, v);
	else
		output(st, v);
}

static void
render_cycle(rstate *st, const tpl_node *n)
{
	cyc *c = NULL, *nc;
	const kiln_val *v;
	size_t i, ncap;
	const tpl_node *key = n->u.cycle.ref != NULL ? n->u.cycle.ref : n;

	for (i = st->cycbase; i < st->ncyc; i++)
		if (st->cyc[i].node == key)
			c = &st->cyc[i];
	if (c == NULL) {
		if (st->ncyc == st->cyccap) {
			ncap = st->cyccap ? st->cyccap * 2 : 8;
			nc = kiln_arena_alloc(st->a, ncap * sizeof(*nc));
			if (nc == NULL) {
				room(st);
				return;
			}
			if (st->ncyc > 0)
				memcpy(nc, st->cyc, st->ncyc * sizeof(*nc));
			st->cyc = nc;
			st->cyccap = ncap;
		}
		c = &st->cyc[st->ncyc++];
		c->node = key;
		c->i = 0;
	}
	v = eval(st, n->u.cycle.vals[c->i % n->u.cycle.n], false);
	c->i++;
	if (v == NULL)
		return;
	if (n->u.cycle.as.len > 0)
		set_var(st, n->u.cycle.as, v);
	if (!n->u.cycle.silent)
		output(st, v);
}

static bool
ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

/* {% spaceless %}: strip, then remove whitespace between '>' and '<'. */
static void
render_spaceless(rstate *st, const tpl_node *n)
{
	kiln_buf b, *save = st->out;
	kiln_str s;
	size_t i, j;

	kiln_buf_init(&b, st->a, 256);
	st->out = &b;
	render_list(st, &n->u.autoesc.body);
	st->out = save;
	s = kiln_buf_str(&b);
	while (s.len > 0 && ws(s.ptr[0])) {
		s.ptr++;
		s.len--;
	}
	while (s.len > 0 && ws(s.ptr[s.len - 1]))
		s.len--;
	for (i = 0; i < s.len; i++) {
		tpl_putc(st->out, s.ptr[i]);
		if (s.ptr[i] != '>')
			continue;
		for (j = i + 1; j < s.len && ws(s.ptr[j]); j++)
			;
		if (j > i + 1 && j < s.len && s.ptr[j] == '<')
			i = j - 1;
	}
}

static void
render_tag(rstate *st, const tpl_node *n)
{
	const kiln_val **args, *v;
	size_t i;

	args = kiln_arena_alloc(st->a, (n->u.tag.n + 1) * sizeof(*args));
	if (args == NULL) {
		room(st);
		return;
	}
	for (i = 0; i < n->u.tag.n; i++) {
		args[i] = eval(st, n->u.tag.args[i], false);
		if (args[i] == NULL)
			return;
	}
	v = n->u.tag.t->fn(st->a, args, n->u.tag.n, n->u.tag.t->data);
	if (v == NULL) {
		rerr(st, n, KILN_EINVAL, "tag '%s' failed", n->u.tag.t->name);
		return;
	}
	if (n->u.tag.as.len > 0)
		push_var(st, n->u.tag.as, v);
	else
		output(st, v);
}

static void
render_node(rstate *st, const tpl_node *n)
{
	const kiln_val *v;
	bool save;
	size_t i;

	switch (n->kind) {
	case TPL_N_TEXT:
		tpl_put(st->out, n->u.text.ptr, n->u.text.len);
		break;
	case TPL_N_VAR:
		v = eval(st, n->u.var, false);
		if (v != NULL)
			output(st, v);
		break;
	case TPL_N_IF:
		render_if(st, n);
		break;
	case TPL_N_FOR:
		render_for(st, n);
		break;
	case TPL_N_WITH:
		render_with(st, n);
		break;
	case TPL_N_BLOCK:
		render_block(st, n->u.block.name, n);
		break;
	case TPL_N_EXTENDS:
		render_extends(st, n);
		break;
	case TPL_N_INCLUDE:
		render_include(st, n);
		break;
	case TPL_N_URL:
		render_url(st, n);
		break;
	case TPL_N_STATIC:
		render_static(st, n);
		break;
	case TPL_N_CSRF:
		v = lookup_name(st, KILN_STR("csrf_token"));
		if (v != NULL && kiln_val_truthy(v) &&
		    (v = as_str(st, v)) != NULL &&
		    !kiln_str_eq_c(v->u.s, "NOTPROVIDED")) {
			kiln_buf_append_c(st->out,
			    "<input type=\"hidden\" "
			    "name=\"csrfmiddlewaretoken\" "
			    "value=\"");
			kiln__tpl_escape(st->out, v->u.s);
			kiln_buf_append_c(st->out, "\">");
		}
		break;
	case TPL_N_NOW:
		render_now(st, n);
		break;
	case TPL_N_CYCLE:
		render_cycle(st, n);
		break;
	case TPL_N_SPACELESS:
		render_spaceless(st, n);
		break;
	case TPL_N_AUTOESCAPE:
		save = st->autoescape;
		st->autoescape = n->u.autoesc.on;
		render_list(st, &n->u.autoesc.body);
		st->autoescape = save;
		break;
	case TPL_N_FIRSTOF:
		for (i = 0; i < n->u.firstof.n; i++) {
			v = eval(st, n->u.firstof.vals[i], true);
			if (v != NULL && kiln_val_truthy(v)) {
				output(st, v);
				break;
			}
		}
		break;
	case TPL_N_TAG:
		render_tag(st, n);
		break;
	}
}

static void
render_list(rstate *st, const tpl_nodelist *l)
{
	const tpl_node *save = st->cur_node;
	size_t i;

	for (i = 0; i < l->n && st->rc == KILN_OK; i++) {
		st->cur_node = l->items[i];
		if (++st->steps > st->env->lim.max_steps) {
			rerr(st, l->items[i], KILN_ELIMIT,
			    "render took more than %zu steps",
			    st->env->lim.max_steps);
			break;
		}
		render_node(st, l->items[i]);
		if (st->out->oom) {
			room(st);
			break;
		}
		if (st->out->len > st->env->lim.max_output) {
			rerr(st, l->items[i], KILN_ELIMIT,
			    "output over the limit of %zu bytes",
			    st->env->lim.max_output);
			break;
		}
	}
	st->cur_node = save;
}

kiln_err
kiln__tpl_render(kiln_template_env *env, tpl_template *t,
    const kiln_val *const *ctx, size_t nctx, kiln_arena *a, kiln_buf *out,
    char *err, size_t errlen)
{
	rstate st;

	memset(&st, 0, sizeof(st));
	st.env = env;
	st.a = a;
	st.out = out;
	st.autoescape = true;
	st.ctx = ctx;
	st.nctx = nctx;
	st.err = err;
	st.errlen = errlen;
	st.v_true = kiln_val_bool(a, true);
	st.v_false = kiln_val_bool(a, false);
	st.v_null = kiln_val_null(a);
	st.v_empty = kiln_val_str(a, KILN_STR(""));
	st.v_emptymap = kiln_val_map(a);
	if (st.v_true == NULL || st.v_false == NULL || st.v_null == NULL ||
	    st.v_empty == NULL || st.v_emptymap == NULL) {
		room(&st);
		return st.rc;
	}
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	render_template(&st, t);
	return st.rc;
}
