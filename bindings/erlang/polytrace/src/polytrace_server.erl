%% @doc Owns the pipeline's lifecycle (start, shutdown; a shutdown when the application stops)
%% and logs the core's diagnostics through logger (metadata #{polytrace => diag}). Not on any span's path:
%% spans read the running pipeline from persistent_term.
-module(polytrace_server).
-behaviour(gen_server).

-include("polytrace_internal.hrl").

-export([start_link/0, start_provider/1, stop_provider/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-define(SCOPE, <<"polytrace">>).

start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

%% @doc Builds the pipeline from Config over the application environment and OTEL_*.
-spec start_provider(map()) -> ok | {error, term()}.
start_provider(Config) ->
    gen_server:call(?MODULE, {start, Config}, infinity).

%% @doc Flushes and stops the pipeline, waiting at most TimeoutMs for the export.
-spec stop_provider(non_neg_integer() | exit_bound) -> ok | {error, term()}.
stop_provider(TimeoutMs) ->
    gen_server:call(?MODULE, {stop, TimeoutMs}, infinity).

init([]) ->
    process_flag(trap_exit, true),
    polytrace_nif:set_diag_pid(self()),
    {ok, #{running => false}}.

handle_call({start, _Config}, _From, #{running := true} = S) ->
    {reply, {error, already_started}, S};
handle_call({start, Config}, _From, S) ->
    %% The application environment yields to Config's options in any spelling (the core's
    %% add_default_option, in the NIF).
    case polytrace_nif:provider_new(Config, app_env()) of
        {ok, Provider} ->
            Tracer = polytrace_nif:tracer(Provider, ?SCOPE, version(), undefined),
            persistent_term:put(?STATE_KEY, #polytrace_state{
                provider = Provider,
                tracer = Tracer,
                plan = polytrace_nif:plan(Provider),
                caps = polytrace_nif:caps(Provider)
            }),
            {reply, ok, S#{running => true}};
        {error, _} = E ->
            {reply, E, S}
    end;
handle_call({stop, _}, _From, #{running := false} = S) ->
    {reply, ok, S};
handle_call({stop, TimeoutMs}, _From, S) ->
    {reply, stop(TimeoutMs), S#{running => false}}.

handle_cast(_Msg, S) ->
    {noreply, S}.

handle_info({polytrace_diag, Level, Message}, S) ->
    logger:log(Level, "polytrace: ~ts", [Message], #{polytrace => diag}),
    {noreply, S};
handle_info(_Msg, S) ->
    {noreply, S}.

terminate(_Reason, #{running := true}) ->
    _ = stop(exit_bound),
    polytrace_nif:set_diag_pid(undefined),
    ok;
terminate(_Reason, _S) ->
    polytrace_nif:set_diag_pid(undefined),
    ok.

%% Shuts the pipeline down (on a dirty I/O scheduler) within TimeoutMs, or within the core's
%% exit bound for exit_bound (shutdown/0, the application's stop), and publishes the no-op
%% start plan, so later spans are no-ops; stats/0 keeps reading the final counters.
stop(TimeoutMs) ->
    case persistent_term:get(?STATE_KEY, undefined) of
        undefined ->
            ok;
        #polytrace_state{provider = P} = State ->
            Ms =
                case TimeoutMs of
                    exit_bound -> polytrace_nif:exit_timeout_ms(P);
                    _ -> TimeoutMs
                end,
            R = polytrace_nif:shutdown(P, Ms),
            persistent_term:put(?STATE_KEY, State#polytrace_state{plan = polytrace_nif:plan(P)}),
            R
    end.

%% The application environment's options ({polytrace, [{service_name, <<"checkout">>}]}).
app_env() ->
    maps:from_list([
        {K, V}
     || {K, V} <- application:get_all_env(polytrace), K =/= included_applications
    ]).

version() ->
    case application:get_key(polytrace, vsn) of
        {ok, Vsn} -> unicode:characters_to_binary(Vsn);
        undefined -> undefined
    end.
