//! The packed batch of finished spans that JavaScript hands over in one call.
//!
//! A live span is a plain JavaScript object; `end()` appends it to a byte buffer
//! (`lib/batch.js`), and the buffer crosses into Rust once per batch, here, where each span
//! becomes a [`FinishedSpan`] for [`Tracer::record_span`]. The layout (little-endian):
//!
//! ```text
//! span   := u8 op=1, u8 kind, u8 trace_flags, u8 bits, u32 tracer,
//!           u32×4 trace id, u32×2 span id, [u32×2 parent span id if bits&1],
//!           f64 start, f64 end, str name, [str tracestate if bits&4],
//!           u8 status, [str status message if bits&8],
//!           u32 n, attr×n, u32 n, event×n, u32 n, link×n
//!           bits: 1 has parent, 2 parent is remote, 4 has tracestate, 8 has status message
//! attr   := str key, value
//! value  := u8 tag, payload: 0 str | 1 f64 integer | 2 f64 | 3 false | 4 true
//!           | 5 u32 n, str×n | 6 u32 n, f64×n (integers) | 7 u32 n, f64×n | 8 u32 n, u8×n
//! event  := u8 0, f64 time, str name, u32 n, attr×n
//!         | u8 1, f64 time, str type, str message, u8 has_stack, [str stack], u32 n, attr×n
//! link   := str trace id hex, str span id hex, u8 flags, u8 bits (1 tracestate, 2 remote),
//!           [str tracestate], u32 n, attr×n
//! str    := u32 tag; tag&3 = 0: interned string number tag>>2;
//!           1: tag>>2 UTF-8 bytes follow; 2: the same, then interned as the next number
//! time   := milliseconds since `performance.timeOrigin` (a double keeps sub-microsecond
//!           precision for months; the epoch in nanoseconds would not fit in one)
//! ```
//!
//! Interned strings (span names, attribute keys, short repeated values) cross once per
//! provider. Up to [`LEAK_BUDGET`] bytes of them per process are leaked into `&'static str`
//! so the core takes them without a copy; past the budget they are kept as owned strings.

use polytrace_core::propagation::TraceState;
use polytrace_core::{
    Error, Event, Exception, FinishedHead, Link, Result, SpanContext, SpanId, Status, TraceFlags,
    TraceId, Tracer, Value,
};
use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes of interned strings leaked per process, at most.
pub const LEAK_BUDGET: usize = 8 << 20;
static LEAKED: AtomicUsize = AtomicUsize::new(0);

/// The longest batch or string accepted (a corrupt length must not allocate gigabytes).
const MAX_LEN: usize = 1 << 30;

/// Per-provider decoding state: the interned strings, in the order JavaScript numbered them.
pub struct Decoder {
    /// After a corrupt batch: batches are skipped until JavaScript sends a fresh one.
    pub discarding: bool,
    strings: Vec<Cow<'static, str>>,
    /// Nanoseconds since the epoch of JavaScript's `performance.timeOrigin` (rounded once; the
    /// offsets added to it keep nanosecond precision).
    origin_ns: u64,
}

#[cold]
#[inline(never)]
fn corrupt(what: &str) -> Error {
    Error::internal(format!("corrupt span batch: {what}"))
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

// The readers are on the decoder thread's hot path (a handful per attribute): each is one
// bounds check inlined at its call site, with the error built out of line.
impl<'a> Reader<'a> {
    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or_else(|| corrupt("length"))?;
        let s = self.b.get(self.pos..end).ok_or_else(truncated)?;
        self.pos = end;
        Ok(s)
    }
    /// The next `N` bytes.
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
    fn count(&mut self) -> Result<usize> {
        let n = self.u32()? as usize;
        // Every element takes at least one byte: a count beyond the rest is corrupt.
        if n > self.b.len().saturating_sub(self.pos) {
            return Err(corrupt("count"));
        }
        Ok(n)
    }
}

fn utf8(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// A string kept for the process when the budget allows, else owned.
fn intern(s: String) -> Cow<'static, str> {
    let n = s.len();
    if LEAKED.fetch_add(n, Ordering::Relaxed) + n <= LEAK_BUDGET {
        Cow::Borrowed(Box::leak(s.into_boxed_str()))
    } else {
        LEAKED.fetch_sub(n, Ordering::Relaxed);
        Cow::Owned(s)
    }
}

