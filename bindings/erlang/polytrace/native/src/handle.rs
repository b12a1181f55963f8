//! The tracer handle every live span carries: a NIF resource of a type this library opens
//! itself at load. rustler's resource types are found per access by hashing the Rust type's
//! `TypeId` (SipHash, ~100 instructions); a span reads its tracer twice (start and hand-over),
//! so the type is kept here, opened once, and a tracer is one `enif_get_resource` away.

use crate::provider::TracerRes;
use rustler::sys::{
    c_void, enif_alloc_resource, enif_get_resource, enif_make_resource, enif_open_resource_type,
    enif_release_resource, ErlNifEnv, ErlNifResourceFlags, ErlNifResourceType,
};
use rustler::{Env, Term};
use std::mem::{align_of, size_of, MaybeUninit};
use std::sync::atomic::{AtomicPtr, Ordering};

static TYPE: AtomicPtr<ErlNifResourceType> = AtomicPtr::new(std::ptr::null_mut());

/// The `TracerRes` inside a resource object (allocated with room to align it).
fn aligned(obj: *const c_void) -> *mut TracerRes {
    let misalign = obj as usize % align_of::<TracerRes>();
    let pad = if misalign == 0 {
        0
    } else {
        align_of::<TracerRes>() - misalign
    };
    obj.cast::<u8>()
        .wrapping_add(pad)
        .cast_mut()
        .cast::<TracerRes>()
}

/// Drops the tracer when the VM frees its resource (no panic crosses back into the VM).
unsafe extern "C" fn destroy(_env: *mut ErlNifEnv, obj: *mut c_void) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the VM calls this once per resource object, which `make` filled.
        unsafe { std::ptr::drop_in_place(aligned(obj)) }
    });
}

/// Opens the resource type; call from the library's `load`. False if the VM refused.
pub fn open(env: Env<'_>) -> bool {
    let mut tried = MaybeUninit::<ErlNifResourceFlags>::uninit();
    // SAFETY: called during load with the load's environment; the name is NUL-terminated and
    // lives forever; `destroy` has the destructor's signature.
    let t = unsafe {
        enif_open_resource_type(
            env.as_c_arg(),
            std::ptr::null(),
            c"polytrace_tracer".as_ptr(),
            Some(destroy),
            ErlNifResourceFlags::ERL_NIF_RT_CREATE,
            tried.as_mut_ptr(),
        )
    };
    if t.is_null() {
        return false;
    }
    TYPE.store(t.cast_mut(), Ordering::Release);
    true
}

/// A new tracer handle term owning `tracer`.
pub fn make<'a>(env: Env<'a>, tracer: TracerRes) -> Term<'a> {
    let t = TYPE.load(Ordering::Acquire);
    // SAFETY: `t` was opened at load (the library does not load otherwise); the object has
    // room for a `TracerRes` at its aligned address, written before the term exists; the
    // term keeps the object alive once our reference is released.
    unsafe {
        let obj = enif_alloc_resource(t, size_of::<TracerRes>() + align_of::<TracerRes>());
        std::ptr::write(aligned(obj), tracer);
        let term = enif_make_resource(env.as_c_arg(), obj);
        enif_release_resource(obj);
        Term::new(env, term)
    }
}

/// The tracer of a handle term; `None` for any other term.
#[inline]
pub fn get<'a>(term: Term<'a>) -> Option<&'a TracerRes> {
    let t = TYPE.load(Ordering::Acquire);
    let mut obj: *const c_void = std::ptr::null();
    // SAFETY: `enif_get_resource` checks the term is a resource of type `t` and then points
    // `obj` at its object, which lives at least as long as the term's environment.
    unsafe {
        if t.is_null()
            || enif_get_resource(term.get_env().as_c_arg(), term.as_c_arg(), t, &mut obj) == 0
        {
            return None;
        }
        Some(&*aligned(obj))
    }
}
