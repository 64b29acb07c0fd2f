//! The string a partner signs in the gateway's own scheme (`docs/signing.md` is its description for
//! partners). Lines joined by `\n`, no trailing newline:
//!
//! ```text
//! GW1-HMAC-SHA256
//! <METHOD>                      uppercase
//! <path>                        exactly as in the request line (still percent-encoded)
//! <query>                       pairs sorted by key then value, each part percent-encoded (RFC 3986
//!                               unreserved characters left as they are), `k=v` joined by `&`
//! <name>:<value>                one line per signed header, names lowercase and sorted, values
//!                               trimmed, repeated headers joined by `,` (no lines when none is signed)
//! <app key>
//! <timestamp>                   milliseconds since the Unix epoch, as sent in X-Timestamp
//! <nonce>
//! <hex SHA-256 of the body>     of the empty string when there is none
//! ```

use http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The scheme's name, the first line.
pub const SCHEME: &str = "GW1-HMAC-SHA256";

/// Everything but the RFC 3986 unreserved characters is encoded.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub struct Parts<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// Decoded pairs, in any order.
    pub query: &'a [(String, String)],
    pub headers: &'a HeaderMap,
    /// Lowercase, sorted, deduplicated.
    pub signed_headers: &'a [String],
    pub app_key: &'a str,
    pub timestamp: &'a str,
    pub nonce: &'a str,
    pub body: &'a [u8],
}

pub fn string_to_sign(parts: &Parts<'_>) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(SCHEME);
    out.push('\n');
    out.push_str(&parts.method.to_ascii_uppercase());
    out.push('\n');
    out.push_str(parts.path);
    out.push('\n');
    out.push_str(&canonical_query(parts.query));
    out.push('\n');
    for name in parts.signed_headers {
        let values: Vec<&str> = parts
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| std::str::from_utf8(v.as_bytes()).unwrap_or("").trim())
            .collect();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push_str(parts.app_key);
    out.push('\n');
    out.push_str(parts.timestamp);
    out.push('\n');
    out.push_str(parts.nonce);
    out.push('\n');
    out.push_str(&hex(ring::digest::digest(
        &ring::digest::SHA256,
        parts.body,
    )
    .as_ref()));
    out
}

pub fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| {
            (
                utf8_percent_encode(k, ENCODE).to_string(),
                utf8_percent_encode(v, ENCODE).to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 15)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of `docs/signing.md`, byte for byte: partners' code is checked against it.
    #[test]
    fn the_documented_example() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            http::HeaderValue::from_static("application/json"),
        );
        let query = vec![
            ("b".to_string(), "2".to_string()),
            ("a".to_string(), "x y".to_string()),
            ("a".to_string(), "1".to_string()),
        ];
        let text = string_to_sign(&Parts {
            method: "post",
            path: "/v1/echo",
            query: &query,
            headers: &headers,
            signed_headers: &["content-type".to_string()],
            app_key: "partner-1",
            timestamp: "1767225600000",
            nonce: "4f9d2c6e-1b7a-4e3a-9d2f-7c1e5b8a0f31",
            body: br#"{"message":"hello"}"#,
        });
        assert_eq!(
            text,
            "GW1-HMAC-SHA256\nPOST\n/v1/echo\na=1&a=x%20y&b=2\ncontent-type:application/json\npartner-1\n1767225600000\n4f9d2c6e-1b7a-4e3a-9d2f-7c1e5b8a0f31\n9b2d43affbf49a367028df2e1414f84c0e099ac98c3d54a8a80157fd7771af25"
        );
    }
}
