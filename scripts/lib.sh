# shellcheck shell=bash
#
# Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
#
# Shell functions shared by scripts/test, scripts/quickstart and the
# integration tests. Source it from bash:
#
#     . "$(dirname "$0")/lib.sh"        (from scripts/)
#
# What it provides:
#   need_packages PKG...        install the Debian packages that are missing
#                               (KILN_PACKAGES_RUN: build and run; KILN_PACKAGES:
#                               everything scripts/test needs)
#   kiln_build DIR FLAG...      configure (if needed) and make, out of tree
#   kiln_nginx_render ...       write a runnable nginx config into a run dir
#   kiln_spawn / kiln_stop      start a background process, stop it by pid
#   kiln_children PID           live (non-zombie) children of a process
#   kiln_free_port PORT         the first free loopback TCP port from PORT
#
# Processes are only ever signalled by the pid recorded when this shell
# started them, and only if that pid still names the same process (its
# start time is recorded too, so a recycled pid is never signalled).

# The repository root: the parent of the directory holding this file.
KILN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# What building Kiln and running the example site behind nginx need on
# Debian 12 (scripts/quickstart). gcc's libc6-dev is only a Recommends, so
# it is named explicitly (this installs with --no-install-recommends);
# libgcc-12-dev (pulled by gcc) brings ASan and UBSan. configure requires
# check. procps gives ps (the tests read /proc directly anyway).
# shellcheck disable=SC2034 # used by the scripts that source this file
KILN_PACKAGES_RUN=(
	gcc libc6-dev make autoconf automake libtool pkg-config
	libfcgi-dev libjansson-dev libpcre2-dev libinih-dev libssl-dev
	libhiredis-dev default-libmysqlclient-dev libsqlite3-dev
	check libsubunit-dev
	nginx curl procps
)

# Everything scripts/test needs as well: clang and libclang-rt-14-dev
# (libFuzzer), wrk (a bounded load, tests/integration/pool.sh),
# mariadb-server (a throwaway server in a temporary directory, mariadb.sh)
# and python3-django (the reference in django_diff.sh). Installing them
# starts no service (see need_packages).
# shellcheck disable=SC2034
KILN_PACKAGES=(
	"${KILN_PACKAGES_RUN[@]}"
	clang libclang-rt-14-dev
	wrk mariadb-server python3-django
)

kiln_log() {
	printf '%s\n' "$*" >&2
}

kiln_die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# True if the Debian package $1 is installed (dpkg's "install ok installed";
# a package removed with its config files left is "deinstall" and counts as
# missing).
kiln_pkg_installed() {
	local status
	status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
	[ "$status" = "install ok installed" ]
}

# need_packages PKG...
# Installs those of PKG... that dpkg does not list as installed, with
# apt-get (update once per process, then install --no-install-recommends),
# non-interactively. As root it runs apt-get itself; otherwise it uses sudo
# (sudo -n when there is no terminal to ask a password on). Package
# scripts are not allowed to start system services (nginx would otherwise
# start on port 80): while installing, a policy-rc.d that denies every
# start is put in place unless one exists already, and removed after.
# Set KILN_NO_INSTALL=1 to only report what is missing.
need_packages() {
	local missing=() p sudo=() rc=0 policy=/usr/sbin/policy-rc.d
	local policy_added=no

	command -v dpkg-query >/dev/null 2>&1 ||
		kiln_die "dpkg-query not found: these scripts need Debian 12 (bookworm)"
	for p in "$@"; do
		kiln_pkg_installed "$p" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	kiln_log "missing Debian packages: ${missing[*]}"
	if [ "${KILN_NO_INSTALL:-0}" = 1 ]; then
		kiln_log "KILN_NO_INSTALL=1: not installing; run: apt-get install ${missing[*]}"
		return 1
	fi
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 ||
			kiln_die "not root and no sudo: as root run: apt-get install ${missing[*]}"
		if [ -t 0 ]; then
			sudo=(sudo)
		else
			sudo=(sudo -n)
		fi
	fi
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# Added by Kiln scripts/lib.sh during apt-get install.\nexit 101\n' |
			"${sudo[@]}" tee "$policy" >/dev/null &&
			"${sudo[@]}" chmod 755 "$policy" && policy_added=yes
	fi
	if [ -z "${KILN_APT_UPDATED:-}" ]; then
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
			apt-get update -q </dev/null || rc=$?
		KILN_APT_UPDATED=1
	fi
	if [ $rc -eq 0 ]; then
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends \
			-o Dpkg::Options::=--force-confdef \
			-o Dpkg::Options::=--force-confold \
			"${missing[@]}" </dev/null || rc=$?
	fi
	if [ $policy_added = yes ]; then
		"${sudo[@]}" rm -f "$policy"
	fi
	[ $rc -eq 0 ] || kiln_log "apt-get failed (status $rc) installing: ${missing[*]}"
	return $rc
}

