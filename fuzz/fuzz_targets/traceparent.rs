//! `traceparent` from the wire: never panics; whatever parses is valid and formats back to a
//! header that parses to the same context.
#![no_main]
use libfuzzer_sys::fuzz_target;
use polytrace_core::propagation::{format_traceparent, parse_traceparent};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(ctx) = parse_traceparent(s) {
        assert!(ctx.is_valid(), "{s:?} parsed to an invalid context");
        let again = parse_traceparent(&format_traceparent(&ctx));
        assert_eq!(again.as_ref(), Some(&ctx), "{s:?} does not round-trip");
    }
});
