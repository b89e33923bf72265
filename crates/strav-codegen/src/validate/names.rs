//! Names: each one valid on its own (domain directories, tables, columns, enums, index
//! names), and the ones that must not collide across files (tables of a domain, Rust
//! names of the whole project, index and constraint names of a schema).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use super::draft::{Draft, Enums};
use crate::definition::{DefinitionFile, RawDefinition};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile};
use crate::naming;

/// `what` `name` at `span`, unless it is lower-case snake_case of at most 63 bytes.
pub(super) fn snake_name_problem(
    file: &SourceFile,
    span: Range<usize>,
    what: &str,
    name: &str,
) -> Option<Diagnostic> {
    if naming::is_snake_identifier(name) {
        return None;
    }
    let suggestion = heck::ToSnakeCase::to_snake_case(name);
    let help = if naming::is_snake_identifier(&suggestion) {
        format!("use lower-case snake_case of at most 63 bytes, such as `{suggestion}`")
    } else {
        "use lower-case snake_case of at most 63 bytes: a-z, 0-9 and _, not starting with a digit"
            .to_string()
    };
    Some(Diagnostic::at(file, span, format!("{what} `{name}` is not a valid name")).with_help(help))
}

/// `table = "..."`, else the file stem; reported when it is not a valid SQL name.
pub(super) fn table_name(
    file: &DefinitionFile,
    raw: &RawDefinition,
    diags: &mut Diagnostics,
) -> String {
    let source = &file.source;
    match &raw.table {
        Some(t) => {
            if let Some(d) = snake_name_problem(source, t.span.clone(), "table", &t.value) {
                diags.push(d);
            }
            t.value.clone()
        }
        None => {
            let stem = file.stem().to_string();
            if !naming::is_snake_identifier(&stem) {
                diags.push(
                    Diagnostic::file(
                        source.path(),
                        format!("file name `{stem}` is not a valid table name"),
                    )
                    .with_help(format!(
                        "rename the file to `{}.toml`, or set `table = \"...\"` in it",
                        heck::ToSnakeCase::to_snake_case(stem.as_str())
                    )),
                );
            }
            stem
        }
    }
}

/// The domain prefix and `model = "..."` (else PascalCase of the singular table name).
pub(super) fn model_name(
    source: &SourceFile,
    raw: &RawDefinition,
    table: &str,
    prefix: &str,
    diags: &mut Diagnostics,
) -> String {
    let base = match &raw.model {
        Some(m) => {
            if !naming::is_pascal_identifier(&m.value) || naming::is_rust_keyword(&m.value) {
                diags.push(
                    Diagnostic::at(source, m.span.clone(), format!("model name \"{}\" is not a PascalCase Rust identifier", m.value))
                        .with_help(format!(
                            "use ASCII letters and digits starting with a capital, such as \"{}\"; the domain prefix is added in front",
                            naming::model_base_name(table)
                        )),
                );
            }
            m.value.clone()
        }
        None => naming::model_base_name(table),
    };
    format!("{prefix}{base}")
}

/// The domain directory of `file` becomes a schema name (or a module name), so it has to
/// be a valid one.
pub(super) fn domain_directory_problem(file: &DefinitionFile) -> Option<Diagnostic> {
    let domain = &file.domain;
    let problem = if !naming::is_snake_identifier(domain) {
        "not a lower-case snake_case name of at most 63 bytes"
    } else if domain.starts_with("pg_") || domain == "information_schema" {
        "names starting with `pg_`, and `information_schema`, are reserved by PostgreSQL"
    } else {
        return None;
    };
    Some(
        Diagnostic::file(
            file.source.path(),
            format!("domain directory `{domain}`: {problem}"),
        )
        .with_help(
            "name domain directories in lower-case snake_case, such as `tenant` or `field_service`",
        ),
    )
}

