//! `references = "..."`: the target domain, table and column exist, may be referenced
//! from here, are a key, and have a compatible type; `on_delete` and `on_update` fit the
//! column.

use super::draft::{Domains, Draft};
use crate::catalog::{DomainKind, ForeignKey, ReferentialAction, TableRef};
use crate::definition::Sp;
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, SourceFile};

/// `references = "..."` that is neither `table.column` nor `domain.table.column`.
pub(super) fn target_syntax_problem(source: &SourceFile, r: &Sp<String>) -> Option<Diagnostic> {
    if (r.value.split('.').count() == 2 || r.value.split('.').count() == 3)
        && !r.value.split('.').any(|p| p.is_empty())
    {
        return None;
    }
    Some(
        Diagnostic::at(source, r.span.clone(), format!("`references = \"{}\"` is not `table.column` or `domain.table.column`", r.value))
            .with_help("write `references = \"customers.id\"` for a table of this domain, or `references = \"public.users.id\"` for another domain"),
    )
}

/// `on_delete` / `on_update` as an action; an unknown spelling is reported.
pub(super) fn action(
    source: &SourceFile,
    raw: Option<&Sp<String>>,
    diags: &mut Diagnostics,
) -> Option<Sp<ReferentialAction>> {
    let raw = raw?;
    match ReferentialAction::parse(&raw.value) {
        Some(a) => Some(Sp {
            value: a,
            span: raw.span.clone(),
        }),
        None => {
            diags.push(
                Diagnostic::at(
                    source,
                    raw.span.clone(),
                    format!("unknown referential action \"{}\"", raw.value),
                )
                .with_help(format!("use {}", ReferentialAction::SPELLINGS)),
            );
            None
        }
    }
}

/// Turns every pending reference into a foreign key, or reports why its target cannot be
/// referenced. Runs once every table is built, since a reference may point at any file.
pub(super) fn resolve(drafts: &mut [Draft<'_>], domains: &Domains, diags: &mut Diagnostics) {
    let mut resolved: Vec<(usize, ForeignKey)> = Vec::new();
    for (i, draft) in drafts.iter().enumerate() {
        let source = &draft.file.source;
        let domain = draft.file.domain.as_str();
        for r in &draft.references {
            let parts: Vec<&str> = r.target.value.split('.').collect();
            let (target_domain, target_table, target_column) = match parts[..] {
                [t, c] => (domain, t, c),
                [d, t, c] => (d, t, c),
                _ => continue, // reported with the column
            };
            let here = |message: String| Diagnostic::at(source, r.target.span.clone(), message);
            let Some(state) = domains.get(target_domain) else {
                diags.push(
                    here(format!(
                        "`references` names domain `{target_domain}`, which has no definitions"
                    ))
                    .with_help(format!(
                        "known domains: {}",
                        domains.keys().cloned().collect::<Vec<_>>().join(", ")
                    )),
                );
                continue;
            };
            if state.kind == DomainKind::PerTenant && target_domain != domain {
                diags.push(
                    here(format!(
                        "column `{}` references per-tenant domain `{target_domain}` from domain `{domain}`",
                        r.column
                    ))
                    .with_help("a per-tenant table exists once per tenant schema, so only tables of the same domain can reference it"),
                );
                continue;
            }
            let candidates: Vec<&Draft<'_>> = drafts
                .iter()
                .filter(|d| d.file.domain == target_domain)
                .collect();
            let Some(target) = candidates.iter().find(|d| d.table.name == target_table) else {
                if !state.tainted {
                    let names: Vec<&str> =
                        candidates.iter().map(|d| d.table.name.as_str()).collect();
                    let help = match did_you_mean(target_table, names.iter().copied()) {
                        Some(close) => format!(
                            "did you mean `{close}`? tables of domain `{target_domain}`: {}",
                            names.join(", ")
                        ),
                        None if names.is_empty() => {
                            format!("domain `{target_domain}` has no tables")
                        }
                        None => format!("tables of domain `{target_domain}`: {}", names.join(", ")),
                    };
                    let hint = if target_domain == domain && parts.len() == 2 {
                        "; for another domain write `domain.table.column`"
                    } else {
                        ""
                    };
                    diags.push(
                        here(format!("`references` names table `{target_table}`, which domain `{target_domain}` does not have"))
                            .with_help(format!("{help}{hint}")),
                    );
                }
                continue;
            };
            let Some(target_col) = target.table.column(target_column) else {
                let names: Vec<&str> = target
                    .table
                    .columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect();
                let help = match did_you_mean(target_column, names.iter().copied()) {
                    Some(close) => format!(
                        "did you mean `{close}`? columns of `{target_table}`: {}",
                        names.join(", ")
                    ),
                    None => format!("columns of `{target_table}`: {}", names.join(", ")),
                };
                diags.push(
                    here(format!("`references` names column `{target_column}`, which table `{target_domain}.{target_table}` does not have"))
                        .with_help(help),
                );
                continue;
            };
            let is_key = target.table.primary_key == [target_column]
                || target
                    .table
                    .uniques
                    .iter()
                    .any(|u| u.columns == [target_column]);
            if !is_key {
                diags.push(
                    here(format!(
                        "`{target_table}.{target_column}` is neither the primary key nor unique, so it cannot be referenced"
                    ))
                    .with_help(format!(
                        "reference the primary key of `{target_table}`, or add `unique = true` to column `{target_column}` in {}",
                        target.file.source.path().display()
                    )),
                );
                continue;
            }
            if r.ty.referencing_type() != target_col.ty.referencing_type() {
                diags.push(
                    here(format!(
                        "column `{}` is `{}` but references `{target_table}.{target_column}`, which is `{}`",
                        r.column, r.ty, target_col.ty
                    ))
                    .with_help(format!(
                        "declare `{}` as `{}`",
                        r.column,
                        target_col.ty.referencing_type()
                    )),
                );
                continue;
            }
            let on_delete = r.on_delete.as_ref().map(|a| a.value).unwrap_or_default();
            let on_update = r.on_update.as_ref().map(|a| a.value).unwrap_or_default();
            for (key, action) in [("on_delete", &r.on_delete), ("on_update", &r.on_update)] {
                let Some(action) = action else { continue };
                if action.value == ReferentialAction::SetNull && !r.nullable {
                    diags.push(
                        Diagnostic::at(
                            source,
                            action.span.clone(),
                            format!(
                                "`{key} = \"set null\"` on column `{}`, which is NOT NULL",
                                r.column
                            ),
                        )
                        .with_help(format!(
                            "add `nullable = true` to `{}`, or use \"cascade\" or \"restrict\"",
                            r.column
                        )),
                    );
                }
                if action.value == ReferentialAction::SetDefault && !r.has_default {
                    diags.push(
                        Diagnostic::at(
                            source,
                            action.span.clone(),
                            format!(
                                "`{key} = \"set default\"` on column `{}`, which has no default",
                                r.column
                            ),
                        )
                        .with_help(format!(
                            "give `{}` a default, or use another action",
                            r.column
                        )),
                    );
                }
            }
            resolved.push((
                i,
                ForeignKey {
                    name: format!("{}_{}_fkey", draft.table.name, r.column),
                    columns: vec![r.column.clone()],
                    target: TableRef {
                        domain: target_domain.to_string(),
                        table: target_table.to_string(),
                    },
                    target_columns: vec![target_column.to_string()],
                    on_delete,
                    on_update,
                },
            ));
        }
    }
    for (i, fk) in resolved {
        drafts[i].table.foreign_keys.push(fk);
    }
}
