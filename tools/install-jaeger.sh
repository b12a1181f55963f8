#!/usr/bin/env bash
# Build and install the Jaeger v2 all-in-one binary (github.com/jaegertracing/jaeger/cmd/jaeger)
# from the Go module proxy, at a pinned version.
#
# Usage: tools/install-jaeger.sh            # idempotent; no-op when already installed
#        FORCE=1 tools/install-jaeger.sh    # rebuild even when the stamp matches
#
# Result: $GOPATH/bin/polytrace-jaeger (default ~/go/bin/polytrace-jaeger), and
#         $GOPATH/bin/polytrace-jaeger-adaptive: the same source with one fix to adaptive
#         sampling (below), used only by the adaptive-sampling end-to-end test.
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
#
# Why a second, patched binary? In Jaeger v2.13.0 the adaptive strategy provider
# (internal/sampling/samplingstrategy/adaptive/provider.go) reloads the computed probabilities
# only when it is *not* the leader, and every 20 s. A single Jaeger with the memory (or badger)
# sampling store is always the leader (its lock always succeeds), so it keeps serving its
# start-up strategy forever: the probabilities the post-aggregator computes and stores are
# never served (checked here: 45 s of traffic at a 2 s calculation interval, the served
# strategy stayed the default). polytrace-jaeger-adaptive changes two lines of that file: the
# provider reloads whether or not it leads, every min(calculation_interval, 1 s). Nothing
# else differs; tests/e2e/test_remote_sampling.py uses it for the adaptive test only.
set -euo pipefail

JAEGER_MODULE=github.com/jaegertracing/jaeger
JAEGER_VERSION=v1.76.0   # pinned; == Jaeger v2.13.0 (2025-12-03)
JAEGER_V2_NAME=v2.13.0
BUILD_REV=3   # bump when the build steps below change, to invalidate existing stamps

export PATH="/usr/local/go/bin:$PATH"
export GOPATH="${GOPATH:-$HOME/go}"
export GOMODCACHE="${GOMODCACHE:-$GOPATH/pkg/mod}"
export GOCACHE="${GOCACHE:-$GOPATH/cache}"
export GOTOOLCHAIN=local
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0

OUT="$GOPATH/bin/polytrace-jaeger"
OUT_ADAPTIVE="$GOPATH/bin/polytrace-jaeger-adaptive"
STAMP="$GOPATH/bin/.polytrace-jaeger.stamp"
WANT="$JAEGER_MODULE@$JAEGER_VERSION go=$(go env GOVERSION) rev=$BUILD_REV"

t0=$(date +%s)
if [[ -z "${FORCE:-}" && -x "$OUT" && -x "$OUT_ADAPTIVE" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
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

# The adaptive-sampling fix (see the header). Each substitution must match exactly once.
provider=internal/sampling/samplingstrategy/adaptive/provider.go
patch_line() {  # patch_line LINE REPLACEMENT: LINE must be a whole line of the file, once
  local n
  n=$(grep -cxF -- "$1" "$provider" || true)
  [[ "$n" == 1 ]] || { echo "install-jaeger: expected the line '$1' once in $provider, found $n" >&2; exit 1; }
  LINE="$1" NEW="$2" python3 -c '
import os, sys
p = sys.argv[1]
lines = open(p).read().split("\n")
open(p, "w").write("\n".join(os.environ["NEW"] if l == os.environ["LINE"] else l for l in lines))
' "$provider"
}
patch_line $'\t\t\tif !p.isLeader() {' $'\t\t\t{'
patch_line $'\t\tfollowerRefreshInterval: defaultFollowerProbabilityInterval,' \
  $'\t\tfollowerRefreshInterval: min(options.CalculationInterval, time.Second),'
go build -trimpath -o "$OUT_ADAPTIVE.tmp" \
  -ldflags "-s -w -X $JAEGER_MODULE/internal/version.latestVersion=$JAEGER_V2_NAME" ./cmd/jaeger
mv -f "$OUT_ADAPTIVE.tmp" "$OUT_ADAPTIVE"
t4=$(date +%s)
echo "install-jaeger: compiled $OUT_ADAPTIVE (adaptive provider fix; $((t4 - t3))s)"
"$OUT_ADAPTIVE" --help >/dev/null 2>&1 || { echo "install-jaeger: patched binary does not run" >&2; exit 1; }
echo "$WANT" > "$STAMP"
echo "install-jaeger: installed $OUT and $OUT_ADAPTIVE; total $((t4 - t0))s"
