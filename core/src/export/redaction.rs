//! Redaction: scrubbing personal data out of attribute values before spans leave the
//! process.
//!
//! Instrumentation records what it sees (URLs with e-mail addresses, SQL with card numbers,
//! user ids), and once exported the data sits in Kafka, Jaeger and Elasticsearch with their
//! own retention. Redaction runs on the export thread, never on the hot path, and is off by
//! default (`POLYTRACE_REDACT`, `POLYTRACE_REDACT_HASH_KEYS`; see the config module).
//!
//! Rules, each enabled separately by [`RedactionConfig`]:
//!
//! | rule     | matches                                                        | replaced by          |
//! |----------|----------------------------------------------------------------|----------------------|
//! | `email`  | `local@domain.tld` anywhere in a string                        | `[REDACTED:email]`   |
//! | `card`   | 13–19 digits, single space/dash separators, passing Luhn       | `[REDACTED:card]`    |
//! | `ssn`    | `AAA-GG-SSSS` with SSA-valid area/group/serial                 | `[REDACTED:ssn]`     |
//! | hash key | the whole value of a listed attribute key                      | `sha256:<16 hex>`    |
//!
//! Hashing is **pseudonymisation, not anonymisation**: the same input always gives the same
//! token, so equal ids still correlate across spans and services (that is the point), but
//! anyone can hash candidate values and compare. Inputs from a small or guessable space
//! (numeric user ids, phone numbers, e-mail addresses of known people) can be recovered by
//! brute force in seconds. Use hashing for correlation, not as protection of secrets, and
//! treat the exported data as personal data under the applicable regulation.
//!
//! The matchers are hand-written scanners (no regex engine) that run in time linear in the
//! length of the value. When they are unsure they err on the side of redacting: a
//! false positive costs a little context in a trace, a false negative leaks personal data.

use crate::config::RedactionConfig;
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::SpanData;
use sha2::{Digest, Sha256};
use std::collections::HashSet;

/// Replacement for an e-mail address.
const EMAIL: &str = "[REDACTED:email]";
/// Replacement for a payment card number.
const CARD: &str = "[REDACTED:card]";
/// Replacement for a US social security number.
const SSN: &str = "[REDACTED:ssn]";
/// Replacement used if the scanner ever produced an unusable match: fail closed.
const WHOLE: &str = "[REDACTED]";
/// Prefix of a pseudonymised (hashed) value.
const HASH_PREFIX: &str = "sha256:";

/// Scrubs attribute values of finished spans according to a [`RedactionConfig`].
///
/// Built once per provider with [`Redactor::new`] and shared by the export path; it holds
/// only immutable configuration, so it is `Send + Sync` and needs no locking.
///
/// # E-mail addresses
/// `local@domain` where `local` is one or more letters or digits (any script) or
/// `. _ % + - ! # $ * ^ ~` (the RFC 5322 `atext` set minus `' = / ? & { | }` and backtick,
/// which in logs and URLs delimit the address rather than belong to it), leading dots
/// dropped; and `domain` is two or more dot-separated labels of letters, digits (any script)
/// and inner hyphens, at most 63 characters each, whose last label (the TLD) is at least
/// two letters or an `xn--` punycode label. Quoted local parts and `[ip]` domain literals
/// are not recognised.
///
/// # Card numbers
/// A run of digits in which single spaces or dashes may separate groups. A run (or, if the
/// whole run does not qualify, a contiguous sequence of its groups, leftmost and longest
/// first) holding 13 to 19 digits that passes the Luhn check is a card number. Unseparated
/// runs longer than 19 digits, and digits after or before a decimal point (`3.1415…`), are
/// not. Numbers failing Luhn (order ids, timestamps) are left alone.
///
/// # Social security numbers
/// `AAA-GG-SSSS` with the SSA's validity rules: area not `000`, `666` or `900`–`999`,
/// group not `00`, serial not `0000`; not adjacent to another digit, nor to a dash that
/// continues into digits (so it is not a fragment of a longer dashed number).
///
/// # Hashed keys
/// The value of an attribute whose key is listed in `hash_keys` (exact, case-sensitive
/// match) becomes `sha256:` followed by the first 16 hex digits (64 bits) of the SHA-256 of
/// its UTF-8 text. Non-string values are hashed from their string form (`42`, `true`,
/// `[1,2]`) and become strings; string arrays are hashed element by element.
pub struct Redactor {
    email: bool,
    card: bool,
    ssn: bool,
    hash_keys: HashSet<String>,
}

