#!/usr/bin/env bash
# Build and install a custom OpenTelemetry Collector with the official builder (ocb),
# from tools/otelcol-builder.yaml, entirely from the Go module proxy.
#
# Usage: tools/install-otelcol.sh            # idempotent; no-op when already installed
#        FORCE=1 tools/install-otelcol.sh    # rebuild even when the stamp matches
#
# Result: $GOPATH/bin/polytrace-otelcol (default ~/go/bin/polytrace-otelcol)
# Components: receivers otlp; processors batch; exporters otlp_grpc (alias otlp),
#             otlphttp, debug, file (collector-contrib).
set -euo pipefail

OTELCOL_BUILDER_VERSION=v0.161.0   # pinned; must match the versions in the manifest
BUILD_REV=1   # bump when the build steps below change, to invalidate existing stamps

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MANIFEST="$here/otelcol-builder.yaml"

export PATH="/usr/local/go/bin:$PATH"
export GOPATH="${GOPATH:-$HOME/go}"
export GOMODCACHE="${GOMODCACHE:-$GOPATH/pkg/mod}"
export GOCACHE="${GOCACHE:-$GOPATH/cache}"
export GOTOOLCHAIN=local
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0

OUT="$GOPATH/bin/polytrace-otelcol"
STAMP="$GOPATH/bin/.polytrace-otelcol.stamp"
# The builder binary is named `builder`; keep it out of $GOPATH/bin so it clobbers nothing.
BUILDER_DIR="$GOPATH/opt/ocb-$OTELCOL_BUILDER_VERSION"
BUILDER="$BUILDER_DIR/builder"
WANT="builder=$OTELCOL_BUILDER_VERSION manifest=$(sha256sum "$MANIFEST" | cut -c1-16) go=$(go env GOVERSION) rev=$BUILD_REV"

t0=$(date +%s)
if [[ -z "${FORCE:-}" && -x "$OUT" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
  echo "install-otelcol: up to date: $OUT (builder $OTELCOL_BUILDER_VERSION); 0s"
  exit 0
fi

command -v go >/dev/null || { echo "install-otelcol: go not found" >&2; exit 1; }
mkdir -p "$GOPATH/bin"

# 1. The builder itself, pinned (`go install` honours GOBIN).
if [[ ! -x "$BUILDER" ]] || ! "$BUILDER" version 2>/dev/null | grep -q "${OTELCOL_BUILDER_VERSION#v}"; then
  echo "install-otelcol: go install go.opentelemetry.io/collector/cmd/builder@$OTELCOL_BUILDER_VERSION"
  GOBIN="$BUILDER_DIR" go install "go.opentelemetry.io/collector/cmd/builder@$OTELCOL_BUILDER_VERSION"
fi
t1=$(date +%s)
echo "install-otelcol: builder ready ($((t1 - t0))s): $("$BUILDER" version 2>&1 | head -1)"

# 2. Generate sources, resolve modules, compile.
work=$(mktemp -d /tmp/polytrace-otelcol-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
"$BUILDER" --config="$MANIFEST" > "$work/builder.log" 2>&1 || {
  cat "$work/builder.log" >&2
  echo "install-otelcol: builder failed" >&2
  exit 1
}
t2=$(date +%s)
echo "install-otelcol: generated + compiled ($((t2 - t1))s)"

mv -f "$work/dist/polytrace-otelcol" "$OUT"
"$OUT" components >/dev/null || { echo "install-otelcol: built binary does not run" >&2; exit 1; }
echo "$WANT" > "$STAMP"
echo "install-otelcol: installed $OUT; total $((t2 - t0))s"
