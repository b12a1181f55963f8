//! Erlang terms to the core's plain values and back: strings (atoms, binaries, charlists),
//! attribute values, ids, span contexts, carriers, options and stats. Nothing here decides
//! anything: what a value means is the core's business.

use polytrace_core::config::OptionValue;
use polytrace_core::intern::{KEYS, VALUES};
use polytrace_core::propagation::TraceState;
use polytrace_core::text::lossy_utf8;
use polytrace_core::{SpanContext, SpanId, Stats, TraceFlags, TraceId, Value};
use rustler::{Atom, Binary, Encoder, Env, NewBinary, Term, TermType};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

rustler::atoms! {
    undefined,
    span_ctx,
    polytrace_ctx,
}

// ---------------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------------

/// Atoms are never garbage collected, so an atom's term is a stable name for its text: each
/// scheduler thread keeps the shared copy of the atoms it has seen, and an atom key costs a
/// hash of one word after the first time.
#[derive(Default)]
struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 =
                (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Most atoms one thread remembers; past it the cache starts again (memory stays bounded).
const ATOM_CACHE: usize = 4096;

thread_local! {
    static ATOMS: RefCell<HashMap<rustler::sys::ErlNifTerm, &'static str, BuildHasherDefault<WordHasher>>> =
        RefCell::new(HashMap::default());
}

/// An atom's text as the core keeps it (shared for atoms of up to the key table's length).
fn atom_text(term: Term<'_>) -> Option<Cow<'static, str>> {
    let word = term.as_c_arg();
    if let Some(s) = ATOMS.with(|m| m.borrow().get(&word).copied()) {
        return Some(Cow::Borrowed(s));
    }
    let text = term.atom_to_string().ok()?;
    match KEYS.get(&text) {
        Some(shared) => {
            ATOMS.with(|m| {
                let mut m = m.borrow_mut();
                if m.len() >= ATOM_CACHE {
                    m.clear();
                }
                m.insert(word, shared);
            });
            Some(Cow::Borrowed(shared))
        }
        None => Some(Cow::Owned(text)),
    }
}

/// A charlist's text (`None` unless every element is a code point, 0 to 0x10FFFF). A list can
/// hold a surrogate's code point, which no `char` is: it is written as the three bytes
/// WTF-8 gives it and the text repaired by the core's rule, as a binary holding them would be
/// (`polytrace_core::text`).
fn charlist_text(term: Term<'_>) -> Option<String> {
    let mut bytes = Vec::new();
    for c in term.into_list_iterator().ok()? {
        let n: u32 = c.decode().ok()?;
        match char::from_u32(n) {
            Some(ch) => bytes.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes()),
            None if (0xD800..=0xDFFF).contains(&n) => bytes.extend_from_slice(&[
                0xE0 | (n >> 12) as u8,
                0x80 | ((n >> 6) & 0x3F) as u8,
                0x80 | (n & 0x3F) as u8,
            ]),
            None => return None,
        }
    }
    Some(String::from_utf8(bytes).unwrap_or_else(|e| lossy_utf8(e.as_bytes()).into_owned()))
}

/// Bytes as text: UTF-8 shared from `table` (or copied when it does not fit there), anything
/// else repaired by the core's rule (`polytrace_core::text`). The same binary seen again (a
/// literal key or name: same address, same bytes) is found in the table's pointer cache before
/// any UTF-8 validation.
#[inline]
fn bytes_text(bytes: &[u8], table: &polytrace_core::intern::Table) -> Cow<'static, str> {
    if let Some(s) = table.recent(bytes) {
        return Cow::Borrowed(s);
    }
    match lossy_utf8(bytes) {
        Cow::Borrowed(s) => table.share_cached(s),
        Cow::Owned(s) => Cow::Owned(s),
    }
}