# Runs ./autogen.sh in the source tree when configure is missing or older
# than configure.ac, or Makefile.in is older than Makefile.am.
kiln_autogen_if_needed() {
	local r=$KILN_ROOT
	if [ ! -x "$r/configure" ] || [ "$r/configure.ac" -nt "$r/configure" ] ||
		[ ! -f "$r/Makefile.in" ] || [ "$r/Makefile.am" -nt "$r/Makefile.in" ]; then
		kiln_log "== autogen.sh (configure is missing or out of date)"
		(cd "$r" && ./autogen.sh) || return 1
	fi
}

# kiln_build DIR [CONFIGURE_FLAG...]
# Builds Kiln out of tree in DIR: autogen if needed, configure with the
# flags unless DIR is already configured with exactly these flags, then
# make. The flags used are recorded in DIR/.kiln-configure-flags.
# KILN_JOBS sets make's -j (default 2). Returns make's status.
kiln_build() {
	local dir=$1 flags
	shift
	flags="$*"
	kiln_autogen_if_needed || return 1
	mkdir -p "$dir" || return 1
	if [ ! -f "$dir/Makefile" ] || [ ! -f "$dir/.kiln-configure-flags" ] ||
		[ "$(cat "$dir/.kiln-configure-flags")" != "$flags" ]; then
		kiln_log "== configure $flags (in $dir)"
		rm -f "$dir/.kiln-configure-flags"
		(cd "$dir" && "$KILN_ROOT/configure" "$@") || return 1
		printf '%s' "$flags" >"$dir/.kiln-configure-flags"
	fi
	kiln_log "== make (in $dir)"
	make -C "$dir" -j"${KILN_JOBS:-2}"
}

# kiln_build_any DIR [CONFIGURE_FLAG...]
# Like kiln_build, but keeps any configuration DIR already has: for a
# caller that just needs a working build, whatever its flags.
kiln_build_any() {
	local dir=$1
	shift
	if [ -f "$dir/Makefile" ] && [ -f "$dir/.kiln-configure-flags" ]; then
		kiln_autogen_if_needed || return 1
		kiln_log "== make (in $dir, configured with: $(cat "$dir/.kiln-configure-flags"))"
		make -C "$dir" -j"${KILN_JOBS:-2}"
	else
		kiln_build "$dir" "$@"
	fi
}

# Escapes $1 for the replacement side of a sed s|...|...| command.
kiln_sed_escape() {
	printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'
}

