//! Retrying a request the way the OTLP specification asks: on the retryable responses only,
//! with exponential back-off and jitter (or after the delay the server asks for), every
//! attempt and all of them together bounded by the export deadline.

use std::future::Future;
use std::time::{Duration, Instant};

/// First back-off delay; doubled per retry up to [`MAX_BACKOFF`], plus up to half of it as
/// jitter.
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What one attempt came to.
#[derive(Debug, PartialEq)]
pub(super) enum Attempt {
    /// Accepted; the number of spans the back end says it rejected (partial success).
    Accepted { rejected: u64, message: String },
    /// Worth retrying, after the server's delay when it gave one.
    Retry {
        after: Option<Duration>,
        why: String,
    },
    /// Permanent failure.
    Fail(String),
}

/// `Retry-After` in seconds (the form OTLP receivers send) or as an HTTP date.
pub(super) fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = parse_http_date(v)?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form HTTP/1.1 senders must use.
fn parse_http_date(v: &str) -> Option<std::time::SystemTime> {
    let mut it = v.split_whitespace();
    let _weekday = it.next()?;
    let day: u64 = it.next()?.parse().ok()?;
    let month = match it.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = it.next()?.parse().ok()?;
    if !(1970..=9999).contains(&year) {
        return None;
    }
    let mut hms = it.next()?.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if it.next()? != "GMT" || day == 0 || day > 31 || h > 23 || m > 59 || s > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days).ok()? * 86_400 + h * 3600 + m * 60 + s;
    Some(std::time::UNIX_EPOCH + Duration::from_secs(secs))
}

/// A random jitter in `[0, max]`.
fn jitter(max: Duration) -> Duration {
    let ms = max.as_millis() as u64;
    Duration::from_millis(crate::trace::ids::next_u64() % (ms + 1))
}

/// Sends one request until it is accepted, fails permanently, or the next attempt could not
/// finish before `deadline`. Each attempt is bounded by `attempt_timeout`.
pub(super) async fn deliver<F, A>(
    mut attempt: F,
    attempt_timeout: Duration,
    deadline: Instant,
) -> std::result::Result<(u64, String), String>
where
    F: FnMut() -> A,
    A: Future<Output = Attempt>,
{
    let mut backoff = INITIAL_BACKOFF;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err("the export timeout elapsed".into());
        }
        let limit = attempt_timeout.min(remaining);
        let outcome = match tokio::time::timeout(limit, attempt()).await {
            Ok(a) => a,
            Err(_) => Attempt::Retry {
                after: None,
                why: format!("no answer within {limit:?}"),
            },
        };
        match outcome {
            Attempt::Accepted { rejected, message } => return Ok((rejected, message)),
            Attempt::Fail(why) => return Err(why),
            Attempt::Retry { after, why } => {
                // The server's delay when it gave one, but never less than the back-off (a
                // `Retry-After: 0` must not turn into a tight loop).
                let own = backoff + jitter(backoff / 2);
                backoff = (backoff * 2).min(MAX_BACKOFF);
                let wait = after.map_or(own, |d| d.max(own));
                if Instant::now()
                    .checked_add(wait)
                    .is_none_or(|resume| resume >= deadline)
                {
                    return Err(format!(
                        "{why} (not retried: the export timeout ends within the {wait:?} wait)"
                    ));
                }
                tokio::time::sleep(wait).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(std::time::UNIX_EPOCH + Duration::from_secs(784_111_777))
        );
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 PST"), None);
        assert_eq!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
        assert_eq!(
            parse_http_date("Sun, 06 Nov 9223372036854775807 08:49:37 GMT"),
            None
        );
        assert_eq!(
            parse_retry_after("18446744073709551615"),
            Some(Duration::from_secs(u64::MAX))
        );
        // A date in the past means "now".
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn jitter_is_bounded() {
        for _ in 0..1000 {
            assert!(jitter(Duration::from_millis(50)) <= Duration::from_millis(50));
        }
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
    }
}
