//! Routes the core's diagnostics (bad environment values, export failures, a full queue) to
//! `@opentelemetry/api`'s `diag`. They can come from the core's export thread, so they cross
//! through a thread-safe function; it is weak, so it never keeps the event loop alive.
//!
//! The core has one diagnostics receiver per process, while every `worker_threads` Worker that
//! loads the package is an environment of its own with its own `diag`. Each environment's
//! handler is kept here until the environment is torn down (an environment cleanup hook
//! removes it, so a terminated Worker's function is never called); diagnostics go to the
//! oldest live environment, normally the main thread's. With none left, the core's default
//! (stderr) applies again.

use napi::bindgen_prelude::{Env, FnArgs, Function};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi_derive::napi;
use parking_lot::Mutex;
use polytrace_core::diag::{self, Level};
use std::sync::Arc;

/// A JavaScript handler, callable from any thread.
type Handler = Arc<dyn Fn(u32, String) + Send + Sync>;

/// Live environments' handlers, oldest first, keyed by the environment's address.
static HANDLERS: Mutex<Vec<(usize, Handler)>> = Mutex::new(Vec::new());

/// The core's receiver: the oldest live environment's handler.
fn deliver(level: Level, message: &str) {
    let first = HANDLERS.lock().first().map(|(_, h)| h.clone());
    if let Some(h) = first {
        let level = match level {
            Level::Warn => 0,
            Level::Error => 1,
        };
        h(level, message.to_string());
    }
}

/// Installs `handler(level, message)` (level 0 warning, 1 error) as this environment's
/// receiver of core diagnostics (the last one installed in an environment wins). The oldest
/// live environment's receiver gets them.
#[napi]
pub fn set_diag_handler(
    env: Env,
    handler: Function<FnArgs<(u32, String)>, ()>,
) -> napi::Result<()> {
    let tsfn = handler
        .build_threadsafe_function::<FnArgs<(u32, String)>>()
        .weak::<true>()
        .build()?;
    // Non-blocking: a diagnostic never waits for the JavaScript thread.
    let h: Handler = Arc::new(move |level, message| {
        let _ = tsfn.call(
            FnArgs::from((level, message)),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    });
    let id = env.raw() as usize;
    let mut list = HANDLERS.lock();
    if let Some(entry) = list.iter_mut().find(|(i, _)| *i == id) {
        entry.1 = h;
        return Ok(());
    }
    env.add_env_cleanup_hook(id, |id| {
        let mut list = HANDLERS.lock();
        list.retain(|(i, _)| *i != id);
        if list.is_empty() {
            diag::set_handler(None);
        }
    })?;
    list.push((id, h));
    if list.len() == 1 {
        diag::set_handler(Some(Arc::new(deliver)));
    }
    Ok(())
}
