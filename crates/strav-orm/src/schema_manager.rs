//! `SchemaManager`: create, list, inspect and delete tenant schemas.
//!
//! Strav records every schema it creates in the registry table
//! `public.strav_schemas` (created on first use). Listing, deleting and,
//! later, migrating act on registered schemas only, so a schema someone
//! created by hand is never dropped by mistake.

use serde::Serialize;
use sqlx::{AssertSqlSafe, SqlSafeStr};

use crate::clone::CloneSchema;
use crate::database::Database;
use crate::error::{Error, Result};
use crate::migrate::{Migrations, Migrator, Outcome, RollbackTo, RunReport, SchemaReport};
use crate::portable::{self, ExportReport, ImportReport};
use crate::registry::{self, SchemaInfo};
use crate::schema_name::{check_domain, protected_reason, SchemaIdent, SchemaName};
use crate::search_path::SearchPath;
use crate::sql::Sql;

/// Size of one schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SchemaStats {
    /// The schema's name.
    pub schema: String,
    /// Its domain, when registered.
    pub domain: Option<String>,
    /// Ordinary and partitioned tables (partitions not counted separately).
    pub tables: i64,
    /// Rows in those tables: exact from [`SchemaManager::get_schema_stats`],
    /// PostgreSQL's live-tuple statistics from
    /// [`SchemaManager::get_all_schema_stats`] (see `rows_exact`).
    pub total_rows: i64,
    /// Bytes on disk: tables, their indexes and TOAST, materialized views.
    pub size_in_bytes: i64,
    /// Whether `total_rows` was counted (true) or estimated (false).
    pub rows_exact: bool,
}

/// Creates, lists, inspects and deletes schemas. Cheap to make: it borrows
/// the `Database`'s pool.
#[derive(Clone, Debug)]
pub struct SchemaManager {
    db: Database,
    migrator: Option<Migrator>,
}

impl SchemaManager {
    /// A manager over `db`'s pool.
    pub fn new(db: &Database) -> Self {
        SchemaManager {
            db: db.clone(),
            migrator: None,
        }
    }

    /// Gives the manager the migration files, for `migrate_*`, `rollback_schema`
    /// and `create_migrated_schema`: `Migrations::from_dir("database/migrations")?`,
    /// or `strav_orm::embed_migrations!("database/migrations")?` in a binary.
    pub fn with_migrations(mut self, migrations: Migrations) -> Self {
        self.migrator = Some(Migrator::new(&self.db, migrations));
        self
    }

    fn migrator(&self) -> Result<&Migrator> {
        self.migrator.as_ref().ok_or_else(|| Error::Migration {
            schema: None,
            file: None,
            message: "this SchemaManager has no migrations; build it with .with_migrations(Migrations::from_dir(\"database/migrations\")?)".into(),
        })
    }

    /// The domain whose migrations schema `name` takes: its registered
    /// domain, `public` for `public`, else the domain named like the schema.
    async fn domain_of(&self, name: &SchemaIdent) -> Result<String> {
        if name.as_str() == "public" {
            return Ok("public".into());
        }
        Ok(registry::domain_of(&self.db, name)
            .await?
            .unwrap_or_else(|| name.to_string()))
    }

    /// Applies pending migrations to one schema (its registered domain's).
    pub async fn migrate_schema(&self, name: &str) -> Result<SchemaReport> {
        let schema = SchemaIdent::new(name)?;
        let domain = self.domain_of(&schema).await?;
        self.migrator()?.migrate_schema(&schema, &domain).await
    }

    /// Applies pending migrations to every registered tenant schema, as many
    /// at once as the pool has connections; one result per schema.
    pub async fn migrate_all_schemas(&self) -> Result<RunReport> {
        let jobs = self.db.pool_status().max;
        self.migrator()?
            .migrate_all_schemas(jobs, false, &|_| {})
            .await
    }

    /// Reverts migrations of one schema (see [`RollbackTo`]).
    pub async fn rollback_schema(&self, name: &str, to: RollbackTo) -> Result<SchemaReport> {
        let schema = SchemaIdent::new(name)?;
        let domain = self.domain_of(&schema).await?;
        self.migrator()?.rollback_schema(&schema, &domain, to).await
    }

