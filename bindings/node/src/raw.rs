//! Hand-written Node-API functions for the per-span paths.
//!
//! napi-rs's generated glue checks and converts every argument into owned Rust values and
//! creates references for typed arrays; measured here, a napi-rs method with two string
//! arguments costs about as much as a whole span of the JavaScript SDK. These functions take
//! exactly what they need straight from Node-API: a typed array's bytes in place, a short
//! string into a stack buffer.
//!
//! - `submit(batch, length, started, fresh)` — hands a packed batch of finished spans to the
//!   provider's decoder thread ([`crate::decode`]); returns 1 when JavaScript must number its
//!   strings afresh; bound to one provider.
//! - `fillIds(spanWords, traceWords)` — fills the id pool with fresh ids from the core's
//!   generator and returns the same ids as one hex string.
//! - `parseTraceparent(value)` — the core's `traceparent` parser: `-1` when invalid, else
//!   the kept trace flags plus 256 × the count of leading blanks (the ids are then substrings
//!   of `value`, so no string is created here).
//! - `formatTraceparent(traceId, spanId, flags)` — the core's `traceparent` writer, or
//!   `undefined` for an invalid context; `formatTraceparentWords(t0, t1, t2, t3, s0, s1,
//!   flags)` the same for a polytrace span, whose ids JavaScript keeps as 32-bit words.
//!
//! Every callback runs its body under `catch_unwind`: a panic is thrown as an `Error` with
//! `code: 'Internal'`, never an abort.

use crate::error::kind_code;
use crate::provider::Shared;
use napi::bindgen_prelude::{Env, Object};
use napi::sys;
use napi_derive::napi;
use polytrace_core::propagation::{format_traceparent, parse_traceparent};
use polytrace_core::{Error, SpanContext, SpanId, TraceFlags, TraceId};
use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

/// Hex digits.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Throws `Error(message)` with `code`.
///
/// # Safety
/// `env` must be the current, live environment of a callback.
unsafe fn throw(env: sys::napi_env, e: &Error) {
    let code = kind_code(e.kind());
    let msg = e.message();
    let mut c = ptr::null_mut();
    let mut m = ptr::null_mut();
    let mut err = ptr::null_mut();
    // SAFETY: pointers to live locals; strings passed with their byte lengths.
    unsafe {
        if sys::napi_create_string_utf8(env, code.as_ptr().cast(), code.len() as isize, &mut c)
            == sys::Status::napi_ok
            && sys::napi_create_string_utf8(env, msg.as_ptr().cast(), msg.len() as isize, &mut m)
                == sys::Status::napi_ok
            && sys::napi_create_error(env, c, m, &mut err) == sys::Status::napi_ok
        {
            sys::napi_throw(env, err);
        }
    }
}

/// Runs a callback body with panics caught; errors are thrown, `undefined` returned.
///
/// # Safety
/// `env` must be the current, live environment of a callback.
unsafe fn run(
    env: sys::napi_env,
    f: impl FnOnce() -> Result<sys::napi_value, Error>,
) -> sys::napi_value {
    match polytrace_core::guard(f) {
        Ok(v) => v,
        Err(e) => {
            // SAFETY: forwarded from the caller.
            unsafe { throw(env, &e) };
            ptr::null_mut()
        }
    }
}

fn napi_err(what: &str) -> Error {
    Error::invalid_argument(format!("{what}: unexpected argument type"))
}

/// Reads up to `N` arguments and the callback's data pointer.
///
/// # Safety
/// Must be called from a Node-API callback with its `env` and `info`.
unsafe fn args<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> Result<([sys::napi_value; N], usize, *mut c_void), Error> {
    let mut argc = N;
    let mut argv = [ptr::null_mut(); N];
    let mut data = ptr::null_mut();
    // SAFETY: argv has room for argc values.
    let s = unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            &mut data,
        )
    };
    if s != sys::Status::napi_ok {
        return Err(Error::internal("napi_get_cb_info failed"));
    }
    Ok((argv, argc.min(N), data))
}

