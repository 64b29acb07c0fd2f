//! `kind: cors`: which browser origins may call an API, and what they may send and read.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Cross-origin resource sharing for an API. A preflight (`OPTIONS` with
/// `Access-Control-Request-Method`) is answered by the gateway itself, before authentication; an
/// actual request from an allowed origin gets the `Access-Control-*` headers on its answer, error
/// answers included. A request from an origin not allowed is refused with `cors_rejected`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cors {
    /// `https://app.example.com` (exact, scheme and host and port), `https://*.example.com` (any
    /// subdomain, one or more labels), or `*` (any origin; not with `allow_credentials`).
    pub allow_origins: Vec<String>,
    /// Methods a cross-origin request may use (default: GET, HEAD, POST, PUT, PATCH, DELETE).
    #[serde(default = "default_methods")]
    pub allow_methods: Vec<String>,
    /// Request headers a cross-origin request may send besides the CORS-safelisted ones.
    #[serde(default)]
    pub allow_headers: Vec<String>,
    /// Response headers a page may read besides the safelisted ones (`x-request-id` is always exposed).
    #[serde(default)]
    pub expose_headers: Vec<String>,
    /// Whether a page may send cookies and credentials and read the answer.
    #[serde(default)]
    pub allow_credentials: bool,
    /// How long a browser may cache a preflight answer.
    #[serde(default = "default_max_age", with = "humantime_serde")]
    pub max_age: Duration,
}

fn default_methods() -> Vec<String> {
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
        .map(String::from)
        .to_vec()
}

fn default_max_age() -> Duration {
    Duration::from_secs(600)
}

impl Cors {
    /// Every way the rule cannot work as written; a browser would fail on each silently.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.allow_origins.is_empty() {
            problems.push("cors: allow_origins is empty, so no origin could call".to_string());
        }
        for origin in &self.allow_origins {
            if let Err(why) = OriginPattern::parse(origin) {
                problems.push(format!("cors: origin `{origin}`: {why}"));
            }
        }
        if self.allow_credentials && self.allow_origins.iter().any(|o| o == "*") {
            problems.push(
                "cors: `*` cannot be used with allow_credentials (browsers refuse it); list the origins"
                    .to_string(),
            );
        }
        for method in &self.allow_methods {
            if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
                problems.push(format!("cors: `{method}` is not an HTTP method"));
            }
        }
        for header in self.allow_headers.iter().chain(&self.expose_headers) {
            let valid = !header.is_empty()
                && header
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
            if !valid && header != "*" {
                problems.push(format!("cors: `{header}` is not a header name"));
            }
        }
        problems
    }
}

/// One allowed origin, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginPattern {
    Any,
    Exact(String),
    /// `scheme://*.suffix[:port]`: the part after `*` (`.example.com[:port]`), and the scheme.
    Subdomains {
        scheme: String,
        suffix: String,
    },
}

impl OriginPattern {
    pub fn parse(text: &str) -> Result<OriginPattern, String> {
        if text == "*" {
            return Ok(OriginPattern::Any);
        }
        let (scheme, rest) = text
            .split_once("://")
            .ok_or("an origin is `scheme://host[:port]`")?;
        if !matches!(scheme, "http" | "https") {
            return Err(format!("scheme `{scheme}` is not http or https"));
        }
        if rest.is_empty() || rest.contains('/') || rest.ends_with('.') {
            return Err("an origin has no path and no trailing dot".into());
        }
        let lowered = text.to_ascii_lowercase();
        match rest.strip_prefix("*.") {
            Some(suffix) if !suffix.contains('*') && suffix.contains('.') => {
                Ok(OriginPattern::Subdomains {
                    scheme: scheme.to_ascii_lowercase(),
                    suffix: format!(".{}", suffix.to_ascii_lowercase()),
                })
            }
            Some(_) => Err(
                "a wildcard covers subdomains of a domain with a dot, as `*.example.com`".into(),
            ),
            None if rest.contains('*') => {
                Err("`*` may only open the host, as `*.example.com`".into())
            }
            None => Ok(OriginPattern::Exact(lowered)),
        }
    }

    /// Whether `origin` (as a browser sends it) is allowed.
    pub fn matches(&self, origin: &str) -> bool {
        match self {
            OriginPattern::Any => true,
            OriginPattern::Exact(exact) => origin.eq_ignore_ascii_case(exact),
            OriginPattern::Subdomains { scheme, suffix } => {
                let origin = origin.to_ascii_lowercase();
                let Some(host) = origin
                    .strip_prefix(scheme.as_str())
                    .and_then(|r| r.strip_prefix("://"))
                else {
                    return false;
                };
                host.len() > suffix.len() && host.ends_with(suffix.as_str())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_patterns_match_what_they_say() {
        let cases = [
            ("https://app.example.com", "https://app.example.com", true),
            ("https://app.example.com", "https://APP.example.com", true),
            ("https://app.example.com", "http://app.example.com", false),
            (
                "https://app.example.com",
                "https://app.example.com:8443",
                false,
            ),
            ("https://*.example.com", "https://a.example.com", true),
            ("https://*.example.com", "https://a.b.example.com", true),
            ("https://*.example.com", "https://example.com", false),
            ("https://*.example.com", "https://evil-example.com", false),
            (
                "https://*.example.com",
                "https://example.com.evil.org",
                false,
            ),
            (
                "https://*.example.com:8443",
                "https://a.example.com:8443",
                true,
            ),
            ("https://*.example.com:8443", "https://a.example.com", false),
            ("*", "null", true),
        ];
        for (pattern, origin, expected) in cases {
            let parsed = OriginPattern::parse(pattern).expect(pattern);
            assert_eq!(parsed.matches(origin), expected, "{pattern} vs {origin}");
        }
    }

    #[test]
    fn misconfigured_rules_are_refused() {
        let rule = |origins: &[&str], credentials: bool| Cors {
            allow_origins: origins.iter().map(|o| o.to_string()).collect(),
            allow_methods: default_methods(),
            allow_headers: vec![],
            expose_headers: vec![],
            allow_credentials: credentials,
            max_age: default_max_age(),
        };
        assert!(rule(&["https://a.example.com"], true).problems().is_empty());
        for (origins, credentials) in [
            (&["*"][..], true),
            (&[][..], false),
            (&["example.com"][..], false),
            (&["https://*"][..], false),
            (&["https://a.*.com"][..], false),
            (&["https://a.example.com/"][..], false),
            (&["ftp://a.example.com"][..], false),
        ] {
            assert!(
                !rule(origins, credentials).problems().is_empty(),
                "{origins:?} {credentials}"
            );
        }
    }
}
