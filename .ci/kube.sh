#!/usr/bin/env bash
# Throwaway Kubernetes API server (kube-apiserver + etcd) on loopback for the Kubernetes-mode
# tests of issue 13. No kubelet, scheduler or controller-manager: pods never run, so tests create
# Pod objects and set status.podIP themselves.
#   .ci/kube.sh build   build kube-apiserver and etcd into $GOBIN if missing (8 to 14 min cold)
#   .ci/kube.sh start   start one (or reuse the one already running) and print `export` lines
#   .ci/kube.sh stop    stop it and remove its state
#   .ci/kube.sh url     print the API server URL of the running one, fail if none
# stdout carries only the export lines (start) or the URL (url), so `eval "$(.ci/kube.sh start)"`
# works; everything else goes to stderr. State lives in $MESHGATE_KUBE_STATE
# (default /tmp/meshgate-test-kube); the first port tried is $MESHGATE_KUBE_PORT (default 56443).
#
# `start` exports:
#   KUBECONFIG                        a kubeconfig for the admin user (token auth, the server's CA)
#   MESHGATE_TEST_KUBE_URL            https://127.0.0.1:PORT of the API server
#   MESHGATE_TEST_KUBE_TOKEN          the admin's bearer token (group system:masters)
#   MESHGATE_TEST_KUBE_CA_FILE        the CA that signed the API server's serving certificate
#   MESHGATE_TEST_KUBE_KUBECONFIG     the same file as KUBECONFIG (tests should read this one)
#   MESHGATE_TEST_KUBE_ETCD_URL       etcd's client URL (for tests that need to look underneath)
#   KUBEBUILDER_ASSETS                the directory holding kube-apiserver and etcd (envtest)
#
# .ci/run starts it (building it once per machine) and stops it at exit; `make test` starts it
# unless MESHGATE_TEST_KUBE_KUBECONFIG is set. Tests get their clients from test/kubetest, which
# fails without the server unless MESHGATE_SKIP_KUBE=1.
set -euo pipefail

STATE=${MESHGATE_KUBE_STATE:-/tmp/meshgate-test-kube}
FIRST_PORT=${MESHGATE_KUBE_PORT:-56443}
# Pinned: the versions issue 13 verified to build from the module proxy with our Go.
KUBE_VERSION=v1.37.2
KUBE_STAGING_VERSION=v0.37.2
ETCD_VERSION=v3.6.17
# k8s.io/kubernetes's go.mod replaces these with ./staging, which its module zip lacks; the scratch
# module replaces each with its published copy instead. (sample-cli-plugin and sample-controller
# are not published and not needed.)
KUBE_STAGING="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
cri-client cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice externaljwt
kms kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
mount-utils pod-security-admission sample-apiserver streaming"
# etcd's server/go.mod replaces these with ../, likewise.
ETCD_STAGING="api/v3 client/pkg/v3 client/v3 pkg/v3"
ADMIN_USER=meshgate-test-admin

log() { echo "kube.sh: $*" >&2; }
die() { log "$*"; exit 1; }

command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || die "go is not on PATH"
GOBIN=$(go env GOPATH)/bin
APISERVER=$GOBIN/kube-apiserver
ETCD=$GOBIN/etcd

# built_version BINARY MODULE prints the version of MODULE the binary was built with (a dep of
# the scratch module, so a `dep` line of `go version -m`).
built_version() {
	[ -x "$1" ] || return 0
	go version -m "$1" 2>/dev/null | awk -v m="$2" '($1 == "dep" || $1 == "mod") && $2 == m { print $3; exit }'
}

