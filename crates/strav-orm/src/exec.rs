//! The schema-aware executor: the one place a statement runs.
//!
//! `Sql`, `Tx` and the model functions only build a [`Statement`] (its text
//! and arguments) and hand it to [`execute`] with a target (the pool or a
//! transaction) and a [`Fetch`] that reads the result. Here the route is
//! resolved once from the context, a connection is leased, the statement is
//! put on its path, run (with the re-prepare retry), logged, and its error
//! mapped to [`Error`].
//!
//! On the pool, by routing mode and kind of text:
//!
//! | | session (default) | transaction (poolers) |
//! |---|---|---|
//! | raw SQL | `SET search_path` unless the connection is known to be on it; then the text | `BEGIN; SET LOCAL search_path`, the text, `COMMIT` |
//! | per-tenant model | unqualified on a connection already on the path; else qualified with the tenant's schema within the room for such statements; else `SET` + unqualified | qualified, alone |
//! | fixed-schema model | as is (it names its schema) | as is |
//!
//! Qualified or not, a statement only ever names the tenant of its own
//! context, so isolation does not depend on which form runs. Room is
//! `[pool] tenant_statement_cache` qualified statements per connection:
//! within it, statements spread over many tenants cost one round trip each;
//! past it, they switch the path instead of evicting each other, so server
//! memory for prepared statements stays bounded whatever the tenant count.
//!
//! In a transaction every statement runs unqualified: the path was set with
//! `SET LOCAL` in the same message as `BEGIN`, before any savepoint could
//! exist to undo it.

use std::fmt;
use std::time::Instant;

use sqlx::postgres::PgArguments;
use sqlx::Arguments as _;
use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};
use tokio::sync::Mutex;

use crate::config::RoutingMode;
use crate::conn::PgConn;
use crate::core::Core;
use crate::effects::{effects_of, Effects};
use crate::error::{Error, Result};
use crate::fetch::{Fetch, Script};
use crate::pool::Lease;
use crate::route::Route;
use crate::search_path::SearchPath;

/// Where a statement runs: the pool (routed by the context) or a transaction.
#[derive(Clone, Copy)]
pub enum Target<'e> {
    Pool(&'e Core),
    Tx(&'e TxCore),
}

/// A statement ready to run.
pub(crate) struct Statement<'s> {
    pub(crate) text: Text<'s>,
    pub(crate) args: PgArguments,
    /// A path chosen by the caller instead of the context's.
    pub(crate) path: Option<SearchPath>,
    /// May be prepared and kept on the connection; false for one-off texts
    /// (a catalog query built for one set of schemas) that would only fill
    /// the statement cache and the server's memory.
    pub(crate) persistent: bool,
    /// Schemas a catalog statement reads beyond its path's (a status read
    /// over many tenants' tracking tables): they count toward the
    /// connection's `max_tenants_per_connection` like tenants served.
    pub(crate) touches: usize,
}

impl<'s> Statement<'s> {
    pub(crate) fn new(text: Text<'s>, args: PgArguments) -> Self {
        Statement {
            text,
            args,
            path: None,
            persistent: true,
            touches: 0,
        }
    }
}

/// The kinds of statement text.
pub(crate) enum Text<'s> {
    /// User SQL: runs on its route's `search_path`, whose effects on the
    /// session are read from the text (see `effects.rs`).
    Raw(SqlStr),
    /// SQL that names the schema of everything it touches (fixed-schema
    /// models): any path will do.
    Fixed(SqlStr),
    /// A per-tenant model statement, rendered by a function of the table
    /// qualifier (`""` or `"tenant".`). Needs a tenant.
    Tenant {
        render: &'s (dyn Fn(&str) -> String + Sync),
        table: &'static str,
        domain: &'static str,
    },
}

impl Text<'_> {
    fn needs_tenant(&self) -> Option<Error> {
        match self {
            Text::Tenant { table, domain, .. } => Some(Error::NoSchemaContext {
                operation: format!("model of table `{table}` (per-tenant domain `{domain}`)"),
            }),
            _ => None,
        }
    }
}

/// Runs `stmt` on `target` and reads its result with `fetch`.
pub(crate) async fn execute<F: Fetch>(
    target: Target<'_>,
    stmt: Statement<'_>,
    fetch: &F,
) -> Result<F::Output> {
    // Boxed: the pipeline's future is a couple of KB, and every future that
    // holds a statement (a handler's, a `with_schema` scope's) would carry
    // it and copy it each time it is moved; boxed, it is built once.
    match target {
        Target::Pool(core) => Box::pin(on_pool(core, stmt, fetch)).await,
        Target::Tx(tx) => Box::pin(tx.run(stmt, fetch)).await,
    }
}

