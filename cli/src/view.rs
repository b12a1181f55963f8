//! `polytrace view`: OTLP/JSON lines in, indented waterfalls out.
//!
//! Accepts what `polytrace receive`, the core's file exporter and the
//! Collector's file exporter write: one `ExportTraceServiceRequest` /
//! `TracesData` JSON object per line. A line that doesn't parse is reported on
//! stderr with its number and skipped; nothing in the input can make this panic
//! (parent cycles, missing parents, absurd timestamps and duplicate ids included).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::process::ExitCode;

use polytrace_receiver::opentelemetry_proto::tonic::common::v1::any_value::Value;
use polytrace_receiver::request_from_json;

use crate::{ColorChoice, ViewArgs};

/// Cells in a duration bar.
const BAR_WIDTH: usize = 40;
/// Widest the name column (indentation included) may get before names are cut.
const NAME_MAX: usize = 60;

/// One span, reduced to what the waterfall shows.
#[derive(Debug, Clone)]
pub(crate) struct SpanRow {
    pub(crate) span_id: Vec<u8>,
    pub(crate) parent_id: Vec<u8>,
    pub(crate) name: String,
    pub(crate) service: String,
    pub(crate) kind: i32,
    pub(crate) start: u64,
    pub(crate) end: u64,
    /// `Some(message)` when the status code is ERROR (2).
    pub(crate) error: Option<String>,
    /// The `messaging.system` attribute (`kafka`, `mqtt`, ...): a hop through a broker.
    pub(crate) messaging: Option<String>,
    /// The span's flags say its parent is remote (OTLP `SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE` and
    /// `SPAN_FLAGS_CONTEXT_IS_REMOTE`): a parent outside this file is expected, not lost.
    pub(crate) remote_parent: bool,
}

/// OTLP span flags: the parent's is-remote bit is known (0x100) and set (0x200).
const PARENT_IS_REMOTE: u32 = 0x300;

impl SpanRow {
    pub(crate) fn duration(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
}

/// The spans of one trace id, in file order.
#[derive(Debug)]
pub(crate) struct Trace {
    pub(crate) id: Vec<u8>,
    pub(crate) spans: Vec<SpanRow>,
}

impl Trace {
    pub(crate) fn start(&self) -> u64 {
        self.spans.iter().map(|s| s.start).min().unwrap_or(0)
    }

