#!/usr/bin/env bash
# The comparison benchmark (upstream_bench.erl): W1 and W4 on the official opentelemetry-erlang
# SDK, from a checkout of github.com/open-telemetry/opentelemetry-erlang that you supply (hex is
# not needed: apps/opentelemetry_api and apps/opentelemetry are compiled here with erlc).
#
#   bash bench/erlang/upstream.sh /path/to/opentelemetry-erlang [--quick]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${1:?usage: upstream.sh OPENTELEMETRY_ERLANG_CHECKOUT [--quick]}
shift
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for app in opentelemetry_api opentelemetry; do
    dir=$src/apps/$app
    echo "== compiling $app ($(grep -o '{vsn, *"[^"]*"' "$dir/src/$app.app.src"))" >&2
    mkdir -p "$out/$app/ebin"
    erlc -I "$dir/include" -I "$dir/src" -I "$src/apps" -pa "$out/opentelemetry_api/ebin" \
        -o "$out/$app/ebin" "$dir"/src/*.erl 2>&1 | grep -v -i -e warning -e '^%' -e '^$' >&2 || true
    # The .app file: the .app.src with its modules listed.
    erl -noshell -eval '
        [Src, Ebin] = init:get_plain_arguments(),
        {ok, [{application, App, Props}]} = file:consult(Src),
        Mods = [list_to_atom(filename:basename(F, ".beam")) || F <- filelib:wildcard(filename:join(Ebin, "*.beam"))],
        ok = file:write_file(filename:join(Ebin, atom_to_list(App) ++ ".app"),
            io_lib:format("~p.~n", [{application, App, lists:keystore(modules, 1, Props, {modules, Mods})}])),
        halt().' -extra "$dir/src/$app.app.src" "$out/$app/ebin"
done
erlc -o "$out" -pa "$out/opentelemetry/ebin" "$here/polytrace_bench.erl" "$here/upstream_bench.erl"
echo "== running (each workload in a fresh VM)" >&2
ERL_CRASH_DUMP_SECONDS=0 erl -noshell -pa "$out" -pa "$out/opentelemetry_api/ebin" -pa "$out/opentelemetry/ebin" \
    -run upstream_bench main -extra "$@"
