//! Conversions between Java values and the core's plain values: strings and string arrays,
//! provider options, span contexts as `long`s, baggage and stats. The Java side flattens its
//! objects into these shapes (`Native.java` documents each), so no conversion walks an
//! arbitrary Java object from Rust.

use crate::error::JResult;
use jni::objects::{JObjectArray, JString};
use jni::Env;
use polytrace_core::config::OptionValue;
use polytrace_core::propagation::{Baggage, TraceState};
use polytrace_core::{Error, SpanContext, SpanId, Stats, TraceFlags, TraceId};

/// A Java string as Rust text (`null` as `""`), read as its UTF-16 code units and decoded by
/// the core's rule for text that is not valid Unicode (`polytrace_core::text`: a lone
/// surrogate is one U+FFFD, the rest kept). Not through the JNI's modified UTF-8, which writes
/// a supplementary character as two encoded surrogates: decoding that lossily would turn the
/// character into two U+FFFD and a lone surrogate into three.
pub fn string(env: &Env<'_>, s: &JString<'_>) -> JResult<String> {
    if s.is_null() {
        return Ok(String::new());
    }
    let raw = env.get_raw();
    let js = s.as_raw();
    // SAFETY: `raw` is the calling thread's environment and `js` a live, non-null local
    // reference to a `java.lang.String` (the method's argument or an array element just read);
    // `units` has room for the `n` code units GetStringRegion copies.
    let units = unsafe {
        let table = &**raw;
        let n = (table.v1_1.GetStringLength)(raw, js);
        let mut units = vec![0u16; n.max(0) as usize];
        if n > 0 {
            (table.v1_2.GetStringRegion)(raw, js, 0, n, units.as_mut_ptr());
        }
        units
    };
    if env.exception_check() {
        return Err(jni::errors::Error::JavaException.into());
    }
    Ok(polytrace_core::text::lossy_utf16(units))
}

/// A Java string, `null` as `None`.
pub fn opt_string(env: &Env<'_>, s: &JString<'_>) -> JResult<Option<String>> {
    if s.is_null() {
        return Ok(None);
    }
    string(env, s).map(Some)
}

/// A `String[]` as Rust strings (`null` elements as `""`; a `null` array as empty).
pub fn strings(env: &mut Env<'_>, a: &JObjectArray<'_, JString<'_>>) -> JResult<Vec<String>> {
    if a.is_null() {
        return Ok(Vec::new());
    }
    let n = a.len(env)?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let s = a.get_element(env, i)?;
        out.push(string(env, &s)?);
        // Local references are few per frame: release each element as soon as it is read.
        env.delete_local_ref(s);
    }
    Ok(out)
}

/// Rust strings as a new `String[]`.
pub fn string_array<'local, S: AsRef<str>>(
    env: &mut Env<'local>,
    items: &[S],
) -> JResult<JObjectArray<'local, JString<'local>>> {
    let a = JObjectArray::<JString>::new(env, items.len(), JString::null())?;
    for (i, s) in items.iter().enumerate() {
        let js = JString::from_str(env, s.as_ref())?;
        a.set_element(env, i, &js)?;
        env.delete_local_ref(js);
    }
    Ok(a)
}

fn bad(msg: String) -> Error {
    Error::invalid_config(msg)
}

/// Provider options from the flat form `PolytraceBuilder` sends: for each option its name, a
/// tag and the value — `s` string, `i` decimal integer, `f` decimal double (Java's
/// `Double.toString`, which parses back exactly), `b` `true`/`false`, `l` a count and that many
/// strings, `m` a count and that many key, value pairs.
pub fn options(flat: &[String]) -> Result<Vec<(String, OptionValue)>, Error> {
    let mut out = Vec::new();
    let mut it = flat.iter();
    while let Some(name) = it.next() {
        let mut next = || {
            it.next()
                .cloned()
                .ok_or_else(|| bad(format!("option \"{name}\": missing value")))
        };
        let tag = next()?;
        let value = match tag.as_str() {
            "s" => OptionValue::Str(next()?),
            "i" => OptionValue::Int(
                next()?
                    .parse()
                    .map_err(|_| bad(format!("option \"{name}\": not an integer")))?,
            ),
            "f" => OptionValue::Float(
                next()?
                    .parse()
                    .map_err(|_| bad(format!("option \"{name}\": not a number")))?,
            ),
            "b" => OptionValue::Bool(next()? == "true"),
            "l" | "m" => {
                let n: usize = next()?
                    .parse()
                    .map_err(|_| bad(format!("option \"{name}\": bad count")))?;
                if tag == "l" {
                    OptionValue::List((0..n).map(|_| next()).collect::<Result<_, _>>()?)
                } else {
                    OptionValue::Map(
                        (0..n)
                            .map(|_| Ok((next()?, next()?)))
                            .collect::<Result<_, Error>>()?,
                    )
                }
            }
            other => return Err(bad(format!("option \"{name}\": unknown tag {other:?}"))),
        };
        out.push((name.clone(), value));
    }
    Ok(out)
}

