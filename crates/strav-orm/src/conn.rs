//! A pooled connection and what Strav knows about its session.
//!
//! Everything here works on one connection; nothing knows about pools,
//! scopes or tenants. The invariant the pool relies on: a connection goes
//! back to anyone else only in the [`Disposition::Reuse`] state, with no
//! statement in flight, no transaction open and nothing done to it that
//! Strav did not see.

use std::collections::HashSet;

use sqlx::postgres::{PgArguments, PgConnection};
use sqlx::{AssertSqlSafe, Connection as _, Executor as _, Row as _, SqlStr};

use crate::fetch::Fetch;
use crate::schema_name::SchemaIdent;
use crate::search_path::SearchPath;

/// A pooled connection and its session state.
pub(crate) struct PgConn {
    pub(crate) raw: PgConnection,
    /// The session-level `search_path` as Strav last set it. `None` whenever
    /// it may have changed in a way Strav did not see: a `SET` whose future
    /// was dropped, user SQL that may change it (see `effects.rs`), raw
    /// access to the connection. The next statement then sets it again.
    pub(crate) path: Option<SearchPath>,
    /// An exchange with the server was started and has not finished. If the
    /// connection comes back like this, its future was dropped mid-flight:
    /// replies (and perhaps an error carrying another scope's data) are still
    /// on the wire, so it is closed, never drained into someone else's hands.
    pub(crate) busy: bool,
    /// A transaction was begun and not yet ended.
    pub(crate) tx_open: bool,
    /// Handed out for direct sqlx use since it was last settled.
    pub(crate) raw_used: bool,
    /// Close instead of reusing: the connection failed, or it holds
    /// something (a session lock) that must not outlive its user.
    pub(crate) retire: bool,
    /// Schema-qualified model statements prepared on this connection (see
    /// `exec.rs`). A mirror of part of sqlx's statement cache: a stale entry
    /// only costs a re-prepare, never correctness.
    pub(crate) qualified: HashSet<Box<str>>,
    /// The distinct tenants this connection has served (hashes of their
    /// names), for `[pool] max_tenants_per_connection`.
    tenants: HashSet<u64>,
    /// Schemas read by catalog statements over many schemas (not told
    /// apart: counting one twice only retires the connection sooner).
    schemas_read: usize,
    /// The schema of the last statement: most statements repeat it.
    last_tenant: Option<SchemaIdent>,
    /// When the backend's memory was last checked (or the connection made).
    pub(crate) checked_at: std::time::Instant,
}

/// What happens to a connection its user gave back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disposition {
    /// Clean: serve the next user.
    Reuse,
    /// Settle first (roll back, or check what raw use left behind).
    Settle,
    /// Close it.
    Close,
}

impl PgConn {
    pub(crate) fn new(raw: PgConnection) -> Self {
        PgConn {
            raw,
            path: None,
            busy: false,
            tx_open: false,
            raw_used: false,
            retire: false,
            qualified: HashSet::new(),
            tenants: HashSet::new(),
            schemas_read: 0,
            last_tenant: None,
            checked_at: std::time::Instant::now(),
        }
    }

    pub(crate) fn disposition(&self) -> Disposition {
        if self.retire || self.busy {
            Disposition::Close
        } else if self.raw_used || self.tx_open {
            Disposition::Settle
        } else {
            Disposition::Reuse
        }
    }

    /// Counts `schema` among those this connection served; past `limit`
    /// (0: none) the connection retires after this use, so its backend's
    /// caches of every schema's catalog entries are given back. Tenant
    /// statements and migrations alike: a migration run over 100,000 tenants
    /// otherwise grows each backend until catalog invalidations (every DDL
    /// sends some) cost more than the DDL.
    pub(crate) fn note_schema(&mut self, schema: &SchemaIdent, limit: usize) {
        if limit == 0 || self.last_tenant.as_ref() == Some(schema) {
            return;
        }
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(schema.as_str());
        self.tenants.insert(hash);
        self.last_tenant = Some(schema.clone());
        self.retire_past(limit);
    }

    /// Counts `n` schemas a catalog statement read (see `Sql::touching`).
    pub(crate) fn note_schemas_read(&mut self, n: usize, limit: usize) {
        if limit == 0 {
            return;
        }
        self.schemas_read += n;
        self.retire_past(limit);
    }

    fn retire_past(&mut self, limit: usize) {
        let schemas = self.tenants.len() + self.schemas_read;
        if schemas > limit && !self.retire {
            tracing::debug!(target: "strav::pool", schemas, "retiring a connection that served its share of schemas");
            self.retire = true;
        }
    }

    /// Records a failure: a connection-level one makes the connection unusable.
    pub(crate) fn observe(&mut self, e: &sqlx::Error) {
        if is_connection_lost(e) {
            self.retire = true;
            self.path = None;
        }
    }

    /// Puts the session on `path` unless it is known to be there.
    pub(crate) async fn set_path(
        &mut self,
        path: &SearchPath,
        shared: &[SchemaIdent],
    ) -> Result<(), sqlx::Error> {
        if self.path.as_ref() == Some(path) {
            return Ok(());
        }
        // Unknown until the server confirms.
        self.path = None;
        let set = format!("SET search_path TO {}", path.render(shared));
        tracing::trace!(target: "strav::sql", schema = %path, "switching search_path");
        sqlx::raw_sql(AssertSqlSafe(set))
            .execute(&mut self.raw)
            .await?;
        self.path = Some(path.clone());
        Ok(())
    }

