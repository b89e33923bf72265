//! With `[citus] enabled`: what Citus refuses in a definition, found before a migration
//! fails on the cluster. Which tables Citus manages comes from [`crate::citus::Layout`],
//! so this runs on the finished catalog, with the places noted from the drafts.
//!
//! Citus creates the shards of its tables without the `nextval(...)` defaults of their
//! columns (each node draws from its own range), so `ON DELETE / ON UPDATE SET DEFAULT`
//! on such a column would write NULL: Citus refuses the foreign key on every table it
//! manages. Serial columns cannot carry the action in Strav (they take no `default`);
//! `default_sql = "nextval(...)"` can.

use std::ops::Range;

use super::draft::Draft;
use crate::catalog::{Catalog, ColumnDefault, ReferentialAction};
use crate::citus::Layout;
use crate::definition::DefinitionFile;
use crate::diagnostics::{Diagnostic, Diagnostics};

/// A `set default` action on a column whose default draws from a sequence.
pub(super) struct SequenceSetDefault<'a> {
    file: &'a DefinitionFile,
    table: String,
    column: String,
    key: &'static str,
    span: Range<usize>,
}

/// The places to check, noted while the drafts still hold their spans.
pub(super) fn collect<'a>(drafts: &[Draft<'a>]) -> Vec<SequenceSetDefault<'a>> {
    let mut found = Vec::new();
    for draft in drafts {
        for r in &draft.references {
            let from_sequence = draft.table.column(&r.column).is_some_and(|c| {
                matches!(&c.default, Some(ColumnDefault::Sql(sql))
                    if sql.to_ascii_lowercase().contains("nextval("))
            });
            if !from_sequence {
                continue;
            }
            for (key, action) in [("on_delete", &r.on_delete), ("on_update", &r.on_update)] {
                if let Some(action) = action.as_ref() {
                    if action.value == ReferentialAction::SetDefault {
                        found.push(SequenceSetDefault {
                            file: draft.file,
                            table: draft.table.name.clone(),
                            column: r.column.clone(),
                            key,
                            span: action.span.clone(),
                        });
                    }
                }
            }
        }
    }
    found
}

pub(super) fn check(found: &[SequenceSetDefault<'_>], catalog: &Catalog, diags: &mut Diagnostics) {
    if !catalog.citus || found.is_empty() {
        return;
    }
    let layout = Layout::of(catalog);
    for f in found {
        let domain = f.file.domain.as_str();
        // Only foreign keys that resolved: the others are reported already.
        let resolved = catalog
            .domain(domain)
            .and_then(|d| d.table(&f.table))
            .is_some_and(|t| {
                t.foreign_keys
                    .iter()
                    .any(|fk| fk.columns == [f.column.as_str()])
            });
        let Some(placement) = layout.placement(domain, &f.table) else {
            continue;
        };
        if !resolved {
            continue;
        }
        diags.push(
            Diagnostic::at(
                &f.file.source,
                f.span.clone(),
                format!(
                    "`{} = \"set default\"` on column `{}`, whose default draws from a sequence: \
                     Citus refuses this foreign key on `{domain}.{}`, {}",
                    f.key,
                    f.column,
                    f.table,
                    placement.description()
                ),
            )
            .with_help(format!(
                "Citus creates its shards without `nextval(...)` defaults, so the action would \
                 write NULL; use \"cascade\", \"restrict\" or \"set null\" (with `nullable = true` \
                 on `{}`), or give the column a constant `default`",
                f.column
            )),
        );
    }
}
