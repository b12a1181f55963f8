//! `polytrace view --svg FILE`: the same waterfalls as the terminal view, drawn as one SVG
//! picture — a row per span in the view's order, bars coloured by service (with a legend),
//! errors outlined in red and marked `✗` with their message, and every hop between services
//! drawn as a connector from the parent's bar to the child's: solid for calls (client → server),
//! dashed and labelled with the broker (`kafka`, `mqtt`, from `messaging.system`) for messaging
//! hops (producer → consumer). Each element has a `<title>` (the browser's tooltip) with the
//! span's details. Text from the spans is XML-escaped; nothing in the input can break the file.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use crate::view::{format_ms, hex, kind_name, layout, truncate, SpanRow, Trace};

const WIDTH: f64 = 1280.0;
/// Left edge of the bars; the names and services are to its left.
const BAR_X: f64 = 470.0;
const BAR_W: f64 = WIDTH - BAR_X - 190.0;
const ROW_H: f64 = 22.0;
const NAME_CHARS: usize = 38;

/// Colour-blind-friendly categorical palette (Okabe–Ito, then Tableau), one per service in
/// order of first appearance; cycles after 12 services.
const PALETTE: [&str; 12] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#7F7F7F", "#9467BD",
    "#8C564B", "#17BECF", "#BCBD22", "#1F77B4",
];
const ERROR: &str = "#D62728";

/// `&`, `<`, `>`, `"`, `'` escaped; control characters (not allowed in XML 1.0) dropped.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Service → colour, in order of first appearance across the traces.
pub(crate) fn colours(traces: &[&Trace]) -> Vec<(String, &'static str)> {
    let mut seen: Vec<(String, &'static str)> = Vec::new();
    for t in traces {
        for s in &t.spans {
            if !seen.iter().any(|(name, _)| *name == s.service) {
                let colour = PALETTE[seen.len() % PALETTE.len()];
                seen.push((s.service.clone(), colour));
            }
        }
    }
    seen
}

/// What kind of hop a parent → child edge is, if it is one: the child in another service than
/// its parent, or a consumer (messaging crosses a broker even inside one service).
fn hop(parent: &SpanRow, child: &SpanRow) -> Option<Option<String>> {
    let messaging = child.kind == 5 || (parent.kind == 4 && child.kind != 1);
    if messaging {
        let system = child.messaging.clone().or_else(|| parent.messaging.clone());
        return Some(Some(system.unwrap_or_else(|| "messaging".into())));
    }
    (parent.service != child.service).then_some(None)
}

/// Writes the traces as one SVG document.
pub(crate) fn render(traces: &[&Trace], out: &mut dyn Write) -> io::Result<()> {
    let colours = colours(traces);
    let colour_of: HashMap<&str, &str> = colours.iter().map(|(s, c)| (s.as_str(), *c)).collect();
    let mut body = String::new();
    let legend_rows = colours.len().div_ceil(5).max(1);
    // Services, then a row for the marks.
    let mut y = 30.0 + (legend_rows + 1) as f64 * 20.0 + 10.0;

    // Legend: services, then the marks.
    let _ = writeln!(
        body,
        r#"<text x="10" y="18" class="h">polytrace · {} trace{}</text>"#,
        traces.len(),
        if traces.len() == 1 { "" } else { "s" }
    );
    for (i, (service, colour)) in colours.iter().enumerate() {
        let (col, row) = (i % 5, i / 5);
        let (x, ly) = (10.0 + col as f64 * 200.0, 30.0 + row as f64 * 20.0);
        let _ = writeln!(
            body,
            r#"<rect x="{x}" y="{ly}" width="14" height="14" rx="2" fill="{colour}"/><text x="{}" y="{}" class="l">{}</text>"#,
            x + 20.0,
            ly + 12.0,
            escape(&truncate(service, 26))
        );
    }
    let ly = 30.0 + legend_rows as f64 * 20.0;
    let _ = writeln!(
        body,
        r##"<g transform="translate({},{ly})"><rect x="0" y="0" width="14" height="14" rx="2" fill="#fff" stroke="{ERROR}" stroke-width="2"/><text x="20" y="12" class="l">✗ error</text><line x1="90" y1="7" x2="130" y2="7" class="hop msg"/><text x="136" y="12" class="l">messaging hop</text><line x1="240" y1="7" x2="280" y2="7" class="hop"/><text x="286" y="12" class="l">call between services</text></g>"##,
        10.0
    );

    for trace in traces {
        y = render_trace(trace, &colour_of, y, &mut body) + 26.0;
    }

    writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{y}" viewBox="0 0 {WIDTH} {y}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">"#
    )?;
    writeln!(
        out,
        "<style>.h{{font-size:14px;font-weight:bold}}.l{{font-size:12px}}.n{{font-size:12px}}.s{{font-size:11px;fill:#555}}\
.d{{font-size:11px;fill:#333}}.e{{font-size:11px;fill:{ERROR};font-weight:bold}}.t{{font-size:10px;fill:#777}}\
.hop{{stroke:#444;stroke-width:1.2;fill:none;marker-end:url(#arrow)}}.msg{{stroke:#B8860B;stroke-width:1.6;stroke-dasharray:5 3}}\
.hl{{font-size:10px;fill:#B8860B;font-weight:bold}}.grid{{stroke:#e5e5e5;stroke-width:1}}</style>"
    )?;
    writeln!(
        out,
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>"##
    )?;
    writeln!(
        out,
        r##"<rect width="100%" height="100%" fill="#ffffff"/>"##
    )?;
    out.write_all(body.as_bytes())?;
    writeln!(out, "</svg>")
}

