//! Quickstart: traces a small piece of real work — reading this crate's manifest, hashing it,
//! and trying to open a file that does not exist — as a root span with two children, exported
//! as configured by the `OTEL_*` variables and flushed before exit.
//!
//! ```text
//! cargo run -p polytrace-core --example quickstart
//! ```
//! Prints `trace_id=<hex>` so scripts can look the trace up.

use polytrace_core::{Event, Exception, Provider, SpanKind, StartOptions, Status, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = Provider::new(&[(
        "service_name".to_string(),
        polytrace_core::config::OptionValue::Str(
            std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "quickstart".to_string()),
        ),
    )])?;
    let tracer = provider.tracer(
        "polytrace.quickstart",
        Some(env!("CARGO_PKG_VERSION").into()),
        None,
        vec![],
    );

    let mut root = tracer.start_span(
        "checkout",
        StartOptions {
            kind: SpanKind::Server,
            attributes: vec![
                ("http.request.method".into(), Value::from("POST")),
                ("http.route".into(), Value::from("/checkout")),
            ],
            ..Default::default()
        },
    );
    // Attributes of every type.
    root.set_attribute("app.items", 3i64);
    root.set_attribute("app.total", 42.5f64);
    root.set_attribute("app.express", true);
    root.set_attribute(
        "app.tags",
        Value::StringArray(vec!["new".into(), "web".into()]),
    );
    root.set_attribute("app.quantities", Value::IntArray(vec![1, 2]));
    root.set_attribute("app.prices", Value::DoubleArray(vec![10.0, 16.25]));
    root.set_attribute("app.flags", Value::BoolArray(vec![true, false]));

    // Child 1: real work that succeeds.
    let mut read = tracer.start_span(
        "read-manifest",
        StartOptions {
            parent: Some(root.span_context()),
            ..Default::default()
        },
    );
    let manifest = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))?;
    let digest = Sha256::digest(&manifest);
    read.set_attribute("file.size", manifest.len() as i64);
    read.add_event(Event {
        name: "hashed".into(),
        time: None,
        attributes: vec![("sha256".into(), Value::from(format!("{digest:x}")))],
    });
    read.end(None);

    // Child 2: real work that fails, recorded as an exception and an error status.
    let mut open = tracer.start_span(
        "open-coupon-file",
        StartOptions {
            parent: Some(root.span_context()),
            kind: SpanKind::Client,
            ..Default::default()
        },
    );
    let path = "/nonexistent/polytrace/coupons.txt";
    open.set_attribute("file.path", path);
    if let Err(e) = std::fs::read(path) {
        open.record_exception(Exception {
            type_name: "std::io::Error".into(),
            message: e.to_string(),
            ..Default::default()
        });
        open.set_status(Status::Error(format!("cannot read coupons: {e}")));
    }
    open.end(None);

    root.set_status(Status::Error("checkout incomplete".into()));
    let trace_id = root.span_context().trace_id;
    root.end(None);

    provider.force_flush(Duration::from_secs(10))?;
    provider.shutdown(Duration::from_secs(5))?;
    let stats = provider.stats();
    println!("trace_id={trace_id}");
    eprintln!(
        "exported {} of {} spans ({} dropped)",
        stats.spans_exported, stats.spans_ended, stats.spans_dropped
    );
    Ok(())
}
