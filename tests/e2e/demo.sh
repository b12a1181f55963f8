#!/usr/bin/env bash
# The polyglot demo's end-to-end test (`make demo-test`, part of `make test`): builds what the demo
# needs (examples/polyglot-demo/build.sh --full: cached, seconds when nothing changed), then runs
# tests/e2e/test_demo.py — the demo in both modes, a Kafka outage in the full one, Ctrl-C, and the
# shipped configs — ending with `N passed, M failed`.
set -euo pipefail
cd "$(dirname "$0")/../.."
t0=$(date +%s)
bash examples/polyglot-demo/build.sh --full
"${POLYTRACE_VENV:-$PWD/.venv}/bin/python" tests/e2e/test_demo.py "$@"
echo "demo-test: $(($(date +%s) - t0))s in all"
