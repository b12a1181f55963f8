%% Common Test: polytrace as a dependency of a separate rebar3 project elsewhere on the
%% machine, through _checkouts and through a git_subdir dependency on a file:// clone of this
%% repository (test/dependency/run.sh; it builds with nothing but rebar3 and cargo).
-module(polytrace_dependency_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, suite/0, dependency/1]).

suite() ->
    [{timetrap, {minutes, 20}}].

all() ->
    [dependency].

dependency(_Config) ->
    Script = filename:join([polytrace_test_util:repo_root(), "bindings", "erlang", "polytrace", "test", "dependency", "run.sh"]),
    Port = open_port({spawn_executable, "/bin/bash"}, [{args, [Script]}, stderr_to_stdout, exit_status, binary]),
    {Status, Output} = collect(Port, <<>>),
    ct:log("~ts", [Output]),
    0 = Status,
    {match, _} = re:run(Output, "dependency: 2 passed, 0 failed"),
    ok.

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, <<Acc/binary, D/binary>>);
        {Port, {exit_status, S}} -> {S, Acc}
    end.
