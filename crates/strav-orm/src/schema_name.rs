//! Validated PostgreSQL schema and domain names.
//!
//! A name is checked once, when it becomes a value of one of these types;
//! from then on it is always rendered quoted. Validation is strict on
//! purpose: lower-case ASCII, digits and `_`, at most 63 bytes (PostgreSQL's
//! NAMEDATALEN - 1), so a name can never need escaping and never be
//! truncated by the server into another tenant's name.
//!
//! Two types, because two questions are asked:
//! - [`SchemaName`]: *may a tenant scope run here?* It can only be built
//!   through the tenant check, which refuses `public`, `information_schema`
//!   and `pg_*`. Everything that enters a tenant scope takes one, so no entry
//!   point can skip the check.
//! - [`SchemaIdent`]: *is this a schema Strav may name in SQL?* Any
//!   well-formed name, `public` included: migrations of the `public` and
//!   fixed domains, catalog queries. It cannot enter a tenant scope.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};

const RULE: &str = "schema names match ^[a-z_][a-z0-9_]{0,62}$ (lower-case letters, digits and underscores, at most 63 characters, not starting with a digit)";

/// A tenant schema name: well-formed and not one of the schemas PostgreSQL
/// or every tenant shares (`public`, `information_schema`, `pg_*`). The only
/// way to make one is the tenant check, so holding a `SchemaName` proves it
/// passed. Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchemaName(Arc<str>);

/// Any well-formed schema name, `public` included, for statements that name
/// a schema on purpose (migrations, catalog work). Not accepted by
/// `with_schema`. Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchemaIdent(Arc<str>);

impl SchemaName {
    /// Validates `name` for tenant use: the syntax rule, and not `public`,
    /// `information_schema` or `pg_*`.
    pub fn new(name: &str) -> Result<Self> {
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
        quote(&self.0)
    }
}

impl SchemaIdent {
    /// Validates the syntax of `name`; `public` and fixed-domain schemas pass.
    pub fn new(name: &str) -> Result<Self> {
        check_syntax(name)?;
        Ok(SchemaIdent(Arc::from(name)))
    }

    /// The schema every database has.
    pub fn public() -> Self {
        SchemaIdent(Arc::from("public"))
    }

    /// The bare name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as a quoted SQL identifier.
    pub fn quoted(&self) -> String {
        quote(&self.0)
    }
}

impl From<SchemaName> for SchemaIdent {
    fn from(name: SchemaName) -> Self {
        SchemaIdent(name.0)
    }
}

impl From<&SchemaName> for SchemaIdent {
    fn from(name: &SchemaName) -> Self {
        SchemaIdent(name.0.clone())
    }
}

fn quote(name: &str) -> String {
    // Validation admits no `"`, so quoting never needs escaping.
    format!("\"{name}\"")
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

/// Checks a domain name (`tenant`, `factory`, ...): the schema-name syntax,
/// since a fixed domain's schema is named after it.
pub fn check_domain(domain: &str) -> Result<()> {
    check_syntax(domain).map_err(|_| Error::InvalidDomain {
        name: domain.to_owned(),
    })
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

macro_rules! name_traits {
    ($ty:ident) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                $ty::new(s)
            }
        }
    };
}

name_traits!(SchemaName);
name_traits!(SchemaIdent);

/// Anything `with_schema` accepts as a tenant schema: a `&str`, a `String`
/// or an already validated [`SchemaName`].
pub trait IntoSchemaName {
    /// Validates for tenant use (see [`SchemaName::new`]).
    fn into_schema_name(self) -> Result<SchemaName>;
}

impl IntoSchemaName for SchemaName {
    fn into_schema_name(self) -> Result<SchemaName> {
        Ok(self)
    }
}

impl IntoSchemaName for &SchemaName {
    fn into_schema_name(self) -> Result<SchemaName> {
        Ok(self.clone())
    }
}

impl IntoSchemaName for &str {
    fn into_schema_name(self) -> Result<SchemaName> {
        SchemaName::new(self)
    }
}

impl IntoSchemaName for String {
    fn into_schema_name(self) -> Result<SchemaName> {
        SchemaName::new(&self)
    }
}

impl IntoSchemaName for &String {
    fn into_schema_name(self) -> Result<SchemaName> {
        SchemaName::new(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_names() {
        for ok in ["company_123", "_x", "a", &"a".repeat(63)] {
            assert_eq!(SchemaName::new(ok).unwrap().as_str(), ok);
            assert_eq!(SchemaIdent::new(ok).unwrap().as_str(), ok);
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
            "t_a,public",
        ] {
            for err in [
                SchemaName::new(bad).unwrap_err(),
                SchemaIdent::new(bad).unwrap_err(),
            ] {
                assert!(
                    matches!(err, Error::InvalidSchemaName { .. }),
                    "{bad:?}: {err}"
                );
                assert!(err.to_string().contains("schema name"), "{err}");
            }
        }
    }

    #[test]
    fn tenant_names_exclude_shared_schemas_by_every_path() {
        for reserved in [
            "public",
            "information_schema",
            "pg_catalog",
            "pg_temp",
            "pg_temp_1",
            "pg_toast",
        ] {
            assert!(SchemaName::new(reserved).is_err(), "{reserved}");
            assert!(reserved.parse::<SchemaName>().is_err(), "{reserved}");
            assert!(reserved.into_schema_name().is_err(), "{reserved}");
            assert!(reserved.to_owned().into_schema_name().is_err());
            // Well-formed, so usable where a schema is named on purpose.
            assert!(SchemaIdent::new(reserved).is_ok(), "{reserved}");
        }
    }

    #[test]
    fn domains_follow_the_schema_syntax() {
        assert!(check_domain("tenant").is_ok());
        assert!(check_domain("public").is_ok());
        assert!(matches!(
            check_domain("Tenant"),
            Err(Error::InvalidDomain { .. })
        ));
    }

    #[test]
    fn quoting() {
        assert_eq!(SchemaName::new("abc").unwrap().quoted(), "\"abc\"");
        assert_eq!(SchemaIdent::public().quoted(), "\"public\"");
    }
}
