//! `schema:*`: create, list, inspect and delete tenant schemas.

use strav_orm::{SchemaIdent, SchemaManager, SchemaName};

use super::connect;
use crate::cli::{Global, SchemaCreateArgs, SchemaDeleteArgs, SchemaListArgs, SchemaStatsArgs};
use crate::exit::CliError;
use crate::output;

/// Runs `f` with a manager on a fresh connection and closes the pool after,
/// whatever `f` returned.
async fn with_manager<T>(
    global: &Global,
    f: impl AsyncFnOnce(&SchemaManager) -> strav_orm::Result<T>,
) -> Result<T, CliError> {
    let db = connect(global).await?;
    let result = f(&SchemaManager::new(&db)).await;
    db.close();
    Ok(result?)
}

pub async fn create(global: &Global, args: SchemaCreateArgs) -> Result<(), CliError> {
    // Bad names fail before any connection is attempted.
    SchemaName::new(&args.name)?;
    if args.migrate {
        let migrations = super::migrate::load_migrations(&args.migrations)?;
        let report = with_manager(global, async |m| {
            m.clone()
                .with_migrations(migrations)
                .create_migrated_schema(&args.name, &args.domain)
                .await
        })
        .await?;
        let applied = match &report.outcome {
            strav_orm::migrate::Outcome::Migrated { versions } => versions.len(),
            _ => 0,
        };
        return output::print(|w| {
            writeln!(
                w,
                "created schema {} (domain {}) and applied {applied} migration(s)",
                args.name, args.domain
            )
        });
    }
    let info = with_manager(global, async |m| {
        m.create_schema(&args.name, &args.domain).await
    })
    .await?;
    output::print(|w| writeln!(w, "created schema {} (domain {})", info.name, info.domain))
}

pub async fn list(global: &Global, args: SchemaListArgs) -> Result<(), CliError> {
    let domain = args.domain.as_deref();
    let schemas = with_manager(global, async |m| m.list_schemas(domain).await).await?;
    if args.json {
        output::print(|w| output::json(w, &schemas))
    } else {
        output::print(|w| output::schema_table(w, &schemas, domain))
    }
}

pub async fn stats(global: &Global, args: SchemaStatsArgs) -> Result<(), CliError> {
    SchemaIdent::new(&args.name)?;
    let stats = with_manager(global, async |m| m.get_schema_stats(&args.name).await).await?;
    if args.json {
        output::print(|w| output::json(w, &stats))
    } else {
        output::print(|w| output::schema_stats(w, &stats))
    }
}

pub async fn delete(global: &Global, args: SchemaDeleteArgs) -> Result<(), CliError> {
    if !args.force {
        return Err(CliError::usage(format!(
            "refusing to delete schema {:?}: schema:delete drops the schema and all its data; \
             pass --force to confirm",
            args.name
        )));
    }
    with_manager(global, async |m| m.delete_schema(&args.name).await).await?;
    output::print(|w| writeln!(w, "deleted schema {}", args.name))
}
