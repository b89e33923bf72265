//! From raw definitions to a [`Catalog`]: meaning, cross-file checks and names.
//!
//! Runs in passes so that every problem is found in one run: enums of every domain first
//! (column types need them), then tables, then references (they need every table), then
//! names that must be unique across files. A file that is not valid TOML is reported and
//! skipped, and its domain is marked *tainted*: "no such table/enum" errors that point into
//! a tainted domain are not reported, since the missing name is probably in the broken file.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use crate::catalog::{
    Catalog, Column, ColumnDefault, ColumnType, Domain, DomainKind, Enum, EnumVariant, ForeignKey,
    Identity, Index, IndexMethod, ReferentialAction, Table, TableRef, Unique,
};
use crate::config::Config;
use crate::default_value;
use crate::definition::{self, RawColumn, RawDefinition, RawIndex, RawValue, Sp};
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, SourceFile};
use crate::naming;
use crate::project::DefinitionFile;
use crate::types::{self, TypeError};

const TIMESTAMP_COLUMNS: [&str; 2] = ["created_at", "updated_at"];

struct DomainState {
    kind: DomainKind,
    prefix: String,
    tainted: bool,
}

struct Parsed<'a> {
    file: &'a DefinitionFile,
    raw: RawDefinition,
}

struct DeclaredEnum<'a> {
    value: Enum,
    file: &'a DefinitionFile,
    span: Range<usize>,
}

/// A table built from one file, waiting for its references to be resolved.
struct Draft<'a> {
    file: &'a DefinitionFile,
    table: Table,
    /// Where to point when the model name collides: `model`, else `table`, else nothing.
    name_span: Option<Range<usize>>,
    table_span: Option<Range<usize>>,
    references: Vec<PendingReference>,
    /// Index and unique constraint names, with where each was written or implied.
    index_names: Vec<(String, Range<usize>)>,
}

struct PendingReference {
    column: String,
    ty: ColumnType,
    nullable: bool,
    has_default: bool,
    target: Sp<String>,
    on_delete: Option<Sp<ReferentialAction>>,
    on_update: Option<Sp<ReferentialAction>>,
}

pub(crate) fn build(
    config: &Config,
    files: &[&DefinitionFile],
    diags: &mut Diagnostics,
) -> Catalog {
    let mut domains: BTreeMap<String, DomainState> = BTreeMap::new();
    let mut parsed = Vec::new();
    for &file in files {
        let state = domains.entry(file.domain.clone()).or_insert_with(|| {
            if let Some(problem) = domain_name_problem(&file.domain) {
                diags.push(
                    Diagnostic::file(
                        file.source.path(),
                        format!("domain directory `{}`: {problem}", file.domain),
                    )
                    .with_help("name domain directories in lower-case snake_case, such as `tenant` or `field_service`"),
                );
            }
            DomainState {
                kind: if file.domain == "public" {
                    DomainKind::Public
                } else if config.is_per_tenant(&file.domain) {
                    DomainKind::PerTenant
                } else {
                    DomainKind::Fixed
                },
                prefix: config.prefix(&file.domain),
                tainted: false,
            }
        });
        match definition::parse(&file.source, diags) {
            Some(raw) => parsed.push(Parsed { file, raw }),
            None => state.tainted = true,
        }
    }

    let enums = collect_enums(&parsed, &domains, diags);
    let mut drafts: Vec<Draft<'_>> = parsed
        .iter()
        .map(|p| build_table(p, &domains, &enums, diags))
        .collect();

    // Table names are unique per domain.
    let mut seen: BTreeMap<(&str, String), usize> = BTreeMap::new();
    let mut duplicate_tables = BTreeSet::new();
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
                at_or_file(
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
            duplicate_tables.insert(i);
        } else {
            seen.insert(key, i);
        }
    }

    resolve_references(&mut drafts, &domains, diags);
    // A duplicate table also duplicates its model name: report it once.
    let unique_drafts: Vec<&Draft<'_>> = drafts
        .iter()
        .enumerate()
        .filter(|(i, _)| !duplicate_tables.contains(i))
        .map(|(_, d)| d)
        .collect();
    check_rust_names(&unique_drafts, &enums, diags);
    check_index_names(&drafts, diags);

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
    catalog
}

