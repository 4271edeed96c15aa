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
 *            the path after the blueprint's literal prefix (regex.c holds
 *            everything that speaks PCRE2).
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
 * release (see regex.c). Matching writes only into the request arena and
 * into the shared PCRE2 match data, which is safe because a worker is
 * single-threaded.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <kiln/kiln.h>

#include "http_int.h"
#include "router_int.h"

/* The most arguments one rule may declare. */
#define ROUTER_MAX_ARGS 32

/* Bytes a rule's literal text keeps unencoded in a built URL (RFC 3986 pchar).
 */
#define PCHAR_SAFE "/:@!$&'()*+,;="

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

	kiln_str prefix; /* regex: literal blueprint prefix */
	kiln__regex *rx; /* regex: the compiled pattern */
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
	kiln_arena *a;		 /* everything the router keeps */
	kiln__ptrs all;		 /* every route, in registration order */
	kiln__ptrs ordered;	 /* dynamic and regex routes, in order */
	htab statics;		 /* path -> first static kiln__route */
	htab names;		 /* endpoint -> kiln__route */
	kiln__regex_env *rx_env; /* PCRE2 state of the regex routes */
};

/* State of one dynamic match. */
typedef struct dmatch {
	const kiln__route *rt; /* the route */
	const char *p;	       /* the path */
	size_t len;	       /* its length */
	kiln_str *caps;	       /* one value per argument */
	uint8_t *memo;	       /* failed (segment, position) pairs, or NULL */
} dmatch;

/* Formats the reason for rc into err (which may be NULL) and returns rc. */
kiln_err
kiln__router_errf(char *err, size_t errlen, kiln_err rc, const char *fmt, ...)
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
			return kiln__router_errf(err, errlen, KILN_EINVAL,
			    "unknown method '%.*s' (known: GET HEAD POST PUT "
			    "PATCH DELETE OPTIONS)",
			    (int)(len > 32 ? 32 : len), p);
		*mask |= 1u << i;
		p += len;
	}
	if (*mask == 0)
		return kiln__router_errf(err, errlen, KILN_EINVAL,
		    "no method in '%s'", spec);
	return KILN_OK;
}

