//! `kind: fallback`: a fixed answer when the backend cannot give one, marked `x-gateway-fallback: true`
//! so a caller can tell it from the backend's. It wraps the bulkhead, deadline, retries and breaker,
//! so it sees each of their refusals.

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use super::outcome::{FailureClass, classify, classify_answer};
use super::{Interceptor, Next};
use crate::access::{Exchange, Reply, ReplyBody};
use crate::error::GatewayError;

pub const MARK: HeaderName = HeaderName::from_static("x-gateway-fallback");

pub struct Fallback {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub on: Vec<FailureClass>,
}

impl Fallback {
    pub fn build(spec: &api_model::policy::Fallback) -> Result<Fallback, String> {
        let status = crate::error::status_from(spec.status)
            .ok_or_else(|| format!("fallback: {} is not a status", spec.status))?;
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (name, value) in &spec.headers {
            let name = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
                .map_err(|_| format!("fallback: `{name}` is not a header name"))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| format!("fallback: the value of `{name}` is not a header value"))?;
            headers.insert(name, value);
        }
        headers.insert(MARK, HeaderValue::from_static("true"));
        let on = spec
            .on
            .iter()
            .map(|class| {
                FailureClass::parse(class)
                    .ok_or_else(|| format!("fallback: `{class}` is not a class"))
            })
            .collect::<Result<_, _>>()?;
        let body = serde_json::to_vec(&spec.body).map_err(|err| format!("fallback body: {err}"))?;
        Ok(Fallback {
            status,
            headers,
            body: Bytes::from(body),
            on,
        })
    }
}

#[async_trait]
impl Interceptor for Fallback {
    async fn intercept(&self, exchange: Exchange, next: Next<'_>) -> Result<Reply, GatewayError> {
        match next.run(exchange).await {
            Err(err) if classify(&err).is_some_and(|class| self.on.contains(&class)) => {
                tracing::info!(code = err.code(), message = %err.message, "answered by the API's fallback");
                Ok(Reply {
                    status: self.status,
                    headers: self.headers.clone(),
                    body: ReplyBody::Full(self.body.clone()),
                })
            }
            Ok(reply) if classify_answer(&reply).is_some_and(|class| self.on.contains(&class)) => {
                tracing::info!(
                    status = reply.status.as_u16(),
                    "an upstream's 5xx answered by the API's fallback"
                );
                Ok(Reply {
                    status: self.status,
                    headers: self.headers.clone(),
                    body: ReplyBody::Full(self.body.clone()),
                })
            }
            other => other,
        }
    }
}
