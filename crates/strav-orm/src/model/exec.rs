//! Where a model statement runs.
//!
//! Fixed-schema models name their schema in the SQL: any connection will do,
//! whatever its `search_path`, at one round trip.
//!
//! Per-tenant models, outside a transaction, pick per connection:
//! 1. the connection is already on the tenant's path: the unqualified SQL,
//!    one prepared statement shared by every tenant;
//! 2. else the SQL qualified with the tenant's schema, when this connection
//!    has it prepared (one round trip, no `SET`) or has room to prepare it
//!    without evicting anything;
//! 3. else one `SET search_path` and the unqualified SQL.
//!
//! Room is `[pool] tenant_statement_cache` qualified statements per
//! connection. Within it, work spread over many tenants costs one round trip
//! a statement, like schema-qualified hand-written SQL; past it, statements
//! fall back to switching the path instead of evicting each other, so a
//! server's memory for prepared statements is bounded by connections x that
//! number, whatever the number of tenants. Qualified or not, a statement only
//! ever names the tenant of the current context, so isolation does not depend
//! on which form runs.
//!
//! In a transaction, statements use the unqualified SQL: the transaction's
//! path was set with `SET LOCAL` when it began.

use sqlx::{AssertSqlSafe, SqlSafeStr};

use super::args::Args;
use super::{Executor, Model, Target};
use crate::config::RoutingMode;
use crate::context::current_schema_context;
use crate::database::Database;
use crate::error::{Error, Result};
use crate::routing::{log_statement, Op, PathKey};
use crate::schema_name::SchemaName;

pub(crate) async fn run<'e, M: Model, E: Executor<'e>, R>(
    exec: E,
    render: &(dyn Fn(&str) -> String + Sync),
    args: Args,
    op: &Op<'_, R>,
) -> Result<R> {
    let args = args.finish()?;
    match exec.target() {
        Target::Tx(tx) => {
            if M::META.schema.is_none() && tx.schema().is_none() {
                return Err(no_context::<M>());
            }
            tx.run_statement(AssertSqlSafe(render("")).into_sql_str(), args, op)
                .await
        }
        Target::Db(db) => match M::META.schema {
            Some(schema) => db.run_qualified(schema, render(""), args, op).await,
            None => {
                let ctx = current_schema_context();
                let schema = match ctx.as_ref().and_then(|c| c.schema()) {
                    Some(s) if db.multi_tenant().enabled => s.clone(),
                    Some(_) => return Err(Error::MultiTenantDisabled),
                    None => return Err(no_context::<M>()),
                };
                db.run_tenant_model(&schema, render, args, op).await
            }
        },
    }
}

fn no_context<M: Model>() -> Error {
    Error::NoSchemaContext {
        operation: format!(
            "model of table `{}` (per-tenant domain `{}`)",
            M::META.table,
            M::META.domain
        ),
    }
}

impl Database {
    /// A statement that names the schema of everything it touches.
    async fn run_qualified<R>(
        &self,
        schema: &str,
        sql: String,
        args: sqlx::postgres::PgArguments,
        op: &Op<'_, R>,
    ) -> Result<R> {
        let ctx = current_schema_context();
        let mut lease = self.lease(ctx.as_ref()).await?;
        let conn = lease.conn();
        let sql = AssertSqlSafe(sql).into_sql_str();
        let started = std::time::Instant::now();
        let result = conn.run_retrying(&sql, args, op).await;
        log_statement(&schema, &sql, started, &result);
        result.map_err(|e| {
            conn.note_error(&e);
            Error::db(e, Some(schema))
        })
    }

    async fn run_tenant_model<R>(
        &self,
        schema: &SchemaName,
        render: &(dyn Fn(&str) -> String + Sync),
        args: sqlx::postgres::PgArguments,
        op: &Op<'_, R>,
    ) -> Result<R> {
        let ctx = current_schema_context();
        let mut lease = self.lease(ctx.as_ref()).await?;
        let conn = lease.conn();
        let key = PathKey::Schema(schema.clone());
        let session = self.multi_tenant().routing == RoutingMode::Session;
        let started = std::time::Instant::now();
        let result = async {
            if session && conn.path.as_ref() == Some(&key) {
                let sql = AssertSqlSafe(render("")).into_sql_str();
                return Ok((conn.run_retrying(&sql, args, op).await, sql));
            }
            let qualified = render(&format!("{}.", schema.quoted()));
            let budget = self.config().pool.tenant_statement_cache;
            let prepared = conn.qualified.contains(qualified.as_str());
            if prepared || conn.qualified.len() < budget || !session {
                if !prepared && conn.qualified.len() < budget {
                    conn.qualified.insert(qualified.clone().into_boxed_str());
                }
                let sql = AssertSqlSafe(qualified).into_sql_str();
                return Ok((conn.run_retrying(&sql, args, op).await, sql));
            }
            self.ensure_session_path(conn, &key).await?;
            let sql = AssertSqlSafe(render("")).into_sql_str();
            Ok((conn.run_retrying(&sql, args, op).await, sql))
        }
        .await;
        let result = match result {
            Ok((r, sql)) => {
                log_statement(&key, &sql, started, &r);
                r
            }
            Err(e) => Err(e),
        };
        result.map_err(|e| {
            conn.note_error(&e);
            Error::db(e, Some(schema.as_str()))
        })
    }
}
