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
            ?assertMatch({error, {_, _}}, Result),
            {error, {Atom, Message}} = Result,
            ?assertEqual(kind_atom(Kind), Atom),
            case maps:get(<<"error_mentions">>, C, undefined) of
                undefined -> ok;
                M -> ?assertNotEqual({M, nomatch}, {M, binary:match(Message, M)})
            end
    end.

kind_atom(<<"InvalidConfig">>) -> invalid_config;
kind_atom(<<"InvalidArgument">>) -> invalid_argument.