impl Decoder {
    /// A decoder for times relative to `time_origin_ms` (JavaScript's `performance.timeOrigin`).
    pub fn new(time_origin_ms: f64) -> Decoder {
        Decoder {
            discarding: false,
            strings: Vec::new(),
            origin_ns: if time_origin_ms.is_finite() && time_origin_ms > 0.0 {
                (time_origin_ms * 1e6) as u64
            } else {
                0
            },
        }
    }

    /// Forgets the interned strings (after a corrupt batch, JavaScript starts numbering again).
    pub fn reset(&mut self) {
        self.strings.clear();
    }

    #[inline]
    fn time(&self, ms: f64) -> u64 {
        // Rounded to the nearest nanosecond, half away from zero, without a call to libm's
        // `round` (not inlined for the baseline x86-64 target). Saturating casts: NaN → 0,
        // ±∞ → the extremes.
        let ns = ms * 1e6;
        let half = if ns < 0.0 { -0.5 } else { 0.5 };
        self.origin_ns.saturating_add_signed((ns + half) as i64)
    }

    /// A string (see the layout): the usual case, a number of an interned string kept for the
    /// process, is a lookup inlined at the call site.
    #[inline(always)]
    fn str(&mut self, r: &mut Reader<'_>) -> Result<Cow<'static, str>> {
        let tag = r.u32()?;
        if tag & 3 == 0 {
            if let Some(Cow::Borrowed(s)) = self.strings.get((tag >> 2) as usize) {
                return Ok(Cow::Borrowed(s));
            }
        }
        self.str_rest(tag, r)
    }

    #[inline(never)]
    fn str_rest(&mut self, tag: u32, r: &mut Reader<'_>) -> Result<Cow<'static, str>> {
        let n = (tag >> 2) as usize;
        match tag & 3 {
            0 => self
                .strings
                .get(n)
                .cloned()
                .ok_or_else(|| corrupt("unknown string number")),
            1 => Ok(Cow::Owned(utf8(r.take(n)?))),
            2 => {
                let s = intern(utf8(r.take(n)?));
                self.strings.push(s.clone());
                Ok(s)
            }
            _ => Err(corrupt("string tag")),
        }
    }

    fn string(&mut self, r: &mut Reader<'_>) -> Result<String> {
        self.str(r).map(Cow::into_owned)
    }

    /// A value: the scalar cases inlined, arrays out of line.
    #[inline(always)]
    fn value(&mut self, r: &mut Reader<'_>) -> Result<Value> {
        Ok(match r.u8()? {
            0 => Value::String(self.str(r)?),
            1 => Value::Int(r.f64()? as i64),
            2 => Value::Double(r.f64()?),
            3 => Value::Bool(false),
            4 => Value::Bool(true),
            tag => return self.array(tag, r),
        })
    }

    #[inline(never)]
    fn array(&mut self, tag: u8, r: &mut Reader<'_>) -> Result<Value> {
        Ok(match tag {
            5 => {
                let n = r.count()?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(self.string(r)?);
                }
                Value::StringArray(v)
            }
            6 => {
                let n = r.count()?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(r.f64()? as i64);
                }
                Value::IntArray(v)
            }
            7 => {
                let n = r.count()?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(r.f64()?);
                }
                Value::DoubleArray(v)
            }
            8 => {
                let n = r.count()?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(r.u8()? != 0);
                }
                Value::BoolArray(v)
            }
            _ => return Err(corrupt("value tag")),
        })
    }

    fn attributes(&mut self, r: &mut Reader<'_>) -> Result<Vec<(Cow<'static, str>, Value)>> {
        let mut out = Vec::new();
        self.each_attribute(r, |k, v| out.push((k, v)))?;
        Ok(out)
    }

    /// Reads `u32 n, attr×n`, handing each attribute to `f`.
    #[inline]
    fn each_attribute(
        &mut self,
        r: &mut Reader<'_>,
        mut f: impl FnMut(Cow<'static, str>, Value),
    ) -> Result<()> {
        let n = r.count()?;
        for _ in 0..n {
            let k = self.str(r)?;
            let v = self.value(r)?;
            f(k, v);
        }
        Ok(())
    }

    fn context_hex(&mut self, r: &mut Reader<'_>) -> Result<SpanContext> {
        let trace = self.str(r)?;
        let span = self.str(r)?;
        let flags = r.u8()?;
        let bits = r.u8()?;
        let trace_state = if bits & 1 != 0 {
            TraceState::parse(&self.str(r)?).unwrap_or_default()
        } else {
            TraceState::default()
        };
        Ok(SpanContext {
            trace_id: TraceId::from_hex(&trace).unwrap_or(TraceId::INVALID),
            span_id: SpanId::from_hex(&span).unwrap_or(SpanId::INVALID),
            trace_flags: TraceFlags(flags),
            trace_state,
            is_remote: bits & 2 != 0,
        })
    }

    /// Decodes every span of `buf` and records it with its tracer. Returns the number of spans.
    pub fn submit(&mut self, buf: &[u8], tracers: &[Tracer]) -> Result<usize> {
        if buf.len() > MAX_LEN {
            return Err(corrupt("batch too large"));
        }
        let mut r = Reader { b: buf, pos: 0 };
        let mut n = 0;
        while r.pos < buf.len() {
            match r.u8()? {
                1 => {
                    self.span(&mut r, tracers)?;
                    n += 1;
                }
                _ => return Err(corrupt("record type")),
            }
        }
        Ok(n)
    }

    /// Decodes one span (after its record type) straight into the core's queued record.
    fn span(&mut self, r: &mut Reader<'_>, tracers: &[Tracer]) -> Result<()> {
        let kind = crate::convert::kind(u32::from(r.u8()?));
        let flags = TraceFlags(r.u8()?);
        let bits = r.u8()?;
        let tracer = tracers
            .get(r.u32()? as usize)
            .ok_or_else(|| corrupt("unknown tracer"))?;
        let mut t = [0u8; 16];
        for i in 0..4 {
            t[i * 4..i * 4 + 4].copy_from_slice(&r.u32()?.to_be_bytes());
        }
        let mut s = [0u8; 8];
        s[..4].copy_from_slice(&r.u32()?.to_be_bytes());
        s[4..].copy_from_slice(&r.u32()?.to_be_bytes());
        let parent_span_id = if bits & 1 != 0 {
            let mut p = [0u8; 8];
            p[..4].copy_from_slice(&r.u32()?.to_be_bytes());
            p[4..].copy_from_slice(&r.u32()?.to_be_bytes());
            SpanId(p)
        } else {
            SpanId::INVALID
        };
        let start_time = self.time(r.f64()?);
        let end_time = self.time(r.f64()?);
        let name = self.str(r)?;
        let trace_state = if bits & 4 != 0 {
            TraceState::parse(&self.str(r)?).unwrap_or_default()
        } else {
            TraceState::default()
        };
        let status = match r.u8()? {
            1 => Status::Ok,
            2 => Status::Error(if bits & 8 != 0 {
                self.string(r)?
            } else {
                String::new()
            }),
            _ => Status::Unset,
        };
        let head = FinishedHead {
            context: SpanContext {
                trace_id: TraceId(t),
                span_id: SpanId(s),
                trace_flags: flags,
                trace_state,
                is_remote: false,
            },
            parent_span_id,
            parent_is_remote: bits & 2 != 0,
            name,
            kind,
            start_time,
            end_time,
            status,
        };
        tracer.record_finished(head, |rec| {
            self.each_attribute(r, |k, v| rec.set_attribute(k, v))?;
            let n = r.count()?;
            for _ in 0..n {
                let event = self.event(r)?;
                rec.add_event(event);
            }
            let n = r.count()?;
            for _ in 0..n {
                let context = self.context_hex(r)?;
                let attributes = self.attributes(r)?;
                rec.add_link(Link {
                    context,
                    attributes,
                });
            }
            Ok(())
        })
    }

    /// `event` of the layout.
    fn event(&mut self, r: &mut Reader<'_>) -> Result<Event> {
        let ty = r.u8()?;
        let time = Some(self.time(r.f64()?));
        Ok(match ty {
            0 => {
                let name = self.str(r)?;
                Event {
                    name,
                    time,
                    attributes: self.attributes(r)?,
                }
            }
            1 => {
                let type_name = self.string(r)?;
                let message = self.string(r)?;
                let stacktrace = if r.u8()? != 0 {
                    Some(self.string(r)?)
                } else {
                    None
                };
                Exception {
                    type_name,
                    message,
                    stacktrace,
                    escaped: None,
                    attributes: self.attributes(r)?,
                    time,
                }
                .into_event()
            }
            _ => return Err(corrupt("event type")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polytrace_core::config::{Config, OptionValue};
    use polytrace_core::Provider;

    /// A hand-encoded batch in the layout of the module docs (what lib/batch.js writes).
    struct Enc(Vec<u8>);
    impl Enc {
        fn u8(&mut self, v: u8) -> &mut Self {
            self.0.push(v);
            self
        }
        fn u32(&mut self, v: u32) -> &mut Self {
            self.0.extend_from_slice(&v.to_le_bytes());
            self
        }
        fn f64(&mut self, v: f64) -> &mut Self {
            self.0.extend_from_slice(&v.to_le_bytes());
            self
        }
        fn inline(&mut self, s: &str, define: bool) -> &mut Self {
            self.u32(((s.len() as u32) << 2) | if define { 2 } else { 1 });
            self.0.extend_from_slice(s.as_bytes());
            self
        }
        fn span(&mut self, name_ref: Option<u32>, attrs: usize) -> &mut Self {
            self.u8(1).u8(2).u8(3).u8(1).u32(0);
            for w in [1u32, 2, 3, 4, 5, 6, 7, 8] {
                self.u32(w);
            }
            self.f64(1.0).f64(2.5);
            match name_ref {
                Some(id) => self.u32(id << 2),
                None => self.inline("GET /x", true),
            };
            self.u8(2).u32(attrs as u32);
            for i in 0..attrs {
                self.inline("k", false);
                self.u8(1).f64(i as f64);
            }
            self.u32(1)
                .u8(1)
                .f64(2.0)
                .inline("E", false)
                .inline("boom", false)
                .u8(0)
                .u32(0);
            self.u32(0)
        }
    }

    fn tracer() -> (Provider, Tracer) {
        let opts = vec![("exporter".to_string(), OptionValue::Str("none".into()))];
        let (config, _) = Config::resolve(&opts, &|_| None).unwrap();
        let p = Provider::from_config(config).unwrap();
        let t = p.tracer("t", None, None, vec![]);
        (p, t)
    }

    #[test]
    fn decodes_spans_and_interned_strings() {
        let (p, t) = tracer();
        let mut d = Decoder::new(1_700_000_000_000.0);
        let mut e = Enc(Vec::new());
        e.span(None, 2).span(Some(0), 0);
        assert_eq!(d.submit(&e.0, std::slice::from_ref(&t)).unwrap(), 2);
        assert_eq!(d.strings, vec![Cow::Borrowed("GET /x")]);
        assert_eq!(d.time(1.5), 1_700_000_000_001_500_000);
        assert_eq!(p.stats().spans_ended, 2);
    }

    #[test]
    fn corrupt_batches_are_errors_not_panics() {
        let (_p, t) = tracer();
        let mut e = Enc(Vec::new());
        e.span(None, 3);
        let good = e.0.clone();
        for cut in 0..good.len() {
            let mut d = Decoder::new(0.0);
            assert!(d.submit(&good[..cut], std::slice::from_ref(&t)).is_ok() == (cut == 0));
        }
        let mut d = Decoder::new(0.0);
        // An unknown string number, an unknown tracer, a bad record type.
        let mut bad = Enc(Vec::new());
        bad.span(Some(7), 0);
        assert!(d.submit(&bad.0, std::slice::from_ref(&t)).is_err());
        assert!(d.submit(&good, &[]).is_err());
        assert!(d.submit(&[9], std::slice::from_ref(&t)).is_err());
        // A huge count does not allocate.
        let mut huge = Enc(Vec::new());
        huge.u8(1).u8(0).u8(1).u8(0).u32(0);
        for _ in 0..8 {
            huge.u32(1);
        }
        huge.f64(0.0)
            .f64(0.0)
            .inline("n", false)
            .u8(0)
            .u32(u32::MAX);
        assert!(d.submit(&huge.0, std::slice::from_ref(&t)).is_err());
    }
}
