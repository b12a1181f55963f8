//! Head samplers: the decision, made once per span start, whether a span is recorded and
//! whether it is exported.
//!
//! The samplers follow the trace SDK "Sampling" section of the OpenTelemetry specification:
//!
//! * `AlwaysOn` / `AlwaysOff`: constant decisions.
//! * `TraceIdRatioBased`: the consistent probability sampler of the current specification
//!   (W3C Trace Context Level 2 randomness). See [`Sampler`] for the exact algorithm.
//! * `ParentBased`: follows the parent's `sampled` flag with the specification's default
//!   delegates, and calls the root sampler only when there is no valid parent.
//! * `RateLimiting` (not in the specification, modelled on Jaeger's rate-limiting sampler):
//!   at most N new sampled traces per second per process, from a lock-free token bucket; a
//!   span with a valid parent keeps the parent's decision, so `ratelimiting` and
//!   `parentbased_ratelimiting` behave the same with the default delegates.
//! * `JaegerRemote` ([`remote`]): the strategy a Jaeger back end serves for the service
//!   (probabilistic, rate limiting, or per operation with a lower bound per second, as
//!   Jaeger's adaptive sampling computes it), fetched by a thread of the pipeline.
//!
//! Every span start calls [`Sampler::should_sample`], so it takes no lock and allocates
//! nothing; the rate limiter is a single `AtomicU64` updated with a compare-and-swap loop,
//! and the remote sampler's strategy is an atomically swapped pointer.

pub(crate) mod remote;
pub(crate) mod strategy;

use crate::config::SamplerConfig;
use crate::types::{Attribute, Key, SpanContext, SpanKind, TraceId, Value};
use remote::RemoteSampler;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// The outcome of a sampling decision, as the specification's `SamplingResult.Decision`.
///
/// The span creation code maps it onto the span: `Drop` gives a non-recording span,
/// `RecordOnly` a recording span without the `sampled` flag (seen by processors, never
/// exported), `RecordAndSample` a recording span with the `sampled` flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Not recorded and not sampled: the span is a cheap non-recording span.
    Drop,
    /// Recorded (`IsRecording == true`) but the `sampled` flag is not set, so not exported.
    RecordOnly,
    /// Recorded and the `sampled` flag is set: the span is exported.
    RecordAndSample,
}

impl Decision {
    /// Whether the span records data (`IsRecording`); true for `RecordOnly` and
    /// `RecordAndSample`.
    pub fn is_recording(self) -> bool {
        !matches!(self, Decision::Drop)
    }

    /// Whether the span gets the W3C `sampled` flag (and is therefore exported).
    pub fn is_sampled(self) -> bool {
        matches!(self, Decision::RecordAndSample)
    }
}

/// What a sampler tells the back end about a new trace it sampled: Jaeger's clients put
/// `sampler.type` and `sampler.param` on the root span, and Jaeger's adaptive sampling counts
/// only root spans tagged `probabilistic` (with the probability they were sampled at) when it
/// measures an operation's traffic. Only the remote sampler tags; the others return `None`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum SamplerTag {
    /// No tag (not a root, not sampled, or not a remote sampler).
    None,
    /// Sampled by the operation's (or the strategy's) probability.
    Probabilistic(f64),
    /// Sampled by the lower bound of a per-operation strategy; the probability the operation
    /// had at the time.
    LowerBound(f64),
    /// Sampled by a rate-limiting strategy of this many traces per second.
    RateLimiting(f64),
}

impl SamplerTag {
    /// The two attributes, or `None`.
    pub(crate) fn attributes(self) -> Option<[Attribute; 2]> {
        let (kind, param) = match self {
            SamplerTag::None => return None,
            SamplerTag::Probabilistic(p) => ("probabilistic", p),
            SamplerTag::LowerBound(p) => ("lowerbound", p),
            SamplerTag::RateLimiting(r) => ("ratelimiting", r),
        };
        Some([
            (
                Key::Borrowed("sampler.type"),
                Value::String(Cow::Borrowed(kind)),
            ),
            (Key::Borrowed("sampler.param"), Value::Double(param)),
        ])
    }
}

/// What [`Sampler::fixed_decisions`] returns: per kind of parent, the decision when it is
/// fixed, `None` when [`Sampler::should_sample`] must be asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedDecisions {
    /// No valid parent (a new trace).
    pub root: Option<Decision>,
    /// A valid parent (local or remote) with the `sampled` flag.
    pub sampled_parent: Option<Decision>,
    /// A valid parent (local or remote) without the `sampled` flag.
    pub unsampled_parent: Option<Decision>,
}

/// 2^56: the size of the randomness space (the rightmost 7 bytes of a W3C Level 2 trace id).
const RANDOMNESS_SPACE: u64 = 1 << 56;
/// Mask of the low 56 bits.
const RANDOMNESS_MASK: u64 = RANDOMNESS_SPACE - 1;
const NANOS_PER_SECOND: f64 = 1_000_000_000.0;
/// Upper bound for the rate limiter's interval and burst tolerance (about 146 years), so that
/// `now + tolerance + interval` can never overflow a `u64` of nanoseconds.
const MAX_SPAN_NANOS: u64 = 1 << 62;

