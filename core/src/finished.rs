//! The finished-span format (`docs/finished-spans.md`): the byte layout in which bindings that
//! keep live spans on their own side (Node, Java) hand the core finished spans, many per call,
//! and its [`Decoder`], which fills the core's records through the logical record builder
//! ([`FinishedHead`], [`FinishedRecord`]) — so every rule (limits and dropped counts, status
//! precedence, exception events, truncation, redaction) is the core's. [`Encoder`] writes the
//! same layout from Rust: the reference for bindings' encoders, and what the tests use.

use crate::api::{Provider, Tracer};
use crate::error::{Error, Result};
use crate::intern;
use crate::propagation::TraceState;
use crate::trace::record::{Event, Exception, Link, UnixNanos};
use crate::types::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, Value};
use std::borrow::Cow;

pub use crate::trace::finished::{Caps, FinishedHead, FinishedRecord, STATUS_CALLS_CAP};

/// The first header byte.
pub const MAGIC: u8 = 0x50;
/// The layout version this core reads and writes.
pub const VERSION: u8 = 1;
/// Header flag: forget the strings numbered by earlier batches.
pub const FLAG_FRESH: u8 = 1;

/// How a batch writes times.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TimeFormat {
    /// `i64` nanoseconds since the Unix epoch (Java).
    Nanos,
    /// `f64` milliseconds since an origin, itself milliseconds since the epoch (JavaScript's
    /// `performance.timeOrigin`).
    MillisSince(f64),
}

/// Record types.
const SPAN: u8 = 1;
const STARTED: u8 = 2;

/// Span bits.
const HAS_PARENT: u8 = 1;
const PARENT_REMOTE: u8 = 2;
const HAS_TRACESTATE: u8 = 4;
const HAS_DISCARDED: u8 = 8;

/// String kinds (`tag & 7`).
const STR_REF: u32 = 0;
const STR_UTF8: u32 = 1;
const STR_UTF8_DEFINE: u32 = 2;
const STR_UTF16: u32 = 3;
const STR_UTF16_DEFINE: u32 = 4;

/// Value tags.
mod tag {
    pub const STR: u8 = 0;
    pub const INT_F64: u8 = 1;
    pub const F64: u8 = 2;
    pub const FALSE: u8 = 3;
    pub const TRUE: u8 = 4;
    pub const STR_ARRAY: u8 = 5;
    pub const INT_F64_ARRAY: u8 = 6;
    pub const F64_ARRAY: u8 = 7;
    pub const BOOL_ARRAY: u8 = 8;
    pub const I64: u8 = 9;
    pub const I64_ARRAY: u8 = 10;
}

/// The longest batch accepted (a corrupt length must not allocate gigabytes).
const MAX_BATCH: usize = 1 << 30;
/// Most strings one decoder numbers (a binding numbers far fewer).
const MAX_STRINGS: usize = 1 << 16;

#[cold]
#[inline(never)]
fn corrupt(what: &str) -> Error {
    Error::internal(format!("corrupt finished-span batch: {what}"))
}

#[cold]
#[inline(never)]
fn truncated() -> Error {
    corrupt("truncated")
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

// The readers are on the decoding thread's hot path (a handful per attribute): each is one
// bounds check inlined at its call site, with the error built out of line.
impl<'a> Reader<'a> {
    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or_else(|| corrupt("length"))?;
        let s = self.b.get(self.pos..end).ok_or_else(truncated)?;
        self.pos = end;
        Ok(s)
    }

    #[inline(always)]
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        match self
            .b
            .get(self.pos..)
            .and_then(|rest| rest.first_chunk::<N>())
        {
            Some(a) => {
                self.pos += N;
                Ok(*a)
            }
            None => Err(truncated()),
        }
    }

    #[inline(always)]
    fn u8(&mut self) -> Result<u8> {
        match self.b.get(self.pos) {
            Some(&v) => {
                self.pos += 1;
                Ok(v)
            }
            None => Err(truncated()),
        }
    }

    #[inline(always)]
    fn u32(&mut self) -> Result<u32> {
        self.array::<4>().map(u32::from_le_bytes)
    }

    #[inline(always)]
    fn f64(&mut self) -> Result<f64> {
        self.array::<8>().map(f64::from_le_bytes)
    }

    #[inline(always)]
    fn i64(&mut self) -> Result<i64> {
        self.array::<8>().map(i64::from_le_bytes)
    }

    /// A count of elements that each take at least `min` bytes: one beyond the rest is
    /// corrupt (and must not allocate).
    #[inline]
    fn count(&mut self, min: usize) -> Result<usize> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min) > self.b.len().saturating_sub(self.pos) {
            return Err(corrupt("count"));
        }
        Ok(n)
    }

    /// `u32×words`: each word the big-endian value of 4 bytes of an id.
    #[inline(always)]
    fn id<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        for chunk in out.chunks_exact_mut(4) {
            chunk.copy_from_slice(&self.u32()?.to_be_bytes());
        }
        Ok(out)
    }
}