/// What a match is, in priority order when two matches start at the same place.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Email,
    Ssn,
    Card,
}

impl Kind {
    fn replacement(self) -> &'static str {
        match self {
            Kind::Email => EMAIL,
            Kind::Ssn => SSN,
            Kind::Card => CARD,
        }
    }
}

/// A match: byte range `[start, end)` of the value (always on char boundaries).
#[derive(Clone, Copy, Debug)]
struct Match {
    start: usize,
    end: usize,
    kind: Kind,
}

impl Redactor {
    /// Builds a redactor, or returns `None` when the configuration enables nothing, so the
    /// export path can skip redaction entirely (it is off by default). Empty strings in
    /// `hash_keys` are ignored.
    pub fn new(cfg: &RedactionConfig) -> Option<Redactor> {
        let hash_keys: HashSet<String> = cfg
            .hash_keys
            .iter()
            .filter(|k| !k.is_empty())
            .cloned()
            .collect();
        if !cfg.email && !cfg.card && !cfg.ssn && hash_keys.is_empty() {
            return None;
        }
        Some(Redactor {
            email: cfg.email,
            card: cfg.card,
            ssn: cfg.ssn,
            hash_keys,
        })
    }

    /// Redacts a finished span in place: span, event and link attributes (string values and
    /// string arrays by the pattern rules, listed keys hashed), and by the pattern rules the
    /// span name, event names and the status description (instrumentation puts URLs and
    /// error messages there too). The resource is not touched. What needs no change is not
    /// reallocated.
    pub fn redact_span(&self, span: &mut SpanData) {
        self.redact_text(&mut span.name);
        if let opentelemetry::trace::Status::Error { description } = &mut span.status {
            self.redact_text(description);
        }
        self.redact_attributes(&mut span.attributes);
        for event in span.events.events.iter_mut() {
            self.redact_text(&mut event.name);
            self.redact_attributes(&mut event.attributes);
        }
        for link in span.links.links.iter_mut() {
            self.redact_attributes(&mut link.attributes);
        }
    }

    /// Redacts a queued span record in place, as [`redact_span`](Self::redact_span) does a
    /// `SpanData` (the direct OTLP encoder exports records without building `SpanData`).
    pub(crate) fn redact_record(&self, record: &mut crate::trace::record::SpanRecord) {
        self.redact_text(&mut record.name);
        if let crate::types::Status::Error(description) = &mut record.status {
            if let Some(new) = self.scrub(description) {
                *description = new;
            }
        }
        self.redact_attributes(&mut record.attributes);
        for event in record.events.iter_mut() {
            self.redact_text(&mut event.name);
            self.redact_attributes(&mut event.attributes);
        }
        for link in record.links.iter_mut() {
            self.redact_attributes(&mut link.attributes);
        }
    }

    /// The pattern rules (e-mail, card, SSN) on free text that has no attribute key: a span
    /// name, an event name, a status description.
    fn scrub(&self, text: &str) -> Option<String> {
        self.redact_str("", text)
    }

    fn redact_text(&self, text: &mut std::borrow::Cow<'static, str>) {
        if let Some(new) = self.scrub(text) {
            *text = std::borrow::Cow::Owned(new);
        }
    }