    /// Opens a transaction whose path is `path`, in one round trip. With
    /// `trust_session`, a connection already on `path` skips the `SET LOCAL`.
    pub(crate) async fn begin(
        &mut self,
        path: &SearchPath,
        shared: &[SchemaIdent],
        trust_session: bool,
    ) -> Result<(), sqlx::Error> {
        let sql = if trust_session && self.path.as_ref() == Some(path) {
            "BEGIN".to_owned()
        } else {
            format!("BEGIN; SET LOCAL search_path TO {}", path.render(shared))
        };
        self.tx_open = true;
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut self.raw)
            .await?;
        Ok(())
    }

    /// Opens a transaction without touching the path (for statements that
    /// name their schema).
    pub(crate) async fn begin_bare(&mut self) -> Result<(), sqlx::Error> {
        self.tx_open = true;
        sqlx::raw_sql("BEGIN").execute(&mut self.raw).await?;
        Ok(())
    }

    /// Commits or rolls back the open transaction.
    pub(crate) async fn end(&mut self, commit: bool) -> Result<(), sqlx::Error> {
        let sql = if commit { "COMMIT" } else { "ROLLBACK" };
        let result = self.raw.execute(sql).await.map(drop);
        // Any answer from the server ends the transaction (a failed COMMIT
        // rolls back); a lost connection is retired by the caller.
        if !matches!(&result, Err(e) if is_connection_lost(e)) {
            self.tx_open = false;
        }
        result
    }

    /// Runs a statement. With `retry`, a statement refused at planning time
    /// because the connection's prepared copy no longer fits (see
    /// [`needs_reprepare`]) is prepared again and run once more; the refusal
    /// comes before execution, so nothing runs twice. Not inside a
    /// transaction, where the refusal has already aborted it.
    pub(crate) async fn run<F: Fetch>(
        &mut self,
        sql: &SqlStr,
        args: PgArguments,
        fetch: &F,
        persistent: bool,
        retry: bool,
    ) -> Result<F::Output, sqlx::Error> {
        if !retry {
            return fetch
                .run(&mut self.raw, sql.clone(), args, persistent)
                .await;
        }
        match fetch
            .run(&mut self.raw, sql.clone(), args.clone(), persistent)
            .await
        {
            Err(e) if needs_reprepare(&e) => {
                tracing::debug!(target: "strav::sql", sql = sql.as_str(), error = %e, "prepared statement no longer fits; re-preparing");
                self.forget_statements().await?;
                fetch
                    .run(&mut self.raw, sql.clone(), args, persistent)
                    .await
            }
            other => other,
        }
    }

    /// Forgets every prepared statement, on the server and in sqlx's cache.
    /// Closing a statement the server no longer has is not an error, so this
    /// also repairs the cache after `DISCARD ALL` / `DEALLOCATE ALL`.
    pub(crate) async fn forget_statements(&mut self) -> Result<(), sqlx::Error> {
        self.qualified.clear();
        self.raw.clear_cached_statements().await
    }

    /// Brings a connection back to a clean state after its user left a
    /// transaction open or used it directly. On error the caller closes it.
    pub(crate) async fn settle(&mut self) -> Result<(), sqlx::Error> {
        if self.raw_used {
            self.path = None;
            self.drain().await?;
            let (in_tx, stale) = match sqlx::raw_sql(
                "SELECT pg_catalog.now() <> pg_catalog.statement_timestamp(), \
                 (SELECT count(*) FROM pg_catalog.pg_prepared_statements WHERE NOT from_sql)",
            )
            .fetch_one(&mut self.raw)
            .await
            {
                // In a transaction block `now()` is when it began, earlier
                // than this statement; outside one they are the same instant.
                Ok(row) => {
                    let on_server: i64 = row.try_get(1)?;
                    let cached = self.raw.cached_statements_size();
                    (
                        row.try_get::<bool, _>(0)?,
                        usize::try_from(on_server).unwrap_or(0) < cached,
                    )
                }
                // A failed transaction: roll it back, and trust nothing.
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("25P02") => {
                    (true, true)
                }
                Err(e) => return Err(e),
            };
            if in_tx {
                self.raw.execute("ROLLBACK").await?;
                self.tx_open = false;
            }
            if stale {
                self.forget_statements().await?;
            }
            self.raw_used = false;
        }
        if self.tx_open {
            self.end(false).await?;
        }
        Ok(())
    }

    /// Reads and discards whatever replies a dropped user statement left on
    /// the wire, errors included.
    async fn drain(&mut self) -> Result<(), sqlx::Error> {
        for _ in 0..4 {
            match self.raw.ping().await {
                Ok(()) => return Ok(()),
                Err(sqlx::Error::Database(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(sqlx::Error::Protocol(
            "a connection returned from direct use kept answering with errors".into(),
        ))
    }
}

/// The connection is gone or unusable: an I/O or protocol failure, or a
/// FATAL error the server sends before closing (admin shutdown, crash
/// recovery, `pg_terminate_backend`, class 08 connection exceptions).
pub(crate) fn is_connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| matches!(&*c, "57P01" | "57P02" | "57P03") || c.starts_with("08")),
        _ => false,
    }
}

/// The server refused a prepared statement before running it: its result
/// columns changed under the current path ("cached plan must not change
/// result type", a `SELECT *` over tenants at different versions), or it is
/// gone (`DISCARD ALL`/`DEALLOCATE` that Strav could not see).
pub(crate) fn needs_reprepare(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("0A000") => db
                .message()
                .contains("cached plan must not change result type"),
            Some("26000") => true,
            _ => false,
        },
        _ => false,
    }
}