/// Which intern table a newly numbered string goes to.
#[derive(Clone, Copy)]
enum Use {
    /// Span and event names, attribute keys: [`intern::KEYS`].
    Key,
    /// Attribute values: [`intern::VALUES`].
    Value,
    /// Free text (messages, stack traces, ids): never numbered by a well-behaved binding.
    Text,
}

/// Decodes batches of one stream (a binding with one buffer per thread uses one decoder per
/// buffer): the strings it numbered, and whether it is skipping batches after a corrupt one.
#[derive(Debug, Default)]
pub struct Decoder {
    strings: Vec<Cow<'static, str>>,
    discarding: bool,
}

/// What [`Decoder::submit`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Submitted {
    /// Span records decoded and recorded.
    pub spans: u32,
    /// Recording starts counted (`started` records).
    pub started: u64,
}

impl Decoder {
    /// A decoder with no numbered strings.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Decodes every record of `batch`, recording each span with its tracer (`tracers[n]` for
    /// tracer number `n`). A batch the decoder cannot read is an `Internal` error (never a
    /// panic): the spans before the corrupt record are recorded, the rest of the header's
    /// span count is counted in `stats().dropped_invalid`, and later batches are ignored (and
    /// counted) until one carries the `fresh` flag.
    pub fn submit(
        &mut self,
        provider: &Provider,
        tracers: &[Tracer],
        batch: &[u8],
    ) -> Result<Submitted> {
        if batch.len() > MAX_BATCH {
            return Err(corrupt("batch too large"));
        }
        let mut r = Reader { b: batch, pos: 0 };
        let (format, fresh, spans) = header(&mut r)?;
        if fresh {
            self.strings.clear();
            self.discarding = false;
        }
        if self.discarding {
            provider.count_invalid(u64::from(spans));
            return Err(corrupt(
                "a batch after a corrupt one, without the fresh flag (ignored)",
            ));
        }
        let mut done = Submitted::default();
        let read = self
            .records(&mut r, format, provider, tracers, &mut done)
            .and_then(|()| match done.spans == spans {
                true => Ok(()),
                false => Err(corrupt("fewer span records than the header says")),
            });
        match read {
            Ok(()) => Ok(done),
            Err(e) => {
                self.discarding = true;
                self.strings.clear();
                provider.count_invalid(u64::from(spans.saturating_sub(done.spans)));
                Err(e)
            }
        }
    }

    fn records(
        &mut self,
        r: &mut Reader<'_>,
        format: TimeFormat,
        provider: &Provider,
        tracers: &[Tracer],
        done: &mut Submitted,
    ) -> Result<()> {
        while r.pos < r.b.len() {
            match r.u8()? {
                SPAN => {
                    self.span(r, format, tracers)?;
                    done.spans += 1;
                }
                STARTED => {
                    let n = u64::from(r.u32()?);
                    provider.count_started(n);
                    done.started += n;
                }
                _ => return Err(corrupt("record type")),
            }
        }
        Ok(())
    }

