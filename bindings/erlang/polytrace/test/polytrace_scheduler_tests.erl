%% No scheduler is ever blocked: many processes make spans (and inject/extract) while others
%% flush, then the pipeline shuts down, all with erlang:system_monitor reporting any process
%% that ran longer than 1 ms without yielding (long_schedule); one report fails the test.
%% The back end is a port nobody listens on, so exports fail and retry on the core's threads.
%%
%% long_schedule measures wall time, so the operating system preempting a scheduler thread (a
%% loaded machine) looks like a long schedule too. The load runs in rounds: the test passes on
%% the first round without any report and fails when each of ?ROUNDS rounds has one (a NIF
%% that blocks reports in every round). Every report is printed.
-module(polytrace_scheduler_tests).

-include_lib("eunit/include/eunit.hrl").

-define(PROCESSES, 8).
-define(SPANS, 200).
-define(ROUNDS, 5).

long_schedule_test_() ->
    {timeout, 600, fun no_long_schedules/0}.

no_long_schedules() ->
    {ok, _} = application:ensure_all_started(polytrace),
    ?assertEqual(clean, rounds(1)).

rounds(N) when N > ?ROUNDS ->
    blocked_in_every_round;
rounds(N) ->
    case round() of
        [] ->
            clean;
        Reports ->
            io:format(user, "round ~b: ~b long_schedule reports (load ~s):~n~p~n",
                [N, length(Reports), string:trim(os:cmd("cut -d' ' -f1-3 /proc/loadavg")), lists:sublist(Reports, 5)]),
            rounds(N + 1)
    end.

round() ->
    polytrace_test_util:restart(#{
        endpoint => <<"http://127.0.0.1:9">>,
        timeout => 200,
        max_queue_size => 512,
        schedule_delay => 10
    }),
    Self = self(),
    Previous = erlang:system_monitor(Self, [{long_schedule, 1}]),
    try
        Workers = [spawn_link(fun() -> work(Self) end) || _ <- lists:seq(1, ?PROCESSES)],
        Flushers = [spawn_link(fun() -> Self ! {flushed, polytrace:force_flush()} end) || _ <- lists:seq(1, 4)],
        [receive {done, W} -> ok after 60000 -> error(timeout) end || W <- Workers],
        [receive {flushed, _} -> ok after 60000 -> error(timeout) end || _ <- Flushers],
        _ = polytrace:shutdown(),
        timer:sleep(100)
    after
        erlang:system_monitor(Previous)
    end,
    #{spans_started := Started, spans_ended := Ended} = polytrace:stats(),
    ?assertEqual(?PROCESSES * ?SPANS * 2, Started),
    ?assertEqual(Started, Ended),
    drain([]).

work(Parent) ->
    [
        polytrace:with_span(<<"outer">>, #{kind => server}, fun() ->
            polytrace:set_attribute(<<"n">>, N),
            polytrace:with_span(<<"inner">>, #{}, fun() ->
                polytrace:extract(polytrace:inject([]))
            end)
        end)
     || N <- lists:seq(1, ?SPANS)
    ],
    Parent ! {done, self()}.

drain(Acc) ->
    receive
        {monitor, _, long_schedule, Info} -> drain([Info | Acc])
    after 0 -> Acc
    end.
