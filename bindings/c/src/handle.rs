//! Handles: what a C caller holds for a provider, tracer, span, context or error.
//!
//! A handle is **not a pointer to the object**. It is a 64-bit value, typed in the header as an
//! opaque pointer, that encodes:
//!
//! ```text
//!  63      56 55    48 47                24 23                 0
//! +----------+--------+--------------------+--------------------+
//! |  0xA7    |  type  |    slot index      |    generation      |
//! +----------+--------+--------------------+--------------------+
//! ```
//!
//! The object lives in a slot of a per-type pool. Slots are allocated in chunks that are never
//! given back to the allocator (they are reused), so looking a handle up never reads freed
//! memory. Each slot carries the generation it is at and a small reader/writer state; freeing
//! bumps the generation. Hence, without ever dereferencing what the caller passed:
//!
//! - NULL, a value that is not a polytrace handle (wrong magic byte), or a handle of another
//!   type (a span passed as a tracer) is rejected with `InvalidArgument`;
//! - a freed handle (double free, use after free) no longer matches its slot's generation and
//!   is rejected, even after the slot was reused for a new object;
//! - calls on one handle from several threads are safe: readers share, writers (span
//!   mutation, free) are exclusive, and a free waits for calls in progress on that handle.
//!
//! The hot entry points (span start, setters, end, free) first try [`Pool::try_get`],
//! [`Pool::try_get_mut`] and [`Pool::try_free`]: the same checks and the same lock, at the first
//! compare-and-swap and without making an error. When that declines (misuse, a held lock) the
//! entry point runs its general path, which uses [`Pool::get`], [`Pool::get_mut`] and
//! [`Pool::free`] to wait or to report; so the guarantees above are the general path's.
//!
//! Limits, stated honestly: generations have 24 bits, so a stale handle whose slot was reused
//! exactly 2^24 times (16.7 million frees of that one slot) aliases the current object; a
//! forged value with the right magic, type, index and generation is accepted; at most 2^24 − 1
//! objects of a type are alive at once; pool memory is bounded by the peak number of live
//! objects, and stays allocated (for reuse) until the process exits. The encoded value is
//! non-canonical on x86-64 and AArch64, so dereferencing it by mistake faults at once.

use polytrace_core::{Error, Result};
use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::ops::{Deref, DerefMut};
use std::ptr;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64};

#[cfg(not(target_pointer_width = "64"))]
compile_error!("polytrace-ffi encodes handles in 64 bits and supports 64-bit targets only");

const MAGIC: u64 = 0xA7;
const INDEX_BITS: u32 = 24;
const GEN_BITS: u32 = 24;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;
const GEN_MASK: u64 = (1 << GEN_BITS) - 1;
/// An index that no slot ever has: errors use it for their static fallback handle.
pub(crate) const RESERVED_INDEX: u32 = INDEX_MASK as u32;

/// Chunk `k` holds `FIRST_CHUNK << k` slots: small programs allocate 64 slots, and 19 chunks
/// cover every 24-bit index.
const FIRST_CHUNK_BITS: u32 = 6;
const CHUNKS: usize = (INDEX_BITS - FIRST_CHUNK_BITS + 1) as usize;

/// Where `index` lives: `j = index + 64` has its highest set bit at `FIRST_CHUNK_BITS + k` for
/// the slot's chunk `k`, and is at `j - (64 << k)` in it.
#[inline(always)]
fn chunk_of(index: u32) -> (usize, usize) {
    let j = index as usize + (1 << FIRST_CHUNK_BITS);
    let k = (usize::BITS - 1 - j.leading_zeros() - FIRST_CHUNK_BITS) as usize;
    (k, j)
}

// Slot state: generation | LIVE | WRITER | reader count.
const GEN_SHIFT: u32 = 40;
const LIVE: u64 = 1 << 39;
const WRITER: u64 = 1 << 38;
const READERS: u64 = (1 << 32) - 1;

