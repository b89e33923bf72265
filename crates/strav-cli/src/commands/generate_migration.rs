//! `generate:migration`: the SQL a domain's definitions need beyond what its
//! existing migrations create.
//!
//! The existing migrations are applied to a throw-away shadow schema, which is
//! read back from PostgreSQL's catalogs and compared with the definitions
//! (`strav_codegen::diff`); the shadow schema is dropped whatever happens.
//! Comparing with what the migrations produce, rather than with some live
//! schema, makes the result the same on every machine, with or without
//! tenants, and independent of what was applied where.

use std::fs::{self, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use strav_codegen::diff::{self, MigrationPlan, SchemaSnapshot};
use strav_codegen::Project;
use strav_orm::migrate::Outcome;
use strav_orm::sqlx::postgres::PgConnectOptions;
use strav_orm::sqlx::{self, AssertSqlSafe, Connection, PgConnection};
use strav_orm::{Database, Migrations, Migrator, SchemaIdent, SchemaName};

use super::connect;
use crate::cli::Global;
use crate::exit::CliError;
use crate::introspect;
use crate::output;

pub const ABOUT: &str = "\
Write the migration a domain's definitions need beyond its existing migrations

Applies the existing migrations of --scope to a throw-away shadow schema \
(strav_shadow_<random>, always dropped again), reads back what they create, \
compares it with database/schemas/<domain>, and writes \
database/migrations/<domain>/<YYYYMMDDHHMMSS>_<slug>.up.sql and .down.sql. \
Handles tables, columns (type, nullability, default, identity), primary keys, \
uniques, indexes, foreign keys and enums (create, add value). A rename cannot \
be told from a drop and an add: it is written as both, with a warning in the \
file and on stderr. When nothing changed it says so and writes nothing. Needs \
a database connection but no tenant schema.";

#[derive(Debug, Args)]
pub struct GenerateMigrationArgs {
    /// Domain to write the migration for (a directory of database/schemas)
    #[arg(long, value_name = "DOMAIN")]
    pub scope: String,

    /// What the migration does; also its file name ("add orders table" →
    /// <timestamp>_add_orders_table.up.sql)
    #[arg(long, value_name = "TEXT")]
    pub message: String,

    /// Directory of the definitions
    #[arg(long, value_name = "DIR", default_value = "database/schemas")]
    pub schemas: PathBuf,

    /// Naming configuration [default: config/generators.toml, if it exists]
    #[arg(long, value_name = "PATH")]
    pub generators: Option<PathBuf>,

    /// Directory of the migration files
    #[arg(long, value_name = "DIR", default_value = "database/migrations")]
    pub migrations: PathBuf,
}

const DEFAULT_GENERATORS: &str = "config/generators.toml";

/// File names keep at most this many characters of the message.
const MAX_SLUG: usize = 60;

pub async fn generate_migration(
    global: &Global,
    args: GenerateMigrationArgs,
) -> Result<(), CliError> {
    let slug = slug(&args.message).ok_or_else(|| {
        CliError::usage(format!(
            "--message={:?} gives an empty file name: say what the migration does in \
             letters or digits, such as --message=\"add orders table\"",
            args.message
        ))
    })?;
    let generators = match args.generators {
        Some(path) => Some(path),
        None => Some(PathBuf::from(DEFAULT_GENERATORS)).filter(|p| p.is_file()),
    };
    let project = Project::load(&args.schemas, generators.as_deref())?;
    // Every definition is validated: references cross domains.
    let catalog = project.catalog()?;
    let Some(domain) = catalog.domain(&args.scope) else {
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
    };
    // No directory yet is the first migration of a project, not a mistake.
    let migrations = if args.migrations.is_dir() {
        Migrations::from_dir(&args.migrations)?
    } else {
        Migrations::default()
    };
    if let Some(schema) = domain.schema() {
        refuse_self_qualified(&migrations, &domain.name, schema)?;
    }
    let last_version = migrations.domain(&domain.name).last().map(|m| m.version);

    let db = connect(global).await?;
    let current = current_state(&db, migrations, &domain.name).await;
    db.close();
    let plan = diff::plan(domain, &catalog, &current?);

    for warning in &plan.warnings {
        eprintln!("warning: {warning}");
    }
    if plan.is_empty() {
        return output::print(|w| {
            writeln!(
                w,
                "no changes: the migrations of {} already match its definitions",
                domain.name
            )
        });
    }
    let written = write_files(
        &args.migrations.join(&domain.name),
        &domain.name,
        &args.message,
        &slug,
        last_version,
        &plan,
    )?;
    output::print(|w| {
        for path in &written {
            writeln!(w, "wrote {}", path.display())?;
        }
        Ok(())
    })
}

/// Migrations run with their schema first on the search path, so they name
/// their own tables unqualified. One that writes `public.users` in a migration
/// of `public` would reach the real `public` when replayed into the shadow
/// schema: refuse it before anything runs.
fn refuse_self_qualified(
    migrations: &Migrations,
    domain: &str,
    schema: &str,
) -> Result<(), CliError> {
    for m in migrations.domain(domain) {
        if names_schema(&m.up, schema) {
            return Err(CliError::usage(format!(
                "{}: names its own schema ({schema}.<name>); migrations of {domain} run with \
                 {schema} on the search path and must use unqualified names, or \
                 generate:migration, which replays them into a shadow schema, would change \
                 {schema} itself: remove the `{schema}.` qualifiers",
                m.file
            )));
        }
    }
    Ok(())
}

/// Whether `sql` has `schema.` or `"schema".` outside comments and string literals.
fn names_schema(sql: &str, schema: &str) -> bool {
    let mut code = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                // '' inside a literal closes and reopens it: same result.
                for d in chars.by_ref() {
                    if d == '\'' {
                        break;
                    }
                }
                code.push(' ');
            }
            '-' if chars.peek() == Some(&'-') => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
                code.push('\n');
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut previous = ' ';
                for d in chars.by_ref() {
                    if previous == '*' && d == '/' {
                        break;
                    }
                    previous = d;
                }
                code.push(' ');
            }
            _ => code.push(c.to_ascii_lowercase()),
        }
    }
    [format!("{schema}."), format!("\"{schema}\".")]
        .iter()
        .any(|needle| {
            code.match_indices(needle.as_str()).any(|(at, _)| {
                !code[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '"')
            })
        })
}

