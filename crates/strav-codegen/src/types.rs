//! SQL column types: parsing the spellings a user writes into one canonical form. The
//! Rust type each maps to is the business of `emit`, which writes Rust.

use std::fmt;

/// A column type in canonical form. `Display` prints the spelling PostgreSQL's
/// `format_type` uses (`timestamp with time zone`, `character varying(80)`,
/// `numeric(12,2)`), so a catalog compares directly with an introspected database.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ColumnType {
    SmallInt,
    Integer,
    BigInt,
    SmallSerial,
    Serial,
    BigSerial,
    Real,
    DoublePrecision,
    Numeric {
        precision: Option<u32>,
        scale: Option<u32>,
    },
    Boolean,
    Text,
    Varchar(Option<u32>),
    /// `char` without a length is `character(1)` in PostgreSQL.
    Char(u32),
    Uuid,
    Timestamptz,
    Timestamp,
    Date,
    Time,
    Json,
    Jsonb,
    Bytea,
    /// One-dimensional array of a non-serial, non-array type.
    Array(Box<ColumnType>),
    /// An enum declared under `[enums]` in some file of `domain`.
    Enum {
        domain: String,
        name: String,
    },
    /// Any other SQL type, allowed only together with `rust_type`; kept as written,
    /// lower-cased, with whitespace collapsed.
    Custom(String),
}

/// What the user can write, for error messages.
pub const SUPPORTED: &str = "smallint, integer, bigint, smallserial, serial, bigserial, real, \
double precision, numeric[(p[,s])], boolean, text, varchar[(n)], char[(n)], uuid, timestamptz, \
timestamp, date, time, json, jsonb, bytea, T[] of any of these, or an enum declared under [enums]";

/// Common spellings from other languages and what PostgreSQL calls them.
const LOOKALIKES: &[(&str, &str)] = &[
    ("string", "text"),
    ("str", "text"),
    ("int32", "integer"),
    ("i32", "integer"),
    ("int64", "bigint"),
    ("i64", "bigint"),
    ("long", "bigint"),
    ("int16", "smallint"),
    ("i16", "smallint"),
    ("double", "double precision"),
    ("f64", "double precision"),
    ("f32", "real"),
    ("datetime", "timestamptz"),
    ("timestamp with timezone", "timestamptz"),
    ("bytes", "bytea"),
    ("blob", "bytea"),
    ("binary", "bytea"),
    ("guid", "uuid"),
    ("decimal", "numeric"),
];

const BUILTIN_NAMES: &[&str] = &[
    "smallint",
    "integer",
    "bigint",
    "smallserial",
    "serial",
    "bigserial",
    "real",
    "double precision",
    "numeric",
    "boolean",
    "text",
    "varchar",
    "char",
    "uuid",
    "timestamptz",
    "timestamp",
    "date",
    "time",
    "json",
    "jsonb",
    "bytea",
];

/// Why a type string is not a supported type.
#[derive(Debug, PartialEq, Eq)]
pub enum TypeError {
    /// Not a built-in type; `name` may still be an enum (the caller checks).
    Unknown { name: String },
    /// Built-in name with bad modifiers, such as `varchar(0)` or `serial[]`.
    Invalid { message: String, help: String },
}

impl TypeError {
    /// The built-in the user probably meant, for `Unknown`.
    pub fn suggestion(name: &str) -> Option<&'static str> {
        let lower = name.to_ascii_lowercase();
        if let Some((_, to)) = LOOKALIKES.iter().find(|(from, _)| *from == lower) {
            return Some(to);
        }
        let close = crate::diagnostics::did_you_mean(
            &lower,
            BUILTIN_NAMES
                .iter()
                .copied()
                .chain(LOOKALIKES.iter().map(|(from, _)| *from)),
        )?;
        Some(
            LOOKALIKES
                .iter()
                .find(|(from, _)| *from == close)
                .map_or(close, |(_, to)| to),
        )
    }
}

/// Normalizes case and whitespace: `Timestamp  With Time Zone` → `timestamp with time zone`.
pub fn normalize(spelling: &str) -> String {
    let lower = spelling.trim().to_ascii_lowercase();
    let collapsed = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(", ", ",")
}

