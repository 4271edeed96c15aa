#!/usr/bin/env bash
# Functions called through traps and kiln_wait_for look unreachable:
# shellcheck disable=SC2317
#
# Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
#
# Integration test of the example site through real nginx:
#
#     tests/integration/site.sh BUILD_DIR
#
# Starts the site's prefork pool (2 workers) on a unix socket and nginx on a
# free loopback port, both in a fresh temporary directory, then requests
# every page of the example site with curl through nginx and checks status,
# headers and body; checks that /static/ is answered by nginx and not by a
# worker; kills a worker with SIGKILL and measures how soon the pool is
# whole again; runs the raw FastCGI hostile client (when it is built)
# against the socket; and stops everything it started, by pid.
#
# Prints "ok - ..." or "not ok - ..." per check and a last line
# "N passed, N failed"; exits 1 if any check failed.
# KILN_KEEP_RUN=1 keeps the temporary directory (it is kept on failure).

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR/../.. source=scripts/lib.sh
. "$HERE/../../scripts/lib.sh"

PASSED=0
FAILED=0
RUN=
T_START=$(kiln_now_ms)

ok() {
	PASSED=$((PASSED + 1))
	printf 'ok - %s\n' "$1"
}

notok() {
	FAILED=$((FAILED + 1))
	printf 'not ok - %s\n' "$1"
}

diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

# Stops what this test started (by pid) and removes the run directory,
# unless a check failed or KILN_KEEP_RUN=1. Runs once.
cleanup() {
	[ -n "$RUN" ] || return 0
	kiln_stop "$RUN/nginx/nginx.spawn" TERM 5
	kiln_stop "$RUN/site.spawn" TERM 10
	if [ "$FAILED" -eq 0 ] && [ "${KILN_KEEP_RUN:-0}" != 1 ]; then
		rm -rf "$RUN"
	else
		printf '# run directory kept: %s\n' "$RUN"
	fi
	RUN=
}

# Cleans up and prints the summary as the last line.
finish() {
	cleanup
	printf '%s passed, %s failed\n' "$PASSED" "$FAILED"
	[ "$FAILED" -eq 0 ]
	exit $?
}

