//! `Exchange`: one request as every layer after access sees it, parsed once.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, Method, Request};
use http_body_util::BodyExt;

use super::client_ip::TrustedProxies;
use super::identity::Identity;
use crate::error::{ErrorKind, GatewayError};

/// A request in flight. The body is read lazily, so requests refused before mapping (no route, later auth)
/// never pay for it.
pub struct Exchange {
    /// Set by the request-id interceptor before anything else runs.
    pub request_id: String,
    pub method: Method,
    /// The HTTP version the client spoke (a relay's `Via` names it).
    pub version: http::Version,
    /// The request target as sent (signatures cover its authority and raw query).
    pub uri: http::Uri,
    /// The raw (still percent-encoded) path.
    pub path: String,
    /// Decoded query parameters in order; repeated keys are kept.
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    /// The `Host` (or `:authority`) without port, lowercased.
    pub host: Option<String>,
    pub remote: Option<SocketAddr>,
    /// The client's address: the peer's, or behind trusted proxies the nearest one they forwarded.
    pub client_ip: Option<IpAddr>,
    /// Set when the connection is TLS.
    pub tls: Option<Arc<TlsInfo>>,
    /// Who the request was authenticated as, once an authentication interceptor has said.
    pub identity: Option<Arc<Identity>>,
    /// When the gateway accepted the request.
    pub received: Instant,
    /// The time the call may take, set by the deadline interceptor; the invoker turns it into a deadline.
    pub timeout: Option<Duration>,
    /// Values of the matched route's path variables, in the template's variable order.
    pub path_values: Vec<String>,
    /// The matched route as published (`GET /v1/shelves/{shelf}`), set by the router.
    pub route: Option<Arc<str>>,
    /// Why the request cannot be read (a path segment or query component that is not UTF-8 once
    /// percent-decoded, a head above the node's limits): the router refuses it with this error before
    /// anything else runs, so the refusal still carries a request id.
    pub refusal: Option<GatewayError>,
    /// The client's side of a protocol upgrade (WebSocket), when it asked for one over HTTP/1.1: an
    /// HTTP upstream that answers 101 is joined to it.
    pub upgrade: Option<hyper::upgrade::OnUpgrade>,
    body: BodyState,
}

/// What the TLS handshake established about the connection.
#[derive(Debug, Clone, Default)]
pub struct TlsInfo {
    /// The server name the client asked for (SNI).
    pub server_name: Option<String>,
    /// SHA-256 of the client certificate's DER, when the client presented one the CA vouches for.
    pub client_certificate: Option<[u8; 32]>,
}

enum BodyState {
    Unread {
        body: Body,
        limit: usize,
        /// How long the whole body may take to arrive (a client trickling it is cut off).
        timeout: Option<Duration>,
    },
    Read(Bytes),
    /// Handed to an HTTP upstream as a stream: gone.
    Relayed,
}

impl Exchange {
    /// Parses the request head; never fails (malformed percent-encoding is decoded lossily).
    pub fn from_request(
        request: Request<Body>,
        body_limit: usize,
        remote: Option<SocketAddr>,
    ) -> Self {
        Self::from_request_behind(request, body_limit, remote, &TrustedProxies::default())
    }