    #[inline]
    fn time(&self, r: &mut Reader<'_>, format: TimeFormat) -> Result<UnixNanos> {
        Ok(match format {
            TimeFormat::Nanos => r.i64()?.max(0) as u64,
            TimeFormat::MillisSince(origin) => millis_to_nanos(origin, r.f64()?),
        })
    }

    /// A string: the usual case, a number of a string the intern table shares, is a lookup
    /// inlined at the call site.
    #[inline(always)]
    fn str(&mut self, r: &mut Reader<'_>, usage: Use) -> Result<Cow<'static, str>> {
        let t = r.u32()?;
        if t & 7 == STR_REF {
            if let Some(Cow::Borrowed(s)) = self.strings.get((t >> 3) as usize) {
                return Ok(Cow::Borrowed(s));
            }
        }
        self.str_rest(t, r, usage)
    }

    #[inline(never)]
    fn str_rest(&mut self, t: u32, r: &mut Reader<'_>, usage: Use) -> Result<Cow<'static, str>> {
        let n = (t >> 3) as usize;
        let text = match t & 7 {
            STR_REF => {
                return self
                    .strings
                    .get(n)
                    .cloned()
                    .ok_or_else(|| corrupt("unknown string number"))
            }
            STR_UTF8 | STR_UTF8_DEFINE => utf8(r.take(n)?),
            STR_UTF16 | STR_UTF16_DEFINE => utf16(r.take(n.checked_mul(2).ok_or_else(truncated)?)?),
            _ => return Err(corrupt("string kind")),
        };
        if t & 7 == STR_UTF8 || t & 7 == STR_UTF16 {
            return Ok(Cow::Owned(text));
        }
        if self.strings.len() >= MAX_STRINGS {
            return Err(corrupt("too many numbered strings"));
        }
        let shared = match usage {
            Use::Key => intern::KEYS.share(&text),
            Use::Value => intern::VALUES.share(&text),
            Use::Text => Cow::Owned(text),
        };
        self.strings.push(shared.clone());
        Ok(shared)
    }

    fn string(&mut self, r: &mut Reader<'_>) -> Result<String> {
        self.str(r, Use::Text).map(Cow::into_owned)
    }

    /// A value: the scalar cases inlined, arrays out of line.
    #[inline(always)]
    fn value(&mut self, r: &mut Reader<'_>) -> Result<Value> {
        Ok(match r.u8()? {
            tag::STR => Value::String(self.str(r, Use::Value)?),
            tag::INT_F64 => Value::Int(r.f64()? as i64),
            tag::F64 => Value::Double(r.f64()?),
            tag::FALSE => Value::Bool(false),
            tag::TRUE => Value::Bool(true),
            tag::I64 => Value::Int(r.i64()?),
            t => return self.array(t, r),
        })
    }

    #[inline(never)]
    fn array(&mut self, t: u8, r: &mut Reader<'_>) -> Result<Value> {
        Ok(match t {
            tag::STR_ARRAY => {
                let n = r.count(4)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(self.string(r)?);
                }
                Value::StringArray(v)
            }
            tag::INT_F64_ARRAY => {
                let n = r.count(8)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(r.f64()? as i64);
                }
                Value::IntArray(v)
            }
            tag::F64_ARRAY => {
                let n = r.count(8)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(r.f64()?);
                }
                Value::DoubleArray(v)
            }
            tag::BOOL_ARRAY => {
                let n = r.count(1)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(r.u8()? != 0);
                }
                Value::BoolArray(v)
            }
            tag::I64_ARRAY => {
                let n = r.count(8)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(r.i64()?);
                }
                Value::IntArray(v)
            }
            _ => return Err(corrupt("value tag")),
        })
    }

    /// `u32 n, attr×n`, each handed to `f`.
    #[inline]
    fn each_attribute(
        &mut self,
        r: &mut Reader<'_>,
        mut f: impl FnMut(Cow<'static, str>, Value),
    ) -> Result<()> {
        let n = r.count(5)?;
        for _ in 0..n {
            let k = self.str(r, Use::Key)?;
            let v = self.value(r)?;
            f(k, v);
        }
        Ok(())
    }

    fn attributes(&mut self, r: &mut Reader<'_>) -> Result<Vec<(Cow<'static, str>, Value)>> {
        let mut out = Vec::new();
        self.each_attribute(r, |k, v| out.push((k, v)))?;
        Ok(out)
    }

    /// One span record (after its type byte), straight into the core's queued record.
    fn span(&mut self, r: &mut Reader<'_>, format: TimeFormat, tracers: &[Tracer]) -> Result<()> {
        let kind = span_kind(r.u8()?);
        let flags = TraceFlags(r.u8()?);
        let bits = r.u8()?;
        let tracer = tracers
            .get(r.u32()? as usize)
            .ok_or_else(|| corrupt("unknown tracer"))?;
        let trace_id = TraceId(r.id::<16>()?);
        let span_id = SpanId(r.id::<8>()?);
        let parent_span_id = if bits & HAS_PARENT != 0 {
            SpanId(r.id::<8>()?)
        } else {
            SpanId::INVALID
        };
        let start_time = self.time(r, format)?;
        let end_time = self.time(r, format)?;
        let name = self.str(r, Use::Key)?;
        let trace_state = if bits & HAS_TRACESTATE != 0 {
            TraceState::parse(&self.str(r, Use::Text)?).unwrap_or_default()
        } else {
            TraceState::default()
        };
        let head = FinishedHead {
            context: SpanContext {
                trace_id,
                span_id,
                trace_flags: flags,
                trace_state,
                is_remote: false,
            },
            parent_span_id,
            parent_is_remote: bits & PARENT_REMOTE != 0,
            name,
            kind,
            start_time,
            end_time,
        };
        tracer.record_finished(head, |rec| {
            self.each_attribute(r, |k, v| rec.set_attribute(k, v))?;
            let n = r.count(10)?;
            for _ in 0..n {
                self.event(r, format, rec)?;
            }
            let n = r.count(6)?;
            for _ in 0..n {
                let link = self.link(r)?;
                rec.add_link(link);
            }
            let n = r.count(1)?;
            for _ in 0..n {
                let status = match r.u8()? {
                    0 => Status::Unset,
                    1 => Status::Ok,
                    2 => Status::Error(self.string(r)?),
                    _ => return Err(corrupt("status code")),
                };
                rec.set_status(status);
            }
            if bits & HAS_DISCARDED != 0 {
                let (a, e, l) = (r.u32()?, r.u32()?, r.u32()?);
                rec.discarded(a, e, l);
            }
            Ok(())
        })
    }

    /// `event` of the layout, added to `rec`.
    fn event(
        &mut self,
        r: &mut Reader<'_>,
        format: TimeFormat,
        rec: &mut FinishedRecord<'_>,
    ) -> Result<()> {
        let ty = r.u8()?;
        let time = Some(self.time(r, format)?);
        match ty {
            0 => {
                let name = self.str(r, Use::Key)?;
                let attributes = self.attributes(r)?;
                rec.add_event(Event {
                    name,
                    time,
                    attributes,
                });
            }
            1 => {
                let type_name = self.string(r)?;
                let message = self.string(r)?;
                let bits = r.u8()?;
                let stacktrace = if bits & 1 != 0 {
                    Some(self.string(r)?)
                } else {
                    None
                };
                let escaped = (bits & 2 != 0).then_some(bits & 4 != 0);
                let attributes = self.attributes(r)?;
                rec.record_exception(Exception {
                    type_name,
                    message,
                    stacktrace,
                    escaped,
                    attributes,
                    time,
                });
            }
            _ => return Err(corrupt("event type")),
        }
        Ok(())
    }

    /// `link` of the layout.
    fn link(&mut self, r: &mut Reader<'_>) -> Result<Link> {
        let bits = r.u8()?;
        let flags = TraceFlags(r.u8()?);
        let (trace_id, span_id) = if bits & 4 != 0 {
            let t = self.str(r, Use::Text)?;
            let s = self.str(r, Use::Text)?;
            (
                TraceId::from_hex(&t.to_ascii_lowercase()).unwrap_or(TraceId::INVALID),
                SpanId::from_hex(&s.to_ascii_lowercase()).unwrap_or(SpanId::INVALID),
            )
        } else {
            (TraceId(r.id::<16>()?), SpanId(r.id::<8>()?))
        };
        let trace_state = if bits & 1 != 0 {
            TraceState::parse(&self.str(r, Use::Text)?).unwrap_or_default()
        } else {
            TraceState::default()
        };
        Ok(Link {
            context: SpanContext {
                trace_id,
                span_id,
                trace_flags: flags,
                trace_state,
                is_remote: bits & 2 != 0,
            },
            attributes: self.attributes(r)?,
        })
    }
}

