#!/usr/bin/env bash
# Called by the Maven build (pom.xml, exec-maven-plugin); builds with cargo through the
# workspace's shared target directory (CARGO_TARGET_DIR, else <repo>/target).
#
#   build-native.sh native <classes-dir> [features]
#       cargo build --release -p polytrace-jni, copied to <classes-dir>/native/<os>-<arch>/
#       (the JAR's layout, see NativeLoader.java) and listed in native/platforms.txt;
#   build-native.sh cli <test-classes-dir>
#       cargo build -p polytrace-cli (the OTLP receiver of the tests); its path goes to
#       <test-classes-dir>/polytrace-test.properties.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export PATH="$HOME/.cargo/bin:$PATH"
cd "$ROOT"

case "$(uname -s)" in
  Linux) os=linux; lib=libpolytrace_jni.so ;;
  Darwin) os=macos; lib=libpolytrace_jni.dylib ;;
  *) echo "build-native.sh: unsupported system $(uname -s)" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64|amd64) arch=x86_64 ;;
  aarch64|arm64) arch=aarch64 ;;
  *) arch=$(uname -m) ;;
esac

what=$1
out=$2
case "$what" in
  native)
    features=${3:-}
    echo "polytrace: cargo build --release -p polytrace-jni${features:+ --features $features}"
    cargo build --release -p polytrace-jni ${features:+--features "$features"}
    mkdir -p "$out/native/$os-$arch"
    cp "$CARGO_TARGET_DIR/release/$lib" "$out/native/$os-$arch/$lib.tmp"
    mv "$out/native/$os-$arch/$lib.tmp" "$out/native/$os-$arch/$lib"
    echo "$os-$arch" > "$out/native/platforms.txt"
    echo "polytrace: native/$os-$arch/$lib"
    ;;
  cli)
    echo "polytrace: cargo build -p polytrace-cli (the tests' OTLP receiver)"
    cargo build -p polytrace-cli
    mkdir -p "$out"
    printf 'cli=%s\n' "$CARGO_TARGET_DIR/debug/polytrace" > "$out/polytrace-test.properties"
    ;;
  *) echo "build-native.sh: unknown target $what" >&2; exit 1 ;;
esac
