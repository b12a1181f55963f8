//! The finished-span decoder (`polytrace_core::finished::Decoder`), which takes bytes from
//! bindings: never panics on any batch; a batch it cannot read is an error with its spans
//! counted, and the counters stay consistent.
#![no_main]
use libfuzzer_sys::fuzz_target;
use polytrace_core::config::OptionValue;
use polytrace_core::finished::Decoder;
use polytrace_core::{Provider, Tracer};
use std::sync::OnceLock;

fn pipeline() -> &'static (Provider, Vec<Tracer>) {
    static P: OnceLock<(Provider, Vec<Tracer>)> = OnceLock::new();
    P.get_or_init(|| {
        let options = [
            ("exporter".to_string(), OptionValue::Str("none".into())),
            ("max_queue_size".to_string(), OptionValue::Int(64)),
            ("schedule_delay".to_string(), OptionValue::Int(1)),
        ];
        let provider = match Provider::new(&options) {
            Ok(p) => p,
            Err(e) => panic!("cannot make the fuzzing provider: {e}"),
        };
        let tracers = vec![
            provider.tracer("fuzz-a", None, None, vec![]),
            provider.tracer("fuzz-b", Some("1".into()), None, vec![]),
        ];
        (provider, tracers)
    })
}

fuzz_target!(|data: &[u8]| {
    let (provider, tracers) = pipeline();
    let before = provider.stats();
    let mut decoder = Decoder::new();
    let _ = decoder.submit(provider, tracers, data);
    // The same bytes again: after a corrupt batch, the decoder ignores (and counts) what
    // follows unless it is fresh.
    let _ = decoder.submit(provider, tracers, data);
    let after = provider.stats();
    assert!(after.spans_ended >= before.spans_ended);
    assert!(after.dropped_invalid >= before.dropped_invalid);
});
