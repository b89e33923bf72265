//! Times code generation for a synthetic project of many tables and prints JSON.
//!
//! ```text
//! cargo run --release -p strav-codegen --example bench_codegen -- [TABLES] [RUNS]
//! ```
//!
//! Writes `TABLES` (default 500) definition files, spread over five domains, into a temp
//! directory: 12 columns each, including an enum, a same-domain and a cross-domain
//! reference, a default, an index and a unique. Then times, best of `RUNS` (default 5):
//! a cold `Builder::generate` (empty output directory), a warm one (nothing to rewrite),
//! `Project::render` from files already in memory, and `Project::catalog` (parse and
//! validate only).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use strav_codegen::{Builder, Project};

const DOMAINS: [&str; 5] = ["public", "tenant", "factory", "marketing", "billing"];

fn definition(domain: &str, i: usize) -> String {
    let mut s = String::new();
    writeln!(s, "timestamps = true\n\n[columns]").unwrap();
    writeln!(s, "id = {{ type = \"bigserial\", primary_key = true }}").unwrap();
    writeln!(s, "name = \"text\"").unwrap();
    writeln!(s, "code = {{ type = \"varchar(32)\", unique = true }}").unwrap();
    writeln!(
        s,
        "status = {{ type = \"{domain}_status\", default = \"active\" }}"
    )
    .unwrap();
    writeln!(
        s,
        "amount = {{ type = \"numeric(12,2)\", default = \"0.00\" }}"
    )
    .unwrap();
    writeln!(s, "note = {{ type = \"text\", nullable = true }}").unwrap();
    writeln!(s, "tags = {{ type = \"text[]\", default = [] }}").unwrap();
    writeln!(s, "payload = {{ type = \"jsonb\", nullable = true }}").unwrap();
    writeln!(s, "type = {{ type = \"text\", default = \"x\" }}").unwrap();
    if i > 0 {
        writeln!(
            s,
            "parent_id = {{ type = \"bigint\", nullable = true, references = \"t{}.id\", on_delete = \"set null\" }}",
            i - 1
        )
        .unwrap();
    }
    if domain != "public" {
        writeln!(
            s,
            "owner_id = {{ type = \"bigint\", references = \"public.t0.id\" }}"
        )
        .unwrap();
    }
    writeln!(s, "\n[[indexes]]\ncolumns = [\"status\", \"created_at\"]").unwrap();
    if i == 0 {
        writeln!(
            s,
            "\n[enums]\n{domain}_status = [\"active\", \"paused\", \"archived\"]"
        )
        .unwrap();
    }
    s
}

fn best(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..runs).map(|_| f()).min().unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let tables: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(500);
    let runs: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(5);

    let dir = tempfile::tempdir()?;
    let schemas = dir.path().join("schemas");
    let mut project = Project::new();
    for t in 0..tables {
        let domain = DOMAINS[t % DOMAINS.len()];
        let i = t / DOMAINS.len();
        let text = definition(domain, i);
        std::fs::create_dir_all(schemas.join(domain))?;
        std::fs::write(schemas.join(domain).join(format!("t{i}.toml")), &text)?;
        project = project.with_definition(domain, &format!("t{i}.toml"), text);
    }

    let builder = |out: &std::path::Path| {
        Builder::new()
            .schemas(&schemas)
            .without_config()
            .out_dir(out)
            .cargo_directives(false)
    };
    let mut bytes = 0;
    let cold = best(runs, || {
        let out = tempfile::tempdir().expect("temp dir");
        let start = Instant::now();
        let report = builder(out.path()).generate().expect("generate");
        let elapsed = start.elapsed();
        assert!(report.unchanged.is_empty());
        bytes = report
            .written
            .iter()
            .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
            .sum::<u64>();
        elapsed
    });
    let out = tempfile::tempdir()?;
    builder(out.path()).generate()?;
    let warm = best(runs, || {
        let start = Instant::now();
        let report = builder(out.path()).generate().expect("generate");
        let elapsed = start.elapsed();
        assert!(report.written.is_empty());
        elapsed
    });
    let in_memory = best(runs, || {
        let start = Instant::now();
        project.render().expect("render");
        start.elapsed()
    });
    let validate = best(runs, || {
        let start = Instant::now();
        project.catalog().expect("catalog");
        start.elapsed()
    });
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{{\"tables\": {tables}, \"runs\": {runs}, \"profile\": \"{}\", \"generated_bytes\": {bytes}, \
         \"generate_cold_ms\": {:.2}, \"generate_warm_ms\": {:.2}, \"render_in_memory_ms\": {:.2}, \"validate_in_memory_ms\": {:.2}}}",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        ms(cold),
        ms(warm),
        ms(in_memory),
        ms(validate)
    );
    Ok(())
}
