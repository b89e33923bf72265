//! Detecting a connection pooler in transaction mode.
//!
//! Session routing keeps each connection's `search_path` between
//! statements; behind a pooler in transaction (or statement) mode the next
//! statement may run on another server connection, one that another client
//! left on another tenant's path. That must not run silently, so
//! [`crate::Database::connect_with`] checks, with session routing, that the
//! server connections behave like direct ones:
//! - one client connection is served by one backend (`pg_backend_pid()` is
//!   the same for two statements), and
//! - two client connections open at once are served by two backends.
//!
//! A transaction pooler fails one of these as soon as it reuses an idle
//! server connection, which PgBouncer does at once (its idle list is LIFO).
//! The cancel key a pooler hands out would tell more directly, but sqlx does
//! not expose it. A session-mode pooler passes, and needs no declaration;
//! declaring one (`session_pooler = true`) skips the check.

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection, Row};

use crate::error::{Error, Result};

async fn backend_pid(conn: &mut PgConnection) -> Result<i32> {
    // The simple protocol: one message, so even a statement pooler keeps it
    // on one server connection.
    let row = sqlx::raw_sql("SELECT pg_backend_pid()")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| Error::db(e, None))?;
    row.try_get(0).map_err(|e| Error::db(e, None))
}

/// Fails with [`Error::PoolerDetected`] when a transaction pooler serves
/// `options`. Costs two connections and three round trips.
pub(crate) async fn refuse_transaction_pooler(options: &PgConnectOptions) -> Result<()> {
    let mut a = options.connect().await.map_err(|e| Error::db(e, None))?;
    let mut b = options.connect().await.map_err(|e| Error::db(e, None))?;
    let a1 = backend_pid(&mut a).await?;
    let b1 = backend_pid(&mut b).await?;
    let a2 = backend_pid(&mut a).await?;
    let _ = a.close().await;
    let _ = b.close().await;
    let evidence = if a1 != a2 {
        Some(format!(
            "one client connection was served by backends {a1} and {a2}"
        ))
    } else if a1 == b1 {
        Some(format!(
            "two client connections open at once were both served by backend {a1}"
        ))
    } else {
        None
    };
    match evidence {
        Some(evidence) => Err(Error::PoolerDetected { evidence }),
        None => Ok(()),
    }
}
