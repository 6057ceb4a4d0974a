#!/usr/bin/env bash
# Throwaway step-ca on loopback for the ca/stepca tests.
#   .ci/stepca.sh start   start one (or reuse the one already running) and print `export` lines
#   .ci/stepca.sh stop    stop it and remove its state
#   .ci/stepca.sh env     print the `export` lines of the running one, fail if none
# stdout carries only the export lines, so `eval "$(.ci/stepca.sh start)"` works; everything
# else goes to stderr. It exports MESHGATE_TEST_STEPCA_URL, _FINGERPRINT, _PROVISIONER and
# _PASSWORD_FILE. step-ca and the step CLI are installed with `go install` when missing.
set -euo pipefail

STATE=${MESHGATE_STEPCA_STATE:-/tmp/meshgate-test-stepca}
FIRST_PORT=${MESHGATE_STEPCA_PORT:-59443}
# v0.30.2 is asked for by name: @latest resolves to an old release of both modules.
STEPCA_VERSION=v0.30.2
STEP_VERSION=v0.30.2
PROVISIONER=meshgate
# Explicit claims, so the tests can see the provisioner advertise its maximum and the backend
# cap a longer request at it; the default stays step-ca's 24 h.
MAX_DUR=48h
DEFAULT_DUR=24h

STEPPATH=$STATE/step
ENV_FILE=$STATE/env
PID_FILE=$STATE/pid
LOG=$STATE/step-ca.log
export STEPPATH

log() { echo "stepca.sh: $*" >&2; }
die() { log "$*"; exit 1; }

command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || die "go is not on PATH"
GOBIN=$(go env GOPATH)/bin
STEP=$GOBIN/step
STEPCA=$GOBIN/step-ca

# installed_version BINARY MODULE prints the version of MODULE the binary was built from.
installed_version() {
	[ -x "$1" ] || return 0
	go version -m "$1" 2>/dev/null | awk -v m="$2" '$1 == "mod" && $2 == m { print $3 }'
}