    /// The primitive: returns `Some(new string)` when `value`, the value of attribute `key`,
    /// must change, `None` when it can be exported as is.
    ///
    /// A value with no `@` and fewer than 9 ASCII digits (when its key is not hashed) is
    /// answered `None` after a single byte scan.
    pub fn redact_str(&self, key: &str, value: &str) -> Option<String> {
        if self.hash_keys.contains(key) {
            return Some(pseudonymise(value));
        }
        let mut has_at = false;
        let mut digits = 0usize;
        for &b in value.as_bytes() {
            has_at |= b == b'@';
            digits += usize::from(b.is_ascii_digit());
        }
        let want_email = self.email && has_at;
        let want_ssn = self.ssn && digits >= 9;
        let want_card = self.card && digits >= 13;
        if !want_email && !want_ssn && !want_card {
            return None;
        }
        let mut matches = Vec::new();
        if want_email {
            find_emails(value, &mut matches);
        }
        if want_ssn {
            find_ssns(value.as_bytes(), &mut matches);
        }
        if want_card {
            find_cards(value.as_bytes(), &mut matches);
        }
        if matches.is_empty() {
            return None;
        }
        Some(replace(value, matches))
    }

    fn redact_attributes(&self, attributes: &mut [KeyValue]) {
        for kv in attributes.iter_mut() {
            if let Some(new) = self.redact_value(kv.key.as_str(), &kv.value) {
                kv.value = new;
            }
        }
    }

    /// The new value of one attribute, or `None` to keep it.
    fn redact_value(&self, key: &str, value: &Value) -> Option<Value> {
        match value {
            Value::String(s) => self
                .redact_str(key, s.as_str())
                .map(|new| Value::String(new.into())),
            Value::Array(Array::String(items)) => {
                let mut changed: Option<Vec<StringValue>> = None;
                for (i, item) in items.iter().enumerate() {
                    if let Some(new) = self.redact_str(key, item.as_str()) {
                        let out = changed.get_or_insert_with(|| items.clone());
                        if let Some(slot) = out.get_mut(i) {
                            *slot = new.into();
                        }
                    }
                }
                changed.map(|v| Value::Array(Array::String(v)))
            }
            other if self.hash_keys.contains(key) => {
                Some(Value::String(pseudonymise(&other.as_str()).into()))
            }
            _ => None,
        }
    }
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("email", &self.email)
            .field("card", &self.card)
            .field("ssn", &self.ssn)
            .field("hash_keys", &self.hash_keys.len())
            .finish()
    }
}

/// `sha256:` + the first 16 lowercase hex digits of SHA-256(value).
fn pseudonymise(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(value.as_bytes());
    let mut out = String::with_capacity(HASH_PREFIX.len() + 16);
    out.push_str(HASH_PREFIX);
    for b in digest.iter().take(8) {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

/// Rebuilds `value` with every match replaced. Overlapping matches are merged into one
/// (labelled by the earliest, highest-priority one), so nothing covered by any match
/// survives.
fn replace(value: &str, mut matches: Vec<Match>) -> String {
    matches.sort_by_key(|m| (m.start, m.kind));
    let mut merged: Vec<Match> = Vec::with_capacity(matches.len());
    for m in matches {
        match merged.last_mut() {
            Some(last) if m.start < last.end => last.end = last.end.max(m.end),
            _ => merged.push(m),
        }
    }
    let mut out = String::with_capacity(value.len());
    let mut cursor = 0;
    for m in merged {
        match (value.get(cursor..m.start), m.end <= value.len()) {
            (Some(before), true) => {
                out.push_str(before);
                out.push_str(m.kind.replacement());
                cursor = m.end;
            }
            // Unreachable by construction (matches are in order, on char boundaries);
            // fail closed rather than export a half-redacted value.
            _ => return WHOLE.to_string(),
        }
    }
    match value.get(cursor..) {
        Some(rest) => out.push_str(rest),
        None => return WHOLE.to_string(),
    }
    out
}

// ---------------------------------------------------------------------------------------
// E-mail

fn is_local_char(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(
            c,
            '.' | '_' | '%' | '+' | '-' | '!' | '#' | '$' | '*' | '^' | '~'
        )
}

fn is_label_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-'
}

/// Finds every e-mail address in `s`. Linear: each character is looked at a bounded number
/// of times, because local parts cannot contain `@` and the scan restarts after a match.
fn find_emails(s: &str, out: &mut Vec<Match>) {
    let bytes = s.as_bytes();
    // No match may start before `floor` (the end of the previous match).
    let mut floor = 0;
    let mut from = 0;
    while let Some(rel) = bytes
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| b == b'@'))
    {
        let at = from + rel;
        from = at + 1;
        let Some(head) = s.get(floor..at) else {
            continue;
        };
        let mut start = at;
        for (i, c) in head.char_indices().rev() {
            if !is_local_char(c) {
                break;
            }
            start = floor + i;
        }
        while start < at && bytes.get(start) == Some(&b'.') {
            start += 1;
        }
        if start == at {
            continue;
        }
        if let Some(end) = domain_end(s, at + 1) {
            out.push(Match {
                start,
                end,
                kind: Kind::Email,
            });
            floor = end;
            from = end;
        }
    }
}

