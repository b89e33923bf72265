//! `clone_schema`: a structural copy of a schema that is really independent.
//!
//! The clone is rebuilt from the catalogs, not with `CREATE TABLE ... (LIKE
//! ...)`, which would keep pointing at the source: `LIKE` copies a serial
//! column's `nextval('source.seq')`, renames identity sequences and indexes
//! after the new table, and copies no foreign keys.
//!
//! How references end up in the target without rewriting SQL text: the
//! definitions are read with `search_path` set to the source schema alone
//! (then `pg_catalog`, `pg_temp`). PostgreSQL's deparsers (`pg_get_expr`,
//! `pg_get_constraintdef`, `pg_get_viewdef`, `pg_get_indexdef`,
//! `pg_get_triggerdef`, `format_type`, `regclass` literals) qualify a name
//! only when it is not visible on the path, so everything of the source comes
//! out unqualified and everything elsewhere (`public.users`) qualified. The
//! DDL then runs with `search_path` set to the target, where the unqualified
//! names resolve to the clone's own objects. Only function texts are
//! rewritten: the `CREATE FUNCTION "source".name(` header that
//! `pg_get_functiondef` always qualifies, source-qualified names inside
//! bodies, which PostgreSQL keeps as opaque text (see [`requalify`]), and a
//! `SET search_path` naming the source.
//!
//! Identity and serial sequences keep their names (also when the table was
//! renamed after its sequence was made) and belong to the clone's columns.
//! Copied rows of columns typed with the source's own types (enums,
//! composites, ranges, arrays of them) go through text into the clone's.
//!
//! Round trips: a first statement checks the names and sets the paths, one
//! takes the locks, one reads the whole catalog (every definition, generated
//! server-side with `format('%I')`/`%L` quoting), then the DDL goes as one
//! script before the data copy (only with `with_data`) and one after it.
//!
//! `export_schema` (`crate::portable`) reuses the same query and plan
//! ([`read_plan`]): the target is then a placeholder name the import
//! replaces, and rows are described ([`Rows::Described`]) rather than copied.
//!
//! Not copied, and refused when present: partitioned, inherited, typed and
//! foreign tables, aggregates, base types, and objects such as collations,
//! operators or extensions living in the schema. Not copied silently:
//! tablespaces (the clone uses the default), security labels, publication
//! memberships, and grantors other than the object owner.

use serde::Serialize;
use sqlx::AssertSqlSafe;

use crate::database::Database;
use crate::error::{Error, Result};
use crate::migrate::tracking;
use crate::registry;
use crate::schema_name::{check_domain, SchemaName};
use crate::search_path::SearchPath;
use crate::transaction::Tx;

mod plan;
mod rewrite;

use plan::Item;
pub(crate) use plan::{Plan, Rows};

/// A clone to run, from [`crate::SchemaManager::clone_schema`]: the
/// structure and `strav_migrations` rows by default; `.with_data(true)` adds
/// every row, `.inside(&tx)` runs it in the caller's transaction. Awaiting
/// it runs it.
///
/// ```no_run
/// # async fn demo(sm: strav_orm::SchemaManager, tx: &strav_orm::Tx) -> strav_orm::Result<()> {
/// sm.clone_schema("acme", "acme_copy").await?;
/// sm.clone_schema("acme", "acme_full").with_data(true).await?;
/// sm.clone_schema("acme", "acme_in_tx").inside(tx).await?;
/// # Ok(()) }
/// ```
#[must_use = "a clone does nothing until awaited"]
pub struct CloneSchema<'a> {
    db: &'a Database,
    source: String,
    target: String,
    with_data: bool,
    inside: Option<&'a Tx>,
}

impl<'a> CloneSchema<'a> {
    pub(crate) fn new(db: &'a Database, source: &str, target: &str) -> Self {
        CloneSchema {
            db,
            source: source.to_owned(),
            target: target.to_owned(),
            with_data: false,
            inside: None,
        }
    }

    /// Also copies every table's rows and the sequences' current values.
    /// Without it, tables are empty (except `strav_migrations`, always
    /// copied) and sequences start as their definition says.
    pub fn with_data(mut self, yes: bool) -> Self {
        self.with_data = yes;
        self
    }