/// The type byte of each kind of handle.
pub(crate) mod tag {
    pub(crate) const PROVIDER: u8 = 1;
    pub(crate) const TRACER: u8 = 2;
    pub(crate) const SPAN: u8 = 3;
    pub(crate) const CONTEXT: u8 = 4;
    pub(crate) const ERROR: u8 = 5;
    pub(crate) const KEY: u8 = 6;
}

/// The bits of a handle of type `tag` (see the module docs for the layout).
#[inline(always)]
pub(crate) fn encode_bits(tag: u8, index: u32, low: u64) -> u64 {
    (MAGIC << 56)
        | (u64::from(tag) << 48)
        | ((u64::from(index) & INDEX_MASK) << GEN_BITS)
        | (low & GEN_MASK)
}

/// `(index, low 24 bits)` of `bits` when it has the magic byte and type `tag`.
#[inline(always)]
pub(crate) fn decode_bits(tag: u8, bits: u64) -> Option<(u32, u64)> {
    if bits >> 48 != (MAGIC << 8) | u64::from(tag) {
        return None;
    }
    Some((((bits >> GEN_BITS) & INDEX_MASK) as u32, bits & GEN_MASK))
}

struct Slot<T> {
    state: AtomicU64,
    /// Free-list link (index + 1; 0 ends the list). Only meaningful while the slot is free.
    next: AtomicU32,
    value: UnsafeCell<MaybeUninit<T>>,
}

impl<T> Slot<T> {
    fn new() -> Self {
        Slot {
            state: AtomicU64::new(0),
            next: AtomicU32::new(0),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// # Safety
    /// The caller holds a reader or the writer lock of this live slot.
    unsafe fn get(&self) -> &T {
        // SAFETY: LIVE means initialized; the lock keeps it so.
        unsafe { (*self.value.get()).assume_init_ref() }
    }
}

/// The pool of one handle type, whose handles carry the type byte `TAG` (a constant, so that
/// checking it is a compare with an immediate). A `static`, so its chunks stay reachable until
/// exit.
pub(crate) struct Pool<T, const TAG: u8> {
    /// What the handle is called in messages (`"polytrace_span_t"`).
    name: &'static str,
    /// Chunk `k`'s first slot moved back by `64 << k` slots (null while the chunk does not
    /// exist): slot `index` is then at `chunks[k] + (index + 64)`, one multiply-add from the
    /// table with no per-chunk offset to subtract. (The moved-back address is only ever used
    /// with `wrapping_add` back into the chunk, see [`slot`](Self::slot).)
    chunks: [AtomicPtr<Slot<T>>; CHUNKS],
    /// Chunk `k`'s first slot (null while it does not exist): where chunk `k` is installed,
    /// and what keeps its memory visibly reachable (leak checkers such as valgrind do not count
    /// the moved-back address in `chunks` as a pointer to the block).
    starts: [AtomicPtr<Slot<T>>; CHUNKS],
    /// The next never-used index.
    fresh: AtomicU32,
    /// Lock-free free list: (ABA counter << 32) | (index + 1); low half 0 = empty.
    free: AtomicU64,
}

// SAFETY: a slot's value is only reached through the slot's reader/writer state: `&T` is shared
// between threads by readers (needs `Sync`), and objects move in and out (needs `Send`).
unsafe impl<T: Send + Sync, const TAG: u8> Sync for Pool<T, TAG> {}

/// A call holding a shared (reader) lock on a live object.
pub(crate) struct Ref<'a, T> {
    slot: &'a Slot<T>,
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: we hold a reader lock.
        unsafe { self.slot.get() }
    }
}

impl<T> Drop for Ref<'_, T> {
    fn drop(&mut self) {
        self.slot.state.fetch_sub(1, Release);
    }
}

/// A call holding the exclusive (writer) lock on a live object.
pub(crate) struct Mut<'a, T> {
    slot: &'a Slot<T>,
    unlocked: u64,
}