/// A configured sampler: cheap to call from any thread on every span start.
///
/// Built from a [`SamplerConfig`] with [`Sampler::new`]; `Send + Sync`, share it behind an
/// `Arc` (or inside the provider) rather than building one per tracer, so that a
/// rate-limiting sampler has one budget per process.
///
/// # `TraceIdRatioBased{ratio}`
///
/// Implements the specification's consistent probability sampling algorithm:
///
/// * The ratio is clamped to `[0, 1]` (NaN counts as 0).
/// * The rejection threshold is `T = 2^56 - round(ratio × 2^56)`, an integer in
///   `[0, 2^56]` (full 56-bit precision; `ratio × 2^56` is exact in `f64`, so the only
///   rounding is the final `round`). Ratio 1 gives `T = 0`: every trace is sampled. Ratio 0
///   (or any ratio below 2^-57) gives `T = 2^56`: no trace is ever sampled.
/// * The randomness `R` is the explicit randomness value `rv` of the parent's OpenTelemetry
///   `tracestate` entry (`ot=...;rv:<14 lowercase hex digits>`) when a valid parent of the
///   same trace carries one; otherwise the rightmost 7 bytes (56 bits) of the trace id, read
///   big-endian, as W3C Trace Context Level 2 specifies them to be random.
/// * The decision is `RecordAndSample` when `R >= T`, otherwise `Drop`. The parent's
///   `sampled` flag is ignored (wrap in `ParentBased` to respect it).
///
/// Consequences: the decision is a pure function of the randomness and the ratio (the same
/// in every process and every language that implements the specification), and a trace
/// sampled at some ratio is sampled at every higher ratio. The sampler does not itself add
/// the `th` sub-key to the `tracestate` (the specification's SHOULD): it returns only a
/// [`Decision`].
///
/// # `ParentBased{root}`
///
/// With a valid parent context (both ids non-zero), the parent's `sampled` flag decides:
/// sampled → `RecordAndSample` (AlwaysOn), not sampled → `Drop` (AlwaysOff), for remote
/// and local parents alike (the specification's default delegates). With no parent, or an
/// invalid one, the `root` sampler decides.
///
/// # `RateLimiting{n}`
///
/// At most `n` sampled decisions per second per sampler (so per process, as the provider
/// owns one sampler), with a burst capacity of `max(n, 1)` decisions; the bucket starts full.
/// `n` may be fractional (0.5 means one trace every two seconds); `n <= 0` (or NaN) never
/// samples. Every call that reaches this sampler consumes budget, so configure it as the
/// root of `ParentBased` (the usual `parentbased_ratelimiting`) to count new traces only and
/// keep child spans consistent with their parent. The rate resolution is one nanosecond
/// per token (rates above 10^9/s behave as 10^9/s); the bucket is a GCRA ("virtual
/// scheduling") token bucket on the monotonic clock: one `AtomicU64` holding the
/// theoretical arrival time, advanced by a compare-and-swap loop.
pub struct Sampler {
    inner: Inner,
}

/// The sampler tree. `ParentBased` boxes its root; the box is allocated once, at
/// construction.
enum Inner {
    AlwaysOn,
    AlwaysOff,
    TraceIdRatio(RatioSampler),
    RateLimiting(RateLimiter),
    JaegerRemote(Arc<RemoteSampler>),
    ParentBased(Box<Inner>),
}

impl Sampler {
    /// Builds the sampler tree described by `cfg`. Never fails: out-of-range arguments are
    /// clamped as documented on [`Sampler`], because configuration errors are reported by
    /// the config module, and sampling must keep working whatever it is given.
    pub fn new(cfg: &SamplerConfig) -> Sampler {
        Sampler {
            inner: Inner::build(cfg, &Clock::monotonic()),
        }
    }

    /// As [`new`](Self::new), with an injected clock for the rate limiter.
    #[cfg(test)]
    fn with_clock(cfg: &SamplerConfig, clock: &Clock) -> Sampler {
        Sampler {
            inner: Inner::build(cfg, clock),
        }
    }

    /// Decides whether a span about to start is dropped, recorded, or recorded and sampled
    /// (the specification's `ShouldSample`).
    ///
    /// `parent`: the parent span context if any (local or remote); an invalid context
    /// counts as no parent. `trace_id`: the new span's trace id (the parent's when the
    /// parent is valid). `name`, `kind` and `attributes` are accepted for the
    /// specification's signature; none of the built-in samplers looks at them.
    ///
    /// Lock-free and allocation-free: safe on every span start.
    pub fn should_sample(
        &self,
        parent: Option<&SpanContext>,
        trace_id: TraceId,
        name: &str,
        kind: SpanKind,
        attributes: &[Attribute],
    ) -> Decision {
        let _ = (kind, attributes);
        self.inner.decide(parent, trace_id, name).0
    }

    /// [`should_sample`](Self::should_sample) with the tag for a new trace's root span.
    #[inline]
    pub(crate) fn decide(
        &self,
        parent: Option<&SpanContext>,
        trace_id: TraceId,
        name: &str,
    ) -> (Decision, SamplerTag) {
        self.inner.decide(parent, trace_id, name)
    }

    /// The tag of a sampled root span whose decision was made earlier, by
    /// [`Tracer::begin`](crate::api::Tracer::begin), for a host that hands the finished span
    /// over later: read from the strategy in force now (the same as at the start unless a new
    /// strategy arrived in between). `SamplerTag::None` unless the sampler is remote.
    pub(crate) fn root_tag(&self, name: &str, trace_id: TraceId) -> SamplerTag {
        match &self.inner {
            Inner::JaegerRemote(r) => r.root_tag(name, trace_id),
            Inner::ParentBased(root) => match root.as_ref() {
                Inner::JaegerRemote(r) => r.root_tag(name, trace_id),
                _ => SamplerTag::None,
            },
            _ => SamplerTag::None,
        }
    }

