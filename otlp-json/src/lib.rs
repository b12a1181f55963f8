//! OTLP/JSON: encoding exactly as the OTLP specification ("JSON Protobuf
//! Encoding") and the OpenTelemetry Collector's file exporter write it, and
//! lenient decoding of what real senders produce.
//!
//! Encoding is written here rather than taken from `opentelemetry-proto`'s
//! `with-serde` derive, which emits every default-valued field (`"traceState":""`,
//! `"droppedAttributesCount":0`, `"status":null`, `"resource":null`) and writes
//! NaN and infinite doubles as `null`. Decoding is ours too: the derive's
//! deserializer rejects `"NaN"` doubles, `null` strings and a `KeyValue` or
//! `arrayValue` without its `key`/`values`. The rules followed:
//! - field names lowerCamelCase, fields in `.proto` order, default-valued
//!   scalar and repeated fields omitted (as protobuf's JSON mapping does), set
//!   message fields always written (an empty `Status` is `{}`);
//! - trace and span ids as lowercase hex strings (not base64);
//! - enums (`kind`, `status.code`) as integers;
//! - 64-bit integers (`*UnixNano`, `intValue`) as decimal strings;
//! - `bytesValue` as standard base64; non-finite doubles as `"NaN"`,
//!   `"Infinity"`, `"-Infinity"`.
//!
//! Decoding accepts that, plus what the specification allows or other senders
//! produce: 64-bit integers as numbers, ids in upper case, `null` for absent
//! fields, enum names (`"SPAN_KIND_SERVER"`), missing `values` in arrays and
//! key-value lists, and unknown fields (ignored).

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use std::fmt;

use base64::Engine as _;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link, SpanKind};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;
use serde_json::Value;

/// Encodes `req` as OTLP/JSON on one line (no trailing newline): the format of
/// the Collector's file exporter, one request per line.
pub fn request_to_json_line(req: &ExportTraceServiceRequest) -> String {
    // Serializing these wrappers into a String cannot fail: every map key is a
    // string and no wrapper reports an error.
    serde_json::to_string(&J(req)).unwrap_or_else(|_| String::from("{}"))
}

/// Why an OTLP/JSON payload could not be decoded: what was wrong, and where
/// (`resourceSpans[0].scopeSpans[0].spans[2].traceId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    path: String,
    message: String,
}

impl JsonError {
    fn new(message: impl fmt::Display) -> Self {
        JsonError {
            path: String::new(),
            message: message.to_string(),
        }
    }

    /// Where in the document the error is (empty for a syntax error).
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for JsonError {}

/// Decodes an OTLP/JSON `ExportTraceServiceRequest` (or `TracesData`, which has
/// the same shape), leniently as described in the module docs. Errors name the
/// offending field, e.g. `resourceSpans[0].scopeSpans[0].spans[2].traceId: ...`.
pub fn request_from_json(bytes: &[u8]) -> Result<ExportTraceServiceRequest, JsonError> {
    // serde_json caps nesting at 128 levels, which bounds the recursion below.
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| JsonError::new(format!("invalid JSON: {e}")))?;
    if !value.is_object() {
        return err("expected a JSON object");
    }
    let m = obj(&value)?;
    Ok(ExportTraceServiceRequest {
        resource_spans: list(m, "resourceSpans", resource_spans)?,
    })
}

type Map = serde_json::Map<String, Value>;

static EMPTY: std::sync::LazyLock<Map> = std::sync::LazyLock::new(Map::new);

fn err<T>(what: impl fmt::Display) -> Result<T, JsonError> {
    Err(JsonError::new(what))
}

/// Prefixes an error's path with the field (`key`) or index (`[i]`) it is in.
fn at<T>(key: &str, r: Result<T, JsonError>) -> Result<T, JsonError> {
    r.map_err(|mut e| {
        e.path = if e.path.is_empty() {
            key.to_string()
        } else if e.path.starts_with('[') {
            format!("{key}{}", e.path)
        } else {
            format!("{key}.{}", e.path)
        };
        e
    })
}

