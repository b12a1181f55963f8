#!/usr/bin/env bash
# polytrace against the official OpenTelemetry Java SDK 1.68.0, in one run, both exporting
# OTLP/gRPC to the same loopback receiver (`polytrace receive --count-only`):
#   1. JMH (W1 start + 3 attributes + end, W3 three nested spans, W4 inject + extract): the
#      calling thread's ns/op and, with -prof gc, bytes allocated per op;
#   2. the process-CPU loop (CpuLoop): W1 with lossless export, the CPU of every thread.
#
#   bash bench/java/run.sh [jmh args...]     e.g. JMH_ARGS="-f 1 -wi 3 -i 5" bash bench/java/run.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
SPANS=${SPANS:-200000}
JMH_ARGS=${JMH_ARGS:-"-f 1 -wi 3 -w 2s -i 5 -r 2s"}

echo "bench: the polytrace JAR into ~/.m2 (mvn install, tests skipped)"
(cd "$ROOT/bindings/java" && mvn -B -q -ntp install -DskipTests)
echo "bench: the receiver (cargo build --release -p polytrace-cli)"
cargo build -q --release -p polytrace-cli
echo "bench: compiling the benchmarks"
(cd "$HERE" && mvn -B -q -ntp package dependency:build-classpath -Dmdep.outputFile=target/cp.txt)
CP="$HERE/target/classes:$(cat "$HERE/target/cp.txt")"

ERR=$(mktemp)
"$CARGO_TARGET_DIR/release/polytrace" receive --grpc 127.0.0.1:0 --http 127.0.0.1:0 --count-only \
  >/dev/null 2>"$ERR" &
RECV=$!
trap 'kill $RECV 2>/dev/null; rm -f "$ERR"' EXIT
for _ in $(seq 100); do grep -q listening "$ERR" && break; sleep 0.1; done
GRPC=$(sed -n 's/.*listening grpc=\([^ ]*\).*/\1/p' "$ERR" | head -1)
echo "bench: receiver on grpc $GRPC"

echo "bench: JMH $JMH_ARGS -prof gc"
# shellcheck disable=SC2086
java -cp "$CP" org.openjdk.jmh.Main 'io.polytrace.bench.Spans' $JMH_ARGS -prof gc \
  -jvmArgs "-Dbench.grpc=http://$GRPC" -rf json -rff "$HERE/target/jmh.json" "$@" \
  | grep -E "^(Benchmark|Spans\.)|exported" || true

echo "bench: process CPU loop, $SPANS W1 spans, lossless"
for impl in sdk polytrace; do
  java -cp "$CP" -Dbench.grpc="http://$GRPC" io.polytrace.bench.CpuLoop "$impl" "$SPANS"
done