    /// The remote sampler, whose strategy the pipeline's poller keeps up to date.
    pub(crate) fn remote(&self) -> Option<&Arc<RemoteSampler>> {
        match &self.inner {
            Inner::JaegerRemote(r) => Some(r),
            Inner::ParentBased(root) => match root.as_ref() {
                Inner::JaegerRemote(r) => Some(r),
                _ => None,
            },
            _ => None,
        }
    }

    /// The decisions that do not depend on the trace id, the clock or anything else a caller
    /// would have to pass, per kind of parent; `None` where [`should_sample`](Self::should_sample)
    /// must be called. Bindings whose every call into Rust is expensive (napi, JNI) decide
    /// such spans on their side from this table, so the default `parentbased_always_on`
    /// needs no call at span start at all; the table is still the sampler's own answer.
    pub fn fixed_decisions(&self) -> FixedDecisions {
        FixedDecisions {
            root: self.inner.fixed(None),
            sampled_parent: self.inner.fixed(Some(true)),
            unsampled_parent: self.inner.fixed(Some(false)),
        }
    }

    /// The specification's `GetDescription`, for logs and debug pages, e.g.
    /// `ParentBased{root:TraceIdRatioBased{0.25},remoteParentSampled:AlwaysOnSampler,...}`.
    /// Ratios and rates print in Rust's shortest round-trip form, so samplers with different
    /// arguments always have different descriptions.
    pub fn description(&self) -> String {
        let mut out = String::new();
        self.inner.describe(&mut out);
        out
    }
}

impl std::fmt::Debug for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description())
    }
}

impl Inner {
    fn build(cfg: &SamplerConfig, clock: &Clock) -> Inner {
        match cfg {
            SamplerConfig::AlwaysOn => Inner::AlwaysOn,
            SamplerConfig::AlwaysOff => Inner::AlwaysOff,
            SamplerConfig::TraceIdRatio(ratio) => Inner::TraceIdRatio(RatioSampler::new(*ratio)),
            SamplerConfig::RateLimiting(per_second) => {
                Inner::RateLimiting(RateLimiter::new(*per_second, clock.clone()))
            }
            SamplerConfig::JaegerRemote(remote) => {
                Inner::JaegerRemote(Arc::new(RemoteSampler::new(remote.clone(), clock.clone())))
            }
            SamplerConfig::ParentBased(root) => {
                Inner::ParentBased(Box::new(Inner::build(root, clock)))
            }
        }
    }

    #[inline]
    fn decide(
        &self,
        parent: Option<&SpanContext>,
        trace_id: TraceId,
        name: &str,
    ) -> (Decision, SamplerTag) {
        let decision = match self {
            Inner::AlwaysOn => Decision::RecordAndSample,
            Inner::AlwaysOff => Decision::Drop,
            Inner::TraceIdRatio(ratio) => ratio.should_sample(parent, trace_id),
            Inner::RateLimiting(limiter) => match parent.filter(|p| p.is_valid()) {
                // The budget is for new traces: a span inside a trace keeps the trace's decision,
                // as Jaeger's rate-limiting sampler does, so traces are never cut in pieces.
                Some(p) if p.is_sampled() => Decision::RecordAndSample,
                Some(_) => Decision::Drop,
                None => {
                    if limiter.try_acquire() {
                        Decision::RecordAndSample
                    } else {
                        Decision::Drop
                    }
                }
            },
            Inner::JaegerRemote(remote) => return remote.decide(parent, trace_id, name),
            Inner::ParentBased(root) => match parent.filter(|p| p.is_valid()) {
                // remoteParentSampled / localParentSampled default to AlwaysOn.
                Some(p) if p.is_sampled() => Decision::RecordAndSample,
                // remoteParentNotSampled / localParentNotSampled default to AlwaysOff.
                Some(_) => Decision::Drop,
                None => return root.decide(parent, trace_id, name),
            },
        };
        (decision, SamplerTag::None)
    }

    /// See [`Sampler::fixed_decisions`]; `parent` is the parent's `sampled` flag (`None`: no
    /// valid parent).
    fn fixed(&self, parent: Option<bool>) -> Option<Decision> {
        match self {
            Inner::AlwaysOn => Some(Decision::RecordAndSample),
            Inner::AlwaysOff => Some(Decision::Drop),
            Inner::TraceIdRatio(r) if r.threshold == 0 => Some(Decision::RecordAndSample),
            Inner::TraceIdRatio(r) if r.threshold >= RANDOMNESS_SPACE => Some(Decision::Drop),
            Inner::TraceIdRatio(_) => None,
            Inner::RateLimiting(limiter) => match parent {
                Some(true) => Some(Decision::RecordAndSample),
                Some(false) => Some(Decision::Drop),
                None if !limiter.gcra.enabled => Some(Decision::Drop),
                None => None,
            },
            // The strategy changes while the process runs (and decides per operation): a
            // host must ask for every span this sampler sees.
            Inner::JaegerRemote(_) => None,
            Inner::ParentBased(root) => match parent {
                Some(true) => Some(Decision::RecordAndSample),
                Some(false) => Some(Decision::Drop),
                None => root.fixed(None),
            },
        }
    }