/// A typed array's bytes, borrowed for the duration of the callback.
///
/// # Safety
/// `value` must belong to the current callback scope; the slice must not outlive it.
unsafe fn typed_bytes<'a>(
    env: sys::napi_env,
    value: sys::napi_value,
    want: sys::napi_typedarray_type,
) -> Result<&'a mut [u8], Error> {
    let mut ty = 0;
    let mut len = 0usize;
    let mut data = ptr::null_mut();
    let mut ab = ptr::null_mut();
    let mut off = 0usize;
    // SAFETY: out-pointers to locals.
    let s = unsafe {
        sys::napi_get_typedarray_info(env, value, &mut ty, &mut len, &mut data, &mut ab, &mut off)
    };
    if s != sys::Status::napi_ok || ty != want {
        return Err(napi_err("typed array"));
    }
    let bytes = match want {
        sys::TypedarrayType::uint32_array => len * 4,
        _ => len,
    };
    if bytes == 0 || data.is_null() {
        return Ok(&mut []);
    }
    // SAFETY: V8 guarantees `data` points at `bytes` bytes of the array's live backing store;
    // JavaScript cannot run (and detach it) while this callback runs.
    Ok(unsafe { std::slice::from_raw_parts_mut(data.cast::<u8>(), bytes) })
}

/// # Safety
/// As [`typed_bytes`].
unsafe fn u32_arg(env: sys::napi_env, value: sys::napi_value) -> Result<u32, Error> {
    let mut v = 0u32;
    // SAFETY: out-pointer to a local.
    if unsafe { sys::napi_get_value_uint32(env, value, &mut v) } != sys::Status::napi_ok {
        return Err(napi_err("number"));
    }
    Ok(v)
}

/// Copies a string argument as UTF-8 into `buf` when it fits, else into `heap`; returns the
/// bytes. Non-string arguments are an error.
///
/// # Safety
/// As [`typed_bytes`].
unsafe fn str_arg<'a>(
    env: sys::napi_env,
    value: sys::napi_value,
    buf: &'a mut [u8; 128],
    heap: &'a mut Vec<u8>,
) -> Result<&'a [u8], Error> {
    let mut len = 0usize;
    // SAFETY: `buf` has 128 bytes; Node-API writes at most 127 plus a NUL.
    let s = unsafe {
        sys::napi_get_value_string_utf8(env, value, buf.as_mut_ptr().cast(), buf.len(), &mut len)
    };
    if s != sys::Status::napi_ok {
        return Err(napi_err("string"));
    }
    if len < buf.len() - 1 {
        return Ok(&buf[..len]);
    }
    // Possibly truncated: ask for the length, then copy it whole.
    let mut full = 0usize;
    // SAFETY: a null buffer asks for the length only.
    unsafe { sys::napi_get_value_string_utf8(env, value, ptr::null_mut(), 0, &mut full) };
    heap.resize(full + 1, 0);
    // SAFETY: `heap` has full + 1 bytes.
    unsafe {
        sys::napi_get_value_string_utf8(env, value, heap.as_mut_ptr().cast(), full + 1, &mut len)
    };
    Ok(&heap[..len.min(full)])
}

/// # Safety
/// `env` must be live.
unsafe fn latin1(env: sys::napi_env, s: &[u8]) -> Result<sys::napi_value, Error> {
    let mut v = ptr::null_mut();
    // SAFETY: `s` is ASCII of the given length.
    if unsafe { sys::napi_create_string_latin1(env, s.as_ptr().cast(), s.len() as isize, &mut v) }
        != sys::Status::napi_ok
    {
        return Err(Error::internal("cannot create a string"));
    }
    Ok(v)
}

unsafe extern "C" fn submit_cb(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: called by Node-API with a live env.
    unsafe {
        run(env, || {
            let (argv, argc, data) = args::<2>(env, info)?;
            if argc < 2 || data.is_null() {
                return Err(napi_err("submit"));
            }
            // SAFETY: `data` is the `Arc<Shared>` leaked in `hot_functions`, released only by
            // the function's finalizer, which cannot run while the function runs.
            let shared = &*(data as *const Shared);
            let bytes = typed_bytes(env, argv[0], sys::TypedarrayType::uint8_array)?;
            let len = (u32_arg(env, argv[1])? as usize).min(bytes.len());
            let reset = shared.submit(&bytes[..len]);
            let mut out = ptr::null_mut();
            sys::napi_create_uint32(env, reset, &mut out);
            Ok(out)
        })
    }
}

