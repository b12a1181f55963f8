//! Fast random ids: a per-thread wyrand generator, seeded from the OS-randomised std hasher,
//! the time and the thread, and reseeded in a forked child (so parent and child never produce
//! the same ids from the copied generator state).

use crate::types::{SpanId, TraceId};
use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// Bumped by [`reseed_after_fork`]; a thread whose generator was seeded in an older epoch
/// reseeds before its next id.
static EPOCH: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static RNG: Cell<(u64, u64)> = const { Cell::new((0, 0)) }; // (epoch, state)
}

fn seed() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    std::hash::Hash::hash(&std::thread::current().id(), &mut h);
    h.finish() | 1
}

#[inline]
pub(crate) fn next_u64() -> u64 {
    let [v] = next_n::<1>();
    v
}

/// `N` random numbers from one access to the thread's generator (a thread-local access is not
/// free: drawing a root span's three numbers at once saves two).
#[inline]
fn next_n<const N: usize>() -> [u64; N] {
    RNG.with(|cell| {
        let (epoch, mut state) = cell.get();
        let now = EPOCH.load(Ordering::Relaxed);
        if epoch != now {
            state = seed();
        }
        let mut out = [0; N];
        for v in &mut out {
            // wyrand
            state = state.wrapping_add(0xa076_1d64_78bd_642f);
            let t = u128::from(state).wrapping_mul(u128::from(state ^ 0xe703_7ed1_a0b4_28db));
            *v = ((t >> 64) as u64) ^ (t as u64);
        }
        cell.set((now, state));
        out
    })
}

fn to_trace_id(hi: u64, lo: u64) -> Option<TraceId> {
    let v = (u128::from(hi) << 64) | u128::from(lo);
    (v != 0).then(|| TraceId(v.to_be_bytes()))
}

fn to_span_id(v: u64) -> Option<SpanId> {
    (v != 0).then(|| SpanId(v.to_be_bytes()))
}

/// A new random, valid trace id (all 16 bytes random, so the W3C `random` flag may be set).
pub fn trace_id() -> TraceId {
    loop {
        let [hi, lo] = next_n::<2>();
        if let Some(id) = to_trace_id(hi, lo) {
            return id;
        }
    }
}

/// A new random, valid span id.
pub fn span_id() -> SpanId {
    loop {
        if let Some(id) = to_span_id(next_u64()) {
            return id;
        }
    }
}

/// A new root span's trace id and span id, drawn together.
#[inline]
pub fn root_ids() -> (TraceId, SpanId) {
    let [hi, lo, s] = next_n::<3>();
    (
        to_trace_id(hi, lo).unwrap_or_else(trace_id),
        to_span_id(s).unwrap_or_else(span_id),
    )
}

/// Makes every thread reseed before its next id. Called in a forked child.
pub fn reseed_after_fork() {
    EPOCH.fetch_add(1, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_valid_and_distinct() {
        let mut seen = HashSet::new();
        for _ in 0..10_000 {
            let t = trace_id();
            assert!(t.is_valid());
            assert!(seen.insert(t.0.to_vec()));
            assert!(span_id().is_valid());
            let (t, s) = root_ids();
            assert!(t.is_valid() && s.is_valid());
            assert!(seen.insert(t.0.to_vec()));
            // The span id is not a copy of either half of the trace id.
            assert!(t.0[..8] != s.0 && t.0[8..] != s.0);
        }
    }

    #[test]
    fn reseed_changes_the_sequence() {
        let before = RNG.with(|c| c.get());
        reseed_after_fork();
        let _ = span_id();
        let after = RNG.with(|c| c.get());
        assert_ne!(before.0, after.0);
    }

    #[test]
    fn threads_differ() {
        let a = std::thread::spawn(span_id).join().unwrap();
        let b = std::thread::spawn(span_id).join().unwrap();
        assert_ne!(a, b);
    }
}