    fn describe(&self, out: &mut String) {
        // Writing to a String cannot fail; the results are ignored rather than unwrapped.
        match self {
            Inner::AlwaysOn => out.push_str("AlwaysOnSampler"),
            Inner::AlwaysOff => out.push_str("AlwaysOffSampler"),
            Inner::TraceIdRatio(r) => {
                let _ = write!(out, "TraceIdRatioBased{{{}}}", r.ratio);
            }
            Inner::RateLimiting(l) => {
                let _ = write!(out, "RateLimitingSampler{{{}}}", l.per_second);
            }
            Inner::JaegerRemote(r) => r.describe(out),
            Inner::ParentBased(root) => {
                out.push_str("ParentBased{root:");
                root.describe(out);
                out.push_str(
                    ",remoteParentSampled:AlwaysOnSampler,remoteParentNotSampled:AlwaysOffSampler\
                     ,localParentSampled:AlwaysOnSampler,localParentNotSampled:AlwaysOffSampler}",
                );
            }
        }
    }
}

/// `TraceIdRatioBased`: see [`Sampler`] for the algorithm.
#[derive(Clone, Copy, Debug)]
struct RatioSampler {
    /// The effective ratio, clamped to [0, 1].
    ratio: f64,
    /// Rejection threshold in [0, 2^56]; sample when randomness >= threshold.
    threshold: u64,
}

impl RatioSampler {
    fn new(ratio: f64) -> RatioSampler {
        // NaN fails both comparisons and becomes 0.
        let ratio = if ratio >= 1.0 {
            1.0
        } else if ratio > 0.0 {
            ratio
        } else {
            0.0
        };
        // Exact: multiplying by a power of two only changes the exponent. The result is in
        // [0, 2^56], so the cast is lossless.
        let kept = (ratio * RANDOMNESS_SPACE as f64).round() as u64;
        RatioSampler {
            ratio,
            threshold: RANDOMNESS_SPACE - kept.min(RANDOMNESS_SPACE),
        }
    }

    fn should_sample(&self, parent: Option<&SpanContext>, trace_id: TraceId) -> Decision {
        if randomness(parent, trace_id) >= self.threshold {
            Decision::RecordAndSample
        } else {
            Decision::Drop
        }
    }
}

/// The 56-bit randomness value of a trace: the parent's explicit `rv` when it has one for
/// this trace, else the rightmost 7 bytes of the trace id.
fn randomness(parent: Option<&SpanContext>, trace_id: TraceId) -> u64 {
    if let Some(p) = parent {
        if p.is_valid() && p.trace_id == trace_id {
            if let Some(rv) = explicit_randomness(p.trace_state.entries()) {
                return rv;
            }
        }
    }
    // The low 56 bits of the big-endian id are its rightmost 7 bytes.
    (trace_id.to_u128() as u64) & RANDOMNESS_MASK
}

/// Reads `rv` from the OpenTelemetry `tracestate` entry (`ot=k:v;rv:0123456789abcd;...`).
/// Values that are not exactly 14 lowercase hex digits are ignored, as the specification
/// requires. Allocation-free.
fn explicit_randomness(tracestate: &[(String, String)]) -> Option<u64> {
    let (_, ot) = tracestate.iter().find(|(k, _)| k == "ot")?;
    let hex = ot
        .split(';')
        .find_map(|member| member.strip_prefix("rv:"))?;
    if hex.len() != 14 {
        return None;
    }
    let mut value = 0u64;
    for c in hex.bytes() {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        value = (value << 4) | u64::from(digit);
    }
    Some(value)
}

/// The time source of the rate limiter: the monotonic clock in production, a hand-driven
/// clock in tests.
#[derive(Clone)]
enum Clock {
    /// Nanoseconds elapsed since this instant.
    Monotonic(Instant),
    /// Nanoseconds set by the test.
    #[cfg(test)]
    Manual(Arc<AtomicU64>),
}

impl Clock {
    fn monotonic() -> Clock {
        Clock::Monotonic(Instant::now())
    }

    #[inline]
    fn now_nanos(&self) -> u64 {
        match self {
            Clock::Monotonic(origin) => {
                u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
            }
            #[cfg(test)]
            Clock::Manual(nanos) => nanos.load(Ordering::Relaxed),
        }
    }
}

/// A lock-free token bucket in GCRA form: the bucket's parameters; its state is one
/// `AtomicU64` kept by the caller, so one set of parameters can drive many buckets (the remote
/// sampler keeps one per operation).
///
/// State: the theoretical arrival time `tat` (nanoseconds on the limiter's clock) of the
/// next token if the bucket were drained at exactly the configured rate. A request at `now`
/// is admitted when `max(tat, now) + interval - now <= tolerance`, and then moves `tat` to
/// `max(tat, now) + interval`. With `interval = 1/rate` and `tolerance = capacity ×
/// interval` this is exactly a token bucket of `capacity` tokens refilled at `rate`,
/// starting full (`tat = 0`). Hence after any sequence of calls the number admitted is at
/// most `capacity + rate × elapsed`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Gcra {
    /// False when the rate is not positive: never admit.
    enabled: bool,
    /// Nanoseconds per token, rounded up (so the effective rate never exceeds the configured
    /// one), in [1, MAX_SPAN_NANOS].
    interval: u64,
    /// Burst tolerance: capacity × interval, in [interval, MAX_SPAN_NANOS].
    tolerance: u64,
}

