/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The libfcgi transport (server.transport = libfcgi): the reference
 * FastCGI implementation, kept selectable beside Kiln's own. Only
 * fcgiapp.h is used. libfcgi reads the whole param block before
 * FCGX_Accept_r returns; the body is read here up to the limit. Its known
 * weaknesses (PLATFORM.md, docs/fastcgi.md) are why it is not the default.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <fcgiapp.h>

#include <kiln/kiln.h>

#include "kiln_int.h"
#include "server_int.h"

struct lf_state {
	FCGX_Request req; /* libfcgi's request */
	size_t max_body;  /* bytes */
	bool active;	  /* a request was accepted and not finished */
};

static void *
lf_init(const kiln__transport_cfg *cfg)
{
	struct lf_state *st;

	if (FCGX_Init() != 0)
		return NULL;
	st = calloc(1, sizeof(*st)); /* worker lifetime, freed in lf_fini */
	if (st == NULL)
		return NULL;
	if (FCGX_InitRequest(&st->req, cfg->listen_fd, 0) != 0) {
		free(st);
		return NULL;
	}
	st->max_body = cfg->max_body;
	return st;
}

/* Copies every "NAME=VALUE" of envp into params (split at the first '='). */
static kiln_err
lf_params(kiln_arena *a, char **envp, kiln_kvs *params)
{
	const char *eq;
	kiln_str k, v;
	char **e;

	for (e = envp; e != NULL && *e != NULL; e++) {
		eq = strchr(*e, '=');
		if (eq == NULL)
			continue;
		k = kiln_str_dup(a, (kiln_str){ *e, (size_t)(eq - *e) });
		v = kiln_str_dup(a, kiln_str_c(eq + 1));
		if (k.ptr == NULL || v.ptr == NULL ||
		    kiln_kvs_add(params, k, v) != KILN_OK)
			return KILN_ENOMEM;
	}
	return KILN_OK;
}

static kiln__next_rc
lf_next(void *vst, kiln_arena *a, kiln_kvs *params, kiln_str *body)
{
	struct lf_state *st = vst;
	const char *cl;
	char *buf, drain[4096];
	int64_t len = 0;
	int got;

	if (kiln__worker_stopping())
		return KILN__NEXT_STOP;
	if (FCGX_Accept_r(&st->req) < 0)
		return kiln__worker_stopping() ? KILN__NEXT_STOP :
						 KILN__NEXT_AGAIN;
	st->active = true;
	if (lf_params(a, st->req.envp, params) != KILN_OK)
		return KILN__NEXT_AGAIN;
	cl = FCGX_GetParam("CONTENT_LENGTH", st->req.envp);
	if (cl != NULL && *cl != '\0' &&
	    (kiln_str_to_i64(kiln_str_c(cl), &len) != KILN_OK || len < 0))
		len = 0;
	if ((uint64_t)len > st->max_body) {
		/* Drain what nginx sends so the close is clean, then 413. */
		while (FCGX_GetStr(drain, sizeof(drain), st->req.in) > 0)
			;
		return KILN__NEXT_TOOBIG;
	}
	buf = kiln_arena_alloc(a, (size_t)len + 1);
	if (buf == NULL)
		return KILN__NEXT_AGAIN;
	got = len > 0 ? FCGX_GetStr(buf, (int)len, st->req.in) : 0;
	if (got < 0)
		got = 0;
	buf[got] = '\0';
	body->ptr = buf;
	body->len = (size_t)got;
	return KILN__NEXT_REQUEST;
}

static kiln_err
lf_respond(void *vst, kiln_str head, kiln_str body)
{
	struct lf_state *st = vst;
	kiln_err rc = KILN_OK;

	if (FCGX_PutStr(head.ptr, (int)head.len, st->req.out) < 0 ||
	    (body.len > 0 &&
		FCGX_PutStr(body.ptr, (int)body.len, st->req.out) < 0))
		rc = KILN_EIO;
	FCGX_Finish_r(&st->req);
	st->active = false;
	return rc;
}

static void
lf_fini(void *vst)
{
	struct lf_state *st = vst;

	if (st->active)
		FCGX_Finish_r(&st->req);
	FCGX_Free(&st->req, 1);
	free(st);
}

const kiln__transport_ops kiln__transport_libfcgi = {
	.name = "libfcgi",
	.init = lf_init,
	.next = lf_next,
	.respond = lf_respond,
	.fini = lf_fini,
};
