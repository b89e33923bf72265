//! A routed connection handed out for direct sqlx use.

use std::ops::{Deref, DerefMut};

use sqlx::postgres::PgConnection;

use crate::routing::{Lease, PathKey};

/// A pooled connection already on the current context's `search_path`, from
/// [`crate::Database::acquire`]. Returned to the pool (or its scope) on drop.
pub struct Connection {
    lease: Lease,
    key: PathKey,
}

impl Connection {
    pub(crate) fn new(lease: Lease, key: PathKey) -> Self {
        Connection { lease, key }
    }

    /// The tenant schema it is routed to (`None`: the default path).
    pub fn schema(&self) -> Option<&str> {
        self.key.schema()
    }
}

impl Deref for Connection {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        // `Lease::conn` needs `&mut`; reading goes through the raw field.
        self.lease.conn_ref()
    }
}

impl DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut PgConnection {
        // Anything may run on it now, `SET search_path` included.
        let conn = self.lease.conn();
        conn.path = None;
        &mut conn.raw
    }
}
