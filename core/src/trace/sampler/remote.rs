//! `jaeger_remote`: the sampling strategy a Jaeger back end serves for this service, applied
//! on every span start without a lock.
//!
//! The strategy in force is an immutable [`Snapshot`] behind an atomically swapped pointer
//! (`arc_swap`): a span start loads it (no lock, no allocation, no reference count touched
//! in the common case), the pipeline's poller thread builds a new one when the back end's
//! answer changes and swaps it in. Until the first answer, the snapshot is the initial
//! probability (`initialSamplingRate`).
//!
//! The strategies, with Jaeger's semantics (as its clients and the OpenTelemetry Go
//! contrib sampler implement them):
//!
//! * probabilistic: the consistent `TraceIdRatioBased` decision at the probability;
//! * rate limiting: at most N new traces per second (a token bucket; spans with a parent
//!   keep its decision);
//! * per operation ("guaranteed throughput"): the operation's probability (the default one
//!   for operations not listed), and when that does not sample a new trace, a token bucket
//!   of the lower bound per second per operation does, so every operation gets at least one
//!   trace every `1 / lower bound` seconds however small its probability. A trace sampled
//!   by the probability also takes a token, so the bucket only adds traces when the
//!   probability gives fewer than the lower bound. Span name = operation.
//!
//! The buckets' state lives in a fixed table keyed by a hash of the operation name
//! ([`LIMITER_SLOTS`] slots, claimed with a compare-and-swap the first time an operation is
//! seen), outside the snapshots: a new strategy does not refill them, and memory stays
//! bounded whatever span names a program makes (once the table is full, new operations get
//! their probability without a lower bound, as Jaeger's clients cap operations at 2,000).
//!
//! A sampled root span carries `sampler.type` / `sampler.param` ([`SamplerTag`]), which is
//! what Jaeger's adaptive sampling counts.
//!
//! Spans with a valid parent: `parentbased_jaeger_remote` follows the parent's flag (the
//! usual configuration); plain `jaeger_remote` decides them by the operation's probability
//! on the trace's randomness, which keeps them with their root whenever the probabilities
//! agree, and never spends lower-bound or rate-limit budget on them.

use super::strategy::{PerOperation, Strategy};
use super::{Clock, Decision, Gcra, RatioSampler, SamplerTag};
use crate::config::JaegerRemoteConfig;
use crate::types::{SpanContext, TraceId};
use arc_swap::ArcSwap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// Slots of the per-operation lower-bound table (a power of two; 64 KiB).
const LIMITER_SLOTS: usize = 4096;
/// Slots probed before an operation is given no lower bound (the table is that full around
/// it).
const MAX_PROBES: usize = 32;

/// The remote sampler: the strategy in force and the lower-bound buckets.
pub(crate) struct RemoteSampler {
    config: JaegerRemoteConfig,
    current: ArcSwap<Snapshot>,
    /// Per-operation lower-bound buckets, by operation hash.
    limiters: Box<[Slot]>,
    /// The rate-limiting strategy's bucket.
    rate_tat: AtomicU64,
    clock: Clock,
}

/// One operation's lower-bound bucket: `key` is the operation's hash (0 = free).
#[derive(Default)]
struct Slot {
    key: AtomicU64,
    tat: AtomicU64,
}

/// A strategy ready for the hot path.
struct Snapshot {
    /// What the back end sent; `None` while the initial probability is in force.
    strategy: Option<Strategy>,
    plan: Plan,
}

enum Plan {
    Probabilistic(RatioSampler),
    RateLimiting {
        per_second: f64,
        gcra: Gcra,
    },
    PerOperation {
        default: RatioSampler,
        /// `None` when the lower bound is 0.
        lower_bound: Option<Gcra>,
        operations: OpTable,
    },
}

impl RemoteSampler {
    pub(super) fn new(config: JaegerRemoteConfig, clock: Clock) -> RemoteSampler {
        let initial = Snapshot {
            strategy: None,
            plan: Plan::Probabilistic(RatioSampler::new(config.initial_sampling_rate)),
        };
        RemoteSampler {
            config,
            current: ArcSwap::from_pointee(initial),
            limiters: (0..LIMITER_SLOTS).map(|_| Slot::default()).collect(),
            rate_tat: AtomicU64::new(0),
            clock,
        }
    }

    /// The configured endpoint, interval and initial probability.
    pub(crate) fn config(&self) -> &JaegerRemoteConfig {
        &self.config
    }