/// Reads the header: time format, `fresh`, span count.
fn header(r: &mut Reader<'_>) -> Result<(TimeFormat, bool, u32)> {
    let [magic, version, time_format, flags] = r.array::<4>()?;
    if magic != MAGIC {
        return Err(corrupt("not a finished-span batch (bad magic byte)"));
    }
    if version != VERSION {
        return Err(Error::internal(format!(
            "finished-span batch of layout version {version}: this core reads version {VERSION} (binding and core from different releases?)"
        )));
    }
    let spans = r.u32()?;
    let format = match time_format {
        0 => TimeFormat::Nanos,
        1 => TimeFormat::MillisSince(r.f64()?),
        _ => return Err(corrupt("time format")),
    };
    Ok((format, flags & FLAG_FRESH != 0, spans))
}

/// `ms` milliseconds after `origin` (milliseconds since the epoch), in nanoseconds since the
/// epoch, rounded to the nearest nanosecond. Saturating: NaN → the origin, ±∞ → the extremes.
#[inline]
fn millis_to_nanos(origin: f64, ms: f64) -> UnixNanos {
    let origin_ns = if origin.is_finite() && origin > 0.0 {
        (origin * 1e6) as u64
    } else {
        0
    };
    // Half away from zero, without a call to libm's `round`.
    let ns = ms * 1e6;
    let half = if ns < 0.0 { -0.5 } else { 0.5 };
    origin_ns.saturating_add_signed((ns + half) as i64)
}

