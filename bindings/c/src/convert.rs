//! Conversions between C values and the core's plain values: strings given as (pointer,
//! length), attribute values, attribute arrays, option and carrier key/value lists.
//!
//! Every C string is borrowed for the duration of the call only: what the core keeps is copied
//! (once, into Rust) or interned (see [`polytrace_core::intern`]). Nothing here trusts a length or a
//! pointer more than it must: NULL with a non-zero length, misaligned arrays and lengths over
//! `isize::MAX` are `InvalidArgument`. Span text (names, attribute keys and values, event
//! names, exception fields, status descriptions) that is not UTF-8 is kept, repaired by the
//! core's rule ([`polytrace_core::text`]: U+FFFD for each invalid part), as in every binding;
//! options and baggage entries must be UTF-8 (`InvalidArgument`), and carrier pairs that are
//! not are ignored.

use polytrace_core::config::OptionValue;
use polytrace_core::intern;
use polytrace_core::text::lossy_utf8;
use polytrace_core::{Attribute, Error, Key, Result, SpanKind, Status, Value};
use std::borrow::Cow;
use std::ffi::{c_char, CStr};

/// Pass as a length to mean "the string is NUL-terminated; compute its length". (The header
/// defines it as `SIZE_MAX` in `cbindgen.toml`: cbindgen cannot write `usize::MAX`.)
pub const POLYTRACE_NUL_TERMINATED: usize = usize::MAX;

/// A borrowed string: `len` bytes of UTF-8 at `ptr`, no NUL terminator needed (`len` may be
/// `POLYTRACE_NUL_TERMINATED` for a NUL-terminated one). `ptr` may be NULL when `len` is 0.
/// Span text that is not UTF-8 is kept, each invalid part replaced by U+FFFD (the rule of
/// every binding); an option that is not UTF-8 is an `InvalidArgument` error.
///
/// Ownership: always borrowed by polytrace for the duration of the call that receives it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct polytrace_str_t {
    /// The first byte.
    pub ptr: *const c_char,
    /// The number of bytes, or `POLYTRACE_NUL_TERMINATED`.
    pub len: usize,
}

impl polytrace_str_t {
    /// Borrows `s` (no NUL terminator): valid as long as `s` is.
    pub(crate) fn borrow(s: &str) -> polytrace_str_t {
        polytrace_str_t {
            ptr: s.as_ptr().cast(),
            len: s.len(),
        }
    }

    /// `borrow` for a found value; NULL and length 0 for `None` ("not found").
    pub(crate) fn borrow_or_null(s: Option<&str>) -> polytrace_str_t {
        s.map_or(
            polytrace_str_t {
                ptr: std::ptr::null(),
                len: 0,
            },
            polytrace_str_t::borrow,
        )
    }
}

/// A key/value pair of strings: a configuration option, or a propagation header.
///
/// Ownership: borrowed when passed in; when polytrace fills it (`polytrace_provider_inject`),
/// it points into the buffer the caller provided.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct polytrace_kv_t {
    /// The key (option name, header name).
    pub key: polytrace_str_t,
    /// The value.
    pub value: polytrace_str_t,
}

/// An array of booleans.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct polytrace_bool_array_t {
    /// The first element (NULL allowed when `len` is 0).
    pub items: *const bool,
    /// The number of elements.
    pub len: usize,
}

/// An array of 64-bit integers.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct polytrace_int64_array_t {
    /// The first element (NULL allowed when `len` is 0).
    pub items: *const i64,
    /// The number of elements.
    pub len: usize,
}

/// An array of doubles.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct polytrace_double_array_t {
    /// The first element (NULL allowed when `len` is 0).
    pub items: *const f64,
    /// The number of elements.
    pub len: usize,
}

/// An array of strings.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct polytrace_str_array_t {
    /// The first element (NULL allowed when `len` is 0).
    pub items: *const polytrace_str_t,
    /// The number of elements.
    pub len: usize,
}

