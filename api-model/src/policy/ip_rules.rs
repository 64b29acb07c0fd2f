//! `kind: ip_rules`: which client addresses may call an API, as CIDR blocks (IPv4 and IPv6). The client
//! address is the peer's, or, behind the document's `trusted_proxies`, the nearest untrusted address
//! they forwarded (`X-Forwarded-For` / `Forwarded`).

use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpRules {
    /// When set, only these blocks may call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<Cidr>,
    /// These may not, even inside an allowed block.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<Cidr>,
}

impl IpRules {
    pub fn problems(&self) -> Vec<String> {
        if self.allow.is_empty() && self.deny.is_empty() {
            vec!["ip_rules: set `allow`, `deny` or both".into()]
        } else {
            Vec::new()
        }
    }

    /// Whether `ip` may call: not denied, and allowed when an allow list exists.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        !self.deny.iter().any(|block| block.contains(ip))
            && (self.allow.is_empty() || self.allow.iter().any(|block| block.contains(ip)))
    }
}

/// `10.0.0.0/8`, `2001:db8::/32`, or a single address (a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:10.0.0.1`, what a dual-stack socket reports) is matched as
/// the IPv4 address it is.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    a[full] & mask == b[full] & mask
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network = canonical(
            IpAddr::from_str(address.trim())
                .map_err(|_| format!("`{text}` is not an IP address or CIDR block"))?,
        );
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{text}`: the prefix length must be 0 to {max}"))?,
        };
        let cidr = Cidr { network, prefix };
        // `10.1.2.3/8` is almost always a typo for a host or for `10.0.0.0/8`: say which it means.
        if host_bits_set(network, prefix) {
            return Err(format!(
                "`{text}` has host bits set; write the network address (or the single address without a prefix)"
            ));
        }
        Ok(cidr)
    }
}

fn host_bits_set(ip: IpAddr, prefix: u8) -> bool {
    let bytes: Vec<u8> = match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    bytes.iter().enumerate().any(|(i, byte)| {
        let start = (i * 8) as u32;
        let keep = (u32::from(prefix).saturating_sub(start)).min(8);
        let mask = if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
        byte & !mask != 0
    })
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl TryFrom<String> for Cidr {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Cidr> for String {
    fn from(cidr: Cidr) -> String {
        cidr.to_string()
    }
}

impl Serialize for Cidr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn blocks_contain_their_addresses() {
        let cases = [
            ("10.0.0.0/8", "10.255.1.2", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("192.168.1.128/25", "192.168.1.200", true),
            ("192.168.1.128/25", "192.168.1.100", false),
            ("203.0.113.7", "203.0.113.7", true),
            ("203.0.113.7", "203.0.113.8", false),
            ("0.0.0.0/0", "8.8.8.8", true),
            ("2001:db8::/32", "2001:db8:ffff::1", true),
            ("2001:db8::/32", "2001:db9::1", false),
            ("10.0.0.0/8", "::ffff:10.1.2.3", true),
            ("2001:db8::/32", "10.0.0.1", false),
            ("::1", "::1", true),
        ];
        for (block, address, inside) in cases {
            let cidr: Cidr = block.parse().expect(block);
            assert_eq!(cidr.contains(ip(address)), inside, "{block} ∋ {address}");
        }
    }

    #[test]
    fn malformed_blocks_are_refused() {
        for bad in [
            "10.0.0.0/33",
            "10.1.2.3/8",
            "nope",
            "10.0.0/8",
            "2001:db8::1/32",
            "::/129",
            "",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn deny_wins_inside_allow() {
        let rules = IpRules {
            allow: vec!["10.0.0.0/8".parse().expect("cidr")],
            deny: vec!["10.9.9.9".parse().expect("cidr")],
        };
        assert!(rules.permits(ip("10.1.1.1")));
        assert!(!rules.permits(ip("10.9.9.9")));
        assert!(!rules.permits(ip("192.0.2.1")));
        let deny_only = IpRules {
            allow: vec![],
            deny: vec!["192.0.2.0/24".parse().expect("cidr")],
        };
        assert!(deny_only.permits(ip("198.51.100.1")));
        assert!(!deny_only.permits(ip("192.0.2.9")));
    }
}
