#!/usr/bin/env bash
# Throwaway PostgreSQL for the store tests.
#   .ci/postgres.sh start   start one (or reuse the one already running) and print its URL
#   .ci/postgres.sh stop    stop it and remove its data
#   .ci/postgres.sh url     print the URL of the running one, fail if none
#   .ci/postgres.sh pause   stop it, keeping its data and port (an outage, for tests)
#   .ci/postgres.sh resume  start a paused one again on the same data and port, print its URL
# stdout carries only the URL, so `export MESHGATE_TEST_POSTGRES=$(.ci/postgres.sh start)`
# works; everything else goes to stderr. Data is disposable: fsync is off.
set -euo pipefail

STATE=${MESHGATE_PG_STATE:-/tmp/meshgate-test-pg}
DATA=$STATE/data
URL_FILE=$STATE/url
FIRST_PORT=${MESHGATE_PG_PORT:-55432}

log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# PostgreSQL refuses to run as root, so root runs it as the postgres user; anyone else runs
# it as themselves.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

find_bindir() {
	local d
	for d in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return 0
		fi
	done
	if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
		dirname "$(command -v initdb)"
		return 0
	fi
	return 1
}

install_postgres() {
	[ "$(id -u)" = 0 ] || die "PostgreSQL is not installed; run: sudo apt-get install -y postgresql"
	log "PostgreSQL not found; installing it with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	apt-get install -y postgresql >&2
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_url() {
	[ -f "$URL_FILE" ] && [ -f "$DATA/postmaster.pid" ] || return 1
	local url port
	url=$(cat "$URL_FILE")
	port=$(sed -n 's#.*@127\.0\.0\.1:\([0-9]*\)/.*#\1#p' <<<"$url")
	[ -n "$port" ] && "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" -t 5 || return 1
	echo "$url"
}

server_opts() {
	echo "-c listen_addresses=127.0.0.1 -p $1 -c unix_socket_directories='' -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
}

# pause stops the server as an operator's restart does (clients are disconnected) and keeps its
# data and URL; resume starts it again on the same port.
pause_cluster() {
	[ -f "$DATA/postmaster.pid" ] || die "not running; nothing to pause"
	as_pg "$BINDIR/pg_ctl" -D "$DATA" -m fast -w stop >&2
}

resume_cluster() {
	[ -f "$URL_FILE" ] && [ -d "$DATA" ] || die "nothing paused in $STATE; start one with: $0 start"
	local url port
	url=$(cat "$URL_FILE")
	port=$(sed -n 's#.*@127\.0\.0\.1:\([0-9]*\)/.*#\1#p' <<<"$url")
	as_pg "$BINDIR/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 -o "$(server_opts "$port")" start >&2 9>&-
	"$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" -t 60 || die "PostgreSQL on port $port is not ready; see $DATA/server.log"
	echo "$url"
}

stop_cluster() {
	if [ -f "$DATA/postmaster.pid" ]; then
		as_pg "$BINDIR/pg_ctl" -D "$DATA" -m immediate -w stop >&2 || true
	fi
	rm -rf "$STATE/data" "$URL_FILE"
}

start_cluster() {
	stop_cluster
	mkdir -p "$STATE"
	chmod 0755 "$STATE"
	mkdir -m 0700 "$DATA"
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
		chown postgres: "$DATA"
	fi
	if ! as_pg "$BINDIR/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync \
		>"$STATE/initdb.log" 2>&1; then
		cat "$STATE/initdb.log" >&2
		die "initdb failed"
	fi

	local port=$FIRST_PORT tries=0
	while :; do
		tries=$((tries + 1))
		[ "$tries" -le 50 ] || die "no free port from $FIRST_PORT on"
		if port_in_use "$port"; then
			port=$((port + 1))
			continue
		fi
		# No unix socket: /var/run/postgresql may not exist or belong to someone else. 9>&-:
		# the server must not inherit the lock, or the next call would wait for it forever.
		if as_pg "$BINDIR/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 \
			-o "$(server_opts "$port")" \
			start >&2 9>&-; then
			break
		fi
		# Lost a race for the port (or a real failure, which the log shows on the next try).
		tail -n 5 "$DATA/server.log" >&2 || true
		port=$((port + 1))
	done
	"$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" -t 60 || die "PostgreSQL on port $port is not ready; see $DATA/server.log"
	echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable" >"$URL_FILE"
	log "started PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data $DATA)"
	cat "$URL_FILE"
}

cmd=${1:-}
case "$cmd" in
start | stop | url | pause | resume) ;;
*) die "usage: $0 start|stop|url|pause|resume" ;;
esac

BINDIR=$(find_bindir) || { install_postgres; BINDIR=$(find_bindir) || die "initdb not found after installing postgresql"; }

mkdir -p "$STATE"
# Serialise concurrent calls (two test runs starting at once) on one lock.
exec 9>"$STATE.lock"
flock 9

case "$cmd" in
start)
	running_url || start_cluster
	;;
stop)
	stop_cluster
	log "stopped"
	;;
url)
	running_url || die "not running; start it with: $0 start"
	;;
pause)
	pause_cluster
	log "paused (data kept in $DATA)"
	;;
resume)
	running_url || resume_cluster
	;;
esac
