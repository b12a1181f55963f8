%% @doc inets httpd instrumentation: a SERVER span per request. Put polytrace_httpd first in
%% the server's modules:
%%
%%   inets:start(httpd, [..., {modules, [polytrace_httpd, mod_alias, mod_esi, mod_get]}]).
%%
%% It extracts traceparent/tracestate/baggage from the request headers (the core's W3C
%% propagators), opens a SERVER span named after the method with the HTTP semantic-convention
%% attributes (http.request.method, url.path, url.query, url.scheme, server.address,
%% server.port, client.address, network.protocol.version, user_agent.original,
%% http.response.status_code), makes it current while the other modules run, and ends it with an
%% error status for a 5xx response or a crash. The other modules run inside it, so their spans
%% (and any httpc call made through polytrace_httpc) are its children. mod_esi runs its callbacks
%% in a process of their own: a callback calls esi_attach(SessionID) first to make the request's
%% span current there.
-module(polytrace_httpd).

-include_lib("inets/include/httpd.hrl").

-include("polytrace.hrl").

-export([do/1, esi_attach/1]).

%% @doc The httpd module callback.
do(#mod{config_db = ConfigDB, parsed_header = Headers, method = Method} = ModData) ->
    Modules = httpd_util:lookup(ConfigDB, modules, []),
    Rest =
        case lists:dropwhile(fun(M) -> M =/= ?MODULE end, Modules) of
            [?MODULE | After] -> After;
            [] -> []
        end,
    Parent = polytrace:extract(Headers),
    Opts = #{kind => server, parent => Parent, attributes => attributes(ModData)},
    Token = polytrace:attach(Parent),
    Span = polytrace:start_span(list_to_binary(Method), Opts),
    polytrace:attach(Span),
    try traverse(ModData, Rest) of
        Result ->
            finish(Span, status_code(Result)),
            case Result of
                {proceed, Data} -> {break, Data};
                Other -> Other
            end
    catch
        Class:Reason:Stacktrace ->
            polytrace:record_exception(Span, Class, Reason, Stacktrace),
            polytrace:set_status(Span, error, polytrace_format:reason(Class, Reason)),
            %% httpd answers a crashed module with 500
            finish(Span, 500),
            erlang:raise(Class, Reason, Stacktrace)
    after
        polytrace:detach(Token)
    end.

%% @doc In a mod_esi callback (Module:Function(SessionID, Env, Input), run by mod_esi in a process
%% of its own): makes the request's SERVER span and baggage current in the calling process, read
%% from the request process (SessionID). Returns the token for polytrace:detach/1.
-spec esi_attach(pid()) -> polytrace:token().
esi_attach(SessionID) when is_pid(SessionID) ->
    Ctx =
        case erlang:process_info(SessionID, dictionary) of
            {dictionary, D} ->
                #polytrace_ctx{
                    span = proplists:get_value('$polytrace_span', D),
                    baggage = proplists:get_value('$polytrace_baggage', D, [])
                };
            undefined ->
                polytrace:current_ctx()
        end,
    polytrace:attach(Ctx).

%% What httpd_response:traverse_modules/2 does with the modules after this one.
traverse(ModData, []) ->
    {proceed, ModData#mod.data};
traverse(ModData, [Module | Rest]) ->
    case Module:do(ModData) of
        {proceed, NewData} -> traverse(ModData#mod{data = NewData}, Rest);
        {break, NewData} -> {proceed, NewData};
        Other -> Other
    end.

finish(Span, Code) ->
    case Code of
        undefined ->
            ok;
        _ ->
            polytrace:set_attribute(Span, <<"http.response.status_code">>, Code),
            case Code >= 500 of
                true -> polytrace:set_status(Span, error, <<>>);
                false -> ok
            end
    end,
    polytrace:end_span(Span).

%% The response's status code, from the data the modules left (httpd sends it afterwards).
status_code({proceed, Data}) ->
    case proplists:get_value(status, Data) of
        {Code, _, _} when is_integer(Code) ->
            Code;
        _ ->
            case proplists:get_value(response, Data) of
                {already_sent, Code, _} when is_integer(Code) -> Code;
                {response, Header, _} -> proplists:get_value(code, Header, 200);
                {Code, _} when is_integer(Code) -> Code;
                undefined -> 501;
                _ -> undefined
            end
    end;
status_code(_) ->
    undefined.

attributes(#mod{method = Method, request_uri = Uri, http_version = Version, parsed_header = Headers} = M) ->
    {Path, Query} =
        case string:split(Uri, "?") of
            [P, Q] -> {P, Q};
            [P] -> {P, undefined}
        end,
    Server = proplists:get_value("host", Headers, ""),
    {Host, Port} = host_port(Server, M),
    Base = [
        {<<"http.request.method">>, list_to_binary(Method)},
        {<<"url.path">>, list_to_binary(Path)},
        {<<"url.scheme">>, scheme(M)},
        {<<"server.address">>, list_to_binary(Host)},
        {<<"network.protocol.version">>, protocol_version(Version)}
    ],
    Base ++
        [{<<"url.query">>, list_to_binary(Query)} || Query =/= undefined] ++
        [{<<"server.port">>, Port} || is_integer(Port)] ++
        [{<<"client.address">>, list_to_binary(Ip)} || {_, Ip} <- [peer(M)], is_list(Ip)] ++
        [{<<"user_agent.original">>, list_to_binary(UA)} || UA <- [proplists:get_value("user-agent", Headers)], is_list(UA)].

host_port(HostHeader, #mod{init_data = #init_data{sockname = {SockPort, _}}}) ->
    case string:split(HostHeader, ":", trailing) of
        [H, P] ->
            case string:to_integer(P) of
                {N, ""} -> {H, N};
                _ -> {HostHeader, SockPort}
            end;
        [H] ->
            {H, SockPort}
    end;
host_port(HostHeader, _) ->
    {HostHeader, undefined}.

peer(#mod{init_data = #init_data{peername = Peer}}) -> Peer;
peer(_) -> undefined.

scheme(#mod{socket_type = ip_comm}) -> <<"http">>;
scheme(_) -> <<"https">>.

protocol_version("HTTP/" ++ V) -> list_to_binary(V);
protocol_version(V) when is_list(V) -> list_to_binary(V);
protocol_version(_) -> <<>>.
