/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The pool's status page, served by whichever worker gets the request:
 * it reads the shared scoreboard (workers, their state, requests, current
 * URL, RSS, start time; accepted requests; slow requests) and the listen
 * queue of the shared socket — for unix sockets too, through the kernel's
 * sock_diag netlink interface, which php-fpm, gunicorn and uWSGI do not
 * show. JSON with ?format=json (or Accept: application/json), text
 * otherwise. Only addresses in status.allow may read it (loopback by
 * default); others get 404, as if it did not exist.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <kiln/kiln.h>

#include "kiln_int.h"
#include "server_int.h"

/* Queue length of a listening unix socket, by inode, via sock_diag. */
static kiln_err
unix_queue(int fd, uint32_t *queued, uint32_t *max)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req udr;
	} req;
	struct sockaddr_nl sa;
	struct unix_diag_msg *msg;
	struct nlmsghdr *h;
	struct rtattr *attr;
	struct unix_diag_rqlen *rq;
	struct stat st;
	char buf[8192];
	ssize_t n;
	int nl, alen;
	kiln_err rc = KILN_EUNSUPPORTED;

	if (fstat(fd, &st) != 0)
		return KILN_EIO;
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return KILN_EUNSUPPORTED;
	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.udr.sdiag_family = AF_UNIX;
	req.udr.udiag_states = ~0u;
	req.udr.udiag_ino = (uint32_t)st.st_ino;
	req.udr.udiag_show = UDIAG_SHOW_RQLEN;
	req.udr.udiag_cookie[0] = ~0u;
	req.udr.udiag_cookie[1] = ~0u;
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (sendto(nl, &req, sizeof(req), 0, (struct sockaddr *)&sa,
		sizeof(sa)) < 0)
		goto out;
	n = recv(nl, buf, sizeof(buf), 0);
	if (n <= 0)
		goto out;
	h = (struct nlmsghdr *)(void *)buf;
	if (!NLMSG_OK(h, (unsigned)n) || h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		goto out;
	msg = NLMSG_DATA(h);
	attr = (struct rtattr *)(msg + 1);
	alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*msg)));
	for (; RTA_OK(attr, alen); attr = RTA_NEXT(attr, alen)) {
		if (attr->rta_type != UNIX_DIAG_RQLEN)
			continue;
		rq = RTA_DATA(attr);
		*queued = rq->udiag_rqueue;
		*max = rq->udiag_wqueue;
		rc = KILN_OK;
	}
out:
	close(nl);
	return rc;
}

