%% Reliability and security (docs/reliability.md, docs/security.md), against the real
%% `polytrace receive` on loopback: many processes producing spans with concurrent flushes and a
%% shutdown in the middle; huge and malformed input through the span API; redaction checked on
%% what the receiver wrote.
-module(polytrace_reliability_tests).

-include_lib("eunit/include/eunit.hrl").

-import(polytrace_test_util, [attr/2, attrs/1]).

-define(PRODUCERS, 32).
-define(FLUSHERS, 4).
-define(SHUTDOWN_AFTER, 20000).

%% Runs Body(HttpEndpoint, OutFile) with a receiver that is stopped afterwards.
with_receiver(Body) ->
    {ok, _} = application:ensure_all_started(polytrace),
    {_, Http, _, Out} = Receiver = polytrace_test_util:receiver_start(),
    try
        Body(list_to_binary(Http), Out)
    after
        _ = polytrace:shutdown(),
        polytrace_test_util:receiver_stop(Receiver)
    end.

%% Waits for one {Tag, Pid, Result} from each of Pids; fails after Ms in all.
collect(Tag, Pids, Ms) ->
    Deadline = erlang:monotonic_time(millisecond) + Ms,
    [
        receive
            {Tag, Pid, Result} -> Result
        after max(0, Deadline - erlang:monotonic_time(millisecond)) ->
            error({no_answer_from, Tag, Pid})
        end
     || Pid <- Pids
    ].

concurrency_test_() ->
    {timeout, 120, fun concurrency/0}.

