//! `schema:export` and `schema:import`: a tenant to a file and back
//! (`SchemaManager::export_schema` / `import_schema`).

use strav_orm::portable::MigrationReference;
use strav_orm::sqlx::postgres::PgConnectOptions;
use strav_orm::{SchemaManager, SchemaName};

use super::{connect, connect_to, CLI_MAX_CONNECTIONS};
use crate::cli::{Global, SchemaExportArgs, SchemaImportArgs};
use crate::exit::CliError;
use crate::output;

pub async fn export(global: &Global, args: SchemaExportArgs) -> Result<(), CliError> {
    // Bad names fail before any connection is attempted.
    SchemaName::new(&args.name)?;
    let db = connect(global).await?;
    let result = SchemaManager::new(&db)
        .export_schema(&args.name, &args.out)
        .await;
    db.close();
    let r = result?;
    output::print(|w| {
        writeln!(
            w,
            "exported schema {} (domain {}, migration version {}, {}, {}) to {} ({} bytes)",
            r.schema,
            r.domain,
            version(r.migration_version),
            output::plural(r.tables, "table"),
            output::plural(r.rows as usize, "row"),
            r.path.display(),
            r.bytes
        )
    })
}

pub async fn import(global: &Global, args: SchemaImportArgs) -> Result<(), CliError> {
    SchemaName::new(&args.name)?;
    if let Some(url) = &args.database_url {
        url.parse::<PgConnectOptions>().map_err(|e| {
            CliError::usage(format!("--database-url: not a valid postgres:// URL: {e}"))
        })?;
    }
    let migrations = match &args.migrations {
        Some(dir) => Some(super::migrate::load_migrations(dir)?),
        None => None,
    };
    let db = connect_to(
        global,
        Some(CLI_MAX_CONNECTIONS),
        args.database_url.as_deref(),
    )
    .await?;
    let mut manager = SchemaManager::new(&db);
    if let Some(m) = migrations {
        manager = manager.with_migrations(m);
    }
    let result = manager.import_schema(&args.file, &args.name).await;
    db.close();
    let r = result?;
    let checked = match &r.checked_against {
        MigrationReference::Files => format!(
            "migrations match the files in {}",
            args.migrations.as_deref().unwrap_or("?".as_ref()).display()
        ),
        MigrationReference::Unchecked => format!(
            "migrations not compared: no schema of domain {} here has applied any, and no --migrations DIR was given",
            r.domain
        ),
        other => format!("migrations match {other}"),
    };
    output::print(|w| {
        writeln!(
            w,
            "imported {} as schema {} (from {}, domain {}, migration version {}, {}, {}); {checked}",
            args.file.display(),
            r.schema,
            r.source_schema,
            r.domain,
            version(r.migration_version),
            output::plural(r.tables, "table"),
            output::plural(r.rows as usize, "row"),
        )
    })
}

fn version(v: Option<i64>) -> String {
    v.map_or_else(|| "none".to_owned(), |v| v.to_string())
}