/// Parses a domain starting at byte `from` and returns the end of the longest prefix that is
/// a valid domain (two or more valid labels, last one a TLD), if any.
fn domain_end(s: &str, from: usize) -> Option<usize> {
    let rest = s.get(from..)?;
    let mut best = None;
    let mut labels = 0usize;
    let mut chars = rest.char_indices().peekable();
    loop {
        // One label.
        let label_start = chars.peek().map(|&(i, _)| i)?;
        let mut label_end = label_start;
        let mut len = 0usize;
        let (mut first, mut last) = ('\0', '\0');
        while let Some(&(i, c)) = chars.peek() {
            if !is_label_char(c) {
                break;
            }
            if len == 0 {
                first = c;
            }
            last = c;
            len += 1;
            label_end = i + c.len_utf8();
            chars.next();
        }
        if len == 0 || len > 63 || first == '-' || last == '-' {
            return best;
        }
        labels += 1;
        let label = rest.get(label_start..label_end)?;
        if labels >= 2 && is_tld(label) {
            best = Some(from + label_end);
        }
        // Continue only over a single dot followed by another label.
        let mut lookahead = chars.clone();
        match (lookahead.next(), lookahead.peek()) {
            (Some((_, '.')), Some(&(_, c))) if c.is_alphanumeric() => {
                chars.next();
            }
            _ => return best,
        }
    }
}

fn is_tld(label: &str) -> bool {
    let ascii_punycode = label.len() > 4
        && label
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("xn--"))
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ascii_punycode || (label.chars().count() >= 2 && label.chars().all(char::is_alphabetic))
}

// ---------------------------------------------------------------------------------------
// Social security numbers

fn digit_at(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_digit)
}

/// Finds `AAA-GG-SSSS` with SSA-valid parts, not glued to other digits.
fn find_ssns(b: &[u8], out: &mut Vec<Match>) {
    const SHAPE: &[u8; 11] = b"ddd-dd-dddd";
    let mut i = 0;
    while i + SHAPE.len() <= b.len() {
        let end = i + SHAPE.len();
        let shaped = SHAPE.iter().enumerate().all(|(k, &s)| match s {
            b'd' => digit_at(b, i + k),
            _ => b.get(i + k) == Some(&b'-'),
        });
        let clear_before = i == 0
            || !(digit_at(b, i - 1)
                || (b.get(i - 1) == Some(&b'-') && i >= 2 && digit_at(b, i - 2)));
        let clear_after =
            !(digit_at(b, end) || (b.get(end) == Some(&b'-') && digit_at(b, end + 1)));
        if shaped && clear_before && clear_after && ssn_valid(&b[i..end]) {
            out.push(Match {
                start: i,
                end,
                kind: Kind::Ssn,
            });
            i = end;
        } else {
            i += 1;
        }
    }
}

