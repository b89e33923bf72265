//! A definition file, and reading it into raw, spanned values.
//!
//! The file is parsed by `toml`'s spanned document parser rather than deserialized with
//! serde: serde stops at the first problem, and the issue wants every problem of a run.
//! This module checks the *shape* (known keys, value kinds); meaning (types, references,
//! names) is checked in `validate`.

use std::ops::Range;
use std::path::PathBuf;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, SourceFile};

/// A definition file: `<domain>/<table>.toml` under the schemas directory.
#[derive(Clone, Debug)]
pub struct DefinitionFile {
    /// The directory name under the schemas directory.
    pub domain: String,
    /// `<domain>/<stem>.toml`, relative to the schemas directory; names the file in
    /// generated headers, so output does not depend on where the project is checked out.
    pub relative: PathBuf,
    /// The text; its path is what diagnostics print.
    pub source: SourceFile,
}

impl DefinitionFile {
    /// The file stem: the table name unless the file sets `table = "..."`.
    pub fn stem(&self) -> &str {
        self.relative
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
    }
}

/// A value and the bytes of the file it came from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sp<T> {
    pub value: T,
    pub span: Range<usize>,
}

impl<T> Sp<T> {
    fn new(value: T, span: Range<usize>) -> Self {
        Sp { value, span }
    }
}

#[derive(Debug, Default)]
pub(crate) struct RawDefinition {
    pub table: Option<Sp<String>>,
    pub model: Option<Sp<String>>,
    pub timestamps: Option<Sp<bool>>,
    pub primary_key: Option<Sp<Vec<Sp<String>>>>,
    /// Span of the `columns` key, when present.
    pub columns_key: Option<Range<usize>>,
    /// In declaration order.
    pub columns: Vec<RawColumn>,
    pub indexes: Vec<RawIndex>,
    pub uniques: Vec<RawIndex>,
    pub enums: Vec<RawEnum>,
}

#[derive(Debug)]
pub(crate) struct RawColumn {
    pub name: Sp<String>,
    pub ty: Option<Sp<String>>,
    pub nullable: Option<Sp<bool>>,
    pub primary_key: Option<Sp<bool>>,
    pub unique: Option<Sp<bool>>,
    pub default: Option<Sp<RawValue>>,
    pub default_sql: Option<Sp<String>>,
    pub references: Option<Sp<String>>,
    pub on_delete: Option<Sp<String>>,
    pub on_update: Option<Sp<String>>,
    pub identity: Option<Sp<RawValue>>,
    pub rust_type: Option<Sp<String>>,
}

/// `[[indexes]]` and `[[uniques]]` entries (`using` only for indexes).
#[derive(Debug)]
pub(crate) struct RawIndex {
    pub span: Range<usize>,
    /// `columns` was written (even if with a wrong kind, already reported).
    pub columns_given: bool,
    pub columns: Option<Sp<Vec<Sp<String>>>>,
    pub name: Option<Sp<String>>,
    pub using: Option<Sp<String>>,
}

#[derive(Debug)]
pub(crate) struct RawEnum {
    pub name: Sp<String>,
    pub labels: Sp<Vec<Sp<String>>>,
}

/// A TOML value kept for `default` and `identity`, whose meaning depends on the column.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RawValue {
    Bool(bool),
    /// `None` when it does not fit an i64.
    Integer(Option<i64>),
    /// As written.
    Float(String),
    String(String),
    Datetime(toml::value::Datetime),
    Array(Vec<Sp<RawValue>>),
    Table,
}

impl RawValue {
    pub fn kind(&self) -> &'static str {
        match self {
            RawValue::Bool(_) => "a boolean",
            RawValue::Integer(_) => "an integer",
            RawValue::Float(_) => "a float",
            RawValue::String(_) => "a string",
            RawValue::Datetime(_) => "a date/time",
            RawValue::Array(_) => "an array",
            RawValue::Table => "a table",
        }
    }
}

