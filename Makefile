GO       ?= go
BIN      := bin/meshgate
EXAMPLES := examples/gateway
GATEWAY  := default/gateway-instance-1

.PHONY: build test run golden bench lint

build:
	$(GO) build -o $(BIN) ./cmd/meshgate

# Vet, then every test. Golden, explain, CLI and README-example tests run here too.
test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# Render the example gateway and ask it the seed's two questions.
run: build
	./$(BIN) validate -f $(EXAMPLES)
	./$(BIN) render -f $(EXAMPLES) --dataplane $(GATEWAY)
	./$(BIN) explain -f $(EXAMPLES) --dataplane $(GATEWAY) --port 8080 --host foo.example.com --path /api/foo
	./$(BIN) explain -f $(EXAMPLES) --dataplane $(GATEWAY) --port 8080 --host foo.example.com --path /asset

# Rewrite golden files after an intended change; review the diff before committing.
golden:
	$(GO) test ./xds/render/ -run TestGolden -update

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./xds/... | tee bench.txt

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
