//! With the `testing` feature: a panic inside polytrace comes back as an `Internal` error (the
//! process does not abort), and every core error kind reaches C as its own constant.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use polytrace::*;

#[test]
fn panic_becomes_internal_error() {
    for _ in 0..3 {
        let (kind, msg) = fail(polytrace_testing_panic());
        assert_eq!(kind, POLYTRACE_ERROR_INTERNAL);
        assert!(
            msg.starts_with("polytrace_testing_panic: panic in polytrace core"),
            "{msg}"
        );
    }
    // Still usable afterwards.
    let p = provider();
    // SAFETY: valid handle.
    unsafe {
        ok(polytrace_provider_shutdown(p, 10_000));
        polytrace_provider_free(p);
    }
}

#[test]
fn every_kind_maps_to_its_constant_and_name() {
    let kinds = [
        ("InvalidArgument", POLYTRACE_ERROR_INVALID_ARGUMENT),
        ("InvalidConfig", POLYTRACE_ERROR_INVALID_CONFIG),
        ("Export", POLYTRACE_ERROR_EXPORT),
        ("Timeout", POLYTRACE_ERROR_TIMEOUT),
        ("AlreadyShutdown", POLYTRACE_ERROR_ALREADY_SHUTDOWN),
        ("Internal", POLYTRACE_ERROR_INTERNAL),
    ];
    assert_eq!(kinds.len(), polytrace_core::ErrorKind::ALL.len());
    for (name, code) in kinds {
        // SAFETY: a valid string.
        let (kind, msg) =
            fail(unsafe { polytrace_testing_error(name.as_ptr().cast(), name.len()) });
        assert_eq!(kind, code, "{name}: {msg}");
        assert!(msg.contains(name), "{msg}");
        assert_eq!(cstr(polytrace_error_kind_name(code)), name);
    }
    // SAFETY: a valid string.
    let (kind, _) =
        fail(unsafe { polytrace_testing_error(c"Nope".as_ptr(), POLYTRACE_NUL_TERMINATED) });
    assert_eq!(kind, POLYTRACE_ERROR_INVALID_ARGUMENT);
    // SAFETY: NULL is tolerated.
    invalid(unsafe { polytrace_testing_error(std::ptr::null(), 3) });
}
