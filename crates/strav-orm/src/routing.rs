//! How a statement reaches its schema: the schema-aware executor.
//!
//! Session mode (the default). Every pooled connection remembers the
//! `search_path` Strav last gave it ([`PgConn::path`]). A statement first
//! makes sure its connection is on the path its context asks for, issuing one
//! `SET search_path` only when it is not, then runs unchanged. A statement
//! text is therefore the same for every tenant, so one prepared statement per
//! connection serves all of them (PostgreSQL re-plans it when the path
//! changes) and sqlx's statement cache never thrashes.
//!
//! Why it cannot leak:
//! - the path is derived from the task-local context for *every* statement;
//!   no statement runs on a connection before its path is confirmed;
//! - the remembered path is cleared *before* anything that could change it is
//!   sent (the `SET` itself, SQL that mentions `search_path`, `RESET`,
//!   `DISCARD`, raw access to the connection) and recorded only after the
//!   server confirmed it, so a future dropped mid-flight leaves "unknown",
//!   which the next user resolves with a fresh `SET`. sqlx drains the dropped
//!   statement's replies before sending anything new, so the fresh `SET` is
//!   always the last word;
//! - transactions set their path with `SET LOCAL` in the same message as
//!   `BEGIN`, before any savepoint can exist, so neither `ROLLBACK` nor
//!   `ROLLBACK TO SAVEPOINT` can undo it, and the session path the pool
//!   remembers is untouched by them;
//! - a transaction abandoned mid-way (a panic, a dropped future) is rolled
//!   back before its connection serves anyone else.
//!
//! Transaction mode (`[multi_tenant] routing = "transaction"`, for PgBouncer
//! in transaction mode) trusts no session state: every statement runs in a
//! transaction opened with `BEGIN; SET LOCAL search_path ...`.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use futures_util::future::BoxFuture;
use sqlx::postgres::{PgArguments, PgConnection};
use sqlx::{AssertSqlSafe, Connection as _, Executor, SqlStr};

use crate::config::RoutingMode;
use crate::context::{current_schema_context, SchemaContext};
use crate::database::Database;
use crate::error::{Error, Result};
use crate::pin::PinSlot;
use crate::pool::{Object, PgConn};
use crate::schema_name::SchemaName;

/// Which search path a statement needs.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum PathKey {
    /// No tenant: `public` only.
    Default,
    /// A tenant schema, followed by the configured shared schemas.
    Schema(SchemaName),
}

impl PathKey {
    /// The value for `SET search_path TO ...`. Names are validated, so
    /// quoting them is all the escaping needed.
    pub(crate) fn render(&self, shared: &[SchemaName]) -> String {
        match self {
            PathKey::Default => "\"public\"".to_owned(),
            PathKey::Schema(s) => {
                let mut out = s.quoted();
                for extra in shared.iter().filter(|x| *x != s) {
                    out.push_str(", ");
                    out.push_str(&extra.quoted());
                }
                out
            }
        }
    }

    pub(crate) fn schema(&self) -> Option<&str> {
        match self {
            PathKey::Default => None,
            PathKey::Schema(s) => Some(s.as_str()),
        }
    }
}

impl fmt::Display for PathKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathKey::Default => f.write_str("public"),
            PathKey::Schema(s) => f.write_str(s.as_str()),
        }
    }
}