unsafe extern "C" fn fill_ids_cb(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: called by Node-API with a live env.
    unsafe {
        run(env, || {
            let (argv, argc, _) = args::<2>(env, info)?;
            if argc < 2 {
                return Err(napi_err("fillIds"));
            }
            let spans = typed_bytes(env, argv[0], sys::TypedarrayType::uint32_array)?;
            let span_n = spans.len() / 8;
            let mut hex = Vec::with_capacity(span_n * 16);
            fill(spans, 8, &mut hex, |b| {
                b.copy_from_slice(&polytrace_core::api::new_span_id().0)
            });
            let traces = typed_bytes(env, argv[1], sys::TypedarrayType::uint32_array)?;
            fill(traces, 16, &mut hex, |b| {
                b.copy_from_slice(&polytrace_core::api::new_trace_id().0)
            });
            latin1(env, &hex)
        })
    }
}

/// Two lowercase hex digits per byte value.
const HEX_PAIRS: [[u8; 2]; 256] = {
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [HEX[i >> 4], HEX[i & 15]];
        i += 1;
    }
    t
};

/// Fills `words` (native-endian u32s, as a `Uint32Array` reads them) with ids of `size`
/// bytes made by `gen` (big-endian bytes), and appends their hex to `hex`.
fn fill(words: &mut [u8], size: usize, hex: &mut Vec<u8>, gen: impl Fn(&mut [u8])) {
    let start = hex.len();
    hex.resize(start + words.len() / size * size * 2, 0);
    let mut out = &mut hex[start..];
    let mut id = [0u8; 16];
    for chunk in words.chunks_exact_mut(size) {
        let id = &mut id[..size];
        gen(id);
        for (w, be) in chunk.chunks_exact_mut(4).zip(id.chunks_exact(4)) {
            let v = u32::from_be_bytes([be[0], be[1], be[2], be[3]]);
            w.copy_from_slice(&v.to_ne_bytes());
        }
        let (this, rest) = out.split_at_mut(size * 2);
        for (pair, b) in this.chunks_exact_mut(2).zip(id.iter()) {
            pair.copy_from_slice(&HEX_PAIRS[*b as usize]);
        }
        out = rest;
    }
}

/// Reads a string argument as UTF-16 (the cheapest Node-API copy: no encoding work) and
/// narrows it to bytes when it is ASCII, as every valid `traceparent` is; anything else is
/// converted to UTF-8 in `heap`. `None` when the argument is not a string.
///
/// # Safety
/// As [`typed_bytes`].
unsafe fn ascii_arg<'a>(
    env: sys::napi_env,
    value: sys::napi_value,
    buf: &'a mut [u8; 128],
    heap: &'a mut Vec<u8>,
) -> Option<&'a [u8]> {
    let mut wide = [0u16; 128];
    let mut len = 0usize;
    // SAFETY: `wide` has 128 units; Node-API writes at most 127 plus a NUL.
    let s = unsafe {
        sys::napi_get_value_string_utf16(env, value, wide.as_mut_ptr(), wide.len(), &mut len)
    };
    if s != sys::Status::napi_ok {
        return None;
    }
    if len < wide.len() - 1 && wide[..len].iter().all(|&c| c < 0x80) {
        for (b, &c) in buf.iter_mut().zip(&wide[..len]) {
            *b = c as u8;
        }
        return Some(&buf[..len]);
    }
    // Long or not ASCII: the general path.
    // SAFETY: forwarded.
    unsafe { str_arg(env, value, buf, heap) }.ok()
}

unsafe extern "C" fn parse_traceparent_cb(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: called by Node-API with a live env.
    unsafe {
        run(env, || {
            let (argv, argc, _) = args::<1>(env, info)?;
            let mut buf = [0u8; 128];
            let mut heap = Vec::new();
            let bytes = if argc < 1 {
                None
            } else {
                ascii_arg(env, argv[0], &mut buf, &mut heap)
            };
            let result = bytes
                .and_then(|b| std::str::from_utf8(b).ok())
                .and_then(|s| {
                    parse_traceparent(s).map(|sc| {
                        let blanks = s.len() - s.trim_start_matches([' ', '\t']).len();
                        i32::from(sc.trace_flags.0) | ((blanks.min(1 << 20) as i32) << 8)
                    })
                })
                .unwrap_or(-1);
            let mut out = ptr::null_mut();
            sys::napi_create_int32(env, result, &mut out);
            Ok(out)
        })
    }
}

