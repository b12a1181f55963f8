//! W3C Trace Context Level 2 (which includes Level 1) and W3C Baggage propagation, as pure
//! inject/extract over lists of `(name, value)` pairs.
//!
//! Every binding calls this module instead of its host language's propagator, so that a
//! malformed header is treated the same way in Python, Node, Erlang, Java and C. Nothing here
//! allocates for a carrier without `tracestate` or `baggage` apart from the injected
//! `traceparent` string, nothing panics on any input, and no regex or map is used.
//!
//! # Rules, and where they come from
//!
//! Sections named in quotes are those of [W3C Trace Context Level 2]; `test_*` names are the
//! tests of the official suite (repository `w3c/trace-context`, `test/test.py`, run with
//! `SPEC_LEVEL=2` and the default `STRICT_LEVEL=2`) that check the rule. All 41 of them pass
//! (README, "W3C Trace Context conformance"); `tests/vectors/propagation.json` holds a case
//! for every request the suite sends, named after its test.
//!
//! `traceparent` ("traceparent Header", "Versioning of traceparent", "Processing Model"):
//! - Header names are matched case-insensitively ("Header Name";
//!   `test_traceparent_header_name_valid_casing`); other spellings such as `trace-parent` are
//!   not the header (`test_traceparent_header_name`). Leading/trailing OWS (space, tab) around
//!   the value is ignored (`test_traceparent_ows_handling`).
//! - More than one `traceparent` field in a carrier is invalid: the trace restarts
//!   (`test_traceparent_duplicated`).
//! - All fields are lowercase hex (`HEXDIGLC`) of exactly their length; an all-zero trace id or
//!   parent id is invalid ("trace-id", "parent-id"; `test_traceparent_trace_id_*`,
//!   `test_traceparent_parent_id_*`, `test_traceparent_trace_flags_*`,
//!   `test_traceparent_version_illegal_characters`, `_too_long`, `_too_short`).
//! - Version `ff` is invalid (`test_traceparent_version_0xff`); version `00` must be exactly 55
//!   characters (`test_traceparent_version_0x00`). A higher version is parsed by its first 55
//!   characters when it is exactly 55 long or character 55 is `-` ("Versioning of
//!   traceparent"; `test_traceparent_version_0xcc`), and is always injected as version `00`
//!   ("Vendors MUST use these fields to construct the new traceparent field according to the
//!   highest version of the specification known").
//! - Flags: the `sampled` (0x01) and Level 2 `random` (0x02) bits are kept, also from a higher
//!   version ("The vendor will only parse the trace-flags values supported by this version");
//!   every other bit is cleared ("Other Flags": "Vendors MUST set those to zero"), so it is
//!   never re-injected.
//! - `random` ("Random Trace ID Flag"): a child keeps its remote parent's bit with the trace id
//!   ("If the flag is set in the incoming traceparent header, it MUST also be set in all
//!   outgoing traceparent headers which use the same trace-id", and unset likewise;
//!   `test_propagates_random_flag`). A new trace sets it: the core's trace ids are 16 random
//!   bytes (`crate::trace::ids`), so "at least the right-most 7 bytes" are random.
//!
//! `tracestate` ("tracestate Header"):
//! - Only parsed when `traceparent` is valid ("If the vendor failed to parse traceparent, it
//!   MUST NOT attempt to parse tracestate"; `test_tracestate_included_traceparent_missing`);
//!   an invalid `tracestate` never affects `traceparent`.
//! - Header names are matched case-insensitively (`test_tracestate_header_name_valid_casing`,
//!   `test_tracestate_header_name`). Several fields are joined with `,` in order (RFC 9110
//!   §5.3, "tracestate Header Field Values"; `test_tracestate_multiple_headers_different_keys`);
//!   empty and whitespace-only list members are skipped ("Empty and whitespace-only list
//!   members are allowed"; `test_tracestate_empty_header`, `test_tracestate_ows_handling`).
//! - Keys follow the Level 2 grammar ("Key"): `key = ( lcalpha / DIGIT ) 0*255 ( keychar )`,
//!   `keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"`: 1–256 characters, the first a
//!   lowercase letter or a digit. `@` may appear anywhere after the first character, any
//!   number of times; it has no tenant/system structure and no limits of its own
//!   (`test_tracestate_key_illegal_vendor_format`, `test_tracestate_key_length_limit`,
//!   `test_tracestate_all_allowed_characters`, `test_tracestate_key_illegal_characters`). The
//!   Level 1 Recommendation's `tenant-id "@" system-id` form (at most 241 and 14 characters,
//!   a system id starting with a letter) is a subset of this grammar, so every key a Level 1
//!   sender writes is still accepted; the suite moved to the Level 2 grammar in
//!   w3c/trace-context#584.
//! - Values ("Value"): 1–256 printable ASCII characters except `,` and `=`, not ending in a
//!   space; leading spaces are part of the value ("All leading spaces MUST be preserved"),
//!   trailing OWS is not (`test_tracestate_value_illegal_characters`,
//!   `test_tracestate_all_allowed_characters`).
//! - A duplicated key keeps its first (leftmost, most recent) entry; later ones are dropped
//!   ("Mutating the tracestate Field": "vendors MAY also discard duplicate keys that were not
//!   generated by them"; `test_tracestate_duplicated_keys`, which accepts keeping one of them
//!   since w3c/trace-context#477). So every host language's trace state stays a map.
//! - Any invalid list member, or more than 32 members as received (duplicates counted),
//!   discards the whole `tracestate` ("list": at most 32 list-members; "Processing Model": "If
//!   the tracestate header cannot be parsed the vendor MAY discard the entire header"; the
//!   suite's strict level: `test_tracestate_member_count_limit`,
//!   `test_tracestate_key_illegal_characters`, `test_tracestate_value_illegal_characters`),
//!   never the `traceparent`.
//! - Mutation ([`TraceState::insert`], [`TraceState::delete`]) follows "Mutating the tracestate
//!   Field": a new or updated key moves to the front, the rightmost entries beyond 32 are
//!   dropped, and keys and values must match the grammar above.
//! - There is no size limit below 32 × (256 + 1 + 256) bytes: the 32-member limit already
//!   bounds it, and "tracestate Limits" asks for at least 512 characters.
//!
//! Not implemented: the Level 2 response header (the `trace` metric of `server-timing`): it is
//! optional, sent by a server on its responses, and no OpenTelemetry propagator API carries it.
//!
//! `baggage` ([W3C Baggage]):
//! - `key OWS "=" OWS value *( OWS ";" OWS property )`; keys are RFC 7230 tokens, values are
//!   `baggage-octet`s, percent-decoded (an invalid escape such as `%zz` is kept literally;
//!   decoded bytes that are not UTF-8 become U+FFFD, as the spec requires).
//! - An invalid list member is skipped, not the whole header. Empty list members and empty
//!   properties are ignored.
//! - Properties are kept as the entry's opaque `metadata` string, not decoded; only the OWS the
//!   spec says is not part of them is removed (`a ; b = c` becomes `a;b=c`).
//! - A key seen twice keeps its first position and takes the last value (what a map does in
//!   every host language's OpenTelemetry API).
//! - Limits: the spec requires at least 64 members and 8192 bytes. We keep up to
//!   [`MAX_BAGGAGE_ENTRIES`] (180) distinct keys and drop, in order, any member that would make
//!   the serialized header exceed [`MAX_BAGGAGE_BYTES`] (8192); a member is never truncated.
//!   The same limits apply on inject.
//!
//! [W3C Trace Context Level 2]: https://www.w3.org/TR/trace-context-2/
//! [W3C Baggage]: https://www.w3.org/TR/baggage/

