//! An HTTP upstream route's call: the request relayed, not translated. Path rewritten, headers
//! edited and forwarded as a proxy must, the body streamed both ways (never held whole), an endpoint
//! leased from the upstream's pool and told how the exchange went.

use std::sync::Arc;
use std::time::Duration;

use api_model::upstream::{HashOn, HostHeader};
use bytes::Bytes;
use http::{HeaderValue, Request, header};
use http_body_util::BodyExt;

use crate::access::identity::CONSUMER_HEADER;
use crate::access::{Exchange, PathTemplate, Reply, ReplyBody, request_id};
use crate::error::{ErrorKind, GatewayError};
use crate::invoke::http::{Lease, Upstream, status, tunnel};
use crate::mapping::relay::{HeaderEditPlan, JsonEdit, PathRewrite, forwarding};

/// Everything one HTTP route needs per request, resolved when the snapshot was compiled.
pub struct HttpPlan {
    /// The route's template, whose variables rewrites and header values read.
    pub route: PathTemplate,
    pub rewrite: PathRewrite,
    pub request_headers: HeaderEditPlan,
    pub response_headers: HeaderEditPlan,
    /// JSON edits of the request body and of the response body.
    pub request_body: Option<JsonEdit>,
    pub response_body: Option<JsonEdit>,
    /// Largest request body relayed; the node's body limit when `None`.
    pub max_request_body: Option<u64>,
    pub max_response_body: Option<u64>,
    pub via: bool,
    /// How long the upstream may take to start answering, when no deadline interceptor set one.
    pub timeout: Duration,
}

/// The plan and the upstream pool it relays to.
pub struct HttpCall {
    pub plan: HttpPlan,
    pub upstream: Arc<Upstream>,
}

impl HttpCall {
    pub async fn call(&self, mut exchange: Exchange) -> Result<Reply, GatewayError> {
        let plan = &self.plan;
        let key = self.hash_key(&exchange);
        let lease = self.upstream.lease(key.as_deref())?;
        let upgrade = exchange.upgrade.take();
        let request = plan
            .request(&mut exchange, &lease, upgrade.is_some())
            .await?;
        let timeout = exchange.remaining()?.unwrap_or(plan.timeout);
        let endpoint = lease.endpoint().address.as_str();
        let response =
            match tokio::time::timeout(timeout, self.upstream.client.request(request)).await {
                Ok(Ok(response)) => response,
                Ok(Err(err)) => {
                    let error = status::to_error(&err, &self.upstream.name, endpoint);
                    if !matches!(error.kind, ErrorKind::PayloadTooLarge) {
                        lease.failed();
                    }
                    return Err(error);
                }
                Err(_) => {
                    lease.failed();
                    return Err(GatewayError::new(
                        ErrorKind::DeadlineExceeded,
                        format!(
                            "backend `{}`: {endpoint} did not answer within {}",
                            self.upstream.name,
                            crate::error::readable(timeout)
                        ),
                    ));
                }
            };
        if response.status().is_server_error() {
            lease.failed();
        } else {
            lease.succeeded();
        }
        // hyper's client consumes every 1xx but 101 Switching Protocols, so only 101 is seen here.
        if response.status().is_informational() {
            return match upgrade {
                Some(client) => plan.switch(response, &exchange, lease, client),
                None => Err(GatewayError::new(
                    ErrorKind::BadGateway,
                    format!(
                        "backend `{}`: {endpoint} switched protocols unasked",
                        self.upstream.name
                    ),
                )),
            };
        }
        let mut reply = plan.reply(response, &exchange, lease)?;
        if let Some(edit) = &plan.response_body {
            let body = match std::mem::replace(&mut reply.body, ReplyBody::Full(Bytes::new())) {
                ReplyBody::Relay(body) => body,
                other => {
                    return Ok(Reply {
                        body: other,
                        ..reply
                    });
                }
            };
            let body = edit
                .edit_body(&mut reply.headers, body, upstream_body_error)
                .await?;
            reply.body = ReplyBody::Relay(body);
        }
        Ok(reply)
    }

    /// The consistent hash's key for this request, when the upstream hashes.
    fn hash_key(&self, exchange: &Exchange) -> Option<Vec<u8>> {
        let on = self.upstream.hash_on.as_ref()?;
        let text: Option<String> = match on {
            HashOn::Header(name) => exchange.header(name).map(str::to_string),
            HashOn::Cookie(name) => cookie(exchange, name),
            HashOn::PathVariable(name) => self
                .plan
                .route
                .variables()
                .iter()
                .position(|v| &v.field_path == name)
                .and_then(|i| exchange.path_values.get(i).cloned()),
            HashOn::Query(name) => exchange
                .query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
            HashOn::Consumer => exchange.identity.as_ref().map(|i| i.subject.clone()),
            HashOn::ClientIp => exchange.client_ip.map(|ip| ip.to_string()),
        };
        text.map(String::into_bytes)
    }
}

