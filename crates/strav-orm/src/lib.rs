//! Strav's runtime: one PostgreSQL database, many tenants, one schema each.
//!
//! ```no_run
//! use strav_orm::{with_schema, Database};
//!
//! # async fn demo() -> Result<(), strav_orm::Error> {
//! let db = Database::connect_from_config().await?;
//! with_schema("company_123", async {
//!     let n: i64 = db.sql("SELECT count(*) FROM orders WHERE status = $1")
//!         .bind("pending")
//!         .fetch_scalar()
//!         .await?;
//!     db.transaction(async |tx| {
//!         tx.sql("UPDATE orders SET status = 'paid' WHERE id = $1").bind(7_i64).execute().await
//!     })
//!     .await?;
//!     Ok::<_, strav_orm::Error>(())
//! })
//! .await?;
//! # Ok(()) }
//! ```
//!
//! Every statement inside `with_schema` runs with that schema first on the
//! `search_path`; see the README's "How routing works" for how that stays correct
//! under concurrency, cancellation, errors and pooling.

// The layers, bottom-up (a module imports only from layers below it):
// error, schema_name, search_path, effects, fetch, config
//   -> conn (one connection's state) -> pool (leases, parking, retirement)
//   -> context (the task-local scope) -> route (a statement's path, read once)
//   -> core, exec (the one pipeline) -> sql, transaction, connection
//   -> database (the public entry) -> model, registry, schema_events
//   -> migrate, clone, pooler -> schema_manager.
mod clone;
mod config;
mod conn;
mod connection;
mod context;
mod core;
mod database;
mod effects;
mod error;
mod exec;
mod fetch;
pub mod migrate;
mod model;
mod pool;
mod pooler;
pub mod portable;
mod registry;
mod route;
mod schema_events;
mod schema_manager;
mod schema_name;
mod schema_stats;
mod search_path;
mod sql;
mod transaction;

pub use clone::{CloneReport, CloneSchema};
pub use config::{
    Config, ConnectionConfig, MultiTenantConfig, PoolConfig, RoutingMode, DEFAULT_CONFIG_PATH,
};
pub use connection::Connection;
pub use context::{
    current_schema, current_schema_context, has_schema_context, require_schema, spawn, with_schema,
    without_schema, InCurrentSchema, SchemaContext, Scoped, WithContext, WithSchema,
};
pub use database::{Database, PoolStatus};
pub use error::{Error, Result};
pub use migrate::{Migrations, Migrator, RollbackTo};
pub use model::{
    Assignment, Column, Compatible, Executor, Filter, HasPrimaryKey, Model, Order, PgEnum, Query,
};
pub use portable::{ExportReport, ImportReport};
pub use registry::SchemaInfo;
pub use schema_events::{SchemaEvent, SCHEMA_EVENTS_CHANNEL};
pub use schema_manager::{SchemaManager, SchemaStats};
pub use schema_name::{check_domain, IntoSchemaName, SchemaIdent, SchemaName};
pub use sql::Sql;
pub use transaction::{Tx, TxConnection};

/// `#[derive(Model)]` and `#[derive(Enum)]`.
pub use strav_derive::{embed_migrations, Enum, Model};

/// Re-exported so users need no direct sqlx dependency for common types.
pub use sqlx;

// The crates whose types generated models use, at the versions sqlx
// decodes: a models crate needs `strav-orm` and nothing else.
pub use chrono;
pub use rust_decimal;
pub use serde_json;
pub use uuid;

/// What `#[derive(Model)]`, `#[derive(Enum)]` and `embed_migrations!` expand
/// to. Not API: it may change in any release; use the methods the derives
/// generate instead.
#[doc(hidden)]
pub mod __private {
    pub use crate::migrate::Migrations;
    pub use crate::model::{
        all, create, decode_enum_label, delete, enum_array_compatible, enum_compatible, find,
        find_by, save, Args, ColumnMeta, ModelMeta,
    };
}