/// Draws one trace from `y` down; returns the y below it.
fn render_trace(
    trace: &Trace,
    colour_of: &HashMap<&str, &str>,
    top: f64,
    body: &mut String,
) -> f64 {
    let spans = &trace.spans;
    let t0 = trace.start();
    let range = trace.end().saturating_sub(t0);
    let mut services: Vec<&str> = spans.iter().map(|s| s.service.as_str()).collect();
    services.sort_unstable();
    services.dedup();
    let id = if trace.id.is_empty() {
        "(no trace id)".to_string()
    } else {
        hex(&trace.id)
    };
    let errors = spans.iter().filter(|s| s.error.is_some()).count();
    let _ = writeln!(
        body,
        r#"<text x="10" y="{}" class="h">trace {id} · {} span{} · {} · {} service{}{}</text>"#,
        top + 14.0,
        spans.len(),
        if spans.len() == 1 { "" } else { "s" },
        format_ms(range),
        services.len(),
        if services.len() == 1 { "" } else { "s" },
        if errors > 0 {
            format!(" · ✗ {errors} error{}", if errors == 1 { "" } else { "s" })
        } else {
            String::new()
        }
    );
    // Time axis with five ticks.
    let axis = top + 24.0;
    for i in 0..=4 {
        let x = BAR_X + BAR_W * f64::from(i) / 4.0;
        let _ = writeln!(
            body,
            r#"<text x="{x:.1}" y="{:.1}" class="t" text-anchor="middle">{}</text>"#,
            axis + 8.0,
            escape(&format_ms(range / 4 * i as u64))
        );
    }
    let rows_top = axis + 14.0;
    let placed = layout(spans);
    let row_of: HashMap<usize, usize> = placed
        .iter()
        .enumerate()
        .map(|(row, p)| (p.index, row))
        .collect();
    let bottom = rows_top + placed.len() as f64 * ROW_H;
    for i in 0..=4 {
        let x = BAR_X + BAR_W * f64::from(i) / 4.0;
        let _ = writeln!(
            body,
            r#"<line x1="{x:.1}" y1="{rows_top:.1}" x2="{x:.1}" y2="{bottom:.1}" class="grid"/>"#
        );
    }
    let span_x = |s: &SpanRow| -> (f64, f64) {
        if range == 0 {
            return (BAR_X, BAR_W);
        }
        let rel = s.start.saturating_sub(t0) as f64 / range as f64;
        let len = s.duration() as f64 / range as f64;
        let x = BAR_X + BAR_W * rel.clamp(0.0, 1.0);
        let w = (BAR_W * len).max(2.0).min(BAR_X + BAR_W - x + 2.0);
        (x, w)
    };

    for (row, p) in placed.iter().enumerate() {
        let s = &spans[p.index];
        let y = rows_top + row as f64 * ROW_H;
        let colour = colour_of.get(s.service.as_str()).copied().unwrap_or("#999");
        if row % 2 == 1 {
            let _ = writeln!(
                body,
                r##"<rect x="0" y="{y:.1}" width="{WIDTH}" height="{ROW_H}" fill="#f7f7f7"/>"##
            );
        }
        let indent = 10.0 + 12.0 * p.depth.min(20) as f64;
        let name = if s.name.is_empty() {
            "(unnamed)"
        } else {
            &s.name
        };
        let room = NAME_CHARS.saturating_sub(p.depth.min(20) * 2).max(8);
        let remote =
            p.orphan.is_none() && p.depth == 0 && s.remote_parent && !s.parent_id.is_empty();
        let mark = if p.orphan.is_some() {
            "⚠ "
        } else if remote {
            "↖ "
        } else {
            ""
        };
        let _ = writeln!(
            body,
            r#"<text x="{indent:.1}" y="{:.1}" class="n" fill="{colour}">{mark}{}</text>"#,
            y + 15.0,
            escape(&truncate(name, room))
        );
        let _ = writeln!(
            body,
            r#"<text x="{:.1}" y="{:.1}" class="s">{} · {}</text>"#,
            BAR_X - 185.0,
            y + 15.0,
            escape(&truncate(&s.service, 22)),
            kind_name(s.kind)
        );
        let (x, w) = span_x(s);
        let stroke = if s.error.is_some() {
            format!(r#" stroke="{ERROR}" stroke-width="2.5""#)
        } else {
            String::new()
        };
        let mut title = format!(
            "{} · {} · {} · {}",
            s.name,
            s.service,
            kind_name(s.kind),
            format_ms(s.duration())
        );
        if let Some(m) = &s.messaging {
            let _ = write!(title, " · {m}");
        }
        if let Some(e) = &s.error {
            let _ = write!(title, " · ERROR {e}");
        }
        if let Some(o) = &p.orphan {
            let _ = write!(title, " · orphan: {o}");
        }
        if remote {
            let _ = write!(title, " · continues remote parent {}", hex(&s.parent_id));
        }
        let _ = writeln!(
            body,
            r#"<rect x="{x:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" rx="2" fill="{colour}"{stroke}><title>{}</title></rect>"#,
            y + 4.0,
            ROW_H - 8.0,
            escape(&title)
        );
        let label_x = (x + w + 6.0).min(BAR_X + BAR_W + 8.0);
        let mut label = format_ms(s.duration());
        if let Some(e) = &s.error {
            let _ = writeln!(
                body,
                r#"<text x="{label_x:.1}" y="{:.1}" class="e">✗ {}</text>"#,
                y + 15.0,
                escape(&truncate(&format!("{label} {e}"), 30))
            );
            label.clear();
        }
        if !label.is_empty() {
            let _ = writeln!(
                body,
                r#"<text x="{label_x:.1}" y="{:.1}" class="d">{}</text>"#,
                y + 15.0,
                escape(&label)
            );
        }
    }

    // Hops: from the parent's bar to the child's, drawn over the bars.
    let mut first: HashMap<&[u8], usize> = HashMap::new();
    for (i, s) in spans.iter().enumerate() {
        first.entry(s.span_id.as_slice()).or_insert(i);
    }
    for (row, p) in placed.iter().enumerate() {
        let child = &spans[p.index];
        let Some(&pi) = first.get(child.parent_id.as_slice()) else {
            continue;
        };
        let (Some(&prow), true) = (row_of.get(&pi), pi != p.index) else {
            continue;
        };
        let parent = &spans[pi];
        let Some(kind) = hop(parent, child) else {
            continue;
        };
        let (px, _) = span_x(parent);
        let (cx, _) = span_x(child);
        let y1 = rows_top + prow as f64 * ROW_H + ROW_H - 4.0;
        let y2 = rows_top + row as f64 * ROW_H + ROW_H / 2.0;
        let x1 = px.max(BAR_X - 6.0) + 3.0;
        let x2 = (cx - 1.0).max(x1 + 4.0);
        let class = if kind.is_some() { "hop msg" } else { "hop" };
        let _ = writeln!(
            body,
            r#"<path d="M{x1:.1},{y1:.1} L{x1:.1},{y2:.1} L{x2:.1},{y2:.1}" class="{class}"><title>{}</title></path>"#,
            escape(&format!(
                "{} ({}) → {} ({}){}",
                parent.name,
                parent.service,
                child.name,
                child.service,
                kind.as_deref()
                    .map(|k| format!(" via {k}"))
                    .unwrap_or_default()
            ))
        );
        if let Some(system) = kind {
            let _ = writeln!(
                body,
                r#"<text x="{:.1}" y="{:.1}" class="hl" text-anchor="end">{}</text>"#,
                x1 - 3.0,
                y2 - 2.0,
                escape(&truncate(&system, 12))
            );
        }
    }
    bottom
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn span(id: u8, parent: u8, service: &str, kind: i32, start: u64, end: u64) -> SpanRow {
        SpanRow {
            span_id: vec![id; 8],
            parent_id: if parent == 0 { vec![] } else { vec![parent; 8] },
            name: format!("s{id}"),
            service: service.into(),
            kind,
            start,
            end,
            error: None,
            messaging: None,
            remote_parent: false,
        }
    }

    fn svg(traces: &[&Trace]) -> String {
        let mut out = Vec::new();
        render(traces, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn demo_trace() -> Trace {
        let mut failed = span(3, 2, "inventory", 1, 20, 30);
        failed.error = Some("sku <x> & \"y\" out of stock".into());
        let mut producer = span(4, 2, "orders", 4, 40, 50);
        producer.messaging = Some("kafka".into());
        let mut consumer = span(5, 4, "notify", 5, 60, 90);
        consumer.messaging = Some("kafka".into());
        consumer.name = "order.created process".into();
        Trace {
            id: vec![0xab; 16],
            spans: vec![
                span(1, 0, "gateway", 2, 0, 100),
                span(2, 1, "orders", 2, 10, 60),
                failed,
                producer,
                consumer,
                span(6, 5, "notify", 1, 70, 80),
            ],
        }
    }

    #[test]
    fn services_are_coloured_errors_marked_hops_drawn() {
        let t = demo_trace();
        let out = svg(&[&t]);
        assert!(out.starts_with("<svg "), "{out}");
        assert!(out.trim_end().ends_with("</svg>"));
        // One colour per service, in order of appearance, in the legend and on the bars.
        let c = colours(&[&t]);
        let names: Vec<&str> = c.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(names, ["gateway", "orders", "inventory", "notify"]);
        for (service, colour) in &c {
            assert!(
                out.contains(&format!(">{service}</text>")),
                "legend {service}"
            );
            assert!(
                out.contains(&format!(r#"rx="2" fill="{colour}"><title>"#))
                    || out.contains(&format!(r#"fill="{colour}" stroke"#)),
                "bar of {service}"
            );
        }
        // The error: red outline, ✗ mark, message escaped.
        assert_eq!(
            out.matches(&format!(r#"stroke="{ERROR}" stroke-width="2.5""#))
                .count(),
            1
        );
        assert!(out.contains("✗ 1 error"));
        assert!(out.contains("sku &lt;x&gt; &amp; &quot;y&quot;"), "{out}");
        assert!(!out.contains("<x>"));
        // Hops: gateway → orders and orders → inventory are calls; orders → notify is a kafka hop.
        assert_eq!(
            out.matches(r#"class="hop msg"><title>"#).count(),
            1,
            "{out}"
        );
        assert_eq!(out.matches(r#"class="hop"><title>"#).count(), 2, "{out}");
        assert!(out.contains(r#"class="hl" text-anchor="end">kafka</text>"#));
        assert!(out.contains("s4 (orders) → order.created process (notify) via kafka"));
        // The internal child of the consumer, in the same service, is no hop.
        assert!(!out.contains("→ s6"));
    }

    #[test]
    fn a_root_continuing_a_remote_parent_is_marked() {
        let mut root = span(1, 7, "gateway", 2, 0, 10);
        root.remote_parent = true;
        let t = Trace {
            id: vec![2; 16],
            spans: vec![root, span(2, 1, "orders", 2, 1, 5)],
        };
        let out = svg(&[&t]);
        assert!(out.contains(">↖ s1</text>"), "{out}");
        assert!(out.contains("continues remote parent 0707070707070707"));
        assert!(!out.contains("⚠"));
    }

    #[test]
    fn balanced_and_bounded_on_odd_input() {
        let mut weird = span(1, 1, "a\u{1b}[31m<svc>", 9, u64::MAX, 0);
        weird.name = "\u{0}".repeat(500);
        let empty = Trace {
            id: vec![],
            spans: vec![],
        };
        let t = Trace {
            id: vec![1],
            spans: vec![weird, span(2, 0, "b", 3, 5, 5)],
        };
        let out = svg(&[&t, &empty]);
        assert!(!out.contains('\u{0}') && !out.contains('\u{1b}'));
        assert_eq!(out.matches("<svg").count(), 1);
        assert_eq!(out.matches("<text").count(), out.matches("</text>").count());
        assert_eq!(
            out.matches("<title>").count(),
            out.matches("</title>").count()
        );
        assert!(!out.contains("NaN") && !out.contains("inf"), "{out}");
    }
}
