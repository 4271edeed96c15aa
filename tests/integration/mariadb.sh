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
	if [ -f "$T/mysql.pid" ]; then
		kill "$(cat "$T/mysql.pid")" 2>/dev/null
		for _ in $(seq 1 100); do
			[ -f "$T/mysql.pid" ] || break
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

finish
