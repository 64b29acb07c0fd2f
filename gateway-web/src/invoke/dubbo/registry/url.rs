//! Reading a provider node's name: one percent-encoded Dubbo URL, as providers register themselves.

use percent_encoding::percent_decode_str;

use super::super::discovery::Provider;

/// What a listing is read for: a Dubbo client takes `dubbo://` providers; an HTTP upstream takes
/// `http://`, `https://` and Dubbo's REST protocol (`rest://`, plain HTTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Wire {
    Dubbo,
    Http,
}

/// Parses one encoded child node name into a Dubbo provider and the interface it serves; `None` when
/// the node is not a usable `dubbo://` provider (another protocol, disabled, or not a URL at all).
pub fn parse_provider_node(name: &str) -> Option<(Provider, String)> {
    parse_provider_node_for(name, Wire::Dubbo)
}

/// The same for the providers `wire` reads.
pub fn parse_provider_node_for(name: &str, wire: Wire) -> Option<(Provider, String)> {
    // Providers encode the whole URL with Java's `URLEncoder`, which writes a space as `+`; a literal
    // `+` arrives as `%2B`, so turning `+` back first is the exact inverse.
    let name = name.replace('+', " ");
    let url = percent_decode_str(&name).decode_utf8().ok()?;
    parse_provider_url(&url, wire)
}

/// Parses a decoded `dubbo://host:port/interface?key=value&...` URL.
fn parse_provider_url(url: &str, wire: Wire) -> Option<(Provider, String)> {
    let (scheme, rest) = url.split_once("://")?;
    // Dubbo2 over TCP for a Dubbo client (`tri://` goes through the gRPC path); HTTP for an upstream.
    let scheme = scheme.to_ascii_lowercase();
    let tls = match (wire, scheme.as_str()) {
        (Wire::Dubbo, "dubbo") | (Wire::Http, "http" | "rest") => false,
        (Wire::Http, "https") => true,
        _ => return None,
    };
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = before_query.split_once('/').unwrap_or((before_query, ""));
    let address = host_port(authority)?;
    let params = Params(query);
    if params.get("enabled") == Some("false") || params.get("disabled") == Some("true") {
        return None;
    }
    let interface = params
        .get("interface")
        .filter(|interface| !interface.is_empty())
        .unwrap_or(path);
    if interface.is_empty() {
        return None;
    }
    let provider = Provider {
        tls,
        address,
        version: params.get_or_default("version").map(str::to_owned),
        group: params.get_or_default("group").map(str::to_owned),
    };
    Some((provider, interface.to_owned()))
}

/// `host:port` from an authority, without user info; `None` unless both parts are usable.
fn host_port(authority: &str) -> Option<String> {
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host_port)| host_port);
    let (host, port) = host_port.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    // A registered `0.0.0.0` or port 0 cannot be dialled; such a node is a misconfigured provider.
    if host.is_empty() || host == "0.0.0.0" || port == 0 || host.contains(['/', '?', '#', ' ']) {
        return None;
    }
    Some(format!("{host}:{port}"))
}

/// The query of a provider URL; lookups scan it, as a URL carries a few dozen parameters at most and
/// only three are read.
struct Params<'a>(&'a str);

impl<'a> Params<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.0
            .split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .find_map(|(k, v)| (k == key).then_some(v))
    }

    /// A non-empty value, falling back to Dubbo 2's `default.<key>` spelling that older providers
    /// still register.
    fn get_or_default(&self, key: &str) -> Option<&'a str> {
        let non_empty = |value: &&str| !value.is_empty();
        self.get(key)
            .filter(non_empty)
            .or_else(|| self.get(&format!("default.{key}")).filter(non_empty))
    }
}

