//! The error mapping, once: a core [`Error`] becomes `{error, {Kind, Message}}` with `Kind` the
//! snake_case atom of the core's stable [`ErrorKind`] and `Message` a binary (a configuration
//! error about one option: `{error, {invalid_config, Message, #{problem => Problem, option =>
//! Option}}}`, from the core's structured error, never from the message), and every entry
//! point runs under [`guard`], so a Rust panic is `{error, {internal, Message}}`, never a crash
//! of the VM nor rustler's generic `nif_panicked`. Terms of the wrong type are `badarg`
//! (rustler's `Error::BadArg`); the Erlang side turns that into `badarg` naming the argument.

use polytrace_core::{ConfigProblem, Error, ErrorKind};
use rustler::{Atom, Encoder, Env, NifResult, Term};

rustler::atoms! {
    ok,
    error,
    invalid_argument,
    invalid_config,
    export,
    timeout,
    already_shutdown,
    internal,
    problem,
    option,
    unknown_option,
    duplicate_option,
    wrong_type,
    bad_value,
}

/// The one exhaustive match on the kind.
pub fn kind_atom(kind: ErrorKind) -> Atom {
    match kind {
        ErrorKind::InvalidArgument => invalid_argument(),
        ErrorKind::InvalidConfig => invalid_config(),
        ErrorKind::Export => export(),
        ErrorKind::Timeout => timeout(),
        ErrorKind::AlreadyShutdown => already_shutdown(),
        ErrorKind::Internal => internal(),
    }
}

/// The one exhaustive match on a configuration problem.
pub fn problem_atom(p: ConfigProblem) -> Atom {
    match p {
        ConfigProblem::UnknownOption => unknown_option(),
        ConfigProblem::DuplicateOption => duplicate_option(),
        ConfigProblem::WrongType => wrong_type(),
        ConfigProblem::BadValue => bad_value(),
    }
}

/// `{error, {Kind, Message}}`, or `{error, {invalid_config, Message, #{problem => Problem,
/// option => Option}}}` for a configuration error about one option (`Option` a binary: as the
/// caller spelled it, the canonical name for `duplicate_option`).
pub fn to_term<'a>(env: Env<'a>, e: &Error) -> Term<'a> {
    let kind = kind_atom(e.kind());
    if let (Some(p), Some(o)) = (e.config_problem(), e.option()) {
        let pairs = [
            (problem(), problem_atom(p).encode(env)),
            (option(), o.encode(env)),
        ];
        if let Ok(detail) = Term::map_from_pairs(env, &pairs) {
            return (error(), (kind, e.message(), detail)).encode(env);
        }
    }
    (error(), (kind, e.message())).encode(env)
}

/// What entry points compute: a term, a core error, or `badarg`.
pub enum Failure {
    /// A core error, returned as `{error, {Kind, Message}}`.
    Core(Error),
    /// A term of the wrong type: raised as `badarg`.
    BadArg,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

impl From<rustler::Error> for Failure {
    fn from(_: rustler::Error) -> Self {
        Failure::BadArg
    }
}

/// Result of an entry point's body.
pub type Outcome<T> = Result<T, Failure>;

/// Runs an entry point's body with panics caught: `Ok(term)` is returned as is, a core error as
/// `{error, {Kind, Message}}` (a panic as kind `internal`), a wrong term as `badarg`.
#[inline]
#[track_caller]
pub fn guard<'a>(env: Env<'a>, f: impl FnOnce() -> Outcome<Term<'a>>) -> NifResult<Term<'a>> {
    #[cfg(feature = "testing")]
    let caught = crate::timing::timed(std::panic::Location::caller(), || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
    });
    #[cfg(not(feature = "testing"))]
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    match caught {
        Ok(Ok(t)) => Ok(t),
        Ok(Err(Failure::Core(e))) => Ok(to_term(env, &e)),
        Ok(Err(Failure::BadArg)) => Err(rustler::Error::BadArg),
        Err(payload) => Ok(to_term(env, &Error::from_panic(payload.as_ref()))),
    }
}

/// `ok`, or `{error, {Kind, Message}}`.
pub fn unit<'a>(env: Env<'a>, r: polytrace_core::Result<()>) -> Outcome<Term<'a>> {
    Ok(match r {
        Ok(()) => ok().encode(env),
        Err(e) => to_term(env, &e),
    })
}
