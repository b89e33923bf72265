//! Whether a `default = ...` value suits its column's type, and the value in canonical
//! form. A default is a value, never SQL (that is `default_sql`): the checks here catch
//! values PostgreSQL would reject only when the table is created, and SQL written where a
//! value belongs.

use crate::catalog::Literal;
use crate::definition::RawValue;
use crate::types::ColumnType;

/// The labels of enum (domain, name), if it is declared.
pub(crate) type Labels<'a> = dyn Fn(&str, &str) -> Option<Vec<String>> + 'a;

/// Why a value cannot be the default of a column.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Rejected {
    /// What is wrong, without the column name (the caller knows where it is).
    pub message: String,
    /// What would be right.
    pub help: String,
}

impl Rejected {
    fn new(message: String, help: String) -> Self {
        Rejected { message, help }
    }
}

/// Checks a `default = ...` value against the column type and puts it in canonical form.
pub(crate) fn check(
    ty: &ColumnType,
    value: &RawValue,
    labels: &Labels<'_>,
) -> Result<Literal, Rejected> {
    let wrong = |expected: &str, example: &str| {
        Err(Rejected::new(
            format!("default for a `{ty}` column must be {expected}, found {}", value.kind()),
            format!("write it like `default = {example}`, or use `default_sql = \"...\"` for an SQL expression"),
        ))
    };
    let looks_like_now = |s: &str| {
        let l = s.trim().to_ascii_lowercase();
        l.ends_with(')')
            || [
                "now",
                "current_timestamp",
                "current_date",
                "current_time",
                "localtimestamp",
                "localtime",
                "today",
            ]
            .contains(&l.as_str())
    };
    match ty {
        ColumnType::Boolean => match value {
            RawValue::Bool(b) => Ok(Literal::Bool(*b)),
            _ => wrong("a boolean", "false"),
        },
        ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt => match value {
            RawValue::Integer(Some(i)) => {
                let (min, max) = match ty {
                    ColumnType::SmallInt => (i16::MIN as i64, i16::MAX as i64),
                    ColumnType::Integer => (i32::MIN as i64, i32::MAX as i64),
                    _ => (i64::MIN, i64::MAX),
                };
                if (min..=max).contains(i) {
                    Ok(Literal::Integer(*i))
                } else {
                    Err(Rejected::new(
                        format!("default {i} is out of range for `{ty}` ({min} to {max})"),
                        "use a smaller value or a wider type".to_string(),
                    ))
                }
            }
            RawValue::Integer(None) => Err(Rejected::new(
                format!("default is out of range for `{ty}`"),
                "use a smaller value".to_string(),
            )),
            _ => wrong("a whole number", "0"),
        },
        ColumnType::SmallSerial | ColumnType::Serial | ColumnType::BigSerial => Err(Rejected::new(
            format!("a `{ty}` column takes its default from a sequence"),
            "remove the default".to_string(),
        )),
        ColumnType::Real | ColumnType::DoublePrecision | ColumnType::Numeric { .. } => {
            match value {
                RawValue::Integer(Some(i)) => Ok(Literal::Number(i.to_string())),
                RawValue::Float(f) if f.contains("inf") || f.contains("nan") => Err(Rejected::new(
                    format!("default `{f}` is not a finite number"),
                    "use `default_sql = \"'Infinity'\"` (or 'NaN') if you really mean it"
                        .to_string(),
                )),
                RawValue::Float(f) => Ok(Literal::Number(f.replace('_', ""))),
                RawValue::String(s)
                    if matches!(ty, ColumnType::Numeric { .. }) && is_decimal(s) =>
                {
                    Ok(Literal::Number(s.trim().to_string()))
                }
                _ => wrong("a number", "0.0"),
            }
        }
        ColumnType::Text | ColumnType::Varchar(_) | ColumnType::Char(_) => match value {
            RawValue::String(s) => {
                let limit = match ty {
                    ColumnType::Varchar(Some(n)) | ColumnType::Char(n) => Some(*n),
                    _ => None,
                };
                match limit {
                    Some(n) if s.chars().count() > n as usize => Err(Rejected::new(
                        format!("default \"{s}\" is longer than `{ty}` allows ({n} characters)"),
                        "shorten the default or widen the column".to_string(),
                    )),
                    _ => Ok(Literal::String(s.clone())),
                }
            }
            _ => wrong("a string", "\"\""),
        },
        ColumnType::Uuid => match value {
            RawValue::String(s) if is_uuid(s) => Ok(Literal::String(s.to_ascii_lowercase())),
            RawValue::String(s) if looks_like_now(s) => Err(Rejected::new(
                format!("default \"{s}\" is an SQL expression, not a uuid value"),
                format!("write `default_sql = \"{s}\"`"),
            )),
            _ => wrong("a uuid string", "\"00000000-0000-0000-0000-000000000000\""),
        },
        ColumnType::Timestamptz | ColumnType::Timestamp | ColumnType::Date | ColumnType::Time => {
            match value {
                RawValue::String(s) if looks_like_now(s) => Err(Rejected::new(
                    format!(
                        "default \"{s}\" would be read as a value, fixed when the table is created"
                    ),
                    format!(
                        "for the time of each insert write `default_sql = \"{}\"`",
                        if s.trim().ends_with(')') {
                            s.trim().to_string()
                        } else {
                            "now()".to_string()
                        }
                    ),
                )),
                RawValue::String(s) => Ok(Literal::String(s.clone())),
                RawValue::Datetime(d) => {
                    let fits = match ty {
                        ColumnType::Date => d.date.is_some() && d.time.is_none(),
                        ColumnType::Time => d.date.is_none() && d.time.is_some(),
                        ColumnType::Timestamp => {
                            d.date.is_some() && d.time.is_some() && d.offset.is_none()
                        }
                        _ => d.date.is_some() && d.time.is_some() && d.offset.is_some(),
                    };
                    if fits {
                        Ok(Literal::String(d.to_string()))
                    } else {
                        Err(Rejected::new(
                        format!("default {d} does not fit a `{ty}` column"),
                        match ty {
                            ColumnType::Date => "write a date: `default = 2026-01-01`".to_string(),
                            ColumnType::Time => "write a time: `default = 09:00:00`".to_string(),
                            ColumnType::Timestamp => "write a local date-time: `default = 2026-01-01T09:00:00`".to_string(),
                            _ => "write a date-time with offset: `default = 2026-01-01T09:00:00Z`".to_string(),
                        },
                    ))
                    }
                }
                _ => wrong("a date/time", "2026-01-01T00:00:00Z"),
            }
        }
        ColumnType::Json | ColumnType::Jsonb => match value {
            RawValue::String(s) => Ok(Literal::String(s.clone())),
            _ => wrong("a string of JSON text", "\"{}\""),
        },
        ColumnType::Bytea => match value {
            RawValue::String(s) => Ok(Literal::String(s.clone())),
            _ => wrong("a string", "\"\\\\x00\""),
        },
        ColumnType::Array(inner) => match value {
            RawValue::String(s) if s.trim().starts_with('{') && s.trim().ends_with('}') => {
                Ok(Literal::String(s.trim().to_string()))
            }
            RawValue::Array(items) => {
                let mut parts = Vec::new();
                for item in items {
                    let part = match check(inner, &item.value, labels)? {
                        Literal::Bool(b) => b.to_string(),
                        Literal::Integer(i) => i.to_string(),
                        Literal::Number(n) => n,
                        Literal::String(s) => {
                            format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
                        }
                    };
                    parts.push(part);
                }
                Ok(Literal::String(format!("{{{}}}", parts.join(","))))
            }
            _ => wrong(
                "an array, or a PostgreSQL array literal string",
                "[] or `default = \"{}\"`",
            ),
        },
        ColumnType::Enum { domain, name } => {
            let known = labels(domain, name).unwrap_or_default();
            match value {
                RawValue::String(s) if known.contains(s) => Ok(Literal::String(s.clone())),
                RawValue::String(s) => Err(Rejected::new(
                    format!("default \"{s}\" is not a label of enum `{name}`"),
                    format!(
                        "use one of: {}",
                        known
                            .iter()
                            .map(|l| format!("\"{l}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
                _ => wrong(
                    "a label of the enum",
                    &format!(
                        "\"{}\"",
                        known.first().map(String::as_str).unwrap_or("label")
                    ),
                ),
            }
        }
        ColumnType::Custom(_) => match value {
            RawValue::Bool(b) => Ok(Literal::Bool(*b)),
            RawValue::Integer(Some(i)) => Ok(Literal::Integer(*i)),
            RawValue::Float(f) => Ok(Literal::Number(f.clone())),
            RawValue::String(s) => Ok(Literal::String(s.clone())),
            _ => wrong("a string, number or boolean", "\"...\""),
        },
    }
}

fn is_decimal(s: &str) -> bool {
    let s = s.trim();
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    !(int.is_empty() && frac.is_empty())
        && int.chars().all(|c| c.is_ascii_digit())
        && frac.chars().all(|c| c.is_ascii_digit())
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::Sp;

    fn no_enums(_: &str, _: &str) -> Option<Vec<String>> {
        None
    }

    fn text(s: &str) -> RawValue {
        RawValue::String(s.to_string())
    }

    #[test]
    fn values_become_canonical_literals() {
        assert_eq!(
            check(
                &ColumnType::SmallInt,
                &RawValue::Integer(Some(7)),
                &no_enums
            ),
            Ok(Literal::Integer(7))
        );
        assert_eq!(
            check(
                &ColumnType::Numeric {
                    precision: Some(12),
                    scale: Some(2)
                },
                &text(" 12.50 "),
                &no_enums
            ),
            Ok(Literal::Number("12.50".into()))
        );
        let items = vec![
            Sp {
                value: text("a"),
                span: 0..1,
            },
            Sp {
                value: text("say \"hi\""),
                span: 2..3,
            },
        ];
        assert_eq!(
            check(
                &ColumnType::Array(Box::new(ColumnType::Text)),
                &RawValue::Array(items),
                &no_enums
            ),
            Ok(Literal::String(r#"{"a","say \"hi\""}"#.into()))
        );
    }

    #[test]
    fn sql_where_a_value_belongs_is_rejected_with_the_fix() {
        let rejected = check(&ColumnType::Timestamptz, &text("now()"), &no_enums).unwrap_err();
        assert!(rejected.message.contains("fixed when the table is created"));
        assert_eq!(
            rejected.help,
            "for the time of each insert write `default_sql = \"now()\"`"
        );
        let rejected = check(
            &ColumnType::SmallInt,
            &RawValue::Integer(Some(40_000)),
            &no_enums,
        )
        .unwrap_err();
        assert!(rejected.message.contains("out of range"), "{rejected:?}");
    }

    #[test]
    fn enum_defaults_must_be_labels() {
        let labels = |_: &str, _: &str| Some(vec!["pending".to_string(), "paid".to_string()]);
        let ty = ColumnType::Enum {
            domain: "tenant".into(),
            name: "order_status".into(),
        };
        assert_eq!(
            check(&ty, &text("paid"), &labels),
            Ok(Literal::String("paid".into()))
        );
        let rejected = check(&ty, &text("done"), &labels).unwrap_err();
        assert_eq!(rejected.help, "use one of: \"pending\", \"paid\"");
    }
}
