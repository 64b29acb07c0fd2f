//! `kind: cors`: answers preflights itself (before any other policy can refuse them: a browser sends no
//! credentials with a preflight), refuses cross-origin requests from origins, or with methods or
//! headers, the API does not allow, and puts `Access-Control-*` on every answer to an allowed origin,
//! refusals included, so a page can read why it was refused.

use async_trait::async_trait;
use http::header::{self, HeaderValue};
use http::{HeaderMap, Method};

use super::{Interceptor, Next};
use crate::access::request_id;
use crate::access::{Exchange, Reply};
use crate::error::{ErrorKind, GatewayError};
use api_model::policy::OriginPattern;

pub struct Cors {
    origins: Vec<OriginPattern>,
    methods: Vec<Method>,
    /// Lowercase; `*` allows any.
    headers: Vec<String>,
    allow_methods: HeaderValue,
    allow_headers: Option<HeaderValue>,
    expose_headers: HeaderValue,
    credentials: bool,
    max_age: HeaderValue,
}

impl Cors {
    pub fn build(spec: &api_model::policy::Cors) -> Result<Cors, String> {
        let origins = spec
            .allow_origins
            .iter()
            .map(|o| OriginPattern::parse(o).map_err(|why| format!("cors: origin `{o}`: {why}")))
            .collect::<Result<Vec<_>, _>>()?;
        let methods = spec
            .allow_methods
            .iter()
            .map(|m| {
                Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                    .map_err(|_| format!("cors: `{m}` is not a method"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let value = |text: String| {
            HeaderValue::from_str(&text)
                .map_err(|_| format!("cors: `{text}` is not a header value"))
        };
        let headers: Vec<String> = spec
            .allow_headers
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        let mut exposed: Vec<String> = spec
            .expose_headers
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        if !exposed.iter().any(|h| h == request_id::HEADER.as_str()) {
            exposed.push(request_id::HEADER.as_str().to_string());
        }
        Ok(Cors {
            allow_methods: value(
                methods
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
            )?,
            allow_headers: if headers.is_empty() {
                None
            } else {
                Some(value(headers.join(", "))?)
            },
            expose_headers: value(exposed.join(", "))?,
            origins,
            methods,
            headers,
            credentials: spec.allow_credentials,
            max_age: value(spec.max_age.as_secs().to_string())?,
        })
    }

    fn allows(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o.matches(origin))
    }

    /// The headers every answer to an allowed origin carries.
    fn common(&self, origin: &HeaderValue) -> HeaderMap {
        let mut out = HeaderMap::new();
        let any = self.origins.contains(&OriginPattern::Any) && !self.credentials;
        out.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            if any {
                HeaderValue::from_static("*")
            } else {
                origin.clone()
            },
        );
        if self.credentials {
            out.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        // The answer depends on the Origin: caches must not serve one origin's answer to another.
        out.insert(header::VARY, HeaderValue::from_static("Origin"));
        out
    }

    fn preflight(&self, exchange: &Exchange, origin: &HeaderValue) -> Result<Reply, GatewayError> {
        let refuse = |why: String| GatewayError::new(ErrorKind::CorsRejected, why);
        let method = exchange
            .header("access-control-request-method")
            .and_then(|m| Method::from_bytes(m.trim().as_bytes()).ok())
            .ok_or_else(|| {
                refuse("a preflight names its method in Access-Control-Request-Method".into())
            })?;
        if !self.methods.contains(&method) {
            return Err(refuse(format!(
                "method {method} is not allowed cross-origin"
            )));
        }
        let asked: Vec<String> = exchange
            .header("access-control-request-headers")
            .unwrap_or("")
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        let any_header = self.headers.iter().any(|h| h == "*") && !self.credentials;
        if let Some(header) = asked
            .iter()
            .find(|h| !any_header && !self.headers.contains(h) && !safelisted(h))
        {
            return Err(refuse(format!(
                "header `{header}` is not allowed cross-origin"
            )));
        }
        let mut reply = Reply::empty_no_content();
        reply.headers = self.common(origin);
        reply.headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            self.allow_methods.clone(),
        );
        if any_header {
            if let Some(requested) = exchange.headers.get("access-control-request-headers") {
                reply
                    .headers
                    .insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
            }
        } else if let Some(allowed) = &self.allow_headers {
            reply
                .headers
                .insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allowed.clone());
        }
        reply
            .headers
            .insert(header::ACCESS_CONTROL_MAX_AGE, self.max_age.clone());
        Ok(reply)
    }
}

/// Headers a browser sends cross-origin without asking (the Fetch standard's CORS-safelisted names).
fn safelisted(name: &str) -> bool {
    matches!(
        name,
        "accept" | "accept-language" | "content-language" | "content-type"
    )
}

/// Whether a request is a CORS preflight rather than a call.
pub fn is_preflight(exchange: &Exchange) -> bool {
    exchange.method == Method::OPTIONS
        && exchange.headers.contains_key(header::ORIGIN)
        && exchange
            .headers
            .contains_key("access-control-request-method")
}

#[async_trait]
impl Interceptor for Cors {
    async fn intercept(&self, exchange: Exchange, next: Next<'_>) -> Result<Reply, GatewayError> {
        let Some(origin) = exchange.headers.get(header::ORIGIN).cloned() else {
            // Not a browser's cross-origin request: nothing to do.
            return next.run(exchange).await;
        };
        let text = origin.to_str().unwrap_or("");
        if !self.allows(text) {
            return Err(GatewayError::new(
                ErrorKind::CorsRejected,
                format!("origin `{text}` may not call this API"),
            ));
        }
        if is_preflight(&exchange) {
            return self.preflight(&exchange, &origin);
        }
        let common = self.common(&origin);
        let expose = self.expose_headers.clone();
        match next.run(exchange).await {
            Ok(mut reply) => {
                reply.headers.extend(common);
                reply
                    .headers
                    .insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, expose);
                Ok(reply)
            }
            Err(mut err) => {
                for (name, value) in common.iter() {
                    err = err.with_header(name.clone(), value.clone());
                }
                Err(err.with_header(header::ACCESS_CONTROL_EXPOSE_HEADERS, expose))
            }
        }
    }
}
