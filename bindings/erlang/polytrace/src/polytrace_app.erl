%% @doc The polytrace application: a supervisor with polytrace_server. The pipeline itself is
%% started by polytrace:start/0,1 and flushed and shut down when the application stops.
-module(polytrace_app).
-behaviour(application).

-export([start/2, prep_stop/1, stop/1]).

start(_Type, _Args) ->
    polytrace_sup:start_link().

%% Flushes what is queued before the server goes: nothing is lost on a graceful stop.
prep_stop(State) ->
    _ = polytrace:shutdown(),
    State.

stop(_State) ->
    ok.