    /// Onboarding: creates and registers schema `name` for `domain`, then
    /// applies the domain's migrations. If a migration fails the schema
    /// stays, registered, at the last version that applied; the error says which.
    pub async fn create_migrated_schema(&self, name: &str, domain: &str) -> Result<SchemaReport> {
        let migrator = self.migrator()?;
        self.create_schema(name, domain).await?;
        let report = migrator
            .migrate_schema(&SchemaName::new(name)?.into(), domain)
            .await?;
        match &report.outcome {
            Outcome::Failed { error, .. } => Err(Error::Migration {
                schema: Some(name.to_owned()),
                file: None,
                message: error.clone(),
            }),
            _ => Ok(report),
        }
    }

    /// Catalog statements are fully qualified; they run on the default path
    /// whatever the caller's context, so they never cost a tenant switch.
    fn sql(&self, sql: impl SqlSafeStr) -> Sql<'_> {
        self.db.sql_on(SearchPath::Default, sql)
    }

    /// Creates the registry table if this database has none yet. Safe to race:
    /// the DDL runs under an advisory lock in one implicit transaction.
    pub async fn ensure_registry(&self) -> Result<()> {
        registry::ensure(&self.db).await
    }

    /// Creates schema `name` for `domain` and registers it, in one transaction.
    pub async fn create_schema(&self, name: &str, domain: &str) -> Result<SchemaInfo> {
        let schema = SchemaName::new(name)?;
        check_domain(domain)?;
        self.ensure_registry().await?;
        let tx = self.db.begin_on(SearchPath::Default).await?;
        let create = format!("CREATE SCHEMA {}", schema.quoted());
        if let Err(e) = tx.sql(AssertSqlSafe(create)).execute().await {
            return Err(match e.sqlstate().as_deref() {
                Some("42P06") => Error::SchemaAlreadyExists(name.to_owned()),
                _ => e,
            });
        }
        let info = registry::insert(&tx, &schema, domain).await?;
        tx.commit().await?;
        tracing::info!(schema = name, domain, "schema created");
        Ok(info)
    }

    /// Drops a registered schema with everything in it and unregisters it, in
    /// one transaction. Refuses `public`, `information_schema`, `pg_*` and
    /// schemas Strav did not create.
    pub async fn delete_schema(&self, name: &str) -> Result<()> {
        if let Some(reason) = protected_reason(name) {
            return Err(Error::ProtectedSchema {
                name: name.to_owned(),
                reason,
            });
        }
        let schema = SchemaName::new(name)?;
        self.ensure_registry().await?;
        let tx = self.db.begin_on(SearchPath::Default).await?;
        if !registry::lock(&tx, &schema).await? {
            return Err(Error::SchemaNotRegistered(name.to_owned()));
        }
        let drop_sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", schema.quoted());
        tx.sql(AssertSqlSafe(drop_sql)).execute().await?;
        registry::remove(&tx, &schema).await?;
        tx.commit().await?;
        tracing::info!(schema = name, "schema deleted");
        Ok(())
    }

    /// Copies schema `source` into a new schema `target`, registered in the
    /// source's domain: structure and `strav_migrations` rows, in one
    /// transaction (on any error nothing of `target` exists). Add
    /// `.with_data(true)` for the rows, `.inside(&tx)` to run in your
    /// transaction; see [`CloneSchema`] and the `clone` module docs.
    pub fn clone_schema(&self, source: &str, target: &str) -> CloneSchema<'_> {
        CloneSchema::new(&self.db, source, target)
    }

    /// Writes schema `name` to the file `path`: its structure, its rows (COPY,
    /// text format) and its `strav_migrations` rows, read in one consistent
    /// snapshot (`REPEATABLE READ`, after any running migration of the
    /// schema), with a header stating the format version, the domain and the
    /// migration version, and a SHA-256 over all of it. The file appears
    /// complete or not at all (written to `<path>.partial`, then renamed).
    /// See the `portable` module docs.
    pub async fn export_schema(
        &self,
        name: &str,
        path: impl AsRef<std::path::Path>,
    ) -> Result<ExportReport> {
        portable::export::export(&self.db, name, path.as_ref()).await
    }

    /// Recreates the schema in the export file `path` as a new schema
    /// `name` in this manager's database, registered in the file's domain,
    /// in one transaction. Refuses, changing nothing: a file that is not an
    /// export, of another format version, truncated or damaged
    /// ([`Error::ExportFile`]; the whole file is checked before the first
    /// statement); a `name` that exists or is registered
    /// ([`Error::SchemaAlreadyExists`]); migrations that are not the
    /// target's ([`Error::MigrationMismatch`]), compared with this manager's
    /// migration files if it has them ([`SchemaManager::with_migrations`]),
    /// else with what the database's schemas of the domain applied (see
    /// [`crate::portable::MigrationReference`]).
    pub async fn import_schema(
        &self,
        path: impl AsRef<std::path::Path>,
        name: &str,
    ) -> Result<ImportReport> {
        let files = self.migrator.as_ref().map(Migrator::migrations);
        portable::import::import(&self.db, files, path.as_ref(), name).await
    }

    /// Whether a schema of that name exists in the database (registered or not).
    pub async fn schema_exists(&self, name: &str) -> Result<bool> {
        let schema = SchemaIdent::new(name)?;
        self.sql("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)")
            .bind(schema.as_str())
            .fetch_scalar()
            .await
    }

    /// Whether `name` is a registered tenant whose schema exists.
    pub async fn tenant_exists(&self, name: &str) -> Result<bool> {
        registry::is_live(&self.db, &SchemaName::new(name)?).await
    }

    /// Registered schemas, by name; only those of `domain` when given.
    pub async fn list_schemas(&self, domain: Option<&str>) -> Result<Vec<SchemaInfo>> {
        if let Some(d) = domain {
            check_domain(d)?;
        }
        registry::list(&self.db, domain).await
    }

    /// A page of registered schemas: at most `limit` whose names sort after
    /// `after` (`None`: from the first), by name, only those of `domain`
    /// when given. Pass the last name of a page as the next `after` to walk
    /// any number of schemas in bounded memory.
    pub async fn list_schemas_page(
        &self,
        domain: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SchemaInfo>> {
        if let Some(d) = domain {
            check_domain(d)?;
        }
        registry::list_page(&self.db, domain, after, limit).await
    }

    /// A statement that runs in `schema` whatever the current context
    /// (`executeInSchema`): bind parameters and fetch as with [`Database::sql`].
    pub fn execute_schema(&self, schema: &SchemaName, sql: impl SqlSafeStr) -> Sql<'_> {
        self.db.sql_on(SearchPath::Schema(schema.into()), sql)
    }

    /// Tables, exact row count and size of one schema, in one round trip.
    pub async fn get_schema_stats(&self, name: &str) -> Result<SchemaStats> {
        let schema = SchemaIdent::new(name)?;
        // query_to_xml runs the per-table count(*) server-side with names
        // quoted by format(%I), so one round trip covers any number of tables.
        let stats: Option<SchemaStats> = self
            .sql(
                "SELECT n.nspname::text AS schema, NULL::text AS domain,
                    count(c.oid) FILTER (WHERE c.relkind IN ('r','p') AND NOT c.relispartition) AS tables,
                    coalesce(sum((xpath('/row/c/text()', query_to_xml(
                        format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname),
                        false, true, '')))[1]::text::bigint)
                        FILTER (WHERE c.relkind IN ('r','p') AND NOT c.relispartition), 0)::bigint AS total_rows,
                    coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relkind IN ('r','m')), 0)::bigint AS size_in_bytes,
                    true AS rows_exact
                 FROM pg_catalog.pg_namespace n
                 LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r','p','m')
                 WHERE n.nspname = $1
                 GROUP BY n.nspname",
            )
            .bind(schema.as_str())
            .fetch_optional()
            .await?;
        let mut stats = stats.ok_or_else(|| Error::SchemaNotFound(name.to_owned()))?;
        stats.domain = registry::domain_of(&self.db, &schema).await?;
        Ok(stats)
    }

    /// Stats of every registered schema, by name (`getSchemaMetrics`): one
    /// catalog query, then sizes a chunk of relations at a time on every
    /// pool connection (see `schema_stats`). Row counts are PostgreSQL's
    /// live-tuple statistics, not `count(*)`: counting would read every
    /// table of every tenant.
    pub async fn get_all_schema_stats(&self) -> Result<Vec<SchemaStats>> {
        crate::schema_stats::all(&self.db).await
    }
}
