# polytrace — the commands:
#   make demo         the polyglot demo: five services in four languages, one trace per order
#                     (PIPELINE=full: through the Collector, Kafka and Jaeger)
#   make quickstart   trace something real, receive it on an embedded OTLP receiver, show it
#   make test         everything CI runs
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(CURDIR)/target
export GOPATH ?= $(HOME)/go
export GOMODCACHE ?= $(GOPATH)/pkg/mod
export GOCACHE ?= $(GOPATH)/cache
export GOFLAGS ?= -mod=mod
export PATH := $(GOPATH)/bin:$(PATH)

.PHONY: demo quickstart test setup lint rust-test c-test python-test node-test java-test erlang-test fuzz-test e2e demo-test bench fmt

demo:
	bash examples/polyglot-demo/run.sh

quickstart:
	bash scripts/quickstart.sh

test: setup lint rust-test c-test python-test node-test java-test erlang-test fuzz-test e2e demo-test

setup:
	bash scripts/setup.sh

lint:
	cargo fmt --all -- --check
	cargo fmt --manifest-path fuzz/Cargo.toml -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

rust-test:
	cargo test --workspace --locked --no-fail-fast

c-test:
	bash bindings/c/test.sh

python-test:
	bash bindings/python/test.sh

node-test:
	bash bindings/node/test.sh

java-test:
	bash bindings/java/test.sh

erlang-test:
	bash bindings/erlang/test.sh

# Every cargo-fuzz target for 15 s (docs/reliability.md); FUZZ_SECONDS=600 for a longer run.
fuzz-test:
	bash fuzz/run.sh $${FUZZ_SECONDS:-15}

e2e:
	bash tests/e2e/run.sh

demo-test:
	bash tests/e2e/demo.sh

bench:
	cargo bench -p polytrace-core --bench spans

fmt:
	cargo fmt --all
	cargo fmt --manifest-path fuzz/Cargo.toml
