#!/usr/bin/env bash
# Installs the Python binding as users do, into a venv: $POLYTRACE_VENV (default <repo>/.venv)
# with the pinned requirements-dev.txt (idempotent: pip only installs what is missing or
# differs), then `pip install ./bindings/python` (maturin PEP 517 build, release), with the
# `testing` feature so the suite can prove the error/panic mapping. Used by test.sh and by the
# end-to-end tests (tests/e2e/run.sh) when the venv has no polytrace yet.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${POLYTRACE_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "install.sh: creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"   # the maturin build backend runs the `maturin` executable
"$PY" -m pip install -q --disable-pip-version-check -r "$HERE/requirements-dev.txt"

# A stale extension left by `maturin develop` must not be packaged or imported.
rm -f "$HERE"/python/polytrace/_native*.so
echo "install.sh: building and installing polytrace (maturin, release, features: testing)"
MATURIN_PEP517_ARGS="--features testing" \
    "$PY" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps \
    --force-reinstall "$HERE"

