//! The connection pool: deadpool over sqlx `PgConnection`s.
//!
//! Strav keeps its own pool (rather than `sqlx::PgPool`) for one reason: each
//! pooled connection carries what Strav knows about its session state, above
//! all the `search_path` it was last given. sqlx's pool has no place for that,
//! and knowing it is what lets a query skip the `SET` when the connection is
//! already in the right schema. A side effect is that no ping is spent on
//! acquire or release: a connection is only checked when it comes back dirty.

use std::time::Duration;

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use std::collections::HashSet;

use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection as _, Executor, SqlStr};

use crate::routing::{Op, PathKey};

/// "cached plan must not change result type": a statement prepared under one
/// tenant and run under another whose table has other columns.
pub(crate) fn is_stale_plan(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.code().as_deref() == Some("0A000")
                && db
                    .message()
                    .contains("cached plan must not change result type")
        }
        _ => false,
    }
}

/// A pooled connection and what Strav knows about its session.
pub(crate) struct PgConn {
    pub(crate) raw: PgConnection,
    /// The session-level `search_path` as Strav last set it. `None` whenever
    /// it may have changed in a way Strav did not see (a `SET` in flight when
    /// its future was dropped, user SQL that mentions `search_path`, raw
    /// access to the connection): the next query sets it again.
    pub(crate) path: Option<PathKey>,
    /// A transaction was begun and not yet ended: if the connection comes back
    /// like this (a `Tx` dropped mid-way), it is rolled back before reuse.
    pub(crate) tx_open: bool,
    /// The connection failed at the I/O or protocol level; it is discarded.
    pub(crate) broken: bool,
    /// Schema-qualified model statements prepared on this connection (see
    /// `model/exec.rs`). A mirror of part of sqlx's statement cache: a stale
    /// entry only costs a re-prepare, never correctness.
    pub(crate) qualified: HashSet<Box<str>>,
}

impl PgConn {
    /// Brings a connection that may have been abandoned mid-way back to a
    /// known idle state. Free when nothing was left behind.
    pub(crate) async fn settle(&mut self) -> Result<(), sqlx::Error> {
        if self.tx_open {
            // Rolling back also undoes any `SET LOCAL search_path`; the session
            // path is what `self.path` tracks, so it stays valid.
            self.raw.execute("ROLLBACK").await?;
            self.tx_open = false;
        }
        Ok(())
    }

    /// Runs `op`; if the plan went stale because the statement's result
    /// columns differ under the current path ("cached plan must not change
    /// result type"), re-prepares and runs it once more. The error comes from
    /// planning, before anything executed, so nothing runs twice.
    pub(crate) async fn run_retrying<R>(
        &mut self,
        sql: &SqlStr,
        args: PgArguments,
        op: &Op<'_, R>,
    ) -> Result<R, sqlx::Error> {
        match op(&mut self.raw, sql.clone(), args.clone()).await {
            Err(e) if is_stale_plan(&e) && !self.tx_open => {
                tracing::debug!(
                    sql = sql.as_str(),
                    "result type changed between schemas; re-preparing"
                );
                self.raw.clear_cached_statements().await?;
                self.qualified.clear();
                op(&mut self.raw, sql.clone(), args).await
            }
            other => other,
        }
    }

    /// Records a failure; connection-level failures make the connection unusable.
    pub(crate) fn note_error(&mut self, e: &sqlx::Error) {
        if matches!(
            e,
            sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_)
        ) {
            self.broken = true;
            self.path = None;
        }
    }
}

pub(crate) struct Manager {
    pub(crate) options: PgConnectOptions,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) max_lifetime: Option<Duration>,
}

impl managed::Manager for Manager {
    type Type = PgConn;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<PgConn, sqlx::Error> {
        let raw = self.options.connect().await?;
        Ok(PgConn {
            raw,
            path: None,
            tx_open: false,
            broken: false,
            qualified: HashSet::new(),
        })
    }

    async fn recycle(&self, conn: &mut PgConn, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        if conn.broken {
            return Err(RecycleError::message("connection failed earlier"));
        }
        if self.max_lifetime.is_some_and(|max| metrics.age() > max) {
            return Err(RecycleError::message("connection reached max_lifetime"));
        }
        if self
            .idle_timeout
            .is_some_and(|max| metrics.last_used() > max)
        {
            return Err(RecycleError::message("connection idle past idle_timeout"));
        }
        conn.settle().await.map_err(RecycleError::Backend)
    }
}

pub(crate) type Pool = managed::Pool<Manager>;
pub(crate) type Object = managed::Object<Manager>;
