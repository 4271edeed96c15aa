#!/usr/bin/env bash
# Functions called through traps and kiln_wait_for look unreachable:
# shellcheck disable=SC2317
#
# Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
#
# The process manager under load, through real nginx (issue 3):
#
#     tests/integration/pool.sh BUILD_DIR
#
# Starts the example site's pool and nginx in a temporary directory and,
# while wrk sends a bounded loopback load, reloads twice (HUP), upgrades
# the binary (USR2), scales to 5 and back to 2 workers (kilnctl), kills a
# busy worker, lets a request run past the timeout, crashes a view,
# recycles workers after 100 requests, and fills the listen queue. Each
# check prints its counts; wrk's failures are non-2xx/3xx responses plus
# socket errors. Prints "N passed, N failed" last; exits 1 on a failure.

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR/../.. source=scripts/lib.sh
. "$HERE/../../scripts/lib.sh"
# shellcheck source-path=SCRIPTDIR source=tests/integration/lib/testlib.sh
. "$HERE/lib/testlib.sh"

[ $# -eq 1 ] || kiln_die "usage: $0 BUILD_DIR"
BUILD=$(cd "$1" && pwd) || kiln_die "no build directory: $1"
SITE=$BUILD/examples/site/site
STATIC=$KILN_ROOT/examples/site/static
KILNCTL=$KILN_ROOT/scripts/kilnctl
N=2

for need in curl nginx wrk; do
	command -v "$need" >/dev/null 2>&1 || {
		notok "$need is installed (scripts/test installs it)"
		finish
	}
done
[ -x "$SITE" ] || {
	notok "the example site is built ($SITE)"
	finish
}

RUN=$(mktemp -d /tmp/kiln-pool.XXXXXX) || kiln_die "mktemp failed"
chmod 755 "$RUN"
SOCK=$RUN/site.sock
PIDFILE=$RUN/master.pid
SETTINGS=$RUN/site.ini
mkdir -p "$RUN/nginx" "$RUN/media"

cleanup() {
	local pid
	kiln_stop "$RUN/nginx/nginx.spawn" TERM 5
	# After USR2 the master is another process: stop whoever the
	# pidfile names (a master this test started, directly or by USR2).
	pid=$(cat "$PIDFILE" 2>/dev/null)
	case $pid in
	'' | *[!0-9]*) ;;
	*) kill -TERM "$pid" 2>/dev/null && KILN_WAIT=15 kiln_wait_for gone "$pid" ;;
	esac
	kiln_stop "$RUN/site.spawn" TERM 15
	if [ "$FAILED" -eq 0 ] && [ "${KILN_KEEP_RUN:-0}" != 1 ]; then
		rm -rf "$RUN"
	else
		printf '# run directory kept: %s\n' "$RUN"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

gone() {
	! kill -0 "$1" 2>/dev/null
}

write_settings() {
	cat >"$SETTINGS" <<EOT
[server]
pm = ${3:-static}
min_workers = 1
max_workers = 4
min_spare = 1
max_spare = 1
timeout = 2s
graceful_timeout = 10s
max_requests = ${1:-0}
max_requests_jitter = ${2:-0}
[status]
slow_threshold = 500ms
[site]
test_views = true
[templates]
dirs = $KILN_ROOT/examples/site/templates
[database]
migrations = $KILN_ROOT/examples/site/migrations
EOT
}
write_settings 0 0

PORT=$(kiln_free_port $((20000 + RANDOM % 20000))) || kiln_die "no free port"
BASE=http://127.0.0.1:$PORT
unset DATABASE_URL
kiln_site_db "$SITE" "$SETTINGS" "$RUN" >"$RUN/db.log" 2>&1 ||
	notok "the site's database migrates and seeds"
kiln_spawn "$RUN/site.spawn" "$RUN/spawn.log" "$SITE" --settings "$SETTINGS" \
	serve --listen "unix:$SOCK" --workers "$N" --pidfile "$PIDFILE" \
	--log-file "$RUN/site.log"

