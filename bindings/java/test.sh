#!/usr/bin/env bash
# The Java binding's test command (called by `make java-test`):
#
#   bash bindings/java/test.sh [extra mvn arguments, e.g. -Dtest=ApiTest]
#
# `mvn -B verify` in bindings/java does everything: cargo builds the native library (release,
# with the `testing` feature) through the workspace's target directory and the JAR carries it
# under native/<os>-<arch>/; cargo builds the polytrace CLI (the tests' OTLP receiver); Surefire
# runs the JUnit 5 suite with -Xcheck:jni (API, context and virtual threads, propagation, config,
# span and text vectors, OkHttp instrumentation over a real HTTP hop, Logback MDC, bad input and
# UTF-16, shutdown hook and exit bound, concurrency and huge input (ChaosTest), TLS/mTLS, header
# secrets and redaction (SecurityTest), the quickstart). Maven resolves its dependencies into
# ~/.m2 once; nothing is installed. The run fails on any test failure and on any -Xcheck:jni
# warning.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export PATH="$HOME/.cargo/bin:$PATH"

for tool in java mvn cargo; do
  command -v "$tool" >/dev/null || { echo "test.sh: $tool is required" >&2; exit 1; }
done
echo "test.sh: $(java -version 2>&1 | head -1); $(mvn -v 2>/dev/null | head -1 | sed 's/\x1b\[[0-9;]*m//g')"

log="$(mktemp -t polytrace-java-XXXXXX.log)"
trap 'rm -f "$log"' EXIT
echo "test.sh: mvn -B verify (native library, CLI, JUnit suite with -Xcheck:jni)"
cd "$HERE"
set +e
mvn -B -ntp verify "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
if grep -q "WARNING in native method" "$log"; then
  echo "test.sh: -Xcheck:jni reported warnings:" >&2
  grep -A3 "WARNING in native method" "$log" | head -40 >&2
  exit 1
fi
exit "$status"
