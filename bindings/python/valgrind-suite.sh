#!/usr/bin/env bash
# The whole Python test suite in one interpreter under valgrind memcheck (issue 16; a long run,
# not part of `make test`, whose test_valgrind.py runs a script through every kind of entry
# point instead):
#
#   bash bindings/python/valgrind-suite.sh [PYTEST_ARGS...]   (default: the whole suite but
#                                                            tests/test_valgrind.py)
#
# CPython's allocator is switched to malloc (PYTHONMALLOC=malloc) so memcheck sees every
# allocation; origins are tracked. Child processes (the tests that start an interpreter,
# gunicorn, fork) are not traced and keep CPython's allocator (conftest.py). Measured: the
# plain suite 36 s, under memcheck 18.8 min (2 cores, a fuzzer beside it). The report goes to
# $OUT (default /tmp/polytrace-valgrind-suite.log); tests/memcheck.py then lists the errors
# with a polytrace frame (see its doc for the class CPython 3.11 makes itself) and fails if
# there is one. pytest's summary is printed; only memcheck's verdict sets the exit status.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${POLYTRACE_VENV:-$ROOT/.venv}"
OUT="${OUT:-/tmp/polytrace-valgrind-suite.log}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
command -v valgrind >/dev/null || { echo "valgrind-suite.sh: valgrind is needed (Debian package valgrind)"; exit 1; }
bash "$HERE/install.sh"
(cd "$ROOT" && cargo build -q -p polytrace-cli)
export POLYTRACE_BIN="$CARGO_TARGET_DIR/debug/polytrace" PATH="$VENV/bin:$PATH"
cd "$HERE"
if [ "$#" -gt 0 ]; then ARGS=("$@"); else ARGS=(tests --ignore=tests/test_valgrind.py); fi
echo "valgrind-suite.sh: pytest ${ARGS[*]} under memcheck (the whole suite: about 20 min), report in $OUT"
start=$(date +%s)
PYTHONMALLOC=malloc valgrind --tool=memcheck --leak-check=no --num-callers=60 --track-origins=yes --log-file="$OUT" \
  "$VENV/bin/python" -m pytest -q -p no:cacheprovider "${ARGS[@]}" || true
echo "valgrind-suite.sh: $(( $(date +%s) - start )) s"
exec "$VENV/bin/python" tests/memcheck.py "$OUT"
