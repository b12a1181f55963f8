#!/usr/bin/env bash
# The Python binding's test command (called by `make test`):
#   1. a venv at $POLYTRACE_VENV (default <repo>/.venv) with the pinned requirements-dev.txt
#      (idempotent: pip only installs what is missing or differs);
#   2. `pip install ./bindings/python` exactly as users do (maturin PEP 517 build, release),
#      with the `testing` feature so the suite can prove the error/panic mapping;
#   3. the `polytrace` CLI (its OTLP receiver is the tests' back end);
#   4. pytest on bindings/python/tests. Exits non-zero on any failure.
# Extra arguments go to pytest, e.g. `bindings/python/test.sh -k vectors -x`.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${POLYTRACE_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "test.sh: creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"   # the maturin build backend runs the `maturin` executable
"$PY" -m pip install -q --disable-pip-version-check -r "$HERE/requirements-dev.txt"

# A stale extension left by `maturin develop` must not be packaged or imported.
rm -f "$HERE"/python/polytrace/_native*.so
echo "test.sh: building and installing polytrace (maturin, release, features: testing)"
MATURIN_PEP517_ARGS="--features testing" \
    "$PY" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps \
    --force-reinstall "$HERE"

echo "test.sh: building the OTLP receiver (polytrace-cli)"
(cd "$ROOT" && cargo build -q -p polytrace-cli)
export POLYTRACE_BIN="$CARGO_TARGET_DIR/debug/polytrace"

cd "$HERE"
exec "$PY" -m pytest -q -p no:cacheprovider tests "$@"
