%% The shared, language-neutral vectors of tests/vectors/ (propagation.json, config.json), run
%% through the binding's public API (extract/1, inject/2) and its option conversion (the options
%% go through the same conversion as start/1; the NIF's testing build resolves them against
%% the case's fake environment). JSON is decoded by the testing build (OTP 25 has no parser).
-module(polytrace_vectors_tests).

-include_lib("eunit/include/eunit.hrl").
-include("polytrace.hrl").

vectors(Name) ->
    polytrace_nif:testing_json(filename:join([polytrace_test_util:repo_root(), "tests", "vectors", Name])).

propagation_test_() ->
    V = vectors("propagation.json"),
    {setup,
        fun() ->
            {ok, _} = application:ensure_all_started(polytrace),
            polytrace_test_util:restart(#{exporter => none, propagators => <<"tracecontext,baggage">>})
        end,
        fun(_) -> polytrace:shutdown() end,
        [{binary_to_list(maps:get(<<"name">>, C)), fun() -> extract_case(C) end} || C <- maps:get(<<"extract">>, V)] ++
        [{binary_to_list(maps:get(<<"name">>, C)), fun() -> inject_case(C) end} || C <- maps:get(<<"inject">>, V)] ++
        [{binary_to_list(maps:get(<<"name">>, C)), fun() -> round_trip_case(C) end} || C <- maps:get(<<"round_trip">>, V)]}.

carrier(C) ->
    [{K, Val} || [K, Val] <- maps:get(<<"carrier">>, C)].

extract_case(C) ->
    #polytrace_ctx{span = S, baggage = B} = polytrace:extract(carrier(C)),
    Expect = maps:get(<<"expect">>, C),
    case maps:get(<<"valid">>, Expect) of
        true ->
            ?assertMatch(#span_ctx{is_remote = true}, S),
            ?assertEqual(maps:get(<<"trace_id">>, Expect), polytrace:hex_trace_id(S)),
            ?assertEqual(maps:get(<<"span_id">>, Expect), polytrace:hex_span_id(S)),
            ?assertEqual(maps:get(<<"flags">>, Expect), S#span_ctx.trace_flags),
            ?assertEqual(maps:get(<<"tracestate">>, Expect), S#span_ctx.tracestate);
        false ->
            ?assertEqual(undefined, S)
    end,
    ?assertEqual([list_to_tuple(E) || E <- maps:get(<<"baggage">>, Expect)], B).

unhex(H) -> binary:decode_hex(H).

inject_case(C) ->
    Span =
        case maps:get(<<"context">>, C) of
            null ->
                undefined;
            Ctx ->
                #span_ctx{
                    trace_id = unhex(maps:get(<<"trace_id">>, Ctx)),
                    span_id = unhex(maps:get(<<"span_id">>, Ctx)),
                    trace_flags = maps:get(<<"flags">>, Ctx),
                    tracestate = maps:get(<<"tracestate">>, Ctx, <<>>)
                }
        end,
    Baggage = [list_to_tuple(E) || E <- maps:get(<<"baggage">>, C, [])],
    Out = polytrace:inject(#polytrace_ctx{span = Span, baggage = Baggage}, []),
    ?assertEqual([list_to_tuple(E) || E <- maps:get(<<"expect">>, C)], Out).

round_trip_case(C) ->
    Ctx = polytrace:extract(carrier(C)),
    ?assertEqual([list_to_tuple(E) || E <- maps:get(<<"expect">>, C)], polytrace:inject(Ctx, [])).

config_test_() ->
    V = vectors("config.json"),
    [{binary_to_list(maps:get(<<"name">>, C)), fun() -> config_case(C) end} || C <- maps:get(<<"cases">>, V)].

config_case(C) ->
    Options = maps:get(<<"options">>, C, #{}),
    Env = maps:get(<<"env">>, C, #{}),
    case maps:get(<<"error">>, C, undefined) of
        undefined ->
            {ok, Effective, Warned} = polytrace_nif:testing_resolve(Options, Env),
            maps:foreach(
                fun(K, Want) ->
                    Got = proplists:get_value(K, Effective),
                    case binary:last(Want) of
                        $* ->
                            Prefix = binary:part(Want, 0, byte_size(Want) - 1),
                            ?assertEqual({K, Prefix}, {K, binary:part(Got, 0, min(byte_size(Got), byte_size(Prefix)))});
                        _ ->
                            ?assertEqual({K, Want}, {K, Got})
                    end
                end,
                maps:filter(fun(_, W) -> W =/= <<>> end, maps:get(<<"expect">>, C, #{}))
            ),
            [?assertEqual({K, <<>>}, {K, proplists:get_value(K, Effective)}) || {K, <<>>} <- maps:to_list(maps:get(<<"expect">>, C, #{}))],
            ?assertEqual(lists:sort(maps:get(<<"warnings">>, C, [])), lists:usort(Warned));
        Kind ->
            Result = polytrace_nif:testing_resolve(Options, Env),
            {Atom, Message, Detail} =
                case Result of
                    {error, {A, Msg}} -> {A, Msg, #{}};
                    {error, {A, Msg, D}} -> {A, Msg, D};
                    _ -> ?assertMatch({error, _}, Result)
                end,
            ?assertEqual(kind_atom(Kind), Atom),
            case maps:get(<<"error_mentions">>, C, undefined) of
                undefined -> ok;
                M -> ?assertNotEqual({M, nomatch}, {M, binary:match(Message, M)})
            end,
            %% The structured half of a configuration error: {invalid_config, Message, #{problem,
            %% option}}.
            case maps:get(<<"problem">>, C, undefined) of
                undefined -> ok;
                P -> ?assertEqual({problem, problem_atom(P)}, {problem, maps:get(problem, Detail, none)})
            end,
            case maps:get(<<"option">>, C, undefined) of
                undefined -> ok;
                O -> ?assertEqual({option, O}, {option, maps:get(option, Detail, none)})
            end
    end.

kind_atom(<<"InvalidConfig">>) -> invalid_config;
kind_atom(<<"InvalidArgument">>) -> invalid_argument.

problem_atom(<<"UnknownOption">>) -> unknown_option;
problem_atom(<<"DuplicateOption">>) -> duplicate_option;
problem_atom(<<"WrongType">>) -> wrong_type;
problem_atom(<<"BadValue">>) -> bad_value.

%% ------------------------------------------------------------------------------------------
%% tests/vectors/spans.json: what a user does with spans through the Erlang API, and the spans
%% the core exports (read back from the file exporter). The vectors' description gives the
%% rules; record_exception raises an exception struct (the reason an Elixir `raise` gives,
%% #{'__exception__' => true, '__struct__' => Type, message => Message}), Erlang's kind of
%% exception that carries a type name and a message.
%% ------------------------------------------------------------------------------------------

spans_test_() ->
    V = vectors("spans.json"),
    {setup,
        fun() -> {ok, _} = application:ensure_all_started(polytrace) end,
        fun(_) -> polytrace:shutdown() end,
        [{binary_to_list(maps:get(<<"name">>, C)), fun() -> spans_case(C) end} || C <- maps:get(<<"cases">>, V)]}.

spans_case(C) ->
    File = polytrace_test_util:tmp_file("spans.jsonl"),
    Config = maps:merge(
        #{exporter => file, file_path => list_to_binary(File), service_name => <<"vectors">>},
        maps:get(<<"config">>, C, #{})
    ),
    polytrace_test_util:restart(Config),
    lists:foldl(fun run_span/2, #{}, maps:get(<<"spans">>, C)),
    ok = polytrace:shutdown(),
    compare_spans(maps:get(<<"expect">>, C), polytrace_test_util:spans(File)).

remote(Ctx) ->
    #span_ctx{
        trace_id = unhex(maps:get(<<"trace_id">>, Ctx)),
        span_id = unhex(maps:get(<<"span_id">>, Ctx)),
        trace_flags = maps:get(<<"flags">>, Ctx),
        tracestate = maps:get(<<"tracestate">>, Ctx, <<>>),
        is_remote = true
    }.

kind_name(<<"internal">>) -> internal;
kind_name(<<"server">>) -> server;
kind_name(<<"client">>) -> client;
kind_name(<<"producer">>) -> producer;
kind_name(<<"consumer">>) -> consumer.

run_span(Spec, Started) ->
    Name = maps:get(<<"name">>, Spec),
    Parent =
        case maps:get(<<"parent">>, Spec, null) of
            null -> undefined;
            P when is_binary(P) -> maps:get(P, Started);
            P when is_map(P) -> remote(P)
        end,
    Links = [{remote(maps:get(<<"context">>, L)), maps:get(<<"attributes">>, L, #{})} || L <- maps:get(<<"links">>, Spec, [])],
    Opts = #{
        parent => Parent,
        kind => kind_name(maps:get(<<"kind">>, Spec, <<"internal">>)),
        attributes => maps:get(<<"attributes">>, Spec, #{}),
        links => Links
    },
    S0 = polytrace:start_span(Name, Opts),
    {S, Ended} = lists:foldl(fun(Op, Acc) -> run_op(Name, Op, Acc) end, {S0, false}, maps:get(<<"ops">>, Spec, [])),
    Last =
        case not Ended andalso maps:get(<<"end">>, Spec, true) of
            true -> polytrace:end_span(S);
            false -> S
        end,
    Started#{Name => Last}.

run_op(_, [<<"set_attribute">>, K, V], {S, E}) ->
    polytrace:set_attribute(S, K, V),
    {S, E};
run_op(_, [<<"add_event">>, N, A], {S, E}) ->
    polytrace:add_event(S, N, A),
    {S, E};
run_op(_, [<<"record_exception">>, Type, Message], {S, E}) ->
    try
        error(#{'__exception__' => true, '__struct__' => binary_to_atom(Type), message => Message})
    catch
        Class:Reason:Stack -> polytrace:record_exception(S, Class, Reason, Stack)
    end,
    {S, E};
run_op(_, [<<"set_status">>, Code | Description], {S, E}) ->
    polytrace:set_status(S, binary_to_atom(Code), case Description of [D] -> D; [] -> <<>> end),
    {S, E};
run_op(_, [<<"update_name">>, N], {S, E}) ->
    polytrace:update_name(S, N),
    {S, E};
run_op(_, [<<"end">>], {S, _}) ->
    {polytrace:end_span(S), true};
run_op(Name, [<<"check_recording">>, Want], {S, E}) ->
    ?assertEqual({Name, Want}, {Name, polytrace:is_recording(S)}),
    {S, E};
run_op(Name, [Check, Want], {S, E}) ->
    Headers = polytrace:inject(S),
    Traceparent = proplists:get_value(<<"traceparent">>, Headers, <<>>),
    Got =
        case Check of
            <<"check_flags">> -> binary:part(Traceparent, byte_size(Traceparent) - 2, 2);
            <<"check_traceparent">> -> Traceparent;
            <<"check_tracestate">> -> proplists:get_value(<<"tracestate">>, Headers, <<>>)
        end,
    ?assertEqual({Name, Check, Want}, {Name, Check, Got}),
    {S, E}.

-define(IGNORED_EVENT_ATTRIBUTES, [<<"exception.stacktrace">>, <<"exception.escaped">>]).

compare_spans(Expect, Exported) ->
    ?assertEqual(
        lists:sort([maps:get(<<"name">>, E) || E <- Expect]),
        lists:sort([maps:get(<<"name">>, S) || S <- Exported])
    ),
    ById = maps:from_list([{maps:get(<<"spanId">>, S), maps:get(<<"name">>, S)} || S <- Exported]),
    lists:foreach(fun(E) -> compare_span(E, ById, Exported) end, Expect).

compare_span(E, ById, Exported) ->
    Name = maps:get(<<"name">>, E),
    [S] = [X || #{<<"name">> := N} = X <- Exported, N =:= Name],
    Check = fun(What, Want, Got) -> ?assertEqual({Name, What, Want}, {Name, What, Got}) end,
    maps:foreach(
        fun
            (<<"kind">>, Want) -> Check(kind, Want, otlp_kind(maps:get(<<"kind">>, S)));
            (<<"parent">>, Want) -> Check(parent, Want, parent_name(maps:get(<<"parentSpanId">>, S, <<>>), ById));
            (<<"trace_id">>, Want) -> Check(trace_id, Want, maps:get(<<"traceId">>, S));
            (<<"attributes">>, Want) -> Check(attributes, Want, polytrace_test_util:attrs(S));
            (<<"events">>, Want) -> Check(events, Want, [event(Ev) || Ev <- maps:get(<<"events">>, S, [])]);
            (<<"links">>, Want) -> Check(links, Want, [link_of(L) || L <- maps:get(<<"links">>, S, [])]);
            (_, _) -> ok
        end,
        E
    ),
    Check(dropped_attributes, maps:get(<<"dropped_attributes">>, E, 0), maps:get(<<"droppedAttributesCount">>, S, 0)),
    Check(dropped_events, maps:get(<<"dropped_events">>, E, 0), maps:get(<<"droppedEventsCount">>, S, 0)),
    Check(dropped_links, maps:get(<<"dropped_links">>, E, 0), maps:get(<<"droppedLinksCount">>, S, 0)),
    Status = maps:get(<<"status">>, S, #{}),
    Check(
        status,
        maps:get(<<"status">>, E, #{<<"code">> => <<"unset">>, <<"message">> => <<>>}),
        #{
            <<"code">> => lists:nth(maps:get(<<"code">>, Status, 0) + 1, [<<"unset">>, <<"ok">>, <<"error">>]),
            <<"message">> => maps:get(<<"message">>, Status, <<>>)
        }
    ).

otlp_kind(K) -> lists:nth(K, [<<"internal">>, <<"server">>, <<"client">>, <<"producer">>, <<"consumer">>]).

parent_name(<<>>, _) -> null;
parent_name(Id, ById) -> maps:get(Id, ById, <<"remote">>).

event(Ev) ->
    #{
        <<"name">> => maps:get(<<"name">>, Ev),
        <<"attributes">> => maps:without(?IGNORED_EVENT_ATTRIBUTES, polytrace_test_util:attrs(Ev))
    }.

link_of(L) ->
    #{
        <<"trace_id">> => maps:get(<<"traceId">>, L),
        <<"span_id">> => maps:get(<<"spanId">>, L),
        <<"attributes">> => polytrace_test_util:attrs(L)
    }.
