//! A resolver of your own: a closure or a type.

use std::future::Future;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use http::request::Parts;

use crate::error::BoxError;

/// A resolver written by the application, e.g. custom domains looked up in
/// a table of `public`. Returns the schema name (validated afterwards like
/// any other), `None` to let the next resolver try, or an error (answered
/// with 503).
///
/// Any `Fn(&Parts) -> impl Future<Output = Result<Option<String>, BoxError>>`
/// is one; the future must own what it needs (clone it out of `Parts`
/// before the `async move` block):
///
/// ```no_run
/// # use strav_tower::TenantLayer;
/// # fn demo(layer: TenantLayer, db: strav_orm::Database) -> TenantLayer {
/// layer.custom(move |parts: &http::request::Parts| {
///     let host = parts.headers.get("host").and_then(|h| h.to_str().ok()).map(str::to_owned);
///     let db = db.clone();
///     async move {
///         let Some(host) = host else { return Ok(None) };
///         Ok(db.sql("SELECT tenant FROM public.custom_domains WHERE domain = $1")
///             .bind(host)
///             .fetch_optional_scalar::<String>()
///             .await?)
///     }
/// })
/// # }
/// ```
pub trait ResolveTenant: Send + Sync + 'static {
    /// The schema `parts` names, if this resolver can tell.
    fn resolve(&self, parts: &Parts) -> BoxFuture<'static, Result<Option<String>, BoxError>>;
}

impl<F, Fut> ResolveTenant for F
where
    F: Fn(&Parts) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<String>, BoxError>> + Send + 'static,
{
    fn resolve(&self, parts: &Parts) -> BoxFuture<'static, Result<Option<String>, BoxError>> {
        self(parts).boxed()
    }
}
