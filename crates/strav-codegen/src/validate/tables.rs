//! One definition file as a table: its columns (each checked in `columns`),
//! `timestamps`, the primary key, indexes and unique constraints.

use std::collections::BTreeMap;
use std::ops::Range;

use super::columns;
use super::draft::{Domains, Draft, Enums, Parsed, PendingReference};
use super::names::{self, snake_name_problem};
use super::references;
use crate::catalog::{Column, ColumnDefault, ColumnType, Index, IndexMethod, Table, Unique};
use crate::definition::{RawDefinition, RawIndex, Sp};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile};
use crate::naming;

const TIMESTAMP_COLUMNS: [&str; 2] = ["created_at", "updated_at"];

/// The table of one file, its references still pending.
pub(super) fn build<'a>(
    p: &Parsed<'a>,
    domains: &Domains,
    enums: &Enums<'_>,
    diags: &mut Diagnostics,
) -> Draft<'a> {
    let file = p.file;
    let source = &file.source;
    let raw = &p.raw;
    let name = names::table_name(file, raw, diags);
    let model = names::model_name(source, raw, &name, &domains[&file.domain].prefix, diags);
    let timestamps = raw.timestamps.as_ref().is_some_and(|t| t.value);

    if raw.columns_key.is_none() {
        diags.push(
            Diagnostic::file(source.path(), format!("table `{name}` has no [columns]"))
                .with_help("add a [columns] table, such as:\n[columns]\nid = { type = \"bigserial\", primary_key = true }"),
        );
    } else if raw.columns.is_empty() {
        if let Some(span) = &raw.columns_key {
            diags.push(
                Diagnostic::at(
                    source,
                    span.clone(),
                    format!("table `{name}` has no columns"),
                )
                .with_help(
                    "add at least one, such as `id = { type = \"bigserial\", primary_key = true }`",
                ),
            );
        }
    }

    let DeclaredColumns {
        mut columns,
        spans,
        references,
        mut uniques,
        mut index_names,
    } = declared_columns(p, &name, timestamps, domains, enums, diags);
    if timestamps {
        for ts in TIMESTAMP_COLUMNS {
            columns.push(Column {
                name: ts.to_string(),
                field: ts.to_string(),
                ty: ColumnType::Timestamptz,
                nullable: false,
                default: Some(ColumnDefault::Sql("now()".to_string())),
                identity: None,
                rust_type: None,
                primary_key: false,
            });
        }
    }
    let column_names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    // Columns that failed validation are still "declared": do not report them as missing.
    let declared = |c: &str| {
        column_names.iter().any(|n| n == c) || raw.columns.iter().any(|rc| rc.name.value == c)
    };
    let primary_key = primary_key(source, &name, raw, &mut columns, &spans, &declared, diags);
    let indexes = indexes(source, &name, raw, &declared, &mut index_names, diags);
    for raw_unique in &raw.uniques {
        if let Some((columns, unique_name)) = index_parts(
            source, &name, "uniques", "key", raw_unique, &declared, diags,
        ) {
            index_names.push((unique_name.clone(), index_span(raw_unique)));
            uniques.push(Unique {
                name: unique_name,
                columns,
            });
        }
    }

    Draft {
        file,
        table: Table {
            name,
            model,
            file: file.relative.clone(),
            columns,
            primary_key,
            foreign_keys: Vec::new(),
            indexes,
            uniques,
            timestamps,
        },
        name_span: raw
            .model
            .as_ref()
            .or(raw.table.as_ref())
            .map(|s| s.span.clone()),
        table_span: raw.table.as_ref().map(|s| s.span.clone()),
        references,
        index_names,
    }
}

/// What the `[columns]` of a file declare, valid columns only.
struct DeclaredColumns {
    /// Declaration order.
    columns: Vec<Column>,
    /// Where each column's name is written.
    spans: BTreeMap<String, Range<usize>>,
    references: Vec<PendingReference>,
    /// `unique = true` columns.
    uniques: Vec<Unique>,
    /// The names of those unique constraints, with where they are implied.
    index_names: Vec<(String, Range<usize>)>,
}

