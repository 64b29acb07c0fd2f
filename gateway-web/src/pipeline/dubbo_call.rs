//! The centre of a Dubbo API's chain: coerce the request into typed arguments, invoke the provider
//! (directly, or generically through `$invoke`), render the reply or map the exception.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use http::StatusCode;

use crate::access::{Exchange, Reply};
use crate::error::{ErrorKind, GatewayError};
use crate::interceptors::{Endpoint, request_id};
use crate::invoke::dubbo::hessian2::{List, Value};
use crate::invoke::dubbo::{DubboClient, DubboError, Invocation, Outcome};
use crate::mapping::RequestInput;
use crate::mapping::dubbo::{ArgsPlan, ReplyOptions, exception, render};

pub struct DubboCall {
    pub client: DubboClient,
    pub interface: String,
    pub method: String,
    pub version: Option<String>,
    pub group: Option<String>,
    pub generic: bool,
    pub args: ArgsPlan,
    /// Erased parameter types, computed once from `args`.
    pub parameter_types: Vec<String>,
    pub reply: ReplyOptions,
    /// Exception class (fully qualified or simple name) → status.
    pub exceptions: HashMap<String, StatusCode>,
    /// The API's timeout, used when no deadline interceptor set one.
    pub timeout: Duration,
}

/// `$invoke(String method, String[] parameterTypes, Object[] args)`.
const GENERIC_TYPES: [&str; 3] = [
    "java.lang.String",
    "java.lang.String[]",
    "java.lang.Object[]",
];

#[async_trait]
impl Endpoint for DubboCall {
    async fn call(&self, mut exchange: Exchange) -> Result<Reply, GatewayError> {
        let body = exchange.body().await?;
        let content_type = exchange.content_type();
        let arguments = self.args.build(&RequestInput {
            path_values: &exchange.path_values,
            query: &exchange.query,
            headers: &exchange.headers,
            content_type: content_type.as_deref(),
            body: &body,
        })?;
        let timeout = exchange.remaining()?.unwrap_or(self.timeout);
        let reply = self
            .client
            .invoke(self.invocation(arguments, timeout, &exchange.request_id))
            .await;
        let reply = reply.map_err(|err| self.error(err))?;
        let json = match &reply.outcome {
            Outcome::Value(value) => render(value, &self.reply),
            Outcome::Null => serde_json::Value::Null,
            Outcome::Exception(thrown) => return Err(self.exception(thrown)),
        };
        let bytes = serde_json::to_vec(&json)
            .map_err(|err| GatewayError::internal(format!("rendering the reply: {err}")))?;
        Ok(Reply::json(bytes))
    }
}

impl DubboCall {
    fn invocation(&self, arguments: Vec<Value>, timeout: Duration, request_id: &str) -> Invocation {
        let mut attachments = vec![("timeout".to_string(), timeout.as_millis().to_string())];
        if !request_id.is_empty() {
            attachments.push((
                request_id::HEADER.as_str().to_string(),
                request_id.to_string(),
            ));
        }
        let (method, parameter_types, arguments) = if self.generic {
            attachments.push(("generic".into(), "true".into()));
            let types = self
                .parameter_types
                .iter()
                .map(|t| Value::String(t.clone()))
                .collect();
            (
                "$invoke".to_string(),
                GENERIC_TYPES.iter().map(|t| t.to_string()).collect(),
                vec![
                    Value::String(self.method.clone()),
                    Value::List(List {
                        type_name: Some("[string".into()),
                        items: types,
                    }),
                    Value::List(List {
                        type_name: Some("[object".into()),
                        items: arguments,
                    }),
                ],
            )
        } else {
            (self.method.clone(), self.parameter_types.clone(), arguments)
        };
        Invocation {
            service: self.interface.clone(),
            version: self.version.clone(),
            group: self.group.clone(),
            method,
            parameter_types,
            arguments,
            attachments,
            timeout,
        }
    }

    /// A business exception: the API's table decides the status (by full or simple class name), else 502.
    fn exception(&self, thrown: &Value) -> GatewayError {
        let (class, message) = exception(thrown);
        let simple = class.rsplit('.').next().unwrap_or(&class);
        let status = self
            .exceptions
            .get(&class)
            .or_else(|| self.exceptions.get(simple))
            .copied()
            .unwrap_or(StatusCode::BAD_GATEWAY);
        let text = if class.is_empty() {
            message.clone()
        } else {
            format!("{class}: {message}")
        };
        GatewayError::new(
            ErrorKind::Upstream {
                status,
                code: "backend_exception",
            },
            text,
        )
        .with_details(serde_json::json!([{ "exception": class, "message": message }]))
    }

    fn error(&self, err: DubboError) -> GatewayError {
        let target = format!("{}.{}", self.interface, self.method);
        match err {
            DubboError::Timeout(after) => GatewayError::new(
                ErrorKind::DeadlineExceeded,
                format!(
                    "{target} did not answer within {}",
                    humantime::format_duration(after)
                ),
            ),
            DubboError::NoProvider(what) => GatewayError::new(
                ErrorKind::BackendUnavailable,
                format!("no live provider: {what}"),
            ),
            DubboError::Unavailable(what) => GatewayError::new(
                ErrorKind::BackendUnavailable,
                format!("provider unreachable: {what}"),
            ),
            DubboError::Status { status, message } => {
                let (http, code) = match status {
                    30 | 31 => (StatusCode::GATEWAY_TIMEOUT, "deadline_exceeded"),
                    60 => (StatusCode::BAD_GATEWAY, "service_not_found"),
                    70 => (StatusCode::BAD_GATEWAY, "service_error"),
                    100 => (StatusCode::SERVICE_UNAVAILABLE, "provider_overloaded"),
                    _ => (StatusCode::BAD_GATEWAY, "backend_error"),
                };
                GatewayError::new(
                    ErrorKind::Upstream { status: http, code },
                    format!("{target}: provider answered status {status}: {message}"),
                )
            }
            DubboError::Protocol(what) => {
                GatewayError::new(ErrorKind::BadGateway, format!("{target}: {what}"))
            }
            DubboError::PayloadTooLarge(size) => GatewayError::new(
                ErrorKind::BadGateway,
                format!("{target}: a body of {size} bytes is over the backend's payload limit"),
            ),
        }
    }
}
