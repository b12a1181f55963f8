//! The error object, the one `match` from core [`ErrorKind`] to C constants, and the guard
//! every entry point runs under.

use crate::handle::{tag, Pool, RESERVED_INDEX};
use polytrace_core::{ConfigProblem, Error, ErrorKind, Result};
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

/// An error returned by a polytrace function. NULL means success.
///
/// Ownership: the caller owns every non-NULL error it receives and frees it with
/// `polytrace_error_free`. Freeing twice, or freeing NULL, is harmless.
pub struct polytrace_error_t {
    _private: [u8; 0],
}

/// The kind of a `polytrace_error_t` (one of the `POLYTRACE_ERROR_*` constants). Stable: the
/// same kinds, with the same names, exist in every polytrace language binding.
pub type polytrace_error_kind_t = u32;

/// No error (what `polytrace_error_kind(NULL)` returns).
pub const POLYTRACE_ERROR_NONE: polytrace_error_kind_t = 0;
/// A caller passed a value the API cannot accept: NULL or freed handle, an option that is not
/// UTF-8, an unknown enum value, a too small buffer, a second `polytrace_span_end`.
pub const POLYTRACE_ERROR_INVALID_ARGUMENT: polytrace_error_kind_t = 1;
/// An explicit configuration option is invalid (unknown name, bad value).
pub const POLYTRACE_ERROR_INVALID_CONFIG: polytrace_error_kind_t = 2;
/// Exporting to the back end failed.
pub const POLYTRACE_ERROR_EXPORT: polytrace_error_kind_t = 3;
/// Flush or shutdown did not finish within its timeout.
pub const POLYTRACE_ERROR_TIMEOUT: polytrace_error_kind_t = 4;
/// The provider was already shut down.
pub const POLYTRACE_ERROR_ALREADY_SHUTDOWN: polytrace_error_kind_t = 5;
/// A bug in polytrace: an internal invariant failed or a panic was caught.
pub const POLYTRACE_ERROR_INTERNAL: polytrace_error_kind_t = 6;

/// What is wrong with a configuration option (`polytrace_error_config_problem`), for an
/// `POLYTRACE_ERROR_INVALID_CONFIG` error about one option. Stable: the same problems, with the
/// same names, exist in every polytrace language binding.
pub type polytrace_config_problem_t = u32;

/// Not a configuration error about one option (every other error, and NULL).
pub const POLYTRACE_CONFIG_PROBLEM_NONE: polytrace_config_problem_t = 0;
/// No option has this name (in any spelling: `max_queue_size`, `maxQueueSize`).
pub const POLYTRACE_CONFIG_PROBLEM_UNKNOWN_OPTION: polytrace_config_problem_t = 1;
/// The same option was given twice, in two spellings.
pub const POLYTRACE_CONFIG_PROBLEM_DUPLICATE_OPTION: polytrace_config_problem_t = 2;
/// The value's type is not one the option accepts (the C API passes strings, which every option
/// accepts, so C callers do not see it; other bindings do).
pub const POLYTRACE_CONFIG_PROBLEM_WRONG_TYPE: polytrace_config_problem_t = 3;
/// The option cannot use the value (`max_queue_size` `"0"`, an unknown sampler name).
pub const POLYTRACE_CONFIG_PROBLEM_BAD_VALUE: polytrace_config_problem_t = 4;

pub(crate) struct ErrorObj {
    kind: ErrorKind,
    message: CString,
    /// For a configuration error about one option: what is wrong and the option's name.
    config: Option<(ConfigProblem, CString)>,
}

static ERRORS: Pool<ErrorObj, { tag::ERROR }> = Pool::new("polytrace_error_t");

/// The one mapping from core kinds to C constants.
pub(crate) fn kind_code(kind: ErrorKind) -> polytrace_error_kind_t {
    match kind {
        ErrorKind::InvalidArgument => POLYTRACE_ERROR_INVALID_ARGUMENT,
        ErrorKind::InvalidConfig => POLYTRACE_ERROR_INVALID_CONFIG,
        ErrorKind::Export => POLYTRACE_ERROR_EXPORT,
        ErrorKind::Timeout => POLYTRACE_ERROR_TIMEOUT,
        ErrorKind::AlreadyShutdown => POLYTRACE_ERROR_ALREADY_SHUTDOWN,
        ErrorKind::Internal => POLYTRACE_ERROR_INTERNAL,
    }
}

/// The one mapping from core configuration problems to C constants.
pub(crate) fn problem_code(problem: ConfigProblem) -> polytrace_config_problem_t {
    match problem {
        ConfigProblem::UnknownOption => POLYTRACE_CONFIG_PROBLEM_UNKNOWN_OPTION,
        ConfigProblem::DuplicateOption => POLYTRACE_CONFIG_PROBLEM_DUPLICATE_OPTION,
        ConfigProblem::WrongType => POLYTRACE_CONFIG_PROBLEM_WRONG_TYPE,
        ConfigProblem::BadValue => POLYTRACE_CONFIG_PROBLEM_BAD_VALUE,
    }
}