/// Parses a built-in type; enum names come back as [`TypeError::Unknown`] for the
/// caller to resolve against the declared enums.
pub fn parse_builtin(spelling: &str) -> Result<ColumnType, TypeError> {
    let text = normalize(spelling);
    if let Some(element) = text.strip_suffix("[]") {
        let element = element.trim_end();
        if element.ends_with("[]") {
            return Err(TypeError::Invalid {
                message: format!("multi-dimensional array type `{text}` is not supported"),
                help: "use a one-dimensional array such as `text[]`, or `jsonb` for nested data"
                    .into(),
            });
        }
        let inner = parse_builtin(element)?;
        if matches!(
            inner,
            ColumnType::SmallSerial | ColumnType::Serial | ColumnType::BigSerial
        ) {
            return Err(TypeError::Invalid {
                message: format!("`{text}` is not a type: serial types cannot be array elements"),
                help: format!(
                    "use `{}[]`",
                    match inner {
                        ColumnType::SmallSerial => "smallint",
                        ColumnType::Serial => "integer",
                        _ => "bigint",
                    }
                ),
            });
        }
        return Ok(ColumnType::Array(Box::new(inner)));
    }
    let (base, args) = match text.split_once('(') {
        Some((base, rest)) => match rest.strip_suffix(')') {
            Some(args) => (base.trim_end(), Some(args)),
            None => {
                return Err(TypeError::Invalid {
                    message: format!("`{text}` has an unclosed `(`"),
                    help: "write modifiers as `varchar(80)` or `numeric(12,2)`".into(),
                })
            }
        },
        None => (text.as_str(), None),
    };
    let ty = match base {
        "smallint" | "int2" => ColumnType::SmallInt,
        "integer" | "int" | "int4" => ColumnType::Integer,
        "bigint" | "int8" => ColumnType::BigInt,
        "smallserial" | "serial2" => ColumnType::SmallSerial,
        "serial" | "serial4" => ColumnType::Serial,
        "bigserial" | "serial8" => ColumnType::BigSerial,
        "real" | "float4" => ColumnType::Real,
        "double precision" | "float8" | "float" => ColumnType::DoublePrecision,
        "numeric" | "decimal" => {
            let (precision, scale) = match args {
                None => (None, None),
                Some(args) => {
                    let mut parts = args.split(',');
                    let p = parts.next().and_then(|p| p.trim().parse::<u32>().ok());
                    let s = parts.next().map(|s| s.trim().parse::<u32>().ok());
                    match (p, s, parts.next()) {
                        (Some(p), None, None) if (1..=1000).contains(&p) => (Some(p), None),
                        (Some(p), Some(Some(s)), None) if (1..=1000).contains(&p) && s <= p => {
                            (Some(p), Some(s))
                        }
                        _ => {
                            return Err(TypeError::Invalid {
                                message: format!("`{text}` has invalid precision or scale"),
                                help: "write `numeric`, `numeric(p)` or `numeric(p,s)` with \
                                       1 <= p <= 1000 and 0 <= s <= p"
                                    .into(),
                            })
                        }
                    }
                }
            };
            return Ok(ColumnType::Numeric { precision, scale });
        }
        "boolean" | "bool" => ColumnType::Boolean,
        "text" => ColumnType::Text,
        "varchar" | "character varying" => {
            return match args {
                None => Ok(ColumnType::Varchar(None)),
                Some(n) => length(&text, n).map(|n| ColumnType::Varchar(Some(n))),
            }
        }
        "char" | "character" => {
            return match args {
                None => Ok(ColumnType::Char(1)),
                Some(n) => length(&text, n).map(ColumnType::Char),
            }
        }
        "uuid" => ColumnType::Uuid,
        "timestamptz" | "timestamp with time zone" => ColumnType::Timestamptz,
        "timestamp" | "timestamp without time zone" => ColumnType::Timestamp,
        "date" => ColumnType::Date,
        "time" | "time without time zone" => ColumnType::Time,
        "json" => ColumnType::Json,
        "jsonb" => ColumnType::Jsonb,
        "bytea" => ColumnType::Bytea,
        _ => return Err(TypeError::Unknown { name: text }),
    };
    match args {
        None => Ok(ty),
        Some(_) => Err(TypeError::Invalid {
            message: format!("type `{base}` takes no modifiers, found `{text}`"),
            help: format!("write `{ty}`"),
        }),
    }
}

fn length(text: &str, n: &str) -> Result<u32, TypeError> {
    match n.trim().parse::<u32>() {
        Ok(n) if (1..=10_485_760).contains(&n) => Ok(n),
        _ => Err(TypeError::Invalid {
            message: format!("`{text}` has an invalid length"),
            help: "the length is a whole number from 1 to 10485760, as in `varchar(80)`".into(),
        }),
    }
}

impl ColumnType {
    /// Generated by a sequence (`serial` and friends).
    pub fn is_serial(&self) -> bool {
        matches!(
            self,
            ColumnType::SmallSerial | ColumnType::Serial | ColumnType::BigSerial
        )
    }

