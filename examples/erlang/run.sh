#!/usr/bin/env bash
# Runs the Erlang quickstart against the OTLP endpoint in OTEL_EXPORTER_OTLP_ENDPOINT (default
# http://localhost:4318): builds the polytrace application if needed, compiles quickstart.erl
# and runs it. For a receiver on loopback: `polytrace receive` (cargo run -p polytrace-cli).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
app="$here/../../bindings/erlang/polytrace"
if [ ! -f "$app/_build/default/lib/polytrace/ebin/polytrace.app" ] || [ ! -f "$app/priv/libpolytrace_nif.so" ]; then
    (cd "$app" && rebar3 compile)
fi
out=$(mktemp -d)
erlc -o "$out" "$here/quickstart.erl"
ERL_LIBS="$app/_build/default/lib" erl -noshell -pa "$out" -eval 'quickstart:main(), halt().'
rm -rf "$out"