use crate::config::PropagatorKind;
use crate::types::{SpanContext, TraceFlags};
use std::borrow::Cow;

mod baggage;
mod traceparent;
mod tracestate;

pub use baggage::{Baggage, BaggageEntry};
pub use traceparent::{format_traceparent, format_traceparent_into, parse_traceparent};
pub use tracestate::TraceState;

/// Header name of the W3C trace parent (lowercase, as the spec asks senders to write it).
pub const TRACEPARENT: &str = "traceparent";
/// Header name of the W3C vendor trace state.
pub const TRACESTATE: &str = "tracestate";
/// Header name of W3C baggage.
pub const BAGGAGE: &str = "baggage";

/// Most `tracestate` list members allowed; a header with more is discarded (W3C).
pub const MAX_TRACESTATE_ENTRIES: usize = 32;
/// Longest `tracestate` key, `@` included (W3C Level 2).
pub const MAX_TRACESTATE_KEY_LEN: usize = 256;
/// Longest `tracestate` value (W3C).
pub const MAX_TRACESTATE_VALUE_LEN: usize = 256;
/// Most distinct baggage entries kept on extract and written on inject. The spec's minimum is
/// 64; 180 is the maximum of earlier drafts that OpenTelemetry SDKs still use.
pub const MAX_BAGGAGE_ENTRIES: usize = 180;
/// Largest serialized `baggage` header kept on extract and written on inject (the spec's
/// minimum, and what OpenTelemetry SDKs use).
pub const MAX_BAGGAGE_BYTES: usize = 8192;

