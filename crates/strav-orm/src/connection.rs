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

impl Connection {
    /// Takes a session-level advisory lock. Until [`Self::release_session_lock`]
    /// the connection is marked unusable, so if this future is dropped
    /// half-way the connection is closed (releasing the lock) instead of
    /// going back to the pool with the lock held.
    pub(crate) async fn hold_session_lock(&mut self, key: &str) -> crate::Result<()> {
        self.lease.conn().broken = true;
        sqlx::query("SELECT pg_advisory_lock(hashtextextended($1, 0))")
            .bind(key)
            .execute(&mut self.lease.conn().raw)
            .await
            .map(drop)
            .map_err(|e| crate::Error::db(e, self.key.schema()))
    }

    /// Releases the lock of [`Self::hold_session_lock`].
    pub(crate) async fn release_session_lock(&mut self, key: &str) -> crate::Result<()> {
        sqlx::query("SELECT pg_advisory_unlock(hashtextextended($1, 0))")
            .bind(key)
            .execute(&mut self.lease.conn().raw)
            .await
            .map_err(|e| crate::Error::db(e, self.key.schema()))?;
        self.lease.conn().broken = false;
        Ok(())
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