unsafe extern "C" fn format_words_cb(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: called by Node-API with a live env.
    unsafe {
        run(env, || {
            let (argv, argc, _) = args::<7>(env, info)?;
            if argc < 7 {
                return Ok(ptr::null_mut());
            }
            let mut w = [0u32; 7];
            for (i, v) in w.iter_mut().enumerate() {
                *v = u32_arg(env, argv[i])?;
            }
            let mut t = [0u8; 16];
            for i in 0..4 {
                t[i * 4..i * 4 + 4].copy_from_slice(&w[i].to_be_bytes());
            }
            let mut sp = [0u8; 8];
            sp[..4].copy_from_slice(&w[4].to_be_bytes());
            sp[4..].copy_from_slice(&w[5].to_be_bytes());
            let ctx = SpanContext {
                trace_id: TraceId(t),
                span_id: SpanId(sp),
                trace_flags: TraceFlags((w[6] & 0xff) as u8),
                ..Default::default()
            };
            if !ctx.is_valid() {
                return Ok(ptr::null_mut());
            }
            latin1(env, format_traceparent(&ctx).as_bytes())
        })
    }
}

unsafe extern "C" fn format_traceparent_cb(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: called by Node-API with a live env.
    unsafe {
        run(env, || {
            let (argv, argc, _) = args::<3>(env, info)?;
            if argc < 3 {
                return Ok(ptr::null_mut());
            }
            let (mut b1, mut b2) = ([0u8; 128], [0u8; 128]);
            let (mut h1, mut h2) = (Vec::new(), Vec::new());
            let trace = str_arg(env, argv[0], &mut b1, &mut h1)?;
            let span = str_arg(env, argv[1], &mut b2, &mut h2)?;
            let flags = u32_arg(env, argv[2])?;
            let ctx = SpanContext {
                trace_id: std::str::from_utf8(trace)
                    .ok()
                    .and_then(TraceId::from_hex)
                    .unwrap_or(TraceId::INVALID),
                span_id: std::str::from_utf8(span)
                    .ok()
                    .and_then(SpanId::from_hex)
                    .unwrap_or(SpanId::INVALID),
                trace_flags: TraceFlags((flags & 0xff) as u8),
                ..Default::default()
            };
            if !ctx.is_valid() {
                return Ok(ptr::null_mut());
            }
            latin1(env, format_traceparent(&ctx).as_bytes())
        })
    }
}

unsafe extern "C" fn release_shared(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    if !data.is_null() {
        // SAFETY: `data` came from `Arc::into_raw` in `hot_functions`, released once here.
        drop(unsafe { Arc::from_raw(data as *const Shared) });
    }
}

/// # Safety
/// `env` must be live and `exports` an object of it.
unsafe fn define(
    env: sys::napi_env,
    target: sys::napi_value,
    name: &std::ffi::CStr,
    cb: unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value,
    shared: Option<&Arc<Shared>>,
) -> napi::Result<()> {
    let data = shared
        .map(|s| Arc::into_raw(s.clone()) as *mut c_void)
        .unwrap_or(ptr::null_mut());
    let mut f = ptr::null_mut();
    let name_len = name.to_bytes().len() as isize;
    // SAFETY: valid env and C string; `data` is released by the finalizer below.
    unsafe {
        let mut ok =
            sys::napi_create_function(env, name.as_ptr(), name_len, Some(cb), data, &mut f)
                == sys::Status::napi_ok;
        if ok && !data.is_null() {
            ok = sys::napi_add_finalizer(
                env,
                f,
                data,
                Some(release_shared),
                ptr::null_mut(),
                ptr::null_mut(),
            ) == sys::Status::napi_ok;
        }
        if !ok {
            if !data.is_null() {
                drop(Arc::from_raw(data as *const Shared));
            }
            return Err(napi::Error::from_reason("cannot create a native function"));
        }
        if sys::napi_set_named_property(env, target, name.as_ptr(), f) != sys::Status::napi_ok {
            return Err(napi::Error::from_reason("cannot export a native function"));
        }
    }
    Ok(())
}

/// `{ submit }` bound to one provider's state.
pub fn hot_functions<'env>(env: &'env Env, shared: Arc<Shared>) -> napi::Result<Object<'env>> {
    let obj = Object::new(env)?;
    let raw_env = env.raw();
    // SAFETY: live env; `obj` is an object of it.
    unsafe {
        define(
            raw_env,
            napi::JsValue::raw(&obj),
            c"submit",
            submit_cb,
            Some(&shared),
        )?;
    }
    Ok(obj)
}

