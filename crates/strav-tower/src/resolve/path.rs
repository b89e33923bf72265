//! The tenant from a path prefix: `/t/{tenant}/orders` reaches the inner
//! service as `/orders`.

use http::request::Parts;
use http::uri::{PathAndQuery, Uri};

use super::Mapping;
use crate::error::TenantError;

/// Reads the tenant from the segment after a fixed prefix and strips both.
///
/// The path is rewritten, so the layer must wrap the whole router (see the
/// README): a layer added with axum's `Router::layer` runs after routing.
#[derive(Debug, Clone)]
pub struct PathPrefix {
    /// Without a trailing slash, e.g. `/t`.
    prefix: String,
    mapping: Mapping,
}

impl PathPrefix {
    /// Tenants under `prefix` (`"/t"` for `/t/{tenant}/...`).
    pub fn new(prefix: &str) -> Self {
        let prefix = format!("/{}", prefix.trim_matches('/'));
        PathPrefix {
            prefix,
            mapping: Mapping::Identity,
        }
    }

    /// How the segment becomes a schema name (default: it is the name).
    pub fn mapping(mut self, mapping: Mapping) -> Self {
        self.mapping = mapping;
        self
    }

    pub(crate) fn resolve(&self, parts: &mut Parts) -> Result<Option<String>, TenantError> {
        let path = parts.uri.path();
        let Some(rest) = path
            .strip_prefix(self.prefix.as_str())
            .and_then(|r| r.strip_prefix('/'))
        else {
            return Ok(None);
        };
        let (segment, tail) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if segment.is_empty() {
            return Err(TenantError::invalid(
                segment,
                "the tenant segment of the path is empty",
            ));
        }
        let schema = self.mapping.apply(segment);
        let stripped = match parts.uri.query() {
            Some(q) => format!("{tail}?{q}"),
            None => tail.to_owned(),
        };
        let mut uri = parts.uri.clone().into_parts();
        uri.path_and_query = Some(
            PathAndQuery::try_from(stripped)
                .map_err(|_| TenantError::BadRequest("the path cannot be rewritten"))?,
        );
        parts.uri = Uri::from_parts(uri)
            .map_err(|_| TenantError::BadRequest("the path cannot be rewritten"))?;
        Ok(Some(schema))
    }
}
