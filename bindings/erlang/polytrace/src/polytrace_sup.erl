%% @doc The polytrace supervisor.
-module(polytrace_sup).
-behaviour(supervisor).

-export([start_link/0, init/1]).

start_link() ->
    supervisor:start_link({local, ?MODULE}, ?MODULE, []).

init([]) ->
    Server = #{
        id => polytrace_server,
        start => {polytrace_server, start_link, []},
        shutdown => 35000
    },
    {ok, {#{strategy => one_for_one, intensity => 5, period => 10}, [Server]}}.
