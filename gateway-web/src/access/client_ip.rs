//! The client's address. A request's peer is the client unless the peer is a trusted proxy (the
//! document's `trusted_proxies`); then the chain the proxies forwarded (`Forwarded` per RFC 7239, else
//! `X-Forwarded-For`) is read from the nearest hop outwards, and the first address that is not itself
//! a trusted proxy is the client. Entries further out were written by whoever sent the request and
//! prove nothing, so they are never read past an untrusted hop.

use std::net::IpAddr;

use api_model::policy::{Cidr, canonical};
use http::HeaderMap;

#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    blocks: Vec<Cidr>,
}

impl TrustedProxies {
    pub fn new(blocks: Vec<Cidr>) -> Self {
        TrustedProxies { blocks }
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.blocks.iter().any(|block| block.contains(ip))
    }

    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let chain = forwarded_chain(headers);
        let mut client = peer;
        // Nearest hop first: the last entry was appended by the proxy that connected to us.
        for entry in chain.iter().rev() {
            let Some(ip) = entry else {
                // An entry that is no address ("unknown", an obfuscated name, garbage): nothing beyond
                // it can be attributed, so the last hop we could read is the client.
                return client;
            };
            client = canonical(*ip);
            if !self.trusts(client) {
                return client;
            }
        }
        client
    }
}

/// The forwarded addresses, outermost first; `None` for an entry that is not an address.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<Option<IpAddr>> = headers
        .get_all(http::header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_node(value.trim()))
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|entry| parse_node(entry.trim()))
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim_matches('"');
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    let (host, port) = text.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(value),
            ) {
                map.append(name, value);
            }
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    fn trusted(blocks: &[&str]) -> TrustedProxies {
        TrustedProxies::new(blocks.iter().filter_map(|b| b.parse().ok()).collect())
    }

    #[test]
    fn the_nearest_untrusted_hop_is_the_client() {
        let proxies = trusted(&["10.0.0.0/8"]);
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
        let cases: &[Case<'_>] = &[
            // No proxy trusted: the peer, whatever the headers claim.
            (
                "203.0.113.9",
                &[("x-forwarded-for", "1.2.3.4")],
                "203.0.113.9",
            ),
            (
                "10.0.0.2",
                &[("x-forwarded-for", "198.51.100.7")],
                "198.51.100.7",
            ),
            // A client that forges an entry cannot hide behind it: the proxy appended the real one.
            (
                "10.0.0.2",
                &[("x-forwarded-for", "6.6.6.6, 198.51.100.7")],
                "198.51.100.7",
            ),
            (
                "10.0.0.2",
                &[("x-forwarded-for", "198.51.100.7, 10.0.0.9")],
                "198.51.100.7",
            ),
            (
                "10.0.0.2",
                &[
                    ("x-forwarded-for", "198.51.100.7"),
                    ("x-forwarded-for", "10.1.1.1"),
                ],
                "198.51.100.7",
            ),
            (
                "10.0.0.2",
                &[("x-forwarded-for", "garbage, 10.0.0.9")],
                "10.0.0.9",
            ),
            ("10.0.0.2", &[], "10.0.0.2"),
            (
                "10.0.0.2",
                &[(
                    "forwarded",
                    "for=192.0.2.60;proto=http, for=\"[2001:db8:cafe::17]:4711\"",
                )],
                "2001:db8:cafe::17",
            ),
            (
                "10.0.0.2",
                &[("forwarded", "for=unknown"), ("x-forwarded-for", "1.2.3.4")],
                "10.0.0.2",
            ),
            (
                "::ffff:10.0.0.2",
                &[("x-forwarded-for", "198.51.100.7:5555")],
                "198.51.100.7",
            ),
        ];
        for (peer, sent, client) in cases {
            assert_eq!(
                proxies.client_ip(ip(peer), &headers(sent)),
                ip(client),
                "{peer} {sent:?}"
            );
        }
    }
}