    /// Puts `strategy` in force. Returns false (and changes nothing) when it is the one in
    /// force already, so an unchanged answer costs the hot path nothing.
    pub(crate) fn update(&self, strategy: Strategy) -> bool {
        if self.current.load().strategy.as_ref() == Some(&strategy) {
            return false;
        }
        let plan = match &strategy {
            Strategy::Probabilistic(p) => Plan::Probabilistic(RatioSampler::new(*p)),
            Strategy::RateLimiting(r) => Plan::RateLimiting {
                per_second: *r,
                gcra: Gcra::new(*r),
            },
            Strategy::PerOperation(PerOperation {
                default_rate,
                lower_bound,
                operations,
            }) => Plan::PerOperation {
                default: RatioSampler::new(*default_rate),
                lower_bound: Some(Gcra::new(*lower_bound)).filter(|g| g.enabled),
                operations: OpTable::new(operations),
            },
        };
        self.current.store(Arc::new(Snapshot {
            strategy: Some(strategy),
            plan,
        }));
        true
    }

    /// The strategy in force (`None`: still the initial probability).
    #[cfg(test)]
    pub(crate) fn strategy(&self) -> Option<Strategy> {
        self.current.load().strategy.clone()
    }

    /// The decision for a span starting now, and the tag of a sampled new trace.
    #[inline]
    pub(super) fn decide(
        &self,
        parent: Option<&SpanContext>,
        trace_id: TraceId,
        name: &str,
    ) -> (Decision, SamplerTag) {
        let parent = parent.filter(|p| p.is_valid());
        let snapshot = self.current.load();
        let sample = |yes: bool, tag: SamplerTag| {
            if yes {
                (Decision::RecordAndSample, tag)
            } else {
                (Decision::Drop, SamplerTag::None)
            }
        };
        match &snapshot.plan {
            Plan::Probabilistic(ratio) => sample(
                ratio.should_sample(parent, trace_id).is_sampled(),
                root_tag(parent, SamplerTag::Probabilistic(ratio.ratio)),
            ),
            Plan::RateLimiting { per_second, gcra } => match parent {
                Some(p) => sample(p.is_sampled(), SamplerTag::None),
                None => sample(
                    gcra.try_acquire(&self.rate_tat, self.clock.now_nanos()),
                    SamplerTag::RateLimiting(*per_second),
                ),
            },
            Plan::PerOperation {
                default,
                lower_bound,
                operations,
            } => {
                let hash = op_hash(name);
                let ratio = operations.get(hash, name).unwrap_or(default);
                let sampled = ratio.should_sample(parent, trace_id).is_sampled();
                if parent.is_some() {
                    return sample(sampled, SamplerTag::None);
                }
                let bucket = lower_bound
                    .as_ref()
                    .and_then(|gcra| self.slot(hash).map(|slot| (gcra, slot)));
                if sampled {
                    // The probability's traces count towards the lower bound.
                    if let Some((gcra, slot)) = bucket {
                        gcra.try_acquire(&slot.tat, self.clock.now_nanos());
                    }
                    return (
                        Decision::RecordAndSample,
                        SamplerTag::Probabilistic(ratio.ratio),
                    );
                }
                match bucket {
                    Some((gcra, slot)) if gcra.try_acquire(&slot.tat, self.clock.now_nanos()) => (
                        Decision::RecordAndSample,
                        SamplerTag::LowerBound(ratio.ratio),
                    ),
                    _ => (Decision::Drop, SamplerTag::None),
                }
            }
        }
    }

    /// The tag of a sampled root span decided earlier (see `Sampler::root_tag`).
    pub(super) fn root_tag(&self, name: &str, trace_id: TraceId) -> SamplerTag {
        match &self.current.load().plan {
            Plan::Probabilistic(ratio) => SamplerTag::Probabilistic(ratio.ratio),
            Plan::RateLimiting { per_second, .. } => SamplerTag::RateLimiting(*per_second),
            Plan::PerOperation {
                default,
                operations,
                ..
            } => {
                let ratio = operations.get(op_hash(name), name).unwrap_or(default);
                if ratio.should_sample(None, trace_id).is_sampled() {
                    SamplerTag::Probabilistic(ratio.ratio)
                } else {
                    SamplerTag::LowerBound(ratio.ratio)
                }
            }
        }
    }