/// SSA rules on an 11-byte `AAA-GG-SSSS` (already known to be digits and dashes).
fn ssn_valid(s: &[u8]) -> bool {
    let num = |r: std::ops::Range<usize>| {
        s.get(r).map(|d| {
            d.iter()
                .fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0'))
        })
    };
    match (num(0..3), num(4..6), num(7..11)) {
        (Some(area), Some(group), Some(serial)) => {
            area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// Card numbers

/// Finds Luhn-valid 13–19 digit numbers, optionally grouped by single spaces or dashes.
fn find_cards(b: &[u8], out: &mut Vec<Match>) {
    // Digit groups of the current run, as byte ranges.
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !digit_at(b, i) {
            i += 1;
            continue;
        }
        groups.clear();
        let run_start = i;
        loop {
            let g_start = i;
            while digit_at(b, i) {
                i += 1;
            }
            groups.push((g_start, i));
            if matches!(b.get(i), Some(b' ' | b'-')) && digit_at(b, i + 1) {
                i += 1;
            } else {
                break;
            }
        }
        let run_end = i;
        let decimal_before =
            run_start >= 2 && b.get(run_start - 1) == Some(&b'.') && digit_at(b, run_start - 2);
        let decimal_after = b.get(run_end) == Some(&b'.') && digit_at(b, run_end + 1);
        if !decimal_before && !decimal_after {
            card_windows(b, &groups, out);
        }
    }
}

/// Within one run, takes windows of whole groups (leftmost start, then longest) that hold
/// 13–19 digits and pass Luhn.
fn card_windows(b: &[u8], groups: &[(usize, usize)], out: &mut Vec<Match>) {
    let mut first = 0;
    while first < groups.len() {
        let mut digits = 0;
        let mut found = None;
        for (last, &(s, e)) in groups.iter().enumerate().skip(first) {
            digits += e - s;
            if digits > 19 {
                break;
            }
            if digits >= 13 && groups.get(first..=last).is_some_and(|w| luhn(b, w)) {
                found = Some(last);
            }
        }
        match (found, groups.get(first)) {
            (Some(last), Some(&(start, _))) => {
                if let Some(&(_, end)) = groups.get(last) {
                    out.push(Match {
                        start,
                        end,
                        kind: Kind::Card,
                    });
                }
                first = last + 1;
            }
            _ => first += 1,
        }
    }
}

/// The Luhn check over the digits of `groups`, rightmost digit first.
fn luhn(b: &[u8], groups: &[(usize, usize)]) -> bool {
    let mut sum = 0u32;
    let mut double = false;
    for &(s, e) in groups.iter().rev() {
        for &c in b.get(s..e).unwrap_or(&[]).iter().rev() {
            let mut d = u32::from(c - b'0');
            if double {
                d *= 2;
                if d > 9 {
                    d -= 9;
                }
            }
            sum += d;
            double = !double;
        }
    }
    sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{
        Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
    };
    use opentelemetry::InstrumentationScope;
    use std::borrow::Cow;
    use std::time::SystemTime;

    fn all() -> Redactor {
        Redactor::new(&RedactionConfig {
            email: true,
            card: true,
            ssn: true,
            hash_keys: vec!["user.id".into(), "enduser.id".into(), "tags".into()],
        })
        .unwrap()
    }

    fn r(s: &str) -> String {
        all().redact_str("k", s).unwrap_or_else(|| s.to_string())
    }

    #[test]
    fn off_by_default() {
        assert!(Redactor::new(&RedactionConfig::default()).is_none());
        let only_empty_key = RedactionConfig {
            hash_keys: vec![String::new()],
            ..RedactionConfig::default()
        };
        assert!(Redactor::new(&only_empty_key).is_none());
        let hash_only = RedactionConfig {
            hash_keys: vec!["user.id".into()],
            ..RedactionConfig::default()
        };
        let h = Redactor::new(&hash_only).unwrap();
        assert_eq!(h.redact_str("other", "bob@example.com"), None);
        assert!(h.redact_str("user.id", "bob").is_some());
    }

    #[test]
    fn fast_path_returns_none() {
        let red = all();
        for s in [
            "",
            "GET /api/v1/orders/12345678",
            "hello wörld ✓",
            "12345678",
            "a.b.c",
        ] {
            assert_eq!(red.redact_str("http.url", s), None, "{s}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(r("bob@example.com"), EMAIL);
        assert_eq!(
            r("contact: Bob.Smith+tag@mail.example.co.uk, thanks."),
            format!("contact: {EMAIL}, thanks.")
        );
        assert_eq!(
            r("<a@b.io> and (c_d-e%f@x-y.org)"),
            format!("<{EMAIL}> and ({EMAIL})")
        );
        assert_eq!(
            r("mailto:bob@example.com?subject=x"),
            format!("mailto:{EMAIL}?subject=x")
        );
        assert_eq!(
            r("https://x.io/?email=bob@example.com&y=1"),
            format!("https://x.io/?email={EMAIL}&y=1")
        );
        assert_eq!(r("'bob@example.com'"), format!("'{EMAIL}'"));
        assert_eq!(
            r("end of sentence bob@example.com."),
            format!("end of sentence {EMAIL}.")
        );
        assert_eq!(r("..bob@example.com"), format!("..{EMAIL}"));
        // Unicode around and inside.
        assert_eq!(
            r("Grüße an josé.garcía@exämple.es — danke"),
            format!("Grüße an {EMAIL} — danke")
        );
        assert_eq!(r("用户@例子.广告 ok"), format!("{EMAIL} ok"));
        assert_eq!(r("x@xn--p1ai.xn--p1ai"), EMAIL);
        // Multiple, adjacent, and chained @.
        assert_eq!(
            r("a@b.cd,e@f.gh;i@j.kl"),
            format!("{EMAIL},{EMAIL};{EMAIL}")
        );
        assert_eq!(r("a@b@c.com"), format!("a@{EMAIL}"));
        // TLD backs off to the last valid prefix.
        assert_eq!(r("a@b.com.123 x"), format!("{EMAIL}.123 x"));
    }

    #[test]
    fn email_negatives() {
        let red = all();
        for s in [
            "@example.com",
            "bob@",
            "bob@localhost",
            "bob@example.c",
            "bob@example.123",
            "bob@-example.com",
            "bob@example-.com",
            "bob@.example.com",
            "bob@example..com",
            "user @ example.com",
            "@@",
            "price: 3 @ $4",
            "@handle on twitter",
        ] {
            assert_eq!(red.redact_str("k", s), None, "{s}");
        }
    }

    #[test]
    fn cards() {
        // Classic test numbers (all Luhn-valid).
        assert_eq!(r("4111111111111111"), CARD);
        assert_eq!(
            r("card 4111 1111 1111 1111 exp 12/25"),
            format!("card {CARD} exp 12/25")
        );
        assert_eq!(r("5500-0000-0000-0004"), CARD);
        assert_eq!(r("amex 3782 822463 10005."), format!("amex {CARD}."));
        assert_eq!(
            r("4222222222222 (13 digits)"),
            format!("{CARD} (13 digits)")
        );
        assert_eq!(
            r("6011000990139424;4012888888881881"),
            format!("{CARD};{CARD}")
        );
        // 19 digits.
        assert_eq!(r("6304000000000000000 x"), format!("{CARD} x"));
        // A card followed by another group: the window finds the card.
        assert_eq!(r("4111111111111111 12"), format!("{CARD} 12"));
        assert_eq!(
            r("paid with 4111111111111111, thanks ✓"),
            format!("paid with {CARD}, thanks ✓")
        );
        assert_eq!(r("id=x4111111111111111"), format!("id=x{CARD}"));
    }

    #[test]
    fn card_negatives() {
        let red = all();
        for s in [
            "4111111111111112",        // Luhn fails
            "order 1234567890123",     // 13 digits, Luhn fails
            "4111 1111 1111 1112",     // grouped, Luhn fails
            "41111111111111111111111", // too long, unseparated
            "411111111111",            // 12 digits
            "4111  1111  1111  1111",  // double separators: groups of 4
            "4111_1111_1111_1111",     // underscore is not a separator
            "pi=3.4111111111111111",   // decimals
            "4111111111111111.5",
            "ts 1700000000123456789", // 19 digits, Luhn fails
        ] {
            assert_eq!(red.redact_str("k", s), None, "{s}");
        }
    }

    #[test]
    fn ssns() {
        assert_eq!(r("123-45-6789"), SSN);
        assert_eq!(
            r("SSN: 078-05-1120; other 899-99-9999"),
            format!("SSN: {SSN}; other {SSN}")
        );
        assert_eq!(r("né 123-45-6789 à Paris"), format!("né {SSN} à Paris"));
        assert_eq!(r("(123-45-6789)"), format!("({SSN})"));
    }

    #[test]
    fn ssn_negatives() {
        let red = all();
        for s in [
            "000-12-3456", // area 000
            "666-12-3456", // area 666
            "900-12-3456", // area 9xx
            "999-12-3456",
            "123-00-4567",  // group 00
            "123-45-0000",  // serial 0000
            "1123-45-6789", // longer digit run
            "123-45-67890",
            "9-123-45-6789", // part of a dashed number
            "123-45-6789-1",
            "123456789", // no dashes
            "123 45 6789",
            "12-345-6789",
        ] {
            assert_eq!(red.redact_str("k", s), None, "{s}");
        }
    }

    #[test]
    fn mixed_and_disabled_rules() {
        let s = "bob@example.com paid 4111 1111 1111 1111, ssn 123-45-6789";
        assert_eq!(r(s), format!("{EMAIL} paid {CARD}, ssn {SSN}"));
        let email_only = Redactor::new(&RedactionConfig {
            email: true,
            ..RedactionConfig::default()
        })
        .unwrap();
        assert_eq!(
            email_only.redact_str("k", s),
            Some(format!("{EMAIL} paid 4111 1111 1111 1111, ssn 123-45-6789"))
        );
        let card_only = Redactor::new(&RedactionConfig {
            card: true,
            ..RedactionConfig::default()
        })
        .unwrap();
        assert_eq!(card_only.redact_str("k", "123-45-6789"), None);
        // Overlaps merge: digits inside an e-mail are part of the e-mail.
        assert_eq!(r("4111111111111111@cards.example.com"), EMAIL);
    }

    #[test]
    fn hashing() {
        let red = all();
        let a = red.redact_str("user.id", "alice").unwrap();
        // sha256("alice") = 2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90
        assert_eq!(a, "sha256:2bd806c97f0e00af");
        assert_eq!(
            red.redact_str("user.id", "alice").unwrap(),
            a,
            "deterministic"
        );
        assert_ne!(red.redact_str("user.id", "bob").unwrap(), a);
        // Exact, case-sensitive key match; hashing wins over pattern rules.
        assert_eq!(red.redact_str("User.Id", "alice"), None);
        assert!(red
            .redact_str("user.id", "bob@example.com")
            .unwrap()
            .starts_with(HASH_PREFIX));
        assert_eq!(
            red.redact_str("user.id", "").unwrap(),
            "sha256:e3b0c44298fc1c14"
        );
    }

    #[test]
    fn values_and_arrays() {
        let red = all();
        let v = |s: &'static str| Value::String(s.into());
        assert_eq!(red.redact_value("k", &v("plain")), None);
        assert_eq!(red.redact_value("k", &v("a@b.cd")), Some(v(EMAIL)));
        let arr = Value::Array(Array::String(vec![
            "ok".into(),
            "a@b.cd".into(),
            "123-45-6789".into(),
        ]));
        assert_eq!(
            red.redact_value("k", &arr),
            Some(Value::Array(Array::String(vec![
                "ok".into(),
                EMAIL.into(),
                SSN.into()
            ])))
        );
        let clean = Value::Array(Array::String(vec!["ok".into()]));
        assert_eq!(red.redact_value("k", &clean), None);
        // Non-string values are left alone ...
        assert_eq!(red.redact_value("k", &Value::I64(4111111111111111)), None);
        assert_eq!(
            red.redact_value("k", &Value::Array(Array::I64(vec![1, 2]))),
            None
        );
        // ... except under a hashed key, where their string form is hashed.
        assert_eq!(
            red.redact_value("user.id", &Value::I64(42)),
            Some(Value::String(pseudonymise("42").into()))
        );
        assert_eq!(
            red.redact_value("user.id", &Value::Bool(true)),
            Some(Value::String(pseudonymise("true").into()))
        );
        assert_eq!(
            red.redact_value("user.id", &Value::Array(Array::I64(vec![1, 2]))),
            Some(Value::String(pseudonymise("[1,2]").into()))
        );
        // String arrays under a hashed key: element-wise.
        assert_eq!(
            red.redact_value(
                "tags",
                &Value::Array(Array::String(vec!["a".into(), "b".into()]))
            ),
            Some(Value::Array(Array::String(vec![
                pseudonymise("a").into(),
                pseudonymise("b").into()
            ])))
        );
    }

    fn span_context(n: u8) -> SpanContext {
        SpanContext::new(
            TraceId::from_bytes([n; 16]),
            SpanId::from_bytes([n; 8]),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        )
    }

    #[test]
    fn span_data_attributes_events_and_links() {
        let mut events = opentelemetry_sdk::trace::SpanEvents::default();
        events.events.push(Event::new(
            "exception",
            SystemTime::UNIX_EPOCH,
            vec![
                KeyValue::new("exception.message", "no account for bob@example.com"),
                KeyValue::new("retries", 3i64),
            ],
            0,
        ));
        let mut links = opentelemetry_sdk::trace::SpanLinks::default();
        links.links.push(Link::new(
            span_context(2),
            vec![
                KeyValue::new("note", "ssn 123-45-6789"),
                KeyValue::new("user.id", "alice"),
            ],
            0,
        ));
        let mut span = SpanData {
            span_context: span_context(1),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Server,
            name: Cow::Borrowed("POST /pay"),
            start_time: SystemTime::UNIX_EPOCH,
            end_time: SystemTime::UNIX_EPOCH,
            attributes: vec![
                KeyValue::new("http.route", "/pay"),
                KeyValue::new("payment.card", "4111-1111-1111-1111"),
                KeyValue::new("enduser.id", 1234i64),
                KeyValue::new(
                    "emails",
                    Value::Array(Array::String(vec!["x@y.zz".into(), "none".into()])),
                ),
            ],
            dropped_attributes_count: 0,
            events,
            links,
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("test").build(),
        };
        let before = span.clone();
        all().redact_span(&mut span);

        let attr = |kvs: &[KeyValue], k: &str| {
            kvs.iter()
                .find(|kv| kv.key.as_str() == k)
                .map(|kv| kv.value.clone())
                .unwrap()
        };
        assert_eq!(attr(&span.attributes, "http.route"), Value::from("/pay"));
        assert_eq!(attr(&span.attributes, "payment.card"), Value::from(CARD));
        assert_eq!(
            attr(&span.attributes, "enduser.id"),
            Value::from(pseudonymise("1234"))
        );
        assert_eq!(
            attr(&span.attributes, "emails"),
            Value::Array(Array::String(vec![EMAIL.into(), "none".into()]))
        );
        let ev = &span.events.events[0].attributes;
        assert_eq!(
            attr(ev, "exception.message"),
            Value::from(format!("no account for {EMAIL}"))
        );
        assert_eq!(attr(ev, "retries"), Value::I64(3));
        let link = &span.links.links[0].attributes;
        assert_eq!(attr(link, "note"), Value::from(format!("ssn {SSN}")));
        assert_eq!(
            attr(link, "user.id"),
            Value::from("sha256:2bd806c97f0e00af")
        );
        // Everything else is untouched.
        assert_eq!(span.name, before.name);
        assert_eq!(span.span_context, before.span_context);
        assert_eq!(span.attributes.len(), before.attributes.len());
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Redactor>();
        check::<crate::trace::sampler::Sampler>();
    }

    #[test]
    fn linear_on_pathological_input() {
        let red = all();
        let long = "a".repeat(100_000) + &"@".repeat(100_000) + &"1-".repeat(50_000);
        let start = std::time::Instant::now();
        let _ = red.redact_str("k", &long);
        let chained = "a@".repeat(100_000);
        let _ = red.redact_str("k", &chained);
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }
}
