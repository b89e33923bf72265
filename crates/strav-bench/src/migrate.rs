//! `migrate`: `migrate:all-schemas` over many tenants against the seed's
//! loop (`migrate_schema` for one schema after another), and against the same
//! all-schemas code with one job (the speedup of parallelism alone); then the
//! no-op run over the migrated tenants, and onboarding one tenant of the
//! reference domain and cloning it.

use std::time::Instant;

use serde_json::json;
use sqlx::AssertSqlSafe;
use strav_orm::{Migrations, Migrator, SchemaIdent, SchemaManager};

use crate::scratch::{BoxError, ScratchDb};
use crate::workload::median;

#[derive(clap::Args)]
pub struct Args {
    /// Tenant schemas migrated by migrate:all-schemas (as many again go through the loop).
    #[arg(long, default_value_t = 1000)]
    tenants: usize,
    /// Connections, and so schemas migrated at once.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Skip the one-at-a-time baseline (for large --tenants runs that only
    /// check how the cost grows).
    #[arg(long)]
    skip_sequential: bool,
    /// Also migrate this many more tenants the same way, in the same run, to
    /// see how the cost grows (`scale_ratio` = their time / the first run's).
    #[arg(long, value_name = "N")]
    scale: Option<usize>,
}

/// A 10-table migration: tables with a key, a few columns, a foreign key and
/// an index each.
fn ten_tables() -> String {
    let mut sql = String::new();
    for i in 0..10 {
        sql.push_str(&format!(
            "CREATE TABLE t{i} (id bigserial PRIMARY KEY, name text NOT NULL, qty int NOT NULL DEFAULT 0, \
             parent_id bigint{}, created_at timestamptz NOT NULL DEFAULT now());
             CREATE INDEX t{i}_name_idx ON t{i} (name);\n",
            if i > 0 { format!(" REFERENCES t{} (id)", i - 1) } else { String::new() }
        ));
    }
    sql
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

pub async fn run(args: Args) -> Result<String, BoxError> {
    let scratch = ScratchDb::create("migrate").await?;
    let result = measure(&args, &scratch).await;
    scratch.drop_now().await?;
    result
}

async fn measure(args: &Args, scratch: &ScratchDb) -> Result<String, BoxError> {
    let db = scratch.database(args.connections).await?;
    let sm = SchemaManager::new(&db);
    sm.ensure_registry().await?;

    // Tenants for migrate:all-schemas are registered as `tenant`; those of
    // the baseline loop under another domain, so all-schemas never sees them.
    let parallel: Vec<String> = (0..args.tenants).map(|i| format!("p_{i:05}")).collect();
    let group = |prefix: &str| -> Vec<String> {
        if args.skip_sequential {
            Vec::new()
        } else {
            (0..args.tenants)
                .map(|i| format!("{prefix}_{i:05}"))
                .collect()
        }
    };
    let (sequential, one_job) = (group("s"), group("j"));
    eprintln!(
        "creating {} + {} + {} schemas ...",
        parallel.len(),
        sequential.len(),
        one_job.len()
    );
    for (names, domain) in [
        (&parallel, "tenant"),
        (&sequential, "baseline"),
        (&one_job, "baseline"),
    ] {
        for chunk in names.chunks(200) {
            let mut script = String::new();
            for n in chunk {
                script.push_str(&format!(
                    "CREATE SCHEMA {n}; INSERT INTO public.strav_schemas (name, domain) VALUES ('{n}', '{domain}');"
                ));
            }
            db.sql(AssertSqlSafe(script)).execute_script().await?;
        }
    }
    let files = Migrations::from_embedded(&[(
        "tenant",
        "20260101000000_ten_tables.up.sql",
        leak(ten_tables()),
    )])?;
    let m = Migrator::new(&db, files);

    let mut sequential_s = None;
    if !sequential.is_empty() {
        eprintln!("one schema at a time ...");
        let t = Instant::now();
        for n in &sequential {
            let r = m.migrate_schema(&SchemaIdent::new(n)?, "tenant").await?;
            assert!(
                matches!(r.outcome, strav_orm::migrate::Outcome::Migrated { .. }),
                "{r:?}"
            );
        }
        sequential_s = Some(t.elapsed().as_secs_f64());
    }
    let mut one_job_s = None;
    if !one_job.is_empty() {
        eprintln!("all-schemas code path with --jobs 1 ...");
        let names: Vec<SchemaIdent> = one_job
            .iter()
            .map(|n| SchemaIdent::new(n))
            .collect::<Result<_, _>>()?;
        let t = Instant::now();
        let r = m
            .migrate_schemas(&names, "tenant", 1, false, &|_| {})
            .await?;
        assert!(r.is_success());
        one_job_s = Some(t.elapsed().as_secs_f64());
    }

    eprintln!("migrate:all-schemas ...");
    let t = Instant::now();
    let report = m
        .migrate_all_schemas(args.connections, false, &|_| {})
        .await?;
    let parallel_s = t.elapsed().as_secs_f64();
    assert!(report.is_success() && report.migrated().count() == args.tenants);

    let mut scale = None;
    if let Some(n) = args.scale {
        eprintln!("creating and migrating {n} more schemas ...");
        let names: Vec<String> = (0..n).map(|i| format!("x_{i:06}")).collect();
        for chunk in names.chunks(200) {
            let mut script = String::new();
            for n in chunk {
                script.push_str(&format!(
                    "CREATE SCHEMA {n}; INSERT INTO public.strav_schemas (name, domain) VALUES ('{n}', 'scale');"
                ));
            }
            db.sql(AssertSqlSafe(script)).execute_script().await?;
        }
        let names: Vec<SchemaIdent> = names
            .iter()
            .map(|n| SchemaIdent::new(n))
            .collect::<Result<_, _>>()?;
        let t = Instant::now();
        let r = m
            .migrate_schemas(&names, "tenant", args.connections, false, &|_| {})
            .await?;
        assert!(r.is_success());
        let scale_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let r = m
            .migrate_schemas(&names, "tenant", args.connections, false, &|_| {})
            .await?;
        assert_eq!(r.current().count(), n);
        scale = Some((n, scale_s, t.elapsed().as_secs_f64()));
    }

    let mut noop = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let report = m
            .migrate_all_schemas(args.connections, false, &|_| {})
            .await?;
        noop.push(t.elapsed().as_secs_f64());
        assert_eq!(report.current().count(), args.tenants);
    }
    let noop_s = median(noop);

    // Onboarding a tenant of the reference domain (schemas/), and cloning it.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    let catalog = strav_codegen::Project::load(
        &root.join("database/schemas"),
        Some(&root.join("config/generators.toml")),
    )?
    .catalog()?;
    let public_sql =
        strav_codegen::diff::create_domain_sql(&catalog, "public").ok_or("no public domain")?;
    db.sql(AssertSqlSafe(public_sql)).execute_script().await?;
    let tenant_sql =
        strav_codegen::diff::create_domain_sql(&catalog, "tenant").ok_or("no tenant domain")?;
    let reference = SchemaManager::new(&db).with_migrations(Migrations::from_embedded(&[(
        "tenant",
        "20260101000000_reference.up.sql",
        leak(tenant_sql),
    )])?);
    let mut onboard = Vec::new();
    for i in 0..5 {
        let t = Instant::now();
        reference
            .create_migrated_schema(&format!("onboard_{i}"), "tenant")
            .await?;
        onboard.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let onboard_ms = median(onboard);
    let mut clone = Vec::new();
    for i in 0..5 {
        let t = Instant::now();
        reference
            .clone_schema("onboard_0", &format!("clone_{i}"))
            .await?;
        clone.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let clone_ms = median(clone);
    db.close();

    let r2 = |x: f64| (x * 100.0).round() / 100.0;
    Ok(json!({
        "bench": "migrate",
        "tenants": args.tenants,
        "connections": args.connections,
        "tables_per_migration": 10,
        "sequential_s": sequential_s.map(r2),
        "all_schemas_s": r2(parallel_s),
        "parallel_speedup": sequential_s.map(|s| r2(s / parallel_s)),
        "one_job_s": one_job_s.map(r2),
        "speedup_vs_one_job": one_job_s.map(|s| r2(s / parallel_s)),
        "noop_s": r2(noop_s),
        "noop_1000_s": (args.tenants == 1000).then(|| r2(noop_s)),
        "onboard_ms": r2(onboard_ms),
        "clone_ms": r2(clone_ms),
        "scale_tenants": scale.map(|s| s.0),
        "scale_s": scale.map(|s| r2(s.1)),
        "scale_ratio": scale.map(|s| r2(s.1 / parallel_s)),
        "scale_noop_s": scale.map(|s| r2(s.2)),
    })
    .to_string())
}
