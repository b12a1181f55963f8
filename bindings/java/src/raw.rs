//! Hand-written JNI entry points for the per-request paths (`Native.inject`,
//! `Native.extract`): the `jni` crate's checked path costs about 170 ns per call before any
//! work (measured: a call returning a boolean), which would be most of a propagation's budget.
//! These take only primitives: the addresses and sizes of the calling thread's two direct
//! buffers (`Wire.Scratch`), read and written in place, so that a call makes no JNI call
//! besides itself (each array copy in and out was one, with a bounds and an exception check:
//! about a sixth of a propagation's time). They keep the same rules as every other entry
//! point: panics are caught, errors become `PolytraceException`s, and nothing runs once a
//! Java exception is pending.

use crate::error::{JError, JResult};
use crate::provider;
use crate::wire;
use jni::sys::{jclass, jint, jlong, jobject, JNIEnv};
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

/// The bytes at `address`, `length` of them (none for a null address or a length below one).
///
/// # Safety
/// `address` must be null or point to `length` bytes that stay valid, and that nothing else
/// reads or writes, for `'a`. `Wire.Scratch` passes its own direct buffer's address and
/// capacity (taken once by `Native.address`), keeps the buffer reachable, and uses it from
/// its one thread only.
unsafe fn region<'a>(address: jlong, length: jint) -> &'a mut [u8] {
    if address == 0 || length <= 0 {
        return &mut [];
    }
    // SAFETY: as the caller promises.
    unsafe { std::slice::from_raw_parts_mut(address as *mut u8, length as usize) }
}

/// One propagation call: `call` reads the `in_length` bytes at `input` and writes its answer at
/// `out`; returns the answer's length, or the negated length `out` must have when it is too
/// short.
///
/// # Safety
/// `input` and `out` are as [`region`] requires, and do not overlap.
unsafe fn propagate(
    env: *mut JNIEnv,
    handle: jlong,
    (input, in_length): (jlong, jint),
    (out, out_capacity): (jlong, jint),
    call: fn(jlong, &[u8], &mut wire::Writer<'_>) -> JResult<()>,
) -> jint {
    let raw = Raw(env);
    raw.run(|| {
        // SAFETY: as the caller promises.
        let (input, out) = unsafe { (region(input, in_length), region(out, out_capacity)) };
        let mut w = wire::Writer::new(out);
        Some(call(handle, input, &mut w).map(|()| {
            let n = w.needed().min(jint::MAX as usize) as jint;
            if w.fits() {
                n
            } else {
                -n
            }
        }))
    })
}

/// A propagation entry point `int name(long handle, long in, int inLength, long out, int
/// outCapacity)` over [`propagate`]; `in` and `out` are the addresses of the calling thread's
/// direct buffers (`Wire.Scratch`).
macro_rules! propagation_entry {
    ($(#[$doc:meta])* $name:ident => $call:path) => {
        $(#[$doc])*
        #[no_mangle]
        pub extern "system" fn $name(
            env: *mut JNIEnv,
            _class: jclass,
            handle: jlong,
            input: jlong,
            in_length: jint,
            out: jlong,
            out_capacity: jint,
        ) -> jint {
            // SAFETY: `Wire.Scratch`'s two buffers, distinct, as `region` requires.
            unsafe { propagate(env, handle, (input, in_length), (out, out_capacity), $call) }
        }
    };
}

propagation_entry!(
    /// `int inject(long handle, long in, int inLength, long out, int outCapacity)`: see
    /// [`provider::inject`]. Writes the headers into `out` and returns their length in bytes,
    /// or the negated length `out` must have when it is too short.
    Java_io_polytrace_Native_inject => provider::inject
);

propagation_entry!(
    /// `int extract(long handle, long in, int inLength, long out, int outCapacity)`: see
    /// [`provider::extract`]. Writes the context and baggage into `out` and returns their
    /// length in bytes, or the negated length `out` must have when it is too short.
    Java_io_polytrace_Native_extract => provider::extract
);

/// `long address(ByteBuffer buffer)`: the address of a direct buffer's memory, which
/// `Wire.Scratch` takes once per buffer and passes to [`Java_io_polytrace_Native_inject`] and
/// [`Java_io_polytrace_Native_extract`]. Throws `InvalidArgument` for a buffer that is not
/// direct.
#[no_mangle]
pub extern "system" fn Java_io_polytrace_Native_address(
    env: *mut JNIEnv,
    _class: jclass,
    buffer: jobject,
) -> jlong {
    let raw = Raw(env);
    let mut address = 0;
    raw.run(|| {
        // SAFETY: `buffer` is the method's argument, a live local reference (or null, which
        // GetDirectBufferAddress answers with null).
        let p = unsafe { (raw.table().v1_4.GetDirectBufferAddress)(raw.0, buffer) };
        if p.is_null() {
            return Some(Err(Error::invalid_argument("not a direct buffer").into()));
        }
        address = p as jlong;
        Some(Ok(0))
    });
    address
}