async fn on_pool<F: Fetch>(core: &Core, mut stmt: Statement<'_>, fetch: &F) -> Result<F::Output> {
    let mt = &core.config.multi_tenant;
    let route = Route::resolve(mt, stmt.path.take())?;
    if route.tenant.is_none() {
        if let Some(e) = stmt.text.needs_tenant() {
            return Err(e);
        }
    }
    let mut lease = core.pool.lease(route.scope).await?;
    let conn = lease.conn();
    let limit = core.config.pool.max_tenants_per_connection;
    if let SearchPath::Schema(schema) = &route.path {
        conn.note_schema(schema, limit);
    }
    if stmt.touches > 0 {
        conn.note_schemas_read(stmt.touches, limit);
    }
    let plan = Plan {
        core,
        path: &route.path,
    };
    let started = clock();
    conn.busy = true;
    let (sql, result) = match mt.routing {
        RoutingMode::Session => plan.session(conn, stmt, fetch).await,
        // Boxed: several round trips anyway, and inline its larger future
        // would be part of every statement's future in session mode too.
        RoutingMode::Transaction => Box::pin(plan.local_tx(conn, stmt, fetch)).await,
    };
    // Not reached when the future is dropped: the connection stays busy
    // and is closed when the lease goes back (see `pool.rs`).
    conn.busy = false;
    finish(conn, &route.path, sql.as_ref(), started, result)
}

/// How one statement reaches its path on a pooled connection.
struct Plan<'p> {
    core: &'p Core,
    path: &'p SearchPath,
}

impl Plan<'_> {
    fn shared(&self) -> &[crate::schema_name::SchemaIdent] {
        &self.core.config.multi_tenant.shared_schemas
    }

    async fn session<F: Fetch>(
        &self,
        conn: &mut PgConn,
        stmt: Statement<'_>,
        fetch: &F,
    ) -> (Option<SqlStr>, Result<F::Output, sqlx::Error>) {
        match stmt.text {
            Text::Raw(sql) => {
                let fx = effects_of(sql.as_str());
                let result = async {
                    conn.set_path(self.path, self.shared()).await?;
                    run_with_effects(conn, &sql, stmt.args, fetch, fx, stmt.persistent, true).await
                }
                .await;
                (Some(sql), result)
            }
            Text::Fixed(sql) => {
                let result = conn.run(&sql, stmt.args, fetch, true, true).await;
                (Some(sql), result)
            }
            Text::Tenant { render, .. } => {
                if conn.path.as_ref() == Some(self.path) {
                    let sql = AssertSqlSafe(render("")).into_sql_str();
                    let result = conn.run(&sql, stmt.args, fetch, true, true).await;
                    return (Some(sql), result);
                }
                if let Some(sql) = self.qualified(conn, render, false) {
                    let result = conn.run(&sql, stmt.args, fetch, true, true).await;
                    return (Some(sql), result);
                }
                let sql = AssertSqlSafe(render("")).into_sql_str();
                let result = async {
                    conn.set_path(self.path, self.shared()).await?;
                    conn.run(&sql, stmt.args, fetch, true, true).await
                }
                .await;
                (Some(sql), result)
            }
        }
    }

    /// Transaction routing: nothing is left on the session, and with unnamed
    /// statements (the default) nothing is split over two transactions,
    /// since a transaction pooler may give the next one to another server
    /// connection, or to another client's statement in between.
    async fn local_tx<F: Fetch>(
        &self,
        conn: &mut PgConn,
        stmt: Statement<'_>,
        fetch: &F,
    ) -> (Option<SqlStr>, Result<F::Output, sqlx::Error>) {
        let named = self.core.config.multi_tenant.pooler_prepared_statements;
        let bare = stmt.args.len() == 0;
        let (sql, raw) = match stmt.text {
            Text::Raw(sql) => (sql, true),
            Text::Fixed(sql) => (sql, false),
            Text::Tenant { render, .. } => {
                let sql = self
                    .qualified(conn, render, true)
                    .expect("qualified statements are always allowed in transaction mode");
                (sql, false)
            }
        };
        let shared = self.shared();
        let result = match (raw, bare, named) {
            // It names its schema: no path needed, one message.
            (false, true, false) => fetch.run_simple(&mut conn.raw, sql.clone()).await,
            (false, _, true) => conn.run(&sql, stmt.args, fetch, true, true).await,
            (false, false, false) => {
                wrapped(conn, None, shared, &sql, stmt.args, fetch, false).await
            }
            // Raw SQL without parameters: BEGIN, the path, the text and
            // COMMIT in one simple-protocol message, one round trip.
            (true, true, _) => {
                let text = format!(
                    "BEGIN; SET LOCAL search_path TO {};\n{}\n;COMMIT",
                    self.path.render(shared),
                    sql.as_str()
                );
                conn.tx_open = true;
                match fetch
                    .run_simple(&mut conn.raw, AssertSqlSafe(text).into_sql_str())
                    .await
                {
                    Ok(v) => {
                        conn.tx_open = false;
                        Ok(v)
                    }
                    Err(e) => Err(abandon(conn, e).await),
                }
            }
            (true, false, _) => {
                let persistent = named && stmt.persistent;
                wrapped(
                    conn,
                    Some(self.path),
                    shared,
                    &sql,
                    stmt.args,
                    fetch,
                    persistent,
                )
                .await
            }
        };
        let result = match result {
            Ok(v) if raw && effects_of(sql.as_str()).statements => {
                conn.forget_statements().await.map(|()| v)
            }
            other => other,
        };
        (Some(sql), result)
    }

    /// The statement qualified with the tenant's schema, when this
    /// connection has it prepared or room to prepare it (always with
    /// `unbounded`).
    fn qualified(
        &self,
        conn: &mut PgConn,
        render: &(dyn Fn(&str) -> String + Sync),
        unbounded: bool,
    ) -> Option<SqlStr> {
        let schema = self.path.schema()?;
        let qualified = render(&format!("\"{schema}\"."));
        let room = self.core.config.pool.tenant_statement_cache;
        let prepared = conn.qualified.contains(qualified.as_str());
        if !prepared && conn.qualified.len() < room {
            conn.qualified.insert(qualified.clone().into_boxed_str());
        } else if !prepared && !unbounded {
            return None;
        }
        Some(AssertSqlSafe(qualified).into_sql_str())
    }
}