impl Gcra {
    /// A bucket of `max(per_second, 1)` tokens refilled at `per_second`.
    fn new(per_second: f64) -> Gcra {
        // NaN fails the comparison and disables the limiter.
        let enabled = per_second > 0.0;
        let (interval, tolerance) = if enabled {
            // Float-to-int casts saturate (infinity → u64::MAX), then clamp.
            let interval = ((NANOS_PER_SECOND / per_second).ceil() as u64).clamp(1, MAX_SPAN_NANOS);
            let capacity = per_second.max(1.0);
            let tolerance = ((capacity * interval as f64) as u64).clamp(interval, MAX_SPAN_NANOS);
            (interval, tolerance)
        } else {
            (MAX_SPAN_NANOS, 0)
        };
        Gcra {
            enabled,
            interval,
            tolerance,
        }
    }

    /// Takes one token from the bucket whose state is `tat`, at `now`. Lock-free: retries
    /// only when another thread changed the state in between.
    #[inline]
    fn try_acquire(&self, tat: &AtomicU64, now: u64) -> bool {
        if !self.enabled {
            return false;
        }
        // Relaxed is enough: the atomic is the only shared state, and compare-and-swap on a
        // single location is totally ordered; no other memory is published through it.
        let mut current = tat.load(Ordering::Relaxed);
        loop {
            let start = current.max(now);
            let next = start.saturating_add(self.interval);
            if next - now > self.tolerance {
                return false;
            }
            match tat.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
    }
}

/// `ratelimiting`: one [`Gcra`] bucket on the monotonic clock.
struct RateLimiter {
    /// The configured rate, for the description.
    per_second: f64,
    gcra: Gcra,
    /// Theoretical arrival time, nanoseconds since the clock's origin.
    tat: AtomicU64,
    clock: Clock,
}

impl RateLimiter {
    fn new(per_second: f64, clock: Clock) -> RateLimiter {
        RateLimiter {
            per_second,
            gcra: Gcra::new(per_second),
            tat: AtomicU64::new(0),
            clock,
        }
    }

    /// Takes one token if one is available.
    #[inline]
    fn try_acquire(&self) -> bool {
        self.gcra.enabled && self.gcra.try_acquire(&self.tat, self.clock.now_nanos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::propagation::TraceState;
    use crate::types::{SpanId, TraceFlags};
    use std::time::Duration;

    /// splitmix64: a small deterministic PRNG, so statistics tests are reproducible.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        fn trace_id(&mut self) -> TraceId {
            let hi = self.next() as u128;
            let lo = self.next() as u128;
            TraceId(((hi << 64) | lo).to_be_bytes())
        }
    }

    fn decide(s: &Sampler, parent: Option<&SpanContext>, id: TraceId) -> Decision {
        s.should_sample(parent, id, "op", SpanKind::Internal, &[])
    }

    /// A trace id whose rightmost 7 bytes are `low` and whose other bytes are `high_fill`.
    fn id_with_low56(low: u64, high_fill: u8) -> TraceId {
        let mut bytes = [high_fill; 16];
        bytes[9..].copy_from_slice(&low.to_be_bytes()[1..]);
        TraceId(bytes)
    }

    fn ctx(remote: bool, sampled: bool, valid: bool) -> SpanContext {
        SpanContext {
            trace_id: if valid {
                TraceId([7; 16])
            } else {
                TraceId::INVALID
            },
            span_id: if valid {
                SpanId([3; 8])
            } else {
                SpanId::INVALID
            },
            trace_flags: TraceFlags(if sampled { TraceFlags::SAMPLED } else { 0 }),
            trace_state: TraceState::default(),
            is_remote: remote,
        }
    }

    fn ratio(r: f64) -> Sampler {
        Sampler::new(&SamplerConfig::TraceIdRatio(r))
    }

    /// A fixed decision must be what `should_sample` answers for every trace id, every parent
    /// of that kind (local or remote) and every call (the rate limiter's budget included).
    #[test]
    fn fixed_decisions_agree_with_should_sample() {
        let configs = [
            SamplerConfig::AlwaysOn,
            SamplerConfig::AlwaysOff,
            SamplerConfig::TraceIdRatio(0.0),
            SamplerConfig::TraceIdRatio(0.5),
            SamplerConfig::TraceIdRatio(1.0),
            SamplerConfig::RateLimiting(0.0),
            SamplerConfig::RateLimiting(2.0),
            SamplerConfig::ParentBased(Box::new(SamplerConfig::AlwaysOn)),
            SamplerConfig::ParentBased(Box::new(SamplerConfig::AlwaysOff)),
            SamplerConfig::ParentBased(Box::new(SamplerConfig::TraceIdRatio(0.25))),
            SamplerConfig::ParentBased(Box::new(SamplerConfig::RateLimiting(1.0))),
        ];
        let mut rng = Rng(9);
        for cfg in &configs {
            let s = Sampler::new(cfg);
            let fixed = s.fixed_decisions();
            let cases = [
                (fixed.root, None),
                (fixed.sampled_parent, Some(true)),
                (fixed.unsampled_parent, Some(false)),
            ];
            for (want, parent) in cases {
                let Some(want) = want else { continue };
                for remote in [false, true] {
                    for _ in 0..200 {
                        let id = rng.trace_id();
                        let p = parent.map(|sampled| SpanContext {
                            trace_id: id,
                            ..ctx(remote, sampled, true)
                        });
                        assert_eq!(decide(&s, p.as_ref(), id), want, "{cfg:?} {parent:?}");
                    }
                }
            }
        }
        let pb = Sampler::new(&SamplerConfig::ParentBased(Box::new(
            SamplerConfig::AlwaysOn,
        )))
        .fixed_decisions();
        assert_eq!(
            pb,
            FixedDecisions {
                root: Some(Decision::RecordAndSample),
                sampled_parent: Some(Decision::RecordAndSample),
                unsampled_parent: Some(Decision::Drop),
            }
        );
        assert_eq!(ratio(0.5).fixed_decisions().root, None);
        let rl = Sampler::new(&SamplerConfig::RateLimiting(5.0)).fixed_decisions();
        assert_eq!(rl.root, None);
    }

