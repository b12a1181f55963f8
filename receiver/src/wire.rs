//! Counting spans straight off the protobuf wire format, for `count_only` mode.
//!
//! `ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }`,
//! `ResourceSpans { repeated ScopeSpans scope_spans = 2; ... }`,
//! `ScopeSpans { repeated Span spans = 2; ... }`: a span is one length-delimited
//! field 2 inside a field 2 inside a field 1. Nothing is allocated.

/// A wire-format field: its number and, for length-delimited fields, the payload.
enum Field<'a> {
    Bytes(u32, &'a [u8]),
    Other,
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let (&byte, rest) = self.buf.split_first()?;
            self.buf = rest;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn skip(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.buf.len() {
            return None;
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Some(head)
    }

    /// The next field, `None` at the end, `Some(None)` on malformed input.
    fn next(&mut self) -> Option<Option<Field<'a>>> {
        if self.buf.is_empty() {
            return None;
        }
        Some(self.field())
    }

    fn field(&mut self) -> Option<Field<'a>> {
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).ok()?;
        if number == 0 {
            return None;
        }
        match key & 7 {
            0 => self.varint().map(|_| Field::Other),
            1 => self.skip(8).map(|_| Field::Other),
            2 => {
                let len = usize::try_from(self.varint()?).ok()?;
                self.skip(len).map(|b| Field::Bytes(number, b))
            }
            5 => self.skip(4).map(|_| Field::Other),
            // Groups (3, 4) are not used by OTLP; anything else is invalid.
            _ => None,
        }
    }
}

/// Calls `f` on the payload of every length-delimited field `number` of a message.
fn each<'a>(msg: &'a [u8], number: u32, mut f: impl FnMut(&'a [u8]) -> Option<()>) -> Option<()> {
    let mut reader = Reader { buf: msg };
    while let Some(field) = reader.next() {
        if let Field::Bytes(n, payload) = field? {
            if n == number {
                f(payload)?;
            }
        }
    }
    Some(())
}

/// Spans in a binary `ExportTraceServiceRequest`, or `None` if it is malformed.
pub(crate) fn count_spans(request: &[u8]) -> Option<u64> {
    let mut spans = 0u64;
    each(request, 1, |resource_spans| {
        each(resource_spans, 2, |scope_spans| {
            each(scope_spans, 2, |_span| {
                spans += 1;
                Some(())
            })
        })
    })?;
    Some(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;

    fn request(shape: &[&[usize]]) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: shape
                .iter()
                .map(|scopes| ResourceSpans {
                    resource: Some(Resource {
                        attributes: vec![KeyValue {
                            key: "service.name".into(),
                            value: Some(AnyValue {
                                value: Some(any_value::Value::StringValue("svc".into())),
                            }),
                            key_strindex: 0,
                        }],
                        ..Default::default()
                    }),
                    scope_spans: scopes
                        .iter()
                        .map(|&n| ScopeSpans {
                            spans: (0..n)
                                .map(|i| Span {
                                    trace_id: vec![1; 16],
                                    span_id: vec![2; 8],
                                    name: format!("span-{i}"),
                                    start_time_unix_nano: 1,
                                    end_time_unix_nano: 2,
                                    kind: 2,
                                    ..Default::default()
                                })
                                .collect(),
                            schema_url: "https://schema".into(),
                            ..Default::default()
                        })
                        .collect(),
                    schema_url: String::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn counts_nested_spans() {
        for shape in [
            &[][..],
            &[&[][..]],
            &[&[3, 0, 2][..], &[5][..]],
            &[&[1000][..]],
        ] {
            let req = request(shape);
            let expected: usize = shape.iter().flat_map(|s| s.iter()).sum();
            assert_eq!(
                count_spans(&req.encode_to_vec()),
                Some(expected as u64),
                "{shape:?}"
            );
        }
    }

    #[test]
    fn rejects_truncated_and_garbage() {
        let bytes = request(&[&[3]]).encode_to_vec();
        assert_eq!(count_spans(&bytes[..bytes.len() - 1]), None);
        assert_eq!(count_spans(&[0xff; 11]), None);
        assert_eq!(count_spans(&[0x0b]), None); // group start
        assert_eq!(count_spans(&[]), Some(0));
    }
}