# ensure BINARY MODULE VERSION PACKAGE installs PACKAGE@VERSION unless BINARY already is it.
ensure() {
	local bin=$1 mod=$2 version=$3 pkg=$4 start
	[ "$(installed_version "$bin" "$mod")" = "$version" ] && return 0
	log "installing $pkg@$version into $GOBIN (about 1.5 min with cold Go caches on 2 cores)"
	start=$(date +%s)
	# GOTOOLCHAIN=local: build with the installed Go rather than fetching another toolchain.
	CGO_ENABLED=0 GOTOOLCHAIN=local GOBIN=$GOBIN go install "$pkg@$version" >&2
	log "installed $(basename "$bin") in $(($(date +%s) - start)) s"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

alive() {
	local pid
	[ -f "$PID_FILE" ] || return 1
	pid=$(cat "$PID_FILE")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q step-ca "/proc/$pid/cmdline" 2>/dev/null
}

healthy() {
	"$STEP" ca health --ca-url "$1" --root "$STEPPATH/certs/root_ca.crt" >/dev/null 2>&1
}

running_env() {
	[ -f "$ENV_FILE" ] && alive || return 1
	local url
	url=$(sed -n "s/^export MESHGATE_TEST_STEPCA_URL=//p" "$ENV_FILE" | tr -d "'")
	healthy "$url" || return 1
	log "reusing the step-ca at $url (pid $(cat "$PID_FILE"))"
	cat "$ENV_FILE"
}

stop_ca() {
	if alive; then
		local pid i
		pid=$(cat "$PID_FILE")
		kill "$pid" 2>/dev/null || true
		for i in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -rf "$STATE"
}

# init_ca PORT makes a fresh CA whose address is 127.0.0.1:PORT.
init_ca() {
	local port=$1
	rm -rf "$STEPPATH"
	if ! "$STEP" ca init --deployment-type standalone --name meshgate-test \
		--dns 127.0.0.1 --address "127.0.0.1:$port" --provisioner "$PROVISIONER" \
		--password-file "$STATE/ca.pass" --provisioner-password-file "$STATE/provisioner.pass" \
		>"$STATE/init.log" 2>&1; then
		cat "$STATE/init.log" >&2
		die "step ca init failed"
	fi
	# Offline edit of ca.json: the CA is not running yet and has no remote management.
	if ! "$STEP" ca provisioner update "$PROVISIONER" --x509-max-dur "$MAX_DUR" --x509-default-dur "$DEFAULT_DUR" \
		--ca-config "$STEPPATH/config/ca.json" >>"$STATE/init.log" 2>&1; then
		cat "$STATE/init.log" >&2
		die "setting the provisioner's claims failed"
	fi
}

# launch PORT starts step-ca and waits for /health; fails if it dies first (lost the port).
launch() {
	local port=$1 url="https://127.0.0.1:$1" pid i
	# 9>&-: the server must not inherit the lock, or the next call would wait for it forever.
	# </dev/null and the log: it must not hold the caller's stdout, which `$(...)` waits on.
	"$STEPCA" "$STEPPATH/config/ca.json" --password-file "$STATE/ca.pass" \
		</dev/null >"$LOG" 2>&1 9>&- &
	pid=$!
	echo "$pid" >"$PID_FILE"
	for i in $(seq 150); do
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 5 "$LOG" >&2 || true
			return 1
		fi
		healthy "$url" && return 0
		sleep 0.2
	done
	tail -n 20 "$LOG" >&2 || true
	die "step-ca on $url did not answer /health in 30 s; see $LOG"
}

start_ca() {
	stop_ca
	mkdir -p "$STATE"
	chmod 0700 "$STATE"
	# Fresh random passwords each time: nothing here outlives the test run.
	(umask 077 && head -c 32 /dev/urandom | base64 | tr -d '\n' >"$STATE/ca.pass")
	(umask 077 && head -c 32 /dev/urandom | base64 | tr -d '\n' >"$STATE/provisioner.pass")

	local port=$FIRST_PORT tries=0
	while :; do
		tries=$((tries + 1))
		[ "$tries" -le 20 ] || die "no free port from $FIRST_PORT on"
		if port_in_use "$port"; then
			port=$((port + 1))
			continue
		fi
		init_ca "$port"
		launch "$port" && break
		log "step-ca did not start on port $port; trying the next one"
		port=$((port + 1))
	done

	local url="https://127.0.0.1:$port" fp
	fp=$("$STEP" certificate fingerprint "$STEPPATH/certs/root_ca.crt")
	{
		printf 'export MESHGATE_TEST_STEPCA_URL=%q\n' "$url"
		printf 'export MESHGATE_TEST_STEPCA_FINGERPRINT=%q\n' "$fp"
		printf 'export MESHGATE_TEST_STEPCA_PROVISIONER=%q\n' "$PROVISIONER"
		printf 'export MESHGATE_TEST_STEPCA_PASSWORD_FILE=%q\n' "$STATE/provisioner.pass"
	} >"$ENV_FILE"
	log "started step-ca $STEPCA_VERSION at $url (pid $(cat "$PID_FILE"), state $STATE, log $LOG)"
	cat "$ENV_FILE"
}

cmd=${1:-}
case "$cmd" in
start | stop | env) ;;
*) die "usage: $0 start|stop|env" ;;
esac

mkdir -p "$(dirname "$STATE")"
# Serialise concurrent calls (two test runs starting at once) on one lock.
exec 9>"$STATE.lock"
flock 9

case "$cmd" in
start)
	ensure "$STEPCA" github.com/smallstep/certificates "$STEPCA_VERSION" github.com/smallstep/certificates/cmd/step-ca
	ensure "$STEP" github.com/smallstep/cli "$STEP_VERSION" github.com/smallstep/cli/cmd/step
	running_env || start_ca
	;;
stop)
	stop_ca
	log "stopped"
	;;
env)
	[ -x "$STEP" ] || die "step CLI not installed; start with: $0 start"
	running_env || die "not running; start it with: $0 start"
	;;
esac