/// What the existing migrations of `domain` create, read from a shadow schema.
async fn current_state(
    db: &Database,
    migrations: Migrations,
    domain: &str,
) -> Result<SchemaSnapshot, CliError> {
    let options = db.config().connect_options()?;
    let mut conn = PgConnection::connect_with(&options)
        .await
        .map_err(|e| CliError::failure(format!("cannot connect to the database: {e}")))?;
    let shadow = SchemaName::new(&shadow_name())?;
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE SCHEMA {}", shadow.quoted())))
        .execute(&mut conn)
        .await
        .map_err(|e| db_failure("cannot create the shadow schema", e))?;
    let mut guard = ShadowGuard {
        schema: Some(shadow.clone()),
        options,
    };
    tracing::debug!(schema = %shadow, "shadow schema created");
    let result = read_shadow(db, &mut conn, &shadow, migrations, domain).await;
    let dropped = sqlx::raw_sql(AssertSqlSafe(drop_sql(&shadow)))
        .execute(&mut conn)
        .await;
    match dropped {
        Ok(_) => {
            guard.schema = None;
            tracing::debug!(schema = %shadow, "shadow schema dropped");
        }
        // The guard tries again on a fresh connection.
        Err(e) => {
            tracing::debug!(schema = %shadow, error = %e, "dropping the shadow schema failed")
        }
    }
    drop(guard);
    let _ = conn.close().await;
    result
}

async fn read_shadow(
    db: &Database,
    conn: &mut PgConnection,
    shadow: &SchemaName,
    migrations: Migrations,
    domain: &str,
) -> Result<SchemaSnapshot, CliError> {
    let report = Migrator::new(db, migrations)
        .migrate_schema(&SchemaIdent::from(shadow), domain)
        .await?;
    if let Outcome::Failed { error, .. } = report.outcome {
        // The runner names the schema and promises it stays as it was: neither
        // means anything for a schema that is about to be dropped.
        let prefix = format!("schema {:?}: ", shadow.as_str());
        let error = error.strip_prefix(&prefix).unwrap_or(&error);
        let error = error
            .strip_suffix("; the schema stays at its previous version")
            .unwrap_or(error);
        return Err(CliError::failure(format!(
            "the existing migrations of {domain} do not apply to an empty schema, so there is \
             nothing to compare the definitions with: {error}"
        )));
    }
    let shared = &db.config().multi_tenant.shared_schemas;
    introspect::prepare(conn, &SchemaIdent::from(shadow), shared)
        .await
        .map_err(|e| db_failure("cannot read the shadow schema", e))?;
    introspect::snapshot(conn, shadow.as_str())
        .await
        .map_err(|e| db_failure("cannot read the shadow schema", e))
}

fn db_failure(what: &str, e: sqlx::Error) -> CliError {
    CliError::failure(format!("{what}: {e}"))
}

fn drop_sql(schema: &SchemaName) -> String {
    format!("DROP SCHEMA IF EXISTS {} CASCADE", schema.quoted())
}

/// `strav_shadow_` and 16 random hex digits: concurrent runs never meet.
fn shadow_name() -> String {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    format!("strav_shadow_{:016x}", hasher.finish())
}

/// Drops the shadow schema when the normal path could not: an error that
/// left the connection unusable, or a panic.
struct ShadowGuard {
    schema: Option<SchemaName>,
    options: PgConnectOptions,
}

