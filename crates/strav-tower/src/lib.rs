//! Strav over HTTP and in background jobs.
//!
//! - [`TenantLayer`]: a tower layer that resolves each request's tenant
//!   ([`Subdomain`], [`Header`], [`PathPrefix`], or your own
//!   [`ResolveTenant`]), checks it against the registry through a
//!   [`TenantDirectory`] (cached, kept fresh by `LISTEN/NOTIFY`), and runs
//!   the inner service in `with_schema`; unknown tenants are answered by the
//!   layer ([`Rejection`]).
//! - [`BypassLayer`]: routes that run in `without_schema` whatever the
//!   request says (admin); [`RequireTenantLayer`]: routes that need a tenant.
//! - [`Tenant`]: the request's tenant, an axum extractor.
//! - [`TenantBody`]: streaming bodies keep the request's tenant.
//! - [`jobs`]: apalis jobs that carry their tenant (feature `apalis`).
//!
//! See the README's "Tenants over HTTP" and `examples/saas`.

mod body;
mod bypass;
mod directory;
mod error;
mod extract;
mod guard;
mod layer;
mod rejection;
mod resolve;

#[cfg(feature = "apalis")]
pub mod jobs;

pub use body::TenantBody;
pub use bypass::{BypassLayer, BypassService};
pub use directory::{DirectoryBuilder, TenantDirectory};
pub use error::{BoxError, TenantError};
pub use extract::Tenant;
pub use guard::{RequireTenant, RequireTenantLayer};
pub use layer::{TenantLayer, TenantService};
pub use rejection::{Format, Rejection};
pub use resolve::{Candidate, Header, Mapping, PathPrefix, ResolveTenant, Subdomain};