/// The work a statement does once its connection is routed: build the sqlx
/// query and run it. Called a second time only to retry a stale plan.
pub(crate) type Op<'o, R> = dyn for<'c> Fn(&'c mut PgConnection, SqlStr, PgArguments) -> BoxFuture<'c, Result<R, sqlx::Error>>
    + Send
    + Sync
    + 'o;

/// A connection checked out for one statement, transaction or scope.
/// Dropping it returns the connection to its scope's pin slot or the pool.
pub(crate) struct Lease {
    obj: Option<Object>,
    home: Option<Arc<PinSlot>>,
    db: u64,
}

impl Lease {
    pub(crate) fn conn(&mut self) -> &mut PgConn {
        self.obj
            .as_mut()
            .expect("a lease holds its connection until dropped")
    }

    pub(crate) fn conn_ref(&self) -> &PgConnection {
        &self
            .obj
            .as_ref()
            .expect("a lease holds its connection until dropped")
            .raw
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(obj) = self.obj.take() else { return };
        if obj.broken {
            // Detach it from the pool; dropping closes the socket.
            drop(Object::take(obj));
            return;
        }
        if let Some(slot) = &self.home {
            drop(slot.put_back(self.db, obj));
        }
    }
}

/// True when `sql` may change the session's `search_path` behind Strav's
/// back. False positives only cost one extra `SET` later.
pub(crate) fn may_change_search_path(sql: &str) -> bool {
    ["search_path", "discard", "reset"]
        .iter()
        .any(|needle| contains_ignore_ascii_case(sql, needle))
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

impl Database {
    /// The path a statement issued now needs.
    pub(crate) fn route(&self, ctx: Option<&SchemaContext>) -> Result<PathKey> {
        match ctx.and_then(SchemaContext::schema) {
            None => Ok(PathKey::Default),
            Some(_) if !self.multi_tenant().enabled => Err(Error::MultiTenantDisabled),
            Some(s) => Ok(PathKey::Schema(s.clone())),
        }
    }

    /// A connection for the current scope: its pinned one when idle, else one
    /// from the pool (which the scope then keeps, if it keeps none yet).
    pub(crate) async fn lease(&self, ctx: Option<&SchemaContext>) -> Result<Lease> {
        let home = ctx
            .filter(|_| self.multi_tenant().pin_connections)
            .map(|c| c.pin.clone());
        if let Some(slot) = &home {
            if let Some(mut obj) = slot.take(self.id()) {
                match obj.settle().await {
                    Ok(()) => {
                        return Ok(Lease {
                            obj: Some(obj),
                            home,
                            db: self.id(),
                        })
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "discarding a pinned connection that could not be reset");
                        obj.broken = true;
                        drop(Object::take(obj));
                    }
                }
            }
        }
        Ok(Lease {
            obj: Some(self.checkout().await?),
            home,
            db: self.id(),
        })
    }

    /// Runs one statement outside any explicit transaction, routed by the
    /// current context (or by `key` when given).
    pub(crate) async fn run_statement<R>(
        &self,
        key: Option<PathKey>,
        sql: SqlStr,
        args: PgArguments,
        op: &Op<'_, R>,
    ) -> Result<R> {
        let ctx = current_schema_context();
        let key = match key {
            Some(k) => k,
            None => self.route(ctx.as_ref())?,
        };
        let mut lease = self.lease(ctx.as_ref()).await?;
        let conn = lease.conn();
        let started = Instant::now();
        let result = match self.multi_tenant().routing {
            RoutingMode::Session => self.run_on_session(conn, &key, &sql, args, op).await,
            RoutingMode::Transaction => self.run_in_local_tx(conn, &key, &sql, args, op).await,
        };
        log_statement(&key, &sql, started, &result);
        result.map_err(|e| {
            conn.note_error(&e);
            Error::db(e, key.schema())
        })
    }

    async fn run_on_session<R>(
        &self,
        conn: &mut PgConn,
        key: &PathKey,
        sql: &SqlStr,
        args: PgArguments,
        op: &Op<'_, R>,
    ) -> Result<R, sqlx::Error> {
        self.ensure_session_path(conn, key).await?;
        if may_change_search_path(sql.as_str()) {
            conn.path = None;
        }
        conn.run_retrying(sql, args, op).await
    }

    async fn run_in_local_tx<R>(
        &self,
        conn: &mut PgConn,
        key: &PathKey,
        sql: &SqlStr,
        args: PgArguments,
        op: &Op<'_, R>,
    ) -> Result<R, sqlx::Error> {
        let mut retried = false;
        loop {
            self.begin_on(conn, key).await?;
            match op(&mut conn.raw, sql.clone(), args.clone()).await {
                Ok(v) => {
                    conn.raw.execute("COMMIT").await?;
                    conn.tx_open = false;
                    return Ok(v);
                }
                Err(e) => {
                    conn.raw.execute("ROLLBACK").await?;
                    conn.tx_open = false;
                    if retried || !crate::pool::is_stale_plan(&e) {
                        return Err(e);
                    }
                    retried = true;
                    conn.raw.clear_cached_statements().await?;
                    conn.qualified.clear();
                }
            }
        }
    }

    /// Puts the session on `key`'s path unless it is known to be there.
    pub(crate) async fn ensure_session_path(
        &self,
        conn: &mut PgConn,
        key: &PathKey,
    ) -> Result<(), sqlx::Error> {
        if conn.path.as_ref() == Some(key) {
            return Ok(());
        }
        // Unknown until the server confirms: if this future is dropped now,
        // the next user sets the path again.
        conn.path = None;
        let set = format!(
            "SET search_path TO {}",
            key.render(&self.multi_tenant().shared_schemas)
        );
        tracing::trace!(target: "strav::sql", schema = %key, "switching search_path");
        sqlx::raw_sql(AssertSqlSafe(set))
            .execute(&mut conn.raw)
            .await?;
        conn.path = Some(key.clone());
        Ok(())
    }

    /// Opens a transaction whose path is `key`, in one round trip.
    pub(crate) async fn begin_on(
        &self,
        conn: &mut PgConn,
        key: &PathKey,
    ) -> Result<(), sqlx::Error> {
        let trusted = self.multi_tenant().routing == RoutingMode::Session;
        let sql = if trusted && conn.path.as_ref() == Some(key) {
            "BEGIN".to_owned()
        } else {
            format!(
                "BEGIN; SET LOCAL search_path TO {}",
                key.render(&self.multi_tenant().shared_schemas)
            )
        };
        // Marked first: if this future is dropped, the connection is rolled
        // back before reuse.
        conn.tx_open = true;
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut conn.raw)
            .await?;
        Ok(())
    }
}

