%% Public records of the polytrace API. Treat them as read-only values: build them only through
%% polytrace (start_span/1,2, extract/1, current_ctx/0).

-ifndef(POLYTRACE_HRL).
-define(POLYTRACE_HRL, true).

%% A span's identity, as start_span/1,2 and current_span_ctx/0 return it and as extract/1
%% reads it from the wire. Ids are binaries (16 and 8 bytes; polytrace:hex_trace_id/1 and
%% hex_span_id/1 give their W3C hex form), trace_flags the W3C byte (1 = sampled),
%% tracestate the W3C header value (<<>> when empty).
-record(span_ctx, {
    trace_id = <<0:128>> :: <<_:128>>,
    span_id = <<0:64>> :: <<_:64>>,
    trace_flags = 0 :: 0..255,
    tracestate = <<>> :: binary(),
    is_remote = false :: boolean(),
    is_recording = false :: boolean()
}).

%% A context: the current span and the baggage (a list of {Key, Value, Metadata} binaries).
%% current_ctx/0 returns it, extract/1 makes one from headers, attach/1 installs one.
-record(polytrace_ctx, {
    span = undefined :: undefined | #span_ctx{},
    baggage = [] :: [{binary(), binary(), binary()}]
}).

-endif.
