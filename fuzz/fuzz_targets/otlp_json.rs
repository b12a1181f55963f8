//! The OTLP/JSON decoder (`polytrace-otlp-json`, what `polytrace receive` reads): never panics
//! on any bytes, and what it decodes writes a JSON line that decodes to the same line again.
#![no_main]
use libfuzzer_sys::fuzz_target;
use polytrace_otlp_json::{request_from_json, request_to_json_line};

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = request_from_json(data) {
        let line = request_to_json_line(&req);
        let again = request_from_json(line.as_bytes())
            .unwrap_or_else(|e| panic!("its own output does not decode: {e:?}: {line}"));
        assert_eq!(request_to_json_line(&again), line);
    }
});