pub(crate) fn log_statement<R>(
    key: &dyn fmt::Display,
    sql: &SqlStr,
    started: Instant,
    result: &Result<R, sqlx::Error>,
) {
    let elapsed_us = started.elapsed().as_micros() as u64;
    match result {
        Ok(_) => {
            tracing::debug!(target: "strav::sql", schema = %key, elapsed_us, sql = sql.as_str(), "statement")
        }
        Err(e) => {
            tracing::debug!(target: "strav::sql", schema = %key, elapsed_us, sql = sql.as_str(), error = %e, "statement failed")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_path_changes() {
        assert!(may_change_search_path("SET search_path TO x"));
        assert!(may_change_search_path(
            "select set_config('SEARCH_PATH', 'x', false)"
        ));
        assert!(may_change_search_path("DISCARD ALL"));
        assert!(may_change_search_path("RESET ALL"));
        assert!(!may_change_search_path(
            "SELECT id FROM orders WHERE id = $1"
        ));
    }

    #[test]
    fn renders_paths() {
        let public = SchemaName::new("public").unwrap();
        let t = SchemaName::new("t1").unwrap();
        assert_eq!(
            PathKey::Default.render(std::slice::from_ref(&public)),
            "\"public\""
        );
        assert_eq!(
            PathKey::Schema(t.clone()).render(std::slice::from_ref(&public)),
            "\"t1\", \"public\""
        );
        assert_eq!(PathKey::Schema(t.clone()).render(&[]), "\"t1\"");
        assert_eq!(
            PathKey::Schema(public.clone()).render(&[public]),
            "\"public\""
        );
    }
}