    /// The lower-bound bucket of the operation with this hash, claimed on first use; `None`
    /// when the table is full around it.
    fn slot(&self, hash: u64) -> Option<&Slot> {
        let mask = LIMITER_SLOTS - 1;
        // The low bits of a well-mixed hash pick the first slot; truncation is the intent.
        let mut i = hash as usize & mask;
        for _ in 0..MAX_PROBES {
            let slot = &self.limiters[i];
            match slot.key.load(Relaxed) {
                k if k == hash => return Some(slot),
                0 => match slot.key.compare_exchange(0, hash, Relaxed, Relaxed) {
                    Ok(_) => return Some(slot),
                    Err(k) if k == hash => return Some(slot),
                    Err(_) => {}
                },
                _ => {}
            }
            i = (i + 1) & mask;
        }
        None
    }

    pub(super) fn describe(&self, out: &mut String) {
        let _ = write!(out, "JaegerRemoteSampler{{{}}}", self.config.to_arg());
    }
}

/// The tag for a root span (no tag for a span with a parent).
fn root_tag(parent: Option<&SpanContext>, tag: SamplerTag) -> SamplerTag {
    if parent.is_some() {
        SamplerTag::None
    } else {
        tag
    }
}

/// The listed operations: open addressing on the operation hash, built once per strategy.
struct OpTable {
    /// (hash, name, probability); hash 0 marks an empty slot. Empty when no operation is
    /// listed.
    slots: Box<[(u64, Box<str>, RatioSampler)]>,
}

impl OpTable {
    fn new(operations: &[(String, f64)]) -> OpTable {
        if operations.is_empty() {
            return OpTable {
                slots: Box::new([]),
            };
        }
        let capacity = (operations.len() * 2).next_power_of_two();
        let mut slots: Vec<(u64, Box<str>, RatioSampler)> = (0..capacity)
            .map(|_| (0, Box::from(""), RatioSampler::new(0.0)))
            .collect();
        for (name, p) in operations {
            let hash = op_hash(name);
            let mut i = hash as usize & (capacity - 1);
            while slots[i].0 != 0 {
                i = (i + 1) & (capacity - 1);
            }
            slots[i] = (hash, name.as_str().into(), RatioSampler::new(*p));
        }
        OpTable {
            slots: slots.into_boxed_slice(),
        }
    }

    #[inline]
    fn get(&self, hash: u64, name: &str) -> Option<&RatioSampler> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut i = hash as usize & mask;
        // At most half full: an empty slot ends every probe.
        loop {
            let (h, n, ratio) = &self.slots[i];
            if *h == 0 {
                return None;
            }
            if *h == hash && **n == *name {
                return Some(ratio);
            }
            i = (i + 1) & mask;
        }
    }
}

