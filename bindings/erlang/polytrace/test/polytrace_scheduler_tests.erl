%% No scheduler is ever blocked: every NIF on a normal scheduler returns in well under 1 ms.
%%
%% A load of many processes makes spans (attributes, events, exceptions, status, attributes
%% folded past their cap, links), injects and extracts, reads stats, while others flush, then
%% the pipeline shuts down; the back end is a port nobody listens on, so exports fail and retry
%% on the core's threads. Two detectors watch it.
%%
%% 1. Each NIF call, timed from Rust (the testing build, native/src/timing.rs; normal
%%    schedulers only): its CPU time, its *own* duration (wall time minus the time its thread
%%    waited for a CPU meanwhile, so the operating system running something else does not
%%    count, but sleeping does), and whether it slept or took a page fault. The test fails when
%%    a NIF computed for ?MAX_CPU_US or more in one call, or when more than one call in
%%    ?SLOW_ONE_IN of a NIF took 1 ms or more of its own. A NIF that blocks by design (I/O, a
%%    sleep, waiting for the exporter) does so on every call: blocking_nif_is_caught/0 shows a
%%    5 ms sleep in a NIF failing both rules. The rare slow call that remains on a loaded
%%    machine sleeps (a voluntary context switch) in the core's queue lock or a page fault while
%%    the lock's or the page's holder, another thread, waits for a CPU: it is counted and printed.
%% 2. erlang:system_monitor(self(), [{long_schedule, 1}]): every process that ran 1 ms or more
%%    without being scheduled out, with {timeout, Ms}, {in, Location}, {out, Location}. These
%%    reports are counted and printed (those whose in or out location is a polytrace_nif
%%    function apart), and do not fail the test: the locations are where the process was
%%    scheduled in and out, not where the time went. blocking_nif_is_caught/0 prints the report
%%    of a process that spent 15 ms in a NIF: its locations are the Erlang code around the
%%    call; and on this shared machine (load 10-16 while the other suites build; CI runs suites
%%    one after another on 2 cores) hundreds of reports per run come from the operating system
%%    descheduling a scheduler thread, some of them "in" a polytrace_nif function only because
%%    the process was scheduled in at that call (measured: in = polytrace_nif:stats for a
%%    21 ms slice, while the longest stats call took 70 us).
-module(polytrace_scheduler_tests).

-include_lib("eunit/include/eunit.hrl").
-include("polytrace.hrl").

-define(PROCESSES, 32).
-define(SPANS, 300).
%% "Well under 1 ms": no NIF call computes this long (the longest seen here: 225 us, a span
%% hand-over while the machine was at load 15).
-define(MAX_CPU_US, 500).
%% At most one call in this many of a NIF takes 1 ms of its own (see above).
-define(SLOW_ONE_IN, 1000).
-define(DIRTY_NIFS, [provider_new, force_flush, shutdown, testing_json, testing_json_lines]).

scheduler_test_() ->
    {setup,
        fun() -> {ok, _} = application:ensure_all_started(polytrace) end,
        fun(_) -> polytrace_nif:testing_nif_timing(stop), polytrace:shutdown() end,
        [
            {"a blocking NIF is caught by long_schedule and by the NIF timing", fun blocking_nif_is_caught/0},
            {timeout, 600, {"no NIF runs 1 ms under a load of many processes", fun no_long_schedules/0}}
        ]}.

