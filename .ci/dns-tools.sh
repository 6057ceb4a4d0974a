#!/usr/bin/env bash
# Installs the DNS client tools the dns/ tests and benchmarks call: dig
# (dnsutils) for TestDig, dnsperf for dns/bench/compare.sh.
set -euo pipefail
missing=()
command -v dig >/dev/null || missing+=(dnsutils)
command -v dnsperf >/dev/null || missing+=(dnsperf)
((${#missing[@]} == 0)) && exit 0
sudo=""
[[ $(id -u) == 0 ]] || sudo=sudo
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
