/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The template lexer: splits a source into text, {{ variable }},
 * {% block %} and {# comment #} tokens exactly as Django's Lexer does.
 * A tag opens with "{{", "{%" or "{#" and ends at the first matching
 * closer on the same line; an opener without one is plain text. Inside
 * {% verbatim %} every tag except the matching endverbatim is text.
 * Token slices point into the source; nothing is copied.
 */
#include "config.h"

#include <kiln/kiln.h>

#include "template_int.h"

/*
 * Looks for a tag starting at src[p] ('{' then '{', '%' or '#'). Returns
 * the tag's length including both delimiters, or 0 when no closer comes
 * before the end of the line.
 */
static size_t
lex_tag_at(kiln_str src, size_t p)
{
	char close;
	size_t i;

	if (p + 1 >= src.len || src.ptr[p] != '{')
		return 0;
	switch (src.ptr[p + 1]) {
	case '{':
		close = '}';
		break;
	case '%':
		close = '%';
		break;
	case '#':
		close = '#';
		break;
	default:
		return 0;
	}
	for (i = p + 2; i + 1 < src.len; i++) {
		if (src.ptr[i] == '\n')
			return 0;
		if (src.ptr[i] == close && src.ptr[i + 1] == '}')
			return i + 2 - p;
	}
	return 0;
}

/* Appends one token, growing the array. */
static kiln_err
lex_push(kiln_arena *a, tpl_tok **toks, size_t *n, size_t *cap,
    size_t max_tokens, const tpl_tok *t)
{
	tpl_tok *nt;
	size_t ncap;

	if (*n >= max_tokens)
		return KILN_ELIMIT;
	if (*n == *cap) {
		ncap = *cap ? *cap * 2 : 64;
		nt = kiln_arena_alloc(a, ncap * sizeof(*nt));
		if (nt == NULL)
			return KILN_ENOMEM;
		if (*n > 0)
			memcpy(nt, *toks, *n * sizeof(*nt));
		*toks = nt;
		*cap = ncap;
	}
	(*toks)[(*n)++] = *t;
	return KILN_OK;
}

/* Advances line/column counters over src[from, to). */
static void
lex_advance(kiln_str src, size_t from, size_t to, unsigned *line,
    size_t *line_start)
{
	size_t i;

	for (i = from; i < to; i++) {
		if (src.ptr[i] == '\n') {
			(*line)++;
			*line_start = i + 1;
		}
	}
}

/*
 * Classifies the tag src[p, p+len) into t, tracking verbatim mode in
 * *verb (the "endverbatim ..." text that ends it, or an empty slice).
 * Returns true when this tag opens a verbatim section; the caller then
 * sets *verb.
 */
static bool
lex_classify(kiln_str src, size_t p, size_t len, kiln_str *verb, tpl_tok *t)
{
	kiln_str inner, whole;
	char kind;

	whole.ptr = src.ptr + p;
	whole.len = len;
	inner.ptr = src.ptr + p + 2;
	inner.len = len - 4;
	inner = tpl_strip(inner);
	kind = src.ptr[p + 1];
	if (kind == '%' && verb->len > 0 && kiln_str_eq(inner, *verb))
		*verb = KILN_STR_NULL;
	if (verb->len > 0) {
		t->kind = TPL_TOK_TEXT;
		t->s = whole;
		return false;
	}
	if (kind == '{') {
		t->kind = TPL_TOK_VAR;
		t->s = inner;
	} else if (kind == '%') {
		t->kind = TPL_TOK_BLOCK;
		t->s = inner;
		if ((inner.len == 8 && memcmp(inner.ptr, "verbatim", 8) == 0) ||
		    (inner.len > 8 && memcmp(inner.ptr, "verbatim ", 9) == 0))
			return true;
	} else {
		t->kind = TPL_TOK_COMMENT;
		t->s = inner;
	}
	return false;
}

kiln_err
kiln__tpl_lex(kiln_arena *a, kiln_str src, size_t max_tokens, tpl_tok **toks,
    size_t *ntoks)
{
	tpl_tok t;
	kiln_str verb = KILN_STR_NULL;
	size_t p = 0, text_start = 0, line_start = 0, len, cap = 0;
	unsigned line = 1, text_line = 1;
	size_t text_col = 1;
	kiln_err rc;
	char *ev;

	*toks = NULL;
	*ntoks = 0;
	/* The end of the source closes the last text run as a tag would. */
	for (;;) {
		len = lex_tag_at(src, p);
		if (len == 0 && p < src.len) {
			p++;
			continue;
		}
		if (p > text_start) {
			t.kind = TPL_TOK_TEXT;
			t.s.ptr = src.ptr + text_start;
			t.s.len = p - text_start;
			t.line = text_line;
			t.col = (unsigned)text_col;
			rc = lex_push(a, toks, ntoks, &cap, max_tokens, &t);
			if (rc != KILN_OK)
				return rc;
			lex_advance(src, text_start, p, &line, &line_start);
		}
		if (p >= src.len)
			break;
		t.line = line;
		t.col = (unsigned)(p - line_start + 1);
		if (lex_classify(src, p, len, &verb, &t)) {
			/* Entered verbatim: it ends at "end" + this content. */
			ev = kiln_arena_alloc(a, t.s.len + 4);
			if (ev == NULL)
				return KILN_ENOMEM;
			memcpy(ev, "end", 3);
			memcpy(ev + 3, t.s.ptr, t.s.len);
			ev[t.s.len + 3] = '\0';
			verb.ptr = ev;
			verb.len = t.s.len + 3;
		}
		rc = lex_push(a, toks, ntoks, &cap, max_tokens, &t);
		if (rc != KILN_OK)
			return rc;
		lex_advance(src, p, p + len, &line, &line_start);
		p += len;
		text_start = p;
		text_line = line;
		text_col = p - line_start + 1;
	}
	return KILN_OK;
}
