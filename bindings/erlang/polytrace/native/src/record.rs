//! The span hand-over: one NIF call per finished span, decoding the Erlang span record
//! (`#polytrace_span{}`, `src/polytrace_internal.hrl`) straight into the core's record builder
//! (`Tracer::record_finished`, docs/finished-spans.md). The record carries what the user did,
//! in call order reversed (Erlang prepends); the core applies every rule: limits and dropped
//! counts, truncation, status precedence, the exception event, redaction.
//!
//! ```text
//! {polytrace_span, Tracer, TraceId, SpanId, Flags, TraceState, Parent, ParentRemote,
//!  Kind, Name, Start, Attributes, Events, Links, Statuses,
//!  AttributeRoom, EventRoom, StatusRoom, {DiscardedAttributes, DiscardedEvents, DiscardedLinks}}
//! Attributes := [{Key, Value}]                       newest first
//! Events     := [{event, Time, Name, Attributes}
//!              | {exception, Time, Type, Message, Stacktrace, Attributes}]   newest first
//! Links      := [{SpanCtx, Attributes}]               newest first
//! Statuses   := [ok | unset | {error, Description}]  newest first
//! ```
//!
//! The live span applies the core's caps (`Provider::caps`, docs/finished-spans.md, "Caps")
//! so its memory stays bounded: the rooms count down what it may still keep, and what it
//! discarded goes to the core as counts ([`FinishedRecord::discarded`]). Attributes past their
//! room are folded here ([`fold_attributes`]).

use crate::convert::{self, Tuple};
use crate::error::{guard, Failure, Outcome};
use crate::provider::{span_kind, tracer_of};
use polytrace_core::{
    now_unix_nanos, Event, Exception, FinishedHead, FinishedRecord, Link, SpanContext, SpanId,
    Status, TraceFlags,
};
use rustler::{Atom, Encoder, Env, NifResult, Term};
use smallvec::SmallVec;
use std::borrow::Cow;
use std::collections::HashMap;

rustler::atoms! {
    ok,
    undefined,
    event,
    exception,
    error,
    unset,
    polytrace_span,
}

const ARITY: usize = 19;
/// Position of the discarded counts in the record.
const DISCARDED: usize = 18;

/// The list's elements in call order (the list is newest first).
#[inline]
fn call_order<'a>(list: Term<'a>) -> Outcome<SmallVec<[Term<'a>; 8]>> {
    let mut v: SmallVec<[Term<'a>; 8]> = SmallVec::new();
    for t in list.into_list_iterator()? {
        v.push(t);
    }
    v.reverse();
    Ok(v)
}

fn field<'a>(t: &Tuple<'a>, i: usize) -> Outcome<Term<'a>> {
    t.get(i).ok_or(Failure::BadArg)
}

fn time(term: Term<'_>) -> Outcome<u64> {
    Ok(term.decode::<i64>()?.max(0) as u64)
}

fn status(term: Term<'_>) -> Outcome<Status> {
    if let Ok(a) = Atom::from_term(term) {
        return if a == ok() {
            Ok(Status::Ok)
        } else if a == unset() {
            Ok(Status::Unset)
        } else {
            Err(Failure::BadArg)
        };
    }
    let t = convert::tuple(term).ok_or(Failure::BadArg)?;
    if t.len() != 2 || Atom::from_term(field(&t, 0)?)? != error() {
        return Err(Failure::BadArg);
    }
    Ok(Status::Error(
        convert::string(field(&t, 1)?).unwrap_or_default(),
    ))
}

fn add_event(r: &mut FinishedRecord<'_>, term: Term<'_>) -> Outcome<()> {
    let t = convert::tuple(term).ok_or(Failure::BadArg)?;
    let tag = Atom::from_term(field(&t, 0)?)?;
    if tag == event() && t.len() == 4 {
        r.add_event(Event {
            name: convert::key(field(&t, 2)?).ok_or(Failure::BadArg)?,
            time: Some(time(field(&t, 1)?)?),
            attributes: convert::attributes(field(&t, 3)?, convert::warn_dropped)?,
        });
    } else if tag == exception() && t.len() == 6 {
        r.record_exception(Exception {
            type_name: convert::string(field(&t, 2)?).unwrap_or_default(),
            message: convert::string(field(&t, 3)?).unwrap_or_default(),
            stacktrace: convert::string(field(&t, 4)?).filter(|s| !s.is_empty()),
            escaped: None,
            attributes: convert::attributes(field(&t, 5)?, convert::warn_dropped)?,
            time: Some(time(field(&t, 1)?)?),
        });
    } else {
        return Err(Failure::BadArg);
    }
    Ok(())
}

fn add_link(r: &mut FinishedRecord<'_>, term: Term<'_>) -> Outcome<()> {
    let t = convert::tuple(term).ok_or(Failure::BadArg)?;
    if t.len() != 2 {
        return Err(Failure::BadArg);
    }
    let context = convert::span_context(field(&t, 0)?).unwrap_or_default();
    r.add_link(Link {
        context,
        attributes: convert::attributes(field(&t, 1)?, convert::warn_dropped)?,
    });
    Ok(())
}

/// Records one finished span (see the module docs) ended at `End` (nanoseconds since the
/// epoch; `undefined`: now). `ok`; `badarg` for a term that is not a span record.
#[rustler::nif]
fn record<'a>(env: Env<'a>, span: Term<'a>, end: Term<'a>) -> NifResult<Term<'a>> {
    guard(env, || {
        let end_time = if end.is_atom() {
            now_unix_nanos()
        } else {
            time(end)?
        };
        record_one(span, end_time)?;
        Ok(ok().encode(env))
    })
}