fn obj(v: &Value) -> Result<&Map, JsonError> {
    match v {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(&EMPTY),
        other => err(format!("expected an object, found {}", kind_of(other))),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A field; absent and `null` are the same (the default).
fn get<'a>(m: &'a Map, key: &str) -> Option<&'a Value> {
    m.get(key).filter(|v| !v.is_null())
}

fn string(m: &Map, key: &str) -> Result<String, JsonError> {
    match get(m, key) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => at(
            key,
            err(format!("expected a string, found {}", kind_of(other))),
        ),
    }
}

/// An integer given as a JSON number or a decimal string (protobuf's JSON
/// mapping allows both, and requires strings for 64-bit values).
fn integer<T>(m: &Map, key: &str) -> Result<T, JsonError>
where
    T: Default + TryFrom<i128> + std::str::FromStr,
{
    let parsed: Option<T> = match get(m, key) {
        None => return Ok(T::default()),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| {
                // 1.0e9 style: accept only exact integers.
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 1.8e19)
                    .map(|f| f as i128)
            })
            .and_then(|i| T::try_from(i).ok()),
        Some(Value::String(s)) => s.trim().parse::<T>().ok(),
        Some(_) => None,
    };
    parsed.map_or_else(|| at(key, err("expected an integer in range")), Ok)
}

/// An enum: an integer (as OTLP requires) or, leniently, its name.
fn enumeration(m: &Map, key: &str, by_name: fn(&str) -> Option<i32>) -> Result<i32, JsonError> {
    if let Some(Value::String(s)) = get(m, key) {
        if let Some(v) = by_name(s) {
            return Ok(v);
        }
    }
    integer(m, key)
}

/// A trace or span id: hex, either case.
fn id(m: &Map, key: &str) -> Result<Vec<u8>, JsonError> {
    let s = string(m, key)?;
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let bytes = s.as_bytes();
    if bytes.len() % 2 != 0 {
        return at(key, err(format!("invalid hex id {s:?}")));
    }
    bytes
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect::<Option<Vec<u8>>>()
        .map_or_else(|| at(key, err(format!("invalid hex id {s:?}"))), Ok)
}

fn list<T>(
    m: &Map,
    key: &str,
    item: fn(&Value) -> Result<T, JsonError>,
) -> Result<Vec<T>, JsonError> {
    let items = match get(m, key) {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return at(
                key,
                err(format!("expected an array, found {}", kind_of(other))),
            )
        }
    };
    at(
        key,
        items
            .iter()
            .enumerate()
            .map(|(i, v)| at(&format!("[{i}]"), item(v)))
            .collect(),
    )
}

fn message<T>(
    m: &Map,
    key: &str,
    item: fn(&Value) -> Result<T, JsonError>,
) -> Result<Option<T>, JsonError> {
    get(m, key).map(|v| at(key, item(v))).transpose()
}

fn resource_spans(v: &Value) -> Result<ResourceSpans, JsonError> {
    let m = obj(v)?;
    Ok(ResourceSpans {
        resource: message(m, "resource", resource)?,
        scope_spans: list(m, "scopeSpans", scope_spans)?,
        schema_url: string(m, "schemaUrl")?,
    })
}

fn resource(v: &Value) -> Result<Resource, JsonError> {
    let m = obj(v)?;
    Ok(Resource {
        attributes: list(m, "attributes", key_value)?,
        dropped_attributes_count: integer(m, "droppedAttributesCount")?,
        entity_refs: list(m, "entityRefs", entity_ref)?,
    })
}

fn entity_ref(v: &Value) -> Result<EntityRef, JsonError> {
    let m = obj(v)?;
    let strings = |key: &str| -> Result<Vec<String>, JsonError> {
        list(m, key, |v| match v {
            Value::String(s) => Ok(s.clone()),
            other => err(format!("expected a string, found {}", kind_of(other))),
        })
    };
    Ok(EntityRef {
        schema_url: string(m, "schemaUrl")?,
        r#type: string(m, "type")?,
        id_keys: strings("idKeys")?,
        description_keys: strings("descriptionKeys")?,
    })
}

fn scope_spans(v: &Value) -> Result<ScopeSpans, JsonError> {
    let m = obj(v)?;
    Ok(ScopeSpans {
        scope: message(m, "scope", scope)?,
        spans: list(m, "spans", span)?,
        schema_url: string(m, "schemaUrl")?,
    })
}