%% 32 processes make spans while 4 processes call force_flush/0 in a loop, and the test
%% process calls shutdown/0 once 20,000 have ended, while they go on: nobody crashes, every
%% call returns, and after the shutdown the counters add up (ended = exported + dropped).
concurrency() ->
    with_receiver(fun(Http, Out) ->
        polytrace_test_util:restart(#{
            endpoint => Http, service_name => <<"erl-concurrency">>, schedule_delay => 20
        }),
        Self = self(),
        %% Each producer makes spans until told to stop; it answers with how many it made.
        Producer = fun(I) ->
            spawn(fun() ->
                Make = fun Loop(N) ->
                    receive
                        stop -> {ok, N}
                    after 0 ->
                        polytrace:with_span(<<"work">>, #{attributes => #{<<"p">> => I}}, fun() ->
                            polytrace:set_attribute(<<"n">>, N),
                            polytrace:with_span(<<"inner">>, #{}, fun() -> ok end)
                        end),
                        Loop(N + 2)
                    end
                end,
                R =
                    try
                        Make(0)
                    catch
                        C:E:St -> {C, E, St}
                    end,
                Self ! {produced, self(), R}
            end)
        end,
        Flusher = fun Loop(Results) ->
            receive
                stop -> Self ! {flushed, self(), Results}
            after 0 ->
                R =
                    try
                        polytrace:force_flush()
                    catch
                        C:E -> {C, E}
                    end,
                Loop(maps:update_with(R, fun(X) -> X + 1 end, 1, Results))
            end
        end,
        T0 = erlang:monotonic_time(millisecond),
        Flushers = [spawn(fun() -> Flusher(#{}) end) || _ <- lists:seq(1, ?FLUSHERS)],
        Producers = [Producer(I) || I <- lists:seq(1, ?PRODUCERS)],
        wait_ended(?SHUTDOWN_AFTER, 20000),
        ?assertEqual(ok, polytrace:shutdown()),
        ShutdownAt = polytrace:stats(),
        %% Producers and flushers go on against the stopped pipeline for a while.
        timer:sleep(200),
        [P ! stop || P <- Producers],
        [F ! stop || F <- Flushers],
        Produced = collect(produced, Producers, 60000),
        Flushed = collect(flushed, Flushers, 60000),
        Took = erlang:monotonic_time(millisecond) - T0,
        Made = lists:sum([N || {ok, N} <- Produced]),
        ?assertEqual([], [R || R <- Produced, element(1, R) =/= ok]),
        %% force_flush/0 returns ok or an error term; it never raises.
        [?assertEqual([], [R || R <- maps:keys(F), R =/= ok, element(1, R) =/= error]) || F <- Flushed],
        Stats = polytrace:stats(),
        #{spans_ended := Ended, spans_exported := Exported, spans_dropped := Dropped,
            spans_started := Started} = Stats,
        ?debugFmt(
            "~b producers (~b spans made), ~b flushers (~b force_flush calls), shutdown at ~b ended: "
            "started ~b, ended ~b, exported ~b, dropped ~b, in ~b ms",
            [?PRODUCERS, Made, ?FLUSHERS,
                lists:sum([N || F <- Flushed, N <- maps:values(F)]),
                maps:get(spans_ended, ShutdownAt), Started, Ended, Exported, Dropped, Took]
        ),
        %% The shutdown was in the middle: spans were made after it (no-ops, not counted).
        ?assert(Made > Ended),
        %% A span a producer started before the shutdown and ends just after it is still
        %% counted; nothing else is: at most one such span per producer.
        AtShutdown = maps:get(spans_ended, ShutdownAt),
        ?assert(Ended >= AtShutdown andalso Ended - AtShutdown =< ?PRODUCERS, {AtShutdown, Ended}),
        ?assertEqual(Started, Ended),
        ?assert(Ended >= ?SHUTDOWN_AFTER),
        ?assertEqual(Ended, Exported + Dropped),
        %% What was counted as exported is what the receiver got.
        Received = polytrace_test_util:wait_spans(Out, Exported, 10000),
        ?assertEqual(Exported, length(Received)),
        %% The pipeline starts again after it all.
        polytrace_test_util:restart(#{exporter => none}),
        ?assert(polytrace:with_span(<<"again">>, #{}, fun(S) -> polytrace:is_recording(S) end))
    end).

wait_ended(N, Ms) ->
    case maps:get(spans_ended, polytrace:stats()) >= N orelse Ms =< 0 of
        true -> ok;
        false ->
            timer:sleep(1),
            wait_ended(N, Ms - 1)
    end.

huge_input_test_() ->
    {timeout, 120, fun huge_input/0}.

%% A 1 MB value, 200,000 set_attribute calls on one span, a 100,000-element list, a list nested
%% 100,000 deep, invalid UTF-8 in names, keys and values: no call raises, the process stays
%% alive, the span is exported with the core's limits (128 attributes, the rest counted).
huge_input() ->
    with_receiver(fun(Http, Out) ->
        polytrace_test_util:restart(#{endpoint => Http, service_name => <<"erl-huge">>}),
        Big = binary:copy(<<"x">>, 1024 * 1024),
        Nested = lists:foldl(fun(_, Acc) -> [Acc] end, [], lists:seq(1, 100000)),
        Bad = <<16#ff, 16#fe, "bad", 16#c0>>,
        {T, _} = timer:tc(fun() ->
            polytrace:with_span(<<"big">>, #{}, fun() ->
                true = polytrace:set_attribute(<<"big">>, Big),
                true = polytrace:set_attribute(<<"long.list">>, lists:seq(1, 100000)),
                true = polytrace:set_attribute(<<"nested">>, Nested)
            end),
            polytrace:with_span(<<"many">>, #{}, fun() ->
                [polytrace:set_attribute(<<"k", (integer_to_binary(I))/binary>>, I) || I <- lists:seq(1, 200000)]
            end),
            polytrace:with_span(Bad, #{}, fun() ->
                polytrace:set_attribute(Bad, 1),
                polytrace:set_attribute(<<"bad.value">>, Bad),
                polytrace:set_attribute(<<"bad.list">>, [Bad, <<"ok">>]),
                polytrace:add_event(Bad, #{Bad => Bad}),
                polytrace:set_status(error, Bad),
                polytrace:update_name(Bad)
            end)
        end),
        ?assertEqual(ok, polytrace:force_flush()),
        Spans = polytrace_test_util:wait_spans(Out, 3, 20000),
        ?assertEqual(3, length(Spans)),
        ByName = maps:from_list([{maps:get(<<"name">>, S), S} || S <- Spans]),
        BigSpan = maps:get(<<"big">>, ByName),
        ?assertEqual(Big, attr(BigSpan, <<"big">>)),
        ?assertEqual(lists:seq(1, 100000), attr(BigSpan, <<"long.list">>)),
        ?assertEqual(undefined, attr(BigSpan, <<"nested">>)),
        Many = maps:get(<<"many">>, ByName),
        ?assertEqual(128, map_size(attrs(Many))),
        ?assertEqual(200000 - 128, maps:get(<<"droppedAttributesCount">>, Many)),
        #{spans_ended := Ended, spans_exported := Exported, spans_dropped := Dropped} = polytrace:stats(),
        ?assertEqual({3, 3, 0}, {Ended, Exported, Dropped}),
        %% Invalid UTF-8 is exported with U+FFFD in place of each bad byte.
        BadName = <<"\x{FFFD}\x{FFFD}bad\x{FFFD}"/utf8>>,
        BadSpan = maps:get(BadName, ByName),
        ?assertEqual(#{BadName => 1, <<"bad.value">> => BadName, <<"bad.list">> => [BadName, <<"ok">>]}, attrs(BadSpan)),
        ?assertEqual(#{<<"code">> => 2, <<"message">> => BadName}, maps:get(<<"status">>, BadSpan)),
        ?debugFmt(
            "huge input: 3 spans (1 MB value, 100,000-element list, 200,000 attribute calls, "
            "invalid UTF-8) made in ~b ms; the invalid-UTF-8 span exported as ~0p with attributes ~0p",
            [T div 1000, BadName, attrs(BadSpan)]
        ),
        ?assert(is_process_alive(self()))
    end).

redaction_test_() ->
    {timeout, 60, fun redaction/0}.

%% POLYTRACE_REDACT's rules and hashed keys, applied by the core to an Erlang span: checked in
%% the receiver's output (span name, attributes, arrays, event name and attributes, exception,
%% status description).
redaction() ->
    with_receiver(fun(Http, Out) ->
        polytrace_test_util:restart(#{
            endpoint => Http,
            service_name => <<"erl-redact">>,
            redact => <<"email,card,ssn">>,
            redact_hash_keys => <<"user.id,user.n">>
        }),
        polytrace:with_span(<<"GET /users/jane@example.com">>, #{}, fun() ->
            polytrace:set_attribute(<<"q">>, <<"card 4111 1111 1111 1111 please">>),
            polytrace:set_attribute(<<"order">>, <<"order 1234567812345678">>),
            polytrace:set_attribute(<<"list">>, [<<"ok">>, <<"bob@example.org">>, <<"078-05-1120">>]),
            polytrace:set_attribute(<<"user.id">>, <<"u-42">>),
            polytrace:set_attribute(<<"user.n">>, 42),
            polytrace:add_event(<<"mailed ann@example.net">>, #{<<"to">> => <<"ann@example.net">>, <<"ssn">> => <<"123-45-6789">>}),
            polytrace:record_exception(error, {no_account, <<"jane@example.com">>}, []),
            polytrace:set_status(error, <<"card 5500-0000-0000-0004 declined">>)
        end),
        ok = polytrace:shutdown(),
        [S] = polytrace_test_util:wait_spans(Out, 1, 10000),
        {ok, Raw} = file:read_file(Out),
        [
            ?assertEqual(nomatch, binary:match(Raw, Leak), Leak)
         || Leak <- [<<"jane@example.com">>, <<"bob@example.org">>, <<"ann@example.net">>,
                <<"4111 1111">>, <<"123-45-6789">>, <<"078-05-1120">>, <<"5500-0000">>, <<"u-42">>]
        ],
        ?assertEqual(<<"GET /users/[REDACTED:email]">>, maps:get(<<"name">>, S)),
        A = attrs(S),
        ?assertEqual(<<"card [REDACTED:card] please">>, maps:get(<<"q">>, A)),
        ?assertEqual(<<"order 1234567812345678">>, maps:get(<<"order">>, A)),
        ?assertEqual([<<"ok">>, <<"[REDACTED:email]">>, <<"[REDACTED:ssn]">>], maps:get(<<"list">>, A)),
        ?assertMatch(<<"sha256:", _/binary>>, maps:get(<<"user.id">>, A)),
        ?assertMatch(<<"sha256:", _/binary>>, maps:get(<<"user.n">>, A)),
        ?assertEqual(<<"card [REDACTED:card] declined">>, maps:get(<<"message">>, maps:get(<<"status">>, S))),
        Events = maps:from_list([{maps:get(<<"name">>, E), E} || E <- maps:get(<<"events">>, S)]),
        Mailed = maps:get(<<"mailed [REDACTED:email]">>, Events),
        ?assertEqual(#{<<"to">> => <<"[REDACTED:email]">>, <<"ssn">> => <<"[REDACTED:ssn]">>}, attrs(Mailed)),
        Message = attr(maps:get(<<"exception">>, Events), <<"exception.message">>),
        ?assertNotEqual(nomatch, binary:match(Message, <<"[REDACTED:email]">>))
    end).

tls_test_() ->
    {timeout, 120, fun tls/0}.

%% TLS and mTLS export through the certificate options against a receiver that requires
%% client certificates (made by tests/security/pki.sh); another CA, or no client certificate,
%% fails the export, counted, with nothing received; the headers option's value appears in
%% nothing logged.
tls() ->
    Pki = filename:dirname(polytrace_test_util:tmp_file("pki")),
    Script = filename:join([polytrace_test_util:repo_root(), "tests", "security", "pki.sh"]),
    _ = os:cmd("bash " ++ Script ++ " " ++ Pki),
    File = fun(Name) -> list_to_binary(filename:join(Pki, Name)) end,
    true = filelib:is_regular(File("client.key")),
    {ok, _} = application:ensure_all_started(polytrace),
    {_, Http, _, Out} = Receiver = polytrace_test_util:receiver_start([
        "--tls-cert", filename:join(Pki, "server.pem"), "--tls-key", filename:join(Pki, "server.key"),
        "--tls-client-ca", filename:join(Pki, "ca.pem")
    ]),
    "http://" ++ Addr = Http,
    Endpoint = list_to_binary("https://" ++ Addr),
    Secret = <<"erl-s3cr3t-header-value">>,
    %% Flush = false: only shutdown/0, whose wait is bounded by the OTLP timeout (2 s here).
    Run = fun(Service, Flush, Options) ->
        polytrace_test_util:restart(maps:merge(#{
            endpoint => Endpoint, service_name => Service, timeout => 2000,
            headers => <<"x-api-key=", Secret/binary>>
        }, Options)),
        [polytrace:with_span(<<"tls">>, #{}, fun() -> ok end) || _ <- lists:seq(1, 5)],
        Flush andalso ?assertEqual(ok, polytrace:force_flush()),
        T0 = erlang:monotonic_time(millisecond),
        ok = polytrace:shutdown(),
        Took = erlang:monotonic_time(millisecond) - T0,
        ?debugFmt("~s: shutdown/0 took ~b ms", [Service, Took]),
        ?assert(Took < 2500, {took_ms, Took}),
        polytrace:stats()
    end,
    polytrace_test_util:capture_logs(),
    try
        %% An invalid headers option (a space in a name) is an error that does not carry values.
        ok = polytrace:shutdown(),
        BadHeaders = polytrace:start(#{headers => <<"x-api-key=", Secret/binary, ",x bad=", Secret/binary>>}),
        ?assertMatch({error, {invalid_config, _, #{option := <<"headers">>, problem := bad_value}}}, BadHeaders),
        ?assertEqual(nomatch, binary:match(iolist_to_binary(io_lib:format("~p", [BadHeaders])), Secret)),
        Good = Run(<<"erl-mtls">>, true, #{
            certificate => File("ca.pem"), client_key => File("client.key"),
            client_certificate => File("client.pem")
        }),
        ?assertMatch(#{spans_exported := 5, spans_dropped := 0}, Good),
        ?assertEqual(5, length(polytrace_test_util:wait_spans(Out, 5, 10000))),
        WrongCa = Run(<<"erl-wrong-ca">>, false, #{
            certificate => File("other-ca.pem"), client_key => File("client.key"),
            client_certificate => File("client.pem")
        }),
        NoClient = Run(<<"erl-no-client-cert">>, false, #{certificate => File("ca.pem")}),
        timer:sleep(500),
        [
            begin
                ?assertMatch(#{spans_exported := 0, spans_dropped := 5, dropped_export_failed := 5}, S),
                ?assert(maps:get(export_failures, S) > 0)
            end
         || S <- [WrongCa, NoClient]
        ],
        %% Nothing of the failed runs reached the receiver.
        ?assertEqual(5, length(polytrace_test_util:spans(Out))),
        Logs = polytrace_test_util:captured_logs(),
        ?debugFmt("TLS: mTLS 5 exported; wrong CA ~0p; no client certificate ~0p; ~b log lines, e.g. ~0p",
            [maps:with([spans_exported, dropped_export_failed, export_failures], WrongCa),
                maps:with([spans_exported, dropped_export_failed, export_failures], NoClient),
                length(Logs), lists:sublist(Logs, 2)]),
        [?assertEqual(nomatch, binary:match(L, Secret)) || L <- Logs],
        [?assertEqual(nomatch, binary:match(iolist_to_binary(io_lib:format("~p", [S])), Secret)) || S <- [Good, WrongCa, NoClient]]
    after
        polytrace_test_util:stop_capture(),
        _ = polytrace:shutdown(),
        polytrace_test_util:receiver_stop(Receiver)
    end.