[ $# -eq 1 ] || kiln_die "usage: $0 BUILD_DIR"
BUILD=$(cd "$1" && pwd) || kiln_die "no build directory: $1"
SITE=$BUILD/examples/site/site
HOSTILE=$BUILD/tests/integration/fcgi_hostile
SETTINGS=$KILN_ROOT/examples/site/site.ini
STATIC=$KILN_ROOT/examples/site/static
NWORKERS=2

for need in curl nginx; do
	command -v "$need" >/dev/null 2>&1 || {
		notok "$need is installed (scripts/test installs it)"
		finish
	}
done
if [ ! -x "$SITE" ]; then
	notok "the example site is built ($SITE)"
	finish
fi

# A 0755 run directory: nginx's workers must reach the socket and files.
RUN=$(mktemp -d /tmp/kiln-site.XXXXXX) || kiln_die "mktemp failed"
chmod 755 "$RUN"
trap cleanup EXIT
trap 'exit 130' INT TERM
SOCK=$RUN/site.sock
mkdir -p "$RUN/media" "$RUN/nginx"
printf 'hello from media\n' >"$RUN/media/hello.txt"
cd "$KILN_ROOT" || exit 1

# --- start the pool and nginx ---------------------------------------------

PORT=$(kiln_free_port $((20000 + RANDOM % 20000))) || kiln_die "no free port"
BASE=http://127.0.0.1:$PORT

unset DATABASE_URL
if ! kiln_site_db "$SITE" "$SETTINGS" "$RUN" >"$RUN/db.log" 2>&1; then
	notok "the site's database migrates and seeds"
	diag "$(cat "$RUN/db.log")"
	finish
fi
kiln_spawn "$RUN/site.spawn" "$RUN/site.log" "$SITE" serve \
	--settings "$SETTINGS" --listen "unix:$SOCK" \
	--workers "$NWORKERS" --pidfile "$RUN/master.pid"
MASTER=$(kiln_spawned_pid "$RUN/site.spawn") || MASTER=

# The number of live workers of the master.
nworkers() {
	kiln_children "$MASTER" | wc -l
}

pool_ready() {
	kiln_spawned_pid "$RUN/site.spawn" >/dev/null || return 2
	[ -S "$SOCK" ] && [ "$(nworkers)" -eq "$NWORKERS" ]
}

if [ -n "$MASTER" ] && KILN_WAIT=10 kiln_wait_for pool_ready; then
	ok "pool started: master $MASTER with $NWORKERS workers on $SOCK"
else
	notok "pool started within 10 s"
	diag "site log:" "$(tail -n 30 "$RUN/site.log" 2>/dev/null)"
	finish
fi
if [ "$(cat "$RUN/master.pid" 2>/dev/null)" = "$MASTER" ]; then
	ok "--pidfile names the master"
else
	notok "--pidfile names the master (has: $(cat "$RUN/master.pid" 2>/dev/null))"
fi
if [ "$(stat -c %a "$SOCK")" = 660 ]; then
	ok "socket mode is 0660"
else
	notok "socket mode is 0660 (is $(stat -c %a "$SOCK"))"
fi

if ! kiln_nginx_render "$RUN/nginx" "$PORT" "$SOCK" "$STATIC" "$RUN/media" 35s ||
	! kiln_nginx_test "$RUN/nginx" 2>"$RUN/nginx-t.log"; then
	notok "nginx config renders and passes nginx -t"
	diag "$(cat "$RUN/nginx-t.log" 2>/dev/null)"
	finish
fi
kiln_nginx_start "$RUN/nginx"
nginx_ready() {
	kiln_spawned_pid "$RUN/nginx/nginx.spawn" >/dev/null || return 2
	kiln_port_in_use "$PORT"
}
if KILN_WAIT=5 kiln_wait_for nginx_ready; then
	ok "nginx started on 127.0.0.1:$PORT"
else
	notok "nginx started within 5 s"
	diag "$(tail -n 20 "$RUN/nginx/logs/stderr.log" "$RUN/nginx/logs/error.log" 2>/dev/null)"
	finish
fi
WORKERS_START=$(kiln_children "$MASTER" | tr '\n' ' ')

# --- HTTP helpers ---------------------------------------------------------

# req METHOD PATH [CURL_ARG...]: sends the request through nginx; sets CODE
# and leaves the headers in $RUN/h and the body in $RUN/b.
req() {
	local m=$1 p=$2 mflag
	mflag=(-X "$m")
	shift 2
	[ "$m" = HEAD ] && mflag=(-I)
	: >"$RUN/h"
	: >"$RUN/b"
	CODE=$(curl -s -g --path-as-is "${mflag[@]}" -o "$RUN/b" -D "$RUN/h" \
		-w '%{http_code}' --max-time 5 "$@" "$BASE$p") || CODE=${CODE:-000}
}

# hdr NAME: the value of the last response's header NAME (the first one,
# CR removed), or nothing.
hdr() {
	tr -d '\r' <"$RUN/h" | awk -v n="$1" '
		index($0, ":") > 0 {
			k = substr($0, 1, index($0, ":") - 1)
			if (tolower(k) == tolower(n)) {
				v = substr($0, index($0, ":") + 1)
				sub(/^[ \t]+/, "", v)
				print v
				exit
			}
		}'
}

# has_hdr NAME: true if the last response has header NAME.
has_hdr() {
	tr -d '\r' <"$RUN/h" | grep -qi "^$1:"
}

# expect DESC CODE [SPEC...]: one check on the last response. SPEC is
#   h:NAME=TEXT   header NAME contains TEXT     H:NAME   no header NAME
#   e:NAME=TEXT   header NAME equals TEXT
#   b:TEXT        the body contains TEXT        B:TEXT   it does not
#   i:TEXT        the body contains TEXT, ignoring case
expect() {
	local desc=$1 want=$2 s name val why=()
	shift 2
	[ "$CODE" = "$want" ] || why+=("status $CODE, want $want")
	for s in "$@"; do
		case $s in
		h:*)
			name=${s#h:}
			val=${name#*=}
			name=${name%%=*}
			case $(hdr "$name") in
			*"$val"*) ;;
			*) why+=("header $name '$(hdr "$name")' lacks '$val'") ;;
			esac
			;;
		e:*)
			name=${s#e:}
			val=${name#*=}
			name=${name%%=*}
			[ "$(hdr "$name")" = "$val" ] ||
				why+=("header $name is '$(hdr "$name")', want '$val'")
			;;
		H:*)
			! has_hdr "${s#H:}" || why+=("unexpected header ${s#H:}")
			;;
		b:*)
			grep -qF -- "${s#b:}" "$RUN/b" || why+=("body lacks '${s#b:}'")
			;;
		B:*)
			! grep -qF -- "${s#B:}" "$RUN/b" || why+=("body has '${s#B:}'")
			;;
		i:*)
			grep -qiF -- "${s#i:}" "$RUN/b" || why+=("body lacks '${s#i:}' (any case)")
			;;
		*) why+=("bad spec $s") ;;
		esac
	done
	if [ ${#why[@]} -eq 0 ]; then
		ok "$desc"
	else
		notok "$desc"
		diag "${why[@]}" "response headers:" "$(tr -d '\r' <"$RUN/h" | head -n 15)" \
			"body (first 300 bytes):" "$(head -c 300 "$RUN/b")"
	fi
}

# Repeats character $1 $2 times.
repeat() {
	head -c "$2" /dev/zero | tr '\0' "$1"
}

# --- the pages ------------------------------------------------------------

req GET /
expect "GET / is the home page" 200 "h:Content-Type=text/html" \
	"e:X-Served-By=kiln" "b:Welcome to Kiln" 'b:href="/hello/world/"' \
	"b:/static/site.css"
req HEAD /
expect "HEAD / is answered like GET" 200 "e:X-Served-By=kiln"

req GET /hello/world/
expect "GET /hello/world/" 200 "b:Hello, world!" "e:X-Served-By=kiln"
req GET /hello/%3Cb%3E/
expect "GET /hello/%3Cb%3E/ escapes the name" 200 "b:Hello, &lt;b&gt;!" \
	"B:Hello, <b>"
req GET /hello/%C3%A9t%C3%A9/
expect "GET /hello/%C3%A9t%C3%A9/ (valid UTF-8 argument)" 200 "b:Hello, été!"

for id in 1 2 3; do
	req GET "/posts/$id/"
	expect "GET /posts/$id/" 200 "b:Post $id"
done
req GET /posts/4/
expect "GET /posts/4/ aborts with the custom 404 page" 404 "b:Page not found"
req GET /posts/abc/
expect "GET /posts/abc/ (int converter does not match) is 404" 404

req GET /tags/c-programming/
expect "GET /tags/<slug>/" 200 "b:c-programming"
UUID=0b7e1f9c-3d2a-4c5b-9e8f-1a2b3c4d5e6f
req GET "/items/$UUID/"
expect "GET /items/<uuid>/" 200 "b:$UUID"
req GET /files/docs/2024/report.txt
expect "GET /files/<path>" 200 "b:docs/2024/report.txt"
req GET /archive/2024/
expect "GET /archive/2024/ (regex route)" 200 "b:Archive 2024"

req GET /blog/
expect "GET /blog/ (blueprint, ListView over the database)" 200 "b:Blog index" \
	"b:Page 1 of 2: 7 posts" 'b:href="/blog/7/"' "e:X-Blog=1" \
	"e:X-Served-By=kiln"
req GET /blog/7/
expect "GET /blog/7/ (DetailView of a post in the database)" 200 \
	"b:<h1>Static files</h1>" "b:by Ada" "e:X-Blog=1" \
	"b:2026-01-07 09:00 UTC"
req GET "/blog/?page=2"
expect "GET /blog/?page=2 (ListView, second page)" 200 "b:Page 2 of 2" \
	"b:Hello, Kiln" "B:Static files"
req GET /blog/99/
expect "GET /blog/99/ (no such post) is 404" 404 "b:Page not found"
req GET "/blog/?page=x"
expect "GET /blog/?page=x is 404" 404
req GET /
expect "the blueprint's after hook stays on its own routes" 200 "H:X-Blog"

req GET /about
expect "GET /about redirects to /about/ (APPEND_SLASH)" 301 "h:Location=/about/"
LOC=$(hdr Location)
case $LOC in
*/about/) ok "Location ends in /about/ ($LOC)" ;;
*) notok "Location ends in /about/ (is '$LOC')" ;;
esac
case $LOC in
http://* | https://*)
	if [ "$LOC" = "$BASE/about/" ]; then
		ok "absolute Location keeps the Host port ($LOC)"
	else
		notok "absolute Location keeps the Host port (is '$LOC', want '$BASE/about/')"
	fi
	;;
