//! Applying and reverting migrations, one schema or many in parallel.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use sqlx::AssertSqlSafe;

use super::source::{split_statements, Migration, Migrations};
use super::status::{applied_rows, SchemaStatus};
use super::summary;
use super::tracking::{self, Summary};
use crate::database::Database;
use crate::error::{Error, Result};
use crate::registry;
use crate::schema_name::{check_domain, SchemaIdent};
use crate::search_path::SearchPath;

/// Applies and reverts migrations.
#[derive(Clone, Debug)]
pub struct Migrator {
    db: Database,
    migrations: Arc<Migrations>,
}

/// What happened to one schema in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// These versions were applied (or, for a rollback, reverted).
    Migrated { versions: Vec<i64> },
    /// Nothing to do.
    Current,
    /// Stopped with an error; `versions` had been applied (reverted) before it.
    Failed { versions: Vec<i64>, error: String },
}

/// One schema's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaReport {
    pub schema: String,
    pub domain: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The result of a run over one or many schemas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunReport {
    /// The batch id this run recorded (rollbacks: `None`).
    pub batch: Option<i64>,
    pub schemas: Vec<SchemaReport>,
}

impl RunReport {
    /// Schemas where something was applied (reverted).
    pub fn migrated(&self) -> impl Iterator<Item = &SchemaReport> {
        self.schemas
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Migrated { .. }))
    }
    /// Schemas that were already current.
    pub fn current(&self) -> impl Iterator<Item = &SchemaReport> {
        self.schemas
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Current))
    }
    /// Schemas that failed.
    pub fn failed(&self) -> impl Iterator<Item = &SchemaReport> {
        self.schemas
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Failed { .. }))
    }
    /// True when no schema failed.
    pub fn is_success(&self) -> bool {
        self.failed().next().is_none()
    }
}

/// Which batches a rollback reverts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackTo {
    /// In each schema, the newest batch that schema applied.
    LastBatch,
    /// Every batch >= N, newest first.
    FromBatch(i64),
}

/// A schema to act on and the domain whose migrations it takes.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub schema: SchemaIdent,
    pub domain: String,
}

impl Migrator {
    /// A migrator over `db` with these migration files.
    pub fn new(db: &Database, migrations: Migrations) -> Self {
        Migrator {
            db: db.clone(),
            migrations: Arc::new(migrations),
        }
    }

    /// The migration files.
    pub fn migrations(&self) -> &Migrations {
        &self.migrations
    }

    /// The schemas a domain's migrations go to: `public` for `public`, every
    /// registered schema of a per-tenant domain, else the schema named after
    /// the domain.
    pub async fn schemas_of(&self, domain: &str) -> Result<Vec<SchemaIdent>> {
        check_domain(domain)?;
        if domain == "public" {
            return Ok(vec![SchemaIdent::public()]);
        }
        if self.is_tenant_domain(domain) {
            let infos = registry::list(&self.db, Some(domain)).await?;
            return infos.iter().map(|i| SchemaIdent::new(&i.name)).collect();
        }
        Ok(vec![SchemaIdent::new(domain)?])
    }

    /// A registered (per-tenant) schema keeps a summary; `track` when its
    /// trigger is not known to be in place.
    fn summary_for(&self, domain: &str, track: bool) -> Summary {
        match (self.is_tenant_domain(domain), track) {
            (false, _) => Summary::None,
            (true, false) => Summary::Write,
            (true, true) => Summary::Track,
        }
    }

    fn is_tenant_domain(&self, domain: &str) -> bool {
        self.db
            .multi_tenant()
            .tenant_domains
            .iter()
            .any(|d| d == domain)
    }

    /// Where each schema of `domain` stands (read-only).
    pub async fn status(&self, domain: &str) -> Result<Vec<SchemaStatus>> {
        let targets = targets(self.schemas_of(domain).await?, domain);
        self.statuses(&targets).await
    }

    /// Where each target stands: from the registry's summary for the
    /// schemas it shows current, from their tracking tables for the rest.
    pub(crate) async fn statuses(&self, targets: &[Target]) -> Result<Vec<SchemaStatus>> {
        Ok(self.read_statuses(targets).await?.0)
    }

