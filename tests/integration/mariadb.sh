#!/usr/bin/env bash
# Functions called through traps look unreachable:
# shellcheck disable=SC2317
#
# Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
#
# The db and orm unit suites against a real MariaDB (issue 5):
#
#     tests/integration/mariadb.sh BUILD_DIR
#
# Starts a throwaway MariaDB in a temporary directory (mariadb-install-db
# and mariadbd on a unix socket, no TCP), creates two databases
# (kiln_test and kiln_test2, the second for the primary/replica test),
# runs BUILD_DIR/tests/unit/check_kiln's db and orm suites with
# KILN_TEST_MYSQL_URL and KILN_TEST_MYSQL_URL2 set, stops the server by
# its pid file, and prints "N passed, N failed" (one check per test).

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=tests/integration/lib/testlib.sh
. "$HERE/lib/testlib.sh"

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd) || exit 2
CHECK=$BUILD/tests/unit/check_kiln
if [ ! -x "$CHECK" ]; then
	echo "$CHECK not built: run make check (or make tests/unit/check_kiln)" >&2
	exit 2
fi

if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
	echo "# installing mariadb-server"
	DEBIAN_FRONTEND=noninteractive apt-get install -y mariadb-server \
	    >/dev/null || { echo "apt-get install mariadb-server failed" >&2; exit 2; }
fi
PATH=$PATH:/usr/sbin

# Unix socket paths must fit in 108 bytes: keep the directory short.
T=$(mktemp -d /tmp/kiln-mdb.XXXXXX) || exit 2
ME=$(id -un)
MDB_PID=

cleanup() {
	local pid
	# The example site's nginx and pool, if that part started them.
	if declare -F kiln_stop >/dev/null; then
		kiln_stop "$T/site/nginx/nginx.spawn" TERM 5
		kiln_stop "$T/site/site.spawn" TERM 10
	fi
	if [ -f "$T/mysql.pid" ]; then
		pid=$(cat "$T/mysql.pid")
		kill "$pid" 2>/dev/null
		# The server may be a restarted one (not our child): poll it.
		for _ in $(seq 1 200); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	if [ -n "$MDB_PID" ]; then
		wait "$MDB_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT

mariadb-install-db --no-defaults --datadir="$T/mysql" --user="$ME" \
    --auth-root-authentication-method=socket --skip-test-db \
    --skip-name-resolve >"$T/install.log" 2>&1 ||
	{ cat "$T/install.log"; notok "mariadb-install-db"; finish; }
mariadbd --no-defaults --datadir="$T/mysql" --socket="$T/mysql.sock" \
    --skip-networking --pid-file="$T/mysql.pid" --log-error="$T/mysql.err" \
    --user="$ME" --innodb-buffer-pool-size=16M --innodb-log-file-size=8M \
    >"$T/mysqld.out" 2>&1 &
MDB_PID=$!

up=no
for _ in $(seq 1 150); do
	if mariadb-admin --no-defaults --socket="$T/mysql.sock" -uroot ping \
	    >/dev/null 2>&1; then
		up=yes
		break
	fi
	sleep 0.2
done
if [ "$up" != yes ]; then
	tail -20 "$T/mysql.err"
	notok "mariadbd started"
	finish
fi
ok "mariadbd started on $T/mysql.sock"

mariadb --no-defaults --socket="$T/mysql.sock" -uroot -e \
    "CREATE DATABASE kiln_test; CREATE DATABASE kiln_test2;" ||
	{ notok "create databases"; finish; }

# The restart test (test_db_mysql_restart) restarts the server with this.
cat >"$T/restart.sh" <<EOS
#!/bin/sh
kill \$(cat "$T/mysql.pid") || exit 1
for i in \$(seq 1 100); do [ -f "$T/mysql.pid" ] || break; sleep 0.1; done
# setsid: Check kills a test's process group when the test ends.
setsid mariadbd --no-defaults --datadir="$T/mysql" --socket="$T/mysql.sock" \\
    --skip-networking --pid-file="$T/mysql.pid" --log-error="$T/mysql.err" \\
    --user="$ME" --innodb-buffer-pool-size=16M --innodb-log-file-size=8M \\
    >>"$T/mysqld.out" 2>&1 </dev/null &
for i in \$(seq 1 150); do
	mariadb-admin --no-defaults --socket="$T/mysql.sock" -uroot ping \\
	    >/dev/null 2>&1 && exit 0
	sleep 0.2
done
exit 1
EOS
chmod +x "$T/restart.sh"
export KILN_TEST_MYSQL_RESTART="$T/restart.sh"

export KILN_TEST_MYSQL_URL="mysql://root@localhost/kiln_test?unix_socket=$T/mysql.sock"
export KILN_TEST_MYSQL_URL2="mysql://root@localhost/kiln_test2?unix_socket=$T/mysql.sock"

# Runs one suite verbosely and turns each test's line into ok/not ok.
run_suite() {
	local suite=$1 out line name
	out=$(CK_RUN_SUITE=$suite CK_VERBOSITY=verbose CK_DEFAULT_TIMEOUT=60 \
	    timeout 600 "$CHECK" 2>&1)
	while IFS= read -r line; do
		case $line in
		*:P:*)
			name=${line##*:P:core:}
			ok "$suite: ${name%%:*}"
			;;
		*:F:* | *:E:*)
			notok "$suite: $line"
			;;
		esac
	done <<<"$out"
	if ! grep -q '^100%' <<<"$out"; then
		diag "$(grep -E '^[0-9]+%' <<<"$out")"
		grep -q 'Checks:' <<<"$out" || notok "$suite: did not finish"
	fi
}

