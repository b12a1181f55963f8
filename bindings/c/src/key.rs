//! Attribute keys interned once: `polytrace_key_intern` checks and copies a key a single time,
//! and the `polytrace_span_set_attribute_*_by_key` setters then use it with no string work at
//! all (no length checks, no UTF-8 check, no lookup by text).
//!
//! A key handle uses the layout of every other handle (magic byte, type byte, index, 24 check
//! bits; see [`crate::handle`]): the index is the key's slot in an insert-only table and the
//! check bits are the low bits of the key's hash, so a value that polytrace did not hand out is
//! rejected without dereferencing it (a forged value with the right bits is accepted, as for
//! other handles). Keys are never freed: the table keeps at most [`intern::MAX_ENTRIES`] keys of
//! at most 128 bytes until the process exits.

use crate::convert;
use crate::error::{call, polytrace_error_t};
use crate::handle::{decode_bits, encode_bits, tag};
use polytrace_core::intern::{self, Table};
use polytrace_core::{Error, Result};
use std::ffi::c_char;

/// An attribute key interned by `polytrace_key_intern`, for the
/// `polytrace_span_set_attribute_*_by_key` setters.
///
/// Ownership: permanent. A key stays valid until the process exits and is never freed (there is
/// no `polytrace_key_free`); interning the same text again returns the same handle.
///
/// Threading: use it from any number of threads at once.
pub struct polytrace_key_t {
    _private: [u8; 0],
}

/// The longest key `polytrace_key_intern` accepts, in bytes.
pub const POLYTRACE_KEY_MAX_LEN: usize = 128;

/// The keys handed out as handles (a table of their own, so that span names and keys interned
/// automatically never use up its room).
static KEY_HANDLES: Table = Table::new(POLYTRACE_KEY_MAX_LEN);

/// The check bits kept in a handle (its low 24 bits).
const CHECK: u64 = (1 << 24) - 1;

/// The text of a key handle.
#[inline(always)]
pub(crate) fn key_text(key: *const polytrace_key_t) -> Result<&'static str> {
    decode_bits(tag::KEY, key as usize as u64)
        .and_then(|(index, check)| KEY_HANDLES.at(index as usize, check, CHECK))
        .ok_or_else(|| bad_key(key))
}

#[cold]
#[inline(never)]
fn bad_key(key: *const polytrace_key_t) -> Error {
    if key.is_null() {
        Error::invalid_argument("the polytrace_key_t handle is NULL")
    } else {
        Error::invalid_argument(
            "the value passed as a polytrace_key_t is not a key from polytrace_key_intern",
        )
    }
}

/// Interns the attribute key `text` (`len` bytes of UTF-8, or `POLYTRACE_NUL_TERMINATED`) and
/// writes its handle to `*out_key`, for use with the `polytrace_span_set_attribute_*_by_key`
/// setters: the key is checked and copied once here instead of on every call. Interning the
/// same text again returns the same handle. Keys are at most `POLYTRACE_KEY_MAX_LEN` bytes; at
/// most 2048 distinct keys can be interned per process (then this returns an `Internal` error:
/// keep using the (pointer, length) setters for such keys).
///
/// Ownership: borrows `text` (it is copied). `*out_key` is permanent: never freed, valid until
/// the process exits. On error `*out_key` is NULL.
///
/// # Safety
/// `text` is NULL or valid for `len` bytes (or NUL-terminated); `out_key` is valid for a write.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_key_intern(
    text: *const c_char,
    len: usize,
    out_key: *mut *const polytrace_key_t,
) -> *mut polytrace_error_t {
    call("polytrace_key_intern", || {
        // SAFETY: the caller promises a valid place (or NULL, which is an error).
        unsafe { convert::write_out(out_key, std::ptr::null(), "out_key") }?;
        // SAFETY: forwarded.
        let text = unsafe { convert::span_text(text, len, "text") }?;
        if text.len() > POLYTRACE_KEY_MAX_LEN {
            return Err(Error::invalid_argument(format!(
                "the key is {} bytes long, at most {POLYTRACE_KEY_MAX_LEN} can be interned",
                text.len()
            )));
        }
        let (index, _, hash) = KEY_HANDLES.intern(&text).ok_or_else(|| {
            Error::internal(format!(
                "too many interned keys (at most {})",
                intern::MAX_ENTRIES
            ))
        })?;
        let handle = encode_bits(tag::KEY, index as u32, hash & CHECK);
        // SAFETY: checked at the top.
        unsafe { out_key.write(std::ptr::without_provenance(handle as usize)) };
        Ok(())
    })
}

/// The text of `key` as a borrowed string, e.g. for logging. `out_text->ptr` is not
/// NUL-terminated.
///
/// Ownership: the text is permanent (like the key); do not free it.
///
/// # Safety
/// `out_text` is valid for a write.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_key_text(
    key: *const polytrace_key_t,
    out_text: *mut convert::polytrace_str_t,
) -> *mut polytrace_error_t {
    call("polytrace_key_text", || {
        let text = key_text(key)?;
        let s = convert::polytrace_str_t::borrow(text);
        // SAFETY: forwarded.
        unsafe { convert::write_out(out_text, s, "out_text") }
    })
}
