%% The application of the dependency test: traces one span into a file and checks it is there.
-module(demo).
-export([run/1]).

run([File]) ->
    ok = polytrace:start(#{exporter => file, file_path => list_to_binary(File), service_name => <<"demo">>}),
    polytrace:with_span(<<"from-a-dependent-project">>, #{}, fun() -> polytrace:set_attribute(ok, true) end),
    ok = polytrace:shutdown(),
    {ok, Text} = file:read_file(File),
    case binary:match(Text, <<"from-a-dependent-project">>) of
        nomatch -> io:format("dependency FAILED: no span in ~s~n", [File]), halt(1);
        _ -> io:format("dependency ok: span exported~n"), halt(0)
    end.
