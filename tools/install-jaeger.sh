#!/usr/bin/env bash
# Build and install the Jaeger v2 all-in-one binary (github.com/jaegertracing/jaeger/cmd/jaeger)
# from the Go module proxy, at a pinned version.
#
# Usage: tools/install-jaeger.sh            # idempotent; no-op when already installed
#        FORCE=1 tools/install-jaeger.sh    # rebuild even when the stamp matches
#
# Result: $GOPATH/bin/polytrace-jaeger (default ~/go/bin/polytrace-jaeger)
#
# Why not `go install github.com/jaegertracing/jaeger/cmd/jaeger@VERSION`?
#   * Jaeger tags every release twice (v1.N.0 and v2.M.0) on the same commit, but its module
#     path has no /v2 suffix, so only the v1.N.0 tag is a valid Go module version.
#     v1.76.0 == Jaeger v2.13.0 (see its CHANGELOG.md); the binary is the v2 (OTel-collector
#     based) `jaeger` all-in-one.
#   * Its go.mod carries `replace github.com/Shopify/sarama => ...`, and `go install pkg@version`
#     refuses modules with replace directives. So we `go mod download` the pinned module zip
#     (checksum-verified against the Go checksum database), copy it to a temp dir and
#     `go build` it there as the main module (replace honoured, go.sum from the release).
set -euo pipefail

JAEGER_MODULE=github.com/jaegertracing/jaeger
JAEGER_VERSION=v1.76.0   # pinned; == Jaeger v2.13.0 (2025-12-03)
JAEGER_V2_NAME=v2.13.0
BUILD_REV=2   # bump when the build steps below change, to invalidate existing stamps

export PATH="/usr/local/go/bin:$PATH"
export GOPATH="${GOPATH:-$HOME/go}"
export GOMODCACHE="${GOMODCACHE:-$GOPATH/pkg/mod}"
export GOCACHE="${GOCACHE:-$GOPATH/cache}"
export GOTOOLCHAIN=local
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0

OUT="$GOPATH/bin/polytrace-jaeger"
STAMP="$GOPATH/bin/.polytrace-jaeger.stamp"
WANT="$JAEGER_MODULE@$JAEGER_VERSION go=$(go env GOVERSION) rev=$BUILD_REV"

t0=$(date +%s)
if [[ -z "${FORCE:-}" && -x "$OUT" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
  echo "install-jaeger: up to date: $OUT ($JAEGER_MODULE@$JAEGER_VERSION = Jaeger $JAEGER_V2_NAME); 0s"
  exit 0
fi

command -v go >/dev/null || { echo "install-jaeger: go not found" >&2; exit 1; }
mkdir -p "$GOPATH/bin"
echo "install-jaeger: building $JAEGER_MODULE/cmd/jaeger@$JAEGER_VERSION (Jaeger $JAEGER_V2_NAME) with $(go env GOVERSION)"

src_dir=$(go mod download -json "$JAEGER_MODULE@$JAEGER_VERSION" |
  python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d["Error"]) if d.get("Error") else print(d["Dir"])')
t1=$(date +%s)
echo "install-jaeger: module source at $src_dir ($((t1 - t0))s)"

work=$(mktemp -d /tmp/polytrace-jaeger-build.XXXXXX)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -r "$src_dir/." "$work/"
chmod -R u+w "$work"

cd "$work"
go mod download
t2=$(date +%s)
echo "install-jaeger: dependencies downloaded ($((t2 - t1))s)"

# -trimpath keeps the build cache reusable across temp dirs; -s -w shrinks the binary.
go build -trimpath -o "$OUT.tmp" \
  -ldflags "-s -w -X $JAEGER_MODULE/internal/version.latestVersion=$JAEGER_V2_NAME" ./cmd/jaeger
mv -f "$OUT.tmp" "$OUT"
t3=$(date +%s)
echo "install-jaeger: compiled ($((t3 - t2))s)"

"$OUT" --help >/dev/null 2>&1 || { echo "install-jaeger: built binary does not run" >&2; exit 1; }
echo "$WANT" > "$STAMP"
echo "install-jaeger: installed $OUT; total $((t3 - t0))s"
