/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The template engine's internals: tokens, the compiled tree, the
 * environment and the render state. A compiled template owns one arena
 * holding its source copy and every node; nodes point into the source
 * for text, so rendering a text node is one buffer append.
 */
#ifndef KILN_TEMPLATE_INT_H
#define KILN_TEMPLATE_INT_H

#include <kiln/kiln.h>
#include <kiln/template.h>

#include "kiln_int.h"

#define TPL_ERRMAX 512

/*
 * Appends n bytes to b: a memcpy when they fit, else kiln_buf_append.
 * Rendering is mostly small appends, and this keeps them inline.
 */
static inline void
tpl_put(kiln_buf *b, const char *p, size_t n)
{
	if (!b->oom && b->ptr != NULL && b->cap - b->len >= n) {
		memcpy(b->ptr + b->len, p, n);
		b->len += n;
		b->ptr[b->len] = '\0';
		return;
	}
	kiln_buf_append(b, p, n);
}

/* Appends one byte to b (see tpl_put). */
static inline void
tpl_putc(kiln_buf *b, char c)
{
	tpl_put(b, &c, 1);
}

/*
 * The whitespace Python's str.split() and str.strip() use (ASCII only),
 * shared by the lexer, the tag parser and the filters so that all three
 * split and strip text the same way.
 */
static inline bool
tpl_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

/* Whether v is a string (plain or marked safe). */
static inline bool
tpl_is_text(const kiln_val *v)
{
	return v->type == KILN_VAL_STR || v->type == KILN_VAL_SAFE;
}

/* Returns s without leading and trailing tpl_space() (str.strip()). */
static inline kiln_str
tpl_strip(kiln_str s)
{
	while (s.len > 0 && tpl_space(s.ptr[0])) {
		s.ptr++;
		s.len--;
	}
	while (s.len > 0 && tpl_space(s.ptr[s.len - 1]))
		s.len--;
	return s;
}

/* --- lexer.c ---------------------------------------------------------- */

typedef enum tpl_tok_kind {
	TPL_TOK_TEXT,
	TPL_TOK_VAR,   /* {{ ... }} */
	TPL_TOK_BLOCK, /* {% ... %} */
	TPL_TOK_COMMENT,
} tpl_tok_kind;

typedef struct tpl_tok {
	tpl_tok_kind kind; /* what it is */
	kiln_str s;	   /* TEXT: the text; VAR/BLOCK: the stripped inside */
	unsigned line;	   /* 1-based line of its first byte */
	unsigned col;	   /* 1-based column (in bytes) */
} tpl_tok;

/*
 * Splits src into tokens (in a) as Django's Lexer does: a tag never spans
 * a newline, and inside {% verbatim %} only the matching endverbatim is
 * a tag. More than max_tokens tokens is KILN_ELIMIT.
 */
kiln_err kiln__tpl_lex(kiln_arena *a, kiln_str src, size_t max_tokens,
    tpl_tok **toks, size_t *ntoks);

/* --- the compiled tree ------------------------------------------------ */

/* Internal filter flag: output may be items x argument (join). */
#define TPL_F_JOIN 0x100

typedef struct tpl_filter {
	const char *name;	    /* as written in templates */
	kiln_template_filter_fn fn; /* the filter */
	unsigned flags;		    /* KILN_TEMPLATE_FILTER_* */
} tpl_filter;

typedef struct tpl_tag {
	const char *name;	 /* as written in templates */
	kiln_template_tag_fn fn; /* the tag */
	void *data;		 /* given back to fn */
} tpl_tag;

/* A variable or a literal: {{ a.b.0 }} or "text" or 3. */
typedef struct tpl_var {
	const kiln_val *lit; /* a literal, or NULL for a lookup */
	kiln_str *parts;     /* lookup path, nparts >= 1 */
	size_t nparts;
} tpl_var;

typedef struct tpl_fcall {
	const tpl_filter *f; /* the filter */
	tpl_var arg;	     /* its argument, when has_arg */
	bool has_arg;
} tpl_fcall;

/* A filter expression: var|f1:arg|f2. */
typedef struct tpl_fexpr {
	tpl_var var;
	tpl_fcall *calls; /* n filters, applied in order */
	size_t n;
} tpl_fexpr;

/* {% if %} expression operators (precedence as in Django's smartif). */
typedef enum tpl_op {
	TPL_OP_LEAF,
	TPL_OP_OR,
	TPL_OP_AND,
	TPL_OP_NOT,
	TPL_OP_IN,
	TPL_OP_NOTIN,
	TPL_OP_IS,
	TPL_OP_ISNOT,
	TPL_OP_EQ,
	TPL_OP_NE,
	TPL_OP_GT,
	TPL_OP_GE,
	TPL_OP_LT,
	TPL_OP_LE,
} tpl_op;

typedef struct tpl_cond tpl_cond;
struct tpl_cond {
	tpl_op op;	 /* LEAF: e is set */
	tpl_cond *l, *r; /* operands (NOT uses l) */
	tpl_fexpr *e;	 /* LEAF */
};