fn declared_columns(
    p: &Parsed<'_>,
    table: &str,
    timestamps: bool,
    domains: &Domains,
    enums: &Enums<'_>,
    diags: &mut Diagnostics,
) -> DeclaredColumns {
    let file = p.file;
    let source = &file.source;
    let raw = &p.raw;
    let mut out = DeclaredColumns {
        columns: Vec::new(),
        spans: BTreeMap::new(),
        references: Vec::new(),
        uniques: Vec::new(),
        index_names: Vec::new(),
    };
    // Rust field name → the column that took it.
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    for rc in &raw.columns {
        let col_name = &rc.name.value;
        if let Some(d) = snake_name_problem(source, rc.name.span.clone(), "column", col_name) {
            diags.push(d);
            continue;
        }
        if timestamps && TIMESTAMP_COLUMNS.contains(&col_name.as_str()) {
            let ts = raw.timestamps.as_ref().map(|t| t.span.start).unwrap_or(0);
            let (line, col) = source.line_col(ts);
            diags.push(
                Diagnostic::at(source, rc.name.span.clone(), format!(
                    "duplicate column `{col_name}`: `timestamps = true` already adds `created_at` and `updated_at`"
                ))
                .with_help("remove this column, or remove `timestamps = true` and declare both columns yourself")
                .with_note(format!("`timestamps = true` is at {}:{line}:{col}", source.path().display())),
            );
            continue;
        }
        let field = naming::rust_ident(col_name);
        if let Some(other) = fields.get(&field) {
            diags.push(
                Diagnostic::at(
                    source,
                    rc.name.span.clone(),
                    format!(
                    "columns `{other}` and `{col_name}` would both become the Rust field `{field}`"
                ),
                )
                .with_help("rename one of the columns"),
            );
            continue;
        }
        fields.insert(field.clone(), col_name.clone());
        let Some(column) = columns::build(file, rc, &field, domains, enums, diags) else {
            continue;
        };
        if let Some(unique) = rc.unique.as_ref().filter(|u| u.value) {
            out.index_names
                .push((format!("{table}_{col_name}_key"), unique.span.clone()));
            out.uniques.push(Unique {
                name: format!("{table}_{col_name}_key"),
                columns: vec![col_name.clone()],
            });
        }
        if let Some(target) = &rc.references {
            out.references.push(PendingReference {
                column: col_name.clone(),
                ty: column.ty.clone(),
                nullable: column.nullable,
                has_default: column.default.is_some(),
                target: target.clone(),
                on_delete: references::action(source, rc.on_delete.as_ref(), diags),
                on_update: references::action(source, rc.on_update.as_ref(), diags),
            });
        } else {
            for (key, value) in [("on_delete", &rc.on_delete), ("on_update", &rc.on_update)] {
                if let Some(v) = value {
                    diags.push(
                        Diagnostic::at(
                            source,
                            v.span.clone(),
                            format!("`{key}` on column `{col_name}`, which references nothing"),
                        )
                        .with_help(format!(
                            "add `references = \"table.column\"`, or remove `{key}`"
                        )),
                    );
                }
            }
        }
        out.spans.insert(col_name.clone(), rc.name.span.clone());
        out.columns.push(column);
    }
    out
}

