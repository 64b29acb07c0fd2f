//! Adds a trailer to successful responses. tonic has no API for custom trailers on a successful unary call
//! (it writes `grpc-status` itself), so this wraps the HTTP body and extends its final trailers frame.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use http_body::{Frame, SizeHint};
use tonic::Status;
use tonic::body::Body;
use tonic::codegen::{BoxFuture, Service};
use tonic::server::NamedService;

/// A service whose responses to `method` (a full path such as `/demo.echo.v1.Echo/Echo`) carry one more
/// trailer.
#[derive(Debug, Clone)]
pub struct WithTrailer<S> {
    inner: S,
    method: &'static str,
    name: HeaderName,
    value: HeaderValue,
}

impl<S> WithTrailer<S> {
    pub fn new(inner: S, method: &'static str, name: &'static str, value: &'static str) -> Self {
        WithTrailer {
            inner,
            method,
            name: HeaderName::from_static(name),
            value: HeaderValue::from_static(value),
        }
    }
}

impl<S: NamedService> NamedService for WithTrailer<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> Service<http::Request<B>> for WithTrailer<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let extra =
            (request.uri().path() == self.method).then(|| (self.name.clone(), self.value.clone()));
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            Ok(match extra {
                Some(extra) => response.map(|inner| {
                    Body::new(TrailerBody {
                        inner,
                        extra: Some(extra),
                    })
                }),
                None => response,
            })
        })
    }
}

/// Passes `inner` through, inserting `extra` into its trailers frame.
struct TrailerBody {
    inner: Body,
    extra: Option<(HeaderName, HeaderValue)>,
}

impl http_body::Body for TrailerBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let frame = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        let frame = frame.map(|frame| {
            frame.map(|frame| match frame.into_trailers() {
                Ok(mut trailers) => {
                    if let Some((name, value)) = self.extra.take() {
                        trailers.insert(name, value);
                    }
                    Frame::trailers(trailers)
                }
                Err(frame) => frame,
            })
        });
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
