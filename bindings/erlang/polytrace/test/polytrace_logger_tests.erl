%% A logger handler for polytrace_tests:logger_metadata/0: sends each event's metadata to the
%% test process.
-module(polytrace_logger_tests).

-export([log/2]).

log(#{meta := Meta}, #{config := #{pid := Pid}}) ->
    Pid ! {meta, Meta},
    ok.
