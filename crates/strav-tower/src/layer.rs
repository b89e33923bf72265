//! [`TenantLayer`]: each request runs in the tenant it names, or in none.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use http::request::Parts;
use http::{Request, Response};
use strav_orm::{current_schema_context, with_schema, SchemaName};
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument;

use crate::body::TenantBody;
use crate::directory::TenantDirectory;
use crate::error::TenantError;
use crate::extract::Tenant;
use crate::rejection::Rejection;
use crate::resolve::{Chain, Header, PathPrefix, ResolveTenant, Resolver, Subdomain};

/// A tower layer that resolves each request's tenant, validates it and runs
/// the inner service inside `with_schema` (or, for a request that names
/// none, without a tenant). A name that is not a registered tenant is
/// answered by the layer and runs nothing in any tenant schema.
///
/// ```no_run
/// # use strav_tower::{TenantDirectory, TenantLayer, Subdomain};
/// # async fn demo(db: strav_orm::Database, router: axum::Router) {
/// let tenants = TenantDirectory::new(&db);
/// tenants.listen().await.expect("LISTEN for deleted tenants");
/// let app = router.layer(TenantLayer::new(tenants).subdomain(Subdomain::new("example.com")));
/// # }
/// ```
///
/// Resolvers are asked in the order they were added; the first that names
/// a tenant wins. Each request gets a `request` span with fields `tenant`
/// and `via` (which resolver), so every statement and log line inside it
/// carries the tenant; the response body is polled in the same tenant and
/// span (see [`TenantBody`]).
#[derive(Clone)]
pub struct TenantLayer {
    config: Arc<Config>,
}

#[derive(Clone)]
struct Config {
    directory: TenantDirectory,
    chain: Chain,
    rejection: Rejection,
}

impl TenantLayer {
    /// A layer with no resolver yet: add them with the methods below.
    pub fn new(directory: TenantDirectory) -> Self {
        TenantLayer {
            config: Arc::new(Config {
                directory,
                chain: Chain::default(),
                rejection: Rejection::default(),
            }),
        }
    }

    fn push(mut self, resolver: Resolver) -> Self {
        Arc::make_mut(&mut self.config).chain.0.push(resolver);
        self
    }

    /// Tenants from the subdomain of `Host`.
    pub fn subdomain(self, subdomain: Subdomain) -> Self {
        self.push(Resolver::Subdomain(subdomain))
    }

    /// Tenants from a header ([`Header::new`] for `X-Tenant-ID`). A client
    /// can set any header: enable this only behind something that sets it.
    pub fn header(self, header: Header) -> Self {
        self.push(Resolver::Header(header))
    }

    /// Tenants from a path prefix, stripped before the inner service sees
    /// the path. Wrap the whole router with this layer (not
    /// `Router::layer`, which runs after routing).
    pub fn path_prefix(self, prefix: PathPrefix) -> Self {
        self.push(Resolver::Path(prefix))
    }

    /// A resolver of your own (see [`ResolveTenant`]).
    pub fn custom(self, resolver: impl ResolveTenant) -> Self {
        self.push(Resolver::Custom(Arc::new(resolver)))
    }

    /// How refused requests are answered (default: JSON, 404 for unknown tenants).
    pub fn rejection(mut self, rejection: Rejection) -> Self {
        Arc::make_mut(&mut self.config).rejection = rejection;
        self
    }

    /// The directory names are checked against.
    pub fn directory(&self) -> &TenantDirectory {
        &self.config.directory
    }
}

impl<S> Layer<S> for TenantLayer {
    type Service = TenantService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        TenantService {
            inner,
            config: self.config.clone(),
        }
    }
}

/// The service of [`TenantLayer`].
#[derive(Clone)]
pub struct TenantService<S> {
    inner: S,
    config: Arc<Config>,
}

impl Config {
    /// The validated tenant `parts` names, if any.
    async fn tenant_of(&self, parts: &mut Parts) -> Result<Option<SchemaName>, TenantError> {
        let Some(candidate) = self.chain.resolve(parts).await? else {
            return Ok(None);
        };
        let span = tracing::Span::current();
        span.record("via", candidate.source);
        let schema = self.directory.check(&candidate.schema).await?;
        span.record("tenant", schema.as_str());
        Ok(Some(schema))
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TenantService<S>
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

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The clone is the one made ready by `poll_ready`'s caller next time.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let config = self.config.clone();
        let span = tracing::info_span!(
            "request",
            tenant = tracing::field::Empty,
            via = tracing::field::Empty
        );
        let run = async move {
            let (mut parts, body) = request.into_parts();
            let schema = match config.tenant_of(&mut parts).await {
                Ok(schema) => schema,
                Err(error) => {
                    tracing::debug!(target: "strav::tenant", %error, "request refused");
                    let response = config.rejection.response(&error);
                    return Ok(response.map(TenantBody::refused));
                }
            };
            let span = tracing::Span::current();
            let Some(schema) = schema else {
                // No tenant named: on without one, and per-tenant models
                // refuse to run (`Error::NoSchemaContext`).
                let response = inner.call(Request::from_parts(parts, body)).await?;
                return Ok(response.map(|b| TenantBody::scoped(b, None, span)));
            };
            parts.extensions.insert(Tenant(schema.clone()));
            let request = Request::from_parts(parts, body);
            let scoped = with_schema(schema, async move {
                let response = inner.call(request).await;
                let context = current_schema_context();
                Ok::<_, strav_orm::Error>(
                    response.map(|r| r.map(|b| TenantBody::scoped(b, context, span))),
                )
            });
            match scoped.await {
                Ok(response) => response,
                // Unreachable: the name is already a `SchemaName`.
                Err(e) => {
                    let error = TenantError::Unavailable(Arc::new(e));
                    Ok(config.rejection.response(&error).map(TenantBody::refused))
                }
            }
        };
        Box::pin(run.instrument(span))
    }
}