fn span_kind(n: u8) -> SpanKind {
    match n {
        1 => SpanKind::Server,
        2 => SpanKind::Client,
        3 => SpanKind::Producer,
        4 => SpanKind::Consumer,
        _ => SpanKind::Internal,
    }
}

fn utf8(bytes: &[u8]) -> String {
    crate::text::lossy_utf8(bytes).into_owned()
}

fn utf16(bytes: &[u8]) -> String {
    crate::text::lossy_utf16(
        bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]])),
    )
}

// ------------------------------------------------------------------------------------------
// The encoder

/// A span for the [`Encoder`]: the logical record of `docs/finished-spans.md`.
#[derive(Clone, Debug, Default)]
pub struct EncodedSpan {
    /// Tracer number.
    pub tracer: u32,
    /// Context (trace state included).
    pub context: SpanContext,
    /// Parent span id and whether it is remote.
    pub parent: Option<(SpanId, bool)>,
    /// Kind.
    pub kind: SpanKind,
    /// Name.
    pub name: String,
    /// Start and end, nanoseconds since the epoch.
    pub start: UnixNanos,
    /// End.
    pub end: UnixNanos,
    /// `setAttribute` calls in order.
    pub attributes: Vec<(String, Value)>,
    /// Events and exceptions in call order.
    pub events: Vec<EncodedEvent>,
    /// Links in call order.
    pub links: Vec<Link>,
    /// `setStatus` calls in order.
    pub status_calls: Vec<Status>,
    /// Discarded attributes, events, links.
    pub discarded: Option<(u32, u32, u32)>,
}

/// An event for the [`Encoder`].
#[derive(Clone, Debug)]
pub enum EncodedEvent {
    /// `addEvent`.
    Event(Event),
    /// `recordException`.
    Exception(Exception),
}

/// Writes batches in the byte layout (time format 0, nanoseconds), numbering span names and
/// attribute keys on first use. The reference for bindings' encoders; tests use it.
#[derive(Debug, Default)]
pub struct Encoder {
    buf: Vec<u8>,
    spans: u32,
    names: std::collections::HashMap<String, u32>,
    fresh: bool,
}

