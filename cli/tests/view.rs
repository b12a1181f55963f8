//! `polytrace view` on fixture files made here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};

use polytrace_receiver::opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use polytrace_receiver::opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use polytrace_receiver::opentelemetry_proto::tonic::resource::v1::Resource;
use polytrace_receiver::opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status,
};
use polytrace_receiver::request_to_json_line;

const T1: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const T2: &str = "0af7651916cd43dd8448eb211c80319c";
const BASE: u64 = 1_700_000_000_000_000_000;

fn id(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

struct S {
    trace: &'static str,
    id: &'static str,
    parent: &'static str,
    name: &'static str,
    kind: i32,
    start_ms: u64,
    end_ms: u64,
    error: Option<&'static str>,
}

fn resource_spans(service: &str, spans: &[S]) -> ResourceSpans {
    ResourceSpans {
        resource: Some(Resource {
            attributes: vec![KeyValue {
                key: "service.name".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue(service.into())),
                }),
                key_strindex: 0,
            }],
            ..Default::default()
        }),
        scope_spans: vec![ScopeSpans {
            spans: spans
                .iter()
                .map(|s| Span {
                    trace_id: id(s.trace),
                    span_id: id(s.id),
                    parent_span_id: id(s.parent),
                    name: s.name.into(),
                    kind: s.kind,
                    start_time_unix_nano: BASE + s.start_ms * 1_000_000,
                    end_time_unix_nano: BASE + s.end_ms * 1_000_000,
                    status: s.error.map(|m| Status {
                        message: m.into(),
                        code: 2,
                    }),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        schema_url: String::new(),
    }
}

/// Trace T1 (gateway → orders → payment, one error, one orphan) spread over
/// two lines, a malformed line 3, and trace T2 (earlier) in the Collector's
/// own style on line 5 after a blank line 4.
fn fixture(test: &str) -> PathBuf {
    let line1 = request_to_json_line(&ExportTraceServiceRequest {
        resource_spans: vec![
            resource_spans(
                "gateway",
                &[S {
                    trace: T1,
                    id: "0000000000000001",
                    parent: "",
                    name: "GET /orders",
                    kind: 2,
                    start_ms: 100,
                    end_ms: 220,
                    error: None,
                }],
            ),
            resource_spans(
                "orders",
                &[
                    // Listed before its earlier sibling: the view sorts by start.
                    S {
                        trace: T1,
                        id: "0000000000000003",
                        parent: "0000000000000001",
                        name: "charge",
                        kind: 3,
                        start_ms: 130,
                        end_ms: 210,
                        error: Some("card declined"),
                    },
                    S {
                        trace: T1,
                        id: "0000000000000002",
                        parent: "0000000000000001",
                        name: "SELECT orders",
                        kind: 3,
                        start_ms: 105,
                        end_ms: 125,
                        error: None,
                    },
                ],
            ),
        ],
    });
    let line2 = request_to_json_line(&ExportTraceServiceRequest {
        resource_spans: vec![resource_spans(
            "payment",
            &[
                S {
                    trace: T1,
                    id: "0000000000000004",
                    parent: "0000000000000003",
                    name: "POST /charge",
                    kind: 2,
                    start_ms: 132,
                    end_ms: 205,
                    error: None,
                },
                S {
                    trace: T1,
                    id: "0000000000000005",
                    parent: "00000000000000ff",
                    name: "late callback",
                    kind: 1,
                    start_ms: 215,
                    end_ms: 216,
                    error: None,
                },
            ],
        )],
    });
    // Hand-written like the Collector's file exporter: TracesData, upper-case
    // ids, numbers where strings are usual, extra fields.
    let line5 = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"batch"}}}}]}},"scopeSpans":[{{"scope":{{"name":"job"}},"spans":[{{"traceId":"{}","spanId":"00F067AA0BA902B7","name":"nightly job","kind":1,"startTimeUnixNano":"{}","endTimeUnixNano":{},"status":{{}},"flags":257}}]}}]}}]}}"#,
        T2.to_uppercase(),
        BASE,
        BASE + 5_000_000
    );
    let text = format!("{line1}\n{line2}\n{{\"resourceSpans\": [oops\n\n{line5}\n");
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("view-{test}-{}.jsonl", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

fn polytrace(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_polytrace"));
    cmd.args(args).env_remove("NO_COLOR");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The line of span `name` (the name column is the text before two spaces).
fn line_of<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find(|l| !l.starts_with("trace ") && l.trim_start().starts_with(&format!("{name}  ")))
        .unwrap_or_else(|| panic!("no line for {name} in\n{out}"))
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

#[test]
fn prints_waterfalls() {
    let path = fixture("prints_waterfalls");
    let out = polytrace(&["view", path.to_str().unwrap()], &[]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);

    // Headers: T2 started first; counts, duration, services.
    let headers: Vec<&str> = stdout.lines().filter(|l| l.starts_with("trace ")).collect();
    assert_eq!(headers.len(), 2, "{stdout}");
    assert!(
        headers[0].starts_with(&format!("trace {T2} ")),
        "{}",
        headers[0]
    );
    assert!(
        headers[0].contains("1 span ·") && headers[0].contains("5.00 ms"),
        "{}",
        headers[0]
    );
    assert!(headers[1].starts_with(&format!("trace {T1} ")));
    assert!(headers[1].contains("5 spans"), "{}", headers[1]);
    assert!(headers[1].contains("120 ms"), "{}", headers[1]);
    assert!(
        headers[1].contains("services: gateway, orders, payment"),
        "{}",
        headers[1]
    );

    // Order within T1: depth-first, siblings by start time, orphan last.
    let names: Vec<&str> = [
        "GET /orders",
        "SELECT orders",
        "charge",
        "POST /charge",
        "late callback",
    ]
    .to_vec();
    let positions: Vec<usize> = names
        .iter()
        .map(|n| stdout.find(line_of(&stdout, n)).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{stdout}");
    assert!(stdout.find(headers[0]).unwrap() < positions[0]);

    // Indentation follows the tree.
    let root = indent(line_of(&stdout, "GET /orders"));
    assert_eq!(indent(line_of(&stdout, "SELECT orders")), root + 2);
    assert_eq!(indent(line_of(&stdout, "charge")), root + 2);
    assert_eq!(indent(line_of(&stdout, "POST /charge")), root + 4);
    assert_eq!(indent(line_of(&stdout, "late callback")), root);
    assert_eq!(indent(line_of(&stdout, "nightly job")), root);

    // Columns: service, kind, duration.
    let charge = line_of(&stdout, "charge");
    assert!(
        charge.contains(" orders ") && charge.contains(" client ") && charge.contains("80.0 ms"),
        "{charge}"
    );
    assert!(line_of(&stdout, "POST /charge").contains(" payment "));
    assert!(line_of(&stdout, "nightly job").contains(" batch "));

    // Errors only where the status says so.
    assert!(charge.ends_with("✗ ERROR: card declined"), "{charge}");
    assert_eq!(stdout.matches("✗ ERROR").count(), 1);

    // Orphans are marked.
    assert!(
        line_of(&stdout, "late callback").contains("orphan: parent 00000000000000ff not in file")
    );
    assert_eq!(stdout.matches("orphan").count(), 1);

    // Bars: one per span, scaled to the trace: the root fills it, the
    // children start further right.
    let bar = |name: &str| {
        let l = line_of(&stdout, name);
        let start = l.find('│').unwrap() + '│'.len_utf8();
        let end = start + l[start..].find('│').unwrap();
        l[start..end].to_string()
    };
    assert_eq!(bar("GET /orders"), "█".repeat(40));
    assert_eq!(bar("nightly job"), "█".repeat(40));
    let lead = |b: String| b.chars().take_while(|c| *c == ' ').count();
    assert!(lead(bar("SELECT orders")) < lead(bar("charge")));
    assert!(lead(bar("charge")) <= lead(bar("POST /charge")));
    assert!(
        bar("charge").chars().filter(|c| *c == '█').count()
            > bar("SELECT orders").chars().filter(|c| *c == '█').count()
    );
    assert_eq!(bar("late callback").chars().count(), 40);

    // Not a terminal: no colour.
    assert!(!stdout.contains('\x1b'));

    // The malformed line is reported with its number, and skipped.
    assert!(
        stderr.contains(&format!("{}:3: skipped malformed line", path.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 traces, 6 spans, 1 malformed line skipped"),
        "{stderr}"
    );
}

#[test]
fn filters_one_trace() {
    let path = fixture("filters_one_trace");
    let p = path.to_str().unwrap();
    let out = polytrace(&["view", p, "--trace", &T1.to_uppercase()], &[]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("trace ")).count(),
        1
    );
    assert!(stdout.starts_with(&format!("trace {T1}")));
    assert!(!stdout.contains("nightly job"));

    let out = polytrace(
        &["view", p, "--trace", "0123456789abcdef0123456789abcdef"],
        &[],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no trace 0123456789abcdef0123456789abcdef"));
    assert!(out.stdout.is_empty());

    let out = polytrace(&["view", p, "--trace", "xyz"], &[]);
    assert!(!out.status.success());
}

#[test]
fn colour_on_request_and_never_with_no_color() {
    let path = fixture("colour_on_request_and_never_with_no_color");
    let p = path.to_str().unwrap();
    let out = polytrace(&["view", p, "--color", "always"], &[]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("\x1b[31m"), "error bar in red");
    assert!(stdout.contains("\x1b[1mtrace "));
    // NO_COLOR only affects the automatic choice; piped output has none anyway.
    let out = polytrace(&["view", p], &[("NO_COLOR", "1")]);
    assert!(!text(&out.stdout).contains('\x1b'));
}

#[test]
fn bad_files_are_errors_not_panics() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let out = polytrace(
        &["view", dir.join("does-not-exist.jsonl").to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot open"));

    // Garbage of every kind: reported line by line, never a crash.
    let junk = dir.join(format!("junk-{}.jsonl", std::process::id()));
    let mut bytes = b"\xff\xfe\x00binary\n[1,2]\n{\"resourceSpans\":{}}\n".to_vec();
    bytes.extend_from_slice(
        b"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"zz\"}]}]}]}\n",
    );
    bytes.extend_from_slice(format!("{}\n", "[".repeat(10_000)).as_bytes());
    bytes.extend_from_slice(b"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"spanId\":\"01\",\"parentSpanId\":\"01\",\"name\":\"self\",\"startTimeUnixNano\":\"18446744073709551615\",\"endTimeUnixNano\":\"0\"}]}]}]}");
    std::fs::write(&junk, bytes).unwrap();
    let out = polytrace(&["view", junk.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    for n in 1..=5 {
        assert!(
            stderr.contains(&format!(":{n}: skipped")),
            "line {n}: {stderr}"
        );
    }
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("self") && stdout.contains("orphan"),
        "{stdout}"
    );

    let out = polytrace(&["view"], &[]);
    assert_eq!(out.status.code(), Some(2), "usage error");
}

#[test]
fn writes_an_svg_waterfall() {
    let path = fixture("writes_an_svg_waterfall");
    let svg = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("waterfall-{}.svg", std::process::id()));
    let out = polytrace(
        &[
            "view",
            path.to_str().unwrap(),
            "--trace",
            T1,
            "--svg",
            svg.to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The terminal view is unchanged.
    assert!(text(&out.stdout).starts_with(&format!("trace {T1}")));
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.starts_with("<svg ") && picture.trim_end().ends_with("</svg>"));
    // Only the shown trace, every span of it, each service in the legend.
    assert!(picture.contains(&format!("trace {T1} · 5 spans")));
    assert!(!picture.contains(T2) && !picture.contains("nightly job"));
    for name in [
        "GET /orders",
        "SELECT orders",
        "charge",
        "POST /charge",
        "late callback",
    ] {
        assert!(picture.contains(&format!("{name}</text>")), "{name}");
    }
    for service in ["gateway", "orders", "payment"] {
        assert!(
            picture.contains(&format!(r#"class="l">{service}</text>"#)),
            "{service}"
        );
    }
    // The error, the orphan, the calls between services (gateway → orders, orders → payment).
    assert!(picture.contains("✗ 1 error") && picture.contains("card declined"));
    assert!(picture.contains("⚠ late callback"));
    assert_eq!(picture.matches(r#"class="hop"><title>"#).count(), 3);

    let out = polytrace(
        &[
            "view",
            path.to_str().unwrap(),
            "--svg",
            "/nonexistent/dir/x.svg",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot write /nonexistent/dir/x.svg"));
}