    pub(crate) fn end(&self) -> u64 {
        self.spans
            .iter()
            .map(|s| s.end.max(s.start))
            .max()
            .unwrap_or(0)
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

pub(crate) fn kind_name(kind: i32) -> &'static str {
    match kind {
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => "unspecified",
    }
}

/// `0.042 ms`, `4.20 ms`, `42.0 ms`, `420 ms`, `4200 ms`: about three
/// significant digits, always in milliseconds so columns compare at a glance.
pub(crate) fn format_ms(nanos: u64) -> String {
    let ms = nanos as f64 / 1e6;
    if ms < 1.0 {
        format!("{ms:.3} ms")
    } else if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// Reads OTLP/JSON lines, grouping spans by trace (in order of first
/// appearance). Bad lines go to `warn(line_number, message)`.
pub(crate) fn load(
    input: &mut dyn BufRead,
    warn: &mut dyn FnMut(usize, String),
) -> io::Result<Vec<Trace>> {
    let mut traces: Vec<Trace> = Vec::new();
    let mut by_id: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let request = match request_from_json(&line) {
            Ok(r) => r,
            Err(e) => {
                warn(number, e.to_string());
                continue;
            }
        };
        for rs in request.resource_spans {
            let service = crate::service_name(&rs);
            for span in rs.scope_spans.into_iter().flat_map(|ss| ss.spans) {
                let error = span
                    .status
                    .as_ref()
                    .filter(|s| s.code == 2)
                    .map(|s| s.message.clone());
                let messaging = span
                    .attributes
                    .iter()
                    .find(|kv| kv.key == "messaging.system")
                    .and_then(|kv| kv.value.as_ref())
                    .and_then(|v| match &v.value {
                        Some(Value::StringValue(s)) => Some(s.clone()),
                        _ => None,
                    });
                let row = SpanRow {
                    span_id: span.span_id,
                    parent_id: span.parent_span_id,
                    name: span.name,
                    service: service.clone(),
                    kind: span.kind,
                    start: span.start_time_unix_nano,
                    end: span.end_time_unix_nano,
                    error,
                    messaging,
                    remote_parent: span.flags & PARENT_IS_REMOTE == PARENT_IS_REMOTE,
                };
                let index = *by_id.entry(span.trace_id.clone()).or_insert_with(|| {
                    traces.push(Trace {
                        id: span.trace_id,
                        spans: Vec::new(),
                    });
                    traces.len() - 1
                });
                traces[index].spans.push(row);
            }
        }
    }
    traces.sort_by_key(|t| t.start());
    Ok(traces)
}

/// A span's place in the waterfall.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Placed {
    pub(crate) index: usize,
    pub(crate) depth: usize,
    /// Why a span is at top level although it has a parent.
    pub(crate) orphan: Option<String>,
}

/// Orders the spans of a trace depth-first, children under parents, siblings
/// by start time. Spans whose parent is absent (or unreachable, in a cycle)
/// are placed at top level and marked.
pub(crate) fn layout(spans: &[SpanRow]) -> Vec<Placed> {
    let mut first: HashMap<&[u8], usize> = HashMap::new();
    for (i, s) in spans.iter().enumerate() {
        if !s.span_id.is_empty() {
            first.entry(&s.span_id).or_insert(i);
        }
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
    let mut roots: Vec<(usize, Option<String>)> = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        if s.parent_id.is_empty() {
            roots.push((i, None));
        } else {
            match first.get(s.parent_id.as_slice()) {
                Some(&p) if p != i => children[p].push(i),
                Some(_) => roots.push((i, Some("span is its own parent".into()))),
                None if s.remote_parent => roots.push((i, None)),
                None => roots.push((i, Some(format!("parent {} not in file", hex(&s.parent_id))))),
            }
        }
    }
    let by_start = |&a: &usize, &b: &usize| {
        (spans[a].start, &spans[a].name, a).cmp(&(spans[b].start, &spans[b].name, b))
    };
    for c in &mut children {
        c.sort_by(by_start);
    }
    roots.sort_by(|a, b| by_start(&a.0, &b.0));

    // Depth-first with an explicit stack: traces can be arbitrarily deep.
    fn visit(
        root: usize,
        orphan: Option<String>,
        children: &[Vec<usize>],
        visited: &mut [bool],
        placed: &mut Vec<Placed>,
    ) {
        let mut stack = vec![(root, 0usize, orphan)];
        while let Some((i, depth, orphan)) = stack.pop() {
            if std::mem::replace(&mut visited[i], true) {
                continue;
            }
            placed.push(Placed {
                index: i,
                depth,
                orphan,
            });
            for &c in children[i].iter().rev() {
                stack.push((c, depth + 1, None));
            }
        }
    }
    let mut placed = Vec::with_capacity(spans.len());
    let mut visited = vec![false; spans.len()];
    for (root, orphan) in roots {
        visit(root, orphan, &children, &mut visited, &mut placed);
    }
    // What's left hangs off a parent cycle: show it rather than lose it.
    let mut rest: Vec<usize> = (0..spans.len()).filter(|&i| !visited[i]).collect();
    rest.sort_by(by_start);
    for i in rest {
        if visited[i] {
            continue;
        }
        let why = format!("parent {} is in a cycle", hex(&spans[i].parent_id));
        visit(i, Some(why), &children, &mut visited, &mut placed);
    }
    placed
}

/// The bar of a span starting at `start` lasting `duration` within a trace
/// spanning `t0 .. t0 + range`: spaces, then at least one `█`.
pub(crate) fn bar(t0: u64, range: u64, start: u64, duration: u64) -> String {
    let w = BAR_WIDTH as u128;
    let (from, to) = if range == 0 {
        (0, w)
    } else {
        let rel = u128::from(start.saturating_sub(t0));
        let end = rel + u128::from(duration);
        let range = u128::from(range);
        (rel * w / range, (end * w).div_ceil(range))
    };
    let from = from.min(w - 1) as usize;
    let to = (to.min(w) as usize).max(from + 1);
    let mut s = String::with_capacity(BAR_WIDTH * 3);
    s.extend(std::iter::repeat_n(' ', from));
    s.extend(std::iter::repeat_n('█', to - from));
    s.extend(std::iter::repeat_n(' ', BAR_WIDTH - to));
    s
}

/// ANSI styling, or none.
struct Style(bool);

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Names, services and messages are the sender's text: keep control
/// characters (newlines, escape sequences) out of the terminal.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(width.saturating_sub(n)))
}

