%% @doc polytrace for Erlang: spans, context and W3C propagation over the polytrace core, with
%% names modelled on opentelemetry_api.
%%
%% A live span is an Erlang term in the process dictionary of the process that started it;
%% the core sees it once, when it ends (one NIF call that hands over everything the user did;
%% the core applies limits, dropped counts, status precedence, exception events, redaction).
%% The current span and baggage live in the process dictionary too; wrap/1 carries them into
%% another process, and a gen_server request can carry current_ctx/0 (see README.md).
%%
%% A span belongs to the process that started it: attributes, events, status and end called
%% from another process are ignored (false). Before start/0,1 (and after shutdown/0) every
%% span call is a cheap no-op that still runs the caller's code.
-module(polytrace).

-include("polytrace_internal.hrl").

-export([start/0, start/1, force_flush/0, shutdown/0, stats/0, effective_config/0]).
-export([tracer/1, tracer/2]).
-export([
    with_span/2,
    with_span/3,
    start_span/1,
    start_span/2,
    end_span/0,
    end_span/1,
    end_span/2,
    set_attribute/2,
    set_attribute/3,
    set_attributes/1,
    set_attributes/2,
    add_event/2,
    add_event/3,
    record_exception/3,
    record_exception/4,
    set_status/2,
    set_status/3,
    update_name/1,
    update_name/2,
    is_recording/1
]).
-export([
    current_span_ctx/0,
    current_ctx/0,
    attach/1,
    detach/1,
    wrap/1,
    wrap/2,
    inject/1,
    inject/2,
    extract/1,
    hex_trace_id/1,
    hex_span_id/1
]).
-export([format_error/2]).

-export_type([span_ctx/0, ctx/0, token/0, attributes/0, span_opts/0, tracer/0]).

-type span_ctx() :: #span_ctx{}.
-type ctx() :: #polytrace_ctx{}.
-opaque token() :: {polytrace_token, undefined | span_ctx(), list()}.
-type attributes() :: #{term() => term()} | [{term(), term()}].
-opaque tracer() :: {polytrace_tracer, reference()}.
-type span_opts() :: #{
    kind => internal | server | client | producer | consumer,
    attributes => attributes(),
    links => [span_ctx() | {span_ctx(), attributes()}],
    start_time => integer(),
    parent => undefined | span_ctx() | ctx(),
    tracer => tracer()
}.

%% force_flush/0 waits at most this long (the core bounds its own export attempts too);
%% shutdown/0 waits the core's exit bound.
-define(WAIT_MS, 30000).

-define(BADARG(Args, Position, Why), badarg(?FUNCTION_NAME, Args, Position, Why)).

%% ------------------------------------------------------------------------------------------
%% Provider
%% ------------------------------------------------------------------------------------------

