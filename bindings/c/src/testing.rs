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

/// Resolves a configuration from `options` (strings, as `polytrace_provider_new` takes them)
/// over a fake environment `env` of (variable, value) pairs, every other variable unset,
/// without building a pipeline: the runner of the shared vectors `tests/vectors/config.json`.
/// On success `out_pairs` holds `*out_effective_len` pairs (option, effective value) followed by
/// `*out_warnings_len` pairs (environment variable, warning message), all pointing into `buf`,
/// NUL-terminated. An invalid option is the `InvalidConfig` error `polytrace_provider_new`
/// would return; too little room is an `InvalidArgument` error saying how much is needed. Only
/// in builds with the `testing` feature.
///
/// Ownership: borrows everything; the written pairs point into `buf`, which stays the caller's.
///
/// # Safety
/// `options` and `env` are NULL (with length 0) or point to that many pairs whose strings are
/// valid for their lengths; `out_pairs` is valid for `pairs_cap` pairs, `buf` for `buf_len`
/// bytes, the two lengths for a write.
#[no_mangle]
#[must_use]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn polytrace_testing_resolve_config(
    options: *const convert::polytrace_kv_t,
    options_len: usize,
    env: *const convert::polytrace_kv_t,
    env_len: usize,
    out_pairs: *mut convert::polytrace_kv_t,
    pairs_cap: usize,
    buf: *mut std::ffi::c_char,
    buf_len: usize,
    out_effective_len: *mut usize,
    out_warnings_len: *mut usize,
) -> *mut polytrace_error_t {
    call("polytrace_testing_resolve_config", || {
        // SAFETY: forwarded.
        unsafe { convert::write_out(out_effective_len, 0, "out_effective_len") }?;
        // SAFETY: forwarded.
        unsafe { convert::write_out(out_warnings_len, 0, "out_warnings_len") }?;
        // SAFETY: forwarded.
        let options = unsafe { convert::options(options, options_len) }?;
        // SAFETY: forwarded.
        let env = unsafe { convert::carrier(env, env_len) }?;
        let lookup = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        let (config, warnings) = polytrace_core::config::Config::resolve(&options, &lookup)?;
        let mut pairs = config.effective();
        let effective_len = pairs.len();
        pairs.extend(warnings.into_iter().map(|w| (w.variable, w.message)));
        // SAFETY: forwarded.
        unsafe {
            convert::write_pairs(
                &pairs,
                out_pairs,
                pairs_cap,
                buf,
                buf_len,
                "the configuration",
                "call again with at least that much room",
            )
        }?;
        // SAFETY: checked at the top.
        unsafe {
            out_effective_len.write(effective_len);
            out_warnings_len.write(pairs.len() - effective_len);
        }
        Ok(())
    })
}
