//! [`BypassLayer`]: routes that run outside every tenant (admin, health).

use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use http::{Request, Response};
use strav_orm::{current_schema_context, without_schema};
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument;

use crate::body::TenantBody;
use crate::extract::Tenant;

/// Runs the inner service in `without_schema`: no tenant, whatever the
/// request's host, headers or path say, and whatever layer ran before. The
/// [`Tenant`] a tenant layer may have attached is removed, so nothing inside
/// can read one. Per-tenant models refuse to run inside; reach tenants on
/// purpose with `SchemaManager::execute_schema` or `with_schema`.
#[derive(Debug, Clone, Copy, Default)]
pub struct BypassLayer;

impl BypassLayer {
    /// The layer.
    pub fn new() -> Self {
        BypassLayer
    }
}

impl<S> Layer<S> for BypassLayer {
    type Service = BypassService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        BypassService { inner }
    }
}

/// The service of [`BypassLayer`].
#[derive(Debug, Clone)]
pub struct BypassService<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for BypassService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<TenantBody<ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        request.extensions_mut().remove::<Tenant>();
        let span = tracing::info_span!("request", bypass = true);
        let body_span = span.clone();
        let run = without_schema(async move {
            let response = inner.call(request).await;
            let context = current_schema_context();
            response.map(|r| r.map(|b| TenantBody::scoped(b, context, body_span)))
        });
        Box::pin(run.instrument(span))
    }
}