/// A name or key: an atom, a binary (UTF-8; anything else repaired) or a charlist. Shared from
/// the core's key table when short. `None` for any other term.
#[inline]
pub fn key(term: Term<'_>) -> Option<Cow<'static, str>> {
    match term.get_type() {
        TermType::Binary => {
            let b = Binary::from_term(term).ok()?;
            Some(bytes_text(b.as_slice(), &KEYS))
        }
        TermType::Atom => atom_text(term),
        TermType::List => charlist_text(term).map(Cow::Owned),
        _ => None,
    }
}

/// A string argument (binary, atom or charlist) as an owned `String`.
pub fn string(term: Term<'_>) -> Option<String> {
    match term.get_type() {
        TermType::Binary => {
            let b = Binary::from_term(term).ok()?;
            Some(lossy_utf8(b.as_slice()).into_owned())
        }
        TermType::Atom => term.atom_to_string().ok(),
        TermType::List => charlist_text(term),
        _ => None,
    }
}

/// `s` as a new binary term.
pub fn binary<'a>(env: Env<'a>, s: &[u8]) -> Term<'a> {
    let mut b = NewBinary::new(env, s.len());
    b.as_mut_slice().copy_from_slice(s);
    b.into()
}

// ---------------------------------------------------------------------------------------------
// Attribute values
// ---------------------------------------------------------------------------------------------

/// Why a term is not an attribute value: the `cause` of a once-per-cause warning, and its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejected {
    /// An integer outside the 64-bit signed range.
    BigInteger,
    /// A list whose elements are not all of one attribute type.
    MixedList,
    /// A tuple, map, pid, port, reference or fun.
    Other(&'static str),
}

impl Rejected {
    /// A stable cause name for `diag::emit_once`.
    pub fn cause(self) -> &'static str {
        match self {
            Rejected::BigInteger => "erlang-attribute-big-integer",
            Rejected::MixedList => "erlang-attribute-mixed-list",
            Rejected::Other("tuple") => "erlang-attribute-tuple",
            Rejected::Other("map") => "erlang-attribute-map",
            Rejected::Other("pid") => "erlang-attribute-pid",
            Rejected::Other("port") => "erlang-attribute-port",
            Rejected::Other("reference") => "erlang-attribute-reference",
            Rejected::Other("fun") => "erlang-attribute-fun",
            Rejected::Other(_) => "erlang-attribute-other",
        }
    }

    /// What is wrong, for the warning.
    pub fn describe(self) -> String {
        match self {
            Rejected::BigInteger => "an integer outside the signed 64-bit range".into(),
            Rejected::MixedList => "a list whose elements are not all of one attribute type (binaries or atoms, integers, floats, booleans)".into(),
            Rejected::Other(t) => format!("a {t}"),
        }
    }
}

fn type_name(t: TermType) -> &'static str {
    match t {
        TermType::Tuple => "tuple",
        TermType::Map => "map",
        TermType::Pid => "pid",
        TermType::Port => "port",
        TermType::Ref => "reference",
        TermType::Fun => "fun",
        _ => "term of another type",
    }
}

/// The element kind of a homogeneous list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Elem {
    Str,
    Int,
    Float,
    Bool,
}

fn elem_kind(term: Term<'_>) -> Option<Elem> {
    match term.get_type() {
        TermType::Binary => Some(Elem::Str),
        TermType::Atom => Some(if is_bool(term) { Elem::Bool } else { Elem::Str }),
        TermType::Integer => Some(Elem::Int),
        TermType::Float => Some(Elem::Float),
        _ => None,
    }
}

fn is_bool(term: Term<'_>) -> bool {
    term.decode::<bool>().is_ok()
}

/// An attribute value: a binary (UTF-8; other bytes repaired) or atom (its name; `true` and
/// `false` are booleans) is a string, an integer (64-bit), a float, or a homogeneous list of
/// one of those. Anything else is [`Rejected`].
#[inline]
pub fn value(term: Term<'_>) -> Result<Value, Rejected> {
    match term.get_type() {
        TermType::Binary => {
            let b = Binary::from_term(term).map_err(|_| Rejected::Other("bitstring"))?;
            Ok(Value::String(bytes_text(b.as_slice(), &VALUES)))
        }
        TermType::Integer => term
            .decode::<i64>()
            .map(Value::Int)
            .map_err(|_| Rejected::BigInteger),
        TermType::Float => term
            .decode::<f64>()
            .map(Value::Double)
            .map_err(|_| Rejected::Other("float")),
        TermType::Atom => match term.decode::<bool>() {
            Ok(b) => Ok(Value::Bool(b)),
            Err(_) => atom_text(term)
                .map(Value::String)
                .ok_or(Rejected::Other("atom")),
        },
        TermType::List => list_value(term),
        t => Err(Rejected::Other(type_name(t))),
    }
}

