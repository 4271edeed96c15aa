/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The router. A rule is compiled once, at registration (before fork), into
 * one of three shapes:
 *
 *   static   no converter: the full path goes into a hash table, and
 *            routes sharing a path are chained in registration order;
 *   dynamic  literal and converter segments, matched by a small
 *            backtracking matcher (greedy converters, like werkzeug's
 *            regexes) that allocates nothing but the arguments;
 *   regex    a PCRE2 pattern, JIT-compiled, anchored at both ends, run on
 *            the path after the blueprint's literal prefix.
 *
 * Matching looks up the static table first (a static route wins over a
 * dynamic one for the same path), then tries the dynamic and regex routes
 * in registration order. Only routes accepting the method are tried on the
 * first pass; when none matches, a second pass finds the methods allowed
 * at the path for a 405. Endpoint names are in a second hash table for
 * url_for.
 *
 * Invariants: every object lives in the router's arena (app lifetime),
 * except PCRE2's, which PCRE2 allocates itself and which arena cleanups
 * release. Matching writes only into the request arena and into the shared
 * PCRE2 match data, which is safe because a worker is single-threaded.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <kiln/kiln.h>

#include "http_int.h"
#include "router_int.h"

/* The most arguments one rule may declare. */
#define ROUTER_MAX_ARGS 32

/* Bytes a rule's literal text keeps unencoded in a built URL (RFC 3986 pchar).
 */
#define PCHAR_SAFE "/:@!$&'()*+,;="

/* PCRE2 limits for a match against a hostile path. */
#define RE_MATCH_LIMIT 1000000
#define RE_HEAP_LIMIT  4096 /* KiB */
#define RE_JIT_STACK   (512 * 1024)

/* Methods as bits, in the canonical order of Allow headers. */
enum {
	M_GET = 1 << 0,
	M_HEAD = 1 << 1,
	M_POST = 1 << 2,
	M_PUT = 1 << 3,
	M_PATCH = 1 << 4,
	M_DELETE = 1 << 5,
	M_OPTIONS = 1 << 6,
	M__MAX = 7,
};

static const char *const method_names[M__MAX] = {
	"GET",
	"HEAD",
	"POST",
	"PUT",
	"PATCH",
	"DELETE",
	"OPTIONS",
};

typedef enum conv {
	CONV_STR,
	CONV_INT,
	CONV_SLUG,
	CONV_UUID,
	CONV_PATH,
	CONV__MAX,
} conv;

static const char *const conv_names[CONV__MAX] = {
	"str",
	"int",
	"slug",
	"uuid",
	"path",
};

typedef enum route_kind {
	KIND_STATIC,
	KIND_DYNAMIC,
	KIND_REGEX,
} route_kind;

/* A segment of a dynamic rule: literal text or one converter. */
typedef struct seg {
	bool is_conv;  /* converter, else literal */
	conv conv;     /* converter kind */
	unsigned arg;  /* converter: index of its argument */
	kiln_str text; /* literal bytes, or the argument name */
	kiln_str enc;  /* literal: percent-encoded, for url_for */
} seg;

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

struct kiln__route {
	route_kind kind;	  /* how it matches */
	unsigned methods;	  /* explicit methods (M_*) */
	unsigned accept;	  /* methods plus HEAD when GET */
	const char *methods_str;  /* "GET, POST" */
	const char *display;	  /* full rule, for `routes` */
	kiln_view_fn view;	  /* the view */
	const char *endpoint;	  /* name or NULL */
	const kiln__bpreg *bpreg; /* registration */
	kiln__route *next_static; /* next static route at the same path */
	kiln_str enc;		  /* static: encoded path; regex: prefix */

	kiln_str lead; /* literal bytes every matching path starts with */
	seg *segs;     /* dynamic: nseg segments */
	size_t nseg;   /* dynamic: segment count */
	size_t nargs;  /* dynamic: converter count */
	size_t minlen; /* dynamic: shortest path that can match */
	bool memo;     /* dynamic: backtracking needs a failure memo */

	kiln_str prefix;       /* regex: literal blueprint prefix */
	pcre2_code *re;	       /* regex: the compiled pattern */
	regroup *names;	       /* regex: named groups, by name */
	size_t nnames;	       /* regex: named-group count */
	retok *toks;	       /* regex: tokens, when reversible */
	size_t ntoks;	       /* regex: token count */
	const char *noreverse; /* regex: why url_for cannot build it */
};

/* A slot of an open-addressing hash table; key NULL is empty. */
typedef struct hslot {
	const char *key; /* the key bytes */
	size_t len;	 /* key length */
	uint64_t hash;	 /* hash of the key */
	void *val;	 /* the value */
} hslot;

typedef struct htab {
	hslot *slots; /* cap slots, cap a power of two */
	size_t cap;   /* slot count */
	size_t n;     /* used slots */
} htab;

struct kiln__router {
	kiln_arena *a;		    /* everything the router keeps */
	kiln__ptrs all;		    /* every route, in registration order */
	kiln__ptrs ordered;	    /* dynamic and regex routes, in order */
	htab statics;		    /* path -> first static kiln__route */
	htab names;		    /* endpoint -> kiln__route */
	pcre2_match_data *md;	    /* shared by every regex route */
	uint32_t md_pairs;	    /* ovector pairs of md */
	pcre2_match_context *mctx;  /* limits for matching */
	pcre2_jit_stack *jit_stack; /* JIT stack shared by every pattern */
};

/* State of one dynamic match. */
typedef struct dmatch {
	const kiln__route *rt; /* the route */
	const char *p;	       /* the path */
	size_t len;	       /* its length */
	kiln_str *caps;	       /* one value per argument */
	uint8_t *memo;	       /* failed (segment, position) pairs, or NULL */
} dmatch;

static kiln_err errf(char *err, size_t errlen, kiln_err rc, const char *fmt,
    ...) KILN_PRINTF(4, 5);

/* Formats the reason for rc into err (which may be NULL) and returns rc. */
static kiln_err
errf(char *err, size_t errlen, kiln_err rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* --- small helpers --------------------------------------------------- */

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
is_slug(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '_';
}

static bool
is_ident(kiln_str s)
{
	size_t i;

	if (s.len == 0 || is_digit((unsigned char)s.ptr[0]))
		return false;
	for (i = 0; i < s.len; i++) {
		if (!is_alpha((unsigned char)s.ptr[i]) &&
		    !is_digit((unsigned char)s.ptr[i]) && s.ptr[i] != '_')
			return false;
	}
	return true;
}

/* Returns true when the 36 bytes at p are a UUID (8-4-4-4-12 hex). */
static bool
uuid_ok(const char *p)
{
	size_t i;

	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (p[i] != '-')
				return false;
		} else if (!is_hex((unsigned char)p[i]))
			return false;
	}
	return true;
}

