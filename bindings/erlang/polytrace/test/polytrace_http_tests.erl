%% The standard-library instrumentation over a real HTTP hop on loopback: polytrace_httpc calls
%% an inets httpd whose first module is polytrace_httpd; the spans (exported to a real OTLP
%% receiver, `polytrace receive`) form one trace: client -> server -> the handler's child.
-module(polytrace_http_tests).

-include_lib("eunit/include/eunit.hrl").

-include_lib("inets/include/httpd.hrl").

-export([hello/3, do/1]).

%% mod_esi callbacks.
hello(SessionID, _Env, _Input) ->
    polytrace_httpd:esi_attach(SessionID),
    polytrace:with_span(<<"render">>, #{}, fun() ->
        mod_esi:deliver(SessionID, "Content-Type: text/plain\r\n\r\nhello")
    end).

%% An httpd module of its own: /crash crashes it (httpd answers 500).
do(#mod{request_uri = "/crash"}) ->
    error(handler_crashed);
do(#mod{data = Data}) ->
    {proceed, Data}.

http_test_() ->
    {timeout, 60, fun http_hop/0}.

http_hop() ->
    {ok, _} = application:ensure_all_started(inets),
    {ok, _} = application:ensure_all_started(polytrace),
    Receiver = polytrace_test_util:receiver_start(),
    {_, HttpEndpoint, _, Out} = Receiver,
    Root = polytrace_test_util:tmp_file("www"),
    ok = filelib:ensure_path(Root),
    {ok, Httpd} = inets:start(httpd, [
        {port, 0},
        {bind_address, {127, 0, 0, 1}},
        {server_name, "polytrace-test"},
        {server_root, Root},
        {document_root, Root},
        {modules, [polytrace_httpd, ?MODULE, mod_alias, mod_esi, mod_get]},
        {erl_script_alias, {"/esi", [polytrace_http_tests]}}
    ]),
    try
        polytrace_test_util:restart(#{endpoint => list_to_binary(HttpEndpoint), service_name => <<"http-test">>}),
        [{port, Port}] = httpd:info(Httpd, [port]),
        Base = "http://127.0.0.1:" ++ integer_to_list(Port),
        {ok, {{_, 200, _}, _, "hello"}} =
            polytrace:with_span(<<"caller">>, #{}, fun() ->
                polytrace_httpc:request(get, {Base ++ "/esi/polytrace_http_tests:hello?x=1", [{"user-agent", "eunit"}]}, [], [])
            end),
        {ok, {{_, 500, _}, _, _}} = polytrace_httpc:request(Base ++ "/crash"),
        {ok, {{_, 404, _}, _, _}} = polytrace_httpc:request(Base ++ "/missing"),
        ok = polytrace:shutdown(),
        Spans = polytrace_test_util:wait_spans(Out, 8, 10000),
        Named = fun(N) -> [S || #{<<"name">> := X} = S <- Spans, X =:= N] end,
        [Caller] = Named(<<"caller">>),
        [Render] = Named(<<"render">>),
        Gets = Named(<<"GET">>),
        Clients = [S || #{<<"kind">> := 3} = S <- Gets],
        Servers = [S || #{<<"kind">> := 2} = S <- Gets],
        ?assertEqual(3, length(Clients)),
        ?assertEqual(3, length(Servers)),
        Trace = maps:get(<<"traceId">>, Caller),
        [Client] = [C || C <- Clients, maps:get(<<"traceId">>, C) =:= Trace],
        [Server] = [S || S <- Servers, maps:get(<<"traceId">>, S) =:= Trace],
        ?assertEqual(maps:get(<<"spanId">>, Caller), maps:get(<<"parentSpanId">>, Client)),
        ?assertEqual(maps:get(<<"spanId">>, Client), maps:get(<<"parentSpanId">>, Server)),
        ?assertEqual(maps:get(<<"spanId">>, Server), maps:get(<<"parentSpanId">>, Render)),
        SA = polytrace_test_util:attrs(Server),
        ?assertEqual(<<"/esi/polytrace_http_tests:hello">>, maps:get(<<"url.path">>, SA)),
        ?assertEqual(<<"x=1">>, maps:get(<<"url.query">>, SA)),
        ?assertEqual(200, maps:get(<<"http.response.status_code">>, SA)),
        ?assertEqual(<<"GET">>, maps:get(<<"http.request.method">>, SA)),
        ?assertEqual(<<"eunit">>, maps:get(<<"user_agent.original">>, SA)),
        ?assertEqual(<<"127.0.0.1">>, maps:get(<<"client.address">>, SA)),
        ?assertEqual(Port, maps:get(<<"server.port">>, SA)),
        ?assertEqual(<<"http-test">>, maps:get(<<"service">>, Server)),
        CA = polytrace_test_util:attrs(Client),
        ?assertEqual(200, maps:get(<<"http.response.status_code">>, CA)),
        ?assertEqual(list_to_binary(Base ++ "/esi/polytrace_http_tests:hello?x=1"), maps:get(<<"url.full">>, CA)),
        Code = fun(S) -> maps:get(<<"code">>, maps:get(<<"status">>, S, #{}), 0) end,
        Status = fun(S) -> maps:get(<<"http.response.status_code">>, polytrace_test_util:attrs(S), none) end,
        %% 5xx is an error for both sides; 404 only for the client
        [Crashed] = [S || S <- Servers, Status(S) =:= 500],
        ?assertEqual(2, Code(Crashed)),
        [Exception] = maps:get(<<"events">>, Crashed),
        ?assertEqual(<<"error:handler_crashed">>, polytrace_test_util:attr(Exception, <<"exception.type">>)),
        [NotFound] = [S || S <- Servers, Status(S) =:= 404],
        ?assertEqual(0, Code(NotFound)),
        ?assertEqual([2, 2], lists:sort([Code(C) || C <- Clients, Status(C) >= 400]))
    after
        inets:stop(httpd, Httpd),
        polytrace:shutdown(),
        polytrace_test_util:receiver_stop(Receiver)
    end.

%% OTLP over gRPC to the same kind of receiver.
grpc_export_test_() ->
    {timeout, 60, fun() ->
        {ok, _} = application:ensure_all_started(polytrace),
        Receiver = polytrace_test_util:receiver_start(),
        {_, _, GrpcEndpoint, Out} = Receiver,
        try
            polytrace_test_util:restart(#{protocol => grpc, endpoint => list_to_binary(GrpcEndpoint)}),
            [polytrace:with_span(<<"over-grpc">>, #{attributes => #{i => N}}, fun() -> ok end) || N <- lists:seq(1, 50)],
            ok = polytrace:shutdown(),
            Spans = polytrace_test_util:wait_spans(Out, 50, 10000),
            ?assertEqual(lists:seq(1, 50), lists:sort([polytrace_test_util:attr(S, <<"i">>) || S <- Spans])),
            ?assertMatch(#{spans_exported := 50, spans_dropped := 0}, polytrace:stats())
        after
            polytrace:shutdown(),
            polytrace_test_util:receiver_stop(Receiver)
        end
    end}.

%% shutdown/0 with a back end that accepts connections and never answers returns within the
%% core's exit bound (here the OTLP timeout, 1 s) plus 0.5 s — not the 30 s a fixed wait allowed
%% — and every ended span is either exported or counted as dropped (docs/reliability.md).
exit_bound_test_() ->
    {timeout, 60, fun() ->
        {ok, _} = application:ensure_all_started(polytrace),
        {Endpoint, Silent} = polytrace_test_util:silent_backend_start(),
        try
            polytrace_test_util:restart(#{endpoint => Endpoint, timeout => 1000, schedule_delay => 50}),
            [polytrace:with_span(<<"unsent">>, #{}, fun() -> ok end) || _ <- lists:seq(1, 3000)],
            T0 = erlang:monotonic_time(millisecond),
            Result = polytrace:shutdown(),
            Took = erlang:monotonic_time(millisecond) - T0,
            ?debugFmt("shutdown with a silent back end: ~p in ~b ms", [Result, Took]),
            ?assert(Took < 1500, {took_ms, Took}),
            #{spans_ended := Ended, spans_exported := Exported, spans_dropped := Dropped} =
                polytrace:stats(),
            ?assertEqual(3000, Ended),
            ?assertEqual(Ended, Exported + Dropped),
            ?assert(Dropped > 0)
        after
            polytrace_test_util:silent_backend_stop(Silent)
        end
    end}.
