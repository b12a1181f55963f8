#!/usr/bin/env bash
# The dependency test: a separate rebar3 project elsewhere on the machine depends on polytrace
#   1. through _checkouts (a symlink to bindings/erlang/polytrace of a clone), and
#   2. through a git_subdir dependency on a file:// clone of this repository at this commit
#      (rebar3 copies only bindings/erlang/polytrace; the hook finds the core from the locked
#      commit),
# builds with rebar3 (and cargo, from the hook) and traces a span. Prints one line per case and
# exits non-zero on a failure. The dependent projects build the NIF with the dev profile
# (POLYTRACE_DEPENDENCY_PROFILE to change it; whatever profile the suite itself was built with
# is not inherited): a release build with LTO of two more copies of the core would take many
# minutes; CARGO_TARGET_DIR is shared.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../../.." && pwd)
export POLYTRACE_NIF_PROFILE=${POLYTRACE_DEPENDENCY_PROFILE:-dev}
unset POLYTRACE_NIF_FEATURES POLYTRACE_SOURCE_DIR
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sha=$(git -C "$root" rev-parse HEAD)
echo "dependency test: cloning $root at $sha (committed state only)"
git clone --quiet --no-checkout "$root" "$tmp/polytrace"
git -C "$tmp/polytrace" -c advice.detachedHead=false checkout --quiet "$sha"

project() {
    local dir=$1 deps=$2
    mkdir -p "$dir/src"
    cp "$here/demo.erl.in" "$dir/src/demo.erl"
    cp "$here/demo.app.src.in" "$dir/src/demo.app.src"
    printf '{erl_opts, [debug_info]}.\n{deps, [%s]}.\n' "$deps" > "$dir/rebar.config"
}

run_demo() {
    local dir=$1
    (cd "$dir" && rebar3 compile) || return 1
    # Every ebin rebar3 built: a git_subdir dependency's application sits inside its sparse
    # checkout (_build/default/lib/polytrace/bindings/erlang/polytrace/ebin), which rebar3 3.19's
    # `rebar3 path` leaves out.
    local paths
    paths=$(find "$dir/_build/default" -type d -name ebin | tr '\n' ' ')
    # shellcheck disable=SC2086
    erl -noshell -pa $paths -eval "demo:run([\"$dir/spans.jsonl\"])."
}

failed=0
passed=0
echo "dependency test 1/2: _checkouts"
dep="{polytrace, {git_subdir, \"file://$tmp/polytrace\", {ref, \"$sha\"}, \"bindings/erlang/polytrace\"}}"
# Declared as the git_subdir dependency; the checkout overrides it (nothing is fetched).
project "$tmp/with_checkouts" "$dep"
mkdir -p "$tmp/with_checkouts/_checkouts"
ln -s "$tmp/polytrace/bindings/erlang/polytrace" "$tmp/with_checkouts/_checkouts/polytrace"
if run_demo "$tmp/with_checkouts"; then passed=$((passed + 1)); else echo "FAILED: _checkouts"; failed=$((failed + 1)); fi

echo "dependency test 2/2: git_subdir from file://$tmp/polytrace"
project "$tmp/with_git_subdir" "$dep"
# Only the application's directory was copied, and the hook built the core from the locked commit.
if run_demo "$tmp/with_git_subdir" && [ ! -e "$tmp/with_git_subdir/_build/default/lib/polytrace/core/Cargo.toml" ] \
    && [ -f "$tmp/with_git_subdir/_build/polytrace-src/$sha/core/Cargo.toml" ]; then
    passed=$((passed + 1))
else
    echo "FAILED: git_subdir"; failed=$((failed + 1))
fi
echo "dependency: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