/*
 * Returns true when the len digits at p (len >= 1, all digits) hold a
 * value that fits int64, leading zeros allowed.
 */
static bool
int_fits(const char *p, size_t len)
{
	while (len > 1 && *p == '0') {
		p++;
		len--;
	}
	if (len != 19)
		return len < 19;
	return memcmp(p, "9223372036854775807", 19) <= 0;
}

/* Returns how many bytes from p (of len) the converter c may consume. */
static size_t
conv_run(conv c, const char *p, size_t len)
{
	const char *slash;
	size_t i;

	switch (c) {
	case CONV_PATH:
		return len;
	case CONV_STR:
		slash = memchr(p, '/', len);
		return slash != NULL ? (size_t)(slash - p) : len;
	case CONV_INT:
		for (i = 0; i < len && is_digit((unsigned char)p[i]); i++)
			continue;
		return i;
	case CONV_SLUG:
		for (i = 0; i < len && is_slug((unsigned char)p[i]); i++)
			continue;
		return i;
	default:
		return len >= 36 && uuid_ok(p) ? 36 : 0;
	}
}

/* Returns true when v is a whole valid value for converter c (url_for). */
static bool
conv_value_ok(conv c, kiln_str v)
{
	if (v.len == 0)
		return false;
	switch (c) {
	case CONV_STR:
	case CONV_PATH:
		return true;
	case CONV_INT:
		return conv_run(c, v.ptr, v.len) == v.len &&
		    int_fits(v.ptr, v.len);
	case CONV_SLUG:
		return conv_run(c, v.ptr, v.len) == v.len;
	default:
		return v.len == 36 && uuid_ok(v.ptr);
	}
}

/* Returns the M_* bit of a request method (case-sensitive), or 0. */
static unsigned
method_bit(kiln_str m)
{
	unsigned i;

	for (i = 0; i < M__MAX; i++) {
		if (kiln_str_eq_c(m, method_names[i]))
			return 1u << i;
	}
	return 0;
}

/* Returns the methods in mask joined by ", " in canonical order, in a. */
static char *
methods_join(kiln_arena *a, unsigned mask)
{
	char tmp[64];
	size_t len = 0;
	size_t n;
	unsigned i;

	tmp[0] = '\0';
	for (i = 0; i < M__MAX; i++) {
		if ((mask & (1u << i)) == 0)
			continue;
		n = strlen(method_names[i]);
		if (len > 0) {
			memcpy(tmp + len, ", ", 2);
			len += 2;
		}
		memcpy(tmp + len, method_names[i], n);
		len += n;
	}
	return kiln_arena_strndup(a, tmp, len);
}

/*
 * Parses a methods spec ("GET", "GET,POST", "GET|POST", spaces allowed,
 * names in any case) into a mask of M_* bits.
 */
static kiln_err
methods_parse(const char *spec, unsigned *mask, char *err, size_t errlen)
{
	const char *p = spec;
	size_t len;
	unsigned i;

	*mask = 0;
	while (*p != '\0') {
		if (*p == ',' || *p == '|' || *p == ' ' || *p == '\t') {
			p++;
			continue;
		}
		len = strcspn(p, ",| \t");
		for (i = 0; i < M__MAX; i++) {
			if (strlen(method_names[i]) == len &&
			    kiln_str_caseeq((kiln_str){ p, len },
				kiln_str_c(method_names[i])))
				break;
		}
		if (i == M__MAX)
			return errf(err, errlen, KILN_EINVAL,
			    "unknown method '%.*s' (known: GET HEAD POST PUT "
			    "PATCH DELETE OPTIONS)",
			    (int)(len > 32 ? 32 : len), p);
		*mask |= 1u << i;
		p += len;
	}
	if (*mask == 0)
		return errf(err, errlen, KILN_EINVAL, "no method in '%s'",
		    spec);
	return KILN_OK;
}

/* Percent-encodes s with safe bytes kept into a NUL-terminated slice in a. */
static kiln_err
encode_dup(kiln_arena *a, kiln_str s, const char *safe, kiln_str *out)
{
	kiln_buf b;

	kiln_buf_init(&b, a, s.len + 8);
	if (kiln__pct_encode(&b, s, safe, false) != KILN_OK || b.oom)
		return KILN_ENOMEM;
	*out = kiln_buf_str(&b);
	return KILN_OK;
}

/* --- hash tables ----------------------------------------------------- */

/* FNV-1a: short keys, no adversary control over the table's layout. */
static uint64_t
hash_bytes(const char *p, size_t len)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* Returns the slot holding key, or the empty slot where it would go. */
static hslot *
htab_slot(const htab *t, const char *key, size_t len, uint64_t h)
{
	size_t i = (size_t)h & (t->cap - 1);
	hslot *s;

	for (;;) {
		s = &t->slots[i];
		if (s->key == NULL ||
		    (s->hash == h && s->len == len &&
			memcmp(s->key, key, len) == 0))
			return s;
		i = (i + 1) & (t->cap - 1);
	}
}

/* Returns the value stored under key, or NULL. */
static void *
htab_get(const htab *t, const char *key, size_t len)
{
	if (t->n == 0)
		return NULL;
	return htab_slot(t, key, len, hash_bytes(key, len))->val;
}

/*
 * Stores val under key (which must live as long as the table), replacing
 * any value there. The table doubles when half full; the old slots stay
 * in the arena, which costs at most as much as the live table.
 */
static kiln_err
htab_put(htab *t, kiln_arena *a, const char *key, size_t len, void *val)
{
	hslot *slots;
	hslot *s;
	size_t cap;
	size_t i;

	if ((t->n + 1) * 2 > t->cap) {
		cap = t->cap == 0 ? 32 : t->cap * 2;
		slots = kiln_arena_calloc(a, cap, sizeof(*slots));
		if (slots == NULL)
			return KILN_ENOMEM;
		for (i = 0; i < t->cap; i++) {
			if (t->slots[i].key == NULL)
				continue;
			s = htab_slot(&(htab){ slots, cap, 0 }, t->slots[i].key,
			    t->slots[i].len, t->slots[i].hash);
			*s = t->slots[i];
		}
		t->slots = slots;
		t->cap = cap;
	}
	s = htab_slot(t, key, len, hash_bytes(key, len));
	if (s->key == NULL) {
		s->key = key;
		s->len = len;
		s->hash = hash_bytes(key, len);
		t->n++;
	}
	s->val = val;
	return KILN_OK;
}