kiln_err
kiln__listen_queue(int fd, uint32_t *queued, uint32_t *max)
{
	struct sockaddr_storage ss;
	struct tcp_info ti;
	socklen_t len = sizeof(ss);

	*queued = 0;
	*max = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return KILN_EIO;
	if (ss.ss_family == AF_UNIX)
		return unix_queue(fd, queued, max);
	len = sizeof(ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return KILN_EUNSUPPORTED;
	*queued = ti.tcpi_unacked; /* on a listener: the accept queue */
	*max = ti.tcpi_sacked;     /* and its limit */
	return KILN_OK;
}

static const char *const state_names[] = {
	"empty", "starting", "idle", "busy", "stopping",
};

/* The board, which serve hangs on the app before it forks. */
static kiln__board *
board_of(kiln_req *req)
{
	return kiln_req_app(req)->board;
}

/* True when the client's address is in status.allow (space/comma list). */
static bool
allowed(kiln_req *req)
{
	const char *list = kiln_setting_str(kiln_req_app(req), "status.allow");
	kiln_str ip = kiln_req_remote_addr(req);
	const char *p, *end;
	size_t n;

	if (list == NULL)
		return false;
	for (p = list; *p != '\0'; p = end) {
		while (*p == ' ' || *p == ',')
			p++;
		end = p;
		while (*end != '\0' && *end != ' ' && *end != ',')
			end++;
		n = (size_t)(end - p);
		if (n > 0 && (n == 3 && memcmp(p, "all", 3) == 0))
			return true;
		if (n > 0 && n == ip.len && memcmp(p, ip.ptr, n) == 0)
			return true;
	}
	return false;
}

/* Adds one worker's object to list. */
static kiln_err
worker_val(kiln_arena *a, kiln_val *list, const kiln__slot *s, int64_t now)
{
	kiln_val *w = kiln_val_map(a);
	int st = s->state;

	if (w == NULL || st < 0 || st > KILN__W_STOPPING)
		return KILN_ENOMEM;
	if (kiln_val_set(w, "pid", kiln_val_int(a, s->pid)) != KILN_OK ||
	    kiln_val_set(w, "state", kiln_val_cstr(a, state_names[st])) != KILN_OK ||
	    kiln_val_set(w, "generation", kiln_val_int(a, s->generation)) != KILN_OK ||
	    kiln_val_set(w, "requests", kiln_val_int(a, (int64_t)s->requests)) != KILN_OK ||
	    kiln_val_set(w, "rss_kb", kiln_val_int(a, (int64_t)s->rss_kb)) != KILN_OK ||
	    kiln_val_set(w, "started_at", kiln_val_int(a, s->started_at / 1000)) != KILN_OK ||
	    kiln_val_set(w, "current", st == KILN__W_BUSY
		    ? kiln_val_cstr(a, s->url) : kiln_val_null(a)) != KILN_OK ||
	    kiln_val_set(w, "busy_ms", kiln_val_int(a, st == KILN__W_BUSY &&
		    s->req_start_ms != 0 ? now - s->req_start_ms : 0)) != KILN_OK)
		return KILN_ENOMEM;
	return kiln_val_push(list, w);
}

/* Builds the whole status as a value. */
static kiln_val *
status_val(kiln_req *req, kiln__board *b)
{
	kiln_arena *a = kiln_req_arena(req);
	kiln_val *o = kiln_val_map(a), *ws = kiln_val_list(a);
	kiln_val *slow = kiln_val_list(a), *e;
	int64_t now = kiln__now_ms();
	uint32_t queued = 0, max = 0;
	uint64_t i, n;
	int busy = 0, idle = 0, j;

	if (o == NULL || ws == NULL || slow == NULL)
		kiln_abort(req, 500);
	for (j = 0; j < KILN__SLOTS_MAX; j++) {
		if (b->slots[j].pid == 0)
			continue;
		busy += b->slots[j].state == KILN__W_BUSY;
		idle += b->slots[j].state == KILN__W_IDLE;
		if (worker_val(a, ws, &b->slots[j], now) != KILN_OK)
			kiln_abort(req, 500);
	}
	n = b->slow_count < KILN__SLOW_MAX ? b->slow_count : KILN__SLOW_MAX;
	for (i = 0; i < n; i++) {
		const kiln__slow *s = &b->slow[(b->slow_count - 1 - i) % KILN__SLOW_MAX];

		e = kiln_val_map(a);
		if (e == NULL || kiln_val_set(e, "url", kiln_val_cstr(a, s->url)) != KILN_OK ||
		    kiln_val_set(e, "ms", kiln_val_int(a, s->ms)) != KILN_OK ||
		    kiln_val_set(e, "worker", kiln_val_int(a, s->pid)) != KILN_OK ||
		    kiln_val_set(e, "killed", kiln_val_bool(a, s->killed)) != KILN_OK ||
		    kiln_val_push(slow, e) != KILN_OK)
			kiln_abort(req, 500);
	}
	(void)kiln__listen_queue(b->listen_fd, &queued, &max);
	if (kiln_val_set(o, "pool", kiln_val_cstr(a, kiln_app_name(kiln_req_app(req)))) != KILN_OK ||
	    kiln_val_set(o, "pm", kiln_val_cstr(a, b->pm)) != KILN_OK ||
	    kiln_val_set(o, "master", kiln_val_int(a, b->master)) != KILN_OK ||
	    kiln_val_set(o, "started_at", kiln_val_int(a, b->started_at / 1000)) != KILN_OK ||
	    kiln_val_set(o, "target_workers", kiln_val_int(a, b->target)) != KILN_OK ||
	    kiln_val_set(o, "busy", kiln_val_int(a, busy)) != KILN_OK ||
	    kiln_val_set(o, "idle", kiln_val_int(a, idle)) != KILN_OK ||
	    kiln_val_set(o, "accepted", kiln_val_int(a, (int64_t)b->accepted)) != KILN_OK ||
	    kiln_val_set(o, "listen_queue", kiln_val_int(a, queued)) != KILN_OK ||
	    kiln_val_set(o, "listen_queue_max", kiln_val_int(a, max)) != KILN_OK ||
	    kiln_val_set(o, "killed_timeout", kiln_val_int(a, (int64_t)b->killed_timeout)) != KILN_OK ||
	    kiln_val_set(o, "respawns", kiln_val_int(a, (int64_t)b->respawns)) != KILN_OK ||
	    kiln_val_set(o, "slow_requests", kiln_val_int(a, (int64_t)b->slow_count)) != KILN_OK ||
	    kiln_val_set(o, "slow", slow) != KILN_OK ||
	    kiln_val_set(o, "workers", ws) != KILN_OK)
		kiln_abort(req, 500);
	return o;
}

/* Renders the value as aligned text for people and `APP status`. */
static kiln_resp *
status_text(kiln_req *req, const kiln_val *o)
{
	kiln_resp *resp = kiln_resp_text(req, 200, "text/plain; charset=utf-8",
	    KILN_STR(""));
	const kiln_val *ws = kiln_val_get(o, "workers"), *w, *cur;
	size_t i;
	kiln_err rc;

	rc = kiln_resp_printf_body(resp,
	    "pool:           %s\npm:             %s\nmaster:         %lld\n"
	    "workers:        %zu (target %lld, busy %lld, idle %lld)\n"
	    "accepted:       %lld\nlisten queue:   %lld of %lld\n"
	    "killed timeout: %lld\nrespawns:       %lld\nslow requests:  %lld\n\n"
	    "%-8s %-9s %-5s %-9s %-9s %s\n",
	    kiln_val_get(o, "pool")->u.s.ptr, kiln_val_get(o, "pm")->u.s.ptr,
	    (long long)kiln_val_get(o, "master")->u.i, kiln_val_len(ws),
	    (long long)kiln_val_get(o, "target_workers")->u.i,
	    (long long)kiln_val_get(o, "busy")->u.i,
	    (long long)kiln_val_get(o, "idle")->u.i,
	    (long long)kiln_val_get(o, "accepted")->u.i,
	    (long long)kiln_val_get(o, "listen_queue")->u.i,
	    (long long)kiln_val_get(o, "listen_queue_max")->u.i,
	    (long long)kiln_val_get(o, "killed_timeout")->u.i,
	    (long long)kiln_val_get(o, "respawns")->u.i,
	    (long long)kiln_val_get(o, "slow_requests")->u.i, "PID", "STATE",
	    "GEN", "REQUESTS", "RSS_KB", "CURRENT");
	for (i = 0; rc == KILN_OK && i < kiln_val_len(ws); i++) {
		w = kiln_val_at(ws, i);
		cur = kiln_val_get(w, "current");
		rc = kiln_resp_printf_body(resp, "%-8lld %-9s %-5lld %-9lld %-9lld %s\n",
		    (long long)kiln_val_get(w, "pid")->u.i,
		    kiln_val_get(w, "state")->u.s.ptr,
		    (long long)kiln_val_get(w, "generation")->u.i,
		    (long long)kiln_val_get(w, "requests")->u.i,
		    (long long)kiln_val_get(w, "rss_kb")->u.i,
		    cur->type == KILN_VAL_STR ? cur->u.s.ptr : "-");
	}
	if (rc != KILN_OK)
		kiln_abort(req, 500);
	return resp;
}

static kiln_resp *
status_view(kiln_req *req)
{
	const kiln_str *fmt = kiln_req_arg(req, "format");
	const kiln_str *accept = kiln_req_header(req, "Accept");
	kiln__board *b = board_of(req);
	kiln_resp *resp;
	kiln_val *o;

	if (b == NULL || !allowed(req))
		kiln_abort(req, 404);
	o = status_val(req, b);
	if ((fmt != NULL && kiln_str_eq_c(*fmt, "json")) ||
	    (accept != NULL && memmem(accept->ptr, accept->len,
				   "application/json", 16) != NULL))
		resp = kiln_resp_json(req, 200, o);
	else
		resp = status_text(req, o);
	if (kiln_resp_header_set(resp, "Cache-Control", "no-store") != KILN_OK)
		kiln_abort(req, 500);
	return resp;
}

kiln_err
kiln__status_register(kiln_app *app, kiln__board *board)
{
	const char *path = kiln_setting_str(app, "status.path");

	app->board = board;
	if (path == NULL || *path == '\0')
		return KILN_OK; /* disabled */
	return kiln_route(kiln_app_bp(app), "GET", path, status_view,
	    "kiln_status");
}
