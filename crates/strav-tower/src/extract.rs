//! [`Tenant`]: the request's tenant, for handlers.

use std::ops::Deref;

use strav_orm::SchemaName;

/// The tenant the request runs in, attached by [`crate::TenantLayer`].
///
/// With axum it is an extractor: `async fn handler(Tenant(t): Tenant)`
/// answers a request outside any tenant with 404 ([`crate::TenantError::Missing`]);
/// take `Option<Tenant>` for routes that serve both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant(pub SchemaName);

impl Deref for Tenant {
    type Target = SchemaName;
    fn deref(&self) -> &SchemaName {
        &self.0
    }
}

#[cfg(feature = "axum")]
mod axum_impls {
    use std::convert::Infallible;

    use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
    use axum_core::response::{IntoResponse, Response};
    use http::request::Parts;

    use super::Tenant;
    use crate::error::TenantError;
    use crate::rejection::Rejection;

    impl<S: Send + Sync> FromRequestParts<S> for Tenant {
        type Rejection = TenantError;

        async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, TenantError> {
            parts
                .extensions
                .get::<Tenant>()
                .cloned()
                .ok_or(TenantError::Missing)
        }
    }

    impl<S: Send + Sync> OptionalFromRequestParts<S> for Tenant {
        type Rejection = Infallible;

        async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Infallible> {
            Ok(parts.extensions.get::<Tenant>().cloned())
        }
    }

    impl IntoResponse for TenantError {
        fn into_response(self) -> Response {
            Rejection::default()
                .response(&self)
                .map(axum_core::body::Body::from)
        }
    }
}
