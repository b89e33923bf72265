//! `generate:migration`: the SQL a domain's definitions need beyond what its
//! existing migrations create. The work is `strav_migrate`'s; this parses
//! the arguments and prints.

use std::path::PathBuf;

use strav_codegen::Project;
use strav_orm::Migrations;

use super::connect;
use crate::cli::{GenerateMigrationArgs, Global};
use crate::exit::CliError;
use crate::output;

const DEFAULT_GENERATORS: &str = "config/generators.toml";

pub async fn generate_migration(
    global: &Global,
    args: GenerateMigrationArgs,
) -> Result<(), CliError> {
    if strav_migrate::slug(&args.message).is_none() {
        return Err(CliError::usage(format!(
            "--message={:?} gives an empty file name: say what the migration does in \
             letters or digits, such as --message=\"add orders table\"",
            args.message
        )));
    }
    let generators = match args.generators {
        Some(path) => Some(path),
        None => Some(PathBuf::from(DEFAULT_GENERATORS)).filter(|p| p.is_file()),
    };
    let project = Project::load(&args.schemas, generators.as_deref())?;
    // Every definition is validated: references cross domains.
    let catalog = project.catalog()?;
    if catalog.domain(&args.scope).is_none() {
        let found: Vec<&str> = catalog.domains.iter().map(|d| d.name.as_str()).collect();
        return Err(CliError::usage(format!(
            "unknown scope {:?}; the domains found in {} are: {}",
            args.scope,
            args.schemas.display(),
            if found.is_empty() {
                "(none)".to_owned()
            } else {
                found.join(", ")
            }
        )));
    }
    // No directory yet is the first migration of a project, not a mistake.
    let migrations = if args.migrations.is_dir() {
        Migrations::from_dir(&args.migrations)?
    } else {
        Migrations::default()
    };

    let db = connect(global).await?;
    let plan = strav_migrate::plan(&db, &catalog, &migrations, &args.scope).await;
    db.close();
    let plan = plan?;

    for warning in &plan.warnings {
        eprintln!("warning: {warning}");
    }
    if plan.is_empty() {
        return output::print(|w| {
            writeln!(
                w,
                "no changes: the migrations of {} already match its definitions",
                args.scope
            )
        });
    }
    let written = strav_migrate::write(
        &args.migrations,
        &args.scope,
        &args.message,
        &migrations,
        &plan,
    )?;
    output::print(|w| {
        for path in &written {
            writeln!(w, "wrote {}", path.display())?;
        }
        Ok(())
    })
}
