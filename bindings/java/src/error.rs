//! The error mapping, once: a core [`Error`](polytrace_core::Error) becomes the Java exception
//! `io.polytrace.PolytraceException.<Kind>` (an unchecked exception; one subclass per
//! [`ErrorKind`]), and every entry point runs under [`entry!`](crate::entry), which catches
//! panics: the JVM aborts the process when a Rust panic unwinds into it.

use jni::errors::ErrorPolicy;
use jni::strings::{JNIStr, JNIString};
use jni::{jni_str, Env};
use polytrace_core::{Error as CoreError, ErrorKind};

/// What an entry point's body fails with: a core error (thrown as its kind's exception) or a
/// JNI failure (usually a Java exception already pending, e.g. an `OutOfMemoryError`).
#[derive(Debug)]
pub enum JError {
    /// A core error.
    Core(CoreError),
    /// A failed JNI call.
    Jni(jni::errors::Error),
}

impl From<CoreError> for JError {
    fn from(e: CoreError) -> Self {
        JError::Core(e)
    }
}

impl From<jni::errors::Error> for JError {
    fn from(e: jni::errors::Error) -> Self {
        JError::Jni(e)
    }
}

/// Result of an entry point's body.
pub type JResult<T> = Result<T, JError>;

/// The one exhaustive match on the kind: the exception class thrown for it.
fn class(kind: ErrorKind) -> &'static JNIStr {
    match kind {
        ErrorKind::InvalidArgument => jni_str!("io/polytrace/PolytraceException$InvalidArgument"),
        ErrorKind::InvalidConfig => jni_str!("io/polytrace/PolytraceException$InvalidConfig"),
        ErrorKind::Export => jni_str!("io/polytrace/PolytraceException$Export"),
        ErrorKind::Timeout => jni_str!("io/polytrace/PolytraceException$Timeout"),
        ErrorKind::AlreadyShutdown => jni_str!("io/polytrace/PolytraceException$AlreadyShutdown"),
        ErrorKind::Internal => jni_str!("io/polytrace/PolytraceException$Internal"),
    }
}

/// Throws `kind`'s exception with `message`, unless an exception is already pending (the
/// first one wins, as in Java).
fn throw(env: &mut Env<'_>, kind: ErrorKind, message: &str) {
    if env.exception_check() {
        return;
    }
    // A failure here (the class cannot be loaded) leaves that failure's exception pending.
    let _ = env.throw_new(class(kind), JNIString::new(message));
}

/// The error policy of every entry point: errors and panics become pending Java exceptions
/// and the method returns its type's default value (which Java never sees).
#[derive(Debug, Default)]
pub struct Throw;

impl<T: Default> ErrorPolicy<T, JError> for Throw {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut Self::Captures<'unowned_env_local, 'native_method>,
        err: JError,
    ) -> jni::errors::Result<T> {
        match err {
            JError::Core(e) => throw(env, e.kind(), e.message()),
            // The JVM already has the exception to throw.
            JError::Jni(jni::errors::Error::JavaException) => {}
            JError::Jni(e) => throw(env, ErrorKind::Internal, &format!("JNI call failed: {e}")),
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut Self::Captures<'unowned_env_local, 'native_method>,
        payload: Box<dyn std::any::Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        let e = CoreError::from_panic(payload.as_ref());
        // Dropping a payload runs user code that may itself panic: leak it instead.
        std::mem::forget(payload);
        throw(env, e.kind(), e.message());
        Ok(T::default())
    }
}

/// The body of an entry point: `entry!(env, |env| { ... })` runs the closure with a JNI
/// [`Env`] under `catch_unwind` and maps an error or a panic through [`Throw`].
#[macro_export]
macro_rules! entry {
    ($unowned:ident, |$env:ident| $body:expr) => {
        $unowned
            .with_env(|$env: &mut jni::Env<'_>| -> $crate::error::JResult<_> { $body })
            .resolve::<$crate::error::Throw>()
    };
}