/// Runs one statement in a transaction of its own (`BEGIN`, with the path
/// when given, the statement, `COMMIT`). A named statement refused as stale
/// is prepared again and the whole retried once.
async fn wrapped<F: Fetch>(
    conn: &mut PgConn,
    path: Option<&SearchPath>,
    shared: &[crate::schema_name::SchemaIdent],
    sql: &SqlStr,
    args: PgArguments,
    fetch: &F,
    persistent: bool,
) -> Result<F::Output, sqlx::Error> {
    let mut retried = false;
    loop {
        match path {
            Some(path) => conn.begin(path, shared, false).await?,
            None => conn.begin_bare().await?,
        }
        match conn.run(sql, args.clone(), fetch, persistent, false).await {
            Ok(v) => {
                conn.end(true).await?;
                return Ok(v);
            }
            Err(e) => {
                // Unnamed statements too: the first time sqlx meets a result
                // type it does not know, it looks it up with a simple query,
                // which destroys the unnamed statement before its Bind (26000);
                // the second time the type is known.
                let retry = !retried && crate::conn::needs_reprepare(&e);
                let e = abandon(conn, e).await;
                if !retry {
                    return Err(e);
                }
                retried = true;
                conn.forget_statements().await?;
            }
        }
    }
}

/// Rolls back the transaction a failed statement left open, unless the
/// connection itself is gone; returns the statement's error.
async fn abandon(conn: &mut PgConn, e: sqlx::Error) -> sqlx::Error {
    if crate::conn::is_connection_lost(&e) {
        return e;
    }
    match conn.end(false).await {
        Ok(()) => e,
        Err(lost) => {
            conn.observe(&lost);
            e
        }
    }
}

/// Runs user SQL, keeping Strav's record of the session honest about what
/// the text may change.
async fn run_with_effects<F: Fetch>(
    conn: &mut PgConn,
    sql: &SqlStr,
    args: PgArguments,
    fetch: &F,
    fx: Effects,
    persistent: bool,
    retry: bool,
) -> Result<F::Output, sqlx::Error> {
    if fx.path {
        conn.path = None;
    }
    let result = conn.run(sql, args, fetch, persistent, retry).await;
    if fx.statements {
        conn.forget_statements().await?;
    }
    result
}

fn finish<R>(
    conn: &mut PgConn,
    path: &SearchPath,
    sql: Option<&SqlStr>,
    started: Option<Instant>,
    result: Result<R, sqlx::Error>,
) -> Result<R> {
    if let Some(sql) = sql {
        log_statement(path, sql, started, &result);
    }
    result.map_err(|e| {
        conn.observe(&e);
        Error::db(e, path.schema())
    })
}

/// The clock is read only when the statement event will be recorded.
fn clock() -> Option<Instant> {
    tracing::enabled!(target: "strav::sql", tracing::Level::DEBUG).then(Instant::now)
}

