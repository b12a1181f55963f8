//! `baggage` from the wire: never panics, and the header it writes is a fixed point (parsing it
//! again gives the same header).
#![no_main]
use libfuzzer_sys::fuzz_target;
use polytrace_core::propagation::Baggage;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let b = Baggage::parse(s);
    let header = b.header();
    assert_eq!(
        Baggage::parse(&header).header(),
        header,
        "{s:?}: the written header is not stable"
    );
});
