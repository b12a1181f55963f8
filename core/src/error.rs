//! The one error type of the core, with a stable [`ErrorKind`] that every binding maps
//! exhaustively onto its host idiom (exception class, `Error.code`, `{error, {Kind, Msg}}`,
//! Java exception subclass, C error object).

use std::fmt;

/// Stable classification of a core error. Bindings match on it exhaustively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A caller passed a value the API cannot accept (wrong type, bad hex id, ...).
    InvalidArgument,
    /// An explicit configuration option is invalid (unknown name, bad value).
    InvalidConfig,
    /// Exporting to the back end failed.
    Export,
    /// An operation (flush, shutdown) did not finish within its timeout.
    Timeout,
    /// The provider was already shut down.
    AlreadyShutdown,
    /// A bug: an internal invariant failed or a panic was caught.
    Internal,
}

impl ErrorKind {
    /// The kind's stable name, as bindings expose it (`"InvalidArgument"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "InvalidArgument",
            ErrorKind::InvalidConfig => "InvalidConfig",
            ErrorKind::Export => "Export",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::AlreadyShutdown => "AlreadyShutdown",
            ErrorKind::Internal => "Internal",
        }
    }

    /// Every kind, for bindings and tests that enumerate them.
    pub const ALL: [ErrorKind; 6] = [
        ErrorKind::InvalidArgument,
        ErrorKind::InvalidConfig,
        ErrorKind::Export,
        ErrorKind::Timeout,
        ErrorKind::AlreadyShutdown,
        ErrorKind::Internal,
    ];

    /// Parses a kind from its [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A core error: a stable kind and a message meant for a human.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// Creates an error of `kind` with a readable `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// Shorthand for [`ErrorKind::InvalidArgument`].
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    /// Shorthand for [`ErrorKind::InvalidConfig`].
    pub fn invalid_config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidConfig, message)
    }

    /// Shorthand for [`ErrorKind::Internal`].
    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Internal, message)
    }

    /// The stable kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable message (without the kind).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Turns a caught panic payload into an [`ErrorKind::Internal`] error. Bindings call this
    /// from their `guard` around `catch_unwind`.
    pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> Self {
        let what = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "unknown panic payload".to_string()
        };
        Error::internal(format!("panic in polytrace core: {what}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for Error {}

/// Result alias used throughout the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs `f`, turning a panic into an [`ErrorKind::Internal`] error. Every FFI entry point of
/// every binding goes through this (or its binding-specific wrapper).
pub fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(Error::from_panic(payload.as_ref())),
    }
}

/// Test-only entry points that let every binding prove its error and panic mapping.
#[cfg(feature = "testing")]
pub mod testing {
    use super::{Error, ErrorKind, Result};

    /// Panics on purpose. Bindings call it under their guard and expect `Internal`.
    #[allow(clippy::panic)]
    pub fn panic_now() -> Result<()> {
        panic!("polytrace testing panic")
    }

    /// Returns an error of the named kind (see [`ErrorKind::name`]).
    pub fn error(kind: &str) -> Result<()> {
        match ErrorKind::from_name(kind) {
            Some(k) => Err(Error::new(k, format!("testing error of kind {kind}"))),
            None => Err(Error::invalid_argument(format!(
                "unknown error kind '{kind}'"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_turns_panic_into_internal() {
        #[allow(clippy::panic)]
        let r: Result<()> = guard(|| panic!("boom"));
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal);
        assert!(e.message().contains("boom"), "{e}");
    }

    #[test]
    fn kinds_round_trip_by_name() {
        for k in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(k.name()), Some(k));
        }
        assert_eq!(ErrorKind::from_name("Nope"), None);
    }
}