blocking_nif_is_caught() ->
    polytrace_nif:testing_sleep(0),
    _ = polytrace_nif:testing_nif_timing(start),
    %% In a process of its own (the system monitor does not report on the process it sends
    %% to), which is then scheduled out by a receive (a process that exits is not reported).
    {_, _, Reports} = monitored(fun() ->
        Self = self(),
        Pid = spawn_link(fun() ->
            [polytrace_nif:testing_sleep(5) || _ <- lists:seq(1, 3)],
            receive after 20 -> ok end,
            Self ! {slept, self()}
        end),
        receive {slept, Pid} -> ok end
    end),
    Timing = polytrace_nif:testing_nif_timing(stop),
    io:format(user, "~nlong_schedule reports around three 5 ms NIF calls: ~p~n", [Reports]),
    [Sleep] = [T || #{file := File} = T <- Timing, binary:match(File, <<"testing.rs">>) =/= nomatch],
    ?assertMatch(#{calls := 3, slow := 3, slow_slept := 3}, Sleep),
    ?assert(maps:get(max_own_ns, Sleep) >= 5000000),
    ?assertEqual([Sleep], blocking(Timing)),
    ?assertMatch([_ | _], [R || R <- Reports, proplists:get_value(timeout, R) >= 15]).

%% The NIF call sites that broke a rule (see the module's comment).
blocking(Timing) ->
    [
        T
     || #{calls := Calls, max_cpu_ns := Cpu, slow := Slow} = T <- Timing,
        Cpu >= ?MAX_CPU_US * 1000 orelse Slow * ?SLOW_ONE_IN > Calls
    ].

no_long_schedules() ->
    polytrace_test_util:restart(#{
        endpoint => <<"http://127.0.0.1:9">>,
        timeout => 200,
        max_queue_size => 512,
        schedule_delay => 10,
        attribute_count_limit => 16
    }),
    _ = polytrace_nif:testing_nif_timing(start),
    {NifReports, DirtyReports, Elsewhere} = monitored(fun load/0),
    Timing = polytrace_nif:testing_nif_timing(stop),
    #{spans_started := Started, spans_ended := Ended} = polytrace:stats(),
    ?assertEqual(?PROCESSES * ?SPANS * 2, Started),
    ?assertEqual(Started, Ended),
    io:format(user, "~nlong_schedule under ~b processes (load ~s): ~b reports in all, ~b with a polytrace_nif "
        "location (normal schedulers), ~b in dirty NIFs, ~b elsewhere~s~n",
        [?PROCESSES, string:trim(os:cmd("cut -d' ' -f1-3 /proc/loadavg")),
            length(NifReports) + length(DirtyReports) + length(Elsewhere), length(NifReports),
            length(DirtyReports), length(Elsewhere),
            case lists:sublist(NifReports ++ DirtyReports ++ Elsewhere, 4) of
                [] -> "";
                Some -> io_lib:format("; the first: ~0p", [Some])
            end]),
    io:format(user, "NIF calls (own = wall minus waiting for a CPU): ~s~n",
        [lists:join("; ", [io_lib:format("~s:~b ~b calls, longest own ~.1f us, longest cpu ~.1f us, ~b slow (~b slept, ~b faulted)",
            [filename:basename(F), L, N, Own / 1000, Cpu / 1000, Slow, Slept, Faulted])
            || #{file := F, line := L, calls := N, max_own_ns := Own, max_cpu_ns := Cpu, slow := Slow,
                slow_slept := Slept, slow_faulted := Faulted}
            <- lists:reverse(lists:sort(fun(A, B) -> maps:get(max_own_ns, A) =< maps:get(max_own_ns, B) end, Timing))])]),
    %% Every NIF of the span path was timed (the table is not empty by accident).
    ?assert(length(Timing) >= 8),
    ?assertEqual([], blocking(Timing)).

%% Runs Body under long_schedule monitoring: {NifReports, DirtyNifReports, OtherReports}.
monitored(Body) ->
    Self = self(),
    drain([]),
    Previous = erlang:system_monitor(Self, [{long_schedule, 1}]),
    try
        Body()
    after
        erlang:system_monitor(Previous)
    end,
    timer:sleep(50),
    Reports = drain([]),
    Nif = [R || R <- Reports, nif_located(R, normal)],
    Dirty = [R || R <- Reports, nif_located(R, dirty)],
    {Nif, Dirty, Reports -- (Nif ++ Dirty)}.

nif_located(Info, Which) ->
    lists:any(
        fun
            ({polytrace_nif, F, _}) -> lists:member(F, ?DIRTY_NIFS) =:= (Which =:= dirty);
            (_) -> false
        end,
        [proplists:get_value(in, Info), proplists:get_value(out, Info)]
    ).

drain(Acc) ->
    receive
        {monitor, _, long_schedule, Info} -> drain([Info | Acc])
    after 0 -> lists:reverse(Acc)
    end.

load() ->
    Self = self(),
    Workers = [spawn_link(fun() -> work(Self) end) || _ <- lists:seq(1, ?PROCESSES)],
    Flushers = [spawn_link(fun() -> Self ! {flushed, polytrace:force_flush()} end) || _ <- lists:seq(1, 4)],
    [receive {done, W} -> ok after 300000 -> error(timeout) end || W <- Workers],
    [receive {flushed, _} -> ok after 60000 -> error(timeout) end || _ <- Flushers],
    _ = polytrace:shutdown(),
    ok.

work(Parent) ->
    Link = #span_ctx{trace_id = <<1:128>>, span_id = <<1:64>>, trace_flags = 1},
    [
        polytrace:with_span(<<"outer">>, #{kind => server, links => [Link]}, fun() ->
            polytrace:set_attribute(<<"n">>, N),
            polytrace:add_event(<<"e">>, #{<<"n">> => N}),
            polytrace:with_span(<<"inner">>, #{}, fun(Inner) ->
                Ctx = polytrace:extract(polytrace:inject([{<<"content-type">>, <<"text/plain">>}])),
                polytrace:set_attribute(Inner, <<"remote">>, Ctx#polytrace_ctx.span =/= undefined),
                %% Every 10th span outgrows its attribute room: the fold NIF runs.
                [polytrace:set_attribute(Inner, <<"k", (integer_to_binary(K))/binary>>, N) || N rem 10 =:= 0, K <- lists:seq(1, 40)],
                try error({failed, N}) catch C:R:St -> polytrace:record_exception(Inner, C, R, St) end,
                polytrace:set_status(Inner, error, <<"failed">>),
                _ = polytrace:stats()
            end)
        end)
     || N <- lists:seq(1, ?SPANS)
    ],
    Parent ! {done, self()}.