    #[test]
    fn always_on_and_off() {
        let mut rng = Rng(1);
        let on = Sampler::new(&SamplerConfig::AlwaysOn);
        let off = Sampler::new(&SamplerConfig::AlwaysOff);
        let sampled_parent = ctx(true, true, true);
        for _ in 0..100 {
            let id = rng.trace_id();
            assert_eq!(decide(&on, None, id), Decision::RecordAndSample);
            assert_eq!(decide(&off, None, id), Decision::Drop);
            assert_eq!(decide(&off, Some(&sampled_parent), id), Decision::Drop);
        }
        assert_eq!(on.description(), "AlwaysOnSampler");
        assert_eq!(off.description(), "AlwaysOffSampler");
    }

    #[test]
    fn decision_helpers() {
        assert!(!Decision::Drop.is_recording() && !Decision::Drop.is_sampled());
        assert!(Decision::RecordOnly.is_recording() && !Decision::RecordOnly.is_sampled());
        assert!(Decision::RecordAndSample.is_recording() && Decision::RecordAndSample.is_sampled());
    }

    #[test]
    fn ratio_statistics_within_tolerance() {
        let mut rng = Rng(42);
        let n = 200_000u32;
        let ids: Vec<TraceId> = (0..n).map(|_| rng.trace_id()).collect();
        for r in [0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99] {
            let s = ratio(r);
            let hits = ids
                .iter()
                .filter(|id| decide(&s, None, **id) == Decision::RecordAndSample)
                .count() as f64;
            let expected = r * f64::from(n);
            let sd = (f64::from(n) * r * (1.0 - r)).sqrt();
            assert!(
                (hits - expected).abs() <= 5.0 * sd,
                "ratio {r}: {hits} sampled, expected {expected} ± {}",
                5.0 * sd
            );
        }
    }

    #[test]
    fn ratio_is_deterministic_and_monotonic() {
        let mut rng = Rng(7);
        let ratios = [0.0, 0.05, 0.2, 0.5, 0.8, 1.0];
        let samplers: Vec<Sampler> = ratios.iter().map(|r| ratio(*r)).collect();
        for _ in 0..20_000 {
            let id = rng.trace_id();
            let decisions: Vec<Decision> = samplers.iter().map(|s| decide(s, None, id)).collect();
            // Same input, same answer, from a fresh sampler too.
            for (s, r) in samplers.iter().zip(ratios) {
                assert_eq!(decide(s, None, id), decide(&ratio(r), None, id));
            }
            // Sampled at a lower ratio implies sampled at every higher ratio.
            for w in decisions.windows(2) {
                if w[0] == Decision::RecordAndSample {
                    assert_eq!(w[1], Decision::RecordAndSample);
                }
            }
        }
    }

    #[test]
    fn ratio_uses_only_the_rightmost_56_bits_with_exact_threshold() {
        let half = ratio(0.5);
        // T = 2^56 - 2^55 = 2^55.
        let t = 1u64 << 55;
        for fill in [0x00, 0x5a, 0xff] {
            assert_eq!(
                decide(&half, None, id_with_low56(t, fill)),
                Decision::RecordAndSample
            );
            assert_eq!(
                decide(&half, None, id_with_low56(t - 1, fill)),
                Decision::Drop
            );
            assert_eq!(
                decide(&half, None, id_with_low56(RANDOMNESS_MASK, fill)),
                Decision::RecordAndSample
            );
            assert_eq!(decide(&half, None, id_with_low56(0, fill)), Decision::Drop);
        }
        // 1% → threshold (1 - 0.01) × 2^56 rounded, the specification's 0xfd70a3d70a3d71.
        assert_eq!(RatioSampler::new(0.01).threshold, 0xfd70a3d70a3d71);
        assert_eq!(RatioSampler::new(0.25).threshold, 0xc0_0000_0000_0000);
    }

    #[test]
    fn ratio_boundaries() {
        let all = ratio(1.0);
        let none = ratio(0.0);
        assert_eq!(
            decide(&all, None, id_with_low56(0, 0)),
            Decision::RecordAndSample
        );
        assert_eq!(
            decide(&none, None, id_with_low56(RANDOMNESS_MASK, 0xff)),
            Decision::Drop
        );
        // Out-of-range and NaN ratios clamp.
        assert_eq!(
            decide(&ratio(7.0), None, id_with_low56(0, 0)),
            Decision::RecordAndSample
        );
        assert_eq!(
            decide(&ratio(-1.0), None, id_with_low56(RANDOMNESS_MASK, 0)),
            Decision::Drop
        );
        assert_eq!(
            decide(&ratio(f64::NAN), None, id_with_low56(RANDOMNESS_MASK, 0)),
            Decision::Drop
        );
        // The smallest valid probability, 2^-56, samples exactly the maximal randomness.
        let tiny = ratio(1.0 / RANDOMNESS_SPACE as f64);
        assert_eq!(
            decide(&tiny, None, id_with_low56(RANDOMNESS_MASK, 0)),
            Decision::RecordAndSample
        );
        assert_eq!(
            decide(&tiny, None, id_with_low56(RANDOMNESS_MASK - 1, 0)),
            Decision::Drop
        );
        assert_eq!(ratio(0.25).description(), "TraceIdRatioBased{0.25}");
        assert_eq!(ratio(0.0001).description(), "TraceIdRatioBased{0.0001}");
        assert_eq!(ratio(2.0).description(), "TraceIdRatioBased{1}");
    }

