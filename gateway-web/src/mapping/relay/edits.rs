//! Header edits of a relayed request or response: `remove`, then `set`, then `add`, with values that
//! may read the request (`{path.VAR}`, `{query.NAME}`, `{header.NAME}`, `{consumer}`, `{client_ip}`,
//! `{request_id}`). Names and placeholders are checked when the route compiles.

use api_model::upstream::HeaderEdits;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::access::{Exchange, PathTemplate};
use crate::error::GatewayError;

#[derive(Default)]
pub struct HeaderEditPlan {
    remove: Vec<HeaderName>,
    set: Vec<(HeaderName, Value)>,
    add: Vec<(HeaderName, Value)>,
}

enum Value {
    /// Checked once: most values are constants.
    Constant(HeaderValue),
    Pieces(Vec<Piece>),
}

enum Piece {
    Literal(String),
    PathVariable(usize),
    Query(String),
    Header(HeaderName),
    Consumer,
    ClientIp,
    RequestId,
}

impl HeaderEditPlan {
    pub fn compile(edits: &HeaderEdits, route: &PathTemplate) -> Result<HeaderEditPlan, String> {
        let name = |text: &str| {
            HeaderName::from_bytes(text.as_bytes())
                .map_err(|_| format!("`{text}` is not a header name"))
        };
        let pairs = |map: &std::collections::BTreeMap<String, String>| {
            map.iter()
                .map(|(header, value)| Ok((name(header)?, compile_value(value, route)?)))
                .collect::<Result<Vec<_>, String>>()
        };
        Ok(HeaderEditPlan {
            remove: edits
                .remove
                .iter()
                .map(|h| name(h))
                .collect::<Result<_, _>>()?,
            set: pairs(&edits.set)?,
            add: pairs(&edits.add)?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.remove.is_empty() && self.set.is_empty() && self.add.is_empty()
    }

    /// Applies the edits; a value that renders into something no header may hold (a newline from a
    /// query parameter) is the client's mistake, a 400.
    pub fn apply(
        &self,
        headers: &mut HeaderMap,
        exchange: &Exchange,
        route: &PathTemplate,
    ) -> Result<(), GatewayError> {
        for name in &self.remove {
            headers.remove(name);
        }
        for (name, value) in &self.set {
            headers.insert(name.clone(), render(name, value, exchange, route)?);
        }
        for (name, value) in &self.add {
            headers.append(name.clone(), render(name, value, exchange, route)?);
        }
        Ok(())
    }
}

fn compile_value(text: &str, route: &PathTemplate) -> Result<Value, String> {
    if !text.contains('{') {
        return HeaderValue::from_str(text)
            .map(Value::Constant)
            .map_err(|_| format!("`{text}` is not a header value"));
    }
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .ok_or_else(|| format!("`{text}`: unbalanced braces"))?;
        if open > 0 {
            pieces.push(Piece::Literal(rest[..open].to_string()));
        }
        pieces.push(placeholder(&rest[open + 1..close], route)?);
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Literal(rest.to_string()));
    }
    Ok(Value::Pieces(pieces))
}

fn placeholder(name: &str, route: &PathTemplate) -> Result<Piece, String> {
    Ok(match name.split_once('.') {
        Some(("path", var)) => Piece::PathVariable(
            route
                .variables()
                .iter()
                .position(|v| v.field_path == var)
                .ok_or_else(|| {
                    format!(
                        "`{{{name}}}`: the route `{}` captures no `{var}`",
                        route.as_str()
                    )
                })?,
        ),
        Some(("query", key)) if !key.is_empty() => Piece::Query(key.to_string()),
        Some(("header", header)) => Piece::Header(
            HeaderName::from_bytes(header.as_bytes())
                .map_err(|_| format!("`{{{name}}}`: not a header name"))?,
        ),
        None if name == "consumer" => Piece::Consumer,
        None if name == "client_ip" => Piece::ClientIp,
        None if name == "request_id" => Piece::RequestId,
        _ => {
            return Err(format!(
                "`{{{name}}}`: use path.VAR, query.NAME, header.NAME, consumer, client_ip or request_id"
            ));
        }
    })
}

fn render(
    name: &HeaderName,
    value: &Value,
    exchange: &Exchange,
    route: &PathTemplate,
) -> Result<HeaderValue, GatewayError> {
    let pieces = match value {
        Value::Constant(value) => return Ok(value.clone()),
        Value::Pieces(pieces) => pieces,
    };
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.push_str(text),
            Piece::PathVariable(i) => {
                if let Some(value) = exchange.path_values.get(*i) {
                    out.push_str(value);
                } else if let Some(raw) = route.raw_values(&exchange.path).get(*i) {
                    out.push_str(raw);
                }
            }
            Piece::Query(key) => {
                if let Some((_, value)) = exchange.query.iter().find(|(k, _)| k == key) {
                    out.push_str(value);
                }
            }
            Piece::Header(header) => {
                if let Some(value) = exchange.header(header.as_str()) {
                    out.push_str(value);
                }
            }
            Piece::Consumer => {
                if let Some(identity) = &exchange.identity {
                    out.push_str(&identity.subject);
                }
            }
            Piece::ClientIp => {
                if let Some(ip) = exchange.client_ip {
                    out.push_str(&ip.to_string());
                }
            }
            Piece::RequestId => out.push_str(&exchange.request_id),
        }
    }
    HeaderValue::from_str(&out).map_err(|_| {
        GatewayError::invalid_argument(format!(
            "the value the API puts in header `{name}` is not a valid header value (it holds a control character)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;

    #[test]
    fn values_read_the_request() {
        let route = PathTemplate::parse("/users/{id}").expect("route");
        let edits = HeaderEdits {
            remove: vec!["cookie".into()],
            set: [
                ("x-user".to_string(), "u-{path.id}".to_string()),
                (
                    "x-src".to_string(),
                    "{query.src}/{header.x-app}".to_string(),
                ),
                ("x-const".to_string(), "gateway".to_string()),
            ]
            .into(),
            add: [("x-trace".to_string(), "{request_id}".to_string())].into(),
        };
        let plan = HeaderEditPlan::compile(&edits, &route).expect("compiles");
        let mut exchange = Exchange::for_test(Method::GET, "/users/7?src=web", "");
        exchange.path_values = vec!["7".into()];
        exchange.request_id = "rid-1".into();
        exchange
            .headers
            .insert("x-app", HeaderValue::from_static("shop"));
        let mut headers = HeaderMap::new();
        headers.insert("cookie", HeaderValue::from_static("a=1"));
        headers.insert("x-trace", HeaderValue::from_static("client"));
        plan.apply(&mut headers, &exchange, &route)
            .expect("applies");
        assert!(headers.get("cookie").is_none());
        assert_eq!(headers["x-user"], "u-7");
        assert_eq!(headers["x-src"], "web/shop");
        assert_eq!(headers["x-const"], "gateway");
        assert_eq!(headers.get_all("x-trace").iter().count(), 2);

        exchange.query = vec![("src".into(), "a\nb".into())];
        let err = plan
            .apply(&mut headers, &exchange, &route)
            .expect_err("newline");
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn unknown_placeholders_are_refused() {
        let route = PathTemplate::parse("/users/{id}").expect("route");
        for bad in ["{path.nope}", "{body.x}", "{consumer", "{}"] {
            let edits = HeaderEdits {
                set: [("x".to_string(), bad.to_string())].into(),
                ..HeaderEdits::default()
            };
            assert!(HeaderEditPlan::compile(&edits, &route).is_err(), "{bad}");
        }
    }
}