    /// The type a foreign key to a column of this type must have
    /// (`bigserial` is referenced by `bigint`).
    pub fn referencing_type(&self) -> ColumnType {
        match self {
            ColumnType::SmallSerial => ColumnType::SmallInt,
            ColumnType::Serial => ColumnType::Integer,
            ColumnType::BigSerial => ColumnType::BigInt,
            other => other.clone(),
        }
    }

    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            ColumnType::SmallInt
                | ColumnType::Integer
                | ColumnType::BigInt
                | ColumnType::SmallSerial
                | ColumnType::Serial
                | ColumnType::BigSerial
        )
    }

    /// The SQL spelling as seen from a table of `domain`: enums of another domain are
    /// qualified with their schema (`public.user_role`), since that schema need not be on
    /// the search path.
    pub fn sql_from(&self, domain: &str) -> String {
        match self {
            ColumnType::Enum { domain: d, name } if d != domain => format!("{d}.{name}"),
            ColumnType::Array(inner) => format!("{}[]", inner.sql_from(domain)),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::SmallInt => f.write_str("smallint"),
            ColumnType::Integer => f.write_str("integer"),
            ColumnType::BigInt => f.write_str("bigint"),
            ColumnType::SmallSerial => f.write_str("smallserial"),
            ColumnType::Serial => f.write_str("serial"),
            ColumnType::BigSerial => f.write_str("bigserial"),
            ColumnType::Real => f.write_str("real"),
            ColumnType::DoublePrecision => f.write_str("double precision"),
            ColumnType::Numeric {
                precision: None, ..
            } => f.write_str("numeric"),
            ColumnType::Numeric {
                precision: Some(p),
                scale: None,
            } => write!(f, "numeric({p})"),
            ColumnType::Numeric {
                precision: Some(p),
                scale: Some(s),
            } => write!(f, "numeric({p},{s})"),
            ColumnType::Boolean => f.write_str("boolean"),
            ColumnType::Text => f.write_str("text"),
            ColumnType::Varchar(None) => f.write_str("character varying"),
            ColumnType::Varchar(Some(n)) => write!(f, "character varying({n})"),
            ColumnType::Char(n) => write!(f, "character({n})"),
            ColumnType::Uuid => f.write_str("uuid"),
            ColumnType::Timestamptz => f.write_str("timestamp with time zone"),
            ColumnType::Timestamp => f.write_str("timestamp without time zone"),
            ColumnType::Date => f.write_str("date"),
            ColumnType::Time => f.write_str("time without time zone"),
            ColumnType::Json => f.write_str("json"),
            ColumnType::Jsonb => f.write_str("jsonb"),
            ColumnType::Bytea => f.write_str("bytea"),
            ColumnType::Array(inner) => write!(f, "{inner}[]"),
            ColumnType::Enum { name, .. } => f.write_str(name),
            ColumnType::Custom(name) => f.write_str(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(s: &str) -> String {
        parse_builtin(s).unwrap().to_string()
    }

    #[test]
    fn spellings_become_canonical() {
        assert_eq!(canonical("INT"), "integer");
        assert_eq!(canonical("int8"), "bigint");
        assert_eq!(
            canonical("Timestamp  With Time Zone"),
            "timestamp with time zone"
        );
        assert_eq!(canonical("timestamptz"), "timestamp with time zone");
        assert_eq!(canonical("timestamp"), "timestamp without time zone");
        assert_eq!(canonical("numeric(12, 2)"), "numeric(12,2)");
        assert_eq!(canonical("decimal(10)"), "numeric(10)");
        assert_eq!(canonical("varchar(80)"), "character varying(80)");
        assert_eq!(canonical("char"), "character(1)");
        assert_eq!(canonical("float"), "double precision");
        assert_eq!(canonical("text[]"), "text[]");
        assert_eq!(canonical("varchar(3) []"), "character varying(3)[]");
    }

    #[test]
    fn bad_modifiers_are_invalid_not_unknown() {
        for bad in [
            "numeric(3,5)",
            "varchar(0)",
            "varchar(x)",
            "text(5)",
            "serial[]",
            "int[][]",
            "numeric(1",
        ] {
            assert!(
                matches!(parse_builtin(bad), Err(TypeError::Invalid { .. })),
                "{bad}"
            );
        }
        assert_eq!(
            parse_builtin("order_status"),
            Err(TypeError::Unknown {
                name: "order_status".into()
            })
        );
    }

    #[test]
    fn suggestions() {
        assert_eq!(TypeError::suggestion("string"), Some("text"));
        assert_eq!(TypeError::suggestion("DateTime"), Some("timestamptz"));
        assert_eq!(TypeError::suggestion("bigintt"), Some("bigint"));
        assert_eq!(TypeError::suggestion("strng"), Some("text"));
        assert_eq!(TypeError::suggestion("order_status"), None);
    }
}