fn scope(v: &Value) -> Result<InstrumentationScope, JsonError> {
    let m = obj(v)?;
    Ok(InstrumentationScope {
        name: string(m, "name")?,
        version: string(m, "version")?,
        attributes: list(m, "attributes", key_value)?,
        dropped_attributes_count: integer(m, "droppedAttributesCount")?,
    })
}

fn span(v: &Value) -> Result<Span, JsonError> {
    let m = obj(v)?;
    Ok(Span {
        trace_id: id(m, "traceId")?,
        span_id: id(m, "spanId")?,
        trace_state: string(m, "traceState")?,
        parent_span_id: id(m, "parentSpanId")?,
        flags: integer(m, "flags")?,
        name: string(m, "name")?,
        kind: enumeration(m, "kind", |s| SpanKind::from_str_name(s).map(|k| k as i32))?,
        start_time_unix_nano: integer(m, "startTimeUnixNano")?,
        end_time_unix_nano: integer(m, "endTimeUnixNano")?,
        attributes: list(m, "attributes", key_value)?,
        dropped_attributes_count: integer(m, "droppedAttributesCount")?,
        events: list(m, "events", event)?,
        dropped_events_count: integer(m, "droppedEventsCount")?,
        links: list(m, "links", link)?,
        dropped_links_count: integer(m, "droppedLinksCount")?,
        status: message(m, "status", status)?,
    })
}

fn event(v: &Value) -> Result<Event, JsonError> {
    let m = obj(v)?;
    Ok(Event {
        time_unix_nano: integer(m, "timeUnixNano")?,
        name: string(m, "name")?,
        attributes: list(m, "attributes", key_value)?,
        dropped_attributes_count: integer(m, "droppedAttributesCount")?,
    })
}

fn link(v: &Value) -> Result<Link, JsonError> {
    let m = obj(v)?;
    Ok(Link {
        trace_id: id(m, "traceId")?,
        span_id: id(m, "spanId")?,
        trace_state: string(m, "traceState")?,
        attributes: list(m, "attributes", key_value)?,
        dropped_attributes_count: integer(m, "droppedAttributesCount")?,
        flags: integer(m, "flags")?,
    })
}

fn status(v: &Value) -> Result<Status, JsonError> {
    let m = obj(v)?;
    Ok(Status {
        message: string(m, "message")?,
        code: enumeration(m, "code", |s| {
            StatusCode::from_str_name(s).map(|c| c as i32)
        })?,
    })
}

fn key_value(v: &Value) -> Result<KeyValue, JsonError> {
    let m = obj(v)?;
    Ok(KeyValue {
        key: string(m, "key")?,
        value: message(m, "value", any_value)?,
        key_strindex: integer(m, "keyStrindex")?,
    })
}

fn any_value(v: &Value) -> Result<AnyValue, JsonError> {
    use any_value::Value as V;
    let m = obj(v)?;
    let values = |key: &str| -> Result<&Map, JsonError> {
        at(key, obj(get(m, key).unwrap_or(&Value::Null)))
    };
    // The first known field wins; an object without one is an empty AnyValue.
    for (key, field) in m {
        if field.is_null() {
            continue;
        }
        let value = match key.as_str() {
            "stringValue" => V::StringValue(string(m, key)?),
            "boolValue" => match field {
                Value::Bool(b) => V::BoolValue(*b),
                other => {
                    return at(
                        key,
                        err(format!("expected a boolean, found {}", kind_of(other))),
                    )
                }
            },
            "intValue" => V::IntValue(integer(m, key)?),
            "doubleValue" => V::DoubleValue(at(key, double(field))?),
            "arrayValue" => V::ArrayValue(ArrayValue {
                values: at(key, list(values(key)?, "values", any_value))?,
            }),
            "kvlistValue" => V::KvlistValue(KeyValueList {
                values: at(key, list(values(key)?, "values", key_value))?,
            }),
            "bytesValue" => V::BytesValue(at(key, base64_bytes(&string(m, key)?))?),
            "stringValueStrindex" => V::StringValueStrindex(integer(m, key)?),
            _ => continue,
        };
        return Ok(AnyValue { value: Some(value) });
    }
    Ok(AnyValue { value: None })
}