/// Percent-encodes a provider URL as one node name, the way providers do (tests and tools only).
#[cfg(test)]
pub(super) fn encode_provider_url(url: &str) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    utf8_percent_encode(url, NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(address: &str, version: Option<&str>, group: Option<&str>) -> Provider {
        Provider {
            tls: false,
            address: address.into(),
            version: version.map(Into::into),
            group: group.map(Into::into),
        }
    }

    const IFACE: &str = "org.apache.dubbo.demo.UserService";

    #[test]
    fn provider_nodes_parse_or_are_skipped() {
        let full = "dubbo://192.168.1.10:20880/org.apache.dubbo.demo.UserService?anyhost=true\
            &application=demo&version=1.0.0&group=g1&methods=getUser,ping&side=provider&timestamp=1";
        let cases: &[(&str, Option<Provider>)] = &[
            (
                full,
                Some(provider("192.168.1.10:20880", Some("1.0.0"), Some("g1"))),
            ),
            (
                "dubbo://10.0.0.1:20880/org.apache.dubbo.demo.UserService?side=provider",
                Some(provider("10.0.0.1:20880", None, None)),
            ),
            (
                "dubbo://10.0.0.1:20880/org.apache.dubbo.demo.UserService",
                Some(provider("10.0.0.1:20880", None, None)),
            ),
            // Empty values mean "none", not a version called "".
            (
                "dubbo://10.0.0.1:20880/org.apache.dubbo.demo.UserService?version=&group=",
                Some(provider("10.0.0.1:20880", None, None)),
            ),
            (
                "dubbo://10.0.0.1:20880/org.apache.dubbo.demo.UserService?default.version=2.0&default.group=x",
                Some(provider("10.0.0.1:20880", Some("2.0"), Some("x"))),
            ),
            (
                "dubbo://10.0.0.1:20880/g1/other.Path?interface=org.apache.dubbo.demo.UserService",
                Some(provider("10.0.0.1:20880", None, None)),
            ),
            (
                "dubbo://[::1]:20880/org.apache.dubbo.demo.UserService?enabled=true",
                Some(provider("[::1]:20880", None, None)),
            ),
            (
                "DUBBO://user:pw@host.example:1/org.apache.dubbo.demo.UserService",
                Some(provider("host.example:1", None, None)),
            ),
            (
                "tri://10.0.0.1:50051/org.apache.dubbo.demo.UserService",
                None,
            ),
            (
                "rest://10.0.0.1:8080/org.apache.dubbo.demo.UserService",
                None,
            ),
            (
                "dubbo://10.0.0.1:20880/org.apache.dubbo.demo.UserService?enabled=false",
                None,
            ),
            (
                "dubbo://10.0.0.1:20880/org.apache.dubbo.demo.UserService?disabled=true",
                None,
            ),
            ("dubbo://10.0.0.1/org.apache.dubbo.demo.UserService", None),
            (
                "dubbo://10.0.0.1:http/org.apache.dubbo.demo.UserService",
                None,
            ),
            (
                "dubbo://10.0.0.1:99999/org.apache.dubbo.demo.UserService",
                None,
            ),
            (
                "dubbo://0.0.0.0:20880/org.apache.dubbo.demo.UserService",
                None,
            ),
            ("dubbo://:20880/org.apache.dubbo.demo.UserService", None),
            ("dubbo://10.0.0.1:20880", None),
            ("dubbo://10.0.0.1:20880/?side=provider", None),
            ("dubbo:10.0.0.1:20880/x", None),
            ("", None),
            ("garbage", None),
        ];
        for (url, expected) in cases {
            let parsed = parse_provider_node(&encode_provider_url(url));
            match expected {
                Some(expected) => {
                    assert_eq!(parsed, Some((expected.clone(), IFACE.to_owned())), "{url}");
                }
                None => assert_eq!(parsed, None, "{url}"),
            }
        }
    }

    #[test]
    fn names_decode_like_java_url_decoder() {
        // Java's URLEncoder: `/`, `:`, `?`, `&`, `=` and `,` encoded; a space written as `+`.
        let name = "dubbo%3A%2F%2F10.0.0.1%3A20880%2Fa.B%3Fversion%3D1.0%2Bx%26group%3Dmy+group\
            %26methods%3Da%2Cb";
        assert_eq!(
            parse_provider_node(name),
            Some((
                provider("10.0.0.1:20880", Some("1.0+x"), Some("my group")),
                "a.B".into()
            ))
        );
        // Invalid UTF-8 after decoding, and a name that is not encoded at all but still a URL.
        assert_eq!(parse_provider_node("dubbo%3A%2F%2F%FF%FE"), None);
        let http = |url: &str| parse_provider_node_for(&encode_provider_url(url), Wire::Http);
        let rest = http("rest://10.0.0.1:8080/org.acme.Inventory").expect("rest");
        assert_eq!(
            (rest.0.address.as_str(), rest.0.tls),
            ("10.0.0.1:8080", false)
        );
        assert!(
            http("https://10.0.0.2:8443/org.acme.Inventory")
                .expect("https")
                .0
                .tls
        );
        assert_eq!(http("dubbo://10.0.0.1:20880/org.acme.Inventory"), None);
        assert_eq!(
            parse_provider_node("dubbo://10.0.0.1:20880/a.B"),
            Some((provider("10.0.0.1:20880", None, None), "a.B".into()))
        );
    }
}