/// The type of a `polytrace_value_t` (one of the `POLYTRACE_VALUE_*` constants).
pub type polytrace_value_type_t = u32;
/// `data.boolean`.
pub const POLYTRACE_VALUE_BOOL: polytrace_value_type_t = 1;
/// `data.int64`.
pub const POLYTRACE_VALUE_INT64: polytrace_value_type_t = 2;
/// `data.float64`.
pub const POLYTRACE_VALUE_DOUBLE: polytrace_value_type_t = 3;
/// `data.string`.
pub const POLYTRACE_VALUE_STRING: polytrace_value_type_t = 4;
/// `data.bool_array`.
pub const POLYTRACE_VALUE_BOOL_ARRAY: polytrace_value_type_t = 5;
/// `data.int64_array`.
pub const POLYTRACE_VALUE_INT64_ARRAY: polytrace_value_type_t = 6;
/// `data.double_array`.
pub const POLYTRACE_VALUE_DOUBLE_ARRAY: polytrace_value_type_t = 7;
/// `data.string_array`.
pub const POLYTRACE_VALUE_STRING_ARRAY: polytrace_value_type_t = 8;

/// The payload of a `polytrace_value_t`; `type` says which member is set.
#[repr(C)]
#[derive(Clone, Copy)]
pub union polytrace_value_data_t {
    /// For `POLYTRACE_VALUE_BOOL`.
    pub boolean: bool,
    /// For `POLYTRACE_VALUE_INT64`.
    pub int64: i64,
    /// For `POLYTRACE_VALUE_DOUBLE` (not named `double`: that is a C keyword).
    pub float64: f64,
    /// For `POLYTRACE_VALUE_STRING`.
    pub string: polytrace_str_t,
    /// For `POLYTRACE_VALUE_BOOL_ARRAY`.
    pub bool_array: polytrace_bool_array_t,
    /// For `POLYTRACE_VALUE_INT64_ARRAY`.
    pub int64_array: polytrace_int64_array_t,
    /// For `POLYTRACE_VALUE_DOUBLE_ARRAY`.
    pub double_array: polytrace_double_array_t,
    /// For `POLYTRACE_VALUE_STRING_ARRAY`.
    pub string_array: polytrace_str_array_t,
}

/// An attribute value of any OpenTelemetry type.
///
/// Ownership: borrowed for the duration of the call; strings and arrays are copied.
/// cbindgen:field-names=[type, data]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct polytrace_value_t {
    /// Which member of `data` is set (`POLYTRACE_VALUE_*`).
    pub type_: polytrace_value_type_t,
    /// The value.
    pub data: polytrace_value_data_t,
}

/// A key and a value.
///
/// Ownership: borrowed for the duration of the call; key and value are copied.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct polytrace_attribute_t {
    /// The key (UTF-8).
    pub key: polytrace_str_t,
    /// The value.
    pub value: polytrace_value_t,
}

/// What a span represents (one of the `POLYTRACE_SPAN_KIND_*` constants).
pub type polytrace_span_kind_t = u32;
/// An internal operation (the default).
pub const POLYTRACE_SPAN_KIND_INTERNAL: polytrace_span_kind_t = 0;
/// The server side of a synchronous request.
pub const POLYTRACE_SPAN_KIND_SERVER: polytrace_span_kind_t = 1;
/// The client side of a synchronous request.
pub const POLYTRACE_SPAN_KIND_CLIENT: polytrace_span_kind_t = 2;
/// The sender of an asynchronous message.
pub const POLYTRACE_SPAN_KIND_PRODUCER: polytrace_span_kind_t = 3;
/// The receiver of an asynchronous message.
pub const POLYTRACE_SPAN_KIND_CONSUMER: polytrace_span_kind_t = 4;

/// A span status code (one of the `POLYTRACE_STATUS_*` constants).
pub type polytrace_status_code_t = u32;
/// Not set (the default).
pub const POLYTRACE_STATUS_UNSET: polytrace_status_code_t = 0;
/// Explicitly OK; final (a later error status is ignored).
pub const POLYTRACE_STATUS_OK: polytrace_status_code_t = 1;
/// An error, with a description.
pub const POLYTRACE_STATUS_ERROR: polytrace_status_code_t = 2;

