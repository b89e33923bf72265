//! Finding a request's tenant: resolvers, tried in order, first match wins.
//!
//! A resolver looks at the request and says one of three things: this
//! request names tenant `x` (a *candidate*, validated afterwards), it names
//! none as far as I can tell (the next resolver is asked), or it is
//! malformed ([`TenantError::BadRequest`]) or names something that can
//! never be a tenant ([`TenantError::InvalidName`]), which ends the search.

mod custom;
mod header;
mod path;
mod subdomain;

use std::sync::Arc;

use http::request::Parts;

pub use custom::ResolveTenant;
pub use header::Header;
pub use path::PathPrefix;
pub use subdomain::Subdomain;

use crate::error::TenantError;

/// How a resolved label becomes a schema name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Mapping {
    /// The label is the schema name (`acme` → `acme`).
    #[default]
    Identity,
    /// The schema name is this prefix and the label (`acme` → `tenant_acme`).
    Prefix(String),
}

impl Mapping {
    pub(crate) fn apply(&self, label: &str) -> String {
        match self {
            Mapping::Identity => label.to_owned(),
            Mapping::Prefix(prefix) => format!("{prefix}{label}"),
        }
    }
}

/// A name a resolver found, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The schema name it maps to.
    pub schema: String,
    /// Which resolver found it (`subdomain`, `header`, `path`, `custom`),
    /// recorded on the request's span.
    pub source: &'static str,
}

/// One resolver of the chain.
#[derive(Clone)]
pub(crate) enum Resolver {
    Subdomain(Subdomain),
    Header(Header),
    Path(PathPrefix),
    Custom(Arc<dyn ResolveTenant>),
}

impl Resolver {
    async fn resolve(&self, parts: &mut Parts) -> Result<Option<Candidate>, TenantError> {
        let found =
            |schema: Option<String>, source| schema.map(|schema| Candidate { schema, source });
        match self {
            Resolver::Subdomain(r) => Ok(found(r.resolve(parts)?, "subdomain")),
            Resolver::Header(r) => Ok(found(r.resolve(parts)?, "header")),
            Resolver::Path(r) => Ok(found(r.resolve(parts)?, "path")),
            Resolver::Custom(r) => r
                .resolve(parts)
                .await
                .map(|schema| found(schema, "custom"))
                .map_err(TenantError::Resolver),
        }
    }
}

/// Resolvers in the order they are asked.
#[derive(Clone, Default)]
pub(crate) struct Chain(pub(crate) Vec<Resolver>);

impl Chain {
    /// The first resolver's answer that is not "none".
    pub(crate) async fn resolve(
        &self,
        parts: &mut Parts,
    ) -> Result<Option<Candidate>, TenantError> {
        for resolver in &self.0 {
            if let Some(candidate) = resolver.resolve(parts).await? {
                return Ok(Some(candidate));
            }
        }
        Ok(None)
    }
}
