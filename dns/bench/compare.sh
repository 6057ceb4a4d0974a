#!/usr/bin/env bash
# Loads meshgate's DNS server and CoreDNS (hosts plugin) with dnsperf on the
# same records over loopback UDP, one after the other with the same settings,
# and prints queries per second and lost queries for each.
# Usage: dns/bench/compare.sh [seconds] [names]   (from the repository root)
set -euo pipefail

secs=${1:-10}
names=${2:-1000}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

command -v dnsperf >/dev/null || bash "$root/.ci/dns-tools.sh"
coredns=$(command -v coredns || true)
if [[ -z $coredns ]]; then
	coredns="$(go env GOPATH)/bin/coredns"
	[[ -x $coredns ]] || (cd "$work" && GOFLAGS=-mod=mod go install github.com/coredns/coredns@v1.15.0)
fi
(cd "$root" && go build -o "$work/serve" ./dns/bench/serve)

for ((i = 0; i < names; i++)); do
	echo "240.0.$((i / 250)).$((i % 250 + 1)) svc-$i.mesh"
	echo "svc-$i.mesh A" >>"$work/queries"
done >"$work/hosts"

cat >"$work/Corefile" <<COREFILE
mesh:15353 {
	bind 127.0.0.1
	hosts $work/hosts {
		ttl 30
		no_reload
	}
}
COREFILE

wait_port() {
	for _ in $(seq 50); do
		dig +short +tries=1 +time=1 @127.0.0.1 -p "$1" svc-0.mesh A >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "server on port $1 did not answer" >&2
	return 1
}

perf() { # name port
	local out
	out=$(dnsperf -s 127.0.0.1 -p "$2" -d "$work/queries" -l "$secs" -c 8 -q 200 -t 2 2>&1)
	printf '%-9s qps=%s lost=%s\n' "$1" \
		"$(awk '/Queries per second/ {print $4}' <<<"$out")" \
		"$(awk '/Queries lost/ {print $3}' <<<"$out")"
}

"$work/serve" -addr 127.0.0.1:15354 -hosts "$work/hosts" &
pids+=($!)
wait_port 15354
perf meshgate 15354

"$coredns" -conf "$work/Corefile" -quiet &
pids+=($!)
wait_port 15353
perf coredns 15353