fn domain_name_problem(domain: &str) -> Option<&'static str> {
    if !naming::is_snake_identifier(domain) {
        Some("not a lower-case snake_case name of at most 63 bytes")
    } else if domain.starts_with("pg_") || domain == "information_schema" {
        Some("names starting with `pg_`, and `information_schema`, are reserved by PostgreSQL")
    } else {
        None
    }
}

fn at_or_file(file: &SourceFile, span: Option<Range<usize>>, message: String) -> Diagnostic {
    match span {
        Some(span) => Diagnostic::at(file, span, message),
        None => Diagnostic::file(file.path(), message),
    }
}

fn snake_name_problem(
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

fn collect_enums<'a>(
    parsed: &[Parsed<'a>],
    domains: &BTreeMap<String, DomainState>,
    diags: &mut Diagnostics,
) -> BTreeMap<(String, String), DeclaredEnum<'a>> {
    let mut enums: BTreeMap<(String, String), DeclaredEnum<'a>> = BTreeMap::new();
    for p in parsed {
        let source = &p.file.source;
        for raw in &p.raw.enums {
            let name = &raw.name.value;
            if let Some(d) = snake_name_problem(source, raw.name.span.clone(), "enum", name) {
                diags.push(d);
                continue;
            }
            if raw.labels.value.is_empty() {
                diags.push(
                    Diagnostic::at(
                        source,
                        raw.labels.span.clone(),
                        format!("enum `{name}` has no labels"),
                    )
                    .with_help(format!("list its values: {name} = [\"draft\", \"active\"]")),
                );
                continue;
            }
            let mut variants: Vec<EnumVariant> = Vec::new();
            let mut ok = true;
            for label in &raw.labels.value {
                let text = &label.value;
                let problem = if text.is_empty() {
                    Some((
                        "an empty label".to_string(),
                        "remove it or give it a value".to_string(),
                    ))
                } else if text.len() > 63 {
                    Some((
                        format!("label \"{text}\" is longer than 63 bytes"),
                        "PostgreSQL enum labels have at most 63 bytes; shorten it".to_string(),
                    ))
                } else if let Some(first) = variants.iter().find(|v| v.label == *text) {
                    Some((
                        format!("label \"{}\" is listed twice", first.label),
                        "remove one of them".to_string(),
                    ))
                } else {
                    match naming::variant_name(text) {
                        None => Some((
                            format!("label \"{text}\" has no letter or digit to make a Rust variant name from"),
                            "use labels with letters or digits, such as \"pending\"".to_string(),
                        )),
                        Some(variant) => match variants.iter().find(|v| v.rust_name == variant) {
                            Some(other) => Some((
                                format!(
                                    "labels \"{}\" and \"{text}\" both become the Rust variant `{variant}`",
                                    other.label
                                ),
                                "rename one of the labels".to_string(),
                            )),
                            None => {
                                variants.push(EnumVariant {
                                    label: text.clone(),
                                    rust_name: variant,
                                });
                                None
                            }
                        },
                    }
                };
                if let Some((message, help)) = problem {
                    ok = false;
                    diags.push(
                        Diagnostic::at(
                            source,
                            label.span.clone(),
                            format!("enum `{name}`: {message}"),
                        )
                        .with_help(help),
                    );
                }
            }
            if !ok {
                continue;
            }
            let key = (p.file.domain.clone(), name.clone());
            if let Some(first) = enums.get(&key) {
                let (line, col) = first.file.source.line_col(first.span.start);
                diags.push(
                    Diagnostic::at(
                        source,
                        raw.name.span.clone(),
                        format!(
                            "enum `{name}` of domain `{}` is declared twice: in {} and in {}",
                            p.file.domain,
                            first.file.source.path().display(),
                            source.path().display()
                        ),
                    )
                    .with_help(
                        "declare each enum once per domain; every table of the domain can use it",
                    )
                    .with_note(format!(
                        "first declared at {}:{line}:{col}",
                        first.file.source.path().display()
                    )),
                );
                continue;
            }
            let prefix = &domains[&p.file.domain].prefix;
            enums.insert(
                key,
                DeclaredEnum {
                    value: Enum {
                        name: name.clone(),
                        rust_name: format!("{prefix}{}", naming::pascal(name)),
                        variants,
                        file: p.file.relative.clone(),
                    },
                    file: p.file,
                    span: raw.name.span.clone(),
                },
            );
        }
    }
    enums
}

