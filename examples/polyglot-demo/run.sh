#!/usr/bin/env bash
# `make demo`: builds what the demo needs (build.sh; the first run on a fresh machine takes
# several minutes and says what it is doing), then runs it (demo.py). PIPELINE=full runs the
# full pipeline (Collector -> Kafka -> Jaeger), building the Collector and Jaeger first.
# Extra arguments go to demo.py (see `demo.py --help`).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${POLYTRACE_VENV:-$ROOT/.venv}"
if [ "${PIPELINE:-}" = "full" ]; then
  bash "$HERE/build.sh" --full
else
  bash "$HERE/build.sh"
fi
exec "$VENV/bin/python" "$HERE/demo.py" "$@"
