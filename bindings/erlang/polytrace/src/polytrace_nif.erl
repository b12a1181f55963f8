%% @doc The NIF library (native/, crate polytrace-erlang), loaded from the application's
%% priv/ directory. Not an API: use polytrace.
%%
%% Loading never makes this module fail to load: when the library cannot be loaded, the reason
%% is kept (load_error/0) and polytrace:start/0,1 reports it with the file name; each stub
%% raises nif_not_loaded, never undef.
-module(polytrace_nif).

-export([load_error/0, library_path/0]).
-export([
    provider_new/2,
    tracer/4,
    plan/1,
    caps/1,
    new_trace_id/0,
    new_span_id/0,
    start_child/1,
    start_root/1,
    begin_span/5,
    record/2,
    fold_attributes/2,
    inject/3,
    extract/2,
    force_flush/2,
    shutdown/2,
    exit_timeout_ms/1,
    stats/1,
    effective_config/1,
    set_diag_pid/1
]).
%% Only in a library built with the `testing` feature.
-export([
    testing_enabled/0,
    testing_panic/0,
    testing_error/1,
    testing_json/1,
    testing_json_lines/1,
    testing_resolve/2,
    testing_sleep/1,
    testing_nif_timing/1
]).

-on_load(init/0).

-define(LOAD_ERROR, {?MODULE, load_error}).

%% @doc The library's path without its extension, as erlang:load_nif/2 takes it:
%% POLYTRACE_NIF_PATH if set (tests, benchmarks), else priv/libpolytrace_nif.
-spec library_path() -> file:filename().
library_path() ->
    case os:getenv("POLYTRACE_NIF_PATH") of
        Path when is_list(Path), Path =/= "" ->
            filename:rootname(Path);
        _ ->
            Priv =
                case code:priv_dir(polytrace) of
                    {error, bad_name} ->
                        filename:join(filename:dirname(filename:dirname(code:which(?MODULE))), "priv");
                    Dir ->
                        Dir
                end,
            filename:join(Priv, "libpolytrace_nif")
    end.

init() ->
    Path = library_path(),
    case erlang:load_nif(Path, 0) of
        ok ->
            persistent_term:erase(?LOAD_ERROR),
            ok;
        {error, {_, Text}} ->
            persistent_term:put(?LOAD_ERROR, {Path ++ ".so", Text}),
            ok
    end.

%% @doc Why the library could not be loaded ({File, Reason}), or undefined when it is loaded.
-spec load_error() -> undefined | {file:filename(), string()}.
load_error() ->
    persistent_term:get(?LOAD_ERROR, undefined).

-define(STUB, erlang:nif_error(nif_not_loaded)).

provider_new(_Options, _Defaults) -> ?STUB.
tracer(_Provider, _Name, _Version, _SchemaUrl) -> ?STUB.
plan(_Provider) -> ?STUB.
caps(_Provider) -> ?STUB.
new_trace_id() -> ?STUB.
new_span_id() -> ?STUB.
start_child(_Tracer) -> ?STUB.
start_root(_Tracer) -> ?STUB.
begin_span(_Tracer, _Parent, _Name, _Kind, _Attributes) -> ?STUB.
record(_Span, _End) -> ?STUB.
fold_attributes(_Attributes, _Cap) -> ?STUB.
inject(_Provider, _SpanCtx, _Baggage) -> ?STUB.
extract(_Provider, _Carrier) -> ?STUB.
force_flush(_Provider, _TimeoutMs) -> ?STUB.
shutdown(_Provider, _TimeoutMs) -> ?STUB.
exit_timeout_ms(_Provider) -> ?STUB.
stats(_Provider) -> ?STUB.
effective_config(_Provider) -> ?STUB.
set_diag_pid(_Pid) -> ?STUB.

testing_enabled() -> ?STUB.
testing_panic() -> ?STUB.
testing_error(_Kind) -> ?STUB.
testing_json(_Path) -> ?STUB.
testing_json_lines(_Path) -> ?STUB.
testing_resolve(_Options, _Env) -> ?STUB.
testing_sleep(_Ms) -> ?STUB.
testing_nif_timing(_What) -> ?STUB.
