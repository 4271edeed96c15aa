#!/usr/bin/env bash
# Functions called through traps and kiln_wait_for look unreachable:
# shellcheck disable=SC2317
#
# Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
#
# The two FastCGI transports give the same answers (issue 7):
#
#     tests/integration/transports.sh BUILD_DIR
#
# Starts the example site twice — one pool on Kiln's native transport, one
# on the libfcgi adapter — each behind its own nginx, sends the same valid
# requests to both, and compares status, content type and body byte for
# byte. Prints "N passed, N failed" last; exits 1 on a difference.

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
[ -x "$SITE" ] || {
	notok "the example site is built ($SITE)"
	finish
}

RUN=$(mktemp -d /tmp/kiln-tp.XXXXXX) || kiln_die "mktemp failed"
chmod 755 "$RUN"
cleanup() {
	local t
	for t in native libfcgi; do
		kiln_stop "$RUN/$t/nginx/nginx.spawn" TERM 5
		kiln_stop "$RUN/$t/site.spawn" TERM 10
	done
	if [ "$FAILED" -eq 0 ] && [ "${KILN_KEEP_RUN:-0}" != 1 ]; then
		rm -rf "$RUN"
	else
		printf '# run directory kept: %s\n' "$RUN"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

declare -A PORT
# One database for both pools, so both show the same posts.
unset DATABASE_URL
kiln_site_db "$SITE" "$KILN_ROOT/examples/site/site.ini" "$RUN" >"$RUN/db.log" 2>&1 ||
	notok "the site's database migrates and seeds"
for t in native libfcgi; do
	mkdir -p "$RUN/$t/nginx" "$RUN/$t/media"
	kiln_spawn "$RUN/$t/site.spawn" "$RUN/$t/site.log" "$SITE" \
		--settings "$KILN_ROOT/examples/site/site.ini" serve \
		--listen "unix:$RUN/$t/s.sock" --workers 2 --transport "$t"
	PORT[$t]=$(kiln_free_port $((20000 + RANDOM % 20000))) || kiln_die "no free port"
	kiln_nginx_render "$RUN/$t/nginx" "${PORT[$t]}" "$RUN/$t/s.sock" \
		"$STATIC" "$RUN/$t/media" 35s && kiln_nginx_start "$RUN/$t/nginx"
	ready() {
		[ -S "$RUN/$1/s.sock" ] && kiln_port_in_use "${PORT[$1]}"
	}
	if KILN_WAIT=10 kiln_wait_for ready "$t"; then
		ok "$t pool and nginx started"
	else
		notok "$t pool and nginx started"
		diag "$(tail -n 20 "$RUN/$t/site.log")"
		finish
	fi
done

# fetch TRANSPORT N METHOD PATH [CURL_ARG...]: the response as
# "status content-type" on the first line, then the body, in $RUN/T.N.
fetch() {
	local t=$1 n=$2 m=$3 p=$4
	shift 4
	curl -s -g --path-as-is -X "$m" --max-time 5 \
		-w '\n%{http_code} %{content_type}\n' "$@" \
		"http://127.0.0.1:${PORT[$t]}$p" >"$RUN/$t.$n" 2>/dev/null
}

N=0
compare() {
	local desc="$*"
	desc=${desc:0:120}
	N=$((N + 1))
	fetch native "$N" "$@"
	fetch libfcgi "$N" "$@"
	if [ -s "$RUN/native.$N" ] && cmp -s "$RUN/native.$N" "$RUN/libfcgi.$N"; then
		ok "same answer: $desc ($(tail -n 1 "$RUN/native.$N"))"
	else
		notok "same answer: $desc"
		diag "native:" "$(head -c 300 "$RUN/native.$N")" \
			"libfcgi:" "$(head -c 300 "$RUN/libfcgi.$N")"
	fi
}

compare GET /
compare HEAD /
compare GET /hello/world/
compare GET /hello/%3Cb%3E/
compare GET /hello/%C3%A9t%C3%A9/
compare GET /posts/2/
compare GET /posts/9/
compare GET /posts/abc/
compare GET /tags/c-programming/
compare GET /items/0b7e1f9c-3d2a-4c5b-9e8f-1a2b3c4d5e6f/
compare GET /files/docs/2024/report.txt
compare GET /archive/2024/
compare GET /blog/
compare GET /blog/7/
compare GET "/blog/?page=2"
compare GET /blog/99/
compare GET "/about?x=1"
compare GET /about/
compare GET /posts/
compare GET /colophon/
compare GET /hello/%zz/
compare GET /hello/%ff/
compare POST /api/echo -H 'Content-Type: application/json' \
	--data-binary '{"a": [1, 2, "x"], "b": {"c": null}, "s": "caf\u00e9"}'
compare POST /api/echo -H 'Content-Type: application/json' --data-binary '{"a": [1'
compare POST /api/status --data-binary 'x=1'
compare OPTIONS /blog/
compare GET /cookie/get -H 'Cookie: flavour=ginger; other=1'
compare GET /cookie/set
compare GET "/nowhere?q=%20x"
{
	printf '{"big": "'
	head -c 200000 /dev/zero | tr '\0' 'k'
	printf '"}'
} >"$RUN/big.json"
compare POST /api/echo -H 'Content-Type: application/json' \
	--data-binary "@$RUN/big.json"

finish