impl Drop for ShadowGuard {
    fn drop(&mut self) {
        let Some(schema) = self.schema.take() else {
            return;
        };
        let options = self.options.clone();
        let sql = drop_sql(&schema);
        // Drop may run inside the command's runtime, which cannot be blocked
        // on: a thread with a runtime of its own does the work.
        let outcome = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let mut conn = PgConnection::connect_with(&options).await?;
                sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await?;
                conn.close().await
            })
            .map_err(|e| e.to_string())
        })
        .join();
        let error = match outcome {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(_) => "the cleanup thread panicked".to_owned(),
        };
        eprintln!(
            "warning: could not drop the shadow schema {schema} ({error}); drop it with: \
             DROP SCHEMA {} CASCADE",
            schema.quoted()
        );
    }
}

/// The file-name part of a message: lower-case ASCII letters and digits,
/// anything else one `_`, at most 60 characters; `None` when nothing is left.
pub fn slug(message: &str) -> Option<String> {
    let mut out = String::new();
    for c in message.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.truncate(MAX_SLUG);
    let out = out.trim_end_matches('_');
    (!out.is_empty()).then(|| out.to_owned())
}

/// Now (UTC) as `YYYYMMDDHHMMSS`, or one second after the newest migration of
/// the domain if that is later: the new file must sort last.
fn next_version(last: Option<i64>) -> i64 {
    let now: i64 = chrono::Utc::now()
        .format("%Y%m%d%H%M%S")
        .to_string()
        .parse()
        .expect("a formatted timestamp is a number");
    match last {
        Some(last) if last >= now => {
            chrono::NaiveDateTime::parse_from_str(&last.to_string(), "%Y%m%d%H%M%S")
                .ok()
                .and_then(|t| t.checked_add_signed(chrono::TimeDelta::seconds(1)))
                .and_then(|t| t.format("%Y%m%d%H%M%S").to_string().parse().ok())
                .unwrap_or(last + 1)
        }
        _ => now,
    }
}

fn write_files(
    dir: &Path,
    domain: &str,
    message: &str,
    slug: &str,
    last_version: Option<i64>,
    plan: &MigrationPlan,
) -> Result<Vec<PathBuf>, CliError> {
    let version = next_version(last_version);
    let stem = format!("{version}_{slug}");
    let up_path = dir.join(format!("{stem}.up.sql"));
    let down_path = dir.join(format!("{stem}.down.sql"));
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut up = String::new();
    if plan.no_transaction {
        // The runner looks for the marker at the very start of the file.
        up.push_str(strav_orm::migrate::NO_TRANSACTION_MARKER);
        up.push('\n');
    }
    up.push_str(&format!(
        "-- {message}\n-- Written by `strav generate:migration --scope={domain}`; review it \
         before applying.\n\n{}",
        plan.up
    ));
    let down = format!(
        "-- {message} (reverts {stem}.up.sql)\n-- Written by `strav generate:migration \
         --scope={domain}`; review it before applying.\n\n{}",
        plan.down
    );
    fs::create_dir_all(dir)
        .map_err(|e| CliError::failure(format!("cannot create {}: {e}", dir.display())))?;
    for (path, text) in [(&up_path, &up), (&down_path, &down)] {
        // Never overwrite: a file of that name is somebody's migration.
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| CliError::failure(format!("cannot write {}: {e}", path.display())))?;
        file.write_all(text.as_bytes())
            .map_err(|e| CliError::failure(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(vec![up_path, down_path])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(
            slug("add orders table").as_deref(),
            Some("add_orders_table")
        );
        assert_eq!(
            slug("  Add  Orders -- Table!! ").as_deref(),
            Some("add_orders_table")
        );
        assert_eq!(slug("v2: café").as_deref(), Some("v2_caf"));
        assert_eq!(slug("!!! ..."), None);
        assert_eq!(slug(""), None);
        let long = slug(&"word ".repeat(30)).unwrap();
        assert!(long.len() <= MAX_SLUG && !long.ends_with('_'), "{long}");
    }

    #[test]
    fn own_schema_qualifiers_are_found_outside_comments_and_strings() {
        assert!(names_schema("ALTER TABLE public.users ADD x int", "public"));
        assert!(names_schema(
            "alter table \"public\".users add x int",
            "public"
        ));
        assert!(names_schema("CREATE INDEX i ON Public.users (a)", "public"));
        assert!(!names_schema(
            "-- public.users\nCREATE TABLE users ()",
            "public"
        ));
        assert!(!names_schema("/* public.x */ SELECT 'public.x'", "public"));
        assert!(!names_schema("REFERENCES my_public.users (id)", "public"));
        assert!(!names_schema(
            "CREATE EXTENSION pgcrypto SCHEMA public;",
            "public"
        ));
        assert!(!names_schema("REFERENCES public.users (id)", "factory"));
    }

    #[test]
    fn versions_sort_after_the_newest_migration() {
        let now = next_version(None);
        assert_eq!(now.to_string().len(), 14);
        assert_eq!(next_version(Some(29991231235959)), 30000101000000);
        assert!(next_version(Some(20000101000000)) >= now);
    }

    #[test]
    fn shadow_names_are_valid_and_distinct() {
        let a = shadow_name();
        assert!(SchemaName::new(&a).is_ok(), "{a}");
        assert_ne!(a, shadow_name());
    }
}
