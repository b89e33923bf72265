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
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Executor};

use crate::routing::PathKey;

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
