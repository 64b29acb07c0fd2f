//! The upstream path of a relayed request: the request's own, a prefix stripped, or a template over
//! the route's variables; then an optional regex rewrite. Values keep the client's percent-encoding,
//! so what the route matched is what the upstream receives, byte for byte.

use api_model::upstream::HttpTarget;
use regex::Regex;

use crate::access::PathTemplate;

pub struct PathRewrite {
    base: Base,
    regex: Option<(Regex, String)>,
}

enum Base {
    AsSent,
    StripPrefix(String),
    Template(Vec<Piece>),
}

enum Piece {
    Literal(String),
    /// Index into the route template's variables.
    Variable(usize),
}

impl PathRewrite {
    /// Checks the rewrite against the route it serves: a template may only name the route's
    /// variables, and a regex must compile.
    pub fn compile(target: &HttpTarget, route: &PathTemplate) -> Result<PathRewrite, String> {
        let base = match (&target.path, &target.strip_prefix) {
            (Some(path), _) => Base::Template(pieces(path, route)?),
            (None, Some(prefix)) => Base::StripPrefix(prefix.trim_end_matches('/').to_string()),
            (None, None) => Base::AsSent,
        };
        let regex = match &target.regex_rewrite {
            Some(rewrite) => Some((
                Regex::new(&rewrite.pattern)
                    .map_err(|err| format!("regex_rewrite `{}`: {err}", rewrite.pattern))?,
                rewrite.replacement.clone(),
            )),
            None => None,
        };
        Ok(PathRewrite { base, regex })
    }

    /// The upstream path (no query) for a request path the route matched.
    pub fn apply(&self, path: &str, route: &PathTemplate) -> String {
        let base = match &self.base {
            Base::AsSent => path.to_string(),
            Base::StripPrefix(prefix) => match path.strip_prefix(prefix.as_str()) {
                Some("") => "/".to_string(),
                Some(rest) if rest.starts_with('/') => rest.to_string(),
                // `/api` does not strip `/apis`: a prefix ends at a segment boundary.
                _ => path.to_string(),
            },
            Base::Template(pieces) => {
                let values = route.raw_values(path);
                let mut out = String::with_capacity(path.len());
                for piece in pieces {
                    match piece {
                        Piece::Literal(text) => out.push_str(text),
                        Piece::Variable(i) => out.push_str(values.get(*i).copied().unwrap_or("")),
                    }
                }
                out
            }
        };
        match &self.regex {
            Some((regex, replacement)) => {
                regex.replace_all(&base, replacement.as_str()).into_owned()
            }
            None => base,
        }
    }
}

/// `/users/{id}/x` → literal, variable, literal.
fn pieces(path: &str, route: &PathTemplate) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .ok_or_else(|| format!("upstream path `{path}`: unbalanced braces"))?;
        if open > 0 {
            pieces.push(Piece::Literal(rest[..open].to_string()));
        }
        let name = &rest[open + 1..close];
        let index = route
            .variables()
            .iter()
            .position(|v| v.field_path == name)
            .ok_or_else(|| {
                format!(
                    "upstream path `{path}` names `{{{name}}}`, which the route `{}` does not capture",
                    route.as_str()
                )
            })?;
        pieces.push(Piece::Variable(index));
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("upstream path `{path}`: unbalanced braces"));
    }
    if !rest.is_empty() {
        pieces.push(Piece::Literal(rest.to_string()));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use api_model::upstream::RegexRewrite;

    use super::*;

    /// (route, target path, strip prefix, regex, request path, expected upstream path)
    type Case = (
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Option<(&'static str, &'static str)>,
        &'static str,
        &'static str,
    );

    const CASES: &[Case] = &[
        (
            "/api/v1/users/{id}",
            Some("/users/{id}"),
            None,
            None,
            "/api/v1/users/42",
            "/users/42",
        ),
        (
            "/api/v1/users/{id}",
            Some("/users/{id}"),
            None,
            None,
            "/api/v1/users/a%2Fb",
            "/users/a%2Fb",
        ),
        (
            "/api/{rest=**}",
            Some("/{rest}"),
            None,
            None,
            "/api/x/y%20z/",
            "/x/y%20z/",
        ),
        (
            "/api/{rest=**}",
            None,
            Some("/api"),
            None,
            "/api/x/y",
            "/x/y",
        ),
        ("/api/{rest=**}", None, Some("/api/"), None, "/api/x", "/x"),
        ("/api", None, Some("/api"), None, "/api", "/"),
        ("/apis/{x}", None, Some("/api"), None, "/apis/1", "/apis/1"),
        ("/a/{x}", None, None, None, "/a/%E2%9C%93", "/a/%E2%9C%93"),
        (
            "/v1/{id}",
            None,
            None,
            Some(("^/v1/", "/v2/")),
            "/v1/7",
            "/v2/7",
        ),
        (
            "/shop/{sku}",
            Some("/items/{sku}"),
            None,
            Some((r"^/items/(\d+)$", "/items/id-$1")),
            "/shop/12",
            "/items/id-12",
        ),
        ("/p/{a}/{b}", Some("/{b}/{a}"), None, None, "/p/1/2", "/2/1"),
    ];

    #[test]
    fn rewrites() {
        for &(route, path, strip, regex, request, expected) in CASES {
            let template = PathTemplate::parse(route).expect(route);
            let target = HttpTarget {
                path: path.map(str::to_string),
                strip_prefix: strip.map(str::to_string),
                regex_rewrite: regex.map(|(pattern, replacement)| RegexRewrite {
                    pattern: pattern.into(),
                    replacement: replacement.into(),
                }),
                ..HttpTarget::default()
            };
            let rewrite = PathRewrite::compile(&target, &template).expect(route);
            assert_eq!(
                rewrite.apply(request, &template),
                expected,
                "{route} ← {request}"
            );
        }
    }

    #[test]
    fn a_template_names_only_captured_variables() {
        let template = PathTemplate::parse("/users/{id}").expect("template");
        let target = HttpTarget {
            path: Some("/u/{user}".into()),
            ..HttpTarget::default()
        };
        let err = PathRewrite::compile(&target, &template)
            .err()
            .expect("refused");
        assert!(err.contains("`{user}`"), "{err}");
        let bad_regex = HttpTarget {
            regex_rewrite: Some(RegexRewrite {
                pattern: "(".into(),
                replacement: String::new(),
            }),
            ..HttpTarget::default()
        };
        assert!(PathRewrite::compile(&bad_regex, &template).is_err());
    }
}
