#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (docs/reliability.md, "Fuzzing"):
#
#   bash fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 20 s each, every target)
#
# 1. cargo-fuzz 0.13.2 (cargo install --locked, once, into ~/.cargo/bin) and the crates
#    fuzz/Cargo.lock pins (cargo fetch --locked);
# 2. seed corpora from the shared vectors: fuzz/seeds.py (propagation.json, config.json, OTLP
#    JSON) and the spans.json cases encoded in the finished-span format by the core's vector
#    runner (POLYTRACE_FUZZ_SEEDS);
# 3. the targets, built with AddressSanitizer and libFuzzer's coverage (RUSTC_BOOTSTRAP=1 lets
#    a stable toolchain take cargo-fuzz's -Z flags; nightly is not needed);
# 4. each target for SECONDS_PER_TARGET, on a scratch copy of its seeds; a crash, a leak, an
#    assertion or a timeout (> 10 s per input) fails the run and leaves the input in
#    fuzz/artifacts/TARGET/.
# Exits non-zero on any failure. Prints each target's executions.
set -euo pipefail
cd "$(dirname "$0")"
FUZZ=$PWD
ROOT=$(cd .. && pwd)
SECS=${1:-20}
shift || true
ALL=(traceparent tracestate baggage extract config_env otlp_json finished)
if [ "$#" -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL[@]}"); fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
export PATH="$HOME/.cargo/bin:$PATH"
# RUSTC_BOOTSTRAP=1 is given to the cargo fuzz commands only: build scripts (proc-macro2's,
# among others) rerun when it changes, so exporting it would rebuild what `make rust-test`
# built, twice.

if ! cargo fuzz --version 2>/dev/null | grep -q ' 0\.13\.2'; then
  echo "fuzz/run.sh: installing cargo-fuzz 0.13.2"
  cargo install --locked --version 0.13.2 cargo-fuzz
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "fuzz/run.sh: seeds from tests/vectors"
python3 "$FUZZ/seeds.py" "$WORK/seeds"
(cd "$ROOT" && POLYTRACE_FUZZ_SEEDS="$WORK/seeds/finished" \
  cargo test -q --locked -p polytrace-core --test vectors_spans \
  span_vectors_through_the_finished_span_format >"$WORK/seeds.log" 2>&1) ||
  { cat "$WORK/seeds.log"; exit 1; }

# The crates are the ones fuzz/Cargo.lock pins (the workspace's versions plus libfuzzer-sys):
# fetched once into ~/.cargo, and a lock file out of date with the workspace fails here instead
# of being re-resolved against the registry at CI time.
echo "fuzz/run.sh: cargo fetch --locked (fuzz/Cargo.lock)"
cargo fetch --locked --manifest-path "$FUZZ/Cargo.toml"

echo "fuzz/run.sh: building the targets with $(rustc --version) and RUSTC_BOOTSTRAP=1" \
  "(AddressSanitizer, libFuzzer; about 10-15 min on 2 cores the first time, cached after)"
start=$(date +%s)
RUSTC_BOOTSTRAP=1 cargo fuzz build -O --debug-assertions >"$WORK/build.log" 2>&1 || { tail -n 40 "$WORK/build.log"; exit 1; }
echo "fuzz/run.sh: built in $(( $(date +%s) - start )) s"

failed=0
for t in "${TARGETS[@]}"; do
  mkdir -p "$WORK/corpus/$t" "$WORK/seeds/$t"
  log=$WORK/$t.log
  if RUSTC_BOOTSTRAP=1 cargo fuzz run -O --debug-assertions "$t" "$WORK/corpus/$t" "$WORK/seeds/$t" -- \
    -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    echo "PASS fuzz-$t: ${execs:-?} executions in ${SECS} s, $(ls "$WORK/seeds/$t" | wc -l) seeds"
  else
    echo "FAIL fuzz-$t"
    grep -E "panicked|ERROR: |SUMMARY|Test unit written" "$log" | head -n 20 | sed 's/^/    /'
    failed=$((failed + 1))
  fi
done
echo "$(( ${#TARGETS[@]} - failed )) passed, $failed failed"
[ "$failed" -eq 0 ]
