//! `scale`: how the schema and migration operations grow with the number of
//! registered tenants, measured at each of `--steps` in one growing
//! database (default 1,000, 10,000 and 100,000).
//!
//! The tenant domain is small on purpose, to keep 100,000 schemas bearable
//! on disk: one table with a key (and, from the third migration on, an
//! index), plus each schema's `strav_migrations`. At each step, after the
//! new tenants are registered and brought to the current version:
//! - `noop_s`: `migrate_all_schemas` with nothing to do;
//! - `status_s`: `Migrator::status` of the domain (what `migrate:status` prints);
//! - `apply_s`: one new migration applied to every tenant;
//! - `list_s`: every registered schema, a page of 1,000 at a time;
//! - `page_ms`: one page of 100 from the middle (`--after`);
//! - `stats_s`: `get_all_schema_stats`;
//! - `onboard_ms`, `clone_ms`: `create_migrated_schema` and `clone_schema`
//!   of one tenant (median of 3), at that size.
//!
//! Each figure is also given per tenant (µs), which stays flat when the
//! cost grows linearly.

use std::time::Instant;

use serde_json::json;
use sqlx::AssertSqlSafe;
use strav_orm::{Database, Migrations, Migrator, SchemaManager};

use crate::scratch::{BoxError, ScratchDb};
use crate::workload::median;

#[derive(clap::Args)]
pub struct Args {
    /// Tenant counts to measure at, ascending (comma separated).
    #[arg(long, value_delimiter = ',', default_values_t = [1_000, 10_000, 100_000])]
    steps: Vec<usize>,
    /// Connections, and so schemas migrated at once.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Keep the database afterwards (its name is printed), to look into a
    /// figure with `psql`; drop it by hand when done.
    #[arg(long)]
    keep: bool,
}

/// The domain's migrations, one more per step.
const MIGRATIONS: [&str; 4] = [
    "CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL)",
    "ALTER TABLE items ADD COLUMN note text",
    "CREATE INDEX items_name_idx ON items (name)",
    // Without a default: on PostgreSQL 15, `ADD COLUMN ... DEFAULT` reads
    // all of pg_depend for every table it alters (find_composite_type_
    // dependencies), 290 ms a table with 100,000 schemas in the database
    // against 16 ms without the default, which makes the step quadratic in
    // the tenant count whatever the client does. BENCHMARKS.md has the
    // figures and the cheap way to write such a migration.
    "ALTER TABLE items ADD COLUMN qty integer",
];

