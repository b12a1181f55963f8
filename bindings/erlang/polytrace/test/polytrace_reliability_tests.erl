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
        %% Two bytes never in UTF-8, an encoded surrogate (WTF-8's U+D800), a lone C0.
        Bad = <<16#ff, 16#fe, "bad", 16#ed, 16#a0, 16#80, 16#c0>>,
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
        %% Invalid UTF-8 is exported by the core's rule (polytrace_core::text): the encoded
        %% surrogate is one U+FFFD, the other bad bytes one each (each a maximal subpart).
        BadName = <<"\x{FFFD}\x{FFFD}bad\x{FFFD}\x{FFFD}"/utf8>>,
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

%% TLS and mTLS export through the certificate options, over OTLP/HTTP and OTLP/gRPC, against a
%% receiver that requires client certificates (made by tests/security/pki.sh); another CA, or no
%% client certificate, fails the export — counted, nothing received, force_flush/0 and
%% shutdown/0 prompt (a certificate rejected here is not retried) — and the headers option's
%% value appears in nothing logged.
tls() ->
    Pki = filename:dirname(polytrace_test_util:tmp_file("pki")),
    Script = filename:join([polytrace_test_util:repo_root(), "tests", "security", "pki.sh"]),
    _ = os:cmd("bash " ++ Script ++ " " ++ Pki),
    File = fun(Name) -> list_to_binary(filename:join(Pki, Name)) end,
    true = filelib:is_regular(File("client.key")),
    {ok, _} = application:ensure_all_started(polytrace),
    {_, "http://" ++ Http, "http://" ++ Grpc, Out} = Receiver = polytrace_test_util:receiver_start([
        "--tls-cert", filename:join(Pki, "server.pem"), "--tls-key", filename:join(Pki, "server.key"),
        "--tls-client-ca", filename:join(Pki, "ca.pem")
    ]),
    Endpoints = #{<<"http/protobuf">> => list_to_binary("https://" ++ Http), <<"grpc">> => list_to_binary("https://" ++ Grpc)},
    Secret = <<"erl-s3cr3t-header-value">>,
    %% The OTLP timeout is 2 s and the export timeout stays at its default (30 s): a rejected
    %% handshake that were retried would hold force_flush/0 for up to 30 s.
    Run = fun(Service, Protocol, Options) ->
        polytrace_test_util:restart(maps:merge(#{
            endpoint => maps:get(Protocol, Endpoints), protocol => Protocol, service_name => Service,
            timeout => 2000, headers => <<"x-api-key=", Secret/binary>>
        }, Options)),
        [polytrace:with_span(<<"tls">>, #{}, fun() -> ok end) || _ <- lists:seq(1, 5)],
        {FlushUs, ok} = timer:tc(fun polytrace:force_flush/0),
        {ShutdownUs, ok} = timer:tc(fun polytrace:shutdown/0),
        ?debugFmt("~s over ~s: force_flush/0 ~b ms, shutdown/0 ~b ms",
            [Service, Protocol, FlushUs div 1000, ShutdownUs div 1000]),
        ?assert(FlushUs < 2500000, {force_flush_ms, FlushUs div 1000}),
        ?assert(ShutdownUs < 2500000, {shutdown_ms, ShutdownUs div 1000}),
        polytrace:stats()
    end,
    polytrace_test_util:capture_logs(),
    try
        %% An invalid headers option (a space in a name) is an error that does not carry values.
        ok = polytrace:shutdown(),
        BadHeaders = polytrace:start(#{headers => <<"x-api-key=", Secret/binary, ",x bad=", Secret/binary>>}),
        ?assertMatch({error, {invalid_config, _, #{option := <<"headers">>, problem := bad_value}}}, BadHeaders),
        ?assertEqual(nomatch, binary:match(iolist_to_binary(io_lib:format("~p", [BadHeaders])), Secret)),
        Stats = lists:append([
            begin
                Good = Run(<<"erl-mtls">>, Protocol, #{
                    certificate => File("ca.pem"), client_key => File("client.key"),
                    client_certificate => File("client.pem")
                }),
                ?assertMatch(#{spans_exported := 5, spans_dropped := 0}, Good),
                WrongCa = Run(<<"erl-wrong-ca">>, Protocol, #{
                    certificate => File("other-ca.pem"), client_key => File("client.key"),
                    client_certificate => File("client.pem")
                }),
                %% The server rejects the missing certificate after the client's side of the
                %% TLS 1.3 handshake: the client may see only a reset, retried like one, so the
                %% export timeout is short here (core/tests/export.rs, server_rejection_options).
                NoClient = Run(<<"erl-no-client-cert">>, Protocol, #{certificate => File("ca.pem"),
                    export_timeout => 1500}),
                [
                    ?assertMatch(#{spans_exported := 0, spans_dropped := 5, dropped_export_failed := 5,
                        export_failures := 1}, S)
                 || S <- [WrongCa, NoClient]
                ],
                ?debugFmt("TLS over ~s: mTLS 5 exported; wrong CA ~0p; no client certificate ~0p", [Protocol,
                    maps:with([spans_exported, dropped_export_failed, export_failures], WrongCa),
                    maps:with([spans_exported, dropped_export_failed, export_failures], NoClient)]),
                [Good, WrongCa, NoClient]
            end
         || Protocol <- [<<"http/protobuf">>, <<"grpc">>]
        ]),
        %% Only the two mTLS runs reached the receiver.
        ?assertEqual(10, length(polytrace_test_util:wait_spans(Out, 10, 10000))),
        timer:sleep(200),
        ?assertEqual(10, length(polytrace_test_util:spans(Out))),
        Logs = polytrace_test_util:captured_logs(),
        ?debugFmt("TLS: ~b log lines, e.g. ~0p", [length(Logs), lists:sublist(Logs, 2)]),
        %% The handshake's failure is named in what is logged.
        ?assert(lists:any(fun(L) -> binary:match(L, <<"TLS handshake failed">>) =/= nomatch end, Logs), Logs),
        [?assertEqual(nomatch, binary:match(L, Secret)) || L <- Logs],
        [?assertEqual(nomatch, binary:match(iolist_to_binary(io_lib:format("~p", [S])), Secret)) || S <- Stats]
    after
        polytrace_test_util:stop_capture(),
        _ = polytrace:shutdown(),
        polytrace_test_util:receiver_stop(Receiver)
    end.

node_exit_test_() ->
    {timeout, 60, fun node_exit/0}.

%% A whole node that exits with init:stop() while its back end accepts connections and never
%% answers: the application's stop shuts the pipeline down within the core's exit bound (here
%% the OTLP timeout, 1 s) plus 0.5 s, and the OS process ends within that bound plus what
%% init:stop() takes on a node without polytrace (measured in the same test: about 1 s on
%% OTP 25 here) — and every span ended is exported or counted as dropped. The stats, and when
%% the application's supervisor went, are written by a process that watches it.
node_exit() ->
    {Endpoint, Silent} = polytrace_test_util:silent_backend_start(),
    StatsFile = polytrace_test_util:tmp_file("stats"),
    try
        {0, Bare} = node_stop("ok", []),
        {Status, Took} = node_stop(io_lib:format(
            "{ok, _} = application:ensure_all_started(polytrace),"
            "ok = polytrace:start(#{endpoint => ~p, timeout => 1000, schedule_delay => 50,"
            "  service_name => <<\"erl-node-exit\">>}),"
            "Watcher = spawn(fun() ->"
            "  R = monitor(process, whereis(polytrace_sup)),"
            "  T0 = receive {stopping, T} -> T end,"
            "  receive {'DOWN', R, _, _, _} ->"
            "    AppStop = erlang:monotonic_time(millisecond) - T0,"
            "    ok = file:write_file(~p, io_lib:format(\"~~p.~~n\", [{polytrace:stats(), AppStop}]), [raw])"
            "  end end),"
            "[polytrace:with_span(<<\"unsent\">>, #{}, fun() -> ok end) || _ <- lists:seq(1, 3000)],"
            "Watcher ! {stopping, erlang:monotonic_time(millisecond)}",
            [Endpoint, StatsFile]
        ), [filename:dirname(code:which(polytrace))]),
        {ok, [{Stats, AppStop}]} = file:consult(StatsFile),
        ?debugFmt("init:stop() with a silent back end: exit status ~b; the application stopped after ~b ms, "
            "the OS process ended after ~b ms (a node without polytrace: ~b ms); ~0p", [Status, AppStop, Took, Bare,
            maps:with([spans_ended, spans_exported, spans_dropped, dropped_shutdown, dropped_export_failed], Stats)]),
        ?assertEqual(0, Status),
        ?assert(AppStop < 1500, {application_stop_ms, AppStop}),
        ?assert(Took < Bare + 1500, {took_ms, Took, bare_node_ms, Bare}),
        #{spans_ended := Ended, spans_exported := Exported, spans_dropped := Dropped} = Stats,
        ?assertEqual(3000, Ended),
        ?assertEqual(Ended, Exported + Dropped),
        ?assert(Dropped > 0)
    after
        polytrace_test_util:silent_backend_stop(Silent)
    end.

%% Runs a node that evaluates Expr, prints "stopping" and calls init:stop(): {ExitStatus, ms
%% from that line to the end of the OS process}.
node_stop(Expr, Paths) ->
    Eval = lists:flatten([Expr, ", io:format(\"stopping~n\"), init:stop()."]),
    Node = open_port({spawn_executable, os:find_executable("erl")}, [
        {args, ["-noshell", "-noinput"] ++ lists:append([["-pa", P] || P <- Paths]) ++ ["-eval", Eval]},
        stderr_to_stdout, {line, 4096}, exit_status
    ]),
    try
        T0 = wait_line(Node, "stopping", 30000),
        receive
            {Node, {exit_status, S}} -> {S, erlang:monotonic_time(millisecond) - T0}
        after 20000 -> error(node_did_not_exit)
        end
    after
        catch port_close(Node)
    end.

%% The time Line was printed by Port (other lines are shown).
wait_line(Port, Line, Ms) ->
    receive
        {Port, {data, {eol, Line}}} -> erlang:monotonic_time(millisecond);
        {Port, {data, {_, Other}}} ->
            ?debugFmt("node: ~s", [Other]),
            wait_line(Port, Line, Ms);
        {Port, {exit_status, S}} -> error({node_exited, S})
    after Ms -> error({no_line, Line})
    end.
