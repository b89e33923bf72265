//! Validated PostgreSQL schema names.
//!
//! A name is checked once, when it becomes a [`SchemaName`]; from then on it
//! is always rendered quoted. Validation is strict on purpose: lower-case
//! ASCII, digits and `_`, at most 63 bytes (PostgreSQL's NAMEDATALEN - 1), so
//! a name can never need escaping and never be truncated by the server into
//! another tenant's name.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};

/// A schema name that passed validation. Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchemaName(Arc<str>);

const RULE: &str = "schema names match ^[a-z_][a-z0-9_]{0,62}$ (lower-case letters, digits and underscores, at most 63 characters, not starting with a digit)";

impl SchemaName {
    /// Validates the syntax of `name`. Accepts `public`; use
    /// [`SchemaName::tenant`] for names chosen at run time.
    pub fn new(name: &str) -> Result<Self> {
        check_syntax(name)?;
        Ok(SchemaName(Arc::from(name)))
    }

    /// Validates `name` for tenant use: the syntax of [`SchemaName::new`], and
    /// not one of the schemas PostgreSQL or every tenant shares (`public`,
    /// `information_schema`, `pg_*`).
    pub fn tenant(name: &str) -> Result<Self> {
        check_syntax(name)?;
        if let Some(reason) = protected_reason(name) {
            return Err(Error::InvalidSchemaName {
                name: name.to_owned(),
                reason,
            });
        }
        Ok(SchemaName(Arc::from(name)))
    }

    /// The bare name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as a quoted SQL identifier, e.g. `"company_123"`.
    pub fn quoted(&self) -> String {
        // Validation admits no `"`, so quoting never needs escaping.
        format!("\"{}\"", self.0)
    }
}

/// Why `name` may not be used as a tenant schema, if it may not.
pub(crate) fn protected_reason(name: &str) -> Option<&'static str> {
    if name == "public" {
        Some(
            "`public` is shared by every tenant; use without_schema or a fixed-schema model for it",
        )
    } else if name == "information_schema" {
        Some("`information_schema` belongs to PostgreSQL")
    } else if name.starts_with("pg_") {
        Some("names starting with `pg_` are reserved by PostgreSQL")
    } else {
        None
    }
}

fn check_syntax(name: &str) -> Result<()> {
    let invalid = |reason| {
        Err(Error::InvalidSchemaName {
            name: name.to_owned(),
            reason,
        })
    };
    let Some(first) = name.bytes().next() else {
        return invalid("the name is empty; schema names match ^[a-z_][a-z0-9_]{0,62}$");
    };
    if name.len() > 63 {
        return invalid("longer than 63 characters; PostgreSQL would truncate it");
    }
    if !(first.is_ascii_lowercase() || first == b'_') {
        return invalid(RULE);
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return invalid(RULE);
    }
    Ok(())
}

impl fmt::Display for SchemaName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SchemaName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl AsRef<str> for SchemaName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for SchemaName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        SchemaName::new(s)
    }
}

/// Anything `with_schema` accepts as a tenant schema: a `&str`, a `String`
/// or an already validated [`SchemaName`].
pub trait IntoSchemaName {
    /// Validates for tenant use (see [`SchemaName::tenant`]).
    fn into_schema_name(self) -> Result<SchemaName>;
}

impl IntoSchemaName for SchemaName {
    fn into_schema_name(self) -> Result<SchemaName> {
        match protected_reason(self.as_str()) {
            Some(reason) => Err(Error::InvalidSchemaName {
                name: self.to_string(),
                reason,
            }),
            None => Ok(self),
        }
    }
}

impl IntoSchemaName for &SchemaName {
    fn into_schema_name(self) -> Result<SchemaName> {
        self.clone().into_schema_name()
    }
}

impl IntoSchemaName for &str {
    fn into_schema_name(self) -> Result<SchemaName> {
        SchemaName::tenant(self)
    }
}

impl IntoSchemaName for String {
    fn into_schema_name(self) -> Result<SchemaName> {
        SchemaName::tenant(&self)
    }
}

impl IntoSchemaName for &String {
    fn into_schema_name(self) -> Result<SchemaName> {
        SchemaName::tenant(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_names() {
        for ok in ["company_123", "_x", "a", &"a".repeat(63)] {
            assert_eq!(SchemaName::tenant(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_bad_syntax() {
        for bad in [
            "",
            "1abc",
            "Company",
            "a-b",
            "a b",
            "a\"b",
            "é",
            &"a".repeat(64),
            "x;drop",
        ] {
            let err = SchemaName::new(bad).unwrap_err();
            assert!(
                matches!(err, Error::InvalidSchemaName { .. }),
                "{bad:?}: {err}"
            );
            assert!(err.to_string().contains("schema name"), "{err}");
        }
    }

    #[test]
    fn tenant_names_exclude_shared_schemas() {
        assert!(SchemaName::new("public").is_ok());
        for reserved in ["public", "information_schema", "pg_catalog", "pg_temp_1"] {
            assert!(SchemaName::tenant(reserved).is_err(), "{reserved}");
            assert!(SchemaName::new(reserved)
                .unwrap()
                .into_schema_name()
                .is_err());
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(SchemaName::new("abc").unwrap().quoted(), "\"abc\"");
    }
}