esac
req GET /about/
expect "GET /about/" 200

req GET /posts/
expect "GET /posts/ renders templates/posts.html (extends, include, loop, filters)" \
	200 "b:<h1>Posts</h1>" "b:3 posts, newest first." 'b:<tr class="even">' \
	"b:March 6, 2024" "b:Kiln renders &lt;Django&gt; templates" \
	'b:href="/static/site.css"' "B:<Django>"
req GET /colophon/
expect "GET /colophon/ is a TemplateView" 200 "b:This page is a TemplateView"

req GET /api/status
expect "GET /api/status is JSON" 200 "h:Content-Type=application/json"
BODY=$(tr -d ' \n' <"$RUN/b")
JPID=$(printf '%s' "$BODY" | sed -n 's/.*"pid":\([0-9][0-9]*\).*/\1/p')
case $BODY in
*'"ok":true'*) ok "/api/status says ok:true" ;;
*) notok "/api/status says ok:true (body: $BODY)" ;;
esac
case " $WORKERS_START " in
*" $JPID "*) ok "/api/status pid $JPID is one of the workers ($WORKERS_START)" ;;
*) notok "/api/status pid '$JPID' is one of the workers ($WORKERS_START)" ;;
esac

req POST /api/echo -H 'Content-Type: application/json' \
	--data-binary '{"a": [1, 2, "x"], "b": {"c": null}}'
