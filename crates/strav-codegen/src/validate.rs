//! From raw definitions to a [`Catalog`]: meaning, cross-file checks and names.
//!
//! Runs in passes so that every problem is found in one run: enums of every domain first
//! (column types need them), then tables, then references (they need every table), then
//! names that must be unique across files, and last, on the finished catalog, what Citus
//! refuses when `[citus]` is on. A file that is not valid TOML is reported and
//! skipped, and its domain is marked *tainted*: "no such table/enum" errors that point into
//! a tainted domain are not reported, since the missing name is probably in the broken file.
//!
//! Each pass reports into the same [`Diagnostics`] and carries on with what is valid, so
//! the order of the passes decides what can be checked, never which problems are shown.

mod citus;
mod columns;
mod draft;
mod enums;
mod names;
mod references;
mod tables;

use crate::catalog::{Catalog, Domain};
use crate::config::Config;
use crate::definition::{self, DefinitionFile};
use crate::diagnostics::Diagnostics;
use draft::{DomainState, Domains, Draft, Parsed};

pub(crate) fn build(
    config: &Config,
    files: &[&DefinitionFile],
    diags: &mut Diagnostics,
) -> Catalog {
    let mut domains = Domains::new();
    let mut parsed = Vec::new();
    for &file in files {
        let state = domains.entry(file.domain.clone()).or_insert_with(|| {
            if let Some(problem) = names::domain_directory_problem(file) {
                diags.push(problem);
            }
            DomainState::new(config, &file.domain)
        });
        match definition::parse(&file.source, diags) {
            Some(raw) => parsed.push(Parsed { file, raw }),
            None => state.tainted = true,
        }
    }

    let enums = enums::collect(&parsed, &domains, diags);
    let mut drafts: Vec<Draft<'_>> = parsed
        .iter()
        .map(|p| tables::build(p, &domains, &enums, diags))
        .collect();
    let duplicate_tables = names::duplicate_tables(&drafts, diags);
    references::resolve(&mut drafts, &domains, diags);
    // A duplicate table also duplicates its model name: report it once.
    let unique_drafts: Vec<&Draft<'_>> = drafts
        .iter()
        .enumerate()
        .filter(|(i, _)| !duplicate_tables.contains(i))
        .map(|(_, d)| d)
        .collect();
    names::rust_names(&unique_drafts, &enums, diags);
    names::index_names(&drafts, diags);
    let citus_checks = citus::collect(&drafts);

    let mut catalog = Catalog {
        domains: domains
            .iter()
            .map(|(name, state)| Domain {
                name: name.clone(),
                kind: state.kind.clone(),
                prefix: state.prefix.clone(),
                tables: Vec::new(),
                enums: enums
                    .iter()
                    .filter(|((d, _), _)| d == name)
                    .map(|(_, e)| e.value.clone())
                    .collect(),
            })
            .collect(),
        citus: config.citus.enabled,
    };
    for (i, draft) in drafts.into_iter().enumerate() {
        if duplicate_tables.contains(&i) {
            continue;
        }
        if let Some(domain) = catalog
            .domains
            .iter_mut()
            .find(|d| d.name == draft.file.domain)
        {
            domain.tables.push(draft.table);
        }
    }
    for domain in &mut catalog.domains {
        domain.tables.sort_by(|a, b| a.name.cmp(&b.name));
    }
    citus::check(&citus_checks, &catalog, diags);
    catalog
}
