%% The demo's payment-service: an inets httpd service traced by the polytrace Erlang binding.
%% polytrace_httpd (first in the server's modules) opens the SERVER span of each request from the
%% caller's traceparent/tracestate; POST /api/payment:authorize (a mod_esi callback) runs
%% `authorize` with a `fraud-check` child span, and answers 200 (approved) or 402 (declined).
%%
%% Environment: PORT (default 0: a free port) and the OTEL_* variables. Prints
%% `payment-service listening on 127.0.0.1:PORT`. SIGTERM stops the node (init:stop/0), and the
%% polytrace application flushes what is queued as it stops. Log lines carry trace_id/span_id
%% (the binding's polytrace_logger filter).
-module(payment).

-export([main/0, authorize/3, ids_as_text/2]).

main() ->
    {ok, _} = application:ensure_all_started(inets),
    ok = polytrace:start(),
    ok = polytrace_logger:add_filter(),
    ok = logger:set_primary_config(level, info),
    ok = logger:add_primary_filter(no_progress, {fun logger_filters:progress/2, stop}),
    %% polytrace_logger puts the ids in the metadata as binaries, which OTP 25's formatter prints
    %% as <<"...">> in a template: hand it text.
    ok = logger:add_handler_filter(default, ids_as_text, {fun ids_as_text/2, []}),
    ok = logger:update_formatter_config(default, #{
        single_line => true,
        template => [
            time, " ", level, " [payment-service]",
            {trace_id, [" trace_id=", trace_id, " span_id=", span_id], []},
            " ", msg, "\n"
        ]
    }),
    Root = filename:join(os:getenv("TMPDIR", "/tmp"), "polytrace-demo-payment-" ++ os:getpid()),
    ok = filelib:ensure_path(Root),
    {ok, Httpd} = inets:start(httpd, [
        {port, list_to_integer(os:getenv("PORT", "0"))},
        {bind_address, {127, 0, 0, 1}},
        {server_name, "payment-service"},
        {server_root, Root},
        {document_root, Root},
        {modules, [polytrace_httpd, mod_alias, mod_esi]},
        {erl_script_alias, {"/api", [payment]}}
    ]),
    [{port, Port}] = httpd:info(Httpd, [port]),
    io:format("payment-service listening on 127.0.0.1:~b~n", [Port]).

%% A handler filter: the trace and span ids as strings for the formatter's template.
ids_as_text(#{meta := Meta} = Event, _) ->
    Text = maps:map(
        fun
            (K, V) when (K =:= trace_id orelse K =:= span_id) andalso is_binary(V) -> binary_to_list(V);
            (_, V) -> V
        end,
        Meta
    ),
    Event#{meta := Text}.

%% mod_esi runs the callback in a process of its own: attach the request's SERVER span first.
authorize(SessionID, _Env, Input) ->
    polytrace_httpd:esi_attach(SessionID),
    Request = iolist_to_binary(Input),
    Order = field(Request, <<"order_id">>, <<"?">>),
    Amount = binary_to_integer(field(Request, <<"amount_cents">>, <<"0">>)),
    Card = field(Request, <<"card">>, <<"0000">>),
    {Status, Body} = polytrace:with_span(
        <<"authorize">>,
        #{attributes => #{<<"app.order.id">> => Order, <<"app.payment.amount_cents">> => Amount}},
        fun() ->
            Score = polytrace:with_span(<<"fraud-check">>, #{}, fun() -> fraud_score(Card, Amount) end),
            polytrace:set_attribute(<<"app.payment.risk_score">>, Score),
            case Score < 90 of
                true ->
                    logger:info("authorized ~s: ~b cents (risk ~b)", [Order, Amount, Score]),
                    {"200 OK", <<"{\"authorized\":true}">>};
                false ->
                    polytrace:set_status(error, <<"declined: fraud risk">>),
                    logger:warning("declined ~s: risk ~b", [Order, Score]),
                    {"402 Payment Required", <<"{\"authorized\":false}">>}
            end
        end
    ),
    mod_esi:deliver(SessionID, ["Status: ", Status, "\r\nContent-Type: application/json\r\n\r\n", Body]).

%% A risk score in 0..99 from the card and the amount: a chain of SHA-256 rounds (real work, so
%% the fraud check has a duration of its own), then the first byte of the digest.
fraud_score(Card, Amount) ->
    polytrace:set_attribute(<<"app.fraud.rounds">>, 2000),
    Digest = lists:foldl(
        fun(_, Acc) -> crypto:hash(sha256, Acc) end,
        <<Card/binary, (integer_to_binary(Amount))/binary>>,
        lists:seq(1, 2000)
    ),
    <<First, _/binary>> = Digest,
    case Card of
        <<"4000", _/binary>> -> 99;  % the test card that is always declined
        _ -> First rem 80
    end.

%% A string or integer field of a flat JSON object (OTP 25 has no JSON module).
field(Json, Name, Default) ->
    case re:run(Json, <<"\"", Name/binary, "\"\\s*:\\s*(?:\"([^\"]*)\"|(-?[0-9]+))">>, [{capture, all_but_first, binary}]) of
        {match, [S, <<>>]} -> S;
        {match, [<<>>, N]} -> N;
        {match, [S]} -> S;
        nomatch -> Default
    end.
