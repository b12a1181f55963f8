#!/usr/bin/env bash
# End-to-end tests against the real OpenTelemetry Collector and Jaeger v2 (built from their Go
# modules at pinned versions; cached under ~/go, so only the first run on a machine builds).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/install-otelcol.sh
bash tools/install-jaeger.sh
cargo build --quiet -p polytrace-core --example quickstart --example sampling_load
python3 tests/e2e/test_quickstart.py --quickstart "${CARGO_TARGET_DIR:-target}/debug/examples/quickstart"
# Remote sampling (file and adaptive strategies) from Rust and from the Python binding, which
# must be installed in the venv (make python-test runs before e2e; when run alone, install it).
VENV="${POLYTRACE_VENV:-$PWD/.venv}"
if ! "$VENV/bin/python" -c "import polytrace" 2>/dev/null; then
  echo "e2e: installing the Python binding into $VENV (bindings/python/install.sh)"
  bash bindings/python/install.sh
fi
python3 tests/e2e/test_remote_sampling.py --python "$VENV/bin/python" \
  --rust "${CARGO_TARGET_DIR:-target}/debug/examples/sampling_load"
