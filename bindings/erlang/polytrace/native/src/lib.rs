//! polytrace-erlang: the NIF library `polytrace_nif` of the OTP application `polytrace`.
//!
//! Live spans stay Erlang terms in the process that owns them (`polytrace.erl`); this library
//! gives them ids at start (following the core's start plan), takes each finished span in one
//! call ([`record`]), and does what only the core can: propagation, flush, shutdown, stats.
//! Every entry point runs under [`error::guard`]; none blocks a normal scheduler (flush,
//! shutdown and construction are dirty I/O NIFs; the rest return in microseconds).

mod convert;
mod diag;
mod error;
mod handle;
mod provider;
mod record;
#[cfg(feature = "testing")]
mod testing;
#[cfg(feature = "testing")]
mod timing;

fn load(env: rustler::Env<'_>, _info: rustler::Term<'_>) -> bool {
    diag::install();
    handle::open(env)
}

rustler::init!("polytrace_nif", load = load);