/// Writes one trace: a header line, then one line per span.
pub(crate) fn render(trace: &Trace, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let style = Style(color);
    let spans = &trace.spans;
    let t0 = trace.start();
    let range = trace.end() - t0;
    let mut services: Vec<&str> = spans.iter().map(|s| s.service.as_str()).collect();
    services.sort_unstable();
    services.dedup();
    let id = if trace.id.is_empty() {
        "(no trace id)".to_string()
    } else {
        hex(&trace.id)
    };
    let header = format!(
        "trace {id} · {} span{} · {} · services: {}",
        spans.len(),
        if spans.len() == 1 { "" } else { "s" },
        format_ms(range),
        clean(&services.join(", ")),
    );
    writeln!(out, "{}", style.paint("1", &header))?;

    let placed = layout(spans);
    let names: Vec<String> = placed
        .iter()
        .map(|p| {
            let indent = "  ".repeat(1 + p.depth.min(NAME_MAX / 4));
            let room = NAME_MAX.saturating_sub(indent.len()).max(8);
            let name = clean(&spans[p.index].name);
            let name = if name.is_empty() {
                "(unnamed)".into()
            } else {
                name
            };
            format!("{indent}{}", truncate(&name, room))
        })
        .collect();
    let name_w = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let service_w = spans
        .iter()
        .map(|s| clean(&s.service).chars().count().min(30))
        .max()
        .unwrap_or(0);
    let durations: Vec<String> = placed
        .iter()
        .map(|p| format_ms(spans[p.index].duration()))
        .collect();
    let duration_w = durations.iter().map(String::len).max().unwrap_or(0);

    for ((p, name), duration) in placed.iter().zip(&names).zip(&durations) {
        let s = &spans[p.index];
        let service = truncate(&clean(&s.service), 30);
        let bar = bar(t0, range, s.start, s.duration());
        let mut line = format!(
            "{}  {}  {}  {:>duration_w$}  │{}│",
            pad(name, name_w),
            style.paint("36", &pad(&service, service_w)),
            style.paint("2", &pad(kind_name(s.kind), 11)),
            duration,
            style.paint(if s.error.is_some() { "31" } else { "32" }, &bar),
        );
        if let Some(message) = &s.error {
            let marker = if message.is_empty() {
                "✗ ERROR".to_string()
            } else {
                format!("✗ ERROR: {}", truncate(&clean(message), 120))
            };
            line.push_str(&format!(" {}", style.paint("1;31", &marker)));
        }
        if p.orphan.is_none() && p.depth == 0 && s.remote_parent && !s.parent_id.is_empty() {
            let note = format!("↖ continues remote parent {}", hex(&s.parent_id));
            line.push_str(&format!(" {}", style.paint("2", &note)));
        }
        if let Some(why) = &p.orphan {
            line.push_str(&format!(
                " {}",
                style.paint("33", &format!("⚠ orphan: {why}"))
            ));
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn normalize_trace_id(s: &str) -> Result<String, String> {
    let t = s.trim().to_ascii_lowercase();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("invalid trace id {s:?}: expected hex digits"));
    }
    Ok(t)
}

pub(crate) fn run(args: &ViewArgs) -> Result<ExitCode, String> {
    let wanted = args.trace.as_deref().map(normalize_trace_id).transpose()?;
    let source = args.file.display().to_string();
    let mut input: Box<dyn BufRead> = if source == "-" {
        Box::new(io::stdin().lock())
    } else {
        let file = File::open(&args.file).map_err(|e| format!("cannot open {source}: {e}"))?;
        Box::new(BufReader::new(file))
    };
    let mut skipped = 0usize;
    let mut warn = |line: usize, message: String| {
        skipped += 1;
        eprintln!("{source}:{line}: skipped malformed line: {message}");
    };
    let traces = load(&mut *input, &mut warn).map_err(|e| format!("reading {source}: {e}"))?;

    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let shown: Vec<&Trace> = traces
        .iter()
        .filter(|t| wanted.as_ref().is_none_or(|w| hex(&t.id) == *w))
        .collect();
    let mut out = io::BufWriter::new(io::stdout().lock());
    let written = shown.iter().enumerate().try_for_each(|(i, trace)| {
        if i > 0 {
            writeln!(out)?;
        }
        render(trace, color, &mut out)
    });
    match written.and_then(|()| out.flush()) {
        Ok(()) => {}
        // `polytrace view big.jsonl | head`: stop quietly.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(format!("writing output: {e}")),
    }

    if let Some(path) = &args.svg {
        let mut picture = Vec::new();
        crate::svg::render(&shown, &mut picture).map_err(|e| format!("drawing the SVG: {e}"))?;
        std::fs::write(path, picture)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }

    let span_total: usize = shown.iter().map(|t| t.spans.len()).sum();
    let skipped_note = match skipped {
        0 => String::new(),
        1 => ", 1 malformed line skipped".into(),
        n => format!(", {n} malformed lines skipped"),
    };
    if let Some(w) = &wanted {
        if shown.is_empty() {
            eprintln!("no trace {w} in {source}{skipped_note}");
            return Ok(ExitCode::FAILURE);
        }
    }
    eprintln!(
        "{} trace{}, {span_total} span{}{skipped_note}",
        shown.len(),
        if shown.len() == 1 { "" } else { "s" },
        if span_total == 1 { "" } else { "s" },
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn span(id: u8, parent: u8, start: u64, end: u64) -> SpanRow {
        SpanRow {
            span_id: vec![id; 8],
            parent_id: if parent == 0 { vec![] } else { vec![parent; 8] },
            name: format!("s{id}"),
            service: "svc".into(),
            kind: 1,
            start,
            end,
            error: None,
            messaging: None,
            remote_parent: false,
        }
    }

    fn shape(spans: &[SpanRow]) -> Vec<(String, usize, bool)> {
        layout(spans)
            .into_iter()
            .map(|p| (spans[p.index].name.clone(), p.depth, p.orphan.is_some()))
            .collect()
    }

    #[test]
    fn children_under_parents_sorted_by_start() {
        let spans = [
            span(3, 1, 50, 60),
            span(2, 1, 10, 20),
            span(1, 0, 0, 100),
            span(4, 2, 12, 15),
            span(5, 9, 5, 6),
        ];
        assert_eq!(
            shape(&spans),
            [
                ("s1".into(), 0, false),
                ("s2".into(), 1, false),
                ("s4".into(), 2, false),
                ("s3".into(), 1, false),
                ("s5".into(), 0, true),
            ]
        );
    }

    #[test]
    fn a_remote_parent_outside_the_file_is_no_orphan() {
        let mut continued = span(1, 9, 0, 10);
        continued.remote_parent = true;
        let lost = span(2, 8, 1, 2);
        let spans = [continued, lost];
        assert_eq!(
            shape(&spans),
            [("s1".into(), 0, false), ("s2".into(), 0, true)]
        );
        let mut out = Vec::new();
        render(
            &Trace {
                id: vec![1; 16],
                spans: spans.to_vec(),
            },
            false,
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("↖ continues remote parent 0909090909090909"),
            "{text}"
        );
        assert!(
            text.contains("⚠ orphan: parent 0808080808080808 not in file"),
            "{text}"
        );
    }

    #[test]
    fn cycles_and_self_parents_are_shown_once() {
        let spans = [span(1, 2, 0, 1), span(2, 1, 1, 2), span(3, 3, 2, 3)];
        let got = shape(&spans);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], ("s3".into(), 0, true));
        assert_eq!(got[1], ("s1".into(), 0, true));
        assert_eq!(got[2], ("s2".into(), 1, false));
    }

    #[test]
    fn deep_chains_do_not_overflow_the_stack() {
        let spans: Vec<SpanRow> = (0..100_000u32)
            .map(|i| SpanRow {
                span_id: i.to_be_bytes().to_vec(),
                parent_id: if i == 0 {
                    vec![]
                } else {
                    (i - 1).to_be_bytes().to_vec()
                },
                ..span(0, 0, u64::from(i), u64::from(i) + 1)
            })
            .collect();
        let placed = layout(&spans);
        assert_eq!(placed.last().unwrap().depth, 99_999);
        let mut out = Vec::new();
        render(
            &Trace {
                id: vec![1; 16],
                spans,
            },
            false,
            &mut out,
        )
        .unwrap();
    }

    #[test]
    fn bars() {
        assert_eq!(bar(0, 100, 0, 100), "█".repeat(40));
        assert_eq!(
            bar(0, 100, 50, 50),
            format!("{}{}", " ".repeat(20), "█".repeat(20))
        );
        assert_eq!(bar(0, 100, 0, 0), format!("█{}", " ".repeat(39)));
        assert_eq!(bar(0, 100, 100, 0), format!("{}█", " ".repeat(39)));
        assert_eq!(bar(5, 0, 5, 0), "█".repeat(40));
        let extreme = bar(0, u64::MAX, u64::MAX - 1, u64::MAX);
        assert_eq!(extreme.chars().count(), 40);
    }

    #[test]
    fn durations() {
        assert_eq!(format_ms(42_000), "0.042 ms");
        assert_eq!(format_ms(4_200_000), "4.20 ms");
        assert_eq!(format_ms(42_000_000), "42.0 ms");
        assert_eq!(format_ms(420_000_000), "420 ms");
        assert_eq!(format_ms(0), "0.000 ms");
    }

    #[test]
    fn malformed_lines_are_reported_and_skipped() {
        let input = b"{\"resourceSpans\":[]}\nnot json\n\n{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"01\",\"spanId\":\"02\",\"name\":\"x\"}]}]}]}\n\xff\xfe\n";
        let mut warnings = Vec::new();
        let traces = load(&mut &input[..], &mut |n, m| warnings.push((n, m))).unwrap();
        assert_eq!(traces.len(), 1);
        assert_eq!(traces[0].spans[0].name, "x");
        assert_eq!(warnings.iter().map(|w| w.0).collect::<Vec<_>>(), [2, 5]);
    }
}