/// Returned when not even an error object can be made (2^24 − 1 errors are alive: the caller
/// never frees them). Reads as `Internal`; freeing it does nothing.
fn fallback() -> *mut polytrace_error_t {
    ERRORS.encode(RESERVED_INDEX, 0)
}

fn is_fallback(err: *const polytrace_error_t) -> bool {
    err == fallback().cast_const()
}

const FALLBACK_MESSAGE: &CStr =
    c"too many live polytrace_error_t objects: errors must be freed with polytrace_error_free";
const STALE_MESSAGE: &CStr = c"invalid polytrace_error_t (already freed, or not an error)";

/// Turns a core error into a new C error object, the message prefixed by the function name.
#[cold]
#[inline(never)]
pub(crate) fn into_c(function: &str, e: Error) -> *mut polytrace_error_t {
    let made = catch_unwind(AssertUnwindSafe(|| {
        let text = format!("{function}: {}", e.message()).replace('\0', "\\0");
        let message = CString::new(text).unwrap_or_default();
        let config = e.config_problem().map(|p| {
            let option = e.option().unwrap_or_default().replace('\0', "\\0");
            (p, CString::new(option).unwrap_or_default())
        });
        ERRORS.insert(ErrorObj {
            kind: e.kind(),
            message,
            config,
        })
    }));
    match made {
        Ok(Ok(p)) => p,
        _ => fallback(),
    }
}

/// Runs an entry point's body under `catch_unwind`: `Ok` is NULL, an error or a panic becomes
/// an error object. (The core's `guard`, written out so that the success path is inlined into
/// each entry point: no `Result` goes through memory when nothing failed.)
#[inline(always)]
pub(crate) fn call(function: &str, f: impl FnOnce() -> Result<()>) -> *mut polytrace_error_t {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => ptr::null_mut(),
        Ok(Err(e)) => into_c(function, e),
        Err(payload) => panicked(function, payload),
    }
}

/// Runs an entry point's fast path under `catch_unwind`: `f` returns `false` when it did
/// nothing because the call needs the general path (an error to report, a lock to wait for, a
/// string to check), and then this returns `None`. A panic becomes an error object, as in
/// [`call`]. The fast path makes no error and moves no `Result` around; the general path, out
/// of line, does everything again from the start with every check and message.
#[inline(always)]
pub(crate) fn try_call(function: &str, f: impl FnOnce() -> bool) -> Option<*mut polytrace_error_t> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(true) => Some(ptr::null_mut()),
        Ok(false) => None,
        Err(payload) => Some(panicked(function, payload)),
    }
}

#[cold]
#[inline(never)]
fn panicked(function: &str, payload: Box<dyn std::any::Any + Send>) -> *mut polytrace_error_t {
    into_c(function, Error::from_panic(payload.as_ref()))
}

/// Runs a getter under `catch_unwind`, returning `default` if it panics.
#[inline]
pub(crate) fn getter<T>(default: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(default)
}

/// Reports a misuse that a `void` function cannot return (a double free) through the core's
/// diagnostics (stderr by default), once per function and message.
pub(crate) fn report(function: &str, e: &Error) {
    let message = format!("{function}: {} (ignored)", e.message());
    polytrace_core::diag::emit_once(polytrace_core::diag::Level::Warn, &message, &message);
}

/// The kind of `err`: `POLYTRACE_ERROR_NONE` for NULL, `POLYTRACE_ERROR_INVALID_ARGUMENT` for a
/// freed or foreign pointer.
///
/// Ownership: borrows `err`.
///
/// # Safety
/// `err` is NULL or a value returned by polytrace (freed values are detected, see README).
#[no_mangle]
pub unsafe extern "C" fn polytrace_error_kind(
    err: *const polytrace_error_t,
) -> polytrace_error_kind_t {
    getter(POLYTRACE_ERROR_INTERNAL, || {
        if err.is_null() {
            POLYTRACE_ERROR_NONE
        } else if is_fallback(err) {
            POLYTRACE_ERROR_INTERNAL
        } else {
            match ERRORS.get(err) {
                Ok(e) => kind_code(e.kind),
                Err(_) => POLYTRACE_ERROR_INVALID_ARGUMENT,
            }
        }
    })
}

/// The message of `err`, NUL-terminated UTF-8, starting with the name of the function that
/// failed. Never NULL: `""` for a NULL `err`, a fixed text for a freed one.
///
/// Ownership: the string belongs to `err`; it stays valid until `err` is freed. Do not free it.
///
/// # Safety
/// `err` is NULL or a value returned by polytrace. Do not free `err` on another thread while
/// using the returned string.
#[no_mangle]
pub unsafe extern "C" fn polytrace_error_message(err: *const polytrace_error_t) -> *const c_char {
    getter(STALE_MESSAGE.as_ptr(), || {
        if err.is_null() {
            c"".as_ptr()
        } else if is_fallback(err) {
            FALLBACK_MESSAGE.as_ptr()
        } else {
            match ERRORS.get(err) {
                // The CString's heap buffer does not move when the slot lock is released.
                Ok(e) => e.message.as_ptr(),
                Err(_) => STALE_MESSAGE.as_ptr(),
            }
        }
    })
}