    /// The statuses, and the schemas whose summary trigger is in place.
    async fn read_statuses(
        &self,
        targets: &[Target],
    ) -> Result<(Vec<SchemaStatus>, HashSet<String>)> {
        let summary::Summaries { current, live } =
            summary::read(&self.db, targets, &self.migrations).await?;
        let schemas: Vec<SchemaIdent> = targets
            .iter()
            .filter(|t| !current.contains(t.schema.as_str()))
            .map(|t| t.schema.clone())
            .collect();
        let rows = applied_rows(&self.db, &schemas).await?;
        let statuses = targets
            .iter()
            .map(|t| {
                let files = self.migrations.domain(&t.domain);
                if current.contains(t.schema.as_str()) {
                    SchemaStatus::at(t.schema.as_str(), &t.domain, files)
                } else {
                    SchemaStatus::compute(
                        t.schema.as_str(),
                        &t.domain,
                        rows.get(t.schema.as_str()).map_or(&[], Vec::as_slice),
                        files,
                    )
                }
            })
            .collect();
        Ok((statuses, live))
    }

    /// Applies pending migrations of `domain` to its schemas (see
    /// [`Migrator::schemas_of`]), `jobs` schemas at a time.
    pub async fn migrate_domain(&self, domain: &str, jobs: usize) -> Result<RunReport> {
        let targets = targets(self.schemas_of(domain).await?, domain);
        self.migrate_targets(targets, jobs, false, &|_| {}).await
    }

    /// Applies pending migrations to every registered schema of every
    /// per-tenant domain, `jobs` at a time; `on_done` hears each schema's
    /// result as it finishes. With `fail_fast`, schemas not yet started are
    /// skipped after the first failure.
    pub async fn migrate_all_schemas(
        &self,
        jobs: usize,
        fail_fast: bool,
        on_done: &(dyn Fn(&SchemaReport) + Send + Sync),
    ) -> Result<RunReport> {
        let mut targets = Vec::new();
        for domain in self.db.multi_tenant().tenant_domains.clone() {
            for schema in self.schemas_of(&domain).await? {
                targets.push(Target {
                    schema,
                    domain: domain.clone(),
                });
            }
        }
        self.migrate_targets(targets, jobs, fail_fast, on_done)
            .await
    }

    /// Applies pending migrations of `domain` to the given schemas, `jobs` at
    /// a time (what `migrate_all_schemas` does for the registered ones).
    pub async fn migrate_schemas(
        &self,
        schemas: &[SchemaIdent],
        domain: &str,
        jobs: usize,
        fail_fast: bool,
        on_done: &(dyn Fn(&SchemaReport) + Send + Sync),
    ) -> Result<RunReport> {
        let targets = targets(schemas.to_vec(), domain);
        self.migrate_targets(targets, jobs, fail_fast, on_done)
            .await
    }

    /// Applies pending migrations to one schema, whose domain is `domain`.
    pub async fn migrate_schema(&self, schema: &SchemaIdent, domain: &str) -> Result<SchemaReport> {
        let target = Target {
            schema: schema.clone(),
            domain: domain.to_owned(),
        };
        let report = self
            .migrate_targets(vec![target], 1, false, &|_| {})
            .await?;
        Ok(report.schemas.into_iter().next().expect("one target"))
    }