    #[test]
    fn ratio_ignores_parent_flag_but_honours_explicit_randomness() {
        let s = ratio(0.5);
        let low = id_with_low56(0, 1); // would be dropped on trace-id randomness
        let mut parent = ctx(true, false, true);
        parent.trace_id = low;
        assert_eq!(decide(&s, Some(&parent), low), Decision::Drop);
        parent.trace_flags = TraceFlags(TraceFlags::SAMPLED);
        assert_eq!(decide(&s, Some(&parent), low), Decision::Drop);

        // TraceState has no public constructor yet, so the rv lookup is tested on the entry
        // list that `randomness` reads through `TraceState::entries`.
        let state = |ot: &str| {
            vec![
                ("vendor".to_string(), "x".to_string()),
                ("ot".to_string(), ot.to_string()),
            ]
        };
        assert_eq!(
            explicit_randomness(&state("th:8;rv:ffffffffffffff")),
            Some(RANDOMNESS_MASK)
        );
        assert_eq!(
            explicit_randomness(&state("rv:00000000000001;th:c")),
            Some(1)
        );
        assert_eq!(
            explicit_randomness(&state("rv:7fffffffffffff")),
            Some(RANDOMNESS_MASK >> 1)
        );
        // Malformed rv (uppercase, wrong length, other key) is ignored.
        for bad in [
            "rv:FFFFFFFFFFFFFF",
            "rv:fffffffffffff",
            "rv:fffffffffffffff0",
            "xrv:ffffffffffffff",
            "th:0",
        ] {
            assert_eq!(explicit_randomness(&state(bad)), None, "{bad}");
        }
        // Only the `ot` entry counts.
        let other = vec![("vendor".to_string(), "rv:ffffffffffffff".to_string())];
        assert_eq!(explicit_randomness(&other), None);
        assert_eq!(explicit_randomness(&[]), None);
        // Without an rv, randomness is the rightmost 56 bits of the trace id.
        assert_eq!(randomness(Some(&parent), low), 0);
        assert_eq!(randomness(None, id_with_low56(12345, 0xff)), 12345);
    }

    #[test]
    fn parent_based_matrix() {
        let pb_off = Sampler::new(&SamplerConfig::ParentBased(Box::new(
            SamplerConfig::AlwaysOff,
        )));
        let pb_on = Sampler::new(&SamplerConfig::ParentBased(Box::new(
            SamplerConfig::AlwaysOn,
        )));
        let id = TraceId([7; 16]);
        for pb in [&pb_off, &pb_on] {
            for remote in [true, false] {
                assert_eq!(
                    decide(pb, Some(&ctx(remote, true, true)), id),
                    Decision::RecordAndSample,
                    "remote={remote} sampled"
                );
                assert_eq!(
                    decide(pb, Some(&ctx(remote, false, true)), id),
                    Decision::Drop,
                    "remote={remote} not sampled"
                );
            }
        }
        // No parent, or an invalid one (even with the sampled flag), goes to the root.
        for parent in [
            None,
            Some(ctx(true, true, false)),
            Some(ctx(false, true, false)),
        ] {
            assert_eq!(decide(&pb_off, parent.as_ref(), id), Decision::Drop);
            assert_eq!(
                decide(&pb_on, parent.as_ref(), id),
                Decision::RecordAndSample
            );
        }
        // A parent with only one valid id is invalid.
        let mut half_valid = ctx(true, true, true);
        half_valid.span_id = SpanId::INVALID;
        assert_eq!(decide(&pb_off, Some(&half_valid), id), Decision::Drop);
    }

    #[test]
    fn parent_based_with_ratio_root() {
        let pb = Sampler::new(&SamplerConfig::ParentBased(Box::new(
            SamplerConfig::TraceIdRatio(0.25),
        )));
        let dropped_id = id_with_low56(0, 9);
        assert_eq!(decide(&pb, None, dropped_id), Decision::Drop);
        let mut parent = ctx(true, true, true);
        parent.trace_id = dropped_id;
        assert_eq!(
            decide(&pb, Some(&parent), dropped_id),
            Decision::RecordAndSample
        );
        assert_eq!(
            pb.description(),
            "ParentBased{root:TraceIdRatioBased{0.25},remoteParentSampled:AlwaysOnSampler,\
             remoteParentNotSampled:AlwaysOffSampler,localParentSampled:AlwaysOnSampler,\
             localParentNotSampled:AlwaysOffSampler}"
        );
    }

    fn limiter(per_second: f64) -> (Sampler, Arc<AtomicU64>) {
        let nanos = Arc::new(AtomicU64::new(0));
        let s = Sampler::with_clock(
            &SamplerConfig::RateLimiting(per_second),
            &Clock::Manual(nanos.clone()),
        );
        (s, nanos)
    }

    fn admitted(s: &Sampler, calls: usize) -> usize {
        (0..calls)
            .filter(|_| decide(s, None, TraceId([1; 16])) == Decision::RecordAndSample)
            .count()
    }

    const SEC: u64 = 1_000_000_000;

