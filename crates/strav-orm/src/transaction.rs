//! Transactions: `db.transaction(async |tx| { ... })`.
//!
//! A transaction is routed once, when it begins, to the schema current at that
//! moment; every statement inside runs there, even inside a later
//! `with_schema` for another tenant.
//!
//! Statements take `&Tx`, not `&mut Tx`, so a transaction can be handed to
//! any number of calls (`User::create(tx, ..)`, `tx.sql(..)`) without
//! reborrowing; they run one at a time on the transaction's connection.

use std::ops::{Deref, DerefMut};
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use sqlx::postgres::PgConnection;
use sqlx::SqlSafeStr;
use tokio::sync::MutexGuard;

use crate::error::{Error, Result};
use crate::exec::{Target, TxCore, TxState};
use crate::sql::Sql;

/// An open transaction. Dropping it without [`Tx::commit`] rolls it back at
/// once (in the background; a statement still in flight closes the
/// connection instead, which makes the server abort it).
pub struct Tx {
    core: TxCore,
}

impl Tx {
    pub(crate) fn new(core: TxCore) -> Self {
        Tx { core }
    }

    pub(crate) fn target(&self) -> Target<'_> {
        Target::Tx(&self.core)
    }

    /// A raw statement inside this transaction.
    pub fn sql(&self, sql: impl SqlSafeStr) -> Sql<'_> {
        Sql::new(self.target(), sql.into_sql_str())
    }

    /// The tenant schema this transaction runs in (`None`: the default path).
    pub fn schema(&self) -> Option<&str> {
        self.core.path().schema()
    }

    /// The underlying sqlx connection, for sqlx's own query API
    /// (`sqlx::query!(..).fetch_all(&mut *tx.connection().await)`). Strav
    /// cannot see what runs on it, so it stops trusting the session's path
    /// and checks the connection when the transaction ends.
    pub async fn connection(&self) -> TxConnection<'_> {
        TxConnection(self.core.lock().await)
    }

    /// Runs `f` in a savepoint: released on `Ok`, rolled back to on `Err` or
    /// panic. The outer transaction goes on either way.
    pub async fn transaction<F, T, E>(&self, f: F) -> std::result::Result<T, E>
    where
        F: AsyncFnOnce(&Tx) -> std::result::Result<T, E>,
        E: From<Error>,
    {
        let name = {
            let mut state = self.core.lock().await;
            state.depth += 1;
            format!("strav_sp_{}", state.depth)
        };
        if let Err(e) = self.core.control(format!("SAVEPOINT {name}")).await {
            self.core.lock().await.depth -= 1;
            return Err(e.into());
        }
        let outcome = AssertUnwindSafe(f(self)).catch_unwind().await;
        self.core.lock().await.depth -= 1;
        let undo = format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}");
        match outcome {
            Ok(Ok(v)) => {
                self.core
                    .control(format!("RELEASE SAVEPOINT {name}"))
                    .await?;
                Ok(v)
            }
            Ok(Err(e)) => {
                self.core.control(undo).await?;
                Err(e)
            }
            Err(panic) => {
                let _ = self.core.control(undo).await;
                std::panic::resume_unwind(panic)
            }
        }
    }

    /// Commits the transaction.
    pub async fn commit(self) -> Result<()> {
        self.core.end(true).await
    }

    /// Rolls the transaction back.
    pub async fn rollback(self) -> Result<()> {
        self.core.end(false).await
    }

    /// Ends the transaction by the outcome of the closure run in it.
    pub(crate) async fn finish<T, E>(
        self,
        outcome: std::thread::Result<std::result::Result<T, E>>,
    ) -> std::result::Result<T, E>
    where
        E: From<Error>,
    {
        match outcome {
            Ok(Ok(v)) => {
                self.core.end(true).await?;
                Ok(v)
            }
            Ok(Err(e)) => {
                if let Err(rb) = self.core.end(false).await {
                    tracing::warn!(error = %rb, "rollback failed; the connection will be closed");
                }
                Err(e)
            }
            Err(panic) => {
                // If this fails the connection is closed when given back.
                let _ = self.core.end(false).await;
                std::panic::resume_unwind(panic)
            }
        }
    }
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx")
            .field("schema", &self.core.path().to_string())
            .finish()
    }
}

/// The transaction's sqlx connection, from [`Tx::connection`]; other
/// statements of the transaction wait while it is held.
pub struct TxConnection<'t>(MutexGuard<'t, TxState>);

impl Deref for TxConnection<'_> {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.0.lease.conn_ref().raw
    }
}

impl DerefMut for TxConnection<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        // Anything may run on it now, `SET search_path` included.
        let conn = self.0.lease.conn();
        conn.path = None;
        conn.raw_used = true;
        &mut conn.raw
    }
}
