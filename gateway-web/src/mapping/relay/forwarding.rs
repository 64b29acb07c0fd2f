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
///
/// One pass over the fields finds what is there (usually nothing but `Connection: keep-alive`):
/// removing every listed name blindly hashed each one, twice per relay, and was a tenth of the
/// gateway's own instructions on the relay path.
pub fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    let mut present: Vec<HeaderName> = Vec::new();
    for name in headers.keys() {
        let hop = HOP_BY_HOP.contains(name) || (!keep_upgrade && name == header::UPGRADE);
        if hop {
            present.push(name.clone());
        }
    }
    if present.is_empty() {
        return;
    }
    // The names `Connection` lists are this hop's too.
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .filter(|name| !(keep_upgrade && name == header::UPGRADE))
        .collect();
    for name in present.into_iter().chain(named) {
        headers.remove(name);
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
        let mut joined = String::with_capacity(48);
        if let Some(earlier) = headers.get(&X_FORWARDED_FOR).and_then(|v| v.to_str().ok())
            && !earlier.trim().is_empty()
        {
            joined.push_str(earlier);
            joined.push_str(", ");
        }
        match ip {
            IpAddr::V4(v4) => push_ipv4(&mut joined, v4),
            IpAddr::V6(v6) => joined.push_str(&v6.to_string()),
        }
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
    let mut element = String::with_capacity(64);
    if let Some(ip) = peer {
        // RFC 7239 §6: an IPv6 address is quoted and bracketed.
        match ip {
            IpAddr::V4(v4) => {
                element.push_str("for=");
                push_ipv4(&mut element, v4);
            }
            IpAddr::V6(v6) => {
                element.push_str("for=\"[");
                element.push_str(&v6.to_string());
                element.push_str("]\"");
            }
        }
        element.push(';');
    }
    element.push_str("proto=");
    element.push_str(scheme);
    if let Some(host) = host.filter(|h| h.bytes().all(|b| b.is_ascii_graphic() && b != b'"')) {
        element.push_str(";host=\"");
        element.push_str(host);
        element.push('"');
    }
    if let Ok(value) = HeaderValue::from_str(&element) {
        headers.append(FORWARDED, value);
    }
}

/// Writes an IPv4 address in dotted decimal without the formatting machinery (`Display` for an
/// address pads and goes through `fmt::write`: a thousand instructions per request here).
fn push_ipv4(out: &mut String, ip: std::net::Ipv4Addr) {
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if octet >= 100 {
            out.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            out.push(char::from(b'0' + octet / 10 % 10));
        }
        out.push(char::from(b'0' + octet % 10));
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

    #[test]
    fn ipv4_addresses_are_written_as_display_writes_them() {
        for ip in [
            "0.0.0.0",
            "1.2.3.4",
            "10.100.99.255",
            "255.255.255.255",
            "192.168.0.10",
        ] {
            let parsed: std::net::Ipv4Addr = ip.parse().unwrap();
            let mut out = String::new();
            push_ipv4(&mut out, parsed);
            assert_eq!(out, parsed.to_string());
        }
    }

    #[test]
    fn a_message_without_hop_fields_keeps_all_and_upgrade_stays_when_relayed() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("a/b"));
        headers.insert("x-a", HeaderValue::from_static("1"));
        strip_hop_by_hop(&mut headers, false);
        assert_eq!(headers.len(), 2);
        headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade, x-a"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        strip_hop_by_hop(&mut headers, true);
        let left: Vec<_> = headers.keys().map(|k| k.as_str()).collect();
        assert_eq!(left, vec!["content-type", "upgrade"]);
    }
}
