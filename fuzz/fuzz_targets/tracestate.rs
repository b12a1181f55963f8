//! `tracestate` from the wire: never panics; a parsed trace state writes a header that parses
//! back to the same entries.
#![no_main]
use libfuzzer_sys::fuzz_target;
use polytrace_core::propagation::TraceState;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(ts) = TraceState::parse(s) {
        let header = ts.header();
        let again = TraceState::parse(&header);
        assert_eq!(
            again.as_ref().map(TraceState::entries),
            Some(ts.entries()),
            "{s:?} -> {header:?} does not round-trip"
        );
    }
});
