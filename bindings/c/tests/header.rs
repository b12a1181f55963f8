//! The checked-in header is exactly what cbindgen generates from the source. Set
//! `POLYTRACE_BLESS=1` to rewrite it after changing the API.
#![allow(clippy::panic)]

use std::path::Path;

#[test]
fn header_is_up_to_date() {
    let crate_dir = env!("CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(Path::new(crate_dir).join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("cbindgen.toml: {e}"));
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen: {e}"));
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).unwrap_or_else(|e| panic!("{e}"));
    let path = Path::new(crate_dir).join("include/polytrace.h");
    if std::env::var_os("POLYTRACE_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if checked_in != generated {
        let first = checked_in
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map(|i| i + 1)
            .unwrap_or(checked_in.lines().count().min(generated.lines().count()) + 1);
        panic!(
            "{} is out of date (first difference at line {first}); regenerate it with \
             `POLYTRACE_BLESS=1 cargo test -p polytrace-ffi --test header` and commit it",
            path.display()
        );
    }
}