/* --- compiling converter rules --------------------------------------- */

/* Appends a literal segment for [p, p + len) unless it is empty. */
static kiln_err
seg_literal(kiln_arena *a, kiln__route *rt, const char *p, size_t len)
{
	seg *s;

	if (len == 0)
		return KILN_OK;
	s = &rt->segs[rt->nseg];
	s->is_conv = false;
	s->text.ptr = kiln_arena_strndup(a, p, len);
	s->text.len = len;
	if (s->text.ptr == NULL ||
	    encode_dup(a, s->text, PCHAR_SAFE, &s->enc) != KILN_OK)
		return KILN_ENOMEM;
	rt->nseg++;
	rt->minlen += len;
	return KILN_OK;
}

/*
 * Parses the converter "<conv:name>" or "<name>" whose inside is
 * [p, p + len) and appends its segment. full names the rule in messages.
 */
static kiln_err
seg_converter(kiln_arena *a, kiln__route *rt, const char *full, const char *p,
    size_t len, char *err, size_t errlen)
{
	const char *colon = memchr(p, ':', len);
	kiln_str cname = { "str", 3 };
	kiln_str name = { p, len };
	seg *s;
	size_t i;

	if (colon != NULL) {
		cname = (kiln_str){ p, (size_t)(colon - p) };
		name = (kiln_str){ colon + 1, len - (size_t)(colon - p) - 1 };
	}
	if (name.len == 0)
		return errf(err, errlen, KILN_EINVAL,
		    "rule '%s': empty argument name in '<%.*s>'", full,
		    (int)len, p);
	if (!is_ident(name))
		return errf(err, errlen, KILN_EINVAL,
		    "rule '%s': bad argument name '%.*s' (letters, digits "
		    "and '_')",
		    full, (int)name.len, name.ptr);
	for (i = 0; i < CONV__MAX; i++) {
		if (kiln_str_eq_c(cname, conv_names[i]))
			break;
	}
	if (i == CONV__MAX)
		return errf(err, errlen, KILN_EINVAL,
		    "rule '%s': unknown converter '%.*s' (known: int str "
		    "slug uuid path)",
		    full, (int)cname.len, cname.ptr);
	for (s = rt->segs; s < rt->segs + rt->nseg; s++) {
		if (s->is_conv && kiln_str_eq(s->text, name))
			return errf(err, errlen, KILN_EINVAL,
			    "rule '%s': duplicate argument '%.*s'", full,
			    (int)name.len, name.ptr);
	}
	if (rt->nargs == ROUTER_MAX_ARGS)
		return errf(err, errlen, KILN_EINVAL,
		    "rule '%s': more than %d arguments", full, ROUTER_MAX_ARGS);
	s = &rt->segs[rt->nseg++];
	s->is_conv = true;
	s->conv = (conv)i;
	s->arg = (unsigned)rt->nargs++;
	s->text.ptr = kiln_arena_strndup(a, name.ptr, name.len);
	s->text.len = name.len;
	if (s->text.ptr == NULL)
		return KILN_ENOMEM;
	rt->minlen += s->conv == CONV_UUID ? 36 : 1;
	return KILN_OK;
}

/*
 * Decides whether matching rt can backtrack badly: two path converters,
 * or two converters with no '/' between them (they then compete for the
 * same bytes). Such routes get a failure memo, which bounds the matcher
 * to segments x positions states.
 */
static bool
needs_memo(const kiln__route *rt)
{
	bool prev_conv = false;
	bool slash = false;
	size_t paths = 0;
	size_t i;

	for (i = 0; i < rt->nseg; i++) {
		if (!rt->segs[i].is_conv) {
			if (memchr(rt->segs[i].text.ptr, '/',
				rt->segs[i].text.len) != NULL)
				slash = true;
			continue;
		}
		if (rt->segs[i].conv == CONV_PATH)
			paths++;
		if (prev_conv && !slash)
			return true;
		prev_conv = true;
		slash = false;
	}
	return paths >= 2;
}

/*
 * Compiles the full rule (prefix and rule joined) into segments. A rule
 * without converters stays static.
 */
static kiln_err
rule_compile(kiln_arena *a, kiln__route *rt, const char *full, char *err,
    size_t errlen)
{
	const char *p = full;
	const char *lit = full;
	const char *end;
	size_t nconv = 0;
	kiln_err rc;

	for (end = full; *end != '\0'; end++) {
		if (*end == '<')
			nconv++;
	}
	if (nconv == 0) {
		rt->kind = KIND_STATIC;
		return encode_dup(a, kiln_str_c(full), PCHAR_SAFE, &rt->enc);
	}
	rt->kind = KIND_DYNAMIC;
	rt->segs = kiln_arena_calloc(a, 2 * nconv + 1, sizeof(*rt->segs));
	if (rt->segs == NULL)
		return KILN_ENOMEM;
	while (*p != '\0') {
		if (*p != '<') {
			p++;
			continue;
		}
		end = strchr(p, '>');
		if (end == NULL)
			return errf(err, errlen, KILN_EINVAL,
			    "rule '%s': unclosed '<'", full);
		rc = seg_literal(a, rt, lit, (size_t)(p - lit));
		if (rc != KILN_OK)
			return rc;
		rc = seg_converter(a, rt, full, p + 1, (size_t)(end - p - 1),
		    err, errlen);
		if (rc != KILN_OK)
			return rc;
		p = end + 1;
		lit = p;
	}
	rc = seg_literal(a, rt, lit, (size_t)(p - lit));
	if (rc != KILN_OK)
		return rc;
	rt->memo = needs_memo(rt);
	if (!rt->segs[0].is_conv)
		rt->lead = rt->segs[0].text;
	return KILN_OK;
}

/* --- compiling regex rules ------------------------------------------- */

static void
re_code_free(void *p)
{
	pcre2_code_free(p);
}

