#!/bin/sh
# rebar3 pre-compile hook: builds the NIF library (crate polytrace-erlang, native/) with cargo
# and puts it in priv/libpolytrace_nif.so, where polytrace_nif loads it from.
#
# Where the Rust sources come from, in order:
#   1. POLYTRACE_SOURCE_DIR, if set: a checkout of the polytrace repository (vendored setups).
#   2. The repository this application sits in (../../.. is the cargo workspace): a build in the
#      repository, or a dependency through _checkouts (a symlink to bindings/erlang/polytrace
#      inside a clone).
#   3. A git_subdir dependency: rebar3 copied only bindings/erlang/polytrace, so the core is not here.
#      The hook reads the dependency's source ({git_subdir, Url, Ref, Dir}) from the top-level
#      project's rebar.lock (or rebar.config), clones that repository once at the locked commit
#      into _build/polytrace-src/<commit>, and builds the NIF there: the core is exactly the
#      one of the commit the Erlang sources were taken from.
#
# Environment: CARGO_TARGET_DIR (shared target directory; default: the source's target/),
# POLYTRACE_NIF_FEATURES (cargo features, e.g. "testing"), POLYTRACE_NIF_PROFILE (release,
# the default, or dev).
set -eu

app_dir=$(pwd -P)
say() { echo "polytrace: $*" >&2; }

features=${POLYTRACE_NIF_FEATURES:-}
profile=${POLYTRACE_NIF_PROFILE:-release}

is_source() {
    [ -f "$1/Cargo.toml" ] && [ -f "$1/core/Cargo.toml" ] && [ -f "$1/bindings/erlang/polytrace/native/Cargo.toml" ]
}

# The dependency entry of polytrace in the top-level project: "Url Commit" (empty if none).
git_subdir_source() {
    root=${REBAR_ROOT_DIR:-}
    [ -n "$root" ] || return 0
    erl -noshell -eval '
        [Root] = init:get_plain_arguments(),
        Lock = filename:join(Root, "rebar.lock"),
        Config = filename:join(Root, "rebar.config"),
        Deps = case file:consult(Lock) of
            {ok, [{_Vsn, L} | _]} -> [{binary_to_atom(N), S} || {N, S, _} <- L];
            {ok, [L | _]} when is_list(L) -> [{binary_to_atom(N), S} || {N, S, _} <- L];
            _ -> case file:consult(Config) of
                     {ok, Terms} -> proplists:get_value(deps, Terms, []);
                     _ -> []
                 end
        end,
        Ref = fun({ref, R}) -> R; ({tag, T}) -> T; ({branch, B}) -> B; (R) -> R end,
        case proplists:get_value(polytrace, Deps) of
            {git_subdir, Url, R, _Dir} -> io:format("~s ~s~n", [Url, Ref(R)]);
            {git, Url, R} -> io:format("~s ~s~n", [Url, Ref(R)]);
            _ -> ok
        end,
        halt().' -extra "$root"
}

src=""
if [ -n "${POLYTRACE_SOURCE_DIR:-}" ]; then
    is_source "$POLYTRACE_SOURCE_DIR" || { say "POLYTRACE_SOURCE_DIR=$POLYTRACE_SOURCE_DIR is not a polytrace checkout"; exit 1; }
    src=$(cd "$POLYTRACE_SOURCE_DIR" && pwd -P)
elif is_source "$app_dir/../../.."; then
    src=$(cd "$app_dir/../../.." && pwd -P)
else
    entry=$(git_subdir_source)
    if [ -z "$entry" ]; then
        say "cannot find the polytrace core: this is not a polytrace checkout, and the top-level project (REBAR_ROOT_DIR=${REBAR_ROOT_DIR:-unset}) has no git_subdir/git dependency on polytrace; set POLYTRACE_SOURCE_DIR to a polytrace checkout"
        exit 1
    fi
    url=${entry% *}
    rev=${entry#* }
    cache="${REBAR_ROOT_DIR}/_build/polytrace-src/$(printf '%s' "$rev" | tr -c 'A-Za-z0-9._-' '_')"
    if ! is_source "$cache"; then
        say "git_subdir dependency: cloning $url at $rev for the core (into $cache)"
        rm -rf "$cache.tmp"
        mkdir -p "$(dirname "$cache")"
        git clone --quiet "$url" "$cache.tmp"
        git -C "$cache.tmp" -c advice.detachedHead=false checkout --quiet "$rev"
        mv "$cache.tmp" "$cache"
    fi
    src=$cache
fi

target=${CARGO_TARGET_DIR:-$src/target}
case $profile in
    release) out_dir=release ;;
    dev) out_dir=debug ;;
    *) out_dir=$profile ;;
esac

say "building the NIF (cargo, profile $profile${features:+, features $features}) from $src"
set -- build --manifest-path "$src/Cargo.toml" -p polytrace-erlang --profile "$profile"
[ -z "$features" ] || set -- "$@" --features "$features"
# Locked to the repository's Cargo.lock when it has one (always, for a clone).
[ ! -f "$src/Cargo.lock" ] || set -- "$@" --locked
CARGO_TARGET_DIR=$target cargo "$@"

lib="$target/$out_dir/libpolytrace_nif.so"
[ -f "$lib" ] || lib="$target/$out_dir/libpolytrace_nif.dylib"
mkdir -p "$app_dir/priv"
# Copied (not linked) so the application directory is self-contained; replaced atomically
# so a running VM that has the old file mapped is unaffected.
cp "$lib" "$app_dir/priv/libpolytrace_nif.so.tmp"
mv "$app_dir/priv/libpolytrace_nif.so.tmp" "$app_dir/priv/libpolytrace_nif.so"