const TOP_KEYS: &[&str] = &[
    "table",
    "model",
    "timestamps",
    "primary_key",
    "columns",
    "indexes",
    "uniques",
    "enums",
];
const COLUMN_KEYS: &[&str] = &[
    "type",
    "nullable",
    "primary_key",
    "unique",
    "default",
    "default_sql",
    "references",
    "on_delete",
    "on_update",
    "identity",
    "rust_type",
];
const INDEX_KEYS: &[&str] = &["columns", "name", "using"];
const UNIQUE_KEYS: &[&str] = &["columns", "name"];

/// Parses one definition file. `None` when it is not valid TOML (the syntax errors are
/// reported); otherwise the raw definition, with shape errors reported and the offending
/// entries left out.
pub(crate) fn parse(file: &SourceFile, diags: &mut Diagnostics) -> Option<RawDefinition> {
    let root = parse_toml(file, diags)?;
    let mut r = Reader { file, diags };
    let mut def = RawDefinition::default();
    for (key, value) in entries(root.get_ref()) {
        match key.get_ref().as_ref() {
            "table" => def.table = r.string(key, value),
            "model" => def.model = r.string(key, value),
            "timestamps" => def.timestamps = r.bool(key, value),
            "primary_key" => def.primary_key = r.string_list(key, value),
            "columns" => {
                def.columns_key = Some(key.span());
                if let Some(table) = r.table(key, value) {
                    for (name, value) in entries(table) {
                        if let Some(column) = r.column(name, value) {
                            def.columns.push(column);
                        }
                    }
                }
            }
            "indexes" => def.indexes = r.index_list(key, value, INDEX_KEYS),
            "uniques" => def.uniques = r.index_list(key, value, UNIQUE_KEYS),
            "enums" => {
                if let Some(table) = r.table(key, value) {
                    for (name, value) in entries(table) {
                        if let Some(labels) = r.string_list(name, value) {
                            def.enums.push(RawEnum {
                                name: Sp::new(name.get_ref().to_string(), name.span()),
                                labels,
                            });
                        }
                    }
                }
            }
            _ => r.unknown_key(key, "a definition file", TOP_KEYS),
        }
    }
    Some(def)
}

/// Parses TOML, reporting every syntax error; `None` if there was any.
pub(crate) fn parse_toml<'i>(
    file: &'i SourceFile,
    diags: &mut Diagnostics,
) -> Option<Spanned<DeTable<'i>>> {
    let (root, errors) = DeTable::parse_recoverable(file.text());
    if errors.is_empty() {
        return Some(root);
    }
    for error in errors {
        let span = error.span().unwrap_or(0..0);
        let message = error.message().trim_end().to_string();
        let diagnostic = if message == "duplicate key" {
            let key = file.text().get(span.clone()).unwrap_or("").trim();
            Diagnostic::at(file, span, format!("duplicate key {key}"))
                .with_help("each key, and so each column, may be given only once; rename or remove one of them")
        } else {
            Diagnostic::at(file, span, format!("invalid TOML: {message}"))
                .with_help("see https://toml.io for the syntax; values are written `key = value`, tables `[name]`")
        };
        diags.push(diagnostic);
    }
    None
}

/// Entries of a table in the order they appear in the file. `toml` keeps tables sorted by
/// key; the key spans give back the declaration order that struct fields must follow.
pub(crate) fn entries<'t, 'i>(
    table: &'t DeTable<'i>,
) -> Vec<(
    &'t Spanned<std::borrow::Cow<'i, str>>,
    &'t Spanned<DeValue<'i>>,
)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

pub(crate) fn kind(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date/time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

pub(crate) struct Reader<'a> {
    pub file: &'a SourceFile,
    pub diags: &'a mut Diagnostics,
}

type Key<'i> = Spanned<std::borrow::Cow<'i, str>>;