fn list_value(term: Term<'_>) -> Result<Value, Rejected> {
    let mut it = term.into_list_iterator().map_err(|_| Rejected::MixedList)?;
    let Some(first) = it.next() else {
        return Ok(Value::StringArray(Vec::new()));
    };
    let kind = elem_kind(first).ok_or(Rejected::MixedList)?;
    let all = std::iter::once(first).chain(it);
    let bad = |_| Rejected::MixedList;
    Ok(match kind {
        Elem::Str => Value::StringArray(
            all.map(|t| match elem_kind(t) {
                Some(Elem::Str) => key_or_value_string(t).ok_or(Rejected::MixedList),
                _ => Err(Rejected::MixedList),
            })
            .collect::<Result<_, _>>()?,
        ),
        Elem::Int => Value::IntArray(
            all.map(|t| match elem_kind(t) {
                Some(Elem::Int) => t.decode::<i64>().map_err(|_| Rejected::BigInteger),
                _ => Err(Rejected::MixedList),
            })
            .collect::<Result<_, _>>()?,
        ),
        Elem::Float => Value::DoubleArray(
            all.map(|t| match elem_kind(t) {
                Some(Elem::Float) => t.decode::<f64>().map_err(bad),
                _ => Err(Rejected::MixedList),
            })
            .collect::<Result<_, _>>()?,
        ),
        Elem::Bool => Value::BoolArray(
            all.map(|t| match elem_kind(t) {
                Some(Elem::Bool) => t.decode::<bool>().map_err(bad),
                _ => Err(Rejected::MixedList),
            })
            .collect::<Result<_, _>>()?,
        ),
    })
}

fn key_or_value_string(t: Term<'_>) -> Option<String> {
    match t.get_type() {
        TermType::Binary => Binary::from_term(t)
            .ok()
            .map(|b| lossy_utf8(b.as_slice()).into_owned()),
        TermType::Atom => atom_text(t).map(Cow::into_owned),
        _ => None,
    }
}

