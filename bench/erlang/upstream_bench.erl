%% The comparison side of bench/erlang: the same W1 and W4 against the official
%% opentelemetry-erlang SDK (apps/opentelemetry and apps/opentelemetry_api of a checkout you
%% supply, compiled by upstream.sh; hex is not needed), measured as polytrace_bench measures
%% polytrace (CPU of every thread of the VM per operation, from before the loop to after every
%% span is exported).
%%
%% The official OTLP exporter (opentelemetry_exporter) needs hex packages (grpcbox, ...), so the
%% SDK exports to this module, an exporter that only counts the spans of each batch: no OTLP
%% encoding, no I/O. The figures are a lower bound of what the SDK costs with a real exporter.
%%
%%   W1  start_span + 3 set_attribute + end_span, per span:
%%       (a) the SDK's defaults (max_queue_size 2048, a tight loop: spans are dropped);
%%       (b) no span dropped (max_queue_size above the loop's count), every span exported.
%%   W4  inject (W3C traceparent + baggage) + extract, per pair.
-module(upstream_bench).

-behaviour(otel_exporter_traces).

-export([main/0, child/1]).
-export([init/1, export/3, export/4, shutdown/1]).

-define(COUNTER, {?MODULE, exported}).

%% ------------------------------------------------------------------------------------------
%% The counting exporter.
%% ------------------------------------------------------------------------------------------

init(_) ->
    {ok, #{}}.

export(traces, Tab, Resource, State) ->
    export(Tab, Resource, State);
export(_, _, _, _) ->
    ok.

export(Tab, _Resource, _State) ->
    counters:add(persistent_term:get(?COUNTER), 1, ets:info(Tab, size)),
    ok.

shutdown(_) ->
    ok.

exported() ->
    counters:get(persistent_term:get(?COUNTER), 1).

%% ------------------------------------------------------------------------------------------
%% Child: one workload in this VM.
%% ------------------------------------------------------------------------------------------

n(true) -> 100000;
n(false) -> 400000.

%% @doc [Workload, Quick].
child([Workload, Quick]) ->
    N = n(Quick =:= "quick"),
    persistent_term:put(?COUNTER, counters:new(1, [write_concurrency])),
    MaxQueue =
        case Workload of
            "W1-defaults" -> 2048;
            _ -> N + 100000
        end,
    application:load(opentelemetry),
    application:set_env(opentelemetry, text_map_propagators, [trace_context, baggage]),
    application:set_env(opentelemetry, processors, [
        {otel_batch_processor, #{exporter => {?MODULE, #{}}, max_queue_size => MaxQueue}}
    ]),
    {ok, _} = application:ensure_all_started(opentelemetry),
    Tracer = opentelemetry:get_tracer(upstream_bench),
    Result =
        try
            run(Workload, Tracer, N)
        catch
            C:R:St -> #{error => {C, R, St}}
        end,
    io:format("~n~p.~n", [{bench_result, Result#{workload => Workload}}]),
    halt().

w1(Tracer) ->
    Ctx = otel_tracer:start_span(Tracer, <<"GET /users/:id">>, #{}),
    otel_span:set_attribute(Ctx, <<"http.request.method">>, <<"GET">>),
    otel_span:set_attribute(Ctx, <<"http.response.status_code">>, 200),
    otel_span:set_attribute(Ctx, <<"cache.hit">>, true),
    otel_span:end_span(Ctx).

loop(_, 0) ->
    ok;
loop(F, N) ->
    F(),
    loop(F, N - 1).

run("W4", Tracer, N) ->
    Parent = otel_tracer:start_span(Tracer, <<"parent">>, #{}),
    _ = otel_tracer:set_current_span(Parent),
    otel_baggage:set(<<"user.id">>, <<"42">>),
    Ctx = otel_ctx:get_current(),
    F = fun() -> otel_propagator_text_map:extract_to(otel_ctx:new(), otel_propagator_text_map:inject_from(Ctx, [])) end,
    loop(F, 20000),
    measure(fun() -> loop(F, N) end, N, fun() -> ok end);
run(W1, Tracer, N) ->
    F = fun() -> w1(Tracer) end,
    loop(F, 20000),
    wait_exported(20000, 30000),
    Before = exported(),
    R = measure(fun() -> loop(F, N) end, N, fun() -> wait_exported(Before + N, 30000) end),
    Exported = exported() - Before,
    R#{exported => Exported, dropped => N - Exported, workload => W1}.

%% Waits until Count spans have been exported or TimeoutMs passed (defaults: spans are dropped,
%% so it stops when the count stays put for a second after a flush).
wait_exported(Count, TimeoutMs) ->
    otel_tracer_provider:force_flush(),
    wait_exported(Count, TimeoutMs, exported(), 0).

wait_exported(_, TimeoutMs, _, Waited) when Waited >= TimeoutMs ->
    ok;
wait_exported(Count, TimeoutMs, Last, Waited) ->
    case exported() of
        X when X >= Count ->
            ok;
        X when X =:= Last, Waited > 0, Waited rem 1000 =:= 0 ->
            ok;
        X ->
            receive after 10 -> ok end,
            wait_exported(Count, TimeoutMs, X, Waited + 10)
    end.

measure(Body, Ops, Drain) ->
    erlang:garbage_collect(),
    Threads0 = polytrace_bench:threads(),
    T0 = erlang:monotonic_time(),
    Body(),
    Wall = erlang:monotonic_time() - T0,
    Drain(),
    PerThread = polytrace_bench:per_thread(Threads0, polytrace_bench:threads(), Ops),
    #{
        ops => Ops,
        wall_ns => erlang:convert_time_unit(Wall, native, nanosecond) / Ops,
        cpu_ns => lists:sum([Run || {_, Run, _} <- PerThread])
    }.

%% ------------------------------------------------------------------------------------------
%% Driver.
%% ------------------------------------------------------------------------------------------

%% @doc erl -s upstream_bench main -extra [--quick] [--repeat N]
main() ->
    Args = init:get_plain_arguments(),
    Quick = lists:member("--quick", Args),
    Repeat =
        case Args of
            _ when Quick -> 1;
            _ -> 3
        end,
    Results = [
        {W, child_vm(W, Quick)}
     || W <- ["W1-defaults", "W1-lossless", "W4"], _ <- lists:seq(1, Repeat)
    ],
    io:format("~nopentelemetry-erlang SDK (counting exporter), ~b run(s) each, median:~n~n", [Repeat]),
    io:format("| workload | wall (ns/op) | cpu (ns/op) | spans dropped |~n|---|---|---|---|~n"),
    [
        begin
            Rs = [R || {X, R} <- Results, X =:= W],
            Cpu = median([maps:get(cpu_ns, R) || R <- Rs]),
            Wall = median([maps:get(wall_ns, R) || R <- Rs]),
            Dropped =
                case maps:find(dropped, hd(Rs)) of
                    {ok, _} ->
                        io_lib:format("~.1f %", [100 * median([maps:get(dropped, R) / maps:get(ops, R) || R <- Rs])]);
                    error ->
                        "-"
                end,
            io:format("| ~s | ~b | ~b | ~s |~n", [W, round(Wall), round(Cpu), Dropped])
        end
     || W <- ["W1-defaults", "W1-lossless", "W4"]
    ],
    halt().

median(L) ->
    lists:nth((length(L) + 1) div 2, lists:sort(L)).

child_vm(W, Quick) ->
    Erl = os:find_executable("erl"),
    Root = code:root_dir(),
    Paths = lists:append([["-pa", P] || P <- code:get_path(), not lists:prefix(Root, P), P =/= "."]),
    Q =
        case Quick of
            true -> "quick";
            false -> "full"
        end,
    Port = open_port({spawn_executable, Erl}, [
        {args, ["-noshell" | Paths] ++ ["-run", "upstream_bench", "child", W, Q]},
        exit_status, binary, stderr_to_stdout
    ]),
    Out = collect(Port, <<>>),
    case re:run(Out, <<"\\{bench_result,.*\\}\\.">>, [dotall, {capture, first, list}]) of
        {match, [Term]} ->
            {ok, Tokens, _} = erl_scan:string(Term),
            {ok, {bench_result, R}} = erl_parse:parse_term(Tokens),
            case R of
                #{error := E} -> error({W, E});
                _ -> R
            end;
        nomatch ->
            error({W, no_result, Out})
    end.

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, <<Acc/binary, D/binary>>);
        {Port, {exit_status, _}} -> Acc
    end.
