//! Bounds how long a call may take: the API's timeout, shortened (never lengthened) by a client's
//! `grpc-timeout` or `X-Timeout`. The invoker sends what is left to the backend as `grpc-timeout`.

use std::time::Duration;

use async_trait::async_trait;

use super::{Interceptor, Next};
use crate::access::{Exchange, Reply};
use crate::error::{ErrorKind, GatewayError};

pub struct Deadline {
    /// The API's limit.
    pub limit: Duration,
}

#[async_trait]
impl Interceptor for Deadline {
    async fn intercept(
        &self,
        mut exchange: Exchange,
        next: Next<'_>,
    ) -> Result<Reply, GatewayError> {
        let asked = client_timeout(&exchange)?;
        let timeout = asked.map_or(self.limit, |asked| asked.min(self.limit));
        exchange.timeout = Some(timeout);
        match tokio::time::timeout(timeout, next.run(exchange)).await {
            Ok(result) => result,
            Err(_) => Err(GatewayError::new(
                ErrorKind::DeadlineExceeded,
                format!(
                    "the call did not finish within {}",
                    crate::error::readable(timeout)
                ),
            )),
        }
    }
}

/// The client's wish, if any. A malformed value is the client's mistake: 400, not silently ignored.
fn client_timeout(exchange: &Exchange) -> Result<Option<Duration>, GatewayError> {
    if let Some(value) = exchange.header("grpc-timeout") {
        return parse_grpc_timeout(value).map(Some).ok_or_else(|| {
            GatewayError::invalid_argument(format!("malformed grpc-timeout `{value}`"))
        });
    }
    if let Some(value) = exchange.header("x-timeout") {
        return parse_x_timeout(value).map(Some).ok_or_else(|| {
            GatewayError::invalid_argument(format!(
                "malformed X-Timeout `{value}`: use milliseconds or a duration like 250ms or 2s"
            ))
        });
    }
    Ok(None)
}

/// `grpc-timeout`: at most 8 digits and a unit (H, M, S, m, u, n), per the gRPC HTTP/2 spec.
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// `X-Timeout`: a bare number of milliseconds, or a duration with a unit (`250ms`, `2s`).
fn parse_x_timeout(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(millis) = value.parse::<u64>() {
        return Some(Duration::from_millis(millis));
    }
    humantime::parse_duration(value).ok()
}

/// Formats a duration as `grpc-timeout`, rounding up to the coarsest unit that keeps 8 digits.
pub fn format_grpc_timeout(timeout: Duration) -> String {
    let nanos = timeout.as_nanos();
    for (unit, per) in [
        ("n", 1u128),
        ("u", 1_000),
        ("m", 1_000_000),
        ("S", 1_000_000_000),
    ] {
        let amount = nanos.div_ceil(per);
        if amount < 100_000_000 {
            return format!("{amount}{unit}");
        }
    }
    format!("{}M", nanos.div_ceil(60_000_000_000).min(99_999_999))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse_by_the_spec() {
        let cases = [
            ("1H", Some(Duration::from_secs(3600))),
            ("2M", Some(Duration::from_secs(120))),
            ("3S", Some(Duration::from_secs(3))),
            ("250m", Some(Duration::from_millis(250))),
            ("7u", Some(Duration::from_micros(7))),
            ("9n", Some(Duration::from_nanos(9))),
            ("123456789m", None),
            ("10", None),
            ("m", None),
            ("-1S", None),
            ("1x", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_grpc_timeout(text), want, "{text}");
        }
    }

    #[test]
    fn x_timeout_takes_millis_or_units() {
        assert_eq!(parse_x_timeout("1500"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_x_timeout("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_x_timeout("soon"), None);
    }

    #[test]
    fn formatted_timeouts_parse_back_without_shrinking() {
        for timeout in [
            Duration::from_nanos(1),
            Duration::from_millis(1500),
            Duration::from_secs(86_400),
        ] {
            let back = parse_grpc_timeout(&format_grpc_timeout(timeout)).expect("parses");
            assert!(back >= timeout, "{timeout:?} became {back:?}");
        }
    }
}
