//! Why a request or a job gets no tenant scope.

use http::StatusCode;

/// A boxed error from a custom resolver.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Everything that stops a request (or a job) from entering a tenant.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TenantError {
    /// The name a resolver produced cannot be a tenant schema (bad syntax,
    /// `public`, `pg_*`, ...). Nothing was looked up.
    #[error("unknown tenant {candidate:?}: {reason}")]
    InvalidName {
        /// What the resolver produced, cut to 80 characters.
        candidate: String,
        /// Why it is not a tenant name.
        reason: String,
    },

    /// A well-formed name that is not a registered tenant schema (never
    /// created, deleted, or registered for a domain that is not per-tenant).
    #[error("unknown tenant {0:?}")]
    Unknown(String),

    /// The request itself is malformed where the tenant is read from it:
    /// two `Host` headers, a port that is not a number, ...
    #[error("bad request: {0}")]
    BadRequest(&'static str),

    /// The route needs a tenant and the request named none.
    #[error("this route needs a tenant, and the request names none")]
    Missing,

    /// The tenant could not be checked: the database did not answer.
    #[error("the tenant could not be checked: {0}")]
    Unavailable(#[source] std::sync::Arc<dyn std::error::Error + Send + Sync>),

    /// A custom resolver failed.
    #[error("the tenant could not be resolved: {0}")]
    Resolver(#[source] BoxError),
}

impl TenantError {
    /// A short, stable code for response bodies and logs.
    pub fn code(&self) -> &'static str {
        match self {
            TenantError::InvalidName { .. } | TenantError::Unknown(_) => "unknown_tenant",
            TenantError::BadRequest(_) => "bad_request",
            TenantError::Missing => "tenant_required",
            TenantError::Unavailable(_) | TenantError::Resolver(_) => "tenant_unavailable",
        }
    }

    /// The status answered when the policy does not override it: 404 for
    /// names that are not tenants (an unknown and an invalid one look the
    /// same from outside), 400 for malformed requests, 503 when the check
    /// itself failed.
    pub fn default_status(&self) -> StatusCode {
        match self {
            TenantError::InvalidName { .. } | TenantError::Unknown(_) | TenantError::Missing => {
                StatusCode::NOT_FOUND
            }
            TenantError::BadRequest(_) => StatusCode::BAD_REQUEST,
            TenantError::Unavailable(_) | TenantError::Resolver(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// True when the name is not a tenant (as opposed to a malformed
    /// request or a failed check).
    pub fn is_unknown_tenant(&self) -> bool {
        matches!(
            self,
            TenantError::InvalidName { .. } | TenantError::Unknown(_)
        )
    }

    pub(crate) fn invalid(candidate: &str, reason: impl std::fmt::Display) -> Self {
        TenantError::InvalidName {
            candidate: candidate.chars().take(80).collect(),
            reason: reason.to_string(),
        }
    }
}
