#!/usr/bin/env bash
# The Erlang benchmark: builds the NIF and the CLI (release), compiles the application and this
# module, and runs polytrace_bench (see its header). Arguments go to it:
#
#   bash bench/erlang/run.sh [--quick] [--repeat N] [--only W1,W3,W4,W5,T] [--threads]
#                            [--vm-args "+sbwt none"]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
# Built one at a time: built together, cargo would unify the core's features for both and
# rebuild the core when the hook then builds the NIF alone.
echo "== building the polytrace CLI (release; its OTLP receiver)" >&2
cargo build --release -p polytrace-cli >&2
export POLYTRACE_CLI=$CARGO_TARGET_DIR/release/polytrace
echo "== compiling the application (the hook builds the NIF, release) and the benchmark" >&2
app=$root/bindings/erlang/polytrace
(cd "$app" && POLYTRACE_NIF_PROFILE=release POLYTRACE_NIF_FEATURES= rebar3 compile >&2)
export POLYTRACE_NIF_PATH=$CARGO_TARGET_DIR/release/libpolytrace_nif.so
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
erlc -o "$out" "$here/polytrace_bench.erl"
echo "== running (each workload in a fresh VM)" >&2
ERL_CRASH_DUMP_SECONDS=0 erl -noshell -pa "$out" -pa "$app/_build/default/lib/polytrace/ebin" -run polytrace_bench main -extra "$@"