/// The bytes of a C string argument.
///
/// # Safety
/// `ptr` is NULL or points to `len` readable bytes (or to a NUL-terminated string when `len` is
/// [`POLYTRACE_NUL_TERMINATED`]) that stay valid for `'a`.
#[inline(always)]
pub(crate) unsafe fn bytes<'a>(ptr: *const c_char, len: usize, what: &str) -> Result<&'a [u8]> {
    if len == POLYTRACE_NUL_TERMINATED {
        if ptr.is_null() {
            return Err(null_string(what));
        }
        // SAFETY: the caller promises a NUL-terminated string.
        return Ok(unsafe { CStr::from_ptr(ptr) }.to_bytes());
    }
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() || len > isize::MAX as usize {
        return Err(bad_string(ptr, len, what));
    }
    // SAFETY: non-NULL, the caller promises `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
}

#[cold]
#[inline(never)]
fn null_string(what: &str) -> Error {
    Error::invalid_argument(format!("{what} is NULL"))
}

#[cold]
#[inline(never)]
fn bad_string(ptr: *const c_char, len: usize, what: &str) -> Error {
    if ptr.is_null() {
        Error::invalid_argument(format!("{what} is NULL with length {len}"))
    } else {
        Error::invalid_argument(format!("{what} has an impossible length {len}"))
    }
}

/// The bytes of a short string argument that the intern tables' pointer caches may know: a
/// non-NULL pointer with an explicit length of at most `max` bytes. `None` sends the caller to
/// the general path ([`bytes`], with its checks and messages): NULL, `POLYTRACE_NUL_TERMINATED`
/// (larger than any `max`) and long strings.
///
/// # Safety
/// As [`bytes`].
#[inline(always)]
unsafe fn short_bytes<'a>(ptr: *const c_char, len: usize, max: usize) -> Option<&'a [u8]> {
    if ptr.is_null() || len > max {
        return None;
    }
    // SAFETY: non-NULL, `len` is at most `max` (far below `isize::MAX`), and the caller
    // promises `len` readable bytes.
    Some(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
}

/// A C string argument as UTF-8 text.
///
/// # Safety
/// As [`bytes`].
#[inline]
pub(crate) unsafe fn text<'a>(ptr: *const c_char, len: usize, what: &str) -> Result<&'a str> {
    // SAFETY: forwarded.
    utf8(unsafe { bytes(ptr, len, what) }?, what)
}

/// A C string argument that is span text: repaired by the core's rule when it is not UTF-8.
///
/// # Safety
/// As [`bytes`].
#[inline]
pub(crate) unsafe fn span_text<'a>(
    ptr: *const c_char,
    len: usize,
    what: &str,
) -> Result<Cow<'a, str>> {
    // SAFETY: forwarded.
    Ok(lossy_utf8(unsafe { bytes(ptr, len, what) }?))
}

/// As [`span_text`], for a `polytrace_str_t`.
///
/// # Safety
/// As [`bytes`].
#[inline]
unsafe fn span_str<'a>(s: &polytrace_str_t, what: &str) -> Result<Cow<'a, str>> {
    // SAFETY: forwarded.
    unsafe { span_text(s.ptr, s.len, what) }
}

/// As [`text`], for a `polytrace_str_t`.
///
/// # Safety
/// As [`bytes`].
#[inline]
pub(crate) unsafe fn str_arg<'a>(s: &polytrace_str_t, what: &str) -> Result<&'a str> {
    // SAFETY: forwarded.
    unsafe { text(s.ptr, s.len, what) }
}

/// A C string argument used as a key or a name: the interned copy (found by pointer first,
/// see [`intern`]), else checked and interned or copied.
///
/// # Safety
/// As [`bytes`].
#[inline(always)]
pub(crate) unsafe fn key_arg(ptr: *const c_char, len: usize, what: &str) -> Result<Key> {
    // SAFETY: forwarded.
    if let Some(b) = unsafe { short_bytes(ptr, len, intern::KEY_MAX_LEN) } {
        if let Some(k) = intern::KEYS.recent(b) {
            return Ok(Cow::Borrowed(k));
        }
    }
    // SAFETY: forwarded.
    unsafe { key_slow(ptr, len, what) }
}

/// The interned copy of a key or name argument when the keys table's pointer cache knows it
/// (see [`key_arg`]); `None` means "take the general path", not "invalid".
///
/// # Safety
/// As [`bytes`].
#[inline(always)]
pub(crate) unsafe fn cached_key(ptr: *const c_char, len: usize) -> Option<&'static str> {
    // SAFETY: forwarded.
    intern::KEYS.recent(unsafe { short_bytes(ptr, len, intern::KEY_MAX_LEN) }?)
}