/// Adds the module-level raw functions to the exports.
#[napi(module_exports)]
pub fn init(exports: Object, env: Env) -> napi::Result<()> {
    let raw_env = env.raw();
    let target = napi::JsValue::raw(&exports);
    // SAFETY: live env at module load; `exports` is its exports object.
    unsafe {
        define(
            raw_env,
            target,
            c"parseTraceparent",
            parse_traceparent_cb,
            None,
        )?;
        define(
            raw_env,
            target,
            c"formatTraceparent",
            format_traceparent_cb,
            None,
        )?;
        define(raw_env, target, c"fillIds", fill_ids_cb, None)?;
        define(
            raw_env,
            target,
            c"formatTraceparentWords",
            format_words_cb,
            None,
        )?;
        #[cfg(feature = "testing")]
        define(raw_env, target, c"_testingPanicRaw", panic_raw_cb, None)?;
        #[cfg(feature = "testing")]
        probes::define_all(raw_env, target)?;
    }
    Ok(())
}

/// A raw function that panics, to prove the raw path maps a panic to `code: 'Internal'`.
#[cfg(feature = "testing")]
unsafe extern "C" fn panic_raw_cb(
    env: sys::napi_env,
    _info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: called by Node-API with a live env.
    unsafe {
        run(env, || {
            polytrace_core::error::testing::panic_now()?;
            Ok(ptr::null_mut())
        })
    }
}

/// Measurement probes (testing builds only): the floor of a hand-written Node-API call and the
/// cost of reading a string each way, for the README's notes on the crossing.
#[cfg(feature = "testing")]
mod probes {
    use super::*;

    pub unsafe extern "C" fn empty_cb(
        _env: sys::napi_env,
        _info: sys::napi_callback_info,
    ) -> sys::napi_value {
        ptr::null_mut()
    }

    pub unsafe extern "C" fn str_cb(
        env: sys::napi_env,
        info: sys::napi_callback_info,
    ) -> sys::napi_value {
        // SAFETY: called by Node-API with a live env.
        unsafe {
            run(env, || {
                let (argv, argc, data) = args::<1>(env, info)?;
                let mut len = 0usize;
                if argc == 1 {
                    match data as usize {
                        0 => {
                            let mut buf = [0u8; 128];
                            sys::napi_get_value_string_utf8(
                                env,
                                argv[0],
                                buf.as_mut_ptr().cast(),
                                128,
                                &mut len,
                            );
                        }
                        1 => {
                            let mut buf = [0u8; 128];
                            sys::napi_get_value_string_latin1(
                                env,
                                argv[0],
                                buf.as_mut_ptr().cast(),
                                128,
                                &mut len,
                            );
                        }
                        _ => {
                            let mut buf = [0u16; 128];
                            sys::napi_get_value_string_utf16(
                                env,
                                argv[0],
                                buf.as_mut_ptr(),
                                128,
                                &mut len,
                            );
                        }
                    }
                }
                let mut out = ptr::null_mut();
                sys::napi_create_uint32(env, len as u32, &mut out);
                Ok(out)
            })
        }
    }

    pub unsafe extern "C" fn now_cb(
        env: sys::napi_env,
        _info: sys::napi_callback_info,
    ) -> sys::napi_value {
        let mut out = ptr::null_mut();
        let t = polytrace_core::now_unix_nanos() as f64 / 1e6;
        // SAFETY: live env, out-pointer to a local.
        unsafe { sys::napi_create_double(env, t, &mut out) };
        out
    }

    /// # Safety
    /// Live env; `target` an object of it.
    pub unsafe fn define_all(env: sys::napi_env, target: sys::napi_value) -> napi::Result<()> {
        for (name, cb, data) in [
            (c"_probeEmpty", empty_cb as Cb, 0usize),
            (c"_probeUtf8", str_cb as Cb, 0),
            (c"_probeLatin1", str_cb as Cb, 1),
            (c"_probeUtf16", str_cb as Cb, 2),
            (c"_probeNow", now_cb as Cb, 0),
        ] {
            let mut f = ptr::null_mut();
            // SAFETY: as the caller promises; `data` is a plain number, never dereferenced.
            unsafe {
                sys::napi_create_function(
                    env,
                    name.as_ptr(),
                    name.to_bytes().len() as isize,
                    Some(cb),
                    data as *mut c_void,
                    &mut f,
                );
                sys::napi_set_named_property(env, target, name.as_ptr(), f);
            }
        }
        Ok(())
    }

    type Cb = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;
}
