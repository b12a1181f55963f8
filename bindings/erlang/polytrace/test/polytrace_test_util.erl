%% Helpers of the test suites: the workspace's OTLP receiver (`polytrace receive`), spans read
%% back from OTLP/JSON lines (the file exporter's and the receiver's format, parsed by the NIF's
%% testing build: OTP 25 has no JSON parser), and a logger handler that collects events.
-module(polytrace_test_util).

-export([
    repo_root/0,
    tmp_file/1,
    spans/1,
    wait_spans/3,
    attr/2,
    attrs/1,
    receiver_start/0,
    receiver_start/1,
    receiver_stop/1,
    capture_logs/0,
    captured_logs/0,
    stop_capture/0,
    log/2,
    restart/1,
    silent_backend_start/0,
    silent_backend_stop/1
]).

%% The repository root (bindings/erlang/../..).
repo_root() ->
    Here = filename:dirname(code:which(?MODULE)),
    find_root(Here).

find_root("/") ->
    error(no_repository_root);
find_root(Dir) ->
    case filelib:is_file(filename:join([Dir, "core", "Cargo.toml"])) of
        true -> Dir;
        false -> find_root(filename:dirname(Dir))
    end.

%% A fresh path in a temporary directory.
tmp_file(Name) ->
    Dir = filename:join(
        os:getenv("TMPDIR", "/tmp"),
        "polytrace-erlang-" ++ os:getpid() ++ "-" ++ integer_to_list(erlang:unique_integer([positive]))
    ),
    ok = filelib:ensure_path(Dir),
    filename:join(Dir, Name).

%% Every span in an OTLP/JSON lines file, each a map with <<"service">> and <<"scope">> added.
spans(File) ->
    Lines = polytrace_nif:testing_json_lines(File),
    [
        Span#{<<"service">> => service(R), <<"scope">> => maps:get(<<"scope">>, SS, #{})}
     || Line <- Lines,
        R <- maps:get(<<"resourceSpans">>, Line, []),
        SS <- maps:get(<<"scopeSpans">>, R, []),
        Span <- maps:get(<<"spans">>, SS, [])
    ].

service(R) ->
    Attrs = attrs(maps:get(<<"resource">>, R, #{})),
    maps:get(<<"service.name">>, Attrs, undefined).

%% Waits (up to Ms) until File holds at least N spans; returns them.
wait_spans(File, N, Ms) ->
    Spans = spans(File),
    case length(Spans) >= N orelse Ms =< 0 of
        true ->
            Spans;
        false ->
            timer:sleep(50),
            wait_spans(File, N, Ms - 50)
    end.

%% A span's (or event's, resource's) attributes as a map of key => plain value.
attrs(Thing) ->
    maps:from_list([{K, value(V)} || #{<<"key">> := K, <<"value">> := V} <- maps:get(<<"attributes">>, Thing, [])]).

attr(Thing, Key) ->
    maps:get(Key, attrs(Thing), undefined).

value(#{<<"stringValue">> := S}) -> S;
value(#{<<"intValue">> := I}) -> binary_to_integer(I);
value(#{<<"doubleValue">> := D}) -> D;
value(#{<<"boolValue">> := B}) -> B;
value(#{<<"arrayValue">> := A}) -> [value(V) || V <- maps:get(<<"values">>, A, [])];
value(Other) -> Other.

%% Starts `polytrace receive` on free loopback ports: {Port, HttpEndpoint, GrpcEndpoint, OutFile}.
receiver_start() ->
    receiver_start([]).

%% receiver_start/0 with more arguments of `polytrace receive` (e.g. its --tls-* options; the
%% endpoints returned still say http://).
receiver_start(Extra) ->
    Cli = os:getenv("POLYTRACE_CLI", filename:join([repo_root(), "target", "debug", "polytrace"])),
    true = filelib:is_regular(Cli) orelse error({no_cli, Cli}),
    Out = tmp_file("received.jsonl"),
    Port = open_port({spawn_executable, Cli}, [
        {args, ["receive", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0", "--out", Out] ++ Extra},
        stderr_to_stdout,
        {line, 4096},
        exit_status
    ]),
    {Grpc, Http} = wait_listening(Port, 20000),
    {Port, "http://" ++ Http, "http://" ++ Grpc, Out}.

wait_listening(Port, Ms) ->
    receive
        {Port, {data, {eol, "listening " ++ Rest}}} ->
            Fields = [list_to_tuple(string:split(F, "=")) || F <- string:lexemes(Rest, " ")],
            {proplists:get_value("grpc", Fields), proplists:get_value("http", Fields)};
        {Port, {data, _}} ->
            wait_listening(Port, Ms);
        {Port, {exit_status, S}} ->
            error({receiver_exited, S})
    after Ms -> error(receiver_did_not_start)
    end.

receiver_stop({Port, _, _, _}) ->
    case erlang:port_info(Port, os_pid) of
        {os_pid, Pid} ->
            _ = os:cmd("kill " ++ integer_to_list(Pid)),
            receive
                {Port, {exit_status, _}} -> ok
            after 5000 -> ok
            end;
        undefined ->
            ok
    end,
    catch port_close(Port),
    ok.

%% Collects logger events into this process's mailbox-independent store (an ETS table) until
%% stop_capture/0.
capture_logs() ->
    catch ets:delete(polytrace_test_logs),
    ets:new(polytrace_test_logs, [named_table, public, duplicate_bag]),
    ok = logger:add_handler(polytrace_test_capture, ?MODULE, #{level => all}).

captured_logs() ->
    [iolist_to_binary(Text) || {log, Text} <- ets:tab2list(polytrace_test_logs)].

stop_capture() ->
    _ = logger:remove_handler(polytrace_test_capture),
    ok.

%% logger handler callback.
log(#{msg := Msg}, _Config) ->
    Text =
        case Msg of
            {string, S} -> S;
            {report, R} -> io_lib:format("~p", [R]);
            {Format, Args} -> io_lib:format(Format, Args)
        end,
    catch ets:insert(polytrace_test_logs, {log, Text}),
    ok.

%% Shuts down any running pipeline and starts one with Config.
restart(Config) ->
    ok = polytrace:shutdown(),
    ok = polytrace:start(Config).

%% A back end that accepts connections and keeps them open without reading or answering:
%% {Endpoint, Handle} (Endpoint an http:// binary).
silent_backend_start() ->
    {ok, Listen} = gen_tcp:listen(0, [binary, {ip, {127, 0, 0, 1}}, {active, false}]),
    {ok, Port} = inet:port(Listen),
    Holder = spawn(fun() -> hold(Listen, []) end),
    ok = gen_tcp:controlling_process(Listen, Holder),
    {iolist_to_binary(io_lib:format("http://127.0.0.1:~b", [Port])), {Listen, Holder}}.

silent_backend_stop({Listen, Holder}) ->
    exit(Holder, kill),
    catch gen_tcp:close(Listen),
    ok.

hold(Listen, Held) ->
    case gen_tcp:accept(Listen) of
        {ok, Socket} -> hold(Listen, [Socket | Held]);
        {error, _} -> ok
    end.