# The pool's status as JSON, from the master's control socket.
status_json() {
	"$SITE" --settings "$SETTINGS" status --listen "unix:$SOCK" --json 2>/dev/null
}

# Live workers: starting, idle or busy.
live() {
	status_json | grep -o '"state":"\(idle\|busy\|starting\)"' | wc -l
}

# The value of integer field $1 of the status.
field() {
	status_json | grep -o "\"$1\":[0-9]*" | head -n 1 | cut -d: -f2
}

live_is() {
	[ "$(live)" -eq "$1" ]
}

if KILN_WAIT=10 kiln_wait_for live_is "$N"; then
	ok "pool started with $N workers"
else
	notok "pool started within 10 s"
	diag "$(tail -n 20 "$RUN/site.log" "$RUN/spawn.log")"
	finish
fi
kiln_nginx_render "$RUN/nginx" "$PORT" "$SOCK" "$STATIC" "$RUN/media" 10s &&
	kiln_nginx_start "$RUN/nginx"
if KILN_WAIT=5 kiln_wait_for kiln_port_in_use "$PORT"; then
	ok "nginx started on $PORT"
else
	notok "nginx started"
	finish
fi

# load SECONDS OUT [PATH]: wrk with 1 thread and 8 connections, bounded
# by time, in the background; its pid is left in LOAD_PID.
load() {
	wrk -t1 -c8 -d"${1}s" --timeout 5s "$BASE${3:-/}" >"$2" 2>&1 &
	LOAD_PID=$!
}

