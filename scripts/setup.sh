#!/usr/bin/env bash
# Installs what `make test` needs on a fresh machine of this kind. Idempotent and quick when
# everything is present. Debian packages via apt-get; Go tools via `go install` (cached under
# ~/go); Python packages into .venv by the Python binding's own script.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_pkgs=()
command -v valgrind >/dev/null 2>&1 || apt_pkgs+=(valgrind)
command -v pkg-config >/dev/null 2>&1 || apt_pkgs+=(pkg-config)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || apt_pkgs+=(python3-venv)
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  echo "setup: apt-get install ${apt_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
fi

for tool in cargo go python3 gcc g++; do
  command -v "$tool" >/dev/null 2>&1 || { echo "setup: $tool is missing on this machine" >&2; exit 1; }
done
cargo fmt --version >/dev/null && cargo clippy --version >/dev/null
echo "setup: ok"