/// What is wrong with the configuration option a `POLYTRACE_ERROR_INVALID_CONFIG` error is
/// about (one of the `POLYTRACE_CONFIG_PROBLEM_*` constants): choose a reaction from this, not
/// from the message. `POLYTRACE_CONFIG_PROBLEM_NONE` for NULL, for every other error, and for
/// configuration errors found after the options were checked (a TLS file that cannot be read).
///
/// Ownership: borrows `err`.
///
/// # Safety
/// `err` is NULL or a value returned by polytrace (freed values are detected, see README).
#[no_mangle]
pub unsafe extern "C" fn polytrace_error_config_problem(
    err: *const polytrace_error_t,
) -> polytrace_config_problem_t {
    getter(POLYTRACE_CONFIG_PROBLEM_NONE, || {
        if err.is_null() || is_fallback(err) {
            return POLYTRACE_CONFIG_PROBLEM_NONE;
        }
        match ERRORS.get(err) {
            Ok(e) => e
                .config
                .as_ref()
                .map_or(POLYTRACE_CONFIG_PROBLEM_NONE, |(p, _)| problem_code(*p)),
            Err(_) => POLYTRACE_CONFIG_PROBLEM_NONE,
        }
    })
}

/// The option a configuration error is about, NUL-terminated UTF-8, as it was passed to
/// `polytrace_provider_new` (`"maxQueueSize"`; for `POLYTRACE_CONFIG_PROBLEM_DUPLICATE_OPTION`
/// the canonical name, `"max_queue_size"`). NULL when `polytrace_error_config_problem` is
/// `POLYTRACE_CONFIG_PROBLEM_NONE`.
///
/// Ownership: the string belongs to `err`; it stays valid until `err` is freed. Do not free it.
///
/// # Safety
/// `err` is NULL or a value returned by polytrace. Do not free `err` on another thread while
/// using the returned string.
#[no_mangle]
pub unsafe extern "C" fn polytrace_error_option(err: *const polytrace_error_t) -> *const c_char {
    getter(ptr::null(), || {
        if err.is_null() || is_fallback(err) {
            return ptr::null();
        }
        match ERRORS.get(err) {
            // The CString's heap buffer does not move when the slot lock is released.
            Ok(e) => e.config.as_ref().map_or(ptr::null(), |(_, o)| o.as_ptr()),
            Err(_) => ptr::null(),
        }
    })
}

/// The stable name of a configuration problem (`"UnknownOption"`, `"DuplicateOption"`,
/// `"WrongType"`, `"BadValue"`, `"None"` for `POLYTRACE_CONFIG_PROBLEM_NONE`, `"Unknown"`
/// otherwise), as every polytrace binding spells it.
///
/// Ownership: a static string; do not free it.
#[no_mangle]
pub extern "C" fn polytrace_config_problem_name(
    problem: polytrace_config_problem_t,
) -> *const c_char {
    let name: &'static CStr = match problem {
        POLYTRACE_CONFIG_PROBLEM_NONE => c"None",
        POLYTRACE_CONFIG_PROBLEM_UNKNOWN_OPTION => c"UnknownOption",
        POLYTRACE_CONFIG_PROBLEM_DUPLICATE_OPTION => c"DuplicateOption",
        POLYTRACE_CONFIG_PROBLEM_WRONG_TYPE => c"WrongType",
        POLYTRACE_CONFIG_PROBLEM_BAD_VALUE => c"BadValue",
        _ => c"Unknown",
    };
    name.as_ptr()
}

/// The stable name of an error kind (`"InvalidArgument"`, ..., `"None"` for
/// `POLYTRACE_ERROR_NONE`, `"Unknown"` otherwise), as every polytrace binding spells it.
///
/// Ownership: a static string; do not free it.
#[no_mangle]
pub extern "C" fn polytrace_error_kind_name(kind: polytrace_error_kind_t) -> *const c_char {
    let name: &'static CStr = match kind {
        POLYTRACE_ERROR_NONE => c"None",
        POLYTRACE_ERROR_INVALID_ARGUMENT => c"InvalidArgument",
        POLYTRACE_ERROR_INVALID_CONFIG => c"InvalidConfig",
        POLYTRACE_ERROR_EXPORT => c"Export",
        POLYTRACE_ERROR_TIMEOUT => c"Timeout",
        POLYTRACE_ERROR_ALREADY_SHUTDOWN => c"AlreadyShutdown",
        POLYTRACE_ERROR_INTERNAL => c"Internal",
        _ => c"Unknown",
    };
    name.as_ptr()
}

/// Frees an error. NULL is ignored; freeing twice is detected, reported once through the
/// diagnostics handler, and otherwise ignored.
///
/// Ownership: takes `err`; the pointer (and its message) is invalid afterwards.
///
/// # Safety
/// `err` is NULL or a value returned by polytrace.
#[no_mangle]
pub unsafe extern "C" fn polytrace_error_free(err: *mut polytrace_error_t) {
    getter((), || {
        if err.is_null() || is_fallback(err) {
            return;
        }
        if let Err(e) = ERRORS.free(err) {
            report("polytrace_error_free", &e);
        }
    })
}