/// A double: a JSON number, or a string holding a number, `NaN`, `Infinity`
/// or `-Infinity` (protobuf's JSON mapping).
fn double(v: &Value) -> Result<f64, JsonError> {
    match v {
        Value::Number(n) => n.as_f64().map_or_else(|| err("number out of range"), Ok),
        Value::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            other => other
                .trim()
                .parse::<f64>()
                .map_or_else(|_| err(format!("invalid double {other:?}")), Ok),
        },
        other => err(format!("expected a number, found {}", kind_of(other))),
    }
}

/// Base64 as protobuf's JSON mapping allows: standard or URL-safe alphabet,
/// with or without padding.
fn base64_bytes(s: &str) -> Result<Vec<u8>, JsonError> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    let unpadded = s.trim_end_matches('=');
    let pad = "=".repeat((4 - unpadded.len() % 4) % 4);
    let padded = format!("{unpadded}{pad}");
    STANDARD
        .decode(&padded)
        .or_else(|_| URL_SAFE.decode(&padded))
        .map_or_else(|e| err(format!("invalid base64: {e}")), Ok)
}

/// Serialization wrapper: `J(&proto_message)` serializes as OTLP/JSON.
struct J<'a, T>(&'a T);

/// A repeated field: a JSON array of wrapped elements.
struct Seq<'a, T>(&'a [T]);

impl<'a, T> Serialize for Seq<'a, T>
where
    J<'a, T>: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&J(item))?;
        }
        seq.end()
    }
}

/// Lowercase hex, as OTLP/JSON encodes trace and span ids.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Writes the entries of one message, skipping defaults.
struct Fields<M>(M);

impl<M: SerializeMap> Fields<M> {
    fn id(&mut self, key: &str, bytes: &[u8]) -> Result<(), M::Error> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.0.serialize_entry(key, &hex(bytes))
    }
    fn str(&mut self, key: &str, value: &str) -> Result<(), M::Error> {
        if value.is_empty() {
            return Ok(());
        }
        self.0.serialize_entry(key, value)
    }
    fn u32(&mut self, key: &str, value: u32) -> Result<(), M::Error> {
        if value == 0 {
            return Ok(());
        }
        self.0.serialize_entry(key, &value)
    }
    fn i32(&mut self, key: &str, value: i32) -> Result<(), M::Error> {
        if value == 0 {
            return Ok(());
        }
        self.0.serialize_entry(key, &value)
    }
    fn u64(&mut self, key: &str, value: u64) -> Result<(), M::Error> {
        if value == 0 {
            return Ok(());
        }
        self.0.serialize_entry(key, &value.to_string())
    }
    fn seq<'a, T>(&mut self, key: &str, items: &'a [T]) -> Result<(), M::Error>
    where
        J<'a, T>: Serialize,
    {
        if items.is_empty() {
            return Ok(());
        }
        self.0.serialize_entry(key, &Seq(items))
    }
    fn msg<'a, T>(&mut self, key: &str, value: Option<&'a T>) -> Result<(), M::Error>
    where
        J<'a, T>: Serialize,
    {
        match value {
            Some(v) => self.0.serialize_entry(key, &J(v)),
            None => Ok(()),
        }
    }
    fn end(self) -> Result<M::Ok, M::Error> {
        self.0.end()
    }
}

fn fields<S: Serializer>(s: S) -> Result<Fields<S::SerializeMap>, S::Error> {
    Ok(Fields(s.serialize_map(None)?))
}

impl Serialize for J<'_, ExportTraceServiceRequest> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        // Always written, even when empty, so every line is self-describing.
        m.serialize_entry("resourceSpans", &Seq(&self.0.resource_spans))?;
        m.end()
    }
}

impl Serialize for J<'_, ResourceSpans> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut f = fields(s)?;
        f.msg("resource", r.resource.as_ref())?;
        f.seq("scopeSpans", &r.scope_spans)?;
        f.str("schemaUrl", &r.schema_url)?;
        f.end()
    }
}

