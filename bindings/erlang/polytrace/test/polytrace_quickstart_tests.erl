%% examples/erlang (run.sh) against a real OTLP receiver: one request to the shop is one trace
%% of two services' SERVER spans, the httpc CLIENT span between them and their children.
-module(polytrace_quickstart_tests).

-include_lib("eunit/include/eunit.hrl").

quickstart_test_() ->
    {timeout, 300, fun quickstart/0}.

quickstart() ->
    Receiver = polytrace_test_util:receiver_start(),
    {_, Http, _, Out} = Receiver,
    try
        Script = filename:join([polytrace_test_util:repo_root(), "examples", "erlang", "run.sh"]),
        Port = open_port({spawn_executable, "/bin/bash"}, [
            {args, [Script]},
            {env, [{"OTEL_EXPORTER_OTLP_ENDPOINT", Http}]},
            stderr_to_stdout,
            exit_status,
            binary
        ]),
        {Status, Output} = collect(Port, <<>>),
        ?assertEqual({0, Output}, {Status, Output}),
        ?assertNotEqual(nomatch, binary:match(Output, <<"shop answered: item 42: 7 in stock">>)),
        Spans = polytrace_test_util:wait_spans(Out, 6, 10000),
        ?assertEqual(1, length(lists:usort([maps:get(<<"traceId">>, S) || S <- Spans]))),
        Names = lists:sort([{maps:get(<<"name">>, S), maps:get(<<"kind">>, S)} || S <- Spans]),
        ?assertEqual(
            [{<<"GET">>, 2}, {<<"GET">>, 2}, {<<"GET">>, 3}, {<<"check-stock">>, 1}, {<<"db.query">>, 3}, {<<"render">>, 1}],
            Names
        ),
        ?assertEqual([<<"erlang-quickstart">>], lists:usort([maps:get(<<"service">>, S) || S <- Spans]))
    after
        polytrace_test_util:receiver_stop(Receiver)
    end.

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, <<Acc/binary, D/binary>>);
        {Port, {exit_status, S}} -> {S, Acc}
    after 240000 -> {timeout, Acc}
    end.