    #[test]
    fn rate_limiter_fake_clock() {
        let (s, clock) = limiter(2.0);
        assert_eq!(admitted(&s, 10), 2, "burst = capacity = 2");
        clock.store(SEC / 2, Ordering::Relaxed);
        assert_eq!(admitted(&s, 10), 1, "one token per 500 ms");
        clock.store(SEC / 2 + SEC / 4, Ordering::Relaxed);
        assert_eq!(admitted(&s, 10), 0);
        clock.store(SEC, Ordering::Relaxed);
        assert_eq!(admitted(&s, 10), 1);
        // A long idle period refills only up to the capacity.
        clock.store(100 * SEC, Ordering::Relaxed);
        assert_eq!(admitted(&s, 10), 2);
        assert_eq!(s.description(), "RateLimitingSampler{2}");
    }

    #[test]
    fn rate_limiter_budget_is_per_trace_not_per_span() {
        let (s, _clock) = limiter(1.0);
        let root = s.should_sample(None, TraceId([1; 16]), "root", SpanKind::Server, &[]);
        assert_eq!(root, Decision::RecordAndSample);
        let parent = SpanContext {
            trace_id: TraceId([1; 16]),
            span_id: crate::types::SpanId([2; 8]),
            trace_flags: crate::types::TraceFlags(1),
            ..Default::default()
        };
        for _ in 0..10 {
            let d = s.should_sample(
                Some(&parent),
                parent.trace_id,
                "child",
                SpanKind::Internal,
                &[],
            );
            assert_eq!(
                d,
                Decision::RecordAndSample,
                "children follow the sampled root"
            );
        }
        let unsampled = SpanContext {
            trace_flags: crate::types::TraceFlags(0),
            ..parent
        };
        let d = s.should_sample(
            Some(&unsampled),
            unsampled.trace_id,
            "c",
            SpanKind::Internal,
            &[],
        );
        assert_eq!(d, Decision::Drop);
        // The one token of this second went to the root; a new trace now waits.
        assert_eq!(
            s.should_sample(None, TraceId([3; 16]), "r2", SpanKind::Server, &[]),
            Decision::Drop
        );
    }

    #[test]
    fn rate_limiter_fractional_and_disabled() {
        let (s, clock) = limiter(0.5);
        assert_eq!(admitted(&s, 5), 1, "capacity max(0.5, 1) = 1");
        clock.store(SEC, Ordering::Relaxed);
        assert_eq!(admitted(&s, 5), 0);
        clock.store(2 * SEC, Ordering::Relaxed);
        assert_eq!(admitted(&s, 5), 1);
        clock.store(3 * SEC, Ordering::Relaxed);
        assert_eq!(admitted(&s, 5), 0);

        let (s, clock) = limiter(2.5);
        assert_eq!(admitted(&s, 10), 2, "2.5 tokens: two whole ones");
        clock.store(SEC / 5, Ordering::Relaxed); // +0.5 token → 1 whole
        assert_eq!(admitted(&s, 10), 1);

        for n in [0.0, -3.0, f64::NAN] {
            let (s, clock) = limiter(n);
            assert_eq!(admitted(&s, 10), 0, "{n}");
            clock.store(1_000 * SEC, Ordering::Relaxed);
            assert_eq!(admitted(&s, 10), 0, "{n}");
        }

        // Extreme rates neither overflow nor lock up.
        let (s, clock) = limiter(1e-30);
        assert_eq!(admitted(&s, 3), 1);
        // The interval is capped at 2^62 ns (~146 years): nothing more within a century.
        clock.store(100 * 365 * 24 * 3600 * SEC, Ordering::Relaxed);
        assert_eq!(admitted(&s, 3), 0);
        let (s, _) = limiter(f64::INFINITY);
        assert_eq!(admitted(&s, 1000), 1000);
    }

    #[test]
    fn rate_limiter_as_parent_based_root_counts_only_roots() {
        let nanos = Arc::new(AtomicU64::new(0));
        let s = Sampler::with_clock(
            &SamplerConfig::ParentBased(Box::new(SamplerConfig::RateLimiting(1.0))),
            &Clock::Manual(nanos),
        );
        let id = TraceId([7; 16]);
        assert_eq!(decide(&s, None, id), Decision::RecordAndSample);
        for _ in 0..100 {
            assert_eq!(
                decide(&s, Some(&ctx(false, true, true)), id),
                Decision::RecordAndSample
            );
        }
        assert_eq!(decide(&s, None, id), Decision::Drop);
    }

    #[test]
    fn rate_limiter_threads_never_exceed_the_budget() {
        let rate = 1_000.0;
        let started = Instant::now();
        let s = Arc::new(Sampler::new(&SamplerConfig::RateLimiting(rate)));
        let run_for = Duration::from_millis(300);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let s = Arc::clone(&s);
                std::thread::spawn(move || {
                    let mut count = 0u64;
                    let until = Instant::now() + run_for;
                    while Instant::now() < until {
                        if decide(&s, None, TraceId([1; 16])) == Decision::RecordAndSample {
                            count += 1;
                        }
                    }
                    count
                })
            })
            .collect();
        let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        let elapsed = started.elapsed().as_secs_f64();
        let capacity = rate;
        let bound = capacity + rate * elapsed;
        assert!(total as f64 <= bound, "admitted {total} > {bound}");
        // And the limiter is not starving callers: at least the initial burst got through.
        assert!(total as f64 >= capacity, "admitted only {total}");
    }
}
