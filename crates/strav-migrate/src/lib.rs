//! Migration authoring as a library: the SQL a domain's definitions need
//! beyond what its existing migrations create, as `strav generate:migration`
//! writes it, callable from Rust.
//!
//! ```no_run
//! # async fn demo(db: strav_orm::Database) -> Result<(), Box<dyn std::error::Error>> {
//! use std::path::Path;
//! let catalog = strav_codegen::Project::load(Path::new("database/schemas"), None)?.catalog()?;
//! let migrations = strav_orm::Migrations::from_dir("database/migrations")?;
//! let plan = strav_migrate::plan(&db, &catalog, &migrations, "tenant").await?;
//! if !plan.is_empty() {
//!     let files = strav_migrate::write(
//!         Path::new("database/migrations"), "tenant", "add orders table", &migrations, &plan,
//!     )?;
//!     println!("wrote {files:?}");
//! }
//! # Ok(()) }
//! ```
//!
//! How: the existing migrations are replayed into a throw-away shadow schema
//! ([`shadow`]), read back from the catalogs ([`introspect`]) and compared
//! with the definitions by `strav_codegen::diff`. It needs a database
//! connection but no tenant schema.

pub mod error;
mod files;
pub mod introspect;
mod qualifiers;
pub mod shadow;

use std::path::{Path, PathBuf};

pub use error::{Error, Result};
pub use files::slug;
pub use strav_codegen::diff::MigrationPlan;

use strav_codegen::Catalog;
use strav_orm::{Database, Migrations};

/// The migration `domain` needs: what its definitions in `catalog` describe,
/// minus what `migrations` create when replayed into an empty schema.
/// Warnings (possible renames, statements that fail on existing rows) are in
/// the plan.
pub async fn plan(
    db: &Database,
    catalog: &Catalog,
    migrations: &Migrations,
    domain: &str,
) -> Result<MigrationPlan> {
    let Some(found) = catalog.domain(domain) else {
        let names: Vec<&str> = catalog.domains.iter().map(|d| d.name.as_str()).collect();
        return Err(Error::UnknownScope {
            scope: domain.to_owned(),
            schemas: "the definitions".to_owned(),
            found: if names.is_empty() {
                "(none)".to_owned()
            } else {
                names.join(", ")
            },
        });
    };
    if let Some(schema) = found.schema() {
        qualifiers::refuse_self_qualified(migrations, &found.name, schema)?;
    }
    let current = shadow::current_state(db, migrations.clone(), &found.name).await?;
    Ok(strav_codegen::diff::plan(found, catalog, &current))
}

/// Writes `plan` as `<migrations_dir>/<domain>/<version>_<slug>.up.sql` and
/// `.down.sql`, headed by `message`, the version sorting after the domain's
/// newest migration in `migrations`. Never overwrites a file.
pub fn write(
    migrations_dir: &Path,
    domain: &str,
    message: &str,
    migrations: &Migrations,
    plan: &MigrationPlan,
) -> Result<Vec<PathBuf>> {
    let slug = slug(message).ok_or_else(|| Error::EmptyMessage {
        message: message.to_owned(),
    })?;
    let last_version = migrations.domain(domain).last().map(|m| m.version);
    files::write_files(
        &migrations_dir.join(domain),
        domain,
        message,
        &slug,
        last_version,
        plan,
    )
}