expect "POST /api/echo answers JSON" 200 "h:Content-Type=application/json"
BODY=$(tr -d ' \n' <"$RUN/b")
case $BODY in
*'"you_sent":{"a":[1,2,"x"],"b":{"c":null}}'*) ok "POST /api/echo echoes the JSON" ;;
*) notok "POST /api/echo echoes the JSON (body: $BODY)" ;;
esac
req POST /api/echo -H 'Content-Type: application/json' --data-binary '{"a": [1, 2'
expect "POST /api/echo with malformed JSON is 400 with the position" 400 \
	"i:line 1"
req POST /api/status --data-binary 'x=1'
expect "POST /api/status is 405 with Allow" 405 "e:Allow=GET, HEAD, OPTIONS"

req GET /pid
expect "GET /pid is text/plain" 200 "h:Content-Type=text/plain"
PID_BODY=$(tr -d ' \r\n' <"$RUN/b")
case " $WORKERS_START " in
*" $PID_BODY "*) ok "/pid $PID_BODY is one of the workers" ;;
*) notok "/pid '$PID_BODY' is one of the workers ($WORKERS_START)" ;;
esac

req GET /cookie/set -c "$RUN/jar"
expect "GET /cookie/set sets the cookie with its flags" 200 \
	"h:Set-Cookie=flavour=oatmeal" "h:Set-Cookie=Path=/" \
	"h:Set-Cookie=HttpOnly" "h:Set-Cookie=SameSite=Lax"
req GET /cookie/get -b "$RUN/jar"
expect "GET /cookie/get reads the cookie back" 200 "b:flavour=oatmeal"

# --- static and media: answered by nginx, never by a worker ---------------

req GET /static/site.css
expect "GET /static/site.css is served by nginx" 200 "h:Content-Type=text/css" \
	"e:X-Static=nginx" "H:X-Served-By" "h:Cache-Control=max-age=3600" \
	"h:Expires="
if cmp -s "$RUN/b" "$STATIC/site.css"; then
	ok "/static/site.css is the file on disk"
else
	notok "/static/site.css is the file on disk"
fi
req GET /static/no-such-file.css
expect "a missing static file is nginx's 404" 404 "H:X-Served-By"
req GET /media/hello.txt
expect "GET /media/hello.txt is served by nginx" 200 "e:X-Static=nginx" \
	"H:X-Served-By" "b:hello from media"
req GET /protected/hello.txt
expect "/protected/ is internal (X-Accel-Redirect only)" 404 "B:hello from media"

# --- bad input ------------------------------------------------------------

req GET "/hello/$(repeat a 5000)/"
expect "a 5000-byte path is 414 from the app" 414 "B:<center>nginx</center>"
req GET "/?q=$(repeat b 5000)"
expect "a 5000-byte query string is 414 from the app" 414 "B:<center>nginx</center>"
repeat x $((2 * 1024 * 1024)) >"$RUN/body-2m"
req POST /api/echo -H 'Content-Type: application/json' --data-binary "@$RUN/body-2m"
expect "a 2 MiB body (over limits.max_body) is 413 from the app" 413 \
	"B:<center>nginx</center>"
