//! Where a statement goes: resolved once per statement from the context.

use std::sync::Arc;

use crate::config::MultiTenantConfig;
use crate::context;
use crate::error::{Error, Result};
use crate::pool::Scope;
use crate::schema_name::SchemaName;
use crate::search_path::SearchPath;

/// A statement's route: the path it needs and the scope whose parked
/// connection it may use.
pub(crate) struct Route {
    pub(crate) path: SearchPath,
    /// The tenant of the context, when the path came from it.
    pub(crate) tenant: Option<SchemaName>,
    pub(crate) scope: Option<Arc<Scope>>,
}

impl Route {
    /// Reads the context once. With `fixed`, the statement names its path
    /// itself (catalog work, migrations) and only the scope is taken from the
    /// context.
    ///
    /// The isolation rule lives here and nowhere else: a tenant scope while
    /// multi-tenancy is off is refused rather than run on the shared path.
    pub(crate) fn resolve(mt: &MultiTenantConfig, fixed: Option<SearchPath>) -> Result<Route> {
        let (tenant, scope) = match context::snapshot() {
            Some((tenant, scope)) => (tenant, Some(scope)),
            None => (None, None),
        };
        let scope = scope.filter(|_| mt.pin_connections);
        if let Some(path) = fixed {
            return Ok(Route {
                path,
                tenant: None,
                scope,
            });
        }
        match tenant {
            None => Ok(Route {
                path: SearchPath::Default,
                tenant: None,
                scope,
            }),
            Some(_) if !mt.enabled => Err(Error::MultiTenantDisabled),
            Some(t) => Ok(Route {
                path: SearchPath::Schema(t.clone().into()),
                tenant: Some(t),
                scope,
            }),
        }
    }
}