/// A 64-bit hash of an operation name, never 0: eight bytes at a time, each word folded in
/// with a multiply, then a final avalanche (splitmix64's), so that the low bits that pick a
/// slot depend on every byte.
#[inline]
fn op_hash(name: &str) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes = name.as_bytes();
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ w).wrapping_mul(K).rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(last))
            .wrapping_mul(K)
            .rotate_left(29);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    h.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{SpanId, TraceFlags};
    use std::time::Duration;

    const SEC: u64 = 1_000_000_000;

    fn sampler() -> (RemoteSampler, Arc<AtomicU64>) {
        let nanos = Arc::new(AtomicU64::new(SEC));
        let config = JaegerRemoteConfig {
            initial_sampling_rate: 0.5,
            polling_interval: Duration::from_secs(1),
            ..Default::default()
        };
        (
            RemoteSampler::new(config, Clock::Manual(nanos.clone())),
            nanos,
        )
    }

    /// A trace id whose randomness (low 56 bits) is `r`.
    fn id(r: u64) -> TraceId {
        let mut b = [0x11u8; 16];
        b[8..].copy_from_slice(&r.to_be_bytes());
        TraceId(b)
    }
    const HIGH: u64 = (1 << 56) - 1; // sampled at any probability > 0
    const LOW: u64 = 1; // sampled only at probability 1

    fn decide(s: &RemoteSampler, r: u64, name: &str) -> (Decision, SamplerTag) {
        s.decide(None, id(r), name)
    }

    fn parent(sampled: bool, r: u64) -> SpanContext {
        SpanContext {
            trace_id: id(r),
            span_id: SpanId([1; 8]),
            trace_flags: TraceFlags(u8::from(sampled)),
            ..Default::default()
        }
    }

    fn per_op(default_rate: f64, lower_bound: f64, ops: &[(&str, f64)]) -> Strategy {
        Strategy::PerOperation(PerOperation {
            default_rate,
            lower_bound,
            operations: ops.iter().map(|(n, p)| (n.to_string(), *p)).collect(),
        })
    }

    #[test]
    fn initial_rate_until_the_first_strategy() {
        let (s, _) = sampler();
        assert_eq!(s.strategy(), None);
        assert_eq!(
            decide(&s, HIGH, "a"),
            (Decision::RecordAndSample, SamplerTag::Probabilistic(0.5))
        );
        assert_eq!(decide(&s, LOW, "a"), (Decision::Drop, SamplerTag::None));
        let mut out = String::new();
        s.describe(&mut out);
        assert_eq!(
            out,
            "JaegerRemoteSampler{endpoint=http://localhost:14250,pollingIntervalMs=1000,initialSamplingRate=0.5}"
        );
    }

    #[test]
    fn probabilistic_and_rate_limiting_strategies() {
        let (s, clock) = sampler();
        assert!(s.update(Strategy::Probabilistic(1.0)));
        assert!(
            !s.update(Strategy::Probabilistic(1.0)),
            "unchanged: no swap"
        );
        assert_eq!(
            decide(&s, LOW, "a"),
            (Decision::RecordAndSample, SamplerTag::Probabilistic(1.0))
        );
        // Children get no tag.
        assert_eq!(
            s.decide(Some(&parent(false, LOW)), id(LOW), "c"),
            (Decision::RecordAndSample, SamplerTag::None)
        );

        assert!(s.update(Strategy::RateLimiting(2.0)));
        let admitted = (0..10)
            .filter(|_| decide(&s, HIGH, "a").0 == Decision::RecordAndSample)
            .count();
        assert_eq!(admitted, 2, "a bucket of 2");
        clock.fetch_add(SEC / 2, Relaxed);
        assert_eq!(
            decide(&s, HIGH, "a"),
            (Decision::RecordAndSample, SamplerTag::RateLimiting(2.0))
        );
        assert_eq!(decide(&s, HIGH, "a"), (Decision::Drop, SamplerTag::None));
        // Spans with a parent keep its decision and spend no budget.
        for _ in 0..5 {
            assert_eq!(
                s.decide(Some(&parent(true, LOW)), id(LOW), "c").0,
                Decision::RecordAndSample
            );
            assert_eq!(
                s.decide(Some(&parent(false, HIGH)), id(HIGH), "c").0,
                Decision::Drop
            );
        }
        assert_eq!(s.strategy(), Some(Strategy::RateLimiting(2.0)));
    }

    #[test]
    fn per_operation_probabilities_default_and_lower_bound() {
        let (s, clock) = sampler();
        // busy: 0 probability, quiet: 1; others: the default 0; lower bound one per 10 s.
        s.update(per_op(0.0, 0.1, &[("busy", 0.0), ("quiet", 1.0)]));
        // The quiet operation is sampled by its probability, every time.
        for _ in 0..100 {
            assert_eq!(
                decide(&s, LOW, "quiet"),
                (Decision::RecordAndSample, SamplerTag::Probabilistic(1.0))
            );
        }
        // Its probabilistic traces took its bucket's token: with its probability now 0 (same
        // buckets), nothing is left for it in this interval.
        s.update(per_op(0.0, 0.1, &[("busy", 0.0), ("quiet", 0.0)]));
        assert_eq!(decide(&s, HIGH, "quiet").0, Decision::Drop);
        s.update(per_op(0.0, 0.1, &[("busy", 0.0), ("quiet", 1.0)]));
        // busy: one trace from the lower bound, then nothing until 10 s have passed.
        assert_eq!(
            decide(&s, HIGH, "busy"),
            (Decision::RecordAndSample, SamplerTag::LowerBound(0.0))
        );
        for _ in 0..1000 {
            assert_eq!(decide(&s, HIGH, "busy").0, Decision::Drop);
        }
        clock.fetch_add(10 * SEC, Relaxed);
        assert_eq!(decide(&s, HIGH, "busy").0, Decision::RecordAndSample);
        assert_eq!(decide(&s, HIGH, "busy").0, Decision::Drop);
        // An operation not listed has its own bucket, with the default probability.
        assert_eq!(
            decide(&s, HIGH, "other"),
            (Decision::RecordAndSample, SamplerTag::LowerBound(0.0))
        );
        assert_eq!(decide(&s, HIGH, "other").0, Decision::Drop);
        // Children never spend the bucket and follow the operation's probability.
        clock.fetch_add(10 * SEC, Relaxed);
        assert_eq!(
            s.decide(Some(&parent(true, HIGH)), id(HIGH), "busy"),
            (Decision::Drop, SamplerTag::None)
        );
        assert_eq!(
            decide(&s, HIGH, "busy").0,
            Decision::RecordAndSample,
            "token still there"
        );
    }

    #[test]
    fn a_new_strategy_keeps_the_buckets() {
        let (s, _clock) = sampler();
        s.update(per_op(0.0, 0.1, &[("op", 0.0)]));
        assert_eq!(decide(&s, HIGH, "op").0, Decision::RecordAndSample);
        assert_eq!(decide(&s, HIGH, "op").0, Decision::Drop);
        // A new strategy (other probability) does not refill the operation's bucket.
        s.update(per_op(0.0, 0.1, &[("op", 0.0), ("x", 0.5)]));
        assert_eq!(decide(&s, HIGH, "op").0, Decision::Drop);
        // No lower bound: probability only.
        s.update(per_op(0.0, 0.0, &[("op", 0.0)]));
        assert_eq!(decide(&s, HIGH, "unlisted").0, Decision::Drop);
    }

    #[test]
    fn per_operation_probability_statistics() {
        let (s, _) = sampler();
        s.update(per_op(0.2, 0.0, &[("a", 0.05), ("b", 0.5)]));
        let mut rng = 0x1234_5678_u64;
        let mut next = || {
            rng = rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = rng;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) & ((1 << 56) - 1)
        };
        let n = 100_000;
        for (op, p) in [("a", 0.05), ("b", 0.5), ("c", 0.2)] {
            let hits = (0..n)
                .filter(|_| decide(&s, next(), op).0 == Decision::RecordAndSample)
                .count() as f64;
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            assert!((hits - n as f64 * p).abs() < 5.0 * sd, "{op}: {hits}");
        }
    }

    #[test]
    fn root_tags_read_back_later() {
        let (s, _) = sampler();
        assert_eq!(s.root_tag("x", id(HIGH)), SamplerTag::Probabilistic(0.5));
        s.update(per_op(0.0, 1.0, &[("busy", 0.25)]));
        assert_eq!(
            s.root_tag("busy", id(HIGH)),
            SamplerTag::Probabilistic(0.25)
        );
        assert_eq!(s.root_tag("busy", id(LOW)), SamplerTag::LowerBound(0.25));
        assert_eq!(s.root_tag("other", id(HIGH)), SamplerTag::LowerBound(0.0));
        s.update(Strategy::RateLimiting(3.0));
        assert_eq!(s.root_tag("x", id(LOW)), SamplerTag::RateLimiting(3.0));
    }

    #[test]
    fn the_bucket_table_is_bounded() {
        let (s, _) = sampler();
        s.update(per_op(0.0, 1.0, &[]));
        let mut with_bucket = 0;
        for i in 0..(LIMITER_SLOTS + 1000) {
            if decide(&s, HIGH, &format!("op-{i}")).0 == Decision::RecordAndSample {
                with_bucket += 1;
            }
        }
        assert!(with_bucket <= LIMITER_SLOTS, "{with_bucket}");
        assert!(with_bucket > LIMITER_SLOTS * 9 / 10, "{with_bucket}");
        // Operations that got a bucket keep it.
        assert_eq!(decide(&s, HIGH, "op-0").0, Decision::Drop);
    }

    #[test]
    fn op_table_and_hash() {
        let names: Vec<String> = (0..500).map(|i| format!("GET /item/{i}")).collect();
        let ops: Vec<(String, f64)> = names.iter().map(|n| (n.clone(), 0.5)).collect();
        let t = OpTable::new(&ops);
        for n in &names {
            assert!(t.get(op_hash(n), n).is_some(), "{n}");
        }
        assert!(t.get(op_hash("nope"), "nope").is_none());
        assert!(OpTable::new(&[]).get(op_hash("x"), "x").is_none());
        let hashes: std::collections::HashSet<u64> = names.iter().map(|n| op_hash(n)).collect();
        assert_eq!(hashes.len(), names.len());
        assert_ne!(op_hash(""), 0);
        assert_ne!(op_hash("abcdefgh"), op_hash("abcdefgh\0"));
    }

    #[test]
    fn concurrent_updates_and_decisions() {
        let (s, _) = sampler();
        let s = Arc::new(s);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let readers: Vec<_> = (0..3)
            .map(|t| {
                let (s, stop) = (s.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut n = 0u64;
                    while n < 1000 || !stop.load(Relaxed) {
                        let (d, _) = s.decide(None, id(HIGH - n), if t == 0 { "a" } else { "b" });
                        assert_ne!(d, Decision::RecordOnly);
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        for i in 0..2000 {
            let p = f64::from(i % 10) / 10.0;
            s.update(per_op(p, 1.0, &[("a", p), ("b", 1.0 - p)]));
        }
        stop.store(true, Relaxed);
        for r in readers {
            assert!(r.join().unwrap() >= 1000);
        }
    }
}