/// As [`cached_key`], for a string value.
///
/// # Safety
/// As [`bytes`].
#[inline(always)]
pub(crate) unsafe fn cached_value(ptr: *const c_char, len: usize) -> Option<&'static str> {
    // SAFETY: forwarded.
    intern::VALUES.recent(unsafe { short_bytes(ptr, len, intern::VALUE_MAX_LEN) }?)
}

/// [`key_arg`] when the key is not in the recent-pointer cache (out of line: rare).
///
/// # Safety
/// As [`bytes`].
#[inline(never)]
unsafe fn key_slow(ptr: *const c_char, len: usize, what: &str) -> Result<Key> {
    // SAFETY: forwarded.
    let b = unsafe { bytes(ptr, len, what) }?;
    Ok(key_of(&lossy_utf8(b)))
}

/// A C string argument used as a string value, as [`key_arg`].
///
/// # Safety
/// As [`bytes`].
#[inline(always)]
pub(crate) unsafe fn string_value_arg(ptr: *const c_char, len: usize, what: &str) -> Result<Value> {
    // SAFETY: forwarded.
    if let Some(b) = unsafe { short_bytes(ptr, len, intern::VALUE_MAX_LEN) } {
        if let Some(v) = intern::VALUES.recent(b) {
            return Ok(Value::String(Cow::Borrowed(v)));
        }
    }
    // SAFETY: forwarded.
    unsafe { string_value_slow(ptr, len, what) }
}

/// [`string_value_arg`] when the value is not in the recent-pointer cache (out of line).
///
/// # Safety
/// As [`bytes`].
#[inline(never)]
unsafe fn string_value_slow(ptr: *const c_char, len: usize, what: &str) -> Result<Value> {
    // SAFETY: forwarded.
    let b = unsafe { bytes(ptr, len, what) }?;
    Ok(string_value(&lossy_utf8(b)))
}

fn utf8<'a>(b: &'a [u8], what: &str) -> Result<&'a str> {
    std::str::from_utf8(b).map_err(|e| not_utf8(what, e))
}

#[cold]
#[inline(never)]
fn not_utf8(what: &str, e: std::str::Utf8Error) -> Error {
    Error::invalid_argument(format!("{what} is not valid UTF-8 ({e})"))
}

/// A key or a name: interned when it fits, else copied.
#[inline]
pub(crate) fn key_of(s: &str) -> Key {
    intern::KEYS.share(s)
}

/// A string value: interned when short, else copied.
#[inline]
pub(crate) fn string_value(s: &str) -> Value {
    Value::String(intern::VALUES.share(s))
}

/// A C array argument.
///
/// # Safety
/// `ptr` is NULL or points to `len` initialized, properly aligned values valid for `'a`.
#[inline]
pub(crate) unsafe fn slice<'a, T>(ptr: *const T, len: usize, what: &str) -> Result<&'a [T]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Error::invalid_argument(format!(
            "{what} is NULL with length {len}"
        )));
    }
    if !ptr.is_aligned() || len > isize::MAX as usize / std::mem::size_of::<T>().max(1) {
        return Err(Error::invalid_argument(format!(
            "{what} is misaligned or too long"
        )));
    }
    // SAFETY: checked non-NULL and aligned; the caller promises `len` values.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Booleans from C memory, read as bytes (any non-zero byte is true) so that no byte value can
/// be undefined behaviour.
///
/// # Safety
/// As [`slice`].
pub(crate) unsafe fn bools(ptr: *const bool, len: usize, what: &str) -> Result<Vec<bool>> {
    // SAFETY: forwarded; u8 has the size and alignment of bool and every bit pattern is valid.
    let raw = unsafe { slice(ptr.cast::<u8>(), len, what) }?;
    Ok(raw.iter().map(|b| *b != 0).collect())
}