/// Table names are unique per domain. Returns the drafts that repeat an earlier one: they
/// stay out of the catalog and out of the checks that follow.
pub(super) fn duplicate_tables(drafts: &[Draft<'_>], diags: &mut Diagnostics) -> BTreeSet<usize> {
    let mut seen: BTreeMap<(&str, String), usize> = BTreeMap::new();
    let mut duplicates = BTreeSet::new();
    for (i, draft) in drafts.iter().enumerate() {
        let key = (draft.file.domain.as_str(), draft.table.name.clone());
        if let Some(&first) = seen.get(&key) {
            let first = &drafts[first];
            // Point at a `table = "..."` line if either file has one: that is the likely slip.
            let (at, other) = if draft.table_span.is_none() && first.table_span.is_some() {
                (first, draft)
            } else {
                (draft, first)
            };
            diags.push(
                Diagnostic::at_or_file(
                    &at.file.source,
                    at.table_span.clone(),
                    format!(
                        "table `{}` of domain `{}` is defined twice: in {} and in {}",
                        draft.table.name,
                        draft.file.domain,
                        first.file.source.path().display(),
                        draft.file.source.path().display()
                    ),
                )
                .with_help("give one of them another `table = \"...\"`, or merge the files")
                .with_note(format!(
                    "also defined in {}",
                    other.file.source.path().display()
                )),
            );
            duplicates.insert(i);
        } else {
            seen.insert(key, i);
        }
    }
    duplicates
}

/// Model and enum names end up side by side in `mod.rs`, so they are unique project-wide.
pub(super) fn rust_names(drafts: &[&Draft<'_>], enums: &Enums<'_>, diags: &mut Diagnostics) {
    struct Owner<'a> {
        what: String,
        file: &'a DefinitionFile,
        span: Option<Range<usize>>,
    }
    let mut owners: Vec<(String, Owner<'_>)> = Vec::new();
    for d in drafts {
        owners.push((
            d.table.model.clone(),
            Owner {
                what: format!("table `{}.{}`", d.file.domain, d.table.name),
                file: d.file,
                span: d.name_span.clone(),
            },
        ));
    }
    for ((domain, name), e) in enums {
        owners.push((
            e.value.rust_name.clone(),
            Owner {
                what: format!("enum `{domain}.{name}`"),
                file: e.file,
                span: Some(e.span.clone()),
            },
        ));
    }
    owners.sort_by(|a, b| (&a.0, &a.1.file.relative).cmp(&(&b.0, &b.1.file.relative)));
    for pair in owners.windows(2) {
        let ((name, first), (_, second)) = (&pair[0], &pair[1]);
        if *name != pair[1].0 {
            continue;
        }
        let domain = &second.file.domain;
        diags.push(
            Diagnostic::at_or_file(&second.file.source, second.span.clone(), format!(
                "Rust name `{name}` is produced twice: by {} in {} and by {} in {}",
                first.what,
                first.file.source.path().display(),
                second.what,
                second.file.source.path().display()
            ))
            .with_help(format!(
                "set `model = \"...\"` in one of the files, or give domain `{domain}` its own prefix under [model_naming] in config/generators.toml"
            ))
            .with_note(format!("the other one is in {}", first.file.source.path().display())),
        );
    }
}

/// Index and unique constraint names share one namespace per PostgreSQL schema.
pub(super) fn index_names(drafts: &[Draft<'_>], diags: &mut Diagnostics) {
    let mut seen: BTreeMap<(&str, &str), (&Draft<'_>, &Range<usize>)> = BTreeMap::new();
    for d in drafts {
        for (name, span) in &d.index_names {
            let key = (d.file.domain.as_str(), name.as_str());
            if let Some((first, first_span)) = seen.get(&key) {
                let (line, col) = first.file.source.line_col(first_span.start);
                diags.push(
                    Diagnostic::at(
                        &d.file.source,
                        span.clone(),
                        format!(
                            "index or constraint name `{name}` is used twice in domain `{}`",
                            d.file.domain
                        ),
                    )
                    .with_help("index and constraint names are unique per schema: set a distinct `name = \"...\"` on one of them")
                    .with_note(format!(
                        "also used at {}:{line}:{col}",
                        first.file.source.path().display()
                    )),
                );
            } else {
                seen.insert(key, (d, span));
            }
        }
    }
}
