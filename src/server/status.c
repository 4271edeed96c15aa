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

#include <arpa/inet.h>
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
	*max = ti.tcpi_sacked;	   /* and its limit */
	return KILN_OK;
}

static const char *const state_names[] = {
	"empty",
	"starting",
	"idle",
	"busy",
	"stopping",
};

/* The board, which serve hangs on the app before it forks. */
static kiln__board *
board_of(kiln_req *req)
{
	return kiln_req_app(req)->board;
}

/*
 * True when the client's address is in status.allow: the same list
 * syntax as server.allow_from (addresses, CIDR networks, "all").
 */
static bool
allowed(kiln_req *req)
{
	const char *list = kiln_setting_str(kiln_req_app(req), "status.allow");
	const char *ip =
	    kiln_str_cstr(kiln_req_arena(req), kiln_req_remote_addr(req));
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	kiln__allow al;
	char err[128];

	if (ip == NULL ||
	    kiln__allow_parse(list, &al, err, sizeof(err)) != KILN_OK)
		return false;
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else
		return al.any;
	return kiln__allow_match(&al, (struct sockaddr *)&ss);
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
	    kiln_val_set(w, "state", kiln_val_cstr(a, state_names[st])) !=
		KILN_OK ||
	    kiln_val_set(w, "generation", kiln_val_int(a, s->generation)) !=
		KILN_OK ||
	    kiln_val_set(w, "requests",
		kiln_val_int(a, (int64_t)s->requests)) != KILN_OK ||
	    kiln_val_set(w, "rss_kb", kiln_val_int(a, (int64_t)s->rss_kb)) !=
		KILN_OK ||
	    kiln_val_set(w, "started_at",
		kiln_val_int(a, s->started_at / 1000)) != KILN_OK ||
	    kiln_val_set(w, "current",
		st == KILN__W_BUSY ? kiln_val_cstr(a, s->url) :
				     kiln_val_null(a)) != KILN_OK ||
	    kiln_val_set(w, "busy_ms",
		kiln_val_int(a,
		    st == KILN__W_BUSY && s->req_start_ms != 0 ?
			now - s->req_start_ms :
			0)) != KILN_OK)
		return KILN_ENOMEM;
	return kiln_val_push(list, w);
}

/* Builds the whole status as a value in a. Returns NULL on ENOMEM. */
kiln_val *
kiln__status_build(kiln_app *app, kiln_arena *a, kiln__board *b)
{
	kiln_val *o = kiln_val_map(a), *ws = kiln_val_list(a);
	kiln_val *slow = kiln_val_list(a), *e;
	const kiln__slow *s;
	int64_t now = kiln__now_ms();
	uint32_t queued = 0, max = 0;
	uint64_t i, n;
	int busy = 0, idle = 0, j;
	kiln_err rc = KILN_OK;

	if (o == NULL || ws == NULL || slow == NULL)
		return NULL;
	for (j = 0; j < KILN__SLOTS_MAX && rc == KILN_OK; j++) {
		if (b->slots[j].pid == 0)
			continue;
		busy += b->slots[j].state == KILN__W_BUSY;
		idle += b->slots[j].state == KILN__W_IDLE;
		rc = worker_val(a, ws, &b->slots[j], now);
	}
	n = b->slow_count < KILN__SLOW_MAX ? b->slow_count : KILN__SLOW_MAX;
	for (i = 0; i < n && rc == KILN_OK; i++) {
		s = &b->slow[(b->slow_count - 1 - i) % KILN__SLOW_MAX];
		e = kiln_val_map(a);
		if (e == NULL)
			return NULL;
		rc |= kiln_val_set(e, "url", kiln_val_cstr(a, s->url));
		rc |= kiln_val_set(e, "ms", kiln_val_int(a, s->ms));
		rc |= kiln_val_set(e, "worker", kiln_val_int(a, s->pid));
		rc |= kiln_val_set(e, "killed", kiln_val_bool(a, s->killed));
		rc |= kiln_val_push(slow, e);
	}
	(void)kiln__listen_queue(b->listen_fd, &queued, &max);
	rc |= kiln_val_set(o, "pool", kiln_val_cstr(a, kiln_app_name(app)));
	rc |= kiln_val_set(o, "pm", kiln_val_cstr(a, b->pm));
	rc |= kiln_val_set(o, "master", kiln_val_int(a, b->master));
	rc |= kiln_val_set(o, "started_at",
	    kiln_val_int(a, b->started_at / 1000));
	rc |= kiln_val_set(o, "target_workers", kiln_val_int(a, b->target));
	rc |= kiln_val_set(o, "busy", kiln_val_int(a, busy));
	rc |= kiln_val_set(o, "idle", kiln_val_int(a, idle));
	rc |=
	    kiln_val_set(o, "accepted", kiln_val_int(a, (int64_t)b->accepted));
	rc |= kiln_val_set(o, "listen_queue", kiln_val_int(a, queued));
	rc |= kiln_val_set(o, "listen_queue_max", kiln_val_int(a, max));
	rc |= kiln_val_set(o, "killed_timeout",
	    kiln_val_int(a, (int64_t)b->killed_timeout));
	rc |=
	    kiln_val_set(o, "respawns", kiln_val_int(a, (int64_t)b->respawns));
	rc |= kiln_val_set(o, "slow_requests",
	    kiln_val_int(a, (int64_t)b->slow_count));
	rc |= kiln_val_set(o, "slow", slow);
	rc |= kiln_val_set(o, "workers", ws);
	return rc == KILN_OK ? o : NULL;
}

