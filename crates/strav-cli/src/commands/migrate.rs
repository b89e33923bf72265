//! `migrate`, `rollback`, `migrate:all-schemas`, `migrate:status`.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use strav_orm::migrate::{Outcome, RunReport, SchemaReport, SchemaStatus};
use strav_orm::{Database, Migrations, Migrator, RollbackTo};

use super::connect_with_pool;
use crate::cli::{Global, MigrateAllArgs, MigrateArgs, MigrateStatusArgs, RollbackArgs};
use crate::exit::CliError;
use crate::output;

/// Reads the migration files; a missing directory is bad input.
pub fn load_migrations(dir: &Path) -> Result<Migrations, CliError> {
    if !dir.is_dir() {
        return Err(CliError::usage(format!(
            "no migrations directory at {}; create database/migrations/<domain>/ with <YYYYMMDDHHMMSS>_<slug>.up.sql files, or pass --migrations DIR",
            dir.display()
        )));
    }
    Ok(Migrations::from_dir(dir)?)
}

fn check_scope(migrations: &Migrations, dir: &Path, scope: &str) -> Result<(), CliError> {
    if migrations.domain(scope).is_empty() {
        let found: Vec<&str> = migrations.domains().collect();
        return Err(CliError::usage(format!(
            "unknown scope {scope:?}: {}/{scope}/ has no migrations; the domains found are: {}",
            dir.display(),
            if found.is_empty() {
                "(none)".to_owned()
            } else {
                found.join(", ")
            }
        )));
    }
    Ok(())
}

async fn migrator(
    global: &Global,
    migrations: Migrations,
) -> Result<(Database, Migrator), CliError> {
    let db = connect_with_pool(global, None).await?;
    let m = Migrator::new(&db, migrations);
    Ok((db, m))
}

pub async fn migrate(global: &Global, args: MigrateArgs) -> Result<(), CliError> {
    let migrations = load_migrations(&args.dir.migrations)?;
    check_scope(&migrations, &args.dir.migrations, &args.scope)?;
    let (db, m) = migrator(global, migrations).await?;
    let jobs = args.jobs.unwrap_or(db.pool_status().max);
    if args.dry_run {
        let statuses = m.status(&args.scope).await;
        db.close();
        return print_dry_run(&m, &args.scope, &statuses?);
    }
    let report = m.migrate_domain(&args.scope, jobs).await;
    db.close();
    finish_run(&report?, "applied")
}

pub async fn rollback(global: &Global, args: RollbackArgs) -> Result<(), CliError> {
    let migrations = load_migrations(&args.dir.migrations)?;
    check_scope(&migrations, &args.dir.migrations, &args.scope)?;
    let to = match args.batch {
        Some(n) if n < 1 => {
            return Err(CliError::usage(format!(
                "--batch={n}: batch ids start at 1 (see `strav migrate:status`)"
            )))
        }
        Some(n) => RollbackTo::FromBatch(n),
        None => RollbackTo::LastBatch,
    };
    let (db, m) = migrator(global, migrations).await?;
    let jobs = args.jobs.unwrap_or(db.pool_status().max);
    let report = m.rollback_domain(&args.scope, to, jobs).await;
    db.close();
    finish_run(&report?, "rolled back")
}

pub async fn all_schemas(global: &Global, args: MigrateAllArgs) -> Result<(), CliError> {
    let migrations = load_migrations(&args.dir.migrations)?;
    let (db, m) = migrator(global, migrations).await?;
    let jobs = args.jobs.unwrap_or(db.pool_status().max).max(1);
    let total = strav_orm::SchemaManager::new(&db)
        .list_schemas(None)
        .await?
        .len() as u64;
    // A bar on a terminal; plain lines elsewhere (CI logs).
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} schemas  {elapsed_precise}  {msg}")
                .expect("a valid template"),
        );
        bar
    });
    let on_done = |r: &SchemaReport| match &bar {
        Some(bar) => {
            bar.inc(1);
            if let Outcome::Failed { .. } = r.outcome {
                bar.set_message(format!("failed: {}", r.schema));
            }
        }
        None => eprintln!("{}", line(r, "applied")),
    };
    let report = m.migrate_all_schemas(jobs, args.fail_fast, &on_done).await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    db.close();
    let report = report?;
    let failed: Vec<&SchemaReport> = report.failed().collect();
    output::print(|w| {
        for r in &failed {
            writeln!(w, "{}", line(r, "applied"))?;
        }
        writeln!(
            w,
            "migrated {}, already current {}, failed {}{}",
            report.migrated().count(),
            report.current().count(),
            failed.len(),
            report
                .batch
                .map(|b| format!(" (batch {b})"))
                .unwrap_or_default()
        )
    })?;
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::failure(format!(
            "{} schema(s) failed to migrate; they are at their previous version (see above)",
            failed.len()
        )))
    }
}

