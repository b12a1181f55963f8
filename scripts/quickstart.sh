#!/usr/bin/env bash
# Traces a small piece of real work with the Rust quickstart, receives it on polytrace's
# embedded OTLP receiver (loopback, no external server), and shows it as a waterfall.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p polytrace-cli
cargo build --release --quiet -p polytrace-core --example quickstart
bin="${CARGO_TARGET_DIR:-target}/release"
out="$(mktemp -d)/traces.jsonl"
log="$(mktemp)"
"$bin/polytrace" receive --grpc 127.0.0.1:0 --http 127.0.0.1:0 --out "$out" 2>"$log" &
recv=$!
trap 'kill -TERM $recv 2>/dev/null || true; wait $recv 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q '^listening' "$log" && break; sleep 0.1; done
http=$(sed -n 's/^listening.* http=\([0-9.:]*\).*/\1/p' "$log" | head -n1)
[ -n "$http" ] || { cat "$log"; echo "receiver did not start" >&2; exit 1; }
OTEL_SERVICE_NAME=quickstart \
OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
OTEL_EXPORTER_OTLP_ENDPOINT="http://$http" \
  "$bin/examples/quickstart"
kill -TERM $recv; wait $recv 2>/dev/null || true
trap - EXIT
echo
"$bin/polytrace" view "$out"