impl<T> Deref for Mut<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: we hold the writer lock.
        unsafe { self.slot.get() }
    }
}

impl<T> DerefMut for Mut<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: we hold the writer lock, so no other reference exists.
        unsafe { (*self.slot.value.get()).assume_init_mut() }
    }
}

impl<T> Drop for Mut<'_, T> {
    fn drop(&mut self) {
        // While WRITER is set nobody else changes the state, so a plain store releases it.
        self.slot.state.store(self.unlocked, Release);
    }
}

#[inline]
fn backoff(spins: &mut u32) {
    *spins += 1;
    if *spins < 64 {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

impl<T, const TAG: u8> Pool<T, TAG> {
    pub(crate) const fn new(name: &'static str) -> Self {
        Pool {
            name,
            chunks: [const { AtomicPtr::new(ptr::null_mut()) }; CHUNKS],
            starts: [const { AtomicPtr::new(ptr::null_mut()) }; CHUNKS],
            fresh: AtomicU32::new(0),
            free: AtomicU64::new(0),
        }
    }

    /// Encodes a handle of this pool's type.
    pub(crate) fn encode<H>(&self, index: u32, generation: u64) -> *mut H {
        ptr::without_provenance_mut(encode_bits(TAG, index, generation) as usize)
    }

    /// Decodes `(index, generation)` when `handle` has this pool's magic and type byte.
    #[inline(always)]
    fn decode<H>(&self, handle: *const H) -> Option<(u32, u64)> {
        decode_bits(TAG, handle as usize as u64)
    }

    /// Why `handle` did not decode (cold: only errors pay for the message).
    #[cold]
    #[inline(never)]
    fn not_a_handle<H>(&self, handle: *const H) -> Error {
        if handle.is_null() {
            Error::invalid_argument(format!("the {} handle is NULL", self.name))
        } else {
            Error::invalid_argument(format!(
                "the value passed as a {} is not a {} handle",
                self.name, self.name
            ))
        }
    }

    #[cold]
    #[inline(never)]
    fn stale(&self) -> Error {
        Error::invalid_argument(format!(
            "the {} handle was already freed (or never allocated)",
            self.name
        ))
    }

    #[cold]
    #[inline(never)]
    fn too_many(&self) -> Error {
        Error::internal(format!(
            "too many live {} objects (at most {RESERVED_INDEX})",
            self.name
        ))
    }

    #[inline(always)]
    fn slot(&self, index: u32) -> Option<&Slot<T>> {
        let (k, j) = chunk_of(index);
        let biased = self.chunks.get(k)?.load(Acquire);
        if biased.is_null() {
            return None;
        }
        // SAFETY: `biased` is chunk k's start moved back by 64 << k slots (`ensure_chunk`), and
        // 64 << k <= j < 128 << k, so the sum is one of chunk k's slots; chunks are never freed.
        Some(unsafe { &*biased.wrapping_add(j) })
    }

    /// Makes sure the chunk holding `index` exists.
    #[cold]
    #[inline(never)]
    fn ensure_chunk(&self, index: u32) {
        let (k, _) = chunk_of(index);
        let (Some(cell), Some(start_cell)) = (self.chunks.get(k), self.starts.get(k)) else {
            return;
        };
        if !cell.load(Acquire).is_null() {
            return;
        }
        let n = (1usize << FIRST_CHUNK_BITS) << k;
        let alloc = || {
            let chunk: Box<[Slot<T>]> = (0..n).map(|_| Slot::new()).collect();
            Box::into_raw(chunk) as *mut Slot<T>
        };
        let mut raw = alloc();
        // The table keeps null for "no chunk", so a chunk whose moved-back address would be
        // null (never seen, but not excluded) is set aside, leaked, for another allocation
        // (which cannot be at the same address while the first one is alive).
        while raw.wrapping_sub(n).is_null() {
            raw = alloc();
        }
        let start = match start_cell.compare_exchange(ptr::null_mut(), raw, AcqRel, Acquire) {
            Ok(_) => raw,
            Err(installed) => {
                // Another thread installed this chunk first; ours was never shared.
                // SAFETY: `raw` came from `Box::into_raw` of a slice of `n` slots just above.
                drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(raw, n)) });
                installed
            }
        };
        // Every thread that gets here stores the same value, so a loser of the race above does
        // not return before the chunk can be looked up.
        cell.store(start.wrapping_sub(n), Release);
    }

    /// A slot off the free list, with its index (the hot path of [`take`](Self::take)).
    #[inline(always)]
    fn pop_free(&self) -> Option<(u32, &Slot<T>)> {
        let mut head = self.free.load(Acquire);
        loop {
            let first = head as u32;
            if first == 0 {
                return None;
            }
            let slot = self.slot(first - 1)?;
            let next = slot.next.load(Relaxed);
            let new = (((head >> 32).wrapping_add(1)) << 32) | u64::from(next);
            match self.free.compare_exchange_weak(head, new, AcqRel, Acquire) {
                Ok(_) => return Some((first - 1, slot)),
                Err(h) => head = h,
            }
        }
    }

    fn push_free(&self, index: u32, slot: &Slot<T>) {
        let mut head = self.free.load(Relaxed);
        loop {
            slot.next.store(head as u32, Relaxed);
            let new = (((head >> 32).wrapping_add(1)) << 32) | u64::from(index + 1);
            match self.free.compare_exchange_weak(head, new, AcqRel, Relaxed) {
                Ok(_) => return,
                Err(h) => head = h,
            }
        }
    }

    /// A free slot for a new object: a freed one, else a never-used one.
    #[inline(always)]
    fn take(&self) -> Option<(u32, &Slot<T>)> {
        match self.pop_free() {
            Some(found) => Some(found),
            None => self.take_fresh(),
        }
    }

    /// A never-used slot (out of line: once the pool has grown, freed slots are reused).
    #[inline(never)]
    fn take_fresh(&self) -> Option<(u32, &Slot<T>)> {
        if let Some(found) = self.pop_free() {
            return Some(found);
        }
        let i = self
            .fresh
            .fetch_update(Relaxed, Relaxed, |i| (i < RESERVED_INDEX).then_some(i + 1))
            .ok()?;
        self.ensure_chunk(i);
        Some((i, self.slot(i)?))
    }

    /// Moves `value` into a free slot and returns its handle.
    pub(crate) fn insert<H>(&self, value: T) -> Result<*mut H> {
        self.insert_with(|| value)
    }

    /// Like [`insert`](Self::insert), with the value made by `make`.
    #[inline]
    pub(crate) fn insert_with<H>(&self, make: impl FnOnce() -> T) -> Result<*mut H> {
        self.insert_in(|slot| {
            slot.write(make());
        })
    }

    /// Like [`insert`](Self::insert), `init` building the value directly in the slot (large
    /// values, such as spans, are then not copied around). `init` must initialize the whole
    /// value before it returns.
    #[inline]
    pub(crate) fn insert_in<H>(&self, init: impl FnOnce(&mut MaybeUninit<T>)) -> Result<*mut H> {
        match self.try_insert_in(init) {
            Some(handle) => Ok(handle),
            None => Err(self.too_many()),
        }
    }

    /// [`insert_in`](Self::insert_in) without an error: `None` (and `init` not run) when no
    /// slot is left.
    #[inline(always)]
    pub(crate) fn try_insert_in<H>(
        &self,
        init: impl FnOnce(&mut MaybeUninit<T>),
    ) -> Option<*mut H> {
        let (index, slot) = self.take()?;
        let generation = slot.state.load(Acquire) >> GEN_SHIFT;
        /// Gives the slot back if `make` panics.
        struct Undo<'a, T, const TAG: u8> {
            pool: &'a Pool<T, TAG>,
            index: u32,
            slot: &'a Slot<T>,
        }
        impl<T, const TAG: u8> Drop for Undo<'_, T, TAG> {
            fn drop(&mut self) {
                self.pool.push_free(self.index, self.slot);
            }
        }
        let undo = Undo {
            pool: self,
            index,
            slot,
        };
        // SAFETY: the slot came off the free list (or was never used), so it is ours alone;
        // `init` initializes it (a panic in it gives the slot back, still unset).
        init(unsafe { &mut *slot.value.get() });
        std::mem::forget(undo);
        slot.state.store((generation << GEN_SHIFT) | LIVE, Release);
        Some(self.encode(index, generation))
    }

    #[inline(always)]
    fn live_slot<H>(&self, handle: *const H) -> Result<(&Slot<T>, u32, u64)> {
        let Some((index, generation)) = self.decode(handle) else {
            return Err(self.not_a_handle(handle));
        };
        let Some(slot) = self.slot(index) else {
            return Err(self.stale());
        };
        Ok((slot, index, generation))
    }

    /// Shared access (many threads at once).
    #[inline]
    pub(crate) fn get<H>(&self, handle: *const H) -> Result<Ref<'_, T>> {
        let (slot, _, generation) = self.live_slot(handle)?;
        let mut s = slot.state.load(Relaxed);
        let mut spins = 0;
        loop {
            if s >> GEN_SHIFT != generation || s & LIVE == 0 {
                return Err(self.stale());
            }
            if s & WRITER != 0 || s & READERS == READERS {
                backoff(&mut spins);
                s = slot.state.load(Relaxed);
                continue;
            }
            match slot.state.compare_exchange_weak(s, s + 1, Acquire, Relaxed) {
                Ok(_) => return Ok(Ref { slot }),
                Err(cur) => s = cur,
            }
        }
    }

    #[inline(always)]
    fn lock<H>(&self, handle: *const H) -> Result<(&Slot<T>, u32, u64)> {
        let (slot, index, generation) = self.live_slot(handle)?;
        let unlocked = (generation << GEN_SHIFT) | LIVE;
        let mut spins = 0;
        loop {
            match slot
                .state
                .compare_exchange_weak(unlocked, unlocked | WRITER, Acquire, Relaxed)
            {
                Ok(_) => return Ok((slot, index, unlocked)),
                Err(s) if s >> GEN_SHIFT != generation || s & LIVE == 0 => return Err(self.stale()),
                Err(_) => backoff(&mut spins),
            }
        }
    }

    /// [`get`](Self::get) at the first try, without waiting or an error: `None` when the handle
    /// is not a live one of this pool, a writer holds it, or its reader count is full (the
    /// caller's general path then waits or reports).
    #[inline(always)]
    pub(crate) fn try_get<H>(&self, handle: *const H) -> Option<Ref<'_, T>> {
        let (index, generation) = self.decode(handle)?;
        let slot = self.slot(index)?;
        let s = slot.state.load(Relaxed);
        // One compare for "this generation, live, no writer"; then room for one more reader.
        if s & !READERS != (generation << GEN_SHIFT) | LIVE || s & READERS == READERS {
            return None;
        }
        slot.state
            .compare_exchange(s, s + 1, Acquire, Relaxed)
            .ok()?;
        Some(Ref { slot })
    }

    /// The writer lock of a live slot, taken at the first try: `None` for anything else (not a
    /// handle of this pool, stale, or the lock is held), which the caller sends to its general
    /// path ([`get_mut`](Self::get_mut), [`free`](Self::free)) to wait or to report. No error
    /// is made here, so a hot path built on this has no error branch of its own.
    #[inline(always)]
    fn try_lock<H>(&self, handle: *const H) -> Option<(&Slot<T>, u32, u64)> {
        let (index, generation) = self.decode(handle)?;
        let slot = self.slot(index)?;
        let unlocked = (generation << GEN_SHIFT) | LIVE;
        slot.state
            .compare_exchange(unlocked, unlocked | WRITER, Acquire, Relaxed)
            .ok()?;
        Some((slot, index, unlocked))
    }

    /// [`get_mut`](Self::get_mut) at the first try, without waiting or an error (see
    /// [`try_lock`](Self::try_lock)).
    #[inline(always)]
    pub(crate) fn try_get_mut<H>(&self, handle: *const H) -> Option<Mut<'_, T>> {
        let (slot, _, unlocked) = self.try_lock(handle)?;
        Some(Mut { slot, unlocked })
    }

    /// [`free`](Self::free) at the first try: `false` (nothing done) when the lock could not
    /// be taken at once (see [`try_lock`](Self::try_lock)).
    #[inline(always)]
    pub(crate) fn try_free<H>(&self, handle: *const H) -> bool {
        let Some((slot, index, unlocked)) = self.try_lock(handle) else {
            return false;
        };
        self.free_locked(slot, index, unlocked);
        true
    }

    /// Exclusive access (waits for other calls on the same handle).
    #[inline]
    pub(crate) fn get_mut<H>(&self, handle: *const H) -> Result<Mut<'_, T>> {
        let (slot, _, unlocked) = self.lock(handle)?;
        Ok(Mut { slot, unlocked })
    }

    /// Takes the object out and frees the slot; the handle (and every copy of it) is dead.
    #[cfg(test)]
    pub(crate) fn remove<H>(&self, handle: *const H) -> Result<T> {
        let (slot, index, unlocked) = self.lock(handle)?;
        // SAFETY: we hold the writer lock of a live slot; marking it free below ends every
        // other access to the value we move out.
        let value = unsafe { (*slot.value.get()).assume_init_read() };
        self.release(slot, index, unlocked);
        Ok(value)
    }

    /// Drops the object in its slot (no copy out) and frees the slot.
    #[inline]
    pub(crate) fn free<H>(&self, handle: *const H) -> Result<()> {
        let (slot, index, unlocked) = self.lock(handle)?;
        self.free_locked(slot, index, unlocked);
        Ok(())
    }

    /// Drops the object of a slot whose writer lock the caller holds, and frees the slot.
    #[inline(always)]
    fn free_locked(&self, slot: &Slot<T>, index: u32, unlocked: u64) {
        /// Frees the slot even if the value's destructor panics.
        struct FreeOnDrop<'a, T, const TAG: u8> {
            pool: &'a Pool<T, TAG>,
            slot: &'a Slot<T>,
            index: u32,
            unlocked: u64,
        }
        impl<T, const TAG: u8> Drop for FreeOnDrop<'_, T, TAG> {
            fn drop(&mut self) {
                self.pool.release(self.slot, self.index, self.unlocked);
            }
        }
        let _release = FreeOnDrop {
            pool: self,
            slot,
            index,
            unlocked,
        };
        // SAFETY: the caller holds the writer lock of a live slot; the guard marks it free
        // right after.
        unsafe { (*slot.value.get()).assume_init_drop() };
    }

    /// Marks a locked slot free under the next generation and puts it on the free list.
    fn release(&self, slot: &Slot<T>, index: u32, unlocked: u64) {
        let next_generation = ((unlocked >> GEN_SHIFT) + 1) & GEN_MASK;
        slot.state.store(next_generation << GEN_SHIFT, Release);
        self.push_free(index, slot);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    struct H;
    static POOL: Pool<String, 9> = Pool::new("test_t");

    #[test]
    fn insert_get_remove_and_stale() {
        let a: *mut H = POOL.insert("a".to_string()).unwrap();
        assert_eq!(&*POOL.get(a).unwrap(), "a");
        POOL.get_mut(a).unwrap().push('!');
        assert_eq!(POOL.remove(a).unwrap(), "a!");
        assert!(POOL.get(a).is_err());
        assert!(POOL.remove(a).is_err(), "double free is detected");
        // The slot is reused with a new generation; the stale handle stays dead.
        let b: *mut H = POOL.insert("b".to_string()).unwrap();
        assert_ne!(a, b);
        assert!(POOL.remove(a).is_err());
        assert_eq!(&*POOL.get(b).unwrap(), "b");
        POOL.free(b).unwrap();
        assert!(POOL.free(b).is_err());
        assert!(POOL.get(ptr::null::<H>()).is_err());
        assert!(POOL.get(0x1000 as *const H).is_err());
    }

    #[test]
    fn first_try_paths_decline_what_the_general_path_reports() {
        let a: *mut H = POOL.insert("a".to_string()).unwrap();
        assert_eq!(&*POOL.try_get(a).unwrap(), "a");
        {
            let mut w = POOL.try_get_mut(a).unwrap();
            w.push('!');
            assert!(POOL.try_get_mut(a).is_none(), "a writer holds it");
            assert!(POOL.try_get(a).is_none(), "a writer holds it");
            assert!(!POOL.try_free(a), "a writer holds it");
        }
        {
            let _r = POOL.try_get(a).unwrap();
            assert!(POOL.try_get_mut(a).is_none(), "a reader holds it");
            assert!(POOL.try_get(a).is_some(), "readers share");
        }
        assert!(POOL.try_free(a));
        assert!(!POOL.try_free(a), "a double free is declined");
        assert!(POOL.free(a).is_err(), "and reported by the general path");
        assert!(POOL.try_get(a).is_none());
        assert!(POOL.try_get_mut(a).is_none());
        assert!(POOL.try_get(ptr::null::<H>()).is_none());
        assert!(POOL.try_get_mut(0x1000 as *const H).is_none());
        assert!(!POOL.try_free(ptr::null::<H>()));
        let other_type = ptr::without_provenance::<H>(encode_bits(8, 0, 0) as usize);
        assert!(POOL.try_get_mut(other_type).is_none());
        // A new object (in the same slot under a new generation, unless another test took it):
        // the old handle stays dead.
        let b: *mut H = POOL.insert("b".to_string()).unwrap();
        assert!(POOL.try_get_mut(a).is_none());
        assert_eq!(&*POOL.try_get_mut(b).unwrap(), "b");
        assert!(POOL.try_free(b));
    }

    #[test]
    fn slots_are_distinct_and_in_their_chunks() {
        // Index → slot address through the moved-back chunk starts: every index of the first
        // chunks has its own slot, inside the chunk that `starts` records.
        static P: Pool<u64, 10> = Pool::new("slots_t");
        let hs: Vec<*mut H> = (0..300).map(|i| P.insert(i).unwrap()).collect();
        let mut seen = std::collections::HashSet::new();
        for i in 0..300u32 {
            let slot = P.slot(i).unwrap() as *const Slot<u64> as usize;
            assert!(seen.insert(slot), "index {i} shares a slot");
            let (k, j) = chunk_of(i);
            let start = P.starts[k].load(Acquire) as usize;
            let n = (1usize << FIRST_CHUNK_BITS) << k;
            let size = std::mem::size_of::<Slot<u64>>();
            assert_eq!(slot, start + (j - n) * size, "index {i}");
        }
        for (i, h) in hs.iter().enumerate() {
            assert_eq!(*P.get(*h).unwrap(), i as u64);
            P.free(*h).unwrap();
        }
        assert!(P.slot(1 << 20).is_none(), "a chunk that does not exist");
    }

    #[test]
    fn many_handles_span_chunks() {
        let hs: Vec<*mut H> = (0..1000)
            .map(|i| POOL.insert(i.to_string()).unwrap())
            .collect();
        for (i, h) in hs.iter().enumerate() {
            assert_eq!(*POOL.get(*h).unwrap(), i.to_string());
        }
        for h in hs {
            POOL.remove(h).unwrap();
        }
    }
}