/// The trace-flag bits this implementation knows: `sampled` and Level 2 `random`.
const KNOWN_FLAGS: u8 = TraceFlags::SAMPLED | TraceFlags::RANDOM;
/// Length of a version-00 `traceparent` (what [`format_traceparent_into`] writes).
pub const TRACEPARENT_LEN: usize = 55;
/// Removes HTTP optional whitespace (space and horizontal tab, RFC 7230 §3.2.3) at both ends.
#[inline]
fn trim_ows(s: &str) -> &str {
    // By bytes: space and tab are ASCII, so where they end is a character boundary.
    let ows = |c: &u8| *c == b' ' || *c == b'\t';
    let b = s.as_bytes();
    let start = b.iter().position(|c| !ows(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !ows(c)).map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or_default()
}

/// What [`Propagators::extract`] found in a carrier.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Extracted {
    /// The remote parent (`is_remote = true`), or `None` when there is no valid `traceparent`
    /// (start a new trace). Its trace state is the received `tracestate`, or empty when that was
    /// invalid.
    pub span_context: Option<SpanContext>,
    /// The received baggage (empty when absent or when the baggage propagator is off).
    pub baggage: Baggage,
}

const ORDER_NONE: &[PropagatorKind] = &[];
const ORDER_TC: &[PropagatorKind] = &[PropagatorKind::TraceContext];
const ORDER_BAGGAGE: &[PropagatorKind] = &[PropagatorKind::Baggage];
const ORDER_TC_BAGGAGE: &[PropagatorKind] =
    &[PropagatorKind::TraceContext, PropagatorKind::Baggage];
const ORDER_BAGGAGE_TC: &[PropagatorKind] =
    &[PropagatorKind::Baggage, PropagatorKind::TraceContext];

/// The configured composite propagator (`OTEL_PROPAGATORS`): which W3C formats are injected
/// and extracted, in order. Every binding's propagator delegates to this, so all languages
/// read and write identical headers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Propagators {
    kinds: &'static [PropagatorKind],
}

impl Default for Propagators {
    /// `tracecontext,baggage`, the OpenTelemetry default for `OTEL_PROPAGATORS`.
    fn default() -> Self {
        Propagators {
            kinds: ORDER_TC_BAGGAGE,
        }
    }
}

impl Propagators {
    /// A composite of `kinds`, in order; a repeated kind counts once (at its first position).
    /// An empty list is the no-op propagator (`OTEL_PROPAGATORS=none`).
    pub fn new(kinds: &[PropagatorKind]) -> Propagators {
        let tc = kinds
            .iter()
            .position(|k| *k == PropagatorKind::TraceContext);
        let bg = kinds.iter().position(|k| *k == PropagatorKind::Baggage);
        let kinds = match (tc, bg) {
            (None, None) => ORDER_NONE,
            (Some(_), None) => ORDER_TC,
            (None, Some(_)) => ORDER_BAGGAGE,
            (Some(t), Some(b)) if t < b => ORDER_TC_BAGGAGE,
            (Some(_), Some(_)) => ORDER_BAGGAGE_TC,
        };
        Propagators { kinds }
    }

