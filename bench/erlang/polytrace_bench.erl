%% polytrace's Erlang binding under load, exporting OTLP/HTTP to a loopback receiver
%% (`polytrace receive --count-only`, started here). Not a timed test: `bash run.sh` prints a
%% table. Workloads, each in a fresh VM (one child per workload and repetition):
%%
%%   W1  start_span + 3 set_attribute + end_span                        per span
%%   W3  with_span nested 3 deep                                         per span
%%   W4  inject (W3C traceparent + baggage headers) + extract            per pair
%%   W5  W1 from 8 processes at once (both schedulers), against 1 process   per span
%%   T   spans delivered to the receiver, and how many were lost: (a) as fast as possible for a
%%       few seconds, (b) paced below the drain rate; the time includes the final shutdown
%%
%% "cpu" is the VM process's CPU time per operation, every thread counted (the schedulers, the
%% dirty schedulers, the core's batch and export threads): the sum over /proc/self/task/*/schedstat
%% (nanoseconds) from before the measured loop to after the force_flush that follows it, so
%% export work queued during the loop counts. "wall" is the loop's elapsed time per operation.
%% The receiver runs in its own process: its CPU is printed apart (--threads), not counted.
%%
%% Usage: erl -noshell -pa ... -s polytrace_bench main -extra [--quick] [--repeat N]
%%            [--only W1,W3,W4,W5,T] [--threads] [--vm-args "..."]
-module(polytrace_bench).

-export([main/0, child/1]).
%% Shared with upstream_bench.
-export([threads/0, per_thread/3]).

-define(PACED_RATE, 20000).

%% ------------------------------------------------------------------------------------------
%% Child: one workload in this VM; prints {bench_result, Map}.
%% ------------------------------------------------------------------------------------------