/* Releases the router's shared PCRE2 objects (an arena cleanup). */
static void
re_router_free(void *p)
{
	kiln__router *r = p;

	pcre2_match_data_free(r->md);
	pcre2_match_context_free(r->mctx);
	pcre2_jit_stack_free(r->jit_stack);
	r->md = NULL;
	r->mctx = NULL;
	r->jit_stack = NULL;
}

/*
 * Makes sure the shared match context and match data exist and that the
 * match data has room for pairs captures. These are malloc'ed by PCRE2
 * and released by an arena cleanup: PCRE2 reallocates its heap frames
 * inside the match data, which an arena cannot do.
 */
static kiln_err
re_shared(kiln__router *r, uint32_t pairs)
{
	pcre2_match_data *md;

	if (r->mctx == NULL) {
		if (kiln_arena_cleanup_add(r->a, re_router_free, r) != KILN_OK)
			return KILN_ENOMEM;
		r->mctx = pcre2_match_context_create(NULL);
		if (r->mctx == NULL)
			return KILN_ENOMEM;
		pcre2_set_match_limit(r->mctx, RE_MATCH_LIMIT);
		pcre2_set_heap_limit(r->mctx, RE_HEAP_LIMIT);
		r->jit_stack =
		    pcre2_jit_stack_create(32 * 1024, RE_JIT_STACK, NULL);
		if (r->jit_stack != NULL)
			pcre2_jit_stack_assign(r->mctx, NULL, r->jit_stack);
	}
	if (r->md != NULL && r->md_pairs >= pairs)
		return KILN_OK;
	md = pcre2_match_data_create(pairs, NULL);
	if (md == NULL)
		return KILN_ENOMEM;
	pcre2_match_data_free(r->md);
	r->md = md;
	r->md_pairs = pairs;
	return KILN_OK;
}

/*
 * Reads the pattern's named groups into rt->names (sorted by name, as
 * PCRE2's name table is).
 */