run_suite db
run_suite orm

# --- the example site, unchanged, on MariaDB (issue 5, item 9) --------------
# One setting differs: DATABASE_URL. migrate, seed, then the blog through
# nginx, as scripts/quickstart would serve it.
SITE=$BUILD/examples/site/site
# shellcheck source-path=SCRIPTDIR/../.. source=scripts/lib.sh
. "$HERE/../../scripts/lib.sh"
site_on_mariadb() {
	local port run=$T/site code
	mkdir -p "$run/nginx" "$run/media" && chmod 755 "$T" "$run" || return 1
	mariadb --no-defaults --socket="$T/mysql.sock" -uroot \
	    -e "CREATE DATABASE kiln_site" || return 1
	export DATABASE_URL="mysql://root@localhost/kiln_site?unix_socket=$T/mysql.sock"
	if kiln_site_db "$SITE" "$KILN_ROOT/examples/site/site.ini" "$run" \
	    >"$run/db.log" 2>&1; then
		ok "the example site migrates and seeds a MariaDB database"
	else
		notok "the example site migrates and seeds a MariaDB database"
		diag "$(cat "$run/db.log")"
		return 1
	fi
	kiln_spawn "$run/site.spawn" "$run/site.log" "$SITE" \
	    --settings "$KILN_ROOT/examples/site/site.ini" serve \
	    --listen "unix:$run/s.sock" --workers 2
	port=$(kiln_free_port $((20000 + RANDOM % 20000))) || return 1
	kiln_nginx_render "$run/nginx" "$port" "$run/s.sock" \
	    "$KILN_ROOT/examples/site/static" "$run/media" 35s &&
	    kiln_nginx_start "$run/nginx"
	KILN_WAIT=10 kiln_wait_for kiln_port_in_use "$port"
	KILN_WAIT=10 kiln_wait_for test -S "$run/s.sock"
	code=$(curl -s -o "$run/b" -w '%{http_code}' --max-time 5 \
	    "http://127.0.0.1:$port/blog/")
	if [ "$code" = 200 ] && grep -q 'Page 1 of 2: 7 posts' "$run/b"; then
		ok "GET /blog/ through nginx lists the posts from MariaDB"
	else
		notok "GET /blog/ through nginx lists the posts from MariaDB ($code)"
		diag "$(head -c 400 "$run/b")" "$(tail -n 5 "$run/site.log")"
	fi
	code=$(curl -s -o "$run/b" -w '%{http_code}' --max-time 5 \
	    "http://127.0.0.1:$port/blog/3/")
	if [ "$code" = 200 ] && grep -q '<h1>The ORM</h1>' "$run/b"; then
		ok "GET /blog/3/ through nginx reads one post from MariaDB"
	else
		notok "GET /blog/3/ through nginx reads one post from MariaDB ($code)"
	fi
	kiln_stop "$run/nginx/nginx.spawn" TERM 5
	kiln_stop "$run/site.spawn" TERM 10
}
site_on_mariadb || notok "the example site on MariaDB (see above)"

finish