%% @doc start/1 with the application environment and OTEL_* only.
-spec start() -> ok | {error, term()}.
start() ->
    start(#{}).

%% @doc Starts the pipeline: Config (a map of option names, snake_case atoms as in
%% docs/configuration.md) over the application environment ({polytrace, [...]}) over the OTEL_*
%% environment variables. {error, {nif_not_loaded, File, Reason}} when the native library cannot
%% be loaded; {error, {invalid_config, Message, #{problem => Problem, option => Name}}} for a
%% bad option (Problem: unknown_option, duplicate_option, wrong_type or bad_value; Name a binary),
%% {error, {invalid_config, Message}} for a configuration error found later; {error, already_started}
%% while a pipeline runs (shutdown/0 first).
-spec start(#{atom() | binary() => term()} | [{atom(), term()}]) -> ok | {error, term()}.
start(Config) when is_list(Config) ->
    start(maps:from_list(Config));
start(Config) when is_map(Config) ->
    case polytrace_nif:load_error() of
        {File, Reason} ->
            {error, {nif_not_loaded, File, Reason}};
        undefined ->
            case application:ensure_all_started(polytrace) of
                {ok, _} -> polytrace_server:start_provider(Config);
                {error, _} = E -> E
            end
    end;
start(Config) ->
    ?BADARG([Config], 1, "the configuration must be a map or a list of {Option, Value}").

%% @doc Exports everything queued now (on a dirty I/O scheduler; bounded in time).
-spec force_flush() -> ok | {error, term()}.
force_flush() ->
    case state() of
        undefined -> ok;
        #polytrace_state{provider = P} -> polytrace_nif:force_flush(P, ?WAIT_MS)
    end.

%% @doc Exports what is queued and stops the pipeline, within the core's exit bound (the OTLP
%% timeout, OTEL_EXPORTER_OTLP_TIMEOUT, 10 s by default, or OTEL_BSP_EXPORT_TIMEOUT if
%% smaller; docs/reliability.md) even when the back end is down; what it did not take is
%% counted as dropped. Later span calls are no-ops until start/0,1.
-spec shutdown() -> ok | {error, term()}.
shutdown() ->
    case whereis(polytrace_server) of
        undefined -> ok;
        _ -> polytrace_server:stop_provider(exit_bound)
    end.

%% @doc The pipeline's counters (all zero before start/0,1).
-spec stats() -> #{atom() => non_neg_integer()}.
stats() ->
    case state() of
        undefined ->
            maps:from_list([
                {K, 0}
             || K <- [
                    spans_started,
                    spans_ended,
                    spans_exported,
                    spans_dropped,
                    dropped_queue_full,
                    dropped_export_failed,
                    dropped_shutdown,
                    dropped_invalid,
                    export_failures,
                    spans_sampled,
                    spans_not_sampled,
                    sampler_polls,
                    sampler_poll_failures
                ]
            ]);
        #polytrace_state{provider = P} ->
            polytrace_nif:stats(P)
    end.

%% @doc The effective configuration, [{Option, Value}] binaries ([] before start/0,1).
-spec effective_config() -> [{binary(), binary()}].
effective_config() ->
    case state() of
        undefined -> [];
        #polytrace_state{provider = P} -> polytrace_nif:effective_config(P)
    end.

%% @doc tracer/2 without a version.
-spec tracer(atom() | binary()) -> tracer().
tracer(Name) ->
    tracer(Name, undefined).

%% @doc A tracer for an instrumentation scope (pass it as the tracer option). Without one,
%% spans come from the scope named polytrace.
-spec tracer(atom() | binary(), undefined | binary()) -> tracer().
tracer(Name, Version) when is_atom(Name); is_binary(Name) ->
    case state() of
        undefined -> {polytrace_tracer, undefined};
        #polytrace_state{provider = P} ->
            {polytrace_tracer, polytrace_nif:tracer(P, Name, Version, undefined)}
    end;
tracer(Name, Version) ->
    ?BADARG([Name, Version], 1, "a tracer name is an atom or a binary").

%% ------------------------------------------------------------------------------------------
%% Spans
%% ------------------------------------------------------------------------------------------

%% @doc with_span/3 without options.
-spec with_span(term(), fun()) -> term().
with_span(Name, Fun) ->
    with_span(Name, #{}, Fun).

%% @doc Runs Fun (arity 0, or 1 taking the span_ctx) in a new span that is current while it
%% runs and ends when it returns. If Fun raises, the span records the exception (class,
%% reason, stacktrace) and an error status, ends, and the exception is raised again.
-spec with_span(term(), span_opts(), fun()) -> term().
with_span(Name, Opts, Fun) when is_function(Fun, 1); is_function(Fun, 0) ->
    SpanCtx = start_span(Name, Opts),
    Prev = put(?CURRENT_KEY, SpanCtx),
    try
        if
            is_function(Fun, 1) -> Fun(SpanCtx);
            true -> Fun()
        end
    catch
        Class:Reason:Stacktrace ->
            record_exception(SpanCtx, Class, Reason, Stacktrace),
            set_status(SpanCtx, error, polytrace_format:reason(Class, Reason)),
            erlang:raise(Class, Reason, Stacktrace)
    after
        end_span(SpanCtx),
        restore_current(Prev)
    end;
with_span(Name, Opts, Fun) ->
    ?BADARG([Name, Opts, Fun], 3, "not a fun of arity 0 or 1").

-spec bad_option(string() | {string(), term()}) -> no_return().
bad_option(Why) ->
    throw({?MODULE, bad_option, Why}).

restore_current(undefined) -> erase(?CURRENT_KEY);
restore_current(Prev) -> put(?CURRENT_KEY, Prev).

%% @doc start_span/2 without options.
-spec start_span(term()) -> span_ctx().
start_span(Name) ->
    start_span(Name, #{}).

%% @doc Starts a span (not made current: see with_span/3 and attach/1). Its parent is the
%% parent option (a span_ctx, a ctx from extract/1, or undefined for a new trace), else the
%% current span. Sampling follows the core's start plan.
-spec start_span(term(), span_opts()) -> span_ctx().
start_span(Name, Opts) when map_size(Opts) =:= 0, (is_binary(Name) orelse is_atom(Name)) ->
    %% The common case (no options) without looking options up.
    case persistent_term:get(?STATE_KEY, undefined) of
        #polytrace_state{plan = Plan, tracer = Tracer, caps = Caps} when element(1, Plan) =:= 0 ->
            quick_start(Name, valid(get(?CURRENT_KEY)), Plan, Tracer, Caps);
        _ ->
            start_span_with(Name, Opts)
    end;
start_span(Name, Opts) ->
    start_span_with(Name, Opts).

%% A recording start without options, as the plan decides it without asking the core.
quick_start(Name, undefined, Plan, Tracer, Caps) when
    element(2, Plan) =:= 1; element(2, Plan) =:= 2
->
    {TraceId, SpanId} = polytrace_nif:start_root(Tracer),
    new_live(Tracer, TraceId, SpanId, element(4, Plan), <<>>, undefined, false, 0, Name,
        os:system_time(nanosecond), [], [], 0, Caps);
quick_start(Name, #span_ctx{trace_id = TraceId, span_id = P, trace_flags = F, tracestate = TS,
    is_remote = R}, Plan, Tracer, Caps) when
    F band 1 =:= 1, (element(5, Plan) =:= 1 orelse element(5, Plan) =:= 2)
->
    SpanId = polytrace_nif:start_child(Tracer),
    new_live(Tracer, TraceId, SpanId, (F band element(6, Plan)) bor element(7, Plan), TS, P, R, 0,
        Name, os:system_time(nanosecond), [], [], 0, Caps);
quick_start(Name, Parent, Plan, Tracer, Caps) ->
    start(Name, #{}, Parent, Plan, Tracer, Caps).

start_span_with(Name, Opts) when
    (is_binary(Name) orelse is_atom(Name) orelse is_list(Name)), is_map(Opts)
->
    try
        case persistent_term:get(?STATE_KEY, undefined) of
            undefined ->
                noop_span(parent(Opts));
            #polytrace_state{plan = Plan, tracer = Tracer0, caps = Caps} ->
                Parent = parent(Opts),
                case element(1, Plan) of
                    1 -> noop_span(Parent);
                    _ -> start(Name, Opts, Parent, Plan, Tracer0, Caps)
                end
        end
    catch
        throw:{?MODULE, bad_option, Why} -> badarg(start_span, [Name, Opts], 2, Why)
    end;
start_span_with(Name, Opts) when is_map(Opts) ->
    badarg(start_span, [Name, Opts], 1, "a span name is a binary, an atom or a string");
start_span_with(Name, Opts) ->
    badarg(start_span, [Name, Opts], 2, "span options are a map").

noop_span(#span_ctx{} = Parent) -> Parent#span_ctx{is_recording = false};
noop_span(undefined) -> #span_ctx{}.

parent(Opts) when map_size(Opts) =:= 0 ->
    valid(get(?CURRENT_KEY));
parent(Opts) ->
    case Opts of
        #{parent := #polytrace_ctx{span = S}} -> valid(S);
        #{parent := #span_ctx{} = S} -> valid(S);
        #{parent := undefined} -> undefined;
        #{parent := Other} -> bad_option({"the parent option is not a span_ctx, a ctx or undefined", Other});
        #{} -> valid(get(?CURRENT_KEY))
    end.

valid(#span_ctx{trace_id = <<0:128>>}) -> undefined;
valid(#span_ctx{span_id = <<0:64>>}) -> undefined;
valid(#span_ctx{} = S) -> S;
valid(_) -> undefined.

start(Name, Opts, Parent, Plan, Tracer0, Caps) ->
    {Decision, Keep, Set} =
        case Parent of
            undefined ->
                {element(2, Plan), element(3, Plan), element(4, Plan)};
            #span_ctx{trace_flags = F0} when F0 band 1 =:= 1 ->
                {element(5, Plan), element(6, Plan), element(7, Plan)};
            _ ->
                {element(8, Plan), element(9, Plan), element(10, Plan)}
        end,
    Tracer =
        case Opts of
            #{tracer := {polytrace_tracer, T}} when is_reference(T) -> T;
            #{tracer := {polytrace_tracer, undefined}} -> Tracer0;
            #{tracer := Bad} -> bad_option({"the tracer option is not a tracer/1,2 result", Bad});
            #{} -> Tracer0
        end,
    case Decision of
        0 ->
            %% Not recorded: a new span id in the parent's trace (or a new one).
            case Parent of
                undefined ->
                    #span_ctx{
                        trace_id = polytrace_nif:new_trace_id(),
                        span_id = polytrace_nif:new_span_id(),
                        trace_flags = Set
                    };
                #span_ctx{trace_flags = PF} ->
                    Parent#span_ctx{
                        span_id = polytrace_nif:new_span_id(),
                        trace_flags = (PF band Keep) bor Set,
                        is_remote = false,
                        is_recording = false
                    }
            end;
        3 ->
            Kind = kind(Opts),
            Attrs = start_attributes(Opts),
            {TraceId, SpanId, Flags, Recording} =
                polytrace_nif:begin_span(Tracer, Parent, Name, Kind, Attrs),
            TS =
                case Parent of
                    undefined -> <<>>;
                    #span_ctx{tracestate = PTS} -> PTS
                end,
            case Recording of
                true ->
                    live(Tracer, TraceId, SpanId, Flags, TS, Parent, Kind, Name, Attrs, Opts, Caps);
                false ->
                    #span_ctx{trace_id = TraceId, span_id = SpanId, trace_flags = Flags, tracestate = TS}
            end;
        _ ->
            case Parent of
                undefined ->
                    {TraceId, SpanId} = polytrace_nif:start_root(Tracer),
                    live(Tracer, TraceId, SpanId, Set, <<>>, undefined, kind(Opts), Name,
                        start_attributes(Opts), Opts, Caps);
                #span_ctx{trace_id = TraceId, trace_flags = PF, tracestate = TS} ->
                    SpanId = polytrace_nif:start_child(Tracer),
                    live(Tracer, TraceId, SpanId, (PF band Keep) bor Set, TS, Parent, kind(Opts),
                        Name, start_attributes(Opts), Opts, Caps)
            end
    end.

live(Tracer, TraceId, SpanId, Flags, TS, Parent, Kind, Name, Attrs0, Opts, Caps) ->
    LinkCap = element(3, Caps),
    {ParentId, Remote} =
        case Parent of
            undefined -> {undefined, false};
            #span_ctx{span_id = P, is_remote = R} -> {P, R}
        end,
    Start =
        case Opts of
            #{start_time := T} when is_integer(T) -> T;
            #{start_time := Bad} -> bad_option({"start_time is an integer (nanoseconds since the epoch)", Bad});
            #{} -> os:system_time(nanosecond)
        end,
    {Links, DroppedLinks} =
        case Opts of
            #{links := L} -> links(L, LinkCap);
            #{} -> {[], 0}
        end,
    new_live(Tracer, TraceId, SpanId, Flags, TS, ParentId, Remote, Kind, Name, Start, Attrs0, Links,
        DroppedLinks, Caps).

%% Puts a new live span in the process dictionary; returns its span_ctx. Start attributes
%% beyond the room are folded at once (a rare case: a map or list longer than twice the
%% attribute cap).
new_live(Tracer, TraceId, SpanId, Flags, TS, ParentId, Remote, Kind, Name, Start, Attrs0, Links,
    DroppedLinks, {AttrCap, EventCap, _, StatusCap}) ->
    {Attrs, AttrRoom, DroppedAttrs} =
        case Attrs0 of
            [] -> {[], 2 * AttrCap, 0};
            _ ->
                case length(Attrs0) of
                    N when N =< 2 * AttrCap -> {Attrs0, 2 * AttrCap - N, 0};
                    _ -> fold(Attrs0, AttrCap)
                end
        end,
    put(live_key(SpanId), #polytrace_span{
        tracer = Tracer,
        trace_id = TraceId,
        span_id = SpanId,
        flags = Flags,
        %% undefined when empty: the hand-over then skips reading a binary.
        tracestate = case TS of <<>> -> undefined; _ -> TS end,
        parent = ParentId,
        remote = Remote,
        kind = Kind,
        name = Name,
        start = Start,
        attrs = Attrs,
        links = Links,
        attr_room = AttrRoom,
        event_room = EventCap,
        status_room = StatusCap,
        discarded = {DroppedAttrs, 0, DroppedLinks}
    }),
    #span_ctx{
        trace_id = TraceId,
        span_id = SpanId,
        trace_flags = Flags,
        tracestate = TS,
        is_recording = true
    }.

%% Attributes (newest first) folded under the attribute cap (docs/finished-spans.md, "Caps":
%% a repeated key keeps its first position and its latest value, new keys past the cap are
%% discarded and counted): {Folded, Room, Discarded}. A live span folds when its list reaches
%% twice the cap, so its memory stays bounded and folding costs O(1) per call on average.
fold(Attrs, AttrCap) ->
    {Folded, Discarded} = polytrace_nif:fold_attributes(Attrs, AttrCap),
    {Folded, 2 * AttrCap - length(Folded), Discarded}.

kind(Opts) when map_size(Opts) =:= 0 -> 0;
kind(#{kind := K}) ->
    case K of
        internal -> 0;
        server -> 1;
        client -> 2;
        producer -> 3;
        consumer -> 4;
        _ -> bad_option({"kind is internal, server, client, producer or consumer", K})
    end;
kind(#{}) ->
    0.

%% Start attributes, newest first (the order the live span keeps them in).
start_attributes(#{attributes := A}) ->
    case attribute_list(A) of
        {ok, L} -> lists:reverse(L);
        error -> bad_option({"attributes are a map or a list of {Key, Value}", A})
    end;
start_attributes(#{}) ->
    [].

attribute_list(M) when is_map(M) -> {ok, maps:to_list(M)};
attribute_list(L) when is_list(L) ->
    case lists:all(fun(P) -> is_tuple(P) andalso tuple_size(P) =:= 2 end, L) of
        true -> {ok, L};
        false -> error
    end;
attribute_list(_) ->
    error.

%% Links newest first, at most LinkCap of them ({Links, Discarded}): past the cap a link is
%% discarded and counted, except one with an invalid context and no attributes, which the
%% specification drops without counting (docs/finished-spans.md, "Caps").
links(L, LinkCap) when is_list(L) ->
    case lists:foldl(
        fun(X, {Kept, N, D}) ->
            {S, A} = Link = to_link(X),
            case valid(S) =:= undefined andalso is_empty_attributes(A) of
                true -> {Kept, N, D};
                false when N < LinkCap -> {[Link | Kept], N + 1, D};
                false -> {Kept, N, D + 1}
            end
        end,
        {[], 0, 0},
        L
    ) of
        {Kept, _, D} -> {Kept, D}
    end;
links(L, _) ->
    bad_option({"links are a list", L}).

is_empty_attributes([]) -> true;
is_empty_attributes(M) when is_map(M) -> map_size(M) =:= 0;
is_empty_attributes(_) -> false.

to_link(#span_ctx{} = S) ->
    {S, []};
to_link({#span_ctx{} = S, A} = X) ->
    case attribute_list(A) of
        {ok, _} -> {S, A};
        error -> bad_option({"a link is a span_ctx or {SpanCtx, Attributes}", X})
    end;
to_link(X) ->
    bad_option({"a link is a span_ctx or {SpanCtx, Attributes}", X}).

%% @doc Ends the current span (which stays current, no longer recording).
-spec end_span() -> span_ctx() | undefined.
end_span() ->
    case get(?CURRENT_KEY) of
        #span_ctx{} = S ->
            Ended = end_span(S),
            put(?CURRENT_KEY, Ended),
            Ended;
        _ ->
            undefined
    end.

%% @doc Ends a span now and hands it to the core; a second end is harmless.
-spec end_span(span_ctx()) -> span_ctx().
end_span(#span_ctx{is_recording = true, span_id = Id} = S) ->
    case take_live(Id) of
        undefined -> ok;
        Span -> polytrace_nif:record(Span, undefined)
    end,
    S#span_ctx{is_recording = false};
end_span(#span_ctx{} = S) ->
    S;
end_span(Other) ->
    ?BADARG([Other], 1, "not a span_ctx").

%% @doc Ends a span at Time (nanoseconds since the epoch).
-spec end_span(span_ctx(), integer()) -> span_ctx().
end_span(#span_ctx{is_recording = true, span_id = Id} = S, Time) when is_integer(Time) ->
    case take_live(Id) of
        undefined -> ok;
        Span -> polytrace_nif:record(Span, Time)
    end,
    S#span_ctx{is_recording = false};
end_span(#span_ctx{} = S, Time) when is_integer(Time) ->
    S;
end_span(#span_ctx{} = S, Time) ->
    ?BADARG([S, Time], 2, "the end time is an integer (nanoseconds since the epoch)");
end_span(Other, Time) ->
    ?BADARG([Other, Time], 1, "not a span_ctx").

%% The live span of a span_ctx in this process, or undefined (see ?LIVE_KEY in
%% polytrace_internal.hrl).
-define(LIVE(Id), live(Id)).

-compile({inline, [live_key/1, live/1]}).

%% Two 32-bit reads (the JIT's fast binary match; a 59-bit one takes the generic path).
live_key(<<A:32, B:32>>) -> (A bsl 27) bxor B;
live_key(_) -> '$polytrace_no_span'.

live(Id) ->
    case get(live_key(Id)) of
        #polytrace_span{span_id = Id} = S -> S;
        _ -> undefined
    end.

%% Removes and returns the live span of Id (undefined if none).
take_live(Id) ->
    Key = live_key(Id),
    case get(Key) of
        #polytrace_span{span_id = Id} = S ->
            erase(Key),
            S;
        _ ->
            undefined
    end.

%% @doc Sets an attribute on the current span. Values: binaries, atoms, integers, floats,
%% booleans and homogeneous lists of those; any other value is dropped (logged once per
%% cause), never an exception.
-spec set_attribute(term(), term()) -> boolean().
set_attribute(Key, Value) ->
    set_attribute(get(?CURRENT_KEY), Key, Value).

%% @doc Sets an attribute on a span.
-spec set_attribute(span_ctx() | undefined, term(), term()) -> boolean().
set_attribute(#span_ctx{is_recording = true, span_id = Id}, Key, Value) ->
    case ?LIVE(Id) of
        #polytrace_span{attrs = A, attr_room = R} = S when R > 0 ->
            put(live_key(Id), S#polytrace_span{attrs = [{Key, Value} | A], attr_room = R - 1}),
            true;
        #polytrace_span{} = S ->
            put(live_key(Id), add_attributes([{Key, Value}], S)),
            true;
        undefined ->
            false
    end;
set_attribute(SpanCtx, Key, Value) ->
    %% Not recording (false) or not a span_ctx (badarg).
    update(SpanCtx, fun(S) -> S end, {set_attribute, [SpanCtx, Key, Value]}).

%% @doc Sets attributes (a map or a list of {Key, Value}) on the current span.
-spec set_attributes(attributes()) -> boolean().
set_attributes(Attrs) ->
    set_attributes(get(?CURRENT_KEY), Attrs).

%% @doc Sets attributes on a span.
-spec set_attributes(span_ctx() | undefined, attributes()) -> boolean().
set_attributes(SpanCtx, Attrs) ->
    case attribute_list(Attrs) of
        {ok, L} ->
            case SpanCtx of
                #span_ctx{is_recording = true, span_id = Id} ->
                    case ?LIVE(Id) of
                        #polytrace_span{} = S ->
                            put(live_key(Id), add_attributes(L, S)),
                            true;
                        undefined ->
                            false
                    end;
                #span_ctx{} ->
                    false;
                undefined ->
                    false;
                _ ->
                    ?BADARG([SpanCtx, Attrs], 1, "not a span_ctx")
            end;
        error ->
            ?BADARG([SpanCtx, Attrs], 2, "attributes are a map or a list of {Key, Value}")
    end.

%% Adds attributes (in call order) to a live span, folding its list when it outgrows its room.
add_attributes(L, #polytrace_span{attrs = A, attr_room = R, discarded = {DA, DE, DL}} = S) ->
    N = length(L),
    case N =< R of
        true ->
            S#polytrace_span{attrs = lists:reverse(L, A), attr_room = R - N};
        false ->
            {AttrCap, _, _, _} = caps(),
            {Folded, Room, D} = fold(lists:reverse(L, A), AttrCap),
            S#polytrace_span{attrs = Folded, attr_room = Room, discarded = {DA + D, DE, DL}}
    end.

%% The running pipeline's caps (those of the default limits when none runs).
caps() ->
    case state() of
        #polytrace_state{caps = Caps} -> Caps;
        undefined -> {128, 128, 128, 16}
    end.

%% @doc Adds an event to the current span (or, given a span_ctx first, an event without
%% attributes to that span).
-spec add_event(span_ctx() | term(), term()) -> boolean().
add_event(#span_ctx{} = SpanCtx, Name) ->
    add_event(SpanCtx, Name, []);
add_event(Name, Attrs) ->
    add_event(get(?CURRENT_KEY), Name, Attrs).

%% @doc Adds an event (name, attributes) to a span, timed now.
-spec add_event(span_ctx() | undefined, term(), attributes()) -> boolean().
add_event(SpanCtx, Name, Attrs) when is_binary(Name); is_atom(Name); is_list(Name) ->
    case attribute_list(Attrs) of
        {ok, _} ->
            update(SpanCtx, fun(S) ->
                add_event_term(S, fun() -> {event, os:system_time(nanosecond), Name, Attrs} end)
            end, {add_event, [SpanCtx, Name, Attrs]});
        error ->
            ?BADARG([SpanCtx, Name, Attrs], 3, "attributes are a map or a list of {Key, Value}")
    end;
add_event(SpanCtx, Name, Attrs) ->
    ?BADARG([SpanCtx, Name, Attrs], 2, "an event name is a binary, an atom or a string").

%% @doc Records an exception (as caught: Class:Reason:Stacktrace) on the current span.
-spec record_exception(error | exit | throw, term(), list()) -> boolean().
record_exception(Class, Reason, Stacktrace) ->
    record_exception(get(?CURRENT_KEY), Class, Reason, Stacktrace).

%% @doc Records an exception on a span: an `exception` event whose type is Class:Kind (for
%% example error:badarg), with the reason and the formatted stacktrace.
-spec record_exception(span_ctx() | undefined, error | exit | throw, term(), list()) -> boolean().
record_exception(SpanCtx, Class, Reason, Stacktrace) when
    (Class =:= error orelse Class =:= exit orelse Class =:= throw), is_list(Stacktrace)
->
    update(SpanCtx, fun(S) ->
        add_event_term(S, fun() ->
            {exception, os:system_time(nanosecond), polytrace_format:type(Class, Reason),
                polytrace_format:reason(Class, Reason),
                polytrace_format:stacktrace(Class, Reason, Stacktrace), []}
        end)
    end, {record_exception, [SpanCtx, Class, Reason, Stacktrace]});
record_exception(SpanCtx, Class, Reason, Stacktrace) when is_list(Stacktrace) ->
    ?BADARG([SpanCtx, Class, Reason, Stacktrace], 2, "the class is error, exit or throw");
record_exception(SpanCtx, Class, Reason, Stacktrace) ->
    ?BADARG([SpanCtx, Class, Reason, Stacktrace], 4, "the stacktrace is a list").

%% @doc set_status(Code, Description) on the current span, or set_status(SpanCtx, Code).
-spec set_status(span_ctx() | ok | error | unset, term()) -> boolean().
set_status(#span_ctx{} = SpanCtx, Code) ->
    set_status(SpanCtx, Code, <<>>);
set_status(Code, Description) ->
    set_status(get(?CURRENT_KEY), Code, Description).

%% @doc Sets a span's status: ok, error (with a description) or unset. Every call is passed
%% on; the core applies the precedence (ok is final, a later error replaces an earlier one).
-spec set_status(span_ctx() | undefined, ok | error | unset, iodata() | atom()) -> boolean().
set_status(SpanCtx, Code, Description) when Code =:= ok; Code =:= unset ->
    status(SpanCtx, Code, {set_status, [SpanCtx, Code, Description]});
set_status(SpanCtx, error, Description) ->
    case description(Description) of
        {ok, D} -> status(SpanCtx, {error, D}, {set_status, [SpanCtx, error, Description]});
        error -> ?BADARG([SpanCtx, error, Description], 3, "a description is a binary, string or atom")
    end;
set_status(SpanCtx, Code, Description) ->
    ?BADARG([SpanCtx, Code, Description], 2, "a status code is ok, error or unset").

%% Only the first status calls are kept (the status-calls cap); the core applies the
%% precedence to them.
status(SpanCtx, Status, Args) ->
    update(SpanCtx, fun
        (#polytrace_span{status = L, status_room = R} = S) when R > 0 ->
            S#polytrace_span{status = [Status | L], status_room = R - 1};
        (S) ->
            S
    end, Args).

%% An event (made by Make, only when kept) while the span has room for events; past the
%% event cap it is discarded and counted.
add_event_term(#polytrace_span{events = E, event_room = R} = S, Make) when R > 0 ->
    S#polytrace_span{events = [Make() | E], event_room = R - 1};
add_event_term(#polytrace_span{discarded = {DA, DE, DL}} = S, _) ->
    S#polytrace_span{discarded = {DA, DE + 1, DL}}.

description(D) when is_binary(D) -> {ok, D};
description(D) when is_atom(D) -> {ok, atom_to_binary(D)};
description(D) when is_list(D) ->
    case unicode:characters_to_binary(D) of
        B when is_binary(B) -> {ok, B};
        _ -> code_points(D)
    end;
description(_) ->
    error.

%% A string that unicode refuses because it holds a surrogate's code point: passed on as it is,
%% the NIF repairs it by the core's rule (as a name or key).
code_points(D) ->
    case lists:all(fun(C) -> is_integer(C) andalso C >= 0 andalso C =< 16#10FFFF end, D) of
        true -> {ok, D};
        false -> error
    end.

%% @doc Renames the current span.
-spec update_name(term()) -> boolean().
update_name(Name) ->
    update_name(get(?CURRENT_KEY), Name).

%% @doc Renames a span.
-spec update_name(span_ctx() | undefined, term()) -> boolean().
update_name(SpanCtx, Name) when is_binary(Name); is_atom(Name); is_list(Name) ->
    update(SpanCtx, fun(S) -> S#polytrace_span{name = Name} end, {update_name, [SpanCtx, Name]});
update_name(SpanCtx, Name) ->
    ?BADARG([SpanCtx, Name], 2, "a span name is a binary, an atom or a string").

%% @doc Whether the span records (is sampled or record-only, and has not ended).
-spec is_recording(span_ctx() | undefined) -> boolean().
is_recording(#span_ctx{is_recording = R}) -> R;
is_recording(undefined) -> false.

update(#span_ctx{is_recording = true, span_id = Id}, F, _Args) ->
    case ?LIVE(Id) of
        #polytrace_span{} = S ->
            put(live_key(Id), F(S)),
            true;
        undefined ->
            false
    end;
update(#span_ctx{}, _, _) ->
    false;
update(undefined, _, _) ->
    false;
update(_, _, {Function, Args}) ->
    badarg(Function, Args, 1, "not a span_ctx").

%% ------------------------------------------------------------------------------------------
%% Context
%% ------------------------------------------------------------------------------------------

%% @doc The current span, or undefined.
-spec current_span_ctx() -> span_ctx() | undefined.
current_span_ctx() ->
    get(?CURRENT_KEY).

%% @doc The current context (span and baggage), to attach in another process.
-spec current_ctx() -> ctx().
current_ctx() ->
    #polytrace_ctx{span = get(?CURRENT_KEY), baggage = baggage()}.

baggage() ->
    case get(?BAGGAGE_KEY) of
        undefined -> [];
        B -> B
    end.

%% @doc Makes a context (or just a span) current; returns the token detach/1 restores.
-spec attach(ctx() | span_ctx()) -> token().
attach(#polytrace_ctx{span = S, baggage = B}) ->
    Token = {polytrace_token, get(?CURRENT_KEY), baggage()},
    set_current(S, B),
    Token;
attach(#span_ctx{} = S) ->
    Token = {polytrace_token, get(?CURRENT_KEY), baggage()},
    put(?CURRENT_KEY, S),
    Token;
attach(Other) ->
    ?BADARG([Other], 1, "not a ctx or a span_ctx").

%% @doc Restores the context current before attach/1.
-spec detach(token()) -> ok.
detach({polytrace_token, S, B}) ->
    set_current(S, B),
    ok;
detach(Other) ->
    ?BADARG([Other], 1, "not a token from attach/1").

set_current(S, B) ->
    case S of
        undefined -> erase(?CURRENT_KEY);
        _ -> put(?CURRENT_KEY, S)
    end,
    case B of
        [] -> erase(?BAGGAGE_KEY);
        _ -> put(?BAGGAGE_KEY, B)
    end.

%% @doc Fun, wrapped to run with the caller's current context in whichever process calls it:
%% spawn(polytrace:wrap(fun() -> ... end)), proc_lib:spawn_link/1, a task.
-spec wrap(fun()) -> fun().
wrap(Fun) ->
    wrap(current_ctx(), Fun).

%% @doc Fun, wrapped to run with Ctx current (arity 0 or 1 funs).
-spec wrap(ctx(), fun()) -> fun().
wrap(#polytrace_ctx{} = Ctx, Fun) when is_function(Fun, 0) ->
    fun() ->
        Token = attach(Ctx),
        try Fun() after detach(Token) end
    end;
wrap(#polytrace_ctx{} = Ctx, Fun) when is_function(Fun, 1) ->
    fun(X) ->
        Token = attach(Ctx),
        try Fun(X) after detach(Token) end
    end;
wrap(Ctx, Fun) when is_function(Fun) ->
    ?BADARG([Ctx, Fun], 1, "not a ctx");
wrap(Ctx, Fun) ->
    ?BADARG([Ctx, Fun], 2, "not a fun of arity 0 or 1").

%% ------------------------------------------------------------------------------------------
%% Propagation (the core's W3C tracecontext and baggage, as OTEL_PROPAGATORS configures)
%% ------------------------------------------------------------------------------------------

%% @doc Given headers ([{Name, Value}]), returns them with the current context's propagation
%% headers set (replacing any of the same name, in any case). Given a ctx or a span_ctx,
%% returns only its propagation headers.
-spec inject([{binary() | string(), binary() | string()}] | ctx() | span_ctx()) ->
    [{binary() | string(), binary() | string()}].
inject(Headers) when is_list(Headers) ->
    inject(current_ctx(), Headers);
inject(#polytrace_ctx{} = Ctx) ->
    inject(Ctx, []);
inject(#span_ctx{} = S) ->
    inject(#polytrace_ctx{span = S}, []);
inject(Other) ->
    ?BADARG([Other], 1, "not a header list, a ctx or a span_ctx").

%% @doc Headers with Ctx's propagation headers set.
-spec inject(ctx() | span_ctx(), [{binary() | string(), binary() | string()}]) ->
    [{binary() | string(), binary() | string()}].
inject(#span_ctx{} = S, Headers) ->
    inject(#polytrace_ctx{span = S}, Headers);
inject(#polytrace_ctx{span = S, baggage = B} = Ctx, Headers) when is_list(Headers) ->
    case persistent_term:get(?STATE_KEY, undefined) of
        undefined ->
            Headers;
        #polytrace_state{provider = P} ->
            try polytrace_nif:inject(P, S, B) of
                New -> replace_headers(Headers, New)
            catch
                error:badarg -> ?BADARG([Ctx, Headers], 1, "not a ctx: its baggage is not a list of {Key, Value, Metadata}")
            end
    end;
inject(Ctx, Headers) when is_list(Headers) ->
    ?BADARG([Ctx, Headers], 1, "not a ctx or a span_ctx");
inject(Ctx, Headers) ->
    ?BADARG([Ctx, Headers], 2, "not a header list").

replace_headers([], New) ->
    New;
replace_headers(Headers, []) ->
    Headers;
replace_headers(Headers, New) ->
    Names = [N || {N, _} <- New],
    [H || {K, _} = H <- Headers, not lists:member(lower(K), Names)] ++ New.

lower(K) when is_binary(K) -> string:lowercase(K);
lower(K) when is_list(K) -> unicode:characters_to_binary(string:lowercase(K));
lower(K) -> K.

%% @doc Reads a context from headers ([{Name, Value}], names in any case, binaries or
%% strings): the remote parent (undefined when absent or malformed) and the baggage. Attach it
%% or pass it as the parent option.
-spec extract([{binary() | string(), binary() | string()}]) -> ctx().
extract(Headers) when is_list(Headers) ->
    case persistent_term:get(?STATE_KEY, undefined) of
        undefined ->
            #polytrace_ctx{};
        #polytrace_state{provider = P} ->
            polytrace_nif:extract(P, Headers)
    end;
extract(Other) ->
    ?BADARG([Other], 1, "not a header list").

%% @doc A span's trace id as 32 lowercase hex digits.
-spec hex_trace_id(span_ctx()) -> binary().
hex_trace_id(#span_ctx{trace_id = T}) -> polytrace_format:hex(T).

%% @doc A span's id as 16 lowercase hex digits.
-spec hex_span_id(span_ctx()) -> binary().
hex_span_id(#span_ctx{span_id = S}) -> polytrace_format:hex(S).

%% ------------------------------------------------------------------------------------------
%% Errors
%% ------------------------------------------------------------------------------------------

state() ->
    persistent_term:get(?STATE_KEY, undefined).

%% Raises badarg from Function(Args...) with a message naming the argument at Position (shown by
%% the shell and by erl_error:format_exception/3 through format_error/2). The stacktrace starts
%% at the API function the caller called, not at this module's helpers.
-spec badarg(atom(), list(), pos_integer(), string() | {string(), term()}) -> no_return().
badarg(Function, Args, Position, Why) ->
    Text =
        case Why of
            {Message, Value} -> lists:flatten(io_lib:format("~ts, got: ~0tP", [Message, Value, 8]));
            Message -> Message
        end,
    {current_stacktrace, Stack} = process_info(self(), current_stacktrace),
    Callers = lists:dropwhile(fun(Frame) -> element(1, Frame) =:= ?MODULE end, Stack),
    Info = [{error_info, #{module => ?MODULE, cause => #{Position => Text}}}],
    erlang:raise(error, badarg, [{?MODULE, Function, Args, Info} | Callers]).

%% @doc The text of a badarg raised by this module (erl_error's extended error information).
-spec format_error(term(), erlang:stacktrace()) -> #{pos_integer() => string()}.
format_error(_Reason, [{_M, _F, _As, Info} | _]) ->
    maps:get(cause, proplists:get_value(error_info, Info, #{}), #{});
format_error(_Reason, _Stacktrace) ->
    #{}.