impl Encoder {
    /// An encoder whose first batch carries the `fresh` flag.
    pub fn new() -> Encoder {
        Encoder {
            fresh: true,
            ..Encoder::default()
        }
    }

    fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    fn id(&mut self, bytes: &[u8]) {
        for c in bytes.chunks_exact(4) {
            self.u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
        }
    }

    /// A string: numbered on first use when `number`, else inline UTF-8.
    fn str(&mut self, s: &str, number: bool) {
        if number {
            if let Some(&n) = self.names.get(s) {
                self.u32(n << 3);
                return;
            }
            let n = self.names.len() as u32;
            self.names.insert(s.to_owned(), n);
            self.u32(((s.len() as u32) << 3) | STR_UTF8_DEFINE);
        } else {
            self.u32(((s.len() as u32) << 3) | STR_UTF8);
        }
        self.buf.extend_from_slice(s.as_bytes());
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::String(s) => {
                self.buf.push(tag::STR);
                self.str(s, false);
            }
            Value::Int(i) => {
                self.buf.push(tag::I64);
                self.buf.extend_from_slice(&i.to_le_bytes());
            }
            Value::Double(d) => {
                self.buf.push(tag::F64);
                self.buf.extend_from_slice(&d.to_le_bytes());
            }
            Value::Bool(b) => self.buf.push(if *b { tag::TRUE } else { tag::FALSE }),
            Value::StringArray(a) => {
                self.buf.push(tag::STR_ARRAY);
                self.u32(a.len() as u32);
                for s in a {
                    self.str(s, false);
                }
            }
            Value::IntArray(a) => {
                self.buf.push(tag::I64_ARRAY);
                self.u32(a.len() as u32);
                for i in a {
                    self.buf.extend_from_slice(&i.to_le_bytes());
                }
            }
            Value::DoubleArray(a) => {
                self.buf.push(tag::F64_ARRAY);
                self.u32(a.len() as u32);
                for d in a {
                    self.buf.extend_from_slice(&d.to_le_bytes());
                }
            }
            Value::BoolArray(a) => {
                self.buf.push(tag::BOOL_ARRAY);
                self.u32(a.len() as u32);
                self.buf.extend(a.iter().map(|&b| u8::from(b)));
            }
        }
    }

    fn attributes<'k>(&mut self, attrs: impl ExactSizeIterator<Item = (&'k str, &'k Value)>) {
        self.u32(attrs.len() as u32);
        for (k, v) in attrs {
            self.str(k, true);
            self.value(v);
        }
    }

    fn time(&mut self, t: UnixNanos) {
        self.buf
            .extend_from_slice(&i64::try_from(t).unwrap_or(i64::MAX).to_le_bytes());
    }

    /// Appends a `started` record.
    pub fn started(&mut self, n: u32) {
        self.buf.push(STARTED);
        self.u32(n);
    }

    /// Appends a span record.
    pub fn span(&mut self, s: &EncodedSpan) {
        let c = &s.context;
        let state = c.trace_state.header();
        let mut bits = 0;
        if let Some((_, remote)) = s.parent {
            bits |= HAS_PARENT | if remote { PARENT_REMOTE } else { 0 };
        }
        if !state.is_empty() {
            bits |= HAS_TRACESTATE;
        }
        if s.discarded.is_some() {
            bits |= HAS_DISCARDED;
        }
        self.buf
            .extend_from_slice(&[SPAN, s.kind as u8, c.trace_flags.0, bits]);
        self.u32(s.tracer);
        self.id(&c.trace_id.0);
        self.id(&c.span_id.0);
        if let Some((p, _)) = s.parent {
            self.id(&p.0);
        }
        self.time(s.start);
        self.time(s.end);
        self.str(&s.name, true);
        if !state.is_empty() {
            self.str(&state, false);
        }
        self.attributes(s.attributes.iter().map(|(k, v)| (k.as_str(), v)));
        self.u32(s.events.len() as u32);
        for e in &s.events {
            match e {
                EncodedEvent::Event(e) => {
                    self.buf.push(0);
                    self.time(e.time.unwrap_or(s.end));
                    self.str(&e.name, true);
                    self.attributes(e.attributes.iter().map(|(k, v)| (k.as_ref(), v)));
                }
                EncodedEvent::Exception(x) => {
                    self.buf.push(1);
                    self.time(x.time.unwrap_or(s.end));
                    self.str(&x.type_name, false);
                    self.str(&x.message, false);
                    let mut b = 0;
                    if x.stacktrace.is_some() {
                        b |= 1;
                    }
                    if let Some(esc) = x.escaped {
                        b |= 2 | if esc { 4 } else { 0 };
                    }
                    self.buf.push(b);
                    if let Some(st) = &x.stacktrace {
                        self.str(st, false);
                    }
                    self.attributes(x.attributes.iter().map(|(k, v)| (k.as_ref(), v)));
                }
            }
        }
        self.u32(s.links.len() as u32);
        for l in &s.links {
            let state = l.context.trace_state.header();
            let b = u8::from(!state.is_empty()) | if l.context.is_remote { 2 } else { 0 };
            self.buf.extend_from_slice(&[b, l.context.trace_flags.0]);
            self.id(&l.context.trace_id.0);
            self.id(&l.context.span_id.0);
            if !state.is_empty() {
                self.str(&state, false);
            }
            self.attributes(l.attributes.iter().map(|(k, v)| (k.as_ref(), v)));
        }
        self.u32(s.status_calls.len() as u32);
        for st in &s.status_calls {
            match st {
                Status::Unset => self.buf.push(0),
                Status::Ok => self.buf.push(1),
                Status::Error(m) => {
                    self.buf.push(2);
                    self.str(m, false);
                }
            }
        }
        if let Some((a, e, l)) = s.discarded {
            self.u32(a);
            self.u32(e);
            self.u32(l);
        }
        self.spans += 1;
    }

    /// The batch written since the last call (header first), leaving the encoder empty; the
    /// string numbers carry over to the next batch.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.buf.len());
        out.extend_from_slice(&[MAGIC, VERSION, 0, if self.fresh { FLAG_FRESH } else { 0 }]);
        out.extend_from_slice(&self.spans.to_le_bytes());
        out.append(&mut self.buf);
        self.spans = 0;
        self.fresh = false;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, OptionValue};

    fn provider(options: &[(&str, &str)]) -> (Provider, Tracer) {
        let mut opts: Vec<(String, OptionValue)> = options
            .iter()
            .map(|(k, v)| (k.to_string(), OptionValue::Str(v.to_string())))
            .collect();
        opts.push(("exporter".into(), OptionValue::Str("none".into())));
        let (config, _) = Config::resolve(&opts, &|_| None).unwrap();
        let p = Provider::from_config(config).unwrap();
        let t = p.tracer("t", None, None, vec![]);
        (p, t)
    }

    fn span(n: u8) -> EncodedSpan {
        EncodedSpan {
            context: SpanContext {
                trace_id: TraceId([n; 16]),
                span_id: SpanId([n; 8]),
                trace_flags: TraceFlags(1),
                ..Default::default()
            },
            name: "GET /x".into(),
            start: 1_000,
            end: 2_000,
            attributes: vec![("k".into(), Value::Int(1)), ("s".into(), "v".into())],
            status_calls: vec![
                Status::Error("a".into()),
                Status::Ok,
                Status::Error("b".into()),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn decodes_what_the_encoder_writes_and_numbers_strings() {
        let (p, t) = provider(&[]);
        let mut e = Encoder::new();
        e.started(2);
        e.span(&span(1));
        e.span(&span(2));
        let batch = e.finish();
        let mut d = Decoder::new();
        let done = d.submit(&p, std::slice::from_ref(&t), &batch).unwrap();
        assert_eq!(
            done,
            Submitted {
                spans: 2,
                started: 2
            }
        );
        // "GET /x", "k", "s" numbered once.
        assert_eq!(d.strings.len(), 3);
        assert!(matches!(d.strings[0], Cow::Borrowed("GET /x")));
        let s = p.stats();
        assert_eq!((s.spans_started, s.spans_ended), (2, 2));
        // A second batch refers to the numbers.
        e.span(&span(3));
        let second = e.finish();
        assert!(second.len() < batch.len() / 2);
        assert_eq!(
            d.submit(&p, std::slice::from_ref(&t), &second)
                .unwrap()
                .spans,
            1
        );
    }

    #[test]
    fn every_truncation_of_a_batch_is_an_error_and_counted() {
        let (p, t) = provider(&[]);
        let mut e = Encoder::new();
        let mut s = span(1);
        s.events.push(EncodedEvent::Exception(Exception {
            type_name: "E".into(),
            message: "boom".into(),
            stacktrace: Some("at x".into()),
            escaped: Some(true),
            ..Default::default()
        }));
        s.links.push(Link {
            context: span(2).context,
            attributes: vec![("l".into(), Value::BoolArray(vec![true]))],
        });
        s.discarded = Some((1, 2, 3));
        e.span(&s);
        let good = e.finish();
        for cut in 8..good.len() {
            let mut d = Decoder::new();
            assert!(
                d.submit(&p, std::slice::from_ref(&t), &good[..cut])
                    .is_err(),
                "cut {cut}"
            );
        }
        assert_eq!(p.stats().dropped_invalid, (good.len() - 8) as u64);
        // After a corrupt batch, batches without the fresh flag are ignored and counted.
        let mut d = Decoder::new();
        assert!(d.submit(&p, std::slice::from_ref(&t), &good[..20]).is_err());
        let mut again = good.clone();
        again[3] = 0;
        assert!(d.submit(&p, std::slice::from_ref(&t), &again).is_err());
        assert!(d.submit(&p, std::slice::from_ref(&t), &good).is_ok());
    }

    #[test]
    fn bad_headers_tracers_and_tags_are_errors_not_panics() {
        let (p, t) = provider(&[]);
        let mut d = Decoder::new();
        assert!(d.submit(&p, std::slice::from_ref(&t), &[]).is_err());
        assert!(d
            .submit(&p, std::slice::from_ref(&t), &[0x51, 1, 0, 1, 0, 0, 0, 0])
            .is_err());
        let v2 = d.submit(&p, std::slice::from_ref(&t), &[MAGIC, 2, 0, 1, 0, 0, 0, 0]);
        assert!(v2.unwrap_err().to_string().contains("version 2"));
        assert!(d
            .submit(&p, std::slice::from_ref(&t), &[MAGIC, 1, 7, 1, 0, 0, 0, 0])
            .is_err());
        // An unknown tracer.
        let mut e = Encoder::new();
        let mut s = span(1);
        s.tracer = 5;
        e.span(&s);
        assert!(d.submit(&p, std::slice::from_ref(&t), &e.finish()).is_err());
        // A count far beyond the bytes left does not allocate.
        let mut e = Encoder::new();
        e.span(&span(1));
        let mut b = e.finish();
        let attrs_at = 8 + 4 + 4 + 16 + 8 + 8 + 8 + 4 + "GET /x".len();
        b[attrs_at..attrs_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(d.submit(&p, std::slice::from_ref(&t), &b).is_err());
    }

    #[test]
    fn strings_in_utf16_and_invalid_utf8_are_replaced_not_refused() {
        assert_eq!(utf16(&[0x3d, 0xd8, 0x00, 0xde]), "😀");
        assert_eq!(utf16(&[0x3d, 0xd8, 0x41, 0x00]), "\u{fffd}A");
        assert_eq!(utf16(&[0x00, 0x00]), "\0");
        assert_eq!(utf8(&[0x61, 0xff]), "a\u{fffd}");
        assert_eq!(
            millis_to_nanos(1_700_000_000_000.0, 1.5),
            1_700_000_000_001_500_000
        );
        assert_eq!(millis_to_nanos(0.0, f64::NAN), 0);
    }
}