repeat x $((11 * 1024 * 1024)) >"$RUN/body-11m"
req POST /api/echo -H 'Content-Type: application/json' --data-binary "@$RUN/body-11m"
expect "an 11 MiB body (over client_max_body_size) is nginx's 413" 413 \
	"H:X-Served-By"
rm -f "$RUN/body-2m" "$RUN/body-11m"
req GET /hello/%zz/
expect "malformed percent-encoding is 400" 400
req GET /hello/%ff/
expect "invalid UTF-8 in a route argument is 400" 400 "i:UTF-8"
req GET /cookie/get -H $'Cookie: ;;; =; ==x; flavour; "unterminated; a=b=c; \x01\x7f; %zz=1'
expect "a garbage Cookie header is ignored" 200
req GET /cookie/get -H 'Cookie: flavour=one' -H 'Cookie: other=two'
expect "two Cookie header lines are joined into one (HTTP_COOKIE)" 200 \
	"b:flavour=one"
req GET /pid -H 'X-Forwarded-For: 192.0.2.1' -H 'X-Forwarded-For: 192.0.2.2'
expect "two X-Forwarded-For lines are joined into one" 200
req GET /pid -H 'Proxy: http://attacker.example:3128/'
expect "a Proxy: header is dropped, not passed as a second HTTP_PROXY" 200
req GET /pid -H 'X-Dup: a' -H 'X-Dup: b'
case $CODE in
2?? | 4??) ok "two X-Dup header lines: answered $CODE, not nginx's 5xx" ;;
*) notok "two X-Dup header lines: answered $CODE, not nginx's 5xx" ;;
esac
req BREW /
expect "an unknown method (BREW /) is 405" 405

WORKERS_NOW=$(kiln_children "$MASTER" | tr '\n' ' ')
if [ "$WORKERS_NOW" = "$WORKERS_START" ]; then
	ok "no worker died during the page checks ($WORKERS_NOW)"
else
	notok "no worker died during the page checks (was: $WORKERS_START now: $WORKERS_NOW)"
	diag "site log:" "$(tail -n 20 "$RUN/site.log")"
fi

# --- kill -9 of a worker --------------------------------------------------

# kill_one VICTIM: kills worker VICTIM with SIGKILL, then checks that the
# next 5 requests succeed (none answered by the victim) and that the pool
# is back to NWORKERS live workers, without the victim, within 1 s of the
# kill (polled every 50 ms). Sets POOL to the workers afterwards and
# ANSWERED to the pids that answered the 5 requests.
kill_one() {
	local victim=$1 t0 t1 i good=0 got back='' elapsed
	ANSWERED=
	t0=$(kiln_now_ms)
	kill -KILL "$victim"
	for i in 1 2 3 4 5; do
		req GET /pid --max-time 1
		got=$(tr -d ' \r\n' <"$RUN/b")
		if [ "$CODE" = 200 ] && [ "$got" != "$victim" ]; then
			good=$((good + 1))
			ANSWERED="$ANSWERED $got"
		fi
	done
	t1=$(kiln_now_ms)
	if [ $good -eq 5 ]; then
		ok "after kill -9 of worker $victim the next 5 requests succeed ($((t1 - t0)) ms)"
	else
		notok "after kill -9 of worker $victim the next 5 requests succeed (only $good)"
	fi
	while :; do
		POOL=$(kiln_children "$MASTER" | tr '\n' ' ')
		elapsed=$(($(kiln_now_ms) - t0))
		case " $POOL " in
		*" $victim "*) ;;
		*)
			if [ "$(printf '%s' "$POOL" | wc -w)" -eq "$NWORKERS" ]; then
				back=$elapsed
				break
			fi
			;;
		esac
		[ "$elapsed" -le 1000 ] || break
		sleep 0.05
	done
	if [ -n "$back" ]; then
		ok "pool back to $NWORKERS workers $back ms after kill -9 of $victim ($POOL)"
	else
		notok "pool back to $NWORKERS workers within 1000 ms of kill -9 of $victim (workers: $POOL)"
	fi
}

read -r VICTIM _ <<<"$WORKERS_NOW"
kill_one "$VICTIM"
# Then kill every original worker left: only respawned workers can answer.
for w in $POOL; do
	case " $WORKERS_NOW " in
	*" $w "*) kill_one "$w" ;;
	esac
