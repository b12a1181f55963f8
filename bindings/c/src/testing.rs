//! Test-only entry points (feature `testing`): they let every test suite prove that a panic
//! becomes an error instead of aborting the process, and that each error kind reaches C.

use crate::convert;
use crate::error::{call, polytrace_error_t};

/// Panics inside polytrace on purpose; returns the caught panic as a `POLYTRACE_ERROR_INTERNAL`
/// error. Only in builds with the `testing` feature (`POLYTRACE_TESTING` in the header).
///
/// Ownership: the caller owns the returned error.
#[no_mangle]
#[must_use]
pub extern "C" fn polytrace_testing_panic() -> *mut polytrace_error_t {
    call(
        "polytrace_testing_panic",
        polytrace_core::error::testing::panic_now,
    )
}

/// Returns an error of the kind named `kind` (`"InvalidArgument"`, `"Timeout"`, ..., as
/// `polytrace_error_kind_name` spells them); an unknown name gives `InvalidArgument`. Only in
/// builds with the `testing` feature.
///
/// Ownership: borrows `kind`; the caller owns the returned error.
///
/// # Safety
/// `kind` is NULL or valid for `kind_len` bytes.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_testing_error(
    kind: *const std::ffi::c_char,
    kind_len: usize,
) -> *mut polytrace_error_t {
    call("polytrace_testing_error", || {
        // SAFETY: forwarded.
        let kind = unsafe { convert::text(kind, kind_len, "kind") }?;
        polytrace_core::error::testing::error(kind)
    })
}