/// Calls `each(key, value)` for every `{Key, Value}` of an attribute map or list, in order
/// (a map in its iteration order). A pair whose key or value is not acceptable is passed to
/// `bad` instead. `Err` when `term` is neither a map nor a list of pairs.
pub fn for_each_attribute<'a>(
    term: Term<'a>,
    mut each: impl FnMut(Cow<'static, str>, Value),
    mut bad: impl FnMut(Term<'a>, Result<Rejected, ()>),
) -> rustler::NifResult<()> {
    let mut one = |k: Term<'a>, v: Term<'a>| match key(k) {
        Some(key) => match value(v) {
            Ok(value) => each(key, value),
            Err(r) => bad(k, Ok(r)),
        },
        None => bad(k, Err(())),
    };
    match term.get_type() {
        TermType::Map => {
            for (k, v) in rustler::MapIterator::new(term).ok_or(rustler::Error::BadArg)? {
                one(k, v);
            }
        }
        TermType::List => {
            for pair in term.into_list_iterator()? {
                let (k, v): (Term<'a>, Term<'a>) = pair.decode()?;
                one(k, v);
            }
        }
        _ => return Err(rustler::Error::BadArg),
    }
    Ok(())
}

/// The list of attributes of a map or a list of pairs (bad pairs reported, as above).
pub fn attributes<'a>(
    term: Term<'a>,
    bad: impl FnMut(Term<'a>, Result<Rejected, ()>),
) -> rustler::NifResult<Vec<(Cow<'static, str>, Value)>> {
    let mut out = Vec::new();
    for_each_attribute(term, |k, v| out.push((k, v)), bad)?;
    Ok(out)
}

/// Reports a dropped attribute once per cause through the core's diagnostics (routed to
/// `logger`).
pub fn warn_dropped(k: Term<'_>, why: Result<Rejected, ()>) {
    use polytrace_core::diag::{emit_once, Level};
    let name = key(k).map(|k| k.into_owned()).unwrap_or_else(|| "?".into());
    match why {
        Ok(r) => emit_once(
            Level::Warn,
            r.cause(),
            &format!("attribute '{name}' dropped: its value is {}, not an attribute value (binary, atom, integer, float, boolean or a list of one of those); further attributes dropped for this reason are not reported", r.describe()),
        ),
        Err(()) => emit_once(
            Level::Warn,
            "erlang-attribute-key",
            "an attribute was dropped: its key is not an atom, binary or string; further attributes dropped for this reason are not reported",
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Ids and span contexts
// ---------------------------------------------------------------------------------------------

/// A 16-byte binary as a trace id.
#[inline]
pub fn trace_id(term: Term<'_>) -> Option<TraceId> {
    let b = Binary::from_term(term).ok()?;
    Some(TraceId(b.as_slice().try_into().ok()?))
}

/// An 8-byte binary as a span id.
#[inline]
pub fn span_id(term: Term<'_>) -> Option<SpanId> {
    let b = Binary::from_term(term).ok()?;
    Some(SpanId(b.as_slice().try_into().ok()?))
}

/// A `tracestate` header binary as the core's trace state (empty when absent, an atom, or
/// invalid).
#[inline]
pub fn trace_state(term: Term<'_>) -> TraceState {
    if term.is_atom() {
        return TraceState::default();
    }
    match Binary::from_term(term) {
        Ok(b) if !b.is_empty() => std::str::from_utf8(b.as_slice())
            .ok()
            .and_then(TraceState::parse)
            .unwrap_or_default(),
        _ => TraceState::default(),
    }
}

/// Reads `#span_ctx{}` (`{span_ctx, TraceId, SpanId, Flags, TraceState, IsRemote,
/// IsRecording}`); `None` for anything else (`undefined` included).
pub fn span_context(term: Term<'_>) -> Option<SpanContext> {
    let t = tuple(term)?;
    if t.len() != 7 || Atom::from_term(t.get(0)?).ok()? != span_ctx() {
        return None;
    }
    Some(SpanContext {
        trace_id: trace_id(t.get(1)?)?,
        span_id: span_id(t.get(2)?)?,
        trace_flags: TraceFlags(t.get(3)?.decode::<u8>().ok()?),
        trace_state: trace_state(t.get(4)?),
        is_remote: t.get(5)?.decode::<bool>().ok()?,
    })
}

/// `#span_ctx{}` of a context (recording as given).
pub fn encode_span_context<'a>(env: Env<'a>, c: &SpanContext, recording: bool) -> Term<'a> {
    let ts = c.trace_state.header();
    (
        span_ctx(),
        binary(env, &c.trace_id.0),
        binary(env, &c.span_id.0),
        c.trace_flags.0,
        binary(env, ts.as_bytes()),
        c.is_remote,
        recording,
    )
        .encode(env)
}

/// The elements of a tuple, borrowed from the term: no allocation (rustler's `get_tuple`
/// collects them into a `Vec`).
pub struct Tuple<'a> {
    env: Env<'a>,
    elems: &'a [rustler::sys::ErlNifTerm],
}

impl<'a> Tuple<'a> {
    /// How many elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.elems.len()
    }

    /// Element `i` (0-based); `None` past the end.
    #[inline]
    pub fn get(&self, i: usize) -> Option<Term<'a>> {
        // SAFETY: the element is a term of the same environment as the tuple.
        self.elems
            .get(i)
            .map(|t| unsafe { Term::new(self.env, *t) })
    }
}

/// `term`'s elements when it is a tuple.
#[inline]
pub fn tuple(term: Term<'_>) -> Option<Tuple<'_>> {
    let env = term.get_env();
    let mut arity: rustler::sys::c_int = 0;
    let mut array: *const rustler::sys::ErlNifTerm = std::ptr::null();
    // SAFETY: `enif_get_tuple` writes the arity and a pointer to the tuple's elements, which
    // live as long as the term (the environment of this call).
    let ok = unsafe {
        rustler::sys::enif_get_tuple(env.as_c_arg(), term.as_c_arg(), &mut arity, &mut array)
    };
    if ok == 0 || array.is_null() && arity != 0 {
        return None;
    }
    let elems = if arity == 0 {
        &[][..]
    } else {
        // SAFETY: as above; `arity` elements are readable at `array`.
        unsafe { std::slice::from_raw_parts(array, arity as usize) }
    };
    Some(Tuple { env, elems })
}

// ---------------------------------------------------------------------------------------------
// Carriers, options, stats
// ---------------------------------------------------------------------------------------------

/// A header list `[{Name, Value}]` (binaries or strings, names in any case) as owned pairs.
/// Pairs that are not two strings are skipped (a carrier is wire input: never an error).
pub fn carrier(term: Term<'_>) -> rustler::NifResult<Vec<(Cow<'_, str>, Cow<'_, str>)>> {
    let mut out = Vec::new();
    for item in term.into_list_iterator()? {
        let Some(t) = tuple(item) else { continue };
        if t.len() != 2 {
            continue;
        }
        if let (Some(k), Some(v)) = (
            t.get(0).and_then(header_text),
            t.get(1).and_then(header_text),
        ) {
            out.push((k, v));
        }
    }
    Ok(out)
}

fn header_text<'a>(term: Term<'a>) -> Option<Cow<'a, str>> {
    match term.get_type() {
        TermType::Binary => {
            let b = Binary::from_term(term).ok()?;
            Some(lossy_utf8(b.as_slice()))
        }
        TermType::List => charlist_text(term).map(Cow::Owned),
        TermType::Atom => term.atom_to_string().ok().map(Cow::Owned),
        _ => None,
    }
}