    /// Runs inside the caller's transaction, in a savepoint: on error nothing
    /// of the clone is left and the caller's transaction can go on; it
    /// commits or rolls back with `tx`.
    pub fn inside(mut self, tx: &'a Tx) -> Self {
        self.inside = Some(tx);
        self
    }

    async fn run(self) -> Result<CloneReport> {
        let source = SchemaName::new(&self.source)?;
        let target = SchemaName::new(&self.target)?;
        let (db, with_data) = (self.db, self.with_data);
        if let Some(outer) = self.inside {
            // Owned: the savepoint's closure must not borrow past `'a`.
            let db = db.clone();
            return outer
                .transaction(async move |tx| {
                    // In the caller's transaction: not through `ensure`,
                    // which would take a second connection (a deadlock on
                    // a pool of one) and remember a registry the caller
                    // may still roll back.
                    registry::ensure_in(&db, tx).await?;
                    copy(&db, tx, &source, &target, with_data).await
                })
                .await;
        }
        registry::ensure(db).await?;
        let tx = db.begin_on(SearchPath::Default).await?;
        match copy(db, &tx, &source, &target, with_data).await {
            Ok(report) => {
                tx.commit().await?;
                tracing::info!(source = %source, target = %target, tables = report.tables, rows = report.rows_copied, "schema cloned");
                Ok(report)
            }
            Err(e) => {
                // Dropping would roll back too; this gives the connection back now.
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }
}

impl<'a> std::future::IntoFuture for CloneSchema<'a> {
    type Output = Result<CloneReport>;
    type IntoFuture = futures_util::future::BoxFuture<'a, Result<CloneReport>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// What a clone made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CloneReport {
    /// The schema copied.
    pub source: String,
    /// The new schema.
    pub target: String,
    /// The domain the new schema was registered with.
    pub domain: String,
    /// Tables created (`strav_migrations` included).
    pub tables: usize,
    /// Views and materialized views created.
    pub views: usize,
    /// Functions and procedures created.
    pub functions: usize,
    /// Enums, composite types, domains and range types created.
    pub types: usize,
    /// Rows copied into tables other than `strav_migrations` (0 without `with_data`).
    pub rows_copied: u64,
    /// `strav_migrations` rows copied: the clone is at the source's version.
    pub migrations_copied: u64,
}

#[derive(sqlx::FromRow)]
struct Check {
    source_exists: bool,
    target_taken: bool,
    domain: Option<String>,
    locks: String,
}

/// Saves the caller's settings (restored at the end, which matters inside a
/// caller's transaction), points `search_path` at the source for reading
/// definitions, checks both names and builds the lock statement.
///
/// Locks: the source's migration advisory lock (the key of
/// `migrate::tracking::lock_key`), shared: clones of one source run side by
/// side, but no migration of the source commits halfway through a copy, so
/// `strav_migrations` matches the structure. The source's tables in ACCESS
/// SHARE mode against other DDL, or in SHARE mode with data, so the rows of
/// all tables are one consistent state and foreign keys hold in the copy.
const CHECK_SQL: &str = include_str!("check.sql");

const RESTORE_SQL: &str =
    "SELECT set_config('search_path', current_setting('strav.clone_search_path'), true), \
set_config('check_function_bodies', current_setting('strav.clone_check_function_bodies'), true), \
set_config('row_security', current_setting('strav.clone_row_security'), true)";

/// Every definition of schema `$1` as DDL for schema `$2`, one row per
/// statement, in phases (see `plan::Phase`). `$3`: copy data; `$4`: the name
/// of the migrations table. It reads with `search_path` set to `$1` alone
/// (see the module docs).
///
/// Phase 10 rows are the objects later ones depend on, each with `node` (a
/// key per type, relation or function) and `deps` (the nodes it needs,
/// from `pg_depend`); they are created in that dependency order. Defaults,
/// constraints, indexes and triggers come after the data, as in `pg_dump`:
/// the copy runs no trigger, checks each constraint once, and a default
/// that calls a function created late still resolves.
const CATALOG_SQL: &str = include_str!("catalog.sql");

async fn copy(
    db: &Database,
    tx: &Tx,
    source: &SchemaName,
    target: &SchemaName,
    with_data: bool,
) -> Result<CloneReport> {
    let check: Check = tx
        .sql(CHECK_SQL)
        .bind(source.as_str())
        .bind(target.as_str())
        .bind(with_data)
        .bind(tracking::LOCK_PREFIX)
        .fetch_one()
        .await?;
    if !check.source_exists {
        return Err(Error::SchemaNotFound(source.to_string()));
    }
    if check.target_taken {
        return Err(Error::SchemaAlreadyExists(target.to_string()));
    }
    let domain = check
        .domain
        .unwrap_or_else(|| registry::default_tenant_domain(db));
    // The registry row is written as a literal below; a checked domain needs no escaping.
    check_domain(&domain)?;
    // Built server-side from catalog names with format('%I').
    tx.sql(AssertSqlSafe(check.locks)).execute_script().await?;

    let plan = read_plan(tx, source, target, with_data, Rows::InPlace).await?;

    let mut create = format!(
        "SET LOCAL search_path TO {}, pg_catalog, pg_temp;\n\
         SET LOCAL check_function_bodies TO off;\n\
         SET LOCAL row_security TO off;\n\
         CREATE SCHEMA {};\n",
        target.quoted(),
        target.quoted()
    );
    push_all(&mut create, &plan.create);
    push_all(&mut create, &plan.migrations);
    // Only DDL and the INSERT into strav_migrations: the count is that table's.
    let migrations_copied = script(tx, create, target).await?;
    let rows_copied = if plan.data.is_empty() {
        0
    } else {
        script(tx, plan.data.join(";\n"), target).await?
    };
    let mut after = String::new();
    push_all(&mut after, &plan.after);
    after.push_str(&registry::insert_sql(target, &domain));
    after.push('\n');
    after.push_str(RESTORE_SQL);
    script(tx, after, target).await?;

    Ok(CloneReport {
        source: source.to_string(),
        target: target.to_string(),
        domain,
        tables: plan.tables,
        views: plan.views,
        functions: plan.functions,
        types: plan.types,
        rows_copied,
        migrations_copied,
    })
}

/// Reads the plan that recreates `source` as `target`, in one query. The
/// caller has set `search_path` to `source` alone (then `pg_catalog`,
/// `pg_temp`), which is what makes names of `source` come out unqualified.
pub(crate) async fn read_plan(
    tx: &Tx,
    source: &SchemaName,
    target: &SchemaName,
    with_data: bool,
    rows: Rows,
) -> Result<Plan> {
    let items: Vec<Item> = tx
        .sql(CATALOG_SQL)
        .bind(source.as_str())
        .bind(target.as_str())
        .bind(with_data)
        .bind(tracking::TRACKING_TABLE)
        .fetch_all()
        .await?;
    Plan::build(items, source, target, rows)
}

pub(crate) fn push_all(script: &mut String, statements: &[String]) {
    for s in statements {
        script.push_str(s);
        script.push_str(";\n");
    }
}

/// Runs generated DDL. A name taken meanwhile by a concurrent clone or
/// `schema:create` (the check above passed) is still a typed error.
pub(crate) async fn script(tx: &Tx, sql: String, target: &SchemaName) -> Result<u64> {
    tx.sql(AssertSqlSafe(sql))
        .execute_script()
        .await
        .map_err(|e| match e.sqlstate().as_deref() {
            Some("42P06") | Some("23505") if is_name_clash(&e) => {
                Error::SchemaAlreadyExists(target.to_string())
            }
            _ => e,
        })
}

/// The schema or its registry row: a unique violation elsewhere (a copied
/// UNIQUE constraint) is a real failure, not a name clash.
fn is_name_clash(e: &Error) -> bool {
    match e {
        Error::Database {
            source: sqlx::Error::Database(db),
            ..
        } => {
            db.code().as_deref() == Some("42P06")
                || matches!(
                    db.constraint(),
                    Some("pg_namespace_nspname_index") | Some("strav_schemas_pkey")
                )
        }
        _ => false,
    }
}