/// Strings of an array, copied.
///
/// # Safety
/// As [`slice`], and each element as [`bytes`].
pub(crate) unsafe fn strings(
    ptr: *const polytrace_str_t,
    len: usize,
    what: &str,
) -> Result<Vec<String>> {
    // SAFETY: forwarded.
    let items = unsafe { slice(ptr, len, what) }?;
    items
        .iter()
        // SAFETY: forwarded.
        .map(|s| unsafe { span_str(s, what) }.map(Cow::into_owned))
        .collect()
}

/// A `polytrace_value_t` as a core value.
///
/// # Safety
/// The member of `v.data` named by `v.type_` is initialized and its pointers are valid.
pub(crate) unsafe fn value(v: &polytrace_value_t, what: &str) -> Result<Value> {
    // SAFETY: (every arm) the caller promises the member named by the type is the one set.
    unsafe {
        Ok(match v.type_ {
            POLYTRACE_VALUE_BOOL => {
                Value::Bool(*std::ptr::addr_of!(v.data.boolean).cast::<u8>() != 0)
            }
            POLYTRACE_VALUE_INT64 => Value::Int(v.data.int64),
            POLYTRACE_VALUE_DOUBLE => Value::Double(v.data.float64),
            POLYTRACE_VALUE_STRING => string_value(&span_str(&v.data.string, what)?),
            POLYTRACE_VALUE_BOOL_ARRAY => {
                let a = v.data.bool_array;
                Value::BoolArray(bools(a.items, a.len, what)?)
            }
            POLYTRACE_VALUE_INT64_ARRAY => {
                let a = v.data.int64_array;
                Value::IntArray(slice(a.items, a.len, what)?.to_vec())
            }
            POLYTRACE_VALUE_DOUBLE_ARRAY => {
                let a = v.data.double_array;
                Value::DoubleArray(slice(a.items, a.len, what)?.to_vec())
            }
            POLYTRACE_VALUE_STRING_ARRAY => {
                let a = v.data.string_array;
                Value::StringArray(strings(a.items, a.len, what)?)
            }
            other => {
                return Err(Error::invalid_argument(format!(
                    "{what} has an unknown value type {other}"
                )))
            }
        })
    }
}

/// An array of `polytrace_attribute_t` as core attributes.
///
/// # Safety
/// As [`slice`], and each element as [`value`].
pub(crate) unsafe fn attributes(
    ptr: *const polytrace_attribute_t,
    len: usize,
) -> Result<Vec<Attribute>> {
    // SAFETY: forwarded.
    let items = unsafe { slice(ptr, len, "attributes") }?;
    items
        .iter()
        .map(|a| {
            // SAFETY: forwarded.
            let key = key_of(&unsafe { span_str(&a.key, "attribute key") }?);
            // SAFETY: forwarded.
            let value = unsafe { value(&a.value, "attribute value") }?;
            Ok((key, value))
        })
        .collect()
}

/// A span kind constant.
pub(crate) fn span_kind(kind: polytrace_span_kind_t) -> Result<SpanKind> {
    Ok(match kind {
        POLYTRACE_SPAN_KIND_INTERNAL => SpanKind::Internal,
        POLYTRACE_SPAN_KIND_SERVER => SpanKind::Server,
        POLYTRACE_SPAN_KIND_CLIENT => SpanKind::Client,
        POLYTRACE_SPAN_KIND_PRODUCER => SpanKind::Producer,
        POLYTRACE_SPAN_KIND_CONSUMER => SpanKind::Consumer,
        other => {
            return Err(Error::invalid_argument(format!(
                "unknown span kind {other} (expected a POLYTRACE_SPAN_KIND_* constant)"
            )))
        }
    })
}

/// A status code and its description.
pub(crate) fn status(code: polytrace_status_code_t, description: &str) -> Result<Status> {
    Ok(match code {
        POLYTRACE_STATUS_UNSET => Status::Unset,
        POLYTRACE_STATUS_OK => Status::Ok,
        POLYTRACE_STATUS_ERROR => Status::Error(description.to_owned()),
        other => {
            return Err(Error::invalid_argument(format!(
                "unknown status code {other} (expected a POLYTRACE_STATUS_* constant)"
            )))
        }
    })
}

