//! `docs/configuration.md` is generated from the table of options (`core/src/config/options.rs`):
//! its tables must be what `polytrace_core::config::docs` writes today. To update the page
//! after changing the table:
//!
//! ```sh
//! POLYTRACE_UPDATE_DOCS=1 cargo test -p polytrace-core --test config_docs
//! ```
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use polytrace_core::config::{docs, Kind, OPTIONS};
use std::path::PathBuf;

fn page_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/configuration.md")
}

#[test]
fn configuration_page_matches_the_table_of_options() {
    let path = page_path();
    let page = std::fs::read_to_string(&path).expect("docs/configuration.md is readable");
    let generated = docs::regenerate(&page).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if generated == page {
        return;
    }
    if std::env::var_os("POLYTRACE_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).expect("docs/configuration.md is writable");
        eprintln!("rewrote {}", path.display());
        return;
    }
    let first = page
        .lines()
        .zip(generated.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(page.lines().count().min(generated.lines().count()));
    panic!(
        "docs/configuration.md differs from the table of options (core/src/config/options.rs) \
         from line {}:\n  page:      {:?}\n  generated: {:?}\nRegenerate it with \
         `POLYTRACE_UPDATE_DOCS=1 cargo test -p polytrace-core --test config_docs`.",
        first + 1,
        page.lines().nth(first).unwrap_or(""),
        generated.lines().nth(first).unwrap_or(""),
    );
}

#[test]
fn every_type_in_the_tables_is_explained_on_the_page() {
    let page = std::fs::read_to_string(page_path()).unwrap();
    let types = page
        .split("## Value types")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("the page has a Value types section");
    for o in OPTIONS {
        let label = o.kind.label();
        // "integer ≥ 1" is explained under "integer".
        let base = label.split(" ≥").next().unwrap_or(&label);
        assert!(
            types.contains(&format!("| {base} |")),
            "{}: the type {label:?} is not in the Value types table",
            o.name
        );
    }
    assert_eq!(Kind::Int { min: 1 }.label(), "integer ≥ 1");
}
