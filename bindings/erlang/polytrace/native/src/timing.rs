//! Test-only (feature `testing`): how long each NIF call runs on a normal scheduler, for the
//! scheduler test (`test/polytrace_scheduler_tests.erl`). Per call:
//!
//! - *own* duration: wall time minus the time the thread waited for a CPU meanwhile
//!   (`/proc/thread-self/schedstat`, updated when the thread is switched back in): what the
//!   NIF took, sleeping included, but not the operating system running another thread on this
//!   core;
//! - *CPU* time (`CLOCK_THREAD_CPUTIME_ID`): what it computed;
//! - whether the thread slept (voluntary context switches) and took page faults
//!   (`getrusage(RUSAGE_THREAD)`), which tell what a slow call waited for.
//!
//! Off until `testing_nif_timing(start)`; calls on dirty schedulers (flush, shutdown,
//! construction: allowed to take long) are not counted.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// A call is slow from this own duration on (the `long_schedule` threshold of the test).
const SLOW_NS: u64 = 1_000_000;

/// What is kept per call site.
#[derive(Clone, Copy, Default)]
pub struct Site {
    /// Calls timed.
    pub calls: u64,
    /// The longest own duration (ns).
    pub max_own_ns: u64,
    /// The longest CPU time of a call (ns).
    pub max_cpu_ns: u64,
    /// Calls whose own duration was [`SLOW_NS`] or more.
    pub slow: u64,
    /// Of those, calls during which the thread slept (a voluntary context switch).
    pub slow_slept: u64,
    /// Of those, calls that took a page fault.
    pub slow_faulted: u64,
}

/// Per call site of [`crate::error::guard`] (one per NIF).
static TABLE: Mutex<Option<HashMap<(&'static str, u32), Site>>> = Mutex::new(None);

/// Starts (clearing the table) or stops timing.
pub fn set(on: bool) {
    if on {
        *TABLE.lock() = Some(HashMap::new());
    }
    ENABLED.store(on, Ordering::Relaxed);
}

/// `[(file, line, site)]` since timing started.
pub fn table() -> Vec<(&'static str, u32, Site)> {
    TABLE
        .lock()
        .as_ref()
        .map(|t| t.iter().map(|(&(f, l), &s)| (f, l, s)).collect())
        .unwrap_or_default()
}

/// The time this thread has waited for a CPU (ns).
fn cpu_wait_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|w| w.parse().ok()))
        .unwrap_or(0)
}

/// This thread's CPU time (ns).
fn cpu_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes a timespec into the pointer it is given.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } != 0 {
        return 0;
    }
    u64::try_from(t.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(t.tv_nsec).unwrap_or(0)
}

/// This thread's (voluntary context switches, page faults).
fn switches_and_faults() -> (u64, u64) {
    let mut u = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a rusage into the pointer it is given.
    if unsafe { libc::getrusage(libc::RUSAGE_THREAD, u.as_mut_ptr()) } != 0 {
        return (0, 0);
    }
    // SAFETY: initialised by the successful call (and zeroed before).
    let u = unsafe { u.assume_init() };
    let n = |x: libc::c_long| u64::try_from(x).unwrap_or(0);
    (n(u.ru_nvcsw), n(u.ru_minflt) + n(u.ru_majflt))
}

fn on_normal_scheduler() -> bool {
    // SAFETY: callable from any thread; it only reads the calling thread's type.
    unsafe { rustler::sys::enif_thread_type() == rustler::sys::ERL_NIF_THR_NORMAL_SCHEDULER }
}

/// Runs `f` (a NIF's body called at `site`), timing it when timing is on.
#[inline]
pub fn timed<R>(site: &'static Location<'static>, f: impl FnOnce() -> R) -> R {
    if !ENABLED.load(Ordering::Relaxed) || !on_normal_scheduler() {
        return f();
    }
    let wait0 = cpu_wait_ns();
    let (switches0, faults0) = switches_and_faults();
    let cpu0 = cpu_ns();
    let t0 = Instant::now();
    let r = f();
    let wall = u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let cpu = cpu_ns().saturating_sub(cpu0);
    let (switches1, faults1) = switches_and_faults();
    let own = wall.saturating_sub(cpu_wait_ns().saturating_sub(wait0));
    if let Some(t) = TABLE.lock().as_mut() {
        let e = t.entry((site.file(), site.line())).or_default();
        e.calls += 1;
        e.max_own_ns = e.max_own_ns.max(own);
        e.max_cpu_ns = e.max_cpu_ns.max(cpu);
        if own >= SLOW_NS {
            e.slow += 1;
            e.slow_slept += u64::from(switches1 > switches0);
            e.slow_faulted += u64::from(faults1 > faults0);
        }
    }
    r
}