    /// The formats, in injection order, without repeats.
    pub fn kinds(&self) -> &'static [PropagatorKind] {
        self.kinds
    }

    fn has(&self, kind: PropagatorKind) -> bool {
        self.kinds.contains(&kind)
    }

    /// The header names this composite reads and writes, in order (what OpenTelemetry's
    /// `TextMapPropagator.fields` returns; CORS configuration and carriers need it).
    pub fn fields(&self) -> &'static [&'static str] {
        match self.kinds {
            [] => &[],
            [PropagatorKind::TraceContext] => &[TRACEPARENT, TRACESTATE],
            [PropagatorKind::Baggage] => &[BAGGAGE],
            [PropagatorKind::TraceContext, ..] => &[TRACEPARENT, TRACESTATE, BAGGAGE],
            [PropagatorKind::Baggage, ..] => &[BAGGAGE, TRACEPARENT, TRACESTATE],
        }
    }

    /// Calls `set(name, value)` for each header to write, names in lowercase: `traceparent`
    /// (version 00) and, when non-empty, `tracestate` for a valid `span_context`; `baggage` when
    /// the baggage has entries. Writes no trace-context header for a missing or invalid
    /// context, so a non-recording invalid span never leaks an all-zero `traceparent`.
    pub fn inject(
        &self,
        span_context: Option<&SpanContext>,
        baggage: &Baggage,
        set: &mut dyn FnMut(&'static str, String),
    ) {
        self.inject_cow(span_context, baggage, &mut |k, v| set(k, v.into_owned()));
    }

    /// [`inject`](Self::inject) with values lent for the call: the `traceparent` is formatted
    /// on the stack, so a context without trace state or baggage allocates nothing (for
    /// bindings that copy the values out anyway).
    pub fn inject_str(
        &self,
        span_context: Option<&SpanContext>,
        baggage: &Baggage,
        set: &mut dyn FnMut(&'static str, &str),
    ) {
        self.inject_cow(span_context, baggage, &mut |k, v| set(k, &v));
    }

    /// The headers of [`inject`](Self::inject), each borrowed when it can be and owned when
    /// it had to be built, so that both callers take their form without a second copy.
    fn inject_cow(
        &self,
        span_context: Option<&SpanContext>,
        baggage: &Baggage,
        set: &mut dyn FnMut(&'static str, Cow<'_, str>),
    ) {
        for kind in self.kinds {
            match kind {
                PropagatorKind::TraceContext => {
                    if let Some(sc) = span_context.filter(|sc| sc.is_valid()) {
                        let mut buf = [0u8; TRACEPARENT_LEN];
                        set(
                            TRACEPARENT,
                            Cow::Borrowed(format_traceparent_into(sc, &mut buf)),
                        );
                        if !sc.trace_state.is_empty() {
                            set(TRACESTATE, Cow::Owned(sc.trace_state.header()));
                        }
                    }
                }
                PropagatorKind::Baggage => {
                    if !baggage.is_empty() {
                        let header = baggage.header();
                        if !header.is_empty() {
                            set(BAGGAGE, Cow::Owned(header));
                        }
                    }
                }
            }
        }
    }

    /// Reads the carrier's `(name, value)` pairs (names case-insensitive; repeated `tracestate`
    /// or `baggage` fields are joined with `,` as RFC 7230 says). More than one `traceparent`
    /// makes the context invalid. Never fails: whatever is malformed is ignored as the W3C
    /// specifications say.
    pub fn extract<K: AsRef<str>, V: AsRef<str>>(&self, carrier: &[(K, V)]) -> Extracted {
        let want_tc = self.has(PropagatorKind::TraceContext);
        let want_baggage = self.has(PropagatorKind::Baggage);
        let mut traceparent: Option<&str> = None;
        let mut traceparents = 0usize;
        let mut tracestate = Joined::Absent;
        let mut baggage = Joined::Absent;
        for (name, value) in carrier {
            let name = name.as_ref();
            if want_tc && name.eq_ignore_ascii_case(TRACEPARENT) {
                traceparents += 1;
                traceparent = Some(value.as_ref());
            } else if want_tc && name.eq_ignore_ascii_case(TRACESTATE) {
                tracestate.push(value.as_ref());
            } else if want_baggage && name.eq_ignore_ascii_case(BAGGAGE) {
                baggage.push(value.as_ref());
            }
        }
        let span_context = match traceparent {
            Some(tp) if traceparents == 1 => parse_traceparent(tp).map(|mut sc| {
                if let Some(ts) = tracestate.as_str() {
                    sc.trace_state = TraceState::parse(ts).unwrap_or_default();
                }
                sc
            }),
            _ => None,
        };
        Extracted {
            span_context,
            baggage: baggage.as_str().map(Baggage::parse).unwrap_or_default(),
        }
    }
}

/// The values of a repeatable header, joined with `,` only when it really is repeated (no
/// allocation for the usual single field).
enum Joined<'a> {
    Absent,
    One(&'a str),
    Many(String),
}

impl<'a> Joined<'a> {
    fn push(&mut self, value: &'a str) {
        *self = match std::mem::replace(self, Joined::Absent) {
            Joined::Absent => Joined::One(value),
            Joined::One(first) => {
                let mut s = String::with_capacity(first.len() + 1 + value.len());
                s.push_str(first);
                s.push(',');
                s.push_str(value);
                Joined::Many(s)
            }
            Joined::Many(mut s) => {
                s.push(',');
                s.push_str(value);
                Joined::Many(s)
            }
        };
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Joined::Absent => None,
            Joined::One(s) => Some(s),
            Joined::Many(s) => Some(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SPAN: &str = "00f067aa0ba902b7";

    fn w3c() -> Propagators {
        Propagators::new(&[PropagatorKind::TraceContext, PropagatorKind::Baggage])
    }

    /// What `inject` writes, checked to be what `inject_str` lends.
    fn inject_all(p: &Propagators, sc: Option<&SpanContext>, b: &Baggage) -> Vec<(String, String)> {
        let mut out = Vec::new();
        p.inject(sc, b, &mut |k, v| out.push((k.to_string(), v)));
        let mut lent = Vec::new();
        p.inject_str(sc, b, &mut |k, v| lent.push((k.to_string(), v.to_string())));
        assert_eq!(lent, out);
        out
    }

    #[test]
    fn traceparent_round_trip() {
        let sc = parse_traceparent(TP).unwrap();
        assert_eq!(sc.trace_id.to_hex(), TRACE);
        assert_eq!(sc.span_id.to_hex(), SPAN);
        assert!(sc.is_sampled());
        assert!(sc.is_remote);
        assert_eq!(format_traceparent(&sc), TP);
        let mut buf = [b'x'; TRACEPARENT_LEN];
        assert_eq!(format_traceparent_into(&sc, &mut buf), TP);
    }

    #[test]
    fn traceparent_rejects_malformed() {
        let bad = [
            "",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0G",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
            "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.x",
            "\n00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ];
        for v in bad {
            assert!(parse_traceparent(v).is_none(), "{v:?}");
        }
    }

    #[test]
    fn ows_is_space_and_tab_at_either_end() {
        assert_eq!(trim_ows(" \t a b\t "), "a b");
        assert_eq!(trim_ows(" \t "), "");
        assert_eq!(trim_ows(""), "");
        assert_eq!(trim_ows("\té \n"), "é \n");
    }

    #[test]
    fn traceparent_future_version_and_ows() {
        let v = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future";
        assert_eq!(parse_traceparent(v).unwrap().trace_id.to_hex(), TRACE);
        let v = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert!(parse_traceparent(v).is_some());
        assert!(parse_traceparent(&format!(" \t{TP}\t ")).is_some());
    }

    #[test]
    fn flags_keep_sampled_and_random_only() {
        let v = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff";
        let sc = parse_traceparent(v).unwrap();
        assert_eq!(sc.trace_flags, TraceFlags(0x03));
        let mut sc2 = sc.clone();
        sc2.trace_flags = TraceFlags(0xfe);
        assert!(format_traceparent(&sc2).ends_with("-02"));
    }

    #[test]
    fn never_panics_on_multibyte_input() {
        // Multi-byte characters straddling every offset the parsers slice at.
        let seeds = [TP, "a=b,c=d", "k=v;p=q", "é"];
        for seed in seeds {
            for i in 0..=seed.len() {
                for ins in ["é", "€", "😀", "\u{0}", "%", "%e", ","] {
                    let mut s = String::new();
                    s.push_str(seed.get(..i).unwrap_or(""));
                    s.push_str(ins);
                    s.push_str(seed.get(i..).unwrap_or(""));
                    let _ = parse_traceparent(&s);
                    let _ = TraceState::parse(&s);
                    let _ = Baggage::parse(&s).header();
                }
            }
        }
        let s = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0😀";
        assert!(parse_traceparent(s).is_none());
        let s = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01😀";
        assert!(parse_traceparent(s).is_none());
    }

    #[test]
    fn tracestate_parse_rules() {
        let ts = TraceState::parse(" a=1 ,, \t,b=2\t").unwrap();
        assert_eq!(ts.header(), "a=1,b=2");
        assert_eq!(ts.get("b"), Some("2"));
        assert_eq!(TraceState::parse("").unwrap(), TraceState::default());
        for bad in [
            "a=",
            "A=1",
            "a =1",
            "a=b=c",
            "@foo=1",
            "_foo=1",
            "foo.bar=1",
            "a=1\tx",
            "a",
            "a=1,@b=2",
        ] {
            assert!(TraceState::parse(bad).is_none(), "{bad:?}");
        }
        // Level 2 keys: '@' anywhere after the first character, no tenant/system limits.
        for key in ["foo@", "foo@@bar", "foo@bar@baz", "1a", "t@1v", "a-_*/@0"] {
            let header = format!("{key}=1,bar=2");
            assert_eq!(TraceState::parse(&header).unwrap().header(), header);
        }
        for key in [
            format!("{}@{}", "t".repeat(241), "v".repeat(14)),
            format!("{}@v", "t".repeat(242)),
            format!("t@{}", "v".repeat(15)),
            format!("{}@", "t".repeat(255)),
            "z".repeat(256),
        ] {
            assert!(key.len() <= MAX_TRACESTATE_KEY_LEN);
            assert_eq!(
                TraceState::parse(&format!("{key}=1")).unwrap().get(&key),
                Some("1")
            );
        }
        assert!(TraceState::parse(&format!("{}=1", "z".repeat(257))).is_none());
        assert!(TraceState::parse(&format!("{}@v=1", "t".repeat(255))).is_none());
        assert!(TraceState::parse(&format!("a={}", "v".repeat(256))).is_some());
        assert!(TraceState::parse(&format!("a={}", "v".repeat(257))).is_none());
        assert_eq!(TraceState::parse("a= x").unwrap().get("a"), Some(" x"));
    }

    #[test]
    fn tracestate_duplicates_keep_the_first() {
        assert_eq!(TraceState::parse("a=1,a=1").unwrap().header(), "a=1");
        assert_eq!(
            TraceState::parse("a=1,b=2,a=3").unwrap().header(),
            "a=1,b=2"
        );
        // A duplicate is still validated: an invalid one discards the header.
        assert!(TraceState::parse("a=1,a=").is_none());
        // The member limit counts members as received.
        let mut header = (1..=32).map(|i| format!("k{i}=v")).collect::<Vec<_>>();
        header.push("k1=w".to_string());
        assert!(TraceState::parse(&header.join(",")).is_none());
        header.truncate(31);
        header.push("k1=w".to_string());
        assert_eq!(
            TraceState::parse(&header.join(","))
                .unwrap()
                .entries()
                .len(),
            31
        );
    }

    #[test]
    fn tracestate_member_limit() {
        let members = |n: usize| {
            (1..=n)
                .map(|i| format!("k{i}=v"))
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(TraceState::parse(&members(32)).unwrap().entries().len(), 32);
        assert!(TraceState::parse(&members(33)).is_none());
    }

    #[test]
    fn tracestate_mutation() {
        let ts = TraceState::parse("a=1,b=2,c=3").unwrap();
        assert_eq!(ts.insert("b", "9").unwrap().header(), "b=9,a=1,c=3");
        assert_eq!(ts.insert("d", "4").unwrap().header(), "d=4,a=1,b=2,c=3");
        assert_eq!(ts.delete("a").header(), "b=2,c=3");
        assert_eq!(ts.delete("zz"), ts);
        assert_eq!(
            ts.insert("B", "1").unwrap_err().kind(),
            crate::ErrorKind::InvalidArgument
        );
        assert!(ts.insert("b", "x ").is_err());
        assert_eq!(
            ts.insert("t@v@2", "1").unwrap().header(),
            "t@v@2=1,a=1,b=2,c=3"
        );
        assert!(ts.insert("@v", "1").is_err());
        assert!(ts.insert("b", "").is_err());
        assert!(ts.delete("a").delete("b").delete("c").0.is_none());

        let full = TraceState::parse(
            &(1..=32)
                .map(|i| format!("k{i}=v"))
                .collect::<Vec<_>>()
                .join(","),
        )
        .unwrap();
        let more = full.insert("new", "v").unwrap();
        assert_eq!(more.entries().len(), 32);
        assert_eq!(more.entries()[0].0, "new");
        assert_eq!(more.entries()[31].0, "k31");
        assert!(more.get("k32").is_none());
        let moved = full.insert("k32", "w").unwrap();
        assert_eq!(moved.entries().len(), 32);
        assert_eq!(moved.entries()[0], ("k32".to_string(), "w".to_string()));
    }

    #[test]
    fn tracestate_from_entries_validates() {
        let e = |k: &str, v: &str| (k.to_string(), v.to_string());
        let ts = TraceState::from_entries(vec![e("a", "1"), e("b", "2")]).unwrap();
        assert_eq!(ts.header(), "a=1,b=2");
        assert!(TraceState::from_entries(vec![e("a", "1"), e("a", "2")]).is_err());
        assert!(TraceState::from_entries(vec![e("a,b", "1")]).is_err());
        assert!(
            TraceState::from_entries((0..33).map(|i| e(&format!("k{i}"), "v")).collect()).is_err()
        );
        assert_eq!(
            TraceState::from_entries(vec![]).unwrap(),
            TraceState::default()
        );
    }

    #[test]
    fn empty_states_do_not_allocate() {
        assert!(TraceState::default().0.is_none());
        assert!(TraceState::parse(" , ").unwrap().0.is_none());
        assert!(Baggage::parse("").0.is_none());
        assert!(Baggage::parse("bad").0.is_none());
        let ts = TraceState::parse("a=1").unwrap();
        let clone = ts.clone();
        assert!(Arc::ptr_eq(
            ts.0.as_ref().unwrap(),
            clone.0.as_ref().unwrap()
        ));
    }

    #[test]
    fn baggage_parse_and_header() {
        let b = Baggage::parse(
            "key1 = value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue",
        );
        assert_eq!(b.entries().len(), 3);
        assert_eq!(b.entries()[0].metadata, "property1;property2");
        assert_eq!(b.get("key2"), Some("value2"));
        assert_eq!(b.entries()[2].metadata, "propertyKey=propertyValue");
        assert_eq!(
            b.header(),
            "key1=value1;property1;property2,key2=value2,key3=value3;propertyKey=propertyValue"
        );
        let b = Baggage::parse("userId=Am%C3%A9lie,serverNode=DF%2028,bad key=1,x=%zz%4,y=%FF");
        assert_eq!(b.get("userId"), Some("Amélie"));
        assert_eq!(b.get("serverNode"), Some("DF 28"));
        assert_eq!(b.get("x"), Some("%zz%4"));
        assert_eq!(b.get("y"), Some("\u{FFFD}"));
        assert!(b.get("bad key").is_none());
        assert_eq!(
            b.header(),
            "userId=Am%C3%A9lie,serverNode=DF%2028,x=%25zz%254,y=%EF%BF%BD"
        );
    }

    #[test]
    fn baggage_skips_invalid_members_only() {
        let b = Baggage::parse("a=1,=2,b,c=x y,d=\"q\",e=1;@@@,f=ok;p;;q=1 ,g=");
        let keys: Vec<_> = b.entries().iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["a", "f", "g"]);
        assert_eq!(b.get("f"), Some("ok"));
        assert_eq!(b.entries()[1].metadata, "p;q=1");
        assert_eq!(b.get("g"), Some(""));
    }

    #[test]
    fn baggage_duplicates_and_mutation() {
        let b = Baggage::parse("a=1,b=2,a=3");
        assert_eq!(b.header(), "a=3,b=2");
        let b = b.with("c", "x y", "m").with("a", "4", "");
        assert_eq!(b.header(), "a=4,b=2,c=x%20y;m");
        assert_eq!(b.without("b").header(), "a=4,c=x%20y;m");
        assert_eq!(b.without("zz"), b);
        // Invalid key skipped and invalid metadata left out on inject.
        let b = Baggage::default()
            .with("bad key", "1", "")
            .with("k", "v", "a,b");
        assert_eq!(b.header(), "k=v");
    }

    #[test]
    fn baggage_limits() {
        let many = (0..200)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",");
        let b = Baggage::parse(&many);
        assert_eq!(b.entries().len(), MAX_BAGGAGE_ENTRIES);
        assert_eq!(b.header().split(',').count(), MAX_BAGGAGE_ENTRIES);

        // One 8192-byte member fits exactly; one byte more is dropped whole.
        let exact = format!("a={}", "0".repeat(8190));
        assert_eq!(Baggage::parse(&exact).header().len(), 8192);
        let over = format!("a={},b=1", "0".repeat(8191));
        assert_eq!(Baggage::parse(&over).header(), "b=1");

        // Many small members: the ones that would cross 8192 bytes are dropped.
        let big = (0..150)
            .map(|i| format!("k{i:03}={}", "x".repeat(60)))
            .collect::<Vec<_>>()
            .join(",");
        let b = Baggage::parse(&big);
        assert!(b.header().len() <= MAX_BAGGAGE_BYTES);
        assert_eq!(b.entries().len(), 8192 / 66);

        // Inject applies the same limits to a baggage built in code.
        let mut b = Baggage::default();
        for i in 0..200 {
            b = b.with(&format!("k{i}"), "v", "");
        }
        assert_eq!(b.header().split(',').count(), MAX_BAGGAGE_ENTRIES);
        let b = Baggage::default()
            .with("a", &"é".repeat(2000), "")
            .with("b", "1", "");
        assert_eq!(b.header(), "b=1");
    }

    #[test]
    fn propagators_fields_and_order() {
        use PropagatorKind::{Baggage as B, TraceContext as T};
        assert_eq!(w3c().fields(), ["traceparent", "tracestate", "baggage"]);
        assert_eq!(
            Propagators::new(&[B, T, B]).fields(),
            ["baggage", "traceparent", "tracestate"]
        );
        assert!(Propagators::new(&[]).fields().is_empty());
        assert_eq!(Propagators::new(&[T, T]).kinds(), [T]);
        assert_eq!(Propagators::default(), w3c());

        let sc = parse_traceparent(TP).unwrap();
        let b = Baggage::default().with("k", "v", "");
        let out = inject_all(&Propagators::new(&[B, T]), Some(&sc), &b);
        let names: Vec<_> = out.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["baggage", "traceparent"]);
        assert!(inject_all(&Propagators::new(&[]), Some(&sc), &b).is_empty());
        let none = Propagators::new(&[]).extract(&[("traceparent", TP), ("baggage", "k=v")]);
        assert_eq!(none, Extracted::default());
    }

    #[test]
    fn inject_skips_invalid_context() {
        let b = Baggage::default();
        assert!(inject_all(&w3c(), Some(&SpanContext::invalid()), &b).is_empty());
        assert!(inject_all(&w3c(), None, &b).is_empty());
        let b = b.with("k", "v", "");
        assert_eq!(
            inject_all(&w3c(), None, &b),
            [("baggage".to_string(), "k=v".to_string())]
        );
    }

    #[test]
    fn extract_carrier_rules() {
        let p = w3c();
        let e = p.extract(&[
            ("TraceParent", TP),
            ("TRACESTATE", "a=1"),
            ("tracestate", "b=2"),
        ]);
        let sc = e.span_context.unwrap();
        assert_eq!(sc.trace_state.header(), "a=1,b=2");
        assert!(sc.is_remote);

        let e = p.extract(&[("traceparent", TP), ("traceparent", TP)]);
        assert!(e.span_context.is_none());

        let e = p.extract(&[("tracestate", "a=1"), ("baggage", "k=v")]);
        assert!(e.span_context.is_none());
        assert_eq!(e.baggage.get("k"), Some("v"));

        let e = p.extract(&[
            ("traceparent", TP),
            ("tracestate", "a=1"),
            ("tracestate", "a=2"),
        ]);
        assert_eq!(e.span_context.unwrap().trace_state.header(), "a=1");

        let e = p.extract(&[("traceparent", TP), ("tracestate", "a=1,A=2")]);
        assert!(e.span_context.unwrap().trace_state.is_empty());

        let e = p.extract(&[
            ("baggage".to_string(), "a=1".to_string()),
            ("Baggage".to_string(), "b=2".to_string()),
        ]);
        assert_eq!(e.baggage.header(), "a=1,b=2");

        let only_baggage = Propagators::new(&[PropagatorKind::Baggage]);
        let e = only_baggage.extract(&[("traceparent", TP), ("baggage", "k=v")]);
        assert!(e.span_context.is_none());
        assert!(!e.baggage.is_empty());
    }

    #[test]
    fn round_trip_through_inject() {
        let p = w3c();
        let carrier = [
            (
                "traceparent",
                "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0b-x",
            ),
            ("tracestate", " rojo=00f067aa0ba902b7 , congo=t61rcWkgMzE"),
            ("baggage", "userId = alice, serverNode=DF%2028;p"),
        ];
        let e = p.extract(&carrier);
        let out = inject_all(&p, e.span_context.as_ref(), &e.baggage);
        let expected = [
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03",
            ),
            ("tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
            ("baggage", "userId=alice,serverNode=DF%2028;p"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        assert_eq!(out, expected);
    }
}
