#!/usr/bin/env bash
# End-to-end tests against the real OpenTelemetry Collector and Jaeger v2 (built from their Go
# modules at pinned versions; cached under ~/go, so only the first run on a machine builds).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/install-otelcol.sh
bash tools/install-jaeger.sh
cargo build --quiet -p polytrace-core --example quickstart
python3 tests/e2e/test_quickstart.py --quickstart "${CARGO_TARGET_DIR:-target}/debug/examples/quickstart"
