%% @doc Log correlation: a logger filter that adds the current span's trace_id, span_id (lowercase
%% hex binaries, as W3C writes them) and trace_flags ("01" sampled) to every log event's
%% metadata, so a formatter can print them and a log pipeline can join logs to traces:
%%
%%   ok = polytrace_logger:add_filter().
%%
%% or, in sys.config, a primary filter {polytrace_trace_ctx, {fun polytrace_logger:filter/2, []}}.
%% Filters run in the process that logs, where the current span lives.
-module(polytrace_logger).

-include("polytrace.hrl").

-export([add_filter/0, remove_filter/0, filter/2]).

-define(FILTER, polytrace_trace_ctx).

%% @doc Installs the filter as a primary logger filter (all handlers see the metadata).
-spec add_filter() -> ok | {error, term()}.
add_filter() ->
    case logger:add_primary_filter(?FILTER, {fun ?MODULE:filter/2, []}) of
        {error, {already_exist, _}} -> ok;
        Other -> Other
    end.

%% @doc Removes the filter.
-spec remove_filter() -> ok | {error, term()}.
remove_filter() ->
    logger:remove_primary_filter(?FILTER).

%% @doc The filter: the event with the current span's ids in its metadata (unchanged when there
%% is no valid current span).
-spec filter(logger:log_event(), term()) -> logger:filter_return().
filter(#{meta := Meta} = Event, _) ->
    case get('$polytrace_span') of
        #span_ctx{trace_id = T, span_id = S, trace_flags = F} when T =/= <<0:128>>, S =/= <<0:64>> ->
            Event#{
                meta => Meta#{
                    trace_id => polytrace_format:hex(T),
                    span_id => polytrace_format:hex(S),
                    trace_flags => polytrace_format:hex(<<F>>)
                }
            };
        _ ->
            Event
    end;
filter(Event, _) ->
    Event.
