//! Hand-written JNI entry points for the per-request paths (`Native.inject`,
//! `Native.extract`): the `jni` crate's checked path costs about 170 ns per call before any
//! work (measured: a call returning a boolean), which would be most of a propagation's budget.
//! These take the JNI function table directly, move only primitive arrays, and keep the same
//! rules as every other entry point: panics are caught, errors become `PolytraceException`s,
//! and nothing runs once a Java exception is pending.

use crate::error::JError;
use crate::provider;
use jni::sys::{jbyte, jbyteArray, jclass, jint, jlong, jlongArray, jsize, JNIEnv};
use polytrace_core::{Error, ErrorKind};
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The calling thread's JNI environment, as the JVM passed it to a native method.
struct Raw(*mut JNIEnv);

impl Raw {
    fn table(&self) -> &jni::sys::JNINativeInterface_ {
        // SAFETY: the JVM passes a valid environment whose function table outlives the call.
        unsafe { &**self.0 }
    }

    fn exception(&self) -> bool {
        // SAFETY: ExceptionCheck may be called with an exception pending.
        unsafe { (self.table().v1_2.ExceptionCheck)(self.0) }
    }

    fn len(&self, a: jni::sys::jarray) -> usize {
        if a.is_null() {
            return 0;
        }
        // SAFETY: `a` is a live local reference to an array (the method's argument).
        let n = unsafe { (self.table().v1_1.GetArrayLength)(self.0, a) };
        n.max(0) as usize
    }

    /// The contents of a `byte[]` (`null` as empty).
    fn bytes(&self, a: jbyteArray) -> Option<Vec<u8>> {
        let n = self.len(a);
        let mut v = vec![0u8; n];
        if n > 0 {
            // SAFETY: `v` has room for the `n` elements the array has.
            unsafe {
                (self.table().v1_1.GetByteArrayRegion)(
                    self.0,
                    a,
                    0,
                    n as jsize,
                    v.as_mut_ptr().cast::<jbyte>(),
                )
            };
        }
        (!self.exception()).then_some(v)
    }

    /// Copies `bytes` into `out`; returns their length, or its negation when `out` is too short.
    fn put_bytes(&self, out: jbyteArray, bytes: &[u8]) -> jint {
        let n = bytes.len().min(jint::MAX as usize) as jint;
        if self.len(out) < bytes.len() {
            return -n;
        }
        // SAFETY: `out` holds at least `n` elements.
        unsafe {
            (self.table().v1_1.SetByteArrayRegion)(
                self.0,
                out,
                0,
                n,
                bytes.as_ptr().cast::<jbyte>(),
            )
        };
        n
    }

    fn longs<const N: usize>(&self, a: jlongArray) -> Option<[i64; N]> {
        let mut v = [0i64; N];
        if self.len(a) < N {
            self.throw(&Error::invalid_argument("an id array is too short"));
            return None;
        }
        // SAFETY: `a` holds at least `N` elements and `v` has room for them.
        unsafe { (self.table().v1_1.GetLongArrayRegion)(self.0, a, 0, N as jsize, v.as_mut_ptr()) };
        (!self.exception()).then_some(v)
    }

    fn put_longs(&self, a: jlongArray, v: &[i64]) -> bool {
        if self.len(a) < v.len() {
            self.throw(&Error::invalid_argument("an id array is too short"));
            return false;
        }
        // SAFETY: `a` holds at least `v.len()` elements.
        unsafe {
            (self.table().v1_1.SetLongArrayRegion)(self.0, a, 0, v.len() as jsize, v.as_ptr())
        };
        !self.exception()
    }

    /// Throws the error's `PolytraceException` subclass (unless an exception is pending).
    #[cold]
    #[inline(never)]
    fn throw(&self, e: &Error) {
        if self.exception() {
            return;
        }
        let class = match e.kind() {
            ErrorKind::InvalidArgument => c"io/polytrace/PolytraceException$InvalidArgument",
            ErrorKind::InvalidConfig => c"io/polytrace/PolytraceException$InvalidConfig",
            ErrorKind::Export => c"io/polytrace/PolytraceException$Export",
            ErrorKind::Timeout => c"io/polytrace/PolytraceException$Timeout",
            ErrorKind::AlreadyShutdown => c"io/polytrace/PolytraceException$AlreadyShutdown",
            ErrorKind::Internal => c"io/polytrace/PolytraceException$Internal",
        };
        let msg = CString::new(e.message().replace('\0', " ")).unwrap_or_default();
        // SAFETY: valid NUL-terminated strings; FindClass failing leaves its own exception.
        unsafe {
            let cls = (self.table().v1_1.FindClass)(self.0, class.as_ptr());
            if !cls.is_null() {
                (self.table().v1_1.ThrowNew)(self.0, cls, msg.as_ptr());
            }
        }
    }

    /// Runs `f` with panics caught; an error or a panic is thrown and `0` returned.
    fn run(&self, f: impl FnOnce() -> Option<Result<jint, JError>>) -> jint {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(Some(Ok(n))) => n,
            Ok(None) => 0,
            Ok(Some(Err(JError::Core(e)))) => {
                self.throw(&e);
                0
            }
            Ok(Some(Err(JError::Jni(e)))) => {
                self.throw(&Error::internal(format!("JNI call failed: {e}")));
                0
            }
            Err(payload) => {
                let e = Error::from_panic(payload.as_ref());
                std::mem::forget(payload);
                self.throw(&e);
                0
            }
        }
    }
}

/// `int inject(long handle, long[] context, byte[] in, byte[] out)`: see
/// [`provider::inject`]. Writes the headers into `out` and returns their length in bytes, or
/// the negated length `out` must have when it is too short.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_inject(
    env: *mut JNIEnv,
    _class: jclass,
    handle: jlong,
    context: jlongArray,
    input: jbyteArray,
    out: jbyteArray,
) -> jint {
    let raw = Raw(env);
    raw.run(|| {
        let ids = raw.longs::<5>(context)?;
        let input = raw.bytes(input)?;
        Some(provider::inject(handle, ids, &input).map(|b| raw.put_bytes(out, &b)))
    })
}

/// `int extract(long handle, byte[] in, long[] out, byte[] result)`: see
/// [`provider::extract`]. Writes the ids into `out` and the rest into `result`; returns the
/// length of `result` (negated when it is too short).
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_extract(
    env: *mut JNIEnv,
    _class: jclass,
    handle: jlong,
    input: jbyteArray,
    out: jlongArray,
    result: jbyteArray,
) -> jint {
    let raw = Raw(env);
    raw.run(|| {
        let input = raw.bytes(input)?;
        Some(provider::extract(handle, &input).map(|(ids, b)| {
            if raw.put_longs(out, &ids) {
                raw.put_bytes(result, &b)
            } else {
                0
            }
        }))
    })
}