typedef struct tpl_node tpl_node;

typedef struct tpl_nodelist {
	tpl_node **items; /* n nodes */
	size_t n;
} tpl_nodelist;

typedef enum tpl_node_kind {
	TPL_N_TEXT,
	TPL_N_VAR,
	TPL_N_IF,
	TPL_N_FOR,
	TPL_N_WITH,
	TPL_N_BLOCK,
	TPL_N_EXTENDS,
	TPL_N_INCLUDE,
	TPL_N_URL,
	TPL_N_STATIC,
	TPL_N_CSRF,
	TPL_N_NOW,
	TPL_N_CYCLE,
	TPL_N_SPACELESS,
	TPL_N_AUTOESCAPE,
	TPL_N_FIRSTOF,
	TPL_N_TAG,
} tpl_node_kind;

/* Name = expression pairs (with, include ... with). */
typedef struct tpl_binds {
	kiln_str *names;
	tpl_fexpr **vals;
	size_t n;
} tpl_binds;

struct tpl_node {
	tpl_node_kind kind;
	unsigned line, col; /* where its tag starts */
	union {
		kiln_str text;	/* TEXT */
		tpl_fexpr *var; /* VAR */
		struct {
			tpl_cond **conds; /* n conditions; NULL for else */
			tpl_nodelist *bodies;
			size_t n;
		} ifn;
		struct {
			kiln_str *vars; /* loop variables */
			size_t nvars;
			tpl_fexpr *seq;
			bool reversed;
			tpl_nodelist body, empty;
		} forn;
		struct {
			tpl_binds b;
			tpl_nodelist body;
		} with;
		struct {
			kiln_str name;
			tpl_nodelist body;
		} block;
		struct {
			tpl_fexpr *parent;
		} ext;
		struct {
			tpl_fexpr *name;
			tpl_binds b;
			bool only;
		} inc;
		struct {
			tpl_fexpr *name;
			tpl_binds b; /* keyword arguments */
			kiln_str as; /* or empty */
		} url;
		struct {
			tpl_fexpr *path;
			kiln_str as;
		} stat;
		struct {
			kiln_str fmt;
			kiln_str as;
		} now;
		struct {
			tpl_fexpr **vals;
			size_t n;
			kiln_str as;
			bool silent;
			const struct tpl_node
			    *ref; /* {% cycle name %}: the
				     named cycle it advances */
		} cycle;
		struct {
			bool on;
			tpl_nodelist body;
		} autoesc; /* AUTOESCAPE, SPACELESS (body only) */
		struct {
			tpl_fexpr **vals;
			size_t n;
		} firstof;
		struct {
			const tpl_tag *t;
			tpl_fexpr **args;
			size_t n;
			kiln_str as;
		} tag;
	} u;
};

/* A compiled template. */
typedef struct tpl_template {
	const char *name;  /* as loaded */
	kiln_arena *a;	   /* owns everything below */
	kiln_str src;	   /* the source copy */
	tpl_nodelist body; /* top-level nodes */
	tpl_node *extends; /* the extends node, or NULL */
	tpl_node **blocks; /* every block node, nblocks */
	size_t nblocks;
	const char *path; /* file it came from, or NULL */
	int64_t mtime;	  /* its mtime in ns when compiled */
} tpl_template;

/* An in-memory source. */
typedef struct tpl_source {
	const char *name;
	kiln_str src;
	bool builtin; /* searched after the directories */
} tpl_source;

struct kiln_template_env {
	kiln_arena *a;		     /* env lifetime */
	kiln_template_limits lim;    /* with defaults filled in */
	kiln__ptrs dirs;	     /* char * */
	kiln__ptrs sources;	     /* tpl_source */
	kiln__ptrs cache;	     /* tpl_template */
	kiln__ptrs retired;	     /* kiln_arena of reloaded templates */
	kiln__ptrs filters;	     /* tpl_filter (user) */
	kiln__ptrs tags;	     /* tpl_tag (user) */
	bool reload;		     /* check mtimes */
	const char *static_url;	     /* "/static/" */
	kiln_val *manifest;	     /* collectstatic paths map or NULL */
	kiln_template_url_fn url_fn; /* {% url %} */
	void *url_data;
};

/* --- parse.c and expr.c
 * ---------------------------------------------------------- */

#define TPL_MAX_BITS 256 /* words in one tag */

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
	kiln__ptrs cycles;  /* named cycle nodes ({% cycle ... as name %}) */
	bool nontext;	    /* a non-text node was added at top level */
	const tpl_tok *cur; /* token being compiled, for errors */
} tpl_parser;

/* Record a syntax error at the current token (or out of memory); false. */
bool kiln__tpl_perr(tpl_parser *p, const char *fmt, ...) KILN_PRINTF(2, 3);
bool kiln__tpl_poom(tpl_parser *p);

