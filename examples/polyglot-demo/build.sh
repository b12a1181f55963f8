#!/usr/bin/env bash
# Builds (idempotently) everything the polyglot demo runs, printing each step, how long it took
# and what the whole took. Called by run.sh (`make demo`) and by the demo's e2e test.
#
#   bash examples/polyglot-demo/build.sh [--full]      # --full: also the Collector and Jaeger
#
# Steps (times measured on this project's 2-core machine; see README.md):
#   1. system packages  mosquitto, Erlang/OTP + rebar3 (Debian), when missing
#   2. polytrace CLI    cargo build -p polytrace-cli (the receiver and `polytrace view`)
#   3. Node             the binding's addon (cargo, release) and the gateway's npm packages
#   4. Python           the venv (POLYTRACE_VENV, default <repo>/.venv) with the pinned packages
#                       and the polytrace wheel (maturin) unless it is already installed there
#   5. Erlang           the polytrace OTP application and its NIF (rebar3 + cargo)
#   6. JVM              one Maven run: the Java binding's JAR (cargo builds its native library),
#                       the order-service, and Kafka's broker classpath (all resolved into ~/.m2)
#   7. (--full)         tools/install-otelcol.sh and tools/install-jaeger.sh (cached under ~/go)
# Everything reuses the workspace's cargo target directory (CARGO_TARGET_DIR), ~/.m2, ~/go and
# npm's cache, so a second run takes seconds.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export PATH="$HOME/.cargo/bin:$PATH"
VENV="${POLYTRACE_VENV:-$ROOT/.venv}"
FULL=0
[ "${1:-}" = "--full" ] && FULL=1
STEPS=$((6 + FULL))

echo "== building what the demo needs: the first time on a fresh machine about 15 min on 2 cores"
echo "   (+7.5 min for --full's Collector and Jaeger), afterwards seconds; each step says what it does"
t_all=$(date +%s)
step=0
t_step=$t_all
begin() {
  step=$((step + 1))
  t_step=$(date +%s)
  echo "== [build $step/$STEPS] $1"
}
done_step() {
  echo "== [build $step/$STEPS] done in $(($(date +%s) - t_step))s"
}

begin "system packages (mosquitto, Erlang/OTP, rebar3; first run: ~1 min of apt-get)"
missing=()
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v erl >/dev/null || missing+=(erlang-nox erlang-dev)
command -v rebar3 >/dev/null || missing+=(rebar3)
if [ ${#missing[@]} -gt 0 ]; then
  echo "   apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for tool in cargo java mvn node npm python3 erl erlc rebar3; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool is required" >&2; exit 1; }
done
done_step

begin "polytrace CLI: cargo build -p polytrace-cli (first run: ~2 min)"
(cd "$ROOT" && cargo build -p polytrace-cli)
done_step

begin "Node: the binding's addon (cargo, release; first run: ~6 min) and the gateway's npm packages"
# FORCE: cargo decides (seconds when nothing changed); without it an addon built before the core
# changed would be used as it is.
(cd "$ROOT/bindings/node" && POLYTRACE_FORCE_BUILD=1 node scripts/install.js)
cd "$HERE/api-gateway"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # The binding is linked (file:), its addon built above.
  POLYTRACE_SKIP_BUILD=1 npm ci --no-audit --no-fund
fi
done_step

begin "Python: venv $VENV, pinned packages, the polytrace wheel (maturin; first run: ~3.5 min)"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
echo "   pip install -r requirements.txt"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$HERE/requirements.txt"
native="$("$VENV/bin/python" -c 'import polytrace._native as n; print(n.__file__)' 2>/dev/null || true)"
# Rebuilt when missing or older than a Rust source it is built from (the core changed since).
if [ -z "$native" ] || [ -n "$(find "$ROOT/core" "$ROOT/otlp-json" "$ROOT/bindings/python/src" "$ROOT/Cargo.lock" \
  -newer "$native" \( -name '*.rs' -o -name Cargo.toml -o -name Cargo.lock \) -print -quit)" ]; then
  # As bindings/python/test.sh builds it (the same cargo features), so CI builds it once.
  # pip -v, filtered to cargo's progress: without it the ~3 min build would print nothing.
  echo "   pip install ./bindings/python (maturin runs cargo build --release)"
  rm -f "$ROOT"/bindings/python/python/polytrace/_native*.so
  set +e
  PATH="$VENV/bin:$PATH" MATURIN_PEP517_ARGS="--features testing" \
    "$VENV/bin/python" -m pip install -v --disable-pip-version-check --no-build-isolation --no-deps \
    "$ROOT/bindings/python" 2>&1 | grep --line-buffered -E "^ *(Compiling|Finished) |Successfully installed|error"
  status=${PIPESTATUS[0]}
  set -e
  [ "$status" = 0 ] || { echo "build.sh: pip install ./bindings/python failed (run it with -v to see why)" >&2; exit 1; }
fi
done_step

begin "Erlang: the polytrace application and its NIF (rebar3 + cargo; first run: ~2 min)"
# The profile and features of bindings/erlang/test.sh, so CI builds the NIF once.
(cd "$ROOT/bindings/erlang/polytrace" && POLYTRACE_NIF_PROFILE=dev POLYTRACE_NIF_FEATURES=testing rebar3 compile)
done_step

begin "JVM: one Maven run — the Java binding (cargo, release), order-service, Kafka broker classpath (first run: ~2 min, more while Maven downloads into ~/.m2)"
cd "$HERE"
set +e
mvn -B -ntp -DskipTests package | grep --line-buffered -E "Building |BUILD|ERROR|polytrace: |Compiling [0-9]+ source"
status=${PIPESTATUS[0]}
set -e
[ "$status" = 0 ] || { echo "build.sh: mvn failed (run it in $HERE to see why)" >&2; exit 1; }
for f in order-service/target/classpath.txt kafka/target/classpath.txt order-service/target/classes/demo/order/OrderService.class; do
  [ -f "$f" ] || { echo "build.sh: mvn did not produce $f" >&2; exit 1; }
done
done_step

if [ "$FULL" = 1 ]; then
  begin "the OpenTelemetry Collector and Jaeger v2 from their Go modules (first run: ~7.5 min; cached under ~/go)"
  bash "$ROOT/tools/install-otelcol.sh"
  bash "$ROOT/tools/install-jaeger.sh"
  done_step
fi
echo "== build finished in $(($(date +%s) - t_all))s"
