%% Internal records and keys of the polytrace application (not part of the API).

-include("polytrace.hrl").

%% A live span, kept in the process dictionary of the process that started it under
%% ?LIVE_KEY(SpanId) and handed to the core in one call when it ends
%% (polytrace_nif:record/2; the layout is documented in native/src/record.rs). Lists are
%% newest first. The rooms bound its memory by the core's caps (docs/finished-spans.md,
%% "Caps"): how many more attributes it takes before they are folded, events and status calls
%% it still keeps; what it discarded is counted in `discarded` and sent to the core.
-record(polytrace_span, {
    tracer :: reference(),
    trace_id :: <<_:128>>,
    span_id :: <<_:64>>,
    flags :: 0..255,
    tracestate :: undefined | binary(),
    parent :: undefined | <<_:64>>,
    remote :: boolean(),
    kind :: 0..4,
    name :: atom() | binary() | string(),
    start :: integer(),
    attrs = [] :: [{term(), term()}],
    events = [] :: [tuple()],
    links = [] :: [{#span_ctx{}, term()}],
    status = [] :: [ok | unset | {error, binary()}],
    attr_room :: integer(),
    event_room :: integer(),
    status_room :: integer(),
    discarded = {0, 0, 0} :: {non_neg_integer(), non_neg_integer(), non_neg_integer()}
}).

%% The running provider, in persistent_term under ?STATE_KEY.
-record(polytrace_state, {
    provider :: reference(),
    tracer :: reference(),
    %% {Noop, RootDecision, RootKeep, RootSet, SampledDecision, SampledKeep, SampledSet,
    %%  UnsampledDecision, UnsampledKeep, UnsampledSet} (docs/finished-spans.md)
    plan :: tuple(),
    %% {Attributes, Events, Links, StatusCalls}: the caps of a live span (Provider::caps)
    caps :: {non_neg_integer(), non_neg_integer(), non_neg_integer(), non_neg_integer()}
}).

-define(STATE_KEY, '$polytrace_state').
%% The process dictionary key of a live span: a 59-bit small integer folded from its (random)
%% span id, which the process dictionary hashes for free (a key holding the id's binary costs a
%% hash of its bytes on each of a span's calls: 7 % of a W1 span's CPU). Every lookup also
%% matches the span id, so two live spans of one process whose ids fold to the same key (a
%% chance of 2^-59 per pair) cannot mix: the older one stops recording.
%% (polytrace:live_key/1 computes it.)
-define(CURRENT_KEY, '$polytrace_span').
-define(BAGGAGE_KEY, '$polytrace_baggage').