/* Compiles a filter expression ("a.b|f:1"); NULL after an error. */
tpl_fexpr *kiln__tpl_fexpr_parse(tpl_parser *p, kiln_str s);

/* Compiles the words of an {% if %}/{% elif %} condition. */
tpl_cond *kiln__tpl_cond_parse(tpl_parser *p, const kiln_str *words, size_t n);

/*
 * Compiles src (copied into the new template's arena) named name. On
 * failure returns NULL with "name:line:col: message" in err.
 */
tpl_template *kiln__tpl_compile(kiln_template_env *env, const char *name,
    kiln_str src, kiln_err *rc, char *err, size_t errlen);

/* Frees a template compiled by kiln__tpl_compile. */
void kiln__tpl_free(tpl_template *t);

/* --- filters.c -------------------------------------------------------- */

/*
 * A built-in filter returns &kiln__tpl_fail where Django's filter raises
 * (the render stops with an error naming the filter).
 */
extern const kiln_val kiln__tpl_fail;

/* Returns the built-in filter named name, or NULL. */
const tpl_filter *kiln__tpl_builtin_filter(kiln_str name);

/* --- pyfmt.c: Python-compatible text forms ---------------------------- */

/* Appends str(v) as Python prints it (lists and maps as repr). */
void kiln__tpl_pystr(kiln_buf *b, const kiln_val *v);

/* Appends v as Django renders it in {{ }} (localize: floats positional,
 * datetimes "N j, Y, P"), not escaped. */
void kiln__tpl_display(kiln_buf *b, const kiln_val *v);

/* Appends the shortest repr of a double, as Python's repr(). */
void kiln__tpl_float_repr(kiln_buf *b, double f);

/* Appends v as Python's json.dumps with DjangoJSONEncoder. */
void kiln__tpl_json(kiln_buf *b, const kiln_val *v, size_t depth);

/* Appends s HTML-escaped (& < > " '). */
void kiln__tpl_escape(kiln_buf *b, kiln_str s);

/* Formats a datetime with a Django date format string. time_only makes
 * date-only characters an error (returns false), as the time filter. */
bool kiln__tpl_datefmt(kiln_buf *b, const kiln_val *dt, kiln_str fmt,
    bool time_only);

/* Python comparisons: returns false and sets *ok = false when the types
 * do not compare. */
bool kiln__tpl_eq(const kiln_val *a, const kiln_val *b);
int kiln__tpl_cmp(const kiln_val *a, const kiln_val *b, bool *ok);

/* Number of Unicode code points in s (invalid bytes count one each). */
size_t kiln__tpl_utf8_len(kiln_str s);

/* Offset of the code point after the one starting at off (< s.len). */
size_t kiln__tpl_utf8_next(kiln_str s, size_t off);

/* Byte offset of code point idx in s (s.len when past the end). */
size_t kiln__tpl_utf8_off(kiln_str s, size_t idx);

/* Returns v as str (a new STR value for non-strings) in a. */
const kiln_val *kiln__tpl_to_str(kiln_arena *a, const kiln_val *v);

/* --- render.c --------------------------------------------------------- */

/*
 * Renders t with ctx (bottom to top: nctx maps) into out. On failure
 * returns the code with a message in err.
 */
kiln_err kiln__tpl_render(kiln_template_env *env, tpl_template *t,
    const kiln_val *const *ctx, size_t nctx, kiln_arena *a, kiln_buf *out,
    char *err, size_t errlen);

/* --- env.c ------------------------------------------------------------ */

/* Loads (compiling or from the cache) the template name. */
tpl_template *kiln__tpl_load(kiln_template_env *env, const char *name,
    kiln_err *rc, char *err, size_t errlen);

/* Adds a built-in template, found after every directory. */
kiln_err kiln__tpl_add_builtin(kiln_template_env *env, const char *name,
    kiln_str source);

/* Looks a user filter or tag up (NULL: none). */
const tpl_filter *kiln__tpl_user_filter(const kiln_template_env *env,
    kiln_str name);
const tpl_tag *kiln__tpl_user_tag(const kiln_template_env *env, kiln_str name);

/* Parses "YYYY-MM-DD[THH:MM[:SS[.ffffff]]]" into seconds and usec. */
kiln_err kiln__tpl_parse_iso(kiln_str s, int64_t *secs, int32_t *usec);

/* Breaks seconds since the epoch into civil fields. */
typedef struct tpl_tm {
	int64_t year;
	int mon, day, hour, min, sec, usec;
	int wday; /* 0 = Monday */
	int yday; /* 0-based */
} tpl_tm;
void kiln__tpl_civil(int64_t secs, int32_t usec, tpl_tm *tm);
int64_t kiln__tpl_days_from_civil(int64_t y, int m, int d);

/* --- collectstatic.c ------------------------------------------------- */

/* The `collectstatic` management command. */
int kiln__cmd_collectstatic(kiln_app *app, int argc, char **argv);

#endif /* KILN_TEMPLATE_INT_H */