impl Serialize for J<'_, Resource> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut f = fields(s)?;
        f.seq("attributes", &r.attributes)?;
        f.u32("droppedAttributesCount", r.dropped_attributes_count)?;
        f.seq("entityRefs", &r.entity_refs)?;
        f.end()
    }
}

impl Serialize for J<'_, EntityRef> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let mut f = fields(s)?;
        f.str("schemaUrl", &e.schema_url)?;
        f.str("type", &e.r#type)?;
        if !e.id_keys.is_empty() {
            f.0.serialize_entry("idKeys", &e.id_keys)?;
        }
        if !e.description_keys.is_empty() {
            f.0.serialize_entry("descriptionKeys", &e.description_keys)?;
        }
        f.end()
    }
}

impl Serialize for J<'_, ScopeSpans> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut f = fields(s)?;
        f.msg("scope", r.scope.as_ref())?;
        f.seq("spans", &r.spans)?;
        f.str("schemaUrl", &r.schema_url)?;
        f.end()
    }
}

impl Serialize for J<'_, InstrumentationScope> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut f = fields(s)?;
        f.str("name", &r.name)?;
        f.str("version", &r.version)?;
        f.seq("attributes", &r.attributes)?;
        f.u32("droppedAttributesCount", r.dropped_attributes_count)?;
        f.end()
    }
}

impl Serialize for J<'_, Span> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut f = fields(s)?;
        f.id("traceId", &r.trace_id)?;
        f.id("spanId", &r.span_id)?;
        f.str("traceState", &r.trace_state)?;
        f.id("parentSpanId", &r.parent_span_id)?;
        f.u32("flags", r.flags)?;
        f.str("name", &r.name)?;
        f.i32("kind", r.kind)?;
        f.u64("startTimeUnixNano", r.start_time_unix_nano)?;
        f.u64("endTimeUnixNano", r.end_time_unix_nano)?;
        f.seq("attributes", &r.attributes)?;
        f.u32("droppedAttributesCount", r.dropped_attributes_count)?;
        f.seq("events", &r.events)?;
        f.u32("droppedEventsCount", r.dropped_events_count)?;
        f.seq("links", &r.links)?;
        f.u32("droppedLinksCount", r.dropped_links_count)?;
        f.msg("status", r.status.as_ref())?;
        f.end()
    }
}

impl Serialize for J<'_, Event> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut f = fields(s)?;
        f.u64("timeUnixNano", r.time_unix_nano)?;
        f.str("name", &r.name)?;
        f.seq("attributes", &r.attributes)?;
        f.u32("droppedAttributesCount", r.dropped_attributes_count)?;
        f.end()
    }
}

impl Serialize for J<'_, Link> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut f = fields(s)?;
        f.id("traceId", &r.trace_id)?;
        f.id("spanId", &r.span_id)?;
        f.str("traceState", &r.trace_state)?;
        f.seq("attributes", &r.attributes)?;
        f.u32("droppedAttributesCount", r.dropped_attributes_count)?;
        f.u32("flags", r.flags)?;
        f.end()
    }
}

impl Serialize for J<'_, Status> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut f = fields(s)?;
        f.str("message", &r.message)?;
        f.i32("code", r.code)?;
        f.end()
    }
}

impl Serialize for J<'_, KeyValue> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut f = fields(s)?;
        // `key` is written even when empty: a KeyValue without one reads oddly
        // and some decoders require it.
        f.0.serialize_entry("key", &r.key)?;
        f.msg("value", r.value.as_ref())?;
        f.i32("keyStrindex", r.key_strindex)?;
        f.end()
    }
}

/// Non-finite doubles are strings in protobuf's JSON mapping.
struct Double(f64);

impl Serialize for Double {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        if d.is_nan() {
            s.serialize_str("NaN")
        } else if d.is_infinite() {
            s.serialize_str(if d > 0.0 { "Infinity" } else { "-Infinity" })
        } else {
            s.serialize_f64(d)
        }
    }
}

/// `{"values": [...]}`, the shape of both `ArrayValue` and `KeyValueList`.
struct Values<'a, T>(&'a [T]);

