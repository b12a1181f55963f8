%% polytrace quickstart for Erlang: a "shop" inets httpd service that extracts the caller's
%% context, makes child spans and calls an "inventory" service with injected headers; both are
%% traced by polytrace_httpd, the call by polytrace_httpc, and everything is exported as OTLP to
%% OTEL_EXPORTER_OTLP_ENDPOINT (see run.sh). One request to /shop gives one trace.
-module(quickstart).

-export([main/0, shop/3, inventory/3]).

main() ->
    {ok, _} = application:ensure_all_started(inets),
    ok = polytrace:start(#{service_name => <<"erlang-quickstart">>}),
    ok = polytrace_logger:add_filter(),
    Inventory = serve(inventory),
    Shop = serve(shop),
    persistent_term:put(inventory_url, url(Inventory, "inventory")),
    %% A client outside any span: the shop's SERVER span starts the trace.
    {ok, {{_, 200, _}, _, Body}} = httpc:request(url(Shop, "shop") ++ "?item=42"),
    io:format("shop answered: ~s~n", [Body]),
    ok = polytrace:shutdown(),
    io:format("stats: ~p~n", [polytrace:stats()]).

%% mod_esi callbacks: each runs in a process of its own, so each attaches the request's span.
shop(SessionID, _Env, Input) ->
    polytrace_httpd:esi_attach(SessionID),
    Item = proplists:get_value("item", uri_string:dissect_query(Input), "0"),
    Stock = polytrace:with_span(<<"check-stock">>, #{attributes => #{<<"shop.item">> => list_to_binary(Item)}}, fun() ->
        {ok, {{_, 200, _}, _, Count}} = polytrace_httpc:request(persistent_term:get(inventory_url) ++ "?item=" ++ Item),
        list_to_integer(Count)
    end),
    polytrace:with_span(<<"render">>, #{}, fun() ->
        logger:notice("rendering item ~s (stock ~b)", [Item, Stock]),
        mod_esi:deliver(SessionID, io_lib:format("Content-Type: text/plain\r\n\r\nitem ~s: ~b in stock", [Item, Stock]))
    end).

inventory(SessionID, _Env, _Input) ->
    polytrace_httpd:esi_attach(SessionID),
    Count = polytrace:with_span(<<"db.query">>, #{kind => client, attributes => #{<<"db.system">> => <<"mnesia">>}}, fun() ->
        7
    end),
    mod_esi:deliver(SessionID, "Content-Type: text/plain\r\n\r\n" ++ integer_to_list(Count)).

serve(Name) ->
    Root = filename:join("/tmp", "polytrace-quickstart-" ++ atom_to_list(Name)),
    ok = filelib:ensure_path(Root),
    {ok, Pid} = inets:start(httpd, [
        {port, 0},
        {bind_address, {127, 0, 0, 1}},
        {server_name, atom_to_list(Name)},
        {server_root, Root},
        {document_root, Root},
        {modules, [polytrace_httpd, mod_alias, mod_esi]},
        {erl_script_alias, {"/api", [quickstart]}}
    ]),
    Pid.

url(Httpd, Function) ->
    [{port, Port}] = httpd:info(Httpd, [port]),
    "http://127.0.0.1:" ++ integer_to_list(Port) ++ "/api/quickstart:" ++ Function.
