# polytrace — the two commands:
#   make quickstart   trace something real, receive it on an embedded OTLP receiver, show it
#   make test         everything CI runs
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(CURDIR)/target
export GOPATH ?= $(HOME)/go
export GOMODCACHE ?= $(GOPATH)/pkg/mod
export GOCACHE ?= $(GOPATH)/cache
export GOFLAGS ?= -mod=mod
export PATH := $(GOPATH)/bin:$(PATH)

.PHONY: quickstart test lint rust-test e2e bench fmt

quickstart:
	bash scripts/quickstart.sh

test: lint rust-test e2e

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

rust-test:
	cargo test --workspace --locked

e2e:
	bash tests/e2e/run.sh

bench:
	cargo bench -p polytrace-core

fmt:
	cargo fmt --all
