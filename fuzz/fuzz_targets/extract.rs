//! A whole carrier from the wire (`name: value` lines, any names, repeats) through the
//! composite propagator: never panics; what it extracts injects back to headers that extract to
//! the same context and baggage.
#![no_main]
use libfuzzer_sys::fuzz_target;
use polytrace_core::propagation::Propagators;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let carrier: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k, v.trim_start()))
        .collect();
    let p = Propagators::default();
    let got = p.extract(&carrier);
    let mut out: Vec<(&'static str, String)> = Vec::new();
    p.inject(got.span_context.as_ref(), &got.baggage, &mut |k, v| {
        out.push((k, v))
    });
    let again = p.extract(&out);
    assert_eq!(
        again
            .span_context
            .as_ref()
            .map(|c| (c.trace_id, c.span_id, c.trace_flags)),
        got.span_context
            .as_ref()
            .map(|c| (c.trace_id, c.span_id, c.trace_flags)),
        "{text:?}"
    );
    assert_eq!(again.baggage.header(), got.baggage.header(), "{text:?}");
});