impl HttpPlan {
    /// The upstream request: rewritten target, relayed headers, the body as a stream.
    /// With `upgrading`, the client's `Upgrade` (WebSocket) is asked of the upstream too.
    async fn request(
        &self,
        exchange: &mut Exchange,
        lease: &Lease,
        upgrading: bool,
    ) -> Result<Request<axum::body::Body>, GatewayError> {
        let endpoint = lease.endpoint();
        let mut target = self.rewrite.apply(&exchange.path, &self.route);
        if let Some(query) = exchange.uri.query() {
            target.push('?');
            target.push_str(query);
        }
        let uri = http::Uri::builder()
            .scheme(endpoint.scheme.clone())
            .authority(endpoint.authority.clone())
            .path_and_query(target)
            .build()
            .map_err(|err| {
                GatewayError::invalid_argument(format!("the rewritten path is not a path: {err}"))
            })?;

        // A copy: header edits read the request as the client sent it.
        let mut headers = exchange.headers.clone();
        let client_host = headers.get(header::HOST).cloned().or_else(|| {
            exchange
                .uri
                .authority()
                .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        });
        forwarding::strip_hop_by_hop(&mut headers, upgrading);
        if upgrading {
            headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        }
        let shown_host = client_host
            .as_ref()
            .and_then(|h| h.to_str().ok())
            .map(str::to_string);
        forwarding::add_forwarded(
            &mut headers,
            exchange.remote.map(|r| r.ip()),
            exchange.scheme(),
            shown_host.as_deref(),
        );
        if self.via {
            forwarding::add_via(&mut headers, exchange.version);
        }
        let host = match &lease.upstream().host {
            HostHeader::Upstream => Some(endpoint.host_header.clone()),
            HostHeader::Preserve => client_host,
            HostHeader::Value(value) => HeaderValue::from_str(value).ok(),
        };
        match host {
            Some(host) => headers.insert(header::HOST, host),
            None => headers.remove(header::HOST),
        };
        if let Ok(id) = HeaderValue::from_str(&exchange.request_id) {
            headers.insert(request_id::HEADER, id);
        }
        // Who the caller is travels only as the gateway established it, never as the client wrote it.
        headers.remove(CONSUMER_HEADER);
        if let Some(identity) = &exchange.identity {
            for (name, value) in identity.downstream() {
                headers.insert(name, value);
            }
        }
        self.request_headers
            .apply(&mut headers, exchange, &self.route)?;

        let wait = exchange.remaining()?.unwrap_or(self.timeout);
        let mut body = exchange.relay_body(self.max_request_body)?;
        if let Some(edit) = &self.request_body {
            // Here the gateway itself waits for the body (holding an endpoint): a client that
            // trickles it gets as long as the call would have, then a 408.
            body =
                tokio::time::timeout(wait, edit.edit_body(&mut headers, body, client_body_error))
                    .await
                    .map_err(|_| {
                        GatewayError::new(
                            ErrorKind::RequestTimeout,
                            format!(
                                "the request body did not arrive within {}",
                                crate::error::readable(wait)
                            ),
                        )
                    })??;
        }
        let mut request = Request::new(body);
        *request.method_mut() = exchange.method.clone();
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        Ok(request)
    }

    /// The client's reply: status and headers as the upstream sent them (less its hop's fields, plus
    /// the edits), the body streamed, and the lease held until the body is done.
    fn reply(
        &self,
        response: http::Response<hyper::body::Incoming>,
        exchange: &Exchange,
        lease: Lease,
    ) -> Result<Reply, GatewayError> {
        let (parts, body) = response.into_parts();
        if let Some(limit) = self.max_response_body
            && http_body::Body::size_hint(&body).lower() > limit
        {
            return Err(GatewayError::new(
                ErrorKind::BadGateway,
                format!(
                    "backend `{}` answered with a body above this API's {limit}-byte limit",
                    lease.upstream().name
                ),
            ));
        }
        let mut headers = parts.headers;
        forwarding::strip_hop_by_hop(&mut headers, false);
        if self.via {
            forwarding::add_via(&mut headers, parts.version);
        }
        self.response_headers
            .apply(&mut headers, exchange, &self.route)?;
        // The lease rides with the body: least-request counts a download until its last byte.
        let body = body.map_frame(move |frame| {
            let _held = &lease;
            frame
        });
        let body = match self.max_response_body {
            Some(limit) => axum::body::Body::new(http_body_util::Limited::new(
                body,
                usize::try_from(limit).unwrap_or(usize::MAX),
            )),
            None => axum::body::Body::new(body),
        };
        Ok(Reply {
            status: parts.status,
            headers,
            body: ReplyBody::Relay(body),
        })
    }
}

impl HttpPlan {
    /// The client's 101: the upstream's head (its `Upgrade` and handshake fields kept), and a task
    /// that joins the two connections once both have switched.
    fn switch(
        &self,
        mut response: http::Response<hyper::body::Incoming>,
        exchange: &Exchange,
        lease: Lease,
        client: hyper::upgrade::OnUpgrade,
    ) -> Result<Reply, GatewayError> {
        let upstream = hyper::upgrade::on(&mut response);
        let (parts, _) = response.into_parts();
        let mut headers = parts.headers;
        forwarding::strip_hop_by_hop(&mut headers, true);
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        if self.via {
            forwarding::add_via(&mut headers, parts.version);
        }
        self.response_headers
            .apply(&mut headers, exchange, &self.route)?;
        tokio::spawn(tunnel::join(client, upstream, lease));
        Ok(Reply {
            status: parts.status,
            headers,
            body: ReplyBody::Full(Bytes::new()),
        })
    }
}

/// A client's body that failed while it was read for an edit: too long (413) or broken off (400).
fn client_body_error(err: axum::Error) -> GatewayError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(cause) = source {
        if cause.is::<http_body_util::LengthLimitError>() {
            return GatewayError::new(ErrorKind::PayloadTooLarge, format!("request body: {cause}"));
        }
        source = cause.source();
    }
    GatewayError::invalid_argument(format!("could not read the request body: {err}"))
}

/// An upstream's body that failed while it was read for an edit.
fn upstream_body_error(err: axum::Error) -> GatewayError {
    GatewayError::new(
        ErrorKind::BadGateway,
        format!("the backend's answer broke off or was too long: {err}"),
    )
}

/// One cookie's value from the `Cookie` headers.
fn cookie(exchange: &Exchange, name: &str) -> Option<String> {
    exchange
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}
