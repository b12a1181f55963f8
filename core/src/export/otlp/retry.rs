//! Retrying a request the way the OTLP specification asks: on the retryable responses only,
//! with exponential back-off and jitter (or after the delay the server asks for), every
//! attempt and all of them together bounded by the export deadline — and, once a shutdown
//! began, by its deadline ([`crate::export::drain`]): then only a back end that answered
//! "retry" is retried, and only when the wait fits.

use crate::export::drain::{self, Drain};
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::watch;

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
        /// The back end answered (a retryable status). `false`: no answer at all — refused,
        /// reset, unreachable, a TLS failure other than a rejection ([`tls_rejection`]),
        /// nothing within the attempt's time — which is
        /// not retried once a shutdown began.
        answered: bool,
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

/// The TLS error behind a failed request when it is one that retrying cannot mend: the
/// certificate was rejected (by this side or, through an alert, by the server), the peers have
/// no protocol in common, or the other end does not speak TLS. Such an export fails at once
/// instead of being retried until the export timeout — a flush or a shutdown against a back
/// end with the wrong CA returns within one attempt. `None` for everything else (refused,
/// reset, timed out), which stays retryable.
fn tls_rejection<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return permanent_tls(tls).then_some(tls);
        }
        // `io::Error::source` skips the error it wraps (it returns that error's source), and
        // tokio-rustls hands the handshake's `rustls::Error` over inside an `io::Error`.
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            let inner: &(dyn std::error::Error + 'static) = inner;
            if let Some(tls) = tls_rejection(inner) {
                return Some(tls);
            }
        }
        next = e.source();
    }
    None
}

/// What an attempt that failed with `err` comes to when its handshake was rejected
/// ([`tls_rejection`]): a permanent failure, logged once per process with what to fix — unlike
/// a refused connection it will not pass by itself, and another export failure may have taken
/// the "export failed" log line already. `None`: not a TLS rejection, the caller decides.
pub(super) fn tls_failure(err: &(dyn std::error::Error + 'static)) -> Option<Attempt> {
    let why = format!("TLS handshake failed: {}", tls_rejection(err)?);
    crate::diag::emit_once(
        crate::diag::Level::Error,
        "export-tls-rejected",
        &format!(
            "{why}; exports are not retried and fail until the endpoint or the certificate options (OTEL_EXPORTER_OTLP_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_KEY) are fixed; their spans are counted in stats().dropped_export_failed"
        ),
    );
    Some(Attempt::Fail(why))
}

fn permanent_tls(e: &rustls::Error) -> bool {
    use rustls::AlertDescription as A;
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(_)
        | E::NoCertificatesPresented
        | E::UnsupportedNameType
        | E::PeerIncompatible(_)
        | E::NoApplicationProtocol
        | E::InvalidMessage(_) => true,
        E::AlertReceived(alert) => matches!(
            alert,
            A::HandshakeFailure
                | A::BadCertificate
                | A::UnsupportedCertificate
                | A::CertificateRevoked
                | A::CertificateExpired
                | A::CertificateUnknown
                | A::UnknownCA
                | A::AccessDenied
                | A::ProtocolVersion
                | A::InsufficientSecurity
                | A::CertificateRequired
                | A::NoApplicationProtocol
        ),
        _ => false,
    }
}

/// A random jitter in `[0, max]`.
fn jitter(max: Duration) -> Duration {
    let ms = max.as_millis() as u64;
    Duration::from_millis(crate::trace::ids::next_u64() % (ms + 1))
}