impl Reader<'_> {
    fn wrong_kind(
        &mut self,
        key: &Key<'_>,
        value: &Spanned<DeValue<'_>>,
        expected: &str,
        example: &str,
    ) {
        self.diags.push(
            Diagnostic::at(
                self.file,
                value.span(),
                format!(
                    "`{}` must be {expected}, found {}",
                    key.get_ref(),
                    kind(value.get_ref())
                ),
            )
            .with_help(format!("write it like `{} = {example}`", key.get_ref())),
        );
    }

    pub fn unknown_key(&mut self, key: &Key<'_>, context: &str, known: &[&str]) {
        let name = key.get_ref();
        let help = match did_you_mean(name, known.iter().copied()) {
            Some(m) => format!("did you mean `{m}`? known keys: {}", known.join(", ")),
            None => format!("known keys: {}", known.join(", ")),
        };
        self.diags.push(
            Diagnostic::at(
                self.file,
                key.span(),
                format!("unknown key `{name}` in {context}"),
            )
            .with_help(help),
        );
    }

    pub fn string(&mut self, key: &Key<'_>, value: &Spanned<DeValue<'_>>) -> Option<Sp<String>> {
        match value.get_ref() {
            DeValue::String(s) => Some(Sp::new(s.to_string(), value.span())),
            _ => {
                self.wrong_kind(key, value, "a string", "\"...\"");
                None
            }
        }
    }

    pub fn bool(&mut self, key: &Key<'_>, value: &Spanned<DeValue<'_>>) -> Option<Sp<bool>> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(Sp::new(*b, value.span())),
            DeValue::String(s) if s == "true" || s == "false" => {
                self.diags.push(
                    Diagnostic::at(
                        self.file,
                        value.span(),
                        format!(
                            "`{}` must be a boolean, found the string \"{s}\"",
                            key.get_ref()
                        ),
                    )
                    .with_help(format!("drop the quotes: `{} = {s}`", key.get_ref())),
                );
                None
            }
            _ => {
                self.wrong_kind(key, value, "a boolean", "true");
                None
            }
        }
    }

    pub fn table<'t, 'i>(
        &mut self,
        key: &Key<'_>,
        value: &'t Spanned<DeValue<'i>>,
    ) -> Option<&'t DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.wrong_kind(key, value, "a table", "{ ... }` or a `[section]");
                None
            }
        }
    }

    pub fn string_list(
        &mut self,
        key: &Key<'_>,
        value: &Spanned<DeValue<'_>>,
    ) -> Option<Sp<Vec<Sp<String>>>> {
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_kind(key, value, "an array of strings", "[\"a\", \"b\"]");
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push(Sp::new(s.to_string(), item.span())),
                other => {
                    ok = false;
                    self.diags.push(
                        Diagnostic::at(
                            self.file,
                            item.span(),
                            format!(
                                "`{}` must be an array of strings, found {} in it",
                                key.get_ref(),
                                kind(other)
                            ),
                        )
                        .with_help("quote every element: [\"a\", \"b\"]"),
                    );
                }
            }
        }
        ok.then(|| Sp::new(out, value.span()))
    }

    fn raw_value(value: &Spanned<DeValue<'_>>) -> Sp<RawValue> {
        let raw = match value.get_ref() {
            DeValue::Boolean(b) => RawValue::Bool(*b),
            DeValue::Integer(i) => {
                RawValue::Integer(i64::from_str_radix(i.as_str(), i.radix()).ok())
            }
            DeValue::Float(f) => RawValue::Float(f.as_str().to_string()),
            DeValue::String(s) => RawValue::String(s.to_string()),
            DeValue::Datetime(d) => RawValue::Datetime(*d),
            DeValue::Array(items) => RawValue::Array(items.iter().map(Self::raw_value).collect()),
            DeValue::Table(_) => RawValue::Table,
        };
        Sp::new(raw, value.span())
    }

    fn column(&mut self, name: &Key<'_>, value: &Spanned<DeValue<'_>>) -> Option<RawColumn> {
        let mut column = RawColumn {
            name: Sp::new(name.get_ref().to_string(), name.span()),
            ty: None,
            nullable: None,
            primary_key: None,
            unique: None,
            default: None,
            default_sql: None,
            references: None,
            on_delete: None,
            on_update: None,
            identity: None,
            rust_type: None,
        };
        let table = match value.get_ref() {
            // `name = "text"` is short for `name = { type = "text" }`.
            DeValue::String(s) => {
                column.ty = Some(Sp::new(s.to_string(), value.span()));
                return Some(column);
            }
            DeValue::Table(t) => t,
            other => {
                self.diags.push(
                    Diagnostic::at(
                        self.file,
                        value.span(),
                        format!(
                            "column `{}` must be a table or a type name, found {}",
                            name.get_ref(),
                            kind(other)
                        ),
                    )
                    .with_help(format!(
                        "write `{} = {{ type = \"text\" }}` or `{} = \"text\"`",
                        name.get_ref(),
                        name.get_ref()
                    )),
                );
                return None;
            }
        };
        let context = format!("column `{}`", name.get_ref());
        for (key, value) in entries(table) {
            match key.get_ref().as_ref() {
                "type" => column.ty = self.string(key, value),
                "nullable" => column.nullable = self.bool(key, value),
                "primary_key" => column.primary_key = self.bool(key, value),
                "unique" => column.unique = self.bool(key, value),
                "default" => column.default = Some(Self::raw_value(value)),
                "default_sql" => column.default_sql = self.string(key, value),
                "references" => column.references = self.string(key, value),
                "on_delete" => column.on_delete = self.string(key, value),
                "on_update" => column.on_update = self.string(key, value),
                "identity" => column.identity = Some(Self::raw_value(value)),
                "rust_type" => column.rust_type = self.string(key, value),
                _ => self.unknown_key(key, &context, COLUMN_KEYS),
            }
        }
        if column.ty.is_none() && !table.iter().any(|(k, _)| k.get_ref() == "type") {
            self.diags.push(
                Diagnostic::at(
                    self.file,
                    name.span(),
                    format!("column `{}` has no `type`", name.get_ref()),
                )
                .with_help(format!(
                    "add one, such as `{} = {{ type = \"text\" }}`",
                    name.get_ref()
                )),
            );
        }
        Some(column)
    }

    fn index_list(
        &mut self,
        key: &Key<'_>,
        value: &Spanned<DeValue<'_>>,
        known: &[&str],
    ) -> Vec<RawIndex> {
        let what = key.get_ref().to_string();
        let DeValue::Array(items) = value.get_ref() else {
            self.diags.push(
                Diagnostic::at(
                    self.file,
                    value.span(),
                    format!(
                        "`{what}` must be an array of tables, found {}",
                        kind(value.get_ref())
                    ),
                )
                .with_help(format!(
                    "write `[[{what}]]` followed by `columns = [\"a\", \"b\"]`"
                )),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            let DeValue::Table(table) = item.get_ref() else {
                self.diags.push(
                    Diagnostic::at(
                        self.file,
                        item.span(),
                        format!(
                            "each entry of `{what}` must be a table, found {}",
                            kind(item.get_ref())
                        ),
                    )
                    .with_help(format!(
                        "write `[[{what}]]` followed by `columns = [\"a\", \"b\"]`"
                    )),
                );
                continue;
            };
            let mut index = RawIndex {
                span: item.span(),
                columns_given: table.iter().any(|(k, _)| k.get_ref() == "columns"),
                columns: None,
                name: None,
                using: None,
            };
            let context = format!("an entry of `{what}`");
            for (k, v) in entries(table) {
                match k.get_ref().as_ref() {
                    "columns" => index.columns = self.string_list(k, v),
                    "name" => index.name = self.string(k, v),
                    "using" if known.contains(&"using") => index.using = self.string(k, v),
                    _ => self.unknown_key(k, &context, known),
                }
            }
            out.push(index);
        }
        out
    }
}
