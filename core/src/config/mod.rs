//! Configuration, resolved once: explicit option > `OTEL_*` environment variable > default of
//! the OpenTelemetry specification. Bindings pass options by the same names (snake_case here,
//! host-cased in the binding) and never read the environment themselves.
//!
//! Where things are:
//!
//! * `options.rs` — **the table of options** ([`OPTIONS`]): per option its name, `OTEL_*`
//!   variables, type ([`Kind`]), default, documentation and effective-config form. The
//!   accepted names, [`normalize_option_name`], [`Config::effective`] and the tables of
//!   `docs/configuration.md` ([`docs`]) are derived from it;
//! * `parse.rs` — how each kind of value is parsed from environment text and from a typed
//!   [`OptionValue`], and the parsing helpers;
//! * `resolve.rs` — [`Config::resolve`]: each setting through its row, in dependency order;
//! * `types.rs` — [`Config`] and its parts, [`OptionValue`], [`ConfigWarning`], defaults.
//!
//! Two kinds of bad input are treated differently on purpose:
//!
//! * an **invalid environment value** never fails: the variable is ignored as if it were unset
//!   (the specification's rule), the next source in the chain (generic variable, then default)
//!   is used and a [`ConfigWarning`] names the variable, the value and what was used instead;
//! * an **invalid explicit option** (unknown name, wrong type, bad value, given twice) is a
//!   programming error in the host application, so [`Config::resolve`] returns an
//!   [`ErrorKind::InvalidConfig`] error whose message names the option and which carries the
//!   [`ConfigProblem`] and the option's name ([`Error::config_problem`], [`Error::option`]);
//!   bindings raise their host's exception from those, never from the message.
//!
//! Empty (or all-whitespace) environment values are treated as unset, as the specification
//! requires. The full table of variables and options is in `docs/configuration.md`.
//!
//! [`ErrorKind::InvalidConfig`]: crate::error::ErrorKind::InvalidConfig
//! [`ConfigProblem`]: crate::error::ConfigProblem
//! [`Error::config_problem`]: crate::error::Error::config_problem
//! [`Error::option`]: crate::error::Error::option

pub mod docs;
mod options;
mod parse;
mod resolve;
pub use resolve::env_var;
mod sampler_arg;
mod types;

pub use options::{
    add_default_option, find_option, normalize_option_name, option_error, EnvVar, Kind, OptionDef,
    Section, OPTIONS, OPTION_NAMES,
};
pub use sampler_arg::{
    JaegerRemoteConfig, RemoteTransport, DEFAULT_JAEGER_REMOTE_ENDPOINT,
    DEFAULT_JAEGER_REMOTE_INITIAL_RATE, DEFAULT_JAEGER_REMOTE_POLLING_MS,
};
pub use types::*;