/* Percent-encodes s with PCHAR_SAFE kept into a NUL-terminated slice in a. */
kiln_err
kiln__router_encode(kiln_arena *a, kiln_str s, kiln_str *out)
{
	kiln_buf b;

	kiln_buf_init(&b, a, s.len + 8);
	if (kiln__pct_encode(&b, s, PCHAR_SAFE, false) != KILN_OK || b.oom)
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
	    kiln__router_encode(a, s->text, &s->enc) != KILN_OK)
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
		return kiln__router_errf(err, errlen, KILN_EINVAL,
		    "rule '%s': empty argument name in '<%.*s>'", full,
		    (int)len, p);
	if (!is_ident(name))
		return kiln__router_errf(err, errlen, KILN_EINVAL,
		    "rule '%s': bad argument name '%.*s' (letters, digits "
		    "and '_')",
		    full, (int)name.len, name.ptr);
	for (i = 0; i < CONV__MAX; i++) {
		if (kiln_str_eq_c(cname, conv_names[i]))
			break;
	}
	if (i == CONV__MAX)
		return kiln__router_errf(err, errlen, KILN_EINVAL,
		    "rule '%s': unknown converter '%.*s' (known: int str "
		    "slug uuid path)",
		    full, (int)cname.len, cname.ptr);
	for (s = rt->segs; s < rt->segs + rt->nseg; s++) {
		if (s->is_conv && kiln_str_eq(s->text, name))
			return kiln__router_errf(err, errlen, KILN_EINVAL,
			    "rule '%s': duplicate argument '%.*s'", full,
			    (int)name.len, name.ptr);
	}
	if (rt->nargs == ROUTER_MAX_ARGS)
		return kiln__router_errf(err, errlen, KILN_EINVAL,
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
		return kiln__router_encode(a, kiln_str_c(full), &rt->enc);
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
			return kiln__router_errf(err, errlen, KILN_EINVAL,
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

/*
 * Compiles a regex rule: the literal prefix is matched (and built) here,
 * the pattern by regex.c.
 */
static kiln_err
re_route(kiln__router *r, kiln__route *rt, const char *prefix, const char *pat,
    char *err, size_t errlen)
{
	if (strchr(prefix, '<') != NULL)
		return kiln__router_errf(err, errlen, KILN_EINVAL,
		    "pattern '%s': the prefix '%s' has a converter, which "
		    "regex "
		    "routes do not support",
		    pat, prefix);
	rt->kind = KIND_REGEX;
	rt->prefix = kiln_str_c(kiln_arena_strdup(r->a, prefix));
	rt->lead = rt->prefix;
	rt->minlen = rt->prefix.len;
	if (rt->prefix.ptr == NULL ||
	    kiln__router_encode(r->a, rt->prefix, &rt->enc) != KILN_OK)
		return KILN_ENOMEM;
	return kiln__regex_compile(r->a, &r->rx_env, pat, &rt->rx, err, errlen);
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
			return kiln__router_errf(err, errlen, KILN_EEXIST,
			    "rule '%s%s': the name '%s' is already used by "
			    "rule '%s'",
			    prefix, rule, spec->endpoint, other->display);
	}
	if (*prefix != '\0' && *prefix != '/')
		return kiln__router_errf(err, errlen, KILN_EINVAL,
		    "rule '%s': prefix '%s' must start with '/'", rule, prefix);
	if (!spec->regex && rule[0] != '/')
		return kiln__router_errf(err, errlen, KILN_EINVAL,
		    "rule '%s': must start with '/'", rule);
	rt = kiln_arena_calloc(r->a, 1, sizeof(*rt));
	if (rt == NULL)
		return KILN_ENOMEM;
	if (methods_parse(spec->methods != NULL ? spec->methods : "GET",
		&rt->methods, merr, sizeof(merr)) != KILN_OK)
		return kiln__router_errf(err, errlen, KILN_EINVAL,
		    "rule '%s%s': %s", prefix, rule, merr);
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
		rc = re_route(r, rt, prefix, rule, err, errlen);
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
kiln_err
kiln__router_args_init(kiln__match *m, kiln_arena *a, size_t n)
{
	m->args.items =
	    kiln_arena_alloc(a, (n > 0 ? n : 1) * sizeof(*m->args.items));
	if (m->args.items == NULL)
		return KILN_ENOMEM;
	m->args.n = 0;
	m->args.cap = n;
	return KILN_OK;
}

kiln_err
kiln__router_args_add(kiln__match *m, kiln_arena *a, kiln_str key,
    const char *p, size_t len)
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
	if (kiln__router_args_init(m, a, rt->nargs) != KILN_OK)
		return -1;
	for (i = 0; i < rt->nseg; i++) {
		if (rt->segs[i].is_conv &&
		    kiln__router_args_add(m, a, rt->segs[i].text,
			caps[rt->segs[i].arg].ptr,
			caps[rt->segs[i].arg].len) != KILN_OK)
			return -1;
	}
	return 1;
}

/* Tries a regex route: 1 match (args in m when m != NULL), 0 not, -1 ENOMEM. */
static int
re_try(const kiln__router *r, const kiln__route *rt, kiln_arena *a,
    kiln_str path, kiln__match *m)
{
	if (path.len < rt->prefix.len ||
	    memcmp(path.ptr, rt->prefix.ptr, rt->prefix.len) != 0)
		return 0;
	return kiln__regex_match(r->rx_env, rt->rx, a,
	    (kiln_str){ path.ptr + rt->prefix.len, path.len - rt->prefix.len },
	    m);
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

/* Returns true when name is one of rt's arguments. */
static bool
route_has_arg(const kiln__route *rt, kiln_str name)
{
	const kiln_str *names;
	size_t n;
	size_t i;

	if (rt->kind == KIND_DYNAMIC) {
		for (i = 0; i < rt->nseg; i++) {
			if (rt->segs[i].is_conv &&
			    kiln_str_eq(rt->segs[i].text, name))
				return true;
		}
	} else if (rt->kind == KIND_REGEX) {
		n = kiln__regex_args(rt->rx, &names);
		for (i = 0; i < n; i++) {
			if (kiln_str_eq(names[i], name))
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
		v = kiln_kvs_get(args, s->text);
		if (v == NULL)
			return kiln__router_errf(err, errlen, KILN_EINVAL,
			    "url_for('%s'): missing argument '%s'",
			    rt->endpoint, s->text.ptr);
		if (!conv_value_ok(s->conv, *v))
			return kiln__router_errf(err, errlen, KILN_EINVAL,
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
	const kiln_str *groups;
	kiln_str names[64];
	kiln_kvs *outv;
	size_t i, nn = 0, next = 0, ngroups;

	for (i = 0; i < in->n && in->items[i].key.len > 0; i++)
		;
	if (i == in->n)
		return KILN_OK; /* only named arguments: nothing to do */
	if (rt->kind == KIND_DYNAMIC) {
		for (i = 0; i < rt->nseg && nn < 64; i++)
			if (rt->segs[i].is_conv)
				names[nn++] = rt->segs[i].text;
	} else if (rt->kind == KIND_REGEX) {
		ngroups = kiln__regex_args(rt->rx, &groups);
		for (i = 0; i < ngroups && nn < 64; i++)
			names[nn++] = groups[i];
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
			return kiln__router_errf(err, errlen, KILN_EINVAL,
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
		return kiln__router_errf(err, errlen, KILN_ENOTFOUND,
		    "no route named '%s'",
		    endpoint != NULL ? endpoint : "(null)");
	rc = name_positional(rt, a, &args, endpoint, err, errlen);
	if (rc != KILN_OK)
		return rc;
	kiln_buf_init(&b, a, 64);
	if (rt->kind == KIND_STATIC)
		(void)kiln_buf_append_str(&b, rt->enc);
	else if (rt->kind == KIND_DYNAMIC)
		rc = dyn_build(rt, args, &b, err, errlen);
	else {
		(void)kiln_buf_append_str(&b, rt->enc);
		rc = kiln__regex_build(r->rx_env, rt->rx, args, &b,
		    rt->endpoint, rt->display, err, errlen);
	}
	if (rc != KILN_OK)
		return rc;
	query_append(rt, args, &b);
	if (b.oom)
		return kiln__router_errf(err, errlen, KILN_ENOMEM,
		    "url_for('%s'): %s", endpoint, kiln_strerror(KILN_ENOMEM));
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