impl<'a, T> Serialize for Values<'a, T>
where
    J<'a, T>: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("values", &Seq(self.0))?;
        m.end()
    }
}

impl Serialize for J<'_, AnyValue> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use any_value::Value as V;
        // A oneof has explicit presence: its value is written even when it is
        // the default (`{"intValue":"0"}`, `{"stringValue":""}`).
        let mut m = s.serialize_map(Some(1))?;
        match &self.0.value {
            Some(V::StringValue(v)) => m.serialize_entry("stringValue", v)?,
            Some(V::BoolValue(v)) => m.serialize_entry("boolValue", v)?,
            Some(V::IntValue(v)) => m.serialize_entry("intValue", &v.to_string())?,
            Some(V::DoubleValue(v)) => m.serialize_entry("doubleValue", &Double(*v))?,
            Some(V::ArrayValue(v)) => m.serialize_entry("arrayValue", &Values(&v.values))?,
            Some(V::KvlistValue(v)) => m.serialize_entry("kvlistValue", &Values(&v.values))?,
            Some(V::BytesValue(v)) => m.serialize_entry(
                "bytesValue",
                &base64::engine::general_purpose::STANDARD.encode(v),
            )?,
            Some(V::StringValueStrindex(v)) => m.serialize_entry("stringValueStrindex", v)?,
            None => {}
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &str, value: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            key_strindex: 0,
        }
    }

    /// A request exercising every field kind the encoder handles.
    pub(crate) fn rich_request() -> ExportTraceServiceRequest {
        use any_value::Value as V;
        let attrs = vec![
            kv("s", V::StringValue("x\"y\n€".into())),
            kv("empty", V::StringValue(String::new())),
            kv("b", V::BoolValue(false)),
            kv("i", V::IntValue(-9_007_199_254_740_993)),
            kv("zero", V::IntValue(0)),
            kv("d", V::DoubleValue(1.5)),
            kv("nan", V::DoubleValue(f64::NAN)),
            kv("inf", V::DoubleValue(f64::NEG_INFINITY)),
            kv("bytes", V::BytesValue(vec![0, 1, 2, 250, 255])),
            kv(
                "arr",
                V::ArrayValue(ArrayValue {
                    values: vec![AnyValue {
                        value: Some(V::IntValue(7)),
                    }],
                }),
            ),
            kv(
                "kv",
                V::KvlistValue(KeyValueList {
                    values: vec![kv("nested", V::BoolValue(true))],
                }),
            ),
            KeyValue {
                key: "none".into(),
                value: None,
                key_strindex: 0,
            },
        ];
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", V::StringValue("orders".into()))],
                    dropped_attributes_count: 3,
                    entity_refs: vec![],
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "lib".into(),
                        version: "1.0".into(),
                        attributes: vec![],
                        dropped_attributes_count: 0,
                    }),
                    spans: vec![Span {
                        trace_id: (0u8..16).collect(),
                        span_id: (0xf0u8..0xf8).collect(),
                        trace_state: "k=v".into(),
                        parent_span_id: vec![0xab; 8],
                        flags: 0x301,
                        name: "GET /orders".into(),
                        kind: SpanKind::Server as i32,
                        start_time_unix_nano: 1_700_000_000_123_456_789,
                        end_time_unix_nano: u64::MAX,
                        attributes: attrs,
                        dropped_attributes_count: 1,
                        events: vec![Event {
                            time_unix_nano: 5,
                            name: "ev".into(),
                            attributes: vec![],
                            dropped_attributes_count: 0,
                        }],
                        dropped_events_count: 2,
                        links: vec![Link {
                            trace_id: vec![0xcd; 16],
                            span_id: vec![0xef; 8],
                            trace_state: String::new(),
                            attributes: vec![],
                            dropped_attributes_count: 0,
                            flags: 1,
                        }],
                        dropped_links_count: 0,
                        status: Some(Status {
                            message: "boom".into(),
                            code: StatusCode::Error as i32,
                        }),
                    }],
                    schema_url: "https://opentelemetry.io/schemas/1.24.0".into(),
                }],
                schema_url: String::new(),
            }],
        }
    }

    /// NaN != NaN, so compare through the debug form (which prints NaN stably).
    fn same(a: &ExportTraceServiceRequest, b: &ExportTraceServiceRequest) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    #[test]
    fn encodes_per_spec() {
        let line = request_to_json_line(&rich_request());
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        let span = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(span["traceId"], "000102030405060708090a0b0c0d0e0f");
        assert_eq!(span["spanId"], "f0f1f2f3f4f5f6f7");
        assert_eq!(span["parentSpanId"], "abababababababab");
        assert_eq!(span["kind"], 2);
        assert_eq!(span["flags"], 0x301);
        assert_eq!(span["startTimeUnixNano"], "1700000000123456789");
        assert_eq!(span["endTimeUnixNano"], "18446744073709551615");
        assert_eq!(span["status"]["code"], 2);
        assert_eq!(span["status"]["message"], "boom");
        assert_eq!(span["droppedEventsCount"], 2);
        assert!(span.get("droppedLinksCount").is_none(), "defaults omitted");
        let attrs = span["attributes"].as_array().unwrap();
        let attr = |k: &str| {
            attrs
                .iter()
                .find(|a| a["key"] == k)
                .map(|a| a["value"].clone())
                .unwrap()
        };
        assert_eq!(
            attr("i"),
            serde_json::json!({"intValue": "-9007199254740993"})
        );
        assert_eq!(attr("zero"), serde_json::json!({"intValue": "0"}));
        assert_eq!(attr("empty"), serde_json::json!({"stringValue": ""}));
        assert_eq!(attr("b"), serde_json::json!({"boolValue": false}));
        assert_eq!(attr("nan"), serde_json::json!({"doubleValue": "NaN"}));
        assert_eq!(attr("inf"), serde_json::json!({"doubleValue": "-Infinity"}));
        assert_eq!(attr("bytes"), serde_json::json!({"bytesValue": "AAEC+v8="}));
        assert_eq!(
            attr("arr"),
            serde_json::json!({"arrayValue": {"values": [{"intValue": "7"}]}})
        );
        assert_eq!(attr("none"), Value::Null, "unset value omitted");
        assert_eq!(
            v["resourceSpans"][0]["resource"]["droppedAttributesCount"],
            3
        );
        assert_eq!(
            request_to_json_line(&ExportTraceServiceRequest::default()),
            r#"{"resourceSpans":[]}"#
        );
    }

    #[test]
    fn round_trips() {
        let req = rich_request();
        let back = request_from_json(request_to_json_line(&req).as_bytes()).unwrap();
        assert!(same(&req, &back), "{back:#?}");
    }

    /// Doubles decode to the nearest `f64` whatever their length, so a line written from a
    /// decoded request decodes to the same values (found by the `otlp_json` fuzz target: with
    /// serde_json's default, faster parsing a 127-digit double came back one ULP off).
    #[test]
    fn long_doubles_decode_exactly() {
        let digits = format!("1.{}5", "6".repeat(125));
        let line = format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"name":"d","attributes":[{{"key":"d","value":{{"doubleValue":{digits}}}}}]}}]}}]}}]}}"#
        );
        let req = request_from_json(line.as_bytes()).unwrap();
        let value = |r: &ExportTraceServiceRequest| {
            let span = &r.resource_spans[0].scope_spans[0].spans[0];
            let v = span.attributes[0]
                .value
                .as_ref()
                .and_then(|v| v.value.clone());
            let Some(any_value::Value::DoubleValue(d)) = v else {
                panic!("not a double: {v:?}")
            };
            d
        };
        let expected: f64 = digits.parse().unwrap();
        assert_eq!(value(&req).to_bits(), expected.to_bits());
        let written = request_to_json_line(&req);
        let again = request_from_json(written.as_bytes()).unwrap();
        assert_eq!(value(&again).to_bits(), expected.to_bits(), "{written}");
        assert_eq!(request_to_json_line(&again), written);
    }

    #[test]
    fn decodes_opentelemetry_proto_serde_output() {
        // What the with-serde derive writes (defaults, nulls) must decode too.
        let mut req = rich_request();
        // The derive writes non-finite doubles as null, losing them; leave
        // those out.
        req.resource_spans[0].scope_spans[0].spans[0]
            .attributes
            .retain(|a| !["nan", "inf"].contains(&a.key.as_str()));
        let derived = serde_json::to_string(&req).unwrap();
        assert!(derived.contains("\"traceState\":\"\"") || derived.contains("null"));
        let back = request_from_json(derived.as_bytes()).unwrap();
        assert!(same(&req, &back), "{back:#?}");
    }

    /// Why the encoder is our own: what `opentelemetry-proto`'s `with-serde`
    /// derive writes instead of the Collector's format. If this test starts
    /// failing, the derive changed and the module docs need a look.
    #[test]
    fn opentelemetry_proto_serde_deviations() {
        let nan = kv("d", any_value::Value::DoubleValue(f64::NAN));
        assert_eq!(
            serde_json::to_string(&nan).unwrap(),
            r#"{"key":"d","value":{"doubleValue":null}}"#,
            "NaN becomes null"
        );
        let span = Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            ..Default::default()
        };
        let derived = serde_json::to_string(&span).unwrap();
        for default_noise in [
            r#""traceState":"""#,
            r#""parentSpanId":"""#,
            r#""droppedAttributesCount":0"#,
            r#""status":null"#,
        ] {
            assert!(derived.contains(default_noise), "{derived}");
        }
        // Its deserializer rejects valid OTLP/JSON that ours accepts.
        for valid in [
            r#"{"key":"d","value":{"doubleValue":"NaN"}}"#,
            r#"{"value":{"stringValue":"no key"}}"#,
            r#"{"key":"a","value":{"arrayValue":{}}}"#,
        ] {
            assert!(serde_json::from_str::<KeyValue>(valid).is_err(), "{valid}");
            let doc = format!(r#"{{"resourceSpans":[{{"resource":{{"attributes":[{valid}]}}}}]}}"#);
            assert!(request_from_json(doc.as_bytes()).is_ok(), "{doc}");
        }
        assert!(serde_json::from_str::<Span>(r#"{"traceState":null}"#).is_err());
        // Ids, enums and 64-bit integers, though, already follow the spec.
        assert!(derived.contains(r#""traceId":"01010101010101010101010101010101""#));
        assert!(derived.contains(r#""kind":0"#));
        assert!(derived.contains(r#""startTimeUnixNano":"0""#));
    }

    #[test]
    fn decodes_lenient_forms() {
        let doc = r#"{"resourceSpans":[{"resource":null,"scopeSpans":[{"spans":[{
            "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
            "parentSpanId":null,"name":"x","kind":"SPAN_KIND_CLIENT",
            "startTimeUnixNano":1544712660000000000,"endTimeUnixNano":"1544712661000000000",
            "attributes":[{"key":"a","value":{"intValue":42}},
                          {"key":"b","value":{"arrayValue":{}}}],
            "status":{"code":"STATUS_CODE_ERROR"},"someFutureField":{"x":1}}]}]}]}"#;
        let req = request_from_json(doc.as_bytes()).unwrap();
        let span = &req.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.trace_id[0], 0x5b);
        assert_eq!(span.kind, SpanKind::Client as i32);
        assert_eq!(span.start_time_unix_nano, 1_544_712_660_000_000_000);
        assert_eq!(span.end_time_unix_nano, 1_544_712_661_000_000_000);
        assert_eq!(
            span.attributes[0].value,
            Some(AnyValue {
                value: Some(any_value::Value::IntValue(42))
            })
        );
        assert_eq!(span.status.as_ref().map(|s| s.code), Some(2));
    }

    #[test]
    fn rejects_bad_input_without_panicking() {
        for bad in [
            &b""[..],
            b"[]",
            b"{",
            b"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"zz\"}]}]}]}",
            b"{\"resourceSpans\":7}",
        ] {
            assert!(
                request_from_json(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let e = request_from_json(
            br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{},{"spanId":"x1"}]}]}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.path(), "resourceSpans[0].scopeSpans[0].spans[1].spanId");
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(request_from_json(deep.as_bytes()).is_err());
        assert_eq!(
            request_from_json(b"{}").unwrap(),
            ExportTraceServiceRequest::default()
        );
    }
}
