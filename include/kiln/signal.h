/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Signals (blinker/Django signals): named, per app. Receivers are called
 * synchronously in the order they connected. A receiver connected with a
 * sender only hears sends from that sender. Connect at start-up (before
 * the workers fork); connecting during a request is allowed but then only
 * affects that worker.
 */
#ifndef KILN_SIGNAL_H
#define KILN_SIGNAL_H

#include <kiln/app.h>
#include <kiln/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Built-in signal names. */
#define KILN_SIGNAL_REQUEST_STARTED	  "request_started"
#define KILN_SIGNAL_REQUEST_FINISHED	  "request_finished"
#define KILN_SIGNAL_GOT_REQUEST_EXCEPTION "got_request_exception"
#define KILN_SIGNAL_TEMPLATE_RENDERED	  "template_rendered"
#define KILN_SIGNAL_PRE_SAVE		  "pre_save"
#define KILN_SIGNAL_POST_SAVE		  "post_save"
#define KILN_SIGNAL_PRE_DELETE		  "pre_delete"
#define KILN_SIGNAL_POST_DELETE		  "post_delete"
#define KILN_SIGNAL_USER_LOGGED_IN	  "user_logged_in"
#define KILN_SIGNAL_USER_LOGGED_OUT	  "user_logged_out"

typedef struct kiln_signal kiln_signal;

/*
 * A receiver. sender is what the sender passed (for the request signals,
 * the app); args points at signal-specific data (for the request signals,
 * the kiln_req; for got_request_exception, the kiln_req whose
 * kiln_req_errmsg describes the failure); data is what was given to
 * connect.
 */
typedef void (*kiln_receiver_fn)(const kiln_signal *sig, const void *sender,
    void *args, void *data);

/*
 * Returns the signal named name, creating it on first use (names are
 * copied). Returns NULL when out of memory or name is empty.
 */
KILN_API kiln_signal *kiln_signal_get(kiln_app *app, const char *name);

/* Returns the signal's name. */
KILN_API const char *kiln_signal_name(const kiln_signal *sig);

/*
 * Connects fn with data; sender NULL hears every sender. Connecting the
 * same (fn, sender, data) twice is a no-op. Returns KILN_OK or KILN_ENOMEM.
 */
KILN_API KILN_WARN_UNUSED kiln_err kiln_signal_connect(kiln_signal *sig,
    kiln_receiver_fn fn, const void *sender, void *data);

/*
 * Disconnects the receiver connected with exactly (fn, sender, data).
 * Returns KILN_OK or KILN_ENOTFOUND.
 */
KILN_API kiln_err kiln_signal_disconnect(kiln_signal *sig, kiln_receiver_fn fn,
    const void *sender, void *data);

/* Calls each matching receiver. Returns how many were called. */
KILN_API size_t kiln_signal_send(kiln_signal *sig, const void *sender,
    void *args);

/* Returns true when at least one receiver is connected (to skip work). */
KILN_API bool kiln_signal_has_receivers(const kiln_signal *sig);

#ifdef __cplusplus
}
#endif
#endif /* KILN_SIGNAL_H */
