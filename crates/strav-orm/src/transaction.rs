//! Transactions: `db.transaction(|tx| Box::pin(async move { ... }))`.
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
use std::time::Instant;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use sqlx::postgres::{PgArguments, PgConnection};
use sqlx::{AssertSqlSafe, Executor, SqlSafeStr, SqlStr};
use tokio::sync::{Mutex, MutexGuard};

use crate::context::current_schema_context;
use crate::database::Database;
use crate::error::{Error, Result};
use crate::routing::{log_statement, may_change_search_path, Lease, Op, PathKey};
use crate::sql::Sql;

/// An open transaction. Dropping it without [`Tx::commit`] rolls it back
/// before its connection is used again.
pub struct Tx {
    inner: Mutex<TxState>,
    key: PathKey,
}

struct TxState {
    lease: Lease,
    /// Savepoints open inside the transaction.
    depth: usize,
}

impl Database {
    /// Runs `f` in a transaction: commits when it returns `Ok`, rolls back on
    /// `Err` or panic (the panic then continues). Statements on `tx` run in
    /// the schema that was current when the transaction began.
    pub async fn transaction<F, T, E>(&self, f: F) -> std::result::Result<T, E>
    where
        F: for<'c> FnOnce(&'c Tx) -> BoxFuture<'c, std::result::Result<T, E>>,
        E: From<Error>,
    {
        let tx = self.begin().await?;
        let outcome = AssertUnwindSafe(f(&tx)).catch_unwind().await;
        tx.finish(outcome).await
    }

    /// Begins a transaction routed to the current context's schema. Prefer
    /// [`Database::transaction`]; with `begin`, end it with [`Tx::commit`]
    /// or [`Tx::rollback`] (dropping it rolls back).
    pub async fn begin(&self) -> Result<Tx> {
        let ctx = current_schema_context();
        let key = self.route(ctx.as_ref())?;
        self.begin_routed(ctx.as_ref(), key).await
    }

    pub(crate) async fn begin_on_path(&self, key: PathKey) -> Result<Tx> {
        let ctx = current_schema_context();
        self.begin_routed(ctx.as_ref(), key).await
    }

    async fn begin_routed(
        &self,
        ctx: Option<&crate::context::SchemaContext>,
        key: PathKey,
    ) -> Result<Tx> {
        let mut lease = self.lease(ctx).await?;
        let conn = lease.conn();
        if let Err(e) = self.begin_on(conn, &key).await {
            conn.note_error(&e);
            return Err(Error::db(e, key.schema()));
        }
        Ok(Tx {
            inner: Mutex::new(TxState { lease, depth: 0 }),
            key,
        })
    }
}

impl Tx {
    /// A raw statement inside this transaction.
    pub fn sql(&self, sql: impl SqlSafeStr) -> Sql<'_> {
        Sql::on_tx(self, sql.into_sql_str())
    }

    /// The tenant schema this transaction runs in (`None`: the default path).
    pub fn schema(&self) -> Option<&str> {
        self.key.schema()
    }

    /// The underlying sqlx connection, for sqlx's own query API
    /// (`sqlx::query!(..).fetch_all(&mut *tx.connection().await)`). Strav
    /// cannot see what runs on it, so it stops trusting the session's path.
    pub async fn connection(&self) -> TxConnection<'_> {
        TxConnection(self.inner.lock().await)
    }

    /// Runs `f` in a savepoint: released on `Ok`, rolled back to on `Err` or
    /// panic. The outer transaction goes on either way.
    pub async fn transaction<F, T, E>(&self, f: F) -> std::result::Result<T, E>
    where
        F: for<'c> FnOnce(&'c Tx) -> BoxFuture<'c, std::result::Result<T, E>>,
        E: From<Error>,
    {
        let name = {
            let mut state = self.inner.lock().await;
            let name = format!("strav_sp_{}", state.depth + 1);
            self.control(&mut state, format!("SAVEPOINT {name}"))
                .await?;
            state.depth += 1;
            name
        };
        let outcome = AssertUnwindSafe(f(self)).catch_unwind().await;
        let mut state = self.inner.lock().await;
        state.depth -= 1;
        let undo = format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}");
        match outcome {
            Ok(Ok(v)) => {
                self.control(&mut state, format!("RELEASE SAVEPOINT {name}"))
                    .await?;
                Ok(v)
            }
            Ok(Err(e)) => {
                self.control(&mut state, undo).await?;
                Err(e)
            }
            Err(panic) => {
                let _ = self.control(&mut state, undo).await;
                drop(state);
                std::panic::resume_unwind(panic)
            }
        }
    }

    /// Commits the transaction.
    pub async fn commit(self) -> Result<()> {
        self.end(true).await
    }

    /// Rolls the transaction back.
    pub async fn rollback(self) -> Result<()> {
        self.end(false).await
    }

    async fn finish<T, E>(
        self,
        outcome: std::thread::Result<std::result::Result<T, E>>,
    ) -> std::result::Result<T, E>
    where
        E: From<Error>,
    {
        match outcome {
            Ok(Ok(v)) => {
                self.end(true).await?;
                Ok(v)
            }
            Ok(Err(e)) => {
                if let Err(rb) = self.end(false).await {
                    tracing::warn!(error = %rb, "rollback failed; the connection will be reset before reuse");
                }
                Err(e)
            }
            Err(panic) => {
                // If this fails the connection is still rolled back before reuse.
                let _ = self.end(false).await;
                std::panic::resume_unwind(panic)
            }
        }
    }

    async fn end(&self, commit: bool) -> Result<()> {
        let mut state = self.inner.lock().await;
        let sql = if commit { "COMMIT" } else { "ROLLBACK" };
        self.control(&mut state, sql.to_owned()).await?;
        state.lease.conn().tx_open = false;
        Ok(())
    }

    async fn control(&self, state: &mut TxState, sql: String) -> Result<()> {
        let conn = state.lease.conn();
        conn.raw
            .execute(AssertSqlSafe(sql))
            .await
            .map(drop)
            .map_err(|e| {
                conn.note_error(&e);
                Error::db(e, self.key.schema())
            })
    }

    pub(crate) async fn run_statement<R>(
        &self,
        sql: SqlStr,
        args: PgArguments,
        op: &Op<'_, R>,
    ) -> Result<R> {
        let mut state = self.inner.lock().await;
        let conn = state.lease.conn();
        if may_change_search_path(sql.as_str()) {
            conn.path = None;
        }
        let started = Instant::now();
        let result = op(&mut conn.raw, sql.clone(), args).await;
        log_statement(&self.key, &sql, started, &result);
        result.map_err(|e| {
            conn.note_error(&e);
            Error::db(e, self.key.schema())
        })
    }
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx")
            .field("schema", &self.key.to_string())
            .finish()
    }
}

/// The transaction's sqlx connection, from [`Tx::connection`]; other
/// statements of the transaction wait while it is held.
pub struct TxConnection<'t>(MutexGuard<'t, TxState>);

impl Deref for TxConnection<'_> {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        self.0.lease.conn_ref()
    }
}

impl DerefMut for TxConnection<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        // Anything may run on it now, `SET search_path` included.
        let conn = self.0.lease.conn();
        conn.path = None;
        &mut conn.raw
    }
}
