//! The one error type of the core, with a stable [`ErrorKind`] that every binding maps
//! exhaustively onto its host idiom (exception class, `Error.code`, `{error, {Kind, Msg}}`,
//! Java exception subclass, C error object).
//!
//! An [`ErrorKind::InvalidConfig`] error about one explicit option also carries a
//! machine-readable detail: what is wrong with it ([`ConfigProblem`]) and the option's name
//! ([`Error::option`]). Bindings choose their host's exception from these, never from the
//! message, which is for people.

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

/// What is wrong with an explicit configuration option: the machine-readable half of an
/// [`ErrorKind::InvalidConfig`] error (see [`Error::config_problem`]). Stable: bindings map it
/// onto their host's exceptions (Node: `TypeError` for the first three, `RangeError` for
/// `BadValue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigProblem {
    /// No option has this name (in any spelling: `max_queue_size`, `maxQueueSize`,
    /// `max-queue-size`).
    UnknownOption,
    /// The same option was given twice, in two spellings (`serviceName` and `service_name`).
    DuplicateOption,
    /// The value's type is not one the option accepts (a boolean for `max_queue_size`).
    WrongType,
    /// The value has an accepted type but the option cannot use it (`max_queue_size` 0, an
    /// unknown sampler name, an endpoint without a scheme).
    BadValue,
}

impl ConfigProblem {
    /// Every problem, for bindings and tests that enumerate them.
    pub const ALL: [ConfigProblem; 4] = [
        ConfigProblem::UnknownOption,
        ConfigProblem::DuplicateOption,
        ConfigProblem::WrongType,
        ConfigProblem::BadValue,
    ];

    /// The problem's stable name (`"UnknownOption"`, ...), as bindings expose it.
    pub fn name(self) -> &'static str {
        match self {
            ConfigProblem::UnknownOption => "UnknownOption",
            ConfigProblem::DuplicateOption => "DuplicateOption",
            ConfigProblem::WrongType => "WrongType",
            ConfigProblem::BadValue => "BadValue",
        }
    }

    /// Parses a problem from its [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<ConfigProblem> {
        ConfigProblem::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The detail of a configuration error about one option.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ConfigDetail {
    problem: ConfigProblem,
    /// The option's name as the caller spelled it.
    option: Box<str>,
    /// The canonical (snake_case) name, when the name is a known option.
    canonical: Option<&'static str>,
}

/// A core error: a stable kind, a message meant for a human and, for a configuration error
/// about one option, what is wrong and which option (see [`Error::config_problem`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    // A boxed str and a boxed detail keep `Error` (and so every `Result`) as small as a
    // kind and a `String` were: 32 bytes on 64-bit targets.
    message: Box<str>,
    detail: Option<Box<ConfigDetail>>,
}

impl Error {
    /// Creates an error of `kind` with a readable `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into().into_boxed_str(),
            detail: None,
        }
    }

    /// An [`ErrorKind::InvalidConfig`] error about the option `option` (as the caller spelled
    /// it; `canonical` is its snake_case name when it is a known option). The core's
    /// `config::option_error` fills `canonical` in from the table of options.
    pub fn config(
        problem: ConfigProblem,
        option: &str,
        canonical: Option<&'static str>,
        message: impl Into<String>,
    ) -> Self {
        Error {
            detail: Some(Box::new(ConfigDetail {
                problem,
                option: option.into(),
                canonical,
            })),
            ..Error::new(ErrorKind::InvalidConfig, message)
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

    /// For an [`ErrorKind::InvalidConfig`] error about one explicit option: what is wrong with
    /// it. `None` for every other error, and for configuration errors found later than option
    /// checking (a TLS file that cannot be read when the exporter is built).
    pub fn config_problem(&self) -> Option<ConfigProblem> {
        self.detail.as_ref().map(|d| d.problem)
    }

    /// The option a configuration error is about, as the caller spelled it (`maxQueueSize`),
    /// except for [`ConfigProblem::DuplicateOption`], where it is the canonical name (the
    /// caller spelled it two ways); `None` when [`config_problem`](Self::config_problem) is
    /// `None`.
    pub fn option(&self) -> Option<&str> {
        self.detail.as_ref().map(|d| &*d.option)
    }

    /// The canonical (snake_case) name of the option a configuration error is about
    /// (`max_queue_size`); `None` for an unknown option and for errors without a
    /// [`config_problem`](Self::config_problem).
    pub fn canonical_option(&self) -> Option<&'static str> {
        self.detail.as_ref().and_then(|d| d.canonical)
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
    fn error_stays_small() {
        // Every `Result` carries one; the detail must not make them bigger than a kind and a
        // `String` were.
        assert!(std::mem::size_of::<Error>() <= 32);
    }

    #[test]
    fn config_detail_accessors() {
        let e = Error::config(
            ConfigProblem::WrongType,
            "maxQueueSize",
            Some("max_queue_size"),
            "bad",
        );
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        assert_eq!(e.config_problem(), Some(ConfigProblem::WrongType));
        assert_eq!(e.option(), Some("maxQueueSize"));
        assert_eq!(e.canonical_option(), Some("max_queue_size"));
        assert_eq!(e.message(), "bad");
        let plain = Error::invalid_config("no detail");
        assert_eq!(plain.config_problem(), None);
        assert_eq!(plain.option(), None);
        assert_eq!(plain.canonical_option(), None);
        for p in ConfigProblem::ALL {
            assert_eq!(ConfigProblem::from_name(p.name()), Some(p));
        }
        assert_eq!(ConfigProblem::from_name("Nope"), None);
    }

    #[test]
    fn kinds_round_trip_by_name() {
        for k in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(k.name()), Some(k));
        }
        assert_eq!(ErrorKind::from_name("Nope"), None);
    }
}