fn migrations(n: usize) -> Result<Migrations, BoxError> {
    let files: Vec<(&'static str, &'static str, &'static str)> = MIGRATIONS[..n]
        .iter()
        .enumerate()
        .map(|(i, up)| {
            let name: &'static str =
                Box::leak(format!("2026010100000{i}_step_{i}.up.sql").into_boxed_str());
            ("tenant", name, *up)
        })
        .collect();
    Ok(Migrations::from_embedded(&files)?)
}

pub async fn run(args: Args) -> Result<String, BoxError> {
    if args.steps.len() + 1 > MIGRATIONS.len() {
        return Err(format!("at most {} steps", MIGRATIONS.len() - 1).into());
    }
    let scratch = ScratchDb::create("scale").await?;
    let result = measure(&args, &scratch).await;
    if args.keep {
        eprintln!("kept database {}", scratch.name);
    } else {
        scratch.drop_now().await?;
    }
    result
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

async fn measure(args: &Args, scratch: &ScratchDb) -> Result<String, BoxError> {
    let db = scratch.database(args.connections).await?;
    SchemaManager::new(&db).ensure_registry().await?;
    let mut results = Vec::new();
    let mut have = 0usize;
    for (k, &target) in args.steps.iter().enumerate() {
        // The migrations so far: one per earlier step, plus the first.
        let current = migrations(k + 1)?;
        let sm = SchemaManager::new(&db).with_migrations(current.clone());
        let t = Instant::now();
        register(&db, have, target).await?;
        let register_s = secs(t);
        let t = Instant::now();
        let report = sm.migrate_all_schemas().await?;
        let catch_up_s = secs(t);
        if !report.is_success() {
            return Err("catching up failed".into());
        }
        have = target;
        eprintln!(
            "{target} tenants: registered in {register_s:.0} s, migrated in {catch_up_s:.0} s"
        );

        let t = Instant::now();
        let noop = sm.migrate_all_schemas().await?;
        let noop_s = secs(t);
        assert_eq!(noop.current().count(), target);

        let t = Instant::now();
        let status = Migrator::new(&db, current.clone()).status("tenant").await?;
        let status_s = secs(t);
        assert_eq!(status.len(), target);

        let t = Instant::now();
        let mut listed = 0;
        let mut after: Option<String> = None;
        loop {
            let page = sm
                .list_schemas_page(Some("tenant"), after.as_deref(), 1000)
                .await?;
            listed += page.len();
            match page.last() {
                Some(last) if page.len() == 1000 => after = Some(last.name.clone()),
                _ => break,
            }
        }
        let list_s = secs(t);
        assert_eq!(listed, target);
        let middle = format!("t_{:06}", target / 2);
        let t = Instant::now();
        let page = sm
            .list_schemas_page(Some("tenant"), Some(&middle), 100)
            .await?;
        let page_ms = secs(t) * 1000.0;
        assert_eq!(page.len(), 100.min(target - target / 2 - 1));

        let t = Instant::now();
        let stats = sm.get_all_schema_stats().await?;
        let stats_s = secs(t);
        assert!(stats.len() >= target);

        let next = SchemaManager::new(&db).with_migrations(migrations(k + 2)?);
        let t = Instant::now();
        let applied = next.migrate_all_schemas().await?;
        let apply_s = secs(t);
        assert!(applied.is_success());

        let mut onboard = Vec::new();
        let mut clone = Vec::new();
        for i in 0..3 {
            let name = format!("onboard_{k}_{i}");
            let t = Instant::now();
            next.create_migrated_schema(&name, "tenant").await?;
            onboard.push(secs(t) * 1000.0);
            let copy = format!("clone_{k}_{i}");
            let t = Instant::now();
            next.clone_schema(&name, &copy).await?;
            clone.push(secs(t) * 1000.0);
            // Out again, so every step counts exactly its tenants.
            next.delete_schema(&name).await?;
            next.delete_schema(&copy).await?;
        }
        let per = |s: f64| r3(s * 1e6 / target as f64);
        let row = json!({
            "tenants": target,
            "noop_s": r3(noop_s), "noop_us_per_tenant": per(noop_s),
            "status_s": r3(status_s), "status_us_per_tenant": per(status_s),
            "apply_s": r3(apply_s), "apply_us_per_tenant": per(apply_s),
            "list_s": r3(list_s), "list_us_per_tenant": per(list_s),
            "page_ms": r3(page_ms),
            "stats_s": r3(stats_s), "stats_us_per_tenant": per(stats_s),
            "onboard_ms": r3(median(onboard)),
            "clone_ms": r3(median(clone)),
            "register_s": r3(register_s),
            "catch_up_s": r3(catch_up_s),
        });
        eprintln!("{row}");
        results.push(row);
    }
    Ok(json!({"bench": "scale", "connections": args.connections, "steps": results}).to_string())
}

/// Creates and registers schemas `t_{have}` .. `t_{target - 1}`, empty (the
/// migration runner brings them up), 500 to a round trip.
async fn register(db: &Database, have: usize, target: usize) -> Result<(), BoxError> {
    let names: Vec<String> = (have..target).map(|i| format!("t_{i:06}")).collect();
    for chunk in names.chunks(500) {
        let mut script = String::new();
        for n in chunk {
            script.push_str(&format!(
                "CREATE SCHEMA {n}; INSERT INTO public.strav_schemas (name, domain) VALUES ('{n}', 'tenant');\n"
            ));
        }
        db.sql(AssertSqlSafe(script)).execute_script().await?;
    }
    Ok(())
}