%% @doc Entry point of a child VM: [Workload, Endpoint, Quick].
child([Workload, Endpoint, Quick]) ->
    Q = Quick =:= "quick",
    ok = polytrace:start(#{
        endpoint => list_to_binary(Endpoint),
        service_name => list_to_binary("bench-erlang-" ++ Workload)
    }),
    Result =
        try
            run(Workload, Q)
        catch
            C:R:St -> #{error => {C, R, St}}
        end,
    io:format("~n~p.~n", [{bench_result, Result#{workload => Workload}}]),
    halt().

n("W1", true) -> 100000;
n("W1", false) -> 400000;
n("W3", true) -> 50000;
n("W3", false) -> 150000;
n("W4", true) -> 100000;
n("W4", false) -> 400000;
n("W5", true) -> 100000;
n("W5", false) -> 400000.

w1() ->
    S = polytrace:start_span(<<"GET /users/:id">>),
    polytrace:set_attribute(S, <<"http.request.method">>, <<"GET">>),
    polytrace:set_attribute(S, <<"http.response.status_code">>, 200),
    polytrace:set_attribute(S, <<"cache.hit">>, true),
    polytrace:end_span(S).

w3() ->
    polytrace:with_span(<<"a">>, #{}, fun() ->
        polytrace:with_span(<<"b">>, #{}, fun() ->
            polytrace:with_span(<<"c">>, #{}, fun() -> ok end)
        end)
    end).

loop(_, 0) ->
    ok;
loop(F, N) ->
    F(),
    loop(F, N - 1).

run(W, Quick) when W =:= "W1"; W =:= "W3"; W =:= "W4" ->
    {F, Per} =
        case W of
            "W1" ->
                {fun w1/0, 1};
            "W3" ->
                {fun w3/0, 3};
            "W4" ->
                Parent = polytrace:start_span(<<"parent">>),
                _ = polytrace:attach(Parent),
                Ctx = polytrace:current_ctx(),
                {fun() -> polytrace:extract(polytrace:inject(Ctx, [])) end, 1}
        end,
    N = n(W, Quick),
    loop(F, 20000),
    ok = polytrace:force_flush(),
    measure(fun() -> lossless(F, N, Per) end, N * Per);
run("W5", Quick) ->
    N = n("W5", Quick),
    loop(fun w1/0, 20000),
    ok = polytrace:force_flush(),
    %% Sustained: both lossless, and the wall time includes the waits for the export.
    One = measure(fun() -> lossless(fun w1/0, N, 1), ok end, N),
    Eight = measure(fun() -> in_processes(8, N div 8) end, N),
    Eight#{
        one_wall_ns => maps:get(wall_ns, One),
        one_cpu_ns => maps:get(cpu_ns, One),
        speedup => maps:get(wall_ns, One) / maps:get(wall_ns, Eight)
    };
run("T", Quick) ->
    Seconds = seconds(Quick),
    T0 = erlang:monotonic_time(),
    Until = T0 + erlang:convert_time_unit(Seconds, second, native),
    Produced = as_fast_as_possible(Until, 0),
    ok = polytrace:shutdown(),
    #{produced => Produced, seconds => elapsed_s(T0), stats => polytrace:stats()};
run("P", Quick) ->
    Seconds = seconds(Quick),
    PerTick = ?PACED_RATE div 100,
    Ticks = Seconds * 100,
    T0 = erlang:monotonic_time(millisecond),
    paced(T0, 0, Ticks, PerTick),
    ok = polytrace:shutdown(),
    #{produced => Ticks * PerTick, seconds => (erlang:monotonic_time(millisecond) - T0) / 1000,
        stats => polytrace:stats()}.

seconds(true) -> 2;
seconds(false) -> 4.

elapsed_s(T0) ->
    erlang:convert_time_unit(erlang:monotonic_time() - T0, native, microsecond) / 1.0e6.

as_fast_as_possible(Until, Done) ->
    case erlang:monotonic_time() < Until of
        true ->
            loop(fun w1/0, 1000),
            as_fast_as_possible(Until, Done + 1000);
        false ->
            Done
    end.

paced(_, Ticks, Ticks, _) ->
    ok;
paced(T0, Tick, Ticks, PerTick) ->
    loop(fun w1/0, PerTick),
    Next = T0 + (Tick + 1) * 10,
    timer:sleep(max(0, Next - erlang:monotonic_time(millisecond))),
    paced(T0, Tick + 1, Ticks, PerTick).

%% N operations of F (each making Per spans) in chunks of 1,000 spans, waiting between chunks while
%% more than a batch of spans is queued (from stats/0: ended, not yet exported nor dropped),
%% so every span is exported and its export counted: the loop does not outrun the export
%% threads and have spans dropped (their export never paid). Returns the loop's own time
%% (the waits excluded).
lossless(F, N, Per) ->
    lossless(F, N, Per, 0).

lossless(_, N, _, Hot) when N =< 0 ->
    Hot;
lossless(F, N, Per, Hot) ->
    Chunk = min(N, max(1, 1000 div Per)),
    T0 = erlang:monotonic_time(),
    loop(F, Chunk),
    T1 = erlang:monotonic_time(),
    drained(),
    lossless(F, N - Chunk, Per, Hot + T1 - T0).

drained() ->
    #{spans_ended := E, spans_exported := X, spans_dropped := D} = polytrace:stats(),
    case E - X - D > 1024 of
        true ->
            receive after 1 -> ok end,
            drained();
        false ->
            ok
    end.

%% Runs Body (Ops operations) between two readings of every thread's CPU time, then flushes.
%% Wall time is Body's result when it returns its own time (native units), else its duration.
measure(Body, Ops) ->
    erlang:garbage_collect(),
    #{spans_dropped := Dropped0} = polytrace:stats(),
    Threads0 = threads(),
    T0 = erlang:monotonic_time(),
    Wall =
        case Body() of
            Hot when is_integer(Hot) -> Hot;
            _ -> erlang:monotonic_time() - T0
        end,
    ok = polytrace:force_flush(),
    Threads1 = threads(),
    PerThread = per_thread(Threads0, Threads1, Ops),
    #{
        ops => Ops,
        wall_ns => erlang:convert_time_unit(Wall, native, nanosecond) / Ops,
        cpu_ns => lists:sum([Run || {_, Run, _} <- PerThread]),
        threads => PerThread,
        dropped => maps:get(spans_dropped, polytrace:stats()) - Dropped0
    }.

%% N processes, each making Each W1 spans; returns when all are done.
in_processes(N, Each) ->
    Self = self(),
    Pids = [spawn_link(fun() -> lossless(fun w1/0, Each, 1), Self ! {done, self()} end) || _ <- lists:seq(1, N)],
    [receive {done, P} -> ok end || P <- Pids],
    ok.

%% #{Tid => {Name, RunNs, WaitNs}} of every thread of this OS process (Linux).
threads() ->
    {ok, Tids} = file:list_dir("/proc/self/task"),
    maps:from_list(lists:filtermap(fun thread/1, Tids)).

thread(Tid) ->
    Dir = "/proc/self/task/" ++ Tid,
    case {file:read_file(Dir ++ "/comm"), file:read_file(Dir ++ "/schedstat")} of
        {{ok, Comm}, {ok, Stat}} ->
            [Run, Wait | _] = [binary_to_integer(X) || X <- binary:split(string:trim(Stat), <<" ">>, [global])],
            {true, {Tid, {thread_group(string:trim(Comm)), Run, Wait}}};
        _ ->
            false
    end.

%% Threads grouped by role: "1_scheduler" and "2_scheduler" are both "scheduler".
thread_group(Name) ->
    case re:run(Name, <<"^[0-9]+_(.*)$">>, [{capture, all_but_first, binary}]) of
        {match, [Rest]} -> Rest;
        nomatch -> Name
    end.

%% [{Group, RunNsPerOp, WaitNsPerOp}] over the threads of After (new threads count from 0).
per_thread(Before, After, Ops) ->
    Sums = maps:fold(
        fun(Tid, {Name, Run, Wait}, Acc) ->
            {_, Run0, Wait0} = maps:get(Tid, Before, {Name, 0, 0}),
            {R, W} = maps:get(Name, Acc, {0, 0}),
            Acc#{Name => {R + Run - Run0, W + Wait - Wait0}}
        end,
        #{},
        After
    ),
    lists:sort([{Name, R / Ops, W / Ops} || {Name, {R, W}} <- maps:to_list(Sums)]).

%% ------------------------------------------------------------------------------------------
%% Driver: receiver, children, table.
%% ------------------------------------------------------------------------------------------

%% @doc Entry point (erl -s polytrace_bench main -extra ...).
main() ->
    Args = init:get_plain_arguments(),
    Quick = lists:member("--quick", Args),
    Repeat = list_to_integer(arg("--repeat", Args, case Quick of true -> "1"; false -> "3" end)),
    Only = string:lexemes(arg("--only", Args, "W1,W3,W4,W5,T"), ","),
    Threads = lists:member("--threads", Args),
    VmArgs = string:lexemes(arg("--vm-args", Args, ""), " "),
    Receiver = receiver_start(),
    Endpoint = element(2, Receiver),
    Results = [
        with_receiver_cpu(Receiver, fun() -> run_child(W, Endpoint, Quick, VmArgs, Receiver) end)
     || W <- ["W1", "W3", "W4", "W5"], lists:member(W, Only), _ <- lists:seq(1, Repeat)
    ],
    Delivery = [
        delivered(Receiver, fun() -> run_child(W, Endpoint, Quick, VmArgs, Receiver) end)
     || lists:member("T", Only), W <- ["T", "P"]
    ],
    receiver_stop(Receiver),
    print(Results, Delivery, Repeat, Threads, VmArgs, Quick),
    halt().

arg(Name, [Name, Value | _], _) -> Value;
arg(Name, [_ | Rest], Default) -> arg(Name, Rest, Default);
arg(_, [], Default) -> Default.

cli() ->
    Root = filename:join(filename:dirname(code:which(?MODULE)), "../.."),
    Target = os:getenv("CARGO_TARGET_DIR", filename:join(Root, "target")),
    Candidates = [os:getenv("POLYTRACE_CLI", ""), filename:join([Target, "release", "polytrace"]),
        filename:join([Target, "debug", "polytrace"])],
    case [C || C <- Candidates, C =/= "", filelib:is_regular(C)] of
        [C | _] -> C;
        [] -> error("the polytrace CLI is missing: cargo build --release -p polytrace-cli")
    end.

%% {Port, HttpEndpoint, OsPid}: `polytrace receive --count-only` on a free loopback port.
receiver_start() ->
    Port = open_port({spawn_executable, cli()}, [
        {args, ["receive", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0", "--count-only"]},
        stderr_to_stdout, {line, 4096}, exit_status
    ]),
    {os_pid, OsPid} = erlang:port_info(Port, os_pid),
    receive
        {Port, {data, {eol, "listening " ++ Rest}}} ->
            Fields = [list_to_tuple(string:split(F, "=")) || F <- string:lexemes(Rest, " ")],
            put(received, 0),
            {Port, "http://" ++ proplists:get_value("http", Fields), OsPid}
    after 20000 -> error(receiver_did_not_start)
    end.

receiver_stop({Port, _, OsPid}) ->
    _ = os:cmd("kill " ++ integer_to_list(OsPid)),
    catch port_close(Port),
    ok.

%% Takes the receiver's reports ("received N spans") that arrived so far; its running total.
received({Port, _, _}, WaitMs) ->
    receive
        {Port, {data, {eol, "received " ++ Rest}}} ->
            [N | _] = string:lexemes(Rest, " "),
            put(received, list_to_integer(N)),
            received({Port, x, x}, WaitMs);
        {Port, {data, _}} ->
            received({Port, x, x}, WaitMs)
    after WaitMs -> get(received)
    end.

receiver_cpu_ns({_, _, OsPid}) ->
    {ok, Stat} = file:read_file("/proc/" ++ integer_to_list(OsPid) ++ "/stat"),
    [_, After] = binary:split(Stat, <<") ">>),
    Fields = binary:split(After, <<" ">>, [global]),
    Ticks = binary_to_integer(lists:nth(12, Fields)) + binary_to_integer(lists:nth(13, Fields)),
    Ticks * 10000000.

with_receiver_cpu(Receiver, Run) ->
    C0 = receiver_cpu_ns(Receiver),
    R = Run(),
    _ = received(Receiver, 300),
    C1 = receiver_cpu_ns(Receiver),
    R#{receiver_ns => (C1 - C0) / maps:get(ops, R, 1)}.

delivered(Receiver, Run) ->
    Before = received(Receiver, 0),
    R = Run(),
    After = received(Receiver, 1000),
    R#{received => After - Before}.

%% Runs one child VM and returns its result map. The receiver's reports are taken meanwhile
%% (the port must keep being read).
run_child(Workload, Endpoint, Quick, VmArgs, Receiver) ->
    Erl = os:find_executable("erl"),
    Paths = ["-pa", filename:dirname(code:which(?MODULE)), "-pa", filename:dirname(code:which(polytrace))],
    Args = ["-noshell" | VmArgs] ++ Paths ++
        ["-run", ?MODULE_STRING, "child", Workload, Endpoint, case Quick of true -> "quick"; false -> "full" end],
    Port = open_port({spawn_executable, Erl}, [{args, Args}, stderr_to_stdout, {line, 1 bsl 16}, exit_status]),
    child_output(Port, Receiver, []).

child_output(Port, {RPort, _, _} = Receiver, Lines) ->
    receive
        {Port, {data, {eol, Line}}} ->
            child_output(Port, Receiver, [Line | Lines]);
        {Port, {data, {noeol, Line}}} ->
            child_output(Port, Receiver, [Line | Lines]);
        {Port, {exit_status, _}} ->
            Text = lists:flatten(lists:join("\n", lists:reverse(Lines))),
            case string:find(Text, "{bench_result,") of
                nomatch ->
                    error({child_failed, Text});
                From ->
                    {ok, Tokens, _} = erl_scan:string(From),
                    {ok, {bench_result, R}} = erl_parse:parse_term(Tokens),
                    case R of
                        #{error := E} -> error({child_failed, E});
                        _ -> R
                    end
            end;
        {RPort, {data, {eol, "received " ++ Rest}}} ->
            [N | _] = string:lexemes(Rest, " "),
            put(received, list_to_integer(N)),
            child_output(Port, Receiver, Lines);
        {RPort, {data, _}} ->
            child_output(Port, Receiver, Lines)
    end.

median(Xs) ->
    S = lists:sort(Xs),
    lists:nth((length(S) + 1) div 2, S).

fmt(X) when is_float(X) -> fmt(round(X));
fmt(X) when is_integer(X) ->
    S = integer_to_list(abs(X)),
    Groups = lists:reverse(group(lists:reverse(S))),
    [case X < 0 of true -> "-"; false -> "" end | lists:join(",", Groups)].

group([A, B, C | Rest]) -> [lists:reverse([A, B, C]) | group(Rest)];
group([]) -> [];
group(Rest) -> [lists:reverse(Rest)].

print(Results, Delivery, Repeat, Threads, VmArgs, Quick) ->
    ok = io:setopts([{encoding, unicode}]),
    {ok, Load} = file:read_file("/proc/loadavg"),
    io:format("Erlang/OTP ~ts, ~p schedulers, ~ts; load average after the run: ~ts~n",
        [erlang:system_info(otp_release), erlang:system_info(schedulers), vm_args_text(VmArgs),
            string:trim(Load)]),
    io:format("median of ~p run(s)~ts; wall = the loop's elapsed time, cpu = every thread of the VM "
        "process (loop and the flush after it)~n~n", [Repeat, case Quick of true -> " (--quick)"; false -> "" end]),
    io:format("| workload | wall | cpu | target (cpu) | upstream opentelemetry-erlang 1.7 (quoted by issue 13) | spans dropped while measured |~n"),
    io:format("|---|---:|---:|---:|---:|---:|~n"),
    Rows = [
        {"W1", "W1 start_span + 3 set_attribute + end_span (ns/span)", "1,000", "12,948"},
        {"W3", "W3 with_span nested 3 deep (ns/span)", "1,200", "—"},
        {"W4", "W4 inject + extract (ns/pair)", "1,000", "9,283"},
        {"W5", "W5 W1 in 8 processes at once (ns/span)", "—", "—"}
    ],
    [
        begin
            Rs = [R || #{workload := W1} = R <- Results, W1 =:= W],
            io:format("| ~ts | ~ts | ~ts | ~ts | ~ts | ~ts |~n", [Name, fmt(median([maps:get(wall_ns, R) || R <- Rs])),
                fmt(median([maps:get(cpu_ns, R) || R <- Rs])), Target, Upstream,
                lists:join(", ", [fmt(maps:get(dropped, R)) || R <- Rs])])
        end
     || {W, Name, Target, Upstream} <- Rows, lists:any(fun(#{workload := X}) -> X =:= W end, Results)
    ],
    case [R || #{workload := "W5"} = R <- Results] of
        [] ->
            ok;
        W5 ->
            io:format("~nW5 scaling: 1 process ~ts ns/span wall (~ts cpu), 8 processes ~ts ns/span wall (~ts cpu): "
                "~.2f× the throughput of one process (median; runs: ~ts)~n",
                [fmt(median([maps:get(one_wall_ns, R) || R <- W5])), fmt(median([maps:get(one_cpu_ns, R) || R <- W5])),
                    fmt(median([maps:get(wall_ns, R) || R <- W5])), fmt(median([maps:get(cpu_ns, R) || R <- W5])),
                    median([maps:get(speedup, R) || R <- W5]),
                    lists:join(", ", [io_lib:format("~.2f×", [maps:get(speedup, R)]) || R <- W5])])
    end,
    case Threads of
        false ->
            ok;
        true ->
            io:format("~nWhere the time went (ns per operation, each run): CPU / run-queue wait per thread group; the receiver process's CPU~n~n"),
            io:format("| workload | wall | threads: cpu / wait | receiver cpu |~n|---|---:|---|---:|~n"),
            [
                io:format("| ~ts | ~ts | ~ts | ~ts |~n", [W, fmt(maps:get(wall_ns, R)),
                    lists:join("; ", [[Name, " ", fmt(Run), " / ", fmt(Wait)] || {Name, Run, Wait} <- maps:get(threads, R), Run + Wait >= 1]),
                    fmt(maps:get(receiver_ns, R, 0))])
             || #{workload := W} = R <- Results
            ]
    end,
    case Delivery of
        [] ->
            ok;
        _ ->
            io:format("~n| delivery to a loopback OTLP receiver | produced | received | lost | spans/s delivered | core's dropped count |~n"),
            io:format("|---|---:|---:|---:|---:|---:|~n"),
            [
                io:format("| ~ts | ~ts | ~ts | ~ts | ~ts | ~ts |~n", [
                    case W of
                        "T" -> io_lib:format("as fast as possible for ~p s", [seconds(Quick)]);
                        "P" -> io_lib:format("paced at ~ts/s", [fmt(?PACED_RATE)])
                    end,
                    fmt(P), fmt(Rcv), fmt(P - Rcv), fmt(Rcv / S), fmt(maps:get(spans_dropped, St))])
             || #{workload := W, produced := P, received := Rcv, seconds := S, stats := St} <- Delivery
            ]
    end,
    ok.

vm_args_text([]) -> "default VM flags";
vm_args_text(Args) -> "VM flags " ++ lists:join(" ", Args).
