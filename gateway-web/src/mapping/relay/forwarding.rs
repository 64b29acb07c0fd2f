//! What a proxy owes the headers it relays (RFC 9110 §7.6): hop-by-hop fields stay on their hop
//! (the fixed ones and any the `Connection` header names), the client's address, scheme and host
//! travel in `X-Forwarded-*` and `Forwarded` (RFC 7239), and `Via` when the API asks for it.

use std::net::IpAddr;

use http::{HeaderMap, HeaderName, HeaderValue, header};

/// Fields that describe one connection, never forwarded.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const FORWARDED: HeaderName = HeaderName::from_static("forwarded");

/// Removes hop-by-hop fields. `Upgrade` goes too, unless the caller relays an upgrade itself.
pub fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        if !(keep_upgrade && name == header::UPGRADE) {
            headers.remove(name);
        }
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    if !keep_upgrade {
        headers.remove(header::UPGRADE);
    }
}

/// Appends the peer to `X-Forwarded-For` and `Forwarded`, and says the scheme and host the client
/// used. Earlier entries are kept as sent: the upstream decides whom to believe, as behind any proxy.
pub fn add_forwarded(
    headers: &mut HeaderMap,
    peer: Option<IpAddr>,
    scheme: &str,
    host: Option<&str>,
) {
    if let Some(ip) = peer {
        let joined = match headers.get(&X_FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
            Some(earlier) if !earlier.trim().is_empty() => format!("{earlier}, {ip}"),
            _ => ip.to_string(),
        };
        if let Ok(value) = HeaderValue::from_str(&joined) {
            headers.insert(X_FORWARDED_FOR, value);
        }
    }
    headers.insert(
        X_FORWARDED_PROTO,
        HeaderValue::from_static(if scheme == "https" { "https" } else { "http" }),
    );
    if let Some(host) = host.and_then(|h| HeaderValue::from_str(h).ok()) {
        headers.insert(X_FORWARDED_HOST, host);
    }
    let mut element = String::new();
    if let Some(ip) = peer {
        // RFC 7239 §6: an IPv6 address is quoted and bracketed.
        match ip {
            IpAddr::V4(v4) => element.push_str(&format!("for={v4}")),
            IpAddr::V6(v6) => element.push_str(&format!("for=\"[{v6}]\"")),
        }
        element.push(';');
    }
    element.push_str("proto=");
    element.push_str(scheme);
    if let Some(host) = host.filter(|h| h.bytes().all(|b| b.is_ascii_graphic() && b != b'"')) {
        element.push_str(&format!(";host=\"{host}\""));
    }
    if let Ok(value) = HeaderValue::from_str(&element) {
        headers.append(FORWARDED, value);
    }
}

/// Appends this hop to `Via` (`1.1 gateway`), with the protocol version the message came in.
pub fn add_via(headers: &mut HeaderMap, version: http::Version) {
    let protocol = match version {
        http::Version::HTTP_2 => "2",
        http::Version::HTTP_10 => "1.0",
        _ => "1.1",
    };
    let hop = format!("{protocol} gateway");
    let value = match headers.get(header::VIA).and_then(|v| v.to_str().ok()) {
        Some(earlier) => format!("{earlier}, {hop}"),
        None => hop,
    };
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(header::VIA, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_fields_and_those_connection_names_are_dropped() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret-hop"),
        );
        headers.insert("x-secret-hop", HeaderValue::from_static("1"));
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        headers.insert(header::TE, HeaderValue::from_static("trailers"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert("x-end-to-end", HeaderValue::from_static("kept"));
        strip_hop_by_hop(&mut headers, false);
        let left: Vec<_> = headers.keys().map(|k| k.as_str()).collect();
        assert_eq!(left, vec!["x-end-to-end"]);
    }

    #[test]
    fn forwarded_fields_append_this_hop() {
        let mut headers = HeaderMap::new();
        headers.insert(X_FORWARDED_FOR, HeaderValue::from_static("203.0.113.9"));
        add_forwarded(
            &mut headers,
            "10.1.2.3".parse().ok(),
            "https",
            Some("shop.example"),
        );
        assert_eq!(headers[&X_FORWARDED_FOR], "203.0.113.9, 10.1.2.3");
        assert_eq!(headers[&X_FORWARDED_PROTO], "https");
        assert_eq!(headers[&X_FORWARDED_HOST], "shop.example");
        assert_eq!(
            headers[&FORWARDED],
            "for=10.1.2.3;proto=https;host=\"shop.example\""
        );
        let mut v6 = HeaderMap::new();
        add_forwarded(&mut v6, "::1".parse().ok(), "http", None);
        assert_eq!(v6[&FORWARDED], "for=\"[::1]\";proto=http");
        add_via(&mut v6, http::Version::HTTP_11);
        add_via(&mut v6, http::Version::HTTP_2);
        assert_eq!(v6[header::VIA], "1.1 gateway, 2 gateway");
    }
}
