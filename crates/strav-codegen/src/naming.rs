//! Names: table → model, label → variant, column → field, and SQL identifier quoting.

use std::borrow::Cow;

use heck::ToUpperCamelCase;

/// Plurals that Inflector gets wrong (or that it leaves alone but should not), and
/// words that must stay as they are. Checked on the last `_`-separated word only.
const IRREGULAR: &[(&str, &str)] = &[
    ("people", "person"),
    ("men", "man"),
    ("women", "woman"),
    ("children", "child"),
    ("teeth", "tooth"),
    ("feet", "foot"),
    ("geese", "goose"),
    ("data", "datum"),
    ("media", "medium"),
    ("criteria", "criterion"),
    ("phenomena", "phenomenon"),
    ("metadata", "metadata"),
    ("statuses", "status"),
    ("aliases", "alias"),
    ("news", "news"),
    ("series", "series"),
    ("species", "species"),
    ("equipment", "equipment"),
    ("information", "information"),
];

/// The singular of a snake_case table name; only the last word changes
/// (`order_items` → `order_item`, `sales_people` → `sales_person`).
pub fn singular(table: &str) -> String {
    let (head, last) = match table.rfind('_') {
        Some(i) => (&table[..=i], &table[i + 1..]),
        None => ("", table),
    };
    if last.is_empty() {
        return table.to_string();
    }
    let single = match IRREGULAR.iter().find(|(plural, _)| *plural == last) {
        Some((_, single)) => (*single).to_string(),
        None => inflector::string::singularize::to_singular(last),
    };
    format!("{head}{single}")
}

/// `order_items` → `OrderItem`: PascalCase of the singular table name.
pub fn model_base_name(table: &str) -> String {
    pascal(&singular(table))
}

/// PascalCase as heck spells it (`order_status` → `OrderStatus`).
pub fn pascal(name: &str) -> String {
    name.to_upper_camel_case()
}

/// The model prefix of a domain when `config/generators.toml` does not set one:
/// `public` has none, every other domain PascalCase(domain).
pub fn default_prefix(domain: &str) -> String {
    if domain == "public" {
        String::new()
    } else {
        pascal(domain)
    }
}

/// The variant name of an enum label: PascalCase, `V` in front when it would start with
/// a digit; `None` when the label has no letter or digit at all.
pub fn variant_name(label: &str) -> Option<String> {
    let name = pascal(label);
    if name.is_empty() {
        return None;
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(format!("V{name}"));
    }
    if name == "Self" {
        return Some("Self_".to_string());
    }
    Some(name)
}

/// Rust keywords of every edition (strict, reserved and 2024's `gen`).
const RUST_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers either.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super", "_"];

pub fn is_rust_keyword(name: &str) -> bool {
    RUST_KEYWORDS.contains(&name)
}

/// The Rust identifier for a column or module name: the name itself, `r#name` for a
/// keyword, `name_` for the few keywords that cannot be raw (`self`, `super`, `crate`, `_`).
pub fn rust_ident(name: &str) -> String {
    if NOT_RAW.contains(&name) {
        format!("{name}_")
    } else if is_rust_keyword(name) {
        format!("r#{name}")
    } else {
        name.to_string()
    }
}

/// PostgreSQL keywords that cannot be used as a column or table name unquoted: the
/// "reserved" and "reserved (can be function or type)" ones, and the "non-reserved
/// (cannot be function or type)" ones that still break some positions. Quoting a word
/// that did not need it is harmless; missing one is a syntax error, so the list errs wide.
const SQL_RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "json",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

pub fn is_sql_reserved(name: &str) -> bool {
    SQL_RESERVED.binary_search(&name).is_ok()
}

/// An identifier as it must appear in SQL: as is when it is a plain lower-case name and
/// not reserved, else double-quoted (`order` → `"order"`, `Weird"Name` → `"Weird""Name"`).
pub fn quote_sql_ident(name: &str) -> Cow<'_, str> {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if plain && !is_sql_reserved(name) {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(format!("\"{}\"", name.replace('"', "\"\"")))
    }
}

/// Table, column, enum and domain names: lower-case snake_case identifiers of at most 63
/// bytes (PostgreSQL truncates longer names silently).
pub fn is_snake_identifier(name: &str) -> bool {
    name.len() <= 63
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A model name or prefix: an ASCII PascalCase identifier (empty allowed for prefixes).
pub fn is_pascal_identifier(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_list_is_sorted_for_binary_search() {
        let mut sorted = SQL_RESERVED.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, SQL_RESERVED);
    }

    #[test]
    fn irregular_plurals() {
        for (table, model) in [
            ("people", "Person"),
            ("categories", "Category"),
            ("statuses", "Status"),
            ("addresses", "Address"),
            ("data", "Datum"),
            ("media", "Medium"),
            ("children", "Child"),
            ("news", "News"),
            ("series", "Series"),
            ("users", "User"),
            ("order_items", "OrderItem"),
            ("sales_people", "SalesPerson"),
            ("production", "Production"),
            ("status", "Status"),
            ("analyses", "Analysis"),
            ("boxes", "Box"),
            ("companies", "Company"),
        ] {
            assert_eq!(model_base_name(table), model, "table {table}");
        }
    }

    #[test]
    fn keywords_become_raw_or_suffixed() {
        assert_eq!(rust_ident("type"), "r#type");
        assert_eq!(rust_ident("match"), "r#match");
        assert_eq!(rust_ident("async"), "r#async");
        assert_eq!(rust_ident("gen"), "r#gen");
        assert_eq!(rust_ident("self"), "self_");
        assert_eq!(rust_ident("super"), "super_");
        assert_eq!(rust_ident("crate"), "crate_");
        assert_eq!(rust_ident("_"), "__");
        assert_eq!(rust_ident("union"), "union");
        assert_eq!(rust_ident("name"), "name");
    }

    #[test]
    fn sql_reserved_words_are_quoted() {
        assert_eq!(quote_sql_ident("order"), "\"order\"");
        assert_eq!(quote_sql_ident("user"), "\"user\"");
        assert_eq!(quote_sql_ident("group"), "\"group\"");
        assert_eq!(quote_sql_ident("orders"), "orders");
        assert_eq!(quote_sql_ident("type"), "type");
        assert_eq!(quote_sql_ident("Mixed"), "\"Mixed\"");
        assert_eq!(quote_sql_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn variants() {
        assert_eq!(variant_name("pending").as_deref(), Some("Pending"));
        assert_eq!(variant_name("in_progress").as_deref(), Some("InProgress"));
        assert_eq!(variant_name("In Progress").as_deref(), Some("InProgress"));
        assert_eq!(variant_name("on-hold").as_deref(), Some("OnHold"));
        assert_eq!(variant_name("2fa").as_deref(), Some("V2fa"));
        assert_eq!(variant_name("self").as_deref(), Some("Self_"));
        assert_eq!(variant_name("!!!"), None);
    }

    #[test]
    fn prefixes() {
        assert_eq!(default_prefix("public"), "");
        assert_eq!(default_prefix("tenant"), "Tenant");
        assert_eq!(default_prefix("field_service"), "FieldService");
    }
}