    /// The same, with the client address read through the revision's trusted proxies.
    pub fn from_request_behind(
        request: Request<Body>,
        body_limit: usize,
        remote: Option<SocketAddr>,
        proxies: &TrustedProxies,
    ) -> Self {
        let (mut parts, body) = request.into_parts();
        let tls = parts.extensions.remove::<Arc<TlsInfo>>();
        let upgrade = if parts.headers.contains_key(http::header::UPGRADE) {
            parts.extensions.remove::<hyper::upgrade::OnUpgrade>()
        } else {
            None
        };
        let client_ip = remote.map(|peer| proxies.client_ip(peer.ip(), &parts.headers));
        let path = parts.uri.path().to_string();
        let query = parts.uri.query().map(parse_query).unwrap_or_default();
        let refusal = not_utf8(&path, parts.uri.query()).map(GatewayError::invalid_argument);
        let host = parts
            .uri
            .host()
            .map(str::to_string)
            .or_else(|| {
                parts
                    .headers
                    .get(http::header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .map(strip_port)
            })
            .map(|h| h.to_ascii_lowercase());
        Exchange {
            request_id: String::new(),
            method: parts.method,
            version: parts.version,
            uri: parts.uri,
            path,
            query,
            headers: parts.headers,
            host,
            remote,
            client_ip,
            tls,
            identity: None,
            received: Instant::now(),
            timeout: None,
            path_values: Vec::new(),
            route: None,
            refusal,
            upgrade,
            // A request that declares no body (a GET) has nothing to read or stream: marking it read
            // now lets a retry repeat it, whatever protocol it goes to.
            body: if http_body::Body::size_hint(&body).exact() == Some(0) {
                BodyState::Read(Bytes::new())
            } else {
                BodyState::Unread {
                    body,
                    limit: body_limit,
                    timeout: None,
                }
            },
        }
    }

    /// Builds an exchange from parts, for tests and internal callers.
    pub fn for_test(method: Method, path_and_query: &str, body: impl Into<Bytes>) -> Self {
        let request = Request::builder()
            .method(method)
            .uri(path_and_query)
            .body(Body::from(body.into()))
            .unwrap_or_default();
        Self::from_request(request, usize::MAX, None)
    }

    /// Bounds the time the body may take to arrive, from when it is first read.
    pub fn set_body_timeout(&mut self, limit: Duration) {
        if let BodyState::Unread { timeout, .. } = &mut self.body {
            *timeout = Some(limit);
        }
    }

    /// The whole body, read once and kept. Over the limit is a 413; too slow to arrive, a 408.
    pub async fn body(&mut self) -> Result<Bytes, GatewayError> {
        let state = std::mem::replace(&mut self.body, BodyState::Read(Bytes::new()));
        let bytes = match state {
            BodyState::Read(bytes) => bytes,
            BodyState::Relayed => {
                self.body = BodyState::Relayed;
                return Err(GatewayError::internal(
                    "the request body was relayed already",
                ));
            }
            BodyState::Unread {
                body,
                limit,
                timeout: None,
            } => read_limited(body, limit).await?,
            BodyState::Unread {
                body,
                limit,
                timeout: Some(timeout),
            } => tokio::time::timeout(timeout, read_limited(body, limit))
                .await
                .map_err(|_| {
                    GatewayError::new(
                        ErrorKind::RequestTimeout,
                        format!(
                            "the request body did not arrive within {}",
                            crate::error::readable(timeout)
                        ),
                    )
                })??,
        };
        self.body = BodyState::Read(bytes.clone());
        Ok(bytes)
    }

    /// The body to relay as it arrives, never held whole: what was read already, or the stream, cut
    /// at `limit` bytes (the node's body limit when `None`); over it the relay fails with 413. A
    /// declared length over the limit is refused before a byte is read.
    pub fn relay_body(&mut self, limit: Option<u64>) -> Result<Body, GatewayError> {
        match std::mem::replace(&mut self.body, BodyState::Relayed) {
            BodyState::Read(bytes) => Ok(Body::from(bytes)),
            BodyState::Relayed => Err(GatewayError::internal(
                "the request body was relayed already",
            )),
            BodyState::Unread {
                body,
                limit: node_limit,
                ..
            } => {
                let limit = limit.unwrap_or(node_limit as u64);
                if http_body::Body::size_hint(&body).lower() > limit {
                    return Err(GatewayError::new(
                        ErrorKind::PayloadTooLarge,
                        format!("request body is larger than {limit} bytes"),
                    ));
                }
                let limit = usize::try_from(limit).unwrap_or(usize::MAX);
                Ok(Body::new(http_body_util::Limited::new(body, limit)))
            }
        }
    }

    /// A second exchange for the same request, to call again (a retry): only once the body has been
    /// read, since an unread body can be consumed once. `None` before that.
    pub fn try_clone(&self) -> Option<Exchange> {
        let BodyState::Read(body) = &self.body else {
            return None;
        };
        Some(Exchange {
            request_id: self.request_id.clone(),
            method: self.method.clone(),
            version: self.version,
            uri: self.uri.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            headers: self.headers.clone(),
            host: self.host.clone(),
            remote: self.remote,
            client_ip: self.client_ip,
            tls: self.tls.clone(),
            identity: self.identity.clone(),
            received: self.received,
            timeout: self.timeout,
            path_values: self.path_values.clone(),
            route: self.route.clone(),
            refusal: self.refusal.clone(),
            // One connection can be taken over once: a second attempt relays no upgrade.
            upgrade: None,
            body: BodyState::Read(body.clone()),
        })
    }

    /// The media type of the body without parameters, lowercased (`application/json`).
    pub fn content_type(&self) -> Option<String> {
        let value = self
            .headers
            .get(http::header::CONTENT_TYPE)?
            .to_str()
            .ok()?;
        let essence = value.split(';').next().unwrap_or("").trim();
        Some(essence.to_ascii_lowercase())
    }

    /// What is left of the time budget the deadline interceptor set; `None` when none was set. Nothing
    /// left is a 504 before a call is even made.
    pub fn remaining(&self) -> Result<Option<Duration>, GatewayError> {
        let Some(timeout) = self.timeout else {
            return Ok(None);
        };
        match timeout.checked_sub(self.received.elapsed()) {
            Some(left) if !left.is_zero() => Ok(Some(left)),
            _ => Err(GatewayError::new(
                ErrorKind::DeadlineExceeded,
                "the deadline passed before the call was made",
            )),
        }
    }

    /// `https` on a TLS connection, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// The body if it has been read (authentication may read it before the call does).
    pub fn body_if_read(&self) -> Option<&Bytes> {
        match &self.body {
            BodyState::Read(bytes) => Some(bytes),
            BodyState::Unread { .. } | BodyState::Relayed => None,
        }
    }

    /// One header as text; `None` when absent or not visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn read_limited(body: Body, limit: usize) -> Result<Bytes, GatewayError> {
    let too_large = || {
        GatewayError::new(
            ErrorKind::PayloadTooLarge,
            format!("request body is larger than {limit} bytes"),
        )
    };
    // Refuse early on a declared length above the limit, before reading a byte of it.
    if http_body::Body::size_hint(&body).lower() > limit as u64 {
        return Err(too_large());
    }
    let limited = http_body_util::Limited::new(body, limit);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err)
            if err
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(too_large())
        }
        Err(err) => Err(GatewayError::invalid_argument(format!(
            "could not read the request body: {err}"
        ))),
    }
}

