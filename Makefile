GO       ?= go
BIN      := bin/meshgate
EXAMPLES := examples/gateway
GATEWAY  := default/gateway-instance-1

.PHONY: build test run golden bench bench-scale lint fuzz

build:
	$(GO) build -o $(BIN) ./cmd/meshgate

# Vet, then every test under the race detector: most packages run servers, watchers or
# concurrent writers, and the whole suite takes about a minute on 2 cores once built. That is
# goldens, explain, CLI, README examples, store contract tests on SQLite and on a throwaway
# PostgreSQL, CA tests against a throwaway step-ca, and Kubernetes-mode tests against a
# throwaway kube-apiserver and etcd. The .ci scripts start them (installing or building them if
# missing: the first kube-apiserver build takes 8 to 14 minutes, then it is cached in $GOBIN)
# unless MESHGATE_TEST_POSTGRES / MESHGATE_TEST_STEPCA_URL / MESHGATE_TEST_KUBE_KUBECONFIG point
# at running ones.
test:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	./.ci/setup.sh
	pg="$${MESHGATE_TEST_POSTGRES:-$$(./.ci/postgres.sh start)}" || exit 1; \
	export MESHGATE_TEST_POSTGRES="$$pg"; \
	if [ -z "$$MESHGATE_TEST_STEPCA_URL" ]; then stepca="$$(./.ci/stepca.sh start)" || exit 1; eval "$$stepca"; fi; \
	if [ -z "$$MESHGATE_TEST_KUBE_KUBECONFIG" ] && [ "$$MESHGATE_SKIP_KUBE" != 1 ]; then kube="$$(./.ci/kube.sh start)" || exit 1; eval "$$kube"; fi; \
	$(GO) test -count=1 -timeout 20m -race ./...

# Serve the example gateway from the embedded store in ./meshgate-data (Ctrl-C stops it).
run: build
	./$(BIN) run --data-dir meshgate-data --resources $(EXAMPLES)

# Rewrite golden files after an intended change; review the diff before committing.
golden:
	$(GO) test ./xds/render/ -run TestGolden -update

# Rendering, xDS push convergence, issuance, cross-mesh fan-out and CA-switch re-issue; the DNS
# comparison with CoreDNS is dns/bench/compare.sh (needs dnsperf and coredns).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./xds/... ./ca/... | tee bench.txt
	$(GO) test -run '^$$' -bench Refresh -benchtime 20x -benchmem ./controlplane/ | tee -a bench.txt
	$(GO) test -run '^$$' -bench CrossMeshFanout -benchtime 3x ./test/ | tee -a bench.txt
	MESHGATE_SKIP_STEPCA=1 $(GO) test -run '^$$' -bench ReissueAfterSwitch -benchtime 3x ./ca/identity/ | tee -a bench.txt

# Scale (test/scale): `meshgate run` as a child process, one real ADS stream per dataplane over
# TCP from a separate process; time to full configuration, route and endpoint change p50/p99/max,
# RSS per dataplane, rebuild time. Scenarios gateway-replicas/n=1000, n=5000 and sidecars/n=5000
# take about 10 minutes on 2 cores; pick one with SCALE (`make bench-scale
# SCALE='Scale/gateway-replicas/n=1000$'`), or set MESHGATE_SCALE_N=200 for a quick run.
SCALE ?= Scale
bench-scale:
	@rc=$$(mktemp); trap 'rm -f "$$rc"' EXIT; \
	{ $(GO) test -run '^$$' -bench '$(SCALE)' -benchtime 1x -timeout 60m ./test/scale/; echo $$? >"$$rc"; } | tee bench-scale.txt; \
	exit $$(cat "$$rc")

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

# Every fuzz target in turn, $(FUZZTIME) each (`make fuzz FUZZTIME=10m`), with one worker: the
# machine is shared. A crash stops the run and leaves its input in the package's
# testdata/fuzz/<Target>/; commit it with the fix, and `go test` (so `make test`) replays it
# with the f.Add seeds from then on. Go 1.26's fuzzer can end a timed run with a bare "context
# deadline exceeded" and no input (go.dev/issue/75804, fixed in Go 1.27): that is not a crash,
# so only a failure that wrote an input, or any other failure, stops the run.
FUZZTIME ?= 30s
FUZZ_TARGETS := \
	./api/v1alpha1:FuzzDecode \
	./api/v1alpha1:FuzzDecodeKind \
	./model:FuzzBuild \
	./xds/render:FuzzValidate \
	./dns:FuzzServeDNS \
	./ca/tokens:FuzzVerify \
	./ca/tokens:FuzzAuthorization \
	./api/rest:FuzzWrite

fuzz:
	@log=$$(mktemp); trap 'rm -f "$$log" "$$log.rc"' EXIT; \
	for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; dir=$$pkg/testdata/fuzz/$$name; \
		echo "== $$name ($$pkg, $(FUZZTIME))"; \
		inputs=$$(ls "$$dir" 2>/dev/null | wc -l); \
		{ $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -parallel 1 $$pkg; echo $$? >"$$log.rc"; } 2>&1 | tee "$$log"; \
		[ "$$(cat "$$log.rc")" = 0 ] && continue; \
		if [ "$$(ls "$$dir" 2>/dev/null | wc -l)" = "$$inputs" ] && grep -q '^    context deadline exceeded$$' "$$log" && \
			! grep -q 'Failing input written' "$$log"; then \
			echo "== $$name: no crash (go.dev/issue/75804: the timed run ended mid-call)"; continue; \
		fi; \
		exit 1; \
	done