done
OLD_ANSWERED=
for a in $ANSWERED; do
	case " $WORKERS_NOW " in
	*" $a "*) OLD_ANSWERED="$OLD_ANSWERED $a" ;;
	esac
done
if [ -n "$ANSWERED" ] && [ -z "$OLD_ANSWERED" ]; then
	ok "with every original worker killed, respawned workers answer (pids:$ANSWERED)"
else
	notok "with every original worker killed, respawned workers answer (pids:$ANSWERED; original:$OLD_ANSWERED)"
fi

# --- hostile FastCGI client against the socket ---------------------------

# cpu_of PIDS...: "pid:ticks" for each pid.
cpu_of() {
	local p
	for p in "$@"; do
		printf '%s:%s ' "$p" "$(kiln_proc_cputicks "$p")"
	done
}

if [ -x "$HOSTILE" ]; then
	BEFORE=$(kiln_children "$MASTER" | tr '\n' ' ')
	T0=$(kiln_now_ms)
	"$HOSTILE" "$SOCK" >"$RUN/hostile.out" 2>&1 </dev/null
	HRC=$?
	T1=$(kiln_now_ms)
	sed 's/^/    /' "$RUN/hostile.out"
	SUMMARY=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$RUN/hostile.out" | tail -n 1)
	if [ -n "$SUMMARY" ]; then
		read -r HP _ HF _ <<<"$SUMMARY"
		PASSED=$((PASSED + HP))
		FAILED=$((FAILED + HF))
	fi
	if [ $HRC -eq 0 ]; then
		ok "fcgi_hostile exited 0 ($((T1 - T0)) ms)"
	else
		notok "fcgi_hostile exited 0 (status $HRC)"
	fi
	AFTER=$(kiln_children "$MASTER" | tr '\n' ' ')
	if [ "$AFTER" = "$BEFORE" ]; then
		ok "no worker died under hostile input ($AFTER)"
	else
		notok "no worker died under hostile input (before: $BEFORE after: $AFTER)"
		diag "site log:" "$(tail -n 20 "$RUN/site.log")"
	fi
	# shellcheck disable=SC2086 # one pid per word
	C0=$(cpu_of $AFTER)
	sleep 1
	# shellcheck disable=SC2086
	C1=$(cpu_of $AFTER)
	HZ=$(getconf CLK_TCK)
	SPIN=
	for w in $AFTER; do
		a=$(printf '%s' "$C0" | tr ' ' '\n' | sed -n "s/^$w://p")
		b=$(printf '%s' "$C1" | tr ' ' '\n' | sed -n "s/^$w://p")
		if [ -n "$a" ] && [ -n "$b" ] && [ $((b - a)) -gt $((HZ / 5)) ]; then
			SPIN="$SPIN $w:$((b - a))ticks"
		fi
	done
	if [ -z "$SPIN" ]; then
		ok "no worker spins after the hostile client (idle CPU over 1 s < 20%)"
	else
		notok "no worker spins after the hostile client (busy:$SPIN)"
	fi
	req GET /pid --max-time 1
	expect "a valid request is answered within 1 s after the hostile client" 200
else
	printf '# skip: %s is not built: no hostile FastCGI checks\n' "$HOSTILE"
fi

# --- graceful stop --------------------------------------------------------

LAST=$(kiln_children "$MASTER" | tr '\n' ' ')
T0=$(kiln_now_ms)
master_gone() {
	! kiln_spawned_pid "$RUN/site.spawn" >/dev/null
}
kill -TERM "$MASTER"
if KILN_WAIT=10 kiln_wait_for master_gone; then
	LEFT=
	for w in $LAST; do
		st=$(kiln_proc_state "$w") && [ "$st" != Z ] && LEFT="$LEFT $w"
	done
	if [ -z "$LEFT" ]; then
		ok "SIGTERM stops the master and its workers ($(($(kiln_now_ms) - T0)) ms)"
	else
		notok "SIGTERM stops the master and its workers (still running:$LEFT)"
		# They are ours: the master forked them for this test.
		# shellcheck disable=SC2086
		kill -KILL $LEFT 2>/dev/null
	fi
else
	notok "SIGTERM stops the master within 10 s"
fi
if [ -e "$SOCK" ]; then
	diag "note: the socket file is left after the stop"
fi

printf '# total time %s ms\n' "$(($(kiln_now_ms) - T_START))"
finish