fn log_statement<R>(
    path: &dyn fmt::Display,
    sql: &SqlStr,
    started: Option<Instant>,
    result: &Result<R, sqlx::Error>,
) {
    let Some(started) = started else { return };
    let elapsed_us = started.elapsed().as_micros() as u64;
    match result {
        Ok(_) => {
            tracing::debug!(target: "strav::sql", schema = %path, elapsed_us, sql = sql.as_str(), "statement")
        }
        Err(e) => {
            tracing::debug!(target: "strav::sql", schema = %path, elapsed_us, sql = sql.as_str(), error = %e, "statement failed")
        }
    }
}

/// An open transaction's connection and path: what `Tx` is made of.
pub struct TxCore {
    state: Mutex<TxState>,
    path: SearchPath,
    /// Named statements may be kept (false behind a pooler that does not
    /// keep them: unnamed statements, which live inside the transaction).
    persistent: bool,
}

pub(crate) struct TxState {
    pub(crate) lease: Lease,
    /// Savepoints open inside the transaction.
    pub(crate) depth: usize,
}

/// Begins a transaction on the context's path (or `fixed`), in one round trip.
pub(crate) async fn begin(core: &Core, fixed: Option<SearchPath>) -> Result<TxCore> {
    let mt = &core.config.multi_tenant;
    let route = Route::resolve(mt, fixed)?;
    let mut lease = core.pool.lease(route.scope).await?;
    let conn = lease.conn();
    if let SearchPath::Schema(schema) = &route.path {
        conn.note_schema(schema, core.config.pool.max_tenants_per_connection);
    }
    conn.busy = true;
    let trust_session = mt.routing == RoutingMode::Session;
    if let Err(e) = conn
        .begin(&route.path, &mt.shared_schemas, trust_session)
        .await
    {
        conn.busy = false;
        conn.observe(&e);
        return Err(Error::db(e, route.path.schema()));
    }
    conn.busy = false;
    Ok(TxCore {
        state: Mutex::new(TxState { lease, depth: 0 }),
        path: route.path,
        persistent: trust_session || mt.pooler_prepared_statements,
    })
}

impl TxCore {
    /// The path every statement of the transaction runs on.
    pub(crate) fn path(&self) -> &SearchPath {
        &self.path
    }

    /// The transaction's state, for savepoints and raw access.
    pub(crate) async fn lock(&self) -> tokio::sync::MutexGuard<'_, TxState> {
        self.state.lock().await
    }

    async fn run<F: Fetch>(&self, stmt: Statement<'_>, fetch: &F) -> Result<F::Output> {
        let mut state = self.state.lock().await;
        let conn = state.lease.conn();
        if conn.busy {
            return Err(Error::TransactionInterrupted);
        }
        let (sql, fx) = match stmt.text {
            Text::Raw(sql) => {
                let fx = effects_of(sql.as_str());
                (sql, fx)
            }
            Text::Fixed(sql) => (sql, Effects::default()),
            text @ Text::Tenant { .. } => {
                if self.path == SearchPath::Default {
                    return Err(text.needs_tenant().expect("a tenant statement"));
                }
                let Text::Tenant { render, .. } = text else {
                    unreachable!()
                };
                (AssertSqlSafe(render("")).into_sql_str(), Effects::default())
            }
        };
        let started = clock();
        conn.busy = true;
        let persistent = self.persistent && stmt.persistent;
        let result = if !self.persistent && stmt.args.len() == 0 {
            // One round trip instead of an unnamed Parse and an Execute.
            fetch.run_simple(&mut conn.raw, sql.clone()).await
        } else {
            run_with_effects(conn, &sql, stmt.args, fetch, fx, persistent, false).await
        };
        conn.busy = false;
        finish(conn, &self.path, Some(&sql), started, result)
    }

    /// Runs a transaction-control statement (`SAVEPOINT`, `RELEASE`, ...).
    pub(crate) async fn control(&self, sql: String) -> Result<()> {
        let stmt = Statement::new(
            Text::Raw(AssertSqlSafe(sql).into_sql_str()),
            PgArguments::default(),
        );
        self.run(stmt, &Script).await.map(drop)
    }

    /// Commits or rolls back.
    pub(crate) async fn end(&self, commit: bool) -> Result<()> {
        let mut state = self.state.lock().await;
        let conn = state.lease.conn();
        if conn.busy {
            return Err(Error::TransactionInterrupted);
        }
        conn.busy = true;
        let result = conn.end(commit).await;
        conn.busy = false;
        result.map_err(|e| {
            conn.observe(&e);
            Error::db(e, self.path.schema())
        })
    }
}