/// The primary key, from column flags or a table-level list (not both); marks listed
/// columns as key columns.
fn primary_key(
    source: &SourceFile,
    table: &str,
    raw: &RawDefinition,
    columns: &mut [Column],
    spans: &BTreeMap<String, Range<usize>>,
    declared: &dyn Fn(&str) -> bool,
    diags: &mut Diagnostics,
) -> Vec<String> {
    let flagged: Vec<String> = columns
        .iter()
        .filter(|c| c.primary_key)
        .map(|c| c.name.clone())
        .collect();
    let mut primary_key = flagged.clone();
    if let Some(list) = &raw.primary_key {
        if !flagged.is_empty() {
            diags.push(
                Diagnostic::at(
                    source,
                    list.span.clone(),
                    "the primary key is given twice: here and with `primary_key = true` on columns",
                )
                .with_help(format!(
                    "keep one: `primary_key = [{}]` here, or the column flags",
                    flagged
                        .iter()
                        .map(|c| format!("\"{c}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        } else {
            primary_key = check_column_list(source, table, "primary_key", list, declared, diags);
            for pk in &primary_key {
                if let Some(c) = columns.iter_mut().find(|c| &c.name == pk) {
                    if c.nullable {
                        diags.push(
                            Diagnostic::at(
                                source,
                                spans[pk].clone(),
                                format!(
                                    "column `{pk}` is in the primary key but `nullable = true`"
                                ),
                            )
                            .with_help(
                                "primary key columns are NOT NULL: remove `nullable = true`",
                            ),
                        );
                    }
                    c.primary_key = true;
                }
            }
        }
    }
    // A flagged column that failed validation still means the file declares a key.
    let flagged_in_file = raw
        .columns
        .iter()
        .any(|c| c.primary_key.as_ref().is_some_and(|p| p.value));
    if primary_key.is_empty()
        && raw.primary_key.is_none()
        && !flagged_in_file
        && !raw.columns.is_empty()
    {
        diags.push(
            Diagnostic::at_or_file(source, raw.columns_key.clone(), format!("table `{table}` has no primary key"))
                .with_help("mark a column with `primary_key = true` (several for a composite key), or list them with `primary_key = [\"a\", \"b\"]` at the top of the file"),
        );
    }
    primary_key
}

/// `[[indexes]]`; their names are added to `index_names`.
fn indexes(
    source: &SourceFile,
    table: &str,
    raw: &RawDefinition,
    declared: &dyn Fn(&str) -> bool,
    index_names: &mut Vec<(String, Range<usize>)>,
    diags: &mut Diagnostics,
) -> Vec<Index> {
    let mut indexes = Vec::new();
    for raw_index in &raw.indexes {
        if let Some((columns, index_name)) =
            index_parts(source, table, "indexes", "idx", raw_index, declared, diags)
        {
            let method = match &raw_index.using {
                None => IndexMethod::default(),
                Some(m) => match IndexMethod::parse(&m.value) {
                    Some(method) => method,
                    None => {
                        diags.push(
                            Diagnostic::at(source, m.span.clone(), format!("unknown index method \"{}\"", m.value))
                                .with_help("use \"btree\" (the default), \"hash\", \"gin\", \"gist\" or \"brin\""),
                        );
                        continue;
                    }
                },
            };
            index_names.push((index_name.clone(), index_span(raw_index)));
            indexes.push(Index {
                name: index_name,
                columns,
                method,
            });
        }
    }
    indexes
}

/// Where an index or unique name is written, else the entry that implies it.
fn index_span(raw: &RawIndex) -> Range<usize> {
    raw.name
        .as_ref()
        .map_or(raw.span.clone(), |n| n.span.clone())
}

/// Checks a list of column names of `table`: present, known, no repeats.
fn check_column_list(
    source: &SourceFile,
    table: &str,
    what: &str,
    list: &Sp<Vec<Sp<String>>>,
    declared: &dyn Fn(&str) -> bool,
    diags: &mut Diagnostics,
) -> Vec<String> {
    if list.value.is_empty() {
        diags.push(
            Diagnostic::at(
                source,
                list.span.clone(),
                format!("`{what}` lists no columns"),
            )
            .with_help("list at least one column: [\"a\"]"),
        );
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for c in &list.value {
        if !declared(&c.value) {
            diags.push(
                Diagnostic::at(source, c.span.clone(), format!("`{what}` names column `{}`, which table `{table}` does not have", c.value))
                    .with_help("list columns declared under [columns] (or created_at/updated_at with `timestamps = true`)"),
            );
        } else if out.contains(&c.value) {
            diags.push(
                Diagnostic::at(
                    source,
                    c.span.clone(),
                    format!("`{what}` lists column `{}` twice", c.value),
                )
                .with_help("remove the repeat"),
            );
        } else {
            out.push(c.value.clone());
        }
    }
    out
}

/// The columns and the name of an `[[indexes]]` or `[[uniques]]` entry, when both are
/// valid; `suffix` makes the default name (`idx`, `key`).
fn index_parts(
    source: &SourceFile,
    table: &str,
    what: &str,
    suffix: &str,
    raw: &RawIndex,
    declared: &dyn Fn(&str) -> bool,
    diags: &mut Diagnostics,
) -> Option<(Vec<String>, String)> {
    let Some(list) = &raw.columns else {
        if !raw.columns_given {
            diags.push(
                Diagnostic::at(
                    source,
                    raw.span.clone(),
                    format!("an entry of `{what}` has no `columns`"),
                )
                .with_help("add `columns = [\"a\", \"b\"]` under it"),
            );
        }
        return None;
    };
    let before = diags.len();
    let columns = check_column_list(source, table, what, list, declared, diags);
    if diags.len() != before || columns.is_empty() {
        return None;
    }
    let name = match &raw.name {
        Some(n) => {
            if let Some(d) = snake_name_problem(source, n.span.clone(), "name", &n.value) {
                diags.push(d);
                return None;
            }
            n.value.clone()
        }
        None => {
            let name = format!("{table}_{}_{suffix}", columns.join("_"));
            if name.len() > 63 {
                diags.push(
                    Diagnostic::at(
                        source,
                        raw.span.clone(),
                        format!("the default name `{name}` is longer than PostgreSQL's 63 bytes"),
                    )
                    .with_help("give it a shorter one: `name = \"...\"`"),
                );
                return None;
            }
            name
        }
    };
    Some((columns, name))
}
