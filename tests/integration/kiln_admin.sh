#!/usr/bin/env bash
#
# Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
#
# `kiln-admin render TEMPLATE --dir DIR --context CTX.json` (issue 4):
# writes exactly the rendered bytes, nothing added; a {"$datetime": ...}
# object is a datetime; a template error exits non-zero with the message
# (template, line, column) on stderr and nothing on stdout.
#
#     tests/integration/kiln_admin.sh BUILD_DIR

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR/../.. source=scripts/lib.sh
. "$HERE/../../scripts/lib.sh"
# shellcheck source-path=SCRIPTDIR source=tests/integration/lib/testlib.sh
. "$HERE/lib/testlib.sh"

[ $# -eq 1 ] || kiln_die "usage: $0 BUILD_DIR"
ADMIN=$(cd "$1" && pwd)/src/cli/kiln-admin
[ -x "$ADMIN" ] || {
	notok "kiln-admin is built ($ADMIN)"
	finish
}
T=$(mktemp -d /tmp/kiln-admin.XXXXXX) || kiln_die "mktemp failed"
trap 'rm -rf "$T"' EXIT

printf '{%% extends "base.html" %%}{%% block b %%}{%% for x in items %%}{{ x|upper }}-{%% endfor %%}|{{ when|date:"Y-m-d H:i" }}|{{ name }}{%% endblock %%}' >"$T/page.html"
printf '<{%% block b %%}{%% endblock %%}>' >"$T/base.html"
# shellcheck disable=SC2016 # a literal $datetime key
printf '{"items": ["a", "<b>"], "when": {"$datetime": "2024-03-05T14:07:09"}, "name": "<x>"}' >"$T/ctx.json"
printf '<A-&lt;B&gt;-|2024-03-05 14:07|&lt;x&gt;>' >"$T/want"

"$ADMIN" render page.html --dir "$T" --context "$T/ctx.json" >"$T/out" 2>"$T/err"
RC=$?
if [ $RC -eq 0 ] && cmp -s "$T/out" "$T/want" && [ ! -s "$T/err" ]; then
	ok "render writes exactly the rendered bytes ($(wc -c <"$T/out") bytes, datetime from \$datetime)"
else
	notok "render writes exactly the rendered bytes (exit $RC)"
	diag "got:  $(od -c "$T/out" | head -n 3)" "want: $(cat "$T/want")" "$(cat "$T/err")"
fi

printf 'x\n{%% if %%}' >"$T/bad.html"
"$ADMIN" render bad.html --dir "$T" --context "$T/ctx.json" >"$T/out" 2>"$T/err"
RC=$?
if [ $RC -ne 0 ] && [ ! -s "$T/out" ] && grep -q 'bad.html:2:' "$T/err"; then
	ok "a template error exits $RC with the place on stderr: $(head -c 120 "$T/err")"
else
	notok "a template error exits non-zero with the place on stderr (exit $RC)"
	diag "$(cat "$T/err")"
fi

printf '{"a": [1,' >"$T/badctx.json"
"$ADMIN" render page.html --dir "$T" --context "$T/badctx.json" >"$T/out" 2>"$T/err"
RC=$?
if [ $RC -ne 0 ] && [ ! -s "$T/out" ] && [ -s "$T/err" ]; then
	ok "a malformed context file exits $RC: $(head -c 120 "$T/err")"
else
	notok "a malformed context file exits non-zero with a message (exit $RC)"
fi

"$ADMIN" render missing.html --dir "$T" --context "$T/ctx.json" >"$T/out" 2>"$T/err"
RC=$?
if [ $RC -ne 0 ] && [ ! -s "$T/out" ] && grep -q 'missing.html' "$T/err"; then
	ok "a missing template exits $RC and names it"
else
	notok "a missing template exits non-zero and names it (exit $RC)"
fi

finish
