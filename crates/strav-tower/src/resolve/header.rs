//! The tenant from a request header (`X-Tenant-ID` by default).
//!
//! Off unless configured: any client can set a header, so use it only
//! where the caller is trusted to pick its tenant (a gateway that sets it
//! after authentication, internal services).

use http::header::HeaderName;
use http::request::Parts;

use super::Mapping;
use crate::error::TenantError;

/// Reads the tenant from one header.
#[derive(Debug, Clone)]
pub struct Header {
    name: HeaderName,
    mapping: Mapping,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            name: HeaderName::from_static("x-tenant-id"),
            mapping: Mapping::Identity,
        }
    }
}

impl Header {
    /// `X-Tenant-ID`.
    pub fn new() -> Self {
        Header::default()
    }

    /// Another header.
    pub fn named(name: HeaderName) -> Self {
        Header {
            name,
            ..Header::default()
        }
    }

    /// How the value becomes a schema name (default: it is the name).
    pub fn mapping(mut self, mapping: Mapping) -> Self {
        self.mapping = mapping;
        self
    }

    pub(crate) fn resolve(&self, parts: &Parts) -> Result<Option<String>, TenantError> {
        let mut values = parts.headers.get_all(&self.name).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(TenantError::BadRequest(
                "the tenant header appears more than once",
            ));
        }
        let value = value
            .to_str()
            .map_err(|_| TenantError::BadRequest("the tenant header is not visible ASCII"))?;
        if value.is_empty() {
            return Err(TenantError::invalid(value, "the tenant header is empty"));
        }
        Ok(Some(self.mapping.apply(value)))
    }
}