/// One option value: a binary, charlist or atom is a string (`true`/`false` booleans), an
/// integer, a float, a list of strings, or a map / list of pairs of strings.
fn option_value(term: Term<'_>) -> Option<OptionValue> {
    match term.get_type() {
        TermType::Binary => string(term).map(OptionValue::Str),
        TermType::Atom => match term.decode::<bool>() {
            Ok(b) => Some(OptionValue::Bool(b)),
            Err(_) => string(term).map(OptionValue::Str),
        },
        TermType::Integer => term.decode::<i64>().ok().map(OptionValue::Int),
        TermType::Float => term.decode::<f64>().ok().map(OptionValue::Float),
        TermType::Map => {
            let mut pairs = Vec::new();
            for (k, v) in rustler::MapIterator::new(term)? {
                pairs.push((string(k)?, string(v)?));
            }
            Some(OptionValue::Map(pairs))
        }
        TermType::List => {
            if let Some(s) = charlist_text(term) {
                if term.is_empty_list() {
                    return Some(OptionValue::List(Vec::new()));
                }
                return Some(OptionValue::Str(s));
            }
            let items: Vec<Term<'_>> = term.decode().ok()?;
            if items.iter().all(|t| t.get_type() == TermType::Tuple) {
                let mut pairs = Vec::new();
                for t in items {
                    let (k, v): (Term<'_>, Term<'_>) = t.decode().ok()?;
                    pairs.push((string(k)?, string(v)?));
                }
                Some(OptionValue::Map(pairs))
            } else {
                items
                    .into_iter()
                    .map(string)
                    .collect::<Option<Vec<_>>>()
                    .map(OptionValue::List)
            }
        }
        _ => None,
    }
}

/// Options as a map or a list of `{Name, Value}` (names as atoms, binaries or strings; the
/// core normalises their spelling). A value of no option type is an `InvalidConfig` error
/// naming the option, as the core reports its own.
pub fn options(term: Term<'_>) -> Result<Vec<(String, OptionValue)>, crate::error::Failure> {
    let mut out = Vec::new();
    let mut one = |k: Term<'_>, v: Term<'_>| -> Result<(), crate::error::Failure> {
        let name = string(k).ok_or(crate::error::Failure::BadArg)?;
        let value = option_value(v).ok_or_else(|| {
            polytrace_core::config::option_error(
                polytrace_core::ConfigProblem::WrongType,
                &name,
                format!(
                    "option '{name}': the value is not a string, atom, number, boolean, list of strings or map of strings"
                ),
            )
        })?;
        out.push((name, value));
        Ok(())
    };
    match term.get_type() {
        TermType::Map => {
            for (k, v) in rustler::MapIterator::new(term).ok_or(crate::error::Failure::BadArg)? {
                one(k, v)?;
            }
        }
        TermType::List => {
            for pair in term.into_list_iterator()? {
                let (k, v): (Term<'_>, Term<'_>) = pair.decode()?;
                one(k, v)?;
            }
        }
        _ => return Err(crate::error::Failure::BadArg),
    }
    Ok(out)
}

/// The pipeline's counters as a map of atoms to integers.
pub fn stats<'a>(env: Env<'a>, s: &Stats) -> rustler::NifResult<Term<'a>> {
    let pairs = s.to_pairs();
    let keys: Vec<Term<'a>> = pairs
        .iter()
        .map(|(k, _)| Atom::from_str(env, k).map(|a| a.encode(env)))
        .collect::<rustler::NifResult<_>>()?;
    let values: Vec<Term<'a>> = pairs.iter().map(|(_, v)| v.encode(env)).collect();
    Term::map_from_term_arrays(env, &keys, &values)
}
