/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Definitions shared by every public header: visibility and attribute
 * macros, the error codes, and the length-carrying string slice.
 */
#ifndef KILN_COMMON_H
#define KILN_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_API	  __attribute__((visibility("default")))
#define KILN_WARN_UNUSED  __attribute__((warn_unused_result))
#define KILN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define KILN_NORETURN	  __attribute__((noreturn))

/*
 * Error codes. KILN_OK is zero; every other code is positive. The table
 * generates kiln_err and kiln_strerror().
 */
#define KILN_ERRNO_MAP(X)                \
	X(OK, "success")                 \
	X(ENOMEM, "out of memory")       \
	X(EINVAL, "invalid argument")    \
	X(EPARSE, "malformed input")     \
	X(ELIMIT, "input over a limit")  \
	X(ENOTFOUND, "not found")        \
	X(EEXIST, "already exists")      \
	X(EDB, "database error")         \
	X(EIO, "input/output error")     \
	X(ETIMEDOUT, "timed out")        \
	X(ECLOSED, "connection closed")  \
	X(EUNSUPPORTED, "not supported") \
	X(ECONFIG, "bad configuration")

#define KILN_ERR_ENUM(name, msg) KILN_##name,
typedef enum kiln_err { KILN_ERRNO_MAP(KILN_ERR_ENUM) KILN_ERR__MAX } kiln_err;
#undef KILN_ERR_ENUM

/*
 * Returns a static, human-readable description of rc. Unknown codes give
 * "unknown error".
 */
KILN_API const char *kiln_strerror(kiln_err rc);

/*
 * A string slice: ptr points at len bytes that need not be NUL-terminated.
 * len is authoritative. Strings built by kiln_*printf/strdup are also
 * NUL-terminated; slices of input are not.
 */
typedef struct kiln_str {
	const char *ptr; /* first byte; may be NULL when len is 0 */
	size_t len;	 /* byte count */
} kiln_str;

/* A slice of a string literal. */
#define KILN_STR(lit) ((kiln_str){ (lit), sizeof(lit) - 1 })
/* The null slice (ptr NULL, len 0), used for "absent". */
#define KILN_STR_NULL ((kiln_str){ NULL, 0 })

/* Returns a slice over the NUL-terminated s (s may be NULL: empty slice). */
static inline kiln_str
kiln_str_c(const char *s)
{
	kiln_str r;

	r.ptr = s;
	r.len = s != NULL ? strlen(s) : 0;
	return r;
}

/* Returns true when a and b hold the same bytes. */
static inline bool
kiln_str_eq(kiln_str a, kiln_str b)
{
	return a.len == b.len &&
	    (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Returns true when a holds the same bytes as the C string s. */
static inline bool
kiln_str_eq_c(kiln_str a, const char *s)
{
	return kiln_str_eq(a, kiln_str_c(s));
}

/* Returns true when a and b are equal ignoring ASCII case. */
KILN_API bool kiln_str_caseeq(kiln_str a, kiln_str b);

/* Returns true when s starts with prefix. */
KILN_API bool kiln_str_startswith(kiln_str s, kiln_str prefix);

/*
 * Parses s as a decimal integer (optional sign, no spaces) into *out.
 * Returns KILN_OK, KILN_EPARSE on bad syntax or KILN_ELIMIT on overflow.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_str_to_i64(kiln_str s, int64_t *out);

/* Returns true when s is well-formed UTF-8 (no overlongs, no surrogates). */
KILN_API bool kiln_utf8_valid(kiln_str s);

#ifdef __cplusplus
}
#endif
#endif /* KILN_COMMON_H */