/* Returns integer member name of o (0 when absent). */
static long long
num(const kiln_val *o, const char *name)
{
	const kiln_val *v = kiln_val_get(o, name);

	return v != NULL && v->type == KILN_VAL_INT ? (long long)v->u.i : 0;
}

/* Returns string member name of o ("-" when absent or null). */
static const char *
text(const kiln_val *o, const char *name)
{
	const kiln_val *v = kiln_val_get(o, name);

	return v != NULL && v->type == KILN_VAL_STR ? v->u.s.ptr : "-";
}

kiln_err
kiln__status_text(kiln_buf *out, const kiln_val *o)
{
	const kiln_val *ws = kiln_val_get(o, "workers"), *w;
	size_t i;

	kiln_buf_printf(out,
	    "pool:           %s\npm:             %s\nmaster:         %lld\n"
	    "workers:        %zu (target %lld, busy %lld, idle %lld)\n"
	    "accepted:       %lld\nlisten queue:   %lld of %lld\n"
	    "killed timeout: %lld\nrespawns:       %lld\n"
	    "slow requests:  %lld\n\n%-8s %-9s %-5s %-9s %-9s %s\n",
	    text(o, "pool"), text(o, "pm"), num(o, "master"), kiln_val_len(ws),
	    num(o, "target_workers"), num(o, "busy"), num(o, "idle"),
	    num(o, "accepted"), num(o, "listen_queue"),
	    num(o, "listen_queue_max"), num(o, "killed_timeout"),
	    num(o, "respawns"), num(o, "slow_requests"), "PID", "STATE", "GEN",
	    "REQUESTS", "RSS_KB", "CURRENT");
	for (i = 0; i < kiln_val_len(ws); i++) {
		w = kiln_val_at(ws, i);
		kiln_buf_printf(out, "%-8lld %-9s %-5lld %-9lld %-9lld %s\n",
		    num(w, "pid"), text(w, "state"), num(w, "generation"),
		    num(w, "requests"), num(w, "rss_kb"), text(w, "current"));
	}
	return out->oom ? KILN_ENOMEM : KILN_OK;
}

static kiln_resp *
status_view(kiln_req *req)
{
	const kiln_str *fmt = kiln_req_arg(req, "format");
	const kiln_str *accept = kiln_req_header(req, "Accept");
	kiln__board *b = board_of(req);
	kiln_resp *resp;
	kiln_val *o;

	kiln_buf out;

	if (b == NULL || !allowed(req))
		kiln_abort(req, 404);
	o = kiln__status_build(kiln_req_app(req), kiln_req_arena(req), b);
	if (o == NULL)
		kiln_abort(req, 500);
	if ((fmt != NULL && kiln_str_eq_c(*fmt, "json")) ||
	    (accept != NULL &&
		memmem(accept->ptr, accept->len, "application/json", 16) !=
		    NULL)) {
		resp = kiln_resp_json(req, 200, o);
	} else {
		kiln_buf_init(&out, kiln_req_arena(req), 2048);
		if (kiln__status_text(&out, o) != KILN_OK)
			kiln_abort(req, 500);
		resp = kiln_resp_text(req, 200, "text/plain; charset=utf-8",
		    kiln_buf_str(&out));
	}
	if (kiln_resp_header_set(resp, "Cache-Control", "no-store") != KILN_OK)
		kiln_abort(req, 500);
	return resp;
}

kiln_err
kiln__status_register(kiln_app *app, kiln__board *board)
{
	const char *path = kiln_setting_str(app, "status.path");
	kiln__allow al;
	char err[KILN_ERRMSG_MAX];

	app->board = board;
	if (kiln__allow_parse(kiln_setting_str(app, "status.allow"), &al, err,
		sizeof(err)) != KILN_OK)
		return kiln__app_error(app, KILN_ECONFIG, "status.allow: %s",
		    strchr(err, ' ') != NULL ? strchr(err, ' ') + 1 : err);
	if (path == NULL || *path == '\0')
		return KILN_OK; /* disabled */
	return kiln_route(kiln_app_bp(app), "GET", path, status_view,
	    "kiln_status");
}