/// A trace id from the two `long`s Java keeps it in (high and low 64 bits, big-endian value).
pub fn trace_id(hi: i64, lo: i64) -> TraceId {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&hi.to_be_bytes());
    b[8..].copy_from_slice(&lo.to_be_bytes());
    TraceId(b)
}

/// A span id from the `long` Java keeps it in.
pub fn span_id(v: i64) -> SpanId {
    SpanId(v.to_be_bytes())
}

/// A trace id as Java's two `long`s.
pub fn trace_longs(t: &TraceId) -> (i64, i64) {
    let mut hi = [0u8; 8];
    let mut lo = [0u8; 8];
    hi.copy_from_slice(&t.0[..8]);
    lo.copy_from_slice(&t.0[8..]);
    (i64::from_be_bytes(hi), i64::from_be_bytes(lo))
}

/// A span id as Java's `long`.
pub fn span_long(s: &SpanId) -> i64 {
    i64::from_be_bytes(s.0)
}

/// A span context from Java's parts; a malformed trace state gives an empty one.
pub fn span_context(
    ids: [i64; 3],
    flags: i32,
    trace_state: Option<&str>,
    is_remote: bool,
) -> SpanContext {
    SpanContext {
        trace_id: trace_id(ids[0], ids[1]),
        span_id: span_id(ids[2]),
        trace_flags: TraceFlags((flags & 0xff) as u8),
        trace_state: trace_state.and_then(TraceState::parse).unwrap_or_default(),
        is_remote,
    }
}

/// Baggage from flat `key, value, metadata` triples.
pub fn baggage<S: AsRef<str>>(flat: &[S]) -> Baggage {
    let mut b = Baggage::default();
    for e in flat.chunks_exact(3) {
        b = b.with(e[0].as_ref(), e[1].as_ref(), e[2].as_ref());
    }
    b
}

/// The pipeline's counters in `Stats.java`'s order.
pub fn stats(s: &Stats) -> [i64; 9] {
    [
        s.spans_started,
        s.spans_ended,
        s.spans_exported,
        s.spans_dropped,
        s.dropped_queue_full,
        s.dropped_export_failed,
        s.dropped_shutdown,
        s.dropped_invalid,
        s.export_failures,
    ]
    .map(|v| i64::try_from(v).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_decode_every_tag() {
        let flat: Vec<String> = [
            "service_name",
            "s",
            "svc",
            "maxQueueSize",
            "i",
            "10",
            "sampler_arg",
            "f",
            "0.25",
            "disabled",
            "b",
            "false",
            "propagators",
            "l",
            "2",
            "tracecontext",
            "baggage",
            "headers",
            "m",
            "1",
            "k",
            "v",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let o = options(&flat).unwrap();
        assert_eq!(o.len(), 6);
        assert_eq!(o[1].1, OptionValue::Int(10));
        assert_eq!(o[2].1, OptionValue::Float(0.25));
        assert_eq!(
            o[4].1,
            OptionValue::List(vec!["tracecontext".into(), "baggage".into()])
        );
        assert_eq!(o[5].1, OptionValue::Map(vec![("k".into(), "v".into())]));
        assert!(options(&["x".to_string()]).is_err());
        assert!(options(&["x".into(), "i".into(), "1.5".into()]).is_err());
    }

    #[test]
    fn ids_round_trip() {
        let t = trace_id(0x0102030405060708, -1);
        assert_eq!(t.to_hex(), "0102030405060708ffffffffffffffff");
        assert_eq!(trace_longs(&t), (0x0102030405060708, -1));
        assert_eq!(span_long(&span_id(42)), 42);
    }
}
