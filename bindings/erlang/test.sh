#!/usr/bin/env bash
# Builds and tests the Erlang binding (bindings/erlang/polytrace). Exits non-zero on any failure.
#
#   bash bindings/erlang/test.sh
#
# 1. Erlang/OTP and rebar3 from Debian when missing (erlang-nox, erlang-dev, rebar3);
# 2. the polytrace CLI, whose OTLP receiver the export tests use;
# 3. rebar3 compile: the pre-compile hook builds the NIF (release profile, as shipped: the
#    scheduler test times its calls; `testing` feature) into priv/;
# 4. rebar3 eunit: the API end to end, the shared vectors, httpd/httpc over a real hop into a
#    real receiver, the quickstart (examples/erlang), the scheduler test (NIF call times and
#    long_schedule under load);
# 5. rebar3 ct: the dependency test (_checkouts and git_subdir from a file:// clone).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
export PATH="$HOME/.cargo/bin:$PATH"

if ! command -v erl >/dev/null || ! command -v rebar3 >/dev/null || ! command -v ct_run >/dev/null; then
    echo "== installing Erlang/OTP and rebar3 from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq erlang-nox erlang-dev erlang-common-test rebar3 >/dev/null
fi
erl -noshell -eval 'io:format("== Erlang/OTP ~s~n", [erlang:system_info(otp_release)]), halt().'

echo "== building the polytrace CLI (the OTLP receiver of the export tests)"
cargo build -p polytrace-cli
export POLYTRACE_CLI="$CARGO_TARGET_DIR/debug/polytrace"

cd polytrace
export POLYTRACE_NIF_PROFILE=release POLYTRACE_NIF_FEATURES=testing
echo "== rebar3 compile (the hook builds the NIF with cargo)"
rebar3 compile
echo "== rebar3 eunit"
rebar3 eunit
echo "== rebar3 ct (the dependency test)"
rebar3 ct