/// Options as the core takes them: every value is a string, parsed like the `OTEL_*` variable.
///
/// # Safety
/// As [`slice`], and each key and value as [`bytes`].
pub(crate) unsafe fn options(
    ptr: *const polytrace_kv_t,
    len: usize,
) -> Result<Vec<(String, OptionValue)>> {
    // SAFETY: forwarded.
    let items = unsafe { slice(ptr, len, "options") }?;
    items
        .iter()
        .map(|kv| {
            // SAFETY: forwarded.
            let k = unsafe { str_arg(&kv.key, "option name") }?;
            // SAFETY: forwarded.
            let v = unsafe { str_arg(&kv.value, "option value") }?;
            Ok((k.to_owned(), OptionValue::Str(v.to_owned())))
        })
        .collect()
}

/// A carrier's (name, value) pairs, borrowed. Pairs that are not UTF-8 are skipped: they come
/// from the wire, and the W3C specifications say malformed input is ignored.
///
/// # Safety
/// As [`slice`], and each key and value as [`bytes`].
pub(crate) unsafe fn carrier<'a>(
    ptr: *const polytrace_kv_t,
    len: usize,
) -> Result<Vec<(&'a str, &'a str)>> {
    // SAFETY: forwarded.
    let items = unsafe { slice(ptr, len, "carrier") }?;
    let mut out = Vec::with_capacity(items.len());
    for kv in items {
        // SAFETY: forwarded.
        let k = unsafe { str_arg(&kv.key, "carrier key") };
        // SAFETY: forwarded.
        let v = unsafe { str_arg(&kv.value, "carrier value") };
        if let (Ok(k), Ok(v)) = (k, v) {
            out.push((k, v));
        }
    }
    Ok(out)
}

/// Writes `*out = value` when `out` is not NULL; `Err` when it is.
///
/// # Safety
/// `out` is NULL or valid for a write of `T`.
#[inline]
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T, what: &str) -> Result<()> {
    if out.is_null() {
        return Err(null_string(what));
    }
    // SAFETY: the caller promises a valid place.
    unsafe { out.write(value) };
    Ok(())
}

/// Copies `pairs` into the caller's arrays, as `polytrace_provider_inject` and the testing
/// resolver return them: every key and value NUL-terminated in `buf` (`buf_len` bytes), the
/// pairs pointing into it written to `out` (room for `cap`). When they do not fit nothing is
/// written and an `InvalidArgument` error says how much room `what` needs (`enough` names what
/// always suffices).
///
/// # Safety
/// `out` is NULL or valid for `cap` pairs; `buf` is NULL or valid for `buf_len` bytes.
pub(crate) unsafe fn write_pairs<K: AsRef<str>, V: AsRef<str>>(
    pairs: &[(K, V)],
    out: *mut polytrace_kv_t,
    cap: usize,
    buf: *mut c_char,
    buf_len: usize,
    what: &str,
    enough: &str,
) -> Result<()> {
    let needed: usize = pairs
        .iter()
        .map(|(k, v)| k.as_ref().len() + v.as_ref().len() + 2)
        .sum();
    if pairs.len() > cap || needed > buf_len {
        return Err(Error::invalid_argument(format!(
            "{what} need {} pairs and {needed} buffer bytes, got {cap} and {buf_len} ({enough})",
            pairs.len()
        )));
    }
    if pairs.is_empty() {
        return Ok(());
    }
    if out.is_null() || buf.is_null() || !out.is_aligned() {
        return Err(Error::invalid_argument(format!(
            "the arrays for {what} are NULL"
        )));
    }
    let mut at = 0usize;
    for (i, (k, v)) in pairs.iter().enumerate() {
        let mut put = |s: &str| {
            // SAFETY: `needed <= buf_len` bytes fit in the caller's buffer.
            let dst = unsafe { buf.add(at) };
            // SAFETY: as above; the source is our own string.
            unsafe {
                std::ptr::copy_nonoverlapping(s.as_ptr().cast::<c_char>(), dst, s.len());
                dst.add(s.len()).write(0);
            }
            at += s.len() + 1;
            polytrace_str_t {
                ptr: dst,
                len: s.len(),
            }
        };
        let kv = polytrace_kv_t {
            key: put(k.as_ref()),
            value: put(v.as_ref()),
        };
        // SAFETY: i < pairs.len() <= cap.
        unsafe { out.add(i).write(kv) };
    }
    Ok(())
}
