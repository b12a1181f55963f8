%% The API end to end: spans exported by the core's file exporter (OTLP/JSON lines) and read
%% back; context; badarg messages; bad attribute values; the error mapping; no-op behaviour.
-module(polytrace_tests).

-include_lib("eunit/include/eunit.hrl").
-include("polytrace.hrl").

-import(polytrace_test_util, [attr/2, attrs/1]).

%% Runs Body with a fresh pipeline exporting to a file; returns the spans Body produced.
traced(Body) ->
    traced(#{}, Body).

traced(Config, Body) ->
    File = polytrace_test_util:tmp_file("spans.jsonl"),
    polytrace_test_util:restart(maps:merge(#{exporter => file, file_path => list_to_binary(File)}, Config)),
    Body(),
    ok = polytrace:force_flush(),
    polytrace_test_util:spans(File).

by_name(Spans, Name) ->
    case [S || #{<<"name">> := N} = S <- Spans, N =:= Name] of
        [S] -> S;
        Other -> error({not_one_span_named, Name, length(Other)})
    end.

setup() ->
    {ok, _} = application:ensure_all_started(polytrace),
    ok.

api_test_() ->
    {setup, fun setup/0, fun(_) -> polytrace:shutdown() end, [
        {"a span with attributes of every type, an event, kind and status", fun span_content/0},
        {"parent and child share the trace; with_span makes the span current", fun nesting/0},
        {"with_span records a raised exception, sets error status and re-raises", fun raising/0},
        {"status calls reach the core in order: ok is final, a later error wins", fun status_precedence/0},
        {"update_name, links, start and end times, set_attributes", fun misc/0},
        {"bad attribute values are dropped with one logger warning per cause", fun bad_attributes/0},
        {"badarg names the argument", fun badarg_messages/0},
        {"extract gives a remote parent; inject writes W3C headers", fun propagation/0},
        {"attach/detach and wrap carry the context across processes", fun context/0},
        {"the logger filter adds trace_id, span_id and trace_flags", fun logger_metadata/0},
        {"a span ended twice, or by another process, is recorded once", fun ownership/0},
        {"OTEL_SDK_DISABLED-style disabled option: no spans, context still flows", fun disabled/0},
        {"after shutdown spans are no-ops and the counters stay readable", fun after_shutdown/0},
        {"sampler decisions the plan does not fix are asked of the core", fun ratio_sampler/0},
        {"limits are the core's: attribute count limit and dropped count", fun limits/0},
        {"caps: a span under heavy use exports what the core's limits give, dropped counts exact", fun caps/0},
        {"caps: a live span's memory stays bounded however many calls it takes", fun caps_memory/0},
        {"stats count started, ended and exported spans", fun stats/0}
    ]}.

span_content() ->
    Spans = traced(fun() ->
        polytrace:with_span(<<"checkout">>, #{kind => server, attributes => #{<<"start.attr">> => 1}}, fun(_) ->
            polytrace:set_attribute(<<"s">>, <<"text">>),
            polytrace:set_attribute(atom_key, an_atom),
            polytrace:set_attribute("charlist.key", -42),
            polytrace:set_attribute(<<"f">>, 2.5),
            polytrace:set_attribute(<<"b">>, false),
            polytrace:set_attribute(<<"ls">>, [<<"a">>, b]),
            polytrace:set_attribute(<<"li">>, [1, 2, 3]),
            polytrace:set_attribute(<<"lf">>, [1.0, 2.0]),
            polytrace:set_attribute(<<"lb">>, [true, false]),
            polytrace:set_attribute(<<"s">>, <<"overwritten">>),
            polytrace:add_event(<<"paid">>, #{<<"amount">> => 12}),
            polytrace:set_status(ok, <<>>)
        end)
    end),
    [S] = Spans,
    ?assertEqual(<<"checkout">>, maps:get(<<"name">>, S)),
    ?assertEqual(2, maps:get(<<"kind">>, S)),
    A = attrs(S),
    ?assertEqual(1, maps:get(<<"start.attr">>, A)),
    ?assertEqual(<<"overwritten">>, maps:get(<<"s">>, A)),
    ?assertEqual(<<"an_atom">>, maps:get(<<"atom_key">>, A)),
    ?assertEqual(-42, maps:get(<<"charlist.key">>, A)),
    ?assertEqual(2.5, maps:get(<<"f">>, A)),
    ?assertEqual(false, maps:get(<<"b">>, A)),
    ?assertEqual([<<"a">>, <<"b">>], maps:get(<<"ls">>, A)),
    ?assertEqual([1, 2, 3], maps:get(<<"li">>, A)),
    ?assertEqual([1.0, 2.0], maps:get(<<"lf">>, A)),
    ?assertEqual([true, false], maps:get(<<"lb">>, A)),
    [E] = maps:get(<<"events">>, S),
    ?assertEqual(<<"paid">>, maps:get(<<"name">>, E)),
    ?assertEqual(12, attr(E, <<"amount">>)),
    ?assertEqual(1, maps:get(<<"code">>, maps:get(<<"status">>, S))),
    ?assertEqual(<<"erlang">>, attr_of_resource(S)),
    ?assertEqual(<<"polytrace">>, maps:get(<<"name">>, maps:get(<<"scope">>, S))).

attr_of_resource(_S) ->
    %% telemetry.sdk.language is checked through the effective configuration.
    proplists:get_value(<<"sdk_language">>, polytrace:effective_config()).

nesting() ->
    Spans = traced(fun() ->
        polytrace:with_span(outer, #{}, fun(Outer) ->
            ?assertEqual(Outer, polytrace:current_span_ctx()),
            polytrace:with_span(middle, #{}, fun() ->
                Inner = polytrace:start_span(inner),
                ?assertEqual(middle_is_current, case polytrace:current_span_ctx() of
                    #span_ctx{} = C when C =/= Inner -> middle_is_current
                end),
                polytrace:end_span(Inner)
            end),
            ?assertEqual(Outer, polytrace:current_span_ctx())
        end),
        ?assertEqual(undefined, polytrace:current_span_ctx())
    end),
    Outer = by_name(Spans, <<"outer">>),
    Middle = by_name(Spans, <<"middle">>),
    Inner = by_name(Spans, <<"inner">>),
    Trace = maps:get(<<"traceId">>, Outer),
    ?assertEqual([Trace, Trace], [maps:get(<<"traceId">>, Middle), maps:get(<<"traceId">>, Inner)]),
    ?assertEqual(maps:get(<<"spanId">>, Outer), maps:get(<<"parentSpanId">>, Middle)),
    ?assertEqual(maps:get(<<"spanId">>, Middle), maps:get(<<"parentSpanId">>, Inner)),
    ?assertEqual(false, maps:is_key(<<"parentSpanId">>, Outer) andalso maps:get(<<"parentSpanId">>, Outer) =/= <<>>).

raising() ->
    Spans = traced(fun() ->
        ?assertError(
            {badmatch, 2},
            polytrace:with_span(<<"fails">>, #{}, fun() ->
                1 = length(lists:seq(1, erlang:phash2(a, 1) + 2))
            end)
        ),
        ?assertExit(gone, polytrace:with_span(<<"exits">>, #{}, fun() -> exit(gone) end)),
        ?assertEqual(undefined, polytrace:current_span_ctx())
    end),
    S = by_name(Spans, <<"fails">>),
    Status = maps:get(<<"status">>, S),
    ?assertEqual(2, maps:get(<<"code">>, Status)),
    ?assertEqual(<<"{badmatch,2}">>, maps:get(<<"message">>, Status)),
    [E] = maps:get(<<"events">>, S),
    ?assertEqual(<<"exception">>, maps:get(<<"name">>, E)),
    ?assertEqual(<<"error:badmatch">>, attr(E, <<"exception.type">>)),
    ?assertEqual(<<"{badmatch,2}">>, attr(E, <<"exception.message">>)),
    Stack = attr(E, <<"exception.stacktrace">>),
    ?assertNotEqual(nomatch, binary:match(Stack, <<"polytrace_tests">>)),
    X = by_name(Spans, <<"exits">>),
    [XE] = maps:get(<<"events">>, X),
    ?assertEqual(<<"exit:gone">>, attr(XE, <<"exception.type">>)).

status_precedence() ->
    Spans = traced(fun() ->
        polytrace:with_span(a, #{}, fun() ->
            polytrace:set_status(error, <<"first">>),
            polytrace:set_status(error, "second"),
            polytrace:set_status(unset, <<>>)
        end),
        polytrace:with_span(b, #{}, fun(S) ->
            polytrace:set_status(S, ok),
            polytrace:set_status(S, error, <<"ignored">>)
        end)
    end),
    A = maps:get(<<"status">>, by_name(Spans, <<"a">>)),
    ?assertEqual({2, <<"second">>}, {maps:get(<<"code">>, A), maps:get(<<"message">>, A)}),
    ?assertEqual(1, maps:get(<<"code">>, maps:get(<<"status">>, by_name(Spans, <<"b">>)))).

misc() ->
    T0 = 1700000000000000000,
    Spans = traced(fun() ->
        Linked = polytrace:start_span(linked),
        polytrace:end_span(Linked),
        S = polytrace:start_span(<<"old">>, #{
            start_time => T0,
            links => [Linked, {Linked, #{<<"why">> => <<"batch">>}}],
            kind => consumer
        }),
        true = polytrace:update_name(S, <<"new">>),
        true = polytrace:set_attributes(S, [{a, 1}, {b, 2}]),
        true = polytrace:set_attributes(S, #{c => 3}),
        polytrace:end_span(S, T0 + 5000)
    end),
    S = by_name(Spans, <<"new">>),
    ?assertEqual(integer_to_binary(T0), maps:get(<<"startTimeUnixNano">>, S)),
    ?assertEqual(integer_to_binary(T0 + 5000), maps:get(<<"endTimeUnixNano">>, S)),
    ?assertEqual(5, maps:get(<<"kind">>, S)),
    ?assertEqual(#{<<"a">> => 1, <<"b">> => 2, <<"c">> => 3}, attrs(S)),
    Links = maps:get(<<"links">>, S),
    ?assertEqual(2, length(Links)),
    L = by_name(Spans, <<"linked">>),
    ?assertEqual([maps:get(<<"spanId">>, L)], lists:usort([maps:get(<<"spanId">>, K) || K <- Links])),
    ?assertEqual(<<"batch">>, attr(lists:nth(2, Links), <<"why">>)).

bad_attributes() ->
    polytrace_test_util:capture_logs(),
    Spans = traced(fun() ->
        polytrace:with_span(bad, #{}, fun() ->
            polytrace:set_attribute(<<"ok">>, 1),
            polytrace:set_attribute(<<"tuple">>, {a, b}),
            polytrace:set_attribute(<<"tuple2">>, {c}),
            polytrace:set_attribute(<<"pid">>, self()),
            polytrace:set_attribute(<<"mixed">>, [1, <<"a">>]),
            polytrace:set_attribute(<<"big">>, 1 bsl 70),
            polytrace:set_attribute({not_a_key}, 1),
            polytrace:add_event(ev, #{<<"fun">> => fun() -> ok end, <<"fine">> => 1})
        end)
    end),
    timer:sleep(200),
    Logs = polytrace_test_util:captured_logs(),
    polytrace_test_util:stop_capture(),
    S = by_name(Spans, <<"bad">>),
    ?assertEqual(#{<<"ok">> => 1}, attrs(S)),
    [E] = maps:get(<<"events">>, S),
    ?assertEqual(#{<<"fine">> => 1}, attrs(E)),
    Count = fun(Pattern) -> length([L || L <- Logs, binary:match(L, Pattern) =/= nomatch]) end,
    %% one warning per cause: two tuples, one warning
    ?assertEqual(1, Count(<<"is a tuple">>)),
    ?assertEqual(1, Count(<<"is a pid">>)),
    ?assertEqual(1, Count(<<"not all of one attribute type">>)),
    ?assertEqual(1, Count(<<"signed 64-bit range">>)),
    ?assertEqual(1, Count(<<"its key is not an atom">>)),
    ?assertEqual(1, Count(<<"is a fun">>)).

message_of(Fun) ->
    try
        Fun(),
        error(no_exception)
    catch
        error:badarg:St ->
            iolist_to_binary(erl_error:format_exception(error, badarg, St))
    end.

badarg_messages() ->
    Cases = [
        {fun() -> polytrace:set_attribute(not_a_span, k, v) end, <<"argument 1: not a span_ctx">>},
        {fun() -> polytrace:start_span({name}) end, <<"argument 1: a span name">>},
        {fun() -> polytrace:start_span(n, #{kind => sideways}) end, <<"argument 2: kind is internal">>},
        {fun() -> polytrace:start_span(n, [kind]) end, <<"argument 2: span options are a map">>},
        {fun() -> polytrace:start_span(n, #{attributes => 7}) end, <<"argument 2: attributes are a map">>},
        {fun() -> polytrace:with_span(n, #{}, not_a_fun) end, <<"argument 3: not a fun">>},
        {fun() -> polytrace:set_status(sideways, <<>>) end, <<"argument 2: a status code">>},
        {fun() -> polytrace:add_event(<<"e">>, 5) end, <<"argument 3: attributes">>},
        {fun() -> polytrace:record_exception(oops, r, []) end, <<"argument 2: the class">>},
        {fun() -> polytrace:extract(not_headers) end, <<"argument 1: not a header list">>},
        {fun() -> polytrace:inject(#polytrace_ctx{}, not_headers) end, <<"argument 2: not a header list">>},
        {fun() -> polytrace:attach(nope) end, <<"argument 1: not a ctx">>},
        {fun() -> polytrace:detach(nope) end, <<"argument 1: not a token">>}
    ],
    polytrace_test_util:restart(#{exporter => none}),
    lists:foreach(
        fun({F, Expect}) ->
            Message = message_of(F),
            ?assertNotEqual({Expect, nomatch}, {Expect, binary:match(Message, Expect)})
        end,
        Cases
    ),
    %% the top frame is the API function called, with its arguments
    try polytrace:set_attribute(x, k, v) of
        _ -> error(no_exception)
    catch
        error:badarg:St -> ?assertMatch([{polytrace, set_attribute, [x, k, v], _} | _], St)
    end.

propagation() ->
    Spans = traced(fun() ->
        Headers = [
            {<<"TraceParent">>, <<"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01">>},
            {"tracestate", "vendor=value"},
            {<<"baggage">>, <<"user=alice">>}
        ],
        Ctx = polytrace:extract(Headers),
        #polytrace_ctx{span = Remote, baggage = Bag} = Ctx,
        ?assertEqual(<<"4bf92f3577b34da6a3ce929d0e0e4736">>, polytrace:hex_trace_id(Remote)),
        ?assertEqual(true, Remote#span_ctx.is_remote),
        ?assertEqual([{<<"user">>, <<"alice">>, <<>>}], Bag),
        Token = polytrace:attach(Ctx),
        polytrace:with_span(<<"server">>, #{kind => server}, fun(S) ->
            Out = polytrace:inject([{<<"content-type">>, <<"text/plain">>}, {<<"TRACEPARENT">>, <<"stale">>}]),
            ?assertEqual(
                [
                    {<<"content-type">>, <<"text/plain">>},
                    {<<"traceparent">>, iolist_to_binary([<<"00-4bf92f3577b34da6a3ce929d0e0e4736-">>, polytrace:hex_span_id(S), <<"-01">>])},
                    {<<"tracestate">>, <<"vendor=value">>},
                    {<<"baggage">>, <<"user=alice">>}
                ],
                Out
            )
        end),
        polytrace:detach(Token),
        %% malformed input is ignored, never an error
        ?assertEqual(#polytrace_ctx{}, polytrace:extract([{<<"traceparent">>, <<"garbage">>}, bogus, {1, 2}])),
        ?assertEqual([], polytrace:inject(#polytrace_ctx{}))
    end),
    S = by_name(Spans, <<"server">>),
    ?assertEqual(<<"4bf92f3577b34da6a3ce929d0e0e4736">>, maps:get(<<"traceId">>, S)),
    ?assertEqual(<<"00f067aa0ba902b7">>, maps:get(<<"parentSpanId">>, S)),
    ?assertEqual(<<"vendor=value">>, maps:get(<<"traceState">>, S, undefined)).

context() ->
    Self = self(),
    Spans = traced(fun() ->
        polytrace:with_span(parent, #{}, fun(P) ->
            Fun = polytrace:wrap(fun() ->
                Self ! {in_child, polytrace:current_span_ctx()},
                polytrace:with_span(child, #{}, fun() -> ok end),
                Self ! done
            end),
            spawn(Fun),
            receive {in_child, C} -> ?assertEqual(P, C) after 5000 -> error(timeout) end,
            receive done -> ok after 5000 -> error(timeout) end,
            %% the gen_server pattern: the context travels in the request
            Ctx = polytrace:current_ctx(),
            Pid = spawn(fun() ->
                receive {req, From, RCtx} ->
                    T = polytrace:attach(RCtx),
                    polytrace:with_span(handled, #{}, fun() -> ok end),
                    polytrace:detach(T),
                    From ! {reply, polytrace:current_span_ctx()}
                end
            end),
            Pid ! {req, self(), Ctx},
            receive {reply, After} -> ?assertEqual(undefined, After) after 5000 -> error(timeout) end
        end)
    end),
    P = by_name(Spans, <<"parent">>),
    ?assertEqual(maps:get(<<"spanId">>, P), maps:get(<<"parentSpanId">>, by_name(Spans, <<"child">>))),
    ?assertEqual(maps:get(<<"spanId">>, P), maps:get(<<"parentSpanId">>, by_name(Spans, <<"handled">>))).

logger_metadata() ->
    polytrace_test_util:restart(#{exporter => none}),
    ?assertEqual(ok, polytrace_logger:add_filter()),
    try
        Self = self(),
        ok = logger:add_handler(meta_capture, polytrace_logger_tests, #{config => #{pid => Self}}),
        polytrace:with_span(logged, #{}, fun(S) ->
            logger:notice("inside"),
            receive
                {meta, M} ->
                    ?assertEqual(polytrace:hex_trace_id(S), maps:get(trace_id, M)),
                    ?assertEqual(polytrace:hex_span_id(S), maps:get(span_id, M)),
                    ?assertEqual(<<"03">>, maps:get(trace_flags, M))
            after 5000 -> error(no_log)
            end
        end),
        logger:notice("outside"),
        receive
            {meta, M2} -> ?assertEqual(false, maps:is_key(trace_id, M2))
        after 5000 -> error(no_log)
        end,
        logger:remove_handler(meta_capture)
    after
        polytrace_logger:remove_filter()
    end.

ownership() ->
    Self = self(),
    Spans = traced(fun() ->
        S = polytrace:start_span(once),
        spawn(fun() ->
            Self ! {other, polytrace:set_attribute(S, k, v), polytrace:end_span(S)}
        end),
        receive {other, Set, _} -> ?assertEqual(false, Set) after 5000 -> error(timeout) end,
        polytrace:end_span(S),
        polytrace:end_span(S),
        ?assertEqual(false, polytrace:set_attribute(S, k, v))
    end),
    ?assertEqual(1, length([X || #{<<"name">> := <<"once">>} = X <- Spans])).

disabled() ->
    Spans = traced(#{disabled => true}, fun() ->
        R = polytrace:with_span(off, #{}, fun(S) ->
            ?assertEqual(false, polytrace:is_recording(S)),
            ran
        end),
        ?assertEqual(ran, R)
    end),
    ?assertEqual([], Spans).

after_shutdown() ->
    polytrace_test_util:restart(#{exporter => none}),
    polytrace:with_span(before, #{}, fun() -> ok end),
    ok = polytrace:shutdown(),
    R = polytrace:with_span(late, #{}, fun(S) -> polytrace:is_recording(S) end),
    ?assertEqual(false, R),
    ?assertMatch(#{spans_started := 1, spans_ended := 1}, polytrace:stats()),
    ?assertEqual(ok, polytrace:force_flush()),
    ok = polytrace:start(#{exporter => none}),
    ?assertEqual({error, already_started}, polytrace:start(#{exporter => none})).

ratio_sampler() ->
    Spans = traced(#{sampler => traceidratio, sampler_arg => 0.5}, fun() ->
        [polytrace:with_span(sampled, #{}, fun() -> ok end) || _ <- lists:seq(1, 400)]
    end),
    N = length(Spans),
    ?assert(N > 100 andalso N < 300),
    #{spans_started := Started} = polytrace:stats(),
    ?assertEqual(N, Started).

limits() ->
    Spans = traced(#{attribute_count_limit => 2}, fun() ->
        polytrace:with_span(limited, #{}, fun() ->
            [polytrace:set_attribute(K, 1) || K <- [a, b, c, d, a]]
        end)
    end),
    S = by_name(Spans, <<"limited">>),
    ?assertEqual(#{<<"a">> => 1, <<"b">> => 1}, attrs(S)),
    ?assertEqual(2, maps:get(<<"droppedAttributesCount">>, S)).

caps() ->
    Link = fun(N) -> #span_ctx{trace_id = <<N:128>>, span_id = <<N:64>>, trace_flags = 1} end,
    Invalid = #span_ctx{},
    Spans = traced(#{attribute_count_limit => 4, event_count_limit => 3, link_count_limit => 2}, fun() ->
        %% Links at start: 2 kept, the invalid one without attributes neither kept nor counted,
        %% the invalid one with attributes counted past the cap like any other.
        Links = [Link(1), Invalid, Link(2), Link(3), {Invalid, #{why => kept}}, Link(4)],
        %% Start attributes longer than twice the cap fold at once.
        Start = [{<<"s", (integer_to_binary(I))/binary>>, I} || I <- lists:seq(1, 10)],
        S = polytrace:start_span(heavy, #{links => Links, attributes => Start}),
        %% Thousands of calls on four keys plus new keys past the cap: folded as they go.
        [polytrace:set_attribute(S, lists:nth(I rem 4 + 1, [<<"s1">>, <<"s2">>, <<"s3">>, <<"s4">>]), I) || I <- lists:seq(1, 5000)],
        [polytrace:set_attribute(S, {new, I}, I) || I <- lists:seq(1, 3)],
        [polytrace:set_attribute(S, <<"n", (integer_to_binary(I))/binary>>, I) || I <- lists:seq(1, 100)],
        polytrace:set_attributes(S, [{<<"s1">>, last}, {<<"m1">>, 1}, {<<"m2">>, 2}]),
        %% A bad value does not replace a kept one, nor take a place.
        polytrace:set_attribute(S, <<"s2">>, self()),
        [polytrace:set_attribute(S, <<"s2">>, I) || I <- lists:seq(1, 20)],
        [polytrace:add_event(S, integer_to_binary(I), #{}) || I <- lists:seq(1, 1000)],
        polytrace:record_exception(S, error, late, []),
        %% 16 status calls are kept: the 17th (ok, which would be final) is ignored.
        [polytrace:set_status(S, error, integer_to_binary(I)) || I <- lists:seq(1, 16)],
        polytrace:set_status(S, ok, <<>>),
        polytrace:end_span(S)
    end),
    S = by_name(Spans, <<"heavy">>),
    ?assertEqual(#{<<"s1">> => <<"last">>, <<"s2">> => 20, <<"s3">> => 4998, <<"s4">> => 4999}, attrs(S)),
    %% 6 start attributes, 3 tuple keys (no attribute key: dropped with a warning, not counted
    %% by the core either), 100 + 2 new keys past the cap.
    ?assertEqual(6 + 100 + 2, maps:get(<<"droppedAttributesCount">>, S)),
    ?assertEqual([<<"1">>, <<"2">>, <<"3">>], [maps:get(<<"name">>, E) || E <- maps:get(<<"events">>, S)]),
    ?assertEqual(1000 - 3 + 1, maps:get(<<"droppedEventsCount">>, S)),
    ?assertEqual(
        [polytrace:hex_trace_id(Link(1)), polytrace:hex_trace_id(Link(2))],
        [maps:get(<<"traceId">>, L) || L <- maps:get(<<"links">>, S)]
    ),
    ?assertEqual(3, maps:get(<<"droppedLinksCount">>, S)),
    ?assertEqual(#{<<"code">> => 2, <<"message">> => <<"16">>}, maps:get(<<"status">>, S)).

caps_memory() ->
    polytrace_test_util:restart(#{exporter => none}),
    S = polytrace:start_span(busy),
    Call = fun(I) ->
        polytrace:set_attribute(S, <<"k", (integer_to_binary(I rem 1000))/binary>>, I),
        polytrace:add_event(S, <<"e">>, #{<<"i">> => I}),
        polytrace:set_status(S, error, <<"failing">>)
    end,
    Memory = fun(From, To) ->
        [Call(I) || I <- lists:seq(From, To)],
        erlang:garbage_collect(),
        {memory, M} = process_info(self(), memory),
        M
    end,
    After10k = Memory(1, 10000),
    After100k = Memory(10001, 100000),
    %% Ten times the calls, about the same memory (caps of 128 attributes and events).
    ?assert(After100k < After10k + 200000),
    ?assert(After100k < 2000000),
    polytrace:end_span(S).

stats() ->
    %% Before start the same counters as the core's (Stats::to_pairs), all zero.
    ok = polytrace:shutdown(),
    %% The never-started state (shutdown keeps the provider's final counters readable).
    persistent_term:erase('$polytrace_state'),
    Zero = polytrace:stats(),
    polytrace_test_util:restart(#{exporter => none}),
    ?assertEqual(lists:sort(maps:keys(polytrace:stats())), lists:sort(maps:keys(Zero))),
    ?assertEqual([0], lists:usort(maps:values(Zero))),
    [polytrace:with_span(n, #{}, fun() -> ok end) || _ <- lists:seq(1, 10)],
    Open = polytrace:start_span(open),
    ok = polytrace:force_flush(),
    ?assertMatch(#{spans_started := 11, spans_ended := 10, spans_exported := 10, spans_dropped := 0,
        spans_sampled := 11, spans_not_sampled := 0, sampler_polls := 0}, polytrace:stats()),
    polytrace:end_span(Open).

%% ------------------------------------------------------------------------------------------

errors_test_() ->
    [
        {"a panic in the NIF is {error, {internal, _}}", fun() ->
            ?assertMatch({error, {internal, <<"panic in polytrace core", _/binary>>}}, polytrace_nif:testing_panic())
        end},
        {"each core error kind maps to its atom", fun() ->
            Kinds = [
                {"InvalidArgument", invalid_argument},
                {"InvalidConfig", invalid_config},
                {"Export", export},
                {"Timeout", timeout},
                {"AlreadyShutdown", already_shutdown},
                {"Internal", internal}
            ],
            [?assertMatch({error, {Atom, Msg}} when is_binary(Msg), polytrace_nif:testing_error(Name)) || {Name, Atom} <- Kinds]
        end},
        {"a bad option is {error, {invalid_config, Message, #{problem, option}}} naming it", fun() ->
            ok = polytrace:shutdown(),
            {error, {invalid_config, M, D}} = polytrace:start(#{max_queue_size => <<"lots">>}),
            ?assertNotEqual(nomatch, binary:match(M, <<"max_queue_size">>)),
            ?assertEqual(#{problem => bad_value, option => <<"max_queue_size">>}, D),
            {error, {invalid_config, M2, D2}} = polytrace:start(#{no_such_option => 1}),
            ?assertNotEqual(nomatch, binary:match(M2, <<"no_such_option">>)),
            ?assertEqual(#{problem => unknown_option, option => <<"no_such_option">>}, D2),
            %% An Erlang value with no option form (a tuple): wrong_type, found by the binding.
            ?assertMatch(
                {error, {invalid_config, _, #{problem := wrong_type, option := <<"service_name">>}}},
                polytrace:start(#{service_name => {not_a, name}})
            ),
            %% Two spellings of one option: the canonical name.
            ?assertMatch(
                {error, {invalid_config, _, #{problem := duplicate_option, option := <<"max_queue_size">>}}},
                polytrace:start([{max_queue_size, 10}, {<<"maxQueueSize">>, 10}])
            ),
            %% The binding's own default (sdk_language) yields to the user's in any spelling.
            ok = polytrace:start(#{<<"sdkLanguage">> => <<"elixir">>, exporter => none}),
            ?assertEqual(<<"elixir">>, proplists:get_value(<<"sdk_language">>, polytrace:effective_config())),
            ok = polytrace:shutdown()
        end},
        {"options come from the application environment under start/1's map", fun() ->
            ok = polytrace:shutdown(),
            application:set_env(polytrace, service_name, <<"from-env">>),
            application:set_env(polytrace, exporter, none),
            try
                ok = polytrace:start(#{max_queue_size => 100}),
                C = polytrace:effective_config(),
                ?assertEqual(<<"from-env">>, proplists:get_value(<<"service_name">>, C)),
                ?assertEqual(<<"100">>, proplists:get_value(<<"max_queue_size">>, C)),
                ok = polytrace:shutdown(),
                ok = polytrace:start(#{service_name => <<"from-map">>}),
                ?assertEqual(<<"from-map">>, proplists:get_value(<<"service_name">>, polytrace:effective_config())),
                ok = polytrace:shutdown(),
                %% The map wins in any spelling (not a duplicate_option error).
                ok = polytrace:start(#{<<"serviceName">> => <<"camel-map">>}),
                ?assertEqual(<<"camel-map">>, proplists:get_value(<<"service_name">>, polytrace:effective_config()))
            after
                application:unset_env(polytrace, service_name),
                application:unset_env(polytrace, exporter),
                polytrace:shutdown()
            end
        end}
    ].

noop_test() ->
    ok = polytrace:shutdown(),
    %% never started in a fresh state: context still flows, nothing is recorded
    R = polytrace:with_span(x, #{}, fun(S) -> {polytrace:is_recording(S), polytrace:current_span_ctx()} end),
    ?assertMatch({false, #span_ctx{is_recording = false}}, R).
