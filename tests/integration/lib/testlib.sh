# shellcheck shell=bash
#
# Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
#
# Check reporting shared by the integration tests: ok/notok/diag print
# TAP-like lines and count them; finish prints "N passed, N failed" and
# exits with 1 if anything failed.

PASSED=0
FAILED=0

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

finish() {
	printf '%s passed, %s failed\n' "$PASSED" "$FAILED"
	[ "$FAILED" -eq 0 ]
	exit $?
}