impl Exchange {
    /// Refuses a request target or head above `limits` (414, 431), in the one error shape. hyper itself
    /// only refuses heads far above them, with a bare status and no body (see `connections.rs`).
    pub fn refuse_oversized_head(&mut self, limits: &HeadLimits) {
        if let Some(refusal) = self.oversized_head(limits) {
            self.refusal = Some(refusal);
        }
    }

    fn oversized_head(&self, limits: &HeadLimits) -> Option<GatewayError> {
        let target = self.uri.path_and_query().map_or(0, |pq| pq.as_str().len());
        let fields = self.headers.len();
        // As on the wire: `name: value` and its line end.
        let head = || -> usize {
            self.headers
                .iter()
                .map(|(name, value)| name.as_str().len() + value.len() + 4)
                .sum()
        };
        let (kind, what, limit) = if target > limits.max_uri_bytes {
            let what = format!("the request target is {target} bytes");
            (ErrorKind::UriTooLong, what, limits.max_uri_bytes)
        } else if fields > limits.max_headers {
            let what = format!("the request has {fields} header fields");
            (ErrorKind::HeadersTooLarge, what, limits.max_headers)
        } else {
            let head = head();
            if head <= limits.max_header_bytes {
                return None;
            }
            let what = format!("the request's header fields are {head} bytes");
            (ErrorKind::HeadersTooLarge, what, limits.max_header_bytes)
        };
        Some(GatewayError::new(
            kind,
            format!("{what}; this node takes at most {limit}"),
        ))
    }
}