static kiln_err
re_names(kiln_arena *a, kiln__route *rt)
{
	PCRE2_SPTR table;
	uint32_t count;
	uint32_t size;
	uint32_t i;
	const unsigned char *e;

	if (pcre2_pattern_info(rt->re, PCRE2_INFO_NAMECOUNT, &count) != 0 ||
	    pcre2_pattern_info(rt->re, PCRE2_INFO_NAMEENTRYSIZE, &size) != 0 ||
	    pcre2_pattern_info(rt->re, PCRE2_INFO_NAMETABLE, &table) != 0)
		return KILN_EINVAL;
	if (count == 0)
		return KILN_OK;
	rt->names = kiln_arena_calloc(a, count, sizeof(*rt->names));
	if (rt->names == NULL)
		return KILN_ENOMEM;
	for (i = 0; i < count; i++) {
		e = table + (size_t)i * size;
		rt->names[i].group = ((uint32_t)e[0] << 8) | e[1];
		rt->names[i].name = kiln_str_c((const char *)e + 2);
		rt->names[i].name.ptr = kiln_arena_strndup(a,
		    rt->names[i].name.ptr, rt->names[i].name.len);
		if (rt->names[i].name.ptr == NULL)
			return KILN_ENOMEM;
	}
	rt->nnames = count;
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

/* Appends a token to rt (toks has room for every byte of the pattern). */
static kiln_err
re_tok_add(kiln_arena *a, kiln__route *rt, bool group, const char *p,
    size_t len)
{
	retok *t = &rt->toks[rt->ntoks];

	if (!group && len == 0)
		return KILN_OK;
	t->is_group = group;
	t->text.ptr = kiln_arena_strndup(a, p, len);
	t->text.len = len;
	if (t->text.ptr == NULL)
		return KILN_ENOMEM;
	if (!group && encode_dup(a, t->text, PCHAR_SAFE, &t->enc) != KILN_OK)
		return KILN_ENOMEM;
	rt->ntoks++;
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
re_tokenize(kiln_arena *a, kiln__route *rt, const char *pat, bool *oom)
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
	rt->toks = kiln_arena_calloc(a, plen + 1, sizeof(*rt->toks));
	if (lit == NULL || rt->toks == NULL)
		return NULL;
	*oom = false;
	if (*p == '^')
		p++;
	while (*p != '\0') {
		if (*p == '$' && p[1] == '\0')
			break;
		if (*p == '\\') {
			if (p[1] == '\0' || is_alpha((unsigned char)p[1]) ||
			    is_digit((unsigned char)p[1]))
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
			if (re_tok_add(a, rt, false, lit, n) != KILN_OK ||
			    re_tok_add(a, rt, true, name.ptr, name.len) !=
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
	if (re_tok_add(a, rt, false, lit, n) != KILN_OK) {
		*oom = true;
		return NULL;
	}
	/* Each named group once, and none nested inside another. */
	n = 0;
	for (i = 0; i < rt->ntoks; i++) {
		if (!rt->toks[i].is_group)
			continue;
		n++;
		for (j = i + 1; j < rt->ntoks; j++) {
			if (rt->toks[j].is_group &&
			    kiln_str_eq(rt->toks[i].text, rt->toks[j].text))
				return "a named group appears twice";
		}
	}
	if (n != rt->nnames)
		return "a named group appears twice or inside another group";
	return NULL;
}

/* Compiles a regex rule: pattern, JIT, names, reversibility. */
static kiln_err
re_compile(kiln__router *r, kiln__route *rt, const char *prefix,
    const char *pat, char *err, size_t errlen)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	uint32_t captures;
	bool oom;
	int code;

	if (strchr(prefix, '<') != NULL)
		return errf(err, errlen, KILN_EINVAL,
		    "pattern '%s': the prefix '%s' has a converter, which "
		    "regex "
		    "routes do not support",
		    pat, prefix);
	rt->kind = KIND_REGEX;
	rt->prefix = kiln_str_c(kiln_arena_strdup(r->a, prefix));
	rt->lead = rt->prefix;
	rt->minlen = rt->prefix.len;
	if (rt->prefix.ptr == NULL ||
	    encode_dup(r->a, rt->prefix, PCHAR_SAFE, &rt->enc) != KILN_OK)
		return KILN_ENOMEM;
	rt->re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_ANCHORED | PCRE2_ENDANCHORED, &code, &off, NULL);
	if (rt->re == NULL) {
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", code);
		return errf(err, errlen, KILN_EINVAL,
		    "pattern '%s': %s at offset %zu", pat, (char *)msg,
		    (size_t)off);
	}
	if (kiln_arena_cleanup_add(r->a, re_code_free, rt->re) != KILN_OK) {
		pcre2_code_free(rt->re);
		rt->re = NULL;
		return KILN_ENOMEM;
	}
	/* Without JIT support the interpreter runs the pattern instead. */
	(void)pcre2_jit_compile(rt->re, PCRE2_JIT_COMPLETE);
	if (pcre2_pattern_info(rt->re, PCRE2_INFO_CAPTURECOUNT, &captures) != 0)
		return errf(err, errlen, KILN_EINVAL,
		    "pattern '%s': cannot read its captures", pat);
	if (re_shared(r, captures + 1) != KILN_OK ||
	    re_names(r->a, rt) != KILN_OK)
		return KILN_ENOMEM;
	rt->noreverse = re_tokenize(r->a, rt, pat, &oom);
	if (oom)
		return KILN_ENOMEM;
	return KILN_OK;
}

/* --- registration ---------------------------------------------------- */

kiln__router *
kiln__router_new(kiln_arena *a)
{
	kiln__router *r;

	r = kiln_arena_calloc(a, 1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->a = a;
	return r;
}

/* Joins prefix and rule without doubling the '/' between them. */
static char *
rule_join(kiln_arena *a, const char *prefix, const char *rule)
{
	size_t plen = strlen(prefix);

	if (plen > 0 && prefix[plen - 1] == '/' && rule[0] == '/')
		plen--;
	return kiln_arena_printf(a, "%.*s%s", (int)plen, prefix, rule);
}

/* Files a compiled route in the tables; nothing here can be refused. */
static kiln_err
route_file(kiln__router *r, kiln__route *rt)
{
	kiln__route *head;
	size_t len;

	if (kiln__ptrs_push(&r->all, r->a, rt) != KILN_OK)
		return KILN_ENOMEM;
	if (rt->endpoint != NULL &&
	    htab_put(&r->names, r->a, rt->endpoint, strlen(rt->endpoint), rt) !=
		KILN_OK)
		return KILN_ENOMEM;
	if (rt->kind != KIND_STATIC)
		return kiln__ptrs_push(&r->ordered, r->a, rt);
	len = strlen(rt->display);
	head = htab_get(&r->statics, rt->display, len);
	if (head == NULL)
		return htab_put(&r->statics, r->a, rt->display, len, rt);
	while (head->next_static != NULL)
		head = head->next_static;
	head->next_static = rt;
	return KILN_OK;
}

kiln_err
kiln__router_add(kiln__router *r, const kiln__route_spec *spec, char *err,
    size_t errlen)
{
	const char *prefix = spec->prefix != NULL ? spec->prefix : "";
	const char *rule = spec->rule != NULL ? spec->rule : "";
	const kiln__route *other;
	kiln__route *rt;
	kiln_err rc;
	char merr[128];

	if (spec->endpoint != NULL) {
		other =
		    htab_get(&r->names, spec->endpoint, strlen(spec->endpoint));
		if (other != NULL)
			return errf(err, errlen, KILN_EEXIST,
			    "rule '%s%s': the name '%s' is already used by "
			    "rule '%s'",
			    prefix, rule, spec->endpoint, other->display);
	}
	if (*prefix != '\0' && *prefix != '/')
		return errf(err, errlen, KILN_EINVAL,
		    "rule '%s': prefix '%s' must start with '/'", rule, prefix);
	if (!spec->regex && rule[0] != '/')
		return errf(err, errlen, KILN_EINVAL,
		    "rule '%s': must start with '/'", rule);
	rt = kiln_arena_calloc(r->a, 1, sizeof(*rt));
	if (rt == NULL)
		return KILN_ENOMEM;
	if (methods_parse(spec->methods != NULL ? spec->methods : "GET",
		&rt->methods, merr, sizeof(merr)) != KILN_OK)
		return errf(err, errlen, KILN_EINVAL, "rule '%s%s': %s", prefix,
		    rule, merr);
	rt->accept = rt->methods | ((rt->methods & M_GET) ? M_HEAD : 0);
	rt->methods_str = methods_join(r->a, rt->methods);
	rt->view = spec->view;
	rt->bpreg = spec->bpreg;
	rt->endpoint = spec->endpoint != NULL ?
	    kiln_arena_strdup(r->a, spec->endpoint) :
	    NULL;
	if (spec->regex)
		rt->display = kiln_arena_printf(r->a, "^%s%s", prefix, rule);
	else
		rt->display = rule_join(r->a, prefix, rule);
	if (rt->methods_str == NULL || rt->display == NULL ||
	    (spec->endpoint != NULL && rt->endpoint == NULL))
		return KILN_ENOMEM;
	if (spec->regex)
		rc = re_compile(r, rt, prefix, rule, err, errlen);
	else
		rc = rule_compile(r->a, rt, rt->display, err, errlen);
	if (rc != KILN_OK)
		return rc;
	return route_file(r, rt);
}

/* --- matching -------------------------------------------------------- */

/*
 * Matches segments i.. of a dynamic route at pos. Literals are compared
 * in a loop; a converter tries its longest run first and then shorter
 * ones (greedy, like a regex), but only lengths after which the next
 * literal can start. Failed (segment, position) pairs are remembered when
 * the route needs it, so no state is explored twice.
 */
static bool
dyn_match(dmatch *st, size_t i, size_t pos)
{
	const seg *s;
	const seg *next;
	size_t rest;
	size_t run;
	size_t kmin;
	size_t k;
	size_t bit;

	for (;;) {
		if (i == st->rt->nseg)
			return pos == st->len;
		s = &st->rt->segs[i];
		if (s->is_conv)
			break;
		if (st->len - pos < s->text.len ||
		    memcmp(st->p + pos, s->text.ptr, s->text.len) != 0)
			return false;
		pos += s->text.len;
		i++;
	}
	bit = i * (st->len + 1) + pos;
	if (st->memo != NULL && (st->memo[bit / 8] & (1u << (bit % 8))) != 0)
		return false;
	rest = st->len - pos;
	run = conv_run(s->conv, st->p + pos, rest);
	next = i + 1 < st->rt->nseg ? &st->rt->segs[i + 1] : NULL;
	if (next == NULL) {
		/* The last segment: the converter must take the whole rest. */
		if (run == 0 || run != rest ||
		    (s->conv == CONV_INT && !int_fits(st->p + pos, run)))
			return false;
		st->caps[s->arg] = (kiln_str){ st->p + pos, run };
		return true;
	}
	kmin = s->conv == CONV_UUID ? run : 1;
	for (k = run; k >= kmin && k > 0; k--) {
		if (!next->is_conv &&
		    (k == rest || st->p[pos + k] != next->text.ptr[0]))
			continue;
		if (s->conv == CONV_INT && !int_fits(st->p + pos, k))
			continue;
		st->caps[s->arg] = (kiln_str){ st->p + pos, k };
		if (dyn_match(st, i + 1, pos + k))
			return true;
	}
	if (st->memo != NULL)
		st->memo[bit / 8] |= (uint8_t)(1u << (bit % 8));
	return false;
}

/*
 * Stores n captured values as m->args (values copied into a, keys the
 * route's names). The array is sized once: no growth on the hot path.
 */
static kiln_err
args_set(kiln__match *m, kiln_arena *a, size_t n)
{
	m->args.items =
	    kiln_arena_alloc(a, (n > 0 ? n : 1) * sizeof(*m->args.items));
	if (m->args.items == NULL)
		return KILN_ENOMEM;
	m->args.n = 0;
	m->args.cap = n;
	return KILN_OK;
}

static kiln_err
args_add(kiln__match *m, kiln_arena *a, kiln_str key, const char *p, size_t len)
{
	kiln_kv *kv = &m->args.items[m->args.n];

	kv->key = key;
	kv->val.ptr = kiln_arena_strndup(a, p, len);
	kv->val.len = len;
	if (kv->val.ptr == NULL)
		return KILN_ENOMEM;
	m->args.n++;
	return KILN_OK;
}

/* Tries a dynamic route: 1 match (args in m when m != NULL), 0 not, -1 ENOMEM.
 */
static int
dyn_try(const kiln__route *rt, kiln_arena *a, kiln_str path, kiln__match *m)
{
	kiln_str caps[ROUTER_MAX_ARGS];
	const seg *first = &rt->segs[0];
	const seg *last = &rt->segs[rt->nseg - 1];
	dmatch st;
	size_t i;

	if (path.len < rt->minlen)
		return 0;
	if (!first->is_conv &&
	    memcmp(path.ptr, first->text.ptr, first->text.len) != 0)
		return 0;
	if (!last->is_conv &&
	    memcmp(path.ptr + path.len - last->text.len, last->text.ptr,
		last->text.len) != 0)
		return 0;
	st.rt = rt;
	st.p = path.ptr;
	st.len = path.len;
	st.caps = caps;
	st.memo = NULL;
	if (rt->memo) {
		st.memo = kiln_arena_calloc(a,
		    (rt->nseg * (path.len + 1)) / 8 + 1, 1);
		if (st.memo == NULL)
			return -1;
	}
	if (!dyn_match(&st, 0, 0))
		return 0;
	if (m == NULL)
		return 1;
	if (args_set(m, a, rt->nargs) != KILN_OK)
		return -1;
	for (i = 0; i < rt->nseg; i++) {
		if (rt->segs[i].is_conv &&
		    args_add(m, a, rt->segs[i].text, caps[rt->segs[i].arg].ptr,
			caps[rt->segs[i].arg].len) != KILN_OK)
			return -1;
	}
	return 1;
}

/*
 * Runs a regex route's pattern on s (the path after the prefix). Returns
 * PCRE2's result: > 0 on a match, otherwise no match (limits and bad
 * UTF-8 under (*UTF) count as no match).
 */
static int
re_run(const kiln__router *r, const kiln__route *rt, const char *s, size_t len)
{
	return pcre2_match(rt->re, (PCRE2_SPTR)s, len, 0, 0, r->md, r->mctx);
}

/* Tries a regex route: 1 match (args in m when m != NULL), 0 not, -1 ENOMEM. */
static int
re_try(const kiln__router *r, const kiln__route *rt, kiln_arena *a,
    kiln_str path, kiln__match *m)
{
	PCRE2_SIZE *ov;
	const char *s;
	size_t g;
	size_t i;

	if (path.len < rt->prefix.len ||
	    memcmp(path.ptr, rt->prefix.ptr, rt->prefix.len) != 0)
		return 0;
	s = path.ptr + rt->prefix.len;
	if (re_run(r, rt, s, path.len - rt->prefix.len) <= 0)
		return 0;
	if (m == NULL)
		return 1;
	if (args_set(m, a, rt->nnames) != KILN_OK)
		return -1;
	ov = pcre2_get_ovector_pointer(r->md);
	for (i = 0; i < rt->nnames; i++) {
		g = rt->names[i].group;
		if (ov[2 * g] == PCRE2_UNSET)
			continue;
		/* Duplicate names ((?J)) are adjacent: keep the first set. */
		if (m->args.n > 0 &&
		    kiln_str_eq(m->args.items[m->args.n - 1].key,
			rt->names[i].name))
			continue;
		if (args_add(m, a, rt->names[i].name, s + ov[2 * g],
			ov[2 * g + 1] - ov[2 * g]) != KILN_OK)
			return -1;
	}
	return 1;
}

/*
 * The cheap test done inline before trying a dynamic or regex route: the
 * path is long enough and starts with the route's leading literal (for
 * "/api/<int:id>" that is "/api/"; for a regex, the prefix).
 */
static inline bool
lead_ok(const kiln__route *rt, kiln_str path)
{
	return path.len >= rt->minlen &&
	    (rt->lead.len == 0 ||
		(path.ptr[0] == rt->lead.ptr[0] &&
		    memcmp(path.ptr, rt->lead.ptr, rt->lead.len) == 0));
}

static int
route_try(const kiln__router *r, const kiln__route *rt, kiln_arena *a,
    kiln_str path, kiln__match *m)
{
	if (rt->kind == KIND_REGEX)
		return re_try(r, rt, a, path, m);
	return dyn_try(rt, a, path, m);
}

/*
 * Finds the route for mbit at path. On FOUND m->route and m->args are
 * set; on METHOD m->allow lists what the path allows.
 */
static kiln__match_rc
find(const kiln__router *r, kiln_arena *a, unsigned mbit, kiln_str path,
    kiln__match *m)
{
	const kiln__route *head;
	const kiln__route *rt;
	unsigned allow = 0;
	size_t i;
	int rc;

	head = htab_get(&r->statics, path.ptr, path.len);
	for (rt = head; rt != NULL; rt = rt->next_static) {
		if (rt->accept & mbit) {
			m->route = rt;
			return KILN__MATCH_FOUND;
		}
	}
	for (i = 0; i < r->ordered.n; i++) {
		rt = r->ordered.items[i];
		if ((rt->accept & mbit) == 0 || !lead_ok(rt, path))
			continue;
		rc = route_try(r, rt, a, path, m);
		if (rc < 0)
			return KILN__MATCH_ERROR;
		if (rc > 0) {
			m->route = rt;
			return KILN__MATCH_FOUND;
		}
	}
	/* No route takes this method here: which ones would? */
	for (rt = head; rt != NULL; rt = rt->next_static)
		allow |= rt->accept;
	for (i = 0; i < r->ordered.n; i++) {
		rt = r->ordered.items[i];
		if ((rt->accept & mbit) != 0 || (allow | rt->accept) == allow)
			continue;
		rc = route_try(r, rt, a, path, NULL);
		if (rc < 0)
			return KILN__MATCH_ERROR;
		if (rc > 0)
			allow |= rt->accept;
	}
	if (allow == 0)
		return KILN__MATCH_NOTFOUND;
	m->allow = kiln_str_c(methods_join(a, allow | M_OPTIONS));
	return m->allow.ptr != NULL ? KILN__MATCH_METHOD : KILN__MATCH_ERROR;
}

/* Returns 1 when some route (any method) matches path, 0 if not, -1 ENOMEM. */
static int
any_match(const kiln__router *r, kiln_arena *a, kiln_str path)
{
	size_t i;
	int rc;

	if (htab_get(&r->statics, path.ptr, path.len) != NULL)
		return 1;
	for (i = 0; i < r->ordered.n; i++) {
		rc = route_try(r, r->ordered.items[i], a, path, NULL);
		if (rc != 0)
			return rc;
	}
	return 0;
}

kiln__match_rc
kiln__router_match(const kiln__router *r, kiln_arena *a, kiln_str method,
    kiln_str path, bool append_slash, kiln__match *m)
{
	kiln__match_rc rc;
	kiln_str slashed;
	char *p;
	int any;

	memset(m, 0, sizeof(*m));
	m->args.a = a;
	if (path.ptr == NULL)
		path = (kiln_str){ "", 0 };
	rc = find(r, a, method_bit(method), path, m);
	if (rc != KILN__MATCH_NOTFOUND || !append_slash ||
	    (path.len > 0 && path.ptr[path.len - 1] == '/'))
		return rc;
	p = kiln_arena_alloc(a, path.len + 2);
	if (p == NULL)
		return KILN__MATCH_ERROR;
	memcpy(p, path.ptr, path.len);
	p[path.len] = '/';
	p[path.len + 1] = '\0';
	slashed = (kiln_str){ p, path.len + 1 };
	any = any_match(r, a, slashed);
	if (any < 0)
		return KILN__MATCH_ERROR;
	if (any == 0)
		return KILN__MATCH_NOTFOUND;
	m->redirect = slashed;
	return KILN__MATCH_REDIRECT;
}

/* --- building -------------------------------------------------------- */

/* Returns the first value named name in args (may be NULL), or NULL. */
static const kiln_str *
arg_find(const kiln_kvs *args, kiln_str name)
{
	size_t i;

	if (args == NULL)
		return NULL;
	for (i = 0; i < args->n; i++) {
		if (kiln_str_eq(args->items[i].key, name))
			return &args->items[i].val;
	}
	return NULL;
}

/* Returns true when name is one of rt's arguments. */
static bool
route_has_arg(const kiln__route *rt, kiln_str name)
{
	size_t i;

	if (rt->kind == KIND_DYNAMIC) {
		for (i = 0; i < rt->nseg; i++) {
			if (rt->segs[i].is_conv &&
			    kiln_str_eq(rt->segs[i].text, name))
				return true;
		}
	} else if (rt->kind == KIND_REGEX) {
		for (i = 0; i < rt->ntoks; i++) {
			if (rt->toks[i].is_group &&
			    kiln_str_eq(rt->toks[i].text, name))
				return true;
		}
	}
	return false;
}

/* Appends the args that are not rule arguments as "?k=v&k=v". */
static void
query_append(const kiln__route *rt, const kiln_kvs *args, kiln_buf *b)
{
	bool first = true;
	size_t i;

	if (args == NULL)
		return;
	for (i = 0; i < args->n; i++) {
		if (route_has_arg(rt, args->items[i].key))
			continue;
		(void)kiln_buf_append_char(b, first ? '?' : '&');
		(void)kiln__pct_encode(b, args->items[i].key, NULL, true);
		(void)kiln_buf_append_char(b, '=');
		(void)kiln__pct_encode(b, args->items[i].val, NULL, true);
		first = false;
	}
}

/* Builds a dynamic route's path into b. */
static kiln_err
dyn_build(const kiln__route *rt, const kiln_kvs *args, kiln_buf *b, char *err,
    size_t errlen)
{
	const kiln_str *v;
	const seg *s;

	for (s = rt->segs; s < rt->segs + rt->nseg; s++) {
		if (!s->is_conv) {
			(void)kiln_buf_append_str(b, s->enc);
			continue;
		}
		v = arg_find(args, s->text);
		if (v == NULL)
			return errf(err, errlen, KILN_EINVAL,
			    "url_for('%s'): missing argument '%s'",
			    rt->endpoint, s->text.ptr);
		if (!conv_value_ok(s->conv, *v))
			return errf(err, errlen, KILN_EINVAL,
			    "url_for('%s'): argument '%s' = '%.*s' is not a "
			    "valid %s",
			    rt->endpoint, s->text.ptr,
			    (int)(v->len > 64 ? 64 : v->len),
			    v->ptr != NULL ? v->ptr : "", conv_names[s->conv]);
		(void)kiln__pct_encode(b, *v, s->conv == CONV_PATH ? "/" : NULL,
		    false);
	}
	return KILN_OK;
}

/*
 * Checks that the decoded remainder d matches rt's pattern with each
 * named group capturing exactly the value given for it.
 */
static bool
re_verify(const kiln__router *r, const kiln__route *rt, kiln_str d,
    const kiln_kvs *args)
{
	PCRE2_SIZE *ov;
	const kiln_str *v;
	size_t g;
	size_t i;

	if (re_run(r, rt, d.ptr, d.len) <= 0)
		return false;
	ov = pcre2_get_ovector_pointer(r->md);
	for (i = 0; i < rt->nnames; i++) {
		g = rt->names[i].group;
		v = arg_find(args, rt->names[i].name);
		if (v == NULL || ov[2 * g] == PCRE2_UNSET ||
		    ov[2 * g + 1] - ov[2 * g] != v->len ||
		    (v->len > 0 && memcmp(d.ptr + ov[2 * g], v->ptr, v->len)))
			return false;
	}
	return true;
}

/* Builds a regex route's path into b, checking it against the pattern. */
static kiln_err
re_build(const kiln__router *r, const kiln__route *rt, kiln_arena *a,
    const kiln_kvs *args, kiln_buf *b, char *err, size_t errlen)
{
	const kiln_str *v;
	const retok *t;
	kiln_buf d;

	if (rt->noreverse != NULL)
		return errf(err, errlen, KILN_EINVAL,
		    "url_for('%s'): cannot reverse regex route '%s': %s",
		    rt->endpoint, rt->display, rt->noreverse);
	kiln_buf_init(&d, a, 64);
	(void)kiln_buf_append_str(b, rt->enc);
	for (t = rt->toks; t < rt->toks + rt->ntoks; t++) {
		if (!t->is_group) {
			(void)kiln_buf_append_str(&d, t->text);
			(void)kiln_buf_append_str(b, t->enc);
			continue;
		}
		v = arg_find(args, t->text);
		if (v == NULL)
			return errf(err, errlen, KILN_EINVAL,
			    "url_for('%s'): missing argument '%s'",
			    rt->endpoint, t->text.ptr);
		(void)kiln_buf_append_str(&d, *v);
		(void)kiln__pct_encode(b, *v, "/", false);
	}
	if (d.oom)
		return KILN_ENOMEM;
	if (!re_verify(r, rt, kiln_buf_str(&d), args))
		return errf(err, errlen, KILN_EINVAL,
		    "url_for('%s'): the arguments give '%.*s', which does not "
		    "match '%s' as given",
		    rt->endpoint, (int)(d.len > 128 ? 128 : d.len), d.ptr,
		    rt->display);
	return KILN_OK;
}

/*
 * Gives positional arguments (pairs with an empty name, Django's
 * reverse(args=...)) the names of rt's arguments in the order the rule
 * has them. *args is replaced by a copy in a when there are any. Returns
 * KILN_OK, or KILN_EINVAL when there are more than the rule has.
 */
static kiln_err
name_positional(const kiln__route *rt, kiln_arena *a, const kiln_kvs **args,
    const char *endpoint, char *err, size_t errlen)
{
	const kiln_kvs *in = *args;
	kiln_str names[64];
	kiln_kvs *outv;
	size_t i, nn = 0, next = 0;

	for (i = 0; i < in->n && in->items[i].key.len > 0; i++)
		;
	if (i == in->n)
		return KILN_OK; /* only named arguments: nothing to do */
	if (rt->kind == KIND_DYNAMIC) {
		for (i = 0; i < rt->nseg && nn < 64; i++)
			if (rt->segs[i].is_conv)
				names[nn++] = rt->segs[i].text;
	} else if (rt->kind == KIND_REGEX) {
		for (i = 0; i < rt->ntoks && nn < 64; i++)
			if (rt->toks[i].is_group)
				names[nn++] = rt->toks[i].text;
	}
	outv = kiln_arena_alloc(a, sizeof(*outv));
	if (outv == NULL)
		return KILN_ENOMEM;
	kiln_kvs_init(outv, a);
	for (i = 0; i < in->n; i++) {
		if (in->items[i].key.len > 0) {
			if (kiln_kvs_add(outv, in->items[i].key,
				in->items[i].val) != KILN_OK)
				return KILN_ENOMEM;
			continue;
		}
		if (next == nn)
			return errf(err, errlen, KILN_EINVAL,
			    "url_for('%s'): %zu positional argument%s given, "
			    "the rule has %zu",
			    endpoint, next + 1, next + 1 == 1 ? "" : "s", nn);
		if (kiln_kvs_add(outv, names[next++], in->items[i].val) !=
		    KILN_OK)
			return KILN_ENOMEM;
	}
	*args = outv;
	return KILN_OK;
}

kiln_err
kiln__router_build(const kiln__router *r, kiln_arena *a, const char *endpoint,
    const kiln_kvs *args, kiln_str *out, char *err, size_t errlen)
{
	const kiln__route *rt;
	kiln_buf b;
	kiln_err rc = KILN_OK;

	rt = endpoint != NULL ?
	    htab_get(&r->names, endpoint, strlen(endpoint)) :
	    NULL;
	if (rt == NULL)
		return errf(err, errlen, KILN_ENOTFOUND, "no route named '%s'",
		    endpoint != NULL ? endpoint : "(null)");
	rc = name_positional(rt, a, &args, endpoint, err, errlen);
	if (rc != KILN_OK)
		return rc;
	kiln_buf_init(&b, a, 64);
	if (rt->kind == KIND_STATIC)
		(void)kiln_buf_append_str(&b, rt->enc);
	else if (rt->kind == KIND_DYNAMIC)
		rc = dyn_build(rt, args, &b, err, errlen);
	else
		rc = re_build(r, rt, a, args, &b, err, errlen);
	if (rc != KILN_OK)
		return rc;
	query_append(rt, args, &b);
	if (b.oom)
		return errf(err, errlen, KILN_ENOMEM, "url_for('%s'): %s",
		    endpoint, kiln_strerror(KILN_ENOMEM));
	*out = kiln_buf_str(&b);
	return KILN_OK;
}

/* --- accessors ------------------------------------------------------- */

kiln_view_fn
kiln__route_view(const kiln__route *rt)
{
	return rt->view;
}

const char *
kiln__route_endpoint(const kiln__route *rt)
{
	return rt->endpoint;
}

const kiln__bpreg *
kiln__route_bpreg(const kiln__route *rt)
{
	return rt->bpreg;
}

void
kiln__router_each(const kiln__router *r, kiln__route_visit_fn fn, void *data)
{
	const kiln__route *rt;
	size_t i;

	for (i = 0; i < r->all.n; i++) {
		rt = r->all.items[i];
		fn(rt->methods_str, rt->display, rt->endpoint, data);
	}
}
