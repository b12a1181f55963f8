//! polytrace-ffi: the C ABI of polytrace, for C, C++, Go (cgo) and anything with a C FFI.
//!
//! The header `include/polytrace.h` is generated from this crate by cbindgen (the doc comments
//! become its comments) and checked in; `tests/header.rs` regenerates it and fails on a
//! difference (`POLYTRACE_BLESS=1` rewrites it). See `README.md` for the rules:
//!
//! - every function is `polytrace_<object>_<verb>` and runs under `catch_unwind`: no panic
//!   crosses the boundary, it becomes a `POLYTRACE_ERROR_INTERNAL` error;
//! - fallible functions return `polytrace_error_t*`, NULL on success, freed by
//!   `polytrace_error_free`; outputs go through out-pointers;
//! - strings are (pointer, length) pairs, borrowed for the call, UTF-8 checked;
//! - handles are generation-checked (see [`handle`]): NULL, foreign, freed and double-freed
//!   handles are detected, never dereferenced.
#![allow(non_camel_case_types)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod context;
pub mod convert;
pub mod error;
mod handle;
pub mod key;
pub mod provider;
pub mod span;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tracer;

pub use context::*;
pub use convert::*;
pub use error::*;
pub use key::*;
pub use provider::*;
pub use span::*;
#[cfg(feature = "testing")]
pub use testing::*;
pub use tracer::*;

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

/// The severity of a diagnostic (`POLYTRACE_DIAG_*`).
pub type polytrace_diag_level_t = u32;
/// Something was ignored or a default was used (a bad environment value, a double free).
pub const POLYTRACE_DIAG_WARN: polytrace_diag_level_t = 1;
/// Data was lost (an export failure, a full queue).
pub const POLYTRACE_DIAG_ERROR: polytrace_diag_level_t = 2;

/// Receives a diagnostic: `message` is NUL-terminated UTF-8 of `len` bytes, valid only during
/// the call. Called from any thread, including polytrace's export thread: it must be
/// thread-safe, must not block for long, and must not call back into polytrace.
pub type polytrace_diag_fn = Option<
    unsafe extern "C" fn(
        level: polytrace_diag_level_t,
        message: *const c_char,
        len: usize,
        user_data: *mut c_void,
    ),
>;

struct UserData(*mut c_void);

impl UserData {
    /// A method, so closures capture the whole (Send + Sync) wrapper, not its field.
    fn get(&self) -> *mut c_void {
        self.0
    }
}
// SAFETY: the caller of `polytrace_diag_set_handler` promises the handler and its data may be
// used from any thread.
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

/// Routes polytrace's diagnostics (warnings that cannot be returned as errors: bad `OTEL_*`
/// values, export failures, a full queue, double frees) to `handler`, process-wide. NULL
/// restores the default (a line on stderr). Repeated diagnostics are reported once.
///
/// Ownership: `user_data` stays the caller's; it must remain valid until the handler is
/// replaced.
///
/// # Safety
/// `handler` is NULL or a function that is safe to call from any thread with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn polytrace_diag_set_handler(
    handler: polytrace_diag_fn,
    user_data: *mut c_void,
) {
    error::getter((), || {
        let Some(f) = handler else {
            polytrace_core::diag::set_handler(None);
            return;
        };
        let data = UserData(user_data);
        polytrace_core::diag::set_handler(Some(Arc::new(
            move |level: polytrace_core::diag::Level, message: &str| {
                let level = match level {
                    polytrace_core::diag::Level::Warn => POLYTRACE_DIAG_WARN,
                    polytrace_core::diag::Level::Error => POLYTRACE_DIAG_ERROR,
                };
                let c = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
                let len = c.as_bytes().len();
                // SAFETY: the caller of polytrace_diag_set_handler promised a thread-safe
                // function; the message outlives the call.
                unsafe { f(level, c.as_ptr(), len, data.get()) };
            },
        )));
    })
}

/// The library's version, e.g. `"0.1.0"`.
///
/// Ownership: a static string; do not free it.
#[no_mangle]
pub extern "C" fn polytrace_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
