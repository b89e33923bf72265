//! [`RequireTenantLayer`]: refuse requests that name no tenant.

use std::task::{Context, Poll};

use futures_util::future::{BoxFuture, FutureExt};
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::body::TenantBody;
use crate::error::TenantError;
use crate::rejection::Rejection;

/// Answers a request that is not inside a tenant scope with
/// [`TenantError::Missing`] (404 by default) instead of running the inner
/// service. Put it inside a [`crate::TenantLayer`] (with axum:
/// `Router::route_layer`), around the routes that only make sense for a
/// tenant.
#[derive(Debug, Clone, Default)]
pub struct RequireTenantLayer {
    rejection: Rejection,
}

impl RequireTenantLayer {
    /// Refusals as JSON with 404.
    pub fn new() -> Self {
        RequireTenantLayer::default()
    }

    /// How refusals are answered.
    pub fn rejection(mut self, rejection: Rejection) -> Self {
        self.rejection = rejection;
        self
    }
}

impl<S> Layer<S> for RequireTenantLayer {
    type Service = RequireTenant<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequireTenant {
            inner,
            rejection: self.rejection.clone(),
        }
    }
}

/// The service of [`RequireTenantLayer`].
#[derive(Debug, Clone)]
pub struct RequireTenant<S> {
    inner: S,
    rejection: Rejection,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequireTenant<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<TenantBody<ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The task-local scope is what routes queries, so it is what counts.
        if strav_orm::current_schema().is_none() {
            let response = self.rejection.response(&TenantError::Missing);
            return futures_util::future::ready(Ok(response.map(TenantBody::refused))).boxed();
        }
        self.inner
            .call(request)
            .map(|r| r.map(|r| r.map(|b| TenantBody::scoped(b, None, tracing::Span::none()))))
            .boxed()
    }
}
