//! A routed connection handed out for direct sqlx use.

use std::ops::{Deref, DerefMut};

use sqlx::postgres::PgConnection;

use crate::pool::Lease;
use crate::search_path::SearchPath;

/// A pooled connection already on the current context's `search_path`, from
/// [`crate::Database::acquire`]. Given back to the pool on drop; since Strav
/// cannot see what ran on it, it is checked then (a dropped query drained,
/// an open transaction rolled back, the path forgotten).
pub struct Connection {
    lease: Lease,
    path: SearchPath,
}

impl Connection {
    pub(crate) fn new(lease: Lease, path: SearchPath) -> Self {
        Connection { lease, path }
    }

    /// The schema it is routed to (`None`: the default path).
    pub fn schema(&self) -> Option<&str> {
        self.path.schema()
    }

    /// Takes a session-level advisory lock. Until [`Self::release_session_lock`]
    /// the connection is marked for closing, so if this future is dropped
    /// half-way the connection is closed (releasing the lock) instead of
    /// going back to the pool with the lock held.
    pub(crate) async fn hold_session_lock(&mut self, key: &str) -> crate::Result<()> {
        self.lease.conn().retire = true;
        sqlx::query("SELECT pg_advisory_lock(hashtextextended($1, 0))")
            .bind(key)
            .execute(&mut self.lease.conn().raw)
            .await
            .map(drop)
            .map_err(|e| crate::Error::db(e, self.path.schema()))
    }

    /// Releases the lock of [`Self::hold_session_lock`].
    pub(crate) async fn release_session_lock(&mut self, key: &str) -> crate::Result<()> {
        sqlx::query("SELECT pg_advisory_unlock(hashtextextended($1, 0))")
            .bind(key)
            .execute(&mut self.lease.conn().raw)
            .await
            .map_err(|e| crate::Error::db(e, self.path.schema()))?;
        self.lease.conn().retire = false;
        Ok(())
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("schema", &self.path.to_string())
            .finish()
    }
}

impl Deref for Connection {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.lease.conn_ref().raw
    }
}

impl DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut PgConnection {
        // Anything may run on it now, `SET search_path` included.
        let conn = self.lease.conn();
        conn.path = None;
        conn.raw_used = true;
        &mut conn.raw
    }
}
