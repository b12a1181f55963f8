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

/// The pool of one handle type. A `static`, so its chunks stay reachable until exit.
pub(crate) struct Pool<T> {
    tag: u8,
    /// What the handle is called in messages (`"polytrace_span_t"`).
    name: &'static str,
    chunks: [AtomicPtr<Slot<T>>; CHUNKS],
    /// The next never-used index.
    fresh: AtomicU32,
    /// Lock-free free list: (ABA counter << 32) | (index + 1); low half 0 = empty.
    free: AtomicU64,
}

// SAFETY: a slot's value is only reached through the slot's reader/writer state: `&T` is shared
// between threads by readers (needs `Sync`), and objects move in and out (needs `Send`).
unsafe impl<T: Send + Sync> Sync for Pool<T> {}

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

impl<T> Pool<T> {
    pub(crate) const fn new(tag: u8, name: &'static str) -> Self {
        Pool {
            tag,
            name,
            chunks: [const { AtomicPtr::new(ptr::null_mut()) }; CHUNKS],
            fresh: AtomicU32::new(0),
            free: AtomicU64::new(0),
        }
    }

    /// Encodes a handle of this pool's type.
    pub(crate) fn encode<H>(&self, index: u32, generation: u64) -> *mut H {
        ptr::without_provenance_mut(encode_bits(self.tag, index, generation) as usize)
    }

    /// Decodes `(index, generation)` when `handle` has this pool's magic and type byte.
    #[inline(always)]
    fn decode<H>(&self, handle: *const H) -> Option<(u32, u64)> {
        decode_bits(self.tag, handle as usize as u64)
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

    #[inline(always)]
    fn slot(&self, index: u32) -> Option<&Slot<T>> {
        let j = index as usize + (1 << FIRST_CHUNK_BITS);
        let k = (usize::BITS - 1 - j.leading_zeros() - FIRST_CHUNK_BITS) as usize;
        let offset = j - ((1 << FIRST_CHUNK_BITS) << k);
        let base = self.chunks.get(k)?.load(Acquire);
        if base.is_null() {
            return None;
        }
        // SAFETY: chunk k holds (64 << k) slots and offset < 64 << k; chunks are never freed.
        Some(unsafe { &*base.add(offset) })
    }

    /// Makes sure the chunk holding `index` exists.
    fn ensure_chunk(&self, index: u32) {
        let j = index as usize + (1 << FIRST_CHUNK_BITS);
        let k = (usize::BITS - 1 - j.leading_zeros() - FIRST_CHUNK_BITS) as usize;
        let Some(cell) = self.chunks.get(k) else {
            return;
        };
        if !cell.load(Acquire).is_null() {
            return;
        }
        let n = (1usize << FIRST_CHUNK_BITS) << k;
        let chunk: Box<[Slot<T>]> = (0..n).map(|_| Slot::new()).collect();
        let raw = Box::into_raw(chunk) as *mut Slot<T>;
        if cell
            .compare_exchange(ptr::null_mut(), raw, AcqRel, Acquire)
            .is_err()
        {
            // Another thread installed this chunk first; ours was never shared.
            // SAFETY: `raw` came from `Box::into_raw` of a slice of `n` slots just above.
            drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(raw, n)) });
        }
    }

    fn pop_free(&self) -> Option<u32> {
        let mut head = self.free.load(Acquire);
        loop {
            let first = head as u32;
            if first == 0 {
                return None;
            }
            let next = self.slot(first - 1)?.next.load(Relaxed);
            let new = (((head >> 32).wrapping_add(1)) << 32) | u64::from(next);
            match self.free.compare_exchange_weak(head, new, AcqRel, Acquire) {
                Ok(_) => return Some(first - 1),
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

    fn take_index(&self) -> Option<u32> {
        if let Some(i) = self.pop_free() {
            return Some(i);
        }
        let i = self
            .fresh
            .fetch_update(Relaxed, Relaxed, |i| (i < RESERVED_INDEX).then_some(i + 1))
            .ok()?;
        self.ensure_chunk(i);
        Some(i)
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
        let too_many = || {
            Error::internal(format!(
                "too many live {} objects (at most {RESERVED_INDEX})",
                self.name
            ))
        };
        let index = self.take_index().ok_or_else(too_many)?;
        let slot = self.slot(index).ok_or_else(too_many)?;
        let generation = slot.state.load(Acquire) >> GEN_SHIFT;
        /// Gives the slot back if `make` panics.
        struct Undo<'a, T> {
            pool: &'a Pool<T>,
            index: u32,
            slot: &'a Slot<T>,
        }
        impl<T> Drop for Undo<'_, T> {
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
        Ok(self.encode(index, generation))
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
        /// Frees the slot even if the value's destructor panics.
        struct FreeOnDrop<'a, T> {
            pool: &'a Pool<T>,
            slot: &'a Slot<T>,
            index: u32,
            unlocked: u64,
        }
        impl<T> Drop for FreeOnDrop<'_, T> {
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
        // SAFETY: we hold the writer lock of a live slot; the guard marks it free right after.
        unsafe { (*slot.value.get()).assume_init_drop() };
        Ok(())
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
    static POOL: Pool<String> = Pool::new(9, "test_t");

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
