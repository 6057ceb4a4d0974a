#!/usr/bin/env bash
# Installs the command-line tools the tests call, on a machine that has only Go. Used by both
# .ci/run and `make test`, so the README's test command works on a fresh machine too:
#   curl     drives the README quickstart test
#   openssl  is the second certificate verifier
#   dig      (dnsutils) queries the embedded DNS server
#   chromium is the headless browser the web console test drives (test/console_e2e_test.go)
# PostgreSQL and step-ca are installed and started by .ci/postgres.sh and .ci/stepca.sh.
# Quiet when everything is present; apt-get runs only for what is missing.
set -euo pipefail
missing=()
for pair in curl:curl openssl:openssl dig:dnsutils chromium:chromium; do
	tool=${pair%%:*} pkg=${pair##*:}
	command -v "$tool" >/dev/null || missing+=("$pkg")
done
((${#missing[@]} == 0)) && exit 0
echo "setup.sh: installing ${missing[*]}" >&2
sudo=""
[[ $(id -u) == 0 ]] || sudo=sudo
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
