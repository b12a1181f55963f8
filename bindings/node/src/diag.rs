//! Routes the core's diagnostics (bad environment values, export failures, a full queue) to
//! `@opentelemetry/api`'s `diag`. They can come from the core's export thread, so they cross
//! through a thread-safe function; it is weak, so it never keeps the event loop alive.

use napi::bindgen_prelude::{FnArgs, Function};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi_derive::napi;
use polytrace_core::diag::{self, Level};
use std::sync::Arc;

/// Installs `handler(level, message)` (level 0 warning, 1 error) as the process's receiver
/// of core diagnostics. The last installed handler wins.
#[napi]
pub fn set_diag_handler(handler: Function<FnArgs<(u32, String)>, ()>) -> napi::Result<()> {
    let tsfn = handler
        .build_threadsafe_function::<FnArgs<(u32, String)>>()
        .weak::<true>()
        .build()?;
    diag::set_handler(Some(Arc::new(move |level: Level, message: &str| {
        let level = match level {
            Level::Warn => 0,
            Level::Error => 1,
        };
        // Non-blocking: a diagnostic never waits for the JavaScript thread.
        let _ = tsfn.call(
            FnArgs::from((level, message.to_string())),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    })));
    Ok(())
}