/// Sends one request until it is accepted, fails permanently, or the next attempt could not
/// finish before `deadline` (or the shutdown's deadline, once `drain` says one began; what
/// that deadline stops is noted with [`Drain::cut`]). Each attempt is bounded by
/// `attempt_timeout`.
pub(super) async fn deliver<F, A>(
    mut attempt: F,
    attempt_timeout: Duration,
    deadline: Instant,
    shutdown: &Drain,
) -> std::result::Result<(u64, String), String>
where
    F: FnMut() -> A,
    A: Future<Output = Attempt>,
{
    let mut drain = shutdown.watch();
    let mut backoff = INITIAL_BACKOFF;
    loop {
        let draining = *drain.borrow_and_update();
        let deadline = draining.map_or(deadline, |d| d.min(deadline));
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(if draining.is_some() {
                shutdown.cut();
                "not delivered by the shutdown deadline".into()
            } else {
                "the export timeout elapsed".into()
            });
        }
        let limit = attempt_timeout.min(remaining);
        let (outcome, cut) = bounded(attempt(), Instant::now() + limit, &mut drain).await;
        if cut {
            shutdown.cut();
            return Err("not answered by the shutdown deadline".into());
        }
        match outcome {
            Attempt::Accepted { rejected, message } => return Ok((rejected, message)),
            Attempt::Fail(why) => return Err(why),
            Attempt::Retry {
                after,
                why,
                answered,
            } => {
                let draining = *drain.borrow_and_update();
                if draining.is_some() && !answered {
                    return Err(format!(
                        "{why} (not retried: shutting down, and the back end did not answer)"
                    ));
                }
                let deadline = draining.map_or(deadline, |d| d.min(deadline));
                // The server's delay when it gave one, but never less than the back-off (a
                // `Retry-After: 0` must not turn into a tight loop).
                let own = backoff + jitter(backoff / 2);
                backoff = (backoff * 2).min(MAX_BACKOFF);
                let wait = after.map_or(own, |d| d.max(own));
                if Instant::now()
                    .checked_add(wait)
                    .is_none_or(|resume| resume >= deadline)
                {
                    if draining.is_some() {
                        shutdown.cut();
                    }
                    return Err(format!(
                        "{why} (not retried: the {} ends within the {wait:?} wait)",
                        if draining.is_some() {
                            "shutdown deadline"
                        } else {
                            "export timeout"
                        }
                    ));
                }
                if draining.is_some() {
                    tokio::time::sleep(wait).await;
                } else {
                    // A shutdown that begins during the wait ends it: one last attempt at once.
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        _ = drain::started(&mut drain) => {}
                    }
                }
            }
        }
    }
}

/// Runs one attempt until `until`, or the shutdown's deadline if one begins earlier; `true`
/// when the shutdown's deadline cut it.
async fn bounded<A>(
    attempt: A,
    until: Instant,
    drain: &mut watch::Receiver<Option<Instant>>,
) -> (Attempt, bool)
where
    A: Future<Output = Attempt>,
{
    let started = Instant::now();
    let mut until = until;
    let mut by_shutdown = drain.borrow().is_some_and(|d| d <= until);
    if by_shutdown {
        until = drain.borrow().unwrap_or(until);
    }
    let mut attempt = std::pin::pin!(attempt);
    let mut watching = true;
    loop {
        tokio::select! {
            a = &mut attempt => return (a, false),
            () = tokio::time::sleep_until(until.into()) => {
                let a = Attempt::Retry {
                    after: None,
                    why: format!("no answer within {:?}", until.saturating_duration_since(started)),
                    answered: false,
                };
                return (a, by_shutdown);
            }
            changed = drain.changed(), if watching => match changed {
                Ok(()) => {
                    if let Some(d) = *drain.borrow_and_update() {
                        if d <= until {
                            until = d;
                            by_shutdown = true;
                        }
                    }
                }
                Err(_) => watching = false,
            },
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

    /// An error with a source, as the HTTP and gRPC clients nest them.
    #[derive(Debug)]
    struct Wrapped(Box<dyn std::error::Error + Send + Sync>);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("request failed")
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&*self.0)
        }
    }

    /// `err` as tokio-rustls reports a handshake's failure (inside an `io::Error`), under two
    /// layers of the clients' own errors.
    fn nested(err: rustls::Error) -> Wrapped {
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, err);
        Wrapped(Box::new(Wrapped(Box::new(io))))
    }

    #[test]
    fn certificate_and_handshake_rejections_are_permanent() {
        use rustls::{AlertDescription as A, CertificateError as C, Error as E};
        for err in [
            E::InvalidCertificate(C::UnknownIssuer),
            E::InvalidCertificate(C::Expired),
            E::InvalidCertificate(C::NotValidForName),
            E::NoCertificatesPresented,
            E::AlertReceived(A::CertificateRequired),
            E::AlertReceived(A::UnknownCA),
            E::AlertReceived(A::BadCertificate),
            E::AlertReceived(A::HandshakeFailure),
            E::PeerIncompatible(rustls::PeerIncompatible::NoCipherSuitesInCommon),
        ] {
            let why = err.to_string();
            let found = tls_rejection(&nested(err)).map(|e| e.to_string());
            assert_eq!(found, Some(why));
        }
        // Not at the TLS layer, or a TLS failure a new connection may not meet again.
        for err in [
            E::AlertReceived(A::CloseNotify),
            E::DecryptError,
            E::General("x".into()),
        ] {
            assert_eq!(tls_rejection(&nested(err)), None);
        }
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(tls_rejection(&Wrapped(Box::new(refused))), None);
        let plain = std::io::Error::other("reset by peer");
        assert_eq!(tls_rejection(&Wrapped(Box::new(plain))), None);
    }

    #[test]
    fn jitter_is_bounded() {
        for _ in 0..1000 {
            assert!(jitter(Duration::from_millis(50)) <= Duration::from_millis(50));
        }
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
    }
}