fn build_table<'a>(
    p: &Parsed<'a>,
    domains: &BTreeMap<String, DomainState>,
    enums: &BTreeMap<(String, String), DeclaredEnum<'_>>,
    diags: &mut Diagnostics,
) -> Draft<'a> {
    let file = p.file;
    let source = &file.source;
    let raw = &p.raw;
    let domain = &domains[&file.domain];

    let name = match &raw.table {
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
    };

    let base = match &raw.model {
        Some(m) => {
            if !naming::is_pascal_identifier(&m.value) || naming::is_rust_keyword(&m.value) {
                diags.push(
                    Diagnostic::at(source, m.span.clone(), format!("model name \"{}\" is not a PascalCase Rust identifier", m.value))
                        .with_help(format!(
                            "use ASCII letters and digits starting with a capital, such as \"{}\"; the domain prefix is added in front",
                            naming::model_base_name(&name)
                        )),
                );
            }
            m.value.clone()
        }
        None => naming::model_base_name(&name),
    };
    let model = format!("{}{base}", domain.prefix);

    let mut columns: Vec<Column> = Vec::new();
    let mut column_spans: BTreeMap<String, Range<usize>> = BTreeMap::new();
    let mut references = Vec::new();
    let mut uniques = Vec::new();
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let mut index_names = Vec::new();
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
        let Some(column) = build_column(file, rc, &field, &file.domain, domains, enums, diags)
        else {
            continue;
        };
        if let Some(unique) = rc.unique.as_ref().filter(|u| u.value) {
            index_names.push((format!("{name}_{col_name}_key"), unique.span.clone()));
            uniques.push(Unique {
                name: format!("{name}_{col_name}_key"),
                columns: vec![col_name.clone()],
            });
        }
        if let Some(target) = &rc.references {
            references.push(PendingReference {
                column: col_name.clone(),
                ty: column.ty.clone(),
                nullable: column.nullable,
                has_default: column.default.is_some(),
                target: target.clone(),
                on_delete: action(source, rc.on_delete.as_ref(), diags),
                on_update: action(source, rc.on_update.as_ref(), diags),
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
        column_spans.insert(col_name.clone(), rc.name.span.clone());
        columns.push(column);
    }
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

    // Primary key: column flags, or a table-level list, not both.
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
            primary_key = check_column_list(source, &name, "primary_key", list, &declared, diags);
            for pk in &primary_key {
                if let Some(c) = columns.iter_mut().find(|c| &c.name == pk) {
                    if c.nullable {
                        diags.push(
                            Diagnostic::at(
                                source,
                                column_spans[pk].clone(),
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
            at_or_file(source, raw.columns_key.clone(), format!("table `{name}` has no primary key"))
                .with_help("mark a column with `primary_key = true` (several for a composite key), or list them with `primary_key = [\"a\", \"b\"]` at the top of the file"),
        );
    }

    let mut indexes = Vec::new();
    for raw_index in &raw.indexes {
        if let Some((columns, index_name)) =
            index_parts(source, &name, "indexes", "idx", raw_index, &declared, diags)
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

fn index_span(raw: &RawIndex) -> Range<usize> {
    raw.name
        .as_ref()
        .map_or(raw.span.clone(), |n| n.span.clone())
}

fn action(
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

#[allow(clippy::too_many_arguments)]
fn build_column(
    file: &DefinitionFile,
    rc: &RawColumn,
    field: &str,
    domain_name: &str,
    domains: &BTreeMap<String, DomainState>,
    enums: &BTreeMap<(String, String), DeclaredEnum<'_>>,
    diags: &mut Diagnostics,
) -> Option<Column> {
    let source = &file.source;
    let name = &rc.name.value;
    let before = diags.len();
    let ty_raw = rc.ty.as_ref()?;

    let rust_type = match &rc.rust_type {
        None => None,
        Some(rt) => match syn::parse_str::<syn::Type>(&rt.value) {
            Ok(_) => Some(rt.value.trim().to_string()),
            Err(e) => {
                diags.push(
                    Diagnostic::at(
                        source,
                        rt.span.clone(),
                        format!("`rust_type` \"{}\" is not a Rust type: {e}", rt.value),
                    )
                    .with_help(
                        "write a type path such as \"my_crate::Money\" or \"std::net::IpAddr\"",
                    ),
                );
                None
            }
        },
    };
    let ty = resolve_type(
        source,
        ty_raw,
        domain_name,
        domains,
        enums,
        rc.rust_type.is_some(),
        diags,
    )?;

    let nullable = rc.nullable.as_ref().is_some_and(|n| n.value);
    let primary_key = rc.primary_key.as_ref().is_some_and(|p| p.value);
    if primary_key && nullable {
        let span = rc
            .nullable
            .as_ref()
            .map(|n| n.span.clone())
            .unwrap_or(rc.name.span.clone());
        diags.push(
            Diagnostic::at(
                source,
                span,
                format!("primary key column `{name}` cannot be nullable"),
            )
            .with_help("primary key columns are NOT NULL: remove `nullable = true`"),
        );
    }

    let identity = match &rc.identity {
        None
        | Some(Sp {
            value: RawValue::Bool(false),
            ..
        }) => None,
        Some(Sp {
            value: RawValue::Bool(true),
            ..
        }) => Some(Identity::ByDefault),
        Some(Sp {
            value: RawValue::String(s),
            span,
        }) => {
            match s.to_ascii_lowercase().replace('_', " ").as_str() {
                "always" => Some(Identity::Always),
                "by default" => Some(Identity::ByDefault),
                _ => {
                    diags.push(
                    Diagnostic::at(source, span.clone(), format!("unknown identity kind \"{s}\""))
                        .with_help("use `identity = true` (GENERATED BY DEFAULT) or `identity = \"always\"`"),
                );
                    None
                }
            }
        }
        Some(Sp { value, span }) => {
            diags.push(
                Diagnostic::at(
                    source,
                    span.clone(),
                    format!(
                        "`identity` must be a boolean or \"always\", found {}",
                        value.kind()
                    ),
                )
                .with_help("use `identity = true` or `identity = \"always\"`"),
            );
            None
        }
    };
    if let (Some(_), Some(span)) = (identity, rc.identity.as_ref().map(|i| i.span.clone())) {
        if !matches!(
            ty,
            ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt
        ) {
            diags.push(
                Diagnostic::at(
                    source,
                    span,
                    format!(
                        "identity column `{name}` must be smallint, integer or bigint, not {ty}"
                    ),
                )
                .with_help(if ty.is_serial() {
                    format!("`{ty}` already generates values: remove `identity`")
                } else {
                    "change the type to `bigint`".to_string()
                }),
            );
        }
    }

    let default = match (&rc.default, &rc.default_sql) {
        (Some(_), Some(sql)) => {
            diags.push(
                Diagnostic::at(
                    source,
                    sql.span.clone(),
                    format!("column `{name}` has both `default` and `default_sql`"),
                )
                .with_help("keep one: `default` for a value, `default_sql` for an SQL expression"),
            );
            None
        }
        (None, Some(sql)) if sql.value.trim().is_empty() => {
            diags.push(
                Diagnostic::at(source, sql.span.clone(), "`default_sql` is empty")
                    .with_help("write an SQL expression such as \"now()\", or remove the key"),
            );
            None
        }
        (None, Some(sql)) => Some((
            ColumnDefault::Sql(sql.value.trim().to_string()),
            sql.span.clone(),
        )),
        (Some(value), None) => {
            let labels = |domain: &str, enum_name: &str| {
                enums
                    .get(&(domain.to_string(), enum_name.to_string()))
                    .map(|e| {
                        e.value
                            .variants
                            .iter()
                            .map(|v| v.label.clone())
                            .collect::<Vec<_>>()
                    })
            };
            match default_value::check(&ty, &value.value, &labels) {
                Ok(l) => Some((ColumnDefault::Literal(l), value.span.clone())),
                Err(rejected) => {
                    diags.push(
                        Diagnostic::at(
                            source,
                            value.span.clone(),
                            format!("column `{name}`: {}", rejected.message),
                        )
                        .with_help(rejected.help),
                    );
                    None
                }
            }
        }
        (None, None) => None,
    };
    if let Some((_, span)) = &default {
        if ty.is_serial() || identity.is_some() {
            diags.push(
                Diagnostic::at(
                    source,
                    span.clone(),
                    format!(
                        "column `{name}` is generated by the database and cannot have a default"
                    ),
                )
                .with_help("remove the default, or use a plain integer type"),
            );
        }
    }

    if let Some(r) = &rc.references {
        if !(r.value.split('.').count() == 2 || r.value.split('.').count() == 3)
            || r.value.split('.').any(|p| p.is_empty())
        {
            diags.push(
                Diagnostic::at(source, r.span.clone(), format!("`references = \"{}\"` is not `table.column` or `domain.table.column`", r.value))
                    .with_help("write `references = \"customers.id\"` for a table of this domain, or `references = \"public.users.id\"` for another domain"),
            );
        }
    }

    if diags.len() != before {
        return None;
    }
    Some(Column {
        name: name.clone(),
        field: field.to_string(),
        ty,
        nullable,
        default: default.map(|(d, _)| d),
        identity,
        rust_type,
        primary_key,
    })
}

fn resolve_type(
    source: &SourceFile,
    raw: &Sp<String>,
    domain: &str,
    domains: &BTreeMap<String, DomainState>,
    enums: &BTreeMap<(String, String), DeclaredEnum<'_>>,
    has_rust_type: bool,
    diags: &mut Diagnostics,
) -> Option<ColumnType> {
    let text = types::normalize(&raw.value);
    let (element, array) = match text.strip_suffix("[]") {
        Some(e) if !e.trim_end().ends_with("[]") => (e.trim_end(), true),
        _ => (text.as_str(), false),
    };
    let wrap = |t: ColumnType| {
        if array {
            ColumnType::Array(Box::new(t))
        } else {
            t
        }
    };
    let unknown_name = match types::parse_builtin(&text) {
        Ok(ty) => return Some(ty),
        Err(TypeError::Invalid { message, help }) => {
            diags.push(Diagnostic::at(source, raw.span.clone(), message).with_help(help));
            return None;
        }
        Err(TypeError::Unknown { name }) => name,
    };
    let custom = || has_rust_type.then(|| ColumnType::Custom(text.clone()));

    if let Some((enum_domain, enum_name)) = element.split_once('.') {
        let Some(state) = domains.get(enum_domain) else {
            return custom().or_else(|| {
                diags.push(
                    Diagnostic::at(source, raw.span.clone(), format!("type `{element}` names domain `{enum_domain}`, which has no definitions"))
                        .with_help(format!(
                            "qualified enum types are `domain.enum`; known domains: {}",
                            domains.keys().cloned().collect::<Vec<_>>().join(", ")
                        )),
                );
                None
            });
        };
        if let Some(e) = enums.get(&(enum_domain.to_string(), enum_name.to_string())) {
            if state.kind == DomainKind::PerTenant && enum_domain != domain {
                diags.push(
                    Diagnostic::at(source, raw.span.clone(), format!(
                        "enum `{element}` belongs to per-tenant domain `{enum_domain}` and cannot be used from domain `{domain}`"
                    ))
                    .with_help("a per-tenant type exists once per tenant schema; declare the enum in this domain or in `public`"),
                );
                return None;
            }
            return Some(wrap(ColumnType::Enum {
                domain: enum_domain.to_string(),
                name: e.value.name.clone(),
            }));
        }
        if state.tainted {
            return None;
        }
        return custom().or_else(|| {
            diags.push(undeclared_enum(source, raw, enum_name, enum_domain, enums));
            None
        });
    }

    if let Some(e) = enums.get(&(domain.to_string(), element.to_string())) {
        return Some(wrap(ColumnType::Enum {
            domain: domain.to_string(),
            name: e.value.name.clone(),
        }));
    }
    if let Some(ty) = custom() {
        return Some(ty);
    }
    if let Some(builtin) = TypeError::suggestion(element) {
        diags.push(
            Diagnostic::at(source, raw.span.clone(), format!("unknown type `{unknown_name}`"))
                .with_help(format!(
                    "did you mean `{builtin}{}`? supported types: {}; for any other SQL type add `rust_type = \"path::Type\"`",
                    if array { "[]" } else { "" },
                    types::SUPPORTED
                )),
        );
        return None;
    }
    if domains.get(domain).is_some_and(|d| d.tainted) {
        return None;
    }
    diags.push(undeclared_enum(source, raw, element, domain, enums));
    None
}

fn undeclared_enum(
    source: &SourceFile,
    raw: &Sp<String>,
    name: &str,
    domain: &str,
    enums: &BTreeMap<(String, String), DeclaredEnum<'_>>,
) -> Diagnostic {
    let declared: Vec<&str> = enums
        .keys()
        .filter(|(d, _)| d == domain)
        .map(|(_, n)| n.as_str())
        .collect();
    let mut help = match did_you_mean(name, declared.iter().copied()) {
        Some(close) => format!("did you mean enum `{close}`? "),
        None => String::new(),
    };
    help.push_str(&format!(
        "declare it in any file of domain `{domain}`:\n[enums]\n{name} = [\"first\", \"second\"]\n\
         or use a supported type: {}; for any other SQL type add `rust_type = \"path::Type\"`",
        types::SUPPORTED
    ));
    Diagnostic::at(
        source,
        raw.span.clone(),
        format!("unknown type `{name}`: no enum `{name}` is declared in domain `{domain}`, and it is not a supported SQL type"),
    )
    .with_help(help)
}

fn resolve_references(
    drafts: &mut [Draft<'_>],
    domains: &BTreeMap<String, DomainState>,
    diags: &mut Diagnostics,
) {
    let mut resolved: Vec<(usize, ForeignKey)> = Vec::new();
    for (i, draft) in drafts.iter().enumerate() {
        let source = &draft.file.source;
        let domain = draft.file.domain.as_str();
        for r in &draft.references {
            let parts: Vec<&str> = r.target.value.split('.').collect();
            let (target_domain, target_table, target_column) = match parts[..] {
                [t, c] => (domain, t, c),
                [d, t, c] => (d, t, c),
                _ => continue, // reported by build_column
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

/// Model and enum names end up side by side in `mod.rs`, so they are unique project-wide.
fn check_rust_names(
    drafts: &[&Draft<'_>],
    enums: &BTreeMap<(String, String), DeclaredEnum<'_>>,
    diags: &mut Diagnostics,
) {
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
            at_or_file(&second.file.source, second.span.clone(), format!(
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
fn check_index_names(drafts: &[Draft<'_>], diags: &mut Diagnostics) {
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