# kiln_nginx_render PREFIX PORT SOCKET STATIC_DIR MEDIA_DIR [READ_TIMEOUT]
# Writes a complete nginx config for the directory PREFIX:
# PREFIX/nginx.conf (from nginx/site.conf.in), PREFIX/kiln_fastcgi_params,
# PREFIX/mime.types, and the logs/ and tmp/ folders every path in the
# config points into. Run it with kiln_nginx_start PREFIX.
# As root, the config names root as the worker user: nginx's workers would
# otherwise run as nobody, who cannot connect to the pool's 0660 socket or
# reach a checkout under /root. That is for a development or test run
# directory only; docs/deployment-nginx.md shows the production way.
kiln_nginx_render() {
	local prefix=$1 port=$2 sock=$3 static=$4 media=$5 rto=${6:-35s}
	local user_line v

	for v in "$prefix" "$sock" "$static" "$media"; do
		case $v in
		/*) ;;
		*) kiln_log "nginx config: path must be absolute: $v"; return 1 ;;
		esac
		# nginx would read these as quotes, variables or statement ends.
		case $v in
		*'"'* | *'$'* | *';'* | *'{'* | *'}'* | *$'\n'* | *\\*)
			kiln_log "nginx config: unsupported character in path: $v"
			return 1
			;;
		esac
	done
	case $port in
	'' | *[!0-9]*) kiln_log "nginx config: bad port: $port"; return 1 ;;
	esac
	if [ ${#sock} -ge 108 ]; then
		kiln_log "nginx config: socket path over 107 bytes: $sock"
		return 1
	fi
	if [ "$(id -u)" -eq 0 ]; then
		user_line="user root root;  # test/dev run dir only (see docs/deployment-nginx.md)"
	else
		user_line="# no user directive: nginx runs as $(id -un), who owns the pool's socket"
	fi
	mkdir -p "$prefix/logs" "$prefix/tmp" || return 1
	sed -e "s|@PREFIX@|$(kiln_sed_escape "$prefix")|g" \
		-e "s|@PORT@|$port|g" \
		-e "s|@SOCKET@|$(kiln_sed_escape "$sock")|g" \
		-e "s|@STATIC_DIR@|$(kiln_sed_escape "${static%/}")|g" \
		-e "s|@MEDIA_DIR@|$(kiln_sed_escape "${media%/}")|g" \
		-e "s|@FASTCGI_READ_TIMEOUT@|$(kiln_sed_escape "$rto")|g" \
		-e "s|@USER_LINE@|$(kiln_sed_escape "$user_line")|g" \
		"$KILN_ROOT/nginx/site.conf.in" >"$prefix/nginx.conf.tmp" || return 1
	if grep -n '@[A-Z_]*@' "$prefix/nginx.conf.tmp" >&2; then
		kiln_log "nginx config: placeholders left unreplaced (above)"
		return 1
	fi
	mv "$prefix/nginx.conf.tmp" "$prefix/nginx.conf" &&
		cp "$KILN_ROOT/nginx/kiln_fastcgi_params" "$prefix/kiln_fastcgi_params" &&
		cp /etc/nginx/mime.types "$prefix/mime.types"
}

# kiln_nginx_test PREFIX: nginx -t on a rendered config.
kiln_nginx_test() {
	nginx -q -t -p "$1" -c "$1/nginx.conf" -e stderr
}

# kiln_nginx_start PREFIX: starts nginx in the foreground of a background
# job (daemon off), its pid recorded in PREFIX/nginx.spawn.
kiln_nginx_start() {
	kiln_spawn "$1/nginx.spawn" "$1/logs/stderr.log" \
		nginx -p "$1" -c "$1/nginx.conf" -e stderr -g 'daemon off;'
}

# kiln_proc_field PID N: prints field N (N >= 3) of /proc/PID/stat.
# Field 2 (the command name) may hold spaces or parentheses, so the line
# is cut after its last ')'. Uses read, not cat: it is called in polls.
kiln_proc_field() {
	local n=$2 stat rest
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	rest=${stat##*) }
	# shellcheck disable=SC2086 # split the fields on purpose
	set -- $rest
	shift $((n - 3))
	printf '%s\n' "$1"
}

# Prints the start time of process $1 (clock ticks since boot).
kiln_proc_starttime() {
	kiln_proc_field "$1" 22
}

# Prints the state letter of process $1 (R, S, Z, ...).
kiln_proc_state() {
	kiln_proc_field "$1" 3
}

# Prints utime+stime of process $1 in clock ticks.
kiln_proc_cputicks() {
	local u s
	u=$(kiln_proc_field "$1" 14) || return 1
	s=$(kiln_proc_field "$1" 15) || return 1
	printf '%s\n' $((u + s))
}

# kiln_children PID: the pids of PID's live children (zombies excluded),
# one per line, in increasing order. Reads /proc, so it needs nothing
# installed (ps --ppid would list a killed, unreaped worker too).
kiln_children() {
	local want=$1 f stat rest state ppid pid pids=()
	for f in /proc/[0-9]*/stat; do
		read -r stat 2>/dev/null <"$f" || continue
		rest=${stat##*) }
		state=${rest%% *}
		rest=${rest#* }
		ppid=${rest%% *}
		pid=${f#/proc/}
		pid=${pid%/stat}
		# This function's own subshell (in $(...)) is not a child to list.
		if [ "$ppid" = "$want" ] && [ "$state" != Z ] &&
			[ "$pid" != "$BASHPID" ]; then
			pids+=("$pid")
		fi
	done
	[ ${#pids[@]} -eq 0 ] || printf '%s\n' "${pids[@]}" | sort -n
}

# kiln_spawn PIDFILE LOGFILE CMD [ARG...]
# Starts CMD in the background with stdout and stderr appended to LOGFILE
# ("-" keeps the caller's), and writes "PID STARTTIME" to PIDFILE.
kiln_spawn() {
	local pidfile=$1 log=$2 pid
	shift 2
	if [ "$log" = - ]; then
		"$@" </dev/null &
	else
		"$@" </dev/null >>"$log" 2>&1 &
	fi
	pid=$!
	printf '%s %s\n' "$pid" "$(kiln_proc_starttime "$pid")" >"$pidfile"
}

# Prints the pid in PIDFILE if that process still runs (the same process:
# its start time matches) and is not a zombie; fails otherwise.
kiln_spawned_pid() {
	local pid start now state
	[ -f "$1" ] || return 1
	read -r pid start <"$1" || return 1
	[ -n "$pid" ] || return 1
	now=$(kiln_proc_starttime "$pid") || return 1
	[ -z "$start" ] || [ "$now" = "$start" ] || return 1
	state=$(kiln_proc_state "$pid") || return 1
	[ "$state" != Z ] || return 1
	printf '%s\n' "$pid"
}

# kiln_stop PIDFILE [SIGNAL [TIMEOUT_SECONDS]]
# Stops the process recorded by kiln_spawn: sends SIGNAL (default TERM),
# waits up to TIMEOUT (default 10 s), then sends KILL to it and to the
# children it had (a prefork master's workers, which would otherwise be
# orphaned). Removes PIDFILE. Succeeds if nothing recorded still runs.
kiln_stop() {
	local pidfile=$1 sig=${2:-TERM} timeout=${3:-10} pid kids i
	pid=$(kiln_spawned_pid "$pidfile") || {
		rm -f "$pidfile"
		return 0
	}
	kids=$(kiln_children "$pid")
	kill -s "$sig" "$pid" 2>/dev/null
	for ((i = 0; i < timeout * 20; i++)); do
		kiln_spawned_pid "$pidfile" >/dev/null || break
		sleep 0.05
	done
	if kiln_spawned_pid "$pidfile" >/dev/null; then
		kiln_log "pid $pid did not stop on $sig within ${timeout}s: sending KILL"
		kill -s KILL "$pid" 2>/dev/null
		# shellcheck disable=SC2086 # one pid per word
		[ -n "$kids" ] && kill -s KILL $kids 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	rm -f "$pidfile"
	return 0
}

# kiln_port_in_use PORT: true if something accepts on 127.0.0.1:PORT.
kiln_port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# kiln_free_port [FIRST]: prints the first port from FIRST (default 8000)
# on which nothing listens on loopback, trying 200 ports.
kiln_free_port() {
	local p=${1:-8000} last
	last=$((p + 200))
	while [ "$p" -lt "$last" ]; do
		if ! kiln_port_in_use "$p"; then
			printf '%s\n' "$p"
			return 0
		fi
		p=$((p + 1))
	done
	return 1
}

# kiln_wait_for CMD...: runs CMD every 50 ms until it succeeds, for at
# most KILN_WAIT seconds (default 10). Fails on timeout.
kiln_wait_for() {
	local i
	for ((i = 0; i < ${KILN_WAIT:-10} * 20; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# Milliseconds since the epoch.
kiln_now_ms() {
	local ns
	ns=$(date +%s%N)
	printf '%s\n' $((ns / 1000000))
}

# kiln_site_db SITE SETTINGS DIR
# Prepares the example site's database: unless DATABASE_URL is set already
# (mysql://... for MariaDB), points it at DIR/site.sqlite3 and exports it;
# then applies the pending migrations and seeds an empty blog. The pool
# started afterwards inherits DATABASE_URL.
kiln_site_db() {
	local site=$1 settings=$2 dir=$3
	if [ -z "${DATABASE_URL:-}" ]; then
		DATABASE_URL=sqlite://$dir/site.sqlite3
		export DATABASE_URL
	fi
	"$site" --settings "$settings" migrate >/dev/null &&
		"$site" --settings "$settings" seed >/dev/null
}
