%% @doc How Erlang values appear in spans: an exception's type, message and stacktrace, and
%% ids as hex. Formatting is the host's part of an exception; the core builds the event.
-module(polytrace_format).

-export([type/2, reason/2, stacktrace/3, hex/1]).

%% Reasons are printed to this depth, so a huge term cannot make a huge attribute (the core
%% also applies the attribute value length limit).
-define(DEPTH, 30).

%% @doc exception.type: for an exception struct (the reason an Elixir `raise` gives: a map
%% with '__exception__' => true and '__struct__' => Module) the module's name, without
%% Elixir's "Elixir." prefix (ArgumentError); otherwise Class:Kind, the kind being the reason
%% when it is an atom or the first element of a tagged tuple ({badmatch, _} ->
%% error:badmatch), else just the class.
-spec type(atom(), term()) -> binary().
type(_Class, #{'__exception__' := true, '__struct__' := Module}) when is_atom(Module) ->
    case atom_to_binary(Module) of
        <<"Elixir.", Name/binary>> -> Name;
        Name -> Name
    end;
type(Class, Reason) when is_atom(Reason) ->
    <<(atom_to_binary(Class))/binary, ":", (atom_to_binary(Reason))/binary>>;
type(Class, Reason) when is_tuple(Reason), tuple_size(Reason) > 0, is_atom(element(1, Reason)) ->
    <<(atom_to_binary(Class))/binary, ":", (atom_to_binary(element(1, Reason)))/binary>>;
type(Class, _Reason) ->
    atom_to_binary(Class).

%% @doc exception.message (and the error status's description): an exception struct's
%% message (a binary or string), otherwise the reason as Erlang prints it, limited in depth.
-spec reason(atom(), term()) -> binary().
reason(_Class, #{'__exception__' := true, message := Message}) when is_binary(Message) ->
    Message;
reason(Class, #{'__exception__' := true, message := Message} = Reason) when is_list(Message) ->
    case unicode:characters_to_binary(Message) of
        B when is_binary(B) -> B;
        _ -> reason(Class, maps:remove(message, Reason))
    end;
reason(_Class, Reason) ->
    unicode:characters_to_binary(io_lib:format("~0tP", [Reason, ?DEPTH])).

%% @doc exception.stacktrace: the exception as erl_error formats it for the shell.
-spec stacktrace(atom(), term(), list()) -> binary().
stacktrace(Class, Reason, Stacktrace) ->
    try
        unicode:characters_to_binary(erl_error:format_exception(Class, Reason, Stacktrace))
    catch
        _:_ -> unicode:characters_to_binary(io_lib:format("~0tP", [Stacktrace, ?DEPTH]))
    end.

%% @doc Lowercase hex of a binary.
-spec hex(binary()) -> binary().
hex(Bin) ->
    <<<<(hex_digit(N))>> || <<N:4>> <= Bin>>.

hex_digit(N) when N < 10 -> $0 + N;
hex_digit(N) -> $a + N - 10.
