%% The shared, language-neutral vectors of tests/vectors/ (propagation.json, config.json,
%% spans.json, text.json), run through the binding's public API (extract/1, inject/2, the span
%% API) and its option conversion (the options go through the same conversion as start/1; the
%% NIF's testing build resolves them against the case's fake environment). JSON is decoded by
%% the testing build (OTP 25 has no parser).
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
    app_cases("spans: ", fun spans_case/1, maps:get(<<"cases">>, vectors("spans.json"))).

%% Each case run by Run as a test named Prefix and the case's name, with the application
%% started (each case starts its own pipeline).
app_cases(Prefix, Run, Cases) ->
    {setup,
        fun() -> {ok, _} = application:ensure_all_started(polytrace) end,
        fun(_) -> polytrace:shutdown() end,
        [{Prefix ++ binary_to_list(maps:get(<<"name">>, C)), fun() -> Run(C) end} || C <- Cases]}.

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

%% ------------------------------------------------------------------------------------------
%% tests/vectors/text.json: text that is not valid Unicode. Each case's `utf8` bytes, as a
%% binary, are a span name, an attribute key, an attribute value (and a string-list element),
%% an event name and an error status's description; every one is exported as the case's `text`
%% (the core's rule, polytrace_core::text). Read back from the file exporter.
%% ------------------------------------------------------------------------------------------

text_test_() ->
    app_cases("text as a binary: ", fun text_case/1, maps:get(<<"cases">>, vectors("text.json"))).

text_case(C) ->
    Bytes = unhex(maps:get(<<"utf8">>, C)),
    Want = maps:get(<<"text">>, C),
    ?assertEqual(text_fields(Want), exported_text(Bytes, Bytes, Bytes)).

%% What the test compares: the five places text goes, and a string-list element.
text_fields(Want) ->
    #{name => Want, key => Want, value => Want, list_element => Want, event => Want, status => Want}.

%% One span named Name with the attribute {Key, Value} (and <<"list">> => [Value]), an event
%% named Name and an error status described by Name, exported; the text of each as exported.
exported_text(Name, Key, Value) ->
    File = polytrace_test_util:tmp_file("text.jsonl"),
    polytrace_test_util:restart(#{exporter => file, file_path => list_to_binary(File), service_name => <<"vectors">>}),
    S = polytrace:start_span(Name, #{}),
    ?assert(polytrace:set_attribute(S, Key, Value)),
    ?assert(polytrace:set_attribute(S, <<"list">>, [Value])),
    ?assert(polytrace:add_event(S, Name, #{})),
    ?assert(polytrace:set_status(S, error, Name)),
    polytrace:end_span(S),
    ok = polytrace:shutdown(),
    [Span] = polytrace_test_util:spans(File),
    Attrs = polytrace_test_util:attrs(Span),
    [{K, V}] = maps:to_list(maps:remove(<<"list">>, Attrs)),
    [Ev] = maps:get(<<"events">>, Span),
    #{
        name => maps:get(<<"name">>, Span),
        key => K,
        value => V,
        list_element => hd(maps:get(<<"list">>, Attrs)),
        event => maps:get(<<"name">>, Ev),
        status => maps:get(<<"message">>, maps:get(<<"status">>, Span))
    }.

%% The same cases as Erlang strings (charlists of code points, built from the case's `utf16`: a
%% surrogate pair is its character, a lone surrogate the surrogate's code point, which Erlang's
%% lists can hold) as a span name, an attribute key, an event name and an error status's
%% description: the same text. (A charlist attribute value is a list of integers, not text.)
charlist_text_test_() ->
    Cases = maps:get(<<"cases">>, vectors("text.json")),
    app_cases("text as a string: ", fun charlist_text_case/1, [C || C <- Cases, maps:is_key(<<"utf16">>, C)]).

charlist_text_case(C) ->
    Chars = code_points(maps:get(<<"utf16">>, C)),
    Want = maps:get(<<"text">>, C),
    ?assertEqual(
        maps:without([value, list_element], text_fields(Want)),
        maps:without([value, list_element], exported_text(Chars, Chars, <<"v">>))
    ).

code_points([H, L | Rest]) when H >= 16#D800, H =< 16#DBFF, L >= 16#DC00, L =< 16#DFFF ->
    [16#10000 + ((H - 16#D800) bsl 10) + (L - 16#DC00) | code_points(Rest)];
code_points([U | Rest]) ->
    [U | code_points(Rest)];
code_points([]) ->
    [].