pub async fn status(global: &Global, args: MigrateStatusArgs) -> Result<(), CliError> {
    let migrations = load_migrations(&args.dir.migrations)?;
    check_scope(&migrations, &args.dir.migrations, &args.scope)?;
    let (db, m) = migrator(global, migrations).await?;
    let statuses = m.status(&args.scope).await;
    db.close();
    let statuses = statuses?;
    if args.json {
        return output::print(|w| output::json(w, &statuses));
    }
    output::print(|w| {
        if statuses.is_empty() {
            return writeln!(w, "no schemas of domain {} are registered", args.scope);
        }
        for s in &statuses {
            writeln!(
                w,
                "{}: {} applied, {} pending{}",
                s.schema,
                s.applied.len(),
                s.pending.len(),
                if s.drift.is_empty() {
                    String::new()
                } else {
                    format!(", DRIFT in {}", drift_files(s))
                }
            )?;
            for v in &s.pending {
                writeln!(w, "  pending {v}")?;
            }
            for v in &s.unknown {
                writeln!(w, "  applied {v} has no file any more")?;
            }
        }
        Ok(())
    })
}

fn drift_files(s: &SchemaStatus) -> String {
    s.drift
        .iter()
        .map(|d| d.file.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn line(r: &SchemaReport, verb: &str) -> String {
    match &r.outcome {
        Outcome::Migrated { versions } => format!(
            "{}: {verb} {}",
            r.schema,
            versions
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Outcome::Current => format!("{}: nothing to do", r.schema),
        Outcome::Failed { versions, error } if versions.is_empty() => {
            format!("{}: FAILED: {error}", r.schema)
        }
        Outcome::Failed { versions, error } => format!(
            "{}: FAILED after {verb} {}: {error}",
            r.schema,
            versions
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn finish_run(report: &RunReport, verb: &str) -> Result<(), CliError> {
    output::print(|w| {
        if report.schemas.is_empty() {
            return writeln!(w, "no schemas to act on");
        }
        for r in &report.schemas {
            writeln!(w, "{}", line(r, verb))?;
        }
        writeln!(
            w,
            "{verb} in {}, nothing to do in {}, failed {}{}",
            report.migrated().count(),
            report.current().count(),
            report.failed().count(),
            report
                .batch
                .map(|b| format!(" (batch {b})"))
                .unwrap_or_default()
        )
    })?;
    match report.failed().count() {
        0 => Ok(()),
        n => Err(CliError::failure(format!(
            "{n} schema(s) failed; each is at its previous version"
        ))),
    }
}

fn print_dry_run(m: &Migrator, domain: &str, statuses: &[SchemaStatus]) -> Result<(), CliError> {
    let files = m.migrations().domain(domain);
    let mut used = BTreeSet::new();
    output::print(|w| {
        writeln!(w, "dry run: nothing will be changed")?;
        for s in statuses {
            if !s.drift.is_empty() {
                writeln!(w, "{}: would stop: drift in {}", s.schema, drift_files(s))?;
                continue;
            }
            if s.pending.is_empty() {
                writeln!(w, "{}: nothing to do", s.schema)?;
                continue;
            }
            writeln!(w, "{}: would apply", s.schema)?;
            for v in &s.pending {
                if let Some(f) = files.iter().find(|f| f.version == *v) {
                    let how = if f.no_transaction {
                        "outside a transaction"
                    } else {
                        "in a transaction"
                    };
                    writeln!(w, "  {} ({how})", f.file)?;
                    used.insert(*v);
                }
            }
        }
        for f in files.iter().filter(|f| used.contains(&f.version)) {
            writeln!(w, "\n-- {}\n{}", f.file, f.up.trim_end())?;
        }
        Ok(())
    })
}
