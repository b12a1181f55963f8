%% @doc httpc with a CLIENT span: the same arguments and results as httpc:request/1,2,4,5. The
%% span (named after the method, with http.request.method, url.full, server.address,
%% server.port and http.response.status_code) is a child of the current span, and the request
%% carries its context in the W3C headers the core writes (traceparent, tracestate, baggage).
%% A status of 400 or more, or an error, sets an error status. An asynchronous request
%% ({sync, false}) is traced up to its sending.
-module(polytrace_httpc).

-export([request/1, request/2, request/4, request/5]).

%% @doc httpc:request(Url) (a GET).
request(Url) ->
    request(get, {Url, []}, [], []).

%% @doc httpc:request(Url, Profile) (a GET).
request(Url, Profile) ->
    request(get, {Url, []}, [], [], Profile).

%% @doc httpc:request(Method, Request, HttpOptions, Options).
request(Method, Request, HttpOptions, Options) ->
    request(Method, Request, HttpOptions, Options, default).

%% @doc httpc:request(Method, Request, HttpOptions, Options, Profile).
request(Method, Request, HttpOptions, Options, Profile) ->
    Url = element(1, Request),
    M = string:uppercase(atom_to_binary(Method)),
    polytrace:with_span(M, #{kind => client, attributes => attributes(M, Url)}, fun(Span) ->
        Headers = polytrace:inject(element(2, Request)),
        Result = httpc:request(Method, setelement(2, Request, strings(Headers)), HttpOptions, Options, Profile),
        case Result of
            {ok, {{_, Code, _}, _, _}} -> status(Span, Code);
            {ok, {Code, _}} when is_integer(Code) -> status(Span, Code);
            {ok, _} -> ok;
            {error, Reason} ->
                polytrace:set_attribute(Span, <<"error.type">>, error_type(Reason)),
                polytrace:set_status(Span, error, polytrace_format:reason(error, Reason))
        end,
        Result
    end).

status(Span, Code) ->
    polytrace:set_attribute(Span, <<"http.response.status_code">>, Code),
    case Code >= 400 of
        true -> polytrace:set_status(Span, error, <<>>);
        false -> ok
    end.

error_type(Reason) when is_atom(Reason) -> Reason;
error_type(Reason) when is_tuple(Reason), is_atom(element(1, Reason)) -> element(1, Reason);
error_type(_) -> <<"_OTHER">>.

%% httpc wants string headers.
strings(Headers) ->
    [{to_list(K), to_list(V)} || {K, V} <- Headers].

to_list(B) when is_binary(B) -> binary_to_list(B);
to_list(L) -> L.

attributes(Method, Url) ->
    Base = [{<<"http.request.method">>, Method}, {<<"url.full">>, unicode:characters_to_binary(Url)}],
    case uri_string:parse(Url) of
        #{host := Host} = U ->
            Port =
                case U of
                    #{port := P} -> P;
                    #{scheme := "https"} -> 443;
                    #{scheme := <<"https">>} -> 443;
                    _ -> 80
                end,
            Base ++ [{<<"server.address">>, unicode:characters_to_binary(Host)}, {<<"server.port">>, Port}];
        _ ->
            Base
    end.