    pub(crate) async fn migrate_targets(
        &self,
        targets: Vec<Target>,
        jobs: usize,
        fail_fast: bool,
        on_done: &(dyn Fn(&SchemaReport) + Send + Sync),
    ) -> Result<RunReport> {
        // One catalog read decides which schemas have anything to do, so a
        // run with nothing pending costs no round per schema.
        let (statuses, live) = self.read_statuses(&targets).await?;
        let mut reports = Vec::with_capacity(targets.len());
        let mut work = Vec::new();
        for (t, st) in targets.into_iter().zip(statuses) {
            if !st.drift.is_empty() {
                let r = SchemaReport {
                    schema: st.schema.clone(),
                    domain: st.domain.clone(),
                    outcome: Outcome::Failed {
                        versions: vec![],
                        error: drift_message(&st),
                    },
                };
                on_done(&r);
                reports.push(r);
            } else if st.pending.is_empty() {
                let r = SchemaReport {
                    schema: st.schema,
                    domain: st.domain,
                    outcome: Outcome::Current,
                };
                on_done(&r);
                reports.push(r);
            } else {
                // A schema whose summary trigger is in place needs none
                // made: one statement less per migration.
                // (`summary_for` ignores it for schemas that keep no summary.)
                let track = !live.contains(t.schema.as_str());
                work.push((t, st.pending, track));
            }
        }
        if work.is_empty() {
            return Ok(RunReport {
                batch: None,
                schemas: sorted(reports),
            });
        }
        // Registered schemas keep a summary of what they applied in the
        // registry (see `summary`); a registry from an older Strav gains
        // the table and trigger functions here (once per `Database`).
        if work
            .iter()
            .any(|(t, _, _)| self.is_tenant_domain(&t.domain))
        {
            registry::ensure(&self.db).await?;
        }
        let batch = self.next_batch().await?;
        let failed = std::sync::atomic::AtomicBool::new(false);
        let results: Vec<SchemaReport> = stream::iter(work)
            .map(|(t, pending, track)| {
                let failed = &failed;
                async move {
                    if fail_fast && failed.load(std::sync::atomic::Ordering::SeqCst) {
                        return SchemaReport {
                            schema: t.schema.to_string(),
                            domain: t.domain.clone(),
                            outcome: Outcome::Failed {
                                versions: vec![],
                                error: "skipped: an earlier schema failed and --fail-fast is on"
                                    .into(),
                            },
                        };
                    }
                    let r = self.apply(&t, &pending, batch, track).await;
                    if matches!(r.outcome, Outcome::Failed { .. }) {
                        failed.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                    on_done(&r);
                    r
                }
            })
            .buffer_unordered(jobs.max(1))
            .collect()
            .await;
        reports.extend(results);
        Ok(RunReport {
            batch: Some(batch),
            schemas: sorted(reports),
        })
    }

    /// Takes the next global batch id.
    pub async fn next_batch(&self) -> Result<i64> {
        registry::next_batch(&self.db).await
    }

    async fn apply(&self, t: &Target, pending: &[i64], batch: i64, track: bool) -> SchemaReport {
        let mut done = Vec::new();
        let migrations = self.migrations.domain(&t.domain);
        let mut outcome = None;
        if let Err(e) = self.ensure_schema(t).await {
            outcome = Some(Outcome::Failed {
                versions: vec![],
                error: e.to_string(),
            });
        }
        for version in pending {
            if outcome.is_some() {
                break;
            }
            let m = migrations
                .iter()
                .find(|m| m.version == *version)
                .expect("pending versions come from the files");
            match self.apply_one(t, m, batch, track).await {
                Ok(true) => done.push(m.version),
                Ok(false) => {}
                Err(e) => {
                    outcome = Some(Outcome::Failed {
                        versions: done.clone(),
                        error: e.to_string(),
                    })
                }
            }
        }
        let outcome = outcome.unwrap_or(if done.is_empty() {
            Outcome::Current
        } else {
            Outcome::Migrated { versions: done }
        });
        SchemaReport {
            schema: t.schema.to_string(),
            domain: t.domain.clone(),
            outcome,
        }
    }

    /// A fixed domain's schema is created on its first migration; a
    /// per-tenant schema must exist (it is created by onboarding).
    async fn ensure_schema(&self, t: &Target) -> Result<()> {
        if t.schema.as_str() == "public" || self.is_tenant_domain(&t.domain) {
            return Ok(());
        }
        let sql = format!("CREATE SCHEMA IF NOT EXISTS {}", t.schema.quoted());
        self.db
            .sql_on(SearchPath::Default, AssertSqlSafe(sql))
            .execute()
            .await
            .map(drop)
    }

    /// Applies one migration unless another runner already did. Returns
    /// whether this call applied it.
    /// With `track`, also makes sure a registered schema's tracking table
    /// has the trigger that keeps its summary on changes Strav does not
    /// make (see `summary`).
    async fn apply_one(&self, t: &Target, m: &Migration, batch: i64, track: bool) -> Result<bool> {
        let schema = &t.schema;
        let summary = self.summary_for(&t.domain, track);
        let started = Instant::now();
        let fail = |e: Error| match e {
            Error::Database { source, .. } => Error::Migration {
                schema: Some(schema.to_string()),
                file: Some(m.file.clone()),
                message: format!("{source}; the schema stays at its previous version"),
            },
            other => other,
        };
        if m.no_transaction {
            if self.db.multi_tenant().routing == crate::config::RoutingMode::Transaction {
                return Err(Error::Migration {
                    schema: Some(schema.to_string()),
                    file: Some(m.file.clone()),
                    message: "this migration runs outside a transaction (-- strav:no-transaction) under a session advisory lock, which a pooler in transaction mode cannot keep; run it over a direct connection to PostgreSQL (DATABASE_URL without the pooler, routing = \"session\")".into(),
                });
            }
            return self
                .apply_outside_transaction(
                    schema,
                    m,
                    batch,
                    started,
                    self.is_tenant_domain(&t.domain),
                )
                .await
                .map_err(fail);
        }
        let tx = self
            .db
            .begin_on(SearchPath::Schema(schema.clone()))
            .await
            .map_err(fail)?;
        tracking::lock_and_ensure(&tx, schema, summary)
            .await
            .map_err(fail)?;
        if tracking::is_applied(&tx, m.version).await.map_err(fail)? {
            tx.rollback().await.map_err(fail)?;
            return Ok(false);
        }
        tx.sql(AssertSqlSafe(m.up.to_string()))
            .execute_script()
            .await
            .map_err(fail)?;
        tracking::record(&tx, m, batch, started)
            .await
            .map_err(fail)?;
        if summary != Summary::None {
            tracking::note(&tx, schema).await.map_err(fail)?;
        }
        tx.commit().await.map_err(fail)?;
        tracing::info!(schema = %schema, version = m.version, file = %m.file, "migration applied");
        Ok(true)
    }

    async fn apply_outside_transaction(
        &self,
        schema: &SchemaIdent,
        m: &Migration,
        batch: i64,
        started: Instant,
        summarize: bool,
    ) -> Result<bool> {
        let mut conn = self
            .db
            .acquire_routed(Some(SearchPath::Schema(schema.clone())))
            .await?;
        conn.hold_session_lock(&tracking::lock_key(schema)).await?;
        let result: Result<bool> = async {
            let c: &mut sqlx::PgConnection = &mut conn;
            sqlx::raw_sql(tracking::DDL).execute(&mut *c).await?;
            let applied: bool = sqlx::query_scalar(tracking::IS_APPLIED)
                .bind(m.version)
                .fetch_one(&mut *c)
                .await?;
            if applied {
                return Ok(false);
            }
            for statement in split_statements(&m.up) {
                sqlx::raw_sql(AssertSqlSafe(statement.to_owned()))
                    .execute(&mut *c)
                    .await?;
            }
            sqlx::query(tracking::RECORD)
                .bind(m.version)
                .bind(&m.name)
                .bind(&m.checksum)
                .bind(batch)
                .bind(tracking::elapsed_ms(started))
                .execute(&mut *c)
                .await?;
            if summarize {
                // The trigger (if not there yet) and the summary, after the
                // row (this connection has no `strav.writing`: the trigger,
                // if there, wrote it already; writing it again is harmless).
                sqlx::raw_sql(AssertSqlSafe(tracking::track_sql(schema)))
                    .execute(&mut *c)
                    .await?;
            }
            Ok(true)
        }
        .await
        .map_err(|e: Error| e);
        conn.release_session_lock(&tracking::lock_key(schema))
            .await?;
        if matches!(result, Ok(true)) {
            tracing::info!(schema = %schema, version = m.version, file = %m.file, "migration applied outside a transaction");
        }
        result
    }

    /// Reverts batches of `domain`'s schemas (see [`RollbackTo`]).
    pub async fn rollback_domain(
        &self,
        domain: &str,
        to: RollbackTo,
        jobs: usize,
    ) -> Result<RunReport> {
        let targets = targets(self.schemas_of(domain).await?, domain);
        self.rollback_targets(targets, to, jobs).await
    }

    /// Reverts batches of one schema.
    pub async fn rollback_schema(
        &self,
        schema: &SchemaIdent,
        domain: &str,
        to: RollbackTo,
    ) -> Result<SchemaReport> {
        let target = Target {
            schema: schema.clone(),
            domain: domain.to_owned(),
        };
        let report = self.rollback_targets(vec![target], to, 1).await?;
        Ok(report.schemas.into_iter().next().expect("one target"))
    }

    pub(crate) async fn rollback_targets(
        &self,
        targets: Vec<Target>,
        to: RollbackTo,
        jobs: usize,
    ) -> Result<RunReport> {
        let schemas: Vec<SchemaIdent> = targets.iter().map(|t| t.schema.clone()).collect();
        let rows = applied_rows(&self.db, &schemas).await?;
        if targets.iter().any(|t| self.is_tenant_domain(&t.domain)) {
            registry::ensure(&self.db).await?;
        }
        let work: Vec<(Target, Vec<i64>)> = targets
            .into_iter()
            .map(|t| {
                let applied = rows.get(t.schema.as_str()).cloned().unwrap_or_default();
                let floor = match to {
                    RollbackTo::LastBatch => applied.iter().map(|r| r.batch).max(),
                    RollbackTo::FromBatch(n) => Some(n),
                };
                let mut revert: Vec<(i64, i64)> = applied
                    .iter()
                    .filter(|r| floor.is_some_and(|f| r.batch >= f))
                    .map(|r| (r.batch, r.version))
                    .collect();
                revert.sort_unstable_by(|a, b| b.cmp(a));
                (t, revert.into_iter().map(|(_, v)| v).collect())
            })
            .collect();
        let reports: Vec<SchemaReport> = stream::iter(work)
            .map(|(t, versions)| async move { self.revert(&t, &versions).await })
            .buffer_unordered(jobs.max(1))
            .collect()
            .await;
        Ok(RunReport {
            batch: None,
            schemas: sorted(reports),
        })
    }

    async fn revert(&self, t: &Target, versions: &[i64]) -> SchemaReport {
        let mut done = Vec::new();
        let mut error = None;
        for v in versions {
            match self.revert_one(&t.schema, &t.domain, *v).await {
                Ok(true) => done.push(*v),
                Ok(false) => {}
                Err(e) => {
                    error = Some(e.to_string());
                    break;
                }
            }
        }
        let outcome = match (error, done.is_empty()) {
            (Some(error), _) => Outcome::Failed {
                versions: done,
                error,
            },
            (None, true) => Outcome::Current,
            (None, false) => Outcome::Migrated { versions: done },
        };
        SchemaReport {
            schema: t.schema.to_string(),
            domain: t.domain.clone(),
            outcome,
        }
    }

    async fn revert_one(&self, schema: &SchemaIdent, domain: &str, version: i64) -> Result<bool> {
        let m = self
            .migrations
            .domain(domain)
            .iter()
            .find(|m| m.version == version);
        let Some(m) = m else {
            return Err(Error::Migration {
                schema: Some(schema.to_string()),
                file: None,
                message: format!(
                    "version {version} is applied but database/migrations/{domain}/ has no file for it; restore the file to roll it back"
                ),
            });
        };
        let Some(down) = &m.down else {
            return Err(Error::Migration {
                schema: Some(schema.to_string()),
                file: Some(m.file.clone()),
                message: "has no .down.sql file, so it cannot be rolled back; write one".into(),
            });
        };
        let fail = |e: Error| match e {
            Error::Database { source, .. } => Error::Migration {
                schema: Some(schema.to_string()),
                file: Some(m.file.replace(".up.sql", ".down.sql")),
                message: format!("{source}; nothing was rolled back for this version"),
            },
            other => other,
        };
        let tx = self
            .db
            .begin_on(SearchPath::Schema(schema.clone()))
            .await
            .map_err(fail)?;
        let summary = self.summary_for(domain, true);
        tracking::lock_and_ensure(&tx, schema, summary)
            .await
            .map_err(fail)?;
        if !tracking::is_applied(&tx, version).await.map_err(fail)? {
            tx.rollback().await.map_err(fail)?;
            return Ok(false);
        }
        tx.sql(AssertSqlSafe(down.to_string()))
            .execute_script()
            .await
            .map_err(fail)?;
        tracking::forget(&tx, version).await.map_err(fail)?;
        if summary != Summary::None {
            tracking::note(&tx, schema).await.map_err(fail)?;
        }
        tx.commit().await.map_err(fail)?;
        tracing::info!(schema = %schema, version, file = %m.file, "migration rolled back");
        Ok(true)
    }
}

fn targets(schemas: Vec<SchemaIdent>, domain: &str) -> Vec<Target> {
    schemas
        .into_iter()
        .map(|schema| Target {
            schema,
            domain: domain.to_owned(),
        })
        .collect()
}

fn sorted(mut reports: Vec<SchemaReport>) -> Vec<SchemaReport> {
    reports.sort_by(|a, b| a.schema.cmp(&b.schema));
    reports
}

fn drift_message(st: &SchemaStatus) -> String {
    let files: Vec<String> = st
        .drift
        .iter()
        .map(|d| {
            format!(
                "{} (applied {}, file now {})",
                d.file,
                short(&d.applied_checksum),
                short(&d.file_checksum)
            )
        })
        .collect();
    format!(
        "drift: {} changed after being applied here; not migrating this schema. Restore the applied version of the file (git), or roll it back and apply it again, or add a new migration for the change",
        files.join(", ")
    )
}

/// The first 12 characters of a checksum, as git shortens hashes. A
/// checksum edited by hand may be shorter, or not ASCII.
fn short(checksum: &str) -> &str {
    checksum
        .char_indices()
        .nth(12)
        .map_or(checksum, |(end, _)| &checksum[..end])
}
