//! `OTEL_TRACES_EXPORTER=console`: one line per span on stdout.

use super::Export;
use crate::error::Result;
use opentelemetry::trace as ot;
use opentelemetry_sdk::trace::SpanData;
use std::io::Write;

/// Prints one line per span to stdout (`OTEL_TRACES_EXPORTER=console`).
pub(crate) struct ConsoleExport;

impl Export for ConsoleExport {
    fn export(&mut self, batch: Vec<SpanData>) -> Result<()> {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for s in batch {
            let dur = s.end_time.duration_since(s.start_time).unwrap_or_default();
            let status = match &s.status {
                ot::Status::Error { description } => format!(" ERROR({description})"),
                ot::Status::Ok => " OK".to_string(),
                ot::Status::Unset => String::new(),
            };
            let attrs: Vec<String> = s
                .attributes
                .iter()
                .map(|kv| format!("{}={}", kv.key, kv.value))
                .collect();
            let _ = writeln!(
                out,
                "span {} trace={} id={} parent={} kind={:?} dur={:.3}ms{} [{}] events={}",
                s.name,
                s.span_context.trace_id(),
                s.span_context.span_id(),
                s.parent_span_id,
                s.span_kind,
                dur.as_secs_f64() * 1e3,
                status,
                attrs.join(", "),
                s.events.len()
            );
        }
        Ok(())
    }

    fn shutdown(&mut self) {
        let _ = std::io::stdout().flush();
    }
}
