//! The tables of `docs/configuration.md`, generated from the table of options
//! ([`OPTIONS`](super::OPTIONS)). The page keeps its hand-written prose; each section's table
//! sits between two marker lines, and [`regenerate`] rewrites what is between them. The test
//! `core/tests/config_docs.rs` fails when the page differs from what this generates; run
//! `POLYTRACE_UPDATE_DOCS=1 cargo test -p polytrace-core --test config_docs` to rewrite it.

use super::options::{OptionDef, Section, OPTIONS};

/// The line that opens a section's generated table.
pub fn begin_marker(section: Section) -> String {
    format!(
        "<!-- BEGIN options:{} (generated from core/src/config/options.rs; do not edit) -->",
        section.id()
    )
}

/// The line that closes a section's generated table.
pub fn end_marker(section: Section) -> String {
    format!("<!-- END options:{} -->", section.id())
}

/// A table cell: `|` would end the cell early.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn env_cell(o: &OptionDef) -> String {
    if o.env.is_empty() {
        return "—".to_string();
    }
    o.env
        .iter()
        .map(|v| {
            if v.note.is_empty() {
                format!("`{}`", v.name)
            } else {
                format!("`{}` ({})", v.name, v.note)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn default_cell(o: &OptionDef) -> String {
    if !o.default_doc.is_empty() {
        return o.default_doc.to_string();
    }
    match o.default {
        Some("") | None => "none".to_string(),
        Some(text) if o.kind.is_millis() => format!("`{text}` ms"),
        Some(text) => format!("`{text}`"),
    }
}

/// The Markdown table of one section's options, in the table's order.
pub fn table(section: Section) -> String {
    let mut out = String::from(
        "| Environment variable | Option | Type | Default | Meaning | Invalid value |\n\
         |---|---|---|---|---|---|\n",
    );
    for o in OPTIONS.iter().filter(|o| o.section == section) {
        let row = [
            env_cell(o),
            format!("`{}`", o.name),
            o.kind.label(),
            default_cell(o),
            o.description.to_string(),
            o.invalid.to_string(),
        ];
        out.push('|');
        for c in row {
            out.push(' ');
            out.push_str(&cell(&c));
            out.push_str(" |");
        }
        out.push('\n');
    }
    out
}

/// `page` with every section's table replaced by the generated one. Every section must have
/// its two markers, once, in order; anything outside them is kept as written.
pub fn regenerate(page: &str) -> Result<String, String> {
    let mut out = String::with_capacity(page.len());
    let mut rest = page;
    for section in Section::ALL {
        let begin = begin_marker(section);
        let end = end_marker(section);
        let Some(b) = rest.find(&begin) else {
            return Err(format!(
                "the page has no line {begin:?} (or it is out of order)"
            ));
        };
        let after_begin = b + begin.len();
        let Some(e) = rest[after_begin..].find(&end) else {
            return Err(format!("the page has no line {end:?} after {begin:?}"));
        };
        out.push_str(&rest[..after_begin]);
        out.push('\n');
        out.push_str(&table(section));
        out.push_str(&end);
        rest = &rest[after_begin + e + end.len()..];
        if rest.contains(&begin) {
            return Err(format!("the line {begin:?} appears twice"));
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_is_in_a_generated_table() {
        let all: String = Section::ALL.into_iter().map(table).collect();
        for o in OPTIONS {
            assert!(all.contains(&format!("| `{}` |", o.name)), "{}", o.name);
            for v in o.env {
                assert!(all.contains(&format!("`{}`", v.name)), "{}", v.name);
            }
        }
    }

    #[test]
    fn regenerate_replaces_only_between_markers() {
        let mut page = String::from("# Title\n\nprose\n");
        for s in Section::ALL {
            page.push_str(&format!(
                "\n## {}\n\n{}\nstale\n{}\nafter\n",
                s.id(),
                begin_marker(s),
                end_marker(s)
            ));
        }
        let out = regenerate(&page).unwrap();
        assert!(!out.contains("stale"));
        assert!(out.starts_with("# Title\n\nprose\n"));
        assert_eq!(out.matches("after\n").count(), Section::ALL.len());
        assert_eq!(regenerate(&out).unwrap(), out, "regenerating is idempotent");
        assert!(regenerate("# no markers").is_err());
    }
}
