/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Signals: named lists of receivers, per app (app->signals), called
 * synchronously in the order they connected.
 *
 * A receiver may connect or disconnect receivers of the signal it is
 * called from. To keep the send loop safe, a send walks the receivers
 * present when it started (later ones wait for the next send), a
 * disconnect during a send only marks the receiver dead (a dead receiver
 * is never called again), and the outermost send compacts the list when
 * it ends. A receiver must not kiln_abort(): the send would not finish
 * and dead receivers would then stay in the list (skipped, never called).
 */
#include "config.h"

#include <string.h>

#include <kiln/kiln.h>

#include "kiln_int.h"

/* One connected receiver. */
typedef struct receiver {
	kiln_receiver_fn fn; /* the function */
	const void *sender;  /* only sends from this sender, or NULL: any */
	void *data;	     /* given back to fn */
	bool dead;	     /* disconnected during a send */
} receiver;

struct kiln_signal {
	kiln_app *app;	  /* the owner (its arena holds everything) */
	const char *name; /* copied */
	kiln__ptrs rx;	  /* receiver, in connection order */
	size_t live;	  /* receivers not dead */
	unsigned depth;	  /* sends of this signal in progress */
	bool dirty;	  /* some receiver is dead: compact after the send */
};

kiln_signal *
kiln_signal_get(kiln_app *app, const char *name)
{
	kiln_signal *sig;
	size_t i;

	if (name == NULL || name[0] == '\0') {
		kiln__app_error(app, KILN_EINVAL, "signal name is empty");
		return NULL;
	}
	for (i = 0; i < app->signals.n; i++) {
		sig = app->signals.items[i];
		if (strcmp(sig->name, name) == 0)
			return sig;
	}
	sig = kiln_arena_calloc(app->a, 1, sizeof(*sig));
	if (sig == NULL ||
	    (sig->name = kiln_arena_strdup(app->a, name)) == NULL ||
	    kiln__ptrs_push(&app->signals, app->a, sig) != KILN_OK) {
		kiln__app_error(app, KILN_ENOMEM, "signal %s: out of memory",
		    name);
		return NULL;
	}
	sig->app = app;
	return sig;
}

const char *
kiln_signal_name(const kiln_signal *sig)
{
	return sig->name;
}

/* Returns the live receiver connected with exactly (fn, sender, data). */
static receiver *
rx_find(const kiln_signal *sig, kiln_receiver_fn fn, const void *sender,
    const void *data)
{
	receiver *r;
	size_t i;

	for (i = 0; i < sig->rx.n; i++) {
		r = sig->rx.items[i];
		if (!r->dead && r->fn == fn && r->sender == sender &&
		    r->data == data)
			return r;
	}
	return NULL;
}

kiln_err
kiln_signal_connect(kiln_signal *sig, kiln_receiver_fn fn, const void *sender,
    void *data)
{
	receiver *r;

	if (sig == NULL || fn == NULL)
		return KILN_EINVAL;
	if (rx_find(sig, fn, sender, data) != NULL)
		return KILN_OK;
	r = kiln_arena_calloc(sig->app->a, 1, sizeof(*r));
	if (r == NULL || kiln__ptrs_push(&sig->rx, sig->app->a, r) != KILN_OK)
		return KILN_ENOMEM;
	r->fn = fn;
	r->sender = sender;
	r->data = data;
	sig->live++;
	return KILN_OK;
}

/* Drops dead receivers, keeping the order of the others. */
static void
compact(kiln_signal *sig)
{
	receiver *r;
	size_t i, n = 0;

	for (i = 0; i < sig->rx.n; i++) {
		r = sig->rx.items[i];
		if (!r->dead)
			sig->rx.items[n++] = r;
	}
	sig->rx.n = n;
	sig->dirty = false;
}

kiln_err
kiln_signal_disconnect(kiln_signal *sig, kiln_receiver_fn fn,
    const void *sender, void *data)
{
	receiver *r;

	if (sig == NULL)
		return KILN_ENOTFOUND;
	r = rx_find(sig, fn, sender, data);
	if (r == NULL)
		return KILN_ENOTFOUND;
	r->dead = true;
	sig->live--;
	if (sig->depth > 0)
		sig->dirty = true;
	else
		compact(sig);
	return KILN_OK;
}

size_t
kiln_signal_send(kiln_signal *sig, const void *sender, void *args)
{
	size_t i, n, called = 0;
	receiver *r;

	if (sig == NULL || sig->live == 0)
		return 0;
	/* Receivers connected by a receiver wait for the next send. */
	n = sig->rx.n;
	sig->depth++;
	for (i = 0; i < n; i++) {
		r = sig->rx.items[i];
		if (r->dead || (r->sender != NULL && r->sender != sender))
			continue;
		r->fn(sig, sender, args, r->data);
		called++;
	}
	sig->depth--;
	if (sig->depth == 0 && sig->dirty)
		compact(sig);
	return called;
}

bool
kiln_signal_has_receivers(const kiln_signal *sig)
{
	return sig != NULL && sig->live > 0;
}

void
kiln__signals_settle(kiln_app *app)
{
	kiln_signal *sig;
	size_t i;

	for (i = 0; i < app->signals.n; i++) {
		sig = app->signals.items[i];
		if (sig->depth == 0)
			continue;
		sig->depth = 0;
		if (sig->dirty)
			compact(sig);
	}
}
