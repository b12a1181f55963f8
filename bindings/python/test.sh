#!/usr/bin/env bash
# The Python binding's test command (called by `make test`):
#   1-2. install.sh: a venv at $POLYTRACE_VENV (default <repo>/.venv) with the pinned
#      requirements-dev.txt, and `pip install ./bindings/python` exactly as users do (maturin
#      PEP 517 build, release, with the `testing` feature);
#   3. the `polytrace` CLI (its OTLP receiver is the tests' back end);
#   4. pytest on bindings/python/tests. Exits non-zero on any failure.
# Extra arguments go to pytest, e.g. `bindings/python/test.sh -k vectors -x`.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${POLYTRACE_VENV:-$ROOT/.venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

bash "$HERE/install.sh"
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"

echo "test.sh: building the OTLP receiver (polytrace-cli)"
(cd "$ROOT" && cargo build -q -p polytrace-cli)
export POLYTRACE_BIN="$CARGO_TARGET_DIR/debug/polytrace"

cd "$HERE"
exec "$PY" -m pytest -q -p no:cacheprovider tests "$@"