fn record_one(span: Term<'_>, end_time: u64) -> Outcome<()> {
    let t = convert::tuple(span).ok_or(Failure::BadArg)?;
    if t.len() != ARITY || Atom::from_term(field(&t, 0)?)? != polytrace_span() {
        return Err(Failure::BadArg);
    }
    let tracer = tracer_of(field(&t, 1)?)?;
    let parent = field(&t, 6)?;
    let parent_span_id = if parent.is_atom() {
        SpanId::INVALID
    } else {
        convert::span_id(parent).ok_or(Failure::BadArg)?
    };
    let head = FinishedHead {
        context: SpanContext {
            trace_id: convert::trace_id(field(&t, 2)?).ok_or(Failure::BadArg)?,
            span_id: convert::span_id(field(&t, 3)?).ok_or(Failure::BadArg)?,
            trace_flags: TraceFlags(field(&t, 4)?.decode::<u8>()?),
            trace_state: convert::trace_state(field(&t, 5)?),
            is_remote: false,
        },
        parent_span_id,
        parent_is_remote: field(&t, 7)?.decode::<bool>()?,
        name: convert::key(field(&t, 9)?).ok_or(Failure::BadArg)?,
        kind: span_kind(field(&t, 8)?.decode::<u8>()?),
        start_time: time(field(&t, 10)?)?,
        end_time,
    };
    let discarded = convert::tuple(field(&t, DISCARDED)?).ok_or(Failure::BadArg)?;
    if discarded.len() != 3 {
        return Err(Failure::BadArg);
    }
    let count = |i| -> Outcome<u32> { Ok(field(&discarded, i)?.decode::<u32>()?) };
    let (d_attributes, d_events, d_links) = (count(0)?, count(1)?, count(2)?);
    let attrs = field(&t, 11)?;
    let events = field(&t, 12)?;
    let links = field(&t, 13)?;
    let statuses = field(&t, 14)?;
    let mut failure = None;
    let recorded = tracer.tracer.record_finished(head, |r| {
        let mut fill = || -> Outcome<()> {
            if !attrs.is_empty_list() {
                for a in call_order(attrs)? {
                    let kv = convert::tuple(a).ok_or(Failure::BadArg)?;
                    if kv.len() != 2 {
                        return Err(Failure::BadArg);
                    }
                    let (k, v) = (field(&kv, 0)?, field(&kv, 1)?);
                    match convert::key(k) {
                        Some(key) => match convert::value(v) {
                            Ok(value) => r.set_attribute(key, value),
                            Err(why) => convert::warn_dropped(k, Ok(why)),
                        },
                        None => convert::warn_dropped(k, Err(())),
                    }
                }
            }
            if !events.is_empty_list() {
                for e in call_order(events)? {
                    add_event(r, e)?;
                }
            }
            if !links.is_empty_list() {
                for l in call_order(links)? {
                    add_link(r, l)?;
                }
            }
            if !statuses.is_empty_list() {
                for s in call_order(statuses)? {
                    r.set_status(status(s)?);
                }
            }
            if d_attributes | d_events | d_links != 0 {
                r.discarded(d_attributes, d_events, d_links);
            }
            Ok(())
        };
        fill().map_err(|f| {
            failure = Some(f);
            polytrace_core::Error::invalid_argument("not a span record")
        })
    });
    match (recorded, failure) {
        (_, Some(f)) => Err(f),
        (Ok(()), None) => Ok(()),
        (Err(e), None) => Err(Failure::Core(e)),
    }
}

/// Folds a live span's attributes (newest first) when they outgrow their room: a repeated key
/// keeps its first position with its latest value, a new key past `Cap` distinct keys is
/// discarded and counted (docs/finished-spans.md, "Caps"), and pairs the core would drop
/// (a key or value of no attribute type) are dropped now, with the same once-per-cause
/// warning. `{Folded, Discarded}`, `Folded` newest first; the core's rules at the end then
/// give the span exactly what the unfolded list would have.
#[rustler::nif]
fn fold_attributes<'a>(env: Env<'a>, attrs: Term<'a>, cap: u32) -> NifResult<Term<'a>> {
    guard(env, || {
        let cap = cap as usize;
        let mut kept: Vec<(Term<'a>, Term<'a>)> = Vec::with_capacity(cap.min(256));
        let mut index: HashMap<Cow<'static, str>, usize> = HashMap::with_capacity(cap.min(256));
        let mut discarded: u32 = 0;
        for a in call_order(attrs)? {
            let kv = convert::tuple(a).ok_or(Failure::BadArg)?;
            if kv.len() != 2 {
                return Err(Failure::BadArg);
            }
            let (k, v) = (field(&kv, 0)?, field(&kv, 1)?);
            let Some(key) = convert::key(k) else {
                convert::warn_dropped(k, Err(()));
                continue;
            };
            if let Err(why) = convert::value(v) {
                convert::warn_dropped(k, Ok(why));
                continue;
            }
            match index.get(&key) {
                Some(&i) => kept[i].1 = v,
                None if kept.len() < cap => {
                    index.insert(key, kept.len());
                    kept.push((k, v));
                }
                None => discarded = discarded.saturating_add(1),
            }
        }
        let mut list = Term::list_new_empty(env);
        for (k, v) in kept {
            list = list.list_prepend((k, v).encode(env));
        }
        Ok((list, discarded).encode(env))
    })
}
