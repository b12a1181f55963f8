//! The error mapping, once: a core [`Error`](polytrace_core::Error) becomes a JavaScript
//! `Error` whose `code` is the core's stable [`ErrorKind`] name (`'InvalidConfig'`,
//! `'Internal'`, ...), and every entry point runs under [`guard`], because napi-rs aborts the
//! process when a panic reaches it. A configuration error about one option is thrown by
//! [`throw`] as the `TypeError` or `RangeError` its [`ConfigProblem`] calls for.

use napi::bindgen_prelude::{Env, JsObjectValue, Object};
use napi::{JsRangeError, JsTypeError, JsValue, Status};
use polytrace_core::{ConfigProblem, Error as CoreError, ErrorKind};

/// The `code` of a thrown error: a core kind name, or napi's status name when a JavaScript
/// value could not be converted at all.
#[derive(Debug, Clone)]
pub struct Code(pub &'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl From<Status> for Code {
    fn from(_: Status) -> Self {
        // napi-rs's own failures (a value of the wrong JavaScript type) are invalid arguments.
        Code(kind_code(ErrorKind::InvalidArgument))
    }
}

/// What entry points return: thrown as an `Error` with `code`.
pub type JsError = napi::Error<Code>;
/// Result of an entry point.
pub type JsResult<T> = std::result::Result<T, JsError>;

/// The one exhaustive match on the kind.
pub fn kind_code(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidArgument => "InvalidArgument",
        ErrorKind::InvalidConfig => "InvalidConfig",
        ErrorKind::Export => "Export",
        ErrorKind::Timeout => "Timeout",
        ErrorKind::AlreadyShutdown => "AlreadyShutdown",
        ErrorKind::Internal => "Internal",
    }
}

/// A core error as a JavaScript error.
pub fn to_js(e: CoreError) -> JsError {
    napi::Error::new(Code(kind_code(e.kind())), e.message().to_string())
}

/// Which JavaScript error class a configuration problem is: a name or type the option never
/// takes is a `TypeError`, a value of the right type that it cannot use a `RangeError`.
fn is_type_error(problem: ConfigProblem) -> bool {
    match problem {
        ConfigProblem::UnknownOption
        | ConfigProblem::DuplicateOption
        | ConfigProblem::WrongType => true,
        ConfigProblem::BadValue => false,
    }
}

/// A core error as entry points that have the `Env` throw it: a configuration error about one
/// option is a `TypeError` or `RangeError` (see [`is_type_error`]) with `code:
/// 'InvalidConfig'`, `option` (the name as the caller spelled it) and `problem` (the core's
/// [`ConfigProblem`] name); a configuration error found later (a TLS file that cannot be read
/// when the exporter is built) is a `RangeError` with `code: 'InvalidConfig'` only. Both have
/// a message starting `polytrace: `. Any other error is what [`to_js`] makes.
pub fn throw(env: &Env, e: CoreError) -> JsError {
    if e.kind() != ErrorKind::InvalidConfig {
        return to_js(e);
    }
    let problem = e.config_problem();
    let message = format!("polytrace: {}", e.message());
    let base = napi::Error::new(Code(kind_code(e.kind())), message);
    let value = if problem.is_some_and(is_type_error) {
        JsTypeError::from(base).into_unknown(*env)
    } else {
        JsRangeError::from(base).into_unknown(*env)
    };
    let thrown = value.coerce_to_object().and_then(|mut obj: Object| {
        if let (Some(problem), Some(option)) = (problem, e.option()) {
            obj.set_named_property("option", option)?;
            obj.set_named_property("problem", problem.name())?;
        }
        env.throw(obj)
    });
    match thrown {
        // napi-rs leaves a pending exception in place when the status says so.
        Ok(()) => napi::Error::new(Code("PendingException"), ""),
        // The environment could not build the object (it is shutting down): a plain error.
        Err(_) => to_js(e),
    }
}

/// Runs `f` with panics caught: a panic becomes an `Internal` error, never an abort.
pub fn guard<T>(f: impl FnOnce() -> polytrace_core::Result<T>) -> JsResult<T> {
    polytrace_core::guard(f).map_err(to_js)
}

/// Like [`guard`] for bodies that already speak [`JsResult`] (they convert JavaScript values).
pub fn guard_js<T>(f: impl FnOnce() -> JsResult<T>) -> JsResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(to_js(CoreError::from_panic(payload.as_ref()))),
    }
}

/// An error as the `[code, message]` pair that asynchronous tasks resolve with (a promise
/// rejection cannot carry a custom `code` through napi-rs; the JavaScript side rebuilds it).
pub fn to_pair(e: &CoreError) -> Vec<String> {
    vec![kind_code(e.kind()).to_string(), e.message().to_string()]
}
