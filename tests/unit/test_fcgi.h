/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * FastCGI record builders and reply decoders shared by the FastCGI unit
 * tests: the parser tests (test_fcgi.c, which defines them) and the
 * native transport tests (test_fcgi_native.c). Each builder appends to a
 * kiln_buf and asserts that the append worked.
 */
#ifndef KILN_TEST_FCGI_H
#define KILN_TEST_FCGI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kiln/kiln.h>

/* A record decoded from replies. */
typedef struct ft_orec {
	unsigned type;	  /* record type */
	unsigned id;	  /* request id */
	const uint8_t *c; /* content */
	size_t clen;	  /* its length */
} ft_orec;

/* The params of a POST /a?b=1 with the body "hello" (six pairs). */
extern const char *const ft_basic[];

/* Appends a record: header with any version, content, plen pad bytes. */
void ft_rec_v(kiln_buf *b, unsigned ver, unsigned type, unsigned id,
    const void *c, size_t clen, size_t plen);

/* Appends a version 1 record. */
void ft_rec(kiln_buf *b, unsigned type, unsigned id, const void *c, size_t clen,
    size_t plen);

/* Appends BEGIN_REQUEST with role and flags, padded by plen bytes. */
void ft_begin(kiln_buf *b, unsigned id, unsigned role, unsigned flags,
    size_t plen);

/* Appends a pair length: 1 byte below 128 unless wide, else 4 bytes. */
void ft_plen(kiln_buf *b, uint32_t n, bool wide);

/* Appends an encoded name-value pair. */
void ft_pair(kiln_buf *b, const char *n, const char *v);

/* Appends a stream of the given type: records of at most max, then empty. */
void ft_stream(kiln_buf *b, unsigned type, unsigned id, const void *c,
    size_t len, size_t max);

/*
 * Appends the PARAMS stream of NULL-terminated name, value, ... in
 * records of at most max bytes (the pairs are built in b's arena).
 */
void ft_params(kiln_buf *b, unsigned id, const char *const *kv, size_t max);

/* Appends a whole request: BEGIN (responder), params, body. */
void ft_request(kiln_buf *b, unsigned id, unsigned flags, const char *const *kv,
    const char *body);

/* Decodes replies into r (at most max); asserts they are well formed. */
size_t ft_decode(const void *buf, size_t len, ft_orec *r, size_t max);

/* Asserts r is END_REQUEST for id with the given statuses. */
void ft_assert_end(const ft_orec *r, unsigned id, uint32_t app, unsigned proto);

#endif /* KILN_TEST_FCGI_H */