# wrk_count OUT: "requests failures" from wrk's report.
wrk_count() {
	local total non2xx sock
	total=$(sed -n 's/^ *\([0-9][0-9]*\) requests in.*/\1/p' "$1")
	non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$1")
	sock=$(sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' "$1")
	# shellcheck disable=SC2086 # four numbers, split on purpose
	set -- ${sock:-0 0 0 0}
	printf '%s %s\n' "${total:-0}" $((${non2xx:-0} + $1 + $2 + $3 + $4))
}

# check_load DESC OUT: passes when wrk made requests and none failed.
check_load() {
	local total fails
	read -r total fails < <(wrk_count "$2")
	if [ "$total" -gt 0 ] && [ "$fails" -eq 0 ]; then
		ok "$1: $total requests, 0 failed"
	else
		notok "$1: $total requests, $fails failed"
		diag "$(cat "$2")"
	fi
}

# ms_until CMD...: runs CMD every 20 ms for at most 3 s; prints the time
# it took in ms (or 9999) and fails on timeout.
ms_until() {
	local t0 i
	t0=$(kiln_now_ms)
	for ((i = 0; i < 150; i++)); do
		if "$@"; then
			echo $(($(kiln_now_ms) - t0))
			return 0
		fi
		sleep 0.02
	done
	echo 9999
	return 1
}

# --- HUP twice under load ---------------------------------------------------
GEN0=$(status_json | grep -o '"generation":[0-9]*' | sort -u | wc -l)
load 5 "$RUN/hup.out"
sleep 1
kill -HUP "$(cat "$PIDFILE")"
sleep 1.5
kill -HUP "$(cat "$PIDFILE")"
wait "$LOAD_PID"
check_load "HUP reload twice during load" "$RUN/hup.out"
all_gen2() {
	[ "$(status_json | grep -o '"generation":[0-9]*' | sort -u)" = '"generation":2' ] &&
		live_is "$N"
}
if KILN_WAIT=5 kiln_wait_for all_gen2; then
	ok "after two reloads every worker is of generation 2 ($N workers; was $GEN0 generation)"
else
	notok "after two reloads every worker is of generation 2"
	diag "$(status_json)"
fi

# --- USR2 binary upgrade under load ----------------------------------------
OLD=$(cat "$PIDFILE")
load 5 "$RUN/usr2.out"
sleep 1
kill -USR2 "$OLD"
wait "$LOAD_PID"
check_load "USR2 binary upgrade during load" "$RUN/usr2.out"
NEW=$(cat "$PIDFILE")
upgraded() {
	[ "$(cat "$PIDFILE")" != "$OLD" ] && gone "$OLD" && live_is "$N"
}
if KILN_WAIT=10 kiln_wait_for upgraded; then
	ok "USR2: master $OLD replaced by $NEW, old master gone, $N workers"
else
	notok "USR2: master replaced (pidfile: $(cat "$PIDFILE"), old $OLD)"
	diag "$(tail -n 20 "$RUN/site.log")"
fi

# --- memory per worker after load (target: under 8 MiB) ---------------------
sleep 1.2 # the master samples RSS every second
RSS=$(status_json | grep -o '"rss_kb":[0-9]*' | cut -d: -f2 | sort -n | tail -n 1)
if [ -n "$RSS" ] && [ "$RSS" -gt 0 ] && [ "$RSS" -lt 8192 ]; then
	ok "largest worker RSS after the loads above: $RSS KiB (under 8 MiB)"
else
	notok "worker RSS under 8 MiB (largest: ${RSS:-?} KiB)"
fi

# --- kilnctl scale 5, then 2, under load -----------------------------------
ctl() {
	"$KILNCTL" --app "$SITE" --settings "$SETTINGS" --pidfile "$PIDFILE" \
		--listen "unix:$SOCK" "$@"
}
load 6 "$RUN/scale.out"
sleep 0.5
T0=$(kiln_now_ms)
if ctl scale 5 >/dev/null; then
	MS=$(($(kiln_now_ms) - T0))
	if [ "$(live)" -eq 5 ] && [ "$MS" -le 1000 ]; then
		ok "kilnctl scale 5: 5 workers in $MS ms"
	else
		notok "kilnctl scale 5: $(live) workers after $MS ms (want 5 within 1000 ms)"
	fi
else
	notok "kilnctl scale 5 succeeded"
fi
sleep 1
T0=$(kiln_now_ms)
if ctl scale 2 >/dev/null; then
	MS=$(($(kiln_now_ms) - T0))
	if [ "$(live)" -eq 2 ] && [ "$MS" -le 1000 ]; then
		ok "kilnctl scale 2: 2 workers in $MS ms"
	else
		notok "kilnctl scale 2: $(live) workers after $MS ms (want 2 within 1000 ms)"
	fi
else
	notok "kilnctl scale 2 succeeded"
fi
wait "$LOAD_PID"
check_load "scaling 2 -> 5 -> 2 during load" "$RUN/scale.out"
if ctl status --json | grep -q '"workers":\[{"pid":'; then
	ok "kilnctl status --json has a workers array with pids"
else
	notok "kilnctl status --json has a workers array with pids"
fi

# --- kill -9 of a busy worker ----------------------------------------------
curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$BASE/slow?ms=1500" >"$RUN/slow.code" &
SLOW_PID=$!
busy_worker() {
	BUSY=$(status_json | grep -o '"pid":[0-9]*,"state":"busy","generation":[0-9]*,"requests":[0-9]*,"rss_kb":[0-9]*,"started_at":[0-9]*,"current":"GET /slow' |
		head -n 1 | sed 's/"pid":\([0-9]*\).*/\1/')
	[ -n "$BUSY" ]
}
if KILN_WAIT=3 kiln_wait_for busy_worker; then
	load 3 "$RUN/kill.out"
	sleep 0.3
	kill -9 "$BUSY"
	MS=$(ms_until live_is "$N")
	wait "$SLOW_PID"
	wait "$LOAD_PID"
	CODE=$(cat "$RUN/slow.code")
	if [ "$CODE" = 502 ]; then
		ok "kill -9 of busy worker $BUSY: its request got 502"
	else
		notok "kill -9 of busy worker $BUSY: its request got $CODE (want 502)"
	fi
	if [ "$MS" -le 1000 ]; then
		ok "pool back to $N workers $MS ms after kill -9"
	else
		notok "pool back to $N workers within 1 s (took $MS ms)"
	fi
	check_load "other requests during the kill -9" "$RUN/kill.out"
else
	notok "a worker is busy with /slow"
	wait "$SLOW_PID"
fi

# --- a view past the request timeout (2 s) ---------------------------------
KT0=$(field killed_timeout)
T0=$(kiln_now_ms)
CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$BASE/slow?ms=6000")
MS=$(($(kiln_now_ms) - T0))
if [ "$CODE" = 502 ] && [ "$MS" -lt 5000 ]; then
	ok "a request past the 2 s timeout is cut off after $MS ms (502)"
else
	notok "a request past the 2 s timeout is cut off (got $CODE after $MS ms)"
fi
KT1=$(field killed_timeout)
if [ "$KT1" -eq $((KT0 + 1)) ] && KILN_WAIT=2 kiln_wait_for live_is "$N"; then
	ok "the hung worker was killed (killed_timeout $KT0 -> $KT1) and the pool is at $N"
else
	notok "the hung worker was killed (killed_timeout $KT0 -> $KT1, $(live) workers)"
fi
if grep -q 'killed: GET /slow?ms=6000 ran' "$RUN/site.log"; then
	ok "the log names the URL of the killed request"
else
	notok "the log names the URL of the killed request"
fi

# --- USR1 reopens the log (logrotate) ----------------------------------------
mv "$RUN/site.log" "$RUN/site.log.1"
kill -USR1 "$(cat "$PIDFILE")"
reopened() {
	grep -q 'log reopened' "$RUN/site.log" 2>/dev/null
}
if KILN_WAIT=3 kiln_wait_for reopened; then
	ok "USR1 reopened the log file (the crash below is logged there by a worker)"
else
	notok "USR1 reopened the log file"
fi

# --- a view that crashes -----------------------------------------------------
CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$BASE/crash")
if [ "$CODE" = 502 ]; then
	ok "a crashing view fails only its request (502)"
else
	notok "a crashing view fails only its request (got $CODE)"
fi
if KILN_WAIT=2 kiln_wait_for live_is "$N"; then
	ok "the crashed worker was replaced ($N workers)"
else
	notok "the crashed worker was replaced ($(live) workers)"
fi
if grep -q 'crash_view at .*site\.c:[0-9]' "$RUN/site.log" &&
	grep -q 'died of signal 11 during GET /crash' "$RUN/site.log"; then
	ok "the log has the crash, its URL and a backtrace with file:line"
else
	notok "the log has the crash, its URL and a backtrace with file:line"
	diag "$(grep -i crash "$RUN/site.log" | tail -n 5)"
fi

# --- max_requests = 100 under load -----------------------------------------
write_settings 100 10
kill -HUP "$(cat "$PIDFILE")"
sleep 0.5
ACC0=$(field accepted)
load 4 "$RUN/maxreq.out"
wait "$LOAD_PID"
check_load "max_requests=100 during load" "$RUN/maxreq.out"
ACC1=$(field accepted)
MAXREQ=$(status_json | grep -o '"requests":[0-9]*' | cut -d: -f2 | sort -n | tail -n 1)
if [ $((ACC1 - ACC0)) -gt 500 ] && [ "${MAXREQ:-999}" -le 110 ]; then
	ok "workers recycle: $((ACC1 - ACC0)) requests served, no worker past $MAXREQ"
else
	notok "workers recycle ($((ACC1 - ACC0)) requests, a worker at ${MAXREQ:-?})"
fi
write_settings 0 0
kill -HUP "$(cat "$PIDFILE")"

# --- the status page through nginx ---------------------------------------------
CODE=$(curl -s -o "$RUN/st.json" -w '%{http_code}' --max-time 5 "$BASE/kiln-status?format=json")
if [ "$CODE" = 200 ] && grep -q '"workers":\[{"pid":' "$RUN/st.json" &&
	grep -q '"listen_queue":' "$RUN/st.json"; then
	ok "GET /kiln-status?format=json through nginx (loopback) is the pool's status"
else
	notok "GET /kiln-status?format=json through nginx (got $CODE)"
fi

# --- pm = dynamic: grows with busy workers, shrinks when idle ---------------
write_settings 0 0 dynamic
kill -HUP "$(cat "$PIDFILE")"
sleep 0.5
CURLS=()
for i in 1 2 3 4 5; do
	curl -s -o /dev/null --max-time 10 "$BASE/slow?ms=1500" &
	CURLS+=($!)
done
grown() {
	[ "$(live)" -eq 4 ]
}
if KILN_WAIT=3 kiln_wait_for grown; then
	ok "pm=dynamic grew to max_workers (4) under 5 slow requests"
else
	notok "pm=dynamic grew to max_workers (4); has $(live)"
fi
wait "${CURLS[@]}"
shrunk() {
	[ "$(live)" -le 2 ]
}
if KILN_WAIT=5 kiln_wait_for shrunk; then
	ok "pm=dynamic shrank to $(live) workers once idle (max_spare 1)"
else
	notok "pm=dynamic shrank once idle; has $(live)"
fi
write_settings 0 0
kill -HUP "$(cat "$PIDFILE")"
sleep 0.3
# A reload keeps the current size; bring it back to N.
ctl scale "$N" >/dev/null || notok "kilnctl scale $N after pm=dynamic"

# --- systemd socket activation: the pool takes fd 3 ----------------------------
if command -v systemd-socket-activate >/dev/null 2>&1; then
	SA=$RUN/sa
	mkdir -p "$SA/nginx" && chmod 755 "$SA"
	# libtool's wrapper execs the real binary: same pid, same fds.
	kiln_spawn "$SA/spawn" "$SA/log" systemd-socket-activate \
		-l "$SA/s.sock" -E DATABASE_URL \
		"$SITE" --settings "$SETTINGS" serve --workers 1
	SAPORT=$(kiln_free_port $((20000 + RANDOM % 20000)))
	kiln_nginx_render "$SA/nginx" "$SAPORT" "$SA/s.sock" "$STATIC" \
		"$RUN/media" 10s && kiln_nginx_start "$SA/nginx"
	KILN_WAIT=5 kiln_wait_for kiln_port_in_use "$SAPORT"
	# The first connection makes systemd-socket-activate exec the pool.
	CODE=$(curl -s -o "$SA/b" -w '%{http_code}' --max-time 10 "http://127.0.0.1:$SAPORT/about/")
	if [ "$CODE" = 200 ] && grep -q 'serving with 1 native' "$SA/log"; then
		ok "socket activation: the pool served on the socket systemd-socket-activate made"
	else
		notok "socket activation (got $CODE)"
		diag "$(tail -n 5 "$SA/log")"
	fi
	kiln_stop "$SA/nginx/nginx.spawn" TERM 5
	kiln_stop "$SA/spawn" TERM 10
	if [ -S "$SA/s.sock" ]; then
		ok "socket activation: the master left systemd's socket in place"
	else
		notok "socket activation: the master left systemd's socket in place"
	fi
fi

# --- a full listen queue shows in the status --------------------------------
sleep 0.5
CURLS=()
for i in $(seq $((N + 4))); do
	curl -s -o /dev/null --max-time 10 "$BASE/slow?ms=1200" &
	CURLS+=($!)
done
sleep 0.5
Q=$(field listen_queue)
if [ "${Q:-0}" -ge 3 ]; then
	ok "the listen queue shows in the status: $Q waiting with $N workers busy"
else
	notok "the listen queue shows in the status (listen_queue=${Q:-?})"
	diag "$(status_json)"
fi
wait "${CURLS[@]}"

finish