/// The largest request head a node reads; larger is refused in the error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLimits {
    /// Path and query, as sent. nginx reads a request line into 8 KiB (`large_client_header_buffers`).
    pub max_uri_bytes: usize,
    /// Every header line together. nginx allows 4 × 8 KiB, Envoy 60 KiB.
    pub max_header_bytes: usize,
    /// Header fields. Envoy's default is 100.
    pub max_headers: usize,
}

impl Default for HeadLimits {
    fn default() -> Self {
        HeadLimits {
            max_uri_bytes: 8 << 10,
            max_header_bytes: 32 << 10,
            max_headers: 100,
        }
    }
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(key), decode_component(value))
        })
        .collect()
}

/// The first path segment or query component that is not UTF-8 once percent-decoded, as a message. A
/// string field must not receive U+FFFD in place of what the client sent, so such a request is refused
/// rather than decoded lossily. Costs nothing for the usual request, which has no `%` at all.
fn not_utf8(path: &str, query: Option<&str>) -> Option<String> {
    let invalid = |text: &str| {
        percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .is_err()
    };
    if path.contains('%')
        && let Some(segment) = path.split('/').find(|s| invalid(s))
    {
        return Some(format!(
            "the path segment `{segment}` is not UTF-8 once percent-decoded"
        ));
    }
    let query = query.filter(|q| q.contains('%'))?;
    query
        .split('&')
        .flat_map(|pair| pair.split('='))
        .find(|part| invalid(part))
        .map(|part| format!("the query component `{part}` is not UTF-8 once percent-decoded"))
}

/// Decodes a query component: `+` is a space, `%XX` a byte; invalid UTF-8 is replaced, never refused.
pub fn decode_component(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

fn strip_port(host: &str) -> String {
    // An IPv6 literal keeps its brackets; a port follows the last colon outside them.
    match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => host[..i].to_string(),
        _ => host.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_keeps_repeated_keys_and_decodes() {
        let pairs = parse_query("a=1&a=2&b=x+y%21&c&&d=%ZZ");
        assert_eq!(
            pairs,
            vec![
                ("a".into(), "1".into()),
                ("a".into(), "2".into()),
                ("b".into(), "x y!".into()),
                ("c".into(), "".into()),
                ("d".into(), "%ZZ".into()),
            ]
        );
    }

    #[test]
    fn components_that_are_not_utf8_once_decoded_are_named() {
        assert_eq!(not_utf8("/v1/echo/caf%C3%A9", Some("q=%E2%9C%93")), None);
        assert_eq!(not_utf8("/v1/echo/plain", None), None);
        assert!(not_utf8("/v1/echo/%FF", None).is_some_and(|m| m.contains("`%FF`")));
        assert!(not_utf8("/v1/x", Some("a=1&b=%C3")).is_some_and(|m| m.contains("`%C3`")));
        assert!(not_utf8("/v1/x", Some("%FE=1")).is_some());
    }

    #[test]
    fn host_loses_its_port() {
        assert_eq!(strip_port("example.com:8080"), "example.com");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_413() {
        let request = Request::builder()
            .uri("/x")
            .body(Body::from(vec![b'a'; 100]))
            .unwrap_or_default();
        let mut exchange = Exchange::from_request(request, 10, None);
        let err = exchange.body().await.expect_err("too large");
        assert_eq!(err.status(), 413);
    }

    #[tokio::test]
    async fn the_body_is_read_once_and_kept() {
        let mut exchange = Exchange::for_test(Method::POST, "/x", "hello");
        assert_eq!(exchange.body().await.ok(), Some(Bytes::from("hello")));
        assert_eq!(exchange.body().await.ok(), Some(Bytes::from("hello")));
    }
}
