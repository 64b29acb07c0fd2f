//! A Dubbo route's call: coerce the request into typed arguments, invoke the provider (directly, or
//! generically through `$invoke`), render the reply or map the exception.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use dubbo_codec::hessian2::Value;

use super::read_body;
use crate::access::request_id;
use crate::access::{Exchange, Reply};
use crate::error::GatewayError;
use crate::invoke::dubbo::{DubboClient, Invocation, Outcome, generic, status};
use crate::mapping::RequestInput;
use crate::mapping::dubbo::{ArgsPlan, ReplyOptions, exception, render};

/// Everything one Dubbo route needs per request, resolved when the snapshot was compiled.
pub struct DubboPlan {
    pub interface: String,
    pub method: String,
    pub version: Option<String>,
    pub group: Option<String>,
    pub generic: bool,
    pub args: ArgsPlan,
    /// Erased parameter types, computed once from `args`.
    pub parameter_types: Vec<String>,
    pub reply: ReplyOptions,
    /// Exception class (fully qualified or simple name) → HTTP status, each checked when compiled.
    pub exceptions: HashMap<String, u16>,
    /// The API's timeout, used when no deadline interceptor set one.
    pub timeout: Duration,
    /// The API's constant attachments, sent on every call.
    pub attachments: Arc<[(String, String)]>,
}

/// The plan and the client over the backend's providers.
pub struct DubboCall {
    pub plan: DubboPlan,
    pub client: DubboClient,
}

impl DubboCall {
    pub async fn call(&self, mut exchange: Exchange) -> Result<Reply, GatewayError> {
        let plan = &self.plan;
        let (body, content_type) = read_body(&mut exchange).await?;
        let arguments =
            plan.args
                .build(&RequestInput::of(&exchange, content_type.as_deref(), &body))?;
        let timeout = exchange.remaining()?.unwrap_or(plan.timeout);
        let reply = self
            .client
            .invoke(plan.invocation(arguments, timeout, &exchange))
            .await;
        let reply = reply
            .map_err(|err| status::to_error(err, &format!("{}.{}", plan.interface, plan.method)))?;
        let json = match &reply.outcome {
            Outcome::Value(value) => render(value, &plan.reply),
            Outcome::Null => serde_json::Value::Null,
            Outcome::Exception(thrown) => return Err(plan.exception(thrown)),
        };
        let bytes = serde_json::to_vec(&json)
            .map_err(|err| GatewayError::internal(format!("rendering the reply: {err}")))?;
        Ok(Reply::json(bytes))
    }
}

impl DubboPlan {
    /// The call with its attachments: the timeout, the request id, and the caller's identity when a
    /// policy established one.
    fn invocation(
        &self,
        arguments: Vec<Value>,
        timeout: Duration,
        exchange: &Exchange,
    ) -> Invocation {
        let mut attachments = Vec::with_capacity(self.attachments.len() + 3);
        attachments.extend(self.attachments.iter().cloned());
        attachments.push(("timeout".to_string(), timeout.as_millis().to_string()));
        if !exchange.request_id.is_empty() {
            attachments.push((
                request_id::HEADER.as_str().to_string(),
                exchange.request_id.clone(),
            ));
        }
        if let Some(identity) = &exchange.identity {
            for (name, value) in identity.downstream() {
                if let Ok(text) = value.to_str() {
                    attachments.push((name.as_str().to_string(), text.to_string()));
                }
            }
        }
        let (method, parameter_types, arguments) = if self.generic {
            let (key, value) = generic::ATTACHMENT;
            attachments.push((key.into(), value.into()));
            generic::wrap(&self.method, &self.parameter_types, arguments)
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

    /// A business exception: the API's table names the status (by full or simple class name).
    fn exception(&self, thrown: &Value) -> GatewayError {
        let (class, message) = exception(thrown);
        let simple = class.rsplit('.').next().unwrap_or(&class);
        let mapped = self
            .exceptions
            .get(&class)
            .or_else(|| self.exceptions.get(simple))
            .copied();
        status::exception_error(&class, &message, mapped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Identity;
    use crate::mapping::dubbo::PojoForm;

    fn plan(generic: bool) -> DubboPlan {
        let args = ArgsPlan::compile(&[], &[], PojoForm::Object, &Default::default())
            .unwrap_or_else(|e| panic!("{e}"));
        DubboPlan {
            interface: "org.example.Users".into(),
            method: "list".into(),
            version: None,
            group: None,
            generic,
            parameter_types: args.parameter_types(),
            args,
            reply: ReplyOptions {
                include_class: false,
                longs: Default::default(),
            },
            exceptions: HashMap::new(),
            timeout: Duration::from_secs(1),
            attachments: Arc::from([("tag".to_string(), "gray".to_string())]),
        }
    }

    /// The caller's identity and the API's constants reach a Dubbo provider as attachments, as gRPC
    /// gets them as metadata.
    #[test]
    fn the_identity_travels_as_attachments() {
        let mut exchange = Exchange::for_test(http::Method::GET, "/", "");
        exchange.request_id = "req-1".into();
        exchange.identity = Some(Arc::new(Identity {
            consumer: Some("partner".into()),
            subject: "partner".into(),
            method: "api_key",
            credential: "k1".into(),
            downstream: vec![(
                http::HeaderName::from_static("x-user-scope"),
                http::HeaderValue::from_static("read"),
            )],
        }));
        for generic in [false, true] {
            let invocation =
                plan(generic).invocation(Vec::new(), Duration::from_secs(1), &exchange);
            let has = |key: &str, value: &str| {
                invocation
                    .attachments
                    .iter()
                    .any(|(k, v)| k == key && v == value)
            };
            assert!(
                has("x-consumer-id", "partner"),
                "{:?}",
                invocation.attachments
            );
            assert!(has("x-user-scope", "read"));
            assert!(has("x-request-id", "req-1"));
            assert!(has("tag", "gray"), "the API's constant attachment");
            assert_eq!(has("generic", "true"), generic);
        }
        // Without an identity, no consumer id travels.
        let anonymous = Exchange::for_test(http::Method::GET, "/", "");
        let invocation = plan(false).invocation(Vec::new(), Duration::from_secs(1), &anonymous);
        assert!(
            !invocation
                .attachments
                .iter()
                .any(|(k, _)| k == "x-consumer-id")
        );
    }
}