# scratch_build DIR OUT PACKAGE LDFLAGS MODULE VERSION [REPLACE_MODULE REPLACE_VERSION]... builds
# PACKAGE in a throwaway module in DIR that requires MODULE@VERSION with the given replaces, and
# moves the binary to OUT only once it is complete.
scratch_build() {
	local dir=$1 out=$2 pkg=$3 ldflags=$4 mod=$5 version=$6
	shift 6
	mkdir -p "$dir"
	{
		echo "module meshgate.test/scratch"
		echo
		echo "go $(go env GOVERSION | sed 's/^go//')"
		echo
		echo "require $mod $version"
		echo
		echo "replace ("
		while [ $# -gt 0 ]; do
			echo "	$1 => $1 $2"
			shift 2
		done
		echo ")"
	} >"$dir/go.mod"
	# GOTOOLCHAIN=local: build with the installed Go rather than fetching another toolchain.
	# -mod=mod: the scratch module has no go.sum yet; the proxy's checksum database checks it.
	(cd "$dir" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -trimpath \
		-ldflags "$ldflags" -o "$out.tmp" "$pkg" >&2)
	mv "$out.tmp" "$out"
}

build_apiserver() {
	[ "$(built_version "$APISERVER" k8s.io/kubernetes)" = "$KUBE_VERSION" ] && return 0
	local start m minor replaces=()
	start=$(date +%s)
	log "building kube-apiserver $KUBE_VERSION into $GOBIN (6 to 12 min with cold Go caches on 2 busy cores)"
	for m in $KUBE_STAGING; do replaces+=("k8s.io/$m" "$KUBE_STAGING_VERSION"); done
	minor=$(cut -d. -f2 <<<"$KUBE_VERSION")
	# Without these the server reports a dev version (v0.0.0-master), which clients reject.
	local v=k8s.io/component-base/version
	local ldflags="-s -w -X $v.gitVersion=$KUBE_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor"
	ldflags+=" -X $v.gitTreeState=clean -X $v.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	scratch_build "$WORK/kube" "$APISERVER" k8s.io/kubernetes/cmd/kube-apiserver "$ldflags" \
		k8s.io/kubernetes "$KUBE_VERSION" "${replaces[@]}"
	log "built kube-apiserver in $(($(date +%s) - start)) s"
}

build_etcd() {
	[ "$(built_version "$ETCD" go.etcd.io/etcd/server/v3)" = "$ETCD_VERSION" ] && return 0
	local start m replaces=()
	start=$(date +%s)
	log "building etcd $ETCD_VERSION into $GOBIN (about 2 min with cold Go caches on 2 cores)"
	for m in $ETCD_STAGING; do replaces+=("go.etcd.io/etcd/$m" "$ETCD_VERSION"); done
	scratch_build "$WORK/etcd" "$ETCD" go.etcd.io/etcd/server/v3 "-s -w" \
		go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "${replaces[@]}"
	log "built etcd in $(($(date +%s) - start)) s"
}

build() {
	mkdir -p "$GOBIN"
	WORK=$(mktemp -d)
	trap 'rm -rf "$WORK"' EXIT
	build_etcd
	build_apiserver
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port FROM prints the first port from FROM on that nothing listens on.
free_port() {
	local port=$1 tries=0
	while port_in_use "$port"; do
		tries=$((tries + 1))
		[ "$tries" -le 100 ] || die "no free port from $1 on"
		port=$((port + 1))
	done
	echo "$port"
}

# alive NAME: the process whose pid is in $STATE/NAME.pid runs the binary NAME.
alive() {
	local pid f=$STATE/$1.pid
	[ -f "$f" ] || return 1
	pid=$(cat "$f")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q "$1" "/proc/$pid/cmdline" 2>/dev/null
}

# ready URL: the API server answers /readyz with ok to the admin.
ready() {
	[ "$(curl -fsS --max-time 5 --cacert "$STATE/pki/ca.crt" \
		-H "Authorization: Bearer $(cat "$STATE/admin.token")" "$1/readyz" 2>/dev/null)" = ok ]
}

env_value() { sed -n "s/^export $1=//p" "$ENV_FILE" | tr -d "'"; }

running_env() {
	[ -f "$ENV_FILE" ] && alive etcd && alive kube-apiserver || return 1
	local url
	url=$(env_value MESHGATE_TEST_KUBE_URL)
	ready "$url" || return 1
	log "reusing the API server at $url (pid $(cat "$STATE/kube-apiserver.pid"), state $STATE)"
	cat "$ENV_FILE"
}

stop_one() {
	alive "$1" || return 0
	local pid i
	pid=$(cat "$STATE/$1.pid")
	kill "$pid" 2>/dev/null || true
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
}

stop_kube() {
	# The API server first: it would log etcd errors until it exits.
	stop_one kube-apiserver
	stop_one etcd
	rm -rf "$STATE"
}

# make_pki writes a CA, the API server's serving certificate for 127.0.0.1 and localhost, the
# service-account signing key pair and the admin token. All fresh each start: nothing here
# outlives the test run.
make_pki() {
	local pki=$STATE/pki
	mkdir -m 0700 "$pki"
	if ! {
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
			-subj /CN=meshgate-test-kube-ca -keyout "$pki/ca.key" -out "$pki/ca.crt" &&
			openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
				-subj /CN=kube-apiserver -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" &&
			printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' \
				>"$pki/apiserver.ext" &&
			openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
				-CAcreateserial -days 7 -extfile "$pki/apiserver.ext" -out "$pki/apiserver.crt" &&
			openssl genrsa -out "$pki/sa.key" 2048 &&
			openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub"
	} >"$STATE/pki.log" 2>&1; then
		cat "$STATE/pki.log" >&2
		die "making the test PKI with openssl failed"
	fi
	(umask 077 && head -c 32 /dev/urandom | base64 | tr -d '\n/+=' >"$STATE/admin.token")
	# token,user,uid,"groups": system:masters passes every authorization check.
	(umask 077 && printf '%s,%s,%s,"system:masters"\n' "$(cat "$STATE/admin.token")" "$ADMIN_USER" "$ADMIN_USER" \
		>"$pki/tokens.csv")
}

# wait_for NAME PID SECONDS CHECK...: runs CHECK until it succeeds; fails if NAME dies first
# (it lost a port) or after SECONDS.
wait_for() {
	local name=$1 pid=$2 secs=$3 i
	shift 3
	for i in $(seq $((secs * 5))); do
		if ! kill -0 "$pid" 2>/dev/null; then
			log "$name exited:"
			tail -n 5 "$STATE/$name.log" >&2 || true
			return 1
		fi
		"$@" && return 0
		sleep 0.2
	done
	tail -n 20 "$STATE/$name.log" >&2 || true
	die "$name did not become ready in $secs s; see $STATE/$name.log"
}

etcd_healthy() { curl -fsS --max-time 2 "$1/health" 2>/dev/null | grep -q '"health":"true"'; }

# launch_etcd CLIENT_PORT PEER_PORT starts etcd on loopback; data is disposable (no fsync).
launch_etcd() {
	local client=http://127.0.0.1:$1 peer=http://127.0.0.1:$2 pid
	rm -rf "$STATE/etcd-data"
	# 9>&-: the server must not inherit the lock, or the next call would wait for it forever.
	# </dev/null and the log: it must not hold the caller's stdout, which `$(...)` waits on.
	"$ETCD" --name meshgate-test --data-dir "$STATE/etcd-data" \
		--listen-client-urls "$client" --advertise-client-urls "$client" \
		--listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
		--initial-cluster "meshgate-test=$peer" --unsafe-no-fsync --log-level warn \
		</dev/null >"$STATE/etcd.log" 2>&1 9>&- &
	pid=$!
	echo "$pid" >"$STATE/etcd.pid"
	wait_for etcd "$pid" 30 etcd_healthy "$client"
}

# launch_apiserver PORT ETCD_URL starts kube-apiserver on loopback and waits for /readyz.
launch_apiserver() {
	local port=$1 url=https://127.0.0.1:$1 pki=$STATE/pki pid
	# --endpoint-reconciler-type=none: on loopback the default reconciler refuses 127.0.0.1 as
	# the kubernetes Service's endpoint. RBAC, so tests see the permissions meshgate's manifests
	# grant; the admin token is in system:masters. The ServiceAccount admission plugin stays on:
	# with no controller-manager there is no "default" ServiceAccount, so a test creates the
	# ServiceAccount its pods name.
	"$APISERVER" --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$port" \
		--etcd-servers "$2" \
		--tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
		--client-ca-file "$pki/ca.crt" \
		--token-auth-file "$pki/tokens.csv" \
		--service-account-issuer "$url" \
		--service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
		--service-cluster-ip-range 10.96.0.0/16 \
		--authorization-mode RBAC \
		--endpoint-reconciler-type none \
		--allow-privileged=true \
		--profiling=false \
		</dev/null >"$STATE/kube-apiserver.log" 2>&1 9>&- &
	pid=$!
	echo "$pid" >"$STATE/kube-apiserver.pid"
	wait_for kube-apiserver "$pid" 120 ready "$url"
}

write_kubeconfig() {
	local url=$1
	(umask 077 && cat >"$STATE/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: meshgate-test
  cluster:
    server: $url
    certificate-authority: $STATE/pki/ca.crt
users:
- name: $ADMIN_USER
  user:
    token: $(cat "$STATE/admin.token")
contexts:
- name: meshgate-test
  context:
    cluster: meshgate-test
    user: $ADMIN_USER
current-context: meshgate-test
KUBECONFIG
	)
}

start_kube() {
	stop_kube
	mkdir -p "$STATE"
	chmod 0700 "$STATE"
	make_pki

	local started=$(date +%s) port=$FIRST_PORT tries=0 api etcd_client etcd_peer
	while :; do
		tries=$((tries + 1))
		[ "$tries" -le 10 ] || die "could not start etcd and kube-apiserver from port $FIRST_PORT on"
		api=$(free_port "$port")
		etcd_client=$(free_port $((api + 1)))
		etcd_peer=$(free_port $((etcd_client + 1)))
		port=$((etcd_peer + 1))
		if ! launch_etcd "$etcd_client" "$etcd_peer"; then
			log "etcd did not start on ports $etcd_client/$etcd_peer; trying the next ones"
			continue
		fi
		launch_apiserver "$api" "http://127.0.0.1:$etcd_client" && break
		log "kube-apiserver did not start on port $api; trying the next ones"
		stop_one etcd
	done

	local url=https://127.0.0.1:$api
	write_kubeconfig "$url"
	{
		printf 'export KUBECONFIG=%q\n' "$STATE/kubeconfig"
		printf 'export KUBEBUILDER_ASSETS=%q\n' "$GOBIN"
		printf 'export MESHGATE_TEST_KUBE_URL=%q\n' "$url"
		printf 'export MESHGATE_TEST_KUBE_TOKEN=%q\n' "$(cat "$STATE/admin.token")"
		printf 'export MESHGATE_TEST_KUBE_CA_FILE=%q\n' "$STATE/pki/ca.crt"
		printf 'export MESHGATE_TEST_KUBE_KUBECONFIG=%q\n' "$STATE/kubeconfig"
		printf 'export MESHGATE_TEST_KUBE_ETCD_URL=%q\n' "http://127.0.0.1:$etcd_client"
	} >"$ENV_FILE"
	log "started kube-apiserver $KUBE_VERSION at $url with etcd $ETCD_VERSION at 127.0.0.1:$etcd_client in $(($(date +%s) - started)) s (state $STATE)"
	cat "$ENV_FILE"
}

ENV_FILE=$STATE/env

cmd=${1:-}
case "$cmd" in
build | start | stop | url) ;;
*) die "usage: $0 build|start|stop|url" ;;
esac

if [ "$cmd" = build ] || [ "$cmd" = start ]; then
	# One build at a time per $GOBIN, whatever the state directory.
	mkdir -p "$GOBIN"
	exec 8>"$GOBIN/.meshgate-kube-build.lock"
	flock 8
	build
	exec 8>&-
	[ "$cmd" = build ] && exit 0
fi

command -v curl >/dev/null || die "curl is missing; run .ci/setup.sh"
command -v openssl >/dev/null || die "openssl is missing; run .ci/setup.sh"
mkdir -p "$(dirname "$STATE")"
# Serialise concurrent calls (two test runs starting at once) on one lock.
exec 9>"$STATE.lock"
flock 9

case "$cmd" in
start)
	running_env || start_kube
	;;
stop)
	stop_kube
	log "stopped"
	;;
url)
	running_env >/dev/null || die "not running; start it with: $0 start"
	env_value MESHGATE_TEST_KUBE_URL
	;;
esac
