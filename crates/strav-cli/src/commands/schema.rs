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

/// Schemas are read this many at a time, so listing 100,000 of them holds
/// one page in memory (JSON) and never sends one huge result.
const LIST_PAGE: usize = 1000;

pub async fn list(global: &Global, args: SchemaListArgs) -> Result<(), CliError> {
    let domain = args.domain.as_deref();
    let db = connect(global).await?;
    let manager = SchemaManager::new(&db);
    let result = list_pages(&manager, &args).await;
    db.close();
    let table = result?;
    if args.json {
        return Ok(());
    }
    output::print(|w| output::schema_table(w, &table, domain))
}

/// Walks the registry a page at a time: JSON lines are printed as each page
/// arrives; table rows are returned to be aligned.
async fn list_pages(
    manager: &SchemaManager,
    args: &SchemaListArgs,
) -> Result<Vec<strav_orm::SchemaInfo>, CliError> {
    let mut after = args.after.clone();
    let mut left = args.limit.unwrap_or(usize::MAX);
    let mut table = Vec::new();
    while left > 0 {
        let page = manager
            .list_schemas_page(
                args.domain.as_deref(),
                after.as_deref(),
                left.min(LIST_PAGE),
            )
            .await?;
        left -= page.len();
        after = page.last().map(|s| s.name.clone());
        let full = page.len() == LIST_PAGE;
        if args.json {
            output::print(|w| page.iter().try_for_each(|s| output::json_line(w, s)))?;
        } else {
            table.extend(page);
        }
        if !full {
            break;
        }
    }
    Ok(table)
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
