//! `OTEL_TRACES_EXPORTER=file`: OTLP/JSON lines, as the Collector's file exporter writes them.

use super::Export;
use crate::error::{Error, ErrorKind, Result};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;
use std::io::Write;

/// Appends one OTLP/JSON `ExportTraceServiceRequest` per batch as a line to a file — the
/// format the OpenTelemetry Collector's file exporter writes, and what `polytrace view` reads.
pub(crate) struct FileExport {
    file: std::fs::File,
    resource: opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema,
}

impl FileExport {
    pub(crate) fn open(path: &std::path::Path, resource: &Resource) -> Result<FileExport> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                Error::invalid_config(format!(
                    "cannot open '{}' for the file exporter: {e}",
                    path.display()
                ))
            })?;
        Ok(FileExport {
            file,
            resource: resource.into(),
        })
    }
}

/// Encodes a batch as one OTLP/JSON line (the specification's JSON mapping, as the Collector's
/// file exporter writes it).
pub(crate) fn otlp_json_line(
    batch: Vec<SpanData>,
    resource: &opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema,
) -> Result<String> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    let req = ExportTraceServiceRequest {
        resource_spans:
            opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope(
                batch, resource,
            ),
    };
    Ok(polytrace_otlp_json::request_to_json_line(&req))
}

impl Export for FileExport {
    fn export(&mut self, batch: Vec<SpanData>) -> Result<()> {
        let mut line = otlp_json_line(batch, &self.resource)?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| {
                Error::new(
                    ErrorKind::Export,
                    format!("cannot write the trace file: {e}"),
                )
            })
    }

    fn shutdown(&mut self) {
        let _ = self.file.flush();
    }
}
